/* fuzz-util: the input as a file or a string, for the harnesses. */
#include "config.h"
#include "fuzz.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *fuzz_file(const uint8_t *data, size_t size)
{
	static char path[64];
	FILE *f;
	bool ok;

	if (!path[0])
		snprintf(path, sizeof path, "/tmp/ice-fuzz-%ld.avro", (long)getpid());
	if (!(f = fopen(path, "wb")))
		return NULL;
	ok = fwrite(data, 1, size, f) == size;
	ok = fclose(f) == 0 && ok;
	return ok ? path : NULL;
}

char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}
