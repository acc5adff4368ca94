/* bench-get: the reference for bench/run measurement 5. Times N cache hits
 * through the library (ice_backend_get: entry hash, hit counters) and N
 * plain GETs of a value of the same size with hiredis on one connection.
 *
 *   bench-get URL KEY RAWKEY N
 *
 * Prints {"lib_us":..,"raw_us":..} (microseconds per call, median of five
 * rounds of N). */
#include "config.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ice_backend.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double lib_round(ice_backend *b, const char *key, long n)
{
	double t0 = now_us();
	ice_err err;

	for (long i = 0; i < n; i++) {
		void *val = NULL;
		size_t len;
		if (ice_backend_get(b, key, &val, &len, NULL, &err) != ICE_OK) {
			fprintf(stderr, "bench-get: %s: %s\n", key, err.msg);
			exit(1);
		}
		free(val);
	}
	return (now_us() - t0) / (double)n;
}

static double raw_round(redisContext *c, const char *key, long n)
{
	double t0 = now_us();

	for (long i = 0; i < n; i++) {
		redisReply *r = redisCommand(c, "GET %s", key);
		if (!r || r->type != REDIS_REPLY_STRING) {
			fprintf(stderr, "bench-get: GET %s failed\n", key);
			exit(1);
		}
		freeReplyObject(r);
	}
	return (now_us() - t0) / (double)n;
}

/* The unix socket path of a unix:// URL, for hiredis. */
static redisContext *raw_connect(const char *url)
{
	ice_backend_url u;
	ice_err err;
	redisContext *c;

	if (ice_backend_url_parse(url, &u, &err))
		return NULL;
	c = u.path ? redisConnectUnix(u.path) : redisConnect(u.host, u.port);
	ice_backend_url_clear(&u);
	return c && !c->err ? c : NULL;
}

int main(int argc, char **argv)
{
	ice_backend *b;
	redisContext *c;
	ice_err err;
	double lib[5], raw[5];
	long n;

	if (argc != 5 || (n = atol(argv[4])) <= 0) {
		fputs("usage: bench-get URL KEY RAWKEY N\n", stderr);
		return 2;
	}
	if (ice_backend_open(argv[1], NULL, &b, &err) || !(c = raw_connect(argv[1]))) {
		fprintf(stderr, "bench-get: cannot connect to %s\n", argv[1]);
		return 1;
	}
	for (int r = 0; r < 5; r++) {
		lib[r] = lib_round(b, argv[2], n);
		raw[r] = raw_round(c, argv[3], n);
	}
	qsort(lib, 5, sizeof lib[0], cmp_double);
	qsort(raw, 5, sizeof raw[0], cmp_double);
	printf("{\"lib_us\":%.2f,\"raw_us\":%.2f,\"lib_min_us\":%.2f,\"lib_max_us\":%.2f,"
	       "\"raw_min_us\":%.2f,\"raw_max_us\":%.2f}\n",
	       lib[2], raw[2], lib[0], lib[4], raw[0], raw[4]);
	redisFree(c);
	ice_backend_close(b);
	return 0;
}
