/* strset: open-addressing string set (FNV-1a, linear probing, load <= 1/2). */
#include "config.h"
#include "ice_strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	char *key;
	bool mark;
} slot;

struct ice_strset {
	slot *slots;
	size_t cap, n;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

ice_strset *ice_strset_new(void)
{
	ice_strset *s = calloc(1, sizeof *s);

	if (s && !(s->slots = calloc((s->cap = 64), sizeof *s->slots))) {
		free(s);
		return NULL;
	}
	return s;
}

void ice_strset_free(ice_strset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i].key);
	free(s->slots);
	free(s);
}

static slot *find(const ice_strset *s, const char *key)
{
	size_t i = (size_t)hash(key) & (s->cap - 1);

	while (s->slots[i].key && strcmp(s->slots[i].key, key) != 0)
		i = (i + 1) & (s->cap - 1);
	return &s->slots[i];
}

static int grow(ice_strset *s)
{
	ice_strset bigger = { calloc(s->cap * 2, sizeof(slot)), s->cap * 2, s->n };

	if (!bigger.slots)
		return -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i].key)
			*find(&bigger, s->slots[i].key) = s->slots[i];
	free(s->slots);
	*s = bigger;
	return 0;
}

int ice_strset_insert(ice_strset *s, const char *key, const char **stored)
{
	slot *sl;
	int added = 0;

	if ((s->n + 1) * 2 > s->cap && grow(s) != 0)
		return -1;
	sl = find(s, key);
	if (!sl->key) {
		if (!(sl->key = strdup(key)))
			return -1;
		sl->mark = false;
		s->n++;
		added = 1;
	}
	if (stored)
		*stored = sl->key;
	return added;
}

int ice_strset_add(ice_strset *s, const char *key)
{
	return ice_strset_insert(s, key, NULL);
}

bool ice_strset_has(const ice_strset *s, const char *key)
{
	return find(s, key)->key != NULL;
}

bool ice_strset_mark(ice_strset *s, const char *key)
{
	slot *sl = find(s, key);

	if (!sl->key)
		return false;
	sl->mark = true;
	return true;
}

bool ice_strset_marked(const ice_strset *s, const char *key)
{
	const slot *sl = find(s, key);

	return sl->key && sl->mark;
}

size_t ice_strset_size(const ice_strset *s)
{
	return s->n;
}
