#!/bin/sh
# cluster-backend: the Redis backend on a real Redis Cluster (three
# masters, three replicas, a password): every shared backend check
# (tests/unit/backend-checks.c) on a redis+cluster:// cache in key layout
# 2, run by tests/unit/test-cluster.c ("backend"). The CLI suites run on
# the cluster as tests/cli/NAME.cluster.test (start_cache).
. "$top_srcdir/tests/cli/lib.sh"

CLUSTER_PASSWORD=Clu5terPw
start_cluster
"$top_builddir/tests/unit/test-cluster" backend
