/* Unit tests of the monitor framing: only well-formed frames pass, descriptors never leak. */
#include <sys/socket.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gateway/monitor_proto.h"

static uint8_t buf[MON_MAX_MSG];

static void
pair(int sp[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
}

static int
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static void
test_roundtrip_with_fds(void **state)
{
	struct wbuf b;
	int sp[2], fds[MON_MAX_FDS], nfds, p[2];
	size_t len;

	pair(sp);
	assert_int_equal(pipe(p), 0);
	wbuf_init(&b);
	wbuf_put_u8(&b, MON_AUTH_TOTP);
	wbuf_put_str(&b, "123456");
	assert_int_equal(mon_send(sp[0], &b, p, 2), 0);
	assert_int_equal(mon_recv(sp[1], buf, sizeof(buf), &len, fds, &nfds), 0);
	assert_int_equal(len, b.len);
	assert_memory_equal(buf, b.data, len);
	assert_int_equal(nfds, 2);
	assert_int_equal(write(fds[1], "x", 1), 1);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	close(p[0]);
	close(p[1]);
	wbuf_free(&b);
	close(sp[0]);
	close(sp[1]);
}

static void
test_length_mismatch(void **state)
{
	uint8_t raw[9] = {0, 0, 0, 9, MON_AUTH_TOTP, 1, 2, 3, 4}; /* says 9, carries 5 */
	int sp[2], fds[MON_MAX_FDS], nfds;
	size_t len;

	pair(sp);
	assert_int_equal(send(sp[0], raw, sizeof(raw), 0), (ssize_t)sizeof(raw));
	assert_int_equal(mon_recv(sp[1], buf, sizeof(buf), &len, fds, &nfds), -1);
	raw[3] = 0; /* zero length */
	assert_int_equal(send(sp[0], raw, 4, 0), 4);
	assert_int_equal(mon_recv(sp[1], buf, sizeof(buf), &len, fds, &nfds), -1);
	close(sp[0]);
	close(sp[1]);
}

static void
test_oversize(void **state)
{
	static uint8_t big[MON_MAX_MSG + 100];
	struct wbuf b;
	int sp[2], fds[MON_MAX_FDS], nfds, sz = 4 * MON_MAX_MSG;
	size_t len;

	pair(sp);
	setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	wbuf_init(&b);
	wbuf_put_raw(&b, big, MON_MAX_MSG + 1);
	assert_int_equal(mon_send(sp[0], &b, NULL, 0), -1); /* the sender refuses too */
	wbuf_free(&b);
	big[0] = 0;
	big[1] = 1;
	big[2] = 0;
	big[3] = 96; /* 65632: over the limit, and the datagram is truncated */
	assert_int_equal(send(sp[0], big, sizeof(big), 0), (ssize_t)sizeof(big));
	assert_int_equal(mon_recv(sp[1], buf, sizeof(buf), &len, fds, &nfds), -1);
	close(sp[0]);
	close(sp[1]);
}

static void
test_too_many_fds_closed(void **state)
{
	int sp[2], fds[MON_MAX_FDS], nfds, p[2], many[MON_MAX_FDS + 1];
	uint8_t raw[5] = {0, 0, 0, 1, MON_UPLOAD_ABORT};
	struct msghdr mh;
	struct iovec iov = {raw, sizeof(raw)};
	union {
		struct cmsghdr a;
		char b[CMSG_SPACE(sizeof(int) * (MON_MAX_FDS + 1))];
	} cm;
	struct cmsghdr *c;
	size_t len;
	int probe;

	pair(sp);
	assert_int_equal(pipe(p), 0);
	for (int i = 0; i <= MON_MAX_FDS; i++)
		many[i] = p[0];
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(many));
	memcpy(CMSG_DATA(c), many, sizeof(many));
	assert_true(sendmsg(sp[0], &mh, 0) > 0);
	assert_int_equal(mon_recv(sp[1], buf, sizeof(buf), &len, fds, &nfds), -1);
	assert_int_equal(nfds, 0);
	/* Every received copy was closed: the next descriptor number is the lowest free one. */
	probe = dup(0);
	assert_true(probe < 10);
	close(probe);
	assert_true(fd_open(p[0]));
	close(p[0]);
	close(p[1]);
	close(sp[0]);
	close(sp[1]);
}

static void
test_eof(void **state)
{
	int sp[2], fds[MON_MAX_FDS], nfds;
	size_t len;

	pair(sp);
	close(sp[0]);
	assert_int_equal(mon_recv(sp[1], buf, sizeof(buf), &len, fds, &nfds), 1);
	close(sp[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_with_fds),
	    cmocka_unit_test(test_length_mismatch),
	    cmocka_unit_test(test_oversize),
	    cmocka_unit_test(test_too_many_fds_closed),
	    cmocka_unit_test(test_eof),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
