#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *progname = "wsgate";
static int use_stderr = 1;

void
log_init(const char *name, int to_stderr)
{
	progname = name;
	use_stderr = to_stderr;
	if (!to_stderr)
		openlog(name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

const char *
log_progname(void)
{
	return progname;
}

static void __attribute__((format(printf, 2, 0)))
vlog(int prio, const char *fmt, va_list ap, const char *suffix)
{
	char line[2048];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (use_stderr) {
		fprintf(stderr, "%s: %s%s%s\n", progname, line, suffix ? ": " : "",
			suffix ? suffix : "");
		fflush(stderr);
	} else {
		syslog(prio, "%s%s%s", line, suffix ? ": " : "", suffix ? suffix : "");
	}
}

void
log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

void
fatal_errno(const char *fmt, ...)
{
	va_list ap;
	const char *why = strerror(errno);

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap, why);
	va_end(ap);
	exit(1);
}
