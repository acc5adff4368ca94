/* awsconf: credentials, region and endpoint from flags, the environment
 * and the AWS shared files (~/.aws/credentials, ~/.aws/config). */
#include "config.h"
#include "ice_awsconf.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the INI dialect of the AWS files --------------------------------------- */

typedef struct {
	char *section, *key, *value; /* key "s3.endpoint_url" for a sub-section */
} ini_entry;

typedef struct {
	char *path;
	bool found;
	ini_entry *e;
	size_t n, cap;
} ini_file;

static char *trimmed(const char *s, size_t n)
{
	char *r;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if ((r = malloc(n + 1))) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

static int ini_add(ini_file *f, const char *section, const char *parent, char *key, char *value)
{
	ini_entry *e;

	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		if (!(e = realloc(f->e, cap * sizeof *e)))
			goto fail;
		f->e = e;
		f->cap = cap;
	}
	e = &f->e[f->n];
	e->section = strdup(section);
	if (parent) {
		size_t n = strlen(parent) + strlen(key) + 2;
		if ((e->key = malloc(n)))
			snprintf(e->key, n, "%s.%s", parent, key);
		free(key);
	} else {
		e->key = key;
	}
	e->value = value;
	if (!e->section || !e->key) {
		free(e->section);
		free(e->key);
		free(e->value);
		return ICE_ENOMEM;
	}
	f->n++;
	return ICE_OK;
fail:
	free(key);
	free(value);
	return ICE_ENOMEM;
}

static void ini_clear(ini_file *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->e[i].section);
		free(f->e[i].key);
		if (f->e[i].value)
			OPENSSL_cleanse(f->e[i].value, strlen(f->e[i].value));
		free(f->e[i].value);
	}
	free(f->e);
	free(f->path);
	memset(f, 0, sizeof *f);
}

/* One line: "[section]", "key = value", an indented "key = value" under a
 * key with an empty value (a sub-section, as `s3 =`), a comment. */
static int ini_line(ini_file *f, const char *line, char **section, char **parent)
{
	const char *p = line, *eq;
	bool indented = isspace((unsigned char)*line);
	char *key, *value;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#' || *p == ';')
		return ICE_OK;
	if (*p == '[' && !indented) {
		const char *end = strchr(p, ']');
		free(*section);
		free(*parent);
		*parent = NULL;
		*section = end ? trimmed(p + 1, (size_t)(end - p - 1)) : NULL;
		return end && !*section ? ICE_ENOMEM : ICE_OK;
	}
	if (!*section || !(eq = strchr(p, '=')))
		return ICE_OK;
	key = trimmed(p, (size_t)(eq - p));
	value = trimmed(eq + 1, strlen(eq + 1));
	if (!key || !value) {
		free(key);
		free(value);
		return ICE_ENOMEM;
	}
	if (!indented) {
		free(*parent);
		*parent = NULL;
		if (!*value) { /* opens a sub-section */
			*parent = key;
			free(value);
			return ICE_OK;
		}
	} else if (!*parent) {
		free(key);
		free(value);
		return ICE_OK; /* a continuation line: not a setting we read */
	}
	return ini_add(f, *section, indented ? *parent : NULL, key, value);
}

static int ini_load(ini_file *f, const char *path, ice_err *err)
{
	char *line = NULL, *section = NULL, *parent = NULL;
	size_t cap = 0;
	FILE *in;
	int rc = ICE_OK;

	memset(f, 0, sizeof *f);
	if (!(f->path = strdup(path)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (!(in = fopen(path, "r"))) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ICE_OK;
		return ice_err_set(err, ICE_EINVAL, "%s: %s", path, strerror(errno));
	}
	f->found = true;
	while (!rc && getline(&line, &cap, in) >= 0)
		rc = ini_line(f, line, &section, &parent);
	if (!rc && ferror(in))
		rc = ice_err_set(err, ICE_EINVAL, "%s: %s", path, strerror(errno));
	else if (rc)
		ice_err_set(err, rc, "out of memory");
	if (line)
		OPENSSL_cleanse(line, cap);
	free(line);
	free(section);
	free(parent);
	fclose(in);
	return rc;
}

static const char *ini_get(const ini_file *f, const char *section, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->e[i].section, section) == 0 && strcmp(f->e[i].key, key) == 0)
			return f->e[i].value;
	return NULL;
}

static bool ini_has_section(const ini_file *f, const char *section)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->e[i].section, section) == 0)
			return true;
	return false;
}

/* ---- resolution -------------------------------------------------------------- */

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* $NAME, else ~/.aws/FILE. Caller frees. */
static char *aws_file(const char *var, const char *file)
{
	const char *v = env(var), *home = env("HOME");
	char *p;
	size_t n;

	if (v)
		return strdup(v);
	n = strlen(home ? home : "") + strlen(file) + 8;
	if ((p = malloc(n)))
		snprintf(p, n, "%s/.aws/%s", home ? home : "", file);
	return p;
}

typedef struct {
	ini_file creds, conf;
	const char *profile;
	char conf_section[256];
	bool explicit_profile;
} files;

static int load_files(const ice_aws_settings *s, files *fs, ice_err *err)
{
	char *cp = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	char *fp = aws_file("AWS_CONFIG_FILE", "config");
	int rc;

	fs->explicit_profile = s->profile || env("AWS_PROFILE") || env("AWS_DEFAULT_PROFILE");
	fs->profile = s->profile ? s->profile
	            : env("AWS_PROFILE") ? env("AWS_PROFILE")
	            : env("AWS_DEFAULT_PROFILE") ? env("AWS_DEFAULT_PROFILE") : "default";
	if (strcmp(fs->profile, "default") == 0)
		snprintf(fs->conf_section, sizeof fs->conf_section, "default");
	else
		snprintf(fs->conf_section, sizeof fs->conf_section, "profile %s", fs->profile);
	if (!cp || !fp)
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	else if (!(rc = ini_load(&fs->creds, cp, err)))
		rc = ini_load(&fs->conf, fp, err);
	free(cp);
	free(fp);
	if (!rc && fs->explicit_profile && !ini_has_section(&fs->creds, fs->profile) &&
	    !ini_has_section(&fs->conf, fs->conf_section))
		rc = ice_err_set(err, ICE_EINVAL, "AWS profile '%s' not found in %s or %s", fs->profile,
		                 fs->creds.path, fs->conf.path);
	return rc;
}

static int set_str(char **dst, const char *v)
{
	if (!v)
		return ICE_OK;
	return (*dst = strdup(v)) ? ICE_OK : ICE_ENOMEM;
}

static int set_source(ice_aws_config *c, const char *what, const char *name, const char *path)
{
	size_t n = strlen(what) + (name ? strlen(name) : 0) + (path ? strlen(path) : 0) + 8;

	if (!(c->source = malloc(n)))
		return ICE_ENOMEM;
	if (name)
		snprintf(c->source, n, "%s %s (%s)", what, name, path);
	else
		snprintf(c->source, n, "%s", what);
	return ICE_OK;
}

/* The key pair of a section, both or neither. */
static int keys_from(ice_aws_config *c, const ini_file *f, const char *section,
                     const char *profile, bool *found, ice_err *err)
{
	const char *ak = ini_get(f, section, "aws_access_key_id");
	const char *sk = ini_get(f, section, "aws_secret_access_key");

	*found = false;
	if (!ak && !sk)
		return ICE_OK;
	if (!ak || !sk)
		return ice_err_set(err, ICE_EINVAL, "%s: profile '%s' has %s but not %s", f->path,
		                   profile, ak ? "aws_access_key_id" : "aws_secret_access_key",
		                   ak ? "aws_secret_access_key" : "aws_access_key_id");
	*found = true;
	if (set_str(&c->access_key, ak) || set_str(&c->secret_key, sk) ||
	    set_str(&c->session_token, ini_get(f, section, "aws_session_token")) ||
	    set_source(c, "profile", profile, f->path))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}

/* Keys handed over by the caller (vended by a catalog): they beat all. */
static int explicit_keys(const ice_aws_settings *s, ice_aws_config *c, ice_err *err)
{
	if (!s->secret_key)
		return ice_err_set(err, ICE_EINVAL, "%s: an access key without its secret",
		                   s->source ? s->source : "explicit keys");
	if (set_str(&c->access_key, s->access_key) || set_str(&c->secret_key, s->secret_key) ||
	    set_str(&c->session_token, s->session_token) ||
	    set_source(c, s->source ? s->source : "explicit keys", NULL, NULL))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}

static int resolve_keys(const ice_aws_settings *s, const files *fs, ice_aws_config *c,
                        ice_err *err)
{
	const char *ak = env("AWS_ACCESS_KEY_ID"), *sk = env("AWS_SECRET_ACCESS_KEY");
	bool found = false;
	int rc;

	if (s->access_key)
		return explicit_keys(s, c, err);
	if (s->anonymous)
		return set_source(c, "anonymous (unsigned requests, as asked)", NULL, NULL)
		       ? ice_err_set(err, ICE_ENOMEM, "out of memory") : ICE_OK;
	if (!s->profile && (ak || sk)) {
		if (!ak || !sk)
			return ice_err_set(err, ICE_EINVAL, "%s is set but %s is not",
			                   ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
			                   ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		if (set_str(&c->access_key, ak) || set_str(&c->secret_key, sk) ||
		    set_str(&c->session_token, env("AWS_SESSION_TOKEN")) ||
		    set_source(c, "environment (AWS_ACCESS_KEY_ID)", NULL, NULL))
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
		return ICE_OK;
	}
	if ((rc = keys_from(c, &fs->creds, fs->profile, fs->profile, &found, err)) || found)
		return rc;
	if ((rc = keys_from(c, &fs->conf, fs->conf_section, fs->profile, &found, err)) || found)
		return rc;
	if (ini_get(&fs->conf, fs->conf_section, "credential_process") ||
	    ini_get(&fs->conf, fs->conf_section, "role_arn") ||
	    ini_get(&fs->conf, fs->conf_section, "sso_session") ||
	    ini_get(&fs->conf, fs->conf_section, "sso_start_url"))
		return ice_err_set(err, ICE_EUNSUPPORTED,
		                   "%s: profile '%s' gets its keys from a process, a role or SSO, "
		                   "which is not supported: export AWS_ACCESS_KEY_ID, "
		                   "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN instead",
		                   fs->conf.path, fs->profile);
	return set_source(c, "none found (unsigned requests)", NULL, NULL)
	       ? ice_err_set(err, ICE_ENOMEM, "out of memory") : ICE_OK;
}

static int resolve_place(const ice_aws_settings *s, const files *fs, ice_aws_config *c,
                         ice_err *err)
{
	const char *region = s->region ? s->region
	                   : env("AWS_REGION") ? env("AWS_REGION")
	                   : env("AWS_DEFAULT_REGION") ? env("AWS_DEFAULT_REGION")
	                   : ini_get(&fs->conf, fs->conf_section, "region");
	const char *ep = s->endpoint_url ? s->endpoint_url
	               : env("AWS_ENDPOINT_URL_S3") ? env("AWS_ENDPOINT_URL_S3")
	               : env("AWS_ENDPOINT_URL") ? env("AWS_ENDPOINT_URL")
	               : ini_get(&fs->conf, fs->conf_section, "s3.endpoint_url")
	               ? ini_get(&fs->conf, fs->conf_section, "s3.endpoint_url")
	               : ini_get(&fs->conf, fs->conf_section, "endpoint_url");
	size_t n;

	if (set_str(&c->region, region ? region : "us-east-1") || set_str(&c->endpoint, ep))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (c->endpoint) {
		if (strncmp(c->endpoint, "http://", 7) != 0 && strncmp(c->endpoint, "https://", 8) != 0)
			return ice_err_set(err, ICE_EINVAL,
			                   "S3 endpoint '%.200s': expected http://HOST[:PORT] or https://...",
			                   c->endpoint);
		n = strlen(c->endpoint);
		while (n && c->endpoint[n - 1] == '/')
			c->endpoint[--n] = '\0';
	}
	c->path_style = s->path_style >= 0 ? s->path_style == 1 : c->endpoint != NULL;
	return ICE_OK;
}

int ice_aws_config_resolve(const ice_aws_settings *s, ice_aws_config *c, ice_err *err)
{
	static const ice_aws_settings defaults = { NULL, NULL, NULL, false, -1, NULL, NULL, NULL, NULL };
	files fs;
	int rc;

	memset(c, 0, sizeof *c);
	memset(&fs, 0, sizeof fs);
	if (!s)
		s = &defaults;
	if (!(rc = load_files(s, &fs, err)) && !(rc = resolve_keys(s, &fs, c, err)))
		rc = resolve_place(s, &fs, c, err);
	ini_clear(&fs.creds);
	ini_clear(&fs.conf);
	if (rc)
		ice_aws_config_clear(c);
	return rc;
}

static void free_secret(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void ice_aws_config_clear(ice_aws_config *c)
{
	free(c->access_key);
	free_secret(c->secret_key);
	free_secret(c->session_token);
	free(c->source);
	free(c->region);
	free(c->endpoint);
	memset(c, 0, sizeof *c);
}
