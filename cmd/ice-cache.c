/* ice-cache: the cache itself from the command line: put, get, rm, ls,
 * info, gc and migrate on the backend ice-invalidate keeps correct; exec and
 * fetch; export and import of tar archives; an interactive shell over the
 * same commands. Every subcommand and option is declared once, in the
 * tables near the end (cache-cmd.h); fetch's policy is in ice_readthrough.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache-cmd.h"
#include "cache-shell.h"
#include "cli.h"
#include "cli-config.h"
#include "cli-cache.h"
#include "cli-storage.h"
#include "ice_archive.h"
#include "ice_backend.h"
#include "ice_config.h"
#include "ice_derive.h"
#include "ice_exec.h"
#include "ice_fetch.h"
#include "ice_storage.h"
#include "cache-tags.h"
#include "ice_fileio.h"
#include "ice_jsonl.h"
#include "ice_words.h"
#include "ice_migrate.h"
#include "ice_once.h"
#include "ice_readthrough.h"
#include "ice_text.h"
#include "ice_time.h"
#include "ice_ttl.h"

#define MAX_VALUE (512u * 1024u * 1024u) /* Redis's largest string */
#define MAX_TAGS 256
#define MAX_LIST 64 /* --source, --header, --key-header */

/* The usage text around the list of commands, which comes from the table. */
static const char usage_head[] =
	"Usage: ice-cache [OPTION]... COMMAND [ARG]...\n"
	"Put, get and browse IceCache entries.\n"
	"\n"
	"Commands:\n";

static const char usage_tail[] =
	"\n"
	"Tags (put; repeatable):\n"
	"      --table T           table:T          --partition T:KEY  partition:T:KEY\n"
	"      --file T:PATH       file:T:PATH      --snapshot T:ID    snapshot:T:ID\n"
	"      --tag TAG           any tag\n"
	"                          (tags may name several tables: a commit to any of\n"
	"                          them invalidates the entry)\n"
	"      --strict            put, exec, fetch: refuse tags that can never be\n"
	"                          invalidated\n"
	"                          (a table the pipeline never saw, a partition field\n"
	"                          the table lacks, a relative file path, tags naming\n"
	"                          no table on an entry without TTL); without it they\n"
	"                          are warnings\n"
	"\n"
	"Options:\n"
	"  -u, --url URL           the cache: redis://[user:password@]host[:port][/db],\n"
	"                          redis+cluster://[user:password@]host:port[,host:port...],\n"
	"                          unix:///path/redis.sock[?db=N] or sqlite:///path/cache.db\n"
	"                          (default: $ICE_CACHE_URL, the config file, else the\n"
	"                          embedded cache $XDG_CACHE_HOME/icecache/cache.db)\n"
	"      --prefix P          key namespace (default: icecache)\n"
	"      --max-size SIZE     embedded cache: keep it under SIZE (64M, 2G; 0: no\n"
	"                          limit), evicting the least recently used entries\n"
	"  -t, --ttl HINT          put, exec, fetch: DURATION (30s, 10m, 1h, 7d),\n"
	"                          until-invalidated, or smart (exec, fetch default)\n"
	"      --value V           put: the value (default: standard input)\n"
	"      --dry-run           import: check the archive, store nothing\n"
	"\n"
	"exec options:\n"
	"      --key-from-args     derive KEY from COMMAND and the --source files\n"
	"      --source PATH       an input file: its size and mtime join the key\n"
	"      --lock-timeout DUR  longest a run holds the key's lock (default 5m)\n"
	"\n"
	"fetch options:\n"
	"  -o, --output FILE       write to FILE (atomically) instead of stdout\n"
	"  -H, --header 'N: V'     send a request header (part of the key)\n"
	"      --key-header N      only these -H headers are part of the key\n"
	"  -X, --request METHOD    HTTP method (default GET, POST with --data)\n"
	"      --data DATA         request body (part of the key)\n"
	"      --timeout DUR       whole transfer (default 60s)\n"
	"      --max-redirs N      redirects to follow (default 5)\n"
	"      --endpoint-url URL  s3://: an S3-compatible store (default:\n"
	"                          $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL,\n"
	"                          s3_endpoint_url, else AWS)\n"
	"      --profile NAME      s3://: the AWS profile of the keys\n"
	"      --no-sign-request   s3://: unsigned requests (public buckets)\n"
	"  -v, --verbose           s3://: what the store was asked, on stderr\n"
	"\n"
	"  -h, --help              show this help and exit\n"
	"  -V, --version           show versions and exit\n"
	"\n"
	"Exit status: 0 success (get: hit), 1 get: miss / info: no such entry or\n"
	"another failure, 2 usage error, 3 the cache is unreachable or failed;\n"
	"exec: COMMAND's status (128+N for signal N). exec and fetch warn and run\n"
	"uncached when the cache is unreachable.\n"
	"See ice-cache(1) and icecache-keys(7).\n";

/* exec and fetch only. */
typedef struct {
	bool key_from_args;
	const char *sources[MAX_LIST], *headers[MAX_LIST], *key_headers[MAX_LIST];
	size_t n_sources, n_headers, n_key_headers;
	int64_t lock_timeout_ms, timeout_ms;
	long max_redirects; /* -1: not given */
	const char *output, *method, *data;
	char **command; /* after "--", NULL-terminated; NULL when none */
	ice_cli_storage_flags storage; /* fetch s3:// */
	bool verbose;                  /* fetch s3://: the requests made, at the end */
} run_options;

typedef struct ice_cache_options {
	const char *url, *prefix, *value, *table_filter, *tag_filter;
	bool dry_run, strict;
	ice_ttl ttl;
	int64_t max_bytes; /* --max-size: 0 not given, < 0 no limit */
	char *tags[MAX_TAGS];
	size_t n_tags;
	run_options run;
} options;

/* Set while the shell runs: output is for a person at a prompt. */
static bool in_shell;

static int status_of(int rc)
{
	if (rc == ICE_OK)
		return ICE_EXIT_OK;
	return rc == ICE_EBACKEND || rc == ICE_ETIMEOUT ? ICE_EXIT_BACKEND : ICE_EXIT_FAILURE;
}

static int fail(int rc, const ice_err *err)
{
	ice_cli_error("%s", err->msg);
	return status_of(rc);
}

/* ---- put ------------------------------------------------------------------ */

/* Tags that can never be invalidated (no_ttl: the entry will have no TTL,
 * so tags naming no table are too): warnings, or with --strict (or
 * strict_tags = true) a refusal. -1: go on. */
static int check_tags(ice_backend *b, const options *o, bool no_ttl)
{
	const ice_config *cfg;
	bool strict = o->strict || (ice_cli_config(&cfg) < 0 && cfg->strict_tags);

	return ice_cache_check_tags(b, (const char *const *)o->tags, o->n_tags, no_ttl, strict);
}

static int read_stdin(char **buf, size_t *len)
{
	size_t cap = 64 * 1024, n = 0, got;
	char *p = malloc(cap);

	while (p && (got = fread(p + n, 1, cap - n, stdin)) > 0) {
		n += got;
		if (n == cap) {
			char *q = cap >= MAX_VALUE ? NULL : realloc(p, cap *= 2);
			if (!q) {
				free(p);
				ice_cli_error("standard input: value larger than %u bytes", MAX_VALUE);
				return -1;
			}
			p = q;
		}
	}
	if (!p || ferror(stdin)) {
		ice_cli_error("standard input: %s", p ? strerror(errno) : "out of memory");
		free(p);
		return -1;
	}
	*buf = p;
	*len = n;
	return 0;
}

/* --ttl, else default_ttl from the configuration, else none ("smart" means
 * the configured default for put). */
static int64_t put_ttl_ms(const options *o)
{
	const ice_config *cfg;
	ice_ttl none = { ICE_TTL_UNSET, 0 }, t = o->ttl;

	if (ice_cli_config(&cfg) >= 0)
		return 0; /* already reported when the cache was opened */
	if (t.kind == ICE_TTL_SMART)
		t = none;
	return ice_ttl_ms(ice_ttl_first(t, cfg->default_ttl, none));
}

static int cmd_put(ice_backend **b, const options *o, int argc, char **argv)
{
	char *buf = NULL;
	size_t len;
	ice_err err = { 0 };
	int rc;

	if (argc != 1)
		return ice_cli_usage_error("put takes one KEY");
	if ((rc = check_tags(*b, o, put_ttl_ms(o) == 0)) >= 0)
		return rc;
	if (o->value) {
		buf = strdup(o->value);
		len = strlen(o->value);
	} else if (read_stdin(&buf, &len) != 0) {
		return ICE_EXIT_FAILURE;
	}
	rc = ice_backend_put(*b, argv[0], buf, len, (const char *const *)o->tags, o->n_tags,
	                     put_ttl_ms(o), "put", &err);
	free(buf);
	return rc ? fail(rc, &err) : ICE_EXIT_OK;
}

/* ---- get, rm, gc ------------------------------------------------------------ */

static int cmd_get(ice_backend **b, const options *o, int argc, char **argv)
{
	void *val = NULL;
	size_t len = 0;
	ice_err err = { 0 };
	int rc;

	(void)o;
	if (argc != 1)
		return ice_cli_usage_error("get takes one KEY");
	rc = ice_backend_get(*b, argv[0], &val, &len, NULL, &err);
	if (rc == ICE_ENOENT)
		return ICE_EXIT_FAILURE; /* a miss: no message, as with grep */
	if (rc)
		return fail(rc, &err);
	fwrite(val, 1, len, stdout);
	if (in_shell && (len == 0 || ((char *)val)[len - 1] != '\n'))
		putchar('\n'); /* keep the next prompt on a line of its own */
	free(val);
	return ICE_EXIT_OK;
}

static int cmd_rm(ice_backend **b, const options *o, int argc, char **argv)
{
	uint64_t removed = 0;
	ice_err err = { 0 };
	int rc;

	(void)o;
	if (argc < 1)
		return ice_cli_usage_error("rm takes one or more KEYs");
	rc = ice_backend_delete(*b, (const char *const *)argv, (size_t)argc, &removed, &err);
	return rc ? fail(rc, &err) : ICE_EXIT_OK;
}

static int cmd_gc(ice_backend **b, const options *o, int argc, char **argv)
{
	uint64_t refs = 0;
	ice_err err = { 0 };
	int rc;

	(void)o;
	(void)argv;
	if (argc != 0)
		return ice_cli_usage_error("gc takes no argument");
	if ((rc = ice_backend_gc(*b, &refs, &err)))
		return fail(rc, &err);
	return status_of(ice_cli_emit(json_pack("{s:s, s:I}", "kind", "gc", "references_removed",
	                                        (json_int_t)refs)));
}

static int cmd_doctor(ice_backend **b, const options *o, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return ice_cli_usage_error("doctor takes no argument (--table T: that table's entries)");
	return ice_cache_doctor(*b, o->table_filter);
}

/* ---- ls and info --------------------------------------------------------------- */

static json_t *entry_record(const char *key, const ice_entry_meta *m)
{
	json_t *tags = json_array(), *r;

	/* keys and tags are bytes: ice_json_text keeps the ones that are not UTF-8 */
	for (size_t i = 0; tags && i < m->n_tags; i++)
		json_array_append_new(tags, ice_json_text(m->tags[i]));
	r = json_pack("{s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:o?, s:o}", "kind", "entry", "key",
	              ice_json_text(key),
	              "table", ice_json_text(m->table ? m->table : "_"), "size", (json_int_t)m->size,
	              "created_ms", (json_int_t)m->created_ms, "expires_ms", (json_int_t)m->expires_ms,
	              "hits", (json_int_t)m->hits, "origin", m->origin ? ice_json_text(m->origin) : NULL,
	              "tags", tags);
	return r;
}

typedef struct {
	bool table_view;
	int rc;
	const char *want; /* info: only this exact key */
	int found;
} ls_ctx;

/* Bytes of a key or tag as a terminal row shows them: control characters
 * as \n or \xHH, so that one entry stays one row and no stored byte can
 * drive the terminal, and bytes that are not UTF-8 as \xHH
 * (ice_text_visible); padded to pad columns. */
static void print_cell(const char *s, size_t pad)
{
	size_t cols = 0;
	char *shown = ice_text_visible(s, &cols);

	fputs(shown ? shown : "?", stdout);
	printf("%*s", cols < pad ? (int)(pad - cols) : 0, "");
	free(shown);
}

static void print_row(const char *key, const ice_entry_meta *m)
{
	char created[ICE_TIME_BUF], expires[ICE_TIME_BUF];

	ice_format_time_ms(m->created_ms, created);
	if (m->expires_ms)
		ice_format_time_ms(m->expires_ms, expires);
	else
		strcpy(expires, "never");
	print_cell(key, 32);
	printf(" %10llu  %.19s  %-19.19s %6llu  ", (unsigned long long)m->size, created, expires,
	       (unsigned long long)m->hits);
	for (size_t i = 0; i < m->n_tags; i++) {
		fputs(i ? "," : "", stdout);
		print_cell(m->tags[i], 0);
	}
	putchar('\n');
}

static int on_entry(void *ctx, const char *key, const ice_entry_meta *m)
{
	ls_ctx *c = ctx;

	if (c->want && strcmp(c->want, key) != 0)
		return 0;
	c->found++;
	if (c->table_view) {
		print_row(key, m);
		return 0;
	}
	c->rc = ice_cli_emit(entry_record(key, m));
	return c->rc != ICE_OK;
}

/* ls, or info when info_key is set. */
static int list_entries(ice_backend *b, const options *o, int argc, char **argv,
                        const char *info_key)
{
	ls_ctx c = { !info_key && isatty(STDOUT_FILENO), ICE_OK, info_key, 0 };
	char *pattern = info_key ? ice_glob_literal(info_key) : NULL, *tag;
	ice_err err = { 0 };
	int rc;

	if (argc > 1)
		return ice_cli_usage_error("ls takes one PATTERN at most");
	if (c.table_view)
		printf("%-32s %10s  %-19s  %-19s %6s  %s\n", "KEY", "SIZE", "CREATED", "EXPIRES", "HITS", "TAGS");
	/* a partition tag typed as people write it finds the entries stored canonical */
	tag = o->tag_filter ? ice_cache_stored_tag(b, o->tag_filter) : NULL;
	rc = ice_backend_scan(b, o->table_filter, tag ? tag : o->tag_filter,
	                      pattern ? pattern : (argc ? argv[0] : NULL), on_entry, &c, &err);
	free(pattern);
	free(tag);
	if (rc)
		return fail(rc, &err);
	if (c.rc && c.rc != ICE_EPIPE)
		return ICE_EXIT_FAILURE;
	if (info_key && !c.found) {
		ice_cli_error("no entry '%s'", info_key);
		return ICE_EXIT_FAILURE;
	}
	return ICE_EXIT_OK;
}

static int cmd_ls(ice_backend **b, const options *o, int argc, char **argv)
{
	return list_entries(*b, o, argc, argv, NULL);
}

static int cmd_info(ice_backend **b, const options *o, int argc, char **argv)
{
	if (argc != 1)
		return ice_cli_usage_error("info takes one KEY");
	return list_entries(*b, o, 0, NULL, argv[0]);
}

/* ---- exec and fetch: shared edges ------------------------------------------ */

#define DEFAULT_EXEC_TTL_MS (60 * 60 * 1000LL)     /* exec_ttl when unset */
#define DEFAULT_LOCK_TIMEOUT_MS (5 * 60 * 1000LL)  /* lock_timeout when unset */
#define DEFAULT_FETCH_TIMEOUT_MS (60 * 1000LL)
#define DEFAULT_REDIRECTS 5L

static int64_t first_ms(int64_t flag, int64_t file, int64_t builtin)
{
	return flag > 0 ? flag : file > 0 ? file : builtin;
}

/* Open the cache at url (NULL: the configured one) with the options. */
static int open_url(const char *url, const options *o, ice_backend **b)
{
	ice_backend_opts bo = { 0 };

	bo.prefix = o->prefix;
	bo.max_bytes = o->max_bytes;
	return ice_cli_open_cache_opts(url, &bo, b);
}

/* exec and fetch never fail because of the cache: when it is unreachable
 * they warn and work uncached (*b stays NULL). A missing or bad
 * configuration is still a usage error. */
static int open_cache_or_degrade(const options *o, ice_backend **b)
{
	int status = open_url(o->url, o, b);

	if (status == ICE_EXIT_BACKEND) {
		ice_cli_warn("working without the cache");
		return -1;
	}
	return status;
}

/* A put after the work is done: failures are warnings, the result stands. */
static void store(ice_backend *b, const char *key, const void *val, size_t len,
                  const char *const *tags, size_t n_tags, int64_t ttl_ms, const char *origin)
{
	ice_err err = { 0 };

	if (b && ice_backend_put(b, key, val, len, tags, n_tags, ttl_ms, origin, &err))
		ice_cli_warn("not cached: %s", err.msg);
}

static void write_out(const void *val, size_t len)
{
	if (len)
		fwrite(val, 1, len, stdout);
}

/* ---- exec ---------------------------------------------------------------------- */

/* The command's output as it streams: to stdout, and kept for the cache. */
typedef struct {
	char *buf;
	size_t len, cap;
	bool too_big;  /* over MAX_VALUE: passed through, not stored */
	bool out_gone; /* stdout failed (a closed pipe): keep reading for the cache */
} capture;

static int capture_chunk(void *ctx, const void *p, size_t n)
{
	capture *c = ctx;

	errno = 0;
	if (!c->out_gone && (fwrite(p, 1, n, stdout) != n || fflush(stdout) != 0)) {
		c->out_gone = true;
		/* A reader that left is not an error to report at the end. */
		if (errno == EPIPE)
			clearerr(stdout);
	}
	if (c->too_big)
		return 0;
	if (c->len + n > MAX_VALUE) {
		c->too_big = true;
		return 0;
	}
	if (c->len + n > c->cap) {
		size_t cap = c->cap ? c->cap : 64 * 1024;
		char *q;

		while (cap < c->len + n)
			cap *= 2;
		if (!(q = realloc(c->buf, cap))) {
			c->too_big = true;
			return 0;
		}
		c->buf = q;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	return 0;
}

static volatile sig_atomic_t running_child;

static void forward_signal(int sig)
{
	if (running_child > 0)
		kill((pid_t)running_child, sig);
}

/* While the command runs: ^C and ^\ reach it from the terminal and end it,
 * and we report how it ended (like a shell), so we ignore them; TERM and
 * HUP sent to us alone are passed on to it. */
static void guard_signals(bool on)
{
	static const int forwarded[] = { SIGTERM, SIGHUP }, ignored[] = { SIGINT, SIGQUIT };
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on ? forward_signal : SIG_DFL;
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < 2; i++)
		sigaction(forwarded[i], &sa, NULL);
	sa.sa_handler = on ? SIG_IGN : SIG_DFL;
	for (size_t i = 0; i < 2; i++)
		sigaction(ignored[i], &sa, NULL);
}

/* Run the command, streaming its output; its exit status (127/126 when it
 * cannot be started, as a shell reports it). */
static int run_command(char **command, capture *cap)
{
	ice_child child;
	ice_err err = { 0 };
	int rc, status = ICE_EXIT_FAILURE;

	if ((rc = ice_exec_start((const char *const *)command, &child, &err))) {
		ice_cli_error("%s", err.msg);
		return ice_exec_start_status(rc);
	}
	running_child = child.pid;
	guard_signals(true);
	if ((rc = ice_exec_pump(&child, capture_chunk, cap, &err))) {
		ice_cli_error("%s", err.msg);
		cap->too_big = true; /* incomplete: never stored */
	}
	if (ice_exec_wait(&child, &status, &err)) {
		ice_cli_error("%s", err.msg);
		status = ICE_EXIT_FAILURE;
	}
	guard_signals(false);
	running_child = 0;
	return status;
}

/* The key: given, or derived from the command and its --source files. */
static int exec_key(const options *o, int argc, char **argv, char **key)
{
	const run_options *r = &o->run;
	size_t n = 0;
	ice_err err = { 0 };
	int rc;

	if (!r->command || !r->command[0])
		return ice_cli_usage_error("exec needs '-- COMMAND...'");
	if (r->n_sources && !r->key_from_args)
		return ice_cli_usage_error("--source goes with --key-from-args");
	if (r->key_from_args != (argc == 0) || argc > 1)
		return ice_cli_usage_error("exec takes one KEY or --key-from-args");
	if (!r->key_from_args)
		return (*key = strdup(argv[0])) ? -1 : ICE_EXIT_FAILURE;
	while (r->command[n])
		n++;
	rc = ice_derive_exec_key((const char *const *)r->command, n, r->sources, r->n_sources, key,
	                         &err);
	if (rc) {
		ice_cli_error("%s", err.msg);
		return ICE_EXIT_FAILURE;
	}
	return -1;
}

/* exec's TTL: --ttl, where smart (the default) is exec_ttl from the
 * configuration, else an hour. */
static int64_t exec_ttl_ms(const options *o, const ice_config *cfg)
{
	ice_ttl hour = { ICE_TTL_DURATION, DEFAULT_EXEC_TTL_MS }, t = o->ttl;

	if (t.kind == ICE_TTL_SMART)
		t.kind = ICE_TTL_UNSET;
	return ice_ttl_ms(ice_ttl_first(t, cfg->exec_ttl, hour));
}

/* Serve a stored result, or learn that we (or, after a long wait, nobody)
 * hold the lock. Returns the exit status when done, else -1. */
static int exec_lookup(ice_backend **b, const char *key, int64_t lock_ms, ice_once *st)
{
	ice_once_opts oo = { lock_ms, 0, 0 };
	ice_err err = { 0 };

	if (ice_once_begin(*b, key, &oo, st, &err)) {
		ice_cli_warn("%s; running the command without the cache", err.msg);
		ice_once_end(*b, st, NULL);
		ice_backend_close(*b);
		*b = NULL;
		return -1;
	}
	if (st->outcome == ICE_ONCE_HIT) {
		write_out(st->val, st->len);
		return ICE_EXIT_OK;
	}
	if (st->outcome == ICE_ONCE_GAVE_UP)
		ice_cli_warn("'%s' still locked after %lld ms; running the command anyway", key,
		             (long long)lock_ms);
	return -1;
}

static int cmd_exec(ice_backend **no_cache, const options *o, int argc, char **argv)
{
	const ice_config *cfg;
	ice_backend *b = NULL;
	ice_once st = { 0 };
	capture cap = { 0 };
	char *key = NULL;
	int status;

	(void)no_cache; /* opens its own: it works on without one */
	if ((status = exec_key(o, argc, argv, &key)) >= 0)
		goto out;
	if ((status = ice_cli_config(&cfg)) >= 0 || (status = open_cache_or_degrade(o, &b)) >= 0)
		goto out;
	if (b && (status = exec_lookup(&b, key, first_ms(o->run.lock_timeout_ms,
	                                                  cfg->lock_timeout_ms,
	                                                  DEFAULT_LOCK_TIMEOUT_MS), &st)) >= 0)
		goto out;
	/* a hit stores nothing: the tags are checked only before a run */
	if ((status = check_tags(b, o, exec_ttl_ms(o, cfg) == 0)) >= 0)
		goto out;
	status = run_command(o->run.command, &cap);
	if (status == 0 && cap.too_big)
		ice_cli_warn("'%s': output over %u bytes or incomplete: not cached", key, MAX_VALUE);
	else if (status == 0)
		store(b, key, cap.buf, cap.len, (const char *const *)o->tags, o->n_tags,
		      exec_ttl_ms(o, cfg), "exec");
out:
	ice_once_end(b, &st, NULL);
	ice_backend_close(b);
	free(cap.buf);
	free(key);
	return status;
}

/* ---- fetch: local files ------------------------------------------------------ */

/* The cached copy of a file is good while the file is as it was stored. */
static bool file_entry_current(const ice_entry_meta *m, const char *path)
{
	ice_file_id id;

	return ice_file_id_of(path, &id, NULL) == ICE_OK && ice_readthrough_file_current(m, &id);
}

/* -o FILE: replaced atomically, with the mode a new file would get. */
static int emit_fetched(const options *o, const void *val, size_t len)
{
	ice_err err = { 0 };
	mode_t mask;

	if (!o->run.output) {
		write_out(val, len);
		return ICE_EXIT_OK;
	}
	if (ice_write_file_atomic(o->run.output, val, len, &err)) {
		ice_cli_error("%s", err.msg);
		return ICE_EXIT_FAILURE;
	}
	mask = umask(0);
	umask(mask);
	chmod(o->run.output, 0666 & ~mask);
	return ICE_EXIT_OK;
}

/* A file's TTL: smart (the default) means until it changes, which the
 * check above sees, so no TTL. */
static int64_t file_ttl_ms(const options *o)
{
	return ice_ttl_ms(o->ttl);
}

static int fetch_file(const options *o, const char *path)
{
	ice_backend *b = NULL;
	ice_entry_meta meta = { 0 };
	ice_file_id id;
	ice_err err = { 0 };
	char *abs = NULL, *key = NULL, *buf = NULL, *origin;
	void *val = NULL;
	size_t len = 0;
	int status = ICE_EXIT_FAILURE;

	if (ice_derive_file_key(path, &abs, &key, &err)) {
		ice_cli_error("%s", err.msg);
		goto out;
	}
	/* no_ttl false: the entry is checked against the file itself on each read */
	if ((status = open_cache_or_degrade(o, &b)) >= 0 || (status = check_tags(b, o, false)) >= 0)
		goto out;
	if (b && ice_backend_get(b, key, &val, &len, &meta, &err) == ICE_OK &&
	    file_entry_current(&meta, abs)) {
		status = emit_fetched(o, val, len);
		goto out;
	}
	if (ice_read_file_raw(abs, MAX_VALUE, &buf, &len, &id, &err)) {
		ice_cli_error("%s", err.msg);
		status = ICE_EXIT_FAILURE;
		goto out;
	}
	if ((status = emit_fetched(o, buf, len)) == ICE_EXIT_OK && b) {
		origin = ice_readthrough_file_origin(abs, &id);
		store(b, key, buf, len, (const char *const *)o->tags, o->n_tags, file_ttl_ms(o),
		      origin ? origin : "fetch");
		free(origin);
	}
out:
	ice_entry_meta_clear(&meta);
	ice_backend_close(b);
	free(val);
	free(buf);
	free(abs);
	free(key);
	return status;
}

/* ---- fetch: URLs ---------------------------------------------------------------- */

/* A cached response, as the cache holds it. */
typedef struct {
	bool present;
	void *val;
	size_t len;
	ice_readthrough_entry rt;
	char **tags; /* kept for a refresh after a 304 */
	size_t n_tags;
} cached_url;

static void cached_url_clear(cached_url *c)
{
	free(c->val);
	ice_readthrough_entry_clear(&c->rt);
	for (size_t i = 0; i < c->n_tags; i++)
		free(c->tags[i]);
	free(c->tags);
	memset(c, 0, sizeof *c);
}

static void lookup_url(ice_backend *b, const char *key, cached_url *c)
{
	ice_entry_meta m = { 0 };

	memset(c, 0, sizeof *c);
	ice_readthrough_entry_clear(&c->rt);
	if (!b || ice_backend_get(b, key, &c->val, &c->len, &m, NULL) != ICE_OK)
		return;
	c->present = true;
	ice_readthrough_entry_of(&m, ice_now_ms(), &c->rt);
	c->tags = m.tags;
	c->n_tags = m.n_tags;
	m.tags = NULL;
	m.n_tags = 0;
	ice_entry_meta_clear(&m);
}

/* Store the response as the read-through policy says; c is the stale
 * entry a 304 refreshes (NULL: r's body is new). */
static void store_url(ice_backend *b, const options *o, const ice_config *cfg, const char *key,
                      const char *url, const ice_http_resp *r, const cached_url *c)
{
	ice_readthrough_settings rs = { o->ttl, cfg->fetch_ttl, cfg->fetch_keep_ms };
	const ice_readthrough_entry *prev = c ? &c->rt : NULL;
	ice_readthrough_store p;
	const char *tags[MAX_TAGS];
	size_t n_tags;
	int64_t now = ice_now_ms();
	char *origin;

	ice_readthrough_decide(&rs, r, prev, now, &p);
	if (!b || !p.store)
		return;
	n_tags = ice_readthrough_tags((const char *const *)o->tags, o->n_tags,
	                              c ? (const char *const *)c->tags : NULL, c ? c->n_tags : 0,
	                              tags, MAX_TAGS);
	origin = ice_readthrough_url_origin(url, r, prev, &p, now);
	if (c)
		store(b, key, c->val, c->len, tags, n_tags, p.ttl_ms, origin ? origin : "fetch");
	else
		store(b, key, r->body, r->len, tags, n_tags, p.ttl_ms, origin ? origin : "fetch");
	free(origin);
}

static void build_request(const options *o, const ice_config *cfg, const char *url,
                          ice_http_req *q)
{
	const run_options *r = &o->run;

	memset(q, 0, sizeof *q);
	q->url = url;
	q->method = r->method ? r->method : r->data ? "POST" : "GET";
	q->headers = r->headers;
	q->n_headers = r->n_headers;
	q->body = r->data;
	q->body_len = r->data ? strlen(r->data) : 0;
	q->timeout_ms = first_ms(r->timeout_ms, cfg->fetch_timeout_ms, DEFAULT_FETCH_TIMEOUT_MS);
	q->connect_timeout_ms = cfg->connect_timeout_ms;
	q->max_redirects = r->max_redirects >= 0 ? r->max_redirects
	                   : cfg->fetch_redirects >= 0 ? (long)cfg->fetch_redirects
	                                               : DEFAULT_REDIRECTS;
	q->max_bytes = MAX_VALUE;
}

/* Ask the server (conditionally when a stale copy has validators), emit
 * what is current and store it. */
static int fetch_from_server(ice_backend *b, const options *o, const ice_config *cfg,
                             const char *key, ice_http_req *q, cached_url *c)
{
	const ice_readthrough_entry *prev = c->present ? &c->rt : NULL;
	ice_http_resp r;
	ice_err err = { 0 };
	int status;

	ice_readthrough_condition(q, prev);
	if (ice_http_fetch(q, &r, &err)) {
		ice_cli_error("%s", err.msg);
		ice_http_resp_clear(&r);
		return ICE_EXIT_FAILURE;
	}
	if (r.status == 304 && !ice_readthrough_can_revalidate(prev)) {
		ice_cli_error("%s: HTTP 304 to a request that was not conditional", q->url);
		status = ICE_EXIT_FAILURE;
	} else if (r.status == 304) {
		status = emit_fetched(o, c->val, c->len);
		store_url(b, o, cfg, key, q->url, &r, c);
	} else {
		status = emit_fetched(o, r.body, r.len);
		if (status == ICE_EXIT_OK)
			store_url(b, o, cfg, key, q->url, &r, NULL);
	}
	ice_http_resp_clear(&r);
	return status;
}

static int fetch_url(const options *o, const char *url)
{
	const ice_config *cfg;
	ice_backend *b = NULL;
	ice_http_req q;
	cached_url c = { 0 };
	ice_err err = { 0 };
	char *key = NULL;
	int status;

	if ((status = ice_cli_config(&cfg)) >= 0)
		return status;
	build_request(o, cfg, url, &q);
	if (ice_readthrough_url_key(&q, o->run.key_headers, o->run.n_key_headers, &key, &err)) {
		ice_cli_error("%s", err.msg);
		return ICE_EXIT_FAILURE;
	}
	/* no_ttl false: the entry is revalidated as HTTP says, tags or not */
	if ((status = open_cache_or_degrade(o, &b)) >= 0 || (status = check_tags(b, o, false)) >= 0)
		goto out;
	lookup_url(b, key, &c);
	if (c.present && c.rt.fresh)
		status = emit_fetched(o, c.val, c.len);
	else
		status = fetch_from_server(b, o, cfg, key, &q, &c);
out:
	cached_url_clear(&c);
	ice_backend_close(b);
	free(key);
	return status;
}

/* ---- fetch: objects in S3 ------------------------------------------------------ */

/* An object's URI, without the flags that shape an HTTP request (they
 * mean nothing to an S3 object). */
static int check_s3_args(const run_options *r, const char *uri)
{
	const char *slash = strchr(strstr(uri, "://") + 3, '/');

	if (!slash || !slash[1] || slash[strlen(slash) - 1] == '/')
		return ice_cli_usage_error("fetch: '%s': want s3://BUCKET/KEY, an object", uri);
	if (r->n_headers || r->n_key_headers || r->method || r->data || r->max_redirects >= 0)
		return ice_cli_usage_error("fetch s3://: -H, --key-header, -X, --data and "
		                           "--max-redirs are for http(s) URLs");
	return -1;
}

/* An object read from S3 as the read-through policy sees an HTTP
 * response (borrowing obj's bytes and ETag): under --ttl smart it is
 * current until it changes, so every fetch asks the store, conditionally
 * (no-cache: a 304 costs no body). */
static void s3_response(const ice_obj *obj, ice_http_resp *r)
{
	static char no_cache[] = "no-cache";

	memset(r, 0, sizeof *r);
	r->status = obj->unchanged ? 304 : 200;
	r->body = obj->data;
	r->len = obj->len;
	r->etag = obj->info.etag;
	r->cache_control = no_cache;
}

/* Read uri from the store, conditionally on the stale entry's ETag, then
 * emit and store what is current. */
static int fetch_from_s3(ice_backend *b, const options *o, const ice_config *cfg,
                         const char *key, const char *uri, cached_url *c)
{
	const ice_readthrough_entry *prev = c->present ? &c->rt : NULL;
	const char *etag = ice_readthrough_can_revalidate(prev) ? prev->etag : NULL;
	ice_storage_opts so;
	ice_storage *st = NULL;
	ice_obj obj = { 0 };
	ice_http_resp r;
	ice_err err = { 0 };
	int status;

	if ((status = ice_cli_storage_opts(&o->run.storage, &so)) >= 0)
		return status;
	so.s3.max_bytes = MAX_VALUE;
	if (o->run.timeout_ms > 0)
		so.s3.timeout_ms = o->run.timeout_ms;
	if (ice_storage_open(&st, &so, &err) || ice_storage_read_if(st, uri, etag, &obj, &err)) {
		ice_cli_error("%s", err.msg);
		status = ICE_EXIT_FAILURE;
		goto out;
	}
	s3_response(&obj, &r);
	if (obj.unchanged) {
		status = emit_fetched(o, c->val, c->len);
		store_url(b, o, cfg, key, uri, &r, c);
	} else if ((status = emit_fetched(o, obj.data, obj.len)) == ICE_EXIT_OK) {
		store_url(b, o, cfg, key, uri, &r, NULL);
	}
out:
	if (o->run.verbose)
		ice_cli_storage_summary(st, NULL);
	ice_obj_clear(&obj);
	ice_storage_close(st);
	return status;
}

/* s3://BUCKET/KEY (s3a://, s3n://) through the cache, keyed by the URI as
 * a GET of it is. */
static int fetch_s3(const options *o, const char *uri)
{
	const ice_config *cfg;
	ice_backend *b = NULL;
	ice_http_req q = { .url = uri, .method = "GET" };
	cached_url c = { 0 };
	ice_err err = { 0 };
	char *key = NULL;
	int status;

	if ((status = check_s3_args(&o->run, uri)) >= 0 || (status = ice_cli_config(&cfg)) >= 0)
		return status;
	if (ice_readthrough_url_key(&q, NULL, 0, &key, &err)) {
		ice_cli_error("%s", err.msg);
		return ICE_EXIT_FAILURE;
	}
	if ((status = open_cache_or_degrade(o, &b)) >= 0)
		goto out;
	lookup_url(b, key, &c);
	if (c.present && c.rt.fresh)
		status = emit_fetched(o, c.val, c.len);
	else
		status = fetch_from_s3(b, o, cfg, key, uri, &c);
out:
	cached_url_clear(&c);
	ice_backend_close(b);
	free(key);
	return status;
}

static bool is_http_url(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

static int cmd_fetch(ice_backend **no_cache, const options *o, int argc, char **argv)
{
	(void)no_cache; /* opens its own: it works on without one */
	if (argc != 1)
		return ice_cli_usage_error("fetch takes one PATH or URL");
	if (o->run.command)
		return ice_cli_usage_error("fetch takes no '-- COMMAND'");
	if (is_http_url(argv[0]))
		return fetch_url(o, argv[0]);
	if (ice_uri_kind_of(argv[0]) == ICE_URI_S3)
		return fetch_s3(o, argv[0]);
	if (strstr(argv[0], "://"))
		return ice_cli_usage_error("fetch: '%s': only http://, https:// and s3:// URLs",
		                           argv[0]);
	return fetch_file(o, argv[0]);
}

/* ---- export and import ------------------------------------------------------ */

/* Write the archive to a temporary file beside path, renamed over it only
 * when complete: a failed export never leaves a truncated FILE. */
static int export_to_file(ice_backend *b, const ice_archive_filter *f, const char *path,
                          ice_err *err)
{
	ice_atomic_file af;
	int rc;

	if ((rc = ice_atomic_begin(&af, path, 0600, err)))
		return rc;
	if ((rc = ice_archive_export(b, f, af.fd, NULL, err))) {
		ice_atomic_abort(&af);
		return rc;
	}
	return ice_atomic_commit(&af, err);
}

static int cmd_export(ice_backend **b, const options *o, int argc, char **argv)
{
	ice_archive_filter f = { o->table_filter, o->tag_filter, argc == 2 ? argv[1] : NULL };
	ice_err err = { 0 };
	int rc;

	if (argc < 1 || argc > 2)
		return ice_cli_usage_error("export takes FILE (or - for standard output) and at most one PATTERN");
	if (strcmp(argv[0], "-") != 0)
		rc = export_to_file(*b, &f, argv[0], &err);
	else if (isatty(STDOUT_FILENO))
		return ice_cli_usage_error("export: not writing an archive to a terminal; redirect it or give FILE");
	else if (fflush(stdout) == 0) /* the archive goes straight to the descriptor */
		rc = ice_archive_export(*b, &f, STDOUT_FILENO, NULL, &err);
	else
		rc = ice_err_set(&err, ICE_EIO, "standard output: %s", strerror(errno));
	if (rc == ICE_EPIPE)
		return ICE_EXIT_OK; /* the reader went away: quiet, as everywhere */
	return rc ? fail(rc, &err) : ICE_EXIT_OK;
}

static void report_refused(void *ctx, const char *member, const char *why)
{
	ice_cli_error("%s: %s: %s; skipped", (const char *)ctx, member, why);
}

static int import_summary(const char *name, const ice_archive_stats *st, bool dry_run)
{
	return ice_cli_emit(json_pack("{s:s, s:o, s:I, s:I, s:I, s:I, s:b}", "kind", "import",
	                              "archive", ice_json_text(name), "imported", (json_int_t)st->entries,
	                              "bytes", (json_int_t)st->bytes, "expired",
	                              (json_int_t)st->expired, "skipped", (json_int_t)st->refused,
	                              "dry_run", dry_run));
}

static int cmd_import(ice_backend **b, const options *o, int argc, char **argv)
{
	const char *name = argc == 1 && strcmp(argv[0], "-") == 0 ? "standard input" : argv[0];
	ice_archive_import_opts io = { o->dry_run, report_refused, (void *)name };
	ice_archive_stats st = { 0 };
	ice_err err = { 0 };
	int fd = STDIN_FILENO, rc, status = ICE_EXIT_OK;

	if (argc != 1)
		return ice_cli_usage_error("import takes one FILE (or - for standard input)");
	if (strcmp(argv[0], "-") == 0 && isatty(STDIN_FILENO))
		return ice_cli_usage_error("import: not reading an archive from a terminal");
	if (strcmp(argv[0], "-") != 0 && (fd = open(argv[0], O_RDONLY | O_CLOEXEC)) < 0) {
		ice_cli_error("%s: %s", argv[0], strerror(errno));
		return ICE_EXIT_FAILURE;
	}
	rc = ice_archive_import(*b, fd, &io, &st, &err);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc) {
		ice_cli_error("%s: %s", name, err.msg);
		status = status_of(rc);
	}
	if (st.refused) {
		ice_cli_error("%s: %llu member%s skipped", name, (unsigned long long)st.refused,
		              st.refused == 1 ? "" : "s");
		status = status ? status : ICE_EXIT_FAILURE;
	}
	rc = import_summary(name, &st, o->dry_run);
	if (rc && rc != ICE_EPIPE && !status)
		status = ICE_EXIT_FAILURE;
	return status;
}

/* ---- migrate ----------------------------------------------------------------- */

static int cmd_migrate(ice_backend **no_cache, const options *o, int argc, char **argv)
{
	ice_backend *from = NULL, *to = NULL;
	ice_migrate_stats st;
	ice_err err = { 0 };
	int status, rc;

	(void)no_cache; /* opens the two caches it names */
	if (argc != 2)
		return ice_cli_usage_error("migrate takes FROM_URL and TO_URL");
	if (o->url)
		return ice_cli_usage_error("migrate names both caches: no --url");
	if ((status = open_url(argv[0], o, &from)) >= 0 || (status = open_url(argv[1], o, &to)) >= 0)
		goto out;
	if ((rc = ice_migrate(from, to, &st, &err))) {
		status = fail(rc, &err);
		goto out;
	}
	status = status_of(ice_cli_emit(json_pack("{s:s, s:I, s:I, s:I, s:I, s:b, s:b}", "kind", "migrated",
	                                          "entries", (json_int_t)st.entries,
	                                          "skipped", (json_int_t)st.skipped,
	                                          "cursors", (json_int_t)st.cursors,
	                                          "tables", (json_int_t)st.tables,
	                                          "metadata_kept", st.metadata_kept,
	                                          "counters_copied", st.counters_copied)));
out:
	ice_backend_close(from);
	ice_backend_close(to);
	return status;
}

/* ---- the tables: every option, every subcommand ------------------------------ */

enum { OPT_PREFIX = 256, OPT_VALUE, OPT_TABLE, OPT_PARTITION, OPT_FILE, OPT_SNAPSHOT, OPT_TAG,
       OPT_KEY_FROM_ARGS, OPT_SOURCE, OPT_LOCK_TIMEOUT, OPT_KEY_HEADER, OPT_DATA, OPT_TIMEOUT,
       OPT_MAX_REDIRS, OPT_DRY_RUN, OPT_MAX_SIZE, OPT_STRICT };

#define TAG_OR_FILTER (ICE_OPTS_TAGS | ICE_OPTS_FILTER)

static const ice_cache_option option_table[] = {
	{ "url", required_argument, 'u', 0 },
	{ "prefix", required_argument, OPT_PREFIX, 0 },
	{ "ttl", required_argument, 't', ICE_OPTS_TTL },
	{ "value", required_argument, OPT_VALUE, ICE_OPTS_VALUE },
	{ "table", required_argument, OPT_TABLE, TAG_OR_FILTER },
	{ "partition", required_argument, OPT_PARTITION, ICE_OPTS_TAGS },
	{ "file", required_argument, OPT_FILE, ICE_OPTS_TAGS },
	{ "snapshot", required_argument, OPT_SNAPSHOT, ICE_OPTS_TAGS },
	{ "tag", required_argument, OPT_TAG, TAG_OR_FILTER },
	{ "strict", no_argument, OPT_STRICT, ICE_OPTS_TAGS },
	{ "key-from-args", no_argument, OPT_KEY_FROM_ARGS, ICE_OPTS_EXEC },
	{ "source", required_argument, OPT_SOURCE, ICE_OPTS_EXEC },
	{ "lock-timeout", required_argument, OPT_LOCK_TIMEOUT, ICE_OPTS_EXEC },
	{ "output", required_argument, 'o', ICE_OPTS_FETCH },
	{ "header", required_argument, 'H', ICE_OPTS_FETCH },
	{ "key-header", required_argument, OPT_KEY_HEADER, ICE_OPTS_FETCH },
	{ "request", required_argument, 'X', ICE_OPTS_FETCH },
	{ "data", required_argument, OPT_DATA, ICE_OPTS_FETCH },
	{ "timeout", required_argument, OPT_TIMEOUT, ICE_OPTS_FETCH },
	{ "max-redirs", required_argument, OPT_MAX_REDIRS, ICE_OPTS_FETCH },
	{ "endpoint-url", required_argument, ICE_CLI_OPT_ENDPOINT_URL, ICE_OPTS_FETCH },
	{ "profile", required_argument, ICE_CLI_OPT_PROFILE, ICE_OPTS_FETCH },
	{ "no-sign-request", no_argument, ICE_CLI_OPT_NO_SIGN_REQUEST, ICE_OPTS_FETCH },
	{ "verbose", no_argument, 'v', ICE_OPTS_FETCH },
	{ "dry-run", no_argument, OPT_DRY_RUN, ICE_OPTS_IMPORT },
	{ "max-size", required_argument, OPT_MAX_SIZE, 0 },
	{ "help", no_argument, 'h', 0 },
	{ "version", no_argument, 'V', 0 },
	{ NULL, 0, 0, 0 },
};

#define N_OPTIONS (sizeof option_table / sizeof *option_table)

static ice_cache_handler cmd_put, cmd_get, cmd_rm, cmd_ls, cmd_info, cmd_gc, cmd_migrate,
	cmd_doctor, cmd_exec, cmd_fetch, cmd_export, cmd_import, cmd_shell;

/* In the order of the usage text. */
static const ice_cache_cmd commands[] = {
	{ "put", cmd_put, 0, ICE_OPTS_TTL | ICE_OPTS_VALUE | ICE_OPTS_TAGS,
	  "KEY [TAGS] [--ttl DUR] [--value V]", "store stdin (or V) under KEY" },
	{ "get", cmd_get, 0, 0, "KEY", "write the value to stdout; exit 0 hit, 1 miss" },
	{ "rm", cmd_rm, 0, 0, "KEY...", "remove entries" },
	{ "ls", cmd_ls, 0, ICE_OPTS_FILTER, "[--table T] [--tag TAG] [PATTERN]",
	  "list entries (JSON lines)" },
	{ "info", cmd_info, 0, 0, "KEY", "an entry's metadata (JSON)" },
	{ "gc", cmd_gc, 0, 0, "", "drop references to expired entries" },
	{ "doctor", cmd_doctor, 0, ICE_OPTS_FILTER, "[--table T]",
	  "entries whose tags can never be invalidated; exit 1 if any" },
	{ "migrate", cmd_migrate, ICE_CMD_OWN_CACHE, 0, "FROM_URL TO_URL",
	  "copy every entry, counter and cursor to another cache" },
	{ "exec", cmd_exec, ICE_CMD_OWN_CACHE, ICE_OPTS_TTL | ICE_OPTS_TAGS | ICE_OPTS_EXEC,
	  "KEY [TAGS] -- COMMAND...\n--key-from-args [--source PATH]... [TAGS] -- COMMAND...",
	  "COMMAND's stdout, cached; runs once" },
	{ "fetch", cmd_fetch, ICE_CMD_OWN_CACHE, ICE_OPTS_TTL | ICE_OPTS_TAGS | ICE_OPTS_FETCH,
	  "PATH|URL|S3URI [TAGS] [-o FILE]", "a file's, URL's or S3 object's bytes, cached" },
	{ "export", cmd_export, ICE_CMD_FILE_ARG, ICE_OPTS_FILTER,
	  "FILE|- [--table T] [--tag TAG] [PATTERN]", "entries to a tar archive (-: standard output)" },
	{ "import", cmd_import, ICE_CMD_FILE_ARG, ICE_OPTS_IMPORT, "[--dry-run] FILE|-",
	  "entries from a tar archive" },
	{ "shell", cmd_shell, ICE_CMD_TOP_ONLY, 0, "",
	  "interactive shell (also: no COMMAND on a terminal)" },
	{ NULL, NULL, 0, 0, NULL, NULL },
};

static const ice_cache_cmd *find_command(const char *name)
{
	for (const ice_cache_cmd *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* Run c: with the open cache *b, unless c opens its own. */
static int run_subcommand(const ice_cache_cmd *c, ice_backend **b, const options *o, int argc,
                          char **argv)
{
	return c->run(c->flags & ICE_CMD_OWN_CACHE ? NULL : b, o, argc, argv);
}

/* ---- the usage text --------------------------------------------------------------- */

#define SUMMARY_COLUMN 26      /* after a short synopsis */
#define WIDE_SUMMARY_COLUMN 43 /* after a long one; longer: on a line of its own */

/* "  NAME SYNOPSIS   summary", one line per alternative synopsis, the
 * summary on the first. */
static void print_command_usage(const ice_cache_cmd *c)
{
	const char *s = c->synopsis, *summary = c->summary;

	do {
		int len = (int)strcspn(s, "\n");
		int width = printf("  %s%s%.*s", c->name, len ? " " : "", len, s);

		if (!summary)
			putchar('\n');
		else if (width < SUMMARY_COLUMN)
			printf("%*s%s\n", SUMMARY_COLUMN - width, "", summary);
		else if (width < WIDE_SUMMARY_COLUMN)
			printf("%*s%s\n", WIDE_SUMMARY_COLUMN - width, "", summary);
		else
			printf("\n%*s%s\n", SUMMARY_COLUMN, "", summary);
		summary = NULL;
		s += len + (s[len] == '\n');
	} while (*s);
}

static void print_usage(void)
{
	fputs(usage_head, stdout);
	for (const ice_cache_cmd *c = commands; c->name; c++)
		print_command_usage(c);
	fputs(usage_tail, stdout);
}

/* "put, get, ...": the commands, for a message. */
static void command_names(char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (const ice_cache_cmd *c = commands; c->name && n < size; c++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", c->name);
}

/* ---- options ----------------------------------------------------------------------- */

static int add_tag(options *o, const char *kind, const char *arg)
{
	char *tag;

	if (o->n_tags == MAX_TAGS)
		return ice_cli_usage_error("more than %d tags", MAX_TAGS);
	if (kind && !strchr(arg, ':') && strcmp(kind, "table") != 0)
		return ice_cli_usage_error("--%s wants TABLE:VALUE, not '%s'", kind, arg);
	if (asprintf(&tag, "%s%s%s", kind ? kind : "", kind ? ":" : "", arg) < 0)
		return ICE_EXIT_FAILURE;
	/* --table doubles as the ls filter; for put it is a tag. */
	if (kind && strcmp(kind, "table") == 0)
		o->table_filter = arg;
	o->tags[o->n_tags++] = tag;
	return -1;
}

static int add_to_list(const char **list, size_t *n, const char *what, const char *arg)
{
	if (*n == MAX_LIST)
		return ice_cli_usage_error("more than %d %s", MAX_LIST, what);
	list[(*n)++] = arg;
	return -1;
}

static int parse_ms(const char *name, const char *arg, int64_t *ms)
{
	ice_err err;

	if (ice_parse_duration(arg, ms, &err))
		return ice_cli_usage_error("--%s: %s", name, err.msg);
	return -1;
}

/* The options of exec and fetch. */
static int parse_run_option(int c, char **argv, run_options *r)
{
	long long n;

	switch (c) {
	case OPT_KEY_FROM_ARGS: r->key_from_args = true; break;
	case OPT_SOURCE: return add_to_list(r->sources, &r->n_sources, "--source", optarg);
	case OPT_LOCK_TIMEOUT: return parse_ms("lock-timeout", optarg, &r->lock_timeout_ms);
	case OPT_TIMEOUT: return parse_ms("timeout", optarg, &r->timeout_ms);
	case 'o': r->output = optarg; break;
	case 'H':
		if (!strchr(optarg, ':') || *optarg == ':')
			return ice_cli_usage_error("--header wants 'Name: value', not '%s'", optarg);
		return add_to_list(r->headers, &r->n_headers, "--header", optarg);
	case OPT_KEY_HEADER: return add_to_list(r->key_headers, &r->n_key_headers, "--key-header", optarg);
	case 'X': r->method = optarg; break;
	case 'v': r->verbose = true; break;
	case OPT_DATA: r->data = optarg; break;
	case OPT_MAX_REDIRS:
		if (!ice_cli_parse_count(optarg, &n) || n > 100)
			return ice_cli_usage_error("--max-redirs wants 0 to 100, not '%s'", optarg);
		r->max_redirects = (long)n;
		break;
	default:
		if (ice_cli_storage_option(c, optarg, &r->storage))
			break;
		return ice_cli_bad_option(c, argv);
	}
	return -1;
}

static int parse_option(int c, char **argv, options *o)
{
	ice_err err;

	switch (c) {
	case 'u': o->url = optarg; break;
	case OPT_PREFIX: o->prefix = optarg; break;
	case OPT_VALUE: o->value = optarg; break;
	case OPT_MAX_SIZE:
		if (ice_backend_parse_size(optarg, &o->max_bytes, &err))
			return ice_cli_usage_error("--max-size: %s", err.msg);
		if (o->max_bytes == 0)
			o->max_bytes = -1; /* "0": remove the limit */
		break;
	case 't':
		if (ice_ttl_parse(optarg, true, &o->ttl, &err))
			return ice_cli_usage_error("--ttl: %s", err.msg);
		break;
	case OPT_TABLE: return add_tag(o, "table", optarg);
	case OPT_PARTITION: return add_tag(o, "partition", optarg);
	case OPT_FILE: return add_tag(o, "file", optarg);
	case OPT_SNAPSHOT: return add_tag(o, "snapshot", optarg);
	case OPT_TAG:
		o->tag_filter = optarg;
		return add_tag(o, NULL, optarg);
	case OPT_DRY_RUN: o->dry_run = true; break;
	case OPT_STRICT: o->strict = true; break;
	/* no ice_cli_finish here: the shell runs these too and keeps stdout */
	case 'h': print_usage(); return ICE_EXIT_OK;
	case 'V': ice_cli_version(); return ICE_EXIT_OK;
	default: return parse_run_option(c, argv, &o->run);
	}
	return -1;
}

/* option_table as getopt_long wants it: the long options, and in
 * *letters the short ones (":" first: we report errors ourselves). */
static const struct option *getopt_options(const char **letters)
{
	static struct option opts[N_OPTIONS];
	static char shorts[2 * N_OPTIONS + 2] = ":";
	size_t n = 1;

	*letters = shorts;
	if (opts[0].name)
		return opts; /* built already */
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const ice_cache_option *o = &option_table[i];

		opts[i] = (struct option){ o->name, o->has_arg, NULL, o->val };
		if (o->name && o->val < 256) {
			shorts[n++] = (char)o->val;
			if (o->has_arg == required_argument)
				shorts[n++] = ':';
		}
	}
	return opts;
}

/* "exec ... -- COMMAND...": the command is cut off before options are
 * parsed, so its own options stay its own. */
static void split_command(int *argc, char **argv, run_options *r)
{
	bool exec = false;

	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "exec") == 0)
			exec = true;
		if (strcmp(argv[i], "--") == 0) {
			if (exec) {
				r->command = argv + i + 1;
				argv[i] = NULL;
				*argc = i;
			}
			return;
		}
	}
}

static void options_clear(options *o)
{
	for (size_t i = 0; i < o->n_tags; i++)
		free(o->tags[i]);
	memset(o, 0, sizeof *o);
}

/* Parse argv's options into *o (argv may be permuted); *cmd_at is the index
 * of the first word that is no option. Returns -1 to go on, else the exit
 * status (--help, --version, usage errors). */
static int parse_args(int argc, char **argv, options *o, int *cmd_at)
{
	const char *letters;
	const struct option *longs = getopt_options(&letters);
	int c, status;

	optind = 0; /* GNU getopt: start afresh (the shell parses many lines) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, letters, longs, NULL)) != -1)
		if ((status = parse_option(c, argv, o)) >= 0)
			return status;
	*cmd_at = optind;
	return -1;
}

/* ---- the shell ------------------------------------------------------------------ */

/* One shell line, words[0] the subcommand: parsed and run as on the command
 * line, with the shell's cache. */
static int shell_run(ice_backend *b, int argc, char **words)
{
	char **argv = calloc((size_t)argc + 2, sizeof *argv);
	const ice_cache_cmd *c;
	options o = { 0 };
	int at = 0, status;

	if (!argv)
		return ICE_EXIT_FAILURE;
	argv[0] = (char *)"ice-cache";
	memcpy(argv + 1, words, (size_t)argc * sizeof *argv);
	argc++;
	o.run.max_redirects = -1;
	split_command(&argc, argv, &o.run);
	argc--;
	if ((status = parse_args(argc + 1, argv, &o, &at)) >= 0)
		goto out;
	if (o.url || o.prefix)
		status = ice_cli_usage_error("--url and --prefix are given when the shell starts");
	else if (at >= argc + 1)
		status = ice_cli_usage_error("no command (type help)");
	else if (!(c = find_command(argv[at])))
		status = ice_cli_usage_error("unknown command '%s' (type help)", argv[at]);
	else if (c->flags & ICE_CMD_TOP_ONLY)
		status = ice_cli_usage_error("already in the shell");
	else
		status = run_subcommand(c, &b, &o, argc - at, argv + at + 1);
out:
	options_clear(&o);
	free(argv);
	return status;
}

static int cmd_shell(ice_backend **b, const options *o, int argc, char **argv)
{
	ice_shell_spec spec = { commands, option_table, print_usage, o->url, o->prefix, shell_run };

	(void)argv;
	if (argc != 0)
		return ice_cli_usage_error("shell takes no argument");
	if (!isatty(STDIN_FILENO))
		return ice_cli_usage_error("shell: standard input is not a terminal");
	in_shell = true;
	ice_cli_set_usage_hint("Type 'help' for the commands and options.");
	return ice_shell_main(&spec, b);
}

int main(int argc, char **argv)
{
	options o = { 0 };
	ice_backend *b = NULL;
	const ice_cache_cmd *c;
	char names[256];
	int at = 0, status;

	ice_cli_init("ice-cache");
	o.run.max_redirects = -1;
	split_command(&argc, argv, &o.run);
	if ((status = parse_args(argc, argv, &o, &at)) >= 0) {
		status = ice_cli_finish(status);
		goto out;
	}
	/* no command on a terminal: the shell, as with python or redis-cli */
	if (at >= argc && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		c = find_command("shell");
	} else if (at >= argc) {
		command_names(names, sizeof names);
		status = ice_cli_usage_error("no COMMAND given (%s)", names);
		goto out;
	} else if (!(c = find_command(argv[at]))) {
		status = ice_cli_usage_error("unknown command '%s'", argv[at]);
		goto out;
	}
	if (!(c->flags & ICE_CMD_OWN_CACHE) && (status = open_url(o.url, &o, &b)) >= 0)
		goto out;
	status = ice_cli_finish(run_subcommand(c, &b, &o, argc - at - (at < argc), argv + at + 1));
out:
	ice_backend_close(b);
	options_clear(&o);
	return status;
}
