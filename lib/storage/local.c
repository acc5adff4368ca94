/* local: storage operations on local files, with ETags made from stat(2). */
#include "config.h"
#include "ice_local.h"
#include "ice_fileio.h"
#include "ice_path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int info_of_id(const ice_file_id *id, ice_obj_info *out, ice_err *err)
{
	char tag[96];

	snprintf(tag, sizeof tag, "W/\"%llx-%llx-%llx\"", (unsigned long long)id->ino,
	         (unsigned long long)id->size, (unsigned long long)id->mtime_ns);
	out->size = id->size;
	out->mtime_ms = id->mtime_ns / 1000000;
	if (!(out->etag = strdup(tag)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}

int ice_local_read(const char *path, size_t max, ice_obj *out, ice_err *err)
{
	ice_file_id id;
	int rc;

	memset(out, 0, sizeof *out);
	out->info.mtime_ms = -1;
	if ((rc = ice_read_file_raw(path, max, &out->data, &out->len, &id, err)))
		return rc;
	if ((rc = info_of_id(&id, &out->info, err)))
		ice_obj_clear(out);
	return rc;
}

int ice_local_stat(const char *path, ice_obj_info *out, ice_err *err)
{
	ice_file_id id;
	int rc;

	memset(out, 0, sizeof *out);
	out->mtime_ms = -1;
	if ((rc = ice_file_id_of(path, &id, err)))
		return rc;
	if (!id.exists)
		return ice_err_set(err, ICE_ENOENT, "%s: No such file or directory", path);
	return info_of_id(&id, out, err);
}

int ice_local_read_if(const char *path, const char *etag, size_t max, ice_obj *out,
                      ice_err *err)
{
	ice_obj_info now;
	int rc;

	if (etag) {
		if ((rc = ice_local_stat(path, &now, err)))
			return rc;
		if (strcmp(now.etag, etag) == 0) {
			memset(out, 0, sizeof *out);
			out->info = now;
			out->unchanged = true;
			return ICE_OK;
		}
		ice_obj_info_clear(&now);
	}
	return ice_local_read(path, max, out, err);
}

int ice_local_read_range(const char *path, uint64_t offset, uint64_t length, size_t max,
                         ice_obj *out, ice_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = ICE_OK;
	ice_file_id id = { 0 };
	struct stat st;
	uint64_t n;
	size_t got = 0;

	memset(out, 0, sizeof *out);
	out->info.mtime_ms = -1;
	if (fd < 0)
		return ice_err_set(err, errno == ENOENT || errno == ENOTDIR ? ICE_ENOENT : ICE_EIO,
		                   "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = ice_err_set(err, ICE_EIO, "%s: %s", path,
		                 S_ISDIR(st.st_mode) ? "is a directory" : strerror(errno));
		goto out;
	}
	if (offset > (uint64_t)st.st_size) {
		rc = ice_err_set(err, ICE_EINVAL, "%s: range beyond the end of the object", path);
		goto out;
	}
	n = (uint64_t)st.st_size - offset;
	if (length && length < n)
		n = length;
	if (max && n > max) {
		rc = ice_err_set(err, ICE_ETOOBIG, "%s: larger than %zu bytes", path, max);
		goto out;
	}
	if (!(out->data = malloc(n + 1))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	while (got < n) {
		ssize_t r = pread(fd, out->data + got, n - got, (off_t)(offset + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = ice_err_set(err, ICE_EIO, "%s: %s", path, r ? strerror(errno) : "shrank while read");
			goto out;
		}
		got += (size_t)r;
	}
	out->data[n] = '\0';
	out->len = n;
	id.exists = true;
	id.ino = st.st_ino;
	id.size = (uint64_t)st.st_size;
	id.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	rc = info_of_id(&id, &out->info, err);
out:
	close(fd);
	if (rc)
		ice_obj_clear(out);
	return rc;
}

static int list_dir(const char *dir, bool recursive, ice_listing *out, ice_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = ICE_OK;

	if (!d)
		return ice_err_set(err, errno == ENOENT || errno == ENOTDIR ? ICE_ENOENT : ICE_EIO,
		                   "%s: %s", dir, strerror(errno));
	while (!rc && (errno = 0, e = readdir(d))) {
		struct stat st;
		char *path;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (!(path = ice_path_join(dir, e->d_name))) {
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
			break;
		}
		if (stat(path, &st) != 0) { /* gone meanwhile, or a dangling link */
			free(path);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (recursive)
				rc = list_dir(path, true, out, err);
			free(path);
		} else if (S_ISREG(st.st_mode)) {
			rc = ice_listing_add(out, path, (uint64_t)st.st_size, NULL,
			                     (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000,
			                     err);
		} else {
			free(path);
		}
	}
	if (!rc && errno)
		rc = ice_err_set(err, ICE_EIO, "%s: %s", dir, strerror(errno));
	closedir(d);
	return rc;
}

int ice_local_list(const char *dir, bool recursive, ice_listing *out, ice_err *err)
{
	int rc = list_dir(dir, recursive, out, err);

	if (!rc)
		ice_listing_sort(out);
	return rc;
}
