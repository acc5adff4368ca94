/* cli-storage: what a program's reads from storage cost, for --stats. */
#ifndef ICE_CLI_STORAGE_H
#define ICE_CLI_STORAGE_H

#include "ice_storage.h"

/* One line on stderr: "PROGRAM: stats: N requests (GET .., HEAD .., LIST ..,
 * conditional .., .. not modified, .. retries), B bytes; object cache H
 * hits, M misses", then "; " and `extra` when not NULL. `st` may be NULL
 * (nothing was read from storage: zeros). */
void ice_cli_storage_stats(const ice_storage *st, const char *extra);

#endif
