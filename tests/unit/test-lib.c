/* test-lib: the library's unit tests, one TAP stream. */
#include "config.h"
#include "tests.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *root;

static void cleanup(void)
{
	char cmd[4200];

	if (root) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", root);
	}
}

char *test_tmpdir(void)
{
	static int n;
	char path[4096];

	if (!root) {
		char tmpl[] = "/tmp/ice-unit-XXXXXX";
		root = strdup(mkdtemp(tmpl));
		atexit(cleanup);
	}
	snprintf(path, sizeof path, "%s/%d", root, ++n);
	mkdir(path, 0755);
	return strdup(path);
}

static void mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
}

char *test_write(const char *dir, const char *name, const char *text)
{
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	FILE *f;

	sprintf(path, "%s/%s", dir, name);
	mkdirs(path);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* as every program does: see ice_backend.h */
	test_core();
	test_metadata();
	test_track();
	test_partition();
	test_redis();
	test_sqlite();
	test_stale();
	test_config();
	test_words();
	test_decode();
	test_catalog();
	return tap_done();
}
