/*
 * Test helper: flips one bit of audit record SEQ (or of the audit head) straight in LMDB, as an
 * attacker with write access to the database file would, to check that `audit verify` notices.
 * Usage: audit-flip STATE_DIR SEQ [OFFSET]   (SEQ 0 = delete the last record instead)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

static int
die(const char *what, int rc)
{
	fprintf(stderr, "audit-flip: %s: %s\n", what, mdb_strerror(rc));
	return 1;
}

int
main(int argc, char **argv)
{
	char path[4096];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;
	MDB_cursor *cur;
	unsigned long long seq;
	size_t off;
	uint8_t key[8], *copy;
	int rc;

	if (argc < 3)
		return fprintf(stderr, "usage: audit-flip STATE_DIR SEQ [OFFSET]\n"), 2;
	seq = strtoull(argv[2], NULL, 10);
	off = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
	snprintf(path, sizeof(path), "%s/db", argv[1]);
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 16)) ||
	    (rc = mdb_env_set_mapsize(env, 16ull << 30)) || (rc = mdb_env_open(env, path, 0, 0600)))
		return die("open", rc);
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) || (rc = mdb_dbi_open(txn, "audit", 0, &dbi)))
		return die("audit db", rc);
	if (seq == 0) {
		if ((rc = mdb_cursor_open(txn, dbi, &cur)) ||
		    (rc = mdb_cursor_get(cur, &k, &v, MDB_LAST)) || (rc = mdb_cursor_del(cur, 0)))
			return die("delete last", rc);
		mdb_cursor_close(cur);
	} else {
		for (int i = 7; i >= 0; i--, seq >>= 8)
			key[i] = (uint8_t)seq;
		k.mv_size = 8;
		k.mv_data = key;
		if ((rc = mdb_get(txn, dbi, &k, &v)))
			return die("get", rc);
		if (off >= v.mv_size)
			off = v.mv_size - 1;
		copy = malloc(v.mv_size);
		if (!copy)
			return 1;
		memcpy(copy, v.mv_data, v.mv_size);
		copy[off] ^= 0x01;
		v.mv_data = copy;
		if ((rc = mdb_put(txn, dbi, &k, &v, 0)))
			return die("put", rc);
		free(copy);
	}
	if ((rc = mdb_txn_commit(txn)))
		return die("commit", rc);
	mdb_env_close(env);
	return 0;
}
