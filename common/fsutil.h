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

#endif
