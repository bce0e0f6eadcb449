#include "auth/lockout.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"

#define AUTHSTATE_FORMAT_V1 1 /* before the set of used TOTP steps; still read */
#define AUTHSTATE_FORMAT 2

int
authstate_get(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen,
	      struct authstate *s)
{
	MDB_val v;
	struct rbuf r;
	uint8_t format;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = store_get(st, txn, db, key, klen, &v);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	rbuf_init(&r, v.mv_data, v.mv_size);
	format = rbuf_u8(&r);
	if (format != AUTHSTATE_FORMAT_V1 && format != AUTHSTATE_FORMAT)
		goto bad;
	s->last_step = rbuf_u64(&r);
	s->locked_until = rbuf_u64(&r);
	s->nfail = rbuf_u32(&r);
	if (s->nfail > LOCKOUT_MAX_TIMES)
		goto bad;
	for (uint32_t i = 0; i < s->nfail; i++)
		s->fail[i] = rbuf_u64(&r);
	if (format == AUTHSTATE_FORMAT_V1) {
		/* Only the last step was kept: everything up to it counts as used. */
		s->step_floor = s->last_step;
	} else {
		s->step_floor = rbuf_u64(&r);
		s->nused = rbuf_u32(&r);
		if (s->nused > TOTP_USED_MAX)
			goto bad;
		for (uint32_t i = 0; i < s->nused; i++)
			s->used[i] = rbuf_u64(&r);
	}
	if (!rbuf_done(&r))
		goto bad;
	return 0;
bad:
	memset(s, 0, sizeof(*s));
	return STORE_BADRECORD;
}

int
authstate_put(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen,
	      const struct authstate *s)
{
	struct wbuf b;
	int rc = -ENOMEM;

	if (s->nfail > LOCKOUT_MAX_TIMES || s->nused > TOTP_USED_MAX)
		return -EINVAL;
	wbuf_init(&b);
	wbuf_put_u8(&b, AUTHSTATE_FORMAT);
	wbuf_put_u64(&b, s->last_step);
	wbuf_put_u64(&b, s->locked_until);
	wbuf_put_u32(&b, s->nfail);
	for (uint32_t i = 0; i < s->nfail; i++)
		wbuf_put_u64(&b, s->fail[i]);
	wbuf_put_u64(&b, s->step_floor);
	wbuf_put_u32(&b, s->nused);
	for (uint32_t i = 0; i < s->nused; i++)
		wbuf_put_u64(&b, s->used[i]);
	if (!b.err)
		rc = store_put(st, txn, db, key, klen, b.data, b.len, 0);
	wbuf_free(&b);
	return rc;
}

int
authstate_step_used(const struct authstate *s, uint64_t step)
{
	int newer = 0;

	if (step <= s->step_floor)
		return 1;
	for (uint32_t i = 0; i < s->nused; i++) {
		if (s->used[i] == step)
			return 1;
		if (s->used[i] > step && s->used[i] - step <= TOTP_NEIGHBOUR)
			newer = 1;
	}
	return newer ? 2 : 0;
}

void
authstate_step_accept(struct authstate *s, uint64_t step)
{
	uint32_t min = 0;

	if (step > s->last_step)
		s->last_step = step;
	if (s->nused < TOTP_USED_MAX) {
		s->used[s->nused++] = step;
		return;
	}
	/* Full: the smallest of the set and the new step goes under the floor. */
	for (uint32_t i = 1; i < s->nused; i++)
		if (s->used[i] < s->used[min])
			min = i;
	if (step < s->used[min]) {
		s->step_floor = step;
		return;
	}
	if (s->used[min] > s->step_floor)
		s->step_floor = s->used[min];
	s->used[min] = step;
}

int
lockout_locked(const struct authstate *s, uint64_t now, uint64_t *until)
{
	if (s->locked_until > now) {
		if (until)
			*until = s->locked_until;
		return 1;
	}
	return 0;
}

/* Drops the timestamps that have left the window (older than now - window). A timestamp in the
 * future (clock stepped back) is kept: it only makes the lock come sooner. */
static void
prune(struct authstate *s, uint64_t window, uint64_t now)
{
	uint32_t keep = 0;

	for (uint32_t i = 0; i < s->nfail; i++)
		if (s->fail[i] + window > now)
			s->fail[keep++] = s->fail[i];
	s->nfail = keep;
}

static uint32_t
effective_limit(const struct lockout_policy *pol)
{
	return pol->limit > LOCKOUT_MAX_TIMES ? LOCKOUT_MAX_TIMES : pol->limit;
}

uint32_t
lockout_recent(const struct authstate *s, const struct lockout_policy *pol, uint64_t now)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < s->nfail; i++)
		if (s->fail[i] + pol->window > now)
			n++;
	return n;
}

int
lockout_fail(struct authstate *s, const struct lockout_policy *pol, uint64_t now)
{
	uint32_t limit = effective_limit(pol);

	prune(s, pol->window, now);
	if (s->nfail == LOCKOUT_MAX_TIMES) {
		memmove(s->fail, s->fail + 1, (LOCKOUT_MAX_TIMES - 1) * sizeof(s->fail[0]));
		s->nfail--;
	}
	s->fail[s->nfail++] = now;
	/* Failures while already locked are recorded but do not extend the lock: an attacker
	 * must not be able to keep a victim locked out for ever by guessing once a window. */
	if (limit == 0 || lockout_locked(s, now, NULL) || s->nfail < limit)
		return 0;
	s->locked_until = now + pol->time;
	s->nfail = 0;
	return 1;
}

void
lockout_clear(struct authstate *s)
{
	s->locked_until = 0;
	s->nfail = 0;
	memset(s->fail, 0, sizeof(s->fail));
}

static int
stale(const MDB_val *v, const struct lockout_policy *pol, uint64_t now)
{
	struct rbuf r;
	uint64_t until, t;
	uint32_t n;

	rbuf_init(&r, v->mv_data, v->mv_size);
	if (rbuf_u8(&r) != AUTHSTATE_FORMAT)
		return 1; /* unreadable: authstate_get would reset it anyway */
	(void)rbuf_u64(&r);
	until = rbuf_u64(&r);
	n = rbuf_u32(&r);
	if (!rbuf_ok(&r) || n > LOCKOUT_MAX_TIMES)
		return 1;
	if (until > now)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		t = rbuf_u64(&r);
		if (rbuf_ok(&r) && t + pol->window > now)
			return 0;
	}
	return 1;
}

/* What one sweep has seen and chosen; keys are at most 9 bytes (lockout_addr_key). */
struct sweep {
	const void *from;
	size_t fromlen;
	const struct lockout_policy *pol;
	uint64_t now;
	unsigned seen, max, n;
	struct {
		uint8_t key[16];
		size_t len;
	} * del;
};

static int
sweep_visit(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct sweep *sw = arg;

	if (sw->seen++ == sw->max)
		return 1;
	/* The record being written by the caller is never swept here. */
	if (k->mv_size == sw->fromlen && memcmp(k->mv_data, sw->from, sw->fromlen) == 0)
		return 0;
	if (k->mv_size > sizeof(sw->del[0].key) || !stale(v, sw->pol, sw->now))
		return 0;
	/* A small table is walked twice (after wrapping round): take each key once. */
	for (unsigned i = 0; i < sw->n; i++)
		if (sw->del[i].len == k->mv_size &&
		    memcmp(sw->del[i].key, k->mv_data, k->mv_size) == 0)
			return 0;
	memcpy(sw->del[sw->n].key, k->mv_data, k->mv_size);
	sw->del[sw->n++].len = k->mv_size;
	return 0;
}

int
lockout_sweep(struct store *st, MDB_txn *txn, const void *from, size_t fromlen,
	      const struct lockout_policy *pol, uint64_t now, unsigned max)
{
	struct sweep sw = {from, fromlen, pol, now, 0, max, 0, NULL};
	int rc;

	if (max == 0)
		return 0;
	if (!(sw.del = calloc(max, sizeof(*sw.del))))
		return -ENOMEM;
	/* From the caller's key to the end, then from the start: the walk goes round the table
	 * in the course of many failures instead of always sweeping its first records. */
	rc = store_each(st, txn, DB_ADDRSTATE, from, fromlen, 0, sweep_visit, &sw);
	if (rc == 0)
		rc = store_each(st, txn, DB_ADDRSTATE, NULL, 0, 0, sweep_visit, &sw);
	/* The walk only chose: store_each's cursor must not see its table change under it. */
	for (unsigned i = 0; rc >= 0 && i < sw.n; i++)
		if ((rc = store_del(st, txn, DB_ADDRSTATE, sw.del[i].key, sw.del[i].len)) ==
		    STORE_NOTFOUND)
			rc = 0;
	free(sw.del);
	return rc < 0 ? rc : (int)sw.n;
}

int
lockout_addr_key(const struct sockaddr *sa, uint8_t key[9], size_t *klen, char *text,
		 size_t textlen)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		key[0] = 4;
		memcpy(key + 1, &sin->sin_addr, 4);
		*klen = 5;
		if (!inet_ntop(AF_INET, &sin->sin_addr, text, (socklen_t)textlen))
			return -1;
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			key[0] = 4;
			memcpy(key + 1, sin6->sin6_addr.s6_addr + 12, 4);
			*klen = 5;
			if (!inet_ntop(AF_INET, sin6->sin6_addr.s6_addr + 12, text,
				       (socklen_t)textlen))
				return -1;
			return 0;
		}
		key[0] = 6;
		memcpy(key + 1, sin6->sin6_addr.s6_addr, 8);
		*klen = 9;
		if (!inet_ntop(AF_INET6, &sin6->sin6_addr, text, (socklen_t)textlen))
			return -1;
		return 0;
	}
	return -1;
}
