/* asciicast v2 event lines: what the worker encodes, replay decodes to the very same bytes,
 * whatever they are; anything that is not exactly an event line is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/asciicast.h"

static char line[ASCIICAST_LINE_MAX];
static uint8_t back[ASCIICAST_DATA_MAX * 4];

static void
roundtrip(const uint8_t *p, size_t n, char code)
{
	double t;
	char c;
	size_t len = asciicast_event(1.5, code, p, n, line, sizeof(line)), got;

	assert_true(len > 0);
	assert_int_equal(line[len - 1], '\n');
	assert_null(memchr(line, '\n', len - 1)); /* one line, whatever the bytes */
	assert_int_equal(asciicast_parse_event(line, len, &t, &c, back, sizeof(back), &got), 0);
	assert_int_equal(c, code);
	assert_true(t > 1.4 && t < 1.6);
	assert_int_equal(got, n);
	assert_memory_equal(back, p, n);
}

static void
test_text_and_controls(void **state)
{
	static const char s[] = "hello \"world\" \\ \r\n\t\x1b[1m\x7f\x01 日本語 é";

	(void)state;
	roundtrip((const uint8_t *)s, sizeof(s) - 1, 'o');
	roundtrip((const uint8_t *)"", 0, 'i');
}

/* Not UTF-8: lone bytes, a sequence cut at the end of a chunk, overlong forms, surrogates. */
static void
test_any_bytes(void **state)
{
	static const uint8_t odd[] = {0xff, 0x80, 0xe6, 0x97, 0xc0, 0xaf, 0xed,
				      0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xe6};
	uint8_t *rnd = malloc(ASCIICAST_DATA_MAX);

	(void)state;
	roundtrip(odd, sizeof(odd), 'o');
	srand(11);
	for (int round = 0; round < 20; round++) {
		size_t n = (size_t)rand() % ASCIICAST_DATA_MAX;

		for (size_t i = 0; i < n; i++)
			rnd[i] = (uint8_t)rand();
		roundtrip(rnd, n, 'o');
	}
	memset(rnd, 0xff, ASCIICAST_DATA_MAX); /* the worst case fits the buffer */
	roundtrip(rnd, ASCIICAST_DATA_MAX, 'o');
	assert_int_equal(asciicast_event(0, 'o', rnd, ASCIICAST_DATA_MAX + 1, line, sizeof(line)),
			 0);
	free(rnd);
}

static void
test_malformed_refused(void **state)
{
	static const char *const bad[] = {
	    "",
	    "[1.0, \"o\", \"x\"",
	    "[1.0, \"o\", \"x\"] trailing",
	    "[-1, \"o\", \"x\"]",
	    "[nan, \"o\", \"x\"]",
	    "[1.0, \"oo\", \"x\"]",
	    "[1.0, \"o\", \"\\ud800\"]", /* a high surrogate alone */
	    "[1.0, \"o\", \"\\udc10\"]", /* a low surrogate that escapes no byte */
	    "[1.0, \"o\", \"\\u12\"]",
	    "[1.0, \"o\", \"a\x01b\"]", /* a raw control character */
	    "[1.0, \"o\", \"\\q\"]",
	    "{\"version\": 2}",
	};
	double t;
	char c;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    asciicast_parse_event(bad[i], strlen(bad[i]), &t, &c, back, sizeof(back), &n),
		    -1);
	/* and a surrogate pair is a character */
	assert_int_equal(asciicast_parse_event("[0, \"o\", \"\\ud83d\\ude00\"]", 24, &t, &c, back,
					       sizeof(back), &n),
			 0);
	assert_int_equal(n, 4);
	assert_memory_equal(back, "\xf0\x9f\x98\x80", 4);
	/* output that does not fit is refused, not cut */
	assert_int_equal(asciicast_parse_event("[0, \"o\", \"abcdef\"]", 18, &t, &c, back, 3, &n),
			 -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text_and_controls),
	    cmocka_unit_test(test_any_bytes),
	    cmocka_unit_test(test_malformed_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
