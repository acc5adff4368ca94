/* ice-mktable: command-line front end of the Iceberg test-table writer used by
 * the test-suite and benchmarks (see usage() for the contract). */
#include "mktable.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: ice-mktable COMMAND DIR [options]\n"
	"  create DIR [--format-version 1|2|3] [--location LOC] [--schema SPEC]\n"
	"             [--partition SPEC] [--uuid UUID] [--hint number|name|none]\n"
	"             [--naming v|uuid] [--gzip] [--nullable-manifests] [--seed N]\n"
	"  recreate DIR [create options] [--restart-versions]\n"
	"  append DIR [--files N] [--rows R] [--partition-value NAME=V]... [--manifests M]\n"
	"             [--days D] [--stats] [--op NAME]\n"
	"  delete DIR (--files N | --path P... | --partition-value NAME=V...)\n"
	"  overwrite DIR (--files N | --path P... | --partition-value NAME=V...) [--add M]\n"
	"             [--rows R] [--stats]\n"
	"  replace DIR [--partition-value NAME=V...] [--stats]\n"
	"  pos-delete DIR --target PATH [--no-reference]\n"
	"  eq-delete DIR [--partition-value NAME=V...] [--equality-ids 1,2]\n"
	"  dv DIR --target PATH\n"
	"  rollback DIR --to SNAPSHOT_ID\n"
	"  expire DIR --keep N\n"
	"  evolve-spec DIR --partition SPEC\n"
	"  evolve-schema DIR --add-column NAME:TYPE\n"
	"  list DIR [--snapshot ID]\n"
	"  unsigned-ids DIR\n"
	"Schema SPEC: name:type,... (boolean int long float double decimal(P,S) date time\n"
	"  timestamp timestamptz timestamp_ns timestamptz_ns string uuid binary fixed[N]).\n"
	"Partition SPEC: identity(c),bucket[N](c),truncate[W](c),year(c),month(c),day(c),\n"
	"  hour(c),void(c).  Commits print one JSON line.  --seed applies to any commit.\n";

static const struct option longopts[] = {
	{"format-version", required_argument, NULL, 'F'},
	{"location", required_argument, NULL, 'L'},
	{"schema", required_argument, NULL, 'S'},
	{"partition", required_argument, NULL, 'P'},
	{"uuid", required_argument, NULL, 'U'},
	{"hint", required_argument, NULL, 'H'},
	{"naming", required_argument, NULL, 'N'},
	{"gzip", no_argument, NULL, 'G'},
	{"nullable-manifests", no_argument, NULL, 'Z'},
	{"restart-versions", no_argument, NULL, 'X'},
	{"seed", required_argument, NULL, 's'},
	{"files", required_argument, NULL, 'f'},
	{"rows", required_argument, NULL, 'r'},
	{"partition-value", required_argument, NULL, 'v'},
	{"manifests", required_argument, NULL, 'm'},
	{"days", required_argument, NULL, 'd'},
	{"stats", no_argument, NULL, 't'},
	{"op", required_argument, NULL, 'o'},
	{"path", required_argument, NULL, 'p'},
	{"add", required_argument, NULL, 'a'},
	{"target", required_argument, NULL, 'T'},
	{"no-reference", no_argument, NULL, 'R'},
	{"equality-ids", required_argument, NULL, 'e'},
	{"to", required_argument, NULL, '2'},
	{"keep", required_argument, NULL, 'k'},
	{"add-column", required_argument, NULL, 'c'},
	{"snapshot", required_argument, NULL, 'n'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* commands and the option letters each accepts */
static const struct {
	const char *name;
	const char *opts;
} commands[] = {
	{"create", "FLSPUHNGZs"},  {"recreate", "FLSPUHNGZXs"}, {"append", "frvmdtos"},
	{"delete", "fpvs"},        {"overwrite", "fpvarts"},  {"replace", "vts"},
	{"pos-delete", "TRs"},     {"eq-delete", "ves"},      {"dv", "Ts"},
	{"rollback", "2"},         {"expire", "k"},           {"evolve-spec", "P"},
	{"evolve-schema", "c"},    {"list", "n"},             {"unsigned-ids", ""},
};

static const char *opt_name(int ch)
{
	for (const struct option *p = longopts; p->name; p++)
		if (p->val == ch)
			return p->name;
	return "?";
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ice-mktable: usage error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	fputs(usage_text, stderr);
	return 2;
}

static bool num(const char *s, int64_t min, int64_t *out)
{
	bool ok;

	*out = mk_parse_i64(s, &ok);
	return ok && *out >= min;
}

static int push(const char ***arr, int *n, const char *v)
{
	const char **na = realloc(*arr, (size_t)(*n + 1) * sizeof(char *));

	if (!na)
		return -1;
	na[(*n)++] = v;
	*arr = na;
	return 0;
}

static int set_enum(const char *arg, const char *a, const char *b, const char *c, int *out)
{
	if (strcmp(arg, a) == 0)
		*out = 0;
	else if (strcmp(arg, b) == 0)
		*out = 1;
	else if (c && strcmp(arg, c) == 0)
		*out = 2;
	else
		return -1;
	return 0;
}

/* one option; returns 0, or 2 on a usage error */
static int parse_opt(int ch, const char *arg, mk_opts *o)
{
	int64_t v;
	char *end;

	switch (ch) {
	case 'F':
		if (!num(arg, 1, &v) || v > 3)
			return usage_error("bad --format-version '%s'", arg);
		o->format = (int)v;
		return 0;
	case 'L': o->location = arg; return 0;
	case 'S': o->schema = arg; return 0;
	case 'P': o->partition = arg; return 0;
	case 'U': o->uuid = arg; return 0;
	case 'H':
		return set_enum(arg, "number", "name", "none", &o->hint) ?
			       usage_error("bad --hint '%s'", arg) : 0;
	case 'N':
		return set_enum(arg, "v", "uuid", NULL, &o->naming) ?
			       usage_error("bad --naming '%s'", arg) : 0;
	case 'G': o->gzip = true; return 0;
	case 'Z': o->nullable_manifests = true; return 0;
	case 'X': o->restart_versions = true; return 0;
	case 's':
		o->seed = strtoull(arg, &end, 0);
		if (!*arg || *end)
			return usage_error("bad --seed '%s'", arg);
		o->have_seed = true;
		return 0;
	case 'f':
		return num(arg, 1, &o->files) ? 0 : usage_error("bad --files '%s'", arg);
	case 'r':
		return num(arg, 0, &o->rows) ? 0 : usage_error("bad --rows '%s'", arg);
	case 'm':
		return num(arg, 1, &o->manifests) ? 0 : usage_error("bad --manifests '%s'", arg);
	case 'd':
		return num(arg, 1, &o->days) ? 0 : usage_error("bad --days '%s'", arg);
	case 'a':
		return num(arg, 0, &o->add) ? 0 : usage_error("bad --add '%s'", arg);
	case 'k':
		return num(arg, 1, &o->keep) ? 0 : usage_error("bad --keep '%s'", arg);
	case '2':
		o->have_to = true;
		return num(arg, INT64_MIN, &o->to) ? 0 : usage_error("bad --to '%s'", arg);
	case 'n':
		o->have_snapshot = true;
		return num(arg, INT64_MIN, &o->snapshot) ? 0 : usage_error("bad --snapshot '%s'", arg);
	case 'v':
		return push(&o->pvals, &o->npvals, arg) ? 1 : 0;
	case 'p':
		return push(&o->paths, &o->npaths, arg) ? 1 : 0;
	case 't': o->stats = true; return 0;
	case 'o': o->op = arg; return 0;
	case 'T': o->target = arg; return 0;
	case 'R': o->no_reference = true; return 0;
	case 'e': o->eq_ids = arg; return 0;
	case 'c': o->add_column = arg; return 0;
	}
	return 2;
}

static int check_required(const mk_opts *o)
{
	const char *c = o->cmd;
	bool del = !strcmp(c, "delete") || !strcmp(c, "overwrite");

	if (del && (o->files >= 0) + (o->npaths > 0) + (o->npvals > 0) != 1)
		return usage_error("%s needs exactly one of --files, --path, --partition-value", c);
	if ((!strcmp(c, "pos-delete") || !strcmp(c, "dv")) && !o->target)
		return usage_error("%s needs --target", c);
	if (!strcmp(c, "rollback") && !o->have_to)
		return usage_error("%s needs --to", c);
	if (!strcmp(c, "expire") && o->keep <= 0)
		return usage_error("%s needs --keep N (N >= 1)", c);
	if (!strcmp(c, "evolve-spec") && !o->partition)
		return usage_error("%s needs --partition", c);
	if (!strcmp(c, "evolve-schema") && !o->add_column)
		return usage_error("%s needs --add-column", c);
	return 0;
}

static int dispatch(const mk_opts *o)
{
	const char *c = o->cmd;

	if (!strcmp(c, "create"))
		return mk_cmd_create(o, false);
	if (!strcmp(c, "recreate"))
		return mk_cmd_create(o, true);
	if (!strcmp(c, "append"))
		return mk_cmd_append(o);
	if (!strcmp(c, "delete"))
		return mk_cmd_delete(o, false);
	if (!strcmp(c, "overwrite"))
		return mk_cmd_delete(o, true);
	if (!strcmp(c, "replace"))
		return mk_cmd_replace(o);
	if (!strcmp(c, "pos-delete"))
		return mk_cmd_rowdelete(o, 1);
	if (!strcmp(c, "eq-delete"))
		return mk_cmd_rowdelete(o, 2);
	if (!strcmp(c, "dv"))
		return mk_cmd_rowdelete(o, 3);
	if (!strcmp(c, "rollback"))
		return mk_cmd_rollback(o);
	if (!strcmp(c, "expire"))
		return mk_cmd_expire(o);
	if (!strcmp(c, "evolve-spec"))
		return mk_cmd_evolve_spec(o);
	if (!strcmp(c, "evolve-schema"))
		return mk_cmd_evolve_schema(o);
	if (!strcmp(c, "unsigned-ids"))
		return mk_cmd_unsigned_ids(o);
	return mk_cmd_list(o);
}

static int parse_args(int argc, char **argv, mk_opts *o)
{
	const char *allowed = NULL;
	int ch, rc;

	o->cmd = argv[1];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			allowed = commands[i].opts;
	if (!allowed)
		return usage_error("unknown command '%s'", argv[1]);
	opterr = 0;
	while ((ch = getopt_long(argc - 1, argv + 1, "", longopts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(usage_text, stdout);
			exit(0);
		}
		if (ch == '?' || ch == ':')
			return usage_error("bad or incomplete option '%s'", argv[optind]);
		if (!strchr(allowed, ch))
			return usage_error("option --%s not valid for this command", opt_name(ch));
		rc = parse_opt(ch, optarg, o);
		if (rc)
			return rc;
	}
	if (optind != argc - 2)
		return usage_error("%s needs exactly one table directory", o->cmd);
	o->dir = argv[1 + optind];
	return check_required(o);
}

int main(int argc, char **argv)
{
	mk_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.hint = o.naming = -1;
	o.files = o.rows = o.add = -1;
	if (argc < 2) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	rc = parse_args(argc, argv, &o);
	if (rc == 0)
		rc = dispatch(&o);
	free(o.pvals);
	free(o.paths);
	mk_avro_cleanup();
	return rc;
}
