/* test-redis: the Redis backend against a real redis-server on a unix
 * socket: the shared behaviour checks (backend-checks.c) plus the public
 * key layout of icecache-keys(7), timeouts, AUTH and reconnection. */
#include "config.h"
#include "tap.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend-checks.h"
#include "ice_backend.h"
#include "ice_time.h"

void test_redis(void);

static redisContext *raw; /* our own connection, for checking the key layout */

/* ---- raw redis checks (binary-safe) ---- */

static redisReply *rawv(const char *cmd, const char *key, size_t klen, const char *arg)
{
	const char *argv[3] = { cmd, key, arg };
	size_t lens[3] = { strlen(cmd), klen, arg ? strlen(arg) : 0 };

	return redisCommandArgv(raw, arg ? 3 : 2, argv, lens);
}

static long long raw_int(const char *cmd, const char *key, const char *arg)
{
	redisReply *r = rawv(cmd, key, strlen(key), arg);
	long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;

	freeReplyObject(r);
	return v;
}

static char *raw_str(const char *cmd, const char *key, const char *arg)
{
	redisReply *r = rawv(cmd, key, strlen(key), arg);
	char *s = r && r->type == REDIS_REPLY_STRING ? strndup(r->str, r->len) : NULL;

	freeReplyObject(r);
	return s;
}

static long long raw_keys(const char *pattern)
{
	redisReply *r = redisCommand(raw, "KEYS %s", pattern);
	long long n = r && r->type == REDIS_REPLY_ARRAY ? (long long)r->elements : -1;

	freeReplyObject(r);
	return n;
}

/* ---- server ---- */

/* Become redis-server on the unix socket sock, or (port > 0) on
 * 127.0.0.1:port with a password; in a forked child only. */
static void exec_server(const char *dir, const char *sock, int port, const char *pass)
{
	char ports[16];

	snprintf(ports, sizeof ports, "%d", port);
	if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
		_exit(126);
	if (port > 0)
		execlp("redis-server", "redis-server", "--port", ports, "--bind", "127.0.0.1",
		       "--requirepass", pass, "--save", "", "--appendonly", "no",
		       "--daemonize", "no", "--dir", dir, (char *)NULL);
	else
		execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock,
		       "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir,
		       (char *)NULL);
	_exit(127);
}

/* Start redis-server (see exec_server) and wait until it answers. */
static pid_t start_server(const char *dir, const char *sock, int port, const char *pass)
{
	pid_t pid;
	int i;

	pid = fork();
	if (pid == 0)
		exec_server(dir, sock, port, pass);
	for (i = 0; pid > 0 && i < 100; i++) {
		redisContext *c = port > 0 ? redisConnect("127.0.0.1", port) : redisConnectUnix(sock);
		int ok = c && !c->err;
		redisFree(c);
		if (ok)
			return pid;
		bc_sleep_ms(50);
	}
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

/* A TCP port nobody listens on right now. */
static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t n = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &n) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void stop_server(pid_t pid)
{
	int st;

	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
}

/* ---- URL parsing and connection errors (no server needed) ---- */

static void test_urls(void)
{
	static const char *const bad[] = {
		"http://h", "redis://", "redis://h:0", "redis://h:99999", "redis://h:x",
		"redis://h/abc", "redis://h?db=1", "unix://relative.sock", "unix:///x?foo=1",
		"unix:///x?db=", "redis://u:%zz@h", "", "redis://[::1",
	};
	ice_backend_url u;
	ice_backend *b = NULL;
	ice_err err = { 0 };
	size_t i;
	int rc;

	rc = ice_backend_url_parse("redis://u:p@h:1/2", &u, &err);
	tap_ok(rc == ICE_OK && u.user && u.password && u.host && strcmp(u.user, "u") == 0 &&
	       strcmp(u.password, "p") == 0 && strcmp(u.host, "h") == 0 && u.port == 1 &&
	       u.db == 2 && !u.path, "url: redis://u:p@h:1/2");
	ice_backend_url_clear(&u);
	rc = ice_backend_url_parse("unix:///x?db=3", &u, &err);
	tap_ok(rc == ICE_OK && u.path && strcmp(u.path, "/x") == 0 && u.db == 3 && !u.host,
	       "url: unix:///x?db=3");
	ice_backend_url_clear(&u);
	rc = ice_backend_url_parse("redis://localhost", &u, &err);
	tap_ok(rc == ICE_OK && u.port == 6379 && u.db == 0 && !u.user && !u.password,
	       "url: defaults port 6379, db 0");
	ice_backend_url_clear(&u);
	rc = ice_backend_url_parse("redis://:p%40ss@[::1]:7000/", &u, &err);
	tap_ok(rc == ICE_OK && !u.user && u.password && strcmp(u.password, "p@ss") == 0 &&
	       strcmp(u.host, "::1") == 0 && u.port == 7000, "url: IPv6, percent-decoded password");
	ice_backend_url_clear(&u);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		rc = ice_backend_url_parse(bad[i], &u, &err);
		tap_ok(rc == ICE_EINVAL && err.msg[0], "url: bad '%s' refused (%s)", bad[i], err.msg);
		ice_backend_url_clear(&u);
	}
	rc = ice_backend_url_parse("redis://user:s3cret@h:x", &u, &err);
	tap_ok(rc == ICE_EINVAL && !strstr(err.msg, "s3cret"), "url: error hides the password");
	ice_backend_url_clear(&u);

	rc = ice_backend_open("redis://user:s3cret@127.0.0.1:1/0", NULL, &b, &err);
	tap_is_int(rc, ICE_EBACKEND, "unreachable: ICE_EBACKEND");
	tap_ok(strncmp(err.msg, "cannot connect to redis://127.0.0.1:1: ", 39) == 0 &&
	       !strstr(err.msg, "s3cret"), "unreachable: message names host:port, not the password (%s)",
	       err.msg);
	tap_ok(b == NULL, "unreachable: no backend");
}






















/* ---- the key layout after each step of the shared checks ---- */

static void layout_values(void)
{
	char *t = raw_str("GET", "icecache:k:bin", NULL), *v = raw_str("GET", "icecache:layout", NULL);

	tap_is_str(v, "2", "layout: P:layout holds the layout version, 2");
	free(v);

	tap_ok(raw_int("EXISTS", "icecache:{db.v}:e:bin", NULL) == 1 &&
	       raw_int("SISMEMBER", "icecache:{db.v}:t:file:db.v:data/1.parquet", "bin") == 1 &&
	       raw_int("SISMEMBER", "icecache:{db.v}:tags", "table:db.v") == 1,
	       "layout: entry hash, tag set, tags-in-use set");
	tap_is_str(t, "db.v", "layout: P:k:KEY holds the table");
	free(t);
}

static void layout_replaced(void)
{
	char *t = raw_str("GET", "icecache:k:r", NULL);

	tap_ok(raw_int("EXISTS", "icecache:{db.a}:e:r", NULL) == 0 &&
	       raw_int("EXISTS", "icecache:{db.a}:t:file:db.a:f1", NULL) == 0 &&
	       raw_int("EXISTS", "icecache:{db.a}:t:table:db.a", NULL) == 0 &&
	       raw_int("SISMEMBER", "icecache:{db.b}:t:snapshot:db.b:5", "r") == 1,
	       "replace: old entry and references gone, new ones present");
	tap_is_str(t, "db.b", "replace: P:k:KEY moved to the new table");
	free(t);
}

static void layout_invalidated_file(void)
{
	tap_ok(raw_int("EXISTS", "icecache:{db.o}:t:file:db.o:f1", NULL) == 0 &&
	       raw_int("EXISTS", "icecache:{db.o}:t:partition:db.o:p=1", NULL) == 0 &&
	       raw_int("SCARD", "icecache:{db.o}:t:table:db.o", NULL) == 1 &&
	       raw_int("SISMEMBER", "icecache:{db.o}:t:table:db.o", "e2") == 1 &&
	       raw_int("SISMEMBER", "icecache:{db.o}:tags", "partition:db.o:p=1") == 0 &&
	       raw_int("EXISTS", "icecache:k:e1", NULL) == 0 && raw_int("EXISTS", "icecache:k:e3", NULL) == 0,
	       "invalidate file tag: all references removed");
}

static void redis_layout(const char *step, ice_backend *b)
{
	char *h;

	if (strcmp(step, "values") == 0) {
		layout_values();
	} else if (strcmp(step, "ttl-live") == 0) {
		tap_ok(raw_int("PTTL", "icecache:{db.ttl}:e:short", NULL) > 0 &&
		       raw_int("PTTL", "icecache:k:short", NULL) > 0, "ttl: entry and P:k:KEY expire");
	} else if (strcmp(step, "ttl-expired") == 0) {
		tap_is_int(raw_int("SCARD", "icecache:{db.ttl}:t:file:db.ttl:f", NULL), 1, "ttl: dangling reference left");
	} else if (strcmp(step, "ttl-gc") == 0) {
		tap_ok(raw_int("EXISTS", "icecache:{db.ttl}:t:file:db.ttl:f", NULL) == 0 &&
		       raw_int("SISMEMBER", "icecache:{db.ttl}:tags", "file:db.ttl:f") == 0,
		       "gc: tag set and tag-in-use gone");
	} else if (strcmp(step, "replaced") == 0) {
		layout_replaced();
	} else if (strcmp(step, "deleted") == 0) {
		tap_ok(raw_int("EXISTS", "icecache:{db.b}:t:snapshot:db.b:5", NULL) == 0 &&
		       raw_int("EXISTS", "icecache:k:r", NULL) == 0, "delete: references gone");
	} else if (strcmp(step, "invalidated-file") == 0) {
		layout_invalidated_file();
	} else if (strcmp(step, "invalidated-table") == 0) {
		tap_is_int(raw_keys("icecache:{db.o}:[ekt]*"), 0, "invalidate table tag: no entry or tag keys left");
	} else if (strcmp(step, "big-written") == 0) {
		tap_is_int(raw_keys("icecache:{db.big}:e:*"), 2000, "2000 entry hashes");
	} else if (strcmp(step, "big-invalidated") == 0) {
		tap_is_int(raw_keys("icecache:{db.big}:[ekt]*"), 0, "2000: nothing left in the table");
	} else if (strcmp(step, "table-invalidated") == 0) {
		tap_is_int(raw_keys("icecache:{db.w}:[ekt]*"), 0, "invalidate_table: no entry or tag keys left");
	} else if (strcmp(step, "peeked") == 0) {
		h = raw_str("HGET", "icecache:{db.pk}:e:pk", "hits");
		tap_is_str(h, "0", "peek: the hits field stays 0");
		free(h);
	} else if (strcmp(step, "odd-invalidated") == 0) {
		tap_ok(raw_keys("odd:*") == 4 && raw_keys("odd:*stats") == 2 && raw_keys("odd:{db.w}:seq") == 1 &&
		       raw_keys("odd:layout") == 1,
		       "odd keys: only the layout, the two stats hashes and the table's sequence are left");
	} else if (strcmp(step, "scan-many") == 0) {
		freeReplyObject(redisCommand(raw, "SCRIPT FLUSH"));
		tap_is_int(bc_count_scan(b, "db.many", NULL, NULL, 0), 700,
		           "scan: a pipeline answered NOSCRIPT falls back and reloads");
	}
}

/* Layout version: a newer layout is refused; a layout-1 cache (no
 * version key, P:stats) is upgraded in place, its entries kept. */
static void test_layout_version(const char *url)
{
	static const char *const v1[][4] = {
		{ "HSET", "v1:stats", "puts", "7" },
		{ "SET", "v1:k:old", "db.v1", NULL },
		{ "SET", "v1:{db.v1}:seq", "1", NULL },
		{ "SADD", "v1:{db.v1}:t:table:db.v1", "old", NULL },
		{ "SADD", "v1:{db.v1}:tags", "table:db.v1", NULL },
		{ "SADD", "v1:{db.v1}:all", "old", NULL },
	};
	ice_backend_opts fut = { .prefix = "fut" }, o1 = { .prefix = "v1" };
	ice_backend *b = NULL;
	ice_err err = { 0 };
	void *v = NULL;
	size_t i, len = 0;
	char *lv;
	int rc;

	freeReplyObject(redisCommand(raw, "SET fut:layout 3"));
	rc = ice_backend_open(url, &fut, &b, &err);
	tap_ok(rc == ICE_EUNSUPPORTED && strstr(err.msg, "layout '3'") && strstr(err.msg, "upgrade IceCache"),
	       "layout: a newer layout is refused with a clear message (%s)", err.msg);
	ice_backend_close(b);
	b = NULL;

	for (i = 0; i < sizeof v1 / sizeof v1[0]; i++)
		freeReplyObject(rawv(v1[i][0], v1[i][1], strlen(v1[i][1]), v1[i][2]));
	freeReplyObject(redisCommand(raw, "HSET v1:stats puts 7"));
	freeReplyObject(redisCommand(raw, "HSET v1:{db.v1}:e:old v kept created 1 expires 0 size 4 hits 0 "
	                                  "tags table:db.v1 seq 1"));
	rc = ice_backend_open(url, &o1, &b, &err);
	tap_is_int(rc, ICE_OK, "layout 1: opened and upgraded in place (%s)", err.msg);
	if (rc)
		return;
	lv = raw_str("GET", "v1:layout", NULL);
	tap_ok(lv && strcmp(lv, "2") == 0 && raw_int("EXISTS", "v1:stats", NULL) == 0 &&
	       bc_counter(b, NULL, "puts") == 7, "layout 1: version 2 written, global counters moved");
	free(lv);
	tap_ok(ice_backend_get(b, "old", &v, &len, NULL, &err) == ICE_OK && len == 4 && memcmp(v, "kept", 4) == 0,
	       "layout 1: its entry is still there (%s)", err.msg);
	free(v);
	tap_ok(bc_inval1(b, "table:db.v1") == 1 && bc_get_rc(b, "old") == ICE_ENOENT &&
	       raw_int("EXISTS", "v1:k:old", NULL) == 0, "layout 1: its entry is invalidated as any other");
	ice_backend_close(b);
}

/* WAIT: asked for a replica a server without any cannot give, an
 * invalidation fails (its entries read as gone all the same); with the
 * default (no replicas: no WAIT) it succeeds. */
static void test_wait(const char *url)
{
	ice_backend_opts o = { .prefix = "wt", .wait_replicas = 1, .wait_timeout_ms = 100 };
	ice_backend *b = NULL;
	ice_err err = { 0 };
	uint64_t removed = 0;
	const char *tag = "table:db.w";
	int rc;

	if (ice_backend_open(url, &o, &b, &err)) {
		tap_ok(0, "wait: open (%s)", err.msg);
		return;
	}
	bc_put(b, "w1", "1", tag, NULL, NULL);
	rc = ice_backend_invalidate(b, &tag, 1, &removed, &err);
	tap_ok(rc == ICE_EBACKEND && strstr(err.msg, "acknowledged by 0 of 1 replica(s) within 100 ms"),
	       "wait: no replica acknowledged: the invalidation is not reported done (%s)", err.msg);
	tap_is_int(bc_get_rc(b, "w1"), ICE_ENOENT, "wait: its entry reads as gone all the same");
	ice_backend_close(b);
	o.wait_replicas = 0;
	b = NULL;
	tap_ok(ice_backend_open(url, &o, &b, &err) == ICE_OK && bc_inval1(b, tag) == 1,
	       "wait: by default a master without replicas waits for none (%s)", err.msg);
	ice_backend_close(b);
}

/* calls= of a command in INFO commandstats. */
static long long command_calls(const char *name)
{
	redisReply *r = redisCommand(raw, "INFO commandstats");
	char field[64];
	const char *p;
	long long n = -1;

	snprintf(field, sizeof field, "cmdstat_%s:calls=", name);
	if (r && r->type == REDIS_REPLY_STRING && (p = strstr(r->str, field)))
		n = strtoll(p + strlen(field), NULL, 10);
	freeReplyObject(r);
	return n;
}

/* Invalidation in two steps (lib/cache/redis.c): a big one is drained in bounded
 * batches; between the atomic mark and the end of the drain, readers see
 * every marked entry gone and new entries under the same tag live; an
 * interrupted drain is finished by gc. */
static void test_two_steps(ice_backend *b)
{
	char key[32];
	long long before;
	uint64_t refs = 0;
	int i, ok = 1;
	char job[64], gs[32];

	for (i = 0; i < 1800; i++) {
		snprintf(key, sizeof key, "batch%d", i);
		ok &= bc_put(b, key, "x", "partition:db.two:p=1", NULL, NULL) == ICE_OK;
	}
	before = command_calls("evalsha");
	tap_is_int((long long)bc_inval1(b, "partition:db.two:p=1"), 1800, "two steps: 1800 entries invalidated");
	/* the mark, then at least two drain rounds of at most 1024 entries,
	 * each with its unindex call */
	tap_ok(ok && command_calls("evalsha") - before >= 1 + 2 * 2,
	       "two steps: removed in batches of at most 1024 (%lld script calls)", command_calls("evalsha") - before);

	/* An invalidation interrupted after its mark, done by hand as the
	 * mark script does it. */
	bc_put(b, "old1", "1", "partition:db.two:p=2", "file:db.two:f1", NULL);
	bc_put(b, "old2", "2", "partition:db.two:p=2", NULL, NULL);
	bc_put(b, "kept", "3", "partition:db.two:p=3", "file:db.two:f1", NULL);
	redisReply *rep = redisCommand(raw, "INCR icecache:{db.two}:seq");
	snprintf(job, sizeof job, "%lld\n=partition:db.two:p=2", rep ? rep->integer : 0);
	snprintf(gs, sizeof gs, "%lld", rep ? rep->integer : 0);
	freeReplyObject(rep);
	freeReplyObject(redisCommand(raw, "SADD icecache:{db.two}:drain %s", job));
	freeReplyObject(redisCommand(raw, "HSET icecache:{db.two}:dead partition:db.two:p=2 %s", gs));
	bc_put(b, "new", "4", "partition:db.two:p=2", NULL, NULL);
	tap_ok(bc_get_rc(b, "old1") == ICE_ENOENT && bc_get_rc(b, "old2") == ICE_ENOENT,
	       "two steps: marked entries read as misses before the drain");
	tap_ok(bc_get_rc(b, "new") == ICE_OK && bc_get_rc(b, "kept") == ICE_OK,
	       "two steps: an entry put after the mark, and one sharing only another tag, are served");
	tap_is_int(bc_count_scan(b, "db.two", NULL, NULL, 0), 2, "two steps: scan (ls) hides the marked entries");
	tap_ok(ice_backend_gc(b, &refs, NULL) == ICE_OK && raw_int("EXISTS", "icecache:{db.two}:e:old1", NULL) == 0 &&
	       raw_int("EXISTS", "icecache:{db.two}:e:old2", NULL) == 0 &&
	       raw_int("EXISTS", "icecache:{db.two}:drain", NULL) == 0 &&
	       raw_int("EXISTS", "icecache:{db.two}:dead", NULL) == 0 &&
	       raw_int("EXISTS", "icecache:{db.two}:cur", NULL) == 0 &&
	       raw_int("SISMEMBER", "icecache:{db.two}:t:file:db.two:f1", "old1") == 0 &&
	       raw_int("SISMEMBER", "icecache:{db.two}:t:partition:db.two:p=2", "new") == 1,
	       "two steps: gc finishes the interrupted drain and its references, the new entry stays in the tag set");
	tap_ok(bc_get_rc(b, "new") == ICE_OK && bc_get_rc(b, "kept") == ICE_OK, "two steps: gc kept the live entries");
}

/* A command that outlives command_timeout_ms is ICE_ETIMEOUT. */
/* A batch whose queue had to be written early (a key put twice) and
 * failed there (Redis out of memory, maxmemory 1 with noeviction): the
 * put says so, and the commit fails too, so a caller counts nothing of
 * the batch as written; the server's limit lifted, puts work again. */
static void test_batch_lost(ice_backend *b)
{
	ice_err err = { 0 }, cerr = { 0 };
	int rc1, rc2, rc3;

	rc1 = ice_backend_batch(b, ICE_BATCH_BEGIN, &err);
	if (!rc1)
		rc1 = bc_put(b, "lost1", "1", "table:db.lost", NULL, NULL);
	freeReplyObject(redisCommand(raw, "CONFIG SET maxmemory-policy noeviction"));
	freeReplyObject(redisCommand(raw, "CONFIG SET maxmemory 1"));
	rc2 = ice_backend_put(b, "lost1", "2", 1, (const char *const[]){ "table:db.lost" }, 1, 0, NULL, &err);
	freeReplyObject(redisCommand(raw, "CONFIG SET maxmemory 0"));
	rc3 = ice_backend_batch(b, ICE_BATCH_COMMIT, &cerr);
	tap_ok(rc1 == ICE_OK && rc2 == ICE_EBACKEND && strstr(err.msg, "OOM") && rc3 == ICE_EBACKEND &&
	       strstr(cerr.msg, "lost"), "batch: a failure writing the queue early fails the put (%s) and the commit (%s)",
	       err.msg, cerr.msg);
	tap_is_int(bc_put(b, "lost2", "3", "table:db.lost", NULL, NULL), ICE_OK, "batch: puts work again after it");
}

static void test_timeout(const char *url)
{
	ice_backend_opts o = { .prefix = "to", .command_timeout_ms = 200 };
	ice_backend *b = NULL;
	ice_err err = { 0 };
	redisReply *rep = NULL;
	int done = 0;

	if (ice_backend_open(url, &o, &b, &err)) {
		tap_ok(0, "timeout: open (%s)", err.msg);
		return;
	}
	/* Busy the server for 600 ms (DEBUG SLEEP is disabled by default). */
	redisAppendCommand(raw, "EVAL %s 0",
	                   "local s = redis.call('TIME') local t0 = s[1] * 1000000 + s[2] "
	                   "while true do local n = redis.call('TIME') "
	                   "if n[1] * 1000000 + n[2] - t0 > 600000 then break end end return 1");
	while (!done && redisBufferWrite(raw, &done) == REDIS_OK)
		;
	bc_sleep_ms(50);
	tap_is_int(bc_get_rc(b, "k"), ICE_ETIMEOUT, "timeout: a blocked server gives ICE_ETIMEOUT");
	redisGetReply(raw, (void **)&rep);
	freeReplyObject(rep);
	ice_backend_close(b);
}

/* redis:// over TCP with AUTH (password alone and user:password) and a db. */
static void test_auth(const char *dir)
{
	int port = free_port();
	char url[128];
	pid_t pid = port > 0 ? start_server(dir, NULL, port, "s3cret") : -1;
	ice_backend *b = NULL;
	ice_err err = { 0 };
	int rc;

	if (pid < 0) {
		tap_ok(0, "auth: TCP server started");
		return;
	}
	snprintf(url, sizeof url, "redis://:s3cret@127.0.0.1:%d/1", port);
	rc = ice_backend_open(url, NULL, &b, &err);
	tap_ok(rc == ICE_OK && bc_put(b, "k", "v", "table:db.a", NULL, NULL) == ICE_OK && bc_get_rc(b, "k") == ICE_OK,
	       "auth: password and db 1 (%s)", err.msg);
	ice_backend_close(b);
	b = NULL;
	snprintf(url, sizeof url, "redis://default:s3cret@127.0.0.1:%d", port);
	rc = ice_backend_open(url, NULL, &b, &err);
	tap_ok(rc == ICE_OK && bc_get_rc(b, "k") == ICE_ENOENT, "auth: user:password, db 0 is another db (%s)", err.msg);
	ice_backend_close(b);
	b = NULL;
	snprintf(url, sizeof url, "redis://:wrongpass@127.0.0.1:%d", port);
	rc = ice_backend_open(url, NULL, &b, &err);
	tap_ok(rc == ICE_EBACKEND && !strstr(err.msg, "wrongpass") && strstr(err.msg, "authentication failed"),
	       "auth: wrong password is ICE_EBACKEND without the password (%s)", err.msg);
	snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
	rc = ice_backend_open(url, NULL, &b, &err);
	tap_ok(rc == ICE_EBACKEND && b == NULL, "auth: no password refused at open (%s)", err.msg);
	stop_server(pid);
}

/* A restarted server: the backend reconnects with backoff and repeats the
 * command; a server that stays away makes it give up after reconnect_ms. */
static void test_reconnect(const char *dir)
{
	ice_backend_opts quick_o = { .prefix = "rc", .reconnect_ms = 300 };
	ice_backend *b = NULL, *quick = NULL;
	char sock[96], url[128];
	ice_err err = { 0 };
	pid_t pid, late;
	int rc;

	snprintf(sock, sizeof sock, "%s/rc.sock", dir);
	snprintf(url, sizeof url, "unix://%s", sock);
	if ((pid = start_server(dir, sock, 0, NULL)) < 0 || ice_backend_open(url, NULL, &b, &err) ||
	    ice_backend_open(url, &quick_o, &quick, &err) || bc_put(b, "before", "1", "table:db.rc", NULL, NULL)) {
		tap_ok(0, "reconnect: server and backends (%s)", err.msg);
		goto out;
	}
	stop_server(pid);
	pid = -1;
	late = fork();
	if (late == 0) {
		bc_sleep_ms(400); /* still away when the put below first tries */
		exec_server(dir, sock, 0, NULL);
	}
	rc = bc_put(b, "during", "2", "table:db.rc", NULL, NULL);
	tap_ok(rc == ICE_OK && bc_get_rc(b, "during") == ICE_OK,
	       "reconnect: a put made while the server restarts lands after it");
	tap_is_int(bc_get_rc(b, "before"), ICE_ENOENT, "reconnect: the new server (no persistence) lost the old entry");
	if (late > 0)
		stop_server(late);
	rc = ice_backend_get(quick, "during", (void *[]){ NULL }, (size_t[]){ 0 }, NULL, &err);
	tap_ok(rc == ICE_EBACKEND && strstr(err.msg, "gave up reconnecting after 300 ms"),
	       "reconnect: gives up after its time limit with a clear error (%s)", err.msg);
out:
	if (pid > 0)
		stop_server(pid);
	ice_backend_close(b);
	ice_backend_close(quick);
	unlink(sock);
}

void test_redis(void)
{
	char dir[] = "/tmp/icecache-redis-XXXXXX", sock[64], url[96];
	ice_backend *b = NULL;
	ice_err err = { 0 };
	pid_t pid;

	test_urls();
	if (system("command -v redis-server >/dev/null 2>&1") != 0) {
		tap_ok(1, "# SKIP redis-server not installed");
		return;
	}
	if (!mkdtemp(dir)) {
		tap_ok(0, "redis: temp dir");
		return;
	}
	snprintf(sock, sizeof sock, "%s/r.sock", dir);
	snprintf(url, sizeof url, "unix://%s", sock);
	if ((pid = start_server(dir, sock, 0, NULL)) < 0) {
		tap_ok(0, "redis: server started");
		rmdir(dir);
		return;
	}
	raw = redisConnectUnix(sock);
	if (ice_backend_open(url, NULL, &b, &err) == ICE_OK && raw && !raw->err) {
		bc_run_all(b, url, "redis", redis_layout);
		test_two_steps(b);
		test_batch_lost(b);
		freeReplyObject(redisCommand(raw, "SCRIPT FLUSH"));
		tap_ok(bc_put(b, "after-flush", "v", "table:db.f", NULL, NULL) == ICE_OK &&
		       bc_get_rc(b, "after-flush") == ICE_OK && bc_inval1(b, "table:db.f") == 1,
		       "scripts reloaded after SCRIPT FLUSH (NOSCRIPT)");
		test_timeout(url);
		test_layout_version(url);
		test_wait(url);
		ice_backend_close(b);
	} else {
		tap_ok(0, "redis: open %s (%s)", url, err.msg);
	}
	redisFree(raw);
	stop_server(pid);
	test_auth(dir);
	test_reconnect(dir);
	unlink(sock);
	rmdir(dir);
}
