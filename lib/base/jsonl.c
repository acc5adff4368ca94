/* jsonl: line-bounded JSON lines reader and compact writer. */
#include "config.h"
#include "ice_jsonl.h"
#include "ice_text.h"

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
	size_t len; /* of the line in buf */
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

const char *ice_jsonl_line(const ice_jsonl_reader *r, size_t *len)
{
	*len = r->len;
	return r->buf;
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
	/* unlocked: a reader is used by one thread; getc locks per byte */
	while ((c = getc_unlocked(r->in)) != EOF) {
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
	r->len = (size_t)len;
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

int ice_jsonl_write_line(FILE *out, const char *line, size_t len, ice_err *err)
{
	errno = 0;
	if (fwrite(line, 1, len, out) != len || putc('\n', out) == EOF)
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

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *ice_json_text_bytes(const json_t *v)
{
	const char *hex = json_string_value(json_object_get(v, "hex"));
	size_t n, i;
	char *out;

	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (!hex || (n = strlen(hex)) % 2 || !(out = malloc(n / 2 + 1)))
		return NULL;
	for (i = 0; i < n / 2; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0 || (hi | lo) == 0) { /* not hex, or a NUL */
			free(out);
			return NULL;
		}
		out[i] = (char)(hi << 4 | lo);
	}
	out[n / 2] = '\0';
	return out;
}

char *ice_json_text_shown(const json_t *v, size_t *cols)
{
	char *bytes = ice_json_text_bytes(v), *shown = bytes ? ice_text_visible(bytes, cols) : NULL;

	free(bytes);
	return shown;
}

/* ---- JSON text by hand ------------------------------------------------------ */

void ice_jbuf_reset(ice_jbuf *b)
{
	b->len = 0;
	b->invalid = b->failed = false;
}

void ice_jbuf_free(ice_jbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

static bool jbuf_reserve(ice_jbuf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->len + more <= b->cap)
		return true;
	for (cap = b->cap ? b->cap * 2 : 1024; cap < b->len + more; cap *= 2)
		;
	if (!(p = realloc(b->p, cap))) {
		b->failed = b->invalid = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void ice_jbuf_raw(ice_jbuf *b, const char *s, size_t n)
{
	if (n == 0 || !jbuf_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void jbuf_escape(ice_jbuf *b, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char seq[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

	switch (c) {
	case '"': ice_jbuf_lit(b, "\\\""); break;
	case '\\': ice_jbuf_lit(b, "\\\\"); break;
	case '\b': ice_jbuf_lit(b, "\\b"); break;
	case '\f': ice_jbuf_lit(b, "\\f"); break;
	case '\n': ice_jbuf_lit(b, "\\n"); break;
	case '\r': ice_jbuf_lit(b, "\\r"); break;
	case '\t': ice_jbuf_lit(b, "\\t"); break;
	default: ice_jbuf_raw(b, seq, sizeof seq); break;
	}
}

/* Does any of eight bytes need a look: a control character, '"', '\\'
 * or a byte of a multi-byte UTF-8 sequence? */
static bool word_needs_look(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');

	return ((w | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs) != 0;
}

void ice_jbuf_str(ice_jbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p, *end = p + strlen(s);

	ice_jbuf_lit(b, "\"");
	while (p < end) {
		uint64_t w;
		size_t n;
		if (end - p >= 8 && (memcpy(&w, p, 8), !word_needs_look(w))) {
			p += 8;
			continue;
		}
		if (*p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0x80) {
			if (!(n = ice_utf8_len(p))) {
				b->invalid = true;
				return;
			}
			p += n;
			continue;
		}
		ice_jbuf_raw(b, (const char *)run, (size_t)(p - run));
		jbuf_escape(b, *p++);
		run = p;
	}
	ice_jbuf_raw(b, (const char *)run, (size_t)(p - run));
	ice_jbuf_lit(b, "\"");
}

void ice_jbuf_int(ice_jbuf *b, int64_t v)
{
	char tmp[24];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	size_t i = sizeof tmp;

	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[--i] = '-';
	ice_jbuf_raw(b, tmp + i, sizeof tmp - i);
}
