#include "common/codec.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* Records and messages are small; anything near this is corrupt or hostile. */
#define WBUF_MAX (64u << 20)

void
wbuf_init(struct wbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void
wbuf_free(struct wbuf *b)
{
	if (b->data) {
		OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
	}
	memset(b, 0, sizeof(*b));
}

static int
wbuf_reserve(struct wbuf *b, size_t n)
{
	size_t ncap;
	uint8_t *p;

	if (b->err)
		return -1;
	if (n > WBUF_MAX || b->len > WBUF_MAX - n) {
		b->err = 1;
		return -1;
	}
	if (b->len + n <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 128;
	while (ncap < b->len + n)
		ncap *= 2;
	p = malloc(ncap);
	if (!p) {
		b->err = 1;
		return -1;
	}
	/* Copy rather than realloc so the old block can be wiped. */
	if (b->data) {
		memcpy(p, b->data, b->len);
		OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = ncap;
	return 0;
}

void
wbuf_put_raw(struct wbuf *b, const void *p, size_t n)
{
	if (wbuf_reserve(b, n) < 0)
		return;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
wbuf_put_u8(struct wbuf *b, uint8_t v)
{
	wbuf_put_raw(b, &v, 1);
}

void
codec_be32_put(uint8_t p[4], uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t
codec_be32_get(const uint8_t p[4])
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void
wbuf_put_u32(struct wbuf *b, uint32_t v)
{
	uint8_t x[4];

	codec_be32_put(x, v);
	wbuf_put_raw(b, x, sizeof(x));
}

void
wbuf_put_u64(struct wbuf *b, uint64_t v)
{
	wbuf_put_u32(b, (uint32_t)(v >> 32));
	wbuf_put_u32(b, (uint32_t)v);
}

void
wbuf_put_bytes(struct wbuf *b, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		b->err = 1;
		return;
	}
	wbuf_put_u32(b, (uint32_t)n);
	wbuf_put_raw(b, p, n);
}

void
wbuf_put_str(struct wbuf *b, const char *s)
{
	wbuf_put_bytes(b, s ? s : "", s ? strlen(s) : 0);
}

void
rbuf_init(struct rbuf *r, const void *data, size_t len)
{
	r->data = data;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

static const uint8_t *
rbuf_take(struct rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->err || n > r->len - r->off) {
		r->err = 1;
		return NULL;
	}
	p = r->data + r->off;
	r->off += n;
	return p;
}

void
rbuf_raw(struct rbuf *r, void *out, size_t n)
{
	const uint8_t *p = rbuf_take(r, n);

	if (p)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

uint8_t
rbuf_u8(struct rbuf *r)
{
	const uint8_t *p = rbuf_take(r, 1);

	return p ? p[0] : 0;
}

uint32_t
rbuf_u32(struct rbuf *r)
{
	const uint8_t *p = rbuf_take(r, 4);

	return p ? codec_be32_get(p) : 0;
}

uint64_t
rbuf_u64(struct rbuf *r)
{
	uint64_t hi = rbuf_u32(r);

	return hi << 32 | rbuf_u32(r);
}

const uint8_t *
rbuf_view(struct rbuf *r, size_t *n)
{
	uint32_t len = rbuf_u32(r);
	const uint8_t *p = rbuf_take(r, len);

	*n = p ? len : 0;
	return p;
}

void
rbuf_bytes(struct rbuf *r, void *out, size_t cap, size_t *n)
{
	size_t len;
	const uint8_t *p = rbuf_view(r, &len);

	*n = 0;
	if (!p)
		return;
	if (len > cap) {
		r->err = 1;
		return;
	}
	memcpy(out, p, len);
	*n = len;
}

void
rbuf_str(struct rbuf *r, char *out, size_t cap)
{
	size_t len;
	const uint8_t *p = rbuf_view(r, &len);

	if (cap)
		out[0] = '\0';
	if (!p)
		return;
	if (len >= cap || memchr(p, '\0', len)) {
		r->err = 1;
		return;
	}
	memcpy(out, p, len);
	out[len] = '\0';
}

int
rbuf_ok(const struct rbuf *r)
{
	return !r->err;
}

int
rbuf_done(const struct rbuf *r)
{
	return !r->err && r->off == r->len;
}
