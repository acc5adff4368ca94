/* ice_backend_url: the cache URL syntax ice_backend_open takes, sizes as
 * written in it (and on command lines), and the default URL.
 *
 * url: redis://[user:password@]host[:port][/db],
 * redis+cluster://[user:password@]host:port[,host:port...] (a Redis
 * Cluster's seed nodes: scheme "cluster", checked only; the cluster
 * client parses it, ice_cluster.h), unix:///path/to/redis.sock[?db=N], or
 * the embedded store
 * sqlite:///path/to/cache.db[?max_size=SIZE] (file:///... is the same).
 * Parsed URLs own their strings: ice_backend_url_clear frees them (and
 * wipes the password). No error message ever contains the password. */
#ifndef ICE_BACKEND_URL_H
#define ICE_BACKEND_URL_H

#include <stdint.h>

#include "ice_error.h"

typedef struct ice_backend_url {
	char *scheme;   /* "redis", "cluster", "unix" or "sqlite" (also for file://) */
	char *host;     /* redis: host name or address; else NULL */
	int port;       /* redis: default 6379 */
	char *path;     /* unix: socket path; sqlite: database file; redis: NULL */
	char *user;     /* percent-decoded; NULL when absent */
	char *password; /* percent-decoded; NULL when absent */
	int db;         /* default 0 */
	int64_t max_bytes; /* sqlite ?max_size=: 0 not given, < 0 "0" (none) */
} ice_backend_url;

/* Parse url into *u (caller clears it). Bad URLs: ICE_EINVAL, the message
 * never contains the password. */
int ice_backend_url_parse(const char *url, ice_backend_url *u, ice_err *err);
void ice_backend_url_clear(ice_backend_url *u);

/* The URL used when none is configured, a new string the caller frees:
 * sqlite://$XDG_CACHE_HOME/icecache/cache.db, else
 * sqlite://$HOME/.cache/icecache/cache.db. ICE_EINVAL when neither
 * variable is set to an absolute path. */
int ice_backend_default_url(char **url, ice_err *err);

/* A size: a number with an optional unit K, M, G or T (powers of 1024,
 * "B" and "iB" suffixes allowed): "64M", "512k", "1GiB", "1000". */
int ice_backend_parse_size(const char *s, int64_t *bytes, ice_err *err);

#endif
