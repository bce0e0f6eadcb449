/*
 * The unprivileged network worker: the only process that parses SSH. It loads the host key while
 * still root, confines itself (privsep.c), then runs libssh. Each authentication step is a
 * question to the monitor; the worker keeps its own {state, login} only to refuse out-of-order
 * steps early, the monitor enforces the same on its side.
 */
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/nitems.h"
#include "gateway/worker.h"
#include "policy/role.h"

static volatile sig_atomic_t worker_term, worker_revoke;

static void
worker_sig(int sig)
{
	if (sig == SIGUSR1)
		worker_revoke = 1; /* the monitor revoked the login: ask it why (MON_REVOKED) */
	else
		worker_term = 1;
}

void
worker_exit(struct worker *w, int code)
{
	w->exiting = 1;
	if (w->ss != NULL) {
		session_close_all(w);
		ssh_disconnect(w->ss);
	}
	_exit(code);
}

/* A failed step: the same answer whatever the reason, and the connection ends after
 * max_auth_tries of them (libssh has no such limit of its own). */
static int
worker_failed(struct worker *w)
{
	if (++w->failures >= w->cfg->max_auth_tries) {
		ssh_disconnect(w->ss);
		worker_exit(w, 0);
	}
	return SSH_AUTH_DENIED;
}

static int
worker_first_factor_ok(struct worker *w, const char *user)
{
	snprintf(w->login, sizeof(w->login), "%s", user);
	w->state = WS_NEED_TOTP;
	/* The method list is session-wide: set it before libssh sends the partial success. */
	ssh_set_auth_methods(w->ss, SSH_AUTH_METHOD_INTERACTIVE);
	return SSH_AUTH_PARTIAL;
}

static int
worker_auth_password(ssh_session ss, const char *user, const char *password, void *ud)
{
	struct worker *w = ud;

	if (w->state != WS_PREAUTH || user == NULL || password == NULL || strlen(user) > 100 ||
	    strlen(password) > 1024)
		return worker_failed(w);
	if (!mm_auth_password(w->mon, user, password))
		return worker_failed(w);
	return worker_first_factor_ok(w, user);
}

static int
worker_auth_pubkey(ssh_session ss, const char *user, struct ssh_key_struct *key,
		   char signature_state, void *ud)
{
	struct worker *w = ud;
	char *b64 = NULL, line[2048];
	const char *type;

	if (w->state != WS_PREAUTH || user == NULL || strlen(user) > 100)
		return worker_failed(w);
	/* A probe gets PK_OK for every key, so nobody can learn which keys an account has; only a
	 * verified signature is ever sent to the monitor. */
	if (signature_state == SSH_PUBLICKEY_STATE_NONE)
		return SSH_AUTH_SUCCESS;
	if (signature_state != SSH_PUBLICKEY_STATE_VALID)
		return worker_failed(w);
	type = ssh_key_type_to_char(ssh_key_type(key));
	if (type == NULL || ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return worker_failed(w);
	if (snprintf(line, sizeof(line), "%s %s", type, b64) >= (int)sizeof(line)) {
		ssh_string_free_char(b64);
		return worker_failed(w);
	}
	ssh_string_free_char(b64);
	if (!mm_auth_pubkey(w->mon, user, line))
		return worker_failed(w);
	return worker_first_factor_ok(w, user);
}

/* Keyboard-interactive has no server callback in libssh 0.10: it arrives here. Returning 1 makes
 * libssh send its default refusal, which is also what every other request gets. */
static int
worker_message(ssh_session ss, ssh_message msg, void *ud)
{
	struct worker *w = ud;
	const char *prompts[1] = {"Verification code: "};
	char echo[1] = {0};
	const char *answer;

	if (ssh_message_type(msg) != SSH_REQUEST_AUTH ||
	    ssh_message_subtype(msg) != SSH_AUTH_METHOD_INTERACTIVE || w->state != WS_NEED_TOTP)
		return 1;
	if (!ssh_message_auth_kbdint_is_response(msg)) {
		const char *u = ssh_message_auth_user(msg);

		/* libssh lets the login change between steps; we do not. */
		if (u == NULL || strcmp(u, w->login) != 0) {
			worker_failed(w);
			return 1;
		}
		ssh_message_auth_interactive_request(msg, "", "", 1, prompts, echo);
		return 0;
	}
	if (ssh_userauth_kbdint_getnanswers(ss) != 1 ||
	    (answer = ssh_userauth_kbdint_getanswer(ss, 0)) == NULL || strlen(answer) > 32) {
		worker_failed(w);
		return 1;
	}
	if (!mm_auth_totp(w->mon, answer, &w->who)) {
		worker_failed(w);
		return 1;
	}
	w->state = WS_AUTHED;
	alarm(0);
	ssh_message_auth_reply_success(msg, 0);
	return 0;
}

/* The algorithms of SPEC "Login" (docs/gateway.md lists them). AES-CTR is there for clients
 * without AEAD ciphers (Debian 12's python3-paramiko 2.12: Ansible, pysftp), only ever with an
 * encrypt-then-MAC MAC: Terrapin (CVE-2023-48795) is practical against chacha20-poly1305 and
 * CBC with EtM, not CTR with EtM. libssh 0.10.6 adds kex-strict-s-v00@openssh.com (strict KEX,
 * the Terrapin fix) to the KEX list on its own; every client that knows it gets it. */
#define WORKER_KEX "curve25519-sha256,curve25519-sha256@libssh.org"
#define WORKER_CIPHERS                                                                             \
	"chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,"             \
	"aes256-ctr,aes192-ctr,aes128-ctr"
#define WORKER_MACS "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com"
#define WORKER_USER_KEYS "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256"

static void
worker_setup_bind(struct worker *w, ssh_bind b, ssh_key key)
{
	int no = 0;
	/* clang-format off */
	const struct {
		enum ssh_bind_options_e opt;
		const char *val;
	} pins[] = {
		/* Pinned to modern algorithms; the system-wide libssh config is not read. */
		{SSH_BIND_OPTIONS_KEY_EXCHANGE, WORKER_KEX},
		{SSH_BIND_OPTIONS_CIPHERS_C_S, WORKER_CIPHERS},
		{SSH_BIND_OPTIONS_CIPHERS_S_C, WORKER_CIPHERS},
		{SSH_BIND_OPTIONS_HMAC_C_S, WORKER_MACS},
		{SSH_BIND_OPTIONS_HMAC_S_C, WORKER_MACS},
		{SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, "ssh-ed25519"},
		{SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES, WORKER_USER_KEYS},
	};
	/* clang-format on */

	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK)
		fatal_f("cannot disable libssh config processing");
	for (size_t i = 0; i < nitems(pins); i++)
		if (ssh_bind_options_set(b, pins[i].opt, pins[i].val) != SSH_OK)
			fatal_f("pinning %s: %s", pins[i].val, ssh_get_error(b));
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK)
		fatal_f("host key: %s", ssh_get_error(b));
}

static void
worker_loop(struct worker *w)
{
	time_t term_at = 0;
	int pending = 0;

	for (;;) {
		time_t now;
		int st;

		/* Waiting out the whole timeout with data held back (after a key re-exchange, say)
		 * would stall the channel for that long. */
		if (ssh_event_dopoll(w->ev, pending ? 5 : 250) == SSH_ERROR) {
			st = ssh_get_status(w->ss);
			if (st & (SSH_CLOSED | SSH_CLOSED_ERROR))
				break;
		}
		if (!ssh_is_connected(w->ss) || w->hostile)
			break;
		if (worker_revoke && w->state == WS_AUTHED) {
			worker_revoke = 0;
			(void)session_revoked(w);
		}
		pending = session_reconcile(w);
		now = worker_clock();
		if (w->state != WS_AUTHED && now > w->deadline)
			break; /* login grace time */
		if (w->state == WS_AUTHED && w->cfg->idle_timeout > 0 && !session_busy(w) &&
		    (uint64_t)(now - w->last_activity) >= w->cfg->idle_timeout)
			break;
		if (worker_term) {
			/* The monitor ends the sandboxes first; give their exit statuses a moment
			 * to reach the client as exit-signal, then go. */
			if (term_at == 0)
				term_at = now + 2;
			if (session_count(w) == 0 || now >= term_at)
				break;
		}
	}
}

void
worker_run(const struct config *cfg, int client_fd, int mon_sock, const struct gw_peer *peer)
{
	struct worker *w;
	struct sigaction sa;
	ssh_key key = NULL;
	ssh_bind b;
	char why[256];
	int rc;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		_exit(1);
	w->cfg = cfg;
	w->peer = peer;
	w->mon = mon_sock;
	w->state = WS_PREAUTH;
	w->deadline = worker_clock() + (time_t)cfg->login_grace_time;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_sig;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, SIG_DFL); /* the grace timer ends the worker outright */
	{
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	alarm((unsigned)cfg->login_grace_time);

	ssh_init();
	/* Everything that needs root or a file happens before the drop. */
	if (ssh_pki_import_privkey_file(cfg->host_key, NULL, NULL, NULL, &key) != SSH_OK)
		fatal_f("cannot load host key %s", cfg->host_key);
	if ((b = ssh_bind_new()) == NULL || (w->ss = ssh_new()) == NULL)
		fatal_f("out of memory");
	worker_setup_bind(w, b, key);
	if (ssh_bind_accept_fd(b, w->ss, client_fd) != SSH_OK)
		fatal_f("accept: %s", ssh_get_error(b));
	if (privsep_drop(cfg->state_dir, why, sizeof(why)) != 0)
		fatal_f("%s", why);
#ifdef WSGATE_TEST_HOOKS
	mm_test_evil(w->mon); /* plays a compromised worker when the test asks */
#endif

	w->scb.userdata = w;
	w->scb.auth_password_function = worker_auth_password;
	w->scb.auth_pubkey_function = worker_auth_pubkey;
	w->scb.channel_open_request_session_function = session_open;
	ssh_callbacks_init(&w->scb);
	ssh_set_server_callbacks(w->ss, &w->scb);
	ssh_set_message_callback(w->ss, worker_message, w);
	ssh_set_auth_methods(w->ss, SSH_AUTH_METHOD_PASSWORD | SSH_AUTH_METHOD_PUBLICKEY);

	rc = ssh_handle_key_exchange(w->ss);
	if (rc != SSH_OK)
		worker_exit(w, 0);
	if ((w->ev = ssh_event_new()) == NULL || ssh_event_add_session(w->ev, w->ss) != SSH_OK)
		worker_exit(w, 1);
	/* Nothing in the loop may wait on the network: writes are sized to the peer's window and
	 * a non-blocking session never stalls sibling channels in a flush. */
	ssh_set_blocking(w->ss, 0);
	w->last_activity = worker_clock();
	worker_loop(w);
	worker_exit(w, 0);
}
