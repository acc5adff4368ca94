/* ice_cluster: a Redis Cluster client over hiredis 0.14 (its blocking API).
 *
 * Opened from redis+cluster://[user:password@]host:port[,host:port...]
 * (the seed nodes; user and password percent-encoded as in redis:// URLs,
 * sent with AUTH to every node; only database 0 exists on a cluster).
 * The client keeps the slot map read with CLUSTER SHARDS and one
 * connection per master, opened on first use. A command goes to the
 * master serving the slot of its key and follows the cluster's answers:
 *   - MOVED: the slot's new master is used and the whole map re-read
 *     before the next call;
 *   - ASK: ASKING then the command on the target, for that try only;
 *   - TRYAGAIN, CLUSTERDOWN, LOADING, MASTERDOWN, a slot no master
 *     serves, and a master that cannot be reached (a failover in
 *     progress): retried with backoff, the map re-read (first from a node
 *     that did not fail), for up to retry_ms in all;
 *   - NOSCRIPT for EVALSHA of a script registered with ice_cluster_script:
 *     the script is loaded on that node and the command repeated.
 * A command whose connection was lost after it was sent is sent again, so
 * it may run twice: callers send only commands safe to repeat. A command
 * timeout (the node may still be running it) is not retried.
 *
 * Ownership: the ice_cluster owns its connections and copies of the URL's
 * secrets (wiped on close); replies handed back belong to the caller
 * (freeReplyObject). Errors never contain the password, and name the node
 * ("redis://127.0.0.1:7001: GET: ..."). lib/ never prints. Not
 * thread-safe. A write to a closed connection raises SIGPIPE: callers
 * ignore it, as every program does. */
#ifndef ICE_CLUSTER_H
#define ICE_CLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

#include "ice_error.h"
#include "ice_slot.h"

typedef struct ice_cluster ice_cluster;

typedef struct ice_cluster_opts {
	int connect_timeout_ms; /* per connection; default 2000 */
	int command_timeout_ms; /* per reply; default 5000 */
	int retry_ms;           /* budget of one call for retries with backoff
	                         * (see above); 0: 30000; < 0: no retry */
	int max_redirects;      /* MOVED and ASK followed per command; 0: 16 */
} ice_cluster_opts;

/* What the client did, since open: for tests and diagnostics. */
typedef struct ice_cluster_stats {
	uint64_t moved;        /* MOVED answers followed */
	uint64_t ask;          /* ASK answers followed */
	uint64_t retries;      /* rounds repeated after a backoff */
	uint64_t refreshes;    /* slot maps read (open included) */
	uint64_t script_loads; /* scripts loaded after NOSCRIPT */
	uint64_t connects;     /* connections opened */
} ice_cluster_stats;

/* One command: argc arguments (binary-safe, lengths explicit) and the slot
 * that routes it: ice_slot() of its key (every key of it must share that
 * slot), or -1 for any master. The arrays stay the caller's. */
typedef struct ice_cluster_cmd {
	int argc;
	const char *const *argv;
	const size_t *lens;
	int slot;
} ice_cluster_cmd;

/* ---- the seed URL (exposed for tests and error messages) ---- */

typedef struct ice_cluster_url {
	char *user;      /* percent-decoded; NULL when absent */
	char *password;  /* percent-decoded; NULL when absent */
	char **hosts;    /* n seed hosts (IPv6 without brackets) */
	int *ports;      /* their ports (default 6379) */
	size_t n;
} ice_cluster_url;

/* Parse url into *u (caller clears it, also on failure). Bad URLs:
 * ICE_EINVAL; the message never contains the password. */
int ice_cluster_url_parse(const char *url, ice_cluster_url *u, ice_err *err);
void ice_cluster_url_clear(ice_cluster_url *u);

/* ---- the client ---- */

/* Connect to the first seed that answers and read the slot map; fails
 * (ICE_EBACKEND naming the last seed tried) when none answers or the node
 * is not in cluster mode. o may be NULL. */
int ice_cluster_open(const char *url, const ice_cluster_opts *o, ice_cluster **out, ice_err *err);
void ice_cluster_close(ice_cluster *c);

/* Run one command. *out gets its reply; an error reply (after the handling
 * above) is ICE_EBACKEND with the node, command and message, *out NULL. */
int ice_cluster_command(ice_cluster *c, const ice_cluster_cmd *cmd, redisReply **out,
                        ice_err *err);

/* Run n commands as one pipeline per node, every node's in flight at once;
 * out[i] gets the reply of cmds[i], error replies included (the caller
 * looks at each). A command redirected or retried is sent again after the
 * rest of its node's, so the commands of one pipeline must not depend on
 * one another's order. On failure (a node out of reach after the retry
 * budget, a timeout, too many redirects) every out[i] is NULL. */
int ice_cluster_pipeline(ice_cluster *c, const ice_cluster_cmd *cmds, size_t n,
                         redisReply **out, ice_err *err);

/* The SHA-1 (hex, NUL-terminated) by which EVALSHA names script src;
 * -1 when it cannot be computed. */
int ice_script_sha1(const char *src, char sha[41]);

/* Register a Lua script: sha gets its SHA-1 (hex, NUL-terminated), for
 * EVALSHA sha NUMKEYS KEYS... ARGS...; a node answering NOSCRIPT is sent
 * SCRIPT LOAD src and the EVALSHA is repeated. src is copied. */
int ice_cluster_script(ice_cluster *c, const char *src, char sha[41], ice_err *err);

/* One slot per master as the map stands (the lowest it serves), sorted:
 * a command with that slot reaches that master (or whichever replaced it),
 * for walks over every master (SCAN, INFO, DBSIZE). *slots is malloc'd. */
int ice_cluster_masters(ice_cluster *c, int **slots, size_t *n, ice_err *err);

/* "redis://host:port" of the master serving slot per the map, NULL when
 * none; valid until the next call on c. */
const char *ice_cluster_where(const ice_cluster *c, int slot);

void ice_cluster_get_stats(const ice_cluster *c, ice_cluster_stats *s);

#endif
