/*
 * The quarantine store: state_dir/blobs/sha256/<hh>/<hash>, content-addressed, files 0400 root,
 * directories 0700. Bytes are written to staging/, fsynced, renamed into blobs/ and the
 * directory fsynced before any record may point to them (bytes before records). Internal to
 * transfer/.
 */
#ifndef WSGATE_BLOB_H
#define WSGATE_BLOB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BLOB_HASH_LEN 32

/*
 * Copies src (from its current offset, or from offset 0 with pread when from_start is set) to
 * dst_fd (or nowhere when dst_fd < 0), hashing the same bytes in the same pass: what is hashed is
 * exactly what was written, even if src changes meanwhile. More than max bytes: -EFBIG.
 * Returns 0 or -errno.
 */
int blob_copy_hash(int src, int from_start, int dst_fd, uint64_t max, uint8_t hash[BLOB_HASH_LEN],
		   uint64_t *size);

/* 1 if state_dir's file system can clone (FICLONE: XFS, btrfs), so snapshots share blocks
 * instead of being copied; 0 otherwise. */
int blob_can_clone(const char *state_dir);

/* Holds staging/ shared (writers between blob and record) or exclusive (the scan). */
int blob_lock(const char *state_dir, int exclusive, int *lockfd);
void blob_unlock(int lockfd);

/*
 * Snapshots src into the store: returns its hash and size. With expect, bytes that do not hash
 * to it are refused before they enter the store. The caller must hold blob_lock (shared) until
 * the record that references the blob is committed.
 */
int blob_store(const char *state_dir, int src, int from_start, uint64_t max, const uint8_t *expect,
	       uint8_t hash[BLOB_HASH_LEN], uint64_t *size, char *why, size_t whylen);

void blob_hex(const uint8_t hash[BLOB_HASH_LEN], char hex[2 * BLOB_HASH_LEN + 1]);
int blob_path(const char *state_dir, const uint8_t hash[BLOB_HASH_LEN], char *out, size_t outlen);

/*
 * Opens a blob read-only and checks it hashes to its name and has the expected size. When
 * dst_fd >= 0, the bytes are also copied there in the same pass. Returns 0 with *fd rewound to
 * offset 0 (fd may be NULL), -EBADMSG on a mismatch, or -errno.
 */
int blob_verify(const char *state_dir, const uint8_t hash[BLOB_HASH_LEN], uint64_t size, int dst_fd,
		int *fd);

/* Test hooks: WSGATE_CRASH_AT=<point> makes the process _exit(99) there (test builds only). */
void transfer_crash_point(const char *point);
/* WSGATE_PAUSE_AT=<point> WSGATE_PAUSE_MS=<ms> makes the process sleep there (test builds). */
void transfer_pause_point(const char *point);

#endif
