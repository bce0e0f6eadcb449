/* Airlock request records and the state machine (see queue.h). */
#include "common/nitems.h"
#include "transfer/queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/log.h"
#include "common/utf8.h"
#include "transfer/reqmac.h"

/*
 * The only allowed transitions (SPEC "The airlock"). Each row names the audit event that
 * records it. A pair that is not here is refused, wherever the request comes from.
 */
static const struct {
	uint8_t from, to;
	const char *event;
} transitions[] = {
    {ST_PENDING, ST_APPROVED, "transfer.approve"},   /* an admin other than the requester */
    {ST_PENDING, ST_REJECTED, "transfer.reject"},    /* an admin other than the requester */
    {ST_PENDING, ST_WITHDRAWN, "transfer.withdraw"}, /* the requester only */
    {ST_APPROVED, ST_RELEASED, "transfer.release"},  /* delivery, after the hash re-check */
    {ST_PENDING, ST_RETURNED, "transfer.return"},    /* an admin, for changes (--replaces) */
};

const char *
queue_transition(int from, int to)
{
	for (size_t i = 0; i < nitems(transitions); i++)
		if (transitions[i].from == from && transitions[i].to == to)
			return transitions[i].event;
	return NULL;
}

/* clang-format off */
static const char *const kind_names[] = {
	[KIND_EXPORT] = "export",
	[KIND_IMPORT] = "import",
	[KIND_MOVE] = "move",
};
static const char *const state_names[] = {
	[ST_PENDING] = "pending",
	[ST_APPROVED] = "approved",
	[ST_REJECTED] = "rejected",
	[ST_WITHDRAWN] = "withdrawn",
	[ST_RELEASED] = "released",
	[ST_RETURNED] = "returned",
};
static const char *const check_names[] = {
	[CHECK_NONE] = "none",
	[CHECK_PASS] = "pass",
	[CHECK_WARN] = "warn",
	[CHECK_FAIL] = "fail",
};
/* clang-format on */

const char *
queue_kind_name(int kind)
{
	return kind >= KIND_EXPORT && kind <= KIND_MOVE ? kind_names[kind] : "?";
}

const char *
queue_state_name(int state)
{
	return state >= ST_PENDING && state <= ST_LAST ? state_names[state] : "?";
}

int
queue_state_parse(const char *s)
{
	for (int i = ST_PENDING; i <= ST_LAST; i++)
		if (strcmp(s, state_names[i]) == 0)
			return i;
	return -1;
}

const char *
queue_check_name(int check)
{
	return check >= CHECK_NONE && check <= CHECK_FAIL ? check_names[check] : "?";
}

const char *
queue_safe_text(const char *in, char *out, size_t outlen, int keep_nl)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;

	if (outlen == 0)
		return out;
	while (*p && o + 1 < outlen) {
		uint32_t cp;
		size_t n = utf8_decode(p, 4, &cp); /* NUL-terminated: the NUL ends it */

		if (n == 0 || (cp < 0x20 && !(keep_nl && cp == '\n')) ||
		    (cp >= 0x7f && cp <= 0x9f)) {
			out[o++] = '?';
			p += n ? n : 1;
			continue;
		}
		if (o + n >= outlen)
			break;
		memmove(out + o, p, n); /* in place (out == in) is allowed */
		o += n;
		p += n;
	}
	out[o] = '\0';
	return out;
}

void
queue_display(struct request *r)
{
	queue_safe_text(r->s.name, r->s.name, sizeof(r->s.name), 0);
	queue_safe_text(r->relpath, r->relpath, sizeof(r->relpath), 0);
	queue_safe_text(r->reason, r->reason, sizeof(r->reason), 0);
	queue_safe_text(r->note, r->note, sizeof(r->note), 0);
	queue_safe_text(r->report, r->report, sizeof(r->report), 1);
}

int
queue_encode(const struct request *r, uint8_t **out, size_t *outlen)
{
	struct wbuf b;

	wbuf_init(&b);
	wbuf_put_u8(&b, QUEUE_RECORD_VERSION);
	/* summary prefix */
	wbuf_put_u64(&b, r->s.id);
	wbuf_put_u8(&b, r->s.kind);
	wbuf_put_u8(&b, r->s.state);
	wbuf_put_u8(&b, r->s.check);
	wbuf_put_str(&b, r->s.project);
	wbuf_put_str(&b, r->s.area);
	wbuf_put_str(&b, r->s.to_area);
	wbuf_put_str(&b, r->s.requester);
	wbuf_put_str(&b, r->s.name);
	wbuf_put_u64(&b, r->s.size);
	wbuf_put_u64(&b, r->s.created);
	wbuf_put_u64(&b, r->s.decided);
	/* the rest */
	wbuf_put_str(&b, r->relpath);
	wbuf_put_bytes(&b, r->sha256, sizeof(r->sha256));
	wbuf_put_str(&b, r->reason);
	wbuf_put_str(&b, r->reviewer);
	wbuf_put_str(&b, r->note);
	wbuf_put_str(&b, r->report);
	if (b.err) {
		wbuf_free(&b);
		return -1;
	}
	*out = b.data;
	*outlen = b.len;
	return 0;
}

static void
decode_summary(struct rbuf *rd, struct req_summary *s)
{
	if (rbuf_u8(rd) != QUEUE_RECORD_VERSION)
		rd->err = 1;
	s->id = rbuf_u64(rd);
	s->kind = rbuf_u8(rd);
	s->state = rbuf_u8(rd);
	s->check = rbuf_u8(rd);
	rbuf_str(rd, s->project, sizeof(s->project));
	rbuf_str(rd, s->area, sizeof(s->area));
	rbuf_str(rd, s->to_area, sizeof(s->to_area));
	rbuf_str(rd, s->requester, sizeof(s->requester));
	rbuf_str(rd, s->name, sizeof(s->name));
	s->size = rbuf_u64(rd);
	s->created = rbuf_u64(rd);
	s->decided = rbuf_u64(rd);
	if (s->kind < KIND_EXPORT || s->kind > KIND_MOVE || s->state < ST_PENDING ||
	    s->state > ST_LAST || s->check > CHECK_FAIL)
		rd->err = 1;
}

int
queue_decode_summary(const void *data, size_t len, struct req_summary *s)
{
	struct rbuf rd;

	/* No memset: every field is assigned (rbuf_str empties a string even on error), and
	 * listings call this 100,000 times. */
	rbuf_init(&rd, data, len);
	decode_summary(&rd, s);
	return rbuf_ok(&rd) ? 0 : -1;
}

int
queue_decode(const void *data, size_t len, struct request *r)
{
	struct rbuf rd;
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	rbuf_init(&rd, data, len);
	decode_summary(&rd, &r->s);
	rbuf_str(&rd, r->relpath, sizeof(r->relpath));
	rbuf_bytes(&rd, r->sha256, sizeof(r->sha256), &n);
	rbuf_str(&rd, r->reason, sizeof(r->reason));
	rbuf_str(&rd, r->reviewer, sizeof(r->reviewer));
	rbuf_str(&rd, r->note, sizeof(r->note));
	rbuf_str(&rd, r->report, sizeof(r->report));
	return rbuf_done(&rd) && n == sizeof(r->sha256) ? 0 : -1;
}

int
queue_open_record(struct store *st, const MDB_val *k, const MDB_val *v, MDB_val *body)
{
	uint64_t id = k->mv_size == 8 ? store_key_u64(k) : 0;

	if (id == 0 ||
	    reqmac_verify(store_secrets(st), id, v->mv_data, v->mv_size, &body->mv_size) < 0) {
		log_err("request %llu: its record does not verify (changed outside wsgate); it is "
			"not listed, decided or delivered",
			(unsigned long long)id);
		return STORE_BADRECORD;
	}
	body->mv_data = v->mv_data;
	return 0;
}

int
queue_get(struct store *st, MDB_txn *txn, uint64_t id, struct request *r)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v, body;
	int rc;

	store_u64_key(id, key);
	if ((rc = store_get(st, txn, DB_REQUESTS, key, sizeof(key), &v)) != 0)
		return rc;
	if ((rc = queue_open_record(st, &k, &v, &body)) != 0)
		return rc;
	if (queue_decode(body.mv_data, body.mv_size, r) < 0 || r->s.id != id)
		return STORE_BADRECORD;
	return 0;
}

static int
put(struct store *st, MDB_txn *txn, const struct request *r, unsigned flags)
{
	uint8_t key[8], *data = NULL;
	size_t len = 0;
	int rc;

	uint8_t *sealed;

	if (queue_encode(r, &data, &len) < 0)
		return -EINVAL;
	/* record || tag (reqmac.h) */
	if ((sealed = realloc(data, len + REQMAC_LEN)) == NULL) {
		free(data);
		return -ENOMEM;
	}
	data = sealed;
	if (reqmac_seal(store_secrets(st), r->s.id, data, len, data + len) < 0) {
		free(data);
		return -ENOMEM;
	}
	len += REQMAC_LEN;
	store_u64_key(r->s.id, key);
	rc = store_put(st, txn, DB_REQUESTS, key, sizeof(key), data, len, flags);
	free(data);
	/* An id is never handed out twice (queue_insert): a record already there is damage. */
	return rc == STORE_EXISTS ? STORE_BADRECORD : rc;
}

int
queue_insert(struct store *st, MDB_txn *txn, struct request *r)
{
	/* The counter lives in meta and is bumped in the same transaction: an aborted insert
	 * also rolls the counter back, a committed one never hands its id out again. */
	int rc;

	if ((rc = store_bump(st, txn, "next_request_id", &r->s.id)) != 0)
		return rc;
	return put(st, txn, r, MDB_NOOVERWRITE);
}

int
queue_update(struct store *st, MDB_txn *txn, const struct request *r)
{
	return put(st, txn, r, 0);
}

struct queue_walk {
	struct store *st;
	int (*fn)(const struct req_summary *s, const MDB_val *rec, void *arg);
	void *arg;
};

static int
queue_visit(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct queue_walk *w = arg;
	struct req_summary s;
	MDB_val body;

	/* A record that does not verify is left out (and named in the log): a forged "released"
	 * must never reach /outbox or a listing. */
	if (queue_open_record(w->st, k, v, &body) != 0)
		return 0;
	if (queue_decode_summary(body.mv_data, body.mv_size, &s) < 0 || s.id != store_key_u64(k))
		return STORE_BADRECORD;
	return w->fn(&s, &body, w->arg);
}

int
queue_foreach(struct store *st, MDB_txn *txn,
	      int (*fn)(const struct req_summary *s, const MDB_val *rec, void *arg), void *arg)
{
	struct queue_walk w = {st, fn, arg};

	return store_each(st, txn, DB_REQUESTS, NULL, 0, 0, queue_visit, &w);
}
