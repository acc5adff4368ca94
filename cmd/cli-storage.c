/* cli-storage: the --stats line of the programs that read tables. */
#include "config.h"
#include "cli-storage.h"
#include "cli.h"

#include <stdio.h>

void ice_cli_storage_stats(const ice_storage *st, const char *extra)
{
	ice_io_stats io = { 0 };
	ice_objcache_stats oc = { 0 };

	if (st) {
		io = ice_storage_stats(st);
		oc = ice_storage_cache_stats(st);
	}
	/* Requests are tries, retries included; a 304 carries no body. */
	fprintf(stderr, "%s: stats: %llu requests (GET %llu, HEAD %llu, LIST %llu, conditional %llu, "
	        "%llu not modified, %llu retries), %llu bytes; object cache %llu hits, %llu misses%s%s\n",
	        ice_cli_program(), (unsigned long long)io.requests, (unsigned long long)io.gets,
	        (unsigned long long)io.heads, (unsigned long long)io.lists,
	        (unsigned long long)io.conditional, (unsigned long long)io.not_modified,
	        (unsigned long long)io.retries, (unsigned long long)io.bytes,
	        (unsigned long long)oc.hits, (unsigned long long)oc.misses, extra ? "; " : "",
	        extra ? extra : "");
}
