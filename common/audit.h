/*
 * The tamper-evident audit log (SPEC "Audit"). Records live in DB_AUDIT keyed by a sequence
 * number; each carries mac = HMAC-SHA-256(audit_key, prev_mac || seq || body), body being every
 * field below. meta["audit_head"] holds the last (seq, mac) and its own tag,
 * HMAC-SHA-256(audit_key, "wsgate audit head v1" || seq || mac): a change, deletion, insertion or
 * reordering breaks the chain; deleting the newest records needs a new head, and forging one needs
 * the key.
 *
 * What the key cannot stop is a rollback: a copy of state_dir taken earlier is a valid log. So
 * once a transaction that appended records has committed, each record's (seq, mac) also goes to
 * syslog and to the witness file ([audit] witness, outside state_dir, O_APPEND), and
 * audit_verify_witness finds the first record the witness knows that the log lacks or holds
 * differently. See docs/audit.md for the fsync policy.
 *
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
	uint64_t time;	   /* seconds since the epoch, UTC (CLOCK_REALTIME, NTP-synchronised) */
	uint32_t nsec;	   /* and nanoseconds */
	char actor[64];	   /* account name, "root" (local wsgatectl), or "-" before login */
	char role[16];	   /* actor's role ("analyst", "stats", "admin", "root") or "-" */
	char project[64];  /* the session's project, or "-" */
	char area[64];	   /* the session's area, or "-" */
	char addr[64];	   /* the client's source address, or "-" (local) */
	char event[48];	   /* e.g. login.ok, login.fail, session.start, transfer.approve */
	char detail[1024]; /* key=value pairs, values quoted when they hold spaces */
	uint8_t mac[AUDIT_MAC_LEN];
};

/*
 * Who this process acts for: copied into every record it appends from now on. A NULL argument
 * leaves that field as it was; "" resets it to "-". The monitor sets the address when the
 * connection arrives and the rest once the login succeeds; wsgatectl sets role "root" or "admin".
 */
void audit_set_context(const char *role, const char *project, const char *area, const char *addr);

/* detail is printf-style. Returns 0 or a store code <0 (store.h; the caller must then abort its
 * transaction). STORE_BADRECORD also when the head does not verify: a forged head is never
 * extended, since extending it would launder the deletion it hides. */
int audit_append(struct store *st, MDB_txn *txn, const char *actor, const char *event,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Convenience: its own transaction. */
int audit_log(struct store *st, const char *actor, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * From now on, each record of st that commits is sent to syslog (LOG_AUTHPRIV) and, with a
 * witness path (not NULL or ""), appended to that file as one line "SEQ MAC-HEX", created 0600
 * if absent. Returns 0 or -1 with a reason in why (the witness cannot be opened). At most one
 * store per process. Undone by store_close, which also syncs the witness.
 */
int audit_attach(struct store *st, const char *witness, char *why, size_t whylen);

/* Walks the chain and checks the head. Returns 0 if intact; otherwise <0 and a one-line reason
 * naming the first bad record. *count gets the number of records checked. */
int audit_verify(struct store *st, uint64_t *count, char *why, size_t whylen);
/* audit_verify, then every line of the witness file must name a record the log holds with the
 * same MAC: catches deletion of the newest records together with their head, a wiped log, and a
 * rollback to an older copy. *witnessed gets the number of witness lines checked. */
int audit_verify_witness(struct store *st, const char *witness, uint64_t *count,
			 uint64_t *witnessed, char *why, size_t whylen);

/* Calls fn for each record with time >= since, in order; fn returns 0 to go on, anything else
 * stops the walk and is returned. Returns 0, fn's value or a store code <0. */
int audit_foreach(struct store *st, uint64_t since,
		  int (*fn)(const struct audit_record *rec, void *arg), void *arg);

/* Quotes a value for a detail string: bare if safe, else "..." with control bytes escaped. */
const char *audit_quote(const char *in, char *out, size_t outlen);

#endif
