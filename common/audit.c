#include "common/audit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/audit_witness.h"
#include "common/codec.h"
#include "common/why.h"

static const char head_key[] = "audit_head";
static const char head_label[] = "wsgate audit head v1";

/* The record layout's version, its first byte: v2 added nsec, role, project, area, addr. */
#define AUDIT_RECORD_V2 2

/* Who this process acts for (audit_set_context). */
static struct {
	char role[16], project[64], area[64], addr[64];
} context = {"-", "-", "-", "-"};

static void
context_field(char *field, size_t cap, const char *v)
{
	if (v)
		snprintf(field, cap, "%s", *v ? v : "-");
}

void
audit_set_context(const char *role, const char *project, const char *area, const char *addr)
{
	context_field(context.role, sizeof(context.role), role);
	context_field(context.project, sizeof(context.project), project);
	context_field(context.area, sizeof(context.area), area);
	context_field(context.addr, sizeof(context.addr), addr);
}

static void
encode_body(const struct audit_record *r, struct wbuf *b)
{
	wbuf_put_u8(b, AUDIT_RECORD_V2);
	wbuf_put_u64(b, r->time);
	wbuf_put_u32(b, r->nsec);
	wbuf_put_str(b, r->actor);
	wbuf_put_str(b, r->role);
	wbuf_put_str(b, r->project);
	wbuf_put_str(b, r->area);
	wbuf_put_str(b, r->addr);
	wbuf_put_str(b, r->event);
	wbuf_put_str(b, r->detail);
}

/* HMAC-SHA-256 with the audit key over up to three pieces (secrets_hmac). */
static int
audit_hmac(const struct store *st, const void *a, size_t an, const void *b, size_t bn,
	   const void *c, size_t cn, uint8_t *out)
{
	return secrets_hmac(store_secrets(st)->audit_key, a, an, b, bn, c, cn, out);
}

/* A record's MAC: HMAC(prev || seq || body), body being exactly the bytes stored before the
 * MAC, so verify needs no decoding to check it. */
static int
compute_mac(const struct store *st, const uint8_t *prev, const struct audit_record *r, uint8_t *mac)
{
	uint8_t seq[8];
	struct wbuf b;
	int rc = -1;

	store_u64_key(r->seq, seq);
	wbuf_init(&b);
	encode_body(r, &b);
	if (!b.err)
		rc = audit_hmac(st, prev, AUDIT_MAC_LEN, seq, sizeof(seq), b.data, b.len, mac);
	wbuf_free(&b);
	return rc;
}

/* The head's own tag: without it, whoever deletes the newest records could point the head at
 * the last one left, whose (seq, mac) anyone can read. */
static int
head_tag(const struct store *st, uint64_t seq, const uint8_t *mac, uint8_t *tag)
{
	uint8_t seqb[8];

	store_u64_key(seq, seqb);
	return audit_hmac(st, head_label, sizeof(head_label) - 1, seqb, sizeof(seqb), mac,
			  AUDIT_MAC_LEN, tag);
}

/* Reads and authenticates the head: 0 (*seq 0 when there is none yet), STORE_BADRECORD when it
 * does not decode or its tag does not verify, or a store code <0. */
static int
read_head(struct store *st, MDB_txn *txn, uint64_t *seq, uint8_t *mac)
{
	uint8_t tag[AUDIT_MAC_LEN], want[AUDIT_MAC_LEN];
	MDB_val v;
	struct rbuf r;
	int rc = store_get(st, txn, DB_META, head_key, sizeof(head_key) - 1, &v);

	if (rc == STORE_NOTFOUND) {
		*seq = 0;
		memset(mac, 0, AUDIT_MAC_LEN);
		return 0;
	}
	if (rc < 0)
		return rc;
	rbuf_init(&r, v.mv_data, v.mv_size);
	*seq = rbuf_u64(&r);
	rbuf_raw(&r, mac, AUDIT_MAC_LEN);
	rbuf_raw(&r, tag, AUDIT_MAC_LEN);
	if (!rbuf_done(&r) || head_tag(st, *seq, mac, want) < 0 ||
	    CRYPTO_memcmp(tag, want, AUDIT_MAC_LEN) != 0)
		return STORE_BADRECORD;
	return 0;
}

static int
write_head(struct store *st, MDB_txn *txn, uint64_t seq, const uint8_t *mac)
{
	uint8_t tag[AUDIT_MAC_LEN];
	struct wbuf b;
	int rc;

	if (head_tag(st, seq, mac, tag) < 0)
		return -ENOMEM;
	wbuf_init(&b);
	wbuf_put_u64(&b, seq);
	wbuf_put_raw(&b, mac, AUDIT_MAC_LEN);
	wbuf_put_raw(&b, tag, AUDIT_MAC_LEN);
	rc = b.err ? -ENOMEM
		   : store_put(st, txn, DB_META, head_key, sizeof(head_key) - 1, b.data, b.len, 0);
	wbuf_free(&b);
	return rc;
}

static int
decode_record(const MDB_val *k, const MDB_val *v, struct audit_record *rec)
{
	struct rbuf r;

	uint8_t version;

	memset(rec, 0, sizeof(*rec));
	if (k->mv_size != 8)
		return -1;
	rec->seq = store_key_u64(k);
	rbuf_init(&r, v->mv_data, v->mv_size);
	version = rbuf_u8(&r);
	rec->time = rbuf_u64(&r);
	rec->nsec = rbuf_u32(&r);
	rbuf_str(&r, rec->actor, sizeof(rec->actor));
	rbuf_str(&r, rec->role, sizeof(rec->role));
	rbuf_str(&r, rec->project, sizeof(rec->project));
	rbuf_str(&r, rec->area, sizeof(rec->area));
	rbuf_str(&r, rec->addr, sizeof(rec->addr));
	rbuf_str(&r, rec->event, sizeof(rec->event));
	rbuf_str(&r, rec->detail, sizeof(rec->detail));
	rbuf_raw(&r, rec->mac, AUDIT_MAC_LEN);
	return rbuf_done(&r) && rec->seq && version == AUDIT_RECORD_V2 && rec->nsec < 1000000000
		   ? 0
		   : -1;
}

static int
append_record(struct store *st, MDB_txn *txn, struct audit_record *rec)
{
	uint8_t prev[AUDIT_MAC_LEN], key[8];
	struct wbuf b;
	int rc;

	if ((rc = read_head(st, txn, &rec->seq, prev)) < 0)
		return rc;
	rec->seq++;
	if (compute_mac(st, prev, rec, rec->mac) < 0)
		return -ENOMEM;
	wbuf_init(&b);
	encode_body(rec, &b);
	wbuf_put_raw(&b, rec->mac, AUDIT_MAC_LEN);
	store_u64_key(rec->seq, key);
	rc = b.err ? -ENOMEM : store_put(st, txn, DB_AUDIT, key, 8, b.data, b.len, MDB_NOOVERWRITE);
	/* The head said seq - 1 was the last record: a record at seq means a damaged chain. */
	if (rc == STORE_EXISTS)
		rc = STORE_BADRECORD;
	wbuf_free(&b);
	if (rc == 0 && (rc = write_head(st, txn, rec->seq, rec->mac)) == 0)
		rc = audit_witness_note(st, txn, rec->seq, rec->mac);
	return rc;
}

static int __attribute__((format(printf, 5, 0)))
vappend(struct store *st, MDB_txn *txn, const char *actor, const char *event, const char *fmt,
	va_list ap)
{
	struct audit_record rec;

	struct timespec now;

	memset(&rec, 0, sizeof(rec));
	if (clock_gettime(CLOCK_REALTIME, &now) < 0)
		return -errno;
	rec.time = (uint64_t)now.tv_sec;
	rec.nsec = (uint32_t)now.tv_nsec;
	snprintf(rec.actor, sizeof(rec.actor), "%s", actor && *actor ? actor : "-");
	memcpy(rec.role, context.role, sizeof(rec.role));
	memcpy(rec.project, context.project, sizeof(rec.project));
	memcpy(rec.area, context.area, sizeof(rec.area));
	memcpy(rec.addr, context.addr, sizeof(rec.addr));
	snprintf(rec.event, sizeof(rec.event), "%s", event);
	vsnprintf(rec.detail, sizeof(rec.detail), fmt, ap);
	return append_record(st, txn, &rec);
}

int
audit_append(struct store *st, MDB_txn *txn, const char *actor, const char *event, const char *fmt,
	     ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vappend(st, txn, actor, event, fmt, ap);
	va_end(ap);
	return rc;
}

int
audit_log(struct store *st, const char *actor, const char *event, const char *fmt, ...)
{
	MDB_txn *txn;
	va_list ap;
	int rc;

	if ((rc = store_begin(st, 0, &txn)) < 0)
		return rc;
	va_start(ap, fmt);
	rc = vappend(st, txn, actor, event, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		store_abort(txn);
		return rc;
	}
	return store_commit(txn);
}

/* The chain as verify_walk has read it so far. */
struct verify {
	struct store *st;
	uint8_t prev[AUDIT_MAC_LEN];
	uint64_t expect;
	uint64_t *count;
	char *why;
	size_t whylen;
};

static int
verify_visit(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct verify *w = arg;
	const uint8_t *val = v->mv_data;
	uint8_t mac[AUDIT_MAC_LEN];
	size_t body;

	if (k->mv_size != 8 || store_key_u64(k) != w->expect || v->mv_size <= AUDIT_MAC_LEN) {
		snprintf(w->why, w->whylen, "audit record %llu: missing, corrupt or out of order",
			 (unsigned long long)w->expect);
		return 1;
	}
	body = v->mv_size - AUDIT_MAC_LEN;
	if (audit_hmac(w->st, w->prev, AUDIT_MAC_LEN, k->mv_data, 8, val, body, mac) < 0 ||
	    CRYPTO_memcmp(mac, val + body, AUDIT_MAC_LEN) != 0) {
		snprintf(w->why, w->whylen,
			 "audit record %llu: MAC mismatch (changed or reordered)",
			 (unsigned long long)w->expect);
		return 1;
	}
	memcpy(w->prev, val + body, AUDIT_MAC_LEN);
	w->expect++;
	(*w->count)++;
	return 0;
}

static int
verify_walk(struct store *st, MDB_txn *txn, uint64_t *count, char *why, size_t whylen)
{
	struct verify w = {st, {0}, 1, count, why, whylen};
	uint8_t head_mac[AUDIT_MAC_LEN];
	uint64_t head_seq;
	int rc;

	if ((rc = read_head(st, txn, &head_seq, head_mac)) < 0) {
		if (rc == STORE_BADRECORD)
			return why_set(
			    why, whylen,
			    "audit head: its tag does not verify (the head was rewritten, "
			    "e.g. to hide deleted records)");
		snprintf(why, whylen, "audit head record: %s", store_strerror(rc));
		return rc;
	}
	if ((rc = store_each(st, txn, DB_AUDIT, NULL, 0, 0, verify_visit, &w)) != 0) {
		if (rc < 0)
			snprintf(why, whylen, "audit log: %s", store_strerror(rc));
		return rc < 0 ? rc : -1;
	}
	/* wsgatectl init writes the first record, so an initialised log is never empty: an empty
	 * one lost its records and its head together. */
	if (head_seq == 0 && w.expect == 1)
		return why_set(why, whylen,
			       "audit log is empty and has no head (wiped: wsgatectl init writes "
			       "record 1)");
	if (head_seq != w.expect - 1 || CRYPTO_memcmp(head_mac, w.prev, AUDIT_MAC_LEN) != 0)
		return why_set(why, whylen,
			       "audit log ends at record %llu but its head says %llu "
			       "(records deleted or head changed)",
			       (unsigned long long)(w.expect - 1), (unsigned long long)head_seq);
	return 0;
}

int
audit_verify(struct store *st, uint64_t *count, char *why, size_t whylen)
{
	MDB_txn *txn;
	int rc;

	*count = 0;
	why[0] = '\0';
	if ((rc = store_begin(st, 1, &txn)) < 0) {
		snprintf(why, whylen, "cannot read the store: %s", store_strerror(rc));
		return rc;
	}
	rc = verify_walk(st, txn, count, why, whylen);
	store_abort(txn);
	return rc;
}

/* Compares one witness line with the log: 0, or 1 with why naming the record. */
static int
witness_check(struct store *st, MDB_txn *txn, const struct witness_entry *e, char *why,
	      size_t whylen)
{
	struct audit_record rec;
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	int rc;

	store_u64_key(e->seq, key);
	rc = store_get(st, txn, DB_AUDIT, key, 8, &v);
	if (rc == STORE_NOTFOUND) {
		why_set(why, whylen,
			"audit record %llu: in the witness (line %u) but missing from the log "
			"(deleted, or the state was rolled back to an older copy)",
			(unsigned long long)e->seq, e->line);
		return 1;
	}
	if (rc < 0) {
		why_set(why, whylen, "audit record %llu: %s", (unsigned long long)e->seq,
			store_strerror(rc));
		return rc;
	}
	if (decode_record(&k, &v, &rec) < 0 || CRYPTO_memcmp(rec.mac, e->mac, AUDIT_MAC_LEN) != 0) {
		why_set(why, whylen,
			"audit record %llu: differs from the witness (line %u): the log was "
			"rewritten, or rolled back and written again",
			(unsigned long long)e->seq, e->line);
		return 1;
	}
	return 0;
}

int
audit_verify_witness(struct store *st, const char *witness, uint64_t *count, uint64_t *witnessed,
		     char *why, size_t whylen)
{
	struct witness_entry *w = NULL;
	size_t n = 0;
	MDB_txn *txn;
	int rc;

	*witnessed = 0;
	if ((rc = audit_verify(st, count, why, whylen)) < 0)
		return rc;
	if (audit_witness_read(witness, &w, &n, why, whylen) < 0)
		return -1;
	if ((rc = store_begin(st, 1, &txn)) < 0) {
		free(w);
		return why_set(why, whylen, "cannot read the store: %s", store_strerror(rc));
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i > 0 && w[i].seq == w[i - 1].seq &&
		    CRYPTO_memcmp(w[i].mac, w[i - 1].mac, AUDIT_MAC_LEN) != 0) {
			why_set(why, whylen,
				"audit record %llu: the witness holds two MACs for it (lines %u "
				"and %u): the log was rolled back and written again",
				(unsigned long long)w[i].seq, w[i - 1].line, w[i].line);
			rc = 1;
			break;
		}
		if ((rc = witness_check(st, txn, &w[i], why, whylen)) == 0)
			(*witnessed)++;
	}
	store_abort(txn);
	free(w);
	return rc == 0 ? 0 : -1;
}

struct audit_walk {
	uint64_t since;
	int (*fn)(const struct audit_record *, void *);
	void *arg;
};

static int
foreach_visit(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct audit_walk *w = arg;
	struct audit_record rec;

	if (decode_record(k, v, &rec) < 0)
		return STORE_BADRECORD;
	return rec.time >= w->since ? w->fn(&rec, w->arg) : 0;
}

int
audit_foreach(struct store *st, uint64_t since, int (*fn)(const struct audit_record *, void *),
	      void *arg)
{
	struct audit_walk w = {since, fn, arg};
	MDB_txn *txn;
	int rc;

	if ((rc = store_begin(st, 1, &txn)) < 0)
		return rc;
	rc = store_each(st, txn, DB_AUDIT, NULL, 0, 0, foreach_visit, &w);
	store_abort(txn);
	return rc;
}

const char *
audit_quote(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	int plain = *in != '\0';

	for (const char *p = in; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '\\' || *p == '=' || *p == 0x7f)
			plain = 0;
	if (plain) {
		snprintf(out, outlen, "%s", in);
		return out;
	}
	if (outlen < 3) {
		if (outlen)
			out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)in; *p && o + 6 < outlen; p++) {
		if (*p == '"' || *p == '\\') {
			out[o++] = '\\';
			out[o++] = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f) {
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", *p);
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}
