/* ice-mktable: large appends in parallel.  Manifests are independent files,
 * so contiguous ranges of them are written by forked worker processes (each
 * with its own avro-c state); results come back over pipes and are merged in
 * manifest order, so the table does not depend on the number of workers. */
#include "mk_commit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_JOBS 16
#define PAR_MIN_FILES 20000

int mk_par_jobs(int64_t files, int64_t manifests)
{
	const char *env = getenv("ICE_MKTABLE_JOBS");
	long n = env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);

	if (!env && files < PAR_MIN_FILES)
		return 1;
	if (n > MAX_JOBS)
		n = MAX_JOBS;
	if (n > manifests)
		n = (long)manifests;
	return n < 1 ? 1 : (int)n;
}

/* ---- result messages ------------------------------------------------------- */

typedef struct {
	unsigned char *p;
	size_t len, cap, off;
} buf;

static int put(buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t nc = (b->len + n) * 2;
		unsigned char *np = realloc(b->p, nc);
		if (!np)
			return -1;
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static int get(buf *b, void *p, size_t n)
{
	if (b->off + n > b->len)
		return -1;
	memcpy(p, b->p + b->off, n);
	b->off += n;
	return 0;
}

static int put_mfile(buf *b, const mk_mfile *m)
{
	mk_mfile flat = *m;
	uint64_t plen = strlen(m->path);

	flat.path = NULL;
	flat.parts = NULL;
	return put(b, &flat, sizeof(flat)) || put(b, &plen, sizeof(plen)) ||
	       put(b, m->path, plen) ||
	       put(b, m->parts, (size_t)m->nparts * sizeof(mk_fsum));
}

static int get_mfile(buf *b, mk_mfile *m)
{
	uint64_t plen;

	if (get(b, m, sizeof(*m)) || get(b, &plen, sizeof(plen)) || plen > b->len)
		return -1;
	m->path = calloc(plen + 1, 1);
	m->parts = calloc((size_t)m->nparts + 1, sizeof(mk_fsum));
	if (!m->path || !m->parts || get(b, m->path, plen) ||
	    get(b, m->parts, (size_t)m->nparts * sizeof(mk_fsum))) {
		free(m->path);
		free(m->parts);
		return -1;
	}
	return 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, buf *b)
{
	unsigned char tmp[65536];
	ssize_t r;

	while ((r = read(fd, tmp, sizeof(tmp))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || put(b, tmp, (size_t)r) != 0)
			return -1;
	}
	return 0;
}

/* ---- worker ---------------------------------------------------------------- */

static void worker(mk_append_job *j, int64_t k0, int64_t k1, FILE *paths, int fd)
{
	mk_commit *c = j->c;
	buf b = {0};
	int64_t nm, nh;

	/* start from empty results; the parent's copies are not ours to free */
	c->added = NULL;
	c->nadded = 0;
	c->add_data_files = c->add_records = c->add_size = 0;
	memset(&c->parts, 0, sizeof(c->parts));
	c->added_paths = paths;
	for (int64_t k = k0; k < k1; k++)
		if (mk_append_manifest(j, k) != 0)
			_exit(1);
	if (fflush(paths) != 0)
		_exit(1);
	nm = c->nadded;
	nh = (int64_t)c->parts.count;
	if (put(&b, &c->add_data_files, 8) || put(&b, &c->add_records, 8) ||
	    put(&b, &c->add_size, 8) || put(&b, &nm, 8) || put(&b, &nh, 8))
		_exit(1);
	for (int i = 0; i < c->nadded; i++)
		if (put_mfile(&b, &c->added[i]))
			_exit(1);
	for (size_t i = 0; i < c->parts.cap; i++)
		if (c->parts.slots[i] && put(&b, &c->parts.slots[i], 8))
			_exit(1);
	_exit(write_all(fd, b.p, b.len) == 0 ? 0 : 1);
}

/* ---- parent ---------------------------------------------------------------- */

static int merge(mk_commit *c, buf *b, FILE *paths)
{
	int64_t files, records, size, nm, nh;
	char chunk[65536];
	size_t r;
	mk_mfile *na;

	if (get(b, &files, 8) || get(b, &records, 8) || get(b, &size, 8) || get(b, &nm, 8) ||
	    get(b, &nh, 8) || nm < 0 || nh < 0)
		return -1;
	c->add_data_files += files;
	c->add_records += records;
	c->add_size += size;
	na = realloc(c->added, (size_t)(c->nadded + nm + 1) * sizeof(*na));
	if (!na)
		return -1;
	c->added = na;
	for (int64_t i = 0; i < nm; i++) {
		if (get_mfile(b, &c->added[c->nadded]) != 0)
			return -1;
		c->nadded++;
	}
	for (int64_t i = 0; i < nh; i++) {
		uint64_t h;
		if (get(b, &h, 8))
			return -1;
		mk_hset_add(&c->parts, h);
	}
	rewind(paths);
	while ((r = fread(chunk, 1, sizeof(chunk), paths)) > 0)
		if (fwrite(chunk, 1, r, c->added_paths) != r)
			return -1;
	return 0;
}

int mk_par_append(mk_append_job *j, int jobs)
{
	pid_t pids[MAX_JOBS];
	int fds[MAX_JOBS];
	FILE *paths[MAX_JOBS];
	buf res[MAX_JOBS];
	int started = 0, rc = 0;

	memset(res, 0, sizeof(res));
	fflush(stdout);
	fflush(stderr);
	fflush(j->c->added_paths);
	for (; started < jobs; started++) {
		int p[2];
		int64_t k0 = started * j->m / jobs, k1 = (started + 1) * j->m / jobs;

		paths[started] = tmpfile();
		if (!paths[started] || pipe(p) != 0) {
			mk_err("cannot start workers: %s", strerror(errno));
			if (paths[started])
				fclose(paths[started]);
			rc = -1;
			break;
		}
		pids[started] = fork();
		if (pids[started] < 0) {
			mk_err("cannot fork: %s", strerror(errno));
			close(p[0]);
			close(p[1]);
			fclose(paths[started]);
			rc = -1;
			break;
		}
		if (pids[started] == 0) {
			close(p[0]);
			worker(j, k0, k1, paths[started], p[1]);
		}
		close(p[1]);
		fds[started] = p[0];
	}
	for (int w = 0; w < started; w++) {
		int status = 0;
		if (read_all(fds[w], &res[w]) != 0)
			rc = -1;
		close(fds[w]);
		while (waitpid(pids[w], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			mk_err("worker %d failed", w);
			rc = -1;
		}
	}
	for (int w = 0; w < started; w++) {
		if (rc == 0 && merge(j->c, &res[w], paths[w]) != 0) {
			mk_err("cannot merge worker results");
			rc = -1;
		}
		free(res[w].p);
		fclose(paths[w]);
	}
	return rc;
}
