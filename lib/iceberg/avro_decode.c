/* avro_decode: compile Avro schema JSON into nodes; skip and read values
 * of the binary encoding (Avro specification, "Binary Encoding"). */
#include "config.h"
#include "ice_avro_decode.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct {
	const char *name; /* borrowed from the schema JSON */
	ice_av_node *node;
} named;

struct ice_avro_type {
	json_t *schema;
	ice_av_node *root;
	ice_av_node **nodes; /* every node, for freeing (named ones are shared) */
	size_t n_nodes, cap_nodes;
	named *names;
	size_t n_names, cap_names;
	const char *file;
	ice_err *err;
};

static const struct {
	const char *name;
	ice_av_kind kind;
} primitives[] = {
	{ "null", ICE_AV_NULL }, { "boolean", ICE_AV_BOOLEAN }, { "int", ICE_AV_INT },
	{ "long", ICE_AV_LONG }, { "float", ICE_AV_FLOAT }, { "double", ICE_AV_DOUBLE },
	{ "bytes", ICE_AV_BYTES }, { "string", ICE_AV_STRING },
};

static ice_av_node *new_node(ice_avro_type *t, ice_av_kind kind, const json_t *json)
{
	ice_av_node *n;

	if (t->n_nodes == t->cap_nodes) {
		size_t cap = t->cap_nodes ? t->cap_nodes * 2 : 32;
		ice_av_node **q = realloc(t->nodes, cap * sizeof *q);
		if (!q)
			return NULL;
		t->nodes = q;
		t->cap_nodes = cap;
	}
	if (!(n = calloc(1, sizeof *n)))
		return NULL;
	n->kind = kind;
	n->json = json;
	t->nodes[t->n_nodes++] = n;
	return n;
}

/* The last component of a dotted full name. */
static const char *short_name(const char *s)
{
	const char *dot = strrchr(s, '.');

	return dot ? dot + 1 : s;
}

static int define(ice_avro_type *t, const json_t *json, ice_av_node *n)
{
	const char *name = json_string_value(json_object_get(json, "name"));

	if (!name)
		return ice_err_set(t->err, ICE_EFORMAT, "%s: named Avro type without a name", t->file);
	if (t->n_names == t->cap_names) {
		size_t cap = t->cap_names ? t->cap_names * 2 : 16;
		named *q = realloc(t->names, cap * sizeof *q);
		if (!q)
			return ice_err_set(t->err, ICE_ENOMEM, "out of memory");
		t->names = q;
		t->cap_names = cap;
	}
	t->names[t->n_names++] = (named){ short_name(name), n };
	return ICE_OK;
}

static ice_av_node *lookup(const ice_avro_type *t, const char *name)
{
	for (size_t i = 0; i < t->n_names; i++)
		if (strcmp(t->names[i].name, short_name(name)) == 0)
			return t->names[i].node;
	return NULL;
}

static int compile(ice_avro_type *t, const json_t *json, int depth, ice_av_node **out);

static int compile_children(ice_avro_type *t, ice_av_node *n, const json_t *list, bool fields,
                            int depth)
{
	const json_t *item;
	size_t i;
	int rc;

	n->n = json_array_size(list);
	n->children = calloc(n->n + 1, sizeof *n->children);
	n->field_ids = calloc(n->n + 1, sizeof *n->field_ids);
	if (!n->children || !n->field_ids)
		return ice_err_set(t->err, ICE_ENOMEM, "out of memory");
	json_array_foreach(list, i, item) {
		const json_t *id = fields ? json_object_get(item, "field-id") : NULL;
		n->field_ids[i] = json_is_integer(id) ? (int)json_integer_value(id) : -1;
		if ((rc = compile(t, fields ? json_object_get(item, "type") : item, depth + 1,
		                  &n->children[i])))
			return rc;
	}
	return ICE_OK;
}

static int compile_object(ice_avro_type *t, const json_t *json, int depth, ice_av_node **out)
{
	const char *type = json_string_value(json_object_get(json, "type"));
	ice_av_node *n;
	int rc = ICE_OK;

	if (!type)
		return ice_err_set(t->err, ICE_EFORMAT, "%s: Avro type without \"type\"", t->file);
	if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0) {
		if (!(n = new_node(t, ICE_AV_RECORD, json)))
			return ice_err_set(t->err, ICE_ENOMEM, "out of memory");
		/* Defined before its fields, which may refer to it. */
		if (!(rc = define(t, json, n)))
			rc = compile_children(t, n, json_object_get(json, "fields"), true, depth);
	} else if (strcmp(type, "fixed") == 0 || strcmp(type, "enum") == 0) {
		if (!(n = new_node(t, type[0] == 'f' ? ICE_AV_FIXED : ICE_AV_ENUM, json)))
			return ice_err_set(t->err, ICE_ENOMEM, "out of memory");
		n->size = (size_t)json_integer_value(json_object_get(json, "size"));
		rc = define(t, json, n);
	} else if (strcmp(type, "array") == 0 || strcmp(type, "map") == 0) {
		if (!(n = new_node(t, type[0] == 'a' ? ICE_AV_ARRAY : ICE_AV_MAP, json)))
			return ice_err_set(t->err, ICE_ENOMEM, "out of memory");
		rc = compile(t, json_object_get(json, type[0] == 'a' ? "items" : "values"), depth + 1,
		             &n->items);
	} else {
		/* {"type": "long", "logicalType": ...} and the like */
		return compile(t, json_object_get(json, "type"), depth + 1, out);
	}
	*out = n;
	return rc;
}

static int compile(ice_avro_type *t, const json_t *json, int depth, ice_av_node **out)
{
	ice_av_node *n;

	*out = NULL;
	if (depth > MAX_DEPTH)
		return ice_err_set(t->err, ICE_EFORMAT, "%s: Avro schema nested too deeply", t->file);
	if (json_is_array(json)) {
		if (!(n = new_node(t, ICE_AV_UNION, json)))
			return ice_err_set(t->err, ICE_ENOMEM, "out of memory");
		*out = n;
		return compile_children(t, n, json, false, depth);
	}
	if (json_is_object(json))
		return compile_object(t, json, depth, out);
	if (!json_is_string(json))
		return ice_err_set(t->err, ICE_EFORMAT, "%s: bad Avro type", t->file);
	for (size_t i = 0; i < sizeof primitives / sizeof primitives[0]; i++)
		if (strcmp(json_string_value(json), primitives[i].name) == 0) {
			if (!(*out = new_node(t, primitives[i].kind, json)))
				return ice_err_set(t->err, ICE_ENOMEM, "out of memory");
			return ICE_OK;
		}
	if (!(*out = lookup(t, json_string_value(json))))
		return ice_err_set(t->err, ICE_EFORMAT, "%s: unknown Avro type '%s'", t->file,
		                   json_string_value(json));
	return ICE_OK;
}

/* Statistics maps are arrays of {int key, long value} records: such
 * values are a fixed number of varints, skipped by counting final bytes. */
static int count_varints(ice_av_node *n, int depth)
{
	int sum = 0;

	if (n->kind == ICE_AV_INT || n->kind == ICE_AV_LONG || n->kind == ICE_AV_ENUM)
		return 1;
	if (n->kind != ICE_AV_RECORD || n->n == 0 || depth > MAX_DEPTH)
		return 0;
	for (size_t i = 0; i < n->n; i++) {
		int k = count_varints(n->children[i], depth + 1);
		if (k == 0)
			return 0;
		sum += k;
	}
	return sum;
}

/* Statistics bounds are arrays of {int key, bytes value} records. */
static void flatten(ice_av_node *n)
{
	static const char letter[] = {
		[ICE_AV_BOOLEAN] = '1', [ICE_AV_INT] = 'v', [ICE_AV_LONG] = 'v', [ICE_AV_ENUM] = 'v',
		[ICE_AV_FLOAT] = '4', [ICE_AV_DOUBLE] = '8', [ICE_AV_BYTES] = 'b', [ICE_AV_STRING] = 'b',
	};

	n->flat[0] = '\0';
	if (n->kind != ICE_AV_RECORD || n->n == 0 || n->n >= sizeof n->flat)
		return;
	for (size_t i = 0; i < n->n; i++) {
		ice_av_kind k = n->children[i]->kind;
		if ((size_t)k >= sizeof letter || !letter[k]) {
			n->flat[0] = '\0';
			return;
		}
		n->flat[i] = letter[k];
	}
	n->flat[n->n] = '\0';
}

int ice_avro_type_new(const json_t *schema, const char *name, ice_avro_type **out, ice_err *err)
{
	ice_avro_type *t = calloc(1, sizeof *t);
	int rc;

	*out = NULL;
	if (!t)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	t->schema = json_incref((json_t *)schema);
	t->file = name;
	t->err = err;
	rc = compile(t, t->schema, 0, &t->root);
	for (size_t i = 0; rc == ICE_OK && i < t->n_nodes; i++) {
		t->nodes[i]->varints = count_varints(t->nodes[i], 0);
		flatten(t->nodes[i]);
	}
	t->file = NULL;
	t->err = NULL;
	if (rc)
		ice_avro_type_free(t);
	else
		*out = t;
	return rc;
}

const ice_av_node *ice_avro_type_root(const ice_avro_type *t)
{
	return t->root;
}

void ice_avro_type_free(ice_avro_type *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_nodes; i++) {
		free(t->nodes[i]->children);
		free(t->nodes[i]->field_ids);
		free(t->nodes[i]);
	}
	free(t->nodes);
	free(t->names);
	json_decref(t->schema);
	free(t);
}

/* ---- decoding ------------------------------------------------------------- */

bool ice_av_read_long(ice_av_cursor *c, int64_t *out)
{
	uint64_t v = 0;
	int shift = 0;
	unsigned char b;

	do {
		if (c->p >= c->end || shift > 63)
			return false;
		b = *c->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	*out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
	return true;
}

static bool advance(ice_av_cursor *c, int64_t n)
{
	if (n < 0 || n > c->end - c->p)
		return false;
	c->p += n;
	return true;
}

/* Skip n varints: count the bytes without the continuation bit, eight at
 * a time while eight cannot overshoot. */
static bool skip_varints(ice_av_cursor *c, int64_t n)
{
	const unsigned char *p = c->p, *end = c->end;
	uint64_t w;

	while (n >= 8 && end - p >= 8) {
		memcpy(&w, p, 8);
		/* the number of final bytes, summed by a multiplication */
		n -= (int64_t)((((~w >> 7) & 0x0101010101010101ULL) * 0x0101010101010101ULL) >> 56);
		p += 8;
	}
	while (n > 0) {
		if (p >= end)
			return false;
		n -= !(*p++ & 0x80);
	}
	c->p = p;
	return n == 0;
}

static inline bool skip_varint(ice_av_cursor *c)
{
	const unsigned char *p = c->p;

	while (p < c->end)
		if (!(*p++ & 0x80)) {
			c->p = p;
			return true;
		}
	return false;
}

static bool skip_flat(ice_av_cursor *c, const char *f)
{
	int64_t len;

	for (; *f; f++) {
		switch (*f) {
		case 'v':
			if (!skip_varint(c))
				return false;
			break;
		case 'b':
			if (!ice_av_read_long(c, &len) || !advance(c, len))
				return false;
			break;
		default:
			if (!advance(c, *f - '0'))
				return false;
		}
	}
	return true;
}

/* Array and map items: blocks of count items, a negative count being
 * followed by the block's size in bytes, which lets it be jumped over. */
static bool skip_items(ice_av_cursor *c, const ice_av_node *n)
{
	int64_t count, size;

	for (;;) {
		if (!ice_av_read_long(c, &count))
			return false;
		if (count == 0)
			return true;
		if (count < 0) {
			if (!ice_av_read_long(c, &size) || !advance(c, size))
				return false;
			continue;
		}
		if (n->kind == ICE_AV_ARRAY && n->items->varints > 0 && count <= INT64_MAX / 64) {
			if (!skip_varints(c, count * n->items->varints))
				return false;
			continue;
		}
		if (n->kind == ICE_AV_ARRAY && strcmp(n->items->flat, "vb") == 0) {
			/* bounds: {int key, bytes value} */
			while (count-- > 0)
				if (!skip_varint(c) || !ice_av_read_long(c, &size) || !advance(c, size))
					return false;
			continue;
		}
		if (n->kind == ICE_AV_ARRAY && n->items->flat[0]) {
			while (count-- > 0)
				if (!skip_flat(c, n->items->flat))
					return false;
			continue;
		}
		while (count-- > 0)
			if ((n->kind == ICE_AV_MAP && (!ice_av_read_long(c, &size) || !advance(c, size))) ||
			    !ice_av_skip(c, n->items))
				return false;
	}
}

bool ice_av_skip(ice_av_cursor *c, const ice_av_node *n)
{
	int64_t v;

	switch (n->kind) {
	case ICE_AV_NULL:
		return true;
	case ICE_AV_BOOLEAN:
		return advance(c, 1);
	case ICE_AV_INT:
	case ICE_AV_LONG:
	case ICE_AV_ENUM:
		return ice_av_read_long(c, &v);
	case ICE_AV_FLOAT:
		return advance(c, 4);
	case ICE_AV_DOUBLE:
		return advance(c, 8);
	case ICE_AV_BYTES:
	case ICE_AV_STRING:
		return ice_av_read_long(c, &v) && advance(c, v);
	case ICE_AV_FIXED:
		return advance(c, (int64_t)n->size);
	case ICE_AV_ARRAY:
	case ICE_AV_MAP:
		return skip_items(c, n);
	case ICE_AV_RECORD:
		if (n->varints > 0)
			return skip_varints(c, n->varints);
		if (n->flat[0])
			return skip_flat(c, n->flat);
		for (size_t i = 0; i < n->n; i++)
			if (!ice_av_skip(c, n->children[i]))
				return false;
		return true;
	case ICE_AV_UNION:
		return ice_av_read_long(c, &v) && v >= 0 && (uint64_t)v < n->n &&
		       ice_av_skip(c, n->children[v]);
	}
	return false;
}

bool ice_av_branch(ice_av_cursor *c, const ice_av_node **n, bool *present)
{
	int64_t v;

	*present = true;
	if ((*n)->kind != ICE_AV_UNION)
		return true;
	if (!ice_av_read_long(c, &v) || v < 0 || (uint64_t)v >= (*n)->n)
		return false;
	*n = (*n)->children[v];
	*present = (*n)->kind != ICE_AV_NULL;
	return true;
}

bool ice_av_read_i64(ice_av_cursor *c, const ice_av_node *n, bool *present, int64_t *out)
{
	if (!ice_av_branch(c, &n, present))
		return false;
	if (n->kind == ICE_AV_INT || n->kind == ICE_AV_LONG)
		return ice_av_read_long(c, out);
	*present = false;
	return ice_av_skip(c, n);
}

bool ice_av_read_str(ice_av_cursor *c, const ice_av_node *n, bool *present,
                     const unsigned char **s, size_t *len)
{
	int64_t v;

	if (!ice_av_branch(c, &n, present))
		return false;
	if (n->kind != ICE_AV_STRING && n->kind != ICE_AV_BYTES) {
		*present = false;
		return ice_av_skip(c, n);
	}
	if (!ice_av_read_long(c, &v) || v < 0 || v > c->end - c->p)
		return false;
	*s = c->p;
	*len = (size_t)v;
	c->p += v;
	return true;
}

bool ice_av_read_bool(ice_av_cursor *c, const ice_av_node *n, bool *present, bool *out)
{
	if (!ice_av_branch(c, &n, present))
		return false;
	if (n->kind != ICE_AV_BOOLEAN) {
		*present = false;
		return ice_av_skip(c, n);
	}
	if (c->p >= c->end)
		return false;
	*out = *c->p++ != 0;
	return true;
}

bool ice_av_array_block(ice_av_cursor *c, int64_t *count)
{
	int64_t size;

	if (!ice_av_read_long(c, count))
		return false;
	/* A negative count is followed by the block's size in bytes. */
	if (*count < 0 && (*count == INT64_MIN || (*count = -*count, !ice_av_read_long(c, &size))))
		return false;
	return true;
}
