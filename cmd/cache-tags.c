/* cache-tags: tags checked against what the cache knows: put and exec
 * warn (or refuse), doctor reports the stored entries nothing invalidates. */
#include "config.h"
#include "cache-tags.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ice_jsonl.h"
#include "ice_tag.h"
#include "ice_tagnorm.h"
#include "ice_text.h"

/* ---- put and exec ---- */

typedef struct {
	bool strict;
	const char *const *given; /* as the user wrote them */
	char **canon;             /* as they are stored */
	size_t n;
} check_ctx;

static void report_tag(void *ctx, const char *tag, const char *why)
{
	check_ctx *c = ctx;
	const char *given = tag;

	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->canon[i], tag) == 0)
			given = c->given[i];
	if (c->strict)
		ice_cli_error("tag '%s': %s", given, why);
	else
		ice_cli_warn("tag '%s' may never be invalidated: %s", given, why);
}

/* Whether tag is the name of a table the pipeline has recorded. */
static bool names_known_table(ice_tagnorm *t, const char *tag)
{
	ice_err ignored = { 0 };
	const json_t *info = NULL;
	int seen = 0;

	return ice_tagnorm_info(t, tag, strlen(tag), &info, &seen, &ignored) == ICE_OK && (info || seen);
}

/* Tags given, none naming a table, on an entry without a TTL: no commit
 * will ever remove it (doctor's check_untied, said before the put). A tag
 * that is the name of a table the pipeline knows most likely lost its
 * "table:"; the message says so. Returns the number of tags reported. */
static size_t report_untied(ice_tagnorm *t, check_ctx *c)
{
	static const char why[] = "it names no table and the entry has no TTL, so no commit removes it "
	                          "(tag it with --table, --partition or --file, or give --ttl)";
	size_t i;

	if (ice_tags_name_a_table((const char *const *)c->canon, c->n))
		return 0;
	for (i = 0; i < c->n; i++) {
		char *hint = NULL;

		if (names_known_table(t, c->canon[i]) &&
		    asprintf(&hint, "%s; did you mean 'table:%s'?", why, c->canon[i]) < 0)
			hint = NULL;
		report_tag(c, c->canon[i], hint ? hint : why);
		free(hint);
	}
	return c->n;
}

int ice_cache_check_tags(ice_backend *b, const char *const *tags, size_t n, bool no_ttl, bool strict)
{
	check_ctx c = { strict, tags, NULL, n };
	ice_tagnorm *t;
	ice_err err = { 0 };
	size_t problems = 0;
	int status = -1;

	/* tags put refuses get that one error from put, not warnings first */
	if (!b || !n || ice_tags_check(tags, n, &err) != ICE_OK)
		return -1;
	if (!(t = ice_tagnorm_new(b))) {
		ice_cli_error("out of memory");
		return ICE_EXIT_FAILURE;
	}
	if (ice_tagnorm_tags(t, tags, n, &c.canon, &err) == ICE_OK &&
	    ice_tagnorm_lint(t, (const char *const *)c.canon, n, report_tag, &c, &problems, &err) == ICE_OK) {
		if (no_ttl)
			problems += report_untied(t, &c);
		if (problems && strict)
			status = ICE_EXIT_USAGE;
	}
	ice_backend_strv_free(c.canon, c.canon ? n : 0);
	ice_tagnorm_free(t);
	return status;
}

char *ice_cache_stored_tag(ice_backend *b, const char *tag)
{
	ice_tagnorm *t = ice_tagnorm_new(b);
	char **canon = NULL, *out = NULL;
	ice_err err = { 0 };

	if (t && ice_tagnorm_tags(t, &tag, 1, &canon, &err) == ICE_OK) {
		out = canon[0];
		free(canon);
	}
	ice_tagnorm_free(t);
	return out;
}

/* ---- doctor ---- */

typedef struct {
	ice_backend *b;
	ice_tagnorm *t;
	const char *key;
	const ice_entry_meta *m;
	json_t *bad;  /* table -> [[tag, why], ...] for the entry being looked at */
	size_t found;
	int rc;
	ice_err err;
} doctor_ctx;

static void note_bad(void *ctx, const char *tag, const char *why)
{
	doctor_ctx *c = ctx;
	const char *tb;
	size_t tl;
	char *table, *shown;
	json_t *list;

	if (!ice_tag_table(tag, &tb, &tl) || !(table = strndup(tb, tl)))
		return;
	/* keyed by the table's bytes (it may not be UTF-8): never written out */
	if (!(list = json_object_get(c->bad, table)) &&
	    json_object_set_new_nocheck(c->bad, table, list = json_array()) != 0)
		list = NULL; /* no memory: freed by the failed set */
	/* the reason quotes the table: a JSON string only as visible text */
	shown = ice_text_visible(why, NULL);
	json_array_append_new(list, json_pack("[o, s]", ice_json_text(tag), shown ? shown : "?"));
	free(shown);
	free(table);
}

/* Tags of m naming table, other than the bad ones: what still invalidates
 * the entry on a commit to table. */
static size_t good_tags(const ice_entry_meta *m, const char *table, const json_t *bad)
{
	const char *tb;
	size_t tl, i, j, good = 0;
	bool listed;

	for (i = 0; i < m->n_tags; i++) {
		if (!ice_tag_table(m->tags[i], &tb, &tl) || strlen(table) != tl || memcmp(tb, table, tl) != 0)
			continue;
		listed = false;
		for (j = 0; j < json_array_size(bad); j++)
			listed |= strcmp(json_string_value(json_array_get(json_array_get(bad, j), 0)), m->tags[i]) == 0;
		good += !listed;
	}
	return good;
}

/* Nothing the pipeline emits for table invalidates the entry: the table
 * never seen, or every tag naming it bad. */
static bool never_invalidated(doctor_ctx *c, const char *table, const json_t *bad)
{
	const json_t *info;
	int seen = 0;

	if (strcmp(table, "_") == 0)
		return true;
	if (ice_tagnorm_info(c->t, table, strlen(table), &info, &seen, &c->err) == ICE_OK && !seen)
		return true;
	return !good_tags(c->m, table, bad);
}

static int emit_doctor(doctor_ctx *c, const char *table, const json_t *bad, const char *fixed)
{
	json_t *tags = json_array(), *reasons = json_array(), *rec;
	size_t i;

	for (i = 0; i < json_array_size(bad); i++) {
		json_array_append(tags, json_array_get(json_array_get(bad, i), 0));
		json_array_append(reasons, json_array_get(json_array_get(bad, i), 1));
	}
	rec = json_pack("{s:s, s:o, s:o, s:o, s:o, s:b}", "kind", "doctor", "table", ice_json_text(table),
	                "key", ice_json_text(c->key), "tags", tags, "reasons", reasons,
	                "never_invalidated", never_invalidated(c, table, bad));
	if (rec && fixed)
		json_object_set_new(rec, "canonical", ice_json_text(fixed));
	c->found++;
	return ice_cli_emit(rec);
}

/* An entry no table-scoped tag ties to a table, without a TTL: no commit
 * removes it, only rm. */
static int check_untied(doctor_ctx *c)
{
	static const char why[] = "no table-scoped tag and no TTL: no commit invalidates it";
	json_t *bad;
	size_t i;
	int rc;

	if (c->m->expires_ms || ice_tags_name_a_table((const char *const *)c->m->tags, c->m->n_tags))
		return ICE_OK;
	bad = json_array();
	for (i = 0; bad && i < c->m->n_tags; i++)
		json_array_append_new(bad, json_pack("[o, s]", ice_json_text(c->m->tags[i]), why));
	if (bad && !c->m->n_tags)
		json_array_append_new(bad, json_pack("[n, s]", why));
	rc = bad ? emit_doctor(c, "_", bad, NULL) : ICE_ENOMEM;
	json_decref(bad);
	return rc;
}

/* An entry's tags that were not stored canonical (written by another
 * application): they never meet the pipeline's. */
static int check_form(doctor_ctx *c)
{
	char **canon = NULL;
	size_t i;
	int rc;

	if ((rc = ice_tagnorm_tags(c->t, (const char *const *)c->m->tags, c->m->n_tags, &canon, &c->err)))
		return rc;
	for (i = 0; i < c->m->n_tags && !rc; i++) {
		const char *tb;
		size_t tl;
		char *table;
		json_t *bad;
		if (strcmp(canon[i], c->m->tags[i]) == 0 || !ice_tag_table(c->m->tags[i], &tb, &tl))
			continue;
		table = strndup(tb, tl);
		bad = json_pack("[[o, s]]", ice_json_text(c->m->tags[i]),
		                "not in the form the pipeline emits (see icecache-keys(7))");
		rc = table && bad ? emit_doctor(c, table, bad, canon[i]) : ICE_ENOMEM;
		json_decref(bad);
		free(table);
	}
	ice_backend_strv_free(canon, c->m->n_tags);
	return rc;
}

static int doctor_entry(void *ctx, const char *key, const ice_entry_meta *m)
{
	doctor_ctx *c = ctx;
	size_t problems = 0;
	const char *table;
	json_t *bad;

	c->key = key;
	c->m = m;
	if (!(c->bad = json_object()))
		return (c->rc = ICE_ENOMEM);
	c->rc = ice_tagnorm_lint(c->t, (const char *const *)m->tags, m->n_tags, note_bad, c, &problems, &c->err);
	json_object_foreach(c->bad, table, bad)
		if (!c->rc)
			c->rc = emit_doctor(c, table, bad, NULL);
	if (!c->rc)
		c->rc = check_untied(c);
	if (!c->rc)
		c->rc = check_form(c);
	json_decref(c->bad);
	return c->rc != ICE_OK;
}

int ice_cache_doctor(ice_backend *b, const char *table)
{
	doctor_ctx c = { b, ice_tagnorm_new(b), NULL, NULL, NULL, 0, ICE_OK, { 0 } };
	ice_err err = { 0 };
	int rc;

	if (!c.t) {
		ice_cli_error("out of memory");
		return ICE_EXIT_FAILURE;
	}
	rc = ice_backend_scan(b, table, NULL, NULL, doctor_entry, &c, &err);
	ice_tagnorm_free(c.t);
	if (rc || (c.rc && c.rc != ICE_EPIPE && c.err.code)) {
		ice_cli_error("%s", rc ? err.msg : c.err.msg);
		return (rc ? rc : c.rc) == ICE_EBACKEND ? ICE_EXIT_BACKEND : ICE_EXIT_FAILURE;
	}
	if (c.rc && c.rc != ICE_EPIPE)
		return ICE_EXIT_FAILURE;
	return c.found ? ICE_EXIT_FAILURE : ICE_EXIT_OK;
}
