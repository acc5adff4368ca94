/* fuzz-cluster: what a Redis Cluster node answers about the cluster: the
 * CLUSTER SHARDS reply (RESP, parsed by hiredis's reader as the client
 * receives it) loaded into the slot map, and MOVED/ASK redirections.
 * Input: RESP bytes; every reply they hold is loaded, and each line is
 * also tried as a redirection. */
#include "config.h"
#include "fuzz.h"
#include "ice_cluster_map.h"

#include <hiredis/hiredis.h>
#include <string.h>

static void redirections(ice_cluster_map *m, const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	int slot, node;

	for (; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		ice_cluster_map_redirect(m, p, (size_t)(nl - p), 0, &slot, &node);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader *rd = redisReaderCreate();
	ice_cluster_map m;
	void *reply = NULL;
	int n = 0;

	ice_cluster_map_init(&m);
	if (!rd || ice_cluster_map_node(&m, "127.0.0.1", 9, 7000) < 0)
		goto out;
	if (redisReaderFeed(rd, (const char *)data, size) != REDIS_OK)
		goto out;
	/* A few replies at most: each is a whole map load. */
	while (n++ < 8 && redisReaderGetReply(rd, &reply) == REDIS_OK && reply) {
		ice_cluster_map_load(&m, reply, "fuzz", NULL);
		freeReplyObject(reply);
		reply = NULL;
	}
	redirections(&m, data, size);
out:
	ice_cluster_map_clear(&m);
	if (rd)
		redisReaderFree(rd);
	return 0;
}
