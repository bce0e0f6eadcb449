/*
 * Export checks (see check.h). CSV/TSV tables are read with libcsv, one field at a time; per
 * column we keep only a small classification, so memory does not grow with the file.
 *
 * Heuristics, from the first (header) row:
 *   - an age column: header "age", "age_group", "age group", "ageband", any header starting
 *     with "age", or containing 年齢. Its cells must be bands "A-B" (B - A + 1 >= 5, B < 85) or
 *     one open top band "A+" / "A-" / "A以上" with A <= 85; a single age ("47") fails.
 *   - a facility column: header containing facility, hospital, clinic, 施設, 病院 or 医療機関.
 *   - an identifier column: header that is or ends in id, code, year, month, date, zip, no,
 *     number, or contains 年度, 年, 月, コード, 番号. Its integers are not counts.
 *   - every other column is a count column: an integer cell with 1 <= v < min_cell_count fails
 *     (0 is allowed; decimals and negatives are not counts and are ignored).
 *   - any cell equal to a configured facilities entry fails, whatever its column.
 */
#include "common/nitems.h"
#include "common/why.h"
#include "transfer/check.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <csv.h>

#include "transfer/queue.h"

enum col_kind { COL_COUNT = 0, COL_AGE, COL_FACILITY, COL_IDENT };

struct col {
	uint8_t kind;
	uint8_t facility_reported;
	char header[48];
};

struct scan {
	const struct config *cfg;
	struct check_report *rep;
	struct col *cols;
	unsigned ncols;	 /* header width */
	unsigned row;	 /* 1-based, header is row 1 */
	unsigned col;	 /* 0-based within the current row */
	size_t len;	 /* of rep->text */
	unsigned hidden; /* findings not listed */
	int cols_truncated, rows_truncated;
};

static void report_line(struct check_report *rep, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
report_line(struct check_report *rep, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= sizeof(rep->text) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(rep->text + *len, sizeof(rep->text) - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len +=
		    (size_t)n < sizeof(rep->text) - *len ? (size_t)n : sizeof(rep->text) - *len - 1;
}

/* Cell text made printable on one line (control bytes as '?'), bounded. */
static void
printable(const char *in, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < outlen; i++)
		out[i] =
		    ((unsigned char)in[i] < 0x20 || in[i] == 0x7f || in[i] == '"') ? '?' : in[i];
	out[i] = '\0';
}

static void finding(struct scan *sc, int severity, unsigned col, const char *rule, const char *fmt,
		    ...) __attribute__((format(printf, 5, 6)));

static void
finding(struct scan *sc, int severity, unsigned col, const char *rule, const char *fmt, ...)
{
	char msg[512], hdr[64] = "";
	va_list ap;

	if (severity > sc->rep->result)
		sc->rep->result = severity;
	sc->rep->nfindings++;
	if (sc->rep->nfindings > CHECK_MAX_FINDINGS) {
		sc->hidden++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (col > 0 && col <= sc->ncols && sc->cols)
		printable(sc->cols[col - 1].header, hdr, sizeof(hdr));
	if (sc->row && col)
		report_line(sc->rep, &sc->len, "%s: row %u, column %u (\"%s\"): %s: %s\n",
			    queue_check_name(severity), sc->row, col, hdr, rule, msg);
	else
		report_line(sc->rep, &sc->len, "%s: %s: %s\n", queue_check_name(severity), rule,
			    msg);
}

static void
lower_trim(const char *in, size_t n, char *out, size_t outlen)
{
	size_t i = 0, j = 0;

	while (i < n && (in[i] == ' ' || in[i] == '\t'))
		i++;
	while (n > i && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	for (; i < n && j + 1 < outlen; i++)
		out[j++] = (char)tolower((unsigned char)in[i]);
	out[j] = '\0';
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int
classify(const char *h)
{
	static const char *facility[] = {"facility", "hospital", "clinic",
					 "施設",     "病院",	 "医療機関"};
	static const char *ident_suffix[] = {"id",  "code", "year",   "month", "date",
					     "zip", "no",   "number", "fy"};
	static const char *ident_sub[] = {"年度", "年", "月", "コード", "番号", "日付"};
	size_t i;

	if (strncmp(h, "age", 3) == 0 || strstr(h, "年齢"))
		return COL_AGE;
	for (i = 0; i < nitems(facility); i++)
		if (strstr(h, facility[i]))
			return COL_FACILITY;
	for (i = 0; i < nitems(ident_suffix); i++)
		if (ends_with(h, ident_suffix[i]))
			return COL_IDENT;
	for (i = 0; i < nitems(ident_sub); i++)
		if (strstr(h, ident_sub[i]))
			return COL_IDENT;
	return COL_COUNT;
}

/* Parses a non-negative decimal integer; the whole string must be digits. */
static int
parse_uint(const char *s, const char **end, unsigned long long *v)
{
	unsigned long long n = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (n > 1000000000000ull)
			return -1;
		n = n * 10 + (unsigned long long)(*p - '0');
	}
	*v = n;
	*end = p;
	return 0;
}

static int
strip_suffix(char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	if (a >= b && strcmp(s + a - b, suffix) == 0) {
		s[a - b] = '\0';
		return 1;
	}
	return 0;
}

static void
check_age(struct scan *sc, unsigned col, const char *cell)
{
	char v[256];
	const char *p;
	unsigned long long a, b = 0;
	int open;

	if (strlen(cell) >= sizeof(v))
		return;
	memcpy(v, cell, strlen(cell) + 1);
	open = strip_suffix(v, "以上");
	strip_suffix(v, "歳");
	if (v[0] == '\0' || !isdigit((unsigned char)v[0]))
		return; /* "total", "不明", empty: not an age band */
	if (parse_uint(v, &p, &a) < 0)
		return;
	if (*p == '\0' && open) {
		b = 0;
	} else if (*p == '\0') {
		finding(sc, CHECK_FAIL, col, "age_single",
			"single age \"%llu\" (use bands of 5 "
			"years or more)",
			a);
		return;
	} else if ((*p == '+' || *p == '-') && p[1] == '\0') {
		open = 1;
	} else if ((*p == '-' || *p == '~') && parse_uint(p + 1, &p, &b) == 0 &&
		   (*p == '\0' || strcmp(p, "歳") == 0)) {
		open = 0;
	} else {
		finding(sc, CHECK_WARN, col, "age_format", "unrecognised age band");
		return;
	}
	if (open) {
		if (a > 85)
			finding(sc, CHECK_FAIL, col, "age_top",
				"open band from %llu: everything "
				"from 85 must be one group",
				a);
		return;
	}
	if (b < a) {
		finding(sc, CHECK_WARN, col, "age_format", "band %llu-%llu is reversed", a, b);
		return;
	}
	if (b - a + 1 < 5)
		finding(sc, CHECK_FAIL, col, "age_width", "band %llu-%llu is narrower than 5 years",
			a, b);
	else if (b >= 85)
		finding(sc, CHECK_FAIL, col, "age_top",
			"band %llu-%llu: everything from 85 must be "
			"one group (85+)",
			a, b);
}

static void
check_cell(struct scan *sc, unsigned col, const char *cell, const char *trimmed)
{
	const struct config *cfg = sc->cfg;
	struct col *c = &sc->cols[col - 1];
	unsigned long long v;
	const char *end;

	for (size_t i = 0; i < cfg->nfacilities; i++) {
		if (strcasecmp(trimmed, cfg->facilities[i]) == 0) {
			char shown[64];

			printable(cfg->facilities[i], shown, sizeof(shown));
			finding(sc, CHECK_FAIL, col, "facility", "cell names facility \"%s\"",
				shown);
			break;
		}
	}
	switch (c->kind) {
	case COL_AGE:
		check_age(sc, col, trimmed);
		break;
	case COL_COUNT:
		if (parse_uint(trimmed, &end, &v) == 0 && *end == '\0' && v >= 1 &&
		    v < cfg->min_cell_count)
			finding(sc, CHECK_FAIL, col, "min_cell_count",
				"count %llu is between 1 "
				"and %u",
				v, cfg->min_cell_count - 1);
		break;
	default:
		break;
	}
	(void)cell;
}

static void
on_field(void *s, size_t n, void *arg)
{
	struct scan *sc = arg;
	char cell[256];
	unsigned col = ++sc->col;

	if (sc->rows_truncated)
		return;
	if (col > CHECK_MAX_COLUMNS) {
		sc->cols_truncated = 1;
		return;
	}
	lower_trim(s ? s : "", s ? n : 0, cell, sizeof(cell));
	if (sc->row == 1) {
		const char *h = cell;

		if (col == 1 && strncmp(h, "\xef\xbb\xbf", 3) == 0)
			h += 3; /* UTF-8 byte order mark */
		sc->ncols = col;
		size_t hl = strnlen(h, sizeof(sc->cols[0].header) - 1);

		memcpy(sc->cols[col - 1].header, h, hl);
		sc->cols[col - 1].header[hl] = '\0';
		sc->cols[col - 1].kind = (uint8_t)classify(h);
		if (sc->cols[col - 1].kind == COL_FACILITY)
			finding(sc, CHECK_FAIL, col, "facility",
				"column is a breakdown by facility");
		return;
	}
	if (col > sc->ncols)
		return; /* ragged row: cells without a header have no rule to apply */
	if (n >= sizeof(cell))
		return; /* a long cell is no number, band or facility code */
	check_cell(sc, col, cell, cell);
}

static void
on_row(int c, void *arg)
{
	struct scan *sc = arg;

	(void)c;
	if (sc->row >= CHECK_MAX_ROWS)
		sc->rows_truncated = 1;
	if (!sc->rows_truncated)
		sc->row++;
	sc->col = 0;
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

static int
check_table(struct scan *sc, int fd, unsigned char delim, char *why, size_t whylen)
{
	struct csv_parser p;
	uint8_t *buf = NULL;
	uint64_t off = 0;
	int ret = -1, perr = 0;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		return why_set(why, whylen, "csv: out of memory");
	csv_set_delim(&p, delim);
	csv_set_space_func(&p, only_space);
	csv_set_realloc_func(&p, capped_realloc);
	if (!(sc->cols = calloc(CHECK_MAX_COLUMNS, sizeof(*sc->cols))) || !(buf = malloc(65536))) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	sc->row = 1;
	for (;;) {
		ssize_t n = pread(fd, buf, 65536, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		off += (uint64_t)n;
		if (csv_parse(&p, buf, (size_t)n, on_field, on_row, sc) != (size_t)n) {
			perr = 1;
			break;
		}
		if (sc->rows_truncated)
			break;
	}
	if (!perr && !sc->rows_truncated && csv_fini(&p, on_field, on_row, sc) != 0)
		perr = 1;
	if (perr) {
		sc->row = 0;
		finding(sc, CHECK_FAIL, 0, "malformed",
			"the table cannot be read near byte %llu: %s", (unsigned long long)off,
			csv_error(&p) == CSV_ENOMEM ? "a field is longer than 65536 bytes"
						    : csv_strerror(csv_error(&p)));
	}
	sc->row = 0;
	if (sc->cols_truncated)
		finding(sc, CHECK_WARN, 0, "columns", "columns beyond %u were not checked",
			CHECK_MAX_COLUMNS);
	if (sc->rows_truncated)
		finding(sc, CHECK_WARN, 0, "rows", "rows beyond %u were not checked",
			CHECK_MAX_ROWS);
	if (!perr && sc->ncols == 0)
		finding(sc, CHECK_WARN, 0, "empty", "the table is empty");
	ret = 0;
out:
	csv_free(&p);
	free(sc->cols);
	sc->cols = NULL;
	free(buf);
	return ret;
}

int
check_type_allowed(const struct config *cfg, const char *name, char *ext, size_t extlen)
{
	const char *dot = strrchr(name, '.');

	ext[0] = '\0';
	if (!dot || dot == name || dot[1] == '\0')
		return 0;
	lower_trim(dot + 1, strlen(dot + 1), ext, extlen);
	for (size_t i = 0; i < cfg->nexport_types; i++)
		if (strcasecmp(ext, cfg->export_types[i]) == 0)
			return 1;
	return 0;
}

int
check_fd(const struct config *cfg, int fd, const char *name, struct check_report *rep, char *why,
	 size_t whylen)
{
	struct scan sc;
	struct stat_size {
		off_t size;
	} sz;
	char ext[16];
	char body[CHECK_REPORT_MAX];
	int head;
	size_t room, blen;
	int ret = 0;

	memset(rep, 0, sizeof(*rep));
	memset(&sc, 0, sizeof(sc));
	sc.cfg = cfg;
	sc.rep = rep;
	rep->result = CHECK_PASS;
	if ((sz.size = lseek(fd, 0, SEEK_END)) < 0)
		return why_set(why, whylen, "%s", strerror(errno));
	if (!check_type_allowed(cfg, name, ext, sizeof(ext)))
		finding(&sc, CHECK_FAIL, 0, "type", "file type \"%s\" is not in export_types",
			ext[0] ? ext : "(none)");
	if ((uint64_t)sz.size > cfg->export_max_size)
		finding(&sc, CHECK_FAIL, 0, "size", "%llu bytes is over export_max_size (%llu)",
			(unsigned long long)sz.size, (unsigned long long)cfg->export_max_size);
	else if (strcmp(ext, "csv") == 0)
		ret = check_table(&sc, fd, ',', why, whylen);
	else if (strcmp(ext, "tsv") == 0)
		ret = check_table(&sc, fd, '\t', why, whylen);
	else if (rep->result == CHECK_PASS)
		finding(&sc, CHECK_WARN, 0, "content",
			"contents of .%s files are not checked "
			"automatically: review them by eye",
			ext);
	if (ret < 0)
		return -1;
	if (sc.hidden)
		report_line(rep, &sc.len, "(%u more findings not listed)\n", sc.hidden);
	/* The verdict goes first so that a truncated report still starts with it. */
	memcpy(body, rep->text, sizeof(body));
	head =
	    snprintf(rep->text, sizeof(rep->text), "result: %s\n", queue_check_name(rep->result));
	if (head < 0 || (size_t)head >= sizeof(rep->text))
		return -1;
	/* Copied by hand: the body may be cut to fit after the verdict line. */
	room = sizeof(rep->text) - (size_t)head - 1;
	blen = strnlen(body, room);
	memcpy(rep->text + head, body, blen);
	rep->text[head + blen] = '\0';
	return 0;
}
