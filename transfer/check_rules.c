/*
 * The table rules (SPEC "Publication checks"), applied to the fields as they stream past and,
 * for what needs a whole column, at the end. Per column we keep counters and a few remembered
 * cells, never the column itself, so a 48 MB table takes the memory of a small one; only a table
 * small enough to be a published one is also kept whole for the ledger (check_cells.c).
 *
 * Which columns hold counts: those whose header says so (check_columns.c), a wide table's age
 * band columns, and columns whose header says nothing but whose every cell is an integer or a
 * suppression mark, unless the integers are codes (leading zeros), years or row numbers.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/why.h"
#include "transfer/check_int.h"

#define DISTINCT_SAMPLE 4096 /* values of a patient-identifier column looked at */
#define DISTINCT_SLOTS 8192  /* open addressing, a power of two */
/* per-row state of one column, cleared at each row's end */
struct col_row {
	uint8_t supp, is_int;
	char text[24];
};

static void
facility_names(struct scan *sc, const char *s, size_t len, uint32_t row, uint32_t col,
	       int substring)
{
	const struct config *cfg = sc->cfg;
	size_t i, fl;

	for (i = 0; i < cfg->nfacilities; i++) {
		fl = sc->facility_len[i];
		if (fl == 0 || fl > len)
			continue;
		if (fl == len ? strncasecmp(s, cfg->facilities[i], len) == 0
			      : substring && memmem(s, len, cfg->facilities[i], fl) != NULL) {
			finding(sc, CHECK_FAIL, "facility", row, col, s, len,
				"names the configured facility %s", cfg->facilities[i]);
			return;
		}
	}
}

void
rules_file_name(struct scan *sc, const char *name)
{
	size_t i;

	/* first: the lengths and first bytes every cell's comparison uses */
	for (i = 0; i < sc->cfg->nfacilities && i < CONFIG_MAX_FACILITIES; i++) {
		unsigned char c = (unsigned char)sc->cfg->facilities[i][0];

		sc->facility_len[i] =
		    (uint8_t)strnlen(sc->cfg->facilities[i], sizeof(sc->cfg->facilities[i]) - 1);
		sc->facility_first[c] = 1;
		sc->facility_first[(unsigned char)tolower(c)] = 1;
		sc->facility_first[(unsigned char)toupper(c)] = 1;
	}
	facility_names(sc, name, strlen(name), 0, 0, 1);
}

static void
header_field(struct scan *sc, struct col *c, const char *s, size_t len)
{
	char h[256];
	struct age_band b;
	size_t i, n = len < sizeof(h) - 1 ? len : sizeof(h) - 1;
	int total;

	for (i = 0; i < n; i++)
		h[i] = (char)tolower((unsigned char)s[i]);
	h[n] = '\0';
	check_printable(s, len, c->header, sizeof(c->header));
	c->kind = (uint8_t)columns_classify(h, &total);
	c->total = (uint8_t)total;
	if (c->kind == COL_UNKNOWN && age_parse(s, len, &b) == AGE_BAND) {
		c->kind = COL_AGEBAND;
		if (!sc->header_ages)
			sc->header_ages = calloc(1, sizeof(*sc->header_ages));
		if (sc->header_ages)
			age_add(sc->header_ages, &b, 0, sc->col, s, len);
	}
	if (c->kind == COL_AGE) {
		c->ages = calloc(1, sizeof(*c->ages));
		c->age_memo = calloc(AGE_MEMO, sizeof(*c->age_memo));
	}
	if (c->total && !sc->total_col)
		sc->total_col = (int)sc->col;
	if (c->kind == COL_FACILITY)
		finding(sc, CHECK_FAIL, "facility", 0, sc->col, s, len,
			"the column names individual facilities");
	facility_names(sc, s, len, 0, sc->col, 1);
}

static uint64_t
fnv1a(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (len--)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h | 1; /* 0 marks an empty slot */
}

static void
distinct_add(struct col *c, const char *s, size_t len)
{
	uint64_t h;
	unsigned i;

	if (c->nsampled >= DISTINCT_SAMPLE)
		return;
	if (!c->distinct && !(c->distinct = calloc(DISTINCT_SLOTS, sizeof(uint64_t))))
		return;
	c->nsampled++;
	h = fnv1a(s, len);
	for (i = (unsigned)h & (DISTINCT_SLOTS - 1); c->distinct[i];
	     i = (i + 1) & (DISTINCT_SLOTS - 1))
		if (c->distinct[i] == h)
			return;
	c->distinct[i] = h;
	c->ndistinct++;
}

static void
remember(struct small_seen *k, uint32_t row, const char *s, size_t len)
{
	k->row = row;
	check_printable(s, len, k->text, sizeof(k->text));
}

/* An age column repeats a few groups on every row: remember the texts already parsed. */
static int
age_seen_before(struct col *c, const char *s, size_t len)
{
	struct small_seen *slot;

	if (len >= sizeof(slot->text) || !c->age_memo)
		return 0;
	slot = &c->age_memo[fnv1a(s, len) & (AGE_MEMO - 1)];
	if (slot->row && strlen(slot->text) == len && memcmp(slot->text, s, len) == 0)
		return 1;
	memcpy(slot->text, s, len);
	slot->text[len] = '\0';
	slot->row = 1;
	return 0;
}

static void column_field(struct scan *sc, struct col *c, const char *s, size_t len);

static void
data_field(struct scan *sc, struct col *c, const char *s, size_t len)
{
	struct col_row *rs = &sc->rowst[sc->col - 1];
	struct value v;

	if (len == 0)
		return;
	/* any cell, a number too: facility codes may be digits (a whole cell, so its first byte
	 * must be one a configured name starts with) */
	if (sc->facility_first[(unsigned char)s[0]])
		facility_names(sc, s, len, sc->row, sc->col, 0);
	if (VALUE_MAY_BE_TOTAL(s[0]) && value_is_total(s, len))
		sc->row_is_total = 1;
	if (c->kind != COL_COUNT && c->kind != COL_AGEBAND && c->kind != COL_UNKNOWN) {
		/* not counts: only the column's own rule looks at the cell */
		column_field(sc, c, s, len);
		return;
	}
	value_parse(s, len, &v);
	c->nonempty++;
	if (c->kind == COL_UNKNOWN && (v.kind == VAL_TEXT || v.kind == VAL_NUMBER)) {
		/* text or a fraction: a column of labels or measures, never of counts */
		c->kind = v.kind == VAL_NUMBER ? COL_MEASURE : COL_LABEL;
		return;
	}
	if (v.kind == VAL_SUPPRESSED) {
		c->suppressed++;
		rs->supp = 1;
		/* raw, made printable only if a finding quotes it */
		memcpy(rs->text, s, len < sizeof(rs->text) ? len : sizeof(rs->text) - 1);
		rs->text[len < sizeof(rs->text) ? len : sizeof(rs->text) - 1] = '\0';
	} else if (v.kind == VAL_INT) {
		rs->is_int = 1;
		c->ints++;
		c->leading_zero += v.leading_zero;
		c->years += v.n >= 1900 && v.n <= 2100;
		c->rownums += v.n == sc->row || v.n + 1 == sc->row;
		if (v.n >= 1 && v.n < sc->cfg->min_cell_count) {
			if (c->small < SMALL_KEEP &&
			    (c->small_kept ||
			     (c->small_kept = calloc(SMALL_KEEP, sizeof(*c->small_kept)))))
				remember(&c->small_kept[c->nsmall_kept++], sc->row, s, len);
			c->small++;
		}
	}
}

/* The rule of a column that does not hold counts, on one non-empty cell. */
static void
column_field(struct scan *sc, struct col *c, const char *s, size_t len)
{
	struct age_band b;

	switch (c->kind) {
	case COL_AGE:
		if (age_seen_before(c, s, len))
			break; /* the same group again: nothing new to judge */
		switch (age_parse(s, len, &b)) {
		case AGE_BAND:
		case AGE_SINGLE:
			if (c->ages)
				age_add(c->ages, &b, sc->row, sc->col, s, len);
			break;
		case AGE_UNKNOWN:
			if (!c->reported) {
				c->reported = 1;
				finding(sc, CHECK_WARN, "age_band", sc->row, sc->col, s, len,
					"unrecognised age group: check the bands by eye");
			}
			break;
		default:
			break;
		}
		break;
	case COL_BIRTH:
		if (!c->reported && value_is_exact_date(s, len)) {
			c->reported = 1;
			finding(sc, CHECK_FAIL, "individual", sc->row, sc->col, s, len,
				"exact dates of birth identify individuals");
		}
		break;
	case COL_PATIENT:
		distinct_add(c, s, len);
		break;
	default:
		break;
	}
}

void
rules_field(struct scan *sc, const char *s, size_t len)
{
	struct col *c;

	if (sc->rows_truncated)
		return;
	if (++sc->col > CHECK_MAX_COLUMNS) {
		sc->cols_truncated = 1;
		return;
	}
	len = value_trim(&s, len);
	if (sc->row == 0) {
		sc->ncols = sc->col;
		if (sc->lb)
			cells_keep(sc, s, len);
		header_field(sc, &sc->cols[sc->col - 1], s, len);
		return;
	}
	if (sc->col > sc->ncols)
		return; /* ragged row: a cell without a header has no rule to apply */
	c = &sc->cols[sc->col - 1];
	if (sc->lb)
		cells_keep(sc, s, len);
	data_field(sc, c, s, len);
}

static int
countish(const struct col *c)
{
	return c->kind == COL_COUNT || c->kind == COL_AGEBAND || c->kind == COL_UNKNOWN;
}

/* differencing_total along a row: a total column and exactly one suppressed cell beside it */
static void
row_total(struct scan *sc)
{
	unsigned i, nsupp = 0, at = 0;

	if (!sc->total_col || !sc->rowst[sc->total_col - 1].is_int)
		return;
	for (i = 0; i < sc->ncols; i++)
		if ((int)i + 1 != sc->total_col && sc->rowst[i].supp && countish(&sc->cols[i])) {
			nsupp++;
			at = i;
		}
	if (nsupp == 1)
		finding(sc, CHECK_FAIL, "differencing_total", sc->row, at + 1, sc->rowst[at].text,
			strlen(sc->rowst[at].text),
			"the only suppressed cell of a row with a total (column %d): total minus "
			"the others recovers it",
			sc->total_col);
}

void
rules_row_end(struct scan *sc)
{
	unsigned i, n = sc->ncols < sc->col ? sc->ncols : sc->col;

	if (sc->rows_truncated)
		return;
	if (sc->row == 0) {
		if (sc->ncols == 0) {
			sc->col = 0;
			return; /* no header yet */
		}
		if (!(sc->rowst = calloc(sc->ncols, sizeof(*sc->rowst))))
			sc->rows_truncated = 1; /* reported: out of memory stops the checks */
	} else {
		row_total(sc);
		for (i = 0; i < n; i++) {
			struct col *c = &sc->cols[i];
			struct col_row *rs = &sc->rowst[i];

			if (sc->row_is_total && rs->is_int)
				c->total_seen = 1;
			else if (!sc->row_is_total && rs->supp && c->supp_body++ == 0)
				remember(&c->first_supp, sc->row, rs->text, strlen(rs->text));
			rs->supp = rs->is_int = 0;
		}
	}
	sc->row_is_total = 0;
	if (sc->row >= CHECK_MAX_ROWS)
		sc->rows_truncated = 1;
	else
		sc->row++;
	sc->col = 0;
}

static int
is_count(const struct col *c)
{
	if (c->kind == COL_COUNT || c->kind == COL_AGEBAND)
		return 1;
	if (c->kind != COL_UNKNOWN || c->ints == 0 || c->ints + c->suppressed != c->nonempty)
		return 0;
	if (c->leading_zero)
		return 0; /* 01, 007: codes */
	if (c->years == c->ints)
		return 0; /* 2019, 2020: years */
	if (c->rownums == c->ints && c->ints >= 2)
		return 0; /* 1, 2, 3 ...: row numbers */
	return 1;
}

static void
column_finish(struct scan *sc, unsigned i)
{
	struct col *c = &sc->cols[i];
	unsigned k;

	if (is_count(c)) {
		c->kind = COL_COUNT; /* for the ledger */
		for (k = 0; k < c->nsmall_kept; k++)
			finding(sc, CHECK_FAIL, "small_count", c->small_kept[k].row, i + 1,
				c->small_kept[k].text, strlen(c->small_kept[k].text),
				"a count between 1 and %u (min_cell_count %u)",
				sc->cfg->min_cell_count - 1, sc->cfg->min_cell_count);
		if (c->small > c->nsmall_kept) {
			finding(sc, CHECK_FAIL, "small_count", 0, i + 1, NULL, 0,
				"%llu more counts between 1 and %u in this column",
				(unsigned long long)(c->small - c->nsmall_kept),
				sc->cfg->min_cell_count - 1);
		}
		if (c->total_seen && c->supp_body == 1)
			finding(
			    sc, CHECK_FAIL, "differencing_total", c->first_supp.row, i + 1,
			    c->first_supp.text, strlen(c->first_supp.text),
			    "the only suppressed cell of a column with a total: the total minus "
			    "the others recovers it");
	} else if (c->kind == COL_UNKNOWN)
		c->kind = COL_LABEL;
	if (c->ages)
		age_judge(sc, c->ages);
	if (c->kind == COL_PATIENT && c->nsampled >= 5 &&
	    (uint64_t)c->ndistinct * 10 >= (uint64_t)c->nsampled * 8)
		finding(sc, CHECK_FAIL, "individual", 0, i + 1, NULL, 0,
			"patient identifiers: %u of %u values are distinct", c->ndistinct,
			c->nsampled);
}

int
rules_finish(struct scan *sc, char *why, size_t whylen)
{
	uint32_t max_rows;
	unsigned i;

	if (sc->ncols == 0)
		finding(sc, CHECK_WARN, "type", 0, 0, NULL, 0,
			"the table is empty: review it by eye");
	for (i = 0; i < sc->ncols; i++)
		column_finish(sc, i);
	if (sc->header_ages && sc->header_ages->n >= 2)
		age_judge(sc, sc->header_ages);
	/* 0: a configuration built by hand, not by config_load: the default */
	max_rows = sc->cfg->max_rows ? sc->cfg->max_rows : 1000;
	if (sc->row > 1 && sc->row - 1 > max_rows)
		finding(sc, CHECK_WARN, "individual", 0, 0, NULL, 0,
			"%u rows, more than max_rows (%u): possibly individual-level data",
			sc->row - 1, max_rows);
	if (sc->cols_truncated)
		finding(sc, CHECK_WARN, "size", 0, 0, NULL, 0, "columns beyond %u were not checked",
			CHECK_MAX_COLUMNS);
	if (sc->rows_truncated)
		finding(sc, CHECK_WARN, "size", 0, 0, NULL, 0, "rows beyond %u were not checked",
			CHECK_MAX_ROWS);
	return cells_finish(sc, why, whylen);
}

int
rules_init(struct scan *sc)
{
	if (!(sc->cols = calloc(CHECK_MAX_COLUMNS, sizeof(*sc->cols))))
		return -1;
	if (sc->cells)
		cells_init(sc);
	return 0;
}

void
rules_free(struct scan *sc)
{
	unsigned i;

	if (sc->cols)
		for (i = 0; i < CHECK_MAX_COLUMNS; i++) {
			free(sc->cols[i].small_kept);
			free(sc->cols[i].distinct);
			free(sc->cols[i].ages);
			free(sc->cols[i].age_memo);
		}
	free(sc->cols);
	sc->cols = NULL;
	free(sc->header_ages);
	sc->header_ages = NULL;
	free(sc->rowst);
	sc->rowst = NULL;
	cells_free(sc);
}
