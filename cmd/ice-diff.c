/* ice-diff: turn snapshot transitions into file- and partition-level change
 * records by reading manifest lists and manifests. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli-storage.h"
#include "cli-catalog.h"
#include "cli-vended.h"
#include "cli-config.h"
#include "ice_diff.h"
#include "ice_jsonl.h"
#include "ice_metadata.h"
#include "ice_path.h"
#include "ice_storage.h"
#include "ice_table.h"
#include "ice_text.h"

static const char usage_text[] =
	"Usage: ice-diff [OPTION]... [[NAME=]TABLE [--from ID|none] [--to ID]]\n"
	"Print the files and partitions that changed between two snapshots of an\n"
	"Iceberg table, as JSON lines.\n"
	"\n"
	"TABLE is a folder, a metadata file, or their URI in object storage\n"
	"(s3://BUCKET/KEY, s3a://, s3n://; http(s):// for a metadata file).\n"
	"With TABLE: the change from --from (default: the parent of --to; 'none' is\n"
	"the empty table) to --to (default: the current snapshot).\n"
	"Without TABLE: read snapshot records (ice-snapshot's output) on standard\n"
	"input, pass every record through and follow each snapshot record with its\n"
	"diff, from its previous_snapshot_id (or its parent).\n"
	"\n"
	"Options:\n"
	"      --from ID|none     the earlier snapshot\n"
	"      --to ID            the later snapshot\n"
	"      --name NAME        the table name in records, as NAME=TABLE does\n"
	"                         (default: db.table from the folders, db.db/t -> db.t)\n"
	"      --remap FROM=TO    read paths written under FROM from TO, folders or\n"
	"                         URIs (repeatable; FROM holds no '=')\n"
	"      --partitions       one record per partition touched, no file records\n"
	"      --full             read every manifest of both snapshots (slow; checks\n"
	"                         the fast path, which reads manifests listed by one side)\n"
	"      --strict           stop at the first error\n"
	"      --stats            at exit, one line on standard error: requests to\n"
	"                         object storage by kind, 304s, retries, bytes, object\n"
	"                         cache hits, manifests and entries read (-v, --verbose:\n"
	"                         the same)\n"
	ICE_CLI_STORAGE_HELP
	"      --catalog URL|NAME a catalog: TABLE may then be NAMESPACE.TABLE\n"
	"                         (default $ICE_CATALOG; see ice-snapshot(1)); its\n"
	"                         tables' S3 files are read with the keys it vends\n"
	"  -h, --help             show this help and exit\n"
	"  -V, --version          show versions and exit\n"
	"\n"
	"Exit status: 0 success, 1 a transition could not be diffed precisely (its\n"
	"summary says scope \"table\"), bad input lines or unusable snapshot records,\n"
	"2 usage error (an unknown --from or --to id among them).\n"
	"See ice-diff(1) for the record fields.\n";

typedef struct {
	const char *from, *to, *name;
	bool partitions, full, strict, stats; /* stats: --stats or --verbose */
	ice_remap remap;
	ice_cli_storage_flags storage; /* tables in object storage */
} options;

/* Every table, local or in object storage, is read through this one
 * handle: one kept connection, one object cache, one set of counters. */
static ice_storage *storage;
/* Manifests and entries read by all diffs, for --stats. */
static ice_diff_stats totals;

static int emit_record(void *ctx, json_t *rec)
{
	(void)ctx;
	return ice_cli_emit(rec);
}

static int emit_line(void *ctx, const char *line, size_t len)
{
	ice_err err;
	int rc = ice_jsonl_write_line(stdout, line, len, &err);

	(void)ctx;
	if (rc && rc != ICE_EPIPE)
		ice_cli_error("%s", err.msg);
	return rc;
}

/* The remap for a table: --remap rules, then its location onto its folder. */
static int table_remap(const options *o, const ice_metadata *md, const char *root, ice_remap *m,
                       ice_err *err)
{
	ice_remap_init(m);
	if (ice_remap_copy_rules(m, &o->remap, err))
		return err->code;
	return ice_remap_set_location(m, md->location, root, err);
}

static int run_diff(const options *o, ice_storage *st, const ice_metadata *md, const char *root,
                    const char *table, const ice_snapshot *from, const ice_snapshot *to)
{
	ice_diff_opts dopts = { NULL, o->full, o->partitions, st };
	ice_diff_sink sink = { emit_record, NULL, emit_line };
	ice_diff_stats stats;
	ice_remap m;
	ice_err err = { 0 };
	int rc = table_remap(o, md, root, &m, &err);

	dopts.remap = &m;
	if (rc == ICE_OK) {
		rc = ice_diff_run(md, table, from, to, &dopts, &sink, &stats, &err);
		totals.manifests_read += stats.manifests_read;
		totals.entries_read += stats.entries_read;
	}
	if (rc && rc != ICE_EPIPE)
		ice_cli_error("%s: %s", table, err.msg);
	ice_remap_free(&m);
	return rc;
}

/* Parse an id argument: an integer, or "none" (when allowed). */
static bool parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (end == s || *end)
		return false;
	*id = v;
	return true;
}

static bool in_snapshot_log(const ice_metadata *md, int64_t id)
{
	for (size_t i = 0; i < md->n_snapshot_log; i++)
		if (md->snapshot_log[i].snapshot_id == id)
			return true;
	return false;
}

static int resolve_snapshots(const options *o, const ice_metadata *md, const ice_snapshot **from,
                             const ice_snapshot **to, const char **reason)
{
	int64_t id;

	*reason = NULL;
	if (o->to) {
		if (!parse_id(o->to, &id) || !(*to = ice_metadata_snapshot(md, id)))
			return ice_cli_usage_error("--to: no snapshot '%s' in %s", o->to, md->path);
	} else if (!(*to = ice_metadata_current(md))) {
		ice_cli_error("%s: the table has no snapshot", md->path);
		return ICE_EXIT_FAILURE;
	}
	*from = NULL;
	if (o->from && strcmp(o->from, "none") == 0)
		return -1;
	if (!o->from) {
		if ((*to)->has_parent && !(*from = ice_metadata_snapshot(md, (*to)->parent_id)))
			*reason = "from-snapshot expired";
		return -1;
	}
	if (!parse_id(o->from, &id))
		return ice_cli_usage_error("--from: '%s' is not a snapshot id or 'none'", o->from);
	if ((*from = ice_metadata_snapshot(md, id)))
		return -1;
	/* An id the table's history remembers was expired: the whole table is
	 * stale. Any other id is a mistake, not a reason to drop the table. */
	if (!in_snapshot_log(md, id))
		return ice_cli_usage_error("--from: no snapshot '%s' in %s (nor in its snapshot log)",
		                           o->from, md->path);
	*reason = "from-snapshot expired";
	return -1;
}

/* The `from` a table-scope record reports: --from as given, else the parent. */
static int64_t from_id_of(const options *o, const ice_snapshot *from, const ice_snapshot *to)
{
	int64_t id;

	if (from)
		return from->id;
	return o->from && parse_id(o->from, &id) ? id : to->parent_id;
}

/* A catalog table (db.orders, NAME:db.orders): its metadata through the
 * catalog, its folder its location, its name as given; its files in object
 * storage read with the keys the catalog vends (*st). */
static int open_catalog_table(const char *arg, ice_metadata **md, char **name, const char **root,
                              ice_storage **st)
{
	char *catalog = NULL;
	const char *rest;
	ice_err err = { 0 };
	int rc = ICE_EINVAL;

	if (!ice_cli_catalog_table(arg, &catalog, &rest))
		return rc;
	if ((rc = ice_cli_catalog_metadata(catalog, rest, md, &err)) ||
	    (ice_uri_kind_of((*md)->location) == ICE_URI_S3 &&
	     (rc = ice_cli_vended_storage(catalog, rest, storage, st, &err))))
		ice_cli_error("%s", err.msg);
	else if (!*name && !(*name = strdup(arg)))
		rc = ICE_ENOMEM;
	else
		*root = (*md)->location;
	free(catalog);
	return rc;
}

static int run_table(const options *o, const char *arg)
{
	ice_table t = { 0 };
	ice_metadata *md = NULL;
	const ice_snapshot *from = NULL, *to = NULL;
	const char *reason, *root = NULL;
	char *path = NULL, *name = NULL;
	ice_storage *st = storage;
	ice_err err = { 0 };
	int status = ICE_EXIT_FAILURE, rc;

	const char *given, *table_arg;
	size_t given_len;

	if (ice_table_arg_split(arg, &given, &given_len, &table_arg) && o->name)
		return ice_cli_usage_error("the table is named twice: --name %s and %s", o->name, arg);
	name = given ? strndup(given, given_len) : o->name ? strdup(o->name) : NULL;
	/* records carry the name as JSON text, and cache tags as that text */
	if (name && !ice_text_is_utf8(name)) {
		free(name);
		return ice_cli_usage_error("table name of '%s' is not UTF-8", arg);
	}
	if ((rc = open_catalog_table(table_arg, &md, &name, &root, &st)) == ICE_OK)
		goto opened;
	if (rc != ICE_EINVAL)
		goto out;
	if (ice_table_open_storage(storage, table_arg, &t, &err)) {
		ice_cli_error("%s", err.msg);
		goto out;
	}
	if (ice_table_current_metadata(&t, &path, &err) ||
	    ice_metadata_load_storage(storage, path, &md, &err)) {
		ice_cli_error("%s", err.msg);
		goto out;
	}
	root = t.root;
	if (!name && (name = ice_table_default_name(&t)) && !ice_text_is_utf8(name)) {
		ice_cli_error("%s: the table's name from its folders, '%s', is not UTF-8: name it with --name",
		              table_arg, name);
		goto out;
	}
opened:
	if ((rc = resolve_snapshots(o, md, &from, &to, &reason)) >= 0) {
		status = rc;
		goto out;
	}
	if (reason) {
		ice_cli_error("%s: %s; the whole table is stale", name, reason);
		ice_cli_emit(ice_diff_table_scope(name, true, from_id_of(o, from, to), true, to->id,
		                                to->operation, reason));
		goto out;
	}
	rc = run_diff(o, st, md, root, name, from, to);
	status = rc == ICE_OK || rc == ICE_EPIPE ? ICE_EXIT_OK : ICE_EXIT_FAILURE;
out:
	free(name);
	free(path);
	ice_metadata_free(md);
	ice_table_free(&t);
	return status;
}

/* ---- stdin: snapshot records ----------------------------------------------- */

/* Why a snapshot event cannot be diffed precisely, or NULL. */
static const char *event_reason(const json_t *rec)
{
	const char *event = ice_json_get_str(rec, "event");

	if (event && strcmp(event, "recreated") == 0)
		return "table was recreated (table-uuid changed)";
	if (event && strcmp(event, "reset") == 0)
		return "history since the previous snapshot is unknown";
	return NULL;
}

/* What makes a snapshot record unusable (a defect upstream: a record
 * edited by hand, another tool's output), or NULL. A record of a table with
 * no snapshot yet ("snapshot_id": null) is usable: there is nothing to diff. */
static const char *unusable(const json_t *rec)
{
	const json_t *id = json_object_get(rec, "snapshot_id");
	const json_t *prev = json_object_get(rec, "previous_snapshot_id");

	if (!ice_json_get_str(rec, "table"))
		return "has no string \"table\"";
	if (json_is_null(id))
		return NULL;
	if (!json_is_integer(id))
		return id ? "has a \"snapshot_id\" that is not an integer" : "has no \"snapshot_id\"";
	if (prev && !json_is_integer(prev) && !json_is_null(prev))
		return "has a \"previous_snapshot_id\" that is neither an integer nor null";
	if (!ice_json_get_str(rec, "metadata_file"))
		return "has no string \"metadata_file\"";
	if (!ice_json_get_str(rec, "table_path"))
		return "has no string \"table_path\"";
	return NULL;
}

/* A snapshot record that cannot be diffed is never dropped quietly: an
 * error naming the input line, and (when the table is known) a table-scope
 * diff, so that ice-invalidate drops the whole table rather than nothing. */
static int refuse_record(const json_t *rec, const char *why)
{
	const char *table = ice_json_get_str(rec, "table");
	int64_t to_id = 0;
	bool has_to = ice_json_get_i64(rec, "snapshot_id", &to_id);
	int rc = ICE_EFORMAT;

	ice_cli_error("stdin:%lu: snapshot record %s; %s", ice_cli_input_line(), why,
	              table ? "the whole table is stale" : "it is not diffed");
	if (table && (rc = ice_cli_emit(ice_diff_table_scope(table, false, 0, has_to, to_id,
	                                                     ice_json_get_str(rec, "operation"),
	                                                     "unusable snapshot record"))) == ICE_OK)
		rc = ICE_EFORMAT;
	return rc;
}

static bool is_dropped(const json_t *rec)
{
	const char *event = ice_json_get_str(rec, "event");

	return event && strcmp(event, "dropped") == 0;
}

/* A table gone from its catalog: everything cached of it is stale. The
 * transition has no snapshot to move to. */
static int dropped_record(const json_t *rec)
{
	int64_t from_id = 0;
	bool has_from = ice_json_get_i64(rec, "previous_snapshot_id", &from_id);
	int rc = ice_cli_emit(ice_diff_table_scope(ice_json_get_str(rec, "table"), has_from, from_id,
	                                          false, 0, NULL, "table dropped from its catalog"));

	return rc ? rc : ICE_EFORMAT;
}

/* The storage of a record's table: the catalog's vended keys for a
 * catalog table in object storage that this run's catalogs know, else
 * the program's own settings. */
static int record_storage(const json_t *rec, const char *mfile, ice_storage **st, ice_err *err)
{
	const char *ns = ice_json_get_str(rec, "namespace"), *tn = ice_json_get_str(rec, "table_name");
	char *catalog = NULL, *rest = NULL;
	int rc = ICE_OK;

	*st = storage;
	if (!ns || !tn || ice_uri_kind_of(mfile) != ICE_URI_S3 ||
	    !ice_cli_catalog_of_label(ice_json_get_str(rec, "catalog"), &catalog))
		return ICE_OK;
	if (asprintf(&rest, "%s.%s", ns, tn) < 0)
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	else
		rc = ice_cli_vended_storage(catalog, rest, storage, st, err);
	free(catalog);
	free(rest);
	return rc;
}

/* The metadata file of a record; vended keys the store refuses (expired)
 * are asked for again once. */
static int record_metadata(const json_t *rec, const char *mfile, ice_storage **st,
                           ice_metadata **md, ice_err *err)
{
	int rc = record_storage(rec, mfile, st, err);

	if (rc == ICE_OK && (rc = ice_metadata_load_storage(*st, mfile, md, err)) == ICE_EACCES &&
	    ice_cli_vended_refresh(*st) && (rc = record_storage(rec, mfile, st, err)) == ICE_OK)
		rc = ice_metadata_load_storage(*st, mfile, md, err);
	return rc;
}

static int diff_record(const options *o, const json_t *rec)
{
	const char *table = ice_json_get_str(rec, "table"), *mfile = ice_json_get_str(rec, "metadata_file");
	const char *root = ice_json_get_str(rec, "table_path"), *reason;
	const json_t *prev = json_object_get(rec, "previous_snapshot_id");
	ice_metadata *md = NULL;
	ice_storage *st = storage;
	const ice_snapshot *to, *from = NULL;
	int64_t to_id, from_id = 0;
	bool has_from;
	ice_err err = { 0 };
	int rc = ICE_EFORMAT;

	if ((reason = unusable(rec)))
		return refuse_record(rec, reason);
	if (is_dropped(rec))
		return dropped_record(rec);
	if (!ice_json_get_i64(rec, "snapshot_id", &to_id))
		return ICE_OK; /* a table with no snapshot: nothing to diff */
	has_from = prev ? json_is_integer(prev) : ice_json_get_i64(rec, "parent_id", &from_id);
	if (prev && has_from)
		from_id = (int64_t)json_integer_value(prev);
	if ((reason = event_reason(rec)))
		goto table_scope;
	if (record_metadata(rec, mfile, &st, &md, &err)) {
		reason = err.msg;
		ice_cli_error("%s", err.msg);
		goto table_scope;
	}
	to = ice_metadata_snapshot(md, to_id);
	if (has_from && !(from = ice_metadata_snapshot(md, from_id)))
		reason = "from-snapshot expired";
	if (!to)
		reason = "snapshot not in its metadata file";
	if (reason)
		goto table_scope;
	rc = run_diff(o, st, md, root, table, from, to);
	goto out;
table_scope:
	rc = ice_cli_emit(ice_diff_table_scope(table, has_from, from_id, true, to_id,
	                                     ice_json_get_str(rec, "operation"), reason));
	if (rc == ICE_OK)
		rc = ICE_EFORMAT;
out:
	ice_metadata_free(md);
	return rc;
}

/* ice-snapshot could not read a table (missing, half-written, ids beyond
 * the Iceberg long...): nothing about its changes is known, so the whole
 * table is stale. The transition has no snapshots at either end. */
static int unreadable_record(const json_t *rec)
{
	const char *table = ice_json_get_str(rec, "table"), *program = ice_json_get_str(rec, "program");
	const char *why = ice_json_get_str(rec, "error");
	char reason[ICE_ERR_MSG_MAX + 32];

	if (!table || !program || strcmp(program, "ice-snapshot") != 0)
		return ICE_OK;
	snprintf(reason, sizeof reason, "table unreadable: %s", why ? why : "unknown error");
	return ice_cli_emit(ice_diff_table_scope(table, false, 0, false, 0, NULL, reason));
}

static int on_record(void *ctx, const json_t *rec)
{
	const char *kind = ice_record_kind(rec);

	if (strcmp(kind, "error") == 0)
		return unreadable_record(rec);
	return strcmp(kind, "snapshot") == 0 ? diff_record(ctx, rec) : ICE_OK;
}

static int run_stdin(const options *o)
{
	return ice_cli_filter(on_record, (void *)o, o->strict);
}

/* ---- main --------------------------------------------------------------------- */

enum { OPT_FROM = 256, OPT_TO, OPT_NAME, OPT_REMAP, OPT_PARTITIONS, OPT_FULL, OPT_STRICT,
       OPT_STATS, OPT_CATALOG };

static const struct option long_options[] = {
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "remap", required_argument, NULL, OPT_REMAP },
	{ "partitions", no_argument, NULL, OPT_PARTITIONS },
	{ "full", no_argument, NULL, OPT_FULL },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "verbose", no_argument, NULL, 'v' },
	ICE_CLI_STORAGE_LONG_OPTIONS,
	{ "catalog", required_argument, NULL, OPT_CATALOG },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int parse_option(int c, char **argv, options *o)
{
	ice_err err;

	if (ice_cli_storage_option(c, optarg, &o->storage))
		return -1;
	switch (c) {
	case OPT_FROM: o->from = optarg; break;
	case OPT_TO: o->to = optarg; break;
	case OPT_NAME: o->name = optarg; break;
	case OPT_PARTITIONS: o->partitions = true; break;
	case OPT_FULL: o->full = true; break;
	case OPT_STRICT: o->strict = true; break;
	case OPT_STATS:
	case 'v': o->stats = true; break;
	case OPT_CATALOG: ice_cli_catalog_flag(optarg); break;
	case OPT_REMAP:
		if (ice_remap_add_arg(&o->remap, optarg, &err))
			return ice_cli_usage_error("--remap: %s", err.msg);
		break;
	case 'h': fputs(usage_text, stdout); return ice_cli_finish(ICE_EXIT_OK);
	case 'V': ice_cli_version(); return ice_cli_finish(ICE_EXIT_OK);
	default: return ice_cli_bad_option(c, argv);
	}
	return -1;
}

/* --stats: what reading cost, in one line. */
static void print_stats(void)
{
	char extra[96];
	size_t n = ice_cli_vended_handles(NULL, 0);
	const ice_storage **all = calloc(n + 1, sizeof *all);

	snprintf(extra, sizeof extra, "manifests=%llu entries=%llu",
	         (unsigned long long)totals.manifests_read, (unsigned long long)totals.entries_read);
	/* The program's handle, then those of the catalogs' vended keys. */
	if (!all) {
		ice_cli_storage_summary(storage, extra);
		return;
	}
	all[0] = storage;
	ice_cli_vended_handles(all + 1, n);
	ice_cli_storage_summary_all(all, n + 1, extra);
	free(all);
}

int main(int argc, char **argv)
{
	options o = { 0 };
	const struct ice_config *cfg;
	int c, status;

	ice_cli_init("ice-diff");
	ice_remap_init(&o.remap);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hvV", long_options, NULL)) != -1)
		if ((status = parse_option(c, argv, &o)) >= 0)
			goto out;
	if (argc - optind > 1) {
		status = ice_cli_usage_error("one TABLE at a time");
		goto out;
	}
	if (optind == argc && (o.from || o.to || o.name)) {
		status = ice_cli_usage_error("--from, --to and --name need a TABLE");
		goto out;
	}
	ice_cli_vended_flags(&o.storage);
	if ((status = ice_cli_storage_open(&o.storage, &storage)) >= 0)
		goto out;
	if (optind < argc && (status = ice_cli_config(&cfg)) >= 0)
		goto out;
	status = optind < argc ? run_table(&o, argv[optind]) : run_stdin(&o);
	if (o.stats)
		print_stats();
	status = ice_cli_finish(status);
out:
	ice_storage_close(storage);
	ice_remap_free(&o.remap);
	return status;
}
