#include "common/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/fsutil.h"

int
secrets_create(const char *path)
{
	uint8_t key[SECRETS_KEY_LEN];
	int fd, rc = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno == EEXIST ? 1 : -1;
	if (RAND_bytes(key, sizeof(key)) != 1)
		goto out;
	if (write_all(fd, key, sizeof(key)) < 0 || fsync(fd) < 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	if (close(fd) < 0)
		rc = -1;
	if (rc < 0)
		unlink(path);
	return rc;
}

static int
derive(const uint8_t *master, const char *label, uint8_t *out)
{
	unsigned int len = SECRETS_KEY_LEN;

	if (!HMAC(EVP_sha256(), master, SECRETS_KEY_LEN, (const uint8_t *)label, strlen(label), out,
		  &len))
		return -1;
	return len == SECRETS_KEY_LEN ? 0 : -1;
}

int
secrets_load(const char *path, struct secrets *s)
{
	uint8_t master[SECRETS_KEY_LEN];
	struct stat st;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) ||
	    st.st_uid != geteuid() || st.st_size != SECRETS_KEY_LEN) {
		errno = EPERM;
		goto out;
	}
	if (read_all(fd, master, sizeof(master)) != (ssize_t)sizeof(master)) {
		errno = EIO;
		goto out;
	}
	if (derive(master, "wsgate seal v1", s->seal_key) < 0 ||
	    derive(master, "wsgate audit v1", s->audit_key) < 0 ||
	    derive(master, "wsgate request v1", s->request_key) < 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(master, sizeof(master));
	close(fd);
	if (rc < 0)
		secrets_wipe(s);
	return rc;
}

void
secrets_wipe(struct secrets *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

int
secrets_seal(const struct secrets *s, const void *aad, size_t aadlen, const uint8_t *pt, size_t n,
	     uint8_t *out, size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len, rc = -1;

	if (!ctx || n > INT32_MAX || aadlen > INT32_MAX)
		goto out;
	if (RAND_bytes(out, 12) != 1)
		goto out;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, s->seal_key, out) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1 ||
	    EVP_EncryptUpdate(ctx, out + 12, &len, pt, (int)n) != 1 ||
	    EVP_EncryptFinal_ex(ctx, out + 12 + len, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out + 12 + n) != 1)
		goto out;
	*outlen = n + SEAL_OVERHEAD;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int
secrets_open(const struct secrets *s, const void *aad, size_t aadlen, const uint8_t *in, size_t n,
	     uint8_t *out, size_t *outlen)
{
	EVP_CIPHER_CTX *ctx;
	size_t ctlen;
	int len, rc = -1;

	if (n < SEAL_OVERHEAD || n > INT32_MAX || aadlen > INT32_MAX)
		return -1;
	ctlen = n - SEAL_OVERHEAD;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -1;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, s->seal_key, in) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &len, in + 12, (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *)(in + 12 + ctlen)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, out + len, &len) != 1) {
		OPENSSL_cleanse(out, ctlen);
		goto out;
	}
	*outlen = ctlen;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* A few keyed HMAC contexts (the audit key, the request key), each keyed once. */
#define HMAC_CACHE 4
static struct {
	EVP_MAC_CTX *ctx;
	uint8_t key[SECRETS_KEY_LEN];
} hmac_cache[HMAC_CACHE];

static EVP_MAC_CTX *
keyed_ctx(const uint8_t *key)
{
	static EVP_MAC *alg;
	static unsigned next;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
	    OSSL_PARAM_construct_end(),
	};
	unsigned i;

	for (i = 0; i < HMAC_CACHE; i++)
		if (hmac_cache[i].ctx && CRYPTO_memcmp(hmac_cache[i].key, key, SECRETS_KEY_LEN) == 0)
			return hmac_cache[i].ctx;
	if (alg == NULL && (alg = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return NULL;
	i = next++ % HMAC_CACHE; /* a store reopened with another key replaces the oldest */
	EVP_MAC_CTX_free(hmac_cache[i].ctx);
	OPENSSL_cleanse(hmac_cache[i].key, SECRETS_KEY_LEN);
	if ((hmac_cache[i].ctx = EVP_MAC_CTX_new(alg)) == NULL ||
	    EVP_MAC_init(hmac_cache[i].ctx, key, SECRETS_KEY_LEN, params) != 1) {
		EVP_MAC_CTX_free(hmac_cache[i].ctx);
		hmac_cache[i].ctx = NULL;
		return NULL;
	}
	memcpy(hmac_cache[i].key, key, SECRETS_KEY_LEN);
	return hmac_cache[i].ctx;
}

int
secrets_hmac(const uint8_t *key, const void *a, size_t an, const void *b, size_t bn,
	     const void *c, size_t cn, uint8_t out[32])
{
	EVP_MAC_CTX *ctx = keyed_ctx(key);
	size_t len = 0;

	/* Initialising with no key restarts the MAC under the key it already holds. */
	if (ctx == NULL || EVP_MAC_init(ctx, NULL, 0, NULL) != 1)
		return -1;
	if (EVP_MAC_update(ctx, a, an) == 1 && (bn == 0 || EVP_MAC_update(ctx, b, bn) == 1) &&
	    (cn == 0 || EVP_MAC_update(ctx, c, cn) == 1) && EVP_MAC_final(ctx, out, &len, 32) == 1 &&
	    len == 32)
		return 0;
	return -1;
}
