/* tag: the tag grammar (see ice_tag.h): which table a tag names, and the
 * rules put and invalidate check. */
#include "config.h"
#include "ice_tag.h"

#include "ice_backend.h"

#include <stdlib.h>
#include <string.h>

int ice_tag_table(const char *tag, const char **t, size_t *tlen)
{
	static const char *const scoped[] = { "partition:", "file:", "snapshot:" };
	const char *rest = NULL, *colon;
	size_t i;

	if (strncmp(tag, "table:", 6) == 0) {
		*t = tag + 6;
		*tlen = strlen(*t);
		return *tlen > 0;
	}
	for (i = 0; i < sizeof scoped / sizeof scoped[0] && !rest; i++)
		if (strncmp(tag, scoped[i], strlen(scoped[i])) == 0)
			rest = tag + strlen(scoped[i]);
	if (!rest)
		return 0;
	colon = strchr(rest, ':');
	*t = rest;
	*tlen = colon ? (size_t)(colon - rest) : strlen(rest);
	return *tlen > 0;
}

int ice_tag_is_file(const char *tag)
{
	const char *t;
	size_t tl;

	return strncmp(tag, "file:", 5) == 0 && ice_tag_table(tag, &t, &tl);
}

int ice_tag_check(const char *tag, size_t pos, ice_err *err)
{
	if (!tag || !tag[0] || strchr(tag, '\n'))
		return ice_err_set(err, ICE_EINVAL, "tag %zu: empty or contains a newline", pos + 1);
	return ICE_OK;
}

int ice_tags_check_each(const char *const *tags, size_t n, ice_err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = ice_tag_check(tags[i], i, err)))
			return rc;
	return ICE_OK;
}

int ice_tags_check(const char *const *tags, size_t n, ice_err *err)
{
	const char *t;
	size_t i, tl;
	int rc;

	if ((rc = ice_tags_check_each(tags, n, err)))
		return rc;
	/* In Redis the table's keys are P:{T}:...; a T that begins with "}"
	 * would leave an empty hash tag, and a cluster would scatter the
	 * table's keys over every slot. Invalidation still accepts such a
	 * table (a single server may hold entries written before). */
	for (i = 0; i < n; i++)
		if (ice_tag_table(tags[i], &t, &tl) && t[0] == '}')
			return ice_err_set(err, ICE_EINVAL,
			                   "tag %zu: table '%.*s' begins with '}' (it would end the hash tag "
			                   "of the table's Redis keys; see icecache-keys(7))",
			                   i + 1, (int)tl, t);
	return ICE_OK;
}

bool ice_tags_name_a_table(const char *const *tags, size_t n)
{
	const char *t;
	size_t i, tl;

	for (i = 0; i < n; i++)
		if (ice_tag_table(tags[i], &t, &tl))
			return true;
	return false;
}

char *ice_tags_table(const char *const *tags, size_t n)
{
	const char *t = "_";
	size_t i, tl = 1;

	for (i = 0; i < n; i++)
		if (ice_tag_table(tags[i], &t, &tl))
			break;
	if (i == n) {
		t = "_";
		tl = 1;
	}
	return strndup(t, tl);
}

static int listed(char *const *v, size_t n, const char *t, size_t tl)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(v[i]) == tl && memcmp(v[i], t, tl) == 0)
			return 1;
	return 0;
}

int ice_tags_table_list(const char *const *tags, size_t n, char ***tables, size_t *n_tables,
                        ice_err *err)
{
	char **v = calloc(n ? n : 1, sizeof *v);
	const char *t;
	size_t i, tl, k = 0;
	int rc = ICE_OK;

	if (!v)
		goto oom;
	for (i = 0; i < n; i++) {
		if (!ice_tag_table(tags[i], &t, &tl) || listed(v, k, t, tl))
			continue;
		if (!(v[k] = strndup(t, tl)))
			goto oom;
		k++;
	}
	if (k == 0 && !(v[k++] = strdup("_")))
		goto oom;
	*tables = v;
	*n_tables = k;
	goto out;
oom:
	ice_backend_strv_free(v, k);
	rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
out:
	return rc;
}
