/*
 * Test helper: opens the store, begins a read transaction, says "reading" and waits to be
 * killed — the process that dies holding an LMDB reader slot (kill -9, OOM) that every start
 * must clear (store_startup). Usage: reader-hold STATE_DIR
 */
#include <stdio.h>
#include <unistd.h>

#include "common/store.h"

int
main(int argc, char **argv)
{
	struct store *st;
	MDB_txn *txn;
	char why[512];
	int rc;

	if (argc != 2)
		return 2;
	if (store_open(argv[1], 0, &st, why, sizeof(why)) < 0) {
		fprintf(stderr, "reader-hold: %s\n", why);
		return 1;
	}
	if ((rc = store_begin(st, 1, &txn)) < 0) {
		fprintf(stderr, "reader-hold: %s\n", store_strerror(rc));
		return 1;
	}
	printf("reading\n");
	fflush(stdout);
	for (;;)
		pause();
}
