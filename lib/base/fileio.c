/* fileio: whole-file reads through libarchive's decompression filters,
 * file identity from stat(2), and atomic replacement of small files. */
#include "config.h"
#include "ice_fileio.h"

#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *archive_why(struct archive *a)
{
	const char *why = archive_error_string(a);

	return why ? why : "corrupt or truncated compressed data";
}

/* Read the data into *buf; over max bytes is ICE_ETOOBIG, or with `head`
 * the first max bytes and no error. */
static int append_data(struct archive *a, const char *path, size_t max, bool head,
                       char **buf, size_t *len, ice_err *err)
{
	/* One byte more than max may be read: that is how "over max" shows. */
	size_t cap = max < 64 * 1024 ? max + 1 : 64 * 1024, n = 0;
	char *p = malloc(cap + 1);
	la_ssize_t got;
	int rc = ICE_OK;

	if (!p)
		return ice_err_set(err, ICE_ENOMEM, "%s: out of memory", path);
	for (;;) {
		if (n == cap) {
			char *q;
			if (cap > max && head) {
				n = max;
				break;
			}
			if (cap > max) {
				rc = ice_err_set(err, ICE_ETOOBIG, "%s: larger than %zu bytes", path, max);
				goto out;
			}
			cap = cap * 2 > max ? max + 1 : cap * 2;
			q = realloc(p, cap + 1);
			if (!q) {
				rc = ice_err_set(err, ICE_ENOMEM, "%s: out of memory", path);
				goto out;
			}
			p = q;
		}
		got = archive_read_data(a, p + n, cap - n);
		if (got < 0) {
			rc = ice_err_set(err, ICE_EFORMAT, "%s: %s", path, archive_why(a));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	p = NULL;
out:
	free(p);
	return rc;
}

/* The data of an archive opened by `open` (a file descriptor or bytes in
 * memory), decompressed. */
typedef int (*open_fn)(struct archive *a, const void *src, size_t len);

static int open_fd(struct archive *a, const void *src, size_t len)
{
	(void)len;
	return archive_read_open_fd(a, *(const int *)src, 64 * 1024);
}

static int open_mem(struct archive *a, const void *src, size_t len)
{
	return archive_read_open_memory(a, src, len);
}

static int decompress(open_fn open_src, const void *src, size_t src_len, const char *path,
                      size_t max, bool head, char **buf, size_t *len, ice_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *entry;
	int rc = ICE_OK, ar;

	if (!a)
		return ice_err_set(err, ICE_ENOMEM, "%s: out of memory", path);
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	archive_read_support_format_empty(a);
	if (open_src(a, src, src_len) != ARCHIVE_OK) {
		rc = ice_err_set(err, ICE_EFORMAT, "%s: %s", path, archive_why(a));
		goto out;
	}
	ar = archive_read_next_header(a, &entry);
	if (ar == ARCHIVE_EOF) {
		/* An empty file: nothing to decompress. */
		*buf = calloc(1, 1);
		rc = *buf ? ICE_OK : ice_err_set(err, ICE_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
		rc = ice_err_set(err, ICE_EFORMAT, "%s: %s", path, archive_why(a));
		goto out;
	}
	rc = append_data(a, path, max, head, buf, len, err);
out:
	archive_read_free(a);
	return rc;
}

static int read_decompressed(const char *path, size_t max, bool head, char **buf, size_t *len,
                             ice_err *err)
{
	int fd, rc;

	*buf = NULL;
	*len = 0;
	if (!max)
		max = ICE_READ_DEFAULT_MAX;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ice_err_set(err, errno == ENOENT ? ICE_ENOENT : ICE_EIO,
		                   "%s: %s", path, strerror(errno));
	rc = decompress(open_fd, &fd, 0, path, max, head, buf, len, err);
	close(fd);
	return rc;
}

int ice_decompress_mem(const void *data, size_t data_len, const char *name, size_t max,
                       char **buf, size_t *len, ice_err *err)
{
	*buf = NULL;
	*len = 0;
	return decompress(open_mem, data, data_len, name, max ? max : ICE_READ_DEFAULT_MAX, false,
	                  buf, len, err);
}

int ice_read_file(const char *path, size_t max, char **buf, size_t *len, ice_err *err)
{
	return read_decompressed(path, max, false, buf, len, err);
}

int ice_read_file_head(const char *path, size_t max, char **buf, size_t *len, ice_err *err)
{
	return read_decompressed(path, max ? max : 1, true, buf, len, err);
}

static void id_from_stat(const struct stat *st, ice_file_id *id)
{
	id->exists = true;
	id->dev = (uint64_t)st->st_dev;
	id->ino = (uint64_t)st->st_ino;
	id->size = (uint64_t)st->st_size;
	id->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	id->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

int ice_file_id_of(const char *path, ice_file_id *id, ice_err *err)
{
	struct stat st;

	memset(id, 0, sizeof *id);
	if (stat(path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ICE_OK;
		return ice_err_set(err, ICE_EIO, "%s: %s", path, strerror(errno));
	}
	id_from_stat(&st, id);
	return ICE_OK;
}

/* Read all of fd into *buf; over max bytes is ICE_ETOOBIG. */
static int read_fd(int fd, const char *path, size_t max, char **buf, size_t *len, ice_err *err)
{
	size_t cap = 64 * 1024, n = 0;
	char *p = malloc(cap + 1), *q;
	ssize_t got;

	while (p) {
		if (n == cap) {
			if (cap > max) {
				free(p);
				return ice_err_set(err, ICE_ETOOBIG, "%s: larger than %zu bytes", path, max);
			}
			if (!(q = realloc(p, cap * 2 + 1)))
				break;
			p = q;
			cap *= 2;
		}
		if ((got = read(fd, p + n, cap - n)) == 0)
			break;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			free(p);
			return ice_err_set(err, ICE_EIO, "%s: %s", path, strerror(errno));
		}
		n += (size_t)got;
	}
	if (!p)
		return ice_err_set(err, ICE_ENOMEM, "%s: out of memory", path);
	if (n > max) {
		free(p);
		return ice_err_set(err, ICE_ETOOBIG, "%s: larger than %zu bytes", path, max);
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return ICE_OK;
}

int ice_read_file_raw(const char *path, size_t max, char **buf, size_t *len, ice_file_id *id,
                      ice_err *err)
{
	struct stat before, after;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	memset(id, 0, sizeof *id);
	if (fd < 0)
		return ice_err_set(err, errno == ENOENT || errno == ENOTDIR ? ICE_ENOENT : ICE_EIO,
		                   "%s: %s", path, strerror(errno));
	if (fstat(fd, &before) != 0) {
		rc = ice_err_set(err, ICE_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(before.st_mode)) {
		rc = ice_err_set(err, ICE_EINVAL, "%s: is a directory", path);
		goto out;
	}
	if ((rc = read_fd(fd, path, max ? max : ICE_READ_DEFAULT_MAX, buf, len, err)))
		goto out;
	/* A writer between the two stats would pair old bytes with a new id. */
	if (fstat(fd, &after) != 0 || after.st_size != before.st_size ||
	    after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
	    after.st_mtim.tv_nsec != before.st_mtim.tv_nsec || (size_t)after.st_size != *len) {
		free(*buf);
		*buf = NULL;
		rc = ice_err_set(err, ICE_EIO, "%s: changed while being read", path);
		goto out;
	}
	id_from_stat(&after, id);
out:
	close(fd);
	return rc;
}

bool ice_file_id_equal(const ice_file_id *a, const ice_file_id *b)
{
	if (a->exists != b->exists)
		return false;
	if (!a->exists)
		return true;
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = -1;

	if (!copy)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

int ice_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int ice_atomic_begin(ice_atomic_file *af, const char *path, unsigned mode, ice_err *err)
{
	af->fd = -1;
	af->tmp = NULL;
	if (!(af->path = strdup(path)) || asprintf(&af->tmp, "%s.tmp.XXXXXX", path) < 0) {
		af->tmp = NULL;
		ice_atomic_abort(af);
		return ice_err_set(err, ICE_ENOMEM, "%s: out of memory", path);
	}
	if ((af->fd = mkstemp(af->tmp)) < 0 || (mode != 0600 && fchmod(af->fd, (mode_t)mode) != 0)) {
		int rc = ice_err_set(err, ICE_EIO, "%s: cannot create temporary file: %s", path, strerror(errno));
		ice_atomic_abort(af);
		return rc;
	}
	return ICE_OK;
}

int ice_atomic_commit(ice_atomic_file *af, ice_err *err)
{
	int rc = ICE_OK, fd = af->fd;

	af->fd = -1;
	if (!af->tmp)
		return ice_err_set(err, ICE_EINVAL, "no temporary file to commit");
	if (fsync(fd) != 0) {
		rc = ice_err_set(err, ICE_EIO, "%s: %s", af->tmp, strerror(errno));
		close(fd);
		goto out;
	}
	if (close(fd) != 0) {
		rc = ice_err_set(err, ICE_EIO, "%s: %s", af->tmp, strerror(errno));
		goto out;
	}
	if (rename(af->tmp, af->path) != 0) {
		rc = ice_err_set(err, ICE_EIO, "%s: rename: %s", af->path, strerror(errno));
		goto out;
	}
	free(af->tmp);
	af->tmp = NULL;
	fsync_dir_of(af->path);
out:
	ice_atomic_abort(af);
	return rc;
}

void ice_atomic_abort(ice_atomic_file *af)
{
	if (af->fd >= 0)
		close(af->fd);
	af->fd = -1;
	if (af->tmp)
		unlink(af->tmp);
	free(af->tmp);
	free(af->path);
	af->tmp = af->path = NULL;
}

int ice_write_file_atomic(const char *path, const void *data, size_t len, ice_err *err)
{
	ice_atomic_file af;
	int rc;

	if ((rc = ice_atomic_begin(&af, path, 0600, err)))
		return rc;
	if (ice_write_all(af.fd, data, len) < 0) {
		rc = ice_err_set(err, ICE_EIO, "%s: %s", af.tmp, strerror(errno));
		ice_atomic_abort(&af);
		return rc;
	}
	return ice_atomic_commit(&af, err);
}

int ice_mkdir_parents(const char *path, unsigned mode, ice_err *err)
{
	char *d = strdup(path), *p;
	int rc = ICE_OK;

	if (!d)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (p = d + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(d, (mode_t)mode) != 0 && errno != EEXIST) {
			rc = ice_err_set(err, ICE_EIO, "cannot create folder %s: %s", d, strerror(errno));
			break;
		}
		*p = '/';
	}
	free(d);
	return rc;
}
