/*
 * Test helper: changes the store directly, as an attacker with write access to the database file
 * (but not to secrets.key) would, to check that `audit verify` and the airlock notice.
 * Usage: audit-flip STATE_DIR SEQ [OFFSET]   flip bit 0 of byte OFFSET of audit record SEQ
 *        audit-flip STATE_DIR 0              delete the last audit record
 *        audit-flip STATE_DIR del SEQ        delete audit record SEQ
 *        audit-flip STATE_DIR swap SEQ       swap audit records SEQ and SEQ + 1
 *        audit-flip STATE_DIR truncate SEQ   delete the records after SEQ and point the head at
 *                                            SEQ (its seq and MAC, read from the record)
 *        audit-flip STATE_DIR wipe           delete every audit record, keep the head
 *        audit-flip STATE_DIR wipe-all       delete every audit record and the head
 *        audit-flip STATE_DIR head-save FILE / head-load FILE   copy the head out / back
 *        audit-flip STATE_DIR req-state ID N set request ID's state byte to N (5 = released)
 */
#include <errno.h>
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

static int
del_seq(struct store *st, MDB_txn *txn, uint64_t seq)
{
	uint8_t key[8];

	store_u64_key(seq, key);
	return store_del(st, txn, DB_AUDIT, key, 8);
}

static int
last_seq(struct store *st, MDB_txn *txn, uint64_t *seq)
{
	uint8_t key[8];
	MDB_val k = {8, key};
	int rc = store_each(st, txn, DB_AUDIT, NULL, 0, STORE_REVERSE, take_key, key);

	*seq = rc == 1 ? store_key_u64(&k) : 0;
	return rc == 1 || rc == 0 ? 0 : rc;
}

static int
swap(struct store *st, MDB_txn *txn, uint64_t seq)
{
	uint8_t k1[8], k2[8], *a, *b;
	MDB_val v1, v2;
	size_t n1, n2;
	int rc;

	store_u64_key(seq, k1);
	store_u64_key(seq + 1, k2);
	if ((rc = store_get(st, txn, DB_AUDIT, k1, 8, &v1)) != 0 ||
	    (rc = store_get(st, txn, DB_AUDIT, k2, 8, &v2)) != 0)
		return rc;
	n1 = v1.mv_size;
	n2 = v2.mv_size;
	a = malloc(n1);
	b = malloc(n2);
	if (!a || !b)
		return -ENOMEM;
	memcpy(a, v1.mv_data, n1);
	memcpy(b, v2.mv_data, n2);
	if ((rc = store_put(st, txn, DB_AUDIT, k1, 8, b, n2, 0)) == 0)
		rc = store_put(st, txn, DB_AUDIT, k2, 8, a, n1, 0);
	free(a);
	free(b);
	return rc;
}

/* The head as the attacker rewrote it: (seq, MAC of record seq), tag left as it was. */
static int
truncate_to(struct store *st, MDB_txn *txn, uint64_t seq)
{
	uint8_t key[8], head[256];
	MDB_val v, h;
	uint64_t last;
	int rc;

	if ((rc = last_seq(st, txn, &last)) != 0)
		return rc;
	for (uint64_t q = seq + 1; q <= last; q++)
		if ((rc = del_seq(st, txn, q)) != 0)
			return rc;
	if ((rc = store_get(st, txn, DB_META, "audit_head", 10, &h)) != 0 ||
	    h.mv_size > sizeof(head))
		return rc ? rc : STORE_BADRECORD;
	memcpy(head, h.mv_data, h.mv_size);
	store_u64_key(seq, key);
	if ((rc = store_get(st, txn, DB_AUDIT, key, 8, &v)) != 0)
		return rc;
	memcpy(head, key, 8);
	memcpy(head + 8, (const uint8_t *)v.mv_data + v.mv_size - 32, 32);
	return store_put(st, txn, DB_META, "audit_head", 10, head, h.mv_size, 0);
}

static int
wipe(struct store *st, MDB_txn *txn, int head_too)
{
	uint64_t last;
	int rc;

	if ((rc = last_seq(st, txn, &last)) != 0)
		return rc;
	for (uint64_t q = 1; q <= last; q++)
		if ((rc = del_seq(st, txn, q)) != 0 && rc != STORE_NOTFOUND)
			return rc;
	return head_too ? store_del(st, txn, DB_META, "audit_head", 10) : 0;
}

static int
head_file(struct store *st, MDB_txn *txn, const char *path, int save)
{
	uint8_t buf[256];
	MDB_val v;
	FILE *f = fopen(path, save ? "wb" : "rb");
	size_t n;
	int rc;

	if (!f)
		return -errno;
	if (save) {
		if ((rc = store_get(st, txn, DB_META, "audit_head", 10, &v)) == 0 &&
		    fwrite(v.mv_data, 1, v.mv_size, f) != v.mv_size)
			rc = -EIO;
	} else {
		n = fread(buf, 1, sizeof(buf), f);
		rc = store_put(st, txn, DB_META, "audit_head", 10, buf, n, 0);
	}
	fclose(f);
	return rc;
}

/* Byte 10 of a request record is its state (transfer/queue.c: version, u64 id, kind, state). */
static int
req_state(struct store *st, MDB_txn *txn, uint64_t id, unsigned state)
{
	uint8_t key[8], *copy;
	MDB_val v;
	int rc;

	store_u64_key(id, key);
	if ((rc = store_get(st, txn, DB_REQUESTS, key, 8, &v)) != 0)
		return rc;
	if (v.mv_size < 11 || !(copy = malloc(v.mv_size)))
		return STORE_BADRECORD;
	memcpy(copy, v.mv_data, v.mv_size);
	copy[10] = (uint8_t)state;
	rc = store_put(st, txn, DB_REQUESTS, key, 8, copy, v.mv_size, 0);
	free(copy);
	return rc;
}

static int
command(struct store *st, MDB_txn *txn, int argc, char **argv)
{
	const char *op = argv[2];
	uint64_t n = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;

	if (strcmp(op, "del") == 0 && argc == 4)
		return del_seq(st, txn, n);
	if (strcmp(op, "swap") == 0 && argc == 4)
		return swap(st, txn, n);
	if (strcmp(op, "truncate") == 0 && argc == 4)
		return truncate_to(st, txn, n);
	if (strcmp(op, "wipe") == 0 && argc == 3)
		return wipe(st, txn, 0);
	if (strcmp(op, "wipe-all") == 0 && argc == 3)
		return wipe(st, txn, 1);
	if (strcmp(op, "head-save") == 0 && argc == 4)
		return head_file(st, txn, argv[3], 1);
	if (strcmp(op, "head-load") == 0 && argc == 4)
		return head_file(st, txn, argv[3], 0);
	if (strcmp(op, "req-state") == 0 && argc == 5)
		return req_state(st, txn, n, (unsigned)strtoul(argv[4], NULL, 10));
	fprintf(stderr, "audit-flip: bad command %s\n", op);
	exit(2);
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
	if (argv[2][0] < '0' || argv[2][0] > '9') {
		if ((rc = command(st, txn, argc, argv)) != 0)
			return die(argv[2], rc);
	} else if (seq == 0) {
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
