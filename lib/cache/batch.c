/* batch: group a run of writes into a few commits (see ice_batch.h). */
#include "config.h"
#include "ice_batch.h"

#include "ice_time.h"

void ice_batch_init(ice_batch *bt, ice_backend *b)
{
	*bt = (ice_batch){ .b = b };
}

int ice_batch_open(ice_batch *bt, ice_err *err)
{
	int rc;

	if (bt->open || bt->unsupported)
		return ICE_OK;
	rc = ice_backend_batch(bt->b, ICE_BATCH_BEGIN, err);
	if (rc == ICE_EUNSUPPORTED) {
		bt->unsupported = true; /* every write is its own commit */
		ice_err_clear(err);
		return ICE_OK;
	}
	if (rc == ICE_OK) {
		bt->open = true;
		bt->opened_ms = ice_now_ms();
	}
	return rc;
}

static bool full(const ice_batch *bt)
{
	return bt->pending >= ICE_BATCH_MAX_ENTRIES || bt->pending_bytes >= ICE_BATCH_MAX_BYTES ||
	       ice_now_ms() - bt->opened_ms >= ICE_BATCH_MAX_MS;
}

int ice_batch_wrote(ice_batch *bt, uint64_t bytes, ice_err *err)
{
	bt->pending++;
	bt->pending_bytes += bytes;
	return !bt->open || full(bt) ? ice_batch_close(bt, err) : ICE_OK;
}

int ice_batch_close(ice_batch *bt, ice_err *err)
{
	int rc = ICE_OK;

	if (bt->open) {
		bt->open = false;
		rc = ice_backend_batch(bt->b, ICE_BATCH_COMMIT, err);
	}
	if (rc == ICE_OK) {
		bt->entries += bt->pending;
		bt->bytes += bt->pending_bytes;
	}
	bt->pending = bt->pending_bytes = 0;
	return rc;
}
