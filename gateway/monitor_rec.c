/* The monitor's half of session recordings (monitor_rec.h). */
#include "gateway/monitor_rec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/why.h"

int
monitor_rec_begin(struct monitor_rec *r, const char *state_dir, const struct recording_header *h,
		  uint64_t cap, int *worker_wr, char *why, size_t whylen)
{
	int p[2];

	r->id = h->id;
	r->rd = -1;
	r->cap = cap;
	if (recording_create(state_dir, h, &r->file, why, whylen) < 0) {
		r->id = 0;
		return -1;
	}
	/* The read end is non-blocking: the monitor serves everything else from the same loop. The
	 * worker's end blocks: a recording is never silently skipped because the pipe was full. */
	if (pipe2(p, O_CLOEXEC) < 0 || fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		why_set(why, whylen, "recording pipe: %s", strerror(errno));
		recording_discard(&r->file);
		r->id = 0;
		return -1;
	}
	/* A larger pipe lets the worker run ahead while the monitor waits for the CPU: the worker's
	 * end blocks when it is full, and that would stall the session. Best effort (the default is
	 * 64K; /proc/sys/fs/pipe-max-size caps it). */
	(void)fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
	r->rd = p[0];
	*worker_wr = p[1];
	return 0;
}

int
monitor_rec_pump(struct monitor_rec *r)
{
	static uint8_t buf[65536];
	ssize_t n;

	if (r->rd < 0)
		return 1;
	for (int i = 0; i < 16; i++) { /* bounded: the loop has other work */
		n = read(r->rd, buf, sizeof(buf));
		if (n > 0 && r->cap && r->file.bytes + (uint64_t)n > r->cap) {
			log_err_f("recording %llu: larger than %llu bytes; the channel is ended",
				  (unsigned long long)r->id, (unsigned long long)r->cap);
			r->file.failed = 3;
			n = 0; /* as if the worker had closed it: the worker's next write fails */
		}
		if (n > 0) {
			if (recording_write(&r->file, buf, (size_t)n) < 0 && r->file.failed == 1) {
				log_err_f("recording %llu: %s", (unsigned long long)r->id,
					  strerror(errno));
				r->file.failed = 2; /* said once */
			}
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		close(r->rd); /* end of file, or the pipe broke: either way, nothing more comes */
		r->rd = -1;
		return 1;
	}
	return 0;
}

void
monitor_rec_end(struct monitor_rec *r, char *out, size_t outlen)
{
	uint8_t sha[32];
	char hex[65];
	uint64_t bytes = 0;
	int rc;

	out[0] = '\0';
	if (r->id == 0)
		return;
	if (r->rd >= 0) {
		close(r->rd);
		r->rd = -1;
	}
	rc = recording_finish(&r->file, sha, &bytes);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha[i]);
	snprintf(out, outlen, " recording=%llu sha256=%s bytes=%llu%s", (unsigned long long)r->id,
		 hex, (unsigned long long)bytes, rc < 0 ? " recording_failed=1" : "");
	r->id = 0;
}

void
monitor_rec_discard(struct monitor_rec *r)
{
	if (r->rd >= 0)
		close(r->rd);
	r->rd = -1;
	if (r->id)
		recording_discard(&r->file);
	r->id = 0;
}
