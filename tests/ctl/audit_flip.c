/*
 * Test helper: flips one bit of audit record SEQ (or of the audit head) straight in the store, as
 * an attacker with write access to the database file would, to check that `audit verify` notices.
 * Usage: audit-flip STATE_DIR SEQ [OFFSET]   (SEQ 0 = delete the last record instead)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/store.h"

static int
die(const char *what, int rc)
{
	fprintf(stderr, "audit-flip: %s: %s\n", what, store_strerror(rc));
	return 1;
}

/* Takes the key of the first record it is shown (the last one, walking backwards). */
static int
take_key(const MDB_val *k, const MDB_val *v, void *arg)
{
	(void)v;
	if (k->mv_size != 8)
		return STORE_BADRECORD;
	memcpy(arg, k->mv_data, 8);
	return 1;
}

/* Rewrites record key with bit 0 of byte off (clamped to the record) flipped. */
static int
flip(struct store *st, MDB_txn *txn, const uint8_t key[8], size_t off)
{
	MDB_val v;
	uint8_t *copy;
	int rc;

	if ((rc = store_get(st, txn, DB_AUDIT, key, 8, &v)) != 0)
		return rc;
	if (off >= v.mv_size)
		off = v.mv_size - 1;
	if (!(copy = malloc(v.mv_size)))
		return -ENOMEM;
	memcpy(copy, v.mv_data, v.mv_size);
	copy[off] ^= 0x01;
	rc = store_put(st, txn, DB_AUDIT, key, 8, copy, v.mv_size, 0);
	free(copy);
	return rc;
}

int
main(int argc, char **argv)
{
	struct store *st;
	MDB_txn *txn;
	unsigned long long seq;
	size_t off;
	uint8_t key[8];
	char why[512];
	int rc;

	if (argc < 3)
		return fprintf(stderr, "usage: audit-flip STATE_DIR SEQ [OFFSET]\n"), 2;
	seq = strtoull(argv[2], NULL, 10);
	off = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
	if (store_open(argv[1], 0, &st, why, sizeof(why)) < 0)
		return fprintf(stderr, "audit-flip: %s\n", why), 1;
	if ((rc = store_begin(st, 0, &txn)) < 0)
		return die("begin", rc);
	if (seq == 0) {
		rc = store_each(st, txn, DB_AUDIT, NULL, 0, STORE_REVERSE, take_key, key);
		if (rc != 1 || (rc = store_del(st, txn, DB_AUDIT, key, 8)) != 0)
			return die("delete last", rc == 0 ? STORE_NOTFOUND : rc);
	} else {
		store_u64_key(seq, key);
		if ((rc = flip(st, txn, key, off)) != 0)
			return die("flip", rc);
	}
	if ((rc = store_commit(txn)) < 0)
		return die("commit", rc);
	store_close(st);
	return 0;
}
