/*
 * gateway/slots.c: the listener's count of connections still logging in (SPEC "Limits under
 * attack"), and the login reports its children send, with real processes: a forked child
 * plays a monitor whose login succeeded.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "gateway/slots.h"

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

/* The address as a sockaddr, in one of a few static slots (each call site uses its own). */
static const struct sockaddr *
SA(const char *text)
{
	static struct sockaddr_storage ring[8];
	static unsigned next;
	struct sockaddr_storage *ss = &ring[next++ % 8];

	*ss = addr(text);
	return (const struct sockaddr *)ss;
}

static struct config cfg;

static void
empty(void)
{
	while (slots_count() > 0)
		slots_remove(slots_pid(0));
}

/* A child that tells the listener it logged in (if report), then waits to be ended. */
static pid_t
child(int report)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		slots_child();
		if (report)
			slots_report_login();
		pause();
		_exit(0);
	}
	return pid;
}

static void
read_reports(void)
{
	struct pollfd p = {slots_fd(), POLLIN, 0};

	/* One child reports per call: once readable, its report is there. */
	assert_int_equal(poll(&p, 1, 5000), 1);
	slots_read_reports(&cfg);
}

static void
end(pid_t pid, int expect_sig)
{
	int ws;

	if (expect_sig == 0)
		kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFSIGNALED(ws));
	assert_int_equal(WTERMSIG(ws), expect_sig ? expect_sig : SIGKILL);
	slots_remove(pid);
}

static void
test_caps(void **state)
{
	char why[128];

	(void)state;
	empty();
	cfg.max_sessions = 10;
	cfg.max_unauthenticated = 4;
	cfg.max_unauthenticated_per_source = 2;
	slots_add(1001, SA("192.0.2.1"));
	assert_int_equal(slots_admit(&cfg, SA("192.0.2.1"), why, sizeof(why)), 0);
	slots_add(1002, SA("::ffff:192.0.2.1")); /* the same source over IPv6 */
	assert_int_equal(slots_admit(&cfg, SA("192.0.2.1"), why, sizeof(why)), -1);
	assert_string_equal(why, "max_unauthenticated_per_source (2) reached");
	assert_int_equal(slots_unauthenticated(SA("192.0.2.1")), 2);
	/* One IPv6 /64 is one source; the next /64 is another. */
	slots_add(1003, SA("2001:db8:0:1::1"));
	slots_add(1004, SA("2001:db8:0:1::2"));
	assert_int_equal(slots_admit(&cfg, SA("2001:db8:0:1::3"), why, sizeof(why)), -1);
	assert_string_equal(why, "max_unauthenticated (4) reached");
	slots_remove(1004);
	assert_int_equal(slots_admit(&cfg, SA("2001:db8:0:2::1"), why, sizeof(why)), 0);
	assert_int_equal(slots_unauthenticated(NULL), 3);
	empty();
}

/* A login report moves a connection out of the pre-auth count; max_sessions then counts it. */
static void
test_reports(void **state)
{
	char why[128];
	pid_t a, b, idle;

	(void)state;
	empty();
	cfg.max_sessions = 1;
	cfg.max_unauthenticated = 2;
	cfg.max_unauthenticated_per_source = 2;
	idle = child(0);
	slots_add(idle, SA("192.0.2.7"));
	a = child(1);
	slots_add(a, SA("192.0.2.8"));
	assert_int_equal(slots_admit(&cfg, SA("192.0.2.9"), why, sizeof(why)), -1);
	read_reports();
	assert_int_equal(slots_unauthenticated(NULL), 1);
	assert_int_equal(slots_unauthenticated(SA("192.0.2.8")), 0);
	/* A place for logins is free, but every session place is taken. */
	assert_int_equal(slots_admit(&cfg, SA("192.0.2.9"), why, sizeof(why)), -1);
	assert_string_equal(why, "max_sessions (1) reached");
	/* A connection admitted before the last session place went, that logs in after: ended. */
	b = child(1);
	slots_add(b, SA("192.0.2.10"));
	read_reports();
	end(b, SIGTERM);
	end(a, 0);
	end(idle, 0);
	assert_int_equal(slots_count(), 0);
}

/* Only the kernel's pid counts: a report from a process the listener did not fork, or one that
 * is not exactly the login byte, changes nothing. */
static void
test_foreign_reports(void **state)
{
	pid_t a, stranger;

	(void)state;
	empty();
	cfg.max_sessions = 5;
	cfg.max_unauthenticated = 5;
	cfg.max_unauthenticated_per_source = 5;
	a = child(0);
	slots_add(a, SA("192.0.2.20"));
	stranger = child(1); /* forked, but never added */
	read_reports();
	assert_int_equal(slots_unauthenticated(NULL), 1);
	end(stranger, 0);
	end(a, 0);
}

/* The listener's backstop: a connection still logging in past login_grace (plus the margin,
 * 0 here) is ended; one that logged in is not. */
static void
test_expire(void **state)
{
	pid_t idle, in;

	(void)state;
	empty();
	cfg.max_sessions = 5;
	cfg.login_grace_time = 1;
	assert_int_equal(slots_expire(&cfg, 0), -1); /* nothing logging in: no timer */
	idle = child(0);
	slots_add(idle, SA("192.0.2.30"));
	in = child(1);
	slots_add(in, SA("192.0.2.31"));
	read_reports();
	assert_int_equal(slots_expire(&cfg, 0), 1000); /* not yet: check again in a second */
	usleep(1100 * 1000);			       /* past login_grace on the monotonic clock */
	assert_int_equal(slots_expire(&cfg, 0), 1000);
	end(idle, SIGTERM);
	assert_int_equal(slots_expire(&cfg, 0), -1);
	end(in, 0); /* logged in: still running until killed here */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_reports),
	    cmocka_unit_test(test_foreign_reports),
	    cmocka_unit_test(test_expire),
	};

	signal(SIGPIPE, SIG_IGN);
	if (slots_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
