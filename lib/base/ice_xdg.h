/* ice_xdg: where per-user files live, by the XDG Base Directory rules.
 *
 * A folder comes from its XDG_*_HOME variable when that is set to an
 * absolute path (a relative one is invalid and ignored, as the spec says),
 * else from $HOME (absolute) and the spec's default below it. */
#ifndef ICE_XDG_H
#define ICE_XDG_H

#include "ice_error.h"

typedef enum {
	ICE_XDG_CONFIG, /* $XDG_CONFIG_HOME, else ~/.config */
	ICE_XDG_CACHE,  /* $XDG_CACHE_HOME, else ~/.cache */
	ICE_XDG_STATE   /* $XDG_STATE_HOME, else ~/.local/state */
} ice_xdg_kind;

/* *out = FOLDER/rel (malloc'd, owned by the caller), e.g. rel
 * "icecache/cache.db". ICE_ENOENT when neither variable gives a folder
 * (the message names both), ICE_ENOMEM. */
int ice_xdg_path(ice_xdg_kind kind, const char *rel, char **out, ice_err *err);

#endif
