/* catcreds: the S3 access a catalog vends with a table, chosen as the
 * protocol says: storage-credentials (longest matching prefix) before the
 * table's config, before the catalog's. */
#include "config.h"
#include "ice_catalog.h"
#include "ice_sbuf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Where properties are looked up, most specific first. */
typedef struct {
	const json_t *level[2]; /* the chosen storage credential's config, the table's config */
	const char *prefix;     /* of the chosen storage credential */
	const ice_catalog *c;
} sources;

/* The storage-credentials entry with the longest prefix of location. */
static int pick_credential(const json_t *creds, const char *location, sources *src,
                           ice_err *err)
{
	size_t best = 0, i;
	const json_t *e;

	if (!creds || json_is_null(creds))
		return ICE_OK;
	if (!json_is_array(creds))
		return ice_err_set(err, ICE_EFORMAT, "storage-credentials is not an array");
	json_array_foreach(creds, i, e) {
		const char *prefix = json_string_value(json_object_get(e, "prefix"));
		const json_t *cfg = json_object_get(e, "config");
		size_t n;

		if (!prefix || !json_is_object(cfg))
			return ice_err_set(err, ICE_EFORMAT,
			                   "storage-credentials[%zu] lacks its prefix or config", i);
		n = strlen(prefix);
		if (location && strncmp(location, prefix, n) == 0 && (n > best || !src->level[0])) {
			best = n;
			src->level[0] = cfg;
			src->prefix = prefix;
		}
	}
	return ICE_OK;
}

static const char *in_level(const json_t *o, const char *key)
{
	return o ? json_string_value(json_object_get(o, key)) : NULL;
}

static const char *lookup(const sources *s, const char *key)
{
	const char *v;

	for (int i = 0; i < 2; i++)
		if ((v = in_level(s->level[i], key)))
			return v;
	return ice_catalog_property(s->c, key);
}

static int dup_into(char **field, const char *v)
{
	return v && !(*field = strdup(v)) ? ICE_ENOMEM : ICE_OK;
}

/* The keys come as a set from the first place holding an access key. */
static int take_keys(const sources *s, ice_aws_config *aws)
{
	const char *where = "catalog configuration";
	const json_t *from = NULL;
	ice_sbuf b = ICE_SBUF_INIT;
	const char *key_id;

	for (int i = 0; i < 2 && !from; i++)
		if (in_level(s->level[i], "s3.access-key-id")) {
			from = s->level[i];
			where = i == 0 ? "storage credential for" : "table configuration";
		}
	key_id = from ? in_level(from, "s3.access-key-id")
	              : ice_catalog_property(s->c, "s3.access-key-id");
	if (!key_id)
		return ICE_OK;
	if (dup_into(&aws->access_key, key_id) ||
	    dup_into(&aws->secret_key, from ? in_level(from, "s3.secret-access-key")
	                                    : ice_catalog_property(s->c, "s3.secret-access-key")) ||
	    dup_into(&aws->session_token, from ? in_level(from, "s3.session-token")
	                                       : ice_catalog_property(s->c, "s3.session-token")))
		return ICE_ENOMEM;
	ice_sbuf_printf(&b, "catalog %s: %s", ice_catalog_name(s->c), where);
	if (from == s->level[0] && from)
		ice_sbuf_printf(&b, " %s", s->prefix);
	return (aws->source = ice_sbuf_take(&b)) ? ICE_OK : ICE_ENOMEM;
}

static int take_place(const sources *s, ice_aws_config *aws)
{
	const char *path_style = lookup(s, "s3.path-style-access");
	const char *endpoint = lookup(s, "s3.endpoint");
	size_t n;

	if (dup_into(&aws->region, lookup(s, "client.region")) ||
	    dup_into(&aws->endpoint, endpoint))
		return ICE_ENOMEM;
	if (aws->endpoint && (n = strlen(aws->endpoint)) && aws->endpoint[n - 1] == '/')
		aws->endpoint[n - 1] = '\0';
	/* As for a configured endpoint: path-style unless said otherwise. */
	aws->path_style = path_style ? strcasecmp(path_style, "true") == 0 : endpoint != NULL;
	return ICE_OK;
}

int ice_catalog_s3_access(const ice_catalog *c, const ice_loaded_table *t, const char *location,
                          ice_aws_config *aws, int64_t *expires_at_ms, ice_err *err)
{
	sources src = { { NULL, NULL }, NULL, c };
	ice_aws_config got = { 0 };
	const char *exp;
	int rc;

	*expires_at_ms = -1;
	if (!location)
		location = t->metadata_location;
	if (t->result) {
		const json_t *cfg = json_object_get(t->result, "config");

		if ((rc = pick_credential(json_object_get(t->result, "storage-credentials"), location,
		                          &src, err)))
			return ice_err_prefix(err, "catalog %s: loadTable: ", ice_catalog_name(c));
		src.level[1] = json_is_object(cfg) ? cfg : NULL;
	}
	if (take_keys(&src, &got) || take_place(&src, &got)) {
		ice_aws_config_clear(&got);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	if (got.access_key && !got.secret_key) {
		ice_aws_config_clear(&got);
		return ice_err_set(err, ICE_EFORMAT, "catalog %s: an s3.access-key-id without "
		                   "s3.secret-access-key", ice_catalog_name(c));
	}
	if ((exp = lookup(&src, "s3.session-token-expires-at-ms")))
		*expires_at_ms = strtoll(exp, NULL, 10);
	*aws = got;
	return ICE_OK;
}
