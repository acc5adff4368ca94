/* cli-storage: flags > environment > configuration file for the storage
 * layer's settings (credentials, endpoint, retries, the object cache). */
#include "config.h"
#include "cli.h"
#include "cli-config.h"
#include "cli-storage.h"
#include "ice_config.h"
#include "ice_size.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool ice_cli_storage_option(int c, const char *arg, ice_cli_storage_flags *f)
{
	switch (c) {
	case ICE_CLI_OPT_ENDPOINT_URL: f->endpoint_url = arg; return true;
	case ICE_CLI_OPT_PROFILE: f->profile = arg; return true;
	case ICE_CLI_OPT_NO_SIGN_REQUEST: f->anonymous = true; return true;
	case ICE_CLI_OPT_NO_OBJECT_CACHE: f->no_object_cache = true; return true;
	default: return false;
	}
}

/* Whether any of the (NULL-terminated) variables is set. */
static bool env_says(const char *const *names)
{
	for (; *names; names++)
		if (ice_cli_env(*names))
			return true;
	return false;
}

/* Credentials, region and endpoint. The AWS variables are read by
 * ice_awsconf.h below anything given explicitly, so a configuration key is
 * passed on only when no variable says the same: the environment wins. */
static void aws_settings(const ice_cli_storage_flags *f, const ice_config *cfg,
                         ice_aws_settings *s)
{
	static const char *const profile_vars[] = { "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		                                    "AWS_ACCESS_KEY_ID", NULL };
	static const char *const region_vars[] = { "AWS_REGION", "AWS_DEFAULT_REGION", NULL };
	static const char *const endpoint_vars[] = { "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL",
		                                     NULL };

	s->profile = f->profile ? f->profile : env_says(profile_vars) ? NULL : cfg->s3_profile;
	s->region = env_says(region_vars) ? NULL : cfg->s3_region;
	s->endpoint_url = f->endpoint_url                ? f->endpoint_url
	                  : env_says(endpoint_vars) ? NULL
	                                            : cfg->s3_endpoint_url;
	s->anonymous = f->anonymous || cfg->s3_anonymous == 1;
	s->path_style = cfg->s3_path_style;
}

static int retry_settings(const ice_config *cfg, ice_s3_opts *s3)
{
	const char *v = ice_cli_env("AWS_MAX_ATTEMPTS");
	long long n = cfg->s3_attempts;

	if (v && (!ice_cli_parse_count(v, &n) || n < 1 || n > 100))
		return ice_cli_usage_error("AWS_MAX_ATTEMPTS wants 1 to 100, not '%s'", v);
	if (!v && n == 0)
		return ice_cli_usage_error("%s: s3_attempts wants 1 or more", ice_cli_config_path());
	if (n > 0)
		s3->retry.max_attempts = (int)n;
	s3->retry.budget_ms = cfg->s3_retry_time_ms;
	s3->timeout_ms = cfg->s3_timeout_ms;
	return -1;
}

/* --no-object-cache, else ICE_OBJECT_CACHE, else object_cache: a folder,
 * or "off"; the size from ICE_OBJECT_CACHE_SIZE, else object_cache_size. */
static int cache_settings(const ice_cli_storage_flags *f, const ice_config *cfg,
                          ice_objcache_opts *c)
{
	const char *dir = ice_cli_env("ICE_OBJECT_CACHE"), *size = ice_cli_env("ICE_OBJECT_CACHE_SIZE");
	int64_t bytes = cfg->object_cache_size;
	ice_err err = { 0 };

	if (!dir)
		dir = cfg->object_cache;
	c->disabled = f->no_object_cache || (dir && strcasecmp(dir, "off") == 0);
	c->dir = c->disabled ? NULL : dir;
	if (c->dir && c->dir[0] != '/')
		return ice_cli_usage_error("the object cache must be an absolute folder (or off), "
		                           "not '%s'", c->dir);
	if (size && ice_parse_size(size, &bytes, &err))
		return ice_cli_usage_error("ICE_OBJECT_CACHE_SIZE: %s", err.msg);
	if (size && bytes == 0)
		return ice_cli_usage_error("ICE_OBJECT_CACHE_SIZE: want a size above 0 "
		                           "(ICE_OBJECT_CACHE=off turns the cache off)");
	c->max_bytes = (uint64_t)bytes;
	return -1;
}

int ice_cli_storage_opts(const ice_cli_storage_flags *f, ice_storage_opts *o)
{
	static const ice_cli_storage_flags none;
	const ice_config *cfg;
	int status;

	memset(o, 0, sizeof *o);
	if (!f)
		f = &none;
	if ((status = ice_cli_config(&cfg)) >= 0)
		return status;
	aws_settings(f, cfg, &o->s3.aws);
	if ((status = retry_settings(cfg, &o->s3)) >= 0)
		return status;
	return cache_settings(f, cfg, &o->cache);
}

int ice_cli_storage_open(const ice_cli_storage_flags *f, ice_storage **st)
{
	ice_storage_opts o;
	ice_err err = { 0 };
	int status;

	*st = NULL;
	if ((status = ice_cli_storage_opts(f, &o)) >= 0)
		return status;
	if (ice_storage_open(st, &o, &err)) {
		ice_cli_error("%s", err.msg);
		return ICE_EXIT_FAILURE;
	}
	return -1;
}

static void add_io(ice_io_stats *t, ice_io_stats s)
{
	t->requests += s.requests;
	t->retries += s.retries;
	t->bytes += s.bytes;
	t->not_modified += s.not_modified;
	t->gets += s.gets;
	t->heads += s.heads;
	t->lists += s.lists;
	t->conditional += s.conditional;
}

static void add_cache(ice_objcache_stats *t, ice_objcache_stats s)
{
	t->hits += s.hits;
	t->misses += s.misses;
	t->stored += s.stored;
	t->corrupt += s.corrupt;
	t->evicted += s.evicted;
}

void ice_cli_storage_summary_all(const ice_storage *const *st, size_t n, const char *extra)
{
	ice_io_stats io = { 0 };
	ice_objcache_stats oc = { 0 };
	const char *src = NULL;

	for (size_t i = 0; i < n; i++) {
		if (!st[i])
			continue;
		add_io(&io, ice_storage_stats(st[i]));
		add_cache(&oc, ice_storage_cache_stats(st[i]));
		if (ice_storage_credential_source(st[i]))
			src = ice_storage_credential_source(st[i]);
	}
	/* The first fields and names are ice-storage-probe --stats', for grep
	 * and awk; requests are tries (retries included), a 304 has no body. */
	fprintf(stderr,
	        "%s: storage: requests=%" PRIu64 " retries=%" PRIu64 " not_modified=%" PRIu64
	        " bytes=%" PRIu64 " cache_hits=%" PRIu64 " cache_misses=%" PRIu64
	        " cache_corrupt=%" PRIu64 " cache_evicted=%" PRIu64 " gets=%" PRIu64 " heads=%" PRIu64
	        " lists=%" PRIu64 " conditional=%" PRIu64 " credentials: %s%s%s\n",
	        ice_cli_program(), io.requests, io.retries, io.not_modified, io.bytes, oc.hits,
	        oc.misses, oc.corrupt, oc.evicted, io.gets, io.heads, io.lists, io.conditional,
	        src ? src : "none used", extra ? "; " : "", extra ? extra : "");
}

void ice_cli_storage_summary(const ice_storage *st, const char *extra)
{
	ice_cli_storage_summary_all(&st, 1, extra);
}
