/*
 * wsgatectl audit list|verify|export. Read-only on the log itself. When an admin runs these over
 * SSH (--as), the reading is itself recorded: who looked at the log is part of the log.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/audit.h"
#include "common/utf8.h"
#include "ctl/ctl.h"

struct out_ctx {
	int mode; /* 0 text, 1 JSON array, 2 JSON lines */
	json_t *arr;
	const char *user;  /* --user: only records whose actor is this account */
	const char *event; /* --event: this event, or with a trailing '*' this prefix */
};

/* Length of the valid UTF-8 sequence at p that encodes a printable code point (not a C1
 * control, not a surrogate or overlong form), or 0. */
static size_t
utf8_ok(const unsigned char *p)
{
	uint32_t cp;
	size_t n = utf8_decode(p, 4, &cp); /* NUL-terminated: the NUL ends a sequence */

	return n > 1 && cp >= 0xa0 ? n : 0;
}

/*
 * Audit fields can hold bytes from the network (a login name) or from files (a file name):
 * audit_quote escapes ASCII controls but passes other bytes through. Before they reach a
 * terminal or a JSON encoder, keep printable ASCII and well-formed UTF-8 and turn everything
 * else into \xNN, so no C1 control (0x9b is CSI) reaches the terminal and jansson, which refuses
 * invalid UTF-8, never fails on a record. out needs 4 * strlen(in) + 1 bytes.
 */
static const char *
printable(const char *in, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0, n;

	while (*p && o + 5 < outlen) {
		if (*p >= 0x20 && *p < 0x7f) {
			out[o++] = (char)*p++;
		} else if ((n = utf8_ok(p)) != 0 && o + n < outlen) {
			memcpy(out + o, p, n);
			o += n;
			p += n;
		} else {
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", *p++);
		}
	}
	out[o] = '\0';
	return out;
}

#define CLEAN(f) char f[4 * sizeof(((struct audit_record *)0)->f)]
struct clean_record {
	CLEAN(actor);
	CLEAN(role);
	CLEAN(project);
	CLEAN(area);
	CLEAN(addr);
	CLEAN(event);
	CLEAN(detail);
};

static void
clean(const struct audit_record *r, struct clean_record *c)
{
	printable(r->actor, c->actor, sizeof(c->actor));
	printable(r->role, c->role, sizeof(c->role));
	printable(r->project, c->project, sizeof(c->project));
	printable(r->area, c->area, sizeof(c->area));
	printable(r->addr, c->addr, sizeof(c->addr));
	printable(r->event, c->event, sizeof(c->event));
	printable(r->detail, c->detail, sizeof(c->detail));
}

/* "2026-11-26T02:30:00.123456789Z": UTC with the record's nanoseconds. */
static void
format_precise(const struct audit_record *r, char *out, size_t outlen)
{
	char t[32];

	ctl_format_time(r->time, t, sizeof(t));
	if (strlen(t) == 20 && t[19] == 'Z') {
		t[19] = '\0';
		snprintf(out, outlen, "%s.%09uZ", t, (unsigned)r->nsec);
	} else {
		snprintf(out, outlen, "%s", t);
	}
}

/* Every field of the record (SPEC "Audit"; issue 11): an inspector's export loses nothing. The
 * order keeps actor and event side by side, as scripts grep for them. */
static json_t *
record_json(const struct audit_record *r)
{
	struct clean_record c;
	char t[48], mac[2 * AUDIT_MAC_LEN + 1];

	clean(r, &c);
	format_precise(r, t, sizeof(t));
	for (size_t i = 0; i < AUDIT_MAC_LEN; i++)
		snprintf(mac + 2 * i, 3, "%02x", r->mac[i]);
	return json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "seq",
			 (json_int_t)r->seq, "time", (json_int_t)r->time, "nsec",
			 (json_int_t)r->nsec, "date", t, "actor", c.actor, "event", c.event,
			 "detail", c.detail, "role", c.role, "project", c.project, "area", c.area,
			 "addr", c.addr, "mac", mac);
}

static int
wanted(const struct out_ctx *o, const struct audit_record *r)
{
	size_t n;

	if (o->user && strcmp(o->user, r->actor) != 0)
		return 0;
	if (!o->event)
		return 1;
	n = strlen(o->event);
	if (n > 0 && o->event[n - 1] == '*')
		return strncmp(o->event, r->event, n - 1) == 0;
	return strcmp(o->event, r->event) == 0;
}

static int
emit(const struct audit_record *r, void *arg)
{
	struct out_ctx *o = arg;
	char t[32];
	json_t *j;
	int rc;

	if (!wanted(o, r))
		return 0;
	if (o->mode == 0) {
		struct clean_record c;

		clean(r, &c);
		ctl_format_time(r->time, t, sizeof(t));
		printf("%llu %s %s %s %s\n", (unsigned long long)r->seq, t, c.actor, c.event,
		       c.detail);
		return 0;
	}
	if ((j = record_json(r)) == NULL)
		return -1;
	if (o->mode == 1)
		return json_array_append_new(o->arr, j) < 0 ? -1 : 0;
	rc = json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (rc < 0)
		return -1;
	fputc('\n', stdout);
	return 0;
}

static int
note_reader(struct ctl *c, const char *what)
{
	/* Only remote admins are recorded; local root reads are not actions of an account. */
	if (strcmp(c->actor, "root") == 0)
		return 0;
	if (audit_log(c->st, c->actor, "audit.read", "command=%s", what) < 0)
		return ctl_fail("audit: cannot record the read");
	return 0;
}

static int
audit_walk(struct ctl *c, int mode, uint64_t since, const char *user, const char *event)
{
	struct out_ctx o = {mode, NULL, user, event};
	int rc;

	if (mode == 1 && (o.arr = json_array()) == NULL)
		return ctl_fail("out of memory");
	rc = audit_foreach(c->st, since, emit, &o);
	if (rc != 0) {
		json_decref(o.arr);
		return ctl_fail("audit: a record cannot be read (%s; run audit verify)",
				store_strerror(rc));
	}
	return mode == 1 ? ctl_print_json(o.arr) : 0;
}

static int
audit_verify_cmd(struct ctl *c, const char *witness)
{
	char why[1024];
	uint64_t count = 0, witnessed = 0;
	int rc;

	if ((rc = note_reader(c, "verify")) != 0)
		return rc;
	/* The configured witness is checked by default; --witness names another copy of it (a
	 * remote syslog extract, a backup). An admin over SSH gets only the configured one: a path
	 * of their choosing would let them probe the host's files. */
	if (!witness && c->cfg->audit_witness[0])
		witness = c->cfg->audit_witness;
	rc = witness ? audit_verify_witness(c->st, witness, &count, &witnessed, why, sizeof(why))
		     : audit_verify(c->st, &count, why, sizeof(why));
	if (rc < 0)
		return ctl_fail("audit: %s", why[0] ? why : "verification failed");
	if (c->json)
		printf("{\"verified\": %llu, \"witnessed\": %llu}\n", (unsigned long long)count,
		       (unsigned long long)witnessed);
	else if (witness)
		printf("audit: %llu records verified, %llu witness lines match\n",
		       (unsigned long long)count, (unsigned long long)witnessed);
	else
		printf("audit: %llu records verified\n", (unsigned long long)count);
	return 0;
}

struct audit_opts {
	const char *since, *user, *event, *witness, *speed;
};

/* Options of every audit subcommand; which ones a subcommand takes is checked by the caller. */
static int
audit_options(struct ctl *c, int argc, char **argv, struct audit_opts *o)
{
	static const struct option opts[] = {
	    {"since", required_argument, NULL, 's'},
	    {"user", required_argument, NULL, 'u'},
	    {"event", required_argument, NULL, 'e'},
	    {"witness", required_argument, NULL, 'w'},
	    {"speed", required_argument, NULL, 'p'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	char nb[CTL_NAMEBUF];
	int ch;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 's')
			o->since = optarg;
		else if (ch == 'u')
			o->user = optarg;
		else if (ch == 'e')
			o->event = optarg;
		else if (ch == 'w')
			o->witness = optarg;
		else if (ch == 'p')
			o->speed = optarg;
		else if (ch == 'j')
			c->json = 1;
		else
			return ctl_usage("audit %s: unknown option or missing value %s",
					 ctl_name(argv[0], nb, sizeof(nb)),
					 ctl_name(argv[optind - 1], nb, sizeof(nb)));
	}
	return 0;
}

int
ctl_audit(struct ctl *c, int argc, char **argv)
{
	static const char usage[] =
	    "usage: audit list [--since TIME] [--user U] [--event E] | verify [--witness FILE] | "
	    "export [--since TIME] [--user U] [--event E] | recordings [--user U] [--since TIME] | "
	    "replay ID [--speed N]";
	struct audit_opts o = {0};
	char nb[CTL_NAMEBUF];
	const char *sub;
	uint64_t since = 0;
	int rc, filters, list;

	if (argc < 2)
		return ctl_usage("%s", usage);
	sub = argv[1];
	argc--;
	argv++;
	if ((rc = audit_options(c, argc, argv, &o)) != 0)
		return rc;
	list = strcmp(sub, "list") == 0 || strcmp(sub, "export") == 0;
	filters = o.since || o.user || o.event;
	if ((o.witness && strcmp(sub, "verify") != 0) || (o.speed && strcmp(sub, "replay") != 0) ||
	    (filters && !list && strcmp(sub, "recordings") != 0) || (o.event && !list))
		return ctl_usage("audit %s: option not accepted here",
				 ctl_name(sub, nb, sizeof(nb)));
	if (o.witness && strcmp(c->actor, "root") != 0)
		return ctl_fail(
		    "audit verify: --witness is for local root; over SSH the configured "
		    "witness is checked");
	if (strcmp(sub, "replay") == 0 && optind >= argc)
		return ctl_usage("audit replay: missing recording id");
	if (optind != argc - (strcmp(sub, "replay") == 0))
		return ctl_usage("audit %s: unexpected argument", ctl_name(sub, nb, sizeof(nb)));
	if (o.since && ctl_parse_since(o.since, (uint64_t)time(NULL), &since) < 0)
		return ctl_fail("audit: --since %s: want epoch seconds, YYYY-MM-DD or a duration "
				"like 1h",
				ctl_name(o.since, nb, sizeof(nb)));
	if (list) {
		if ((rc = note_reader(c, sub)) != 0)
			return rc;
		return audit_walk(c,
				  strcmp(sub, "export") == 0 ? 2
				  : c->json		     ? 1
							     : 0,
				  since, o.user, o.event);
	}
	if (strcmp(sub, "verify") == 0)
		return audit_verify_cmd(c, o.witness);
	if (strcmp(sub, "recordings") == 0) {
		if ((rc = note_reader(c, sub)) != 0)
			return rc;
		return ctl_recordings(c, o.user, since);
	}
	if (strcmp(sub, "replay") == 0) {
		char what[48];
		const char *id = argv[optind];

		/* Which recording was watched is part of the record (digits only, or usage). */
		if (strlen(id) > 20 || strspn(id, "0123456789") != strlen(id) || !*id)
			return ctl_usage("audit replay: %s is not a recording id",
					 ctl_name(id, nb, sizeof(nb)));
		snprintf(what, sizeof(what), "replay id=%s", id);
		if ((rc = note_reader(c, what)) != 0)
			return rc;
		return ctl_replay(c, id, o.speed);
	}
	return ctl_usage("audit: unknown subcommand %s", ctl_name(sub, nb, sizeof(nb)));
}
