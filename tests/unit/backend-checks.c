/* backend-checks: the behaviour every cache backend must show, run by
 * test-redis.c and test-sqlite.c on their own backend. A backend's own
 * storage layout is checked by its test through the layout hook, called
 * after each named step. */
#include "config.h"
#include "backend-checks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ice_keyscan.h"
#include "ice_time.h"

static bc_layout_fn layout_fn;

static void layout(const char *step, ice_backend *b)
{
	if (layout_fn)
		layout_fn(step, b);
}

void bc_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- scan ---- */

typedef struct seen {
	int n, stop_after;
	char keys[512];
} seen;

int bc_put(ice_backend *b, const char *key, const char *val, const char *t1, const char *t2,
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

int bc_get_rc(ice_backend *b, const char *key)
{
	void *v = NULL;
	size_t len;
	int rc = ice_backend_get(b, key, &v, &len, NULL, NULL);

	free(v);
	return rc;
}

uint64_t bc_inval1(ice_backend *b, const char *tag)
{
	const char *tags[1] = { tag };
	uint64_t removed = 999999;
	ice_err err = { 0 };

	if (ice_backend_invalidate(b, tags, 1, &removed, &err))
		tap_diag("invalidate %s: %s", tag, err.msg);
	return removed;
}

long long bc_counter(ice_backend *b, const char *table, const char *name)
{
	json_t *c = NULL;
	long long v = -1;

	if (ice_backend_counters(b, table, &c, NULL) == ICE_OK)
		v = json_integer_value(json_object_get(c, name));
	json_decref(c);
	return v;
}

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
	layout("values", b);

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
}

/* An entry over two tables (a cached join): every backend holds it, lists
 * it under both tables, and a commit to either removes it. */
static void test_two_tables(ice_backend *b, const char *backend)
{
	const char *tags[2] = { "table:db.j1", "file:db.j2:f" };
	ice_entry_meta m = { 0 };
	ice_err err = { 0 };
	uint64_t removed = 0;
	void *v = NULL;
	size_t len;
	int rc = ice_backend_put(b, "join", "v", 1, tags, 2, 0, NULL, &err);

	tap_is_int(rc, ICE_OK, "put: an entry over two tables (%s: %s)", backend, err.msg);
	rc = ice_backend_peek(b, "join", &v, &len, &m, &err);
	tap_ok(rc == ICE_OK && m.n_tables == 2 && strcmp(m.tables[0], "db.j1") == 0 &&
	       strcmp(m.tables[1], "db.j2") == 0 && strcmp(m.table, "db.j1") == 0,
	       "peek: both tables, the home table first");
	free(v);
	ice_entry_meta_clear(&m);
	tap_is_int(bc_count_scan(b, "db.j2", NULL, NULL, 0), 1, "scan of the second table lists it");
	rc = ice_backend_invalidate_table(b, "db.j2", &removed, &err);
	tap_ok(rc == ICE_OK && removed == 1 && bc_get_rc(b, "join") == ICE_ENOENT,
	       "invalidate_table of the second table removes it");
	bc_put(b, "join", "v", "table:db.j1", "table:db.j2", NULL);
	tap_is_int((int)bc_inval1(b, "table:db.j2"), 1, "invalidate by the second table's tag removes it");
	tap_is_int(bc_get_rc(b, "join"), ICE_ENOENT, "and it is gone");
	bc_put(b, "join", "v", "table:db.j1", "table:db.j2", NULL);
	tap_is_int(bc_count_scan(b, NULL, NULL, "join", 0), 1, "a scan of everything lists it once");
	tap_is_int((int)bc_inval1(b, "table:db.j1"), 1, "invalidate by the home table's tag removes it");
	tap_is_int(bc_get_rc(b, "join"), ICE_ENOENT, "and it is gone");
	bc_put(b, "join", "v", "table:db.j1", "table:db.j2", NULL);
	bc_put(b, "join", "v2", "table:db.j1", NULL, NULL);
	tap_is_int((int)bc_inval1(b, "table:db.j2"), 0, "rewritten over one table: the other's commit keeps it");
	tap_is_int(bc_get_rc(b, "join"), ICE_OK, "and it is there");
}

static void test_ttl(ice_backend *b)
{
	const char *tags[1] = { "file:db.ttl:f" };
	ice_err err = { 0 };
	uint64_t refs = 0;
	int rc;

	rc = ice_backend_put(b, "short", "v", 1, tags, 1, 200, "put", &err);
	tap_is_int(rc, ICE_OK, "ttl: put with 200 ms");
	tap_is_int(bc_get_rc(b, "short"), ICE_OK, "ttl: hit before expiry");
	layout("ttl-live", b);
	bc_sleep_ms(400);
	tap_is_int(bc_get_rc(b, "short"), ICE_ENOENT, "ttl: gone after 400 ms");
	layout("ttl-expired", b);
	rc = ice_backend_gc(b, &refs, &err);
	tap_ok(rc == ICE_OK && refs >= 1, "gc: removed %llu dangling reference(s)", (unsigned long long)refs);
	layout("ttl-gc", b);
}

static void test_replace_delete(ice_backend *b)
{
	const char *keys[2] = { "r", "never" };
	ice_entry_meta m = { 0 };
	uint64_t removed = 0;
	void *v = NULL;
	size_t len = 0;

	bc_put(b, "r", "one", "table:db.a", "file:db.a:f1", NULL);
	bc_put(b, "r", "two", "table:db.b", "snapshot:db.b:5", NULL);
	tap_ok(ice_backend_peek(b, "r", &v, &len, &m, NULL) == ICE_OK && len == 3 && m.table &&
	       strcmp(m.table, "db.b") == 0 && bc_count_scan(b, NULL, "file:db.a:f1", NULL, 0) == 0 &&
	       bc_count_scan(b, "db.a", NULL, NULL, 0) == 0, "replace: the new entry in its new table only");
	free(v);
	ice_entry_meta_clear(&m);
	layout("replaced", b);
	tap_is_int(ice_backend_delete(b, keys, 2, &removed, NULL), ICE_OK, "delete: ok");
	tap_is_int((long long)removed, 1, "delete: one removed");
	tap_is_int(bc_get_rc(b, "r"), ICE_ENOENT, "delete: gone");
	layout("deleted", b);
}

static void test_invalidate(ice_backend *b)
{
	char key[32], file[64];
	const char *tags[2];
	ice_err err = { 0 };
	int i, ok = 1;

	bc_put(b, "e1", "1", "table:db.o", "file:db.o:f1", NULL);
	bc_put(b, "e2", "2", "table:db.o", "file:db.o:f2", NULL);
	bc_put(b, "e3", "3", "table:db.o", "file:db.o:f1", "partition:db.o:p=1");
	tap_is_int((long long)bc_inval1(b, "file:db.o:f1"), 2, "invalidate file tag: 2 entries");
	tap_ok(bc_get_rc(b, "e1") == ICE_ENOENT && bc_get_rc(b, "e3") == ICE_ENOENT && bc_get_rc(b, "e2") == ICE_OK,
	       "invalidate file tag: only entries with that tag");
	layout("invalidated-file", b);
	tap_is_int((long long)bc_inval1(b, "table:db.o"), 1, "invalidate table tag: the rest");
	layout("invalidated-table", b);
	tap_is_int((long long)bc_inval1(b, "table:db.o"), 0, "invalidate again: idempotent");

	for (i = 0; i < 2000; i++) {
		snprintf(key, sizeof key, "big%d", i);
		snprintf(file, sizeof file, "file:db.big:f%d", i % 10);
		ok &= bc_put(b, key, "x", "table:db.big", file, NULL) == ICE_OK;
	}
	tap_ok(ok, "2000 entries written");
	layout("big-written", b);
	tap_is_int((long long)bc_inval1(b, "table:db.big"), 2000, "invalidate 2000 entries in one call");
	layout("big-invalidated", b);

	bc_put(b, "u1", "1", "table:db.x", "user:alice", NULL);
	bc_put(b, "u2", "2", "user:alice", NULL, NULL);
	bc_put(b, "u3", "3", "user:bob", NULL, NULL);
	tap_is_int((long long)bc_inval1(b, "user:alice"), 2, "invalidate a free-form tag across tables");
	tap_ok(bc_get_rc(b, "u3") == ICE_OK && bc_get_rc(b, "u1") == ICE_ENOENT, "free-form: others kept");
	tags[0] = "user:bob";
	tags[1] = "bad\ntag";
	tap_is_int(ice_backend_invalidate(b, tags, 2, NULL, &err), ICE_EINVAL, "invalidate: bad tag refused");
}

/* Whole-table invalidation: every entry of the table, whatever its tags. */
static void test_invalidate_table(ice_backend *b)
{
	ice_err err = { 0 };
	uint64_t removed = 0;

	bc_put(b, "w1", "1", "partition:db.w:p=1", NULL, NULL);
	bc_put(b, "w2", "2", "file:db.w:f", NULL, NULL);
	bc_put(b, "w3", "3", "table:db.w", NULL, NULL);
	bc_put(b, "o1", "4", "table:db.other", NULL, NULL);
	tap_ok(ice_backend_invalidate_table(b, "db.w", &removed, &err) == ICE_OK && removed == 3,
	       "invalidate_table: 3 entries removed (%s)", err.msg);
	tap_ok(bc_get_rc(b, "w1") == ICE_ENOENT && bc_get_rc(b, "w2") == ICE_ENOENT && bc_get_rc(b, "w3") == ICE_ENOENT &&
	       bc_get_rc(b, "o1") == ICE_OK, "invalidate_table: entries of other tables kept");
	layout("table-invalidated", b);
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
	bc_sleep_ms(120);
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
	long long hits = bc_counter(b, NULL, "hits"), misses = bc_counter(b, NULL, "misses");

	bc_put(b, "pk", "peeked", "table:db.pk", NULL, NULL);
	tap_ok(ice_backend_peek(b, "pk", &val, &len, &m, &err) == ICE_OK && len == 6 &&
	       memcmp(val, "peeked", 6) == 0 && m.hits == 0, "peek: value and meta");
	free(val);
	ice_entry_meta_clear(&m);
	val = NULL;
	tap_is_int(ice_backend_peek(b, "no-such", &val, &len, NULL, &err), ICE_ENOENT, "peek: miss");
	tap_ok(ice_backend_peek(b, "pk", &val, &len, &m, &err) == ICE_OK && m.hits == 0 &&
	       bc_counter(b, NULL, "hits") == hits && bc_counter(b, NULL, "misses") == misses,
	       "peek: no counter moved");
	free(val);
	ice_entry_meta_clear(&m);
	layout("peeked", b);
}

/* A value and its tables, read without counting: "v@home,other" or the
 * code of the failure. */
static void peek_where(ice_backend *b, const char *key, char *out, size_t n)
{
	ice_entry_meta m = { 0 };
	void *val = NULL;
	size_t len = 0, i, o;
	int rc = ice_backend_peek(b, key, &val, &len, &m, NULL);

	if (rc != ICE_OK) {
		snprintf(out, n, "rc %d", rc);
		return;
	}
	o = (size_t)snprintf(out, n, "%.*s@", (int)len, (const char *)val);
	for (i = 0; i < m.n_tables && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%s", i ? "," : "", m.tables[i]);
	free(val);
	ice_entry_meta_clear(&m);
}

/* Batches (import, migrate): every kind of put inside one (a new entry,
 * one over two tables, one moving to another table, a key put twice, a
 * restore) ends as the same puts one by one would leave it; a rollback
 * keeps none; stray calls are refused. */
static void test_batch(ice_backend *b, const char *backend)
{
	ice_entry_meta rm = { 0 };
	char *rtags[1] = { (char *)"table:db.bb" }, got[4][128];
	const char *btags[1] = { "table:db.bb" };
	size_t big_len = (size_t)3 << 20, len = 0; /* past any queue's limit */
	char *big = malloc(big_len);
	void *v = NULL;
	ice_err err = { 0 };
	int rc;

	bc_put(b, "bmove", "old", "table:db.bc", NULL, NULL);
	bc_put(b, "bre", "old", "table:db.bb", "file:db.bd:/old", NULL);
	bc_put(b, "bshrink", "old", "table:db.bb", "file:db.bf:/s", NULL);
	rc = ice_backend_batch(b, ICE_BATCH_BEGIN, &err);
	tap_is_int(rc, ICE_OK, "batch: begin (%s: %s)", backend, err.msg);
	if (rc) {
		free(big);
		return;
	}
	tap_is_int(ice_backend_batch(b, ICE_BATCH_BEGIN, &err), ICE_EINVAL, "batch: none inside a batch");
	ice_err_clear(&err);
	bc_put(b, "bnew", "1", "table:db.bb", NULL, NULL);
	bc_put(b, "bjoin", "2", "table:db.bb", "file:db.bd:/f", NULL);
	bc_put(b, "bmove", "3", "table:db.bb", NULL, NULL);
	bc_put(b, "btwice", "first", "table:db.bc", NULL, NULL);
	bc_put(b, "btwice", "second", "table:db.bb", NULL, NULL);
	/* over three tables, new; over the same two, its tag changed; out
	 * of one of its two tables (that one goes alone) */
	bc_put(b, "bjoin3", "5", "table:db.bb", "file:db.bd:/f3", "partition:db.be:p=1");
	bc_put(b, "bre", "6", "table:db.bb", "file:db.bd:/new", NULL);
	bc_put(b, "bshrink", "7", "table:db.bb", NULL, NULL);
	rm.tags = rtags;
	rm.n_tags = 1;
	rm.created_ms = 1234567;
	rm.hits = 7;
	tap_is_int(ice_backend_restore(b, "brestored", "4", 1, &rm, &err), ICE_OK, "batch: restore (%s)", err.msg);
	if (big)
		memset(big, 'b', big_len);
	tap_ok(big && ice_backend_put(b, "bbig", big, big_len, btags, 1, 0, NULL, &err) == ICE_OK,
	       "batch: a 3 MiB value (%s)", err.msg);
	tap_is_int(ice_backend_batch(b, ICE_BATCH_COMMIT, &err), ICE_OK, "batch: commit (%s)", err.msg);
	peek_where(b, "bnew", got[0], sizeof got[0]);
	peek_where(b, "bjoin", got[1], sizeof got[1]);
	peek_where(b, "bmove", got[2], sizeof got[2]);
	peek_where(b, "btwice", got[3], sizeof got[3]);
	tap_ok(strcmp(got[0], "1@db.bb") == 0 && strcmp(got[1], "2@db.bb,db.bd") == 0 &&
	       strcmp(got[2], "3@db.bb") == 0 && strcmp(got[3], "second@db.bb") == 0,
	       "batch: each entry as one put after the other leaves it (%s; %s; %s; %s)", got[0], got[1], got[2], got[3]);
	tap_ok(ice_backend_peek(b, "bbig", &v, &len, NULL, &err) == ICE_OK && len == big_len &&
	       memcmp(v, big, big_len) == 0, "batch: the 3 MiB value byte for byte");
	free(v);
	free(big);
	peek_where(b, "bjoin3", got[0], sizeof got[0]);
	peek_where(b, "bre", got[1], sizeof got[1]);
	peek_where(b, "bshrink", got[2], sizeof got[2]);
	tap_ok(strcmp(got[0], "5@db.bb,db.bd,db.be") == 0 && strcmp(got[1], "6@db.bb,db.bd") == 0 &&
	       strcmp(got[2], "7@db.bb") == 0,
	       "batch: entries over several tables as one put after the other leaves them (%s; %s; %s)", got[0], got[1],
	       got[2]);
	tap_ok(bc_count_scan(b, "db.bc", NULL, NULL, 0) == 0 && bc_count_scan(b, "db.bb", NULL, NULL, 0) == 9,
	       "batch: nothing left in the table the moved entries left");
	tap_ok(bc_inval1(b, "file:db.bd:/old") == 0 && bc_inval1(b, "file:db.bf:/s") == 0 &&
	       bc_get_rc(b, "bre") == ICE_OK && bc_get_rc(b, "bshrink") == ICE_OK,
	       "batch: the tags the puts replaced remove nothing, in the other tables too");
	tap_ok(bc_inval1(b, "partition:db.be:p=1") == 1 && bc_get_rc(b, "bjoin3") == ICE_ENOENT &&
	       bc_inval1(b, "file:db.bd:/new") == 1 && bc_get_rc(b, "bre") == ICE_ENOENT,
	       "batch: a third table's tag, and a replaced tag, remove their entries over several tables");
	tap_is_int((long long)bc_inval1(b, "file:db.bd:/f"), 1, "batch: the second table's tag removes the entry over two");
	tap_is_int((long long)bc_inval1(b, "table:db.bb"), 6, "batch: the table's tags are live for the rest");
	tap_ok(ice_backend_batch(b, ICE_BATCH_BEGIN, &err) == ICE_OK && bc_put(b, "bgone", "x", "table:db.bb", NULL, NULL) == ICE_OK &&
	       ice_backend_batch(b, ICE_BATCH_ROLLBACK, &err) == ICE_OK && bc_get_rc(b, "bgone") == ICE_ENOENT,
	       "batch: a rolled back put is not there (%s)", err.msg);
	tap_is_int(ice_backend_batch(b, ICE_BATCH_COMMIT, &err), ICE_EINVAL, "batch: a commit without a batch is refused");
}

/* What peek_many handed over, as "key=value@table,..." or "key:none". */
typedef struct peeked {
	char text[512];
	int calls, stop_after;
} peeked;

static int note_peek(void *ctx, const char *key, int rc, const void *val, size_t len,
                     const ice_entry_meta *m)
{
	peeked *s = ctx;
	size_t o = strlen(s->text);

	if (rc == ICE_OK)
		snprintf(s->text + o, sizeof s->text - o, "%s=%.*s@%s%s ", key, (int)len, (const char *)val,
		         m->table, m->n_tables > 1 ? "+" : "");
	else
		snprintf(s->text + o, sizeof s->text - o, "%s:none ", key);
	return ++s->calls == s->stop_after;
}

/* peek_many: every key in order (one table, two tables, none), counting
 * nothing; the callback stops it. */
static void test_peek_many(ice_backend *b, const char *backend)
{
	const char *keys[4] = { "pm1", "pm-none", "pm2", "pm3" };
	long long hits = bc_counter(b, NULL, "hits");
	peeked all = { .stop_after = -1 }, two = { .stop_after = 2 };
	ice_err err = { 0 };
	int rc;

	bc_put(b, "pm1", "one", "table:db.pm", NULL, NULL);
	bc_put(b, "pm2", "two", "table:db.pm", "file:db.pm2:/f", NULL);
	bc_put(b, "pm3", "three", "partition:db.pm:p=1", NULL, NULL);
	rc = ice_backend_peek_many(b, keys, 4, note_peek, &all, &err);
	tap_ok(rc == ICE_OK && strcmp(all.text, "pm1=one@db.pm pm-none:none pm2=two@db.pm+ pm3=three@db.pm ") == 0 &&
	       bc_counter(b, NULL, "hits") == hits,
	       "peek_many (%s): each key in order, none counted (%s%s)", backend, all.text, err.msg);
	rc = ice_backend_peek_many(b, keys, 4, note_peek, &two, &err);
	tap_ok(rc == ICE_OK && two.calls == 2, "peek_many: the callback stops it (%d calls)", two.calls);
	rc = ice_backend_peek_many(b, keys, 0, note_peek, &two, &err);
	tap_ok(rc == ICE_OK && two.calls == 2, "peek_many: no keys, no call");
}

/* Counts the keys a keyscan hands over and checks their order. */
typedef struct walked {
	char last[64];
	int calls, found, ordered, stop_after;
} walked;

static int note_walk(void *ctx, const char *key, int rc, const void *val, size_t len,
                     const ice_entry_meta *m)
{
	walked *w = ctx;

	(void)val;
	(void)len;
	(void)m;
	if (w->calls++ > 0 && strcmp(w->last, key) >= 0)
		w->ordered = 0;
	snprintf(w->last, sizeof w->last, "%s", key);
	w->found += rc == ICE_OK;
	return w->calls == w->stop_after;
}

/* keyscan (export, migrate): keys handed back sorted bytewise, a key
 * added twice once, over more keys than one read takes (where one batch
 * ends is not visible to the callback, so only order and count are
 * checked); a missing key reported as such; the callback stops the
 * walk. */
static void test_keyscan(ice_backend *b, const char *backend)
{
	static const char *const odd[] = { "ks-b", "ks-a\xc3\xa9", "ks-A", "ks-a", "ks-b" };
	peeked few = { .stop_after = -1 };
	walked many = { .ordered = 1, .stop_after = -1 }, stopped = { .ordered = 1, .stop_after = 300 };
	ice_keyscan *k = NULL;
	ice_err err = { 0 };
	char key[32];
	int rc, i;

	bc_put(b, "ks-a", "1", "table:db.ks", NULL, NULL);
	bc_put(b, "ks-b", "2", "table:db.ks", NULL, NULL);
	rc = ice_keyscan_open(&k, &err);
	for (i = 0; rc == ICE_OK && i < 5; i++)
		rc = ice_keyscan_add(k, odd[i], NULL) < 0 ? ice_keyscan_error(k, &err) : ICE_OK;
	if (rc == ICE_OK)
		rc = ice_keyscan_peek(b, k, note_peek, &few, &err);
	tap_ok(rc == ICE_OK && few.calls == 4 &&
	       strcmp(few.text, "ks-A:none ks-a=1@db.ks ks-a\xc3\xa9:none ks-b=2@db.ks ") == 0,
	       "keyscan (%s): bytewise order, a key added twice once (%s%s)", backend, few.text, err.msg);
	ice_keyscan_free(k);
	k = NULL;

	/* 1,000 keys in reverse, the two entries among them: four batches */
	rc = ice_keyscan_open(&k, &err);
	for (i = 999; rc == ICE_OK && i >= 0; i--) {
		snprintf(key, sizeof key, "ks-%04d", i);
		rc = ice_keyscan_add(k, i == 500 ? "ks-a" : i == 501 ? "ks-b" : key, NULL) < 0
		             ? ice_keyscan_error(k, &err) : ICE_OK;
	}
	if (rc == ICE_OK)
		rc = ice_keyscan_peek(b, k, note_walk, &many, &err);
	tap_ok(rc == ICE_OK && many.calls == 1000 && many.found == 2 && many.ordered,
	       "keyscan (%s): 1,000 keys (reads of %d), in order, every one once (%d calls, %d found%s)",
	       backend, ICE_KEYSCAN_KEYS, many.calls, many.found, err.msg);
	rc = ice_keyscan_peek(b, k, note_walk, &stopped, &err);
	tap_ok(rc == ICE_OK && stopped.calls == 300 && stopped.ordered,
	       "keyscan: the callback stops the walk at its 300th key (%d calls)", stopped.calls);
	ice_keyscan_free(k);
}

/* put_at (import): the creation time is kept, the TTL counts from now. */
static void test_put_at(ice_backend *b)
{
	const char *tags[1] = { "table:db.pa" };
	ice_entry_meta m = { 0 };
	ice_err err = { 0 };
	void *val = NULL;
	size_t len = 0;
	int64_t before = ice_now_ms();
	int rc = ice_backend_put_at(b, "pa", "old", 3, tags, 1, 60000, "import", 1234567, &err);

	tap_ok(rc == ICE_OK && ice_backend_peek(b, "pa", &val, &len, &m, &err) == ICE_OK &&
	       m.created_ms == 1234567 && m.expires_ms >= before + 60000 &&
	       m.expires_ms <= ice_now_ms() + 60000 && m.origin && strcmp(m.origin, "import") == 0,
	       "put_at: created time kept, TTL counted from now (%s)", err.msg);
	free(val);
	ice_entry_meta_clear(&m);
	tap_is_int(ice_backend_put_at(b, "pa", "x", 1, tags, 1, 0, NULL, -1, &err), ICE_EINVAL,
	           "put_at: a negative creation time is refused");
}

static void test_server_info(ice_backend *b, const char *backend)
{
	ice_err err = { 0 };
	json_t *info = NULL;
	int rc = ice_backend_server_info(b, &info, &err);

	tap_ok(rc == ICE_OK && json_is_integer(json_object_get(info, "used_bytes")) &&
	       json_integer_value(json_object_get(info, "used_bytes")) > 0 &&
	       json_is_integer(json_object_get(info, "evicted")) &&
	       json_is_integer(json_object_get(info, "expired")) &&
	       strcmp(json_string_value(json_object_get(info, "backend")), backend) == 0,
	       "server_info: used bytes, evictions, expirations (%s)", err.msg);
	json_decref(info);
}

static void test_counters(const char *url)
{
	ice_backend_opts o = { .prefix = "cnt" };
	ice_backend *b = NULL;
	ice_err err = { 0 };

	if (ice_backend_open(url, &o, &b, &err)) {
		tap_ok(0, "counters: open (%s)", err.msg);
		return;
	}
	tap_is_int(bc_counter(b, NULL, "hits"), 0, "counters: start at 0");
	bc_put(b, "a", "1", "table:db.c", "file:db.c:f", NULL);
	bc_put(b, "b", "2", "table:db.c", NULL, NULL);
	bc_get_rc(b, "a");
	bc_get_rc(b, "a");
	bc_get_rc(b, "zz");
	bc_inval1(b, "file:db.c:f");
	bc_get_rc(b, "a");
	tap_ok(bc_counter(b, NULL, "puts") == 2 && bc_counter(b, NULL, "hits") == 2 &&
	       bc_counter(b, NULL, "misses") == 2 && bc_counter(b, NULL, "invalidations") == 1 &&
	       bc_counter(b, NULL, "invalidated") == 1, "counters: global");
	tap_ok(bc_counter(b, "db.c", "puts") == 2 && bc_counter(b, "db.c", "hits") == 2 &&
	       bc_counter(b, "db.c", "invalidations") == 1 && bc_counter(b, "db.c", "invalidated") == 1,
	       "counters: per table");
	tap_is_int(bc_counter(b, "db.none", "puts"), 0, "counters: unknown table is all 0");
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

static int on_entry(void *ctx, const char *key, const ice_entry_meta *m)
{
	seen *s = ctx;

	(void)m;
	s->n++;
	if (strlen(s->keys) + strlen(key) + 2 <= sizeof s->keys) {
		strcat(s->keys, key);
		strcat(s->keys, ",");
	}
	return s->stop_after && s->n >= s->stop_after;
}

int bc_count_scan(ice_backend *b, const char *table, const char *tag, const char *pattern, int stop)
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
	ice_backend_opts o = { .prefix = "scan" };
	ice_backend *b = NULL;
	ice_err err = { 0 };
	char key[32];
	int i, ok = 1;

	if (ice_backend_open(url, &o, &b, &err)) {
		tap_ok(0, "scan: open (%s)", err.msg);
		return;
	}
	bc_put(b, "a1", "1", "table:db.s", "file:db.s:f", NULL);
	bc_put(b, "a2", "2", "table:db.s", NULL, NULL);
	bc_put(b, "b1", "3", "table:db.z", "file:db.z:f", NULL);
	bc_put(b, "c1", "4", "user:bob", NULL, NULL);
	tap_is_int(bc_count_scan(b, NULL, NULL, NULL, 0), 4, "scan: all");
	tap_is_int(bc_count_scan(b, "db.s", NULL, NULL, 0), 2, "scan: by table");
	tap_is_int(bc_count_scan(b, "_", NULL, NULL, 0), 1, "scan: table _");
	tap_is_int(bc_count_scan(b, NULL, "file:db.s:f", NULL, 0), 1, "scan: by tag");
	tap_is_int(bc_count_scan(b, NULL, "user:bob", NULL, 0), 1, "scan: by free-form tag");
	tap_is_int(bc_count_scan(b, "db.z", "user:bob", NULL, 0), 0, "scan: tag and table");
	tap_is_int(bc_count_scan(b, NULL, NULL, "a*", 0), 2, "scan: by pattern");
	tap_is_int(bc_count_scan(b, "db.s", "table:db.s", "*2", 0), 1, "scan: table, tag and pattern");
	tap_is_int(bc_count_scan(b, NULL, NULL, NULL, 1), 1, "scan: callback stops");
	for (i = 0; i < 700; i++) { /* Redis: several pipelined batches */
		snprintf(key, sizeof key, "many%d", i);
		ok &= bc_put(b, key, "v", "table:db.many", i % 2 ? "file:db.many:odd" : NULL, NULL) == ICE_OK;
	}
	tap_ok(ok && bc_count_scan(b, "db.many", NULL, NULL, 0) == 700, "scan: 700 entries");
	tap_is_int(bc_count_scan(b, "db.many", "file:db.many:odd", NULL, 0), 350, "scan: 350 by tag");
	tap_is_int(bc_count_scan(b, "db.many", NULL, NULL, 300), 300, "scan: callback stops inside a batch");
	layout("scan-many", b);
	ice_backend_close(b);
}

static void test_odd_keys(const char *url)
{
	static const char *const keys[] = { "with space", "new\nline", "star*", "starfish", "\xff\x01\x7f bin", "q?[x]" };
	ice_backend_opts o = { .prefix = "odd" };
	ice_backend *b = NULL;
	ice_err err = { 0 };
	size_t i;
	int ok = 1;

	if (ice_backend_open(url, &o, &b, &err)) {
		tap_ok(0, "odd keys: open (%s)", err.msg);
		return;
	}
	for (i = 0; i < 6; i++)
		ok &= bc_put(b, keys[i], keys[i], "table:db.w", "file:db.w:odd file\xfe", NULL) == ICE_OK;
	for (i = 0; i < 6; i++) {
		void *v = NULL;
		size_t len = 0;
		ok &= ice_backend_get(b, keys[i], &v, &len, NULL, NULL) == ICE_OK && len == strlen(keys[i]) &&
		      memcmp(v, keys[i], len) == 0;
		free(v);
	}
	tap_ok(ok, "odd keys: put/get spaces, newlines, glob characters, high bytes");
	tap_is_int(bc_count_scan(b, NULL, NULL, "star\\*", 0), 1, "odd keys: escaped pattern matches only star*");
	tap_is_int(bc_count_scan(b, "db.w", NULL, "*\n*", 0), 1, "odd keys: pattern across a newline");
	tap_is_int(bc_count_scan(b, NULL, "file:db.w:odd file\xfe", NULL, 0), 6, "odd keys: scan by odd tag");
	tap_is_int((long long)bc_inval1(b, "file:db.w:odd file\xfe"), 6, "odd keys: invalidated");
	layout("odd-invalidated", b);
	ice_backend_close(b);
}

/* Tables in use and counter resets (a prefix of their own). */
static void test_tables_reset(const char *url)
{
	ice_backend_opts o = { .prefix = "tr" };
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
	bc_put(b, "a", "1", "table:db.b", NULL, NULL);
	bc_put(b, "odd}:stats", "1", "table:db.a", "x}:c:y", NULL);
	bc_put(b, "none", "1", NULL, NULL, NULL);
	ice_backend_cursor_set(b, "db.c", "invalidated", cur, &err);
	t = NULL;
	tap_ok(ice_backend_tables(b, &t, &n, &err) == ICE_OK && n == 4 && strcmp(t[0], "_") == 0 &&
	       strcmp(t[1], "db.a") == 0 && strcmp(t[2], "db.b") == 0 && strcmp(t[3], "db.c") == 0,
	       "tables: tags, counters and cursors, sorted, odd keys not mistaken (%s)", err.msg);
	ice_backend_strv_free(t, n);

	bc_get_rc(b, "a");
	tap_ok(ice_backend_counters_reset(b, "db.b", &err) == ICE_OK && bc_counter(b, "db.b", "hits") == 0 &&
	       bc_counter(b, "db.b", "puts") == 0 && bc_counter(b, NULL, "hits") == 1 && bc_counter(b, "db.a", "puts") == 1,
	       "counters_reset table: that table only, global kept (%s)", err.msg);
	tap_ok(ice_backend_counters_reset(b, NULL, &err) == ICE_OK && bc_counter(b, NULL, "hits") == 0 &&
	       bc_counter(b, NULL, "puts") == 0 && bc_counter(b, "db.a", "puts") == 0 && bc_counter(b, "_", "puts") == 0,
	       "counters_reset all: global and every table (%s)", err.msg);
	tap_ok(bc_get_rc(b, "a") == ICE_OK && bc_counter(b, "db.b", "hits") == 1, "counters_reset: entries kept, counting goes on");

	bc_put(b, "w1", "1", "partition:db.w:p=1", NULL, NULL);
	bc_put(b, "w2", "2", "file:db.w:f", NULL, NULL);
	ice_backend_invalidate_table(b, "db.w", &removed, &err);
	tap_ok(removed == 2 && bc_counter(b, "db.w", "invalidated") == 2 && bc_counter(b, "db.w", "invalidations") == 1 &&
	       bc_counter(b, NULL, "invalidated") == 2, "invalidate_table: counts its entries as invalidated");
	json_decref(cur);
	ice_backend_close(b);
}

void bc_run_all(ice_backend *b, const char *url, const char *backend, bc_layout_fn fn)
{
	layout_fn = fn;
	test_values(b);
	test_two_tables(b, backend);
	test_ttl(b);
	test_replace_delete(b);
	test_invalidate(b);
	test_invalidate_table(b);
	test_locks(b);
	test_peek(b);
	test_peek_many(b, backend);
	test_keyscan(b, backend);
	test_put_at(b);
	test_batch(b, backend);
	test_server_info(b, backend);
	test_cursors(b);
	test_counters(url);
	test_tables_reset(url);
	test_scan(url);
	test_odd_keys(url);
	layout_fn = NULL;
}
