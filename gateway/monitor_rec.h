/*
 * The monitor's half of session recordings (common/recording.h): a pipe from the worker, whose
 * lines the monitor copies into the file it created and hashes. Monitor only.
 */
#ifndef WSGATE_MONITOR_REC_H
#define WSGATE_MONITOR_REC_H

#include <stdint.h>

#include "common/recording.h"

struct monitor_rec {
	uint64_t id; /* 0: this session is not recorded */
	struct recording file;
	int rd; /* the pipe's read end, -1 once the worker closed its end and all was copied */
	uint64_t cap; /* most bytes the file may take (0: no cap) */
};

/* Creates recording h->id and the pipe; *worker_wr gets the end to pass to the worker. cap bounds
 * the file (0: none): an honest worker records only what the daily budgets let through, a
 * taken-over one must not fill state_dir's disk; past it the pipe is closed, which ends the
 * channel. Returns 0 or -1 with why. */
int monitor_rec_begin(struct monitor_rec *r, const char *state_dir,
		      const struct recording_header *h, uint64_t cap, int *worker_wr, char *why,
		      size_t whylen);
/* Copies what the pipe holds now into the file. Returns 1 once the worker's end is closed and
 * everything is copied (r->rd is then -1), else 0. */
int monitor_rec_pump(struct monitor_rec *r);
/* Closes the file: the detail for session.end ("recording=ID sha256=HEX bytes=N", with
 * "recording_failed=1" if a write failed) into out. */
void monitor_rec_end(struct monitor_rec *r, char *out, size_t outlen);
/* A refused session: closes everything and removes nothing (the file stays as evidence). */
void monitor_rec_discard(struct monitor_rec *r);

#endif
