/* The worker's half of session recordings (recorder.h). */
#include "gateway/recorder.h"

#include <unistd.h>

#include "common/asciicast.h"
#include "common/fsutil.h"

void
recorder_start(struct recorder *r, int fd)
{
	r->fd = fd;
	r->bytes[0] = r->bytes[1] = 0;
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
}

static double
recorder_seconds(const struct recorder *r)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - r->t0.tv_sec) + (double)(now.tv_nsec - r->t0.tv_nsec) / 1e9;
}

int
recorder_event(struct recorder *r, char code, const uint8_t *p, size_t n)
{
	static char line[ASCIICAST_LINE_MAX];
	double t;

	if (r->fd < 0 || n == 0)
		return 0;
	t = recorder_seconds(r);
	r->bytes[code == 'i'] += n;
	/* Flushed per event: one write(2) per relayed chunk, nothing held back in the worker, so a
	 * crash loses nothing that reached the client (docs/audit.md has the cost). */
	while (n > 0) {
		size_t k = n < ASCIICAST_DATA_MAX ? n : ASCIICAST_DATA_MAX;
		size_t len = asciicast_event(t, code, p, k, line, sizeof(line));

		if (len == 0 || write_all(r->fd, line, len) < 0)
			return -1;
		p += k;
		n -= k;
	}
	return 0;
}

void
recorder_close(struct recorder *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}
