/* Unit tests of common/why.c: the failure buffer every library function fills. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/why.h"

static void
test_fills_and_returns(void **state)
{
	char why[64] = "stale";

	assert_int_equal(why_set(why, sizeof(why), "mkdir %s: %s", "/x", "Permission denied"), -1);
	assert_string_equal(why, "mkdir /x: Permission denied");
}

static void
test_truncates(void **state)
{
	char why[8];

	memset(why, 'X', sizeof(why));
	assert_int_equal(why_set(why, sizeof(why), "%s", "0123456789"), -1);
	assert_string_equal(why, "0123456");
	assert_int_equal(why_set(why, 1, "%s", "abc"), -1);
	assert_string_equal(why, "");
}

static void
test_no_buffer(void **state)
{
	char why[4] = "ok";

	assert_int_equal(why_set(NULL, 10, "%s", "x"), -1);
	assert_int_equal(why_set(why, 0, "%s", "xyz"), -1);
	assert_string_equal(why, "ok"); /* untouched */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fills_and_returns),
	    cmocka_unit_test(test_truncates),
	    cmocka_unit_test(test_no_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
