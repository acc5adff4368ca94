/* ice_text: bytes that should be text (cache keys, tags, table names,
 * which may hold any byte but NUL), checked as UTF-8 and made safe to show
 * on a terminal or in a Prometheus label. Pure functions; what is
 * allocated is said. */
#ifndef ICE_TEXT_H
#define ICE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (lead byte >= 0x80), or 0: no
 * overlong forms, surrogates or code points past U+10FFFF, as jansson. s
 * is NUL-terminated (a NUL ends a sequence early: 0). */
size_t ice_utf8_len(const unsigned char *s);

/* Whether s is valid UTF-8 (what JSON text may hold). */
bool ice_text_is_utf8(const char *s);

/* s as text that shows as it reads: a newline as "\n"; every other
 * control character (below 0x20, DEL, and U+0080..U+009F, which some
 * terminals obey) and every byte that is not part of valid UTF-8 as
 * "\xHH", each byte of it; the rest as is. So no escape sequence of a
 * terminal gets through, and the result is valid UTF-8. A new string the
 * caller frees (NULL: no memory); *cols (may be NULL) the characters it
 * shows, an escape counting its length. */
char *ice_text_visible(const char *s, size_t *cols);

#endif
