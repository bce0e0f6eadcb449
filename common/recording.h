/*
 * Session recordings on disk (SPEC "The terminal is a display"; docs/audit.md "Recordings"):
 * state_dir/recordings/ID.cast, asciicast v2, directory 0700 and files 0600, root's.
 *
 * Who does what: the worker sees the bytes and encodes events (common/asciicast.c), but holds no
 * file: it writes the lines into a pipe. The monitor (root) created the file, writes the header
 * itself from what it knows (the account, project and area are its own, not the worker's), copies
 * the worker's lines to the file as they come and hashes exactly what it wrote. So the SHA-256 in
 * session.end is of the file as the monitor wrote it; a worker that is taken over can add lies to
 * the stream while it runs, but cannot rewrite, truncate or re-hash what is already on disk.
 */
#ifndef WSGATE_RECORDING_H
#define WSGATE_RECORDING_H

#include <stddef.h>
#include <stdint.h>

#define RECORDING_DIR "recordings"

struct recording_header {
	uint64_t id;
	uint64_t timestamp; /* epoch seconds of the start */
	uint32_t cols, rows;
	const char *user, *role, *project, *area, *addr, *kind, *command, *term;
};

struct recording {
	int fd;
	void *sha; /* EVP_MD_CTX */
	uint64_t bytes;
	int failed; /* a write failed: the file is short and the digest says so */
};

/* Creates state_dir/recordings/ID.cast (O_EXCL, 0600; the directory 0700 if absent) and writes
 * the header line. Returns 0 or -1 with why. */
int recording_create(const char *state_dir, const struct recording_header *h, struct recording *r,
		     char *why, size_t whylen);
/* Appends n bytes and hashes them. Returns 0 or -1 (errno; r->failed is set). */
int recording_write(struct recording *r, const void *p, size_t n);
/* Closes the file (after fsync) and gives the SHA-256 of every byte written and their count. */
int recording_finish(struct recording *r, uint8_t sha256[32], uint64_t *bytes);
/* Frees a recording without a digest (refused session). */
void recording_discard(struct recording *r);

/* Opens recording ID for reading (O_NOFOLLOW). Returns the fd or -1 with why. */
int recording_open(const char *state_dir, uint64_t id, char *why, size_t whylen);

#endif
