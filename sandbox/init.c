/*
 * wsgate-init: the first process of every sandbox, exec'd by sandbox_spawn() once the sandbox
 * is built and its privileges are dropped (sandbox.c). It is a program of its own so that
 * nothing of the monitor lives on inside the sandbox: the clone that built the sandbox still
 * mapped the monitor's libraries (liblmdb, libcrypto), its database and whatever the monitor
 * held in memory; after this exec only this small program is mapped.
 *
 *   wsgate-init [-t]      (no environment)
 *
 * fd 0-2 the session's stdio (the pty slave with -t), fd 3 the status pipe to the monitor, fd 4
 * the go socket from it, fd 5 the exit pipe to the session's relay (the worker). init waits on
 * fd 4 for the go-ahead, 'G' + the command's argv and environment (cmdmsg.h), parsed with
 * bounds; a sandbox built ahead waits here, as this program alone. No go-ahead (the socket
 * closed) or a malformed one: 'E' + the reason, and nothing runs. Then it sends 'R' on fd 3,
 * starts the command as its child (a new session; with -t the terminal becomes its controlling
 * tty), holds no end of the session's stdio itself, reaps every orphan, and when the command
 * ends writes its wait status (be32) on fd 5, then 'S' + the same int on fd 3, and exits: the
 * kernel then kills whatever is left in the pid namespace. The relay hears of the end first and
 * directly, not through the monitor. Signals stay blocked (the mask is inherited across exec),
 * and as the pid 1 of its namespace it cannot be killed from inside.
 *
 * Freestanding: no libc, raw system calls only. It starts with every session, and glibc's
 * start-up alone (CPU feature detection, IRELATIVE relocations, TLS) cost 0.7 ms per exec on
 * the benchmark VM, more than the rest of this program together; without it the extra exec
 * costs about a tenth of that. Built -static-pie with no relocations (no pointers in data), so
 * it still loads at a random address.
 */
#include <asm/unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>

#include "sandbox/cmdmsg.h"

#define FD_STATUS 3
#define FD_GO 4
#define FD_EXIT 5

#if defined(__x86_64__)
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %rbp, %rbp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call init_main\n"
	"	hlt\n");

static long
sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	mov x29, #0\n"
	"	mov x30, #0\n"
	"	mov x0, sp\n"
	"	bl init_main\n"
	"	brk #0\n");

static long
sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;

	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
}
#else
#error "wsgate-init: no system call stub for this architecture"
#endif

#define sys0(n) sys6((n), 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sys5(n, a, b, c, d, e) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* The kernel's struct sigaction (rt_sigaction), not libc's. */
struct init_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	unsigned long mask;
};

static void __attribute__((noreturn)) init_exit(int code)
{
	for (;;)
		sys1(__NR_exit_group, code);
}

static size_t
init_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static int
init_streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* All of len bytes through read or write (nr), across interruptions; -1 on an error or an end
 * of file. */
static int
init_io(long nr, int fd, char *p, size_t len)
{
	long n;

	while (len > 0) {
		n = sys3(nr, fd, p, len);
		if (n == -EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
init_write(int fd, const void *buf, size_t len)
{
	return init_io(__NR_write, fd, (char *)buf, len);
}

static int
init_read(int fd, void *buf, size_t len)
{
	return init_io(__NR_read, fd, buf, len);
}

/* The reasons an exec or TIOCSCTTY fails in practice; a switch, so no pointer table needs a
 * relocation. */
static const char *
init_strerror(long e)
{
	switch (e) {
	case EPERM:
		return "Operation not permitted";
	case ENOENT:
		return "No such file or directory";
	case ENOEXEC:
		return "Exec format error";
	case ENOMEM:
		return "Cannot allocate memory";
	case EACCES:
		return "Permission denied";
	case ENOTDIR:
		return "Not a directory";
	case E2BIG:
		return "Argument list too long";
	case ETXTBSY:
		return "Text file busy";
	case ELOOP:
		return "Too many levels of symbolic links";
	case EAGAIN:
		return "Resource temporarily unavailable";
	default:
		return "error";
	}
}

/* One line on stderr, "sandbox: WHAT: REASON", as the command would have got it. */
static void
init_say(const char *what, const char *arg, long err)
{
	const char *reason = init_strerror(err);

	(void)init_write(2, "sandbox: ", 9);
	(void)init_write(2, what, init_strlen(what));
	(void)init_write(2, arg, init_strlen(arg));
	(void)init_write(2, ": ", 2);
	(void)init_write(2, reason, init_strlen(reason));
	(void)init_write(2, "\n", 1);
}

/* The command's side of the fork. */
static void __attribute__((noreturn)) init_exec(char **argv, char **envp, int tty)
{
	struct init_sigaction dfl = {0, 0, 0, 0};
	unsigned long none = 0;
	long r;
	int sig;

	/* Dispositions the monitor ignored (SIGPIPE) survive exec; the command gets defaults and
	 * an empty mask. */
	for (sig = 1; sig <= 64; sig++)
		(void)sys4(__NR_rt_sigaction, sig, &dfl, 0, sizeof(none));
	(void)sys4(__NR_rt_sigprocmask, SIG_SETMASK, &none, 0, sizeof(none));
	if (sys0(__NR_setsid) < 0)
		init_exit(127);
	if (tty && (r = sys3(__NR_ioctl, 0, TIOCSCTTY, 0)) < 0) {
		init_say("controlling terminal", "", -r);
		init_exit(127);
	}
	/* Group members share the area's files. */
	(void)sys1(__NR_umask, 007);
	r = sys3(__NR_execve, argv[0], argv, envp);
	init_say("exec ", argv[0], -r);
	init_exit(127);
}

static void __attribute__((noreturn)) init_fail(const char *why)
{
	(void)init_write(FD_STATUS, "E", 1);
	(void)init_write(FD_STATUS, why, init_strlen(why));
	init_exit(1);
}

/* The go-ahead: 'G', be32 length, the command message. Static: no allocator here, and the
 * buffers are zero pages until a command fills them. */
static struct cmdmsg *
init_read_go(void)
{
	static uint8_t msg[CMDMSG_MAX];
	static struct cmdmsg cmd;
	uint8_t head[5];
	uint32_t len;

	if (init_read(FD_GO, head, sizeof(head)) < 0 || head[0] != 'G')
		init_fail(CMDMSG_NO_GO);
	len = cmdmsg_be32(head + 1);
	if (len > sizeof(msg))
		init_fail("go-ahead too long");
	if (init_read(FD_GO, msg, len) < 0 || cmdmsg_unpack(msg, len, &cmd) != 0)
		init_fail("malformed go-ahead");
	(void)sys1(__NR_close, FD_GO);
	return &cmd;
}

void __attribute__((noreturn, used)) init_main(long *sp);

void
init_main(long *sp)
{
	int argc = (int)sp[0], tty = 0, i = 1, st = 0, fd;
	char **argv = (char **)(sp + 1);
	struct cmdmsg *go;
	char msg[1 + sizeof(int)], be[4];
	long cmd, p;

	/* exec made us dumpable again: the command runs under the same uid and must not read or
	 * write our memory, nor see us in its /proc (hidepid). The monitor's death ends us. */
	if (sys2(__NR_prctl, PR_SET_DUMPABLE, 0) < 0 ||
	    sys2(__NR_prctl, PR_SET_PDEATHSIG, SIGKILL) < 0)
		init_exit(1);
	if (sys3(__NR_fcntl, FD_STATUS, F_SETFD, FD_CLOEXEC) < 0 ||
	    sys3(__NR_fcntl, FD_GO, F_SETFD, FD_CLOEXEC) < 0 ||
	    sys3(__NR_fcntl, FD_EXIT, F_SETFD, FD_CLOEXEC) < 0)
		init_exit(1);
	if (i < argc && init_streq(argv[i], "-t")) {
		tty = 1;
		i++;
	}
	if (i != argc)
		init_fail("wsgate-init: bad arguments");
	go = init_read_go();
	if (init_write(FD_STATUS, "R", 1) < 0)
		init_exit(1);
	/* A plain fork: this process maps a few pages, so there is little to copy, and the child
	 * runs on its own stack (a vfork through a raw system call would share ours). */
	if ((cmd = sys5(__NR_clone, SIGCHLD, 0, 0, 0, 0)) < 0)
		init_exit(1);
	if (cmd == 0)
		init_exec(go->argv, go->envp, tty);
	/* init holds no terminal and no pipe end: EOF reaches the monitor when the command and
	 * its children close theirs. */
	if ((fd = (int)sys4(__NR_openat, AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC, 0)) < 0 ||
	    sys3(__NR_dup3, fd, 0, 0) < 0 || sys3(__NR_dup3, fd, 1, 0) < 0 ||
	    sys3(__NR_dup3, fd, 2, 0) < 0)
		init_exit(1);
	(void)sys1(__NR_close, fd);
	for (;;) {
		p = sys4(__NR_wait4, -1, &st, 0, 0);
		if (p == -EINTR)
			continue;
		if (p < 0)
			init_exit(1);
		if (p == cmd)
			break;
	}
	be[0] = (char)((unsigned)st >> 24);
	be[1] = (char)((unsigned)st >> 16);
	be[2] = (char)((unsigned)st >> 8);
	be[3] = (char)st;
	(void)init_write(FD_EXIT, be, sizeof(be)); /* the relay may be gone: the monitor knows */
	msg[0] = 'S';
	for (i = 0; i < (int)sizeof(int); i++)
		msg[1 + i] = ((const char *)&st)[i];
	(void)init_write(FD_STATUS, msg, sizeof(msg));
	init_exit(0);
}
