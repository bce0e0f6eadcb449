/*
 * The confined runner, parent side (see confined.h). The child between fork and exec only
 * calls async-signal-safe functions (dup2, close_range, execve, _exit): the monitor may have
 * threads (the snapshot pipeline), and everything it needs is prepared before the fork.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/monotime.h"
#include "common/why.h"
#include "transfer/confined.h"

static char *
hex_encode(const void *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = p;
	char *s = malloc(n * 2 + 1);
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < n; i++) {
		s[2 * i] = digits[b[i] >> 4];
		s[2 * i + 1] = digits[b[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

static void __attribute__((noreturn))
child(const char *path, char *const argv[], int in_fd, int out_fd)
{
	char *const envp[] = {NULL};
	sigset_t none;
	int a, b;

	/* fd 0: the input, fd 1: the pipe; nothing else, not even stderr. Both are moved out of
	 * the way first, so that neither can be overwritten by the other's dup2. */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0 || (a = fcntl(in_fd, F_DUPFD, 10)) < 0 ||
	    (b = fcntl(out_fd, F_DUPFD, 10)) < 0 || dup2(a, 0) < 0 || dup2(b, 1) < 0 ||
	    syscall(SYS_close_range, 2, ~0U, 0) < 0)
		_exit(CONFINED_EXIT_SETUP);
	execve(path, argv, envp);
	_exit(CONFINED_EXIT_SETUP);
}

/* Reads the child's output until EOF, the deadline or out_max + 1 bytes. 0 at EOF, 1 if cut. */
static int
collect(int fd, int64_t deadline, size_t out_max, uint8_t *buf, size_t *len, const char **cut)
{
	*len = 0;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int64_t left = deadline - mono_ms();
		ssize_t n;
		int rc;

		if (left <= 0) {
			*cut = "timed out";
			return 1;
		}
		rc = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			*cut = "poll failed";
			return 1;
		}
		if (rc == 0)
			continue;
		n = read(fd, buf + *len, out_max + 1 - *len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			*cut = "read failed";
			return 1;
		}
		if (n == 0)
			return 0;
		*len += (size_t)n;
		if (*len > out_max) {
			*cut = "wrote too much";
			return 1;
		}
	}
}

/* Has the child exited by the deadline? (It closed its output: it should be ending.) */
static int
exited_by(pid_t pid, int64_t deadline)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), rc;
	struct pollfd p;

	if (pidfd < 0)
		return 0; /* cannot wait with a timeout: treat as hung, it is killed */
	p = (struct pollfd){pidfd, POLLIN, 0};
	for (;;) {
		int64_t left = deadline - mono_ms();

		if (left <= 0) {
			rc = 0;
			break;
		}
		rc = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		rc = rc > 0;
		break;
	}
	close(pidfd);
	return rc;
}

int
confined_run(const char *job, int in_fd, const void *arg, size_t arglen,
	     const struct confined_limits *lim, uint8_t **out, size_t *outlen, char *why,
	     size_t whylen)
{
	char path[PATH_MAX], *hex = NULL;
	const char *cut = NULL;
	uint8_t *buf = NULL;
	int pfd[2] = {-1, -1}, ws = 0, ret = -1, cutoff;
	int64_t deadline;
	size_t len;
	pid_t pid;

	*out = NULL;
	*outlen = 0;
	if (arglen > CONFINED_ARG_MAX)
		return why_set(why, whylen, "confined %s: argument too large", job);
	if (exe_sibling(CONFINED_PROGRAM, S_IXUSR, path, sizeof(path), why, whylen) < 0)
		return -1;
	if (!(hex = hex_encode(arg, arglen)) || !(buf = malloc(lim->out_max + 1))) {
		why_set(why, whylen, "out of memory");
		goto out;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		why_set(why, whylen, "pipe: %s", strerror(errno));
		goto out;
	}
	{
		char *const argv[] = {(char *)CONFINED_PROGRAM, (char *)job, hex, NULL};

		if ((pid = fork()) < 0) {
			why_set(why, whylen, "fork: %s", strerror(errno));
			goto out;
		}
		if (pid == 0)
			child(path, argv, in_fd, pfd[1]);
	}
	close(pfd[1]);
	pfd[1] = -1;
	deadline = mono_ms() + (int64_t)lim->wall_seconds * 1000;
	cutoff = collect(pfd[0], deadline, lim->out_max, buf, &len, &cut);
	if (!cutoff && !exited_by(pid, deadline)) {
		cutoff = 1;
		cut = "timed out";
	}
	if (cutoff)
		kill(pid, SIGKILL);
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR) {
			why_set(why, whylen, "waitpid: %s", strerror(errno));
			goto out;
		}
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == CONFINED_EXIT_SETUP) {
		why_set(why, whylen, CONFINED_PROGRAM " %s could not confine itself", job);
		goto out;
	}
	if (cutoff || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		if (cutoff)
			why_set(why, whylen, CONFINED_PROGRAM " %s: %s", job, cut);
		else if (WIFSIGNALED(ws))
			why_set(why, whylen, CONFINED_PROGRAM " %s: killed by signal %d", job,
				WTERMSIG(ws));
		else
			why_set(why, whylen, CONFINED_PROGRAM " %s: exit status %d", job,
				WEXITSTATUS(ws));
		ret = CONFINED_FAILED;
		goto out;
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
	ret = CONFINED_OK;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	free(hex);
	free(buf);
	return ret;
}
