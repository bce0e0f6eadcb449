/*
 * libFuzzer target for what auth_decide reads from outside: stored records (account, project,
 * auth state) that a damaged or hostile database could hold, the login name a client sends, and
 * a --secret given to wsgatectl. The first input byte picks the case. Records go through a real
 * LMDB store (MDB_NOSYNC for speed) and then through auth_decide, which must refuse or accept
 * cleanly, never crash or read out of bounds.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/lockout.h"
#include "auth/password.h"
#include "auth/totp.h"

static struct store *st;
static struct config cfg;
static uint8_t good_account[4096];
static size_t good_len;

static void
put_raw(enum store_db db, const char *key, const void *val, size_t len)
{
	MDB_txn *txn;

	if (store_begin(st, 0, &txn) < 0)
		abort();
	if (store_put(st, txn, db, key, strlen(key), val, len, 0) != 0 || store_commit(txn) < 0)
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/wsgate-fuzz-auth-XXXXXX";
	char path[128], why[256];
	struct account a = {0};
	struct project p = {0};
	MDB_txn *txn;
	MDB_val v;

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/secrets.key", dir);
	if (secrets_create(path) != 0 || store_open(dir, 1, &st, why, sizeof(why)) < 0)
		abort();
	if (store_set_nosync(st) != 0)
		abort();
	cfg.lockout_failures = 5;
	cfg.lockout_window = 900;
	cfg.lockout_time = 900;
	cfg.nzones = 1;
	snprintf(cfg.zones[0].name, sizeof(cfg.zones[0].name), "office");
	snprintf(cfg.zones[0].area, sizeof(cfg.zones[0].area), "remote");
	cfg.zones[0].nets[0].family = AF_INET;
	inet_pton(AF_INET, "127.0.0.0", cfg.zones[0].nets[0].addr);
	cfg.zones[0].nets[0].prefix = 8;
	cfg.zones[0].nnets = 1;
	snprintf(p.name, sizeof(p.name), "p1");
	p.gid = 300000;
	snprintf(a.name, sizeof(a.name), "alice");
	a.role = ROLE_ANALYST;
	snprintf(a.projects[a.nprojects++], NAME_MAX_LEN + 1, "p1");
	snprintf(a.zones[a.nzones++], NAME_MAX_LEN + 1, "office");
	a.uid = 200000;
	snprintf(a.keys[a.nkeys++], sizeof(a.keys[0]), "ssh-ed25519 AAAAkey");
	if (totp_seal(store_secrets(st), &a, (const uint8_t *)"12345678901234567890", 20) < 0 ||
	    store_begin(st, 0, &txn) < 0 || project_put(st, txn, &p) < 0 ||
	    account_put(st, txn, &a) < 0 || store_get(st, txn, DB_USERS, "alice", 5, &v) != 0 ||
	    v.mv_size > sizeof(good_account))
		abort();
	memcpy(good_account, v.mv_data, v.mv_size);
	good_len = v.mv_size;
	if (store_commit(txn) < 0)
		abort();
	return 0;
}

static void
decide(enum auth_step step, const char *login, const char *secret)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct auth_request req = {step, login, (struct sockaddr *)&sin, secret, 1750000020};
	struct auth_decision d;

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	(void)auth_decide(st, &cfg, &req, &d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256];
	uint8_t seed[TOTP_SEED_MAX];
	size_t n;
	struct account a;
	struct project p;
	MDB_txn *txn;

	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0: /* a stored account record */
		put_raw(DB_USERS, "alice", data + 1, size - 1);
		if (store_begin(st, 1, &txn) == 0) {
			if (account_get(st, txn, "alice", &a) == 0)
				account_wipe(&a);
			store_abort(txn);
		}
		decide(AUTH_STEP_PUBKEY, "alice", "ssh-ed25519 AAAAkey");
		decide(AUTH_STEP_TOTP, "alice+p1", "123456");
		put_raw(DB_USERS, "alice", good_account, good_len);
		break;
	case 1: /* a stored auth state record */
		put_raw(DB_AUTHSTATE, "alice", data + 1, size - 1);
		decide(AUTH_STEP_TOTP, "alice", "123456");
		break;
	case 2: /* a stored project record */
		put_raw(DB_PROJECTS, "p1", data + 1, size - 1);
		if (store_begin(st, 1, &txn) == 0) {
			(void)project_get(st, txn, "p1", &p);
			store_abort(txn);
		}
		decide(AUTH_STEP_PUBKEY, "alice", "ssh-ed25519 AAAAkey");
		break;
	case 3: /* the login name and the code, as a client sends them */
		n = size - 1 < sizeof(text) - 1 ? size - 1 : sizeof(text) - 1;
		memcpy(text, data + 1, n);
		text[n] = '\0';
		decide(AUTH_STEP_TOTP, text, text + strnlen(text, n) / 2);
		decide(AUTH_STEP_PUBKEY, text, "ssh-ed25519 AAAAkey");
		(void)auth_pubkey_known(st, text, text);
		break;
	case 4: /* wsgatectl user totp --secret */
		n = size - 1 < sizeof(text) - 1 ? size - 1 : sizeof(text) - 1;
		memcpy(text, data + 1, n);
		text[n] = '\0';
		if (totp_parse_secret(text, seed, &n) == 0 && (n == 0 || n > TOTP_SEED_MAX))
			abort();
		break;
	}
	return 0;
}
