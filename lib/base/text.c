/* text: UTF-8 recognition and visible forms of byte strings. */
#include "config.h"
#include "ice_text.h"

#include <stdlib.h>
#include <string.h>

size_t ice_utf8_len(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

bool ice_text_is_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (*p) {
		if (*p < 0x80)
			p++;
		else if ((n = ice_utf8_len(p)))
			p += n;
		else
			return false;
	}
	return true;
}

/* Bytes of s shown as they are from p on (0: escape the byte at p). */
static size_t shown_as_is(const unsigned char *p)
{
	size_t n;

	if (*p >= 0x20 && *p < 0x7f)
		return 1;
	if (*p < 0x80)
		return 0;
	n = ice_utf8_len(p);
	/* C1 controls, U+0080..U+009F: C2 80..C2 9F */
	return n == 2 && p[0] == 0xc2 && p[1] < 0xa0 ? 0 : n;
}

char *ice_text_visible(const char *s, size_t *cols)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	char *out = malloc(strlen(s) * 4 + 1), *o = out; /* "\xHH" per byte at most */
	size_t shown = 0, n;

	if (!out)
		return NULL;
	while (*p) {
		if ((n = shown_as_is(p))) {
			memcpy(o, p, n);
			o += n;
			p += n;
			shown++;
		} else if (*p == '\n') {
			memcpy(o, "\\n", 2);
			o += 2;
			p++;
			shown += 2;
		} else {
			o[0] = '\\';
			o[1] = 'x';
			o[2] = hex[*p >> 4];
			o[3] = hex[*p & 15];
			o += 4;
			p++;
			shown += 4;
		}
	}
	*o = '\0';
	if (cols)
		*cols = shown;
	return out;
}
