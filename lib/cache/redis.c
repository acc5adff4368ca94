/* redis: the Redis cache backend, one server or a Redis Cluster, keys as
 * in icecache-keys(7) (layout 2). */
#include "config.h"
#include "backend_int.h"
#include "ice_slot.h"
#include "ice_strset.h"
#include "ice_tag.h"
#include "ice_time.h"
#include "rlink.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- Lua scripts ---- */

/* The scripts are lib/cache/lua/NAME.lua, each a C string ice_lua_NAME
 * here, made at build time by scripts/lua-to-c. Layout 2: every key a
 * script touches is one of its KEYS and all of them share the slot of one
 * table ({T}); names the script cannot know (the sets of an entry's
 * stored tags) are read by the client first and passed in, and a script
 * that finds them changed answers so instead of touching other keys. The
 * index P:k:KEY, the locks and the layout key are separate one-key steps.
 * So the same scripts run on one server and on a cluster. */
#include "redis-lua.inc"

/* Redis 7 checks maxmemory for a script without flags only at its first
 * write that may grow memory, and then lets the rest through: a put whose
 * first write is a DEL would grow past maxmemory, and a get whose first
 * write is the hit counter would fail on a full cache. So every script
 * states its policy: a put is refused whole, before it runs, when memory
 * is full; reads and removals (which free memory) run regardless. The
 * policy is each script's first line: "#!lua" (put) or
 * "#!lua flags=allow-oom" (the others). */

/* Invalidation in three steps. Removing every entry of a big tag or table
 * in one script would block Redis for as long as it takes, and so would
 * marking a hundred thousand tags in one script, so:
 *   1. stage (calls of ICE_REDIS_STAGE_TAGS tags, a few ms each, invisible
 *      to readers): take g = INCR P:{T}:seq, then record the marks
 *      P:{T}:stage:g[TAG] = g (or [""] = g for the whole table) and the
 *      jobs "g\n=TAG" (or "g\n*") in P:{T}:jobs:g, for the tags whose set
 *      exists. The two keys expire if no publish comes (the invalidator
 *      died).
 *   2. publish (one O(1) script, atomic): rename them to P:{T}:dead and
 *      P:{T}:drain. From then on every read treats an entry as gone when
 *      one of its tags (or "") is marked with a g above the entry's own
 *      seq (put stamps it from the same counter), so no reader sees half
 *      an invalidation. The rename needs dead and drain gone: while an
 *      earlier invalidation of the table is not drained, the publisher
 *      drains it first; after ICE_REDIS_RETRIES such rounds (another
 *      invalidator keeps publishing) it merges, in time proportional to
 *      the tags.
 *   3. drain (rounds of about ICE_REDIS_DRAIN_BUDGET entries over up to
 *      ICE_REDIS_DRAIN_JOBS jobs): the client SSCANs each job's live set
 *      (or P:{T}:all) from its cursor, reads the members' seq and tags,
 *      and one script removes the entries older than their job's g with
 *      every reference (their keys declared) and moves the cursors. SSCAN
 *      returns every member present for the whole scan, and an entry put
 *      after g was taken has a higher seq, so when the cursor comes back
 *      to 0 no entry the mark covers is left: the job and its mark go. A
 *      set the script leaves empty ends its tag's job the same way, so an
 *      invalidator drains its coarse tags first (drain_own): their walks
 *      empty the one-member sets of the files and end those jobs unwalked.
 *      The removed entries' index keys go with the next round's script.
 * An interrupted drain is finished by the next invalidation of the table
 * or by gc; until then its entries read as misses. */

enum { S_PUT, S_GET, S_META, S_DROP, S_STAGE, S_PUBLISH, S_DRAIN, S_GC, S_UNINDEX, S_UNLOCK, S_UPGRADE, S_CURSOR, S_COUNT };

static const char *const script_src[S_COUNT] = {
	ice_lua_put, ice_lua_get, ice_lua_meta, ice_lua_drop, ice_lua_stage,
	ice_lua_publish, ice_lua_drain, ice_lua_gc, ice_lua_unindex, ice_lua_unlock, ice_lua_upgrade, ice_lua_cursor,
};

/* The layout this code writes and reads (icecache-keys(7)). */
#define ICE_REDIS_LAYOUT "2"

/* Calls repeated when a script answers that the keys it was given no
 * longer match (a concurrent writer): more means something is wrong. */
#define ICE_REDIS_RETRIES 16

/* The global counters are the sum of every table's P:{T}:gstats and of
 * these P:{s:N}:gstats (misses of keys with no index, invalidations that
 * found no table), N = slot of the key mod ICE_REDIS_SPREAD. */
#define ICE_REDIS_SPREAD 16

struct queued;

typedef struct redis_be {
	ice_rlink *link;
	char *prefix;
	int wait_replicas, wait_timeout_ms; /* as in ice_backend_opts */
	char sha[S_COUNT][41];
	int batch;          /* ICE_BATCH_BEGIN: puts wait in q until the commit */
	int batch_lost;     /* a commit inside the batch failed: its commit fails */
	struct queued *q;   /* owned, with everything in it */
	size_t nq, capq;
	ice_strset *qkeys;  /* the keys in q */
} redis_be;

/* ---- argument vectors (every argument copied, lengths explicit) ---- */

typedef struct cmd {
	char **v;
	size_t *l;
	size_t n, cap;
	int oom;
	int keyed; /* slot is set: that of its first key (or a master's) */
	int slot;
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

/* Append a key: routes c when it is its first. */
static void cmd_addkeyn(cmd *c, const char *k, size_t n)
{
	if (!c->keyed) {
		c->slot = ice_slot(k, n);
		c->keyed = 1;
	}
	cmd_addn(c, k, n);
}

/* Append the key P:{T}:SUFFIX[REST] (T has length tlen, REST rlen). */
static void cmd_addkey_n(cmd *c, const redis_be *r, const char *t, size_t tlen, const char *suffix,
                         const char *rest, size_t rlen)
{
	size_t lp = strlen(r->prefix), ls = strlen(suffix);
	char *k = malloc(lp + tlen + ls + rlen + 4);

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
	if (rlen)
		memcpy(k + lp + 4 + tlen + ls, rest, rlen);
	cmd_addkeyn(c, k, lp + tlen + ls + rlen + 4);
	free(k);
}

/* Append P:{T}:SUFFIX[REST] with T and REST NUL-terminated (REST may be NULL). */
static void cmd_addkey(cmd *c, const redis_be *r, const char *t, const char *suffix, const char *rest)
{
	cmd_addkey_n(c, r, t, strlen(t), suffix, rest, rest ? strlen(rest) : 0);
}

/* Append P:{T}:S for each S of the NULL-terminated list: a script's
 * fixed KEYS. */
static void cmd_addkeys(cmd *c, const redis_be *r, const char *t, const char *const *suffixes)
{
	for (; *suffixes; suffixes++)
		cmd_addkey(c, r, t, *suffixes, NULL);
}

/* Append P:SUFFIX[KEY] (a key outside every table: the index P:k:KEY, a
 * lock P:l:NAME, P:layout), KEY of length klen. */
static void cmd_addglobal(cmd *c, const redis_be *r, const char *suffix, const char *key, size_t klen)
{
	size_t lp = strlen(r->prefix), ls = strlen(suffix);
	char *k = malloc(lp + ls + klen + 2);

	if (!k) {
		c->oom = 1;
		return;
	}
	memcpy(k, r->prefix, lp);
	k[lp] = ':';
	memcpy(k + lp + 1, suffix, ls);
	if (klen)
		memcpy(k + lp + 1 + ls, key, klen);
	cmd_addkeyn(c, k, lp + ls + klen + 1);
	free(k);
}

/* Append P:{s:N}:gstats, the global counters N spreads over (N from key). */
static void cmd_addspread(cmd *c, const redis_be *r, const char *key)
{
	char t[16];

	snprintf(t, sizeof t, "s:%d", ice_slot(key, strlen(key)) % ICE_REDIS_SPREAD);
	cmd_addkey(c, r, t, "gstats", NULL);
}

/* ---- running commands (all through the link) ---- */

static ice_cluster_cmd as_link(const cmd *c)
{
	ice_cluster_cmd lc = { (int)c->n, (const char *const *)c->v, c->l, c->keyed ? c->slot : -1 };

	return lc;
}

/* Run c; *out a reply that is not an error (else ICE_EBACKEND). */
static int run(redis_be *r, cmd *c, redisReply **out, ice_err *err)
{
	ice_cluster_cmd lc = as_link(c);

	*out = NULL;
	if (c->oom)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ice_rlink_cmd(r->link, &lc, out, err);
}

/* Run c (the caller frees it); *v its integer reply (else ICE_EBACKEND,
 * naming what). */
static int run_integer(redis_be *r, cmd *c, const char *what, long long *v, ice_err *err)
{
	redisReply *rep = NULL;
	int rc = run(r, c, &rep, err);

	if (!rc && rep->type == REDIS_REPLY_INTEGER)
		*v = rep->integer;
	else if (!rc)
		rc = ice_err_set(err, ICE_EBACKEND, "%s: %s: unexpected reply", ice_rlink_where(r->link), what);
	freeReplyObject(rep);
	return rc;
}

/* Run n commands pipelined; out[i] their replies, errors included. */
static int run_many(redis_be *r, cmd *cs, size_t n, redisReply **out, ice_err *err)
{
	ice_cluster_cmd *lc;
	size_t i;
	int rc;

	memset(out, 0, n * sizeof *out);
	for (i = 0; i < n; i++)
		if (cs[i].oom)
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (!n)
		return ICE_OK;
	if (!(lc = malloc(n * sizeof *lc)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		lc[i] = as_link(&cs[i]);
	rc = ice_rlink_pipeline(r->link, lc, n, out, err);
	free(lc);
	return rc;
}

static void cmds_free(cmd *cs, redisReply **reps, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		cmd_free(&cs[i]);
		if (reps)
			freeReplyObject(reps[i]);
	}
	free(cs);
	free(reps);
}

/* Start an EVALSHA of script s: its keys come next, then eval_args. */
static void eval_init(cmd *c, const redis_be *r, int s)
{
	cmd_add(c, "EVALSHA");
	cmd_add(c, r->sha[s]);
	cmd_add(c, "0");
}

/* The keys are all added: set NUMKEYS; the ARGV come next. */
static void eval_args(cmd *c)
{
	char n[24];

	if (c->oom || c->n < 3)
		return;
	snprintf(n, sizeof n, "%zu", c->n - 3);
	free(c->v[2]);
	if (!(c->v[2] = strdup(n))) {
		c->oom = 1;
		return;
	}
	c->l[2] = strlen(n);
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
	if (!(m->table = ice_tags_table((const char *const *)m->tags, m->n_tags)) ||
	    ice_tags_table_list((const char *const *)m->tags, m->n_tags, &m->tables, &m->n_tables, NULL))
		goto oom;
	return ICE_OK;
oom:
	ice_entry_meta_clear(m);
	return ice_err_set(err, ICE_ENOMEM, "out of memory");
}

/* ---- open / close ---- */

static void queue_clear(redis_be *r);

static void redis_close(void *impl)
{
	redis_be *r = impl;

	if (!r)
		return;
	queue_clear(r); /* a batch never committed is dropped */
	free(r->q);
	ice_strset_free(r->qkeys);
	ice_rlink_close(r->link);
	free(r->prefix);
	free(r);
}

/* Whether any key under the prefix exists, on any master. */
static int any_key(redis_be *r, int *found, ice_err *err);

/* Read P:layout: "2" goes on; missing in an empty cache, it is written;
 * missing where keys exist (IceCache before layout 2 kept no version),
 * the cache is layout 1, upgraded in place on a single server (the
 * entries, tag sets, index and cursors of layout 1 are layout 2's; only
 * the global counters P:stats move; see icecache-keys(7)); anything else
 * is refused. */
static int check_layout(redis_be *r, ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	int rc, found = 0;

	cmd_add(&c, "GET");
	cmd_addglobal(&c, r, "layout", NULL, 0);
	if ((rc = run(r, &c, &rep, err)))
		goto out;
	if (rep->type == REDIS_REPLY_STRING && rep->len == 1 && rep->str[0] == ICE_REDIS_LAYOUT[0])
		goto out;
	if (rep->type == REDIS_REPLY_STRING) {
		rc = ice_err_set(err, ICE_EUNSUPPORTED,
		                 "%s: cache layout '%.*s' (prefix '%s') is not one this program knows "
		                 "(layouts 1 and 2): upgrade IceCache",
		                 ice_rlink_where(r->link), rep->len > 16 ? 16 : (int)rep->len, rep->str, r->prefix);
		goto out;
	}
	if ((rc = any_key(r, &found, err)))
		goto out;
	freeReplyObject(rep);
	rep = NULL;
	cmd_free(&c);
	if (found && ice_rlink_is_cluster(r->link)) {
		rc = ice_err_set(err, ICE_EUNSUPPORTED,
		                 "%s: keys under prefix '%s' but no layout version: not an IceCache layout 2 cache "
		                 "(copy a layout 1 cache with ice-cache migrate)",
		                 ice_rlink_where(r->link), r->prefix);
		goto out;
	}
	if (found) {
		/* layout 1 on one server: P:stats into P:{s:0}:gstats, then the version */
		eval_init(&c, r, S_UPGRADE);
		cmd_addglobal(&c, r, "layout", NULL, 0);
		cmd_addglobal(&c, r, "stats", NULL, 0);
		cmd_addkey(&c, r, "s:0", "gstats", NULL);
		eval_args(&c);
	} else {
		cmd_add(&c, "SET");
		cmd_addglobal(&c, r, "layout", NULL, 0);
		cmd_add(&c, ICE_REDIS_LAYOUT);
		cmd_add(&c, "NX");
	}
	rc = run(r, &c, &rep, err);
out:
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

static const ice_backend_ops redis_ops;
static const ice_backend_ext_ops redis_ext;

/* Open over u (one server) or cluster_url. */
static int open_any(const ice_backend_url *u, const char *cluster_url, const ice_backend_opts *o,
                    const ice_backend_ops **ops, const ice_backend_ext_ops **ext, void **impl,
                    ice_err *err)
{
	redis_be *r = calloc(1, sizeof *r);
	const char *prefix = o && o->prefix && o->prefix[0] ? o->prefix : "icecache";
	int rc, s;

	*impl = NULL;
	if (!r || !(r->prefix = strdup(prefix))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if (strpbrk(prefix, "{}")) {
		rc = ice_err_set(err, ICE_EINVAL, "cache prefix '%s': no '{' or '}' (they would put every key in one slot)", prefix);
		goto out;
	}
	r->wait_replicas = o ? o->wait_replicas : 0;
	r->wait_timeout_ms = o && o->wait_timeout_ms > 0 ? o->wait_timeout_ms : 5000;
	if ((rc = ice_rlink_open(u, cluster_url, o, &r->link, err)))
		goto out;
	for (s = 0; s < S_COUNT && !rc; s++)
		rc = ice_rlink_script(r->link, script_src[s], r->sha[s], err);
	if (rc || (rc = check_layout(r, err)))
		goto out;
	*ops = &redis_ops;
	*ext = &redis_ext;
	*impl = r;
	r = NULL;
out:
	redis_close(r);
	return rc;
}

int ice_redis_open(const ice_backend_url *u, const ice_backend_opts *o,
                   const ice_backend_ops **ops, const ice_backend_ext_ops **ext, void **impl,
                   ice_err *err)
{
	return open_any(u, NULL, o, ops, ext, impl, err);
}

int ice_redis_open_cluster(const char *url, const ice_backend_opts *o, const ice_backend_ops **ops,
                           const ice_backend_ext_ops **ext, void **impl, ice_err *err)
{
	return open_any(NULL, url, o, ops, ext, impl, err);
}

/* ---- lists of strings ---- */

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

/* Room for one more string in l: 0, or -1 when out of memory. */
static int strlist_room(strlist *l)
{
	char **v;
	size_t cap = l->cap ? l->cap * 2 : 16;

	if (l->n < l->cap)
		return 0;
	if (!(v = realloc(l->v, cap * sizeof *v)))
		return -1;
	l->v = v;
	l->cap = cap;
	return 0;
}

/* Append s, which l then owns (NULL: out of memory); its index or -1 when
 * out of memory (s freed). */
static long strlist_take(strlist *l, char *s)
{
	if (!s || strlist_room(l) < 0) {
		free(s);
		return -1;
	}
	l->v[l->n] = s;
	return (long)l->n++;
}

/* Append s, which stays the caller's (a list of such strings is freed by
 * freeing its vector alone); its index or -1 when out of memory. */
static long strlist_lend(strlist *l, const char *s)
{
	if (strlist_room(l) < 0)
		return -1;
	l->v[l->n] = (char *)s;
	return (long)l->n++;
}

/* Append a copy of s[0..n); returns its index or -1 when out of memory. */
static long strlist_push(strlist *l, const char *s, size_t n)
{
	return strlist_take(l, strndup(s, n));
}

/* Append a string formatted as printf; its index or -1 when out of memory. */
static long strlist_pushf(strlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static long strlist_pushf(strlist *l, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return strlist_take(l, n < 0 ? NULL : s);
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


/* Split s[0..len) at "\n" into l (empty parts skipped). */
static int split_tags(const char *s, size_t len, strlist *l)
{
	const char *nl;
	size_t tl;

	while (len) {
		nl = memchr(s, '\n', len);
		tl = nl ? (size_t)(nl - s) : len;
		if (tl && strlist_push(l, s, tl) < 0)
			return ICE_ENOMEM;
		s += tl + (nl ? 1 : 0);
		len -= tl + (nl ? 1 : 0);
	}
	return ICE_OK;
}

/* Whether tag belongs in the sets of table t: it names t or, with_free,
 * no table. An entry over several tables is in the sets of its home for
 * the home's tags and the free-form ones; its guard in each other table
 * in that table's sets for that table's tags (icecache-keys(7)). */
static int tag_in_table(const char *tag, const char *t, int with_free)
{
	const char *tb;
	size_t tl;

	if (!ice_tag_table(tag, &tb, &tl))
		return with_free;
	return strlen(t) == tl && memcmp(tb, t, tl) == 0;
}

/* split_tags keeping only the tags in the sets of table t (a stored
 * entry's or guard's tags). */
static int split_tags_of(const char *s, size_t len, const char *t, strlist *l)
{
	strlist all = { 0 };
	size_t i;
	int rc = split_tags(s, len, &all);

	for (i = 0; !rc && i < all.n; i++)
		if (tag_in_table(all.v[i], t, 1) && strlist_push(l, all.v[i], strlen(all.v[i])) < 0)
			rc = ICE_ENOMEM;
	strlist_free(&all);
	return rc;
}

/* SCAN every master for keys matching glob; calls fn for each key (fn
 * returns -1 to stop). */
typedef int (*key_fn)(redis_be *r, const char *k, size_t n, void *ctx, ice_err *err);

static int scan_master(redis_be *r, int slot, const char *glob, key_fn fn, void *ctx, int *stop,
                       ice_err *err)
{
	char cursor[32] = "0";
	redisReply *rep = NULL;
	cmd c = { 0 };
	size_t i;
	int rc = ICE_OK;

	do {
		cmd_add(&c, "SCAN");
		cmd_add(&c, cursor);
		cmd_add(&c, "MATCH");
		cmd_add(&c, glob);
		cmd_add(&c, "COUNT");
		cmd_add(&c, "1000");
		c.keyed = slot >= 0;
		c.slot = slot;
		if ((rc = run(r, &c, &rep, err)))
			break;
		cmd_free(&c);
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING || rep->element[0]->len >= sizeof cursor ||
		    rep->element[1]->type != REDIS_REPLY_ARRAY) {
			rc = ice_err_set(err, ICE_EBACKEND, "%s: SCAN: unexpected reply", ice_rlink_where(r->link));
			break;
		}
		memcpy(cursor, rep->element[0]->str, rep->element[0]->len);
		cursor[rep->element[0]->len] = '\0';
		for (i = 0; i < rep->element[1]->elements && !rc && !*stop; i++) {
			redisReply *k = rep->element[1]->element[i];
			rc = fn(r, k->str, k->len, ctx, err);
			if (rc < 0) {
				*stop = 1;
				rc = ICE_OK;
			}
		}
		freeReplyObject(rep);
		rep = NULL;
	} while (!rc && !*stop && strcmp(cursor, "0") != 0);
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

static int scan_keys(redis_be *r, const char *glob, key_fn fn, void *ctx, ice_err *err)
{
	int *slots = NULL, rc, stop = 0;
	size_t n = 0, i;

	if ((rc = ice_rlink_masters(r->link, &slots, &n, err)))
		return rc;
	for (i = 0; i < n && !rc && !stop; i++)
		rc = scan_master(r, slots[i], glob, fn, ctx, &stop, err);
	free(slots);
	return rc;
}

static int found_key(redis_be *r, const char *k, size_t n, void *ctx, ice_err *err)
{
	(void)r, (void)k, (void)n, (void)err;
	*(int *)ctx = 1;
	return -1;
}

static int any_key(redis_be *r, int *found, ice_err *err)
{
	char *glob = glob_join("", r->prefix, ":*");
	int rc;

	*found = 0;
	rc = glob ? scan_keys(r, glob, found_key, found, err) : ice_err_set(err, ICE_ENOMEM, "out of memory");
	free(glob);
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

/* Append the strings joined by "\n" as one argument. */
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

/* Replace *s (a copy) by the reply string rep (NULL when not a string). */
static int take_str(char **s, const redisReply *rep)
{
	free(*s);
	*s = NULL;
	if (rep && rep->type == REDIS_REPLY_STRING && !(*s = strndup(rep->str, rep->len)))
		return ICE_ENOMEM;
	return ICE_OK;
}

/* Field f of P:{T}:e:KEY, a copy (*out NULL: none). */
static int read_field(redis_be *r, const char *t, const char *key, const char *f, char **out,
                      ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	int rc;

	*out = NULL;
	cmd_add(&c, "HGET");
	cmd_addkey(&c, r, t, "e:", key);
	cmd_add(&c, f);
	if (!(rc = run(r, &c, &rep, err)) && take_str(out, rep))
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

/* Remove entry key of table t with every reference (script drop, its
 * tags read first). *code as drop.lua answers: 0 none, 1 live, 2 dead. */
static int drop_entry(redis_be *r, const char *t, const char *key, int *code, ice_err *err)
{
	redisReply *rep = NULL;
	char *tl = NULL;
	int rc = ICE_OK, tries;
	size_t i;

	*code = 0;
	rc = read_field(r, t, key, "tags", &tl, err);
	for (tries = 0; !rc && tl && tries < ICE_REDIS_RETRIES; tries++) {
		strlist tags = { 0 };
		cmd c = { 0 };

		if (split_tags_of(tl, strlen(tl), t, &tags))
			c.oom = 1;
		eval_init(&c, r, S_DROP);
		cmd_addkey(&c, r, t, "e:", key);
		cmd_addkeys(&c, r, t, (const char *const[]){ "all", "tags", "dead", NULL });
		for (i = 0; i < tags.n; i++)
			cmd_addkey(&c, r, t, "t:", tags.v[i]);
		eval_args(&c);
		cmd_add(&c, key);
		cmd_add(&c, tl);
		for (i = 0; i < tags.n; i++)
			cmd_add(&c, tags.v[i]);
		rc = run(r, &c, &rep, err);
		cmd_free(&c);
		strlist_free(&tags);
		if (!rc && (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2))
			rc = ice_err_set(err, ICE_EBACKEND, "%s: drop: unexpected reply", ice_rlink_where(r->link));
		if (!rc && (*code = (int)reply_num(rep->element[0])) >= 0) {
			freeReplyObject(rep);
			rep = NULL;
			break;
		}
		if (!rc && take_str(&tl, rep->element[1]))
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		freeReplyObject(rep);
		rep = NULL;
	}
	if (!rc && *code < 0)
		rc = ice_err_set(err, ICE_EBACKEND, "%s: drop %s: the entry keeps changing", ice_rlink_where(r->link), key);
	free(tl);
	return rc;
}

/* The put script of a in table t: KEYS and ARGV, old the stored entry's
 * tags as believed ("\n"-joined, "" for none). ver: the version of an
 * entry over several tables ("" for one table); home: for a guard, the
 * entry's home table (a->val, a->count are then ignored), else "". */
static void put_cmd(cmd *c, redis_be *r, const entry_args *a, const char *t, const char *old,
                    const char *ver, const char *home)
{
	int64_t now = ice_now_ms();
	strlist ol = { 0 }, nl = { 0 };
	int guard = *home != '\0';
	size_t i;

	if (split_tags_of(old, strlen(old), t, &ol))
		c->oom = 1;
	for (i = 0; i < a->n_tags; i++)
		if (tag_in_table(a->tags[i], t, !guard) && strlist_push(&nl, a->tags[i], strlen(a->tags[i])) < 0)
			c->oom = 1;
	eval_init(c, r, S_PUT);
	cmd_addkey(c, r, t, "e:", a->key);
	cmd_addkeys(c, r, t, (const char *const[]){ "seq", "all", "tags", "stats", "gstats", NULL });
	for (i = 0; i < nl.n; i++)
		cmd_addkey(c, r, t, "t:", nl.v[i]);
	for (i = 0; i < ol.n; i++)
		cmd_addkey(c, r, t, "t:", ol.v[i]);
	eval_args(c);
	cmd_add(c, a->key);
	cmd_addn(c, guard ? "" : a->val, guard ? 0 : a->len);
	cmd_addf(c, "%lld", (long long)(a->created_ms ? a->created_ms : now));
	cmd_addf(c, "%lld", a->ttl_ms ? (long long)(now + a->ttl_ms) : 0LL);
	cmd_addf(c, "%zu", guard ? (size_t)0 : a->len);
	cmd_addf(c, "%lld", (long long)a->ttl_ms);
	cmd_add(c, a->origin ? "1" : "0");
	cmd_add(c, a->origin ? a->origin : "");
	if (guard)
		cmd_addjoined(c, (const char *const *)nl.v, nl.n);
	else
		cmd_addjoined(c, a->tags, a->n_tags);
	cmd_addf(c, "%llu", guard ? 0ULL : (unsigned long long)a->hits);
	cmd_add(c, a->count && !guard ? "1" : "0");
	cmd_addf(c, "%zu", nl.n);
	cmd_add(c, old);
	cmd_add(c, ver);
	cmd_add(c, home);
	for (i = 0; i < nl.n; i++)
		cmd_add(c, nl.v[i]);
	for (i = 0; i < ol.n; i++)
		cmd_add(c, ol.v[i]);
	strlist_free(&ol);
	strlist_free(&nl);
}

/* SET P:k:KEY T, with the entry's TTL. */
static void index_cmd(cmd *c, redis_be *r, const char *key, const char *t, int64_t ttl_ms)
{
	cmd_add(c, "SET");
	cmd_addglobal(c, r, "k:", key, strlen(key));
	cmd_add(c, t);
	if (ttl_ms > 0) {
		cmd_add(c, "PX");
		cmd_addf(c, "%lld", (long long)ttl_ms);
	}
}

/* Write a in table t (the home entry, or with home set a guard), old
 * the stored tags as believed: the put script, repeated while the
 * stored tags change under it; with idx, the index SET P:k:KEY idx
 * pipelined with the first call (the entry is written before it). */
static int put_one(redis_be *r, const entry_args *a, const char *t, char **old, const char *ver,
                   const char *home, const char *idx, ice_err *err)
{
	cmd cs[2] = { { 0 } };
	redisReply *reps[2] = { NULL, NULL };
	int rc = ICE_OK, tries;
	size_t i;

	for (tries = 0; tries < ICE_REDIS_RETRIES; tries++) {
		size_t n = tries || !idx ? 1 : 2;

		for (i = 0; i < 2; i++) {
			cmd_free(&cs[i]);
			freeReplyObject(reps[i]);
			reps[i] = NULL;
		}
		put_cmd(&cs[0], r, a, t, *old ? *old : "", ver, home);
		if (idx)
			index_cmd(&cs[1], r, a->key, idx, a->ttl_ms);
		if ((rc = run_many(r, cs, n, reps, err)))
			goto out;
		for (i = 0; i < n; i++)
			if (reps[i]->type == REDIS_REPLY_ERROR) {
				rc = ice_err_set(err, ICE_EBACKEND, "%s: put %s: %.*s", ice_rlink_where(r->link), a->key,
				                 (int)reps[i]->len, reps[i]->str);
				goto out;
			}
		if (reps[0]->type != REDIS_REPLY_STRING)
			goto out; /* written */
		if (take_str(old, reps[0])) {
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = ice_err_set(err, ICE_EBACKEND, "%s: put %s: the entry keeps changing", ice_rlink_where(r->link), a->key);
out:
	for (i = 0; i < 2; i++) {
		cmd_free(&cs[i]);
		freeReplyObject(reps[i]);
	}
	return rc;
}

static int read_index(redis_be *r, const char *key, char **t, ice_err *err);

/* The n strings v joined by "\n" (the index's value); NULL: no memory. */
static char *join_lines(char *const *v, size_t n)
{
	size_t len = 1, i;
	char *s;

	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	if (!(s = calloc(len, 1)))
		return NULL;
	for (i = 0; i < n; i++) {
		if (i)
			strcat(s, "\n");
		strcat(s, v[i]);
	}
	return s;
}

/* Check a put's arguments; its tables (home first) and the index value
 * naming them, both the caller's to free (also after a failure). */
static int entry_tables(const entry_args *a, char ***tables, size_t *n, char **idx, ice_err *err)
{
	int rc;

	if (!a->key || a->ttl_ms < 0)
		return ice_err_set(err, ICE_EINVAL, "put: missing key or negative TTL");
	if ((rc = ice_tags_check(a->tags, a->n_tags, err)) ||
	    (rc = ice_tags_table_list(a->tags, a->n_tags, tables, n, err)))
		return rc;
	if (!(*idx = join_lines(*tables, *n)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}

/* Whether t is one of v[0..n) (an entry's tables). */
static int is_one_of(const char *t, char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n && strcmp(t, v[i]) != 0; i++)
		;
	return i < n;
}

/* A version no other put of an entry over several tables takes. */
static void new_ver(char *buf, size_t n)
{
	static unsigned counter;

	snprintf(buf, n, "%llx.%lx.%x", (long long)ice_now_ms(), (long)getpid(), ++counter);
}

/* A put (see "Writing" in icecache-keys(7)): read the index; remove the
 * entry or guard from each table the index names that the new tags do
 * not; write a guard in each table but the home (unreachable until the
 * index names it); then the home entry with the index written beside
 * it: until the entry is written, a reader that follows the new index
 * finds no entry or a version its guards do not hold, a miss. */
static int write_entry(redis_be *r, const entry_args *a, ice_err *err)
{
	char **tables = NULL, *idx = NULL, *old_idx = NULL, *old = NULL;
	size_t n_tables = 0, i;
	strlist olds = { 0 };
	char ver[64] = "";
	int rc, code;

	if ((rc = entry_tables(a, &tables, &n_tables, &idx, err)))
		goto out;
	if (n_tables > 1)
		new_ver(ver, sizeof ver);
	if ((rc = read_index(r, a->key, &old_idx, err)))
		goto out;
	if (old_idx && split_tags(old_idx, strlen(old_idx), &olds)) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < olds.n && !rc; i++)
		if (!is_one_of(olds.v[i], tables, n_tables))
			rc = drop_entry(r, olds.v[i], a->key, &code, err);
	for (i = n_tables; i-- > 0 && !rc;) {
		free(old);
		old = NULL;
		if (!(rc = read_field(r, tables[i], a->key, "tags", &old, err)))
			rc = put_one(r, a, tables[i], &old, ver, i ? tables[0] : "", i ? NULL : idx, err);
	}
out:
	ice_backend_strv_free(tables, n_tables);
	strlist_free(&olds);
	free(idx);
	free(old_idx);
	free(old);
	return rc;
}

/* Queue a put of an open batch (below). */
static int queue_put(redis_be *r, const entry_args *a, ice_err *err);

static int redis_put(void *impl, const char *key, const void *val, size_t len,
                     const char *const *tags, size_t n_tags, int64_t ttl_ms,
                     const char *origin, int64_t created_ms, ice_err *err)
{
	entry_args a = { .key = key, .origin = origin, .val = val, .len = len, .tags = tags,
	                 .n_tags = n_tags, .created_ms = created_ms, .ttl_ms = ttl_ms, .count = 1 };

	return ((redis_be *)impl)->batch ? queue_put(impl, &a, err) : write_entry(impl, &a, err);
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
	return ((redis_be *)impl)->batch ? queue_put(impl, &a, err) : write_entry(impl, &a, err);
}

/* ---- batches of puts (import, migrate) ----
 *
 * Inside a batch a put or restore is checked at once and queued; the
 * commit writes the queue with the steps of write_entry pipelined over
 * every queued entry: the index GETs, then the stored tags in each of
 * the entries' tables, then the guards of the entries over several
 * tables, then the home entries' put scripts with the index SETs: four
 * round trips for the lot instead of 1 + 2n per entry over n tables. An
 * entry moving out of a table it was in, and one whose stored tags
 * changed meanwhile, go on alone, as outside a batch. A key queued
 * twice commits the queue first, so the later put wins as it would; so
 * does a large value, then written alone. */

typedef struct queued {
	entry_args a;        /* pointing into the copies below */
	char *key, *origin, **tags, *idx;
	void *val;
	char **tables;       /* every table the tags name, home first */
	size_t n_tables;
	int64_t expires_ms;  /* absolute (0: none); the TTL is taken at the commit */
	char ver[64];        /* over several tables: its version; else "" */
} queued;

static void queued_free(queued *e)
{
	free(e->key);
	free(e->origin);
	free(e->val);
	free(e->idx);
	ice_backend_strv_free(e->tags, e->a.n_tags);
	ice_backend_strv_free(e->tables, e->n_tables);
}

static void queue_clear(redis_be *r)
{
	size_t i;

	for (i = 0; i < r->nq; i++)
		queued_free(&r->q[i]);
	r->nq = 0;
	ice_strset_free(r->qkeys);
	r->qkeys = NULL;
}

/* Copy a into e, checked as write_entry checks it. */
static int queued_fill(queued *e, const entry_args *a, ice_err *err)
{
	size_t i;
	int rc;

	if ((rc = entry_tables(a, &e->tables, &e->n_tables, &e->idx, err)))
		return rc;
	e->a = *a;
	e->expires_ms = a->ttl_ms ? ice_now_ms() + a->ttl_ms : 0;
	if (e->n_tables > 1)
		new_ver(e->ver, sizeof e->ver);
	if (!(e->key = strdup(a->key)) || (a->origin && !(e->origin = strdup(a->origin))) ||
	    !(e->val = malloc(a->len ? a->len : 1)) ||
	    (a->n_tags && !(e->tags = calloc(a->n_tags, sizeof *e->tags))))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (i = 0; i < a->n_tags; i++)
		if (!(e->tags[i] = strdup(a->tags[i])))
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
	memcpy(e->val, a->len ? a->val : "", a->len);
	e->a.key = e->key;
	e->a.origin = e->origin;
	e->a.val = e->val;
	e->a.tags = (const char *const *)e->tags;
	return ICE_OK;
}

static int flush_puts(redis_be *r, ice_err *err);

/* A value at least this large is not queued but written at once, after
 * the queue: a copy would double the memory it takes, for a round trip
 * or two saved. */
#define ICE_REDIS_QUEUE_MAX_VALUE (1u << 20)

static int queue_put(redis_be *r, const entry_args *a, ice_err *err)
{
	queued *e;
	int rc;

	if (a->len >= ICE_REDIS_QUEUE_MAX_VALUE ||
	    (a->key && r->qkeys && ice_strset_has(r->qkeys, a->key))) {
		if ((rc = flush_puts(r, err))) {
			r->batch_lost = 1; /* the puts queued before are not all written */
			return rc;
		}
		if (a->len >= ICE_REDIS_QUEUE_MAX_VALUE)
			return write_entry(r, a, err);
	}
	if (r->nq == r->capq) {
		size_t cap = r->capq ? r->capq * 2 : 64;
		if (!(e = realloc(r->q, cap * sizeof *e)))
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
		r->q = e;
		r->capq = cap;
	}
	e = memset(&r->q[r->nq], 0, sizeof *e);
	if ((rc = queued_fill(e, a, err))) {
		queued_free(e);
		return rc;
	}
	if ((!r->qkeys && !(r->qkeys = ice_strset_new())) || ice_strset_add(r->qkeys, e->key) < 0) {
		queued_free(e);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	r->nq++;
	return ICE_OK;
}

/* The indexes P:k:KEY of keys[0..n) in one pipeline: idx[i] what it
 * names, NULL none (idx zeroed; the caller frees its strings). */
static int read_indexes(redis_be *r, const char *const *keys, size_t n, char **idx, ice_err *err)
{
	cmd *cs = calloc(n ? n : 1, sizeof *cs);
	redisReply **reps = calloc(n ? n : 1, sizeof *reps);
	size_t i;
	int rc = ICE_OK;

	if (!cs || !reps) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		cmd_add(&cs[i], "GET");
		cmd_addglobal(&cs[i], r, "k:", keys[i], strlen(keys[i]));
	}
	if ((rc = run_many(r, cs, n, reps, err)))
		goto out;
	for (i = 0; i < n && !rc; i++)
		if (take_str(&idx[i], reps[i]))
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
out:
	cmds_free(cs, reps, cs ? n : 0);
	return rc;
}

/* Whether e goes in the pipelined steps: the index (old_idx, NULL none)
 * names no table e leaves. Moving out of a table means removing the
 * entry or guard there first, which write_entry does, alone. */
static int pipelined(const queued *e, const char *old_idx)
{
	strlist olds = { 0 };
	size_t i;
	int ok = 1;

	if (!old_idx)
		return 1;
	if (e->n_tables == 1)
		return strcmp(old_idx, e->tables[0]) == 0;
	if (split_tags(old_idx, strlen(old_idx), &olds))
		return 0; /* no memory to tell: the careful way */
	for (i = 0; i < olds.n && ok; i++)
		ok = is_one_of(olds.v[i], e->tables, e->n_tables);
	strlist_free(&olds);
	return ok;
}

/* The commands of one pipelined step of a commit, each for a place
 * (an entry in one of its tables, numbered as in flush). */
typedef struct step {
	cmd *cs;
	redisReply **reps;
	size_t *at, n;
} step;

static int step_init(step *st, size_t cap)
{
	cap = cap ? cap : 1;
	st->n = 0;
	st->cs = calloc(cap, sizeof *st->cs);
	st->reps = calloc(cap, sizeof *st->reps);
	st->at = calloc(cap, sizeof *st->at);
	return st->cs && st->reps && st->at ? 0 : -1;
}

static cmd *step_add(step *st, size_t at)
{
	st->at[st->n] = at;
	return &st->cs[st->n++];
}

static int step_run(redis_be *r, step *st, ice_err *err)
{
	return st->n ? run_many(r, st->cs, st->n, st->reps, err) : ICE_OK;
}

static void step_free(step *st)
{
	cmds_free(st->cs, st->reps, st->cs ? st->n : 0);
	free(st->at);
	*st = (step){ 0 };
}

/* A commit of the queue: entry i's place in table j is off[i] + j. */
typedef struct flush {
	char **idx;    /* [entry] the index as read (NULL none) */
	char **old;    /* [place] the stored tags as read (NULL none) */
	size_t *off;   /* [entry] its first place; off[nq] the places */
	int *go;       /* [entry] 1 pipelined, 0 alone, -1 its time ran out */
} flush;

static int put_failed(redis_be *r, const queued *e, const redisReply *bad, ice_err *err)
{
	return ice_err_set(err, ICE_EBACKEND, "%s: put %s: %.*s", ice_rlink_where(r->link), e->key,
	                   (int)bad->len, bad->str);
}

/* Steps one and two: every queued entry's index, then for the pipelined
 * ones the stored tags in each of their tables. */
static int read_queued(redis_be *r, flush *f, ice_err *err)
{
	size_t n = r->nq, i, j, k;
	const char **keys = calloc(n ? n : 1, sizeof *keys);
	step st = { 0 };
	int rc = ICE_OK;

	if (!keys || step_init(&st, f->off[n])) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		keys[i] = r->q[i].key;
	if ((rc = read_indexes(r, keys, n, f->idx, err)))
		goto out;
	for (i = 0; i < n; i++) {
		if (!(f->go[i] = pipelined(&r->q[i], f->idx[i])))
			continue;
		for (j = 0; j < r->q[i].n_tables; j++) {
			cmd *c = step_add(&st, f->off[i] + j);
			cmd_add(c, "HGET");
			cmd_addkey(c, r, r->q[i].tables[j], "e:", r->q[i].key);
			cmd_add(c, "tags");
		}
	}
	if ((rc = step_run(r, &st, err)))
		goto out;
	for (k = 0; k < st.n && !rc; k++)
		if (take_str(&f->old[st.at[k]], st.reps[k]))
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
out:
	free(keys);
	step_free(&st);
	return rc;
}

/* Step three: the guards of the pipelined entries over several tables,
 * in one pipeline, before any home entry (a guard is unreachable until
 * the index names it). One whose stored tags changed meanwhile is
 * written again alone. */
static int write_guards(redis_be *r, flush *f, ice_err *err)
{
	size_t i, j, k;
	step st = { 0 };
	int rc = ICE_OK;

	if (step_init(&st, f->off[r->nq]))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (i = 0; i < r->nq; i++)
		for (j = 1; f->go[i] == 1 && j < r->q[i].n_tables; j++)
			put_cmd(step_add(&st, f->off[i] + j), r, &r->q[i].a, r->q[i].tables[j],
			        f->old[f->off[i] + j] ? f->old[f->off[i] + j] : "", r->q[i].ver, r->q[i].tables[0]);
	if ((rc = step_run(r, &st, err)))
		goto out;
	for (k = 0, i = 0; k < st.n && !rc; k++) {
		size_t at = st.at[k];
		while (f->off[i + 1] <= at)
			i++;
		if (st.reps[k]->type == REDIS_REPLY_ERROR)
			rc = put_failed(r, &r->q[i], st.reps[k], err);
		else if (st.reps[k]->type == REDIS_REPLY_STRING)
			rc = take_str(&f->old[at], st.reps[k]) ? ice_err_set(err, ICE_ENOMEM, "out of memory")
			     : put_one(r, &r->q[i].a, r->q[i].tables[at - f->off[i]], &f->old[at], r->q[i].ver,
			               r->q[i].tables[0], NULL, err);
	}
out:
	step_free(&st);
	return rc;
}

/* Step four: the pipelined entries' home put scripts, each with its
 * index SET behind it; one whose stored tags changed meanwhile goes on
 * alone (its index is written). Then the others, alone. */
static int write_homes(redis_be *r, flush *f, ice_err *err)
{
	size_t i, k;
	step st = { 0 };
	int rc = ICE_OK;

	if (step_init(&st, 2 * r->nq))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (i = 0; i < r->nq; i++) {
		queued *e = &r->q[i];
		if (f->go[i] != 1)
			continue;
		put_cmd(step_add(&st, i), r, &e->a, e->tables[0], f->old[f->off[i]] ? f->old[f->off[i]] : "",
		        e->ver, "");
		index_cmd(step_add(&st, i), r, e->key, e->idx, e->a.ttl_ms);
	}
	if ((rc = step_run(r, &st, err)))
		goto out;
	for (k = 0; k + 1 < st.n && !rc; k += 2) {
		queued *e = &r->q[st.at[k]];
		char **old = &f->old[f->off[st.at[k]]];
		redisReply *put = st.reps[k], *set = st.reps[k + 1];
		if (put->type == REDIS_REPLY_ERROR || set->type == REDIS_REPLY_ERROR)
			rc = put_failed(r, e, put->type == REDIS_REPLY_ERROR ? put : set, err);
		else if (put->type == REDIS_REPLY_STRING)
			rc = take_str(old, put) ? ice_err_set(err, ICE_ENOMEM, "out of memory")
			                        : put_one(r, &e->a, e->tables[0], old, e->ver, "", NULL, err);
	}
	for (i = 0; i < r->nq && !rc; i++)
		if (f->go[i] == 0)
			rc = write_entry(r, &r->q[i].a, err);
out:
	step_free(&st);
	return rc;
}

/* The TTLs, taken now: an entry whose time ran out meanwhile is left. */
static void queued_ttls(redis_be *r, flush *f)
{
	int64_t now = ice_now_ms();
	size_t i;

	for (i = 0; i < r->nq; i++) {
		queued *e = &r->q[i];
		e->a.ttl_ms = e->expires_ms ? e->expires_ms - now : 0;
		if (e->expires_ms && e->a.ttl_ms <= 0)
			f->go[i] = -1;
	}
}

/* Write every queued entry, then empty the queue (also after a failure:
 * what a failed commit did not write is lost, as the batch contract
 * says; each entry is whole or not there). */
static int flush_puts(redis_be *r, ice_err *err)
{
	flush f = { 0 };
	size_t n = r->nq, i;
	int rc = ICE_OK;

	if (!n)
		goto out;
	if (!(f.idx = calloc(n, sizeof *f.idx)) || !(f.off = calloc(n + 1, sizeof *f.off)) ||
	    !(f.go = calloc(n, sizeof *f.go))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		f.off[i + 1] = f.off[i] + r->q[i].n_tables;
	if (!(f.old = calloc(f.off[n] ? f.off[n] : 1, sizeof *f.old))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if (!(rc = read_queued(r, &f, err))) {
		queued_ttls(r, &f);
		if (!(rc = write_guards(r, &f, err)))
			rc = write_homes(r, &f, err);
	}
out:
	if (f.idx)
		ice_backend_strv_free(f.idx, n);
	if (f.old)
		ice_backend_strv_free(f.old, f.off[n]);
	free(f.off);
	free(f.go);
	queue_clear(r);
	return rc;
}

static int redis_batch(void *impl, int op, ice_err *err)
{
	redis_be *r = impl;
	int rc;

	if (op == ICE_BATCH_BEGIN) {
		if (r->batch)
			return ice_err_set(err, ICE_EINVAL, "%s: a batch is already open", ice_rlink_where(r->link));
		r->batch = 1;
		r->batch_lost = 0;
		return ICE_OK;
	}
	if (!r->batch)
		return ice_err_set(err, ICE_EINVAL, "%s: no batch is open", ice_rlink_where(r->link));
	r->batch = 0;
	if (op != ICE_BATCH_COMMIT) {
		queue_clear(r);
		return ICE_OK;
	}
	rc = flush_puts(r, err);
	if (!rc && r->batch_lost)
		rc = ice_err_set(err, ICE_EBACKEND, "%s: an earlier failure lost some of the batch's writes",
		                 ice_rlink_where(r->link));
	return rc;
}

/* The table the index P:k:KEY names (*t NULL: none). */
static int read_index(redis_be *r, const char *key, char **t, ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	int rc;

	*t = NULL;
	cmd_add(&c, "GET");
	cmd_addglobal(&c, r, "k:", key, strlen(key));
	if (!(rc = run(r, &c, &rep, err)) && take_str(t, rep))
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

/* A miss of a key with no index, counted in the spread global counters. */
static int count_spread(redis_be *r, const char *key, const char *field, ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	int rc;

	cmd_add(&c, "HINCRBY");
	cmd_addspread(&c, r, key);
	cmd_add(&c, field);
	cmd_add(&c, "1");
	rc = run(r, &c, &rep, err);
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

static void meta_cmd(cmd *c, redis_be *r, const char *t, const char *key);

/* The version the guards of KEY in tables ts[1..n) hold, all live and
 * alike (one pipeline, a meta call per guard): copied into ver, or "!"
 * (no entry holds it) when one is missing, invalidated or of another
 * version or home. */
static int guards_ver(redis_be *r, const char *key, const strlist *ts, char *ver, size_t vn,
                      ice_err *err)
{
	cmd *cs = calloc(ts->n, sizeof *cs);
	redisReply **reps = calloc(ts->n, sizeof *reps);
	size_t i, n = ts->n - 1;
	int rc = ICE_OK;

	snprintf(ver, vn, "!");
	if (!cs || !reps) {
		free(cs);
		free(reps);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++)
		meta_cmd(&cs[i], r, ts->v[i + 1], key);
	if ((rc = run_many(r, cs, n, reps, err)))
		goto out;
	for (i = 0; i < n; i++) {
		const redisReply *g = reps[i];
		if (g->type != REDIS_REPLY_ARRAY || g->elements != 9 || g->element[7]->type != REDIS_REPLY_STRING ||
		    g->element[8]->type != REDIS_REPLY_STRING || strcmp(g->element[7]->str, ts->v[0]) != 0 ||
		    g->element[8]->len >= vn || (i && strcmp(g->element[8]->str, ver) != 0)) {
			snprintf(ver, vn, "!");
			goto out;
		}
		snprintf(ver, vn, "%s", g->element[8]->str);
	}
out:
	cmds_free(cs, reps, n);
	return rc;
}

/* The get script of KEY in its home table t: count "1" counts the hit,
 * ver the version the guards in other tables hold ("" for none). */
static void get_cmd(cmd *c, redis_be *r, const char *t, const char *key, int count, const char *ver)
{
	eval_init(c, r, S_GET);
	cmd_addkey(c, r, t, "e:", key);
	cmd_addkeys(c, r, t, (const char *const[]){ "dead", "stats", "gstats", NULL });
	eval_args(c);
	cmd_add(c, count ? "1" : "0");
	cmd_add(c, ver);
}

/* The get script's reply: ICE_OK (an entry: value, then its metadata),
 * ICE_ENOENT (none, or invalidated), else ICE_EBACKEND. */
static int get_reply(redis_be *r, const char *key, const redisReply *rep, ice_err *err)
{
	if (rep->type == REDIS_REPLY_NIL)
		return ice_err_set(err, ICE_ENOENT, "%s: no entry", key);
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 7 || rep->element[0]->type != REDIS_REPLY_STRING)
		return ice_err_set(err, ICE_EBACKEND, "%s: get %s: %s", ice_rlink_where(r->link), key,
		                   rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
	return ICE_OK;
}

/* get (count set: counts the hit or miss) and peek (counts nothing): the
 * index, then the entry in its home table: two single-slot steps; for an
 * entry over several tables, the guards in the others (a pipeline) before
 * the home, which must hold their version. */
static int fetch_entry(redis_be *r, int count, const char *key, void **val, size_t *len,
                       ice_entry_meta *meta, ice_err *err)
{
	redisReply *rep = NULL;
	strlist ts = { 0 };
	char ver[64] = "";
	cmd c = { 0 };
	char *t = NULL;
	int rc;

	*val = NULL;
	*len = 0;
	if (meta)
		memset(meta, 0, sizeof *meta);
	if ((rc = read_index(r, key, &t, err)))
		goto out;
	if (!t) {
		if (count && (rc = count_spread(r, key, "misses", err)))
			goto out;
		rc = ice_err_set(err, ICE_ENOENT, "%s: no entry", key);
		goto out;
	}
	if (split_tags(t, strlen(t), &ts) || !ts.n) {
		rc = ice_err_set(err, ts.n ? ICE_ENOMEM : ICE_ENOENT, ts.n ? "out of memory" : "%s: no entry", key);
		goto out;
	}
	if (ts.n > 1 && (rc = guards_ver(r, key, &ts, ver, sizeof ver, err)))
		goto out;
	get_cmd(&c, r, ts.v[0], key, count, ver);
	if ((rc = run(r, &c, &rep, err)) || (rc = get_reply(r, key, rep, err)))
		goto out;
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
	strlist_free(&ts);
	free(t);
	return rc;
}

static int redis_peek(void *impl, const char *key, void **val, size_t *len,
                      ice_entry_meta *meta, ice_err *err);

/* Hand one key's peek to cb: rep the get script's reply (an entry in one
 * table), or with idx naming several tables, fetch_entry's own steps. */
static int peek_one(redis_be *r, const char *key, const char *idx, const redisReply *rep,
                    ice_backend_peek_cb cb, void *ctx, int *stop, ice_err *err)
{
	ice_entry_meta m = { 0 };
	int rc;

	if (idx && strchr(idx, '\n'))
		return ice_backend_peek_to(redis_peek, r, key, cb, ctx, stop, err);
	rc = idx ? get_reply(r, key, rep, err) : ICE_ENOENT;
	if (rc == ICE_ENOENT) {
		ice_err_clear(err);
		*stop = cb(ctx, key, ICE_ENOENT, NULL, 0, NULL);
		return ICE_OK;
	}
	if (!rc && !(rc = fill_meta(&m, rep->element + 1, err)))
		*stop = cb(ctx, key, ICE_OK, rep->element[0]->str, rep->element[0]->len, &m);
	ice_entry_meta_clear(&m);
	return rc;
}

/* Peeks of n keys in two pipelines: their indexes, then the get script
 * of each entry in one table (an entry over several goes by fetch_entry,
 * its guards checked). */
static int redis_peek_many(void *impl, const char *const *keys, size_t n, ice_backend_peek_cb cb,
                           void *ctx, ice_err *err)
{
	redis_be *r = impl;
	cmd *cs = calloc(n ? n : 1, sizeof *cs);
	redisReply **reps = calloc(n ? n : 1, sizeof *reps);
	char **idx = calloc(n ? n : 1, sizeof *idx);
	size_t i;
	int rc = ICE_OK, stop = 0;

	if (!cs || !reps || !idx) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = read_indexes(r, keys, n, idx, err)))
		goto out;
	for (i = 0; i < n; i++) {
		if (idx[i] && *idx[i] && !strchr(idx[i], '\n'))
			get_cmd(&cs[i], r, idx[i], keys[i], 0, "");
		else
			cmd_add(&cs[i], "PING"); /* no entry, or one read alone */
	}
	rc = run_many(r, cs, n, reps, err);
	for (i = 0; i < n && !rc && !stop; i++)
		rc = peek_one(r, keys[i], idx[i] && *idx[i] ? idx[i] : NULL, reps[i], cb, ctx, &stop, err);
out:
	ice_backend_strv_free(idx, n);
	cmds_free(cs, reps, cs ? n : 0);
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

/* The unindex script of key for table t: P:k:KEY goes if it names t. */
static void unindex_cmd(cmd *c, redis_be *r, const char *key, size_t klen, const char *t)
{
	eval_init(c, r, S_UNINDEX);
	cmd_addglobal(c, r, "k:", key, klen);
	eval_args(c);
	cmd_add(c, t);
}

static int redis_del(void *impl, const char *const *keys, size_t n, uint64_t *removed, ice_err *err)
{
	redis_be *r = impl;
	redisReply *rep = NULL;
	char *t = NULL;
	size_t i;
	int rc = ICE_OK, code;

	if (removed)
		*removed = 0;
	for (i = 0; i < n && !rc; i++) {
		strlist ts = { 0 };
		size_t j;
		cmd c = { 0 };

		if ((rc = read_index(r, keys[i], &t, err)) || !t)
			continue;
		if (split_tags(t, strlen(t), &ts) || !ts.n)
			rc = ts.n ? ice_err_set(err, ICE_ENOMEM, "out of memory") : ICE_OK;
		/* the guards, then the entry (a reader then misses either way) */
		for (j = ts.n; j-- > 1 && !rc;)
			rc = drop_entry(r, ts.v[j], keys[i], &code, err);
		if (!rc && ts.n && !(rc = drop_entry(r, ts.v[0], keys[i], &code, err))) {
			if (code == 1 && removed)
				(*removed)++;
			unindex_cmd(&c, r, keys[i], strlen(keys[i]), ts.v[0]);
			rc = run(r, &c, &rep, err);
			freeReplyObject(rep);
			rep = NULL;
			cmd_free(&c);
		}
		strlist_free(&ts);
		free(t);
		t = NULL;
	}
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

/* The tags of an invalidation by table. The per-table lists point into
 * the caller's tags (a commit's may be 100k): they own only their vector. */
typedef struct group {
	strlist tables;
	strlist *tags;  /* per table: borrowed strings */
	int *explicit_; /* per table: named by a table-scoped tag */
} group;

static void group_free(group *g)
{
	size_t i;

	for (i = 0; i < g->tables.n; i++)
		free(g->tags[i].v);
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
	return strlist_lend(&g->tags[i], tag) < 0 ? ICE_ENOMEM : ICE_OK;
}

/* Whether table t can hold entries in this cache: on a cluster, not one
 * whose name begins with "}" (P:{}...} is no hash tag, so its keys share
 * no slot and no put can write them: ice_tags_check refuses the name). */
static int can_hold(const redis_be *r, const char *t)
{
	return t[0] != '}' || !ice_rlink_is_cluster(r->link);
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
			if (can_hold(r, t) && group_add(g, t, tl, tags[i], 1))
				rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		} else {
			if (!loaded && (rc = list_tables(r, &all, err)))
				break;
			loaded = 1;
			for (j = 0; j < all.n && !rc; j++)
				if (can_hold(r, all.v[j]) && group_add(g, all.v[j], strlen(all.v[j]), tags[i], 0))
					rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		}
	}
	strlist_free(&all);
	return rc;
}

/* The calls that remove the index keys of the KEYs in ks (removed from
 * table t), each while it still names t: one script per key on a cluster
 * (each its own slot), one for all on a single server. */
static size_t unindex_calls(const redis_be *r, size_t n)
{
	return ice_rlink_is_cluster(r->link) ? n : (n ? 1 : 0);
}

/* Build those calls into cs[0..unindex_calls). */
static void unindex_cmds(cmd *cs, redis_be *r, const strlist *ks, const char *t)
{
	size_t i, nc = unindex_calls(r, ks->n);

	for (i = 0; i < nc; i++)
		eval_init(&cs[i], r, S_UNINDEX);
	for (i = 0; i < ks->n; i++)
		cmd_addglobal(&cs[nc == ks->n ? i : 0], r, "k:", ks->v[i], strlen(ks->v[i]));
	for (i = 0; i < nc; i++) {
		eval_args(&cs[i]);
		cmd_add(&cs[i], t);
	}
}

/* Run them, after the command head when there is one (moved: head is
 * left empty), in one pipeline; *head_rep the head's reply, an error reply
 * an error. */
static int run_unindexing(redis_be *r, cmd *head, const strlist *ks, const char *t,
                          redisReply **head_rep, ice_err *err)
{
	size_t h = head ? 1 : 0, nc = unindex_calls(r, ks->n);
	cmd *cs = calloc(h + nc + 1, sizeof *cs);
	redisReply **reps = calloc(h + nc + 1, sizeof *reps);
	int rc;

	if (!cs || !reps) {
		free(cs);
		free(reps);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	if (head) {
		cs[0] = *head;
		memset(head, 0, sizeof *head);
	}
	unindex_cmds(cs + h, r, ks, t);
	rc = run_many(r, cs, h + nc, reps, err);
	if (!rc && head && reps[0]->type == REDIS_REPLY_ERROR)
		rc = ice_err_set(err, ICE_EBACKEND, "%s: %s: %s", ice_rlink_where(r->link), cs[0].v[0], reps[0]->str);
	else if (!rc && head) {
		*head_rep = reps[0];
		reps[0] = NULL;
	}
	cmds_free(cs, reps, h + nc);
	return rc;
}

static int unindex_many(redis_be *r, const strlist *ks, const char *t, ice_err *err)
{
	return run_unindexing(r, NULL, ks, t, NULL, err);
}

/* The index keys a drain has still to remove, those of the entries its
 * last round removed: they go out with the next round's drain script, in
 * its pipeline, so on a cluster the masters holding them remove them
 * while the table's master drains (until then a reader finds the index
 * and no entry: a miss). Run by the caller when the drain ends. */
static int unindex_pending(redis_be *r, strlist *pending, const char *t, ice_err *err)
{
	int rc = pending->n ? unindex_many(r, pending, t, err) : ICE_OK;

	strlist_free(pending);
	return rc;
}

/* Jobs drained per round, and the set members a round looks at (the
 * SSCAN COUNT of each job is its share, at least 4): about 5 ms of Redis
 * per drain script on an idle machine (bench/run measurement 4). */
#define ICE_REDIS_DRAIN_JOBS 64
#define ICE_REDIS_DRAIN_BUDGET 256

/* A drain job, "G\n=TAG" or "G\n*" (borrowed bytes). */
typedef struct job {
	const char *s;
	size_t n;
} job;

/* Whether rep is a job ("G\n=TAG" or "G\n*") this code wrote. */
static int job_ok(const redisReply *rep)
{
	const char *nl = rep->type == REDIS_REPLY_STRING ? memchr(rep->str, '\n', rep->len) : NULL;

	return nl && nl + 1 < rep->str + rep->len && (nl[1] == '*' || nl[1] == '=');
}

/* Append the key of job j's set: P:{T}:all or P:{T}:t:TAG. */
static void cmd_addjobset(cmd *c, const redis_be *r, const char *t, const job *j)
{
	const char *nl = memchr(j->s, '\n', j->n);

	if (nl[1] == '*')
		cmd_addkey(c, r, t, "all", NULL);
	else
		cmd_addkey_n(c, r, t, strlen(t), "t:", nl + 2, j->n - (size_t)(nl + 2 - j->s));
}

/* Run n commands pipelined; ICE_EBACKEND unless every reply is of type
 * want (or NIL when nil_ok). */
static int run_many_typed(redis_be *r, cmd *cs, size_t n, redisReply **reps, int want, ice_err *err)
{
	size_t i;
	int rc = run_many(r, cs, n, reps, err);

	for (i = 0; !rc && i < n; i++)
		if (reps[i]->type != want)
			rc = ice_err_set(err, ICE_EBACKEND, "%s: %s: %s", ice_rlink_where(r->link), cs[i].v[0],
			                 reps[i]->type == REDIS_REPLY_ERROR ? reps[i]->str : "unexpected reply");
	return rc;
}

static int is_str(const redisReply *e);

/* A guard of KEY k went (listed among the removed KEYs of the drain
 * reply res; f its home and ver as read): remove its home entry when it
 * still holds that version (a newer put keeps its entry) and the index
 * naming it. A second single-slot step: interrupted, the entry is left
 * without its guard, a miss, until gc or its TTL. */
static int drop_home(redis_be *r, const redisReply *k, const redisReply *f, const redisReply *res,
                     ice_err *err)
{
	char *home = NULL, *key = NULL, *ver = NULL;
	int rc = ICE_OK, code;
	size_t i;

	for (i = 2; i < res->elements; i++)
		if (res->element[i]->len == k->len && memcmp(res->element[i]->str, k->str, k->len) == 0)
			break;
	if (i == res->elements)
		return ICE_OK; /* kept (written after the mark) */
	if (!(home = strndup(f->element[2]->str, f->element[2]->len)) || !(key = strndup(k->str, k->len))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = read_field(r, home, key, "ver", &ver, err)) || !ver || strlen(ver) != f->element[3]->len ||
	    memcmp(ver, f->element[3]->str, f->element[3]->len) != 0)
		goto out;
	if (!(rc = drop_entry(r, home, key, &code, err)) && code > 0) {
		strlist one = { 0 };
		if (strlist_push(&one, key, strlen(key)) < 0)
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		else
			rc = unindex_many(r, &one, home, err);
		strlist_free(&one);
	}
out:
	free(home);
	free(key);
	free(ver);
	return rc;
}

/* Run the drain script c (its reply in *res) and, in the same pipeline,
 * the removal of the index keys pending (an earlier round's). */
static int run_drain(redis_be *r, cmd *c, strlist *pending, const char *t, redisReply **res,
                     ice_err *err)
{
	int rc = run_unindexing(r, c, pending, t, res, err);

	strlist_free(pending);
	return rc;
}

/* One round of step 2 over nj jobs of table t: their cursors, a page of
 * each job's set (SSCAN), the members' seq and tags, then one drain
 * script removes the entries older than their job's mark and moves the
 * cursors. The removed entries' KEYs join pending (unindex_pending). */
static int drain_round(redis_be *r, const char *t, const job *jobs, size_t nj, strlist *pending,
                       uint64_t *removed, ice_err *err)
{
	cmd cur = { 0 }, c = { 0 }, a = { 0 };
	cmd *scans = calloc(nj, sizeof *scans), *gets = NULL;
	redisReply *curs = NULL, *res = NULL, **pages = calloc(nj, sizeof *pages), **metas = NULL;
	size_t i, j, k, m, nm = 0;
	int rc = ICE_OK;

	if (!scans || !pages) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	cmd_add(&cur, "HMGET");
	cmd_addkey(&cur, r, t, "cur", NULL);
	for (i = 0; i < nj; i++)
		cmd_addn(&cur, jobs[i].s, jobs[i].n);
	if ((rc = run(r, &cur, &curs, err)))
		goto out;
	for (i = 0; i < nj; i++) {
		redisReply *cv = curs->type == REDIS_REPLY_ARRAY && i < curs->elements ? curs->element[i] : NULL;
		cmd_add(&scans[i], "SSCAN");
		cmd_addjobset(&scans[i], r, t, &jobs[i]);
		if (cv && cv->type == REDIS_REPLY_STRING)
			cmd_addn(&scans[i], cv->str, cv->len);
		else
			cmd_add(&scans[i], "0");
		cmd_add(&scans[i], "COUNT");
		cmd_addf(&scans[i], "%zu", ICE_REDIS_DRAIN_BUDGET / nj > 4 ? ICE_REDIS_DRAIN_BUDGET / nj : 4);
	}
	if ((rc = run_many_typed(r, scans, nj, pages, REDIS_REPLY_ARRAY, err)))
		goto out;
	for (i = 0; i < nj; i++) {
		if (pages[i]->elements != 2 || pages[i]->element[0]->type != REDIS_REPLY_STRING ||
		    pages[i]->element[1]->type != REDIS_REPLY_ARRAY) {
			rc = ice_err_set(err, ICE_EBACKEND, "%s: SSCAN: unexpected reply", ice_rlink_where(r->link));
			goto out;
		}
		nm += pages[i]->element[1]->elements;
	}
	/* the members' seq and tags, one pipeline */
	gets = calloc(nm + 1, sizeof *gets);
	metas = calloc(nm + 1, sizeof *metas);
	if (!gets || !metas) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0, m = 0; i < nj; i++)
		for (j = 0; j < pages[i]->element[1]->elements; j++, m++) {
			redisReply *k0 = pages[i]->element[1]->element[j];
			cmd_add(&gets[m], "HMGET");
			cmd_addkey_n(&gets[m], r, t, strlen(t), "e:", k0->str, k0->len);
			cmd_add(&gets[m], "seq");
			cmd_add(&gets[m], "tags");
			cmd_add(&gets[m], "home");
			cmd_add(&gets[m], "ver");
		}
	if ((rc = run_many_typed(r, gets, nm, metas, REDIS_REPLY_ARRAY, err)))
		goto out;
	/* the drain script: KEYS in c, ARGV gathered in a */
	eval_init(&c, r, S_DRAIN);
	cmd_addkeys(&c, r, t, (const char *const[]){ "drain", "cur", "dead", "all", "tags", "stats", "gstats", NULL });
	cmd_addf(&a, "%zu", nj);
	for (i = 0, m = 0; i < nj; i++) {
		redisReply *members = pages[i]->element[1];
		long long g = strtoll(jobs[i].s, NULL, 10);
		size_t ncand_at;

		cmd_addjobset(&c, r, t, &jobs[i]);
		cmd_addn(&a, jobs[i].s, jobs[i].n);
		cmd_addn(&a, pages[i]->element[0]->str, pages[i]->element[0]->len);
		cmd_add(&a, "0");
		ncand_at = a.n - 1;
		for (j = 0, k = 0; j < members->elements; j++, m++) {
			redisReply *f = metas[m], *mk = members->element[j];
			strlist tl = { 0 };
			size_t x;
			int gone = f->elements != 4 || f->element[1]->type != REDIS_REPLY_STRING;

			if (!gone && reply_num(f->element[0]) >= g)
				continue; /* written after the mark: stays */
			cmd_addkey_n(&c, r, t, strlen(t), "e:", mk->str, mk->len);
			if (!gone && split_tags_of(f->element[1]->str, f->element[1]->len, t, &tl))
				c.oom = 1;
			for (x = 0; x < tl.n; x++)
				cmd_addkey(&c, r, t, "t:", tl.v[x]);
			cmd_addn(&a, mk->str, mk->len);
			cmd_addn(&a, gone ? "" : f->element[1]->str, gone ? 0 : f->element[1]->len);
			cmd_addf(&a, "%zu", tl.n);
			strlist_free(&tl);
			k++;
		}
		if (!a.oom) {
			free(a.v[ncand_at]);
			if (asprintf(&a.v[ncand_at], "%zu", k) < 0) {
				a.v[ncand_at] = NULL;
				a.oom = 1;
			} else {
				a.l[ncand_at] = strlen(a.v[ncand_at]);
			}
		}
	}
	eval_args(&c);
	for (i = 0; i < a.n && !a.oom; i++)
		cmd_addn(&c, a.v[i], a.l[i]);
	if (a.oom)
		c.oom = 1;
	if ((rc = run_drain(r, &c, pending, t, &res, err)))
		goto out;
	if (res->type != REDIS_REPLY_ARRAY || res->elements < 2) {
		rc = ice_err_set(err, ICE_EBACKEND, "%s: drain: unexpected reply", ice_rlink_where(r->link));
		goto out;
	}
	*removed += (uint64_t)reply_num(res->element[0]);
	for (i = 2; i < res->elements && !rc; i++)
		if (strlist_push(pending, res->element[i]->str, res->element[i]->len) < 0)
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	/* the home entries of the removed guards */
	for (i = 0, m = 0; i < nj && !rc; i++)
		for (j = 0; j < pages[i]->element[1]->elements && !rc; j++, m++)
			if (metas[m]->elements == 4 && is_str(metas[m]->element[2]) && is_str(metas[m]->element[3]))
				rc = drop_home(r, pages[i]->element[1]->element[j], metas[m], res, err);
out:
	if (scans)
		cmds_free(scans, pages, nj);
	else
		free(pages);
	if (gets)
		cmds_free(gets, metas, nm);
	else
		free(metas);
	freeReplyObject(curs);
	freeReplyObject(res);
	cmd_free(&cur);
	cmd_free(&c);
	cmd_free(&a);
	return rc;
}

/* The end of a drain whose result so far is rc: the index keys pending
 * go, also after a failure when they can (one that fails then is left to
 * their entries' TTL: each reads as a miss). */
static int drain_end(redis_be *r, const char *t, strlist *pending, int rc, ice_err *err)
{
	ice_err ignored = { 0 };

	if (rc) {
		unindex_pending(r, pending, t, &ignored);
		return rc;
	}
	return unindex_pending(r, pending, t, err);
}

/* Drain table t until no job is left (also finishes an earlier,
 * interrupted one, or one another invalidator queued meanwhile), in
 * rounds of up to ICE_REDIS_DRAIN_JOBS jobs. */
static int drain_table(redis_be *r, const char *t, uint64_t *removed, ice_err *err)
{
	redisReply *rep = NULL;
	job batch[ICE_REDIS_DRAIN_JOBS];
	strlist pending = { 0 };
	size_t i, nb, valid;
	int rc = ICE_OK;

	for (;;) {
		cmd c = { 0 };
		/* some jobs (SMEMBERS of 100k jobs would hold Redis too long) */
		cmd_add(&c, "SRANDMEMBER");
		cmd_addkey(&c, r, t, "drain", NULL);
		cmd_addf(&c, "%d", ICE_REDIS_DRAIN_JOBS);
		rc = run(r, &c, &rep, err);
		cmd_free(&c);
		if (rc || rep->type != REDIS_REPLY_ARRAY || rep->elements == 0)
			break;
		for (i = 0, nb = 0, valid = 0; i < rep->elements && !rc; i++) {
			if (job_ok(rep->element[i])) {
				batch[nb].s = rep->element[i]->str;
				batch[nb++].n = rep->element[i]->len;
				valid++;
			}
			if (nb == ICE_REDIS_DRAIN_JOBS || (nb && i + 1 == rep->elements)) {
				rc = drain_round(r, t, batch, nb, &pending, removed, err);
				nb = 0;
			}
		}
		freeReplyObject(rep);
		rep = NULL;
		if (rc || !valid)
			break; /* nothing this code can drain */
	}
	freeReplyObject(rep);
	return drain_end(r, t, &pending, rc, err);
}

/* The drain jobs generation g published for tags (whole: the table's one
 * job), the fine ones (files': their sets are usually small, and the
 * coarse walks mostly empty them first, which ends them without a walk)
 * or the others, appended to out. */
static int own_jobs(const strlist *tags, int whole, int fine, long long g, strlist *out)
{
	size_t i;

	if (whole)
		return fine || strlist_pushf(out, "%lld\n*", g) >= 0 ? ICE_OK : ICE_ENOMEM;
	for (i = 0; tags && i < tags->n; i++)
		if (ice_tag_is_file(tags->v[i]) == fine && strlist_pushf(out, "%lld\n=%s", g, tags->v[i]) < 0)
			return ICE_ENOMEM;
	return ICE_OK;
}

/* Jobs of an invalidation's own list looked up per round (SMISMEMBER),
 * the ones still queued filling the round: as many as a round takes while
 * jobs of the last round go on, more when none does (most of the files'
 * jobs have ended by then). */
#define ICE_REDIS_DRAIN_LOOKAHEAD 1024

/* Whether table t has no drain job queued at all (SCARD drain is 0). */
static int drain_idle(redis_be *r, const char *t, int *idle, ice_err *err)
{
	cmd c = { 0 };
	long long n = 0;
	int rc;

	cmd_add(&c, "SCARD");
	cmd_addkey(&c, r, t, "drain", NULL);
	rc = run_integer(r, &c, "SCARD", &n, err);
	cmd_free(&c);
	*idle = n == 0;
	return rc;
}

/* Drain the jobs of list l of table t in order, each round filled with
 * the first jobs still queued (those of the last round first, until their
 * walks end). Whenever no round is going on, an empty queue ends the list
 * at once: after the coarse walks have emptied the files' sets, ending
 * their jobs with them, that spares looking up each file's job. */
static int drain_list(redis_be *r, const char *t, const strlist *l, uint64_t *removed, ice_err *err)
{
	job active[ICE_REDIS_DRAIN_JOBS];
	job *cand = calloc(ICE_REDIS_DRAIN_JOBS + ICE_REDIS_DRAIN_LOOKAHEAD, sizeof *cand);
	strlist pending = { 0 };
	size_t na = 0, next = 0, nc, nb, i;
	redisReply *rep = NULL;
	int rc = ICE_OK;

	if (!cand)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	while (na > 0 || next < l->n) {
		cmd c = { 0 };
		size_t from = next, ahead = na ? ICE_REDIS_DRAIN_JOBS : ICE_REDIS_DRAIN_LOOKAHEAD;
		int idle = 0;

		if (na == 0 && ((rc = drain_idle(r, t, &idle, err)) || idle))
			break;

		for (nc = 0; nc < na; nc++)
			cand[nc] = active[nc];
		for (i = next; i < l->n && nc < na + ahead; i++, nc++)
			cand[nc] = (job){ l->v[i], strlen(l->v[i]) };
		cmd_add(&c, "SMISMEMBER");
		cmd_addkey(&c, r, t, "drain", NULL);
		for (i = 0; i < nc; i++)
			cmd_addn(&c, cand[i].s, cand[i].n);
		rc = run(r, &c, &rep, err);
		cmd_free(&c);
		if (rc)
			break;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != nc) {
			rc = ice_err_set(err, ICE_EBACKEND, "%s: SMISMEMBER: unexpected reply", ice_rlink_where(r->link));
			break;
		}
		/* the list moves past what was looked at, up to the last job
		 * taken when the round is full */
		for (i = 0, nb = 0; i < nc && nb < ICE_REDIS_DRAIN_JOBS; i++) {
			if (rep->element[i]->type == REDIS_REPLY_INTEGER && rep->element[i]->integer == 1)
				active[nb++] = cand[i];
			if (i >= na)
				next = from + (i - na) + 1;
		}
		freeReplyObject(rep);
		rep = NULL;
		na = nb;
		if (na > 0 && (rc = drain_round(r, t, active, na, &pending, removed, err)))
			break;
	}
	freeReplyObject(rep);
	free(cand);
	return drain_end(r, t, &pending, rc, err);
}

/* Step 3 for the jobs generation g of table t published for tags (whole:
 * the table): the coarse tags' jobs first (the table's, a partition's),
 * then the fine ones, most of which the coarse walks ended by emptying
 * their sets (drain.lua), so few rounds go to one-member sets. Jobs left
 * by other invalidations are drain_table's. */
static int drain_own(redis_be *r, const char *t, const strlist *tags, int whole, long long g,
                     uint64_t *removed, ice_err *err)
{
	strlist own = { 0 };
	int rc = ICE_OK, fine;

	for (fine = 0; fine < 2 && !rc; fine++) {
		if (own_jobs(tags, whole, fine, g, &own))
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		else
			rc = drain_list(r, t, &own, removed, err);
		strlist_free(&own);
	}
	return rc;
}

static long long info_field(const char *info, const char *field);

/* Replicas the mark of table t (its slot) must reach: wait_replicas, or
 * with 0 one when the slot's master has any (INFO replication). */
static int replicas_wanted(redis_be *r, int slot, int *n, ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	int rc;

	*n = r->wait_replicas > 0 ? r->wait_replicas : 0;
	if (r->wait_replicas != 0)
		return ICE_OK;
	cmd_add(&c, "INFO");
	cmd_add(&c, "replication");
	c.keyed = 1;
	c.slot = slot;
	if (!(rc = run(r, &c, &rep, err)) && rep->type == REDIS_REPLY_STRING)
		*n = info_field(rep->str, "connected_slaves") > 0 ? 1 : 0;
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

/* WAIT n replicas on the slot's connection: how many acknowledged. */
static int wait_replicas(redis_be *r, int slot, int n, long long *acked, ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	int rc;

	cmd_add(&c, "WAIT");
	cmd_addf(&c, "%d", n);
	cmd_addf(&c, "%d", r->wait_timeout_ms);
	c.keyed = 1;
	c.slot = slot;
	if (!(rc = run(r, &c, &rep, err)))
		*acked = reply_num(rep);
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

/* Marks staged per stage call: a few milliseconds of Redis each, on a
 * loaded machine too (bench/run measurement 4 reads SLOWLOG). */
#define ICE_REDIS_STAGE_TAGS 500

/* How long staged marks wait for their publish before Redis drops them:
 * only an invalidator that died between the two steps leaves them. */
#define ICE_REDIS_STAGE_TTL_MS 3600000

/* A generation's staged keys P:{T}:stage:G and P:{T}:jobs:G. */
static void cmd_addstaged(cmd *c, const redis_be *r, const char *t, long long g)
{
	char gs[24];

	snprintf(gs, sizeof gs, "%lld", g);
	cmd_addkey(c, r, t, "stage:", gs);
	cmd_addkey(c, r, t, "jobs:", gs);
}

/* The stage call of tags v[0..n) (whole: the table) under generation g. */
static void stage_cmd(cmd *c, const redis_be *r, const char *t, long long g, char *const *v, size_t n,
                      int whole)
{
	size_t j;

	eval_init(c, r, S_STAGE);
	cmd_addstaged(c, r, t, g);
	cmd_addkey(c, r, t, whole ? "all" : "tags", NULL);
	eval_args(c);
	cmd_addf(c, "%lld", g);
	cmd_addf(c, "%d", ICE_REDIS_STAGE_TTL_MS);
	cmd_add(c, whole ? "1" : "0");
	for (j = 0; !whole && j < n; j++)
		cmd_add(c, v[j]);
}

/* Stage calls per pipeline: the commands of a commit's marks are built a
 * window at a time, so memory stays bounded however many tags it has. */
#define ICE_REDIS_STAGE_WINDOW 16

/* Stage calls [from, to) of tags (whole: the table's one) under g,
 * pipelined; their marks written added to *staged. */
static int stage_window(redis_be *r, const char *t, const strlist *tags, int whole, long long g,
                        size_t from, size_t to, long long *staged, ice_err *err)
{
	size_t n = whole ? 1 : tags->n, nc = to - from, i;
	cmd cs[ICE_REDIS_STAGE_WINDOW] = { { 0 } };
	redisReply *reps[ICE_REDIS_STAGE_WINDOW] = { NULL };
	int rc;

	for (i = 0; i < nc; i++) {
		size_t first = (from + i) * ICE_REDIS_STAGE_TAGS;
		size_t k = n - first < ICE_REDIS_STAGE_TAGS ? n - first : ICE_REDIS_STAGE_TAGS;
		stage_cmd(&cs[i], r, t, g, whole ? NULL : tags->v + first, k, whole);
	}
	rc = run_many_typed(r, cs, nc, reps, REDIS_REPLY_INTEGER, err);
	for (i = 0; i < nc; i++) {
		if (!rc)
			*staged += reps[i]->integer;
		freeReplyObject(reps[i]);
		cmd_free(&cs[i]);
	}
	return rc;
}

/* Step 1 for table t: *g from P:{T}:seq, then the marks of the tags
 * (whole: of the table) staged in calls of ICE_REDIS_STAGE_TAGS tags,
 * pipelined a window at a time; *staged the number of marks written. */
static int stage(redis_be *r, const char *t, const strlist *tags, int whole, long long *g,
                 long long *staged, ice_err *err)
{
	size_t n = whole ? 1 : tags ? tags->n : 0, nc = (n + ICE_REDIS_STAGE_TAGS - 1) / ICE_REDIS_STAGE_TAGS, i;
	cmd inc = { 0 };
	int rc;

	*staged = 0;
	cmd_add(&inc, "INCR");
	cmd_addkey(&inc, r, t, "seq", NULL);
	rc = run_integer(r, &inc, "INCR", g, err);
	for (i = 0; !rc && i < nc; i += ICE_REDIS_STAGE_WINDOW)
		rc = stage_window(r, t, tags, whole, *g, i,
		                  nc - i < ICE_REDIS_STAGE_WINDOW ? nc : i + ICE_REDIS_STAGE_WINDOW, staged, err);
	cmd_free(&inc);
	return rc;
}

/* Step 2 for table t: publish generation g's staged marks (merge: even
 * over marks not yet drained). *res as publish.lua answers: 1 published,
 * 0 busy, -1 the staged marks are gone. */
static int publish(redis_be *r, const char *t, long long g, long long staged, int first, int expl,
                   int merge, long long *res, ice_err *err)
{
	cmd c = { 0 };
	int rc;

	eval_init(&c, r, S_PUBLISH);
	cmd_addkeys(&c, r, t, (const char *const[]){ "dead", "drain", NULL });
	cmd_addstaged(&c, r, t, g);
	cmd_addkeys(&c, r, t, (const char *const[]){ "stats", "gstats", NULL });
	eval_args(&c);
	cmd_add(&c, first ? "1" : "0");
	cmd_add(&c, expl ? "1" : "0");
	cmd_addf(&c, "%lld", staged);
	cmd_add(&c, merge ? "1" : "0");
	rc = run_integer(r, &c, "publish", res, err);
	cmd_free(&c);
	return rc;
}

/* Steps 1 and 2 for table t. An earlier invalidation of t still being
 * drained is drained first (its entries count in *removed). *lost: the
 * staged marks were gone at the publish (a failover lost them, or they
 * expired): nothing was published, the caller stages again. */
static int mark(redis_be *r, const char *t, const strlist *tags, int first, int expl, int whole,
                long long *g, uint64_t *removed, int *lost, ice_err *err)
{
	long long staged = 0, res = 0;
	int rc, tries;

	*lost = 0;
	if ((rc = stage(r, t, tags, whole, g, &staged, err)))
		return rc;
	for (tries = 0; tries < ICE_REDIS_RETRIES; tries++) {
		int merge = tries + 1 == ICE_REDIS_RETRIES;
		if ((rc = publish(r, t, *g, staged, first, expl, merge, &res, err)) || res != 0)
			break;
		if ((rc = drain_table(r, t, removed, err)))
			break;
	}
	if (!rc && res < 0)
		*lost = 1;
	return rc;
}

/* Steps 1 and 2 (stage and publish the marks of the tags, whole: of
 * every entry of table t) and, when the master has replicas, WAIT until
 * enough of them hold the marks: from then on a failover cannot bring the
 * entries back (the drain that follows replicates after the publish, in
 * order). WAIT counts the writes of its own connection, so when the
 * slot's connection changed between the publish and the WAIT (a failover,
 * a reconnect), or the staged marks were lost before the publish, the
 * marks are staged and published again (marking twice is harmless). Then
 * step 3, drain. */
static int mark_and_drain(redis_be *r, const char *t, const strlist *tags, int first, int expl,
                          int whole, uint64_t *removed, ice_err *err)
{
	unsigned long long epoch;
	long long acked = 0, g = 0;
	int rc, slot = -1, want = 0, tries, lost = 0;

	{
		cmd k = { 0 };
		cmd_addkey(&k, r, t, "seq", NULL); /* any key of the table: its slot */
		slot = k.slot;
		cmd_free(&k);
	}
	/* first: it opens the connection to the slot's master if need be */
	if ((rc = replicas_wanted(r, slot, &want, err)))
		return rc;
	for (tries = 0; tries < ICE_REDIS_RETRIES; tries++) {
		epoch = ice_rlink_epoch(r->link, slot);
		if ((rc = mark(r, t, tags, first, expl, whole, &g, removed, &lost, err)))
			break;
		if (lost)
			continue;
		if (want == 0)
			break;
		if ((rc = wait_replicas(r, slot, want, &acked, err)))
			return rc;
		if (epoch == ice_rlink_epoch(r->link, slot))
			break;
	}
	if (rc)
		return rc;
	if (tries == ICE_REDIS_RETRIES)
		return ice_err_set(err, ICE_EBACKEND, "%s: invalidation of %s: the master keeps changing",
		                   ice_rlink_where(r->link), t);
	if (want > 0 && acked < want)
		return ice_err_set(err, ICE_EBACKEND,
		                   "%s: invalidation of %s acknowledged by %lld of %d replica(s) within %d ms: "
		                   "not done (a failover could bring its entries back)",
		                   ice_rlink_where(r->link), t, acked, want, r->wait_timeout_ms);
	if ((rc = drain_own(r, t, tags, whole, g, removed, err)))
		return rc;
	return drain_table(r, t, removed, err);
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
		rc = count_spread(r, n ? tags[0] : "", "invalidations", err);
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
	int guards; /* a scan of a table or tag: a guard stands for its entry */
	char *bt[SCAN_BATCH], *bk[SCAN_BATCH]; /* table and key of each waiting entry */
	size_t n;
} scan_ctx;

static int is_str(const redisReply *e)
{
	return e->type == REDIS_REPLY_STRING && e->len > 0;
}

/* The home entry of the guard KEY whose meta script replied g: its meta
 * script's reply (*home NULL when the entry is gone or of another
 * version). */
static int guard_home(redis_be *r, const char *key, const redisReply *g, redisReply **home, ice_err *err)
{
	char *t = strndup(g->element[7]->str, g->element[7]->len);
	cmd c = { 0 };
	int rc;

	*home = NULL;
	if (!t)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	meta_cmd(&c, r, t, key);
	rc = run(r, &c, home, err);
	if (!rc && ((*home)->type != REDIS_REPLY_ARRAY || (*home)->elements != 9 ||
	            !is_str((*home)->element[8]) || (*home)->element[8]->len != g->element[8]->len ||
	            memcmp((*home)->element[8]->str, g->element[8]->str, g->element[8]->len) != 0)) {
		freeReplyObject(*home);
		*home = NULL;
	}
	cmd_free(&c);
	free(t);
	return rc;
}

/* Give the entry P:{T}:e:KEY, whose meta script replied rep, to the
 * callback unless it is gone; returns -1 when the callback asks to stop.
 * A guard stands for its home entry in a scan of its table or of a tag,
 * and is skipped in a scan of everything (the home entry is found). */
static int deliver(redis_be *r, const char *t, const char *key, const redisReply *rep, scan_ctx *s,
                   ice_err *err)
{
	ice_entry_meta m = { 0 };
	redisReply *home = NULL;
	int rc = ICE_OK, guard;
	size_t i;

	if (s->stopped || rep->type != REDIS_REPLY_ARRAY || rep->elements != 9 ||
	    rep->element[0]->type == REDIS_REPLY_NIL)
		return ICE_OK; /* gone (expired, removed or invalidated meanwhile) */
	if ((guard = is_str(rep->element[7]))) {
		if (!s->guards || !is_str(rep->element[8]))
			return ICE_OK;
		if ((rc = guard_home(r, key, rep, &home, err)) || !home)
			return rc;
		rep = home;
	}
	if ((rc = fill_meta(&m, rep->element, err))) {
		freeReplyObject(home);
		return rc;
	}
	/* Not a key that only looks like an entry of T, and of the table asked. */
	for (i = 0; guard && i < m.n_tables && strcmp(m.tables[i], t) != 0; i++)
		;
	if ((guard ? i < m.n_tables : strcmp(m.table, t) == 0) && (!s->table || strcmp(s->table, t) == 0) &&
	    s->cb(s->ctx, key, &m)) {
		s->stopped = 1;
		rc = -1;
	}
	ice_entry_meta_clear(&m);
	freeReplyObject(home);
	return rc;
}

/* The meta script of entry KEY of table T. */
static void meta_cmd(cmd *c, redis_be *r, const char *t, const char *key)
{
	eval_init(c, r, S_META);
	cmd_addkey(c, r, t, "e:", key);
	cmd_addkey(c, r, t, "dead", NULL);
	eval_args(c);
}

static void batch_free(scan_ctx *s)
{
	for (; s->n > 0; s->n--) {
		free(s->bt[s->n - 1]);
		free(s->bk[s->n - 1]);
	}
}

/* Look up and deliver every waiting entry, one pipeline. */
static int flush_batch(redis_be *r, scan_ctx *s, ice_err *err)
{
	cmd *cs = calloc(s->n ? s->n : 1, sizeof *cs);
	redisReply **reps = calloc(s->n ? s->n : 1, sizeof *reps);
	size_t i;
	int rc = ICE_OK;

	if (!cs || !reps)
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (i = 0; !rc && i < s->n; i++)
		meta_cmd(&cs[i], r, s->bt[i], s->bk[i]);
	if (!rc)
		rc = run_many(r, cs, s->n, reps, err);
	for (i = 0; !rc && i < s->n; i++) {
		if (reps[i]->type == REDIS_REPLY_ERROR)
			rc = ice_err_set(err, ICE_EBACKEND, "%s: scan: %.*s", ice_rlink_where(r->link),
			                 (int)reps[i]->len, reps[i]->str);
		else
			rc = deliver(r, s->bt[i], s->bk[i], reps[i], s, err);
	}
	if (rc < 0)
		rc = ICE_OK; /* stopped: the other replies are dropped */
	if (cs)
		cmds_free(cs, reps, s->n);
	else
		free(reps);
	batch_free(s);
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
	cmd_addkey(&c, r, t, "t:", tag);
	if ((rc = run(r, &c, &rep, err)))
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
	scan_ctx s = { .table = table, .pattern = pattern, .cb = cb, .ctx = ctx, .guards = table || tag };
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

/* ---- counters ---- */

/* Whether k is P:{T}SUFFIX for a table T (no "}:" inside: an entry or
 * tag-set key whose KEY or TAG merely ends like SUFFIX is not). */
static int is_table_key(const redis_be *r, const char *k, size_t n, const char *suffix)
{
	size_t lp = strlen(r->prefix), ls = strlen(suffix);

	return n > lp + 2 + ls && memcmp(k, r->prefix, lp) == 0 && memcmp(k + lp, ":{", 2) == 0 &&
	       memcmp(k + n - ls, suffix, ls) == 0 && !memmem(k + lp + 2, n - lp - 2 - ls, "}:", 2) &&
	       !memchr(k, '\0', n);
}

/* HMGET the counters of hash k[0..n) and add them to sums. */
static int add_counters(redis_be *r, const char *k, size_t n, long long *sums, ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	size_t i;
	int rc;

	cmd_add(&c, "HMGET");
	cmd_addkeyn(&c, k, n);
	for (i = 0; i < ICE_BACKEND_N_COUNTERS; i++)
		cmd_add(&c, ice_backend_counter_names[i]);
	if (!(rc = run(r, &c, &rep, err)))
		for (i = 0; i < ICE_BACKEND_N_COUNTERS; i++)
			sums[i] += rep->type == REDIS_REPLY_ARRAY && i < rep->elements ? reply_num(rep->element[i]) : 0;
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

static int sum_gstats(redis_be *r, const char *k, size_t n, void *ctx, ice_err *err)
{
	return is_table_key(r, k, n, "}:gstats") ? add_counters(r, k, n, ctx, err) : ICE_OK;
}

/* A table's counters: P:{T}:stats; the global ones: the sum of every
 * P:{...}:gstats, on every master. */
static int redis_counters(void *impl, const char *table, json_t **out, ice_err *err)
{
	redis_be *r = impl;
	long long sums[ICE_BACKEND_N_COUNTERS] = { 0 };
	cmd c = { 0 };
	char *glob = NULL;
	size_t i;
	int rc;

	*out = NULL;
	if (table) {
		cmd_addkey(&c, r, table, "stats", NULL);
		rc = c.oom ? ice_err_set(err, ICE_ENOMEM, "out of memory") : add_counters(r, c.v[0], c.l[0], sums, err);
	} else {
		glob = glob_join("", r->prefix, ":{*}:gstats");
		rc = glob ? scan_keys(r, glob, sum_gstats, sums, err) : ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	if (!rc && !(*out = json_object()))
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (i = 0; !rc && i < ICE_BACKEND_N_COUNTERS; i++)
		json_object_set_new(*out, ice_backend_counter_names[i], json_integer(sums[i]));
	free(glob);
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
	cmd_addkey(&c, r, table, "c:", name);
	if ((rc = run(r, &c, &rep, err)))
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

/* Write a cursor: unconditionally (ordered false, SET) or only forward
 * from (seq, ts) (cursor.lua). *moved when it wrote. */
static int cursor_write(redis_be *r, const char *table, const char *name, const json_t *value,
                        bool ordered, int64_t seq, int64_t ts, bool *moved, ice_err *err)
{
	redisReply *rep = NULL;
	char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
	cmd c = { 0 };
	int rc;

	*moved = false;
	if (!table)
		table = "_";
	if (!text)
		return ice_err_set(err, ICE_EINVAL, "%s: cursor '%s': value not serializable", table, name);
	if (ordered) {
		eval_init(&c, r, S_CURSOR);
		cmd_addkey(&c, r, table, "c:", name);
		eval_args(&c);
		cmd_add(&c, text);
		cmd_addf(&c, "%lld", (long long)seq);
		cmd_addf(&c, "%lld", (long long)ts);
	} else {
		cmd_add(&c, "SET");
		cmd_addkey(&c, r, table, "c:", name);
		cmd_add(&c, text);
	}
	if (!(rc = run(r, &c, &rep, err))) {
		if (ordered && rep->type != REDIS_REPLY_INTEGER)
			rc = ice_err_set(err, ICE_EBACKEND, "%s: cursor: unexpected reply", ice_rlink_where(r->link));
		else
			*moved = !ordered || rep->integer == 1;
	}
	freeReplyObject(rep);
	cmd_free(&c);
	free(text);
	return rc;
}

static int redis_cursor_set(void *impl, const char *table, const char *name,
                            const json_t *value, ice_err *err)
{
	bool moved;

	return cursor_write(impl, table, name, value, false, 0, 0, &moved, err);
}

static int redis_cursor_advance(void *impl, const char *table, const char *name, const json_t *value,
                                int64_t seq, int64_t ts, bool *moved, ice_err *err)
{
	return cursor_write(impl, table, name, value, true, seq, ts, moved, err);
}

/* ---- gc ---- */

/* Remove the members of set P:{T}:t:TAG (tag "": P:{T}:all) whose entry
 * is gone, a page (SSCAN) at a time, each page one gc script call. */
static int gc_set(redis_be *r, const char *t, const char *tag, uint64_t *total, ice_err *err)
{
	char cursor[32] = "0";
	redisReply *rep = NULL, *res = NULL;
	int rc = ICE_OK;
	size_t i;

	do {
		redisReply *members;
		cmd c = { 0 };

		cmd_add(&c, "SSCAN");
		cmd_addkey(&c, r, t, tag[0] ? "t:" : "all", tag[0] ? tag : NULL);
		cmd_add(&c, cursor);
		cmd_add(&c, "COUNT");
		cmd_add(&c, "500");
		rc = run(r, &c, &rep, err);
		cmd_free(&c);
		if (rc)
			break;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 || rep->element[0]->len >= sizeof cursor) {
			rc = ice_err_set(err, ICE_EBACKEND, "%s: SSCAN: unexpected reply", ice_rlink_where(r->link));
			break;
		}
		memcpy(cursor, rep->element[0]->str, rep->element[0]->len);
		cursor[rep->element[0]->len] = '\0';
		members = rep->element[1];
		eval_init(&c, r, S_GC);
		cmd_addkey(&c, r, t, "tags", NULL);
		cmd_addkey(&c, r, t, tag[0] ? "t:" : "all", tag[0] ? tag : NULL);
		for (i = 0; i < members->elements; i++)
			cmd_addkey_n(&c, r, t, strlen(t), "e:", members->element[i]->str, members->element[i]->len);
		eval_args(&c);
		cmd_add(&c, tag);
		for (i = 0; i < members->elements; i++)
			cmd_addn(&c, members->element[i]->str, members->element[i]->len);
		if (!(rc = run(r, &c, &res, err)))
			*total += (uint64_t)reply_num(res);
		freeReplyObject(res);
		res = NULL;
		freeReplyObject(rep);
		rep = NULL;
		cmd_free(&c);
	} while (!rc && strcmp(cursor, "0") != 0);
	freeReplyObject(rep);
	return rc;
}

/* gc of table t: every tag set in P:{T}:tags, then P:{T}:all. */
static int gc_table(redis_be *r, const char *t, uint64_t *total, ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	size_t i;
	int rc;

	cmd_add(&c, "SMEMBERS");
	cmd_addkey(&c, r, t, "tags", NULL);
	rc = run(r, &c, &rep, err);
	for (i = 0; !rc && rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
		char *tag = rep->element[i]->len ? strndup(rep->element[i]->str, rep->element[i]->len) : NULL;
		if (tag)
			rc = gc_set(r, t, tag, total, err);
		free(tag);
	}
	if (!rc)
		rc = gc_set(r, t, "", total, err);
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

static int redis_gc(void *impl, uint64_t *removed_refs, ice_err *err)
{
	redis_be *r = impl;
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
	for (i = 0; i < tables.n && !rc; i++)
		rc = gc_table(r, tables.v[i], &total, err);
out:
	if (removed_refs)
		*removed_refs = total;
	strlist_free(&tables);
	return rc;
}

/* ---- counters reset, tables in use ---- */

typedef struct del_ctx {
	const char *suffix; /* delete only P:{T}SUFFIX keys */
} del_ctx;

static int del_key(redis_be *r, const char *k, size_t n, void *ctx, ice_err *err)
{
	redisReply *rep = NULL;
	cmd c = { 0 };
	int rc;

	if (ctx && !is_table_key(r, k, n, ((del_ctx *)ctx)->suffix))
		return ICE_OK;
	cmd_add(&c, "DEL");
	cmd_addkeyn(&c, k, n);
	rc = run(r, &c, &rep, err);
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

static int redis_counters_reset(void *impl, const char *table, ice_err *err)
{
	static const char *const kinds[][2] = { { ":{*}:stats", "}:stats" }, { ":{*}:gstats", "}:gstats" } };
	redis_be *r = impl;
	cmd c = { 0 };
	size_t i;
	int rc = ICE_OK;

	if (table) {
		cmd_addkey(&c, r, table, "stats", NULL);
		rc = c.oom ? ice_err_set(err, ICE_ENOMEM, "out of memory") : del_key(r, c.v[0], c.l[0], NULL, err);
		cmd_free(&c);
		return rc;
	}
	for (i = 0; i < 2 && !rc; i++) {
		del_ctx d = { kinds[i][1] };
		char *glob = glob_join("", r->prefix, kinds[i][0]);
		rc = glob ? scan_keys(r, glob, del_key, &d, err) : ice_err_set(err, ICE_ENOMEM, "out of memory");
		free(glob);
	}
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

/* Add each integer member of add to the counter of that name (migrate):
 * of table, or (NULL) the global ones, kept in P:{s:0}:gstats. */
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
		cmd_addkey(&c, r, table ? table : "s:0", table ? "stats" : "gstats", NULL);
		cmd_add(&c, name);
		cmd_addf(&c, "%lld", (long long)json_integer_value(v));
		rc = run(r, &c, &rep, err);
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
	int rc;

	if (!name || !name[0] || !token || ttl_ms <= 0)
		return ice_err_set(err, ICE_EINVAL, "lock: empty name or token, or no time limit");
	cmd_add(&c, "SET");
	cmd_addglobal(&c, r, "l:", name, strlen(name));
	cmd_add(&c, token);
	cmd_add(&c, "NX");
	cmd_add(&c, "PX");
	cmd_addf(&c, "%lld", (long long)ttl_ms);
	if ((rc = run(r, &c, &rep, err)))
		goto out;
	if (rep->type == REDIS_REPLY_NIL)
		rc = ice_err_set(err, ICE_EBUSY, "%s: lock held by another process", name);
out:
	freeReplyObject(rep);
	cmd_free(&c);
	return rc;
}

static int redis_unlock(void *impl, const char *name, const char *token, ice_err *err)
{
	redis_be *r = impl;
	redisReply *rep = NULL;
	cmd c = { 0 };
	int rc;

	eval_init(&c, r, S_UNLOCK);
	cmd_addglobal(&c, r, "l:", name, strlen(name));
	eval_args(&c);
	cmd_add(&c, token);
	rc = run(r, &c, &rep, err);
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

/* What INFO says, summed over every master. */
static int redis_server_info(void *impl, json_t **out, ice_err *err)
{
	static const struct { const char *field, *name; } fields[] = {
		{ "used_memory", "used_bytes" }, { "maxmemory", "max_bytes" },
		{ "evicted_keys", "evicted" }, { "expired_keys", "expired" },
	};
	enum { N_FIELDS = sizeof fields / sizeof fields[0] };
	redis_be *r = impl;
	redisReply *rep = NULL;
	long long sums[N_FIELDS] = { 0 };
	int seen[N_FIELDS] = { 0 };
	int *slots = NULL, rc;
	size_t i, m, n = 0;

	*out = NULL;
	if ((rc = ice_rlink_masters(r->link, &slots, &n, err)))
		return rc;
	for (m = 0; m < n && !rc; m++) {
		cmd c = { 0 };
		cmd_add(&c, "INFO");
		cmd_add(&c, "all");
		c.keyed = slots[m] >= 0;
		c.slot = slots[m];
		rc = run(r, &c, &rep, err);
		cmd_free(&c);
		if (!rc && rep->type != REDIS_REPLY_STRING)
			rc = ice_err_set(err, ICE_EBACKEND, "%s: INFO: unexpected reply", ice_rlink_where(r->link));
		for (i = 0; !rc && i < N_FIELDS; i++) {
			long long v = info_field(rep->str, fields[i].field);
			if (v >= 0) {
				sums[i] += v;
				seen[i] = 1;
			}
		}
		freeReplyObject(rep);
		rep = NULL;
	}
	free(slots);
	if (!rc && !(*out = json_pack("{s:s, s:s}", "backend", "redis", "location", ice_rlink_where(r->link))))
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (i = 0; !rc && i < N_FIELDS; i++)
		if (seen[i])
			json_object_set_new(*out, fields[i].name, json_integer(sums[i]));
	return rc;
}

/* ---- whole table ---- */

static int redis_invalidate_table(void *impl, const char *table, uint64_t *removed, ice_err *err)
{
	uint64_t total = 0;
	int rc;

	if (!table || !table[0])
		return ice_err_set(err, ICE_EINVAL, "invalidate_table: no table");
	rc = can_hold(impl, table) ? mark_and_drain(impl, table, NULL, 1, 1, 1, &total, err) : ICE_OK;
	if (removed)
		*removed = total;
	return rc;
}

static const ice_backend_ops redis_ops = {
	redis_close, redis_put, redis_get, redis_peek, redis_del, redis_invalidate, redis_invalidate_table,
	redis_scan, redis_counters, redis_cursor_get, redis_cursor_set, redis_cursor_advance, redis_gc,
	redis_lock, redis_unlock, redis_server_info, redis_counters_reset, redis_tables,
};

static const ice_backend_ext_ops redis_ext = {
	.restore = redis_restore, .counters_add = redis_counters_add, .batch = redis_batch,
	.peek_many = redis_peek_many,
};
