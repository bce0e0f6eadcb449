/* Framing and descriptor passing for the monitor protocol (see monitor_proto.h). */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "gateway/monitor_proto.h"

int
mon_send(int sock, const struct wbuf *b, const int *fds, int nfds)
{
	uint8_t hdr[4];
	struct iovec iov[2];
	struct msghdr mh;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * MON_MAX_FDS)];
	} cm;
	ssize_t n;

	if (b->err || b->len == 0 || b->len > MON_MAX_MSG || nfds < 0 || nfds > MON_MAX_FDS)
		return -1;
	codec_be32_put(hdr, (uint32_t)b->len);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = b->data;
	iov[1].iov_len = b->len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)(sizeof(hdr) + b->len) ? 0 : -1;
}

static void
mon_close_fds(int *fds, int *nfds)
{
	for (int i = 0; i < *nfds; i++)
		close(fds[i]);
	*nfds = 0;
}

int
mon_recv(int sock, uint8_t *buf, size_t cap, size_t *len, int *fds, int *nfds)
{
	uint8_t hdr[4];
	struct iovec iov[2];
	struct msghdr mh;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * (MON_MAX_FDS + 1))];
	} cm;
	struct cmsghdr *c;
	uint32_t want;
	ssize_t n;

	*nfds = 0;
	*len = 0;
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = buf;
	iov[1].iov_len = cap < MON_MAX_MSG ? cap : MON_MAX_MSG;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 1;
	if (n < 0)
		return -1;
	/* Collect descriptors first so that every error path closes them. */
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds >= MON_MAX_FDS) {
				close(fd);
				mh.msg_flags |= MSG_CTRUNC;
				continue;
			}
			fds[(*nfds)++] = fd;
		}
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || n < 5)
		goto bad;
	want = codec_be32_get(hdr);
	if (want == 0 || want > MON_MAX_MSG || want != (size_t)n - sizeof(hdr))
		goto bad;
	*len = want;
	return 0;
bad:
	mon_close_fds(fds, nfds);
	return -1;
}
