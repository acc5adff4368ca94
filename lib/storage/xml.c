/* xml: a bounded walk over an XML document, one callback per element. */
#include "config.h"
#include "ice_xml.h"
#include "ice_sbuf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 16
#define MAX_NAME 64
#define MAX_TEXT (1024 * 1024)

typedef struct {
	const char *p, *end;
	char path[MAX_DEPTH * (MAX_NAME + 1) + 1];
	size_t mark[MAX_DEPTH]; /* where each level's name starts in path */
	int depth;
	ice_sbuf text;          /* of the innermost open element */
} walker;

static int bad(ice_err *err, const walker *w, const char *doc, const char *what)
{
	return ice_err_set(err, ICE_EFORMAT, "XML at byte %zu: %s", (size_t)(w->p - doc), what);
}

static const char *find(const walker *w, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *q = w->p; q + n <= w->end; q++)
		if (memcmp(q, needle, n) == 0)
			return q;
	return NULL;
}

static void put_utf8(ice_sbuf *b, unsigned long c)
{
	char u[4];

	if (c < 0x80) {
		u[0] = (char)c;
		ice_sbuf_add(b, u, 1);
	} else if (c < 0x800) {
		u[0] = (char)(0xC0 | (c >> 6));
		u[1] = (char)(0x80 | (c & 0x3F));
		ice_sbuf_add(b, u, 2);
	} else if (c < 0x10000) {
		u[0] = (char)(0xE0 | (c >> 12));
		u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		u[2] = (char)(0x80 | (c & 0x3F));
		ice_sbuf_add(b, u, 3);
	} else {
		u[0] = (char)(0xF0 | (c >> 18));
		u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
		u[3] = (char)(0x80 | (c & 0x3F));
		ice_sbuf_add(b, u, 4);
	}
}

/* "&amp;" and friends, "&#65;", "&#x41;"; w->p is at the '&'. */
static bool entity(walker *w)
{
	static const struct { const char *name; char c; } named[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' }, { "apos;", '\'' },
	};
	const char *s = w->p + 1;
	unsigned long c = 0;

	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
		size_t n = strlen(named[i].name);
		if ((size_t)(w->end - s) >= n && memcmp(s, named[i].name, n) == 0) {
			ice_sbuf_putc(&w->text, named[i].c);
			w->p = s + n;
			return true;
		}
	}
	if (s < w->end && *s == '#') {
		bool hex = s + 1 < w->end && s[1] == 'x';
		const char *d = s + (hex ? 2 : 1), *q = d;

		for (; q < w->end && *q != ';' && q - d < 8; q++) {
			int v = *q >= '0' && *q <= '9' ? *q - '0'
			      : hex && *q >= 'a' && *q <= 'f' ? *q - 'a' + 10
			      : hex && *q >= 'A' && *q <= 'F' ? *q - 'A' + 10 : -1;
			if (v < 0)
				return false;
			c = c * (hex ? 16 : 10) + (unsigned long)v;
		}
		if (q == d || q >= w->end || *q != ';' || c == 0 || c > 0x10FFFF)
			return false;
		put_utf8(&w->text, c);
		w->p = q + 1;
		return true;
	}
	return false;
}

static int open_tag(walker *w, const char *doc, ice_err *err)
{
	const char *name = ++w->p, *gt;
	size_t n, at;
	bool empty;

	while (w->p < w->end && !strchr(" \t\r\n/>", *w->p))
		w->p++;
	n = (size_t)(w->p - name);
	if (!(gt = find(w, ">")))
		return bad(err, w, doc, "unclosed tag");
	empty = gt[-1] == '/';
	if (n == 0 || n > MAX_NAME)
		return bad(err, w, doc, "bad element name");
	if (w->depth == MAX_DEPTH)
		return bad(err, w, doc, "nested too deep");
	at = strlen(w->path);
	w->mark[w->depth++] = at;
	if (at)
		w->path[at++] = '/';
	memcpy(w->path + at, name, n);
	w->path[at + n] = '\0';
	ice_sbuf_free(&w->text);
	w->p = gt + 1;
	return empty ? 1 : 0; /* 1: closes at once */
}

static int close_element(walker *w, ice_xml_fn fn, void *ctx, ice_err *err)
{
	int rc = fn(ctx, w->path, w->text.s ? w->text.s : "", w->text.len, err);

	ice_sbuf_free(&w->text);
	w->path[w->mark[--w->depth]] = '\0';
	return rc;
}

static int close_tag(walker *w, const char *doc, ice_xml_fn fn, void *ctx, ice_err *err)
{
	const char *name = w->p + 2, *gt = find(w, ">"), *own;
	size_t n;

	if (!gt)
		return bad(err, w, doc, "unclosed end tag");
	n = (size_t)(gt - name);
	while (n && strchr(" \t\r\n", name[n - 1]))
		n--;
	if (!w->depth)
		return bad(err, w, doc, "end tag without start tag");
	own = w->path + w->mark[w->depth - 1] + (w->mark[w->depth - 1] ? 1 : 0);
	if (strlen(own) != n || memcmp(own, name, n) != 0)
		return bad(err, w, doc, "end tag does not match");
	w->p = gt + 1;
	return close_element(w, fn, ctx, err);
}

/* "<?...?>", "<!--...-->", "<!DOCTYPE ...>", "<![CDATA[...]]>". */
static int skip_special(walker *w, const char *doc)
{
	static const struct { const char *open, *close; } kinds[] = {
		{ "<?", "?>" }, { "<!--", "-->" }, { "<![CDATA[", "]]>" }, { "<!", ">" },
	};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		size_t n = strlen(kinds[i].open);
		const char *end;

		if ((size_t)(w->end - w->p) < n || memcmp(w->p, kinds[i].open, n) != 0)
			continue;
		w->p += n;
		if (!(end = find(w, kinds[i].close)))
			return -1;
		if (i == 2 && w->depth)
			ice_sbuf_add(&w->text, w->p, (size_t)(end - w->p));
		w->p = end + strlen(kinds[i].close);
		return 1;
	}
	(void)doc;
	return 0;
}

int ice_xml_walk(const char *doc, size_t len, ice_xml_fn fn, void *ctx, ice_err *err)
{
	walker w;
	int rc = ICE_OK, r;

	memset(&w, 0, sizeof w);
	w.p = doc;
	w.end = doc + len;
	while (!rc && w.p < w.end) {
		if (*w.p == '<') {
			if ((r = skip_special(&w, doc)) < 0)
				rc = bad(err, &w, doc, "unclosed comment, CDATA or declaration");
			else if (r > 0)
				continue;
			else if (w.p + 1 < w.end && w.p[1] == '/')
				rc = close_tag(&w, doc, fn, ctx, err);
			else if ((r = open_tag(&w, doc, err)) == 1)
				rc = close_element(&w, fn, ctx, err);
			else
				rc = r;
		} else if (*w.p == '&' && w.depth) {
			if (!entity(&w))
				rc = bad(err, &w, doc, "bad entity or character reference");
		} else {
			if (w.depth)
				ice_sbuf_putc(&w.text, *w.p);
			w.p++;
		}
		if (!rc && w.text.oom)
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		if (!rc && w.text.len > MAX_TEXT)
			rc = bad(err, &w, doc, "text longer than 1 MiB");
	}
	if (!rc && w.depth)
		rc = bad(err, &w, doc, "document ends inside an element");
	ice_sbuf_free(&w.text);
	return rc;
}
