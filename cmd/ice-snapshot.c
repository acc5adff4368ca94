/* ice-snapshot: read Iceberg table metadata and emit snapshot records:
 * show the current snapshot, log the history, watch for new commits, or
 * poll once against a saved cursor (for cron); list a catalog's tables. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli-cache.h"
#include "cli-storage.h"
#include "cli-catalog.h"
#include "cli-config.h"
#include "ice_backend.h"
#include "ice_config.h"
#include "ice_cursor.h"
#include "ice_jsonl.h"
#include "ice_metadata.h"
#include "ice_snaprec.h"
#include "ice_table.h"
#include "ice_text.h"
#include "ice_time.h"
#include "ice_track.h"
#include "snapshot-catalog.h"

#define DEFAULT_INTERVAL_MS 5000

static const char usage_text[] =
	"Usage: ice-snapshot [OPTION]... COMMAND TABLE...\n"
	"  or:  ice-snapshot [OPTION]... ls [NAMESPACE]\n"
	"Read Iceberg table metadata and print snapshot records as JSON lines.\n"
	"\n"
	"Commands:\n"
	"  show TABLE...          the current snapshot of each table\n"
	"  log TABLE              the snapshots of the current branch, oldest first\n"
	"  watch TABLE...         poll forever; one record per new snapshot, in commit order\n"
	"  poll TABLE... --state PATH\n"
	"                         the snapshots since the cursor saved in PATH, then save it\n"
	"  ls [NAMESPACE]         a catalog's namespaces (\"a.b.\") and tables, to any depth\n"
	"\n"
	"TABLE is a table folder, its metadata folder or a metadata file (plain, .gz\n"
	"or .zst); NAME=TABLE names it in the records (default: the last two folder\n"
	"names joined with a dot, as in db.orders; sales.db/orders is sales.orders).\n"
	"With a catalog configured, a TABLE that is neither a path nor a URI is a\n"
	"catalog table NAMESPACE.TABLE (a.b.orders), or NAME:NAMESPACE.TABLE for the\n"
	"catalog NAME of the configuration file; watch also takes 'NAMESPACE.*',\n"
	"every table of the namespace, those created later included.\n"
	"\n"
	"Options:\n"
	"      --name NAME        the table name, for a single TABLE\n"
	"      --ref NAME         show/log: a branch or tag instead of the current snapshot\n"
	"  -a, --all              log: every snapshot in the metadata, by sequence number\n"
	"  -i, --interval DUR     watch: time between polls (default 5s; 500ms, 2m, ...)\n"
	"      --once             watch: poll once and exit\n"
	"  -n, --count N          watch: exit after N snapshot records\n"
	"      --from-start       watch, poll: begin with the whole history of the\n"
	"                         current branch instead of the current snapshot\n"
	"  -s, --state PATH       poll: the cursor file (created when missing), or\n"
	"                         'cache' (also 'redis'): start from the snapshot\n"
	"                         ice-invalidate last finished in the cache (which\n"
	"                         poll never moves)\n"
	"  -u, --url URL          poll --state cache: the cache (default $ICE_CACHE_URL,\n"
	"                         else the embedded cache)\n"
	"      --prefix P         poll --state cache: key namespace (default icecache)\n"
	ICE_CLI_STORAGE_HELP
	"      --stats            at exit, one line on standard error: requests to\n"
	"                         object storage by kind, 304s, retries, bytes, object\n"
	"                         cache hits (-v, --verbose: the same)\n"
	"      --catalog URL|NAME the default catalog (default $ICE_CATALOG, else\n"
	"                         'catalog' of the configuration file); credentials from\n"
	"                         $ICE_CATALOG_CREDENTIAL or $ICE_CATALOG_TOKEN, the\n"
	"                         warehouse from $ICE_CATALOG_WAREHOUSE\n"
	"  -h, --help             show this help and exit\n"
	"  -V, --version          show versions and exit\n"
	"\n"
	"Exit status: 0 success, 1 a table could not be read, 2 usage error,\n"
	"3 the cache is unreachable (poll --state cache).\n"
	"See ice-snapshot(1) for the record fields.\n";

typedef enum { CMD_SHOW, CMD_LOG, CMD_WATCH, CMD_POLL, CMD_LS } command;

typedef struct {
	command cmd;
	const char *name;
	const char *ref;
	const char *state;
	bool all, once, from_start, stats; /* stats: --stats or --verbose */
	long long count; /* 0: unlimited */
	const char *url, *prefix; /* poll --state redis: the cache */
	const char *catalog;      /* --catalog */
	int64_t interval_ms;
	ice_cli_storage_flags storage; /* tables in object storage */
} options;

/* One TABLE argument and, for watch, what was last seen of it. */
typedef struct {
	char *name;
	const char *path;
	ice_table table;
	bool opened;
	ice_table_probe probe;
	bool have_probe;
	ice_cursor cursor;
	bool have_cursor;
	char *last_error; /* to report a lasting error once, not every poll */
	ice_snapcat *cat; /* a catalog table, else NULL */
	bool failed;      /* watch: a catalog table could not be read */
} target;

/* A namespace watched whole ('db.*'): re-listed every round. */
typedef struct {
	char *catalog;
	ice_ns ns;
	char *text;
} pattern;

/* The tables of a run: those named, then (watch) those patterns found. */
typedef struct {
	target *v;
	int n, cap;
	pattern *pat;
	int n_pat;
} tables;

static volatile sig_atomic_t stop_requested;

/* Tables in object storage are read through one storage handle (one kept
 * connection, one object cache), opened before the first when any TABLE is
 * remote (open_storage). */
static ice_storage *storage;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* ---- table arguments ---------------------------------------------------- */

/* A new target at the end of ts (zeroed), or NULL when out of memory. */
static target *add_target(tables *ts)
{
	if (ts->n == ts->cap) {
		int cap = ts->cap ? 2 * ts->cap : 8;
		target *v = realloc(ts->v, (size_t)cap * sizeof *v);

		if (!v)
			return NULL;
		ts->v = v;
		ts->cap = cap;
	}
	memset(&ts->v[ts->n], 0, sizeof *ts->v);
	return &ts->v[ts->n++];
}

/* The storage handle with the flags, environment and configuration, when
 * any table given by path or URI is remote (a catalog table's metadata
 * comes with its answer): -1 to go on, else the exit status. */
static int open_storage(const tables *ts, const options *o)
{
	for (int i = 0; i < ts->n; i++)
		if (!ts->v[i].cat && ice_uri_is_remote(ts->v[i].path))
			return ice_cli_storage_open(&o->storage, &storage);
	return -1;
}

/* A catalog table as a target; ICE_EINVAL for a bad name. */
static int add_catalog_target(tables *ts, const char *catalog, const char *rest, ice_err *err)
{
	target *t = add_target(ts);
	int rc;

	if (!t || !(t->cat = calloc(1, sizeof *t->cat)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if ((rc = ice_snapcat_init(t->cat, catalog, rest, err))) {
		free(t->cat);
		ts->n--;
		return rc;
	}
	t->path = t->cat->name;
	t->opened = true;
	return ICE_OK;
}

static int add_pattern(tables *ts, const char *arg, char *catalog, ice_ns *ns, ice_err *err)
{
	pattern *v = realloc(ts->pat, (size_t)(ts->n_pat + 1) * sizeof *v);

	if (!v)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	ts->pat = v;
	v[ts->n_pat] = (pattern){ catalog, *ns, (char *)arg };
	ts->n_pat++;
	return ICE_OK;
}

/* One TABLE argument: a catalog namespace pattern, a catalog table, or a
 * table folder or file (NAME=TABLE). Returns ICE_OK, or an error for a
 * usage message. */
static int init_target(tables *ts, const char *arg, const options *o, ice_err *err)
{
	char *catalog = NULL;
	const char *rest, *name;
	ice_ns ns;
	size_t len;
	int rc;
	target *t;

	if (ice_snapcat_pattern(arg, &catalog, &ns, err, &rc)) {
		if (!rc && o->cmd != CMD_WATCH)
			rc = ice_err_set(err, ICE_EINVAL, "'%s': a namespace pattern is for watch", arg);
		if (!rc && (rc = add_pattern(ts, arg, catalog, &ns, err)) == ICE_OK)
			return ICE_OK;
		ice_ns_clear(&ns);
		free(catalog);
		return rc;
	}
	if (ice_cli_catalog_table(arg, &catalog, &rest)) {
		rc = add_catalog_target(ts, catalog, rest, err);
		free(catalog);
		return rc;
	}
	if (!(t = add_target(ts)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (ice_table_arg_split(arg, &name, &len, &t->path))
		t->name = strndup(name, len);
	else if (o->name)
		t->name = strdup(o->name);
	/* records carry the table's name and paths as JSON text (a name
	 * taken from the folders is then UTF-8 too) */
	if ((t->name && !ice_text_is_utf8(t->name)) || !ice_text_is_utf8(t->path))
		return ice_err_set(err, ICE_EINVAL, "'%s': a table's name and path must be UTF-8", arg);
	return ICE_OK;
}

static void free_targets(tables *ts)
{
	for (int i = 0; i < ts->n; i++) {
		target *t = &ts->v[i];

		free(t->name);
		free(t->last_error);
		ice_table_free(&t->table);
		ice_cursor_clear(&t->cursor);
		if (t->cat)
			ice_snapcat_clear(t->cat);
		free(t->cat);
	}
	free(ts->v);
	for (int i = 0; i < ts->n_pat; i++) {
		free(ts->pat[i].catalog);
		ice_ns_clear(&ts->pat[i].ns);
	}
	free(ts->pat);
}

/* Open the table folder and name it (once). */
static int open_target(target *t, ice_err *err)
{
	if (t->opened)
		return ICE_OK;
	if (ice_table_open_storage(storage, t->path, &t->table, err))
		return err->code;
	if (!t->name && !(t->name = ice_table_default_name(&t->table))) {
		ice_table_free(&t->table);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	t->opened = true;
	return ICE_OK;
}

static int load_target(target *t, ice_metadata **md, ice_err *err)
{
	char *path = NULL;
	int rc;

	*md = NULL;
	if (t->cat)
		return ice_snapcat_load(t->cat, md, err);
	if ((rc = open_target(t, err)))
		return rc;
	if ((rc = ice_table_current_metadata(&t->table, &path, err)) == ICE_OK)
		rc = ice_metadata_load_storage(t->table.st, path, md, err);
	free(path);
	return rc;
}

static const char *target_name(const target *t)
{
	return t->cat ? t->cat->name : t->name ? t->name : t->path;
}

/* ---- output --------------------------------------------------------------- */

static int emit_error_record(const target *t, const ice_err *err)
{
	json_t *r = ice_record_new("error");

	if (!r)
		return ICE_ENOMEM;
	json_object_set_new(r, "program", json_string("ice-snapshot"));
	json_object_set_new(r, "table", json_string(target_name(t)));
	if (!t->cat)
		json_object_set_new(r, "table_path", json_string(t->path));
	json_object_set_new(r, "error", json_string(err->msg));
	json_object_set_new(r, "code", json_string(ice_code_name(err->code)));
	if (t->cat)
		ice_snapcat_annotate(t->cat, r, NULL);
	return ice_cli_emit(r);
}

/* A catalog table's folder is its location (where its paths map). */
static json_t *record_for(const target *t, const ice_metadata *md, const ice_snapshot *s,
                          const ice_track_event *ev, const char *event)
{
	json_t *r = ice_snapshot_record(md, target_name(t), t->cat ? md->location : t->table.root,
	                                s, ev, event);

	if (r && t->cat)
		ice_snapcat_annotate(t->cat, r, md->path);
	return r;
}

/* ---- show and log --------------------------------------------------------- */

static const ice_snapshot *head_of(const ice_metadata *md, const char *ref, ice_err *err)
{
	const ice_ref *r;
	const ice_snapshot *s;

	if (!ref)
		return ice_metadata_current(md);
	if (!(r = ice_metadata_ref(md, ref))) {
		ice_err_set(err, ICE_ENOENT, "%s: no branch or tag named '%s'", md->path, ref);
		return NULL;
	}
	if (!(s = ice_metadata_snapshot(md, r->snapshot_id)))
		ice_err_set(err, ICE_EFORMAT, "%s: ref '%s' names missing snapshot %lld",
		            md->path, ref, (long long)r->snapshot_id);
	return s;
}

static int show_one(target *t, const options *o)
{
	ice_metadata *md = NULL;
	const ice_snapshot *s;
	ice_err err = { 0 };
	int rc;

	if ((rc = load_target(t, &md, &err)))
		goto report;
	s = head_of(md, o->ref, &err);
	if (!s && err.code) {
		rc = err.code;
		goto report;
	}
	rc = ice_cli_emit(record_for(t, md, s, NULL, "current"));
	goto out;
report:
	ice_cli_error("%s", err.msg);
out:
	ice_metadata_free(md);
	return rc;
}

static int emit_list(target *t, const ice_metadata *md, const ice_snapshot **list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = ice_cli_emit(record_for(t, md, list[i], NULL, "history"));
		if (rc)
			return rc;
	}
	return ICE_OK;
}

static int log_one(target *t, const options *o)
{
	ice_metadata *md = NULL;
	const ice_snapshot **list = NULL, *head;
	size_t n = 0;
	bool complete = true;
	ice_err err = { 0 };
	int rc;

	if ((rc = load_target(t, &md, &err)))
		goto report;
	if (o->all) {
		rc = ice_metadata_sorted_snapshots(md, &list, &n, &err);
	} else {
		head = head_of(md, o->ref, &err);
		if (!head && err.code) {
			rc = err.code;
			goto report;
		}
		rc = head ? ice_metadata_ancestry(md, head, &list, &n, &complete, &err) : ICE_OK;
	}
	if (rc)
		goto report;
	if (!complete)
		ice_cli_warn("%s: history is truncated: the oldest ancestors have expired", target_name(t));
	rc = emit_list(t, md, list, n);
	goto out;
report:
	ice_cli_error("%s", err.msg);
out:
	free(list);
	ice_metadata_free(md);
	return rc;
}

/* ---- watch ----------------------------------------------------------------- */

/* Report an error once per distinct message; the watch goes on. */
static int watch_error(target *t, const ice_err *err)
{
	int rc;

	if (t->last_error && strcmp(t->last_error, err->msg) == 0)
		return ICE_OK;
	free(t->last_error);
	t->last_error = strdup(err->msg);
	ice_cli_error("%s", err->msg);
	rc = emit_error_record(t, err);
	/* Downstream should hear of the problem now, not at the next commit. */
	return rc ? rc : ice_jsonl_flush(stdout, NULL);
}

static int emit_events(target *t, const ice_metadata *md, const ice_track_event *ev, size_t n,
                       long long *emitted, long long limit)
{
	for (size_t i = 0; i < n && (!limit || *emitted < limit); i++) {
		int rc = ice_cli_emit(record_for(t, md, ev[i].snapshot, &ev[i], NULL));
		if (rc)
			return rc;
		(*emitted)++;
	}
	return ICE_OK;
}

static int advance(target *t, const ice_metadata *md, const ice_table_probe *probe, ice_err *err)
{
	int rc = ice_track_cursor_of(md, &t->cursor, err);

	if (rc == ICE_OK) {
		t->have_cursor = true;
		t->probe = *probe;
		t->have_probe = true;
		free(t->last_error);
		t->last_error = NULL;
	}
	return rc;
}

/* One poll of one table. Only write errors end the watch. */
static int watch_poll(target *t, const options *o, bool first, long long *emitted)
{
	ice_metadata *md = NULL;
	ice_track_event *ev = NULL;
	ice_table_probe probe;
	size_t n = 0;
	ice_err err = { 0 };
	int rc = ICE_OK;

	/* The probe is taken before the read: a commit landing in between
	 * changes the folder again, so the next poll reads it. */
	if (open_target(t, &err) ||
	    ice_table_probe_since(&t->table, t->have_probe ? &t->probe : NULL, &probe, &err)) {
		rc = watch_error(t, &err);
		goto out;
	}
	/* The idle path: a few stat calls (remote: one 304), no metadata read. */
	if (t->have_probe && ice_table_probe_equal(&probe, &t->probe))
		goto out;
	if (load_target(t, &md, &err) ||
	    ice_track_events(md, t->have_cursor ? &t->cursor : NULL, first && o->from_start,
	                     &ev, &n, &err)) {
		rc = watch_error(t, &err);
		goto out;
	}
	rc = emit_events(t, md, ev, n, emitted, o->count);
	if (rc == ICE_OK && (rc = ice_jsonl_flush(stdout, &err)) == ICE_OK)
		rc = advance(t, md, &probe, &err);
out:
	free(ev);
	ice_metadata_free(md);
	return rc;
}

/* ---- watch: catalog tables -------------------------------------------------- */

/* 404 after the table was seen: one "dropped" record. The cursor is kept,
 * so a table created again under the name is "recreated" (table scope). */
static int watch_dropped(target *t, const ice_err *err)
{
	char reason[ICE_ERR_MSG_MAX + 32];
	json_t *r;
	int rc;

	if (t->cat->dropped)
		return ICE_OK;
	t->cat->dropped = true;
	ice_table_seen_clear(&t->cat->seen);
	snprintf(reason, sizeof reason, "table gone from the catalog: %s", err->msg);
	r = ice_dropped_record(t->cat->name, t->cursor.table_uuid, t->cursor.has_snapshot,
	                       t->cursor.snapshot_id, reason);
	if (r)
		ice_snapcat_annotate(t->cat, r, NULL);
	ice_cli_warn("%s: dropped from the catalog", t->cat->name);
	if ((rc = ice_cli_emit(r)))
		return rc;
	return ice_jsonl_flush(stdout, NULL);
}

/* An answer older than the metadata already used (a lagging replica of the
 * catalog) is ignored: the cursor never moves backwards. A rollback is a
 * new metadata file, so it is newer. */
static bool stale_answer(const target *t, const ice_metadata *md)
{
	return t->have_cursor && t->cursor.table_uuid && md->table_uuid &&
	       strcmp(t->cursor.table_uuid, md->table_uuid) == 0 &&
	       md->last_updated_ms < t->cat->last_updated_ms;
}

/* The events of a catalog table loaded this round. Under snapshots=refs
 * the answer may lack the snapshots between the cursor and the current
 * one: then the table is loaded again with snapshots=all. *stale: the
 * answer is older than what was used (no events, the cursor stays). */
static int catalog_events(target *t, const options *o, bool first, ice_metadata **md,
                          ice_track_event **ev, size_t *n, bool *stale, ice_err *err)
{
	const ice_cursor *c = t->have_cursor ? &t->cursor : NULL;
	bool all = first && o->from_start;
	int rc;

	if ((rc = ice_snapcat_model(t->cat, all, md, err)))
		return rc;
	if (!all && !ice_track_chain_known(*md, c)) {
		ice_metadata_free(*md);
		if ((rc = ice_snapcat_model(t->cat, true, md, err)))
			return rc;
	}
	if ((*stale = stale_answer(t, *md)))
		return ICE_OK;
	return ice_track_events(*md, c, first && o->from_start, ev, n, err);
}

static int watch_catalog(target *t, const options *o, bool first, long long *emitted)
{
	ice_catpool_job *job = &t->cat->job;
	ice_metadata *md = NULL;
	ice_track_event *ev = NULL;
	size_t n = 0;
	bool stale = false;
	ice_err err = { 0 };
	int rc = ICE_OK;

	if (job->rc == ICE_ENOENT && t->have_cursor) {
		rc = watch_dropped(t, &job->err);
		goto out;
	}
	if (job->rc) {
		t->failed = true;
		rc = watch_error(t, &job->err);
		goto out;
	}
	/* The idle path: a 304 (or the same metadata-location), nothing parsed. */
	if (job->out.unchanged)
		goto out;
	if (catalog_events(t, o, first, &md, &ev, &n, &stale, &err)) {
		t->failed = true;
		rc = watch_error(t, &err);
		goto out;
	}
	if (stale)
		goto out;
	rc = emit_events(t, md, ev, n, emitted, o->count);
	if (rc == ICE_OK && (rc = ice_jsonl_flush(stdout, &err)) == ICE_OK &&
	    (rc = ice_track_cursor_of(md, &t->cursor, &err)) == ICE_OK) {
		t->have_cursor = true;
		t->cat->dropped = false;
		if (md->last_updated_ms > t->cat->last_updated_ms)
			t->cat->last_updated_ms = md->last_updated_ms;
		free(t->last_error);
		t->last_error = NULL;
	}
out:
	ice_loaded_table_clear(&job->out);
	free(ev);
	ice_metadata_free(md);
	return rc;
}

static bool has_target(const tables *ts, const char *catalog, const ice_table_ident *id)
{
	char *name = ice_table_ident_format(id);
	bool found = false;

	for (int i = 0; name && i < ts->n && !found; i++) {
		const ice_snapcat *c = ts->v[i].cat;
		found = c && strcmp(c->ident.name, id->name) == 0 &&
		        ((!catalog && !c->catalog) || (catalog && c->catalog && strcmp(catalog, c->catalog) == 0)) &&
		        strcmp(c->name + (c->catalog ? strlen(c->catalog) + 1 : 0), name) == 0;
	}
	free(name);
	return found;
}

/* Each pattern's namespace listed again: tables created since join the
 * watch (those dropped stay, to be seen again if recreated). A listing
 * that fails is reported like a table's error. */
static int relist(tables *ts, bool first, bool *failed)
{
	for (int p = 0; p < ts->n_pat; p++) {
		pattern *pat = &ts->pat[p];
		ice_ident_list l = { 0 };
		ice_err err = { 0 };
		int rc = ice_snapcat_list(pat->catalog, &pat->ns, &l, &err);

		if (rc) {
			ice_cli_error("%s: %s", pat->text, err.msg);
			*failed = true;
		}
		for (size_t i = 0; i < l.n && !rc; i++) {
			char *name;

			if (has_target(ts, pat->catalog, &l.v[i]))
				continue;
			if (!(name = ice_table_ident_format(&l.v[i])))
				rc = ICE_ENOMEM;
			else if ((rc = add_catalog_target(ts, pat->catalog, name, &err)) == ICE_OK && !first)
				/* Created since the watch began: every snapshot is new,
				 * as after an empty table. */
				ts->v[ts->n - 1].have_cursor = true;
			free(name);
		}
		ice_ident_list_clear(&l);
		if (rc == ICE_ENOMEM)
			return rc;
	}
	return ICE_OK;
}

/* The round's loads of every catalog table, at once. */
static void load_round(tables *ts)
{
	ice_snapcat **v = calloc((size_t)ts->n + 1, sizeof *v);
	size_t n = 0;

	if (!v) {
		for (int i = 0; i < ts->n; i++)
			if (ts->v[i].cat) {
				ts->v[i].cat->job.rc = ICE_ENOMEM;
				ice_err_set(&ts->v[i].cat->job.err, ICE_ENOMEM, "out of memory");
			}
		return;
	}
	for (int i = 0; i < ts->n; i++)
		if (ts->v[i].cat)
			v[n++] = ts->v[i].cat;
	if (n)
		ice_snapcat_round(v, n);
	free(v);
}

/* Sleep for the interval; wake early on a signal or when stdout is a pipe
 * whose reader has gone (so an idle watch still ends with its pipeline). */
static void wait_interval(int64_t ms)
{
	struct stat st;
	struct pollfd pfd = { .fd = STDOUT_FILENO, .events = 0 };
	bool is_pipe = fstat(STDOUT_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	int64_t end = ice_monotonic_ms() + ms, left;

	while (!stop_requested && (left = end - ice_monotonic_ms()) > 0) {
		int r = poll(is_pipe ? &pfd : NULL, is_pipe ? 1 : 0, (int)(left > 1000 ? 1000 : left));
		if (r > 0 && (pfd.revents & (POLLERR | POLLHUP))) {
			stop_requested = 1;
			return;
		}
	}
}

/* A catalog table that could not be read, or a namespace that could not
 * be listed, makes the exit status 1 once the watch ends; the other
 * tables are watched on. */
static int catalog_status(const tables *ts, bool failed)
{
	for (int i = 0; i < ts->n && !failed; i++)
		failed = ts->v[i].failed;
	return failed ? ICE_EXIT_FAILURE : ICE_EXIT_OK;
}

static int run_watch(tables *ts, const options *o)
{
	long long emitted = 0;
	bool first = true, failed = false;

	ice_cli_on_stop_signals(on_signal);
	while (!stop_requested) {
		if (relist(ts, first, &failed))
			return ICE_EXIT_FAILURE;
		load_round(ts);
		for (int i = 0; i < ts->n && !stop_requested; i++) {
			target *t = &ts->v[i];
			int rc = t->cat ? watch_catalog(t, o, first, &emitted)
			                : watch_poll(t, o, first, &emitted);
			if (rc == ICE_EPIPE)
				return ICE_EXIT_OK;
			if (rc && (t->cat || (rc != ICE_EFORMAT && rc != ICE_ENOENT)))
				return ICE_EXIT_FAILURE;
			if (o->count && emitted >= o->count)
				return catalog_status(ts, failed);
		}
		first = false;
		if (o->once)
			break;
		wait_interval(o->interval_ms);
	}
	return catalog_status(ts, failed);
}

/* ---- poll ------------------------------------------------------------------ */

/* A table poll cannot read: the line on standard error, and the error
 * record as watch writes it, so that a pipeline hears of the table (ice-diff
 * turns it into a whole-table transition). Returns the read error's code,
 * or the write error's. */
static int poll_error(const target *t, const ice_err *err)
{
	int rc;

	ice_cli_error("%s", err->msg);
	rc = emit_error_record(t, err);
	return rc ? rc : (int)err->code;
}

/* Emit the events of a table since `saved` (NULL: no cursor yet). *md
 * gets the metadata read (caller frees). Read errors are reported here;
 * write errors were reported where they happened. */
static int emit_since(target *t, const options *o, const ice_cursor *saved, ice_metadata **md)
{
	ice_track_event *ev = NULL;
	size_t n = 0;
	long long emitted = 0;
	ice_err err = { 0 };
	int rc;

	*md = NULL;
	if ((rc = load_target(t, md, &err)) ||
	    (rc = ice_track_events(*md, saved, o->from_start, &ev, &n, &err)))
		return poll_error(t, &err);
	rc = emit_events(t, *md, ev, n, &emitted, 0);
	free(ev);
	return rc;
}

static int poll_one(target *t, const options *o, ice_cursor_file *cf)
{
	ice_metadata *md = NULL;
	ice_cursor saved = { 0 }, next = { 0 };
	ice_err err = { 0 };
	int found, rc;

	/* Opening names the table, and cursors are kept by name. */
	if (open_target(t, &err))
		return poll_error(t, &err);
	found = ice_cursor_file_get(cf, target_name(t), &saved);
	rc = emit_since(t, o, found ? &saved : NULL, &md);
	if (rc == ICE_OK && ((rc = ice_track_cursor_of(md, &next, &err)) ||
	                     (rc = ice_cursor_file_set(cf, target_name(t), &next, md->path, &err))))
		ice_cli_error("%s", err.msg);
	ice_cursor_clear(&saved);
	ice_cursor_clear(&next);
	ice_metadata_free(md);
	return rc;
}

static int run_poll(target *targets, int n, const options *o)
{
	ice_cursor_file *cf = NULL;
	ice_err err = { 0 };
	int status = ICE_EXIT_OK, rc;

	if (ice_cursor_file_open(o->state, &cf, &err)) {
		ice_cli_error("%s", err.msg);
		return ICE_EXIT_FAILURE;
	}
	for (int i = 0; i < n; i++) {
		rc = poll_one(&targets[i], o, cf);
		if (rc == ICE_EPIPE)
			goto out; /* nothing reached the reader for sure: keep the old cursor */
		if (rc)
			status = ICE_EXIT_FAILURE;
	}
	/* The cursor moves only once the records are out of our hands. */
	if (ice_jsonl_flush(stdout, &err)) {
		if (err.code != ICE_EPIPE)
			ice_cli_error("%s", err.msg);
		status = ICE_EXIT_FAILURE;
		goto out;
	}
	if (ice_cursor_file_save(cf, &err)) {
		ice_cli_error("%s", err.msg);
		status = ICE_EXIT_FAILURE;
	}
out:
	ice_cursor_file_close(cf);
	return status;
}

/* ---- poll --state cache ------------------------------------------------------ */

/* "cache" names the cursors kept in the cache (any backend); "redis", its
 * first name from when Redis was the only backend, still works. A file of
 * either name is given as ./cache. */
static bool state_in_cache(const char *state)
{
	return state && (strcmp(state, "cache") == 0 || strcmp(state, "redis") == 0);
}

/* The cursor ice-invalidate moves once a transition's invalidation has
 * committed: 1 and *c filled when set, 0 when unset, or an error. */
static int invalidated_cursor(ice_backend *b, const char *table, ice_cursor *c, ice_err *err)
{
	json_t *v = NULL;
	int rc = ice_backend_cursor_get(b, table, "invalidated", &v, err);

	memset(c, 0, sizeof *c);
	if (rc == ICE_ENOENT)
		return 0;
	if (rc)
		return -rc;
	c->has_snapshot = ice_json_get_i64(v, "snapshot_id", &c->snapshot_id);
	json_decref(v);
	return 1;
}

/* Emit everything since the last snapshot fully invalidated. Nothing is
 * saved here: only ice-invalidate moves that cursor, after its work
 * committed, so any failure in between makes the next poll redo it. */
static int poll_backend_one(target *t, const options *o, ice_backend *b)
{
	ice_metadata *md = NULL;
	ice_cursor saved = { 0 };
	ice_err err = { 0 };
	int found, rc;

	if (open_target(t, &err))
		return poll_error(t, &err);
	if ((found = invalidated_cursor(b, target_name(t), &saved, &err)) < 0) {
		ice_cli_error("%s", err.msg);
		return -found;
	}
	rc = emit_since(t, o, found ? &saved : NULL, &md);
	ice_cursor_clear(&saved);
	ice_metadata_free(md);
	return rc;
}

static int run_poll_backend(target *targets, int n, const options *o)
{
	ice_backend *b = NULL;
	int status = ice_cli_open_cache(o->url, o->prefix, &b), rc;

	if (status >= 0)
		return status;
	status = ICE_EXIT_OK;
	for (int i = 0; i < n; i++) {
		rc = poll_backend_one(&targets[i], o, b);
		if (rc == ICE_EPIPE)
			break;
		if (rc == ICE_EBACKEND || rc == ICE_ETIMEOUT) {
			status = ICE_EXIT_BACKEND;
			break;
		}
		if (rc)
			status = ICE_EXIT_FAILURE;
	}
	ice_backend_close(b);
	return status;
}

/* ---- main ------------------------------------------------------------------ */

static int run_each(target *targets, int n, const options *o)
{
	int status = ICE_EXIT_OK;

	for (int i = 0; i < n; i++) {
		int rc = o->cmd == CMD_SHOW ? show_one(&targets[i], o) : log_one(&targets[i], o);
		if (rc == ICE_EPIPE)
			break;
		if (rc)
			status = ICE_EXIT_FAILURE;
	}
	return status;
}

static int parse_command(const char *word, command *cmd)
{
	static const struct { const char *name; command cmd; } cmds[] = {
		{ "show", CMD_SHOW }, { "log", CMD_LOG }, { "watch", CMD_WATCH }, { "poll", CMD_POLL },
		{ "ls", CMD_LS },
	};

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(word, cmds[i].name) == 0) {
			*cmd = cmds[i].cmd;
			return 0;
		}
	return -1;
}

enum { OPT_NAME = 256, OPT_REF, OPT_ONCE, OPT_FROM_START, OPT_PREFIX, OPT_STATS, OPT_CATALOG };

static const struct option long_options[] = {
	{ "name", required_argument, NULL, OPT_NAME },
	{ "ref", required_argument, NULL, OPT_REF },
	{ "all", no_argument, NULL, 'a' },
	{ "interval", required_argument, NULL, 'i' },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "count", required_argument, NULL, 'n' },
	{ "from-start", no_argument, NULL, OPT_FROM_START },
	{ "state", required_argument, NULL, 's' },
	{ "url", required_argument, NULL, 'u' },
	{ "prefix", required_argument, NULL, OPT_PREFIX },
	ICE_CLI_STORAGE_LONG_OPTIONS,
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "catalog", required_argument, NULL, OPT_CATALOG },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Returns -1 to go on, else the exit status. */
static int parse_option(int c, options *o)
{
	ice_err err;

	switch (c) {
	case OPT_NAME: o->name = optarg; break;
	case OPT_REF: o->ref = optarg; break;
	case 'a': o->all = true; break;
	case 'v': o->stats = true; break;
	case OPT_ONCE: o->once = true; break;
	case OPT_FROM_START: o->from_start = true; break;
	case 's': o->state = optarg; break;
	case 'u': o->url = optarg; break;
	case OPT_PREFIX: o->prefix = optarg; break;
	case OPT_STATS: o->stats = true; break;
	case OPT_CATALOG: o->catalog = optarg; break;
	case 'i':
		if (ice_parse_duration(optarg, &o->interval_ms, &err))
			return ice_cli_usage_error("--interval: %s", err.msg);
		break;
	case 'n':
		if (!ice_cli_parse_count(optarg, &o->count) || o->count == 0)
			return ice_cli_usage_error("--count: '%s' is not a positive number", optarg);
		break;
	case 'h': fputs(usage_text, stdout); return ice_cli_finish(ICE_EXIT_OK);
	case 'V': ice_cli_version(); return ice_cli_finish(ICE_EXIT_OK);
	default:
		if (ice_cli_storage_option(c, optarg, &o->storage))
			break;
		return -2; /* reported by the caller, which has argv */
	}
	return -1;
}

/* Flags that only one command takes are refused elsewhere. */
static int check_options(const options *o, int ntables)
{
	if (o->cmd == CMD_LS)
		return ntables > 1 ? ice_cli_usage_error("ls takes one NAMESPACE at most") : -1;
	if (ntables == 0)
		return ice_cli_usage_error("no TABLE given");
	if (o->name && ntables > 1)
		return ice_cli_usage_error("--name applies to a single TABLE; use NAME=TABLE");
	if (o->cmd == CMD_LOG && ntables > 1)
		return ice_cli_usage_error("log takes one TABLE");
	if (o->all && o->cmd != CMD_LOG)
		return ice_cli_usage_error("--all is for log");
	if (o->all && o->ref)
		return ice_cli_usage_error("--all and --ref exclude each other");
	if (o->ref && o->cmd != CMD_SHOW && o->cmd != CMD_LOG)
		return ice_cli_usage_error("--ref is for show and log");
	if ((o->once || o->count || o->interval_ms) && o->cmd != CMD_WATCH)
		return ice_cli_usage_error("--interval, --once and --count are for watch");
	if (o->from_start && o->cmd != CMD_WATCH && o->cmd != CMD_POLL)
		return ice_cli_usage_error("--from-start is for watch and poll");
	if ((o->cmd == CMD_POLL) != (o->state != NULL))
		return ice_cli_usage_error(o->state ? "--state is for poll" : "poll needs --state PATH");
	if ((o->url || o->prefix) && !state_in_cache(o->state))
		return ice_cli_usage_error("--url and --prefix go with poll --state cache");
	return -1;
}

/* ice-snapshot ls [NAMESPACE]. */
static int run_ls(const char *arg)
{
	ice_err err = { 0 };
	int rc = ice_snapcat_ls(arg, &err);

	if (rc)
		ice_cli_error("%s", err.msg);
	return rc == ICE_OK ? ICE_EXIT_OK : rc == ICE_EINVAL ? ICE_EXIT_USAGE : ICE_EXIT_FAILURE;
}

static int init_all(tables *ts, int argc, char **argv, const options *o)
{
	ice_err err = { 0 };

	for (int i = 0; i < argc; i++) {
		int rc = init_target(ts, argv[i], o, &err);
		if (rc == ICE_ENOMEM) {
			ice_cli_error("out of memory");
			return ICE_EXIT_FAILURE;
		}
		if (rc)
			return ice_cli_usage_error("%s", err.msg);
	}
	return -1;
}

int main(int argc, char **argv)
{
	options o = { 0 };
	tables ts = { 0 };
	const ice_config *cfg;
	int c, status, ntables = 0;

	ice_cli_init("ice-snapshot");
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ai:n:s:u:vhV", long_options, NULL)) != -1) {
		status = parse_option(c, &o);
		if (status == -2)
			status = ice_cli_bad_option(c, argv);
		if (status >= 0)
			goto out;
	}
	if (optind >= argc) {
		status = ice_cli_usage_error("no COMMAND given (show, log, watch or poll)");
		goto out;
	}
	if (parse_command(argv[optind], &o.cmd) != 0) {
		status = ice_cli_usage_error("unknown command '%s'", argv[optind]);
		goto out;
	}
	ntables = argc - optind - 1;
	if ((status = check_options(&o, ntables)) >= 0)
		goto out;
	if (!o.interval_ms)
		o.interval_ms = DEFAULT_INTERVAL_MS;
	if ((status = ice_cli_config(&cfg)) >= 0)
		goto out;
	ice_cli_catalog_flag(o.catalog);
	if (o.cmd == CMD_LS) {
		status = ice_cli_finish(run_ls(ntables ? argv[optind + 1] : NULL));
		goto out;
	}
	if ((status = init_all(&ts, ntables, argv + optind + 1, &o)) >= 0 ||
	    (status = open_storage(&ts, &o)) >= 0)
		goto out;
	switch (o.cmd) {
	case CMD_WATCH: status = run_watch(&ts, &o); break;
	case CMD_POLL:
		status = state_in_cache(o.state) ? run_poll_backend(ts.v, ts.n, &o)
		                                       : run_poll(ts.v, ts.n, &o);
		break;
	default: status = run_each(ts.v, ts.n, &o); break;
	}
	if (o.stats)
		ice_cli_storage_summary(storage, NULL);
	status = ice_cli_finish(status);
out:
	free_targets(&ts);
	ice_storage_close(storage);
	return status;
}
