/* tests: the unit test groups run by test-lib (registered in groups[] of
 * test-lib.c), and shared helpers. */
#ifndef ICE_TESTS_H
#define ICE_TESTS_H

#include "tap.h"

void test_core(void);
void test_metadata(void);
void test_track(void);
void test_partition(void);
void test_redis(void);
void test_sqlite(void);
void test_stale(void);
void test_config(void);
void test_words(void);
void test_decode(void);
void test_records(void);
void test_readthrough(void);
void test_scrape(void);
void test_nullable(void);
void test_locate(void);
void test_slot(void);
void test_tag(void);
void test_tagnorm(void);
void test_storage(void);
void test_catalog(void);

/* A fresh temporary folder (caller frees the string; removed at exit). */
char *test_tmpdir(void);
/* Write `text` to dir/name, creating folders on the way; returns the path. */
char *test_write(const char *dir, const char *name, const char *text);

#endif
