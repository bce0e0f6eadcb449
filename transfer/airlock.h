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
 */
#ifndef WSGATE_AIRLOCK_H
#define WSGATE_AIRLOCK_H

#include <stdint.h>

#include "common/store.h"
#include "policy/config.h"

/* Who acts, resolved by the caller from the login (never from what a client claims). */
struct airlock_actor {
	const char *user;
	int is_admin;
	const char *project; /* the session's project ("" for admins) */
	const char *area;    /* the session's area ("" for admins) */
};

/* Export PATH (relative to the area root, i.e. /work) of the actor's area. */
int airlock_export(struct store *st, const struct config *cfg, const struct airlock_actor *who,
		   const char *relpath, const char *reason, uint64_t *id, char *err, size_t errlen);
int airlock_withdraw(struct store *st, const struct airlock_actor *who, uint64_t id, char *err,
		     size_t errlen);

/* Uploads to /inbox over SFTP: begin returns a writable staging fd for the worker (and keeps
 * nothing else); commit turns the finished upload into one pending import request. */
int airlock_upload_begin(struct store *st, const struct airlock_actor *who, const char *name,
			 int *fd, char *err, size_t errlen);
int airlock_upload_commit(struct store *st, const struct config *cfg,
			  const struct airlock_actor *who, int fd, const char *name,
			  const char *reason, uint64_t *id, char *err, size_t errlen);

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
			int *fd, uint64_t *size, char *err, size_t errlen);

/* Start-up scan: removes staging leftovers and blobs no request references. */
int airlock_scan(struct store *st, char *err, size_t errlen);

#endif
