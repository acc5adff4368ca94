/* ice_readthrough: the read-through policy of `ice-cache fetch`, apart
 * from its I/O: when a stored copy may be served, how it is revalidated,
 * what a response makes us store and for how long, and which parts of a
 * request make its key. The caller reads files, talks HTTP and reads and
 * writes the cache; these functions decide, given the time as now_ms.
 *
 * Entries written by fetch carry in their origin "fetch " and a JSON
 * object: for files {"path","size","mtime_ns"}, for URLs {"url","etag",
 * "last_modified","fresh_until_ms" (absent: fresh until invalidated),
 * "lifetime_ms"}. Strings returned are malloc'd and owned by the caller. */
#ifndef ICE_READTHROUGH_H
#define ICE_READTHROUGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ice_backend.h"
#include "ice_error.h"
#include "ice_fetch.h"
#include "ice_fileio.h"
#include "ice_ttl.h"

#define ICE_READTHROUGH_TTL_MS (5 * 60 * 1000LL)          /* fetch_ttl when unset */
#define ICE_READTHROUGH_KEEP_MS (7 * 24 * 3600 * 1000LL)  /* fetch_keep when unset */

/* What the user and the configuration say about lifetimes. */
typedef struct ice_readthrough_settings {
	ice_ttl ttl;       /* --ttl: a DURATION or FOREVER decides; SMART and
	                      UNSET follow the response */
	ice_ttl fetch_ttl; /* for a response that says nothing; UNSET:
	                      ICE_READTHROUGH_TTL_MS */
	int64_t keep_ms;   /* how much longer an entry that can be revalidated
	                      is kept once stale; <= 0: ICE_READTHROUGH_KEEP_MS */
} ice_readthrough_settings;

/* ---- local files ----------------------------------------------------------- */

/* The origin of an entry holding the file at abs_path as id describes it;
 * NULL when out of memory. */
char *ice_readthrough_file_origin(const char *abs_path, const ice_file_id *id);

/* Whether entry m still holds the file now described by id: it was
 * stored by fetch from a file of the same size and modification time. */
bool ice_readthrough_file_current(const ice_entry_meta *m, const ice_file_id *id);

/* ---- URLs ------------------------------------------------------------------ */

/* What a stored URL entry says about itself. */
typedef struct ice_readthrough_entry {
	bool fresh;                /* may be served without asking the server */
	char *etag, *last_modified; /* its validators (NULL: none) */
	int64_t lifetime_ms;       /* the lifetime it was stored with; -1: unknown */
} ice_readthrough_entry;

/* Read entry m's origin. An entry fetch did not write (or without
 * fresh_until_ms: fresh until invalidated) is taken as it is: not fresh,
 * no validators, lifetime unknown. Never fails: what cannot be read
 * (even for want of memory) is absent. */
void ice_readthrough_entry_of(const ice_entry_meta *m, int64_t now_ms, ice_readthrough_entry *e);

void ice_readthrough_entry_clear(ice_readthrough_entry *e);

/* Whether a stored entry (NULL: none) can be revalidated, so that a
 * request for it is conditional and a 304 answer makes sense. */
bool ice_readthrough_can_revalidate(const ice_readthrough_entry *e);

/* Make q conditional on entry e's validators (NULL: none); q borrows
 * them. */
void ice_readthrough_condition(ice_http_req *q, const ice_readthrough_entry *e);

/* How to store a response. */
typedef struct ice_readthrough_store {
	bool store;          /* worth storing at all */
	bool forever;        /* fresh until invalidated */
	int64_t lifetime_ms; /* fresh this long after now (unless forever) */
	int64_t ttl_ms;      /* the entry's TTL (0: none) */
} ice_readthrough_store;

/* Decide how to store response r, which replaces prev (the stale entry a
 * 304 refreshes; NULL for a new body). A --ttl DURATION or
 * until-invalidated decides; otherwise the response does (no-store: not
 * stored; max-age, Expires, no-cache), else the lifetime stored before
 * (a 304 that says nothing), else fetch_ttl. An entry with a validator
 * (r's or prev's) stays keep_ms longer so it can be revalidated; one
 * that is never fresh and has none is not worth storing. */
void ice_readthrough_decide(const ice_readthrough_settings *s, const ice_http_resp *r,
                            const ice_readthrough_entry *prev, int64_t now_ms,
                            ice_readthrough_store *out);

/* The origin of the entry for url stored as p decides: r's validators,
 * else prev's (a 304 need not repeat them). NULL when out of memory. */
char *ice_readthrough_url_origin(const char *url, const ice_http_resp *r,
                                 const ice_readthrough_entry *prev,
                                 const ice_readthrough_store *p, int64_t now_ms);

/* The tags of a stored response: the given ones, then those of kept (the
 * entry a 304 refreshes) that are not among them, max at most; out
 * borrows the strings. Returns how many. */
size_t ice_readthrough_tags(const char *const *given, size_t n_given, const char *const *kept,
                            size_t n_kept, const char **out, size_t max);

/* The key of request q (method, URL, body and headers, as ice_derive_url_key
 * makes it): of its headers all take part, or, when key_names names some,
 * only those (by name, case-insensitively). */
int ice_readthrough_url_key(const ice_http_req *q, const char *const *key_names,
                            size_t n_key_names, char **key, ice_err *err);

#endif
