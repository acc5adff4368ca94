/* ice_time: durations ("500ms", "2s", "1m30s") and timestamps. */
#ifndef ICE_TIME_H
#define ICE_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "ice_error.h"

/* Parse a duration into milliseconds: a sequence of NUMBER UNIT with units
 * ms, s, m, h, d; a bare number means seconds. Zero and negative values are
 * rejected; so is anything over 100 years. */
int ice_parse_duration(const char *s, int64_t *ms, ice_err *err);

/* Milliseconds since the epoch, wall clock. */
int64_t ice_now_ms(void);

/* Monotonic milliseconds, for intervals. */
int64_t ice_monotonic_ms(void);

/* Sleep ms milliseconds, resumed after signals that do not end the
 * program (a sleep that must end on a signal uses its own wait). */
void ice_sleep_ms(int64_t ms);

/* "2025-10-16T03:25:53.811Z" (UTC), for every int64: years outside 0000
 * to 9999 in ISO 8601's expanded form ("-0001-12-31T...", "+292278994-..."). buf
 * must hold ICE_TIME_BUF bytes. */
#define ICE_TIME_BUF 64
char *ice_format_time_ms(int64_t ms, char *buf);

#endif
