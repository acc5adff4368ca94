/* retry: bounded exponential backoff with jitter. */
#include "config.h"
#include "ice_retry.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: jitter needs spread, not secrecy. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

void ice_retry_start(ice_retry *r, const ice_retry_policy *p)
{
	struct timespec ts;

	r->p.max_attempts = p && p->max_attempts > 0 ? p->max_attempts : 5;
	r->p.budget_ms = p && p->budget_ms > 0 ? p->budget_ms : 30000;
	r->p.base_ms = p && p->base_ms > 0 ? p->base_ms : 100;
	r->p.cap_ms = p && p->cap_ms > 0 ? p->cap_ms : 5000;
	r->attempt = 0;
	r->start_ms = now_ms();
	clock_gettime(CLOCK_REALTIME, &ts);
	r->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40);
	if (!r->rng)
		r->rng = 88172645463325252ull;
}

int64_t ice_retry_next_wait_ms(ice_retry *r)
{
	int64_t ceiling = r->p.base_ms, wait;

	r->attempt++;
	if (r->attempt >= r->p.max_attempts)
		return -1;
	for (int i = 1; i < r->attempt && ceiling < r->p.cap_ms; i++)
		ceiling *= 2;
	if (ceiling > r->p.cap_ms)
		ceiling = r->p.cap_ms;
	wait = ceiling / 2 + (int64_t)(next_random(&r->rng) % (uint64_t)(ceiling / 2 + 1));
	return now_ms() + wait - r->start_ms > r->p.budget_ms ? -1 : wait;
}

bool ice_retry_again(ice_retry *r)
{
	int64_t wait = ice_retry_next_wait_ms(r);
	struct timespec ts;

	if (wait < 0)
		return false;
	ts.tv_sec = wait / 1000;
	ts.tv_nsec = (long)(wait % 1000) * 1000000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return true;
}

int64_t ice_retry_elapsed_ms(const ice_retry *r)
{
	return now_ms() - r->start_ms;
}
