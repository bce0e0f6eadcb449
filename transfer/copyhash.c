/*
 * blob_copy_hash (see blob.h): one pass that reads, hashes and writes.
 *
 * Three stages run at once over a ring of CH_NBUF buffers: a reader thread fills buffers, the
 * calling thread hashes them, a writer thread writes them out. Each buffer goes FREE -> READ ->
 * HASHED -> FREE, in order, so every byte written is a byte that was hashed. The hash is the
 * slowest stage (SHA-256 with SHA-NI, about 1.4 GB/s here), so reading and writing hide under it.
 *
 * Two things keep the copy off the critical path (measured in docs/bench-transfer.md):
 * - When source and destination share a file system that can clone (XFS, btrfs), the copy is a
 *   FICLONE: the destination shares the source's blocks, copy-on-write, and the pipeline only
 *   reads and hashes the destination. The clone is taken under the file system's locks, so it is
 *   one point in time of the source, and what is hashed is the destination itself.
 * - Otherwise writes bypass the page cache (O_DIRECT) where the file system allows it: on this
 *   VM's ext4 a buffered 1 GiB write plus fsync costs 4.2 s, a direct one plus fsync 1.5-2.7 s,
 *   and it does not evict the analysts' working set. The last, unaligned piece is written
 *   buffered; the caller's fsync makes everything durable either way.
 */
#include "transfer/blob.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/fsutil.h"

#define CH_BUF (4u << 20) /* 4 MiB: direct writes of this size reach the disk's speed */
#define CH_NBUF 4	  /* bounded memory: 16 MiB per copy */
#define CH_ALIGN 4096	  /* O_DIRECT alignment of buffers, offsets and lengths */
/* Buffered writes only: start writeback every 64 MiB so the final fsync has little left. */
#define CH_FLUSH_EVERY (64ull << 20)

enum slot_state { SLOT_FREE, SLOT_READ, SLOT_HASHED };

struct slot {
	uint8_t *data;
	size_t len; /* 0: end of input */
	enum slot_state state;
};

struct pipeline {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct slot slot[CH_NBUF];
	int err; /* first failure of any stage, -errno; every stage stops on it */
	int src, from_start, dst;
	uint64_t max, total;
};

static void
pipe_fail(struct pipeline *p, int err)
{
	pthread_mutex_lock(&p->mu);
	if (!p->err)
		p->err = err;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Waits until slot i reaches state; returns 0, or the pipeline's error. */
static int
slot_wait(struct pipeline *p, unsigned i, enum slot_state state)
{
	int err;

	pthread_mutex_lock(&p->mu);
	while (p->slot[i].state != state && !p->err)
		pthread_cond_wait(&p->cv, &p->mu);
	err = p->err;
	pthread_mutex_unlock(&p->mu);
	return err;
}

static void
slot_pass(struct pipeline *p, unsigned i, enum slot_state next)
{
	pthread_mutex_lock(&p->mu);
	p->slot[i].state = next;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Fills buf as far as the source allows: full buffers keep direct writes aligned. */
static ssize_t
fill(struct pipeline *p, uint8_t *buf)
{
	size_t have = 0;

	while (have < CH_BUF) {
		ssize_t n = p->from_start
				? pread(p->src, buf + have, CH_BUF - have, (off_t)(p->total + have))
				: read(p->src, buf + have, CH_BUF - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		have += (size_t)n;
	}
	return (ssize_t)have;
}

static void *
reader(void *arg)
{
	struct pipeline *p = arg;

	for (unsigned i = 0;; i = (i + 1) % CH_NBUF) {
		ssize_t n;

		if (slot_wait(p, i, SLOT_FREE))
			break;
		if ((n = fill(p, p->slot[i].data)) < 0) {
			pipe_fail(p, (int)n);
			break;
		}
		if ((p->total += (uint64_t)n) > p->max) {
			pipe_fail(p, -EFBIG);
			break;
		}
		p->slot[i].len = (size_t)n;
		slot_pass(p, i, SLOT_READ);
		if (n == 0)
			break;
	}
	return NULL;
}

/* Turns O_DIRECT off for the rest of the copy (unaligned tail, or a file system that refuses). */
static int
direct_off(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_DIRECT);
}

/*
 * Writes one buffer at the file's offset. A direct write that the file system refuses (EINVAL)
 * or that stops short of a block boundary continues through the cache from where it stopped.
 */
static int
write_slot(int fd, const struct slot *s, int *direct)
{
	size_t done = 0;

	while (done < s->len) {
		ssize_t w;

		if (*direct && (s->len - done) % CH_ALIGN != 0) {
			if (direct_off(fd) < 0)
				return -errno;
			*direct = 0;
		}
		w = write(fd, s->data + done, s->len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EINVAL && *direct) {
			if (direct_off(fd) < 0)
				return -errno;
			*direct = 0;
			continue;
		}
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		done += (size_t)w;
	}
	return 0;
}

static void *
writer(void *arg)
{
	struct pipeline *p = arg;
	int fl = fcntl(p->dst, F_GETFL), direct = fl >= 0 && (fl & O_DIRECT);
	uint64_t off = 0, flushed = 0;

	for (unsigned i = 0;; i = (i + 1) % CH_NBUF) {
		int err;

		if (slot_wait(p, i, SLOT_HASHED) || p->slot[i].len == 0)
			break;
		if ((err = write_slot(p->dst, &p->slot[i], &direct)) < 0) {
			pipe_fail(p, err);
			break;
		}
		off += p->slot[i].len;
		if (!direct && off - flushed >= CH_FLUSH_EVERY) {
			/* A hint only: the caller's fsync is what makes the bytes durable. */
			(void)sync_file_range(p->dst, (off64_t)flushed, (off64_t)(off - flushed),
					      SYNC_FILE_RANGE_WRITE);
			flushed = off;
		}
		slot_pass(p, i, SLOT_FREE);
	}
	return NULL;
}

/* The calling thread's stage: hash each buffer in order until the end marker. */
static void
hash_stage(struct pipeline *p, EVP_MD_CTX *md)
{
	enum slot_state next = p->dst >= 0 ? SLOT_HASHED : SLOT_FREE;

	for (unsigned i = 0;; i = (i + 1) % CH_NBUF) {
		size_t len;

		if (slot_wait(p, i, SLOT_READ))
			return;
		/* len first: once passed on, a FREE slot is the reader's to refill at once. */
		len = p->slot[i].len;
		if (len && EVP_DigestUpdate(md, p->slot[i].data, len) != 1) {
			pipe_fail(p, -EIO);
			return;
		}
		slot_pass(p, i, len ? next : SLOT_HASHED); /* the end marker goes to the writer */
		if (len == 0)
			return;
	}
}

static int
run_pipeline(struct pipeline *p, EVP_MD_CTX *md)
{
	pthread_t rd, wr;
	int have_wr = 0;

	if (pthread_create(&rd, NULL, reader, p) != 0)
		return -EAGAIN;
	if (p->dst >= 0) {
		if (pthread_create(&wr, NULL, writer, p) != 0)
			pipe_fail(p, -EAGAIN);
		else
			have_wr = 1;
	}
	hash_stage(p, md);
	pthread_join(rd, NULL);
	if (have_wr)
		pthread_join(wr, NULL);
	return p->err;
}

static int
pipeline_copy_hash(int src, int from_start, int dst, uint64_t max, EVP_MD_CTX *md, uint64_t *total)
{
	struct pipeline p;
	int ret = 0, i;

	memset(&p, 0, sizeof(p));
	p.src = src;
	p.from_start = from_start;
	p.dst = dst;
	p.max = max;
	for (i = 0; i < CH_NBUF; i++)
		if (posix_memalign((void **)&p.slot[i].data, CH_ALIGN, CH_BUF) != 0) {
			ret = -ENOMEM;
			goto out;
		}
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	ret = run_pipeline(&p, md);
	*total = p.total;
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
out:
	while (i-- > 0)
		free(p.slot[i].data);
	return ret;
}

/*
 * Makes dst a copy-on-write clone of the whole of src. Returns 1 when it did, 0 when the file
 * system cannot (dst is left empty), -errno on a real failure.
 */
static int
try_clone(int src, int dst, uint64_t max)
{
	struct stat ss, ds;

	if (fstat(src, &ss) < 0 || fstat(dst, &ds) < 0)
		return -errno;
	if (!S_ISREG(ss.st_mode) || !S_ISREG(ds.st_mode) || ds.st_size != 0)
		return 0;
	if ((uint64_t)ss.st_size > max)
		return -EFBIG;
	if (ioctl(dst, FICLONE, src) == 0)
		return 1;
	/* EXDEV, EOPNOTSUPP, EINVAL...: no clone here. Make sure nothing half-cloned stays. */
	if (fstat(dst, &ds) < 0)
		return -errno;
	return ds.st_size == 0 || ftruncate(dst, 0) == 0 ? 0 : -errno;
}

/* The copy path: direct writes where the file system takes them, the page cache otherwise. */
static int
copy_hash(int src, int from_start, int dst, uint64_t max, EVP_MD_CTX *md, uint64_t *total)
{
	int fl = dst >= 0 ? fcntl(dst, F_GETFL) : -1, ret;

	if (fl >= 0 && !(fl & O_DIRECT))
		(void)fcntl(dst, F_SETFL, fl | O_DIRECT); /* refused: the page cache it is */
	(void)posix_fadvise(src, 0, 0, POSIX_FADV_SEQUENTIAL);
	ret = pipeline_copy_hash(src, from_start, dst, max, md, total);
	if (fl >= 0 && fcntl(dst, F_SETFL, fl) < 0 && ret == 0)
		ret = -errno; /* the caller gets its fd back as it gave it */
	return ret;
}

/*
 * After a clone, hashing the clone reads it back from disk (page cache is per inode), while the
 * source is usually in the page cache. Hashing the source instead is sound only if it cannot
 * change between the clone and the end of the hash. A read lease guarantees that: the kernel
 * grants it only while nobody has the file open for writing (writable mmaps and in-flight AIO
 * included), and any later open for writing or truncate must first break it. The breaker
 * blocks until we release (at most /proc/sys/fs/lease-break-time); a break that happened, or
 * one that timed out, shows in F_GETLEASE afterwards, and then the clone itself is hashed.
 */
static int
lease_take(int fd)
{
	if (fcntl(fd, F_SETLEASE, F_RDLCK) < 0)
		return 0; /* open for writing somewhere, no CAP_LEASE, or no leases here */
	/* No owner, so a break sends no SIGIO (whose default action would kill us). */
	(void)fcntl(fd, F_SETOWN, 0);
	return 1;
}

/* Releases the lease; returns 1 if nobody tried to break it meanwhile. */
static int
lease_release_unbroken(int fd)
{
	int held = fcntl(fd, F_GETLEASE) == F_RDLCK;

	(void)fcntl(fd, F_SETLEASE, F_UNLCK);
	return held;
}

static int
hash_clone(int src, int dst, uint64_t max, EVP_MD_CTX *md, uint64_t *total)
{
	int leased = lease_take(src), cloned = try_clone(src, dst, max), ret;

	if (cloned <= 0) {
		if (leased)
			(void)lease_release_unbroken(src);
		return cloned;
	}
	if (leased) {
		transfer_pause_point("copyhash.cloned"); /* tests: let a lease break time out */
		(void)posix_fadvise(src, 0, 0, POSIX_FADV_SEQUENTIAL);
		ret = pipeline_copy_hash(src, 1, -1, max, md, total);
		if (lease_release_unbroken(src) && ret == 0)
			return 1;
		if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
			return -EIO;
	}
	/* Hash what was stored: from now on the source may change. */
	(void)posix_fadvise(dst, 0, 0, POSIX_FADV_SEQUENTIAL);
	ret = pipeline_copy_hash(dst, 1, -1, max, md, total);
	return ret < 0 ? ret : 1;
}

static int
copy_or_clone(int src, int from_start, int dst, uint64_t max, EVP_MD_CTX *md, uint64_t *total)
{
	/* A clone is the whole file: only when that is what was asked for. */
	int whole = from_start || lseek(src, 0, SEEK_CUR) == 0, cloned = 0;

	if (dst >= 0 && whole && (cloned = hash_clone(src, dst, max, md, total)) < 0)
		return cloned;
	return cloned ? 0 : copy_hash(src, from_start, dst, max, md, total);
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
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		ret = -EIO;
	else
		ret = copy_or_clone(src, from_start, dst_fd, max, md, &total);
	if (ret == 0 && (EVP_DigestFinal_ex(md, hash, &hlen) != 1 || hlen != BLOB_HASH_LEN))
		ret = -EIO;
	*size = total;
	EVP_MD_CTX_free(md);
	return ret;
}
