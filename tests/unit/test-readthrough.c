/* test-readthrough: fetch's read-through policy: what is stored and for
 * how long, when a stored copy is fresh, revalidation, tags and keys. */
#include "config.h"
#include "tests.h"

#include <stdlib.h>
#include <string.h>

#include "ice_readthrough.h"

#define NOW 1700000000000LL /* any fixed time */
#define MIN (60 * 1000LL)
#define DAY (24 * 60 * MIN)

static const ice_ttl unset = { ICE_TTL_UNSET, 0 };
static const ice_ttl smart = { ICE_TTL_SMART, 0 };

/* A response with the given headers (NULL: absent); the strings are
 * borrowed, so the response is never cleared. */
static ice_http_resp response(const char *cache_control, const char *etag)
{
	ice_http_resp r;

	memset(&r, 0, sizeof r);
	r.status = 200;
	r.cache_control = (char *)cache_control;
	r.etag = (char *)etag;
	return r;
}

static ice_readthrough_store decide(ice_ttl ttl, const ice_http_resp *r,
                                    const ice_readthrough_entry *prev)
{
	ice_readthrough_settings s = { ttl, unset, 0 };
	ice_readthrough_store p;

	ice_readthrough_decide(&s, r, prev, NOW, &p);
	return p;
}

static void test_decide_from_response(void)
{
	ice_http_resp r = response("max-age=60", NULL);
	ice_readthrough_store p = decide(smart, &r, NULL);

	tap_ok(p.store && !p.forever, "decide: max-age: stored, not forever");
	tap_is_int(p.lifetime_ms, MIN, "decide: max-age=60: fresh a minute");
	tap_is_int(p.ttl_ms, MIN, "decide: without a validator the entry lives as long as it is fresh");

	r = response("max-age=60", "\"v1\"");
	p = decide(unset, &r, NULL);
	tap_is_int(p.ttl_ms, MIN + ICE_READTHROUGH_KEEP_MS,
	           "decide: with an ETag it is kept fetch_keep longer, to be revalidated");

	r = response("no-store, max-age=60", "\"v1\"");
	p = decide(smart, &r, NULL);
	tap_ok(!p.store, "decide: no-store: not stored");

	r = response("no-cache", NULL);
	p = decide(smart, &r, NULL);
	tap_ok(!p.store, "decide: no-cache without a validator: never fresh, not worth storing");

	r = response("no-cache", "\"v1\"");
	p = decide(smart, &r, NULL);
	tap_ok(p.store && p.lifetime_ms == 0 && p.ttl_ms == ICE_READTHROUGH_KEEP_MS,
	       "decide: no-cache with a validator: stored stale, to be revalidated every time");
}

static void test_decide_defaults(void)
{
	ice_http_resp r = response(NULL, NULL);
	ice_readthrough_entry prev = { false, NULL, NULL, 10 * MIN };
	ice_readthrough_settings s = { smart, { ICE_TTL_DURATION, 2 * MIN }, 3 * DAY };
	ice_readthrough_store p = decide(smart, &r, NULL);

	tap_is_int(p.lifetime_ms, ICE_READTHROUGH_TTL_MS,
	           "decide: a response that says nothing: the built-in fetch_ttl");
	p = decide(smart, &r, &prev);
	tap_is_int(p.lifetime_ms, 10 * MIN, "decide: a 304 that says nothing: the lifetime stored before");

	ice_readthrough_decide(&s, &r, NULL, NOW, &p);
	tap_is_int(p.lifetime_ms, 2 * MIN, "decide: the configured fetch_ttl");
	r = response(NULL, "\"v1\"");
	ice_readthrough_decide(&s, &r, NULL, NOW, &p);
	tap_is_int(p.ttl_ms, 2 * MIN + 3 * DAY, "decide: the configured fetch_keep");

	prev.etag = (char *)"\"old\"";
	r = response(NULL, NULL);
	ice_readthrough_decide(&s, &r, &prev, NOW, &p);
	tap_is_int(p.ttl_ms, 10 * MIN + 3 * DAY,
	           "decide: the stored entry's validator counts when a 304 repeats none");
}

static void test_decide_flag(void)
{
	ice_http_resp r = response("max-age=60, no-store", NULL);
	ice_readthrough_store p = decide((ice_ttl){ ICE_TTL_DURATION, 5 * MIN }, &r, NULL);

	tap_ok(p.store && p.lifetime_ms == 5 * MIN && p.ttl_ms == 5 * MIN,
	       "decide: --ttl DURATION overrides what the response says");
	p = decide((ice_ttl){ ICE_TTL_FOREVER, 0 }, &r, NULL);
	tap_ok(p.store && p.forever && p.ttl_ms == 0,
	       "decide: --ttl until-invalidated: stored with no TTL, fresh until invalidated");
}

/* An entry whose origin is the given text. */
static ice_readthrough_entry entry_from(const char *origin, int64_t now_ms)
{
	ice_entry_meta m = { 0 };
	ice_readthrough_entry e;

	m.origin = (char *)origin;
	ice_readthrough_entry_of(&m, now_ms, &e);
	return e;
}

static void test_url_entries(void)
{
	ice_http_resp r = response("max-age=60", "\"v1\"");
	ice_readthrough_store p = decide(smart, &r, NULL), forever = { true, true, 0, 0 };
	char *origin = ice_readthrough_url_origin("http://h/x", &r, NULL, &p, NOW);
	ice_readthrough_entry e = entry_from(origin, NOW + MIN - 1), prev;

	tap_ok(e.fresh, "entry: fresh until its lifetime is over");
	tap_is_str(e.etag, "\"v1\"", "entry: its ETag is kept");
	tap_ok(e.last_modified == NULL, "entry: no Last-Modified when the response had none");
	tap_is_int(e.lifetime_ms, MIN, "entry: its lifetime is kept");
	tap_ok(ice_readthrough_can_revalidate(&e), "entry: with an ETag it can be revalidated");
	ice_readthrough_entry_clear(&e);
	e = entry_from(origin, NOW + MIN);
	tap_ok(!e.fresh, "entry: stale once its lifetime is over");
	free(origin);

	/* A 304 repeats no validator: the stored ones stay. */
	prev = e;
	r = response(NULL, NULL);
	origin = ice_readthrough_url_origin("http://h/x", &r, &prev, &forever, NOW);
	ice_readthrough_entry_clear(&prev);
	e = entry_from(origin, NOW + 1000 * DAY);
	tap_ok(e.fresh && e.lifetime_ms == -1, "entry: until-invalidated stays fresh, no lifetime");
	tap_is_str(e.etag, "\"v1\"", "entry: a refresh keeps the stored validator");
	ice_readthrough_entry_clear(&e);
	free(origin);

	e = entry_from("put", NOW);
	tap_ok(!e.fresh && !ice_readthrough_can_revalidate(&e) && e.lifetime_ms == -1,
	       "entry: one that fetch did not write is neither fresh nor revalidated");
	ice_readthrough_entry_clear(&e);
	tap_ok(!ice_readthrough_can_revalidate(NULL), "no entry: nothing to revalidate");
}

static void test_condition(void)
{
	ice_readthrough_entry e = { false, (char *)"\"v1\"", (char *)"Mon, 01 Jan 2024 00:00:00 GMT", 0 };
	ice_http_req q;

	memset(&q, 0, sizeof q);
	ice_readthrough_condition(&q, &e);
	tap_ok(q.etag == e.etag && q.last_modified == e.last_modified,
	       "condition: the stored validators are sent");
	ice_readthrough_condition(&q, NULL);
	tap_ok(!q.etag && !q.last_modified, "condition: none without a stored entry");
}

static void test_files(void)
{
	ice_file_id id = { 0 }, other;
	ice_entry_meta m = { 0 };

	id.exists = true;
	id.size = 42;
	id.mtime_ns = 1234567890123LL;
	m.origin = ice_readthrough_file_origin("/data/x.csv", &id);
	tap_ok(ice_readthrough_file_current(&m, &id), "file: current while size and mtime match");
	other = id;
	other.size = 43;
	tap_ok(!ice_readthrough_file_current(&m, &other), "file: a new size is a change");
	other = id;
	other.mtime_ns++;
	tap_ok(!ice_readthrough_file_current(&m, &other), "file: a new mtime is a change");
	other = id;
	other.exists = false;
	tap_ok(!ice_readthrough_file_current(&m, &other), "file: a removed file is not current");
	free(m.origin);
	m.origin = (char *)"put";
	tap_ok(!ice_readthrough_file_current(&m, &id), "file: an entry fetch did not write is not current");
}

static void test_tags(void)
{
	const char *given[] = { "table:a", "tag:x" }, *kept[] = { "tag:x", "table:b" }, *out[4];
	size_t n = ice_readthrough_tags(given, 2, kept, 2, out, 4);

	tap_ok(n == 3 && strcmp(out[0], "table:a") == 0 && strcmp(out[1], "tag:x") == 0 &&
	       strcmp(out[2], "table:b") == 0,
	       "tags: the given ones, then the kept ones not among them");
	tap_is_int((long long)ice_readthrough_tags(given, 2, kept, 2, out, 2), 2, "tags: at most max");
}

/* The key of GET url with the given headers, key_names choosing. */
static char *key_of(const char *const *headers, size_t n, const char *const *names, size_t n_names)
{
	ice_http_req q;
	ice_err err;
	char *key = NULL;

	memset(&q, 0, sizeof q);
	q.method = "GET";
	q.url = "https://h/x";
	q.headers = headers;
	q.n_headers = n;
	if (ice_readthrough_url_key(&q, names, n_names, &key, &err))
		return strdup("ERR");
	return key;
}

static void test_keys(void)
{
	const char *a[] = { "Accept: text/csv", "X-Trace: 1" }, *b[] = { "Accept: text/csv", "X-Trace: 2" };
	const char *c[] = { "Accept: application/json", "X-Trace: 1" };
	const char *accept[] = { "accept" }, *acc[] = { "Acc" };
	char *ka = key_of(a, 2, accept, 1), *kb = key_of(b, 2, accept, 1), *kc = key_of(c, 2, accept, 1);
	char *all_a = key_of(a, 2, NULL, 0), *all_b = key_of(b, 2, NULL, 0), *none = key_of(a, 2, acc, 1);
	char *plain = key_of(NULL, 0, NULL, 0);

	tap_is_str(plain, "fetch:GET https://h/x", "key: a plain GET is readable");
	tap_is_str(ka, kb, "key: a header --key-header leaves out does not change it");
	tap_ok(strcmp(ka, kc) != 0, "key: a header it names (case-insensitively) does");
	tap_ok(strcmp(all_a, all_b) != 0, "key: without --key-header every header takes part");
	tap_is_str(none, "fetch:GET https://h/x", "key: a name matches whole header names only");
	free(ka);
	free(kb);
	free(kc);
	free(all_a);
	free(all_b);
	free(none);
	free(plain);
}

void test_readthrough(void)
{
	test_decide_from_response();
	test_decide_defaults();
	test_decide_flag();
	test_url_entries();
	test_condition();
	test_files();
	test_tags();
	test_keys();
}
