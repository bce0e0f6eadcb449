/*
 * TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps, epoch 0) via liboath, as authenticator
 * apps and `oathtool --totp` produce it. Seeds are kept sealed (AES-256-GCM, aad = account name)
 * and opened only for the moment of a check.
 */
#ifndef WSGATE_TOTP_H
#define WSGATE_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/secrets.h"
#include "policy/account.h"

#define TOTP_SEED_LEN 20 /* bytes of a new seed: the SHA-1 block output size (RFC 4226 sect. 4) */
#define TOTP_SEED_MAX 64 /* what account.totp_sealed can hold */
#define TOTP_STEP 30
#define TOTP_DIGITS 6
#define TOTP_WINDOW 1 /* steps accepted either side of now (clock skew) */

/* Seals seed into a->totp_sealed. Returns 0 or <0. */
int totp_seal(const struct secrets *s, struct account *a, const uint8_t *seed, size_t n);
/* Opens a->totp_sealed into seed (TOTP_SEED_MAX bytes). Returns 0, or <0 if it was tampered
 * with or sealed for another account. */
int totp_open(const struct secrets *s, const struct account *a, uint8_t *seed, size_t *n);
/* Checks a code typed by the user at time now against steps now-WINDOW..now+WINDOW.
 * Returns 0 and the matching time step, -1 if no step matches, -2 if code is not 6 digits. */
int totp_check(const uint8_t *seed, size_t n, uint64_t now, const char *code, uint64_t *step);
/* otpauth://totp/wsgate:NAME?secret=BASE32&issuer=wsgate&algorithm=SHA1&digits=6&period=30
 * Returns 0 or <0 (out too small). out holds the secret: wipe it after use. */
int totp_uri(const char *name, const uint8_t *seed, size_t n, char *out, size_t outlen);
/* Decodes a user-given base32 secret (spaces and lower case allowed, as apps show them). */
int totp_parse_secret(const char *b32, uint8_t *seed, size_t *n);

#endif
