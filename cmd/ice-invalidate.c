/* ice-invalidate: remove the cache entries that ice-diff's change records
 * make stale, one atomic step per transition, and report what went. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli-cache.h"
#include "ice_backend.h"
#include "ice_jsonl.h"
#include "ice_stale.h"
#include "ice_strset.h"
#include "ice_tagnorm.h"
#include "ice_time.h"

static const char usage_text[] =
	"Usage: ice-invalidate [OPTION]...\n"
	"Read ice-diff's records on standard input and remove the cache entries they\n"
	"make stale. Every input record is passed through; each transition is followed\n"
	"by an \"invalidated\" record saying which tags went and how many entries.\n"
	"The table's cursor only moves forward: an older transition replayed late is\n"
	"invalidated again and leaves it (\"cursor_kept\").\n"
	"\n"
	"Options:\n"
	"  -u, --url URL           the cache: redis://[user:password@]host[:port][/db],\n"
	"                          redis+cluster://[user:password@]host:port[,host:port...],\n"
	"                          unix:///path/redis.sock[?db=N] or sqlite:///path/cache.db\n"
	"                          (default: $ICE_CACHE_URL, else the embedded cache\n"
	"                          $XDG_CACHE_HOME/icecache/cache.db)\n"
	"      --prefix P          key namespace (default: icecache)\n"
	"  -g, --granularity G     file (default: the finest the records allow),\n"
	"                          partition (also the changed files' partitions,\n"
	"                          compactions too), or table (every entry of the\n"
	"                          table on any change)\n"
	"  -n, --dry-run           say what would be removed; remove nothing\n"
	"      --strict            stop at the first bad input line\n"
	"  -h, --help              show this help and exit\n"
	"  -V, --version           show versions and exit\n"
	"\n"
	"Exit status: 0 success, 1 bad input lines or snapshot records with no diff\n"
	"(ice-diff missing from the pipeline), 2 usage error, 3 the cache\n"
	"backend is unreachable or failed (nothing after the failure is processed).\n"
	"See ice-invalidate(1) and icecache-keys(7).\n";

typedef struct {
	const char *url, *prefix;
	ice_grain grain;
	bool dry_run, strict;
} options;

typedef struct {
	ice_strset *keys;
	json_t *list;
} key_collector;

static int collect_key(void *ctx, const char *key, const ice_entry_meta *m)
{
	key_collector *c = ctx;

	(void)m;
	if (ice_strset_add(c->keys, key) == 1)
		json_array_append_new(c->list, json_string(key));
	return 0;
}

/* The entries a result would remove (the blast radius), by scanning. */
static int affected(ice_backend *b, const ice_stale_result *r, key_collector *c, ice_err *err)
{
	if (r->whole_table) {
		int rc = ice_backend_scan(b, r->table, NULL, NULL, collect_key, c, err);
		if (!rc && r->also_table)
			rc = ice_backend_scan(b, r->also_table, NULL, NULL, collect_key, c, err);
		return rc;
	}
	for (size_t i = 0; i < r->n_tags; i++) {
		int rc = ice_backend_scan(b, r->table, r->tags[i], NULL, collect_key, c, err);
		if (rc)
			return rc;
	}
	return ICE_OK;
}

/* Every entry of the result's table, and those of the table its
 * partition and file tags name when that differs (more than the change
 * needs: a miss, never a stale hit). */
static int invalidate_tables(ice_backend *b, const ice_stale_result *r, uint64_t *removed, ice_err *err)
{
	uint64_t more = 0;
	int rc = ice_backend_invalidate_table(b, r->table, removed, err);

	if (!rc && r->also_table) {
		ice_cli_warn("table '%s': its partition and file tags name table '%s' (a table name ends at its "
		             "first ':', icecache-keys(7)): a change of the whole table removes that table's "
		             "entries too", r->table, r->also_table);
		rc = ice_backend_invalidate_table(b, r->also_table, &more, err);
		*removed += more;
	}
	return rc;
}

/* Remove what the result makes stale; *removed counts entries. */
static int apply(ice_backend *b, const ice_stale_result *r, const options *o, uint64_t *removed,
                 ice_err *err)
{
	key_collector c = { NULL, NULL };
	int rc;

	*removed = 0;
	if (!o->dry_run) {
		if (r->whole_table)
			return invalidate_tables(b, r, removed, err);
		return ice_backend_invalidate(b, (const char *const *)r->tags, r->n_tags, removed, err);
	}
	c.keys = ice_strset_new();
	c.list = json_array();
	if (!c.keys || !c.list)
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	else if (!(rc = affected(b, r, &c, err)))
		*removed = json_array_size(c.list);
	ice_strset_free(c.keys);
	json_decref(c.list);
	return rc;
}

static json_t *report(const ice_stale_result *r, const json_t *diff, const options *o,
                      uint64_t removed)
{
	json_t *rec = ice_record_new("invalidated"), *tags = json_array();

	if (!rec || !tags) {
		json_decref(rec);
		json_decref(tags);
		return NULL;
	}
	for (size_t i = 0; i < r->n_tags; i++)
		json_array_append_new(tags, json_string(r->tags[i]));
	json_object_set_new(rec, "table", json_string(r->table));
	json_object_set(rec, "from", json_object_get(diff, "from") ? json_object_get(diff, "from") : json_null());
	json_object_set(rec, "to", json_object_get(diff, "to") ? json_object_get(diff, "to") : json_null());
	json_object_set_new(rec, "whole_table", json_boolean(r->whole_table));
	if (r->reason)
		json_object_set_new(rec, "reason", json_string(r->reason));
	if (r->also_table)
		json_object_set_new(rec, "also_table", json_string(r->also_table));
	json_object_set_new(rec, "tags", tags);
	json_object_set_new(rec, "entries_removed", json_integer((json_int_t)removed));
	json_object_set_new(rec, "dry_run", json_boolean(o->dry_run));
	return rec;
}

/* The transition is committed: move the table's cursor past it, only
 * forward. Its place in the table's history is the diff's
 * (to_sequence_number, to_timestamp_ms): sequence numbers order format 2
 * snapshots, timestamps those of format 1 (all 0) and the upgrade; so a
 * late or replayed transition never moves the cursor back (*kept). A
 * diff without them (an older ice-diff) moves it as before. A diff with
 * no snapshot to move to (from an unusable snapshot record) leaves the
 * cursor where it was. */
static int advance(ice_backend *b, const ice_stale_result *r, const json_t *diff, bool *kept,
                   ice_err *err)
{
	json_t *seq = json_object_get(diff, "to_sequence_number");
	json_t *ts = json_object_get(diff, "to_timestamp_ms");
	bool ordered = json_is_integer(seq) && json_is_integer(ts), moved = true;
	json_t *cur;
	int rc;

	*kept = false;
	if (!json_is_integer(json_object_get(diff, "to")))
		return ICE_OK;
	cur = json_pack("{s:O?, s:O?, s:I}", "snapshot_id", json_object_get(diff, "to"), "from",
	                json_object_get(diff, "from"), "updated_ms", (json_int_t)ice_now_ms());
	if (!cur)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (ordered && (json_object_set(cur, "sequence_number", seq) || json_object_set(cur, "timestamp_ms", ts)))
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	else if (ordered)
		rc = ice_backend_cursor_advance(b, r->table, "invalidated", cur, json_integer_value(seq),
		                                json_integer_value(ts), &moved, err);
	else
		rc = ice_backend_cursor_set(b, r->table, "invalidated", cur, err);
	*kept = !moved;
	json_decref(cur);
	return rc;
}

/* A finished transition: invalidate, advance the cursor, report. */
static int transition(ice_backend *b, const ice_stale_result *r, const json_t *diff, const options *o)
{
	uint64_t removed = 0;
	ice_err err = { 0 };
	bool kept = false;
	int rc = apply(b, r, o, &removed, &err);
	json_t *rec;

	/* A transition without a snapshot to move to (an unreadable table)
	 * leaves the cursor where it was: the next readable state is diffed
	 * from the last snapshot known, not from nothing. */
	if (rc == ICE_OK && !o->dry_run && json_is_integer(json_object_get(diff, "to")))
		rc = advance(b, r, diff, &kept, &err);
	/* What put and doctor check tags against: the table and its specs. */
	if (rc == ICE_OK && !o->dry_run)
		rc = ice_table_info_record(b, diff, &err);
	if (rc) {
		ice_cli_error("%s: %s", r->table, err.msg);
		return rc;
	}
	rec = report(r, diff, o, removed);
	/* say when a later transition was already recorded */
	if (rec && kept)
		json_object_set_new(rec, "cursor_kept", json_true());
	return ice_cli_emit(rec);
}

typedef struct {
	ice_backend *b;
	const options *o;
	ice_stale *st;
	unsigned long undiffed_line; /* a snapshot record no diff followed yet */
	bool warned;
} run_ctx;

/* Snapshot records with no diff after them mean ice-diff is missing from
 * the pipeline: nothing would ever be invalidated, so say it (once). */
static void missing_diff(run_ctx *c)
{
	if (!c->warned)
		ice_cli_error("stdin:%lu: a snapshot record with no diff after it: ice-invalidate reads "
		              "ice-diff's output (ice-snapshot ... | ice-diff | ice-invalidate)",
		              c->undiffed_line);
	c->warned = true;
}

static void follow_snapshots(run_ctx *c, const json_t *rec)
{
	const char *kind = ice_record_kind(rec);

	if (strcmp(kind, "diff") == 0) {
		c->undiffed_line = 0;
		return;
	}
	if (strcmp(kind, "snapshot") != 0 || !json_is_integer(json_object_get(rec, "snapshot_id")))
		return;
	if (c->undiffed_line)
		missing_diff(c);
	c->undiffed_line = ice_cli_input_line();
}

static int on_record(void *ctx, const json_t *rec)
{
	run_ctx *c = ctx;
	ice_err err = { 0 };
	bool done;

	follow_snapshots(c, rec);

	if (ice_stale_add(c->st, rec, &done, &err) != ICE_OK) {
		ice_cli_error("%s", err.msg);
		return err.code;
	}
	/* A backend failure stops the run: the cursor stays before this transition. */
	return done ? transition(c->b, ice_stale_result_get(c->st), rec, c->o) : ICE_OK;
}

static int run(ice_backend *b, const options *o)
{
	run_ctx c = { b, o, ice_stale_new(o->grain), 0, false };
	int status;

	if (!c.st) {
		ice_cli_error("out of memory");
		return ICE_EXIT_FAILURE;
	}
	status = ice_cli_filter(on_record, &c, o->strict);
	if (c.undiffed_line)
		missing_diff(&c);
	if (c.warned && status == ICE_EXIT_OK)
		status = ICE_EXIT_FAILURE;
	ice_stale_free(c.st);
	return status;
}

enum { OPT_PREFIX = 256, OPT_STRICT };

static const struct option long_options[] = {
	{ "url", required_argument, NULL, 'u' },
	{ "prefix", required_argument, NULL, OPT_PREFIX },
	{ "granularity", required_argument, NULL, 'g' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int parse_grain(const char *s, ice_grain *g)
{
	if (strcmp(s, "file") == 0)
		*g = ICE_GRAIN_FILE;
	else if (strcmp(s, "partition") == 0)
		*g = ICE_GRAIN_PARTITION;
	else if (strcmp(s, "table") == 0)
		*g = ICE_GRAIN_TABLE;
	else
		return ice_cli_usage_error("--granularity: '%s' is not file, partition or table", s);
	return -1;
}

static int parse_option(int c, char **argv, options *o)
{
	switch (c) {
	case 'u': o->url = optarg; break;
	case OPT_PREFIX: o->prefix = optarg; break;
	case 'g': return parse_grain(optarg, &o->grain);
	case 'n': o->dry_run = true; break;
	case OPT_STRICT: o->strict = true; break;
	case 'h': fputs(usage_text, stdout); return ice_cli_finish(ICE_EXIT_OK);
	case 'V': ice_cli_version(); return ice_cli_finish(ICE_EXIT_OK);
	default: return ice_cli_bad_option(c, argv);
	}
	return -1;
}

int main(int argc, char **argv)
{
	options o = { 0 };
	ice_backend *b = NULL;
	int c, status;

	ice_cli_init("ice-invalidate");
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":u:g:nhV", long_options, NULL)) != -1)
		if ((status = parse_option(c, argv, &o)) >= 0)
			return status;
	if (optind < argc)
		return ice_cli_usage_error("unexpected argument '%s' (records come on standard input)", argv[optind]);
	if ((status = ice_cli_open_cache(o.url, o.prefix, &b)) >= 0)
		return status;
	status = ice_cli_finish(run(b, &o));
	ice_backend_close(b);
	return status;
}
