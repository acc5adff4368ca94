/* catname: catalog table and namespace names, parsed, formatted and put
 * into URLs. */
#include "config.h"
#include "ice_catname.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void ice_ns_clear(ice_ns *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->levels[i]);
	free(ns->levels);
	ns->levels = NULL;
	ns->n = 0;
}

void ice_table_ident_clear(ice_table_ident *t)
{
	ice_ns_clear(&t->ns);
	free(t->name);
	t->name = NULL;
}

static int ns_add(ice_ns *ns, const char *s, size_t len, ice_err *err)
{
	char **v = realloc(ns->levels, (ns->n + 1) * sizeof *v);

	if (!v)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	ns->levels = v;
	if (!(v[ns->n] = strndup(s, len)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	ns->n++;
	return ICE_OK;
}

int ice_ns_parse(const char *text, ice_ns *out, ice_err *err)
{
	const char *p = text;
	int rc = ICE_OK;

	memset(out, 0, sizeof *out);
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		if (!len) {
			rc = ice_err_set(err, ICE_EINVAL, "'%.200s': an empty namespace level", text);
			break;
		}
		if ((rc = ns_add(out, p, len, err)) || !dot)
			break;
		p = dot + 1;
	}
	if (rc)
		ice_ns_clear(out);
	return rc;
}

int ice_table_ident_parse(const char *text, ice_table_ident *out, ice_err *err)
{
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = ice_ns_parse(text, &out->ns, err)))
		return rc;
	if (out->ns.n < 2) {
		ice_ns_clear(&out->ns);
		return ice_err_set(err, ICE_EINVAL, "'%.200s': want NAMESPACE.TABLE", text);
	}
	/* The last level is the table's name. */
	out->name = out->ns.levels[--out->ns.n];
	return ICE_OK;
}

bool ice_catalog_ref_split(const char *arg, char **catalog, const char **rest)
{
	const char *colon = strchr(arg, ':');
	size_t n;

	*catalog = NULL;
	*rest = arg;
	if (!colon || colon == arg || strncmp(colon + 1, "//", 2) == 0)
		return false;
	n = (size_t)(colon - arg);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)arg[i]) && arg[i] != '_' && arg[i] != '-')
			return false;
	if (!(*catalog = strndup(arg, n)))
		return false;
	*rest = colon + 1;
	return true;
}

static char *join(const ice_ns *ns, const char *last)
{
	ice_sbuf b = ICE_SBUF_INIT;

	ice_sbuf_puts(&b, "");
	for (size_t i = 0; i < ns->n; i++) {
		if (i)
			ice_sbuf_putc(&b, '.');
		ice_sbuf_puts(&b, ns->levels[i]);
	}
	if (last) {
		if (ns->n)
			ice_sbuf_putc(&b, '.');
		ice_sbuf_puts(&b, last);
	}
	return ice_sbuf_take(&b);
}

char *ice_ns_format(const ice_ns *ns)
{
	return join(ns, NULL);
}

char *ice_table_ident_format(const ice_table_ident *t)
{
	return join(&t->ns, t->name);
}

void ice_ns_put_url(ice_sbuf *b, const ice_ns *ns, const char *sep)
{
	for (size_t i = 0; i < ns->n; i++) {
		if (i)
			ice_sbuf_puts(b, sep ? sep : "%1F");
		ice_sbuf_pct(b, ns->levels[i], false);
	}
}

int ice_ns_from_json(const json_t *arr, ice_ns *out, ice_err *err)
{
	size_t i;
	const json_t *v;
	int rc = ICE_OK;

	memset(out, 0, sizeof *out);
	if (!json_is_array(arr) || !json_array_size(arr))
		return ice_err_set(err, ICE_EFORMAT, "a namespace is not an array of strings");
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || !json_string_length(v)) {
			rc = ice_err_set(err, ICE_EFORMAT, "a namespace level is not a string");
			break;
		}
		if ((rc = ns_add(out, json_string_value(v), json_string_length(v), err)))
			break;
	}
	if (rc)
		ice_ns_clear(out);
	return rc;
}
