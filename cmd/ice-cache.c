/* ice-cache: the cache itself from the command line: put, get, rm, ls,
 * info and gc on the backend ice-invalidate keeps correct; export and
 * import of tar archives; an interactive shell over the same commands. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache-shell.h"
#include "cli.h"
#include "ice_archive.h"
#include "ice_backend.h"
#include "ice_jsonl.h"
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
	"  export FILE|- [--table T] [--tag TAG] [PATTERN]\n"
	"                          entries to a tar archive (-: standard output)\n"
	"  import [--dry-run] FILE|-                entries from a tar archive\n"
	"  shell                   interactive shell (also: no COMMAND on a terminal)\n"
	"\n"
	"Tags (put; repeatable):\n"
	"      --table T           table:T          --partition T:KEY  partition:T:KEY\n"
	"      --file T:PATH       file:T:PATH      --snapshot T:ID    snapshot:T:ID\n"
	"      --tag TAG           any tag\n"
	"\n"
	"Options:\n"
	"  -u, --url URL           the cache (default: $ICE_CACHE_URL)\n"
	"      --prefix P          key namespace (default: icecache)\n"
	"  -t, --ttl DUR           put: expire after DUR (30s, 10m, 1h, 7d)\n"
	"      --value V           put: the value (default: standard input)\n"
	"      --dry-run           import: check the archive, store nothing\n"
	"  -h, --help              show this help and exit\n"
	"  -V, --version           show versions and exit\n"
	"\n"
	"Exit status: 0 success (get: hit), 1 get: miss / info: no such entry or\n"
	"another failure, 2 usage error, 3 the cache is unreachable or failed.\n"
	"See ice-cache(1) and icecache-keys(7).\n";

typedef struct {
	const char *url, *prefix, *value, *table_filter, *tag_filter;
	bool dry_run;
	int64_t ttl_ms;
	char *tags[MAX_TAGS];
	size_t n_tags;
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
	if (in_shell && (len == 0 || ((char *)val)[len - 1] != '\n'))
		putchar('\n'); /* keep the next prompt on a line of its own */
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

/* The key padded to its column, control characters shown as \n or \xHH
 * so that one entry stays one row. */
static void print_key_cell(const char *key)
{
	int width = 0;

	for (; *key; key++) {
		unsigned char c = (unsigned char)*key;
		if (c == '\n')
			width += printf("\\n");
		else if (c < 0x20 || c == 0x7f)
			width += printf("\\x%02x", c);
		else
			width += putchar(c) != EOF;
	}
	printf("%*s", width < 32 ? 32 - width : 0, "");
}

static void print_row(const char *key, const ice_entry_meta *m)
{
	char created[ICE_TIME_BUF], expires[ICE_TIME_BUF];

	ice_format_time_ms(m->created_ms, created);
	if (m->expires_ms)
		ice_format_time_ms(m->expires_ms, expires);
	else
		strcpy(expires, "never");
	print_key_cell(key);
	printf(" %10llu  %.19s  %-19.19s %6llu  ", (unsigned long long)m->size, created, expires,
	       (unsigned long long)m->hits);
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

static int cmd_ls(ice_backend *b, const options *o, int argc, char **argv, const char *info_key)
{
	ls_ctx c = { !info_key && isatty(STDOUT_FILENO), ICE_OK, info_key, 0 };
	char *pattern = info_key ? ice_cli_glob_literal(info_key) : NULL;
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

/* ---- export and import ------------------------------------------------------ */

/* Write the archive to a temporary file beside path, renamed over it only
 * when complete: a failed export never leaves a truncated FILE. */
static int export_to_file(ice_backend *b, const ice_archive_filter *f, const char *path,
                          ice_err *err)
{
	char *tmp = NULL;
	int fd = -1, rc;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if ((fd = mkstemp(tmp)) < 0) {
		rc = ice_err_set(err, ICE_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((rc = ice_archive_export(b, f, fd, NULL, err)))
		goto out;
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0)
		rc = ice_err_set(err, ICE_EIO, "%s: %s", path, strerror(errno));
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (rc && tmp)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int cmd_export(ice_backend *b, const options *o, int argc, char **argv)
{
	ice_archive_filter f = { o->table_filter, o->tag_filter, argc == 2 ? argv[1] : NULL };
	ice_err err = { 0 };
	int rc;

	if (argc < 1 || argc > 2)
		return ice_cli_usage_error("export takes FILE (or - for standard output) and at most one PATTERN");
	if (strcmp(argv[0], "-") != 0)
		rc = export_to_file(b, &f, argv[0], &err);
	else if (isatty(STDOUT_FILENO))
		return ice_cli_usage_error("export: not writing an archive to a terminal; redirect it or give FILE");
	else if (fflush(stdout) == 0) /* the archive goes straight to the descriptor */
		rc = ice_archive_export(b, &f, STDOUT_FILENO, NULL, &err);
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
	return ice_cli_emit(json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:b}", "kind", "import",
	                              "archive", name, "imported", (json_int_t)st->entries,
	                              "bytes", (json_int_t)st->bytes, "expired",
	                              (json_int_t)st->expired, "skipped", (json_int_t)st->refused,
	                              "dry_run", dry_run));
}

static int cmd_import(ice_backend *b, const options *o, int argc, char **argv)
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
	rc = ice_archive_import(b, fd, &io, &st, &err);
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

/* ---- options and main ---------------------------------------------------------- */

enum { OPT_PREFIX = 256, OPT_VALUE, OPT_TABLE, OPT_PARTITION, OPT_FILE, OPT_SNAPSHOT, OPT_TAG,
       OPT_DRY_RUN };

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
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
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
	case OPT_DRY_RUN: o->dry_run = true; break;
	/* no ice_cli_finish here: the shell runs these too and keeps stdout */
	case 'h': fputs(usage_text, stdout); return ICE_EXIT_OK;
	case 'V': ice_cli_version(); return ICE_EXIT_OK;
	default: return ice_cli_bad_option(c, argv);
	}
	return -1;
}

static const char *const commands[] = { "put", "get", "rm", "ls", "info", "gc",
	                                 "export", "import", "shell", NULL };
static const char *const file_commands[] = { "export", "import", NULL };

static int cmd_shell(ice_backend **b, const options *o, int argc);

static int dispatch(ice_backend **b, const options *o, const char *cmd, int argc, char **argv)
{
	if (strcmp(cmd, "put") == 0)
		return cmd_put(*b, o, argc, argv);
	if (strcmp(cmd, "get") == 0)
		return cmd_get(*b, argc, argv);
	if (strcmp(cmd, "rm") == 0)
		return cmd_rm(*b, argc, argv);
	if (strcmp(cmd, "ls") == 0)
		return cmd_ls(*b, o, argc, argv, NULL);
	if (strcmp(cmd, "info") == 0)
		return argc == 1 ? cmd_ls(*b, o, 0, NULL, argv[0]) : ice_cli_usage_error("info takes one KEY");
	if (strcmp(cmd, "export") == 0)
		return cmd_export(*b, o, argc, argv);
	if (strcmp(cmd, "import") == 0)
		return cmd_import(*b, o, argc, argv);
	if (strcmp(cmd, "shell") == 0)
		return cmd_shell(b, o, argc);
	return cmd_gc(*b, argc);
}

static bool known_command(const char *cmd)
{
	for (size_t i = 0; commands[i]; i++)
		if (strcmp(cmd, commands[i]) == 0)
			return true;
	return false;
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
	int c, status;

	optind = 0; /* GNU getopt: start afresh (the shell parses many lines) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":u:t:hV", long_options, NULL)) != -1)
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
	options o = { 0 };
	int at = 0, status;

	if (!argv)
		return ICE_EXIT_FAILURE;
	argv[0] = (char *)"ice-cache";
	memcpy(argv + 1, words, (size_t)argc * sizeof *argv);
	if ((status = parse_args(argc + 1, argv, &o, &at)) >= 0)
		goto out;
	if (o.url || o.prefix)
		status = ice_cli_usage_error("--url and --prefix are given when the shell starts");
	else if (at >= argc + 1)
		status = ice_cli_usage_error("no command (type help)");
	else if (!known_command(argv[at]))
		status = ice_cli_usage_error("unknown command '%s' (type help)", argv[at]);
	else if (strcmp(argv[at], "shell") == 0)
		status = ice_cli_usage_error("already in the shell");
	else
		status = dispatch(&b, &o, argv[at], argc - at, argv + at + 1);
out:
	options_clear(&o);
	free(argv);
	return status;
}

static int cmd_shell(ice_backend **b, const options *o, int argc)
{
	ice_shell_spec spec = { commands, file_commands, long_options, usage_text,
	                        o->url, o->prefix, shell_run };

	if (argc != 0)
		return ice_cli_usage_error("shell takes no argument");
	if (!isatty(STDIN_FILENO))
		return ice_cli_usage_error("shell: standard input is not a terminal");
	in_shell = true;
	return ice_shell_main(&spec, b);
}

int main(int argc, char **argv)
{
	options o = { 0 };
	ice_backend *b = NULL;
	const char *cmd;
	int at = 0, status;

	ice_cli_init("ice-cache");
	if ((status = parse_args(argc, argv, &o, &at)) >= 0) {
		status = ice_cli_finish(status);
		goto out;
	}
	/* no command on a terminal: the shell, as with python or redis-cli */
	if (at >= argc && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		cmd = "shell";
	} else if (at >= argc) {
		status = ice_cli_usage_error("no COMMAND given (put, get, rm, ls, info, gc, export, import, shell)");
		goto out;
	} else if (!known_command(cmd = argv[at])) {
		status = ice_cli_usage_error("unknown command '%s'", cmd);
		goto out;
	}
	if ((status = ice_cli_open_cache(o.url, o.prefix, &b)) >= 0)
		goto out;
	status = ice_cli_finish(dispatch(&b, &o, cmd, argc - at - (at < argc), argv + at + 1));
out:
	ice_backend_close(b);
	options_clear(&o);
	return status;
}
