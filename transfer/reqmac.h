/*
 * The MAC of an airlock request record (SPEC "Audit": "a request whose record does not verify is
 * never decided or delivered"). Without it, anyone who can write the database file could set a
 * request to "released" and /outbox would serve it.
 *
 * A stored value is the encoded record followed by
 *     tag = HMAC-SHA-256(request_key, "wsgate request v1" || u64 id || record)
 * with request_key derived from secrets.key (common/secrets.h). The id binds the record to its
 * key, so a record cannot be moved to another id either. Internal to transfer/queue.c.
 */
#ifndef WSGATE_REQMAC_H
#define WSGATE_REQMAC_H

#include <stddef.h>
#include <stdint.h>

#include "common/secrets.h"

#define REQMAC_LEN 32

/* Computes the tag of len bytes of record stored under id. Returns 0 or -1. */
int reqmac_seal(const struct secrets *s, uint64_t id, const void *record, size_t len,
		uint8_t tag[REQMAC_LEN]);
/* Checks a stored value (record || tag) under id: 0 and *len the record's length, or -1 if the
 * value is too short or its tag does not verify (constant-time compare). */
int reqmac_verify(const struct secrets *s, uint64_t id, const void *value, size_t vlen,
		  size_t *len);

#endif
