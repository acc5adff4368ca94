/* ice_keyscan: the keys a scan found, with the value sizes it saw, read
 * back in bounded batches (export, migrate): at most ICE_KEYSCAN_KEYS
 * keys and ICE_KEYSCAN_BYTES bytes of values per ice_backend_peek_many,
 * one pipeline on Redis, so memory stays bounded whatever the cache's
 * size beyond the key list itself.
 *
 * The struct owns its keys; ice_keyscan_free releases them. */
#ifndef ICE_KEYSCAN_H
#define ICE_KEYSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "ice_backend.h"

#define ICE_KEYSCAN_KEYS 256
#define ICE_KEYSCAN_BYTES (16u << 20)

typedef struct ice_keyscan {
	char **keys;
	uint64_t *sizes;
	size_t n, cap;
	int oom; /* an add failed: the list is incomplete */
} ice_keyscan;

/* Add key with m's size (m may be NULL: size 0). -1 when out of memory
 * (oom is set too). */
int ice_keyscan_add(ice_keyscan *k, const char *key, const ice_entry_meta *m);

/* Sort by key, the sizes with them. -1 when out of memory. */
int ice_keyscan_sort(ice_keyscan *k);

/* Peek every key, in order, handing each to cb as ice_backend_peek_many
 * does; cb returning nonzero stops it. */
int ice_keyscan_peek(ice_backend *b, const ice_keyscan *k, ice_backend_peek_cb cb, void *ctx,
                     ice_err *err);

void ice_keyscan_free(ice_keyscan *k);

#endif
