/*
 * The tamper-evident audit log (SPEC "Audit"). Records live in DB_AUDIT keyed by a sequence
 * number; each carries mac = HMAC-SHA-256(audit_key, prev_mac || seq || time || actor || event ||
 * detail), and meta["audit_head"] holds the last (seq, mac). A change, deletion, insertion or
 * reordering breaks the chain, and truncating the tail breaks the head; forging needs the key.
 * Callers append inside the same write transaction as the change they record, so an action and
 * its audit record commit together or not at all.
 */
#ifndef WSGATE_AUDIT_H
#define WSGATE_AUDIT_H

#include <stdint.h>
#include <stdio.h>

#include "common/store.h"

#define AUDIT_MAC_LEN 32

struct audit_record {
	uint64_t seq;
	uint64_t time;	   /* seconds since the epoch */
	char actor[64];	   /* account name, "wsgatectl" (local root), or "-" before login */
	char event[48];	   /* e.g. login.ok, login.fail, session.start, transfer.approve */
	char detail[1024]; /* key=value pairs, values quoted when they hold spaces */
	uint8_t mac[AUDIT_MAC_LEN];
};

/* detail is printf-style. Returns 0 or a store code <0 (store.h; the caller must then abort its
 * transaction). */
int audit_append(struct store *st, MDB_txn *txn, const char *actor, const char *event,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Convenience: its own transaction. */
int audit_log(struct store *st, const char *actor, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Walks the chain. Returns 0 if intact; otherwise <0 and a one-line reason naming the first bad
 * record. *count gets the number of records checked. */
int audit_verify(struct store *st, uint64_t *count, char *why, size_t whylen);

/* Calls fn for each record with time >= since, in order; fn returns 0 to go on, anything else
 * stops the walk and is returned. Returns 0, fn's value or a store code <0. */
int audit_foreach(struct store *st, uint64_t since,
		  int (*fn)(const struct audit_record *rec, void *arg), void *arg);

/* Quotes a value for a detail string: bare if safe, else "..." with control bytes escaped. */
const char *audit_quote(const char *in, char *out, size_t outlen);

#endif
