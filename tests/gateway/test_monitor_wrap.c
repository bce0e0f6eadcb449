/*
 * Unit tests of the worker's half of the monitor protocol (gateway/monitor_wrap.c): the test
 * plays the monitor on a socketpair and answers each mm_*() call, well or badly. A well-formed
 * answer decodes; a reply to another request, a short or trailing reply, or the wrong number of
 * descriptors ends the worker (exit 1) before the caller sees anything.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gateway/monitor_wrap.h"

static uint8_t buf[MON_MAX_MSG];

/* The worker side: runs one mm_*() call and exits 0 if what it returned was right. */
typedef int (*worker_fn)(int mon);

/* How the fake monitor answers. */
struct answer {
	int reply_type; /* the request type the reply claims to answer; 0: the real one */
	const uint8_t *body;
	size_t body_len;
	int nfds;
	uint8_t expect_type;
};

static int
worker_exit_status(worker_fn fn, const struct answer *a)
{
	int sp[2], st, fds[MON_MAX_FDS], nfds, p[2], give[MON_MAX_FDS];
	struct wbuf reply;
	size_t len;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sp[0]);
		_exit(fn(sp[1]));
	}
	close(sp[1]);
	assert_int_equal(mon_recv(sp[0], buf, sizeof(buf), &len, fds, &nfds), 0);
	assert_int_equal(nfds, 0);
	assert_int_equal(buf[0], a->expect_type);
	assert_int_equal(pipe(p), 0);
	for (int i = 0; i < a->nfds; i++)
		give[i] = i % 2 ? p[1] : p[0];
	wbuf_init(&reply);
	wbuf_put_u8(&reply, MON_REPLY);
	wbuf_put_u8(&reply, (uint8_t)(a->reply_type ? a->reply_type : a->expect_type));
	wbuf_put_raw(&reply, a->body, a->body_len);
	assert_int_equal(mon_send(sp[0], &reply, give, a->nfds), 0);
	wbuf_free(&reply);
	close(p[0]);
	close(p[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(sp[0]);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* ---- the worker-side calls under test ---- */

static int
call_password(int mon)
{
	return mm_auth_password(mon, "alice", "secret") == 1 ? 0 : 10;
}

static int
call_totp(int mon)
{
	struct mm_login who;

	if (mm_auth_totp(mon, "123456", &who) != 1)
		return 10;
	return who.role == 1 && strcmp(who.user, "alice") == 0 && strcmp(who.project, "p1") == 0 &&
		       strcmp(who.area, "remote") == 0
		   ? 0
		   : 11;
}

static int
call_outbox_open(int mon)
{
	uint64_t size = 0;
	int fd = -1;

	if (mm_outbox_open(mon, 7, "t.csv", &fd, &size) != 0)
		return 10;
	return size == 42 && fcntl(fd, F_GETFD) != -1 ? 0 : 11;
}

static int
call_outbox_open_refused(int mon)
{
	uint64_t size = 0;
	int fd = -1;

	return mm_outbox_open(mon, 7, "t.csv", &fd, &size) == -1 && fd == -1 ? 0 : 10;
}

static int
call_session_pty(int mon)
{
	const char *env[] = {"TERM=xterm"};
	struct mm_session_request rq = {.kind = MON_SK_SHELL,
					.command = "",
					.use_pty = 1,
					.term = "xterm",
					.cols = 80,
					.rows = 24,
					.env = env,
					.nenv = 1};
	struct mm_session_fds fds;
	char say[MON_MAX_SAY];

	if (mm_session_start(mon, &rq, &fds, say, sizeof(say)) != 0)
		return 10;
	return fds.in == fds.out && fds.err == -1 && fds.status >= 0 && fds.status != fds.in ? 0
											     : 11;
}

static int
call_session_pty_recorded(int mon)
{
	struct mm_session_request rq = {.kind = MON_SK_SHELL, .use_pty = 1, .term = "xterm"};
	struct mm_session_fds fds;
	char say[MON_MAX_SAY];

	if (mm_session_start(mon, &rq, &fds, say, sizeof(say)) != 0)
		return 10;
	return fds.in == fds.out && fds.status >= 0 && fds.rec >= 0 && fds.rec != fds.status &&
		       fds.rec_id == 7
		   ? 0
		   : 11;
}

static int
call_session_exec(int mon)
{
	struct mm_session_request rq = {.kind = MON_SK_EXEC, .command = "true", .term = ""};
	struct mm_session_fds fds;
	char say[MON_MAX_SAY];

	if (mm_session_start(mon, &rq, &fds, say, sizeof(say)) != 0)
		return 10;
	return fds.in >= 0 && fds.out >= 0 && fds.err >= 0 && fds.status >= 0 ? 0 : 11;
}

/* A refusal's line reaches the caller as the monitor wrote it, and no descriptor is open. */
static int
call_session_refused_say(int mon)
{
	struct mm_session_request rq = {.kind = MON_SK_EXEC, .command = "cat x", .term = ""};
	struct mm_session_fds fds;
	char say[MON_MAX_SAY] = "junk";

	if (mm_session_start(mon, &rq, &fds, say, sizeof(say)) != -1)
		return 10;
	if (fds.in != -1 || fds.out != -1 || fds.err != -1 || fds.status != -1)
		return 11;
	return strcmp(say, "wsgate: no") == 0 ? 0 : 12;
}

static int
call_session_refused_plain(int mon)
{
	struct mm_session_request rq = {.kind = MON_SK_SHELL, .command = "", .term = ""};
	struct mm_session_fds fds;
	char say[MON_MAX_SAY] = "junk";

	return mm_session_start(mon, &rq, &fds, say, sizeof(say)) == -1 && say[0] == '\0' ? 0 : 10;
}

struct list_seen {
	int n;
	uint64_t last_id;
};

static int
list_one(const struct mm_outbox_entry *e, void *arg)
{
	struct list_seen *s = arg;

	s->n++;
	s->last_id = e->id;
	return 0;
}

static int
call_outbox_list(int mon)
{
	struct list_seen s = {0, 0};

	if (mm_outbox_list(mon, list_one, &s) != 0)
		return 10;
	return s.n == 2 && s.last_id == 9 ? 0 : 11;
}

static int
call_upload_commit(int mon)
{
	char msg[64];

	if (mm_upload_commit(mon, 1, "a.csv", "", "", msg, sizeof(msg)) != 0)
		return 10;
	return strcmp(msg, "import request 5") == 0 ? 0 : 11;
}

/* ---- tests ---- */

static void
test_well_formed_replies_decode(void **state)
{
	static const uint8_t ok[] = {1};
	static const uint8_t started[] = {1, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t recorded[] = {1, 0, 0, 0, 0, 0, 0, 0, 7};
	static const uint8_t size42[] = {1, 0, 0, 0, 0, 0, 0, 0, 42};
	struct wbuf b;
	struct answer a;

	memset(&a, 0, sizeof(a));
	a.expect_type = MON_AUTH_PASSWORD;
	a.body = ok;
	a.body_len = sizeof(ok);
	assert_int_equal(worker_exit_status(call_password, &a), 0);

	wbuf_init(&b);
	wbuf_put_u8(&b, 1);
	wbuf_put_u8(&b, 1);
	wbuf_put_str(&b, "alice");
	wbuf_put_str(&b, "p1");
	wbuf_put_str(&b, "remote");
	a.expect_type = MON_AUTH_TOTP;
	a.body = b.data;
	a.body_len = b.len;
	assert_int_equal(worker_exit_status(call_totp, &a), 0);
	wbuf_free(&b);

	a.expect_type = MON_OUTBOX_OPEN;
	a.body = size42;
	a.body_len = sizeof(size42);
	a.nfds = 1;
	assert_int_equal(worker_exit_status(call_outbox_open, &a), 0);

	a.expect_type = MON_SESSION_START;
	a.body = started;
	a.body_len = sizeof(started);
	a.nfds = 2;
	assert_int_equal(worker_exit_status(call_session_pty, &a), 0);
	a.nfds = 4;
	assert_int_equal(worker_exit_status(call_session_exec, &a), 0);
	/* A recorded session: one more descriptor, the recording pipe, last. */
	a.body = recorded;
	a.body_len = sizeof(recorded);
	a.nfds = 3;
	assert_int_equal(worker_exit_status(call_session_pty_recorded, &a), 0);
	a.nfds = 2; /* recorded, but the pipe is missing */
	assert_int_equal(worker_exit_status(call_session_pty_recorded, &a), 1);

	wbuf_init(&b);
	wbuf_put_u8(&b, 1);
	wbuf_put_u32(&b, 2);
	for (uint64_t id = 8; id <= 9; id++) {
		wbuf_put_u64(&b, id);
		wbuf_put_str(&b, "t.csv");
		wbuf_put_u64(&b, 10);
		wbuf_put_u64(&b, 1700000000);
	}
	a.expect_type = MON_OUTBOX_LIST;
	a.body = b.data;
	a.body_len = b.len;
	a.nfds = 0;
	assert_int_equal(worker_exit_status(call_outbox_list, &a), 0);
	wbuf_free(&b);

	wbuf_init(&b);
	wbuf_put_u8(&b, 1);
	wbuf_put_str(&b, "import request 5");
	a.expect_type = MON_UPLOAD_COMMIT;
	a.body = b.data;
	a.body_len = b.len;
	assert_int_equal(worker_exit_status(call_upload_commit, &a), 0);
	wbuf_free(&b);
}

static void
test_refusal_carries_nothing(void **state)
{
	static const uint8_t no[] = {0};
	struct answer a = {0, no, sizeof(no), 0, MON_OUTBOX_OPEN};

	assert_int_equal(worker_exit_status(call_outbox_open_refused, &a), 0);
	/* A refusal that passes a descriptor anyway is a broken monitor. */
	a.nfds = 1;
	assert_int_equal(worker_exit_status(call_outbox_open_refused, &a), 1);
}

static void
test_session_refusal_says(void **state)
{
	static const uint8_t say[] = {0,   0,	0,   0,	  10,  'w', 's', 'g',
				      'a', 't', 'e', ':', ' ', 'n', 'o'};
	static const uint8_t empty[] = {0, 0, 0, 0, 0};
	static const uint8_t bare[] = {0}; /* the line is not optional */
	static const uint8_t longer[] = {0,   0,   0,	0,   11,  'w', 's', 'g',
					 'a', 't', 'e', ':', ' ', 'n', 'o'};
	static const uint8_t trailing[] = {0, 0, 0, 0, 1, 'x', 'y'};
	struct answer a = {0, say, sizeof(say), 0, MON_SESSION_START};

	assert_int_equal(worker_exit_status(call_session_refused_say, &a), 0);
	a.body = empty;
	a.body_len = sizeof(empty);
	assert_int_equal(worker_exit_status(call_session_refused_plain, &a), 0);
	a.body = bare;
	a.body_len = sizeof(bare);
	assert_int_equal(worker_exit_status(call_session_refused_plain, &a), 1);
	a.body = longer;
	a.body_len = sizeof(longer);
	assert_int_equal(worker_exit_status(call_session_refused_say, &a), 1);
	a.body = trailing;
	a.body_len = sizeof(trailing);
	assert_int_equal(worker_exit_status(call_session_refused_plain, &a), 1);
	/* A refusal with descriptors is a broken monitor. */
	a.body = say;
	a.body_len = sizeof(say);
	a.nfds = 4;
	assert_int_equal(worker_exit_status(call_session_refused_say, &a), 1);
}

static void
test_reply_to_another_request_ends_worker(void **state)
{
	static const uint8_t ok[] = {1};
	struct answer a = {MON_AUTH_PUBKEY, ok, sizeof(ok), 0, MON_AUTH_PASSWORD};

	assert_int_equal(worker_exit_status(call_password, &a), 1);
}

static void
test_trailing_or_short_reply_ends_worker(void **state)
{
	static const uint8_t trailing[] = {1, 0xde, 0xad};
	static const uint8_t short_size[] = {1, 0, 0, 0};
	struct answer a = {0, trailing, sizeof(trailing), 0, MON_AUTH_PASSWORD};

	assert_int_equal(worker_exit_status(call_password, &a), 1);
	a.body = NULL;
	a.body_len = 0; /* no ok byte at all */
	assert_int_equal(worker_exit_status(call_password, &a), 1);
	a.expect_type = MON_OUTBOX_OPEN;
	a.body = short_size;
	a.body_len = sizeof(short_size);
	a.nfds = 1;
	assert_int_equal(worker_exit_status(call_outbox_open, &a), 1);
}

static void
test_wrong_descriptor_count_ends_worker(void **state)
{
	static const uint8_t started[] = {1, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t size42[] = {1, 0, 0, 0, 0, 0, 0, 0, 42};
	struct answer a = {0, started, sizeof(started), 4, MON_SESSION_START};

	/* A pty session carries exactly two: four is as wrong as none. */
	assert_int_equal(worker_exit_status(call_session_pty, &a), 1);
	a.nfds = 2;
	assert_int_equal(worker_exit_status(call_session_exec, &a), 1);
	a.expect_type = MON_OUTBOX_OPEN;
	a.body = size42;
	a.body_len = sizeof(size42);
	a.nfds = 0;
	assert_int_equal(worker_exit_status(call_outbox_open, &a), 1);
}

static void
test_status_pipe(void **state)
{
	uint8_t b[MON_STATUS_LEN];
	int p[2], ws = 0;

	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	assert_int_equal(mm_status_read(p[0], &ws), 1); /* nothing yet */
	codec_be32_put(b, 0x0900);			/* exit status 9 */
	assert_int_equal(write(p[1], b, sizeof(b)), (ssize_t)sizeof(b));
	assert_int_equal(mm_status_read(p[0], &ws), 0);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 9);
	close(p[1]);
	assert_int_equal(mm_status_read(p[0], &ws), -1); /* the monitor is gone */
	close(p[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_well_formed_replies_decode),
	    cmocka_unit_test(test_refusal_carries_nothing),
	    cmocka_unit_test(test_session_refusal_says),
	    cmocka_unit_test(test_reply_to_another_request_ends_worker),
	    cmocka_unit_test(test_trailing_or_short_reply_ends_worker),
	    cmocka_unit_test(test_wrong_descriptor_count_ends_worker),
	    cmocka_unit_test(test_status_pipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
