/* fuzz-catname: catalog names as users type them (NAME:db.orders,
 * a.b.orders) and as a catalog sends them (a Namespace JSON array), with
 * their URL form. Input: text; when it parses as JSON, also a namespace. */
#include "config.h"
#include "fuzz.h"
#include "ice_catname.h"
#include "ice_sbuf.h"

#include <jansson.h>
#include <stdlib.h>

static void url_forms(const ice_ns *ns)
{
	ice_sbuf b = { 0 };
	char *s = ice_ns_format(ns);

	free(s);
	ice_ns_put_url(&b, ns, NULL);
	ice_ns_put_url(&b, ns, "%2E");
	ice_sbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), *catalog = NULL, *s;
	const char *rest;
	ice_table_ident id = { 0 };
	ice_ns ns = { 0 };
	json_t *j;

	if (!text)
		return 0;
	ice_catalog_ref_split(text, &catalog, &rest);
	free(catalog);
	if (ice_table_ident_parse(rest, &id, NULL) == ICE_OK) {
		s = ice_table_ident_format(&id);
		free(s);
		url_forms(&id.ns);
	}
	ice_table_ident_clear(&id);
	if (ice_ns_parse(text, &ns, NULL) == ICE_OK)
		url_forms(&ns);
	ice_ns_clear(&ns);
	if ((j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL))) {
		if (ice_ns_from_json(j, &ns, NULL) == ICE_OK)
			url_forms(&ns);
		ice_ns_clear(&ns);
		json_decref(j);
	}
	free(text);
	return 0;
}
