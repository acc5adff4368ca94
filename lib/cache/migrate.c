/* migrate: copy entries, counters and cursors between two backends. */
#include "config.h"
#include "ice_migrate.h"
#include "ice_tag.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ice_batch.h"
#include "ice_keyscan.h"
#include "ice_strset.h"
#include "ice_time.h"

/* The cursors IceCache programs keep per table. */
static const char *const cursor_names[] = { "invalidated" };

/* A growing list of strings. */
typedef struct strv {
	char **v;
	size_t n, cap;
} strv;

static int strv_add(strv *l, const char *s)
{
	char **v;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if (!(v = realloc(l->v, l->cap * sizeof *v)))
			return -1;
		l->v = v;
	}
	if (!(l->v[l->n] = strdup(s)))
		return -1;
	l->n++;
	return 0;
}

typedef struct keys {
	ice_keyscan *keys;
	strv tables;        /* of the entries, and all the source knows of */
	ice_strset *seen;   /* tables already listed */
	int oom;
} keys;

static int note_table(keys *k, const char *table)
{
	int added = ice_strset_add(k->seen, table);

	return added < 0 || (added == 1 && strv_add(&k->tables, table) < 0) ? -1 : 0;
}

static int collect(void *ctx, const char *key, const ice_entry_meta *m)
{
	keys *k = ctx;

	if (ice_keyscan_add(k->keys, key, m) < 0 || note_table(k, m->table ? m->table : "_") < 0) {
		k->oom = 1;
		return 1;
	}
	return 0;
}

/* Write one entry read from the source; *copied 0 when it had expired. */
static int copy_entry(ice_batch *bt, const char *key, const void *val, size_t len,
                      const ice_entry_meta *m, ice_migrate_stats *st, int *copied, ice_err *err)
{
	ice_backend *to = bt->b;
	int64_t ttl = 0, now = ice_now_ms();
	int rc;

	*copied = 0;
	if (m->expires_ms && m->expires_ms <= now)
		return ICE_OK;
	if ((rc = ice_batch_open(bt, err)))
		return rc;
	if (st->metadata_kept) {
		rc = ice_backend_restore(to, key, val, len, m, err);
		if (rc != ICE_EUNSUPPORTED) {
			*copied = rc == ICE_OK;
			return rc ? rc : ice_batch_wrote(bt, len, err);
		}
		st->metadata_kept = false; /* from now on: put, created = now */
	}
	if (m->expires_ms)
		ttl = m->expires_ms - now;
	rc = ice_backend_put(to, key, val, len, (const char *const *)m->tags, m->n_tags, ttl,
	                     m->origin, err);
	*copied = rc == ICE_OK;
	return rc ? rc : ice_batch_wrote(bt, len, err);
}

typedef struct copier {
	ice_batch bt;
	ice_migrate_stats *st;
	int rc;
	ice_err *err;
} copier;

/* One entry read from the source (gone since the scan: skipped). */
static int copy_one(void *ctx, const char *key, int found, const void *val, size_t len,
                    const ice_entry_meta *m)
{
	copier *c = ctx;
	int copied = 0;

	if (found == ICE_OK && (c->rc = copy_entry(&c->bt, key, val, len, m, c->st, &copied, c->err))) {
		/* an entry the target refuses is named (the others stop there too) */
		if (c->rc == ICE_EINVAL)
			ice_err_prefix(c->err, "entry '%s': ", key);
		return 1;
	}
	if (!copied)
		c->st->skipped++;
	return 0;
}

/* Copy every entry of k, read and written in batches: st->entries counts
 * the committed ones. */
static int copy_entries(ice_backend *from, ice_backend *to, ice_keyscan *k,
                        ice_migrate_stats *st, ice_err *err)
{
	copier c = { .st = st, .err = err };
	ice_err cerr = { 0 };
	int rc;

	ice_batch_init(&c.bt, to);
	if (!(rc = ice_keyscan_peek(from, k, copy_one, &c, err)))
		rc = c.rc;
	/* entries copied before a failure stay, as they would one by one */
	if (ice_batch_close(&c.bt, &cerr) && !rc) {
		rc = cerr.code;
		*err = cerr;
	}
	st->entries = c.bt.entries;
	return rc;
}

/* Counters of table (NULL: global), added to the destination's. */
static int copy_counters(ice_backend *from, ice_backend *to, const char *table,
                         ice_migrate_stats *st, ice_err *err)
{
	json_t *c = NULL;
	int rc;

	if (!st->counters_copied)
		return ICE_OK;
	if ((rc = ice_backend_counters(from, table, &c, err)))
		return rc;
	rc = ice_backend_counters_add(to, table, c, err);
	json_decref(c);
	if (rc == ICE_EUNSUPPORTED) {
		st->counters_copied = false;
		return ICE_OK;
	}
	if (!rc && table)
		st->tables++;
	return rc;
}

static int copy_cursors(ice_backend *from, ice_backend *to, const char *table,
                        ice_migrate_stats *st, ice_err *err)
{
	size_t i;
	int rc = ICE_OK;

	for (i = 0; i < sizeof cursor_names / sizeof cursor_names[0] && !rc; i++) {
		json_t *v = NULL;
		rc = ice_backend_cursor_get(from, table, cursor_names[i], &v, err);
		if (rc == ICE_ENOENT) {
			rc = ICE_OK;
			continue;
		}
		if (!rc && !(rc = ice_backend_cursor_set(to, table, cursor_names[i], v, err)))
			st->cursors++;
		json_decref(v);
	}
	return rc;
}

/* The source's tables: all it knows of, else those of its entries. */
static int source_tables(ice_backend *from, keys *k, ice_err *err)
{
	char **v = NULL;
	size_t n = 0, i;
	int rc = ice_backend_tables(from, &v, &n, err);

	if (rc == ICE_EUNSUPPORTED)
		return ICE_OK;
	for (i = 0; i < n && !rc; i++)
		if (note_table(k, v[i]) < 0)
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	ice_backend_strv_free(v, n);
	return rc;
}

static void strv_free(strv *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

int ice_migrate(ice_backend *from, ice_backend *to, ice_migrate_stats *st, ice_err *err)
{
	keys k = { 0 };
	size_t i;
	int rc;

	memset(st, 0, sizeof *st);
	st->metadata_kept = st->counters_copied = true;
	if (!(k.seen = ice_strset_new()))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	rc = ice_keyscan_open(&k.keys, err);
	if (!rc)
		rc = ice_backend_scan(from, NULL, NULL, NULL, collect, &k, err);
	if (!rc && (rc = ice_keyscan_error(k.keys, err)) == ICE_OK && k.oom)
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (!rc)
		rc = source_tables(from, &k, err);
	/* in key order (the list's): the embedded store's entries then go in
	 * at the end of its index, not all over it (from Redis, whose scan
	 * order is a hash's, a quarter of the page reads and writes) */
	if (!rc)
		rc = copy_entries(from, to, k.keys, st, err);
	if (!rc)
		rc = copy_counters(from, to, NULL, st, err);
	for (i = 0; i < k.tables.n && !rc; i++)
		if (!(rc = copy_counters(from, to, k.tables.v[i], st, err)))
			rc = copy_cursors(from, to, k.tables.v[i], st, err);
	ice_keyscan_free(k.keys);
	strv_free(&k.tables);
	ice_strset_free(k.seen);
	return rc;
}
