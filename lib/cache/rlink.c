/* rlink: one hiredis connection or a Redis Cluster client behind the same
 * calls (rlink.h): the Redis backend's only path to Redis. */
#include "config.h"
#include "rlink.h"
#include "ice_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

struct ice_rlink {
	ice_cluster *cl;       /* a cluster, or NULL */
	redisContext *ctx;     /* a single server */
	ice_backend_url url;   /* the single server's, kept to reconnect */
	char *where;
	int connect_ms, command_ms, reconnect_ms;
	int retryable;         /* set by run_once: a reconnect may cure it */
	unsigned long long connects; /* connections opened to the single server */
	struct { char sha[41]; char *src; } scripts[ICE_RLINK_SCRIPTS];
	size_t n_scripts;
};

static struct timeval tv_ms(int ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

/* ---- a single server ---- */

/* Whether rep is the error a server answers while loading its data. */
static int is_loading(const redisReply *rep)
{
	return rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "LOADING", 7) == 0;
}

/* Send c once; *out gets a non-error reply. An error reply is
 * ICE_EBACKEND, left in *out when keep is set (NOSCRIPT handling). Sets
 * l->retryable when a reconnect may cure the failure: a lost connection,
 * or a restarted server still loading its data. */
static int run_once(ice_rlink *l, const ice_cluster_cmd *c, redisReply **out, int keep, ice_err *err)
{
	redisReply *rep;

	*out = NULL;
	l->retryable = 0;
	if (!l->ctx || l->ctx->err) {
		l->retryable = 1;
		return ice_err_set(err, ICE_EBACKEND, "%s: not connected", l->where);
	}
	rep = redisCommandArgv(l->ctx, c->argc, (const char **)c->argv, c->lens);
	if (!rep) {
		/* A timed-out read leaves EAGAIN; either way the context is dead
		 * (the next call reconnects). A timeout is not retried: the
		 * command may still be running on a slow server. */
		int timeout = l->ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
		l->retryable = !timeout;
		return ice_err_set(err, timeout ? ICE_ETIMEOUT : ICE_EBACKEND, "%s: %s", l->where,
		                   timeout ? "command timed out" : l->ctx->errstr[0] ? l->ctx->errstr : "connection lost");
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		l->retryable = is_loading(rep);
		ice_err_set(err, ICE_EBACKEND, "%s: %.*s: %.*s", l->where, (int)c->lens[0], c->argv[0],
		            (int)rep->len, rep->str);
		if (keep && !l->retryable)
			*out = rep;
		else
			freeReplyObject(rep);
		return ICE_EBACKEND;
	}
	*out = rep;
	return ICE_OK;
}

/* AUTH, then SELECT (or PING) so that open fails early. */
static int handshake(ice_rlink *l, const ice_backend_url *u, ice_err *err)
{
	const char *argv[3];
	size_t lens[3];
	char db[16];
	ice_cluster_cmd c = { 0, argv, lens, -1 };
	redisReply *rep = NULL;
	int rc;

	if (u->password) {
		argv[c.argc++] = "AUTH";
		if (u->user)
			argv[c.argc++] = u->user;
		argv[c.argc++] = u->password;
		for (int i = 0; i < c.argc; i++)
			lens[i] = strlen(argv[i]);
		rc = run_once(l, &c, &rep, 1, err);
		if (rc == ICE_EBACKEND && rep)
			rc = ice_err_set(err, ICE_EBACKEND, "%s: authentication failed: %.*s", l->where,
			                 (int)rep->len, rep->str);
		freeReplyObject(rep);
		rep = NULL;
		if (rc)
			return rc;
	}
	snprintf(db, sizeof db, "%d", u->db);
	argv[0] = u->db ? "SELECT" : "PING"; /* PING catches a server that wants AUTH */
	argv[1] = db;
	c.argc = u->db ? 2 : 1;
	lens[0] = strlen(argv[0]);
	lens[1] = strlen(db);
	rc = run_once(l, &c, &rep, 0, err);
	freeReplyObject(rep);
	return rc;
}

static int connect_url(ice_rlink *l, ice_err *err)
{
	const ice_backend_url *u = &l->url;

	l->connects++;
	if (u->path)
		l->ctx = redisConnectUnixWithTimeout(u->path, tv_ms(l->connect_ms));
	else
		l->ctx = redisConnectWithTimeout(u->host, u->port, tv_ms(l->connect_ms));
	if (!l->ctx)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (l->ctx->err)
		return ice_err_set(err, ICE_EBACKEND, "cannot connect to %s: %s", l->where, l->ctx->errstr);
	if (redisSetTimeout(l->ctx, tv_ms(l->command_ms)) != REDIS_OK)
		return ice_err_set(err, ICE_EBACKEND, "%s: cannot set the command timeout", l->where);
	return handshake(l, u, err);
}

static int reconnect(ice_rlink *l, ice_err *err)
{
	if (l->ctx)
		redisFree(l->ctx);
	l->ctx = NULL;
	return connect_url(l, err);
}

/* Run c; when the connection was lost (Redis restarted, say), reconnect
 * with exponential backoff for up to reconnect_ms and run it again. */
static int run(ice_rlink *l, const ice_cluster_cmd *c, redisReply **out, int keep, ice_err *err)
{
	ice_err why = { 0 };
	int64_t deadline = 0;
	long delay = 25;
	int rc;

	for (;;) {
		rc = run_once(l, c, out, keep, why.code ? NULL : err);
		if (rc == ICE_OK || !l->retryable || l->reconnect_ms <= 0)
			return rc;
		if (!deadline)
			deadline = ice_now_ms() + l->reconnect_ms;
		if (ice_now_ms() >= deadline) {
			if (why.code && err)
				*err = why; /* the last reconnect says more than "not connected" */
			return ice_err_prefix(err, "gave up reconnecting after %d ms: ", l->reconnect_ms);
		}
		ice_sleep_ms(delay);
		delay = delay * 2 > 1000 ? 1000 : delay * 2;
		ice_err_clear(&why);
		if (reconnect(l, &why) == ICE_OK)
			delay = 25;
	}
}

/* SCRIPT LOAD of script i on the single server. */
static int load_script(ice_rlink *l, size_t i, ice_err *err)
{
	const char *argv[3] = { "SCRIPT", "LOAD", l->scripts[i].src };
	size_t lens[3] = { 6, 4, strlen(l->scripts[i].src) };
	ice_cluster_cmd c = { 3, argv, lens, -1 };
	redisReply *rep = NULL;
	int rc;

	if ((rc = run(l, &c, &rep, 0, err)))
		return rc;
	if (rep->type != REDIS_REPLY_STRING || rep->len != 40)
		rc = ice_err_set(err, ICE_EBACKEND, "%s: SCRIPT LOAD: unexpected reply", l->where);
	else if (l->scripts[i].sha[0] && memcmp(l->scripts[i].sha, rep->str, 40) != 0)
		rc = ice_err_set(err, ICE_EBACKEND, "%s: SCRIPT LOAD: another SHA-1", l->where);
	else
		memcpy(l->scripts[i].sha, rep->str, 40);
	l->scripts[i].sha[40] = '\0';
	freeReplyObject(rep);
	return rc;
}

/* Whether rep answers an EVALSHA with NOSCRIPT: then the index of the
 * script in *i. */
static int is_noscript(const ice_rlink *l, const ice_cluster_cmd *c, const redisReply *rep, size_t *i)
{
	if (!rep || rep->type != REDIS_REPLY_ERROR || strncmp(rep->str, "NOSCRIPT", 8) != 0 ||
	    c->argc < 2 || c->lens[1] != 40)
		return 0;
	for (*i = 0; *i < l->n_scripts; (*i)++)
		if (memcmp(l->scripts[*i].sha, c->argv[1], 40) == 0)
			return 1;
	return 0;
}

/* A command on the single server, NOSCRIPT handled. */
static int single_cmd(ice_rlink *l, const ice_cluster_cmd *c, redisReply **out, ice_err *err)
{
	size_t i;
	int rc = run(l, c, out, 1, err);

	if (rc == ICE_EBACKEND && is_noscript(l, c, *out, &i)) {
		freeReplyObject(*out);
		*out = NULL;
		if (!(rc = load_script(l, i, err)))
			rc = run(l, c, out, 0, err);
	} else if (rc && *out) {
		freeReplyObject(*out);
		*out = NULL;
	}
	return rc;
}

/* A pipeline on the single server; what it could not answer (a lost
 * connection, NOSCRIPT, LOADING) is sent again one by one. */
static int single_pipeline(ice_rlink *l, const ice_cluster_cmd *cmds, size_t n, redisReply **out,
                           ice_err *err)
{
	size_t i, sent = 0, j;
	int rc = ICE_OK;

	for (; l->ctx && !l->ctx->err && sent < n; sent++)
		if (redisAppendCommandArgv(l->ctx, cmds[sent].argc, (const char **)cmds[sent].argv,
		                           cmds[sent].lens) != REDIS_OK)
			break;
	for (i = 0; i < sent; i++)
		if (redisGetReply(l->ctx, (void **)&out[i]) != REDIS_OK)
			break;
	for (i = 0; i < n && !rc; i++) {
		/* a missing reply, NOSCRIPT, or LOADING (a restarted server
		 * reading its append-only file ran nothing): sent again alone,
		 * where run() reconnects and waits as for any command */
		if (out[i] && !is_noscript(l, &cmds[i], out[i], &j) && !is_loading(out[i]))
			continue;
		freeReplyObject(out[i]);
		out[i] = NULL;
		rc = run(l, &cmds[i], &out[i], 1, err);
		if (rc == ICE_EBACKEND && is_noscript(l, &cmds[i], out[i], &j)) {
			freeReplyObject(out[i]);
			out[i] = NULL;
			if (!(rc = load_script(l, j, err)))
				rc = run(l, &cmds[i], &out[i], 1, err);
		}
		if (rc == ICE_EBACKEND && out[i])
			rc = ICE_OK; /* an error reply: the caller's to look at */
	}
	if (rc)
		for (i = 0; i < n; i++) {
			freeReplyObject(out[i]);
			out[i] = NULL;
		}
	return rc;
}

/* ---- open, close ---- */

/* A copy of u that outlives the caller's (kept to reconnect). */
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

/* "redis+cluster://h:p,h:p" of the seeds, without user or password. */
static char *cluster_where(const char *url)
{
	ice_cluster_url cu = { 0 };
	size_t i, len = 32;
	char *w = NULL;

	if (ice_cluster_url_parse(url, &cu, NULL) == ICE_OK) {
		for (i = 0; i < cu.n; i++)
			len += strlen(cu.hosts[i]) + 16;
		if ((w = malloc(len))) {
			strcpy(w, "redis+cluster://");
			for (i = 0; i < cu.n; i++)
				snprintf(w + strlen(w), len - strlen(w), strchr(cu.hosts[i], ':') ? "%s[%s]:%d" : "%s%s:%d",
				         i ? "," : "", cu.hosts[i], cu.ports[i]);
		}
	}
	ice_cluster_url_clear(&cu);
	return w;
}

void ice_rlink_close(ice_rlink *l)
{
	size_t i;

	if (!l)
		return;
	if (l->ctx)
		redisFree(l->ctx);
	ice_cluster_close(l->cl);
	if (l->url.password)
		memset(l->url.password, 0, strlen(l->url.password));
	ice_backend_url_clear(&l->url);
	for (i = 0; i < l->n_scripts; i++)
		free(l->scripts[i].src);
	free(l->where);
	free(l);
}

int ice_rlink_open(const ice_backend_url *u, const char *cluster_url, const ice_backend_opts *o,
                   ice_rlink **out, ice_err *err)
{
	ice_rlink *l = calloc(1, sizeof *l);
	int rc;

	*out = NULL;
	if (!l || !(l->where = cluster_url ? cluster_where(cluster_url) : where_of(u)) ||
	    (u && copy_url(&l->url, u))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	l->connect_ms = o && o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 2000;
	l->command_ms = o && o->command_timeout_ms > 0 ? o->command_timeout_ms : 5000;
	l->reconnect_ms = o && o->reconnect_ms != 0 ? (o->reconnect_ms > 0 ? o->reconnect_ms : 0) : 30000;
	if (cluster_url) {
		ice_cluster_opts co = { l->connect_ms, l->command_ms, l->reconnect_ms ? l->reconnect_ms : -1, 0 };
		rc = ice_cluster_open(cluster_url, &co, &l->cl, err);
	} else {
		/* An unreachable server at the start is reported at once: only
		 * a connection that worked is worth waiting for. */
		rc = connect_url(l, err);
	}
	if (rc)
		goto out;
	*out = l;
	l = NULL;
out:
	ice_rlink_close(l);
	return rc;
}

/* ---- calls ---- */

const char *ice_rlink_where(const ice_rlink *l)
{
	return l->where;
}

int ice_rlink_is_cluster(const ice_rlink *l)
{
	return l->cl != NULL;
}

int ice_rlink_cmd(ice_rlink *l, const ice_cluster_cmd *c, redisReply **out, ice_err *err)
{
	*out = NULL;
	return l->cl ? ice_cluster_command(l->cl, c, out, err) : single_cmd(l, c, out, err);
}

int ice_rlink_pipeline(ice_rlink *l, const ice_cluster_cmd *cmds, size_t n, redisReply **out,
                       ice_err *err)
{
	memset(out, 0, n * sizeof *out);
	if (!n)
		return ICE_OK;
	return l->cl ? ice_cluster_pipeline(l->cl, cmds, n, out, err) : single_pipeline(l, cmds, n, out, err);
}

int ice_rlink_script(ice_rlink *l, const char *src, char sha[41], ice_err *err)
{
	size_t i = l->n_scripts;

	if (l->cl)
		return ice_cluster_script(l->cl, src, sha, err);
	if (i == ICE_RLINK_SCRIPTS)
		return ice_err_set(err, ICE_EINVAL, "rlink: too many scripts");
	/* loaded when the server first answers NOSCRIPT: opening costs no
	 * round trip per script */
	if (ice_script_sha1(src, l->scripts[i].sha) < 0)
		return ice_err_set(err, ICE_ENOMEM, "SHA-1: cannot digest the script");
	if (!(l->scripts[i].src = strdup(src)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	l->n_scripts++;
	memcpy(sha, l->scripts[i].sha, 41);
	return ICE_OK;
}

unsigned long long ice_rlink_epoch(const ice_rlink *l, int slot)
{
	ice_cluster_stats st;
	const char *w;
	unsigned long long h = 5381;

	if (!l->cl)
		return l->connects;
	ice_cluster_get_stats(l->cl, &st);
	for (w = ice_cluster_where(l->cl, slot); w && *w; w++)
		h = h * 33 + (unsigned char)*w;
	return h ^ (st.connects * 0x9e3779b97f4a7c15ULL);
}

int ice_rlink_masters(ice_rlink *l, int **slots, size_t *n, ice_err *err)
{
	if (l->cl)
		return ice_cluster_masters(l->cl, slots, n, err);
	if (!(*slots = malloc(sizeof **slots)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	**slots = -1;
	*n = 1;
	return ICE_OK;
}
