/* cluster_map: the topology of a Redis Cluster as the client sees it: the
 * seed URL, the nodes, the slot map from CLUSTER SHARDS, and the targets
 * of MOVED and ASK answers. */
#include "config.h"
#include "ice_cluster_map.h"
#include "ice_backend.h"
#include "ice_cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the seed URL ---- */

#define CLUSTER_SCHEME "redis+cluster://"

void ice_cluster_url_clear(ice_cluster_url *u)
{
	if (!u)
		return;
	free(u->user);
	if (u->password)
		memset(u->password, 0, strlen(u->password));
	free(u->password);
	for (size_t i = 0; i < u->n; i++)
		free(u->hosts[i]);
	free(u->hosts);
	free(u->ports);
	memset(u, 0, sizeof *u);
}

/* Parse "redis://" + text with the redis:// rules (percent-decoding, IPv6
 * brackets, ports), wiping the copy: it may hold the password. */
static int parse_as_redis(const char *text, size_t n, ice_backend_url *r, ice_err *err)
{
	size_t len = strlen("redis://") + n + 1;
	char *s = malloc(len);
	int rc;

	if (!s)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	snprintf(s, len, "redis://%.*s", (int)n, text);
	rc = ice_backend_url_parse(s, r, err);
	memset(s, 0, len);
	free(s);
	return rc;
}

static int parse_userinfo(const char *s, size_t n, ice_cluster_url *u, ice_err *err)
{
	ice_backend_url r = { 0 };
	char *text = malloc(n + 3);
	int rc;

	if (!text)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	/* a dummy host after the user information */
	memcpy(text, s, n);
	memcpy(text + n, "@h", 3);
	rc = parse_as_redis(text, n + 2, &r, err);
	memset(text, 0, n + 3);
	free(text);
	if (rc == ICE_OK) {
		u->user = r.user;
		u->password = r.password;
		r.user = r.password = NULL;
	}
	ice_backend_url_clear(&r);
	return rc;
}

static int add_seed(const char *s, size_t n, ice_cluster_url *u, ice_err *err)
{
	ice_backend_url r = { 0 };
	char **hosts;
	int *ports;
	int rc;

	if (n == 0)
		return ice_err_set(err, ICE_EINVAL, "cache URL: empty seed node in the list");
	if (memchr(s, '@', n))
		return ice_err_set(err, ICE_EINVAL, "cache URL: unexpected '@' in a seed node");
	if ((rc = parse_as_redis(s, n, &r, err)))
		goto out;
	hosts = realloc(u->hosts, (u->n + 1) * sizeof *hosts);
	if (hosts)
		u->hosts = hosts;
	ports = realloc(u->ports, (u->n + 1) * sizeof *ports);
	if (ports)
		u->ports = ports;
	if (!hosts || !ports) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	u->hosts[u->n] = r.host;
	u->ports[u->n++] = r.port;
	r.host = NULL;
out:
	ice_backend_url_clear(&r);
	return rc;
}

int ice_cluster_url_parse(const char *url, ice_cluster_url *u, ice_err *err)
{
	size_t skip = strlen(CLUSTER_SCHEME), alen;
	const char *s, *at = NULL, *p, *end;
	int rc;

	memset(u, 0, sizeof *u);
	if (strncmp(url, CLUSTER_SCHEME, skip) != 0)
		return ice_err_set(err, ICE_EINVAL, "cache URL: expected " CLUSTER_SCHEME "host:port[,host:port...]");
	s = url + skip;
	alen = strcspn(s, "/?#");
	end = s + alen;
	if (*end && strcmp(end, "/") != 0 && strcmp(end, "/0") != 0)
		return ice_err_set(err, ICE_EINVAL, "cache URL: unexpected '%s' after the nodes (a cluster has only database 0)", end);
	for (p = s; p < end; p++)
		if (*p == '@')
			at = p;
	if (at && (rc = parse_userinfo(s, (size_t)(at - s), u, err)))
		return rc;
	for (p = at ? at + 1 : s; p <= end; ) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;

		if ((rc = add_seed(p, (size_t)(stop - p), u, err)))
			return rc;
		p = stop + 1;
	}
	return ICE_OK;
}

/* ---- nodes ---- */

void ice_cluster_map_init(ice_cluster_map *m)
{
	memset(m, 0, sizeof *m);
	for (int i = 0; i < ICE_SLOTS; i++)
		m->slot[i] = -1;
}

void ice_cluster_map_clear(ice_cluster_map *m)
{
	for (size_t i = 0; i < m->n; i++) {
		if (m->nodes[i].ctx)
			redisFree(m->nodes[i].ctx);
		free(m->nodes[i].host);
		free(m->nodes[i].where);
	}
	free(m->nodes);
	ice_cluster_map_init(m);
}

int ice_cluster_map_node(ice_cluster_map *m, const char *host, size_t hlen, int port)
{
	ice_cluster_node *nd;

	for (size_t i = 0; i < m->n; i++)
		if (m->nodes[i].port == port && strlen(m->nodes[i].host) == hlen &&
		    memcmp(m->nodes[i].host, host, hlen) == 0)
			return (int)i;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		ice_cluster_node *v = realloc(m->nodes, cap * sizeof *v);

		if (!v)
			return -1;
		m->nodes = v;
		m->cap = cap;
	}
	nd = &m->nodes[m->n];
	memset(nd, 0, sizeof *nd);
	nd->port = port;
	if (!(nd->host = strndup(host, hlen)) ||
	    asprintf(&nd->where, memchr(host, ':', hlen) ? "redis://[%s]:%d" : "redis://%s:%d",
	             nd->host, port) < 0) {
		free(nd->host);
		return -1;
	}
	return (int)m->n++;
}

/* ---- CLUSTER SHARDS ---- */

/* The value of field name in a reply that lists name, value, name, value. */
static const redisReply *field(const redisReply *r, const char *name)
{
	if (!r || r->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING && strcmp(r->element[i]->str, name) == 0)
			return r->element[i + 1];
	return NULL;
}

static int is_str(const redisReply *r, const char *s)
{
	return r && r->type == REDIS_REPLY_STRING && strcmp(r->str, s) == 0;
}

/* The master of a shard's node list: the online one if several claim it
 * (a failover caught half way); NULL when none. */
static const redisReply *shard_master(const redisReply *nodes)
{
	const redisReply *found = NULL;

	for (size_t i = 0; nodes && i < nodes->elements; i++) {
		const redisReply *nd = nodes->element[i];

		if (!is_str(field(nd, "role"), "master"))
			continue;
		if (is_str(field(nd, "health"), "online"))
			return nd;
		if (!found)
			found = nd;
	}
	return found;
}

/* The index of a node of CLUSTER SHARDS, added when new: its preferred
 * endpoint, else its address. -1 when malformed, -2 out of memory. */
static int shard_node(ice_cluster_map *m, const redisReply *nd)
{
	const redisReply *host = field(nd, "endpoint"), *port = field(nd, "port");
	int i;

	/* "?" or empty: no endpoint announced */
	if (!host || host->type != REDIS_REPLY_STRING || host->len == 0 || is_str(host, "?"))
		host = field(nd, "ip");
	if (!host || host->type != REDIS_REPLY_STRING || host->len == 0 || !port ||
	    port->type != REDIS_REPLY_INTEGER || port->integer <= 0 || port->integer > 65535)
		return -1;
	i = ice_cluster_map_node(m, host->str, host->len, (int)port->integer);
	return i < 0 ? -2 : i;
}

/* Give the slot ranges of one shard ([start, end] pairs) to node. */
static int shard_slots(int *slot, const redisReply *ranges, int node)
{
	if (!ranges || ranges->type != REDIS_REPLY_ARRAY || ranges->elements % 2)
		return -1;
	for (size_t i = 0; i < ranges->elements; i += 2) {
		const redisReply *a = ranges->element[i], *b = ranges->element[i + 1];

		if (a->type != REDIS_REPLY_INTEGER || b->type != REDIS_REPLY_INTEGER || a->integer < 0 ||
		    b->integer < a->integer || b->integer >= ICE_SLOTS)
			return -1;
		for (long long s = a->integer; s <= b->integer; s++)
			slot[s] = node;
	}
	return 0;
}

int ice_cluster_map_load(ice_cluster_map *m, const redisReply *shards, const char *where,
                         ice_err *err)
{
	int *slot = malloc(sizeof m->slot);
	int rc = ICE_OK, node;

	if (!slot)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (int i = 0; i < ICE_SLOTS; i++)
		slot[i] = -1;
	if (shards->type != REDIS_REPLY_ARRAY) {
		rc = ice_err_set(err, ICE_EBACKEND, "%s: CLUSTER SHARDS: unexpected reply", where);
		goto out;
	}
	for (size_t i = 0; i < shards->elements; i++) {
		const redisReply *sh = shards->element[i], *ranges = field(sh, "slots");
		const redisReply *master = shard_master(field(sh, "nodes"));

		if (!ranges || ranges->elements == 0 || !master)
			continue; /* a master without slots, or a shard with none up */
		if ((node = shard_node(m, master)) == -2) {
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
			goto out;
		}
		if (node < 0 || shard_slots(slot, ranges, node) < 0) {
			rc = ice_err_set(err, ICE_EBACKEND, "%s: CLUSTER SHARDS: malformed shard %zu", where, i);
			goto out;
		}
	}
	memcpy(m->slot, slot, sizeof m->slot);
out:
	free(slot);
	return rc;
}

/* ---- MOVED and ASK ---- */

int ice_cluster_map_redirect(ice_cluster_map *m, const char *msg, size_t len, int from,
                             int *slot, int *node)
{
	const char *sp, *colon, *end = msg + len;
	long s = 0, port = 0;
	const char *p;

	sp = memchr(msg, ' ', len); /* after MOVED or ASK */
	if (!sp)
		return -1;
	/* bounded as it is read: a long run of digits must not overflow */
	for (p = sp + 1; p < end && *p >= '0' && *p <= '9' && s < ICE_SLOTS; p++)
		s = s * 10 + (*p - '0');
	if (p == sp + 1 || p >= end || *p != ' ' || s >= ICE_SLOTS)
		return -1;
	sp = p + 1;
	for (colon = NULL, p = sp; p < end; p++)
		if (*p == ':')
			colon = p; /* the last: an IPv6 address holds colons too */
	if (!colon || colon + 1 >= end)
		return -1;
	for (p = colon + 1; p < end && *p >= '0' && *p <= '9' && port <= 65535; p++)
		port = port * 10 + (*p - '0');
	if (p != end || port <= 0 || port > 65535)
		return -1;
	if (colon == sp) { /* no endpoint: the same host as the node that answered */
		if (from < 0)
			return -1;
		*node = ice_cluster_map_node(m, m->nodes[from].host, strlen(m->nodes[from].host), (int)port);
	} else {
		*node = ice_cluster_map_node(m, sp, (size_t)(colon - sp), (int)port);
	}
	*slot = (int)s;
	return *node < 0 ? -1 : 0;
}
