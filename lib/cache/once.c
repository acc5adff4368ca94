/* once: single flight on a backend lock, with waiters polling and backoff. */
#include "config.h"
#include "ice_once.h"
#include "ice_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* 128 random bits as hex: a token no other holder can guess or share. */
static int new_token(char out[33], ice_err *err)
{
	unsigned char r[16];

	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return ice_err_set(err, ICE_EIO, "lock token: getrandom: %s", strerror(errno));
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return ICE_OK;
}

/* A hit found while waiting or after locking: no hit or miss counted. */
static int peek_value(ice_backend *b, ice_once *st, ice_err *err)
{
	int rc = ice_backend_peek(b, st->key, &st->val, &st->len, NULL, err);

	if (rc == ICE_OK)
		st->outcome = ICE_ONCE_HIT;
	return rc;
}

/* Take the lock, then look once more: the holder before us may have
 * stored the value between our miss and our lock. */
static int take_lock(ice_backend *b, ice_once *st, int64_t lock_ms, ice_err *err)
{
	int rc = ice_backend_lock(b, st->key, st->token, lock_ms, err);

	if (rc)
		return rc;
	st->outcome = ICE_ONCE_LOCKED;
	rc = peek_value(b, st, err);
	if (rc == ICE_ENOENT)
		return ICE_OK;
	ice_backend_unlock(b, st->key, st->token, NULL);
	st->token[0] = '\0';
	return rc;
}

/* Jitter spreads waiters that started together. */
static int64_t next_delay(int64_t delay, int64_t max)
{
	unsigned char r = 0;

	if (getrandom(&r, 1, GRND_NONBLOCK) != 1)
		r = 0;
	delay = delay * 2 > max ? max : delay * 2;
	return delay - delay * r / 1024; /* up to 25% earlier */
}

static int wait_for_value(ice_backend *b, ice_once *st, const ice_once_opts *o, ice_err *err)
{
	int64_t deadline = ice_monotonic_ms() + o->lock_ms;
	int64_t delay = o->first_delay_ms > 0 ? o->first_delay_ms : 20;
	int64_t max = o->max_delay_ms > 0 ? o->max_delay_ms : 1000;
	int rc;

	st->waited = 1;
	for (;;) {
		int64_t left = deadline - ice_monotonic_ms();

		if (left <= 0) {
			st->outcome = ICE_ONCE_GAVE_UP;
			return ICE_OK;
		}
		ice_sleep_ms(delay < left ? delay : left);
		delay = next_delay(delay, max);
		if ((rc = peek_value(b, st, err)) != ICE_ENOENT)
			return rc;
		rc = take_lock(b, st, o->lock_ms, err);
		if (rc != ICE_EBUSY)
			return rc;
	}
}

int ice_once_begin(ice_backend *b, const char *key, const ice_once_opts *o, ice_once *st,
                   ice_err *err)
{
	int rc;

	memset(st, 0, sizeof *st);
	st->key = key;
	if (o->lock_ms <= 0)
		return ice_err_set(err, ICE_EINVAL, "single flight: no lock time limit");
	rc = ice_backend_get(b, key, &st->val, &st->len, NULL, err);
	if (rc == ICE_OK)
		st->outcome = ICE_ONCE_HIT;
	if (rc != ICE_ENOENT)
		return rc;
	if ((rc = new_token(st->token, err)))
		return rc;
	rc = take_lock(b, st, o->lock_ms, err);
	if (rc == ICE_EBUSY)
		rc = wait_for_value(b, st, o, err);
	return rc;
}

int ice_once_end(ice_backend *b, ice_once *st, ice_err *err)
{
	int rc = ICE_OK;

	if (st->outcome == ICE_ONCE_LOCKED && st->token[0] && b)
		rc = ice_backend_unlock(b, st->key, st->token, err);
	st->token[0] = '\0';
	free(st->val);
	st->val = NULL;
	return rc;
}
