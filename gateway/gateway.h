/* Internal interfaces between the daemon's processes (listener, monitor, worker). */
#ifndef WSGATE_GATEWAY_H
#define WSGATE_GATEWAY_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "policy/config.h"

/* The network worker's own ids: below ACCOUNT_UID_BASE (200000), so never an account's. */
#define GW_WORKER_UID 199999
#define GW_WORKER_GID 199999

struct gw_peer {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[INET6_ADDRSTRLEN + 8];
};

/* Formats an address for logs ("192.0.2.1", "2001:db8::1"). */
void gw_peer_format(struct gw_peer *p);

/* The privileged per-connection process: forks the worker, answers its requests, runs the
 * sessions. exe_dir holds wsgatectl and airlock. Never returns. */
void monitor_run(const struct config *cfg, const char *exe_dir, int client_fd,
		 const struct gw_peer *peer) __attribute__((noreturn));

/* The unprivileged SSH side. Runs after privsep_drop(); never returns. */
void worker_run(const struct config *cfg, int client_fd, int mon_sock, const struct gw_peer *peer)
    __attribute__((noreturn));

/* chroot to state_dir/empty, drop to GW_WORKER_UID/GID, no_new_privs, then the worker's seccomp
 * filter (sandbox_filter_load, table in sandbox/seccomp.c). */
int privsep_drop(const char *state_dir, char *why, size_t whylen);
/* The worker's data size (RLIMIT_DATA): heap and private writable mappings. */
#define WORKER_DATA_MAX (256ul << 20)
/* Once at start, before any fork: creates state_dir/empty (root, 0755, must stay empty) and
 * state_dir/run (root, 0711), and compiles the worker's seccomp filter. */
int privsep_prepare(const char *state_dir, char *why, size_t whylen);

#endif
