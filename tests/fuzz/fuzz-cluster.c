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

/* hiredis allocates an array's table of elements when it reads the
 * header, before any element has arrived ("*300000000" is 2.4 GB at
 * once, hiredis's design, not a defect of the code under test). A reply
 * in size bytes holds fewer than size elements, so the harness refuses a
 * header claiming more (the reader then fails as on any allocation
 * failure) and spends its time on the slot map instead. */
static redisReplyObjectFunctions capped;
static void *(*plain_array)(const redisReadTask *, int);
static size_t input_size;

static void *create_array(const redisReadTask *task, int elements)
{
	return (size_t)elements > input_size ? NULL : plain_array(task, elements);
}

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
	capped = *rd->fn;
	plain_array = rd->fn->createArray;
	capped.createArray = create_array;
	rd->fn = &capped;
	input_size = size;
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
