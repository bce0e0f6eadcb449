/*
 * A bounded binary codec for LMDB records and monitor messages.
 * Integers are big-endian; strings and blobs carry a u32 length. The reader never reads past
 * its buffer: any short or oversized field sets rd->err and every later read returns zero/empty,
 * so a caller may decode a whole record and check rd_ok() once at the end.
 */
#ifndef WSGATE_CODEC_H
#define WSGATE_CODEC_H

#include <stddef.h>
#include <stdint.h>

struct wbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err; /* allocation failed */
};

/* A big-endian u32 in place, for fixed-size frame headers outside a wbuf/rbuf. */
void codec_be32_put(uint8_t p[4], uint32_t v);
uint32_t codec_be32_get(const uint8_t p[4]);

void wbuf_init(struct wbuf *b);
void wbuf_free(struct wbuf *b); /* zeroes before freeing: records may hold secrets */
void wbuf_put_u8(struct wbuf *b, uint8_t v);
void wbuf_put_u32(struct wbuf *b, uint32_t v);
void wbuf_put_u64(struct wbuf *b, uint64_t v);
void wbuf_put_bytes(struct wbuf *b, const void *p, size_t n); /* u32 length + bytes */
void wbuf_put_str(struct wbuf *b, const char *s);	      /* NULL is written as "" */
void wbuf_put_raw(struct wbuf *b, const void *p, size_t n);   /* no length prefix */

struct rbuf {
	const uint8_t *data;
	size_t len;
	size_t off;
	int err;
};

void rbuf_init(struct rbuf *r, const void *data, size_t len);
uint8_t rbuf_u8(struct rbuf *r);
uint32_t rbuf_u32(struct rbuf *r);
uint64_t rbuf_u64(struct rbuf *r);
/* Copies a string field into out (cap bytes, NUL-terminated). A field that does not fit, or
 * that holds a NUL byte, is an error. */
void rbuf_str(struct rbuf *r, char *out, size_t cap);
/* Copies a blob field of at most cap bytes; *n gets its length. */
void rbuf_bytes(struct rbuf *r, void *out, size_t cap, size_t *n);
/* Points into the buffer at a blob field without copying. */
const uint8_t *rbuf_view(struct rbuf *r, size_t *n);
void rbuf_raw(struct rbuf *r, void *out, size_t n);
/* 1 if every read so far succeeded and the whole buffer was consumed. */
int rbuf_done(const struct rbuf *r);
int rbuf_ok(const struct rbuf *r);

#endif
