/*
 * Reading a table: the file in 64 KiB chunks, converted from Shift_JIS (CP932, glibc's iconv)
 * when it is not UTF-8, a UTF-8 byte order mark dropped, then libcsv, which calls the rules once
 * per field and once per row. libcsv's field buffer is capped, so memory stays bounded
 * whatever the input; a table libcsv cannot read is a `type` failure naming the byte.
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <csv.h>

#include "common/why.h"
#include "transfer/check_int.h"

#define CSV_CHUNK (256 * 1024)

static iconv_t sjis_cd = (iconv_t)-1;

int
check_prepare(char *why, size_t whylen)
{
	if (sjis_cd != (iconv_t)-1)
		return 0;
	/* CP932 is Shift_JIS as Windows and Excel write it (NEC and IBM extensions). */
	if ((sjis_cd = iconv_open("UTF-8", "CP932")) == (iconv_t)-1)
		return why_set(why, whylen, "iconv CP932: %s", strerror(errno));
	return 0;
}

static void
on_field(void *s, size_t n, void *arg)
{
	rules_field(arg, s ? s : "", s ? n : 0);
}

static void
on_row(int c, void *arg)
{
	(void)c;
	rules_row_end(arg);
}

/* libcsv grows its field buffer with this; refusing bounds the memory a field may take. */
static void *
capped_realloc(void *p, size_t n)
{
	if (n > CHECK_MAX_FIELD)
		return NULL;
	return realloc(p, n);
}

static int
only_space(unsigned char c)
{
	return c == ' ';
}

/* Converts in[0..*inlen) into out; leaves an incomplete character at the end in the input
 * (moved to its start, *inlen its length). Returns bytes written, or -1 on an invalid one. */
static ssize_t
sjis_convert(unsigned char *in, size_t *inlen, unsigned char *out, size_t outcap)
{
	char *ip = (char *)in, *op = (char *)out;
	size_t il = *inlen, ol = outcap;

	if (iconv(sjis_cd, &ip, &il, &op, &ol) == (size_t)-1 && errno != EINVAL)
		return -1;
	memmove(in, ip, il);
	*inlen = il;
	return (ssize_t)(outcap - ol);
}

int
csv_scan(struct scan *sc, int fd, unsigned char delim, int sjis, char *why, size_t whylen)
{
	struct csv_parser p;
	unsigned char *buf = NULL, *conv = NULL;
	size_t have = 0, skip = 0;
	uint64_t off = 0;
	int ret = -1, perr = 0, bad_sjis = 0;

	if (sjis && check_prepare(why, whylen) < 0)
		return -1;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		return why_set(why, whylen, "csv: out of memory");
	csv_set_delim(&p, delim);
	/* libcsv trims blanks and tabs around unquoted fields; in a TSV the tab is the delimiter */
	if (delim == '\t')
		csv_set_space_func(&p, only_space);
	csv_set_realloc_func(&p, capped_realloc);
	if (!(buf = malloc(CSV_CHUNK + 8)) || (sjis && !(conv = malloc(CSV_CHUNK * 3 + 16)))) {
		why_set(why, whylen, "out of memory");
		goto out;
	}
	if (sjis)
		iconv(sjis_cd, NULL, NULL, NULL, NULL);
	for (;;) {
		ssize_t n = pread(fd, buf + have, CSV_CHUNK, (off_t)off);
		unsigned char *data = buf;
		size_t len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			why_set(why, whylen, "read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (off == 0 && !sjis && n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
			skip = 3; /* UTF-8 byte order mark */
		off += (uint64_t)n;
		len = have + (size_t)n;
		if (sjis) {
			ssize_t m = sjis_convert(buf, &len, conv, CSV_CHUNK * 3 + 16);

			if (m < 0) {
				bad_sjis = 1;
				break;
			}
			have = len;
			data = conv;
			len = (size_t)m;
		}
		if (csv_parse(&p, data + skip, len - skip, on_field, on_row, sc) != len - skip) {
			perr = 1;
			break;
		}
		skip = 0;
		if (sc->rows_truncated)
			break;
	}
	if (bad_sjis || (sjis && have)) {
		finding(sc, CHECK_FAIL, "type", 0, 0, NULL, 0,
			"neither UTF-8 nor Shift_JIS text (invalid character near byte %llu)",
			(unsigned long long)off);
		ret = 0;
		goto out;
	}
	if (!perr && !sc->rows_truncated && csv_fini(&p, on_field, on_row, sc) != 0)
		perr = 1;
	if (perr)
		finding(sc, CHECK_FAIL, "type", 0, 0, NULL, 0,
			"the table cannot be read near byte %llu: %s", (unsigned long long)off,
			csv_error(&p) == CSV_ENOMEM ? "a field is longer than 65536 bytes"
						    : csv_strerror(csv_error(&p)));
	ret = 0;
out:
	csv_free(&p);
	free(buf);
	free(conv);
	return ret;
}
