/*
 * The gateway's end of the airlock socket (see airlock_server.h, airlock_proto.h). It runs in
 * the privileged monitor, so everything read here is hostile: the frame is bounded, read
 * against a deadline, and every field is checked before use.
 */
#include "common/utctime.h"
#include "transfer/airlock_server.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/fsutil.h"
#include "common/monotime.h"
#include "transfer/airlock_proto.h"
#include "transfer/blob.h"
#include "transfer/draft.h"
#include "transfer/queue.h"
#include "transfer/review.h"

#define TEXT_MAX (AIRLOCK_MAX_FRAME - 64)

/* Reads exactly n bytes before the deadline: a client that dribbles bytes gets no more time. */
static int
read_deadline(int fd, void *buf, size_t n, int64_t deadline)
{
	uint8_t *p = buf;

	while (n > 0) {
		struct pollfd pfd = {fd, POLLIN, 0};
		int64_t left = deadline - mono_ms();
		ssize_t got;
		int rc;

		if (left <= 0)
			return -ETIMEDOUT;
		if ((rc = poll(&pfd, 1, (int)left)) < 0 && errno != EINTR)
			return -errno;
		if (rc <= 0)
			continue;
		got = recv(fd, p, n, MSG_DONTWAIT);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return -EPIPE;
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

static int
reply(int fd, uint32_t status, const char *text)
{
	struct wbuf b;
	uint8_t hdr[4];
	size_t tl = strlen(text);
	int ret = 0;

	wbuf_init(&b);
	wbuf_put_u8(&b, AIRLOCK_PROTO_VERSION);
	wbuf_put_u32(&b, status);
	wbuf_put_bytes(&b, text, tl > TEXT_MAX ? TEXT_MAX : tl);
	if (b.err) {
		wbuf_free(&b);
		return -1;
	}
	codec_be32_put(hdr, (uint32_t)b.len);
	if (write_all(fd, hdr, 4) < 0 || write_all(fd, b.data, b.len) < 0)
		ret = -1;
	wbuf_free(&b);
	return ret;
}

struct status_buf {
	char *text;
	size_t len, cap;
	unsigned shown, more;
};

static void sb_add(struct status_buf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_add(struct status_buf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->len >= sb->cap - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->text + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		sb->len += (size_t)n < sb->cap - sb->len ? (size_t)n : sb->cap - sb->len - 1;
}

static void
fmt_time(uint64_t t, char *out, size_t outlen)
{
	if (t == 0 || utc_format(t, UTC_ISO8601, out, outlen) < 0)
		snprintf(out, outlen, "-");
}

struct status_walk {
	const struct airlock_actor *who;
	struct status_buf *sb;
	struct store *st;
};

static int
status_visit(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct status_walk *w = arg;
	struct status_buf *sb = w->sb;
	struct req_summary s;
	char t[32];
	MDB_val body;

	if (queue_open_record(w->st, k, v, &body) != 0 ||
	    queue_decode_summary(body.mv_data, body.mv_size, &s) < 0 ||
	    strcmp(s.project, w->who->project) != 0)
		return 0;
	if (sb->len > TEXT_MAX - 600) {
		sb->more++;
		return 0;
	}
	queue_safe_text(s.name, s.name, sizeof(s.name), 0);
	fmt_time(s.created, t, sizeof(t));
	sb_add(sb, "%-7" PRIu64 " %-6s %-9s %-5s %-16s %11" PRIu64 " %-20s %s\n", s.id,
	       queue_kind_name(s.kind), queue_state_name(s.state), queue_check_name(s.check),
	       s.requester, s.size, t, s.name);
	sb->shown++;
	return 0;
}

/* All requests of the project, newest first, as many as fit in one reply. Returns 0 or a store
 * code <0. */
static int
status_all(struct store *st, const struct airlock_actor *who, struct status_buf *sb)
{
	struct status_walk w = {who, sb, st};
	MDB_txn *txn;
	int rc;

	if ((rc = store_begin(st, 1, &txn)) < 0)
		return rc;
	sb_add(sb, "%-7s %-6s %-9s %-5s %-16s %11s %-20s %s\n", "ID", "KIND", "STATE", "CHECK",
	       "REQUESTER", "SIZE", "CREATED", "NAME");
	rc = store_each(st, txn, DB_REQUESTS, NULL, 0, STORE_REVERSE, status_visit, &w);
	store_abort(txn);
	if (rc < 0)
		return rc;
	if (sb->more)
		sb_add(sb, "(%u older requests not shown)\n", sb->more);
	return 0;
}

static int
status_review(const struct review *rv, void *arg)
{
	struct status_buf *sb = arg;
	char t[32], note[QUEUE_NOTE_MAX];

	fmt_time(rv->time, t, sizeof(t));
	queue_safe_text(rv->note, note, sizeof(note), 0);
	sb_add(sb, "  %s %s %s: %s\n", t, rv->reviewer, review_decision_name(rv->decision), note);
	return 0;
}

/* SPEC: the notes of reviews once decided (a pending request's reviews stay the reviewers'),
 * and the resubmission links both ways. */
static void
status_reviews(struct store *st, const struct request *r, struct status_buf *sb)
{
	uint64_t other = 0;
	unsigned n = 0;
	MDB_txn *txn;

	if (store_begin(st, 1, &txn) < 0)
		return;
	if (r->s.state == ST_PENDING) {
		if (review_approvals(st, txn, r->s.id, &n) == 0 && n)
			sb_add(sb, "reviews:   %u approval%s so far\n", n, n > 1 ? "s" : "");
	} else {
		sb_add(sb, "reviews:\n");
		review_foreach(st, txn, r->s.id, status_review, sb);
	}
	if (review_link_replaces(st, txn, r->s.id, &other) == 0 && other)
		sb_add(sb, "replaces:  request %" PRIu64 "\n", other);
	if (review_link_replaced_by(st, txn, r->s.id, &other) == 0 && other)
		sb_add(sb, "replaced by: request %" PRIu64 "\n", other);
	else if (r->s.state == ST_RETURNED && r->s.kind == KIND_EXPORT)
		sb_add(sb, "to resubmit: airlock export PATH --replaces %" PRIu64 "\n", r->s.id);
	store_abort(txn);
}

static int
status_one(struct store *st, const struct airlock_actor *who, uint64_t id, struct status_buf *sb)
{
	struct request *r = calloc(1, sizeof(*r));
	char hex[65], t1[32], t2[32];
	MDB_txn *txn;
	int rc;

	if (!r)
		return -ENOMEM;
	if ((rc = store_begin(st, 1, &txn)) < 0) {
		free(r);
		return rc;
	}
	rc = queue_get(st, txn, id, r);
	store_abort(txn);
	if (rc != 0 || strcmp(r->s.project, who->project) != 0) {
		free(r);
		return 1;
	}
	queue_display(r);
	blob_hex(r->sha256, hex);
	fmt_time(r->s.created, t1, sizeof(t1));
	fmt_time(r->s.decided, t2, sizeof(t2));
	sb_add(sb,
	       "id:        %" PRIu64 "\nkind:      %s\nstate:     %s\nrequester: %s\n"
	       "name:      %s\nsize:      %" PRIu64 "\nsha256:    %s\nreason:    %s\n"
	       "created:   %s\ndecided:   %s\nnote:      %s\ncheck report:\n%s",
	       r->s.id, queue_kind_name(r->s.kind), queue_state_name(r->s.state), r->s.requester,
	       r->s.name, r->s.size, hex, r->reason, t1, t2, r->note, r->report);
	status_reviews(st, r, sb);
	if (r->s.kind == KIND_EXPORT && r->s.state == ST_RELEASED)
		sb_add(sb, "download: /outbox/%" PRIu64 "/%s\n", r->s.id, r->s.name);
	free(r);
	return 0;
}

/*
 * SPEC: `airlock export` prints the check report at once, the same the reviewer gets; a refusal
 * for failing checks (export_block_on_fail) carries the findings. Returns reply's value.
 */
static int
export_and_report(struct store *st, const struct config *cfg, const struct airlock_actor *who,
		  const char *path, const char *reason, uint64_t replaces, int client_fd,
		  struct status_buf *sb)
{
	char why[1024], *report = calloc(1, QUEUE_REPORT_MAX);
	uint64_t id = 0;
	int rc, ok;

	if (!report)
		return reply(client_fd, AIRLOCK_ST_REFUSED, "out of memory");
	ok = airlock_export_ex(st, cfg, who, path, reason, replaces, &id, report, QUEUE_REPORT_MAX,
			       why, sizeof(why)) == 0;
	/* The report quotes table headers and cells: nothing reaches the terminal raw. */
	queue_safe_text(report, report, QUEUE_REPORT_MAX, 1);
	if (ok && replaces)
		sb_add(sb,
		       "export request %" PRIu64 " pending review (replaces request %" PRIu64 ")\n",
		       id, replaces);
	else if (ok)
		sb_add(sb, "export request %" PRIu64 " pending review\n", id);
	else
		sb_add(sb, "%.*s\n", (int)strcspn(why, "\n"), why); /* the report follows whole */
	if (report[0])
		sb_add(sb, "check report:\n%s", report);
	rc = reply(client_fd, ok ? AIRLOCK_ST_OK : AIRLOCK_ST_REFUSED, sb->text);
	free(report);
	return rc;
}

static int
valid_text(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int
airlock_server_handle(struct store *st, const struct config *cfg, const struct airlock_actor *who,
		      uid_t expected_uid, int client_fd)
{
	struct status_buf sb = {0};
	struct airlock_actor reader;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct rbuf rd;
	uint8_t hdr[4], *body = NULL;
	/* why: room for a refusal with its check report (export_block_on_fail) */
	char *path = NULL, reason[AIRLOCK_MAX_REASON + 1], why[QUEUE_REPORT_MAX + 256], msg[1200];
	uint32_t len;
	uint64_t id = 0, replaces = 0;
	int64_t deadline = mono_ms() + AIRLOCK_IO_TIMEOUT_MS;
	int op, rc, ret = -1;
	struct timeval tv = {AIRLOCK_IO_TIMEOUT_MS / 1000, 0};

	/* Identity is the socket's: a peer that is not the session's account is not served. */
	if (getsockopt(client_fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
	    clen != sizeof(cred) || cred.uid != expected_uid)
		return -1;
	(void)setsockopt(client_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (read_deadline(client_fd, hdr, 4, deadline) < 0)
		return -1;
	len = codec_be32_get(hdr);
	if (len < 2 || len > AIRLOCK_MAX_FRAME) {
		reply(client_fd, AIRLOCK_ST_BADREQ, "request too large or empty");
		return -1;
	}
	if (!(body = malloc(len)) || !(path = malloc(AIRLOCK_MAX_PATH + 1)) ||
	    !(sb.text = malloc(TEXT_MAX + 1)))
		goto out;
	sb.cap = TEXT_MAX + 1;
	sb.text[0] = '\0';
	if (read_deadline(client_fd, body, len, deadline) < 0)
		goto out;
	rbuf_init(&rd, body, len);
	if (rbuf_u8(&rd) != AIRLOCK_PROTO_VERSION) {
		reply(client_fd, AIRLOCK_ST_BADREQ, "unsupported protocol version");
		goto out;
	}
	op = rbuf_u8(&rd);
	switch (op) {
	case AIRLOCK_OP_EXPORT:
		rbuf_str(&rd, path, AIRLOCK_MAX_PATH + 1);
		rbuf_str(&rd, reason, sizeof(reason));
		if (rbuf_ok(&rd) && rd.off < rd.len) /* --replaces, from clients that know it */
			replaces = rbuf_u64(&rd);
		break;
	case AIRLOCK_OP_STATUS:
	case AIRLOCK_OP_WITHDRAW:
		id = rbuf_u64(&rd);
		break;
	case AIRLOCK_OP_INBOX:
		break;
	case AIRLOCK_OP_SUBMIT:
		rbuf_str(&rd, path, 256);
		rbuf_str(&rd, reason, sizeof(reason));
		break;
	default:
		reply(client_fd, AIRLOCK_ST_BADREQ, "unknown operation");
		goto out;
	}
	if (!rbuf_done(&rd) ||
	    ((op == AIRLOCK_OP_EXPORT || op == AIRLOCK_OP_SUBMIT) &&
	     (!valid_text(reason) || !valid_text(path))) ||
	    (op == AIRLOCK_OP_WITHDRAW && id == 0)) {
		reply(client_fd, AIRLOCK_ST_BADREQ, "malformed request");
		goto out;
	}
	switch (op) {
	case AIRLOCK_OP_EXPORT:
		/* The source is read as the peer the kernel vouched for above, whatever uid the
		 * caller's actor carries. */
		reader = *who;
		reader.uid = expected_uid;
		rc = export_and_report(st, cfg, &reader, path, reason, replaces, client_fd, &sb);
		break;
	case AIRLOCK_OP_INBOX:
		if (draft_inbox(st, cfg, who, sb.text, sb.cap, why, sizeof(why)) < 0)
			rc = reply(client_fd, AIRLOCK_ST_REFUSED, why);
		else
			rc = reply(client_fd, AIRLOCK_ST_OK, sb.text);
		break;
	case AIRLOCK_OP_SUBMIT:
		if (draft_submit(st, cfg, who, path, reason, &id, msg, sizeof(msg), why,
				 sizeof(why)) < 0)
			rc = reply(client_fd, AIRLOCK_ST_REFUSED, why);
		else
			rc = reply(client_fd, AIRLOCK_ST_OK, msg);
		break;
	case AIRLOCK_OP_WITHDRAW:
		if (airlock_withdraw(st, who, id, why, sizeof(why)) < 0) {
			rc = reply(client_fd, AIRLOCK_ST_REFUSED, why);
		} else {
			snprintf(msg, sizeof(msg), "request %" PRIu64 " withdrawn", id);
			rc = reply(client_fd, AIRLOCK_ST_OK, msg);
		}
		break;
	default:
		rc = id ? status_one(st, who, id, &sb) : status_all(st, who, &sb);
		if (rc < 0) {
			snprintf(msg, sizeof(msg), "cannot read the request queue: %s",
				 store_strerror(rc));
			rc = reply(client_fd, AIRLOCK_ST_REFUSED, msg);
		} else if (rc > 0) {
			rc =
			    reply(client_fd, AIRLOCK_ST_REFUSED, "no such request in this project");
		} else {
			rc = reply(client_fd, AIRLOCK_ST_OK, sb.text);
		}
		break;
	}
	ret = rc < 0 ? -1 : 0;
out:
	free(body);
	free(path);
	free(sb.text);
	return ret;
}

int
airlock_server_refuse(int client_fd, const char *why)
{
	uint8_t hdr[4], buf[4096];
	uint32_t len;
	int64_t deadline = mono_ms() + AIRLOCK_IO_TIMEOUT_MS;
	struct timeval tv = {AIRLOCK_IO_TIMEOUT_MS / 1000, 0};

	(void)setsockopt(client_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* The request is read, not parsed: closing a unix socket with unread bytes resets the
	 * peer, and the refusal would be lost. */
	if (read_deadline(client_fd, hdr, 4, deadline) < 0)
		return -1;
	len = codec_be32_get(hdr);
	if (len > AIRLOCK_MAX_FRAME)
		return reply(client_fd, AIRLOCK_ST_BADREQ, "request too large");
	while (len > 0) {
		uint32_t n = len < sizeof(buf) ? len : (uint32_t)sizeof(buf);

		if (read_deadline(client_fd, buf, n, deadline) < 0)
			return -1;
		len -= n;
	}
	return reply(client_fd, AIRLOCK_ST_REFUSED, why);
}
