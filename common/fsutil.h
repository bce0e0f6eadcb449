/* Small file helpers that retry on EINTR and short transfers. */
#ifndef WSGATE_FSUTIL_H
#define WSGATE_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

ssize_t write_all(int fd, const void *buf, size_t n); /* n, or -1 */
ssize_t read_all(int fd, void *buf, size_t n);	      /* bytes read (< n only at EOF), or -1 */
/* mkdir -p with the given mode for each created component; existing ones are left as they are. */
int mkdir_p(const char *path, mode_t mode);
/* fsync the directory that holds a just-created or renamed entry (durability of the name). */
int fsync_dir(const char *dir);
/* The path of program name in the directory of the running program (/proc/self/exe), as wsgated
 * finds wsgate-init, wsgate-confined, airlock and wsgatectl. It must be a regular file that
 * need (S_IXUSR, S_IXOTH, ...) lets run. Returns 0, or -1 with why. */
int exe_sibling(const char *name, mode_t need, char *out, size_t outlen, char *why,
		size_t whylen);

#endif
