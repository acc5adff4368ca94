/* snapshot-catalog: ice-snapshot's tables in an Iceberg REST catalog:
 * named NAMESPACE.TABLE (or NAME:NAMESPACE.TABLE), loaded through the
 * catalog (a watch round loads them all at once, conditionally on their
 * ETags), namespaces watched whole ('db.*') and listed (ls).
 *
 * An ice_snapcat owns its strings and load results (ice_snapcat_clear). */
#ifndef SNAPSHOT_CATALOG_H
#define SNAPSHOT_CATALOG_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "ice_catpool.h"
#include "ice_metadata.h"

typedef struct ice_snapcat {
	char *catalog;           /* NULL: the default catalog */
	ice_table_ident ident;
	char *name;              /* "db.orders", "NAME:db.orders": the records' table */
	ice_table_seen seen;     /* ETags and metadata locations, per snapshots mode */
	ice_catpool_job job;     /* this round's load */
	int64_t last_updated_ms; /* of the metadata last used: an older answer is stale */
	bool dropped;            /* gone (404) since it was seen: said once */
} ice_snapcat;

/* catalog: NULL for the default; rest: "db.orders". */
int ice_snapcat_init(ice_snapcat *t, const char *catalog, const char *rest, ice_err *err);
void ice_snapcat_clear(ice_snapcat *t);

/* Load now with snapshots=all (show, log, poll) and build the model. */
int ice_snapcat_load(ice_snapcat *t, ice_metadata **md, ice_err *err);

/* The model of a table this round loaded (t->job.out), or of a load with
 * snapshots=all made now when `all` is set. */
int ice_snapcat_model(ice_snapcat *t, bool all, ice_metadata **md, ice_err *err);

/* A watch round: every table loaded conditionally with snapshots=refs,
 * concurrently, one pool per catalog; results in each t->job. */
void ice_snapcat_round(ice_snapcat **v, size_t n);

/* The catalog fields of t added to a record. */
void ice_snapcat_annotate(const ice_snapcat *t, json_t *r, const char *metadata_location);

/* A namespace pattern: "db.*" or "NAME:db.*" (with catalog set as for
 * tables). *ns is filled (clear it); false when arg is no pattern. */
bool ice_snapcat_pattern(const char *arg, char **catalog, ice_ns *ns, ice_err *err, int *rc);

/* The tables of a namespace, every page. */
int ice_snapcat_list(const char *catalog, const ice_ns *ns, ice_ident_list *out, ice_err *err);

/* ice-snapshot ls [NAMESPACE]: the namespaces under it ("a.b.", a line
 * each, to any depth) and their tables ("a.b.events"), on stdout. */
int ice_snapcat_ls(const char *arg, ice_err *err);

#endif
