/* cli-config: the configuration file every program reads once per run, and
 * the environment convention shared by its settings. */
#include "config.h"
#include "cli.h"
#include "cli-config.h"
#include "ice_config.h"
#include "ice_xdg.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ice_config config;
static char *config_path;
static bool config_loaded;

/* Unset and empty mean the same: "VAR= cmd" switches a setting off. */
const char *ice_cli_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* $ICE_CONFIG, else $XDG_CONFIG_HOME/icecache/config, else
 * ~/.config/icecache/config; *explicit when named by $ICE_CONFIG. */
static char *find_config_path(bool *explicit)
{
	const char *p;
	char *path = NULL;
	ice_err err;

	*explicit = false;
	if ((p = ice_cli_env("ICE_CONFIG"))) {
		*explicit = true;
		return strdup(p);
	}
	ice_xdg_path(ICE_XDG_CONFIG, "icecache/config", &path, &err);
	return path;
}

static void free_config(void)
{
	ice_config_clear(&config);
	free(config_path);
}

int ice_cli_config(const ice_config **out)
{
	ice_err err = { 0 };
	bool explicit;
	int rc;

	*out = &config;
	if (config_loaded)
		return -1;
	config_loaded = true;
	atexit(free_config);
	ice_config_init(&config);
	if (!(config_path = find_config_path(&explicit)))
		return -1; /* no home: built-in defaults */
	rc = ice_config_load(config_path, &config, &err);
	if (rc == ICE_ENOENT && !explicit)
		return -1;
	if (rc) {
		ice_cli_error("%s", err.msg);
		return ICE_EXIT_USAGE;
	}
	return -1;
}

const char *ice_cli_config_path(void)
{
	return config_path ? config_path : "~/.config/icecache/config";
}
