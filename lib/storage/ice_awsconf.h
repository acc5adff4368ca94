/* ice_awsconf: S3 credentials, region and endpoint, found the way the AWS
 * tools find them, so users keep the setup they already have.
 *
 * Credentials: explicit keys in the settings (a catalog's vended ones)
 * first; then, with no explicit profile, AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) from the environment win;
 * else the profile (the explicit one, AWS_PROFILE, AWS_DEFAULT_PROFILE or
 * "default") in the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
 * ~/.aws/credentials, section [NAME]), then in the config file
 * (AWS_CONFIG_FILE or ~/.aws/config, section [profile NAME] or [default]);
 * none found, or anonymous asked for: requests go unsigned (public buckets).
 * Region: explicit, AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`,
 * else us-east-1. Endpoint: explicit, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL,
 * the profile's `s3 =` sub-section `endpoint_url`, its `endpoint_url`; none
 * means AWS itself. A custom endpoint is addressed path-style by default
 * (what MinIO and other local stores need), AWS virtual-hosted.
 *
 * `source` says where the credentials came from, for error messages
 * ("environment", "profile prod (/home/u/.aws/credentials)"); the secret
 * and the session token are never put in any message. */
#ifndef ICE_AWSCONF_H
#define ICE_AWSCONF_H

#include <stdbool.h>

#include "ice_error.h"

/* What flags and the project's configuration say (NULL/-1: not said). */
typedef struct ice_aws_settings {
	const char *profile;
	const char *region;
	const char *endpoint_url;
	bool anonymous;
	int path_style; /* 1 path-style, 0 virtual-hosted, -1 by the endpoint */
	/* Explicit keys (a catalog's vended credentials): when access_key is
	 * set they beat the environment and every profile; secret_key is then
	 * required, session_token optional. source names them in messages
	 * ("catalog prod (vended)"; NULL: "explicit keys"). */
	const char *access_key, *secret_key, *session_token, *source;
} ice_aws_settings;

/* The resolved setup; every string is owned by it. */
typedef struct ice_aws_config {
	char *access_key;    /* NULL: anonymous */
	char *secret_key;
	char *session_token; /* NULL when none */
	char *source;        /* where the credentials came from */
	char *region;
	char *endpoint;      /* "http://127.0.0.1:9000" without trailing '/'; NULL: AWS */
	bool path_style;
} ice_aws_config;

/* Resolve from s (NULL: all defaults) and the environment. A profile named
 * explicitly that exists in neither file, a file that cannot be read for a
 * reason other than absence, or half a key pair in the environment is
 * ICE_EINVAL. On failure *c is left empty. */
int ice_aws_config_resolve(const ice_aws_settings *s, ice_aws_config *c, ice_err *err);
/* Clears (overwrites) the secret before freeing it. */
void ice_aws_config_clear(ice_aws_config *c);

#endif
