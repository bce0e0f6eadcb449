/*
 * The privileged per-connection process (OpenSSH's monitor). It forks the network worker,
 * which runs unprivileged, then answers the worker's requests from a closed table, mon_dispatch:
 * each message type has one handler, mon_answer_<name>() (the mirror of mm_<name>() in
 * monitor_wrap.c), the authentication states it is permitted in, and why that is safe. The monitor
 * never parses SSH data; it checks credentials through auth_decide() with the peer address it got
 * from the socket itself, starts sandboxes and admin commands, and serves the airlock socket of
 * each analyst session. An unknown, malformed or out-of-state message ends the connection.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth/auth.h"
#include "common/audit.h"
#include "common/codec.h"
#include "common/envname.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/monotime.h"
#include "common/nitems.h"
#include "common/selfpipe.h"
#include "common/store.h"
#include "common/units.h"
#include "common/why.h"
#include "gateway/gateway.h"
#include "gateway/monitor_proto.h"
#include "gateway/monitor_rec.h"
#include "gateway/slots.h"
#include "policy/account.h"
#include "policy/budget.h"
#include "policy/cmdline.h"
#include "sandbox/sandbox.h"
#include "transfer/airlock.h"
#include "transfer/airlock_server.h"
#include "transfer/area.h"
#include "transfer/draft.h"

#define MON_MAX_SESSIONS 16 /* session channels per connection, running or not */
#define MON_MAX_UPLOADS 8
#define MON_MAX_ARGS 64
#define MON_MAX_ENV 32
/* Revocation (SPEC "Revocation"; docs/gateway.md): how often a live login is re-checked, how
 * long the worker gets to close its channels with the line before the monitor kills what still
 * runs, and how long a revoked connection stays up refusing (with the line) before it ends. */
#define MON_RECHECK_MS 500
/* Commits made without their fsync (session.end) reach the disk within this. */
#define MON_SYNC_MS 100
#define MON_SPARE_DELAY_MS 2 /* see mon_spare_build */
#define MON_REVOKE_KILL_MS 1000
#define MON_REVOKE_LINGER_MS 10000

/* ST_CLOSING: shutting down; the worker may still give back budget while its channels close. */
enum mon_state {
	ST_PREAUTH = 1 << 0,
	ST_NEED_TOTP = 1 << 1,
	ST_AUTHED = 1 << 2,
	ST_CLOSING = 1 << 3
};

struct mon_session {
	int used;
	int kind;
	int is_sandbox;
	int use_pty;
	struct sandbox_proc proc;
	pid_t pid;	/* admin command */
	int status_wr;	/* the worker reads the wait status here; its close means "end it" */
	int airlock_fd; /* listening socket of this session's airlock, or -1 */
	char rundir[4200];
	char sock[4300];
	time_t started;
	struct monitor_rec rec; /* its recording ([audit] record), copied from the worker's pipe */
	int ended;		/* the command ended: end_status went to the worker */
	int end_status;
	int reaped;	 /* its process is reaped (a sandbox's init may outlive the report) */
	int audited;	 /* session.end is recorded (after the recording closed) */
	int rec_failed;	 /* it had to be recorded and could not be: it did not run */
	int bytes_known; /* MON_SESSION_BYTES came: the worker's totals, each way */
	uint64_t bytes_out, bytes_in;
};

struct mon_upload {
	int used;
	uint64_t token;
	int fd;
	char name[256]; /* for the refusal note its uploader sees (transfer/draft.h) */
};

struct monitor {
	const struct config *cfg;
	struct config *reloaded; /* cfg after a SIGHUP reload, owned here; NULL before */
	const char *exe_dir;
	struct store *st;
	const struct gw_peer *peer;
	int sock;
	pid_t worker;
	int state;
	unsigned failures;
	/* Monotonic seconds: a wall-clock jump must neither end nor stretch a login. */
	time_t deadline;
	char login[128];	  /* login that passed the first factor */
	struct auth_decision dec; /* filled by the TOTP step */
	struct airlock_actor who;
	struct mon_session sess[MON_MAX_SESSIONS];
	struct mon_session spare; /* a sandbox built ahead for the next command (proc.pid > 0) */
	unsigned nstarted;
	unsigned nexec; /* exec sessions without a pty so far */
	struct mon_upload up[MON_MAX_UPLOADS];
	uint64_t next_token;
	int recheck_ms;	       /* MON_RECHECK_MS; 0 = at requests only (test hook) */
	int64_t next_recheck;  /* monotonic ms */
	int revoked;	       /* sticky: the login is no longer allowed */
	int revoke_killed;     /* what ran was killed */
	int64_t revoked_at;    /* monotonic ms */
	char revoked_why[200]; /* the reason, for the `wsgate: ` lines */
	int64_t sync_due;      /* monotonic ms by which unsynced commits are flushed; 0 = none */
	int net_fd; /* this connection's sandboxes' network namespace, once one made it; else 0 */
	int64_t spare_due; /* monotonic ms at which the spare sandbox is built; 0 = none */
	pthread_t syncer;  /* the session start's fsync (mon_sync_begin), while syncing */
	int syncing;
	int sync_rc;
};

typedef int (*mon_handler)(struct monitor *m, struct rbuf *r, struct wbuf *reply, int *fds,
			   int *nfds);

static int mon_answer_auth_password(struct monitor *, struct rbuf *, struct wbuf *, int *, int *);
static int mon_answer_auth_pubkey(struct monitor *, struct rbuf *, struct wbuf *, int *, int *);
static int mon_answer_auth_totp(struct monitor *, struct rbuf *, struct wbuf *, int *, int *);
static int mon_answer_session_start(struct monitor *, struct rbuf *, struct wbuf *, int *, int *);
static int mon_answer_outbox_list(struct monitor *, struct rbuf *, struct wbuf *, int *, int *);
static int mon_answer_outbox_open(struct monitor *, struct rbuf *, struct wbuf *, int *, int *);
static int mon_answer_upload_begin(struct monitor *, struct rbuf *, struct wbuf *, int *, int *);
static int mon_answer_upload_commit(struct monitor *, struct rbuf *, struct wbuf *, int *, int *);
static int mon_answer_upload_abort(struct monitor *, struct rbuf *, struct wbuf *, int *, int *);
static int mon_answer_sftp_note(struct monitor *, struct rbuf *, struct wbuf *, int *, int *);
static int mon_answer_session_bytes(struct monitor *, struct rbuf *, struct wbuf *, int *, int *);
static int mon_answer_budget(struct monitor *, struct rbuf *, struct wbuf *, int *, int *);
static int mon_answer_revoked(struct monitor *, struct rbuf *, struct wbuf *, int *, int *);

/*
 * The closed table of requests, the monitor's half of monitor_proto.h (the worker's is
 * monitor_wrap.c, mm_<name>). A type not listed, or listed but outside its states, ends the
 * connection; so does a request carrying descriptors or one not read to its last byte. The last
 * column says why serving the request in those states cannot give the worker more than the
 * login it has proven.
 */
struct mon_entry {
	int type;
	const char *name;
	int states;
	mon_handler fn;
	const char *why_safe;
};

/* One row: the message, the states it is permitted in, why serving it there is safe. */
#define ANSWER(T, name, states, why)                                                               \
	{                                                                                          \
		MON_##T, #name, states, mon_answer_##name, why                                     \
	}

/* clang-format off */
static const struct mon_entry mon_dispatch[] = {
	ANSWER(AUTH_PASSWORD, auth_password, ST_PREAUTH, "peer address from the socket; failures counted here"),
	ANSWER(AUTH_PUBKEY, auth_pubkey, ST_PREAUTH, "a key the worker says verified is never enough: TOTP follows"),
	ANSWER(AUTH_TOTP, auth_totp, ST_NEED_TOTP, "only for the login that passed the first factor here; one use"),
	ANSWER(SESSION_START, session_start, ST_AUTHED, "who, project, area are the monitor's; role picks the kind"),
	ANSWER(OUTBOX_LIST, outbox_list, ST_AUTHED, "released exports of the own project; analysts and stats only"),
	ANSWER(OUTBOX_OPEN, outbox_open, ST_AUTHED, "own project, read-only fd, SHA-256 checked before it is given"),
	ANSWER(UPLOAD_BEGIN, upload_begin, ST_AUTHED, "analysts only; an anonymous file in quarantine, not a path"),
	ANSWER(UPLOAD_COMMIT, upload_commit, ST_AUTHED, "this connection's token; monitor hashes, queues pending"),
	ANSWER(UPLOAD_ABORT, upload_abort, ST_AUTHED, "this connection's token; closing the staging fd drops it"),
	ANSWER(SFTP_NOTE, sftp_note, ST_AUTHED, "only appends an audit record, strings bounded and quoted; changes nothing"),
	ANSWER(SESSION_BYTES, session_bytes, ST_AUTHED | ST_CLOSING, "numbers for this connection's own recorded session's end; changes nothing else"),
	ANSWER(BUDGET, budget, ST_AUTHED | ST_CLOSING, "debits the session's own account; never grants past today's balance"),
	ANSWER(REVOKED, revoked, ST_AUTHED | ST_CLOSING, "tells only whether this login was revoked and why; no data"),
};
/* clang-format on */

static const struct mon_entry *
mon_entry_find(int type)
{
	for (size_t i = 0; i < nitems(mon_dispatch); i++)
		if (mon_dispatch[i].type == type)
			return &mon_dispatch[i];
	return NULL;
}

static const char *
mon_kind_name(int kind)
{
	switch (kind) {
	case MON_SK_SHELL:
		return "shell";
	case MON_SK_EXEC:
		return "exec";
	case MON_SK_SFTP:
		return "sftp";
	case MON_SK_ADMIN:
		return "admin";
	}
	return "?";
}

/* ---- authentication ---- */

/* auth_decide, and a line for the operator when it could not decide at all (the store failed:
 * a full map or disk): the client sees an ordinary failure, the log says why. */
static int
mon_auth_decide(struct monitor *m, const struct auth_request *req, struct auth_decision *dec)
{
	int rc = auth_decide(m->st, m->cfg, req, dec);

	if (rc < 0)
		log_err("%s: login could not be decided: %s", m->peer->text, dec->reason);
	return rc;
}

static int
mon_fail(struct monitor *m)
{
	/* The worker counts too, but the monitor does not rely on it. */
	if (++m->failures >= m->cfg->max_auth_tries) {
		log_info("%s: too many authentication failures", m->peer->text);
		return -1;
	}
	return 0;
}

static int
mon_first_factor(struct monitor *m, struct rbuf *r, struct wbuf *reply, enum auth_step step)
{
	char login[128], secret[4096];
	struct auth_request req;
	struct auth_decision dec;
	int ok = 0;

	rbuf_str(r, login, sizeof(login));
	rbuf_str(r, secret, sizeof(secret));
	if (!rbuf_done(r)) {
		OPENSSL_cleanse(secret, sizeof(secret));
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.step = step;
	req.login = login;
	req.peer = (const struct sockaddr *)&m->peer->ss;
	req.secret = secret;
	req.now = (uint64_t)time(NULL);
	memset(&dec, 0, sizeof(dec));
	if (mon_auth_decide(m, &req, &dec) == 0 && dec.ok)
		ok = 1;
	OPENSSL_cleanse(secret, sizeof(secret));
	account_wipe(&dec.acct);
	if (ok) {
		snprintf(m->login, sizeof(m->login), "%s", login);
		m->state = ST_NEED_TOTP;
	}
	wbuf_put_u8(reply, (uint8_t)ok);
	return ok ? 0 : mon_fail(m);
}

static int
mon_answer_auth_password(struct monitor *m, struct rbuf *r, struct wbuf *reply, int *fds, int *nfds)
{
	return mon_first_factor(m, r, reply, AUTH_STEP_PASSWORD);
}

static int
mon_answer_auth_pubkey(struct monitor *m, struct rbuf *r, struct wbuf *reply, int *fds, int *nfds)
{
	return mon_first_factor(m, r, reply, AUTH_STEP_PUBKEY);
}

static int
mon_answer_auth_totp(struct monitor *m, struct rbuf *r, struct wbuf *reply, int *fds, int *nfds)
{
	char code[64];
	struct auth_request req;
	int ok = 0;

	rbuf_str(r, code, sizeof(code));
	if (!rbuf_done(r))
		return -1;
	memset(&req, 0, sizeof(req));
	req.step = AUTH_STEP_TOTP;
	req.login = m->login; /* the login that passed the first factor, never a new one */
	req.peer = (const struct sockaddr *)&m->peer->ss;
	req.secret = code;
	req.now = (uint64_t)time(NULL);
	memset(&m->dec, 0, sizeof(m->dec));
	if (mon_auth_decide(m, &req, &m->dec) == 0 && m->dec.ok)
		ok = 1;
	OPENSSL_cleanse(code, sizeof(code));
	wbuf_put_u8(reply, (uint8_t)ok);
	if (!ok) {
		account_wipe(&m->dec.acct);
		return mon_fail(m);
	}
	m->state = ST_AUTHED;
	/* The listener stops counting this connection as a login in progress. */
	slots_report_login();
	audit_set_context(role_name(m->dec.acct.role), m->dec.project, m->dec.area, NULL);
	m->next_recheck = 1; /* re-checked from the next pass on (mon_revoke_timers) */
	m->who.user = m->dec.acct.name;
	m->who.is_admin = m->dec.acct.role == ROLE_ADMIN;
	m->who.project = m->dec.project;
	m->who.area = m->dec.area;
	wbuf_put_u8(reply, (uint8_t)m->dec.acct.role);
	wbuf_put_str(reply, m->dec.acct.name);
	wbuf_put_str(reply, m->dec.project);
	wbuf_put_str(reply, m->dec.area);
	log_info("%s: %s logged in (role %s, project %s, area %s)", m->peer->text, m->dec.acct.name,
		 role_name(m->dec.acct.role), m->dec.project, m->dec.area);
	return 0;
}

/* ---- sessions ---- */

static int mon_budget_spent(struct monitor *m, char *why, size_t whylen);
static void mon_spare_build(struct monitor *m);
static void mon_spare_discard(struct monitor *m);

static struct mon_session *
mon_session_alloc(struct monitor *m)
{
	for (int i = 0; i < MON_MAX_SESSIONS; i++) {
		if (!m->sess[i].used) {
			struct mon_session *s = &m->sess[i];

			memset(s, 0, sizeof(*s));
			s->used = 1;
			s->status_wr = -1;
			s->airlock_fd = -1;
			s->pid = -1;
			s->proc.pid = -1;
			s->rec.rd = -1;
			s->started = time(NULL);
			return s;
		}
	}
	return NULL;
}

static void
mon_airlock_close(struct mon_session *s)
{
	if (s->airlock_fd >= 0) {
		close(s->airlock_fd);
		s->airlock_fd = -1;
		if (unlink(s->sock) != 0 && errno != ENOENT)
			log_warn("unlink %s: %s", s->sock, strerror(errno));
		if (rmdir(s->rundir) != 0 && errno != ENOENT)
			log_warn("rmdir %s: %s", s->rundir, strerror(errno));
	}
}

static void mon_session_audit_end(struct monitor *m, struct mon_session *s);

/* The commits made without their fsync reach the disk. */
static void
mon_sync(struct monitor *m)
{
	int rc;

	m->sync_due = 0;
	if ((rc = store_sync(m->st)) != 0)
		log_err_f("%s: audit sync: %s", m->peer->text, store_strerror(rc));
}

static void *
mon_sync_thread(void *arg)
{
	struct monitor *m = arg;

	m->sync_rc = store_sync(m->st);
	return NULL;
}

/*
 * A session start's fsync on a thread of its own, begun before the go-ahead: it then runs while
 * the sandbox starts the command rather than after it (an fdatasync takes 0.3 to 2 ms on the
 * benchmark VM's disk, as long as a short command). Until mon_sync_join() the main thread
 * touches no LMDB handle and forks nothing; the thread runs with every signal blocked, so the
 * handlers stay on the main thread. If no thread can be made, mon_sync_join() syncs itself.
 */
static void
mon_sync_begin(struct monitor *m)
{
	sigset_t all, old;

	sigfillset(&all);
	if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0)
		return;
	m->sync_due = 0;
	m->syncing = pthread_create(&m->syncer, NULL, mon_sync_thread, m) == 0;
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The start is on disk once this returns (the thread's fsync, or one made here). */
static void
mon_sync_join(struct monitor *m)
{
	if (!m->syncing) {
		mon_sync(m);
		return;
	}
	m->syncing = 0;
	if (pthread_join(m->syncer, NULL) != 0)
		fatal("%s: audit sync thread lost", m->peer->text);
	if (m->sync_rc != 0)
		log_err_f("%s: audit sync: %s", m->peer->text, store_strerror(m->sync_rc));
}

/*
 * The session's command ended: its wait status to the worker at once. A sandbox reports before
 * its init has exited, while the kernel still tears its namespaces down: the client need not
 * wait for that. The end is recorded once the worker has also closed the recording (its last
 * output comes after the command ended); the slot is free once that and the reaping are done.
 */
static void
mon_session_report(struct monitor *m, struct mon_session *s, int wstatus)
{
	uint8_t b[MON_STATUS_LEN];

	if (s->ended)
		return;

	codec_be32_put(b, (uint32_t)wstatus); /* read by mm_status_read() in the worker */
	if (s->status_wr >= 0) {
		/* A sandbox's init wrote it to the worker before it told us (init.c): not twice. */
		if (!(s->is_sandbox && s->proc.have_status) &&
		    write_all(s->status_wr, b, sizeof(b)) < 0 && errno != EPIPE)
			log_warn("status to worker: %s", strerror(errno));
		close(s->status_wr);
		s->status_wr = -1;
	}
	mon_airlock_close(s);
	s->ended = 1;
	s->end_status = wstatus;
	if (s->rec.rd < 0)
		mon_session_audit_end(m, s);
	if (s->is_sandbox && !s->use_pty && m->spare_due == 0)
		m->spare_due = mono_ms() + MON_SPARE_DELAY_MS;
}

/* The slot is free once its process is reaped and its end is on the record. */
static void
mon_session_release(struct mon_session *s)
{
	if (s->reaped && s->audited)
		s->used = 0;
}

/* The session's process was reaped (a sandbox's init, or an admin's wsgatectl). */
static void
mon_session_end(struct monitor *m, struct mon_session *s, int wstatus)
{
	mon_session_report(m, s, wstatus);
	s->pid = -1; /* the pid may be reused by now */
	s->reaped = 1;
	mon_session_release(s);
}

/*
 * session.end, committed without its fsync: the client has its exit status already and nothing
 * waits for this record but the disk. It is visible at once and survives a kill -9 of any
 * process; the next session start's fsync, the monitor's timer (MON_SYNC_MS) or its exit makes
 * it survive a power cut too. A ControlMaster running short commands then pays one fsync per
 * command, not two.
 */
static void
mon_session_audit_end(struct monitor *m, struct mon_session *s)
{
	char rec[200], bytes[64] = "";
	int wstatus = s->end_status, rc;
	MDB_txn *txn;

	monitor_rec_end(&s->rec, rec, sizeof(rec));
	if (s->bytes_known)
		snprintf(bytes, sizeof(bytes), " out=%llu in=%llu",
			 (unsigned long long)s->bytes_out, (unsigned long long)s->bytes_in);
	if ((rc = store_begin(m->st, 0, &txn)) == 0) {
		rc = audit_append(m->st, txn, m->dec.acct.name, "session.end",
				  "kind=%s %s=%d seconds=%lld%s%s", mon_kind_name(s->kind),
				  WIFSIGNALED(wstatus) ? "signal" : "status",
				  WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus),
				  (long long)(time(NULL) - s->started), bytes, rec);
		rc = rc == 0 ? store_commit_nosync(m->st, txn) : (store_abort(txn), rc);
	}
	if (rc != 0)
		log_err_f("audit session.end for %s: %s", m->dec.acct.name, store_strerror(rc));
	else if (m->sync_due == 0)
		m->sync_due = mono_ms() + MON_SYNC_MS;
	s->audited = 1;
	mon_session_release(s);
}

/* Copies the worker's recording lines; a recording that reached its end closes its session. */
static void
mon_rec_pump(struct monitor *m, struct mon_session *s)
{
	if (s->used && s->rec.rd >= 0 && monitor_rec_pump(&s->rec) == 1 && s->ended)
		mon_session_audit_end(m, s);
}

static void
mon_session_kill(struct mon_session *s)
{
	if (s->is_sandbox && s->proc.pid > 0)
		sandbox_kill(&s->proc);
	else if (s->pid > 0)
		kill(s->pid, SIGKILL);
}

/* ---- revocation (SPEC "Revocation") ---- */

static void
mon_kill_all(struct monitor *m)
{
	for (int i = 0; i < MON_MAX_SESSIONS; i++)
		if (m->sess[i].used)
			mon_session_kill(&m->sess[i]);
	m->revoke_killed = 1;
}

/*
 * The login is no longer allowed: recorded once (session.revoked), then the worker is woken
 * (SIGUSR1) to ask MON_REVOKED and close every channel with one `wsgate: ` line. Closing a
 * channel closes its status pipe, which kills that session here (mon_loop); what still runs
 * MON_REVOKE_KILL_MS later is killed anyway, whatever the worker does. The processes are not
 * killed at once so that the line reaches the client before the exit signal ends the channel.
 */
static void
mon_revoke(struct monitor *m, const char *why)
{
	char kinds[64] = "", q[512];
	unsigned n = 0;

	m->revoked = 1;
	m->revoked_at = mono_ms();
	mon_spare_discard(m);
	snprintf(m->revoked_why, sizeof(m->revoked_why), "session revoked: %s", why);
	for (int i = 0; i < MON_MAX_SESSIONS; i++) {
		const char *k = mon_kind_name(m->sess[i].kind);

		if (!m->sess[i].used)
			continue;
		n++;
		if (strstr(kinds, k) == NULL)
			snprintf(kinds + strlen(kinds), sizeof(kinds) - strlen(kinds), "%s%s",
				 kinds[0] ? "," : "", k);
	}
	log_info("%s: %s: %s", m->peer->text, m->dec.acct.name, m->revoked_why);
	if (audit_log(m->st, m->dec.acct.name, "session.revoked",
		      "reason=%s addr=%s sessions=%u kinds=%s", audit_quote(why, q, sizeof(q)),
		      m->peer->text, n, kinds[0] ? kinds : "-") != 0)
		log_err("audit session.revoked for %s failed", m->dec.acct.name);
	if (m->worker > 0 && kill(m->worker, SIGUSR1) != 0)
		log_warn("waking the worker: %s", strerror(errno));
}

/*
 * Is the login still allowed, against the store and the config as they are now? Called before
 * every request that opens or moves something, and from mon_loop every recheck_ms. Returns 0,
 * or -1 with why (the line for the client). A revocation is sticky; a store that cannot be
 * read refuses the request but revokes nothing (it says nothing about the account).
 */
static int
mon_recheck(struct monitor *m, char *why, size_t whylen)
{
	int rc;

	if (m->state != ST_AUTHED)
		return 0;
	if (m->revoked)
		return why_set(why, whylen, "%s", m->revoked_why);
	rc = auth_still_allowed(m->st, m->cfg, &m->dec, (const struct sockaddr *)&m->peer->ss,
				(uint64_t)time(NULL), why, whylen);
	if (rc == 1)
		return 0;
	if (rc == 0) {
		mon_revoke(m, why);
		return why_set(why, whylen, "%s", m->revoked_why);
	}
	log_err("%s: %s: re-check: %s", m->peer->text, m->dec.acct.name, why);
	return -1;
}

/* SIGHUP (the listener passes its own on after a good reload): read the config again; the
 * zones in it decide the next re-check, which runs at once. */
static void
mon_reload(struct monitor *m)
{
	struct config *ncfg;
	char why[512];

	if (config_load(m->cfg->path, &ncfg, why, sizeof(why)) != 0) {
		log_err("%s: reload failed, keeping the old policy: %s", m->peer->text, why);
		return;
	}
	if (m->reloaded != NULL)
		config_free(m->reloaded);
	m->reloaded = ncfg;
	m->cfg = ncfg;
	mon_spare_discard(m); /* built with the old limits and hidden paths */
	m->next_recheck = 0;
}

/* The periodic side of revocation, once per pass of mon_loop. */
static void mon_shutdown(struct monitor *m, int code) __attribute__((noreturn));

static void
mon_revoke_timers(struct monitor *m)
{
	int64_t now = mono_ms();
	char why[256];

	if (m->state == ST_AUTHED && !m->revoked &&
	    (m->next_recheck == 0 || (m->recheck_ms > 0 && now >= m->next_recheck))) {
		m->next_recheck = now + (m->recheck_ms > 0 ? m->recheck_ms : INT32_MAX);
		(void)mon_recheck(m, why, sizeof(why));
	}
	if (!m->revoked)
		return;
	if (!m->revoke_killed && now >= m->revoked_at + MON_REVOKE_KILL_MS)
		mon_kill_all(m);
	if (now >= m->revoked_at + MON_REVOKE_LINGER_MS) {
		log_info("%s: %s: revoked connection ends", m->peer->text, m->dec.acct.name);
		mon_shutdown(m, 0);
	}
}

/* Collects every finished session process. */
static void
mon_reap(struct monitor *m)
{
	for (int i = 0; i < MON_MAX_SESSIONS; i++) {
		struct mon_session *s = &m->sess[i];
		int ws = 0;

		if (!s->used || s->kind == MON_SK_SFTP || s->reaped)
			continue;
		if (s->is_sandbox) {
			if (!s->ended && sandbox_status(&s->proc, &ws) == 1)
				mon_session_report(m, s, ws);
			if (sandbox_reap(&s->proc, &ws, WNOHANG) == 1)
				mon_session_end(m, s, ws);
		} else if (s->pid > 0) {
			pid_t p = waitpid(s->pid, &ws, WNOHANG);

			if (p == s->pid || (p < 0 && errno == ECHILD))
				mon_session_end(m, s, ws);
		}
	}
}

/* A per-session unix socket for the `airlock` client in the sandbox: reachable only by the
 * account's uid, and the identity is the session's, whatever the client says. */
static int
mon_airlock_open(struct monitor *m, struct mon_session *s, char *why, size_t whylen)
{
	struct sockaddr_un sun;
	int fd;

	m->nstarted++;
	snprintf(s->rundir, sizeof(s->rundir), "%s/run/%ld-%u", m->cfg->state_dir, (long)getpid(),
		 m->nstarted);
	if (snprintf(s->sock, sizeof(s->sock), "%s/airlock.sock", s->rundir) >=
	    (int)sizeof(sun.sun_path))
		return why_set(why, whylen, "airlock socket path too long");
	if (mkdir(s->rundir, 0700) != 0 || chown(s->rundir, m->dec.acct.uid, 0) != 0)
		return why_set(why, whylen, "mkdir %s: %s", s->rundir, strerror(errno));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		rmdir(s->rundir);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, s->sock, strlen(s->sock) + 1);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chown(s->sock, m->dec.acct.uid, 0) != 0 || chmod(s->sock, 0600) != 0 ||
	    listen(fd, 8) != 0) {
		snprintf(why, whylen, "airlock socket %s: %s", s->sock, strerror(errno));
		close(fd);
		unlink(s->sock);
		rmdir(s->rundir);
		return -1;
	}
	s->airlock_fd = fd;
	return 0;
}

static void
mon_airlock_serve(struct monitor *m, struct mon_session *s)
{
	int fd = accept4(s->airlock_fd, NULL, NULL, SOCK_CLOEXEC);
	char why[256], line[300];

	if (fd < 0)
		return;
	if (mon_recheck(m, why, sizeof(why)) != 0) {
		snprintf(line, sizeof(line), "wsgate: %s", why);
		if (airlock_server_refuse(fd, line) < 0)
			log_info("%s: refusing an airlock request: no reply sent", m->peer->text);
		close(fd);
		return;
	}
	/* The handler reads one bounded request; a blocking socket keeps it simple. */
	if (airlock_server_handle(m->st, m->cfg, &m->who, m->dec.acct.uid, fd) < 0)
		log_info("%s: airlock request from %s refused", m->peer->text, m->dec.acct.name);
	close(fd);
}

struct mon_start {
	int kind;
	char command[8192];
	char *argv[MON_MAX_ARGS + 1];
	int argc;
	int use_pty;
	char term[64];
	uint32_t cols, rows;
	char *envp[MON_MAX_ENV + 2];
	int envc;
};

static void
mon_start_free(struct mon_start *ss)
{
	for (int i = 0; i < ss->argc; i++)
		free(ss->argv[i]);
	for (int i = 0; i < ss->envc; i++)
		free(ss->envp[i]);
}

static int
mon_start_parse(struct rbuf *r, struct mon_start *ss)
{
	uint32_t n;
	char tmp[4096];

	ss->kind = rbuf_u8(r);
	rbuf_str(r, ss->command, sizeof(ss->command));
	n = rbuf_u32(r);
	if (n > MON_MAX_ARGS)
		return -1;
	for (uint32_t i = 0; i < n && rbuf_ok(r); i++) {
		rbuf_str(r, tmp, sizeof(tmp));
		if ((ss->argv[ss->argc] = strdup(tmp)) == NULL)
			return -1;
		ss->argc++;
	}
	ss->use_pty = rbuf_u8(r);
	rbuf_str(r, ss->term, sizeof(ss->term));
	ss->cols = rbuf_u32(r);
	ss->rows = rbuf_u32(r);
	n = rbuf_u32(r);
	if (n > MON_MAX_ENV)
		return -1;
	for (uint32_t i = 0; i < n && rbuf_ok(r); i++) {
		rbuf_str(r, tmp, sizeof(tmp));
		if (!envname_pair_allowed(tmp)) /* the worker filtered too */
			return -1;
		if ((ss->envp[ss->envc] = strdup(tmp)) == NULL)
			return -1;
		ss->envc++;
	}
	if (!rbuf_done(r) || ss->kind < MON_SK_SHELL || ss->kind > MON_SK_ADMIN)
		return -1;
	if (ss->cols > 10000 || ss->rows > 10000)
		return -1;
	return 0;
}

/* Which kinds of session each role may open (SPEC "Sessions"). */
static int
mon_kind_allowed(enum role role, int kind)
{
	switch (role) {
	case ROLE_ANALYST:
		return kind == MON_SK_SHELL || kind == MON_SK_EXEC || kind == MON_SK_SFTP;
	case ROLE_STATS:
		return kind == MON_SK_SFTP;
	case ROLE_ADMIN:
		return kind == MON_SK_ADMIN;
	}
	return 0;
}

/* An admin's commands are wsgatectl's transfer and audit groups, nothing else. */
static int
mon_admin_command_allowed(const struct mon_start *ss)
{
	return ss->argc >= 1 &&
	       (strcmp(ss->argv[0], "transfer") == 0 || strcmp(ss->argv[0], "audit") == 0);
}

/*
 * The lines a refused session shows the user (MON_SESSION_START's `say`), one place for all of
 * them: what the account's role may do (SPEC "Roles"), and the terminal rule (SPEC "The terminal
 * is a display"). A role's line is "wsgate: account NAME " and the words below.
 */
/* clang-format off */
static const struct {
	enum role role;
	const char *say;
} mon_role_says[] = {
	{ROLE_ANALYST, "(analyst) may open a shell or run commands with a terminal (ssh -t), and use sftp"},
	{ROLE_STATS,   "(stats) may only download released exports over sftp"},
	{ROLE_ADMIN,   "(admin) may only run 'transfer ...' and 'audit ...' commands"},
};
/* clang-format on */
#define MON_SAY_NEED_PTY                                                                           \
	"wsgate: commands need a terminal (ssh -t); files leave only through airlock export"

/* Fills say (and why, for the log and audit) if the account's role may not open this session. */
static int
mon_role_refuses(const struct monitor *m, const struct mon_start *ss, char *say, size_t saylen,
		 char *why, size_t whylen)
{
	enum role role = m->dec.acct.role;

	if (mon_kind_allowed(role, ss->kind) &&
	    (ss->kind != MON_SK_ADMIN || mon_admin_command_allowed(ss)))
		return 0;
	for (size_t i = 0; i < nitems(mon_role_says); i++)
		if (mon_role_says[i].role == role)
			snprintf(say, saylen, "wsgate: account %s %s", m->dec.acct.name,
				 mon_role_says[i].say);
	snprintf(why, whylen, "%s not allowed for role %s", mon_kind_name(ss->kind),
		 role_name(role));
	return 1;
}

/*
 * SPEC "The terminal is a display, not a file transfer": without a pty, only a command line whose
 * program is listed in exec_without_pty runs (policy/cmdline.h says what "its program" is, so
 * that sh -c, env, ;, | and quoting cannot smuggle another one past the list). A shell without a
 * pty never starts: it would read its commands, `cat FILE` included, from the client's stdin.
 * exec_without_pty = * turns the rule off. Admin sessions run wsgatectl, not a sandbox.
 */
static int
mon_pty_refuses(const struct monitor *m, const struct mon_start *ss, char *say, size_t saylen,
		char *why, size_t whylen)
{
	if (ss->use_pty || m->cfg->exec_without_pty_any ||
	    (ss->kind != MON_SK_SHELL && ss->kind != MON_SK_EXEC) ||
	    (ss->kind == MON_SK_EXEC && cmdline_program_allowed(m->cfg, ss->command)))
		return 0;
	snprintf(say, saylen, "%s", MON_SAY_NEED_PTY);
	snprintf(why, whylen, "%s without a pty: %s", mon_kind_name(ss->kind),
		 ss->kind == MON_SK_SHELL ? "a shell needs one"
					  : "program not in exec_without_pty");
	return 1;
}

/* The command as the audit log records it: an exec's line, an admin's words. */
static void
mon_start_command(const struct mon_start *ss, char *cmd, size_t cmdlen)
{
	cmd[0] = '\0';
	if (ss->kind == MON_SK_ADMIN) {
		for (int i = 0; i < ss->argc; i++) {
			strncat(cmd, i ? " " : "", cmdlen - strlen(cmd) - 1);
			strncat(cmd, ss->argv[i], cmdlen - strlen(cmd) - 1);
		}
	} else if (ss->kind == MON_SK_EXEC) {
		snprintf(cmd, cmdlen, "%s", ss->command);
	}
}

static uint64_t mon_audit_start(struct monitor *m, const struct mon_start *ss, const char *qcmd,
				int recorded);
static int mon_recorded(const struct monitor *m, const struct mon_start *ss);
static int mon_rec_begin(struct monitor *m, struct mon_session *s, const struct mon_start *ss,
			 uint64_t id, const char *cmd, int *wr, char *why, size_t whylen);

/* Buffers behind a sandbox_spec's strings. */
struct mon_spec_buf {
	struct project proj;
	char work[4200];
	char bin[4200];
};

/* The sandbox of this login (account, project, area), without its command. */
static int
mon_sandbox_spec(struct monitor *m, struct mon_session *s, struct sandbox_spec *spec,
		 struct mon_spec_buf *b, char *why, size_t whylen)
{
	MDB_txn *txn = NULL;
	char area_why[256];
	int rc;

	if ((rc = store_begin(m->st, 1, &txn)) != 0)
		return why_set(why, whylen, "store: %s", store_strerror(rc));
	rc = project_get(m->st, txn, m->dec.project, &b->proj);
	store_abort(txn);
	if (rc != 0)
		return why_set(why, whylen, "project %s: %s", m->dec.project,
			       rc == STORE_NOTFOUND ? "not found" : store_strerror(rc));
	area_set_quota(m->cfg->area_quota); /* the policy as it is now (SIGHUP) */
	if (area_ensure(m->cfg->state_dir, m->dec.project, m->dec.area, b->proj.gid, area_why,
			sizeof(area_why)) != 0 ||
	    area_path(m->cfg->state_dir, m->dec.project, m->dec.area, b->work, sizeof(b->work)) !=
		0)
		return why_set(why, whylen, "area %s/%s: %s", m->dec.project, m->dec.area,
			       area_why);
	snprintf(b->bin, sizeof(b->bin), "%s/airlock", m->exe_dir);
	memset(spec, 0, sizeof(*spec));
	spec->user = m->dec.acct.name;
	spec->uid = m->dec.acct.uid;
	spec->gid = b->proj.gid;
	spec->group = b->proj.name;
	spec->work_dir = b->work;
	spec->airlock_sock = s->sock;
	spec->airlock_bin = b->bin;
	spec->limits.memory_max = m->cfg->memory_max;
	spec->limits.pids_max = m->cfg->pids_max;
	spec->limits.file_size_max = m->cfg->file_size_max;
	spec->limits.cpu_time_max = m->cfg->cpu_time_max;
	spec->limits.tmp_size = m->cfg->tmp_size;
	spec->hide = m->cfg->hide;
	spec->nhide = m->cfg->nhide;
	spec->net_fd = m->net_fd;
	return 0;
}

/*
 * The spare: a connection that has run two commands without a pty (a ControlMaster serving
 * scripts, `ssh -S`) is likely to run more, so after each one ends the monitor builds the next
 * sandbox ahead (sandbox_prepare), while nobody waits. A command then costs the go-ahead only.
 * Only for commands without a pty (a pty is chosen per channel); built for this login's account,
 * project and area, which do not change on a connection; thrown away on SIGHUP (the limits or
 * hidden paths may have changed), on revocation and at the end. The request that takes it is
 * checked like any other (mon_recheck, role, pty rule, budget).
 *
 * It is built MON_SPARE_DELAY_MS after the command's exit status went to the worker, from the
 * main loop: building one costs about a millisecond of CPU (the clone into new namespaces, the
 * child's mounts, privilege drop and exec), and the worker, woken to send the exit status, would
 * wait behind it on the same CPU. Measured: the client's exit came 0.3-0.4 ms later.
 */
#define MON_SPARE_AFTER 2

/*
 * One network namespace per connection: the first sandbox makes it, the monitor keeps an fd on
 * it, and every later sandbox of the connection joins it (sandbox_spec.net_fd). Making one and
 * its teardown cost about a millisecond of CPU per command. The sandboxes that share it belong
 * to one account, project and area and already share the area's folder; the namespace has only
 * its loopback, and nobody in it holds CAP_NET_ADMIN to change that (SECURITY.md).
 */
static void
mon_net_keep(struct monitor *m, const struct sandbox_proc *proc)
{
	if (m->net_fd > 0)
		return;
	if ((m->net_fd = sandbox_netns(proc)) < 0) {
		log_warn("%s: network namespace not kept (each sandbox makes its own): %s",
			 m->peer->text, strerror(errno));
		m->net_fd = 0;
	}
}

static void
mon_spare_discard(struct monitor *m)
{
	if (m->spare.proc.pid > 0)
		sandbox_discard(&m->spare.proc);
	mon_airlock_close(&m->spare);
}

static void
mon_spare_build(struct monitor *m)
{
	struct sandbox_spec spec;
	struct mon_spec_buf *b;
	char why[256];

	if (m->spare.proc.pid > 0 || m->state != ST_AUTHED || m->revoked ||
	    m->nexec < MON_SPARE_AFTER || (b = calloc(1, sizeof(*b))) == NULL)
		return;
	if (mon_sandbox_spec(m, &m->spare, &spec, b, why, sizeof(why)) != 0 ||
	    mon_airlock_open(m, &m->spare, why, sizeof(why)) != 0 ||
	    sandbox_prepare(&spec, &m->spare.proc, why, sizeof(why)) != 0) {
		log_info("%s: no sandbox built ahead: %s", m->peer->text, why);
		mon_airlock_close(&m->spare);
	} else {
		mon_net_keep(m, &m->spare.proc);
	}
	free(b);
}

/* Moves the spare into s, if there is one and the request can use it. */
static int
mon_spare_take(struct monitor *m, struct mon_session *s, const struct mon_start *ss)
{
	if (m->spare.proc.pid <= 0 || ss->kind != MON_SK_EXEC || ss->use_pty)
		return 0;
	s->proc = m->spare.proc;
	s->airlock_fd = m->spare.airlock_fd;
	memcpy(s->rundir, m->spare.rundir, sizeof(s->rundir));
	memcpy(s->sock, m->spare.sock, sizeof(s->sock));
	m->spare.proc.pid = -1;
	m->spare.airlock_fd = -1;
	return 1;
}

/* Sends the command to the sandbox (the spare, or one built now) once its start is on the record;
 * the fsync and sandbox_ready follow in mon_answer_session_start. */
static int
mon_start_sandbox(struct monitor *m, struct mon_session *s, struct mon_start *ss, const char *cmd,
		  const char *qcmd, int *rec_wr, int *fds, int *nfds, char *why, size_t whylen)
{
	struct sandbox_spec spec;
	struct mon_spec_buf *b;
	char *argv[2] = {ss->command, NULL};
	uint64_t rec_id;
	int spare, rc = -1;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return why_set(why, whylen, "out of memory");
	spare = mon_spare_take(m, s, ss);
	if (mon_sandbox_spec(m, s, &spec, b, why, whylen) != 0 ||
	    (!spare && mon_airlock_open(m, s, why, whylen) != 0))
		goto out;
	spec.argv = ss->kind == MON_SK_EXEC ? argv : NULL;
	spec.envp = ss->envp;
	spec.use_pty = ss->use_pty;
	spec.ws.ws_col = (unsigned short)ss->cols;
	spec.ws.ws_row = (unsigned short)ss->rows;
	if (!spare && sandbox_prepare(&spec, &s->proc, why, whylen) != 0)
		goto out;
	mon_net_keep(m, &s->proc);
	rec_id = mon_audit_start(m, ss, qcmd, mon_recorded(m, ss));
	/* A session that must be recorded and cannot be does not run. */
	if (mon_recorded(m, ss) && mon_rec_begin(m, s, ss, rec_id, cmd, rec_wr, why, whylen) != 0)
		goto out;
	mon_sync_begin(m); /* the start record's fsync, while the sandbox starts the command */
	if (sandbox_go(&s->proc, &spec, why, whylen) != 0)
		goto out;
	s->is_sandbox = 1;
	s->use_pty = ss->use_pty;
	if (ss->kind == MON_SK_EXEC && !ss->use_pty)
		m->nexec++;
	if (ss->use_pty) {
		fds[(*nfds)++] = s->proc.pty_master;
	} else {
		fds[(*nfds)++] = s->proc.stdin_fd;
		fds[(*nfds)++] = s->proc.stdout_fd;
		fds[(*nfds)++] = s->proc.stderr_fd;
	}
	/* They are the worker's now: sent, then closed here by the dispatcher. */
	s->proc.stdin_fd = s->proc.stdout_fd = s->proc.stderr_fd = s->proc.pty_master = -1;
	rc = 0;
out:
	if (rc != 0) {
		if (s->proc.pid > 0)
			sandbox_discard(&s->proc);
		mon_airlock_close(s);
	}
	free(b);
	return rc;
}

/* Admin commands run as `wsgatectl -c CONFIG --as ADMIN transfer|audit ...`, no shell. */
static int
mon_start_admin(struct monitor *m, struct mon_session *s, struct mon_start *ss, int *fds, int *nfds,
		char *why, size_t whylen)
{
	int in[2], out[2], err[2];
	char ctl[4200];
	char *argv[MON_MAX_ARGS + 8];
	int k = 0;
	pid_t pid;

	if (!mon_admin_command_allowed(ss))
		return why_set(why, whylen, "admin command not allowed");
	snprintf(ctl, sizeof(ctl), "%s/wsgatectl", m->exe_dir);
	argv[k++] = "wsgatectl";
	argv[k++] = "-c";
	argv[k++] = (char *)m->cfg->path;
	argv[k++] = "--as";
	argv[k++] = m->dec.acct.name;
	argv[k++] = "--from"; /* the admin's address, for the audit records of the command */
	argv[k++] = (char *)m->peer->text;
	for (int i = 0; i < ss->argc; i++)
		argv[k++] = ss->argv[i];
	argv[k] = NULL;
	if (pipe2(in, O_CLOEXEC) != 0)
		goto perr0;
	if (pipe2(out, O_CLOEXEC) != 0)
		goto perr1;
	if (pipe2(err, O_CLOEXEC) != 0)
		goto perr2;
	pid = fork();
	if (pid < 0)
		goto perr3;
	if (pid == 0) {
		char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", NULL};

		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			_exit(127);
		execve(ctl, argv, envp);
		dprintf(2, "wsgated: cannot run %s: %s\n", ctl, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	s->pid = pid;
	fds[(*nfds)++] = in[1];
	fds[(*nfds)++] = out[0];
	fds[(*nfds)++] = err[0];
	return 0;
perr3:
	close(err[0]);
	close(err[1]);
perr2:
	close(out[0]);
	close(out[1]);
perr1:
	close(in[0]);
	close(in[1]);
perr0:
	return why_set(why, whylen, "starting wsgatectl: %s", strerror(errno));
}

/* The next recording id whose file does not exist yet: after a restore of an older state (or
 * by any other way) recordings/ may hold files the counter has not reached; they are kept. */
static int
mon_recording_id(struct monitor *m, MDB_txn *txn, uint64_t *id)
{
	char why[64];
	int rc, fd;

	for (int tries = 0; tries < 1000; tries++) {
		if ((rc = store_bump(m->st, txn, "next_recording_id", id)) != 0)
			return rc;
		if ((fd = recording_open(m->cfg->state_dir, *id, why, sizeof(why))) < 0)
			return 0;
		close(fd);
	}
	return STORE_BADRECORD;
}

/* session.start and, for a command, exec: one transaction (a ControlMaster runs many short
 * commands). Committed without its fsync: mon_answer_session_start syncs while the sandbox
 * starts, and before the worker hears of the session. Returns the recording's id (0: none). */
static uint64_t
mon_audit_start(struct monitor *m, const struct mon_start *ss, const char *qcmd, int recorded)
{
	uint64_t rec_id = 0;
	MDB_txn *txn;
	int rc;

	if ((rc = store_begin(m->st, 0, &txn)) == 0) {
		if (recorded && (rc = mon_recording_id(m, txn, &rec_id)) != 0)
			rec_id = 0;
		if (rc == 0)
			rc = audit_append(
			    m->st, txn, m->dec.acct.name, "session.start",
			    "kind=%s project=%s area=%s addr=%s pty=%d recording=%llu",
			    mon_kind_name(ss->kind), m->dec.project[0] ? m->dec.project : "-",
			    m->dec.area[0] ? m->dec.area : "-", m->peer->text, ss->use_pty,
			    (unsigned long long)rec_id);
		if (rc == 0 && (ss->kind == MON_SK_EXEC || ss->kind == MON_SK_ADMIN))
			rc = audit_append(m->st, txn, m->dec.acct.name, "exec", "command=%s", qcmd);
		if (rc == 0)
			rc = store_commit_nosync(m->st, txn);
		else
			store_abort(txn);
	}
	if (rc != 0) {
		log_err_f("audit of %s's session start: %s", m->dec.acct.name, store_strerror(rc));
		return 0;
	}
	return rec_id;
}

/* [audit] record: the shell and exec channels (admin commands included) of the listed roles. */
static int
mon_recorded(const struct monitor *m, const struct mon_start *ss)
{
	return ss->kind != MON_SK_SFTP && (m->cfg->audit_record & (1u << m->dec.acct.role));
}

/* The most a recording may take: what both daily budgets let through, at the encoding's worst
 * (6 bytes per byte, "\udcXX"), plus room for the header and the framing. No cap without budgets.
 */
static uint64_t
mon_rec_cap(const struct monitor *m)
{
	uint64_t out = budget_limit(m->cfg, BUDGET_OUT), in = budget_limit(m->cfg, BUDGET_IN);

	if (out == CONFIG_BUDGET_NONE || in == CONFIG_BUDGET_NONE)
		return 0;
	return 8 * (out + in) + (16 << 20);
}

/* Creates the session's recording; *wr gets the pipe's write end, passed to the worker last. */
static int
mon_rec_begin(struct monitor *m, struct mon_session *s, const struct mon_start *ss, uint64_t id,
	      const char *cmd, int *wr, char *why, size_t whylen)
{
	struct recording_header h = {
	    .id = id,
	    .timestamp = (uint64_t)time(NULL),
	    .cols = ss->cols,
	    .rows = ss->rows,
	    .user = m->dec.acct.name,
	    .role = role_name(m->dec.acct.role),
	    .project = m->dec.project,
	    .area = m->dec.area,
	    .addr = m->peer->text,
	    .kind = mon_kind_name(ss->kind),
	    .command = cmd,
	    .term = ss->term,
	};

	if (id == 0)
		return why_set(why, whylen, "no recording id (audit log unwritable)");
	if (monitor_rec_begin(&s->rec, m->cfg->state_dir, &h, mon_rec_cap(m), wr, why, whylen) <
	    0) {
		s->rec_failed = 1; /* the client is told (mon_answer_session_start) */
		return -1;
	}
	return 0;
}

static int
mon_answer_session_start(struct monitor *m, struct rbuf *r, struct wbuf *reply, int *fds, int *nfds)
{
	struct mon_start *ss;
	struct mon_session *s = NULL;
	char why[256] = "", say[MON_MAX_SAY] = "", q[2048], cmd[8192];
	int st[2] = {-1, -1};
	int rc = -1, ok = 0, rec_wr = -1;
	uint64_t rec_id = 0;

	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return -1;
	if (mon_start_parse(r, ss) != 0) {
		log_err("%s: malformed session request", m->peer->text);
		goto out; /* the worker sent something it never would: end the connection */
	}
	rc = 0;
	mon_start_command(ss, cmd, sizeof(cmd));
	/* The login as it is now (SPEC "Revocation"): a revoked one sees why. */
	if (mon_recheck(m, why, sizeof(why)) != 0) {
		if (m->revoked)
			snprintf(say, sizeof(say), "wsgate: %s", m->revoked_why);
		goto refuse;
	}
	if (mon_role_refuses(m, ss, say, sizeof(say), why, sizeof(why)) ||
	    mon_pty_refuses(m, ss, say, sizeof(say), why, sizeof(why)))
		goto refuse;
	if ((ss->kind == MON_SK_SHELL || ss->kind == MON_SK_EXEC) &&
	    mon_budget_spent(m, say, sizeof(say))) {
		snprintf(why, sizeof(why), "%s", say);
		goto refuse;
	}
	if ((s = mon_session_alloc(m)) == NULL) {
		snprintf(why, sizeof(why), "too many sessions");
		goto refuse;
	}
	s->kind = ss->kind;
	audit_quote(cmd, q, sizeof(q));
	if (ss->kind != MON_SK_SFTP) {
		if (ss->kind == MON_SK_ADMIN && pipe2(st, O_CLOEXEC) != 0) {
			snprintf(why, sizeof(why), "pipe: %s", strerror(errno));
			goto refuse;
		}
		if (ss->kind == MON_SK_ADMIN
			? mon_start_admin(m, s, ss, fds, nfds, why, sizeof(why)) != 0
			: mon_start_sandbox(m, s, ss, cmd, q, &rec_wr, fds, nfds, why,
					    sizeof(why)) != 0)
			goto refuse;
		if (s->is_sandbox) { /* its init writes the worker's status itself (sandbox.h) */
			st[0] = s->proc.exit_rd;
			st[1] = s->proc.exit_wr;
			s->proc.exit_rd = s->proc.exit_wr = -1;
		}
		s->status_wr = st[1];
		st[1] = -1;
		fds[(*nfds)++] = st[0];
		st[0] = -1;
	}
	ok = 1;
	if (!s->is_sandbox) {
		rec_id = mon_audit_start(m, ss, q, mon_recorded(m, ss));
		if (mon_recorded(m, ss) &&
		    mon_rec_begin(m, s, ss, rec_id, cmd, &rec_wr, why, sizeof(why)) != 0) {
			ok = 0;
			goto refuse;
		}
	}
	if (rec_wr >= 0) {
		fds[(*nfds)++] = rec_wr; /* the recording's pipe comes last */
		rec_wr = -1;
	}
	/* The start is on disk before the worker hears of it; the fsync runs while the sandbox's
	 * init starts. A start that then fails is recorded as refused too. */
	mon_sync_join(m);
	if (s->is_sandbox && sandbox_ready(&s->proc, why, sizeof(why)) != 0) {
		ok = 0;
		goto refuse;
	}
	if (ss->kind == MON_SK_SFTP)
		s->used = 0; /* served inside the worker; nothing to track here */
refuse:
	if (!ok) {
		char qwhy[600];

		if (m->syncing)
			mon_sync_join(m); /* a go-ahead that failed after the start was committed */

		if (!say[0] && s != NULL && s->rec_failed)
			snprintf(
			    say, sizeof(say),
			    "wsgate: this session must be recorded and the recording cannot be "
			    "written (%.120s); nothing was run",
			    why);

		log_info("%s: session for %s refused: %s", m->peer->text, m->dec.acct.name, why);
		/* A refused command is on the record as much as a started one. */
		if (audit_log(m->st, m->dec.acct.name, "session.refused",
			      "kind=%s project=%s area=%s addr=%s pty=%d command=%s why=%s",
			      mon_kind_name(ss->kind), m->dec.project[0] ? m->dec.project : "-",
			      m->dec.area[0] ? m->dec.area : "-", m->peer->text, ss->use_pty,
			      audit_quote(cmd, q, sizeof(q)),
			      audit_quote(why, qwhy, sizeof(qwhy))) != 0)
			log_err("audit session.refused for %s failed", m->dec.acct.name);
		for (int i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		if (s != NULL) {
			mon_session_kill(s);
			mon_airlock_close(s);
			monitor_rec_discard(&s->rec);
			if (s->status_wr >= 0)
				close(s->status_wr);
			/* A started process is reaped by mon_reap once it dies. */
			if (s->proc.pid <= 0 && s->pid <= 0)
				s->used = 0;
			s->status_wr = -1;
		}
	}
	if (rec_wr >= 0)
		close(rec_wr);
	if (st[0] >= 0)
		close(st[0]);
	if (st[1] >= 0)
		close(st[1]);
	wbuf_put_u8(reply, (uint8_t)ok);
	if (!ok)
		wbuf_put_str(reply, say);
	else
		wbuf_put_u64(reply, s != NULL ? s->rec.id : 0); /* with an id, its fd comes last */
out:
	mon_start_free(ss);
	free(ss);
	return rc;
}

/* ---- SFTP backend: released exports and uploads to /inbox ---- */

struct mon_list_ctx {
	struct wbuf *b;
	uint32_t n;
};

static int
mon_list_one(const struct outbox_entry *e, void *arg)
{
	struct mon_list_ctx *c = arg;

	/* Stay well inside one message; a project with more releases shows the first ones. */
	if (c->b->len > MON_MAX_MSG - 512)
		return 1;
	wbuf_put_u64(c->b, e->id);
	wbuf_put_str(c->b, e->name);
	wbuf_put_u64(c->b, e->size);
	wbuf_put_u64(c->b, e->mtime);
	c->n++;
	return 0;
}

static int
mon_sftp_allowed(struct monitor *m)
{
	return m->dec.acct.role == ROLE_ANALYST || m->dec.acct.role == ROLE_STATS;
}

static int
mon_answer_outbox_list(struct monitor *m, struct rbuf *r, struct wbuf *reply, int *fds, int *nfds)
{
	struct mon_list_ctx c;
	struct wbuf body;
	int rc;

	char why[256];

	if (!rbuf_done(r) || !mon_sftp_allowed(m))
		return -1;
	if (mon_recheck(m, why, sizeof(why)) != 0) {
		wbuf_put_u8(reply, 0);
		wbuf_put_u32(reply, 0);
		return 0;
	}
	wbuf_init(&body);
	c.b = &body;
	c.n = 0;
	rc = airlock_outbox_list(m->st, m->dec.project, mon_list_one, &c);
	wbuf_put_u8(reply, rc >= 0);
	wbuf_put_u32(reply, c.n);
	wbuf_put_raw(reply, body.data, body.len);
	wbuf_free(&body);
	return 0;
}

/* A recorded channel's totals, each way, as the worker counted them while it recorded them; kept
 * for its session.end. An id that is not one of this connection's open recordings is ignored. */
static int
mon_answer_session_bytes(struct monitor *m, struct rbuf *r, struct wbuf *reply, int *fds, int *nfds)
{
	uint64_t id = rbuf_u64(r), out = rbuf_u64(r), in = rbuf_u64(r);
	int known = 0;

	(void)fds;
	(void)nfds;
	if (!rbuf_done(r))
		return -1;
	for (int i = 0; id != 0 && i < MON_MAX_SESSIONS; i++) {
		struct mon_session *s = &m->sess[i];

		if (s->used && s->rec.id == id) {
			s->bytes_out = out;
			s->bytes_in = in;
			s->bytes_known = known = 1;
		}
	}
	wbuf_put_u8(reply, (uint8_t)known);
	return 0;
}

/* sftp.open (a download from /outbox) and sftp.upload (to /inbox): the monitor's own view. */
static void
mon_audit_sftp(struct monitor *m, const char *event, const char *phase, uint64_t id,
	       const char *name, const char *result)
{
	char qn[600], qr[700];

	if (audit_log(m->st, m->dec.acct.name, event, "%s%s id=%llu name=%s result=%s",
		      phase[0] ? "phase=" : "", phase, (unsigned long long)id,
		      audit_quote(name, qn, sizeof(qn)), audit_quote(result, qr, sizeof(qr))) != 0)
		log_err("audit %s for %s failed", event, m->dec.acct.name);
}

static int
mon_answer_outbox_open(struct monitor *m, struct rbuf *r, struct wbuf *reply, int *fds, int *nfds)
{
	char name[256], why[256];
	uint64_t id, size = 0;
	int fd = -1;

	id = rbuf_u64(r);
	rbuf_str(r, name, sizeof(name));
	if (!rbuf_done(r) || !mon_sftp_allowed(m))
		return -1;
	if (mon_recheck(m, why, sizeof(why)) != 0) {
		wbuf_put_u8(reply, 0);
		return 0;
	}
	if (airlock_outbox_open(m->st, m->dec.project, id, name, &fd, &size, why, sizeof(why)) !=
	    0) {
		mon_audit_sftp(m, "sftp.open", "", id, name, why[0] ? why : "refused");
		wbuf_put_u8(reply, 0);
		return 0;
	}
	mon_audit_sftp(m, "sftp.open", "", id, name, "ok");
	fds[(*nfds)++] = fd;
	wbuf_put_u8(reply, 1);
	wbuf_put_u64(reply, size);
	return 0;
}

/* SFTP operations that change names, as the worker's engine decided them. The worker is not
 * trusted to report everything (it is the side that parses the network), so this is a record of
 * attempts, beside the ones the monitor sees itself (sftp.open, sftp.upload). */
static int
mon_answer_sftp_note(struct monitor *m, struct rbuf *r, struct wbuf *reply, int *fds, int *nfds)
{
	char op[16], path[1024], path2[1024], q1[40], q2[1100], q3[1100];
	uint8_t allowed;

	(void)fds;
	(void)nfds;
	rbuf_str(r, op, sizeof(op));
	rbuf_str(r, path, sizeof(path));
	rbuf_str(r, path2, sizeof(path2));
	allowed = rbuf_u8(r);
	if (!rbuf_done(r) || allowed > 1 || !mon_sftp_allowed(m))
		return -1;
	if (audit_log(m->st, m->dec.acct.name, allowed ? "sftp.rename" : "sftp.refused",
		      "op=%s path=%s%s%s", audit_quote(op, q1, sizeof(q1)),
		      audit_quote(path, q2, sizeof(q2)), path2[0] ? " to=" : "",
		      path2[0] ? audit_quote(path2, q3, sizeof(q3)) : "") != 0)
		log_err("audit sftp note for %s failed", m->dec.acct.name);
	wbuf_put_u8(reply, 1);
	return 0;
}

static int
mon_answer_upload_begin(struct monitor *m, struct rbuf *r, struct wbuf *reply, int *fds, int *nfds)
{
	char name[256], why[256];
	struct mon_upload *u = NULL;
	int fd = -1, wfd;

	rbuf_str(r, name, sizeof(name));
	if (!rbuf_done(r))
		return -1;
	if (m->dec.acct.role != ROLE_ANALYST)
		return -1; /* the worker never offers /inbox to others */
	for (int i = 0; i < MON_MAX_UPLOADS; i++)
		if (!m->up[i].used) {
			u = &m->up[i];
			break;
		}
	if (u == NULL || mon_recheck(m, why, sizeof(why)) != 0 ||
	    airlock_upload_begin(m->st, &m->who, name, &fd, why, sizeof(why)) != 0) {
		wbuf_put_u8(reply, 0);
		return 0;
	}
	if ((wfd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		close(fd);
		wbuf_put_u8(reply, 0);
		return 0;
	}
	u->used = 1;
	u->fd = fd;
	u->token = ++m->next_token;
	snprintf(u->name, sizeof(u->name), "%s", name);
	fds[(*nfds)++] = wfd;
	wbuf_put_u8(reply, 1);
	wbuf_put_u64(reply, u->token);
	return 0;
}

static struct mon_upload *
mon_upload_find(struct monitor *m, uint64_t token)
{
	for (int i = 0; i < MON_MAX_UPLOADS; i++)
		if (m->up[i].used && m->up[i].token == token)
			return &m->up[i];
	return NULL;
}

static int
mon_answer_upload_commit(struct monitor *m, struct rbuf *r, struct wbuf *reply, int *fds, int *nfds)
{
	char name[256], reason[1024], sha256[65], why[256], msg[300];
	struct mon_upload *u;
	uint64_t token;

	token = rbuf_u64(r);
	rbuf_str(r, name, sizeof(name));
	rbuf_str(r, reason, sizeof(reason));
	rbuf_str(r, sha256, sizeof(sha256));
	if (!rbuf_done(r) || (u = mon_upload_find(m, token)) == NULL)
		return -1;
	/* Queued, or kept as a draft when nothing was declared (transfer/draft.h). */
	if (mon_recheck(m, why, sizeof(why)) == 0 &&
	    draft_upload_finish(m->st, m->cfg, &m->who, u->fd, name, reason, sha256, msg,
				sizeof(msg), why, sizeof(why)) == 0) {
		wbuf_put_u8(reply, 1);
	} else {
		snprintf(msg, sizeof(msg), "%s", why);
		wbuf_put_u8(reply, 0);
		(void)draft_note_refusal(m->st, &m->who, name, why);
	}
	/* msg names the import request, or the draft the upload became. */
	mon_audit_sftp(m, "sftp.upload", "commit", 0, name, msg);
	close(u->fd);
	u->used = 0;
	wbuf_put_str(reply, msg);
	return 0;
}

/* The worker gives no reason (a write past import_max_size, a failed or partial write, or the
 * channel gone); what arrived tells the analyst enough to act, in `airlock inbox`. */
static void
mon_note_aborted(struct monitor *m, const struct mon_upload *u)
{
	struct stat sb;
	char why[200];

	if (fstat(u->fd, &sb) < 0)
		return;
	snprintf(why, sizeof(why),
		 "upload not completed (%jd bytes arrived; uploads larger than import_max_size, "
		 "%llu bytes, are cut off); nothing was kept",
		 (intmax_t)sb.st_size, (unsigned long long)m->cfg->import_max_size);
	(void)draft_note_refusal(m->st, &m->who, u->name, why);
}

static int
mon_answer_upload_abort(struct monitor *m, struct rbuf *r, struct wbuf *reply, int *fds, int *nfds)
{
	struct mon_upload *u;
	uint64_t token;

	token = rbuf_u64(r);
	if (!rbuf_done(r) || (u = mon_upload_find(m, token)) == NULL)
		return -1;
	mon_note_aborted(m, u);
	/* The staging file is anonymous or swept by airlock_scan: closing drops it. */
	mon_audit_sftp(m, "sftp.upload", "abort", 0, "", "cut short");
	close(u->fd);
	u->used = 0;
	wbuf_put_u8(reply, 1);
	return 0;
}

/* ---- session budgets (policy/budget.h) ---- */

static int
mon_budget_audit(struct monitor *m, MDB_txn *txn, enum budget_dir dir, enum budget_event ev)
{
	char limit[32];

	if (ev == BUDGET_EV_NONE)
		return 0;
	format_size(budget_limit(m->cfg, dir), limit, sizeof(limit));
	return audit_append(m->st, txn, m->dec.acct.name, "session.budget",
			    "dir=%s level=%s limit=%s addr=%s",
			    dir == BUDGET_OUT ? "output" : "input",
			    ev == BUDGET_EV_WARN ? "80%" : "100%", limit, m->peer->text);
}

/* A new shell or exec channel is refused while either of today's budgets is spent (SPEC: until
 * the next UTC day). A store error refuses too. Returns 1 with the line to show in why, or 0. */
static int
mon_budget_spent(struct monitor *m, char *why, size_t whylen)
{
	struct budget_day b;
	MDB_txn *txn;
	int rc;

	if (m->dec.acct.role != ROLE_ANALYST)
		return 0;
	if ((rc = store_begin(m->st, 1, &txn)) == 0) {
		rc = budget_get(m->st, txn, m->dec.acct.name, budget_day_of((uint64_t)time(NULL)),
				&b);
		store_abort(txn);
	}
	if (rc != 0) {
		log_err_f("%s: budget of %s: %s", m->peer->text, m->dec.acct.name,
			  store_strerror(rc));
		why_set(why, whylen, "wsgate: the session budget cannot be read now; try later");
		return 1;
	}
	for (int dir = BUDGET_OUT; dir <= BUDGET_IN; dir++)
		if (budget_left(m->cfg, &b, dir) == 0) {
			budget_line(m->cfg, dir, why, whylen);
			return 1;
		}
	return 0;
}

/* The worker relays the bytes of shell and exec channels and asks here before each allowance;
 * only analysts' sessions reach work areas, so only theirs are counted (docs/gateway.md). A
 * store error grants nothing: the budget fails closed. */
static int
mon_answer_budget(struct monitor *m, struct rbuf *r, struct wbuf *reply, int *fds, int *nfds)
{
	enum budget_event ev = BUDGET_EV_NONE;
	uint64_t unused, want, granted = UINT64_MAX;
	char line[MON_MAX_SAY] = "";
	MDB_txn *txn = NULL;
	uint8_t dir;
	int rc;

	dir = rbuf_u8(r);
	unused = rbuf_u64(r);
	want = rbuf_u64(r);
	if (!rbuf_done(r) || dir > BUDGET_IN)
		return -1;
	if (want > 0 && mon_recheck(m, line, sizeof(line)) != 0) {
		/* A revoked login relays nothing more (its channels are being closed). */
		snprintf(line, sizeof(line), "wsgate: %s",
			 m->revoked ? m->revoked_why : "session cannot be checked now");
		granted = 0;
	} else if (m->dec.acct.role == ROLE_ANALYST) {
		if ((rc = store_begin(m->st, 0, &txn)) == 0) {
			rc = budget_take(m->st, txn, m->cfg, m->dec.acct.name, dir, unused, want,
					 (uint64_t)time(NULL), &granted, &ev);
			if (rc == 0)
				rc = mon_budget_audit(m, txn, dir, ev);
			if (rc == 0)
				rc = store_commit(txn);
			else
				store_abort(txn);
		}
		if (rc != 0) {
			log_err_f("%s: budget of %s: %s", m->peer->text, m->dec.acct.name,
				  store_strerror(rc));
			granted = 0;
		}
		if (granted < want)
			budget_line(m->cfg, dir, line, sizeof(line));
	}
	wbuf_put_u64(reply, granted);
	wbuf_put_str(reply, line);
	return 0;
}

static int
mon_answer_revoked(struct monitor *m, struct rbuf *r, struct wbuf *reply, int *fds, int *nfds)
{
	char why[256];

	if (!rbuf_done(r))
		return -1;
	(void)mon_recheck(m, why, sizeof(why));
	wbuf_put_u8(reply, (uint8_t)m->revoked);
	wbuf_put_str(reply, m->revoked ? m->revoked_why : "");
	return 0;
}

/* ---- the loop ---- */

/* Reads and answers one request. Returns 0, or -1 to end the connection. */
static int
mon_dispatch_one(struct monitor *m)
{
	static uint8_t buf[MON_MAX_MSG];
	const struct mon_entry *e;
	struct rbuf r;
	struct wbuf reply;
	int infds[MON_MAX_FDS], ninfds = 0, outfds[MON_MAX_FDS], noutfds = 0;
	size_t len;
	int type, rc;

	rc = mon_recv(m->sock, buf, sizeof(buf), &len, infds, &ninfds);
	if (rc != 0)
		return -1; /* worker gone or a malformed frame */
	for (int k = 0; k < ninfds; k++)
		close(infds[k]); /* the worker never passes descriptors to the monitor */
	rbuf_init(&r, buf, len);
	type = rbuf_u8(&r);
	if ((e = mon_entry_find(type)) == NULL) {
		log_err("%s: unknown monitor request %d", m->peer->text, type);
		return -1;
	}
	if (!(e->states & m->state) || ninfds != 0) {
		log_err("%s: monitor request %s not permitted now", m->peer->text, e->name);
		return -1;
	}
	wbuf_init(&reply);
	wbuf_put_u8(&reply, MON_REPLY);
	wbuf_put_u8(&reply, (uint8_t)type);
	rc = e->fn(m, &r, &reply, outfds, &noutfds);
	explicit_bzero(buf, len);
	if (rc == 0 && mon_send(m->sock, &reply, outfds, noutfds) != 0)
		rc = -1;
	for (int k = 0; k < noutfds; k++)
		close(outfds[k]); /* sent copies live on in the worker */
	wbuf_free(&reply);
	return rc;
}

/* While shutting down, answers what the worker may still ask as its channels close (a budget
 * given back); anything else, or a broken frame, closes the socket so the worker stops waiting. */
static void
mon_shutdown_wait(struct monitor *m, int ms)
{
	struct pollfd pfd = {m->sock, POLLIN, 0};

	if (m->sock < 0 || poll(&pfd, 1, ms) <= 0) {
		if (m->sock < 0)
			poll(NULL, 0, ms);
		return;
	}
	if (mon_dispatch_one(m) != 0) {
		close(m->sock);
		m->sock = -1;
	}
}

static void
mon_shutdown(struct monitor *m, int code)
{
	time_t until;
	int ws;

	m->state = ST_CLOSING; /* from here only the closing channels' requests are served */
	mon_spare_discard(m);
	for (int i = 0; i < MON_MAX_SESSIONS; i++)
		if (m->sess[i].used)
			mon_session_kill(&m->sess[i]);
	/* Let the worker send exit-signal and close each channel before it goes. */
	until = time(NULL) + 3;
	while (time(NULL) < until) {
		int busy = 0;

		mon_reap(m);
		for (int i = 0; i < MON_MAX_SESSIONS; i++) {
			mon_rec_pump(m, &m->sess[i]);
			busy |= m->sess[i].used;
		}
		if (!busy)
			break;
		mon_shutdown_wait(m, 20);
	}
	if (m->worker > 0) {
		kill(m->worker, SIGTERM);
		until = time(NULL) + 3;
		while (waitpid(m->worker, &ws, WNOHANG) == 0) {
			if (time(NULL) >= until) {
				kill(m->worker, SIGKILL);
				waitpid(m->worker, &ws, 0);
				break;
			}
			mon_shutdown_wait(m, 20);
		}
	}
	/* The worker is gone: what its pipes still hold is the end of each recording. */
	for (int i = 0; i < MON_MAX_SESSIONS; i++) {
		struct mon_session *s = &m->sess[i];

		/* Bounded: a descendant that still holds the write end must not hold us here. */
		for (int k = 0; k < 20 && s->used && s->rec.rd >= 0; k++) {
			struct pollfd p = {s->rec.rd, POLLIN, 0};

			if (poll(&p, 1, 100) > 0)
				(void)monitor_rec_pump(&s->rec);
		}
		if (s->used && s->rec.id)
			mon_session_audit_end(m, s);
	}
	for (int i = 0; i < MON_MAX_UPLOADS; i++)
		if (m->up[i].used)
			close(m->up[i].fd);
	for (int i = 0; i < MON_MAX_SESSIONS; i++)
		mon_airlock_close(&m->sess[i]);
	account_wipe(&m->dec.acct);
	if (m->reloaded != NULL)
		config_free(m->reloaded);
	if (m->st != NULL) {
		mon_sync(m);
		store_close(m->st);
	}
	_exit(code);
}

static int
mon_poll_ms(const struct monitor *m)
{
	int64_t due = m->sync_due, left;

	if (m->spare_due != 0 && (due == 0 || m->spare_due < due))
		due = m->spare_due;
	if (due == 0)
		return 250;
	left = due - mono_ms();
	return left <= 0 ? 0 : left < 250 ? (int)left : 250;
}

static void
mon_loop(struct monitor *m)
{
	struct pollfd pfd[2 + 4 * MON_MAX_SESSIONS];
	struct mon_session *map[2 + 4 * MON_MAX_SESSIONS];

	for (;;) {
		int n = 0, ws;

		if (selfpipe_caught(SIGTERM) || selfpipe_caught(SIGINT))
			mon_shutdown(m, 0);
		if (selfpipe_caught(SIGHUP))
			mon_reload(m);
		if (m->state != ST_AUTHED && mono_ms() / 1000 > m->deadline) {
			log_info("%s: login grace time over", m->peer->text);
			mon_shutdown(m, 0);
		}
		pfd[n].fd = m->sock;
		pfd[n].events = POLLIN;
		map[n++] = NULL;
		pfd[n].fd = selfpipe_fd();
		pfd[n].events = POLLIN;
		map[n++] = NULL;
		for (int i = 0; i < MON_MAX_SESSIONS; i++) {
			struct mon_session *s = &m->sess[i];

			if (!s->used)
				continue;
			if (s->airlock_fd >= 0) {
				pfd[n].fd = s->airlock_fd;
				pfd[n].events = POLLIN;
				map[n++] = s;
			}
			if (s->is_sandbox && !s->ended && s->proc.status_fd >= 0) {
				/* init's 'S': the command ended (served by mon_reap). */
				pfd[n].fd = s->proc.status_fd;
				pfd[n].events = POLLIN;
				map[n++] = s;
			}
			if (s->rec.rd >= 0) {
				pfd[n].fd = s->rec.rd;
				pfd[n].events = POLLIN;
				map[n++] = s;
			}
			if (s->status_wr >= 0) {
				/* POLLERR here: the worker closed its end, the channel is gone. */
				pfd[n].fd = s->status_wr;
				pfd[n].events = 0;
				map[n++] = s;
			}
		}
		/* A quarter second: re-checks every MON_RECHECK_MS and the revocation deadlines
		 * are served from here; an fsync that is due, sooner. */
		if (poll(pfd, n, mon_poll_ms(m)) < 0 && errno != EINTR)
			fatal_errno("monitor poll");
		if (m->sync_due != 0 && mono_ms() >= m->sync_due)
			mon_sync(m);
		if (m->spare_due != 0 && mono_ms() >= m->spare_due) {
			m->spare_due = 0;
			mon_spare_build(m);
		}
		if (pfd[1].revents & POLLIN)
			selfpipe_drain();
		if (waitpid(m->worker, &ws, WNOHANG) == m->worker) {
			m->worker = -1;
			mon_shutdown(m, 0);
		}
		mon_reap(m);
		for (int i = 2; i < n; i++) {
			struct mon_session *s = map[i];

			if (!s->used || pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == s->airlock_fd && (pfd[i].revents & POLLIN))
				mon_airlock_serve(m, s);
			else if (pfd[i].fd == s->rec.rd)
				mon_rec_pump(m, s);
			else if (pfd[i].fd == s->status_wr &&
				 (pfd[i].revents & (POLLERR | POLLHUP))) {
				close(s->status_wr);
				s->status_wr = -1;
				mon_session_kill(s);
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (mon_dispatch_one(m) != 0)
				mon_shutdown(m, 0);
		}
		mon_revoke_timers(m);
	}
}

void
monitor_run(const struct config *cfg, const char *exe_dir, int client_fd,
	    const struct gw_peer *peer)
{
	static const int mon_signals[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP};
	struct monitor *m;
	char why[256];
	int sp[2];
	pid_t pid;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		fatal_f("out of memory");
	m->cfg = cfg;
	m->exe_dir = exe_dir;
	m->peer = peer;
	m->state = ST_PREAUTH;
	m->deadline = mono_ms() / 1000 + (time_t)cfg->login_grace_time + 2;
	m->recheck_ms = MON_RECHECK_MS;
	m->next_recheck = INT64_MAX; /* the first re-check is scheduled at login */
	m->spare.proc.pid = -1;
	m->spare.airlock_fd = -1;
#ifdef WSGATE_TEST_HOOKS
	if (getenv("WSGATE_TEST_RECHECK_MS") != NULL)
		m->recheck_ms = atoi(getenv("WSGATE_TEST_RECHECK_MS")); /* 0: at requests only */
#endif
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0)
		fatal_errno_f("socketpair");
	pid = fork();
	if (pid < 0)
		fatal_errno_f("fork");
	if (pid == 0) {
		close(sp[0]);
		slots_close_report();
		worker_run(cfg, client_fd, sp[1], peer);
	}
	close(sp[1]);
	close(client_fd);
	m->sock = sp[0];
	m->worker = pid;
	/* The store is opened only now, after the worker's fork: an LMDB environment must not
	 * cross fork(), and the worker must never hold one. */
	if (store_open(cfg->state_dir, 0, &m->st, why, sizeof(why)) != 0) {
		log_err("%s: store: %s", peer->text, why);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		_exit(1);
	}
	/* The listener checked the witness at start-up; if it broke since, syslog still hears. */
	if (audit_attach(m->st, cfg->audit_witness, why, sizeof(why)) != 0) {
		log_err("%s: %s", peer->text, why);
		(void)audit_attach(m->st, NULL, why, sizeof(why));
	}
	audit_set_context("", "", "", peer->text);
	if (selfpipe_init(mon_signals, nitems(mon_signals)) != 0)
		fatal_errno_f("signals");
	signal(SIGPIPE, SIG_IGN);
	{
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	mon_loop(m);
	_exit(0);
}
