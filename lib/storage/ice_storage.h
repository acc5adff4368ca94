/* ice_storage: where bytes come from. Local files, S3 objects (s3://,
 * and s3a://, s3n:// as Spark and Hadoop write them) and HTTP(S) objects
 * look alike: read whole, read a range, read if changed, stat, list.
 *
 * A URI is a local path (or file:/path, file:///path), s3://BUCKET/KEY or
 * http(s)://... . Local files and http(s) objects have no listing of the
 * S3 kind: local folders are listed from the file system, http(s) ones
 * not at all (ICE_EUNSUPPORTED). Reads return the bytes as stored (no
 * decompression). libcurl is loaded only when a remote URI is first used.
 *
 * ETags: S3 and HTTP give theirs; a local file's is made from its inode,
 * size and modification time (W/"ino-size-mtime_ns"), so conditional reads
 * work alike everywhere.
 *
 * Errors come through ice_err: ICE_ENOENT for a missing object,
 * ICE_EACCES for a refusal (naming where the credentials came from),
 * ICE_EIO, ICE_ETIMEOUT for transport failures once the retries are spent
 * (see ice_s3.h). An ice_storage is used from one thread at a time. */
#ifndef ICE_STORAGE_H
#define ICE_STORAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "ice_error.h"
#include "ice_objcache.h"
#include "ice_object.h"
#include "ice_s3.h"

typedef struct ice_storage_opts {
	ice_s3_opts s3;          /* credentials, endpoint, retries, time-outs, bounds */
	ice_objcache_opts cache; /* for ice_storage_read_immutable */
	int concurrency;         /* prefetch transfers at once; 0: $ICE_S3_CONCURRENCY, else 16 */
} ice_storage_opts;

#define ICE_STORAGE_CONCURRENCY 16

typedef struct ice_storage ice_storage;

/* o may be NULL (defaults). Nothing is resolved or loaded until the first
 * remote URI; *st is the caller's, released by ice_storage_close. */
int ice_storage_open(ice_storage **st, const ice_storage_opts *o, ice_err *err);
void ice_storage_close(ice_storage *st);

typedef enum { ICE_URI_LOCAL, ICE_URI_S3, ICE_URI_HTTP } ice_uri_kind;

ice_uri_kind ice_uri_kind_of(const char *uri);
bool ice_uri_is_remote(const char *uri);

/* The whole object. out is filled on success only; the caller clears it. */
int ice_storage_read(ice_storage *st, const char *uri, ice_obj *out, ice_err *err);
/* The whole object, one that is never rewritten once written (Iceberg
 * metadata files, manifest lists, manifests): remote ones are kept in the
 * object cache (ice_objcache.h) and read from it afterwards without any
 * request. Local files are read as by ice_storage_read. */
int ice_storage_read_immutable(ice_storage *st, const char *uri, ice_obj *out, ice_err *err);
/* Start fetching immutable objects (as ice_storage_read_immutable reads
 * them) in the background, many at once, and return at once: the caller
 * decodes one object while the next ones are on their way. Only s3://
 * URIs are fetched (others are skipped: local files need no prefetching).
 * The objects go into the object cache (those already there cost no
 * request) and are handed to ice_storage_read_immutable, which waits for
 * one still in flight rather than asking for it again. At most the
 * concurrency (ice_storage_concurrency) transfers at once, over kept
 * connections, each signed and retried as a single read is. A failed
 * prefetch is no error: the later read asks again and reports it. Errors
 * here: only ICE_ENOMEM, an invalid URI, or libcurl or the credentials
 * missing (then nothing is prefetched; reads still work or fail as
 * without). The prefetching thread is internal: the ice_storage is still
 * used from one thread at a time; ice_storage_close stops it. */
int ice_storage_prefetch(ice_storage *st, const char *const *uris, size_t n, ice_err *err);
/* The prefetch concurrency: o->concurrency, else $ICE_S3_CONCURRENCY, else
 * ICE_STORAGE_CONCURRENCY; within 1..256. */
int ice_storage_concurrency(const ice_storage_opts *o);
/* Bytes [offset, offset + length) (length 0: to the end); fewer when the
 * object ends first. out->info.size is the whole object's size. */
int ice_storage_read_range(ice_storage *st, const char *uri, uint64_t offset, uint64_t length,
                           ice_obj *out, ice_err *err);
/* The object unless its ETag is still etag (NULL: read anyway): then
 * out->unchanged is set, out->data NULL, and no body was transferred. */
int ice_storage_read_if(ice_storage *st, const char *uri, const char *etag, ice_obj *out,
                        ice_err *err);
/* Size, ETag, modification time without the bytes. */
int ice_storage_stat(ice_storage *st, const char *uri, ice_obj_info *out, ice_err *err);
/* The objects under a folder URI (s3://b/t/metadata/ or a local folder);
 * recursive: all below it, else only those directly in it. Names are full
 * URIs (paths for local folders), sorted. A folder with nothing in it is
 * an empty listing on S3 (there are no folders) and ICE_ENOENT locally
 * when the folder does not exist. */
int ice_storage_list(ice_storage *st, const char *uri, bool recursive, ice_listing *out,
                     ice_err *err);

/* Requests made so far over S3 and HTTP (zeros when none). */
ice_io_stats ice_storage_stats(const ice_storage *st);
/* The object cache's counters (zeros before its first use or when off). */
ice_objcache_stats ice_storage_cache_stats(const ice_storage *st);
/* Where S3 credentials came from ("environment"...), NULL before any S3
 * request: for --verbose. Never the secret. */
const char *ice_storage_credential_source(const ice_storage *st);

#endif
