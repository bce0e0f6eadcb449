/*
 * Reviews of a pending request (SPEC "The airlock"): approve, reject, return. Each review is
 * its own record (review.c); the request's state changes only through the transition table
 * (queue.c), when the reviews decide it: one reject rejects, one return returns, and approval
 * needs [airlock] reviews_required approvals by different admins, none of them the requester.
 * Everything is decided on the records as read inside one write transaction: LMDB has one
 * writer at a time, so two reviewers deciding at once are serialised and both counted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/audit.h"
#include "common/why.h"
#include "transfer/airlock.h"
#include "transfer/blob.h"
#include "transfer/review.h"

/* A return must say what to change; other notes may be empty, but must be given (--note). */
static int
valid_note(const char *note, int decision, char *why, size_t whylen)
{
	if (!note || strlen(note) >= QUEUE_NOTE_MAX || (decision == REVIEW_RETURN && !*note))
		return why_set(why, whylen, "a note of %s%d bytes is required",
			       decision == REVIEW_RETURN ? "1 to " : "at most ",
			       QUEUE_NOTE_MAX - 1);
	for (const char *c = note; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return why_set(why, whylen, "note contains control characters");
	return 0;
}

static unsigned
reviews_required(const struct config *cfg)
{
	return cfg->reviews_required > 1 ? cfg->reviews_required : 1;
}

/* The state a decision leads to once it decides the request. */
static int
target_state(int decision)
{
	return decision == REVIEW_APPROVE  ? ST_APPROVED
	       : decision == REVIEW_REJECT ? ST_REJECTED
					   : ST_RETURNED;
}

/* Everything that refuses a review before anything is written; 0 or -1 with why. */
static int
may_review(struct store *st, MDB_txn *txn, const struct config *cfg, const struct request *r,
	   const char *reviewer, int decision, const char *note, char *why, size_t whylen)
{
	struct review prev;
	int rc;

	if (!queue_transition(r->s.state, target_state(decision)))
		return why_set(why, whylen, "request %" PRIu64 " is %s, not pending", r->s.id,
			       queue_state_name(r->s.state));
	if (strcmp(r->s.requester, reviewer) == 0)
		return why_set(why, whylen,
			       "request %" PRIu64 " was made by %s, who cannot decide it "
			       "(two-person rule)",
			       r->s.id, reviewer);
	if (decision == REVIEW_APPROVE && r->s.kind == KIND_EXPORT && r->s.check == CHECK_FAIL &&
	    cfg->export_block_on_fail)
		return why_set(why, whylen,
			       "request %" PRIu64 " failed the export checks and "
			       "export_block_on_fail is set: it cannot be approved",
			       r->s.id);
	/* SPEC: approving a failing request needs a note (the reviewer says why it may go). */
	if (decision == REVIEW_APPROVE && r->s.check == CHECK_FAIL && !*note)
		return why_set(why, whylen,
			       "request %" PRIu64 " failed the export checks: approving it needs a "
			       "note saying why it may be released",
			       r->s.id);
	rc = review_get(st, txn, r->s.id, reviewer, &prev);
	if (rc == 0)
		return why_set(why, whylen,
			       "request %" PRIu64 ": %s has reviewed it already (%s); it awaits "
			       "another reviewer",
			       r->s.id, reviewer, review_decision_name(prev.decision));
	if (rc != STORE_NOTFOUND)
		return why_set(why, whylen, "request %" PRIu64 ": cannot read reviews: %s", r->s.id,
			       store_strerror(rc));
	return 0;
}

/* Records the review and, when it decides the request, the new state; the audit record of
 * either goes in the same transaction. Sets *decided. 0 or an LMDB code. */
static int
record(struct store *st, MDB_txn *txn, const struct config *cfg, struct request *r,
       const struct review *rv, int *decided)
{
	char qn[2 * QUEUE_NOTE_MAX + 8];
	unsigned approvals, need = reviews_required(cfg);
	const char *event;
	int rc;

	if ((rc = review_put(st, txn, rv)) != 0)
		return rc == STORE_EXISTS ? STORE_BADRECORD : rc;
	if ((rc = review_approvals(st, txn, r->s.id, &approvals)) != 0)
		return rc;
	audit_quote(rv->note, qn, sizeof(qn));
	*decided = rv->decision != REVIEW_APPROVE || approvals >= need;
	if (!*decided)
		return audit_append(st, txn, rv->reviewer, "transfer.review",
				    "id=%" PRIu64 " kind=%s project=%s decision=%s approvals=%u/%u "
				    "note=%s",
				    r->s.id, queue_kind_name(r->s.kind), r->s.project,
				    review_decision_name(rv->decision), approvals, need, qn);
	event = queue_transition(r->s.state, target_state(rv->decision));
	r->s.state = (uint8_t)target_state(rv->decision);
	r->s.decided = rv->time;
	snprintf(r->reviewer, sizeof(r->reviewer), "%s", rv->reviewer);
	snprintf(r->note, sizeof(r->note), "%s", rv->note);
	if ((rc = queue_update(st, txn, r)) < 0)
		return rc;
	return audit_append(st, txn, rv->reviewer, event,
			    "id=%" PRIu64 " kind=%s project=%s note=%s", r->s.id,
			    queue_kind_name(r->s.kind), r->s.project, qn);
}

int
airlock_review(struct store *st, const struct config *cfg, const char *reviewer, uint64_t id,
	       int decision, const char *note, int *outcome, char *why, size_t whylen)
{
	struct request *r = NULL;
	struct review *rv = NULL;
	MDB_txn *txn = NULL;
	int rc, ret = -1, decided = 0;

	*outcome = AIRLOCK_AWAITS_REVIEW;
	if (!reviewer || !*reviewer || strlen(reviewer) >= QUEUE_USER_MAX)
		return why_set(why, whylen, "invalid reviewer");
	if (decision < REVIEW_APPROVE || decision > REVIEW_RETURN)
		return why_set(why, whylen, "invalid decision");
	if (valid_note(note, decision, why, whylen) < 0)
		return -1;
	if (!(r = calloc(1, sizeof(*r))) || !(rv = calloc(1, sizeof(*rv)))) {
		why_set(why, whylen, "out of memory");
		goto out;
	}
	if ((rc = store_begin(st, 0, &txn)) < 0) {
		why_set(why, whylen, "store: %s", store_strerror(rc));
		goto out;
	}
	if ((rc = queue_get(st, txn, id, r)) != 0) {
		if (rc == STORE_NOTFOUND)
			why_set(why, whylen, "no request %" PRIu64, id);
		else
			why_set(why, whylen, "request %" PRIu64 ": cannot read record: %s", id,
				store_strerror(rc));
		goto out;
	}
	if (may_review(st, txn, cfg, r, reviewer, decision, note, why, whylen) < 0)
		goto out;
	rv->id = id;
	snprintf(rv->reviewer, sizeof(rv->reviewer), "%s", reviewer);
	rv->decision = (uint8_t)decision;
	rv->time = (uint64_t)time(NULL);
	snprintf(rv->note, sizeof(rv->note), "%s", note);
	if ((rc = record(st, txn, cfg, r, rv, &decided)) != 0) {
		why_set(why, whylen, "store: cannot record the review: %s", store_strerror(rc));
		goto out;
	}
	transfer_crash_point("decide.before_commit");
	rc = store_commit(txn);
	txn = NULL;
	if (rc < 0) {
		why_set(why, whylen, "store: commit: %s", store_strerror(rc));
		goto out;
	}
	transfer_crash_point("decide.committed");
	*outcome = decided ? AIRLOCK_DECIDED : AIRLOCK_AWAITS_REVIEW;
	ret = 0;
	if (decided && decision == REVIEW_APPROVE &&
	    airlock_deliver(st, reviewer, id, why, whylen) < 0)
		ret = -1;
out:
	store_abort(txn);
	free(r);
	free(rv);
	return ret;
}

int
airlock_decide(struct store *st, const struct config *cfg, const char *reviewer, uint64_t id,
	       int approve, const char *note, char *why, size_t whylen)
{
	int outcome;

	return airlock_review(st, cfg, reviewer, id, approve ? REVIEW_APPROVE : REVIEW_REJECT, note,
			      &outcome, why, whylen);
}
