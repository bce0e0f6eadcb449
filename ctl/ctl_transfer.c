/*
 * wsgatectl transfer list|show|approve|reject|import|move and wsgatectl check (SPEC
 * "Programs"). c->actor is "root" for local root or the admin named by --as (wsgatectl.c has
 * checked it is an admin). Local root without --as counts as its own admin identity "root":
 * it may decide requests of any account, but never its own imports and moves.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/names.h"
#include "common/utctime.h"
#include "ctl/ctl.h"
#include "transfer/airlock.h"
#include "transfer/blob.h"
#include "transfer/check.h"
#include "transfer/queue.h"
#include "transfer/review.h"

struct opts {
	const char *state;
	const char *project;
	const char *note;
	const char *reason;
	const char *name;
	int json;
	int nargs;
	char **args;
};

/* Parses options after the subcommand word; positional arguments land in o->args. */
static int
parse(struct ctl *c, int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	    {"state", required_argument, NULL, 's'},
	    {"project", required_argument, NULL, 'p'},
	    {"note", required_argument, NULL, 'n'},
	    {"reason", required_argument, NULL, 'r'},
	    {"name", required_argument, NULL, 'N'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->json = c->json;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->state = optarg;
			break;
		case 'p':
			o->project = optarg;
			break;
		case 'n':
			o->note = optarg;
			break;
		case 'r':
			o->reason = optarg;
			break;
		case 'N':
			o->name = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		default:
			return -1;
		}
	}
	/* Options may also follow positionals ("approve 7 --note x"): parse the rest again. */
	o->args = argv + optind;
	o->nargs = argc - optind;
	return 0;
}

/* Accepts options anywhere: moves positionals in front, then parses. */
static int
parse_any(struct ctl *c, int argc, char **argv, struct opts *o, char **buf)
{
	int n = 0, np = 0, i;

	buf[n++] = argv[0];
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1] && strcmp(argv[i], "--json") != 0) {
			buf[n++] = argv[i];
			if (strchr(argv[i], '=') == NULL && i + 1 < argc)
				buf[n++] = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0) {
			buf[n++] = argv[i];
		}
	}
	buf[n++] = (char *)"--";
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			if (strcmp(argv[i], "--json") != 0 && strchr(argv[i], '=') == NULL &&
			    i + 1 < argc)
				i++;
			continue;
		}
		buf[n++] = argv[i];
		np++;
	}
	buf[n] = NULL;
	(void)np;
	return parse(c, n, buf, o);
}

int
ctl_parse_id(const char *s, uint64_t *id)
{
	char *end;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 19)
		return -1;
	errno = 0;
	*id = strtoull(s, &end, 10);
	return errno || *end || *id == 0 ? -1 : 0;
}

/* ---- list ---- */

struct list_ctx {
	struct ctl *c;
	MDB_txn *txn;
	unsigned statew;
	int state;
	const char *project;
	int json;
	unsigned long n;
};

static void
summary_json(json_t *o, const struct req_summary *s)
{
	char name[256];

	json_object_set_new(o, "id", json_integer((json_int_t)s->id));
	json_object_set_new(o, "kind", json_string(queue_kind_name(s->kind)));
	json_object_set_new(o, "state", json_string(queue_state_name(s->state)));
	json_object_set_new(o, "check", json_string(queue_check_name(s->check)));
	json_object_set_new(o, "project", json_string(s->project));
	json_object_set_new(o, "area", json_string(s->area));
	if (s->to_area[0])
		json_object_set_new(o, "to_area", json_string(s->to_area));
	json_object_set_new(o, "requester", json_string(s->requester));
	/* Names are any bytes >= 0x20: not always UTF-8, so not always a JSON string. */
	json_object_set_new(o, "name",
			    json_string(queue_safe_text(s->name, name, sizeof(name), 0)));
	json_object_set_new(o, "size", json_integer((json_int_t)s->size));
	json_object_set_new(o, "created", json_integer((json_int_t)s->created));
	json_object_set_new(o, "decided", json_integer((json_int_t)s->decided));
}

/*
 * The plain listing is built by hand into a line buffer: printf's format parsing and strftime
 * would cost more than LMDB and the decoding together (SPEC goal: 100,000 requests < 100 ms).
 */
static char *
put_pad(char *p, const char *s, size_t width)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	p += n;
	while (n++ < width)
		*p++ = ' ';
	*p++ = ' ';
	return p;
}

static char *
put_u64(char *p, uint64_t v, size_t width, int right)
{
	char tmp[24];
	size_t n = 0, pad;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	pad = n < width ? width - n : 0;
	if (right)
		for (; pad; pad--)
			*p++ = ' ';
	while (n)
		*p++ = tmp[--n];
	for (; pad; pad--)
		*p++ = ' ';
	*p++ = ' ';
	return p;
}

static char *
put_time(char *p, uint64_t t)
{
	int n = utc_format(t, UTC_ISO8601, p, UTC_MAX_LEN);

	if (n < 0)
		return put_pad(p, "-", 20);
	p += n;
	*p++ = ' ';
	return p;
}

static int
list_visit(const struct req_summary *s, const MDB_val *rec, void *arg)
{
	struct list_ctx *lc = arg;
	char line[1024], name[256], sb[32], *p = line;

	(void)rec;
	if ((lc->state > 0 && s->state != lc->state) ||
	    (lc->project && strcmp(s->project, lc->project) != 0))
		return 0;
	lc->n++;
	if (lc->json) {
		json_t *o = json_object();
		int rc;

		if (!o)
			return -1;
		summary_json(o, s);
		if (s->state == ST_PENDING && lc->statew > 9) {
			unsigned n;

			if (review_approvals(lc->c->st, lc->txn, s->id, &n) == 0)
				json_object_set_new(o, "approvals", json_integer(n));
		}
		/* One object at a time: memory stays flat however long the queue is. */
		if (lc->n > 1)
			putchar(',');
		rc = json_dumpf(o, stdout, JSON_COMPACT);
		json_decref(o);
		return rc < 0 ? -1 : 0;
	}
	p = put_u64(p, s->id, 7, 0);
	p = put_pad(p, queue_kind_name(s->kind), 6);
	p = put_pad(p, ctl_review_state(lc->c, lc->txn, s, sb, sizeof(sb)), lc->statew);
	p = put_pad(p, queue_check_name(s->check), 5);
	p = put_pad(p, s->project, 16);
	p = put_pad(p, s->kind == KIND_MOVE ? s->to_area : s->area, 10);
	p = put_pad(p, s->requester, 16);
	p = put_u64(p, s->size, 11, 1);
	p = put_time(p, s->created);
	p = put_pad(p, queue_safe_text(s->name, name, sizeof(name), 0), 0);
	p[-1] = '\n';
	return fwrite(line, 1, (size_t)(p - line), stdout) == (size_t)(p - line) ? 0 : -1;
}

static int
cmd_list(struct ctl *c, struct opts *o)
{
	static char obuf[1 << 16];
	struct list_ctx lc = {0};
	MDB_txn *txn;
	char nb[CTL_NAMEBUF];
	int rc;

	if (o->nargs != 0)
		return ctl_usage("usage: transfer list [--state S] [--project P] [--json]");
	if (o->state && (lc.state = queue_state_parse(o->state)) < 0)
		return ctl_usage("unknown state %s (pending, approved, rejected, withdrawn, "
				 "released, returned)",
				 ctl_name(o->state, nb, sizeof(nb)));
	if (o->project && !name_valid(o->project))
		return ctl_fail("invalid project name %s", ctl_name(o->project, nb, sizeof(nb)));
	lc.project = o->project;
	lc.json = o->json;
	lc.c = c;
	lc.statew = ctl_review_state_width(c);
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	if ((rc = store_begin(c->st, 1, &txn)) < 0)
		return ctl_fail("cannot read the state store: %s", store_strerror(rc));
	if (o->json)
		putchar('[');
	else
		printf("%-7s %-6s %-*s %-5s %-16s %-10s %-16s %11s %-20s %s\n", "ID", "KIND",
		       (int)lc.statew, "STATE", "CHECK", "PROJECT", "AREA", "REQUESTER", "SIZE",
		       "CREATED", "NAME");
	lc.txn = txn;
	rc = queue_foreach(c->st, txn, list_visit, &lc);
	store_abort(txn);
	if (o->json)
		fputs("]\n", stdout);
	if (rc != 0)
		return ctl_fail("the request database holds a record that cannot be read: %s",
				store_strerror(rc));
	return 0;
}

/* ---- show ---- */

static int
cmd_show(struct ctl *c, struct opts *o)
{
	struct request *r;
	char hex[65], t1[32], t2[32];
	MDB_txn *txn;
	uint64_t id;
	int rc, ret = 1;

	if (o->nargs != 1 || ctl_parse_id(o->args[0], &id) < 0)
		return ctl_usage("usage: transfer show ID [--json]");
	if (!(r = calloc(1, sizeof(*r))))
		return ctl_fail("out of memory");
	if ((rc = store_begin(c->st, 1, &txn)) < 0) {
		ret = ctl_fail("cannot read the state store: %s", store_strerror(rc));
		goto out;
	}
	rc = queue_get(c->st, txn, id, r);
	store_abort(txn);
	if (rc != 0) {
		if (rc == STORE_NOTFOUND)
			ret = ctl_fail("no request %" PRIu64, id);
		else
			ret = ctl_fail("request %" PRIu64 ": record cannot be read: %s", id,
				       store_strerror(rc));
		goto out;
	}
	/* Names, reasons and notes come from requesters: nothing reaches the terminal raw. */
	queue_display(r);
	blob_hex(r->sha256, hex);
	if (o->json) {
		json_t *j = json_object();

		if (!j) {
			ret = ctl_fail("out of memory");
			goto out;
		}
		summary_json(j, &r->s);
		json_object_set_new(j, "path", json_string(r->relpath));
		json_object_set_new(j, "sha256", json_string(hex));
		json_object_set_new(j, "reason", json_string(r->reason));
		json_object_set_new(j, "reviewer", json_string(r->reviewer));
		json_object_set_new(j, "note", json_string(r->note));
		json_object_set_new(j, "report", json_string(r->report));
		ctl_review_show(c, r, j);
		ret = ctl_print_json(j);
		goto out;
	}
	ctl_format_time(r->s.created, t1, sizeof(t1));
	ctl_format_time(r->s.decided, t2, sizeof(t2));
	printf("id:        %" PRIu64 "\nkind:      %s\nstate:     %s\nproject:   %s\n", r->s.id,
	       queue_kind_name(r->s.kind), queue_state_name(r->s.state), r->s.project);
	if (r->s.kind == KIND_MOVE)
		printf("area:      %s -> %s\n", r->s.area, r->s.to_area);
	else
		printf("area:      %s\n", r->s.area);
	printf("requester: %s\nname:      %s\n", r->s.requester, r->s.name);
	if (r->relpath[0])
		printf("path:      /work/%s\n", r->relpath);
	printf("size:      %" PRIu64 "\nsha256:    %s\nreason:    %s\ncreated:   %s\n", r->s.size,
	       hex, r->reason, t1);
	if (r->s.decided)
		printf("decided:   %s\nreviewer:  %s\nnote:      %s\n", t2, r->reviewer, r->note);
	ctl_review_show(c, r, NULL);
	printf("check report:\n");
	for (char *line = r->report, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		printf("  %.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
		if (!nl)
			break;
	}
	ret = 0;
out:
	free(r);
	return ret;
}

/* ---- decisions, import, move ---- */

static int
cmd_decide(struct ctl *c, struct opts *o, int decision)
{
	static const char *const done[] = {
	    [REVIEW_APPROVE] = "approved and released",
	    [REVIEW_REJECT] = "rejected",
	    [REVIEW_RETURN] = "returned to its requester",
	};
	static const char *const state[] = {
	    [REVIEW_APPROVE] = "released",
	    [REVIEW_REJECT] = "rejected",
	    [REVIEW_RETURN] = "returned",
	};
	char why[1024];
	uint64_t id;
	int outcome;

	if (o->nargs != 1 || ctl_parse_id(o->args[0], &id) < 0 || !o->note)
		return ctl_usage("usage: transfer %s ID --note TEXT",
				 review_decision_name(decision));
	if (airlock_review(c->st, c->cfg, c->actor, id, decision, o->note, &outcome, why,
			   sizeof(why)) < 0)
		return ctl_fail("%s", why);
	if (outcome == AIRLOCK_AWAITS_REVIEW)
		return ctl_print_awaiting(c, id, o->json);
	if (o->json)
		printf("{\"id\":%" PRIu64 ",\"state\":\"%s\"}\n", id, state[decision]);
	else
		printf("request %" PRIu64 " %s\n", id, done[decision]);
	return 0;
}

static int
print_new(struct opts *o, const char *kind, uint64_t id)
{
	if (o->json)
		printf("{\"id\":%" PRIu64 ",\"kind\":\"%s\",\"state\":\"pending\"}\n", id, kind);
	else
		printf("%s request %" PRIu64 " pending\n", kind, id);
	return 0;
}

/*
 * Local root names a host file. An admin over SSH (--as) must not read the gateway host's files
 * with root's rights: the bytes come on stdin ("-") and --name gives the file name.
 */
static int
cmd_import(struct ctl *c, struct opts *o)
{
	char why[1024], nb[CTL_NAMEBUF];
	const char *name, *file;
	struct stat sb;
	uint64_t id;
	int fd, rc;

	if (o->nargs != 3)
		return ctl_usage("usage: transfer import PROJECT AREA FILE|- [--name NAME] "
				 "[--reason TEXT]");
	file = o->args[2];
	if (strcmp(file, "-") == 0) {
		if (!o->name)
			return ctl_usage("transfer import from stdin needs --name NAME");
		fd = dup(STDIN_FILENO);
		name = o->name;
	} else {
		if (strcmp(c->actor, "root") != 0)
			return ctl_fail(
			    "over SSH, transfer import reads the file from stdin: use - "
			    "--name NAME");
		fd = open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0 && (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))) {
			close(fd);
			return ctl_fail("%s: not a regular file", ctl_name(file, nb, sizeof(nb)));
		}
		name = o->name ? o->name : (strrchr(file, '/') ? strrchr(file, '/') + 1 : file);
	}
	if (fd < 0)
		return ctl_fail("%s: %s", ctl_name(file, nb, sizeof(nb)), strerror(errno));
	rc = airlock_import(c->st, c->cfg, c->actor, o->args[0], o->args[1], fd, name, o->reason,
			    &id, why, sizeof(why));
	close(fd);
	if (rc < 0)
		return ctl_fail("%s", why);
	return print_new(o, "import", id);
}

static int
cmd_move(struct ctl *c, struct opts *o)
{
	char why[1024];
	uint64_t id;

	if (o->nargs != 4)
		return ctl_usage("usage: transfer move PROJECT FROM_AREA TO_AREA PATH "
				 "[--reason TEXT]");
	if (airlock_move(c->st, c->cfg, c->actor, o->args[0], o->args[1], o->args[2], o->args[3],
			 o->reason, &id, why, sizeof(why)) < 0)
		return ctl_fail("%s", why);
	return print_new(o, "move", id);
}

int
ctl_transfer(struct ctl *c, int argc, char **argv)
{
	struct opts o;
	char **buf, nb[CTL_NAMEBUF];
	const char *sub;
	int rc;

	if (argc < 2)
		return ctl_usage(
		    "usage: transfer list|show|view|approve|reject|return|import|move|drafts ...");
	sub = argv[1];
	if (strcmp(sub, "view") == 0) /* its own options: ctl/ctl_view.c */
		return ctl_transfer_view(c, argc - 1, argv + 1);
	if (strcmp(sub, "drafts") == 0) /* ctl/ctl_drafts.c */
		return ctl_transfer_drafts(c, argc - 1, argv + 1);
	if (!(buf = calloc((size_t)argc + 2, sizeof(*buf))))
		return ctl_fail("out of memory");
	if (parse_any(c, argc - 1, argv + 1, &o, buf) < 0) {
		free(buf);
		return ctl_usage("transfer %s: unknown or incomplete option",
				 ctl_name(sub, nb, sizeof(nb)));
	}
	if (strcmp(sub, "list") == 0)
		rc = cmd_list(c, &o);
	else if (strcmp(sub, "show") == 0)
		rc = cmd_show(c, &o);
	else if (strcmp(sub, "approve") == 0)
		rc = cmd_decide(c, &o, REVIEW_APPROVE);
	else if (strcmp(sub, "reject") == 0)
		rc = cmd_decide(c, &o, REVIEW_REJECT);
	else if (strcmp(sub, "return") == 0)
		rc = cmd_decide(c, &o, REVIEW_RETURN);
	else if (strcmp(sub, "import") == 0)
		rc = cmd_import(c, &o);
	else if (strcmp(sub, "move") == 0)
		rc = cmd_move(c, &o);
	else
		rc = ctl_usage("unknown transfer command %s", ctl_name(sub, nb, sizeof(nb)));
	free(buf);
	return rc;
}
