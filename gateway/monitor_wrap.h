/*
 * The worker's half of the monitor protocol (gateway/monitor_proto.h): one function per message,
 * each the mirror of mon_answer_<message>() in monitor.c. Every call sends one request and
 * checks the whole reply; a monitor that is gone, or that answers anything but a well-formed
 * reply to that request, ends the worker at once (it holds nothing worth saving), so callers
 * only ever see "accepted" or "refused".
 */
#ifndef WSGATE_MONITOR_WRAP_H
#define WSGATE_MONITOR_WRAP_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/monitor_proto.h"

/* Who logged in, as the monitor decided it at the TOTP step. */
struct mm_login {
	int role; /* enum role */
	char user[64];
	char project[64];
	char area[64];
};

/* First factor. Returns 1 if accepted, 0 if refused. */
int mm_auth_password(int mon, const char *login, const char *password);
int mm_auth_pubkey(int mon, const char *login, const char *pubkey_line);
/* Second factor for the login that passed the first. Returns 1 and fills who, or 0. */
int mm_auth_totp(int mon, const char *code, struct mm_login *who);

struct mm_session_request {
	int kind;		  /* enum mon_session_kind */
	const char *command;	  /* exec: the command line as the client sent it */
	const char *const *words; /* admin: the command split into words */
	int nwords;
	int use_pty;
	const char *term;
	uint32_t cols, rows;
	const char *const *env; /* "NAME=value"; only LANG, LC_* and TERM pass the monitor */
	int nenv;
};

/* What an accepted start hands over (see monitor_proto.h); absent ones are -1. With a pty,
 * in == out == the pty master. */
struct mm_session_fds {
	int in, out, err, status;
	int rec;	 /* the recording pipe's write end, or -1 (monitor_proto.h) */
	uint64_t rec_id; /* its recording id, or 0 */
};

/* Returns 0 and the descriptors, or -1 if the session is refused; msg then holds the line the
 * monitor wants shown to the user ("wsgate: ..."), or "" for a plain refusal. */
int mm_session_start(int mon, const struct mm_session_request *rq, struct mm_session_fds *fds,
		     char *msg, size_t msglen);

/* One released export of the session's project, as /outbox lists it. */
struct mm_outbox_entry {
	uint64_t id;
	char name[256];
	uint64_t size;
	uint64_t mtime;
};

/* Calls fn for each entry until it returns non-zero. Returns 0, or -1 if the monitor refused. */
int mm_outbox_list(int mon, int (*fn)(const struct mm_outbox_entry *e, void *arg), void *arg);
/* A read-only fd of a released export whose hash the monitor verified. Returns 0 or -1. */
int mm_outbox_open(int mon, uint64_t id, const char *name, int *fd, uint64_t *size);
/* A writable staging fd for a new upload to /inbox and the token naming it. Returns 0 or -1. */
int mm_upload_begin(int mon, const char *name, int *fd, uint64_t *token);
/* Queues the finished upload; msg gets "import request N" or why not. Returns 0 or -1. */
int mm_upload_commit(int mon, uint64_t token, const char *name, const char *reason,
		     const char *sha256, char *msg, size_t msglen);
void mm_upload_abort(int mon, uint64_t token);
/* A recorded channel's byte totals, sent before its recording pipe is closed. */
void mm_session_bytes(int mon, uint64_t rec_id, uint64_t out, uint64_t in);
/* Tells the audit log about an SFTP operation that changes names (sftp_server.h note). */
void mm_sftp_note(int mon, const char *op, const char *path, const char *path2, int allowed);

/* Gives back `unused` bytes of an earlier allowance of dir (0 output, 1 input) and asks for up to
 * `want` more. Returns what was granted (UINT64_MAX: no budget); when it is less than want,
 * line holds the one line to show ("wsgate: daily output budget (50M) reached"). */
uint64_t mm_budget(int mon, int dir, uint64_t unused, uint64_t want, char *line, size_t linelen);
/* Was this connection's login revoked? Returns 1 with why (the reason, for the `wsgate: `
 * line), or 0. */
int mm_revoked(int mon, char *why, size_t whylen);

/* Reads the wait status the monitor writes on a session's status pipe. Returns 0 with
 * *wstatus set, 1 if nothing is there yet (non-blocking fd), or -1 when the pipe ended without
 * one (the monitor is gone). */
int mm_status_read(int status_fd, int *wstatus);

#ifdef WSGATE_TEST_HOOKS
/* Plays a compromised worker (WSGATE_TEST_EVIL_WORKER=preauth-session|totp-first|unknown|
 * trailing): sends what a real worker never would and exits 0 if the monitor hangs up, 3 if
 * it answered. Returns if the variable is not set. */
void mm_test_evil(int mon);
#endif

#endif
