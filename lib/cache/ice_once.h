/* ice_once: compute a cache entry once across processes (single flight).
 *
 * The first process to miss a key takes the backend lock named by the key
 * (ice_backend_lock, a random token, a time limit) and computes the value;
 * others wait, polling with exponential backoff, until the value appears
 * (a hit) or the lock is free to take (the holder failed and stored
 * nothing, or crashed and its lock expired). A waiter gives up after the
 * lock's time limit and computes the value itself, unlocked.
 *
 * An ice_once holds the value of a hit (owned; ice_once_end frees it) and
 * the lock token; ice_once_end releases the lock if this process holds it. */
#ifndef ICE_ONCE_H
#define ICE_ONCE_H

#include <stddef.h>
#include <stdint.h>

#include "ice_backend.h"

typedef enum {
	ICE_ONCE_HIT,    /* val/len hold the stored value */
	ICE_ONCE_LOCKED, /* compute, put, then ice_once_end */
	ICE_ONCE_GAVE_UP /* waited lock_ms: compute without the lock */
} ice_once_outcome;

typedef struct ice_once {
	ice_once_outcome outcome;
	void *val;
	size_t len;
	int waited;       /* 1 when another process held the lock at first */
	char token[33];
	const char *key;  /* borrowed from the caller */
} ice_once;

typedef struct ice_once_opts {
	int64_t lock_ms;        /* the lock's time limit and the longest wait */
	int64_t first_delay_ms; /* first poll interval (0: 20 ms) */
	int64_t max_delay_ms;   /* backoff ceiling (0: 1000 ms) */
} ice_once_opts;

/* The first lookup is a counted get (a hit or a miss); polls while waiting
 * count nothing. Backend errors end the wait with their code. */
int ice_once_begin(ice_backend *b, const char *key, const ice_once_opts *o, ice_once *st,
                   ice_err *err);

/* Release the lock when held and free a hit's value. Safe to call once
 * after any begin, successful or not. */
int ice_once_end(ice_backend *b, ice_once *st, ice_err *err);

#endif
