/* test-redis: the Redis backend against a real redis-server on a unix socket. */
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

#include "ice_backend.h"

void test_redis(void);

static redisContext *raw; /* our own connection, for checking the key layout */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

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

/* redis-server on the unix socket sock, or (port > 0) on 127.0.0.1:port
 * with a password. */
static pid_t start_server(const char *dir, const char *sock, int port, const char *pass)
{
	char ports[16];
	pid_t pid;
	int i;

	snprintf(ports, sizeof ports, "%d", port);
	pid = fork();
	if (pid == 0) {
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
	for (i = 0; pid > 0 && i < 100; i++) {
		redisContext *c = port > 0 ? redisConnect("127.0.0.1", port) : redisConnectUnix(sock);
		int ok = c && !c->err;
		redisFree(c);
		if (ok)
			return pid;
		sleep_ms(50);
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

/* ---- helpers over the backend ---- */

static int put(ice_backend *b, const char *key, const char *val, const char *t1, const char *t2,
               const char *t3)
{
	const char *tags[3] = { t1, t2, t3 };
	size_t n = t3 ? 3 : t2 ? 2 : t1 ? 1 : 0;
	ice_err err = { 0 };
	int rc = ice_backend_put(b, key, val, strlen(val), tags, n, 0, "put", &err);

	if (rc)
		tap_diag("put %s: %s", key, err.msg);
	return rc;
}

static int get_rc(ice_backend *b, const char *key)
{
	void *v = NULL;
	size_t len;
	int rc = ice_backend_get(b, key, &v, &len, NULL, NULL);

	free(v);
	return rc;
}

static uint64_t inval1(ice_backend *b, const char *tag)
{
	const char *tags[1] = { tag };
	uint64_t removed = 999999;
	ice_err err = { 0 };

	if (ice_backend_invalidate(b, tags, 1, &removed, &err))
		tap_diag("invalidate %s: %s", tag, err.msg);
	return removed;
}

static long long counter(ice_backend *b, const char *table, const char *name)
{
	json_t *c = NULL;
	long long v = -1;

	if (ice_backend_counters(b, table, &c, NULL) == ICE_OK)
		v = json_integer_value(json_object_get(c, name));
	json_decref(c);
	return v;
}

/* ---- entries ---- */

static void test_values(ice_backend *b)
{
	static const char bin[] = "a\0b\0\0c\xff";
	const char *tags[2] = { "table:db.v", "file:db.v:data/1.parquet" };
	size_t big = 1024 * 1024, len = 0, i;
	unsigned char *mb = malloc(big);
	void *v = NULL;
	ice_entry_meta m = { 0 };
	ice_err err = { 0 };
	int rc;

	rc = ice_backend_put(b, "bin", bin, sizeof bin, tags, 2, 0, "exec", &err);
	tap_is_int(rc, ICE_OK, "put binary value (%s)", err.msg);
	rc = ice_backend_get(b, "bin", &v, &len, &m, &err);
	tap_ok(rc == ICE_OK && len == sizeof bin && memcmp(v, bin, len) == 0, "get: NUL bytes round trip");
	tap_ok(m.size == sizeof bin && m.hits == 1 && m.expires_ms == 0 && m.created_ms > 0,
	       "get: size, hits, no expiry");
	tap_is_str(m.origin, "exec", "get: origin");
	tap_is_str(m.table, "db.v", "get: table from the first table-scoped tag");
	tap_ok(m.n_tags == 2 && strcmp(m.tags[1], "file:db.v:data/1.parquet") == 0, "get: tags");
	free(v);
	ice_entry_meta_clear(&m);
	tap_ok(raw_int("EXISTS", "icecache:{db.v}:e:bin", NULL) == 1 &&
	       raw_int("SISMEMBER", "icecache:{db.v}:t:file:db.v:data/1.parquet", "bin") == 1 &&
	       raw_int("SISMEMBER", "icecache:{db.v}:tags", "table:db.v") == 1,
	       "layout: entry hash, tag set, tags-in-use set");
	{
		char *t = raw_str("GET", "icecache:k:bin", NULL);
		tap_is_str(t, "db.v", "layout: P:k:KEY holds the table");
		free(t);
	}

	for (i = 0; mb && i < big; i++)
		mb[i] = (unsigned char)(i * 7 + (i >> 11));
	rc = ice_backend_put(b, "big", mb, big, NULL, 0, 0, NULL, &err);
	tap_is_int(rc, ICE_OK, "put 1 MiB (%s)", err.msg);
	rc = ice_backend_get(b, "big", &v, &len, &m, &err);
	tap_ok(rc == ICE_OK && len == big && memcmp(v, mb, big) == 0, "get: 1 MiB round trip");
	tap_ok(m.origin == NULL && m.n_tags == 0 && m.table && strcmp(m.table, "_") == 0,
	       "get: no origin, no tags, table _");
	free(v);
	ice_entry_meta_clear(&m);
	free(mb);

	v = (void *)1;
	rc = ice_backend_get(b, "nope", &v, &len, NULL, &err);
	tap_ok(rc == ICE_ENOENT && v == NULL, "get: miss is ICE_ENOENT");
	rc = ice_backend_put(b, "x", "v", 1, (const char *const[]){ "bad\ntag" }, 1, 0, NULL, &err);
	tap_is_int(rc, ICE_EINVAL, "put: tag with a newline refused");
	rc = ice_backend_put(b, "x", "v", 1, (const char *const[]){ "table:a", "file:b:f" }, 2, 0, NULL, &err);
	tap_is_int(rc, ICE_EINVAL, "put: table-scoped tags of two tables refused");
}

static void test_ttl(ice_backend *b)
{
	const char *tags[1] = { "file:db.ttl:f" };
	ice_err err = { 0 };
	uint64_t refs = 0;
	int rc;

	rc = ice_backend_put(b, "short", "v", 1, tags, 1, 200, "put", &err);
	tap_is_int(rc, ICE_OK, "ttl: put with 200 ms");
	tap_is_int(get_rc(b, "short"), ICE_OK, "ttl: hit before expiry");
	tap_ok(raw_int("PTTL", "icecache:{db.ttl}:e:short", NULL) > 0 &&
	       raw_int("PTTL", "icecache:k:short", NULL) > 0, "ttl: entry and P:k:KEY expire");
	sleep_ms(400);
	tap_is_int(get_rc(b, "short"), ICE_ENOENT, "ttl: gone after 400 ms");
	tap_is_int(raw_int("SCARD", "icecache:{db.ttl}:t:file:db.ttl:f", NULL), 1, "ttl: dangling reference left");
	rc = ice_backend_gc(b, &refs, &err);
	tap_ok(rc == ICE_OK && refs >= 1, "gc: removed %llu dangling reference(s)", (unsigned long long)refs);
	tap_ok(raw_int("EXISTS", "icecache:{db.ttl}:t:file:db.ttl:f", NULL) == 0 &&
	       raw_int("SISMEMBER", "icecache:{db.ttl}:tags", "file:db.ttl:f") == 0,
	       "gc: tag set and tag-in-use gone");
}

static void test_replace_delete(ice_backend *b)
{
	const char *keys[2] = { "r", "never" };
	uint64_t removed = 0;
	char *t;

	put(b, "r", "one", "table:db.a", "file:db.a:f1", NULL);
	put(b, "r", "two", "table:db.b", "snapshot:db.b:5", NULL);
	tap_ok(raw_int("EXISTS", "icecache:{db.a}:e:r", NULL) == 0 &&
	       raw_int("EXISTS", "icecache:{db.a}:t:file:db.a:f1", NULL) == 0 &&
	       raw_int("EXISTS", "icecache:{db.a}:t:table:db.a", NULL) == 0 &&
	       raw_int("SISMEMBER", "icecache:{db.b}:t:snapshot:db.b:5", "r") == 1,
	       "replace: old entry and references gone, new ones present");
	t = raw_str("GET", "icecache:k:r", NULL);
	tap_is_str(t, "db.b", "replace: P:k:KEY moved to the new table");
	free(t);
	tap_is_int(ice_backend_delete(b, keys, 2, &removed, NULL), ICE_OK, "delete: ok");
	tap_is_int((long long)removed, 1, "delete: one removed");
	tap_is_int(get_rc(b, "r"), ICE_ENOENT, "delete: gone");
	tap_ok(raw_int("EXISTS", "icecache:{db.b}:t:snapshot:db.b:5", NULL) == 0 &&
	       raw_int("EXISTS", "icecache:k:r", NULL) == 0, "delete: references gone");
}

static void test_invalidate(ice_backend *b)
{
	char key[32], file[64];
	const char *tags[2];
	ice_err err = { 0 };
	int i, ok = 1;

	put(b, "e1", "1", "table:db.o", "file:db.o:f1", NULL);
	put(b, "e2", "2", "table:db.o", "file:db.o:f2", NULL);
	put(b, "e3", "3", "table:db.o", "file:db.o:f1", "partition:db.o:p=1");
	tap_is_int((long long)inval1(b, "file:db.o:f1"), 2, "invalidate file tag: 2 entries");
	tap_ok(get_rc(b, "e1") == ICE_ENOENT && get_rc(b, "e3") == ICE_ENOENT && get_rc(b, "e2") == ICE_OK,
	       "invalidate file tag: only entries with that tag");
	tap_ok(raw_int("EXISTS", "icecache:{db.o}:t:file:db.o:f1", NULL) == 0 &&
	       raw_int("EXISTS", "icecache:{db.o}:t:partition:db.o:p=1", NULL) == 0 &&
	       raw_int("SCARD", "icecache:{db.o}:t:table:db.o", NULL) == 1 &&
	       raw_int("SISMEMBER", "icecache:{db.o}:t:table:db.o", "e2") == 1 &&
	       raw_int("SISMEMBER", "icecache:{db.o}:tags", "partition:db.o:p=1") == 0 &&
	       raw_int("EXISTS", "icecache:k:e1", NULL) == 0 && raw_int("EXISTS", "icecache:k:e3", NULL) == 0,
	       "invalidate file tag: all references removed");
	tap_is_int((long long)inval1(b, "table:db.o"), 1, "invalidate table tag: the rest");
	tap_is_int(raw_keys("icecache:{db.o}:[ekt]*"), 0, "invalidate table tag: no entry or tag keys left");
	tap_is_int((long long)inval1(b, "table:db.o"), 0, "invalidate again: idempotent");

	for (i = 0; i < 2000; i++) {
		snprintf(key, sizeof key, "big%d", i);
		snprintf(file, sizeof file, "file:db.big:f%d", i % 10);
		ok &= put(b, key, "x", "table:db.big", file, NULL) == ICE_OK;
	}
	tap_ok(ok && raw_keys("icecache:{db.big}:e:*") == 2000, "2000 entries written");
	tap_is_int((long long)inval1(b, "table:db.big"), 2000, "invalidate 2000 entries in one call");
	tap_is_int(raw_keys("icecache:{db.big}:[ekt]*"), 0, "2000: nothing left in the table");

	put(b, "u1", "1", "table:db.x", "user:alice", NULL);
	put(b, "u2", "2", "user:alice", NULL, NULL);
	put(b, "u3", "3", "user:bob", NULL, NULL);
	tap_is_int((long long)inval1(b, "user:alice"), 2, "invalidate a free-form tag across tables");
	tap_ok(get_rc(b, "u3") == ICE_OK && get_rc(b, "u1") == ICE_ENOENT, "free-form: others kept");
	tags[0] = "user:bob";
	tags[1] = "bad\ntag";
	tap_is_int(ice_backend_invalidate(b, tags, 2, NULL, &err), ICE_EINVAL, "invalidate: bad tag refused");
}

/* Whole-table invalidation: every entry of the table, whatever its tags. */
static void test_invalidate_table(ice_backend *b)
{
	ice_err err = { 0 };
	uint64_t removed = 0;

	put(b, "w1", "1", "partition:db.w:p=1", NULL, NULL);
	put(b, "w2", "2", "file:db.w:f", NULL, NULL);
	put(b, "w3", "3", "table:db.w", NULL, NULL);
	put(b, "o1", "4", "table:db.other", NULL, NULL);
	tap_ok(ice_backend_invalidate_table(b, "db.w", &removed, &err) == ICE_OK && removed == 3,
	       "invalidate_table: 3 entries removed (%s)", err.msg);
	tap_ok(get_rc(b, "w1") == ICE_ENOENT && get_rc(b, "w2") == ICE_ENOENT && get_rc(b, "w3") == ICE_ENOENT &&
	       get_rc(b, "o1") == ICE_OK, "invalidate_table: entries of other tables kept");
	tap_is_int(raw_keys("icecache:{db.w}:[ekt]*"), 0, "invalidate_table: no entry or tag keys left");
}

/* A lock is exclusive, expires, and only its holder releases it. */
static void test_locks(ice_backend *b)
{
	ice_err err = { 0 };

	tap_is_int(ice_backend_lock(b, "job", "a", 10000, &err), ICE_OK, "lock: taken");
	tap_is_int(ice_backend_lock(b, "job", "b", 10000, &err), ICE_EBUSY, "lock: held, another token is refused");
	tap_is_int(ice_backend_unlock(b, "job", "b", &err), ICE_OK, "unlock by a non-holder is harmless");
	tap_is_int(ice_backend_lock(b, "job", "b", 10000, &err), ICE_EBUSY, "lock: still held after a foreign unlock");
	tap_is_int(ice_backend_unlock(b, "job", "a", &err), ICE_OK, "unlock by the holder");
	tap_is_int(ice_backend_lock(b, "job", "b", 50, &err), ICE_OK, "lock: free again after unlock");
	sleep_ms(120);
	tap_is_int(ice_backend_lock(b, "job", "c", 10000, &err), ICE_OK, "lock: taken after the time limit passed");
	tap_is_int(ice_backend_lock(b, "job", "c", 0, &err), ICE_EINVAL, "lock: no time limit refused");
	ice_backend_unlock(b, "job", "c", &err);
}

/* peek reads an entry without counting a hit or a miss. */
static void test_peek(ice_backend *b)
{
	ice_entry_meta m = { 0 };
	ice_err err = { 0 };
	void *val = NULL;
	size_t len = 0;
	long long hits = counter(b, NULL, "hits"), misses = counter(b, NULL, "misses");
	char *h;

	put(b, "pk", "peeked", "table:db.pk", NULL, NULL);
	tap_ok(ice_backend_peek(b, "pk", &val, &len, &m, &err) == ICE_OK && len == 6 &&
	       memcmp(val, "peeked", 6) == 0 && m.hits == 0, "peek: value and meta");
	free(val);
	ice_entry_meta_clear(&m);
	val = NULL;
	tap_is_int(ice_backend_peek(b, "no-such", &val, &len, NULL, &err), ICE_ENOENT, "peek: miss");
	h = raw_str("HGET", "icecache:{db.pk}:e:pk", "hits");
	tap_ok(counter(b, NULL, "hits") == hits && counter(b, NULL, "misses") == misses && h &&
	       strcmp(h, "0") == 0, "peek: no counter moved");
	free(h);
}

static void test_server_info(ice_backend *b)
{
	ice_err err = { 0 };
	json_t *info = NULL;
	int rc = ice_backend_server_info(b, &info, &err);

	tap_ok(rc == ICE_OK && json_is_integer(json_object_get(info, "used_bytes")) &&
	       json_integer_value(json_object_get(info, "used_bytes")) > 0 &&
	       json_is_integer(json_object_get(info, "evicted")) &&
	       json_is_integer(json_object_get(info, "expired")) &&
	       strcmp(json_string_value(json_object_get(info, "backend")), "redis") == 0,
	       "server_info: used bytes, evictions, expirations (%s)", err.msg);
	json_decref(info);
}

static void test_counters(const char *url)
{
	ice_backend_opts o = { "cnt", 0, 0 };
	ice_backend *b = NULL;
	ice_err err = { 0 };

	if (ice_backend_open(url, &o, &b, &err)) {
		tap_ok(0, "counters: open (%s)", err.msg);
		return;
	}
	tap_is_int(counter(b, NULL, "hits"), 0, "counters: start at 0");
	put(b, "a", "1", "table:db.c", "file:db.c:f", NULL);
	put(b, "b", "2", "table:db.c", NULL, NULL);
	get_rc(b, "a");
	get_rc(b, "a");
	get_rc(b, "zz");
	inval1(b, "file:db.c:f");
	get_rc(b, "a");
	tap_ok(counter(b, NULL, "puts") == 2 && counter(b, NULL, "hits") == 2 &&
	       counter(b, NULL, "misses") == 2 && counter(b, NULL, "invalidations") == 1 &&
	       counter(b, NULL, "invalidated") == 1, "counters: global");
	tap_ok(counter(b, "db.c", "puts") == 2 && counter(b, "db.c", "hits") == 2 &&
	       counter(b, "db.c", "invalidations") == 1 && counter(b, "db.c", "invalidated") == 1,
	       "counters: per table");
	tap_is_int(counter(b, "db.none", "puts"), 0, "counters: unknown table is all 0");
	{
		void *v = NULL;
		size_t len;
		ice_entry_meta m = { 0 };
		ice_backend_get(b, "b", &v, &len, &m, NULL);
		tap_is_int((long long)m.hits, 1, "counters: entry hits");
		free(v);
		ice_entry_meta_clear(&m);
	}
	ice_backend_close(b);
}

/* Tables in use and counter resets (a prefix of their own). */
static void test_tables_reset(const char *url)
{
	ice_backend_opts o = { "tr", 0, 0 };
	ice_backend *b = NULL;
	ice_err err = { 0 };
	json_t *cur = json_integer(7);
	char **t = NULL;
	size_t n = 0;
	uint64_t removed = 0;

	if (ice_backend_open(url, &o, &b, &err)) {
		tap_ok(0, "tables: open (%s)", err.msg);
		json_decref(cur);
		return;
	}
	tap_ok(ice_backend_tables(b, &t, &n, &err) == ICE_OK && n == 0, "tables: none in an empty cache");
	ice_backend_strv_free(t, n);
	put(b, "a", "1", "table:db.b", NULL, NULL);
	put(b, "odd}:stats", "1", "table:db.a", "x}:c:y", NULL);
	put(b, "none", "1", NULL, NULL, NULL);
	ice_backend_cursor_set(b, "db.c", "invalidated", cur, &err);
	t = NULL;
	tap_ok(ice_backend_tables(b, &t, &n, &err) == ICE_OK && n == 4 && strcmp(t[0], "_") == 0 &&
	       strcmp(t[1], "db.a") == 0 && strcmp(t[2], "db.b") == 0 && strcmp(t[3], "db.c") == 0,
	       "tables: tags, counters and cursors, sorted, odd keys not mistaken (%s)", err.msg);
	ice_backend_strv_free(t, n);

	get_rc(b, "a");
	tap_ok(ice_backend_counters_reset(b, "db.b", &err) == ICE_OK && counter(b, "db.b", "hits") == 0 &&
	       counter(b, "db.b", "puts") == 0 && counter(b, NULL, "hits") == 1 && counter(b, "db.a", "puts") == 1,
	       "counters_reset table: that table only, global kept (%s)", err.msg);
	tap_ok(ice_backend_counters_reset(b, NULL, &err) == ICE_OK && counter(b, NULL, "hits") == 0 &&
	       counter(b, NULL, "puts") == 0 && counter(b, "db.a", "puts") == 0 && counter(b, "_", "puts") == 0,
	       "counters_reset all: global and every table (%s)", err.msg);
	tap_ok(get_rc(b, "a") == ICE_OK && counter(b, "db.b", "hits") == 1, "counters_reset: entries kept, counting goes on");

	put(b, "w1", "1", "partition:db.w:p=1", NULL, NULL);
	put(b, "w2", "2", "file:db.w:f", NULL, NULL);
	ice_backend_invalidate_table(b, "db.w", &removed, &err);
	tap_ok(removed == 2 && counter(b, "db.w", "invalidated") == 2 && counter(b, "db.w", "invalidations") == 1 &&
	       counter(b, NULL, "invalidated") == 2, "invalidate_table: counts its entries as invalidated");
	json_decref(cur);
	ice_backend_close(b);
}

static void test_cursors(ice_backend *b)
{
	json_t *in = json_pack("{s:I, s:[i,s]}", "snapshot_id", (json_int_t)1234567890123LL, "x", 1, "y");
	json_t *got = NULL, *five = json_integer(5);
	ice_err err = { 0 };

	tap_is_int(ice_backend_cursor_get(b, "db.t", "poll", &got, &err), ICE_ENOENT, "cursor: unset is ENOENT");
	tap_is_int(ice_backend_cursor_set(b, "db.t", "poll", in, &err), ICE_OK, "cursor: set");
	tap_ok(ice_backend_cursor_get(b, "db.t", "poll", &got, &err) == ICE_OK && json_equal(got, in),
	       "cursor: round trip");
	json_decref(got);
	got = NULL;
	ice_backend_cursor_set(b, "db.t", "inval", five, &err);
	tap_ok(ice_backend_cursor_get(b, "db.t", "inval", &got, &err) == ICE_OK && json_equal(got, five),
	       "cursor: a bare number, separate name");
	json_decref(got);
	json_decref(in);
	json_decref(five);
}

/* ---- scan ---- */

typedef struct seen {
	int n, stop_after;
	char keys[512];
} seen;

static int on_entry(void *ctx, const char *key, const ice_entry_meta *m)
{
	seen *s = ctx;

	(void)m;
	s->n++;
	strncat(s->keys, key, sizeof s->keys - strlen(s->keys) - 2);
	strcat(s->keys, ",");
	return s->stop_after && s->n >= s->stop_after;
}

static int count_scan(ice_backend *b, const char *table, const char *tag, const char *pattern, int stop)
{
	seen s = { 0, stop, "" };
	ice_err err = { 0 };

	if (ice_backend_scan(b, table, tag, pattern, on_entry, &s, &err)) {
		tap_diag("scan: %s", err.msg);
		return -1;
	}
	return s.n;
}

static void test_scan(const char *url)
{
	ice_backend_opts o = { "scan", 0, 0 };
	ice_backend *b = NULL;
	ice_err err = { 0 };

	if (ice_backend_open(url, &o, &b, &err)) {
		tap_ok(0, "scan: open (%s)", err.msg);
		return;
	}
	put(b, "a1", "1", "table:db.s", "file:db.s:f", NULL);
	put(b, "a2", "2", "table:db.s", NULL, NULL);
	put(b, "b1", "3", "table:db.z", "file:db.z:f", NULL);
	put(b, "c1", "4", "user:bob", NULL, NULL);
	tap_is_int(count_scan(b, NULL, NULL, NULL, 0), 4, "scan: all");
	tap_is_int(count_scan(b, "db.s", NULL, NULL, 0), 2, "scan: by table");
	tap_is_int(count_scan(b, "_", NULL, NULL, 0), 1, "scan: table _");
	tap_is_int(count_scan(b, NULL, "file:db.s:f", NULL, 0), 1, "scan: by tag");
	tap_is_int(count_scan(b, NULL, "user:bob", NULL, 0), 1, "scan: by free-form tag");
	tap_is_int(count_scan(b, "db.z", "user:bob", NULL, 0), 0, "scan: tag and table");
	tap_is_int(count_scan(b, NULL, NULL, "a*", 0), 2, "scan: by pattern");
	tap_is_int(count_scan(b, "db.s", "table:db.s", "*2", 0), 1, "scan: table, tag and pattern");
	tap_is_int(count_scan(b, NULL, NULL, NULL, 1), 1, "scan: callback stops");
	ice_backend_close(b);
}

static void test_odd_keys(const char *url)
{
	static const char *const keys[] = { "with space", "new\nline", "star*", "starfish", "\xff\x01\x7f bin", "q?[x]" };
	ice_backend_opts o = { "odd", 0, 0 };
	ice_backend *b = NULL;
	ice_err err = { 0 };
	size_t i;
	int ok = 1;

	if (ice_backend_open(url, &o, &b, &err)) {
		tap_ok(0, "odd keys: open (%s)", err.msg);
		return;
	}
	for (i = 0; i < 6; i++)
		ok &= put(b, keys[i], keys[i], "table:db.w", "file:db.w:odd file\xfe", NULL) == ICE_OK;
	for (i = 0; i < 6; i++) {
		void *v = NULL;
		size_t len = 0;
		ok &= ice_backend_get(b, keys[i], &v, &len, NULL, NULL) == ICE_OK && len == strlen(keys[i]) &&
		      memcmp(v, keys[i], len) == 0;
		free(v);
	}
	tap_ok(ok, "odd keys: put/get spaces, newlines, glob characters, high bytes");
	tap_is_int(count_scan(b, NULL, NULL, "star\\*", 0), 1, "odd keys: escaped pattern matches only star*");
	tap_is_int(count_scan(b, "db.w", NULL, "*\n*", 0), 1, "odd keys: pattern across a newline");
	tap_is_int(count_scan(b, NULL, "file:db.w:odd file\xfe", NULL, 0), 6, "odd keys: scan by odd tag");
	tap_is_int((long long)inval1(b, "file:db.w:odd file\xfe"), 6, "odd keys: invalidated");
	tap_ok(raw_keys("odd:*") == 2 && raw_keys("odd:*stats") == 2, "odd keys: only the two stats hashes are left");
	ice_backend_close(b);
}

/* A command that outlives command_timeout_ms is ICE_ETIMEOUT. */
static void test_timeout(const char *url)
{
	ice_backend_opts o = { "to", 0, 200 };
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
	sleep_ms(50);
	tap_is_int(get_rc(b, "k"), ICE_ETIMEOUT, "timeout: a blocked server gives ICE_ETIMEOUT");
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
	tap_ok(rc == ICE_OK && put(b, "k", "v", "table:db.a", NULL, NULL) == ICE_OK && get_rc(b, "k") == ICE_OK,
	       "auth: password and db 1 (%s)", err.msg);
	ice_backend_close(b);
	b = NULL;
	snprintf(url, sizeof url, "redis://default:s3cret@127.0.0.1:%d", port);
	rc = ice_backend_open(url, NULL, &b, &err);
	tap_ok(rc == ICE_OK && get_rc(b, "k") == ICE_ENOENT, "auth: user:password, db 0 is another db (%s)", err.msg);
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
		test_values(b);
		test_ttl(b);
		test_replace_delete(b);
		test_invalidate(b);
		test_invalidate_table(b);
		test_locks(b);
		test_peek(b);
		test_server_info(b);
		test_cursors(b);
		freeReplyObject(redisCommand(raw, "SCRIPT FLUSH"));
		tap_ok(put(b, "after-flush", "v", "table:db.f", NULL, NULL) == ICE_OK &&
		       get_rc(b, "after-flush") == ICE_OK && inval1(b, "table:db.f") == 1,
		       "scripts reloaded after SCRIPT FLUSH (NOSCRIPT)");
		test_counters(url);
		test_tables_reset(url);
		test_scan(url);
		test_odd_keys(url);
		test_timeout(url);
		ice_backend_close(b);
	} else {
		tap_ok(0, "redis: open %s (%s)", url, err.msg);
	}
	redisFree(raw);
	stop_server(pid);
	test_auth(dir);
	unlink(sock);
	rmdir(dir);
}
