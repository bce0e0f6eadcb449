/*
 * Accounts and projects in the LMDB store (DB_USERS, DB_PROJECTS). Each change is one write
 * transaction with its audit record. Host uids are allocated from meta["next_uid"] starting at
 * ACCOUNT_UID_BASE and never reused, so a deleted account's files can never be claimed by a new
 * one.
 */
#ifndef WSGATE_ACCOUNT_H
#define WSGATE_ACCOUNT_H

#include <stdint.h>
#include <sys/types.h>

#include "common/names.h"
#include "common/store.h"
#include "policy/role.h"

#define ACCOUNT_UID_BASE 200000u
#define PROJECT_GID_BASE 300000u
#define ACCOUNT_MAX_PROJECTS 16
#define ACCOUNT_MAX_ZONES 16
#define ACCOUNT_MAX_KEYS 8

struct account {
	char name[NAME_MAX_LEN + 1];
	enum role role;
	char projects[ACCOUNT_MAX_PROJECTS][NAME_MAX_LEN + 1];
	unsigned nprojects;
	char zones[ACCOUNT_MAX_ZONES][NAME_MAX_LEN + 1];
	unsigned nzones;
	uint64_t expires; /* epoch seconds of the end of the expiry day (UTC); 0 = never */
	int locked;	  /* locked by an admin (lockout after failures lives in DB_AUTHSTATE) */
	uid_t uid;	  /* host uid the account's sandboxes run as; never 0, never reused */
	uint64_t created;
	/* scrypt hash: N, r, p stored so they can be raised later; empty hash = no password set */
	uint64_t scrypt_n;
	uint32_t scrypt_r, scrypt_p;
	uint8_t salt[16];
	uint8_t pwhash[32];
	int has_password;
	/* OpenSSH public keys, "type base64" (comment dropped) */
	char keys[ACCOUNT_MAX_KEYS][1024];
	unsigned nkeys;
	/* TOTP seed sealed with AES-256-GCM (aad = account name); 0 length = not enrolled */
	uint8_t totp_sealed[64 + 28];
	size_t totp_sealed_len;
};

struct project {
	char name[NAME_MAX_LEN + 1];
	uint32_t max_accounts; /* 0 = no limit */
	gid_t gid;
	uint64_t created;
};

/* Read in the caller's transaction. Return 0, STORE_NOTFOUND or <0. */
int account_get(struct store *st, MDB_txn *txn, const char *name, struct account *out);
int project_get(struct store *st, MDB_txn *txn, const char *name, struct project *out);
/* Writes (overwrites) the record; the caller commits. */
int account_put(struct store *st, MDB_txn *txn, const struct account *a);
/* Is the account a member of the project? */
int account_in_project(const struct account *a, const char *project);
int account_in_zone(const struct account *a, const char *zone);
/* Wipes secrets held in the struct (hash, sealed seed). */
void account_wipe(struct account *a);

/* Additions for wsgatectl (same transaction rules as above). */
int account_del(struct store *st, MDB_txn *txn, const char *name); /* 0, STORE_NOTFOUND, <0 */
int project_put(struct store *st, MDB_txn *txn, const struct project *p);
/* Visit every record in name order; fn returns 0 to go on, anything else stops and is returned.
 * A record that does not decode makes the walk return <0. */
int account_foreach(struct store *st, MDB_txn *txn, int (*fn)(const struct account *a, void *arg),
		    void *arg);
int project_foreach(struct store *st, MDB_txn *txn, int (*fn)(const struct project *p, void *arg),
		    void *arg);
/* Number of accounts that are members of the project. Returns 0 or <0. */
int project_member_count(struct store *st, MDB_txn *txn, const char *project, unsigned *n);

#endif
