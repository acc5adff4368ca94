/* derive: cache keys from commands, URLs and files (SHA-256 via libcrypto). */
#include "config.h"
#include "ice_derive.h"
#include "ice_fileio.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bumped when what goes into a digest changes, so old keys are not reused. */
#define DERIVE_VERSION "icecache-derive-1"

static int digest_begin(EVP_MD_CTX **ctx, ice_err *err)
{
	*ctx = EVP_MD_CTX_new();
	if (!*ctx || EVP_DigestInit_ex(*ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(*ctx);
		*ctx = NULL;
		return ice_err_set(err, ICE_ENOMEM, "SHA-256: cannot start a digest");
	}
	return ICE_OK;
}

/* A field is its length (8 bytes, little-endian) then its bytes. */
static void digest_field(EVP_MD_CTX *ctx, const void *p, size_t n)
{
	unsigned char len[8];

	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)n >> (8 * i));
	EVP_DigestUpdate(ctx, len, sizeof len);
	if (n)
		EVP_DigestUpdate(ctx, p, n);
}

static void digest_str(EVP_MD_CTX *ctx, const char *s)
{
	digest_field(ctx, s, strlen(s));
}

/* Finish into hex and free the context. */
static int digest_end(EVP_MD_CTX *ctx, char out[ICE_DERIVE_HEX + 1], ice_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int ok = EVP_DigestFinal_ex(ctx, md, &n) == 1 && n * 2 >= ICE_DERIVE_HEX;

	EVP_MD_CTX_free(ctx);
	if (!ok)
		return ice_err_set(err, ICE_EINVAL, "SHA-256: digest failed");
	for (unsigned int i = 0; i < ICE_DERIVE_HEX / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return ICE_OK;
}

int ice_derive_digest(const void *const *fields, const size_t *lens, size_t n,
                      char out[ICE_DERIVE_HEX + 1], ice_err *err)
{
	EVP_MD_CTX *ctx;
	int rc;

	if ((rc = digest_begin(&ctx, err)))
		return rc;
	for (size_t i = 0; i < n; i++)
		digest_field(ctx, fields[i], lens[i]);
	return digest_end(ctx, out, err);
}

/* A source file's path, size and mtime into the digest. */
static int digest_source(EVP_MD_CTX *ctx, const char *path, ice_err *err)
{
	char abs[PATH_MAX], id_text[64];
	ice_file_id id;
	int rc;

	if (!realpath(path, abs))
		return ice_err_set(err, errno == ENOENT ? ICE_ENOENT : ICE_EIO, "source %s: %s", path,
		                   strerror(errno));
	if ((rc = ice_file_id_of(abs, &id, err)))
		return rc;
	if (!id.exists)
		return ice_err_set(err, ICE_ENOENT, "source %s: vanished", path);
	snprintf(id_text, sizeof id_text, "%llu %lld", (unsigned long long)id.size,
	         (long long)id.mtime_ns);
	digest_str(ctx, abs);
	digest_str(ctx, id_text);
	return ICE_OK;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

int ice_derive_exec_key(const char *const *argv, size_t argc, const char *const *sources,
                        size_t n_sources, char **key, ice_err *err)
{
	EVP_MD_CTX *ctx = NULL;
	char hex[ICE_DERIVE_HEX + 1], counts[64];
	int rc;

	*key = NULL;
	if (argc == 0)
		return ice_err_set(err, ICE_EINVAL, "no command to derive a key from");
	if ((rc = digest_begin(&ctx, err)))
		return rc;
	snprintf(counts, sizeof counts, "exec %zu %zu", argc, n_sources);
	digest_str(ctx, DERIVE_VERSION);
	digest_str(ctx, counts);
	for (size_t i = 0; i < argc; i++)
		digest_str(ctx, argv[i]);
	for (size_t i = 0; i < n_sources; i++)
		if ((rc = digest_source(ctx, sources[i], err))) {
			EVP_MD_CTX_free(ctx);
			return rc;
		}
	if ((rc = digest_end(ctx, hex, err)))
		return rc;
	if (asprintf(key, "exec:%s:%s", base_name(argv[0]), hex) < 0) {
		*key = NULL;
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	return ICE_OK;
}

int ice_derive_url_key(const char *method, const char *url, const char *const *headers,
                       size_t n_headers, const void *body, size_t body_len, char **key,
                       ice_err *err)
{
	EVP_MD_CTX *ctx = NULL;
	char hex[ICE_DERIVE_HEX + 1] = "", counts[64];
	int rc, n;

	*key = NULL;
	if (n_headers || body) {
		if ((rc = digest_begin(&ctx, err)))
			return rc;
		snprintf(counts, sizeof counts, "url %zu %d", n_headers, body != NULL);
		digest_str(ctx, DERIVE_VERSION);
		digest_str(ctx, counts);
		for (size_t i = 0; i < n_headers; i++)
			digest_str(ctx, headers[i]);
		if (body)
			digest_field(ctx, body, body_len);
		if ((rc = digest_end(ctx, hex, err)))
			return rc;
	}
	n = asprintf(key, "fetch:%s %s%s%s", method, url, *hex ? " #" : "", hex);
	if (n < 0) {
		*key = NULL;
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	return ICE_OK;
}

int ice_derive_file_key(const char *path, char **abs_path, char **key, ice_err *err)
{
	char abs[PATH_MAX];

	*abs_path = *key = NULL;
	if (!realpath(path, abs))
		return ice_err_set(err, errno == ENOENT || errno == ENOTDIR ? ICE_ENOENT : ICE_EIO,
		                   "%s: %s", path, strerror(errno));
	if (!(*abs_path = strdup(abs)) || asprintf(key, "fetch:file:%s", abs) < 0) {
		free(*abs_path);
		*abs_path = *key = NULL;
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	return ICE_OK;
}
