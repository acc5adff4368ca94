/* cache-cmd: the shape of ice-cache's subcommand and option tables.
 *
 * ice-cache.c fills one table of subcommands and one of options; its usage
 * text, its dispatch and the shell's command list and completion
 * (cache-shell.c) all read them, so a subcommand is added in one place. */
#ifndef ICE_CACHE_CMD_H
#define ICE_CACHE_CMD_H

#include <getopt.h>

#include "ice_backend.h"

/* Groups of options beyond the common ones (--url, --prefix, --max-size,
 * --help, --version): an option belongs to groups, a subcommand takes
 * groups. */
enum {
	ICE_OPTS_TTL = 1u << 0,    /* --ttl */
	ICE_OPTS_VALUE = 1u << 1,  /* --value */
	ICE_OPTS_TAGS = 1u << 2,   /* the tags: --table --partition --file --snapshot --tag */
	ICE_OPTS_FILTER = 1u << 3, /* the filters: --table --tag */
	ICE_OPTS_EXEC = 1u << 4,   /* --key-from-args --source --lock-timeout */
	ICE_OPTS_FETCH = 1u << 5,  /* -o -H --key-header -X --data --timeout --max-redirs */
	ICE_OPTS_IMPORT = 1u << 6  /* --dry-run */
};

/* What a subcommand needs around it. */
enum {
	ICE_CMD_OWN_CACHE = 1u << 0, /* opens the cache (or caches) itself */
	ICE_CMD_FILE_ARG = 1u << 1,  /* its argument is a file name */
	ICE_CMD_TOP_ONLY = 1u << 2   /* not inside the shell (the shell itself) */
};

/* The parsed command line; private to ice-cache.c. */
struct ice_cache_options;

/* A subcommand: *b is the open cache (NULL for ICE_CMD_OWN_CACHE; the
 * shell may replace it), argv[0..argc) its arguments. Returns the exit
 * status; prints its diagnostics. */
typedef int ice_cache_handler(ice_backend **b, const struct ice_cache_options *o, int argc,
                              char **argv);

typedef struct ice_cache_cmd {
	const char *name;
	ice_cache_handler *run;
	unsigned flags;       /* ICE_CMD_* */
	unsigned options;     /* ICE_OPTS_*: the groups of options it takes */
	const char *synopsis; /* its arguments for the usage text; "\n" between alternatives */
	const char *summary;  /* one line for the usage text */
} ice_cache_cmd;

typedef struct ice_cache_option {
	const char *name; /* the long name, without "--" */
	int has_arg;      /* getopt's no_argument, required_argument */
	int val;          /* the short letter, else a code above 255 */
	unsigned groups;  /* ICE_OPTS_*: the subcommands taking it; 0: every one */
} ice_cache_option;

#endif
