/*
 * wsgatectl -c CONFIG [--json] [--as ADMIN] COMMAND ...
 *
 * Local administration (SPEC "Programs"). It loads and validates the config, opens the store
 * (except for init, which creates it) and hands the command to its handler in ctl/ctl_*.c.
 * --as names the admin an action is recorded under when the gateway runs transfer/audit commands
 * for an admin over SSH; it is refused for every other command, so an SSH session can never reach
 * account management through it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/audit.h"
#include "common/log.h"
#include "common/names.h"
#include "common/nitems.h"
#include "common/units.h"
#include "common/utctime.h"
#include "ctl/ctl.h"
#include "policy/account.h"
#include "transfer/area.h"

struct command {
	const char *name;
	int (*fn)(struct ctl *, int, char **);
	int needs_store;
	int as_allowed;
};

/* clang-format off */
static const struct command commands[] = {
	/* name, handler, needs the store, allowed for an admin over SSH (--as) */
	{"init", ctl_init, 0, 0},
	{"user", ctl_user, 1, 0},
	{"project", ctl_project, 1, 0},
	{"transfer", ctl_transfer, 1, 1},
	{"check", ctl_check, 1, 0},
	{"audit", ctl_audit, 1, 1},
	{"backup", ctl_backup, 1, 0},
	{"restore", ctl_restore, 0, 0},
};
/* clang-format on */

/* Declared with the format attribute so that clang's -Wformat-nonliteral (from -Wformat=2)
 * checks the callers' formats instead of refusing the vsnprintf below. */
static void vreport(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static void
vreport(const char *fmt, va_list ap)
{
	char line[2048];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "wsgatectl: %s\n", line);
}

int
ctl_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return 1;
}

int
ctl_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return 2;
}

int
ctl_print_json(json_t *j)
{
	int rc;

	if (!j)
		return ctl_fail("out of memory");
	rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (rc < 0 || fputc('\n', stdout) == EOF)
		return ctl_fail("stdout: cannot write");
	return 0;
}

int
ctl_dispatch(struct ctl *c, int argc, char **argv, const struct ctl_sub *subs, const char *usage)
{
	char nb[CTL_NAMEBUF];

	if (argc < 2)
		return ctl_usage("%s", usage);
	for (; subs->name; subs++)
		if (strcmp(argv[1], subs->name) == 0)
			return subs->fn(c, argc - 1, argv + 1);
	return ctl_usage("%s: unknown subcommand %s", argv[0], ctl_name(argv[1], nb, sizeof(nb)));
}

/* Printable ASCII stays, everything else becomes \xNN: besides ESC, bytes 0x80-0x9f are C1
 * controls (0x9b is CSI) that some terminals obey. */
const char *
ctl_name(const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (name_valid(s))
		return s;
	if (len < 8) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (; *p && o + 8 < len; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
			buf[o++] = (char)*p;
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", *p);
	}
	if (*p) { /* cut short */
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

int
ctl_parse_since(const char *s, uint64_t now, uint64_t *out)
{
	uint64_t d;
	char *end;

	if (*s >= '0' && *s <= '9' && strspn(s, "0123456789") == strlen(s)) {
		errno = 0;
		d = strtoull(s, &end, 10);
		if (errno || *end)
			return -1;
		*out = d;
		return 0;
	}
	if (utc_parse_day(s, out) == 0)
		return 0;
	if (parse_duration(s, &d) < 0)
		return -1;
	*out = d > now ? 0 : now - d;
	return 0;
}

void
ctl_format_time(uint64_t t, char *out, size_t outlen)
{
	if (utc_format(t, UTC_ISO8601, out, outlen) < 0)
		snprintf(out, outlen, "%llu", (unsigned long long)t);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: wsgatectl -c CONFIG [--json] [--as ADMIN [--from ADDRESS]] COMMAND ...\n"
		   "  init\n"
		   "  user add NAME --role analyst|stats|admin [--project P]... [--zone Z]... "
		   "[--expires YYYY-MM-DD]\n"
		   "  user passwd|key|totp|lock|unlock|del|show NAME, user list\n"
		   "  project add P [--max-accounts N], project list, project show P\n"
		   "  transfer list|show|view|approve|reject|return|import|move|drafts ..., check FILE\n"
		   "  audit list|export [--since TIME] [--user U] [--event E], audit verify "
		   "[--witness FILE]\n"
		   "  audit recordings [--user U] [--since TIME], audit replay ID [--speed N]\n"
		   "  backup DIR (while the daemon runs), restore DIR (daemon stopped)\n");
}

/* An address as the gateway writes it ("192.0.2.7", "2001:db8::1", "[::1]:22"): what goes into
 * every audit record of the command, so nothing else. */
static int
address_text_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 64 && strspn(s, "0123456789abcdefABCDEF.:[]%") == n;
}

/* --as must name an existing admin: the gateway passes the authenticated account, and a typo
 * or a non-admin here would otherwise put a false name into the audit log. */
static int
check_actor(struct ctl *c, const char *as)
{
	char nb[CTL_NAMEBUF];
	struct account a;
	MDB_txn *txn;
	int rc;

	if (!name_valid(as))
		return ctl_fail("--as %s: invalid account name", ctl_name(as, nb, sizeof(nb)));
	if ((rc = store_begin(c->st, 1, &txn)) < 0)
		return ctl_fail("cannot read the state store: %s", store_strerror(rc));
	rc = account_get(c->st, txn, as, &a);
	store_abort(txn);
	if (rc < 0)
		return ctl_fail("--as %s: account record cannot be read: %s", as,
				store_strerror(rc));
	if (rc == STORE_NOTFOUND || a.role != ROLE_ADMIN) {
		account_wipe(&a);
		return ctl_fail("--as %s: not an admin account", as);
	}
	/* The gateway checked this at login; a lock or expiry since then still ends it here. */
	if (a.locked || (a.expires && (uint64_t)time(NULL) > a.expires)) {
		account_wipe(&a);
		return ctl_fail("--as %s: account is locked or expired", as);
	}
	account_wipe(&a);
	return 0;
}

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < nitems(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"as", required_argument, NULL, 'a'},
	    {"from", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ctl c = {0};
	const struct command *cmd;
	const char *as = NULL, *from = NULL;
	char why[1024], nb[CTL_NAMEBUF];
	int ch, rc = 1;

	log_init("wsgatectl", 1);
	/* Everything wsgatectl creates (keys, state) is for root only unless said otherwise. */
	umask(077);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c.config_path = optarg;
			break;
		case 'j':
			c.json = 1;
			break;
		case 'a':
			as = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return ctl_usage("unknown option or missing value %s (--help for usage)",
					 ctl_name(argv[optind - 1], nb, sizeof(nb)));
		}
	}
	if (!c.config_path || optind >= argc)
		return ctl_usage("usage: wsgatectl -c CONFIG [--json] [--as ADMIN] COMMAND ... "
				 "(--help for the commands)");
	if ((cmd = find_command(argv[optind])) == NULL)
		return ctl_usage("unknown command %s (--help for the commands)",
				 ctl_name(argv[optind], nb, sizeof(nb)));
	if (as && !cmd->as_allowed)
		return ctl_usage("--as is accepted only with transfer and audit");
	if (from && (!as || !address_text_ok(from)))
		return ctl_usage("--from ADDRESS goes with --as (the gateway passes the admin's "
				 "address)");
	if (config_load(c.config_path, &c.cfg, why, sizeof(why)) < 0)
		return ctl_fail("%s", why);
	/* Deliveries from wsgatectl create areas too: with the same limit as the daemon's. */
	area_set_quota(c.cfg->area_quota);
	if (cmd->needs_store && store_open(c.cfg->state_dir, 0, &c.st, why, sizeof(why)) < 0) {
		rc = ctl_fail("%s", why);
		goto out;
	}
	if (cmd->needs_store)
		store_startup_log(c.st, 0);
	if (c.st && audit_attach(c.st, c.cfg->audit_witness, why, sizeof(why)) < 0) {
		rc = ctl_fail("%s", why);
		goto out;
	}
	c.actor = "root";
	audit_set_context("root", "", "", "");
	if (as) {
		if ((rc = check_actor(&c, as)) != 0)
			goto out;
		c.actor = as;
		audit_set_context("admin", "", "", from ? from : "");
	}
	rc = cmd->fn(&c, argc - optind, argv + optind);
out:
	store_close(c.st);
	config_free(c.cfg);
	if (fflush(stdout) != 0 && rc == 0)
		rc = ctl_fail("stdout: %s", strerror(errno));
	return rc;
}
