/*
 * The sandbox's seccomp filter: one table, compiled once by sandbox_init() with libseccomp and
 * exported to BPF in memory, then loaded by each sandbox with prctl() after no_new_privs.
 *
 * The default is to allow: the sandbox already runs as an unprivileged host uid with no
 * capabilities, so most of what the table refuses would fail anyway. The filter removes kernel
 * attack surface that an unprivileged process can still reach (bpf, userfaultfd, io_uring,
 * perf_event_open, keyctl, ...) and closes the known unprivileged escapes (TIOCSTI, namespace
 * creation). Learned from Docker's default profile, bubblewrap/flatpak, nsjail and minijail.
 *
 * Denials return an errno so that an ordinary probe never kills the shell. ENOSYS is answered
 * where libc must fall back to an older call (clone3, the new mount API, io_uring): flatpak
 * CVE-2021-41133 showed that a filter which does not know a new call lets it through, so those
 * are refused as "not implemented" and libc retries with clone(2)/mount(2), which we filter.
 * Foreign ABIs (i386 via int 0x80, x32) reach a different syscall table; they kill the process.
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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "sandbox/sandbox_int.h"

/* What a rule looks at: nothing (the whole call), or one argument compared under a mask. */
enum rule_arg { ARG_NONE, ARG_MASKED_EQ, ARG_GT };

struct rule {
	const char *syscall;
	int err;
	enum rule_arg kind;
	unsigned int argno;
	uint64_t mask;
	uint64_t datum;
	const char *why;
};

#define DENY(sc, e, reason)                                                                        \
	{                                                                                          \
		sc, e, ARG_NONE, 0, 0, 0, reason                                                   \
	}
#define DENY_IF(sc, e, n, m, d, reason)                                                            \
	{                                                                                          \
		sc, e, ARG_MASKED_EQ, n, m, d, reason                                              \
	}
#define DENY_GT(sc, e, n, d, reason)                                                               \
	{                                                                                          \
		sc, e, ARG_GT, n, 0, d, reason                                                     \
	}
/* ioctl requests are 32-bit in the kernel: compare only the low half so that garbage in the
 * upper bits cannot slip past the rule (CVE-2019-10063, flatpak's TIOCSTI bypass). */
#define M32 0xffffffffULL
#define NS_FLAGS                                                                                   \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
	 CLONE_NEWCGROUP | CLONE_NEWTIME)

/* clang-format off */
static const struct rule filter_table[] = {
	/* Terminal injection: characters pushed into the terminal's input queue are read as if
	 * the user typed them. CVE-2017-5226 left bubblewrap through a terminal shared with the
	 * outside; here any program (an imported script) could type into the user's shell. */
	DENY_IF("ioctl", EPERM, 1, M32, TIOCSTI, "TIOCSTI: CVE-2017-5226, mask CVE-2019-10063"),
	DENY_IF("ioctl", EPERM, 1, M32, TIOCLINUX, "TIOCLINUX: console paste/selection injection"),
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
	DENY_GT("socket", EAFNOSUPPORT, 0, AF_INET6, "netlink, packet, vsock, alg, ... refused"),
	/* (AF_INET+1 .. AF_INET6-1: see filter_socket_gaps below) */
	DENY_IF("socketpair", EAFNOSUPPORT, 0, ~0ULL, AF_UNSPEC, "only unix pairs"),
	DENY_GT("socketpair", EAFNOSUPPORT, 0, AF_UNIX, "only unix pairs"),
};
/* clang-format on */

static void *filter_bpf;
static size_t filter_bpf_len;

static int
filter_add(scmp_filter_ctx ctx, const struct rule *r, char *why, size_t whylen)
{
	struct scmp_arg_cmp cmp;
	int nr, rc;

	nr = seccomp_syscall_resolve_name(r->syscall);
	if (nr == __NR_SCMP_ERROR)
		return 0; /* not on this architecture: nothing to refuse */
	switch (r->kind) {
	case ARG_NONE:
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(r->err), nr, 0);
		break;
	case ARG_MASKED_EQ:
		cmp = (struct scmp_arg_cmp){r->argno, SCMP_CMP_MASKED_EQ, r->mask, r->datum};
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(r->err), nr, 1, &cmp);
		break;
	default:
		cmp = (struct scmp_arg_cmp){r->argno, SCMP_CMP_GT, r->datum, 0};
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(r->err), nr, 1, &cmp);
		break;
	}
	if (rc < 0) {
		snprintf(why, whylen, "seccomp rule for %s: %s", r->syscall, strerror(-rc));
		return -1;
	}
	return 0;
}

/* Families between AF_INET and AF_INET6 (AX25, IPX, APPLETALK, NETROM, BRIDGE, ATMPVC, X25). */
static int
filter_socket_gaps(scmp_filter_ctx ctx, char *why, size_t whylen)
{
	struct rule r = DENY_IF("socket", EAFNOSUPPORT, 0, ~0ULL, 0, "old families");
	uint64_t af;

	for (af = AF_INET + 1; af < AF_INET6; af++) {
		r.datum = af;
		if (filter_add(ctx, &r, why, whylen) < 0)
			return -1;
	}
	return 0;
}

int
sandbox_filter_compile(char *why, size_t whylen)
{
	scmp_filter_ctx ctx;
	size_t i;
	off_t len;
	int fd = -1, ret = -1, rc;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		snprintf(why, whylen, "seccomp_init failed");
		return -1;
	}
	/* Only the native ABI: i386 and x32 calls are killed (SCMP_ACT_KILL_PROCESS). */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0) {
		snprintf(why, whylen, "seccomp attributes: %s", strerror(-rc));
		goto out;
	}
	for (i = 0; i < sizeof(filter_table) / sizeof(filter_table[0]); i++)
		if (filter_add(ctx, &filter_table[i], why, whylen) < 0)
			goto out;
	if (filter_socket_gaps(ctx, why, whylen) < 0)
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
		snprintf(why, whylen, "seccomp filter has a bad size");
		goto out;
	}
	free(filter_bpf);
	if ((filter_bpf = malloc(len)) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	if (pread(fd, filter_bpf, len, 0) != len) {
		snprintf(why, whylen, "reading back the seccomp filter failed");
		goto out;
	}
	filter_bpf_len = len;
	ret = 0;
out:
	if (fd >= 0 && close(fd) < 0 && ret == 0) {
		snprintf(why, whylen, "close: %s", strerror(errno));
		ret = -1;
	}
	seccomp_release(ctx);
	return ret;
}

int
sandbox_filter_install(char *why, size_t whylen)
{
	struct sock_fprog prog;

	if (filter_bpf == NULL) {
		snprintf(why, whylen, "seccomp filter not compiled (sandbox_init not called)");
		return -1;
	}
	prog.len = filter_bpf_len / sizeof(struct sock_filter);
	prog.filter = filter_bpf;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) {
		snprintf(why, whylen, "seccomp filter: %s", strerror(errno));
		return -1;
	}
	return 0;
}
