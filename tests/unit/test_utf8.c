/* Unit tests of common/utf8.c: the strict decoder behind every display of hostile text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/nitems.h"
#include "common/utf8.h"

static void
test_valid(void **state)
{
	static const struct {
		const char *s;
		size_t n;
		uint32_t cp;
	} ok[] = {
	    {"A", 1, 'A'},
	    {"\xc2\xa0", 2, 0xa0},
	    {"\xe6\x97\xa5", 3, 0x65e5},
	    {"\xef\xbb\xbf", 3, 0xfeff},
	    {"\xf0\x9f\x98\x80", 4, 0x1f600},
	    {"\xf4\x8f\xbf\xbf", 4, 0x10ffff},
	};

	for (size_t i = 0; i < nitems(ok); i++) {
		uint32_t cp = 0;

		assert_int_equal(utf8_decode((const unsigned char *)ok[i].s, strlen(ok[i].s), &cp),
				 ok[i].n);
		assert_int_equal(cp, ok[i].cp);
	}
}

static void
test_invalid(void **state)
{
	static const char *const bad[] = {
	    "\x80",		/* a lone continuation byte */
	    "\xc0\x80",		/* overlong NUL */
	    "\xe0\x80\xaf",	/* overlong '/' */
	    "\xed\xa0\x80",	/* a surrogate */
	    "\xf4\x90\x80\x80", /* past U+10FFFF */
	    "\xf5\x80\x80\x80", /* no such lead byte */
	    "\xe6\x97",		/* cut short by the NUL */
	    "\xe6\x41\xa5",	/* not a continuation */
	};
	uint32_t cp = 7;

	for (size_t i = 0; i < nitems(bad); i++)
		assert_int_equal(utf8_decode((const unsigned char *)bad[i], 4, &cp), 0);
	assert_int_equal(cp, 7); /* untouched */
	/* Cut short by avail, although the bytes are there. */
	assert_int_equal(utf8_decode((const unsigned char *)"\xe6\x97\xa5", 2, &cp), 0);
	assert_int_equal(utf8_decode((const unsigned char *)"A", 0, &cp), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
