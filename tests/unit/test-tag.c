/* test-tag: the tag grammar of lib/cache/tag.c: which tables an entry's
 * tags name (home first, each once), and the rules put checks, for stores
 * that hold entries over several tables and for those that hold one. */
#include "config.h"
#include "tests.h"

#include <string.h>

#include "ice_backend.h"
#include "ice_tag.h"

static void expect_tables(const char *const *tags, size_t n, const char *want, const char *what)
{
	char **v = NULL, got[256] = "";
	size_t k = 0, i;
	ice_err err = { 0 };

	tap_is_int(ice_tags_table_list(tags, n, &v, &k, &err), ICE_OK, "%s: listed", what);
	for (i = 0; i < k; i++) {
		if (i)
			strcat(got, ",");
		strncat(got, v[i], sizeof got - strlen(got) - 2);
	}
	tap_is_str(got, want, "%s: tables %s", what, want);
	ice_backend_strv_free(v, k);
}

static void test_table_list(void)
{
	const char *none[] = { "tag:x", "report" };
	const char *one[] = { "partition:db.orders:day=1", "file:db.orders:a.parquet", "table:db.orders" };
	const char *join[] = { "tag:x", "table:db.customers", "partition:db.orders:day=1",
	                       "file:db.customers:c.parquet", "snapshot:db.items:7" };
	const char *colon[] = { "file:db.o:s3://b/k:1", "table:db.o" };

	expect_tables(none, 2, "_", "free-form tags only");
	expect_tables(none, 0, "_", "no tags");
	expect_tables(one, 3, "db.orders", "one table named three times");
	expect_tables(join, 5, "db.customers,db.orders,db.items",
	              "a join: home first, each table once, free-form tags skipped");
	expect_tables(colon, 2, "db.o", "a path holding colons names its table only");
}

static void test_put_rules(void)
{
	const char *join[] = { "table:db.orders", "partition:db.customers:region=eu" };
	const char *bad[] = { "table:db.orders", "" };
	ice_err err = { 0 };

	tap_is_int(ice_tags_check(join, 2, &err), ICE_OK, "put: tags over two tables are allowed");
	tap_is_int(ice_tags_check(bad, 2, &err), ICE_EINVAL, "put: an empty tag is refused");
	tap_ok(strstr(err.msg, "tag 2") != NULL, "put: the message counts tags from 1 (%s)", err.msg);

	/* P:{}x}:... is no hash tag: refused in every kind of table-scoped tag */
	const char *brace[] = { "table:db.o", "file:}x:s3://b/f" };
	const char *inner[] = { "table:x}y", "partition:x}y:d=1", "}free-form" };
	tap_is_int(ice_tags_check(brace, 2, &err), ICE_EINVAL, "put: a table beginning with '}' is refused");
	tap_ok(strstr(err.msg, "tag 2: table '}x'") != NULL, "put: ... named with its tag (%s)", err.msg);
	tap_is_int(ice_tags_check(inner, 3, &err), ICE_OK,
	           "put: a '}' inside a table name, or opening a free-form tag, is allowed");
	tap_is_int(ice_tags_check_each(brace, 2, &err), ICE_OK,
	           "invalidate still takes such a table (one server may hold old entries)");
}

static void test_is_file(void)
{
	tap_ok(ice_tag_is_file("file:db.t:s3://b/t/data/a.parquet"), "a file's tag is one");
	tap_ok(!ice_tag_is_file("partition:db.t:day=2024-01-01"), "a partition's tag is not");
	tap_ok(!ice_tag_is_file("table:db.t"), "a table's tag is not");
	tap_ok(!ice_tag_is_file("file:"), "\"file:\" naming no table is free-form, not a file's");
	tap_ok(!ice_tag_is_file("files-of-the-day"), "a free-form tag is not");
}

void test_tag(void)
{
	test_table_list();
	test_put_rules();
	test_is_file();
}
