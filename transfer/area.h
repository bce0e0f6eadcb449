/*
 * Work areas: state_dir/projects/<project>/<area>/, with imports/ inside. Names are validated
 * here (never paths), so no caller can point an area outside state_dir.
 * Ownership: root:<project gid>, mode 02770 (analysts of the project share it; new files keep
 * the group); imports/ is 02750: analysts read approved imports but cannot alter them.
 */
#ifndef WSGATE_AREA_H
#define WSGATE_AREA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int area_path(const char *state_dir, const char *project, const char *area, char *out,
	      size_t outlen);
/* Creates the area and its imports/ if missing, fixing owner and mode; returns 0 or <0 + why. */
int area_ensure(const char *state_dir, const char *project, const char *area, gid_t gid, char *why,
		size_t whylen);
/*
 * area_quota (transfer/quota.h). area_set_quota gives this process the configured limit (0: none):
 * from then on area_ensure creates each new area so that it can carry a limit (a btrfs subvolume)
 * and sets the limit on every call, so a changed area_quota reaches an area at its next session.
 * area_quota_check runs at daemon start: it refuses a limit that the file system under
 * state_dir/projects cannot enforce, and sets it on every existing area (refusing any that cannot
 * take it). Returns 0 or -1 with a one-line reason.
 */
void area_set_quota(uint64_t bytes);
int area_quota_check(const char *state_dir, uint64_t bytes, char *why, size_t whylen);

/* Opens the area's root directory (O_PATH|O_DIRECTORY, no symlinks on the way). */
int area_open(const char *state_dir, const char *project, const char *area, int *dirfd);

/* openat2(dirfd, path, RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS): no component
 * may be a symlink or climb out of dirfd. Returns an fd or -errno. */
int area_openat(int dirfd, const char *path, int flags, mode_t mode);

/*
 * A project member's filesystem identity, the one the member's sandbox has (sandbox/identity.c:
 * the account's uid, the project's gid, no supplementary groups). The airlock opens an export
 * source under it, so the kernel's own permission check, in the open itself, decides whether the
 * requester may read the file (issue 10 point 7): no separate check that a rename could outrun.
 *
 * area_creds_enter switches this thread's fsuid/fsgid (setfsuid(2) is per thread: the copy
 * threads of copyhash.c start later and only read the fd opened here) and the process's
 * supplementary groups to none, then checks that the kernel took all three and dropped the
 * capabilities that bypass file permissions. Returns 0, or -errno with everything restored
 * (uid or gid 0 is refused: root's fsuid would keep those capabilities).
 * area_creds_leave restores what enter saved and checks it; a restore that does not take is
 * fatal, because the caller would go on with the wrong identity.
 */
struct area_creds {
	uid_t fsuid;
	gid_t fsgid;
	int ngroups;
	gid_t *groups;
};
int area_creds_enter(uid_t uid, gid_t gid, struct area_creds *saved);
void area_creds_leave(struct area_creds *saved);

#endif
