/*
 * The self-pipe trick, written once: a signal handler that only notes which signal came and
 * writes a byte to a pipe, so a poll() loop wakes up and does the real work outside the handler
 * (nothing async-signal-unsafe ever runs in one). One per process.
 */
#ifndef WSGATE_SELFPIPE_H
#define WSGATE_SELFPIPE_H

#include <stddef.h>

/* Creates the pipe (non-blocking, close-on-exec) and installs the handler (SA_RESTART) for each
 * of sigs. Returns 0, or -1 with errno set. */
int selfpipe_init(const int *sigs, size_t nsigs);
/* The read end, to poll for POLLIN. */
int selfpipe_fd(void);
/* Empties the pipe after poll() reported it readable. */
void selfpipe_drain(void);
/* 1 if sig arrived since the last call for it (and forgets it), else 0. */
int selfpipe_caught(int sig);
/* In a forked child that sets up its own signals: closes the parent's pipe. */
void selfpipe_close(void);

#endif
