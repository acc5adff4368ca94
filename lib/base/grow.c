/* grow: capacity doubling for growing arrays, with overflow checks. */
#include "config.h"
#include "ice_grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int ice_grow(void *items, size_t *cap, size_t need, size_t size)
{
	void *old, *grown;
	size_t room = *cap ? *cap : 16;

	if (need <= *cap)
		return 0;
	while (room < need) {
		if (room > SIZE_MAX / 2)
			return -1;
		room *= 2;
	}
	if (size && room > SIZE_MAX / size)
		return -1;
	memcpy(&old, items, sizeof old);
	if (!(grown = realloc(old, room * size)))
		return -1;
	memcpy(items, &grown, sizeof grown);
	*cap = room;
	return 0;
}
