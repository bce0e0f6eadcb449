/*
 * The ledger's view of a table (check.h, struct check_cells): while the table is small enough to
 * be a published one (LEDGER_MAX_BYTES, LEDGER_MAX_FIELDS) every field is kept; at the end, when
 * the rules have decided which columns hold counts, each count cell is named by its row's label
 * cells and its column's header. A larger table is let go at once and keeps nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "common/why.h"
#include "transfer/check_int.h"

#define LEDGER_MAX_BYTES (1u << 20)
#define LEDGER_MAX_FIELDS 200000u

struct ledger_field {
	uint32_t row, col, off, len;
};

struct ledger_buf {
	char *arena;
	size_t used;
	struct ledger_field *f;
	size_t nf, capf;
};

void
cells_init(struct scan *sc)
{
	if ((sc->lb = calloc(1, sizeof(*sc->lb))) && !(sc->lb->arena = malloc(LEDGER_MAX_BYTES)))
		cells_free(sc);
}

void
cells_free(struct scan *sc)
{
	if (!sc->lb)
		return;
	free(sc->lb->arena);
	free(sc->lb->f);
	free(sc->lb);
	sc->lb = NULL;
}

void
cells_keep(struct scan *sc, const char *s, size_t len)
{
	struct ledger_buf *lb = sc->lb;

	if (lb->used + len > LEDGER_MAX_BYTES || lb->nf >= LEDGER_MAX_FIELDS) {
		cells_free(sc); /* too large to be a published table: not kept */
		return;
	}
	if (lb->nf == lb->capf) {
		size_t cap = lb->capf ? lb->capf * 2 : 1024;
		struct ledger_field *nf = realloc(lb->f, cap * sizeof(*nf));

		if (!nf) {
			cells_free(sc);
			return;
		}
		lb->f = nf, lb->capf = cap;
	}
	memcpy(lb->arena + lb->used, s, len);
	lb->f[lb->nf++] =
	    (struct ledger_field){sc->row, sc->col, (uint32_t)lb->used, (uint32_t)len};
	lb->used += len;
}

/* The row's label: its label cells (neither counts nor measures) joined with " | ". Returns 1
 * for a total row, which the ledger leaves out: a total added or dropped must not make a
 * changed table look like another one. */
static int
row_label(struct scan *sc, const struct ledger_field *f, size_t n, char *out, size_t outlen)
{
	size_t i, len = 0;
	int total = 0;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		const struct col *c = &sc->cols[f[i].col - 1];
		size_t l = f[i].len;

		/* counts are the cells; measures (a percentage, a mean) move with the counts, so
		 * they would make a changed table look like another one */
		if (f[i].col > sc->ncols || c->kind == COL_COUNT || c->kind == COL_MEASURE)
			continue;
		if (len && len + 3 < outlen) {
			memcpy(out + len, " | ", 3);
			len += 3;
		}
		if (len + l >= outlen)
			l = outlen - 1 - len;
		memcpy(out + len, sc->lb->arena + f[i].off, l);
		len += l;
		out[len] = '\0';
		total |= value_is_total(sc->lb->arena + f[i].off, f[i].len);
	}
	return total;
}

int
cells_finish(struct scan *sc, char *why, size_t whylen)
{
	struct ledger_buf *lb = sc->lb;
	struct check_cells *cells = sc->cells;
	char label[CHECK_LABEL_MAX];
	size_t i = 0, j, k;

	if (!cells)
		return 0;
	cells->complete = 0;
	if (!lb || sc->rows_truncated || sc->cols_truncated)
		return 0;
	if (!(cells->v = calloc(CHECK_MAX_CELLS, sizeof(*cells->v))))
		return why_set(why, whylen, "out of memory");
	while (i < lb->nf && lb->f[i].row == 0)
		i++;
	for (; i < lb->nf; i = j) {
		for (j = i; j < lb->nf && lb->f[j].row == lb->f[i].row; j++)
			;
		if (row_label(sc, lb->f + i, j - i, label, sizeof(label)))
			continue;
		for (k = i; k < j; k++) {
			const struct ledger_field *f = &lb->f[k];
			struct check_cell *cell;
			struct value v;

			if (f->col > sc->ncols || sc->cols[f->col - 1].kind != COL_COUNT)
				continue;
			value_parse(lb->arena + f->off, f->len, &v);
			if (v.kind != VAL_INT)
				continue;
			if (cells->n == CHECK_MAX_CELLS) {
				cells->n = 0;
				return 0;
			}
			cell = &cells->v[cells->n++];
			memcpy(cell->row, label, sizeof(cell->row));
			check_printable(sc->cols[f->col - 1].header,
					strlen(sc->cols[f->col - 1].header), cell->col,
					sizeof(cell->col));
			cell->value = v.n;
			cell->rown = f->row;
			cell->coln = f->col;
		}
	}
	cells->complete = 1;
	return 0;
}
