/* asciicast v2 event lines (asciicast.h). */
#include "common/asciicast.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"

size_t
asciicast_quote(const uint8_t *p, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i = 0;

	if (cap < 3)
		return 0;
	out[o++] = '"';
	while (i < n) {
		size_t len, run = 0;
		uint32_t cp;

		/* Fast path: a run of printable ASCII other than '"' and '\\' goes as it is (most
		 * of what a terminal shows). */
		while (i + run < n && p[i + run] >= 0x20 && p[i + run] < 0x7f &&
		       p[i + run] != '"' && p[i + run] != '\\')
			run++;
		if (run) {
			if (o + run + 8 > cap)
				return 0;
			memcpy(out + o, p + i, run);
			o += run;
			i += run;
			continue;
		}
		len = utf8_decode(p + i, n - i, &cp);
		if (o + 8 > cap)
			return 0;
		if (p[i] == '\n' || p[i] == '\r' || p[i] == '\t') {
			/* the commonest controls of a terminal, in their short forms */
			out[o++] = '\\';
			out[o++] = p[i] == '\n' ? 'n' : p[i] == '\r' ? 'r' : 't';
			i++;
		} else if (len == 0 || p[i] < 0x20 || p[i] == 0x7f) {
			/* a control character, or a byte that is not UTF-8 (\udcXX) */
			memcpy(out + o, len == 0 ? "\\udc" : "\\u00", 4);
			out[o + 4] = hex[p[i] >> 4];
			out[o + 5] = hex[p[i] & 15];
			o += 6;
			i++;
		} else if (p[i] == '"' || p[i] == '\\') {
			out[o++] = '\\';
			out[o++] = (char)p[i++];
		} else {
			memcpy(out + o, p + i, len);
			o += len;
			i += len;
		}
	}
	out[o++] = '"';
	return o;
}

size_t
asciicast_event(double seconds, char code, const uint8_t *p, size_t n, char *out, size_t cap)
{
	int head;
	size_t q;

	if (n > ASCIICAST_DATA_MAX || !(seconds >= 0) || seconds > 1e12)
		return 0;
	head = snprintf(out, cap, "[%.6f, \"%c\", ", seconds, code);
	if (head < 0 || (size_t)head >= cap)
		return 0;
	q = asciicast_quote(p, n, out + head, cap - (size_t)head);
	if (q == 0 || (size_t)head + q + 3 > cap)
		return 0;
	memcpy(out + head + q, "]\n", 2);
	return (size_t)head + q + 2;
}

/* ---- decoding ---- */

struct cur {
	const char *p, *end;
};

static void
skip_ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

static int
take(struct cur *c, char ch)
{
	skip_ws(c);
	if (c->p >= c->end || *c->p != ch)
		return -1;
	c->p++;
	return 0;
}

static int
hex4(const char *p, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char ch = p[i];
		int d = ch >= '0' && ch <= '9'	 ? ch - '0'
			: ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
			: ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
						 : -1;

		if (d < 0)
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

static int
put_utf8(uint32_t cp, uint8_t *out, size_t cap, size_t *o)
{
	uint8_t b[4];
	size_t n;

	if (cp < 0x80)
		b[0] = (uint8_t)cp, n = 1;
	else if (cp < 0x800)
		b[0] = (uint8_t)(0xc0 | cp >> 6), b[1] = (uint8_t)(0x80 | (cp & 0x3f)), n = 2;
	else if (cp < 0x10000)
		b[0] = (uint8_t)(0xe0 | cp >> 12), b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)),
		b[2] = (uint8_t)(0x80 | (cp & 0x3f)), n = 3;
	else
		b[0] = (uint8_t)(0xf0 | cp >> 18), b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f)),
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (uint8_t)(0x80 | (cp & 0x3f)),
		n = 4;
	if (*o + n > cap)
		return -1;
	memcpy(out + *o, b, n);
	*o += n;
	return 0;
}

/* One \u escape at c->p (after the backslash and 'u'), with a following low surrogate if it is a
 * high one; a lone \udc80..\udcff is the raw byte it escaped. */
static int
unicode_escape(struct cur *c, uint8_t *out, size_t cap, size_t *o)
{
	uint32_t cp, lo;

	if (c->end - c->p < 4 || hex4(c->p, &cp) < 0)
		return -1;
	c->p += 4;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' ||
		    hex4(c->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
			return -1;
		c->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	} else if (cp >= 0xdc80 && cp <= 0xdcff) {
		if (*o >= cap)
			return -1;
		out[(*o)++] = (uint8_t)(cp & 0xff);
		return 0;
	} else if (cp >= 0xd800 && cp <= 0xdfff) {
		return -1;
	}
	return put_utf8(cp, out, cap, o);
}

static int
string(struct cur *c, uint8_t *out, size_t cap, size_t *outlen)
{
	static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
	size_t o = 0;

	if (take(c, '"') < 0)
		return -1;
	while (c->p < c->end && *c->p != '"') {
		if (*c->p == '\\') {
			const char *e;

			if (++c->p >= c->end)
				return -1;
			if (*c->p == 'u') {
				c->p++;
				if (unicode_escape(c, out, cap, &o) < 0)
					return -1;
				continue;
			}
			if ((e = memchr(esc_in, *c->p, sizeof(esc_in) - 1)) == NULL || o >= cap)
				return -1;
			out[o++] = (uint8_t)esc_out[e - esc_in];
			c->p++;
		} else {
			if ((uint8_t)*c->p < 0x20 || o >= cap)
				return -1;
			out[o++] = (uint8_t)*c->p++;
		}
	}
	if (c->p >= c->end)
		return -1;
	c->p++;
	*outlen = o;
	return 0;
}

static int
number(struct cur *c, double *v)
{
	char buf[40], *end;
	size_t n = 0;

	skip_ws(c);
	while (c->p + n < c->end && n < sizeof(buf) - 1 && strchr("0123456789.eE+-", c->p[n]) &&
	       c->p[n])
		n++;
	if (n == 0 || n == sizeof(buf) - 1)
		return -1;
	memcpy(buf, c->p, n);
	buf[n] = '\0';
	*v = strtod(buf, &end);
	if (end != buf + n || !isfinite(*v) || *v < 0)
		return -1;
	c->p += n;
	return 0;
}

int
asciicast_parse_event(const char *line, size_t len, double *seconds, char *code, uint8_t *out,
		      size_t cap, size_t *outlen)
{
	struct cur c = {line, line + len};
	uint8_t cb[4];
	size_t cn;

	if (len && line[len - 1] == '\n')
		c.end--;
	if (take(&c, '[') < 0 || number(&c, seconds) < 0 || take(&c, ',') < 0 ||
	    string(&c, cb, sizeof(cb), &cn) < 0 || cn != 1 || take(&c, ',') < 0 ||
	    string(&c, out, cap, outlen) < 0 || take(&c, ']') < 0)
		return -1;
	skip_ws(&c);
	if (c.p != c.end)
		return -1;
	*code = (char)cb[0];
	return 0;
}
