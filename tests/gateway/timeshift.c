/* LD_PRELOAD shim for tests only: time() runs WSGATE_TIME_SHIFT seconds off, so that wsgatectl
 * can create an account that has already expired (it refuses a past date, rightly). */
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

time_t
time(time_t *t)
{
	struct timespec ts;
	const char *s = getenv("WSGATE_TIME_SHIFT");
	time_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = ts.tv_sec + (s != NULL ? atol(s) : 0);
	if (t != NULL)
		*t = now;
	return now;
}
