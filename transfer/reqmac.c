/* The MAC of an airlock request record (reqmac.h). */
#include "transfer/reqmac.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/codec.h"

static const char label[] = "wsgate request v1";

int
reqmac_seal(const struct secrets *s, uint64_t id, const void *record, size_t len,
	    uint8_t tag[REQMAC_LEN])
{
	unsigned int n = REQMAC_LEN;
	struct wbuf b;
	int rc = -1;

	wbuf_init(&b);
	wbuf_put_raw(&b, label, sizeof(label) - 1);
	wbuf_put_u64(&b, id);
	wbuf_put_raw(&b, record, len);
	if (!b.err &&
	    HMAC(EVP_sha256(), s->request_key, sizeof(s->request_key), b.data, b.len, tag, &n) &&
	    n == REQMAC_LEN)
		rc = 0;
	wbuf_free(&b);
	return rc;
}

int
reqmac_verify(const struct secrets *s, uint64_t id, const void *value, size_t vlen, size_t *len)
{
	uint8_t want[REQMAC_LEN];

	if (vlen < REQMAC_LEN)
		return -1;
	*len = vlen - REQMAC_LEN;
	if (reqmac_seal(s, id, value, *len, want) < 0)
		return -1;
	return CRYPTO_memcmp(want, (const uint8_t *)value + *len, REQMAC_LEN) == 0 ? 0 : -1;
}
