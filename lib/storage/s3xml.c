/* s3xml: ListObjectsV2 pages and error documents from their XML. */
#include "config.h"
#include "ice_s3xml.h"
#include "ice_xfer.h"
#include "ice_xml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	ice_listing *out;
	ice_s3_page *page;
	bool url_encoded;
	char *key, *etag;
	uint64_t size;
	bool has_size;
	int64_t mtime_ms;
} list_state;

static const char *leaf(const char *path, const char *parent)
{
	size_t n = strlen(parent);

	return strncmp(path, parent, n) == 0 && path[n] == '/' && !strchr(path + n + 1, '/')
	       ? path + n + 1 : NULL;
}

static char *copy(const char *s, size_t n)
{
	char *r = malloc(n + 1);

	if (r) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

static int end_contents(list_state *st, ice_err *err)
{
	int rc;

	if (!st->key || !st->has_size) {
		rc = ice_err_set(err, ICE_EFORMAT, "ListObjectsV2: an entry without %s",
		                 st->key ? "Size" : "Key");
		free(st->key);
	} else {
		rc = ice_listing_add(st->out, st->key, st->size, st->etag, st->mtime_ms, err);
	}
	st->key = NULL; /* taken over by ice_listing_add (or freed by it or above) */
	free(st->etag);
	st->etag = NULL;
	st->has_size = false;
	st->mtime_ms = -1;
	if (!rc)
		st->page->keys++;
	return rc;
}

static int contents_field(list_state *st, const char *f, const char *text, size_t len,
                          ice_err *err)
{
	if (strcmp(f, "Key") == 0) {
		free(st->key);
		if (!(st->key = copy(text, len)))
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
	} else if (strcmp(f, "ETag") == 0) {
		free(st->etag);
		if (!(st->etag = copy(text, len)))
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
	} else if (strcmp(f, "Size") == 0) {
		char *end;
		errno = 0;
		st->size = strtoull(text, &end, 10);
		if (!len || *end || errno || text[0] == '-')
			return ice_err_set(err, ICE_EFORMAT, "ListObjectsV2: bad Size '%.40s'", text);
		st->has_size = true;
	} else if (strcmp(f, "LastModified") == 0) {
		st->mtime_ms = ice_xfer_date_ms(text);
	}
	return ICE_OK;
}

static int on_list(void *ctx, const char *path, const char *text, size_t len, ice_err *err)
{
	list_state *st = ctx;
	const char *f;

	if (strcmp(path, "ListBucketResult/Contents") == 0)
		return end_contents(st, err);
	if ((f = leaf(path, "ListBucketResult/Contents")))
		return contents_field(st, f, text, len, err);
	if ((f = leaf(path, "ListBucketResult"))) {
		if (strcmp(f, "IsTruncated") == 0)
			st->page->truncated = strcmp(text, "true") == 0;
		else if (strcmp(f, "EncodingType") == 0)
			st->url_encoded = strcmp(text, "url") == 0;
		else if (strcmp(f, "NextContinuationToken") == 0) {
			free(st->page->next_token);
			if (!(st->page->next_token = copy(text, len)))
				return ice_err_set(err, ICE_ENOMEM, "out of memory");
		}
	}
	return ICE_OK;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* EncodingType url: keys arrive percent-encoded ('+' for a space). */
static void url_decode(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r == '%' && hexval(r[1]) >= 0 && hexval(r[2]) >= 0) {
			*w++ = (char)(hexval(r[1]) * 16 + hexval(r[2]));
			r += 2;
		} else {
			*w++ = *r == '+' ? ' ' : *r;
		}
	}
	*w = '\0';
}

int ice_s3_parse_list(const char *doc, size_t len, ice_listing *out, ice_s3_page *page,
                      ice_err *err)
{
	list_state st = { out, page, false, NULL, NULL, 0, false, -1 };
	size_t first = out->n;
	int rc;

	memset(page, 0, sizeof *page);
	/* doc is len bytes, not a C string: the answer's body as received. */
	if (!doc || !memmem(doc, len, "<ListBucketResult", 17))
		return ice_err_set(err, ICE_EFORMAT, "ListObjectsV2: not a ListBucketResult");
	rc = ice_xml_walk(doc, len, on_list, &st, err);
	free(st.key);
	free(st.etag);
	if (!rc && page->truncated && (!page->next_token || !*page->next_token))
		rc = ice_err_set(err, ICE_EFORMAT,
		                 "ListObjectsV2: a truncated page without NextContinuationToken");
	if (!rc && st.url_encoded)
		for (size_t i = first; i < out->n; i++)
			url_decode(out->v[i].name);
	if (rc) {
		free(page->next_token);
		page->next_token = NULL;
	}
	return rc;
}

static int on_error(void *ctx, const char *path, const char *text, size_t len, ice_err *err)
{
	ice_s3_error_doc *e = ctx;
	const char *f = leaf(path, "Error");

	(void)err;
	if (!f)
		return ICE_OK;
	if (strcmp(f, "Code") == 0)
		snprintf(e->code, sizeof e->code, "%.*s", (int)len, text);
	else if (strcmp(f, "Message") == 0)
		snprintf(e->message, sizeof e->message, "%.*s", (int)len, text);
	else if (strcmp(f, "Region") == 0)
		snprintf(e->region, sizeof e->region, "%.*s", (int)len, text);
	return ICE_OK;
}

void ice_s3_parse_error(const char *doc, size_t len, ice_s3_error_doc *e)
{
	memset(e, 0, sizeof *e);
	if (doc && len)
		ice_xml_walk(doc, len, on_error, e, NULL);
}
