/*
 * Work areas: state_dir/projects/<project>/<area>/, with imports/ inside. Names are validated
 * here (never paths), so no caller can point an area outside state_dir.
 * Ownership: root:<project gid>, mode 02770 (analysts of the project share it; new files keep
 * the group); imports/ is 02750: analysts read approved imports but cannot alter them.
 */
#ifndef WSGATE_AREA_H
#define WSGATE_AREA_H

#include <stddef.h>
#include <sys/types.h>

int area_path(const char *state_dir, const char *project, const char *area, char *out,
	      size_t outlen);
/* Creates the area and its imports/ if missing, fixing owner and mode; returns 0 or <0 + why. */
int area_ensure(const char *state_dir, const char *project, const char *area, gid_t gid, char *why,
		size_t whylen);
/* Opens the area's root directory (O_PATH|O_DIRECTORY, no symlinks on the way). */
int area_open(const char *state_dir, const char *project, const char *area, int *dirfd);

/* openat2(dirfd, path, RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS): no component
 * may be a symlink or climb out of dirfd. Returns an fd or -errno. */
int area_openat(int dirfd, const char *path, int flags, mode_t mode);

#endif
