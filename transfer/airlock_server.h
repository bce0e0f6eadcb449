/*
 * The gateway side of the `airlock` client. The monitor makes one listening unix socket per
 * analyst session, binds it into that sandbox only, and calls this for each connection: the
 * identity (who) comes from the socket the client reached, never from what the client sends.
 * Reads one framed request (bounded), acts through transfer/airlock.h, writes one framed reply.
 */
#ifndef WSGATE_AIRLOCK_SERVER_H
#define WSGATE_AIRLOCK_SERVER_H

#include <sys/types.h>

#include "common/store.h"
#include "policy/config.h"
#include "transfer/airlock.h"

/* expected_uid: the account's host uid; a peer with another SO_PEERCRED uid is refused, and an
 * export reads its source as that uid (airlock_export). */
int airlock_server_handle(struct store *st, const struct config *cfg,
			  const struct airlock_actor *who, uid_t expected_uid, int client_fd);

/* Reads the client's one request (bounded, with the usual deadline) without acting on it and
 * answers AIRLOCK_ST_REFUSED with why: a login revoked while its session ran (the gateway's
 * monitor decides that). Returns 0, or -1 if the client went away. */
int airlock_server_refuse(int client_fd, const char *why);

#endif
