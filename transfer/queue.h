/*
 * Airlock request records in DB_REQUESTS and the one table of allowed state transitions.
 * Internal to transfer/: other modules go through transfer/airlock.h.
 *
 * Record layout (common/codec.h), version byte first. The summary fields that `transfer list`
 * prints come first so a listing decodes only that prefix and stops.
 */
#ifndef WSGATE_QUEUE_H
#define WSGATE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "common/names.h"
#include "common/store.h"
#include "transfer/check_result.h"
#include "transfer/safetext.h"

#define QUEUE_RECORD_VERSION 1
#define QUEUE_REASON_MAX 1024
#define QUEUE_NOTE_MAX 1024
#define QUEUE_RELPATH_MAX 4096
#define QUEUE_REPORT_MAX 16384
#define QUEUE_USER_MAX 64 /* "root" or an account name */

enum req_kind { KIND_EXPORT = 1, KIND_IMPORT = 2, KIND_MOVE = 3 };
enum req_state { ST_PENDING = 1, ST_APPROVED, ST_REJECTED, ST_WITHDRAWN, ST_RELEASED, ST_RETURNED };
#define ST_LAST ST_RETURNED

struct req_summary {
	uint64_t id;
	uint8_t kind;
	uint8_t state;
	uint8_t check; /* enum check_result */
	char project[NAME_MAX_LEN + 1];
	char area[NAME_MAX_LEN + 1];
	char to_area[NAME_MAX_LEN + 1]; /* move only */
	char requester[QUEUE_USER_MAX];
	char name[256];
	uint64_t size;
	uint64_t created;
	uint64_t decided;
};

struct request {
	struct req_summary s;
	char relpath[QUEUE_RELPATH_MAX]; /* export/move: path relative to the area root */
	uint8_t sha256[32];
	char reason[QUEUE_REASON_MAX];
	char reviewer[QUEUE_USER_MAX];
	char note[QUEUE_NOTE_MAX];
	char report[QUEUE_REPORT_MAX]; /* automated check report (text) */
};

const char *queue_kind_name(int kind);
const char *queue_state_name(int state);
int queue_state_parse(const char *s);
const char *queue_check_name(int check);

/* queue_safe_text(): transfer/safetext.h */
/* Applies queue_safe_text in place to every free-text field of a decoded record. */
struct request;
void queue_display(struct request *r);

/*
 * The state machine (SPEC "The airlock"): returns the audit event of the transition from -> to,
 * or NULL if the table does not allow it. Nothing else in transfer/ decides what may follow what.
 */
const char *queue_transition(int from, int to);

int queue_encode(const struct request *r, uint8_t **out, size_t *outlen);
int queue_decode(const void *data, size_t len, struct request *r);
/* Decodes only the summary prefix (fast path for listings). */
int queue_decode_summary(const void *data, size_t len, struct req_summary *s);

/*
 * Every stored record carries a MAC (transfer/reqmac.h). queue_open_record checks the value v
 * stored under key k and gives the encoded record in body: 0, or STORE_BADRECORD (logged, naming
 * the request) when it does not verify. queue_get and queue_foreach call it; code that walks
 * DB_REQUESTS itself must too. queue_foreach skips a record that does not verify.
 */
int queue_open_record(struct store *st, const MDB_val *k, const MDB_val *v, MDB_val *body);

/* Read in the caller's transaction: 0, STORE_NOTFOUND or <0 (STORE_BADRECORD: no MAC match). */
int queue_get(struct store *st, MDB_txn *txn, uint64_t id, struct request *r);
/* Allocates the next id (monotonic, never reused) and inserts the record. */
int queue_insert(struct store *st, MDB_txn *txn, struct request *r);
/* Overwrites an existing record (after queue_transition approved the change). */
int queue_update(struct store *st, MDB_txn *txn, const struct request *r);
/* Walks summaries in id order; fn returns 0 to go on, anything else stops and is returned. */
int queue_foreach(struct store *st, MDB_txn *txn,
		  int (*fn)(const struct req_summary *s, const MDB_val *rec, void *arg), void *arg);

#endif
