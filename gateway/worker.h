/* Internal to the network worker: state shared by worker.c (auth, loop) and session.c. */
#ifndef WSGATE_WORKER_H
#define WSGATE_WORKER_H

#include <stdint.h>
#include <time.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "common/codec.h"
#include "gateway/gateway.h"
#include "gateway/monitor_wrap.h"

#define WORKER_MAX_CHANNELS 10

enum worker_state { WS_PREAUTH = 1, WS_NEED_TOTP, WS_AUTHED };

struct wchan;

struct worker {
	const struct config *cfg;
	const struct gw_peer *peer;
	ssh_session ss;
	ssh_event ev;
	int mon;
	int state;
	unsigned failures;
	time_t deadline;
	char login[128];
	struct mm_login who; /* after the TOTP step */
	struct wchan *chans[WORKER_MAX_CHANNELS];
	time_t last_activity;
	int in_write; /* inside ssh_channel_write: callbacks must not re-enter the SFTP engine */
	int exiting;  /* worker_exit runs: no more monitor calls while channels are freed */
	int hostile;  /* the client broke the protocol in a way no honest client does: end */
	char revoked[256]; /* the monitor revoked the login: why, for each channel's line */
	struct ssh_server_callbacks_struct scb;
};

void worker_exit(struct worker *w, int code) __attribute__((noreturn));

/* session.c */
ssh_channel session_open(ssh_session ss, void *userdata);
/* Moves data and finishes channels; called after every pass of the event loop. Returns 1 if
 * some channel has work that no fd event will announce (output held back, input left in
 * libssh), so the loop should come back soon. */
int session_reconcile(struct worker *w);
/* Number of channels whose command still runs without a terminal (they keep a connection from
 * counting as idle). */
int session_busy(struct worker *w);
int session_count(struct worker *w);
void session_close_all(struct worker *w);
/* Asks the monitor whether the login was revoked (after its SIGUSR1, or a refused start); if so
 * every channel is closed with one `wsgate: ` line. Returns 1 if revoked. */
int session_revoked(struct worker *w);

/* Seconds on the monotonic clock, for the login grace and idle time: setting the wall clock
 * (NTP stepping it, an operator's mistake) must neither end every session nor stretch a login. */
static inline time_t
worker_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

#endif
