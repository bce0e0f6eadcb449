/*
 * wsgate.conf (SPEC "Configuration"), parsed with libinih. Every key is validated; unknown keys,
 * duplicate keys or sections, and malformed values are errors naming file:line and key.
 * A config is immutable once loaded: SIGHUP loads a new one and swaps it only if it is valid.
 */
#ifndef WSGATE_CONFIG_H
#define WSGATE_CONFIG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/names.h"

#define CONFIG_MAX_LISTEN 16
#define CONFIG_MAX_ZONES 64
#define CONFIG_MAX_NETS 64 /* per zone */
#define CONFIG_MAX_TYPES 32
#define CONFIG_MAX_FACILITIES 256
#define CONFIG_MAX_PROGRAMS 32 /* exec_without_pty */
#define CONFIG_MAX_HIDE 32
#define CONFIG_BUDGET_NONE UINT64_MAX /* output_budget / input_budget = none */

struct cidr {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network address, host bits cleared */
	unsigned prefix;  /* 0..32 or 0..128 */
};

struct zone {
	char name[NAME_MAX_LEN + 1];
	char area[NAME_MAX_LEN + 1];
	struct cidr nets[CONFIG_MAX_NETS];
	size_t nnets;
};

struct listen_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[64]; /* as written, for logs */
};

struct config {
	char path[4096];
	/* [gateway] */
	struct listen_addr listen[CONFIG_MAX_LISTEN];
	size_t nlisten;
	char state_dir[4096];
	char host_key[4096];
	uint64_t idle_timeout;	   /* seconds; default 30m */
	uint32_t max_sessions;	   /* default 200 */
	uint32_t lockout_failures; /* default 5 */
	uint64_t lockout_window;   /* seconds; default 15m */
	uint64_t lockout_time;	   /* seconds; default 15m */
	/* SPEC "Limits under attack": connections not yet logged in, counted apart from
	 * max_sessions so that they never crowd out working sessions. */
	uint32_t max_unauthenticated;		 /* all sources together; default 50 */
	uint32_t max_unauthenticated_per_source; /* per address (IPv6: per /64); default 5 */
	uint64_t login_grace_time; /* seconds, key login_grace (or login_grace_time); default 60s */
	uint32_t max_auth_tries;   /* per connection; default 6 (wsgate extension) */
	/* [zone NAME] */
	struct zone zones[CONFIG_MAX_ZONES];
	size_t nzones;
	/* [sandbox] */
	uint64_t memory_max;	/* bytes; default 4G */
	uint32_t pids_max;	/* default 256 */
	uint64_t file_size_max; /* bytes; default 10G */
	uint64_t cpu_time_max;	/* seconds; default 12h */
	uint64_t tmp_size;	/* bytes of the private /tmp; default 1G (wsgate extension) */
	/* Bytes per project area, enforced by the file system (transfer/quota.h); 0 (the default,
	 * key absent): no limit. */
	uint64_t area_quota;
	/* Programs a command without a pty may run (SPEC "The terminal is a display"); default
	 * "airlock". exec_without_pty_any: the list was "*", the rule is off. */
	char exec_without_pty[CONFIG_MAX_PROGRAMS][64];
	size_t nexec_without_pty;
	int exec_without_pty_any;
	/* Absolute host paths that do not exist inside a sandbox; default the transfer programs. */
	char hide[CONFIG_MAX_HIDE][256];
	size_t nhide;
	uint64_t
	    output_budget; /* bytes per account per UTC day; default 50M; or CONFIG_BUDGET_NONE */
	uint64_t input_budget; /* default 5M */
	/* [airlock] */
	char export_types[CONFIG_MAX_TYPES][16];
	size_t nexport_types;
	uint64_t export_max_size; /* default 50M */
	uint32_t min_cell_count;  /* default 10 */
	char facilities[CONFIG_MAX_FACILITIES][128];
	size_t nfacilities;
	int export_block_on_fail; /* default 0 */
	/* A table with more data rows than this is possibly individual-level: the `individual`
	 * check warns (SPEC "Publication checks"). Default 1000. */
	uint32_t max_rows;
	/* An upload to /inbox/NAME is queued only if a NAME.sha256 declared its hash first: the one
	 * way to tell an upload the client cut short (sftp's Ctrl-C still sends CLOSE) from a whole
	 * one. Default 1 (wsgate extension; docs/sftp.md). */
	int import_require_checksum;
	/* Approvals by different admins, neither the requester, before a request is approved;
	 * one reject rejects (SPEC "The airlock"). 1 or 2; default 1. */
	uint32_t reviews_required;
	uint64_t import_max_size;  /* bytes; an upload is cut off past it; default 4G */
	uint64_t import_draft_ttl; /* seconds an upload without a sidecar waits; default 24h */
	/* [audit] */
	unsigned audit_record;	 /* bit 1 << enum role per recorded role; default analyst admin */
	char audit_witness[4096]; /* append-only witness file outside state_dir; "" = none */
};

/* Loads and validates path. Returns 0, or -1 with a one-line error in why:
 * "wsgate.conf:12: key 'idle_timeout': invalid duration 'abc'". The struct is heap-allocated
 * because of its size; free with config_free. */
int config_load(const char *path, struct config **out, char *why, size_t whylen);
void config_free(struct config *cfg);

/* Parses one CIDR ("10.0.0.0/8", "2001:db8::/32", or a bare address = /32 or /128). */
int cidr_parse(const char *text, struct cidr *out);
/* Does the address match? An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 networks. */
int cidr_match(const struct cidr *net, const struct sockaddr *sa);
/* The zone the address belongs to (first in file order), or NULL. */
const struct zone *config_zone_for(const struct config *cfg, const struct sockaddr *sa);
const struct zone *config_zone_by_name(const struct config *cfg, const char *name);

#endif
