/* test-words: shell-like word splitting and escaping (ice_words) and the
 * archive member path check (ice_archive_path_safe). */
#include "config.h"
#include "tests.h"

#include <stdlib.h>
#include <string.h>

#include "ice_archive.h"
#include "ice_words.h"

/* The words of line joined by "|", or "ERR:message". */
static char *split_joined(const char *line)
{
	static char out[ICE_ERR_MSG_MAX + 16];
	char **w = NULL;
	size_t n = 0;
	ice_err err = { 0 };

	if (ice_words_split(line, &w, &n, &err) != ICE_OK) {
		snprintf(out, sizeof out, "ERR:%s", err.msg);
		return out;
	}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "|" : "", w[i]);
	if (w[n] != NULL)
		snprintf(out, sizeof out, "ERR:not NULL-terminated");
	ice_words_free(w);
	return out;
}

static void test_split(void)
{
	tap_is_str(split_joined("  ls   --table db.t  "), "ls|--table|db.t", "split: blanks separate words");
	tap_is_str(split_joined("get 'a key  with spaces'"), "get|a key  with spaces", "split: single quotes keep blanks");
	tap_is_str(split_joined("get \"a \\\"q\\\" \\\\ \\n\""), "get|a \"q\" \\ \\n",
	           "split: double quotes escape \\ and \" only");
	tap_is_str(split_joined("get a\\ b\\*"), "get|a b*", "split: backslash outside quotes");
	tap_is_str(split_joined("get $'new\\nline\\x41\\t'"), "get|new\nlineA\t", "split: $'...' escapes");
	tap_is_str(split_joined("ls a*?[x]"), "ls|a*?[x]", "split: globs are not expanded");
	tap_is_str(split_joined("put '' x"), "put||x", "split: an empty quoted word is a word");
	tap_is_str(split_joined("rm k # a comment"), "rm|k", "split: # starts a comment");
	tap_is_str(split_joined("get a#b"), "get|a#b", "split: # inside a word is literal");
	tap_is_str(split_joined(""), "", "split: empty line, no words");
	tap_ok(strncmp(split_joined("get 'open"), "ERR:column ", 11) == 0 &&
	       strstr(split_joined("get 'open"), "unterminated ' quote"),
	       "split: unterminated quote is an error with its column (%s)", split_joined("get 'open"));
	tap_ok(strstr(split_joined("get $'\\x00'"), "NUL") != NULL, "split: \\x00 refused");
	tap_ok(strstr(split_joined("get a\\"), "backslash at the end") != NULL, "split: trailing backslash refused");
}

static void test_escape(void)
{
	static const char *const samples[] = { "plain", "with space", "q'u\"o`te$", "new\nline",
	                                       "glob*?[x]", "#hash", "back\\slash", "" };

	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		char *e = ice_words_escape(samples[i]), **w = NULL;
		size_t n = 0;
		int ok = e && ice_words_split(e, &w, &n, NULL) == ICE_OK &&
		         (samples[i][0] ? n == 1 && strcmp(w[0], samples[i]) == 0 : n == 0);
		tap_ok(ok, "escape: sample %zu splits back to itself", i);
		ice_words_free(w);
		free(e);
	}
}

static void test_path_safe(void)
{
	tap_ok(ice_archive_path_safe("entries/00000001.json"), "path_safe: a plain member");
	tap_ok(ice_archive_path_safe("./entries/1.value"), "path_safe: ./ prefix");
	tap_ok(ice_archive_path_safe("entries/..x"), "path_safe: '..x' is a name, not a parent");
	tap_ok(!ice_archive_path_safe("/etc/passwd"), "path_safe: absolute refused");
	tap_ok(!ice_archive_path_safe("../x"), "path_safe: ../ refused");
	tap_ok(!ice_archive_path_safe("entries/../../x"), "path_safe: inner .. refused");
	tap_ok(!ice_archive_path_safe("entries/.."), "path_safe: trailing .. refused");
	tap_ok(!ice_archive_path_safe("..\\x"), "path_safe: backslash refused");
	tap_ok(!ice_archive_path_safe(""), "path_safe: empty refused");
	tap_ok(!ice_archive_path_safe(NULL), "path_safe: no name refused");
}

void test_words(void)
{
	test_split();
	test_escape();
	test_path_safe();
}
