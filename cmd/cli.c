/* cli: program name, diagnostics, --version and the stdout epilogue. */
#include "config.h"
#include "cli.h"
#include "ice_jsonl.h"
#include "ice_text.h"
#include "ice_version.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *program = "ice";

void ice_cli_init(const char *name)
{
	program = name;
	signal(SIGPIPE, SIG_IGN);
}

const char *ice_cli_program(void)
{
	return program;
}

static void vreport(const char *level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* One line whatever the message holds: keys, tags and what servers
 * answer are bytes that may hold newlines or a terminal's escape
 * sequences, so those show as \n and \xHH (ice_text_visible). */
static void vreport(const char *level, const char *fmt, va_list ap)
{
	char *msg = NULL, *shown = NULL;
	va_list copy;

	va_copy(copy, ap);
	if (vasprintf(&msg, fmt, copy) >= 0)
		shown = ice_text_visible(msg, NULL);
	va_end(copy);
	fprintf(stderr, "%s: %s: ", program, level);
	if (shown)
		fputs(shown, stderr);
	else
		vfprintf(stderr, fmt, ap); /* no memory: as it is */
	fputc('\n', stderr);
	free(shown);
	free(msg);
}

void ice_cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error", fmt, ap);
	va_end(ap);
}

void ice_cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning", fmt, ap);
	va_end(ap);
}

int ice_cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error", fmt, ap);
	va_end(ap);
	return ice_cli_usage_hint();
}

static const char *usage_hint; /* NULL: "Try 'PROGRAM --help' ..." */

void ice_cli_set_usage_hint(const char *hint)
{
	usage_hint = hint;
}

int ice_cli_usage_hint(void)
{
	if (usage_hint)
		fprintf(stderr, "%s\n", usage_hint);
	else
		fprintf(stderr, "Try '%s --help' for more information.\n", program);
	return ICE_EXIT_USAGE;
}

int ice_cli_bad_option(int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return ice_cli_usage_error("option '%s' needs a value", arg);
	if (optopt && strncmp(arg, "--", 2) != 0)
		return ice_cli_usage_error("unknown option '-%c'", optopt);
	return ice_cli_usage_error("unknown option '%s'", arg);
}

void ice_cli_on_stop_signals(void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void ice_cli_version(void)
{
	char buf[512];

	fputs(ice_version_string(program, buf, sizeof buf), stdout);
}

/* The reader of stdout went away at an earlier flush. */
static bool stdout_gone;

int ice_cli_flush(void)
{
	errno = 0;
	if (fflush(stdout) == 0)
		return ICE_OK;
	if (errno == EPIPE) {
		stdout_gone = true;
		return ICE_EPIPE;
	}
	return ICE_EIO;
}

/* Whether stdout is a pipe whose reader went away: an earlier write
 * that failed with EPIPE sets the stream's error flag, but its errno is
 * gone by the time the program finishes. */
static bool stdout_reader_gone(void)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

int ice_cli_finish(int status)
{
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE && !stdout_gone && !(errno == 0 && stdout_reader_gone())) {
			ice_cli_error("write error on standard output: %s", strerror(errno));
			status = status ? status : ICE_EXIT_FAILURE;
		}
	}
	errno = 0;
	if (fclose(stdout) != 0 && errno != EPIPE && errno != EBADF) {
		ice_cli_error("closing standard output: %s", strerror(errno));
		status = status ? status : ICE_EXIT_FAILURE;
	}
	return status;
}

bool ice_cli_parse_count(const char *s, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return false;
	*out = v;
	return true;
}

int ice_cli_emit(json_t *rec)
{
	ice_err err;
	int rc;

	if (!rec) {
		ice_cli_error("out of memory");
		return ICE_ENOMEM;
	}
	rc = ice_jsonl_write(stdout, rec, &err);
	json_decref(rec);
	if (rc && rc != ICE_EPIPE)
		ice_cli_error("%s", err.msg);
	return rc;
}

/* Pass one record on unchanged (its text as read) and hand it on; the exit
 * status it implies, or -1 to go on. */
static int filter_one(int (*on_record)(void *, const json_t *), void *ctx, json_t *rec,
                      const char *line, size_t len, bool strict, int *status)
{
	const char *kind = json_string_value(json_object_get(rec, "kind"));
	ice_err err;
	int rc = ice_jsonl_write_line(stdout, line, len, &err);

	if (rc && rc != ICE_EPIPE)
		ice_cli_error("%s", err.msg);
	if (rc == ICE_OK)
		rc = on_record(ctx, rec);
	if (rc == ICE_EPIPE)
		return *status;
	if (rc == ICE_EBACKEND || rc == ICE_ETIMEOUT)
		return ICE_EXIT_BACKEND;
	if (rc) {
		*status = ICE_EXIT_FAILURE;
		if (strict)
			return *status;
	}
	/* Each unit reaches the next stage as soon as it is handled; file and
	 * partition records come in bulk and always before the diff record
	 * that ends their transition, so they need no flush of their own. */
	if (!kind || (strcmp(kind, "file") != 0 && strcmp(kind, "partition") != 0))
		fflush(stdout);
	return -1;
}

/* The reader of the running filter, for ice_cli_input_line. */
static const ice_jsonl_reader *filter_input;

unsigned long ice_cli_input_line(void)
{
	return filter_input ? ice_jsonl_lineno(filter_input) : 0;
}

int ice_cli_filter(int (*on_record)(void *ctx, const json_t *rec), void *ctx, bool strict)
{
	ice_jsonl_reader *in = ice_jsonl_reader_new(stdin, "stdin", 0);
	const char *line;
	size_t len;
	json_t *rec;
	ice_err err = { 0 };
	int status = ICE_EXIT_OK, got, end = -1;

	if (!in) {
		ice_cli_error("out of memory");
		return ICE_EXIT_FAILURE;
	}
	while (end < 0 && (got = ice_jsonl_next(in, &rec, &err)) != 0) {
		if (got < 0) {
			ice_cli_error("%s", err.msg);
			status = ICE_EXIT_FAILURE;
			if (strict || err.code == ICE_EIO)
				break;
			continue;
		}
		line = ice_jsonl_line(in, &len);
		filter_input = in;
		end = filter_one(on_record, ctx, rec, line, len, strict, &status);
		filter_input = NULL;
		json_decref(rec);
	}
	ice_jsonl_reader_free(in);
	return end >= 0 ? end : status;
}
