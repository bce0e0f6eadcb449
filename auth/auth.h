/*
 * The one place that decides a login attempt. The gateway's privileged monitor calls auth_decide
 * for each step the client takes (first factor: password or verified public key; second: TOTP).
 * Every step re-checks everything (zone, account state, expiry, lockout, address throttling), so
 * a step can never be reached around the others. The caller gets ok or not; the precise reason
 * goes to the audit log and out->reason, never to the client.
 */
#ifndef WSGATE_AUTH_H
#define WSGATE_AUTH_H

#include <stdint.h>
#include <sys/socket.h>

#include "common/store.h"
#include "policy/account.h"
#include "policy/config.h"

enum auth_step { AUTH_STEP_PASSWORD = 1, AUTH_STEP_PUBKEY = 2, AUTH_STEP_TOTP = 3 };

struct auth_request {
	enum auth_step step;
	const char *login;	     /* as the client sent it: "user" or "user+project" */
	const struct sockaddr *peer; /* source address */
	/* password, public key, or the code. A key is compared byte for byte with what
	 * `wsgatectl user key` stored: build it as ssh_key_type_to_char(ssh_key_type(k)),
	 * " ", ssh_pki_export_pubkey_base64(k). */
	const char *secret;
	uint64_t now; /* epoch seconds (injected for tests) */
};

struct auth_decision {
	int ok;
	char reason[160];		/* precise, for the audit log only */
	struct account acct;		/* filled when ok */
	char project[NAME_MAX_LEN + 1]; /* resolved project ("" for admins) */
	char zone[NAME_MAX_LEN + 1];
	char area[NAME_MAX_LEN + 1];
};

/* Returns 0 with out->ok set, or <0 on an internal error (treat as failure). Failures are
 * counted for lockout and throttling and audited (login.fail); a passed TOTP step records the
 * time step (refused again after) and audits login.ok. */
int auth_decide(struct store *st, const struct config *cfg, const struct auth_request *req,
		struct auth_decision *out);

/*
 * Is a login that auth_decide accepted (dec, from peer) still allowed now? Re-reads the account
 * and checks everything the login decided except the factors: the account still exists and is
 * the same one (same uid: a deleted and re-added name is another account), is not locked, has
 * not expired, has the same role; the peer address is, under cfg as it is now, still in the zone
 * the login was in, that zone still maps to the same area and is still listed for the account;
 * a project member is still a member and the project still exists. Failure lockout is not
 * checked: failed attempts by others must not end a live session. Read-only, audits nothing.
 * Returns 1 (allowed), 0 (revoked, why says why), or <0 (the store could not be read, why).
 */
int auth_still_allowed(struct store *st, const struct config *cfg, const struct auth_decision *dec,
		       const struct sockaddr *peer, uint64_t now, char *why, size_t whylen);

/* For the public key "query" that precedes a signature (RFC 4252 sect. 7): is this key
 * ("type base64") registered for the login? Read-only, counts nothing, audits nothing: an SSH
 * client offers every key it holds, and counting each offer would lock accounts out. The
 * signed attempt that follows must still go through auth_decide. Returns 1, 0, or <0. */
int auth_pubkey_known(struct store *st, const char *login, const char *key);

/* The lockout policy of a config (lockout_* keys) for accounts and, LOCKOUT_ADDR_FACTOR times
 * larger, for addresses. */
struct lockout_policy;
void auth_policy(const struct config *cfg, struct lockout_policy *acct,
		 struct lockout_policy *addr);

#endif
