/* ice_catname: names of catalog tables and namespaces, as users write them
 * and as the Iceberg REST protocol puts them in URLs.
 *
 * A user names a table NAMESPACE.TABLE, the namespace of one or more
 * levels ("db.orders", "a.b.orders"), optionally after the name of a
 * configured catalog ("prod:db.orders"). In a URL a namespace is its levels
 * percent-encoded and joined by the separator the catalog advertises
 * (`namespace-separator`, already URL-encoded), by default %1F (0x1F).
 *
 * Every string is owned by the struct holding it and released by its
 * _clear function. */
#ifndef ICE_CATNAME_H
#define ICE_CATNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "ice_error.h"
#include "ice_sbuf.h"

typedef struct ice_ns {
	char **levels;
	size_t n;
} ice_ns;

typedef struct ice_table_ident {
	ice_ns ns;
	char *name;
} ice_table_ident;

void ice_ns_clear(ice_ns *ns);
void ice_table_ident_clear(ice_table_ident *t);

/* "a.b" into its levels; empty levels ("a..b", ".a") are ICE_EINVAL. */
int ice_ns_parse(const char *text, ice_ns *out, ice_err *err);
/* "a.b.orders": namespace a.b, table orders; at least two parts. */
int ice_table_ident_parse(const char *text, ice_table_ident *out, ice_err *err);

/* A catalog table reference "NAME:rest" (NAME of letters, digits, '_' and
 * '-', rest not starting with "//", so URIs are not taken for one): true,
 * with the catalog name copied into *catalog (caller frees) and *rest
 * pointing into arg. Otherwise false, *catalog NULL and *rest = arg. */
bool ice_catalog_ref_split(const char *arg, char **catalog, const char **rest);

/* The levels joined by '.' (caller frees; NULL when out of memory). */
char *ice_ns_format(const ice_ns *ns);
char *ice_table_ident_format(const ice_table_ident *t);

/* Append the URL form of ns to b; sep: the encoded separator (NULL: %1F). */
void ice_ns_put_url(ice_sbuf *b, const ice_ns *ns, const char *sep);

/* A JSON array of strings (a Namespace of the protocol) into *out. */
int ice_ns_from_json(const json_t *arr, ice_ns *out, ice_err *err);

#endif
