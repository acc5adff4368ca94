/* stale: collect the tags a transition makes stale from ice-diff records. */
#include "config.h"
#include "ice_stale.h"
#include "ice_jsonl.h"
#include "ice_strset.h"
#include "ice_tag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Memory grows with the files a transition changes, not with the table:
 * a removed data file's tag is made as its record comes (each file once),
 * and the partitions of changed files are kept once each. */
struct ice_stale {
	ice_grain grain;
	bool finished;           /* the last record ended a transition */
	char *table, *reason, *also_table;
	size_t removed_other;    /* removed delete files */
	json_t *file_partitions; /* partition keys of changed files, each once */
	ice_strset *partitions_seen;
	ice_strset *seen;        /* the tags so far: it owns their strings */
	const char **tags;       /* the removed data files' tags, then the rest */
	size_t n_tags, cap_tags;
	ice_stale_result result;
};

ice_stale *ice_stale_new(ice_grain grain)
{
	ice_stale *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	s->grain = grain;
	return s;
}

static void drop_tags(ice_stale *s)
{
	s->n_tags = 0;
	ice_strset_free(s->seen);
	s->seen = NULL;
}

static void reset(ice_stale *s)
{
	drop_tags(s);
	free(s->table);
	free(s->reason);
	free(s->also_table);
	s->table = s->reason = s->also_table = NULL;
	s->removed_other = 0;
	json_decref(s->file_partitions);
	s->file_partitions = NULL;
	ice_strset_free(s->partitions_seen);
	s->partitions_seen = NULL;
	memset(&s->result, 0, sizeof s->result);
	s->finished = false;
}

void ice_stale_free(ice_stale *s)
{
	if (!s)
		return;
	reset(s);
	free(s->tags);
	free(s);
}

static int start(ice_stale *s, const char *table, ice_err *err)
{
	s->table = strdup(table);
	s->file_partitions = json_array();
	s->partitions_seen = ice_strset_new();
	s->seen = ice_strset_new();
	if (!s->table || !s->file_partitions || !s->partitions_seen || !s->seen)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}

static int add_tag(ice_stale *s, const char *kind, const char *rest, ice_err *err)
{
	char *tag = NULL;
	const char *stored = NULL;
	int added;

	if ((rest ? asprintf(&tag, "%s:%s:%s", kind, s->table, rest)
	          : asprintf(&tag, "%s:%s", kind, s->table)) < 0)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	added = ice_strset_insert(s->seen, tag, &stored);
	free(tag);
	if (added <= 0)
		return added < 0 ? ice_err_set(err, ICE_ENOMEM, "out of memory") : ICE_OK;
	if (s->n_tags == s->cap_tags) {
		const char **q = realloc(s->tags, (s->cap_tags * 2 + 16) * sizeof *q);
		if (!q)
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
		s->tags = q;
		s->cap_tags = s->cap_tags * 2 + 16;
	}
	s->tags[s->n_tags++] = stored;
	return ICE_OK;
}

static int add_file(ice_stale *s, const json_t *rec, ice_err *err)
{
	const char *change = ice_json_get_str(rec, "change");
	const char *content = ice_json_get_str(rec, "content");
	const char *path = ice_json_get_str(rec, "file_path");
	const char *key = ice_json_get_str(rec, "partition_key");
	bool data = content && strcmp(content, "data") == 0;
	int added, rc;

	if (!path || !change)
		return ice_err_set(err, ICE_EINVAL, "file record without file_path or change");
	if (strcmp(change, "removed") == 0 || strcmp(change, "rows_deleted") == 0) {
		if (!data)
			s->removed_other++;
		else if ((rc = add_tag(s, "file", path, err)))
			return rc;
	}
	if (key && strcmp(change, "added") != 0) {
		if ((added = ice_strset_add(s->partitions_seen, key)) < 0 ||
		    (added && json_array_append_new(s->file_partitions, json_string(key))))
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	return ICE_OK;
}

static int strings_as_tags(ice_stale *s, const char *kind, const json_t *arr, ice_err *err)
{
	const json_t *v;
	size_t i;
	int rc;

	json_array_foreach(arr, i, v) {
		const char *str = json_is_string(v) ? json_string_value(v)
		                                    : ice_json_get_str(v, "partition_key");
		if (str && (rc = add_tag(s, kind, str, err)))
			return rc;
	}
	return ICE_OK;
}

/* *out: the table the table's partition tags name when that is not the
 * table itself (a name holding ':'), as the tag grammar reads them; else
 * NULL. -1 when out of memory. */
static int tags_table(const ice_stale *s, char **out)
{
	char *tag = NULL;
	const char *t;
	size_t tl;
	int rc = 0;

	*out = NULL;
	if (asprintf(&tag, "partition:%s:", s->table) < 0)
		return -1;
	if (ice_tag_table(tag, &t, &tl) && tl != strlen(s->table) && !(*out = strndup(t, tl)))
		rc = -1;
	free(tag);
	return rc;
}

static int finish(ice_stale *s, const json_t *diff, ice_err *err)
{
	const char *scope = ice_json_get_str(diff, "scope");
	bool preserving = json_is_true(json_object_get(diff, "data_preserving"));
	int rc = ICE_OK;

	const char *why = ice_json_get_str(diff, "reason");

	/* A delete file removed outside compaction brings rows back in data
	 * files no record names: only the whole table is certainly right. */
	if (!preserving && s->removed_other > 0)
		why = "delete files removed: rows restored in files not listed";
	else if (!scope || strcmp(scope, "table") != 0)
		why = NULL;
	/* The coarsest grain: any change of the table is a change of all of
	 * it, so every entry depending on it goes, whatever its tags (the
	 * table tag alone would leave its partition and file entries stale). */
	if (!why && s->grain == ICE_GRAIN_TABLE)
		why = "granularity table: any change removes every entry of the table";
	if (why) {
		s->result.whole_table = true;
		drop_tags(s); /* the removed files' tags: the table's covers them */
		if (!(s->seen = ice_strset_new()) || !(s->reason = strdup(why)) ||
		    tags_table(s, &s->also_table))
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
		return add_tag(s, "table", NULL, err);
	}
	/* Never less than the finest grain: the file tags (made as their
	 * records came) go at every grain. The partition grain adds the
	 * partitions of the changed files, also when a compaction keeps the
	 * rows (a change of a file is a change of its partition). */
	if (s->grain == ICE_GRAIN_PARTITION)
		rc = strings_as_tags(s, "partition", s->file_partitions, err);
	/* Compaction keeps rows: partition- and table-level results stay valid. */
	if (rc || preserving)
		return rc;
	if ((rc = strings_as_tags(s, "partition", json_object_get(diff, "partitions"), err)))
		return rc;
	return add_tag(s, "table", NULL, err);
}

int ice_stale_add(ice_stale *s, const json_t *rec, bool *done, ice_err *err)
{
	const char *kind = ice_record_kind(rec), *table = ice_json_get_str(rec, "table");
	int rc;

	*done = false;
	if (!kind || (strcmp(kind, "file") != 0 && strcmp(kind, "diff") != 0))
		return ICE_OK;
	if (!table)
		return ice_err_set(err, ICE_EINVAL, "%s record without table", kind);
	if (s->finished)
		reset(s);
	if (!s->table && (rc = start(s, table, err)))
		return rc;
	if (strcmp(s->table, table) != 0)
		return ice_err_set(err, ICE_EINVAL, "record of table '%s' inside a transition of '%s'",
		                   table, s->table);
	if (strcmp(kind, "file") == 0)
		return add_file(s, rec, err);
	if ((rc = finish(s, rec, err)))
		return rc;
	s->finished = true;
	s->result.table = s->table;
	s->result.reason = s->reason;
	s->result.also_table = s->also_table;
	s->result.tags = s->tags;
	s->result.n_tags = s->n_tags;
	*done = true;
	return ICE_OK;
}

const ice_stale_result *ice_stale_result_get(const ice_stale *s)
{
	return s->finished ? &s->result : NULL;
}
