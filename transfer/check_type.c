/*
 * What the bytes are (SPEC rule `type`), by content, never by name: PDF and PNG by their
 * signatures; text if it has no NUL byte and is valid UTF-8 (with or without a byte order mark)
 * or, failing that, well-formed Shift_JIS/CP932 (lead byte 0x81-0x9f or 0xe0-0xfc followed by
 * a trail byte 0x40-0x7e or 0x80-0xfc; single bytes ASCII or half-width katakana 0xa1-0xdf).
 * iconv then decides on the characters themselves when the table is converted. Anything else is
 * binary. One pass over the file, in constant memory.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/why.h"
#include "transfer/check_int.h"

#define SNIFF_CHUNK 65536

struct utf8_state {
	unsigned need;	      /* continuation bytes still expected */
	unsigned char lo, hi; /* the range the next continuation byte must be in */
};

/* Validates one chunk, carrying a sequence cut at the chunk's end in st. 0 if invalid. */
static int
utf8_chunk(struct utf8_state *st, const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];

		if (st->need) {
			if (c < st->lo || c > st->hi)
				return 0;
			st->lo = 0x80, st->hi = 0xbf;
			st->need--;
			i++;
			continue;
		}
		if (c < 0x80) {
			/* ASCII runs, eight bytes at a time */
			while (i + 8 <= n) {
				uint64_t w;

				memcpy(&w, p + i, 8);
				if (w & 0x8080808080808080ull)
					break;
				i += 8;
			}
			if (i < n && p[i] < 0x80)
				i++;
			continue;
		}
		/* RFC 3629 table 4: no overlong forms, no surrogates, nothing above U+10FFFF */
		st->lo = 0x80, st->hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			st->need = 1;
		else if (c == 0xe0)
			st->need = 2, st->lo = 0xa0;
		else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
			st->need = 2;
		else if (c == 0xed)
			st->need = 2, st->hi = 0x9f;
		else if (c == 0xf0)
			st->need = 3, st->lo = 0x90;
		else if (c >= 0xf1 && c <= 0xf3)
			st->need = 3;
		else if (c == 0xf4)
			st->need = 3, st->hi = 0x8f;
		else
			return 0;
		i++;
	}
	return 1;
}

/* Shift_JIS structure over one chunk; *trail carries a lead byte cut at the chunk's end. */
static int
sjis_chunk(int *trail, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (*trail) {
			if (!((c >= 0x40 && c <= 0x7e) || (c >= 0x80 && c <= 0xfc)))
				return 0;
			*trail = 0;
		} else if ((c >= 0x81 && c <= 0x9f) || (c >= 0xe0 && c <= 0xfc))
			*trail = 1;
		else if (c >= 0x80 && !(c >= 0xa1 && c <= 0xdf))
			return 0;
	}
	return 1;
}

/* One pass over the file: validator 0 is UTF-8, 1 is Shift_JIS. Returns 1 valid, 0 not, 2 a NUL
 * byte (binary), -1 read error. */
static int
sniff_pass(int fd, int which, unsigned char *buf, char *why, size_t whylen)
{
	struct utf8_state u = {0, 0x80, 0xbf};
	uint64_t off = 0;
	int trail = 0;
	ssize_t n;

	for (;;) {
		n = pread(fd, buf, SNIFF_CHUNK, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return why_set(why, whylen, "read: %s", strerror(errno));
		if (n == 0)
			break;
		off += (uint64_t)n;
		if (memchr(buf, '\0', (size_t)n))
			return 2;
		if (which == 0 ? !utf8_chunk(&u, buf, (size_t)n)
			       : !sjis_chunk(&trail, buf, (size_t)n))
			return 0;
	}
	return which == 0 ? u.need == 0 : !trail;
}

int
check_sniff(int fd, enum check_content *content, int *bom, char *why, size_t whylen)
{
	static unsigned char buf[SNIFF_CHUNK];
	ssize_t n;
	int rc;

	*bom = 0;
	while ((n = pread(fd, buf, 8, 0)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return why_set(why, whylen, "read: %s", strerror(errno));
	if (n == 0) {
		*content = CONTENT_EMPTY;
		return 0;
	}
	if (n >= 5 && memcmp(buf, "%PDF-", 5) == 0) {
		*content = CONTENT_PDF;
		return 0;
	}
	if (n >= 8 && memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0) {
		*content = CONTENT_PNG;
		return 0;
	}
	if (n >= 2 && (memcmp(buf, "\xff\xfe", 2) == 0 || memcmp(buf, "\xfe\xff", 2) == 0)) {
		*content = CONTENT_UTF16;
		return 0;
	}
	*bom = n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0;
	if ((rc = sniff_pass(fd, 0, buf, why, whylen)) < 0)
		return -1;
	if (rc == 1) {
		*content = CONTENT_UTF8;
		return 0;
	}
	/* Not UTF-8: a second pass, which most exports (UTF-8) never pay for. */
	if (rc == 0 && !*bom && (rc = sniff_pass(fd, 1, buf, why, whylen)) < 0)
		return -1;
	*content = rc == 1 && !*bom ? CONTENT_SJIS : CONTENT_BINARY;
	return 0;
}

const char *
check_content_name(enum check_content c)
{
	static const char *const names[] = {"empty", "UTF-8 text",  "Shift_JIS text", "PDF",
					    "PNG",   "binary data", "UTF-16 text"};

	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}
