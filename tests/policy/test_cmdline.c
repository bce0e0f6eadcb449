/*
 * cmdline_program and cmdline_program_allowed: which command lines without a pty may run. One
 * table of lines and verdicts: the smuggling attempts (another program behind a launcher, an
 * assignment, a separator, a substitution, quoting, a path, a redirection, a control byte) must
 * be refused; the forms an analyst really types must pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/nitems.h"
#include "policy/cmdline.h"

struct row {
	const char *line;
	const char *prog; /* NULL: refused */
};

/* clang-format off */
static const struct row rows[] = {
	/* allowed */
	{"airlock", "airlock"},
	{"airlock status", "airlock"},
	{"  \tairlock status", "airlock"},
	{"airlock status  ", "airlock"},
	{"airlock export \"my file.csv\" --reason 'x y'", "airlock"},
	{"airlock export 'it''s.csv'", "airlock"},
	{"airlock export /work/out/t1.csv --reason='cell counts >= 10'", "airlock"},
	{"airlock export *.csv", "airlock"},
	{"airlock export données.csv", "airlock"},
	{"airlock withdraw 12", "airlock"},
	{"cat x", "cat"}, /* named, but not listed: refused by cmdline_program_allowed */
	/* launchers: the program is the launcher, never what it launches */
	{"sh -c 'cat /work/x'", "sh"},
	{"env X=1 cat /work/x", "env"},
	{"nice cat /work/x", "nice"},
	{"exec cat /work/x", NULL},
	{"exec airlock", NULL},
	{"eval airlock", NULL},
	{"command airlock", NULL},
	{"builtin airlock", NULL},
	{"time airlock", NULL},
	{"if airlock", NULL},
	/* leading assignments */
	{"X=1 cat /work/x", NULL},
	{"X=1 airlock", NULL},
	{"PATH=/work airlock", NULL},
	/* separators and pipes */
	{"airlock;cat /work/x", NULL},
	{"airlock ; cat /work/x", NULL},
	{"airlock && cat /work/x", NULL},
	{"airlock || cat /work/x", NULL},
	{"airlock|cat", NULL},
	{"airlock & cat /work/x", NULL},
	{"airlock\ncat /work/x", NULL},
	{"airlock\r\ncat /work/x", NULL},
	{"airlock \\\ncat", NULL},
	{"airlock (cat)", NULL},
	{"airlock { cat; }", NULL},
	/* substitutions */
	{"airlock $(cat /work/x)", NULL},
	{"airlock `cat /work/x`", NULL},
	{"airlock \"$(cat /work/x)\"", NULL},
	{"airlock \"`cat /work/x`\"", NULL},
	{"airlock $X", NULL},
	{"airlock ${X}", NULL},
	{"airlock $'\\x41'", NULL},
	{"airlock <(cat /work/x)", NULL},
	{"airlock \"a\\\"b\"", NULL},
	/* redirections */
	{"airlock > /work/x", NULL},
	{"airlock >/work/x", NULL},
	{"airlock < /work/x", NULL},
	{"airlock 2>&1", NULL},
	{"airlock <<EOF", NULL},
	/* quoting and escaping the program */
	{"'airlock'", NULL},
	{"\"airlock\"", NULL},
	{"\\airlock", NULL},
	{"air\"\"lock", NULL},
	{"air''lock", NULL},
	{"air\\lock", NULL},
	{"airlock'' status", NULL},
	/* paths */
	{"/usr/bin/airlock", NULL},
	{"./airlock", NULL},
	{"../bin/airlock", NULL},
	{"bin/airlock", NULL},
	{"~/airlock", NULL},
	/* names the config never accepts */
	{".", NULL},
	{". /work/x", NULL},
	{"-airlock", NULL},
	{"", NULL},
	{"   ", NULL},
	/* unbalanced quotes, comments, control bytes */
	{"airlock 'x", NULL},
	{"airlock \"x", NULL},
	{"airlock # x", NULL},
	{"airlock !x", NULL},
	{"airlock 'a\nb'", NULL},
	{"airlock \"a\nb\"", NULL},
	{"airlock \x1b[2J", NULL},
	{"airlock \x7f", NULL},
	{"airlock\tstatus\v", NULL},
	/* a name longer than any listed one */
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa x", NULL},
};
/* clang-format on */

static void
test_program(void **state)
{
	char prog[64];

	(void)state;
	for (size_t i = 0; i < nitems(rows); i++) {
		int rc = cmdline_program(rows[i].line, prog, sizeof(prog));

		if (rows[i].prog == NULL ? rc != -1 || prog[0] != '\0'
					 : rc != 0 || strcmp(prog, rows[i].prog) != 0)
			fail_msg("line %zu [%s]: got %d [%s]", i, rows[i].line, rc, prog);
	}
}

static struct config cfg;

static void
list(const char *const *names, size_t n, int any)
{
	memset(&cfg, 0, sizeof(cfg));
	for (size_t i = 0; i < n; i++)
		snprintf(cfg.exec_without_pty[i], sizeof(cfg.exec_without_pty[i]), "%s", names[i]);
	cfg.nexec_without_pty = n;
	cfg.exec_without_pty_any = any;
}

static void
test_allowed_default(void **state)
{
	static const char *const def[] = {"airlock"};

	(void)state;
	list(def, 1, 0);
	assert_int_equal(cmdline_program_allowed(&cfg, "airlock status"), 1);
	assert_int_equal(cmdline_program_allowed(&cfg, "airlock"), 1);
	assert_int_equal(cmdline_program_allowed(&cfg, "cat /work/x.csv"), 0);
	assert_int_equal(cmdline_program_allowed(&cfg, "airlockx"), 0);
	assert_int_equal(cmdline_program_allowed(&cfg, "airloc"), 0);
	assert_int_equal(cmdline_program_allowed(&cfg, "scp -f /work/x.csv"), 0);
	assert_int_equal(cmdline_program_allowed(&cfg, "rsync --server --sender -e.LsfxC . x"), 0);
	assert_int_equal(cmdline_program_allowed(&cfg, "/usr/lib/openssh/sftp-server"), 0);
	assert_int_equal(cmdline_program_allowed(&cfg, "tar x"), 0);
	for (size_t i = 0; i < nitems(rows); i++)
		assert_int_equal(cmdline_program_allowed(&cfg, rows[i].line),
				 rows[i].prog != NULL && strcmp(rows[i].prog, "airlock") == 0);
}

static void
test_allowed_lists(void **state)
{
	static const char *const two[] = {"airlock", "R"};
	static const char *const bad[] = {"exec", "eval"};

	(void)state;
	list(NULL, 0, 0); /* "none" */
	assert_int_equal(cmdline_program_allowed(&cfg, "airlock status"), 0);
	list(two, 2, 0);
	assert_int_equal(cmdline_program_allowed(&cfg, "R --version"), 1);
	assert_int_equal(cmdline_program_allowed(&cfg, "r --version"), 0);
	assert_int_equal(cmdline_program_allowed(&cfg, "R;cat x"), 0);
	/* Even listed, a shell word never names a program. */
	list(bad, 2, 0);
	assert_int_equal(cmdline_program_allowed(&cfg, "exec cat x"), 0);
	assert_int_equal(cmdline_program_allowed(&cfg, "eval cat x"), 0);
	list(NULL, 0, 1); /* "*": the rule is off */
	assert_int_equal(cmdline_program_allowed(&cfg, "cat /work/x.csv; tar c ."), 1);
	assert_int_equal(cmdline_program_allowed(&cfg, NULL), 1);
	list(two, 2, 0);
	assert_int_equal(cmdline_program_allowed(&cfg, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_program),
	    cmocka_unit_test(test_allowed_default),
	    cmocka_unit_test(test_allowed_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
