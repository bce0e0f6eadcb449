/*
 * What wsgatectl shows of reviews and resubmissions (SPEC "The airlock"): the reviews of a
 * request in `transfer show` (another reviewer's review stays hidden from an admin who has not
 * reviewed a pending request yet, so that the second review is independent), `pending (1/2)` in
 * `transfer list`, and the chain of resubmissions with what changed in the check report.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl/ctl.h"
#include "transfer/queue.h"
#include "transfer/review.h"

#define CHAIN_MAX 64 /* links followed each way */

static unsigned
required(const struct ctl *c)
{
	return c->cfg->reviews_required > 1 ? c->cfg->reviews_required : 1;
}

unsigned
ctl_review_state_width(const struct ctl *c)
{
	return required(c) > 1 ? 13 : 9;
}

const char *
ctl_review_state(struct ctl *c, MDB_txn *txn, const struct req_summary *s, char *buf, size_t len)
{
	unsigned n;

	if (s->state != ST_PENDING || required(c) < 2 || review_approvals(c->st, txn, s->id, &n))
		return queue_state_name(s->state);
	snprintf(buf, len, "pending (%u/%u)", n, required(c));
	return buf;
}

int
ctl_print_awaiting(struct ctl *c, uint64_t id, int json)
{
	MDB_txn *txn;
	unsigned n = 0;

	if (store_begin(c->st, 1, &txn) == 0) {
		review_approvals(c->st, txn, id, &n);
		store_abort(txn);
	}
	if (json)
		printf("{\"id\":%" PRIu64 ",\"state\":\"pending\",\"approvals\":%u,"
		       "\"reviews_required\":%u}\n",
		       id, n, required(c));
	else
		printf("request %" PRIu64 ": approval recorded (%u of %u); it awaits another "
		       "reviewer\n",
		       id, n, required(c));
	return 0;
}

struct show_ctx {
	struct ctl *c;
	const struct request *r;
	int mine; /* the actor has reviewed this request */
	unsigned n, hidden;
	json_t *arr;
};

static int
note_mine(const struct review *rv, void *arg)
{
	struct show_ctx *x = arg;

	x->mine |= strcmp(rv->reviewer, x->c->actor) == 0;
	return 0;
}

static int
show_one(const struct review *rv, void *arg)
{
	struct show_ctx *x = arg;
	char t[32], note[QUEUE_NOTE_MAX];

	x->n++;
	/* Independent reviews: while the request is pending, an admin who has not reviewed it
	 * sees that other reviews exist, not what they say. */
	if (x->r->s.state == ST_PENDING && !x->mine && strcmp(rv->reviewer, x->c->actor) != 0) {
		x->hidden++;
		return 0;
	}
	queue_safe_text(rv->note, note, sizeof(note), 0);
	ctl_format_time(rv->time, t, sizeof(t));
	if (x->arr) {
		json_array_append_new(x->arr,
				      json_pack("{s:s, s:s, s:s, s:I}", "reviewer", rv->reviewer,
						"decision", review_decision_name(rv->decision),
						"note", note, "time", (json_int_t)rv->time));
		return 0;
	}
	printf("  %-20s %-16s %-7s %s\n", t, rv->reviewer, review_decision_name(rv->decision),
	       note);
	return 0;
}

/* Prints the report lines of a that are not in b, prefixed with mark. */
static void
lines_not_in(const char *a, const char *b, const char *mark)
{
	for (const char *line = a, *nl; *line; line = nl + 1) {
		size_t n;
		int found = 0;

		nl = strchr(line, '\n');
		n = nl ? (size_t)(nl - line) : strlen(line);
		for (const char *o = b, *onl; *o && !found; o = onl + 1) {
			onl = strchr(o, '\n');
			found = (size_t)(onl ? onl - o : (long)strlen(o)) == n &&
				strncmp(o, line, n) == 0;
			if (!onl)
				break;
		}
		if (!found && n)
			printf("  %s %.*s\n", mark, (int)n, line);
		if (!nl)
			break;
	}
}

/* The chain of resubmissions through id, oldest first: ids into chain, count returned. */
static size_t
chain_of(struct ctl *c, MDB_txn *txn, uint64_t id, uint64_t *chain, size_t max)
{
	uint64_t back[CHAIN_MAX], cur = id, next;
	size_t nb = 0, n = 0;

	while (nb < CHAIN_MAX && review_link_replaces(c->st, txn, cur, &next) == 0 && next)
		back[nb++] = cur = next;
	while (nb > 0 && n < max)
		chain[n++] = back[--nb];
	chain[n++] = id;
	for (cur = id; n < max && review_link_replaced_by(c->st, txn, cur, &next) == 0 && next;)
		chain[n++] = cur = next;
	return n;
}

static void
show_chain(struct ctl *c, MDB_txn *txn, const struct request *r, json_t *j)
{
	uint64_t chain[2 * CHAIN_MAX + 1], prev = 0;
	struct request *old;
	size_t n = chain_of(c, txn, r->s.id, chain, sizeof(chain) / sizeof(chain[0]));
	json_t *arr = j ? json_array() : NULL;

	if (review_link_replaces(c->st, txn, r->s.id, &prev) != 0)
		prev = 0;
	if (j) {
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_integer((json_int_t)chain[i]));
		json_object_set_new(j, "chain", arr);
		json_object_set_new(j, "replaces",
				    prev ? json_integer((json_int_t)prev) : json_null());
		return;
	}
	if (n < 2)
		return;
	printf("chain:     ");
	for (size_t i = 0; i < n; i++) {
		struct req_summary s = {0};
		struct request *x = calloc(1, sizeof(*x));

		if (x && queue_get(c->st, txn, chain[i], x) == 0)
			s = x->s;
		printf("%s%" PRIu64 " (%s)%s", i ? " -> " : "", chain[i],
		       s.state ? queue_state_name(s.state) : "?", chain[i] == r->s.id ? "*" : "");
		free(x);
	}
	printf("\n");
	if (!prev || !(old = calloc(1, sizeof(*old))))
		return;
	if (queue_get(c->st, txn, prev, old) == 0) {
		queue_display(old);
		printf("returned:  request %" PRIu64 " by %s: %s\n", prev, old->reviewer,
		       old->note);
		printf("check report changes since request %" PRIu64 ":\n", prev);
		if (strcmp(old->report, r->report) == 0)
			printf("  (none)\n");
		lines_not_in(old->report, r->report, "-");
		lines_not_in(r->report, old->report, "+");
	}
	free(old);
}

void
ctl_review_show(struct ctl *c, const struct request *r, json_t *j)
{
	struct show_ctx x = {.c = c, .r = r};
	MDB_txn *txn;

	if (store_begin(c->st, 1, &txn) < 0)
		return;
	review_foreach(c->st, txn, r->s.id, note_mine, &x);
	if (j) {
		x.arr = json_array();
		review_foreach(c->st, txn, r->s.id, show_one, &x);
		json_object_set_new(j, "reviews", x.arr);
		json_object_set_new(j, "reviews_hidden", json_integer(x.hidden));
		json_object_set_new(j, "reviews_required", json_integer(required(c)));
		show_chain(c, txn, r, j);
		store_abort(txn);
		return;
	}
	if (required(c) > 1)
		printf("reviews:   (%u approvals needed)\n", required(c));
	else
		printf("reviews:\n");
	review_foreach(c->st, txn, r->s.id, show_one, &x);
	if (x.hidden)
		printf("  (%u review%s by another admin, hidden until you review)\n", x.hidden,
		       x.hidden > 1 ? "s" : "");
	else if (!x.n)
		printf("  (none yet)\n");
	show_chain(c, txn, r, NULL);
	store_abort(txn);
}
