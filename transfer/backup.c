/* The quarantine in backups (see backup.h). */
#include "common/why.h"
#include "transfer/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "transfer/blob.h"
#include "transfer/queue.h"

struct blob_walk {
	struct store *st;
	const char *from;  /* backup: the live state_dir; verify: NULL */
	int rehash;	   /* verify: hash every blob again, or only check it is there */
	struct request *r; /* decode buffer, on the heap: struct request is ~20 KiB */
	uint64_t nblobs, nrequests;
	char *why;
	size_t whylen;
};

/* Copies one blob into the copy's store under a temporary name, then renames it into place: a
 * backup cut short never holds a blob whose name its bytes do not match. */
static int
copy_one(struct blob_walk *w, const uint8_t hash[BLOB_HASH_LEN], uint64_t size)
{
	char dst[PATH_MAX], tmp[PATH_MAX + 8], dir[PATH_MAX];
	int fd, rc;

	if (blob_path(store_state_dir(w->st), hash, dst, sizeof(dst)) < 0)
		return why_set(w->why, w->whylen, "backup path too long");
	if (access(dst, F_OK) == 0)
		return 0; /* another request of the same bytes */
	snprintf(dir, sizeof(dir), "%s", dst);
	*strrchr(dir, '/') = '\0';
	snprintf(tmp, sizeof(tmp), "%s.part", dst);
	if (mkdir_p(dir, 0700) < 0 ||
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0400)) < 0)
		return why_set(w->why, w->whylen, "%s: %s", dir, strerror(errno));
	rc = blob_verify(w->from, hash, size, fd, NULL);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, dst) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return why_set(w->why, w->whylen, "request %" PRIu64 ": blob %s: %s", w->r->s.id,
			       dst + strlen(store_state_dir(w->st)) + 1,
			       rc == -EBADMSG ? "does not match its hash and size" : strerror(-rc));
	}
	w->nblobs++;
	return 0;
}

/* Without rehash: the blob named by the request's hash exists with the request's size. Enough
 * when the caller has just checked every blob's bytes against its name (restore does). */
static int
check_present(struct blob_walk *w)
{
	char path[PATH_MAX];
	struct stat sb;

	if (blob_path(store_state_dir(w->st), w->r->sha256, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (lstat(path, &sb) < 0)
		return -errno;
	return S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == w->r->s.size ? 0 : -EBADMSG;
}

static int
visit(const MDB_val *key, const MDB_val *val, void *arg)
{
	struct blob_walk *w = arg;
	MDB_val body;
	int rc;

	/* The record's MAC first (transfer/reqmac.h): a copy holds only records that verify. */
	if (queue_open_record(w->st, key, val, &body) != 0)
		return why_set(w->why, w->whylen, "request record %" PRIu64 " does not verify",
			       store_key_u64(key));
	if (queue_decode(body.mv_data, body.mv_size, w->r) != 0)
		return why_set(w->why, w->whylen, "request record %" PRIu64 " does not decode",
			       store_key_u64(key));
	w->nrequests++;
	if (w->from)
		return copy_one(w, w->r->sha256, w->r->s.size) < 0 ? 1 : 0;
	rc = w->rehash ? blob_verify(store_state_dir(w->st), w->r->sha256, w->r->s.size, -1, NULL)
		       : check_present(w);
	if (rc < 0) {
		why_set(w->why, w->whylen, "request %" PRIu64 " (%s): its quarantined bytes %s",
			w->r->s.id, w->r->s.name,
			rc == -EBADMSG ? "do not match its hash and size" : strerror(-rc));
		return 1;
	}
	return 0;
}

static int
walk(struct blob_walk *w)
{
	MDB_txn *txn;
	int rc;

	if (!(w->r = malloc(sizeof(*w->r))))
		return why_set(w->why, w->whylen, "out of memory");
	if ((rc = store_begin(w->st, 1, &txn)) < 0) {
		free(w->r);
		return why_set(w->why, w->whylen, "state store: %s", store_strerror(rc));
	}
	rc = store_each(w->st, txn, DB_REQUESTS, NULL, 0, 0, visit, w);
	store_abort(txn);
	free(w->r);
	if (rc < 0)
		return why_set(w->why, w->whylen, "requests: %s", store_strerror(rc));
	return rc == 0 ? 0 : -1;
}

int
backup_copy_blobs(struct store *copy, const char *from_state_dir, uint64_t *nblobs,
		  uint64_t *nrequests, char *why, size_t whylen)
{
	struct blob_walk w = {copy, from_state_dir, 1, NULL, 0, 0, why, whylen};
	int rc = walk(&w);

	*nblobs = w.nblobs;
	*nrequests = w.nrequests;
	return rc;
}

int
backup_verify_blobs(struct store *st, int rehash, uint64_t *nrequests, char *why, size_t whylen)
{
	struct blob_walk w = {st, NULL, rehash, NULL, 0, 0, why, whylen};
	int rc = walk(&w);

	*nrequests = w.nrequests;
	return rc;
}
