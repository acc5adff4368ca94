/* version: report IceCache's and its libraries' versions for --version. */
#include "config.h"
#include "ice_version.h"

#include <archive.h>
#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <readline/readline.h>

char *ice_version_string(const char *program, char *buf, size_t n)
{
	snprintf(buf, n,
	         "%s (IceCache) %s\n"
	         "jansson %s, avro-c %s, hiredis %d.%d.%d, %s, readline %s, libcurl %s\n",
	         program, PACKAGE_VERSION, JANSSON_VERSION, ICE_AVRO_C_VERSION,
	         HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH, archive_version_string(),
	         rl_library_version ? rl_library_version : "?",
	         curl_version_info(CURLVERSION_NOW)->version);
	return buf;
}
