/*
 * Confinement of the network worker, in the one order STYLE.md prescribes:
 * chroot to an empty directory -> setgroups/setresgid/setresuid -> no_new_privs -> seccomp.
 * Every step is checked and a failure is fatal for the connection (the caller exits).
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "gateway/gateway.h"

#define A_ALLOW SCMP_ACT_ALLOW
#define A_KILL SCMP_ACT_KILL_PROCESS
#define A_EPERM SCMP_ACT_ERRNO(EPERM)

/*
 * The worker's system calls. Everything not listed fails with EPERM, so a library path we did
 * not foresee (OpenSSL probing a file, say) fails cleanly instead of killing a session midway;
 * the calls that would let a compromised worker reach further are listed and kill the process.
 */
static const struct {
	const char *name;
	uint32_t action;
	const char *why;
} privsep_table[] = {
    {"read", A_ALLOW, "socket, pipes, pty master"},
    {"write", A_ALLOW, "socket, pipes, pty master"},
    {"readv", A_ALLOW, "libc stdio"},
    {"pread64", A_ALLOW, "SFTP engine reads released exports at an offset"},
    {"pwrite64", A_ALLOW, "SFTP engine writes uploads at an offset"},
    {"writev", A_ALLOW, "libc stdio, syslog"},
    {"recvfrom", A_ALLOW, "libssh socket reads"},
    {"sendto", A_ALLOW, "libssh socket writes, syslog"},
    {"recvmsg", A_ALLOW, "monitor replies with SCM_RIGHTS"},
    {"sendmsg", A_ALLOW, "monitor requests"},
    {"poll", A_ALLOW, "ssh_event loop"},
    {"ppoll", A_ALLOW, "ssh_event loop (newer libc)"},
    {"close", A_ALLOW, "channel teardown"},
    {"shutdown", A_ALLOW, "connection teardown"},
    {"fcntl", A_ALLOW, "O_NONBLOCK on relay fds"},
    {"fstat", A_ALLOW, "libc"},
    {"newfstatat", A_ALLOW, "libc fstat"},
    {"lseek", A_ALLOW, "libc"},
    {"getpid", A_ALLOW, "libc, logging"},
    {"gettid", A_ALLOW, "libc"},
    {"getuid", A_ALLOW, "libc"},
    {"geteuid", A_ALLOW, "libc"},
    {"getgid", A_ALLOW, "libc"},
    {"getegid", A_ALLOW, "libc"},
    {"getpeername", A_ALLOW, "libssh asks for the peer of its own socket"},
    {"getsockname", A_ALLOW, "libssh"},
    {"getsockopt", A_ALLOW, "libssh"},
    {"setsockopt", A_ALLOW, "libssh sets TCP_NODELAY"},
    {"brk", A_ALLOW, "malloc"},
    {"mmap", A_ALLOW, "malloc (no PROT_EXEC check: W^X is enforced by the kernel defaults)"},
    {"munmap", A_ALLOW, "malloc"},
    {"mremap", A_ALLOW, "realloc"},
    {"mprotect", A_ALLOW, "malloc arenas"},
    {"madvise", A_ALLOW, "malloc trimming"},
    {"futex", A_ALLOW, "libc and OpenSSL locks"},
    {"getrandom", A_ALLOW, "OpenSSL DRBG: key exchange randomness"},
    {"clock_gettime", A_ALLOW, "timeouts"},
    {"gettimeofday", A_ALLOW, "timeouts"},
    {"time", A_ALLOW, "timeouts"},
    {"nanosleep", A_ALLOW, "libssh back-off"},
    {"clock_nanosleep", A_ALLOW, "libssh back-off"},
    {"rt_sigaction", A_ALLOW, "SIGTERM/SIGALRM handling"},
    {"rt_sigprocmask", A_ALLOW, "libc"},
    {"rt_sigreturn", A_ALLOW, "signal delivery"},
    {"alarm", A_ALLOW, "login grace timer"},
    {"setitimer", A_ALLOW, "login grace timer"},
    {"restart_syscall", A_ALLOW, "kernel"},
    {"sched_yield", A_ALLOW, "libc"},
    {"exit", A_ALLOW, "exit"},
    {"exit_group", A_ALLOW, "exit"},
    {"tgkill", A_ALLOW, "abort() on a failed assertion"},
    /* Kill outright: each would extend a compromised worker's reach. */
    {"execve", A_KILL, "no program runs in the worker"},
    {"execveat", A_KILL, "no program runs in the worker"},
    {"fork", A_KILL, "the monitor starts every process"},
    {"vfork", A_KILL, "the monitor starts every process"},
    {"clone", A_KILL, "the monitor starts every process"},
    {"clone3", A_KILL, "unfilterable arguments (CVE-2021-41133 class)"},
    /* EPERM, not kill: syslog(3) reconnects with socket+connect when journald restarted;
     * it must fail, not end the session. Either way no new endpoint exists. */
    {"socket", A_EPERM, "no new network endpoints"},
    {"connect", A_EPERM, "no new network endpoints"},
    {"bind", A_KILL, "no new network endpoints"},
    {"listen", A_KILL, "no new network endpoints"},
    {"accept", A_KILL, "no new network endpoints"},
    {"accept4", A_KILL, "no new network endpoints"},
    {"ptrace", A_KILL, "no debugging of other connections"},
    {"process_vm_readv", A_KILL, "no reading other processes"},
    {"process_vm_writev", A_KILL, "no writing other processes"},
    {"kill", A_KILL, "signals go through the monitor"},
    {"mount", A_KILL, "file system changes"},
    {"umount2", A_KILL, "file system changes"},
    {"unshare", A_KILL, "namespaces"},
    {"setns", A_KILL, "namespaces"},
    {"chroot", A_KILL, "chroot escape attempts"},
    {"pivot_root", A_KILL, "file system changes"},
    {"open_by_handle_at", A_KILL, "chroot escape (shocker)"},
    {"bpf", A_KILL, "kernel attack surface"},
    {"perf_event_open", A_KILL, "kernel attack surface"},
    {"userfaultfd", A_KILL, "kernel exploitation aid"},
    {"keyctl", A_KILL, "kernel keyrings"},
    {"add_key", A_KILL, "kernel keyrings"},
    {"request_key", A_KILL, "kernel keyrings"},
    {"init_module", A_KILL, "kernel modules"},
    {"finit_module", A_KILL, "kernel modules"},
    {"io_uring_setup", A_KILL, "bypasses this filter"},
};

static int
privsep_seccomp(char *why, size_t whylen)
{
	scmp_filter_ctx ctx;
	int rc = -1, r;

	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (ctx == NULL) {
		snprintf(why, whylen, "seccomp_init failed");
		return -1;
	}
	for (size_t i = 0; i < sizeof(privsep_table) / sizeof(privsep_table[0]); i++) {
		int nr = seccomp_syscall_resolve_name(privsep_table[i].name);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		if (privsep_table[i].action == SCMP_ACT_ERRNO(EPERM))
			continue; /* the default already; libseccomp refuses such a rule */
		r = seccomp_rule_add(ctx, privsep_table[i].action, nr, 0);
		if (r < 0) {
			snprintf(why, whylen, "seccomp rule %s: %s", privsep_table[i].name,
				 strerror(-r));
			goto out;
		}
	}
	/* ioctl: only the window size of the pty master. The compare masks the upper half of the
	 * request word because the kernel only looks at 32 bits (CVE-2019-10063); TIOCSTI stays
	 * out (CVE-2017-5226). */
	r = seccomp_rule_add(ctx, A_ALLOW, SCMP_SYS(ioctl), 1,
			     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSWINSZ));
	if (r == 0)
		r = seccomp_rule_add(ctx, A_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TCGETS));
	if (r < 0) {
		snprintf(why, whylen, "seccomp rule ioctl: %s", strerror(-r));
		goto out;
	}
	r = seccomp_load(ctx);
	if (r < 0) {
		snprintf(why, whylen, "seccomp_load: %s", strerror(-r));
		goto out;
	}
	rc = 0;
out:
	seccomp_release(ctx);
	return rc;
}

int
privsep_drop(const char *state_dir, char *why, size_t whylen)
{
	char empty[4200];
	uid_t r, e, s;
	gid_t gr, ge, gs;

	if (snprintf(empty, sizeof(empty), "%s/empty", state_dir) >= (int)sizeof(empty)) {
		snprintf(why, whylen, "state_dir too long");
		return -1;
	}
	if (chroot(empty) != 0 || chdir("/") != 0) {
		snprintf(why, whylen, "chroot %s: %s", empty, strerror(errno));
		return -1;
	}
	if (setgroups(0, NULL) != 0 ||
	    setresgid(GW_WORKER_GID, GW_WORKER_GID, GW_WORKER_GID) != 0 ||
	    setresuid(GW_WORKER_UID, GW_WORKER_UID, GW_WORKER_UID) != 0) {
		snprintf(why, whylen, "dropping to uid %d: %s", GW_WORKER_UID, strerror(errno));
		return -1;
	}
	/* Make sure there is no way back (OpenSSH permanently_set_uid does the same check). */
	if (getresuid(&r, &e, &s) != 0 || getresgid(&gr, &ge, &gs) != 0 || r != GW_WORKER_UID ||
	    e != GW_WORKER_UID || s != GW_WORKER_UID || gr != GW_WORKER_GID ||
	    ge != GW_WORKER_GID || gs != GW_WORKER_GID || setuid(0) == 0) {
		snprintf(why, whylen, "privileges not fully dropped");
		return -1;
	}
	/* A dead monitor means nobody checks anything any more: die with it. Set after the uid
	 * change, which clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() == 1) {
		snprintf(why, whylen, "parent-death signal: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(why, whylen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	return privsep_seccomp(why, whylen);
}

static int
privsep_dir(const char *path, mode_t mode, char *why, size_t whylen)
{
	struct stat sb;

	if (mkdir(path, mode) != 0 && errno != EEXIST) {
		snprintf(why, whylen, "mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	if (lstat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(why, whylen, "%s is not a directory", path);
		return -1;
	}
	if (sb.st_uid != 0 || (sb.st_mode & 07777) != mode) {
		if (chown(path, 0, 0) != 0 || chmod(path, mode) != 0) {
			snprintf(why, whylen, "fixing owner/mode of %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int
privsep_prepare(const char *state_dir, char *why, size_t whylen)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/empty", state_dir);
	if (privsep_dir(p, 0755, why, whylen) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/run", state_dir);
	return privsep_dir(p, 0711, why, whylen);
}
