/* time: duration parsing and timestamp formatting. */
#include "config.h"
#include "ice_time.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_MS (100LL * 365 * 24 * 3600 * 1000)

static int64_t unit_ms(const char *u, size_t n)
{
	static const struct { const char *name; int64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};

	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strlen(units[i].name) == n && strncmp(u, units[i].name, n) == 0)
			return units[i].ms;
	return 0;
}

int ice_parse_duration(const char *s, int64_t *ms, ice_err *err)
{
	const char *p = s;
	double total = 0;

	if (!*p)
		return ice_err_set(err, ICE_EINVAL, "empty duration");
	while (*p) {
		char *end;
		double v;
		const char *u;
		int64_t m;

		if (!isdigit((unsigned char)*p) && *p != '.')
			return ice_err_set(err, ICE_EINVAL, "bad duration '%s'", s);
		errno = 0;
		v = strtod(p, &end);
		if (errno || end == p)
			return ice_err_set(err, ICE_EINVAL, "bad duration '%s'", s);
		for (u = end; isalpha((unsigned char)*end); end++)
			;
		m = end == u ? 1000 : unit_ms(u, (size_t)(end - u));
		if (!m)
			return ice_err_set(err, ICE_EINVAL,
			                   "bad duration '%s': unit must be ms, s, m, h or d", s);
		total += v * (double)m;
		if (end == u && *end)
			return ice_err_set(err, ICE_EINVAL, "bad duration '%s'", s);
		p = end;
	}
	if (total < 1 || total > (double)MAX_MS)
		return ice_err_set(err, ICE_EINVAL, "duration '%s' out of range (1ms to 100 years)", s);
	*ms = (int64_t)total;
	return ICE_OK;
}

int64_t ice_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ice_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ice_sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	if (ms <= 0)
		return;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Every int64 of milliseconds is printed, year and all (ISO 8601's
 * expanded form, with a sign, outside 0000 to 9999). The seconds and the
 * milliseconds are split by floor division, which cannot overflow, unlike
 * rounding ms down first. */
char *ice_format_time_ms(int64_t ms, char *buf)
{
	int64_t secs = ms / 1000;
	int frac = (int)(ms % 1000);
	time_t t;
	struct tm tm;
	long long year;

	if (frac < 0) {
		frac += 1000;
		secs--;
	}
	t = (time_t)secs;
	if ((int64_t)t != secs || !gmtime_r(&t, &tm)) {
		snprintf(buf, ICE_TIME_BUF, "%lld", (long long)ms);
		return buf;
	}
	year = (long long)tm.tm_year + 1900;
	snprintf(buf, ICE_TIME_BUF, year >= 0 && year <= 9999 ? "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ"
	                                                      : "%+05lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
	         year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	return buf;
}
