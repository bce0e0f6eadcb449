/*
 * The monitor protocol: the one contract between the unprivileged network worker and the
 * privileged per-connection monitor (OpenSSH's monitor.c / monitor_wrap.c split).
 *
 * Two halves mirror each other, one function per message on each side:
 *   worker side  gateway/monitor_wrap.c  mm_<message>(): encode the request, send it, receive
 *                the reply, check it completely (type, length, trailing bytes, descriptors),
 *                decode it. Nothing else in the worker builds or parses a message.
 *   monitor side gateway/monitor.c       mon_answer_<message>(): served from mon_dispatch, the
 *                closed table that also names each message, says in which authentication state
 *                it is permitted, and why serving it there is safe.
 *
 * Framing (monitor_proto.c): one SOCK_SEQPACKET datagram per message: u32 length, then the
 * payload (common/codec.h encoding) whose first byte is the type; at most MON_MAX_FDS descriptors
 * ride along with SCM_RIGHTS, only from the monitor to the worker. Each request gets exactly one
 * reply: u8 MON_REPLY, u8 the request's type, then the answer below.
 */
#ifndef WSGATE_MONITOR_PROTO_H
#define WSGATE_MONITOR_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "common/codec.h"

#define MON_MAX_MSG 65536 /* payload bytes, type included */
#define MON_MAX_FDS 5

/* clang-format off */
enum mon_type {
	MON_AUTH_PASSWORD = 1, /* str login, str password                  -> u8 ok */
	MON_AUTH_PUBKEY,       /* str login, str "type base64" (verified)  -> u8 ok */
	MON_AUTH_TOTP,         /* str code                                 -> u8 ok [u8 role, str user, str project, str area] */
	MON_SESSION_START,     /* u8 kind, str command, u32 n, n * str word, u8 pty, str term,
	                        * u32 cols, u32 rows, u32 n, n * str env   -> u8 1, u64 recording + fds (below), or
	                        *                                             u8 0, str say (below) */
	MON_OUTBOX_LIST,       /* (nothing)                                -> u8 ok, u32 n, n * (u64 id, str name, u64 size, u64 mtime) */
	MON_OUTBOX_OPEN,       /* u64 id, str name                         -> u8 ok [u64 size + 1 fd] */
	MON_UPLOAD_BEGIN,      /* str name                                 -> u8 ok [u64 token + 1 fd] */
	MON_UPLOAD_COMMIT,     /* u64 token, str name, str reason, str sha256 -> u8 ok, str message */
	MON_UPLOAD_ABORT,      /* u64 token                                -> u8 ok */
	MON_BUDGET,            /* u8 dir (0 out, 1 in), u64 unused, u64 want -> u64 granted, str line */
	MON_REVOKED,           /* (nothing)                                -> u8 revoked, str why (SPEC "Revocation") */
	MON_SFTP_NOTE,         /* str op, str path, str path2, u8 allowed  -> u8 1 (an SFTP name change, for the audit log) */
	MON_SESSION_BYTES,     /* u64 recording, u64 out, u64 in           -> u8 known (a recorded channel's totals) */
	MON_TYPE_MAX,
	MON_REPLY = 100
};
/* clang-format on */

/*
 * MON_SESSION_START's kinds and the descriptors an accepted start carries, in this order:
 *   shell/exec with a pty: pty master, status
 *   exec without a pty, admin: stdin, stdout, stderr, status
 *   sftp: none (the SFTP engine runs in the worker)
 * An accepted start's reply is u8 1, u64 recording: the recording's id, or 0. With an id, one
 * more descriptor comes last: the write end of the recording pipe ([audit] record;
 * common/recording.h), where the worker writes asciicast event lines of what it relays. Before
 * closing that pipe the worker sends MON_SESSION_BYTES with the bytes it relayed each way, for
 * session.end (as trusted as the recording itself: both are the worker's account).
 * The status descriptor is a pipe: the monitor writes the process's wait status there once, as
 * MON_STATUS_LEN bytes (u32 big-endian); the worker closing its end means "end the session".
 */
enum mon_session_kind { MON_SK_SHELL = 1, MON_SK_EXEC, MON_SK_SFTP, MON_SK_ADMIN };
#define MON_STATUS_LEN 4

/*
 * A refused MON_SESSION_START carries `say`: the one line the user is shown, on the channel's
 * stderr with exit status 1 (a bare protocol refusal shows nothing useful in OpenSSH's ssh), or ""
 * for a plain refusal. It starts with "wsgate: " and has fewer than MON_MAX_SAY bytes; the
 * monitor chooses the words (SPEC "The terminal is a display", "Roles"), the worker only shows
 * them.
 */
#define MON_MAX_SAY 256

/*
 * Revocation: the monitor re-checks the login (auth_still_allowed) before each request and every
 * half second. When it no longer holds, the monitor sends the worker SIGUSR1 (the one message
 * that does not wait for a request); the worker then asks MON_REVOKED and closes every channel
 * with one `wsgate: <why>` line. A MON_SESSION_START refused because the login was revoked carries
 * that line as its `say`, so a new channel on a revoked connection shows it too.
 */

/* Sends b (payload, type first) with nfds descriptors. Returns 0 or -1. */
int mon_send(int sock, const struct wbuf *b, const int *fds, int nfds);
/* Receives one message into buf (cap >= MON_MAX_MSG). Returns 0, 1 at EOF, -1 on any malformed
 * frame (length mismatch, truncation, too many fds); received fds are closed on error. */
int mon_recv(int sock, uint8_t *buf, size_t cap, size_t *len, int *fds, int *nfds);

#endif
