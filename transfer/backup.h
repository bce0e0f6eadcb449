/*
 * The quarantine's part of `wsgatectl backup` and `restore` (SPEC "Durability"): the blobs that
 * a copy of the database references, copied and checked against their names in one pass, and
 * the check that every request of a database has its bytes. Walking requests needs the queue's
 * record format, which stays inside transfer/.
 */
#ifndef WSGATE_BACKUP_H
#define WSGATE_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "common/store.h"

/*
 * For every request in copy's database, copies its blob from from_state_dir into copy's own
 * state dir (blobs/sha256/<hh>/<hash>, 0400), hashing the bytes as they are copied: a blob that
 * is missing or does not hash to its name and the request's size fails the backup. Nothing is
 * fsynced here: the caller syncs the copy's file system once at the end. *nblobs gets the
 * number of distinct blobs. Returns 0 or -1 with why.
 */
int backup_copy_blobs(struct store *copy, const char *from_state_dir, uint64_t *nblobs,
		      uint64_t *nrequests, char *why, size_t whylen);

/* Every request of st has its blob in st's own state dir, of the recorded size, and with rehash
 * set, of the recorded hash (without it, the caller vouches that every blob's bytes match its
 * name). Returns 0 or -1 with why naming the first request that does not. */
int backup_verify_blobs(struct store *st, int rehash, uint64_t *nrequests, char *why,
			size_t whylen);

#endif
