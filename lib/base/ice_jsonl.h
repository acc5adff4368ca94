/* ice_jsonl: JSON lines in and out, the wire format of every program.
 *
 * One compact object per line with a string "kind". The reader bounds the
 * line length, counts lines for error messages and skips blank lines; a
 * malformed line is reported with its number and the reader stays usable,
 * so callers can go on with the next line. 64-bit integers stay exact
 * (jansson's json_int_t is long long). */
#ifndef ICE_JSONL_H
#define ICE_JSONL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "ice_error.h"

#define ICE_JSONL_DEFAULT_MAX_LINE (64u * 1024u * 1024u)

typedef struct ice_jsonl_reader ice_jsonl_reader;

/* Wrap `in` (not owned: the caller closes it). `name` is used in messages
 * ("stdin"); it is copied. max_line 0 means ICE_JSONL_DEFAULT_MAX_LINE. */
ice_jsonl_reader *ice_jsonl_reader_new(FILE *in, const char *name, size_t max_line);
void ice_jsonl_reader_free(ice_jsonl_reader *r);

/* Read the next record into *out (a new reference the caller decrefs).
 * Returns 1 on a record, 0 at end of input, -1 on a bad line (err says
 * "stdin:LINE: why"; the line has been consumed) or a read error
 * (err->code ICE_EIO: stop reading). */
int ice_jsonl_next(ice_jsonl_reader *r, json_t **out, ice_err *err);

/* The text of the record ice_jsonl_next last returned, as read (no
 * newline); valid until the next call. For passing records on unchanged. */
const char *ice_jsonl_line(const ice_jsonl_reader *r, size_t *len);

/* Number of the line last returned or rejected (1-based). */
unsigned long ice_jsonl_lineno(const ice_jsonl_reader *r);

/* Write `rec` as one compact line. ICE_EPIPE when the reader went away,
 * ICE_EIO on other write errors. Does not flush. */
int ice_jsonl_write(FILE *out, const json_t *rec, ice_err *err);

/* Write one line already in JSON (no newline in `line`: it is added). */
int ice_jsonl_write_line(FILE *out, const char *line, size_t len, ice_err *err);

/* Flush `out`, mapping errors as ice_jsonl_write does. */
int ice_jsonl_flush(FILE *out, ice_err *err);

/* A line of JSON text built by hand, for records written in bulk (ice-diff
 * file records), byte for byte as ice_jsonl_write would write them: strings
 * escaped as jansson escapes them, integers in decimal. A string that is
 * not valid UTF-8 (which jansson refuses) sets `invalid`; so does running
 * out of memory (`failed`): the caller then builds the record with jansson.
 * Owns `p`; reuse it for many lines with ice_jbuf_reset(). */
typedef struct {
	char *p;
	size_t len, cap;
	bool invalid, failed;
} ice_jbuf;

void ice_jbuf_reset(ice_jbuf *b);
void ice_jbuf_free(ice_jbuf *b);
void ice_jbuf_raw(ice_jbuf *b, const char *s, size_t n);
/* A C string literal's bytes (JSON punctuation, keys) */
#define ice_jbuf_lit(b, s) ice_jbuf_raw((b), (s), sizeof(s) - 1)
void ice_jbuf_str(ice_jbuf *b, const char *s);
void ice_jbuf_int(ice_jbuf *b, int64_t v);

/* A new object {"kind": kind}; the caller owns the reference. */
json_t *ice_record_new(const char *kind);

/* The record's "kind", or NULL when absent or not a string. */
const char *ice_record_kind(const json_t *rec);

/* Exact integer field: true and *out set when `key` holds a JSON integer. */
bool ice_json_get_i64(const json_t *obj, const char *key, int64_t *out);

/* String field or NULL. */
const char *ice_json_get_str(const json_t *obj, const char *key);

/* Bytes that may not be UTF-8 (cache keys, tags): a JSON string when they
 * are UTF-8, else {"hex":"..."} (lowercase hex of the bytes), so nothing is
 * lost. A new reference; NULL when out of memory. */
json_t *ice_json_text(const char *s);

/* The bytes ice_json_text wrote v from: a copy of a string, or the bytes
 * of {"hex":"..."}. A new string the caller frees; NULL when v is neither
 * (or its hex is bad, or holds a NUL) or out of memory. */
char *ice_json_text_bytes(const json_t *v);

/* Those bytes as a terminal or a label may show them (ice_text_visible:
 * control characters and stray bytes as \xHH; *cols, may be NULL, its
 * width). A new string; NULL as ice_json_text_bytes. */
char *ice_json_text_shown(const json_t *v, size_t *cols);

#endif
