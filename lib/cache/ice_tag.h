/* ice_tag: the tag grammar every backend and the archive share.
 *
 * A tag is "table:T", "partition:T:KEY", "file:T:PATH", "snapshot:T:ID"
 * (table-scoped: it names the table T) or free-form. No tag may be empty or
 * contain "\n" (the backends join tags with newlines). An entry's tags may
 * name several tables (a cached join depends on each): its home table is
 * the one its first table-scoped tag names, and a commit to any of its
 * tables invalidates it. Pure functions: nothing is allocated except where
 * said. */
#ifndef ICE_TAG_H
#define ICE_TAG_H

#include <stdbool.h>
#include <stddef.h>

#include "ice_error.h"

/* The table of a table-scoped tag: *t (pointing into tag) and *tlen set
 * and 1 returned; 0 for a free-form tag. */
int ice_tag_table(const char *tag, const char **t, size_t *tlen);

/* Whether tag is a data or delete file's, "file:T:PATH" (such a tag
 * usually covers few entries). */
int ice_tag_is_file(const char *tag);

/* A well-formed tag (not empty, no "\n"): ICE_OK, else ICE_EINVAL naming
 * the tag by its position pos (0-based; the message counts from 1). */
int ice_tag_check(const char *tag, size_t pos, ice_err *err);

/* Every tag well-formed: what invalidate accepts. */
int ice_tags_check_each(const char *const *tags, size_t n, ice_err *err);

/* put's rules: every tag well-formed, no table name beginning with "}"
 * (icecache-keys(7)); the table-scoped ones may name any number of
 * tables. ICE_OK or ICE_EINVAL naming the tag. */
int ice_tags_check(const char *const *tags, size_t n, ice_err *err);


/* Whether any of the n tags names a table (ice_tag_table). */
bool ice_tags_name_a_table(const char *const *tags, size_t n);

/* An entry's table: that of its first table-scoped tag, else "_"; a new
 * string the caller frees (NULL when out of memory). */
char *ice_tags_table(const char *const *tags, size_t n);

/* Every table an entry's tags name, each once, in the order of first
 * appearance (the home table first); the one table "_" when none does.
 * *tables is a new vector of *n_tables new strings, freed with
 * ice_backend_strv_free. ICE_OK or ICE_ENOMEM. */
int ice_tags_table_list(const char *const *tags, size_t n, char ***tables, size_t *n_tables,
                        ice_err *err);

#endif
