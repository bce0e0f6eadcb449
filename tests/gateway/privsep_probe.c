/*
 * Syscall probe of the worker's confinement (as bubblewrap's try-syscall.c): each probe runs in
 * a fresh child that calls privsep_drop() exactly as the worker does, then attempts one thing.
 * The parent checks the outcome: the errno of a refused call, or death by SIGSYS for the calls
 * the filter kills; a few positive controls (read/write memory, an ioctl the filter lets reach
 * the kernel) show the filter is not simply refusing everything. Exit 0 when every probe came
 * out as expected.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common/nitems.h"
#include "gateway/gateway.h"
#include "sandbox/sandbox.h"

static const char *state_dir;

enum expect { EXP_OK, EXP_ERRNO, EXP_SIGSYS };

/* A page of data, mapped read/write after the drop, for the mprotect probes. */
static void *
probe_page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	*(volatile char *)p = 1;
	return p;
}

/* fd: the write end of a pipe, opened before the drop. */
static int
probe_run(int which, int fd)
{
	char c = 'x';
	void *page;

	switch (which) {
	case 0:
		return getuid() == GW_WORKER_UID && getgid() == GW_WORKER_GID ? 0 : -1;
	case 1:
		return open("/etc/passwd", O_RDONLY);
	case 2:
		return openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
	case 3:
		return socket(AF_INET, SOCK_STREAM, 0);
	case 4:
		return ioctl(0, TIOCSTI, &c);
	case 5:
		return (int)syscall(SYS_ioctl, 0, (unsigned long)TIOCSTI | (1UL << 32), &c);
	case 6:
		return setuid(0);
	case 7:
		return execl("/bin/true", "true", (char *)NULL);
	case 8:
		return (int)syscall(SYS_fork);
	case 9:
		return (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	case 10:
		return kill(1, 0);
	case 11:
		return chroot("/");
	case 12:
		return (int)syscall(SYS_unshare, 0);
	case 13:
		return (int)syscall(SYS_clone3, NULL, 0);
	case 14:
		return ioctl(fd, TCGETS, &c);
	case 15:
		return probe_page() != NULL ? 0 : -1;
	case 16:
		return mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			    0) == MAP_FAILED
			   ? -1
			   : 0;
	case 17:
		return (int)syscall(SYS_mmap, NULL, 4096,
				    (unsigned long)(PROT_READ | PROT_EXEC) | (1UL << 32),
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	case 18:
		return (page = probe_page()) != NULL ? mprotect(page, 4096, PROT_READ) : -1;
	case 19:
		return (page = probe_page()) != NULL ? mprotect(page, 4096, PROT_READ | PROT_EXEC)
						     : -1;
	case 20:
		return (page = probe_page()) != NULL
			   ? (int)syscall(SYS_pkey_mprotect, page, 4096, PROT_READ | PROT_EXEC, -1)
			   : -1;
	case 21:
		return personality(READ_IMPLIES_EXEC);
	}
	return -1;
}

static const struct {
	const char *what;
	enum expect exp;
	int err; /* for EXP_ERRNO */
} probes[] = {
    {"runs as the worker uid/gid", EXP_OK, 0},
    {"open() is refused", EXP_ERRNO, EPERM},
    {"openat() is refused", EXP_ERRNO, EPERM},
    {"socket() is refused", EXP_ERRNO, EPERM},
    {"ioctl(TIOCSTI) is refused (CVE-2017-5226)", EXP_ERRNO, EPERM},
    {"ioctl(TIOCSTI) with high bits set is refused (CVE-2019-10063)", EXP_ERRNO, EPERM},
    {"setuid(0) is refused", EXP_ERRNO, EPERM},
    {"execve kills", EXP_SIGSYS, 0},
    {"fork kills", EXP_SIGSYS, 0},
    {"ptrace kills", EXP_SIGSYS, 0},
    {"kill kills", EXP_SIGSYS, 0},
    {"chroot kills", EXP_SIGSYS, 0},
    {"unshare kills", EXP_SIGSYS, 0},
    {"clone3 kills", EXP_SIGSYS, 0},
    {"ioctl(TCGETS) reaches the kernel (ENOTTY on a pipe)", EXP_ERRNO, ENOTTY},
    {"mmap(PROT_READ|PROT_WRITE) works", EXP_OK, 0},
    {"mmap(PROT_EXEC) kills", EXP_SIGSYS, 0},
    {"mmap(PROT_EXEC) with high bits set kills", EXP_SIGSYS, 0},
    {"mprotect(PROT_READ) works", EXP_OK, 0},
    {"mprotect(PROT_EXEC) kills", EXP_SIGSYS, 0},
    {"pkey_mprotect is refused", EXP_ERRNO, EPERM},
    {"personality(READ_IMPLIES_EXEC) is refused", EXP_ERRNO, EPERM},
};

static int
probe(int i)
{
	char why[256];
	int p[2], ws, res[2] = {0, 0};
	pid_t pid;

	if (pipe(p) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (privsep_drop(state_dir, why, sizeof(why)) != 0) {
			fprintf(stderr, "privsep_drop: %s\n", why);
			_exit(99);
		}
		errno = 0;
		res[0] = probe_run(i, p[1]);
		res[1] = errno;
		if (write(p[1], res, sizeof(res)) != sizeof(res))
			_exit(98);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], res, sizeof(res)) != sizeof(res))
		res[0] = -2;
	close(p[0]);
	waitpid(pid, &ws, 0);
	switch (probes[i].exp) {
	case EXP_OK:
		return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && res[0] == 0 ? 0 : -1;
	case EXP_ERRNO:
		return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && res[0] == -1 &&
			       res[1] == probes[i].err
			   ? 0
			   : -1;
	case EXP_SIGSYS:
		return WIFSIGNALED(ws) && WTERMSIG(ws) == SIGSYS ? 0 : -1;
	}
	return -1;
}

int
main(void)
{
	char tmpl[] = "/tmp/wsgate-privsep-XXXXXX", why[256], empty[64];
	int bad = 0;

	/* As wsgated: the filters are compiled once before any fork and each child inherits them.
	 */
	if (sandbox_init(why, sizeof(why)) != 0) {
		fprintf(stderr, "sandbox_init: %s\n", why);
		return 1;
	}
	if ((state_dir = mkdtemp(tmpl)) == NULL ||
	    privsep_prepare(state_dir, why, sizeof(why)) != 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	for (size_t i = 0; i < nitems(probes); i++) {
		int r = probe((int)i);

		printf("%s: %s\n", r == 0 ? "ok" : "FAIL", probes[i].what);
		bad |= r != 0;
	}
	snprintf(empty, sizeof(empty), "%s/empty", state_dir);
	rmdir(empty);
	snprintf(empty, sizeof(empty), "%s/run", state_dir);
	rmdir(empty);
	rmdir(state_dir);
	return bad;
}
