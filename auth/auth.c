/*
 * auth_decide: every login step passes here, and every step re-checks the whole policy in one
 * LMDB write transaction, so counting a failure, recording an accepted TOTP step and writing the
 * audit record happen together or not at all, and two gateway processes cannot both accept the
 * same code (LMDB serialises writers).
 *
 * The checks run in a fixed order (address, account state, project, then the secret) and the
 * first one that fails gives the reason. The client only ever learns ok / not ok; the reason
 * goes to the audit log. A password step costs one scrypt, whether or not the account exists or
 * was refused earlier, so the time taken says nothing either; only a throttled address or a
 * locked account is refused before any hashing, and waits as long instead (SPEC "Limits under
 * attack"). That scrypt runs before the write transaction (see precompute_password) so that the
 * writer lock is never held for it.
 */
#include "auth/auth.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "auth/lockout.h"
#include "auth/password.h"
#include "auth/totp.h"
#include "common/audit.h"
#include "common/utctime.h"
#include "common/why.h"

#define LOGIN_MAX (2 * NAME_MAX_LEN + 1) /* "user+project" */

struct attempt {
	const struct auth_request *req;
	char user[NAME_MAX_LEN + 1];
	char project[NAME_MAX_LEN + 1];
	int login_valid;
	int have_acct;
	int from_own_zone; /* the source is in one of the account's zones */
	uint8_t akey[9];
	size_t aklen;
	char addr[INET6_ADDRSTRLEN];
	struct authstate ustate;
	struct authstate astate;
	struct lockout_policy upol, apol;
	/* Password step: the scrypt result, computed before the write transaction against the
	 * hash in pw_salt/pw_hash/pw_n/r/p (pw_checked = 0 when there was no hash to check). */
	int pw_checked, pw_ok;
	uint8_t pw_salt[16], pw_hash[32];
	uint64_t pw_n;
	uint32_t pw_r, pw_p;
	/* The address was throttled or the account locked when the attempt began: no hash. */
	int pw_refused_early;
	/* The right password against a hash weaker than password_target: its new hash, made
	 * before the write transaction like the check itself (upgrade.salt/pwhash/scrypt_*). */
	int pw_upgrade;
	struct account upgrade;
};

static const char *
step_name(enum auth_step s)
{
	switch (s) {
	case AUTH_STEP_PASSWORD:
		return "password";
	case AUTH_STEP_PUBKEY:
		return "publickey";
	case AUTH_STEP_TOTP:
		return "totp";
	}
	return "?";
}

void
auth_policy(const struct config *cfg, struct lockout_policy *acct, struct lockout_policy *addr)
{
	acct->limit = cfg->lockout_failures;
	acct->window = cfg->lockout_window;
	acct->time = cfg->lockout_time;
	*addr = *acct;
	addr->limit = cfg->lockout_failures > LOCKOUT_MAX_TIMES / LOCKOUT_ADDR_FACTOR
			  ? LOCKOUT_MAX_TIMES
			  : cfg->lockout_failures * LOCKOUT_ADDR_FACTOR;
}

/* "user" or "user+project", each part a valid name. */
static int
parse_login(const char *login, char *user, char *project)
{
	const char *plus;
	size_t ulen, len = strnlen(login, LOGIN_MAX + 1);

	user[0] = project[0] = '\0';
	if (len > LOGIN_MAX)
		return -1;
	plus = strchr(login, '+');
	ulen = plus ? (size_t)(plus - login) : len;
	if (ulen > NAME_MAX_LEN)
		return -1;
	memcpy(user, login, ulen);
	user[ulen] = '\0';
	if (plus) {
		if (strlen(plus + 1) > NAME_MAX_LEN)
			return -1;
		strcpy(project, plus + 1);
		if (!name_valid(project))
			return -1;
	}
	return name_valid(user) ? 0 : -1;
}

static int
resolve_project(struct store *st, MDB_txn *txn, struct attempt *at, struct auth_decision *out)
{
	const struct account *a = &out->acct;
	struct project p;

	if (a->role == ROLE_ADMIN) {
		if (at->project[0]) {
			snprintf(out->reason, sizeof(out->reason), "admin account has no project");
			return -1;
		}
		return 0;
	}
	if (at->project[0]) {
		if (!account_in_project(a, at->project)) {
			snprintf(out->reason, sizeof(out->reason), "not a member of project %s",
				 at->project);
			return -1;
		}
		snprintf(out->project, sizeof(out->project), "%s", at->project);
	} else if (a->nprojects == 1) {
		snprintf(out->project, sizeof(out->project), "%s", a->projects[0]);
	} else if (a->nprojects == 0) {
		snprintf(out->reason, sizeof(out->reason), "account has no project");
		return -1;
	} else {
		snprintf(out->reason, sizeof(out->reason), "login names no project (member of %u)",
			 a->nprojects);
		return -1;
	}
	if (project_get(st, txn, out->project, &p) != 0) {
		snprintf(out->reason, sizeof(out->reason), "project %s does not exist",
			 out->project);
		return -1;
	}
	return 0;
}

/* The account checks the login and the re-check share: locked, expired. 0 or -1 with why. */
static int
account_usable(const struct account *a, uint64_t now, char *why, size_t whylen)
{
	char day[32];

	if (a->locked)
		return why_set(why, whylen, "account locked by an administrator");
	if (a->expires && now > a->expires) {
		if (utc_format(a->expires, UTC_DAY, day, sizeof(day)) < 0)
			snprintf(day, sizeof(day), "%llu", (unsigned long long)a->expires);
		return why_set(why, whylen, "account expired on %s", day);
	}
	return 0;
}

/* Everything but the secret. Returns 0 if the attempt may go on to its secret. */
static int
precheck(struct store *st, MDB_txn *txn, const struct config *cfg, struct attempt *at,
	 struct auth_decision *out)
{
	const struct zone *z = config_zone_for(cfg, at->req->peer);
	const struct account *a = &out->acct;
	uint64_t now = at->req->now, until;

	if (z) {
		snprintf(out->zone, sizeof(out->zone), "%s", z->name);
		snprintf(out->area, sizeof(out->area), "%s", z->area);
	}
	at->from_own_zone = z && at->have_acct && account_in_zone(a, z->name);
	if (!at->aklen) {
		snprintf(out->reason, sizeof(out->reason), "unsupported address family");
		return -1;
	}
	if (!z) {
		snprintf(out->reason, sizeof(out->reason), "address in no zone");
		return -1;
	}
	if (lockout_locked(&at->astate, now, &until)) {
		snprintf(out->reason, sizeof(out->reason), "address throttled for %llus",
			 (unsigned long long)(until - now));
		return -1;
	}
	if (!at->login_valid) {
		snprintf(out->reason, sizeof(out->reason), "invalid login name");
		return -1;
	}
	if (!at->have_acct) {
		snprintf(out->reason, sizeof(out->reason), "unknown account");
		return -1;
	}
	if (account_usable(a, now, out->reason, sizeof(out->reason)) != 0)
		return -1;
	if (lockout_locked(&at->ustate, now, &until)) {
		snprintf(out->reason, sizeof(out->reason), "account locked out for %llus",
			 (unsigned long long)(until - now));
		return -1;
	}
	if (!account_in_zone(a, z->name)) {
		snprintf(out->reason, sizeof(out->reason), "zone %s not allowed for this account",
			 z->name);
		return -1;
	}
	return resolve_project(st, txn, at, out);
}

/*
 * SPEC "Limits under attack": a throttled address or a locked account is refused before any
 * hashing, so guesses from there cost the gateway no CPU. The refusal still waits about as long
 * as a hash (password_delay, a sleep in this connection's own monitor), so that it does not tell
 * a locked account from an unknown one. The write transaction re-checks both and gives the
 * audited reason.
 */
static int
refused_before_hashing(struct store *st, MDB_txn *txn, struct attempt *at, const struct account *a,
		       int have_acct)
{
	struct authstate *s = calloc(1, sizeof(*s));
	uint64_t until, now = at->req->now;
	int refused = 0;

	if (s == NULL)
		return 0;
	if (at->aklen && authstate_get(st, txn, DB_ADDRSTATE, at->akey, at->aklen, s) == 0 &&
	    lockout_locked(s, now, &until))
		refused = 1;
	if (!refused && have_acct &&
	    (a->locked ||
	     (authstate_get(st, txn, DB_AUTHSTATE, at->user, strlen(at->user), s) == 0 &&
	      lockout_locked(s, now, &until))))
		refused = 1;
	free(s);
	return refused;
}

/* The right password on a weak hash: hash it again with today's parameters, still outside the
 * writer lock. record_success stores it if the stored hash has not changed meanwhile. */
static void
prepare_upgrade(struct attempt *at, const struct account *a, const char *pw, size_t len)
{
	if (!at->pw_ok || !password_needs_upgrade(a))
		return;
	at->pw_upgrade = password_set(&at->upgrade, pw, len, password_target.n, password_target.r,
				      password_target.p) == 0;
}

/*
 * scrypt takes a third of a second or more; run inside the write transaction it would hold
 * LMDB's single writer lock that long and serialise every login and airlock write behind it.
 * So the hash is computed first, in a read transaction, against the stored hash as it was then,
 * and the write transaction only uses the result if the stored hash is still the same bytes.
 * Exactly one scrypt runs per password step whatever the account (a dummy one when there is no
 * hash to check), so the time taken does not tell an unknown account from a wrong password; the
 * exception is a refusal before hashing (above), which sleeps instead. A right password on a
 * weak hash costs a second scrypt, its rehash.
 */
static void
precompute_password(struct store *st, struct attempt *at)
{
	const char *pw = at->req->secret;
	size_t len = strnlen(pw, PASSWORD_MAX + 1);
	struct account *a = calloc(1, sizeof(*a));
	MDB_txn *txn;
	int rc = -1;

	if (a && len <= PASSWORD_MAX && at->login_valid && store_begin(st, 1, &txn) == 0) {
		rc = account_get(st, txn, at->user, a);
		at->pw_refused_early = refused_before_hashing(st, txn, at, a, rc == 0);
		store_abort(txn);
	} else if (a && at->aklen && store_begin(st, 1, &txn) == 0) {
		at->pw_refused_early = refused_before_hashing(st, txn, at, a, 0);
		store_abort(txn);
	}
	if (at->pw_refused_early) {
		password_delay();
	} else if (rc == 0 && a->has_password) {
		at->pw_checked = 1;
		at->pw_ok = password_verify(a, pw, len) == 1;
		memcpy(at->pw_salt, a->salt, sizeof(at->pw_salt));
		memcpy(at->pw_hash, a->pwhash, sizeof(at->pw_hash));
		at->pw_n = a->scrypt_n;
		at->pw_r = a->scrypt_r;
		at->pw_p = a->scrypt_p;
		prepare_upgrade(at, a, pw, len);
	} else {
		password_dummy(pw, len > PASSWORD_MAX ? PASSWORD_MAX : len);
	}
	if (a) {
		account_wipe(a);
		free(a);
	}
}

static int
check_password(struct attempt *at, struct auth_decision *out)
{
	const struct account *a = &out->acct;

	if (strnlen(at->req->secret, PASSWORD_MAX + 1) > PASSWORD_MAX) {
		snprintf(out->reason, sizeof(out->reason), "password too long");
		return -1;
	}
	if (!a->has_password) {
		snprintf(out->reason, sizeof(out->reason), "no password set");
		return -1;
	}
	if (at->pw_refused_early) {
		snprintf(out->reason, sizeof(out->reason),
			 "locked or throttled when the attempt began");
		return -1;
	}
	if (!at->pw_checked || at->pw_n != a->scrypt_n || at->pw_r != a->scrypt_r ||
	    at->pw_p != a->scrypt_p || CRYPTO_memcmp(at->pw_salt, a->salt, sizeof(a->salt)) != 0 ||
	    CRYPTO_memcmp(at->pw_hash, a->pwhash, sizeof(a->pwhash)) != 0) {
		snprintf(out->reason, sizeof(out->reason), "password changed during the attempt");
		return -1;
	}
	if (at->pw_ok)
		return 0;
	snprintf(out->reason, sizeof(out->reason), "wrong password");
	return -1;
}

static int
key_registered(const struct account *a, const char *key)
{
	size_t len = strnlen(key, sizeof(a->keys[0]));

	if (len == 0 || len >= sizeof(a->keys[0]))
		return 0;
	for (unsigned i = 0; i < a->nkeys; i++)
		if (strlen(a->keys[i]) == len && CRYPTO_memcmp(a->keys[i], key, len) == 0)
			return 1;
	return 0;
}

static int
check_pubkey(struct attempt *at, struct auth_decision *out)
{
	if (out->acct.nkeys == 0) {
		snprintf(out->reason, sizeof(out->reason), "no public key registered");
		return -1;
	}
	if (!key_registered(&out->acct, at->req->secret)) {
		snprintf(out->reason, sizeof(out->reason), "public key not registered");
		return -1;
	}
	return 0;
}

static int
check_totp(struct store *st, struct attempt *at, struct auth_decision *out)
{
	uint8_t seed[TOTP_SEED_MAX];
	size_t n = 0;
	uint64_t step = 0;
	int rc;

	if (out->acct.totp_sealed_len == 0) {
		snprintf(out->reason, sizeof(out->reason), "totp not enrolled");
		return -1;
	}
	if (totp_open(store_secrets(st), &out->acct, seed, &n) < 0) {
		snprintf(out->reason, sizeof(out->reason), "totp seed cannot be decrypted");
		return -1;
	}
	rc = totp_check(seed, n, at->req->now, at->req->secret, &step);
	OPENSSL_cleanse(seed, sizeof(seed));
	if (rc == -2) {
		snprintf(out->reason, sizeof(out->reason), "totp code malformed");
		return -1;
	}
	if (rc < 0) {
		snprintf(out->reason, sizeof(out->reason), "wrong totp code");
		return -1;
	}
	/* RFC 6238 sect. 5.2: a verifier must not accept the second attempt of the same OTP.
	 * Like pam_oath, an older step of the window than an accepted one is refused too. The
	 * steps accepted are a set, not a line (lockout.h): a clock set back does not lock
	 * everyone out until it catches up, and a code is still accepted once. */
	if ((rc = authstate_step_used(&at->ustate, step)) != 0) {
		snprintf(out->reason, sizeof(out->reason),
			 "totp code replayed (step %llu%s, last accepted %llu)",
			 (unsigned long long)step,
			 rc == 2 ? ", older than an accepted code of its window" : "",
			 (unsigned long long)at->ustate.last_step);
		return -1;
	}
	authstate_step_accept(&at->ustate, step);
	return 0;
}

static int
check_secret(struct store *st, struct attempt *at, struct auth_decision *out)
{
	switch (at->req->step) {
	case AUTH_STEP_PASSWORD:
		return check_password(at, out);
	case AUTH_STEP_PUBKEY:
		return check_pubkey(at, out);
	case AUTH_STEP_TOTP:
		return check_totp(st, at, out);
	}
	snprintf(out->reason, sizeof(out->reason), "unknown authentication step");
	return -1;
}

/*
 * counted = 0 for a public key whose signature libssh verified but that is not registered:
 * guessing a key is infeasible, so counting it protects nothing, while an SSH agent that offers
 * several keys would otherwise lock its owner out on every login. It is still audited.
 */
static int
record_failure(struct store *st, MDB_txn *txn, struct attempt *at, struct auth_decision *out,
	       int counted)
{
	const char *actor = at->have_acct ? at->user : "-";
	char qlogin[2 * LOGIN_MAX + 8], qreason[2 * sizeof(out->reason)];
	char login[LOGIN_MAX + 1];
	uint64_t now = at->req->now;
	int rc;

	snprintf(login, sizeof(login), "%s", at->req->login);
	audit_quote(login, qlogin, sizeof(qlogin));
	audit_quote(out->reason, qreason, sizeof(qreason));
	if ((rc = audit_append(st, txn, actor, "login.fail",
			       "login=%s addr=%s zone=%s step=%s reason=%s", qlogin,
			       at->addr[0] ? at->addr : "-", out->zone[0] ? out->zone : "-",
			       step_name(at->req->step), qreason)) < 0)
		return rc;
	if (!counted)
		return 0;
	if (at->aklen) {
		if (lockout_fail(&at->astate, &at->apol, now) &&
		    (rc = audit_append(st, txn, "-", "login.throttle", "addr=%s seconds=%llu",
				       at->addr, (unsigned long long)at->apol.time)) < 0)
			return rc;
		if ((rc = authstate_put(st, txn, DB_ADDRSTATE, at->akey, at->aklen, &at->astate)) <
			0 ||
		    (rc = lockout_sweep(st, txn, at->akey, at->aklen, &at->apol, now, 4)) < 0)
			return rc;
	}
	/* A failure counts against the account only if it came from one of the account's zones:
	 * from anywhere else it could never have succeeded, and counting it would let anyone in
	 * any zone (another organisation's office) lock this account out. The address counts. */
	if (at->have_acct && at->from_own_zone) {
		if (lockout_fail(&at->ustate, &at->upol, now) &&
		    (rc = audit_append(st, txn, at->user, "login.lockout", "addr=%s seconds=%llu",
				       at->addr, (unsigned long long)at->upol.time)) < 0)
			return rc;
		if ((rc = authstate_put(st, txn, DB_AUTHSTATE, at->user, strlen(at->user),
					&at->ustate)) < 0)
			return rc;
	}
	return 0;
}

/* Stores the hash prepare_upgrade made; check_password has just seen that the stored one is
 * still the hash the password was checked against. */
static int
record_upgrade(struct store *st, MDB_txn *txn, struct attempt *at, struct auth_decision *out)
{
	struct account *a = &out->acct;
	uint64_t old_n = a->scrypt_n;
	uint32_t old_r = a->scrypt_r, old_p = a->scrypt_p;
	int rc;

	memcpy(a->salt, at->upgrade.salt, sizeof(a->salt));
	memcpy(a->pwhash, at->upgrade.pwhash, sizeof(a->pwhash));
	a->scrypt_n = at->upgrade.scrypt_n;
	a->scrypt_r = at->upgrade.scrypt_r;
	a->scrypt_p = at->upgrade.scrypt_p;
	if ((rc = account_put(st, txn, a)) < 0)
		return rc;
	return audit_append(st, txn, at->user, "login.rehash",
			    "from=N%llu,r%u,p%u to=N%llu,r%u,p%u", (unsigned long long)old_n, old_r,
			    old_p, (unsigned long long)a->scrypt_n, a->scrypt_r, a->scrypt_p);
}

/* A passed TOTP step completes the login: remember its time step, forget past failures. */
static int
record_success(struct store *st, MDB_txn *txn, struct attempt *at, struct auth_decision *out)
{
	int rc;

	if (at->req->step == AUTH_STEP_PASSWORD && at->pw_upgrade)
		return record_upgrade(st, txn, at, out);
	if (at->req->step != AUTH_STEP_TOTP)
		return 0;
	lockout_clear(&at->ustate);
	if ((rc = authstate_put(st, txn, DB_AUTHSTATE, at->user, strlen(at->user), &at->ustate)) <
	    0)
		return rc;
	return audit_append(st, txn, at->user, "login.ok", "addr=%s zone=%s area=%s project=%s",
			    at->addr, out->zone, out->area, out->project[0] ? out->project : "-");
}

static int
load_state(struct store *st, MDB_txn *txn, struct attempt *at, struct auth_decision *out)
{
	int rc;

	if (at->aklen && authstate_get(st, txn, DB_ADDRSTATE, at->akey, at->aklen, &at->astate) < 0)
		memset(&at->astate, 0, sizeof(at->astate)); /* damaged: start again, not deny all */
	if (!at->login_valid)
		return 0;
	rc = account_get(st, txn, at->user, &out->acct);
	if (rc < 0)
		return rc;
	at->have_acct = rc == 0;
	if (at->have_acct && (rc = authstate_get(st, txn, DB_AUTHSTATE, at->user, strlen(at->user),
						 &at->ustate)) < 0)
		return rc;
	return 0;
}

/* Adds a store failure to the reason, after the verdict already there, for login.error. */
static void
reason_store(struct auth_decision *out, const char *what, int rc)
{
	size_t n = strlen(out->reason);

	snprintf(out->reason + n, sizeof(out->reason) - n, "%s%s: %s", n ? "; " : "", what,
		 store_strerror(rc));
}

int
auth_decide(struct store *st, const struct config *cfg, const struct auth_request *req,
	    struct auth_decision *out)
{
	struct attempt *at;
	MDB_txn *txn = NULL;
	int rc = -1, pass, counted;

	memset(out, 0, sizeof(*out));
	if (!req || !req->login || !req->peer || !req->secret)
		return -1;
	/* struct authstate is a few KB each; keep them off the monitor's stack. */
	if ((at = calloc(1, sizeof(*at))) == NULL)
		return -1;
	at->req = req;
	auth_policy(cfg, &at->upol, &at->apol);
	at->login_valid = parse_login(req->login, at->user, at->project) == 0;
	if (lockout_addr_key(req->peer, at->akey, &at->aklen, at->addr, sizeof(at->addr)) < 0)
		at->aklen = 0;
	if (req->step == AUTH_STEP_PASSWORD)
		precompute_password(st, at);
	if ((rc = store_begin(st, 0, &txn)) < 0) {
		reason_store(out, "store", rc);
		goto out;
	}
	if ((rc = load_state(st, txn, at, out)) < 0) {
		reason_store(out, "account record cannot be read", rc);
		goto out;
	}
	pass = precheck(st, txn, cfg, at, out) == 0;
	counted = !(pass && req->step == AUTH_STEP_PUBKEY);
	if (pass)
		pass = check_secret(st, at, out) == 0;
	rc = pass ? record_success(st, txn, at, out) : record_failure(st, txn, at, out, counted);
	if (rc < 0) {
		reason_store(out, "store: cannot record the attempt", rc);
		goto out;
	}
	rc = store_commit(txn);
	txn = NULL;
	if (rc < 0)
		reason_store(out, "store: commit", rc);
	if (rc == 0 && pass) {
		out->ok = 1;
		out->reason[0] = '\0';
	}
out:
	store_abort(txn);
	if (rc < 0) {
		if (!out->reason[0])
			snprintf(out->reason, sizeof(out->reason), "internal error");
		/* Best effort: the store may be what failed. */
		(void)audit_log(st, "-", "login.error", "user=%s addr=%s step=%s reason=\"%s\"",
				at->login_valid ? at->user : "-", at->addr[0] ? at->addr : "-",
				step_name(req->step), out->reason);
	}
	if (!out->ok) {
		account_wipe(&out->acct);
		out->project[0] = '\0';
	}
	OPENSSL_cleanse(at, sizeof(*at));
	free(at);
	return rc < 0 ? -1 : 0;
}

/* 0 allowed, -1 revoked, -2 the store failed; why says which. */
static int
still_allowed(struct store *st, MDB_txn *txn, const struct config *cfg,
	      const struct auth_decision *dec, const struct account *a, const struct sockaddr *peer,
	      uint64_t now, char *why, size_t whylen)
{
	const struct zone *z = config_zone_for(cfg, peer);
	struct project p;
	int rc;

	if (a->uid != dec->acct.uid)
		return why_set(why, whylen, "account deleted (the name is another account now)");
	if (account_usable(a, now, why, whylen) != 0)
		return -1;
	if (a->role != dec->acct.role)
		return why_set(why, whylen, "role changed from %s to %s", role_name(dec->acct.role),
			       role_name(a->role));
	if (z == NULL || strcmp(z->name, dec->zone) != 0)
		return why_set(why, whylen, "zone %s no longer includes this address", dec->zone);
	if (strcmp(z->area, dec->area) != 0)
		return why_set(why, whylen, "zone %s now maps to area %s, not %s", z->name, z->area,
			       dec->area);
	if (!account_in_zone(a, z->name))
		return why_set(why, whylen, "zone %s taken off the account", z->name);
	if (a->role == ROLE_ADMIN)
		return 0;
	if (!account_in_project(a, dec->project))
		return why_set(why, whylen, "removed from project %s", dec->project);
	if ((rc = project_get(st, txn, dec->project, &p)) < 0) {
		why_set(why, whylen, "project %s: %s", dec->project, store_strerror(rc));
		return -2; /* not a verdict */
	}
	if (rc != 0)
		return why_set(why, whylen, "project %s deleted", dec->project);
	return 0;
}

int
auth_still_allowed(struct store *st, const struct config *cfg, const struct auth_decision *dec,
		   const struct sockaddr *peer, uint64_t now, char *why, size_t whylen)
{
	struct account *a;
	MDB_txn *txn = NULL;
	int rc;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return why_set(why, whylen, "out of memory");
	if ((rc = store_begin(st, 1, &txn)) != 0) {
		free(a);
		return why_set(why, whylen, "store: %s", store_strerror(rc));
	}
	rc = account_get(st, txn, dec->acct.name, a);
	if (rc < 0)
		why_set(why, whylen, "account record cannot be read: %s", store_strerror(rc));
	else if (rc > 0)
		rc = 0, why_set(why, whylen, "account deleted");
	else if ((rc = still_allowed(st, txn, cfg, dec, a, peer, now, why, whylen)) != -2)
		rc = rc == 0;
	store_abort(txn);
	account_wipe(a);
	free(a);
	return rc;
}

int
auth_pubkey_known(struct store *st, const char *login, const char *key)
{
	char user[NAME_MAX_LEN + 1], project[NAME_MAX_LEN + 1];
	struct account a;
	MDB_txn *txn;
	int rc;

	if (!login || !key || parse_login(login, user, project) < 0)
		return 0;
	if (store_begin(st, 1, &txn) < 0)
		return -1;
	rc = account_get(st, txn, user, &a);
	store_abort(txn);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	rc = !a.locked && key_registered(&a, key);
	account_wipe(&a);
	return rc;
}
