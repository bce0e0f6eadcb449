/*
 * What a reviewer sees of the bytes under review (SPEC "The airlock": `transfer view ID`).
 * A pure, bounded renderer: bytes read from an fd, a list of cells to mark and display options
 * in; text written to an fd out. It holds no store, no key and no path, so it runs in the
 * same unprivileged, confined child as the checker (the `view` job, transfer/view_job.h).
 *
 *   CSV/TSV (by the name's extension, content that is text): an aligned table with row numbers,
 *     column numbers and names; every marked cell in reverse video on a terminal, `‹value›!`
 *     otherwise; columns that do not fit the width are shown in further pages of columns.
 *   Any other text: numbered lines, long lines wrapped.
 *   Anything else: its detected type (by signature), size and SHA-256, never its bytes.
 * In every case control characters, invalid UTF-8, bidirectional overrides and backslashes are
 * shown escaped (\x1b, \u202e, \\), so nothing in the file acts on the reviewer's terminal.
 * Display width is measured with wcwidth() in the C.UTF-8 locale (Japanese takes two columns).
 */
#ifndef WSGATE_VIEW_H
#define WSGATE_VIEW_H

#include <stddef.h>
#include <stdint.h>

#define VIEW_MAX_BYTES (64u << 20) /* shown of a larger file: the first 64 MiB (hashed whole) */
#define VIEW_MAX_ROWS 10000u	   /* rows or lines shown; the rest are counted */
#define VIEW_MAX_COLUMNS 1024u	   /* columns shown; the rest are counted */
#define VIEW_MAX_FIELD 65536u	   /* a longer field ends the table (as in the checker) */
#define VIEW_CELL_COLS 40u	   /* a cell wider than this is cut with "…" */

/* A cell to mark, numbered as the checker's findings are: row 1 is the first data row, row 0
 * the header; column 1 the first column. Column 0 marks the row's number, row 0 a header. */
struct view_mark {
	uint32_t row, column;
};

struct view_opts {
	int terminal;	 /* marks in reverse video (ECMA-48 SGR 7); else `‹value›!` */
	unsigned width;	 /* display columns available; 0 = no limit (one page of columns) */
	unsigned rows;	 /* rows or lines shown; 0 = VIEW_MAX_ROWS */
	const char *eol; /* line ending; NULL = "\n" ("\r\n" for a raw client terminal) */
};

/*
 * Renders the file open at in_fd (read from offset 0 with pread) named name (used only for its
 * extension and shown escaped) to out_fd. Returns 0, or -1 with a one-line reason in why (the
 * file could not be read, or out_fd could not be written).
 */
int view_render(int in_fd, const char *name, const struct view_mark *marks, size_t nmarks,
		const struct view_opts *o, int out_fd, char *why, size_t whylen);

/*
 * The escaping of one string for display, exposed for tests and for other displays of hostile
 * text: at most maxcols display columns (0 = unlimited; a cut string ends in "…"), the result
 * NUL-terminated in out (which must hold 4 * len + 8 bytes for the whole string). Sets *cols to
 * the display width. Returns the number of input bytes consumed.
 */
size_t view_escape(const char *in, size_t len, unsigned maxcols, char *out, size_t outlen,
		   unsigned *cols);

#endif
