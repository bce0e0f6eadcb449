/*
 * The seccomp engine: three tables, one for each kind of confined process, compiled by the same
 * code with libseccomp, exported to BPF in memory once (sandbox_init, in the daemon before it
 * forks anything) and loaded with prctl() after no_new_privs.
 *
 * The user filter (the analyst's shell and commands) allows by default: the sandbox already runs
 * as an unprivileged host uid with no capabilities, so most of what the table refuses would fail
 * anyway. It removes kernel attack surface that an unprivileged process can still reach (bpf,
 * userfaultfd, io_uring, perf_event_open, keyctl, ...) and closes the known unprivileged escapes
 * (TIOCSTI, namespace creation). Learned from Docker's default profile, bubblewrap/flatpak,
 * nsjail and minijail. Its denials return an errno so that an ordinary probe never kills the
 * shell. ENOSYS is answered where libc must fall back to an older call (clone3, the new mount
 * API, io_uring): flatpak CVE-2021-41133 showed that a filter which does not know a new call lets
 * it through, so those are refused as "not implemented" and libc retries with clone(2)/mount(2),
 * which we filter. It leaves PROT_EXEC alone: R, Python and compilers JIT and dlopen.
 *
 * The worker filter (the gateway's network worker, which parses SSH bytes) is an allowlist, as
 * OpenSSH's sandbox-seccomp-filter.c: what is not listed fails with EPERM, the calls that would
 * extend a compromised worker's reach kill it, and memory may be mapped or re-protected only
 * without PROT_EXEC (OpenSSH's SC_MMAP).
 *
 * The confined filter (the parsers of untrusted files: the publication checker, the review
 * viewer) is the tightest: an allowlist in which even read and write are tied to fd 0 and fd 1.
 *
 * In all three, foreign ABIs (i386 via int 0x80, x32) reach a different syscall table; they kill the
 * process.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/btrfs.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <termios.h>
#include <unistd.h>

#include "common/nitems.h"
#include "common/why.h"
#include "sandbox/sandbox_int.h"

/* What a rule looks at: nothing (the whole call), or one argument compared under a mask, or one
 * argument compared as greater than a value. */
enum rule_arg { ARG_NONE, ARG_MASKED_EQ, ARG_GT };

struct rule {
	const char *syscall;
	uint32_t action; /* SCMP_ACT_ALLOW, SCMP_ACT_ERRNO(e) or SCMP_ACT_KILL_PROCESS */
	enum rule_arg kind;
	unsigned int argno;
	uint64_t mask;
	uint64_t datum;
	const char *why;
};

#define RULE(sc, act, k, n, m, d, reason)                                                          \
	{                                                                                          \
		sc, act, k, n, m, d, reason                                                        \
	}
#define ALLOW(sc, reason) RULE(sc, SCMP_ACT_ALLOW, ARG_NONE, 0, 0, 0, reason)
#define ALLOW_IF(sc, n, m, d, reason) RULE(sc, SCMP_ACT_ALLOW, ARG_MASKED_EQ, n, m, d, reason)
#define KILL(sc, reason) RULE(sc, SCMP_ACT_KILL_PROCESS, ARG_NONE, 0, 0, 0, reason)
#define KILL_IF(sc, n, m, d, reason) RULE(sc, SCMP_ACT_KILL_PROCESS, ARG_MASKED_EQ, n, m, d, reason)
#define DENY(sc, e, reason) RULE(sc, SCMP_ACT_ERRNO(e), ARG_NONE, 0, 0, 0, reason)
#define DENY_IF(sc, e, n, m, d, reason) RULE(sc, SCMP_ACT_ERRNO(e), ARG_MASKED_EQ, n, m, d, reason)
#define DENY_GT(sc, e, n, d, reason) RULE(sc, SCMP_ACT_ERRNO(e), ARG_GT, n, 0, d, reason)
/* ioctl requests are 32-bit in the kernel: compare only the low half so that garbage in the
 * upper bits cannot slip past the rule (CVE-2019-10063, flatpak's TIOCSTI bypass). */
#define M32 0xffffffffULL

/* clang-format off */
static const struct rule user_table[] = {
	/* Terminal injection: characters pushed into the terminal's input queue are read as if
	 * the user typed them. CVE-2017-5226 left bubblewrap through a terminal shared with the
	 * outside; here any program (an imported script) could type into the user's shell. */
	DENY_IF("ioctl", EPERM, 1, M32, TIOCSTI, "TIOCSTI: CVE-2017-5226, mask CVE-2019-10063"),
	DENY_IF("ioctl", EPERM, 1, M32, TIOCLINUX, "TIOCLINUX: console paste/selection injection"),
	/* area_quota limits the area's btrfs subvolume (transfer/quota.c). Any user may create a
	 * subvolume on btrfs, and one made inside the area has a quota group of its own, outside
	 * the area's limit (e2e_quota writes past the quota that way without these rows). */
	DENY_IF("ioctl", EPERM, 1, M32, BTRFS_IOC_SUBVOL_CREATE, "btrfs subvolume: escapes area_quota"),
	DENY_IF("ioctl", EPERM, 1, M32, BTRFS_IOC_SUBVOL_CREATE_V2, "btrfs subvolume: escapes area_quota"),
	DENY_IF("ioctl", EPERM, 1, M32, BTRFS_IOC_SNAP_CREATE, "btrfs snapshot: escapes area_quota"),
	DENY_IF("ioctl", EPERM, 1, M32, BTRFS_IOC_SNAP_CREATE_V2, "btrfs snapshot: escapes area_quota"),
	/* Reading or changing other processes' memory. */
	DENY("ptrace", EPERM, "debug other processes; classic escape and info leak"),
	DENY("process_vm_readv", EPERM, "read another process's memory"),
	DENY("process_vm_writev", EPERM, "write another process's memory"),
	DENY("process_madvise", EPERM, "act on another process's memory"),
	DENY("kcmp", EPERM, "compares kernel pointers of other processes (KASLR leak)"),
	DENY("pidfd_getfd", EPERM, "steal a file descriptor from another process"),
	/* The filesystem view is fixed by the monitor. */
	DENY("mount", EPERM, "change the mount table"),
	DENY("umount2", EPERM, "uncover what the sandbox's mounts hide"),
	DENY("pivot_root", EPERM, "change the root"),
	DENY("chroot", EPERM, "chroot tricks to leave the root"),
	DENY("open_tree", ENOSYS, "new mount API: ENOSYS so libc falls back (CVE-2021-41133)"),
	DENY("move_mount", ENOSYS, "new mount API (CVE-2021-41133)"),
	DENY("fsopen", ENOSYS, "new mount API (CVE-2021-41133)"),
	DENY("fsconfig", ENOSYS, "new mount API (CVE-2021-41133)"),
	DENY("fsmount", ENOSYS, "new mount API (CVE-2021-41133)"),
	DENY("fspick", ENOSYS, "new mount API (CVE-2021-41133)"),
	DENY("mount_setattr", ENOSYS, "new mount API (CVE-2021-41133)"),
	DENY("open_by_handle_at", EPERM, "opens files by handle, past the mount root (shocker)"),
	DENY("name_to_handle_at", EPERM, "companion of open_by_handle_at; leaks inode handles"),
	DENY("quotactl", EPERM, "filesystem quota administration"),
	DENY("quotactl_fd", EPERM, "filesystem quota administration"),
	DENY_IF("mknod", EPERM, 1, S_IFMT, S_IFCHR, "character devices give raw hardware access"),
	DENY_IF("mknod", EPERM, 1, S_IFMT, S_IFBLK, "block devices give raw disk access"),
	DENY_IF("mknodat", EPERM, 2, S_IFMT, S_IFCHR, "character devices"),
	DENY_IF("mknodat", EPERM, 2, S_IFMT, S_IFBLK, "block devices"),
	/* No new namespaces: a user namespace would hand the sandbox a full capability set over
	 * kernel code written for root (most container escapes of 2019-2024 start there). */
	DENY("unshare", EPERM, "new namespaces; user namespaces expose root-only kernel code"),
	DENY("setns", EPERM, "join other namespaces"),
	DENY_IF("clone", EPERM, 0, CLONE_NEWUSER, CLONE_NEWUSER, "clone into a user namespace"),
	DENY_IF("clone", EPERM, 0, CLONE_NEWNS, CLONE_NEWNS, "clone into a mount namespace"),
	DENY_IF("clone", EPERM, 0, CLONE_NEWPID, CLONE_NEWPID, "clone into a pid namespace"),
	DENY_IF("clone", EPERM, 0, CLONE_NEWNET, CLONE_NEWNET, "clone into a net namespace"),
	DENY_IF("clone", EPERM, 0, CLONE_NEWUTS, CLONE_NEWUTS, "clone into a uts namespace"),
	DENY_IF("clone", EPERM, 0, CLONE_NEWIPC, CLONE_NEWIPC, "clone into an ipc namespace"),
	DENY_IF("clone", EPERM, 0, CLONE_NEWCGROUP, CLONE_NEWCGROUP, "clone into a cgroup ns"),
	DENY_IF("clone", EPERM, 0, CLONE_NEWTIME, CLONE_NEWTIME, "clone into a time namespace"),
	DENY("clone3", ENOSYS, "flags sit in memory where seccomp cannot look; libc falls back"),
	/* Kernel attack surface an unprivileged process can reach. */
	DENY("bpf", EPERM, "eBPF verifier bugs (CVE-2021-3490, CVE-2022-23222)"),
	DENY("userfaultfd", EPERM, "pauses kernel copies; turns races into exploits"),
	DENY("perf_event_open", EPERM, "large attack surface (CVE-2023-2235), side channels"),
	DENY("io_uring_setup", ENOSYS, "io_uring bugs (CVE-2022-29582, CVE-2023-2598); bypasses seccomp"),
	DENY("io_uring_enter", ENOSYS, "io_uring"),
	DENY("io_uring_register", ENOSYS, "io_uring"),
	DENY("keyctl", EPERM, "kernel keyrings are not namespaced (CVE-2016-0728)"),
	DENY("add_key", EPERM, "kernel keyrings"),
	DENY("request_key", EPERM, "kernel keyrings"),
	DENY("fanotify_init", EPERM, "watch other users' file access"),
	DENY("lookup_dcookie", EPERM, "kernel profiling interface"),
	DENY("vhangup", EPERM, "hang up the terminal of others"),
	DENY("uselib", EPERM, "obsolete loader interface"),
	/* The host's kernel and hardware. */
	DENY("kexec_load", EPERM, "load a new kernel"),
	DENY("kexec_file_load", EPERM, "load a new kernel"),
	DENY("init_module", EPERM, "load kernel modules"),
	DENY("finit_module", EPERM, "load kernel modules"),
	DENY("delete_module", EPERM, "unload kernel modules"),
	DENY("reboot", EPERM, "reboot the host"),
	DENY("swapon", EPERM, "host swap"),
	DENY("swapoff", EPERM, "host swap"),
	DENY("syslog", EPERM, "kernel log: addresses and other users' messages"),
	DENY("acct", EPERM, "process accounting of the host"),
	DENY("iopl", EPERM, "raw port I/O"),
	DENY("ioperm", EPERM, "raw port I/O"),
	DENY("modify_ldt", EPERM, "LDT bugs (CVE-2015-5157, CVE-2017-17053)"),
	DENY("settimeofday", EPERM, "the host's clock is not namespaced"),
	DENY("clock_settime", EPERM, "the host's clock"),
	DENY("clock_adjtime", EPERM, "the host's clock"),
	DENY("adjtimex", EPERM, "the host's clock"),
	DENY("sethostname", EPERM, "the hostname is fixed"),
	DENY("setdomainname", EPERM, "the domain name is fixed"),
	DENY("nfsservctl", EPERM, "kernel NFS server"),
	/* personality(): only PER_LINUX and the query. ADDR_NO_RANDOMIZE defeats ASLR,
	 * READ_IMPLIES_EXEC makes data executable, MMAP_PAGE_ZERO maps page 0. */
	DENY_GT("personality", EPERM, 0, 0xffffffffULL, "personality above 32 bits"),
	DENY_IF("personality", EPERM, 0, 0x0040000, 0x0040000, "ADDR_NO_RANDOMIZE"),
	DENY_IF("personality", EPERM, 0, 0x0400000, 0x0400000, "READ_IMPLIES_EXEC"),
	DENY_IF("personality", EPERM, 0, 0x0100000, 0x0100000, "MMAP_PAGE_ZERO"),
	DENY_IF("personality", EPERM, 0, 0x0200000, 0x0200000, "ADDR_COMPAT_LAYOUT"),
	DENY_IF("personality", EPERM, 0, 0x8000000, 0x8000000, "ADDR_LIMIT_3GB"),
	DENY_IF("personality", EPERM, 0, 0x0800000, 0x0800000, "ADDR_LIMIT_32BIT"),
	DENY_IF("personality", EPERM, 0, 0x0020000, 0x0020000, "UNAME26: fake kernel version"),
	/* Sockets: AF_UNIX for local IPC, AF_INET/AF_INET6 because R and Python workers talk
	 * over loopback; the network namespace holds nothing but its own lo. Every other family
	 * (netlink, packet, vsock, alg, bluetooth, ...) is kernel surface with no use here. */
	DENY_IF("socket", EAFNOSUPPORT, 0, ~0ULL, AF_UNSPEC, "only unix, inet, inet6"),
	DENY_IF("socket", EAFNOSUPPORT, 0, ~0ULL, AF_AX25, "old families between inet and inet6"),
	DENY_IF("socket", EAFNOSUPPORT, 0, ~0ULL, AF_IPX, "old families"),
	DENY_IF("socket", EAFNOSUPPORT, 0, ~0ULL, AF_APPLETALK, "old families"),
	DENY_IF("socket", EAFNOSUPPORT, 0, ~0ULL, AF_NETROM, "old families"),
	DENY_IF("socket", EAFNOSUPPORT, 0, ~0ULL, AF_BRIDGE, "old families"),
	DENY_IF("socket", EAFNOSUPPORT, 0, ~0ULL, AF_ATMPVC, "old families"),
	DENY_IF("socket", EAFNOSUPPORT, 0, ~0ULL, AF_X25, "old families"),
	DENY_GT("socket", EAFNOSUPPORT, 0, AF_INET6, "netlink, packet, vsock, alg, ... refused"),
	DENY_IF("socketpair", EAFNOSUPPORT, 0, ~0ULL, AF_UNSPEC, "only unix pairs"),
	DENY_GT("socketpair", EAFNOSUPPORT, 0, AF_UNIX, "only unix pairs"),
};

/*
 * The worker's system calls. Everything not listed fails with EPERM, so a library path we did
 * not foresee (OpenSSL probing a file, say) fails cleanly instead of killing a session midway;
 * the calls that would let a compromised worker reach further are listed and kill the process.
 * A row whose answer is EPERM, the default, loads nothing: it says the call was weighed.
 */
static const struct rule worker_table[] = {
	ALLOW("read", "socket, pipes, pty master"),
	ALLOW("write", "socket, pipes, pty master"),
	ALLOW("readv", "libc stdio"),
	ALLOW("pread64", "SFTP engine reads released exports at an offset"),
	ALLOW("pwrite64", "SFTP engine writes uploads at an offset"),
	ALLOW("writev", "libc stdio, syslog"),
	ALLOW("recvfrom", "libssh socket reads"),
	ALLOW("sendto", "libssh socket writes, syslog"),
	ALLOW("recvmsg", "monitor replies with SCM_RIGHTS"),
	ALLOW("sendmsg", "monitor requests"),
	ALLOW("poll", "ssh_event loop"),
	ALLOW("ppoll", "ssh_event loop (newer libc)"),
	ALLOW("close", "channel teardown"),
	ALLOW("shutdown", "connection teardown"),
	ALLOW("fcntl", "O_NONBLOCK on relay fds"),
	ALLOW("fstat", "libc"),
	ALLOW("newfstatat", "libc fstat"),
	ALLOW("lseek", "libc"),
	ALLOW("getpid", "libc, logging"),
	ALLOW("gettid", "libc"),
	ALLOW("getuid", "libc"),
	ALLOW("geteuid", "libc"),
	ALLOW("getgid", "libc"),
	ALLOW("getegid", "libc"),
	ALLOW("getpeername", "libssh asks for the peer of its own socket"),
	ALLOW("getsockname", "libssh"),
	ALLOW("getsockopt", "libssh"),
	ALLOW("setsockopt", "libssh sets TCP_NODELAY; TCP_CORK around a channel's last messages"),
	/* ioctl: only the window size of the pty master and the isatty() query of libc stdio,
	 * compared as 32 bits (CVE-2019-10063). TIOCSTI stays out (CVE-2017-5226). */
	ALLOW_IF("ioctl", 1, M32, TIOCSWINSZ, "window-change requests resize the pty"),
	ALLOW_IF("ioctl", 1, M32, TCGETS, "isatty(): libc stdio"),
	DENY_IF("ioctl", EPERM, 1, M32, TIOCSTI, "TIOCSTI: CVE-2017-5226, mask CVE-2019-10063"),
	/* Memory: data only, never code (OpenSSH's SC_MMAP). After the drop nothing in the worker
	 * maps code: it opens no file (so neither dlopen nor an NSS or gconv module can load) and
	 * glibc, OpenSSL and libssh run no JIT. An executable mapping can only be an exploit
	 * staging its payload: it kills, where EPERM would let the exploit try another way. */
	ALLOW("brk", "malloc"),
	ALLOW_IF("mmap", 2, PROT_EXEC, 0, "malloc, read/write or no access"),
	KILL_IF("mmap", 2, PROT_EXEC, PROT_EXEC, "no code mapped after the drop (W^X)"),
	ALLOW_IF("mprotect", 2, PROT_EXEC, 0, "malloc arenas, guard pages"),
	KILL_IF("mprotect", 2, PROT_EXEC, PROT_EXEC, "no data made executable (W^X)"),
	DENY("pkey_mprotect", EPERM, "mprotect with a key: would bypass the rows above; unused"),
	DENY("personality", EPERM, "READ_IMPLIES_EXEC would make every readable page executable"),
	ALLOW("munmap", "malloc"),
	ALLOW("mremap", "realloc (keeps the protection: cannot add PROT_EXEC)"),
	ALLOW("madvise", "malloc trimming"),
	ALLOW("futex", "libc and OpenSSL locks"),
	ALLOW("getrandom", "OpenSSL DRBG: key exchange randomness"),
	ALLOW("clock_gettime", "timeouts"),
	ALLOW("gettimeofday", "timeouts"),
	ALLOW("time", "timeouts"),
	ALLOW("nanosleep", "libssh back-off"),
	ALLOW("clock_nanosleep", "libssh back-off"),
	ALLOW("rt_sigaction", "SIGTERM/SIGALRM handling"),
	ALLOW("rt_sigprocmask", "libc"),
	ALLOW("rt_sigreturn", "signal delivery"),
	ALLOW("alarm", "login grace timer"),
	ALLOW("setitimer", "login grace timer"),
	ALLOW("restart_syscall", "kernel"),
	ALLOW("sched_yield", "libc"),
	ALLOW("exit", "exit"),
	ALLOW("exit_group", "exit"),
	ALLOW("tgkill", "abort() on a failed assertion"),
	/* Kill outright: each would extend a compromised worker's reach. */
	KILL("execve", "no program runs in the worker"),
	KILL("execveat", "no program runs in the worker"),
	KILL("fork", "the monitor starts every process"),
	KILL("vfork", "the monitor starts every process"),
	KILL("clone", "the monitor starts every process"),
	KILL("clone3", "unfilterable arguments (CVE-2021-41133 class)"),
	/* EPERM, not kill: syslog(3) reconnects with socket+connect when journald restarted;
	 * it must fail, not end the session. Either way no new endpoint exists. */
	DENY("socket", EPERM, "no new network endpoints"),
	DENY("connect", EPERM, "no new network endpoints"),
	KILL("bind", "no new network endpoints"),
	KILL("listen", "no new network endpoints"),
	KILL("accept", "no new network endpoints"),
	KILL("accept4", "no new network endpoints"),
	KILL("ptrace", "no debugging of other connections"),
	KILL("process_vm_readv", "no reading other processes"),
	KILL("process_vm_writev", "no writing other processes"),
	KILL("kill", "signals go through the monitor"),
	KILL("mount", "file system changes"),
	KILL("umount2", "file system changes"),
	KILL("unshare", "namespaces"),
	KILL("setns", "namespaces"),
	KILL("chroot", "chroot escape attempts"),
	KILL("pivot_root", "file system changes"),
	KILL("open_by_handle_at", "chroot escape (shocker)"),
	KILL("bpf", "kernel attack surface"),
	KILL("perf_event_open", "kernel attack surface"),
	KILL("userfaultfd", "kernel exploitation aid"),
	KILL("keyctl", "kernel keyrings"),
	KILL("add_key", "kernel keyrings"),
	KILL("request_key", "kernel keyrings"),
	KILL("init_module", "kernel modules"),
	KILL("finit_module", "kernel modules"),
	KILL("io_uring_setup", "bypasses this filter"),
};

/*
 * The confined parsers (transfer/confined.h): the publication checker and the review viewer,
 * which read one untrusted file at fd 0 and write their answer to a pipe at fd 1. They run as
 * their own uid, but a parser bug is the likeliest way in, so the table is an allowlist with
 * the descriptors fixed: read only fd 0, write only fd 1. Nothing can be opened, so nothing else
 * can be read. What would extend a compromised parser's reach kills it.
 */
static const struct rule confined_table[] = {
	ALLOW_IF("read", 0, ~0ULL, 0, "the input file, fd 0 only"),
	ALLOW_IF("pread64", 0, ~0ULL, 0, "the input file, fd 0 only"),
	ALLOW_IF("lseek", 0, ~0ULL, 0, "the input file's size"),
	ALLOW_IF("write", 0, ~0ULL, 1, "the answer, to the pipe at fd 1 only"),
	ALLOW("fstat", "libc"),
	ALLOW("newfstatat", "libc fstat"),
	ALLOW("close", "libc"),
	ALLOW("brk", "malloc"),
	ALLOW_IF("mmap", 2, PROT_EXEC, 0, "malloc, read/write or no access"),
	KILL_IF("mmap", 2, PROT_EXEC, PROT_EXEC, "no code mapped after the filter (W^X)"),
	ALLOW_IF("mprotect", 2, PROT_EXEC, 0, "malloc arenas, guard pages"),
	KILL_IF("mprotect", 2, PROT_EXEC, PROT_EXEC, "no data made executable (W^X)"),
	DENY("pkey_mprotect", EPERM, "would bypass the rows above; unused"),
	ALLOW("munmap", "malloc"),
	ALLOW("mremap", "realloc (keeps the protection: cannot add PROT_EXEC)"),
	ALLOW("madvise", "malloc trimming"),
	ALLOW("futex", "libc locks"),
	ALLOW("getrandom", "malloc's heap hardening"),
	ALLOW("clock_gettime", "libc"),
	ALLOW("rt_sigprocmask", "abort()"),
	ALLOW("rt_sigreturn", "signal delivery"),
	ALLOW("getpid", "abort()"),
	ALLOW("gettid", "abort()"),
	ALLOW("tgkill", "abort() on a failed assertion ends only this process"),
	ALLOW("exit", "exit"),
	ALLOW("exit_group", "exit"),
	/* EPERM, the default, for open/openat: a library probing a file fails cleanly. */
	KILL("execve", "no program runs in a parser"),
	KILL("execveat", "no program runs in a parser"),
	KILL("fork", "a parser starts nothing"),
	KILL("vfork", "a parser starts nothing"),
	KILL("clone", "a parser starts nothing"),
	KILL("clone3", "unfilterable arguments (CVE-2021-41133 class)"),
	KILL("socket", "no network"),
	KILL("socketpair", "no new endpoints"),
	KILL("connect", "no network"),
	KILL("bind", "no network"),
	KILL("ptrace", "no debugging of other processes"),
	KILL("process_vm_readv", "no reading other processes"),
	KILL("process_vm_writev", "no writing other processes"),
	KILL("kill", "no signals to others"),
	KILL("mount", "file system changes"),
	KILL("unshare", "namespaces"),
	KILL("setns", "namespaces"),
	KILL("open_by_handle_at", "opens files past any root (shocker)"),
	KILL("bpf", "kernel attack surface"),
	KILL("perf_event_open", "kernel attack surface"),
	KILL("userfaultfd", "kernel exploitation aid"),
	KILL("keyctl", "kernel keyrings"),
	KILL("add_key", "kernel keyrings"),
	KILL("io_uring_setup", "bypasses this filter"),
	KILL("memfd_create", "a file to map as code"),
};

/* The filters by kind: what a call no row names gets, and the rows. */
static const struct filter {
	const char *name;
	uint32_t def;
	const struct rule *rules;
	size_t nrules;
} filters[] = {
	[SANDBOX_FILTER_USER] = {"user", SCMP_ACT_ALLOW, user_table, nitems(user_table)},
	[SANDBOX_FILTER_WORKER] = {"worker", SCMP_ACT_ERRNO(EPERM), worker_table, nitems(worker_table)},
	[SANDBOX_FILTER_CONFINED] = {"confined", SCMP_ACT_ERRNO(EPERM), confined_table, nitems(confined_table)},
};
/* clang-format on */

/* The compiled BPF of each filter; inherited across fork by every process that loads one. */
static struct {
	void *bpf;
	size_t len;
} compiled[nitems(filters)];

static int
filter_add(scmp_filter_ctx ctx, const struct filter *f, const struct rule *r, char *why,
	   size_t whylen)
{
	struct scmp_arg_cmp cmp;
	int nr, rc;

	nr = seccomp_syscall_resolve_name(r->syscall);
	if (nr == __NR_SCMP_ERROR)
		return 0; /* not on this architecture: nothing to rule on */
	if (r->action == f->def)
		return 0; /* the default already; libseccomp refuses such a rule */
	switch (r->kind) {
	case ARG_NONE:
		rc = seccomp_rule_add(ctx, r->action, nr, 0);
		break;
	case ARG_MASKED_EQ:
		cmp = (struct scmp_arg_cmp){r->argno, SCMP_CMP_MASKED_EQ, r->mask, r->datum};
		rc = seccomp_rule_add_array(ctx, r->action, nr, 1, &cmp);
		break;
	default:
		cmp = (struct scmp_arg_cmp){r->argno, SCMP_CMP_GT, r->datum, 0};
		rc = seccomp_rule_add_array(ctx, r->action, nr, 1, &cmp);
		break;
	}
	if (rc < 0)
		return why_set(why, whylen, "%s seccomp filter, rule for %s: %s", f->name,
			       r->syscall, strerror(-rc));
	return 0;
}

/* Compiles one filter and keeps its BPF in compiled[which]. */
static int
filter_compile(enum sandbox_filter which, char *why, size_t whylen)
{
	const struct filter *f = &filters[which];
	scmp_filter_ctx ctx;
	void *bpf = NULL;
	size_t i;
	off_t len;
	int fd = -1, ret = -1, rc;

	if ((ctx = seccomp_init(f->def)) == NULL)
		return why_set(why, whylen, "%s seccomp filter: seccomp_init failed", f->name);
	/* Only the native ABI: i386 and x32 calls are killed. The caller has set no_new_privs
	 * itself, as the one order of privilege drop requires; libseccomp must not. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0) {
		snprintf(why, whylen, "%s seccomp filter attributes: %s", f->name, strerror(-rc));
		goto out;
	}
	for (i = 0; i < f->nrules; i++)
		if (filter_add(ctx, f, &f->rules[i], why, whylen) < 0)
			goto out;
	/* libseccomp 2.5 exports only to an fd: use an anonymous memory file. */
	if ((fd = memfd_create("wsgate-seccomp", MFD_CLOEXEC)) < 0) {
		snprintf(why, whylen, "memfd_create: %s", strerror(errno));
		goto out;
	}
	if ((rc = seccomp_export_bpf(ctx, fd)) < 0) {
		snprintf(why, whylen, "seccomp_export_bpf: %s", strerror(-rc));
		goto out;
	}
	if ((len = lseek(fd, 0, SEEK_END)) <= 0 || len % sizeof(struct sock_filter) != 0 ||
	    len > 65536) {
		snprintf(why, whylen, "%s seccomp filter has a bad size", f->name);
		goto out;
	}
	if ((bpf = malloc(len)) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	if (pread(fd, bpf, len, 0) != len) {
		snprintf(why, whylen, "reading back the %s seccomp filter failed", f->name);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0 && close(fd) < 0 && ret == 0) {
		snprintf(why, whylen, "close: %s", strerror(errno));
		ret = -1;
	}
	seccomp_release(ctx);
	if (ret == 0) {
		free(compiled[which].bpf);
		compiled[which].bpf = bpf;
		compiled[which].len = len;
	} else
		free(bpf);
	return ret;
}

static int
filter_install(enum sandbox_filter which, char *why, size_t whylen)
{
	struct sock_fprog prog;

	if (compiled[which].bpf == NULL)
		return why_set(why, whylen,
			       "%s seccomp filter not compiled (sandbox_init not called)",
			       filters[which].name);
	prog.len = compiled[which].len / sizeof(struct sock_filter);
	prog.filter = compiled[which].bpf;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return why_set(why, whylen, "%s seccomp filter: %s", filters[which].name,
			       strerror(errno));
	return 0;
}

/* The sandbox's filter, from sandbox_init(). */
int
sandbox_filter_compile(char *why, size_t whylen)
{
	return sandbox_filter_prepare(SANDBOX_FILTER_USER, why, whylen);
}

/* The sandbox's child loads the precompiled user filter; it must not call malloc (sandbox.c). */
int
sandbox_filter_install(char *why, size_t whylen)
{
	return filter_install(SANDBOX_FILTER_USER, why, whylen);
}

int
sandbox_filter_prepare(enum sandbox_filter which, char *why, size_t whylen)
{
	if ((size_t)which >= nitems(filters))
		return why_set(why, whylen, "no seccomp filter of kind %d", (int)which);
	if (compiled[which].bpf == NULL && filter_compile(which, why, whylen) < 0)
		return -1;
	return 0;
}

int
sandbox_filter_load(enum sandbox_filter which, char *why, size_t whylen)
{
	if (sandbox_filter_prepare(which, why, whylen) < 0)
		return -1;
	return filter_install(which, why, whylen);
}
