/*
 * area_quota (SPEC "Limits under attack"): a per-area byte limit that the file system itself
 * enforces, so an analyst who fills an area gets EDQUOT ("Disk quota exceeded") from the kernel
 * in the write itself, whatever program writes, and the rest of state_dir keeps its space.
 *
 * Two backends, chosen by the file system that holds state_dir/projects:
 *   btrfs: each area is a subvolume (BTRFS_IOC_SUBVOL_CREATE) and its level-0 quota group gets a
 *          referenced-bytes limit (BTRFS_IOC_QGROUP_LIMIT). Needs `btrfs quota enable`.
 *   XFS, ext4: each area directory gets a project id (its own inode number) with the inherit
 *          flag (FS_IOC_FSSETXATTR), and the project's block hard limit is set with
 *          quotactl_fd(Q_SETQUOTA, PRJQUOTA). Needs a kernel with CONFIG_QUOTA (or XFS's own)
 *          and the file system mounted with project quotas (prjquota).
 * Kernel ioctls rather than the btrfs/xfs_quota programs: no fork+exec of a tool whose output
 * we would parse, and every failure comes back as an errno we can name.
 */
#ifndef WSGATE_QUOTA_H
#define WSGATE_QUOTA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum quota_backend { QUOTA_NONE, QUOTA_BTRFS, QUOTA_PROJECT };

/* Which backend can enforce a limit beneath dirfd (a directory on the areas' file system).
 * QUOTA_NONE with a one-line reason in why when neither can. */
enum quota_backend quota_probe(int dirfd, char *why, size_t whylen);

/* Creates directory name beneath parentfd: a btrfs subvolume when parentfd is on btrfs (so a
 * limit can be set on it later, even if quotas are enabled after), a plain directory otherwise.
 * Returns 0 or -errno (-EEXIST when it exists). */
int quota_mkdir(int parentfd, const char *name, mode_t mode);

/* Sets the limit of the area whose root directory is areafd to bytes (0: no limit). Refuses an
 * area that the backend cannot limit (a plain directory on btrfs, made before area_quota).
 * Returns 0 or -1 with why. */
int quota_limit(int areafd, uint64_t bytes, char *why, size_t whylen);

#endif
