/* ice_catauth: the bearer token of catalog requests (internal to
 * catalog.c): a static token, or OAuth2 client credentials exchanged at
 * the token endpoint (grant_type=client_credentials, with a scope) and
 * exchanged again shortly before the token expires, or when the catalog
 * answers 401 or 419.
 *
 * The secret and the tokens are never put in a message: a message that
 * would hold one (a server echoing it) has it replaced by "***". */
#ifndef ICE_CATAUTH_H
#define ICE_CATAUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "ice_cathttp.h"
#include "ice_error.h"

typedef struct ice_catauth {
	char *client_id, *client_secret; /* NULL: no OAuth2 */
	char *token_uri;
	char *scope;
	char *token;              /* the current token, static or obtained; NULL: none */
	char *header;             /* "Authorization: Bearer TOKEN" */
	int64_t expires_at_ms;    /* monotonic; -1: does not expire (as far as we know) */
} ice_catauth;

/* credential: "client_id:client_secret" (or a bare secret: no client id),
 * or NULL; token: a static token or NULL (credential wins when both).
 * token_uri and scope must be given with a credential. */
int ice_catauth_init(ice_catauth *a, const char *credential, const char *token,
                     const char *token_uri, const char *scope, ice_err *err);
void ice_catauth_clear(ice_catauth *a);

/* The Authorization header line for the next request (NULL: no auth),
 * obtaining a token first when there is none or it is about to expire. */
int ice_catauth_header(ice_catauth *a, ice_cathttp *h, const char **line, ice_err *err);

/* After a 401 or 419: a new token when one can be obtained (true), else
 * false (a static token, or none). */
bool ice_catauth_can_refresh(const ice_catauth *a);
int ice_catauth_refresh(ice_catauth *a, ice_cathttp *h, ice_err *err);

/* Replace every occurrence of the secret and the token in err's message. */
void ice_catauth_redact(const ice_catauth *a, ice_err *err);

#endif
