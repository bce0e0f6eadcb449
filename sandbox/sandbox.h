/*
 * The sandbox: one API for the gateway's monitor to start a shell or command for an account in a
 * project's area. Namespaces (mount, pid, net, ipc, uts, cgroup), a fresh root by pivot_root,
 * the account's own host uid, no capabilities, no_new_privs, a seccomp filter and resource
 * limits. See SECURITY.md for what each layer stops.
 */
#ifndef WSGATE_SANDBOX_H
#define WSGATE_SANDBOX_H

#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>

struct sandbox_limits {
	uint64_t memory_max; /* bytes */
	uint32_t pids_max;
	uint64_t file_size_max; /* bytes */
	uint64_t cpu_time_max;	/* seconds */
	uint64_t tmp_size;	/* bytes of the private /tmp */
};

struct sandbox_spec {
	const char *user;	  /* account name (generated passwd entry) */
	uid_t uid;		  /* host uid, never 0 */
	gid_t gid;		  /* project gid, never 0 */
	const char *group;	  /* project name for the generated /etc/group (NULL: "project") */
	const char *work_dir;	  /* host path of the project's area folder, bound at /work */
	const char *airlock_sock; /* host path of this session's airlock socket, or NULL */
	const char *airlock_bin;  /* host path of the airlock client, bound on PATH, or NULL */
	char *const *argv; /* NULL: interactive login shell; else run via /bin/sh -c argv[0] */
	char *const *envp; /* already filtered by the caller (LANG, LC_*, TERM) */
	int use_pty;
	struct winsize ws;
	struct sandbox_limits limits;
	/* Absolute paths that must not exist inside ([sandbox] hide), resolved through the
	 * sandbox's own symlinks; only entries under /usr, /bin, /sbin and /lib* can be hidden,
	 * one absent from the sandbox is skipped. At most 32. */
	const char (*hide)[256];
	size_t nhide;
	/* A network namespace to join (from sandbox_netns()), or 0, the zero value: a new one.
	 * Either has only its loopback; sandboxes sharing one can reach each other over it, so
	 * share one only among sandboxes of the same account, project and area (the gateway: of
	 * one connection). */
	int net_fd;
};

struct sandbox_proc {
	pid_t pid;    /* host pid of the sandbox's init */
	int stdin_fd; /* write end; with a pty: the master (read and write), other fds -1 */
	int stdout_fd;
	int stderr_fd;
	int pty_master;
	int status_fd;	  /* internal: init reports the command's wait status here */
	/* The command's wait status for whoever relays the session (the gateway's worker): init
	 * writes it here as be32 before it reports on status_fd, so that the relay need not wait
	 * for the caller. exit_wr is the caller's own write end, for a status init could not write
	 * (a sandbox killed from outside); both are the caller's to take (then set them to -1). */
	int exit_rd;
	int exit_wr;
	int go_fd;	  /* internal: the go-ahead, until sandbox_go */
	int have_status;  /* internal: sandbox_status read the command's wait status */
	int wstatus;
	char cgroup[256]; /* internal */
};

/* A new fd (O_CLOEXEC) on the network namespace of a prepared or running sandbox, for
 * sandbox_spec.net_fd of the next ones; -1 with errno on failure. */
int sandbox_netns(const struct sandbox_proc *proc);

/* Once per daemon start, before any fork: compile the seccomp filters, detect the limits
 * backend. */
int sandbox_init(char *why, size_t whylen);
/* "cgroup v2", "cgroup v1 (memory, pids)", "rlimits only": what is in force, for the start-up log.
 */
const char *sandbox_limits_backend(void);

/* The seccomp filters, both tables in sandbox/seccomp.c. */
enum sandbox_filter {
	SANDBOX_FILTER_USER,   /* the analyst's shell and commands: allow all but a deny table */
	SANDBOX_FILTER_WORKER, /* the gateway's network worker: EPERM all but an allow table */
	SANDBOX_FILTER_CONFINED, /* a parser of untrusted files (transfer/confined.h): less still */
};
/* Compiles a filter once, before the daemon forks, so that a table libseccomp refuses stops the
 * start rather than every connection and the forked processes load ready BPF. sandbox_init()
 * prepares SANDBOX_FILTER_USER; the gateway prepares SANDBOX_FILTER_WORKER itself (a program
 * that only starts sandboxes never pays for the worker's table). Returns 0, or -1 with why. */
int sandbox_filter_prepare(enum sandbox_filter which, char *why, size_t whylen);
/* Loads a filter into the calling process, for good; compiles it first if it was not prepared
 * (in a test, say). Call it last in a privilege drop, after no_new_privs. Returns 0, or -1 with
 * a reason in why. */
int sandbox_filter_load(enum sandbox_filter which, char *why, size_t whylen);

/* The identity half of the privilege drop (sandbox/identity.c), for the other confined
 * processes (transfer/confined_main.c): setgroups/setresgid/setresuid, every capability,
 * no_new_privs, verified. Returns 0, or -1 with why. */
int sandbox_drop_identity(uid_t uid, gid_t gid, char *why, size_t whylen);

/* Starts the sandbox. Returns 0 or <0 with a reason in why. The caller owns the fds. Same as
 * sandbox_prepare + sandbox_go + sandbox_ready. */
int sandbox_spawn(const struct sandbox_spec *spec, struct sandbox_proc *proc, char *why,
		  size_t whylen);
/*
 * A sandbox in three steps, so that the building can happen before the command is known (a
 * connection that runs many short commands keeps one built ahead) and the caller can do its
 * own work while the command starts:
 *   sandbox_prepare: the clone builds namespaces, mounts and root in the background and waits;
 *                    spec's argv and envp are not used yet. proc's stdio fds are ready.
 *   sandbox_go:      sends the command (spec's argv, envp; every other field must be what was
 *                    prepared, use_pty included); the child drops privileges and execs init.
 *   sandbox_ready:   waits until wsgate-init runs, or returns the child's reason.
 * Each returns 0, or -1 with why after discarding the sandbox. sandbox_discard ends a prepared
 * (or running) sandbox and releases everything of it, waiting for its init.
 */
int sandbox_prepare(const struct sandbox_spec *spec, struct sandbox_proc *proc, char *why,
		    size_t whylen);
int sandbox_go(struct sandbox_proc *proc, const struct sandbox_spec *spec, char *why,
	       size_t whylen);
int sandbox_ready(struct sandbox_proc *proc, char *why, size_t whylen);
void sandbox_discard(struct sandbox_proc *proc);
/* After init exits (waitpid on proc->pid done by the caller or here): the user command's wait
 * status (WIFEXITED/WIFSIGNALED), and release of the cgroup. flags: 0 or WNOHANG.
 * Returns 1 if reaped, 0 if still running (WNOHANG), <0 on error. */
int sandbox_reap(struct sandbox_proc *proc, int *wstatus, int flags);
/* The command's wait status as soon as init reports it (status_fd readable), before init has
 * exited and the kernel has torn the namespaces down: 1 (in *wstatus; sandbox_reap then returns
 * the same), 0 if nothing is there yet, -1 if init will not report (ended without a word: wait
 * for sandbox_reap). Never blocks. */
int sandbox_status(struct sandbox_proc *proc, int *wstatus);
/* Kills every process in the sandbox (SIGKILL to its init ends the pid namespace). */
void sandbox_kill(struct sandbox_proc *proc);

#endif
