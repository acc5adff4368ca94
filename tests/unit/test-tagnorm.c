/* test-tagnorm: partition tags brought to the form the pipeline emits
 * (lib/cache/tagnorm.c), and why a tag can never match a table's specs. */
#include "config.h"
#include "tests.h"

#include <stdlib.h>
#include <string.h>

#include "ice_tagnorm.h"

/* Two specs of db.events: identity(event_date), then that and day(ts). */
static const char info_text[] =
	"{\"table\":\"db.events\",\"specs\":["
	"{\"spec_id\":0,\"fields\":[{\"name\":\"event_date\",\"source\":\"event_date\",\"transform\":\"identity\"}]},"
	"{\"spec_id\":1,\"fields\":[{\"name\":\"event_date\",\"source\":\"event_date\",\"transform\":\"identity\"},"
	"{\"name\":\"ts_day\",\"source\":\"ts\",\"transform\":\"day\"}]}]}";

static void expect(const json_t *info, const char *tag, const char *want)
{
	char *got = ice_tag_canonical(tag, info), *again = got ? ice_tag_canonical(got, info) : NULL;

	tap_is_str(got ? got : "(null)", want, "%s -> %s", tag, want);
	tap_is_str(again ? again : "(null)", want, "%s: canonical form is kept as it is", want);
	free(got);
	free(again);
}

static void test_canonical(const json_t *info)
{
	expect(NULL, "partition:t:ts=2023-05-15T14:30:45", "partition:t:ts=2023-05-15T14%3A30%3A45");
	expect(NULL, "partition:t:ts=2023-05-15T14%3a30%3a45", "partition:t:ts=2023-05-15T14%3A30%3A45");
	expect(NULL, "partition:t:city=New York", "partition:t:city=New+York");
	expect(NULL, "partition:t:p=50%", "partition:t:p=50%25");
	expect(NULL, "partition:t:path=a/b", "partition:t:path=a%2Fb");
	expect(NULL, "partition:t:tz=+01:00", "partition:t:tz=%2B01%3A00");
	expect(NULL, "table:t", "table:t");
	expect(NULL, "file:t:s3://b/x y", "file:t:s3://b/x y");
	expect(NULL, "free form: x=y z", "free form: x=y z");
	expect(info, "partition:db.events:event_date=2024-01-01", "partition:db.events:event_date=2024-01-01");
	expect(info, "partition:db.events:ts=2024-01-02T10:00:00/event_date=2024-01-01",
	       "partition:db.events:event_date=2024-01-01/ts_day=2024-01-02");
	expect(info, "partition:db.events:ts_day=2024-01-02/event_date=2024-01-01",
	       "partition:db.events:event_date=2024-01-01/ts_day=2024-01-02");
}

static void expect_problem(const json_t *info, const char *tag, const char *part)
{
	int oom = 0;
	char *why = ice_tag_problem(tag, info, &oom);

	if (!part)
		tap_ok(!why && !oom, "%s: no problem (%s)", tag, why ? why : "none");
	else
		tap_ok(why && strstr(why, part), "%s: '%s' in (%s)", tag, part, why ? why : "none");
	free(why);
}

static void test_problems(const json_t *info)
{
	json_t *flat = json_loads("{\"table\":\"t\",\"specs\":[{\"spec_id\":0,\"fields\":[]}]}", 0, NULL);

	expect_problem(info, "partition:db.events:event_date=2024-01-01", NULL);
	expect_problem(info, "partition:db.events:event_dat=2024-01-01", "did you mean 'event_date'");
	expect_problem(info, "partition:db.events:region=eu", "its fields: 'event_date', 'ts_day'");
	expect_problem(info, "partition:db.events:ts_day=2024-01-01", "spec 1: event_date/ts_day");
	expect_problem(info, "table:db.events", NULL);
	expect_problem(NULL, "partition:db.events:x=1", NULL);
	expect_problem(flat, "partition:t:x=1", "not partitioned");
	expect_problem(info, "partition:db.events:event_date=1/event_date=2", "exactly the fields");
	expect(info, "partition:db.events:event_date=1/event_date=2", "partition:db.events:event_date=1/event_date=2");
	/* file tags: the manifests hold full paths, so only a relative one is
	 * wrong, whatever is known of the table */
	expect_problem(info, "file:db.events:s3://b/db/events/data/a.parquet", NULL);
	expect_problem(NULL, "file:db.events:/wh/db.db/events/data/a.parquet", NULL);
	expect_problem(NULL, "file:db.events:file:/wh/events/data/a.parquet", NULL);
	expect_problem(NULL, "file:db.events:abfss://c@acct.dfs.core.windows.net/e/a.parquet", NULL);
	expect_problem(info, "file:db.events:data/a.parquet", "file path 'data/a.parquet' is relative");
	expect_problem(NULL, "file:db.events:./a.parquet", "is relative");
	expect_problem(NULL, "file:db.events:", "file tag without a path");
	expect_problem(NULL, "file:db.events", "file tag without a path");
	expect_problem(NULL, "file:db.events:1data/a.parquet", "is relative");
	json_decref(flat);
}

void test_tagnorm(void)
{
	json_t *info = json_loads(info_text, 0, NULL);

	tap_ok(info != NULL, "the table info parses");
	test_canonical(info);
	test_problems(info);
	json_decref(info);
}
