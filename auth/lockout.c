#include "auth/lockout.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/codec.h"

#define AUTHSTATE_FORMAT 1

int
authstate_get(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen,
	      struct authstate *s)
{
	MDB_val v;
	struct rbuf r;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = store_get(st, txn, db, key, klen, &v);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc < 0)
		return -1;
	rbuf_init(&r, v.mv_data, v.mv_size);
	if (rbuf_u8(&r) != AUTHSTATE_FORMAT)
		goto bad;
	s->last_step = rbuf_u64(&r);
	s->locked_until = rbuf_u64(&r);
	s->nfail = rbuf_u32(&r);
	if (s->nfail > LOCKOUT_MAX_TIMES)
		goto bad;
	for (uint32_t i = 0; i < s->nfail; i++)
		s->fail[i] = rbuf_u64(&r);
	if (!rbuf_done(&r))
		goto bad;
	return 0;
bad:
	memset(s, 0, sizeof(*s));
	return -1;
}

int
authstate_put(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen,
	      const struct authstate *s)
{
	struct wbuf b;
	int rc = -1;

	if (s->nfail > LOCKOUT_MAX_TIMES)
		return -1;
	wbuf_init(&b);
	wbuf_put_u8(&b, AUTHSTATE_FORMAT);
	wbuf_put_u64(&b, s->last_step);
	wbuf_put_u64(&b, s->locked_until);
	wbuf_put_u32(&b, s->nfail);
	for (uint32_t i = 0; i < s->nfail; i++)
		wbuf_put_u64(&b, s->fail[i]);
	if (!b.err)
		rc = store_put(st, txn, db, key, klen, b.data, b.len, 0);
	wbuf_free(&b);
	return rc == 0 ? 0 : -1;
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

int
lockout_sweep(struct store *st, MDB_txn *txn, const void *from, size_t fromlen,
	      const struct lockout_policy *pol, uint64_t now, unsigned max)
{
	MDB_cursor *cur;
	MDB_val k = {fromlen, (void *)from}, v;
	int rc, deleted = 0, wrapped = 0;

	if (mdb_cursor_open(txn, st->dbi[DB_ADDRSTATE], &cur) != 0)
		return -1;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	for (unsigned seen = 0; seen < max; seen++) {
		if (rc == MDB_NOTFOUND && !wrapped) {
			wrapped = 1;
			rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		}
		if (rc != 0)
			break;
		/* The record being written by the caller is never swept here. */
		if (!(k.mv_size == fromlen && memcmp(k.mv_data, from, fromlen) == 0) &&
		    stale(&v, pol, now)) {
			if (mdb_cursor_del(cur, 0) != 0) {
				deleted = -1;
				break;
			}
			/* After a delete LMDB's MDB_NEXT yields the record that followed it. */
			deleted++;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return deleted;
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
