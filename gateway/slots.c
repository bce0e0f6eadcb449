/*
 * Connection slots of the listener (slots.h). A slot is one connection process: its pid, its
 * source (IPv4 address, or IPv6 /64 as the login throttling counts it), when it started (on the
 * monotonic clock, so a wall-clock jump cannot end or extend a login), and whether its monitor
 * has reported a login.
 */
#include "gateway/slots.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/monotime.h"
#include "common/why.h"

#define SLOTS_LOGIN_MSG 'L'

struct slot {
	pid_t pid;
	int authed;
	int64_t started_ms;
	uint8_t src[9];		     /* family byte, then 4 (IPv4) or 8 (IPv6 /64) address bytes */
	char text[INET6_ADDRSTRLEN]; /* the peer, for logs */
};

static struct {
	struct slot s[SLOTS_MAX];
	size_t n;
	int rd, wr; /* listener's end (reads reports), children's end */
} slots = {.rd = -1, .wr = -1};

/* The source an address counts against: an IPv4-mapped IPv6 address is its IPv4 address; an
 * IPv6 address its /64, since one subscriber usually holds a whole /64. */
static void
slots_source(const struct sockaddr *sa, uint8_t src[9])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(src, 0, 9);
	if (sa->sa_family == AF_INET) {
		src[0] = 4;
		memcpy(src + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;

		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			src[0] = 4;
			memcpy(src + 1, a + 12, 4);
		} else {
			src[0] = 6;
			memcpy(src + 1, a, 8);
		}
	}
}

int
slots_init(void)
{
	int sp[2], one = 1;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp) != 0)
		return -1;
	/* The kernel attaches the sender's real pid to each report. */
	if (setsockopt(sp[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) != 0 ||
	    fcntl(sp[0], F_SETFL, O_NONBLOCK) != 0) {
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	slots.rd = sp[0];
	slots.wr = sp[1];
	return 0;
}

int
slots_fd(void)
{
	return slots.rd;
}

size_t
slots_count(void)
{
	return slots.n;
}

pid_t
slots_pid(size_t i)
{
	return i < slots.n ? slots.s[i].pid : -1;
}

static size_t
slots_authed(void)
{
	size_t k = 0;

	for (size_t i = 0; i < slots.n; i++)
		k += slots.s[i].authed != 0;
	return k;
}

size_t
slots_unauthenticated(const struct sockaddr *sa)
{
	uint8_t src[9];
	size_t k = 0;

	if (sa != NULL)
		slots_source(sa, src);
	for (size_t i = 0; i < slots.n; i++)
		if (!slots.s[i].authed && (sa == NULL || memcmp(slots.s[i].src, src, 9) == 0))
			k++;
	return k;
}

int
slots_admit(const struct config *cfg, const struct sockaddr *sa, char *why, size_t whylen)
{
	if (slots.n >= SLOTS_MAX)
		return why_set(why, whylen, "%d connection processes", SLOTS_MAX);
	if (slots_unauthenticated(NULL) >= cfg->max_unauthenticated)
		return why_set(why, whylen, "max_unauthenticated (%u) reached",
			       cfg->max_unauthenticated);
	if (slots_unauthenticated(sa) >= cfg->max_unauthenticated_per_source)
		return why_set(why, whylen, "max_unauthenticated_per_source (%u) reached",
			       cfg->max_unauthenticated_per_source);
	/* With every session slot taken, a login could only be ended once it succeeds. */
	if (slots_authed() >= cfg->max_sessions)
		return why_set(why, whylen, "max_sessions (%u) reached", cfg->max_sessions);
	return 0;
}

void
slots_add(pid_t pid, const struct sockaddr *sa)
{
	struct slot *s;

	if (slots.n >= SLOTS_MAX)
		return; /* slots_admit refused this before the fork */
	s = &slots.s[slots.n++];
	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->started_ms = mono_ms();
	slots_source(sa, s->src);
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, s->text,
			  sizeof(s->text));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, s->text,
			  sizeof(s->text));
}

void
slots_remove(pid_t pid)
{
	for (size_t i = 0; i < slots.n; i++)
		if (slots.s[i].pid == pid) {
			slots.s[i] = slots.s[--slots.n];
			return;
		}
}

static struct slot *
slots_find(pid_t pid)
{
	for (size_t i = 0; i < slots.n; i++)
		if (slots.s[i].pid == pid)
			return &slots.s[i];
	return NULL;
}

static void
slots_login(const struct config *cfg, pid_t pid)
{
	struct slot *s = slots_find(pid);

	if (s == NULL || s->authed)
		return; /* not ours, or said twice: nothing to count */
	s->authed = 1;
	/* Several connections may finish logging in while the last session slot goes; the ones
	 * past it end here rather than exceed max_sessions. */
	if (slots_authed() > cfg->max_sessions) {
		log_warn("connection from %s (%ld): logged in with max_sessions (%u) reached, "
			 "ended",
			 s->text, (long)pid, cfg->max_sessions);
		if (kill(pid, SIGTERM) != 0 && errno != ESRCH)
			log_warn_f("kill %ld: %s", (long)pid, strerror(errno));
	}
}

/* One report: a single byte with the kernel's credentials; anything else is dropped. */
static int
slots_read_one(const struct config *cfg)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct ucred cred;
	struct cmsghdr *c;
	struct msghdr mh;
	struct iovec iov;
	char msg[2];
	ssize_t n;
	int have = 0;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = msg;
	iov.iov_len = sizeof(msg);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	n = recvmsg(slots.rd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(cred))) {
			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			have = 1;
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			/* Nobody should pass descriptors here; do not keep them. */
			size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int fd;

			for (size_t i = 0; i < nfd; i++) {
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(fd);
			}
		}
	}
	if (n != 1 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || !have ||
	    msg[0] != SLOTS_LOGIN_MSG)
		return 0;
	slots_login(cfg, cred.pid);
	return 0;
}

void
slots_read_reports(const struct config *cfg)
{
	/* Bounded, so a flood of reports cannot hold the listener away from accept(). */
	for (int i = 0; i < 256; i++)
		if (slots_read_one(cfg) < 0)
			break;
}

int
slots_expire(const struct config *cfg, int64_t margin_ms)
{
	int64_t now = mono_ms(), limit = (int64_t)cfg->login_grace_time * 1000 + margin_ms;
	int waiting = 0;

	for (size_t i = 0; i < slots.n; i++) {
		struct slot *s = &slots.s[i];

		if (s->authed)
			continue;
		waiting = 1;
		if (now - s->started_ms >= limit) {
			log_warn("connection from %s (%ld): still not logged in %llds after it "
				 "started, ended",
				 s->text, (long)s->pid, (long long)(now - s->started_ms) / 1000);
			kill(s->pid, SIGTERM);
			s->started_ms = now; /* once more after another whole period, not at once */
		}
	}
	return waiting ? 1000 : -1;
}

void
slots_child(void)
{
	if (slots.rd >= 0)
		close(slots.rd);
	slots.rd = -1;
}

void
slots_report_login(void)
{
	char m = SLOTS_LOGIN_MSG;

	if (slots.wr < 0)
		return;
	/* Blocking: the listener drains this on every pass, and a full queue must delay the
	 * report rather than lose it (a lost one would leave the login counted as pending). */
	if (send(slots.wr, &m, 1, MSG_NOSIGNAL) != 1)
		log_warn_f("cannot tell the listener: %s", strerror(errno));
	close(slots.wr);
	slots.wr = -1;
}

void
slots_close_report(void)
{
	if (slots.wr >= 0)
		close(slots.wr);
	slots.wr = -1;
}
