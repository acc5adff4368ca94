/* hostile: hostile Avro manifests and manifest lists, one per decoder
 * defect of issue 13, written byte by byte (no avro-c: it would refuse to
 * write most of them). Used by test-hostile (replayed in `make check`),
 * by mkhostile (files for the CLI tests and the fuzzers' seed corpora). */
#ifndef ICE_HOSTILE_H
#define ICE_HOSTILE_H

#include <stdbool.h>

typedef enum { HOSTILE_LIST, HOSTILE_MANIFEST } hostile_kind;

typedef struct {
	const char *file;   /* file name to write it as */
	hostile_kind kind;  /* which reader it is for */
	const char *expect; /* part of the one-line error; NULL: reads cleanly */
	const char *defect; /* what it once did, for the test's name */
	bool (*write)(const char *path);
} hostile_case;

extern const hostile_case hostile_cases[];
extern const unsigned hostile_n_cases;

#endif
