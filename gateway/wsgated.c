/*
 * wsgated: the listener. It loads the config, opens the listening sockets and forks one monitor
 * per connection. It never parses SSH and never opens the store: a source address in no zone is
 * closed right after accept(), before a byte is sent; everything else is the monitor's job.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/password.h"
#include "common/audit.h"
#include "common/log.h"
#include "common/nitems.h"
#include "common/selfpipe.h"
#include "gateway/gateway.h"
#include "gateway/slots.h"
#include "policy/config.h"
#include "common/runlock.h"
#include "common/store.h"
#include "sandbox/sandbox.h"
#include "transfer/airlock.h"
#include "transfer/area.h"
#include "transfer/blob.h"

static struct {
	struct config *cfg;
	int lfd[CONFIG_MAX_LISTEN];
	size_t nlfd;
	char exe_dir[PATH_MAX];
} gw;

static void
gw_usage(void)
{
	fprintf(stderr, "usage: wsgated -c CONFIG [-f]\n");
	exit(2);
}

void
gw_peer_format(struct gw_peer *p)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (p->ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&p->ss)->sin_addr, a, sizeof(a));
	else if (p->ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&p->ss)->sin6_addr, a, sizeof(a));
	snprintf(p->text, sizeof(p->text), "%s", a);
}

static void
gw_listen(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nlisten; i++) {
		const struct listen_addr *la = &cfg->listen[i];
		int fd, one = 1;

		fd = socket(la->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			fatal_errno("socket for %s", la->text);
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
			fatal_errno("SO_REUSEADDR on %s", la->text);
		/* [::] must not also take IPv4: an IPv4 listen line says so explicitly. */
		if (la->ss.ss_family == AF_INET6 &&
		    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
			fatal_errno("IPV6_V6ONLY on %s", la->text);
		if (bind(fd, (const struct sockaddr *)&la->ss, la->len) != 0)
			fatal_errno("bind %s", la->text);
		if (listen(fd, 128) != 0)
			fatal_errno("listen %s", la->text);
		gw.lfd[gw.nlfd++] = fd;
		log_info("listening on %s", la->text);
	}
}

static void
gw_reap(void)
{
	pid_t pid;
	int ws;

	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
		slots_remove(pid);
		if (WIFSIGNALED(ws))
			log_warn("connection process %ld killed by signal %d", (long)pid,
				 WTERMSIG(ws));
	}
}

static void
gw_reload(void)
{
	struct config *ncfg;
	char why[512];

	if (config_load(gw.cfg->path, &ncfg, why, sizeof(why)) != 0) {
		log_err("reload failed, keeping the old policy: %s", why);
		return;
	}
	/* Listen addresses are bound once. */
	config_free(gw.cfg);
	gw.cfg = ncfg;
	log_info("reloaded %s", gw.cfg->path);
	/* Each connection's monitor reads the file again itself and re-checks its login against
	 * it (SPEC "Revocation": a zone taken out of the config ends what it allowed). */
	for (size_t i = 0; i < slots_count(); i++)
		if (kill(slots_pid(i), SIGHUP) != 0 && errno != ESRCH)
			log_warn("reload to connection %ld: %s", (long)slots_pid(i),
				 strerror(errno));
}

static void
gw_accept(int lfd)
{
	struct gw_peer peer;
	char why[128];
	pid_t pid;
	int fd;

	memset(&peer, 0, sizeof(peer));
	peer.len = sizeof(peer.ss);
	fd = accept4(lfd, (struct sockaddr *)&peer.ss, &peer.len, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* getpeername, not what accept() filled in, so this is the kernel's view of the socket. */
	peer.len = sizeof(peer.ss);
	if (getpeername(fd, (struct sockaddr *)&peer.ss, &peer.len) != 0) {
		close(fd);
		return;
	}
	gw_peer_format(&peer);
	if (config_zone_for(gw.cfg, (const struct sockaddr *)&peer.ss) == NULL) {
		log_info("connection from %s: address in no zone, closed", peer.text);
		close(fd);
		return;
	}
	/* SPEC "Limits under attack": logins in progress are capped apart from sessions. */
	if (slots_admit(gw.cfg, (const struct sockaddr *)&peer.ss, why, sizeof(why)) != 0) {
		log_warn("connection from %s: %s, closed", peer.text, why);
		close(fd);
		return;
	}
	/* Key exchange messages are small and come in pairs; with Nagle's algorithm each
	 * re-keying waits out the peer's delayed ACK (about 80 ms measured). Keepalives find dead
	 * peers as sshd's TCPKeepAlive does. */
	{
		int one = 1;

		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) != 0)
			log_warn("connection from %s: socket options: %s", peer.text,
				 strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		log_err("fork for %s: %s", peer.text, strerror(errno));
		close(fd);
		return;
	}
	if (pid == 0) {
		for (size_t i = 0; i < gw.nlfd; i++)
			close(gw.lfd[i]);
		selfpipe_close();
		slots_child();
		signal(SIGHUP, SIG_IGN);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		monitor_run(gw.cfg, gw.exe_dir, fd, &peer);
	}
	slots_add(pid, (const struct sockaddr *)&peer.ss);
	close(fd);
}

static void gw_shutdown(void) __attribute__((noreturn));

static void
gw_shutdown(void)
{
	time_t until = time(NULL) + 10;

	log_info("terminating: %zu connection(s)", slots_count());
	for (size_t i = 0; i < gw.nlfd; i++)
		close(gw.lfd[i]);
	for (size_t i = 0; i < slots_count(); i++)
		kill(slots_pid(i), SIGTERM);
	while (slots_count() > 0) {
		gw_reap();
		if (time(NULL) >= until) {
			for (size_t i = 0; i < slots_count(); i++)
				kill(slots_pid(i), SIGKILL);
			until = time(NULL) + 60;
		}
		poll(NULL, 0, 20);
	}
	config_free(gw.cfg);
	log_info("exited");
	exit(0);
}

/* The airlock's start-up scan (staging leftovers, unreferenced blobs, unfinished deliveries) runs
 * in a short-lived child, so the listener itself never holds an LMDB environment that its
 * connection processes would inherit across fork(). */
static void
gw_scan(void)
{
	struct airlock_scan_stats stats;
	struct store *st;
	char why[256];
	pid_t pid;
	int ws;

	pid = fork();
	if (pid < 0)
		fatal_errno("fork for the start-up scan");
	if (pid == 0) {
		if (store_open(gw.cfg->state_dir, 0, &st, why, sizeof(why)) != 0) {
			log_err("store: %s", why);
			_exit(1);
		}
		store_startup_log(st, 1);
		/* A witness that cannot be opened is a broken config: say so before serving. */
		if (audit_attach(st, gw.cfg->audit_witness, why, sizeof(why)) != 0) {
			log_err("%s", why);
			_exit(1);
		}
		memset(&stats, 0, sizeof(stats));
		if (airlock_scan_ex(st, &stats, why, sizeof(why)) != 0)
			log_warn("airlock start-up scan: %s", why);
		else
			log_info("airlock start-up scan: %lu staging file(s), %lu blob(s) removed, "
				 "%lu delivery(ies) redone",
				 stats.staging_removed, stats.blobs_removed, stats.redelivered);
		log_info(
		    "airlock snapshots: %s",
		    blob_can_clone(gw.cfg->state_dir)
			? "clones (state_dir's file system shares blocks copy-on-write)"
			: "copies (state_dir's file system cannot clone; see docs/transfer.md)");
		store_close(st);
		_exit(0);
	}
	if (waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
		fatal("cannot open the state store in %s (run wsgatectl init?)", gw.cfg->state_dir);
}

static void
gw_signals(void)
{
	static const int sigs[] = {SIGHUP, SIGTERM, SIGINT, SIGCHLD};

	if (selfpipe_init(sigs, nitems(sigs)) != 0)
		fatal_errno("signals");
	signal(SIGPIPE, SIG_IGN);
}

static void
gw_loop(void)
{
	struct pollfd pfd[CONFIG_MAX_LISTEN + 2];

	for (;;) {
		size_t n = 0;
		int timeout;

		if (selfpipe_caught(SIGTERM) || selfpipe_caught(SIGINT))
			gw_shutdown();
		if (selfpipe_caught(SIGHUP))
			gw_reload();
		gw_reap();
		timeout = slots_expire(gw.cfg, SLOTS_GRACE_MARGIN_MS);
		for (size_t i = 0; i < gw.nlfd; i++) {
			pfd[n].fd = gw.lfd[i];
			pfd[n++].events = POLLIN;
		}
		pfd[n].fd = slots_fd();
		pfd[n++].events = POLLIN;
		pfd[n].fd = selfpipe_fd();
		pfd[n++].events = POLLIN;
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fatal_errno("poll");
		}
		if (pfd[n - 1].revents & POLLIN)
			selfpipe_drain();
		/* Logins first: a connection that just logged in frees its place for the next. */
		if (pfd[n - 2].revents & POLLIN)
			slots_read_reports(gw.cfg);
		for (size_t i = 0; i + 2 < n; i++)
			if (pfd[i].revents & POLLIN)
				gw_accept(pfd[i].fd);
	}
}

int
main(int argc, char **argv)
{
	const char *conf = NULL;
	char why[512], exe[PATH_MAX];
	ssize_t n;
	int ch, fg = 0;

	while ((ch = getopt(argc, argv, "c:f")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'f':
			fg = 1;
			break;
		default:
			gw_usage();
		}
	}
	if (conf == NULL || optind != argc)
		gw_usage();
	log_init("wsgated", fg);
	if (geteuid() != 0)
		fatal("must run as root (it drops privileges per connection)");
	if (config_load(conf, &gw.cfg, why, sizeof(why)) != 0)
		fatal("%s", why);
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		fatal_errno("readlink /proc/self/exe");
	exe[n] = '\0';
	snprintf(gw.exe_dir, sizeof(gw.exe_dir), "%s", dirname(exe));
	if (sandbox_init(why, sizeof(why)) != 0)
		fatal("sandbox: %s", why);
	log_info("sandbox limits: %s", sandbox_limits_backend());
	if (privsep_prepare(gw.cfg->state_dir, why, sizeof(why)) != 0)
		fatal("%s", why);
	if (area_quota_check(gw.cfg->state_dir, gw.cfg->area_quota, why, sizeof(why)) != 0)
		fatal("%s", why);
	if (access(gw.cfg->host_key, R_OK) != 0)
		fatal_errno("host key %s", gw.cfg->host_key);
	gw_scan();
	gw_signals();
	if (slots_init() != 0)
		fatal_errno("login report socket");
	gw_listen(gw.cfg);
	/* Once, before the first fork, so every connection process inherits how long one hash
	 * takes: a refusal before hashing waits that long (auth.c, refused_before_hashing).
	 * After listen(): connections arriving meanwhile wait in the backlog. */
	password_calibrate();
	log_info("one password hash takes %ld ms here (scrypt N=%llu r=%u p=%u)",
		 password_cost_ms(), (unsigned long long)password_target.n, password_target.r,
		 password_target.p);
	if (!fg && daemon(0, 0) != 0)
		fatal_errno("daemon");
	/* After daemon(): a POSIX lock is the process's own and would not follow the fork. */
	if (runlock_take(gw.cfg->state_dir, why, sizeof(why)) != 0) /* wsgatectl restore asks */
		fatal("%s", why);
	gw_loop();
	return 0;
}
