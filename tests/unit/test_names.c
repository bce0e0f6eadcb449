/* Unit tests of common/names.c: names that reach file systems, LMDB keys and logs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/names.h"
#include "common/nitems.h"

static void
test_name_valid(void **state)
{
	static const char *const ok[] = {
	    "a", "alice", "acme-office", "p_1", "z9", "abcdefghijklmnopqrstuvwxyz012345" /* 32 */};
	static const char *const bad[] = {"",
					  "A",
					  "Alice",
					  "1abc",
					  "-a",
					  "_a",
					  "a b",
					  "a.b",
					  "a/b",
					  "../a",
					  "a\n",
					  "a\t",
					  "a:b",
					  "a@b",
					  "é",
					  "a\xc3\xa9",
					  ".",
					  "..",
					  "abcdefghijklmnopqrstuvwxyz0123456" /* 33 */};

	for (size_t i = 0; i < nitems(ok); i++)
		if (!name_valid(ok[i]))
			fail_msg("name_valid(\"%s\") refused", ok[i]);
	for (size_t i = 0; i < nitems(bad); i++)
		if (name_valid(bad[i]))
			fail_msg("name_valid(\"%s\") accepted", bad[i]);
	assert_false(name_valid(NULL));
}

static void
test_filename_valid(void **state)
{
	char longest[257];
	static const char *const ok[] = {"a",	       "table1.csv", ".hidden", "...", "a b",
					 "résumé.pdf", "-rf",	     "a..b",	"\xff"};
	static const char *const bad[] = {"",	  ".",	   "..", "a/b",	 "/",	"a\n",
					  "\x01", "a\x7f", "\t", "a\rb", "../x"};

	for (size_t i = 0; i < nitems(ok); i++)
		if (!filename_valid(ok[i]))
			fail_msg("filename_valid(\"%s\") refused", ok[i]);
	for (size_t i = 0; i < nitems(bad); i++)
		if (filename_valid(bad[i]))
			fail_msg("filename_valid(\"%s\") accepted", bad[i]);
	assert_false(filename_valid(NULL));

	memset(longest, 'x', sizeof(longest));
	longest[255] = '\0';
	assert_true(filename_valid(longest));
	longest[255] = 'x';
	longest[256] = '\0';
	assert_false(filename_valid(longest));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_valid),
	    cmocka_unit_test(test_filename_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
