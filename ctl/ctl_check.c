/*
 * wsgatectl check FILE [--json] [--project P] (SPEC "Publication checks"): the publication
 * checks on any file, run in the confined checker as at export submission. With --project, the
 * release ledger of that project is consulted too (differencing_release), as for an export of
 * that project. Exit 0 for pass or warn, 1 for fail (or an error), 2 for a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/names.h"
#include "ctl/ctl.h"
#include "transfer/check.h"
#include "transfer/ledger.h"
#include "transfer/queue.h"

static json_t *
finding_json(const struct check_finding *f)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "severity",
			 queue_check_name(f->severity), "rule", f->rule, "row", (json_int_t)f->row,
			 "column", (json_int_t)f->column, "header", f->header, "value", f->value,
			 "message", f->message);
}

static int
print_json(const struct check_report *rep, const char *text)
{
	json_t *j, *arr = json_array();
	unsigned i;

	for (i = 0; arr && i < rep->nlisted; i++)
		if (json_array_append_new(arr, finding_json(&rep->findings[i])) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	if (!arr)
		return ctl_print_json(NULL);
	j = json_pack("{s:s, s:I, s:o, s:s}", "result", queue_check_name(rep->result), "nfindings",
		      (json_int_t)rep->nfindings, "findings", arr, "report", text);
	return ctl_print_json(j);
}

int
ctl_check(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"project", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	struct check_report *rep = NULL;
	struct check_cells cells = {0, 0, NULL};
	char why[512], nb[CTL_NAMEBUF], *text = NULL;
	const char *file, *name, *project = NULL;
	struct stat sb;
	int ch, fd = -1, json = c->json, rc;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'j')
			json = 1;
		else if (ch == 'p')
			project = optarg;
		else
			return ctl_usage("usage: check FILE [--json] [--project P]");
	}
	if (optind + 1 != argc)
		return ctl_usage("usage: check FILE [--json] [--project P]");
	if (project && !name_valid(project))
		return ctl_usage("check: invalid project name %s",
				 ctl_name(project, nb, sizeof(nb)));
	file = argv[optind];
	name = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		rc = ctl_fail("%s: %s", ctl_name(file, nb, sizeof(nb)),
			      fd < 0 ? strerror(errno) : "not a regular file");
		goto out;
	}
	if (!(rep = malloc(sizeof(*rep))) || !(text = malloc(CHECK_REPORT_MAX))) {
		rc = ctl_fail("out of memory");
		goto out;
	}
	if (project && !c->st) {
		rc = ctl_fail("check --project: the state store is not open");
		goto out;
	}
	if (check_confined(c->cfg, fd, name, rep, &cells, why, sizeof(why)) < 0 ||
	    (project && ledger_check(c->st, project, &cells, c->cfg->min_cell_count, rep, why,
				     sizeof(why)) < 0)) {
		rc = ctl_fail("%s: %s", ctl_name(file, nb, sizeof(nb)), why);
		goto out;
	}
	check_report_text(rep, text, CHECK_REPORT_MAX);
	if (json) {
		if (print_json(rep, text) != 0) {
			rc = 1;
			goto out;
		}
	} else
		fputs(text, stdout);
	rc = rep->result == CHECK_FAIL ? 1 : 0;
out:
	check_cells_free(&cells);
	free(text);
	free(rep);
	if (fd >= 0)
		close(fd);
	return rc;
}
