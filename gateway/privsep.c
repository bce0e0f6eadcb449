/*
 * Confinement of the network worker, in the one order STYLE.md prescribes:
 * chroot to an empty directory -> setgroups/setresgid/setresuid -> no_new_privs -> seccomp.
 * Every step is checked and a failure is fatal for the connection (the caller exits). The
 * seccomp table is the worker's row set in sandbox/seccomp.c, compiled by the same engine as the
 * sandbox's.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/why.h"
#include "gateway/gateway.h"
#include "sandbox/sandbox.h"

int
privsep_drop(const char *state_dir, char *why, size_t whylen)
{
	char empty[4200];
	/* A backstop for memory that grows with what the client sends: a worker holds about 10 MiB
	 * (1 GiB relayed or sent over SFTP included); at the cap malloc fails and the connection
	 * ends instead of the host's OOM killer choosing a victim (tests/gateway/test_window.py). */
	const struct rlimit data_max = {WORKER_DATA_MAX, WORKER_DATA_MAX};
	uid_t r, e, s;
	gid_t gr, ge, gs;

	if (snprintf(empty, sizeof(empty), "%s/empty", state_dir) >= (int)sizeof(empty))
		return why_set(why, whylen, "state_dir too long");
	if (chroot(empty) != 0 || chdir("/") != 0)
		return why_set(why, whylen, "chroot %s: %s", empty, strerror(errno));
	if (setgroups(0, NULL) != 0 ||
	    setresgid(GW_WORKER_GID, GW_WORKER_GID, GW_WORKER_GID) != 0 ||
	    setresuid(GW_WORKER_UID, GW_WORKER_UID, GW_WORKER_UID) != 0)
		return why_set(why, whylen, "dropping to uid %d: %s", GW_WORKER_UID,
			       strerror(errno));
	/* Make sure there is no way back (OpenSSH permanently_set_uid does the same check). */
	if (getresuid(&r, &e, &s) != 0 || getresgid(&gr, &ge, &gs) != 0 || r != GW_WORKER_UID ||
	    e != GW_WORKER_UID || s != GW_WORKER_UID || gr != GW_WORKER_GID ||
	    ge != GW_WORKER_GID || gs != GW_WORKER_GID || setuid(0) == 0)
		return why_set(why, whylen, "privileges not fully dropped");
	/* A dead monitor means nobody checks anything any more: die with it. Set after the uid
	 * change, which clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() == 1)
		return why_set(why, whylen, "parent-death signal: %s", strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return why_set(why, whylen, "no_new_privs: %s", strerror(errno));
	if (setrlimit(RLIMIT_DATA, &data_max) != 0)
		return why_set(why, whylen, "RLIMIT_DATA: %s", strerror(errno));
	return sandbox_filter_load(SANDBOX_FILTER_WORKER, why, whylen);
}

static int
privsep_dir(const char *path, mode_t mode, char *why, size_t whylen)
{
	struct stat sb;

	if (mkdir(path, mode) != 0 && errno != EEXIST)
		return why_set(why, whylen, "mkdir %s: %s", path, strerror(errno));
	if (lstat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return why_set(why, whylen, "%s is not a directory", path);
	if (sb.st_uid != 0 || (sb.st_mode & 07777) != mode) {
		if (chown(path, 0, 0) != 0 || chmod(path, mode) != 0)
			return why_set(why, whylen, "fixing owner/mode of %s: %s", path,
				       strerror(errno));
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
	if (privsep_dir(p, 0711, why, whylen) != 0)
		return -1;
	/* Compiled here, once, so that every worker loads ready BPF after its drop. */
	return sandbox_filter_prepare(SANDBOX_FILTER_WORKER, why, whylen);
}
