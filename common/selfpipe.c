/* The self-pipe signal wake-up (see selfpipe.h). */
#include "common/selfpipe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int selfpipe[2] = {-1, -1};
static volatile sig_atomic_t selfpipe_seen[NSIG];

static void
selfpipe_handler(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig > 0 && sig < NSIG)
		selfpipe_seen[sig] = 1;
	if (write(selfpipe[1], &c, 1) < 0) {
		/* The pipe is full: a wake-up is pending anyway. */
	}
	errno = saved;
}

int
selfpipe_init(const int *sigs, size_t nsigs)
{
	struct sigaction sa;

	if (pipe2(selfpipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = selfpipe_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < nsigs; i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			return -1;
	return 0;
}

int
selfpipe_fd(void)
{
	return selfpipe[0];
}

void
selfpipe_drain(void)
{
	char c[64];

	while (read(selfpipe[0], c, sizeof(c)) > 0)
		;
}

int
selfpipe_caught(int sig)
{
	if (sig <= 0 || sig >= NSIG || !selfpipe_seen[sig])
		return 0;
	selfpipe_seen[sig] = 0;
	return 1;
}

void
selfpipe_close(void)
{
	for (int i = 0; i < 2; i++)
		if (selfpipe[i] >= 0) {
			close(selfpipe[i]);
			selfpipe[i] = -1;
		}
	memset((void *)selfpipe_seen, 0, sizeof(selfpipe_seen));
}
