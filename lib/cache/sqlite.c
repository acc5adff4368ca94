/* sqlite: the embedded cache backend, one SQLite database file in WAL mode.
 *
 * Every change is one transaction (BEGIN IMMEDIATE), so a process killed in
 * the middle of a put or an invalidation leaves the file as it was before;
 * inside a batch (import, migrate) every change is a savepoint of the
 * batch's one transaction instead, undone alone when it fails;
 * several processes share the file, waiting for each other up to the
 * command timeout (busy_timeout). Triggers keep the tag index and the byte
 * count in step with the entries whoever deletes them. The key prefix is a
 * namespace column, so one file can hold several caches. */
#include "config.h"
#include "backend_int.h"
#include "ice_tag.h"
#include "ice_fileio.h"
#include "ice_jsonl.h"
#include "ice_time.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SCHEMA_VERSION 2
#define PURGE_BATCH 256 /* expired entries removed by one put */

/* Every table an entry depends on (schema 2): a commit to any of them
 * invalidates it. The trigger keeps tags and deps in step with entries. */
#define DEPS_SQL \
	"CREATE TABLE IF NOT EXISTS deps (" \
	" ns TEXT NOT NULL, tbl TEXT NOT NULL, key TEXT NOT NULL," \
	" PRIMARY KEY (ns, tbl, key)) WITHOUT ROWID;" \
	"CREATE INDEX IF NOT EXISTS deps_key ON deps (ns, key);" \
	"CREATE TRIGGER IF NOT EXISTS entries_removed AFTER DELETE ON entries BEGIN" \
	" DELETE FROM tags WHERE ns = old.ns AND key = old.key;" \
	" DELETE FROM deps WHERE ns = old.ns AND key = old.key;" \
	" UPDATE store SET value = value - old.bytes WHERE name = 'used_bytes'; END;"

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS entries ("
	" ns TEXT NOT NULL, key TEXT NOT NULL, tbl TEXT NOT NULL,"
	" created INTEGER NOT NULL, expires INTEGER NOT NULL, atime INTEGER NOT NULL,"
	" size INTEGER NOT NULL, bytes INTEGER NOT NULL, hits INTEGER NOT NULL,"
	" origin TEXT, tags TEXT NOT NULL,"
	" value BLOB NOT NULL," /* last: reading the metadata never pages through it */
	" UNIQUE (ns, key));"
	"CREATE INDEX IF NOT EXISTS entries_tbl ON entries (ns, tbl);"
	"CREATE INDEX IF NOT EXISTS entries_atime ON entries (atime);"
	"CREATE INDEX IF NOT EXISTS entries_expires ON entries (expires) WHERE expires > 0;"
	"CREATE TABLE IF NOT EXISTS tags ("
	" ns TEXT NOT NULL, tag TEXT NOT NULL, key TEXT NOT NULL,"
	" PRIMARY KEY (ns, tag, key)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS tags_key ON tags (ns, key);"
	"CREATE TABLE IF NOT EXISTS counters ("
	" ns TEXT NOT NULL, tbl TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL,"
	" PRIMARY KEY (ns, tbl, name)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS cursors ("
	" ns TEXT NOT NULL, tbl TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,"
	" PRIMARY KEY (ns, tbl, name)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS locks ("
	" ns TEXT NOT NULL, name TEXT NOT NULL, token TEXT NOT NULL, expires INTEGER NOT NULL,"
	" PRIMARY KEY (ns, name)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS store (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT OR IGNORE INTO store VALUES ('used_bytes', 0), ('max_bytes', 0), ('evicted', 0), ('expired', 0);"
	"CREATE TRIGGER IF NOT EXISTS entries_added AFTER INSERT ON entries BEGIN"
	" UPDATE store SET value = value + new.bytes WHERE name = 'used_bytes'; END;"
	DEPS_SQL
	"PRAGMA user_version = 2;";

/* Schema 1 to 2: the tables an entry depends on (before: its home table
 * only, which is what every entry of a schema 1 file has). */
static const char migrate_1_2_sql[] =
	"DROP TRIGGER IF EXISTS entries_removed;"
	DEPS_SQL
	"INSERT OR IGNORE INTO deps SELECT ns, tbl, key FROM entries;"
	"PRAGMA user_version = 2;";

/* A live entry: no expiry, or not reached yet (?3 is now). "?3 + 0", not
 * "?3": SQLite weighs a bare parameter against the partial index on
 * expires (WHERE expires > 0) by its bound value, and then compiles the
 * statement again whenever it is bound, as stmt() does at every run (an
 * invalidation spent a quarter of its CPU compiling one statement per
 * tag, bench 4). */
#define LIVE "(e.expires = 0 OR e.expires > ?3 + 0)"

/* Entries one DELETE of an invalidation by tags removes at most; it runs
 * again until fewer go. Each run is one statement, whose undo journal
 * (the original of every page it changes, the trigger's changes
 * included) is held in memory then (see "invalidation" below): a bounded
 * statement keeps it to a few MiB however many entries carry the tag. */
#define DELETE_CHUNK 256
#define STR_(x) #x
#define STR(x) STR_(x)
#define META_COLS "e.key, e.tbl, e.created, e.expires, e.size, e.hits, e.origin, e.tags"

/* The statements, prepared once per connection. Wherever they appear, ?1
 * is the namespace and ?3 the time now (bound by stmt()). */
enum {
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK, Q_SAVEPOINT, Q_RELEASE, Q_ROLLBACK_TO,
	Q_GET, Q_TOUCH, Q_COUNT, Q_DEL_KEY, Q_INSERT, Q_TAG, Q_DEP,
	Q_PURGE, Q_EVICT, Q_STORE_GET, Q_STORE_ADD, Q_STORE_SET,
	Q_HIT_CLEAR, Q_HIT_EXPLICIT, Q_HIT_TAG, Q_DEL_TAG, Q_DEL_TAG_CHUNK, Q_HIT_COUNT_INVAL, Q_HIT_COUNT_GONE, Q_HIT_SUM,
	Q_TABLE_LIVE, Q_DEL_TABLE,
	Q_SCAN, Q_COUNTERS, Q_CURSOR_GET, Q_CURSOR_SET, Q_CURSOR_ADVANCE, Q_GC_REFS, Q_GC,
	Q_LOCK, Q_UNLOCK, Q_LOCKS_GC, Q_TABLES, Q_PAGES, Q_RESET_TABLE, Q_RESET_ALL,
	Q_COUNT_N
};

static const char *const sql_text[Q_COUNT_N] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SAVEPOINT] = "SAVEPOINT one_change",
	[Q_RELEASE] = "RELEASE one_change",
	[Q_ROLLBACK_TO] = "ROLLBACK TO one_change",
	[Q_GET] = "SELECT " META_COLS ", e.value FROM entries e WHERE e.ns = ?1 AND e.key = ?2",
	/* atime strictly increases: the eviction order is exact */
	[Q_TOUCH] = "UPDATE entries SET hits = hits + 1,"
	            " atime = MAX(?3, (SELECT IFNULL(MAX(atime), 0) + 1 FROM entries))"
	            " WHERE ns = ?1 AND key = ?2",
	[Q_COUNT] = "INSERT INTO counters VALUES (?1, ?2, ?3, ?4)"
	            " ON CONFLICT DO UPDATE SET value = value + excluded.value",
	[Q_DEL_KEY] = "DELETE FROM entries WHERE ns = ?1 AND key = ?2 RETURNING expires = 0 OR expires > ?3",
	[Q_INSERT] = "INSERT INTO entries (ns, key, tbl, created, expires, atime, size, bytes, hits,"
	             " origin, tags, value) VALUES (?1, ?2, ?4, ?5, ?6,"
	             " MAX(?3, (SELECT IFNULL(MAX(atime), 0) + 1 FROM entries)),"
	             " ?7, ?8, ?9, ?10, ?11, ?12)",
	[Q_TAG] = "INSERT OR IGNORE INTO tags VALUES (?1, ?2, ?3)",
	[Q_DEP] = "INSERT OR IGNORE INTO deps VALUES (?1, ?2, ?4)",
	[Q_PURGE] = "DELETE FROM entries WHERE rowid IN (SELECT rowid FROM entries"
	            " WHERE expires > 0 AND expires <= ?3 LIMIT ?2)",
	/* one at a time: an entry goes only while the bytes are over the limit */
	[Q_EVICT] = "DELETE FROM entries WHERE rowid = (SELECT rowid FROM entries"
	            " WHERE NOT (ns = ?1 AND key = ?2) ORDER BY atime LIMIT 1)",
	[Q_STORE_GET] = "SELECT value FROM store WHERE name = ?2",
	[Q_STORE_ADD] = "UPDATE store SET value = value + ?4 WHERE name = ?2",
	[Q_STORE_SET] = "UPDATE store SET value = ?4 WHERE name = ?2",
	[Q_HIT_CLEAR] = "DELETE FROM temp.hit",
	[Q_HIT_EXPLICIT] = "INSERT OR IGNORE INTO temp.hit VALUES (?2, 0)",
	/* counted for the table the tag names (?4), else the entry's home */
	[Q_HIT_TAG] = "INSERT INTO temp.hit SELECT IFNULL(?4, e.tbl), COUNT(*) FROM tags t"
	              " JOIN entries e ON e.ns = t.ns AND e.key = t.key"
	              " WHERE t.ns = ?1 AND t.tag = ?2 AND " LIVE " GROUP BY IFNULL(?4, e.tbl)"
	              " ON CONFLICT (tbl) DO UPDATE SET n = n + excluded.n",
	[Q_DEL_TAG] = "DELETE FROM entries WHERE ns = ?1 AND key IN"
	              " (SELECT key FROM tags WHERE ns = ?1 AND tag = ?2)",
	[Q_DEL_TAG_CHUNK] = "DELETE FROM entries WHERE rowid IN (SELECT e.rowid FROM tags t"
	                    " JOIN entries e ON e.ns = t.ns AND e.key = t.key"
	                    " WHERE t.ns = ?1 AND t.tag = ?2 LIMIT " STR(DELETE_CHUNK) ")",
	[Q_HIT_COUNT_INVAL] = "INSERT INTO counters SELECT ?1, tbl, 'invalidations', 1 FROM temp.hit WHERE 1"
	                      " ON CONFLICT DO UPDATE SET value = value + excluded.value",
	[Q_HIT_COUNT_GONE] = "INSERT INTO counters SELECT ?1, tbl, 'invalidated', n FROM temp.hit WHERE 1"
	                     " ON CONFLICT DO UPDATE SET value = value + excluded.value",
	[Q_HIT_SUM] = "SELECT IFNULL(SUM(n), 0) FROM temp.hit",
	[Q_TABLE_LIVE] = "SELECT COUNT(*) FROM entries e WHERE e.ns = ?1 AND " LIVE " AND e.key IN"
	                 " (SELECT key FROM deps WHERE ns = ?1 AND tbl = ?2)",
	[Q_DEL_TABLE] = "DELETE FROM entries WHERE ns = ?1 AND key IN"
	                " (SELECT key FROM deps WHERE ns = ?1 AND tbl = ?2)",
	[Q_SCAN] = "SELECT " META_COLS " FROM entries e WHERE e.ns = ?1 AND " LIVE
	           " AND (?2 IS NULL OR e.key IN (SELECT key FROM deps WHERE ns = ?1 AND tbl = ?2))"
	           " AND (?5 IS NULL OR e.key = ?5)"
	           " AND (?4 IS NULL OR e.key IN (SELECT key FROM tags WHERE ns = ?1 AND tag = ?4))"
	           " ORDER BY e.key",
	[Q_COUNTERS] = "SELECT name, value FROM counters WHERE ns = ?1 AND tbl = ?2",
	[Q_CURSOR_GET] = "SELECT value FROM cursors WHERE ns = ?1 AND tbl = ?2 AND name = ?3",
	[Q_CURSOR_SET] = "INSERT OR REPLACE INTO cursors VALUES (?1, ?2, ?3, ?4)",
	/* forward only: the stored place (sequence number, timestamp) must be
	 * before (?5, ?6); a stored value without one is before everything */
	[Q_CURSOR_ADVANCE] = "INSERT INTO cursors VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE"
	                     " SET value = excluded.value WHERE NOT json_valid(value)"
	                     " OR json_type(value, '$.sequence_number') IS NOT 'integer'"
	                     " OR json_type(value, '$.timestamp_ms') IS NOT 'integer'"
	                     " OR (json_extract(value, '$.sequence_number'), json_extract(value, '$.timestamp_ms'))"
	                     " < (?5, ?6)",
	[Q_GC_REFS] = "SELECT COUNT(*) FROM tags t JOIN entries e ON e.ns = t.ns AND e.key = t.key"
	              " WHERE t.ns = ?1 AND e.expires > 0 AND e.expires <= ?3",
	[Q_GC] = "DELETE FROM entries WHERE ns = ?1 AND expires > 0 AND expires <= ?3",
	[Q_LOCK] = "INSERT INTO locks VALUES (?1, ?2, ?4, ?5) ON CONFLICT (ns, name) DO UPDATE"
	           " SET token = excluded.token, expires = excluded.expires WHERE locks.expires <= ?3",
	[Q_UNLOCK] = "DELETE FROM locks WHERE ns = ?1 AND name = ?2 AND token = ?3",
	[Q_LOCKS_GC] = "DELETE FROM locks WHERE ns = ?1 AND expires <= ?3",
	[Q_TABLES] = "SELECT tbl FROM deps WHERE ns = ?1 UNION SELECT tbl FROM counters"
	             " WHERE ns = ?1 AND tbl <> '' UNION SELECT tbl FROM cursors WHERE ns = ?1 ORDER BY 1",
	[Q_PAGES] = "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size",
	[Q_RESET_TABLE] = "DELETE FROM counters WHERE ns = ?1 AND tbl = ?2",
	[Q_RESET_ALL] = "DELETE FROM counters WHERE ns = ?1",
};

typedef struct sq_be {
	sqlite3 *db;
	char *where; /* "sqlite:///path", for messages */
	char *ns;
	sqlite3_stmt *st[Q_COUNT_N];
	int batch;      /* a batch is open: begin and finish are savepoints */
	int batch_lost; /* a failure ended the batch's transaction */
	int cache_size; /* PRAGMA cache_size as opened, for bulk_mode */
} sq_be;

/* ---- plumbing ---- */

/* Turn SQLite's result code into an ice_code with a message. */
static int db_error(sq_be *s, int src, ice_err *err)
{
	int code = src & 0xff;

	if (code == SQLITE_NOMEM)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return ice_err_set(err, ICE_ETIMEOUT, "%s: busy: another process holds the cache too long", s->where);
	return ice_err_set(err, ICE_EBACKEND, "%s: %s", s->where,
	                   s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(src));
}

/* Statement q, reset, with ?1 bound to the namespace and ?3 to now when it
 * has them. NULL on error (err set). */
static sqlite3_stmt *stmt(sq_be *s, int q, int64_t now, ice_err *err)
{
	sqlite3_stmt *st = s->st[q];
	int rc;

	if (!st) {
		rc = sqlite3_prepare_v3(s->db, sql_text[q], -1, SQLITE_PREPARE_PERSISTENT, &s->st[q], NULL);
		if (rc != SQLITE_OK) {
			db_error(s, rc, err);
			return NULL;
		}
		st = s->st[q];
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (sqlite3_bind_parameter_index(st, "?1") == 1)
		sqlite3_bind_text(st, 1, s->ns, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_index(st, "?3") == 3)
		sqlite3_bind_int64(st, 3, now);
	return st;
}

static void bind_str(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* The code of a failure already reported in err (which may be NULL). */
static int failed(const ice_err *err)
{
	return err && err->code ? (int)err->code : ICE_EBACKEND;
}

/* Run a statement that returns no row we need; *changes (optional) gets
 * the rows it changed. */
static int run(sq_be *s, sqlite3_stmt *st, int *changes, ice_err *err)
{
	int rc;

	if (!st)
		return failed(err);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		rc = db_error(s, rc, err);
		sqlite3_reset(st);
		return rc;
	}
	if (changes)
		*changes = sqlite3_changes(s->db);
	sqlite3_reset(st);
	return ICE_OK;
}

/* Step to the first row: ICE_OK with a row, ICE_ENOENT without. */
static int first_row(sq_be *s, sqlite3_stmt *st, ice_err *err)
{
	int rc;

	if (!st)
		return failed(err);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return ICE_OK;
	if (rc == SQLITE_DONE)
		return ICE_ENOENT;
	rc = db_error(s, rc, err);
	sqlite3_reset(st);
	return rc;
}

/* Open one change: a transaction, or inside a batch a savepoint. Once
 * SQLite has rolled a batch's transaction back, a savepoint would start a
 * transaction of its own and the change would be stored alone, behind the
 * batch's back: so changes are refused until the batch ends. */
static int begin(sq_be *s, ice_err *err)
{
	if (s->batch && (s->batch_lost || sqlite3_get_autocommit(s->db))) {
		s->batch_lost = 1;
		return ice_err_set(err, ICE_EBACKEND,
		                   "%s: an earlier failure rolled the batch back; no change is taken until it ends",
		                   s->where);
	}
	return run(s, stmt(s, s->batch ? Q_SAVEPOINT : Q_BEGIN, 0, err), NULL, err);
}

/* The end of one change inside a batch: kept in the batch's transaction
 * when rc is ICE_OK, else undone alone. SQLite itself rolls back the whole
 * transaction on some failures (a full disk, an I/O error); then the batch
 * is lost, and its commit says so. */
static int end_savepoint(sq_be *s, int rc, ice_err *err)
{
	if (sqlite3_get_autocommit(s->db)) {
		s->batch_lost = 1;
		return rc;
	}
	if (rc == ICE_OK && (rc = run(s, stmt(s, Q_RELEASE, 0, err), NULL, err)) == ICE_OK)
		return ICE_OK;
	run(s, stmt(s, Q_ROLLBACK_TO, 0, NULL), NULL, NULL);
	run(s, stmt(s, Q_RELEASE, 0, NULL), NULL, NULL);
	return rc;
}

/* Commit when rc is ICE_OK, else roll back; returns the outcome. */
static int finish(sq_be *s, int rc, ice_err *err)
{
	int i;

	for (i = 0; i < Q_COUNT_N; i++)
		if (s->st[i])
			sqlite3_reset(s->st[i]);
	if (s->batch)
		return end_savepoint(s, rc, err);
	if (rc == ICE_OK)
		rc = run(s, stmt(s, Q_COMMIT, 0, err), NULL, err);
	if (rc != ICE_OK && !sqlite3_get_autocommit(s->db))
		run(s, stmt(s, Q_ROLLBACK, 0, NULL), NULL, NULL);
	return rc;
}

/* Add n to counter name of table tbl ("" global). */
static int count(sq_be *s, const char *tbl, const char *name, int64_t n, ice_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_COUNT, 0, err);

	if (st) {
		sqlite3_bind_text(st, 2, tbl, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, n);
	}
	return run(s, st, NULL, err);
}

/* Count globally and for table tbl. */
static int count2(sq_be *s, const char *tbl, const char *name, int64_t n, ice_err *err)
{
	int rc = count(s, "", name, n, err);

	return rc ? rc : count(s, tbl, name, n, err);
}

static int store_get(sq_be *s, const char *name, int64_t *v, ice_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_STORE_GET, 0, err);
	int rc;

	*v = 0;
	if (st)
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = first_row(s, st, err);
	if (rc == ICE_OK)
		*v = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	return rc == ICE_ENOENT ? ICE_OK : rc;
}

static int store_add(sq_be *s, int q, const char *name, int64_t v, ice_err *err)
{
	sqlite3_stmt *st = stmt(s, q, 0, err);

	if (st) {
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, v);
	}
	return run(s, st, NULL, err);
}

/* ---- metadata ---- */

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? strndup((const char *)t, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

/* Split the newline-joined tag list into m->tags. */
static int split_tags(ice_entry_meta *m, const char *s, size_t len)
{
	size_t n = 0, tl;
	const char *nl;

	if (!(m->tags = calloc(len / 2 + 2, sizeof *m->tags)))
		return ICE_ENOMEM;
	while (len) {
		nl = memchr(s, '\n', len);
		tl = nl ? (size_t)(nl - s) : len;
		if (tl && !(m->tags[n++] = strndup(s, tl)))
			return ICE_ENOMEM;
		m->n_tags = n;
		s += tl + (nl ? 1 : 0);
		len -= tl + (nl ? 1 : 0);
	}
	return ICE_OK;
}

/* Fill m from a row of META_COLS (column 0 is the key). */
static int fill_meta(sqlite3_stmt *st, ice_entry_meta *m, ice_err *err)
{
	const char *tags = (const char *)sqlite3_column_text(st, 7);

	memset(m, 0, sizeof *m);
	m->table = col_dup(st, 1);
	m->created_ms = sqlite3_column_int64(st, 2);
	m->expires_ms = sqlite3_column_int64(st, 3);
	m->size = (uint64_t)sqlite3_column_int64(st, 4);
	m->hits = (uint64_t)sqlite3_column_int64(st, 5);
	m->origin = col_dup(st, 6);
	if (!m->table || split_tags(m, tags ? tags : "", tags ? (size_t)sqlite3_column_bytes(st, 7) : 0) ||
	    ice_tags_table_list((const char *const *)m->tags, m->n_tags, &m->tables, &m->n_tables, NULL)) {
		ice_entry_meta_clear(m);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	return ICE_OK;
}

static char *join_tags(const char *const *tags, size_t n)
{
	size_t i, len = 1;
	char *j, *p;

	for (i = 0; i < n; i++)
		len += strlen(tags[i]) + 1;
	if (!(j = p = malloc(len)))
		return NULL;
	*p = '\0';
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? "\n" : "", tags[i]);
	return j;
}

/* ---- size limit ---- */

static int purge_expired(sq_be *s, int64_t now, int64_t limit, ice_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_PURGE, now, err);
	int n = 0, rc;

	if (st)
		sqlite3_bind_int64(st, 2, limit);
	if ((rc = run(s, st, &n, err)) == ICE_OK && n > 0)
		rc = store_add(s, Q_STORE_ADD, "expired", n, err);
	return rc;
}

/* Bring the bytes in use under the limit: expired entries first, then the
 * least recently used ones, never the entry keep (just written). */
static int enforce_limit(sq_be *s, const char *keep, int64_t now, ice_err *err)
{
	int64_t max, used;
	int rc, n = 0;

	if ((rc = store_get(s, "max_bytes", &max, err)) || max <= 0)
		return rc;
	if ((rc = store_get(s, "used_bytes", &used, err)) || used <= max)
		return rc;
	if ((rc = purge_expired(s, now, INT64_MAX, err)))
		return rc;
	while (!(rc = store_get(s, "used_bytes", &used, err)) && used > max) {
		sqlite3_stmt *st = stmt(s, Q_EVICT, 0, err);
		if (st)
			bind_str(st, 2, keep ? keep : "");
		if ((rc = run(s, st, &n, err)))
			break;
		if (n == 0)
			return ice_err_set(err, ICE_ETOOBIG, "%s: the entry alone is larger than the cache's size limit (%lld bytes)",
			                   s->where, (long long)max);
		if ((rc = store_add(s, Q_STORE_ADD, "evicted", n, err)))
			break;
	}
	return rc;
}

/* ---- batches ---- */

/* The page cache of bulk work, KiB (SQLite's default is 2 MiB). */
#define BULK_CACHE_KIB 16384

/* Bulk work (a batch, an invalidation of many tags) or not: where SQLite
 * keeps its temporary data, its page cache, and the temporary table of
 * hit counts (a change of place drops every temporary table). Not inside
 * a transaction.
 *
 * In bulk, the temporary store is memory: each change's savepoint or
 * statement journals the pages it touches (about 60 KiB for a put), which
 * on disk made a temporary file's writes most of an import's or an
 * invalidation's time. And the page cache is 16 MiB: a batch or an
 * invalidation dirties pages all over the file, and with 2 MiB each was
 * written to the WAL and read back several times (bench 4's
 * invalidation: 0.28M writes and reads, 3.7 s against 4.2 s in all).
 * Otherwise the store is on disk, where a list a query builds (the keys
 * of a table, for ls --table) spills to a file beyond the cache instead
 * of growing with the table, and the cache is the default (a process
 * holding a connection open keeps 2 MiB, not 16). */
static int bulk_mode(sq_be *s, int on, ice_err *err)
{
	char cache[48];

	snprintf(cache, sizeof cache, "PRAGMA cache_size = %d", on ? -BULK_CACHE_KIB : s->cache_size);
	if (sqlite3_exec(s->db, on ? "PRAGMA temp_store = MEMORY" : "PRAGMA temp_store = DEFAULT",
	                 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, cache, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, "CREATE TEMP TABLE IF NOT EXISTS hit (tbl TEXT PRIMARY KEY, n INTEGER NOT NULL)",
	                 NULL, NULL, NULL) != SQLITE_OK)
		return db_error(s, sqlite3_errcode(s->db), err);
	return ICE_OK;
}

/* Out of bulk mode after work whose outcome is rc: rc, or when that was
 * ICE_OK, the switch's own failure. */
static int leave_bulk(sq_be *s, int rc, ice_err *err)
{
	ice_err terr = { 0 };
	int trc = bulk_mode(s, 0, &terr);

	if (!trc || rc)
		return rc;
	if (err)
		*err = terr;
	return trc;
}

static int batch_begin(sq_be *s, ice_err *err)
{
	int rc;

	if (s->batch)
		return ice_err_set(err, ICE_EINVAL, "%s: a batch is already open", s->where);
	if ((rc = bulk_mode(s, 1, err)))
		return rc;
	if ((rc = begin(s, err))) {
		bulk_mode(s, 0, NULL);
		return rc;
	}
	s->batch = 1;
	s->batch_lost = 0;
	return ICE_OK;
}

/* Commit (or roll back) the open batch's transaction. */
static int batch_end(sq_be *s, int op, ice_err *err)
{
	int lost = s->batch_lost || sqlite3_get_autocommit(s->db), rc = ICE_OK;

	s->batch = 0;
	if (op == ICE_BATCH_COMMIT && lost)
		rc = ice_err_set(err, ICE_EBACKEND,
		                 "%s: an earlier failure rolled the batch back; none of its writes was stored",
		                 s->where);
	else if (op == ICE_BATCH_COMMIT)
		rc = finish(s, ICE_OK, err);
	else if (!lost)
		run(s, stmt(s, Q_ROLLBACK, 0, NULL), NULL, NULL);
	if (sqlite3_get_autocommit(s->db))
		rc = leave_bulk(s, rc, err);
	return rc;
}

static int sq_batch(void *impl, int op, ice_err *err)
{
	sq_be *s = impl;

	if (op == ICE_BATCH_BEGIN)
		return batch_begin(s, err);
	if (!s->batch)
		return ice_err_set(err, ICE_EINVAL, "%s: no batch is open", s->where);
	return batch_end(s, op, err);
}

/* ---- put / get / peek / delete ---- */

typedef struct put_args {
	const char *key, *tbl, *origin, *joined;
	const void *val;
	size_t len;
	const char *const *tags;
	size_t n_tags;
	char **tables; /* every table the tags name, home first */
	size_t n_tables;
	int64_t created, expires, hits;
} put_args;

/* Replace the entry (inside a transaction). */
static int write_entry(sq_be *s, const put_args *a, int64_t now, ice_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_DEL_KEY, now, err);
	size_t i;
	int rc;

	if (st)
		sqlite3_bind_text(st, 2, a->key, -1, SQLITE_STATIC);
	if ((rc = run(s, st, NULL, err)))
		return rc;
	if ((st = stmt(s, Q_INSERT, now, err))) {
		sqlite3_bind_text(st, 2, a->key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, a->tbl, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, a->created);
		sqlite3_bind_int64(st, 6, a->expires);
		sqlite3_bind_int64(st, 7, (int64_t)a->len);
		sqlite3_bind_int64(st, 8, (int64_t)(a->len + strlen(a->key) + strlen(a->joined)));
		sqlite3_bind_int64(st, 9, a->hits);
		bind_str(st, 10, a->origin);
		sqlite3_bind_text(st, 11, a->joined, -1, SQLITE_STATIC);
		sqlite3_bind_blob64(st, 12, a->len ? a->val : "", a->len, SQLITE_STATIC);
	}
	if ((rc = run(s, st, NULL, err)))
		return rc;
	for (i = 0; i < a->n_tags && !rc; i++) {
		if ((st = stmt(s, Q_TAG, 0, err))) {
			sqlite3_bind_text(st, 2, a->tags[i], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, a->key, -1, SQLITE_STATIC);
		}
		rc = run(s, st, NULL, err);
	}
	for (i = 0; i < a->n_tables && !rc; i++) {
		if ((st = stmt(s, Q_DEP, 0, err))) {
			sqlite3_bind_text(st, 2, a->tables[i], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, a->key, -1, SQLITE_STATIC);
		}
		rc = run(s, st, NULL, err);
	}
	if (!rc)
		rc = purge_expired(s, now, PURGE_BATCH, err);
	if (!rc)
		rc = enforce_limit(s, a->key, now, err);
	return rc;
}

/* put and restore: check, then one transaction. */
static int put_entry(sq_be *s, put_args *a, int count_put, ice_err *err)
{
	int64_t now = ice_now_ms();
	char *tbl = NULL, *joined = NULL;
	int rc;

	if (!a->key)
		return ice_err_set(err, ICE_EINVAL, "put: missing key");
	if ((rc = ice_tags_check(a->tags, a->n_tags, err)) ||
	    (rc = ice_tags_table_list(a->tags, a->n_tags, &a->tables, &a->n_tables, err)))
		return rc;
	if (!(tbl = strdup(a->tables[0])) || !(joined = join_tags(a->tags, a->n_tags))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	a->tbl = tbl;
	a->joined = joined;
	if (!a->created)
		a->created = now;
	if ((rc = begin(s, err)))
		goto out;
	rc = write_entry(s, a, now, err);
	if (!rc && count_put)
		rc = count2(s, tbl, "puts", 1, err);
	rc = finish(s, rc, err);
out:
	ice_backend_strv_free(a->tables, a->n_tables);
	free(tbl);
	free(joined);
	return rc;
}

static int sq_put(void *impl, const char *key, const void *val, size_t len,
                  const char *const *tags, size_t n_tags, int64_t ttl_ms,
                  const char *origin, int64_t created_ms, ice_err *err)
{
	put_args a = { 0 };
	int64_t now = ice_now_ms();

	if (ttl_ms < 0)
		return ice_err_set(err, ICE_EINVAL, "put: negative TTL");
	a.key = key;
	a.val = val;
	a.len = len;
	a.tags = tags;
	a.n_tags = n_tags;
	a.origin = origin;
	a.created = created_ms ? created_ms : now; /* import keeps the exported creation time */
	a.expires = ttl_ms ? now + ttl_ms : 0;
	return put_entry(impl, &a, 1, err);
}

static int sq_restore(void *impl, const char *key, const void *val, size_t len,
                      const ice_entry_meta *m, ice_err *err)
{
	put_args a = { 0 };

	a.key = key;
	a.val = val;
	a.len = len;
	a.tags = (const char *const *)m->tags;
	a.n_tags = m->n_tags;
	a.origin = m->origin;
	a.created = m->created_ms;
	a.expires = m->expires_ms;
	a.hits = (int64_t)m->hits;
	return put_entry(impl, &a, 0, err);
}

/* Copy the value and metadata of the row Q_GET stepped to. */
static int take_entry(sqlite3_stmt *st, void **val, size_t *len, ice_entry_meta *meta, ice_err *err)
{
	size_t n = (size_t)sqlite3_column_bytes(st, 8);
	const void *v = sqlite3_column_blob(st, 8);
	char *copy = malloc(n + 1);

	if (!copy)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (n)
		memcpy(copy, v, n);
	copy[n] = '\0';
	if (meta && fill_meta(st, meta, err)) {
		free(copy);
		return ICE_ENOMEM;
	}
	*val = copy;
	*len = n;
	return ICE_OK;
}

/* A hit: bump the entry's hits and recency, and the hit counters. */
static int touch(sq_be *s, const char *key, const char *tbl, int64_t now, ice_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_TOUCH, now, err);
	int rc;

	if (st)
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = run(s, st, NULL, err);
	return rc ? rc : count2(s, tbl, "hits", 1, err);
}

/* get (counting) and peek. An expired entry is a miss of its table. */
static int fetch(sq_be *s, const char *key, int counting, void **val, size_t *len,
                 ice_entry_meta *meta, ice_err *err)
{
	int64_t now = ice_now_ms(), expires;
	sqlite3_stmt *st;
	char *tbl = NULL;
	int rc, found = 0;

	*val = NULL;
	*len = 0;
	if (meta)
		memset(meta, 0, sizeof *meta);
	if (counting && (rc = begin(s, err)))
		return rc;
	if ((st = stmt(s, Q_GET, now, err)))
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = first_row(s, st, err);
	if (rc == ICE_OK) {
		expires = sqlite3_column_int64(st, 3);
		if (!(tbl = col_dup(st, 1))) {
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		} else if (!expires || expires > now) {
			found = 1;
			rc = take_entry(st, val, len, meta, err);
		}
	} else if (rc == ICE_ENOENT) {
		rc = ICE_OK;
	}
	if (st)
		sqlite3_reset(st);
	if (counting && !rc)
		rc = found ? touch(s, key, tbl, now, err)
		     : tbl ? count2(s, tbl, "misses", 1, err) : count(s, "", "misses", 1, err);
	if (counting)
		rc = finish(s, rc, err);
	if (!rc && found && counting && meta)
		meta->hits++; /* read before the touch */
	if (!rc && !found)
		rc = ice_err_set(err, ICE_ENOENT, "%s: no entry", key);
	if (rc && rc != ICE_ENOENT) {
		free(*val);
		*val = NULL;
		*len = 0;
		ice_entry_meta_clear(meta);
	}
	free(tbl);
	return rc;
}

static int sq_get(void *impl, const char *key, void **val, size_t *len, ice_entry_meta *meta,
                  ice_err *err)
{
	return fetch(impl, key, 1, val, len, meta, err);
}

static int sq_peek(void *impl, const char *key, void **val, size_t *len, ice_entry_meta *meta,
                   ice_err *err)
{
	return fetch(impl, key, 0, val, len, meta, err);
}

static int sq_del(void *impl, const char *const *keys, size_t n, uint64_t *removed, ice_err *err)
{
	sq_be *s = impl;
	int64_t now = ice_now_ms();
	uint64_t live = 0;
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if (removed)
		*removed = 0;
	if (!n)
		return ICE_OK;
	if ((rc = begin(s, err)))
		return rc;
	for (i = 0; i < n && !rc; i++) {
		if ((st = stmt(s, Q_DEL_KEY, now, err)))
			sqlite3_bind_text(st, 2, keys[i], -1, SQLITE_STATIC);
		if ((rc = first_row(s, st, err)) == ICE_OK)
			live += sqlite3_column_int(st, 0) != 0;
		rc = rc == ICE_ENOENT ? ICE_OK : rc;
		if (!rc)
			rc = run(s, st, NULL, err); /* step on to the end */
	}
	if (!(rc = finish(s, rc, err)) && removed)
		*removed = live;
	return rc;
}

/* ---- invalidation ----
 *
 * Inside a transaction every DELETE keeps an undo journal of its own (a
 * statement journal), in a temporary file once over 64 KiB with the
 * default temporary store. An invalidation by tags runs a DELETE per tag,
 * each journaling the B-tree pages its entries share with the others':
 * for bench 4's 100k entries 3M small writes and 0.28M reads to that
 * file, more than half of the invalidation's time. So an invalidation of
 * many tags runs in bulk mode (bulk_mode: the temporary store in memory,
 * a larger page cache) and deletes in bounded statements (DELETE_CHUNK);
 * on disk, chunks would journal the pages they share once per chunk. An
 * invalidation of a whole table is one DELETE, whose journal is written
 * once: it keeps the default store (in memory it would grow with the
 * table). Inside a batch the connection is in bulk mode already. */

/* Tags from which an invalidation runs in bulk mode. Switching costs
 * about half a millisecond (the temporary tables are made again and the
 * statements using them prepared again), more than the journals of a few
 * tags cost on disk: a stream of small commits stays as it is. */
#define INVAL_BULK_TAGS 64

/* begin(); for an invalidation of n tags from INVAL_BULK_TAGS on, bulk
 * mode first (*switched says so). */
static int inval_begin(sq_be *s, size_t n, int *switched, ice_err *err)
{
	int rc;

	*switched = !s->batch && n >= INVAL_BULK_TAGS;
	if (*switched && (rc = bulk_mode(s, 1, err)))
		return rc;
	if ((rc = begin(s, err)) && *switched)
		bulk_mode(s, 0, NULL);
	return rc;
}

/* finish(), then out of bulk mode when inval_begin switched to it (the
 * outcome is the first failure). */
static int inval_finish(sq_be *s, int rc, int switched, ice_err *err)
{
	rc = finish(s, rc, err);
	return switched ? leave_bulk(s, rc, err) : rc;
}

/* Delete the entries carrying tag: one statement, or when bounded (in
 * bulk mode) statements of DELETE_CHUNK entries until fewer go.
 * *deleted adds up what went. */
static int delete_tag(sq_be *s, const char *tag, int bounded, int *deleted, ice_err *err)
{
	sqlite3_stmt *st;
	int rc, n;

	do {
		n = 0;
		if ((st = stmt(s, bounded ? Q_DEL_TAG_CHUNK : Q_DEL_TAG, 0, err)))
			sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
		rc = run(s, st, &n, err);
		*deleted += n;
	} while (!rc && bounded && n >= DELETE_CHUNK);
	return rc;
}

/* One tag of a batch: note the live entries per table in temp.hit, then
 * remove every entry carrying it (the trigger drops their tag rows), in
 * bounded statements when bounded. */
static int inval_tag(sq_be *s, const char *tag, int64_t now, int bounded, int *deleted, ice_err *err)
{
	const char *t;
	size_t tl;
	sqlite3_stmt *st;
	int rc = ICE_OK, n = 0;

	if (ice_tag_table(tag, &t, &tl)) { /* a named table counts even when nothing goes */
		if ((st = stmt(s, Q_HIT_EXPLICIT, 0, err)))
			sqlite3_bind_text(st, 2, t, (int)tl, SQLITE_STATIC);
		rc = run(s, st, NULL, err);
	}
	if (!rc && (st = stmt(s, Q_HIT_TAG, now, err))) {
		sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
		if (ice_tag_table(tag, &t, &tl))
			sqlite3_bind_text(st, 4, t, (int)tl, SQLITE_STATIC);
	}
	if (!rc)
		rc = run(s, st, NULL, err);
	if (!rc)
		rc = delete_tag(s, tag, bounded, &n, err);
	*deleted += n;
	return rc;
}

/* Count one invalidation: global and per table in temp.hit; *removed gets
 * the live entries removed; entries that had expired count as expired. */
static int count_inval(sq_be *s, int deleted, uint64_t *removed, ice_err *err)
{
	int64_t live = 0;
	int rc;

	if ((rc = first_row(s, stmt(s, Q_HIT_SUM, 0, err), err)))
		return rc == ICE_ENOENT ? ice_err_set(err, ICE_EBACKEND, "%s: no sum", s->where) : rc;
	live = sqlite3_column_int64(s->st[Q_HIT_SUM], 0);
	sqlite3_reset(s->st[Q_HIT_SUM]);
	if ((rc = run(s, stmt(s, Q_HIT_COUNT_INVAL, 0, err), NULL, err)) ||
	    (rc = run(s, stmt(s, Q_HIT_COUNT_GONE, 0, err), NULL, err)) ||
	    (rc = count(s, "", "invalidations", 1, err)) || (rc = count(s, "", "invalidated", live, err)))
		return rc;
	if (deleted > live && (rc = store_add(s, Q_STORE_ADD, "expired", deleted - live, err)))
		return rc;
	*removed = (uint64_t)live;
	return ICE_OK;
}

static int sq_invalidate(void *impl, const char *const *tags, size_t n, uint64_t *removed,
                         ice_err *err)
{
	sq_be *s = impl;
	int64_t now = ice_now_ms();
	uint64_t total = 0;
	size_t i;
	int rc, deleted = 0, switched = 0;

	if (removed)
		*removed = 0;
	if ((rc = ice_tags_check_each(tags, n, err)))
		return rc;
	if ((rc = inval_begin(s, n, &switched, err)))
		return rc;
	rc = run(s, stmt(s, Q_HIT_CLEAR, 0, err), NULL, err);
	for (i = 0; i < n && !rc; i++)
		rc = inval_tag(s, tags[i], now, switched || s->batch, &deleted, err);
	if (!rc)
		rc = count_inval(s, deleted, &total, err);
	if (!(rc = inval_finish(s, rc, switched, err)) && removed)
		*removed = total;
	return rc;
}

static int sq_invalidate_table(void *impl, const char *table, uint64_t *removed, ice_err *err)
{
	sq_be *s = impl;
	int64_t now = ice_now_ms(), live = 0;
	sqlite3_stmt *st;
	int rc, deleted = 0;

	if (removed)
		*removed = 0;
	if (!table || !table[0])
		return ice_err_set(err, ICE_EINVAL, "invalidate: empty table name");
	if ((rc = begin(s, err)))
		return rc;
	if ((st = stmt(s, Q_TABLE_LIVE, now, err)))
		sqlite3_bind_text(st, 2, table, -1, SQLITE_STATIC);
	if (!(rc = first_row(s, st, err)))
		live = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	if (!rc && (st = stmt(s, Q_DEL_TABLE, 0, err)))
		sqlite3_bind_text(st, 2, table, -1, SQLITE_STATIC);
	if (!rc)
		rc = run(s, st, &deleted, err);
	if (!rc && !(rc = count2(s, table, "invalidations", 1, err)))
		rc = count2(s, table, "invalidated", live, err);
	if (!rc && deleted > live)
		rc = store_add(s, Q_STORE_ADD, "expired", deleted - live, err);
	if (!(rc = finish(s, rc, err)) && removed)
		*removed = (uint64_t)live;
	return rc;
}

/* ---- scan ---- */

/* The key a glob pattern matches when it has no wildcard (backslash
 * escapes removed), else NULL; *oom on failure. */
static char *literal_of(const char *pattern, int *oom)
{
	char *lit = malloc(strlen(pattern) + 1), *q = lit;
	const char *p;

	*oom = !lit;
	for (p = pattern; lit && *p; p++) {
		if (strchr("*?[", *p)) {
			free(lit);
			return NULL;
		}
		if (*p == '\\' && p[1])
			p++;
		*q++ = *p;
	}
	if (lit)
		*q = '\0';
	return lit;
}

static int sq_scan(void *impl, const char *table, const char *tag, const char *pattern,
                   ice_backend_scan_cb cb, void *ctx, ice_err *err)
{
	sq_be *s = impl;
	ice_entry_meta m;
	sqlite3_stmt *st;
	char *lit = NULL, *key = NULL;
	int rc, oom = 0, step = SQLITE_DONE;

	if (pattern && !(lit = literal_of(pattern, &oom)) && oom)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	/* A private statement: the callback may read from this backend meanwhile. */
	rc = sqlite3_prepare_v2(s->db, sql_text[Q_SCAN], -1, &st, NULL);
	if (rc != SQLITE_OK) {
		free(lit);
		return db_error(s, rc, err);
	}
	sqlite3_bind_text(st, 1, s->ns, -1, SQLITE_STATIC);
	bind_str(st, 2, table);
	sqlite3_bind_int64(st, 3, ice_now_ms());
	bind_str(st, 4, tag);
	bind_str(st, 5, lit);
	rc = ICE_OK;
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		if (!k || (pattern && !lit && fnmatch(pattern, k, 0) != 0))
			continue;
		if (!(key = strdup(k)) || fill_meta(st, &m, err)) {
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
			break;
		}
		if (cb(ctx, key, &m))
			rc = -1;
		ice_entry_meta_clear(&m);
		free(key);
		key = NULL;
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_error(s, step, err);
	free(key);
	free(lit);
	sqlite3_finalize(st);
	return rc < 0 ? ICE_OK : rc;
}

/* ---- counters and cursors ---- */

static int sq_counters(void *impl, const char *table, json_t **out, ice_err *err)
{
	sq_be *s = impl;
	sqlite3_stmt *st = stmt(s, Q_COUNTERS, 0, err);
	size_t i;
	int rc;

	*out = NULL;
	if (!st)
		return failed(err);
	sqlite3_bind_text(st, 2, table ? table : "", -1, SQLITE_STATIC);
	if (!(*out = json_object()))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (i = 0; i < ICE_BACKEND_N_COUNTERS; i++)
		json_object_set_new(*out, ice_backend_counter_names[i], json_integer(0));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (name && json_object_get(*out, name)) /* only the documented ones */
			json_object_set_new(*out, name, json_integer(sqlite3_column_int64(st, 1)));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(*out);
		*out = NULL;
		return db_error(s, rc, err);
	}
	return ICE_OK;
}

/* A table's counters, or (table NULL) the global ones and every table's. */
static int sq_counters_reset(void *impl, const char *table, ice_err *err)
{
	sq_be *s = impl;
	sqlite3_stmt *st = stmt(s, table ? Q_RESET_TABLE : Q_RESET_ALL, 0, err);

	if (st && table)
		sqlite3_bind_text(st, 2, table, -1, SQLITE_STATIC);
	return run(s, st, NULL, err);
}

static int sq_counters_add(void *impl, const char *table, const json_t *add, ice_err *err)
{
	sq_be *s = impl;
	const char *name;
	json_t *v;
	int rc;

	if (!json_is_object(add))
		return ice_err_set(err, ICE_EINVAL, "counters: not a JSON object");
	if ((rc = begin(s, err)))
		return rc;
	json_object_foreach((json_t *)add, name, v)
		if (!rc && json_is_integer(v))
			rc = count(s, table ? table : "", name, json_integer_value(v), err);
	return finish(s, rc, err);
}

static int sq_cursor_get(void *impl, const char *table, const char *name, json_t **value,
                         ice_err *err)
{
	sq_be *s = impl;
	sqlite3_stmt *st = stmt(s, Q_CURSOR_GET, 0, err);
	json_error_t jerr;
	int rc;

	*value = NULL;
	if (!table)
		table = "_";
	if (st) {
		sqlite3_bind_text(st, 2, table, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	}
	rc = first_row(s, st, err);
	if (rc == ICE_ENOENT)
		rc = ice_err_set(err, ICE_ENOENT, "%s: no cursor '%s'", table, name);
	else if (rc == ICE_OK &&
	         !(*value = json_loadb((const char *)sqlite3_column_text(st, 0),
	                               (size_t)sqlite3_column_bytes(st, 0), JSON_DECODE_ANY, &jerr)))
		rc = ice_err_set(err, ICE_EFORMAT, "%s: cursor '%s' is not JSON", table, name);
	if (st)
		sqlite3_reset(st);
	return rc;
}

/* Write a cursor: unconditionally (ordered false, Q_CURSOR_SET) or only
 * forward from (seq, ts) (Q_CURSOR_ADVANCE, one statement, atomic).
 * *moved when it wrote. */
static int cursor_write(sq_be *s, const char *table, const char *name, const json_t *value,
                        bool ordered, int64_t seq, int64_t ts, bool *moved, ice_err *err)
{
	char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
	sqlite3_stmt *st;
	int rc;

	*moved = false;
	if (!table)
		table = "_";
	if (!text)
		return ice_err_set(err, ICE_EINVAL, "%s: cursor '%s': value not serializable", table, name);
	if ((st = stmt(s, ordered ? Q_CURSOR_ADVANCE : Q_CURSOR_SET, 0, err))) {
		sqlite3_bind_text(st, 2, table, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
		if (ordered) {
			sqlite3_bind_int64(st, 5, seq);
			sqlite3_bind_int64(st, 6, ts);
		}
	}
	if (!(rc = run(s, st, NULL, err)))
		*moved = sqlite3_changes(s->db) > 0;
	free(text);
	return rc;
}

static int sq_cursor_set(void *impl, const char *table, const char *name, const json_t *value,
                         ice_err *err)
{
	bool moved;

	return cursor_write(impl, table, name, value, false, 0, 0, &moved, err);
}

static int sq_cursor_advance(void *impl, const char *table, const char *name, const json_t *value,
                             int64_t seq, int64_t ts, bool *moved, ice_err *err)
{
	return cursor_write(impl, table, name, value, true, seq, ts, moved, err);
}

/* ---- gc, locks ---- */

/* Remove the expired entries (with their tag rows) and expired locks, then
 * give the freed pages back to the file system. */
static int sq_gc(void *impl, uint64_t *removed_refs, ice_err *err)
{
	sq_be *s = impl;
	int64_t now = ice_now_ms(), refs = 0;
	sqlite3_stmt *st;
	int rc, n = 0;

	if (removed_refs)
		*removed_refs = 0;
	if ((rc = begin(s, err)))
		return rc;
	st = stmt(s, Q_GC_REFS, now, err);
	if (!(rc = first_row(s, st, err)))
		refs = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	if (!rc)
		rc = run(s, stmt(s, Q_GC, now, err), &n, err);
	if (!rc && n)
		rc = store_add(s, Q_STORE_ADD, "expired", n, err);
	if (!rc)
		rc = run(s, stmt(s, Q_LOCKS_GC, now, err), NULL, err);
	if ((rc = finish(s, rc, err)))
		return rc;
	if (removed_refs)
		*removed_refs = (uint64_t)refs;
	if (sqlite3_exec(s->db, "PRAGMA incremental_vacuum", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(s, sqlite3_errcode(s->db), err);
	return ICE_OK;
}

static int sq_lock(void *impl, const char *name, const char *token, int64_t ttl_ms, ice_err *err)
{
	sq_be *s = impl;
	int64_t now = ice_now_ms();
	sqlite3_stmt *st;
	int rc, n = 0;

	if (!name || !name[0] || !token || ttl_ms <= 0)
		return ice_err_set(err, ICE_EINVAL, "lock: empty name or token, or no time limit");
	if ((st = stmt(s, Q_LOCK, now, err))) {
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, token, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, now + ttl_ms);
	}
	if ((rc = run(s, st, &n, err)))
		return rc;
	return n ? ICE_OK : ice_err_set(err, ICE_EBUSY, "%s: lock held by another process", name);
}

static int sq_unlock(void *impl, const char *name, const char *token, ice_err *err)
{
	sq_be *s = impl;
	sqlite3_stmt *st = stmt(s, Q_UNLOCK, 0, err);

	if (st) {
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		bind_str(st, 3, token);
	}
	return run(s, st, NULL, err);
}

/* ---- what the store knows ---- */

static int sq_server_info(void *impl, json_t **out, ice_err *err)
{
	static const char *const fields[] = { "used_bytes", "max_bytes", "evicted", "expired" };
	sq_be *s = impl;
	int64_t v;
	size_t i;
	int rc = ICE_OK;

	/* the file's path is bytes: {"hex":...} when not UTF-8 */
	if (!(*out = json_pack("{s:s, s:o}", "backend", "sqlite", "location", ice_json_text(s->where))))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (i = 0; i < sizeof fields / sizeof fields[0] && !rc; i++)
		if (!(rc = store_get(s, fields[i], &v, err)))
			json_object_set_new(*out, fields[i], json_integer(v));
	if (!rc && !(rc = first_row(s, stmt(s, Q_PAGES, 0, err), err))) {
		json_object_set_new(*out, "file_bytes", json_integer(sqlite3_column_int64(s->st[Q_PAGES], 0)));
		sqlite3_reset(s->st[Q_PAGES]);
	}
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

static int sq_tables(void *impl, char ***tables, size_t *n, ice_err *err)
{
	sq_be *s = impl;
	sqlite3_stmt *st = stmt(s, Q_TABLES, 0, err);
	char **v = NULL, **grown;
	size_t cnt = 0;
	int rc;

	*tables = NULL;
	*n = 0;
	if (!st)
		return failed(err);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(grown = realloc(v, (cnt + 1) * sizeof *v)) || !(grown[cnt] = col_dup(st, 0))) {
			v = grown ? grown : v;
			sqlite3_reset(st);
			ice_backend_strv_free(v, cnt);
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
		}
		v = grown;
		cnt++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		ice_backend_strv_free(v, cnt);
		return db_error(s, rc, err);
	}
	*tables = v;
	*n = cnt;
	return ICE_OK;
}

/* ---- open / close ---- */

static void sq_close(void *impl)
{
	sq_be *s = impl;
	int i;

	if (!s)
		return;
	for (i = 0; i < Q_COUNT_N; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s->where);
	free(s->ns);
	free(s);
}

/* mkdir -p of the folders above path (private: a cache may hold secrets). */
static int make_parents(const char *path, ice_err *err)
{
	ice_err why = { 0 };

	if (ice_mkdir_parents(path, 0700, &why) == ICE_OK)
		return ICE_OK;
	return ice_err_set(err, why.code == ICE_ENOMEM ? ICE_ENOMEM : ICE_EBACKEND, "sqlite://%s: %s", path,
	                   why.msg);
}

/* Bring a schema 1 file to 2 in one transaction, entries kept. Another
 * process may have done it meanwhile: the version is read again under the
 * write lock. */
static int migrate_1_2(sq_be *s, ice_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, version = -1;

	if ((rc = begin(s, err)))
		return rc;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version == 1 && sqlite3_exec(s->db, migrate_1_2_sql, NULL, NULL, NULL) != SQLITE_OK)
		rc = db_error(s, sqlite3_errcode(s->db), err);
	return finish(s, rc, err);
}

/* A new cache file is the user's only (cached results may be secret); its
 * WAL and shared-memory files take the same mode. An existing file keeps
 * the mode its owner gave it. */
static int create_private(sq_be *s, const char *path, ice_err *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0 && errno != EISDIR)
		return ice_err_set(err, ICE_EBACKEND, "cannot open %s: %s", s->where, strerror(errno));
	if (fd >= 0)
		close(fd);
	return ICE_OK;
}

/* Create the tables once per file (the first process to get the write
 * lock does it; the others see user_version set). */
static int ensure_schema(sq_be *s, ice_err *err)
{
	sqlite3_stmt *st = NULL;
	int version = -1, rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version < 0)
		return db_error(s, sqlite3_errcode(s->db), err);
	if (version > SCHEMA_VERSION)
		return ice_err_set(err, ICE_EBACKEND, "%s: made by a newer IceCache (schema %d)", s->where, version);
	if (version == SCHEMA_VERSION)
		return ICE_OK;
	if (version == 1)
		return migrate_1_2(s, err);
	/* Only on an empty file; must come before the first table. */
	sqlite3_exec(s->db, "PRAGMA auto_vacuum = INCREMENTAL", NULL, NULL, NULL);
	if ((rc = begin(s, err)))
		return rc;
	if (sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
		rc = db_error(s, sqlite3_errcode(s->db), err);
	return finish(s, rc, err);
}

static int configure(sq_be *s, int timeout_ms, ice_err *err)
{
	sqlite3_stmt *st = NULL;
	int wal = 0, rc;

	sqlite3_busy_timeout(s->db, timeout_ms);
	sqlite3_extended_result_codes(s->db, 1);
	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		wal = sqlite3_column_text(st, 0) && strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return db_error(s, rc, err);
	if (!wal)
		return ice_err_set(err, ICE_EBACKEND, "%s: cannot switch to WAL mode", s->where);
	/* NORMAL in WAL mode: a crashed process never corrupts the file; a power
	 * cut may lose the last transactions, which for a cache is a miss. */
	if (sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(s, sqlite3_errcode(s->db), err);
	s->cache_size = -2000; /* SQLite's default, should the question fail */
	if (sqlite3_prepare_v2(s->db, "PRAGMA cache_size", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		s->cache_size = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if ((rc = bulk_mode(s, 0, err)))
		return rc;
	return ensure_schema(s, err);
}

/* Store a new size limit (< 0: none) and apply it at once. */
static int set_limit(sq_be *s, int64_t max, ice_err *err)
{
	int rc = begin(s, err);

	if (!rc)
		rc = store_add(s, Q_STORE_SET, "max_bytes", max < 0 ? 0 : max, err);
	if (!rc)
		rc = enforce_limit(s, NULL, ice_now_ms(), err);
	return finish(s, rc, err);
}

static const ice_backend_ops sq_ops = {
	.close = sq_close, .put = sq_put, .get = sq_get, .peek = sq_peek, .del = sq_del,
	.invalidate = sq_invalidate, .invalidate_table = sq_invalidate_table, .scan = sq_scan,
	.counters = sq_counters, .cursor_get = sq_cursor_get, .cursor_set = sq_cursor_set,
	.cursor_advance = sq_cursor_advance,
	.gc = sq_gc, .lock = sq_lock, .unlock = sq_unlock, .server_info = sq_server_info,
	.counters_reset = sq_counters_reset, .tables = sq_tables,
};

static const ice_backend_ext_ops sq_ext = {
	.restore = sq_restore, .counters_add = sq_counters_add, .batch = sq_batch,
};

int ice_sqlite_open(const ice_backend_url *u, const ice_backend_opts *o,
                    const ice_backend_ops **ops, const ice_backend_ext_ops **ext,
                    void **impl, ice_err *err)
{
	sq_be *s = calloc(1, sizeof *s);
	const char *prefix = o && o->prefix && o->prefix[0] ? o->prefix : "icecache";
	int timeout = o && o->command_timeout_ms > 0 ? o->command_timeout_ms : 5000;
	int64_t max = o && o->max_bytes ? o->max_bytes : u->max_bytes;
	int rc;

	*impl = NULL;
	if (!s || !(s->ns = strdup(prefix)) || asprintf(&s->where, "sqlite://%s", u->path) < 0) {
		if (s)
			s->where = NULL;
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = make_parents(u->path, err)) || (rc = create_private(s, u->path, err)))
		goto out;
	rc = sqlite3_open_v2(u->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = ice_err_set(err, ICE_EBACKEND, "cannot open %s: %s", s->where,
		                 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto out;
	}
	if ((rc = configure(s, timeout, err)))
		goto out;
	if (max && (rc = set_limit(s, max, err)))
		goto out;
	*ops = &sq_ops;
	*ext = &sq_ext;
	*impl = s;
	s = NULL;
out:
	sq_close(s);
	return rc;
}
