/* The MAC of an airlock request record (reqmac.h). */
#include "transfer/reqmac.h"

#include <string.h>

#include <openssl/crypto.h>

#include "common/store.h"

static const char label[] = "wsgate request v1";

int
reqmac_seal(const struct secrets *s, uint64_t id, const void *record, size_t len,
	    uint8_t tag[REQMAC_LEN])
{
	uint8_t idb[8];

	store_u64_key(id, idb);
	return secrets_hmac(s->request_key, label, sizeof(label) - 1, idb, sizeof(idb), record, len,
			    tag);
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
