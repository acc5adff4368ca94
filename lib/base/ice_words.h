/* ice_words: split a command line into words with shell-like quoting, for
 * the ice-cache shell (so that `get 'a key with spaces'` means one key).
 *
 * Blanks (space, tab, newline) separate words. Inside '...' every character
 * is literal. Inside "..." a backslash escapes \ " $ and ` and is kept
 * before anything else. Outside quotes a backslash makes the next character
 * literal. $'...' understands \n \t \r \e \a \b \f \v \\ \' \" and \xHH.
 * A word starting with # begins a comment. Nothing is expanded: no
 * variables, globs or commands, so `ls a*` hands the pattern to ls. */
#ifndef ICE_WORDS_H
#define ICE_WORDS_H

#include <stddef.h>

#include "ice_error.h"

/* *words: a NULL-terminated array of *n malloc'd strings, owned by the
 * caller (ice_words_free). An unterminated quote or a NUL byte from \x00 is
 * ICE_EINVAL with a message naming the column. */
int ice_words_split(const char *line, char ***words, size_t *n, ice_err *err);
void ice_words_free(char **words);

/* s with a backslash before every character that ice_words_split would
 * treat specially (blanks, quotes, \ $ # and control characters), so that
 * it splits back into s as one word; malloc'd, NULL when out of memory. */
char *ice_words_escape(const char *s);

/* A glob pattern (fnmatch(3), Redis MATCH) that matches exactly s: a
 * backslash before * ? [ ] and \; malloc'd, NULL when out of memory. */
char *ice_glob_literal(const char *s);

#endif
