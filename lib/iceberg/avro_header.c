/* avro_header: read an Avro container file's header map by hand (it is a
 * magic number and a map of zig-zag varint-prefixed strings and bytes),
 * from bytes in memory. */
#include "config.h"
#include "ice_avro_header.h"
#include "ice_fileio.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	const unsigned char *p;
	size_t len;
	const char *name;
	size_t used; /* bytes consumed, bounded by ICE_AVRO_HEADER_MAX */
	ice_err *err;
} hreader;

static size_t left(const hreader *h)
{
	return h->len - h->used;
}

static int truncated(hreader *h)
{
	return ice_err_set(h->err, ICE_EFORMAT, "%s: not an Avro file or truncated header (at byte %zu)",
	                   h->name, h->used);
}

static int read_long(hreader *h, int64_t *out)
{
	uint64_t v = 0;
	int shift = 0, c;

	do {
		if (shift > 63 || left(h) == 0)
			return truncated(h);
		c = h->p[h->used++];
		v |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	} while (c & 0x80);
	*out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
	return ICE_OK;
}

/* A length-prefixed string or bytes value, NUL-terminated (caller frees). */
static int read_bytes(hreader *h, char **out)
{
	int64_t len;
	char *p;
	int rc;

	*out = NULL;
	if ((rc = read_long(h, &len)))
		return rc;
	if (len < 0 || (uint64_t)len > ICE_AVRO_HEADER_MAX - h->used)
		return ice_err_set(h->err, ICE_EFORMAT, "%s: bad header entry length %lld",
		                   h->name, (long long)len);
	p = malloc((size_t)len + 1);
	if (!p)
		return ice_err_set(h->err, ICE_ENOMEM, "out of memory");
	if ((uint64_t)len > left(h)) {
		free(p);
		return truncated(h);
	}
	memcpy(p, h->p + h->used, (size_t)len);
	h->used += (size_t)len;
	p[len] = '\0';
	*out = p;
	return ICE_OK;
}

static int read_entry(hreader *h, json_t *meta)
{
	char *key = NULL, *value = NULL;
	int rc;

	if ((rc = read_bytes(h, &key)) == ICE_OK && (rc = read_bytes(h, &value)) == ICE_OK &&
	    json_object_set_new(meta, key, json_string(value)) != 0)
		rc = ice_err_set(h->err, ICE_EFORMAT, "%s: header entry '%s' is not UTF-8", h->name, key);
	free(key);
	free(value);
	return rc;
}

static int read_map(hreader *h, json_t *meta)
{
	int64_t count, size;
	int rc;

	for (;;) {
		if ((rc = read_long(h, &count)))
			return rc;
		if (count == 0)
			return ICE_OK;
		if (count == INT64_MIN)
			return ice_err_set(h->err, ICE_EFORMAT, "%s: bad header map count (at byte %zu)",
			                   h->name, h->used);
		if (count < 0) {
			/* A negative count is followed by the block's size in bytes. */
			count = -count;
			if ((rc = read_long(h, &size)))
				return rc;
		}
		if (count > 100000)
			return ice_err_set(h->err, ICE_EFORMAT, "%s: implausible header map size", h->name);
		while (count-- > 0)
			if ((rc = read_entry(h, meta)))
				return rc;
	}
}

int ice_avro_header_parse_mem(const void *data, size_t len, const char *name, json_t **meta,
                              unsigned char sync[16], size_t *used, ice_err *err)
{
	hreader h = { data, len, name, 0, err };
	json_t *m = NULL;
	int rc;

	*meta = NULL;
	if (len < 4 || memcmp(data, "Obj\1", 4) != 0)
		return ice_err_set(err, ICE_EFORMAT, "%s: not an Avro container file", name);
	h.used = 4;
	if (!(m = json_object()))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if ((rc = read_map(&h, m)))
		goto out;
	if (sync) {
		if (left(&h) < 16) {
			rc = truncated(&h);
			goto out;
		}
		memcpy(sync, h.p + h.used, 16);
		h.used += 16;
	}
	if (used)
		*used = h.used;
	*meta = m;
	m = NULL;
out:
	json_decref(m);
	return rc;
}

int ice_avro_header_read(const char *path, const char *name, json_t **meta, ice_err *err)
{
	ice_file_id id;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*meta = NULL;
	if ((rc = ice_read_file_raw(path, 0, &buf, &len, &id, err)) == ICE_OK)
		rc = ice_avro_header_parse_mem(buf, len, name, meta, NULL, NULL, err);
	free(buf);
	return rc;
}

json_t *ice_avro_header_schema(const json_t *meta, const char *name, ice_err *err)
{
	const char *text = json_string_value(json_object_get(meta, "avro.schema"));
	json_error_t jerr;
	json_t *schema;

	if (!text) {
		ice_err_set(err, ICE_EFORMAT, "%s: Avro header has no avro.schema", name);
		return NULL;
	}
	schema = json_loads(text, 0, &jerr);
	if (!schema)
		ice_err_set(err, ICE_EFORMAT, "%s: avro.schema is not JSON: %s", name, jerr.text);
	return schema;
}
