/*
 * auth/ unit tests: TOTP against RFC 6238 and oathtool, replay and window edges, lockout and
 * throttling with an injected clock, and every refusal reason of auth_decide. Each test runs on
 * a real LMDB store in its own temporary directory, with a config built in code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <liboath/oath.h>
#include <lmdb.h>

#include "auth/auth.h"
#include "auth/lockout.h"
#include "auth/password.h"
#include "auth/totp.h"
#include "common/audit.h"
#include "common/nitems.h"

/* RFC 6238 appendix B: the SHA-1 seed is the ASCII string "12345678901234567890". */
static const uint8_t rfc_seed[20] = "12345678901234567890";
#define T0 1750000020ull /* a step boundary (multiple of 30), mid-2025 */
#define TEST_N 1024	 /* cheap scrypt for test accounts; the stored N is what is used */

struct fixture {
	char dir[64];
	struct store *st;
	struct config *cfg;
};

static void
set_cidr4(struct cidr *c, const char *addr, unsigned prefix)
{
	c->family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, addr, c->addr), 1);
	c->prefix = prefix;
}

static void
add_zone(struct config *cfg, const char *name, const char *area, const char *net, unsigned pfx)
{
	struct zone *z = &cfg->zones[cfg->nzones++];

	snprintf(z->name, sizeof(z->name), "%s", name);
	snprintf(z->area, sizeof(z->area), "%s", area);
	set_cidr4(&z->nets[0], net, pfx);
	z->nnets = 1;
}

static void
put_project(struct fixture *f, const char *name, gid_t gid)
{
	struct project p = {0};
	MDB_txn *txn;

	snprintf(p.name, sizeof(p.name), "%s", name);
	p.gid = gid;
	assert_int_equal(store_begin(f->st, 0, &txn), 0);
	assert_int_equal(project_put(f->st, txn, &p), 0);
	assert_int_equal(store_commit(txn), 0);
}

/* An account in zone "office" with password "pw", the RFC seed and one key. */
static void
put_account(struct fixture *f, const char *name, enum role role, const char *p1, const char *p2,
	    uid_t uid)
{
	struct account a;
	MDB_txn *txn;

	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "%s", name);
	a.role = role;
	if (p1)
		snprintf(a.projects[a.nprojects++], NAME_MAX_LEN + 1, "%s", p1);
	if (p2)
		snprintf(a.projects[a.nprojects++], NAME_MAX_LEN + 1, "%s", p2);
	snprintf(a.zones[a.nzones++], NAME_MAX_LEN + 1, "office");
	a.uid = uid;
	assert_int_equal(password_set(&a, "pw", 2, TEST_N, 8, 1), 0);
	assert_int_equal(totp_seal(store_secrets(f->st), &a, rfc_seed, sizeof(rfc_seed)), 0);
	snprintf(a.keys[a.nkeys++], sizeof(a.keys[0]), "ssh-ed25519 AAAAtestkey");
	assert_int_equal(store_begin(f->st, 0, &txn), 0);
	assert_int_equal(account_put(f->st, txn, &a), 0);
	assert_int_equal(store_commit(txn), 0);
	account_wipe(&a);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128], why[256];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/wsgate-auth-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/secrets.key", f->dir);
	assert_int_equal(secrets_create(path), 0);
	assert_int_equal(store_open(f->dir, 1, &f->st, why, sizeof(why)), 0);
	f->cfg = calloc(1, sizeof(*f->cfg));
	assert_non_null(f->cfg);
	/* New and dummy hashes as cheap as the test accounts', so that nothing is rehashed
	 * unless a test raises the target (test_rehash). */
	password_target.n = TEST_N;
	password_target.r = 8;
	password_target.p = 1;
	f->cfg->lockout_failures = 3;
	f->cfg->lockout_window = 900;
	f->cfg->lockout_time = 600;
	add_zone(f->cfg, "office", "remote", "127.0.0.0", 8);
	add_zone(f->cfg, "onsite", "onsite", "10.10.0.0", 24);
	put_project(f, "p1", 300000);
	put_project(f, "p2", 300001);
	put_account(f, "alice", ROLE_ANALYST, "p1", NULL, 200000);
	put_account(f, "bob", ROLE_ANALYST, "p1", "p2", 200001);
	put_account(f, "root1", ROLE_ADMIN, NULL, NULL, 200002);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store_close(f->st);
	free(f->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct sockaddr_in
addr4(const char *a)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	assert_int_equal(inet_pton(AF_INET, a, &sin.sin_addr), 1);
	return sin;
}

/* One auth_decide call; returns out.ok and leaves the reason in why. */
static int
attempt(struct fixture *f, enum auth_step step, const char *login, const char *peer,
	const char *secret, uint64_t now, struct auth_decision *out)
{
	struct sockaddr_in sin = addr4(peer);
	struct auth_request req = {step, login, (struct sockaddr *)&sin, secret, now};

	assert_int_equal(auth_decide(f->st, f->cfg, &req, out), 0);
	return out->ok;
}

/* The 6-digit code of the RFC seed at a time. */
static void
code_at(uint64_t t, char out[7])
{
	assert_int_equal(oath_totp_generate2((const char *)rfc_seed, sizeof(rfc_seed), (time_t)t,
					     30, 0, 6, 0, out),
			 OATH_OK);
}

static void
test_rfc6238_vectors(void **state)
{
	static const struct {
		uint64_t t;
		const char *code;
	} v[] = {
	    {59, "94287082"},	      {1111111109, "07081804"}, {1111111111, "14050471"},
	    {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000ull, "65353130"},
	};
	char out[16];
	uint64_t step;

	(void)state;
	assert_int_equal(oath_init(), OATH_OK);
	for (size_t i = 0; i < nitems(v); i++) {
		assert_int_equal(oath_totp_generate2((const char *)rfc_seed, sizeof(rfc_seed),
						     (time_t)v[i].t, 30, 0, 8, 0, out),
				 OATH_OK);
		assert_string_equal(out, v[i].code);
		/* Six digits are the same truncation mod 10^6: the last six of the eight. */
		assert_int_equal(
		    totp_check(rfc_seed, sizeof(rfc_seed), v[i].t, v[i].code + 2, &step), 0);
		assert_int_equal(step, v[i].t / 30);
	}
	assert_int_equal(totp_check(rfc_seed, sizeof(rfc_seed), 59, "12345", &step), -2);
	assert_int_equal(totp_check(rfc_seed, sizeof(rfc_seed), 59, "12a456", &step), -2);
	assert_int_equal(totp_check(rfc_seed, sizeof(rfc_seed), 59, "2870820", &step), -2);
}

/* oathtool is the reference the SPEC names; run it at several times and compare. */
static void
test_oathtool_agreement(void **state)
{
	static const uint64_t times[] = {59, 1111111109, 1234567890, 1700000000,
					 T0, T0 + 29,	 2000000000};
	static const char *hexkeys[] = {"3132333435363738393031323334353637383930",
					"00ff10ee20dd30cc40bb50aa60997088806770ff"};
	static const uint8_t bin1[20] = {0x00, 0xff, 0x10, 0xee, 0x20, 0xdd, 0x30,
					 0xcc, 0x40, 0xbb, 0x50, 0xaa, 0x60, 0x99,
					 0x70, 0x88, 0x80, 0x67, 0x70, 0xff};
	const uint8_t *bins[] = {rfc_seed, bin1};
	char cmd[256], line[64];
	uint64_t step;

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; i < nitems(times); i++) {
			FILE *p;

			snprintf(cmd, sizeof(cmd), "oathtool --totp --now='@%llu' %s",
				 (unsigned long long)times[i], hexkeys[k]);
			p = popen(cmd, "r");
			assert_non_null(p);
			assert_non_null(fgets(line, sizeof(line), p));
			assert_int_equal(pclose(p), 0);
			line[strcspn(line, "\n")] = '\0';
			assert_int_equal(strlen(line), 6);
			assert_int_equal(totp_check(bins[k], 20, times[i], line, &step), 0);
			assert_int_equal(step, times[i] / 30);
		}
	}
}

static void
test_full_login_and_replay(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;
	char code[7];

	f->cfg->lockout_failures = 100; /* replays count as failures; keep lockout out of it */
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "pw", T0, &d));
	assert_string_equal(d.project, "p1");
	assert_string_equal(d.zone, "office");
	assert_string_equal(d.area, "remote");
	assert_int_equal(d.acct.uid, 200000);
	code_at(T0, code);
	assert_true(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0 + 5, &d));
	/* The same code again, still inside its step: refused (RFC 6238 sect. 5.2). */
	assert_false(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0 + 6, &d));
	assert_non_null(strstr(d.reason, "replayed"));
	/* The record is per account, not per address. */
	assert_false(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.2", code, T0 + 7, &d));
	assert_non_null(strstr(d.reason, "replayed"));
	/* The previous step's code is older than the accepted one: refused as well. */
	code_at(T0 - 30, code);
	assert_false(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0 + 8, &d));
	assert_non_null(strstr(d.reason, "replayed"));
	/* The next step is fine. */
	code_at(T0 + 30, code);
	assert_true(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0 + 31, &d));
}

static void
test_window_edges(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;
	char code[7];

	/* -2 and +2 steps: refused. */
	code_at(T0 - 60, code);
	assert_false(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0, &d));
	assert_string_equal(d.reason, "wrong totp code");
	code_at(T0 + 60, code);
	assert_false(attempt(f, AUTH_STEP_TOTP, "bob+p1", "127.0.0.1", code, T0, &d));
	assert_string_equal(d.reason, "wrong totp code");
	/* -1, 0, +1 accepted, in rising order as each must exceed the last. */
	code_at(T0 - 30, code);
	assert_true(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0, &d));
	code_at(T0, code);
	assert_true(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0, &d));
	code_at(T0 + 30, code);
	assert_true(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0, &d));
	/* The last second of a step accepts the next step's code; the first second of the next
	 * step accepts one step further, not two. */
	code_at(T0 + 30, code);
	assert_true(attempt(f, AUTH_STEP_TOTP, "bob+p2", "127.0.0.1", code, T0 + 29, &d));
	code_at(T0 + 90, code);
	assert_false(attempt(f, AUTH_STEP_TOTP, "bob+p2", "127.0.0.1", code, T0 + 30, &d));
	assert_string_equal(d.reason, "wrong totp code");
	code_at(T0 + 60, code);
	assert_true(attempt(f, AUTH_STEP_TOTP, "bob+p2", "127.0.0.1", code, T0 + 30, &d));
}

static void
test_lockout_and_expiry(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;

	for (int i = 0; i < 3; i++) {
		assert_false(
		    attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "bad", T0 + i, &d));
		assert_string_equal(d.reason, "wrong password");
	}
	/* Locked: even the right password fails, with the precise reason. */
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "pw", T0 + 10, &d));
	assert_non_null(strstr(d.reason, "locked out"));
	assert_false(attempt(f, AUTH_STEP_PUBKEY, "alice", "127.0.0.1", "ssh-ed25519 AAAAtestkey",
			     T0 + 2 + 599, &d));
	assert_non_null(strstr(d.reason, "locked out"));
	/* The lock ends lockout_time after the failure that started it. */
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "pw", T0 + 2 + 600, &d));
	/* Other accounts were never affected. */
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "bob+p1", "127.0.0.1", "pw", T0 + 10, &d));
}

/* An agent offering unregistered keys (signatures verified by libssh) must not lock its owner
 * out; a wrong password after them still counts. */
static void
test_unregistered_keys_not_counted(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;

	for (int i = 0; i < 10; i++) {
		assert_false(attempt(f, AUTH_STEP_PUBKEY, "alice", "127.0.0.1",
				     "ssh-ed25519 AAAAunregistered", T0 + i, &d));
		assert_string_equal(d.reason, "public key not registered");
	}
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "pw", T0 + 20, &d));
	for (int i = 0; i < 3; i++)
		assert_false(
		    attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "bad", T0 + 30 + i, &d));
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "pw", T0 + 40, &d));
	assert_non_null(strstr(d.reason, "locked out"));
}

/* Guesses from a zone the account does not list cannot succeed; they count against the
 * address only, so people in another organisation's zone cannot lock this account out. */
static void
test_foreign_zone_no_lockout(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;

	for (int i = 0; i < 6; i++) {
		assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "10.10.0.5", "x", T0 + i, &d));
		assert_string_equal(d.reason, "zone onsite not allowed for this account");
	}
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "pw", T0 + 10, &d));
	/* The address is counted: 12 failures from it throttle it. */
	for (int i = 6; i < 12; i++)
		assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "10.10.0.5", "x", T0 + i, &d));
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "10.10.0.5", "x", T0 + 20, &d));
	assert_non_null(strstr(d.reason, "address throttled"));
}

static void
test_failures_outside_window(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;
	char code[7];

	/* Two failures, then one more after the first has left the 900 s window: no lock. */
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "x", T0, &d));
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "x", T0 + 500, &d));
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "x", T0 + 900, &d));
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "pw", T0 + 901, &d));
	/* A full login resets the count: two more failures do not lock. */
	code_at(T0 + 901, code);
	assert_true(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0 + 901, &d));
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "x", T0 + 902, &d));
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "x", T0 + 903, &d));
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "pw", T0 + 904, &d));
}

static void
test_throttle(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;
	char login[32];

	/* 4 x lockout_failures = 12 failures from one address, spread over unknown accounts so
	 * no account lock is involved. */
	for (int i = 0; i < 12; i++) {
		snprintf(login, sizeof(login), "nobody%d", i);
		assert_false(attempt(f, AUTH_STEP_TOTP, login, "127.0.0.9", "123456", T0 + i, &d));
		assert_string_equal(d.reason, "unknown account");
	}
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.9", "pw", T0 + 20, &d));
	assert_non_null(strstr(d.reason, "address throttled"));
	/* Another address is not affected; nor is alice. */
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.10", "pw", T0 + 20, &d));
	/* The throttle ends lockout_time after it began. */
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.9", "pw", T0 + 11 + 600, &d));
}

static size_t
count_records(struct fixture *f, enum store_db db)
{
	MDB_txn *txn;
	size_t n;

	assert_int_equal(store_begin(f->st, 1, &txn), 0);
	assert_int_equal(store_count(f->st, txn, db, &n), 0);
	store_abort(txn);
	return n;
}

/* Address records of failures long past are swept as new failures come in, so the table does
 * not grow with every address that ever failed. */
static void
test_addr_sweep(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;
	char addr[32];

	for (int i = 1; i <= 50; i++) {
		snprintf(addr, sizeof(addr), "127.0.1.%d", i);
		assert_false(attempt(f, AUTH_STEP_TOTP, "nobody", addr, "123456", T0, &d));
	}
	assert_int_equal(count_records(f, DB_ADDRSTATE), 50);
	/* Still inside the window: nothing is stale, nothing goes. */
	assert_false(attempt(f, AUTH_STEP_TOTP, "nobody", "127.0.3.1", "123456", T0 + 899, &d));
	assert_int_equal(count_records(f, DB_ADDRSTATE), 51);
	/* After the window, each new failure sweeps a few stale records. */
	for (int i = 1; i <= 20; i++) {
		snprintf(addr, sizeof(addr), "127.0.2.%d", i);
		assert_false(attempt(f, AUTH_STEP_TOTP, "nobody", addr, "123456", T0 + 2000, &d));
	}
	assert_int_equal(count_records(f, DB_ADDRSTATE), 20);
	/* A throttled address is kept for as long as its throttle lasts, even once its failures
	 * have left the window. */
	f->cfg->lockout_time = 2000;
	for (int i = 0; i < 12; i++)
		assert_false(
		    attempt(f, AUTH_STEP_TOTP, "nobody", "127.0.4.1", "123456", T0 + 3000, &d));
	for (int i = 1; i <= 30; i++) {
		snprintf(addr, sizeof(addr), "127.0.5.%d", i);
		assert_false(
		    attempt(f, AUTH_STEP_TOTP, "nobody", addr, "123456", T0 + 3000 + 1000, &d));
	}
	assert_int_equal(count_records(f, DB_ADDRSTATE), 31);
	assert_false(
	    attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.4.1", "pw", T0 + 3000 + 1000, &d));
	assert_non_null(strstr(d.reason, "address throttled"));
}

static void
set_account(struct fixture *f, const char *name, void (*change)(struct account *, void *),
	    void *arg)
{
	struct account a;
	MDB_txn *txn;

	assert_int_equal(store_begin(f->st, 0, &txn), 0);
	assert_int_equal(account_get(f->st, txn, name, &a), 0);
	change(&a, arg);
	assert_int_equal(account_put(f->st, txn, &a), 0);
	assert_int_equal(store_commit(txn), 0);
	account_wipe(&a);
}

static void
expire(struct account *a, void *arg)
{
	a->expires = *(uint64_t *)arg;
}

static void
admin_lock(struct account *a, void *arg)
{
	(void)arg;
	a->locked = 1;
}

static void
flip_seed(struct account *a, void *arg)
{
	size_t i = *(size_t *)arg;

	a->totp_sealed[i % a->totp_sealed_len] ^= 0x01;
}

static void
test_expiry_and_admin_lock(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;
	uint64_t end = T0 + 100;

	set_account(f, "alice", expire, &end);
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "pw", T0 + 100, &d));
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "pw", T0 + 101, &d));
	assert_non_null(strstr(d.reason, "expired"));
	set_account(f, "bob", admin_lock, NULL);
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "bob+p1", "127.0.0.1", "pw", T0, &d));
	assert_string_equal(d.reason, "account locked by an administrator");
}

static void
test_zones(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;

	/* onsite exists but alice does not list it. */
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "10.10.0.5", "pw", T0, &d));
	assert_string_equal(d.reason, "zone onsite not allowed for this account");
	/* 10.10.1.5 is outside every zone. */
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "10.10.1.5", "pw", T0, &d));
	assert_string_equal(d.reason, "address in no zone");
	/* An IPv4-mapped IPv6 peer is the IPv4 address. */
	{
		struct sockaddr_in6 s6;
		struct auth_request req = {AUTH_STEP_PASSWORD, "alice", (struct sockaddr *)&s6,
					   "pw", T0};

		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", &s6.sin6_addr), 1);
		assert_int_equal(auth_decide(f->st, f->cfg, &req, &d), 0);
		assert_true(d.ok);
	}
}

static void
test_projects(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;

	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice+p2", "127.0.0.1", "pw", T0, &d));
	assert_string_equal(d.reason, "not a member of project p2");
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "bob", "127.0.0.1", "pw", T0, &d));
	assert_string_equal(d.reason, "login names no project (member of 2)");
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "bob+p2", "127.0.0.1", "pw", T0, &d));
	assert_string_equal(d.project, "p2");
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "alice+p1", "127.0.0.1", "pw", T0, &d));
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "root1", "127.0.0.1", "pw", T0, &d));
	assert_string_equal(d.project, "");
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "root1+p1", "127.0.0.1", "pw", T0, &d));
	assert_string_equal(d.reason, "admin account has no project");
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice+", "127.0.0.1", "pw", T0, &d));
	assert_string_equal(d.reason, "invalid login name");
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "Alice", "127.0.0.1", "pw", T0, &d));
	assert_string_equal(d.reason, "invalid login name");
}

static void
test_tampered_seed(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;
	char code[7];

	f->cfg->lockout_failures = 100; /* many failures on purpose: keep lockout out of it */
	code_at(T0, code);
	for (size_t i = 0; i < 60; i += 7) {
		set_account(f, "alice", flip_seed, &i);
		assert_false(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0, &d));
		assert_string_equal(d.reason, "totp seed cannot be decrypted");
		set_account(f, "alice", flip_seed, &i); /* undo */
	}
	assert_true(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0, &d));
}

/* A seed sealed for bob and copied into alice's record does not open (aad = name). */
static void
test_swapped_seed(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;
	struct account a, b;
	MDB_txn *txn;
	char code[7];

	assert_int_equal(store_begin(f->st, 0, &txn), 0);
	assert_int_equal(account_get(f->st, txn, "alice", &a), 0);
	assert_int_equal(account_get(f->st, txn, "bob", &b), 0);
	memcpy(a.totp_sealed, b.totp_sealed, sizeof(a.totp_sealed));
	a.totp_sealed_len = b.totp_sealed_len;
	assert_int_equal(account_put(f->st, txn, &a), 0);
	assert_int_equal(store_commit(txn), 0);
	code_at(T0, code);
	assert_false(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0, &d));
	assert_string_equal(d.reason, "totp seed cannot be decrypted");
	account_wipe(&a);
	account_wipe(&b);
}

static void
test_pubkey_and_unknown(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;

	f->cfg->lockout_failures = 100;
	assert_true(
	    attempt(f, AUTH_STEP_PUBKEY, "alice", "127.0.0.1", "ssh-ed25519 AAAAtestkey", T0, &d));
	assert_false(
	    attempt(f, AUTH_STEP_PUBKEY, "alice", "127.0.0.1", "ssh-ed25519 AAAAother", T0, &d));
	assert_string_equal(d.reason, "public key not registered");
	assert_false(
	    attempt(f, AUTH_STEP_PUBKEY, "alice", "127.0.0.1", "ssh-ed25519 AAAAtestke", T0, &d));
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "mallory", "127.0.0.1", "pw", T0, &d));
	assert_string_equal(d.reason, "unknown account");
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "", T0, &d));
	assert_string_equal(d.reason, "wrong password");
	assert_int_equal(auth_pubkey_known(f->st, "alice+p1", "ssh-ed25519 AAAAtestkey"), 1);
	assert_int_equal(auth_pubkey_known(f->st, "alice", "ssh-ed25519 AAAAother"), 0);
	assert_int_equal(auth_pubkey_known(f->st, "mallory", "ssh-ed25519 AAAAtestkey"), 0);
	{
		/* A password of PASSWORD_MAX + 1 bytes is refused without hashing it. */
		char *big = malloc(PASSWORD_MAX + 2);

		assert_non_null(big);
		memset(big, 'a', PASSWORD_MAX + 1);
		big[PASSWORD_MAX + 1] = '\0';
		assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", big, T0, &d));
		assert_string_equal(d.reason, "password too long");
		free(big);
	}
}

struct audit_scan {
	int fails, oks;
	int saw_unknown, saw_locked;
};

static int
scan(const struct audit_record *r, void *arg)
{
	struct audit_scan *s = arg;

	if (strcmp(r->event, "login.fail") == 0) {
		s->fails++;
		if (strstr(r->detail, "reason=\"unknown account\"") && strcmp(r->actor, "-") == 0 &&
		    strstr(r->detail, "login=mallory") && strstr(r->detail, "addr=127.0.0.1"))
			s->saw_unknown = 1;
	}
	if (strcmp(r->event, "login.ok") == 0 && strcmp(r->actor, "alice") == 0 &&
	    strstr(r->detail, "project=p1") && strstr(r->detail, "zone=office"))
		s->oks++;
	if (strcmp(r->event, "login.lockout") == 0)
		s->saw_locked = 1;
	return 0;
}

static void
test_audit_records(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;
	struct audit_scan s = {0};
	uint64_t n;
	char why[256], code[7];

	assert_false(attempt(f, AUTH_STEP_PASSWORD, "mallory", "127.0.0.1", "pw", T0, &d));
	for (int i = 0; i < 3; i++)
		assert_false(attempt(f, AUTH_STEP_TOTP, "bob+p1", "127.0.0.1", "000000", T0, &d));
	code_at(T0, code);
	assert_true(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0, &d));
	/* A password step that passes is not a login yet: no login.ok. */
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "pw", T0, &d));
	assert_int_equal(audit_foreach(f->st, 0, scan, &s), 0);
	assert_true(s.saw_unknown);
	assert_true(s.saw_locked);
	assert_int_equal(s.oks, 1);
	assert_true(s.fails >= 4);
	assert_int_equal(audit_verify(f->st, &n, why, sizeof(why)), 0);
}

static void
test_lockout_unit(void **state)
{
	struct lockout_policy pol = {3, 100, 50};
	struct authstate *s = calloc(1, sizeof(*s));
	uint64_t until;

	(void)state;
	assert_non_null(s);
	assert_int_equal(lockout_fail(s, &pol, 1000), 0);
	assert_int_equal(lockout_fail(s, &pol, 1001), 0);
	assert_int_equal(lockout_fail(s, &pol, 1002), 1);
	assert_true(lockout_locked(s, 1051, &until));
	assert_int_equal(until, 1052);
	assert_false(lockout_locked(s, 1052, NULL));
	/* Failures during a lock do not extend it. */
	assert_int_equal(lockout_fail(s, &pol, 1010), 0);
	assert_int_equal(lockout_fail(s, &pol, 1011), 0);
	assert_int_equal(lockout_fail(s, &pol, 1012), 0);
	assert_false(lockout_locked(s, 1052, NULL));
	/* limit 0: never locks. Limits above the record's capacity are capped to it. */
	pol.limit = 0;
	lockout_clear(s);
	for (int i = 0; i < 600; i++)
		assert_int_equal(lockout_fail(s, &pol, 5000), 0);
	pol.limit = 100000;
	lockout_clear(s);
	for (int i = 0; i < LOCKOUT_MAX_TIMES - 1; i++)
		assert_int_equal(lockout_fail(s, &pol, 9000), 0);
	assert_int_equal(lockout_fail(s, &pol, 9000), 1);
	free(s);
}

/* SPEC "Limits under attack": a throttled address or a locked account is refused before any
 * hashing; everything else still costs exactly one scrypt, unknown accounts included. */
static void
test_refused_before_hashing(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;
	unsigned long n0;

	/* Controls: the right password, a wrong one, and an unknown account: one hash each. */
	n0 = password_hash_count();
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "pw", T0, &d));
	assert_int_equal(password_hash_count(), n0 + 1);
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "mallory", "127.0.0.1", "pw", T0, &d));
	assert_int_equal(password_hash_count(), n0 + 2);
	for (int i = 0; i < 3; i++)
		assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "bad", T0, &d));
	assert_int_equal(password_hash_count(), n0 + 5);
	/* alice is locked out now: the right password is refused without a hash. */
	n0 = password_hash_count();
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "pw", T0 + 1, &d));
	assert_non_null(strstr(d.reason, "locked out"));
	assert_int_equal(password_hash_count(), n0);
	/* An administrator's lock too. */
	set_account(f, "root1", admin_lock, NULL);
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "root1", "127.0.0.1", "pw", T0, &d));
	assert_string_equal(d.reason, "account locked by an administrator");
	assert_int_equal(password_hash_count(), n0);
	/* A throttled address (4 x 3 failures; TOTP guesses hash nothing), for any account,
	 * known or not; another address still hashes. */
	for (int i = 0; i < 12; i++)
		assert_false(
		    attempt(f, AUTH_STEP_TOTP, "nobody", "127.0.6.1", "123456", T0 + 2, &d));
	n0 = password_hash_count();
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "bob+p1", "127.0.6.1", "pw", T0 + 3, &d));
	assert_non_null(strstr(d.reason, "address throttled"));
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "nobody", "127.0.6.1", "pw", T0 + 3, &d));
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "x y", "127.0.6.1", "pw", T0 + 3, &d));
	assert_int_equal(password_hash_count(), n0);
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "bob+p1", "127.0.6.2", "pw", T0 + 3, &d));
	assert_int_equal(password_hash_count(), n0 + 1);
}

struct rehash_scan {
	int rehashed;
};

static int
scan_rehash(const struct audit_record *r, void *arg)
{
	struct rehash_scan *s = arg;

	if (strcmp(r->event, "login.rehash") == 0 && strcmp(r->actor, "alice") == 0 &&
	    strstr(r->detail, "from=N1024,r8,p1 to=N2048,r8,p2"))
		s->rehashed++;
	return 0;
}

static struct account
get_account(struct fixture *f, const char *name)
{
	struct account a;
	MDB_txn *txn;

	assert_int_equal(store_begin(f->st, 1, &txn), 0);
	assert_int_equal(account_get(f->st, txn, name, &a), 0);
	store_abort(txn);
	return a;
}

/* A hash weaker than the target is replaced at the next right password, once; a wrong password
 * or a TOTP step never touches it. */
static void
test_rehash(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;
	struct rehash_scan s = {0};
	struct account before = get_account(f, "alice"), after;
	uint64_t n;
	char why[256], code[7];

	password_target.n = 2048;
	password_target.p = 2;
	assert_true(password_needs_upgrade(&before));
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "bad", T0, &d));
	code_at(T0, code);
	assert_true(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0, &d));
	after = get_account(f, "alice");
	assert_int_equal(after.scrypt_n, 1024);
	assert_int_equal(after.scrypt_p, 1);
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "pw", T0 + 1, &d));
	after = get_account(f, "alice");
	assert_int_equal(after.scrypt_n, 2048);
	assert_int_equal(after.scrypt_r, 8);
	assert_int_equal(after.scrypt_p, 2);
	assert_false(password_needs_upgrade(&after));
	assert_memory_not_equal(after.salt, before.salt, sizeof(before.salt));
	/* The new hash takes the same password and no other; nothing is rehashed again. */
	assert_int_equal(password_verify(&after, "pw", 2), 1);
	assert_int_equal(password_verify(&after, "pX", 2), 0);
	assert_true(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "pw", T0 + 2, &d));
	assert_false(attempt(f, AUTH_STEP_PASSWORD, "alice", "127.0.0.1", "px", T0 + 3, &d));
	assert_int_equal(audit_foreach(f->st, 0, scan_rehash, &s), 0);
	assert_int_equal(s.rehashed, 1);
	assert_int_equal(audit_verify(f->st, &n, why, sizeof(why)), 0);
	/* A stronger hash than the target is left as it is. */
	password_target.n = 1024;
	password_target.p = 1;
	assert_false(password_needs_upgrade(&after));
	account_wipe(&before);
	account_wipe(&after);
}

/* The clock jumps forward and back (SPEC "Durability", issue 14 point 6): each code is accepted
 * once, including a code accepted before a jump back that is inside the window again; a code
 * of the corrected clock that was never used is accepted (not refused until the clock catches
 * up with the jump). */
static void
test_clock_jumps(void **state)
{
	struct fixture *f = *state;
	struct auth_decision d;
	char code[7];

	f->cfg->lockout_failures = 100; /* replays count as failures; keep lockout out of it */
	code_at(T0, code);
	assert_true(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0 + 1, &d));
	/* Forward an hour: that hour's code once. */
	code_at(T0 + 3600, code);
	assert_true(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0 + 3601, &d));
	assert_false(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0 + 3602, &d));
	assert_non_null(strstr(d.reason, "replayed"));
	/* Back to 30 s before the first login: T0's code is in the window again, and used. */
	code_at(T0, code);
	assert_false(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0 - 29, &d));
	assert_non_null(strstr(d.reason, "replayed"));
	/* Its neighbour, never used but older than T0's accepted code in the same window. */
	code_at(T0 - 30, code);
	assert_false(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0 - 29, &d));
	assert_non_null(strstr(d.reason, "older than an accepted code"));
	/* Further back: a code never used, once. */
	code_at(T0 - 600, code);
	assert_true(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0 - 599, &d));
	assert_false(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0 - 598, &d));
	assert_non_null(strstr(d.reason, "replayed"));
	/* Forward again past the hour: the hour's code is still used, the next step is not. */
	code_at(T0 + 3600, code);
	assert_false(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0 + 3620, &d));
	code_at(T0 + 3630, code);
	assert_true(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0 + 3631, &d));
}

/* More accepted steps than the set holds: the smallest go under the floor and stay refused;
 * a record in the first format (only the last step) reads with its last step as the floor. */
static void
test_used_steps_bounded(void **state)
{
	struct authstate *s = calloc(1, sizeof(*s));
	uint64_t base = 1000;

	(void)state;
	assert_non_null(s);
	for (uint64_t i = 0; i < TOTP_USED_MAX + 8; i++) {
		assert_int_equal(authstate_step_used(s, base + 10 * i), 0);
		authstate_step_accept(s, base + 10 * i);
		assert_int_equal(authstate_step_used(s, base + 10 * i), 1);
	}
	assert_int_equal(s->nused, TOTP_USED_MAX);
	assert_int_equal(s->step_floor, base + 10 * 7);
	assert_int_equal(s->last_step, base + 10 * (TOTP_USED_MAX + 7));
	for (uint64_t i = 0; i < TOTP_USED_MAX + 8; i++)
		assert_int_equal(authstate_step_used(s, base + 10 * i), 1);
	assert_int_equal(authstate_step_used(s, base + 10 * 7 + 5), 0); /* above the floor */
	assert_int_equal(authstate_step_used(s, base + 10 * 7 - 5), 1); /* below it */
	assert_int_equal(authstate_step_used(s, base + 10 * 9 - 1), 2); /* neighbour of 1090 */
	/* A step older than all of a full set is accepted once, and becomes the floor. */
	authstate_step_accept(s, base + 10 * 7 + 5);
	assert_int_equal(s->step_floor, base + 10 * 7 + 5);
	assert_int_equal(authstate_step_used(s, base + 10 * 7 + 5), 1);
	free(s);
}

static void
test_authstate_v1(void **state)
{
	struct fixture *f = *state;
	struct authstate *s = calloc(1, sizeof(*s));
	struct auth_decision d;
	uint8_t v1[1 + 8 + 8 + 4] = {1};
	MDB_txn *txn;
	char code[7];

	assert_non_null(s);
	/* format 1: last_step T0/30, not locked, no failures (big-endian as codec writes). */
	for (int i = 0; i < 8; i++)
		v1[1 + i] = (uint8_t)((T0 / 30) >> (56 - 8 * i));
	assert_int_equal(store_begin(f->st, 0, &txn), 0);
	assert_int_equal(store_put(f->st, txn, DB_AUTHSTATE, "alice", 5, v1, sizeof(v1), 0), 0);
	assert_int_equal(store_commit(txn), 0);
	assert_int_equal(store_begin(f->st, 1, &txn), 0);
	assert_int_equal(authstate_get(f->st, txn, DB_AUTHSTATE, "alice", 5, s), 0);
	store_abort(txn);
	assert_int_equal(s->last_step, T0 / 30);
	assert_int_equal(s->step_floor, T0 / 30);
	code_at(T0 - 600, code);
	assert_false(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0 - 599, &d));
	code_at(T0 + 30, code);
	assert_true(attempt(f, AUTH_STEP_TOTP, "alice", "127.0.0.1", code, T0 + 31, &d));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc6238_vectors),
	    cmocka_unit_test(test_oathtool_agreement),
	    cmocka_unit_test(test_lockout_unit),
	    cmocka_unit_test_setup_teardown(test_full_login_and_replay, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window_edges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lockout_and_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failures_outside_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unregistered_keys_not_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_zone_no_lockout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_throttle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_addr_sweep, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expiry_and_admin_lock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zones, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_projects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tampered_seed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_swapped_seed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pubkey_and_unknown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_before_hashing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rehash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clock_jumps, setup, teardown),
	    cmocka_unit_test(test_used_steps_bounded),
	    cmocka_unit_test_setup_teardown(test_authstate_v1, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
