/* sigv4: the canonical request, the string to sign and the signature of
 * AWS Signature Version 4, with OpenSSL's SHA-256 and HMAC. */
#include "config.h"
#include "ice_sigv4.h"
#include "ice_sbuf.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const char ice_sigv4_empty_sha256[65] =
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void hex_of(const unsigned char *d, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static void sha256_hex(const char *s, size_t n, char out[65])
{
	unsigned char d[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)s, n, d);
	hex_of(d, sizeof d, out);
}

static bool hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int n = 32;

	return HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &n) &&
	       n == 32;
}

/* ---- the query ------------------------------------------------------------ */

typedef struct {
	char *name, *value; /* encoded */
} pair;

static int pair_cmp(const void *a, const void *b)
{
	const pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

static char *encoded(const char *s, bool keep_slash)
{
	ice_sbuf b = ICE_SBUF_INIT;

	ice_sbuf_puts(&b, "");
	/* RFC 3986 unreserved characters are the only ones SigV4 leaves as they are. */
	ice_sbuf_pct(&b, s, keep_slash);
	return ice_sbuf_take(&b);
}

static char *canonical_query(const ice_kv *q, size_t n)
{
	pair *p = calloc(n ? n : 1, sizeof *p);
	ice_sbuf b = ICE_SBUF_INIT;
	size_t i;
	bool ok = p != NULL;

	for (i = 0; ok && i < n; i++) {
		p[i].name = encoded(q[i].name, false);
		p[i].value = encoded(q[i].value ? q[i].value : "", false);
		ok = p[i].name && p[i].value;
	}
	if (ok) {
		qsort(p, n, sizeof *p, pair_cmp);
		ice_sbuf_puts(&b, "");
		for (i = 0; i < n; i++)
			ice_sbuf_printf(&b, "%s%s=%s", i ? "&" : "", p[i].name, p[i].value);
	}
	for (i = 0; p && i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
	if (!ok) {
		ice_sbuf_free(&b);
		return NULL;
	}
	return ice_sbuf_take(&b);
}

/* ---- the headers ------------------------------------------------------------ */

typedef struct {
	char name[64];   /* lower case */
	const char *value;
} header;

static int header_cmp(const void *a, const void *b)
{
	return strcmp(((const header *)a)->name, ((const header *)b)->name);
}

static void lower_name(char *dst, size_t n, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < n && src[i]; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

/* A header value as signed: trimmed, inner runs of blanks made one space. */
static void canonical_value(ice_sbuf *b, const char *v)
{
	bool blank = false, any = false;

	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			blank = any;
			continue;
		}
		if (blank)
			ice_sbuf_putc(b, ' ');
		ice_sbuf_putc(b, *v);
		blank = false;
		any = true;
	}
}

/* ---- signing ------------------------------------------------------------- */

typedef struct {
	char amz_date[17];  /* 20240101T000000Z */
	char day[9];        /* 20240101 */
	char scope[128];    /* 20240101/us-east-1/s3/aws4_request */
} when;

static bool signing_key(const char *secret, const when *w, const char *region,
                        const char *service, unsigned char out[32])
{
	unsigned char k1[32], k2[32], k3[32];
	size_t n = strlen(secret) + 5;
	char *seed = malloc(n);
	bool ok;

	if (!seed)
		return false;
	memcpy(seed, "AWS4", 4);
	memcpy(seed + 4, secret, n - 4);
	ok = hmac(seed, n - 1, w->day, k1) && hmac(k1, 32, region, k2) && hmac(k2, 32, service, k3) &&
	     hmac(k3, 32, "aws4_request", out);
	OPENSSL_cleanse(seed, n);
	free(seed);
	OPENSSL_cleanse(k1, sizeof k1);
	OPENSSL_cleanse(k2, sizeof k2);
	OPENSSL_cleanse(k3, sizeof k3);
	return ok;
}

static char *header_line(const char *name, const char *value)
{
	ice_sbuf b = ICE_SBUF_INIT;

	ice_sbuf_printf(&b, "%s: %s", name, value);
	return ice_sbuf_take(&b);
}

static char *build_canonical(const ice_sigv4_req *r, const char *path, const char *query,
                             const header *h, size_t nh, const char *payload, char **signed_out)
{
	ice_sbuf b = ICE_SBUF_INIT, s = ICE_SBUF_INIT;
	size_t i;

	ice_sbuf_printf(&b, "%s\n%s\n%s\n", r->method, path, query);
	for (i = 0; i < nh; i++) {
		ice_sbuf_printf(&b, "%s:", h[i].name);
		canonical_value(&b, h[i].value);
		ice_sbuf_putc(&b, '\n');
		ice_sbuf_printf(&s, "%s%s", i ? ";" : "", h[i].name);
	}
	ice_sbuf_printf(&b, "\n%s\n%s", s.s ? s.s : "", payload);
	if (b.oom || s.oom) {
		ice_sbuf_free(&b);
		ice_sbuf_free(&s);
		return NULL;
	}
	*signed_out = ice_sbuf_take(&s);
	return ice_sbuf_take(&b);
}

static int sign_headers(const ice_sigv4_req *r, const ice_sigv4_key *key, ice_sigv4_out *out)
{
	const char *service = r->service ? r->service : "s3";
	const char *payload = r->payload_sha256 ? r->payload_sha256 : ice_sigv4_empty_sha256;
	header h[ICE_SIGV4_MAX_HEADERS + 16];
	char *signed_names = NULL, cr_hash[65], sig[65];
	unsigned char ksig[32], mac[32];
	ice_sbuf b = ICE_SBUF_INIT;
	size_t nh = 0, i;
	struct tm tm;
	when w;
	int rc = ICE_ENOMEM;

	if (r->n_headers > 16)
		return ICE_EINVAL;
	gmtime_r(&r->now, &tm);
	strftime(w.amz_date, sizeof w.amz_date, "%Y%m%dT%H%M%SZ", &tm);
	strftime(w.day, sizeof w.day, "%Y%m%d", &tm);
	snprintf(w.scope, sizeof w.scope, "%s/%s/%s/aws4_request", w.day, r->region, service);

	lower_name(h[nh].name, sizeof h[nh].name, "host");
	h[nh++].value = r->host;
	lower_name(h[nh].name, sizeof h[nh].name, "x-amz-content-sha256");
	h[nh++].value = payload;
	lower_name(h[nh].name, sizeof h[nh].name, "x-amz-date");
	h[nh++].value = w.amz_date;
	if (key->session_token) {
		lower_name(h[nh].name, sizeof h[nh].name, "x-amz-security-token");
		h[nh++].value = key->session_token;
	}
	for (i = 0; i < r->n_headers; i++) {
		lower_name(h[nh].name, sizeof h[nh].name, r->headers[i].name);
		h[nh++].value = r->headers[i].value ? r->headers[i].value : "";
	}
	qsort(h, nh, sizeof *h, header_cmp);

	if (!(out->canonical_request = build_canonical(r, out->path, out->query, h, nh, payload,
	                                               &signed_names)))
		goto out;
	sha256_hex(out->canonical_request, strlen(out->canonical_request), cr_hash);
	ice_sbuf_printf(&b, "AWS4-HMAC-SHA256\n%s\n%s\n%s", w.amz_date, w.scope, cr_hash);
	if (!(out->string_to_sign = ice_sbuf_take(&b)))
		goto out;
	if (!signing_key(key->secret_key, &w, r->region, service, ksig) ||
	    !hmac(ksig, sizeof ksig, out->string_to_sign, mac))
		goto out;
	hex_of(mac, sizeof mac, sig);

	out->headers[out->n_headers++] = header_line("x-amz-date", w.amz_date);
	out->headers[out->n_headers++] = header_line("x-amz-content-sha256", payload);
	if (key->session_token)
		out->headers[out->n_headers++] = header_line("x-amz-security-token", key->session_token);
	ice_sbuf_printf(&b, "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
	                key->access_key, w.scope, signed_names, sig);
	out->headers[out->n_headers++] = ice_sbuf_take(&b);
	rc = ICE_OK;
	for (i = 0; i < out->n_headers; i++)
		if (!out->headers[i])
			rc = ICE_ENOMEM;
out:
	OPENSSL_cleanse(ksig, sizeof ksig);
	free(signed_names);
	return rc;
}

int ice_sigv4_sign(const ice_sigv4_req *r, const ice_sigv4_key *key, ice_sigv4_out *out,
                   ice_err *err)
{
	int rc;

	memset(out, 0, sizeof *out);
	if (!r->path || r->path[0] != '/' || !r->method || !r->host)
		return ice_err_set(err, ICE_EINVAL, "sigv4: a request needs a method, a host and a path");
	if (key && (!r->region || !*r->region || !key->access_key || !key->secret_key))
		return ice_err_set(err, ICE_EINVAL, "sigv4: signing needs a region and both keys");
	rc = ICE_ENOMEM;
	if (!(out->path = encoded(r->path, true)) ||
	    !(out->query = canonical_query(r->query, r->n_query)))
		goto out;
	rc = key ? sign_headers(r, key, out) : ICE_OK;
out:
	if (rc) {
		ice_sigv4_out_free(out);
		return ice_err_set(err, rc, rc == ICE_ENOMEM ? "out of memory" : "sigv4: too many headers");
	}
	return ICE_OK;
}

void ice_sigv4_out_free(ice_sigv4_out *out)
{
	free(out->path);
	free(out->query);
	for (size_t i = 0; i < out->n_headers; i++)
		free(out->headers[i]);
	free(out->canonical_request);
	free(out->string_to_sign);
	memset(out, 0, sizeof *out);
}
