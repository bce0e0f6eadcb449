/* The audit chain must reveal any change, deletion, insertion, reordering or truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/audit.h"
#include "common/store.h"

struct fixture {
	char dir[64];
	struct store *st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char key[128], why[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/wsgate-audit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(key, sizeof(key), "%s/secrets.key", f->dir);
	assert_int_equal(secrets_create(key), 0);
	assert_int_equal(store_open(f->dir, 1, &f->st, why, sizeof(why)), 0);
	for (int i = 1; i <= 5; i++)
		assert_int_equal(audit_log(f->st, "alice", "test.event", "n=%d", i), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int
verify(struct store *st)
{
	uint64_t n;
	char why[256];

	return audit_verify(st, &n, why, sizeof(why));
}

/* Runs fn on record seq inside a write transaction that bypasses audit_append. */
static void
tamper(struct store *st, uint64_t seq, void (*fn)(struct store *, MDB_txn *, uint64_t))
{
	MDB_txn *txn;

	assert_int_equal(store_begin(st, 0, &txn), 0);
	fn(st, txn, seq);
	assert_int_equal(store_commit(txn), 0);
}

static void
flip_byte(struct store *st, MDB_txn *txn, uint64_t seq)
{
	uint8_t key[8], copy[2048];
	MDB_val v;

	store_u64_key(seq, key);
	assert_int_equal(store_get(st, txn, DB_AUDIT, key, 8, &v), 0);
	assert_true(v.mv_size < sizeof(copy));
	memcpy(copy, v.mv_data, v.mv_size);
	copy[v.mv_size - 40] ^= 1; /* inside the detail text, before the MAC */
	assert_int_equal(store_put(st, txn, DB_AUDIT, key, 8, copy, v.mv_size, 0), 0);
}

static void
delete_rec(struct store *st, MDB_txn *txn, uint64_t seq)
{
	uint8_t key[8];

	store_u64_key(seq, key);
	assert_int_equal(store_del(st, txn, DB_AUDIT, key, 8), 0);
}

static void
swap_with_next(struct store *st, MDB_txn *txn, uint64_t seq)
{
	uint8_t k1[8], k2[8], a[2048], b[2048];
	MDB_val v1, v2;
	size_t n1, n2;

	store_u64_key(seq, k1);
	store_u64_key(seq + 1, k2);
	assert_int_equal(store_get(st, txn, DB_AUDIT, k1, 8, &v1), 0);
	n1 = v1.mv_size;
	memcpy(a, v1.mv_data, n1);
	assert_int_equal(store_get(st, txn, DB_AUDIT, k2, 8, &v2), 0);
	n2 = v2.mv_size;
	memcpy(b, v2.mv_data, n2);
	assert_int_equal(store_put(st, txn, DB_AUDIT, k1, 8, b, n2, 0), 0);
	assert_int_equal(store_put(st, txn, DB_AUDIT, k2, 8, a, n1, 0), 0);
}

static void
test_intact_chain_verifies(void **state)
{
	struct fixture *f = *state;
	uint64_t n;
	char why[256];

	assert_int_equal(audit_verify(f->st, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 5);
}

static void
test_changed_record_detected(void **state)
{
	struct fixture *f = *state;

	tamper(f->st, 3, flip_byte);
	assert_int_not_equal(verify(f->st), 0);
}

static void
test_deleted_middle_record_detected(void **state)
{
	struct fixture *f = *state;

	tamper(f->st, 2, delete_rec);
	assert_int_not_equal(verify(f->st), 0);
}

static void
test_deleted_last_record_detected(void **state)
{
	struct fixture *f = *state;

	tamper(f->st, 5, delete_rec);
	assert_int_not_equal(verify(f->st), 0);
}

static void
test_reordered_records_detected(void **state)
{
	struct fixture *f = *state;

	tamper(f->st, 2, swap_with_next);
	assert_int_not_equal(verify(f->st), 0);
}

static void
test_append_after_reopen_continues_chain(void **state)
{
	struct fixture *f = *state;
	char why[256];

	store_close(f->st);
	assert_int_equal(store_open(f->dir, 0, &f->st, why, sizeof(why)), 0);
	assert_int_equal(audit_log(f->st, "bob", "test.event", "after=reopen"), 0);
	assert_int_equal(verify(f->st), 0);
}

static void
test_quote_escapes_controls(void **state)
{
	char out[64];

	(void)state;
	assert_string_equal(audit_quote("plain", out, sizeof(out)), "plain");
	assert_string_equal(audit_quote("two words", out, sizeof(out)), "\"two words\"");
	assert_string_equal(audit_quote("a\nb\"", out, sizeof(out)), "\"a\\x0ab\\\"\"");
	assert_string_equal(audit_quote("", out, sizeof(out)), "\"\"");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_intact_chain_verifies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changed_record_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deleted_middle_record_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deleted_last_record_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reordered_records_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append_after_reopen_continues_chain, setup,
					    teardown),
	    cmocka_unit_test(test_quote_escapes_controls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
