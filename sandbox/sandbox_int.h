/*
 * Internal interfaces between the files of sandbox/: the mount plan, the seccomp filter, the
 * limits backends and the identity drop. Not for other modules; they use sandbox.h.
 */
#ifndef WSGATE_SANDBOX_INT_H
#define WSGATE_SANDBOX_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/sandbox.h"

/* Paths the sandbox sees. */
#define SANDBOX_WORK "/work"
/* HOME is the session's private /tmp, not the shared /work: a project member must not be able to
 * plant a .profile or .bashrc that runs in another member's login shell under that member's
 * name. */
#define SANDBOX_HOME "/tmp"
#define SANDBOX_AIRLOCK_SOCK "/run/wsgate/airlock.sock"
#define SANDBOX_BIN_DIR "/run/wsgate/bin"
#define SANDBOX_PATH SANDBOX_BIN_DIR ":/usr/local/bin:/usr/bin:/bin"
#define SANDBOX_HOSTNAME "wsgate"

/* mounts.c: builds the new root and pivots into it. Runs as root in the child, in its new mount
 * and pid namespaces. tty: host path of the session's pty slave (shown as /dev/console), or NULL.
 * On error fills why and returns -1; the caller must not continue. */
int mounts_setup(const struct sandbox_spec *spec, const char *tty, char *why, size_t whylen);

/* seccomp.c (names avoid libseccomp's seccomp_ prefix): compiles both filters once (parent, at
 * sandbox_init); loads the user filter per sandbox (child, after no_new_privs, without malloc).
 * The gateway's worker loads its own with sandbox_filter_load() (sandbox.h). */
int sandbox_filter_compile(char *why, size_t whylen);
int sandbox_filter_install(char *why, size_t whylen);

/* identity.c: setgroups/setresgid/setresuid, every capability dropped (bounding and ambient
 * sets too), no_new_privs, then checks that none of it can be undone. */
int identity_drop(uid_t uid, gid_t gid, char *why, size_t whylen);

/* limits.c: one interface, three backends (cgroup v2, cgroup v1 memory+pids, rlimits only). */
#define LIMITS_MAX_FDS 2
struct limits_group {
	char name[128];		      /* relative to each controller's wsgate/ directory */
	int procs_fd[LIMITS_MAX_FDS]; /* cgroup.procs of each controller */
	int nfds;
	int dir_fd; /* cgroup v2: the sandbox's cgroup, for clone3(CLONE_INTO_CGROUP); else -1 */
	int joined; /* the child was born in its cgroup: nothing to attach */
};
int limits_detect(char *why, size_t whylen);
const char *limits_backend_name(void);
/* Parent, before clone: creates the sandbox's cgroup(s), writes the limits, opens cgroup.procs. */
int limits_prepare(const struct sandbox_limits *l, struct limits_group *g, char *why,
		   size_t whylen);
/* Parent, right after clone: moves the child into the cgroup(s) while it builds its mounts
 * (a cgroup migration waits for an RCU grace period; done in parallel it costs no latency). The
 * child waits for the monitor's go-ahead before it runs anything of the user's. */
int limits_attach(struct limits_group *g, pid_t pid, char *why, size_t whylen);
/* 1 if the backend can create the child directly in its cgroup (cgroup v2, clone3 with
 * CLONE_INTO_CGROUP: no migration, no RCU grace period); limits_prepare then runs before the
 * clone and fills dir_fd. */
int limits_clone_into(void);
/* Child: the rlimits that always apply (file size, CPU, core) and, on the rlimits backend, the
 * process limit too. */
int limits_rlimits(const struct sandbox_limits *l, char *why, size_t whylen);
/* The sandbox's child, just before it execs wsgate-init: RLIMIT_AS on the rlimits backend, for
 * init and the command alike. Not earlier: the child's address space is a copy of the
 * monitor's (with sanitizer shadow maps in a test build); wsgate-init's is small. */
int limits_rlimit_as(const struct sandbox_limits *l, char *why, size_t whylen);
/* Parent: closes the fds it still holds (after clone). */
void limits_close_fds(struct limits_group *g);
/* Parent, after the sandbox's init exited: kills leftovers and removes the cgroup(s). */
int limits_release(const char *name);
/* Memory charged to the sandbox in bytes (cgroup backends), or -1. For benchmarks. */
int64_t limits_memory_usage(const char *name);
/* Test hook: force the rlimits backend (sandbox-run --backend rlimits). */
void limits_force_rlimits(void);

#endif
