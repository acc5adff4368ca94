/* cluster: a Redis Cluster client: routing by slot, redirections, retries
 * through failovers, scripts per node and pipelines split per node. */
#include "config.h"
#include "ice_cluster.h"
#include "ice_cluster_map.h"
#include "ice_time.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

typedef struct script {
	char *src;
	char sha[41];
} script;

struct ice_cluster {
	ice_cluster_map map;
	char *user, *password; /* for AUTH on every node; wiped on close */
	int connect_ms, command_ms, retry_ms, max_redirects;
	int map_stale;         /* re-read the map before the next round */
	int ask_first;         /* the node to read it from first (the target of
	                        * a MOVED knows its slots before the others
	                        * hear of them); -1 none */
	script *scripts;
	size_t n_scripts;
	ice_cluster_stats stats;
};

/* ---- connections ---- */

static struct timeval tv_ms(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return tv;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void drop(ice_cluster_node *nd)
{
	if (nd->ctx)
		redisFree(nd->ctx);
	nd->ctx = NULL;
}

/* A lost connection or a read that timed out: which, in words and code. */
static int io_failure(ice_cluster_node *nd, const char *what, int *transient, ice_err *err)
{
	int timeout = nd->ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);

	*transient = !timeout;
	nd->down = 1;
	ice_err_set(err, timeout ? ICE_ETIMEOUT : ICE_EBACKEND, "%s: %s: %s", nd->where, what,
	            timeout ? "command timed out" : nd->ctx->errstr[0] ? nd->ctx->errstr : "connection lost");
	drop(nd);
	return timeout ? ICE_ETIMEOUT : ICE_EBACKEND;
}

static int auth(ice_cluster *c, ice_cluster_node *nd, int *transient, ice_err *err)
{
	const char *argv[3] = { "AUTH" };
	size_t lens[3] = { 4 };
	redisReply *rep;
	int argc = 1, rc = ICE_OK;

	if (c->user) {
		argv[argc] = c->user;
		lens[argc++] = strlen(c->user);
	}
	argv[argc] = c->password;
	lens[argc++] = strlen(c->password);
	if (!(rep = redisCommandArgv(nd->ctx, argc, argv, lens)))
		return io_failure(nd, "AUTH", transient, err);
	if (rep->type == REDIS_REPLY_ERROR)
		rc = ice_err_set(err, ICE_EBACKEND, "%s: authentication failed: %.*s", nd->where,
		                 (int)rep->len, rep->str);
	freeReplyObject(rep);
	return rc;
}

/* Open the connection of node i unless open. *transient: the node may
 * come back or be replaced (unreachable); a refused AUTH is not. */
static int node_connect(ice_cluster *c, int i, int *transient, ice_err *err)
{
	ice_cluster_node *nd = &c->map.nodes[i];
	int rc = ICE_OK;

	*transient = 0;
	if (nd->ctx)
		return ICE_OK;
	if (!(nd->ctx = redisConnectWithTimeout(nd->host, nd->port, tv_ms(c->connect_ms))))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (nd->ctx->err) {
		*transient = 1;
		rc = ice_err_set(err, ICE_EBACKEND, "%s: cannot connect: %s", nd->where, nd->ctx->errstr);
	} else if (redisSetTimeout(nd->ctx, tv_ms(c->command_ms)) != REDIS_OK) {
		rc = ice_err_set(err, ICE_EBACKEND, "%s: cannot set the command timeout", nd->where);
	} else if (c->password) {
		rc = auth(c, nd, transient, err);
	}
	nd->down = rc != ICE_OK;
	if (rc)
		drop(nd);
	else
		c->stats.connects++;
	return rc;
}

/* ---- the slot map ---- */

/* Load the slot map from CLUSTER SHARDS on node i. */
static int shards_from(ice_cluster *c, int i, ice_err *why)
{
	static const char *const argv[] = { "CLUSTER", "SHARDS" };
	static const size_t lens[] = { 7, 6 };
	ice_cluster_node *nd = &c->map.nodes[i];
	redisReply *rep;
	int rc, transient;

	if ((rc = node_connect(c, i, &transient, why)))
		return rc;
	if (!(rep = redisCommandArgv(nd->ctx, 2, (const char **)argv, lens)))
		return io_failure(nd, "CLUSTER SHARDS", &transient, why);
	if (rep->type == REDIS_REPLY_ERROR)
		rc = ice_err_set(why, ICE_EBACKEND, "%s: CLUSTER SHARDS: %.*s", nd->where,
		                 (int)rep->len, rep->str);
	else
		rc = ice_cluster_map_load(&c->map, rep, nd->where, why); /* may move c->map.nodes */
	freeReplyObject(rep);
	return rc;
}

/* Read the slot map from the first node that answers: the hinted one, then
 * the others in turn (the seeds first), those that just failed last (a
 * failover: another node knows who took over). */
static int refresh(ice_cluster *c, ice_err *err)
{
	ice_err why = { 0 };
	int rc = ICE_EBACKEND, first = c->ask_first;
	size_t n = c->map.n;

	c->ask_first = -1;
	if (first >= 0 && (rc = shards_from(c, first, &why)) == ICE_OK)
		goto out;
	for (int pass = 0; pass < 2 && rc != ICE_ENOMEM; pass++)
		for (size_t i = 0; i < n && rc != ICE_ENOMEM; i++) {
			if ((int)i == first || c->map.nodes[i].down != pass)
				continue;
			if ((rc = shards_from(c, (int)i, &why)) == ICE_OK)
				goto out;
		}
	if (err)
		*err = why;
	return rc;
out:
	c->map_stale = 0;
	c->stats.refreshes++;
	return ICE_OK;
}

/* The node serving slot, or with slot -1 any master; -1 when none. */
static int route(const ice_cluster *c, int slot)
{
	if (slot >= 0)
		return c->map.slot[slot];
	for (int s = 0; s < ICE_SLOTS; s++)
		if (c->map.slot[s] >= 0)
			return c->map.slot[s];
	return -1;
}

/* ---- scripts ---- */

int ice_script_sha1(const char *src, char sha[41])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (EVP_Digest(src, strlen(src), md, &len, EVP_sha1(), NULL) != 1 || len != 20)
		return -1;
	for (unsigned int i = 0; i < len; i++)
		snprintf(sha + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int ice_cluster_script(ice_cluster *c, const char *src, char sha[41], ice_err *err)
{
	script *v;

	if (ice_script_sha1(src, sha) < 0)
		return ice_err_set(err, ICE_ENOMEM, "SHA-1: cannot digest the script");
	for (size_t i = 0; i < c->n_scripts; i++)
		if (strcmp(c->scripts[i].sha, sha) == 0)
			return ICE_OK;
	if (!(v = realloc(c->scripts, (c->n_scripts + 1) * sizeof *v)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	c->scripts = v;
	if (!(v[c->n_scripts].src = strdup(src)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	memcpy(v[c->n_scripts++].sha, sha, 41);
	return ICE_OK;
}

/* The registered script an EVALSHA command runs; -1 for anything else. */
static int script_of(const ice_cluster *c, const ice_cluster_cmd *cmd)
{
	if (cmd->argc < 2 || cmd->lens[0] != 7 || strncasecmp(cmd->argv[0], "EVALSHA", 7) != 0 ||
	    cmd->lens[1] != 40)
		return -1;
	for (size_t i = 0; i < c->n_scripts; i++)
		if (memcmp(c->scripts[i].sha, cmd->argv[1], 40) == 0)
			return (int)i;
	return -1;
}

static int load_script(ice_cluster *c, int node, int s, int *transient, ice_err *err)
{
	ice_cluster_node *nd = &c->map.nodes[node];
	const char *argv[3] = { "SCRIPT", "LOAD", c->scripts[s].src };
	size_t lens[3] = { 6, 4, strlen(c->scripts[s].src) };
	redisReply *rep;
	int rc = ICE_OK;

	*transient = 0;
	if (!nd->ctx && (rc = node_connect(c, node, transient, err)))
		return rc;
	if (!(rep = redisCommandArgv(nd->ctx, 3, argv, lens)))
		return io_failure(nd, "SCRIPT LOAD", transient, err);
	if (rep->type != REDIS_REPLY_STRING || rep->len != 40 || memcmp(rep->str, c->scripts[s].sha, 40))
		rc = ice_err_set(err, ICE_EBACKEND, "%s: SCRIPT LOAD: %.*s", nd->where,
		                 rep->type == REDIS_REPLY_ERROR ? (int)rep->len : 16,
		                 rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
	else
		c->stats.script_loads++;
	freeReplyObject(rep);
	return rc;
}

/* ---- running commands ---- */

enum { J_TODO, J_SENT, J_DONE, J_WAIT, J_LOAD };

typedef struct job {
	int state;
	int node;      /* where it goes this round */
	int ask;       /* the ASK target for the next try; -1 none */
	int asking;    /* this round: sent after ASKING */
	int redirects; /* MOVED and ASK followed */
	int loads;     /* scripts loaded for it */
	int script;    /* J_LOAD: the script to load on node */
} job;

/* One call: the commands, their jobs and replies, and what went wrong. */
typedef struct call {
	ice_cluster *c;
	const ice_cluster_cmd *cmds;
	job *jobs;
	redisReply **out;
	size_t n, left;
	ice_err why; /* the last passing failure, reported when retries run out */
} call;

/* A job failed in a way time may cure (a failover, a resharding). */
static void wait_job(call *k, job *j, int stale)
{
	j->state = J_WAIT;
	if (stale)
		k->c->map_stale = 1;
}

/* Send every job of this round to its node. */
static void assign(call *k)
{
	for (size_t i = 0; i < k->n; i++) {
		job *j = &k->jobs[i];

		if (j->state != J_TODO)
			continue;
		j->asking = j->ask >= 0;
		j->node = j->asking ? j->ask : route(k->c, k->cmds[i].slot);
		j->ask = -1;
		if (j->node < 0) {
			ice_err_set(&k->why, ICE_EBACKEND, "slot %d: no master serves it", k->cmds[i].slot);
			wait_job(k, j, 1);
		}
	}
}

static void wait_node_jobs(call *k, int node, int from_state)
{
	for (size_t i = 0; i < k->n; i++)
		if (k->jobs[i].node == node && k->jobs[i].state == from_state)
			wait_job(k, &k->jobs[i], 1);
}

static int node_has(const call *k, int node, int state)
{
	for (size_t i = 0; i < k->n; i++)
		if (k->jobs[i].node == node && k->jobs[i].state == state)
			return 1;
	return 0;
}

/* Write one node's jobs as one pipeline. ICE_OK, or a fatal code. */
static int send_node(call *k, int node, ice_err *err)
{
	ice_cluster_node *nd = &k->c->map.nodes[node];
	int rc, transient, done = 0;

	if ((rc = node_connect(k->c, node, &transient, &k->why))) {
		if (!transient) {
			*err = k->why;
			return rc;
		}
		wait_node_jobs(k, node, J_TODO);
		return ICE_OK;
	}
	for (size_t i = 0; i < k->n; i++) {
		job *j = &k->jobs[i];
		const ice_cluster_cmd *cmd = &k->cmds[i];

		if (j->node != node || j->state != J_TODO)
			continue;
		if ((j->asking && redisAppendCommand(nd->ctx, "ASKING") != REDIS_OK) ||
		    redisAppendCommandArgv(nd->ctx, cmd->argc, (const char **)cmd->argv, cmd->lens) != REDIS_OK) {
			drop(nd); /* half a pipeline must never reach the node */
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
		}
		j->state = J_SENT;
	}
	while (!done)
		if (redisBufferWrite(nd->ctx, &done) != REDIS_OK) {
			if ((rc = io_failure(nd, "write", &transient, &k->why)) && !transient) {
				*err = k->why;
				return rc;
			}
			/* Some may have run: they are sent again (see ice_cluster.h). */
			wait_node_jobs(k, node, J_SENT);
			return ICE_OK;
		}
	return ICE_OK;
}

static int starts(const redisReply *r, const char *word)
{
	size_t n = strlen(word);

	return r->len >= n && memcmp(r->str, word, n) == 0 && (r->len == n || r->str[n] == ' ');
}

/* Decide what an error reply of job i means. ICE_OK, or a fatal code. */
static int classify_error(call *k, size_t i, redisReply *rep, ice_err *err)
{
	ice_cluster *c = k->c;
	job *j = &k->jobs[i];
	int slot, target, moved = starts(rep, "MOVED");

	if ((moved || starts(rep, "ASK")) &&
	    ice_cluster_map_redirect(&c->map, rep->str, rep->len, j->node, &slot, &target) == 0) {
		if (++j->redirects > c->max_redirects)
			return ice_err_set(err, ICE_EBACKEND, "%s: too many redirections (%d), the last: %.*s",
			                   c->map.nodes[j->node].where, c->max_redirects, (int)rep->len, rep->str);
		if (moved) {
			c->map.slot[slot] = target;
			c->map_stale = 1; /* more slots may have moved with it */
			c->ask_first = target;
			c->stats.moved++;
		} else {
			j->ask = target;
			c->stats.ask++;
		}
		j->state = J_TODO;
		freeReplyObject(rep);
		return ICE_OK;
	}
	if (starts(rep, "TRYAGAIN") || starts(rep, "CLUSTERDOWN") || starts(rep, "LOADING") ||
	    starts(rep, "MASTERDOWN")) {
		ice_err_set(&k->why, ICE_EBACKEND, "%s: %.*s: %.*s", c->map.nodes[j->node].where,
		            (int)k->cmds[i].lens[0], k->cmds[i].argv[0], (int)rep->len, rep->str);
		wait_job(k, j, starts(rep, "CLUSTERDOWN"));
		freeReplyObject(rep);
		return ICE_OK;
	}
	if (starts(rep, "NOSCRIPT") && (j->script = script_of(c, &k->cmds[i])) >= 0 && j->loads < 2) {
		j->loads++;
		j->state = J_LOAD;
		freeReplyObject(rep);
		return ICE_OK;
	}
	k->out[i] = rep; /* the caller's to judge */
	j->state = J_DONE;
	k->left--;
	return ICE_OK;
}

/* Read the replies of one node's jobs, in the order sent. */
static int receive_node(call *k, int node, ice_err *err)
{
	int rc, transient;

	for (size_t i = 0; i < k->n; i++) {
		/* afresh each time: a redirection may have grown the node list */
		ice_cluster_node *nd = &k->c->map.nodes[node];
		job *j = &k->jobs[i];
		void *rep = NULL;
		int got;

		if (j->node != node || j->state != J_SENT)
			continue;
		got = redisGetReply(nd->ctx, &rep);
		if (got == REDIS_OK && j->asking) { /* +OK, or an error the command's reply repeats */
			freeReplyObject(rep);
			rep = NULL;
			got = redisGetReply(nd->ctx, &rep);
		}
		if (got != REDIS_OK) {
			char what[64];

			snprintf(what, sizeof what, "%.*s", (int)k->cmds[i].lens[0], k->cmds[i].argv[0]);
			if ((rc = io_failure(nd, what, &transient, &k->why)) && !transient) {
				*err = k->why;
				return rc;
			}
			wait_node_jobs(k, node, J_SENT);
			return ICE_OK;
		}
		if (((redisReply *)rep)->type != REDIS_REPLY_ERROR) {
			k->out[i] = rep;
			j->state = J_DONE;
			k->left--;
		} else if ((rc = classify_error(k, i, rep, err))) {
			freeReplyObject(rep);
			drop(&k->c->map.nodes[node]); /* its unread replies would answer the next call */
			return rc;
		}
	}
	return ICE_OK;
}

/* Load the scripts nodes answered NOSCRIPT for, once per node and script. */
static int load_missing(call *k, ice_err *err)
{
	int rc, transient;

	for (size_t i = 0; i < k->n; i++) {
		job *j = &k->jobs[i];

		if (j->state != J_LOAD)
			continue;
		rc = load_script(k->c, j->node, j->script, &transient, &k->why);
		if (rc && !transient) {
			*err = k->why;
			return rc;
		}
		/* every job waiting for the same script on the same node */
		for (size_t m = i; m < k->n; m++) {
			job *o = &k->jobs[m];

			if (o->state == J_LOAD && o->node == j->node && o->script == j->script) {
				if (rc)
					wait_job(k, o, 1);
				else
					o->state = J_TODO;
			}
		}
	}
	return ICE_OK;
}

/* One round: every pending job sent to its node, all nodes' pipelines in
 * flight at once, then every reply read. ICE_OK, or a fatal code. */
static int round_trip(call *k, ice_err *err)
{
	ice_cluster_map *m = &k->c->map;
	int rc = ICE_OK;

	assign(k);
	for (size_t nd = 0; nd < m->n && !rc; nd++)
		if (node_has(k, (int)nd, J_TODO))
			rc = send_node(k, (int)nd, err);
	for (size_t nd = 0; nd < m->n; nd++) {
		if (!node_has(k, (int)nd, J_SENT))
			continue;
		if (rc)
			drop(&m->nodes[nd]); /* unread replies: the connection is of no more use */
		else
			rc = receive_node(k, (int)nd, err);
	}
	return rc ? rc : load_missing(k, err);
}

/* Put the jobs that wait back in line after a backoff, while the budget
 * lasts. ICE_OK, or the last passing failure when it ran out. */
static int backoff(call *k, int64_t *give_up, long *delay, ice_err *err)
{
	ice_cluster *c = k->c;
	int64_t now = ice_monotonic_ms();

	if (c->retry_ms < 0 || (*give_up && now >= *give_up)) {
		*err = k->why;
		return ice_err_prefix(err, "gave up after %d ms: ", c->retry_ms < 0 ? 0 : c->retry_ms);
	}
	if (!*give_up)
		*give_up = now + c->retry_ms;
	sleep_ms(*delay);
	*delay = *delay * 2 > 1000 ? 1000 : *delay * 2;
	c->stats.retries++;
	for (size_t i = 0; i < k->n; i++)
		if (k->jobs[i].state == J_WAIT)
			k->jobs[i].state = J_TODO;
	return ICE_OK;
}

static int any_waiting(const call *k)
{
	for (size_t i = 0; i < k->n; i++)
		if (k->jobs[i].state == J_WAIT)
			return 1;
	return 0;
}

/* Run n commands to the end; node[i] (when node is non-NULL) gets the
 * index of the node that answered cmds[i]. */
static int run(ice_cluster *c, const ice_cluster_cmd *cmds, size_t n, redisReply **out,
               int *node, ice_err *err)
{
	call k = { .c = c, .cmds = cmds, .out = out, .n = n, .left = n };
	int64_t give_up = 0;
	long delay = 25;
	int rc = ICE_OK;

	for (size_t i = 0; i < n; i++)
		out[i] = NULL;
	if (n && !(k.jobs = calloc(n, sizeof *k.jobs)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		k.jobs[i].ask = -1;
		if (cmds[i].argc < 1 || cmds[i].slot < -1 || cmds[i].slot >= ICE_SLOTS) {
			rc = ice_err_set(err, ICE_EINVAL, "cluster command %zu: no arguments or a bad slot", i);
			goto out;
		}
	}
	while (k.left) {
		if (c->map_stale)
			refresh(c, NULL); /* on failure the old map serves, and the next failure reports */
		if ((rc = round_trip(&k, err)))
			goto out;
		if (any_waiting(&k) && (rc = backoff(&k, &give_up, &delay, err)))
			goto out;
	}
	for (size_t i = 0; node && i < n; i++)
		node[i] = k.jobs[i].node;
out:
	if (rc)
		for (size_t i = 0; i < n; i++) {
			freeReplyObject(out[i]);
			out[i] = NULL;
		}
	free(k.jobs);
	return rc;
}

int ice_cluster_pipeline(ice_cluster *c, const ice_cluster_cmd *cmds, size_t n,
                         redisReply **out, ice_err *err)
{
	return run(c, cmds, n, out, NULL, err);
}

int ice_cluster_command(ice_cluster *c, const ice_cluster_cmd *cmd, redisReply **out,
                        ice_err *err)
{
	int node, rc = run(c, cmd, 1, out, &node, err);

	if (rc == ICE_OK && (*out)->type == REDIS_REPLY_ERROR) {
		rc = ice_err_set(err, ICE_EBACKEND, "%s: %.*s: %.*s", c->map.nodes[node].where,
		                 (int)cmd->lens[0], cmd->argv[0], (int)(*out)->len, (*out)->str);
		freeReplyObject(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- walks and introspection ---- */

int ice_cluster_masters(ice_cluster *c, int **slots, size_t *n, ice_err *err)
{
	char *seen = NULL;
	int *v = NULL;
	int rc = ICE_OK;

	*slots = NULL;
	*n = 0;
	if (c->map_stale && (rc = refresh(c, err)))
		goto out;
	if (!(seen = calloc(c->map.n + 1, 1)) || !(v = malloc((c->map.n + 1) * sizeof *v))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	for (int s = 0; s < ICE_SLOTS; s++) {
		int nd = c->map.slot[s];

		if (nd >= 0 && !seen[nd]) {
			seen[nd] = 1;
			v[(*n)++] = s;
		}
	}
	*slots = v;
	v = NULL;
out:
	free(seen);
	free(v);
	return rc;
}

const char *ice_cluster_where(const ice_cluster *c, int slot)
{
	int nd = slot >= 0 && slot < ICE_SLOTS ? c->map.slot[slot] : -1;

	return nd >= 0 ? c->map.nodes[nd].where : NULL;
}

void ice_cluster_get_stats(const ice_cluster *c, ice_cluster_stats *s)
{
	*s = c->stats;
}

/* ---- open / close ---- */

void ice_cluster_close(ice_cluster *c)
{
	if (!c)
		return;
	ice_cluster_map_clear(&c->map);
	free(c->user);
	if (c->password)
		memset(c->password, 0, strlen(c->password));
	free(c->password);
	for (size_t i = 0; i < c->n_scripts; i++)
		free(c->scripts[i].src);
	free(c->scripts);
	free(c);
}

static int served_slots(const ice_cluster *c)
{
	int n = 0;

	for (int s = 0; s < ICE_SLOTS; s++)
		n += c->map.slot[s] >= 0;
	return n;
}

int ice_cluster_open(const char *url, const ice_cluster_opts *o, ice_cluster **out, ice_err *err)
{
	ice_cluster *c = calloc(1, sizeof *c);
	ice_cluster_url u = { 0 };
	int rc;

	*out = NULL;
	if (!c)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	ice_cluster_map_init(&c->map);
	c->ask_first = -1;
	if ((rc = ice_cluster_url_parse(url, &u, err)))
		goto out;
	c->user = u.user;
	c->password = u.password;
	u.user = u.password = NULL;
	c->connect_ms = o && o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 2000;
	c->command_ms = o && o->command_timeout_ms > 0 ? o->command_timeout_ms : 5000;
	c->retry_ms = o && o->retry_ms ? o->retry_ms : 30000;
	c->max_redirects = o && o->max_redirects > 0 ? o->max_redirects : 16;
	for (size_t i = 0; i < u.n; i++)
		if (ice_cluster_map_node(&c->map, u.hosts[i], strlen(u.hosts[i]), u.ports[i]) < 0) {
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
			goto out;
		}
	if ((rc = refresh(c, err))) {
		ice_err_prefix(err, "cannot read the slot map from any seed node: ");
		goto out;
	}
	if (served_slots(c) == 0) {
		rc = ice_err_set(err, ICE_EBACKEND, "%s: the cluster serves no slot yet", c->map.nodes[0].where);
		goto out;
	}
	*out = c;
	c = NULL;
out:
	ice_cluster_url_clear(&u);
	ice_cluster_close(c);
	return rc;
}
