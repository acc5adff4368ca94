/* ice_object: what a store says about an object, its bytes, and listings.
 *
 * Every string and buffer is owned by the struct holding it and released
 * by its _clear function, which also leaves it empty for reuse. */
#ifndef ICE_OBJECT_H
#define ICE_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ice_error.h"

typedef struct ice_obj_info {
	uint64_t size;     /* of the whole object, even after a ranged read */
	char *etag;        /* as the store sent it, quotes included; NULL: none */
	int64_t mtime_ms;  /* last modified, Unix ms; -1: unknown */
} ice_obj_info;

void ice_obj_info_clear(ice_obj_info *i);

typedef struct ice_obj {
	char *data;        /* the bytes read, NUL after len; NULL when unchanged */
	size_t len;
	bool unchanged;    /* a conditional read whose ETag still matched */
	ice_obj_info info;
} ice_obj;

void ice_obj_clear(ice_obj *o);

typedef struct ice_list_entry {
	char *name;        /* the full URI or path of the object */
	uint64_t size;
	char *etag;        /* NULL: none given */
	int64_t mtime_ms;  /* -1: unknown */
} ice_list_entry;

typedef struct ice_listing {
	ice_list_entry *v;
	size_t n, cap;
} ice_listing;

/* Append an entry; `name` is taken over (freed on failure too). */
int ice_listing_add(ice_listing *l, char *name, uint64_t size, const char *etag,
                    int64_t mtime_ms, ice_err *err);
/* Sort by name (byte order), as S3 lists. */
void ice_listing_sort(ice_listing *l);
void ice_listing_clear(ice_listing *l);

#endif
