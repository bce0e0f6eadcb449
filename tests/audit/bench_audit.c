/*
 * Audit log benchmark (issue 11 point 6; docs/BENCHMARKS.md): N appends, then one verify, on a
 * fresh store in DIR, with the witness attached (one write per committed transaction, fdatasync
 * at most once a second) and syslog. Appends are timed two ways:
 *   per-txn  each record its own LMDB write transaction, fsynced at commit: what one action
 *            costs (login, command, decision), bound by the disk's fsync rate;
 *   batched  BATCH records per transaction: the append itself (HMAC, encode, B-tree insert).
 * The peer, in the same run: plain LMDB puts of values of the same size with the same batching
 * (no MAC, no head, no witness): what the store costs without the audit log.
 * Usage: bench_audit DIR [N] [BATCH]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/audit.h"
#include "common/store.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
open_store(const char *dir, const char *name, struct store **st, char *witness, size_t wlen)
{
	char path[4096], key[4200], why[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(key, sizeof(key), "mkdir -p %s", path);
	if (system(key) != 0)
		return -1;
	snprintf(key, sizeof(key), "%s/secrets.key", path);
	snprintf(witness, wlen, "%s/%s.witness", dir, name);
	if (secrets_create(key) < 0 || store_open(path, 1, st, why, sizeof(why)) < 0 ||
	    audit_attach(*st, witness, why, sizeof(why)) < 0) {
		fprintf(stderr, "bench_audit: %s\n", why);
		return -1;
	}
	audit_set_context("analyst", "p1", "remote", "192.0.2.10");
	return 0;
}

static int
run(const char *dir, const char *name, unsigned long n, unsigned long batch)
{
	struct store *st;
	char witness[4200], why[512];
	uint64_t count, seen;
	double t0, t1, t2;
	MDB_txn *txn = NULL;

	if (open_store(dir, name, &st, witness, sizeof(witness)) < 0)
		return 1;
	t0 = now();
	for (unsigned long i = 0; i < n; i++) {
		if (i % batch == 0 && store_begin(st, 0, &txn) < 0)
			return 1;
		if (audit_append(st, txn, "alice", "exec", "command=\"Rscript model.R --seed %lu\"",
				 i) < 0)
			return 1;
		if ((i + 1) % batch == 0 || i + 1 == n)
			if (store_commit(txn) < 0)
				return 1;
	}
	t1 = now();
	if (audit_verify_witness(st, witness, &count, &seen, why, sizeof(why)) < 0) {
		fprintf(stderr, "bench_audit: verify: %s\n", why);
		return 1;
	}
	t2 = now();
	printf("%-8s %lu appends, %lu per txn: %.2f s, %.0f appends/s; verify %llu records and "
	       "%llu witness lines: %.3f s, %.0f records/s\n",
	       name, n, batch, t1 - t0, (double)n / (t1 - t0), (unsigned long long)count,
	       (unsigned long long)seen, t2 - t1, (double)count / (t2 - t1));
	store_close(st);
	return 0;
}

/* The same number of puts of same-sized values straight into the store: the floor. */
static int
run_raw(const char *dir, const char *name, unsigned long n, unsigned long batch)
{
	struct store *st;
	char witness[4200], val[200];
	uint8_t key[8];
	double t0, t1;
	MDB_txn *txn = NULL;

	if (open_store(dir, name, &st, witness, sizeof(witness)) < 0)
		return 1;
	memset(val, 'x', sizeof(val));
	t0 = now();
	for (unsigned long i = 0; i < n; i++) {
		if (i % batch == 0 && store_begin(st, 0, &txn) < 0)
			return 1;
		store_u64_key(i + 1, key);
		if (store_put(st, txn, DB_AUDIT, key, 8, val, sizeof(val), MDB_NOOVERWRITE) != 0)
			return 1;
		if (((i + 1) % batch == 0 || i + 1 == n) && store_commit(txn) < 0)
			return 1;
	}
	t1 = now();
	printf("%-8s %lu plain LMDB puts, %lu per txn: %.2f s, %.0f puts/s (the peer)\n", name, n,
	       batch, t1 - t0, (double)n / (t1 - t0));
	store_close(st);
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	unsigned long batch = argc > 3 ? strtoul(argv[3], NULL, 10) : 100;

	if (argc < 2 || n == 0 || batch == 0)
		return fprintf(stderr, "usage: bench_audit DIR [N] [BATCH]\n"), 2;
	if (run_raw(argv[1], "raw-b", n, batch) != 0 || run(argv[1], "batched", n, batch) != 0)
		return 1;
	/* One transaction each: a tenth as many, or this takes minutes on a disk that fsyncs. */
	if (run_raw(argv[1], "raw-1", n / 10, 1) != 0)
		return 1;
	return run(argv[1], "per-txn", n / 10, 1);
}
