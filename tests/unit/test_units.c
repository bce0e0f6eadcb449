/* Unit tests of common/units.c: SPEC durations and sizes, and their bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "common/nitems.h"
#include "common/units.h"

static void
test_u64_strict(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_u64_strict("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64_strict("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_u64_strict("18446744073709551616", &v), -1);
	assert_int_equal(parse_u64_strict("99999999999999999999", &v), -1);
	assert_int_equal(parse_u64_strict("", &v), -1);
	assert_int_equal(parse_u64_strict("007", &v), -1);
	assert_int_equal(parse_u64_strict("+1", &v), -1);
	assert_int_equal(parse_u64_strict("-1", &v), -1);
	assert_int_equal(parse_u64_strict("1 ", &v), -1);
	assert_int_equal(parse_u64_strict("12a", &v), -1);
}

static void
test_duration_valid(void **state)
{
	static const struct {
		const char *text;
		uint64_t secs;
	} ok[] = {
	    {"0", 0},
	    {"45", 45},
	    {"45s", 45},
	    {"30m", 1800},
	    {"12h", 43200},
	    {"7d", 604800},
	    {"0d", 0},
	    {"1d", 86400},
	    {"18446744073709551605", UINT64_MAX - 10},
	    {"213503982334601d", 213503982334601ull * 86400},
	};

	for (size_t i = 0; i < nitems(ok); i++) {
		uint64_t v = 1234;

		if (parse_duration(ok[i].text, &v) != 0)
			fail_msg("parse_duration(%s) failed", ok[i].text);
		assert_int_equal(v, ok[i].secs);
	}
}

static void
test_duration_invalid(void **state)
{
	static const char *const bad[] = {"",
					  "s",
					  "5x",
					  "-1",
					  "+1",
					  "1.5m",
					  "1 m",
					  " 1m",
					  "1m ",
					  "1ms",
					  "1M",
					  "1S",
					  "1w",
					  "1y",
					  "1e3",
					  "0x10",
					  "m5",
					  "5mm",
					  "5\n",
					  "99999999999999999999d",
					  "18446744073709551616",
					  "213503982334602d",
					  "99999999999999999999",
					  "307445734561825861m",
					  "5124095576030432h"};

	for (size_t i = 0; i < nitems(bad); i++) {
		uint64_t v = 1234;

		if (parse_duration(bad[i], &v) != -1)
			fail_msg("parse_duration(\"%s\") accepted", bad[i]);
		assert_int_equal(v, 1234); /* untouched on error */
	}
	assert_int_equal(parse_duration(NULL, &(uint64_t){0}), -1);
}

static void
test_size(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_size("512", &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(parse_size("512K", &v), 0);
	assert_int_equal(v, 512 * 1024);
	assert_int_equal(parse_size("50M", &v), 0);
	assert_int_equal(v, 50ull << 20);
	assert_int_equal(parse_size("4G", &v), 0);
	assert_int_equal(v, 4ull << 30);
	assert_int_equal(parse_size("2T", &v), 0);
	assert_int_equal(v, 2ull << 40);
	assert_int_equal(parse_size("16777215T", &v), 0);
	assert_int_equal(v, 16777215ull << 40);

	static const char *const bad[] = {"",
					  "K",
					  "4g",
					  "4k",
					  "4GB",
					  "4 G",
					  "-4G",
					  "+4G",
					  "4.5G",
					  "4P",
					  "4E",
					  "1KK",
					  "0x1K",
					  "16777216T",
					  "99999999999999999999",
					  "18014398509481984K"};
	for (size_t i = 0; i < nitems(bad); i++) {
		v = 77;
		if (parse_size(bad[i], &v) != -1)
			fail_msg("parse_size(\"%s\") accepted", bad[i]);
		assert_int_equal(v, 77);
	}
}

static void
test_format(void **state)
{
	char buf[32];

	format_duration(900, buf, sizeof(buf));
	assert_string_equal(buf, "15m");
	format_duration(86400 * 7, buf, sizeof(buf));
	assert_string_equal(buf, "7d");
	format_duration(61, buf, sizeof(buf));
	assert_string_equal(buf, "61s");
	format_duration(0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	format_size(4ull << 30, buf, sizeof(buf));
	assert_string_equal(buf, "4G");
	format_size(1536, buf, sizeof(buf));
	assert_string_equal(buf, "1536");
	format_size(3ull << 40, buf, sizeof(buf));
	assert_string_equal(buf, "3T");
	format_size(UINT64_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "18446744073709551615");
	/* truncation never overruns */
	format_size(UINT64_MAX, buf, 4);
	assert_string_equal(buf, "184");

	/* format and parse round-trip */
	for (uint64_t v = 1; v < (1ull << 62); v = v * 3 + 1) {
		uint64_t back;

		format_duration(v, buf, sizeof(buf));
		assert_int_equal(parse_duration(buf, &back), 0);
		assert_int_equal(back, v);
		format_size(v, buf, sizeof(buf));
		assert_int_equal(parse_size(buf, &back), 0);
		assert_int_equal(back, v);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_u64_strict),	     cmocka_unit_test(test_duration_valid),
	    cmocka_unit_test(test_duration_invalid), cmocka_unit_test(test_size),
	    cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
