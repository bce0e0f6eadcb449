/*
 * Password hashing with scrypt (OpenSSL EVP_KDF "SCRYPT"). The parameters are stored with each
 * hash so they can be raised later without invalidating existing passwords.
 */
#ifndef WSGATE_PASSWORD_H
#define WSGATE_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#include "policy/account.h"

#define PASSWORD_MAX 1024 /* bytes */
/*
 * N=2^15, r=8, p=3: one of the settings OWASP's Password Storage Cheat Sheet lists as equal to
 * its minimum (N=2^17, r=8, p=1). Of those rows it keeps the memory of one login at 32 MiB, the
 * same as before, so a flood of logins costs no more memory; the CPU per hash triples (about
 * 0.3 s here, docs/auth.md). Hashes made with less are rehashed at the next right password.
 */
#define PASSWORD_SCRYPT_N 32768u
#define PASSWORD_SCRYPT_R 8u
#define PASSWORD_SCRYPT_P 3u

/* The parameters new hashes get: PASSWORD_SCRYPT_* unless a test lowered them. */
struct password_params {
	uint64_t n;
	uint32_t r, p;
};
extern struct password_params password_target;

/* Sets a->salt (fresh), a->pwhash and the parameters, and a->has_password. Returns 0 or <0. */
int password_set(struct account *a, const char *pw, size_t len, uint64_t n, uint32_t r, uint32_t p);
/* 1 if pw matches, 0 if not (or no password is set), <0 on an internal error. Compares in
 * constant time. */
int password_verify(const struct account *a, const char *pw, size_t len);
/* Runs one scrypt with the default parameters and throws the result away, so that a refusal
 * that needs no hash (unknown account, lockout, no zone) takes as long as one that does. */
void password_dummy(const char *pw, size_t len);

/* Is the account's hash weaker than password_target (less memory x time: N*r*p)? Then the next
 * right password rehashes it. */
int password_needs_upgrade(const struct account *a);
/* Times three hashes with password_target and keeps the median for password_delay(). The
 * listener calls it once at start, so every connection process inherits it. */
void password_calibrate(void);
/* The figure password_calibrate() kept, in milliseconds (0 before). */
long password_cost_ms(void);
/* Sleeps about as long as one hash takes (0 before password_calibrate): a refusal that skips
 * hashing (throttled address, locked account) costs no CPU but looks no faster. */
void password_delay(void);
/* How many scrypt derivations this process has run (tests: "refused before any hashing"). */
unsigned long password_hash_count(void);

#endif
