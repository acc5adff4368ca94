/* archive: export and import IceCache entries as tar archives (layout in
 * ice_archive.h). Import trusts nothing in the archive: every name, type,
 * size and metadata field is checked before anything is allocated or put. */
#include "config.h"
#include "ice_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ice_batch.h"
#include "ice_jsonl.h"
#include "ice_keyscan.h"
#include "ice_tag.h"
#include "ice_time.h"
#include "ice_version.h"

#define MARKER_MAX (64u * 1024u)
#define STEM_MAX 40
#define MAX_ENTRY_TAGS 100000
#define HEX_DIGITS "0123456789abcdefABCDEF"

/* ---- texts: a JSON string, or {"hex":...} when not UTF-8 ---- */

/* A new C string from a text value; NULL with *why set when malformed. */
static char *text_from_json(const json_t *j, const char **why)
{
	const char *hex;
	size_t n, i;
	char *s;

	if (json_is_string(j)) {
		if (strlen(json_string_value(j)) != json_string_length(j)) {
			*why = "contains a NUL byte";
			return NULL;
		}
		if (!(s = strdup(json_string_value(j))))
			*why = "out of memory";
		return s;
	}
	hex = json_string_value(json_object_get(j, "hex"));
	if (!json_is_object(j) || !hex || (n = strlen(hex)) % 2) {
		*why = "not a string or {\"hex\":...}";
		return NULL;
	}
	if (!(s = malloc(n / 2 + 1))) {
		*why = "out of memory";
		return NULL;
	}
	for (i = 0; i < n / 2; i++) {
		unsigned byte = 0;
		if (strspn(hex + 2 * i, HEX_DIGITS) < 2 || sscanf(hex + 2 * i, "%2x", &byte) != 1 ||
		    byte == 0) {
			*why = "bad hex (or a NUL byte)";
			free(s);
			return NULL;
		}
		s[i] = (char)byte;
	}
	s[n / 2] = '\0';
	return s;
}

/* ---- export ---- */

/* The scan's callback: every key, with its size. */
static int collect_key(void *ctx, const char *key, const ice_entry_meta *m)
{
	return ice_keyscan_add(ctx, key, m) < 0;
}

static int archive_fail(struct archive *a, const char *what, ice_err *err)
{
	const char *msg = archive_error_string(a);

	return ice_err_set(err, archive_errno(a) == EPIPE ? ICE_EPIPE : ICE_EIO, "%s: %s", what,
	                   msg ? msg : "unknown error");
}

static int write_member(struct archive *a, const char *name, const void *data, size_t len,
                        int64_t mtime_ms, ice_err *err)
{
	struct archive_entry *e = archive_entry_new();
	const char *p = data;
	size_t off = 0;
	int rc = ICE_OK;

	if (!e)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, (time_t)(mtime_ms / 1000), (long)(mtime_ms % 1000) * 1000000L);
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		rc = archive_fail(a, name, err);
		goto out;
	}
	while (off < len) {
		la_ssize_t w = archive_write_data(a, p + off, len - off);
		if (w <= 0) {
			rc = archive_fail(a, name, err);
			goto out;
		}
		off += (size_t)w;
	}
out:
	archive_entry_free(e);
	return rc;
}

static int write_json_member(struct archive *a, const char *name, json_t *j, int64_t mtime_ms,
                             ice_err *err)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	int rc;

	json_decref(j);
	if (!text)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	rc = write_member(a, name, text, strlen(text), mtime_ms, err);
	free(text);
	return rc;
}

static json_t *entry_json(const char *key, const ice_entry_meta *m, int64_t ttl_ms)
{
	json_t *tags = json_array();

	for (size_t i = 0; tags && i < m->n_tags; i++)
		if (json_array_append_new(tags, ice_json_text(m->tags[i])) != 0) {
			json_decref(tags);
			return NULL;
		}
	return json_pack("{s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "kind", "entry",
	                 "key", ice_json_text(key), "size", (json_int_t)m->size, "created_ms",
	                 (json_int_t)m->created_ms, "ttl_ms", (json_int_t)ttl_ms, "expires_ms",
	                 (json_int_t)m->expires_ms, "hits", (json_int_t)m->hits, "origin",
	                 m->origin ? ice_json_text(m->origin) : json_null(), "table",
	                 ice_json_text(m->table ? m->table : "_"), "tags", tags);
}

typedef struct exporter {
	struct archive *a;
	int64_t now;
	ice_archive_stats *st;
	int rc;
	ice_err *err;
} exporter;

/* One entry peeked: its two members (none when it was removed or expired
 * since the scan). */
static int export_one(void *ctx, const char *key, int found, const void *val, size_t len,
                      const ice_entry_meta *m)
{
	exporter *x = ctx;
	char name[STEM_MAX + 16];
	size_t index = (size_t)x->st->entries + 1;
	int64_t ttl = 0;

	if (found != ICE_OK || (m->expires_ms && (ttl = m->expires_ms - ice_now_ms()) <= 0))
		return 0;
	snprintf(name, sizeof name, "entries/%08zu.json", index);
	if ((x->rc = write_json_member(x->a, name, entry_json(key, m, ttl), x->now, x->err)))
		return 1;
	snprintf(name, sizeof name, "entries/%08zu.value", index);
	if ((x->rc = write_member(x->a, name, val, len, x->now, x->err)))
		return 1;
	x->st->entries++;
	return 0;
}

static json_t *marker_json(int64_t now)
{
	char producer[512];

	ice_version_string("ice-cache", producer, sizeof producer);
	producer[strcspn(producer, "\n")] = '\0';
	return json_pack("{s:s, s:i, s:I, s:s}", "kind", "icecache-archive", "version",
	                 ICE_ARCHIVE_VERSION, "exported_ms", (json_int_t)now, "producer", producer);
}

int ice_archive_export(ice_backend *b, const ice_archive_filter *f, int fd,
                       ice_archive_stats *st, ice_err *err)
{
	static const ice_archive_filter all = { NULL, NULL, NULL };
	struct archive *a = archive_write_new();
	ice_archive_stats s = { 0 };
	ice_keyscan *keys = NULL;
	int64_t now = ice_now_ms();
	exporter x = { .a = a, .now = now, .st = &s, .err = err };
	int rc;

	if (!f)
		f = &all;
	if (!a) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = ice_keyscan_open(&keys, err)) ||
	    (rc = ice_backend_scan(b, f->table, f->tag, f->pattern, collect_key, keys, err)) ||
	    (rc = ice_keyscan_error(keys, err)))
		goto out;
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		rc = archive_fail(a, "archive", err);
		goto out;
	}
	if ((rc = write_json_member(a, ICE_ARCHIVE_MARKER, marker_json(now), now, err)))
		goto out;
	if ((rc = ice_keyscan_peek(b, keys, export_one, &x, err)) || (rc = x.rc))
		goto out;
	if (archive_write_close(a) != ARCHIVE_OK)
		rc = archive_fail(a, "archive", err);
out:
	if (st)
		*st = s;
	archive_write_free(a);
	ice_keyscan_free(keys);
	return rc;
}

/* ---- import: checking members ---- */

bool ice_archive_path_safe(const char *path)
{
	const char *p = path;

	if (!path || !*path || *path == '/' || strchr(path, '\\'))
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += n;
		p += *p == '/';
	}
	return true;
}

/* Why the member cannot be an IceCache member at all, or NULL. */
static const char *member_problem(struct archive_entry *e, const char *path)
{
	mode_t type = archive_entry_filetype(e);

	if (!ice_archive_path_safe(path))
		return "path escapes the archive (absolute or with \"..\")";
	if (archive_entry_hardlink(e))
		return "a hard link";
	if (type == AE_IFLNK)
		return "a symbolic link";
	if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO || type == AE_IFSOCK)
		return "a device, FIFO or socket";
	if (type != AE_IFREG && type != AE_IFDIR)
		return "not a regular file";
	if (type == AE_IFREG && !archive_entry_size_is_set(e))
		return "no size in its header";
	return NULL;
}

/* The member name for messages: control characters and bytes >= 0x7f as
 * \xHH so that it stays on one line. */
static void printable_name(const char *name, char *out, size_t cap)
{
	size_t o = 0;

	if (!name)
		name = "(unnamed)";
	for (; *name && o + 5 < cap; name++) {
		unsigned char c = (unsigned char)*name;
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

typedef enum { M_OTHER, M_META, M_VALUE } member_kind;

/* entries/DIGITS.json or entries/DIGITS.value (an optional "./" first);
 * the DIGITS go to stem. */
static member_kind classify(const char *path, char *stem)
{
	const char *d, *end;
	size_t n;

	if (strncmp(path, "./", 2) == 0)
		path += 2;
	if (strncmp(path, "entries/", 8) != 0)
		return M_OTHER;
	d = path + 8;
	n = strspn(d, "0123456789");
	if (n == 0 || n >= STEM_MAX)
		return M_OTHER;
	memcpy(stem, d, n);
	stem[n] = '\0';
	end = d + n;
	if (strcmp(end, ".json") == 0)
		return M_META;
	if (strcmp(end, ".value") == 0)
		return M_VALUE;
	return M_OTHER;
}

/* ---- import: one entry's metadata ---- */

typedef struct meta {
	char stem[STEM_MAX];
	char member[256];
	char *key, *origin;
	char **tags;
	size_t n_tags;
	int64_t created_ms, ttl_ms;
	uint64_t size;
	ice_err why; /* holds the text of a refusal */
	int have;    /* metadata read and valid: its value may follow */
	int refused; /* metadata refused: its value is skipped silently */
} meta;

static void meta_clear(meta *m)
{
	free(m->key);
	free(m->origin);
	for (size_t i = 0; i < m->n_tags; i++)
		free(m->tags[i]);
	free(m->tags);
	m->key = m->origin = NULL;
	m->tags = NULL;
	m->n_tags = 0;
	m->have = m->refused = 0;
}

static const char *int_field(const json_t *o, const char *name, int64_t lo, int64_t hi,
                             int64_t *out, meta *m)
{
	const json_t *v = json_object_get(o, name);

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		ice_err_set(&m->why, ICE_EFORMAT, "\"%s\" missing, not an integer or out of range", name);
		return m->why.msg;
	}
	*out = json_integer_value(v);
	return NULL;
}

static const char *parse_tags(const json_t *arr, meta *m)
{
	const char *why = NULL;
	size_t n = json_array_size(arr);

	if (!json_is_array(arr))
		return "\"tags\" missing or not an array";
	if (n > MAX_ENTRY_TAGS)
		return "too many tags";
	if (n && !(m->tags = calloc(n, sizeof *m->tags)))
		return "out of memory";
	for (size_t i = 0; i < n; i++) {
		if (!(m->tags[i] = text_from_json(json_array_get(arr, i), &why))) {
			ice_err_set(&m->why, ICE_EFORMAT, "tag %zu: %s", i + 1, why);
			return m->why.msg;
		}
		m->n_tags = i + 1;
	}
	/* the rules of put, checked here too so that a dry run refuses what
	 * the real import would */
	if (ice_tags_check((const char *const *)m->tags, m->n_tags, &m->why))
		return m->why.msg;
	return NULL;
}

/* Fill m from the metadata text; NULL when valid, else why not. */
static const char *parse_meta(const char *text, size_t len, meta *m)
{
	json_error_t jerr;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *origin;
	const char *why = NULL, *field = NULL;
	int64_t size = 0;

	if (!j) {
		ice_err_set(&m->why, ICE_EFORMAT, "metadata is not valid JSON: line %d: %s", jerr.line,
		            jerr.text);
		return m->why.msg;
	}
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "kind")) ||
	    strcmp(json_string_value(json_object_get(j, "kind")), "entry") != 0) {
		why = "metadata is not an object of kind \"entry\"";
		goto out;
	}
	origin = json_object_get(j, "origin");
	if ((field = "key", !(m->key = text_from_json(json_object_get(j, "key"), &why))) ||
	    (field = "origin", origin && !json_is_null(origin) &&
	                           !(m->origin = text_from_json(origin, &why))) ||
	    (field = NULL, why = int_field(j, "size", 0, ICE_ARCHIVE_MAX_VALUE, &size, m)) ||
	    (why = int_field(j, "created_ms", 0, INT64_MAX, &m->created_ms, m)) ||
	    (why = int_field(j, "ttl_ms", 0, INT64_MAX / 2, &m->ttl_ms, m)) ||
	    (why = parse_tags(json_object_get(j, "tags"), m)))
		goto out;
	m->size = (uint64_t)size;
out:
	if (why && field) {
		ice_err_set(&m->why, ICE_EFORMAT, "\"%s\": %s", field, why);
		why = m->why.msg;
	}
	json_decref(j);
	return why;
}

/* ---- import: the archive ---- */

typedef struct importer {
	ice_backend *b;
	struct archive *a;
	const ice_archive_import_opts *o;
	ice_archive_stats st;
	ice_batch batch; /* the entries put; st counts them once committed */
	int64_t exported_ms, now;
	meta m;
} importer;

static void refuse(importer *im, const char *member, const char *why)
{
	im->st.refused++;
	if (im->o->on_refuse)
		im->o->on_refuse(im->o->ctx, member, why);
}

/* Read the current member's declared size (at most max) into *buf. */
static int read_data(importer *im, struct archive_entry *e, const char *member, uint64_t max,
                     char **buf, size_t *len, ice_err *err)
{
	la_int64_t size = archive_entry_size(e);
	size_t off = 0;
	char *p;

	*buf = NULL;
	if (size < 0 || (uint64_t)size > max)
		return ice_err_set(err, ICE_ETOOBIG, "%s: %lld bytes, over the limit", member,
		                   (long long)size);
	if (!(p = malloc((size_t)size + 1)))
		return ice_err_set(err, ICE_ENOMEM, "%s: out of memory", member);
	while (off < (size_t)size) {
		la_ssize_t r = archive_read_data(im->a, p + off, (size_t)size - off);
		if (r <= 0) {
			free(p);
			return ice_err_set(err, ICE_EFORMAT, "%s: %s", member,
			                   r < 0 ? archive_error_string(im->a) : "truncated archive");
		}
		off += (size_t)r;
	}
	p[off] = '\0';
	*buf = p;
	*len = off;
	return ICE_OK;
}

static int read_marker(importer *im, struct archive_entry *e, const char *path, ice_err *err)
{
	char *text = NULL;
	size_t len;
	json_t *j = NULL, *v;
	int rc;

	if (strcmp(path, ICE_ARCHIVE_MARKER) != 0 || archive_entry_filetype(e) != AE_IFREG ||
	    archive_entry_hardlink(e))
		return ice_err_set(err, ICE_EFORMAT,
		                   "not an IceCache archive (the first member is not %s)",
		                   ICE_ARCHIVE_MARKER);
	if ((rc = read_data(im, e, path, MARKER_MAX, &text, &len, err)))
		goto out;
	j = json_loadb(text, len, 0, NULL);
	v = json_object_get(j, "version");
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "kind")) ||
	    strcmp(json_string_value(json_object_get(j, "kind")), "icecache-archive") != 0 ||
	    !json_is_integer(v) || !json_is_integer(json_object_get(j, "exported_ms"))) {
		rc = ice_err_set(err, ICE_EFORMAT, "%s: not an IceCache archive marker", path);
		goto out;
	}
	if (json_integer_value(v) != ICE_ARCHIVE_VERSION) {
		rc = ice_err_set(err, ICE_EUNSUPPORTED, "archive version %lld (this ice-cache reads version %d)",
		                 (long long)json_integer_value(v), ICE_ARCHIVE_VERSION);
		goto out;
	}
	im->exported_ms = json_integer_value(json_object_get(j, "exported_ms"));
out:
	json_decref(j);
	free(text);
	return rc;
}

/* A metadata member: remember it for the value that follows. */
static int on_meta(importer *im, struct archive_entry *e, const char *member, const char *stem,
                   ice_err *err)
{
	const char *why;
	char *text = NULL;
	size_t len;
	int rc;

	if (im->m.have)
		refuse(im, im->m.member, "metadata without a value");
	meta_clear(&im->m);
	snprintf(im->m.stem, sizeof im->m.stem, "%s", stem);
	snprintf(im->m.member, sizeof im->m.member, "%s", member);
	if (archive_entry_size(e) > (la_int64_t)ICE_ARCHIVE_MAX_META) {
		refuse(im, member, "oversized metadata member");
		im->m.refused = 1;
		return ICE_OK;
	}
	if ((rc = read_data(im, e, member, ICE_ARCHIVE_MAX_META, &text, &len, err)))
		return rc;
	if ((why = parse_meta(text, len, &im->m))) {
		refuse(im, member, why);
		meta_clear(&im->m);
		im->m.refused = 1;
	} else {
		im->m.have = 1;
	}
	free(text);
	return ICE_OK;
}

static int put_entry(importer *im, const char *member, const char *val, size_t len, ice_err *err)
{
	meta *m = &im->m;
	int64_t elapsed = im->now > im->exported_ms ? im->now - im->exported_ms : 0, ttl = 0;
	ice_err perr = { 0 };
	int rc;

	if (m->ttl_ms && (ttl = m->ttl_ms - elapsed) <= 0) {
		im->st.expired++;
		return ICE_OK;
	}
	if (im->o->dry_run) {
		im->st.entries++;
		im->st.bytes += len;
		return ICE_OK;
	}
	if ((rc = ice_batch_open(&im->batch, err)))
		return rc;
	rc = ice_backend_put_at(im->b, m->key, val, len, (const char *const *)m->tags, m->n_tags,
	                        ttl, m->origin, m->created_ms, &perr);
	/* a bad entry, or one this cache cannot hold (several tables in a
	 * one-table layout): that member is refused, the rest go on */
	if (rc == ICE_EINVAL || rc == ICE_EUNSUPPORTED) {
		refuse(im, member, perr.msg);
		return ICE_OK;
	}
	if (rc) {
		*err = perr;
		return ice_err_prefix(err, "%s: ", member);
	}
	return ice_batch_wrote(&im->batch, len, err);
}

/* A value member: put it with the metadata before it. */
static int on_value(importer *im, struct archive_entry *e, const char *member, const char *stem,
                    ice_err *err)
{
	char why[128], *val = NULL;
	la_int64_t size = archive_entry_size(e);
	int same = strcmp(stem, im->m.stem) == 0, rc = ICE_OK;
	size_t len;

	if (!same && im->m.have)
		refuse(im, im->m.member, "metadata without a value");
	if (same && im->m.refused)
		goto out; /* its metadata was refused and reported */
	if (size > (la_int64_t)ICE_ARCHIVE_MAX_VALUE) {
		snprintf(why, sizeof why, "oversized: declares %lld bytes, the limit is %u",
		         (long long)size, ICE_ARCHIVE_MAX_VALUE);
		refuse(im, member, why);
		goto out;
	}
	if (!same || !im->m.have) {
		refuse(im, member, "a value without metadata right before it");
		goto out;
	}
	if ((uint64_t)size != im->m.size) {
		snprintf(why, sizeof why, "size %lld differs from its metadata's size %llu",
		         (long long)size, (unsigned long long)im->m.size);
		refuse(im, member, why);
		goto out;
	}
	if ((rc = read_data(im, e, member, ICE_ARCHIVE_MAX_VALUE, &val, &len, err)))
		goto out;
	rc = put_entry(im, member, val, len, err);
out:
	free(val);
	meta_clear(&im->m);
	im->m.stem[0] = '\0';
	return rc;
}

static int on_member(importer *im, struct archive_entry *e, const char *path, ice_err *err)
{
	char member[256], stem[STEM_MAX], why[128];
	const char *problem = member_problem(e, path);
	member_kind k;

	printable_name(path, member, sizeof member);
	if (problem) {
		refuse(im, member, problem);
		return ICE_OK;
	}
	if (archive_entry_filetype(e) == AE_IFDIR)
		return ICE_OK; /* folders made by other tar tools carry nothing */
	k = classify(path, stem);
	if (k == M_META)
		return on_meta(im, e, member, stem, err);
	if (k == M_VALUE)
		return on_value(im, e, member, stem, err);
	snprintf(why, sizeof why, "not an IceCache member (entries/N.json or entries/N.value)");
	refuse(im, member, why);
	return ICE_OK;
}

int ice_archive_import(ice_backend *b, int fd, const ice_archive_import_opts *o,
                       ice_archive_stats *st, ice_err *err)
{
	static const ice_archive_import_opts defaults = { false, NULL, NULL };
	importer im = { .b = b, .o = o ? o : &defaults, .now = ice_now_ms() };
	struct archive_entry *e;
	ice_err cerr = { 0 };
	int rc = ICE_OK, r, first = 1;

	ice_batch_init(&im.batch, b);
	if (!(im.a = archive_read_new())) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	archive_read_support_filter_all(im.a);
	archive_read_support_format_tar(im.a);
	if (archive_read_open_fd(im.a, fd, 64 * 1024) != ARCHIVE_OK) {
		rc = ice_err_set(err, ICE_EFORMAT, "%s", archive_error_string(im.a));
		goto out;
	}
	while (rc == ICE_OK && (r = archive_read_next_header(im.a, &e)) != ARCHIVE_EOF) {
		const char *path = archive_entry_pathname(e);
		if (r < ARCHIVE_WARN) {
			rc = ice_err_set(err, ICE_EFORMAT, "%s", archive_error_string(im.a));
			break;
		}
		if (first)
			rc = read_marker(&im, e, path ? path : "", err);
		else
			rc = on_member(&im, e, path, err);
		first = 0;
	}
	if (rc == ICE_OK && first)
		rc = ice_err_set(err, ICE_EFORMAT, "an empty archive, not an IceCache archive");
	if (rc == ICE_OK && im.m.have)
		refuse(&im, im.m.member, "metadata without a value");
out:
	/* what was put before a failure stays, as it would entry by entry;
	 * a failure that lost the open batch is the first failure's doing */
	if (ice_batch_close(&im.batch, &cerr) && !rc) {
		rc = cerr.code;
		*err = cerr;
	}
	im.st.entries += im.batch.entries;
	im.st.bytes += im.batch.bytes;
	if (st)
		*st = im.st;
	meta_clear(&im.m);
	archive_read_free(im.a);
	return rc;
}
