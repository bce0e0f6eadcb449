/*
 * On-demand benchmark (not a test): how long one password step of auth_decide takes for a known
 * account with the right and a wrong password, an unknown account, a locked-out account and an
 * address in no zone. The point is that they are alike (SPEC: similar timing), and what one
 * scrypt at the default parameters costs. The locked account runs no scrypt (refused before
 * hashing, SPEC "Limits under attack") and sleeps one calibrated hash's time instead.
 *   cmake --build BUILD --target bench_auth && BUILD/bin/bench_auth [ROUNDS]
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "auth/password.h"
#include "common/nitems.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench_auth: %s\n", what);
	exit(1);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *label, *login, *peer, *pw;
	} cases[] = {
	    {"known account, right password", "alice", "127.0.0.1", "pw"},
	    {"known account, wrong password", "alice", "127.0.0.2", "nope"},
	    {"unknown account", "mallory", "127.0.0.3", "pw"},
	    {"locked-out account", "locked", "127.0.0.4", "pw"},
	    {"address in no zone", "alice", "192.0.2.1", "pw"},
	};
	int rounds = argc > 1 ? atoi(argv[1]) : 20;
	char dir[] = "/tmp/wsgate-bench-XXXXXX", path[128], why[256];
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct store *st;
	struct account a;
	MDB_txn *txn;

	if (!cfg || !mkdtemp(dir))
		die("setup");
	snprintf(path, sizeof(path), "%s/secrets.key", dir);
	if (secrets_create(path) != 0 || store_open(dir, 1, &st, why, sizeof(why)) < 0)
		die("store");
	/* Lockout off for the timing loop; the locked account is locked by state instead. */
	cfg->lockout_failures = 0;
	cfg->nzones = 1;
	snprintf(cfg->zones[0].name, sizeof(cfg->zones[0].name), "office");
	snprintf(cfg->zones[0].area, sizeof(cfg->zones[0].area), "remote");
	cfg->zones[0].nets[0].family = AF_INET;
	inet_pton(AF_INET, "127.0.0.0", cfg->zones[0].nets[0].addr);
	cfg->zones[0].nets[0].prefix = 8;
	cfg->zones[0].nnets = 1;
	for (int i = 0; i < 2; i++) {
		memset(&a, 0, sizeof(a));
		snprintf(a.name, sizeof(a.name), i ? "locked" : "alice");
		a.role = ROLE_ADMIN;
		a.locked = i;
		snprintf(a.zones[a.nzones++], NAME_MAX_LEN + 1, "office");
		a.uid = 200000 + i;
		if (password_set(&a, "pw", 2, PASSWORD_SCRYPT_N, PASSWORD_SCRYPT_R,
				 PASSWORD_SCRYPT_P) < 0 ||
		    store_begin(st, 0, &txn) < 0 || account_put(st, txn, &a) < 0 ||
		    store_commit(txn) < 0)
			die("account");
	}
	/* As wsgated does at start: a refusal before hashing (the locked account) waits this long.
	 */
	password_calibrate();
	printf("scrypt N=%u r=%u p=%u, %d rounds each\n", PASSWORD_SCRYPT_N, PASSWORD_SCRYPT_R,
	       PASSWORD_SCRYPT_P, rounds);
	/* Round-robin over the cases so that load from elsewhere on the machine falls on all of
	 * them alike. */
	{
		enum { NCASES = nitems(cases) };
		double sum[NCASES] = {0}, sq[NCASES] = {0}, t;
		struct auth_decision d[NCASES];

		for (int r = 0; r < rounds; r++) {
			for (size_t c = 0; c < NCASES; c++) {
				struct sockaddr_in sin = {.sin_family = AF_INET};
				struct auth_request req = {AUTH_STEP_PASSWORD, cases[c].login,
							   (struct sockaddr *)&sin, cases[c].pw,
							   (uint64_t)time(NULL)};

				inet_pton(AF_INET, cases[c].peer, &sin.sin_addr);
				t = now_ms();
				if (auth_decide(st, cfg, &req, &d[c]) < 0)
					die("auth_decide");
				t = now_ms() - t;
				sum[c] += t;
				sq[c] += t * t;
			}
		}
		for (size_t c = 0; c < NCASES; c++)
			printf("%-32s mean %7.1f ms  sd %5.1f ms  (ok=%d %s)\n", cases[c].label,
			       sum[c] / rounds,
			       sqrt(sq[c] / rounds - (sum[c] / rounds) * (sum[c] / rounds)),
			       d[c].ok, d[c].reason);
	}
	store_close(st);
	snprintf(why, sizeof(why), "rm -rf '%s'", dir);
	return system(why) == 0 ? 0 : 1;
}
