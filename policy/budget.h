/*
 * Daily byte budgets of session channels (SPEC "The terminal is a display, not a file
 * transfer"): per account, per UTC day, output (bytes sent to the client) and input (bytes
 * received from it), over every shell and exec channel of every connection of the account.
 * Kept in LMDB (DB_BUDGET), so a daemon restart does not reset the day and concurrent
 * connections draw on one balance. Bytes are reserved before they are relayed: a connection
 * takes an allowance, relays at most that much, and gives back what it did not use, so the sum
 * over all connections never passes the budget.
 */
#ifndef WSGATE_BUDGET_H
#define WSGATE_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#include "common/store.h"
#include "policy/config.h"

enum budget_dir { BUDGET_OUT, BUDGET_IN };

struct budget_day {
	uint64_t used[2];   /* by enum budget_dir */
	uint64_t extra[2];  /* granted today by `wsgatectl user budget --extra` */
	uint8_t warned[2];  /* the 80 % event was recorded */
	uint8_t reached[2]; /* the 100 % event was recorded */
};

/* What happened to the balance in a budget_take, for the audit log. */
enum budget_event { BUDGET_EV_NONE, BUDGET_EV_WARN, BUDGET_EV_REACHED };

/* The UTC day of t (days since the epoch). */
uint32_t budget_day_of(uint64_t t);
/* The configured daily budget of dir, or CONFIG_BUDGET_NONE. */
uint64_t budget_limit(const struct config *cfg, enum budget_dir dir);
/* Reads the account's record for day; a missing one is all zeros. Returns 0 or <0. */
int budget_get(struct store *st, MDB_txn *txn, const char *user, uint32_t day,
	       struct budget_day *out);
int budget_put(struct store *st, MDB_txn *txn, const char *user, uint32_t day,
	       const struct budget_day *b);
/* Bytes of dir still available today: limit + extra - used (0 when spent). */
uint64_t budget_left(const struct config *cfg, const struct budget_day *b, enum budget_dir dir);
/*
 * In txn: gives back `unused` bytes of an earlier allowance, then reserves up to `want` more.
 * *granted gets what was reserved (UINT64_MAX when the budget is none). *event says whether
 * this crossed 80 % or found the budget spent for the first time today (record it in the same
 * transaction). Returns 0 or <0 (store codes).
 */
int budget_take(struct store *st, MDB_txn *txn, const struct config *cfg, const char *user,
		enum budget_dir dir, uint64_t unused, uint64_t want, uint64_t now,
		uint64_t *granted, enum budget_event *event);
/* The one line a person sees when dir is spent: "wsgate: daily output budget (50M) reached". */
void budget_line(const struct config *cfg, enum budget_dir dir, char *out, size_t outlen);

#endif
