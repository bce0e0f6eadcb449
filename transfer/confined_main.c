/*
 * wsgate-confined's side of the confined runner (see confined.h), in the one order of privilege
 * drop (STYLE.md): identity (setgroups/setresgid/setresuid, every capability, no_new_privs, by
 * sandbox/identity.c) -> resource limits -> the job's prepare step -> seccomp -> the job. There
 * are no mounts to make: after the filter the process can open nothing, so the file system it
 * could see does not matter. Any failure before the job runs exits CONFINED_EXIT_SETUP, which
 * the parent reports as its own failure, never as a verdict on the input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sandbox/sandbox.h"
#include "transfer/confined.h"

#define CONFINED_MEMORY (1024ull << 20) /* RLIMIT_AS */
#define CONFINED_CPU 120		/* seconds of CPU; the parent's wall clock is shorter */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static uint8_t *
hex_decode(const char *s, size_t *n)
{
	size_t len = strlen(s), i;
	uint8_t *out;

	if (len % 2 || len / 2 > CONFINED_ARG_MAX || !(out = malloc(len / 2 + 1)))
		return NULL;
	for (i = 0; i < len / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(out);
			return NULL;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*n = len / 2;
	return out;
}

static int
set_limit(int res, rlim_t v)
{
	struct rlimit r = {v, v};

	return setrlimit(res, &r);
}

/* RLIMIT_AS is left out in sanitizer builds: ASan's shadow memory alone is terabytes of
 * address space. The parent's wall-clock limit still applies there. */
static int
limits(void)
{
	if (set_limit(RLIMIT_CPU, CONFINED_CPU) < 0 || set_limit(RLIMIT_FSIZE, 0) < 0 ||
	    set_limit(RLIMIT_CORE, 0) < 0 || set_limit(RLIMIT_NOFILE, 16) < 0 ||
	    set_limit(RLIMIT_NPROC, 0) < 0)
		return -1;
#ifndef CONFINED_SANITIZED
	if (set_limit(RLIMIT_AS, CONFINED_MEMORY) < 0)
		return -1;
#endif
	return 0;
}

int
confined_main(int argc, char **argv, const struct confined_job *jobs, size_t njobs)
{
	const struct confined_job *job = NULL;
	char why[256];
	uint8_t *arg;
	size_t arglen = 0, i;

	if (argc != 3)
		return CONFINED_EXIT_SETUP;
	for (i = 0; i < njobs; i++)
		if (strcmp(argv[1], jobs[i].name) == 0)
			job = &jobs[i];
	if (!job || !(arg = hex_decode(argv[2], &arglen)))
		return CONFINED_EXIT_SETUP;
	if (getuid() == 0 || geteuid() == 0) {
		if (sandbox_drop_identity(CONFINED_UID, CONFINED_GID, why, sizeof(why)) < 0)
			return CONFINED_EXIT_SETUP;
	} else if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		return CONFINED_EXIT_SETUP;
	}
	/* compiled now: libseccomp exports through a memory file, which RLIMIT_FSIZE forbids */
	if (sandbox_filter_prepare(SANDBOX_FILTER_CONFINED, why, sizeof(why)) < 0 || limits() < 0)
		return CONFINED_EXIT_SETUP;
	if (job->prepare && job->prepare(arg, arglen) < 0)
		return CONFINED_EXIT_SETUP;
	if (sandbox_filter_load(SANDBOX_FILTER_CONFINED, why, sizeof(why)) < 0)
		return CONFINED_EXIT_SETUP;
	return job->run(0, 1, arg, arglen) == 0 ? 0 : 1;
}
