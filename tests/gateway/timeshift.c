/*
 * LD_PRELOAD shim for tests only: time() runs off the real clock by
 *  - WSGATE_TIME_SHIFT seconds, fixed (wsgatectl creating an account that has already expired:
 *    it refuses a past date, rightly), or
 *  - the signed 64-bit offset in the first 8 bytes of WSGATE_TIME_FILE, read on every call, so
 *    a test can jump a running daemon's clock back and forward (test_clockjump.py).
 * The file is mapped once, when the shim loads: every process forked from there on sees the
 * test's writes without a system call, also the network worker in its chroot under seccomp,
 * where libfaketime cannot open its file and falls back to the real clock.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile const int64_t *shift_map;

__attribute__((constructor)) static void
timeshift_init(void)
{
	const char *path = getenv("WSGATE_TIME_FILE");
	void *p;
	int fd;

	if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	p = mmap(NULL, sizeof(int64_t), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p != MAP_FAILED)
		shift_map = p;
}

time_t
time(time_t *t)
{
	struct timespec ts;
	const char *s = getenv("WSGATE_TIME_SHIFT");
	time_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = ts.tv_sec + (s != NULL ? atol(s) : 0) + (shift_map != NULL ? *shift_map : 0);
	if (t != NULL)
		*t = now;
	return now;
}
