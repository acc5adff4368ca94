/* test-slot: Redis Cluster hash slots (ice_slot) and the cluster URL
 * (ice_cluster_url_parse); no server needed. The slots are also checked
 * against a real cluster's CLUSTER KEYSLOT in test-cluster.c. */
#include "config.h"
#include "tests.h"

#include <stdio.h>
#include <string.h>

#include "ice_cluster.h"
#include "ice_cluster_map.h"
#include "ice_slot.h"

static int slot_of(const char *key)
{
	return ice_slot(key, strlen(key));
}

static void test_slots(void)
{
	/* The specification's CRC16 check value: "123456789" -> 0x31C3. */
	tap_is_int(ice_crc16("123456789", 9), 0x31C3, "crc16: the XMODEM check value");
	tap_is_int(slot_of("123456789"), 0x31C3 & 16383, "slot: CRC16 modulo 16384");
	tap_is_int(slot_of(""), 0, "slot: the empty key is slot 0");
	tap_is_int(slot_of("{user1000}.following"), slot_of("user1000"), "slot: a hash tag alone is hashed");
	tap_is_int(slot_of("{user1000}.followers"), slot_of("{user1000}.following"),
	           "slot: keys of one tag share a slot");
	tap_is_int(slot_of("foo{bar}{zap}"), slot_of("bar"), "slot: only the first tag counts");
	tap_is_int(slot_of("foo{{bar}}zap"), slot_of("{bar"), "slot: the tag ends at the first '}'");
	tap_is_int(slot_of("foo{}{bar}"), ice_crc16("foo{}{bar}", 10) & 16383,
	           "slot: an empty first tag hashes the whole key");
	tap_is_int(slot_of("{}"), ice_crc16("{}", 2) & 16383, "slot: \"{}\" hashes whole");
	tap_is_int(slot_of("{"), ice_crc16("{", 1) & 16383, "slot: an open brace alone hashes whole");
	tap_is_int(slot_of("bar}"), ice_crc16("bar}", 4) & 16383, "slot: a close brace alone hashes whole");
	tap_is_int(ice_slot("a{\0}b", 5), ice_crc16("\0", 1) & 16383, "slot: binary-safe tag");
}

/* The parse of url as "user|password|host:port,...", or "ERR:message". */
static const char *parsed(const char *url)
{
	static char out[ICE_ERR_MSG_MAX + 16];
	ice_cluster_url u = { 0 };
	ice_err err = { 0 };

	if (ice_cluster_url_parse(url, &u, &err) != ICE_OK) {
		snprintf(out, sizeof out, "ERR:%s", err.msg);
	} else {
		snprintf(out, sizeof out, "%s|%s|", u.user ? u.user : "-", u.password ? u.password : "-");
		for (size_t i = 0; i < u.n; i++)
			snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s:%d", i ? "," : "",
			         u.hosts[i], u.ports[i]);
	}
	ice_cluster_url_clear(&u);
	return out;
}

static void test_url(void)
{
	static const char *const bad[] = {
		"redis+cluster://", "redis+cluster://h1:7000,", "redis+cluster://h1:7000,,h2",
		"redis+cluster://al:sEcr3t@h1:7000/2", "redis+cluster://al:sEcr3t@h1:99999",
		"redis+cluster://al:sEcr3t%zz@h1:7000", "redis+cluster://al:sEcr3t@", "redis://h1:7000",
		"redis+cluster://al:sEcr3t@h1:7000,h2:abc",
	};

	tap_is_str(parsed("redis+cluster://h1:7000,h2:7001,10.0.0.3"), "-|-|h1:7000,h2:7001,10.0.0.3:6379",
	           "cluster URL: seed nodes, the default port");
	tap_is_str(parsed("redis+cluster://al:p%40ss@h1:7000,[::1]:7001/"), "al|p@ss|h1:7000,::1:7001",
	           "cluster URL: user and percent-decoded password, IPv6 in brackets");
	tap_is_str(parsed("redis+cluster://s3cret@h1:7000/0"), "-|s3cret|h1:7000",
	           "cluster URL: a password without user, database 0");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *p = parsed(bad[i]);

		tap_ok(strncmp(p, "ERR:cache URL: ", 15) == 0 && !strstr(p, "sEcr3t"),
		       "cluster URL: refused without the password: %s -> %s", bad[i], p);
	}
}

/* A MOVED/ASK answer as "slot host:port", or "-1" when refused. */
static const char *redirected(ice_cluster_map *m, const char *msg)
{
	static char out[128];
	int slot = -1, node = -1;

	if (ice_cluster_map_redirect(m, msg, strlen(msg), 0, &slot, &node) != 0)
		return "-1";
	snprintf(out, sizeof out, "%d %s:%d", slot, m->nodes[node].host, m->nodes[node].port);
	return out;
}

static void test_redirect(void)
{
	ice_cluster_map m;

	ice_cluster_map_init(&m);
	tap_ok(ice_cluster_map_node(&m, "10.0.0.1", 8, 7000) == 0, "redirect: the answering node");
	tap_is_str(redirected(&m, "MOVED 3999 127.0.0.1:6381"), "3999 127.0.0.1:6381", "redirect: MOVED");
	tap_is_str(redirected(&m, "ASK 16383 ::1:7002"), "16383 ::1:7002", "redirect: ASK to IPv6, last colon");
	tap_is_str(redirected(&m, "MOVED 12 :7003"), "12 10.0.0.1:7003",
	           "redirect: no endpoint means the answering node's host");
	tap_is_str(redirected(&m, "MOVED 16384 127.0.0.1:6381"), "-1", "redirect: slot past the last refused");
	/* found by fuzz-cluster: a long slot number overflowed while read */
	tap_is_str(redirected(&m, "MOVED 99999999999999999999999 127.0.0.1:6381"), "-1",
	           "redirect: a slot number of 23 digits refused, no overflow");
	tap_is_str(redirected(&m, "MOVED 1 127.0.0.1:65536"), "-1", "redirect: port past 65535 refused");
	tap_is_str(redirected(&m, "MOVED 1 127.0.0.1:99999999999999999999"), "-1",
	           "redirect: a long port refused");
	tap_is_str(redirected(&m, "MOVED 1"), "-1", "redirect: no target refused");
	ice_cluster_map_clear(&m);
}

void test_slot(void)
{
	test_slots();
	test_url();
	test_redirect();
}
