/* test-config: the configuration file, TTL hints, derived keys, HTTP
 * freshness rules and running a command (the parts of exec and fetch that
 * need no server). */
#include "config.h"
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "ice_config.h"
#include "ice_derive.h"
#include "ice_exec.h"
#include "ice_fetch.h"
#include "ice_ttl.h"

static void test_config_ok(void)
{
	ice_config c;
	ice_err err = { 0 };
	int rc = ice_config_parse("# IceCache\n"
	                          "\n"
	                          "  url = redis://h:6380/2#frag  \n"
	                          "prefix=team\n"
	                          "   # indented comment\n"
	                          "connect_timeout = 1s\n"
	                          "command_timeout = 250ms\n"
	                          "default_ttl = until-invalidated\n"
	                          "exec_ttl = 10m\n"
	                          "fetch_ttl = 1h30m\n"
	                          "fetch_keep = 2d\n"
	                          "fetch_timeout = 5s\n"
	                          "fetch_redirects = 0\n"
	                          "lock_timeout = 2m\n"
	                          "reconnect = 45s",
	                          "cfg", &c, &err);

	tap_is_int(rc, ICE_OK, "config: a full file parses (%s)", err.msg);
	tap_is_str(c.url, "redis://h:6380/2#frag", "config: value trimmed, '#' kept inside");
	tap_is_str(c.prefix, "team", "config: no blanks around '='");
	tap_is_int(c.connect_timeout_ms, 1000, "config: connect_timeout");
	tap_is_int(c.command_timeout_ms, 250, "config: command_timeout");
	tap_is_int(c.default_ttl.kind, ICE_TTL_FOREVER, "config: default_ttl until-invalidated");
	tap_ok(c.exec_ttl.kind == ICE_TTL_DURATION && c.exec_ttl.ms == 600000, "config: exec_ttl");
	tap_is_int(c.fetch_ttl.ms, 5400000, "config: fetch_ttl 1h30m");
	tap_is_int(c.fetch_keep_ms, 2 * 86400000LL, "config: fetch_keep");
	tap_is_int(c.fetch_timeout_ms, 5000, "config: fetch_timeout");
	tap_is_int(c.fetch_redirects, 0, "config: fetch_redirects 0 is a value");
	tap_is_int(c.lock_timeout_ms, 120000, "config: lock_timeout");
	tap_is_int(c.reconnect_ms, 45000, "config: reconnect");
	ice_config_clear(&c);

	rc = ice_config_parse("reconnect = 0\n", "cfg", &c, &err);
	tap_ok(rc == ICE_OK && c.reconnect_ms == -1, "config: reconnect = 0 means never (%s)", err.msg);
	ice_config_clear(&c);

	rc = ice_config_parse("", "empty", &c, &err);
	tap_ok(rc == ICE_OK && !c.url && c.fetch_redirects == -1 && c.exec_ttl.kind == ICE_TTL_UNSET,
	       "config: an empty file leaves everything unset");
	ice_config_clear(&c);
}

/* The object-storage keys: strings, booleans in their spellings, counts,
 * durations and a size; unset booleans and counts are -1. */
static void test_config_storage(void)
{
	ice_config c;
	ice_err err = { 0 };
	int rc = ice_config_parse("s3_region = eu-west-1\n"
	                          "s3_endpoint_url = http://minio:9000\n"
	                          "s3_profile = lake\n"
	                          "s3_path_style = No\n"
	                          "s3_anonymous = on\n"
	                          "s3_attempts = 3\n"
	                          "s3_retry_time = 10s\n"
	                          "s3_timeout = 2m\n"
	                          "object_cache = /var/cache/ice\n"
	                          "object_cache_size = 512M\n",
	                          "cfg", &c, &err);

	tap_is_int(rc, ICE_OK, "config: the object-storage keys parse (%s)", err.msg);
	tap_is_str(c.s3_region, "eu-west-1", "config: s3_region");
	tap_is_str(c.s3_endpoint_url, "http://minio:9000", "config: s3_endpoint_url");
	tap_is_str(c.s3_profile, "lake", "config: s3_profile");
	tap_is_int(c.s3_path_style, 0, "config: s3_path_style No is false");
	tap_is_int(c.s3_anonymous, 1, "config: s3_anonymous on is true");
	tap_is_int(c.s3_attempts, 3, "config: s3_attempts");
	tap_is_int(c.s3_retry_time_ms, 10000, "config: s3_retry_time");
	tap_is_int(c.s3_timeout_ms, 120000, "config: s3_timeout");
	tap_is_str(c.object_cache, "/var/cache/ice", "config: object_cache");
	tap_is_int(c.object_cache_size, 512LL << 20, "config: object_cache_size 512M");
	ice_config_clear(&c);

	rc = ice_config_parse("s3_path_style = TRUE\ns3_anonymous = 0\n", "cfg", &c, &err);
	tap_ok(rc == ICE_OK && c.s3_path_style == 1 && c.s3_anonymous == 0,
	       "config: booleans TRUE and 0 (%s)", err.msg);
	ice_config_clear(&c);
	rc = ice_config_parse("", "cfg", &c, &err);
	tap_ok(rc == ICE_OK && c.s3_path_style == -1 && c.s3_anonymous == -1 && c.s3_attempts == -1 &&
	       c.object_cache_size == 0 && !c.object_cache,
	       "config: the object-storage keys unset");
	ice_config_clear(&c);
}

static void config_error(const char *text, const char *want, const char *what)
{
	ice_config c;
	ice_err err = { 0 };
	int rc = ice_config_parse(text, "/etc/ic", &c, &err);

	tap_ok(rc == ICE_EINVAL && strstr(err.msg, want) && !c.url, "config: %s (%s)", what, err.msg);
}

static void test_config_errors(void)
{
	config_error("url = x\n\nulr = y\n", "/etc/ic:3: unknown key 'ulr'", "unknown key, line 3");
	config_error("# c\njust words\n", "/etc/ic:2: expected 'key = value'", "no '='");
	config_error("prefix = a\nprefix = b\n", "/etc/ic:2: key 'prefix' given twice", "duplicate");
	config_error("url =   \n", "/etc/ic:1: key 'url' has an empty value", "empty value");
	config_error("url = a\nlock_timeout = soon\n", "/etc/ic:2: lock_timeout: bad duration",
	             "bad duration");
	config_error("exec_ttl = smart\n", "/etc/ic:1: exec_ttl: 'smart' is a per-command hint",
	             "smart is not a default");
	config_error("fetch_redirects = -1\n", "/etc/ic:1: fetch_redirects: want a count",
	             "negative count");
	config_error("s3_path_style = maybe\n", "/etc/ic:1: s3_path_style: want true or false",
	             "bad boolean");
	config_error("object_cache_size = lots\n", "/etc/ic:1: object_cache_size: bad size",
	             "bad size");
	config_error("object_cache_size = 0\n", "/etc/ic:1: object_cache_size: want a size above 0",
	             "zero size");
}

static void test_config_load(void)
{
	char *dir = test_tmpdir();
	char *path = test_write(dir, "config", "url = unix:///tmp/r.sock\n");
	char missing[4200];
	ice_config c;
	ice_err err = { 0 };

	tap_ok(ice_config_load(path, &c, &err) == ICE_OK && strcmp(c.url, "unix:///tmp/r.sock") == 0,
	       "config: load a file");
	ice_config_clear(&c);
	snprintf(missing, sizeof missing, "%s/nope", dir);
	tap_is_int(ice_config_load(missing, &c, &err), ICE_ENOENT, "config: a missing file is ENOENT");
	free(path);
	free(dir);
}

static void test_ttl(void)
{
	ice_ttl t, unset = { ICE_TTL_UNSET, 0 }, d = { ICE_TTL_DURATION, 5 };
	ice_err err = { 0 };

	tap_ok(ice_ttl_parse("2h", true, &t, &err) == ICE_OK && t.kind == ICE_TTL_DURATION &&
	       t.ms == 7200000, "ttl: a duration");
	tap_ok(ice_ttl_parse("until-invalidated", true, &t, &err) == ICE_OK &&
	       t.kind == ICE_TTL_FOREVER && ice_ttl_ms(t) == 0, "ttl: until-invalidated has no TTL");
	tap_ok(ice_ttl_parse("smart", true, &t, &err) == ICE_OK && t.kind == ICE_TTL_SMART,
	       "ttl: smart");
	tap_is_int(ice_ttl_parse("5x", true, &t, &err), ICE_EINVAL, "ttl: junk refused");
	tap_ok(strstr(err.msg, "until-invalidated or smart") != NULL, "ttl: error lists the forms (%s)",
	       err.msg);
	tap_is_int(ice_ttl_first(unset, d, unset).ms, 5, "ttl: first set hint wins");
}

static char *exec_key(const char *const *argv, size_t n, const char *const *src, size_t ns)
{
	char *key = NULL;
	ice_err err = { 0 };

	if (ice_derive_exec_key(argv, n, src, ns, &key, &err))
		return strdup(err.msg);
	return key;
}

static void test_derive(void)
{
	const char *a1[] = { "/usr/bin/report", "--day", "2024-01-01" };
	const char *a2[] = { "/usr/bin/report", "--day 2024-01-01" };
	const char *hdr[] = { "Accept: text/csv" };
	char *dir = test_tmpdir(), *src = test_write(dir, "in.csv", "a,b\n");
	const char *srcs[] = { src };
	char *k1 = exec_key(a1, 3, NULL, 0), *k2 = exec_key(a1, 3, NULL, 0), *k3 = exec_key(a2, 2, NULL, 0);
	char *s1, *s2, *s3, *u1 = NULL, *u2 = NULL, *abs = NULL, *fk = NULL;
	struct timeval tv[2] = { { 1700000000, 0 }, { 1700000000, 0 } };
	ice_err err = { 0 };

	tap_ok(strncmp(k1, "exec:report:", 12) == 0 && strlen(k1) == 12 + ICE_DERIVE_HEX,
	       "derive: exec:NAME:DIGEST (%s)", k1);
	tap_is_str(k1, k2, "derive: the same command, the same key");
	tap_ok(strcmp(k1, k3) != 0, "derive: arguments are fields, not joined text");
	utimes(src, tv);
	s1 = exec_key(a1, 3, srcs, 1);
	s2 = exec_key(a1, 3, srcs, 1);
	tv[1].tv_sec++;
	utimes(src, tv);
	s3 = exec_key(a1, 3, srcs, 1);
	tap_ok(strcmp(s1, k1) != 0 && strcmp(s1, s2) == 0, "derive: a source joins the key, stably");
	tap_ok(strcmp(s1, s3) != 0, "derive: a source's new mtime changes the key");
	free(s3);
	srcs[0] = "/no/such/file";
	s3 = exec_key(a1, 3, srcs, 1);
	tap_ok(strstr(s3, "/no/such/file") != NULL, "derive: a missing source is an error naming it");

	ice_derive_url_key("GET", "https://h/x", NULL, 0, NULL, 0, &u1, &err);
	tap_is_str(u1, "fetch:GET https://h/x", "derive: a plain URL key stays readable");
	ice_derive_url_key("GET", "https://h/x", hdr, 1, NULL, 0, &u2, &err);
	tap_ok(u2 && strncmp(u2, "fetch:GET https://h/x #", 23) == 0, "derive: headers add a digest");
	free(u1);
	ice_derive_url_key("POST", "https://h/x", NULL, 0, "", 0, &u1, &err);
	tap_ok(u1 && strncmp(u1, "fetch:POST https://h/x #", 24) == 0 && strcmp(u1 + 23, u2 + 22) != 0,
	       "derive: an empty body is still a body");
	tap_ok(ice_derive_file_key(src, &abs, &fk, &err) == ICE_OK && abs[0] == '/' &&
	       strncmp(fk, "fetch:file:/", 12) == 0, "derive: file key from the absolute path");
	free(k1), free(k2), free(k3), free(s1), free(s2), free(s3), free(u1), free(u2);
	free(abs), free(fk), free(src), free(dir);
}

static ice_http_freshness fresh(const char *cc, const char *expires, const char *date, const char *age)
{
	ice_http_resp r = { 0 };
	ice_http_freshness f;

	r.cache_control = (char *)cc;
	r.expires = (char *)expires;
	r.date = (char *)date;
	r.age = (char *)age;
	ice_http_freshness_of(&r, 1700000000000LL, &f);
	return f;
}

static void test_freshness(void)
{
	ice_http_freshness f;

	f = fresh("public, max-age=60", NULL, NULL, NULL);
	tap_ok(f.says && !f.no_store && f.lifetime_ms == 60000, "freshness: max-age");
	f = fresh("max-age=60, s-maxage=10", NULL, NULL, "4");
	tap_ok(f.says && f.lifetime_ms == 6000, "freshness: s-maxage first, minus Age");
	f = fresh("no-store, max-age=60", NULL, NULL, NULL);
	tap_ok(f.no_store, "freshness: no-store");
	f = fresh("No-Cache", NULL, NULL, NULL);
	tap_ok(f.says && f.lifetime_ms == 0 && !f.no_store, "freshness: no-cache means ask every time");
	f = fresh(NULL, "Tue, 14 Nov 2023 22:14:20 GMT", "Tue, 14 Nov 2023 22:13:20 GMT", NULL);
	tap_ok(f.says && f.lifetime_ms == 60000, "freshness: Expires minus Date");
	f = fresh(NULL, "0", NULL, NULL);
	tap_ok(f.says && f.lifetime_ms == 0, "freshness: an invalid Expires is already stale");
	f = fresh("private", NULL, NULL, NULL);
	tap_ok(!f.says && !f.no_store, "freshness: silent response");
	f = fresh("max-age=abc", NULL, NULL, NULL);
	tap_ok(!f.says, "freshness: a malformed max-age says nothing");
}

static int collect(void *ctx, const void *p, size_t n)
{
	strncat(ctx, p, n);
	return 0;
}

static int run(const char *const *argv, char *out, int *status)
{
	ice_child c;
	ice_err err = { 0 };
	int rc;

	out[0] = '\0';
	if ((rc = ice_exec_start(argv, &c, &err)))
		return rc;
	ice_exec_pump(&c, collect, out, &err);
	return ice_exec_wait(&c, status, &err);
}

static void test_exec(void)
{
	const char *echo[] = { "sh", "-c", "printf 'a\\nb'; exit 7", NULL };
	const char *sig[] = { "sh", "-c", "kill -KILL $$", NULL };
	const char *none[] = { "no-such-command-for-sure", NULL };
	char out[256];
	int status = -1;

	tap_ok(run(echo, out, &status) == ICE_OK && strcmp(out, "a\nb") == 0 && status == 7,
	       "exec: output and exit status");
	tap_ok(run(sig, out, &status) == ICE_OK && status == 128 + 9, "exec: a signal is 128+N");
	tap_is_int(run(none, out, &status), ICE_ENOENT, "exec: a missing command is ENOENT");
	tap_is_int(ice_exec_start_status(ICE_ENOENT), 127, "exec: ... which a shell reports as 127");
}

void test_config(void)
{
	test_config_ok();
	test_config_storage();
	test_config_errors();
	test_config_load();
	test_ttl();
	test_derive();
	test_freshness();
	test_exec();
}
