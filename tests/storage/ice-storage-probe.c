/* ice-storage-probe: the storage layer from the command line, for tests.
 *
 * ice-storage-probe [OPTIONS] read URI | range URI OFFSET LENGTH | stat URI |
 *                   readif URI ETAG | list URI [-r] | whoami | readimm URI... |
 *                   prefetch URI... | prefetch-list FILE
 * Bytes go to stdout as read; stat prints "size=N etag=E mtime_ms=M";
 * readif prints "unchanged" or the bytes; list one "NAME SIZE" a line;
 * whoami where credentials, region and endpoint came from (never a secret).
 * Options: --attempts N, --budget-ms N, --timeout-ms N, --page-keys N,
 * --anonymous, --profile P, --region R, --endpoint URL, --stats (requests
 * and retries on stderr); readimm (through the object cache): --cache-dir
 * DIR, --cache-max BYTES, --no-cache. prefetch: ice_storage_prefetch of
 * every URI, then readimm of each (prefetch-list: the URIs one a line in
 * FILE); --concurrency N. readimm and prefetch go on past an object that
 * fails. Exit 0; 2 not found; 3 access denied; 1 other. */
#include "config.h"
#include "ice_storage.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *me = "ice-storage-probe";

static int fail(const ice_err *err)
{
	fprintf(stderr, "%s: error: %s\n", me, err->msg);
	return err->code == ICE_ENOENT ? 2 : err->code == ICE_EACCES ? 3 : 1;
}

static int emit(const ice_obj *o)
{
	if (o->unchanged) {
		puts("unchanged");
		return 0;
	}
	return fwrite(o->data, 1, o->len, stdout) == o->len ? 0 : 1;
}

/* URIs one a line (for more than a command line holds). */
static char **read_list(const char *file, int *n)
{
	FILE *f = fopen(file, "r");
	char **v = NULL, *line = NULL;
	size_t cap = 0, len;
	ssize_t got;

	*n = 0;
	if (!f)
		return NULL;
	while ((got = getline(&line, &cap, f)) > 0) {
		char **w;
		len = (size_t)got;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (!len || !(w = realloc(v, (size_t)(*n + 1) * sizeof *v)))
			continue;
		v = w;
		v[(*n)++] = strdup(line);
	}
	free(line);
	fclose(f);
	return v;
}

/* Each in turn; one that fails is reported and the rest still read: the
 * first failure's status. */
static int read_all_imm(ice_storage *st, int n, char **uris, ice_err *err)
{
	ice_obj o = { 0 };
	int status = 0, rc;

	for (int i = 0; i < n; i++) {
		if (ice_storage_read_immutable(st, uris[i], &o, err))
			rc = fail(err);
		else
			rc = emit(&o);
		ice_obj_clear(&o);
		if (rc && !status)
			status = rc;
	}
	return status;
}

static int prefetch(ice_storage *st, int n, char **uris, ice_err *err)
{
	if (ice_storage_prefetch(st, (const char *const *)uris, (size_t)n, err))
		return fail(err);
	return read_all_imm(st, n, uris, err);
}

static int run(ice_storage *st, int argc, char **argv, ice_err *err)
{
	const char *cmd = argv[0];
	ice_obj o = { 0 };
	int rc;

	if (strcmp(cmd, "prefetch") == 0 && argc >= 2) {
		return prefetch(st, argc - 1, argv + 1, err);
	} else if (strcmp(cmd, "prefetch-list") == 0 && argc == 2) {
		int n;
		char **v = read_list(argv[1], &n);
		rc = v ? prefetch(st, n, v, err) : 1;
		for (int i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return rc;
	} else if (strcmp(cmd, "readimm") == 0 && argc >= 2) {
		return read_all_imm(st, argc - 1, argv + 1, err);
	} else if (strcmp(cmd, "read") == 0 && argc == 2) {
		if ((rc = ice_storage_read(st, argv[1], &o, err)))
			return fail(err);
	} else if (strcmp(cmd, "range") == 0 && argc == 4) {
		if ((rc = ice_storage_read_range(st, argv[1], strtoull(argv[2], NULL, 10),
		                                 strtoull(argv[3], NULL, 10), &o, err)))
			return fail(err);
	} else if (strcmp(cmd, "readif") == 0 && argc == 3) {
		if ((rc = ice_storage_read_if(st, argv[1], argv[2], &o, err)))
			return fail(err);
	} else if (strcmp(cmd, "stat") == 0 && argc == 2) {
		ice_obj_info i;
		if ((rc = ice_storage_stat(st, argv[1], &i, err)))
			return fail(err);
		printf("size=%" PRIu64 " etag=%s mtime_ms=%" PRId64 "\n", i.size,
		       i.etag ? i.etag : "-", i.mtime_ms);
		ice_obj_info_clear(&i);
		return 0;
	} else if (strcmp(cmd, "list") == 0 && (argc == 2 || (argc == 3 && !strcmp(argv[2], "-r")))) {
		ice_listing l = { 0 };
		if ((rc = ice_storage_list(st, argv[1], argc == 3, &l, err)))
			return fail(err);
		for (size_t i = 0; i < l.n; i++)
			printf("%s %" PRIu64 "\n", l.v[i].name, l.v[i].size);
		ice_listing_clear(&l);
		return 0;
	} else {
		fprintf(stderr, "%s: error: bad command (see the comment atop ice-storage-probe.c)\n", me);
		return 1;
	}
	rc = emit(&o);
	ice_obj_clear(&o);
	return rc;
}

int main(int argc, char **argv)
{
	ice_storage_opts o = { 0 };
	ice_storage *st;
	ice_err err;
	bool stats = false, whoami;
	int i, status;

	o.s3.aws.path_style = -1;
	for (i = 1; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *a = argv[i], *v = argv[i + 1];
		if (strcmp(a, "--stats") == 0)
			stats = true;
		else if (strcmp(a, "--no-cache") == 0)
			o.cache.disabled = true;
		else if (strcmp(a, "--cache-dir") == 0 && ++i)
			o.cache.dir = v;
		else if (strcmp(a, "--cache-max") == 0 && ++i)
			o.cache.max_bytes = strtoull(v, NULL, 10);
		else if (strcmp(a, "--anonymous") == 0)
			o.s3.aws.anonymous = true;
		else if (strcmp(a, "--concurrency") == 0 && ++i)
			o.concurrency = atoi(v);
		else if (strcmp(a, "--attempts") == 0 && ++i)
			o.s3.retry.max_attempts = atoi(v);
		else if (strcmp(a, "--budget-ms") == 0 && ++i)
			o.s3.retry.budget_ms = atoll(v);
		else if (strcmp(a, "--timeout-ms") == 0 && ++i)
			o.s3.timeout_ms = atoll(v);
		else if (strcmp(a, "--page-keys") == 0 && ++i)
			o.s3.list_page_keys = atoi(v);
		else if (strcmp(a, "--profile") == 0 && ++i)
			o.s3.aws.profile = v;
		else if (strcmp(a, "--region") == 0 && ++i)
			o.s3.aws.region = v;
		else if (strcmp(a, "--endpoint") == 0 && ++i)
			o.s3.aws.endpoint_url = v;
		else
			break;
	}
	if (i >= argc) {
		fprintf(stderr, "%s: error: no command\n", me);
		return 1;
	}
	if (ice_storage_open(&st, &o, &err))
		return fail(&err);
	whoami = strcmp(argv[i], "whoami") == 0;
	if (whoami) {
		ice_s3 *s3;
		if (ice_s3_open(&s3, &o.s3, &err)) {
			status = fail(&err);
		} else {
			const ice_aws_config *c = ice_s3_config(s3);
			printf("credentials: %s\nregion: %s\nendpoint: %s\naddressing: %s\n", c->source,
			       c->region, c->endpoint ? c->endpoint : "AWS",
			       c->path_style ? "path-style" : "virtual-hosted");
			ice_s3_close(s3);
			status = 0;
		}
	} else {
		status = run(st, argc - i, argv + i, &err);
	}
	if (stats) {
		ice_io_stats s = ice_storage_stats(st);
		ice_objcache_stats c = ice_storage_cache_stats(st);
		fprintf(stderr, "requests=%" PRIu64 " retries=%" PRIu64 " not_modified=%" PRIu64
		        " cache_hits=%" PRIu64 " cache_corrupt=%" PRIu64 " cache_evicted=%" PRIu64 "\n",
		        s.requests, s.retries, s.not_modified, c.hits, c.corrupt, c.evicted);
	}
	ice_storage_close(st);
	return status;
}
