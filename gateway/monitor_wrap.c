/*
 * The worker's half of the monitor protocol: one mm_<message>() per request, the mirror of
 * mon_answer_<message>() in monitor.c (see monitor_proto.h for the wire format). Every reply goes
 * through the same two checks: mm_request() (a well-formed frame answering this very request)
 * and mm_reply_done() (every field read, no trailing bytes, exactly the descriptors this answer
 * carries). Anything else means the monitor is gone or broken: the worker exits.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "gateway/monitor_wrap.h"

struct mm_reply {
	struct rbuf r;
	int fds[MON_MAX_FDS];
	int nfds;
	const char *what; /* the request's name, for the one log line before exiting */
};

/* The worker is single-threaded and has one request in flight at a time. */
static uint8_t mm_buf[MON_MAX_MSG];

static void mm_fatal(struct mm_reply *rep, const char *why) __attribute__((noreturn));

static void
mm_fatal(struct mm_reply *rep, const char *why)
{
	for (int i = 0; i < rep->nfds; i++)
		close(rep->fds[i]);
	log_err_f("%s: %s", rep->what, why);
	_exit(1);
}

/* Sends req (and frees it: requests may hold a password) and receives the reply, which must be
 * a well-formed frame of type MON_REPLY answering req's type. */
static void
mm_request(int mon, struct wbuf *req, struct mm_reply *rep, const char *what)
{
	int type = req->len > 0 ? req->data[0] : -1;
	size_t len;
	int rc;

	rep->nfds = 0;
	rep->what = what;
	rc = mon_send(mon, req, NULL, 0);
	wbuf_free(req);
	if (rc != 0)
		mm_fatal(rep, "cannot send the request");
	rc = mon_recv(mon, mm_buf, sizeof(mm_buf), &len, rep->fds, &rep->nfds);
	if (rc != 0)
		mm_fatal(rep, rc > 0 ? "the monitor hung up" : "malformed reply frame");
	rbuf_init(&rep->r, mm_buf, len);
	if (rbuf_u8(&rep->r) != MON_REPLY || rbuf_u8(&rep->r) != type)
		mm_fatal(rep, "reply to another request");
}

/* The reply was read to its last byte and carried exactly nfds descriptors. */
static void
mm_reply_done(struct mm_reply *rep, int nfds)
{
	if (!rbuf_done(&rep->r))
		mm_fatal(rep, "malformed reply (short or trailing bytes)");
	if (rep->nfds != nfds)
		mm_fatal(rep, "reply carries the wrong number of descriptors");
}

static int
mm_auth_first_factor(int mon, int type, const char *what, const char *login, const char *secret)
{
	struct mm_reply rep;
	struct wbuf req;
	int ok;

	wbuf_init(&req);
	wbuf_put_u8(&req, (uint8_t)type);
	wbuf_put_str(&req, login);
	wbuf_put_str(&req, secret);
	mm_request(mon, &req, &rep, what);
	ok = rbuf_u8(&rep.r);
	mm_reply_done(&rep, 0);
	return ok != 0;
}

int
mm_auth_password(int mon, const char *login, const char *password)
{
	return mm_auth_first_factor(mon, MON_AUTH_PASSWORD, "auth_password", login, password);
}

int
mm_auth_pubkey(int mon, const char *login, const char *pubkey_line)
{
	return mm_auth_first_factor(mon, MON_AUTH_PUBKEY, "auth_pubkey", login, pubkey_line);
}

int
mm_auth_totp(int mon, const char *code, struct mm_login *who)
{
	struct mm_reply rep;
	struct wbuf req;
	int ok;

	wbuf_init(&req);
	wbuf_put_u8(&req, MON_AUTH_TOTP);
	wbuf_put_str(&req, code);
	mm_request(mon, &req, &rep, "auth_totp");
	memset(who, 0, sizeof(*who));
	ok = rbuf_u8(&rep.r);
	if (ok) {
		who->role = rbuf_u8(&rep.r);
		rbuf_str(&rep.r, who->user, sizeof(who->user));
		rbuf_str(&rep.r, who->project, sizeof(who->project));
		rbuf_str(&rep.r, who->area, sizeof(who->area));
	}
	mm_reply_done(&rep, 0);
	return ok != 0;
}

static void
mm_put_strings(struct wbuf *b, const char *const *v, int n)
{
	wbuf_put_u32(b, (uint32_t)n);
	for (int i = 0; i < n; i++)
		wbuf_put_str(b, v[i]);
}

/* How many descriptors an accepted start carries (monitor_proto.h). */
static int
mm_session_nfds(const struct mm_session_request *rq)
{
	if (rq->kind == MON_SK_SFTP)
		return 0;
	if (rq->use_pty && rq->kind != MON_SK_ADMIN)
		return 2;
	return 4;
}

int
mm_session_start(int mon, const struct mm_session_request *rq, struct mm_session_fds *fds,
		 char *msg, size_t msglen)
{
	struct mm_reply rep;
	struct wbuf req;
	int ok;

	wbuf_init(&req);
	wbuf_put_u8(&req, MON_SESSION_START);
	wbuf_put_u8(&req, (uint8_t)rq->kind);
	wbuf_put_str(&req, rq->command);
	mm_put_strings(&req, rq->words, rq->nwords);
	wbuf_put_u8(&req, (uint8_t)(rq->use_pty != 0));
	wbuf_put_str(&req, rq->term);
	wbuf_put_u32(&req, rq->cols);
	wbuf_put_u32(&req, rq->rows);
	mm_put_strings(&req, rq->env, rq->nenv);
	fds->in = fds->out = fds->err = fds->status = fds->rec = -1;
	fds->rec_id = 0;
	if (msglen > 0)
		msg[0] = '\0';
	if (req.err || req.len > MON_MAX_MSG) {
		wbuf_free(&req);
		return -1; /* too big to ask for: refused here, as the monitor would */
	}
	mm_request(mon, &req, &rep, "session_start");
	ok = rbuf_u8(&rep.r);
	if (!ok) {
		char said[MON_MAX_SAY];

		/* A refusal names what the account may do; the line is the monitor's, shown as is.
		 */
		rbuf_str(&rep.r, said, sizeof(said));
		mm_reply_done(&rep, 0);
		if (msglen > 0)
			snprintf(msg, msglen, "%s", said);
		return -1;
	}
	fds->rec_id = rbuf_u64(&rep.r);
	mm_reply_done(&rep, mm_session_nfds(rq) + (fds->rec_id != 0));
	if (fds->rec_id != 0 && rep.nfds > 0)
		fds->rec = rep.fds[--rep.nfds]; /* always the last one */
	if (rep.nfds == 2) {
		fds->in = fds->out = rep.fds[0];
		fds->status = rep.fds[1];
	} else if (rep.nfds == 4) {
		fds->in = rep.fds[0];
		fds->out = rep.fds[1];
		fds->err = rep.fds[2];
		fds->status = rep.fds[3];
	}
	return 0;
}

int
mm_outbox_list(int mon, int (*fn)(const struct mm_outbox_entry *e, void *arg), void *arg)
{
	static struct mm_outbox_entry e;
	struct mm_reply rep;
	struct wbuf req;
	uint32_t n;
	int ok, stop = 0;

	wbuf_init(&req);
	wbuf_put_u8(&req, MON_OUTBOX_LIST);
	mm_request(mon, &req, &rep, "outbox_list");
	ok = rbuf_u8(&rep.r);
	n = rbuf_u32(&rep.r);
	/* Entries past a stop are still decoded: the whole reply is checked either way. */
	for (uint32_t i = 0; i < n && rbuf_ok(&rep.r); i++) {
		memset(&e, 0, sizeof(e));
		e.id = rbuf_u64(&rep.r);
		rbuf_str(&rep.r, e.name, sizeof(e.name));
		e.size = rbuf_u64(&rep.r);
		e.mtime = rbuf_u64(&rep.r);
		if (rbuf_ok(&rep.r) && !stop)
			stop = fn(&e, arg);
	}
	mm_reply_done(&rep, 0);
	return ok ? 0 : -1;
}

/* The answer shared by OUTBOX_OPEN and UPLOAD_BEGIN: ok, then a u64 and exactly one fd. */
static int
mm_u64_fd(int mon, struct wbuf *req, const char *what, uint64_t *val, int *fd)
{
	struct mm_reply rep;
	int ok;

	mm_request(mon, req, &rep, what);
	ok = rbuf_u8(&rep.r);
	if (ok)
		*val = rbuf_u64(&rep.r);
	mm_reply_done(&rep, ok ? 1 : 0);
	if (!ok)
		return -1;
	*fd = rep.fds[0];
	return 0;
}

int
mm_outbox_open(int mon, uint64_t id, const char *name, int *fd, uint64_t *size)
{
	struct wbuf req;

	wbuf_init(&req);
	wbuf_put_u8(&req, MON_OUTBOX_OPEN);
	wbuf_put_u64(&req, id);
	wbuf_put_str(&req, name);
	return mm_u64_fd(mon, &req, "outbox_open", size, fd);
}

int
mm_upload_begin(int mon, const char *name, int *fd, uint64_t *token)
{
	struct wbuf req;

	wbuf_init(&req);
	wbuf_put_u8(&req, MON_UPLOAD_BEGIN);
	wbuf_put_str(&req, name);
	return mm_u64_fd(mon, &req, "upload_begin", token, fd);
}

int
mm_upload_commit(int mon, uint64_t token, const char *name, const char *reason, const char *sha256,
		 char *msg, size_t msglen)
{
	struct mm_reply rep;
	struct wbuf req;
	int ok;

	wbuf_init(&req);
	wbuf_put_u8(&req, MON_UPLOAD_COMMIT);
	wbuf_put_u64(&req, token);
	wbuf_put_str(&req, name);
	wbuf_put_str(&req, reason);
	wbuf_put_str(&req, sha256);
	mm_request(mon, &req, &rep, "upload_commit");
	ok = rbuf_u8(&rep.r);
	rbuf_str(&rep.r, msg, msglen);
	mm_reply_done(&rep, 0);
	return ok ? 0 : -1;
}

void
mm_upload_abort(int mon, uint64_t token)
{
	struct mm_reply rep;
	struct wbuf req;

	wbuf_init(&req);
	wbuf_put_u8(&req, MON_UPLOAD_ABORT);
	wbuf_put_u64(&req, token);
	mm_request(mon, &req, &rep, "upload_abort");
	rbuf_u8(&rep.r);
	mm_reply_done(&rep, 0);
}

void
mm_session_bytes(int mon, uint64_t rec_id, uint64_t out, uint64_t in)
{
	struct mm_reply rep;
	struct wbuf req;

	wbuf_init(&req);
	wbuf_put_u8(&req, MON_SESSION_BYTES);
	wbuf_put_u64(&req, rec_id);
	wbuf_put_u64(&req, out);
	wbuf_put_u64(&req, in);
	mm_request(mon, &req, &rep, "session_bytes");
	rbuf_u8(&rep.r);
	mm_reply_done(&rep, 0);
}

void
mm_sftp_note(int mon, const char *op, const char *path, const char *path2, int allowed)
{
	struct mm_reply rep;
	struct wbuf req;

	wbuf_init(&req);
	wbuf_put_u8(&req, MON_SFTP_NOTE);
	wbuf_put_str(&req, op);
	wbuf_put_str(&req, path);
	wbuf_put_str(&req, path2);
	wbuf_put_u8(&req, (uint8_t)(allowed != 0));
	mm_request(mon, &req, &rep, "sftp_note");
	rbuf_u8(&rep.r);
	mm_reply_done(&rep, 0);
}

uint64_t
mm_budget(int mon, int dir, uint64_t unused, uint64_t want, char *line, size_t linelen)
{
	struct mm_reply rep;
	struct wbuf req;
	uint64_t granted;

	wbuf_init(&req);
	wbuf_put_u8(&req, MON_BUDGET);
	wbuf_put_u8(&req, (uint8_t)dir);
	wbuf_put_u64(&req, unused);
	wbuf_put_u64(&req, want);
	mm_request(mon, &req, &rep, "budget");
	granted = rbuf_u64(&rep.r);
	rbuf_str(&rep.r, line, linelen);
	mm_reply_done(&rep, 0);
	return granted;
}

int
mm_revoked(int mon, char *why, size_t whylen)
{
	struct mm_reply rep;
	struct wbuf req;
	int revoked;

	wbuf_init(&req);
	wbuf_put_u8(&req, MON_REVOKED);
	mm_request(mon, &req, &rep, "revoked");
	revoked = rbuf_u8(&rep.r);
	rbuf_str(&rep.r, why, whylen);
	mm_reply_done(&rep, 0);
	return revoked != 0;
}

int
mm_status_read(int status_fd, int *wstatus)
{
	uint8_t b[MON_STATUS_LEN];
	ssize_t n;

	/* One write of MON_STATUS_LEN (< PIPE_BUF) bytes arrives whole or not at all. */
	n = read(status_fd, b, sizeof(b));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 1;
	if (n != (ssize_t)sizeof(b))
		return -1;
	*wstatus = (int)codec_be32_get(b);
	return 0;
}

#ifdef WSGATE_TEST_HOOKS
static void
mm_test_evil_request(const char *evil, struct wbuf *b)
{
	if (strcmp(evil, "preauth-session") == 0) {
		wbuf_put_u8(b, MON_SESSION_START);
		wbuf_put_u8(b, MON_SK_EXEC);
		wbuf_put_str(b, "id");
		wbuf_put_u32(b, 0);
		wbuf_put_u8(b, 0);
		wbuf_put_str(b, "");
		wbuf_put_u32(b, 80);
		wbuf_put_u32(b, 24);
		wbuf_put_u32(b, 0);
	} else if (strcmp(evil, "totp-first") == 0) {
		wbuf_put_u8(b, MON_AUTH_TOTP);
		wbuf_put_str(b, "123456");
	} else if (strcmp(evil, "unknown") == 0) {
		wbuf_put_u8(b, 77);
	} else {
		wbuf_put_u8(b, MON_AUTH_PASSWORD); /* "trailing": a valid request plus junk */
		wbuf_put_str(b, "alice");
		wbuf_put_str(b, "x");
		wbuf_put_u32(b, 0xdeadbeef);
	}
}

void
mm_test_evil(int mon)
{
	const char *evil = getenv("WSGATE_TEST_EVIL_WORKER");
	int fds[MON_MAX_FDS], nfds;
	struct wbuf b;
	size_t len;

	if (evil == NULL)
		return;
	wbuf_init(&b);
	mm_test_evil_request(evil, &b);
	if (mon_send(mon, &b, NULL, 0) != 0)
		_exit(2);
	if (mon_recv(mon, mm_buf, sizeof(mm_buf), &len, fds, &nfds) == 1)
		_exit(0); /* the monitor hung up: as it must */
	fprintf(stderr, "wsgated: TEST: monitor answered an evil request\n");
	_exit(3);
}
#endif
