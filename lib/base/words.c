/* words: shell-like splitting of a command line (rules in ice_words.h). */
#include "config.h"
#include "ice_words.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SPECIAL " \t\n\r'\"\\$#`"

typedef struct buf {
	char *p;
	size_t n, cap;
	bool oom;
} buf;

static void put(buf *b, char c)
{
	char *q;

	if (b->oom)
		return;
	if (b->n + 1 >= b->cap) {
		b->cap = b->cap ? b->cap * 2 : 32;
		if (!(q = realloc(b->p, b->cap))) {
			b->oom = true;
			return;
		}
		b->p = q;
	}
	b->p[b->n++] = c;
	b->p[b->n] = '\0';
}

/* One escape of $'...' after its backslash at *s; advances *s. -1: \x00. */
static int ansi_escape(const char **s)
{
	static const char from[] = "ntreabfv\\'\"", to[] = "\n\t\r\033\a\b\f\v\\'\"";
	const char *p = *s, *hit = *p ? strchr(from, *p) : NULL;
	size_t n = *p == 'x' ? strspn(p + 1, "0123456789abcdefABCDEF") : 0;
	char digits[3] = { 0 };
	long v;

	if (hit) {
		*s = p + 1;
		return (unsigned char)to[hit - from];
	}
	if (n) {
		memcpy(digits, p + 1, n > 2 ? 2 : n);
		v = strtol(digits, NULL, 16);
		*s = p + 1 + strlen(digits);
		return v ? (int)v : -1;
	}
	/* unknown escape: kept as written, like bash */
	return '\\';
}

/* Read one word starting at *s (not a blank) into w; *s moves past it.
 * Returns NULL or the error text. */
static const char *word(const char **s, buf *w)
{
	const char *p = *s;
	int c;

	while (*p && !strchr(" \t\n", *p)) {
		if (*p == '\'') {
			for (p++; *p && *p != '\''; p++)
				put(w, *p);
			if (!*p)
				return "unterminated ' quote";
			p++;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1] && strchr("\\\"$`", p[1]))
					p++;
				put(w, *p);
			}
			if (!*p)
				return "unterminated \" quote";
			p++;
		} else if (p[0] == '$' && p[1] == '\'') {
			for (p += 2; *p && *p != '\''; ) {
				if (*p != '\\') {
					put(w, *p++);
					continue;
				}
				p++;
				if ((c = ansi_escape(&p)) < 0)
					return "\\x00: a NUL byte cannot be part of a word";
				put(w, (char)c);
			}
			if (!*p)
				return "unterminated $' quote";
			p++;
		} else if (*p == '\\') {
			if (!p[1])
				return "a backslash at the end of the line";
			put(w, p[1]);
			p += 2;
		} else {
			put(w, *p++);
		}
	}
	*s = p;
	return NULL;
}

void ice_words_free(char **words)
{
	if (!words)
		return;
	for (size_t i = 0; words[i]; i++)
		free(words[i]);
	free(words);
}

int ice_words_split(const char *line, char ***words, size_t *n, ice_err *err)
{
	const char *p = line, *why;
	char **v = NULL, **q;
	size_t count = 0;
	int rc = ICE_OK;

	*words = NULL;
	*n = 0;
	if (!(v = calloc(1, sizeof *v)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (;;) {
		buf w = { 0 };
		p += strspn(p, " \t\n");
		if (!*p || *p == '#')
			break;
		put(&w, '\0'); /* an empty word ('') is still a word */
		w.n = 0;
		if ((why = word(&p, &w))) {
			free(w.p);
			rc = ice_err_set(err, ICE_EINVAL, "column %zu: %s", (size_t)(p - line) + 1, why);
			goto out;
		}
		if (w.oom || !(q = realloc(v, (count + 2) * sizeof *v))) {
			free(w.p);
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
			goto out;
		}
		v = q;
		v[count++] = w.p;
		v[count] = NULL;
	}
out:
	if (rc) {
		ice_words_free(v);
		return rc;
	}
	*words = v;
	*n = count;
	return ICE_OK;
}

char *ice_words_escape(const char *s)
{
	char *out = malloc(strlen(s) * 2 + 1), *o = out;

	for (; out && *s; s++) {
		if (strchr(SPECIAL, *s) || (unsigned char)*s < 0x20 || *s == 0x7f)
			*o++ = '\\';
		*o++ = *s;
	}
	if (out)
		*o = '\0';
	return out;
}

char *ice_glob_literal(const char *s)
{
	char *p = malloc(strlen(s) * 2 + 1), *q = p;

	for (; p && *s; s++) {
		if (strchr("*?[]\\", *s))
			*q++ = '\\';
		*q++ = *s;
	}
	if (p)
		*q = '\0';
	return p;
}
