/* fuzz-s3xml: S3's XML answers (a ListObjectsV2 page, an error document),
 * which whoever runs the endpoint, or sits on a plain-HTTP path to it,
 * controls. */
#include "config.h"
#include "fuzz.h"
#include "ice_s3xml.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ice_listing l = { 0 };
	ice_s3_page page = { 0 };
	ice_s3_error_doc e;

	/* A page appended to a listing that already holds one, as the
	 * continuation of a listing does. */
	if (ice_s3_parse_list((const char *)data, size, &l, &page, NULL) == ICE_OK) {
		free(page.next_token);
		page.next_token = NULL;
		if (ice_s3_parse_list((const char *)data, size, &l, &page, NULL) == ICE_OK)
			free(page.next_token);
	}
	ice_listing_clear(&l);
	ice_s3_parse_error((const char *)data, size, &e);
	return 0;
}
