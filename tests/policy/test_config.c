/*
 * Unit tests of policy/config.c: every error path of config_load, the defaults, the SPEC
 * example, listen parsing, and CIDR parsing and matching. Each case writes a real file.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "common/nitems.h"
#include "policy/config.h"
#include "policy/role.h"

static char tmpdir[] = "/tmp/wsgate-test-config.XXXXXX";
static char conf[4096];

static int
group_setup(void **state)
{
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(conf, sizeof(conf), "%s/wsgate.conf", tmpdir);
	return 0;
}

static int
group_teardown(void **state)
{
	unlink(conf);
	return rmdir(tmpdir);
}

static void
write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static int
load_text(const char *text, struct config **cfg, char *why, size_t whylen)
{
	write_file(conf, text, strlen(text));
	*cfg = NULL;
	return config_load(conf, cfg, why, whylen);
}

static struct config *
load_ok(const char *text)
{
	struct config *cfg;
	char why[512];

	if (load_text(text, &cfg, why, sizeof(why)) != 0)
		fail_msg("unexpected error: %s\n--- input ---\n%s", why, text);
	assert_non_null(cfg);
	return cfg;
}

/* The error must be exactly one line, "PATH:LINE: ...", and contain what. */
static void
load_fail(const char *text, int line, const char *what)
{
	struct config *cfg = (struct config *)0x1;
	char why[512], prefix[4200];

	if (load_text(text, &cfg, why, sizeof(why)) == 0)
		fail_msg("loaded, expected error '%s'\n--- input ---\n%s", what, text);
	assert_null(cfg);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", conf, line);
	if (strncmp(why, prefix, strlen(prefix)) != 0 || !strstr(why, what) || strchr(why, '\n'))
		fail_msg("error '%s', expected '%s...%s'", why, prefix, what);
}

/* ---- defaults and the SPEC example ---- */

static void
test_defaults(void **state)
{
	struct config *cfg = load_ok("; nothing but a comment\n\n");
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&cfg->listen[0].ss;

	assert_string_equal(cfg->path, conf);
	assert_int_equal(cfg->nlisten, 1);
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 2222);
	assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_ANY));
	assert_string_equal(cfg->listen[0].text, "0.0.0.0:2222");
	assert_string_equal(cfg->state_dir, "/var/lib/wsgate");
	assert_string_equal(cfg->host_key, "/var/lib/wsgate/host_ed25519");
	assert_int_equal(cfg->idle_timeout, 1800);
	assert_int_equal(cfg->max_sessions, 200);
	assert_int_equal(cfg->lockout_failures, 5);
	assert_int_equal(cfg->lockout_window, 900);
	assert_int_equal(cfg->lockout_time, 900);
	assert_int_equal(cfg->login_grace_time, 60);
	assert_int_equal(cfg->max_auth_tries, 6);
	assert_int_equal(cfg->nzones, 0);
	assert_int_equal(cfg->memory_max, 4ull << 30);
	assert_int_equal(cfg->pids_max, 256);
	assert_int_equal(cfg->file_size_max, 10ull << 30);
	assert_int_equal(cfg->cpu_time_max, 12 * 3600);
	assert_int_equal(cfg->tmp_size, 1ull << 30);
	assert_int_equal(cfg->area_quota, 0); /* no limit unless configured */
	assert_int_equal(cfg->nexport_types, 5);
	assert_string_equal(cfg->export_types[0], "csv");
	assert_string_equal(cfg->export_types[1], "tsv");
	assert_string_equal(cfg->export_types[2], "txt");
	assert_string_equal(cfg->export_types[3], "pdf");
	assert_string_equal(cfg->export_types[4], "png");
	assert_int_equal(cfg->export_max_size, 50ull << 20);
	assert_int_equal(cfg->min_cell_count, 10);
	assert_int_equal(cfg->nfacilities, 0);
	assert_int_equal(cfg->export_block_on_fail, 0);
	config_free(cfg);

	cfg = load_ok("");
	assert_int_equal(cfg->max_sessions, 200);
	config_free(cfg);
	config_free(NULL);
}

static const char spec_example[] =
    "[gateway]\n"
    "listen = 0.0.0.0:2222          ; several allowed, space-separated; [::]:2222 for IPv6\n"
    "state_dir = /var/lib/wsgate     ; LMDB, quarantine, work areas, audit\n"
    "host_key = /var/lib/wsgate/host_ed25519\n"
    "idle_timeout = 30m\n"
    "max_sessions = 200\n"
    "lockout_failures = 5\n"
    "lockout_window = 15m\n"
    "lockout_time = 15m\n"
    "\n"
    "[zone onsite]\n"
    "networks = 10.10.0.0/24\n"
    "area = onsite\n"
    "\n"
    "[zone acme-office]\n"
    "networks = 203.0.113.0/28 2001:db8:1::/48\n"
    "area = remote\n"
    "\n"
    "[sandbox]\n"
    "memory_max = 4G\n"
    "pids_max = 256\n"
    "file_size_max = 10G\n"
    "cpu_time_max = 12h\n"
    "\n"
    "[airlock]\n"
    "export_types = csv tsv txt pdf png\n"
    "export_max_size = 50M\n"
    "min_cell_count = 10\n"
    "facilities = \"Hospital A\" H001\n"
    "export_block_on_fail = no\n";

static void
test_spec_example(void **state)
{
	struct config *cfg = load_ok(spec_example);
	const struct zone *z;

	assert_int_equal(cfg->nlisten, 1);
	assert_string_equal(cfg->listen[0].text, "0.0.0.0:2222");
	assert_string_equal(cfg->state_dir, "/var/lib/wsgate");
	assert_string_equal(cfg->host_key, "/var/lib/wsgate/host_ed25519");
	assert_int_equal(cfg->nzones, 2);
	z = config_zone_by_name(cfg, "onsite");
	assert_ptr_equal(z, &cfg->zones[0]);
	assert_string_equal(z->area, "onsite");
	assert_int_equal(z->nnets, 1);
	assert_int_equal(z->nets[0].family, AF_INET);
	assert_int_equal(z->nets[0].prefix, 24);
	z = config_zone_by_name(cfg, "acme-office");
	assert_ptr_equal(z, &cfg->zones[1]);
	assert_string_equal(z->area, "remote");
	assert_int_equal(z->nnets, 2);
	assert_int_equal(z->nets[1].family, AF_INET6);
	assert_int_equal(z->nets[1].prefix, 48);
	assert_null(config_zone_by_name(cfg, "nowhere"));
	assert_int_equal(cfg->nfacilities, 2);
	assert_string_equal(cfg->facilities[0], "Hospital A");
	assert_string_equal(cfg->facilities[1], "H001");
	assert_int_equal(cfg->memory_max, 4ull << 30);
	config_free(cfg);
}

/* The shipped example must load as it is. */
static void
test_deploy_example(void **state)
{
	struct config *cfg = NULL;
	char why[512];

	if (config_load(WSGATE_CONF_EXAMPLE, &cfg, why, sizeof(why)) != 0)
		fail_msg("%s", why);
	assert_int_equal(cfg->nzones, 2);
	config_free(cfg);
}

/* area_quota: a size of at least 1M; whether the file system can enforce it is decided at the
 * daemon's start (tests/e2e/test_quota.py), not here. */
static void
test_area_quota(void **state)
{
	struct config *cfg = load_ok("[sandbox]\narea_quota = 20G\n");

	(void)state;
	assert_int_equal(cfg->area_quota, 20ull << 30);
	config_free(cfg);
	load_fail("[sandbox]\narea_quota = 512K\n", 2, "key 'area_quota'");
	load_fail("[sandbox]\narea_quota = lots\n", 2, "key 'area_quota'");
	load_fail("[gateway]\narea_quota = 1G\n", 2, "area_quota");
}

static void
test_all_keys(void **state)
{
	struct config *cfg = load_ok("[gateway]\n"
				     "listen = 127.0.0.1:2022 [::1]:2022\n"
				     "state_dir = /srv/wsgate\n"
				     "idle_timeout = 45s\n"
				     "max_sessions = 100000\n"
				     "lockout_failures = 1000\n"
				     "lockout_window = 1h\n"
				     "lockout_time = 7d\n"
				     "login_grace_time = 30s\n"
				     "max_auth_tries = 3\n"
				     "[sandbox]\n"
				     "memory_max = 512M\n"
				     "pids_max = 1000000\n"
				     "file_size_max = 512K\n"
				     "cpu_time_max = 90\n"
				     "tmp_size = 2G\n"
				     "[airlock]\n"
				     "export_types = csv r2\n"
				     "export_max_size = 1\n"
				     "min_cell_count = 1\n"
				     "export_block_on_fail = yes\n");

	assert_int_equal(cfg->nlisten, 2);
	assert_string_equal(cfg->state_dir, "/srv/wsgate");
	/* host_key follows state_dir when not given */
	assert_string_equal(cfg->host_key, "/srv/wsgate/host_ed25519");
	assert_int_equal(cfg->idle_timeout, 45);
	assert_int_equal(cfg->max_sessions, 100000);
	assert_int_equal(cfg->lockout_failures, 1000);
	assert_int_equal(cfg->lockout_window, 3600);
	assert_int_equal(cfg->lockout_time, 7 * 86400);
	assert_int_equal(cfg->login_grace_time, 30);
	assert_int_equal(cfg->max_auth_tries, 3);
	assert_int_equal(cfg->memory_max, 512ull << 20);
	assert_int_equal(cfg->pids_max, 1000000);
	assert_int_equal(cfg->file_size_max, 512 * 1024);
	assert_int_equal(cfg->cpu_time_max, 90);
	assert_int_equal(cfg->tmp_size, 2ull << 30);
	assert_int_equal(cfg->nexport_types, 2);
	assert_string_equal(cfg->export_types[1], "r2");
	assert_int_equal(cfg->export_max_size, 1);
	assert_int_equal(cfg->min_cell_count, 1);
	assert_int_equal(cfg->export_block_on_fail, 1);
	config_free(cfg);
}

/* ---- file-level errors ---- */

static void
test_file_errors(void **state)
{
	struct config *cfg = (struct config *)0x1;
	char why[512], want[600], path[300];

	snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
	assert_int_equal(config_load(path, &cfg, why, sizeof(why)), -1);
	assert_null(cfg);
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
	assert_string_equal(why, want);

	assert_int_equal(config_load(tmpdir, &cfg, why, sizeof(why)), -1);
	snprintf(want, sizeof(want), "%s: not a regular file", tmpdir);
	assert_string_equal(why, want);

	write_file(conf, "", 0);
	assert_int_equal(chmod(conf, 0666), 0);
	assert_int_equal(config_load(conf, &cfg, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "writable by others"));
	assert_int_equal(chmod(conf, 0600), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(conf, 12345, 12345), 0);
		assert_int_equal(config_load(conf, &cfg, why, sizeof(why)), -1);
		assert_non_null(strstr(why, "owned by uid 12345"));
		assert_int_equal(chown(conf, 0, 0), 0);
	}

	/* st_size 0 (a /proc file): read to EOF regardless, growing the buffer */
	assert_int_equal(config_load("/proc/self/status", &cfg, why, sizeof(why)), -1);
	assert_string_equal(why, "/proc/self/status:1: key outside any section");

	/* a NULL or tiny error buffer is tolerated */
	assert_int_equal(config_load(path, &cfg, NULL, 0), -1);
	assert_int_equal(config_load(path, &cfg, why, 1), -1);
	assert_string_equal(why, "");
}

static void
test_file_too_large(void **state)
{
	size_t n = (1u << 20) + 10;
	char *big = malloc(n + 1);
	struct config *cfg;
	char why[512];

	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (i % 50 == 49) ? '\n' : ';';
	big[n] = '\0';
	assert_int_equal(load_text(big, &cfg, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "larger than"));
	free(big);
}

/* ---- structure errors ---- */

static void
test_sections(void **state)
{
	load_fail("[gateway]\n[bogus]\n", 2, "unknown section 'bogus'");
	load_fail("[Gateway]\n", 1, "unknown section 'Gateway'");
	load_fail("[ gateway ]\n", 1, "unknown section ' gateway '");
	load_fail("[zone]\n", 1, "unknown section 'zone'");
	load_fail("[zonex]\n", 1, "unknown section 'zonex'");
	load_fail("[zone Bad]\nnetworks = 10.0.0.0/8\narea = a\n", 1, "invalid zone name 'Bad'");
	load_fail("[zone a/b]\n", 1, "invalid zone name");
	load_fail("[zone aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n", 1, "invalid zone name");
	load_fail("[zone a                                                    junk]\n", 1,
		  "unknown section");
	load_fail("[gateway]\nmax_sessions = 5\n[gateway]\n", 3, "duplicate section '[gateway]'");
	load_fail("[sandbox]\n[airlock]\n[sandbox]\n", 3, "duplicate section '[sandbox]'");
	load_fail("[zone a]\nnetworks = 10.0.0.0/8\narea = x\n[zone a]\n", 4,
		  "duplicate section '[zone a]'");
	load_fail("[gateway\n", 1, "expected ']'");
	load_fail("[gateway] max_sessions = 3\n", 1, "text after section header");
	load_fail("max_sessions = 3\n[gateway]\n", 1, "key outside any section");
}

static void
test_zone_requirements(void **state)
{
	load_fail("[zone a]\narea = x\n[sandbox]\n", 1, "zone 'a': missing key 'networks'");
	load_fail("[sandbox]\n\n[zone a]\nnetworks = 10.0.0.0/8\n", 3,
		  "zone 'a': missing key 'area'");
	load_fail("[zone lonely]\n", 1, "zone 'lonely': missing key 'networks'");
	load_fail("[zone a]\nnetworks = 10.0.0.0/8\narea = Remote\n", 3,
		  "key 'area': invalid area name 'Remote'");
	load_fail("[zone a]\nnetworks = 10.0.0.0/8\narea = a b\n", 3, "invalid area name");
	load_fail("[zone a]\nnetworks = 10.0.0.0/8\narea = x\nlisten = 0.0.0.0:22\n", 4,
		  "key 'listen': unknown key in [zone]");
}

static void
test_zone_limits(void **state)
{
	char *buf = malloc(64 * 1024);
	size_t n = 0;
	int i;

	assert_non_null(buf);
	for (i = 0; i < CONFIG_MAX_ZONES + 1; i++)
		n += (size_t)sprintf(buf + n, "[zone z%d]\nnetworks = 10.%d.0.0/16\narea = a\n", i,
				     i);
	load_fail(buf, 3 * CONFIG_MAX_ZONES + 1, "more than 64 zones");

	n = (size_t)sprintf(buf, "[zone a]\narea = a\nnetworks = 10.0.0.0/32\n");
	for (i = 1; i < CONFIG_MAX_NETS + 1; i++)
		n += (size_t)sprintf(buf + n, "  10.0.%d.0/32\n", i);
	load_fail(buf, 3 + CONFIG_MAX_NETS, "more than 64 networks");
	free(buf);
}

static void
test_keys(void **state)
{
	load_fail("[gateway]\nbogus = 1\n", 2, "key 'bogus': unknown key in [gateway]");
	load_fail("[sandbox]\nlisten = 0.0.0.0:22\n", 2, "key 'listen': unknown key in [sandbox]");
	load_fail("[gateway]\nIdle_Timeout = 30m\n", 2, "unknown key");
	load_fail("[gateway]\n= 30m\n", 2, "key '': unknown key");
	load_fail("[gateway]\nidle_timeout = 30m\nmax_sessions = 3\nidle_timeout = 31m\n", 4,
		  "key 'idle_timeout': duplicate key");
	load_fail("[airlock]\nfacilities = A\nfacilities = B\n", 3,
		  "key 'facilities': duplicate key");
	load_fail("[zone a]\nnetworks = 10.0.0.0/8\nnetworks = 10.0.0.0/8\narea = x\n", 3,
		  "key 'networks': duplicate key");
	load_fail("[gateway]\nidle_timeout =\n", 2, "key 'idle_timeout': empty value");
	load_fail("[gateway]\nidle_timeout = ; comment\n", 2, "empty value");
}

/* Lines inih would accept but that we refuse. */
static void
test_malformed_lines(void **state)
{
	struct config *cfg;
	char why[512], line[400];

	load_fail("[gateway]\nmax_sessions\n", 2, "expected 'key = value'");
	load_fail("[gateway]\nmax_sessions 3\n", 2, "expected 'key = value'");
	load_fail("[gateway]\nmax_sessions: 3\n", 2, "expected 'key = value'");
	load_fail("[gateway]\nmax_sessions ; = 3\n", 2, "expected 'key = value'");
	load_fail("[gateway]\n  max_sessions = 3\n", 2, "indented line");
	load_fail("[gateway]\nmax_sessions = 3\n\n  lockout_time = 1m\n", 4, "indented line");
	load_fail("[gateway]\nmax_sessions = 3\n  4\n", 3, "key 'max_sessions': continuation line");

	/* A NUL must not hide the rest of the line from us. */
	write_file(conf, "[gateway]\nmax_sessions = 3\0junk\n", 33);
	assert_int_equal(config_load(conf, &cfg, why, sizeof(why)), -1);
	assert_non_null(strstr(why, ":2: NUL byte"));

	/* inih would split a long line and read its tail as a new line. */
	memset(line, 'x', sizeof(line));
	memcpy(line, "[airlock]\nfacilities = ", 23);
	memcpy(line + 210, "\nmin_cell_count = 1\n", 21);
	load_fail(line, 2, "line longer than");

	/* CRLF and a UTF-8 BOM are fine */
	cfg = load_ok("\xef\xbb\xbf[gateway]\r\nmax_sessions = 7\r\n");
	assert_int_equal(cfg->max_sessions, 7);
	config_free(cfg);
	cfg = load_ok("\xef\xbb\xbf\n[gateway]\nmax_sessions = 7");
	assert_int_equal(cfg->max_sessions, 7);
	config_free(cfg);
	/* indented comments, '#' comments, inline comments */
	cfg = load_ok("# c\n  ; c\n[gateway] ; c\nmax_sessions = 8 ; c\n\t# c\n");
	assert_int_equal(cfg->max_sessions, 8);
	config_free(cfg);
}

static void
test_continuation(void **state)
{
	struct config *cfg = load_ok("[gateway]\n"
				     "listen = 127.0.0.1:1\n"
				     "\t127.0.0.1:2 ; second\n"
				     "  [::1]:3\n"
				     "[airlock]\n"
				     "facilities = \"Hospital A\"\n"
				     "    \"Clinic B\" C002\n"
				     "[zone z]\n"
				     "networks = 10.0.0.0/8\n"
				     "  192.168.0.0/16\n"
				     "area = a\n");

	assert_int_equal(cfg->nlisten, 3);
	assert_string_equal(cfg->listen[2].text, "[::1]:3");
	assert_int_equal(cfg->nfacilities, 3);
	assert_string_equal(cfg->facilities[1], "Clinic B");
	assert_int_equal(cfg->zones[0].nnets, 2);
	config_free(cfg);
	load_fail("[airlock]\nfacilities = A\n\n  B\n", 4, "indented line");
}

/* ---- values ---- */

static void
test_durations(void **state)
{
	load_fail("[gateway]\nidle_timeout = abc\n", 2,
		  "key 'idle_timeout': invalid duration 'abc'");
	load_fail("[gateway]\nidle_timeout = 5x\n", 2, "invalid duration '5x'");
	load_fail("[gateway]\nidle_timeout = -1\n", 2, "invalid duration '-1'");
	load_fail("[gateway]\nidle_timeout = 1.5m\n", 2, "invalid duration '1.5m'");
	load_fail("[gateway]\nidle_timeout = 30 m\n", 2, "invalid duration '30 m'");
	load_fail("[gateway]\nidle_timeout = 99999999999999999999d\n", 2, "invalid duration");
	load_fail("[gateway]\nidle_timeout = 999999999999999999d\n", 2, "invalid duration");
	load_fail("[gateway]\nidle_timeout = 0\n", 2, "out of range 1s..30d");
	load_fail("[gateway]\nidle_timeout = 31d\n", 2, "out of range");
	load_fail("[gateway]\nlogin_grace_time = 2h\n", 2, "key 'login_grace_time': duration");
	load_fail("[sandbox]\ncpu_time_max = 366d\n", 2, "key 'cpu_time_max'");
	load_fail("[gateway]\nlockout_window = 0s\n", 2, "key 'lockout_window'");
	load_fail("[gateway]\nlockout_time = 1y\n", 2, "key 'lockout_time'");
}

/* SPEC "Limits under attack": the pre-authentication caps and login_grace, which is also
 * accepted under its older name login_grace_time, but only one of the two. */
static void
test_preauth_limits(void **state)
{
	struct config *cfg;

	cfg = load_ok("[gateway]\n");
	assert_int_equal(cfg->max_unauthenticated, 50);
	assert_int_equal(cfg->max_unauthenticated_per_source, 5);
	assert_int_equal(cfg->login_grace_time, 60);
	config_free(cfg);
	cfg = load_ok("[gateway]\nmax_unauthenticated = 7\nmax_unauthenticated_per_source = 2\n"
		      "login_grace = 45s\n");
	assert_int_equal(cfg->max_unauthenticated, 7);
	assert_int_equal(cfg->max_unauthenticated_per_source, 2);
	assert_int_equal(cfg->login_grace_time, 45);
	config_free(cfg);
	cfg = load_ok("[gateway]\nlogin_grace_time = 2m\n");
	assert_int_equal(cfg->login_grace_time, 120);
	config_free(cfg);
	load_fail("[gateway]\nlogin_grace = 30s\nlogin_grace_time = 30s\n", 3,
		  "key 'login_grace_time': duplicate key (also given as 'login_grace')");
	load_fail("[gateway]\nlogin_grace_time = 30s\nlogin_grace = 30s\n", 3,
		  "key 'login_grace': duplicate key (also given as 'login_grace_time')");
	load_fail("[gateway]\nlogin_grace = 0s\n", 2, "key 'login_grace'");
	load_fail("[gateway]\nlogin_grace = 2h\n", 2, "key 'login_grace'");
	load_fail("[gateway]\nmax_unauthenticated = 0\n", 2, "key 'max_unauthenticated'");
	load_fail("[gateway]\nmax_unauthenticated_per_source = 0\n", 2,
		  "key 'max_unauthenticated_per_source'");
	load_fail("[gateway]\nmax_unauthenticated = many\n", 2, "key 'max_unauthenticated'");
	load_fail("[sandbox]\nmax_unauthenticated = 5\n", 2, "unknown key in [sandbox]");
}

static void
test_sizes(void **state)
{
	load_fail("[sandbox]\nmemory_max = 4X\n", 2, "key 'memory_max': invalid size '4X'");
	load_fail("[sandbox]\nmemory_max = 4g\n", 2, "invalid size");
	load_fail("[sandbox]\nmemory_max = 4GB\n", 2, "invalid size");
	load_fail("[sandbox]\nmemory_max = 512K\n", 2, "out of range 1M..64T");
	load_fail("[sandbox]\nmemory_max = 99999999999999999999\n", 2, "invalid size");
	load_fail("[sandbox]\nmemory_max = 17179869184T\n", 2, "invalid size");
	load_fail("[sandbox]\nfile_size_max = 65T\n", 2, "out of range");
	load_fail("[sandbox]\ntmp_size = 0\n", 2, "key 'tmp_size'");
	load_fail("[airlock]\nexport_max_size = 0\n", 2, "key 'export_max_size'");
	load_fail("[airlock]\nexport_max_size = 50 M\n", 2, "invalid size");
}

static void
test_integers(void **state)
{
	static const char *const bad[] = {"0",
					  "100001",
					  "+5",
					  "-1",
					  "05",
					  "4294967296",
					  "12a",
					  "1e3",
					  "0x10",
					  "1 2",
					  "99999999999999999999"};
	char text[128];
	struct config *cfg;

	for (size_t i = 0; i < nitems(bad); i++) {
		snprintf(text, sizeof(text), "[gateway]\nmax_sessions = %s\n", bad[i]);
		load_fail(text, 2, "key 'max_sessions'");
	}
	load_fail("[gateway]\nlockout_failures = 1001\n", 2, "1001 out of range 1..1000");
	load_fail("[gateway]\nmax_auth_tries = 0\n", 2, "key 'max_auth_tries'");
	load_fail("[sandbox]\npids_max = 1000001\n", 2, "key 'pids_max'");
	load_fail("[airlock]\nmin_cell_count = 0\n", 2, "key 'min_cell_count'");
	load_fail("[airlock]\nmin_cell_count = 1000001\n", 2, "key 'min_cell_count'");
	cfg = load_ok("[gateway]\nmax_sessions = 1\n[airlock]\nmin_cell_count = 1000000\n");
	assert_int_equal(cfg->max_sessions, 1);
	assert_int_equal(cfg->min_cell_count, 1000000);
	config_free(cfg);
}

static void
test_booleans(void **state)
{
	static const struct {
		const char *text;
		int val;
	} ok[] = {{"yes", 1}, {"no", 0}, {"true", 1}, {"false", 0}, {"on", 1},
		  {"off", 0}, {"1", 1},	 {"0", 0},    {"YES", 1},   {"Off", 0}};
	static const char *const bad[] = {"maybe", "2", "y", "yess", "-1", "\"yes\""};
	char text[128];

	for (size_t i = 0; i < nitems(ok); i++) {
		struct config *cfg;

		snprintf(text, sizeof(text), "[airlock]\nexport_block_on_fail = %s\n", ok[i].text);
		cfg = load_ok(text);
		assert_int_equal(cfg->export_block_on_fail, ok[i].val);
		config_free(cfg);
	}
	for (size_t i = 0; i < nitems(bad); i++) {
		snprintf(text, sizeof(text), "[airlock]\nexport_block_on_fail = %s\n", bad[i]);
		load_fail(text, 2, "key 'export_block_on_fail': invalid boolean");
	}
}

static void
test_paths(void **state)
{
	static const char *const bad[] = {"relative/dir", "/",	 "/a/../b", "/a/./b", "/a//b",
					  "/a/",	  "./x", "/a/..",   "~/x",    "/a\x01/b"};
	char text[128];
	struct config *cfg;

	for (size_t i = 0; i < nitems(bad); i++) {
		snprintf(text, sizeof(text), "[gateway]\nstate_dir = %s\n", bad[i]);
		load_fail(text, 2, "key 'state_dir'");
		snprintf(text, sizeof(text), "[gateway]\nhost_key = %s\n", bad[i]);
		load_fail(text, 2, "key 'host_key'");
	}
	/* an explicit host_key wins over the one derived from state_dir, in either order */
	cfg = load_ok("[gateway]\nhost_key = /etc/wsgate/key\nstate_dir = /srv/ws\n");
	assert_string_equal(cfg->host_key, "/etc/wsgate/key");
	assert_string_equal(cfg->state_dir, "/srv/ws");
	config_free(cfg);
	cfg = load_ok("[gateway]\nstate_dir = /srv/ws..x/.y\n");
	assert_string_equal(cfg->host_key, "/srv/ws..x/.y/host_ed25519");
	config_free(cfg);
}

static void
test_listen(void **state)
{
	struct config *cfg = load_ok("[gateway]\nlisten = 0.0.0.0:2222 127.0.0.1:2222 "
				     "[::]:2222 [::1]:65535\n");
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	char *buf;
	size_t n;

	assert_int_equal(cfg->nlisten, 4);
	sin = (const struct sockaddr_in *)&cfg->listen[1].ss;
	assert_int_equal(cfg->listen[1].len, sizeof(struct sockaddr_in));
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	assert_int_equal(ntohs(sin->sin_port), 2222);
	sin6 = (const struct sockaddr_in6 *)&cfg->listen[2].ss;
	assert_int_equal(cfg->listen[2].len, sizeof(struct sockaddr_in6));
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr));
	sin6 = (const struct sockaddr_in6 *)&cfg->listen[3].ss;
	assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	assert_int_equal(ntohs(sin6->sin6_port), 65535);
	assert_string_equal(cfg->listen[3].text, "[::1]:65535");
	config_free(cfg);

	static const char *const bad[] = {"0.0.0.0",
					  "0.0.0.0:",
					  "0.0.0.0:0",
					  "0.0.0.0:65536",
					  "0.0.0.0:022",
					  "::1:2222",
					  "[::1]2222",
					  "[::1]:",
					  "[::1:2222",
					  "localhost:22",
					  "1.2.3:22",
					  "1.2.3.4.5:22",
					  "[fe80::1%eth0]:22",
					  "[1.2.3.4]:22",
					  "01.2.3.4:22",
					  ":22",
					  "[]:22",
					  "0.0.0.0:+22",
					  "0.0.0.0:-1",
					  "0.0.0.0:22x"};
	char text[160];

	for (size_t i = 0; i < nitems(bad); i++) {
		snprintf(text, sizeof(text), "[gateway]\nlisten = 127.0.0.1:1 %s\n", bad[i]);
		load_fail(text, 2, "key 'listen'");
	}
	load_fail("[gateway]\nlisten = 127.0.0.1:22 127.0.0.1:22\n", 2,
		  "duplicate listen address '127.0.0.1:22'");
	load_fail("[gateway]\nlisten = [::1]:22\n  [0:0::1]:22\n", 3, "duplicate listen address");

	buf = malloc(4096);
	assert_non_null(buf);
	n = (size_t)sprintf(buf, "[gateway]\nlisten = 127.0.0.1:1\n");
	for (int i = 2; i <= CONFIG_MAX_LISTEN + 1; i++)
		n += (size_t)sprintf(buf + n, "  127.0.0.1:%d\n", i);
	load_fail(buf, 2 + CONFIG_MAX_LISTEN, "more than 16 listen addresses");
	free(buf);
}

static void
test_networks(void **state)
{
	static const char *const bad[] = {"10.0.0.0/33",
					  "10.0.0.1/24",
					  "10.0.0.0/",
					  "10.0.0.0/-1",
					  "10.0.0.0/+8",
					  "10.0.0.0/08",
					  "10.0.0/24",
					  "10.0.0.0/8/8",
					  "2001:db8::/129",
					  "2001:db8::1/64",
					  "::ffff:10.0.0.0/104",
					  "example.com",
					  "/8",
					  "10.0.0.0/ 8",
					  "fe80::1%eth0"};
	char text[160];

	for (size_t i = 0; i < nitems(bad); i++) {
		snprintf(text, sizeof(text), "[zone a]\narea = a\nnetworks = %s\n", bad[i]);
		load_fail(text, 3, "key 'networks': network '");
	}
	load_fail("[zone a]\nnetworks = 10.0.0.1/24\narea = a\n", 2, "host bits set");
}

static void
test_export_types(void **state)
{
	struct config *cfg;
	char *buf;
	size_t n;

	load_fail("[airlock]\nexport_types = CSV\n", 2,
		  "key 'export_types': invalid file type 'CSV'");
	load_fail("[airlock]\nexport_types = c.sv\n", 2, "invalid file type");
	load_fail("[airlock]\nexport_types = .csv\n", 2, "invalid file type");
	load_fail("[airlock]\nexport_types = csv,tsv\n", 2, "invalid file type");
	load_fail("[airlock]\nexport_types = abcdefghijklmnop\n", 2, "longer than 15");
	load_fail("[airlock]\nexport_types = csv txt csv\n", 2, "duplicate file type 'csv'");
	cfg = load_ok("[airlock]\nexport_types = abcdefghijklmno\n");
	assert_int_equal(cfg->nexport_types, 1);
	assert_string_equal(cfg->export_types[0], "abcdefghijklmno");
	config_free(cfg);

	buf = malloc(4096);
	assert_non_null(buf);
	n = (size_t)sprintf(buf, "[airlock]\nexport_types = t0\n");
	for (int i = 1; i <= CONFIG_MAX_TYPES; i++)
		n += (size_t)sprintf(buf + n, "  t%d\n", i);
	load_fail(buf, 2 + CONFIG_MAX_TYPES, "more than 32 file types");
	free(buf);
}

static void
test_facilities(void **state)
{
	struct config *cfg;
	char *buf;
	size_t n;

	cfg = load_ok(
	    "[airlock]\nfacilities = \"Hospital A\" H001 \"St. Luke's\"\t\"\xe7\x97\x85\" X\n");
	assert_int_equal(cfg->nfacilities, 5);
	assert_string_equal(cfg->facilities[0], "Hospital A");
	assert_string_equal(cfg->facilities[1], "H001");
	assert_string_equal(cfg->facilities[2], "St. Luke's");
	assert_string_equal(cfg->facilities[3], "\xe7\x97\x85");
	assert_string_equal(cfg->facilities[4], "X");
	config_free(cfg);

	load_fail("[airlock]\nfacilities = \"Hospital A\n", 2,
		  "key 'facilities': unterminated quote");
	load_fail("[airlock]\nfacilities = H001 \"\n", 2, "unterminated quote");
	load_fail("[airlock]\nfacilities = \"Hospital\"A\n", 2, "text right after a closing quote");
	load_fail("[airlock]\nfacilities = H\"01\"\n", 2, "quote inside");
	load_fail("[airlock]\nfacilities = \"\"\n", 2, "facility name must be");
	/* An inline comment starts at " ;", even inside quotes: documented. */
	load_fail("[airlock]\nfacilities = \"Hospital ;A\"\n", 2, "unterminated quote");

	buf = malloc(64 * 1024);
	assert_non_null(buf);
	n = (size_t)sprintf(buf, "[airlock]\nfacilities = \"%0128d\"\n", 0);
	load_fail(buf, 2, "facility name must be 1..127 bytes");
	n = (size_t)sprintf(buf, "[airlock]\nfacilities = \"%0127d\"\n", 0);
	cfg = load_ok(buf);
	assert_int_equal(strlen(cfg->facilities[0]), 127);
	config_free(cfg);
	n = (size_t)sprintf(buf, "[airlock]\nfacilities = F0\n");
	for (int i = 1; i <= CONFIG_MAX_FACILITIES; i++)
		n += (size_t)sprintf(buf + n, "  F%d\n", i);
	load_fail(buf, 2 + CONFIG_MAX_FACILITIES, "more than 256 facilities");
	free(buf);
}

/* ---- CIDR ---- */

static struct sockaddr_storage
addr(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return ss;
}

static int
match(const char *net, const char *a)
{
	struct cidr c;
	struct sockaddr_storage ss = addr(a);

	if (cidr_parse(net, &c) != 0)
		fail_msg("cidr_parse(%s) failed", net);
	return cidr_match(&c, (const struct sockaddr *)&ss);
}

static void
test_cidr_parse(void **state)
{
	struct cidr c;

	assert_int_equal(cidr_parse("10.1.2.3", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 32);
	assert_memory_equal(c.addr, "\x0a\x01\x02\x03", 4);
	assert_int_equal(cidr_parse("2001:db8::1", &c), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(cidr_parse("0.0.0.0/0", &c), 0);
	assert_int_equal(c.prefix, 0);
	assert_int_equal(cidr_parse("::/0", &c), 0);
	assert_int_equal(cidr_parse("10.0.0.2/31", &c), 0);
	assert_int_equal(cidr_parse("10.0.0.128/25", &c), 0);
	assert_int_equal(cidr_parse("2001:db8:1::/48", &c), 0);
	assert_int_equal(cidr_parse("2001:db8:1:8000::/49", &c), 0);

	/* host bits set are refused, at every boundary */
	assert_int_equal(cidr_parse("10.0.0.1/31", &c), -1);
	assert_int_equal(cidr_parse("10.0.0.129/25", &c), -1);
	assert_int_equal(cidr_parse("1.0.0.0/0", &c), -1);
	assert_int_equal(cidr_parse("::1/0", &c), -1);
	assert_int_equal(cidr_parse("2001:db8:1:4000::/49", &c), -1);
	assert_int_equal(cidr_parse("2001:db8::1/127", &c), -1);
	assert_int_equal(cidr_parse("10.0.0.0/33", &c), -1);
	assert_int_equal(cidr_parse("::/129", &c), -1);
	assert_int_equal(cidr_parse("::/1000", &c), -1);
	assert_int_equal(cidr_parse("::ffff:10.0.0.1", &c), -1);
	assert_int_equal(cidr_parse("", &c), -1);
	assert_int_equal(cidr_parse("/", &c), -1);
	assert_int_equal(cidr_parse("10.0.0.0/", &c), -1);
	assert_int_equal(cidr_parse(" 10.0.0.0", &c), -1);
	assert_int_equal(cidr_parse("10.0.0.0 ", &c), -1);
	assert_int_equal(cidr_parse("10.0.0.0/8 ", &c), -1);
	assert_int_equal(cidr_parse("1111:2222:3333:4444:5555:6666:7777:8888:9999/128", &c), -1);
	assert_int_equal(cidr_parse(NULL, &c), -1);
}

static void
test_cidr_match(void **state)
{
	struct cidr c;
	struct sockaddr_un_like {
		sa_family_t family;
		char path[108];
	} un = {AF_UNIX, "/x"};

	/* /0 matches everything of its family, nothing of the other */
	assert_true(match("0.0.0.0/0", "255.255.255.255"));
	assert_true(match("0.0.0.0/0", "0.0.0.0"));
	assert_false(match("0.0.0.0/0", "2001:db8::1"));
	assert_true(match("::/0", "2001:db8::1"));
	assert_true(match("::/0", "::1"));
	assert_false(match("::/0", "10.0.0.1"));
	/* a mapped v4 address is IPv4: never in an IPv6 zone, always in its v4 zone */
	assert_false(match("::/0", "::ffff:10.0.0.1"));
	assert_true(match("0.0.0.0/0", "::ffff:10.0.0.1"));
	assert_true(match("10.0.0.0/8", "::ffff:10.255.0.1"));
	assert_false(match("10.0.0.0/8", "::ffff:11.0.0.1"));
	assert_true(match("10.0.0.1", "::ffff:10.0.0.1"));
	/* the deprecated v4-compatible form and NAT64 are not IPv4 */
	assert_false(match("10.0.0.1", "::10.0.0.1"));
	assert_false(match("10.0.0.1", "64:ff9b::10.0.0.1"));
	/* /32 and /128 are exact */
	assert_true(match("10.0.0.1/32", "10.0.0.1"));
	assert_false(match("10.0.0.1/32", "10.0.0.0"));
	assert_false(match("10.0.0.1/32", "10.0.0.2"));
	assert_true(match("2001:db8::1/128", "2001:db8::1"));
	assert_false(match("2001:db8::1/128", "2001:db8::"));
	assert_false(match("2001:db8::1/128", "2001:db8::3"));
	/* /31 holds exactly two addresses */
	assert_true(match("10.0.0.2/31", "10.0.0.2"));
	assert_true(match("10.0.0.2/31", "10.0.0.3"));
	assert_false(match("10.0.0.2/31", "10.0.0.1"));
	assert_false(match("10.0.0.2/31", "10.0.0.4"));
	/* a prefix that is not byte aligned */
	assert_true(match("203.0.113.0/28", "203.0.113.15"));
	assert_false(match("203.0.113.0/28", "203.0.113.16"));
	assert_true(match("2001:db8:1::/48", "2001:db8:1:ffff::1"));
	assert_false(match("2001:db8:1::/48", "2001:db8:2::1"));
	assert_true(match("2001:db8:1:8000::/49", "2001:db8:1:ffff::"));
	assert_false(match("2001:db8:1:8000::/49", "2001:db8:1:7fff::"));
	/* an IPv6 network never matches a plain v4 source with the same bytes */
	assert_false(match("a00::/8", "10.0.0.1"));

	assert_int_equal(cidr_parse("0.0.0.0/0", &c), 0);
	assert_false(cidr_match(&c, (const struct sockaddr *)&un));
	assert_false(cidr_match(&c, NULL));
	assert_false(cidr_match(NULL, (const struct sockaddr *)&un));
}

static void
test_zone_for(void **state)
{
	struct config *cfg = load_ok("[zone first]\n"
				     "networks = 10.10.0.0/24\n"
				     "area = onsite\n"
				     "[zone wide]\n"
				     "networks = 10.0.0.0/8 ::/0\n"
				     "area = remote\n"
				     "[zone never]\n"
				     "networks = 10.10.0.5\n"
				     "area = onsite\n");
	struct sockaddr_storage ss;

	ss = addr("10.10.0.5");
	assert_string_equal(config_zone_for(cfg, (struct sockaddr *)&ss)->name, "first");
	ss = addr("::ffff:10.10.0.5");
	assert_string_equal(config_zone_for(cfg, (struct sockaddr *)&ss)->name, "first");
	ss = addr("10.10.1.5");
	assert_string_equal(config_zone_for(cfg, (struct sockaddr *)&ss)->name, "wide");
	ss = addr("2001:db8::7");
	assert_string_equal(config_zone_for(cfg, (struct sockaddr *)&ss)->name, "wide");
	ss = addr("192.168.0.1");
	assert_null(config_zone_for(cfg, (struct sockaddr *)&ss));
	ss = addr("::ffff:192.168.0.1");
	assert_null(config_zone_for(cfg, (struct sockaddr *)&ss));
	assert_null(config_zone_for(cfg, NULL));
	assert_null(config_zone_for(NULL, (struct sockaddr *)&ss));
	assert_non_null(config_zone_by_name(cfg, "never"));
	assert_null(config_zone_by_name(cfg, NULL));
	config_free(cfg);
}

/* ---- the terminal is a display: exec_without_pty, hide, budgets ---- */

static void
test_egress_defaults(void **state)
{
	struct config *cfg = load_ok("\n");

	assert_int_equal(cfg->nexec_without_pty, 1);
	assert_string_equal(cfg->exec_without_pty[0], "airlock");
	assert_false(cfg->exec_without_pty_any);
	assert_int_equal(cfg->nhide, 6);
	assert_string_equal(cfg->hide[0], "/usr/bin/scp");
	assert_string_equal(cfg->hide[2], "/usr/lib/openssh");
	assert_int_equal(cfg->output_budget, 50ull << 20);
	assert_int_equal(cfg->input_budget, 5ull << 20);
	config_free(cfg);
}

/* [audit]: record roles and the witness outside state_dir (issue 11). */
static void
test_audit_keys(void **state)
{
	struct config *cfg;
	struct config *none = (struct config *)0x1;
	char why[512];

	(void)state;
	cfg = load_ok("[gateway]\nstate_dir = /srv/ws\n");
	assert_int_equal(cfg->audit_record, 1u << ROLE_ANALYST | 1u << ROLE_ADMIN);
	assert_string_equal(cfg->audit_witness, "");
	config_free(cfg);
	cfg = load_ok("[gateway]\nstate_dir = /srv/ws\n[audit]\nrecord = stats\n"
		      "witness = /srv/ws-log/audit.witness\n");
	assert_int_equal(cfg->audit_record, 1u << ROLE_STATS);
	assert_string_equal(cfg->audit_witness, "/srv/ws-log/audit.witness");
	config_free(cfg);
	cfg = load_ok("[audit]\nrecord = none\nwitness = none\n");
	assert_int_equal(cfg->audit_record, 0);
	assert_string_equal(cfg->audit_witness, "");
	config_free(cfg);
	load_fail("[audit]\nrecord = analyst root\n", 2, "want roles");
	load_fail("[audit]\nrecord = none analyst\n", 2, "want roles");
	load_fail("[audit]\nwitness = audit.witness\n", 2, "absolute");
	load_fail("[audit]\nwitness = /var/log/../x\n", 2, "canonical");
	/* inside state_dir: refused whatever the order of the sections */
	assert_int_equal(load_text("[audit]\nwitness = /srv/ws/w\n[gateway]\nstate_dir = /srv/ws\n",
				   &none, why, sizeof(why)),
			 -1);
	assert_non_null(strstr(why, "inside state_dir"));
	assert_int_equal(load_text("[gateway]\nstate_dir = /srv/ws\n[audit]\nwitness = /srv/ws\n",
				   &none, why, sizeof(why)),
			 -1);
	cfg = load_ok("[gateway]\nstate_dir = /srv/ws\n[audit]\nwitness = /srv/wsx\n");
	config_free(cfg);
}

static void
test_egress_keys(void **state)
{
	struct config *cfg;

	cfg = load_ok("[sandbox]\nexec_without_pty = airlock R python3.11 x-y_z+1\n"
		      "hide = /usr/bin/scp /does/not/exist\n  /opt/tool\n"
		      "output_budget = none\ninput_budget = 1M\n");
	assert_int_equal(cfg->nexec_without_pty, 4);
	assert_string_equal(cfg->exec_without_pty[3], "x-y_z+1");
	assert_int_equal(cfg->nhide, 3);
	assert_string_equal(cfg->hide[2], "/opt/tool");
	assert_int_equal(cfg->output_budget, CONFIG_BUDGET_NONE);
	assert_int_equal(cfg->input_budget, 1ull << 20);
	config_free(cfg);
	cfg = load_ok("[sandbox]\nexec_without_pty = *\ninput_budget = none\n");
	assert_true(cfg->exec_without_pty_any);
	assert_int_equal(cfg->nexec_without_pty, 0);
	assert_int_equal(cfg->input_budget, CONFIG_BUDGET_NONE);
	config_free(cfg);
	/* "none": no command runs without a pty; nothing is hidden. */
	cfg = load_ok("[sandbox]\nexec_without_pty = none\nhide = none\n");
	assert_int_equal(cfg->nexec_without_pty, 0);
	assert_int_equal(cfg->nhide, 0);
	config_free(cfg);

	load_fail("[sandbox]\nexec_without_pty = /usr/bin/airlock\n", 2, "invalid program name");
	load_fail("[sandbox]\nexec_without_pty = sh;id\n", 2, "invalid program name");
	load_fail("[sandbox]\nexec_without_pty = -c\n", 2, "invalid program name");
	load_fail("[sandbox]\nexec_without_pty = * airlock\n", 2, "'*' turns the rule off");
	load_fail("[sandbox]\nhide = usr/bin/scp\n", 2, "invalid path");
	load_fail("[sandbox]\nhide = /usr/../etc\n", 2, "invalid path");
	load_fail("[sandbox]\nhide = /usr/bin/..\n", 2, "invalid path");
	load_fail("[sandbox]\nhide = /\n", 2, "invalid path");
	load_fail("[sandbox]\nhide = none /usr/bin/scp\n", 2, "invalid path");
	load_fail("[sandbox]\noutput_budget = lots\n", 2, "invalid size");
	load_fail("[sandbox]\ninput_budget = 0\n", 2, "out of range");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	    cmocka_unit_test(test_spec_example),
	    cmocka_unit_test(test_deploy_example),  cmocka_unit_test(test_all_keys),
	    cmocka_unit_test(test_file_errors),	    cmocka_unit_test(test_file_too_large),
	    cmocka_unit_test(test_sections),	    cmocka_unit_test(test_zone_requirements),
	    cmocka_unit_test(test_zone_limits),	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_malformed_lines), cmocka_unit_test(test_continuation),
	    cmocka_unit_test(test_durations),	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_integers),	    cmocka_unit_test(test_booleans),
	    cmocka_unit_test(test_paths),	    cmocka_unit_test(test_listen),
	    cmocka_unit_test(test_networks),	    cmocka_unit_test(test_export_types),
	    cmocka_unit_test(test_facilities),	    cmocka_unit_test(test_cidr_parse),
	    cmocka_unit_test(test_cidr_match),	    cmocka_unit_test(test_zone_for),
	    cmocka_unit_test(test_egress_defaults), cmocka_unit_test(test_egress_keys),
	    cmocka_unit_test(test_area_quota),
	    cmocka_unit_test(test_preauth_limits),
	    cmocka_unit_test(test_audit_keys),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
