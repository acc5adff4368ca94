/* ice-stat: the cache's metrics for people (a summary, refreshed in place
 * with --watch), scripts (--json) and Prometheus (--prometheus, serve). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli-cache.h"
#include "ice-stat-serve.h"
#include "ice_backend.h"
#include "ice_fileio.h"
#include "ice_jsonl.h"
#include "ice_stats.h"
#include "ice_time.h"

static const char usage_text[] =
	"Usage: ice-stat [OPTION]...\n"
	"       ice-stat serve [--listen ADDR:PORT] [OPTION]...\n"
	"       ice-stat reset [--table T] [--yes] [OPTION]...\n"
	"Show the cache's hits, misses, puts, invalidations, evictions and the\n"
	"entries and bytes of each table; serve them to Prometheus; reset the counters.\n"
	"\n"
	"Options:\n"
	"  -u, --url URL           the cache (default: $ICE_CACHE_URL)\n"
	"      --prefix P          key namespace (default: icecache)\n"
	"  -j, --json              one JSON object on one line (with --watch: one per refresh)\n"
	"  -p, --prometheus        the Prometheus text exposition format\n"
	"  -o, --output FILE       with --prometheus: write FILE through a temporary file and\n"
	"                          a rename (node_exporter's textfile collector)\n"
	"  -w, --watch DUR         refresh every DUR (2s, 500ms, 1m) until interrupted; on a\n"
	"                          terminal the summary is redrawn in place\n"
	"  -n, --count N           with --watch: stop after N refreshes\n"
	"  -l, --listen ADDR:PORT  serve: where to listen (default " ICE_STAT_DEFAULT_LISTEN ";\n"
	"                          [::1]:PORT for IPv6, port 0 for any free port)\n"
	"      --table T           reset: only table T's counters\n"
	"  -y, --yes               reset: do not ask for confirmation\n"
	"  -h, --help              show this help and exit\n"
	"  -V, --version           show versions and exit\n"
	"\n"
	"Entries and bytes per table come from a scan of every entry.\n"
	"Exit status: 0 success, 1 failure (reset not confirmed, a file not written),\n"
	"2 usage error, 3 the cache is unreachable or failed.\n"
	"See ice-stat(1).\n";

typedef enum { VIEW_TEXT, VIEW_JSON, VIEW_PROMETHEUS } view;

typedef struct {
	const char *url, *prefix, *output, *listen, *table;
	view view;
	int64_t watch_ms;
	long long count;
	bool yes;
	/* The cache as resolve_url found it: url then points to target_url
	 * (malloc'd), bo holds the prefix, timeouts and reconnect budget for
	 * every connection this program opens. */
	char *target_url;
	ice_backend_opts bo;
} options;

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int status_of(int rc)
{
	if (rc == ICE_OK)
		return ICE_EXIT_OK;
	return rc == ICE_EBACKEND || rc == ICE_ETIMEOUT ? ICE_EXIT_BACKEND : ICE_EXIT_FAILURE;
}

/* ---- the summary -------------------------------------------------------------- */

static const char *human_bytes(long long n, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%lld B", n);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}

static const char *human_age(long long s, char *buf, size_t size)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, size, "%llds ago", s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm %02llds ago", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, size, "%lldh %02lldm ago", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%lldd %02lldh ago", s / 86400, s % 86400 / 3600);
	return buf;
}

static long long num(const json_t *o, const char *field)
{
	return (long long)json_integer_value(json_object_get(o, field));
}

static const char *hit_rate(const json_t *o, char *buf, size_t size)
{
	const json_t *r = json_object_get(o, "hit_rate");

	if (!json_is_number(r))
		return "-";
	snprintf(buf, size, "%.1f%%", json_number_value(r) * 100.0);
	return buf;
}

/* A table's name as the summary shows it: its "table" (a string, or
 * {"hex":...} for bytes that are not UTF-8) with control characters and
 * stray bytes escaped, so no name can drive the terminal; *cols its
 * width. A new string, or NULL when out of memory. */
static char *shown_name(const json_t *t, size_t *cols)
{
	return ice_json_text_shown(json_object_get(t, "table"), cols);
}

static void print_row(int w, const char *name, size_t cols, const json_t *o, const char *last)
{
	char bytes[32], rate[16];

	printf("%s%*s %9lld %11s %9lld %9lld %8s %9lld %13lld %11lld%s%s\n", name,
	       (int)cols < w ? w - (int)cols : 0, "", num(o, "entries"),
	       human_bytes(num(o, "bytes"), bytes, sizeof bytes), num(o, "hits"), num(o, "misses"),
	       hit_rate(o, rate, sizeof rate), num(o, "puts"), num(o, "invalidations"), num(o, "invalidated"),
	       last ? "  " : "", last ? last : "");
}

static const char *last_text(const json_t *t, char *buf, size_t size)
{
	const json_t *l = json_object_get(t, "last_invalidated");
	char age[32];

	if (!json_is_object(l))
		return "-";
	if (json_object_get(l, "age_s"))
		snprintf(buf, size, "%lld, %s", num(l, "snapshot_id"), human_age(num(l, "age_s"), age, sizeof age));
	else
		snprintf(buf, size, "%lld", num(l, "snapshot_id"));
	return buf;
}

/* The embedded store in its own terms: its file, what its entries take,
 * its limit, what left it (this cache only: nothing else shares it). */
static void print_file_store(const json_t *s)
{
	char file[32], used[32], max[32];

	printf("file %s, entries %s, limit %s; evicted %lld entries, expired %lld entries",
	       human_bytes(num(s, "file_bytes"), file, sizeof file),
	       human_bytes(num(s, "used_bytes"), used, sizeof used),
	       num(s, "max_bytes") > 0 ? human_bytes(num(s, "max_bytes"), max, sizeof max) : "none",
	       num(s, "evicted"), num(s, "expired"));
}

static void print_redis_server(const json_t *s)
{
	char used[32], max[32];

	if (json_object_get(s, "used_bytes"))
		printf("memory %s used, %s; ", human_bytes(num(s, "used_bytes"), used, sizeof used),
		       num(s, "max_bytes") > 0 ? human_bytes(num(s, "max_bytes"), max, sizeof max) : "no limit");
	if (json_object_get(s, "evicted"))
		printf("evicted %lld keys, expired %lld keys (whole server)", num(s, "evicted"), num(s, "expired"));
}

static void print_server(const json_t *stats)
{
	const json_t *s = json_object_get(stats, "server");
	char when[ICE_TIME_BUF], *location;

	ice_format_time_ms(num(stats, "time_ms"), when);
	when[10] = ' '; /* 2026-11-22 04:48:40 UTC: no milliseconds for people */
	location = ice_json_text_shown(json_object_get(stats, "location"), NULL);
	printf("IceCache  %s %s  %.19s UTC\n", json_string_value(json_object_get(stats, "backend")),
	       location ? location : "?", when);
	free(location);
	if (json_object_get(s, "file_bytes")) /* the embedded store: a file of its own */
		print_file_store(s);
	else
		print_redis_server(s);
	printf("\n\n");
}

/* Entries over several tables (cached joins) count once, under their home
 * table; this line says which tables they also depend on. */
static void print_shared(const json_t *tables)
{
	const json_t *t;
	size_t i;
	int any = 0;

	json_array_foreach(tables, i, t) {
		char *name;
		if (num(t, "shared_entries") <= 0)
			continue;
		name = shown_name(t, NULL);
		printf("%s%s %lld", any++ ? ", " : "\nentries over several tables: ", name ? name : "?",
		       num(t, "shared_entries"));
		free(name);
	}
	if (any)
		putchar('\n');
}

static void print_summary(const json_t *stats)
{
	const json_t *tables = json_object_get(stats, "tables"), *t;
	size_t n = json_array_size(tables), i;
	char last[96], **names = calloc(n + 1, sizeof *names);
	size_t *cols = calloc(n + 1, sizeof *cols);
	int w = 5;

	if (!names || !cols) { /* no memory: every name shows as "?" */
		free(names);
		free(cols);
		names = NULL;
		cols = NULL;
	}
	/* each name made visible once: for the column's width, then its row */
	json_array_foreach(tables, i, t) {
		if (names && (names[i] = shown_name(t, &cols[i])) && (int)cols[i] > w)
			w = (int)cols[i];
	}
	print_server(stats);
	printf("%-*s %9s %11s %9s %9s %8s %9s %13s %11s  %s\n", w, "TABLE", "ENTRIES", "BYTES", "HITS", "MISSES",
	       "HIT RATE", "PUTS", "INVALIDATIONS", "INVALIDATED", "LAST INVALIDATED");
	json_array_foreach(tables, i, t) {
		bool named = names && names[i];
		print_row(w, named ? names[i] : "?", named ? cols[i] : 1, t, last_text(t, last, sizeof last));
	}
	print_row(w, "(all)", strlen("(all)"), json_object_get(stats, "totals"), NULL);
	print_shared(tables);
	for (i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	free(cols);
}

/* ---- output -------------------------------------------------------------------- */

/* Write text to path through a temporary file in the same folder and a
 * rename, so a reader (node_exporter) never sees a half-written file. */
/* The textfile collector reads the file as another user: world-readable
 * as the umask allows, replaced in one step. */
static int write_atomically(const char *path, const char *text, size_t len)
{
	mode_t mask = umask(0);
	ice_atomic_file af;
	ice_err err = { 0 };
	int rc;

	umask(mask);
	if ((rc = ice_atomic_begin(&af, path, 0666 & ~mask, &err)) == ICE_OK) {
		if (ice_write_all(af.fd, text, len) == 0)
			rc = ice_atomic_commit(&af, &err);
		else {
			rc = ice_err_set(&err, ICE_EIO, "%s: %s", af.tmp, strerror(errno));
			ice_atomic_abort(&af);
		}
	}
	if (rc) {
		ice_cli_error("%s", err.msg);
		return ICE_EXIT_FAILURE;
	}
	return ICE_EXIT_OK;
}

static int show_prometheus(const json_t *stats, double seconds, const options *o)
{
	char *text = NULL;
	size_t len = 0;
	ice_err err = { 0 };
	int status;

	if (ice_stats_prometheus(stats, ice_stats_backend_label(o->url), seconds, &text, &len, &err)) {
		ice_cli_error("%s", err.msg);
		return ICE_EXIT_FAILURE;
	}
	if (o->output) {
		status = write_atomically(o->output, text, len);
	} else {
		fwrite(text, 1, len, stdout); /* errors: ice_cli_finish (quiet on EPIPE) */
		status = ICE_EXIT_OK;
	}
	free(text);
	return status;
}

/* Show one collection; stats NULL: the cache failed (only Prometheus has a
 * way to say so in its output). */
static int show(const json_t *stats, double seconds, const options *o, bool redraw)
{
	if (o->view == VIEW_PROMETHEUS)
		return show_prometheus(stats, seconds, o);
	if (!stats)
		return ICE_EXIT_OK;
	if (o->view == VIEW_JSON)
		return status_of(ice_cli_emit(json_incref((json_t *)stats)));
	if (redraw)
		fputs("\033[H\033[2J", stdout);
	print_summary(stats);
	return ICE_EXIT_OK;
}

/* ---- collect, once or every interval ------------------------------------------ */

static int collect(ice_backend **b, const options *o, json_t **stats, ice_err *err)
{
	ice_backend_opts bo = o->bo;
	int rc;

	if (!*b && (rc = ice_backend_open(o->url, &bo, b, err)))
		return rc;
	if ((rc = ice_stats_collect(*b, stats, err)) == ICE_EBACKEND || rc == ICE_ETIMEOUT) {
		ice_backend_close(*b); /* unusable now: open again next time */
		*b = NULL;
	}
	return rc;
}

static void sleep_until(int64_t deadline)
{
	int64_t left;

	while (!stop_requested && (left = deadline - ice_monotonic_ms()) > 0) {
		struct timespec ts = { (time_t)(left / 1000), (long)(left % 1000) * 1000000L };
		nanosleep(&ts, NULL); /* a signal cuts it short */
	}
}

/* With --watch a failing cache is reported and tried again at the next
 * refresh; without, it ends the run with exit 3. A watch ends on SIGINT or
 * SIGTERM (the status of its last refresh) or after --count refreshes. */
static int run_show(const options *o)
{
	ice_backend *b = NULL;
	bool redraw = o->watch_ms && o->view == VIEW_TEXT && isatty(STDOUT_FILENO);
	long long done = 0;
	int status = ICE_EXIT_OK;

	if (o->watch_ms)
		ice_cli_on_stop_signals(on_stop_signal);
	while (!stop_requested) {
		int64_t t0 = ice_monotonic_ms();
		json_t *stats = NULL;
		ice_err err = { 0 };
		int rc = collect(&b, o, &stats, &err);

		status = ICE_EXIT_OK; /* the last refresh decides */
		if (rc) {
			ice_cli_error("%s", err.msg);
			status = status_of(rc);
			if (!o->watch_ms || (rc != ICE_EBACKEND && rc != ICE_ETIMEOUT))
				break;
		}
		if ((rc = show(stats, (double)(ice_monotonic_ms() - t0) / 1000.0, o, redraw)))
			status = rc;
		json_decref(stats);
		if (ice_cli_flush() != ICE_OK || !o->watch_ms || (o->count && ++done >= o->count))
			break;
		sleep_until(t0 + o->watch_ms);
	}
	ice_backend_close(b);
	return status;
}

/* ---- reset ------------------------------------------------------------------------ */

static bool confirmed(ice_backend *b, const options *o)
{
	json_t *info = NULL;
	char line[64] = "";
	bool yes;

	ice_backend_server_info(b, &info, NULL);
	fprintf(stderr, "%s: reset the counters of %s%s in %s? [y/N] ", ice_cli_program(),
	        o->table ? "table " : "every table and the totals", o->table ? o->table : "",
	        json_string_value(json_object_get(info, "location")) ? json_string_value(json_object_get(info, "location"))
	                                                              : "the cache");
	json_decref(info);
	if (!fgets(line, sizeof line, stdin))
		return false;
	yes = strcmp(line, "y\n") == 0 || strcmp(line, "yes\n") == 0 || strcmp(line, "Y\n") == 0;
	if (!yes)
		fprintf(stderr, "%s: nothing reset\n", ice_cli_program());
	return yes;
}

static int run_reset(const options *o, int argc)
{
	ice_backend *b = NULL;
	ice_err err = { 0 };
	int status, rc;

	if (argc)
		return ice_cli_usage_error("reset takes no argument (use --table T)");
	if (!o->yes && !isatty(STDIN_FILENO))
		return ice_cli_usage_error("reset: standard input is not a terminal to ask on; give --yes to confirm");
	if ((status = ice_cli_open_cache(o->url, o->prefix, &b)) >= 0)
		return status;
	if (!o->yes && !confirmed(b, o)) {
		status = ICE_EXIT_FAILURE;
	} else if ((rc = ice_backend_counters_reset(b, o->table, &err))) {
		ice_cli_error("%s", err.msg);
		status = status_of(rc);
	} else {
		status = ICE_EXIT_OK;
	}
	ice_backend_close(b);
	return status;
}

/* ---- options and main ------------------------------------------------------------ */

enum { OPT_PREFIX = 256, OPT_TABLE };

static const struct option long_options[] = {
	{ "url", required_argument, NULL, 'u' },
	{ "prefix", required_argument, NULL, OPT_PREFIX },
	{ "json", no_argument, NULL, 'j' },
	{ "prometheus", no_argument, NULL, 'p' },
	{ "output", required_argument, NULL, 'o' },
	{ "watch", required_argument, NULL, 'w' },
	{ "count", required_argument, NULL, 'n' },
	{ "listen", required_argument, NULL, 'l' },
	{ "table", required_argument, NULL, OPT_TABLE },
	{ "yes", no_argument, NULL, 'y' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int set_view(options *o, view v)
{
	if (o->view != VIEW_TEXT && o->view != v)
		return ice_cli_usage_error("--json and --prometheus exclude each other");
	o->view = v;
	return -1;
}

static int parse_option(int c, char **argv, options *o)
{
	ice_err err;

	switch (c) {
	case 'u': o->url = optarg; break;
	case OPT_PREFIX: o->prefix = optarg; break;
	case 'j': return set_view(o, VIEW_JSON);
	case 'p': return set_view(o, VIEW_PROMETHEUS);
	case 'o': o->output = optarg; break;
	case 'w':
		if (ice_parse_duration(optarg, &o->watch_ms, &err))
			return ice_cli_usage_error("--watch: %s", err.msg);
		break;
	case 'n':
		if (!ice_cli_parse_count(optarg, &o->count) || o->count == 0)
			return ice_cli_usage_error("--count: '%s' is not a positive number", optarg);
		break;
	case 'l': o->listen = optarg; break;
	case OPT_TABLE: o->table = optarg; break;
	case 'y': o->yes = true; break;
	case 'h': fputs(usage_text, stdout); return ice_cli_finish(ICE_EXIT_OK);
	case 'V': ice_cli_version(); return ice_cli_finish(ICE_EXIT_OK);
	default: return ice_cli_bad_option(c, argv);
	}
	return -1;
}

/* Options that belong to another command than cmd ("" for the summary). */
static int check_combination(const options *o, const char *cmd)
{
	bool show = !*cmd, serve = strcmp(cmd, "serve") == 0, reset = strcmp(cmd, "reset") == 0;

	if (!show && !serve && !reset)
		return ice_cli_usage_error("unknown command '%s' (serve, reset)", cmd);
	if (!show && (o->view != VIEW_TEXT || o->watch_ms || o->count || o->output))
		return ice_cli_usage_error("%s: --json, --prometheus, --output, --watch and --count are for the summary", cmd);
	if (o->output && o->view != VIEW_PROMETHEUS)
		return ice_cli_usage_error("--output needs --prometheus");
	if (o->count && !o->watch_ms)
		return ice_cli_usage_error("--count needs --watch");
	if (o->listen && !serve)
		return ice_cli_usage_error("--listen is for 'ice-stat serve'");
	if ((o->table || o->yes) && !reset)
		return ice_cli_usage_error("--table and --yes are for 'ice-stat reset'");
	return -1;
}

/* The cache (flag, environment, configuration file, embedded default),
 * checked before any connection: a malformed URL is a usage error, an
 * unreachable cache is not (serve and --watch keep trying). */
static int resolve_url(options *o)
{
	ice_backend_url u;
	ice_err err = { 0 };
	int status;

	o->bo.prefix = o->prefix;
	if ((status = ice_cli_cache_target(o->url, &o->bo, &o->target_url)) >= 0)
		return status;
	o->url = o->target_url;
	o->prefix = o->bo.prefix;
	if (ice_backend_url_parse(o->url, &u, &err))
		return ice_cli_usage_error("%s", err.msg);
	ice_backend_url_clear(&u);
	return -1;
}

static int run_serve(options *o, int argc)
{
	ice_stats_scrape_opts scrape;
	int status;

	if (argc)
		return ice_cli_usage_error("serve takes no argument (use --listen ADDR:PORT)");
	if ((status = resolve_url(o)) >= 0)
		return status;
	scrape.url = o->url;
	scrape.backend = o->bo;
	return ice_stat_serve(&scrape, o->listen ? o->listen : ICE_STAT_DEFAULT_LISTEN);
}

int main(int argc, char **argv)
{
	options o = { 0 };
	const char *cmd;
	int c, status;

	ice_cli_init("ice-stat");
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":u:jpo:w:n:l:yhV", long_options, NULL)) != -1)
		if ((status = parse_option(c, argv, &o)) >= 0)
			return status;
	cmd = optind < argc ? argv[optind++] : "";
	if ((status = check_combination(&o, cmd)) >= 0)
		return status;
	if (strcmp(cmd, "serve") == 0)
		status = ice_cli_finish(run_serve(&o, argc - optind));
	else if (strcmp(cmd, "reset") == 0)
		status = ice_cli_finish(run_reset(&o, argc - optind));
	else if ((status = resolve_url(&o)) < 0)
		status = ice_cli_finish(run_show(&o));
	free(o.target_url);
	return status;
}
