/* slot: the Redis Cluster hash slot of a key (CRC16 and hash tags). */
#include "config.h"
#include "ice_slot.h"

#include <string.h>

uint16_t ice_crc16(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint16_t crc = 0;

	/* Bitwise: keys are short, and a table buys nothing measurable next to
	 * a network round trip. */
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(s[i] << 8);
		for (int bit = 0; bit < 8; bit++)
			crc = crc & 0x8000 ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

int ice_slot(const void *key, size_t n)
{
	const char *k = key;
	const char *open = n ? memchr(k, '{', n) : NULL;
	const char *close;

	if (open) {
		size_t rest = n - (size_t)(open - k) - 1;
		close = rest ? memchr(open + 1, '}', rest) : NULL;
		/* "{}" is no tag: the whole key is hashed. */
		if (close && close > open + 1)
			return ice_crc16(open + 1, (size_t)(close - open - 1)) & (ICE_SLOTS - 1);
	}
	return ice_crc16(k, n) & (ICE_SLOTS - 1);
}
