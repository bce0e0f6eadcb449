/*
 * wsgate.conf: read with libinih, every key checked against one table (config_keys).
 *
 * libinih does the INI lexing, but Debian's build (inih 55) also accepts things we do not want
 * in a security policy: "key: value", continuation lines after blank lines, silently split
 * lines longer than ini_max_line, and section text after ']'. Rather than flip inih's
 * process-wide globals, we hand it the file through our own reader (config_reader), which sees
 * each raw line first, refuses what is malformed, tracks the line number and the section, and
 * tells the handler whether a line is a continuation. See docs/policy.md.
 */
#include "common/why.h"
#include "policy/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "common/names.h"
#include "common/nitems.h"
#include "common/units.h"
#include "policy/role.h"

/* A policy file is a page of text; anything bigger is a mistake or an attack. */
#define CONFIG_FILE_MAX (1u << 20)
#define SECTION_TEXT_MAX 48 /* inih truncates section names at 49 bytes */
#define WHY_MAX 256

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define TIB (1024ull * 1024ull * MIB)
#define MINUTE 60ull
#define HOUR (60ull * MINUTE)
#define DAY (24ull * HOUR)

enum sect { SECT_NONE, SECT_GATEWAY, SECT_ZONE, SECT_SANDBOX, SECT_AIRLOCK, SECT_AUDIT };

enum line_kind { LINE_OTHER, LINE_KEY, LINE_CONT };

enum vtype {
	V_DURATION,   /* uint64_t seconds */
	V_SIZE,	      /* uint64_t bytes */
	V_U32,	      /* uint32_t */
	V_BOOL,	      /* int */
	V_PATH,	      /* char[4096], absolute */
	V_AREA,	      /* zone area name */
	V_LISTEN,     /* list */
	V_NETWORKS,   /* list */
	V_TYPES,      /* list */
	V_FACILITIES, /* list */
	V_PROGRAMS,   /* list: exec_without_pty */
	V_HIDE,	      /* list: absolute paths */
	V_BUDGET,     /* uint64_t bytes, or "none" */
	V_ROLES,      /* unsigned bit mask of 1 << enum role: [audit] record */
	V_WITNESS     /* char[4096]: an absolute path, or "none" (empty) */
};

struct config_key {
	enum sect sect;
	const char *name;
	enum vtype type;
	size_t off; /* into struct config (struct zone for SECT_ZONE); unused for lists */
	uint64_t min, max;
};

#define CFG(f) offsetof(struct config, f)

/* The whole configuration language. Ranges keep values away from overflow in the code that
 * adds them to timestamps or hands them to setrlimit/cgroups. */
/* clang-format off */
static const struct config_key config_keys[] = {
	{SECT_GATEWAY, "listen", V_LISTEN, 0, 0, 0},
	{SECT_GATEWAY, "state_dir", V_PATH, CFG(state_dir), 0, 0},
	{SECT_GATEWAY, "host_key", V_PATH, CFG(host_key), 0, 0},
	{SECT_GATEWAY, "idle_timeout", V_DURATION, CFG(idle_timeout), 1, 30 * DAY},
	{SECT_GATEWAY, "max_sessions", V_U32, CFG(max_sessions), 1, 100000},
	{SECT_GATEWAY, "lockout_failures", V_U32, CFG(lockout_failures), 1, 1000},
	{SECT_GATEWAY, "lockout_window", V_DURATION, CFG(lockout_window), 1, 30 * DAY},
	{SECT_GATEWAY, "lockout_time", V_DURATION, CFG(lockout_time), 1, 365 * DAY},
	{SECT_GATEWAY, "max_unauthenticated", V_U32, CFG(max_unauthenticated), 1, 100000},
	{SECT_GATEWAY, "max_unauthenticated_per_source", V_U32, CFG(max_unauthenticated_per_source), 1, 100000},
	{SECT_GATEWAY, "login_grace", V_DURATION, CFG(login_grace_time), 1, HOUR},
	/* The name before SPEC "Limits under attack" named it; same setting, either name, once. */
	{SECT_GATEWAY, "login_grace_time", V_DURATION, CFG(login_grace_time), 1, HOUR},
	{SECT_GATEWAY, "max_auth_tries", V_U32, CFG(max_auth_tries), 1, 100},
	{SECT_ZONE, "networks", V_NETWORKS, 0, 0, 0},
	{SECT_ZONE, "area", V_AREA, offsetof(struct zone, area), 0, 0},
	{SECT_SANDBOX, "memory_max", V_SIZE, CFG(memory_max), MIB, 64 * TIB},
	{SECT_SANDBOX, "pids_max", V_U32, CFG(pids_max), 1, 1000000},
	{SECT_SANDBOX, "file_size_max", V_SIZE, CFG(file_size_max), KIB, 64 * TIB},
	{SECT_SANDBOX, "cpu_time_max", V_DURATION, CFG(cpu_time_max), 1, 365 * DAY},
	{SECT_SANDBOX, "tmp_size", V_SIZE, CFG(tmp_size), MIB, 64 * TIB},
	{SECT_SANDBOX, "area_quota", V_SIZE, CFG(area_quota), MIB, 64 * TIB},
	{SECT_SANDBOX, "exec_without_pty", V_PROGRAMS, 0, 0, 0},
	{SECT_SANDBOX, "hide", V_HIDE, 0, 0, 0},
	{SECT_SANDBOX, "output_budget", V_BUDGET, CFG(output_budget), 1, 64 * TIB},
	{SECT_SANDBOX, "input_budget", V_BUDGET, CFG(input_budget), 1, 64 * TIB},
	{SECT_AIRLOCK, "export_types", V_TYPES, 0, 0, 0},
	{SECT_AIRLOCK, "export_max_size", V_SIZE, CFG(export_max_size), 1, 64 * TIB},
	{SECT_AIRLOCK, "min_cell_count", V_U32, CFG(min_cell_count), 1, 1000000},
	{SECT_AIRLOCK, "facilities", V_FACILITIES, 0, 0, 0},
	{SECT_AIRLOCK, "export_block_on_fail", V_BOOL, CFG(export_block_on_fail), 0, 1},
	{SECT_AIRLOCK, "max_rows", V_U32, CFG(max_rows), 1, 1000000000},
	{SECT_AIRLOCK, "import_require_checksum", V_BOOL, CFG(import_require_checksum), 0, 1},
	{SECT_AIRLOCK, "reviews_required", V_U32, CFG(reviews_required), 1, 2},
	{SECT_AIRLOCK, "import_max_size", V_SIZE, CFG(import_max_size), 1, 64 * TIB},
	{SECT_AIRLOCK, "import_draft_ttl", V_DURATION, CFG(import_draft_ttl), 60, 365 * DAY},
	{SECT_AUDIT, "record", V_ROLES, CFG(audit_record), 0, 0},
	{SECT_AUDIT, "witness", V_WITNESS, CFG(audit_witness), 0, 0},
};
/* clang-format on */
#define NKEYS (nitems(config_keys))
_Static_assert(NKEYS <= 64, "keys_seen is a 64-bit mask over config_keys");

static const char *const sect_names[] = {"", "gateway", "zone", "sandbox", "airlock", "audit"};

struct parse {
	struct config *cfg;
	const char *path;
	const char *buf;
	size_t len, off;
	int lineno;
	/* section state, owned by the reader */
	enum sect sect;
	char sect_text[SECTION_TEXT_MAX + 1]; /* as inih will report it */
	int sect_line;
	unsigned sects_seen; /* bit per enum sect, to refuse a repeated [gateway] */
	uint64_t keys_seen;  /* bit per config_keys index, reset per section */
	int last_key;	     /* config_keys index of the last key line, or -1 */
	int host_key_set;
	enum line_kind prev, cur;
	int failed;
	char *why;
	size_t whylen;
};

static void fail(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records the first error only, as "PATH:LINE: message"; later errors are consequences. */
static void
fail(struct parse *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->why && p->whylen)
		snprintf(p->why, p->whylen, "%s:%d: %s", p->path, p->lineno, msg);
}

/* Values come from a file and end up in one log line: keep them printable and short. */
static const char *
shown(const char *s, char *out, size_t outlen)
{
	size_t i, n = 0;

	for (i = 0; s[i] && n + 4 < outlen; i++)
		out[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i] && n + 4 >= outlen) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* ---- CIDR ---- */

static unsigned
cidr_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* Returns NULL, or why text is not a network. A network with host bits set ("10.0.0.1/24")
 * is refused rather than silently widened: in an access list it is almost always a typo. */
static const char *
cidr_parse_why(const char *text, struct cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	uint64_t prefix;
	size_t alen;
	unsigned i, nbytes;
	struct cidr c;

	memset(&c, 0, sizeof(c));
	slash = strchr(text, '/');
	alen = slash ? (size_t)(slash - text) : strlen(text);
	if (alen == 0 || alen >= INET6_ADDRSTRLEN)
		return "invalid address";
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (strchr(buf, ':')) {
		c.family = AF_INET6;
		if (inet_pton(AF_INET6, buf, c.addr) != 1)
			return "invalid IPv6 address";
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)c.addr))
			return "IPv4-mapped network: write it as IPv4";
	} else {
		c.family = AF_INET;
		if (inet_pton(AF_INET, buf, c.addr) != 1)
			return "invalid IPv4 address";
	}
	c.prefix = cidr_bits(c.family);
	if (slash) {
		if (strlen(slash + 1) > 3 || parse_u64_strict(slash + 1, &prefix) < 0)
			return "invalid prefix length";
		if (prefix > cidr_bits(c.family))
			return "prefix length out of range";
		c.prefix = (unsigned)prefix;
	}
	nbytes = cidr_bits(c.family) / 8;
	for (i = 0; i < nbytes; i++) {
		unsigned keep = c.prefix > i * 8 ? c.prefix - i * 8 : 0;
		uint8_t mask = keep >= 8 ? 0xff : (uint8_t)(0xff00u >> keep);

		if (c.addr[i] & ~mask)
			return "host bits set";
	}
	*out = c;
	return NULL;
}

int
cidr_parse(const char *text, struct cidr *out)
{
	if (!text || !out)
		return -1;
	return cidr_parse_why(text, out) ? -1 : 0;
}

static int
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

/* A v4 client accepted on a dual-stack [::] socket appears as ::ffff:a.b.c.d. It is the same
 * client as on a v4 socket, so it is matched as IPv4 only: it must never fall into an IPv6
 * zone such as ::/0 that was meant for native IPv6 clients. Returns the family to match as, or
 * 0 for an address of no supported family. */
static int
sa_address(const struct sockaddr *sa, uint8_t addr[16])
{
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		memcpy(addr, &sin.sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
			memcpy(addr, sin6.sin6_addr.s6_addr + 12, 4);
			return AF_INET;
		}
		memcpy(addr, sin6.sin6_addr.s6_addr, 16);
		return AF_INET6;
	}
	return 0;
}

static int
net_contains(const struct cidr *net, int family, const uint8_t *addr)
{
	if (family != net->family || net->prefix > cidr_bits(family))
		return 0;
	return prefix_equal(addr, net->addr, net->prefix);
}

int
cidr_match(const struct cidr *net, const struct sockaddr *sa)
{
	uint8_t addr[16];
	int family;

	if (!net || !sa || (family = sa_address(sa, addr)) == 0)
		return 0;
	return net_contains(net, family, addr);
}

const struct zone *
config_zone_for(const struct config *cfg, const struct sockaddr *sa)
{
	uint8_t addr[16];
	int family;
	size_t i, j;

	if (!cfg || !sa || (family = sa_address(sa, addr)) == 0)
		return NULL;
	for (i = 0; i < cfg->nzones; i++)
		for (j = 0; j < cfg->zones[i].nnets; j++)
			if (net_contains(&cfg->zones[i].nets[j], family, addr))
				return &cfg->zones[i];
	return NULL;
}

const struct zone *
config_zone_by_name(const struct config *cfg, const char *name)
{
	size_t i;

	if (!cfg || !name)
		return NULL;
	for (i = 0; i < cfg->nzones; i++)
		if (strcmp(cfg->zones[i].name, name) == 0)
			return &cfg->zones[i];
	return NULL;
}

/* ---- values ---- */

/* Each value parser returns 0, or -1 with a reason in why. */
typedef int (*value_fn)(struct parse *, const struct config_key *, void *, const char *, char *);

/* Next whitespace-separated token of *sp into tok (cap bytes). 1 = token, 0 = end, -1 = too
 * long. */
static int
next_token(const char **sp, char *tok, size_t cap)
{
	const char *s = *sp;
	size_t n;

	while (is_blank(*s))
		s++;
	if (!*s)
		return 0;
	n = strcspn(s, " \t");
	*sp = s + n;
	if (n >= cap)
		return -1;
	memcpy(tok, s, n);
	tok[n] = '\0';
	return 1;
}

static int
val_duration(struct parse *p, const struct config_key *k, void *field, const char *v, char *why)
{
	uint64_t n;
	char lo[32], hi[32], buf[80];

	if (parse_duration(v, &n) < 0) {
		snprintf(why, WHY_MAX, "invalid duration '%s' (use e.g. 45s, 30m, 12h, 7d)",
			 shown(v, buf, sizeof(buf)));
		return -1;
	}
	if (n < k->min || n > k->max) {
		format_duration(k->min, lo, sizeof(lo));
		format_duration(k->max, hi, sizeof(hi));
		snprintf(why, WHY_MAX, "duration '%s' out of range %s..%s",
			 shown(v, buf, sizeof(buf)), lo, hi);
		return -1;
	}
	*(uint64_t *)field = n;
	return 0;
}

static int
val_size(struct parse *p, const struct config_key *k, void *field, const char *v, char *why)
{
	uint64_t n;
	char lo[32], hi[32], buf[80];

	if (parse_size(v, &n) < 0) {
		snprintf(why, WHY_MAX, "invalid size '%s' (use e.g. 512K, 50M, 4G)",
			 shown(v, buf, sizeof(buf)));
		return -1;
	}
	if (n < k->min || n > k->max) {
		format_size(k->min, lo, sizeof(lo));
		format_size(k->max, hi, sizeof(hi));
		snprintf(why, WHY_MAX, "size '%s' out of range %s..%s", shown(v, buf, sizeof(buf)),
			 lo, hi);
		return -1;
	}
	*(uint64_t *)field = n;
	return 0;
}

static int
val_u32(struct parse *p, const struct config_key *k, void *field, const char *v, char *why)
{
	uint64_t n;
	char buf[80];

	if (strlen(v) > 10 || parse_u64_strict(v, &n) < 0) {
		snprintf(why, WHY_MAX, "invalid number '%s'", shown(v, buf, sizeof(buf)));
		return -1;
	}
	if (n < k->min || n > k->max) {
		snprintf(why, WHY_MAX, "%llu out of range %llu..%llu", (unsigned long long)n,
			 (unsigned long long)k->min, (unsigned long long)k->max);
		return -1;
	}
	*(uint32_t *)field = (uint32_t)n;
	return 0;
}

static int
val_bool(struct parse *p, const struct config_key *k, void *field, const char *v, char *why)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	char buf[80];
	size_t i;

	for (i = 0; i < nitems(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*(int *)field = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*(int *)field = 0;
			return 0;
		}
	}
	snprintf(why, WHY_MAX, "invalid boolean '%s' (use yes or no)", shown(v, buf, sizeof(buf)));
	return -1;
}

/* Absolute and canonical: no ".", "..", empty components or control bytes, so that what the
 * operator reads in the file is exactly what the daemon opens. */
static int
val_path(struct parse *p, const struct config_key *k, void *field, const char *v, char *why)
{
	size_t len = strlen(v);
	const char *c;

	if (v[0] != '/' || len < 2) {
		snprintf(why, WHY_MAX, "must be an absolute path below /");
		return -1;
	}
	if (len >= sizeof(p->cfg->state_dir) - 32) {
		snprintf(why, WHY_MAX, "path too long");
		return -1;
	}
	for (c = v; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			snprintf(why, WHY_MAX, "control character in path");
			return -1;
		}
	}
	for (c = v; *c;) {
		size_t n;

		c++; /* the '/' */
		n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) {
			snprintf(why, WHY_MAX,
				 "path must be canonical (no empty, '.' or '..' components)");
			return -1;
		}
		c += n;
	}
	memcpy(field, v, len + 1);
	if (k->off == CFG(host_key))
		p->host_key_set = 1;
	return 0;
}

static int
val_area(struct parse *p, const struct config_key *k, void *field, const char *v, char *why)
{
	char buf[80];

	if (!name_valid(v)) {
		snprintf(why, WHY_MAX, "invalid area name '%s'", shown(v, buf, sizeof(buf)));
		return -1;
	}
	memcpy(field, v, strlen(v) + 1);
	return 0;
}

static int
parse_port(const char *s, uint16_t *port)
{
	uint64_t n;

	if (strlen(s) > 5 || parse_u64_strict(s, &n) < 0 || n < 1 || n > 65535)
		return -1;
	*port = (uint16_t)n;
	return 0;
}

/* "A.B.C.D:PORT" or "[V6]:PORT". No host names (no resolver at start-up) and no scope ids. */
static int
listen_parse(const char *tok, struct listen_addr *la, char *why)
{
	char host[INET6_ADDRSTRLEN + 1], buf[80];
	const char *h = tok, *colon, *end;
	size_t hlen;
	uint16_t port;
	int v6 = tok[0] == '[';

	memset(la, 0, sizeof(*la));
	if (strlen(tok) >= sizeof(la->text))
		goto bad;
	if (v6) {
		end = strchr(tok, ']');
		if (!end || end[1] != ':')
			goto bad;
		h = tok + 1;
		hlen = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strchr(tok, ':');
		if (!colon || strchr(colon + 1, ':')) {
			snprintf(why, WHY_MAX,
				 "invalid listen address '%s' (write [ADDR]:PORT for IPv6)",
				 shown(tok, buf, sizeof(buf)));
			return -1;
		}
		hlen = (size_t)(colon - tok);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (parse_port(colon + 1, &port) < 0) {
		snprintf(why, WHY_MAX, "invalid port in '%s' (1..65535)",
			 shown(tok, buf, sizeof(buf)));
		return -1;
	}
	if (v6) {
		struct sockaddr_in6 sin6;

		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		if (inet_pton(AF_INET6, host, &sin6.sin6_addr) != 1)
			goto bad;
		memcpy(&la->ss, &sin6, sizeof(sin6));
		la->len = sizeof(sin6);
	} else {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
			goto bad;
		memcpy(&la->ss, &sin, sizeof(sin));
		la->len = sizeof(sin);
	}
	snprintf(la->text, sizeof(la->text), "%s", tok);
	return 0;
bad:
	snprintf(why, WHY_MAX, "invalid listen address '%s' (use ADDR:PORT or [ADDR]:PORT)",
		 shown(tok, buf, sizeof(buf)));
	return -1;
}

static int
val_listen(struct parse *p, const struct config_key *k, void *field, const char *v, char *why)
{
	struct config *cfg = p->cfg;
	char tok[128];
	size_t i;
	int r;

	while ((r = next_token(&v, tok, sizeof(tok))) != 0) {
		struct listen_addr *la;

		if (r < 0) {
			snprintf(why, WHY_MAX, "listen address too long");
			return -1;
		}
		if (cfg->nlisten >= CONFIG_MAX_LISTEN) {
			snprintf(why, WHY_MAX, "more than %d listen addresses", CONFIG_MAX_LISTEN);
			return -1;
		}
		la = &cfg->listen[cfg->nlisten];
		if (listen_parse(tok, la, why) < 0)
			return -1;
		for (i = 0; i < cfg->nlisten; i++) {
			if (cfg->listen[i].len == la->len &&
			    memcmp(&cfg->listen[i].ss, &la->ss, la->len) == 0) {
				snprintf(why, WHY_MAX, "duplicate listen address '%s'", la->text);
				return -1;
			}
		}
		cfg->nlisten++;
	}
	return 0;
}

static int
val_networks(struct parse *p, const struct config_key *k, void *field, const char *v, char *why)
{
	struct zone *z = field;
	char tok[INET6_ADDRSTRLEN + 8], buf[80];
	const char *bad;
	int r;

	while ((r = next_token(&v, tok, sizeof(tok))) != 0) {
		struct cidr c;

		if (r < 0) {
			snprintf(why, WHY_MAX, "network too long");
			return -1;
		}
		if (z->nnets >= CONFIG_MAX_NETS) {
			snprintf(why, WHY_MAX, "more than %d networks in one zone",
				 CONFIG_MAX_NETS);
			return -1;
		}
		if ((bad = cidr_parse_why(tok, &c)) != NULL) {
			snprintf(why, WHY_MAX, "network '%s': %s", shown(tok, buf, sizeof(buf)),
				 bad);
			return -1;
		}
		z->nets[z->nnets++] = c;
	}
	return 0;
}

static int
val_types(struct parse *p, const struct config_key *k, void *field, const char *v, char *why)
{
	struct config *cfg = p->cfg;
	char tok[sizeof(cfg->export_types[0])], buf[80];
	size_t i;
	int r;

	while ((r = next_token(&v, tok, sizeof(tok))) != 0) {
		const char *c;

		if (r < 0) {
			snprintf(why, WHY_MAX, "file type longer than %zu characters",
				 sizeof(tok) - 1);
			return -1;
		}
		for (c = tok; *c; c++) {
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'))) {
				snprintf(why, WHY_MAX,
					 "invalid file type '%s' (lowercase letters and digits)",
					 shown(tok, buf, sizeof(buf)));
				return -1;
			}
		}
		for (i = 0; i < cfg->nexport_types; i++) {
			if (strcmp(cfg->export_types[i], tok) == 0) {
				snprintf(why, WHY_MAX, "duplicate file type '%s'", tok);
				return -1;
			}
		}
		if (cfg->nexport_types >= CONFIG_MAX_TYPES) {
			snprintf(why, WHY_MAX, "more than %d file types", CONFIG_MAX_TYPES);
			return -1;
		}
		memcpy(cfg->export_types[cfg->nexport_types++], tok, strlen(tok) + 1);
	}
	return 0;
}

/* No control characters (and no DEL): what reaches logs and the sandbox stays one line. */
static int
printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* Program names for exec_without_pty: a bare name as the command line's program (no path: a
 * path would name one copy of a program and not another), "*" alone to turn the rule off, or
 * "none" alone: no command runs without a terminal. */
static int
val_programs(struct parse *p, const struct config_key *k, void *field, const char *v, char *why)
{
	struct config *cfg = p->cfg;
	char tok[sizeof(cfg->exec_without_pty[0])], buf[80];
	int r;

	while ((r = next_token(&v, tok, sizeof(tok))) != 0) {
		if (r < 0) {
			snprintf(why, WHY_MAX, "program name longer than %zu characters",
				 sizeof(tok) - 1);
			return -1;
		}
		if (strcmp(tok, "*") == 0) {
			cfg->exec_without_pty_any = 1;
			continue;
		}
		if (strcmp(tok, "none") == 0 && cfg->nexec_without_pty == 0 && *v == '\0')
			break;
		if (tok[strspn(
			tok,
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")] !=
			'\0' ||
		    tok[0] == '.' || tok[0] == '-') {
			snprintf(why, WHY_MAX,
				 "invalid program name '%s' (a bare name such as airlock, or *)",
				 shown(tok, buf, sizeof(buf)));
			return -1;
		}
		if (cfg->nexec_without_pty >= CONFIG_MAX_PROGRAMS) {
			snprintf(why, WHY_MAX, "more than %d programs", CONFIG_MAX_PROGRAMS);
			return -1;
		}
		memcpy(cfg->exec_without_pty[cfg->nexec_without_pty++], tok, strlen(tok) + 1);
	}
	if (cfg->exec_without_pty_any && cfg->nexec_without_pty > 0) {
		snprintf(why, WHY_MAX, "'*' turns the rule off: list no programs with it");
		return -1;
	}
	return 0;
}

/* Paths hidden in the sandbox: absolute, no "." or ".." component, printable, or "none" alone.
 * A path that does not exist on the host is fine (there is nothing to hide). */
static int
val_hide(struct parse *p, const struct config_key *k, void *field, const char *v, char *why)
{
	struct config *cfg = p->cfg;
	char tok[sizeof(cfg->hide[0])], buf[80];
	int r;

	while ((r = next_token(&v, tok, sizeof(tok))) != 0) {
		if (r < 0) {
			snprintf(why, WHY_MAX, "path longer than %zu characters", sizeof(tok) - 1);
			return -1;
		}
		if (strcmp(tok, "none") == 0 && cfg->nhide == 0 && *v == '\0')
			break;
		if (tok[0] != '/' || strcmp(tok, "/") == 0 || strstr(tok, "/./") != NULL ||
		    strstr(tok, "/../") != NULL || strstr(tok, "//") != NULL ||
		    (strlen(tok) >= 2 && strcmp(tok + strlen(tok) - 2, "/.") == 0) ||
		    (strlen(tok) >= 3 && strcmp(tok + strlen(tok) - 3, "/..") == 0) ||
		    !printable(tok)) {
			snprintf(why, WHY_MAX,
				 "invalid path '%s' (absolute, without . or .. components)",
				 shown(tok, buf, sizeof(buf)));
			return -1;
		}
		if (cfg->nhide >= CONFIG_MAX_HIDE) {
			snprintf(why, WHY_MAX, "more than %d paths", CONFIG_MAX_HIDE);
			return -1;
		}
		memcpy(cfg->hide[cfg->nhide++], tok, strlen(tok) + 1);
	}
	return 0;
}

static int
val_budget(struct parse *p, const struct config_key *k, void *field, const char *v, char *why)
{
	if (strcmp(v, "none") == 0) {
		*(uint64_t *)field = CONFIG_BUDGET_NONE;
		return 0;
	}
	return val_size(p, k, field, v, why);
}

/* Tokens separated by blanks; "double quotes" group words. No escapes: a facility name
 * cannot contain a double quote. */
static int
val_facilities(struct parse *p, const struct config_key *k, void *field, const char *v, char *why)
{
	struct config *cfg = p->cfg;
	const size_t cap = sizeof(cfg->facilities[0]);

	for (;;) {
		const char *start, *end, *c;
		size_t n;

		while (is_blank(*v))
			v++;
		if (!*v)
			break;
		if (*v == '"') {
			start = v + 1;
			end = strchr(start, '"');
			if (!end) {
				snprintf(why, WHY_MAX, "unterminated quote");
				return -1;
			}
			v = end + 1;
			if (*v && !is_blank(*v)) {
				snprintf(why, WHY_MAX, "text right after a closing quote");
				return -1;
			}
		} else {
			start = v;
			end = v + strcspn(v, " \t");
			v = end;
			if (memchr(start, '"', (size_t)(end - start))) {
				snprintf(why, WHY_MAX, "quote inside a facility name");
				return -1;
			}
		}
		n = (size_t)(end - start);
		if (n == 0 || n >= cap) {
			snprintf(why, WHY_MAX, "facility name must be 1..%zu bytes", cap - 1);
			return -1;
		}
		for (c = start; c < end; c++) {
			if ((unsigned char)*c < 0x20 || *c == 0x7f) {
				snprintf(why, WHY_MAX, "control character in facility name");
				return -1;
			}
		}
		if (cfg->nfacilities >= CONFIG_MAX_FACILITIES) {
			snprintf(why, WHY_MAX, "more than %d facilities", CONFIG_MAX_FACILITIES);
			return -1;
		}
		memcpy(cfg->facilities[cfg->nfacilities], start, n);
		cfg->facilities[cfg->nfacilities][n] = '\0';
		cfg->nfacilities++;
	}
	return 0;
}

/* [audit] record: the roles whose shell and exec channels are recorded, or "none". */
static int
val_roles(struct parse *p, const struct config_key *k, void *field, const char *v, char *why)
{
	char tok[16];
	unsigned mask = 0;
	enum role r;

	(void)p;
	(void)k;
	if (strcmp(v, "none") == 0) {
		*(unsigned *)field = 0;
		return 0;
	}
	for (int got; (got = next_token(&v, tok, sizeof(tok))) != 0;) {
		if (got < 0 || role_parse(tok, &r) < 0) {
			snprintf(why, WHY_MAX, "want roles (analyst, stats, admin) or none");
			return -1;
		}
		mask |= 1u << r;
	}
	if (mask == 0) {
		snprintf(why, WHY_MAX, "want roles (analyst, stats, admin) or none");
		return -1;
	}
	*(unsigned *)field = mask;
	return 0;
}

/* [audit] witness: "none", or a canonical absolute path that is checked against state_dir when
 * the file is read to its end (config_witness_outside): a witness inside state_dir would be
 * rolled back with it. */
static int
val_witness(struct parse *p, const struct config_key *k, void *field, const char *v, char *why)
{
	if (strcmp(v, "none") == 0) {
		((char *)field)[0] = '\0';
		return 0;
	}
	return val_path(p, k, field, v, why);
}

/* clang-format off */
static const value_fn value_fns[] = {
	[V_DURATION] = val_duration,
	[V_SIZE] = val_size,
	[V_U32] = val_u32,
	[V_BOOL] = val_bool,
	[V_PATH] = val_path,
	[V_AREA] = val_area,
	[V_LISTEN] = val_listen,
	[V_NETWORKS] = val_networks,
	[V_TYPES] = val_types,
	[V_FACILITIES] = val_facilities,
	[V_PROGRAMS] = val_programs,
	[V_HIDE] = val_hide,
	[V_BUDGET] = val_budget,
	[V_ROLES] = val_roles,
	[V_WITNESS] = val_witness,
};
/* clang-format on */

static int
key_is_list(const struct config_key *k)
{
	return k->type == V_LISTEN || k->type == V_NETWORKS || k->type == V_TYPES ||
	       k->type == V_FACILITIES || k->type == V_PROGRAMS || k->type == V_HIDE;
}

/* The first line of a list key replaces the default; continuation lines append. */
static void
list_reset(struct config *cfg, struct zone *z, const struct config_key *k)
{
	switch (k->type) {
	case V_LISTEN:
		cfg->nlisten = 0;
		break;
	case V_NETWORKS:
		z->nnets = 0;
		break;
	case V_TYPES:
		cfg->nexport_types = 0;
		break;
	case V_FACILITIES:
		cfg->nfacilities = 0;
		break;
	case V_PROGRAMS:
		cfg->nexec_without_pty = 0;
		cfg->exec_without_pty_any = 0;
		break;
	case V_HIDE:
		cfg->nhide = 0;
		break;
	default:
		break;
	}
}

static int
key_find(enum sect sect, const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (config_keys[i].sect == sect && strcmp(config_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
key_set(struct parse *p, int ki, const char *value, int cont)
{
	const struct config_key *k = &config_keys[ki];
	struct zone *z = NULL;
	char why[WHY_MAX];
	void *field;

	if (k->sect == SECT_ZONE) {
		z = &p->cfg->zones[p->cfg->nzones - 1];
		field = k->type == V_NETWORKS ? (void *)z : (char *)z + k->off;
	} else
		field = (char *)p->cfg + k->off;
	if (*value == '\0') {
		fail(p, "key '%s': empty value", k->name);
		return 0;
	}
	if (!cont)
		list_reset(p->cfg, z, k);
	why[0] = '\0';
	if (value_fns[k->type](p, k, field, value, why) < 0) {
		fail(p, "key '%s': %s", k->name, why);
		return 0;
	}
	return 1;
}

/* inih 55 strips inline comments from key lines but not from continuation lines; strip them
 * here the same way (a ';' after a blank) so both kinds of line read alike. */
static const char *
strip_comment(const char *value, char *buf, size_t cap)
{
	size_t n = 0;
	int was_blank = 0;

	for (; value[n] && n + 1 < cap; n++) {
		if (was_blank && value[n] == ';')
			break;
		was_blank = isspace((unsigned char)value[n]);
		buf[n] = value[n];
	}
	if (value[n] && !(was_blank && value[n] == ';'))
		return NULL; /* cannot happen while cap exceeds inih's line length */
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	return buf;
}

/* Another name of the same setting (login_grace / login_grace_time) already given in this
 * section: its index, or -1. */
static int
key_alias_seen(const struct parse *p, int ki)
{
	for (size_t j = 0; j < NKEYS; j++)
		if ((int)j != ki && (p->keys_seen & (1ull << j)) &&
		    config_keys[j].sect == config_keys[ki].sect &&
		    config_keys[j].type == config_keys[ki].type && !key_is_list(&config_keys[ki]) &&
		    config_keys[j].off == config_keys[ki].off)
			return (int)j;
	return -1;
}

static int
config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	char buf[512];
	int ki;

	if (p->failed)
		return 0;
	/* The reader and inih must agree on what this line is; if not, refuse. */
	if (p->sect == SECT_NONE || p->cur == LINE_OTHER || strcmp(section, p->sect_text) != 0) {
		fail(p, "syntax error");
		return 0;
	}
	if (p->cur == LINE_CONT) {
		ki = p->last_key;
		if (ki < 0 || strcmp(name, config_keys[ki].name) != 0) {
			fail(p, "syntax error");
			return 0;
		}
		if (!key_is_list(&config_keys[ki])) {
			fail(p, "key '%s': continuation line (only lists may continue)", name);
			return 0;
		}
		if ((value = strip_comment(value, buf, sizeof(buf))) == NULL) {
			fail(p, "key '%s': line too long", name);
			return 0;
		}
		return key_set(p, ki, value, 1);
	}
	ki = key_find(p->sect, name);
	if (ki < 0) {
		p->last_key = -1;
		fail(p, "key '%s': unknown key in [%s]", shown(name, buf, sizeof(buf)),
		     sect_names[p->sect]);
		return 0;
	}
	if (p->keys_seen & (1ull << ki)) {
		fail(p, "key '%s': duplicate key", name);
		return 0;
	}
	if (key_alias_seen(p, ki) >= 0) {
		fail(p, "key '%s': duplicate key (also given as '%s')", name,
		     config_keys[key_alias_seen(p, ki)].name);
		return 0;
	}
	p->keys_seen |= 1ull << ki;
	p->last_key = ki;
	return key_set(p, ki, value, 0);
}

/* ---- sections and lines ---- */

/* A zone needs both of its keys; checked when the next section starts or at end of file. */
static void
section_end(struct parse *p)
{
	const struct zone *z;
	int line = p->lineno;

	if (p->sect != SECT_ZONE || p->failed)
		return;
	z = &p->cfg->zones[p->cfg->nzones - 1];
	p->lineno = p->sect_line;
	if (z->nnets == 0)
		fail(p, "zone '%s': missing key 'networks'", z->name);
	else if (z->area[0] == '\0')
		fail(p, "zone '%s': missing key 'area'", z->name);
	p->lineno = line;
}

static void
section_begin(struct parse *p, const char *text)
{
	struct config *cfg = p->cfg;
	char buf[80];
	enum sect s;
	size_t i;

	section_end(p);
	if (p->failed)
		return;
	if (strlen(text) > SECTION_TEXT_MAX) {
		fail(p, "unknown section '%s'", shown(text, buf, sizeof(buf)));
		return;
	}
	if (strcmp(text, "gateway") == 0)
		s = SECT_GATEWAY;
	else if (strcmp(text, "sandbox") == 0)
		s = SECT_SANDBOX;
	else if (strcmp(text, "airlock") == 0)
		s = SECT_AIRLOCK;
	else if (strcmp(text, "audit") == 0)
		s = SECT_AUDIT;
	else if (strncmp(text, "zone", 4) == 0 && is_blank(text[4]))
		s = SECT_ZONE;
	else {
		fail(p, "unknown section '%s'", shown(text, buf, sizeof(buf)));
		return;
	}
	if (s == SECT_ZONE) {
		const char *name = text + 4;
		struct zone *z;

		while (is_blank(*name))
			name++;
		if (!name_valid(name)) {
			fail(p, "invalid zone name '%s'", shown(name, buf, sizeof(buf)));
			return;
		}
		for (i = 0; i < cfg->nzones; i++) {
			if (strcmp(cfg->zones[i].name, name) == 0) {
				fail(p, "duplicate section '[zone %s]'", name);
				return;
			}
		}
		if (cfg->nzones >= CONFIG_MAX_ZONES) {
			fail(p, "more than %d zones", CONFIG_MAX_ZONES);
			return;
		}
		z = &cfg->zones[cfg->nzones++];
		memset(z, 0, sizeof(*z));
		memcpy(z->name, name, strlen(name) + 1);
	} else {
		if (p->sects_seen & (1u << s)) {
			fail(p, "duplicate section '[%s]'", text);
			return;
		}
		p->sects_seen |= 1u << s;
	}
	p->sect = s;
	memcpy(p->sect_text, text, strlen(text) + 1);
	p->sect_line = p->lineno;
	p->keys_seen = 0;
	p->last_key = -1;
}

/* "[name]" with only blanks or a comment after it. */
static void
lex_section(struct parse *p, const char *t)
{
	char text[SECTION_TEXT_MAX + 2], buf[80];
	const char *close = strchr(t, ']');
	const char *after;
	size_t n;

	if (!close) {
		fail(p, "expected ']'");
		return;
	}
	for (after = close + 1; isspace((unsigned char)*after); after++)
		;
	if (*after && *after != ';' && *after != '#') {
		fail(p, "text after section header '%s'", shown(after, buf, sizeof(buf)));
		return;
	}
	n = (size_t)(close - t - 1);
	if (n > SECTION_TEXT_MAX)
		n = SECTION_TEXT_MAX + 1; /* section_begin refuses it */
	memcpy(text, t + 1, n);
	text[n] = '\0';
	section_begin(p, text);
}

/* Mirrors inih's search for the delimiter: the first '=' or ':' not inside an inline comment
 * (a ';' after a blank). We accept only '='. */
static void
lex_key(struct parse *p, const char *t)
{
	int was_blank = 0;

	if (p->sect == SECT_NONE) {
		fail(p, "key outside any section");
		return;
	}
	for (; *t; t++) {
		if (*t == '=')
			return;
		if (*t == ':' || (was_blank && *t == ';'))
			break;
		was_blank = isspace((unsigned char)*t);
	}
	fail(p, "expected 'key = value'");
}

static void
lex_line(struct parse *p, const char *line)
{
	const char *t = line;

	if (p->lineno == 1 && strncmp(t, "\xef\xbb\xbf", 3) == 0)
		t += 3;
	line = t;
	while (isspace((unsigned char)*t))
		t++;
	p->cur = LINE_OTHER;
	if (*t == '\0' || *t == ';' || *t == '#') {
		/* blank or comment: ends any continuation */
	} else if (t != line) {
		/* inih treats an indented line after a key as its continuation, even across
		 * blank lines; we accept it only right below the key. */
		if (p->prev == LINE_KEY || p->prev == LINE_CONT)
			p->cur = LINE_CONT;
		else
			fail(p, "indented line that does not continue a value");
	} else if (*t == '[') {
		lex_section(p, t);
	} else {
		lex_key(p, t);
		p->cur = LINE_KEY;
	}
	p->prev = p->cur;
}

/* inih's fgets-style reader over the file buffer. Returns NULL (end of input) at the first
 * error so inih calls the handler no further. */
static char *
config_reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	const char *line, *nl;
	size_t n;

	if (p->failed || p->off >= p->len || num < 4)
		return NULL;
	line = p->buf + p->off;
	nl = memchr(line, '\n', p->len - p->off);
	n = nl ? (size_t)(nl - line) + 1 : p->len - p->off;
	p->off += n;
	p->lineno++;
	if (memchr(line, '\0', n)) {
		fail(p, "NUL byte in line");
		return NULL;
	}
	if (n >= (size_t)num - 1) {
		fail(p, "line longer than %d bytes (continue a list on an indented line)", num - 3);
		return NULL;
	}
	memcpy(str, line, n);
	str[n] = '\0';
	lex_line(p, str);
	return p->failed ? NULL : str;
}

/* ---- loading ---- */

static void
config_defaults(struct config *cfg)
{
	struct sockaddr_in sin;
	static const char *const types[] = {"csv", "tsv", "txt", "pdf", "png"};
	/* SPEC "The terminal is a display": the file-transfer programs are not in the sandbox. */
	static const char *const hidden[] = {"/usr/bin/scp",	 "/usr/bin/sftp",
					     "/usr/lib/openssh", "/usr/lib/sftp-server",
					     "/usr/bin/rsync",	 "/usr/bin/ssh"};
	size_t i;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(2222);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	memcpy(&cfg->listen[0].ss, &sin, sizeof(sin));
	cfg->listen[0].len = sizeof(sin);
	snprintf(cfg->listen[0].text, sizeof(cfg->listen[0].text), "0.0.0.0:2222");
	cfg->nlisten = 1;
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/wsgate");
	cfg->idle_timeout = 30 * MINUTE;
	cfg->max_sessions = 200;
	cfg->lockout_failures = 5;
	cfg->lockout_window = 15 * MINUTE;
	cfg->lockout_time = 15 * MINUTE;
	cfg->max_unauthenticated = 50;
	cfg->max_unauthenticated_per_source = 5;
	cfg->login_grace_time = 60;
	cfg->max_auth_tries = 6;
	cfg->memory_max = 4096 * MIB;
	cfg->pids_max = 256;
	cfg->file_size_max = 10240 * MIB;
	cfg->cpu_time_max = 12 * HOUR;
	cfg->tmp_size = 1024 * MIB;
	snprintf(cfg->exec_without_pty[0], sizeof(cfg->exec_without_pty[0]), "airlock");
	cfg->nexec_without_pty = 1;
	for (i = 0; i < nitems(hidden); i++)
		snprintf(cfg->hide[i], sizeof(cfg->hide[i]), "%s", hidden[i]);
	cfg->nhide = i;
	cfg->output_budget = 50 * MIB;
	cfg->input_budget = 5 * MIB;
	for (i = 0; i < nitems(types); i++)
		snprintf(cfg->export_types[i], sizeof(cfg->export_types[i]), "%s", types[i]);
	cfg->nexport_types = i;
	cfg->export_max_size = 50 * MIB;
	cfg->min_cell_count = 10;
	cfg->export_block_on_fail = 0;
	cfg->max_rows = 1000;
	cfg->import_require_checksum = 1;
	cfg->reviews_required = 1;
	cfg->import_max_size = 4096 * MIB;
	cfg->import_draft_ttl = 24 * HOUR;
	cfg->audit_record = 1u << ROLE_ANALYST | 1u << ROLE_ADMIN;
	cfg->audit_witness[0] = '\0';
}

/* The witness exists to outlive a rollback of state_dir, so it must not be inside it. */
static int
config_witness_outside(const struct config *cfg)
{
	size_t n = strlen(cfg->state_dir);

	if (cfg->audit_witness[0] == '\0')
		return 0;
	while (n > 1 && cfg->state_dir[n - 1] == '/')
		n--;
	if (strncmp(cfg->audit_witness, cfg->state_dir, n) == 0 &&
	    (cfg->audit_witness[n] == '/' || cfg->audit_witness[n] == '\0'))
		return -1;
	return 0;
}

/* Reads the whole file (a regular file, at most CONFIG_FILE_MAX bytes) into a NUL-terminated
 * buffer. The policy decides who may connect, so a file that someone other than root or the
 * caller could have written is refused, as OpenSSH does for authorized_keys. */
static int
config_read(const char *path, char **bufp, size_t *lenp, char *why, size_t whylen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	ssize_t r;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return why_set(why, whylen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & S_IWOTH) {
		snprintf(why, whylen, "%s: writable by others", path);
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(why, whylen, "%s: owned by uid %u, not by root or the caller", path,
			 (unsigned)st.st_uid);
		goto out;
	}
	/* Size the buffer from st_size but read to EOF: the file may change under us. A full
	 * buffer means it grew, and the buffer then grows up to the limit. */
	cap = (st.st_size >= 0 && (uint64_t)st.st_size <= CONFIG_FILE_MAX) ? (size_t)st.st_size + 1
									   : CONFIG_FILE_MAX + 1;
	if ((buf = malloc(cap + 1)) == NULL) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		goto out;
	}
	for (;;) {
		if (len == cap) {
			char *nbuf;

			if (cap > CONFIG_FILE_MAX) {
				snprintf(why, whylen, "%s: larger than %u bytes", path,
					 CONFIG_FILE_MAX);
				goto out;
			}
			cap = cap > CONFIG_FILE_MAX / 2 ? CONFIG_FILE_MAX + 1 : cap * 2;
			if ((nbuf = realloc(buf, cap + 1)) == NULL) {
				snprintf(why, whylen, "%s: %s", path, strerror(errno));
				goto out;
			}
			buf = nbuf;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	if (close(fd) < 0 && ret == 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		free(*bufp);
		*bufp = NULL;
		ret = -1;
	}
	return ret;
}

int
config_load(const char *path, struct config **out, char *why, size_t whylen)
{
	struct config *cfg = NULL;
	struct parse p;
	char *buf = NULL;
	char dummy[1];
	size_t len = 0;
	int r, ret = -1;

	if (!why || whylen == 0) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	why[0] = '\0';
	if (!path || !out)
		return why_set(why, whylen, "config_load: invalid argument");
	*out = NULL;
	if (strlen(path) >= sizeof(cfg->path))
		return why_set(why, whylen, "%.64s...: path too long", path);
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		return why_set(why, whylen, "%s: %s", path, strerror(errno));
	memcpy(cfg->path, path, strlen(path) + 1);
	config_defaults(cfg);
	if (config_read(path, &buf, &len, why, whylen) < 0)
		goto out;

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.path = path;
	p.buf = buf;
	p.len = len;
	p.last_key = -1;
	p.why = why;
	p.whylen = whylen;
	r = ini_parse_stream(config_reader, &p, config_handler, &p);
	if (!p.failed && r < 0) {
		snprintf(why, whylen, "%s: out of memory", path);
		goto out;
	}
	if (!p.failed && r > 0) {
		p.lineno = r;
		fail(&p, "syntax error");
	}
	if (p.failed)
		goto out;
	section_end(&p);
	if (p.failed)
		goto out;
	if (config_witness_outside(cfg) < 0) {
		snprintf(why, whylen,
			 "%s: [audit] witness %s is inside state_dir %s; it must be "
			 "outside, or a rollback of the state takes it along",
			 path, cfg->audit_witness, cfg->state_dir);
		goto out;
	}
	if (!p.host_key_set && snprintf(cfg->host_key, sizeof(cfg->host_key), "%s/host_ed25519",
					cfg->state_dir) >= (int)sizeof(cfg->host_key)) {
		snprintf(why, whylen, "%s: state_dir too long", path);
		goto out;
	}
	*out = cfg;
	cfg = NULL;
	ret = 0;
out:
	free(buf);
	free(cfg);
	return ret;
}

void
config_free(struct config *cfg)
{
	free(cfg);
}
