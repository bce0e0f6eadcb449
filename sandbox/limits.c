/*
 * Resource limits behind one interface, three backends picked once at start-up:
 *   cgroup v2       /sys/fs/cgroup is cgroup2 with the memory and pids controllers
 *   cgroup v1       the memory and pids v1 hierarchies (memory.memsw too when present)
 *   rlimits only    RLIMIT_AS and RLIMIT_NPROC stand in for memory and pids
 * Each sandbox gets its own cgroup "wsgate/<name>" in each controller, so that passing a limit
 * (OOM kill, fork refused) stops only that sandbox. RLIMIT_FSIZE, RLIMIT_CPU and RLIMIT_CORE=0
 * apply with every backend.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/why.h"
#include "sandbox/sandbox_int.h"

enum limits_backend { BACKEND_NONE, BACKEND_V2, BACKEND_V1, BACKEND_RLIMITS };

#define CG_ROOT "/sys/fs/cgroup"

static enum limits_backend backend = BACKEND_NONE;
/* The wsgate/ directory of each controller we use (v2: one; v1: memory, pids). */
static const char *const v2_dirs[] = {CG_ROOT "/wsgate", NULL};
static const char *const v1_dirs[] = {CG_ROOT "/memory/wsgate", CG_ROOT "/pids/wsgate", NULL};
static int v1_memsw;

static const char *const *
limits_dirs(void)
{
	if (backend == BACKEND_V2)
		return v2_dirs;
	if (backend == BACKEND_V1)
		return v1_dirs;
	return NULL;
}

static int
limits_write(const char *dir, const char *file, const char *val)
{
	char path[512];
	int fd, ret = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return -1;
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -1;
	if (write_all(fd, val, strlen(val)) < 0)
		ret = -1;
	if (close(fd) < 0)
		ret = -1;
	return ret;
}

static int
limits_has_word(const char *path, const char *word)
{
	char buf[1024], *tok, *save;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read_all(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		if (strcmp(tok, word) == 0)
			return 1;
	return 0;
}

static int
limits_is_fs(const char *path, long magic)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == magic;
}

static int
limits_try_v2(void)
{
	if (!limits_is_fs(CG_ROOT, CGROUP2_SUPER_MAGIC) ||
	    !limits_has_word(CG_ROOT "/cgroup.controllers", "memory") ||
	    !limits_has_word(CG_ROOT "/cgroup.controllers", "pids"))
		return -1;
	if (mkdir(v2_dirs[0], 0755) < 0 && errno != EEXIST)
		return -1;
	/* Delegate the controllers down to wsgate/ and from there to each sandbox. */
	if (limits_write(CG_ROOT, "cgroup.subtree_control", "+memory +pids") < 0 ||
	    limits_write(v2_dirs[0], "cgroup.subtree_control", "+memory +pids") < 0)
		return -1;
	return 0;
}

static int
limits_try_v1(void)
{
	int i;

	if (!limits_is_fs(CG_ROOT "/memory", CGROUP_SUPER_MAGIC) ||
	    !limits_is_fs(CG_ROOT "/pids", CGROUP_SUPER_MAGIC))
		return -1;
	for (i = 0; v1_dirs[i]; i++)
		if (mkdir(v1_dirs[i], 0755) < 0 && errno != EEXIST)
			return -1;
	v1_memsw = access(CG_ROOT "/memory/wsgate/memory.memsw.limit_in_bytes", W_OK) == 0;
	return 0;
}

/*
 * Moving a process into a cgroup v1 takes the kernel's global cgroup threadgroup lock for
 * writing, which waits for an RCU grace period (5-10 ms here: longer than the rest of a sandbox
 * start) unless some hierarchy is mounted with "favordynmods". That option trades a little on
 * every fork and exit of the host for fast migrations, the right trade on a gateway that starts
 * a cgroup per session (docs/sandbox.md). A named hierarchy without controllers carries it, so
 * no controller's layout changes; it stays mounted for later daemons. cgroup v2 needs none of
 * this (sandboxes are born in their cgroup with CLONE_INTO_CGROUP).
 */
#define FAVOR_DIR "/run/wsgate/cgroup-favordynmods"
static int v1_favordynmods;

static int
limits_favordynmods_mounted(void)
{
	char line[1024];
	FILE *f = fopen("/proc/self/mounts", "re");
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strncmp(line, "cgroup ", 7) == 0 && strstr(line, "favordynmods") != NULL;
	(void)fclose(f);
	return found;
}

static void
limits_favor_dynmods(void)
{
	if (limits_favordynmods_mounted()) {
		v1_favordynmods = 1;
		return;
	}
	if (mkdir_p(FAVOR_DIR, 0755) < 0)
		return;
	/* Best effort: a kernel without the option keeps the slower migrations. */
	v1_favordynmods = mount("cgroup", FAVOR_DIR, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC,
				"none,name=wsgate,favordynmods") == 0 ||
			  limits_favordynmods_mounted();
}

/* Cgroups left by a monitor that died before it could reap its sandbox: "sb-<pid>-..." whose
 * pid no longer exists. A live monitor's cgroup is never touched (it may be between mkdir and
 * attach, still empty), and rmdir refuses a cgroup that still holds processes. */
static void
limits_sweep(void)
{
	const char *const *dirs = limits_dirs();
	struct dirent *e;
	char path[600];
	DIR *d;
	int i;

	for (i = 0; dirs && dirs[i]; i++) {
		if ((d = opendir(dirs[i])) == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			long pid;

			if (strncmp(e->d_name, "sb-", 3) != 0)
				continue;
			pid = strtol(e->d_name + 3, NULL, 10);
			if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[i], e->d_name);
			(void)rmdir(path);
		}
		(void)closedir(d);
	}
}

int
limits_detect(char *why, size_t whylen)
{
	if (backend == BACKEND_RLIMITS)
		return 0; /* forced by a test */
	if (limits_try_v2() == 0)
		backend = BACKEND_V2;
	else if (limits_try_v1() == 0) {
		backend = BACKEND_V1;
		limits_favor_dynmods();
	} else
		backend = BACKEND_RLIMITS;
	limits_sweep();
	return 0;
}

int
limits_clone_into(void)
{
	return backend == BACKEND_V2;
}

void
limits_force_rlimits(void)
{
	backend = BACKEND_RLIMITS;
}

const char *
limits_backend_name(void)
{
	switch (backend) {
	case BACKEND_V2:
		return "cgroup v2";
	case BACKEND_V1:
		if (v1_favordynmods)
			return v1_memsw ? "cgroup v1 (memory+memsw, pids; favordynmods)"
					: "cgroup v1 (memory, pids; favordynmods)";
		return v1_memsw ? "cgroup v1 (memory+memsw, pids)" : "cgroup v1 (memory, pids)";
	case BACKEND_RLIMITS:
		return "rlimits only";
	default:
		return "not initialised";
	}
}

static int
limits_v2_set(const char *dir, const struct sandbox_limits *l)
{
	char v[32];

	snprintf(v, sizeof(v), "%" PRIu64, l->memory_max);
	if (l->memory_max && limits_write(dir, "memory.max", v) < 0)
		return -1;
	/* No swap for a sandbox: the memory limit means memory. Absent without swap support. */
	if (l->memory_max && limits_write(dir, "memory.swap.max", "0") < 0 && errno != ENOENT)
		return -1;
	snprintf(v, sizeof(v), "%" PRIu32, l->pids_max);
	if (l->pids_max && limits_write(dir, "pids.max", v) < 0)
		return -1;
	return 0;
}

static int
limits_v1_set(const char *dir, int ctrl, const struct sandbox_limits *l)
{
	char v[32];

	if (ctrl == 0 && l->memory_max) {
		snprintf(v, sizeof(v), "%" PRIu64, l->memory_max);
		/* memsw must stay >= limit: set the plain limit first on the fresh cgroup. */
		if (limits_write(dir, "memory.limit_in_bytes", v) < 0)
			return -1;
		if (v1_memsw && limits_write(dir, "memory.memsw.limit_in_bytes", v) < 0)
			return -1;
		(void)limits_write(dir, "memory.swappiness", "0");
	}
	if (ctrl == 1 && l->pids_max) {
		snprintf(v, sizeof(v), "%" PRIu32, l->pids_max);
		if (limits_write(dir, "pids.max", v) < 0)
			return -1;
	}
	return 0;
}

int
limits_prepare(const struct sandbox_limits *l, struct limits_group *g, char *why, size_t whylen)
{
	static unsigned int seq;
	const char *const *dirs = limits_dirs();
	struct timespec ts;
	char path[512];
	int i;

	g->nfds = 0;
	g->dir_fd = -1;
	g->joined = 0;
	g->name[0] = '\0';
	if (dirs == NULL)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(g->name, sizeof(g->name), "sb-%ld-%u-%ld", (long)getpid(), seq++,
		 (long)ts.tv_nsec);
	for (i = 0; dirs[i] && i < LIMITS_MAX_FDS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], g->name);
		if (mkdir(path, 0755) < 0) {
			snprintf(why, whylen, "mkdir %s: %s", path, strerror(errno));
			goto fail;
		}
		if ((backend == BACKEND_V2 ? limits_v2_set(path, l) : limits_v1_set(path, i, l)) <
		    0) {
			snprintf(why, whylen, "setting limits in %s: %s", path, strerror(errno));
			goto fail;
		}
		if (backend == BACKEND_V2 &&
		    (g->dir_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
			snprintf(why, whylen, "open %s: %s", path, strerror(errno));
			goto fail;
		}
		strncat(path, "/cgroup.procs", sizeof(path) - strlen(path) - 1);
		if ((g->procs_fd[i] = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
			snprintf(why, whylen, "open %s: %s", path, strerror(errno));
			goto fail;
		}
		g->nfds = i + 1;
	}
	return 0;
fail:
	limits_close_fds(g);
	(void)limits_release(g->name);
	g->name[0] = '\0';
	return -1;
}

int
limits_attach(struct limits_group *g, pid_t pid, char *why, size_t whylen)
{
	char v[24];
	int i, n, ret = 0;

	n = snprintf(v, sizeof(v), "%ld", (long)pid);
	for (i = 0; i < g->nfds && !g->joined; i++) {
		if (write(g->procs_fd[i], v, n) != n) {
			snprintf(why, whylen, "moving the sandbox into its cgroup: %s",
				 strerror(errno));
			ret = -1;
		}
	}
	limits_close_fds(g);
	return ret;
}

void
limits_close_fds(struct limits_group *g)
{
	int i;

	for (i = 0; i < g->nfds; i++) {
		if (g->procs_fd[i] >= 0)
			(void)close(g->procs_fd[i]);
		g->procs_fd[i] = -1;
	}
	g->nfds = 0;
	if (g->dir_fd >= 0)
		(void)close(g->dir_fd);
	g->dir_fd = -1;
}

static int
limits_set1(int res, rlim_t v, const char *what, char *why, size_t whylen)
{
	struct rlimit rl = {v, v};

	if (setrlimit(res, &rl) < 0)
		return why_set(why, whylen, "setrlimit %s: %s", what, strerror(errno));
	return 0;
}

int
limits_rlimits(const struct sandbox_limits *l, char *why, size_t whylen)
{
	if (limits_set1(RLIMIT_CORE, 0, "core", why, whylen) < 0)
		return -1;
	if (l->file_size_max &&
	    limits_set1(RLIMIT_FSIZE, l->file_size_max, "fsize", why, whylen) < 0)
		return -1;
	/* CPU: SIGXCPU at the limit, SIGKILL one second later if it is ignored. */
	if (l->cpu_time_max) {
		struct rlimit rl = {l->cpu_time_max, l->cpu_time_max + 1};

		if (setrlimit(RLIMIT_CPU, &rl) < 0)
			return why_set(why, whylen, "setrlimit cpu: %s", strerror(errno));
	}
	if (backend != BACKEND_RLIMITS)
		return 0;
	/* Without cgroups: per-uid processes for pids (each account has its own host uid, so the
	 * count covers that account's sandboxes together); memory: limits_rlimit_as(). */
	if (l->pids_max && limits_set1(RLIMIT_NPROC, l->pids_max, "nproc", why, whylen) < 0)
		return -1;
	return 0;
}

int
limits_rlimit_as(const struct sandbox_limits *l, char *why, size_t whylen)
{
	if (backend != BACKEND_RLIMITS || l->memory_max == 0)
		return 0;
	return limits_set1(RLIMIT_AS, l->memory_max, "as", why, whylen);
}

/* Kills whatever is still listed in a v1/v2 cgroup. Normally nothing: the pid namespace dies
 * with its init. */
static void
limits_kill_procs(const char *dir)
{
	char path[600], line[32];
	FILE *f;
	long pid;

	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= sizeof(path))
		return;
	if ((f = fopen(path, "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		pid = strtol(line, NULL, 10);
		if (pid > 1)
			(void)kill((pid_t)pid, SIGKILL);
	}
	(void)fclose(f);
}

int
limits_release(const char *name)
{
	const char *const *dirs = limits_dirs();
	struct timespec ts = {0, 2 * 1000 * 1000};
	char path[512];
	int i, tries, ret = 0;

	if (dirs == NULL || name == NULL || name[0] == '\0' || strchr(name, '/'))
		return 0;
	for (i = 0; dirs[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		/* Exiting tasks stay charged for a moment after their parent reaped them. */
		for (tries = 0; tries < 500; tries++) {
			if (rmdir(path) == 0 || errno == ENOENT)
				break;
			if (errno != EBUSY) {
				ret = -1;
				break;
			}
			limits_kill_procs(path);
			nanosleep(&ts, NULL);
		}
		if (tries == 500)
			ret = -1;
	}
	return ret;
}

int64_t
limits_memory_usage(const char *name)
{
	const char *const *dirs = limits_dirs();
	char path[512], buf[64];
	ssize_t n;
	int fd;

	if (dirs == NULL || name == NULL || name[0] == '\0')
		return -1;
	snprintf(path, sizeof(path), "%s/%s/%s", dirs[0], name,
		 backend == BACKEND_V2 ? "memory.current" : "memory.usage_in_bytes");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read_all(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}
