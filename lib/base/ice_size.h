/* ice_size: byte sizes as people write them ("64M", "1GiB"). */
#ifndef ICE_SIZE_H
#define ICE_SIZE_H

#include <stdint.h>

#include "ice_error.h"

/* A size: a number with an optional unit K, M, G or T (powers of 1024,
 * "B" and "iB" suffixes allowed): "64M", "512k", "1GiB", "1000". Zero is
 * accepted (what it means is the caller's). */
int ice_parse_size(const char *s, int64_t *bytes, ice_err *err);

#endif
