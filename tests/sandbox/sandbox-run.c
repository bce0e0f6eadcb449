/*
 * sandbox-run: test harness around sandbox_spawn(). Runs one command (or a login shell) in a
 * sandbox, relays stdin/stdout/stderr (or a pty), and exits with the command's status: its exit
 * code, or 128 + the signal that killed it.
 *
 * sandbox-run --work DIR --uid N --gid N [--user NAME] [--pty] [--mem SIZE] [--pids N]
 *             [--fsize SIZE] [--cpu SEC] [--tmp SIZE] [--airlock-sock PATH]
 *             [--airlock-bin PATH] [--timeout SEC] [--rlimits-only] [--hold N] [--bench N]
 *             [--hide PATH]... [-v] [-- CMD]
 *
 * --hold N starts N sandboxes running CMD at once, waits for "ready" lines, prints the cgroup
 * memory usage of each, then kills them all (memory benchmark).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/units.h"
#include "sandbox/sandbox.h"
#include "sandbox/sandbox_int.h"

static struct termios saved_tio;
static int saved_tio_ok;

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: sandbox-run --work DIR --uid N --gid N [--user NAME] [--pty] "
			"[--mem SIZE] [--pids N] [--fsize SIZE] [--cpu SEC] [--tmp SIZE] "
			"[--airlock-sock P] [--airlock-bin P] [--timeout SEC] [--rlimits-only] "
			"[--hold N] [--bench N] [--hide PATH]... [-v] [-- CMD]\n");
	exit(2);
}

static uint64_t
size_arg(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'K':
		v <<= 10;
		break;
	case 'M':
		v <<= 20;
		break;
	case 'G':
		v <<= 30;
		break;
	case '\0':
		break;
	default:
		fprintf(stderr, "sandbox-run: bad size %s\n", s);
		exit(2);
	}
	return v;
}

static void
restore_tty(void)
{
	if (saved_tio_ok)
		(void)tcsetattr(0, TCSANOW, &saved_tio);
}

static void
raw_tty(void)
{
	struct termios t;

	if (!isatty(0) || tcgetattr(0, &saved_tio) < 0)
		return;
	saved_tio_ok = 1;
	t = saved_tio;
	cfmakeraw(&t);
	(void)tcsetattr(0, TCSANOW, &t);
	atexit(restore_tty);
}

static int
copy(int from, int to)
{
	char buf[16384];
	ssize_t n, w, off;

	n = read(from, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	for (off = 0; off < n; off += w)
		if ((w = write(to, buf + off, n - off)) <= 0)
			return 0;
	return 1;
}

static int
exit_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

/* Relays until the sandbox's init exited and its outputs reached EOF. */
static int
relay(struct sandbox_proc *p, int pty, int timeout)
{
	struct pollfd fds[4];
	int in_open = 1, out_open = 1, err_open = !pty, reaped = 0, st = 0, r;
	int pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	time_t start = time(NULL);

	if (pty)
		raw_tty();
	while (!reaped || out_open || err_open) {
		int n = 0, iin = -1, iout = -1, ierr = -1;

		/* The pidfd turns readable when the sandbox's init exits. */
		if (!reaped && pidfd >= 0)
			fds[n++] = (struct pollfd){pidfd, POLLIN, 0};

		if (in_open && !reaped) {
			fds[n] = (struct pollfd){0, POLLIN, 0};
			iin = n++;
		}
		if (out_open) {
			fds[n] = (struct pollfd){pty ? p->pty_master : p->stdout_fd, POLLIN, 0};
			iout = n++;
		}
		if (err_open) {
			fds[n] = (struct pollfd){p->stderr_fd, POLLIN, 0};
			ierr = n++;
		}
		r = poll(fds, n, reaped ? 200 : (pidfd >= 0 ? 1000 : 50));
		/* SIGTERM/SIGHUP/SIGINT to the harness: end the sandbox, reap, remove its cgroup.
		 */
		if (got_signal && !reaped)
			sandbox_kill(p);
		if (r < 0 && errno != EINTR)
			break;
		if (r == 0 && reaped)
			break; /* nothing more after init ended */
		if (iin >= 0 && fds[iin].revents) {
			if (!copy(0, p->stdin_fd)) {
				in_open = 0;
				if (!pty) {
					(void)close(p->stdin_fd);
					p->stdin_fd = -1;
				}
			}
		}
		if (iout >= 0 && fds[iout].revents && !copy(fds[iout].fd, 1))
			out_open = 0;
		if (ierr >= 0 && fds[ierr].revents && !copy(p->stderr_fd, 2))
			err_open = 0;
		if (!reaped) {
			r = sandbox_reap(p, &st, WNOHANG);
			if (r < 0) {
				fprintf(stderr, "sandbox-run: reap failed\n");
				return 255;
			}
			if (r == 1)
				reaped = 1;
			else if (timeout > 0 && time(NULL) - start >= timeout) {
				fprintf(stderr, "sandbox-run: timeout, killing the sandbox\n");
				sandbox_kill(p);
			}
		}
	}
	if (pidfd >= 0)
		(void)close(pidfd);
	if (!reaped && sandbox_reap(p, &st, 0) != 1)
		return 255;
	return exit_code(st);
}

/* --hold: N sandboxes at once, each prints a line when up; report memory, kill all. */
static int
hold(struct sandbox_spec *spec, int n)
{
	struct sandbox_proc *ps = calloc(n, sizeof(*ps));
	char why[256], c;
	int64_t total = 0, m;
	int i, st;

	if (ps == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		if (sandbox_spawn(spec, &ps[i], why, sizeof(why)) < 0) {
			fprintf(stderr, "sandbox-run: sandbox %d: %s\n", i, why);
			return 1;
		}
		/* Wait for the command's first byte: it is up and running. */
		if (read(ps[i].stdout_fd, &c, 1) != 1) {
			fprintf(stderr, "sandbox-run: sandbox %d gave no output\n", i);
			return 1;
		}
	}
	for (i = 0; i < n; i++) {
		m = limits_memory_usage(ps[i].cgroup);
		if (m > 0)
			total += m;
		printf("sandbox %d pid %d memory %lld\n", i, (int)ps[i].pid, (long long)m);
	}
	printf("total %lld bytes, %lld per sandbox\n", (long long)total, (long long)(total / n));
	fflush(stdout);
	if (getenv("SANDBOX_RUN_HOLD_PAUSE"))
		sleep(atoi(getenv("SANDBOX_RUN_HOLD_PAUSE")));
	for (i = 0; i < n; i++)
		sandbox_kill(&ps[i]);
	for (i = 0; i < n; i++)
		if (sandbox_reap(&ps[i], &st, 0) != 1)
			fprintf(stderr, "sandbox-run: reap %d failed\n", i);
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* --bench N: N sandboxes one after another (spawn, command, reap) in this process, so the
 * once-per-daemon sandbox_init() is not counted; prints mean and median milliseconds. */
static int
bench(struct sandbox_spec *spec, int n)
{
	struct sandbox_proc p;
	struct timespec a, b;
	double *ms = calloc(n, sizeof(double)), sum = 0;
	char why[256], buf[256];
	int i, st;

	if (ms == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (sandbox_spawn(spec, &p, why, sizeof(why)) < 0) {
			fprintf(stderr, "sandbox-run: %s\n", why);
			return 1;
		}
		(void)close(p.stdin_fd);
		while (read(p.stdout_fd, buf, sizeof(buf)) > 0)
			;
		if (sandbox_reap(&p, &st, 0) != 1 || st != 0) {
			fprintf(stderr, "sandbox-run: run %d failed (status %d)\n", i, st);
			return 1;
		}
		(void)close(p.stdout_fd);
		(void)close(p.stderr_fd);
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms[i] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
		sum += ms[i];
	}
	qsort(ms, n, sizeof(double), cmp_double);
	printf("%d sandboxes: mean %.2f ms, median %.2f ms, min %.2f ms, max %.2f ms\n", n, sum / n,
	       ms[n / 2], ms[0], ms[n - 1]);
	free(ms);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"work", 1, 0, 'w'},
					     {"uid", 1, 0, 'u'},
					     {"gid", 1, 0, 'g'},
					     {"user", 1, 0, 'U'},
					     {"pty", 0, 0, 'p'},
					     {"mem", 1, 0, 'm'},
					     {"pids", 1, 0, 'P'},
					     {"fsize", 1, 0, 'f'},
					     {"cpu", 1, 0, 'c'},
					     {"tmp", 1, 0, 't'},
					     {"airlock-sock", 1, 0, 'S'},
					     {"airlock-bin", 1, 0, 'B'},
					     {"timeout", 1, 0, 'T'},
					     {"rlimits-only", 0, 0, 'R'},
					     {"hold", 1, 0, 'H'},
					     {"verbose", 0, 0, 'v'},
					     {"bench", 1, 0, 'N'},
					     {"hide", 1, 0, 'h'},
					     {0, 0, 0, 0}};
	static char hide[32][256];
	struct sandbox_spec spec;
	struct sandbox_proc proc;
	char why[256], *cmd[2] = {NULL, NULL};
	int c, timeout = 0, verbose = 0, nhold = 0, nbench = 0;
	extern char **environ;
	char *env[8];
	int ne = 0;

	memset(&spec, 0, sizeof(spec));
	spec.user = "analyst";
	spec.limits = (struct sandbox_limits){1ULL << 30, 256, 1ULL << 30, 3600, 64ULL << 20};
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			spec.work_dir = optarg;
			break;
		case 'u':
			spec.uid = (uid_t)strtoul(optarg, NULL, 10);
			break;
		case 'g':
			spec.gid = (gid_t)strtoul(optarg, NULL, 10);
			break;
		case 'U':
			spec.user = optarg;
			break;
		case 'p':
			spec.use_pty = 1;
			break;
		case 'm':
			spec.limits.memory_max = size_arg(optarg);
			break;
		case 'P':
			spec.limits.pids_max = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'f':
			spec.limits.file_size_max = size_arg(optarg);
			break;
		case 'c':
			spec.limits.cpu_time_max = strtoull(optarg, NULL, 10);
			break;
		case 't':
			spec.limits.tmp_size = size_arg(optarg);
			break;
		case 'S':
			spec.airlock_sock = optarg;
			break;
		case 'B':
			spec.airlock_bin = optarg;
			break;
		case 'T':
			timeout = atoi(optarg);
			break;
		case 'R':
			limits_force_rlimits();
			break;
		case 'H':
			nhold = atoi(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'N':
			nbench = atoi(optarg);
			break;
		case 'h':
			if (spec.nhide >= 32 || (size_t)snprintf(hide[spec.nhide], sizeof(hide[0]),
								 "%s", optarg) >= sizeof(hide[0]))
				usage();
			spec.nhide++;
			spec.hide = hide;
			break;
		default:
			usage();
		}
	}
	if (spec.work_dir == NULL || spec.uid == 0 || spec.gid == 0)
		usage();
	if (optind < argc)
		cmd[0] = argv[optind];
	spec.argv = cmd[0] ? cmd : NULL;
	/* The gateway passes only TERM, LANG and LC_*. */
	for (c = 0; environ[c] && ne < 7; c++)
		if (strncmp(environ[c], "TERM=", 5) == 0 || strncmp(environ[c], "LANG=", 5) == 0)
			env[ne++] = environ[c];
	env[ne] = NULL;
	spec.envp = env;
	if (spec.use_pty) {
		if (ioctl(0, TIOCGWINSZ, &spec.ws) < 0 || spec.ws.ws_row == 0)
			spec.ws = (struct winsize){24, 80, 0, 0};
	}
	if (sandbox_init(why, sizeof(why)) < 0) {
		fprintf(stderr, "sandbox-run: %s\n", why);
		return 255;
	}
	if (verbose)
		fprintf(stderr, "sandbox-run: limits: %s\n", sandbox_limits_backend());
	if (nhold > 0)
		return hold(&spec, nhold);
	if (nbench > 0)
		return bench(&spec, nbench);
	if (sandbox_spawn(&spec, &proc, why, sizeof(why)) < 0) {
		fprintf(stderr, "sandbox-run: %s\n", why);
		return 255;
	}
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		(void)sigaction(SIGTERM, &sa, NULL);
		(void)sigaction(SIGHUP, &sa, NULL);
		(void)sigaction(SIGINT, &sa, NULL);
	}
	return relay(&proc, spec.use_pty, timeout);
}
