/* ice_cluster_map: the topology a cluster client keeps (private to
 * cluster.c and cluster_map.c): the nodes it knows, each with its lazily
 * opened connection, and the master serving each slot.
 *
 * Nodes are only ever added (a node that left keeps its entry, closed), so
 * an index stays valid for the life of the map. The map owns the node
 * strings and connections: ice_cluster_map_clear() frees them. */
#ifndef ICE_CLUSTER_MAP_H
#define ICE_CLUSTER_MAP_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "ice_error.h"
#include "ice_slot.h"

typedef struct ice_cluster_node {
	char *host;
	int port;
	char *where;       /* "redis://host:port", for messages */
	redisContext *ctx; /* NULL until first used, and after a failure */
	int down;          /* its last connection failed */
} ice_cluster_node;

typedef struct ice_cluster_map {
	ice_cluster_node *nodes;
	size_t n, cap;
	int slot[ICE_SLOTS]; /* index in nodes of the slot's master; -1 none */
} ice_cluster_map;

void ice_cluster_map_init(ice_cluster_map *m);
void ice_cluster_map_clear(ice_cluster_map *m);

/* The index of the node host:port (hlen bytes of host), added when new;
 * -1 when out of memory. */
int ice_cluster_map_node(ice_cluster_map *m, const char *host, size_t hlen, int port);

/* Replace the slot map by a CLUSTER SHARDS reply: each shard's slot ranges
 * go to its master (the online one when a shard shows two). On a reply of
 * an unexpected shape the map is left as it was: ICE_EBACKEND, the message
 * naming `where`. */
int ice_cluster_map_load(ice_cluster_map *m, const redisReply *shards, const char *where,
                         ice_err *err);

/* Parse the target of a MOVED or ASK error ("MOVED 3999 127.0.0.1:6381"):
 * *slot and *node (added when new) set, 0 returned; -1 when it is not such
 * an error or out of memory. An empty endpoint (":6381") means the host of
 * node `from`. */
int ice_cluster_map_redirect(ice_cluster_map *m, const char *msg, size_t len, int from,
                             int *slot, int *node);

#endif
