/* Reviews and resubmission links in LMDB (see review.h). */
#include "transfer/review.h"

#include <errno.h>
#include <string.h>

#include "common/codec.h"

#define REVIEW_RECORD_VERSION 1
#define REVIEW_KEY_MAX (8 + QUEUE_USER_MAX)

/* clang-format off */
static const char *const decision_names[] = {
	[REVIEW_APPROVE] = "approve",
	[REVIEW_REJECT] = "reject",
	[REVIEW_RETURN] = "return",
};
/* clang-format on */

const char *
review_decision_name(int decision)
{
	return decision >= REVIEW_APPROVE && decision <= REVIEW_RETURN ? decision_names[decision]
								       : "?";
}

/* Request id (big-endian, so one request's reviews are adjacent) then the reviewer's name. */
static size_t
review_key(uint64_t id, const char *reviewer, uint8_t key[REVIEW_KEY_MAX])
{
	size_t n = strnlen(reviewer, QUEUE_USER_MAX - 1);

	store_u64_key(id, key);
	memcpy(key + 8, reviewer, n);
	return 8 + n;
}

int
review_put(struct store *st, MDB_txn *txn, const struct review *rv)
{
	uint8_t key[REVIEW_KEY_MAX];
	struct wbuf b;
	int rc;

	if (!rv->reviewer[0] || rv->decision < REVIEW_APPROVE || rv->decision > REVIEW_RETURN)
		return -EINVAL;
	wbuf_init(&b);
	wbuf_put_u8(&b, REVIEW_RECORD_VERSION);
	wbuf_put_u8(&b, rv->decision);
	wbuf_put_u64(&b, rv->time);
	wbuf_put_str(&b, rv->note);
	if (b.err) {
		wbuf_free(&b);
		return -ENOMEM;
	}
	rc = store_put(st, txn, DB_REVIEWS, key, review_key(rv->id, rv->reviewer, key), b.data,
		       b.len, MDB_NOOVERWRITE);
	wbuf_free(&b);
	return rc;
}

static int
review_decode(const MDB_val *k, const MDB_val *v, struct review *rv)
{
	struct rbuf rd;

	memset(rv, 0, sizeof(*rv));
	if (k->mv_size <= 8 || k->mv_size >= REVIEW_KEY_MAX)
		return STORE_BADRECORD;
	rv->id = store_key_u64(&(MDB_val){8, k->mv_data});
	memcpy(rv->reviewer, (const char *)k->mv_data + 8, k->mv_size - 8);
	rbuf_init(&rd, v->mv_data, v->mv_size);
	if (rbuf_u8(&rd) != REVIEW_RECORD_VERSION)
		return STORE_BADRECORD;
	rv->decision = rbuf_u8(&rd);
	rv->time = rbuf_u64(&rd);
	rbuf_str(&rd, rv->note, sizeof(rv->note));
	if (!rbuf_done(&rd) || rv->decision < REVIEW_APPROVE || rv->decision > REVIEW_RETURN ||
	    memchr(rv->reviewer, '\0', k->mv_size - 8))
		return STORE_BADRECORD;
	return 0;
}

int
review_get(struct store *st, MDB_txn *txn, uint64_t id, const char *reviewer, struct review *rv)
{
	uint8_t key[REVIEW_KEY_MAX];
	MDB_val k, v;
	int rc;

	k.mv_size = review_key(id, reviewer, key);
	k.mv_data = key;
	if ((rc = store_get(st, txn, DB_REVIEWS, key, k.mv_size, &v)) != 0)
		return rc;
	return review_decode(&k, &v, rv);
}

struct review_walk {
	uint64_t id;
	int (*fn)(const struct review *rv, void *arg);
	void *arg;
	struct review rv;
};

/* Stops (1, not an error) at the first key of another request. */
#define REVIEW_WALK_END 1

static int
review_visit(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct review_walk *w = arg;
	int rc;

	if (k->mv_size < 8 || store_key_u64(&(MDB_val){8, k->mv_data}) != w->id)
		return REVIEW_WALK_END;
	if ((rc = review_decode(k, v, &w->rv)) != 0)
		return rc;
	return w->fn(&w->rv, w->arg);
}

int
review_foreach(struct store *st, MDB_txn *txn, uint64_t id,
	       int (*fn)(const struct review *rv, void *arg), void *arg)
{
	struct review_walk w = {.id = id, .fn = fn, .arg = arg};
	uint8_t from[8];
	int rc;

	store_u64_key(id, from);
	rc = store_each(st, txn, DB_REVIEWS, from, sizeof(from), 0, review_visit, &w);
	return rc == REVIEW_WALK_END ? 0 : rc;
}

static int
count_approval(const struct review *rv, void *arg)
{
	*(unsigned *)arg += rv->decision == REVIEW_APPROVE;
	return 0;
}

int
review_approvals(struct store *st, MDB_txn *txn, uint64_t id, unsigned *n)
{
	*n = 0;
	return review_foreach(st, txn, id, count_approval, n);
}

/* DB_LINKS: "r" + new id -> old id (what it replaces), "b" + old id -> new id (replaced by). */
static void
link_key(char tag, uint64_t id, uint8_t key[9])
{
	key[0] = (uint8_t)tag;
	store_u64_key(id, key + 1);
}

int
review_link_put(struct store *st, MDB_txn *txn, uint64_t new_id, uint64_t old_id)
{
	uint8_t key[9], val[8];
	int rc;

	link_key('b', old_id, key);
	store_u64_key(new_id, val);
	if ((rc = store_put(st, txn, DB_LINKS, key, sizeof(key), val, sizeof(val),
			    MDB_NOOVERWRITE)) != 0)
		return rc;
	link_key('r', new_id, key);
	store_u64_key(old_id, val);
	return store_put(st, txn, DB_LINKS, key, sizeof(key), val, sizeof(val), MDB_NOOVERWRITE);
}

static int
link_get(struct store *st, MDB_txn *txn, char tag, uint64_t id, uint64_t *out)
{
	uint8_t key[9];
	MDB_val v;
	int rc;

	*out = 0;
	link_key(tag, id, key);
	rc = store_get(st, txn, DB_LINKS, key, sizeof(key), &v);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != 8)
		return STORE_BADRECORD;
	*out = store_key_u64(&v);
	return 0;
}

int
review_link_replaces(struct store *st, MDB_txn *txn, uint64_t new_id, uint64_t *old_id)
{
	return link_get(st, txn, 'r', new_id, old_id);
}

int
review_link_replaced_by(struct store *st, MDB_txn *txn, uint64_t old_id, uint64_t *new_id)
{
	return link_get(st, txn, 'b', old_id, new_id);
}
