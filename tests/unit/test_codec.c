/* Unit tests of common/codec.c: round trips and every way a hostile buffer can be short,
 * oversized or malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/codec.h"

static void
test_roundtrip(void **state)
{
	struct wbuf w;
	struct rbuf r;
	char s[16];
	uint8_t blob[8];
	size_t n;

	wbuf_init(&w);
	wbuf_put_u8(&w, 0xab);
	wbuf_put_u32(&w, 0xdeadbeef);
	wbuf_put_u64(&w, 0x0102030405060708ull);
	wbuf_put_str(&w, "hello");
	wbuf_put_str(&w, NULL);
	wbuf_put_bytes(&w, "\x00\x01\x02", 3);
	wbuf_put_raw(&w, "RAW", 3);
	assert_false(w.err);
	/* big-endian on the wire */
	assert_memory_equal(w.data, "\xab\xde\xad\xbe\xef\x01\x02\x03\x04\x05\x06\x07\x08", 13);

	rbuf_init(&r, w.data, w.len);
	assert_int_equal(rbuf_u8(&r), 0xab);
	assert_int_equal(rbuf_u32(&r), 0xdeadbeef);
	assert_int_equal(rbuf_u64(&r), 0x0102030405060708ull);
	rbuf_str(&r, s, sizeof(s));
	assert_string_equal(s, "hello");
	rbuf_str(&r, s, sizeof(s));
	assert_string_equal(s, "");
	rbuf_bytes(&r, blob, sizeof(blob), &n);
	assert_int_equal(n, 3);
	assert_memory_equal(blob, "\x00\x01\x02", 3);
	assert_true(rbuf_ok(&r));
	assert_false(rbuf_done(&r)); /* 3 raw bytes left */
	rbuf_raw(&r, s, 3);
	assert_memory_equal(s, "RAW", 3);
	assert_true(rbuf_done(&r));
	wbuf_free(&w);
	assert_null(w.data);
}

/* Every prefix of a valid record must fail cleanly, and every read after the failure must
 * return zero/empty. */
static void
test_truncated(void **state)
{
	struct wbuf w;
	char s[16];

	wbuf_init(&w);
	wbuf_put_u32(&w, 7);
	wbuf_put_str(&w, "abcdef");
	wbuf_put_u64(&w, 9);
	assert_false(w.err);
	for (size_t len = 0; len < w.len; len++) {
		struct rbuf r;
		uint32_t a;
		uint64_t b;

		rbuf_init(&r, w.data, len);
		a = rbuf_u32(&r);
		rbuf_str(&r, s, sizeof(s));
		b = rbuf_u64(&r);
		assert_false(rbuf_ok(&r));
		assert_false(rbuf_done(&r));
		assert_int_equal(b, 0);
		if (len < 4)
			assert_int_equal(a, 0);
		if (len < 14)
			assert_string_equal(s, "");
		/* sticky: a later read that would fit still fails */
		rbuf_init(&r, w.data, len);
		r.err = 1;
		assert_int_equal(rbuf_u8(&r), 0);
		assert_int_equal(r.off, 0);
	}
	wbuf_free(&w);
}

static void
test_string_bounds(void **state)
{
	struct rbuf r;
	char s[4];
	size_t n;
	uint8_t blob[2];

	/* length field larger than the buffer */
	rbuf_init(&r,
		  "\x00\x00\x00\x05"
		  "ab",
		  6);
	rbuf_str(&r, s, sizeof(s));
	assert_false(rbuf_ok(&r));
	assert_string_equal(s, "");
	/* a length near 2^32 must not wrap the offset */
	rbuf_init(&r,
		  "\xff\xff\xff\xff"
		  "ab",
		  6);
	rbuf_str(&r, s, sizeof(s));
	assert_false(rbuf_ok(&r));
	rbuf_init(&r,
		  "\xff\xff\xff\xfe"
		  "ab",
		  6);
	assert_null(rbuf_view(&r, &n));
	assert_int_equal(n, 0);
	assert_false(rbuf_ok(&r));
	/* a string that fits the buffer but not the destination (needs room for NUL) */
	rbuf_init(&r,
		  "\x00\x00\x00\x04"
		  "abcd",
		  8);
	rbuf_str(&r, s, sizeof(s));
	assert_false(rbuf_ok(&r));
	assert_string_equal(s, "");
	rbuf_init(&r,
		  "\x00\x00\x00\x03"
		  "abc",
		  7);
	rbuf_str(&r, s, sizeof(s));
	assert_true(rbuf_done(&r));
	assert_string_equal(s, "abc");
	/* an embedded NUL would truncate a name silently: refused */
	rbuf_init(&r,
		  "\x00\x00\x00\x03"
		  "a\0c",
		  7);
	rbuf_str(&r, s, sizeof(s));
	assert_false(rbuf_ok(&r));
	/* a blob larger than its destination */
	rbuf_init(&r,
		  "\x00\x00\x00\x03"
		  "abc",
		  7);
	rbuf_bytes(&r, blob, sizeof(blob), &n);
	assert_false(rbuf_ok(&r));
	assert_int_equal(n, 0);
	/* a zero-capacity destination */
	rbuf_init(&r, "\x00\x00\x00\x00", 4);
	rbuf_str(&r, s, 0);
	assert_false(rbuf_ok(&r));
	/* raw read past the end zero-fills */
	memset(s, 'x', sizeof(s));
	rbuf_init(&r, "ab", 2);
	rbuf_raw(&r, s, 3);
	assert_false(rbuf_ok(&r));
	assert_memory_equal(s, "\0\0\0", 3);
	/* trailing junk: ok but not done */
	rbuf_init(&r, "\x01\x02", 2);
	assert_int_equal(rbuf_u8(&r), 1);
	assert_true(rbuf_ok(&r));
	assert_false(rbuf_done(&r));
	/* empty buffer */
	rbuf_init(&r, NULL, 0);
	assert_true(rbuf_done(&r));
	assert_int_equal(rbuf_u32(&r), 0);
	assert_false(rbuf_ok(&r));
}

static void
test_writer_limits(void **state)
{
	struct wbuf w;
	static uint8_t big[1 << 16];

	/* growth over many reallocations keeps the content */
	wbuf_init(&w);
	for (int i = 0; i < 1024; i++)
		wbuf_put_raw(&w, big, sizeof(big));
	assert_false(w.err);
	assert_int_equal(w.len, 64u << 20);
	/* past the 64 MiB record cap the writer fails and stays failed */
	wbuf_put_u8(&w, 1);
	assert_true(w.err);
	assert_int_equal(w.len, 64u << 20);
	wbuf_put_u8(&w, 1);
	assert_true(w.err);
	wbuf_free(&w);
	assert_int_equal(w.len, 0);

	wbuf_init(&w);
	wbuf_put_bytes(&w, big, (size_t)UINT32_MAX + 1);
	assert_true(w.err);
	wbuf_free(&w);
	wbuf_init(&w);
	wbuf_put_raw(&w, big, SIZE_MAX);
	assert_true(w.err);
	wbuf_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_string_bounds),
	    cmocka_unit_test(test_writer_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
