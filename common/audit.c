#include "common/audit.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/codec.h"
#include "common/why.h"

static const char head_key[] = "audit_head";

static void
encode_body(const struct audit_record *r, struct wbuf *b)
{
	wbuf_put_u64(b, r->time);
	wbuf_put_str(b, r->actor);
	wbuf_put_str(b, r->event);
	wbuf_put_str(b, r->detail);
}

static int
compute_mac(const struct store *st, const uint8_t *prev, const struct audit_record *r, uint8_t *mac)
{
	struct wbuf b;
	unsigned int len = AUDIT_MAC_LEN;
	int rc = -1;

	wbuf_init(&b);
	wbuf_put_raw(&b, prev, AUDIT_MAC_LEN);
	wbuf_put_u64(&b, r->seq);
	encode_body(r, &b);
	if (!b.err &&
	    HMAC(EVP_sha256(), store_secrets(st)->audit_key, sizeof(store_secrets(st)->audit_key),
		 b.data, b.len, mac, &len) &&
	    len == AUDIT_MAC_LEN)
		rc = 0;
	wbuf_free(&b);
	return rc;
}

static int
read_head(struct store *st, MDB_txn *txn, uint64_t *seq, uint8_t *mac)
{
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
	return rbuf_done(&r) ? 0 : STORE_BADRECORD;
}

static int
decode_record(const MDB_val *k, const MDB_val *v, struct audit_record *rec)
{
	struct rbuf r;

	memset(rec, 0, sizeof(*rec));
	rec->seq = store_key_u64(k);
	rbuf_init(&r, v->mv_data, v->mv_size);
	rec->time = rbuf_u64(&r);
	rbuf_str(&r, rec->actor, sizeof(rec->actor));
	rbuf_str(&r, rec->event, sizeof(rec->event));
	rbuf_str(&r, rec->detail, sizeof(rec->detail));
	rbuf_raw(&r, rec->mac, AUDIT_MAC_LEN);
	return rbuf_done(&r) && rec->seq ? 0 : -1;
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
	if (rc != 0)
		goto out;
	wbuf_free(&b);
	wbuf_init(&b);
	wbuf_put_u64(&b, rec->seq);
	wbuf_put_raw(&b, rec->mac, AUDIT_MAC_LEN);
	rc = b.err ? -ENOMEM
		   : store_put(st, txn, DB_META, head_key, sizeof(head_key) - 1, b.data, b.len, 0);
out:
	wbuf_free(&b);
	return rc;
}

static int __attribute__((format(printf, 5, 0)))
vappend(struct store *st, MDB_txn *txn, const char *actor, const char *event, const char *fmt,
	va_list ap)
{
	struct audit_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.time = (uint64_t)time(NULL);
	snprintf(rec.actor, sizeof(rec.actor), "%s", actor && *actor ? actor : "-");
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
	struct audit_record rec;
	uint8_t mac[AUDIT_MAC_LEN];

	if (decode_record(k, v, &rec) < 0 || rec.seq != w->expect) {
		snprintf(w->why, w->whylen, "audit record %llu: missing, corrupt or out of order",
			 (unsigned long long)w->expect);
		return 1;
	}
	if (compute_mac(w->st, w->prev, &rec, mac) < 0 ||
	    CRYPTO_memcmp(mac, rec.mac, AUDIT_MAC_LEN) != 0) {
		snprintf(w->why, w->whylen,
			 "audit record %llu: MAC mismatch (changed or reordered)",
			 (unsigned long long)rec.seq);
		return 1;
	}
	memcpy(w->prev, rec.mac, AUDIT_MAC_LEN);
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
		snprintf(why, whylen, "audit head record: %s", store_strerror(rc));
		return rc;
	}
	if ((rc = store_each(st, txn, DB_AUDIT, NULL, 0, 0, verify_visit, &w)) != 0) {
		if (rc < 0)
			snprintf(why, whylen, "audit log: %s", store_strerror(rc));
		return rc < 0 ? rc : -1;
	}
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
