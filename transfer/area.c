/* Work areas under state_dir/projects (see area.h). */
#include "common/why.h"
#include "transfer/area.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/names.h"

int
area_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	do {
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	} while (fd < 0 && (errno == EINTR || errno == EAGAIN));
	return fd < 0 ? -errno : (int)fd;
}

int
area_path(const char *state_dir, const char *project, const char *area, char *out, size_t outlen)
{
	int n;

	if (!name_valid(project) || !name_valid(area))
		return -EINVAL;
	n = snprintf(out, outlen, "%s/projects/%s/%s", state_dir, project, area);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* Makes name beneath dirfd a directory owned root:gid with exactly mode, not following links. */
static int
ensure_dir(int dirfd, const char *name, gid_t gid, mode_t mode, int *out)
{
	struct stat sb;
	int fd;

	if (mkdirat(dirfd, name, mode & 0777) < 0 && errno != EEXIST)
		return -errno;
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 ||
	    (sb.st_uid != 0 || sb.st_gid != gid ? fchown(fd, 0, gid) : 0) < 0 ||
	    ((sb.st_mode & 07777) != mode ? fchmod(fd, mode) : 0) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (out)
		*out = fd;
	else
		close(fd);
	return 0;
}

int
area_ensure(const char *state_dir, const char *project, const char *area, gid_t gid, char *why,
	    size_t whylen)
{
	char path[4096];
	int top = -1, pfd = -1, afd = -1, rc;

	if (!name_valid(project) || !name_valid(area))
		return why_set(why, whylen, "invalid project or area name");
	snprintf(path, sizeof(path), "%s/projects", state_dir);
	if (mkdir_p(path, 0700) < 0 ||
	    (top = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return why_set(why, whylen, "%s: %s", path, strerror(errno));
	/* projects/<p> is root's: analysts reach their area only through the sandbox's bind. */
	if ((rc = ensure_dir(top, project, 0, 0711, &pfd)) < 0 ||
	    (rc = ensure_dir(pfd, area, gid, 02770, &afd)) < 0 ||
	    (rc = ensure_dir(afd, "imports", gid, 02750, NULL)) < 0) {
		snprintf(why, whylen, "area %s/%s: %s", project, area, strerror(-rc));
		rc = -1;
	} else {
		rc = 0;
	}
	if (afd >= 0)
		close(afd);
	if (pfd >= 0)
		close(pfd);
	close(top);
	return rc;
}

int
area_open(const char *state_dir, const char *project, const char *area, int *dirfd)
{
	char rel[2 * NAME_MAX_LEN + 16];
	int top, fd;

	if (!name_valid(project) || !name_valid(area))
		return -EINVAL;
	/* state_dir comes from root's config and may itself contain links; below it, nothing may.
	 */
	if ((top = open(state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	snprintf(rel, sizeof(rel), "projects/%s/%s", project, area);
	fd = area_openat(top, rel, O_PATH | O_DIRECTORY, 0);
	close(top);
	if (fd < 0)
		return fd;
	*dirfd = fd;
	return 0;
}
