/* The state machine table and the request record codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "transfer/queue.h"

static void
test_only_spec_transitions(void **state)
{
	static const int allowed[][2] = {{ST_PENDING, ST_APPROVED},
					 {ST_PENDING, ST_REJECTED},
					 {ST_PENDING, ST_WITHDRAWN},
					 {ST_APPROVED, ST_RELEASED},
					 {ST_PENDING, ST_RETURNED}};
	int n = 0;

	(void)state;
	for (int from = 0; from <= ST_LAST + 1; from++) {
		for (int to = 0; to <= ST_LAST + 1; to++) {
			int want = 0;

			for (size_t i = 0; i < 5; i++)
				if (allowed[i][0] == from && allowed[i][1] == to)
					want = 1;
			if (want)
				assert_non_null(queue_transition(from, to));
			else
				assert_null(queue_transition(from, to));
			n += queue_transition(from, to) != NULL;
		}
	}
	assert_int_equal(n, 5);
	assert_string_equal(queue_transition(ST_PENDING, ST_RETURNED), "transfer.return");
	assert_string_equal(queue_transition(ST_PENDING, ST_APPROVED), "transfer.approve");
	assert_string_equal(queue_transition(ST_APPROVED, ST_RELEASED), "transfer.release");
	/* terminal states go nowhere */
	for (int to = 0; to <= ST_LAST; to++) {
		assert_null(queue_transition(ST_RETURNED, to));
		assert_null(queue_transition(ST_REJECTED, to));
		assert_null(queue_transition(ST_WITHDRAWN, to));
		assert_null(queue_transition(ST_RELEASED, to));
	}
}

static void
fill(struct request *r)
{
	memset(r, 0, sizeof(*r));
	r->s.id = 42;
	r->s.kind = KIND_MOVE;
	r->s.state = ST_APPROVED;
	r->s.check = CHECK_WARN;
	strcpy(r->s.project, "p1");
	strcpy(r->s.area, "onsite");
	strcpy(r->s.to_area, "remote");
	strcpy(r->s.requester, "root");
	strcpy(r->s.name, "t\xe6\x97\xa5.csv");
	r->s.size = 123456789;
	r->s.created = 1700000000;
	r->s.decided = 1700000100;
	strcpy(r->relpath, "a/b/t\xe6\x97\xa5.csv");
	memset(r->sha256, 0xab, sizeof(r->sha256));
	strcpy(r->reason, "for the paper");
	strcpy(r->reviewer, "adm");
	strcpy(r->note, "ok");
	strcpy(r->report, "result: warn\n");
}

static void
test_roundtrip_and_truncation(void **state)
{
	struct request *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct req_summary s;
	uint8_t *data;
	size_t len;

	(void)state;
	fill(a);
	assert_int_equal(queue_encode(a, &data, &len), 0);
	assert_int_equal(queue_decode(data, len, b), 0);
	assert_memory_equal(&a->s, &b->s, sizeof(a->s));
	assert_string_equal(a->relpath, b->relpath);
	assert_memory_equal(a->sha256, b->sha256, 32);
	assert_string_equal(a->report, b->report);
	assert_int_equal(queue_decode_summary(data, len, &s), 0);
	assert_int_equal(s.id, 42);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_not_equal(queue_decode(data, cut, b), 0);
	data[0] = 99; /* unknown record version */
	assert_int_not_equal(queue_decode(data, len, b), 0);
	data[0] = QUEUE_RECORD_VERSION;
	data[1 + 8 + 1] = 77; /* state out of range */
	assert_int_not_equal(queue_decode(data, len, b), 0);
	free(data);
	free(a);
	free(b);
}

static void
test_safe_text(void **state)
{
	char out[64];

	(void)state;
	assert_string_equal(queue_safe_text("t\xe6\x97\xa5.csv", out, sizeof(out), 0),
			    "t\xe6\x97\xa5.csv");
	/* C1 controls, raw 8-bit CSI, invalid bytes, overlong, surrogate, C0, DEL */
	assert_string_equal(queue_safe_text("a\xc2\x9b[2Jb", out, sizeof(out), 0), "a?[2Jb");
	assert_string_equal(queue_safe_text("a\x9b[2J", out, sizeof(out), 0), "a?[2J");
	assert_string_equal(queue_safe_text("\xff\xc0\xaf", out, sizeof(out), 0), "???");
	assert_string_equal(queue_safe_text("\xed\xa0\x80x", out, sizeof(out), 0), "???x");
	assert_string_equal(queue_safe_text("a\x1b[0m\x7f", out, sizeof(out), 0), "a?[0m?");
	assert_string_equal(queue_safe_text("l1\nl2", out, sizeof(out), 0), "l1?l2");
	assert_string_equal(queue_safe_text("l1\nl2", out, sizeof(out), 1), "l1\nl2");
	/* truncated sequence at the end, and a buffer too small for a whole character */
	assert_string_equal(queue_safe_text("ab\xe6\x97", out, sizeof(out), 0), "ab??");
	assert_string_equal(queue_safe_text("a\xe6\x97\xa5", out, 3, 0), "a");
	strcpy(out, "x\xc2\x9by");
	assert_string_equal(queue_safe_text(out, out, sizeof(out), 0), "x?y");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_only_spec_transitions),
	    cmocka_unit_test(test_roundtrip_and_truncation),
	    cmocka_unit_test(test_safe_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
