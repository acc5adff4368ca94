/* xdg: per-user configuration, cache and state paths (XDG rules). */
#include "config.h"
#include "ice_xdg.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static const struct {
	const char *var, *home_default;
} xdg_dirs[] = {
	[ICE_XDG_CONFIG] = { "XDG_CONFIG_HOME", ".config" },
	[ICE_XDG_CACHE] = { "XDG_CACHE_HOME", ".cache" },
	[ICE_XDG_STATE] = { "XDG_STATE_HOME", ".local/state" },
};

static bool is_absolute(const char *s)
{
	return s && s[0] == '/';
}

int ice_xdg_path(ice_xdg_kind kind, const char *rel, char **out, ice_err *err)
{
	const char *var = xdg_dirs[kind].var;
	const char *dir = getenv(var), *home = getenv("HOME");
	int n;

	*out = NULL;
	if (is_absolute(dir))
		n = asprintf(out, "%s/%s", dir, rel);
	else if (is_absolute(home))
		n = asprintf(out, "%s/%s/%s", home, xdg_dirs[kind].home_default, rel);
	else
		return ice_err_set(err, ICE_ENOENT, "neither %s nor HOME is set to an absolute path", var);
	if (n < 0) {
		*out = NULL;
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	return ICE_OK;
}
