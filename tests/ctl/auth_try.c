/*
 * Test helper: one auth_decide step against a real config and state, as the gateway's monitor
 * would make it. Prints "ok" or the audit reason; exit 0 if accepted, 1 if refused, 2 on error.
 * Usage: auth-try CONFIG password|publickey|totp LOGIN ADDR SECRET [NOW]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct auth_request req = {0};
	struct auth_decision d;
	struct config *cfg;
	struct store *st;
	char why[1024];

	if (argc < 6)
		return fprintf(stderr, "usage: auth-try CONFIG STEP LOGIN ADDR SECRET [NOW]\n"), 2;
	if (strcmp(argv[2], "password") == 0)
		req.step = AUTH_STEP_PASSWORD;
	else if (strcmp(argv[2], "publickey") == 0)
		req.step = AUTH_STEP_PUBKEY;
	else if (strcmp(argv[2], "totp") == 0)
		req.step = AUTH_STEP_TOTP;
	else
		return fprintf(stderr, "auth-try: unknown step\n"), 2;
	if (inet_pton(AF_INET, argv[4], &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
	} else if (inet_pton(AF_INET6, argv[4], &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
	} else {
		return fprintf(stderr, "auth-try: bad address\n"), 2;
	}
	if (config_load(argv[1], &cfg, why, sizeof(why)) < 0)
		return fprintf(stderr, "auth-try: %s\n", why), 2;
	if (store_open(cfg->state_dir, 0, &st, why, sizeof(why)) < 0)
		return fprintf(stderr, "auth-try: %s\n", why), 2;
	req.login = argv[3];
	req.peer = (struct sockaddr *)&ss;
	req.secret = argv[5];
	req.now = argc > 6 ? strtoull(argv[6], NULL, 10) : (uint64_t)time(NULL);
	if (auth_decide(st, cfg, &req, &d) < 0) {
		fprintf(stderr, "auth-try: internal error: %s\n", d.reason);
		return 2;
	}
	if (d.ok)
		printf("ok project=%s zone=%s area=%s uid=%u\n", d.project, d.zone, d.area,
		       (unsigned)d.acct.uid);
	else
		printf("%s\n", d.reason);
	account_wipe(&d.acct);
	store_close(st);
	config_free(cfg);
	return d.ok ? 0 : 1;
}
