/* size: byte sizes as people write them. */
#include "config.h"
#include "ice_size.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ice_parse_size(const char *s, int64_t *bytes, ice_err *err)
{
	static const char units[] = "KMGT";
	const char *u;
	char *end;
	long long v;
	int shift = 0;

	*bytes = 0;
	if (!s || *s < '0' || *s > '9')
		goto bad;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno)
		goto bad;
	if (*end && (u = strchr(units, end[0] & ~0x20))) {
		shift = 10 * (int)(u - units + 1);
		end++;
		if (*end == 'i')
			end++;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v < 0 || v > (INT64_MAX >> shift))
		goto bad;
	*bytes = (int64_t)v << shift;
	return ICE_OK;
bad:
	return ice_err_set(err, ICE_EINVAL, "bad size '%s' (a number with K, M, G or T: 64M)", s ? s : "");
}
