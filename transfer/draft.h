/*
 * Import drafts (SPEC "The airlock": imports and drafts). A complete upload to /inbox/NAME that
 * no NAME.sha256 declared is not queued: it is kept as a draft of its uploader, with its size
 * and SHA-256, until the uploader checks them against their own copy and runs `airlock submit
 * NAME` in a session, or until [airlock] import_draft_ttl passes. So an upload cut short (sftp's
 * Ctrl-C still closes the file, which then looks complete) never becomes an import request
 * without the analyst having been shown what arrived.
 *
 * Records: DB_DRAFTS, key project NUL user NUL name (a new upload of NAME replaces the draft).
 * Bytes: state_dir/drafts/<draft id>, 0400 root, written and fsynced before the record;
 * expiry and submission remove them; the start-up scan removes files no record names.
 * Privileged side only (monitor, wsgatectl), like the rest of transfer/.
 */
#ifndef WSGATE_DRAFT_H
#define WSGATE_DRAFT_H

#include <stddef.h>
#include <stdint.h>

#include "common/store.h"
#include "policy/config.h"
#include "transfer/airlock.h"

struct draft {
	char project[NAME_MAX_LEN + 1];
	char user[64];
	char name[256];
	char area[NAME_MAX_LEN + 1];
	uint64_t draft_id; /* the file drafts/<draft_id> */
	uint64_t size;
	uint8_t sha256[32];
	uint64_t created;
	char reason[1024];
};

/*
 * The end of an SFTP upload (the monitor's UPLOAD_COMMIT): with a declared SHA-256, or with
 * import_require_checksum = no, it is queued at once (airlock_upload_commit); otherwise it
 * becomes a draft. msg gets the line for the SFTP client ("queued as import request 7",
 * "kept as draft ..."). Returns 0, or -1 with why.
 */
int draft_upload_finish(struct store *st, const struct config *cfg, const struct airlock_actor *who,
			int fd, const char *name, const char *reason, const char *sha256, char *msg,
			size_t msglen, char *why, size_t whylen);

/* `airlock inbox`: the actor's drafts in its project, one line each, into out. 0 or -1. */
int draft_inbox(struct store *st, const struct config *cfg, const struct airlock_actor *who,
		char *out, size_t outlen, char *why, size_t whylen);

/* `airlock submit NAME [--reason TEXT]`: queues the actor's draft NAME (its bytes re-hashed
 * against the draft's SHA-256) and removes the draft in the same transaction. A reason given
 * here replaces the draft's. msg: the request id, size and SHA-256. 0 or -1 with why. */
int draft_submit(struct store *st, const struct config *cfg, const struct airlock_actor *who,
		 const char *name, const char *reason, uint64_t *id, char *msg, size_t msglen,
		 char *why, size_t whylen);

/* Removes every draft older than import_draft_ttl at now, records and bytes; *n counts them.
 * Every draft operation runs it first. 0 or -1 with why. */
int draft_expire(struct store *st, const struct config *cfg, uint64_t now, unsigned *n, char *why,
		 size_t whylen);

/* All drafts, for `wsgatectl transfer drafts`; fn returns 0 to go on. 0, fn's value or <0. */
int draft_foreach(struct store *st, int (*fn)(const struct draft *d, void *arg), void *arg);

/*
 * OpenSSH's sftp shows an upload's refusal only as "Failure" or "Permission denied" (it prints
 * the status code's text, not the server's message): so a refused or interrupted upload is
 * also noted for its uploader, and `airlock inbox` shows the note ("refused NAME at TIME: why")
 * until import_draft_ttl passes or a draft of NAME replaces it. 0 or <0.
 */
int draft_note_refusal(struct store *st, const struct airlock_actor *who, const char *name,
		       const char *why);

/* Start-up scan: removes files in drafts/ that no record names (a crash between the bytes and
 * the record). Call with the quarantine lock held exclusively. 0 or -1. */
int draft_sweep_orphans(struct store *st, unsigned long *removed);

#endif
