/*
 * The store's seam (common/store.h): store_each's order, start key and early stop, store_count,
 * and the error convention, down to an MDB_MAP_FULL that keeps its name on the way up.
 */
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

#define NKEYS 10 /* records 2, 4, ..., 20 in DB_REQUESTS */

struct fixture {
	char dir[64];
	struct store *st;
};

/* What a walk saw, and when to stop it. */
struct seen {
	uint64_t keys[NKEYS + 1];
	unsigned n;
	unsigned stop_after; /* 0: never */
	int stop_with;
};

static struct fixture *
fixture_open(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char key[128], why[256];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/wsgate-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(key, sizeof(key), "%s/secrets.key", f->dir);
	assert_int_equal(secrets_create(key), 0);
	if (store_open(f->dir, 1, &f->st, why, sizeof(why)) != 0)
		fail_msg("store_open: %s", why);
	return f;
}

static void
fixture_close(struct fixture *f)
{
	char cmd[128];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
}

static int
setup(void **state)
{
	struct fixture *f = fixture_open();
	MDB_txn *txn;
	uint8_t key[8];
	char val[16];

	assert_int_equal(store_begin(f->st, 0, &txn), 0);
	for (uint64_t i = 1; i <= NKEYS; i++) {
		store_u64_key(2 * i, key);
		snprintf(val, sizeof(val), "v%llu", (unsigned long long)(2 * i));
		assert_int_equal(store_put(f->st, txn, DB_REQUESTS, key, 8, val, strlen(val), 0),
				 0);
	}
	assert_int_equal(store_commit(txn), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture_close(*state);
	return 0;
}

static int
record(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct seen *s = arg;
	char want[16];

	snprintf(want, sizeof(want), "v%llu", (unsigned long long)store_key_u64(k));
	assert_int_equal(v->mv_size, strlen(want));
	assert_memory_equal(v->mv_data, want, v->mv_size);
	assert_true(s->n < NKEYS);
	s->keys[s->n++] = store_key_u64(k);
	return s->stop_after && s->n == s->stop_after ? s->stop_with : 0;
}

/* Walks DB_REQUESTS from u64 key `from` (0: from the end) and returns store_each's value. */
static int
walk(struct fixture *f, uint64_t from, unsigned flags, struct seen *s)
{
	MDB_txn *txn;
	uint8_t key[8];
	int rc;

	store_u64_key(from, key);
	assert_int_equal(store_begin(f->st, 1, &txn), 0);
	rc = store_each(f->st, txn, DB_REQUESTS, from ? key : NULL, from ? 8 : 0, flags, record, s);
	store_abort(txn);
	return rc;
}

static void
test_each_order(void **state)
{
	struct seen s = {0};

	assert_int_equal(walk(*state, 0, 0, &s), 0);
	assert_int_equal(s.n, NKEYS);
	for (unsigned i = 0; i < NKEYS; i++)
		assert_int_equal(s.keys[i], 2 * (i + 1));
	memset(&s, 0, sizeof(s));
	assert_int_equal(walk(*state, 0, STORE_REVERSE, &s), 0);
	assert_int_equal(s.n, NKEYS);
	for (unsigned i = 0; i < NKEYS; i++)
		assert_int_equal(s.keys[i], 2 * (NKEYS - i));
}

/* Forward starts at the first key >= from, backward at the last key <= from. */
static void
test_each_from(void **state)
{
	struct seen s = {0};

	assert_int_equal(walk(*state, 5, 0, &s), 0);
	assert_int_equal(s.n, 8);
	assert_int_equal(s.keys[0], 6);
	memset(&s, 0, sizeof(s));
	assert_int_equal(walk(*state, 6, 0, &s), 0);
	assert_int_equal(s.keys[0], 6);
	memset(&s, 0, sizeof(s));
	assert_int_equal(walk(*state, 5, STORE_REVERSE, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.keys[0], 4);
	assert_int_equal(s.keys[1], 2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(walk(*state, 6, STORE_REVERSE, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.keys[0], 6);
	memset(&s, 0, sizeof(s));
	assert_int_equal(walk(*state, 99, STORE_REVERSE, &s), 0);
	assert_int_equal(s.n, NKEYS);
	assert_int_equal(s.keys[0], 20);
	/* Past either end: no call, and the walk still succeeds. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(walk(*state, 21, 0, &s), 0);
	assert_int_equal(s.n, 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(walk(*state, 1, STORE_REVERSE, &s), 0);
	assert_int_equal(s.n, 0);
}

/* fn's nonzero value stops the walk and comes back unchanged, positive or negative. */
static void
test_each_stop(void **state)
{
	struct seen s = {.stop_after = 3, .stop_with = 7};

	assert_int_equal(walk(*state, 0, 0, &s), 7);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.keys[2], 6);
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	s.stop_with = STORE_BADRECORD;
	assert_int_equal(walk(*state, 0, STORE_REVERSE, &s), STORE_BADRECORD);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.keys[0], 20);
}

static void
test_count(void **state)
{
	struct fixture *f = *state;
	MDB_txn *txn;
	uint8_t key[8];
	size_t n;

	assert_int_equal(store_begin(f->st, 0, &txn), 0);
	assert_int_equal(store_count(f->st, txn, DB_REQUESTS, &n), 0);
	assert_int_equal(n, NKEYS);
	store_u64_key(4, key);
	assert_int_equal(store_del(f->st, txn, DB_REQUESTS, key, 8), 0);
	assert_int_equal(store_del(f->st, txn, DB_REQUESTS, key, 8), STORE_NOTFOUND);
	assert_int_equal(store_count(f->st, txn, DB_REQUESTS, &n), 0);
	assert_int_equal(n, NKEYS - 1);
	assert_int_equal(store_count(f->st, txn, DB_USERS, &n), 0);
	assert_int_equal(n, 0);
	store_abort(txn);
}

/* Each code is named first; LMDB's text or libc's follows. */
static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(store_strerror(MDB_MAP_FULL),
			    "MDB_MAP_FULL: Environment mapsize limit reached");
	assert_true(strncmp(store_strerror(MDB_READERS_FULL), "MDB_READERS_FULL: ", 18) == 0);
	assert_true(strncmp(store_strerror(MDB_CORRUPTED), "MDB_CORRUPTED: ", 15) == 0);
	assert_true(strncmp(store_strerror(-ENOSPC), "ENOSPC: ", 8) == 0);
	assert_non_null(strstr(store_strerror(-ENOSPC), "No space left on device"));
	assert_true(strncmp(store_strerror(STORE_BADRECORD), "STORE_BADRECORD: ", 17) == 0);
	assert_true(strncmp(store_strerror(STORE_NOTFOUND), "STORE_NOTFOUND: ", 16) == 0);
}

/*
 * A store whose map is full: the write that needs a page fails with LMDB's MDB_MAP_FULL, and
 * audit_log, one caller's whole transaction, returns that same code, named by store_strerror.
 * The small map needs the WSGATE_STORE_MAP_SIZE hook of test builds.
 */
static void
test_map_full(void **state)
{
#ifdef WSGATE_TEST_HOOKS
	struct fixture *f;
	char detail[1000], why[256];
	MDB_txn *txn;
	uint8_t key[8];
	uint64_t n;
	int rc = 0;

	(void)state;
	assert_int_equal(setenv("WSGATE_STORE_MAP_SIZE", "262144", 1), 0);
	f = fixture_open();
	assert_int_equal(unsetenv("WSGATE_STORE_MAP_SIZE"), 0);
	memset(detail, 'x', sizeof(detail) - 1);
	detail[sizeof(detail) - 1] = '\0';
	for (int i = 0; i < 10000 && rc == 0; i++)
		rc = audit_log(f->st, "test", "test.fill", "n=%d %s", i, detail);
	assert_int_equal(rc, MDB_MAP_FULL);
	assert_true(strncmp(store_strerror(rc), "MDB_MAP_FULL: ", 14) == 0);
	/* A plain put meets the same code, and the failed commits left the log intact. */
	assert_int_equal(store_begin(f->st, 0, &txn), 0);
	rc = 0;
	for (uint64_t i = 1; i < 10000 && rc == 0; i++) {
		store_u64_key(i, key);
		rc = store_put(f->st, txn, DB_REQUESTS, key, 8, detail, sizeof(detail), 0);
	}
	assert_int_equal(rc, MDB_MAP_FULL);
	store_abort(txn);
	assert_int_equal(audit_verify(f->st, &n, why, sizeof(why)), 0);
	assert_true(n > 0);
	fixture_close(f);
#else
	(void)state;
	skip();
#endif
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_each_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_each_from, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_each_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_count, setup, teardown),
	    cmocka_unit_test(test_strerror),
	    cmocka_unit_test(test_map_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
