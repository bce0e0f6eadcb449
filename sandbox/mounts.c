/*
 * The sandbox's filesystem: a fresh tmpfs root built in the child's private mount namespace and
 * entered with pivot_root, the way bubblewrap does it:
 *
 *   1. a scratch tmpfs on /tmp becomes the root; the host's root is then at /oldroot,
 *   2. the new root is assembled under /newroot from /oldroot/<host path> binds,
 *   3. /oldroot is detached and /newroot pivoted into place, so no path leads back.
 *
 * What the sandbox sees: /usr and the merged-usr links read-only and nosuid; a generated /etc
 * (passwd and group with only this user, no resolv.conf) plus read-only host essentials; the
 * area read-write at /work; a private size-limited /tmp and /dev/shm; /proc of its own pid
 * namespace with hidepid=invisible and /proc/sys read-only; a minimal /dev with its own devpts.
 * Everything else (state_dir, other projects and areas, home directories) simply is not there.
 *
 * The configured hidden paths ([sandbox] hide: scp, sftp, ssh, ...) do not exist either: each
 * directory that holds one is covered by a read-only overlay of two layers: a small tmpfs with
 * a whiteout for every hidden name in it, above the directory itself (mounts_hide()).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <dirent.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/nitems.h"
#include "common/why.h"
#include "sandbox/sandbox_int.h"

#define NR "/newroot"
#define OR "/oldroot"
#define RO_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV)

/* Host directories shown read-only when they are real directories; symlinks (merged /usr) are
 * recreated as the same symlinks. */
/* clang-format off */
static const char *const mounts_top[] = {
	"usr", "bin", "sbin",
	"lib", "lib32", "lib64", "libx32",
	NULL,
};
/* clang-format on */

/* Host /etc entries the tools need: the loader cache, alternatives (awk is one), R's and
 * Python's configuration, time zone, locale aliases, fonts for plots. Nothing with secrets, no
 * network configuration, nothing only an administrator's tool reads. */
/* clang-format off */
static const char *const mounts_etc[] = {
	"ld.so.cache", "alternatives",		/* the loader; awk and friends */
	"localtime", "timezone", "locale.alias",	/* time and locale */
	"bash.bashrc", "inputrc", "vim",		/* the interactive shell */
	"R", "python3", "python3.11", "matplotlibrc", "fonts",	/* analysis tools and plots */
	"os-release",
	NULL,
};
/* clang-format on */

/* bash -l runs /etc/profile; Debian's resets PATH, which would lose the airlock directory. */
static const char mounts_profile[] =
    "# wsgate sandbox\n"
    "umask 007\n"
    "if [ \"${BASH-}\" ] && [ \"$BASH\" != /bin/sh ] && [ -r /etc/bash.bashrc ]; then\n"
    "\t. /etc/bash.bashrc\n"
    "fi\n";

static int
mounts_fail(char *why, size_t whylen, const char *what, const char *path)
{
	return why_set(why, whylen, "%s %s: %s", what, path, strerror(errno));
}

static int
mounts_bind(const char *src, const char *dst, unsigned long flags, char *why, size_t whylen)
{
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return mounts_fail(why, whylen, "bind", dst);
	/* The per-mount flags of a bind can only be set by a remount. */
	if (mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
		return mounts_fail(why, whylen, "remount", dst);
	return 0;
}

static int
mounts_tmpfs(const char *dst, unsigned long flags, const char *mode, uint64_t size, char *why,
	     size_t whylen)
{
	char opts[96];

	snprintf(opts, sizeof(opts), "mode=%s,size=%llu", mode, (unsigned long long)size);
	if (mount("tmpfs", dst, "tmpfs", flags, opts) < 0)
		return mounts_fail(why, whylen, "tmpfs", dst);
	return 0;
}

static int
mounts_write(const char *path, const char *text, mode_t mode, char *why, size_t whylen)
{
	int fd, ret = 0;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)) < 0)
		return mounts_fail(why, whylen, "create", path);
	if (write_all(fd, text, strlen(text)) < 0)
		ret = mounts_fail(why, whylen, "write", path);
	if (close(fd) < 0 && ret == 0)
		ret = mounts_fail(why, whylen, "close", path);
	return ret;
}

static int
mounts_mkfile(const char *path, char *why, size_t whylen)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    close(fd) < 0)
		return mounts_fail(why, whylen, "create", path);
	return 0;
}

#define MOUNTS_COPY_MAX (256 * 1024)

static int
mounts_copy(const char *src, const char *dst, char *why, size_t whylen)
{
	struct stat st;
	ssize_t n;
	off_t total = 0;
	int in, out, ret = 0;

	if ((in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return mounts_fail(why, whylen, "open", src);
	/* A copy is owned by root like the original; a file the world may not read on the host
	 * is not copied at all (a bind would keep its mode, a copy might not). */
	if (fstat(in, &st) < 0 || !(st.st_mode & S_IROTH)) {
		(void)close(in);
		return 0;
	}
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			st.st_mode & 0755)) < 0) {
		(void)close(in);
		return mounts_fail(why, whylen, "create", dst);
	}
	/* In-kernel copy: no buffer in the child, whose memory is a copy of the monitor's. */
	while ((n = sendfile(out, in, NULL, MOUNTS_COPY_MAX)) > 0 && total < MOUNTS_COPY_MAX)
		total += n;
	if (n < 0)
		ret = mounts_fail(why, whylen, "copy", src);
	(void)close(in);
	if (close(out) < 0 && ret == 0)
		ret = mounts_fail(why, whylen, "close", dst);
	return ret;
}

#define MOUNTS_DIR_COPY_MAX 32

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* A small flat directory (regular files and symlinks only, at most MOUNTS_DIR_COPY_MAX of them)
 * is copied entry by entry: cheaper than a bind and its remount. Returns 1 if copied, 0 if the
 * directory does not qualify (the caller binds it), -1 on error. getdents64 on a stack buffer:
 * the child must not call malloc (opendir does). */
static int
mounts_copy_dir(const char *src, const char *dst, char *why, size_t whylen)
{
	char buf[8192], s[PATH_MAX], d[PATH_MAX], target[PATH_MAX];
	struct linux_dirent64 *e;
	struct stat st;
	long n, off;
	ssize_t len;
	int fd, count = 0;

	if ((fd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return mounts_fail(why, whylen, "open", src);
	n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
	/* One buffer must hold it all: a second read means a big directory, which is bound. */
	if (n > 0 && syscall(SYS_getdents64, fd, buf + n, sizeof(buf) - n) != 0)
		n = -2;
	for (off = 0; n > 0 && off < n; off += e->d_reclen) {
		e = (struct linux_dirent64 *)(buf + off);
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((e->d_type != DT_REG && e->d_type != DT_LNK) || ++count > MOUNTS_DIR_COPY_MAX ||
		    (e->d_type == DT_REG && (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
					     st.st_size >= MOUNTS_COPY_MAX)))
			n = -2;
	}
	(void)close(fd);
	if (n < 0)
		return 0;
	if (mkdir(dst, 0755) < 0)
		return mounts_fail(why, whylen, "mkdir", dst);
	for (off = 0; off < n; off += e->d_reclen) {
		e = (struct linux_dirent64 *)(buf + off);
		if (e->d_type != DT_REG && e->d_type != DT_LNK)
			continue;
		if ((size_t)snprintf(s, sizeof(s), "%s/%s", src, e->d_name) >= sizeof(s) ||
		    (size_t)snprintf(d, sizeof(d), "%s/%s", dst, e->d_name) >= sizeof(d))
			return why_set(why, whylen, "path too long under %s", src);
		if (e->d_type == DT_LNK) {
			if ((len = readlink(s, target, sizeof(target) - 1)) < 0)
				return mounts_fail(why, whylen, "readlink", s);
			target[len] = '\0';
			if (symlink(target, d) < 0)
				return mounts_fail(why, whylen, "symlink", d);
		} else if (mounts_copy(s, d, why, whylen) < 0) {
			return -1;
		}
	}
	return 1;
}

/* Shows host path src (relative to /oldroot) at dst: symlinks recreated, small files copied,
 * directories and large files bound read-only. A missing src is skipped. */
static int
mounts_mirror(const char *src, const char *dst, char *why, size_t whylen)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int rc;

	if (lstat(src, &st) < 0)
		return 0;
	if (S_ISLNK(st.st_mode)) {
		if ((n = readlink(src, target, sizeof(target) - 1)) < 0)
			return mounts_fail(why, whylen, "readlink", src);
		target[n] = '\0';
		if (symlink(target, dst) < 0)
			return mounts_fail(why, whylen, "symlink", dst);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		/* A directory bigger than one block has too many entries to copy. */
		if (st.st_size <= 4096 && (rc = mounts_copy_dir(src, dst, why, whylen)) != 0)
			return rc < 0 ? -1 : 0;
		if (mkdir(dst, 0755) < 0)
			return mounts_fail(why, whylen, "mkdir", dst);
	} else if (S_ISREG(st.st_mode) && st.st_size < MOUNTS_COPY_MAX) {
		/* A small file is copied: cheaper than a bind and its remount. */
		return mounts_copy(src, dst, why, whylen);
	} else if (S_ISREG(st.st_mode)) {
		if (mounts_mkfile(dst, why, whylen) < 0)
			return -1;
	} else {
		return 0;
	}
	return mounts_bind(src, dst, RO_FLAGS, why, whylen);
}

static int
mounts_host(char *why, size_t whylen)
{
	char src[PATH_MAX], dst[PATH_MAX];
	int i;

	for (i = 0; mounts_top[i]; i++) {
		snprintf(src, sizeof(src), OR "/%s", mounts_top[i]);
		snprintf(dst, sizeof(dst), NR "/%s", mounts_top[i]);
		if (mounts_mirror(src, dst, why, whylen) < 0)
			return -1;
	}
	for (i = 0; mounts_etc[i]; i++) {
		snprintf(src, sizeof(src), OR "/etc/%s", mounts_etc[i]);
		snprintf(dst, sizeof(dst), NR "/etc/%s", mounts_etc[i]);
		if (mounts_mirror(src, dst, why, whylen) < 0)
			return -1;
	}
	return 0;
}

/* The account database holds this user and the project group, nothing else: no names of other
 * accounts, and no resolv.conf (there is no network to resolve on). */
static int
mounts_etc_generated(const struct sandbox_spec *spec, char *why, size_t whylen)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s:x:%u:%u::" SANDBOX_HOME ":/bin/bash\n", spec->user,
		 (unsigned)spec->uid, (unsigned)spec->gid);
	if (mounts_write(NR "/etc/passwd", buf, 0644, why, whylen) < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%s:x:%u:%s\n", spec->group ? spec->group : "project",
		 (unsigned)spec->gid, spec->user);
	if (mounts_write(NR "/etc/group", buf, 0644, why, whylen) < 0 ||
	    mounts_write(NR "/etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n",
			 0644, why, whylen) < 0 ||
	    mounts_write(NR "/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n",
			 0644, why, whylen) < 0 ||
	    mounts_write(NR "/etc/hostname", SANDBOX_HOSTNAME "\n", 0644, why, whylen) < 0 ||
	    mounts_write(NR "/etc/profile", mounts_profile, 0644, why, whylen) < 0)
		return -1;
	return 0;
}

static int
mounts_dev(uint64_t shm_size, const char *tty, char *why, size_t whylen)
{
	static const struct {
		const char *name;
		unsigned int maj, min;
	} nodes[] = {{"null", 1, 3},   {"zero", 1, 5},	  {"full", 1, 7},
		     {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
	static const char *const links[][2] = {{"ptmx", "pts/ptmx"},
					       {"fd", "/proc/self/fd"},
					       {"stdin", "/proc/self/fd/0"},
					       {"stdout", "/proc/self/fd/1"},
					       {"stderr", "/proc/self/fd/2"}};
	char path[64];
	size_t i;

	if (mkdir(NR "/dev", 0755) < 0)
		return mounts_fail(why, whylen, "mkdir", NR "/dev");
	if (mounts_tmpfs(NR "/dev", MS_NOSUID | MS_NOEXEC, "0755", 65536, why, whylen) < 0)
		return -1;
	for (i = 0; i < nitems(nodes); i++) {
		snprintf(path, sizeof(path), NR "/dev/%s", nodes[i].name);
		if (mknod(path, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)) < 0 ||
		    chmod(path, 0666) < 0)
			return mounts_fail(why, whylen, "mknod", path);
	}
	for (i = 0; i < nitems(links); i++) {
		snprintf(path, sizeof(path), NR "/dev/%s", links[i][0]);
		if (symlink(links[i][1], path) < 0)
			return mounts_fail(why, whylen, "symlink", path);
	}
	if (mkdir(NR "/dev/pts", 0755) < 0 || mkdir(NR "/dev/shm", 01777) < 0)
		return mounts_fail(why, whylen, "mkdir", NR "/dev");
	/* A devpts of its own: ptys opened inside (python pty, expect, script) are invisible to
	 * the host and to other sandboxes. The session's terminal is the monitor's pty slave. */
	if (mount("devpts", NR "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0)
		return mounts_fail(why, whylen, "devpts", NR "/dev/pts");
	/* The session's terminal lives in the host's devpts, which is not mounted here; bound at
	 * /dev/console (as LXC does) ttyname() finds it and tty(1) answers. */
	if (tty != NULL) {
		if (strncmp(tty, "/dev/pts/", 9) != 0 ||
		    (size_t)snprintf(path, sizeof(path), OR "%s", tty) >= sizeof(path))
			return why_set(why, whylen, "unexpected pty name %s", tty);
		if (mounts_mkfile(NR "/dev/console", why, whylen) < 0 ||
		    mounts_bind(path, NR "/dev/console", MS_NOSUID | MS_NOEXEC, why, whylen) < 0)
			return -1;
	}
	return mounts_tmpfs(NR "/dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, "1777", shm_size, why,
			    whylen);
}

static int
mounts_proc(char *why, size_t whylen)
{
	/* The rest of /proc that is writable at all is writable by root only, and nobody is
	 * root here; these two are pinned read-only as well, as defence in depth. */
	static const char *const ro[] = {"sys", "sysrq-trigger", NULL};
	char path[64];
	int i;

	if (mkdir(NR "/proc", 0555) < 0)
		return mounts_fail(why, whylen, "mkdir", NR "/proc");
	/* This pid namespace's proc; hidepid: only one's own processes are listed (the sandbox's
	 * init runs under the same uid but is not dumpable). */
	if (mount("proc", NR "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") < 0)
		return mounts_fail(why, whylen, "proc", NR "/proc");
	for (i = 0; ro[i]; i++) {
		snprintf(path, sizeof(path), NR "/proc/%s", ro[i]);
		if (access(path, F_OK) < 0)
			continue;
		if (mounts_bind(path, path, RO_FLAGS | MS_NOEXEC, why, whylen) < 0)
			return -1;
	}
	return 0;
}

/* The area. The monitor built the path from state_dir and names; state_dir itself may sit
 * behind a symlink (/var/lib -> /data/...), so the path is resolved, but the area directory
 * itself must be a real directory, never a link planted in its place. */
static int
mounts_work(const char *work_dir, char *why, size_t whylen)
{
	char src[PATH_MAX], real[PATH_MAX];
	struct stat st;

	if (work_dir == NULL || work_dir[0] != '/' ||
	    (size_t)snprintf(src, sizeof(src), OR "%s", work_dir) >= sizeof(src))
		return why_set(why, whylen, "work_dir must be an absolute path");
	while (strlen(src) > sizeof(OR) && src[strlen(src) - 1] == '/')
		src[strlen(src) - 1] = '\0';
	if (lstat(src, &st) < 0)
		return mounts_fail(why, whylen, "work_dir", work_dir);
	if (!S_ISDIR(st.st_mode))
		return why_set(why, whylen, "work_dir %s is not a directory", work_dir);
	if (realpath(src, real) == NULL)
		return mounts_fail(why, whylen, "work_dir", work_dir);
	if (mkdir(NR SANDBOX_WORK, 0755) < 0)
		return mounts_fail(why, whylen, "mkdir", NR SANDBOX_WORK);
	if (mounts_bind(real, NR SANDBOX_WORK, MS_NOSUID | MS_NODEV, why, whylen) < 0)
		return -1;
	/* /work is group-writable, so without this a member could rename imports/ away and put
	 * a directory or symlink of their own in its place, for the airlock to deliver into. A
	 * mount point cannot be renamed or removed, and the bind keeps it read-only even if its
	 * mode is ever loosened. Only the real, root-owned directory is pinned. */
	if (lstat(NR SANDBOX_WORK "/imports", &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0)
		return mounts_bind(NR SANDBOX_WORK "/imports", NR SANDBOX_WORK "/imports", RO_FLAGS,
				   why, whylen);
	return 0;
}

static int
mounts_airlock(const struct sandbox_spec *spec, char *why, size_t whylen)
{
	char src[PATH_MAX];

	if (mkdir(NR "/run", 0755) < 0 || mkdir(NR "/run/wsgate", 0755) < 0 ||
	    mkdir(NR SANDBOX_BIN_DIR, 0755) < 0)
		return mounts_fail(why, whylen, "mkdir", NR "/run/wsgate");
	if (spec->airlock_sock) {
		snprintf(src, sizeof(src), OR "%s", spec->airlock_sock);
		if (mounts_mkfile(NR SANDBOX_AIRLOCK_SOCK, why, whylen) < 0 ||
		    mounts_bind(src, NR SANDBOX_AIRLOCK_SOCK, MS_NOSUID | MS_NODEV | MS_NOEXEC, why,
				whylen) < 0)
			return -1;
	}
	if (spec->airlock_bin) {
		snprintf(src, sizeof(src), OR "%s", spec->airlock_bin);
		if (mounts_mkfile(NR SANDBOX_BIN_DIR "/airlock", why, whylen) < 0 ||
		    mounts_bind(src, NR SANDBOX_BIN_DIR "/airlock", RO_FLAGS, why, whylen) < 0)
			return -1;
	}
	return 0;
}

static int
mounts_newroot(const struct sandbox_spec *spec, const char *tty, char *why, size_t whylen)
{
	uint64_t tmp = spec->limits.tmp_size ? spec->limits.tmp_size : 64ULL << 20;

	if (mkdir(NR "/etc", 0755) < 0 || mkdir(NR "/var", 0755) < 0 ||
	    symlink("/tmp", NR "/var/tmp") < 0 || mkdir(NR "/tmp", 01777) < 0)
		return mounts_fail(why, whylen, "mkdir", NR);
	if (mounts_host(why, whylen) < 0 || mounts_etc_generated(spec, why, whylen) < 0 ||
	    mounts_work(spec->work_dir, why, whylen) < 0 ||
	    mounts_tmpfs(NR "/tmp", MS_NOSUID | MS_NODEV, "1777", tmp, why, whylen) < 0 ||
	    mounts_dev(tmp, tty, why, whylen) < 0 || mounts_proc(why, whylen) < 0 ||
	    mounts_airlock(spec, why, whylen) < 0)
		return -1;
	return 0;
}

/* ---- hidden paths ---- */

/* The whiteout layers live here, on a tmpfs of their own, only while the overlays are mounted;
 * an overlay keeps its own references to its layers, so the mount and directory then go. */
#define HIDE_DIR "/.wsgate-hide"
#define HIDE_MAX 32
#define HIDE_PATH_MAX 256

struct hide_plan {
	char dir[HIDE_MAX][HIDE_PATH_MAX];  /* resolved parent directories, one overlay each */
	char name[HIDE_MAX][HIDE_PATH_MAX]; /* hidden entry */
	int group[HIDE_MAX];		    /* its index in dir[] */
	int ndirs, nnames;
};

/* Only the read-only host views of mounts_top (whose binds hold no mounts below them, which an
 * overlay would cover) can hold a hidden path; a directory of its own is refused loudly rather
 * than overlaid. */
static int
hide_dir_allowed(const char *dir)
{
	size_t len;
	int i;

	for (i = 0; mounts_top[i]; i++) {
		len = strlen(mounts_top[i]);
		if (dir[0] == '/' && strncmp(dir + 1, mounts_top[i], len) == 0 &&
		    (dir[1 + len] == '\0' || dir[1 + len] == '/'))
			return 1;
	}
	return 0;
}

/* Resolves each configured path in the sandbox's own view (after the pivot): the parent
 * through the sandbox's symlinks (/bin/ssh and /usr/bin/ssh are one entry with merged /usr),
 * the entry itself not followed (hiding the symlink /usr/bin/slogin hides that name; hiding its
 * target /usr/bin/ssh leaves slogin dangling). A path absent here has nothing to hide. */
static int
hide_plan(const struct sandbox_spec *spec, struct hide_plan *p, char *why, size_t whylen)
{
	char path[HIDE_PATH_MAX], dir[PATH_MAX], full[PATH_MAX], *slash;
	struct stat st;
	size_t i, len;
	int g;

	memset(p, 0, sizeof(*p));
	if (spec->nhide > HIDE_MAX)
		return why_set(why, whylen, "more than %d hidden paths", HIDE_MAX);
	for (i = 0; i < spec->nhide; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s", spec->hide[i]) >= sizeof(path) ||
		    path[0] != '/')
			return why_set(why, whylen, "hidden path %.60s is not absolute",
				       spec->hide[i]);
		while ((len = strlen(path)) > 1 && path[len - 1] == '/')
			path[len - 1] = '\0';
		slash = strrchr(path, '/');
		*slash = '\0';
		if (slash[1] == '\0' || strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0)
			return why_set(why, whylen, "hidden path %.60s has no name", spec->hide[i]);
		if (realpath(path[0] ? path : "/", dir) == NULL) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return mounts_fail(why, whylen, "hidden path", spec->hide[i]);
		}
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", dir, slash + 1) >= sizeof(full))
			return why_set(why, whylen, "hidden path %.60s too long", spec->hide[i]);
		if (lstat(full, &st) < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return mounts_fail(why, whylen, "hidden path", spec->hide[i]);
		}
		/* The overlay's options separate layers by ':' and options by ','. */
		if (!hide_dir_allowed(dir) || strlen(dir) >= HIDE_PATH_MAX || strpbrk(dir, ",:\\"))
			return why_set(why, whylen,
				       "hidden path %.60s: only entries under /usr, /bin, /sbin "
				       "and /lib* can be hidden",
				       spec->hide[i]);
		for (g = 0; g < p->ndirs && strcmp(p->dir[g], dir) != 0; g++)
			;
		if (g == p->ndirs)
			memcpy(p->dir[p->ndirs++], dir, strlen(dir) + 1);
		p->group[p->nnames] = g;
		memcpy(p->name[p->nnames++], slash + 1, strlen(slash + 1) + 1);
	}
	return 0;
}

/* One overlay per directory: lowerdir=WHITEOUTS:DIR mounted on DIR. A whiteout (a character
 * device 0/0) in an upper lower layer makes the name absent from the merged directory: lookup,
 * stat, open and exec all answer ENOENT, and readdir does not list it. Shallower directories
 * first: a deeper one is mounted inside its parent's overlay, or skipped if that hid it. */
static int
mounts_hide(const struct sandbox_spec *spec, char *why, size_t whylen)
{
	struct hide_plan plan;
	char layer[32], node[sizeof(layer) + HIDE_PATH_MAX + 2], opts[2 * sizeof(node)];
	int order[HIDE_MAX], i, j, k, t, ret = 0;
	struct stat st;

	if (spec->nhide == 0)
		return 0;
	if (hide_plan(spec, &plan, why, whylen) < 0)
		return -1;
	if (plan.nnames == 0)
		return 0;
	for (i = 0; i < plan.ndirs; i++)
		order[i] = i;
	for (i = 1; i < plan.ndirs; i++)
		for (j = i; j > 0 && strlen(plan.dir[order[j]]) < strlen(plan.dir[order[j - 1]]);
		     j--) {
			t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	if (mkdir(HIDE_DIR, 0700) < 0)
		return mounts_fail(why, whylen, "mkdir", HIDE_DIR);
	if (mounts_tmpfs(HIDE_DIR, MS_NOSUID | MS_NOEXEC, "0700", 1 << 20, why, whylen) < 0)
		return -1;
	for (i = 0; i < plan.ndirs && ret == 0; i++) {
		k = order[i];
		if (lstat(plan.dir[k], &st) < 0 || !S_ISDIR(st.st_mode))
			continue; /* inside a directory hidden a step before */
		snprintf(layer, sizeof(layer), HIDE_DIR "/%d", k);
		if (mkdir(layer, 0755) < 0) {
			ret = mounts_fail(why, whylen, "mkdir", layer);
			break;
		}
		for (j = 0; j < plan.nnames && ret == 0; j++) {
			if (plan.group[j] != k)
				continue;
			if ((size_t)snprintf(node, sizeof(node), "%s/%s", layer, plan.name[j]) >=
			    sizeof(node)) {
				ret = why_set(why, whylen, "hidden name %.60s too long",
					      plan.name[j]);
				break;
			}
			if (mknod(node, S_IFCHR, makedev(0, 0)) < 0)
				ret = mounts_fail(why, whylen, "whiteout", node);
		}
		if (ret == 0 && (size_t)snprintf(opts, sizeof(opts), "lowerdir=%s:%s", layer,
						 plan.dir[k]) >= sizeof(opts))
			ret = why_set(why, whylen, "hidden directory %.60s too long", plan.dir[k]);
		if (ret == 0 && mount("overlay", plan.dir[k], "overlay", RO_FLAGS, opts) < 0)
			ret = mounts_fail(why, whylen, "overlay", plan.dir[k]);
	}
	if (umount2(HIDE_DIR, MNT_DETACH) < 0 && ret == 0)
		ret = mounts_fail(why, whylen, "umount", HIDE_DIR);
	if (rmdir(HIDE_DIR) < 0 && ret == 0)
		ret = mounts_fail(why, whylen, "rmdir", HIDE_DIR);
	return ret;
}

int
mounts_setup(const struct sandbox_spec *spec, const char *tty, char *why, size_t whylen)
{
	/* Nothing we mount may propagate back to the host, nor host mounts in. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return mounts_fail(why, whylen, "make private", "/");
	/* Step 1: a scratch root. /tmp is only a mount point here; once pivoted, the host's own
	 * /tmp is visible again under /oldroot/tmp. */
	if (mounts_tmpfs("/tmp", MS_NOSUID | MS_NODEV, "0755", 1 << 20, why, whylen) < 0)
		return -1;
	if (mkdir("/tmp" NR, 0755) < 0 || mkdir("/tmp" OR, 0755) < 0)
		return mounts_fail(why, whylen, "mkdir", "/tmp" NR);
	if (syscall(SYS_pivot_root, "/tmp", "/tmp" OR) < 0 || chdir("/") < 0)
		return mounts_fail(why, whylen, "pivot_root", "/tmp");
	/* Step 2: the new root, a tmpfs made read-only once assembled. */
	if (mounts_tmpfs(NR, MS_NOSUID | MS_NODEV, "0755", 4 << 20, why, whylen) < 0 ||
	    mounts_newroot(spec, tty, why, whylen) < 0)
		return -1;
	/* Step 3: cut every path to the host and enter the new root. */
	if (umount2(OR, MNT_DETACH) < 0)
		return mounts_fail(why, whylen, "umount", OR);
	if (chdir(NR) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return mounts_fail(why, whylen, "pivot_root", NR);
	/* In the sandbox's own view, so that its symlinks resolve as the user's would. */
	if (mounts_hide(spec, why, whylen) < 0)
		return -1;
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | RO_FLAGS, NULL) < 0)
		return mounts_fail(why, whylen, "remount read-only", "/");
	if (chdir(SANDBOX_WORK) < 0)
		return mounts_fail(why, whylen, "chdir", SANDBOX_WORK);
	return 0;
}
