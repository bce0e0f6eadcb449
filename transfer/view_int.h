/* Internals shared by view.c (reading, type, text) and view_table.c (tables). */
#ifndef WSGATE_VIEW_INT_H
#define WSGATE_VIEW_INT_H

#include <stddef.h>
#include <stdint.h>

#include "transfer/view.h"

#define VIEW_OUT_BUF 65536

/* A buffered writer: the first failed write sets err and the rest is dropped. */
struct view_out {
	int fd;
	int err;
	const char *eol;
	size_t len;
	char buf[VIEW_OUT_BUF];
};

void vo_put(struct view_out *o, const char *s, size_t n);
void vo_str(struct view_out *o, const char *s);
void vo_fmt(struct view_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vo_eol(struct view_out *o);
void vo_pad(struct view_out *o, unsigned n, char c);
int vo_flush(struct view_out *o);

/* view_escape's worker: ellipsis = 0 cuts without the "…" (a wrapped line goes on). */
size_t view_escape_cut(const char *in, size_t len, unsigned maxcols, int ellipsis, char *out,
		       size_t outlen, unsigned *cols);
/* Bytes view_escape_cut needs for n input bytes, with its terminating NUL. */
#define VIEW_ESC_SIZE(n) (4 * (size_t)(n) + 16)

unsigned view_digits(unsigned long v); /* decimal digits of v */

/* Marks sorted for lookup, and which of them were shown. */
struct view_marks {
	struct view_mark *m;
	uint8_t *shown;
	size_t n;
};
int view_marked(struct view_marks *vm, uint32_t row, uint32_t column);
/* Writes a cell's escaped text, marked or not, padded with spaces to width unless last. */
void view_cell(struct view_out *o, const char *esc, unsigned cols, int marked, int terminal,
	       unsigned width, int last);

/* Renders text (UTF-8, BOM already skipped) as a table split on delim. Returns 0, or 1 if the
 * text is not a well-formed table (nothing written: the caller shows it as text), or -1. */
int view_table(struct view_out *out, const char *text, size_t len, unsigned char delim,
	       struct view_marks *vm, const struct view_opts *o, char *why, size_t whylen);

#endif
