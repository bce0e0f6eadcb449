/*
 * wsgatectl transfer view ID [--mark ROW:COL]... [--width N] [--reverse|--plain]
 * (SPEC "The airlock": reviewers see what they decide). Prints the quarantined bytes of a
 * request through transfer/view.h, after blob_verify has checked they still hash to the
 * record's SHA-256: what is shown is what would be released. The cells the checker's findings
 * name are marked, and both the checker and the renderer run in the confined child
 * (transfer/confined.h), never in this root process.
 *
 * Marks: reverse video when stdout is a terminal (or --reverse), `‹value›!` otherwise (or
 * --plain). Width: the terminal's, else $COLUMNS, else 100; --width 0 puts every column on one
 * page (for `| less -S`). Admins over SSH have no terminal on the gateway (the gateway grants
 * a pty to analysts only), so they get `‹value›!` unless they ask for --reverse.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "transfer/blob.h"
#include "transfer/queue.h"
#include "transfer/check.h"
#include "transfer/view.h"
#include "transfer/view_job.h"

#define VIEW_MAX_MARK_ARGS 256
#define VIEW_DEFAULT_WIDTH 100
_Static_assert(VIEW_JOB_MAX_MARKS >= VIEW_MAX_MARK_ARGS + CHECK_MAX_FINDINGS,
	       "every --mark cell and every finding fits");

static int
parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long x;

	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
		return -1;
	errno = 0;
	x = strtoul(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/* "ROW:COL" as findings number them (header row 0, first column 1). */
static int
parse_mark(const char *s, struct view_mark *m)
{
	char buf[32], *colon;

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	if (!(colon = strchr(buf, ':')))
		return -1;
	*colon = '\0';
	return parse_u32(buf, &m->row) < 0 || parse_u32(colon + 1, &m->column) < 0 ? -1 : 0;
}

static unsigned
display_width(int terminal)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");
	uint32_t v;

	if (terminal && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (cols && parse_u32(cols, &v) == 0 && v > 0 && v <= 10000)
		return v;
	return VIEW_DEFAULT_WIDTH;
}

static int
view_usage(void)
{
	return ctl_usage("usage: transfer view ID [--mark ROW:COL]... [--width N] "
			 "[--reverse|--plain]");
}

/* Reads the request and opens its blob, verified; 0 or the exit code of a refusal. */
static int
open_request(struct ctl *c, uint64_t id, struct request *r, int *fd)
{
	MDB_txn *txn;
	int rc;

	if ((rc = store_begin(c->st, 1, &txn)) < 0)
		return ctl_fail("cannot read the state store: %s", store_strerror(rc));
	rc = queue_get(c->st, txn, id, r);
	store_abort(txn);
	if (rc == STORE_NOTFOUND)
		return ctl_fail("no request %" PRIu64, id);
	if (rc != 0)
		return ctl_fail("request %" PRIu64 ": record cannot be read: %s", id,
				store_strerror(rc));
	rc = blob_verify(store_state_dir(c->st), r->sha256, r->s.size, -1, fd);
	if (rc == -EBADMSG)
		return ctl_fail("request %" PRIu64 ": quarantined bytes no longer match their "
				"SHA-256: not shown",
				id);
	if (rc < 0)
		return ctl_fail("request %" PRIu64 ": quarantined bytes: %s", id, strerror(-rc));
	return 0;
}

/* The value of option name at argv[*i] ("--name V" or "--name=V"), or NULL if it is not it. */
static const char *
opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

/* Parses what follows "view"; 0 or the usage exit code. */
static int
parse_args(int argc, char **argv, uint64_t *id, struct view_mark *marks, size_t *nmarks,
	   struct view_opts *vo, int *have_width, int *force)
{
	const char *v;
	uint32_t w;
	int nid = 0;

	for (int i = 1; i < argc; i++) {
		if ((v = opt_value(argc, argv, &i, "--mark"))) {
			if (*nmarks == VIEW_MAX_MARK_ARGS || parse_mark(v, &marks[(*nmarks)++]) < 0)
				return view_usage();
		} else if ((v = opt_value(argc, argv, &i, "--width"))) {
			if (parse_u32(v, &w) < 0 || w > 10000)
				return view_usage();
			vo->width = w;
			*have_width = 1;
		} else if (strcmp(argv[i], "--reverse") == 0 || strcmp(argv[i], "--plain") == 0) {
			*force = argv[i][2] == 'r';
		} else if (argv[i][0] == '-' || nid++ || ctl_parse_id(argv[i], id) < 0) {
			return view_usage();
		}
	}
	return nid == 1 ? 0 : view_usage();
}

/* The cells the checker's findings name, marked as --mark cells are; the checker runs confined,
 * as at submission (its report may have been made by an older checker). A checker that cannot
 * run leaves only the --mark cells, with a line saying so. */
static void
add_finding_marks(struct ctl *c, int fd, const char *name, struct view_mark *marks,
		  size_t *nmarks)
{
	struct check_report *rep = calloc(1, sizeof(*rep));
	char why[256];

	if (rep == NULL || check_confined(c->cfg, fd, name, rep, NULL, why, sizeof(why)) < 0) {
		fprintf(stderr, "wsgatectl: findings not marked: %s\n",
			rep ? why : "out of memory");
		free(rep);
		return;
	}
	for (unsigned i = 0; i < rep->nlisted && *nmarks < VIEW_JOB_MAX_MARKS; i++) {
		const struct check_finding *f = &rep->findings[i];

		if (f->row == 0 && f->column == 0)
			continue; /* about the whole file, not a cell */
		marks[*nmarks].row = f->row;
		marks[(*nmarks)++].column = f->column;
	}
	free(rep);
}

int
ctl_transfer_view(struct ctl *c, int argc, char **argv)
{
	struct view_mark marks[VIEW_JOB_MAX_MARKS];
	struct view_opts vo = {0};
	struct request *r;
	char why[512];
	size_t nmarks = 0;
	uint64_t id = 0;
	int fd = -1, rc, have_width = 0, force = -1;

	if ((rc = parse_args(argc, argv, &id, marks, &nmarks, &vo, &have_width, &force)) != 0)
		return rc;
	vo.terminal = force >= 0 ? force : isatty(STDOUT_FILENO);
	if (!have_width)
		vo.width = display_width(isatty(STDOUT_FILENO));
	if (!(r = calloc(1, sizeof(*r))))
		return ctl_fail("out of memory");
	if ((rc = open_request(c, id, r, &fd)) != 0)
		goto out;
	add_finding_marks(c, fd, r->s.name, marks, &nmarks);
	fflush(stdout);
	/* The bytes are parsed in the confined child, never here (root, the store, the keys). */
	if (view_confined(fd, r->s.name, marks, nmarks, &vo, STDOUT_FILENO, why, sizeof(why)) < 0)
		rc = ctl_fail("request %" PRIu64 ": %s", id, why);
out:
	if (fd >= 0)
		close(fd);
	free(r);
	return rc;
}
