/*
 * Syscall probe of the worker's confinement (as bubblewrap's try-syscall.c): each probe runs in
 * a fresh child that calls privsep_drop() exactly as the worker does, then attempts one thing.
 * The parent checks the outcome: the errno of a refused call, or death by SIGSYS for the calls
 * the filter kills. Exit 0 when every probe came out as expected.
 */
#include <sys/ioctl.h>
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

#include "gateway/gateway.h"

static const char *state_dir;

enum expect { EXP_OK, EXP_EPERM, EXP_SIGSYS };

static int
probe_run(int which)
{
	char c = 'x';

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
	}
	return -1;
}

static const struct {
	const char *what;
	enum expect exp;
} probes[] = {
    {"runs as the worker uid/gid", EXP_OK},
    {"open() is refused", EXP_EPERM},
    {"openat() is refused", EXP_EPERM},
    {"socket() is refused", EXP_EPERM},
    {"ioctl(TIOCSTI) is refused (CVE-2017-5226)", EXP_EPERM},
    {"ioctl(TIOCSTI) with high bits set is refused (CVE-2019-10063)", EXP_EPERM},
    {"setuid(0) is refused", EXP_EPERM},
    {"execve kills", EXP_SIGSYS},
    {"fork kills", EXP_SIGSYS},
    {"ptrace kills", EXP_SIGSYS},
    {"kill kills", EXP_SIGSYS},
    {"chroot kills", EXP_SIGSYS},
    {"unshare kills", EXP_SIGSYS},
    {"clone3 kills", EXP_SIGSYS},
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
		res[0] = probe_run(i);
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
	case EXP_EPERM:
		return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && res[0] == -1 && res[1] == EPERM
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

	if ((state_dir = mkdtemp(tmpl)) == NULL ||
	    privsep_prepare(state_dir, why, sizeof(why)) != 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
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
