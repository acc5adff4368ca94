#!/bin/sh
# cluster-failover: the Redis Cluster client (lib/cache/cluster.c) through
# a failover: a master killed with SIGKILL, its replica promoted, commands
# succeed again within the retry budget; then a master with no replica
# killed: a clear error naming the node. The checks are C
# (tests/unit/test-cluster.c, "failover").
. "$top_srcdir/tests/cli/lib.sh"

start_cluster
"$top_builddir/tests/unit/test-cluster" failover
