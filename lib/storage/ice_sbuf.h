/* ice_sbuf: a growable byte string for building requests and URLs.
 *
 * Appends never fail loudly: an allocation failure sets `oom` and later
 * appends do nothing, so a builder checks once at the end. The bytes are
 * always NUL-terminated once anything was appended. The buffer owns `s`;
 * ice_sbuf_take() hands it to the caller, ice_sbuf_free() releases it. */
#ifndef ICE_SBUF_H
#define ICE_SBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ice_sbuf {
	char *s;
	size_t len, cap;
	bool oom;
} ice_sbuf;

#define ICE_SBUF_INIT { NULL, 0, 0, false }

void ice_sbuf_add(ice_sbuf *b, const void *p, size_t n);
void ice_sbuf_puts(ice_sbuf *b, const char *s);
void ice_sbuf_putc(ice_sbuf *b, char c);
void ice_sbuf_printf(ice_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s percent-encoded (RFC 3986): unreserved characters kept, every other
 * byte %XX in upper case; '/' kept when keep_slash. */
void ice_sbuf_pct(ice_sbuf *b, const char *s, bool keep_slash);
/* The string (malloc'd, "" when empty, caller frees), or NULL after an
 * allocation failure; the buffer is empty afterwards either way. */
char *ice_sbuf_take(ice_sbuf *b);
void ice_sbuf_free(ice_sbuf *b);

#endif
