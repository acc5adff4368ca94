/* test-sqlite: the embedded backend on a temporary file: the shared
 * behaviour checks (backend-checks.c), its tables after each step, URLs and
 * the default location, the size limit with LRU eviction, several
 * connections at once, a writer killed mid-transaction, batches of writes
 * (one transaction, a savepoint per write; one SQLite rolls back on a full
 * disk) and migrate. */
#include "config.h"
#include "tests.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend-checks.h"
#include "ice_backend.h"
#include "ice_batch.h"
#include "ice_migrate.h"

static sqlite3 *raw; /* our own connection, for checking the tables */

/* The first column of the first row of sql, or -1. */
static long long raw_int(const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(raw, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The byte count the size limit works on matches the entries. */
static bool bytes_consistent(void)
{
	return raw_int("SELECT value FROM store WHERE name = 'used_bytes'") ==
	       raw_int("SELECT IFNULL(SUM(bytes), 0) FROM entries");
}

static void sqlite_layout(const char *step, ice_backend *b)
{
	(void)b;

	if (strcmp(step, "values") == 0) {
		tap_ok(raw_int("SELECT COUNT(*) FROM tags WHERE ns = 'icecache' AND key = 'bin'") == 2 &&
		       raw_int("SELECT COUNT(*) FROM entries WHERE ns = 'icecache' AND key = 'bin' AND tbl = 'db.v'") == 1,
		       "layout: an entry row with its table, one tag row per tag");
	} else if (strcmp(step, "ttl-expired") == 0) {
		tap_is_int(raw_int("SELECT COUNT(*) FROM tags WHERE tag = 'file:db.ttl:f'"), 1,
		           "ttl: the expired entry's row waits for gc");
	} else if (strcmp(step, "ttl-gc") == 0) {
		tap_ok(raw_int("SELECT COUNT(*) FROM tags WHERE tag = 'file:db.ttl:f'") == 0 &&
		       raw_int("SELECT COUNT(*) FROM entries WHERE key = 'short'") == 0 &&
		       raw_int("SELECT value FROM store WHERE name = 'expired'") >= 1,
		       "gc: expired entry and its tags gone, counted as expired");
	} else if (strcmp(step, "replaced") == 0) {
		tap_ok(raw_int("SELECT COUNT(*) FROM tags WHERE key = 'r' AND tag LIKE '%db.a%'") == 0 &&
		       raw_int("SELECT COUNT(*) FROM tags WHERE key = 'r'") == 2, "replace: old tag rows gone");
	} else if (strcmp(step, "deleted") == 0) {
		tap_is_int(raw_int("SELECT COUNT(*) FROM tags WHERE key = 'r'"), 0, "delete: tag rows gone");
	} else if (strcmp(step, "invalidated-file") == 0) {
		tap_ok(raw_int("SELECT COUNT(*) FROM tags WHERE key IN ('e1', 'e3')") == 0 &&
		       raw_int("SELECT COUNT(*) FROM tags WHERE key = 'e2'") == 2,
		       "invalidate file tag: all references removed");
	} else if (strcmp(step, "big-invalidated") == 0 || strcmp(step, "table-invalidated") == 0) {
		tap_ok(raw_int("SELECT COUNT(*) FROM entries WHERE tbl IN ('db.big', 'db.w')") == 0 &&
		       raw_int("SELECT COUNT(*) FROM tags WHERE tag LIKE '%db.big%' OR tag LIKE '%db.w:%'") == 0,
		       "%s: no entry or tag row left", step);
	} else if (strcmp(step, "odd-invalidated") == 0) {
		tap_ok(raw_int("SELECT COUNT(*) FROM entries WHERE ns = 'odd'") == 0 &&
		       raw_int("SELECT COUNT(*) FROM tags WHERE ns = 'odd'") == 0, "odd keys: no row left");
	}
	if (!bytes_consistent())
		tap_ok(0, "%s: used_bytes matches the entries", step);
}

/* ---- URLs and the default location ---- */

static void test_urls(const char *dir)
{
	static const char *const bad[] = {
		"sqlite://relative.db", "sqlite:///", "sqlite:///x/", "sqlite:///x?max_size=lots",
		"sqlite:///x?foo=1", "file://x", "sqlite:///x%zz",
	};
	ice_backend_url u;
	ice_err err = { 0 };
	char *url = NULL, *old = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
	int64_t n = 0;
	size_t i;
	int rc;

	rc = ice_backend_url_parse("sqlite:///tmp/a%20b.db?max_size=64M", &u, &err);
	tap_ok(rc == ICE_OK && strcmp(u.scheme, "sqlite") == 0 && strcmp(u.path, "/tmp/a b.db") == 0 &&
	       u.max_bytes == 64 << 20, "url: sqlite:///path?max_size=64M, percent-decoded (%s)", err.msg);
	ice_backend_url_clear(&u);
	rc = ice_backend_url_parse("file:///var/c.db?max_size=0", &u, &err);
	tap_ok(rc == ICE_OK && strcmp(u.scheme, "sqlite") == 0 && strcmp(u.path, "/var/c.db") == 0 &&
	       u.max_bytes < 0, "url: file:///path is the same; max_size=0 means no limit");
	ice_backend_url_clear(&u);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		rc = ice_backend_url_parse(bad[i], &u, &err);
		tap_ok(rc == ICE_EINVAL && err.msg[0], "url: bad '%s' refused (%s)", bad[i], err.msg);
		ice_backend_url_clear(&u);
	}
	tap_ok(ice_backend_parse_size("1GiB", &n, NULL) == ICE_OK && n == 1LL << 30 &&
	       ice_backend_parse_size("512k", &n, NULL) == ICE_OK && n == 512 << 10 &&
	       ice_backend_parse_size("-1", &n, NULL) == ICE_EINVAL &&
	       ice_backend_parse_size("9999999999T", &n, NULL) == ICE_EINVAL,
	       "sizes: units, no sign, no overflow");

	setenv("XDG_CACHE_HOME", dir, 1);
	rc = ice_backend_default_url(&url, &err);
	tap_ok(rc == ICE_OK && url && strncmp(url, "sqlite://", 9) == 0 && strstr(url, "/icecache/cache.db") &&
	       strncmp(url + 9, dir, strlen(dir)) == 0, "default: under $XDG_CACHE_HOME (%s)", url ? url : err.msg);
	free(url);
	setenv("XDG_CACHE_HOME", "relative", 1);
	rc = ice_backend_default_url(&url, &err);
	tap_ok(rc == ICE_OK && strstr(url, "/.cache/icecache/cache.db"), "default: ~/.cache when XDG_CACHE_HOME is not absolute");
	free(url);
	if (old)
		setenv("XDG_CACHE_HOME", old, 1);
	else
		unsetenv("XDG_CACHE_HOME");
	free(old);
}

/* ---- the size limit ---- */

static void test_limit(const char *dir)
{
	char url[512], key[16];
	char val[1000];
	ice_backend *b = NULL;
	json_t *info = NULL;
	ice_err err = { 0 };
	int i, rc;

	snprintf(url, sizeof url, "sqlite://%s/limit/sub/c.db?max_size=10K", dir);
	if (ice_backend_open(url, NULL, &b, &err)) {
		tap_ok(0, "limit: open, folders created (%s)", err.msg);
		return;
	}
	memset(val, 'x', sizeof val);
	val[sizeof val - 1] = '\0';
	for (i = 0; i < 30; i++) {
		snprintf(key, sizeof key, "k%d", i);
		bc_put(b, key, val, "table:db.l", NULL, NULL);
		if (i == 5)
			bc_get_rc(b, "k0"); /* recently used: survives the first evictions */
	}
	rc = ice_backend_server_info(b, &info, &err);
	tap_ok(rc == ICE_OK && json_integer_value(json_object_get(info, "used_bytes")) <= 10240 &&
	       json_integer_value(json_object_get(info, "max_bytes")) == 10240 &&
	       json_integer_value(json_object_get(info, "evicted")) > 0,
	       "limit: used bytes under max_bytes, evictions counted");
	json_decref(info);
	tap_ok(bc_get_rc(b, "k29") == ICE_OK && bc_get_rc(b, "k1") == ICE_ENOENT && bc_get_rc(b, "k6") == ICE_ENOENT,
	       "limit: the newest stay, the least recently used went");
	tap_is_int(bc_count_scan(b, "db.l", NULL, NULL, 0) < 30 ? 1 : 0, 1, "limit: scan sees fewer entries");
	{
		char *huge = malloc(20000);
		memset(huge, 'y', 19999);
		huge[19999] = '\0';
		rc = ice_backend_put(b, "huge", huge, 19999, NULL, 0, 0, NULL, &err);
		tap_ok(rc == ICE_ETOOBIG && bc_get_rc(b, "k29") == ICE_OK,
		       "limit: an entry larger than the limit is refused, nothing evicted for it (%s)", err.msg);
		free(huge);
	}
	ice_backend_close(b);
	/* The limit is kept in the file; max_size=0 removes it. */
	snprintf(url, sizeof url, "sqlite://%s/limit/sub/c.db", dir);
	b = NULL;
	rc = ice_backend_open(url, NULL, &b, &err);
	for (i = 0; rc == ICE_OK && i < 5; i++) {
		snprintf(key, sizeof key, "m%d", i);
		bc_put(b, key, val, "table:db.l", NULL, NULL);
	}
	info = NULL;
	tap_ok(rc == ICE_OK && ice_backend_server_info(b, &info, &err) == ICE_OK &&
	       json_integer_value(json_object_get(info, "used_bytes")) <= 10240,
	       "limit: kept in the file for the next opener");
	json_decref(info);
	ice_backend_close(b);
}

/* ---- several connections, and a killed writer ---- */

static void test_two_connections(const char *url)
{
	ice_backend_opts o = { .prefix = "two" };
	ice_backend *a = NULL, *b = NULL;
	ice_err err = { 0 };

	if (ice_backend_open(url, &o, &a, &err) || ice_backend_open(url, &o, &b, &err)) {
		tap_ok(0, "two connections: open (%s)", err.msg);
		goto out;
	}
	bc_put(a, "shared", "1", "table:db.two", NULL, NULL);
	tap_is_int(bc_get_rc(b, "shared"), ICE_OK, "two connections: one sees what the other wrote");
	tap_is_int((long long)bc_inval1(b, "table:db.two"), 1, "two connections: one invalidates");
	tap_is_int(bc_get_rc(a, "shared"), ICE_ENOENT, "two connections: the other misses at once");
	tap_is_int(ice_backend_lock(a, "job", "a", 10000, &err), ICE_OK, "two connections: lock taken");
	tap_is_int(ice_backend_lock(b, "job", "b", 10000, &err), ICE_EBUSY, "two connections: lock held for the other");
out:
	ice_backend_close(a);
	ice_backend_close(b);
}

/* A child writes and invalidates in a loop until it is killed with
 * SIGKILL, mid-transaction more often than not: the file stays intact and
 * consistent, and what was committed is there. */
static void test_kill(const char *dir)
{
	char url[600], path[512];
	ice_backend_opts o = { .prefix = "kill" };
	ice_backend *b = NULL;
	ice_err err = { 0 };
	pid_t pid;
	int round, ok = 1;

	snprintf(path, sizeof path, "%s/kill.db", dir);
	snprintf(url, sizeof url, "sqlite://%s", path);
	for (round = 0; round < 3; round++) {
		if ((pid = fork()) == 0) {
			char key[32], val[4096];
			ice_backend *w = NULL;
			memset(val, 'v', sizeof val - 1);
			val[sizeof val - 1] = '\0';
			if (ice_backend_open(url, &o, &w, NULL))
				_exit(1);
			for (int i = 0;; i++) {
				snprintf(key, sizeof key, "k%d", i % 500);
				bc_put(w, key, val, "table:db.k", i % 2 ? "file:db.k:odd" : "file:db.k:even", NULL);
				if (i % 50 == 49)
					bc_inval1(w, i % 100 == 99 ? "file:db.k:odd" : "file:db.k:even");
			}
		}
		bc_sleep_ms(150 + 70 * round);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (ice_backend_open(url, &o, &b, &err)) {
			ok = 0;
			break;
		}
		if (sqlite3_open(path, &raw) != SQLITE_OK)
			ok = 0;
		ok &= raw_int("SELECT COUNT(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'") == 0;
		ok &= bytes_consistent();
		ok &= raw_int("SELECT COUNT(*) FROM tags t WHERE NOT EXISTS (SELECT 1 FROM entries e"
		              " WHERE e.ns = t.ns AND e.key = t.key)") == 0;
		ok &= raw_int("SELECT COUNT(*) FROM entries e WHERE ns = 'kill' AND"
		              " (SELECT COUNT(*) FROM tags t WHERE t.ns = e.ns AND t.key = e.key) <> 2") == 0;
		ok &= bc_count_scan(b, "db.k", NULL, NULL, 0) > 0;
		sqlite3_close(raw);
		raw = NULL;
		ice_backend_close(b);
		b = NULL;
	}
	tap_ok(ok, "kill -9 during puts and invalidations, 3 times: the file is intact and consistent (%s)",
	       err.msg);
}

/* ---- failures, migrate ---- */

static void test_failures(const char *dir)
{
	char url[600], path[512];
	ice_backend *b = NULL;
	ice_err err = { 0 };
	FILE *f;
	int rc;

	snprintf(path, sizeof path, "%s/junk.db", dir);
	if ((f = fopen(path, "w"))) {
		fputs("this is not a database, just some text long enough to have a header............", f);
		fclose(f);
	}
	snprintf(url, sizeof url, "sqlite://%s", path);
	rc = ice_backend_open(url, NULL, &b, &err);
	tap_ok(rc == ICE_EBACKEND && b == NULL && strstr(err.msg, path), "not a database: ICE_EBACKEND naming the file (%s)",
	       err.msg);
	snprintf(url, sizeof url, "sqlite://%s/junk.db/below/c.db", dir);
	rc = ice_backend_open(url, NULL, &b, &err);
	tap_ok(rc == ICE_EBACKEND && b == NULL, "a folder that cannot be made: ICE_EBACKEND (%s)", err.msg);
}

/* ---- batches ---- */

/* Whether key is there, read without counting (a get counts, which
 * writes, and would wait for the other connection's batch). */
static int peek_rc(ice_backend *b, const char *key)
{
	ice_entry_meta m = { 0 };
	void *v = NULL;
	size_t len;
	int rc = ice_backend_peek(b, key, &v, &len, &m, NULL);

	free(v);
	ice_entry_meta_clear(&m);
	return rc;
}

/* Inside a batch: nothing is visible to another connection before the
 * commit; a write that fails (an entry over the size limit) is undone
 * alone; a rollback drops the batch; the connection works as before after
 * it (its temporary hit table is made again). */
static void test_batch_backend(const char *url)
{
	ice_backend *a = NULL, *b = NULL;
	char *huge = calloc(1, 20000);
	ice_err err = { 0 };
	int rc;

	if (!huge || ice_backend_open(url, NULL, &a, &err) || ice_backend_open(url, NULL, &b, &err)) {
		tap_ok(0, "batch: open (%s)", err.msg);
		goto out;
	}
	tap_is_int(ice_backend_batch(a, ICE_BATCH_COMMIT, &err), ICE_EINVAL, "batch: a commit without a batch is refused");
	tap_is_int(ice_backend_batch(a, ICE_BATCH_BEGIN, &err), ICE_OK, "batch: begin");
	tap_is_int(ice_backend_batch(a, ICE_BATCH_BEGIN, &err), ICE_EINVAL, "batch: no batch inside a batch");
	bc_put(a, "b1", "one", "table:db.bt", NULL, NULL);
	rc = ice_backend_put(a, "huge", huge, 19999, NULL, 0, 0, NULL, &err);
	bc_put(a, "b2", "two", "table:db.bt", "file:db.bt:/f", NULL);
	tap_ok(rc == ICE_ETOOBIG && bc_get_rc(a, "huge") == ICE_ENOENT && bc_get_rc(a, "b1") == ICE_OK,
	       "batch: a write that fails is undone alone (%s)", err.msg);
	tap_ok(peek_rc(b, "b1") == ICE_ENOENT && peek_rc(b, "b2") == ICE_ENOENT,
	       "batch: another connection reads on, and sees nothing before the commit");
	tap_is_int(ice_backend_batch(a, ICE_BATCH_COMMIT, &err), ICE_OK, "batch: commit");
	tap_ok(bc_get_rc(b, "b1") == ICE_OK && bc_get_rc(b, "b2") == ICE_OK && bc_get_rc(b, "huge") == ICE_ENOENT,
	       "batch: after the commit the other connection sees both writes, not the failed one");
	tap_ok(ice_backend_batch(a, ICE_BATCH_BEGIN, &err) == ICE_OK && bc_put(a, "b3", "three", "table:db.bt", NULL, NULL) == ICE_OK &&
	       ice_backend_batch(a, ICE_BATCH_ROLLBACK, &err) == ICE_OK,
	       "batch: begin, put, roll back (%s)", err.msg);
	tap_ok(bc_get_rc(a, "b3") == ICE_ENOENT && bc_get_rc(b, "b3") == ICE_ENOENT, "batch: a rolled back write is nowhere");
	tap_is_int((long long)bc_inval1(a, "table:db.bt"), 2, "batch: the connection invalidates as before after its batches");
out:
	free(huge);
	ice_backend_close(a);
	ice_backend_close(b);
}

/* An invalidation of many tags (64 here: its journals in memory)
 * deletes in bounded statements, run until one deletes fewer than its
 * bound: a tag over 700 entries (three runs) goes whole, in one
 * transaction with the others', and nothing else does. */
static void test_big_tag(const char *dir)
{
	char url[600], key[32], names[64][32];
	const char *tags[64];
	ice_backend *b = NULL;
	ice_err err = { 0 };
	uint64_t removed = 0;
	int i, rc = ICE_OK;

	for (i = 0; i < 64; i++) {
		if (i)
			snprintf(names[i], sizeof names[i], "file:db.big:/f%02d", i);
		else
			snprintf(names[i], sizeof names[i], "partition:db.big:p=1");
		tags[i] = names[i];
	}

	snprintf(url, sizeof url, "sqlite://%s/big-tag.db", dir);
	if (ice_backend_open(url, NULL, &b, &err) != ICE_OK) {
		tap_ok(0, "big tag: open (%s)", err.msg);
		return;
	}
	rc = ice_backend_batch(b, ICE_BATCH_BEGIN, &err);
	for (i = 0; i < 710 && rc == ICE_OK; i++) {
		snprintf(key, sizeof key, "big%03d", i);
		rc = bc_put(b, key, "v", "table:db.big", i < 700 ? tags[0] : i == 705 ? tags[1] : NULL, NULL);
	}
	if (rc == ICE_OK)
		rc = ice_backend_batch(b, ICE_BATCH_COMMIT, &err);
	if (rc == ICE_OK)
		rc = ice_backend_invalidate(b, tags, 64, &removed, &err);
	tap_ok(rc == ICE_OK && removed == 701 && bc_count_scan(b, "db.big", NULL, NULL, 0) == 9 &&
	       bc_get_rc(b, "big699") == ICE_ENOENT && bc_get_rc(b, "big700") == ICE_OK,
	       "big tag: a tag over 700 entries goes whole with the file's, the rest stays (%llu removed%s)",
	       (unsigned long long)removed, err.msg);
	tap_is_int(bc_counter(b, "db.big", "invalidated"), 701, "big tag: the table counts 701 invalidated");
	ice_backend_close(b);
}

/* ---- a disk that fills up ----
 * A VFS over the default one whose writes fail with SQLITE_FULL while
 * disk_full is set: made the default for the length of one test, so the
 * backend's own connection goes through it. */

static int disk_full;
static sqlite3_vfs *real_vfs, full_vfs;

typedef struct full_file {
	sqlite3_file base;
	sqlite3_file *real; /* the default VFS's file, right after this struct */
} full_file;

#define REAL(f) (((full_file *)(f))->real)

static int ff_close(sqlite3_file *f) { return REAL(f)->pMethods->xClose(REAL(f)); }
static int ff_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o) { return REAL(f)->pMethods->xRead(REAL(f), b, n, o); }
static int ff_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
	return disk_full ? SQLITE_FULL : REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int ff_truncate(sqlite3_file *f, sqlite3_int64 n) { return REAL(f)->pMethods->xTruncate(REAL(f), n); }
static int ff_sync(sqlite3_file *f, int fl) { return REAL(f)->pMethods->xSync(REAL(f), fl); }
static int ff_size(sqlite3_file *f, sqlite3_int64 *n) { return REAL(f)->pMethods->xFileSize(REAL(f), n); }
static int ff_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int ff_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int ff_reserved(sqlite3_file *f, int *r) { return REAL(f)->pMethods->xCheckReservedLock(REAL(f), r); }
static int ff_control(sqlite3_file *f, int op, void *a) { return REAL(f)->pMethods->xFileControl(REAL(f), op, a); }
static int ff_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int ff_device(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int ff_shm_map(sqlite3_file *f, int i, int sz, int ext, void volatile **p) { return REAL(f)->pMethods->xShmMap(REAL(f), i, sz, ext, p); }
static int ff_shm_lock(sqlite3_file *f, int o, int n, int fl) { return REAL(f)->pMethods->xShmLock(REAL(f), o, n, fl); }
static void ff_shm_barrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int ff_shm_unmap(sqlite3_file *f, int del) { return REAL(f)->pMethods->xShmUnmap(REAL(f), del); }

/* Version 2: no memory-mapped reads, which would bypass nothing here but
 * need two more methods. */
static const sqlite3_io_methods full_methods = {
	2, ff_close, ff_read, ff_write, ff_truncate, ff_sync, ff_size, ff_lock, ff_unlock, ff_reserved,
	ff_control, ff_sector, ff_device, ff_shm_map, ff_shm_lock, ff_shm_barrier, ff_shm_unmap,
	NULL, NULL,
};

static int full_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out)
{
	full_file *ff = (full_file *)f;
	int rc;

	(void)v;
	ff->real = (sqlite3_file *)(ff + 1);
	rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out);
	/* SQLite calls xClose only when pMethods is set */
	f->pMethods = rc == SQLITE_OK ? &full_methods : NULL;
	return rc;
}

static void full_vfs_install(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	full_vfs = *real_vfs;
	full_vfs.iVersion = 1; /* the version-1 calls, passed on as they are */
	full_vfs.zName = "ice-test-full";
	full_vfs.szOsFile = (int)sizeof(full_file) + real_vfs->szOsFile;
	full_vfs.xOpen = full_open;
	sqlite3_vfs_register(&full_vfs, 1);
}

static void full_vfs_remove(void)
{
	sqlite3_vfs_unregister(&full_vfs);
	sqlite3_vfs_register(real_vfs, 1);
}

/* Puts a 64 KiB value under key, tagged with table db.full. */
static int put_big(ice_backend *b, const char *key, ice_err *err)
{
	static char val[64 << 10];
	const char *tags[1] = { "table:db.full" };

	memset(val, 'v', sizeof val);
	return ice_backend_put(b, key, val, sizeof val, tags, 1, 0, NULL, err);
}

/* A batch that SQLite itself rolls back (the disk fills up while a write
 * spills the page cache): the failing write says so, the writes after it
 * are refused rather than stored outside the batch, the commit reports
 * the batch lost, nothing of it is in the file, the entries from before
 * it are, and the connection batches normally once the disk has room. */
static void test_batch_lost(const char *dir)
{
	char url[600], key[32];
	ice_backend *b = NULL;
	ice_err err = { 0 }, werr = { 0 };
	int rc = ICE_OK, i, failed_at = -1, after;

	full_vfs_install();
	snprintf(url, sizeof url, "sqlite://%s/full.db", dir);
	if (ice_backend_open(url, NULL, &b, &err) != ICE_OK) {
		tap_ok(0, "batch lost: open (%s)", err.msg);
		goto out;
	}
	tap_ok(bc_put(b, "before", "kept", "table:db.full", NULL, NULL) == ICE_OK, "batch lost: an entry before the batch");
	tap_is_int(ice_backend_batch(b, ICE_BATCH_BEGIN, &err), ICE_OK, "batch lost: begin");
	disk_full = 1;
	/* 64 KiB each: past a batch's 16 MiB page cache within 300 */
	for (i = 0; i < 1000 && failed_at < 0; i++) {
		snprintf(key, sizeof key, "in-%04d", i);
		if (put_big(b, key, &werr) != ICE_OK)
			failed_at = i;
	}
	tap_ok(failed_at > 0 && werr.code != ICE_OK,
	       "batch lost: a write spilling the cache fails on the full disk (write %d: %s)", failed_at, werr.msg);
	disk_full = 0;
	after = put_big(b, "after-loss", &err);
	tap_ok(after != ICE_OK && strstr(err.msg, "rolled the batch back; no change"),
	       "batch lost: a write after the loss is refused, not stored alone (%s)", err.msg);
	rc = ice_backend_batch(b, ICE_BATCH_COMMIT, &err);
	tap_ok(rc == ICE_EBACKEND && strstr(err.msg, "none of its writes was stored"),
	       "batch lost: the commit reports the batch lost (%s)", err.msg);
	tap_ok(peek_rc(b, "in-0000") == ICE_ENOENT && peek_rc(b, "after-loss") == ICE_ENOENT &&
	       peek_rc(b, "before") == ICE_OK,
	       "batch lost: none of the batch's writes is stored; the entry from before is");
	err = (ice_err){ 0 };
	rc = ice_backend_batch(b, ICE_BATCH_BEGIN, &err);
	if (rc == ICE_OK)
		rc = put_big(b, "next", &err);
	if (rc == ICE_OK)
		rc = ice_backend_batch(b, ICE_BATCH_COMMIT, &err);
	tap_ok(rc == ICE_OK && peek_rc(b, "next") == ICE_OK,
	       "batch lost: with room on the disk, the next batch commits (%s)", err.msg);
out:
	disk_full = 0;
	ice_backend_close(b);
	full_vfs_remove();
}

/* ice_batch: a write counts once its batch committed; 2,500 writes make
 * at least three commits (at most ICE_BATCH_MAX_ENTRIES each). */
static void test_batch_counts(const char *url)
{
	ice_backend *a = NULL;
	ice_batch bt;
	ice_err err = { 0 };
	char key[32];
	uint64_t max_pending = 0, seen = 0;
	int i, rc = ICE_OK, commits = 0;

	if (ice_backend_open(url, NULL, &a, &err)) {
		tap_ok(0, "ice_batch: open (%s)", err.msg);
		return;
	}
	ice_batch_init(&bt, a);
	for (i = 0; i < 2500 && !rc; i++) {
		snprintf(key, sizeof key, "c%d", i);
		if (!(rc = ice_batch_open(&bt, &err)) && !(rc = bc_put(a, key, "v", "table:db.bc", NULL, NULL)))
			rc = ice_batch_wrote(&bt, 1, &err);
		if (bt.pending > max_pending)
			max_pending = bt.pending;
		if (bt.entries != seen) {
			commits++;
			seen = bt.entries;
		}
	}
	/* A batch also commits after its time limit, so how many commits a
	 * slow machine (a sanitizer build) makes is not fixed; at least two,
	 * since no batch holds a thousand. */
	tap_ok(rc == ICE_OK && bt.entries + bt.pending == 2500 && max_pending < ICE_BATCH_MAX_ENTRIES &&
	       commits >= 2, "ice_batch: committed plus pending is every write, a batch never over its size "
	       "(%d commits%s)", commits, err.msg);
	rc = ice_batch_close(&bt, &err);
	tap_ok(rc == ICE_OK && bt.entries == 2500 && bt.bytes == 2500 && bt.pending == 0 &&
	       bc_count_scan(a, "db.bc", NULL, NULL, 0) == 2500, "ice_batch: closed, all 2,500 committed and counted");
	tap_is_int(ice_batch_close(&bt, &err), ICE_OK, "ice_batch: closing again is harmless");
	ice_backend_close(a);
}

static void test_migrate(const char *dir)
{
	char from_url[512], to_url[512];
	ice_backend *from = NULL, *to = NULL;
	ice_migrate_stats st;
	ice_entry_meta m = { 0 };
	const char *tags[2] = { "table:db.m", "file:db.m:f" };
	json_t *c = NULL, *cur = json_integer(42);
	void *v = NULL;
	size_t len = 0;
	ice_err err = { 0 };
	int rc;

	snprintf(from_url, sizeof from_url, "sqlite://%s/from.db", dir);
	snprintf(to_url, sizeof to_url, "file://%s/to.db", dir);
	if (ice_backend_open(from_url, NULL, &from, &err) || ice_backend_open(to_url, NULL, &to, &err)) {
		tap_ok(0, "migrate: open (%s)", err.msg);
		goto out;
	}
	ice_backend_put(from, "m1", "one", 3, tags, 2, 3600000, "exec", &err);
	bc_put(from, "m2", "two", "user:x", NULL, NULL);
	ice_backend_put(from, "gone", "x", 1, tags, 1, 1, "put", &err);
	bc_get_rc(from, "m1");
	ice_backend_cursor_set(from, "db.m", "invalidated", cur, &err);
	ice_backend_cursor_set(from, "db.empty", "invalidated", cur, &err);
	bc_sleep_ms(5);
	rc = ice_migrate(from, to, &st, &err);
	tap_ok(rc == ICE_OK && st.entries == 2 && st.cursors == 2 && st.metadata_kept && st.counters_copied &&
	       bc_get_rc(to, "gone") == ICE_ENOENT, "migrate: 2 entries, not the expired one, 2 cursors (%s)",
	       err.msg);
	rc = ice_backend_peek(to, "m1", &v, &len, &m, &err);
	tap_ok(rc == ICE_OK && len == 3 && memcmp(v, "one", 3) == 0 && m.n_tags == 2 && m.hits == 1 &&
	       m.origin && strcmp(m.origin, "exec") == 0 && m.expires_ms > 0 && m.created_ms > 0,
	       "migrate: value, tags, origin, hits, expiry kept");
	free(v);
	ice_entry_meta_clear(&m);
	tap_ok(ice_backend_counters(to, "db.m", &c, &err) == ICE_OK &&
	       json_integer_value(json_object_get(c, "puts")) == 2 &&
	       json_integer_value(json_object_get(c, "hits")) == 1, "migrate: per-table counters copied");
	json_decref(c);
	c = NULL;
	tap_ok(ice_backend_cursor_get(to, "db.empty", "invalidated", &c, &err) == ICE_OK && json_equal(c, cur),
	       "migrate: the cursor of a table without entries copied");
	json_decref(c);
	tap_is_int((long long)bc_inval1(to, "file:db.m:f"), 1, "migrate: the copy's tags are invalidated as before");
out:
	json_decref(cur);
	ice_backend_close(from);
	ice_backend_close(to);
}

void test_sqlite(void)
{
	char *dir = test_tmpdir(), url[600], path[512];
	ice_backend *b = NULL;
	ice_err err = { 0 };

	test_urls(dir);
	snprintf(path, sizeof path, "%s/cache.db", dir);
	snprintf(url, sizeof url, "sqlite://%s", path);
	if (ice_backend_open(url, NULL, &b, &err) == ICE_OK && sqlite3_open(path, &raw) == SQLITE_OK) {
		bc_run_all(b, url, "sqlite", sqlite_layout);
		tap_ok(raw_int("SELECT journal_mode = 'wal' FROM pragma_journal_mode") == 1 && bytes_consistent(), "the file is in WAL mode, bytes consistent");
	} else {
		tap_ok(0, "sqlite: open %s (%s)", url, err.msg);
	}
	sqlite3_close(raw);
	raw = NULL;
	ice_backend_close(b);
	test_two_connections(url);
	test_limit(dir);
	test_kill(dir);
	test_failures(dir);
	snprintf(url, sizeof url, "sqlite://%s/batch.db?max_size=10K", dir);
	test_batch_backend(url);
	snprintf(url, sizeof url, "sqlite://%s/batch-count.db", dir);
	test_batch_counts(url);
	test_batch_lost(dir);
	test_big_tag(dir);
	test_migrate(dir);
	free(dir);
}
