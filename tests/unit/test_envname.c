/* Unit tests of common/envname.c: the only variables a client may set in a session. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/envname.h"
#include "common/nitems.h"

static void
test_names(void **state)
{
	static const char *const ok[] = {"LANG", "TERM", "LC_ALL", "LC_CTYPE", "LC_X_Y"};
	static const char *const bad[] = {
	    "",	       "LC_",  "LC_all",  "LC_1",     "LANGUAGE", "LD_PRELOAD", "PATH",
	    "TERMCAP", "lang", "LC_ALL=", "BASH_ENV", "LAN",	  "TER"};

	for (size_t i = 0; i < nitems(ok); i++)
		assert_true(envname_allowed(ok[i], strlen(ok[i])));
	for (size_t i = 0; i < nitems(bad); i++)
		assert_false(envname_allowed(bad[i], strlen(bad[i])));
	/* Only the given length counts: "LANGX" cut at 4 is LANG. */
	assert_true(envname_allowed("LANGX", 4));
}

static void
test_pairs(void **state)
{
	assert_true(envname_pair_allowed("LANG=ja_JP.UTF-8"));
	assert_true(envname_pair_allowed("LC_ALL="));
	assert_true(envname_pair_allowed("TERM=xterm=256"));
	assert_false(envname_pair_allowed("LANG"));
	assert_false(envname_pair_allowed("=LANG"));
	assert_false(envname_pair_allowed("LANG=C\nLD_PRELOAD=/tmp/x.so"));
	assert_false(envname_pair_allowed("LD_PRELOAD=/tmp/x.so"));
	assert_false(envname_pair_allowed("LC_ALL\n=C"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_pairs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
