/* cli-catalog: tables named in an Iceberg REST catalog on the command line
 * (--catalog, ICE_CATALOG*, the catalogs of the configuration file), and
 * the catalog clients of a run, opened once per catalog. */
#ifndef ICE_CLI_CATALOG_H
#define ICE_CLI_CATALOG_H

#include <stdbool.h>

#include "ice_catpool.h"
#include "ice_error.h"
#include "ice_metadata.h"

/* The value of --catalog (a URL or the NAME of a catalog of the file);
 * borrowed: argv outlives the run. Call before the functions below. */
void ice_cli_catalog_flag(const char *uri);

/* The clients a watch round may use per catalog (default 8). */
void ice_cli_catalog_width(int width);

/* Does arg name a catalog table? "NAME:ns.table" with NAME a catalog of
 * the file does; with a default catalog configured, so does any text
 * with a dot and no slash that is not an existing path ("db.orders",
 * "a.b.t"; a URI or a path with a slash never is).
 * Then *catalog is NAME (caller frees; NULL: the default catalog) and
 * *rest the NAMESPACE.TABLE part, pointing into arg. */
bool ice_cli_catalog_table(const char *arg, char **catalog, const char **rest);

/* Is a default catalog configured? */
bool ice_cli_catalog_configured(void);

/* The pool of catalog `name` (NULL: the default), opened at the first call
 * (configuration read, token obtained); owned here, closed at exit. On
 * failure *err says why and the same error comes back on later calls. */
int ice_cli_catalog_pool(const char *name, ice_catpool **out, ice_err *err);

/* The current metadata of a catalog table (rest: "db.orders"), loaded
 * with snapshots=all; its path is the metadata-location. */
int ice_cli_catalog_metadata(const char *catalog, const char *rest, ice_metadata **md,
                             ice_err *err);

/* The name of a catalog in records: NAME, or the default's URL. */
const char *ice_cli_catalog_label(const char *name);

/* The catalog a record names (its `catalog`, as ice_cli_catalog_label
 * wrote it): true when this run knows it, with *name the catalog's NAME
 * (caller frees; NULL: the default catalog). */
bool ice_cli_catalog_of_label(const char *label, char **name);

#endif
