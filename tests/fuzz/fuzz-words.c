/* fuzz-words: the ice-cache shell's word splitting (ice_words_split), and
 * its promise that ice_words_escape(w) splits back into w, one word (the
 * empty word escapes to nothing, as tests/unit/test-words.c has it). */
#include "config.h"
#include "fuzz.h"
#include "ice_words.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_text(data, size), **words = NULL, **again = NULL, *esc;
	size_t n = 0, m = 0;

	if (!line)
		return 0;
	if (ice_words_split(line, &words, &n, NULL) == ICE_OK) {
		for (size_t i = 0; i < n; i++) {
			if (!words[i][0] || !(esc = ice_words_escape(words[i])))
				continue;
			if (ice_words_split(esc, &again, &m, NULL) != ICE_OK || m != 1 ||
			    strcmp(again[0], words[i]) != 0)
				abort(); /* the escape did not round-trip */
			ice_words_free(again);
			free(esc);
		}
		ice_words_free(words);
	}
	free(line);
	return 0;
}
