/* ice_grow: room in a growing array, one rule for every array that grows. */
#ifndef ICE_GROW_H
#define ICE_GROW_H

#include <stddef.h>

/* Make *items (an array of elements of `size` bytes with room for *cap)
 * hold at least `need` elements: the room doubles (from 16), so appending
 * n elements costs O(n). On success *items and *cap may have changed; on
 * failure (out of memory, or a size that would overflow) they are as they
 * were and -1 is returned. */
int ice_grow(void *items, size_t *cap, size_t need, size_t size);

#endif
