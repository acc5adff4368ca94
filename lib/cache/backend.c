/* backend: the dispatcher: open a cache from its URL and pass each call to
 * the backend implementation (backend_int.h). */
#include "config.h"
#include "backend_int.h"
#include "ice_tag.h"
#include "ice_tagnorm.h"

#include <stdlib.h>
#include <string.h>

struct ice_backend {
	const ice_backend_ops *ops;
	const ice_backend_ext_ops *ext; /* NULL: no optional operations */
	void *impl;
	ice_tagnorm *norm; /* the table infos seen by this handle's puts */
};

/* ---- dispatch ---- */

int ice_backend_open(const char *url, const ice_backend_opts *o, ice_backend **out, ice_err *err)
{
	ice_backend_url u;
	ice_backend *b = NULL;
	int rc;

	*out = NULL;
	memset(&u, 0, sizeof u);
	if (!(b = calloc(1, sizeof *b)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if ((rc = ice_backend_url_parse(url, &u, err)))
		goto out;
	if (strcmp(u.scheme, "cluster") == 0)
		rc = ice_redis_open_cluster(url, o, &b->ops, &b->ext, &b->impl, err);
	else if (strcmp(u.scheme, "sqlite") == 0)
		rc = ice_sqlite_open(&u, o, &b->ops, &b->ext, &b->impl, err);
	else
		rc = ice_redis_open(&u, o, &b->ops, &b->ext, &b->impl, err);
	if (rc)
		goto out;
	*out = b;
	b = NULL;
out:
	free(b);
	ice_backend_url_clear(&u);
	return rc;
}

void ice_backend_close(ice_backend *b)
{
	if (!b)
		return;
	b->ops->close(b->impl);
	ice_tagnorm_free(b->norm);
	free(b);
}

/* Every way in stores partition tags in the form the pipeline emits
 * (ice_tagnorm.h), so that a tag written by hand meets the invalidation. */
static int canonical(ice_backend *b, const char *const *tags, size_t n, char ***out, ice_err *err)
{
	if (!b->norm && !(b->norm = ice_tagnorm_new(b)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ice_tagnorm_tags(b->norm, tags, n, out, err);
}

int ice_backend_put(ice_backend *b, const char *key, const void *val, size_t len,
                    const char *const *tags, size_t n_tags, int64_t ttl_ms,
                    const char *origin, ice_err *err)
{
	return ice_backend_put_at(b, key, val, len, tags, n_tags, ttl_ms, origin, 0, err);
}

int ice_backend_put_at(ice_backend *b, const char *key, const void *val, size_t len,
                       const char *const *tags, size_t n_tags, int64_t ttl_ms,
                       const char *origin, int64_t created_ms, ice_err *err)
{
	char **canon = NULL;
	int rc;

	if (created_ms < 0)
		return ice_err_set(err, ICE_EINVAL, "put: negative creation time");
	if ((rc = ice_tags_check_each(tags, n_tags, err)) || (rc = canonical(b, tags, n_tags, &canon, err)))
		return rc;
	rc = b->ops->put(b->impl, key, val, len, (const char *const *)canon, n_tags, ttl_ms, origin,
	                 created_ms, err);
	ice_backend_strv_free(canon, n_tags);
	return rc;
}

int ice_backend_get(ice_backend *b, const char *key, void **val, size_t *len,
                    ice_entry_meta *meta, ice_err *err)
{
	return b->ops->get(b->impl, key, val, len, meta, err);
}

int ice_backend_peek(ice_backend *b, const char *key, void **val, size_t *len,
                     ice_entry_meta *meta, ice_err *err)
{
	return b->ops->peek(b->impl, key, val, len, meta, err);
}

int ice_backend_peek_to(ice_backend_peek_fn peek, void *impl, const char *key,
                        ice_backend_peek_cb cb, void *ctx, int *stop, ice_err *err)
{
	ice_entry_meta m = { 0 };
	void *val = NULL;
	size_t len = 0;
	int rc = peek(impl, key, &val, &len, &m, err);

	if (rc == ICE_ENOENT)
		ice_err_clear(err);
	if (rc == ICE_OK || rc == ICE_ENOENT) {
		*stop = cb(ctx, key, rc, val, len, rc == ICE_OK ? &m : NULL);
		rc = ICE_OK;
	}
	free(val);
	ice_entry_meta_clear(&m);
	return rc;
}

int ice_backend_peek_many(ice_backend *b, const char *const *keys, size_t n,
                          ice_backend_peek_cb cb, void *ctx, ice_err *err)
{
	int rc = ICE_OK, stop = 0;

	if (b->ext && b->ext->peek_many)
		return b->ext->peek_many(b->impl, keys, n, cb, ctx, err);
	for (size_t i = 0; i < n && !rc && !stop; i++)
		rc = ice_backend_peek_to(b->ops->peek, b->impl, keys[i], cb, ctx, &stop, err);
	return rc;
}

int ice_backend_delete(ice_backend *b, const char *const *keys, size_t n,
                       uint64_t *removed, ice_err *err)
{
	return b->ops->del(b->impl, keys, n, removed, err);
}

int ice_backend_invalidate(ice_backend *b, const char *const *tags, size_t n,
                           uint64_t *removed, ice_err *err)
{
	return b->ops->invalidate(b->impl, tags, n, removed, err);
}

int ice_backend_invalidate_table(ice_backend *b, const char *table, uint64_t *removed,
                                 ice_err *err)
{
	return b->ops->invalidate_table(b->impl, table, removed, err);
}

int ice_backend_scan(ice_backend *b, const char *table, const char *tag, const char *pattern,
                     ice_backend_scan_cb cb, void *ctx, ice_err *err)
{
	return b->ops->scan(b->impl, table, tag, pattern, cb, ctx, err);
}

int ice_backend_counters(ice_backend *b, const char *table, json_t **out, ice_err *err)
{
	return b->ops->counters(b->impl, table, out, err);
}

int ice_backend_cursor_get(ice_backend *b, const char *table, const char *name,
                           json_t **value, ice_err *err)
{
	return b->ops->cursor_get(b->impl, table, name, value, err);
}

int ice_backend_cursor_set(ice_backend *b, const char *table, const char *name,
                           const json_t *value, ice_err *err)
{
	return b->ops->cursor_set(b->impl, table, name, value, err);
}

int ice_backend_cursor_advance(ice_backend *b, const char *table, const char *name,
                               const json_t *value, int64_t seq, int64_t ts, bool *moved,
                               ice_err *err)
{
	return b->ops->cursor_advance(b->impl, table, name, value, seq, ts, moved, err);
}

int ice_backend_gc(ice_backend *b, uint64_t *removed_refs, ice_err *err)
{
	return b->ops->gc(b->impl, removed_refs, err);
}

int ice_backend_lock(ice_backend *b, const char *name, const char *token, int64_t ttl_ms,
                     ice_err *err)
{
	return b->ops->lock(b->impl, name, token, ttl_ms, err);
}

int ice_backend_unlock(ice_backend *b, const char *name, const char *token, ice_err *err)
{
	return b->ops->unlock(b->impl, name, token, err);
}

int ice_backend_server_info(ice_backend *b, json_t **out, ice_err *err)
{
	return b->ops->server_info(b->impl, out, err);
}

/* ---- optional operations ---- */

static int unsupported(const ice_backend *b, const char *what, ice_err *err)
{
	(void)b;
	return ice_err_set(err, ICE_EUNSUPPORTED, "this cache backend cannot %s", what);
}

int ice_backend_restore(ice_backend *b, const char *key, const void *val, size_t len,
                        const ice_entry_meta *m, ice_err *err)
{
	ice_entry_meta copy = *m;
	char **canon = NULL;
	int rc;

	if (!b->ext || !b->ext->restore)
		return unsupported(b, "restore entries with their metadata", err);
	if ((rc = ice_tags_check_each((const char *const *)m->tags, m->n_tags, err)) ||
	    (rc = canonical(b, (const char *const *)m->tags, m->n_tags, &canon, err)))
		return rc;
	copy.tags = canon;
	rc = b->ext->restore(b->impl, key, val, len, &copy, err);
	ice_backend_strv_free(canon, m->n_tags);
	return rc;
}

int ice_backend_counters_add(ice_backend *b, const char *table, const json_t *add, ice_err *err)
{
	if (!b->ext || !b->ext->counters_add)
		return unsupported(b, "add to counters", err);
	return b->ext->counters_add(b->impl, table, add, err);
}

int ice_backend_batch(ice_backend *b, int op, ice_err *err)
{
	if (!b->ext || !b->ext->batch)
		return unsupported(b, "group writes into one transaction", err);
	return b->ext->batch(b->impl, op, err);
}

int ice_backend_counters_reset(ice_backend *b, const char *table, ice_err *err)
{
	return b->ops->counters_reset(b->impl, table, err);
}

int ice_backend_tables(ice_backend *b, char ***tables, size_t *n, ice_err *err)
{
	*tables = NULL;
	*n = 0;
	return b->ops->tables(b->impl, tables, n, err);
}
