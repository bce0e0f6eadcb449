/* Resubmission after a return (SPEC "The airlock": airlock export PATH --replaces ID). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/audit.h"
#include "common/why.h"
#include "transfer/airlock.h"
#include "transfer/queue.h"
#include "transfer/review.h"

/*
 * Only the requester's own returned request of the same project may be replaced, and only once:
 * a chain stays a line (returned -> resubmitted -> ...), so the reviewer can follow it back.
 * Another project's request is "no such request", as for withdraw: ids reveal nothing.
 */
int
airlock_link_resubmission(struct store *st, MDB_txn *txn, const struct request *r, uint64_t old,
			  char *why, size_t whylen)
{
	struct request *o = calloc(1, sizeof(*o));
	uint64_t by = 0;
	int rc, ret = -1;

	if (!o)
		return why_set(why, whylen, "out of memory");
	rc = queue_get(st, txn, old, o);
	if (rc == STORE_NOTFOUND || (rc == 0 && strcmp(o->s.project, r->s.project) != 0)) {
		why_set(why, whylen, "--replaces: no request %" PRIu64 " in project %s", old,
			r->s.project);
		goto out;
	}
	if (rc != 0) {
		why_set(why, whylen, "--replaces: request %" PRIu64 ": cannot read record: %s", old,
			store_strerror(rc));
		goto out;
	}
	if (strcmp(o->s.requester, r->s.requester) != 0 || o->s.kind != r->s.kind) {
		why_set(why, whylen, "--replaces: request %" PRIu64 " is not an %s of yours", old,
			queue_kind_name(r->s.kind));
		goto out;
	}
	if (o->s.state != ST_RETURNED) {
		why_set(why, whylen,
			"--replaces: request %" PRIu64 " is %s; only a returned request "
			"can be replaced",
			old, queue_state_name(o->s.state));
		goto out;
	}
	if ((rc = review_link_put(st, txn, r->s.id, old)) != 0) {
		if (rc == STORE_EXISTS && review_link_replaced_by(st, txn, old, &by) == 0 && by)
			why_set(why, whylen,
				"--replaces: request %" PRIu64 " was resubmitted already as "
				"request %" PRIu64,
				old, by);
		else
			why_set(why, whylen, "store: cannot link the resubmission: %s",
				store_strerror(rc));
		goto out;
	}
	if ((rc = audit_append(st, txn, r->s.requester, "transfer.resubmit",
			       "id=%" PRIu64 " replaces=%" PRIu64 " project=%s", r->s.id, old,
			       r->s.project)) < 0) {
		why_set(why, whylen, "store: cannot record the resubmission: %s",
			store_strerror(rc));
		goto out;
	}
	ret = 0;
out:
	free(o);
	return ret;
}
