/* Request records carry a MAC (transfer/reqmac.h): a record changed in LMDB, or moved to another
 * id, is refused by queue_get and left out of queue_foreach; the untouched one beside it is not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "transfer/queue.h"

struct fixture {
	char dir[64];
	struct store *st;
	struct request r;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char key[128], why[256];
	MDB_txn *txn;

	snprintf(f->dir, sizeof(f->dir), "/tmp/wsgate-reqmac-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(key, sizeof(key), "%s/secrets.key", f->dir);
	assert_int_equal(secrets_create(key), 0);
	assert_int_equal(store_open(f->dir, 1, &f->st, why, sizeof(why)), 0);
	assert_int_equal(store_begin(f->st, 0, &txn), 0);
	for (int i = 0; i < 2; i++) {
		memset(&f->r, 0, sizeof(f->r));
		f->r.s.kind = KIND_EXPORT;
		f->r.s.state = ST_PENDING;
		snprintf(f->r.s.project, sizeof(f->r.s.project), "p1");
		snprintf(f->r.s.area, sizeof(f->r.s.area), "remote");
		snprintf(f->r.s.requester, sizeof(f->r.s.requester), "ann");
		snprintf(f->r.s.name, sizeof(f->r.s.name), "t%d.csv", i);
		assert_int_equal(queue_insert(f->st, txn, &f->r), 0); /* ids 1 and 2 */
	}
	assert_int_equal(store_commit(txn), 0);
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

/* Copies request id's stored value, flips bit 0 of byte flip (0: none), writes it under to_id. */
static void
edit(struct store *st, uint64_t id, uint64_t to_id, size_t flip)
{
	uint8_t key[8], copy[65536];
	MDB_txn *txn;
	MDB_val v;

	assert_int_equal(store_begin(st, 0, &txn), 0);
	store_u64_key(id, key);
	assert_int_equal(store_get(st, txn, DB_REQUESTS, key, 8, &v), 0);
	assert_true(v.mv_size < sizeof(copy) && flip < v.mv_size);
	memcpy(copy, v.mv_data, v.mv_size);
	if (flip)
		copy[flip] ^= 1;
	store_u64_key(to_id, key);
	assert_int_equal(store_put(st, txn, DB_REQUESTS, key, 8, copy, v.mv_size, 0), 0);
	assert_int_equal(store_commit(txn), 0);
}

static int
get(struct store *st, uint64_t id, struct request *r)
{
	MDB_txn *txn;
	int rc;

	assert_int_equal(store_begin(st, 1, &txn), 0);
	rc = queue_get(st, txn, id, r);
	store_abort(txn);
	return rc;
}

static int
count_one(const struct req_summary *s, const MDB_val *rec, void *arg)
{
	struct request r;

	assert_int_equal(queue_decode(rec->mv_data, rec->mv_size, &r), 0); /* the MAC is off */
	((uint64_t *)arg)[s->id]++;
	return 0;
}

static void
listed(struct store *st, uint64_t seen[4])
{
	MDB_txn *txn;

	memset(seen, 0, 4 * sizeof(uint64_t));
	assert_int_equal(store_begin(st, 1, &txn), 0);
	assert_int_equal(queue_foreach(st, txn, count_one, seen), 0);
	store_abort(txn);
}

static void
test_intact_records_read(void **state)
{
	struct fixture *f = *state;
	uint64_t seen[4];

	assert_int_equal(get(f->st, 1, &f->r), 0);
	assert_string_equal(f->r.s.name, "t0.csv");
	listed(f->st, seen);
	assert_true(seen[1] == 1 && seen[2] == 1);
}

/* The state byte (offset 10) set to released, as the attacker did. */
static void
test_forged_state_refused(void **state)
{
	struct fixture *f = *state;
	uint64_t seen[4];

	edit(f->st, 1, 1, 10);
	assert_int_equal(get(f->st, 1, &f->r), STORE_BADRECORD);
	assert_int_equal(get(f->st, 2, &f->r), 0); /* control */
	listed(f->st, seen);
	assert_true(seen[1] == 0 && seen[2] == 1);
}

/* An honest record copied under another id: the id is under the MAC too. */
static void
test_moved_record_refused(void **state)
{
	struct fixture *f = *state;

	edit(f->st, 1, 3, 0);
	assert_int_equal(get(f->st, 3, &f->r), STORE_BADRECORD);
	edit(f->st, 2, 2, 0); /* rewritten unchanged: still fine */
	assert_int_equal(get(f->st, 2, &f->r), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_intact_records_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forged_state_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_moved_record_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
