/* backend: cache URL parsing and dispatch to the backend implementation. */
#include "config.h"
#include "ice_backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ice_backend {
	const ice_backend_ops *ops;
	const ice_backend_ext_ops *ext; /* NULL: no optional operations */
	void *impl;
};

void ice_entry_meta_clear(ice_entry_meta *m)
{
	size_t i;

	if (!m)
		return;
	free(m->origin);
	free(m->table);
	for (i = 0; i < m->n_tags; i++)
		free(m->tags[i]);
	free(m->tags);
	memset(m, 0, sizeof *m);
}

int ice_backend_tag_table(const char *tag, const char **t, size_t *tlen)
{
	static const char *const scoped[] = { "partition:", "file:", "snapshot:" };
	const char *rest = NULL, *colon;
	size_t i;

	if (strncmp(tag, "table:", 6) == 0) {
		*t = tag + 6;
		*tlen = strlen(*t);
		return *tlen > 0;
	}
	for (i = 0; i < sizeof scoped / sizeof scoped[0] && !rest; i++)
		if (strncmp(tag, scoped[i], strlen(scoped[i])) == 0)
			rest = tag + strlen(scoped[i]);
	if (!rest)
		return 0;
	colon = strchr(rest, ':');
	*t = rest;
	*tlen = colon ? (size_t)(colon - rest) : strlen(rest);
	return *tlen > 0;
}

int ice_backend_check_tags(const char *const *tags, size_t n, ice_err *err)
{
	const char *t0 = NULL, *t;
	size_t i, l0 = 0, tl;

	for (i = 0; i < n; i++) {
		if (!tags[i] || !tags[i][0] || strchr(tags[i], '\n'))
			return ice_err_set(err, ICE_EINVAL, "tag %zu: empty or contains a newline", i + 1);
		if (!ice_backend_tag_table(tags[i], &t, &tl))
			continue;
		if (!t0) {
			t0 = t;
			l0 = tl;
		} else if (tl != l0 || memcmp(t, t0, tl) != 0) {
			return ice_err_set(err, ICE_EINVAL, "tag '%s': an entry's table-scoped tags must name one table ('%.*s')",
			                   tags[i], (int)l0, t0);
		}
	}
	return ICE_OK;
}

char *ice_backend_table_of(const char *const *tags, size_t n)
{
	const char *t = "_";
	size_t i, tl = 1;

	for (i = 0; i < n; i++)
		if (ice_backend_tag_table(tags[i], &t, &tl))
			break;
	if (i == n) {
		t = "_";
		tl = 1;
	}
	return strndup(t, tl);
}

void ice_backend_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- URL parsing ---- */

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
	static const char units[] = "KMGT";
	const char *u;
	char *end;
	long long v;
	int shift = 0;

	*bytes = 0;
	if (!s || *s < '0' || *s > '9')
		goto bad;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno)
		goto bad;
	if (*end && (u = strchr(units, end[0] & ~0x20))) {
		shift = 10 * (int)(u - units + 1);
		end++;
		if (*end == 'i')
			end++;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v < 0 || v > (INT64_MAX >> shift))
		goto bad;
	*bytes = (int64_t)v << shift;
	return ICE_OK;
bad:
	return ice_err_set(err, ICE_EINVAL, "bad size '%s' (a number with K, M, G or T: 64M)", s ? s : "");
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
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	*url = NULL;
	if (xdg && xdg[0] == '/') {
		if (asprintf(url, "sqlite://%s/icecache/cache.db", xdg) < 0)
			*url = NULL;
	} else if (home && home[0] == '/') {
		if (asprintf(url, "sqlite://%s/.cache/icecache/cache.db", home) < 0)
			*url = NULL;
	} else {
		return ice_err_set(err, ICE_EINVAL, "no cache configured and neither XDG_CACHE_HOME nor HOME is set");
	}
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
	} else if (strncmp(url, "unix://", 7) == 0) {
		u->scheme = strdup("unix");
		rc = u->scheme ? parse_unix(url + 7, u, err) : ice_err_set(err, ICE_ENOMEM, "out of memory");
	} else if (strncmp(url, "sqlite://", 9) == 0 || strncmp(url, "file://", 7) == 0) {
		u->scheme = strdup("sqlite");
		rc = u->scheme ? parse_sqlite(strchr(url, '/') + 2, u, err) : ice_err_set(err, ICE_ENOMEM, "out of memory");
	} else {
		rc = ice_err_set(err, ICE_EINVAL, "cache URL: unsupported scheme '%.*s' (use redis://, unix:// or sqlite://)",
		                 (int)strcspn(url, ":@/"), url);
	}
	if (rc)
		ice_backend_url_clear(u);
	return rc;
}

/* ---- dispatch ---- */

int ice_backend_open(const char *url, const ice_backend_opts *o, ice_backend **out, ice_err *err)
{
	ice_backend_url u;
	ice_backend *b = NULL;
	int rc;

	*out = NULL;
	if ((rc = ice_backend_url_parse(url, &u, err)))
		return rc;
	if (!(b = calloc(1, sizeof *b))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if (strcmp(u.scheme, "sqlite") == 0)
		rc = ice_sqlite_open(&u, o, &b->ops, &b->ext, &b->impl, err);
	else
		rc = ice_redis_open(&u, o, &b->ops, &b->ext, &b->impl, err);
	if (rc)
		goto out;
	*out = b;
	b = NULL;
out:
	free(b);
	ice_backend_url_clear(&u);
	return rc;
}

void ice_backend_close(ice_backend *b)
{
	if (!b)
		return;
	b->ops->close(b->impl);
	free(b);
}

int ice_backend_put(ice_backend *b, const char *key, const void *val, size_t len,
                    const char *const *tags, size_t n_tags, int64_t ttl_ms,
                    const char *origin, ice_err *err)
{
	return b->ops->put(b->impl, key, val, len, tags, n_tags, ttl_ms, origin, 0, err);
}

int ice_backend_put_at(ice_backend *b, const char *key, const void *val, size_t len,
                       const char *const *tags, size_t n_tags, int64_t ttl_ms,
                       const char *origin, int64_t created_ms, ice_err *err)
{
	if (created_ms < 0)
		return ice_err_set(err, ICE_EINVAL, "put: negative creation time");
	return b->ops->put(b->impl, key, val, len, tags, n_tags, ttl_ms, origin, created_ms, err);
}

int ice_backend_get(ice_backend *b, const char *key, void **val, size_t *len,
                    ice_entry_meta *meta, ice_err *err)
{
	return b->ops->get(b->impl, key, val, len, meta, err);
}

int ice_backend_peek(ice_backend *b, const char *key, void **val, size_t *len,
                     ice_entry_meta *meta, ice_err *err)
{
	return b->ops->peek(b->impl, key, val, len, meta, err);
}

int ice_backend_delete(ice_backend *b, const char *const *keys, size_t n,
                       uint64_t *removed, ice_err *err)
{
	return b->ops->del(b->impl, keys, n, removed, err);
}

int ice_backend_invalidate(ice_backend *b, const char *const *tags, size_t n,
                           uint64_t *removed, ice_err *err)
{
	return b->ops->invalidate(b->impl, tags, n, removed, err);
}

int ice_backend_invalidate_table(ice_backend *b, const char *table, uint64_t *removed,
                                 ice_err *err)
{
	return b->ops->invalidate_table(b->impl, table, removed, err);
}

int ice_backend_scan(ice_backend *b, const char *table, const char *tag, const char *pattern,
                     ice_backend_scan_cb cb, void *ctx, ice_err *err)
{
	return b->ops->scan(b->impl, table, tag, pattern, cb, ctx, err);
}

int ice_backend_counters(ice_backend *b, const char *table, json_t **out, ice_err *err)
{
	return b->ops->counters(b->impl, table, out, err);
}

int ice_backend_cursor_get(ice_backend *b, const char *table, const char *name,
                           json_t **value, ice_err *err)
{
	return b->ops->cursor_get(b->impl, table, name, value, err);
}

int ice_backend_cursor_set(ice_backend *b, const char *table, const char *name,
                           const json_t *value, ice_err *err)
{
	return b->ops->cursor_set(b->impl, table, name, value, err);
}

int ice_backend_gc(ice_backend *b, uint64_t *removed_refs, ice_err *err)
{
	return b->ops->gc(b->impl, removed_refs, err);
}

int ice_backend_lock(ice_backend *b, const char *name, const char *token, int64_t ttl_ms,
                     ice_err *err)
{
	return b->ops->lock(b->impl, name, token, ttl_ms, err);
}

int ice_backend_unlock(ice_backend *b, const char *name, const char *token, ice_err *err)
{
	return b->ops->unlock(b->impl, name, token, err);
}

int ice_backend_server_info(ice_backend *b, json_t **out, ice_err *err)
{
	return b->ops->server_info(b->impl, out, err);
}

/* ---- optional operations ---- */

static int unsupported(const ice_backend *b, const char *what, ice_err *err)
{
	(void)b;
	return ice_err_set(err, ICE_EUNSUPPORTED, "this cache backend cannot %s", what);
}

int ice_backend_restore(ice_backend *b, const char *key, const void *val, size_t len,
                        const ice_entry_meta *m, ice_err *err)
{
	if (!b->ext || !b->ext->restore)
		return unsupported(b, "restore entries with their metadata", err);
	return b->ext->restore(b->impl, key, val, len, m, err);
}

int ice_backend_counters_add(ice_backend *b, const char *table, const json_t *add, ice_err *err)
{
	if (!b->ext || !b->ext->counters_add)
		return unsupported(b, "add to counters", err);
	return b->ext->counters_add(b->impl, table, add, err);
}

int ice_backend_counters_reset(ice_backend *b, const char *table, ice_err *err)
{
	return b->ops->counters_reset(b->impl, table, err);
}

int ice_backend_tables(ice_backend *b, char ***tables, size_t *n, ice_err *err)
{
	*tables = NULL;
	*n = 0;
	return b->ops->tables(b->impl, tables, n, err);
}
