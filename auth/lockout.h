/*
 * Failure counting for account lockout and address throttling (SPEC "Login"). One record per
 * account in DB_AUTHSTATE (which also holds the last accepted TOTP step) and one per source
 * address in DB_ADDRSTATE. Failures are kept as a sliding window of timestamps: reaching the
 * limit within the window locks for lockout_time and clears the window.
 */
#ifndef WSGATE_LOCKOUT_H
#define WSGATE_LOCKOUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/store.h"

#define LOCKOUT_MAX_TIMES 256 /* timestamps kept per record; a larger limit is capped to this */
#define LOCKOUT_ADDR_FACTOR 4 /* an address is throttled after 4 x lockout_failures */

#define TOTP_USED_MAX 32 /* accepted TOTP steps remembered per account */
/* A code is also refused when a code at most this many steps newer was accepted: both were
 * valid at once (window 1 either side), and pam_oath refuses the older one too. */
#define TOTP_NEIGHBOUR 2

struct authstate {
	uint64_t last_step;    /* largest accepted TOTP time step (accounts only) */
	uint64_t locked_until; /* epoch seconds; 0 = not locked */
	uint32_t nfail;
	uint64_t fail[LOCKOUT_MAX_TIMES]; /* oldest first */
	/* The TOTP_USED_MAX largest accepted steps, and below them a floor: every step up to the
	 * floor counts as used (it was accepted, or is older than one that was and was forgotten).
	 * A set and not only the last step, so that a clock set back after running fast (NTP
	 * correcting a jump forward) does not refuse every code until it catches up, while no
	 * code is ever accepted twice. */
	uint64_t step_floor;
	uint32_t nused;
	uint64_t used[TOTP_USED_MAX];
};

struct lockout_policy {
	uint32_t limit; /* failures; 0 = never lock */
	uint64_t window;
	uint64_t time;
};

/* Read or write a record; a missing record reads as all zero. Return 0 or <0. */
int authstate_get(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen,
		  struct authstate *s);
int authstate_put(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen,
		  const struct authstate *s);

/* May a code of this time step be accepted? 0 yes; 1 it was (or counts as) accepted already;
 * 2 a code at most TOTP_NEIGHBOUR steps newer was accepted. */
int authstate_step_used(const struct authstate *s, uint64_t step);
/* Records an accepted step (last_step, the set, the floor). */
void authstate_step_accept(struct authstate *s, uint64_t step);

/* Is the record locked at now? *until gets the end of the lock. */
int lockout_locked(const struct authstate *s, uint64_t now, uint64_t *until);
/* Records one failure at now; returns 1 if this failure started a lock. */
int lockout_fail(struct authstate *s, const struct lockout_policy *pol, uint64_t now);
/* Clears failures and any lock (full success, or an admin's unlock); keeps last_step. */
void lockout_clear(struct authstate *s);
/* Failures still inside the window at now. */
uint32_t lockout_recent(const struct authstate *s, const struct lockout_policy *pol, uint64_t now);

/* Deletes up to max DB_ADDRSTATE records, from the key after `from` on (wrapping round), that
 * hold neither a lock nor a failure inside the window at now. Called on each recorded failure,
 * so the table stays about as large as the set of addresses failing right now instead of
 * growing with every address that ever failed. Returns the number deleted or <0. */
int lockout_sweep(struct store *st, MDB_txn *txn, const void *from, size_t fromlen,
		  const struct lockout_policy *pol, uint64_t now, unsigned max);

/* The DB_ADDRSTATE key of an address: IPv4 (also when IPv4-mapped) by its 4 bytes, IPv6 by its
 * /64 prefix, since one subscriber usually holds a whole /64. text gets the full address. */
int lockout_addr_key(const struct sockaddr *sa, uint8_t key[9], size_t *klen, char *text,
		     size_t textlen);

#endif
