/*
 * sandbox_spawn(): one clone() into new mount, pid, net, ipc and uts namespaces (and a cgroup
 * namespace once the child sits in its own cgroup). The child becomes the pid 1 of its
 * namespace and drops privilege in the one order of STYLE.md:
 *
 *   mounts -> pivot_root -> hidden paths -> (cgroup joined, by the monitor) -> cgroup
 *   namespace -> rlimits -> setgroups/setresgid/setresuid -> capabilities (bounding and ambient
 *   too) -> no_new_privs -> seccomp -> exec of wsgate-init
 *
 * Any failed step ends that child with a reason sent to the monitor. The child is a copy of the
 * monitor (its libraries, its database mapping, whatever it held in memory), so its last step
 * replaces itself: it execs wsgate-init (sandbox/init.c), a small freestanding program, through
 * an fd opened before the clone (the file is not inside the sandbox). That program is pid 1: it
 * waits for the go-ahead with the command, sends 'R', starts the command, reaps every orphan,
 * and when the command ends sends its wait status on the status pipe and exits, which makes the
 * kernel kill everything left in the namespace. A sandbox built ahead (sandbox_prepare) is
 * therefore a finished one: only wsgate-init waits in it, the command's start costs a fork and
 * an exec.
 *
 * No user namespace: we are root and the accounts have real, distinct host uids, so a user
 * namespace would add nothing but its kernel attack surface (see docs/sandbox.md).
 *
 * Go socket (monitor to child): 'J' once the child sits in its cgroup, then 'G' + the command
 * (cmdmsg.h), read by wsgate-init. Status pipe (child to monitor): 'R' ready (the command is
 * starting), then 'S' + int wait status; or 'E' + a one-line reason if setup failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <net/if.h>
#include <linux/sched.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/nitems.h"
#include "common/why.h"
#include "common/codec.h"
#include "sandbox/cmdmsg.h"
#include "sandbox/sandbox.h"
#include "sandbox/sandbox_int.h"

#define FD_STATUS 3
#define FD_GO 4	  /* from the monitor: 'J' (joined its cgroup), then the go-ahead for init */
#define FD_EXIT 5 /* the command's wait status, be32, to the relay (sandbox.h: exit_rd) */
#define FD_INIT 6 /* wsgate-init, opened O_PATH by the monitor before the clone */
#define INIT_NAME "wsgate-init"
#define ENV_MAX 64
#define SETUP_DIED "sandbox setup: child died before it was ready"
#define GO_MISSING CMDMSG_NO_GO

static int sandbox_inited;
/* wsgate-init next to the running program (wsgated, or a test's harness), as wsgated finds
 * airlock and wsgatectl. Opened per sandbox, so that no long-lived fd of it is inherited by
 * anything else the monitor forks. */
static char sandbox_init_path[PATH_MAX];

struct child_args {
	const struct sandbox_spec *spec;
	int stdio[3]; /* child ends (all the pty slave with a pty) */
	int status_w;
	int go_r;
	int exit_w;
	int init_fd;
	int net_fd; /* the spec's: > 0 to join, else the clone made a new network namespace */
};

int
sandbox_init(char *why, size_t whylen)
{
	if (geteuid() != 0)
		return why_set(why, whylen, "the sandbox needs root to set up namespaces");
	errno = 0;
	/* Run by the account's uid (after the drop): others must be able to execute it. */
	if (exe_sibling(INIT_NAME, S_IXOTH, sandbox_init_path, sizeof(sandbox_init_path), why,
			whylen) < 0)
		return -1;
	if (sandbox_filter_compile(why, whylen) < 0 || limits_detect(why, whylen) < 0)
		return -1;
	sandbox_inited = 1;
	return 0;
}

const char *
sandbox_limits_backend(void)
{
	return limits_backend_name();
}

/* ---- child side ---- */

static void __attribute__((noreturn)) child_fail(const char *why)
{
	char msg[256];
	int n;

	n = snprintf(msg, sizeof(msg), "E%s", why);
	if (n > (int)sizeof(msg) - 1)
		n = sizeof(msg) - 1;
	(void)write_all(FD_STATUS, msg, n);
	_exit(1);
}

/* Puts the fds the child keeps at fixed numbers and closes every other fd inherited from the
 * monitor (sockets, LMDB, keys): 0-2 stdio, 3 status, 4 go, 5 exit, 6 wsgate-init. All but
 * stdio are close-on-exec; the status and exit pipes and the go socket are handed to
 * wsgate-init just before the exec. */
static int
child_fds(struct child_args *a)
{
	int want[7], n = 0, i, fd;

	for (i = 0; i < 3; i++)
		want[n++] = a->stdio[i];
	want[n++] = a->status_w;
	want[n++] = a->go_r;
	want[n++] = a->exit_w;
	want[n++] = a->init_fd;
	/* First move everything above the target range so that dup2 never clobbers a source. */
	for (i = 0; i < n; i++) {
		if ((fd = fcntl(want[i], F_DUPFD_CLOEXEC, 16)) < 0)
			return -1;
		want[i] = fd;
	}
	for (i = 0; i < n; i++)
		if (dup3(want[i], i, i < 3 ? 0 : O_CLOEXEC) < 0)
			return -1;
	return syscall(SYS_close_range, n, ~0U, 0) < 0 ? -1 : 0;
}

/* The new network namespace has only its loopback, down. Bring it up: R's and Python's local
 * workers (parallel, multiprocessing managers, Jupyter kernels) talk over 127.0.0.1, and it
 * reaches nothing but this sandbox. */
static int
child_loopback(void)
{
	struct ifreq ifr;
	int s, ret = -1;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) == 0)
			ret = 0;
	}
	if (close(s) < 0)
		ret = -1;
	return ret;
}

/* The monitor's 'J': the child sits in its own cgroup now (the monitor moved it there, or it was
 * born there), so a cgroup namespace made from here has that cgroup as its root. */
static void
child_wait_joined(void)
{
	char c;

	if (read_all(FD_GO, &c, 1) != 1 || c != 'J')
		child_fail(GO_MISSING);
}

static void __attribute__((noreturn)) child_main(struct child_args *a)
{
	const struct sandbox_spec *spec = a->spec;
	/* wsgate-init's own argv; the command follows on the go socket. A literal array: the child
	 * of a raw clone never calls malloc. */
	char *init_argv[] = {INIT_NAME, spec->use_pty ? "-t" : NULL, NULL}, *no_env[] = {NULL};
	char why[200], tty[64];

	/* Into the shared network namespace first, while the monitor's fd numbers still hold. */
	if (a->net_fd > 0 && setns(a->net_fd, CLONE_NEWNET) < 0) {
		(void)write_all(a->status_w, "Enetwork namespace failed", 25);
		_exit(1);
	}
	if (child_fds(a) < 0) {
		/* The status pipe may be anywhere: report on the original fd. */
		(void)write_all(a->status_w, "Echild fds", 10);
		_exit(1);
	}
	/* The monitor's death ends the sandbox (set again after setuid, which clears it). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail("pdeathsig failed");
	/* The new root's files must not depend on the monitor's umask (a daemon's is often 077,
	 * which would leave /etc/passwd unreadable to the user). */
	umask(022);
	if (sethostname(SANDBOX_HOSTNAME, strlen(SANDBOX_HOSTNAME)) < 0)
		child_fail("sethostname failed");
	/* In a shared namespace too: the sandbox that made it may have failed before this. */
	if (child_loopback() < 0)
		child_fail("bringing up lo failed");
	/* The session's pty slave, by its host name, to show it as /dev/console (tty(1)). */
	if (spec->use_pty && ttyname_r(0, tty, sizeof(tty)) != 0)
		child_fail("ttyname of the pty slave failed");
	if (mounts_setup(spec, spec->use_pty ? tty : NULL, why, sizeof(why)) < 0)
		child_fail(why);
	child_wait_joined();
	/* The cgroup namespace's root is now the sandbox's own cgroup. */
	if (unshare(CLONE_NEWCGROUP) < 0)
		child_fail("cgroup namespace failed");
	if (limits_rlimits(&spec->limits, why, sizeof(why)) < 0)
		child_fail(why);
	if (identity_drop(spec->uid, spec->gid, why, sizeof(why)) < 0)
		child_fail(why);
	if (sandbox_filter_install(why, sizeof(why)) < 0)
		child_fail(why);
	/* Until the exec we are the user's uid with the monitor's memory: not dumpable. The
	 * death signal survives the exec (wsgate-init is not setuid), and init sets both again. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		child_fail("prctl after the drop failed");
	/* The rlimits backend's memory limit binds init and the command alike: init is small. */
	if (limits_rlimit_as(&spec->limits, why, sizeof(why)) < 0)
		child_fail(why);
	if (fcntl(FD_STATUS, F_SETFD, 0) < 0 || fcntl(FD_GO, F_SETFD, 0) < 0 ||
	    fcntl(FD_EXIT, F_SETFD, 0) < 0)
		child_fail("status, go and exit fds for wsgate-init failed");
	/* Nothing of the monitor survives this: a fresh program, only fds 0-5 open. */
	syscall(SYS_execveat, FD_INIT, "", init_argv, no_env, AT_EMPTY_PATH);
	snprintf(why, sizeof(why), "exec " INIT_NAME ": %s", strerror(errno));
	child_fail(why);
}

/* ---- monitor side ---- */

#define SANDBOX_NS (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

/* A raw clone, as fork(): the child needs no stack of its own and becomes pid 1. With cgroup v2
 * the child is born in its cgroup (clone3, CLONE_INTO_CGROUP); kernels without it fall back.
 * A sandbox that joins a network namespace (spec->net_fd) is not given a new one: creating one
 * and the kernel's teardown of it cost about 1 ms of CPU per sandbox, most of what a command
 * over an open connection costs beyond sshd (docs/bench-gateway.md). */
static long
sandbox_clone(struct limits_group *g, int join_net)
{
	unsigned long ns = join_net ? SANDBOX_NS & ~CLONE_NEWNET : SANDBOX_NS;
	struct clone_args ca;
	long pid;

	if (g->dir_fd >= 0) {
		memset(&ca, 0, sizeof(ca));
		ca.flags = ns | CLONE_INTO_CGROUP;
		ca.exit_signal = SIGCHLD;
		ca.cgroup = (uint64_t)g->dir_fd;
		pid = syscall(SYS_clone3, &ca, sizeof(ca));
		if (pid > 0)
			g->joined = 1;
		if (pid >= 0 || (errno != ENOSYS && errno != E2BIG && errno != EINVAL))
			return pid;
	}
	return syscall(SYS_clone, ns | SIGCHLD, NULL, NULL, NULL, NULL);
}

int
sandbox_netns(const struct sandbox_proc *proc)
{
	char path[64];

	if (proc->pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	/* Our own unreaped child: its pid cannot have been reused. */
	snprintf(path, sizeof(path), "/proc/%ld/ns/net", (long)proc->pid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int
env_has(char *const *envp, int n, const char *key)
{
	size_t k = strlen(key);
	int i;

	for (i = 0; i < n; i++)
		if (strncmp(envp[i], key, k) == 0 && envp[i][k] == '=')
			return 1;
	return 0;
}

static char *
env_fmt(const char *key, const char *val)
{
	char *s;

	if (asprintf(&s, "%s=%s", key, val) < 0)
		return NULL;
	return s;
}

static void
strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

/* The sandbox's environment: ours first (HOME, PATH, ...), then the caller's filtered entries
 * unless they name one of ours. */
static char **
env_build(const struct sandbox_spec *spec)
{
	const char *ours[][2] = {
	    {"HOME", SANDBOX_HOME},
	    /* R reads .Rprofile from the current directory (the shared /work) unless told where. */
	    {"R_PROFILE_USER", SANDBOX_HOME "/.Rprofile"},
	    {"PATH", SANDBOX_PATH},
	    {"USER", spec->user},
	    {"LOGNAME", spec->user},
	    {"SHELL", "/bin/bash"},
	    {"AIRLOCK_SOCKET", spec->airlock_sock ? SANDBOX_AIRLOCK_SOCK : NULL}};
	char **env;
	size_t i;
	int n = 0;

	if ((env = calloc(ENV_MAX + 1, sizeof(char *))) == NULL)
		return NULL;
	for (i = 0; i < nitems(ours); i++) {
		if (ours[i][1] == NULL)
			continue;
		if ((env[n++] = env_fmt(ours[i][0], ours[i][1])) == NULL)
			goto fail;
	}
	for (i = 0; spec->envp && spec->envp[i] && n < ENV_MAX; i++) {
		const char *eq = strchr(spec->envp[i], '=');
		char key[64];

		if (eq == NULL || eq == spec->envp[i] ||
		    (size_t)(eq - spec->envp[i]) >= sizeof(key))
			continue;
		memcpy(key, spec->envp[i], eq - spec->envp[i]);
		key[eq - spec->envp[i]] = '\0';
		if (env_has(env, n, key))
			continue;
		if ((env[n++] = strdup(spec->envp[i])) == NULL)
			goto fail;
	}
	return env;
fail:
	strv_free(env);
	return NULL;
}

/* The command's argv, sent with the go-ahead. No argv: an interactive login shell ("bash -l", as
 * login(1) and sshd start it). Else the command string through /bin/sh -c, as sshd runs an exec
 * request. */
static char **
argv_build(const struct sandbox_spec *spec)
{
	const char *w[3];
	char **v;
	int n = 0, i;

	if (spec->argv == NULL || spec->argv[0] == NULL) {
		w[n++] = "/bin/bash";
		w[n++] = "-l";
	} else {
		w[n++] = "/bin/sh";
		w[n++] = "-c";
		w[n++] = spec->argv[0];
	}
	if ((v = calloc(n + 1, sizeof(char *))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((v[i] = strdup(w[i])) == NULL) {
			strv_free(v);
			return NULL;
		}
	}
	return v;
}

static int
spec_check(const struct sandbox_spec *spec, char *why, size_t whylen)
{
	const char *p;

	if (!sandbox_inited)
		return why_set(why, whylen, "sandbox_init was not called");
	/* Host uids and gids of accounts are allocated far from system ids; 0 never. */
	if (spec->uid < 1000 || spec->gid < 1000 || spec->uid == (uid_t)-1 ||
	    spec->gid == (gid_t)-1)
		return why_set(why, whylen, "uid %u / gid %u not allowed for a sandbox",
			       (unsigned)spec->uid, (unsigned)spec->gid);
	/* The name goes into the generated passwd: no ':' or newline may forge an entry. */
	if (spec->user == NULL || spec->user[0] == '\0' || strlen(spec->user) > 32)
		return why_set(why, whylen, "bad user name");
	for (p = spec->user; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-' || *p == '.'))
			return why_set(why, whylen, "bad user name");
	}
	if (spec->work_dir == NULL || spec->work_dir[0] != '/')
		return why_set(why, whylen, "work_dir must be an absolute path");
	return 0;
}

static void
close_if(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

static int
sandbox_io(const struct sandbox_spec *spec, struct sandbox_proc *proc, int child[3], char *why,
	   size_t whylen)
{
	int p[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}}, i, m, s;

	if (spec->use_pty) {
		if (openpty(&m, &s, NULL, NULL, &spec->ws) < 0)
			return why_set(why, whylen, "openpty: %s", strerror(errno));
		(void)fcntl(m, F_SETFD, FD_CLOEXEC);
		(void)fcntl(s, F_SETFD, FD_CLOEXEC);
		/* As sshd's pty_setowner(): the account owns its terminal, nobody else may open it.
		 */
		if (fchown(s, spec->uid, spec->gid) < 0 || fchmod(s, 0600) < 0) {
			snprintf(why, whylen, "pty owner: %s", strerror(errno));
			(void)close(m);
			(void)close(s);
			proc->pty_master = proc->stdin_fd = -1;
			return -1;
		}
		proc->pty_master = proc->stdin_fd = m;
		child[0] = child[1] = child[2] = s;
		return 0;
	}
	for (i = 0; i < 3; i++) {
		if (pipe2(p[i], O_CLOEXEC) < 0) {
			snprintf(why, whylen, "pipe: %s", strerror(errno));
			for (; i >= 0; i--) {
				close_if(&p[i][0]);
				close_if(&p[i][1]);
			}
			return -1;
		}
	}
	proc->stdin_fd = p[0][1];
	child[0] = p[0][0];
	proc->stdout_fd = p[1][0];
	child[1] = p[1][1];
	proc->stderr_fd = p[2][0];
	child[2] = p[2][1];
	return 0;
}

static void
sandbox_child_fds_close(const struct sandbox_spec *spec, int child[3])
{
	if (spec->use_pty) {
		close_if(&child[0]);
		child[1] = child[2] = -1;
		return;
	}
	close_if(&child[0]);
	close_if(&child[1]);
	close_if(&child[2]);
}

static void
proc_clear(struct sandbox_proc *proc)
{
	memset(proc, 0, sizeof(*proc));
	proc->pid = -1;
	proc->stdin_fd = proc->stdout_fd = proc->stderr_fd = -1;
	proc->pty_master = proc->status_fd = proc->go_fd = -1;
	proc->exit_rd = proc->exit_wr = -1;
}

static void
proc_close(struct sandbox_proc *proc)
{
	if (proc->stdin_fd == proc->pty_master)
		proc->stdin_fd = -1;
	close_if(&proc->stdin_fd);
	close_if(&proc->stdout_fd);
	close_if(&proc->stderr_fd);
	close_if(&proc->pty_master);
	close_if(&proc->status_fd);
	close_if(&proc->exit_rd);
	close_if(&proc->exit_wr);
}

/* Waits for 'R' (or 'E' + reason) from the child. */
static int
sandbox_wait_ready(struct sandbox_proc *proc, char *why, size_t whylen)
{
	char msg[256];
	ssize_t n;

	n = read_all(proc->status_fd, msg, 1);
	if (n == 1 && msg[0] == 'R')
		return 0;
	if (n == 1 && msg[0] == 'E') {
		n = read_all(proc->status_fd, msg, sizeof(msg) - 1);
		msg[n > 0 ? n : 0] = '\0';
		if ((size_t)snprintf(why, whylen, "sandbox setup: %.200s", msg) >= whylen)
			why[whylen - 1] = '\0';
	} else {
		snprintf(why, whylen, SETUP_DIED);
	}
	return -1;
}

void
sandbox_discard(struct sandbox_proc *proc)
{
	int st;

	if (proc->pid > 0) {
		(void)kill(proc->pid, SIGKILL);
		while (waitpid(proc->pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	if (proc->cgroup[0])
		(void)limits_release(proc->cgroup);
	close_if(&proc->go_fd);
	proc_close(proc);
	proc_clear(proc);
}

/* The monitor's half after the clone: the cgroup, unless the child was born in it (a cgroup
 * migration waits for an RCU grace period, so it runs while the child builds its mounts). */
static int
sandbox_join_cgroup(const struct sandbox_spec *spec, struct sandbox_proc *proc,
		    struct limits_group *group, char *why, size_t whylen)
{
	int rc;

	rc = limits_clone_into() ? 0 : limits_prepare(&spec->limits, group, why, whylen);
	snprintf(proc->cgroup, sizeof(proc->cgroup), "%s", group->name);
	if (rc == 0)
		rc = limits_attach(group, proc->pid, why, whylen);
	return rc;
}

int
sandbox_prepare(const struct sandbox_spec *spec, struct sandbox_proc *proc, char *why,
		size_t whylen)
{
	struct limits_group group = {.nfds = 0, .dir_fd = -1};
	struct child_args a = {.spec = spec, .init_fd = -1, .net_fd = spec->net_fd};
	int child[3] = {-1, -1, -1}, sp[2] = {-1, -1}, gp[2] = {-1, -1}, ep[2] = {-1, -1};
	int saved_errno;
	char ewhy[256];
	sigset_t all, old;
	long pid;

	proc_clear(proc);
	if (spec_check(spec, why, whylen) < 0)
		return -1;
	if ((a.init_fd = open(sandbox_init_path, O_PATH | O_CLOEXEC)) < 0) {
		snprintf(why, whylen, "%s: %s", sandbox_init_path, strerror(errno));
		goto fail;
	}
	if (sandbox_io(spec, proc, child, why, whylen) < 0)
		goto fail;
	/* The go-ahead travels on a socket so that a dead child cannot SIGPIPE the monitor. */
	if (pipe2(sp, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gp) < 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		goto fail;
	}
	memcpy(a.stdio, child, sizeof(child));
	a.status_w = sp[1];
	a.go_r = gp[0];
	a.exit_w = ep[1];
	/* cgroup v2: the cgroup must exist before the clone that creates the child in it. */
	if (limits_clone_into() && limits_prepare(&spec->limits, &group, why, whylen) < 0)
		goto fail;
	/* The monitor's signal handlers must never run in the child: block everything across the
	 * clone; wsgate-init keeps the mask, the command starts with default dispositions and an
	 * empty mask (init.c). */
	sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, &old);
	pid = sandbox_clone(&group, spec->net_fd > 0);
	if (pid == 0)
		child_main(&a);
	saved_errno = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved_errno;
	if (pid < 0) {
		snprintf(why, whylen, "clone: %s", strerror(errno));
		goto fail;
	}
	proc->pid = (pid_t)pid;
	proc->status_fd = sp[0];
	proc->go_fd = gp[1];
	proc->exit_rd = ep[0];
	proc->exit_wr = ep[1]; /* kept: see sandbox.h */
	close_if(&sp[1]);
	close_if(&gp[0]);
	close_if(&a.init_fd);
	sandbox_child_fds_close(spec, child);
	if (sandbox_join_cgroup(spec, proc, &group, why, whylen) == 0) {
		if (send(proc->go_fd, "J", 1, MSG_NOSIGNAL) == 1)
			return 0;
		snprintf(why, whylen, "sandbox setup: go socket: %s", strerror(errno));
	}
	/* A child that failed on its own has the better reason; one that only lost its go-ahead
	 * (because of our failure) has not. */
	close_if(&proc->go_fd);
	if (sandbox_wait_ready(proc, ewhy, sizeof(ewhy)) < 0 && strcmp(ewhy, SETUP_DIED) != 0 &&
	    strstr(ewhy, GO_MISSING) == NULL)
		snprintf(why, whylen, "%.240s", ewhy);
	limits_close_fds(&group);
	sandbox_discard(proc);
	return -1;
fail:
	sandbox_child_fds_close(spec, child);
	close_if(&a.init_fd);
	close_if(&sp[0]);
	close_if(&sp[1]);
	close_if(&gp[0]);
	close_if(&gp[1]);
	close_if(&ep[0]);
	close_if(&ep[1]);
	limits_close_fds(&group);
	if (group.name[0])
		(void)limits_release(group.name);
	proc_close(proc);
	proc_clear(proc);
	return -1;
}

/* The go-ahead message: 'G', be32 length, the command's argv and environment (cmdmsg.h). */
static int
sandbox_send_go(struct sandbox_proc *proc, const struct sandbox_spec *spec, char *why,
		size_t whylen)
{
	char **argv = argv_build(spec), **envp = env_build(spec);
	uint8_t head[5], *msg = NULL;
	size_t len = 0;
	int rc = -1;

	if (argv != NULL && envp != NULL)
		len = cmdmsg_pack(argv, envp, &msg);
	if (len == 0) {
		why_set(why, whylen, "command or environment too long");
	} else {
		head[0] = 'G';
		codec_be32_put(head + 1, (uint32_t)len);
		if (send(proc->go_fd, head, sizeof(head), MSG_NOSIGNAL) != sizeof(head) ||
		    send(proc->go_fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
			why_set(why, whylen, "sandbox setup: go-ahead: %s", strerror(errno));
		else
			rc = 0;
	}
	free(msg);
	strv_free(argv);
	strv_free(envp);
	return rc;
}

int
sandbox_go(struct sandbox_proc *proc, const struct sandbox_spec *spec, char *why, size_t whylen)
{
	char ewhy[256];
	int sent = -1;

	if (proc->go_fd < 0 || spec->use_pty != (proc->pty_master >= 0))
		why_set(why, whylen, "sandbox not prepared for this command");
	else
		sent = sandbox_send_go(proc, spec, why, whylen);
	close_if(&proc->go_fd);
	if (sent == 0)
		return 0;
	/* A child that failed on its own before it read the go-ahead has the better reason. */
	if (proc->status_fd >= 0 && sandbox_wait_ready(proc, ewhy, sizeof(ewhy)) < 0 &&
	    strcmp(ewhy, SETUP_DIED) != 0 && strstr(ewhy, GO_MISSING) == NULL)
		snprintf(why, whylen, "%.240s", ewhy);
	sandbox_discard(proc);
	return -1;
}

int
sandbox_ready(struct sandbox_proc *proc, char *why, size_t whylen)
{
	if (sandbox_wait_ready(proc, why, whylen) == 0)
		return 0;
	sandbox_discard(proc);
	return -1;
}

int
sandbox_spawn(const struct sandbox_spec *spec, struct sandbox_proc *proc, char *why, size_t whylen)
{
	if (sandbox_prepare(spec, proc, why, whylen) < 0 || sandbox_go(proc, spec, why, whylen) < 0)
		return -1;
	return sandbox_ready(proc, why, whylen);
}

int
sandbox_reap(struct sandbox_proc *proc, int *wstatus, int flags)
{
	char msg[1 + sizeof(int)];
	int st = 0, known = 0;
	pid_t r;

	if (proc->pid <= 0)
		return -1;
	do
		r = waitpid(proc->pid, &st, flags);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	if (r < 0 && errno != ECHILD)
		return -1;
	if (r > 0)
		known = 1;
	/* init is gone, so every writer of the status pipe is gone: this read cannot block. */
	if (proc->have_status) {
		*wstatus = proc->wstatus;
	} else if (proc->status_fd >= 0 &&
		   read_all(proc->status_fd, msg, sizeof(msg)) == sizeof(msg) && msg[0] == 'S') {
		memcpy(wstatus, msg + 1, sizeof(int));
		proc->wstatus = *wstatus;
		proc->have_status = 1; /* init wrote it to exit_rd too */
	} else if (known && WIFSIGNALED(st)) {
		*wstatus = st; /* sandbox_kill, OOM kill of init, ... */
	} else {
		*wstatus = SIGKILL; /* init vanished without a word: report a kill */
	}
	close_if(&proc->status_fd);
	/* The session is over either way; a cgroup that will not go away is only logged. */
	if (proc->cgroup[0] && limits_release(proc->cgroup) < 0)
		log_warn_f("cgroup %s could not be removed", proc->cgroup);
	proc->cgroup[0] = '\0';
	proc->pid = -1;
	return 1;
}

int
sandbox_status(struct sandbox_proc *proc, int *wstatus)
{
	struct pollfd pfd = {proc->status_fd, POLLIN, 0};
	char msg[1 + sizeof(int)];

	if (proc->have_status) {
		*wstatus = proc->wstatus;
		return 1;
	}
	if (proc->status_fd < 0 || poll(&pfd, 1, 0) <= 0)
		return 0;
	/* init writes the message in one write of less than PIPE_BUF: it is there whole. */
	if (read_all(proc->status_fd, msg, sizeof(msg)) != sizeof(msg) || msg[0] != 'S') {
		close_if(&proc->status_fd);
		return -1;
	}
	memcpy(&proc->wstatus, msg + 1, sizeof(int));
	proc->have_status = 1;
	*wstatus = proc->wstatus;
	return 1;
}

void
sandbox_kill(struct sandbox_proc *proc)
{
	/* SIGKILL to the namespace's init: the kernel then kills every process in it. */
	if (proc->pid > 0)
		(void)kill(proc->pid, SIGKILL);
}
