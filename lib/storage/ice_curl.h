/* ice_curl: libcurl, loaded with dlopen on first use and shared by every
 * layer that makes HTTP requests (storage, the cache's fetch).
 *
 * Linked in, libcurl and what it pulls in (GnuTLS, Kerberos, LDAP...) cost
 * every process about 7 ms at start, `ice-cache get` of 1 KiB included; so
 * no program links it, and the first request loads it. The table of
 * functions is process-wide and never unloaded; loading is not thread-safe
 * (call it once from the main thread before starting threads that use it).
 * The headers are compiled against (<curl/curl.h>), the library is not. */
#ifndef ICE_CURL_H
#define ICE_CURL_H

#include <curl/curl.h>
#include <time.h>

#include "ice_error.h"

typedef struct ice_curl_api {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	CURLcode (*easy_perform)(CURL *);
	void (*easy_reset)(CURL *);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	CURLHcode (*easy_header)(CURL *, const char *, size_t, unsigned int, int,
	                         struct curl_header **);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	time_t (*getdate)(const char *, const time_t *);
	/* curl multi, for concurrent prefetching (prefetch.c) */
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
	CURLMcode (*multi_wakeup)(CURLM *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_cleanup)(CURLM *);
} ice_curl_api;

/* The loaded functions, or NULL with *err set (ICE_EUNSUPPORTED) when
 * libcurl.so.4 cannot be loaded or lacks a function. The table is static:
 * never free it. */
const ice_curl_api *ice_curl_load(ice_err *err);

#endif
