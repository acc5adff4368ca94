/* avro_decode: compile Avro schema JSON into nodes; skip and read values
 * of the binary encoding (Avro specification, "Binary Encoding"). */
#include "config.h"
#include "ice_avro_decode.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Bounds on a schema from a file: the JSON nesting and the height of the
 * compiled type (references included), which bound the decoder's
 * recursion; the nodes one value's skip may visit, which bounds the work
 * per byte (named types shared many times over would otherwise expand
 * exponentially); the size of a fixed. */
#define MAX_DEPTH 64
#define MAX_COST (1u << 16)
#define MAX_FIXED (1u << 24)

typedef struct {
	const char *name; /* borrowed from the schema JSON */
	ice_av_node *node;
	bool open;        /* a record whose fields are being compiled */
} named;

struct ice_avro_type {
	json_t *schema;
	ice_av_node *root;
	ice_av_node **nodes; /* every node, for freeing (named ones are shared) */
	size_t n_nodes, cap_nodes;
	named *names;
	size_t n_names, cap_names;
	json_t *name_index; /* short name -> index in names (first definition wins) */
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
	/* Indexed, so that a reference costs the same however many names. */
	if (!json_object_get(t->name_index, short_name(name)) &&
	    json_object_set_new(t->name_index, short_name(name), json_integer((json_int_t)t->n_names)))
		return ice_err_set(t->err, ICE_ENOMEM, "out of memory");
	t->names[t->n_names++] = (named){ short_name(name), n, n->kind == ICE_AV_RECORD };
	return ICE_OK;
}

static named *lookup(const ice_avro_type *t, const char *name)
{
	const json_t *i = json_object_get(t->name_index, short_name(name));

	return i ? &t->names[json_integer_value(i)] : NULL;
}

/* A record's fields are compiled: references to it are now allowed. */
static void close_name(ice_avro_type *t, const ice_av_node *n)
{
	for (size_t i = t->n_names; i-- > 0;)
		if (t->names[i].node == n) {
			t->names[i].open = false;
			return;
		}
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A node whose children are all compiled: its height, the nodes a skip
 * of one value visits (arrays and maps count one item: further items are
 * paid for by their bytes), its least encoded size, and whether it is a
 * run of varints. Refused when over the bounds above. */
static int finish(ice_avro_type *t, ice_av_node *n)
{
	uint64_t cost = 1, least = 0;
	int height = 0, varints = 0;

	switch (n->kind) {
	case ICE_AV_NULL:
		break;
	case ICE_AV_BOOLEAN:
	case ICE_AV_STRING:
	case ICE_AV_BYTES:
		least = 1;
		break;
	case ICE_AV_INT:
	case ICE_AV_LONG:
	case ICE_AV_ENUM:
		least = 1;
		varints = 1;
		break;
	case ICE_AV_FLOAT:
		least = 4;
		break;
	case ICE_AV_DOUBLE:
		least = 8;
		break;
	case ICE_AV_FIXED:
		least = n->size;
		break;
	case ICE_AV_ARRAY:
	case ICE_AV_MAP:
		least = 1; /* the closing zero count */
		height = n->items->height;
		cost = add_sat(cost, n->items->cost);
		break;
	case ICE_AV_RECORD:
		for (size_t i = 0; i < n->n; i++) {
			const ice_av_node *f = n->children[i];
			height = f->height > height ? f->height : height;
			cost = add_sat(cost, f->cost);
			least = add_sat(least, f->least);
			varints = varints >= 0 && f->varints > 0 && f->varints <= (int)MAX_COST - varints
			          ? varints + f->varints : -1;
		}
		varints = n->n > 0 && varints > 0 ? varints : 0;
		break;
	case ICE_AV_UNION:
		least = UINT64_MAX;
		for (size_t i = 0; i < n->n; i++) {
			const ice_av_node *b = n->children[i];
			height = b->height > height ? b->height : height;
			cost = b->cost >= cost ? add_sat(b->cost, 1) : cost;
			least = b->least < least ? b->least : least;
		}
		least = n->n ? add_sat(least, 1) : 1; /* the branch index */
		break;
	}
	n->height = height + 1;
	n->cost = cost;
	n->least = least;
	n->varints = varints;
	if (n->height > MAX_DEPTH)
		return ice_err_set(t->err, ICE_EFORMAT, "%s: Avro schema nested too deeply (over %d levels)",
		                   t->file, MAX_DEPTH);
	if (n->cost > MAX_COST)
		return ice_err_set(t->err, ICE_EFORMAT,
		                   "%s: Avro schema too large once its named types are expanded", t->file);
	return ICE_OK;
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
		n->field_ids[i] = json_is_integer(id) && json_integer_value(id) >= 0 &&
		                  json_integer_value(id) <= INT_MAX ? (int)json_integer_value(id) : -1;
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
		/* Defined before its fields, so that a field naming it is found
		 * (and refused: a value of a recursive type has no bound on its
		 * nesting, and Iceberg writes none). */
		if (!(rc = define(t, json, n)) &&
		    !(rc = compile_children(t, n, json_object_get(json, "fields"), true, depth)))
			close_name(t, n);
	} else if (strcmp(type, "fixed") == 0 || strcmp(type, "enum") == 0) {
		const json_t *size = json_object_get(json, "size");
		if (!(n = new_node(t, type[0] == 'f' ? ICE_AV_FIXED : ICE_AV_ENUM, json)))
			return ice_err_set(t->err, ICE_ENOMEM, "out of memory");
		if (type[0] == 'f' && (!json_is_integer(size) || json_integer_value(size) < 0 ||
		                       json_integer_value(size) > (json_int_t)MAX_FIXED))
			return ice_err_set(t->err, ICE_EFORMAT, "%s: Avro fixed type with a bad size", t->file);
		n->size = type[0] == 'f' ? (size_t)json_integer_value(size) : 0;
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
	return rc ? rc : finish(t, n);
}

static int compile(ice_avro_type *t, const json_t *json, int depth, ice_av_node **out)
{
	ice_av_node *n;
	named *ref;
	int rc;

	*out = NULL;
	if (depth > MAX_DEPTH)
		return ice_err_set(t->err, ICE_EFORMAT, "%s: Avro schema nested too deeply", t->file);
	if (json_is_array(json)) {
		if (!(n = new_node(t, ICE_AV_UNION, json)))
			return ice_err_set(t->err, ICE_ENOMEM, "out of memory");
		*out = n;
		if ((rc = compile_children(t, n, json, false, depth)))
			return rc;
		return finish(t, n);
	}
	if (json_is_object(json))
		return compile_object(t, json, depth, out);
	if (!json_is_string(json))
		return ice_err_set(t->err, ICE_EFORMAT, "%s: bad Avro type", t->file);
	for (size_t i = 0; i < sizeof primitives / sizeof primitives[0]; i++)
		if (strcmp(json_string_value(json), primitives[i].name) == 0) {
			if (!(*out = new_node(t, primitives[i].kind, json)))
				return ice_err_set(t->err, ICE_ENOMEM, "out of memory");
			return finish(t, *out);
		}
	if (!(ref = lookup(t, json_string_value(json))))
		return ice_err_set(t->err, ICE_EFORMAT, "%s: unknown Avro type '%s'", t->file,
		                   json_string_value(json));
	if (ref->open)
		return ice_err_set(t->err, ICE_EFORMAT, "%s: recursive Avro type '%s'", t->file,
		                   json_string_value(json));
	*out = ref->node;
	return ICE_OK;
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
	if (!(t->name_index = json_object()))
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	else
		rc = compile(t, t->schema, 0, &t->root);
	for (size_t i = 0; rc == ICE_OK && i < t->n_nodes; i++)
		flatten(t->nodes[i]);
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
	json_decref(t->name_index);
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

/* The items of a block may take count * least bytes at the fewest: more
 * than the bytes left is a corrupt count (and would overflow the product). */
static bool count_fits(const ice_av_cursor *c, int64_t count, uint64_t least)
{
	return least == 0 || (uint64_t)count <= (uint64_t)(c->end - c->p) / least;
}

/* Array and map items: blocks of count items, a negative count being
 * followed by the block's size in bytes, which lets it be jumped over.
 * Items that always encode to nothing (least 0) are not visited. */
static bool skip_items(ice_av_cursor *c, const ice_av_node *n)
{
	const ice_av_node *item = n->items;
	uint64_t least = n->kind == ICE_AV_MAP ? add_sat(item->least, 1) : item->least;
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
		if (!count_fits(c, count, least))
			return false;
		if (least == 0)
			continue;
		if (n->kind == ICE_AV_ARRAY && item->varints > 0) {
			/* no overflow: count * varints <= count * least <= the bytes left */
			if (!skip_varints(c, count * item->varints))
				return false;
			continue;
		}
		if (n->kind == ICE_AV_ARRAY && strcmp(item->flat, "vb") == 0) {
			/* bounds: {int key, bytes value} */
			while (count-- > 0)
				if (!skip_varint(c) || !ice_av_read_long(c, &size) || !advance(c, size))
					return false;
			continue;
		}
		if (n->kind == ICE_AV_ARRAY && item->flat[0]) {
			while (count-- > 0)
				if (!skip_flat(c, item->flat))
					return false;
			continue;
		}
		while (count-- > 0)
			if ((n->kind == ICE_AV_MAP && (!ice_av_read_long(c, &size) || !advance(c, size))) ||
			    !ice_av_skip(c, item))
				return false;
	}
}

bool ice_av_skip(ice_av_cursor *c, const ice_av_node *n)
{
	int64_t v;

	if (n->least == 0)
		return true; /* null, fixed(0), records of those: nothing to skip */
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
	return count_fits(c, *count, 1);
}
