/*
 * The audit log's copies outside the store (audit.h): syslog and the append-only witness file.
 * Internal to common/audit*.c.
 */
#ifndef WSGATE_AUDIT_WITNESS_H
#define WSGATE_AUDIT_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "common/audit.h"

/* Notes that txn appended record seq; told to syslog and the witness once txn commits, dropped
 * if it aborts. Returns 0 or -ENOMEM (nothing to do when audit_attach was not called). */
int audit_witness_note(struct store *st, MDB_txn *txn, uint64_t seq, const uint8_t *mac);

struct witness_entry {
	uint64_t seq;
	uint8_t mac[AUDIT_MAC_LEN];
	unsigned line;
};

/* Reads a witness file: every line must be "SEQ MAC-HEX". Returns 0 and a malloc'd array sorted
 * by seq, or -1 with why naming the file and line. */
int audit_witness_read(const char *path, struct witness_entry **out, size_t *n, char *why,
		       size_t whylen);

#endif
