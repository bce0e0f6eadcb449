/*
 * The confined runner: parses untrusted bytes (an export under check, a file under review) in a
 * process that holds nothing else. The parent (the monitor, or wsgatectl) forks a child that
 * keeps only two descriptors, the input file (read-only, as fd 0) and the write end of a pipe
 * (fd 1), and execs wsgate-confined from the running program's own directory: nothing of the
 * parent's memory (the database map, the secrets key) survives the exec. wsgate-confined
 * (confined_main.c) drops to CONFINED_UID, sets no_new_privs and resource limits, runs the job's
 * prepare step, loads the confined seccomp filter (sandbox/seccomp.c) and runs the job.
 *
 * The parent reads at most out_max bytes within wall_seconds, then kills the child. What the
 * child wrote is hostile: the caller decodes it with a bounded decoder and checks every field.
 */
#ifndef WSGATE_CONFINED_H
#define WSGATE_CONFINED_H

#include <stddef.h>
#include <stdint.h>

/* The confined jobs' identity: below ACCOUNT_UID_BASE (200000) and beside the network
 * worker's 199999, so never an account's or a project's; it owns no file. */
#define CONFINED_UID 199998
#define CONFINED_GID 199998
#define CONFINED_PROGRAM "wsgate-confined"
#define CONFINED_ARG_MAX 65536 /* bytes of the job's argument (sent hex-encoded in argv) */

struct confined_limits {
	unsigned wall_seconds; /* killed after this long */
	unsigned cpu_seconds;  /* RLIMIT_CPU */
	uint64_t memory;       /* RLIMIT_AS, bytes (not applied in sanitizer builds) */
	size_t out_max;	       /* more output than this counts as a failure */
};

/* What the helper does: a name in its table (confined_main.c). */
struct confined_job {
	const char *name;
	/* Before the seccomp filter: open what the job needs (iconv's modules). 0 or -1. */
	int (*prepare)(const uint8_t *arg, size_t arglen);
	/* Under the filter: read in_fd (pread), write the result to out_fd. 0 or -1. */
	int (*run)(int in_fd, int out_fd, const uint8_t *arg, size_t arglen);
};

enum confined_status {
	CONFINED_OK = 0,     /* the job exited 0; *out holds what it wrote */
	CONFINED_FAILED = 1, /* crashed, killed, timed out, exited non-zero or wrote too much */
};

/*
 * Runs job (by name) over in_fd with arg. Returns CONFINED_OK (*out malloc'd, *outlen bytes),
 * CONFINED_FAILED (nothing in *out; why says what happened, for the log), or <0 when the child
 * could not be started or could not confine itself (why says why): the caller must not treat
 * that as a verdict on the input.
 */
int confined_run(const char *job, int in_fd, const void *arg, size_t arglen,
		 const struct confined_limits *lim, uint8_t **out, size_t *outlen, char *why,
		 size_t whylen);

/* Built with AddressSanitizer (gcc or clang): RLIMIT_AS and LeakSanitizer cannot apply. */
#if defined(__SANITIZE_ADDRESS__)
#define CONFINED_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONFINED_SANITIZED 1
#endif
#endif

/* Exit status of wsgate-confined when it could not confine itself (not the input's fault). */
#define CONFINED_EXIT_SETUP 3

/* The helper's main, given its job table. */
int confined_main(int argc, char **argv, const struct confined_job *jobs, size_t njobs);

#endif
