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
	DB_REVIEWS,   /* u64 request id, reviewer name -> one review (transfer/review.c) */
	DB_LINKS,     /* u64 request id -> u64 id of the returned request it replaces (review.c) */
	DB_DRAFTS,    /* project, NUL, user, NUL, file name -> import draft (transfer/draft.c) */
	DB_LEDGER,    /* project, table labels, request id -> released cells (transfer/ledger.c) */
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
/* A commit that others (and a kill -9 of this process) already see, durable against a power cut
 * only after the next store_sync: for a record whose fsync may run while other work goes on
 * (the monitor's session start: the sandbox starts during it). Returns as store_commit. */
int store_commit_nosync(struct store *st, MDB_txn *txn);
/* Flushes every commit so far to disk. Returns 0 or <0 (-EIO, ...). */
int store_sync(struct store *st);

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

/*
 * What a process that starts the service runs once after store_open (the daemon's start-up scan,
 * wsgatectl):
 *  - clears the reader slots of processes that died holding a read transaction (kill -9), which
 *    would otherwise pin old pages forever and fill the reader table (mdb_reader_check);
 *    *stale gets how many were cleared;
 *  - with reserve set (the daemon's start, wsgatectl init), preallocates the database file to
 *    its used size plus STORE_RESERVE (fallocate), so that commits write into blocks the file
 *    already owns: a file system filled by anything else (an area without a quota, logs, a
 *    stuck upload) cannot make a login's or a decision's commit fail with ENOSPC until that
 *    headroom is used up. See docs/OPERATIONS.md.
 * Returns 0 or <0 with why; a file system that cannot preallocate is not an error (*reserved 0).
 */
#define STORE_RESERVE (64ull << 20)
int store_startup(struct store *st, int reserve, int *stale, uint64_t *reserved, char *why,
		  size_t whylen);
/* store_startup for entry points: logs what it cleared and any failure (a warning: the store
 * still works, it only has no reserve), never stops the caller. */
void store_startup_log(struct store *st, int reserve);

/* On btrfs, marks the (still empty) database folder NOCOW so the data.mdb created in it next
 * keeps its preallocated blocks (store_open does it at init; restore for the folder it fills).
 * Best effort, no-op elsewhere. */
void store_db_dir_nocow(const char *path);

/* Writes a consistent copy of the database (one read transaction's view, free pages left out:
 * MDB_CP_COMPACT) to dir/data.mdb, which must not exist. Writers go on meanwhile. Returns 0 or
 * <0 (store codes). */
int store_copy(struct store *st, const char *dir);

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
