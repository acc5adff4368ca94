/* ice_strset: a set of strings with one mark bit each (open addressing).
 * The set owns copies of its strings. */
#ifndef ICE_STRSET_H
#define ICE_STRSET_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ice_strset ice_strset;

ice_strset *ice_strset_new(void);
void ice_strset_free(ice_strset *s);

/* Add a copy of `key`: 1 when added, 0 when present, -1 on ENOMEM. */
int ice_strset_add(ice_strset *s, const char *key);
/* The same, and *stored (when not NULL, and not -1) the set's copy: it
 * stays valid, unchanged, until the set is freed. */
int ice_strset_insert(ice_strset *s, const char *key, const char **stored);
bool ice_strset_has(const ice_strset *s, const char *key);
/* Set the mark of a present key; false when absent. */
bool ice_strset_mark(ice_strset *s, const char *key);
bool ice_strset_marked(const ice_strset *s, const char *key);
size_t ice_strset_size(const ice_strset *s);

#endif
