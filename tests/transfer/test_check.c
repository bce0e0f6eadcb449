/* Export checks: each rule, pass/warn/fail, malformed and oversized input. */
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
#include "transfer/queue.h"

static struct config *cfg;
static char dir[] = "/tmp/wsgate-check-XXXXXX";

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

static struct check_report rep;

static int
run(const char *name, const char *content, size_t len)
{
	char path[256], why[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	assert_int_equal(check_fd(cfg, fd, name, &rep, why, sizeof(why)), 0);
	close(fd);
	unlink(path);
	return rep.result;
}

#define RUN(name, s) run(name, s, strlen(s))

static void
test_pass(void **state)
{
	(void)state;
	assert_int_equal(RUN("t.csv", "sex,age_group,n\nM,40-44,12\nF,85+,0\nM,80-84,1000\n"),
			 CHECK_PASS);
	assert_string_equal(rep.text, "result: pass\n");
	/* identifiers and years are not counts */
	assert_int_equal(RUN("t.csv", "year,region_code,n\n2020,3,15\n"), CHECK_PASS);
	assert_int_equal(RUN("t.tsv", "年齢階級\t人数\n40-44歳\t10\n85歳以上\t20\n"), CHECK_PASS);
	assert_int_equal(RUN("t.csv", "age,n\n80+,11\n"), CHECK_PASS);
}

static void
test_small_cell(void **state)
{
	(void)state;
	assert_int_equal(RUN("t.csv", "group,n\na,3\nb,0\n"), CHECK_FAIL);
	assert_non_null(strstr(rep.text, "row 2, column 2 (\"n\"): min_cell_count"));
	assert_int_equal(rep.nfindings, 1);
	assert_int_equal(RUN("t.csv", "group,n\na,9\n"), CHECK_FAIL);
	assert_int_equal(RUN("t.csv", "group,n\na,10\nb,2.5\nc,-3\n"), CHECK_PASS);
	assert_int_equal(RUN("t.tsv", "group\tn\na\t1\n"), CHECK_FAIL);
}

static void
test_age_rules(void **state)
{
	(void)state;
	assert_int_equal(RUN("t.csv", "age_group,n\n40-42,12\n"), CHECK_FAIL);
	assert_non_null(strstr(rep.text, "age_width"));
	assert_int_equal(RUN("t.csv", "age_group,n\n85-89,12\n"), CHECK_FAIL);
	assert_non_null(strstr(rep.text, "age_top"));
	assert_int_equal(RUN("t.csv", "age_group,n\n90+,12\n"), CHECK_FAIL);
	assert_non_null(strstr(rep.text, "age_top"));
	assert_int_equal(RUN("t.csv", "age,n\n47,12\n"), CHECK_FAIL);
	assert_non_null(strstr(rep.text, "age_single"));
	assert_int_equal(RUN("t.csv", "年齢,n\n40~44,12\n"), CHECK_PASS);
	assert_int_equal(RUN("t.csv", "age_group,n\n40 to 44,12\ntotal,99\n"), CHECK_WARN);
	assert_non_null(strstr(rep.text, "age_format"));
}

static void
test_facility(void **state)
{
	(void)state;
	assert_int_equal(RUN("t.csv", "hospital,n\nX,12\n"), CHECK_FAIL);
	assert_non_null(strstr(rep.text, "facility"));
	assert_int_equal(RUN("t.csv", "施設名,n\nX,12\n"), CHECK_FAIL);
	assert_int_equal(RUN("t.csv", "site,n\nH001,12\n"), CHECK_FAIL);
	assert_int_equal(RUN("t.csv", "site,n\n\"hospital a\",12\n"), CHECK_FAIL);
}

static void
test_types_and_size(void **state)
{
	(void)state;
	assert_int_equal(RUN("notes.txt", "hello\n"), CHECK_WARN);
	assert_int_equal(RUN("x.exe", "MZ"), CHECK_FAIL);
	assert_non_null(strstr(rep.text, "type"));
	assert_int_equal(RUN("noext", "x"), CHECK_FAIL);
	assert_int_equal(RUN("T.CSV", "a,n\nx,12\n"), CHECK_PASS);
	cfg->export_max_size = 10;
	assert_int_equal(RUN("t.csv", "a,n\nx,12\ny,13\n"), CHECK_FAIL);
	assert_non_null(strstr(rep.text, "size"));
	cfg->export_max_size = 50u << 20;
}

static void
test_malformed_and_bounds(void **state)
{
	size_t big = 300000;
	char *s = malloc(big + 64);

	(void)state;
	assert_int_equal(RUN("t.csv", "a,n\n\"unterminated,12\n"), CHECK_FAIL);
	assert_non_null(strstr(rep.text, "malformed"));
	/* one huge field: refused at 64 KiB instead of growing without end */
	strcpy(s, "a,n\n\"");
	memset(s + 5, 'x', big);
	strcpy(s + 5 + big, "\",1\n");
	assert_int_equal(run("t.csv", s, strlen(s)), CHECK_FAIL);
	assert_non_null(strstr(rep.text, "longer than 65536"));
	/* many findings: listed up to the cap, counted after it, report bounded */
	{
		size_t n = 0;

		n += (size_t)sprintf(s, "g,n\n");
		s = realloc(s, 200000);
		for (int i = 0; i < 5000; i++)
			n += (size_t)sprintf(s + n, "g%d,3\n", i);
		assert_int_equal(run("t.csv", s, n), CHECK_FAIL);
		assert_int_equal(rep.nfindings, 5000);
		assert_non_null(strstr(rep.text, "(4900 more findings not listed)"));
		assert_true(strlen(rep.text) < sizeof(rep.text));
	}
	/* too many columns: the rest is not checked, and the reviewer is told */
	{
		size_t n = 0;

		for (int i = 0; i < 1500; i++)
			n += (size_t)sprintf(s + n, "c%d,", i);
		n += (size_t)sprintf(s + n, "z\n");
		assert_int_equal(run("t.csv", s, n), CHECK_WARN);
		assert_non_null(strstr(rep.text, "columns beyond 1024"));
	}
	assert_int_equal(RUN("t.csv", ""), CHECK_WARN);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pass),	   cmocka_unit_test(test_small_cell),
	    cmocka_unit_test(test_age_rules),	   cmocka_unit_test(test_facility),
	    cmocka_unit_test(test_types_and_size), cmocka_unit_test(test_malformed_and_bounds),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
