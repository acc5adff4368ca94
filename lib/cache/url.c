/* url: the cache URL syntax (redis://, unix://, sqlite://), the sizes it
 * and the command lines write, and the URL of the default embedded store. */
#include "config.h"
#include "ice_backend_url.h"
#include "ice_size.h"
#include "ice_cluster.h"
#include "ice_xdg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ice_backend_url_clear(ice_backend_url *u)
{
	if (!u)
		return;
	free(u->scheme);
	free(u->host);
	free(u->path);
	free(u->user);
	if (u->password)
		memset(u->password, 0, strlen(u->password));
	free(u->password);
	memset(u, 0, sizeof *u);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copy s[0..n) percent-decoded into a new string; NULL when malformed (*bad
 * set) or out of memory. */
static char *pct_decode(const char *s, size_t n, int *bad)
{
	char *out = malloc(n + 1);
	size_t i, j = 0;

	*bad = 0;
	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			out[j++] = s[i];
			continue;
		}
		/* %00 would cut the string short: refuse it too. */
		if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0 ||
		    (s[i + 1] == '0' && s[i + 2] == '0')) {
			*bad = 1;
			break;
		}
		out[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
		i += 2;
	}
	if (*bad) {
		free(out);
		return NULL;
	}
	out[j] = '\0';
	return out;
}

/* A decimal number in s[0..n) within [lo, hi]; -1 otherwise. */
static long parse_num(const char *s, size_t n, long lo, long hi)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v < lo || v > hi ? -1 : v;
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int parse_userinfo(const char *s, size_t n, ice_backend_url *u, ice_err *err)
{
	const char *colon = memchr(s, ':', n);
	int bad = 0;

	if (!colon) { /* redis://password@host, as redis-cli accepts */
		if (n && !(u->password = pct_decode(s, n, &bad)) && !bad)
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
	} else {
		if (colon > s && !(u->user = pct_decode(s, (size_t)(colon - s), &bad)) && !bad)
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
		if (!bad && !(u->password = pct_decode(colon + 1, n - (size_t)(colon - s) - 1, &bad)) && !bad)
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	if (bad)
		return ice_err_set(err, ICE_EINVAL, "cache URL: bad percent-encoding in the user or password");
	return ICE_OK;
}

static int parse_hostport(const char *s, size_t n, ice_backend_url *u, ice_err *err)
{
	const char *end = s + n, *host = s, *hend, *port = NULL;
	long p = 6379;

	if (n && s[0] == '[') {
		host = s + 1;
		hend = memchr(s, ']', n);
		if (!hend || (hend + 1 < end && hend[1] != ':'))
			return ice_err_set(err, ICE_EINVAL, "cache URL: bad IPv6 address");
		port = hend + 1 < end ? hend + 2 : NULL;
	} else {
		hend = memchr(s, ':', n);
		if (hend)
			port = hend + 1;
		else
			hend = end;
	}
	if (hend == host)
		return ice_err_set(err, ICE_EINVAL, "cache URL: missing host");
	if (port && (p = parse_num(port, (size_t)(end - port), 1, 65535)) < 0)
		return ice_err_set(err, ICE_EINVAL, "cache URL: bad port '%.*s'", (int)(end - port), port);
	u->port = (int)p;
	if (!(u->host = dup_n(host, (size_t)(hend - host))))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}

static int parse_redis(const char *s, ice_backend_url *u, ice_err *err)
{
	size_t alen = strcspn(s, "/?#");
	const char *at = NULL, *p;
	long db = 0;
	int rc;

	for (p = s; p < s + alen; p++)
		if (*p == '@')
			at = p;
	if (at && (rc = parse_userinfo(s, (size_t)(at - s), u, err)))
		return rc;
	p = at ? at + 1 : s;
	if ((rc = parse_hostport(p, (size_t)(s + alen - p), u, err)))
		return rc;
	p = s + alen;
	if (*p == '/' && p[1] && (db = parse_num(p + 1, strlen(p + 1), 0, 100000)) < 0)
		return ice_err_set(err, ICE_EINVAL, "cache URL: bad database number '%s'", p + 1);
	if (*p && *p != '/')
		return ice_err_set(err, ICE_EINVAL, "cache URL: unexpected '%s' (use /DB)", p);
	u->db = (int)db;
	return ICE_OK;
}

static int parse_unix(const char *s, ice_backend_url *u, ice_err *err)
{
	size_t plen = strcspn(s, "?");
	const char *q = s + plen;
	long db = 0;

	if (s[0] != '/' || plen < 2)
		return ice_err_set(err, ICE_EINVAL, "cache URL: unix:// needs an absolute socket path (unix:///path/redis.sock)");
	if (*q && (strncmp(q, "?db=", 4) != 0 || (db = parse_num(q + 4, strlen(q + 4), 0, 100000)) < 0))
		return ice_err_set(err, ICE_EINVAL, "cache URL: bad query '%s' (only ?db=N)", q);
	u->db = (int)db;
	if (!(u->path = dup_n(s, plen)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}

int ice_backend_parse_size(const char *s, int64_t *bytes, ice_err *err)
{
	return ice_parse_size(s, bytes, err);
}

/* sqlite:///abs/path[?max_size=SIZE]: the path percent-decoded. */
static int parse_sqlite(const char *s, ice_backend_url *u, ice_err *err)
{
	size_t plen = strcspn(s, "?#");
	const char *q = s + plen;
	int64_t max = 0;
	int bad = 0, rc;

	if (s[0] != '/' || plen < 2 || s[plen - 1] == '/')
		return ice_err_set(err, ICE_EINVAL, "cache URL: sqlite:// needs an absolute file path (sqlite:///path/cache.db)");
	if (*q && strncmp(q, "?max_size=", 10) != 0)
		return ice_err_set(err, ICE_EINVAL, "cache URL: bad query '%s' (only ?max_size=SIZE)", q);
	if (*q && (rc = ice_backend_parse_size(q + 10, &max, err)))
		return ice_err_prefix(err, "cache URL: max_size: ");
	u->max_bytes = *q ? (max ? max : -1) : 0;
	if (!(u->path = pct_decode(s, plen, &bad)))
		return bad ? ice_err_set(err, ICE_EINVAL, "cache URL: bad percent-encoding in the path")
		           : ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}

int ice_backend_default_url(char **url, ice_err *err)
{
	char *path = NULL;
	ice_err why = { 0 };
	int rc;

	*url = NULL;
	if ((rc = ice_xdg_path(ICE_XDG_CACHE, "icecache/cache.db", &path, &why)))
		return ice_err_set(err, rc == ICE_ENOMEM ? ICE_ENOMEM : ICE_EINVAL, "no cache configured and %s",
		                   why.msg);
	if (asprintf(url, "sqlite://%s", path) < 0)
		*url = NULL;
	free(path);
	return *url ? ICE_OK : ice_err_set(err, ICE_ENOMEM, "out of memory");
}

int ice_backend_url_parse(const char *url, ice_backend_url *u, ice_err *err)
{
	int rc;

	memset(u, 0, sizeof *u);
	u->port = 6379;
	if (!url)
		return ice_err_set(err, ICE_EINVAL, "cache URL: missing");
	if (strncmp(url, "redis://", 8) == 0) {
		u->scheme = strdup("redis");
		rc = u->scheme ? parse_redis(url + 8, u, err) : ice_err_set(err, ICE_ENOMEM, "out of memory");
	} else if (strncmp(url, "redis+cluster://", 16) == 0) {
		/* checked here, opened from the URL itself (ice_cluster.h) */
		ice_cluster_url cu = { 0 };
		u->scheme = strdup("cluster");
		rc = u->scheme ? ice_cluster_url_parse(url, &cu, err) : ice_err_set(err, ICE_ENOMEM, "out of memory");
		ice_cluster_url_clear(&cu);
	} else if (strncmp(url, "unix://", 7) == 0) {
		u->scheme = strdup("unix");
		rc = u->scheme ? parse_unix(url + 7, u, err) : ice_err_set(err, ICE_ENOMEM, "out of memory");
	} else if (strncmp(url, "sqlite://", 9) == 0 || strncmp(url, "file://", 7) == 0) {
		u->scheme = strdup("sqlite");
		rc = u->scheme ? parse_sqlite(strchr(url, '/') + 2, u, err) : ice_err_set(err, ICE_ENOMEM, "out of memory");
	} else {
		rc = ice_err_set(err, ICE_EINVAL, "cache URL: unsupported scheme '%.*s' (use redis://, redis+cluster://, unix:// or sqlite://)",
		                 (int)strcspn(url, ":@/"), url);
	}
	if (rc)
		ice_backend_url_clear(u);
	return rc;
}
