/*
 * sandbox-probe: tries one denied operation inside the sandbox and prints what happened:
 * "ok" if the call succeeded, else the errno's name (EPERM, ENOSYS, ...). The escape battery
 * compares that with the expected answer, like bubblewrap's and flatpak's try-syscall.c.
 * Arguments are chosen so that the call would do something (or fail with EINVAL/EFAULT) if the
 * filter let it through, which keeps a filter answer distinguishable from a kernel answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static const char *
errname(int e)
{
	static char buf[32];

	switch (e) {
	case EPERM:
		return "EPERM";
	case ENOSYS:
		return "ENOSYS";
	case EACCES:
		return "EACCES";
	case EAFNOSUPPORT:
		return "EAFNOSUPPORT";
	case EINVAL:
		return "EINVAL";
	case EFAULT:
		return "EFAULT";
	case ENOENT:
		return "ENOENT";
	case EBADF:
		return "EBADF";
	case ESRCH:
		return "ESRCH";
	case EROFS:
		return "EROFS";
	case ENOTTY:
		return "ENOTTY";
	case EIO:
		return "EIO";
	case EEXIST:
		return "EEXIST";
	case EXDEV:
		return "EXDEV";
	case ENETUNREACH:
		return "ENETUNREACH";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case EPROTONOSUPPORT:
		return "EPROTONOSUPPORT";
	case ESOCKTNOSUPPORT:
		return "ESOCKTNOSUPPORT";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case EAGAIN:
		return "EAGAIN";
	default:
		snprintf(buf, sizeof(buf), "errno%d", e);
		return buf;
	}
}

static int
report(long rc)
{
	puts(rc < 0 ? errname(errno) : "ok");
	return 0;
}

static long
sock(int af, int type, int proto)
{
	return socket(af, type, proto);
}

static long
x32_call(void)
{
	/* getpid through the x32 ABI: a foreign ABI, which the filter kills. */
	return syscall(0x40000000 | SYS_getpid);
}

static long
i386_call(void)
{
	long ret;

	/* getpid (20) through int 0x80, the i386 ABI. */
	__asm__ volatile("int $0x80" : "=a"(ret) : "0"(20L) : "memory");
	return ret;
}

/* What a JIT does (R's and Python's, numba, Java): map memory read/write, fill it, then make it
 * executable (prot_exec = PROT_READ | PROT_EXEC), or map it executable at once (map_exec). The
 * worker's filter forbids both; the user filter must not. */
static long
jit_page(int map_exec)
{
	void *p;

	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | (map_exec ? PROT_EXEC : 0),
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	*(volatile char *)p = (char)0xc3; /* x86 ret */
	if (!map_exec && mprotect(p, 4096, PROT_READ | PROT_EXEC) < 0)
		return -1;
	((void (*)(void))p)();
	return 0;
}

static long
tiocsti(unsigned long hi)
{
	char c = '#';

	/* hi puts garbage in the upper 32 bits, as in CVE-2019-10063. */
	return syscall(SYS_ioctl, 0, hi | TIOCSTI, &c);
}

int
main(int argc, char **argv)
{
	const char *w;
	char buf[64];
	struct iovec l = {buf, 8}, r = {(void *)&l, 8};
	struct timespec ts = {0, 0};

	if (argc != 2) {
		fprintf(stderr, "usage: sandbox-probe NAME\n");
		return 2;
	}
	w = argv[1];
#define IS(s) (strcmp(w, s) == 0)
	if (IS("mount"))
		return report(mount("none", "/tmp", "tmpfs", 0, NULL));
	if (IS("umount"))
		return report(umount2("/work", MNT_DETACH));
	if (IS("pivot_root"))
		return report(syscall(SYS_pivot_root, "/tmp", "/tmp"));
	if (IS("chroot"))
		return report(chroot("/tmp"));
	if (IS("mknod_char"))
		return report(mknod("/tmp/mem", S_IFCHR | 0600, makedev(1, 1)));
	if (IS("mknod_block"))
		return report(mknod("/tmp/sda", S_IFBLK | 0600, makedev(8, 0)));
	if (IS("mknod_fifo"))
		return report(mknod("/tmp/fifo", S_IFIFO | 0600, 0));
	if (IS("sethostname"))
		return report(sethostname("evil", 4));
	if (IS("setdomainname"))
		return report(setdomainname("evil", 4));
	if (IS("clock_settime"))
		return report(clock_settime(CLOCK_REALTIME, &ts));
	if (IS("settimeofday"))
		return report(syscall(SYS_settimeofday, NULL, NULL));
	if (IS("adjtimex"))
		return report(syscall(SYS_adjtimex, NULL));
	if (IS("ptrace"))
		return report(syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, 1, 0, 0));
	if (IS("ptrace_traceme"))
		return report(syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0));
	if (IS("process_vm_readv"))
		return report(process_vm_readv(getppid() > 0 ? getppid() : 1, &l, 1, &r, 1, 0));
	if (IS("process_vm_writev"))
		return report(process_vm_writev(1, &l, 1, &r, 1, 0));
	if (IS("unshare_user"))
		return report(unshare(CLONE_NEWUSER));
	if (IS("unshare_ns"))
		return report(unshare(CLONE_NEWNS));
	if (IS("unshare_net"))
		return report(unshare(CLONE_NEWNET));
	if (IS("setns"))
		return report(setns(open("/proc/self/ns/net", O_RDONLY), 0));
	if (IS("clone_newuser"))
		return report(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL));
	if (IS("clone3"))
		return report(syscall(SYS_clone3, NULL, 0));
	if (IS("keyctl"))
		return report(syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0));
	if (IS("add_key"))
		return report(syscall(SYS_add_key, "user", "x", "y", 1, -3));
	if (IS("request_key"))
		return report(syscall(SYS_request_key, "user", "x", NULL, -3));
	if (IS("bpf"))
		return report(syscall(SYS_bpf, 0 /* MAP_CREATE */, NULL, 0));
	if (IS("perf_event_open"))
		return report(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	if (IS("userfaultfd"))
		return report(syscall(SYS_userfaultfd, 0));
	if (IS("io_uring_setup"))
		return report(syscall(SYS_io_uring_setup, 1, NULL));
	if (IS("kexec_load"))
		return report(syscall(SYS_kexec_load, 0, 0, NULL, 0));
	if (IS("kexec_file_load"))
		return report(syscall(SYS_kexec_file_load, -1, -1, 0, "", 0));
	if (IS("init_module"))
		return report(syscall(SYS_init_module, NULL, 0, ""));
	if (IS("finit_module"))
		return report(syscall(SYS_finit_module, -1, "", 0));
	if (IS("delete_module"))
		return report(syscall(SYS_delete_module, "loop", 0));
	if (IS("open_by_handle_at"))
		return report(syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0));
	if (IS("name_to_handle_at"))
		return report(syscall(SYS_name_to_handle_at, AT_FDCWD, ".", NULL, NULL, 0));
	if (IS("reboot"))
		return report(syscall(SYS_reboot, 0, 0, 0, NULL));
	if (IS("swapon"))
		return report(syscall(SYS_swapon, "/work/swap", 0));
	if (IS("swapoff"))
		return report(syscall(SYS_swapoff, "/work/swap"));
	if (IS("syslog"))
		return report(syscall(SYS_syslog, 3 /* READ_ALL */, buf, sizeof(buf)));
	if (IS("acct"))
		return report(syscall(SYS_acct, NULL));
	if (IS("quotactl"))
		return report(syscall(SYS_quotactl, 0, NULL, 0, NULL));
	if (IS("personality"))
		return report(personality(ADDR_NO_RANDOMIZE));
	if (IS("personality_linux"))
		return report(personality(PER_LINUX));
	if (IS("mmap_exec"))
		return report(jit_page(1));
	if (IS("mprotect_exec"))
		return report(jit_page(0));
	if (IS("pidfd_getfd"))
		return report(syscall(SYS_pidfd_getfd, -1, 0, 0));
	if (IS("kcmp"))
		return report(syscall(SYS_kcmp, 1, 1, 0, 0, 0));
	if (IS("modify_ldt"))
		return report(syscall(SYS_modify_ldt, 0, buf, sizeof(buf)));
	if (IS("iopl"))
		return report(syscall(SYS_iopl, 3));
	if (IS("ioperm"))
		return report(syscall(SYS_ioperm, 0x80, 1, 1));
	if (IS("fanotify_init"))
		return report(syscall(SYS_fanotify_init, 0, 0));
	if (IS("fsopen"))
		return report(syscall(SYS_fsopen, "tmpfs", 0));
	if (IS("open_tree"))
		return report(syscall(SYS_open_tree, AT_FDCWD, "/work", 1 /* OPEN_TREE_CLONE */));
	if (IS("move_mount"))
		return report(syscall(SYS_move_mount, -1, "", -1, "", 0));
	if (IS("lookup_dcookie"))
		return report(syscall(SYS_lookup_dcookie, 0, NULL, 0));
	if (IS("tiocsti"))
		return report(tiocsti(0));
	if (IS("tiocsti_hibits"))
		return report(tiocsti(0x100000000UL));
	if (IS("tioclinux"))
		return report(syscall(SYS_ioctl, 0, 0xdead00000000UL | TIOCLINUX, buf));
	if (IS("sock_unix"))
		return report(sock(AF_UNIX, SOCK_STREAM, 0));
	if (IS("sock_inet"))
		return report(sock(AF_INET, SOCK_STREAM, 0));
	if (IS("sock_raw"))
		return report(sock(AF_INET, SOCK_RAW, IPPROTO_RAW));
	if (IS("sock_netlink"))
		return report(sock(AF_NETLINK, SOCK_RAW, 0));
	if (IS("sock_packet"))
		return report(sock(AF_PACKET, SOCK_RAW, 0));
	if (IS("sock_alg"))
		return report(sock(AF_ALG, SOCK_SEQPACKET, 0));
	if (IS("sock_vsock"))
		return report(sock(AF_VSOCK, SOCK_STREAM, 0));
	if (IS("sock_bluetooth"))
		return report(sock(AF_BLUETOOTH, SOCK_RAW, 0));
	if (IS("sock_appletalk"))
		return report(sock(AF_APPLETALK, SOCK_DGRAM, 0));
	if (IS("sock_unspec"))
		return report(sock(AF_UNSPEC, SOCK_STREAM, 0));
	if (IS("sock_hibits"))
		return report(syscall(SYS_socket, 0x100000000UL | AF_NETLINK, SOCK_RAW, 0));
	if (IS("socketpair_inet")) {
		int sv[2];
		return report(socketpair(AF_INET, SOCK_STREAM, 0, sv));
	}
	if (IS("x32"))
		return report(x32_call());
	if (IS("i386"))
		return report(i386_call());
	if (IS("kill_init"))
		return report(kill(1, SIGKILL) < 0 ? -1 : (sleep(1), kill(1, 0)));
	if (IS("proc1_mem"))
		return report(open("/proc/1/mem", O_RDONLY));
	if (IS("proc1_root"))
		return report(open("/proc/1/root/etc/shadow", O_RDONLY));
	fprintf(stderr, "sandbox-probe: unknown probe %s\n", w);
	return 2;
}
