/*
 * Reviews and resubmission links (SPEC "The airlock": reviews, return, --replaces). Internal
 * to transfer/ and wsgatectl.
 *
 * Each review is its own record in DB_REVIEWS, keyed by request id and reviewer, so that two
 * reviews never share a record (neither can overwrite or see into the other) and a reviewer
 * reviews a request once. The request record keeps its state and the deciding review's
 * reviewer and note, as before; what decides the state is review_tally over these records and
 * [airlock] reviews_required. DB_LINKS maps a resubmission to the returned request it replaces.
 */
#ifndef WSGATE_REVIEW_H
#define WSGATE_REVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "common/store.h"
#include "transfer/queue.h"

enum review_decision { REVIEW_APPROVE = 1, REVIEW_REJECT = 2, REVIEW_RETURN = 3 };

struct review {
	uint64_t id;
	char reviewer[QUEUE_USER_MAX];
	uint8_t decision;
	uint64_t time;
	char note[QUEUE_NOTE_MAX];
};

const char *review_decision_name(int decision); /* "approve", "reject", "return" */

/* Stores a review in the caller's write transaction: 0, STORE_EXISTS if this reviewer has
 * reviewed the request already, or <0. */
int review_put(struct store *st, MDB_txn *txn, const struct review *rv);
/* 0, STORE_NOTFOUND or <0. */
int review_get(struct store *st, MDB_txn *txn, uint64_t id, const char *reviewer,
	       struct review *rv);
/* The reviews of one request in reviewer order; fn returns 0 to go on. 0, fn's value or <0. */
int review_foreach(struct store *st, MDB_txn *txn, uint64_t id,
		   int (*fn)(const struct review *rv, void *arg), void *arg);
/* Approvals recorded for a request: 0 or <0. */
int review_approvals(struct store *st, MDB_txn *txn, uint64_t id, unsigned *n);

/* Links new_id to the returned request old_id it replaces (one replacement per request):
 * 0, STORE_EXISTS if old_id was replaced already, or <0. */
int review_link_put(struct store *st, MDB_txn *txn, uint64_t new_id, uint64_t old_id);
/* What new_id replaces (*old_id = 0: nothing), and what replaced old_id (*new_id = 0: nothing).
 * 0 or <0. */
int review_link_replaces(struct store *st, MDB_txn *txn, uint64_t new_id, uint64_t *old_id);
int review_link_replaced_by(struct store *st, MDB_txn *txn, uint64_t old_id, uint64_t *new_id);

#endif
