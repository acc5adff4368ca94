/* curl: load libcurl with dlopen on first use (see ice_curl.h for why). */
#include "config.h"
#include "ice_curl.h"

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

static ice_curl_api api;

const ice_curl_api *ice_curl_load(ice_err *err)
{
	static void *lib;
	static const struct { const char *name; size_t off; } fns[] = {
#define FN(f) { "curl_" #f, offsetof(ice_curl_api, f) }
		FN(easy_init), FN(easy_setopt), FN(easy_getinfo), FN(easy_perform), FN(easy_reset),
		FN(easy_cleanup), FN(easy_strerror), FN(easy_header), FN(slist_append),
		FN(slist_free_all), FN(getdate), FN(multi_init), FN(multi_add_handle),
		FN(multi_remove_handle), FN(multi_perform), FN(multi_poll), FN(multi_wakeup),
		FN(multi_info_read), FN(multi_setopt), FN(multi_cleanup),
#undef FN
	};
	size_t i;

	if (lib)
		return &api;
	if (!(lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL))) {
		ice_err_set(err, ICE_EUNSUPPORTED, "cannot load libcurl: %s", dlerror());
		return NULL;
	}
	for (i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		void *f = dlsym(lib, fns[i].name);
		if (!f) {
			dlclose(lib);
			lib = NULL;
			ice_err_set(err, ICE_EUNSUPPORTED, "libcurl lacks %s", fns[i].name);
			return NULL;
		}
		/* A data pointer to a function pointer: POSIX guarantees dlsym's
		 * result converts; memcpy keeps -Wpedantic quiet about it. */
		memcpy((char *)&api + fns[i].off, &f, sizeof f);
	}
	return &api;
}
