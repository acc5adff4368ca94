/* catauth: static bearer tokens and OAuth2 client credentials. */
#include "config.h"
#include "ice_catauth.h"
#include "ice_sbuf.h"
#include "ice_time.h"

#include <stdlib.h>
#include <string.h>

void ice_catauth_clear(ice_catauth *a)
{
	/* Overwritten before release: no secret lingers in freed memory. */
	if (a->client_secret)
		memset(a->client_secret, 0, strlen(a->client_secret));
	if (a->token)
		memset(a->token, 0, strlen(a->token));
	if (a->header)
		memset(a->header, 0, strlen(a->header));
	free(a->client_id);
	free(a->client_secret);
	free(a->token_uri);
	free(a->scope);
	free(a->token);
	free(a->header);
	memset(a, 0, sizeof *a);
}

static int set_token(ice_catauth *a, const char *token, ice_err *err)
{
	ice_sbuf b = ICE_SBUF_INIT;

	if (a->token)
		memset(a->token, 0, strlen(a->token));
	free(a->token);
	free(a->header);
	a->header = NULL;
	ice_sbuf_printf(&b, "Authorization: Bearer %s", token);
	if (!(a->token = strdup(token)) || !(a->header = ice_sbuf_take(&b)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}

int ice_catauth_init(ice_catauth *a, const char *credential, const char *token,
                     const char *token_uri, const char *scope, ice_err *err)
{
	const char *colon;

	memset(a, 0, sizeof *a);
	a->expires_at_ms = -1;
	if (!credential)
		return token ? set_token(a, token, err) : ICE_OK;
	if (!*credential)
		return ice_err_set(err, ICE_EINVAL, "the catalog credential is empty");
	colon = strchr(credential, ':');
	a->client_id = colon ? strndup(credential, (size_t)(colon - credential)) : strdup("");
	a->client_secret = strdup(colon ? colon + 1 : credential);
	a->token_uri = strdup(token_uri);
	a->scope = strdup(scope);
	if (!a->client_id || !a->client_secret || !a->token_uri || !a->scope) {
		ice_catauth_clear(a);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	return ICE_OK;
}

bool ice_catauth_can_refresh(const ice_catauth *a)
{
	return a->client_secret != NULL;
}

static void redact_one(char *msg, const char *secret)
{
	size_t n;
	char *p;

	if (!secret || (n = strlen(secret)) < 3)
		return;
	while ((p = strstr(msg, secret))) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}

void ice_catauth_redact(const ice_catauth *a, ice_err *err)
{
	if (!err)
		return;
	redact_one(err->msg, a->client_secret);
	redact_one(err->msg, a->token);
}

/* The form of a client credentials request (RFC 6749 4.4). */
static char *token_form(const ice_catauth *a)
{
	ice_sbuf b = ICE_SBUF_INIT;

	ice_sbuf_puts(&b, "grant_type=client_credentials");
	if (*a->client_id) {
		ice_sbuf_puts(&b, "&client_id=");
		ice_sbuf_pct(&b, a->client_id, false);
	}
	ice_sbuf_puts(&b, "&client_secret=");
	ice_sbuf_pct(&b, a->client_secret, false);
	ice_sbuf_puts(&b, "&scope=");
	ice_sbuf_pct(&b, a->scope, false);
	return ice_sbuf_take(&b);
}

/* Refresh ahead of expiry by a tenth of the lifetime, at most a minute,
 * so a request never leaves with a token about to lapse. */
static int64_t expiry_of(int64_t now, json_int_t expires_in)
{
	int64_t life = (int64_t)expires_in * 1000, margin = life / 10;

	if (margin > 60000)
		margin = 60000;
	return now + life - margin;
}

static int read_token(ice_catauth *a, ice_cathttp *h, const ice_cathttp_call *c,
                      const ice_xfer_resp *r, ice_err *err)
{
	json_t *doc = NULL, *exp;
	const char *token, *type;
	int rc;

	if ((rc = ice_cathttp_json(h, c, r, &doc, err)))
		return rc;
	token = json_string_value(json_object_get(doc, "access_token"));
	type = json_string_value(json_object_get(doc, "token_type"));
	exp = json_object_get(doc, "expires_in");
	if (!token || !*token || !type) {
		rc = ice_cathttp_bad(h, c, "no access_token or token_type in the token response", err);
		goto out;
	}
	if (strcasecmp(type, "bearer") != 0) {
		rc = ice_cathttp_bad(h, c, "the token is not a bearer token", err);
		goto out;
	}
	if (exp && (!json_is_integer(exp) || json_integer_value(exp) < 0)) {
		rc = ice_cathttp_bad(h, c, "expires_in is not a number of seconds", err);
		goto out;
	}
	if ((rc = set_token(a, token, err)))
		goto out;
	a->expires_at_ms = exp ? expiry_of(ice_monotonic_ms(), json_integer_value(exp)) : -1;
	h->stats.tokens++;
out:
	json_decref(doc);
	return rc;
}

int ice_catauth_refresh(ice_catauth *a, ice_cathttp *h, ice_err *err)
{
	static const char *const headers[] = {
		"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"
	};
	ice_cathttp_call c = { "POST", a->token_uri, a->token_uri, headers, 2, NULL, 0 };
	ice_xfer_resp r = { 0 };
	char *form = token_form(a);
	int rc;

	if (!form)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	c.body = form;
	c.body_len = strlen(form);
	if (!(rc = ice_cathttp_send(h, &c, &r, err))) {
		if (r.status == 200)
			rc = read_token(a, h, &c, &r, err);
		else
			rc = ice_cathttp_status_error(h, &c, &r, err);
	}
	if (rc)
		ice_catauth_redact(a, err);
	memset(form, 0, strlen(form));
	free(form);
	ice_xfer_resp_clear(&r);
	return rc;
}

int ice_catauth_header(ice_catauth *a, ice_cathttp *h, const char **line, ice_err *err)
{
	int rc;

	*line = NULL;
	if (a->client_secret &&
	    (!a->token || (a->expires_at_ms >= 0 && ice_monotonic_ms() >= a->expires_at_ms)) &&
	    (rc = ice_catauth_refresh(a, h, err)))
		return rc;
	*line = a->header;
	return ICE_OK;
}
