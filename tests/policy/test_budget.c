/*
 * Unit tests of policy/budget.c on a real LMDB store: reservations never pass the day's
 * budget, grants shrink as the balance runs low so concurrent channels share it, what is
 * given back returns, "none" grants everything, the extra of an operator adds to today only,
 * and the 80 % and 100 % events come once a day.
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

#include "policy/budget.h"

#define DAY0 (20000ull * 86400) /* a UTC midnight */

static char dir[64];
static struct store *st;
static struct config cfg;

static int
setup(void **state)
{
	char key[128], why[256];

	snprintf(dir, sizeof(dir), "/tmp/wsgate-budget-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(key, sizeof(key), "%s/secrets.key", dir);
	assert_int_equal(secrets_create(key), 0);
	if (store_open(dir, 1, &st, why, sizeof(why)) != 0)
		fail_msg("store_open: %s", why);
	cfg.output_budget = 1000000;
	cfg.input_budget = CONFIG_BUDGET_NONE;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* One take in its own transaction, as the monitor does. */
static uint64_t
take(const char *user, enum budget_dir d, uint64_t unused, uint64_t want, uint64_t now,
     enum budget_event *ev)
{
	enum budget_event e;
	uint64_t granted;
	MDB_txn *txn;

	assert_int_equal(store_begin(st, 0, &txn), 0);
	assert_int_equal(budget_take(st, txn, &cfg, user, d, unused, want, now, &granted, &e), 0);
	assert_int_equal(store_commit(txn), 0);
	if (ev)
		*ev = e;
	return granted;
}

static struct budget_day
day_of(const char *user, uint64_t now)
{
	struct budget_day b;
	MDB_txn *txn;

	assert_int_equal(store_begin(st, 1, &txn), 0);
	assert_int_equal(budget_get(st, txn, user, budget_day_of(now), &b), 0);
	store_abort(txn);
	return b;
}

static void
test_never_past_the_budget(void **state)
{
	uint64_t total = 0, g;
	enum budget_event ev;
	int warned = 0, reached = 0, takes = 0;

	/* Channels ask for a MiB at a time; the balance is handed out in shrinking grants. */
	while ((g = take("ann", BUDGET_OUT, 0, 1 << 20, DAY0 + 10, &ev)) > 0) {
		assert_true(g <= 1000000 - total);
		total += g;
		warned += ev == BUDGET_EV_WARN;
		assert_true(++takes < 100);
	}
	assert_int_equal(total, 1000000);
	reached += ev == BUDGET_EV_REACHED;
	assert_int_equal(warned, 1);
	assert_int_equal(reached, 1);
	/* A second refusal the same day is no new event. */
	assert_int_equal(take("ann", BUDGET_OUT, 0, 100, DAY0 + 20, &ev), 0);
	assert_int_equal(ev, BUDGET_EV_NONE);
	/* Given back, it can be taken again; the next UTC day starts from zero. */
	assert_int_equal(take("ann", BUDGET_OUT, 5000, 0, DAY0 + 30, NULL), 0);
	assert_int_equal(take("ann", BUDGET_OUT, 0, 10000, DAY0 + 40, NULL), 5000);
	assert_int_equal(day_of("ann", DAY0).used[BUDGET_OUT], 1000000);
	assert_int_equal(take("ann", BUDGET_OUT, 0, 1000, DAY0 + 86400, NULL), 1000);
	/* Other accounts have their own balance. */
	assert_int_equal(take("bob", BUDGET_OUT, 0, 4096, DAY0 + 50, NULL), 4096);
}

static void
test_first_grant_is_a_quarter(void **state)
{
	/* With 1,000,000 left, a 1 MiB ask gets a quarter; a small ask gets what it asked. */
	assert_int_equal(take("cid", BUDGET_OUT, 0, 1 << 20, DAY0, NULL), 250000);
	assert_int_equal(take("cid", BUDGET_OUT, 0, 1000, DAY0, NULL), 1000);
}

static void
test_none_and_extra(void **state)
{
	struct budget_day b;
	MDB_txn *txn;

	assert_int_equal(take("dan", BUDGET_IN, 0, 123, DAY0, NULL), UINT64_MAX);
	assert_int_equal(day_of("dan", DAY0).used[BUDGET_IN], 0);
	while (take("dan", BUDGET_OUT, 0, 1 << 20, DAY0, NULL) > 0)
		;
	b = day_of("dan", DAY0);
	b.extra[BUDGET_OUT] = 300;
	assert_int_equal(store_begin(st, 0, &txn), 0);
	assert_int_equal(budget_put(st, txn, "dan", budget_day_of(DAY0), &b), 0);
	assert_int_equal(store_commit(txn), 0);
	assert_int_equal(take("dan", BUDGET_OUT, 0, 1000, DAY0, NULL), 300);
	assert_int_equal(budget_left(&cfg, &b, BUDGET_IN), UINT64_MAX);
}

static void
test_line(void **state)
{
	char line[128];

	budget_line(&cfg, BUDGET_OUT, line, sizeof(line));
	assert_string_equal(line, "wsgate: daily output budget (1000000) reached");
	cfg.output_budget = 50 << 20;
	budget_line(&cfg, BUDGET_OUT, line, sizeof(line));
	assert_string_equal(line, "wsgate: daily output budget (50M) reached");
	cfg.output_budget = 1000000;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_never_past_the_budget),
	    cmocka_unit_test(test_first_grant_is_a_quarter),
	    cmocka_unit_test(test_none_and_extra),
	    cmocka_unit_test(test_line),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
