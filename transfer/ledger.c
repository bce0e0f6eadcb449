/*
 * The release ledger (see ledger.h), in DB_LEDGER:
 *   key   project NUL, SHA-256 of the table's labels (32 bytes), request id (u64 big-endian)
 *   value u32 rows, u32 columns, rows x columns u64 cells (row-major, both label lists sorted;
 *         LEDGER_ABSENT where the table had no count)
 * The labels are the table's row labels and column headers, each list sorted, so that the same
 * table with its rows in another order has the same digest. A row label that repeats gets "#2",
 * "#3" ... in the order its cells appear.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/codec.h"
#include "common/names.h"
#include "common/why.h"
#include "transfer/ledger.h"
#include "transfer/queue.h"

#define LEDGER_ABSENT UINT64_MAX

struct entry {
	char row[CHECK_LABEL_MAX + 8];
	const char *col;
	uint64_t value;
	uint32_t rown, coln;
	unsigned order;
};

struct table {
	struct entry *e;
	size_t n;
	const char **rows, **cols; /* sorted, unique */
	size_t nrows, ncols;
	uint64_t *m;  /* nrows x ncols */
	uint32_t *at; /* nrows x ncols: the entry there, for a finding's row and column */
	uint8_t sig[32];
};

static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->row, y->row);

	if (!c)
		c = strcmp(x->col, y->col);
	if (!c)
		c = x->order < y->order ? -1 : x->order > y->order;
	return c;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t
unique(const char **v, size_t n)
{
	size_t i, k = 0;

	qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++)
		if (k == 0 || strcmp(v[k - 1], v[i]) != 0)
			v[k++] = v[i];
	return k;
}

static size_t
find(const char **v, size_t n, const char *s)
{
	const char **p = bsearch(&s, v, n, sizeof(*v), cmp_str);

	return p ? (size_t)(p - v) : n;
}

static void
table_free(struct table *t)
{
	free(t->e);
	free(t->rows);
	free(t->cols);
	free(t->m);
	free(t->at);
	memset(t, 0, sizeof(*t));
}

static int
table_digest(struct table *t)
{
	struct wbuf b;
	unsigned len = 0;
	size_t i;
	int ok;

	wbuf_init(&b);
	wbuf_put_u32(&b, (uint32_t)t->nrows);
	for (i = 0; i < t->nrows; i++)
		wbuf_put_str(&b, t->rows[i]);
	wbuf_put_u32(&b, (uint32_t)t->ncols);
	for (i = 0; i < t->ncols; i++)
		wbuf_put_str(&b, t->cols[i]);
	ok = !b.err && EVP_Digest(b.data, b.len, t->sig, &len, EVP_sha256(), NULL) == 1;
	wbuf_free(&b);
	return ok && len == 32 ? 0 : -1;
}

/* The cells as a matrix over sorted labels. */
static int
table_build(const struct check_cells *cells, struct table *t)
{
	size_t i, r, c, dup = 1;

	memset(t, 0, sizeof(*t));
	if (!cells->complete || cells->n == 0)
		return 1;
	if (!(t->e = calloc(cells->n, sizeof(*t->e))) ||
	    !(t->rows = calloc(cells->n, sizeof(*t->rows))) ||
	    !(t->cols = calloc(cells->n, sizeof(*t->cols))))
		goto oom;
	for (i = 0; i < cells->n; i++) {
		snprintf(t->e[i].row, sizeof(t->e[i].row), "%s", cells->v[i].row);
		t->e[i].col = cells->v[i].col;
		t->e[i].value = cells->v[i].value;
		t->e[i].rown = cells->v[i].rown;
		t->e[i].coln = cells->v[i].coln;
		t->e[i].order = (unsigned)i;
	}
	t->n = cells->n;
	qsort(t->e, t->n, sizeof(*t->e), cmp_entry);
	/* the same (row, column) again: a repeated row label, numbered */
	for (i = 1; i < t->n; i++) {
		if (strcmp(t->e[i].col, t->e[i - 1].col) == 0 &&
		    strncmp(t->e[i].row, t->e[i - 1].row, CHECK_LABEL_MAX) == 0) {
			size_t l = strnlen(t->e[i].row, CHECK_LABEL_MAX);

			snprintf(t->e[i].row + l, sizeof(t->e[i].row) - l, "#%zu", ++dup);
		} else
			dup = 1;
	}
	for (i = 0; i < t->n; i++) {
		t->rows[i] = t->e[i].row;
		t->cols[i] = t->e[i].col;
	}
	t->nrows = unique(t->rows, t->n);
	t->ncols = unique(t->cols, t->n);
	if (t->nrows * t->ncols > 4 * CHECK_MAX_CELLS)
		return 1; /* a sparse table this wide is no published table */
	if (!(t->m = malloc(t->nrows * t->ncols * sizeof(*t->m))) ||
	    !(t->at = calloc(t->nrows * t->ncols, sizeof(*t->at))))
		goto oom;
	for (i = 0; i < t->nrows * t->ncols; i++)
		t->m[i] = LEDGER_ABSENT;
	for (i = 0; i < t->n; i++) {
		r = find(t->rows, t->nrows, t->e[i].row);
		c = find(t->cols, t->ncols, t->e[i].col);
		if (r < t->nrows && c < t->ncols) {
			t->m[r * t->ncols + c] = t->e[i].value;
			t->at[r * t->ncols + c] = (uint32_t)i;
		}
	}
	return table_digest(t) < 0 ? -1 : 0;
oom:
	table_free(t);
	return -1;
}

static size_t
key_prefix(const char *project, const uint8_t sig[32], uint8_t *key)
{
	size_t pl = strlen(project);

	memcpy(key, project, pl);
	key[pl] = '\0';
	memcpy(key + pl + 1, sig, 32);
	return pl + 1 + 32;
}

struct compare {
	const struct table *t;
	const uint8_t *prefix;
	size_t plen;
	uint32_t min;
	struct check_report *rep;
};

static int
compare_one(const MDB_val *key, const MDB_val *val, void *arg)
{
	struct compare *cmp = arg;
	const struct table *t = cmp->t;
	struct rbuf r;
	uint64_t id, old, d;
	size_t k, cells;
	char now[24];

	if (key->mv_size != cmp->plen + 8 || memcmp(key->mv_data, cmp->prefix, cmp->plen) != 0)
		return 1; /* past this table's records */
	rbuf_init(&r, (const uint8_t *)key->mv_data + cmp->plen, 8);
	id = rbuf_u64(&r);
	rbuf_init(&r, val->mv_data, val->mv_size);
	if (rbuf_u32(&r) != t->nrows || rbuf_u32(&r) != t->ncols)
		return 0; /* a digest collision: not the same labels */
	cells = t->nrows * t->ncols;
	for (k = 0; k < cells; k++) {
		const struct entry *e;

		old = rbuf_u64(&r);
		if (!rbuf_ok(&r))
			return STORE_BADRECORD;
		if (old == LEDGER_ABSENT || t->m[k] == LEDGER_ABSENT)
			continue;
		d = old > t->m[k] ? old - t->m[k] : t->m[k] - old;
		if (d < 1 || d >= cmp->min)
			continue;
		e = &t->e[t->at[k]];
		snprintf(now, sizeof(now), "%llu", (unsigned long long)t->m[k]);
		check_report_add(
		    cmp->rep, CHECK_FAIL, "differencing_release", e->rown, e->coln, e->col, now,
		    "differs by %llu from released request %llu (%llu there): the "
		    "difference is a small count",
		    (unsigned long long)d, (unsigned long long)id, (unsigned long long)old);
	}
	return 0;
}

int
ledger_check(struct store *st, const char *project, const struct check_cells *cells,
	     uint32_t min_cell_count, struct check_report *rep, char *why, size_t whylen)
{
	uint8_t prefix[NAME_MAX_LEN + 1 + 32];
	struct compare cmp;
	struct table t;
	MDB_txn *txn = NULL;
	int rc;

	if (!cells || strlen(project) > NAME_MAX_LEN)
		return 0;
	if ((rc = table_build(cells, &t)) != 0) {
		table_free(&t);
		return rc < 0 ? why_set(why, whylen, "ledger: out of memory") : 0;
	}
	cmp = (struct compare){&t, prefix, key_prefix(project, t.sig, prefix), min_cell_count, rep};
	if ((rc = store_begin(st, 1, &txn)) < 0) {
		why_set(why, whylen, "store: %s", store_strerror(rc));
		goto out;
	}
	rc = store_each(st, txn, DB_LEDGER, prefix, cmp.plen, 0, compare_one, &cmp);
	if (rc < 0)
		why_set(why, whylen, "ledger: %s", store_strerror(rc));
out:
	store_abort(txn);
	table_free(&t);
	return rc < 0 ? -1 : 0;
}

int
ledger_record(struct store *st, MDB_txn *txn, const char *project, uint64_t id,
	      const struct check_cells *cells)
{
	uint8_t key[NAME_MAX_LEN + 1 + 32 + 8];
	struct table t;
	struct wbuf b;
	size_t klen, k;
	int rc;

	if (!cells || strlen(project) > NAME_MAX_LEN)
		return 0;
	if ((rc = table_build(cells, &t)) != 0) {
		table_free(&t);
		return rc < 0 ? -ENOMEM : 0;
	}
	klen = key_prefix(project, t.sig, key);
	store_u64_key(id, key + klen);
	klen += 8;
	wbuf_init(&b);
	wbuf_put_u32(&b, (uint32_t)t.nrows);
	wbuf_put_u32(&b, (uint32_t)t.ncols);
	for (k = 0; k < t.nrows * t.ncols; k++)
		wbuf_put_u64(&b, t.m[k]);
	rc = b.err ? -ENOMEM : store_put(st, txn, DB_LEDGER, key, klen, b.data, b.len, 0);
	wbuf_free(&b);
	table_free(&t);
	return rc;
}
