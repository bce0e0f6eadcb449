/*
 * wsgate-confined: the program the confined runner execs (transfer/confined.h). One row per job
 * a parent may ask for; each parses untrusted bytes and nothing else.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/nitems.h"
#include "transfer/check.h"
#include "transfer/confined.h"
#include "transfer/view_job.h"

int check_job_prepare(const uint8_t *arg, size_t arglen);
int check_job_run(int in_fd, int out_fd, const uint8_t *arg, size_t arglen);

#ifdef WSGATE_TEST_HOOKS
/* Test builds only: jobs that misbehave on purpose, for tests/transfer/test_check.c. */
static int
t_echo(int in, int out, const uint8_t *arg, size_t n)
{
	char c;

	return write(out, arg, n) == (ssize_t)n && pread(in, &c, 1, 0) == 1 &&
		       write(out, &c, 1) == 1
		   ? 0
		   : -1;
}

static int __attribute__((noreturn)) t_crash(int in, int out, const uint8_t *arg, size_t n)
{
	(void)in, (void)out, (void)arg, (void)n;
	abort();
}

static int __attribute__((noreturn)) t_hang(int in, int out, const uint8_t *arg, size_t n)
{
	volatile unsigned long spin = 0;

	(void)in, (void)out, (void)arg, (void)n;
	for (;;)
		spin++;
}

static int
t_flood(int in, int out, const uint8_t *arg, size_t n)
{
	static char zeros[65536];

	(void)in, (void)arg, (void)n;
	for (int i = 0; i < 64; i++)
		if (write(out, zeros, sizeof(zeros)) < 0)
			return -1;
	return 0;
}

/* Each must fail: open a file, write to another descriptor, read one that was not given. */
static int
t_escape(int in, int out, const uint8_t *arg, size_t n)
{
	char c;
	int denied = open("/etc/passwd", O_RDONLY) < 0 && write(2, "x", 1) < 0 &&
		     pread(3, &c, 1, 0) < 0 && write(in, "x", 1) < 0;

	(void)arg, (void)n;
	return write(out, denied ? "D" : "A", 1) == 1 ? 0 : -1;
}

static int
t_exec(int in, int out, const uint8_t *arg, size_t n)
{
	char *const argv[] = {(char *)"true", NULL};

	(void)in, (void)out, (void)arg, (void)n;
	execve("/bin/true", argv, argv + 1);
	return 0;
}

static uint32_t ids[2];

static int
t_identity_prepare(const uint8_t *arg, size_t n)
{
	(void)arg, (void)n;
	ids[0] = (uint32_t)getuid();
	ids[1] = (uint32_t)getgid();
	return 0;
}

static int
t_identity(int in, int out, const uint8_t *arg, size_t n)
{
	uint8_t b[8];

	(void)in, (void)arg, (void)n;
	for (int i = 0; i < 2; i++) {
		b[4 * i] = (uint8_t)(ids[i] >> 24);
		b[4 * i + 1] = (uint8_t)(ids[i] >> 16);
		b[4 * i + 2] = (uint8_t)(ids[i] >> 8);
		b[4 * i + 3] = (uint8_t)ids[i];
	}
	return write(out, b, sizeof(b)) == (ssize_t)sizeof(b) ? 0 : -1;
}
#endif

/* clang-format off */
static const struct confined_job jobs[] = {
	{"check", check_job_prepare, check_job_run}, /* publication checks (transfer/check.h) */
	{"view", view_job_prepare, view_job_run},    /* transfer view (transfer/view_job.h) */
#ifdef WSGATE_TEST_HOOKS
	{"test-echo", NULL, t_echo},
	{"test-crash", NULL, t_crash},
	{"test-hang", NULL, t_hang},
	{"test-flood", NULL, t_flood},
	{"test-escape", NULL, t_escape},
	{"test-exec", NULL, t_exec},
	{"test-identity", t_identity_prepare, t_identity},
#endif
};
/* clang-format on */

#ifdef CONFINED_SANITIZED
/* LeakSanitizer stops the world with clone and ptrace at exit, which the filter kills. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

int
main(int argc, char **argv)
{
	return confined_main(argc, argv, jobs, nitems(jobs));
}
