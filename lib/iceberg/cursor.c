/* cursor: the locked, atomically saved file of per-table cursors. */
#include "config.h"
#include "ice_cursor.h"
#include "ice_fileio.h"
#include "ice_time.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define CURSOR_FORMAT "icecache-cursors"

struct ice_cursor_file {
	char *path;
	int lock_fd;
	json_t *doc;
};

void ice_cursor_clear(ice_cursor *c)
{
	free(c->table_uuid);
	memset(c, 0, sizeof *c);
}

int ice_cursor_copy(ice_cursor *dst, const ice_cursor *src, ice_err *err)
{
	ice_cursor_clear(dst);
	*dst = *src;
	dst->table_uuid = NULL;
	if (src->table_uuid && !(dst->table_uuid = strdup(src->table_uuid)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}

static int take_lock(ice_cursor_file *f, ice_err *err)
{
	size_t n = strlen(f->path) + 8;
	char *lock = malloc(n);
	int rc = ICE_OK;

	if (!lock)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	snprintf(lock, n, "%s.lock", f->path);
	f->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (f->lock_fd < 0)
		rc = ice_err_set(err, ICE_EIO, "%s: %s", lock, strerror(errno));
	else if (flock(f->lock_fd, LOCK_EX | LOCK_NB) != 0)
		rc = ice_err_set(err, ICE_EBACKEND, "%s: %s", lock,
		                 errno == EWOULDBLOCK ? "held by another process (is a poll still running?)"
		                                      : strerror(errno));
	free(lock);
	return rc;
}

static int load_doc(ice_cursor_file *f, ice_err *err)
{
	char *text = NULL;
	size_t len = 0;
	json_error_t jerr;
	const char *format;
	int rc = ice_read_file(f->path, 64u * 1024 * 1024, &text, &len, err);

	if (rc == ICE_ENOENT) {
		f->doc = json_pack("{s:s, s:i, s:{}}", "format", CURSOR_FORMAT, "version", 1, "tables");
		rc = f->doc ? ICE_OK : ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if (rc)
		goto out;
	f->doc = json_loadb(text, len, 0, &jerr);
	if (!f->doc) {
		rc = ice_err_set(err, ICE_EFORMAT, "%s:%d:%d: malformed cursor file: %s",
		                 f->path, jerr.line, jerr.column, jerr.text);
		goto out;
	}
	format = json_string_value(json_object_get(f->doc, "format"));
	if (!json_is_object(json_object_get(f->doc, "tables")) || !format ||
	    strcmp(format, CURSOR_FORMAT) != 0)
		rc = ice_err_set(err, ICE_EFORMAT, "%s: not an icecache cursor file", f->path);
out:
	free(text);
	return rc;
}

int ice_cursor_file_open(const char *path, ice_cursor_file **out, ice_err *err)
{
	ice_cursor_file *f = calloc(1, sizeof *f);
	int rc;

	*out = NULL;
	if (!f || !(f->path = strdup(path))) {
		free(f);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	f->lock_fd = -1;
	if ((rc = take_lock(f, err)) || (rc = load_doc(f, err))) {
		ice_cursor_file_close(f);
		return rc;
	}
	*out = f;
	return ICE_OK;
}

int ice_cursor_file_get(const ice_cursor_file *f, const char *table, ice_cursor *c)
{
	json_t *t = json_object_get(json_object_get(f->doc, "tables"), table);
	json_t *sid;

	memset(c, 0, sizeof *c);
	if (!json_is_object(t))
		return 0;
	if (json_is_string(json_object_get(t, "table_uuid")))
		c->table_uuid = strdup(json_string_value(json_object_get(t, "table_uuid")));
	sid = json_object_get(t, "snapshot_id");
	c->has_snapshot = json_is_integer(sid);
	c->snapshot_id = c->has_snapshot ? (int64_t)json_integer_value(sid) : 0;
	return 1;
}

int ice_cursor_file_set(ice_cursor_file *f, const char *table, const ice_cursor *c,
                        const char *metadata_file, ice_err *err)
{
	json_t *t = json_object();

	if (!t)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	json_object_set_new(t, "table_uuid", c->table_uuid ? json_string(c->table_uuid) : json_null());
	json_object_set_new(t, "snapshot_id", c->has_snapshot ? json_integer(c->snapshot_id) : json_null());
	if (metadata_file)
		json_object_set_new(t, "metadata_file", json_string(metadata_file));
	json_object_set_new(t, "updated_ms", json_integer(ice_now_ms()));
	if (json_object_set_new(json_object_get(f->doc, "tables"), table, t) != 0)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}

int ice_cursor_file_save(ice_cursor_file *f, ice_err *err)
{
	char *text = json_dumps(f->doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	size_t len;
	int rc;

	if (!text)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	len = strlen(text);
	text[len] = '\n'; /* the NUL becomes the final newline */
	rc = ice_write_file_atomic(f->path, text, len + 1, err);
	free(text);
	return rc;
}

void ice_cursor_file_close(ice_cursor_file *f)
{
	if (!f)
		return;
	if (f->lock_fd >= 0)
		close(f->lock_fd);
	json_decref(f->doc);
	free(f->path);
	free(f);
}
