/*
 * Framing between the `airlock` client (inside a sandbox) and the gateway (airlock_server.c).
 * One request per connection on a SOCK_STREAM unix socket:
 *   request:  u32 length (big-endian, 1..AIRLOCK_MAX_FRAME) + payload
 *             payload = u8 AIRLOCK_PROTO_VERSION, u8 op, then per op (common/codec.h):
 *               AIRLOCK_OP_EXPORT:   str path (absolute, as seen in the sandbox), str reason
 *                                    [, u64 replaces (0 = none)]
 *                 the reply's text is the acknowledgement, then the check report; a refusal
 *                 for failing the checks (export_block_on_fail) carries the report too
 *               AIRLOCK_OP_STATUS:   u64 id (0 = all requests of the project)
 *               AIRLOCK_OP_WITHDRAW: u64 id
 *               AIRLOCK_OP_INBOX:    nothing (the caller's import drafts)
 *               AIRLOCK_OP_SUBMIT:   str name (a draft's), str reason ("" = the draft's)
 *   reply:    u32 length + payload = u8 version, u32 status (AIRLOCK_ST_*), str text
 * The client sends no identity: the server knows who it serves from the socket it listens on.
 */
#ifndef WSGATE_AIRLOCK_PROTO_H
#define WSGATE_AIRLOCK_PROTO_H

#define AIRLOCK_PROTO_VERSION 1
#define AIRLOCK_MAX_FRAME 65536u
#define AIRLOCK_MAX_PATH 4096
#define AIRLOCK_MAX_REASON 1024
#define AIRLOCK_IO_TIMEOUT_MS 5000
#define AIRLOCK_DEFAULT_SOCKET "/run/wsgate/airlock.sock"

enum airlock_op {
	AIRLOCK_OP_EXPORT = 1,
	AIRLOCK_OP_STATUS = 2,
	AIRLOCK_OP_WITHDRAW = 3,
	AIRLOCK_OP_INBOX = 4,
	AIRLOCK_OP_SUBMIT = 5,
};

enum airlock_status {
	AIRLOCK_ST_OK = 0,	/* text: what was done */
	AIRLOCK_ST_REFUSED = 1, /* text: one line, why */
	AIRLOCK_ST_BADREQ = 2,	/* malformed request */
};

#endif
