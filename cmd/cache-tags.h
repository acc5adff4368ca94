/* cache-tags: ice-cache's checks of tags against what the cache knows
 * (put and exec warn or refuse) and the doctor subcommand. */
#ifndef ICE_CACHE_TAGS_H
#define ICE_CACHE_TAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "ice_backend.h"

/* Warn on stderr about each tag that can never be invalidated (naming the
 * close matches) and, when the entry will have no TTL (no_ttl), about tags
 * of which none names a table: nothing but rm would remove the entry.
 * strict (--strict, or strict_tags in the configuration): say it as an
 * error and refuse. Returns -1 to go on, else the exit status
 * (ICE_EXIT_USAGE when refused). A cache that cannot be asked is not a
 * reason to refuse: the put that follows reports it. */
int ice_cache_check_tags(ice_backend *b, const char *const *tags, size_t n, bool no_ttl, bool strict);

/* The form a tag is stored in (ice_tagnorm.h), for filters (ls --tag): a
 * new string, or NULL when out of memory or the cache cannot be asked (the
 * caller then uses the tag as given). */
char *ice_cache_stored_tag(ice_backend *b, const char *tag);

/* doctor: a "doctor" record for each entry tag (of the table's entries, or
 * all with table NULL) that can never equal a tag the pipeline emits, with
 * the reason and whether anything else invalidates the entry. Returns the
 * exit status: 0 none found, 1 some found or a failure, 3 backend. */
int ice_cache_doctor(ice_backend *b, const char *table);

#endif
