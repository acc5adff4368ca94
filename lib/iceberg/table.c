/* table: resolve TABLE arguments and find the current metadata file. */
#include "config.h"
#include "ice_table.h"
#include "ice_metahead.h"
#include "ice_path.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const metadata_suffixes[] = {
	".metadata.json", ".metadata.json.gz", ".metadata.json.zst", NULL
};

/* Suffixes a hint N (as vN) or NAME may take, most common first. */
static const char *const hint_suffixes[] = {
	".metadata.json", ".gz.metadata.json", ".metadata.json.gz",
	".zst.metadata.json", ".metadata.json.zst", NULL
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

bool ice_is_metadata_name(const char *name)
{
	if (name[0] == '.')
		return false;
	for (size_t i = 0; metadata_suffixes[i]; i++)
		if (ends_with(name, metadata_suffixes[i]))
			return true;
	return false;
}

long long ice_metadata_name_version(const char *name)
{
	const char *p = name;
	long long v = 0;

	if (*p == 'v')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > 100000000000LL)
			return -1;
		v = v * 10 + (*p - '0');
	}
	/* vN.metadata.json / vN.gz.metadata.json, or NNNNN-uuid.metadata.json */
	if ((name[0] == 'v' && *p == '.') || (name[0] != 'v' && *p == '-'))
		return v;
	return -1;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A file, on disk or (for a table in object storage) as an object. */
static bool exists(const ice_table *t, const char *path)
{
	ice_obj_info info;

	if (!t->st)
		return is_file(path);
	if (ice_storage_stat(t->st, path, &info, NULL) != ICE_OK)
		return false;
	ice_obj_info_clear(&info);
	return true;
}

static int open_file_arg(const char *arg, ice_table *t, ice_err *err)
{
	char *base;

	t->file = strdup(arg);
	t->metadata_dir = ice_path_dirname(arg);
	if (!t->file || !t->metadata_dir)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	base = ice_path_basename(t->metadata_dir);
	if (!base)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	t->root = strcmp(base, "metadata") == 0 ? ice_path_dirname(t->metadata_dir)
	                                        : strdup(t->metadata_dir);
	free(base);
	return t->root ? ICE_OK : ice_err_set(err, ICE_ENOMEM, "out of memory");
}

static bool dir_has_metadata(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d)))
		found = ice_is_metadata_name(e->d_name) || strcmp(e->d_name, "version-hint.text") == 0;
	closedir(d);
	return found;
}

static int open_dir_arg(const char *arg, ice_table *t, ice_err *err)
{
	char *meta = ice_path_join(arg, "metadata");
	char *base = ice_path_basename(arg);
	int rc = ICE_OK;

	if (!meta || !base) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if (is_dir(meta)) {
		t->root = ice_location_normalize(arg);
		t->metadata_dir = meta;
		meta = NULL;
	} else if (dir_has_metadata(arg)) {
		/* The metadata folder itself was given. */
		t->metadata_dir = ice_location_normalize(arg);
		t->root = strcmp(base, "metadata") == 0 ? ice_path_dirname(t->metadata_dir)
		                                        : strdup(t->metadata_dir);
	} else {
		rc = ice_err_set(err, ICE_EINVAL, "%s: not an Iceberg table (no metadata/ folder)", arg);
		goto out;
	}
	if (!t->root || !t->metadata_dir)
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
out:
	free(meta);
	free(base);
	return rc;
}

int ice_table_open(const char *arg, ice_table *t, ice_err *err)
{
	struct stat st;
	int rc;

	memset(t, 0, sizeof *t);
	if (!(t->arg = strdup(arg)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (stat(arg, &st) != 0) {
		rc = ice_err_set(err, errno == ENOENT ? ICE_ENOENT : ICE_EIO,
		                 "%s: %s", arg, strerror(errno));
		goto fail;
	}
	rc = S_ISDIR(st.st_mode) ? open_dir_arg(arg, t, err) : open_file_arg(arg, t, err);
	if (rc == ICE_OK)
		return ICE_OK;
fail:
	ice_table_free(t);
	return rc;
}

void ice_table_free(ice_table *t)
{
	free(t->arg);
	free(t->root);
	free(t->metadata_dir);
	free(t->file);
	memset(t, 0, sizeof *t);
}

static char *trimmed(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* A metadata file of the folder, as the locator weighs it. */
typedef struct {
	char *name;
	long long version;      /* -1: the name has no number */
	bool head_ok;           /* head read (else: an unreadable file) */
	ice_metadata_head head;
} candidate;

static void free_candidates(candidate *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].name);
	free(c);
}

/* The metadata files of the folder; only those numbered `only` when it
 * is not -2. */
static int list_candidates(const ice_table *t, long long only, candidate **out, size_t *n,
                           ice_err *err)
{
	DIR *d = opendir(t->metadata_dir);
	struct dirent *e;
	candidate *c = NULL, *q;
	size_t cap = 0;
	int rc = ICE_OK;

	*out = NULL;
	*n = 0;
	if (!d)
		return ice_err_set(err, errno == ENOENT ? ICE_ENOENT : ICE_EIO,
		                   "%s: %s", t->metadata_dir, strerror(errno));
	while ((e = readdir(d))) {
		long long v;
		if (!ice_is_metadata_name(e->d_name))
			continue;
		v = ice_metadata_name_version(e->d_name);
		if (only != -2 && v != only)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if (!(q = realloc(c, cap * sizeof *q))) {
				rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
				goto out;
			}
			c = q;
		}
		memset(&c[*n], 0, sizeof c[*n]);
		c[*n].version = v;
		if (!(c[*n].name = strdup(e->d_name))) {
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
			goto out;
		}
		(*n)++;
	}
out:
	closedir(d);
	if (rc) {
		free_candidates(c, *n);
		*n = 0;
		return rc;
	}
	*out = c;
	return ICE_OK;
}

/* The table-uuid and last-updated-ms of each file, when there is a choice. */
static void read_heads(const ice_table *t, candidate *c, size_t n)
{
	for (size_t i = 0; n > 1 && i < n; i++) {
		char *path = ice_path_join(t->metadata_dir, c[i].name);
		c[i].head_ok = path && ice_metadata_head_read(path, &c[i].head, NULL) == ICE_OK &&
		               c[i].head.has_updated_ms;
		free(path);
	}
}

static int64_t updated_ms(const candidate *c)
{
	return c->head_ok ? c->head.updated_ms : -1;
}

static bool same_table(const candidate *a, const candidate *b)
{
	if (a->head.has_uuid != b->head.has_uuid)
		return false;
	return !a->head.has_uuid || strcmp(a->head.uuid, b->head.uuid) == 0;
}

/* Within one table: the higher version; equal versions (or none) by
 * last-updated-ms; then by name so that the choice is stable. */
static bool later_version(const candidate *a, const candidate *b)
{
	if (a->version != b->version)
		return a->version > b->version;
	if (updated_ms(a) != updated_ms(b))
		return updated_ms(a) > updated_ms(b);
	return strcmp(a->name, b->name) > 0;
}

/* Across tables: the later last-updated-ms. */
static bool later_update(const candidate *a, const candidate *b)
{
	if (updated_ms(a) != updated_ms(b))
		return updated_ms(a) > updated_ms(b);
	return later_version(a, b);
}

/* The current file among c[0..n). Files of one table: its highest
 * version. Files of several tables (different table-uuids: a table
 * dropped and created again over the old files, whose numbers restarted
 * at 1): the newest table, the one updated last, wins, and then its
 * highest version; files whose head cannot be read are left out then, as
 * they cannot be told to belong to it. */
static const candidate *choose(const ice_table *t, candidate *c, size_t n)
{
	const candidate *newest = NULL, *best = NULL;
	bool several = false;

	read_heads(t, c, n);
	for (size_t i = 0; i < n; i++)
		if (c[i].head_ok && (!newest || later_update(&c[i], newest)))
			newest = &c[i];
	for (size_t i = 0; newest && i < n; i++)
		several = several || (c[i].head_ok && !same_table(&c[i], newest));
	for (size_t i = 0; i < n; i++) {
		if (several && (!c[i].head_ok || !same_table(&c[i], newest)))
			continue;
		if (!best || later_version(&c[i], best))
			best = &c[i];
	}
	return best;
}

/* The current file among those numbered `only` (-2: all); NULL in *path
 * when there is none. */
static int pick_remote(const ice_table *t, long long only, char **path, ice_err *err);

static int pick_file(const ice_table *t, long long only, char **path, ice_err *err)
{
	candidate *c = NULL;
	const candidate *best;
	size_t n = 0;
	int rc;

	*path = NULL;
	if (t->st)
		return pick_remote(t, only, path, err);
	if ((rc = list_candidates(t, only, &c, &n, err)))
		return rc;
	if ((best = choose(t, c, n)) && !(*path = ice_path_join(t->metadata_dir, best->name)))
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	free_candidates(c, n);
	return rc;
}

static int resolve_hint(const ice_table *t, char *hint, char **path, ice_err *err)
{
	char name[4096];
	const char *h = trimmed(hint);

	if (!*h)
		return ice_err_set(err, ICE_EFORMAT, "%s/version-hint.text: empty", t->metadata_dir);
	if (strchr(h, '/'))
		return ice_err_set(err, ICE_EFORMAT, "%s/version-hint.text: '%s' is not a file name",
		                   t->metadata_dir, h);
	if (ice_is_metadata_name(h)) {
		*path = ice_path_join(t->metadata_dir, h);
		if (*path && exists(t, *path))
			return ICE_OK;
		free(*path);
		*path = NULL;
	}
	snprintf(name, sizeof name, "%s%s", all_digits(h) ? "v" : "", h);
	for (size_t i = 0; hint_suffixes[i]; i++) {
		char file[4200];
		char *p;

		snprintf(file, sizeof file, "%s%s", name, hint_suffixes[i]);
		p = ice_path_join(t->metadata_dir, file);
		if (p && exists(t, p)) {
			*path = p;
			return ICE_OK;
		}
		free(p);
	}
	if (all_digits(h) && pick_file(t, atoll(h), path, NULL) == ICE_OK && *path)
		return ICE_OK;
	return ice_err_set(err, ICE_ENOENT,
	                   "%s/version-hint.text: names version '%s' but no such metadata file exists",
	                   t->metadata_dir, h);
}

static int scan_dir(const ice_table *t, char **path, ice_err *err)
{
	int rc = pick_file(t, -2, path, err);

	if (rc == ICE_OK && !*path)
		rc = ice_err_set(err, ICE_ENOENT, "%s: no metadata file found", t->metadata_dir);
	return rc;
}

/* The pointer is mutable: always asked fresh, never from the object cache. */
static int read_remote_hint(const ice_table *t, const char *uri, char **hint, size_t *len,
                            ice_err *err)
{
	ice_obj o;
	int rc = ice_storage_read(t->st, uri, &o, err);

	if (rc)
		return rc;
	if (o.len > 4096) {
		ice_obj_clear(&o);
		return ice_err_set(err, ICE_ETOOBIG, "%s: larger than 4096 bytes", uri);
	}
	*hint = o.data;
	*len = o.len;
	o.data = NULL;
	ice_obj_clear(&o);
	return ICE_OK;
}

int ice_table_current_metadata(const ice_table *t, char **path, ice_err *err)
{
	char *hint_path = NULL, *hint = NULL;
	size_t len = 0;
	ice_err hint_err = { 0 };
	int rc;

	*path = NULL;
	if (t->file) {
		*path = strdup(t->file);
		return *path ? ICE_OK : ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	hint_path = ice_path_join(t->metadata_dir, "version-hint.text");
	if (!hint_path)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	/* Read into a local error: a missing hint is no error at all, and a
	 * caller must not find its message left in *err after the listing
	 * answered (ice-snapshot shows an empty table by err being clear). */
	rc = t->st ? read_remote_hint(t, hint_path, &hint, &len, &hint_err)
	           : ice_read_file(hint_path, 4096, &hint, &len, &hint_err);
	if (rc == ICE_ENOENT)
		rc = scan_dir(t, path, err);
	else if (rc == ICE_OK)
		rc = resolve_hint(t, hint, path, err);
	else if (err)
		*err = hint_err;
	free(hint);
	free(hint_path);
	return rc;
}

static int remote_probe(const ice_table *t, const ice_table_probe *prev, ice_table_probe *p,
                        ice_err *err);

int ice_table_probe_now(const ice_table *t, ice_table_probe *p, ice_err *err)
{
	return ice_table_probe_since(t, NULL, p, err);
}

int ice_table_probe_since(const ice_table *t, const ice_table_probe *prev, ice_table_probe *p,
                          ice_err *err)
{
	char *hint = t->st ? NULL : ice_path_join(t->metadata_dir, "version-hint.text");
	int rc;

	memset(p, 0, sizeof *p);
	if (t->st)
		return remote_probe(t, prev, p, err);
	if (!hint)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	rc = ice_file_id_of(hint, &p->hint, err);
	if (rc == ICE_OK)
		rc = ice_file_id_of(t->metadata_dir, &p->dir, err);
	if (rc == ICE_OK && t->file)
		rc = ice_file_id_of(t->file, &p->file, err);
	free(hint);
	return rc;
}

bool ice_table_probe_equal(const ice_table_probe *a, const ice_table_probe *b)
{
	return ice_file_id_equal(&a->hint, &b->hint) && ice_file_id_equal(&a->dir, &b->dir) &&
	       ice_file_id_equal(&a->file, &b->file) && strcmp(a->remote, b->remote) == 0;
}

/* Hive, Spark and PyIceberg warehouses keep a namespace NAME in a folder
 * NAME.db; every engine calls its tables NAME.TABLE. */
static void strip_db_suffix(char *folder)
{
	size_t n = strlen(folder);

	if (n > 3 && strcmp(folder + n - 3, ".db") == 0)
		folder[n - 3] = '\0';
}

bool ice_table_arg_split(const char *arg, const char **name, size_t *name_len, const char **path)
{
	const char *eq = strchr(arg, '=');
	struct stat st;

	*name = NULL;
	*name_len = 0;
	*path = arg;
	if (!eq || eq == arg || stat(arg, &st) == 0 || memchr(arg, '/', (size_t)(eq - arg)))
		return false;
	*name = arg;
	*name_len = (size_t)(eq - arg);
	*path = eq + 1;
	return true;
}

char *ice_table_default_name(const ice_table *t)
{
	/* The real path, so that "." and "../t" name the table, not the dots. */
	char *root = realpath(t->root, NULL), *parent = NULL, *a = NULL, *b = NULL;
	char *out = NULL;

	if (!root && !(root = ice_location_normalize(t->root)))
		return NULL;
	parent = ice_path_dirname(root);
	a = parent ? ice_path_basename(parent) : NULL;
	b = ice_path_basename(root);
	if (!a || !b)
		goto out;
	if (!*a || strcmp(a, ".") == 0 || strcmp(a, "/") == 0 || strcmp(a, "..") == 0) {
		out = strdup(b);
		goto out;
	}
	strip_db_suffix(a);
	out = malloc(strlen(a) + strlen(b) + 2);
	if (out)
		sprintf(out, "%s.%s", a, b);
out:
	free(root);
	free(parent);
	free(a);
	free(b);
	return out;
}

/* ---- tables in object storage ---------------------------------------------- */

static const char *last_segment(const char *uri)
{
	const char *slash = strrchr(uri, '/');

	return slash ? slash + 1 : uri;
}

/* The locator's choice in a listing of metadata/ (remote tables): the
 * highest version (only those numbered `only` unless it is -2), equal
 * versions by name, since reading each candidate's head would cost a
 * request each. *path NULL when nothing matches. */
static int pick_remote(const ice_table *t, long long only, char **path, ice_err *err)
{
	ice_listing l = { 0 };
	const char *best = NULL;
	long long best_v = -1;
	int rc;

	*path = NULL;
	if ((rc = ice_storage_list(t->st, t->metadata_dir, false, &l, err)))
		return rc;
	for (size_t i = 0; i < l.n; i++) {
		const char *name = last_segment(l.v[i].name);
		long long v;

		if (!ice_is_metadata_name(name))
			continue;
		v = ice_metadata_name_version(name);
		if (only != -2 && v != only)
			continue;
		if (!best || v > best_v || (v == best_v && strcmp(name, last_segment(best)) > 0)) {
			best = l.v[i].name;
			best_v = v;
		}
	}
	if (best && !(*path = strdup(best)))
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	ice_listing_clear(&l);
	return rc;
}

int ice_table_open_storage(ice_storage *st, const char *uri, ice_table *t, ice_err *err)
{
	char *norm, *base;
	int rc = ICE_OK;

	if (!ice_uri_is_remote(uri))
		return ice_table_open(uri, t, err);
	memset(t, 0, sizeof *t);
	t->st = st;
	if (!(t->arg = strdup(uri)) || !(norm = ice_location_normalize(uri))) {
		ice_table_free(t);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	base = ice_path_basename(norm);
	if (base && ice_is_metadata_name(base)) {
		rc = open_file_arg(norm, t, err);
	} else if (base && strcmp(base, "metadata") == 0) {
		t->metadata_dir = strdup(norm);
		t->root = ice_path_dirname(norm);
	} else if (base) {
		t->root = strdup(norm);
		t->metadata_dir = ice_path_join(norm, "metadata");
	}
	if (!rc && (!base || !t->root || !t->metadata_dir))
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	free(base);
	free(norm);
	if (rc) {
		ice_table_free(t);
		return rc;
	}
	t->st = st;
	return ICE_OK;
}

/* FNV-1a over what identifies a version: enough to see a change. */
static uint64_t fnv(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (h ^ 0xff) * 1099511628211ull;
}

static uint64_t fnv_info(uint64_t h, const char *name, const char *etag, uint64_t size)
{
	char n[32];

	snprintf(n, sizeof n, "%llu", (unsigned long long)size);
	return fnv(fnv(fnv(h, name), etag ? etag : "-"), n);
}

/* The pointer's (or the given file's) size and ETag: with prev's ETag one
 * conditional GET (*unchanged on a 304, which has no body), else one HEAD.
 * A pointer read whole is a few bytes. */
static int probe_pointer(const ice_table *t, const char *uri, const ice_table_probe *prev,
                         ice_obj_info *info, bool *unchanged, ice_err *err)
{
	ice_obj o;
	int rc;

	*unchanged = false;
	if (!prev || !prev->etag[0])
		return ice_storage_stat(t->st, uri, info, err);
	if ((rc = ice_storage_read_if(t->st, uri, prev->etag, &o, err)))
		return rc;
	*unchanged = o.unchanged;
	*info = o.info;
	free(o.data);
	return ICE_OK;
}

/* The pointer asked as probe_pointer does; without a hint, the listing
 * of metadata/, whose names and ETags change with every commit. */
static int remote_probe(const ice_table *t, const ice_table_probe *prev, ice_table_probe *p,
                        ice_err *err)
{
	uint64_t h = 14695981039346656037ull;
	ice_obj_info info = { 0 };
	ice_listing l = { 0 };
	char *hint = t->file ? strdup(t->file) : ice_path_join(t->metadata_dir, "version-hint.text");
	bool unchanged;
	int rc;

	if (!hint)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	rc = probe_pointer(t, hint, prev, &info, &unchanged, err);
	if (rc == ICE_OK && unchanged) {
		*p = *prev;
	} else if (rc == ICE_OK) {
		h = fnv_info(h, hint, info.etag, info.size);
		if (info.etag && strlen(info.etag) < sizeof p->etag)
			strcpy(p->etag, info.etag);
	} else if (rc == ICE_ENOENT && !t->file) {
		if ((rc = ice_storage_list(t->st, t->metadata_dir, false, &l, err)) == ICE_OK)
			for (size_t i = 0; i < l.n; i++)
				h = fnv_info(h, l.v[i].name, l.v[i].etag, l.v[i].size);
		ice_listing_clear(&l);
	}
	ice_obj_info_clear(&info);
	free(hint);
	if (rc == ICE_OK && !unchanged)
		snprintf(p->remote, sizeof p->remote, "%016llx", (unsigned long long)h);
	return rc;
}
