/* tap: numbered ok/not ok lines, diagnostics on failure, the plan at the end. */
#include "config.h"
#include "tap.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int count, failed;

static bool report(bool cond, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static bool report(bool cond, const char *fmt, va_list ap)
{
	printf("%s %d - ", cond ? "ok" : "not ok", ++count);
	vprintf(fmt, ap);
	putchar('\n');
	if (!cond)
		failed++;
	fflush(stdout);
	return cond;
}

bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = report(cond, fmt, ap);
	va_end(ap);
	return r;
}

bool tap_is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = report(got == want, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#   got: %lld\n#   expected: %lld\n", got, want);
	return r;
}

bool tap_is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	bool same = (!got && !want) || (got && want && strcmp(got, want) == 0);
	bool r;

	va_start(ap, fmt);
	r = report(same, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#   got: '%s'\n#   expected: '%s'\n", got ? got : "(null)", want ? want : "(null)");
	return r;
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

int tap_done(void)
{
	printf("1..%d\n", count);
	return failed ? 1 : 0;
}

void tap_skip(const char *why)
{
	printf("ok %d # skip %s\n", ++count, why);
	fflush(stdout);
}
