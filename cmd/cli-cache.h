/* cli-cache: the cache a program opens, by one precedence for every
 * program: flag > environment > configuration file > embedded default. */
#ifndef ICE_CLI_CACHE_H
#define ICE_CLI_CACHE_H

struct ice_backend;
struct ice_backend_opts;

/* Open the cache. Each setting comes from the first of: the flag (url,
 * prefix: NULL when not given), the environment (ICE_CACHE_URL,
 * ICE_CACHE_PREFIX; empty means unset), the configuration file (url,
 * prefix, connect_timeout, command_timeout), the built-in default: for
 * the URL the embedded store (ice_backend_default_url: a SQLite file
 * under $XDG_CACHE_HOME or ~/.cache). Returns -1 when *out is open, else
 * the exit status after reporting why (bad configuration: usage error;
 * backend error). */
int ice_cli_open_cache(const char *url, const char *prefix, struct ice_backend **out);

/* The cache a program would open, by the same precedence as
 * ice_cli_open_cache (flag, environment, configuration file, embedded
 * default), without opening it: *url_out (malloc'd) and the options in *bo
 * (bo->prefix: the flag's on entry, the one to use on return; timeouts and
 * reconnect budget filled; strings borrowed from argv, the environment and
 * the loaded configuration). Returns -1, else the exit status after
 * reporting why. */
int ice_cli_cache_target(const char *url, struct ice_backend_opts *bo, char **url_out);

/* The same with all the backend options (prefix, max_bytes...). */
int ice_cli_open_cache_opts(const char *url, struct ice_backend_opts *bo, struct ice_backend **out);

#endif
