/*
 * libFuzzer target for the SFTP engine: after a valid INIT, the input is fed to sftp_srv_input
 * in chunks whose sizes the input chooses, with the output drained in varying amounts. Besides
 * the sanitizers it checks the engine's promises: the output is a stream of well-formed packets,
 * no upload is both committed and aborted, every begun upload ends in exactly one of them once
 * the engine is freed, and no fd leaks.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/codec.h"
#include "gateway/sftp_proto.h"
#include "gateway/sftp_server.h"

struct fz {
	int export_fd;
	unsigned begins, commits, aborts;
	uint8_t ended[64]; /* per token: 1 committed, 2 aborted */
	uint8_t hdr[4];	   /* output framing check */
	size_t hdrlen, left;
};

static struct fz fz = {.export_fd = -1};

/* The lowest free descriptor: it rises if the engine leaks one. */
static int
fz_lowest_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static int
fz_list(void *arg, int (*fn)(const struct sftp_outbox_entry *e, void *fnarg), void *fnarg)
{
	struct sftp_outbox_entry e = {.id = 7, .name = "data.bin", .size = 5000, .mtime = 1};

	if (fn(&e, fnarg) != 0)
		return 0;
	e.id = 8;
	memcpy(e.name, "x.reason", 9);
	e.size = 0;
	return fn(&e, fnarg);
}

static int
fz_open(void *arg, uint64_t id, const char *name, int *fd, uint64_t *size)
{
	if (id != 7 || strcmp(name, "data.bin") != 0)
		abort(); /* the engine must only open what the listing showed */
	*fd = dup(fz.export_fd);
	*size = 5000;
	return *fd < 0 ? -1 : 0;
}

static int
fz_begin(void *arg, const char *name, int *fd, uint64_t *token)
{
	if (fz.begins >= sizeof(fz.ended) || strchr(name, '/'))
		return -1;
	*fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (*fd < 0)
		return -1;
	*token = fz.begins++;
	return 0;
}

static void
fz_end(uint64_t token, uint8_t how)
{
	if (token >= fz.begins || fz.ended[token])
		abort();
	fz.ended[token] = how;
}

static int
fz_commit(void *arg, uint64_t token, const char *name, const char *reason, const char *sha256,
	  char *msg, size_t msglen)
{
	fz_end(token, 1);
	fz.commits++;
	if (!reason || strlen(reason) > SFTP_SIDECAR_MAX)
		abort();
	/* the engine only ever passes nothing or 64 lower-case hex digits */
	if (!sha256 || (sha256[0] && strlen(sha256) != 64) ||
	    strspn(sha256, "0123456789abcdef") != strlen(sha256))
		abort();
	strncpy(msg, token & 1 ? "refused" : "import request 1", msglen - 1);
	return token & 1 ? -1 : 0;
}

static void
fz_abort(void *arg, uint64_t token)
{
	fz_end(token, 2);
	fz.aborts++;
}

/* Follows the output stream packet by packet; a length out of bounds is a bug. */
static void
fz_check_output(const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (fz.left > 0) {
			size_t k = n < fz.left ? n : fz.left;

			fz.left -= k;
			p += k;
			n -= k;
			continue;
		}
		fz.hdr[fz.hdrlen++] = *p++;
		n--;
		if (fz.hdrlen < 4)
			continue;
		fz.left = codec_be32_get(fz.hdr);
		fz.hdrlen = 0;
		if (fz.left < 5 || fz.left > SFTP_MAX_READ + 64)
			abort();
	}
}

static void
fz_drain(struct sftp_srv *s, size_t max)
{
	size_t n;
	const uint8_t *p = sftp_srv_output(s, &n);

	if (!p)
		return;
	if (n > max)
		n = max;
	fz_check_output(p, n);
	sftp_srv_output_done(s, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t init[] = {0, 0, 0, 5, SSH_FXP_INIT, 0, 0, 0, 3};
	struct sftp_backend be = {&fz, 1, 0, fz_list, fz_open, fz_begin, fz_commit, fz_abort, 0, NULL};
	struct sftp_srv *s;
	size_t off = 0;
	int stuck = 0, lowest;

	if (fz.export_fd < 0) {
		fz.export_fd = memfd_create("export", MFD_CLOEXEC);
		if (fz.export_fd < 0 || ftruncate(fz.export_fd, 5000) < 0)
			abort();
	}
	memset(fz.ended, 0, sizeof(fz.ended));
	fz.begins = fz.commits = fz.aborts = 0;
	fz.hdrlen = fz.left = 0;
	lowest = fz_lowest_fd();
	be.allow_inbox = size > 0 && (data[0] & 0x80) == 0;
	be.require_checksum = size > 0 && (data[0] & 0x40) != 0;
	be.import_max_size = size > 0 && (data[0] & 0x20) != 0 ? 4096 : 0; /* the cut-off path */
	s = sftp_srv_new(&be);
	if (!s)
		return 0;
	if (sftp_srv_input(s, init, sizeof(init)) != sizeof(init))
		abort();
	while (off < size) {
		/* The chunk size comes from the input: exercises packets split anywhere. */
		size_t chunk = 1 + (data[off] & 0x3f) * 97;
		ssize_t k;

		if (chunk > size - off)
			chunk = size - off;
		k = sftp_srv_input(s, data + off, chunk);
		if (k < 0)
			break;
		off += (size_t)k;
		fz_drain(s, (data[off - (k > 0)] & 1) ? SIZE_MAX : 70000);
		stuck = k == 0 ? stuck + 1 : 0;
		if (stuck > 64)
			abort(); /* draining must always let input through again */
	}
	fz_drain(s, SIZE_MAX);
	sftp_srv_free(s);
	for (unsigned i = 0; i < fz.begins; i++)
		if (!fz.ended[i])
			abort(); /* an upload was neither queued nor aborted */
	if (fz_lowest_fd() != lowest)
		abort();
	return 0;
}
