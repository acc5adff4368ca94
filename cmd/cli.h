/* cli: what every IceCache program does the same way at its edges.
 *
 * Diagnostics go to stderr as "PROGRAM: error: ...". Exit statuses are
 * shared by all programs and documented in their man pages. */
#ifndef ICE_CLI_H
#define ICE_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "ice_error.h"

enum {
	ICE_EXIT_OK = 0,
	ICE_EXIT_FAILURE = 1, /* some input could not be processed */
	ICE_EXIT_USAGE = 2,   /* bad flags or arguments */
	ICE_EXIT_BACKEND = 3  /* the cache backend is unreachable */
};

/* Remember the program name, ignore SIGPIPE (EPIPE is handled as an
 * ordinary write error and ends the program quietly). */
void ice_cli_init(const char *program);
const char *ice_cli_program(void);

void ice_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ice_cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a usage error with a pointer to --help; returns ICE_EXIT_USAGE. */
int ice_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The pointer to --help after a usage message. */
int ice_cli_usage_hint(void);

/* Replace that pointer (an interactive shell points to its own help);
 * NULL restores it. hint must outlive its use. */
void ice_cli_set_usage_hint(const char *hint);

/* Report getopt's '?' (unknown option) or ':' (missing argument) in our
 * own words; call with opterr = 0 and an optstring starting with ':'. */
int ice_cli_bad_option(int c, char **argv);

/* Call handler on SIGINT and SIGTERM, without restarting interrupted
 * calls (a sleep ends early), for programs that stop cleanly. */
void ice_cli_on_stop_signals(void (*handler)(int));

/* Print --version to stdout. */
void ice_cli_version(void);

/* Flush stdout now (a refresh, a record that must reach the reader):
 * ICE_OK, ICE_EPIPE when the reader went away (ice_cli_finish then stays
 * quiet), else ICE_EIO (reported by ice_cli_finish). */
int ice_cli_flush(void);

/* Flush and close stdout. A closed pipe is quiet; any other failure is
 * reported. Returns the exit status to use given the one so far. */
int ice_cli_finish(int status);

/* Write `rec` to stdout as one JSON line and release it. Reports write
 * errors (not a closed pipe); NULL (failed allocation) is reported too.
 * Returns the ice_code (ICE_EPIPE when the reader went away). */
int ice_cli_emit(json_t *rec);

/* The stdin filter of the pipeline programs: every record is passed
 * through, then given to on_record (which may emit more). A malformed line
 * is reported with its number and skipped (or ends the run with strict).
 * on_record's ICE_EBACKEND/ICE_ETIMEOUT stop the run with
 * ICE_EXIT_BACKEND; other errors give ICE_EXIT_FAILURE (stop if strict);
 * a closed stdout stops quietly. Returns the exit status. */
int ice_cli_filter(int (*on_record)(void *ctx, const json_t *rec), void *ctx, bool strict);

/* The line number on standard input of the record on_record is handling
 * (for messages: "stdin:12: ..."); 0 outside ice_cli_filter. */
unsigned long ice_cli_input_line(void);

/* Parse a non-negative integer option value; false on junk. */
bool ice_cli_parse_count(const char *s, long long *out);

#endif
