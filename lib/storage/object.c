/* object: releasing object values and growing listings. */
#include "config.h"
#include "ice_object.h"

#include <stdlib.h>
#include <string.h>

void ice_obj_info_clear(ice_obj_info *i)
{
	free(i->etag);
	memset(i, 0, sizeof *i);
	i->mtime_ms = -1;
}

void ice_obj_clear(ice_obj *o)
{
	free(o->data);
	ice_obj_info_clear(&o->info);
	o->data = NULL;
	o->len = 0;
	o->unchanged = false;
}

int ice_listing_add(ice_listing *l, char *name, uint64_t size, const char *etag,
                    int64_t mtime_ms, ice_err *err)
{
	ice_list_entry *e;
	char *tag = NULL;

	if (!name || (etag && !(tag = strdup(etag))))
		goto oom;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		if (!(e = realloc(l->v, cap * sizeof *e)))
			goto oom;
		l->v = e;
		l->cap = cap;
	}
	e = &l->v[l->n++];
	e->name = name;
	e->size = size;
	e->etag = tag;
	e->mtime_ms = mtime_ms;
	return ICE_OK;
oom:
	free(name);
	free(tag);
	return ice_err_set(err, ICE_ENOMEM, "out of memory");
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const ice_list_entry *)a)->name, ((const ice_list_entry *)b)->name);
}

void ice_listing_sort(ice_listing *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, by_name);
}

void ice_listing_clear(ice_listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].etag);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}
