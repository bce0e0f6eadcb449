/* The content-addressed quarantine store (see blob.h). */
#include "transfer/blob.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/fsutil.h"

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
transfer_pause_point(const char *point)
{
#ifdef WSGATE_TEST_HOOKS
	const char *at = getenv("WSGATE_PAUSE_AT"), *ms = getenv("WSGATE_PAUSE_MS");

	if (at && ms && strcmp(at, point) == 0)
		usleep((useconds_t)strtoul(ms, NULL, 10) * 1000);
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
blob_can_clone(const char *state_dir)
{
	static const char byte[4096];
	int dir = open_staging(state_dir), a = -1, b = -1, ok = 0;

	if (dir >= 0 && (a = openat(dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0 &&
	    (b = openat(dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0 &&
	    write_all(a, byte, sizeof(byte)) == (ssize_t)sizeof(byte))
		ok = ioctl(b, FICLONE, a) == 0;
	if (b >= 0)
		close(b);
	if (a >= 0)
		close(a);
	if (dir >= 0)
		close(dir);
	return ok;
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
blob_store(const char *state_dir, int src, int from_start, uint64_t max, const uint8_t *expect,
	   uint8_t hash[BLOB_HASH_LEN], uint64_t *size, char *why, size_t whylen)
{
	char hex[2 * BLOB_HASH_LEN + 1], tmpname[128], procpath[64];
	int sdir = -1, fd = -1, bucket = -1, linked = 0, ret = -1, rc;

	if ((sdir = open_staging(state_dir)) < 0) {
		snprintf(why, whylen, "quarantine staging: %s", strerror(errno));
		goto out;
	}
	/* An unnamed file: if we die before it is linked, nothing is left behind. */
	if ((fd = openat(sdir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0400)) < 0) {
		snprintf(why, whylen, "quarantine staging: %s", strerror(errno));
		goto out;
	}
	if ((rc = blob_copy_hash(src, from_start, fd, max, hash, size)) < 0) {
		if (rc == -EFBIG)
			snprintf(why, whylen, "file is larger than the limit of %llu bytes",
				 (unsigned long long)max);
		else
			snprintf(why, whylen, "cannot copy into quarantine: %s", strerror(-rc));
		goto out;
	}
	if (expect && CRYPTO_memcmp(expect, hash, BLOB_HASH_LEN) != 0) {
		snprintf(why, whylen,
			 "the %llu bytes received do not match the declared SHA-256 "
			 "(cut short, or not the declared file); nothing was queued",
			 (unsigned long long)*size);
		goto out;
	}
	transfer_crash_point("blob.copied");
	if (fsync(fd) < 0) {
		snprintf(why, whylen, "quarantine fsync: %s", strerror(errno));
		goto out;
	}
	blob_hex(hash, hex);
	snprintf(tmpname, sizeof(tmpname), "%s.%ld.tmp", hex, (long)getpid());
	snprintf(procpath, sizeof(procpath), "/proc/self/fd/%d", fd);
	(void)unlinkat(sdir, tmpname, 0);
	if (linkat(AT_FDCWD, procpath, sdir, tmpname, AT_SYMLINK_FOLLOW) < 0) {
		snprintf(why, whylen, "quarantine link: %s", strerror(errno));
		goto out;
	}
	linked = 1;
	transfer_crash_point("blob.staged");
	if ((bucket = open_bucket(state_dir, hex)) < 0) {
		snprintf(why, whylen, "quarantine store: %s", strerror(errno));
		goto out;
	}
	/* Replaces an existing blob of the same hash with identical bytes: atomic either way. */
	if (renameat(sdir, tmpname, bucket, hex) < 0) {
		snprintf(why, whylen, "quarantine rename: %s", strerror(errno));
		goto out;
	}
	linked = 0;
	if (fsync(bucket) < 0) {
		snprintf(why, whylen, "quarantine fsync: %s", strerror(errno));
		goto out;
	}
	transfer_crash_point("blob.stored");
	ret = 0;
out:
	if (linked)
		(void)unlinkat(sdir, tmpname, 0);
	if (fd >= 0 && close(fd) < 0 && ret == 0) {
		snprintf(why, whylen, "quarantine close: %s", strerror(errno));
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
