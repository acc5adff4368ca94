/* ice_s3xml: reading S3's XML answers: a ListObjectsV2 page and an error
 * document. Internal to the storage layer (ice_s3.c). */
#ifndef ICE_S3XML_H
#define ICE_S3XML_H

#include <stdbool.h>
#include <stddef.h>

#include "ice_error.h"
#include "ice_object.h"

typedef struct ice_s3_page {
	bool truncated;     /* IsTruncated: another page follows */
	char *next_token;   /* NextContinuationToken (caller frees); NULL: none */
	size_t keys;        /* entries appended from this page */
} ice_s3_page;

/* Append the page's objects to out (names: the keys, decoded when the
 * page says EncodingType url). A malformed page, an entry without Key or
 * with a bad Size, or a truncated page without a token is ICE_EFORMAT. */
int ice_s3_parse_list(const char *doc, size_t len, ice_listing *out, ice_s3_page *page,
                      ice_err *err);

typedef struct ice_s3_error_doc {
	char code[64];      /* "AccessDenied"; "" when the body says nothing */
	char message[200];
	char region[64];    /* of the bucket, when the store tells it */
} ice_s3_error_doc;

/* Best effort: an unreadable body leaves the fields empty. */
void ice_s3_parse_error(const char *doc, size_t len, ice_s3_error_doc *e);

#endif
