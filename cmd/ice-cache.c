/* ice-cache: the cache itself from the command line: put, get, rm, ls,
 * info, gc and migrate on the backend ice-invalidate keeps correct. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ice_backend.h"
#include "ice_jsonl.h"
#include "ice_migrate.h"
#include "ice_time.h"

#define MAX_VALUE (512u * 1024u * 1024u) /* Redis's largest string */
#define MAX_TAGS 256

static const char usage_text[] =
	"Usage: ice-cache [OPTION]... COMMAND [ARG]...\n"
	"Put, get and browse IceCache entries.\n"
	"\n"
	"Commands:\n"
	"  put KEY [TAGS] [--ttl DUR] [--value V]   store stdin (or V) under KEY\n"
	"  get KEY                 write the value to stdout; exit 0 hit, 1 miss\n"
	"  rm KEY...               remove entries\n"
	"  ls [--table T] [--tag TAG] [PATTERN]     list entries (JSON lines)\n"
	"  info KEY                an entry's metadata (JSON)\n"
	"  gc                      drop references to expired entries\n"
	"  migrate FROM_URL TO_URL copy every entry, counter and cursor to another cache\n"
	"\n"
	"Tags (put; repeatable):\n"
	"      --table T           table:T          --partition T:KEY  partition:T:KEY\n"
	"      --file T:PATH       file:T:PATH      --snapshot T:ID    snapshot:T:ID\n"
	"      --tag TAG           any tag\n"
	"\n"
	"Options:\n"
	"  -u, --url URL           the cache: redis://[user:password@]host[:port][/db],\n"
	"                          unix:///path/redis.sock[?db=N] or sqlite:///path/cache.db\n"
	"                          (default: $ICE_CACHE_URL, else the embedded cache\n"
	"                          $XDG_CACHE_HOME/icecache/cache.db)\n"
	"      --prefix P          key namespace (default: icecache)\n"
	"      --max-size SIZE     embedded cache: keep it under SIZE (64M, 2G; 0: no\n"
	"                          limit), evicting the least recently used entries\n"
	"  -t, --ttl DUR           put: expire after DUR (30s, 10m, 1h, 7d)\n"
	"      --value V           put: the value (default: standard input)\n"
	"  -h, --help              show this help and exit\n"
	"  -V, --version           show versions and exit\n"
	"\n"
	"Exit status: 0 success (get: hit), 1 get: miss / info: no such entry or\n"
	"another failure, 2 usage error, 3 the cache is unreachable or failed.\n"
	"See ice-cache(1) and icecache-keys(7).\n";

typedef struct {
	const char *url, *prefix, *value, *table_filter, *tag_filter;
	int64_t ttl_ms, max_bytes;
	char *tags[MAX_TAGS];
	size_t n_tags;
} options;

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

static int cmd_put(ice_backend *b, const options *o, int argc, char **argv)
{
	char *buf = NULL;
	size_t len;
	ice_err err = { 0 };
	int rc;

	if (argc != 1)
		return ice_cli_usage_error("put takes one KEY");
	if (o->value) {
		buf = strdup(o->value);
		len = strlen(o->value);
	} else if (read_stdin(&buf, &len) != 0) {
		return ICE_EXIT_FAILURE;
	}
	rc = ice_backend_put(b, argv[0], buf, len, (const char *const *)o->tags, o->n_tags,
	                     o->ttl_ms, "put", &err);
	free(buf);
	return rc ? fail(rc, &err) : ICE_EXIT_OK;
}

/* ---- get, rm, gc ------------------------------------------------------------ */

static int cmd_get(ice_backend *b, int argc, char **argv)
{
	void *val = NULL;
	size_t len = 0;
	ice_err err = { 0 };
	int rc;

	if (argc != 1)
		return ice_cli_usage_error("get takes one KEY");
	rc = ice_backend_get(b, argv[0], &val, &len, NULL, &err);
	if (rc == ICE_ENOENT)
		return ICE_EXIT_FAILURE; /* a miss: no message, as with grep */
	if (rc)
		return fail(rc, &err);
	fwrite(val, 1, len, stdout);
	free(val);
	return ICE_EXIT_OK;
}

static int cmd_rm(ice_backend *b, int argc, char **argv)
{
	uint64_t removed = 0;
	ice_err err = { 0 };
	int rc;

	if (argc < 1)
		return ice_cli_usage_error("rm takes one or more KEYs");
	rc = ice_backend_delete(b, (const char *const *)argv, (size_t)argc, &removed, &err);
	return rc ? fail(rc, &err) : ICE_EXIT_OK;
}

static int cmd_gc(ice_backend *b, int argc)
{
	uint64_t refs = 0;
	ice_err err = { 0 };
	int rc;

	if (argc != 0)
		return ice_cli_usage_error("gc takes no argument");
	if ((rc = ice_backend_gc(b, &refs, &err)))
		return fail(rc, &err);
	return status_of(ice_cli_emit(json_pack("{s:s, s:I}", "kind", "gc", "references_removed",
	                                        (json_int_t)refs)));
}

/* ---- ls and info --------------------------------------------------------------- */

static json_t *entry_record(const char *key, const ice_entry_meta *m)
{
	json_t *tags = json_array(), *r;

	for (size_t i = 0; tags && i < m->n_tags; i++)
		json_array_append_new(tags, json_string(m->tags[i]));
	r = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s?, s:o}", "kind", "entry", "key", key,
	              "table", m->table ? m->table : "_", "size", (json_int_t)m->size,
	              "created_ms", (json_int_t)m->created_ms, "expires_ms", (json_int_t)m->expires_ms,
	              "hits", (json_int_t)m->hits, "origin", m->origin, "tags", tags);
	return r;
}

typedef struct {
	bool table_view;
	int rc;
	const char *want; /* info: only this exact key */
	int found;
} ls_ctx;

static void print_row(const char *key, const ice_entry_meta *m)
{
	char created[ICE_TIME_BUF], expires[ICE_TIME_BUF];

	ice_format_time_ms(m->created_ms, created);
	if (m->expires_ms)
		ice_format_time_ms(m->expires_ms, expires);
	else
		strcpy(expires, "never");
	printf("%-32s %10llu  %.19s  %-19.19s %6llu  ", key, (unsigned long long)m->size, created,
	       expires, (unsigned long long)m->hits);
	for (size_t i = 0; i < m->n_tags; i++)
		printf("%s%s", i ? "," : "", m->tags[i]);
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

/* A glob pattern matching exactly `key`. */
static char *literal_pattern(const char *key)
{
	char *p = malloc(strlen(key) * 2 + 1), *q = p;

	for (; p && *key; key++) {
		if (strchr("*?[]\\", *key))
			*q++ = '\\';
		*q++ = *key;
	}
	if (p)
		*q = '\0';
	return p;
}

static int cmd_ls(ice_backend *b, const options *o, int argc, char **argv, const char *info_key)
{
	ls_ctx c = { !info_key && isatty(STDOUT_FILENO), ICE_OK, info_key, 0 };
	char *pattern = info_key ? literal_pattern(info_key) : NULL;
	ice_err err = { 0 };
	int rc;

	if (argc > 1)
		return ice_cli_usage_error("ls takes one PATTERN at most");
	if (c.table_view)
		printf("%-32s %10s  %-19s  %-19s %6s  %s\n", "KEY", "SIZE", "CREATED", "EXPIRES", "HITS", "TAGS");
	rc = ice_backend_scan(b, o->table_filter, o->tag_filter,
	                      pattern ? pattern : (argc ? argv[0] : NULL), on_entry, &c, &err);
	free(pattern);
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

/* ---- migrate ----------------------------------------------------------------- */

static int open_url(const char *url, const options *o, ice_backend **b)
{
	ice_backend_opts bo = { 0 };

	bo.prefix = o->prefix;
	bo.max_bytes = o->max_bytes;
	return ice_cli_open_cache_opts(url, &bo, b);
}

static int cmd_migrate(const options *o, int argc, char **argv)
{
	ice_backend *from = NULL, *to = NULL;
	ice_migrate_stats st;
	ice_err err = { 0 };
	int status, rc;

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

/* ---- options and main ---------------------------------------------------------- */

enum { OPT_PREFIX = 256, OPT_VALUE, OPT_TABLE, OPT_PARTITION, OPT_FILE, OPT_SNAPSHOT, OPT_TAG,
       OPT_MAX_SIZE };

static const struct option long_options[] = {
	{ "url", required_argument, NULL, 'u' },
	{ "prefix", required_argument, NULL, OPT_PREFIX },
	{ "ttl", required_argument, NULL, 't' },
	{ "value", required_argument, NULL, OPT_VALUE },
	{ "table", required_argument, NULL, OPT_TABLE },
	{ "partition", required_argument, NULL, OPT_PARTITION },
	{ "file", required_argument, NULL, OPT_FILE },
	{ "snapshot", required_argument, NULL, OPT_SNAPSHOT },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

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
		if (ice_parse_duration(optarg, &o->ttl_ms, &err))
			return ice_cli_usage_error("--ttl: %s", err.msg);
		break;
	case OPT_TABLE: return add_tag(o, "table", optarg);
	case OPT_PARTITION: return add_tag(o, "partition", optarg);
	case OPT_FILE: return add_tag(o, "file", optarg);
	case OPT_SNAPSHOT: return add_tag(o, "snapshot", optarg);
	case OPT_TAG:
		o->tag_filter = optarg;
		return add_tag(o, NULL, optarg);
	case 'h': fputs(usage_text, stdout); return ice_cli_finish(ICE_EXIT_OK);
	case 'V': ice_cli_version(); return ice_cli_finish(ICE_EXIT_OK);
	default: return ice_cli_bad_option(c, argv);
	}
	return -1;
}

static int dispatch(ice_backend *b, const options *o, const char *cmd, int argc, char **argv)
{
	if (strcmp(cmd, "put") == 0)
		return cmd_put(b, o, argc, argv);
	if (strcmp(cmd, "get") == 0)
		return cmd_get(b, argc, argv);
	if (strcmp(cmd, "rm") == 0)
		return cmd_rm(b, argc, argv);
	if (strcmp(cmd, "ls") == 0)
		return cmd_ls(b, o, argc, argv, NULL);
	if (strcmp(cmd, "info") == 0)
		return argc == 1 ? cmd_ls(b, o, 0, NULL, argv[0]) : ice_cli_usage_error("info takes one KEY");
	return cmd_gc(b, argc);
}

static bool known_command(const char *cmd)
{
	static const char *const cmds[] = { "put", "get", "rm", "ls", "info", "gc", "migrate", NULL };

	for (size_t i = 0; cmds[i]; i++)
		if (strcmp(cmd, cmds[i]) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	options o = { 0 };
	ice_backend *b = NULL;
	int c, status;

	ice_cli_init("ice-cache");
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":u:t:hV", long_options, NULL)) != -1)
		if ((status = parse_option(c, argv, &o)) >= 0)
			goto out;
	if (optind >= argc) {
		status = ice_cli_usage_error("no COMMAND given (put, get, rm, ls, info, gc, migrate)");
		goto out;
	}
	if (!known_command(argv[optind])) {
		status = ice_cli_usage_error("unknown command '%s'", argv[optind]);
		goto out;
	}
	if (strcmp(argv[optind], "migrate") == 0) {
		status = ice_cli_finish(cmd_migrate(&o, argc - optind - 1, argv + optind + 1));
		goto out;
	}
	if ((status = open_url(o.url, &o, &b)) >= 0)
		goto out;
	status = ice_cli_finish(dispatch(b, &o, argv[optind], argc - optind - 1, argv + optind + 1));
out:
	ice_backend_close(b);
	for (size_t i = 0; i < o.n_tags; i++)
		free(o.tags[i]);
	return status;
}
