/* ice_keyscan: the keys a scan found, with the value sizes it saw, read
 * back in key order and in bounded batches (export, migrate): at most
 * ICE_KEYSCAN_KEYS keys and ICE_KEYSCAN_BYTES bytes of values per
 * ice_backend_peek_many, one pipeline on Redis.
 *
 * The list itself lives in a private temporary SQLite database, not in
 * the heap: it holds a couple of MiB in memory and spills the rest to a
 * file in $TMPDIR (removed when the list is freed), so memory stays
 * bounded whatever the cache's size. The database also sorts the keys
 * and drops a key seen twice (Redis's SCAN may return one twice).
 *
 * An ice_keyscan is owned by its opener; ice_keyscan_free releases it and
 * its file. */
#ifndef ICE_KEYSCAN_H
#define ICE_KEYSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "ice_backend.h"

#define ICE_KEYSCAN_KEYS 256
#define ICE_KEYSCAN_BYTES (16u << 20)

typedef struct ice_keyscan ice_keyscan;

/* An empty list in *out. ICE_EIO when the temporary database cannot be
 * made, ICE_ENOMEM. */
int ice_keyscan_open(ice_keyscan **out, ice_err *err);

/* Add key with m's size (m may be NULL: size 0); a key added twice is
 * read back once, with the larger size. -1 on failure (shaped as a scan
 * callback wants): the list is incomplete, and ice_keyscan_error says
 * why. */
int ice_keyscan_add(ice_keyscan *k, const char *key, const ice_entry_meta *m);

/* ICE_OK, or the first failure of ice_keyscan_add, copied into *err. */
int ice_keyscan_error(const ice_keyscan *k, ice_err *err);

/* Peek every key, in key order (bytewise), handing each to cb as
 * ice_backend_peek_many does; cb returning nonzero stops it. */
int ice_keyscan_peek(ice_backend *b, ice_keyscan *k, ice_backend_peek_cb cb, void *ctx,
                     ice_err *err);

void ice_keyscan_free(ice_keyscan *k);

#endif
