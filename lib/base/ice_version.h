/* ice_version: the versions of IceCache and the libraries it was built with. */
#ifndef ICE_VERSION_H
#define ICE_VERSION_H

#include <stddef.h>

/* "PROGRAM (IceCache) X.Y.Z\nlibraries...\n" into buf (truncated to n). */
char *ice_version_string(const char *program, char *buf, size_t n);

#endif
