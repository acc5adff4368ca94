/* test-storage: the SigV4 signer against botocore's signatures for fixed
 * inputs and a pinned clock; the XML reader; AWS settings resolution; the
 * retry policy's waits. */
#include "config.h"
#include "tests.h"
#include "ice_awsconf.h"
#include "ice_retry.h"
#include "ice_object.h"
#include "ice_s3xml.h"
#include "ice_sigv4.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the signer ----------------------------------------------------------- */

typedef struct {
	const char *what, *method, *host, *path;
	ice_kv query[6];
	size_t n_query;
	ice_kv headers[2];
	size_t n_headers;
	const char *region, *access_key, *secret_key, *token;
	time_t now;
} sig_case;

#define JAN_2024 ((time_t)1704067200) /* 2024-01-01T00:00:00Z */

static const sig_case cases[] = {
	{ "Hive partition key: = + % space ~ and UTF-8, ranged, session token", "GET",
	  "127.0.0.1:9000", "/lake/wh/day=2024-01-01/a b+c%~\xc3\xa9.avro", { { 0 } }, 0,
	  { { "Range", "bytes=0-1023" } }, 1, "us-east-1", "AKIDEXAMPLE",
	  "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzE+/token==", JAN_2024 },
	{ "listing: parameters out of order, values needing encoding", "GET", "127.0.0.1:9000",
	  "/lake/", { { "prefix", "wh/t x+y=/" }, { "list-type", "2" },
	              { "continuation-token", "1/ab+cd==" }, { "delimiter", "/" },
	              { "encoding-type", "url" } }, 5, { { 0 } }, 0, "us-east-1", "AKIDEXAMPLE",
	  "secret", NULL, JAN_2024 + 86399 },
	{ "parameters without value, If-None-Match, another region", "GET",
	  "lake.s3.eu-west-1.amazonaws.com", "/k", { { "x-id", "GetObject" }, { "acl", NULL },
	                                            { "versions", NULL } }, 3,
	  { { "If-None-Match", "\"9b2cf535f27731c974343645a3985328\"" } }, 1, "eu-west-1", "AK",
	  "sk", NULL, 1700000000 },
	{ "HEAD of non-ASCII keys, double spaces, a tilde and a percent", "HEAD", "localhost:4568",
	  "/b/\xe6\x97\xa5\xe6\x9c\xac/\xc3\x9cn\xc3\xaf~code  key%20.json", { { 0 } }, 0,
	  { { 0 } }, 0, "ap-southeast-2", "AKIA2", "s/e+c=r%et", "tok en", 1800000000 },
	{ "a ranged read to the end; a header value with runs of blanks", "GET", "127.0.0.1:9000",
	  "/lake/a/b/c.avro", { { 0 } }, 0,
	  { { "Range", "bytes=100-" }, { "If-Match", "  \"a   b\"  " } }, 2, "us-east-1",
	  "AKIDEXAMPLE", "secret", NULL, JAN_2024 },
};
#define N_CASES (sizeof cases / sizeof cases[0])

static json_t *case_json(const sig_case *c)
{
	json_t *q = json_array(), *h = json_object();
	char date[32];
	struct tm tm;

	for (size_t i = 0; i < c->n_query; i++)
		json_array_append_new(q, json_pack("[s,s?]", c->query[i].name, c->query[i].value));
	for (size_t i = 0; i < c->n_headers; i++)
		json_object_set_new(h, c->headers[i].name, json_string(c->headers[i].value));
	gmtime_r(&c->now, &tm);
	strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:s,s:s?,s:s}", "method", c->method, "host",
	                 c->host, "path", c->path, "query", q, "headers", h, "region", c->region,
	                 "access_key", c->access_key, "secret_key", c->secret_key, "token", c->token,
	                 "amz_date", date);
}

/* botocore's answers, one JSON object a case; NULL when it cannot run. */
static json_t **botocore_expect(void)
{
	const char *src = getenv("top_srcdir");
	char *dir = test_tmpdir(), path[4200], cmd[8800], line[16384];
	json_t **out = calloc(N_CASES, sizeof *out);
	FILE *f, *p;
	size_t n = 0;

	snprintf(path, sizeof path, "%s/cases.jsonl", dir);
	free(dir);
	if (!src || !out || !(f = fopen(path, "w"))) {
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < N_CASES; i++) {
		json_t *j = case_json(&cases[i]);
		char *s = json_dumps(j, JSON_COMPACT);
		fprintf(f, "%s\n", s);
		free(s);
		json_decref(j);
	}
	fclose(f);
	snprintf(cmd, sizeof cmd, "python3 '%s/tests/s3/sigv4-expect.py' '%s' 2>/dev/null", src, path);
	if ((p = popen(cmd, "r"))) {
		while (n < N_CASES && fgets(line, sizeof line, p))
			out[n++] = json_loads(line, 0, NULL);
		if (pclose(p) != 0)
			n = 0;
	}
	if (n != N_CASES) {
		for (size_t i = 0; i < n; i++)
			json_decref(out[i]);
		free(out);
		return NULL;
	}
	return out;
}

static const char *auth_of(const ice_sigv4_out *o)
{
	for (size_t i = 0; i < o->n_headers; i++)
		if (strncmp(o->headers[i], "Authorization: ", 15) == 0)
			return o->headers[i] + 15;
	return NULL;
}

static void test_signer_against_botocore(void)
{
	json_t **want = botocore_expect();

	if (!want) {
		for (size_t i = 0; i < N_CASES; i++)
			tap_skip("botocore (python3-botocore) not available");
		return;
	}
	for (size_t i = 0; i < N_CASES; i++) {
		const sig_case *c = &cases[i];
		ice_sigv4_key key = { c->access_key, c->secret_key, c->token };
		ice_sigv4_req r = { c->method, c->host, c->path, c->query, c->n_query, c->headers,
		                    c->n_headers, NULL, c->region, NULL, c->now };
		ice_sigv4_out o;
		ice_err err;
		bool same;

		if (ice_sigv4_sign(&r, &key, &o, &err)) {
			tap_ok(false, "sigv4: %s: %s", c->what, err.msg);
			continue;
		}
		same = tap_is_str(auth_of(&o), json_string_value(json_object_get(want[i], "authorization")),
		                  "sigv4 = botocore: %s", c->what);
		tap_is_str(o.path, json_string_value(json_object_get(want[i], "path")),
		           "sigv4 = botocore: %s: the URL path", c->what);
		if (!same)
			tap_diag("ours:\n%s\nbotocore's:\n%s", o.canonical_request,
			         json_string_value(json_object_get(want[i], "canonical_request")));
		ice_sigv4_out_free(&o);
		json_decref(want[i]);
	}
	free(want);
}

static void test_signer_shape(void)
{
	ice_kv q[] = { { "b", "2" }, { "a", NULL }, { "a b", "x/y" } };
	ice_sigv4_req r = { "GET", "h", "/bk/k=1", q, 3, NULL, 0, NULL, "us-east-1", NULL, JAN_2024 };
	ice_sigv4_key key = { "AK", "SECRET-NEVER-SHOWN", "TOKEN" };
	ice_sigv4_out o;
	bool leak = false;

	tap_is_int(ice_sigv4_sign(&r, NULL, &o, NULL), ICE_OK, "sigv4 anonymous: ok");
	tap_is_str(o.query, "a=&a%20b=x%2Fy&b=2", "sigv4: the query sorted and encoded");
	tap_is_int((long long)o.n_headers, 0, "sigv4 anonymous: no headers");
	ice_sigv4_out_free(&o);
	tap_is_int(ice_sigv4_sign(&r, &key, &o, NULL), ICE_OK, "sigv4 signed: ok");
	tap_is_int((long long)o.n_headers, 4, "sigv4 with a token: date, payload, token, authorization");
	for (size_t i = 0; i < o.n_headers; i++)
		leak |= strstr(o.headers[i], "SECRET-NEVER-SHOWN") != NULL;
	leak |= strstr(o.canonical_request, "SECRET") || strstr(o.string_to_sign, "SECRET");
	tap_ok(!leak, "sigv4: the secret appears in no output");
	ice_sigv4_out_free(&o);
}

/* ---- S3's XML ------------------------------------------------------------ */

static void test_list_page(void)
{
	const char *doc =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->"
		"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Name>b</Name><IsTruncated>true</IsTruncated>"
		"<Contents><Key>a%3Db/x+y.avro</Key><Size>12</Size><ETag>&quot;e1&quot;</ETag>"
		"<LastModified>2024-01-01T00:00:01.500Z</LastModified></Contents>"
		"<Contents><Key><![CDATA[k&amp;]]></Key><Size>0</Size></Contents>"
		"<EncodingType>url</EncodingType>"
		"<NextContinuationToken>tok&#43;/&#x3D;</NextContinuationToken></ListBucketResult>";
	ice_listing l = { 0 };
	ice_s3_page page;
	ice_err err;

	tap_is_int(ice_s3_parse_list(doc, strlen(doc), &l, &page, &err), ICE_OK, "list page: parsed");
	tap_is_int((long long)l.n, 2, "list page: two keys");
	tap_is_str(l.n ? l.v[0].name : NULL, "a=b/x y.avro", "list page: EncodingType url decoded");
	tap_is_str(l.n ? l.v[0].etag : NULL, "\"e1\"", "list page: entities in the ETag");
	tap_is_int(l.n ? l.v[0].mtime_ms : 0, 1704067201500LL, "list page: LastModified with ms");
	tap_is_str(l.n > 1 ? l.v[1].name : NULL, "k&amp;", "list page: CDATA kept as written");
	tap_ok(page.truncated, "list page: truncated");
	tap_is_str(page.next_token, "tok+/=", "list page: token with character references");
	free(page.next_token);
	ice_listing_clear(&l);

	static const char *const bad[] = {
		"<ListBucketResult><Contents><Key>a</Key></Contents></ListBucketResult>",
		"<ListBucketResult><Contents><Key>a</Size></Contents></ListBucketResult>",
		"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
		"<ListBucketResult><Contents><Key>a&bogus;</Key><Size>1</Size></Contents>",
		"<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents></ListBucketResult>",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tap_is_int(ice_s3_parse_list(bad[i], strlen(bad[i]), &l, &page, &err), ICE_EFORMAT,
		           "list page: malformed #%zu refused (%s)", i + 1, err.msg);
		ice_listing_clear(&l);
	}

	/* A body is len bytes, not a C string: the parser must not read past
	 * it (found by fuzz-s3xml; under ASan the over-read fails here). A
	 * page cut before its root element's name is complete is refused. */
	static const char cut[] = "<?xml version=\"1.0\"?><ListBucketRes";
	char *exact = malloc(sizeof cut - 1);
	memcpy(exact, cut, sizeof cut - 1);
	tap_is_int(ice_s3_parse_list(exact, sizeof cut - 1, &l, &page, &err), ICE_EFORMAT,
	           "list page: a body cut short is refused without reading past it");
	tap_is_int(ice_s3_parse_list(exact, 0, &l, &page, &err), ICE_EFORMAT,
	           "list page: an empty body is refused");
	ice_listing_clear(&l);
	free(exact);
}

static void test_error_doc(void)
{
	const char *doc = "<?xml version=\"1.0\"?><Error><Code>AuthorizationHeaderMalformed</Code>"
	                  "<Message>wrong region</Message><Region>eu-west-1</Region></Error>";
	ice_s3_error_doc e;

	ice_s3_parse_error(doc, strlen(doc), &e);
	tap_is_str(e.code, "AuthorizationHeaderMalformed", "error document: code");
	tap_is_str(e.region, "eu-west-1", "error document: region");
	ice_s3_parse_error("not xml <", 9, &e);
	tap_is_str(e.code, "", "error document: garbage gives nothing");
}

/* ---- AWS settings --------------------------------------------------------- */

static void clear_aws_env(void)
{
	static const char *const vars[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_S3", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
	};
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
}

static void test_awsconf(void)
{
	char *dir = test_tmpdir();
	char *creds = test_write(dir, "credentials",
	                         "# comment\n[default]\naws_access_key_id = AKDEF\n"
	                         "aws_secret_access_key = sdef\n[half]\naws_access_key_id = X\n");
	char *conf = test_write(dir, "config",
	                        "[default]\nregion = eu-central-1\n"
	                        "[profile minio]\nregion = us-west-2\naws_access_key_id = AKMIN\n"
	                        "aws_secret_access_key = smin\ns3 =\n  endpoint_url = http://m:9000/\n"
	                        "  addressing_style = path\n");
	ice_aws_settings s = { NULL, NULL, NULL, false, -1, NULL, NULL, NULL, NULL };
	ice_aws_config c;
	ice_err err;

	clear_aws_env();
	setenv("AWS_SHARED_CREDENTIALS_FILE", creds, 1);
	setenv("AWS_CONFIG_FILE", conf, 1);
	tap_is_int(ice_aws_config_resolve(&s, &c, &err), ICE_OK, "aws: default profile");
	tap_is_str(c.access_key, "AKDEF", "aws: keys from the credentials file");
	tap_is_str(c.region, "eu-central-1", "aws: region from the config file");
	tap_ok(!c.endpoint && !c.path_style, "aws: AWS itself, virtual-hosted");
	ice_aws_config_clear(&c);

	setenv("AWS_PROFILE", "minio", 1);
	tap_is_int(ice_aws_config_resolve(&s, &c, &err), ICE_OK, "aws: AWS_PROFILE");
	tap_is_str(c.access_key, "AKMIN", "aws: keys from [profile NAME] in the config file");
	tap_is_str(c.endpoint, "http://m:9000", "aws: endpoint from the s3 sub-section, no trailing /");
	tap_ok(c.path_style, "aws: a custom endpoint is path-style");
	tap_ok(c.source && strstr(c.source, "profile minio") && !strstr(c.source, "smin"),
	       "aws: the source names the profile, not the secret");
	ice_aws_config_clear(&c);

	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "senv", 1);
	setenv("AWS_REGION", "sa-east-1", 1);
	setenv("AWS_ENDPOINT_URL_S3", "https://s3.example", 1);
	setenv("AWS_ENDPOINT_URL", "http://ignored", 1);
	tap_is_int(ice_aws_config_resolve(&s, &c, &err), ICE_OK, "aws: environment");
	tap_is_str(c.access_key, "AKENV", "aws: environment keys beat AWS_PROFILE's");
	tap_is_str(c.region, "sa-east-1", "aws: AWS_REGION beats the profile");
	tap_is_str(c.endpoint, "https://s3.example", "aws: AWS_ENDPOINT_URL_S3 beats AWS_ENDPOINT_URL");
	ice_aws_config_clear(&c);

	s.profile = "minio";
	s.region = "ap-south-1";
	tap_is_int(ice_aws_config_resolve(&s, &c, &err), ICE_OK, "aws: explicit profile");
	tap_is_str(c.access_key, "AKMIN", "aws: an explicit profile beats environment keys");
	tap_is_str(c.region, "ap-south-1", "aws: an explicit region beats AWS_REGION");
	ice_aws_config_clear(&c);

	s.access_key = "AKVEND";
	s.secret_key = "svend";
	s.session_token = "TOKVEND";
	s.source = "catalog prod (vended)";
	tap_is_int(ice_aws_config_resolve(&s, &c, &err), ICE_OK, "aws: explicit keys");
	tap_is_str(c.access_key, "AKVEND", "aws: explicit keys beat the profile and the environment");
	tap_is_str(c.session_token, "TOKVEND", "aws: explicit keys keep their session token");
	tap_is_str(c.source, "catalog prod (vended)", "aws: explicit keys named as the caller says");
	ice_aws_config_clear(&c);
	s.secret_key = NULL;
	tap_is_int(ice_aws_config_resolve(&s, &c, &err), ICE_EINVAL,
	           "aws: an explicit key without its secret refused");
	tap_ok(!strstr(err.msg, "TOKVEND"), "aws: the refusal names no token");
	s.access_key = s.session_token = s.source = NULL;

	s.profile = "half";
	tap_is_int(ice_aws_config_resolve(&s, &c, &err), ICE_EINVAL, "aws: half a key pair refused");
	s.profile = "absent";
	tap_is_int(ice_aws_config_resolve(&s, &c, &err), ICE_EINVAL, "aws: unknown profile refused");
	s.profile = NULL;
	s.anonymous = true;
	tap_is_int(ice_aws_config_resolve(&s, &c, &err), ICE_OK, "aws: anonymous");
	tap_ok(!c.access_key && c.source && strstr(c.source, "anonymous"), "aws: anonymous has no keys");
	ice_aws_config_clear(&c);

	clear_aws_env();
	setenv("AWS_ACCESS_KEY_ID", "AKONLY", 1);
	setenv("HOME", dir, 1);
	s.anonymous = false;
	tap_is_int(ice_aws_config_resolve(&s, &c, &err), ICE_EINVAL,
	           "aws: AWS_ACCESS_KEY_ID without the secret refused");
	clear_aws_env();
	free(creds);
	free(conf);
	free(dir);
}

/* The waits a caller sleeps itself (prefetch.c): within [ceiling/2,
 * ceiling], doubling up to the cap, and -1 once the tries are spent. */
static void test_retry_waits(void)
{
	ice_retry_policy p = { 4, 60000, 100, 300 };
	ice_retry r;
	int64_t w1, w2, w3, w4;

	ice_retry_start(&r, &p);
	w1 = ice_retry_next_wait_ms(&r);
	w2 = ice_retry_next_wait_ms(&r);
	w3 = ice_retry_next_wait_ms(&r);
	w4 = ice_retry_next_wait_ms(&r);
	tap_ok(w1 >= 50 && w1 <= 100, "retry: first wait %lld ms within 50..100", (long long)w1);
	tap_ok(w2 >= 100 && w2 <= 200, "retry: second wait %lld ms within 100..200", (long long)w2);
	tap_ok(w3 >= 150 && w3 <= 300, "retry: third wait %lld ms within the cap's 150..300",
	       (long long)w3);
	tap_ok(w4 == -1 && r.attempt == 4, "retry: after 4 tries, no more");
	p.budget_ms = 1;
	ice_retry_start(&r, &p);
	tap_ok(ice_retry_next_wait_ms(&r) == -1, "retry: a wait past the time budget is not taken");
}

void test_storage(void)
{
	test_retry_waits();
	test_signer_against_botocore();
	test_signer_shape();
	test_list_page();
	test_error_doc();
	test_awsconf();
}
