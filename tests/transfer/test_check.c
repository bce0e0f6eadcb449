/*
 * Publication checks: every fixture in tests/transfer/fixtures/ (expect.txt says the verdict and
 * the findings each must give), run in-process and through the confined helper, which must agree
 * byte for byte; then size, the report's bounds, the ledger's cells, and the confined run's
 * answers to a crash, a hang, garbage and escape attempts.
 * Usage: test_transfer_check FIXTURE_DIR
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "transfer/check.h"
#include "transfer/check_int.h"
#include "transfer/confined.h"
#include "transfer/queue.h"

static struct config *cfg;
static const char *fixtures;
static char dir[] = "/tmp/wsgate-check-XXXXXX";
static struct check_report rep, rep2;
static char text[CHECK_REPORT_MAX], text2[CHECK_REPORT_MAX];

static int
setup(void **state)
{
	static const char *types[] = {"csv", "tsv", "txt", "pdf", "png"};

	(void)state;
	cfg = calloc(1, sizeof(*cfg));
	for (size_t i = 0; i < 5; i++)
		strcpy(cfg->export_types[i], types[i]);
	cfg->nexport_types = 5;
	cfg->export_max_size = 50u << 20;
	cfg->min_cell_count = 10;
	cfg->max_rows = 1000;
	strcpy(cfg->facilities[0], "Hospital A");
	strcpy(cfg->facilities[1], "H001");
	cfg->nfacilities = 2;
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	free(cfg);
	return system(cmd);
}

static int
has(const struct check_report *r, const char *rule, int row, int col)
{
	for (unsigned i = 0; i < r->nlisted; i++)
		if (strcmp(r->findings[i].rule, rule) == 0 &&
		    (row < 0 || (r->findings[i].row == (uint32_t)row &&
				 r->findings[i].column == (uint32_t)col)))
			return 1;
	return 0;
}

/* One fixture line: FILE VERDICT [RULE[@ROW:COL] ...] [!RULE ...] */
static void
fixture(char *line)
{
	char path[512], why[256], *file = strtok(line, " \n"), *verdict = strtok(NULL, " \n"), *e;
	struct check_cells cells, cells2;
	int fd;

	assert_non_null(file);
	assert_non_null(verdict);
	snprintf(path, sizeof(path), "%s/%s", fixtures, file);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(check_fd(cfg, fd, file, &rep, &cells, why, sizeof(why)), 0);
	assert_int_equal(check_confined(cfg, fd, file, &rep2, &cells2, why, sizeof(why)), 0);
	close(fd);
	check_report_text(&rep, text, sizeof(text));
	check_report_text(&rep2, text2, sizeof(text2));
	if (strcmp(queue_check_name(rep.result), verdict) != 0 || strcmp(text, text2) != 0)
		fail_msg("%s: want %s, got in-process:\n%sconfined:\n%s", file, verdict, text,
			 text2);
	assert_int_equal(cells.n, cells2.n);
	check_cells_free(&cells);
	check_cells_free(&cells2);
	while ((e = strtok(NULL, " \n"))) {
		char rule[32];
		int row, col;

		if (e[0] == '!') {
			if (has(&rep, e + 1, -1, -1))
				fail_msg("%s: unexpected %s finding:\n%s", file, e + 1, text);
			continue;
		}
		switch (sscanf(e, "%31[a-z_0-9]@%d:%d", rule, &row, &col)) {
		case 1:
			row = col = -1; /* RULE alone: anywhere */
			break;
		case 3:
			break;
		default:
			fail_msg("%s: bad expectation %s", file, e);
		}
		if (!has(&rep, rule, row, col))
			fail_msg("%s: no %s finding at row %d, column %d:\n%s", file, rule, row,
				 col, text);
	}
}

static void
test_fixtures(void **state)
{
	char path[512], line[1024];
	FILE *f;
	int n = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/expect.txt", fixtures);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		fixture(line);
		n++;
	}
	fclose(f);
	assert_true(n >= 60);
}

static int
run(const char *name, const char *content, size_t len)
{
	char path[256], why[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	assert_int_equal(check_confined(cfg, fd, name, &rep, NULL, why, sizeof(why)), 0);
	close(fd);
	unlink(path);
	check_report_text(&rep, text, sizeof(text));
	return rep.result;
}

#define RUN(name, s) run(name, s, strlen(s))

static void
test_report(void **state)
{
	char *big;
	size_t i, n = 0;

	(void)state;
	assert_int_equal(RUN("t.csv", "group,n\na,12\n"), CHECK_PASS);
	assert_string_equal(text, "result: pass\n");
	assert_int_equal(RUN("t.csv", "group,n\na,3\n"), CHECK_FAIL);
	assert_string_equal(text,
			    "result: fail\nfail: row 1, column 2 (\"n\", \"3\"): small_count: "
			    "a count between 1 and 9 (min_cell_count 10)\n");
	assert_string_equal(rep.findings[0].header, "n");
	assert_string_equal(rep.findings[0].value, "3");
	/* more findings than are listed: all counted, the verdict first, the text bounded */
	big = malloc(3u << 20);
	n += (size_t)sprintf(big, "group");
	for (i = 0; i < 300; i++)
		n += (size_t)sprintf(big + n, ",n%zu", i);
	n += (size_t)sprintf(big + n, "\nx");
	for (i = 0; i < 300; i++)
		n += (size_t)sprintf(big + n, ",3");
	big[n++] = '\n';
	assert_int_equal(run("t.csv", big, n), CHECK_FAIL);
	assert_int_equal(rep.nlisted, CHECK_MAX_FINDINGS);
	assert_int_equal(rep.nfindings, 300);
	assert_non_null(strstr(text, "(200 more findings not listed)"));
	assert_true(strncmp(text, "result: fail\n", 13) == 0);
	free(big);
	/* a header with control characters and quotes reaches no one raw */
	assert_int_equal(RUN("t.csv", "x,\"n \x1b[2J\"\"b\"\nx,3\n"), CHECK_FAIL);
	assert_null(strchr(text, '\x1b'));
	assert_string_equal(rep.findings[0].header, "n ?[2J?b");
}

static void
test_size(void **state)
{
	uint64_t keep = cfg->export_max_size;

	(void)state;
	cfg->export_max_size = 10;
	assert_int_equal(RUN("t.csv", "group,n\na,12\n"), CHECK_FAIL);
	assert_true(has(&rep, "size", 0, 0));
	cfg->export_max_size = keep;
}

static void
test_cells(void **state)
{
	char path[256], why[256];
	struct check_cells cells;
	const char *t = "sex,age_group,n,pct\nM,40-44,12,3.5\nF,40-44,<10,1\nF,45-49,25,2\n"
			"Total,,37,6.5\n";
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/c.csv", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, t, strlen(t)), (ssize_t)strlen(t));
	assert_int_equal(check_confined(cfg, fd, "c.csv", &rep, &cells, why, sizeof(why)), 0);
	close(fd);
	assert_true(cells.complete);
	/* suppressed and measure cells are not counts; the total row is left out */
	assert_int_equal(cells.n, 2);
	assert_string_equal(cells.v[0].row, "M | 40-44"); /* the percentage is no label */
	assert_string_equal(cells.v[0].col, "n");
	assert_int_equal(cells.v[0].value, 12);
	assert_int_equal(cells.v[1].rown, 3);
	assert_int_equal(cells.v[1].coln, 3);
	check_cells_free(&cells);
}

static void
test_values(void **state)
{
	struct value v;
	struct age_band b;

	(void)state;
	value_parse("1,234", 5, &v);
	assert_true(v.kind == VAL_INT && v.n == 1234);
	value_parse("12,34", 5, &v);
	assert_int_equal(v.kind, VAL_TEXT);
	value_parse("3.50", 4, &v);
	assert_int_equal(v.kind, VAL_NUMBER);
	value_parse("-3", 2, &v);
	assert_int_equal(v.kind, VAL_NUMBER);
	value_parse("007", 3, &v);
	assert_true(v.kind == VAL_INT && v.leading_zero);
	value_parse("≤9", strlen("≤9"), &v);
	assert_int_equal(v.kind, VAL_SUPPRESSED);
	value_parse("3 (12.5%)", 9, &v);
	assert_true(v.kind == VAL_INT && v.n == 3);
	value_parse("3（12.5）", strlen("3（12.5）"), &v);
	assert_true(v.kind == VAL_INT && v.n == 3);
	value_parse("3 (a)", 5, &v);
	assert_int_equal(v.kind, VAL_TEXT);
	assert_true(value_is_exact_date("1950/3/2", 8));
	assert_false(value_is_exact_date("1950-03", 7));
	assert_int_equal(age_parse("20歳代", strlen("20歳代"), &b), AGE_BAND);
	assert_true(b.lo == 20 && b.hi == 29);
	assert_int_equal(age_parse("5歳未満", strlen("5歳未満"), &b), AGE_BAND);
	assert_true(b.lo == 0 && b.hi == 4);
	assert_int_equal(age_parse("2019", 4, &b), AGE_NONE);
}

/* The runner itself, with the test jobs of a WSGATE_TEST_HOOKS build (confined_jobs.c). */
static void
test_confined(void **state)
{
	static const struct confined_limits lim = {3, 0, 0, 1 << 16};
	char path[256], why[256];
	uint8_t *out;
	size_t len;
	int fd;

	(void)state;
#ifndef WSGATE_TEST_HOOKS
	skip();
#endif
	snprintf(path, sizeof(path), "%s/in", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, "x", 1), 1);
	/* control: a job that behaves answers */
	assert_int_equal(confined_run("test-echo", fd, "hi", 2, &lim, &out, &len, why, sizeof(why)),
			 CONFINED_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(out, "hix", 3);
	free(out);
	assert_int_equal(confined_run("test-crash", fd, "", 0, &lim, &out, &len, why, sizeof(why)),
			 CONFINED_FAILED);
	assert_null(out);
	assert_int_equal(confined_run("test-hang", fd, "", 0, &lim, &out, &len, why, sizeof(why)),
			 CONFINED_FAILED);
	assert_non_null(strstr(why, "timed out"));
	assert_int_equal(confined_run("test-flood", fd, "", 0, &lim, &out, &len, why, sizeof(why)),
			 CONFINED_FAILED);
	assert_non_null(strstr(why, "too much"));
	/* what it may not do: each answers "denied", or the filter kills it */
	assert_int_equal(confined_run("test-escape", fd, "", 0, &lim, &out, &len, why, sizeof(why)),
			 CONFINED_OK);
	assert_int_equal(len, 1);
	assert_memory_equal(out, "D", 1);
	free(out);
	assert_int_equal(confined_run("test-exec", fd, "", 0, &lim, &out, &len, why, sizeof(why)),
			 CONFINED_FAILED);
	assert_non_null(strstr(why, "signal 31")); /* SIGSYS: killed by the filter */
	assert_int_equal(
	    confined_run("test-identity", fd, "", 0, &lim, &out, &len, why, sizeof(why)),
	    CONFINED_OK);
	assert_int_equal(len, sizeof(uint32_t) * 2);
	if (getuid() == 0)
		assert_memory_equal(out, "\x00\x03\x0d\x3e\x00\x03\x0d\x3e", 8); /* 199998 */
	free(out);
	/* a checker that crashes or answers garbage: the one finding, never a pass */
	assert_int_equal(RUN("crash-hook.csv", "group,n\na,12\n"), CHECK_FAIL);
	assert_string_equal(text, "result: fail\nfail: checker crashed or timed out\n");
	assert_int_equal(RUN("garbage-hook.csv", "group,n\na,12\n"), CHECK_FAIL);
	assert_string_equal(text, "result: fail\nfail: checker crashed or timed out\n");
	assert_int_equal(RUN("lie-hook.csv", "group,n\na,3\n"), CHECK_FAIL);
	assert_string_equal(text, "result: fail\nfail: checker crashed or timed out\n");
	close(fd);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values), cmocka_unit_test(test_fixtures),
	    cmocka_unit_test(test_report), cmocka_unit_test(test_size),
	    cmocka_unit_test(test_cells),  cmocka_unit_test(test_confined),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: test_transfer_check FIXTURE_DIR\n");
		return 2;
	}
	fixtures = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}
