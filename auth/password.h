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
/* N=2^15, r=8, p=1: 32 MiB and roughly 0.1 s per hash on current hardware (RFC 7914 sect. 2). */
#define PASSWORD_SCRYPT_N 32768u
#define PASSWORD_SCRYPT_R 8u
#define PASSWORD_SCRYPT_P 1u

/* Sets a->salt (fresh), a->pwhash and the parameters, and a->has_password. Returns 0 or <0. */
int password_set(struct account *a, const char *pw, size_t len, uint64_t n, uint32_t r, uint32_t p);
/* 1 if pw matches, 0 if not (or no password is set), <0 on an internal error. Compares in
 * constant time. */
int password_verify(const struct account *a, const char *pw, size_t len);
/* Runs one scrypt with the default parameters and throws the result away, so that a refusal
 * that needs no hash (unknown account, lockout, no zone) takes as long as one that does. */
void password_dummy(const char *pw, size_t len);

#endif
