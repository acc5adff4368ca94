/* redis: the Redis cache backend (hiredis), keys as in icecache-keys(7). */
#include "config.h"
#include "backend_int.h"
#include "ice_tag.h"
#include "ice_time.h"

#include <errno.h>
#include <fnmatch.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* ---- Lua scripts (all keys are built from ARGV[1], the prefix) ---- */

/* The scripts are lib/cache/lua/NAME.lua, each a C string ice_lua_NAME
 * here, made at build time by scripts/lua-to-c. */
#include "redis-lua.inc"

/* Redis 7 checks maxmemory for a script without flags only at its first
 * write that may grow memory, and then lets the rest through: a put whose
 * first write is a DEL would grow past maxmemory, and a get whose first
 * write is the hit counter would fail on a full cache. So every script
 * states its policy: a put is refused whole, before it runs, when memory
 * is full; reads and removals (which free memory) run regardless. The
 * policy is each script's first line: "#!lua" (put) or
 * "#!lua flags=allow-oom" (the others). */

/* Invalidation in two steps. Removing every entry of a big tag or table
 * in one script would block Redis for as long as it takes, so:
 *   1. mark (one script, atomic, a few writes per tag): take g = INCR
 *      P:{T}:seq, record P:{T}:dead[TAG] = g (or [""] = g for the whole
 *      table) and queue the job "g\n=TAG" (or "g\n*") in P:{T}:drain. From
 *      then on every read treats an entry as gone when one of its tags (or
 *      "") is marked with a g above the entry's own seq (put stamps it from
 *      the same counter), so no reader sees half an invalidation.
 *   2. drain (a script per batch of about ICE_REDIS_DRAIN_BATCH entries):
 *      SSCAN the tag's live set (or P:{T}:all) from the job's cursor and
 *      remove the entries older than g with every reference. SSCAN returns
 *      every member present for the whole scan, and an entry put after the
 *      mark has a higher seq, so when the cursor comes back to 0 no entry
 *      the mark covers is left: the job and its mark go. Entries put later
 *      stay in the live set untouched.
 * An interrupted drain is finished by the next invalidation of the table
 * or by gc; until then its entries read as misses. */

enum { S_PUT, S_GET, S_META, S_DEL, S_MARK, S_DRAIN, S_GC, S_UNLOCK, S_COUNT };

static const char *const script_src[S_COUNT] = { ice_lua_put, ice_lua_get, ice_lua_meta, ice_lua_del,
                                                 ice_lua_mark, ice_lua_drain, ice_lua_gc,
                                                 ice_lua_unlock };

/* Set members looked at per drain script call: a few milliseconds of
 * Redis time (bench/run measurement 4: about 7 ms on a 2-core machine). */
#define ICE_REDIS_DRAIN_BATCH 500

typedef struct redis_be {
	redisContext *ctx;
	char *where;  /* "redis://host:port" or "unix:///path", never a password */
	char *prefix;
	char sha[S_COUNT][41];
	ice_backend_url url;   /* kept to reconnect (the password is wiped on close) */
	int connect_ms, command_ms;
	int reconnect_ms;      /* how long to keep trying after a lost connection */
	int retryable;         /* set by run_once: the failure may pass on reconnect */
} redis_be;

/* ---- argument vectors (every argument copied, lengths explicit) ---- */

typedef struct cmd {
	char **v;
	size_t *l;
	size_t n, cap;
	int oom;
} cmd;

static void cmd_free(cmd *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
	free(c->l);
	memset(c, 0, sizeof *c);
}

static void cmd_addn(cmd *c, const void *s, size_t n)
{
	char **v;
	size_t *l;
	char *d;

	if (c->oom)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		v = realloc(c->v, cap * sizeof *v);
		if (v)
			c->v = v;
		l = realloc(c->l, cap * sizeof *l);
		if (l)
			c->l = l;
		if (!v || !l) {
			c->oom = 1;
			return;
		}
		c->cap = cap;
	}
	if (!(d = malloc(n + 1))) {
		c->oom = 1;
		return;
	}
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	c->v[c->n] = d;
	c->l[c->n++] = n;
}

static void cmd_add(cmd *c, const char *s)
{
	cmd_addn(c, s, strlen(s));
}

static void cmd_addf(cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cmd_addf(cmd *c, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	cmd_add(c, buf);
}

/* Append P:{T}:SUFFIX as one argument (T has length tlen). */
static void cmd_addkey(cmd *c, const redis_be *r, const char *t, size_t tlen, const char *suffix,
                       const char *rest)
{
	size_t lp = strlen(r->prefix), ls = strlen(suffix), lr = rest ? strlen(rest) : 0;
	char *k = malloc(lp + tlen + ls + lr + 4);

	if (!k) {
		c->oom = 1;
		return;
	}
	memcpy(k, r->prefix, lp);
	memcpy(k + lp, ":{", 2);
	memcpy(k + lp + 2, t, tlen);
	k[lp + 2 + tlen] = '}';
	k[lp + 3 + tlen] = ':';
	memcpy(k + lp + 4 + tlen, suffix, ls);
	if (lr)
		memcpy(k + lp + 4 + tlen + ls, rest, lr);
	cmd_addn(c, k, lp + tlen + ls + lr + 4);
	free(k);
}

/* Append P:SUFFIX (a key outside every table: P:stats, P:l:NAME). */
static void cmd_addglobal(cmd *c, const redis_be *r, const char *suffix)
{
	size_t lp = strlen(r->prefix), ls = strlen(suffix);
	char *k = malloc(lp + ls + 2);

	if (!k) {
		c->oom = 1;
		return;
	}
	memcpy(k, r->prefix, lp);
	k[lp] = ':';
	memcpy(k + lp + 1, suffix, ls + 1);
	cmd_addn(c, k, lp + ls + 1);
	free(k);
}

static void cmd_addstats(cmd *c, const redis_be *r)
{
	cmd_addglobal(c, r, "stats");
}

/* ---- running commands ---- */

static int reconnect(redis_be *r, ice_err *err);

/* Run c once; *out gets a non-error reply. An error reply is ICE_EBACKEND
 * and, when keep is set, left in *out for the caller to inspect. Sets
 * r->retryable when the failure is one a reconnect may cure: a lost
 * connection, or a restarted server still loading its data. */
static int run_once(redis_be *r, cmd *c, redisReply **out, int keep, ice_err *err)
{
	redisReply *rep;

	*out = NULL;
	r->retryable = 0;
	if (c->oom)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (!r->ctx || r->ctx->err) {
		r->retryable = 1;
		return ice_err_set(err, ICE_EBACKEND, "%s: not connected", r->where);
	}
	rep = redisCommandArgv(r->ctx, (int)c->n, (const char **)c->v, c->l);
	if (!rep) {
		/* A timed-out read leaves EAGAIN; either way the context is dead
		 * (the next call reconnects). A timeout is not retried: the
		 * command may still be running on a slow server. */
		int timeout = r->ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
		r->retryable = !timeout;
		return ice_err_set(err, timeout ? ICE_ETIMEOUT : ICE_EBACKEND, "%s: %s", r->where,
		                   timeout ? "command timed out" : r->ctx->errstr[0] ? r->ctx->errstr : "connection lost");
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		r->retryable = strncmp(rep->str, "LOADING", 7) == 0;
		ice_err_set(err, ICE_EBACKEND, "%s: %s: %.*s", r->where, c->v[0], (int)rep->len, rep->str);
		if (keep && !r->retryable)
			*out = rep;
		else
			freeReplyObject(rep);
		return ICE_EBACKEND;
	}
	*out = rep;
	return ICE_OK;
}

/* Run c; when the connection was lost (Redis restarted, say), reconnect
 * with exponential backoff for up to reconnect_ms and run it again. Every
 * command and script here is safe to repeat: a put replaces, removals of
 * what is gone remove nothing (only a counter may count twice). */
static int run(redis_be *r, cmd *c, redisReply **out, int keep, ice_err *err)
{
	ice_err why = { 0 };
	int64_t deadline = 0;
	long delay = 25;
	int rc;

	for (;;) {
		rc = run_once(r, c, out, keep, why.code ? NULL : err);
		if (rc == ICE_OK || !r->retryable || r->reconnect_ms <= 0)
			return rc;
		if (!deadline)
			deadline = ice_now_ms() + r->reconnect_ms;
		if (ice_now_ms() >= deadline) {
			if (why.code && err)
				*err = why; /* the last reconnect says more than "not connected" */
			return ice_err_prefix(err, "gave up reconnecting after %d ms: ", r->reconnect_ms);
		}
		ice_sleep_ms(delay);
		delay = delay * 2 > 1000 ? 1000 : delay * 2;
		ice_err_clear(&why);
		if (reconnect(r, &why) == ICE_OK)
			delay = 25;
	}
}

static int load_script(redis_be *r, int s, ice_err *err)
{
	cmd c = { 0 };
	redisReply *rep = NULL;
	int rc;

	cmd_add(&c, "SCRIPT");
	cmd_add(&c, "LOAD");
	cmd_add(&c, script_src[s]);
	if ((rc = run(r, &c, &rep, 0, err)))
		goto out;
	if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
		rc = ice_err_set(err, ICE_EBACKEND, "%s: SCRIPT LOAD: unexpected reply", r->where);
		goto out;
	}
	memcpy(r->sha[s], rep->str, 40);
	r->sha[s][40] = '\0';
out:
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

/* EVALSHA script s with the arguments in args (args->v[0..2] are reserved
 * for EVALSHA SHA 0 and filled here); reloads the script on NOSCRIPT. */
static int eval(redis_be *r, int s, cmd *args, redisReply **out, ice_err *err)
{
	int rc = ICE_OK, attempt;

	*out = NULL;
	for (attempt = 0; attempt < 2; attempt++) {
		if (!r->sha[s][0] && (rc = load_script(r, s, err)))
			return rc;
		if (args->oom)
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
		free(args->v[1]);
		args->v[1] = strdup(r->sha[s]);
		if (!args->v[1]) {
			args->oom = 1;
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
		}
		args->l[1] = 40;
		rc = run(r, args, out, 1, err);
		if (rc != ICE_EBACKEND || !*out)
			return rc;
		if (strncmp((*out)->str, "NOSCRIPT", 8) != 0) {
			freeReplyObject(*out);
			*out = NULL;
			return rc;
		}
		freeReplyObject(*out);
		*out = NULL;
		r->sha[s][0] = '\0';
	}
	return rc;
}

static void eval_init(cmd *c, const redis_be *r)
{
	cmd_add(c, "EVALSHA");
	cmd_add(c, "-");
	cmd_add(c, "0");
	cmd_add(c, r->prefix);
}

/* ---- helpers ---- */

static char *dup_reply(const redisReply *e)
{
	char *s;

	if (!e || e->type != REDIS_REPLY_STRING)
		return NULL;
	if ((s = malloc(e->len + 1))) {
		memcpy(s, e->str, e->len);
		s[e->len] = '\0';
	}
	return s;
}

static long long reply_num(const redisReply *e)
{
	if (!e)
		return 0;
	if (e->type == REDIS_REPLY_INTEGER)
		return e->integer;
	if (e->type == REDIS_REPLY_STRING)
		return strtoll(e->str, NULL, 10);
	return 0;
}

/* Fill m from created, expires, size, hits, origin, tags (6 replies). */
static int fill_meta(ice_entry_meta *m, redisReply **f, ice_err *err)
{
	const char *s, *nl;
	size_t n = 0, len, tl;

	memset(m, 0, sizeof *m);
	m->created_ms = reply_num(f[0]);
	m->expires_ms = reply_num(f[1]);
	m->size = (uint64_t)reply_num(f[2]);
	m->hits = (uint64_t)reply_num(f[3]);
	m->origin = dup_reply(f[4]);
	s = f[5] && f[5]->type == REDIS_REPLY_STRING ? f[5]->str : "";
	len = f[5] && f[5]->type == REDIS_REPLY_STRING ? f[5]->len : 0;
	m->tags = calloc(len / 2 + 2, sizeof *m->tags);
	if (!m->tags)
		goto oom;
	while (len) {
		nl = memchr(s, '\n', len);
		tl = nl ? (size_t)(nl - s) : len;
		if (tl && !(m->tags[n++] = strndup(s, tl)))
			goto oom;
		m->n_tags = n;
		s += tl + (nl ? 1 : 0);
		len -= tl + (nl ? 1 : 0);
	}
	if (!(m->table = ice_tags_table((const char *const *)m->tags, m->n_tags)))
		goto oom;
	return ICE_OK;
oom:
	ice_entry_meta_clear(m);
	return ice_err_set(err, ICE_ENOMEM, "out of memory");
}

/* ---- open / close ---- */

static void redis_close(void *impl)
{
	redis_be *r = impl;

	if (!r)
		return;
	if (r->ctx)
		redisFree(r->ctx);
	ice_backend_url_clear(&r->url);
	free(r->where);
	free(r->prefix);
	free(r);
}

static struct timeval tv_ms(int ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

/* AUTH, then SELECT (or PING) so that open fails early. */
static int handshake(redis_be *r, const ice_backend_url *u, ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	int rc = ICE_OK;

	if (u->password) {
		cmd_add(&c, "AUTH");
		if (u->user)
			cmd_add(&c, u->user);
		cmd_add(&c, u->password);
		rc = run_once(r, &c, &rep, 1, err);
		if (rc == ICE_EBACKEND && rep)
			rc = ice_err_set(err, ICE_EBACKEND, "%s: authentication failed: %.*s",
			                 r->where, (int)rep->len, rep->str);
		freeReplyObject(rep);
		rep = NULL;
		cmd_free(&c);
		if (rc)
			return rc;
	}
	if (u->db) {
		cmd_add(&c, "SELECT");
		cmd_addf(&c, "%d", u->db);
	} else {
		cmd_add(&c, "PING"); /* catches a server that wants AUTH */
	}
	rc = run_once(r, &c, &rep, 0, err);
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

static const ice_backend_ops redis_ops;

static int connect_url(redis_be *r, const ice_backend_url *u, ice_err *err)
{
	if (u->path)
		r->ctx = redisConnectUnixWithTimeout(u->path, tv_ms(r->connect_ms));
	else
		r->ctx = redisConnectWithTimeout(u->host, u->port, tv_ms(r->connect_ms));
	if (!r->ctx)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (r->ctx->err)
		return ice_err_set(err, ICE_EBACKEND, "cannot connect to %s: %s", r->where, r->ctx->errstr);
	if (redisSetTimeout(r->ctx, tv_ms(r->command_ms)) != REDIS_OK)
		return ice_err_set(err, ICE_EBACKEND, "%s: cannot set the command timeout", r->where);
	return handshake(r, u, err);
}

static int reconnect(redis_be *r, ice_err *err)
{
	if (r->ctx)
		redisFree(r->ctx);
	r->ctx = NULL;
	return connect_url(r, &r->url, err);
}

/* A copy of u that outlives the caller's (open keeps it to reconnect). */
static int copy_url(ice_backend_url *d, const ice_backend_url *u)
{
	memset(d, 0, sizeof *d);
	d->port = u->port;
	d->db = u->db;
#define DUP(f) (!u->f || (d->f = strdup(u->f)))
	return DUP(scheme) && DUP(host) && DUP(path) && DUP(user) && DUP(password) ? ICE_OK : ICE_ENOMEM;
#undef DUP
}

static char *where_of(const ice_backend_url *u)
{
	char *w = NULL;
	int n;

	if (u->path)
		n = asprintf(&w, "unix://%s", u->path);
	else
		n = asprintf(&w, strchr(u->host, ':') ? "redis://[%s]:%d" : "redis://%s:%d", u->host, u->port);
	return n < 0 ? NULL : w;
}

static const ice_backend_ext_ops redis_ext;

int ice_redis_open(const ice_backend_url *u, const ice_backend_opts *o,
                   const ice_backend_ops **ops, const ice_backend_ext_ops **ext, void **impl,
                   ice_err *err)
{
	redis_be *r = calloc(1, sizeof *r);
	const char *prefix = o && o->prefix && o->prefix[0] ? o->prefix : "icecache";
	int rc;

	*impl = NULL;
	if (!r || !(r->prefix = strdup(prefix)) || copy_url(&r->url, u) || !(r->where = where_of(u))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	r->connect_ms = o && o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 2000;
	r->command_ms = o && o->command_timeout_ms > 0 ? o->command_timeout_ms : 5000;
	r->reconnect_ms = o && o->reconnect_ms != 0 ? (o->reconnect_ms > 0 ? o->reconnect_ms : 0) : 30000;
	/* An unreachable server at the start is reported at once: only a
	 * connection that worked is worth waiting for. */
	if ((rc = connect_url(r, u, err)))
		goto out;
	*ops = &redis_ops;
	*ext = &redis_ext;
	*impl = r;
	r = NULL;
out:
	redis_close(r);
	return rc;
}

/* ---- put / get / delete ---- */

/* What put and restore write. */
typedef struct entry_args {
	const char *key, *origin;
	const void *val;
	size_t len;
	const char *const *tags;
	size_t n_tags;
	int64_t created_ms, ttl_ms;
	uint64_t hits;
	int count; /* a put (counted) rather than a restore */
} entry_args;

/* Append the tags joined by "\n" as one argument. */
static void cmd_addjoined(cmd *c, const char *const *tags, size_t n)
{
	size_t i, ji;

	cmd_addn(c, "", 0);
	ji = c->n - 1;
	for (i = 0; i < n && !c->oom; i++) {
		size_t l = c->l[ji], tl = strlen(tags[i]);
		char *j = realloc(c->v[ji], l + tl + 2);
		if (!j) {
			c->oom = 1;
			break;
		}
		if (i)
			j[l++] = '\n';
		memcpy(j + l, tags[i], tl + 1);
		c->v[ji] = j;
		c->l[ji] = l + tl;
	}
}

static int write_entry(redis_be *r, const entry_args *a, ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	char *t = NULL;
	int64_t now = ice_now_ms();
	size_t i;
	int rc;

	if (!a->key || a->ttl_ms < 0)
		return ice_err_set(err, ICE_EINVAL, "put: missing key or negative TTL");
	if ((rc = ice_tags_check_one_table(a->tags, a->n_tags, err)))
		return rc;
	if (!(t = ice_tags_table(a->tags, a->n_tags)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	eval_init(&c, r);
	cmd_add(&c, a->key);
	cmd_add(&c, t);
	cmd_addn(&c, a->val, a->len);
	cmd_addf(&c, "%lld", (long long)(a->created_ms ? a->created_ms : now));
	cmd_addf(&c, "%lld", a->ttl_ms ? (long long)(now + a->ttl_ms) : 0LL);
	cmd_addf(&c, "%zu", a->len);
	cmd_addf(&c, "%lld", (long long)a->ttl_ms);
	cmd_add(&c, a->origin ? "1" : "0");
	cmd_add(&c, a->origin ? a->origin : "");
	cmd_addjoined(&c, a->tags, a->n_tags);
	cmd_addf(&c, "%llu", (unsigned long long)a->hits);
	cmd_add(&c, a->count ? "1" : "0");
	for (i = 0; i < a->n_tags; i++)
		cmd_add(&c, a->tags[i]);
	rc = eval(r, S_PUT, &c, &rep, err);
	freeReplyObject(rep);
	cmd_free(&c);
	free(t);
	return rc;
}

static int redis_put(void *impl, const char *key, const void *val, size_t len,
                     const char *const *tags, size_t n_tags, int64_t ttl_ms,
                     const char *origin, int64_t created_ms, ice_err *err)
{
	entry_args a = { .key = key, .origin = origin, .val = val, .len = len, .tags = tags,
	                 .n_tags = n_tags, .created_ms = created_ms, .ttl_ms = ttl_ms, .count = 1 };

	return write_entry(impl, &a, err);
}

/* An entry as it was (migrate): creation time, absolute expiry and hits
 * kept, nothing counted. One whose time has passed is not written. */
static int redis_restore(void *impl, const char *key, const void *val, size_t len,
                         const ice_entry_meta *m, ice_err *err)
{
	entry_args a = { .key = key, .origin = m->origin, .val = val, .len = len,
	                 .tags = (const char *const *)m->tags, .n_tags = m->n_tags,
	                 .created_ms = m->created_ms, .hits = m->hits };

	if (m->expires_ms) {
		a.ttl_ms = m->expires_ms - ice_now_ms();
		if (a.ttl_ms <= 0)
			return ICE_OK;
	}
	return write_entry(impl, &a, err);
}

/* get (count set: counts the hit or miss) and peek (counts nothing). */
static int fetch_entry(redis_be *r, int count, const char *key, void **val, size_t *len,
                       ice_entry_meta *meta, ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	int rc;

	*val = NULL;
	*len = 0;
	if (meta)
		memset(meta, 0, sizeof *meta);
	eval_init(&c, r);
	cmd_add(&c, key);
	cmd_add(&c, count ? "1" : "0");
	if ((rc = eval(r, S_GET, &c, &rep, err)))
		goto out;
	if (rep->type == REDIS_REPLY_NIL) {
		rc = ICE_ENOENT;
		ice_err_set(err, ICE_ENOENT, "%s: no entry", key);
		goto out;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 7 ||
	    rep->element[0]->type != REDIS_REPLY_STRING) {
		rc = ice_err_set(err, ICE_EBACKEND, "%s: get: unexpected reply", r->where);
		goto out;
	}
	if (meta && (rc = fill_meta(meta, rep->element + 1, err)))
		goto out;
	if (!(*val = dup_reply(rep->element[0]))) {
		ice_entry_meta_clear(meta);
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	*len = rep->element[0]->len;
out:
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

static int redis_get(void *impl, const char *key, void **val, size_t *len,
                     ice_entry_meta *meta, ice_err *err)
{
	return fetch_entry(impl, 1, key, val, len, meta, err);
}

static int redis_peek(void *impl, const char *key, void **val, size_t *len,
                      ice_entry_meta *meta, ice_err *err)
{
	return fetch_entry(impl, 0, key, val, len, meta, err);
}

static int redis_del(void *impl, const char *const *keys, size_t n, uint64_t *removed, ice_err *err)
{
	redis_be *r = impl;
	redisReply *rep = NULL;
	cmd c = { 0 };
	size_t i;
	int rc = ICE_OK;

	if (removed)
		*removed = 0;
	if (!n)
		return ICE_OK;
	eval_init(&c, r);
	for (i = 0; i < n; i++)
		cmd_add(&c, keys[i]);
	if (!(rc = eval(r, S_DEL, &c, &rep, err)) && removed)
		*removed = (uint64_t)reply_num(rep);
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

/* ---- tables ---- */

typedef struct strlist {
	char **v;
	size_t n, cap;
} strlist;

static void strlist_free(strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* Append a copy of s[0..n); returns its index or -1 when out of memory. */
static long strlist_push(strlist *l, const char *s, size_t n)
{
	char **v;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		if (!(v = realloc(l->v, cap * sizeof *v)))
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strndup(s, n)))
		return -1;
	return (long)l->n++;
}

/* Add s[0..n) unless present (a linear search: for short lists such as
 * tables); returns its index or -1 when out of memory. */
static long strlist_add(strlist *l, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strlen(l->v[i]) == n && memcmp(l->v[i], s, n) == 0)
			return (long)i;
	return strlist_push(l, s, n);
}

/* A SCAN MATCH pattern: pre + s + post with glob characters of s escaped
 * (pre and post are used as given). Caller frees. */
static char *glob_join(const char *pre, const char *s, const char *post)
{
	size_t n = strlen(pre) + 2 * strlen(s) + strlen(post) + 1, j;
	char *g = malloc(n);

	if (!g)
		return NULL;
	j = strlen(pre);
	memcpy(g, pre, j);
	for (; *s; s++) {
		if (strchr("*?[]\\", *s))
			g[j++] = '\\';
		g[j++] = *s;
	}
	strcpy(g + j, post);
	return g;
}

/* SCAN the keyspace for keys matching glob; calls fn for each key (fn
 * returns -1 to stop). */
typedef int (*key_fn)(redis_be *r, const char *k, size_t n, void *ctx, ice_err *err);

static int scan_keys(redis_be *r, const char *glob, key_fn fn, void *ctx, ice_err *err)
{
	char cursor[32] = "0";
	redisReply *rep = NULL;
	cmd c = { 0 };
	size_t i;
	int rc = ICE_OK, stop = 0;

	do {
		cmd_add(&c, "SCAN");
		cmd_add(&c, cursor);
		cmd_add(&c, "MATCH");
		cmd_add(&c, glob);
		cmd_add(&c, "COUNT");
		cmd_add(&c, "1000");
		if ((rc = run(r, &c, &rep, 0, err)))
			break;
		cmd_free(&c);
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING || rep->element[0]->len >= sizeof cursor ||
		    rep->element[1]->type != REDIS_REPLY_ARRAY) {
			rc = ice_err_set(err, ICE_EBACKEND, "%s: SCAN: unexpected reply", r->where);
			break;
		}
		memcpy(cursor, rep->element[0]->str, rep->element[0]->len);
		cursor[rep->element[0]->len] = '\0';
		for (i = 0; i < rep->element[1]->elements && !rc && !stop; i++) {
			redisReply *k = rep->element[1]->element[i];
			rc = fn(r, k->str, k->len, ctx, err);
			if (rc < 0) {
				stop = 1;
				rc = ICE_OK;
			}
		}
		freeReplyObject(rep);
		rep = NULL;
	} while (!rc && !stop && strcmp(cursor, "0") != 0);
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

typedef struct table_scan {
	strlist *out;
	const char *suffix; /* "}:tags" or "}:drain" */
} table_scan;

static int table_key(redis_be *r, const char *k, size_t n, void *ctx, ice_err *err)
{
	table_scan *ts = ctx;
	size_t lp = strlen(r->prefix), ls = strlen(ts->suffix);

	if (n < lp + 2 + ls || memcmp(k, r->prefix, lp) != 0 || memcmp(k + lp, ":{", 2) != 0 ||
	    memcmp(k + n - ls, ts->suffix, ls) != 0 || memchr(k, '\0', n) || n == lp + 2 + ls)
		return ICE_OK;
	if (strlist_add(ts->out, k + lp + 2, n - lp - 2 - ls) < 0)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}

/* Every table with a key P:{T}SUFFIX, SUFFIX "}:tags" (tags in use) or
 * "}:drain" (an invalidation being applied). */
static int list_tables_by(redis_be *r, const char *suffix, strlist *out, ice_err *err)
{
	table_scan ts = { out, suffix };
	char *pat = NULL, *glob;
	int rc;

	if (asprintf(&pat, ":{*%s", suffix) < 0)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	glob = glob_join("", r->prefix, pat);
	rc = glob ? scan_keys(r, glob, table_key, &ts, err) : ice_err_set(err, ICE_ENOMEM, "out of memory");
	free(glob);
	free(pat);
	return rc;
}

static int list_tables(redis_be *r, strlist *out, ice_err *err)
{
	return list_tables_by(r, "}:tags", out, err);
}

/* ---- invalidate ---- */

typedef struct group {
	strlist tables;
	strlist *tags;  /* per table */
	int *explicit_; /* per table: named by a table-scoped tag */
} group;

static void group_free(group *g)
{
	size_t i;

	for (i = 0; i < g->tables.n; i++)
		strlist_free(&g->tags[i]);
	free(g->tags);
	free(g->explicit_);
	strlist_free(&g->tables);
}

static int group_add(group *g, const char *t, size_t tl, const char *tag, int expl)
{
	size_t n = g->tables.n;
	long i = strlist_add(&g->tables, t, tl);
	strlist *tags;
	int *ex;

	if (i < 0)
		return ICE_ENOMEM;
	if (g->tables.n != n) {
		tags = realloc(g->tags, g->tables.n * sizeof *tags);
		if (tags)
			g->tags = tags;
		ex = realloc(g->explicit_, g->tables.n * sizeof *ex);
		if (ex)
			g->explicit_ = ex;
		if (!tags || !ex) {
			free(g->tables.v[--g->tables.n]);
			return ICE_ENOMEM;
		}
		memset(&g->tags[i], 0, sizeof g->tags[i]);
		g->explicit_[i] = 0;
	}
	g->explicit_[i] |= expl;
	/* No search: a tag named twice is marked once anyway (its set is gone
	 * after the first RENAME), and searching made 100k tags quadratic. */
	return strlist_push(&g->tags[i], tag, strlen(tag)) < 0 ? ICE_ENOMEM : ICE_OK;
}

/* Group the tags by table; free-form tags go to every table in use. */
static int group_tags(redis_be *r, const char *const *tags, size_t n, group *g, ice_err *err)
{
	strlist all = { 0 };
	const char *t;
	size_t i, j, tl;
	int rc = ICE_OK, loaded = 0;

	for (i = 0; i < n && !rc; i++) {
		if ((rc = ice_tag_check(tags[i], i, err)))
			break;
		if (ice_tag_table(tags[i], &t, &tl)) {
			if (group_add(g, t, tl, tags[i], 1))
				rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		} else {
			if (!loaded && (rc = list_tables(r, &all, err)))
				break;
			loaded = 1;
			for (j = 0; j < all.n && !rc; j++)
				if (group_add(g, all.v[j], strlen(all.v[j]), tags[i], 0))
					rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		}
	}
	strlist_free(&all);
	return rc;
}

/* Step 2 of an invalidation: drain table t's marked entries in bounded
 * batches until no job is left (also finishes an earlier, interrupted one). */
static int drain_table(redis_be *r, const char *t, uint64_t *removed, ice_err *err)
{
	redisReply *rep = NULL;
	long long left = 1;
	int rc = ICE_OK;

	while (left > 0 && !rc) {
		cmd c = { 0 };
		eval_init(&c, r);
		cmd_add(&c, t);
		cmd_addf(&c, "%d", ICE_REDIS_DRAIN_BATCH);
		if (!(rc = eval(r, S_DRAIN, &c, &rep, err))) {
			if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
				rc = ice_err_set(err, ICE_EBACKEND, "%s: drain: unexpected reply", r->where);
			} else {
				*removed += (uint64_t)reply_num(rep->element[0]);
				left = reply_num(rep->element[1]);
			}
		}
		freeReplyObject(rep);
		rep = NULL;
		cmd_free(&c);
	}
	return rc;
}

/* Step 1 (see "Invalidation in two steps"): mark the tags (whole: every
 * entry) of table t in one atomic script, then drain. */
static int mark_and_drain(redis_be *r, const char *t, const strlist *tags, int first, int expl,
                          int whole, uint64_t *removed, ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	size_t j;
	int rc;

	eval_init(&c, r);
	cmd_add(&c, t);
	cmd_add(&c, first ? "1" : "0");
	cmd_add(&c, expl ? "1" : "0");
	cmd_add(&c, whole ? "1" : "0");
	for (j = 0; tags && j < tags->n; j++)
		cmd_add(&c, tags->v[j]);
	rc = eval(r, S_MARK, &c, &rep, err);
	freeReplyObject(rep);
	cmd_free(&c);
	return rc ? rc : drain_table(r, t, removed, err);
}

static int count_global(redis_be *r, const char *field, ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	int rc;

	cmd_add(&c, "HINCRBY");
	cmd_addstats(&c, r);
	cmd_add(&c, field);
	cmd_add(&c, "1");
	rc = run(r, &c, &rep, 0, err);
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

static int redis_invalidate(void *impl, const char *const *tags, size_t n, uint64_t *removed,
                            ice_err *err)
{
	redis_be *r = impl;
	group g = { 0 };
	uint64_t total = 0;
	size_t i;
	int rc;

	if (removed)
		*removed = 0;
	if ((rc = group_tags(r, tags, n, &g, err)))
		goto out;
	for (i = 0; i < g.tables.n && !rc; i++)
		rc = mark_and_drain(r, g.tables.v[i], &g.tags[i], i == 0, g.explicit_[i], 0, &total, err);
	if (!rc && g.tables.n == 0)
		rc = count_global(r, "invalidations", err);
out:
	if (removed)
		*removed = total;
	group_free(&g);
	return rc;
}

/* ---- scan ---- */

/* Entries found by a scan wait in a batch whose metadata lookups go to
 * Redis pipelined (one round trip per batch, not per entry). */
#define SCAN_BATCH 256

typedef struct scan_ctx {
	const char *table, *pattern;
	ice_backend_scan_cb cb;
	void *ctx;
	int stopped;
	char *bt[SCAN_BATCH], *bk[SCAN_BATCH]; /* table and key of each waiting entry */
	size_t n;
} scan_ctx;

/* Give the entry P:{T}:e:KEY, whose meta script replied rep, to the
 * callback unless it is gone; returns -1 when the callback asks to stop. */
static int deliver(const char *t, const char *key, const redisReply *rep, scan_ctx *s, ice_err *err)
{
	ice_entry_meta m = { 0 };
	int rc = ICE_OK;

	if (s->stopped || rep->type != REDIS_REPLY_ARRAY || rep->elements != 7 ||
	    rep->element[0]->type == REDIS_REPLY_NIL)
		return ICE_OK; /* gone (expired, removed or invalidated meanwhile) */
	if ((rc = fill_meta(&m, rep->element, err)))
		return rc;
	/* Not a key that only looks like an entry of T, and of the table asked. */
	if (strcmp(m.table, t) == 0 && (!s->table || strcmp(s->table, t) == 0) && s->cb(s->ctx, key, &m)) {
		s->stopped = 1;
		rc = -1;
	}
	ice_entry_meta_clear(&m);
	return rc;
}

/* One entry, one round trip (with the reconnect and NOSCRIPT handling of
 * eval): what a batch falls back to when its pipeline fails. */
static int report_entry(redis_be *r, const char *t, const char *key, scan_ctx *s, ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	int rc;

	eval_init(&c, r);
	cmd_add(&c, t);
	cmd_add(&c, key);
	if (!(rc = eval(r, S_META, &c, &rep, err)))
		rc = deliver(t, key, rep, s, err);
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

/* Append the meta lookup of entry i of the batch to the pipeline. */
static int append_meta(redis_be *r, scan_ctx *s, size_t i)
{
	cmd c = { 0 };
	int rc;

	eval_init(&c, r);
	cmd_add(&c, s->bt[i]);
	cmd_add(&c, s->bk[i]);
	free(c.v[1]);
	c.v[1] = strdup(r->sha[S_META]);
	c.l[1] = 40;
	rc = c.oom || !c.v[1] ? REDIS_ERR
	     : redisAppendCommandArgv(r->ctx, (int)c.n, (const char **)c.v, c.l);
	cmd_free(&c);
	return rc;
}

static void batch_free(scan_ctx *s)
{
	for (; s->n > 0; s->n--) {
		free(s->bt[s->n - 1]);
		free(s->bk[s->n - 1]);
	}
}

/* Look up and deliver every waiting entry, pipelined; entries the
 * pipeline could not answer (lost connection, NOSCRIPT) go one by one. */
static int flush_batch(redis_be *r, scan_ctx *s, ice_err *err)
{
	size_t i, sent = 0;
	int rc = ICE_OK;
	redisReply **reps = calloc(s->n ? s->n : 1, sizeof *reps);

	if (!reps)
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	else if (!r->sha[S_META][0])
		rc = load_script(r, S_META, err);
	for (; !rc && sent < s->n && r->ctx && !r->ctx->err; sent++)
		if (append_meta(r, s, sent) != REDIS_OK)
			break;
	for (i = 0; !rc && i < sent; i++)
		if (redisGetReply(r->ctx, (void **)&reps[i]) != REDIS_OK)
			break; /* the rest stays NULL: done one by one below */
	for (i = 0; i < s->n; i++) {
		if (!rc) {
			if (reps && reps[i] && reps[i]->type != REDIS_REPLY_ERROR)
				rc = deliver(s->bt[i], s->bk[i], reps[i], s, err);
			else if (!s->stopped)
				rc = report_entry(r, s->bt[i], s->bk[i], s, err);
			if (rc < 0)
				rc = ICE_OK; /* stopped: the other replies are read and dropped */
		}
		if (reps)
			freeReplyObject(reps[i]);
		free(s->bt[i]);
		free(s->bk[i]);
	}
	free(reps);
	s->n = 0;
	return rc;
}

/* Queue the entry P:{T}:e:KEY (T and KEY copied) unless the pattern
 * filters it out. */
static int queue_entry(redis_be *r, const char *t, size_t tl, const char *key, size_t kl,
                       scan_ctx *s, ice_err *err)
{
	char *tc, *kc;

	if (s->stopped)
		return -1;
	if (!(tc = strndup(t, tl)) || !(kc = strndup(key, kl))) {
		free(tc);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	if (s->pattern && fnmatch(s->pattern, kc, 0) != 0) {
		free(tc);
		free(kc);
		return ICE_OK;
	}
	s->bt[s->n] = tc;
	s->bk[s->n++] = kc;
	return s->n == SCAN_BATCH ? flush_batch(r, s, err) : ICE_OK;
}

/* A key from SCAN MATCH P:{...}:e:...: find T, KEY by trying each "}:e:". */
static int entry_key(redis_be *r, const char *k, size_t n, void *ctx, ice_err *err)
{
	size_t lp = strlen(r->prefix), i;
	int rc = ICE_OK;

	if (n < lp + 6 || memchr(k, '\0', n) || memcmp(k + lp, ":{", 2) != 0)
		return ICE_OK;
	for (i = lp + 2; i + 4 <= n && rc == ICE_OK; i++)
		if (memcmp(k + i, "}:e:", 4) == 0)
			rc = queue_entry(r, k + lp + 2, i - lp - 2, k + i + 4, n - i - 4, ctx, err);
	return rc;
}

static int scan_tag_table(redis_be *r, const char *t, const char *tag, scan_ctx *s, ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	size_t i;
	int rc;

	cmd_add(&c, "SMEMBERS");
	cmd_addkey(&c, r, t, strlen(t), "t:", tag);
	if ((rc = run(r, &c, &rep, 0, err)))
		goto out;
	for (i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements && !rc && !s->stopped; i++) {
		redisReply *k = rep->element[i];
		if (k->type == REDIS_REPLY_STRING && !memchr(k->str, '\0', k->len))
			rc = queue_entry(r, t, strlen(t), k->str, k->len, s, err);
	}
	if (rc >= 0)
		rc = flush_batch(r, s, err);
	batch_free(s);
	if (rc < 0)
		rc = ICE_OK;
out:
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

static int scan_by_tag(redis_be *r, const char *tag, scan_ctx *s, ice_err *err)
{
	strlist tables = { 0 };
	const char *t;
	size_t i, tl;
	int rc = ICE_OK;

	if (ice_tag_table(tag, &t, &tl)) {
		if (strlist_add(&tables, t, tl) < 0)
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	} else if (s->table) {
		if (strlist_add(&tables, s->table, strlen(s->table)) < 0)
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	} else {
		rc = list_tables(r, &tables, err);
	}
	for (i = 0; i < tables.n && !rc && !s->stopped; i++)
		if (!s->table || strcmp(s->table, tables.v[i]) == 0)
			rc = scan_tag_table(r, tables.v[i], tag, s, err);
	strlist_free(&tables);
	return rc;
}

static int redis_scan(void *impl, const char *table, const char *tag, const char *pattern,
                      ice_backend_scan_cb cb, void *ctx, ice_err *err)
{
	redis_be *r = impl;
	scan_ctx s = { .table = table, .pattern = pattern, .cb = cb, .ctx = ctx };
	char *pre, *tail, *glob;
	size_t n;
	int rc;

	if (tag)
		return scan_by_tag(r, tag, &s, err);
	/* MATCH P:{T}:e:PATTERN with P and T escaped, the pattern as given. */
	n = strlen(pattern ? pattern : "*") + 8;
	tail = malloc(n);
	if (tail)
		snprintf(tail, n, "%s}:e:%s", table ? "" : "*", pattern ? pattern : "*");
	pre = glob_join("", r->prefix, ":{");
	glob = tail && pre ? glob_join(pre, table ? table : "", tail) : NULL;
	rc = glob ? scan_keys(r, glob, entry_key, &s, err) : ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (rc >= 0)
		rc = flush_batch(r, &s, err);
	batch_free(&s);
	free(tail);
	free(pre);
	free(glob);
	return rc;
}

/* ---- counters, cursors, gc ---- */

static int redis_counters(void *impl, const char *table, json_t **out, ice_err *err)
{
	const char *const *names = ice_backend_counter_names;
	redis_be *r = impl;
	redisReply *rep = NULL;
	cmd c = { 0 };
	size_t i;
	int rc;

	*out = NULL;
	cmd_add(&c, "HMGET");
	if (table) {
		cmd_addkey(&c, r, table, strlen(table), "stats", NULL);
	} else {
		cmd_addstats(&c, r);
	}
	for (i = 0; i < ICE_BACKEND_N_COUNTERS; i++)
		cmd_add(&c, names[i]);
	if ((rc = run(r, &c, &rep, 0, err)))
		goto out;
	if (!(*out = json_object())) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < ICE_BACKEND_N_COUNTERS; i++)
		json_object_set_new(*out, names[i],
		                    json_integer(rep->type == REDIS_REPLY_ARRAY && i < rep->elements
		                                     ? reply_num(rep->element[i]) : 0));
out:
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

static int redis_cursor_get(void *impl, const char *table, const char *name, json_t **value,
                            ice_err *err)
{
	redis_be *r = impl;
	redisReply *rep = NULL;
	json_error_t jerr;
	cmd c = { 0 };
	int rc;

	*value = NULL;
	if (!table)
		table = "_";
	cmd_add(&c, "GET");
	cmd_addkey(&c, r, table, strlen(table), "c:", name);
	if ((rc = run(r, &c, &rep, 0, err)))
		goto out;
	if (rep->type == REDIS_REPLY_NIL) {
		rc = ice_err_set(err, ICE_ENOENT, "%s: no cursor '%s'", table, name);
		goto out;
	}
	if (rep->type != REDIS_REPLY_STRING ||
	    !(*value = json_loadb(rep->str, rep->len, JSON_DECODE_ANY, &jerr)))
		rc = ice_err_set(err, ICE_EFORMAT, "%s: cursor '%s' is not JSON", table, name);
out:
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

static int redis_cursor_set(void *impl, const char *table, const char *name,
                            const json_t *value, ice_err *err)
{
	redis_be *r = impl;
	redisReply *rep = NULL;
	char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
	cmd c = { 0 };
	int rc;

	if (!table)
		table = "_";
	if (!text)
		return ice_err_set(err, ICE_EINVAL, "%s: cursor '%s': value not serializable", table, name);
	cmd_add(&c, "SET");
	cmd_addkey(&c, r, table, strlen(table), "c:", name);
	cmd_add(&c, text);
	rc = run(r, &c, &rep, 0, err);
	freeReplyObject(rep);
	cmd_free(&c);
	free(text);
	return rc;
}

static int redis_gc(void *impl, uint64_t *removed_refs, ice_err *err)
{
	redis_be *r = impl;
	redisReply *rep = NULL;
	strlist tables = { 0 };
	uint64_t total = 0, drained = 0;
	size_t i;
	int rc;

	/* Finish interrupted invalidations first: their entries go for good. */
	if ((rc = list_tables_by(r, "}:drain", &tables, err)))
		goto out;
	for (i = 0; i < tables.n && !rc; i++)
		rc = drain_table(r, tables.v[i], &drained, err);
	if (rc || (rc = list_tables(r, &tables, err)))
		goto out;
	for (i = 0; i < tables.n && !rc; i++) {
		cmd c = { 0 };
		eval_init(&c, r);
		cmd_add(&c, tables.v[i]);
		if (!(rc = eval(r, S_GC, &c, &rep, err)))
			total += (uint64_t)reply_num(rep);
		freeReplyObject(rep);
		rep = NULL;
		cmd_free(&c);
	}
out:
	if (removed_refs)
		*removed_refs = total;
	strlist_free(&tables);
	return rc;
}

/* ---- counters reset, tables in use ---- */

static int del_key(redis_be *r, const char *k, size_t n, void *ctx, ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	int rc;

	(void)ctx;
	cmd_add(&c, "DEL");
	cmd_addn(&c, k, n);
	rc = run(r, &c, &rep, 0, err);
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

static int redis_counters_reset(void *impl, const char *table, ice_err *err)
{
	redis_be *r = impl;
	char *glob = NULL;
	cmd c = { 0 };
	int rc;

	if (table) {
		cmd_addkey(&c, r, table, strlen(table), "stats", NULL);
	} else {
		cmd_addstats(&c, r);
		if (!(glob = glob_join("", r->prefix, ":{*}:stats")))
			c.oom = 1;
	}
	if (c.oom) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = del_key(r, c.v[0], c.l[0], NULL, err)) || !glob)
		goto out;
	rc = scan_keys(r, glob, del_key, NULL, err);
out:
	free(glob);
	cmd_free(&c);
	return rc;
}

/* A key P:{T}:stats, P:{T}:tags or P:{T}:c:NAME found by redis_tables: add T. */
typedef struct table_keys {
	strlist *tables;
	const char *mark; /* "}:stats", "}:tags" (at the end) or "}:c:" (first) */
} table_keys;

static int key_table(redis_be *r, const char *k, size_t n, void *ctx, ice_err *err)
{
	table_keys *tk = ctx;
	size_t lp = strlen(r->prefix), lm = strlen(tk->mark), end = 0, i;

	if (n < lp + 2 + lm || memcmp(k + lp, ":{", 2) != 0 || memchr(k, '\0', n))
		return ICE_OK;
	if (strcmp(tk->mark, "}:c:") != 0) {
		if (memcmp(k + n - lm, tk->mark, lm) == 0)
			end = n - lm;
	} else {
		for (i = lp + 2; i + lm <= n && !end; i++)
			if (memcmp(k + i, tk->mark, lm) == 0)
				end = i;
	}
	/* "}:" inside T: an entry or tag-set key whose KEY or TAG merely ends
	 * like one of the marks (table names never hold "}:"). */
	if (end <= lp + 2 || memmem(k + lp + 2, end - lp - 2, "}:", 2))
		return ICE_OK;
	if (strlist_add(tk->tables, k + lp + 2, end - lp - 2) < 0)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int redis_tables(void *impl, char ***tables, size_t *n, ice_err *err)
{
	static const char *const marks[][2] = {
		{ ":{*}:stats", "}:stats" }, { ":{*}:tags", "}:tags" }, { ":{*}:c:*", "}:c:" },
	};
	redis_be *r = impl;
	strlist found = { 0 };
	size_t i;
	int rc = ICE_OK;

	*tables = NULL;
	*n = 0;
	for (i = 0; i < sizeof marks / sizeof marks[0] && !rc; i++) {
		table_keys tk = { &found, marks[i][1] };
		char *glob = glob_join("", r->prefix, marks[i][0]);
		rc = glob ? scan_keys(r, glob, key_table, &tk, err) : ice_err_set(err, ICE_ENOMEM, "out of memory");
		free(glob);
	}
	if (rc) {
		strlist_free(&found);
		return rc;
	}
	if (found.n)
		qsort(found.v, found.n, sizeof *found.v, cmp_str);
	*tables = found.v;
	*n = found.n;
	return ICE_OK;
}

/* Add each integer member of add to the counter of that name (migrate). */
static int redis_counters_add(void *impl, const char *table, const json_t *add, ice_err *err)
{
	redis_be *r = impl;
	const char *name;
	json_t *v;
	int rc = ICE_OK;

	if (!json_is_object(add))
		return ice_err_set(err, ICE_EINVAL, "counters: not a JSON object");
	json_object_foreach((json_t *)add, name, v) {
		redisReply *rep = NULL;
		cmd c = { 0 };

		if (!json_is_integer(v) || json_integer_value(v) == 0)
			continue;
		cmd_add(&c, "HINCRBY");
		if (table)
			cmd_addkey(&c, r, table, strlen(table), "stats", NULL);
		else
			cmd_addstats(&c, r);
		cmd_add(&c, name);
		cmd_addf(&c, "%lld", (long long)json_integer_value(v));
		rc = run(r, &c, &rep, 0, err);
		freeReplyObject(rep);
		cmd_free(&c);
		if (rc)
			break;
	}
	return rc;
}

/* ---- locks ---- */

static int redis_lock(void *impl, const char *name, const char *token, int64_t ttl_ms,
                      ice_err *err)
{
	redis_be *r = impl;
	redisReply *rep = NULL;
	cmd c = { 0 };
	char *suffix = NULL;
	int rc;

	if (!name || !name[0] || !token || ttl_ms <= 0)
		return ice_err_set(err, ICE_EINVAL, "lock: empty name or token, or no time limit");
	if (asprintf(&suffix, "l:%s", name) < 0)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	cmd_add(&c, "SET");
	cmd_addglobal(&c, r, suffix);
	cmd_add(&c, token);
	cmd_add(&c, "NX");
	cmd_add(&c, "PX");
	cmd_addf(&c, "%lld", (long long)ttl_ms);
	if ((rc = run(r, &c, &rep, 0, err)))
		goto out;
	if (rep->type == REDIS_REPLY_NIL)
		rc = ice_err_set(err, ICE_EBUSY, "%s: lock held by another process", name);
out:
	freeReplyObject(rep);
	cmd_free(&c);
	free(suffix);
	return rc;
}

static int redis_unlock(void *impl, const char *name, const char *token, ice_err *err)
{
	redis_be *r = impl;
	redisReply *rep = NULL;
	cmd c = { 0 };
	int rc;

	eval_init(&c, r);
	cmd_add(&c, name);
	cmd_add(&c, token);
	rc = eval(r, S_UNLOCK, &c, &rep, err);
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

/* ---- server info ---- */

/* The value of "field:" in an INFO reply, or -1. */
static long long info_field(const char *info, const char *field)
{
	size_t n = strlen(field);
	const char *p = info;

	while ((p = strstr(p, field))) {
		if ((p == info || p[-1] == '\n') && p[n] == ':')
			return strtoll(p + n + 1, NULL, 10);
		p += n;
	}
	return -1;
}

static int redis_server_info(void *impl, json_t **out, ice_err *err)
{
	static const struct { const char *field, *name; } fields[] = {
		{ "used_memory", "used_bytes" }, { "maxmemory", "max_bytes" },
		{ "evicted_keys", "evicted" }, { "expired_keys", "expired" },
	};
	redis_be *r = impl;
	redisReply *rep = NULL;
	cmd c = { 0 };
	size_t i;
	int rc;

	*out = NULL;
	cmd_add(&c, "INFO");
	cmd_add(&c, "all");
	if ((rc = run(r, &c, &rep, 0, err)))
		goto out;
	if (rep->type != REDIS_REPLY_STRING) {
		rc = ice_err_set(err, ICE_EBACKEND, "%s: INFO: unexpected reply", r->where);
		goto out;
	}
	if (!(*out = json_pack("{s:s, s:s}", "backend", "redis", "location", r->where))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		long long v = info_field(rep->str, fields[i].field);
		if (v >= 0)
			json_object_set_new(*out, fields[i].name, json_integer(v));
	}
out:
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

/* ---- whole table ---- */

static int redis_invalidate_table(void *impl, const char *table, uint64_t *removed, ice_err *err)
{
	uint64_t total = 0;
	int rc;

	if (!table || !table[0])
		return ice_err_set(err, ICE_EINVAL, "invalidate_table: no table");
	rc = mark_and_drain(impl, table, NULL, 1, 1, 1, &total, err);
	if (removed)
		*removed = total;
	return rc;
}

static const ice_backend_ops redis_ops = {
	redis_close, redis_put, redis_get, redis_peek, redis_del, redis_invalidate, redis_invalidate_table,
	redis_scan, redis_counters, redis_cursor_get, redis_cursor_set, redis_gc,
	redis_lock, redis_unlock, redis_server_info, redis_counters_reset, redis_tables,
};

static const ice_backend_ext_ops redis_ext = {
	.restore = redis_restore, .counters_add = redis_counters_add,
};
