/* keyscan: scanned keys kept sorted in a temporary database and read
 * back in bounded batches (see ice_keyscan.h). */
#include "config.h"
#include "ice_keyscan.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct ice_keyscan {
	sqlite3 *db;
	sqlite3_stmt *add;
	ice_err failure; /* the first failed add */
};

/* A private database: no journal and no syncs, since it dies with the
 * list; one transaction, never committed, so pages reach the file only
 * when the cache is full. The keys are appended as they come (pages
 * written once, in order) and sorted when read back, by SQLite's
 * external merge sort: a table keyed by them would be written all over
 * once it outgrows the cache (3M keys: 17 s against 4 s). */
static const char setup_sql[] =
	"PRAGMA journal_mode = OFF;"
	"PRAGMA synchronous = OFF;"
	"CREATE TABLE k (key BLOB NOT NULL, size INTEGER NOT NULL);"
	"BEGIN;";

static int db_fail(sqlite3 *db, const char *what, ice_err *err)
{
	int code = sqlite3_errcode(db) == SQLITE_NOMEM ? ICE_ENOMEM : ICE_EIO;

	return ice_err_set(err, code, "temporary key list: %s: %s", what, sqlite3_errmsg(db));
}

int ice_keyscan_open(ice_keyscan **out, ice_err *err)
{
	ice_keyscan *k = calloc(1, sizeof *k);
	int rc = ICE_OK;

	*out = NULL;
	if (!k)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	/* "": a private temporary database, in memory until it outgrows its
	 * page cache, then in a file that goes with the connection */
	if (sqlite3_open_v2("", &k->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		rc = k->db ? db_fail(k->db, "open", err) : ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if (sqlite3_exec(k->db, setup_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(k->db, "INSERT INTO k VALUES (?1, ?2)", -1, &k->add, NULL) != SQLITE_OK) {
		rc = db_fail(k->db, "setup", err);
		goto out;
	}
	*out = k;
	k = NULL;
out:
	ice_keyscan_free(k);
	return rc;
}

int ice_keyscan_add(ice_keyscan *k, const char *key, const ice_entry_meta *m)
{
	int rc;

	if (k->failure.code)
		return -1;
	/* a blob: compared bytewise whatever the encoding */
	sqlite3_bind_blob(k->add, 1, key, (int)strlen(key), SQLITE_STATIC);
	sqlite3_bind_int64(k->add, 2, m ? (sqlite3_int64)m->size : 0);
	rc = sqlite3_step(k->add);
	sqlite3_reset(k->add);
	sqlite3_clear_bindings(k->add);
	if (rc == SQLITE_DONE)
		return 0;
	db_fail(k->db, "add", &k->failure);
	return -1;
}

int ice_keyscan_error(const ice_keyscan *k, ice_err *err)
{
	if (!k->failure.code)
		return ICE_OK;
	*err = k->failure;
	return k->failure.code;
}

/* One batch of keys read from the list, waiting for its peek. */
typedef struct batch {
	char *keys[ICE_KEYSCAN_KEYS];
	size_t n;
	uint64_t bytes;
} batch;

static void batch_clear(batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->keys[i]);
	b->n = 0;
	b->bytes = 0;
}

/* Whether a key of size bytes joins b: the batch's bounds (a key over
 * the byte bound goes alone). */
static int batch_takes(const batch *b, uint64_t size)
{
	return b->n < ICE_KEYSCAN_KEYS && (b->n == 0 || b->bytes + size <= ICE_KEYSCAN_BYTES);
}

/* Stops the walk when cb did. */
typedef struct relay {
	ice_backend_peek_cb cb;
	void *ctx;
	int stopped;
} relay;

static int relay_one(void *ctx, const char *key, int rc, const void *val, size_t len,
                     const ice_entry_meta *m)
{
	relay *r = ctx;

	return r->stopped = r->cb(r->ctx, key, rc, val, len, m);
}

static int peek_batch(ice_backend *be, batch *b, relay *r, ice_err *err)
{
	int rc = ice_backend_peek_many(be, (const char *const *)b->keys, b->n, relay_one, r, err);

	batch_clear(b);
	return rc;
}

int ice_keyscan_peek(ice_backend *be, ice_keyscan *k, ice_backend_peek_cb cb, void *ctx,
                     ice_err *err)
{
	relay r = { cb, ctx, 0 };
	sqlite3_stmt *st = NULL;
	batch b = { .n = 0 };
	int rc = ICE_OK, step = SQLITE_DONE;

	if (sqlite3_prepare_v2(k->db, "SELECT key, max(size) FROM k GROUP BY key ORDER BY key", -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(k->db, "read", err);
		goto out;
	}
	while (!rc && !r.stopped && (step = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t size = (uint64_t)sqlite3_column_int64(st, 1);
		const void *key = sqlite3_column_blob(st, 0);
		int len = sqlite3_column_bytes(st, 0);

		if (!batch_takes(&b, size) && (rc = peek_batch(be, &b, &r, err)))
			break;
		if (!(b.keys[b.n] = strndup(key ? key : "", (size_t)len))) {
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
			break;
		}
		b.n++;
		b.bytes += size;
	}
	if (!rc && !r.stopped && step != SQLITE_DONE)
		rc = db_fail(k->db, "read", err);
	else if (!rc && !r.stopped && b.n)
		rc = peek_batch(be, &b, &r, err);
out:
	batch_clear(&b);
	sqlite3_finalize(st);
	return rc;
}

void ice_keyscan_free(ice_keyscan *k)
{
	if (!k)
		return;
	sqlite3_finalize(k->add);
	sqlite3_close(k->db);
	free(k);
}
