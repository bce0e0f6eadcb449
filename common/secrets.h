/*
 * The secrets key: 32 random bytes in state_dir/secrets.key (mode 0600, root only).
 * Never used directly: independent subkeys are derived per purpose (HMAC-SHA-256 of a label),
 * so a flaw in one use cannot leak the key of another.
 */
#ifndef WSGATE_SECRETS_H
#define WSGATE_SECRETS_H

#include <stddef.h>
#include <stdint.h>

#define SECRETS_KEY_LEN 32
#define SEAL_OVERHEAD (12 + 16) /* AES-256-GCM nonce + tag */

struct secrets {
	uint8_t seal_key[SECRETS_KEY_LEN];  /* AES-256-GCM for secrets at rest (TOTP seeds) */
	uint8_t audit_key[SECRETS_KEY_LEN]; /* HMAC-SHA-256 chain of the audit log */
	uint8_t request_key[SECRETS_KEY_LEN]; /* HMAC-SHA-256 of airlock request records */
};

/* Creates the key file with O_EXCL; returns 0, 1 if it already exists, <0 on error. */
int secrets_create(const char *path);
/* Loads and derives subkeys; refuses a key file that is not 0600 or not owned by us. */
int secrets_load(const char *path, struct secrets *s);
void secrets_wipe(struct secrets *s);

/*
 * HMAC-SHA-256 under key (one of the subkeys above, SECRETS_KEY_LEN bytes) over a || b || c
 * (b, c may be empty), into out (32 bytes). Keyed contexts are kept per process and restarted per
 * MAC (not thread-safe; no caller uses threads for it): OpenSSL 3's one-shot HMAC() fetches the algorithm and sets the key on every call, which
 * made verifying the audit log and listing 100,000 requests several times slower. Returns 0 or
 * -1.
 */
int secrets_hmac(const uint8_t *key, const void *a, size_t an, const void *b, size_t bn,
		 const void *c, size_t cn, uint8_t out[32]);

/* AES-256-GCM: out = nonce || ciphertext || tag; out must hold n + SEAL_OVERHEAD bytes.
 * aad binds the ciphertext to its owner (e.g. the user name) so seeds cannot be swapped. */
int secrets_seal(const struct secrets *s, const void *aad, size_t aadlen, const uint8_t *pt,
		 size_t n, uint8_t *out, size_t *outlen);
/* Returns <0 if the ciphertext or aad was tampered with; out holds n - SEAL_OVERHEAD bytes. */
int secrets_open(const struct secrets *s, const void *aad, size_t aadlen, const uint8_t *in,
		 size_t n, uint8_t *out, size_t *outlen);

#endif
