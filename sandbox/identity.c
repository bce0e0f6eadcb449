/*
 * Identity and capabilities: the second half of the privilege drop, after the mounts and
 * pivot_root (mounts.c) and before the seccomp filter (seccomp.c). sandbox.c calls the steps
 * in the one order of STYLE.md; this file holds the setuid and capability part.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/why.h"
#include "sandbox/sandbox_int.h"

static int
identity_capset(uint32_t keep, char *why, size_t whylen)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = keep;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return why_set(why, whylen, "capset: %s", strerror(errno));
	return 0;
}

static int
identity_caps_empty(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	int i;

	if (syscall(SYS_capget, &hdr, data) < 0)
		return 0;
	for (i = 0; i < 2; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return 0;
	return 1;
}

int
identity_drop(uid_t uid, gid_t gid, char *why, size_t whylen)
{
	int cap;

	if (uid == 0 || gid == 0)
		return why_set(why, whylen, "refusing to run a sandbox as uid or gid 0");
	/* Keep the permitted set across setresuid() just long enough to empty the bounding set,
	 * which needs CAP_SETPCAP; the securebits make "root" meaningless for any later exec. */
	if (prctl(PR_SET_SECUREBITS,
		  SECBIT_KEEP_CAPS | SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
		      SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
		      SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
		  0, 0, 0) < 0)
		return why_set(why, whylen, "securebits: %s", strerror(errno));
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return why_set(why, whylen, "setting uid %u gid %u: %s", (unsigned)uid,
			       (unsigned)gid, strerror(errno));
	if (identity_capset(1U << CAP_SETPCAP, why, whylen) < 0)
		return -1;
	for (cap = 0; cap <= 63; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return why_set(why, whylen, "dropping capability %d: %s", cap,
				       strerror(errno));
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return why_set(why, whylen, "clearing ambient capabilities: %s", strerror(errno));
	if (identity_capset(0, why, whylen) < 0)
		return -1;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return why_set(why, whylen, "keepcaps: %s", strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return why_set(why, whylen, "no_new_privs: %s", strerror(errno));
	/* Verify rather than trust: nothing left, and the way back is closed. */
	if (!identity_caps_empty() || prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0 ||
	    getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid ||
	    setresuid(0, 0, 0) == 0 || setresgid(0, 0, 0) == 0)
		return why_set(why, whylen, "privileges still present after the drop");
	return 0;
}

int
sandbox_drop_identity(uid_t uid, gid_t gid, char *why, size_t whylen)
{
	return identity_drop(uid, gid, why, whylen);
}
