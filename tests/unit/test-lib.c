/* test-lib: the library's unit tests, one TAP stream. Every group is
 * registered in groups[] below; `test-lib NAME...` runs the named groups
 * only, `test-lib --list` lists them (see CONTRIBUTING.md). */
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

/* Every unit group, in the order a full run takes them. A new group: its
 * test_NAME() in tests.h, its file in Makefile.am, and one line here. */
static const struct test_group {
	const char *name;
	void (*run)(void);
	const char *about;
} groups[] = {
	{ "core", test_core, "JSON lines, file reading, paths, durations, the table locator" },
	{ "metadata", test_metadata, "metadata formats 1-3, ancestry, malformed metadata" },
	{ "track", test_track, "events between a cursor and the metadata now" },
	{ "partition", test_partition, "partition tuples decoded and rendered, bounds" },
	{ "redis", test_redis, "the Redis backend on a real redis-server" },
	{ "sqlite", test_sqlite, "the embedded SQLite backend" },
	{ "stale", test_stale, "the tags a transition's records make stale" },
	{ "config", test_config, "configuration, TTL hints, derived keys, HTTP freshness" },
	{ "words", test_words, "word splitting and escaping, archive member paths" },
	{ "decode", test_decode, "the direct manifest decoder against avro-c" },
	{ "records", test_records, "ice-diff's hand-written file records against jansson" },
	{ "readthrough", test_readthrough, "fetch's read-through policy: freshness, revalidation, TTL" },
	{ "scrape", test_scrape, "ice-stat's scrape with its options passed in" },
	{ "nullable", test_nullable, "manifests whose every field is a nullable union, both decoders" },
	{ "storage", test_storage, "SigV4 against botocore, S3 XML, AWS settings, retry waits" },
	{ "catalog", test_catalog, "REST catalog settings, names and resolution" },
	{ "slot", test_slot, "Redis Cluster hash slots and cluster URLs" },
	{ "tag", test_tag, "the tag grammar: the tables an entry depends on, put's rules" },
	{ "tagnorm", test_tagnorm, "partition tags in the canonical form, and why a tag can never match" },
	{ "locate", test_locate, "the locator: a lone v1, recreated tables, metadata heads" },
};
#define N_GROUPS (sizeof groups / sizeof groups[0])

static const struct test_group *find_group(const char *name)
{
	for (size_t i = 0; i < N_GROUPS; i++)
		if (strcmp(groups[i].name, name) == 0)
			return &groups[i];
	return NULL;
}

static int usage(const char *why)
{
	fprintf(stderr, "test-lib: error: %s\nusage: test-lib [--list | GROUP...]\n", why);
	return 2;
}

int main(int argc, char **argv)
{
	char why[256];

	signal(SIGPIPE, SIG_IGN); /* as every program does: see ice_backend.h */
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < N_GROUPS; i++)
			printf("%-10s %s\n", groups[i].name, groups[i].about);
		return 0;
	}
	/* Check every name before running any: a typo must not pass as a short run. */
	for (int i = 1; i < argc; i++)
		if (!find_group(argv[i])) {
			snprintf(why, sizeof why, "no unit group '%s' (test-lib --list names them)", argv[i]);
			return usage(why);
		}
	if (argc == 1)
		for (size_t i = 0; i < N_GROUPS; i++)
			groups[i].run();
	for (int i = 1; i < argc; i++)
		find_group(argv[i])->run();
	return tap_done();
}
