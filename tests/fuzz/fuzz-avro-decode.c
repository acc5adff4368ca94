/* fuzz-avro-decode: a writer schema compiled by ice_avro_decode, then
 * values of it skipped and read from bytes. Input: the schema's JSON, a
 * NUL byte, the encoded values. */
#include "config.h"
#include "fuzz.h"
#include "ice_avro_decode.h"

#include <stdlib.h>
#include <string.h>

/* Read what the manifest readers read: a record's fields through unions. */
static bool read_record(ice_av_cursor *c, const ice_av_node *n)
{
	const unsigned char *s;
	size_t len;
	int64_t v;
	bool present, b;

	if (n->kind != ICE_AV_RECORD)
		return ice_av_skip(c, n);
	for (size_t i = 0; i < n->n; i++) {
		bool ok;
		switch (n->field_ids[i] % 4) {
		case 0:
			ok = ice_av_read_i64(c, n->children[i], &present, &v);
			break;
		case 1:
			ok = ice_av_read_str(c, n->children[i], &present, &s, &len);
			break;
		case 2:
			ok = ice_av_read_bool(c, n->children[i], &present, &b);
			break;
		default:
			ok = ice_av_skip(c, n->children[i]);
		}
		if (!ok)
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	ice_avro_type *type = NULL;
	json_t *schema;
	ice_av_cursor c;

	if (!nul)
		return 0;
	schema = json_loadb((const char *)data, (size_t)(nul - data), 0, NULL);
	if (schema && ice_avro_type_new(schema, "fuzz.avro", &type, NULL) == ICE_OK) {
		const ice_av_node *root = ice_avro_type_root(type);
		c.p = nul + 1;
		c.end = data + size;
		/* values until the bytes end or do not decode; each takes a byte
		 * or more, or is empty (then once is enough) */
		while (c.p < c.end) {
			const unsigned char *before = c.p;
			if (!read_record(&c, root) || c.p == before)
				break;
		}
	}
	ice_avro_type_free(type);
	json_decref(schema);
	return 0;
}
