/*
 * wsgate-init: the first process of every sandbox, exec'd by sandbox_spawn() once the sandbox
 * is built and its privileges are dropped (sandbox.c). It is a program of its own, statically
 * linked, so that nothing of the monitor lives on inside the sandbox: the clone that built the
 * sandbox still mapped the monitor's libraries (liblmdb, libcrypto), its database and whatever
 * the monitor held in memory; after this exec only this small program is mapped.
 *
 *   wsgate-init [-t] -- PROGRAM ARG...     (environment: the command's)
 *
 * fd 0-2 the session's stdio (the pty slave with -t), fd 3 the status pipe to the monitor.
 * init sends 'R' on fd 3 once it runs, starts PROGRAM as its child (a new session; with -t the
 * terminal becomes its controlling tty), holds no end of the session's stdio itself, reaps every
 * orphan, and when PROGRAM ends sends 'S' + its int wait status and exits: the kernel then kills
 * whatever is left in the pid namespace. Signals stay blocked (the mask is inherited across
 * exec), and as the pid 1 of its namespace it cannot be killed from inside.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FD_STATUS 3

static int
init_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One line on stderr, "sandbox: WHAT: REASON", as the command would have got it. */
static void
init_say(const char *what, const char *arg, const char *reason)
{
	(void)init_write(2, "sandbox: ", 9);
	(void)init_write(2, what, strlen(what));
	(void)init_write(2, arg, strlen(arg));
	(void)init_write(2, ": ", 2);
	(void)init_write(2, reason, strlen(reason));
	(void)init_write(2, "\n", 1);
}

/* The command's side of the vfork: only system calls, then execve. */
static void __attribute__((noreturn)) init_exec(char **argv, char **envp, int tty)
{
	sigset_t none;
	int sig;

	/* Dispositions the monitor ignored (SIGPIPE) survive exec; the command gets defaults and
	 * an empty mask. */
	for (sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (setsid() < 0)
		_exit(127);
	if (tty && ioctl(0, TIOCSCTTY, 0) < 0) {
		init_say("controlling terminal", "", strerror(errno));
		_exit(127);
	}
	/* Group members share the area's files. */
	umask(007);
	execve(argv[0], argv, envp);
	init_say("exec ", argv[0], strerror(errno));
	_exit(127);
}

/* vfork: the child only makes system calls before execve; nothing is copied. */
static pid_t
init_spawn(char **argv, char **envp, int tty)
{
	pid_t pid;

	if ((pid = vfork()) == 0)
		init_exec(argv, envp, tty);
	return pid;
}

int
main(int argc, char **argv, char **envp)
{
	char msg[1 + sizeof(int)];
	int tty = 0, st = 0, fd, i = 1;
	pid_t cmd, p;

	/* exec made us dumpable again: the command runs under the same uid and must not read or
	 * write our memory, nor see us in its /proc (hidepid). The monitor's death ends us. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return 1;
	if (fcntl(FD_STATUS, F_SETFD, FD_CLOEXEC) < 0)
		return 1;
	if (i < argc && strcmp(argv[i], "-t") == 0) {
		tty = 1;
		i++;
	}
	if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc) {
		(void)init_write(FD_STATUS, "Ewsgate-init: bad arguments", 27);
		return 1;
	}
	if (init_write(FD_STATUS, "R", 1) < 0)
		return 1;
	if ((cmd = init_spawn(argv + i + 1, envp, tty)) < 0)
		return 1;
	/* init holds no terminal and no pipe end: EOF reaches the monitor when the command and
	 * its children close theirs. */
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0 || dup2(fd, 0) < 0 ||
	    dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		return 1;
	if (fd > 2)
		(void)close(fd);
	for (;;) {
		p = waitpid(-1, &st, 0);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			return 1;
		if (p == cmd)
			break;
	}
	msg[0] = 'S';
	memcpy(msg + 1, &st, sizeof(int));
	(void)init_write(FD_STATUS, msg, sizeof(msg));
	return 0;
}
