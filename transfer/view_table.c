/*
 * A CSV/TSV file as an aligned table (see view.h). The file is read with libcsv in the same way
 * the checker reads it (strict quoting, spaces trimmed, empty lines skipped), so a finding's row
 * and column name the cell shown here. Rows past the limit are counted, not kept; columns past
 * VIEW_MAX_COLUMNS likewise. Columns that do not fit the width go to further pages, each with
 * the row numbers again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "common/why.h"
#include "transfer/view_int.h"

struct vcell {
	size_t off, len; /* in arena */
};

struct vtable {
	char *arena;
	size_t alen, acap;
	struct vcell *cells;
	size_t ncells, ccap;
	size_t *row_first;  /* nrows + 1 entries: the cells of row r are [row_first[r], [r + 1]) */
	size_t nrows, rcap; /* stored rows, the header included */
	size_t keep_rows;   /* header + the data rows shown */
	unsigned cur;	    /* fields so far in the current row */
	unsigned ncols;
	unsigned long more_rows;
	int more_cols, nomem;
};

static int
grow(void **p, size_t *cap, size_t need, size_t each)
{
	size_t nc = *cap ? *cap : 256;
	void *q;

	if (need <= *cap)
		return 0;
	while (nc < need)
		nc *= 2;
	if (!(q = realloc(*p, nc * each)))
		return -1;
	*p = q;
	*cap = nc;
	return 0;
}

static void
on_field(void *s, size_t len, void *data)
{
	struct vtable *t = data;

	if (t->nomem || t->nrows >= t->keep_rows)
		return;
	if (t->cur >= VIEW_MAX_COLUMNS) {
		t->more_cols = 1;
		return;
	}
	if (grow((void **)&t->arena, &t->acap, t->alen + len + 1, 1) < 0 ||
	    grow((void **)&t->cells, &t->ccap, t->ncells + 1, sizeof(*t->cells)) < 0) {
		t->nomem = 1;
		return;
	}
	if (len)
		memcpy(t->arena + t->alen, s, len);
	t->cells[t->ncells].off = t->alen;
	t->cells[t->ncells].len = len;
	t->ncells++;
	t->alen += len;
	t->cur++;
}

static void
on_row(int c, void *data)
{
	struct vtable *t = data;

	(void)c;
	if (t->nomem)
		return;
	if (t->nrows >= t->keep_rows) {
		t->more_rows++;
		return;
	}
	if (grow((void **)&t->row_first, &t->rcap, t->nrows + 2, sizeof(size_t)) < 0) {
		t->nomem = 1;
		return;
	}
	if (t->cur > t->ncols)
		t->ncols = t->cur;
	t->nrows++;
	t->row_first[t->nrows] = t->ncells;
	t->cur = 0;
}

/* libcsv grows a field's buffer with this: refusing bounds the memory one field may take. */
static void *
capped_realloc(void *p, size_t n)
{
	return n > VIEW_MAX_FIELD ? NULL : realloc(p, n);
}

static int
only_space(unsigned char c)
{
	return c == ' ';
}

/* Returns 0 parsed, 1 not a well-formed table, -1 out of memory. */
static int
parse(struct vtable *t, const char *text, size_t len, unsigned char delim)
{
	struct csv_parser p;
	int ret = 1;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		return -1;
	csv_set_delim(&p, delim);
	csv_set_space_func(&p, only_space);
	csv_set_realloc_func(&p, capped_realloc);
	if (grow((void **)&t->row_first, &t->rcap, 1, sizeof(size_t)) < 0)
		goto out;
	t->row_first[0] = 0;
	if (csv_parse(&p, text, len, on_field, on_row, t) == len &&
	    csv_fini(&p, on_field, on_row, t) == 0)
		ret = 0;
	if (t->nomem)
		ret = -1;
out:
	csv_free(&p);
	return ret;
}

/* One cell's text as shown: escaped, cut at cap columns. */
static const char *
cell_text(const struct vtable *t, size_t row, unsigned col, unsigned cap, char *esc, size_t esclen,
	  unsigned *cols)
{
	size_t first = t->row_first[row], n = t->row_first[row + 1] - first;
	const struct vcell *c;

	if (col >= n) {
		esc[0] = '\0';
		*cols = 0;
		return esc;
	}
	c = &t->cells[first + col];
	/* Only what can be shown is escaped: cap columns take at most 4 * cap bytes of input
	 * (a 4-byte character is at least one column). */
	view_escape(t->arena + c->off, c->len > 4u * cap + 4 ? 4u * cap + 4 : c->len, cap, esc,
		    esclen, cols);
	return esc;
}

struct layout {
	unsigned *width; /* per column */
	unsigned numw;	 /* the row-number column */
	unsigned cap;	 /* a cell's display columns at most */
};

static int
measure(const struct vtable *t, struct view_marks *vm, const struct view_opts *o, struct layout *l,
	char *esc, size_t esclen)
{
	unsigned long last = t->nrows ? t->nrows - 1 : 0;

	if (!(l->width = calloc(t->ncols ? t->ncols : 1, sizeof(unsigned))))
		return -1;
	l->numw = view_digits(last) > 3 ? view_digits(last) : 3;
	l->cap = VIEW_CELL_COLS;
	/* On a narrow display a cell may take what is left beside the row numbers, less the
	 * three columns a text-mode mark adds. */
	if (o->width && o->width < l->numw + 3 + VIEW_CELL_COLS + 3)
		l->cap = o->width > l->numw + 3 + 4 + 3 ? o->width - l->numw - 3 - 3 : 4;
	for (unsigned c = 0; c < t->ncols; c++) {
		l->width[c] = view_digits(c + 1);
		for (size_t r = 0; r < t->nrows; r++) {
			unsigned cols;

			cell_text(t, r, c, l->cap, esc, esclen, &cols);
			/* view_marked also notes the mark as shown: every stored cell is. */
			if (view_marked(vm, (uint32_t)r, c + 1) && !o->terminal)
				cols += 3;
			if (cols > l->width[c])
				l->width[c] = cols;
		}
	}
	for (size_t r = 0; r < t->nrows; r++)
		view_marked(vm, (uint32_t)r, 0);
	return 0;
}

/* The last column of the page that starts at first: as many as fit, at least one. */
static unsigned
page_end(const struct vtable *t, const struct layout *l, unsigned first, unsigned width)
{
	unsigned used = l->numw + 3, c = first;

	if (!width)
		return t->ncols;
	while (c < t->ncols && (c == first || used + l->width[c] <= width)) {
		used += l->width[c] + 2;
		c++;
	}
	return c;
}

static void
page(struct view_out *out, const struct vtable *t, const struct layout *l, unsigned first,
     unsigned end, struct view_marks *vm, const struct view_opts *o, char *esc, size_t esclen)
{
	char num[24];
	unsigned c;

	/* Column numbers, as findings name them; then the names; then a rule. */
	vo_pad(out, l->numw, ' ');
	vo_str(out, " | ");
	for (c = first; c < end; c++) {
		snprintf(num, sizeof(num), "%u", c + 1);
		view_cell(out, num, view_digits(c + 1), 0, 0, l->width[c] + 2, c + 1 == end);
	}
	vo_eol(out);
	for (size_t r = 0; r < t->nrows && !out->err; r++) {
		int mk = view_marked(vm, (uint32_t)r, 0);

		if (r == 0) {
			vo_str(out, "row");
			vo_pad(out, l->numw - 3, ' ');
		} else {
			snprintf(num, sizeof(num), "%*zu", (int)l->numw, r);
			view_cell(out, num, l->numw, mk, o->terminal, 0, 1);
		}
		vo_str(out, " | ");
		for (c = first; c < end; c++) {
			unsigned cols;

			cell_text(t, r, c, l->cap, esc, esclen, &cols);
			view_cell(out, esc, cols, view_marked(vm, (uint32_t)r, c + 1), o->terminal,
				  l->width[c] + 2, c + 1 == end);
		}
		vo_eol(out);
		if (r == 0) {
			vo_pad(out, l->numw, '-');
			vo_str(out, "-+-");
			for (c = first; c < end; c++) {
				vo_pad(out, l->width[c], '-');
				if (c + 1 < end)
					vo_str(out, "  ");
			}
			vo_eol(out);
		}
	}
}

int
view_table(struct view_out *out, const char *text, size_t len, unsigned char delim,
	   struct view_marks *vm, const struct view_opts *o, char *why, size_t whylen)
{
	struct vtable t;
	struct layout l = {0};
	size_t esclen = VIEW_ESC_SIZE(4 * VIEW_CELL_COLS + 4);
	char *esc = NULL;
	unsigned first, end, npages = 0;
	int rc, ret = -1;

	memset(&t, 0, sizeof(t));
	t.keep_rows = 1 + (size_t)(o->rows ? o->rows : VIEW_MAX_ROWS);
	if ((rc = parse(&t, text, len, delim)) != 0) {
		ret = rc > 0 ? 1 : why_set(why, whylen, "out of memory");
		goto out;
	}
	if (!(esc = malloc(esclen)) || measure(&t, vm, o, &l, esc, esclen) < 0) {
		why_set(why, whylen, "out of memory");
		goto out;
	}
	vo_fmt(out, "%zu data rows, %u columns%s%s", t.nrows ? t.nrows - 1 + t.more_rows : 0,
	       t.ncols, t.more_cols ? " (and more not shown)" : "", out->eol);
	for (first = 0; first < t.ncols; first = end)
		end = page_end(&t, &l, first, o->width), npages++;
	for (first = 0; first < t.ncols && !out->err; first = end) {
		end = page_end(&t, &l, first, o->width);
		vo_eol(out);
		if (npages > 1)
			vo_fmt(out, "columns %u-%u of %u%s", first + 1, end, t.ncols, out->eol);
		page(out, &t, &l, first, end, vm, o, esc, esclen);
	}
	if (t.more_rows)
		vo_fmt(out, "(%lu more rows not shown)%s", t.more_rows, out->eol);
	if (t.more_cols)
		vo_fmt(out, "(columns beyond %u not shown)%s", VIEW_MAX_COLUMNS, out->eol);
	ret = 0;
out:
	free(esc);
	free(l.width);
	free(t.arena);
	free(t.cells);
	free(t.row_first);
	return ret;
}
