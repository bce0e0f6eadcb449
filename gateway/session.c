/*
 * Session channels in the worker: requests (pty, env, shell, exec, subsystem), the relay between
 * a channel and the fds the monitor passed (pipes or a pty master), and the SFTP engine. Nothing
 * here blocks: output is read only as far as the peer's window allows, client input waits in a
 * bounded buffer (and in libssh, which then stops growing our window) until the child takes it.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/envname.h"
#include "common/log.h"
#include "common/monotime.h"
#include "gateway/recorder.h"
#include "gateway/sftp_server.h"
#include "gateway/worker.h"
#include "policy/role.h"

#define SESSION_IB_CAP (256 * 1024)
#define SESSION_OB_CAP 65536
/* Data in one full SSH packet as libssh cuts it (the peer's maximum packet size less 10) for the
 * 32768 that OpenSSH, libssh and Go clients announce for a session channel. A command's output
 * comes in 32 or 64 KiB reads, which cut that way end in a packet of 10 or 20 bytes: half of all
 * packets, each a send, a wake-up and a decryption for the client. While output streams, the
 * last part of a packet is held back for the next read (docs/gateway.md "Sessions"). */
#define SESSION_PACKET_DATA (32768 - 10)
/* ...but no longer than this once the command stops writing. */
#define SESSION_TAIL_MS 2
/* libssh keeps channel data the client sent past the window it announced (channel_rcv_data:
 * "accept it anyway") and hands everything it keeps to session_data. Its window is at most
 * 1280000 bytes, so more than this held means the client ignored the window: with a command
 * that does not read, it could otherwise grow the worker's memory without end
 * (tests/gateway/test_window.py). */
#define SESSION_HELD_MAX (4u << 20)
#define SESSION_MAX_ENV 16
#define SESSION_MAX_WORDS 64

struct wchan {
	struct worker *w;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;
	int kind; /* 0 until a shell, exec or subsystem request started it */
	int want_pty;
	char term[64];
	uint32_t cols, rows;
	char *env[SESSION_MAX_ENV];
	int nenv;
	/* relay */
	int in_fd, out_fd, err_fd, status_fd; /* with a pty: in_fd == out_fd == master */
	int reg_out, reg_err, reg_in, reg_status;
	int out_eof, err_eof, have_status, wstatus;
	uint8_t *ib;
	size_t ib_len;
	int in_stalled, client_eof, in_closed;
	/* output libssh did not take (it writes nothing while a key re-exchange runs) */
	uint8_t *ob;
	size_t ob_len;
	int ob_err;
	/* stdout read but not yet written: the start of a packet the next read may fill */
	uint8_t tail[SESSION_PACKET_DATA];
	size_t tail_len;
	int64_t tail_due; /* mono_ms() */
	/* sftp */
	struct sftp_srv *sftp;
	struct sftp_backend be;
	int peer_closed;
	int finished;
	/* A refused start's line for the user (MON_MAX_SAY), shown on stderr once, then exit 1 */
	char say[MON_MAX_SAY];
	/* daily budgets: bytes this channel may still relay each way (SESSION_OUT, SESSION_IN) */
	int budgeted; /* shell and exec channels; SFTP is the airlock's, not counted */
	uint64_t allow[2];
	int budget_spent;
	int revoke; /* the login was revoked: say why on stderr and close (session_revoked) */
	struct recorder rec; /* [audit] record: what passed, each way, as it passed */
	uint64_t rec_id;     /* its id, for MON_SESSION_BYTES */
};

enum { SESSION_OUT, SESSION_IN }; /* as the monitor's budget directions */

static int session_write(struct wchan *c, const uint8_t *p, size_t n, int is_err);
static void session_release_tail(struct wchan *c);
/* Allowances asked of the monitor at a time: each is one LMDB transaction there. */
static const uint64_t session_budget_chunk[2] = {1 << 20, 64 << 10};

/* ---- the SFTP engine's backend: the monitor, through monitor_wrap.c ---- */

struct session_list_ctx {
	int (*fn)(const struct sftp_outbox_entry *e, void *fnarg);
	void *fnarg;
};

static int
session_list_one(const struct mm_outbox_entry *m, void *arg)
{
	struct session_list_ctx *lc = arg;
	struct sftp_outbox_entry e;

	memset(&e, 0, sizeof(e));
	e.id = m->id;
	snprintf(e.name, sizeof(e.name), "%s", m->name);
	e.size = m->size;
	e.mtime = m->mtime;
	return lc->fn(&e, lc->fnarg);
}

static int
session_be_outbox_list(void *arg, int (*fn)(const struct sftp_outbox_entry *e, void *fnarg),
		       void *fnarg)
{
	struct wchan *c = arg;
	struct session_list_ctx lc = {fn, fnarg};

	return mm_outbox_list(c->w->mon, session_list_one, &lc);
}

static int
session_be_outbox_open(void *arg, uint64_t id, const char *name, int *fd, uint64_t *size)
{
	struct wchan *c = arg;

	return mm_outbox_open(c->w->mon, id, name, fd, size);
}

static int
session_be_upload_begin(void *arg, const char *name, int *fd, uint64_t *token)
{
	struct wchan *c = arg;

	return mm_upload_begin(c->w->mon, name, fd, token);
}

static int
session_be_upload_commit(void *arg, uint64_t token, const char *name, const char *reason,
			 const char *sha256, char *msg, size_t msglen)
{
	struct wchan *c = arg;

	return mm_upload_commit(c->w->mon, token, name, reason, sha256, msg, msglen);
}

static void
session_be_upload_abort(void *arg, uint64_t token)
{
	struct wchan *c = arg;

	mm_upload_abort(c->w->mon, token);
}

static void
session_be_note(void *arg, const char *op, const char *path, const char *path2, int allowed)
{
	struct wchan *c = arg;

	mm_sftp_note(c->w->mon, op, path, path2, allowed);
}

/* ---- starting a session ---- */

/* Splits an admin command into words without a shell: blanks separate, '...' is literal, "..."
 * allows \" and \\, a backslash outside quotes escapes the next byte. */
static int
session_split(const char *cmd, char words[][1024], int max)
{
	int n = 0;
	const char *p = cmd;

	for (;;) {
		size_t k = 0;
		int any = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return n;
		if (n >= max)
			return -1;
		while (*p != '\0' && *p != ' ' && *p != '\t') {
			char ch;

			any = 1;
			if (*p == '\'') {
				for (p++; *p != '\'' && *p != '\0'; p++) {
					if (k + 1 >= 1024)
						return -1;
					words[n][k++] = *p;
				}
				if (*p++ != '\'')
					return -1;
				continue;
			}
			if (*p == '"') {
				for (p++; *p != '"' && *p != '\0'; p++) {
					if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
						p++;
					if (k + 1 >= 1024)
						return -1;
					words[n][k++] = *p;
				}
				if (*p++ != '"')
					return -1;
				continue;
			}
			if (*p == '\\' && p[1] != '\0')
				p++;
			ch = *p++;
			if (k + 1 >= 1024)
				return -1;
			words[n][k++] = ch;
		}
		if (any)
			words[n++][k] = '\0';
	}
}

static void
session_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void
session_start_sftp(struct wchan *c)
{
	c->be.arg = c;
	c->be.allow_inbox = c->w->who.role == ROLE_ANALYST;
	/* An upload without NAME.sha256 is not refused at OPEN any more: the monitor keeps it as
	 * a draft (transfer/draft.h) when import_require_checksum is on. */
	c->be.require_checksum = 0;
	c->be.import_max_size = c->w->cfg->import_max_size;
	c->be.outbox_list = session_be_outbox_list;
	c->be.outbox_open = session_be_outbox_open;
	c->be.upload_begin = session_be_upload_begin;
	c->be.upload_commit = session_be_upload_commit;
	c->be.note = session_be_note;
	c->be.upload_abort = session_be_upload_abort;
	c->sftp = sftp_srv_new(&c->be);
}

/* Asks the monitor to start the channel's session: a sandbox (shell, exec), wsgatectl (admin)
 * or nothing (sftp, served here). A refusal that comes with a line for the user is accepted as
 * a request and then shown: the line on stderr, exit status 1 (OpenSSH's ssh prints nothing
 * useful for a refused request). */
static int
session_start(struct wchan *c, int kind, const char *command)
{
	static char words[SESSION_MAX_WORDS][1024];
	const char *wordv[SESSION_MAX_WORDS], *envv[SESSION_MAX_ENV + 1];
	struct mm_session_request rq;
	struct mm_session_fds fds;
	char term_env[80];
	int nwords = 0, has_term = 0;

	if (c->kind != 0)
		return -1; /* one start per channel (RFC 4254 6.5) */
	/* Words that do not split are no admin command: asking with none gets the refusal line. */
	if (kind == MON_SK_ADMIN && (nwords = session_split(command, words, SESSION_MAX_WORDS)) < 0)
		nwords = 0;
	for (int i = 0; i < nwords; i++)
		wordv[i] = words[i];
	for (int i = 0; i < c->nenv; i++) {
		envv[i] = c->env[i];
		has_term |= strncmp(c->env[i], "TERM=", 5) == 0;
	}
	memset(&rq, 0, sizeof(rq));
	rq.kind = kind;
	rq.command = kind == MON_SK_EXEC ? command : "";
	rq.words = wordv;
	rq.nwords = nwords;
	rq.use_pty = c->want_pty;
	rq.term = c->term;
	rq.cols = c->cols;
	rq.rows = c->rows;
	rq.env = envv;
	rq.nenv = c->nenv;
	/* The pty's terminal type is the session's TERM unless the client sent one itself. */
	if (c->want_pty && !has_term && c->term[0]) {
		snprintf(term_env, sizeof(term_env), "TERM=%s", c->term);
		envv[rq.nenv++] = term_env;
	}
	if (mm_session_start(c->w->mon, &rq, &fds, c->say, sizeof(c->say)) != 0) {
		if (c->say[0] == '\0')
			return -1;
		c->kind = kind;
		c->out_eof = c->err_eof = 1;
		c->have_status = 1;
		c->wstatus = 1 << 8; /* exit status 1, as a wait status */
		return 0;
	}
	c->kind = kind;
	c->budgeted = kind == MON_SK_SHELL || kind == MON_SK_EXEC;
	if (kind == MON_SK_SFTP) {
		session_start_sftp(c);
		return c->sftp != NULL ? 0 : -1;
	}
	c->in_fd = fds.in;
	c->out_fd = fds.out;
	c->err_fd = fds.err;
	c->status_fd = fds.status;
	recorder_start(&c->rec, fds.rec);
	c->rec_id = fds.rec_id;
	if (c->err_fd < 0)
		c->err_eof = 1; /* a pty has one stream for both */
	session_nonblock(c->in_fd);
	session_nonblock(c->out_fd);
	session_nonblock(c->status_fd); /* a stale readiness must not block the loop */
	if (c->err_fd >= 0)
		session_nonblock(c->err_fd);
	return 0;
}

/* ---- channel request callbacks (0 = accepted) ---- */

static int
session_pty(ssh_session ss, ssh_channel ch, const char *term, int cols, int rows, int pxw, int pxh,
	    void *ud)
{
	struct wchan *c = ud;

	if (c->w->who.role != ROLE_ANALYST || c->kind != 0 || term == NULL || strlen(term) >= 64 ||
	    cols < 0 || rows < 0 || cols > 10000 || rows > 10000)
		return 1;
	for (const char *p = term; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_'))
			return 1;
	snprintf(c->term, sizeof(c->term), "%s", term);
	c->cols = (uint32_t)cols;
	c->rows = (uint32_t)rows;
	c->want_pty = 1;
	return 0;
}

static int
session_winch(ssh_session ss, ssh_channel ch, int cols, int rows, int pxw, int pxh, void *ud)
{
	struct wchan *c = ud;
	struct winsize ws;

	if (!c->want_pty || cols < 0 || rows < 0 || cols > 10000 || rows > 10000)
		return 1;
	c->cols = (uint32_t)cols;
	c->rows = (uint32_t)rows;
	if (c->kind == 0 || c->in_fd < 0)
		return 0;
	memset(&ws, 0, sizeof(ws));
	ws.ws_col = (unsigned short)cols;
	ws.ws_row = (unsigned short)rows;
	return ioctl(c->in_fd, TIOCSWINSZ, &ws) == 0 ? 0 : 1;
}

/* Only LANG, LC_* and TERM (SPEC "Login"); the monitor checks again. */
static int
session_env(ssh_session ss, ssh_channel ch, const char *name, const char *value, void *ud)
{
	struct wchan *c = ud;
	char kv[512];

	if (c->kind != 0 || name == NULL || value == NULL || c->nenv >= SESSION_MAX_ENV)
		return 1;
	if (!envname_allowed(name, strlen(name)) ||
	    snprintf(kv, sizeof(kv), "%s=%s", name, value) >= (int)sizeof(kv) ||
	    !envname_pair_allowed(kv))
		return 1;
	if ((c->env[c->nenv] = strdup(kv)) == NULL)
		return 1;
	c->nenv++;
	return 0;
}

/* Shell, exec and sftp requests all go to the monitor, whatever the role: it decides, and its
 * refusal carries the line saying what the role may do (one table, in monitor.c). */
static int
session_shell(ssh_session ss, ssh_channel ch, void *ud)
{
	struct wchan *c = ud;

	return session_start(c, MON_SK_SHELL, NULL) == 0 ? 0 : 1;
}

static int
session_exec(ssh_session ss, ssh_channel ch, const char *command, void *ud)
{
	struct wchan *c = ud;

	if (command == NULL || strlen(command) >= 8000)
		return 1;
	/* An admin's command runs wsgatectl, split into words here (no shell); only analysts get a
	 * pty (session_pty), so an admin's never has one. */
	if (c->w->who.role == ROLE_ADMIN && !c->want_pty)
		return session_start(c, MON_SK_ADMIN, command) == 0 ? 0 : 1;
	return session_start(c, MON_SK_EXEC, command) == 0 ? 0 : 1;
}

static int
session_subsystem(ssh_session ss, ssh_channel ch, const char *sub, void *ud)
{
	struct wchan *c = ud;

	if (sub == NULL || strcmp(sub, "sftp") != 0 || c->want_pty)
		return 1;
	return session_start(c, MON_SK_SFTP, NULL) == 0 ? 0 : 1;
}

/* ---- daily budgets ---- */

/* The budget of this account is spent: one line on stderr, then the channel ends with exit
 * status 1 (session_reconcile_one finishes it; freeing it tells the monitor to end the
 * sandbox). */
static void
session_budget_spent(struct wchan *c, const char *line)
{
	char msg[MON_MAX_SAY + 2];
	int n;

	if (c->budget_spent)
		return;
	c->budget_spent = 1;
	n = snprintf(msg, sizeof(msg), "%s%s", line[0] ? line : "wsgate: daily budget reached",
		     c->want_pty ? "\r\n" : "\n");
	session_release_tail(c); /* what the budget let pass goes first */
	if (n > 0 && c->ob_len == 0)
		(void)session_write(c, (const uint8_t *)msg, (size_t)n, 1);
	c->out_eof = c->err_eof = 1;
	c->have_status = 1;
	c->wstatus = 1 << 8; /* exit status 1 */
}

/* How many of want bytes dir may move now: the allowance left, topped up from the monitor when
 * it runs out. 0 means the budget is spent (and the channel is being ended). */
static size_t
session_budget_cap(struct wchan *c, int dir, size_t want)
{
	char line[MON_MAX_SAY] = "";

	if (!c->budgeted)
		return want;
	if (c->budget_spent)
		return 0;
	if (c->allow[dir] < want && c->allow[dir] != UINT64_MAX) {
		uint64_t ask = session_budget_chunk[dir] > want ? session_budget_chunk[dir] : want;
		uint64_t got = mm_budget(c->w->mon, dir, 0, ask, line, sizeof(line));

		c->allow[dir] = got == UINT64_MAX || c->allow[dir] > UINT64_MAX - got
				    ? UINT64_MAX
				    : c->allow[dir] + got;
		if (c->allow[dir] == 0) {
			session_budget_spent(c, line);
			return 0;
		}
	}
	return c->allow[dir] < want ? (size_t)c->allow[dir] : want;
}

static void
session_budget_used(struct wchan *c, int dir, size_t n)
{
	if (c->budgeted && c->allow[dir] != UINT64_MAX)
		c->allow[dir] -= n < c->allow[dir] ? n : c->allow[dir];
}

/* What a finished channel did not use goes back to the account's balance, before the client
 * learns that the channel ended (its next command may need it). */
static void
session_budget_return(struct wchan *c)
{
	char line[MON_MAX_SAY];

	if (c->w->exiting)
		return; /* the monitor may be gone already; the allowance is lost, not overdrawn */
	for (int dir = SESSION_OUT; c->budgeted && dir <= SESSION_IN; dir++) {
		if (c->allow[dir] > 0 && c->allow[dir] != UINT64_MAX)
			(void)mm_budget(c->w->mon, dir, c->allow[dir], 0, line, sizeof(line));
		c->allow[dir] = 0;
	}
	c->budgeted = 0;
}

/* ---- data ---- */

/* Writes client input to the command; returns how much of it is done with (written, or dropped
 * because the command closed its input), 0 if the pipe is full. */
static size_t
session_to_child(struct wchan *c, const uint8_t *p, size_t len)
{
	ssize_t n;

	if (c->in_fd < 0 || c->in_closed)
		return len; /* nobody reads: discard */
	n = write(c->in_fd, p, len);
	if (n >= 0)
		return (size_t)n;
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	/* The child closed its input: what the client still sends goes nowhere. */
	c->in_closed = 1;
	return len;
}

static void
session_drain_input(struct wchan *c)
{
	ssize_t n;

	if (c->ib_len == 0)
		return;
	if (c->sftp != NULL) {
		if (c->w->in_write)
			return;
		n = sftp_srv_input(c->sftp, c->ib, c->ib_len);
		if (n < 0) {
			/* A protocol violation ends this channel only. */
			c->client_eof = 1;
			c->ib_len = 0;
			c->in_stalled = 0;
			return;
		}
	} else {
		n = (ssize_t)session_to_child(c, c->ib, c->ib_len);
	}
	memmove(c->ib, c->ib + n, c->ib_len - (size_t)n);
	c->ib_len -= (size_t)n;
}

static int
session_data(ssh_session ss, ssh_channel ch, void *data, uint32_t len, int is_stderr, void *ud)
{
	struct wchan *c = ud;
	size_t room, n, sent;

	if (is_stderr || c->kind == 0)
		return (int)len;
	if (len > SESSION_HELD_MAX && !c->w->hostile) {
		log_warn("worker: %s sent past the channel window (%u bytes held); closing the "
			 "connection", c->w->login, len);
		c->w->hostile = 1;
		return 0;
	}
	c->w->last_activity = worker_clock();
	room = SESSION_IB_CAP - c->ib_len;
	n = len < room ? len : room;
	/* Past the input budget the client's bytes go nowhere. (With the buffer full, n is 0 and
	 * the rest waits in libssh as before: in_stalled below.) */
	if (n > 0 && c->budgeted && (n = session_budget_cap(c, SESSION_IN, n)) == 0)
		return c->budget_spent ? (int)len : 0;
	session_budget_used(c, SESSION_IN, n);
	if (recorder_event(&c->rec, 'i', data, n) < 0)
		c->out_eof = c->err_eof = c->client_eof = 1; /* no recording, no session */
	/* With nothing queued before them the bytes go straight to the command (bulk input
	 * without a copy); what the pipe does not take waits in c->ib. */
	sent = c->ib_len == 0 && c->sftp == NULL ? session_to_child(c, data, n) : 0;
	memcpy(c->ib + c->ib_len, (const uint8_t *)data + sent, n - sent);
	c->ib_len += n - sent;
	if (n < len)
		c->in_stalled = 1; /* libssh keeps the rest and stops opening our window */
	session_drain_input(c);
	return (int)n;
}

static void
session_eof(ssh_session ss, ssh_channel ch, void *ud)
{
	struct wchan *c = ud;

	c->client_eof = 1;
}

static void
session_close_cb(ssh_session ss, ssh_channel ch, void *ud)
{
	struct wchan *c = ud;

	c->peer_closed = 1;
}

/* Writes to the channel what fits; keeps the rest in c->ob. Returns 0, or -1 if the channel
 * is broken. */
static int
session_write(struct wchan *c, const uint8_t *p, size_t n, int is_err)
{
	int w;

	c->w->in_write = 1;
	w = is_err ? ssh_channel_write_stderr(c->ch, p, (uint32_t)n)
		   : ssh_channel_write(c->ch, p, (uint32_t)n);
	c->w->in_write = 0;
	if (w < 0)
		return -1;
	c->w->last_activity = worker_clock();
	if ((size_t)w < n) {
		if (c->ob == NULL && (c->ob = malloc(SESSION_OB_CAP)) == NULL)
			return -1;
		memmove(c->ob, p + w, n - (size_t)w);
		c->ob_len = n - (size_t)w;
		c->ob_err = is_err;
	}
	return 0;
}

static void
session_flush_pending(struct wchan *c)
{
	uint8_t tmp[SESSION_OB_CAP];
	size_t n = c->ob_len, win = ssh_channel_window_size(c->ch);

	if (n == 0 || win == 0)
		return;
	if (n > win)
		n = win;
	memcpy(tmp, c->ob, c->ob_len);
	c->ob_len -= n;
	memmove(c->ob, tmp + n, c->ob_len);
	/* session_write puts back what libssh did not take, in front of the rest. */
	{
		size_t rest = c->ob_len;
		uint8_t tail[SESSION_OB_CAP];

		memcpy(tail, c->ob, rest);
		c->ob_len = 0;
		if (session_write(c, tmp, n, c->ob_err) != 0) {
			c->out_eof = c->err_eof = 1;
			return;
		}
		memcpy(c->ob + c->ob_len, tail, rest);
		c->ob_len += rest;
	}
}

/* Stdout in whole packets while it streams: the part of a last packet waits in c->tail for the
 * next read, or SESSION_TAIL_MS (session_reconcile_one). Output of up to one packet goes at
 * once, so a prompt or a line never waits. p holds the old tail, then what was just read. */
static int
session_write_stdout(struct wchan *c, const uint8_t *p, size_t total)
{
	size_t hold = total > SESSION_PACKET_DATA ? total % SESSION_PACKET_DATA : 0;

	c->tail_len = 0;
	if (session_write(c, p, total - hold, 0) != 0)
		return -1;
	if (hold == 0)
		return 0;
	if (c->ob_len > 0) {
		/* libssh took less (a closed window): the rest queues behind what it left */
		memcpy(c->ob + c->ob_len, p + total - hold, hold);
		c->ob_len += hold;
		return 0;
	}
	memcpy(c->tail, p + total - hold, hold);
	c->tail_len = hold;
	c->tail_due = mono_ms() + SESSION_TAIL_MS;
	return 0;
}

/* Sends the held part of a packet now (the command stopped writing, wrote to stderr, ended). */
static void
session_release_tail(struct wchan *c)
{
	size_t n = c->tail_len;

	if (n == 0)
		return;
	c->tail_len = 0;
	if (c->ob_len + n > SESSION_OB_CAP || (c->ob_len > 0 && c->ob_err)) {
		/* cannot happen: every write to stderr releases the tail first */
		c->out_eof = c->err_eof = 1;
	} else if (c->ob_len > 0) {
		memcpy(c->ob + c->ob_len, c->tail, n);
		c->ob_len += n;
	} else if (session_write(c, c->tail, n, 0) != 0) {
		c->out_eof = c->err_eof = 1;
	}
}

static int
session_fd_out(socket_t fd, int revents, void *ud)
{
	static uint8_t buf[SESSION_OB_CAP];
	struct wchan *c = ud;
	uint32_t win;
	size_t cap, head;
	ssize_t n;
	int is_err = fd == c->err_fd;

	win = ssh_channel_window_size(c->ch);
	/* in_write: libssh runs the event loop from inside ssh_channel_write (flush, waiting out
	 * a key re-exchange); reading more here would overtake, or overwrite, the output of the
	 * write in progress. The fd stays readable and is served on the next pass. */
	if (win == 0 || c->ob_len > 0 || c->w->in_write)
		return 0;
	if (is_err)
		session_release_tail(c); /* what stdout printed first goes first */
	if (c->ob_len > 0)
		return 0;
	head = is_err ? 0 : c->tail_len; /* the held tail goes in front of what is read */
	cap = sizeof(buf) - head;
	cap = win < cap ? win : cap;
	/* Without an allowance only one byte is read, and the monitor is asked only if one came:
	 * an end of file needs no allowance (and the monitor may be shutting down then). */
	if (c->budgeted && c->budget_spent)
		return 0;
	if (c->budgeted && c->allow[SESSION_OUT] != UINT64_MAX)
		cap = c->allow[SESSION_OUT]
			  ? (cap < c->allow[SESSION_OUT] ? cap : (size_t)c->allow[SESSION_OUT])
			  : 1;
	n = read(fd, buf + head, cap);
	if (n > 0) {
		memcpy(buf, c->tail, head);
		if (session_budget_cap(c, SESSION_OUT, (size_t)n) < (size_t)n)
			return 0; /* the budget is spent: the byte goes nowhere, the channel ends */
		session_budget_used(c, SESSION_OUT, (size_t)n);
		/* Recorded as it leaves: exactly what the budget let pass (SPEC "The terminal is a
		 * display"). */
		if (recorder_event(&c->rec, 'o', buf + head, (size_t)n) < 0 ||
		    (is_err ? session_write(c, buf, (size_t)n, 1)
			    : session_write_stdout(c, buf, head + (size_t)n)) != 0)
			c->out_eof = c->err_eof = 1; /* the channel is gone: stop reading */
		return 0;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (!is_err)
		session_release_tail(c);
	/* 0 = end of a pipe; EIO = every slave of the pty closed. */
	if (is_err)
		c->err_eof = 1;
	else
		c->out_eof = 1;
	return 0;
}

static int
session_fd_in(socket_t fd, int revents, void *ud)
{
	session_drain_input(ud);
	return 0;
}

static int
session_fd_status(socket_t fd, int revents, void *ud)
{
	struct wchan *c = ud;
	int rc;

	/* libssh may hand us a readiness it already delivered (its loop re-enters itself from
	 * inside callbacks): a second read would see EOF and turn an exit status into a kill. */
	if (c->have_status)
		return 0;
	rc = mm_status_read(fd, &c->wstatus);
	if (rc == 1)
		return 0;
	c->have_status = 1;
	if (rc < 0)
		c->wstatus = SIGKILL; /* the monitor went away: report a kill */
	return 0;
}

/* ---- channel life cycle ---- */

ssh_channel
session_open(ssh_session ss, void *ud)
{
	struct worker *w = ud;
	struct wchan *c;
	int slot = -1;

	if (w->state != WS_AUTHED)
		return NULL;
	for (int i = 0; i < WORKER_MAX_CHANNELS; i++)
		if (w->chans[i] == NULL) {
			slot = i;
			break;
		}
	if (slot < 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->ib = malloc(SESSION_IB_CAP)) == NULL || (c->ch = ssh_channel_new(ss)) == NULL) {
		free(c->ib);
		free(c);
		return NULL;
	}
	c->w = w;
	c->in_fd = c->out_fd = c->err_fd = c->status_fd = -1;
	c->rec.fd = -1;
	c->cb.userdata = c;
	c->cb.channel_data_function = session_data;
	c->cb.channel_eof_function = session_eof;
	c->cb.channel_close_function = session_close_cb;
	c->cb.channel_pty_request_function = session_pty;
	c->cb.channel_pty_window_change_function = session_winch;
	c->cb.channel_env_request_function = session_env;
	c->cb.channel_shell_request_function = session_shell;
	c->cb.channel_exec_request_function = session_exec;
	c->cb.channel_subsystem_request_function = session_subsystem;
	/* Agent and X11 stay unset: libssh refuses them only then (see notes, "Auto-accepting"). */
	ssh_callbacks_init(&c->cb);
	ssh_set_channel_callbacks(c->ch, &c->cb);
	w->chans[slot] = c;
	w->last_activity = worker_clock();
	return c->ch;
}

static void
session_reg(struct wchan *c, int fd, int *reg, int want, short events, ssh_event_callback fn)
{
	if (fd < 0 || *reg == want)
		return;
	if (want)
		ssh_event_add_fd(c->w->ev, fd, events, fn, c);
	else
		ssh_event_remove_fd(c->w->ev, fd);
	*reg = want;
}

static void
session_free(struct worker *w, int slot)
{
	struct wchan *c = w->chans[slot];

	session_budget_return(c);

	session_reg(c, c->out_fd, &c->reg_out, 0, 0, NULL);
	session_reg(c, c->err_fd, &c->reg_err, 0, 0, NULL);
	if (c->in_fd != c->out_fd)
		session_reg(c, c->in_fd, &c->reg_in, 0, 0, NULL);
	session_reg(c, c->status_fd, &c->reg_status, 0, 0, NULL);
	/* Closing the status fd tells the monitor to end whatever still runs. */
	if (c->status_fd >= 0)
		close(c->status_fd);
	if (c->in_fd >= 0 && c->in_fd != c->out_fd && !c->in_closed)
		close(c->in_fd);
	if (c->out_fd >= 0)
		close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	/* The totals first, then the end of the recording: the monitor writes session.end with both
	 * once it sees the pipe's end. */
	if (c->rec.fd >= 0 && c->rec_id != 0)
		mm_session_bytes(c->w->mon, c->rec_id, c->rec.bytes[0], c->rec.bytes[1]);
	recorder_close(&c->rec); /* the monitor then closes the file and hashes it */
	if (c->sftp != NULL)
		sftp_srv_free(c->sftp);
	for (int i = 0; i < c->nenv; i++)
		free(c->env[i]);
	ssh_remove_channel_callbacks(c->ch, &c->cb);
	if (!c->peer_closed && ssh_channel_is_open(c->ch))
		ssh_channel_close(c->ch);
	ssh_channel_free(c->ch);
	explicit_bzero(c->ib, SESSION_IB_CAP);
	explicit_bzero(c->tail, sizeof(c->tail));
	free(c->ib);
	free(c->ob);
	free(c);
	w->chans[slot] = NULL;
}

/* Holds back (on) or sends (off) what libssh writes meanwhile as full segments. A failure only
 * costs the batching. */
static void
session_cork(struct wchan *c, int on)
{
	int fd = ssh_get_fd(c->w->ss);

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
}

/*
 * The command ended and all its output went out: report how, then close (RFC 4254 6.10). The
 * three messages leave in one segment, as sshd writes them: libssh sends each packet at once,
 * and the client woke (and took the CPU) for each, 0.3 ms per `ssh host true` on 2 cores.
 */
static void
session_finish(struct wchan *c)
{
	session_budget_return(c);
	session_cork(c, 1);
	if (WIFSIGNALED(c->wstatus)) {
		const char *sig = sigabbrev_np(WTERMSIG(c->wstatus));

		ssh_channel_request_send_exit_signal(c->ch, sig != NULL ? sig : "KILL",
						     WCOREDUMP(c->wstatus) ? 1 : 0, "", "");
	} else {
		ssh_channel_request_send_exit_status(c->ch, WEXITSTATUS(c->wstatus));
	}
	ssh_channel_send_eof(c->ch);
	ssh_channel_close(c->ch);
	session_cork(c, 0);
	c->finished = 1;
}

static void
session_pull_stalled(struct wchan *c)
{
	int avail;

	if (!c->in_stalled || c->ib_len > SESSION_IB_CAP / 2)
		return;
	avail = ssh_channel_poll(c->ch, 0);
	if (avail <= 0) {
		c->in_stalled = 0;
		return;
	}
	if ((size_t)avail > SESSION_IB_CAP - c->ib_len)
		avail = (int)(SESSION_IB_CAP - c->ib_len);
	if ((avail = (int)session_budget_cap(c, SESSION_IN, (size_t)avail)) == 0)
		return;
	avail = ssh_channel_read_nonblocking(c->ch, c->ib + c->ib_len, (uint32_t)avail, 0);
	if (avail > 0) {
		session_budget_used(c, SESSION_IN, (size_t)avail);
		if (recorder_event(&c->rec, 'i', c->ib + c->ib_len, (size_t)avail) < 0)
			c->out_eof = c->err_eof = c->client_eof = 1;
		c->ib_len += (size_t)avail;
		session_drain_input(c);
	}
}

static void
session_sftp_output(struct wchan *c)
{
	const void *p;
	size_t len;
	uint32_t win;
	int n;

	session_drain_input(c);
	while ((p = sftp_srv_output(c->sftp, &len)) != NULL && len > 0) {
		win = ssh_channel_window_size(c->ch);
		if (win == 0)
			return;
		if (len > win)
			len = win;
		if (len > 256 * 1024)
			len = 256 * 1024; /* libssh splits it into packets; one flush per call */
		c->w->in_write = 1;
		n = ssh_channel_write(c->ch, p, (uint32_t)len);
		c->w->in_write = 0;
		if (n <= 0)
			return;
		sftp_srv_output_done(c->sftp, (size_t)n);
		c->w->last_activity = worker_clock();
		session_drain_input(c);
	}
}

/* ---- revocation (SPEC "Revocation") ---- */

/* One `wsgate: ` line on the channel's stderr, then the channel ends; session_free then closes
 * the status pipe, which kills the session in the monitor if it has not already. */
/* The revocation's line as this channel's client wants it; returns its length. */
static size_t
session_revoked_line(const struct wchan *c, char *line, size_t cap)
{
	int n = snprintf(line, cap, "wsgate: %s%s", c->w->revoked, c->want_pty ? "\r\n" : "\n");

	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

static void
session_revoke_one(struct wchan *c)
{
	char line[300];
	size_t n = session_revoked_line(c, line, sizeof(line));

	c->w->in_write = 1;
	(void)ssh_channel_write_stderr(c->ch, line, (uint32_t)n);
	ssh_channel_request_send_exit_status(c->ch, 1);
	ssh_channel_send_eof(c->ch);
	ssh_channel_close(c->ch);
	c->w->in_write = 0;
	c->revoke = 0;
	c->finished = 1;
}

/* The same for a channel that relays a command: the line goes through session_write, after what
 * is already held back for the client (a write into a closed window is not lost), and the
 * channel then ends as any other, with exit status 1. What the command still prints is dropped. */
static void
session_revoke_line(struct wchan *c)
{
	char line[300];
	size_t n = session_revoked_line(c, line, sizeof(line));

	c->revoke = 0;
	if (session_write(c, (const uint8_t *)line, n, 1) != 0)
		c->ob_len = 0; /* the channel is broken: end it without the line */
	c->out_eof = c->err_eof = 1;
	c->have_status = 1;
	c->wstatus = 1 << 8; /* exit status 1 */
}

int
session_revoked(struct worker *w)
{
	char why[256];

	if (w->revoked[0] == '\0') {
		if (!mm_revoked(w->mon, why, sizeof(why)))
			return 0;
		snprintf(w->revoked, sizeof(w->revoked), "%s", why[0] ? why : "session revoked");
	}
	for (int i = 0; i < WORKER_MAX_CHANNELS; i++)
		if (w->chans[i] != NULL && !w->chans[i]->finished)
			w->chans[i]->revoke = 1;
	return 1;
}

static void
session_reconcile_one(struct worker *w, int slot)
{
	struct wchan *c = w->chans[slot];
	int open_win;

	if (c->peer_closed || c->finished || !ssh_channel_is_open(c->ch)) {
		session_free(w, slot);
		return;
	}
	if (c->revoke && (c->kind == 0 || c->sftp != NULL)) {
		session_revoke_one(c);
		return;
	}
	if (c->kind == 0)
		return;
	if (c->tail_len > 0 && (c->revoke || c->out_eof || c->budget_spent ||
				mono_ms() >= c->tail_due))
		session_release_tail(c);
	if (c->revoke) {
		session_flush_pending(c);
		if (c->ob_len == 0)
			session_revoke_line(c); /* else after what is held back has gone */
	}
	if (c->say[0] != '\0') {
		char line[MON_MAX_SAY + 2];
		/* A pty's client has its terminal in raw mode: it needs the carriage return. */
		int n = snprintf(line, sizeof(line), "%s%s", c->say, c->want_pty ? "\r\n" : "\n");

		c->say[0] = '\0';
		if (n < 0 || session_write(c, (const uint8_t *)line, (size_t)n, 1) != 0)
			c->ob_len = 0; /* the channel is broken: finish without the line */
	}
	session_pull_stalled(c);
	if (c->sftp != NULL) {
		session_sftp_output(c);
		if (c->client_eof && c->ib_len == 0 && !c->in_stalled) {
			/* Clients treat a channel closed without an exit status as a failure
			 * (ssh exits 255, scp 1 after a good transfer), as sshd sends one. */
			ssh_channel_request_send_exit_status(c->ch, 0);
			ssh_channel_send_eof(c->ch);
			ssh_channel_close(c->ch);
			c->finished = 1;
		}
		return;
	}
	session_flush_pending(c);
	open_win = ssh_channel_window_size(c->ch) > 0 && c->ob_len == 0;
	session_reg(c, c->out_fd, &c->reg_out, !c->out_eof && open_win, POLLIN, session_fd_out);
	session_reg(c, c->err_fd, &c->reg_err, !c->err_eof && open_win, POLLIN, session_fd_out);
	if (c->in_fd != c->out_fd)
		session_reg(c, c->in_fd, &c->reg_in, c->ib_len > 0 && !c->in_closed, POLLOUT,
			    session_fd_in);
	else
		session_drain_input(c); /* one fd for both ways: retry typed input each pass */
	session_reg(c, c->status_fd, &c->reg_status, !c->have_status, POLLIN, session_fd_status);
	/* The client's EOF reaches a pipe child as the end of its input; a pty has no such
	 * thing without hanging up the terminal, so it is left open. */
	if (c->client_eof && c->ib_len == 0 && !c->in_stalled && !c->in_closed &&
	    c->in_fd != c->out_fd && c->in_fd >= 0) {
		session_reg(c, c->in_fd, &c->reg_in, 0, 0, NULL);
		close(c->in_fd);
		c->in_fd = -1;
		c->in_closed = 1;
	}
	if (c->have_status && c->out_eof && c->err_eof && c->ob_len == 0) {
		/* The monitor kills a revoked login's sessions a second after it wakes us; under
		 * load the kill can come first. Ask, so the channel still ends with the line. */
		if (WIFSIGNALED(c->wstatus) && WTERMSIG(c->wstatus) == SIGKILL && !c->w->exiting &&
		    session_revoked(c->w)) {
			session_revoke_line(c); /* ends in a later pass, once the line is out */
			return;
		}
		session_finish(c);
	}
}

/* Work that no fd event will announce; a peer that stopped reading (window 0) or a child that
 * stopped reading (input buffer full) is not pending: an event announces the change. */
static int
session_pending(struct wchan *c)
{
	int win = ssh_channel_window_size(c->ch) > 0;
	size_t len = 0;

	if (c->finished || c->say[0] != '\0' || c->revoke)
		return 1;
	if (c->have_status && c->out_eof && c->err_eof && c->ob_len == 0)
		return 1; /* ready to finish */
	if ((c->ob_len > 0 && win) || c->tail_len > 0)
		return 1;
	if (c->in_stalled && c->ib_len <= SESSION_IB_CAP / 2)
		return 1;
	if (c->sftp != NULL && sftp_srv_output(c->sftp, &len) != NULL && len > 0 && win)
		return 1;
	return c->in_fd >= 0 && c->in_fd == c->out_fd && c->ib_len > 0;
}

int
session_reconcile(struct worker *w)
{
	int pending = 0;

	for (int i = 0; i < WORKER_MAX_CHANNELS; i++) {
		struct wchan *c = w->chans[i];

		if (c == NULL)
			continue;
		session_reconcile_one(w, i);
		/* Channels finished in this pass are freed in the next one. */
		if ((c = w->chans[i]) != NULL && session_pending(c))
			pending = 1;
	}
	return pending;
}

int
session_busy(struct worker *w)
{
	for (int i = 0; i < WORKER_MAX_CHANNELS; i++) {
		struct wchan *c = w->chans[i];

		if (c != NULL && (c->kind == MON_SK_EXEC || c->kind == MON_SK_ADMIN) &&
		    !c->have_status)
			return 1;
	}
	return 0;
}

int
session_count(struct worker *w)
{
	int n = 0;

	for (int i = 0; i < WORKER_MAX_CHANNELS; i++)
		n += w->chans[i] != NULL;
	return n;
}

void
session_close_all(struct worker *w)
{
	for (int i = 0; i < WORKER_MAX_CHANNELS; i++)
		if (w->chans[i] != NULL) {
			struct wchan *c = w->chans[i];

			if (c->have_status && !c->finished && ssh_channel_is_open(c->ch))
				session_finish(c);
			session_free(w, i);
		}
}
