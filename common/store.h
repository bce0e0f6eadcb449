/*
 * The LMDB state store under state_dir/db. Every module keeps its records in its own named
 * database; each change is one write transaction (LMDB serialises writers across processes,
 * and fsyncs on commit). An environment must not cross fork(): open it in the process that uses it.
 *
 * Schema version: meta["schema_version"] (u32). store_open refuses a newer version than it knows;
 * a future migration runs in store_open when it finds an older one.
 */
#ifndef WSGATE_STORE_H
#define WSGATE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "common/secrets.h"

#define STORE_SCHEMA_VERSION 1

enum store_db {
	DB_META,      /* counters, schema version, audit chain head */
	DB_USERS,     /* name -> account record (policy/account.c) */
	DB_PROJECTS,  /* name -> project record (policy/account.c) */
	DB_AUTHSTATE, /* user name -> last TOTP step, failure times, lock (auth/) */
	DB_ADDRSTATE, /* source address -> failure times (auth/ throttling) */
	DB_REQUESTS,  /* u64 id (big-endian) -> airlock request (transfer/) */
	DB_AUDIT,     /* u64 seq (big-endian) -> audit record (common/audit.c) */
	DB_COUNT
};

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	struct secrets secrets;
	char state_dir[4096];
};

/* create = 1 (wsgatectl init): make state_dir/db and write the schema version if absent.
 * Loads state_dir/secrets.key. Returns 0 or <0 with a reason in why. */
int store_open(const char *state_dir, int create, struct store **out, char *why, size_t whylen);
void store_close(struct store *st);

int store_begin(struct store *st, int rdonly, MDB_txn **txn);
/* Commits; on failure the transaction is gone and nothing changed. */
int store_commit(MDB_txn *txn);
void store_abort(MDB_txn *txn);

/* Thin wrappers; return 0, STORE_NOTFOUND, or <0 on error. */
#define STORE_NOTFOUND 1
#define STORE_EXISTS 2 /* store_put with MDB_NOOVERWRITE found the key */
int store_get(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen,
	      MDB_val *val);
int store_put(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen,
	      const void *val, size_t vlen, unsigned flags);
int store_del(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen);

/* Increments the u64 counter meta[name] and returns the new value (first value is 1), or 0. */
uint64_t store_next_counter(struct store *st, MDB_txn *txn, const char *name);

/* Big-endian u64 key so LMDB's byte order is numeric order. */
void store_u64_key(uint64_t v, uint8_t key[8]);
uint64_t store_key_u64(const MDB_val *key);

#endif
