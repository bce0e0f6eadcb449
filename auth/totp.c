#include "auth/totp.h"

#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <openssl/crypto.h>

/* oath_init must run before liboath is used; it is cheap and idempotent. */
static int
totp_lib_init(void)
{
	return oath_init() == OATH_OK ? 0 : -1;
}

int
totp_seal(const struct secrets *s, struct account *a, const uint8_t *seed, size_t n)
{
	size_t outlen;

	if (n == 0 || n > TOTP_SEED_MAX || n + SEAL_OVERHEAD > sizeof(a->totp_sealed))
		return -1;
	if (secrets_seal(s, a->name, strlen(a->name), seed, n, a->totp_sealed, &outlen) < 0)
		return -1;
	a->totp_sealed_len = outlen;
	return 0;
}

int
totp_open(const struct secrets *s, const struct account *a, uint8_t *seed, size_t *n)
{
	if (a->totp_sealed_len <= SEAL_OVERHEAD || a->totp_sealed_len > sizeof(a->totp_sealed) ||
	    a->totp_sealed_len - SEAL_OVERHEAD > TOTP_SEED_MAX)
		return -1;
	return secrets_open(s, a->name, strlen(a->name), a->totp_sealed, a->totp_sealed_len, seed,
			    n);
}

/* liboath generates each candidate code and asks us to compare it: do that in constant time so
 * the comparison leaks nothing about how many digits were right. */
static int
code_cmp(void *handle, const char *test_otp)
{
	const char *code = handle;

	if (strlen(test_otp) != TOTP_DIGITS)
		return 1;
	return CRYPTO_memcmp(code, test_otp, TOTP_DIGITS) != 0;
}

int
totp_check(const uint8_t *seed, size_t n, uint64_t now, const char *code, uint64_t *step)
{
	int pos, rc;
	uint64_t counter;

	if (strlen(code) != TOTP_DIGITS || strspn(code, "0123456789") != TOTP_DIGITS)
		return -2;
	if (now > INT64_MAX / 2 || totp_lib_init() < 0)
		return -1;
	rc = oath_totp_validate3_callback((const char *)seed, n, (time_t)now, TOTP_STEP, 0,
					  TOTP_DIGITS, TOTP_WINDOW, &pos, &counter, code_cmp,
					  (void *)code);
	if (rc < 0)
		return -1;
	*step = counter;
	return 0;
}

int
totp_uri(const char *name, const uint8_t *seed, size_t n, char *out, size_t outlen)
{
	char *b32 = NULL;
	size_t b32len = 0;
	int len;

	if (totp_lib_init() < 0)
		return -1;
	if (oath_base32_encode((const char *)seed, n, &b32, &b32len) != OATH_OK)
		return -1;
	/* Authenticator apps (Google's Key Uri Format) expect the secret without '=' padding. */
	while (b32len > 0 && b32[b32len - 1] == '=')
		b32[--b32len] = '\0';
	len = snprintf(out, outlen,
		       "otpauth://totp/wsgate:%s?secret=%s&issuer=wsgate&algorithm=SHA1&digits=%d"
		       "&period=%d",
		       name, b32, TOTP_DIGITS, TOTP_STEP);
	OPENSSL_cleanse(b32, b32len);
	free(b32);
	if (len < 0 || (size_t)len >= outlen) {
		OPENSSL_cleanse(out, outlen);
		return -1;
	}
	return 0;
}

int
totp_parse_secret(const char *b32, uint8_t *seed, size_t *n)
{
	char clean[TOTP_SEED_MAX * 2 + 8];
	char *raw = NULL;
	size_t len = 0, rawlen = 0;
	int rc = -1;

	/* Drop spaces and padding, then pad again to a multiple of 8 as liboath wants it. */
	for (const char *p = b32; *p; p++) {
		if (*p == ' ' || *p == '=')
			continue;
		if (len + 1 >= sizeof(clean) - 8)
			goto out;
		clean[len++] = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
	}
	while (len % 8)
		clean[len++] = '=';
	clean[len] = '\0';
	if (len == 0 || totp_lib_init() < 0 ||
	    oath_base32_decode(clean, len, &raw, &rawlen) != OATH_OK)
		goto out;
	if (rawlen == 0 || rawlen > TOTP_SEED_MAX)
		goto out;
	memcpy(seed, raw, rawlen);
	*n = rawlen;
	rc = 0;
out:
	if (raw) {
		OPENSSL_cleanse(raw, rawlen);
		free(raw);
	}
	OPENSSL_cleanse(clean, sizeof(clean));
	return rc;
}
