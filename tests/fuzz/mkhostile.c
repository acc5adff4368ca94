/* mkhostile: write the hostile Avro files of hostile.c into a folder
 * (for the CLI tests and the fuzzers' seed corpora). Prints each path. */
#include "config.h"
#include "hostile.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	char path[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: mkhostile DIR\n");
		return 2;
	}
	for (unsigned i = 0; i < hostile_n_cases; i++) {
		snprintf(path, sizeof path, "%s/%s", argv[1], hostile_cases[i].file);
		if (!hostile_cases[i].write(path)) {
			fprintf(stderr, "mkhostile: error: cannot write %s\n", path);
			return 1;
		}
		printf("%s\n", path);
	}
	return 0;
}
