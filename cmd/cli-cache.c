/* cli-cache: which cache a program opens (flag > environment >
 * configuration file > embedded default) and opening it. */
#include "config.h"
#include "cli.h"
#include "cli-cache.h"
#include "cli-config.h"
#include "ice_backend.h"
#include "ice_config.h"
#include "ice_time.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int clamp_ms(int64_t ms);

/* How long to wait for a lost Redis to come back: $ICE_CACHE_RECONNECT,
 * else the file's reconnect ("0" never). Returns -1, or the exit status
 * after a usage error. */
static int reconnect_budget(const ice_config *cfg, ice_backend_opts *bo)
{
	const char *s = getenv("ICE_CACHE_RECONNECT");
	int64_t ms = 0;
	ice_err err = { 0 };

	if (!s || !*s) {
		bo->reconnect_ms = cfg->reconnect_ms < 0 ? -1 : clamp_ms(cfg->reconnect_ms);
		return -1;
	}
	if (strcmp(s, "0") == 0) {
		bo->reconnect_ms = -1;
		return -1;
	}
	if (ice_parse_duration(s, &ms, &err) || ms > INT32_MAX)
		return ice_cli_usage_error("ICE_CACHE_RECONNECT: %s", err.msg[0] ? err.msg : "too long");
	bo->reconnect_ms = (int)ms;
	return -1;
}

/* Replicas an invalidation waits for: $ICE_CACHE_WAIT_REPLICAS (a count;
 * "0" none; unset: one when the master has replicas) and
 * $ICE_CACHE_WAIT_TIMEOUT (a duration). Returns -1, or the exit status
 * after a usage error. */
static int wait_settings(ice_backend_opts *bo)
{
	const char *n = getenv("ICE_CACHE_WAIT_REPLICAS"), *t = getenv("ICE_CACHE_WAIT_TIMEOUT");
	int64_t ms = 0;
	ice_err err = { 0 };
	char *end;
	long v;

	if (n && *n) {
		v = strtol(n, &end, 10);
		if (*end || v < 0 || v > 1000)
			return ice_cli_usage_error("ICE_CACHE_WAIT_REPLICAS: '%s' is not a count of replicas", n);
		bo->wait_replicas = v ? (int)v : -1;
	}
	if (t && *t) {
		if (ice_parse_duration(t, &ms, &err) || ms <= 0 || ms > INT32_MAX)
			return ice_cli_usage_error("ICE_CACHE_WAIT_TIMEOUT: %s", err.msg[0] ? err.msg : "out of range");
		bo->wait_timeout_ms = (int)ms;
	}
	return -1;
}

/* ---- configuration: flags > environment > file > built-in ---------------- */

static const char *first_of(const char *flag, const char *env_name, const char *file)
{
	if (flag)
		return flag;
	return ice_cli_env(env_name) ? ice_cli_env(env_name) : file;
}

static int clamp_ms(int64_t ms)
{
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* The one place that decides what happens when no cache is configured at
 * all: the embedded store in the user's cache folder. *url is a new string. */
static int open_unconfigured(char **url)
{
	ice_err err = { 0 };

	if (ice_backend_default_url(url, &err))
		return ice_cli_usage_error("no cache: give --url, set ICE_CACHE_URL, or set url in %s (%s)",
		                           ice_cli_config_path(), err.msg);
	return -1;
}

int ice_cli_open_cache(const char *url, const char *prefix, struct ice_backend **out)
{
	ice_backend_opts bo = { 0 };

	bo.prefix = prefix;
	return ice_cli_open_cache_opts(url, &bo, out);
}

int ice_cli_cache_target(const char *url, ice_backend_opts *bo, char **url_out)
{
	const ice_config *cfg;
	char *fallback = NULL;
	int status;

	*url_out = NULL;
	if ((status = ice_cli_config(&cfg)) >= 0)
		return status;
	url = first_of(url, "ICE_CACHE_URL", cfg->url);
	if (!url && (status = open_unconfigured(&fallback)) >= 0)
		return status;
	bo->prefix = first_of(bo->prefix, "ICE_CACHE_PREFIX", cfg->prefix);
	bo->connect_timeout_ms = clamp_ms(cfg->connect_timeout_ms);
	bo->command_timeout_ms = clamp_ms(cfg->command_timeout_ms);
	if ((status = reconnect_budget(cfg, bo)) >= 0 || (status = wait_settings(bo)) >= 0) {
		free(fallback);
		return status;
	}
	if (!(*url_out = fallback ? fallback : strdup(url))) {
		ice_cli_error("out of memory");
		return ICE_EXIT_FAILURE;
	}
	return -1;
}

int ice_cli_open_cache_opts(const char *url, ice_backend_opts *bo, struct ice_backend **out)
{
	ice_err err = { 0 };
	char *target = NULL;
	int status;

	*out = NULL;
	if ((status = ice_cli_cache_target(url, bo, &target)) < 0 &&
	    ice_backend_open(target, bo, out, &err)) {
		ice_cli_error("%s", err.msg);
		/* A URL that does not parse is a mistake in the flags or the
		 * configuration, not a cache that is away. */
		status = err.code == ICE_EINVAL ? ICE_EXIT_USAGE : ICE_EXIT_BACKEND;
	}
	free(target);
	return status;
}
