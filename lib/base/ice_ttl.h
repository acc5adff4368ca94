/* ice_ttl: TTL hints, what a user asks about an entry's lifetime.
 *
 * A hint is a duration ("30s", "5m", "2h", "1d"), "until-invalidated" (no
 * TTL: the entry goes only when invalidated or removed) or "smart" (a
 * default chosen per origin by the caller: files until changed, URLs from
 * their Cache-Control/Expires, commands the configured exec_ttl). Plain
 * values, nothing to free. */
#ifndef ICE_TTL_H
#define ICE_TTL_H

#include <stdbool.h>
#include <stdint.h>

#include "ice_error.h"

typedef enum {
	ICE_TTL_UNSET = 0, /* not given: the caller's default applies */
	ICE_TTL_DURATION,  /* ms */
	ICE_TTL_FOREVER,   /* until-invalidated */
	ICE_TTL_SMART
} ice_ttl_kind;

typedef struct {
	ice_ttl_kind kind;
	int64_t ms; /* ICE_TTL_DURATION only */
} ice_ttl;

/* Parse a hint; allow_smart false refuses "smart" (config values). */
int ice_ttl_parse(const char *s, bool allow_smart, ice_ttl *t, ice_err *err);

/* The first hint of the three that is set (UNSET when none), for "flag,
 * else config, else built-in" chains. */
ice_ttl ice_ttl_first(ice_ttl a, ice_ttl b, ice_ttl c);

/* The backend's ttl_ms for a resolved hint: the duration, 0 (no TTL) for
 * until-invalidated, and for UNSET/SMART, which callers resolve first. */
int64_t ice_ttl_ms(ice_ttl t);

#endif
