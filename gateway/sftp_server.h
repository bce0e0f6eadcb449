/*
 * A small non-blocking SFTP v3 server engine (draft-ietf-secsh-filexfer-02) over a virtual tree:
 *   /outbox/<id>/<name>   released exports of the session's project, read-only
 *   /inbox/               analysts only, write-only: each finished upload becomes one import
 * It runs in the unprivileged network worker: it never touches the file system itself; every
 * file comes as an fd from the backend (the privileged monitor). Bytes in, bytes out: the caller
 * feeds channel data and drains output, so one SFTP channel never blocks its siblings.
 */
#ifndef WSGATE_SFTP_SERVER_H
#define WSGATE_SFTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A released export as the backend lists it: /outbox/<id>/<name>. */
struct sftp_outbox_entry {
	uint64_t id;
	char name[256];
	uint64_t size;
	uint64_t mtime;
};

struct sftp_backend {
	void *arg;
	int allow_inbox;      /* analysts: 1; stats users: 0 */
	int require_checksum; /* [airlock] import_require_checksum: no upload without NAME.sha256 */
	int (*outbox_list)(void *arg, int (*fn)(const struct sftp_outbox_entry *e, void *fnarg),
			   void *fnarg);
	/* Returns a read-only fd of a released export whose hash was verified, or <0. */
	int (*outbox_open)(void *arg, uint64_t id, const char *name, int *fd, uint64_t *size);
	/* Returns a writable staging fd and a token for a new upload of name, or <0. */
	int (*upload_begin)(void *arg, const char *name, int *fd, uint64_t *token);
	/* The upload is complete: queue it if it hashes to sha256 (64 hex digits declared by the
	 * uploader, or "" for none). msg gets "import request N" or why it was refused. */
	int (*upload_commit)(void *arg, uint64_t token, const char *name, const char *reason,
			     const char *sha256, char *msg, size_t msglen);
	void (*upload_abort)(void *arg, uint64_t token);
	/* [airlock] import_max_size: a write past it fails the upload at once; 0 = no limit. */
	uint64_t import_max_size;
	/* Optional (may be NULL): an operation that changes names, told to the audit log as the
	 * engine decided it (op "remove", "rmdir", "mkdir", "rename"; path2 "" unless a rename). */
	void (*note)(void *arg, const char *op, const char *path, const char *path2, int allowed);
	/* The engine owns every fd these return and closes it; an upload's fd is closed before
	 * upload_commit or upload_abort, so the backend must hold its own reference. */
};

struct sftp_srv;

struct sftp_srv *sftp_srv_new(const struct sftp_backend *be);
/* Feeds bytes from the channel. Returns how many were consumed (fewer than len when output is
 * backed up: call again after draining), or <0 on a protocol violation (close the channel). */
ssize_t sftp_srv_input(struct sftp_srv *s, const void *data, size_t len);
/* Output waiting for the channel; mark what was written with sftp_srv_output_done. */
const void *sftp_srv_output(struct sftp_srv *s, size_t *len);
void sftp_srv_output_done(struct sftp_srv *s, size_t n);
/* Frees everything; unfinished uploads are aborted, never queued. */
void sftp_srv_free(struct sftp_srv *s);

#endif
