/* version: report IceCache's and its libraries' versions for --version.
 * The versions are those of the headers built against: no library is
 * called, so a program links (with --as-needed) only the libraries it
 * uses, and starts without loading the others (libcurl alone pulls in
 * some thirty more). */
#include "config.h"
#include "ice_version.h"

#include <archive.h>
#include <curl/curlver.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <readline/readline.h>

#define ICE_STR2(x) #x
#define ICE_STR(x) ICE_STR2(x)

char *ice_version_string(const char *program, char *buf, size_t n)
{
	snprintf(buf, n,
	         "%s (IceCache) %s\n"
	         "jansson %s, avro-c %s, hiredis %d.%d.%d, libarchive %s, readline %s, libcurl %s\n",
	         program, PACKAGE_VERSION, JANSSON_VERSION, ICE_AVRO_C_VERSION,
	         HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH, ARCHIVE_VERSION_ONLY_STRING,
	         ICE_STR(RL_VERSION_MAJOR) "." ICE_STR(RL_VERSION_MINOR), LIBCURL_VERSION);
	return buf;
}
