/* The daemon's run lock (see runlock.h). */
#include "common/runlock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/why.h"

static int
lock_path(const char *state_dir, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/run/wsgated.lock", state_dir);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int
runlock_take(const char *state_dir, char *why, size_t whylen)
{
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	char path[PATH_MAX];
	int fd;

	if (lock_path(state_dir, path, sizeof(path)) < 0)
		return why_set(why, whylen, "state_dir too long");
	/* Read-only and empty: a worker that inherits the fd can do nothing with it. */
	fd = open(path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return why_set(why, whylen, "%s: %s", path, strerror(errno));
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		int e = errno;

		close(fd);
		return why_set(why, whylen, "%s: lock: %s", path, strerror(e));
	}
	return 0; /* fd stays open: closing any fd of the file would drop the lock */
}

pid_t
runlock_holder(const char *state_dir, char *why, size_t whylen)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char path[PATH_MAX];
	int fd;

	if (lock_path(state_dir, path, sizeof(path)) < 0)
		return why_set(why, whylen, "state_dir too long");
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return why_set(why, whylen, "%s: %s", path, strerror(errno));
	}
	/* F_GETLK asks "would a write lock conflict?": any reader's lock does. */
	if (fcntl(fd, F_GETLK, &fl) < 0) {
		int e = errno;

		close(fd);
		return why_set(why, whylen, "%s: %s", path, strerror(e));
	}
	close(fd);
	return fl.l_type == F_UNLCK ? 0 : fl.l_pid;
}
