/* rlink: the one path of the Redis backend's I/O: either one hiredis
 * connection (redis://, unix://) or a Redis Cluster client (ice_cluster,
 * redis+cluster://), behind the same calls. Private to lib/cache.
 *
 * Every command carries the slot of its keys (ice_slot of any of them: a
 * command's keys share one slot) or -1 (any master); a single server
 * ignores it. On a single server a lost connection is reopened with
 * backoff for up to reconnect_ms and the command repeated (every command
 * the backend sends is safe to repeat); a cluster retries as ice_cluster.h
 * says. EVALSHA of a script registered with ice_rlink_script is repeated
 * after loading the script when a node answers NOSCRIPT.
 *
 * Ownership: the link owns its connections and a copy of the secrets
 * (wiped on close); replies handed back belong to the caller
 * (freeReplyObject). Errors never contain a password. Not thread-safe. */
#ifndef ICE_RLINK_H
#define ICE_RLINK_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "ice_backend.h"
#include "ice_cluster.h" /* ice_cluster_cmd: one command and its slot */

typedef struct ice_rlink ice_rlink;

/* A single server from a parsed redis:// or unix:// URL, or (cluster_url
 * not NULL, u NULL) a cluster. Fails when the server or no seed answers. */
int ice_rlink_open(const ice_backend_url *u, const char *cluster_url, const ice_backend_opts *o,
                   ice_rlink **out, ice_err *err);
void ice_rlink_close(ice_rlink *l);

/* "redis://host:port", "unix:///path" or "redis+cluster://h:p,...": no
 * password. */
const char *ice_rlink_where(const ice_rlink *l);
int ice_rlink_is_cluster(const ice_rlink *l);

/* One command. ICE_OK: *out a reply that is not an error. An error reply
 * is ICE_EBACKEND naming the server and the command, *out NULL. */
int ice_rlink_cmd(ice_rlink *l, const ice_cluster_cmd *c, redisReply **out, ice_err *err);

/* n commands pipelined (per node on a cluster): out[i] the reply of
 * cmds[i], error replies included. The commands must not depend on one
 * another's order. On failure every out[i] is NULL. */
int ice_rlink_pipeline(ice_rlink *l, const ice_cluster_cmd *cmds, size_t n, redisReply **out,
                       ice_err *err);

/* Register a script (src copied, at most ICE_RLINK_SCRIPTS of them):
 * sha gets its SHA-1 for EVALSHA; the script is loaded on a server when
 * it answers NOSCRIPT. */
#define ICE_RLINK_SCRIPTS 16
int ice_rlink_script(ice_rlink *l, const char *src, char sha[41], ice_err *err);

/* Changes whenever the connection that serves slot may have changed (a
 * reconnect, another master for the slot): a WAIT is only meaningful on
 * the connection that sent the writes it waits for. */
unsigned long long ice_rlink_epoch(const ice_rlink *l, int slot);

/* One slot per master (a single server: one, -1), for walks over every
 * master (SCAN, INFO). *slots is malloc'd. */
int ice_rlink_masters(ice_rlink *l, int **slots, size_t *n, ice_err *err);

#endif
