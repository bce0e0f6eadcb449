/*
 * The listener's connection slots (SPEC "Limits under attack"): which of its connection
 * processes are still logging in and from where, so that connections that have not logged in
 * are capped on their own (max_unauthenticated, max_unauthenticated_per_source) and never take
 * the places of working sessions (max_sessions).
 *
 * The listener learns that a connection logged in from its monitor: one byte on a datagram
 * socketpair that every monitor inherits, with the sender's pid taken from the kernel
 * (SCM_CREDENTIALS), never from the message. The listener reads nothing else from its children
 * and never parses SSH.
 */
#ifndef WSGATE_SLOTS_H
#define WSGATE_SLOTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "policy/config.h"

#define SLOTS_MAX 4096 /* connection processes of one listener */

/* Listener, once before any fork: the report socketpair. Returns 0 or -1 (errno). */
int slots_init(void);
/* The descriptor the listener polls for reports. */
int slots_fd(void);

/* May a connection from sa be taken now? 0, or -1 with the limit that refused it in why. */
int slots_admit(const struct config *cfg, const struct sockaddr *sa, char *why, size_t whylen);
/* A connection process was forked for sa / has been reaped. */
void slots_add(pid_t pid, const struct sockaddr *sa);
void slots_remove(pid_t pid);
size_t slots_count(void);
pid_t slots_pid(size_t i);
/* Connections not logged in yet (all, or from the same source as sa). */
size_t slots_unauthenticated(const struct sockaddr *sa);

/* Reads every pending report. A login that takes the number of logged-in connections past
 * max_sessions is ended (SIGTERM to its monitor) and logged. */
void slots_read_reports(const struct config *cfg);
/* The backstop below acts this long after login_grace: the worker's alarm and the monitor's
 * deadline come first, and the listener must never race them. */
#define SLOTS_GRACE_MARGIN_MS 10000
/* Ends (SIGTERM) connections still logging in margin_ms past login_grace: the worker and the
 * monitor enforce login_grace themselves; this is the listener's backstop. Returns the poll
 * timeout in ms until the next check is due, or -1 when nothing is logging in. */
int slots_expire(const struct config *cfg, int64_t margin_ms);

/* In a connection process right after fork: drops the listener's end. */
void slots_child(void);
/* In the monitor, when its login succeeded: tells the listener. Best effort: a listener that
 * is gone (restarted after a crash) does not count this connection anyway. */
void slots_report_login(void);
/* In the monitor's children (the worker): they have nothing to report. */
void slots_close_report(void);

#endif
