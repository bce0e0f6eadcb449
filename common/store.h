/*
 * The LMDB state store under state_dir/db. Every module keeps its records in its own named
 * database; each change is one write transaction (LMDB serialises writers across processes,
 * and fsyncs on commit). An environment must not cross fork(): open it in the process that uses it.
 *
 * This file is the only code that touches LMDB's environment, database handles and cursors:
 * struct store is opaque, as MDB_env is in lmdb.h. MDB_txn and MDB_val stay in the interface;
 * they are LMDB's own opaque handle and its plain (size, pointer) pair.
 *
 * Schema version: meta["schema_version"] (u32). store_open refuses a newer version than it knows;
 * a future migration runs in store_open when it finds an older one.
 *
 * Errors: one convention for every call below, as lmdb.h has. A call returns 0, a positive
 * STORE_NOTFOUND or STORE_EXISTS where it says so, or a negative code, which is one of:
 *   MDB_MAP_FULL, MDB_READERS_FULL, MDB_TXN_FULL, MDB_CORRUPTED, MDB_PANIC, ... : LMDB's own
 *       codes (all negative) passed on unchanged;
 *   -ENOSPC, -EIO, -ENOMEM, -EACCES, ... : a system error, negated;
 *   STORE_BADRECORD: a stored value that does not decode (the modules' decoders return it).
 * store_strerror() names any of them on one line, the code's name first
 * ("MDB_MAP_FULL: Environment mapsize limit reached"). Pass the code up unchanged, so that the
 * operator's message names what filled up or broke.
 */
#ifndef WSGATE_STORE_H
#define WSGATE_STORE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "common/secrets.h"

/* 2: audit records carry role, project, area, address and nanoseconds, the audit head its own
 * tag, and request records a MAC (issue 11; docs/audit.md). */
#define STORE_SCHEMA_VERSION 2

#define STORE_NOTFOUND 1	   /* store_get, store_del: no such key */
#define STORE_EXISTS 2		   /* store_put with MDB_NOOVERWRITE found the key */
#define STORE_BADRECORD (-EBADMSG) /* a value that does not decode; LMDB never returns it */

enum store_db {
	DB_META,      /* counters, schema version, audit chain head */
	DB_USERS,     /* name -> account record (policy/account.c) */
	DB_PROJECTS,  /* name -> project record (policy/account.c) */
	DB_AUTHSTATE, /* user name -> last TOTP step, failure times, lock (auth/) */
	DB_ADDRSTATE, /* source address -> failure times (auth/ throttling) */
	DB_REQUESTS,  /* u64 id (big-endian) -> airlock request (transfer/) */
	DB_AUDIT,     /* u64 seq (big-endian) -> audit record (common/audit.c) */
	DB_BUDGET,    /* user name, u32 UTC day -> bytes used today (policy/budget.c) */
	DB_COUNT
};

struct store;

/* create = 1 (wsgatectl init): make state_dir/db and write the schema version if absent.
 * Loads state_dir/secrets.key. Returns 0 or <0 with a reason in why. */
int store_open(const char *state_dir, int create, struct store **out, char *why, size_t whylen);
void store_close(struct store *st);

/* The keys loaded from state_dir/secrets.key, and state_dir itself; both live as long as st. */
const struct secrets *store_secrets(const struct store *st);
const char *store_state_dir(const struct store *st);

/* Returns 0 or <0: MDB_READERS_FULL, MDB_PANIC, -ENOMEM. Also sets errno (EIO for an LMDB
 * code), for callers that still print strerror(errno). */
int store_begin(struct store *st, int rdonly, MDB_txn **txn);
/* Returns 0 or <0: MDB_MAP_FULL, -ENOSPC, -EIO, MDB_PANIC; sets errno as store_begin does.
 * On failure the transaction is gone and nothing changed. */
int store_commit(MDB_txn *txn);
void store_abort(MDB_txn *txn);

/*
 * One hook per store, called after every store_commit (STORE_HOOK_COMMITTED, or
 * STORE_HOOK_ABORTED when the commit failed), every store_abort (STORE_HOOK_ABORTED) and at
 * store_close (STORE_HOOK_CLOSE, txn NULL). txn is already freed: compare the pointer, never use
 * it. The audit log uses it to tell syslog and its witness file about records only once they are
 * durable (common/audit.c).
 */
enum { STORE_HOOK_COMMITTED, STORE_HOOK_ABORTED, STORE_HOOK_CLOSE };
typedef void store_commit_hook(void *arg, MDB_txn *txn, int what);
void store_set_commit_hook(struct store *st, store_commit_hook *fn, void *arg);

/* Thin wrappers. store_get: 0, STORE_NOTFOUND or <0 (MDB_CORRUPTED, MDB_PAGE_NOTFOUND).
 * store_put: 0, STORE_EXISTS (with MDB_NOOVERWRITE) or <0 (MDB_MAP_FULL, MDB_TXN_FULL,
 * -EACCES in a read-only transaction). store_del: 0, STORE_NOTFOUND or <0 (as store_put). */
int store_get(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen,
	      MDB_val *val);
int store_put(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen,
	      const void *val, size_t vlen, unsigned flags);
int store_del(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen);

/*
 * Calls fn for the records of db in key order (bytewise, so store_u64_key keys come in numeric
 * order), from the first key >= from, or from the first key when from is NULL. With
 * STORE_REVERSE: in descending order, from the last key <= from, or from the last key.
 * fn returns 0 to go on; any other value stops the walk and store_each returns it, so a caller
 * that stops early should use a value its own caller can tell from a store error (> 0).
 * key and val are valid until fn returns. Returns 0 at the end of the records, fn's value, or
 * <0 (MDB_CORRUPTED, MDB_PAGE_NOTFOUND). fn must not change db: collect keys, delete after.
 */
#define STORE_REVERSE 0x1
typedef int store_each_fn(const MDB_val *key, const MDB_val *val, void *arg);
int store_each(struct store *st, MDB_txn *txn, enum store_db db, const void *from, size_t fromlen,
	       unsigned flags, store_each_fn *fn, void *arg);

/* The number of records in db: 0 or <0. */
int store_count(struct store *st, MDB_txn *txn, enum store_db db, size_t *n);

/* Skips the fsync on commit, so a crash may lose recent commits: only for throwaway stores
 * (the fuzz targets). Returns 0 or <0. */
int store_set_nosync(struct store *st);

/* Increments the u64 counter meta[name] and sets *n to the new value (the first is 1).
 * Returns 0 or <0 (as store_put; STORE_BADRECORD for a damaged or exhausted counter). */
int store_bump(struct store *st, MDB_txn *txn, const char *name, uint64_t *n);
/* store_bump for callers that need no reason: the new value, or 0 on any failure. */
uint64_t store_next_counter(struct store *st, MDB_txn *txn, const char *name);

/* Big-endian u64 key so LMDB's byte order is numeric order. */
void store_u64_key(uint64_t v, uint8_t key[8]);
uint64_t store_key_u64(const MDB_val *key);

/* One line naming rc, any value this file's calls return: "MDB_MAP_FULL: Environment mapsize
 * limit reached", "ENOSPC: No space left on device". Never NULL. */
const char *store_strerror(int rc);

#endif
