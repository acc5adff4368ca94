/* fuzz: what the libFuzzer harnesses of tests/fuzz share. Each harness
 * (fuzz-*.c) defines LLVMFuzzerTestOneInput over one parser of untrusted
 * input; a harness's only duty is to read and free, and let the
 * sanitizers and libFuzzer's limits catch the rest. */
#ifndef ICE_FUZZ_H
#define ICE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a file for readers that take a path: one file per process,
 * rewritten on each call (NULL when it cannot be written). */
const char *fuzz_file(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (malloc'd; NULL out of memory). */
char *fuzz_text(const uint8_t *data, size_t size);

#endif
