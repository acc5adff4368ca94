/* ice-mktable: small utilities (errors, PRNG and uuids, CRC-32, base64,
 * URL escaping, civil dates, JSON string output, atomic file writes). */
#include "mktable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void mk_err(const char *fmt, ...)
{
	va_list ap;

	fputs("ice-mktable: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void oom(void)
{
	mk_err("out of memory");
	exit(1);
}

char *mk_strdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		oom();
	return d;
}

char *mk_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		oom();
	return s;
}

/* splitmix64 */
uint64_t mk_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void mk_uuid(uint64_t *state, char out[37])
{
	unsigned char b[16];
	uint64_t hi = mk_rand(state), lo = mk_rand(state);

	for (int i = 0; i < 8; i++) {
		b[i] = (unsigned char)(hi >> (56 - 8 * i));
		b[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

uint64_t mk_time_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) ^
	       ((uint64_t)getpid() << 32);
}

int64_t mk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint32_t mk_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
	static uint32_t table[256];
	static bool ready;

	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = (c & 1) ? 0xedb88320U ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
		ready = true;
	}
	crc = ~crc;
	while (n--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t mk_base64_enc(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

int mk_base64_dec(const char *in, unsigned char *out, size_t cap, size_t *n)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (; *in && *in != '='; in++) {
		const char *p = strchr(b64, *in);
		if (!p)
			return -1;
		acc = (acc << 6) | (uint32_t)(p - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	*n = o;
	return 0;
}

/* java.net.URLEncoder semantics, as Iceberg uses for partition paths */
void mk_url_escape(const char *in, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < n && o + 4 < cap; i++) {
		unsigned char c = (unsigned char)in[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '*' || c == '_') {
			out[o++] = (char)c;
		} else if (c == ' ') {
			out[o++] = '+';
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mk_url_unescape(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	for (; *in; in++) {
		char c = *in;
		if (c == '%' && hexval(in[1]) >= 0 && hexval(in[2]) >= 0) {
			c = (char)(hexval(in[1]) * 16 + hexval(in[2]));
			in += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return (int)o;
}

int64_t mk_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* proleptic Gregorian calendar <-> days since 1970-01-01 */
int64_t mk_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = mk_floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void mk_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = mk_floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

void mk_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int mk_read_file(const char *path, unsigned char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = NULL;
	long sz;
	int rc = -1;

	if (!f) {
		mk_err("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		mk_err("cannot seek %s: %s", path, strerror(errno));
		goto out;
	}
	b = malloc((size_t)sz + 1);
	if (!b)
		oom();
	if (fread(b, 1, (size_t)sz, f) != (size_t)sz) {
		mk_err("cannot read %s", path);
		goto out;
	}
	b[sz] = 0;
	*buf = b;
	*len = (size_t)sz;
	b = NULL;
	rc = 0;
out:
	free(b);
	fclose(f);
	return rc;
}

/* Write dir/name atomically: a temporary file (not named *.metadata.json)
 * in the same directory, fsync, rename, fsync the directory. */
int mk_write_atomic(const char *dir, const char *name, const void *buf, size_t len)
{
	char *tmp = mk_printf("%s/.%s.%ld.tmp", dir, name, (long)getpid());
	char *dst = mk_printf("%s/%s", dir, name);
	int fd = -1, rc = -1;
	const char *p = buf;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		mk_err("cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			mk_err("cannot write %s: %s", tmp, strerror(errno));
			goto out;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		mk_err("cannot sync %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, dst) != 0) {
		mk_err("cannot rename %s to %s: %s", tmp, dst, strerror(errno));
		goto out;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
		fd = -1;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	free(dst);
	return rc;
}

bool mk_file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int64_t mk_parse_i64(const char *s, bool *ok)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	*ok = (s[0] != '\0' && *end == '\0' && errno == 0);
	return (int64_t)v;
}
