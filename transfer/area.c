/* Work areas under state_dir/projects (see area.h). */
#include "common/why.h"
#include "transfer/area.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/names.h"
#include "transfer/quota.h"

/* area_quota in bytes (0: none), set once per process from the config (area_set_quota). */
static uint64_t area_quota_bytes;

/* The capabilities that let an fsuid read or search what its permission bits refuse. The kernel
 * clears them from the effective set when the fsuid leaves 0 (capabilities(7)), unless
 * SECBIT_NO_SETUID_FIXUP is set; area_creds_enter checks rather than assumes. */
static int
creds_bypass_caps(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	const uint32_t bypass =
	    (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH) | (1u << CAP_FOWNER);

	if (syscall(SYS_capget, &hdr, data) < 0)
		return 1;
	return (data[0].effective & bypass) != 0;
}

/* setfsuid/setfsgid return the previous value whatever happens; an invalid id (-1) changes
 * nothing, so it is how the current one is read back. */
static int
creds_are(uid_t uid, gid_t gid)
{
	return (uid_t)setfsuid((uid_t)-1) == uid && (gid_t)setfsgid((gid_t)-1) == gid;
}

int
area_creds_enter(uid_t uid, gid_t gid, struct area_creds *saved)
{
	int n;

	memset(saved, 0, sizeof(*saved));
	if (uid == 0 || gid == 0 || uid == (uid_t)-1 || gid == (gid_t)-1)
		return -EPERM;
	if ((n = getgroups(0, NULL)) < 0)
		return -errno;
	if (n > 0) {
		if (!(saved->groups = calloc((size_t)n, sizeof(gid_t))))
			return -ENOMEM;
		if ((n = getgroups(n, saved->groups)) < 0) {
			n = -errno;
			free(saved->groups);
			saved->groups = NULL;
			return n;
		}
	}
	saved->ngroups = n;
	saved->fsgid = (gid_t)setfsgid((gid_t)-1);
	saved->fsuid = (uid_t)setfsuid((uid_t)-1);
	/* Groups first: root's supplementary groups (whatever the service manager gave the
	 * gateway) must not grant what the member's sandbox, which has none, could not read. */
	if (n > 0 && setgroups(0, NULL) < 0) {
		n = -errno;
		free(saved->groups);
		saved->groups = NULL;
		return n;
	}
	(void)setfsgid(gid);
	(void)setfsuid(uid);
	if (!creds_are(uid, gid) || getgroups(0, NULL) != 0 || creds_bypass_caps()) {
		area_creds_leave(saved);
		return -EPERM;
	}
	return 0;
}

void
area_creds_leave(struct area_creds *saved)
{
	gid_t *now = NULL;
	int ok;

	/* fsuid back to 0 first: the kernel raises the capabilities again, then setgroups
	 * (CAP_SETGID is not a filesystem capability and never left) can restore the groups. */
	(void)setfsuid(saved->fsuid);
	(void)setfsgid(saved->fsgid);
	ok = creds_are(saved->fsuid, saved->fsgid);
	if (ok && saved->ngroups > 0)
		ok = setgroups((size_t)saved->ngroups, saved->groups) == 0;
	if (ok && getgroups(0, NULL) != saved->ngroups)
		ok = 0;
	if (ok && saved->ngroups > 0) {
		ok = (now = calloc((size_t)saved->ngroups, sizeof(gid_t))) != NULL &&
		     getgroups(saved->ngroups, now) == saved->ngroups &&
		     memcmp(now, saved->groups, (size_t)saved->ngroups * sizeof(gid_t)) == 0;
		free(now);
	}
	if (!ok)
		fatal_f("cannot restore the filesystem identity (fsuid %u, fsgid %u, %d groups)",
			(unsigned)saved->fsuid, (unsigned)saved->fsgid, saved->ngroups);
	free(saved->groups);
	saved->groups = NULL;
	saved->ngroups = 0;
}

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

/* Makes name beneath dirfd a directory owned root:gid with exactly mode, not following links.
 * own_quota: the directory is an area, which must be able to carry its own limit (quota.h). */
static int
ensure_dir(int dirfd, const char *name, gid_t gid, mode_t mode, int own_quota, int *out)
{
	struct stat sb;
	int fd, rc;

	rc = own_quota ? quota_mkdir(dirfd, name, mode & 0777)
		       : (mkdirat(dirfd, name, mode & 0777) < 0 ? -errno : 0);
	if (rc < 0 && rc != -EEXIST)
		return rc;
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
	char path[4096], qwhy[256];
	int top = -1, pfd = -1, afd = -1, rc;

	if (!name_valid(project) || !name_valid(area))
		return why_set(why, whylen, "invalid project or area name");
	snprintf(path, sizeof(path), "%s/projects", state_dir);
	if (mkdir_p(path, 0700) < 0 ||
	    (top = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return why_set(why, whylen, "%s: %s", path, strerror(errno));
	/* projects/<p> is root's: analysts reach their area only through the sandbox's bind. */
	if ((rc = ensure_dir(top, project, 0, 0711, 0, &pfd)) < 0 ||
	    (rc = ensure_dir(pfd, area, gid, 02770, 1, &afd)) < 0 ||
	    (rc = ensure_dir(afd, "imports", gid, 02750, 0, NULL)) < 0) {
		snprintf(why, whylen, "area %s/%s: %s", project, area, strerror(-rc));
		rc = -1;
	} else if (area_quota_bytes && quota_limit(afd, area_quota_bytes, qwhy, sizeof(qwhy)) < 0) {
		/* An area whose limit cannot be set is not used: the limit is what keeps one
		 * analyst from filling the file system everyone's sessions and imports share. */
		snprintf(why, whylen, "area %s/%s: area_quota: %s", project, area, qwhy);
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

void
area_set_quota(uint64_t bytes)
{
	area_quota_bytes = bytes;
}

/* Applies the limit to every area under projects/<p>/; the first that refuses stops the walk. */
static int
quota_walk_project(int pfd, const char *project, uint64_t bytes, char *why, size_t whylen)
{
	char qwhy[256];
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	if (!(d = fdopendir(pfd))) {
		close(pfd);
		return why_set(why, whylen, "projects/%s: %s", project, strerror(errno));
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!name_valid(de->d_name))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue; /* not a directory: not an area */
		if (quota_limit(fd, bytes, qwhy, sizeof(qwhy)) < 0)
			rc = why_set(why, whylen, "area_quota: area %s/%s: %s", project, de->d_name,
				     qwhy);
		close(fd);
	}
	closedir(d);
	return rc;
}

int
area_quota_check(const char *state_dir, uint64_t bytes, char *why, size_t whylen)
{
	char path[4096], qwhy[256];
	struct dirent *de;
	DIR *d;
	int top, pfd, rc = 0;

	if (bytes == 0)
		return 0;
	snprintf(path, sizeof(path), "%s/projects", state_dir);
	if (mkdir_p(path, 0700) < 0 ||
	    (top = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return why_set(why, whylen, "area_quota: %s: %s", path, strerror(errno));
	if (quota_probe(top, qwhy, sizeof(qwhy)) == QUOTA_NONE) {
		close(top);
		return why_set(why, whylen, "area_quota is set but cannot be enforced on %s: %s",
			       path, qwhy);
	}
	if (!(d = fdopendir(top))) {
		close(top);
		return why_set(why, whylen, "%s: %s", path, strerror(errno));
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!name_valid(de->d_name))
			continue;
		pfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (pfd >= 0)
			rc = quota_walk_project(pfd, de->d_name, bytes, why, whylen);
	}
	closedir(d);
	return rc;
}
