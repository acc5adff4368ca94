/* ice_local: the storage operations on local files (internal to the
 * storage layer; see ice_storage.h for the contract). `path` is a file
 * system path, file: URIs already turned into paths. */
#ifndef ICE_LOCAL_H
#define ICE_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ice_error.h"
#include "ice_object.h"

int ice_local_read(const char *path, size_t max, ice_obj *out, ice_err *err);
int ice_local_read_range(const char *path, uint64_t offset, uint64_t length, size_t max,
                         ice_obj *out, ice_err *err);
int ice_local_read_if(const char *path, const char *etag, size_t max, ice_obj *out,
                      ice_err *err);
int ice_local_stat(const char *path, ice_obj_info *out, ice_err *err);
int ice_local_list(const char *dir, bool recursive, ice_listing *out, ice_err *err);

#endif
