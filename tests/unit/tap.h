/* tap: a minimal Test Anything Protocol producer for the unit tests. */
#ifndef ICE_TAP_H
#define ICE_TAP_H

#include <stdbool.h>
#include <stdint.h>

bool tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool tap_is_int(long long got, long long want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool tap_is_str(const char *got, const char *want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* One test not run, and why (counts as passed, shown as skipped). */
void tap_skip(const char *why);
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the plan; returns the exit status (1 when any test failed). */
int tap_done(void);

#endif
