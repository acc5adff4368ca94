/* ice_archive: IceCache entries to and from a tar archive (libarchive), so a
 * cache can be saved, moved to another host and loaded again.
 *
 * Layout, version 1 (a POSIX pax tar; documented in ice-cache(1)):
 *
 *   icecache-archive.json   always first: {"kind":"icecache-archive",
 *                           "version":1,"exported_ms":N,"producer":"..."}
 *   entries/00000001.json   an entry's metadata: {"kind":"entry","key":K,
 *                           "size":N,"created_ms":N,"ttl_ms":N,
 *                           "expires_ms":N,"hits":N,"origin":S,"table":T,
 *                           "tags":[...]}
 *   entries/00000001.value  right after it: the value, raw bytes
 *   entries/00000002.json   ...
 *
 * Member names come from the entry's position, never from its key. ttl_ms
 * is the time the entry had left at export (0: no TTL). Texts (key, origin,
 * tags) are JSON strings, or {"hex":"..."} when they are not UTF-8.
 *
 * The file descriptors are the caller's: nothing here opens or closes them.
 * Not thread-safe (neither is the backend). */
#ifndef ICE_ARCHIVE_H
#define ICE_ARCHIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "ice_backend.h"
#include "ice_error.h"

#define ICE_ARCHIVE_VERSION 1
#define ICE_ARCHIVE_MARKER "icecache-archive.json"
#define ICE_ARCHIVE_MAX_VALUE (512u * 1024u * 1024u) /* Redis's largest string */
#define ICE_ARCHIVE_MAX_META (4u * 1024u * 1024u)

/* Which entries to export; NULL fields match everything (as ls). */
typedef struct ice_archive_filter {
	const char *table, *tag, *pattern;
} ice_archive_filter;

typedef struct ice_archive_stats {
	uint64_t entries; /* exported, or imported (would be, with dry_run) */
	uint64_t bytes;   /* their value bytes */
	uint64_t expired; /* import: entries whose TTL ran out since the export */
	uint64_t refused; /* import: members refused (each reported once) */
} ice_archive_stats;

/* Write the entries matching f (NULL: all) to fd as an archive, in key
 * order, reading them with ice_backend_peek (no hit is counted). An entry
 * removed or expired during the export is left out. A reader that went
 * away gives ICE_EPIPE. st may be NULL. */
int ice_archive_export(ice_backend *b, const ice_archive_filter *f, int fd,
                       ice_archive_stats *st, ice_err *err);

/* Told about each refused member: its name (control characters escaped, so
 * it fits on one line) and why, e.g. "path escapes the archive". */
typedef void (*ice_archive_refuse_cb)(void *ctx, const char *member, const char *why);

typedef struct ice_archive_import_opts {
	bool dry_run;                    /* read and check everything, put nothing */
	ice_archive_refuse_cb on_refuse; /* may be NULL */
	void *ctx;
} ice_archive_import_opts;

/* Read an archive from fd and put each entry (ice_backend_put_at: its tags,
 * origin and created time, its TTL less the time since the export). Members
 * that escape (absolute paths, ".."), links, devices, oversized members,
 * unknown names and entries whose metadata fails validation (bad JSON, bad
 * tags, a value whose size differs from its metadata) are refused one by
 * one and the import goes on; each entry is put whole or not at all.
 * Returns ICE_OK when the archive was read to its end (st->refused says
 * whether anything was refused); ICE_EFORMAT for a file that is not an
 * IceCache archive or is truncated or corrupt, ICE_EUNSUPPORTED for a newer
 * version, a backend error when a put fails (entries put so far stay). */
int ice_archive_import(ice_backend *b, int fd, const ice_archive_import_opts *o,
                       ice_archive_stats *st, ice_err *err);

/* Whether a member path stays inside the archive's folder: relative, no
 * ".." component, no backslash. */
bool ice_archive_path_safe(const char *path);

#endif
