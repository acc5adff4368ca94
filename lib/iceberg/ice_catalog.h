/* ice_catalog: a client of the Iceberg REST catalog protocol (the
 * rest-catalog-open-api.yaml of Apache Iceberg): the catalog's
 * configuration, namespaces and tables listed page by page, and tables
 * loaded, conditionally when their ETag is known.
 *
 * Opening a catalog asks GET /v1/config (with ?warehouse= when one is
 * set): its defaults, then overrides, give the `prefix` of every further
 * path and the `namespace-separator`. Requests carry the bearer token
 * (ice_catauth.h: static, or OAuth2 client credentials against
 * oauth2_server_uri, by default {uri}/v1/oauth/tokens, refreshed before
 * expiry and on 401/419), the extra headers of the settings, and are
 * retried on transport failures, 429 and 5xx with Retry-After honoured up
 * to a bound (ice_cathttp.h). Errors are one line naming the catalog and
 * the endpoint: 401/403/419 ICE_EACCES, 404 ICE_ENOENT, malformed JSON or
 * answers that break the protocol ICE_EFORMAT. Nothing is printed; the
 * secret and tokens never appear in a message.
 *
 * An ice_catalog is used from one thread at a time. */
#ifndef ICE_CATALOG_H
#define ICE_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ice_awsconf.h"
#include "ice_cathttp.h"
#include "ice_catname.h"
#include "ice_error.h"
#include "ice_retry.h"

/* How to reach a catalog. Strings are borrowed for the call of
 * ice_catalog_open only (copied). */
typedef struct ice_catalog_settings {
	const char *name;              /* for messages ("prod"); NULL: the uri */
	const char *uri;               /* "https://host/api/catalog": /v1/... is appended */
	const char *warehouse;         /* NULL: none */
	const char *credential;        /* OAuth2 "client_id:client_secret"; NULL: none */
	const char *token;             /* a static bearer token; NULL: none */
	const char *scope;             /* NULL: "catalog" */
	const char *oauth2_server_uri; /* NULL: {uri}/v1/oauth/tokens */
	const char *ca_bundle;         /* NULL: the system's CAs */
	const char *const *headers;    /* extra "Name: value" lines */
	size_t n_headers;
	ice_retry_policy retry;
	int64_t timeout_ms, connect_timeout_ms; /* 0: 60 s, 10 s */
	int64_t max_retry_after_ms;    /* 0: 10 s */
	int page_size;                 /* pageSize asked for lists; 0: the server's choice */
} ice_catalog_settings;

typedef struct ice_catalog ice_catalog;

/* Authenticates when needed and reads GET /v1/config. *c is the caller's. */
int ice_catalog_open(ice_catalog **c, const ice_catalog_settings *s, ice_err *err);
void ice_catalog_close(ice_catalog *c);

const char *ice_catalog_name(const ice_catalog *c);
/* A property of the catalog's configuration (overrides over defaults),
 * NULL when unset. */
const char *ice_catalog_property(const ice_catalog *c, const char *key);
const ice_catalog_stats *ice_catalog_get_stats(const ice_catalog *c);

typedef struct ice_ns_list {
	ice_ns *v;
	size_t n;
} ice_ns_list;

typedef struct ice_ident_list {
	ice_table_ident *v;
	size_t n;
} ice_ident_list;

void ice_ns_list_clear(ice_ns_list *l);
void ice_ident_list_clear(ice_ident_list *l);

/* The namespaces directly under parent (NULL or empty: the top level),
 * every page. out is filled on success only. */
int ice_catalog_list_namespaces(ice_catalog *c, const ice_ns *parent, ice_ns_list *out,
                                ice_err *err);
/* The tables of a namespace, every page. */
int ice_catalog_list_tables(ice_catalog *c, const ice_ns *ns, ice_ident_list *out, ice_err *err);

typedef enum { ICE_SNAPSHOTS_ALL = 0, ICE_SNAPSHOTS_REFS = 1 } ice_snapshots_mode;

/* What was seen of a table at the last load, per snapshots mode (ETags
 * differ between them): kept by the caller between polls. */
typedef struct ice_table_seen {
	char *etag[2];
	char *metadata_location[2];
} ice_table_seen;

void ice_table_seen_clear(ice_table_seen *s);

typedef struct ice_loaded_table {
	bool unchanged;            /* 304, or the same metadata-location when no ETag came */
	bool not_modified;         /* the server answered 304: nothing was sent or parsed */
	char *metadata_location;   /* NULL after a 304 (or when the table is staged) */
	char *etag;                /* NULL: none sent */
	json_t *result;            /* the LoadTableResult; NULL after a 304 */
	json_t *metadata;          /* its "metadata" object (borrowed from result) */
} ice_loaded_table;

void ice_loaded_table_clear(ice_loaded_table *t);

/* loadTable with ?snapshots=MODE and X-Iceberg-Access-Delegation:
 * vended-credentials. With seen, the request is conditional on the ETag
 * last seen in that mode, and seen is updated from the answer. out is
 * filled on success only (clear it). */
int ice_catalog_load_table(ice_catalog *c, const ice_table_ident *id, ice_snapshots_mode mode,
                           ice_table_seen *seen, ice_loaded_table *out, ice_err *err);

/* S3 access for a table's files, as the catalog vends it: the
 * storage-credentials entry whose prefix is the longest matching
 * `location` (NULL: the metadata location) first, then the table's
 * config, then the catalog's: s3.access-key-id, s3.secret-access-key and
 * s3.session-token (taken together from one place), client.region,
 * s3.endpoint, s3.path-style-access. aws->access_key is NULL when none
 * were vended; region and endpoint NULL when not said. *expires_at_ms is
 * s3.session-token-expires-at-ms (Unix ms) or -1. aws is filled on
 * success only; clear it with ice_aws_config_clear. */
int ice_catalog_s3_access(const ice_catalog *c, const ice_loaded_table *t, const char *location,
                          ice_aws_config *aws, int64_t *expires_at_ms, ice_err *err);

#endif
