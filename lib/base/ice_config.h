/* ice_config: the configuration file every IceCache program reads.
 *
 * Format: one "key = value" per line; blank lines and lines whose first
 * non-blank character is '#' are ignored. The value is the rest of the line
 * with surrounding blanks removed (no quoting, no inline comments: '#' may
 * occur in a URL). An unknown key, a key given twice, an empty or malformed
 * value is an error naming "file:line". Which file is read, and how it
 * ranks against flags and the environment, is cmd/cli.c's business.
 *
 * Catalogs: `catalog`, `catalog_credential`, `catalog_token` and
 * `catalog_warehouse` set the default catalog (as ICE_CATALOG... do);
 * `catalog.NAME.KEY = value` defines the catalog NAME (letters, digits,
 * '_' and '-') with KEY one of uri (required), credential, token,
 * warehouse, scope, oauth2_server_uri, ca_bundle, or header.HEADER (an
 * extra request header, such as an API key); `catalog = NAME` makes a
 * named catalog the default, and a table given as NAME:db.orders uses it.
 *
 * Object storage: `s3_region`, `s3_endpoint_url`, `s3_path_style`,
 * `s3_profile`, `s3_anonymous` (as the AWS variables and flags say them),
 * `s3_attempts`, `s3_retry_time`, `s3_timeout` (retries and time-outs of
 * one request), `object_cache` (a folder, or off) and `object_cache_size`
 * (a SIZE, ice_size.h, above 0). Booleans are true/false,
 * yes/no, on/off or 1/0.
 *
 * An ice_config owns its strings: ice_config_clear() frees them. Fields
 * not set in the file stay zero (strings NULL, durations 0, hints UNSET),
 * but for booleans and counts, which are -1. */
#ifndef ICE_CONFIG_H
#define ICE_CONFIG_H

#include <stdint.h>

#include "ice_error.h"
#include "ice_ttl.h"

/* One named catalog of the file; every string owned by the ice_config. */
typedef struct ice_catalog_conf {
	char *name;
	char *uri, *credential, *token, *warehouse, *scope, *oauth2_server_uri, *ca_bundle;
	char **headers;             /* "Name: value" lines, in file order */
	size_t n_headers;
} ice_catalog_conf;

typedef struct ice_config {
	char *url;                  /* url: the cache */
	char *prefix;               /* prefix: key namespace */
	int64_t connect_timeout_ms; /* connect_timeout: reaching the backend */
	int64_t command_timeout_ms; /* command_timeout: one backend command */
	ice_ttl default_ttl;        /* default_ttl: put without --ttl */
	ice_ttl exec_ttl;           /* exec_ttl: exec results under --ttl smart */
	ice_ttl fetch_ttl;          /* fetch_ttl: URLs that say nothing about freshness */
	int64_t fetch_keep_ms;      /* fetch_keep: how long a stale URL entry stays to revalidate */
	int64_t fetch_timeout_ms;   /* fetch_timeout: one whole HTTP transfer */
	int64_t fetch_redirects;    /* fetch_redirects: redirects followed; -1 unset */
	int64_t lock_timeout_ms;    /* lock_timeout: exec's lock on a key being computed */
	int64_t reconnect_ms;       /* reconnect: wait for a lost Redis; -1 never ("0") */
	int strict_tags;            /* strict_tags: true/false (yes/no): put and exec refuse
	                             * tags that can never be invalidated */
	char *catalog;              /* catalog: the default catalog, a URL or a NAME */
	char *catalog_credential;   /* catalog_credential: client_id:client_secret */
	char *catalog_token;        /* catalog_token: a bearer token */
	char *catalog_warehouse;    /* catalog_warehouse */
	char *s3_region;            /* s3_region */
	char *s3_endpoint_url;      /* s3_endpoint_url: an S3-compatible store */
	char *s3_profile;           /* s3_profile: an AWS profile */
	int s3_path_style;          /* s3_path_style: 1, 0; -1 unset (by the endpoint) */
	int s3_anonymous;           /* s3_anonymous: 1 unsigned requests, 0; -1 unset */
	int64_t s3_attempts;        /* s3_attempts: tries of one request; -1 unset */
	int64_t s3_retry_time_ms;   /* s3_retry_time: no new try after this long */
	int64_t s3_timeout_ms;      /* s3_timeout: one try, whole transfer */
	char *object_cache;         /* object_cache: its folder, or "off" */
	int64_t object_cache_size;  /* object_cache_size: bytes (0 unset) */
	ice_catalog_conf *catalogs; /* catalog.NAME.*: the named catalogs, in file order */
	size_t n_catalogs;
} ice_config;

/* An empty configuration (everything unset). */
void ice_config_init(ice_config *c);
void ice_config_clear(ice_config *c);

/* Parse `text` (NUL-terminated); name is the file name used in errors
 * ("NAME:LINE: unknown key 'ulr'"). On error *c is left cleared. */
int ice_config_parse(const char *text, const char *name, ice_config *c, ice_err *err);

/* Read and parse the file at path. A missing file is ICE_ENOENT (the
 * caller decides whether that matters). */
int ice_config_load(const char *path, ice_config *c, ice_err *err);

/* The named catalog, or NULL when the file defines none of that name. */
const ice_catalog_conf *ice_config_catalog(const ice_config *c, const char *name);

#endif
