/* keyscan: scanned keys read back in bounded batches (see ice_keyscan.h). */
#include "config.h"
#include "ice_keyscan.h"

#include <stdlib.h>
#include <string.h>

int ice_keyscan_add(ice_keyscan *k, const char *key, const ice_entry_meta *m)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 256;
		char **v = realloc(k->keys, cap * sizeof *v);
		uint64_t *sz;

		if (v)
			k->keys = v;
		if (!v || !(sz = realloc(k->sizes, cap * sizeof *sz)))
			goto oom;
		k->sizes = sz;
		k->cap = cap;
	}
	if (!(k->keys[k->n] = strdup(key)))
		goto oom;
	k->sizes[k->n++] = m ? m->size : 0;
	return 0;
oom:
	k->oom = 1;
	return -1;
}

typedef struct sized_key {
	char *key; /* first: the comparison reads it through the struct's address */
	uint64_t size;
} sized_key;

static int cmp_sized(const void *a, const void *b)
{
	return strcmp(((const sized_key *)a)->key, ((const sized_key *)b)->key);
}

int ice_keyscan_sort(ice_keyscan *k)
{
	sized_key *p = malloc((k->n ? k->n : 1) * sizeof *p);
	size_t i;

	if (!p)
		return -1;
	for (i = 0; i < k->n; i++)
		p[i] = (sized_key){ k->keys[i], k->sizes[i] };
	qsort(p, k->n, sizeof *p, cmp_sized);
	for (i = 0; i < k->n; i++) {
		k->keys[i] = p[i].key;
		k->sizes[i] = p[i].size;
	}
	free(p);
	return 0;
}

/* The end of the batch that starts at from: its keys and sizes bounded
 * (a key over the byte bound goes alone). */
static size_t batch_end(const ice_keyscan *k, size_t from)
{
	uint64_t bytes = 0;
	size_t to = from;

	while (to < k->n && to - from < ICE_KEYSCAN_KEYS &&
	       (to == from || bytes + k->sizes[to] <= ICE_KEYSCAN_BYTES))
		bytes += k->sizes[to++];
	return to;
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

int ice_keyscan_peek(ice_backend *b, const ice_keyscan *k, ice_backend_peek_cb cb, void *ctx,
                     ice_err *err)
{
	relay r = { cb, ctx, 0 };
	size_t from = 0, to;
	int rc = ICE_OK;

	while (from < k->n && !rc && !r.stopped) {
		to = batch_end(k, from);
		rc = ice_backend_peek_many(b, (const char *const *)k->keys + from, to - from, relay_one, &r,
		                           err);
		from = to;
	}
	return rc;
}

void ice_keyscan_free(ice_keyscan *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->keys[i]);
	free(k->keys);
	free(k->sizes);
	*k = (ice_keyscan){ 0 };
}
