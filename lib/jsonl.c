/* jsonl: line-bounded JSON lines reader and compact writer. */
#include "config.h"
#include "ice_jsonl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct ice_jsonl_reader {
	FILE *in;
	char *name;
	size_t max_line;
	unsigned long lineno;
	char *buf;
	size_t cap;
};

ice_jsonl_reader *ice_jsonl_reader_new(FILE *in, const char *name, size_t max_line)
{
	ice_jsonl_reader *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->name = strdup(name ? name : "input");
	if (!r->name) {
		free(r);
		return NULL;
	}
	r->in = in;
	r->max_line = max_line ? max_line : ICE_JSONL_DEFAULT_MAX_LINE;
	return r;
}

void ice_jsonl_reader_free(ice_jsonl_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r->name);
	free(r);
}

unsigned long ice_jsonl_lineno(const ice_jsonl_reader *r)
{
	return r->lineno;
}

static int grow(ice_jsonl_reader *r, size_t need)
{
	size_t cap = r->cap ? r->cap : 4096;
	char *p;

	while (cap < need)
		cap *= 2;
	if (cap == r->cap)
		return 0;
	p = realloc(r->buf, cap);
	if (!p)
		return -1;
	r->buf = p;
	r->cap = cap;
	return 0;
}

/* Read one line without its newline into r->buf. Returns the length, or
 * -1 at EOF with nothing read, -2 on a read error, -3 when the line is over
 * the bound (the rest of it is consumed). */
static long read_line(ice_jsonl_reader *r)
{
	size_t len = 0;
	int c;
	bool too_long = false;

	if (grow(r, 4096) < 0)
		return -2;
	while ((c = getc(r->in)) != EOF) {
		if (c == '\n')
			break;
		if (too_long)
			continue;
		if (len + 1 > r->max_line) {
			too_long = true;
			continue;
		}
		if (len + 2 > r->cap && grow(r, len + 2) < 0)
			return -2;
		r->buf[len++] = (char)c;
	}
	if (c == EOF && ferror(r->in))
		return -2;
	if (c == EOF && len == 0 && !too_long)
		return -1;
	r->buf[len] = '\0';
	return too_long ? -3 : (long)len;
}

static bool is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

static int parse_line(ice_jsonl_reader *r, size_t len, json_t **out, ice_err *err)
{
	json_error_t jerr;
	json_t *rec = json_loadb(r->buf, len, 0, &jerr);

	if (!rec)
		return ice_err_set(err, ICE_EINVAL, "%s:%lu:%d: malformed JSON: %s",
		                   r->name, r->lineno, jerr.column, jerr.text);
	if (!json_is_object(rec)) {
		json_decref(rec);
		return ice_err_set(err, ICE_EINVAL, "%s:%lu: not a JSON object", r->name, r->lineno);
	}
	if (!ice_record_kind(rec)) {
		json_decref(rec);
		return ice_err_set(err, ICE_EINVAL, "%s:%lu: record has no string \"kind\"",
		                   r->name, r->lineno);
	}
	*out = rec;
	return ICE_OK;
}

int ice_jsonl_next(ice_jsonl_reader *r, json_t **out, ice_err *err)
{
	long len;

	*out = NULL;
	for (;;) {
		len = read_line(r);
		if (len == -1)
			return 0;
		if (len == -2) {
			ice_err_set(err, ICE_EIO, "%s: read error: %s", r->name, strerror(errno));
			return -1;
		}
		r->lineno++;
		if (len == -3) {
			ice_err_set(err, ICE_ETOOBIG, "%s:%lu: line longer than %zu bytes",
			            r->name, r->lineno, r->max_line);
			return -1;
		}
		if (!is_blank(r->buf, (size_t)len))
			break;
	}
	return parse_line(r, (size_t)len, out, err) == ICE_OK ? 1 : -1;
}

static int write_error(FILE *out, ice_err *err)
{
	int e = errno;

	(void)out;
	if (e == EPIPE)
		return ice_err_set(err, ICE_EPIPE, "output closed");
	return ice_err_set(err, ICE_EIO, "write error: %s", strerror(e));
}

int ice_jsonl_write(FILE *out, const json_t *rec, ice_err *err)
{
	errno = 0;
	if (json_dumpf(rec, out, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
	    putc('\n', out) == EOF)
		return write_error(out, err);
	return ICE_OK;
}

int ice_jsonl_flush(FILE *out, ice_err *err)
{
	errno = 0;
	if (fflush(out) != 0)
		return write_error(out, err);
	return ICE_OK;
}

json_t *ice_record_new(const char *kind)
{
	json_t *rec = json_object();

	if (rec && json_object_set_new(rec, "kind", json_string(kind)) != 0) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

const char *ice_record_kind(const json_t *rec)
{
	return json_string_value(json_object_get(rec, "kind"));
}

bool ice_json_get_i64(const json_t *obj, const char *key, int64_t *out)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		return false;
	*out = (int64_t)json_integer_value(v);
	return true;
}

const char *ice_json_get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

json_t *ice_json_text(const char *s)
{
	static const char digits[] = "0123456789abcdef";
	json_t *j = json_string(s), *h;
	size_t n, i;
	char *hex;

	if (j)
		return j;
	n = strlen(s);
	if (!(hex = malloc(n * 2 + 1)))
		return NULL;
	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[(unsigned char)s[i] >> 4];
		hex[2 * i + 1] = digits[(unsigned char)s[i] & 15];
	}
	hex[2 * n] = '\0';
	h = json_pack("{s:s}", "hex", hex);
	free(hex);
	return h;
}
