/*
 * The reviewer's view of the bytes under review (see view.h): reading and hashing, the type by
 * signature, the decoding to UTF-8, the escaping of every character for a terminal, and the
 * numbered text view. Tables are laid out in view_table.c.
 */
#include "transfer/view.h"

#include <errno.h>
#include <iconv.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <wchar.h>

#include <openssl/evp.h>

#include "common/fsutil.h"
#include "common/nitems.h"
#include "common/utf8.h"
#include "common/why.h"
#include "transfer/view_int.h"

/* ---- output ---- */

int
vo_flush(struct view_out *o)
{
	if (!o->err && o->len && write_all(o->fd, o->buf, o->len) < 0)
		o->err = errno ? errno : EIO;
	o->len = 0;
	return o->err ? -1 : 0;
}

void
vo_put(struct view_out *o, const char *s, size_t n)
{
	while (n > 0 && !o->err) {
		size_t k = sizeof(o->buf) - o->len;

		if (k == 0) {
			vo_flush(o);
			continue;
		}
		if (k > n)
			k = n;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

void
vo_str(struct view_out *o, const char *s)
{
	vo_put(o, s, strlen(s));
}

void
vo_fmt(struct view_out *o, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		vo_put(o, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void
vo_eol(struct view_out *o)
{
	vo_str(o, o->eol);
}

void
vo_pad(struct view_out *o, unsigned n, char c)
{
	char sp[64];

	memset(sp, c, sizeof(sp));
	while (n > 0) {
		unsigned k = n < sizeof(sp) ? n : (unsigned)sizeof(sp);

		vo_put(o, sp, k);
		n -= k;
	}
}

/* ---- escaping ---- */

/*
 * Characters that reorder or hide what is around them (Trojan Source, CVE-2021-42574): the
 * bidirectional embeddings, overrides and isolates, the marks, and the invisible separators.
 * A reviewer must see them, so they are shown as \uXXXX.
 */
static int
reorders_or_hides(uint32_t cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
	       cp == 0x200f || cp == 0x061c || (cp >= 0x2028 && cp <= 0x2029) || cp == 0xfeff ||
	       (cp >= 0x200b && cp <= 0x200d) || cp == 0x2060;
}

size_t
view_escape_cut(const char *in, size_t len, unsigned maxcols, int ellipsis, char *out,
		size_t outlen, unsigned *cols)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0;
	unsigned w = 0;

	/* Room for the longest escape (\U0010ffff), "…" and the NUL. */
	while (i < len && o + 16 < outlen) {
		char esc[16];
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);
		unsigned cw;
		int ww = 1;

		esc[0] = '\0';
		if (n == 0)
			snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
		else if (cp == '\\')
			snprintf(esc, sizeof(esc), "\\\\");
		else if (cp == '\t')
			snprintf(esc, sizeof(esc), "\\t");
		else if (cp == '\r')
			snprintf(esc, sizeof(esc), "\\r");
		else if (cp == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (cp < 0x20 || cp == 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", (unsigned)cp);
		else if ((cp >= 0x80 && cp <= 0x9f) || reorders_or_hides(cp))
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
		else if (cp >= 0x80 && (ww = wcwidth((wchar_t)cp)) < 0)
			snprintf(esc, sizeof(esc), cp > 0xffff ? "\\U%08x" : "\\u%04x",
				 (unsigned)cp);
		cw = esc[0] ? (unsigned)strlen(esc) : (unsigned)ww;
		/* Keep one column for the "…" unless the rest fits as it is; at least one
		 * character is always taken, so a caller that wraps always moves on. */
		if (maxcols && w > 0 && w + cw > maxcols - (ellipsis ? 1 : 0) &&
		    !(ellipsis && w + cw <= maxcols && i + (n ? n : 1) == len))
			break;
		if (esc[0]) {
			memcpy(out + o, esc, strlen(esc));
			o += strlen(esc);
		} else {
			memcpy(out + o, p + i, n);
			o += n;
		}
		w += cw;
		i += n ? n : 1;
	}
	if (i < len && ellipsis) {
		memcpy(out + o, "\xe2\x80\xa6", 3); /* … */
		o += 3;
		w++;
	}
	out[o] = '\0';
	*cols = w;
	return i;
}

size_t
view_escape(const char *in, size_t len, unsigned maxcols, char *out, size_t outlen, unsigned *cols)
{
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0), prev;
	size_t n;

	/* Without C.UTF-8 every character outside ASCII is shown as \uXXXX: safe, if plain. */
	prev = utf8 != (locale_t)0 ? uselocale(utf8) : (locale_t)0;
	n = view_escape_cut(in, len, maxcols, 1, out, outlen, cols);
	if (utf8 != (locale_t)0) {
		uselocale(prev);
		freelocale(utf8);
	}
	return n;
}

/* ---- marks ---- */

static int
mark_cmp(const void *a, const void *b)
{
	const struct view_mark *x = a, *y = b;

	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	return x->column < y->column ? -1 : x->column > y->column;
}

int
view_marked(struct view_marks *vm, uint32_t row, uint32_t column)
{
	struct view_mark key = {row, column}, *hit;

	if (!vm->n)
		return 0;
	hit = bsearch(&key, vm->m, vm->n, sizeof(key), mark_cmp);
	if (!hit)
		return 0;
	vm->shown[hit - vm->m] = 1;
	return 1;
}

void
view_cell(struct view_out *o, const char *esc, unsigned cols, int marked, int terminal,
	  unsigned width, int last)
{
	if (marked && terminal) {
		vo_str(o, "\x1b[7m"); /* SGR 7, reverse video; 27 ends it */
		vo_str(o, esc);
		vo_str(o, "\x1b[27m");
	} else if (marked) {
		vo_str(o, "\xe2\x80\xb9"); /* ‹ */
		vo_str(o, esc);
		vo_str(o, "\xe2\x80\xba!"); /* ›! */
		cols += 3;
	} else {
		vo_str(o, esc);
	}
	if (!last && width > cols)
		vo_pad(o, width - cols, ' ');
}

/* Marks are copied, sorted and deduplicated: the caller's array stays as it was. */
static int
marks_prepare(const struct view_mark *marks, size_t n, struct view_marks *vm)
{
	size_t i, k = 0;

	memset(vm, 0, sizeof(*vm));
	if (n == 0)
		return 0;
	if (!(vm->m = calloc(n, sizeof(*vm->m))) || !(vm->shown = calloc(n, 1)))
		return -1;
	memcpy(vm->m, marks, n * sizeof(*marks));
	qsort(vm->m, n, sizeof(*vm->m), mark_cmp);
	for (i = 0; i < n; i++)
		if (k == 0 || mark_cmp(&vm->m[k - 1], &vm->m[i]) != 0)
			vm->m[k++] = vm->m[i];
	vm->n = k;
	return 0;
}

/* Marks that named no cell on screen are listed, so a finding is never silently lost. */
static void
marks_unshown(struct view_out *o, const struct view_marks *vm)
{
	unsigned listed = 0, missing = 0;

	for (size_t i = 0; i < vm->n; i++)
		missing += !vm->shown[i];
	if (!missing)
		return;
	vo_fmt(o, "marked but not shown (%u): ", missing);
	for (size_t i = 0; i < vm->n && listed < 20; i++) {
		if (vm->shown[i])
			continue;
		vo_fmt(o, "%srow %u column %u", listed ? ", " : "", (unsigned)vm->m[i].row,
		       (unsigned)vm->m[i].column);
		listed++;
	}
	if (missing > listed)
		vo_str(o, ", ...");
	vo_eol(o);
}

/* ---- reading and type ---- */

struct view_file {
	char *data; /* the first VIEW_MAX_BYTES */
	size_t len;
	uint64_t size; /* the whole file */
	uint8_t sha256[32];
};

static int
read_file(int fd, struct view_file *f, char *why, size_t whylen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t cap = 0;
	char buf[65536];
	unsigned hl = 0;
	int ret = -1;

	memset(f, 0, sizeof(*f));
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		why_set(why, whylen, "sha256: cannot initialise");
		goto out;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), (off_t)f->size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			why_set(why, whylen, "read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(md, buf, (size_t)n) != 1) {
			why_set(why, whylen, "sha256: update failed");
			goto out;
		}
		f->size += (uint64_t)n;
		if (f->len < VIEW_MAX_BYTES) {
			size_t k = (size_t)n;

			if (k > VIEW_MAX_BYTES - f->len)
				k = VIEW_MAX_BYTES - f->len;
			if (f->len + k + 1 > cap) {
				size_t nc = cap ? cap * 2 : 1 << 16;
				char *p;

				while (nc < f->len + k + 1)
					nc *= 2;
				if (!(p = realloc(f->data, nc))) {
					why_set(why, whylen, "out of memory");
					goto out;
				}
				f->data = p;
				cap = nc;
			}
			memcpy(f->data + f->len, buf, k);
			f->len += k;
		}
	}
	if (EVP_DigestFinal_ex(md, f->sha256, &hl) != 1 || hl != 32) {
		why_set(why, whylen, "sha256: final failed");
		goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(md);
	return ret;
}

/*
 * Types known by their first bytes. Only a signature is compared: nothing of the file is
 * parsed to name its type, so naming it cannot go wrong in an interesting way.
 */
/* clang-format off */
static const struct {
	size_t off;
	const char *magic;
	size_t len;
	const char *type;
} signatures[] = {
	{0, "%PDF-", 5, "PDF document"},
	{0, "\x89PNG\r\n\x1a\n", 8, "PNG image"},
	{0, "\xff\xd8\xff", 3, "JPEG image"},
	{0, "GIF8", 4, "GIF image"},
	{0, "PK\x03\x04", 4, "ZIP archive (also .xlsx, .docx, .pptx)"},
	{0, "PK\x05\x06", 4, "ZIP archive (empty)"},
	{0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, "OLE2 compound file (.xls, .doc)"},
	{0, "\x1f\x8b", 2, "gzip compressed data (also .rds, .RData)"},
	{0, "BZh", 3, "bzip2 compressed data"},
	{0, "\xfd" "7zXZ\x00", 6, "xz compressed data"},
	{0, "7z\xbc\xaf\x27\x1c", 6, "7-zip archive"},
	{0, "\x28\xb5\x2f\xfd", 4, "zstd compressed data"},
	{0, "SQLite format 3", 16, "SQLite database"},
	{0, "PAR1", 4, "Parquet file"},
	{0, "\x7f" "ELF", 4, "ELF executable"},
	{0, "RDX", 3, "R data (uncompressed)"},
	{0, "\x89HDF\r\n\x1a\n", 8, "HDF5 data"},
	{257, "ustar", 5, "tar archive"},
};
/* clang-format on */

static const char *
signature_type(const char *data, size_t len)
{
	for (size_t i = 0; i < nitems(signatures); i++)
		if (len >= signatures[i].off + signatures[i].len &&
		    memcmp(data + signatures[i].off, signatures[i].magic, signatures[i].len) == 0)
			return signatures[i].type;
	return NULL;
}

/* Offset of the first byte that is not valid UTF-8 or is NUL, or len. A sequence cut by the
 * VIEW_MAX_BYTES limit at the very end counts as valid. */
static size_t
utf8_bad_at(const char *s, size_t len, int cut)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);

		if (n == 0 && cut && len - i < 4)
			return len;
		if (n == 0 || cp == 0)
			return i;
		i += n;
	}
	return len;
}

/*
 * Text with a few stray bytes is still shown (each bad byte as \xHH): a reviewer must see a
 * table the checker failed for its encoding. No NUL, and at most one byte in 10 invalid.
 */
static int
mostly_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, bad = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);

		if (n && cp == 0)
			return 0;
		bad += n == 0;
		i += n ? n : 1;
	}
	return bad * 10 <= len;
}

/*
 * Shift_JIS as Windows writes it (CP932), converted with glibc's iconv. The result replaces
 * f->data. Returns 0 if every byte converted (and no NUL came out), -1 otherwise.
 */
static int
from_cp932(struct view_file *f)
{
	iconv_t cd = iconv_open("UTF-8", "CP932");
	size_t inleft = f->len, outcap = f->len * 3 + 16, outleft = outcap;
	char *in = f->data, *out, *op;
	int ret = -1;

	if (cd == (iconv_t)-1)
		return -1;
	if (!(out = malloc(outcap))) {
		iconv_close(cd);
		return -1;
	}
	op = out;
	if (iconv(cd, &in, &inleft, &op, &outleft) != (size_t)-1 && inleft == 0 &&
	    utf8_bad_at(out, outcap - outleft, 0) == outcap - outleft) {
		free(f->data);
		f->data = out;
		f->len = outcap - outleft;
		out = NULL;
		ret = 0;
	}
	free(out);
	iconv_close(cd);
	return ret;
}

static int
name_has_ext(const char *name, const char *ext)
{
	const char *dot = name ? strrchr(name, '.') : NULL;

	return dot && dot != name && strcasecmp(dot + 1, ext) == 0;
}

/* ---- text ---- */

unsigned
view_digits(unsigned long v)
{
	unsigned n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* Numbered lines; a line longer than the width goes on in lines marked "+". */
static int
view_text(struct view_out *o, const char *text, size_t len, struct view_marks *vm,
	  const struct view_opts *opt, char *why, size_t whylen)
{
	unsigned maxrows = opt->rows ? opt->rows : VIEW_MAX_ROWS, nw, avail;
	unsigned long nlines = 0, shown = 0;
	size_t i, start;
	char *esc;

	for (i = 0; i < len; i++)
		nlines += text[i] == '\n';
	if (len && text[len - 1] != '\n')
		nlines++;
	nw = view_digits(nlines ? nlines : 1);
	avail = opt->width > nw + 3 + 8 ? opt->width - nw - 3 : opt->width ? 8 : 0;
	if (!(esc = malloc(VIEW_ESC_SIZE(4096))))
		return why_set(why, whylen, "out of memory");
	for (start = 0; start < len && shown < maxrows && !o->err; shown++) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len, l = end - start, done = 0;
		int marked = view_marked(vm, (uint32_t)(shown + 1), 0);

		/* CRLF endings: the CR is the line's end, not its content. */
		if (l && text[start + l - 1] == '\r')
			l--;
		do {
			unsigned cols;
			size_t chunk = l - done > 4096 ? 4096 : l - done;
			size_t used = view_escape_cut(text + start + done, chunk, avail, 0, esc,
						      VIEW_ESC_SIZE(4096), &cols);

			if (done == 0) {
				char num[24];

				snprintf(num, sizeof(num), "%*lu", (int)nw, shown + 1);
				view_cell(o, num, nw, marked, opt->terminal, 0, 1);
				vo_str(o, " | ");
			} else {
				vo_pad(o, nw, ' ');
				vo_str(o, " + ");
			}
			vo_str(o, esc);
			vo_eol(o);
			done += used ? used : chunk;
		} while (done < l && !o->err);
		start = end + 1;
	}
	if (nlines > shown)
		vo_fmt(o, "(%lu more lines not shown)%s", nlines - shown, o->eol);
	free(esc);
	return 0;
}

/* ---- the whole view ---- */

static void
header(struct view_out *o, const char *name, const struct view_file *f, const char *type,
       int shown_cut)
{
	char esc[VIEW_ESC_SIZE(255)], hex[65];
	unsigned cols;

	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", f->sha256[i]);
	view_escape(name ? name : "", name ? strnlen(name, 255) : 0, 0, esc, sizeof(esc), &cols);
	vo_fmt(o, "name:   %s%s", esc, o->eol);
	vo_fmt(o, "size:   %llu bytes%s", (unsigned long long)f->size, o->eol);
	vo_fmt(o, "sha256: %s%s", hex, o->eol);
	vo_fmt(o, "type:   %s%s", type, o->eol);
	if (shown_cut)
		vo_fmt(o, "shown:  the first %u MiB only%s", VIEW_MAX_BYTES >> 20, o->eol);
}

static int
render(struct view_out *o, const char *name, struct view_file *f, struct view_marks *vm,
       const struct view_opts *opt, char *why, size_t whylen)
{
	const char *sig = signature_type(f->data, f->len), *text, *enc = "UTF-8";
	int cut = f->size > f->len, csv = name_has_ext(name, "csv"),
	    tsv = name_has_ext(name, "tsv");
	char type[160];
	size_t len;
	int rc;

	if (f->size == 0) {
		header(o, name, f, "empty file", 0);
		return 0;
	}
	if (!sig && utf8_bad_at(f->data, f->len, cut) < f->len) {
		if (from_cp932(f) == 0)
			enc = "Shift_JIS (CP932), shown converted to UTF-8";
		else if (mostly_utf8(f->data, f->len))
			enc = "UTF-8 with invalid bytes (shown as \\xHH)";
		else
			sig = "data, not text (neither UTF-8 nor Shift_JIS)";
	}
	if (sig) {
		snprintf(type, sizeof(type), "%s (not shown)", sig);
		header(o, name, f, type, 0);
		return 0;
	}
	text = f->data;
	len = f->len;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		enc = "UTF-8 with byte order mark";
		text += 3;
		len -= 3;
	}
	if (csv || tsv) {
		snprintf(type, sizeof(type), "%s table, %s", csv ? "CSV" : "TSV", enc);
		header(o, name, f, type, cut);
		vo_eol(o);
		rc = view_table(o, text, len, csv ? ',' : '\t', vm, opt, why, whylen);
		if (rc <= 0)
			return rc;
		vo_str(o, "(not a well-formed table: shown as text)");
		vo_eol(o);
	} else {
		snprintf(type, sizeof(type), "text, %s", enc);
		header(o, name, f, type, cut);
		vo_eol(o);
	}
	return view_text(o, text, len, vm, opt, why, whylen);
}

int
view_render(int in_fd, const char *name, const struct view_mark *marks, size_t nmarks,
	    const struct view_opts *opt, int out_fd, char *why, size_t whylen)
{
	struct view_opts defaults = {0};
	struct view_out *o = NULL;
	struct view_marks vm;
	struct view_file f;
	locale_t utf8 = (locale_t)0, prev = (locale_t)0;
	int ret = -1;

	memset(&f, 0, sizeof(f));
	if (!opt)
		opt = &defaults;
	if (marks_prepare(marks, nmarks, &vm) < 0 || !(o = calloc(1, sizeof(*o)))) {
		why_set(why, whylen, "out of memory");
		goto out;
	}
	o->fd = out_fd;
	o->eol = opt->eol ? opt->eol : "\n";
	/* wcwidth() follows the thread's locale: measure in C.UTF-8 (built into glibc since
	 * 2.35, so no locale file is opened), whatever the caller's locale is. */
	if ((utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0)) == (locale_t)0) {
		why_set(why, whylen, "locale C.UTF-8: %s", strerror(errno));
		goto out;
	}
	prev = uselocale(utf8);
	if (read_file(in_fd, &f, why, whylen) < 0)
		goto out;
	if (render(o, name, &f, &vm, opt, why, whylen) < 0)
		goto out;
	marks_unshown(o, &vm);
	if (vo_flush(o) < 0) {
		why_set(why, whylen, "write: %s", strerror(o->err));
		goto out;
	}
	ret = 0;
out:
	if (prev != (locale_t)0)
		uselocale(prev);
	if (utf8 != (locale_t)0)
		freelocale(utf8);
	free(f.data);
	free(vm.m);
	free(vm.shown);
	free(o);
	return ret;
}
