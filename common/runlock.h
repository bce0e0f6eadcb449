/*
 * "Is a wsgated serving this state_dir?" — for `wsgatectl restore`, which must never put a
 * state under a running daemon (SPEC "Programs"). The listener holds a POSIX read lock on
 * state_dir/run/wsgated.lock for as long as it runs. A POSIX lock (fcntl), not flock: it belongs
 * to the listener process alone, is not inherited by the connection processes it forks, and
 * none of them (the unprivileged worker included) can release it; the kernel drops it when the
 * listener exits, kill -9 included.
 */
#ifndef WSGATE_RUNLOCK_H
#define WSGATE_RUNLOCK_H

#include <stddef.h>
#include <sys/types.h>

/* Takes the lock (creating the file); keeps the fd open for the process's life.
 * Returns 0 or -1 with why. */
int runlock_take(const char *state_dir, char *why, size_t whylen);

/* The pid of the process holding the lock, 0 if none (or no lock file), -1 with why on error. */
pid_t runlock_holder(const char *state_dir, char *why, size_t whylen);

#endif
