/* catpool: concurrent loadTable rounds over a few kept-alive catalog clients. */
#include "config.h"
#include "ice_catpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ice_catpool {
	const ice_catalog_settings *s;
	int width;
	ice_catalog *c[ICE_CATPOOL_MAX_WIDTH];
	int rc[ICE_CATPOOL_MAX_WIDTH];     /* why client i could not be opened */
	ice_err err[ICE_CATPOOL_MAX_WIDTH];
};

int ice_catpool_open(ice_catpool **p, const ice_catalog_settings *s, int width, ice_err *err)
{
	ice_catpool *pool = calloc(1, sizeof *pool);
	int rc;

	*p = NULL;
	if (!pool)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	pool->s = s;
	pool->width = width < 1 ? 1 : width > ICE_CATPOOL_MAX_WIDTH ? ICE_CATPOOL_MAX_WIDTH : width;
	if ((rc = ice_catalog_open(&pool->c[0], s, err))) {
		free(pool);
		return rc;
	}
	*p = pool;
	return ICE_OK;
}

void ice_catpool_close(ice_catpool *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->width; i++)
		ice_catalog_close(p->c[i]);
	free(p);
}

ice_catalog *ice_catpool_client(ice_catpool *p)
{
	return p->c[0];
}

/* Open client i unless it is open or failed before (a failure is kept:
 * the round goes on with the clients that work, and the next round tries
 * again). */
static void open_client(ice_catpool *p, int i)
{
	if (p->c[i])
		return;
	p->rc[i] = ice_catalog_open(&p->c[i], p->s, &p->err[i]);
}

typedef struct worker {
	ice_catpool *p;
	int index, stride;
	ice_catpool_job *jobs;
	size_t n;
	pthread_t thread;
	bool started;
} worker;

static void *run_worker(void *arg)
{
	worker *w = arg;
	ice_catalog *c = w->p->c[w->index];

	for (size_t j = (size_t)w->index; j < w->n; j += (size_t)w->stride) {
		ice_catpool_job *job = &w->jobs[j];

		if (!c) {
			job->rc = w->p->rc[w->index];
			job->err = w->p->err[w->index];
			continue;
		}
		job->rc = ice_catalog_load_table(c, job->id, job->mode, job->seen, &job->out, &job->err);
	}
	return NULL;
}

void ice_catpool_load(ice_catpool *p, ice_catpool_job *jobs, size_t n)
{
	worker w[ICE_CATPOOL_MAX_WIDTH];
	int k = n < (size_t)p->width ? (int)n : p->width;

	for (int i = 0; i < k; i++) {
		p->rc[i] = ICE_OK;
		open_client(p, i);
		w[i] = (worker){ p, i, k, jobs, n, 0, false };
	}
	/* Thread 0 is this one: a round of one table starts no thread. */
	for (int i = 1; i < k; i++)
		w[i].started = pthread_create(&w[i].thread, NULL, run_worker, &w[i]) == 0;
	for (int i = 0; i < k; i++)
		if (i == 0 || !w[i].started)
			run_worker(&w[i]);
	for (int i = 1; i < k; i++)
		if (w[i].started)
			pthread_join(w[i].thread, NULL);
}

void ice_catpool_stats(const ice_catpool *p, ice_catalog_stats *out)
{
	memset(out, 0, sizeof *out);
	for (int i = 0; i < p->width; i++) {
		const ice_catalog_stats *s;

		if (!p->c[i])
			continue;
		s = ice_catalog_get_stats(p->c[i]);
		out->requests += s->requests;
		out->retries += s->retries;
		out->not_modified += s->not_modified;
		out->tokens += s->tokens;
		out->bytes += s->bytes;
	}
}
