/* ttl: parsing TTL hints (duration, until-invalidated, smart). */
#include "config.h"
#include "ice_ttl.h"
#include "ice_time.h"

#include <string.h>

int ice_ttl_parse(const char *s, bool allow_smart, ice_ttl *t, ice_err *err)
{
	ice_ttl r = { ICE_TTL_DURATION, 0 };

	if (strcmp(s, "until-invalidated") == 0) {
		r.kind = ICE_TTL_FOREVER;
	} else if (strcmp(s, "smart") == 0) {
		if (!allow_smart)
			return ice_err_set(err, ICE_EINVAL,
			                   "'smart' is a per-command hint, not a default");
		r.kind = ICE_TTL_SMART;
	} else if (ice_parse_duration(s, &r.ms, err)) {
		return ice_err_prefix(err, "want a duration, until-invalidated%s: ",
		                      allow_smart ? " or smart" : "");
	}
	*t = r;
	return ICE_OK;
}

ice_ttl ice_ttl_first(ice_ttl a, ice_ttl b, ice_ttl c)
{
	if (a.kind != ICE_TTL_UNSET)
		return a;
	return b.kind != ICE_TTL_UNSET ? b : c;
}

int64_t ice_ttl_ms(ice_ttl t)
{
	return t.kind == ICE_TTL_DURATION ? t.ms : 0;
}
