/* metahead: table-uuid and last-updated-ms from the head of a metadata
 * file, by a scan of its top-level keys. */
#include "config.h"
#include "ice_metahead.h"
#include "ice_fileio.h"
#include "ice_metadata.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Enough for the keys Java, PyIceberg and Rust writers put first. */
#define HEAD_BYTES 8192

typedef struct {
	const char *p, *end;
} scan;

static void skip_space(scan *s)
{
	while (s->p < s->end && isspace((unsigned char)*s->p))
		s->p++;
}

/* A JSON string at s->p: its raw contents (escapes left as they are). */
static bool read_string(scan *s, const char **str, size_t *len)
{
	const char *start;

	if (s->p >= s->end || *s->p != '"')
		return false;
	start = ++s->p;
	while (s->p < s->end && *s->p != '"')
		s->p += *s->p == '\\' ? 2 : 1;
	if (s->p >= s->end)
		return false;
	*str = start;
	*len = (size_t)(s->p - start);
	s->p++;
	return true;
}

/* Skip one value of any kind; false when the head ends inside it. */
static bool skip_value(scan *s)
{
	int depth = 0;
	const char *str;
	size_t len;

	skip_space(s);
	while (s->p < s->end) {
		char c = *s->p;
		if (c == '"') {
			if (!read_string(s, &str, &len))
				return false;
			if (depth == 0)
				return true;
			continue;
		}
		if (depth == 0 && (c == ',' || c == '}' || isspace((unsigned char)c)))
			return true; /* the end of a scalar */
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			depth--;
		s->p++;
		if (depth == 0 && (c == '}' || c == ']'))
			return true;
	}
	return false;
}

static bool read_integer(scan *s, int64_t *out)
{
	char buf[32], *end;
	size_t n = 0;
	long long v;

	while (s->p + n < s->end && n + 1 < sizeof buf &&
	       (isdigit((unsigned char)s->p[n]) || (n == 0 && s->p[n] == '-')))
		n++;
	if (n == 0 || s->p + n >= s->end)
		return false; /* the head may end inside the number */
	memcpy(buf, s->p, n);
	buf[n] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	s->p += n;
	return true;
}

/* Scan the top-level members for the two keys: true when both were
 * found, or the whole object was scanned. */
static bool scan_head(const char *text, size_t len, bool complete, ice_metadata_head *h)
{
	scan s = { text, text + len };
	const char *key, *str;
	size_t klen, slen;

	skip_space(&s);
	if (s.p >= s.end || *s.p++ != '{')
		return false;
	for (;;) {
		skip_space(&s);
		if (s.p < s.end && *s.p == '}')
			return true;
		if (!read_string(&s, &key, &klen))
			return false;
		skip_space(&s);
		if (s.p >= s.end || *s.p++ != ':')
			return false;
		skip_space(&s);
		if (klen == 10 && memcmp(key, "table-uuid", 10) == 0 && s.p < s.end && *s.p == '"') {
			if (!read_string(&s, &str, &slen) || slen >= sizeof h->uuid)
				return false;
			memcpy(h->uuid, str, slen);
			h->uuid[slen] = '\0';
			h->has_uuid = true;
		} else if (klen == 15 && memcmp(key, "last-updated-ms", 15) == 0) {
			if (!read_integer(&s, &h->updated_ms))
				return false;
			h->has_updated_ms = true;
		} else if (!skip_value(&s)) {
			return false;
		}
		if (h->has_uuid && h->has_updated_ms)
			return true;
		skip_space(&s);
		if (s.p < s.end && *s.p == ',')
			s.p++;
		else
			return complete && s.p < s.end && *s.p == '}';
	}
}

/* The slow way: parse the whole file. */
static int read_whole(const char *path, ice_metadata_head *h, ice_err *err)
{
	ice_metadata *md = NULL;
	int rc = ice_metadata_load(path, &md, err);

	if (rc)
		return rc;
	memset(h, 0, sizeof *h);
	if (md->table_uuid && strlen(md->table_uuid) < sizeof h->uuid) {
		strcpy(h->uuid, md->table_uuid);
		h->has_uuid = true;
	}
	h->updated_ms = md->last_updated_ms;
	h->has_updated_ms = true;
	ice_metadata_free(md);
	return ICE_OK;
}

int ice_metadata_head_read(const char *path, ice_metadata_head *h, ice_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(h, 0, sizeof *h);
	rc = ice_read_file_head(path, HEAD_BYTES, &text, &len, err);
	if (rc == ICE_OK && !(scan_head(text, len, len < HEAD_BYTES, h) && h->has_updated_ms))
		rc = read_whole(path, h, err);
	free(text);
	return rc;
}
