/* path: joining and splitting paths, and mapping metadata locations onto
 * the directories this machine actually reads. */
#include "config.h"
#include "ice_path.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ice_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	char *p;

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	p = malloc(la + strlen(b) + 2);
	if (!p)
		return NULL;
	if (la == 0)
		strcpy(p, b);
	else
		sprintf(p, "%.*s%s%s", (int)la, a, a[la - 1] == '/' ? "" : "/", b);
	return p;
}

char *ice_path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

char *ice_path_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return strdup(slash ? slash + 1 : path);
}

/* Length of a leading scheme name (a letter, then letters, digits, + - .). */
static size_t scheme_name_len(const char *s)
{
	size_t i = 0;

	while ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
	       (i > 0 && ((s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' || s[i] == '.')))
		i++;
	return i;
}

/* Length of a leading "scheme://", else 0. */
static size_t scheme_len(const char *s)
{
	size_t i = scheme_name_len(s);

	if (i > 1 && strncmp(s + i, "://", 3) == 0)
		return i + 3;
	return 0;
}

bool ice_path_is_full(const char *path)
{
	size_t i = scheme_name_len(path);

	return path[0] == '/' || (i > 0 && path[i] == ':');
}

static const char *strip_file_scheme(const char *s)
{
	if (strncmp(s, "file://", 7) == 0) {
		s += 7;
		/* file://host/path: drop the host, keep /path. */
		if (*s != '/') {
			const char *slash = strchr(s, '/');
			return slash ? slash : s + strlen(s);
		}
		return s;
	}
	if (strncmp(s, "file:/", 6) == 0)
		return s + 5;
	return s;
}

char *ice_location_normalize(const char *loc)
{
	const char *s = strip_file_scheme(loc);
	size_t keep = scheme_len(s), n = 0;
	char *out = malloc(strlen(s) + 1);

	if (!out)
		return NULL;
	memcpy(out, s, keep);
	n = keep;
	s += keep;
	if (!keep)
		while (s[0] == '.' && s[1] == '/')
			for (s += 2; *s == '/'; s++)
				;
	for (; *s; s++) {
		if (*s == '/' && n > keep && out[n - 1] == '/')
			continue;
		out[n++] = *s;
	}
	while (n > keep + 1 && out[n - 1] == '/')
		n--;
	out[n] = '\0';
	return out;
}

void ice_remap_init(ice_remap *m)
{
	memset(m, 0, sizeof *m);
}

void ice_remap_free(ice_remap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->rules[i].from);
		free(m->rules[i].to);
	}
	free(m->rules);
	free(m->location);
	free(m->root);
	ice_remap_init(m);
}

int ice_remap_add(ice_remap *m, const char *from, const char *to, ice_err *err)
{
	ice_remap_rule *r = realloc(m->rules, (m->n + 1) * sizeof *r);

	if (!r)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	m->rules = r;
	r[m->n].from = ice_location_normalize(from);
	r[m->n].to = strdup(to);
	if (!r[m->n].from || !r[m->n].to) {
		free(r[m->n].from);
		free(r[m->n].to);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	m->n++;
	return ICE_OK;
}

int ice_remap_add_arg(ice_remap *m, const char *arg, ice_err *err)
{
	const char *eq = strchr(arg, '=');
	char *from;
	int rc;

	if (!eq || eq == arg || !eq[1])
		return ice_err_set(err, ICE_EINVAL, "bad remap '%s': expected FROM=TO", arg);
	from = strndup(arg, (size_t)(eq - arg));
	if (!from)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	rc = ice_remap_add(m, from, eq + 1, err);
	free(from);
	return rc;
}

int ice_remap_copy_rules(ice_remap *dst, const ice_remap *src, ice_err *err)
{
	for (size_t i = 0; i < src->n; i++) {
		int rc = ice_remap_add(dst, src->rules[i].from, src->rules[i].to, err);
		if (rc)
			return rc;
	}
	return ICE_OK;
}

int ice_remap_set_location(ice_remap *m, const char *location, const char *root, ice_err *err)
{
	free(m->location);
	free(m->root);
	m->location = location ? ice_location_normalize(location) : NULL;
	m->root = root ? strdup(root) : NULL;
	if ((location && !m->location) || (root && !m->root))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}

/* Length of `prefix` when it is a whole-segment prefix of `path`, else 0. */
static size_t plain_segment_prefix(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (n == 0 || strncmp(path, prefix, n) != 0)
		return 0;
	if (path[n] == '\0' || path[n] == '/' || prefix[n - 1] == '/')
		return n;
	return 0;
}

/* Length of an s3://, s3a:// or s3n:// scheme at the start of s, else 0. */
static size_t s3_scheme_len(const char *s)
{
	if (strncmp(s, "s3://", 5) == 0)
		return 5;
	return strncmp(s, "s3a://", 6) == 0 || strncmp(s, "s3n://", 6) == 0 ? 6 : 0;
}

/* The same, with s3://, s3a:// and s3n:// one scheme: Spark and Hadoop
 * name one bucket's objects under all three (a location written s3a://
 * over manifests written s3://). The length is in `path`. */
static size_t segment_prefix(const char *path, const char *prefix)
{
	size_t sp = s3_scheme_len(path), sq = s3_scheme_len(prefix), n;

	if (!sp || !sq)
		return plain_segment_prefix(path, prefix);
	n = plain_segment_prefix(path + sp, prefix + sq);
	return n ? sp + n : 0;
}

static char *replace_prefix(const char *path, size_t n, const char *to)
{
	const char *rest = path + n;

	while (*rest == '/')
		rest++;
	return *rest ? ice_path_join(to, rest) : strdup(to);
}

char *ice_remap_resolve(const ice_remap *m, const char *path)
{
	char *norm = ice_location_normalize(path), *out = NULL;
	size_t best = 0, n;
	const char *to = NULL;

	if (!norm)
		return NULL;
	for (size_t i = 0; i < m->n; i++) {
		n = segment_prefix(norm, m->rules[i].from);
		if (n > best) {
			best = n;
			to = m->rules[i].to;
		}
	}
	if (!to && m->location && m->root && (n = segment_prefix(norm, m->location)) > 0) {
		best = n;
		to = m->root;
	}
	if (!to)
		return norm;
	out = replace_prefix(norm, best, to);
	free(norm);
	return out;
}
