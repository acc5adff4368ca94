/* test-slot: Redis Cluster hash slots (ice_slot) and the cluster URL
 * (ice_cluster_url_parse); no server needed. The slots are also checked
 * against a real cluster's CLUSTER KEYSLOT in test-cluster.c. */
#include "config.h"
#include "tests.h"

#include <stdio.h>
#include <string.h>

#include "ice_cluster.h"
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

void test_slot(void)
{
	test_slots();
	test_url();
}
