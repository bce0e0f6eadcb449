/*
 * The import-upload policy of the SFTP engine. Internal: only gateway/sftp_server.c (the
 * protocol and the virtual tree) and gateway/sftp_upload.c (this policy) include it.
 *
 * The engine decides that a request is a write to /inbox/NAME; this module decides what that
 * upload is and when it becomes an import request (docs/sftp.md, "Uploads"):
 *   - sidecars: NAME.reason (the import's reason) and NAME.sha256 (its declared SHA-256) are
 *     not imports; each is kept for the next upload of NAME in this SFTP session;
 *   - complete writes: only a file written from byte 0 to its end, with no hole and no failed
 *     write, is handed to the airlock at CLOSE, so an interrupted upload is never queued;
 *   - NAME.filepart (WinSCP, lftp) is held at CLOSE and queued by its RENAME to NAME.
 * Every request is answered with a status code and a message; the engine sends them.
 */
#ifndef WSGATE_SFTP_UPLOAD_H
#define WSGATE_SFTP_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/sftp_server.h"

/* Per SFTP session: sidecars waiting for their upload, held NAME.fileparts, the last queued. */
struct sftp_upload_ctx;
/* One open upload handle: a file to import, or a sidecar being written. */
struct sftp_upload;

/* A STATUS reply (code from sftp_proto.h) for the engine to send. */
struct sftp_answer {
	uint32_t code;
	char msg[512];
};

/* What an OPEN of /inbox/NAME for writing starts; filled by sftp_upload_plan and read only by
 * sftp_upload_start. Two steps so that the engine takes its handle slot in between, as it
 * always has: a name or checksum refusal comes before "too many open handles", and the
 * backend's upload_begin only once a handle is there. */
struct sftp_upload_plan {
	char target[256]; /* NAME: without .filepart, and for a sidecar without its suffix */
	int sidecar;	  /* which sidecar NAME is, or -1: a file to import */
	int filepart;	  /* NAME.filepart: held at CLOSE until renamed to NAME */
	char sha256[65];  /* the SHA-256 declared for NAME, or "" */
};

/* be is the engine's and outlives the context. NULL if out of memory. */
struct sftp_upload_ctx *sftp_upload_ctx_new(const struct sftp_backend *be);
/* Aborts every held NAME.filepart (never renamed: never queued) and frees ctx. */
void sftp_upload_ctx_free(struct sftp_upload_ctx *ctx);

/* name is a valid file name in /inbox. Returns 0 with plan filled, or -1 with the refusal. */
int sftp_upload_plan(struct sftp_upload_ctx *ctx, const char *name, struct sftp_upload_plan *plan,
		     struct sftp_answer *ans);
/* Starts the planned upload (the backend's upload_begin for a file); NULL with the refusal. */
struct sftp_upload *sftp_upload_start(struct sftp_upload_ctx *ctx,
				      const struct sftp_upload_plan *plan, struct sftp_answer *ans);
/* WRITE: records the byte range and stores the data; ans is OK, or the refusal (the upload is
 * then spoilt: it will not be queued). */
void sftp_upload_write(struct sftp_upload *up, uint64_t off, const uint8_t *p, size_t n,
		       struct sftp_answer *ans);
/* The end of the furthest byte written so far (FSTAT's size). */
uint64_t sftp_upload_size(const struct sftp_upload *up);
/* NAME, the file in /inbox this upload is for (a sidecar: the file it describes). */
const char *sftp_upload_name(const struct sftp_upload *up);
/* CLOSE: queues a complete file, holds a complete NAME.filepart, keeps a valid sidecar, aborts
 * anything else. Frees up; ans says what happened. */
void sftp_upload_close(struct sftp_upload_ctx *ctx, struct sftp_upload *up,
		       struct sftp_answer *ans);
/* The handle goes without a CLOSE (the channel ended): an upload is aborted, never queued. */
void sftp_upload_discard(struct sftp_upload_ctx *ctx, struct sftp_upload *up);
/* RENAME of /inbox/from to /inbox/to. -1 if it is not NAME.filepart -> NAME (the engine
 * refuses it); otherwise 0, and ans says whether the held upload was queued. */
int sftp_upload_rename(struct sftp_upload_ctx *ctx, const char *from, const char *to,
		       struct sftp_answer *ans);
/* 1 if name is what this session queued last: its SETSTAT (WinSCP sets the time after its
 * rename) is a harmless no-op. */
int sftp_upload_just_queued(const struct sftp_upload_ctx *ctx, const char *name);

#endif
