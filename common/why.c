/* The failure buffer (see why.h). */
#include "common/why.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

int
why_set(char *why, size_t whylen, const char *fmt, ...)
{
	int saved = errno; /* a caller may still look at what failed */
	va_list ap;

	if (why == NULL || whylen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}
