/*
 * The airlock: one approval queue in LMDB (DB_REQUESTS) for every file that enters or leaves a
 * work area (SPEC "The airlock"). This is the privileged side: it runs in wsgatectl and in the
 * gateway's monitor, never in a process that parses network bytes. It takes names (project,
 * area, request id), never host paths from a client, and resolves them itself beneath state_dir.
 *
 * Layout under state_dir:
 *   projects/<project>/<area>/   work areas (imports land in <area>/imports/)
 *   blobs/sha256/<hh>/<hash>     quarantine store, content-addressed, read-only files
 *   staging/                     uploads and snapshots being written (removed by the start-up scan)
 *   drafts/<draft id>            uploads without a declared SHA-256, waiting for airlock submit
 *                                (transfer/draft.h)
 */
#ifndef WSGATE_AIRLOCK_H
#define WSGATE_AIRLOCK_H

#include <stdint.h>
#include <sys/types.h>

#include "common/store.h"
#include "policy/config.h"

struct request; /* transfer/queue.h */

/* Who acts, resolved by the caller from the login (never from what a client claims). */
struct airlock_actor {
	const char *user;
	int is_admin;
	const char *project; /* the session's project ("" for admins) */
	const char *area;    /* the session's area ("" for admins) */
	uid_t uid;	     /* the account's host uid (the sandbox's): exports read as it */
};

/* Export PATH (relative to the area root, i.e. /work) of the actor's area. The file is opened
 * with the requester's filesystem identity (who->uid, the project's gid, no other group), so a
 * member can export only what the member could read in the sandbox (issue 10 point 7). */
int airlock_export(struct store *st, const struct config *cfg, const struct airlock_actor *who,
		   const char *relpath, const char *reason, uint64_t *id, char *why, size_t whylen);
/* The same, resubmitting after a return when replaces is not 0 (the requester's own returned
 * request of the same project, replaced once), and handing back the check report (report may
 * be NULL). The report is filled even when the export is refused for failing the checks with
 * export_block_on_fail set. */
int airlock_export_ex(struct store *st, const struct config *cfg, const struct airlock_actor *who,
		      const char *relpath, const char *reason, uint64_t replaces, uint64_t *id,
		      char *report, size_t reportlen, char *why, size_t whylen);
/* Links the new request r (inserted in txn) to the returned request old it replaces, after
 * checking that old is r's requester's own returned request of the same project and not
 * replaced yet. 0 or -1 with why. (transfer/resubmit.c) */
int airlock_link_resubmission(struct store *st, MDB_txn *txn, const struct request *r, uint64_t old,
			      char *why, size_t whylen);
int airlock_withdraw(struct store *st, const struct airlock_actor *who, uint64_t id, char *why,
		     size_t whylen);

/* Uploads to /inbox over SFTP: begin returns a writable staging fd for the worker (and keeps
 * nothing else); commit turns the finished upload into one pending import request. */
int airlock_upload_begin(struct store *st, const struct airlock_actor *who, const char *name,
			 int *fd, char *why, size_t whylen);
int airlock_upload_commit(struct store *st, const struct config *cfg,
			  const struct airlock_actor *who, int fd, const char *name,
			  const char *reason, const char *sha256, uint64_t *id, char *why,
			  size_t whylen);

/* A draft's bytes queued as an import of area (transfer/draft.c): read from offset 0, they must
 * hash to expect; in_txn runs in the inserting transaction (it removes the draft's record). */
int airlock_submit_import(struct store *st, const struct config *cfg,
			  const struct airlock_actor *who, const char *area, int fd,
			  const char *name, const char *reason, const uint8_t expect[32],
			  int (*in_txn)(struct store *, MDB_txn *, void *), void *arg, uint64_t *id,
			  char *why, size_t whylen);

/* Released exports of a project, for /outbox. */
struct outbox_entry {
	uint64_t id;
	char name[256];
	uint64_t size;
	uint64_t mtime;
};
int airlock_outbox_list(struct store *st, const char *project,
			int (*fn)(const struct outbox_entry *e, void *arg), void *arg);
/* Opens a released export read-only after checking its SHA-256 against the record. */
int airlock_outbox_open(struct store *st, const char *project, uint64_t id, const char *name,
			int *fd, uint64_t *size, char *why, size_t whylen);

/* Start-up scan: removes staging leftovers and blobs no request references, then retries the
 * delivery of requests left approved but not released (e.g. by a crash). Returns 0 or <0. */
int airlock_scan(struct store *st, char *why, size_t whylen);
struct airlock_scan_stats {
	unsigned long staging_removed, blobs_removed, blobs_kept, redelivered, failed;
};
int airlock_scan_ex(struct store *st, struct airlock_scan_stats *stats, char *why, size_t whylen);

/*
 * Review (wsgatectl, and admins over SSH through it). reviewer is the deciding admin ("root"
 * for local root). Two-person rule: the requester of a request can never decide it. Approval
 * delivers at once: export -> /outbox, import -> <area>/imports/NAME[.N], move -> same path in
 * the destination area; delivery re-hashes the blob and refuses on a mismatch.
 * Returns 0, or -1 with a one-line reason in why (nothing changed, unless the text says the
 * approval was recorded but delivery failed).
 */
int airlock_decide(struct store *st, const struct config *cfg, const char *reviewer, uint64_t id,
		   int approve, const char *note, char *why, size_t whylen);
/*
 * One review (transfer/decide.c): decision is REVIEW_APPROVE, REVIEW_REJECT or REVIEW_RETURN
 * (transfer/review.h). A reject or a return decides at once; an approval decides when the
 * request has [airlock] reviews_required approvals from different admins. *outcome says which:
 * AIRLOCK_DECIDED, or AIRLOCK_AWAITS_REVIEW (the review is recorded, the request still pending).
 * A reviewer reviews a request once. airlock_decide is this with approve or reject.
 */
enum { AIRLOCK_DECIDED = 0, AIRLOCK_AWAITS_REVIEW = 1 };
int airlock_review(struct store *st, const struct config *cfg, const char *reviewer, uint64_t id,
		   int decision, const char *note, int *outcome, char *why, size_t whylen);
/* Delivers an approved request (approve calls it; so does the scan for leftovers). */
int airlock_deliver(struct store *st, const char *actor, uint64_t id, char *why, size_t whylen);

/* An admin brings a file in: src is read sequentially from its current offset. */
int airlock_import(struct store *st, const struct config *cfg, const char *requester,
		   const char *project, const char *area, int src, const char *name,
		   const char *reason, uint64_t *id, char *why, size_t whylen);
/* An admin moves PATH (relative to the FROM area's root) to the TO area of the same project.
 * The admin acts as root here (wsgatectl): the source is opened with root's permissions. */
int airlock_move(struct store *st, const struct config *cfg, const char *requester,
		 const char *project, const char *from_area, const char *to_area,
		 const char *relpath, const char *reason, uint64_t *id, char *why, size_t whylen);

#endif
