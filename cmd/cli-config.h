/* cli-config: the configuration file, read once per run, and the
 * environment convention of every setting (unset and empty mean the same:
 * "VAR= cmd" switches a setting off). */
#ifndef ICE_CLI_CONFIG_H
#define ICE_CLI_CONFIG_H

struct ice_config;

/* The configuration file, read once per run: $ICE_CONFIG (must exist),
 * else $XDG_CONFIG_HOME/icecache/config, else ~/.config/icecache/config
 * (absent: built-in defaults). Returns -1 with *out set (never NULL), else
 * ICE_EXIT_USAGE after reporting "FILE:LINE: ..." for a bad file. */
int ice_cli_config(const struct ice_config **out);

/* The configuration file's path, for messages. */
const char *ice_cli_config_path(void);

/* getenv(name), with an empty value read as unset. */
const char *ice_cli_env(const char *name);

#endif
