/*
 * Messages between the unprivileged network worker and the privileged per-connection monitor.
 * One SOCK_SEQPACKET datagram per message: u32 length, then the payload (common/codec.h
 * encoding) whose first byte is the type; at most MON_MAX_FDS descriptors ride along with
 * SCM_RIGHTS. The monitor answers each request with exactly one MON_REPLY. Which request is
 * permitted in which authentication state is the table in monitor.c.
 */
#ifndef WSGATE_MONITOR_PROTO_H
#define WSGATE_MONITOR_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "common/codec.h"

#define MON_MAX_MSG 65536 /* payload bytes, type included */
#define MON_MAX_FDS 4

enum mon_type {
	MON_AUTH_PASSWORD = 1, /* str login, str password -> u8 ok */
	MON_AUTH_PUBKEY,       /* str login, str "type base64" (signature verified) -> u8 ok */
	MON_AUTH_TOTP,	       /* str code -> u8 ok, u8 role, str user, str project, str area */
	MON_SESSION_START,     /* see session_start in worker.c -> u8 ok + fds */
	MON_OUTBOX_LIST,       /* -> u8 ok, u32 n, n * (u64 id, str name, u64 size, u64 mtime) */
	MON_OUTBOX_OPEN,       /* u64 id, str name -> u8 ok, u64 size + fd */
	MON_UPLOAD_BEGIN,      /* str name -> u8 ok, u64 token + fd */
	MON_UPLOAD_COMMIT,     /* u64 token, str name, str reason, str sha256 -> u8 ok, str message */
	MON_UPLOAD_ABORT,      /* u64 token -> u8 ok */
	MON_TYPE_MAX,
	MON_REPLY = 100 /* u8 request type, then the request's answer */
};

enum mon_session_kind { MON_SK_SHELL = 1, MON_SK_EXEC, MON_SK_SFTP, MON_SK_ADMIN };

/* Sends b (payload, type first) with nfds descriptors. Returns 0 or -1. */
int mon_send(int sock, const struct wbuf *b, const int *fds, int nfds);
/* Receives one message into buf (cap >= MON_MAX_MSG). Returns 0, 1 at EOF, -1 on any malformed
 * frame (length mismatch, truncation, too many fds); received fds are closed on error. */
int mon_recv(int sock, uint8_t *buf, size_t cap, size_t *len, int *fds, int *nfds);
const char *mon_type_name(int type);

#endif
