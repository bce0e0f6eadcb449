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
#include "ctl/ctl.h"

struct out_ctx {
	int mode; /* 0 text, 1 JSON array, 2 JSON lines */
	json_t *arr;
};

/* Length of the valid UTF-8 sequence at p that encodes a printable code point (not a C1
 * control, not a surrogate or overlong form), or 0. */
static size_t
utf8_ok(const unsigned char *p)
{
	uint32_t cp;
	size_t n;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < 0xa0 || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
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

struct clean_record {
	char actor[4 * sizeof(((struct audit_record *)0)->actor)];
	char event[4 * sizeof(((struct audit_record *)0)->event)];
	char detail[4 * sizeof(((struct audit_record *)0)->detail)];
};

static void
clean(const struct audit_record *r, struct clean_record *c)
{
	printable(r->actor, c->actor, sizeof(c->actor));
	printable(r->event, c->event, sizeof(c->event));
	printable(r->detail, c->detail, sizeof(c->detail));
}

static json_t *
record_json(const struct audit_record *r)
{
	struct clean_record c;
	char t[32];

	clean(r, &c);
	ctl_format_time(r->time, t, sizeof(t));
	return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}", "seq", (json_int_t)r->seq, "time",
			 (json_int_t)r->time, "date", t, "actor", c.actor, "event", c.event,
			 "detail", c.detail);
}

static int
emit(const struct audit_record *r, void *arg)
{
	struct out_ctx *o = arg;
	char t[32];
	json_t *j;
	int rc;

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
audit_walk(struct ctl *c, int mode, uint64_t since)
{
	struct out_ctx o = {mode, NULL};
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

int
ctl_audit(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"since", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	char nb[CTL_NAMEBUF], why[512];
	const char *sub, *since_arg = NULL;
	uint64_t since = 0, count;
	int ch, rc;

	if (argc < 2)
		return ctl_usage("usage: audit list [--since TIME] | verify | export");
	sub = argv[1];
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 's' && strcmp(sub, "verify") != 0)
			since_arg = optarg;
		else if (ch == 'j')
			c->json = 1;
		else
			return ctl_usage("audit %s: unknown option or missing value %s",
					 ctl_name(sub, nb, sizeof(nb)),
					 ctl_name(argv[optind - 1], nb, sizeof(nb)));
	}
	if (optind != argc)
		return ctl_usage("audit %s: unexpected argument", ctl_name(sub, nb, sizeof(nb)));
	if (since_arg && ctl_parse_since(since_arg, (uint64_t)time(NULL), &since) < 0)
		return ctl_fail("audit: --since %s: want epoch seconds, YYYY-MM-DD or a duration "
				"like 1h",
				ctl_name(since_arg, nb, sizeof(nb)));
	if (strcmp(sub, "list") == 0) {
		if ((rc = note_reader(c, "list")) != 0)
			return rc;
		return audit_walk(c, c->json ? 1 : 0, since);
	}
	if (strcmp(sub, "export") == 0) {
		if ((rc = note_reader(c, "export")) != 0)
			return rc;
		return audit_walk(c, 2, since);
	}
	if (strcmp(sub, "verify") == 0) {
		if ((rc = note_reader(c, "verify")) != 0)
			return rc;
		if (audit_verify(c->st, &count, why, sizeof(why)) < 0)
			return ctl_fail("audit: %s", why[0] ? why : "verification failed");
		if (c->json)
			printf("{\"verified\": %llu}\n", (unsigned long long)count);
		else
			printf("audit: %llu records verified\n", (unsigned long long)count);
		return 0;
	}
	return ctl_usage("audit: unknown subcommand %s", ctl_name(sub, nb, sizeof(nb)));
}
