/* ice_fileio: read whole files, compressed or not, and tell files apart.
 *
 * ice_read_file() sniffs the content, not the name: plain, gzip, zstd, bzip2
 * and xz files all come back decompressed (libarchive's raw format with all
 * filters), so `v3.gz.metadata.json`, `x.metadata.json.gz` and `.zst`
 * metadata read like plain JSON. */
#ifndef ICE_FILEIO_H
#define ICE_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ice_error.h"

#define ICE_READ_DEFAULT_MAX (256u * 1024u * 1024u)

/* Read `path` whole and decompressed into *buf (malloc'd, NUL-terminated,
 * owned by the caller) and *len. More than max bytes (0: the default) after
 * decompression is ICE_ETOOBIG. */
int ice_read_file(const char *path, size_t max, char **buf, size_t *len, ice_err *err);

/* The same for the `data_len` bytes at `data` (`name` for messages):
 * plain bytes come back as they are, compressed ones decompressed. */
int ice_decompress_mem(const void *data, size_t data_len, const char *name, size_t max,
                       char **buf, size_t *len, ice_err *err);

/* The first `max` bytes of `path` after decompression (all of it when
 * shorter), as ice_read_file() reads them; a longer file is no error. */
int ice_read_file_head(const char *path, size_t max, char **buf, size_t *len, ice_err *err);

/* What identifies one version of a file cheaply, without reading it. */
typedef struct {
	bool exists;
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
} ice_file_id;

/* Fill *id from stat(2). A missing file gives exists=false and ICE_OK;
 * other stat failures are errors. */
int ice_file_id_of(const char *path, ice_file_id *id, ice_err *err);

/* Read `path` whole, byte for byte (no decompression), with the id of the
 * version read: the file is stat'ed before and after, and a change while
 * reading is ICE_EIO rather than bytes paired with the wrong id. *buf is
 * malloc'd and NUL-terminated (caller frees). Missing: ICE_ENOENT; more
 * than max (0: the default) bytes: ICE_ETOOBIG. Regular files only: a
 * size that differs from the bytes read counts as a change. */
int ice_read_file_raw(const char *path, size_t max, char **buf, size_t *len, ice_file_id *id,
                      ice_err *err);

bool ice_file_id_equal(const ice_file_id *a, const ice_file_id *b);

/* Write all `len` bytes to fd, again after EINTR and short writes: 0, or
 * -1 with errno set. */
int ice_write_all(int fd, const void *data, size_t len);

/* Write `len` bytes to `path` atomically: a temporary file in the same
 * folder, fsync, rename over path, fsync of the folder. A reader sees the
 * old content or the new one, never a part. */
int ice_write_file_atomic(const char *path, const void *data, size_t len, ice_err *err);

/* A file written in place of `path` in one step, for writers that stream
 * (archives, reports): ice_atomic_begin opens a temporary file beside path
 * (mode 0600 unless `mode` says otherwise; the caller applies its umask),
 * the caller writes to af->fd, ice_atomic_commit fsyncs, renames over path
 * and fsyncs the folder; ice_atomic_abort removes the temporary file. Both
 * release what begin took; either is safe to call after the other. */
typedef struct {
	char *path; /* owned copy of the destination */
	char *tmp;  /* owned; NULL when nothing is pending */
	int fd;     /* -1 when closed */
} ice_atomic_file;

int ice_atomic_begin(ice_atomic_file *af, const char *path, unsigned mode, ice_err *err);
int ice_atomic_commit(ice_atomic_file *af, ice_err *err);
void ice_atomic_abort(ice_atomic_file *af);

/* mkdir -p of every folder above `path` (not path itself), each created
 * with `mode` (0700 for per-user state: caches may hold secrets). */
int ice_mkdir_parents(const char *path, unsigned mode, ice_err *err);

#endif
