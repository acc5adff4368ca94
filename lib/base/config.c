/* config: the "key = value" configuration file, parsed with line numbers. */
#include "config.h"
#include "ice_config.h"
#include "ice_size.h"
#include "ice_time.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONFIG_MAX (1024u * 1024u)

typedef enum { V_STRING, V_DURATION, V_WAIT, V_TTL, V_COUNT, V_BOOL, V_SIZE } value_kind;

static const struct key_def {
	const char *name;
	value_kind kind;
	size_t offset;
} keys[] = {
	{ "url", V_STRING, offsetof(ice_config, url) },
	{ "prefix", V_STRING, offsetof(ice_config, prefix) },
	{ "connect_timeout", V_DURATION, offsetof(ice_config, connect_timeout_ms) },
	{ "command_timeout", V_DURATION, offsetof(ice_config, command_timeout_ms) },
	{ "default_ttl", V_TTL, offsetof(ice_config, default_ttl) },
	{ "exec_ttl", V_TTL, offsetof(ice_config, exec_ttl) },
	{ "fetch_ttl", V_TTL, offsetof(ice_config, fetch_ttl) },
	{ "fetch_keep", V_DURATION, offsetof(ice_config, fetch_keep_ms) },
	{ "fetch_timeout", V_DURATION, offsetof(ice_config, fetch_timeout_ms) },
	{ "fetch_redirects", V_COUNT, offsetof(ice_config, fetch_redirects) },
	{ "lock_timeout", V_DURATION, offsetof(ice_config, lock_timeout_ms) },
	{ "reconnect", V_WAIT, offsetof(ice_config, reconnect_ms) },
	{ "strict_tags", V_BOOL, offsetof(ice_config, strict_tags) },
	{ "catalog", V_STRING, offsetof(ice_config, catalog) },
	{ "catalog_credential", V_STRING, offsetof(ice_config, catalog_credential) },
	{ "catalog_token", V_STRING, offsetof(ice_config, catalog_token) },
	{ "catalog_warehouse", V_STRING, offsetof(ice_config, catalog_warehouse) },
	{ "s3_region", V_STRING, offsetof(ice_config, s3_region) },
	{ "s3_endpoint_url", V_STRING, offsetof(ice_config, s3_endpoint_url) },
	{ "s3_profile", V_STRING, offsetof(ice_config, s3_profile) },
	{ "s3_path_style", V_BOOL, offsetof(ice_config, s3_path_style) },
	{ "s3_anonymous", V_BOOL, offsetof(ice_config, s3_anonymous) },
	{ "s3_attempts", V_COUNT, offsetof(ice_config, s3_attempts) },
	{ "s3_retry_time", V_DURATION, offsetof(ice_config, s3_retry_time_ms) },
	{ "s3_timeout", V_DURATION, offsetof(ice_config, s3_timeout_ms) },
	{ "object_cache", V_STRING, offsetof(ice_config, object_cache) },
	{ "object_cache_size", V_SIZE, offsetof(ice_config, object_cache_size) },
};
#define N_KEYS (sizeof keys / sizeof keys[0])

void ice_config_init(ice_config *c)
{
	memset(c, 0, sizeof *c);
	c->fetch_redirects = -1;
	c->s3_path_style = -1;
	c->s3_anonymous = -1;
	c->s3_attempts = -1;
}

static void catalog_conf_clear(ice_catalog_conf *k)
{
	free(k->name);
	free(k->uri);
	free(k->credential);
	free(k->token);
	free(k->warehouse);
	free(k->scope);
	free(k->oauth2_server_uri);
	free(k->ca_bundle);
	for (size_t i = 0; i < k->n_headers; i++)
		free(k->headers[i]);
	free(k->headers);
}

void ice_config_clear(ice_config *c)
{
	free(c->url);
	free(c->prefix);
	free(c->catalog);
	free(c->catalog_credential);
	free(c->catalog_token);
	free(c->catalog_warehouse);
	free(c->s3_region);
	free(c->s3_endpoint_url);
	free(c->s3_profile);
	free(c->object_cache);
	for (size_t i = 0; i < c->n_catalogs; i++)
		catalog_conf_clear(&c->catalogs[i]);
	free(c->catalogs);
	ice_config_init(c);
}

const ice_catalog_conf *ice_config_catalog(const ice_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_catalogs; i++)
		if (strcmp(c->catalogs[i].name, name) == 0)
			return &c->catalogs[i];
	return NULL;
}

static bool catalog_name_ok(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* The catalog named by the first n bytes of name, added when new. */
static ice_catalog_conf *catalog_entry(ice_config *c, const char *name, size_t n, ice_err *err)
{
	ice_catalog_conf *v;

	for (size_t i = 0; i < c->n_catalogs; i++)
		if (strlen(c->catalogs[i].name) == n && memcmp(c->catalogs[i].name, name, n) == 0)
			return &c->catalogs[i];
	if (!(v = realloc(c->catalogs, (c->n_catalogs + 1) * sizeof *v))) {
		ice_err_set(err, ICE_ENOMEM, "out of memory");
		return NULL;
	}
	c->catalogs = v;
	v = &c->catalogs[c->n_catalogs];
	memset(v, 0, sizeof *v);
	if (!(v->name = strndup(name, n))) {
		ice_err_set(err, ICE_ENOMEM, "out of memory");
		return NULL;
	}
	c->n_catalogs++;
	return v;
}

/* header.NAME = value: an extra request header, each name once. */
static int catalog_header(ice_catalog_conf *k, const char *hname, const char *v, ice_err *err)
{
	size_t n = strlen(hname);
	char **hs, *line;

	if (!n || strpbrk(hname, ": \t"))
		return ice_err_set(err, ICE_EINVAL, "bad header name '%.60s'", hname);
	for (size_t i = 0; i < k->n_headers; i++)
		if (strncasecmp(k->headers[i], hname, n) == 0 && k->headers[i][n] == ':')
			return ice_err_set(err, ICE_EINVAL, "header '%.60s' given twice", hname);
	if (!(hs = realloc(k->headers, (k->n_headers + 1) * sizeof *hs)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	k->headers = hs;
	if (!(line = malloc(n + strlen(v) + 3)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	sprintf(line, "%s: %s", hname, v);
	hs[k->n_headers++] = line;
	return ICE_OK;
}

/* catalog.NAME.KEY = value (name without the "catalog." prefix). */
static int catalog_key(ice_config *c, const char *name, const char *v, ice_err *err)
{
	static const struct { const char *key; size_t offset; } fields[] = {
		{ "uri", offsetof(ice_catalog_conf, uri) },
		{ "credential", offsetof(ice_catalog_conf, credential) },
		{ "token", offsetof(ice_catalog_conf, token) },
		{ "warehouse", offsetof(ice_catalog_conf, warehouse) },
		{ "scope", offsetof(ice_catalog_conf, scope) },
		{ "oauth2_server_uri", offsetof(ice_catalog_conf, oauth2_server_uri) },
		{ "ca_bundle", offsetof(ice_catalog_conf, ca_bundle) },
	};
	const char *dot = strchr(name, '.'), *key;
	ice_catalog_conf *k;

	if (!dot || !catalog_name_ok(name, (size_t)(dot - name)))
		return ice_err_set(err, ICE_EINVAL,
		                   "want catalog.NAME.KEY (NAME of letters, digits, '_', '-'), not "
		                   "'catalog.%.60s'", name);
	key = dot + 1;
	if (!(k = catalog_entry(c, name, (size_t)(dot - name), err)))
		return err ? err->code : ICE_ENOMEM;
	if (strncmp(key, "header.", 7) == 0)
		return catalog_header(k, key + 7, v, err);
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		char **field = (char **)((char *)k + fields[i].offset);

		if (strcmp(fields[i].key, key) != 0)
			continue;
		if (*field)
			return ice_err_set(err, ICE_EINVAL, "key 'catalog.%.60s' given twice", name);
		if (!(*field = strdup(v)))
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
		return ICE_OK;
	}
	return ice_err_set(err, ICE_EINVAL, "unknown key 'catalog.%.60s'", name);
}

/* After the last line: every named catalog needs its uri. */
static int check_catalogs(const ice_config *c, ice_err *err)
{
	for (size_t i = 0; i < c->n_catalogs; i++)
		if (!c->catalogs[i].uri)
			return ice_err_set(err, ICE_EINVAL, "catalog '%s' has no catalog.%s.uri",
			                   c->catalogs[i].name, c->catalogs[i].name);
	return ICE_OK;
}

static const struct key_def *find_key(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int parse_count(const char *v, int64_t *out, ice_err *err)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < 0 || n > 1000000)
		return ice_err_set(err, ICE_EINVAL, "want a count (0 to 1000000), not '%s'", v);
	*out = n;
	return ICE_OK;
}

static int parse_bool(const char *v, int *out, ice_err *err)
{
	static const char *const words[] = { "false", "true", "no", "yes", "off", "on", "0", "1" };

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcasecmp(v, words[i]) == 0) {
			*out = (int)(i % 2); /* the true words are the odd ones */
			return ICE_OK;
		}
	return ice_err_set(err, ICE_EINVAL, "want true or false, not '%.60s'", v);
}

/* Store value v of key k into c. */
static int set_value(ice_config *c, const struct key_def *k, const char *v, ice_err *err)
{
	void *field = (char *)c + k->offset;

	switch (k->kind) {
	case V_STRING:
		if (!(*(char **)field = strdup(v)))
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
		return ICE_OK;
	case V_DURATION:
		return ice_parse_duration(v, field, err);
	case V_WAIT: /* a duration, or 0 for "never" (stored as -1) */
		if (strcmp(v, "0") == 0) {
			*(int64_t *)field = -1;
			return ICE_OK;
		}
		return ice_parse_duration(v, field, err);
	case V_TTL:
		return ice_ttl_parse(v, false, field, err);
	case V_COUNT:
		return parse_count(v, field, err);
	case V_BOOL:
		return parse_bool(v, field, err);
	case V_SIZE:
		if (ice_parse_size(v, field, err))
			return err ? err->code : ICE_EINVAL;
		if (*(int64_t *)field == 0)
			return ice_err_set(err, ICE_EINVAL, "want a size above 0 (object_cache = off "
			                   "turns the cache off)");
		return ICE_OK;
	}
	return ICE_OK;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* One line (modified in place); seen marks keys already given. */
static int parse_line(char *line, ice_config *c, bool *seen, ice_err *err)
{
	char *eq, *name, *value;
	const struct key_def *k;

	line = trim(line);
	if (!*line || *line == '#')
		return ICE_OK;
	if (!(eq = strchr(line, '=')))
		return ice_err_set(err, ICE_EINVAL, "expected 'key = value', got '%.60s'", line);
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	if (strncmp(name, "catalog.", 8) == 0) {
		if (!*value)
			return ice_err_set(err, ICE_EINVAL, "key '%.60s' has an empty value", name);
		return catalog_key(c, name + 8, value, err);
	}
	if (!(k = find_key(name)))
		return ice_err_set(err, ICE_EINVAL, "unknown key '%.60s'", name);
	if (seen[k - keys])
		return ice_err_set(err, ICE_EINVAL, "key '%s' given twice", name);
	seen[k - keys] = true;
	if (!*value)
		return ice_err_set(err, ICE_EINVAL, "key '%s' has an empty value", name);
	if (set_value(c, k, value, err))
		return ice_err_prefix(err, "%s: ", name);
	return ICE_OK;
}

int ice_config_parse(const char *text, const char *name, ice_config *c, ice_err *err)
{
	bool seen[N_KEYS] = { false };
	char *copy = strdup(text), *line, *next;
	int rc = ICE_OK;
	long lineno = 0;

	ice_config_init(c);
	if (!copy)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (line = copy; line; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if ((rc = parse_line(line, c, seen, err))) {
			ice_err_prefix(err, "%s:%ld: ", name, lineno);
			ice_config_clear(c);
			break;
		}
	}
	if (!rc && (rc = check_catalogs(c, err))) {
		ice_err_prefix(err, "%s: ", name);
		ice_config_clear(c);
	}
	free(copy);
	return rc;
}

int ice_config_load(const char *path, ice_config *c, ice_err *err)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	int rc = ICE_OK;

	ice_config_init(c);
	if (!f)
		return ice_err_set(err, errno == ENOENT ? ICE_ENOENT : ICE_EIO, "%s: %s", path,
		                   strerror(errno));
	if (!(text = malloc(CONFIG_MAX + 1))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	len = fread(text, 1, CONFIG_MAX + 1, f);
	if (ferror(f)) {
		rc = ice_err_set(err, ICE_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (len > CONFIG_MAX) {
		rc = ice_err_set(err, ICE_ETOOBIG, "%s: larger than %u bytes", path, CONFIG_MAX);
		goto out;
	}
	text[len] = '\0';
	if (memchr(text, '\0', len)) {
		rc = ice_err_set(err, ICE_EFORMAT, "%s: not a text file (NUL byte)", path);
		goto out;
	}
	rc = ice_config_parse(text, path, c, err);
out:
	free(text);
	fclose(f);
	return rc;
}
