/* cli-storage: the storage settings of every program that reads objects
 * (tables in object storage, ice-cache fetch s3://): the flags, the
 * environment and the configuration file, in that order, made into
 * ice_storage_opts. */
#ifndef ICE_CLI_STORAGE_H
#define ICE_CLI_STORAGE_H

#include <stdbool.h>

#include "ice_storage.h"

/* getopt values of the storage flags (above any program's own). */
enum {
	ICE_CLI_OPT_ENDPOINT_URL = 0x4000,
	ICE_CLI_OPT_PROFILE,
	ICE_CLI_OPT_NO_SIGN_REQUEST,
	ICE_CLI_OPT_NO_OBJECT_CACHE
};

/* Entries for a struct option table. */
#define ICE_CLI_STORAGE_LONG_OPTIONS                                                   \
	{ "endpoint-url", required_argument, NULL, ICE_CLI_OPT_ENDPOINT_URL },         \
	{ "profile", required_argument, NULL, ICE_CLI_OPT_PROFILE },                   \
	{ "no-sign-request", no_argument, NULL, ICE_CLI_OPT_NO_SIGN_REQUEST },         \
	{ "no-object-cache", no_argument, NULL, ICE_CLI_OPT_NO_OBJECT_CACHE }

/* Their lines in --help. */
#define ICE_CLI_STORAGE_HELP                                                                \
	"      --endpoint-url URL an S3-compatible store (default: $AWS_ENDPOINT_URL_S3,\n"  \
	"                         $AWS_ENDPOINT_URL, s3_endpoint_url, else AWS)\n"            \
	"      --profile NAME     the AWS profile of the S3 keys (default: the keys in\n"      \
	"                         the environment, $AWS_PROFILE, s3_profile, default)\n"      \
	"      --no-sign-request  S3 requests unsigned (public buckets)\n"                   \
	"      --no-object-cache  read metadata and manifests from the store every time\n"

typedef struct ice_cli_storage_flags {
	const char *endpoint_url, *profile; /* NULL: not given */
	bool anonymous, no_object_cache;
} ice_cli_storage_flags;

/* Take getopt's c (with optarg) when it is one of the storage flags:
 * true then, false when it is not one of them. */
bool ice_cli_storage_option(int c, const char *arg, ice_cli_storage_flags *f);

/* The settings: each from the flag, else the environment (the AWS
 * variables read by ice_awsconf.h, AWS_MAX_ATTEMPTS, ICE_OBJECT_CACHE,
 * ICE_OBJECT_CACHE_SIZE), else the configuration file (icecache-config(5)),
 * else the built-in default. f may be NULL (no flags). Strings in *o are
 * borrowed from f, the environment and the configuration, which outlive
 * the run. Returns -1 to go on, else the exit status after reporting a bad
 * value (ICE_EXIT_USAGE) or configuration file. */
int ice_cli_storage_opts(const ice_cli_storage_flags *f, ice_storage_opts *o);

/* With --verbose or --stats: one line on stderr of what st did, as
 * key=value fields (requests, retries, 304s, bytes, the object cache's
 * hits and misses, requests by kind, where the S3 credentials came from;
 * never a secret), then "; " and extra when not NULL. st NULL: nothing
 * was read from storage (zeros). */
void ice_cli_storage_summary(const ice_storage *st, const char *extra);
/* The same over several handles (the program's and those opened with a
 * catalog's vended keys): counters added up, the credentials of the last
 * handle that used any. */
void ice_cli_storage_summary_all(const ice_storage *const *st, size_t n, const char *extra);

/* ice_storage_open with those settings: -1 to go on, else the exit status
 * after reporting. */
int ice_cli_storage_open(const ice_cli_storage_flags *f, ice_storage **st);

#endif
