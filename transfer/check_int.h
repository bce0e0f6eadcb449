/*
 * Internal interfaces between the checker's files (transfer/check*.c). Not for other modules:
 * they use transfer/check.h.
 *
 *   check.c          the order of the checks for one file (type, size, table)
 *   check_type.c     what the bytes are: PDF/PNG signature, UTF-8 or Shift_JIS text
 *   check_csv.c      reading a table: decoding to UTF-8, libcsv, one call per field and row
 *   check_value.c    what one cell says: a count, a suppression mark, a date, a total label
 *   check_age.c      age bands: parsing and the rules over a column's set of bands
 *   check_columns.c  what a column is, from its header (one table of patterns with reasons)
 *   check_rules.c    the table rules over the fields as they stream past, and at the end
 *   check_cells.c    the ledger's copy of a small table, and its labelled count cells
 *   check_report.c   findings and the text rendering
 *   check_job.c      the confined run: the helper's side and the parent's
 */
#ifndef WSGATE_CHECK_INT_H
#define WSGATE_CHECK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "transfer/check.h"

/* ---- check_type.c ---- */
enum check_content {
	CONTENT_EMPTY,
	CONTENT_UTF8,
	CONTENT_SJIS,
	CONTENT_PDF,
	CONTENT_PNG,
	CONTENT_BINARY,
	CONTENT_UTF16, /* Excel's "Unicode text": refused, with a hint */
};
/* Reads the whole file once: signatures, NUL bytes, UTF-8 validity. *bom is set when the text
 * starts with a UTF-8 byte order mark. Returns 0 or -1 (read error, why set). */
int check_sniff(int fd, enum check_content *content, int *bom, char *why, size_t whylen);
const char *check_content_name(enum check_content c);

/* ---- check_value.c ---- */
enum value_kind { VAL_EMPTY, VAL_INT, VAL_NUMBER, VAL_SUPPRESSED, VAL_TEXT };
struct value {
	enum value_kind kind;
	uint64_t n;	      /* VAL_INT */
	uint8_t leading_zero; /* VAL_INT written "007": a code, not a count */
};
/* s is one trimmed cell (UTF-8, not NUL-terminated). */
void value_parse(const char *s, size_t len, struct value *v);
/* A full date with a day: 1950-03-02, 1950/3/2, 19500302, 1950年3月2日. */
int value_is_exact_date(const char *s, size_t len);
/* total, subtotal, All, 合計, 計, 小計, 総数, 総計 ... */
int value_is_total(const char *s, size_t len);
/* The quick answer for the first byte: t(otal), s(ubtotal), a(ll), g(rand), o(verall), or a
 * Japanese word. */
#define VALUE_MAY_BE_TOTAL(c)                                                                      \
	((unsigned char)(c) >= 0x80 || ((c) | 0x20) == 't' || ((c) | 0x20) == 's' ||               \
	 ((c) | 0x20) == 'a' || ((c) | 0x20) == 'g' || ((c) | 0x20) == 'o')
/* Trims ASCII blanks, CR and the ideographic space; returns the new length, *s moved. */
size_t value_trim(const char **s, size_t len);

/* ---- check_age.c ---- */
#define AGE_OPEN 0xffffu
struct age_band {
	uint16_t lo, hi; /* hi = AGE_OPEN for an open top band ("85+") */
};
enum age_parse { AGE_NONE, AGE_BAND, AGE_SINGLE, AGE_UNKNOWN };
/* AGE_NONE: not an age at all ("total", "不明", empty); AGE_UNKNOWN: starts like one but is
 * not a form we know. */
enum age_parse age_parse(const char *s, size_t len, struct age_band *b);

#define AGE_MAX_BANDS 64
struct age_seen {
	struct age_band b;
	uint32_t row, col;
	char text[24];
};
struct age_set {
	unsigned n;
	struct age_seen v[AGE_MAX_BANDS];
};
struct scan;
void age_add(struct age_set *set, const struct age_band *b, uint32_t row, uint32_t col,
	     const char *text, size_t len);
/* The rules over one set of bands: width, overlap, ages from 85 in one open group. */
void age_judge(struct scan *sc, const struct age_set *set);

/* ---- check_columns.c ---- */
enum col_kind {
	COL_UNKNOWN = 0, /* decided by content at the end: counts or labels */
	COL_COUNT,	 /* a count by its header */
	COL_MEASURE,	 /* means, rates, percentages: not counts */
	COL_AGE,	 /* age groups in rows */
	COL_AGEBAND,	 /* a wide table's column for one age band: counts */
	COL_FACILITY,	 /* names individual facilities */
	COL_LABEL,	 /* a category (facility type, sex, ...) */
	COL_IDENT,	 /* codes, years, months, dates, row numbers: not counts */
	COL_PATIENT,	 /* patient identifiers (individual when mostly distinct) */
	COL_BIRTH,	 /* dates of birth */
};
/* h: the lower-cased, trimmed header. *total: the header names a total column. */
enum col_kind columns_classify(const char *h, int *total);

/* ---- check_rules.c ---- */
#define AGE_MEMO 64  /* a power of two */
#define SMALL_KEEP 8 /* small-count candidates kept per column until its kind is known */
struct small_seen {
	uint32_t row;
	char text[24];
};
struct col {
	uint8_t kind, total;
	uint8_t reported; /* a once-per-column finding was made */
	char header[64];  /* as written, printable */
	uint64_t nonempty, ints, suppressed, years, rownums, leading_zero, small;
	unsigned nsmall_kept;
	struct small_seen *small_kept; /* malloc'd: SMALL_KEEP entries */
	/* differencing_total, by column: suppressed cells outside total rows, and a total */
	uint64_t supp_body;
	struct small_seen first_supp;
	uint8_t total_seen;
	/* individual: distinct values of a patient identifier column (a sample) */
	uint64_t *distinct;
	unsigned ndistinct, nsampled;
	struct age_set *ages;	     /* COL_AGE */
	struct small_seen *age_memo; /* COL_AGE: AGE_MEMO texts already judged (row = used) */
};

struct scan {
	const struct config *cfg;
	struct check_report *rep;
	struct check_cells *cells;
	struct col *cols;
	unsigned ncols; /* header width */
	uint32_t row;	/* 0 = header, then 1-based data rows */
	unsigned col;	/* 1-based within the current row, after the field */
	int cols_truncated, rows_truncated;
	int total_col;		     /* 1-based column of a total column, or 0 */
	struct age_set *header_ages; /* a wide table's bands */
	/* the current row: is it a total row; the suppressed cells in count columns */
	uint8_t row_is_total;
	unsigned row_supp;
	uint32_t row_supp_col;
	char row_supp_text[24];
	int row_total_int;
	uint8_t facility_len[CONFIG_MAX_FACILITIES]; /* strlen of each configured facility */
	uint8_t facility_first[256];		     /* 1: a configured name starts with it */
	struct col_row *rowst; /* ncols entries: the current row's cells (check_rules.c) */
	/* the ledger's copy of a small table (check_cells.c); NULL when not kept */
	struct ledger_buf *lb;
};

int rules_init(struct scan *sc); /* 0, or -1 out of memory */
/* Called per field (UTF-8, not NUL-terminated) and at the end of each row. */
void rules_field(struct scan *sc, const char *s, size_t len);
void rules_row_end(struct scan *sc);
/* After the last row: the rules that need whole columns, and the ledger's cells. */
int rules_finish(struct scan *sc, char *why, size_t whylen);
void rules_free(struct scan *sc);
/* Facility names in the file name; called first (it measures the configured names). */
void rules_file_name(struct scan *sc, const char *name);

/* ---- check_cells.c: the ledger's copy of a small table ---- */
void cells_init(struct scan *sc);
/* One field (sc->row, sc->col); lets the copy go when the table is too large (sc->lb NULL). */
void cells_keep(struct scan *sc, const char *s, size_t len);
/* Fills sc->cells from the copy once the columns' kinds are final. 0, or -1 with why. */
int cells_finish(struct scan *sc, char *why, size_t whylen);
void cells_free(struct scan *sc);

/* ---- check_csv.c ---- */
/* Streams the table (delim ',' or '\t') through rules_field/rules_row_end. sjis: convert from
 * CP932 first. Returns 0, or -1 with why (read error, out of memory). A malformed table is a
 * finding, not an error. */
int csv_scan(struct scan *sc, int fd, unsigned char delim, int sjis, char *why, size_t whylen);

/* ---- check_job.c ---- */
/* The parent's decoder of the confined checker's answer (hostile bytes). 0, or -1 if anything
 * is out of bounds, unknown or inconsistent; cells->v may be allocated either way. */
int check_answer_decode(const uint8_t *p, size_t n, struct check_report *rep,
			struct check_cells *cells);

/* ---- check_report.c ---- */
void finding(struct scan *sc, int severity, const char *rule, uint32_t row, uint32_t col,
	     const char *value, size_t vlen, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
/* Printable copy of at most outlen-1 bytes: control bytes and quotes become '?', a multibyte
 * character is never cut in half. */
void check_printable(const char *in, size_t len, char *out, size_t outlen);

#endif
