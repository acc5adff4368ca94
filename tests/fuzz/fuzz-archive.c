/* fuzz-archive: a tar archive imported as `ice-cache import --dry-run`
 * reads it (ice_archive_import), into an embedded store in a temporary
 * folder, opened once per process. */
#include "config.h"
#include "fuzz.h"
#include "ice_archive.h"
#include "ice_backend.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static ice_backend *store(void)
{
	static ice_backend *b;
	static bool tried;
	char url[128];
	ice_backend_opts o = { 0 };

	if (!tried) {
		tried = true;
		snprintf(url, sizeof url, "sqlite:///tmp/ice-fuzz-archive-%ld.db", (long)getpid());
		if (ice_backend_open(url, &o, &b, NULL) != ICE_OK)
			b = NULL;
	}
	return b;
}

static void refused(void *ctx, const char *member, const char *why)
{
	(void)ctx;
	(void)member;
	(void)why;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	ice_archive_import_opts o = { .dry_run = true, .on_refuse = refused };
	ice_archive_stats st;
	ice_backend *b = store();
	int fd;

	if (!path || !b || (fd = open(path, O_RDONLY)) < 0)
		return 0;
	ice_archive_import(b, fd, &o, &st, NULL);
	close(fd);
	return 0;
}
