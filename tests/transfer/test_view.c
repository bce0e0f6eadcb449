/*
 * transfer/view.c: what a reviewer sees. Exact layouts for small tables (CSV, TSV, quoting,
 * CRLF, Japanese by display width), escaping of everything that could act on a terminal, pages
 * of columns within the width, the two ways of marking, and the types that are never shown.
 */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wchar.h>

#include <cmocka.h>

#include "transfer/view.h"
#include "transfer/view_job.h"

static char out[1 << 20];

/* Renders content named name; returns the output (NUL-terminated, in out). */
static const char *
render(const char *name, const char *content, size_t len, const struct view_mark *marks,
       size_t nmarks, const struct view_opts *o)
{
	char why[256] = "";
	int in = memfd_create("in", 0), res = memfd_create("out", 0);
	ssize_t n;

	assert_true(in >= 0 && res >= 0);
	assert_int_equal(write(in, content, len), (ssize_t)len);
	assert_int_equal(view_render(in, name, marks, nmarks, o, res, why, sizeof(why)), 0);
	n = pread(res, out, sizeof(out) - 1, 0);
	assert_true(n >= 0);
	out[n] = '\0';
	/* Whatever the renderer writes passes the parent's check of the confined child's output. */
	assert_true(view_output_safe((const uint8_t *)out, (size_t)n));
	close(in);
	close(res);
	return out;
}

#define R(name, s, marks, n, o) render(name, s, sizeof(s) - 1, marks, n, o)

/* Everything after the header block (name, size, sha256, type and the blank line). */
static const char *
body(const char *s)
{
	const char *p = strstr(s, "\n\n");

	assert_non_null(p);
	return p + 2;
}

/* The display width of one line of UTF-8 (no escapes in it), in the C.UTF-8 locale. */
static int
line_cols(const char *s, size_t n)
{
	locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0), prev = uselocale(l);
	mbstate_t st;
	int cols = 0;

	memset(&st, 0, sizeof(st));
	while (n > 0) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s, n, &st);

		assert_true(k != (size_t)-1 && k != (size_t)-2 && k != 0);
		cols += wcwidth(wc);
		s += k;
		n -= k;
	}
	uselocale(prev);
	freelocale(l);
	return cols;
}

static void
csv_aligned(void **state)
{
	(void)state;
	assert_string_equal(body(R("t.csv", "age,sex,count\n20-24,F,12\n85+,M,0\n", NULL, 0, NULL)),
			    "2 data rows, 3 columns\n"
			    "\n"
			    "    | 1      2    3\n"
			    "row | age    sex  count\n"
			    "----+------  ---  -----\n"
			    "  1 | 20-24  F    12\n"
			    "  2 | 85+    M    0\n");
}

static void
quoting_and_crlf(void **state)
{
	const char *crlf, *lf;
	char a[4096];

	(void)state;
	lf = body(R("q.csv", "name,n\n\"Smith, \"\"J\"\"\",5\n\"two\nlines\",7\n", NULL, 0, NULL));
	snprintf(a, sizeof(a), "%s", lf);
	assert_string_equal(a, "2 data rows, 2 columns\n"
			       "\n"
			       "    | 1           2\n"
			       "row | name        n\n"
			       "----+-----------  -\n"
			       "  1 | Smith, \"J\"  5\n"
			       "  2 | two\\nlines  7\n");
	crlf = body(
	    R("q.csv", "name,n\r\n\"Smith, \"\"J\"\"\",5\r\n\"two\nlines\",7\r\n", NULL, 0, NULL));
	assert_string_equal(crlf, a);
	assert_null(strchr(crlf, '\r'));
}

static void
tsv(void **state)
{
	(void)state;
	assert_string_equal(body(R("t.tsv", "a\tb\n1\tx,y\n", NULL, 0, NULL)),
			    "1 data rows, 2 columns\n"
			    "\n"
			    "    | 1  2\n"
			    "row | a  b\n"
			    "----+--  ---\n"
			    "  1 | 1  x,y\n");
}

/* Every line of a table body has its columns at the same display column. */
static void
japanese_width(void **state)
{
	const char *b =
	    body(R("j.csv", "地域,患者数,x\n東京都,12,a\n大阪府堺市,3,b\nNY,0,c\n", NULL, 0, NULL));
	const char *line = strstr(b, "row |");
	int col = -1;

	(void)state;
	assert_non_null(line);
	for (; *line; line = strchr(line, '\n') + 1) {
		const char *nl = strchr(line, '\n'), *last = nl;

		/* the third column starts after the last run of two spaces */
		while (last > line && !(last[-1] == ' ' && last[-2] == ' '))
			last--;
		if (line[0] == '-' || last == line)
			continue;
		if (col < 0)
			col = line_cols(line, (size_t)(last - line));
		assert_int_equal(line_cols(line, (size_t)(last - line)), col);
	}
	(void)state;
	assert_true(col > 0);
	assert_non_null(strstr(b, "大阪府堺市"));
}

/* Nothing in a cell reaches the terminal raw: ESC, C1 (0x9b CSI), bidi overrides, invalid UTF-8,
 * backslashes; in text mode not even the marks use ESC. */
static void
control_escaped(void **state)
{
	const char *b = R("e.csv",
			  "h\nx\x1b]0;pwned\x07y\n\xc2\x9b"
			  "31m\n\xe2\x80\xae"
			  "cba\n\xff\xfe\nC:\\t\n",
			  NULL, 0, NULL);

	(void)state;
	assert_null(strchr(b, 0x1b));
	assert_null(strchr(b, 0x07));
	assert_null(strstr(b, "\xc2\x9b"));
	assert_null(strstr(b, "\xe2\x80\xae"));
	assert_non_null(strstr(b, "x\\x1b]0;pwned\\x07y"));
	assert_non_null(strstr(b, "\\u009b31m"));
	assert_non_null(strstr(b, "\\u202ecba"));
	assert_non_null(strstr(b, "\\xff\\xfe"));
	assert_non_null(
	    strstr(b, "type:   CSV table, UTF-8 with invalid bytes (shown as \\xHH)\n"));
	assert_non_null(strstr(b, "C:\\\\t"));
}

static void
marks_text_and_reverse(void **state)
{
	struct view_mark m[] = {{2, 3}, {0, 1}, {2, 3}, {7, 1}};
	struct view_opts term = {.terminal = 1};
	const char *b;
	char *p;
	int nesc = 0;

	(void)state;
	b = body(R("m.csv", "age,sex,count\n20-24,F,12\n25-29,M,3\n", m, 4, NULL));
	assert_non_null(strstr(b, "row | \xe2\x80\xb9"
				  "age\xe2\x80\xba!  sex  count\n"));
	assert_non_null(strstr(b, "  2 | 25-29   M    \xe2\x80\xb9"
				  "3\xe2\x80\xba!\n"));
	assert_non_null(strstr(b, "marked but not shown (1): row 7 column 1\n"));
	assert_null(strchr(b, 0x1b));
	b = body(R("m.csv", "age,sex,count\n20-24,F,12\n25-29,M,3\n", m, 4, &term));
	assert_non_null(strstr(b, "  2 | 25-29  M    \x1b[7m3\x1b[27m\n"));
	assert_non_null(strstr(b, "row | \x1b[7mage\x1b[27m    sex  count\n"));
	assert_null(strstr(b, "\xe2\x80\xb9"));
	for (p = (char *)b; (p = strchr(p, 0x1b)); p++)
		nesc++;
	assert_int_equal(nesc, 4); /* two marks, each on and off */
}

/* A table wider than the display: pages of columns, each line within the width, the row
 * numbers on every page, and every cell shown once. */
static void
wide_paged(void **state)
{
	char csv[8192], *p = csv;
	struct view_opts o = {.width = 60};
	const char *b, *line;
	int pages = 0;

	(void)state;
	for (int c = 1; c <= 30; c++)
		p += sprintf(p, "%scolumn_%02d", c > 1 ? "," : "", c);
	*p++ = '\n';
	for (int r = 1; r <= 3; r++) {
		for (int c = 1; c <= 30; c++)
			p += sprintf(p, "%sv%d_%d", c > 1 ? "," : "", r, c);
		*p++ = '\n';
	}
	b = body(render("w.csv", csv, (size_t)(p - csv), NULL, 0, &o));
	for (line = b; *line; line = strchr(line, '\n') + 1) {
		assert_true(strchr(line, '\n') - line <= 60);
		pages += strncmp(line, "columns ", 8) == 0;
	}
	assert_true(pages >= 5);
	assert_non_null(strstr(b, "columns 1-"));
	assert_non_null(strstr(b, " of 30\n"));
	for (int c = 1; c <= 30; c++) {
		char sp[16], nl[16];

		snprintf(sp, sizeof(sp), " v3_%d ", c);
		snprintf(nl, sizeof(nl), " v3_%d\n", c);
		assert_true(strstr(b, sp) || strstr(b, nl));
	}
	/* width 0: one page, nothing split */
	o.width = 0;
	b = body(render("w.csv", csv, (size_t)(p - csv), NULL, 0, &o));
	assert_null(strstr(b, "columns "));
}

static void
long_cell_cut(void **state)
{
	char csv[1024];
	const char *b;

	(void)state;
	memset(csv, 0, sizeof(csv));
	strcpy(csv, "note\n");
	memset(csv + 5, 'a', 100);
	strcat(csv, "\n");
	b = body(render("l.csv", csv, strlen(csv), NULL, 0, NULL));
	assert_non_null(strstr(b, "aaa\xe2\x80\xa6\n")); /* cut with … */
	assert_null(strstr(b, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void
not_tables(void **state)
{
	static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\x1b[2J";
	const char *b;

	(void)state;
	b = render("p.png", png, sizeof(png) - 1, NULL, 0, NULL);
	assert_non_null(strstr(b, "type:   PNG image (not shown)\n"));
	assert_non_null(strstr(b, "size:   20 bytes\n"));
	assert_non_null(strstr(b, "sha256: "));
	assert_null(strchr(b, 0x1b));
	/* a PNG named .csv is still a PNG */
	b = render("p.csv", png, sizeof(png) - 1, NULL, 0, NULL);
	assert_non_null(strstr(b, "type:   PNG image (not shown)\n"));
	b = R("r.bin", "\x01\x02\x00\x80\x81", NULL, 0, NULL);
	assert_non_null(strstr(b, "data, not text"));
	b = R("e.csv", "", NULL, 0, NULL);
	assert_non_null(strstr(b, "type:   empty file\n"));
	assert_non_null(strstr(
	    b, "sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"));
}

static void
text_numbered_and_wrapped(void **state)
{
	struct view_opts o = {.width = 20};
	const char *b;

	(void)state;
	b = body(
	    R("n.txt", "first\r\nsecond \x1b[1mbold\nabcdefghijklmnopqrstuvwxyz\n", NULL, 0, &o));
	assert_string_equal(b, "1 | first\n"
			       "2 | second \\x1b[1mbo\n"
			       "  + ld\n"
			       "3 | abcdefghijklmnop\n"
			       "  + qrstuvwxyz\n");
}

static void
shift_jis_and_bom(void **state)
{
	const char *b;

	(void)state;
	/* "年齢,人数\n20-24,12\n" in CP932 */
	b = R("s.csv", "\x94\x4e\x97\xee,\x90\x6c\x90\x94\n20-24,12\n", NULL, 0, NULL);
	assert_non_null(strstr(b, "type:   CSV table, Shift_JIS (CP932)"));
	assert_non_null(strstr(b, "row | 年齢   人数\n"));
	b = R("b.csv",
	      "\xef\xbb\xbf"
	      "a,b\n1,2\n",
	      NULL, 0, NULL);
	assert_non_null(strstr(b, "UTF-8 with byte order mark"));
	assert_non_null(strstr(b, "row | a  b\n"));
}

static void
malformed_shown_as_text(void **state)
{
	const char *b;

	(void)state;
	b = R("bad.csv", "a,b\n1,\"open\n2,3\n", NULL, 0, NULL);
	assert_non_null(strstr(b, "(not a well-formed table: shown as text)\n"));
	assert_non_null(strstr(b, "2 | 1,\"open\n"));
}

static void
row_limit(void **state)
{
	struct view_opts o = {.rows = 2};
	const char *b;

	(void)state;
	b = body(R("r.csv", "n\n1\n2\n3\n4\n", NULL, 0, &o));
	assert_non_null(strstr(b, "4 data rows, 1 columns\n"));
	assert_non_null(strstr(b, "  2 | 2\n(2 more rows not shown)\n"));
	assert_null(strstr(b, "  3 | 3"));
}

static void
escape_cut_wide(void **state)
{
	char esc[128];
	unsigned cols;

	(void)state;
	assert_true(setlocale(LC_CTYPE, "C") != NULL); /* the caller's locale does not matter */
	view_escape("東京都", 9, 4, esc, sizeof(esc), &cols);
	/* two columns for 東, one for the ellipsis: 京 does not fit beside it */
	assert_string_equal(esc, "東\xe2\x80\xa6");
	assert_int_equal(cols, 3);
	view_escape("東京", 6, 4, esc, sizeof(esc), &cols);
	assert_string_equal(esc, "東京");
	assert_int_equal(cols, 4);
}

static void
crlf_eol_option(void **state)
{
	struct view_opts o = {.eol = "\r\n"};
	const char *b;

	(void)state;
	b = R("c.csv", "a\n1\n", NULL, 0, &o);
	assert_non_null(strstr(b, "row | a\r\n"));
	assert_null(strstr(b, "a\n"));
}

/* The parent's check refuses what a taken-over child could send a terminal, and nothing else. */
static void
output_check(void **state)
{
	static const char *const bad[] = {
	    "\x1b]52;c;ZXZpbA==\x07", /* OSC 52: write the reviewer's clipboard */
	    "\x1b]2;title\x07",	      /* retitle the window */
	    "\x1b[2J",		      /* clear the screen */
	    "\x1b[7",		      /* a cut SGR */
	    "a\x07"
	    "b", /* BEL */
	    "a\xc2\x9b"
	    "b", /* C1 CSI as UTF-8 */
	    "a\x9b"
	    "2J",	/* C1 CSI as one byte */
	    "\xc0\x80", /* overlong */
	};
	const char *good = "  1 \xe6\x97\xa5\xe6\x9c\xac \x1b[7m12\x1b[27m\r\n\\x1b\n";

	assert_true(view_output_safe((const uint8_t *)good, strlen(good)));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(view_output_safe((const uint8_t *)bad[i], strlen(bad[i])));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(csv_aligned),
	    cmocka_unit_test(quoting_and_crlf),
	    cmocka_unit_test(tsv),
	    cmocka_unit_test(japanese_width),
	    cmocka_unit_test(control_escaped),
	    cmocka_unit_test(marks_text_and_reverse),
	    cmocka_unit_test(wide_paged),
	    cmocka_unit_test(long_cell_cut),
	    cmocka_unit_test(not_tables),
	    cmocka_unit_test(text_numbered_and_wrapped),
	    cmocka_unit_test(shift_jis_and_bom),
	    cmocka_unit_test(malformed_shown_as_text),
	    cmocka_unit_test(row_limit),
	    cmocka_unit_test(escape_cut_wide),
	    cmocka_unit_test(crlf_eol_option),
	    cmocka_unit_test(output_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
