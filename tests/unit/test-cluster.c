/* test-cluster: the cluster client (ice_cluster) against a real Redis
 * Cluster of three masters with a replica each, started by the sh tests
 * (start_cluster in tests/cli/lib.sh), its URL in ICE_TEST_CLUSTER_URL.
 *   test-cluster routing: slots against CLUSTER KEYSLOT, routing,
 *     pipelines, scripts after SCRIPT FLUSH, MOVED, ASK, AUTH, the walk
 *     over masters (tests/cli/cluster-client.sh);
 *   test-cluster failover: a master killed with SIGKILL, its replica takes
 *     over; then a master with no replica killed (cluster-failover.sh);
 *   test-cluster backend: the shared backend checks (backend-checks.c) on
 *     a redis+cluster:// cache, key layout 2 (cluster-backend.sh).
 * What the test checks it reads with its own plain hiredis connections
 * (CLUSTER NODES, not the CLUSTER SHARDS the client reads). */
#include "config.h"
#include "tap.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend-checks.h"
#include "ice_backend.h"
#include "ice_cluster.h"
#include "ice_slot.h"

static ice_cluster_url seeds; /* the cluster URL, parsed: ports and password */
static const char *cluster_url;

/* ---- plain connections to the nodes, one per port ---- */

static struct {
	int port;
	redisContext *ctx;
} conns[16];

static redisContext *conn(int port)
{
	size_t i;
	redisReply *r;

	for (i = 0; i < 16 && conns[i].port; i++)
		if (conns[i].port == port && conns[i].ctx)
			return conns[i].ctx;
	for (i = 0; i < 16 && conns[i].port && conns[i].port != port; i++)
		;
	if (i == 16)
		return NULL;
	conns[i].port = port;
	conns[i].ctx = redisConnectWithTimeout("127.0.0.1", port, (struct timeval){ 5, 0 });
	if (!conns[i].ctx || conns[i].ctx->err)
		goto fail;
	redisSetTimeout(conns[i].ctx, (struct timeval){ 20, 0 });
	if (seeds.password) {
		r = redisCommand(conns[i].ctx, "AUTH %s", seeds.password);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			freeReplyObject(r);
			goto fail;
		}
		freeReplyObject(r);
	}
	return conns[i].ctx;
fail:
	if (conns[i].ctx)
		redisFree(conns[i].ctx);
	conns[i].ctx = NULL;
	return NULL;
}

static void conn_drop(int port)
{
	for (size_t i = 0; i < 16; i++)
		if (conns[i].port == port && conns[i].ctx) {
			redisFree(conns[i].ctx);
			conns[i].ctx = NULL;
		}
}

static redisReply *rawv(int port, const char *fmt, va_list ap)
{
	redisContext *c = conn(port);
	redisReply *r;

	if (!c)
		return NULL;
	if (!(r = redisvCommand(c, fmt, ap)))
		conn_drop(port);
	return r;
}

static redisReply *raw(int port, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = rawv(port, fmt, ap);
	va_end(ap);
	return r;
}

static long long raw_int(int port, const char *fmt, ...)
{
	redisReply *r;
	long long v;
	va_list ap;

	va_start(ap, fmt);
	r = rawv(port, fmt, ap);
	va_end(ap);
	v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
	return v;
}

/* A simple-string or bulk reply's text, an error as "ERR:text", else "";
 * static. */
static const char *raw_str(int port, const char *fmt, ...)
{
	static char buf[256];
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = rawv(port, fmt, ap);
	va_end(ap);
	buf[0] = '\0';
	if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
	          r->type == REDIS_REPLY_ERROR))
		snprintf(buf, sizeof buf, "%s%.*s", r->type == REDIS_REPLY_ERROR ? "ERR:" : "",
		         (int)r->len, r->str);
	freeReplyObject(r);
	return buf;
}

/* ---- the topology, from CLUSTER NODES ---- */

typedef struct tnode {
	char id[41], master_of[41]; /* master_of: the id of its master, or "-" */
	int port, master, failed;
} tnode;

static tnode topo[16];
static int n_topo;
static int owner[ICE_SLOTS]; /* port of each slot's master; 0 none */

static void parse_slots(char *tok, int port)
{
	char *dash = strchr(tok, '-');
	int a, b;

	if (tok[0] == '[') /* a migration in progress */
		return;
	a = atoi(tok);
	b = dash ? atoi(dash + 1) : a;
	for (int s = a; s <= b && s < ICE_SLOTS; s++)
		owner[s] = port;
}

/* Read the topology from the node on port; 0 on success. */
static int load_topology(int port)
{
	redisReply *r = raw(port, "CLUSTER NODES");
	char *save_line, *line, *text;

	n_topo = 0;
	memset(owner, 0, sizeof owner);
	if (!r || r->type != REDIS_REPLY_STRING) {
		freeReplyObject(r);
		return -1;
	}
	text = strdup(r->str);
	freeReplyObject(r);
	for (line = strtok_r(text, "\n", &save_line); line && n_topo < 16;
	     line = strtok_r(NULL, "\n", &save_line)) {
		char *save_tok, *tok = strtok_r(line, " ", &save_tok);
		tnode *t = &topo[n_topo];

		for (int field = 0; tok; field++, tok = strtok_r(NULL, " ", &save_tok)) {
			if (field == 0)
				snprintf(t->id, sizeof t->id, "%s", tok);
			else if (field == 1)
				t->port = atoi(strchr(tok, ':') ? strchr(tok, ':') + 1 : tok);
			else if (field == 2) {
				t->master = strstr(tok, "master") != NULL;
				t->failed = strstr(tok, "fail") != NULL && !strstr(tok, "fail?");
			} else if (field == 3)
				snprintf(t->master_of, sizeof t->master_of, "%s", tok);
			else if (field >= 8)
				parse_slots(tok, t->port);
		}
		n_topo++;
	}
	free(text);
	return 0;
}

static const tnode *node_of_port(int port)
{
	for (int i = 0; i < n_topo; i++)
		if (topo[i].port == port)
			return &topo[i];
	return NULL;
}

/* A master other than the one on port, serving slots. */
static int other_master(int port)
{
	for (int s = 0; s < ICE_SLOTS; s++)
		if (owner[s] && owner[s] != port)
			return owner[s];
	return 0;
}

/* The first live node of the cluster (for reading the topology). */
static int live_port(int not1, int not2)
{
	for (size_t i = 0; i < seeds.n; i++)
		if (seeds.ports[i] != not1 && seeds.ports[i] != not2 &&
		    strcmp(raw_str(seeds.ports[i], "PING"), "PONG") == 0)
			return seeds.ports[i];
	return 0;
}

static int slot_of(const char *key)
{
	return ice_slot(key, strlen(key));
}

static void where_of_port(char *buf, size_t n, int port)
{
	snprintf(buf, n, "redis://127.0.0.1:%d", port);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- the client under test ---- */

static ice_cluster *open_client(const char *url, int retry_ms, ice_err *err)
{
	ice_cluster_opts o = { .retry_ms = retry_ms };
	ice_cluster *c = NULL;

	if (ice_cluster_open(url, &o, &c, err) != ICE_OK)
		return NULL;
	return c;
}

/* Run a command of up to 8 string arguments routed by the slot of key;
 * the reply (NULL on failure, message in *err). */
static redisReply *run(ice_cluster *c, const char *key, ice_err *err, int argc, ...)
{
	const char *argv[8];
	size_t lens[8];
	ice_cluster_cmd cmd = { argc, argv, lens, key ? slot_of(key) : -1 };
	redisReply *r = NULL;
	va_list ap;

	va_start(ap, argc);
	for (int i = 0; i < argc && i < 8; i++) {
		argv[i] = va_arg(ap, const char *);
		lens[i] = strlen(argv[i]);
	}
	va_end(ap);
	if (ice_cluster_command(c, &cmd, &r, err) != ICE_OK)
		return NULL;
	return r;
}

/* GET key through the client: the value, or "" (miss) or "ERR:message". */
static const char *get(ice_cluster *c, const char *key)
{
	static char buf[ICE_ERR_MSG_MAX + 8];
	ice_err err = { 0 };
	redisReply *r = run(c, key, &err, 2, "GET", key);

	if (!r)
		snprintf(buf, sizeof buf, "ERR:%s", err.msg);
	else
		snprintf(buf, sizeof buf, "%.*s", r->type == REDIS_REPLY_STRING ? (int)r->len : 0,
		         r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	return buf;
}

static int set(ice_cluster *c, const char *key, const char *val)
{
	ice_err err = { 0 };
	redisReply *r = run(c, key, &err, 3, "SET", key, val);
	int ok = r && r->type == REDIS_REPLY_STATUS;

	if (!r)
		tap_diag("SET %s: %s", key, err.msg);
	freeReplyObject(r);
	return ok;
}

static ice_cluster_stats stats(ice_cluster *c)
{
	ice_cluster_stats s;

	ice_cluster_get_stats(c, &s);
	return s;
}

/* A pipeline of n commands of 2 or 3 string arguments: cmd, key[i], val[i]
 * (val NULL: two arguments). The argument arrays live in *store. */
typedef struct pipe_store {
	ice_cluster_cmd *cmds;
	const char **argv;
	size_t *lens;
} pipe_store;

static void pipe_add(pipe_store *p, size_t i, const char *cmd, const char *key, const char *val)
{
	const char **a = p->argv + 3 * i;
	size_t *l = p->lens + 3 * i;

	a[0] = cmd;
	a[1] = key;
	a[2] = val;
	for (int k = 0; k < 3; k++)
		l[k] = a[k] ? strlen(a[k]) : 0;
	p->cmds[i] = (ice_cluster_cmd){ val ? 3 : 2, a, l, slot_of(key) };
}

static int pipe_new(pipe_store *p, size_t n)
{
	p->cmds = calloc(n, sizeof *p->cmds);
	p->argv = calloc(3 * n, sizeof *p->argv);
	p->lens = calloc(3 * n, sizeof *p->lens);
	return p->cmds && p->argv && p->lens ? 0 : -1;
}

static void pipe_free(pipe_store *p)
{
	free(p->cmds);
	free(p->argv);
	free(p->lens);
}

static void replies_free(redisReply **out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		freeReplyObject(out[i]);
}

static int reply_is(const redisReply *r, const char *s)
{
	return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) &&
	       r->len == strlen(s) && memcmp(r->str, s, r->len) == 0;
}

/* Run a pipeline (one test: it succeeds); the number of replies equal to
 * vals[i]. */
static int pipeline_matches(ice_cluster *c, const ice_cluster_cmd *cmds, size_t n,
                            char (*vals)[32], const char *what)
{
	redisReply **out = calloc(n, sizeof *out);
	ice_err err = { 0 };
	int rc, good = 0;

	if (!out)
		return -1;
	rc = ice_cluster_pipeline(c, cmds, n, out, &err);
	tap_is_int(rc, ICE_OK, "%s (%s)", what, err.msg);
	if (rc == ICE_OK) {
		for (size_t i = 0; i < n; i++)
			good += reply_is(out[i], vals[i]);
		replies_free(out, n);
	}
	free(out);
	return good;
}

/* ---- routing ---- */

/* Keys of random bytes rich in braces, with and without hash tags. */
static void random_key(char *k, size_t *len, unsigned *seed)
{
	static const char alphabet[] = "ab{}{}x:\0\xff";

	*len = (size_t)(rand_r(seed) % 12);
	for (size_t i = 0; i < *len; i++)
		k[i] = alphabet[rand_r(seed) % (sizeof alphabet - 1)];
}

static void test_keyslot(int port)
{
	static const char *const edge[] = { "", "{}", "{", "}", "{}{x}", "{{x}}", "a{b}c{d}",
	                                    "foo{}{bar}", "foo{{bar}}zap", "foo{bar}{zap}",
	                                    "{user1000}.following", "}{", "{a", "a}", "{{}}" };
	redisContext *ctx = conn(port);
	enum { N = 3000 };
	static char keys[N][16];
	size_t lens[N];
	unsigned seed = 18;
	int agree = 0, first_bad = -1;

	for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
		tap_is_int(ice_slot(edge[i], strlen(edge[i])),
		           raw_int(port, "CLUSTER KEYSLOT %b", edge[i], strlen(edge[i])),
		           "keyslot: \"%s\" as CLUSTER KEYSLOT", edge[i]);
	for (int i = 0; i < N && ctx; i++) {
		random_key(keys[i], &lens[i], &seed);
		redisAppendCommand(ctx, "CLUSTER KEYSLOT %b", keys[i], lens[i]);
	}
	for (int i = 0; i < N && ctx; i++) {
		void *rep = NULL;
		redisReply *r;

		if (redisGetReply(ctx, &rep) != REDIS_OK)
			break;
		r = rep;
		if (r->type == REDIS_REPLY_INTEGER && r->integer == ice_slot(keys[i], lens[i]))
			agree++;
		else if (first_bad < 0)
			first_bad = i;
		freeReplyObject(r);
	}
	tap_is_int(agree, N, "keyslot: %d random keys full of braces and binary bytes agree", N);
	if (first_bad >= 0)
		tap_diag("first disagreement: key %d of length %zu", first_bad, lens[first_bad]);
}

static void test_set_get(ice_cluster *c, int port)
{
	enum { N = 300 };
	char key[32], val[32];
	int ok_set = 0, ok_get = 0, on_owner = 0, masters = 0, seen[3] = { 0 };

	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof key, "rt:%d", i);
		snprintf(val, sizeof val, "v%d", i);
		ok_set += set(c, key, val);
	}
	load_topology(port);
	for (int i = 0; i < N; i++) {
		int o;

		snprintf(key, sizeof key, "rt:%d", i);
		snprintf(val, sizeof val, "v%d", i);
		ok_get += strcmp(get(c, key), val) == 0;
		o = owner[slot_of(key)];
		on_owner += strcmp(raw_str(o, "GET %s", key), val) == 0;
		for (int m = 0; m < 3; m++)
			if (!seen[m] || seen[m] == o) {
				if (!seen[m])
					masters++;
				seen[m] = o;
				break;
			}
	}
	tap_is_int(ok_set, N, "routing: %d SETs acknowledged", N);
	tap_is_int(ok_get, N, "routing: every GET returns its value");
	tap_is_int(on_owner, N, "routing: each key is on the master CLUSTER NODES names for its slot");
	tap_is_int(masters, 3, "routing: the keys spread over the three masters");
}

static void test_pipeline(ice_cluster *c)
{
	enum { N = 1200 };
	static char keys[N][32], vals[N][32];
	redisReply *out[2 * N + 2];
	pipe_store p;
	ice_err err = { 0 };
	int sets = 0, gets = 0, rc;
	size_t n = 0;

	if (pipe_new(&p, 2 * N + 2) < 0)
		return;
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof keys[i], "pl:%d", i);
		snprintf(vals[i], sizeof vals[i], "pv%d", i);
		pipe_add(&p, n++, "SET", keys[i], vals[i]);
		pipe_add(&p, n++, "GET", keys[i], NULL);
	}
	/* a command's own error stays in its place */
	pipe_add(&p, n++, "LPUSH", "pl:list", "x");
	pipe_add(&p, n++, "GET", "pl:list", NULL);
	rc = ice_cluster_pipeline(c, p.cmds, n, out, &err);
	tap_is_int(rc, ICE_OK, "pipeline: %zu commands over every master run (%s)", n, err.msg);
	if (rc == ICE_OK) {
		for (int i = 0; i < N; i++) {
			sets += reply_is(out[2 * i], "OK");
			gets += reply_is(out[2 * i + 1], vals[i]);
		}
		tap_is_int(sets, N, "pipeline: every SET answered OK in its place");
		tap_is_int(gets, N, "pipeline: every GET answered its own value, in order");
		tap_ok(out[n - 2] && out[n - 2]->type == REDIS_REPLY_INTEGER && out[n - 1] &&
		       out[n - 1]->type == REDIS_REPLY_ERROR && strstr(out[n - 1]->str, "WRONGTYPE"),
		       "pipeline: an error reply is handed back in its place");
		replies_free(out, n);
	}
	pipe_free(&p);
}

static const char script_src[] = "return redis.call('GET', KEYS[1])";

static void test_scripts(ice_cluster *c, int port)
{
	enum { N = 300 };
	static char keys[N][32], vals[N][32];
	char sha[41];
	ice_err err = { 0 };
	pipe_store p;
	uint64_t loads0;
	int owner_port, good = 0;
	redisReply *r;

	tap_is_int(ice_cluster_script(c, script_src, sha, &err), ICE_OK, "script: registered");
	tap_is_int((long long)strlen(sha), 40, "script: its SHA-1 in hex");
	set(c, "sc:1", "hello");
	loads0 = stats(c).script_loads;
	r = run(c, "sc:1", &err, 4, "EVALSHA", sha, "1", "sc:1");
	tap_ok(reply_is(r, "hello"), "script: EVALSHA on a node that never saw it: loaded, run (%s)", err.msg);
	freeReplyObject(r);
	tap_is_int((long long)(stats(c).script_loads - loads0), 1, "script: loaded once, on that node");
	load_topology(port);
	owner_port = owner[slot_of("sc:1")];
	tap_is_str(raw_str(owner_port, "SCRIPT FLUSH"), "OK", "script: SCRIPT FLUSH on the node");
	r = run(c, "sc:1", &err, 4, "EVALSHA", sha, "1", "sc:1");
	tap_ok(reply_is(r, "hello"), "script: NOSCRIPT after SCRIPT FLUSH recovered (%s)", err.msg);
	freeReplyObject(r);
	tap_is_int((long long)(stats(c).script_loads - loads0), 2, "script: loaded again after the flush");

	/* every master flushed: a pipeline over all loads it once per master */
	for (int i = 0; i < n_topo; i++)
		if (topo[i].master && !topo[i].failed)
			raw_str(topo[i].port, "SCRIPT FLUSH");
	if (pipe_new(&p, N) < 0)
		return;
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof keys[i], "sc:%d", i);
		snprintf(vals[i], sizeof vals[i], "s%d", i);
		set(c, keys[i], vals[i]);
	}
	for (int i = 0; i < N; i++) {
		static const char *argv[N][4];
		static size_t lens[N][4];

		argv[i][0] = "EVALSHA";
		argv[i][1] = sha;
		argv[i][2] = "1";
		argv[i][3] = keys[i];
		for (int k = 0; k < 4; k++)
			lens[i][k] = strlen(argv[i][k]);
		p.cmds[i] = (ice_cluster_cmd){ 4, argv[i], lens[i], slot_of(keys[i]) };
	}
	loads0 = stats(c).script_loads;
	good = pipeline_matches(c, p.cmds, N, vals, "script: a pipeline of EVALSHA after SCRIPT FLUSH everywhere");
	tap_is_int(good, N, "script: every EVALSHA of the pipeline answered its key's value");
	tap_is_int((long long)(stats(c).script_loads - loads0), 3,
	           "script: loaded once per master, not once per command");
	pipe_free(&p);
}

/* Start moving slot from the master on port a to the one on port b. */
static void migrating(int slot, int a, int b)
{
	const tnode *na = node_of_port(a), *nb = node_of_port(b);

	raw_str(b, "CLUSTER SETSLOT %d IMPORTING %s", slot, na->id);
	raw_str(a, "CLUSTER SETSLOT %d MIGRATING %s", slot, nb->id);
}

static const char *migrate_key(int a, int b, const char *key)
{
	if (seeds.password)
		return raw_str(a, "MIGRATE 127.0.0.1 %d %s 0 10000 AUTH %s KEYS %s", b, "", seeds.password, key);
	return raw_str(a, "MIGRATE 127.0.0.1 %d %s 0 10000 KEYS %s", b, "", key);
}

/* End a move to the master on port b: every master told, b first. */
static void assign_slot(int slot, int b)
{
	const tnode *nb = node_of_port(b);

	raw_str(b, "CLUSTER SETSLOT %d NODE %s", slot, nb->id);
	for (int i = 0; i < n_topo; i++)
		if (topo[i].master && topo[i].port != b)
			raw_str(topo[i].port, "CLUSTER SETSLOT %d NODE %s", slot, nb->id);
}

static void test_moved(ice_cluster *c, int port)
{
	const char *key = "mv:1";
	int slot = slot_of(key), a, b;
	char where[64];
	uint64_t moved0;

	tap_ok(set(c, key, "moving"), "moved: key written");
	load_topology(port);
	a = owner[slot];
	b = other_master(a);
	migrating(slot, a, b);
	tap_is_str(migrate_key(a, b, key), "OK", "moved: MIGRATE the key to another master");
	assign_slot(slot, b);
	moved0 = stats(c).moved;
	tap_is_str(get(c, key), "moving", "moved: GET after the slot moved returns the value");
	tap_ok(stats(c).moved > moved0, "moved: the client followed a MOVED");
	where_of_port(where, sizeof where, b);
	tap_is_str(ice_cluster_where(c, slot), where, "moved: the map names the new master");
	moved0 = stats(c).moved;
	tap_is_str(get(c, key), "moving", "moved: GET again");
	tap_is_int((long long)(stats(c).moved - moved0), 0, "moved: no MOVED once the map is right");
}

/* TRYAGAIN answers the node on port has given. */
static long long tryagain_count(int port)
{
	redisReply *r = raw(port, "INFO errorstats");
	const char *p = r && r->type == REDIS_REPLY_STRING ? strstr(r->str, "errorstat_TRYAGAIN:count=") : NULL;
	long long n = p ? atoll(p + strlen("errorstat_TRYAGAIN:count=")) : 0;

	freeReplyObject(r);
	return n;
}

/* A child process that ends the move of slot from a to b ({ask}2 migrated,
 * the slot assigned) once a has answered TRYAGAIN more than seen times:
 * the parent's command is then surely caught half way, however slow the
 * machine. */
static pid_t end_move_after_tryagain(int slot, int a, int b, long long seen)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	memset(conns, 0, sizeof conns); /* the parent's connections stay the parent's */
	for (int i = 0; i < 1200 && tryagain_count(a) <= seen; i++)
		sleep_ms(50);
	migrate_key(a, b, "{ask}2");
	assign_slot(slot, b);
	_exit(0);
}

static int is_pair(const redisReply *r, const char *x, const char *y)
{
	return r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && reply_is(r->element[0], x) &&
	       reply_is(r->element[1], y);
}

/* A command over both keys while they sit on two nodes: TRYAGAIN. */
static void test_tryagain(ice_cluster *c, int slot, int a, int b)
{
	ice_err err = { 0 };
	ice_cluster *quick = open_client(cluster_url, 1000, &err);
	redisReply *r = NULL;
	uint64_t retries0;
	pid_t child;
	int status = -1;

	if (quick)
		r = run(quick, "{ask}", &err, 3, "MGET", "{ask}1", "{ask}2");
	tap_ok(quick && !r && strstr(err.msg, "TRYAGAIN") && strstr(err.msg, "gave up after 1000 ms"),
	       "tryagain: retried within the budget, then a clear error (%s)", err.msg);
	freeReplyObject(r);
	ice_cluster_close(quick);
	ice_err_clear(&err);
	retries0 = stats(c).retries;
	child = end_move_after_tryagain(slot, a, b, tryagain_count(a));
	r = run(c, "{ask}", &err, 3, "MGET", "{ask}1", "{ask}2");
	tap_ok(is_pair(r, "one", "two"), "tryagain: the command succeeds once the move ends (%s)", err.msg);
	freeReplyObject(r);
	tap_ok(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0, "tryagain: the slot moved meanwhile");
	tap_ok(stats(c).retries > retries0, "tryagain: through retries (%llu)",
	       (unsigned long long)(stats(c).retries - retries0));
}

static void test_ask(ice_cluster *c, int port)
{
	static const char *argv[2][2] = { { "GET", "{ask}1" }, { "GET", "{ask}2" } };
	static const size_t lens[2][2] = { { 3, 6 }, { 3, 6 } };
	int slot = slot_of("{ask}"), a, b;
	ice_cluster_cmd cmds[2] = { { 2, argv[0], lens[0], slot }, { 2, argv[1], lens[1], slot } };
	redisReply *out[2];
	char where[64];
	uint64_t ask0;
	ice_err err = { 0 };

	tap_ok(set(c, "{ask}1", "one") && set(c, "{ask}2", "two"), "ask: two keys of one slot written");
	load_topology(port);
	a = owner[slot];
	b = other_master(a);
	migrating(slot, a, b);
	tap_is_str(migrate_key(a, b, "{ask}1"), "OK", "ask: one key migrated, the slot half way");
	ask0 = stats(c).ask;
	tap_is_str(get(c, "{ask}1"), "one", "ask: GET of the migrated key returns its value");
	tap_is_int((long long)(stats(c).ask - ask0), 1, "ask: through one ASK");
	where_of_port(where, sizeof where, a);
	tap_is_str(ice_cluster_where(c, slot), where, "ask: the map still names the old master");
	ask0 = stats(c).ask;
	tap_is_str(get(c, "{ask}2"), "two", "ask: the key not migrated yet is served where it is");
	tap_is_int((long long)(stats(c).ask - ask0), 0, "ask: no ASK for it");
	tap_is_int(ice_cluster_pipeline(c, cmds, 2, out, &err), ICE_OK, "ask: a pipeline over both keys");
	tap_ok(reply_is(out[0], "one") && reply_is(out[1], "two"), "ask: the pipeline's replies in order");
	replies_free(out, 2);
	test_tryagain(c, slot, a, b);
	tap_is_str(get(c, "{ask}2"), "two", "ask: after the move ends, the value through MOVED");
	where_of_port(where, sizeof where, b);
	tap_is_str(ice_cluster_where(c, slot), where, "ask: the map names the new master");
}

/* Count the keys of every master with SCAN, through the walk. */
static void test_walk(ice_cluster *c, int port)
{
	int *slots = NULL;
	size_t n = 0;
	long long scanned = 0, dbsize = 0;
	ice_err err = { 0 };

	tap_is_int(ice_cluster_masters(c, &slots, &n, &err), ICE_OK, "walk: the masters listed");
	tap_is_int((long long)n, 3, "walk: three masters");
	for (size_t m = 0; m < n; m++) {
		char cursor[32] = "0";

		do {
			redisReply *r = NULL;
			const char *argv[4] = { "SCAN", cursor, "COUNT", "500" };
			size_t lens[4] = { 4, strlen(cursor), 5, 3 };
			ice_cluster_cmd cmd = { 4, argv, lens, slots[m] };

			if (ice_cluster_command(c, &cmd, &r, &err) != ICE_OK || r->type != REDIS_REPLY_ARRAY ||
			    r->elements != 2) {
				freeReplyObject(r);
				scanned = -1;
				break;
			}
			snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
			scanned += (long long)r->element[1]->elements;
			freeReplyObject(r);
		} while (strcmp(cursor, "0") != 0);
		if (scanned < 0)
			break;
	}
	load_topology(port);
	for (int i = 0; i < n_topo; i++)
		if (topo[i].master && !topo[i].failed)
			dbsize += raw_int(topo[i].port, "DBSIZE");
	tap_is_int(scanned, dbsize, "walk: SCAN over every master sees every key (%s)", err.msg);
	free(slots);
}

static void test_auth(void)
{
	char url[512];
	ice_err err = { 0 };
	ice_cluster *c;
	const char *at = strchr(cluster_url, '@');

	if (!seeds.password || !at) {
		tap_ok(1, "auth: # SKIP the cluster has no password");
		return;
	}
	snprintf(url, sizeof url, "redis+cluster://:WrongPw0rd%s", at);
	c = open_client(url, 1000, &err);
	tap_ok(!c && strstr(err.msg, "authentication failed") && !strstr(err.msg, "WrongPw0rd"),
	       "auth: a wrong password is refused, and not shown (%s)", err.msg);
	ice_cluster_close(c);
	snprintf(url, sizeof url, "redis+cluster://%s", at + 1);
	c = open_client(url, 1000, &err);
	tap_ok(!c && strstr(err.msg, "NOAUTH") && strstr(err.msg, "redis://127.0.0.1:"),
	       "auth: no password: the node's answer, naming the node (%s)", err.msg);
	ice_cluster_close(c);
}

static void routing(void)
{
	ice_err err = { 0 };
	ice_cluster *c = open_client(cluster_url, 60000, &err);
	int port = seeds.ports[0];

	tap_ok(c != NULL, "open: the slot map read from the seeds (%s)", err.msg);
	if (!c)
		return;
	tap_ok(stats(c).refreshes == 1, "open: one CLUSTER SHARDS");
	test_keyslot(port);
	test_set_get(c, port);
	test_pipeline(c);
	test_scripts(c, port);
	test_moved(c, port);
	test_ask(c, port);
	test_walk(c, port);
	test_auth();
	ice_cluster_close(c);
}

/* ---- failover ---- */

static long long pid_of(int port)
{
	redisReply *r = raw(port, "INFO server");
	const char *p = r && r->type == REDIS_REPLY_STRING ? strstr(r->str, "process_id:") : NULL;
	long long pid = p ? atoll(p + strlen("process_id:")) : -1;

	freeReplyObject(r);
	return pid;
}

static int kill_node(int port)
{
	long long pid = pid_of(port);

	conn_drop(port);
	return pid > 1 && kill((pid_t)pid, SIGKILL) == 0;
}

/* The replicas of the master on port, alive, per CLUSTER NODES. */
static int live_replicas(int port)
{
	const tnode *m = node_of_port(port);
	int n = 0;

	for (int i = 0; m && i < n_topo; i++)
		n += strcmp(topo[i].master_of, m->id) == 0 && !topo[i].failed;
	return n;
}

static void failover(void)
{
	enum { N = 300 };
	static char keys[N][32], vals[N][32];
	redisReply *out[N];
	pipe_store p;
	ice_err err = { 0 };
	ice_cluster *c = open_client(cluster_url, 60000, &err), *c2;
	int slot, a, b, acked = 0, good = 0, rc, live;
	char where[64];
	uint64_t retries0;
	const char *msg;

	tap_ok(c != NULL, "open (%s)", err.msg);
	if (!c || pipe_new(&p, N) < 0)
		return;
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof keys[i], "fo:%d", i);
		snprintf(vals[i], sizeof vals[i], "f%d", i);
		pipe_add(&p, (size_t)i, "SET", keys[i], vals[i]);
	}
	rc = ice_cluster_pipeline(c, p.cmds, N, out, &err);
	tap_is_int(rc, ICE_OK, "failover: %d keys written (%s)", N, err.msg);
	if (rc == ICE_OK)
		replies_free(out, N);
	load_topology(seeds.ports[0]);
	for (int i = 0; i < n_topo; i++)
		if (topo[i].master)
			acked += raw_int(topo[i].port, "WAIT 1 20000") >= 1;
	tap_is_int(acked, 3, "failover: every master's replica has the writes (WAIT)");

	slot = slot_of(keys[0]);
	a = owner[slot];
	tap_ok(kill_node(a), "failover: the master of %s killed with SIGKILL", keys[0]);
	retries0 = stats(c).retries;
	for (int i = 0; i < N; i++)
		pipe_add(&p, (size_t)i, "GET", keys[i], NULL);
	good = pipeline_matches(c, p.cmds, N, vals, "failover: a pipeline over every master succeeds within the budget");
	tap_is_int(good, N, "failover: every value read back, those of the lost master from its replica");
	tap_ok(stats(c).retries > retries0, "failover: through retries (%llu)",
	       (unsigned long long)(stats(c).retries - retries0));
	where_of_port(where, sizeof where, a);
	tap_ok(ice_cluster_where(c, slot) && strcmp(ice_cluster_where(c, slot), where) != 0,
	       "failover: the map names the promoted replica (%s)", ice_cluster_where(c, slot));
	tap_ok(set(c, keys[0], "after"), "failover: a write to the promoted replica");
	tap_is_str(get(c, keys[0]), "after", "failover: and read back");

	/* The promoted replica has no replica (its master is dead): kill it. */
	/* the live nodes may hear of the promotion a little after the client */
	live = live_port(a, 0);
	for (int tries = 0; tries < 300 && (load_topology(live) < 0 || owner[slot] == a); tries++)
		sleep_ms(100);
	b = owner[slot];
	tap_ok(b && b != a && live_replicas(b) == 0, "no replica: the new master (port %d) has none", b);
	tap_ok(kill_node(b), "no replica: it is killed too");
	c2 = open_client(cluster_url, 3000, &err);
	tap_ok(c2 != NULL, "no replica: a new client opens through the live seeds (%s)", err.msg);
	if (c2) {
		msg = get(c2, keys[0]);
		where_of_port(where, sizeof where, b);
		tap_ok(strncmp(msg, "ERR:", 4) == 0 && strstr(msg, where) && strstr(msg, "gave up after 3000 ms"),
		       "no replica: a clear error naming the node, never a value (%s)", msg);
		ice_cluster_close(c2);
	}
	ice_cluster_close(c);
	pipe_free(&p);
}

/* ---- the backend on the cluster ---- */

/* What the backend checks leave, seen from the nodes: every key of an
 * entry's table in one slot; scripts flushed on the seeds come back. */
static void cluster_layout(const char *step, ice_backend *b)
{
	if (strcmp(step, "values") == 0) {
		redisReply *a = raw(seeds.ports[0], "CLUSTER KEYSLOT %s", "icecache:{db.v}:e:bin");
		redisReply *c = raw(seeds.ports[0], "CLUSTER KEYSLOT %s", "icecache:{db.v}:t:table:db.v");
		tap_ok(a && c && a->type == REDIS_REPLY_INTEGER && c->type == REDIS_REPLY_INTEGER &&
		       a->integer == c->integer && a->integer == slot_of("icecache:{db.v}:seq"),
		       "cluster layout: a table's keys share one slot");
		freeReplyObject(a);
		freeReplyObject(c);
	} else if (strcmp(step, "scan-many") == 0) {
		for (size_t i = 0; i < seeds.n; i++)
			freeReplyObject(raw(seeds.ports[i], "SCRIPT FLUSH"));
		tap_is_int(bc_count_scan(b, "db.many", NULL, NULL, 0), 700,
		           "cluster: a scan after SCRIPT FLUSH on the seeds reloads the scripts");
	}
}

static void backend(void)
{
	ice_backend *b = NULL;
	ice_err err = { 0 };

	if (ice_backend_open(cluster_url, NULL, &b, &err) != ICE_OK) {
		tap_ok(0, "backend: open %s (%s)", cluster_url, err.msg);
		return;
	}
	bc_run_all(b, cluster_url, "redis", cluster_layout);
	ice_backend_close(b);
}

int main(int argc, char **argv)
{
	ice_err err = { 0 };

	signal(SIGPIPE, SIG_IGN);
	cluster_url = getenv("ICE_TEST_CLUSTER_URL");
	if (!cluster_url || !cluster_url[0]) {
		printf("1..0 # SKIP no cluster (run through tests/cli/cluster-*.sh)\n");
		return 0;
	}
	if (ice_cluster_url_parse(cluster_url, &seeds, &err) != ICE_OK) {
		printf("Bail out! ICE_TEST_CLUSTER_URL: %s\n", err.msg);
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "failover") == 0)
		failover();
	else if (argc > 1 && strcmp(argv[1], "backend") == 0)
		backend();
	else
		routing();
	for (size_t i = 0; i < 16; i++)
		if (conns[i].ctx)
			redisFree(conns[i].ctx);
	ice_cluster_url_clear(&seeds);
	return tap_done();
}
