/* ice-catalog-probe: the catalog client from the command line, for tests.
 *
 * ice-catalog-probe [OPTIONS] COMMAND
 *   config KEY          the catalog's property KEY ("-" when unset)
 *   namespaces [NS]     the namespaces under NS (the top level), one a line
 *   tables NS           the tables of NS, "NS.TABLE" a line
 *   load TABLE [N]      loadTable N times (1) with the ETag kept between
 *                       loads: "changed LOCATION" or "unchanged 304" or
 *                       "unchanged same-location", a line each
 *   s3 TABLE            the S3 access vended with TABLE (never the secret)
 *   resolve TABLE       which catalog and settings TABLE resolves to
 * TABLE is NAMESPACE.TABLE or NAME:NAMESPACE.TABLE (a catalog of --config).
 * Options: --catalog URL, --config FILE, --page-size N, --attempts N,
 * --budget-ms N, --max-retry-after-ms N, --refs (snapshots=refs),
 * --sleep-ms N (between loads), --between CMD (a shell command run between
 * loads: a commit, a fault), --stats (counters on stderr).
 * Exit 0; 2 not found; 3 refused; 4 malformed; 1 other. */
#include "config.h"
#include "ice_catalog.h"
#include "ice_catconf.h"
#include "ice_config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *me = "ice-catalog-probe";

typedef struct {
	const char *flag_uri, *config_file;
	ice_catalog_settings s;
	ice_snapshots_mode mode;
	long sleep_ms;
	const char *between;
	bool stats;
} probe_opts;

static int fail(const ice_err *err)
{
	fprintf(stderr, "%s: error: %s\n", me, err->msg);
	switch (err->code) {
	case ICE_ENOENT:
		return 2;
	case ICE_EACCES:
		return 3;
	case ICE_EFORMAT:
		return 4;
	default:
		return 1;
	}
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int cmd_load(ice_catalog *c, const probe_opts *o, const ice_table_ident *id, int times,
                    ice_err *err)
{
	ice_table_seen seen = { 0 };
	int rc = ICE_OK;

	for (int i = 0; i < times && !rc; i++) {
		ice_loaded_table t;

		if (i && o->sleep_ms)
			pause_ms(o->sleep_ms);
		if (i && o->between && system(o->between) != 0) {
			rc = ice_err_set(err, ICE_EIO, "--between: '%s' failed", o->between);
			break;
		}
		if ((rc = ice_catalog_load_table(c, id, o->mode, &seen, &t, err)))
			break;
		if (t.not_modified)
			puts("unchanged 304");
		else if (t.unchanged)
			puts("unchanged same-location");
		else
			printf("changed %s\n", t.metadata_location ? t.metadata_location : "-");
		ice_loaded_table_clear(&t);
	}
	ice_table_seen_clear(&seen);
	return rc;
}

static int cmd_s3(ice_catalog *c, const probe_opts *o, const ice_table_ident *id, ice_err *err)
{
	ice_loaded_table t;
	ice_aws_config aws;
	int64_t expires;
	int rc;

	if ((rc = ice_catalog_load_table(c, id, o->mode, NULL, &t, err)))
		return rc;
	if (!(rc = ice_catalog_s3_access(c, &t, NULL, &aws, &expires, err))) {
		printf("access_key=%s secret=%s session_token=%s source=%s\n",
		       aws.access_key ? aws.access_key : "-", aws.secret_key ? "set" : "-",
		       aws.session_token ? "set" : "-", aws.source ? aws.source : "-");
		printf("region=%s endpoint=%s path_style=%d expires_at_ms=%" PRId64 "\n",
		       aws.region ? aws.region : "-", aws.endpoint ? aws.endpoint : "-",
		       aws.path_style, expires);
		ice_aws_config_clear(&aws);
	}
	ice_loaded_table_clear(&t);
	return rc;
}

static int cmd_lists(ice_catalog *c, int argc, char **argv, ice_err *err)
{
	ice_ns ns = { 0 };
	int rc;

	if (argc > 1 && (rc = ice_ns_parse(argv[1], &ns, err)))
		return rc;
	if (strcmp(argv[0], "namespaces") == 0) {
		ice_ns_list l;

		if (!(rc = ice_catalog_list_namespaces(c, &ns, &l, err))) {
			for (size_t i = 0; i < l.n; i++) {
				char *s = ice_ns_format(&l.v[i]);
				puts(s ? s : "?");
				free(s);
			}
			ice_ns_list_clear(&l);
		}
	} else {
		ice_ident_list l;

		if (!(rc = ice_catalog_list_tables(c, &ns, &l, err))) {
			for (size_t i = 0; i < l.n; i++) {
				char *s = ice_table_ident_format(&l.v[i]);
				puts(s ? s : "?");
				free(s);
			}
			ice_ident_list_clear(&l);
		}
	}
	ice_ns_clear(&ns);
	return rc;
}

/* Which catalog TABLE names, its settings filled into o->s (borrowing
 * from cfg), and the table's identifier. */
static int resolve(probe_opts *o, const ice_config *cfg, const char *arg, ice_table_ident *id,
                   ice_err *err)
{
	char *name = NULL;
	const char *rest;
	ice_catalog_settings s;
	int rc;

	memset(id, 0, sizeof *id);
	ice_catalog_ref_split(arg, &name, &rest);
	rc = ice_catalog_resolve(cfg, name, name ? NULL : o->flag_uri, &s, err);
	free(name);
	if (rc)
		return rc;
	if (*rest && (rc = ice_table_ident_parse(rest, id, err)))
		return rc;
	/* The probe's own knobs stay; the catalog's settings come in. */
	s.retry = o->s.retry;
	s.max_retry_after_ms = o->s.max_retry_after_ms;
	s.page_size = o->s.page_size;
	o->s = s;
	return ICE_OK;
}

static int run(probe_opts *o, const ice_config *cfg, int argc, char **argv, ice_err *err)
{
	const char *cmd = argv[0];
	bool table_cmd = !strcmp(cmd, "load") || !strcmp(cmd, "s3") || !strcmp(cmd, "resolve");
	ice_table_ident id = { 0 };
	ice_catalog *c = NULL;
	int rc;

	if ((table_cmd && argc < 2) || (!strcmp(cmd, "tables") && argc != 2)) {
		fprintf(stderr, "%s: error: bad command (see the comment atop the source)\n", me);
		return 1;
	}
	if ((rc = resolve(o, cfg, table_cmd ? argv[1] : "", &id, err)))
		goto out;
	if (!strcmp(cmd, "resolve")) {
		char *t = ice_table_ident_format(&id);

		printf("catalog=%s uri=%s table=%s warehouse=%s auth=%s headers=%zu\n",
		       o->s.name ? o->s.name : "-", o->s.uri, t ? t : "?",
		       o->s.warehouse ? o->s.warehouse : "-",
		       o->s.credential ? "oauth2" : o->s.token ? "token" : "none", o->s.n_headers);
		free(t);
		goto out;
	}
	if ((rc = ice_catalog_open(&c, &o->s, err)))
		goto out;
	if (!strcmp(cmd, "config") && argc == 2) {
		const char *v = ice_catalog_property(c, argv[1]);
		puts(v ? v : "-");
	} else if (!strcmp(cmd, "namespaces") || !strcmp(cmd, "tables")) {
		rc = cmd_lists(c, argc, argv, err);
	} else if (!strcmp(cmd, "load")) {
		rc = cmd_load(c, o, &id, argc > 2 ? atoi(argv[2]) : 1, err);
	} else if (!strcmp(cmd, "s3")) {
		rc = cmd_s3(c, o, &id, err);
	} else {
		fprintf(stderr, "%s: error: bad command (see the comment atop the source)\n", me);
		rc = -1;
	}
out:
	if (o->stats && c) {
		const ice_catalog_stats *st = ice_catalog_get_stats(c);
		fprintf(stderr, "requests=%" PRIu64 " retries=%" PRIu64 " not_modified=%" PRIu64
		        " tokens=%" PRIu64 "\n", st->requests, st->retries, st->not_modified, st->tokens);
	}
	ice_catalog_close(c);
	ice_table_ident_clear(&id);
	return rc < 0 ? 1 : rc ? fail(err) : 0;
}

int main(int argc, char **argv)
{
	probe_opts o = { 0 };
	ice_config cfg;
	ice_err err = { 0 };
	int i, status;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
		if (strcmp(a, "--stats") == 0)
			o.stats = true;
		else if (strcmp(a, "--refs") == 0)
			o.mode = ICE_SNAPSHOTS_REFS;
		else if (strcmp(a, "--catalog") == 0 && ++i)
			o.flag_uri = v;
		else if (strcmp(a, "--config") == 0 && ++i)
			o.config_file = v;
		else if (strcmp(a, "--page-size") == 0 && ++i)
			o.s.page_size = atoi(v);
		else if (strcmp(a, "--attempts") == 0 && ++i)
			o.s.retry.max_attempts = atoi(v);
		else if (strcmp(a, "--budget-ms") == 0 && ++i)
			o.s.retry.budget_ms = atoll(v);
		else if (strcmp(a, "--max-retry-after-ms") == 0 && ++i)
			o.s.max_retry_after_ms = atoll(v);
		else if (strcmp(a, "--between") == 0 && ++i)
			o.between = v;
		else if (strcmp(a, "--sleep-ms") == 0 && ++i)
			o.sleep_ms = atol(v);
		else
			break;
	}
	if (i >= argc) {
		fprintf(stderr, "%s: error: no command\n", me);
		return 1;
	}
	ice_config_init(&cfg);
	if (o.config_file && ice_config_load(o.config_file, &cfg, &err))
		return fail(&err);
	status = run(&o, o.config_file ? &cfg : NULL, argc - i, argv + i, &err);
	ice_config_clear(&cfg);
	return status;
}
