/* The content-addressed quarantine store (see blob.h). */
#include "transfer/blob.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/fsutil.h"

#define BLOB_BUF (1u << 20)
#define BLOB_NBUF 4
/* Start writeback every 64 MiB so the final fsync has little left to do. */
#define BLOB_FLUSH_EVERY (64ull << 20)

void
transfer_crash_point(const char *point)
{
#ifdef WSGATE_TEST_HOOKS
	const char *at = getenv("WSGATE_CRASH_AT");

	if (at && strcmp(at, point) == 0)
		_exit(99);
#else
	(void)point;
#endif
}

void
blob_hex(const uint8_t hash[BLOB_HASH_LEN], char hex[2 * BLOB_HASH_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < BLOB_HASH_LEN; i++) {
		hex[2 * i] = digits[hash[i] >> 4];
		hex[2 * i + 1] = digits[hash[i] & 15];
	}
	hex[2 * BLOB_HASH_LEN] = '\0';
}

int
blob_path(const char *state_dir, const uint8_t hash[BLOB_HASH_LEN], char *out, size_t outlen)
{
	char hex[2 * BLOB_HASH_LEN + 1];
	int n;

	blob_hex(hash, hex);
	n = snprintf(out, outlen, "%s/blobs/sha256/%.2s/%s", state_dir, hex, hex);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/*
 * The copy runs in two threads: this one reads and hashes, a writer thread writes the previous
 * buffers, so writing hides under hashing (SHA-256 is the slower of the two with SHA-NI and a
 * page-cache write). The ring holds BLOB_NBUF buffers of BLOB_BUF bytes: bounded memory.
 */
struct ring {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint8_t *buf[BLOB_NBUF];
	size_t len[BLOB_NBUF];
	unsigned head, tail, count;
	int done;
	int werr; /* errno of a failed write */
	int dst;
};

static void *
ring_writer(void *arg)
{
	struct ring *r = arg;
	uint64_t off = 0, flushed = 0;

	for (;;) {
		unsigned t;
		int err = 0;

		pthread_mutex_lock(&r->mu);
		while (r->count == 0 && !r->done)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->count == 0) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		t = r->tail;
		pthread_mutex_unlock(&r->mu);
		if (write_all(r->dst, r->buf[t], r->len[t]) < 0)
			err = errno ? errno : EIO;
		off += r->len[t];
		if (!err && off - flushed >= BLOB_FLUSH_EVERY) {
			/* A hint only: fsync at the end is what makes the bytes durable. */
			(void)sync_file_range(r->dst, (off64_t)flushed, (off64_t)(off - flushed),
					      SYNC_FILE_RANGE_WRITE);
			flushed = off;
		}
		pthread_mutex_lock(&r->mu);
		if (err && !r->werr)
			r->werr = err;
		r->tail = (t + 1) % BLOB_NBUF;
		r->count--;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		if (err)
			break;
	}
	return NULL;
}

static ssize_t
read_some(int src, int from_start, uint64_t off, void *buf, size_t n)
{
	ssize_t got;

	do {
		got = from_start ? pread(src, buf, n, (off_t)off) : read(src, buf, n);
	} while (got < 0 && errno == EINTR);
	return got;
}

static int
copy_hash_simple(int src, int from_start, uint64_t max, EVP_MD_CTX *md, uint64_t *total)
{
	uint8_t *buf = malloc(BLOB_BUF);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read_some(src, from_start, *total, buf, BLOB_BUF);

		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		if ((*total += (uint64_t)n) > max) {
			ret = -EFBIG;
			break;
		}
		if (EVP_DigestUpdate(md, buf, (size_t)n) != 1) {
			ret = -EIO;
			break;
		}
	}
	free(buf);
	return ret;
}

static int
copy_hash_ring(int src, int from_start, int dst, uint64_t max, EVP_MD_CTX *md, uint64_t *total)
{
	struct ring r;
	pthread_t th;
	int ret = 0, i;

	memset(&r, 0, sizeof(r));
	r.dst = dst;
	for (i = 0; i < BLOB_NBUF; i++)
		if (!(r.buf[i] = malloc(BLOB_BUF)))
			goto nomem;
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	if (pthread_create(&th, NULL, ring_writer, &r) != 0) {
		ret = -EAGAIN;
		goto destroy;
	}
	for (;;) {
		unsigned h;
		ssize_t n;

		pthread_mutex_lock(&r.mu);
		while (r.count == BLOB_NBUF && !r.werr)
			pthread_cond_wait(&r.cv, &r.mu);
		h = r.head;
		if (r.werr)
			ret = -r.werr;
		pthread_mutex_unlock(&r.mu);
		if (ret)
			break;
		if ((n = read_some(src, from_start, *total, r.buf[h], BLOB_BUF)) < 0) {
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		if ((*total += (uint64_t)n) > max) {
			ret = -EFBIG;
			break;
		}
		if (EVP_DigestUpdate(md, r.buf[h], (size_t)n) != 1) {
			ret = -EIO;
			break;
		}
		pthread_mutex_lock(&r.mu);
		r.len[h] = (size_t)n;
		r.head = (h + 1) % BLOB_NBUF;
		r.count++;
		pthread_cond_broadcast(&r.cv);
		pthread_mutex_unlock(&r.mu);
	}
	pthread_mutex_lock(&r.mu);
	r.done = 1;
	pthread_cond_broadcast(&r.cv);
	pthread_mutex_unlock(&r.mu);
	pthread_join(th, NULL);
	if (!ret && r.werr)
		ret = -r.werr;
destroy:
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
nomem:
	for (i = 0; i < BLOB_NBUF; i++)
		free(r.buf[i]);
	if (i < BLOB_NBUF && !ret)
		ret = -ENOMEM;
	return ret;
}

int
blob_copy_hash(int src, int from_start, int dst_fd, uint64_t max, uint8_t hash[BLOB_HASH_LEN],
	       uint64_t *size)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned hlen = 0;
	uint64_t total = 0;
	int ret;

	if (!md)
		return -ENOMEM;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		ret = -EIO;
		goto out;
	}
	if (dst_fd < 0)
		ret = copy_hash_simple(src, from_start, max, md, &total);
	else
		ret = copy_hash_ring(src, from_start, dst_fd, max, md, &total);
	if (ret == 0 && (EVP_DigestFinal_ex(md, hash, &hlen) != 1 || hlen != BLOB_HASH_LEN))
		ret = -EIO;
	*size = total;
out:
	EVP_MD_CTX_free(md);
	return ret;
}

static int
open_staging(const char *state_dir)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/staging", state_dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int
blob_lock(const char *state_dir, int exclusive, int *lockfd)
{
	int fd = open_staging(state_dir);

	if (fd < 0)
		return -errno;
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno != EINTR) {
			int e = errno;

			close(fd);
			return -e;
		}
	}
	*lockfd = fd;
	return 0;
}

void
blob_unlock(int lockfd)
{
	if (lockfd >= 0)
		close(lockfd); /* drops the flock */
}

/* Opens (creating) blobs/sha256/<hh>, fsyncing the parents it had to create. */
static int
open_bucket(const char *state_dir, const char *hex)
{
	char path[PATH_MAX], parent[PATH_MAX];

	snprintf(parent, sizeof(parent), "%s/blobs/sha256", state_dir);
	if (mkdir_p(parent, 0700) < 0)
		return -1;
	if (snprintf(path, sizeof(path), "%s/%.2s", parent, hex) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdir(path, 0700) == 0) {
		if (fsync_dir(parent) < 0)
			return -1;
	} else if (errno != EEXIST) {
		return -1;
	}
	return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int
blob_store(const char *state_dir, int src, int from_start, uint64_t max,
	   uint8_t hash[BLOB_HASH_LEN], uint64_t *size, char *err, size_t errlen)
{
	char hex[2 * BLOB_HASH_LEN + 1], tmpname[128], procpath[64];
	int sdir = -1, fd = -1, bucket = -1, linked = 0, ret = -1, rc;

	if ((sdir = open_staging(state_dir)) < 0) {
		snprintf(err, errlen, "quarantine staging: %s", strerror(errno));
		goto out;
	}
	/* An unnamed file: if we die before it is linked, nothing is left behind. */
	if ((fd = openat(sdir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0400)) < 0) {
		snprintf(err, errlen, "quarantine staging: %s", strerror(errno));
		goto out;
	}
	if ((rc = blob_copy_hash(src, from_start, fd, max, hash, size)) < 0) {
		if (rc == -EFBIG)
			snprintf(err, errlen, "file is larger than the limit of %llu bytes",
				 (unsigned long long)max);
		else
			snprintf(err, errlen, "cannot copy into quarantine: %s", strerror(-rc));
		goto out;
	}
	transfer_crash_point("blob.copied");
	if (fsync(fd) < 0) {
		snprintf(err, errlen, "quarantine fsync: %s", strerror(errno));
		goto out;
	}
	blob_hex(hash, hex);
	snprintf(tmpname, sizeof(tmpname), "%s.%ld.tmp", hex, (long)getpid());
	snprintf(procpath, sizeof(procpath), "/proc/self/fd/%d", fd);
	(void)unlinkat(sdir, tmpname, 0);
	if (linkat(AT_FDCWD, procpath, sdir, tmpname, AT_SYMLINK_FOLLOW) < 0) {
		snprintf(err, errlen, "quarantine link: %s", strerror(errno));
		goto out;
	}
	linked = 1;
	transfer_crash_point("blob.staged");
	if ((bucket = open_bucket(state_dir, hex)) < 0) {
		snprintf(err, errlen, "quarantine store: %s", strerror(errno));
		goto out;
	}
	/* Replaces an existing blob of the same hash with identical bytes: atomic either way. */
	if (renameat(sdir, tmpname, bucket, hex) < 0) {
		snprintf(err, errlen, "quarantine rename: %s", strerror(errno));
		goto out;
	}
	linked = 0;
	if (fsync(bucket) < 0) {
		snprintf(err, errlen, "quarantine fsync: %s", strerror(errno));
		goto out;
	}
	transfer_crash_point("blob.stored");
	ret = 0;
out:
	if (linked)
		(void)unlinkat(sdir, tmpname, 0);
	if (fd >= 0 && close(fd) < 0 && ret == 0) {
		snprintf(err, errlen, "quarantine close: %s", strerror(errno));
		ret = -1;
	}
	if (bucket >= 0)
		close(bucket);
	if (sdir >= 0)
		close(sdir);
	return ret;
}

int
blob_verify(const char *state_dir, const uint8_t hash[BLOB_HASH_LEN], uint64_t size, int dst_fd,
	    int *fdp)
{
	char path[PATH_MAX];
	uint8_t got[BLOB_HASH_LEN];
	uint64_t n = 0;
	struct stat sb;
	int fd, rc;

	if ((rc = blob_path(state_dir, hash, path, sizeof(path))) < 0)
		return rc;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		rc = -EBADMSG;
		goto fail;
	}
	if ((rc = blob_copy_hash(fd, 1, dst_fd, size, got, &n)) < 0) {
		if (rc == -EFBIG)
			rc = -EBADMSG;
		goto fail;
	}
	if (n != size || CRYPTO_memcmp(got, hash, BLOB_HASH_LEN) != 0) {
		rc = -EBADMSG;
		goto fail;
	}
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	return 0;
fail:
	close(fd);
	return rc;
}
