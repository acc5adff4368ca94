/* test-hostile: every hostile input of hostile.c read by the library in a
 * child process, which must end by itself (no signal, no sanitizer report,
 * no leak under LeakSanitizer) within a generous bound, with either the
 * one-line error expected, naming the file, or a clean read. Also the
 * timestamp formatting over the whole int64 range. TAP on stdout. */
#include "config.h"
#include "hostile.h"
#include "ice_manifest.h"
#include "ice_time.h"
#include "tap.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Far above the milliseconds each input now takes, far below a hang. */
#define CHILD_SECONDS 120

static int read_list(const char *path, const char *name, ice_err *err)
{
	ice_manifest_file *files = NULL;
	size_t n = 0;
	int rc = ice_manifest_list_read(path, name, &files, &n, err);

	ice_manifest_files_free(files, n);
	return rc;
}

static int read_manifest(const char *path, const char *name, ice_err *err)
{
	ice_manifest_reader *r = NULL;
	ice_manifest_entry e;
	int rc = ice_manifest_open(path, name, &r, err), got = 0;

	while (rc == ICE_OK && (got = ice_manifest_next(r, &e, err)) == 1)
		;
	ice_manifest_close(r);
	return rc ? rc : got < 0 ? ICE_EFORMAT : ICE_OK;
}

/* In the child: read, write the error message (or nothing) to fd. */
static void child(const hostile_case *hc, const char *path, int fd)
{
	ice_err err = { 0 };
	int rc;
	size_t len;

	alarm(CHILD_SECONDS);
	/* First without an ice_err, which lib/ allows every caller: the same
	 * outcome, no dereference. */
	rc = hc->kind == HOSTILE_LIST ? read_list(path, hc->file, NULL) : read_manifest(path, hc->file, NULL);
	if (rc != (hc->kind == HOSTILE_LIST ? read_list(path, hc->file, &err)
	                                    : read_manifest(path, hc->file, &err)))
		exit(4);
	len = rc ? strlen(err.msg) : 0;
	if (rc && len == 0)
		len = strlen(strcpy(err.msg, "(an error without a message)"));
	if (write(fd, err.msg, len) != (ssize_t)len)
		exit(3);
	close(fd);
	exit(0); /* exit, not _exit: LeakSanitizer checks at exit */
}

/* The child's message; *status its wait status. */
static void run(const hostile_case *hc, const char *path, char *msg, size_t cap, int *status)
{
	int fds[2];
	size_t len = 0;
	ssize_t got;
	pid_t pid;

	msg[0] = '\0';
	*status = -1;
	if (pipe(fds) != 0)
		return;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		child(hc, path, fds[1]);
	}
	close(fds[1]);
	while (pid > 0 && len + 1 < cap && (got = read(fds[0], msg + len, cap - 1 - len)) > 0)
		len += (size_t)got;
	msg[len] = '\0';
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, status, 0);
}

static void test_case(const hostile_case *hc, const char *dir)
{
	char path[4096], msg[1024];
	int status;

	snprintf(path, sizeof path, "%s/%s", dir, hc->file);
	if (!tap_ok(hc->write(path), "defect %s: written", hc->defect))
		return;
	run(hc, path, msg, sizeof msg, &status);
	if (!tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	            "defect %s: read to the end, no signal, no sanitizer report", hc->defect))
		tap_diag("wait status %d (signal %d, exit %d)", status,
		         WIFSIGNALED(status) ? WTERMSIG(status) : 0, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	if (!hc->expect) {
		tap_is_str(msg, "", "defect %s: read cleanly", hc->defect);
		return;
	}
	tap_ok(strstr(msg, hc->expect) != NULL, "defect %s: error says '%s'", hc->defect, hc->expect);
	tap_ok(strncmp(msg, hc->file, strlen(hc->file)) == 0 && !strchr(msg, '\n'),
	       "defect %s: one line naming the file: %s", hc->defect, msg);
}

static void test_time(void)
{
	static const struct {
		long long ms;
		const char *want;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00.000Z" },
		{ -1, "1969-12-31T23:59:59.999Z" },
		{ 1700000000123LL, "2023-11-14T22:13:20.123Z" },
		{ -62167219200000LL, "0000-01-01T00:00:00.000Z" },
		{ -62167219200001LL, "-0001-12-31T23:59:59.999Z" },
		{ 253402300799999LL, "9999-12-31T23:59:59.999Z" },
		{ 253402300800000LL, "+10000-01-01T00:00:00.000Z" },
		{ -9223372036854775807LL - 1, "-292275055-05-16T16:47:04.192Z" },
		{ 9223372036854775807LL, "+292278994-08-17T07:12:55.807Z" },
	};
	char buf[ICE_TIME_BUF];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		tap_is_str(ice_format_time_ms(cases[i].ms, buf), cases[i].want,
		           "defect 7: timestamp-ms %lld formatted", cases[i].ms);
}

int main(void)
{
	char dir[] = "/tmp/ice-hostile-XXXXXX";
	char path[4096];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	for (unsigned i = 0; i < hostile_n_cases; i++)
		test_case(&hostile_cases[i], dir);
	test_time();
	for (unsigned i = 0; i < hostile_n_cases; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, hostile_cases[i].file);
		unlink(path);
	}
	rmdir(dir);
	return tap_done();
}
