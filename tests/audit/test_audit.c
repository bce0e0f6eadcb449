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

/* meta["audit_head"] as raw bytes: what an attacker with write access to the file can copy. */
static size_t
head_get(struct store *st, uint8_t *out, size_t cap)
{
	MDB_txn *txn;
	MDB_val v;
	size_t n;

	assert_int_equal(store_begin(st, 1, &txn), 0);
	assert_int_equal(store_get(st, txn, DB_META, "audit_head", 10, &v), 0);
	assert_true(v.mv_size <= cap);
	n = v.mv_size;
	memcpy(out, v.mv_data, n);
	store_abort(txn);
	return n;
}

static void
head_put(struct store *st, const uint8_t *val, size_t n)
{
	MDB_txn *txn;

	assert_int_equal(store_begin(st, 0, &txn), 0);
	if (n)
		assert_int_equal(store_put(st, txn, DB_META, "audit_head", 10, val, n, 0), 0);
	else
		assert_int_equal(store_del(st, txn, DB_META, "audit_head", 10), 0);
	assert_int_equal(store_commit(txn), 0);
}

static void
delete_from(struct store *st, uint64_t first, uint64_t last)
{
	for (uint64_t q = first; q <= last; q++)
		tamper(st, q, delete_rec);
}

/* The attack: delete the newest records and point the head at the last one left, with
 * its (seq, mac) read from the record itself. The head's tag no longer verifies. */
static void
test_truncation_with_rewritten_head_detected(void **state)
{
	struct fixture *f = *state;
	uint8_t head[128], key[8];
	size_t n = head_get(f->st, head, sizeof(head));
	MDB_txn *txn;
	MDB_val v;
	uint64_t cnt;
	char why[256];

	delete_from(f->st, 4, 5);
	assert_int_equal(store_begin(f->st, 1, &txn), 0);
	store_u64_key(3, key);
	assert_int_equal(store_get(f->st, txn, DB_AUDIT, key, 8, &v), 0);
	for (int i = 0; i < 8; i++)
		head[i] = key[i];
	memcpy(head + 8, (const uint8_t *)v.mv_data + v.mv_size - 32, 32); /* record 3's MAC */
	store_abort(txn);
	head_put(f->st, head, n);
	assert_int_not_equal(audit_verify(f->st, &cnt, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "head"));
	/* and the log refuses to grow past a head it cannot authenticate */
	assert_int_equal(audit_log(f->st, "bob", "test.event", "after=forgery"), STORE_BADRECORD);
}

static void
test_wiped_log_detected(void **state)
{
	struct fixture *f = *state;
	uint64_t cnt;
	char why[256];

	delete_from(f->st, 1, 5); /* records gone, the head still says 5 */
	assert_int_not_equal(audit_verify(f->st, &cnt, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "head says 5"));
	head_put(f->st, NULL, 0); /* and the head too */
	assert_int_not_equal(audit_verify(f->st, &cnt, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "wiped"));
}

static size_t
slurp(const char *path, char *buf, size_t cap)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, cap - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return n;
}

/* A head saved earlier passes the key check; only the witness knows better. */
static void
test_witness_catches_rollback_of_head_and_records(void **state)
{
	struct fixture *f = *state;
	char wpath[128], why[512], buf[4096];
	uint8_t old_head[128];
	size_t n;
	uint64_t cnt, seen;

	snprintf(wpath, sizeof(wpath), "%s.witness", f->dir);
	assert_int_equal(audit_attach(f->st, wpath, why, sizeof(why)), 0);
	n = head_get(f->st, old_head, sizeof(old_head)); /* the head at record 5 */
	for (int i = 6; i <= 8; i++)
		assert_int_equal(audit_log(f->st, "alice", "test.event", "n=%d", i), 0);
	/* an aborted append never reaches the witness */
	{
		MDB_txn *txn;

		assert_int_equal(store_begin(f->st, 0, &txn), 0);
		assert_int_equal(audit_append(f->st, txn, "x", "test.aborted", "n=0"), 0);
		store_abort(txn);
	}
	slurp(wpath, buf, sizeof(buf));
	assert_non_null(strstr(buf, "6 "));
	assert_non_null(strstr(buf, "\n8 "));
	assert_null(strstr(buf, "\n9 "));
	/* control: intact log and witness agree */
	assert_int_equal(audit_verify_witness(f->st, wpath, &cnt, &seen, why, sizeof(why)), 0);
	assert_int_equal(cnt, 8);
	assert_int_equal(seen, 3);
	delete_from(f->st, 6, 8);
	head_put(f->st, old_head, n);
	assert_int_equal(audit_verify(f->st, &cnt, why, sizeof(why)),
			 0); /* the key alone: fooled */
	assert_int_not_equal(audit_verify_witness(f->st, wpath, &cnt, &seen, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "audit record 6: in the witness"));
	unlink(wpath);
}

static void
test_witness_lines_are_strict(void **state)
{
	struct fixture *f = *state;
	char wpath[128], why[512];
	uint64_t cnt, seen;
	FILE *fp;

	snprintf(wpath, sizeof(wpath), "%s.witness", f->dir);
	fp = fopen(wpath, "w");
	assert_non_null(fp);
	fprintf(fp, "1 %064d\n", 0);
	fclose(fp);
	assert_int_not_equal(audit_verify_witness(f->st, wpath, &cnt, &seen, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "audit record 1: differs"));
	fp = fopen(wpath, "w");
	fprintf(fp, "1 zz\n");
	fclose(fp);
	assert_int_not_equal(audit_verify_witness(f->st, wpath, &cnt, &seen, why, sizeof(why)), 0);
	assert_non_null(strstr(why, ":1: not a"));
	unlink(wpath);
}

static int
keep_last(const struct audit_record *r, void *arg)
{
	*(struct audit_record *)arg = *r;
	return 0;
}

static void
test_context_fields_recorded(void **state)
{
	struct fixture *f = *state;
	struct audit_record r;

	audit_set_context("analyst", "p1", "remote", "192.0.2.7");
	assert_int_equal(audit_log(f->st, "alice", "test.context", "x=1"), 0);
	assert_int_equal(audit_foreach(f->st, 0, keep_last, &r), 0);
	assert_string_equal(r.role, "analyst");
	assert_string_equal(r.project, "p1");
	assert_string_equal(r.area, "remote");
	assert_string_equal(r.addr, "192.0.2.7");
	assert_true(r.nsec < 1000000000u);
	audit_set_context("", "", "", "");
	assert_int_equal(verify(f->st), 0);
}

/* One process, two stores with their own keys, opened in turn (wsgatectl init then a command):
 * each log is MACed with its own key. */
static void
test_two_stores_two_keys(void **state)
{
	struct fixture *f = *state;
	char dir2[64], key[128], why[256];
	struct store *b;

	snprintf(dir2, sizeof(dir2), "/tmp/wsgate-audit2-XXXXXX");
	assert_non_null(mkdtemp(dir2));
	snprintf(key, sizeof(key), "%s/secrets.key", dir2);
	assert_int_equal(secrets_create(key), 0);
	store_close(f->st);
	assert_int_equal(store_open(dir2, 1, &b, why, sizeof(why)), 0);
	assert_int_equal(audit_log(b, "bob", "test.event", "store=b"), 0);
	assert_int_equal(verify(b), 0);
	store_close(b);
	assert_int_equal(store_open(f->dir, 0, &f->st, why, sizeof(why)), 0);
	assert_int_equal(verify(f->st), 0);
	assert_int_equal(audit_log(f->st, "alice", "test.event", "store=a"), 0);
	assert_int_equal(verify(f->st), 0);
	snprintf(key, sizeof(key), "rm -rf %s", dir2);
	assert_int_equal(system(key), 0);
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
	    cmocka_unit_test_setup_teardown(test_truncation_with_rewritten_head_detected, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_wiped_log_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_witness_catches_rollback_of_head_and_records,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_witness_lines_are_strict, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_context_fields_recorded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_stores_two_keys, setup, teardown),
	    cmocka_unit_test(test_quote_escapes_controls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
