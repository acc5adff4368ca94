/* cli-vended: the storage handles of catalog tables, opened with the S3
 * credentials their catalog vends (X-Iceberg-Access-Delegation:
 * vended-credentials): the keys asked for once per table, one handle per
 * distinct set of keys (tables vended the same keys share it), all owned
 * here and closed at exit. */
#ifndef ICE_CLI_VENDED_H
#define ICE_CLI_VENDED_H

#include "cli-storage.h"
#include "ice_error.h"
#include "ice_storage.h"

/* The program's storage flags, the base of every vended handle (their
 * retries, time-outs, object cache; region, endpoint and path style unless
 * the catalog says). Borrowed; call before the functions below. */
void ice_cli_vended_flags(const ice_cli_storage_flags *f);

/* The storage to read the files of table `rest` ("db.orders") of catalog
 * `catalog` (NULL: the default) with: a handle opened with the keys the
 * catalog vends for the table's metadata location (kept per table for the
 * run; the handle is owned here). They are asked for again by a new
 * loadTable when s3.session-token-expires-at-ms is less than a minute
 * away, or after ice_cli_vended_refresh. When the catalog vends no keys,
 * *st is `fallback` (the program's own settings). */
int ice_cli_vended_storage(const char *catalog, const char *rest, ice_storage *fallback,
                           ice_storage **st, ice_err *err);

/* A store refused st's keys: forget them, so that the next
 * ice_cli_vended_storage of every table vended them asks the catalog
 * again. False when st is no vended handle (nothing to refresh). */
bool ice_cli_vended_refresh(ice_storage *st);

/* The vended handles opened so far (for the storage summary): up to max
 * into out; returns how many there are. */
size_t ice_cli_vended_handles(const ice_storage **out, size_t max);

#endif
