#include "auth/password.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

/* Refuse stored parameters beyond these: a damaged or hostile record must not make the monitor
 * allocate gigabytes or spin for minutes. 128 * N * r * p bytes is scrypt's memory use. */
#define SCRYPT_MAX_N (1u << 20)
#define SCRYPT_MAX_R 32u
#define SCRYPT_MAX_P 16u
#define SCRYPT_MAXMEM (1100ull << 20)

struct password_params password_target = {PASSWORD_SCRYPT_N, PASSWORD_SCRYPT_R, PASSWORD_SCRYPT_P};
static unsigned long hash_count;
static struct timespec hash_cost; /* one hash with password_target (median of 3); 0 before */

static int
params_ok(uint64_t n, uint32_t r, uint32_t p)
{
	if (n < 2 || n > SCRYPT_MAX_N || (n & (n - 1)) != 0)
		return 0;
	if (r < 1 || r > SCRYPT_MAX_R || p < 1 || p > SCRYPT_MAX_P)
		return 0;
	return 128ull * n * r * p <= SCRYPT_MAXMEM;
}

static int
scrypt(const char *pw, size_t len, const uint8_t *salt, size_t saltlen, uint64_t n, uint32_t r,
       uint32_t p, uint8_t *out, size_t outlen)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[7], *q = params;
	uint64_t maxmem = SCRYPT_MAXMEM;
	int rc = -1;

	if (!params_ok(n, r, p) || len > PASSWORD_MAX)
		return -1;
	hash_count++;
	if ((kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	/* OpenSSL treats the password as bytes; a zero-length one still needs a valid pointer. */
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)(len ? pw : ""),
						 len);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	*q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	*q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
	*q = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, outlen, params) != 1)
		goto out;
	rc = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

int
password_set(struct account *a, const char *pw, size_t len, uint64_t n, uint32_t r, uint32_t p)
{
	uint8_t salt[sizeof(a->salt)], hash[sizeof(a->pwhash)];
	int rc = -1;

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		goto out;
	if (scrypt(pw, len, salt, sizeof(salt), n, r, p, hash, sizeof(hash)) < 0)
		goto out;
	memcpy(a->salt, salt, sizeof(salt));
	memcpy(a->pwhash, hash, sizeof(hash));
	a->scrypt_n = n;
	a->scrypt_r = r;
	a->scrypt_p = p;
	a->has_password = 1;
	rc = 0;
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	OPENSSL_cleanse(salt, sizeof(salt));
	return rc;
}

int
password_verify(const struct account *a, const char *pw, size_t len)
{
	uint8_t hash[sizeof(a->pwhash)];
	int rc;

	if (!a->has_password) {
		password_dummy(pw, len);
		return 0;
	}
	if (scrypt(pw, len, a->salt, sizeof(a->salt), a->scrypt_n, a->scrypt_r, a->scrypt_p, hash,
		   sizeof(hash)) < 0)
		return -1;
	rc = CRYPTO_memcmp(hash, a->pwhash, sizeof(hash)) == 0;
	OPENSSL_cleanse(hash, sizeof(hash));
	return rc;
}

void
password_dummy(const char *pw, size_t len)
{
	static const uint8_t salt[16] = "wsgate-dummy-slt";
	uint8_t hash[32];

	if (len > PASSWORD_MAX)
		len = PASSWORD_MAX;
	(void)scrypt(pw ? pw : "", pw ? len : 0, salt, sizeof(salt), password_target.n,
		     password_target.r, password_target.p, hash, sizeof(hash));
	OPENSSL_cleanse(hash, sizeof(hash));
}

int
password_needs_upgrade(const struct account *a)
{
	const struct password_params *t = &password_target;

	return a->has_password &&
	       (uint64_t)a->scrypt_n * a->scrypt_r * a->scrypt_p < t->n * t->r * t->p;
}

/* The median of three timed hashes: one run alone can land on a burst of other work. */
void
password_calibrate(void)
{
	struct timespec t0, t1;
	long long ns[3], tmp;

	for (int i = 0; i < 3; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		password_dummy("calibration", 11);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns[i] =
		    (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	}
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2 - i; j++)
			if (ns[j] > ns[j + 1]) {
				tmp = ns[j];
				ns[j] = ns[j + 1];
				ns[j + 1] = tmp;
			}
	hash_cost.tv_sec = (time_t)(ns[1] / 1000000000LL);
	hash_cost.tv_nsec = (long)(ns[1] % 1000000000LL);
}

long
password_cost_ms(void)
{
	return (long)hash_cost.tv_sec * 1000 + hash_cost.tv_nsec / 1000000;
}

void
password_delay(void)
{
	struct timespec left = hash_cost;

	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
}

unsigned long
password_hash_count(void)
{
	return hash_count;
}
