/* ice_retry: when to try a failed request again, and how long to wait.
 *
 * Exponential backoff with jitter: before try n+1 the caller sleeps a
 * random time between half and all of min(cap, base * 2^n), so clients
 * that failed together do not come back together. Bounded twice: at most
 * max_attempts tries, and no new try once budget_ms have passed since the
 * first (a wait that would end past the budget is not started). */
#ifndef ICE_RETRY_H
#define ICE_RETRY_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ice_retry_policy {
	int max_attempts;   /* tries in all, the first included; 0: 5 */
	int64_t budget_ms;  /* 0: 30 s */
	int64_t base_ms;    /* 0: 100 ms */
	int64_t cap_ms;     /* 0: 5 s */
} ice_retry_policy;

typedef struct ice_retry {
	ice_retry_policy p;   /* with the defaults filled in */
	int attempt;          /* tries made so far */
	int64_t start_ms;
	uint64_t rng;
} ice_retry;

/* Before the first try. p may be NULL (all defaults). */
void ice_retry_start(ice_retry *r, const ice_retry_policy *p);
/* After a try: counts it. Before another try: false when the count or the
 * time budget is spent, else sleeps the backoff and returns true. */
bool ice_retry_again(ice_retry *r);
/* The same without sleeping, for callers that wait in their own loop:
 * the backoff in ms, or -1 when the count or the time budget is spent. */
int64_t ice_retry_next_wait_ms(ice_retry *r);
/* The time since ice_retry_start, for messages. */
int64_t ice_retry_elapsed_ms(const ice_retry *r);

#endif
