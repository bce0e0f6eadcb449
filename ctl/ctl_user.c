/*
 * wsgatectl user add|passwd|key|totp|lock|unlock|del|list|show.
 *
 * Every check that depends on stored state (duplicate name, project exists and has room) runs
 * inside the same write transaction as the change, so two wsgatectl processes cannot both pass
 * a check and then both write. Slow or interactive work (reading stdin, scrypt) happens before
 * the transaction so that the writer lock is held only for a moment.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libssh/libssh.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <qrencode.h>

#include "auth/auth.h"
#include "auth/lockout.h"
#include "auth/password.h"
#include "auth/totp.h"
#include "common/audit.h"
#include "common/fsutil.h"
#include "common/nitems.h"
#include "common/units.h"
#include "common/utctime.h"
#include "ctl/ctl.h"
#include "policy/account.h"
#include "policy/budget.h"

#define KEYLINE_MAX 8192

struct user_args {
	const char *name;
	enum role role;
	int have_role;
	const char *projects[ACCOUNT_MAX_PROJECTS];
	unsigned nprojects;
	const char *zones[ACCOUNT_MAX_ZONES];
	unsigned nzones;
	const char *expires;
	const char *secret; /* totp --secret */
	int replace;	    /* key --replace */
	const char *extra;  /* budget --extra */
};

/* Parses the options of a user subcommand; argv[0] is the subcommand. Leaves the one
 * positional argument (NAME) in ua->name unless list takes none. */
static int
parse_args(struct ctl *c, int argc, char **argv, int want_name, struct user_args *ua)
{
	static const struct option opts[] = {
	    {"role", required_argument, NULL, 'r'},
	    {"project", required_argument, NULL, 'p'},
	    {"zone", required_argument, NULL, 'z'},
	    {"expires", required_argument, NULL, 'e'},
	    {"secret", required_argument, NULL, 's'},
	    {"replace", no_argument, NULL, 'R'},
	    {"json", no_argument, NULL, 'j'},
	    {"extra", required_argument, NULL, 'x'},
	    {NULL, 0, NULL, 0},
	};
	char nb[CTL_NAMEBUF];
	int ch;

	memset(ua, 0, sizeof(*ua));
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			if (role_parse(optarg, &ua->role) < 0)
				return ctl_fail("unknown role %s (analyst, stats or admin)",
						ctl_name(optarg, nb, sizeof(nb)));
			ua->have_role = 1;
			break;
		case 'p':
			if (ua->nprojects == ACCOUNT_MAX_PROJECTS)
				return ctl_fail("at most %d projects per account",
						ACCOUNT_MAX_PROJECTS);
			ua->projects[ua->nprojects++] = optarg;
			break;
		case 'z':
			if (ua->nzones == ACCOUNT_MAX_ZONES)
				return ctl_fail("at most %d zones per account", ACCOUNT_MAX_ZONES);
			ua->zones[ua->nzones++] = optarg;
			break;
		case 'e':
			ua->expires = optarg;
			break;
		case 's':
			ua->secret = optarg;
			break;
		case 'R':
			ua->replace = 1;
			break;
		case 'x':
			ua->extra = optarg;
			break;
		case 'j':
			c->json = 1;
			break;
		default:
			return ctl_usage("user %s: unknown option or missing value %s", argv[0],
					 ctl_name(argv[optind - 1], nb, sizeof(nb)));
		}
	}
	if (argc - optind != (want_name ? 1 : 0))
		return ctl_usage(want_name ? "user %s: expects one NAME" : "user %s: takes no NAME",
				 argv[0]);
	if (want_name) {
		ua->name = argv[optind];
		if (!name_valid(ua->name))
			return ctl_fail("user %s: invalid name (want ^[a-z][a-z0-9_-]{0,31}$)",
					ctl_name(ua->name, nb, sizeof(nb)));
	}
	return 0;
}

/* Only the options a subcommand documents are accepted: a stray --role on passwd is a mistake. */
static int
only_opts(const struct user_args *ua, const char *cmd, int role, int lists, int secret, int rep)
{
	if ((!role && ua->have_role) || (!lists && (ua->nprojects || ua->nzones || ua->expires)) ||
	    (!secret && ua->secret) || (!rep && ua->replace) ||
	    (ua->extra && strcmp(cmd, "budget") != 0))
		return ctl_usage("user %s: option not accepted here", cmd);
	return 0;
}

static int
abort_fail(MDB_txn *txn, int rc)
{
	store_abort(txn);
	return rc;
}

static int
commit(MDB_txn *txn)
{
	int rc;

	if ((rc = store_commit(txn)) < 0)
		return ctl_fail("state store: commit: %s", store_strerror(rc));
	return 0;
}

static void
join_list(char *out, size_t outlen, const char list[][NAME_MAX_LEN + 1], unsigned n)
{
	size_t o = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < n && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%s", i ? "," : "", list[i]);
	if (n == 0)
		snprintf(out, outlen, "-");
}

/* Checks that need only the command line and the config. */
static int
add_check_args(struct ctl *c, struct user_args *ua, struct account *a)
{
	char nb[CTL_NAMEBUF];
	uint64_t day;

	if (!ua->have_role)
		return ctl_usage("user add: --role analyst|stats|admin is required");
	/* The audit log names local root "root"; an account of that name would be mistaken for it.
	 */
	if (strcmp(ua->name, "root") == 0)
		return ctl_fail(
		    "user \"root\": name reserved (the audit log's name for local root)");
	if (ua->role == ROLE_ADMIN && ua->nprojects)
		return ctl_fail("user \"%s\": an admin belongs to no project", ua->name);
	if (ua->role != ROLE_ADMIN && ua->nprojects == 0)
		return ctl_fail("user \"%s\": role %s needs at least one --project", ua->name,
				role_name(ua->role));
	for (unsigned i = 0; i < ua->nprojects; i++) {
		if (!name_valid(ua->projects[i]))
			return ctl_fail("user \"%s\": invalid project name %s", ua->name,
					ctl_name(ua->projects[i], nb, sizeof(nb)));
		for (unsigned j = 0; j < i; j++)
			if (strcmp(ua->projects[i], ua->projects[j]) == 0)
				return ctl_fail("user \"%s\": project \"%s\" given twice", ua->name,
						ua->projects[i]);
		snprintf(a->projects[i], sizeof(a->projects[i]), "%s", ua->projects[i]);
	}
	for (unsigned i = 0; i < ua->nzones; i++) {
		if (!name_valid(ua->zones[i]))
			return ctl_fail("user \"%s\": invalid zone name %s", ua->name,
					ctl_name(ua->zones[i], nb, sizeof(nb)));
		if (!config_zone_by_name(c->cfg, ua->zones[i]))
			return ctl_fail("user \"%s\": zone \"%s\" does not exist", ua->name,
					ua->zones[i]);
		for (unsigned j = 0; j < i; j++)
			if (strcmp(ua->zones[i], ua->zones[j]) == 0)
				return ctl_fail("user \"%s\": zone \"%s\" given twice", ua->name,
						ua->zones[i]);
		snprintf(a->zones[i], sizeof(a->zones[i]), "%s", ua->zones[i]);
	}
	if (ua->expires) {
		if (utc_parse_day(ua->expires, &day) < 0)
			return ctl_fail("user \"%s\": --expires %s is not a date YYYY-MM-DD",
					ua->name, ctl_name(ua->expires, nb, sizeof(nb)));
		/* The account is valid through the whole expiry day (UTC). */
		a->expires = day + 86400 - 1;
		if (a->expires < (uint64_t)time(NULL))
			return ctl_fail("user \"%s\": expiry date %s is in the past", ua->name,
					ua->expires);
	}
	snprintf(a->name, sizeof(a->name), "%s", ua->name);
	a->role = ua->role;
	a->nprojects = ua->nprojects;
	a->nzones = ua->nzones;
	a->created = (uint64_t)time(NULL);
	return 0;
}

/* Every project the account joins (all of a's, or those not in old's) must exist and have room. */
static int
check_joined(struct ctl *c, MDB_txn *txn, const struct account *old, const struct account *a)
{
	struct project p;
	unsigned members;
	int rc;

	for (unsigned i = 0; i < a->nprojects; i++) {
		int member = 0;

		for (unsigned j = 0; old != NULL && j < old->nprojects; j++)
			member |= strcmp(old->projects[j], a->projects[i]) == 0;
		if (member)
			continue;
		rc = project_get(c->st, txn, a->projects[i], &p);
		if (rc == STORE_NOTFOUND)
			return ctl_fail("user \"%s\": project \"%s\" does not exist", a->name,
					a->projects[i]);
		if (rc < 0 || (rc = project_member_count(c->st, txn, p.name, &members)) < 0)
			return ctl_fail("project \"%s\": record cannot be read: %s", a->projects[i],
					store_strerror(rc));
		if (p.max_accounts && members >= p.max_accounts)
			return ctl_fail("user \"%s\": project \"%s\" is full (%u of %u accounts)",
					a->name, p.name, members, p.max_accounts);
	}
	return 0;
}

/* Checks against the store, in the writing transaction. */
static int
add_check_store(struct ctl *c, MDB_txn *txn, struct account *a)
{
	struct account old;
	int rc;

	rc = account_get(c->st, txn, a->name, &old);
	account_wipe(&old);
	if (rc == 0)
		return ctl_fail("user \"%s\" already exists", a->name);
	if (rc < 0)
		return ctl_fail("user \"%s\": record cannot be read: %s", a->name,
				store_strerror(rc));
	return check_joined(c, txn, NULL, a);
}

static int
user_add(struct ctl *c, int argc, char **argv)
{
	struct user_args ua;
	struct account a;
	char projects[600], zones[600], day[32] = "never";
	MDB_txn *txn;
	uint64_t n;
	int rc;

	memset(&a, 0, sizeof(a));
	if ((rc = parse_args(c, argc, argv, 1, &ua)) != 0 ||
	    (rc = only_opts(&ua, "add", 1, 1, 0, 0)) != 0 || (rc = add_check_args(c, &ua, &a)) != 0)
		return rc;
	if (a.nzones == 0)
		fprintf(stderr,
			"wsgatectl: warning: user \"%s\" lists no zone and cannot log in "
			"until one is added\n",
			a.name);
	if ((rc = store_begin(c->st, 0, &txn)) < 0)
		return ctl_fail("state store: %s", store_strerror(rc));
	if ((rc = add_check_store(c, txn, &a)) != 0)
		return abort_fail(txn, rc);
	/* A fresh uid from a counter that only grows: a deleted account's uid is never handed
	 * out again, so files it left behind can never be owned by someone else. */
	n = store_next_counter(c->st, txn, "next_uid");
	if (n == 0 || n > 0x7fffffffu - ACCOUNT_UID_BASE)
		return abort_fail(txn, ctl_fail("user \"%s\": no host uid left", a.name));
	a.uid = (uid_t)(ACCOUNT_UID_BASE + n - 1);
	join_list(projects, sizeof(projects), a.projects, a.nprojects);
	join_list(zones, sizeof(zones), a.zones, a.nzones);
	if (a.expires)
		ctl_format_time(a.expires, day, sizeof(day));
	if ((rc = account_put(c->st, txn, &a)) < 0 ||
	    (rc = audit_append(c->st, txn, c->actor, "user.add",
			       "user=%s role=%s uid=%u projects=%s zones=%s expires=%s", a.name,
			       role_name(a.role), (unsigned)a.uid, projects, zones, day)) < 0)
		return abort_fail(txn, ctl_fail("user \"%s\": cannot store the account: %s", a.name,
						store_strerror(rc)));
	if ((rc = commit(txn)) != 0)
		return rc;
	printf("user %s added: role %s, uid %u\n", a.name, role_name(a.role), (unsigned)a.uid);
	return 0;
}

/* Reads one line of at most max bytes from fd into buf (max + 2 bytes), without stdio, so no
 * copy of a secret is left in a stdio buffer. The newline (and a CR before it) is dropped.
 * Returns the length, -1 on a read error, -2 if the line is too long, -3 if it holds a NUL. */
static ssize_t
read_line(int fd, char *buf, size_t max)
{
	size_t len = 0;
	ssize_t r;
	char ch;

	for (;;) {
		r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0 || ch == '\n')
			break;
		if (len == max)
			return -2;
		if (ch == '\0')
			return -3;
		buf[len++] = ch;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return (ssize_t)len;
}

/* The new password: one line on stdin. At a terminal, prompt on stderr with echo off, so an
 * operator typing it by hand does not leave it on the screen. */
static ssize_t
read_password(char *pw)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	ssize_t len;

	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		fputs("New password: ", stderr);
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
			tty = 0;
	}
	len = read_line(STDIN_FILENO, pw, PASSWORD_MAX);
	if (tty) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	return len;
}

/* Loads NAME for a change in a write transaction; on failure the transaction is gone. */
static int
load_for_change(struct ctl *c, const char *name, MDB_txn **txn, struct account *a)
{
	int rc;

	if ((rc = store_begin(c->st, 0, txn)) < 0)
		return ctl_fail("state store: %s", store_strerror(rc));
	rc = account_get(c->st, *txn, name, a);
	if (rc == 0)
		return 0;
	store_abort(*txn);
	*txn = NULL;
	if (rc == STORE_NOTFOUND)
		return ctl_fail("user \"%s\" does not exist", name);
	return ctl_fail("user \"%s\": record cannot be read: %s", name, store_strerror(rc));
}

static int
store_change(struct ctl *c, MDB_txn *txn, struct account *a, const char *event, const char *detail)
{
	int rc;

	if ((rc = account_put(c->st, txn, a)) < 0 ||
	    (rc = audit_append(c->st, txn, c->actor, event, "user=%s%s%s", a->name,
			       detail[0] ? " " : "", detail)) < 0)
		rc = abort_fail(txn, ctl_fail("user \"%s\": cannot store the account: %s", a->name,
					      store_strerror(rc)));
	else
		rc = commit(txn);
	account_wipe(a);
	return rc;
}

/*
 * user set NAME [--project P]... [--zone Z]... [--expires YYYY-MM-DD|never]: replaces the lists
 * given (and the expiry), keeps the rest. Taking a project or a zone away revokes the live
 * sessions that depended on it (SPEC "Revocation"); the checks are those of user add.
 */
static int
user_set(struct ctl *c, int argc, char **argv)
{
	struct user_args ua;
	struct account a, want;
	char projects[600], zones[600], day[32] = "never", detail[1400];
	int rc, never = 0;
	MDB_txn *txn;

	if ((rc = parse_args(c, argc, argv, 1, &ua)) != 0 ||
	    (rc = only_opts(&ua, "set", 0, 1, 0, 0)) != 0)
		return rc;
	if (!ua.nprojects && !ua.nzones && !ua.expires)
		return ctl_usage("usage: user set NAME [--project P]... [--zone Z]... "
				 "[--expires YYYY-MM-DD|never]");
	if (ua.expires && strcmp(ua.expires, "never") == 0) {
		never = 1;
		ua.expires = NULL;
	}
	if ((rc = load_for_change(c, ua.name, &txn, &a)) != 0)
		return rc;
	/* The lists not given are the account's own: checked again as a whole, as at add. */
	ua.role = a.role;
	ua.have_role = 1;
	for (unsigned i = 0; !ua.nprojects && i < a.nprojects; i++)
		ua.projects[i] = a.projects[i];
	if (!ua.nprojects)
		ua.nprojects = a.nprojects;
	for (unsigned i = 0; !ua.nzones && i < a.nzones; i++)
		ua.zones[i] = a.zones[i];
	if (!ua.nzones)
		ua.nzones = a.nzones;
	memset(&want, 0, sizeof(want));
	if ((rc = add_check_args(c, &ua, &want)) != 0 ||
	    (rc = check_joined(c, txn, &a, &want)) != 0) {
		account_wipe(&a);
		return abort_fail(txn, rc);
	}
	memcpy(a.projects, want.projects, sizeof(a.projects));
	a.nprojects = want.nprojects;
	memcpy(a.zones, want.zones, sizeof(a.zones));
	a.nzones = want.nzones;
	if (ua.expires || never)
		a.expires = never ? 0 : want.expires;
	join_list(projects, sizeof(projects), a.projects, a.nprojects);
	join_list(zones, sizeof(zones), a.zones, a.nzones);
	if (a.expires)
		ctl_format_time(a.expires, day, sizeof(day));
	snprintf(detail, sizeof(detail), "projects=%s zones=%s expires=%s", projects, zones, day);
	if ((rc = store_change(c, txn, &a, "user.set", detail)) == 0)
		printf("user %s: projects %s, zones %s, expires %s\n", ua.name, projects, zones,
		       day);
	return rc;
}

static int
user_passwd(struct ctl *c, int argc, char **argv)
{
	char pw[PASSWORD_MAX + 2];
	struct user_args ua;
	struct account fresh, a;
	MDB_txn *txn;
	ssize_t len;
	int rc;

	if ((rc = parse_args(c, argc, argv, 1, &ua)) != 0 ||
	    (rc = only_opts(&ua, "passwd", 0, 0, 0, 0)) != 0)
		return rc;
	len = read_password(pw);
	if (len < 0) {
		OPENSSL_cleanse(pw, sizeof(pw));
		if (len == -2)
			return ctl_fail("user \"%s\": password longer than %d bytes", ua.name,
					PASSWORD_MAX);
		if (len == -3)
			return ctl_fail("user \"%s\": password contains a NUL byte", ua.name);
		return ctl_fail("stdin: %s", strerror(errno));
	}
	if (len == 0)
		return ctl_fail("user \"%s\": empty password refused", ua.name);
	memset(&fresh, 0, sizeof(fresh));
	rc = password_set(&fresh, pw, (size_t)len, PASSWORD_SCRYPT_N, PASSWORD_SCRYPT_R,
			  PASSWORD_SCRYPT_P);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (rc < 0)
		return ctl_fail("user \"%s\": scrypt failed", ua.name);
	if ((rc = load_for_change(c, ua.name, &txn, &a)) != 0) {
		account_wipe(&fresh);
		return rc;
	}
	memcpy(a.salt, fresh.salt, sizeof(a.salt));
	memcpy(a.pwhash, fresh.pwhash, sizeof(a.pwhash));
	a.scrypt_n = fresh.scrypt_n;
	a.scrypt_r = fresh.scrypt_r;
	a.scrypt_p = fresh.scrypt_p;
	a.has_password = 1;
	account_wipe(&fresh);
	if ((rc = store_change(c, txn, &a, "user.passwd", "")) == 0)
		printf("user %s: password set\n", ua.name);
	return rc;
}

/* Accepts one OpenSSH public key line "type base64 [comment]" (no authorized_keys options) and
 * gives back the canonical "type base64" that libssh produces for the key. */
static int
parse_pubkey(const char *line, char *out, size_t outlen)
{
	char type[64], b64[KEYLINE_MAX];
	enum ssh_keytypes_e t;
	const char *canon_type;
	ssh_key key = NULL;
	char *canon = NULL;
	int rc = -1;

	if (sscanf(line, "%63s %8191s", type, b64) != 2)
		return -1;
	/* No DSA (broken, and gone from OpenSSH) and no certificates (wsgate has no CA). */
	t = ssh_key_type_from_name(type);
	if (t == SSH_KEYTYPE_UNKNOWN || t == SSH_KEYTYPE_DSS || strstr(type, "-cert-"))
		return -1;
	if (ssh_pki_import_pubkey_base64(b64, t, &key) != SSH_OK)
		return -1;
	/* Store the form the gateway builds from the client's key (type name from libssh, not
	 * as typed), so the two compare byte for byte. */
	canon_type = ssh_key_type_to_char(ssh_key_type(key));
	if (canon_type == NULL || strcmp(canon_type, type) != 0)
		goto out;
	if (ssh_pki_export_pubkey_base64(key, &canon) != SSH_OK)
		goto out;
	if ((size_t)snprintf(out, outlen, "%s %s", canon_type, canon) >= outlen) {
		rc = -2;
		goto out;
	}
	rc = 0;
out:
	ssh_string_free_char(canon);
	ssh_key_free(key);
	return rc;
}

static int
user_key(struct ctl *c, int argc, char **argv)
{
	char line[KEYLINE_MAX + 2], key[1024];
	struct user_args ua;
	struct account a;
	MDB_txn *txn;
	ssize_t len;
	int rc;

	if ((rc = parse_args(c, argc, argv, 1, &ua)) != 0 ||
	    (rc = only_opts(&ua, "key", 0, 0, 0, 1)) != 0)
		return rc;
	len = read_line(STDIN_FILENO, line, KEYLINE_MAX);
	if (len == -1)
		return ctl_fail("stdin: %s", strerror(errno));
	if (len > 0 && (rc = parse_pubkey(line, key, sizeof(key))) == -2)
		return ctl_fail("user \"%s\": public key longer than %zu bytes (RSA above 4096 "
				"bits?)",
				ua.name, sizeof(key) - 1);
	if (len <= 0 || rc < 0)
		return ctl_fail("user \"%s\": stdin holds no valid OpenSSH public key line",
				ua.name);
	if ((rc = load_for_change(c, ua.name, &txn, &a)) != 0)
		return rc;
	if (ua.replace)
		a.nkeys = 0;
	for (unsigned i = 0; i < a.nkeys; i++) {
		if (strcmp(a.keys[i], key) == 0) {
			account_wipe(&a);
			return abort_fail(txn,
					  ctl_fail("user \"%s\": key already registered", ua.name));
		}
	}
	if (a.nkeys == ACCOUNT_MAX_KEYS) {
		account_wipe(&a);
		return abort_fail(txn, ctl_fail("user \"%s\": already %d keys (use --replace)",
						ua.name, ACCOUNT_MAX_KEYS));
	}
	snprintf(a.keys[a.nkeys++], sizeof(a.keys[0]), "%s", key);
	{
		char detail[64];
		char *sp = strchr(key, ' ');

		snprintf(detail, sizeof(detail), "type=%.*s keys=%u", sp ? (int)(sp - key) : 0, key,
			 a.nkeys);
		if ((rc = store_change(c, txn, &a, "user.key", detail)) == 0)
			printf("user %s: key added (%u registered)\n", ua.name, a.nkeys);
	}
	return rc;
}

/* Draws the code with Unicode half blocks, two modules rows per text line, with the 4-module
 * quiet zone of ISO/IEC 18004. Like `qrencode -t UTF8` it paints the light modules, which suits
 * the usual light-on-dark terminal. */
static void
print_qr(const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	const int quiet = 4;
	int w;

	if (!qr) {
		fprintf(stderr, "wsgatectl: warning: cannot draw the QR code\n");
		return;
	}
	w = qr->width;
	for (int y = -quiet; y < w + quiet; y += 2) {
		for (int x = -quiet; x < w + quiet; x++) {
			int top = y >= 0 && y < w && x >= 0 && x < w && (qr->data[y * w + x] & 1);
			int bot = y + 1 >= 0 && y + 1 < w && x >= 0 && x < w &&
				  (qr->data[(y + 1) * w + x] & 1);

			/* Paint light (not dark) halves. */
			if (!top && !bot)
				fputs("\u2588", stdout);
			else if (!top)
				fputs("\u2580", stdout);
			else if (!bot)
				fputs("\u2584", stdout);
			else
				fputc(' ', stdout);
		}
		fputc('\n', stdout);
	}
	OPENSSL_cleanse(qr->data, (size_t)w * (size_t)w);
	QRcode_free(qr);
}

static int
user_totp(struct ctl *c, int argc, char **argv)
{
	uint8_t seed[TOTP_SEED_MAX];
	char uri[512];
	struct user_args ua;
	struct account a;
	MDB_txn *txn;
	size_t n = TOTP_SEED_LEN;
	int rc;

	if ((rc = parse_args(c, argc, argv, 1, &ua)) != 0 ||
	    (rc = only_opts(&ua, "totp", 0, 0, 1, 0)) != 0)
		return rc;
	if (ua.secret) {
		if (totp_parse_secret(ua.secret, seed, &n) < 0)
			return ctl_fail("user \"%s\": --secret is not base32 of 1 to %d bytes",
					ua.name, TOTP_SEED_MAX);
	} else if (RAND_bytes(seed, TOTP_SEED_LEN) != 1) {
		return ctl_fail("user \"%s\": no random bytes", ua.name);
	}
	if ((rc = load_for_change(c, ua.name, &txn, &a)) != 0)
		goto out;
	if (totp_seal(store_secrets(c->st), &a, seed, n) < 0 ||
	    totp_uri(a.name, seed, n, uri, sizeof(uri)) < 0) {
		account_wipe(&a);
		rc = abort_fail(txn, ctl_fail("user \"%s\": cannot seal the TOTP seed", ua.name));
		goto out;
	}
	if ((rc = store_change(c, txn, &a, "user.totp", ua.secret ? "given=yes" : "given=no")))
		goto out;
	printf("%s\n", uri);
	print_qr(uri);
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(uri, sizeof(uri));
	return rc;
}

static int
user_lock(struct ctl *c, int argc, char **argv, int lock)
{
	struct user_args ua;
	struct authstate *as = NULL;
	struct account a;
	MDB_txn *txn;
	int rc;

	if ((rc = parse_args(c, argc, argv, 1, &ua)) != 0 ||
	    (rc = only_opts(&ua, argv[0], 0, 0, 0, 0)) != 0)
		return rc;
	if ((rc = load_for_change(c, ua.name, &txn, &a)) != 0)
		return rc;
	a.locked = lock;
	/* unlock also ends a lockout after failed logins: the admin has checked the account. */
	if (!lock) {
		if ((as = calloc(1, sizeof(*as))) == NULL ||
		    authstate_get(c->st, txn, DB_AUTHSTATE, a.name, strlen(a.name), as) < 0) {
			free(as);
			account_wipe(&a);
			return abort_fail(txn,
					  ctl_fail("user \"%s\": auth state unreadable", ua.name));
		}
		lockout_clear(as);
		if ((rc = authstate_put(c->st, txn, DB_AUTHSTATE, a.name, strlen(a.name), as)) <
		    0) {
			free(as);
			account_wipe(&a);
			return abort_fail(txn, ctl_fail("user \"%s\": cannot store: %s", ua.name,
							store_strerror(rc)));
		}
		free(as);
	}
	if ((rc = store_change(c, txn, &a, lock ? "user.lock" : "user.unlock", "")) == 0)
		printf("user %s %s\n", ua.name, lock ? "locked" : "unlocked");
	return rc;
}

static int
user_del(struct ctl *c, int argc, char **argv)
{
	struct user_args ua;
	struct account a;
	MDB_txn *txn;
	int rc;

	if ((rc = parse_args(c, argc, argv, 1, &ua)) != 0 ||
	    (rc = only_opts(&ua, "del", 0, 0, 0, 0)) != 0)
		return rc;
	if ((rc = load_for_change(c, ua.name, &txn, &a)) != 0)
		return rc;
	if (account_del(c->st, txn, a.name) != 0 ||
	    store_del(c->st, txn, DB_AUTHSTATE, a.name, strlen(a.name)) < 0 ||
	    audit_append(c->st, txn, c->actor, "user.del", "user=%s uid=%u", a.name,
			 (unsigned)a.uid) < 0) {
		account_wipe(&a);
		return abort_fail(txn, ctl_fail("user \"%s\": cannot delete", ua.name));
	}
	account_wipe(&a);
	if ((rc = commit(txn)) == 0)
		printf("user %s deleted (uid %u stays retired)\n", ua.name, (unsigned)a.uid);
	return rc;
}

/* The lockout state of an account at now, for show and list. */
static uint64_t
lockout_until(struct ctl *c, MDB_txn *txn, const char *name, uint32_t *recent)
{
	struct lockout_policy upol, apol;
	struct authstate *as = calloc(1, sizeof(*as));
	uint64_t until = 0, now = (uint64_t)time(NULL);

	*recent = 0;
	if (!as)
		return 0;
	if (authstate_get(c->st, txn, DB_AUTHSTATE, name, strlen(name), as) == 0) {
		auth_policy(c->cfg, &upol, &apol);
		if (!lockout_locked(as, now, &until))
			until = 0;
		*recent = lockout_recent(as, &upol, now);
	}
	free(as);
	return until;
}

static json_t *
name_array(const char list[][NAME_MAX_LEN + 1], unsigned n)
{
	json_t *arr = json_array();

	for (unsigned i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_string(list[i]));
	return arr;
}

/* "SHA256:..." as ssh-keygen -l shows it, so an admin can compare with the user's own key. */
static json_t *
key_fingerprints(const struct account *a)
{
	json_t *arr = json_array();

	for (unsigned i = 0; arr && i < a->nkeys; i++) {
		const char *sp = strchr(a->keys[i], ' ');
		enum ssh_keytypes_e t;
		unsigned char *hash = NULL;
		size_t hlen = 0;
		ssh_key key = NULL;
		char type[64], *fp = NULL;

		if (!sp || (size_t)(sp - a->keys[i]) >= sizeof(type))
			continue;
		snprintf(type, sizeof(type), "%.*s", (int)(sp - a->keys[i]), a->keys[i]);
		t = ssh_key_type_from_name(type);
		if (ssh_pki_import_pubkey_base64(sp + 1, t, &key) == SSH_OK &&
		    ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0 &&
		    (fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) != NULL)
			json_array_append_new(arr, json_sprintf("%s %s", type, fp));
		ssh_string_free_char(fp);
		ssh_clean_pubkey_hash(&hash);
		ssh_key_free(key);
	}
	return arr;
}

static json_t *
account_json(struct ctl *c, MDB_txn *txn, const struct account *a)
{
	char t[32];
	uint32_t recent;
	uint64_t until = lockout_until(c, txn, a->name, &recent);

	if (a->expires)
		ctl_format_time(a->expires, t, sizeof(t));
	return json_pack("{s:s, s:s, s:I, s:o, s:o, s:s?, s:b, s:b, s:I, s:b, s:I, s:o, s:b, s:I}",
			 "name", a->name, "role", role_name(a->role), "uid", (json_int_t)a->uid,
			 "projects", name_array(a->projects, a->nprojects), "zones",
			 name_array(a->zones, a->nzones), "expires", a->expires ? t : NULL,
			 "locked", a->locked, "locked_out", until != 0, "locked_out_until",
			 (json_int_t)until, "password", a->has_password, "keys",
			 (json_int_t)a->nkeys, "key_fingerprints", key_fingerprints(a), "totp",
			 a->totp_sealed_len != 0, "recent_failures", (json_int_t)recent);
}

static const char *
account_state(struct ctl *c, MDB_txn *txn, const struct account *a)
{
	uint32_t recent;

	if (a->locked)
		return "locked";
	if (a->expires && (uint64_t)time(NULL) > a->expires)
		return "expired";
	if (lockout_until(c, txn, a->name, &recent))
		return "locked-out";
	return "active";
}

struct list_ctx {
	struct ctl *c;
	MDB_txn *txn;
	json_t *arr;
};

static int
list_one(const struct account *a, void *arg)
{
	struct list_ctx *lc = arg;
	char projects[600], zones[600];

	if (lc->arr)
		return json_array_append_new(lc->arr, account_json(lc->c, lc->txn, a)) < 0 ? -1 : 0;
	join_list(projects, sizeof(projects), a->projects, a->nprojects);
	join_list(zones, sizeof(zones), a->zones, a->nzones);
	printf("%-20s %-8s %-8u %-10s %-24s %s\n", a->name, role_name(a->role), (unsigned)a->uid,
	       account_state(lc->c, lc->txn, a), projects, zones);
	return 0;
}

static int
user_list(struct ctl *c, int argc, char **argv)
{
	struct user_args ua;
	struct list_ctx lc = {c, NULL, NULL};
	int rc;

	if ((rc = parse_args(c, argc, argv, 0, &ua)) != 0 ||
	    (rc = only_opts(&ua, "list", 0, 0, 0, 0)) != 0)
		return rc;
	if ((rc = store_begin(c->st, 1, &lc.txn)) < 0)
		return ctl_fail("state store: %s", store_strerror(rc));
	if (c->json && (lc.arr = json_array()) == NULL) {
		store_abort(lc.txn);
		return ctl_fail("out of memory");
	}
	if (!c->json)
		printf("%-20s %-8s %-8s %-10s %-24s %s\n", "NAME", "ROLE", "UID", "STATE",
		       "PROJECTS", "ZONES");
	rc = account_foreach(c->st, lc.txn, list_one, &lc);
	store_abort(lc.txn);
	if (rc != 0) {
		json_decref(lc.arr);
		return ctl_fail("user list: a record cannot be read: %s", store_strerror(rc));
	}
	return c->json ? ctl_print_json(lc.arr) : 0;
}

/* Today's use of the session budgets (policy/budget.h), in user show. */
static int
add_budget_json(struct ctl *c, MDB_txn *txn, const char *name, json_t *j)
{
	struct budget_day b;
	json_t *o;
	int rc;

	if ((rc = budget_get(c->st, txn, name, budget_day_of((uint64_t)time(NULL)), &b)) != 0)
		return rc;
	o = json_object();
	for (int d = BUDGET_OUT; d <= BUDGET_IN && o; d++) {
		uint64_t limit = budget_limit(c->cfg, d);
		json_t *dj = json_pack("{s:I, s:I}", "used", (json_int_t)b.used[d], "extra",
				       (json_int_t)b.extra[d]);

		if (dj && limit != CONFIG_BUDGET_NONE)
			json_object_set_new(dj, "limit", json_integer((json_int_t)limit));
		else if (dj)
			json_object_set_new(dj, "limit", json_null());
		json_object_set_new(o, d == BUDGET_OUT ? "output" : "input", dj);
	}
	if (o == NULL || json_object_set_new(j, "budget_today", o) != 0)
		return -ENOMEM;
	return 0;
}

static void
print_budget(json_t *bt)
{
	static const char *const dirs[] = {"output", "input"};

	printf("budget:   today (UTC)");
	for (size_t i = 0; i < nitems(dirs); i++) {
		json_t *d = json_object_get(bt, dirs[i]);
		json_t *limit = json_object_get(d, "limit");
		char used[32], total[32];

		format_size((uint64_t)json_integer_value(json_object_get(d, "used")), used,
			    sizeof(used));
		if (json_is_integer(limit))
			format_size((uint64_t)json_integer_value(limit) +
					(uint64_t)json_integer_value(json_object_get(d, "extra")),
				    total, sizeof(total));
		else
			snprintf(total, sizeof(total), "none");
		printf("%s %s %s of %s", i ? "," : "", dirs[i], used, total);
	}
	printf("\n");
}

/* user budget NAME --extra SIZE: more session output for today (UTC) only. */
static int
user_budget(struct ctl *c, int argc, char **argv)
{
	struct user_args ua;
	struct budget_day b;
	struct account a;
	uint64_t extra, now = (uint64_t)time(NULL);
	uint32_t day = budget_day_of(now);
	char size[32];
	MDB_txn *txn;
	int rc;

	if ((rc = parse_args(c, argc, argv, 1, &ua)) != 0 ||
	    (rc = only_opts(&ua, "budget", 0, 0, 0, 0)) != 0)
		return rc;
	if (ua.extra == NULL)
		return ctl_usage("usage: user budget NAME --extra SIZE");
	if (parse_size(ua.extra, &extra) < 0 || extra == 0 || extra > (64ull << 40))
		return ctl_fail("user %s: --extra: invalid size (use e.g. 10M, 1G)", ua.name);
	if ((rc = load_for_change(c, ua.name, &txn, &a)) != 0)
		return rc;
	account_wipe(&a);
	if ((rc = budget_get(c->st, txn, ua.name, day, &b)) != 0)
		return abort_fail(txn, ctl_fail("user \"%s\": budget record cannot be read: %s",
						ua.name, store_strerror(rc)));
	b.extra[BUDGET_OUT] += extra;
	b.reached[BUDGET_OUT] = 0; /* a new 100 % today is worth its own record */
	format_size(extra, size, sizeof(size));
	if ((rc = budget_put(c->st, txn, ua.name, day, &b)) < 0 ||
	    (rc = audit_append(c->st, txn, c->actor, "user.budget",
			       "user=%s extra_output=%s day=%u", ua.name, size, (unsigned)day)) < 0)
		return abort_fail(
		    txn, ctl_fail("user \"%s\": cannot store: %s", ua.name, store_strerror(rc)));
	if ((rc = commit(txn)) != 0)
		return rc;
	printf("user %s: %s more session output for today (UTC)\n", ua.name, size);
	return 0;
}

static int
user_show(struct ctl *c, int argc, char **argv)
{
	struct user_args ua;
	struct account a;
	json_t *j;
	MDB_txn *txn;
	int rc;

	if ((rc = parse_args(c, argc, argv, 1, &ua)) != 0 ||
	    (rc = only_opts(&ua, "show", 0, 0, 0, 0)) != 0)
		return rc;
	if ((rc = store_begin(c->st, 1, &txn)) < 0)
		return ctl_fail("state store: %s", store_strerror(rc));
	rc = account_get(c->st, txn, ua.name, &a);
	if (rc != 0) {
		store_abort(txn);
		if (rc == STORE_NOTFOUND)
			return ctl_fail("user \"%s\" does not exist", ua.name);
		return ctl_fail("user \"%s\": record cannot be read: %s", ua.name,
				store_strerror(rc));
	}
	j = account_json(c, txn, &a);
	if (j && (rc = add_budget_json(c, txn, a.name, j)) != 0) {
		store_abort(txn);
		account_wipe(&a);
		json_decref(j);
		return ctl_fail("user \"%s\": budget record cannot be read: %s", ua.name,
				store_strerror(rc));
	}
	if (!c->json && j) {
		char projects[600], zones[600], created[32];
		json_t *v;

		join_list(projects, sizeof(projects), a.projects, a.nprojects);
		join_list(zones, sizeof(zones), a.zones, a.nzones);
		ctl_format_time(a.created, created, sizeof(created));
		printf("name:     %s\nrole:     %s\nuid:      %u\nprojects: %s\nzones:    %s\n",
		       a.name, role_name(a.role), (unsigned)a.uid, projects, zones);
		v = json_object_get(j, "expires");
		printf("expires:  %s\nstate:    %s\ncreated:  %s\n",
		       json_is_string(v) ? json_string_value(v) : "never",
		       account_state(c, txn, &a), created);
		printf("password: %s\nkeys:     %u\n", a.has_password ? "set" : "not set", a.nkeys);
		{
			size_t i;

			json_array_foreach(json_object_get(j, "key_fingerprints"), i, v)
			    printf("  %s\n", json_string_value(v));
		}
		printf("totp:     %s\nfailures: %lld recent\n",
		       a.totp_sealed_len ? "enrolled" : "not enrolled",
		       (long long)json_integer_value(json_object_get(j, "recent_failures")));
		print_budget(json_object_get(j, "budget_today"));
		json_decref(j);
		j = NULL;
		rc = 0;
	} else {
		rc = ctl_print_json(j);
	}
	store_abort(txn);
	account_wipe(&a);
	return rc;
}

static int
user_lock_on(struct ctl *c, int argc, char **argv)
{
	return user_lock(c, argc, argv, 1);
}

static int
user_lock_off(struct ctl *c, int argc, char **argv)
{
	return user_lock(c, argc, argv, 0);
}

int
ctl_user(struct ctl *c, int argc, char **argv)
{
	/* clang-format off */
	static const struct ctl_sub subs[] = {
		{"add", user_add},
		{"passwd", user_passwd},
		{"key", user_key},
		{"totp", user_totp},
		{"lock", user_lock_on},
		{"unlock", user_lock_off},
		{"del", user_del},
		{"list", user_list},
		{"show", user_show},
		{"budget", user_budget},
		{"set", user_set},
		{NULL, NULL},
	};
	/* clang-format on */

	return ctl_dispatch(
	    c, argc, argv, subs,
	    "usage: user add|passwd|key|totp|lock|unlock|del|list|show|budget|set ...");
}
