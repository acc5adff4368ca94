/* prefetch: immutable S3 objects fetched concurrently with curl multi by a
 * background thread, into the object cache and into the reader's hands. */
#include "config.h"
#include "ice_prefetch.h"
#include "ice_curl.h"
#include "ice_retry.h"
#include "ice_xfer.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HELD_MAX_BYTES (16u * 1024u * 1024u)

/* QUEUED -> FLIGHT -> HELD, or GONE (failed: kept only while a reader
 * waits on it; else freed at once). */
typedef enum { PF_QUEUED, PF_FLIGHT, PF_HELD, PF_GONE } pf_state;

typedef struct pf_item {
	char *key, *bucket, *okey;
	pf_state state;
	bool waited;             /* a reader waits: it frees the item */
	ice_obj obj;             /* PF_HELD: the bytes */
	struct pf_item *prev, *next;
} pf_item;

typedef struct {
	ice_xfer *x;
	pf_item *item;           /* NULL: free */
	ice_s3_signed sg;
	ice_xfer_resp resp;
	ice_retry retry;
	int64_t due_ms;          /* > 0: to be tried again at this time */
} pf_slot;

struct ice_prefetch {
	const ice_curl_api *cu;
	const ice_s3 *s3;
	ice_retry_policy retry;
	ice_objcache *cache;     /* the thread's own handle on the shared cache */
	CURLM *multi;
	pf_slot *slots;
	int n_slots;
	pthread_t thread;
	/* Below: under mu. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	pf_item *head, *tail;    /* every item, queued ones in the order to fetch */
	size_t n_held, held_bytes; /* fetched, not yet taken */
	ice_io_stats io;
	ice_objcache_stats cstats;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the item list (under mu) ---------------------------------------------- */

static void unlink_item(ice_prefetch *pf, pf_item *it)
{
	if (it->prev)
		it->prev->next = it->next;
	else
		pf->head = it->next;
	if (it->next)
		it->next->prev = it->prev;
	else
		pf->tail = it->prev;
	it->prev = it->next = NULL;
}

static void free_item(pf_item *it)
{
	ice_obj_clear(&it->obj);
	free(it->key);
	free(it->bucket);
	free(it->okey);
	free(it);
}

static pf_item *find(const ice_prefetch *pf, const char *key)
{
	for (pf_item *it = pf->head; it; it = it->next)
		if (it->state != PF_GONE && strcmp(it->key, key) == 0)
			return it;
	return NULL;
}

/* Failed: its reader (if one waits) reads it the ordinary way. */
static void gone(ice_prefetch *pf, pf_item *it)
{
	if (it->state == PF_HELD) {
		pf->n_held--;
		pf->held_bytes -= it->obj.len;
		ice_obj_clear(&it->obj);
	}
	it->state = PF_GONE;
	if (!it->waited) {
		unlink_item(pf, it);
		free_item(it);
	}
}

/* The bytes, for the reader to take. */
static void hold(ice_prefetch *pf, pf_item *it, ice_obj *o)
{
	it->obj = *o;
	memset(o, 0, sizeof *o);
	it->state = PF_HELD;
	pf->n_held++;
	pf->held_bytes += it->obj.len;
}

/* The next item to fetch, unless the window of fetched objects not yet
 * read is full: then only one a reader waits for (it is first). */
static pf_item *next_queued(const ice_prefetch *pf)
{
	bool full = pf->n_held >= (size_t)pf->n_slots || pf->held_bytes >= HELD_MAX_BYTES;

	for (pf_item *it = pf->head; it; it = it->next)
		if (it->state == PF_QUEUED)
			return full && !it->waited ? NULL : it;
	return NULL;
}

/* ---- the thread ------------------------------------------------------------ */

/* The end of an item: o (taken) when its bytes came, NULL when not. */
static void settle(ice_prefetch *pf, pf_item *it, ice_obj *o)
{
	pthread_mutex_lock(&pf->mu);
	pf->cstats = ice_objcache_stats_of(pf->cache);
	if (o)
		hold(pf, it, o);
	else
		gone(pf, it);
	pthread_cond_broadcast(&pf->cv);
	pthread_mutex_unlock(&pf->mu);
}

/* One try of the slot's item: signed now, handed to curl multi. */
static int start_try(ice_prefetch *pf, pf_slot *sl)
{
	pf_item *it = sl->item;

	sl->due_ms = 0;
	ice_s3_signed_clear(&sl->sg);
	ice_xfer_resp_clear(&sl->resp);
	if (ice_s3_sign_get(pf->s3, it->bucket, it->okey, &sl->sg, NULL) ||
	    ice_xfer_begin(sl->x, &sl->sg.req, &sl->resp, NULL))
		return -1;
	if (pf->cu->multi_add_handle(pf->multi, ice_xfer_handle(sl->x)) != CURLM_OK) {
		ice_xfer_finish(sl->x, CURLE_FAILED_INIT, NULL);
		return -1;
	}
	pthread_mutex_lock(&pf->mu);
	pf->io.requests++;
	ice_io_stats_count(&pf->io, "GET", false, false);
	pthread_mutex_unlock(&pf->mu);
	return 0;
}

static void free_slot(pf_slot *sl)
{
	ice_s3_signed_clear(&sl->sg);
	ice_xfer_resp_clear(&sl->resp);
	sl->item = NULL;
	sl->due_ms = 0;
}

/* Queued items onto free slots; those in the object cache cost nothing. */
static void fill_slots(ice_prefetch *pf)
{
	for (int i = 0; i < pf->n_slots; i++) {
		pf_slot *sl = &pf->slots[i];
		ice_obj o;
		bool found = false;
		pf_item *it;

		if (sl->item)
			continue;
		pthread_mutex_lock(&pf->mu);
		if ((it = pf->stop ? NULL : next_queued(pf)))
			it->state = PF_FLIGHT;
		pthread_mutex_unlock(&pf->mu);
		if (!it)
			return;
		if (ice_objcache_get(pf->cache, it->key, &o, &found, NULL) == ICE_OK && found) {
			settle(pf, it, &o);
			i--; /* the slot is still free */
			continue;
		}
		sl->item = it;
		ice_retry_start(&sl->retry, &pf->retry);
		if (start_try(pf, sl) != 0) {
			free_slot(sl);
			settle(pf, it, NULL);
		}
	}
}

/* Slots whose backoff has passed try again. */
static void retry_due(ice_prefetch *pf)
{
	int64_t now = now_ms();

	for (int i = 0; i < pf->n_slots; i++) {
		pf_slot *sl = &pf->slots[i];
		pf_item *it = sl->item;

		if (!it || !sl->due_ms || sl->due_ms > now)
			continue;
		if (start_try(pf, sl) != 0) {
			free_slot(sl);
			settle(pf, it, NULL);
		}
	}
}

/* A try ended: again after a backoff, or the item's end. */
static void tried(ice_prefetch *pf, pf_slot *sl, CURLcode cc)
{
	pf_item *it = sl->item;
	int rc = ice_xfer_finish(sl->x, cc, NULL);
	int64_t wait;
	ice_obj o;

	pthread_mutex_lock(&pf->mu);
	pf->io.bytes += sl->resp.len;
	pthread_mutex_unlock(&pf->mu);
	if ((rc == ICE_OK && ice_xfer_status_transient(sl->resp.status)) ||
	    (rc != ICE_OK && sl->resp.transient)) {
		if ((wait = ice_retry_next_wait_ms(&sl->retry)) >= 0) {
			pthread_mutex_lock(&pf->mu);
			pf->io.retries++;
			pthread_mutex_unlock(&pf->mu);
			ice_xfer_resp_clear(&sl->resp);
			sl->due_ms = now_ms() + (wait ? wait : 1);
			return;
		}
		rc = ICE_EIO;
	}
	if (rc == ICE_OK && ice_s3_get_answer(pf->s3, it->bucket, it->okey, &sl->resp, &o, NULL) ==
	    ICE_OK) {
		ice_objcache_put(pf->cache, it->key, &o, NULL);
		free_slot(sl);
		settle(pf, it, &o);
		ice_obj_clear(&o);
		return;
	}
	free_slot(sl);
	settle(pf, it, NULL);
}

static void reap(ice_prefetch *pf)
{
	CURLMsg *m;
	int left;

	while ((m = pf->cu->multi_info_read(pf->multi, &left))) {
		CURL *easy = m->easy_handle;
		CURLcode cc = m->data.result;

		if (m->msg != CURLMSG_DONE)
			continue;
		pf->cu->multi_remove_handle(pf->multi, easy);
		for (int i = 0; i < pf->n_slots; i++)
			if (pf->slots[i].item && ice_xfer_handle(pf->slots[i].x) == easy) {
				tried(pf, &pf->slots[i], cc);
				break;
			}
	}
}

/* How long curl may wait for sockets: until the next retry is due. */
static int poll_timeout(const ice_prefetch *pf)
{
	int64_t now = now_ms(), t = 1000;

	for (int i = 0; i < pf->n_slots; i++)
		if (pf->slots[i].item && pf->slots[i].due_ms && pf->slots[i].due_ms - now < t)
			t = pf->slots[i].due_ms - now;
	return t < 0 ? 0 : (int)t;
}

static bool busy(const ice_prefetch *pf)
{
	for (int i = 0; i < pf->n_slots; i++)
		if (pf->slots[i].item)
			return true;
	return false;
}

static void *run(void *arg)
{
	ice_prefetch *pf = arg;
	int running, ready;

	for (;;) {
		pthread_mutex_lock(&pf->mu);
		while (!pf->stop && !busy(pf) && !next_queued(pf))
			pthread_cond_wait(&pf->cv, &pf->mu);
		if (pf->stop) {
			pthread_mutex_unlock(&pf->mu);
			break;
		}
		pthread_mutex_unlock(&pf->mu);
		fill_slots(pf);
		retry_due(pf);
		pf->cu->multi_perform(pf->multi, &running);
		reap(pf);
		if (busy(pf))
			pf->cu->multi_poll(pf->multi, NULL, 0, poll_timeout(pf), &ready);
	}
	return NULL;
}

/* ---- the caller's side -------------------------------------------------------- */

int ice_prefetch_open(ice_prefetch **pfp, const ice_s3 *s3, const ice_objcache_opts *cache,
                      const ice_retry_policy *retry, int concurrency, ice_err *err)
{
	ice_prefetch *pf;
	sigset_t all, old;
	bool started;
	int rc = ICE_OK, i;

	*pfp = NULL;
	if (!(pf = calloc(1, sizeof *pf)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	pthread_mutex_init(&pf->mu, NULL);
	pthread_cond_init(&pf->cv, NULL);
	pf->s3 = s3;
	pf->n_slots = concurrency < 1 ? 1 : concurrency > 256 ? 256 : concurrency;
	if (retry)
		pf->retry = *retry;
	if (!(pf->cu = ice_curl_load(err))) {
		rc = err ? err->code : ICE_EUNSUPPORTED;
		goto out;
	}
	/* The cache is a help, never a failure. */
	ice_objcache_open(&pf->cache, cache, NULL);
	if (!(pf->slots = calloc((size_t)pf->n_slots, sizeof *pf->slots)) ||
	    !(pf->multi = pf->cu->multi_init())) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < pf->n_slots; i++) {
		ice_xfer_resp_clear(&pf->slots[i].resp);
		if ((rc = ice_xfer_open(&pf->slots[i].x, err)))
			goto out;
	}
	/* Signals stay with the program's threads (a SIGTERM must wake the
	 * thread that waits for it): the new thread starts with all blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	started = pthread_create(&pf->thread, NULL, run, pf) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!started) {
		rc = ice_err_set(err, ICE_ENOMEM, "cannot start the prefetch thread");
		goto out;
	}
	*pfp = pf;
out:
	if (rc) {
		pf->stop = true; /* no thread to join */
		pf->thread = pthread_self();
		ice_prefetch_close(pf);
	}
	return rc;
}

void ice_prefetch_close(ice_prefetch *pf)
{
	bool joined;

	if (!pf)
		return;
	pthread_mutex_lock(&pf->mu);
	joined = pf->stop;
	pf->stop = true;
	pthread_cond_broadcast(&pf->cv);
	pthread_mutex_unlock(&pf->mu);
	if (!joined) {
		pf->cu->multi_wakeup(pf->multi);
		pthread_join(pf->thread, NULL);
	}
	for (int i = 0; pf->slots && i < pf->n_slots; i++) {
		pf_slot *sl = &pf->slots[i];
		if (sl->item && !sl->due_ms)
			pf->cu->multi_remove_handle(pf->multi, ice_xfer_handle(sl->x));
		free_slot(sl);
		ice_xfer_close(sl->x);
	}
	while (pf->head) {
		pf_item *it = pf->head;
		unlink_item(pf, it);
		free_item(it);
	}
	if (pf->multi)
		pf->cu->multi_cleanup(pf->multi);
	ice_objcache_close(pf->cache);
	free(pf->slots);
	pthread_cond_destroy(&pf->cv);
	pthread_mutex_destroy(&pf->mu);
	free(pf);
}

int ice_prefetch_add(ice_prefetch *pf, const char *key, const char *bucket, const char *okey,
                     ice_err *err)
{
	pf_item *it;

	pthread_mutex_lock(&pf->mu);
	if (find(pf, key)) {
		pthread_mutex_unlock(&pf->mu);
		return ICE_OK;
	}
	pthread_mutex_unlock(&pf->mu);
	if (!(it = calloc(1, sizeof *it)) || !(it->key = strdup(key)) ||
	    !(it->bucket = strdup(bucket)) || !(it->okey = strdup(okey))) {
		if (it)
			free_item(it);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	it->obj.info.mtime_ms = -1;
	pthread_mutex_lock(&pf->mu);
	it->prev = pf->tail;
	if (pf->tail)
		pf->tail->next = it;
	else
		pf->head = it;
	pf->tail = it;
	pthread_cond_broadcast(&pf->cv);
	pthread_mutex_unlock(&pf->mu);
	pf->cu->multi_wakeup(pf->multi);
	return ICE_OK;
}

bool ice_prefetch_take(ice_prefetch *pf, const char *key, ice_obj *out)
{
	pf_item *it;
	bool got = false;

	pthread_mutex_lock(&pf->mu);
	if (!(it = find(pf, key)))
		goto out;
	it->waited = true;
	/* Wanted now: fetched next. */
	if (it->state == PF_QUEUED && it != pf->head) {
		unlink_item(pf, it);
		it->next = pf->head;
		pf->head->prev = it;
		pf->head = it;
	}
	pthread_cond_broadcast(&pf->cv); /* past a full window, if need be */
	while (it->state == PF_QUEUED || it->state == PF_FLIGHT)
		pthread_cond_wait(&pf->cv, &pf->mu);
	if (it->state == PF_HELD) {
		*out = it->obj;
		memset(&it->obj, 0, sizeof it->obj);
		pf->n_held--;
		pf->held_bytes -= out->len;
		got = true;
		pthread_cond_broadcast(&pf->cv); /* room in the window */
	}
	unlink_item(pf, it);
	free_item(it);
out:
	pthread_mutex_unlock(&pf->mu);
	return got;
}

void ice_prefetch_stats(ice_prefetch *pf, ice_io_stats *io, ice_objcache_stats *cache)
{
	pthread_mutex_lock(&pf->mu);
	*io = pf->io;
	*cache = pf->cstats;
	pthread_mutex_unlock(&pf->mu);
}
