/* Per-area quotas enforced by the file system (see quota.h). */
#include "common/why.h"
#include "transfer/quota.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/quota.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The root directory of every btrfs subvolume has this inode number (BTRFS_FIRST_FREE_OBJECTID
 * in the kernel's btrfs_tree.h); any other directory has a larger one. */
#define BTRFS_SUBVOL_ROOT_INO 256
/* "Remove the limit" in BTRFS_IOC_QGROUP_LIMIT (the kernel's CLEAR_VALUE). */
#define BTRFS_LIMIT_CLEAR UINT64_MAX
/* quotactl's block unit (QIF_DQBLKSIZE). */
#define QUOTA_BLOCK 1024u

static int
on_btrfs(int fd)
{
	struct statfs sf;

	return fstatfs(fd, &sf) == 0 && sf.f_type == BTRFS_SUPER_MAGIC;
}

#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif

/* QCMD() from <linux/quota.h> shifts a signed int past its top bit (undefined behaviour);
 * the same value, computed unsigned. */
static int
quota_cmd(unsigned cmd, unsigned type)
{
	return (int)((cmd << 8) | (type & 0xffu));
}

static int
quotactl_fd(int fd, int cmd, int id, void *addr)
{
	return (int)syscall(SYS_quotactl_fd, fd, cmd, id, addr);
}

/* A limit request with no flag set changes nothing, and fails with ENOTCONN when quotas are off:
 * the one question "can this btrfs enforce a limit?" that needs no tree search. */
static enum quota_backend
probe_btrfs(int dirfd, char *why, size_t whylen)
{
	struct btrfs_ioctl_qgroup_limit_args a;

	memset(&a, 0, sizeof(a));
	if (ioctl(dirfd, BTRFS_IOC_QGROUP_LIMIT, &a) == 0)
		return QUOTA_BTRFS;
	if (errno == ENOTCONN)
		why_set(why, whylen,
			"btrfs quotas are not enabled on the work areas' file system "
			"(run: btrfs quota enable MOUNTPOINT)");
	else
		why_set(why, whylen, "btrfs quota groups: %s", strerror(errno));
	return QUOTA_NONE;
}

/* The file system's name for the operator's line; its magic number otherwise. */
static const char *
fs_name(unsigned long type, char *buf, size_t len)
{
	switch (type) {
	case EXT4_SUPER_MAGIC:
		return "ext4";
	case XFS_SUPER_MAGIC:
		return "XFS";
	case TMPFS_MAGIC:
		return "tmpfs";
	case OVERLAYFS_SUPER_MAGIC:
		return "overlayfs";
	}
	snprintf(buf, len, "type 0x%lx", type);
	return buf;
}

enum quota_backend
quota_probe(int dirfd, char *why, size_t whylen)
{
	struct if_dqinfo info;
	struct statfs sf;
	char name[32];

	if (fstatfs(dirfd, &sf) < 0) {
		why_set(why, whylen, "statfs: %s", strerror(errno));
		return QUOTA_NONE;
	}
	if (sf.f_type == BTRFS_SUPER_MAGIC)
		return probe_btrfs(dirfd, why, whylen);
	if (quotactl_fd(dirfd, quota_cmd(Q_GETINFO, PRJQUOTA), 0, &info) == 0)
		return QUOTA_PROJECT;
	if (errno == ENOSYS)
		why_set(why, whylen,
			"the work areas' file system is not btrfs and this kernel has no disk "
			"quotas (CONFIG_QUOTA)");
	else if (errno == ESRCH || errno == ENOENT || errno == EINVAL || errno == ENOTTY)
		why_set(why, whylen,
			"the work areas' file system (%s) is neither btrfs with quotas enabled "
			"nor XFS/ext4 mounted with project quotas (prjquota): %s",
			fs_name((unsigned long)sf.f_type, name, sizeof(name)), strerror(errno));
	else
		why_set(why, whylen, "project quotas: %s", strerror(errno));
	return QUOTA_NONE;
}

int
quota_mkdir(int parentfd, const char *name, mode_t mode)
{
	struct btrfs_ioctl_vol_args a;

	if (!on_btrfs(parentfd))
		return mkdirat(parentfd, name, mode) < 0 ? -errno : 0;
	memset(&a, 0, sizeof(a));
	if (strlen(name) >= sizeof(a.name))
		return -ENAMETOOLONG;
	memcpy(a.name, name, strlen(name));
	/* The new subvolume's root is 0755 root:root; area_ensure sets owner and mode next. */
	if (ioctl(parentfd, BTRFS_IOC_SUBVOL_CREATE, &a) < 0)
		return -errno;
	return 0;
}

static int
limit_btrfs(int areafd, uint64_t bytes, char *why, size_t whylen)
{
	struct btrfs_ioctl_qgroup_limit_args a;
	struct stat sb;

	if (fstat(areafd, &sb) < 0)
		return why_set(why, whylen, "stat: %s", strerror(errno));
	if (sb.st_ino != BTRFS_SUBVOL_ROOT_INO)
		return why_set(why, whylen,
			       "a plain directory, not a btrfs subvolume, so area_quota cannot be "
			       "enforced on it (docs/OPERATIONS.md, \"Area quotas\")");
	memset(&a, 0, sizeof(a));
	a.qgroupid = 0; /* the quota group of areafd's own subvolume */
	a.lim.flags = BTRFS_QGROUP_LIMIT_MAX_RFER;
	a.lim.max_rfer = bytes ? bytes : BTRFS_LIMIT_CLEAR;
	if (ioctl(areafd, BTRFS_IOC_QGROUP_LIMIT, &a) < 0)
		return why_set(why, whylen, "btrfs quota group limit: %s", strerror(errno));
	return 0;
}

/* The project id is the area directory's inode number: unique on its file system, stable, and
 * needs no allocation table. PROJINHERIT makes everything created beneath carry it. */
static int
limit_project(int areafd, uint64_t bytes, char *why, size_t whylen)
{
	struct fsxattr fx;
	struct if_dqblk q;
	struct stat sb;

	if (fstat(areafd, &sb) < 0 || ioctl(areafd, FS_IOC_FSGETXATTR, &fx) < 0)
		return why_set(why, whylen, "project id: %s", strerror(errno));
	if (sb.st_ino > UINT32_MAX)
		return why_set(why, whylen, "inode number too large for a project id");
	if (fx.fsx_projid != (uint32_t)sb.st_ino || !(fx.fsx_xflags & FS_XFLAG_PROJINHERIT)) {
		fx.fsx_projid = (uint32_t)sb.st_ino;
		fx.fsx_xflags |= FS_XFLAG_PROJINHERIT;
		if (ioctl(areafd, FS_IOC_FSSETXATTR, &fx) < 0)
			return why_set(why, whylen, "set project id: %s", strerror(errno));
	}
	memset(&q, 0, sizeof(q));
	q.dqb_bhardlimit = bytes / QUOTA_BLOCK;
	q.dqb_bsoftlimit = q.dqb_bhardlimit;
	q.dqb_valid = QIF_BLIMITS;
	if (quotactl_fd(areafd, quota_cmd(Q_SETQUOTA, PRJQUOTA), (int)fx.fsx_projid, &q) < 0)
		return why_set(why, whylen, "project quota: %s", strerror(errno));
	return 0;
}

int
quota_limit(int areafd, uint64_t bytes, char *why, size_t whylen)
{
	switch (quota_probe(areafd, why, whylen)) {
	case QUOTA_BTRFS:
		return limit_btrfs(areafd, bytes, why, whylen);
	case QUOTA_PROJECT:
		return limit_project(areafd, bytes, why, whylen);
	default:
		return -1;
	}
}
