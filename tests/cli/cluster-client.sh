#!/bin/sh
# cluster-client: the Redis Cluster client (lib/cache/cluster.c) against a
# real cluster of three masters and three replicas that requires a
# password: slots as CLUSTER KEYSLOT computes them, routing, pipelines over
# every master, NOSCRIPT after SCRIPT FLUSH, MOVED, ASK, AUTH, the walk over
# the masters. The checks are C (tests/unit/test-cluster.c, "routing").
. "$top_srcdir/tests/cli/lib.sh"

CLUSTER_PASSWORD=Clu5terPw
start_cluster
"$top_builddir/tests/unit/test-cluster" routing
