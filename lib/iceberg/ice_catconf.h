/* ice_catconf: which catalog a program talks to, and with what
 * credentials, from a flag, the environment and the configuration file.
 *
 * The default catalog: its URI from --catalog, else ICE_CATALOG, else
 * `catalog` in the file; a value without "://" names a catalog of the
 * file (catalog.NAME.*), whose settings are then used. Its credentials:
 * ICE_CATALOG_CREDENTIAL (client_id:client_secret), ICE_CATALOG_TOKEN and
 * ICE_CATALOG_WAREHOUSE, else catalog_credential, catalog_token and
 * catalog_warehouse of the file, else the named catalog's own.
 * A catalog asked for by name (NAME:db.orders) takes its settings from
 * the file only.
 *
 * The settings borrow their strings from cfg and the environment: keep
 * both unchanged while using them. */
#ifndef ICE_CATCONF_H
#define ICE_CATCONF_H

#include "ice_catalog.h"
#include "ice_config.h"
#include "ice_error.h"

/* name: a catalog name (NULL: the default catalog); flag_uri: --catalog
 * (NULL: not given); cfg may be NULL (no file). ICE_ENOENT when no
 * catalog is configured or NAME is not defined. *out is zeroed first. */
int ice_catalog_resolve(const ice_config *cfg, const char *name, const char *flag_uri,
                        ice_catalog_settings *out, ice_err *err);

#endif
