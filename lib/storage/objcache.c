/* objcache: immutable remote objects kept in local files, checked on
 * every hit, written atomically, evicted least recently used first. */
#include "config.h"
#include "ice_objcache.h"
#include "ice_fileio.h"
#include "ice_sbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "icecache-object 1\n"
#define DEFAULT_MAX (1024ull * 1024 * 1024)
#define MAX_HEADER 8192

struct ice_objcache {
	char *dir;
	uint64_t max_bytes;
	uint64_t written;     /* by this process since the last scan */
	bool scanned;
	ice_objcache_stats stats;
};

static char *default_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char *d = NULL;

	if (xdg && *xdg == '/') {
		if (asprintf(&d, "%s/icecache/objects", xdg) < 0)
			d = NULL;
	} else if (home && *home) {
		if (asprintf(&d, "%s/.cache/icecache/objects", home) < 0)
			d = NULL;
	}
	return d;
}

int ice_objcache_open(ice_objcache **c, const ice_objcache_opts *o, ice_err *err)
{
	*c = NULL;
	if (o && o->disabled)
		return ICE_OK;
	if (!(*c = calloc(1, sizeof **c)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	(*c)->max_bytes = o && o->max_bytes ? o->max_bytes : DEFAULT_MAX;
	(*c)->dir = o && o->dir ? strdup(o->dir) : default_dir();
	if (!(*c)->dir) {
		free(*c);
		*c = NULL;
		return ice_err_set(err, ICE_EINVAL, "object cache: no folder (set XDG_CACHE_HOME or HOME)");
	}
	return ICE_OK;
}

void ice_objcache_close(ice_objcache *c)
{
	if (!c)
		return;
	free(c->dir);
	free(c);
}

ice_objcache_stats ice_objcache_stats_of(const ice_objcache *c)
{
	ice_objcache_stats none = { 0 };

	return c ? c->stats : none;
}

const char *ice_objcache_dir(const ice_objcache *c)
{
	return c ? c->dir : NULL;
}

static void hex_sha256(const void *p, size_t n, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[SHA256_DIGEST_LENGTH];

	SHA256(p, n, d);
	for (size_t i = 0; i < sizeof d; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}

/* DIR/ab/abcdef...  (caller frees) */
static char *entry_path(const ice_objcache *c, const char *uri)
{
	char h[65], *p;

	hex_sha256(uri, strlen(uri), h);
	return asprintf(&p, "%s/%.2s/%s", c->dir, h, h) < 0 ? NULL : p;
}

/* ---- reading ------------------------------------------------------------ */

typedef struct {
	char uri[4096], etag[512], sha[65];
	uint64_t size;
	size_t header_len;
} header;

static bool field(const char **p, const char *end, const char *name, char *dst, size_t n)
{
	size_t k = strlen(name);
	const char *nl;

	if ((size_t)(end - *p) <= k || memcmp(*p, name, k) != 0 || (*p)[k] != ' ' ||
	    !(nl = memchr(*p, '\n', (size_t)(end - *p))))
		return false;
	*p += k + 1;
	if ((size_t)(nl - *p) >= n)
		return false;
	memcpy(dst, *p, (size_t)(nl - *p));
	dst[nl - *p] = '\0';
	*p = nl + 1;
	return true;
}

static bool parse_header(const char *buf, size_t len, header *h)
{
	const char *p = buf, *end = buf + (len < MAX_HEADER ? len : MAX_HEADER);
	char size[32];
	char *e;

	if (len < strlen(MAGIC) || memcmp(p, MAGIC, strlen(MAGIC)) != 0)
		return false;
	p += strlen(MAGIC);
	if (!field(&p, end, "uri", h->uri, sizeof h->uri) ||
	    !field(&p, end, "size", size, sizeof size) ||
	    !field(&p, end, "etag", h->etag, sizeof h->etag) ||
	    !field(&p, end, "sha256", h->sha, sizeof h->sha) || p >= end || *p != '\n')
		return false;
	h->size = strtoull(size, &e, 10);
	h->header_len = (size_t)(p + 1 - buf);
	return *size && !*e;
}

static int read_all(const char *path, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t got = 0;
	int rc = -1;

	*buf = NULL;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !(*buf = malloc((size_t)st.st_size + 1)))
		goto out;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, *buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		got += (size_t)r;
	}
	*len = got;
	rc = 0;
out:
	close(fd);
	if (rc) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

int ice_objcache_get(ice_objcache *c, const char *uri, ice_obj *out, bool *found, ice_err *err)
{
	char *path, *buf = NULL, sha[65];
	size_t len = 0;
	header h;

	*found = false;
	memset(out, 0, sizeof *out);
	out->info.mtime_ms = -1;
	if (!c)
		return ICE_OK;
	if (!(path = entry_path(c, uri)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (read_all(path, &buf, &len) != 0) {
		c->stats.misses++;
		free(path);
		return ICE_OK;
	}
	/* Corrupt, truncated, or (most unlikely) another URI: never used. */
	if (!parse_header(buf, len, &h) || strcmp(h.uri, uri) != 0 || len - h.header_len != h.size ||
	    (hex_sha256(buf + h.header_len, h.size, sha), strcmp(sha, h.sha) != 0)) {
		c->stats.corrupt++;
		c->stats.misses++;
		unlink(path);
		free(buf);
		free(path);
		return ICE_OK;
	}
	memmove(buf, buf + h.header_len, h.size);
	buf[h.size] = '\0';
	out->data = buf;
	out->len = h.size;
	out->info.size = h.size;
	if (*h.etag && !(out->info.etag = strdup(h.etag))) {
		ice_obj_clear(out);
		free(path);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	utimensat(AT_FDCWD, path, NULL, 0); /* recently used */
	c->stats.hits++;
	*found = true;
	free(path);
	return ICE_OK;
}

/* ---- writing and eviction ------------------------------------------------- */

typedef struct {
	char *path;
	int64_t used_ns; /* the mtime, to the nanosecond: entries written or
	                    used within one second still have an order */
	uint64_t size;
} entry;

static int by_age(const void *a, const void *b)
{
	const entry *x = a, *y = b;

	return x->used_ns < y->used_ns ? -1 : x->used_ns > y->used_ns;
}

static void collect(const char *dir, entry **v, size_t *n, size_t *cap, uint64_t *total)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		struct stat st;
		char *p;

		if (e->d_name[0] == '.' || asprintf(&p, "%s/%s", dir, e->d_name) < 0)
			continue;
		if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if (*n == *cap) {
			entry *nv = realloc(*v, (*cap * 2 + 64) * sizeof *nv);
			if (!nv) {
				free(p);
				break;
			}
			*v = nv;
			*cap = *cap * 2 + 64;
		}
		(*v)[(*n)++] = (entry){ p, (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
		                        (uint64_t)st.st_size };
		*total += (uint64_t)st.st_size;
	}
	if (d)
		closedir(d);
}

/* Remove the least recently used entries down to 90% of the limit. */
static void evict(ice_objcache *c)
{
	entry *v = NULL;
	size_t n = 0, cap = 0, i;
	uint64_t total = 0, goal = c->max_bytes / 10 * 9;
	char sub[4096];

	for (i = 0; i < 256; i++) {
		snprintf(sub, sizeof sub, "%s/%02zx", c->dir, i);
		collect(sub, &v, &n, &cap, &total);
	}
	if (total > c->max_bytes) {
		qsort(v, n, sizeof *v, by_age);
		for (i = 0; i < n && total > goal; i++)
			if (unlink(v[i].path) == 0 || errno == ENOENT) {
				total -= v[i].size;
				c->stats.evicted++;
			}
	}
	for (i = 0; i < n; i++)
		free(v[i].path);
	free(v);
	c->written = 0;
	c->scanned = true;
}

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

int ice_objcache_put(ice_objcache *c, const char *uri, const ice_obj *o, ice_err *err)
{
	ice_sbuf head = ICE_SBUF_INIT;
	char *path = NULL, *tmp = NULL, sha[65];
	int fd = -1, rc = ICE_OK;

	if (!c || !o->data || (o->info.etag && strchr(o->info.etag, '\n')) || strchr(uri, '\n'))
		return ICE_OK;
	hex_sha256(o->data, o->len, sha);
	ice_sbuf_printf(&head, MAGIC "uri %s\nsize %zu\netag %s\nsha256 %s\n\n", uri, o->len,
	                o->info.etag ? o->info.etag : "", sha);
	if (head.oom || head.len > MAX_HEADER || !(path = entry_path(c, uri)) ||
	    asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
		tmp = NULL;
		rc = ice_err_set(err, ICE_ENOMEM, "object cache: out of memory or URI too long");
		goto out;
	}
	if (mkdirs(tmp) != 0 || (fd = mkstemp(tmp)) < 0) {
		rc = ice_err_set(err, ICE_EIO, "object cache: %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (ice_write_all(fd, head.s, head.len) != 0 || ice_write_all(fd, o->data, o->len) != 0 ||
	    close(fd) != 0) {
		fd = -1;
		rc = ice_err_set(err, ICE_EIO, "object cache: %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = ice_err_set(err, ICE_EIO, "object cache: %s: %s", path, strerror(errno));
		goto out;
	}
	c->stats.stored++;
	c->written += head.len + o->len;
	if (!c->scanned || c->written > c->max_bytes / 10)
		evict(c);
out:
	if (fd >= 0)
		close(fd);
	if (rc && tmp)
		unlink(tmp);
	free(tmp);
	free(path);
	ice_sbuf_free(&head);
	return rc;
}
