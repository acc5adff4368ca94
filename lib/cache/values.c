/* values: what the backends hand back to callers: the names of their
 * counters, and freeing entry metadata and string vectors; shared by every
 * backend and the dispatcher. */
#include "config.h"
#include "ice_backend.h"

#include <stdlib.h>
#include <string.h>

const char *const ice_backend_counter_names[ICE_BACKEND_N_COUNTERS] = {
	"hits", "misses", "puts", "invalidations", "invalidated",
};

void ice_entry_meta_clear(ice_entry_meta *m)
{
	size_t i;

	if (!m)
		return;
	free(m->origin);
	free(m->table);
	for (i = 0; i < m->n_tags; i++)
		free(m->tags[i]);
	free(m->tags);
	ice_backend_strv_free(m->tables, m->n_tables);
	memset(m, 0, sizeof *m);
}

void ice_backend_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}
