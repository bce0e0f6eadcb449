/* Unit tests of common/utctime.c: every timestamp the gateway writes, and strict day parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/nitems.h"
#include "common/utctime.h"

static void
test_styles(void **state)
{
	char out[UTC_MAX_LEN];

	assert_int_equal(utc_format(1764124200, UTC_ISO8601, out, sizeof(out)), 20);
	assert_string_equal(out, "2025-11-26T02:30:00Z");
	assert_int_equal(utc_format(1764124200, UTC_DAY, out, sizeof(out)), 10);
	assert_string_equal(out, "2025-11-26");
	assert_int_equal(utc_format(1764124200, UTC_MINUTE, out, sizeof(out)), 16);
	assert_string_equal(out, "2025-11-26 02:30");
	assert_int_equal(utc_format(0, UTC_ISO8601, out, sizeof(out)), 20);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
}

/* The hand-made formatter agrees with strftime over a spread of times. */
static void
test_agrees_with_strftime(void **state)
{
	char ours[UTC_MAX_LEN], libc[64];

	for (uint64_t t = 0; t < 4102444800ULL; t += 7777777) {
		time_t tt = (time_t)t;
		struct tm tm;

		assert_non_null(gmtime_r(&tt, &tm));
		strftime(libc, sizeof(libc), "%Y-%m-%dT%H:%M:%SZ", &tm);
		assert_int_equal(utc_format(t, UTC_ISO8601, ours, sizeof(ours)), 20);
		assert_string_equal(ours, libc);
	}
}

static void
test_limits(void **state)
{
	char out[UTC_MAX_LEN];

	/* Too small a buffer: refused, and the buffer holds "". */
	assert_int_equal(utc_format(0, UTC_ISO8601, out, 20), -1);
	assert_string_equal(out, "");
	assert_int_equal(utc_format(0, UTC_DAY, out, 11), 10);
	/* Years past 9999 and times past INT64_MAX do not fit the layout. */
	assert_int_equal(utc_format(253402300800ULL, UTC_ISO8601, out, sizeof(out)), -1);
	assert_int_equal(utc_format(UINT64_MAX, UTC_ISO8601, out, sizeof(out)), -1);
	assert_int_equal(utc_format(0, (enum utc_style)99, out, sizeof(out)), -1);
}

static void
test_parse_day(void **state)
{
	static const char *const bad[] = {
	    "",		"2026-2-03",  "2026-02-31", "2026-13-01", "2026-02-03x",
	    "26-02-03", "2026/02/03", "2026-02-3 ", "abcd-ef-gh", "2026-00-10"};
	uint64_t t = 0;

	assert_int_equal(utc_parse_day("2026-02-03", &t), 0);
	assert_int_equal(t, 1770076800);
	assert_int_equal(utc_parse_day("2024-02-29", &t), 0); /* a leap day */
	for (size_t i = 0; i < nitems(bad); i++)
		assert_int_equal(utc_parse_day(bad[i], &t), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_styles),
	    cmocka_unit_test(test_agrees_with_strftime),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_parse_day),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
