/*
 * Unit tests of the SFTP engine: crafted packets in, replies and backend calls checked.
 * The fake backend serves exports from memfds and records every upload call.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/nitems.h"
#include "gateway/sftp_proto.h"
#include "gateway/sftp_server.h"

#define EXPORT_SIZE 100000

struct fake {
	int begins, commits, aborts, lists;
	int commit_fail;
	uint64_t last_token;
	int keep_fd; /* the "monitor's" copy of the last staging fd */
	char name[256], reason[SFTP_SIDECAR_MAX + 1], sha256[65];
	char content[64];
	size_t content_len;
};

struct t {
	struct fake f;
	struct sftp_backend be;
	struct sftp_srv *s;
};

/* A parsed reply. */
struct reply {
	uint8_t type;
	uint32_t id;
	uint32_t code;	    /* STATUS */
	char msg[512];	    /* STATUS */
	uint8_t handle[64]; /* HANDLE */
	size_t hlen;
	uint8_t data[SFTP_MAX_READ]; /* DATA */
	size_t dlen;
	uint32_t count;	    /* NAME */
	char names[8][256]; /* NAME: first entries */
	uint32_t perm;	    /* ATTRS */
	uint64_t size;	    /* ATTRS */
};

static int
fake_list(void *arg, int (*fn)(const struct sftp_outbox_entry *e, void *fnarg), void *fnarg)
{
	struct fake *f = arg;
	struct sftp_outbox_entry e = {
	    .id = 7, .name = "data.bin", .size = EXPORT_SIZE, .mtime = 1e9};
	struct sftp_outbox_entry bad = {.id = 9, .name = "bad\nname", .size = 1, .mtime = 1e9};

	f->lists++;
	fn(&e, fnarg);
	fn(&bad, fnarg);
	e.id = 12;
	snprintf(e.name, sizeof(e.name), "other.txt");
	e.size = 5;
	return fn(&e, fnarg);
}

static int
fake_open(void *arg, uint64_t id, const char *name, int *fd, uint64_t *size)
{
	unsigned char buf[4096];

	if (id != 7 || strcmp(name, "data.bin") != 0)
		return -1;
	*fd = memfd_create("export", MFD_CLOEXEC);
	assert_true(*fd >= 0);
	for (size_t off = 0; off < EXPORT_SIZE; off += sizeof(buf)) {
		size_t n = EXPORT_SIZE - off < sizeof(buf) ? EXPORT_SIZE - off : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = (unsigned char)((off + i) * 31);
		assert_int_equal(pwrite(*fd, buf, n, (off_t)off), (ssize_t)n);
	}
	*size = EXPORT_SIZE;
	return 0;
}

static int
fake_begin(void *arg, const char *name, int *fd, uint64_t *token)
{
	struct fake *f = arg;

	f->begins++;
	*fd = memfd_create("upload", MFD_CLOEXEC);
	assert_true(*fd >= 0);
	if (f->keep_fd >= 0)
		close(f->keep_fd);
	f->keep_fd = dup(*fd);
	*token = ++f->last_token;
	snprintf(f->name, sizeof(f->name), "%s", name);
	return 0;
}

static int
fake_commit(void *arg, uint64_t token, const char *name, const char *reason, const char *sha256,
	    char *msg, size_t msglen)
{
	struct fake *f = arg;
	ssize_t n;

	f->commits++;
	assert_int_equal(token, f->last_token);
	assert_string_equal(name, f->name);
	snprintf(f->reason, sizeof(f->reason), "%s", reason);
	snprintf(f->sha256, sizeof(f->sha256), "%s", sha256);
	n = pread(f->keep_fd, f->content, sizeof(f->content), 0);
	assert_true(n >= 0);
	f->content_len = (size_t)n;
	if (f->commit_fail) {
		snprintf(msg, msglen, "file exceeds the import limit");
		return -1;
	}
	snprintf(msg, msglen, "import request %d", f->commits);
	return 0;
}

static void
fake_abort(void *arg, uint64_t token)
{
	struct fake *f = arg;

	f->aborts++;
}

/* ---- packet building ---- */

static void
send_raw(struct t *t, const void *p, size_t n, ssize_t want)
{
	assert_int_equal(sftp_srv_input(t->s, p, n), want);
}

/* Frames the payload b (type, id, fields) and feeds it; expects it all consumed. */
static void
send_pkt(struct t *t, struct wbuf *b)
{
	struct wbuf f;

	wbuf_init(&f);
	wbuf_put_bytes(&f, b->data, b->len);
	assert_false(f.err);
	send_raw(t, f.data, f.len, (ssize_t)f.len);
	wbuf_free(&f);
	wbuf_free(b);
}

static void
begin(struct wbuf *b, uint8_t type, uint32_t id)
{
	wbuf_init(b);
	wbuf_put_u8(b, type);
	wbuf_put_u32(b, id);
}

static void
send_path(struct t *t, uint8_t type, uint32_t id, const char *path)
{
	struct wbuf b;

	begin(&b, type, id);
	wbuf_put_str(&b, path);
	send_pkt(t, &b);
}

static void
send_open(struct t *t, uint32_t id, const char *path, uint32_t flags)
{
	struct wbuf b;

	begin(&b, SSH_FXP_OPEN, id);
	wbuf_put_str(&b, path);
	wbuf_put_u32(&b, flags);
	wbuf_put_u32(&b, SSH_FILEXFER_ATTR_PERMISSIONS);
	wbuf_put_u32(&b, 0644);
	send_pkt(t, &b);
}

static void
send_handle_req(struct t *t, uint8_t type, uint32_t id, const struct reply *h)
{
	struct wbuf b;

	begin(&b, type, id);
	wbuf_put_bytes(&b, h->handle, h->hlen);
	send_pkt(t, &b);
}

static void
send_read(struct t *t, uint32_t id, const struct reply *h, uint64_t off, uint32_t len)
{
	struct wbuf b;

	begin(&b, SSH_FXP_READ, id);
	wbuf_put_bytes(&b, h->handle, h->hlen);
	wbuf_put_u64(&b, off);
	wbuf_put_u32(&b, len);
	send_pkt(t, &b);
}

static void
send_write(struct t *t, uint32_t id, const struct reply *h, uint64_t off, const char *data)
{
	struct wbuf b;

	begin(&b, SSH_FXP_WRITE, id);
	wbuf_put_bytes(&b, h->handle, h->hlen);
	wbuf_put_u64(&b, off);
	wbuf_put_str(&b, data);
	send_pkt(t, &b);
}

/* ---- reply parsing ---- */

static void
parse_name(struct rbuf *r, struct reply *rp)
{
	size_t n;

	rp->count = rbuf_u32(r);
	for (uint32_t i = 0; i < rp->count && rbuf_ok(r); i++) {
		char tmp[512];
		uint32_t fl;

		rbuf_str(r, i < 8 ? rp->names[i] : tmp, i < 8 ? sizeof(rp->names[0]) : sizeof(tmp));
		rbuf_str(r, tmp, sizeof(tmp));
		fl = rbuf_u32(r);
		if (fl & SSH_FILEXFER_ATTR_SIZE)
			(void)rbuf_u64(r);
		if (fl & SSH_FILEXFER_ATTR_PERMISSIONS)
			(void)rbuf_u32(r);
		if (fl & SSH_FILEXFER_ATTR_ACMODTIME)
			(void)rbuf_u64(r);
	}
	(void)n;
}

/* Takes the next reply from the engine's output. */
static void
recv_reply(struct t *t, struct reply *rp)
{
	size_t len, plen;
	const uint8_t *p = sftp_srv_output(t->s, &len);
	struct rbuf r;
	uint32_t fl;

	memset(rp, 0, sizeof(*rp));
	assert_non_null(p);
	assert_true(len >= 4);
	plen = codec_be32_get(p);
	assert_true(len >= 4 + plen);
	rbuf_init(&r, p + 4, plen);
	rp->type = rbuf_u8(&r);
	if (rp->type != SSH_FXP_VERSION)
		rp->id = rbuf_u32(&r);
	switch (rp->type) {
	case SSH_FXP_STATUS:
		rp->code = rbuf_u32(&r);
		rbuf_str(&r, rp->msg, sizeof(rp->msg));
		rbuf_str(&r, rp->msg + 500, 10);
		break;
	case SSH_FXP_HANDLE:
		rbuf_bytes(&r, rp->handle, sizeof(rp->handle), &rp->hlen);
		break;
	case SSH_FXP_DATA:
		rbuf_bytes(&r, rp->data, sizeof(rp->data), &rp->dlen);
		break;
	case SSH_FXP_NAME:
		parse_name(&r, rp);
		break;
	case SSH_FXP_ATTRS:
		fl = rbuf_u32(&r);
		assert_true(fl & SSH_FILEXFER_ATTR_PERMISSIONS);
		rp->size = rbuf_u64(&r);
		rp->perm = rbuf_u32(&r);
		(void)rbuf_u64(&r);
		break;
	case SSH_FXP_VERSION:
		rp->id = rbuf_u32(&r);
		break;
	default:
		fail_msg("unexpected reply type %u", rp->type);
	}
	assert_true(rbuf_done(&r));
	sftp_srv_output_done(t->s, 4 + plen);
}

static void
expect_status(struct t *t, uint32_t id, uint32_t code, const char *msg_part)
{
	struct reply *rp = malloc(sizeof(*rp));

	assert_non_null(rp);
	recv_reply(t, rp);
	assert_int_equal(rp->type, SSH_FXP_STATUS);
	assert_int_equal(rp->id, id);
	if (rp->code != code)
		fail_msg("status %u (%s), wanted %u", rp->code, rp->msg, code);
	if (msg_part && !strstr(rp->msg, msg_part))
		fail_msg("message \"%s\" lacks \"%s\"", rp->msg, msg_part);
	free(rp);
}

static void
expect_handle(struct t *t, uint32_t id, struct reply *h)
{
	recv_reply(t, h);
	if (h->type == SSH_FXP_STATUS)
		fail_msg("open failed: %u %s", h->code, h->msg);
	assert_int_equal(h->type, SSH_FXP_HANDLE);
	assert_int_equal(h->id, id);
}

static void
assert_no_output(struct t *t)
{
	size_t len;

	assert_null(sftp_srv_output(t->s, &len));
	assert_int_equal(len, 0);
}

/* ---- fixtures ---- */

static struct t *
t_new_with(int allow_inbox, int require_checksum)
{
	struct t *t = calloc(1, sizeof(*t));
	struct wbuf b;
	struct reply rp;

	assert_non_null(t);
	t->f.keep_fd = -1;
	t->be = (struct sftp_backend){&t->f,	 allow_inbox, require_checksum, fake_list,
				      fake_open, fake_begin,  fake_commit,	fake_abort, 0, NULL};
	t->s = sftp_srv_new(&t->be);
	assert_non_null(t->s);
	wbuf_init(&b);
	wbuf_put_u8(&b, SSH_FXP_INIT);
	wbuf_put_u32(&b, 3);
	send_pkt(t, &b);
	recv_reply(t, &rp);
	assert_int_equal(rp.type, SSH_FXP_VERSION);
	assert_int_equal(rp.id, 3);
	return t;
}

static struct t *
t_new(int allow_inbox)
{
	return t_new_with(allow_inbox, 0);
}

static int
setup(void **state)
{
	*state = t_new(1);
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	sftp_srv_free(t->s);
	if (t->f.keep_fd >= 0)
		close(t->f.keep_fd);
	free(t);
	return 0;
}

/* ---- framing ---- */

static void
test_request_before_init(void **state)
{
	struct sftp_backend be = {0};
	struct sftp_srv *s = sftp_srv_new(&be);
	uint8_t pkt[] = {0, 0, 0, 5, SSH_FXP_OPENDIR, 0, 0, 0, 1};

	assert_true(sftp_srv_input(s, pkt, sizeof(pkt)) < 0);
	sftp_srv_free(s);
}

static void
test_second_init(void **state)
{
	uint8_t pkt[] = {0, 0, 0, 5, SSH_FXP_INIT, 0, 0, 0, 3};

	send_raw(*state, pkt, sizeof(pkt), -1);
}

static void
test_oversized_length(void **state)
{
	uint8_t big[] = {0, 4, 0, 1, SSH_FXP_WRITE}; /* 256 KiB + 1 */
	uint8_t huge[] = {0xff, 0xff, 0xff, 0xff};

	send_raw(*state, big, sizeof(big), -1);
	teardown(state);
	setup(state);
	send_raw(*state, huge, sizeof(huge), -1);
}

static void
test_short_length(void **state)
{
	uint8_t pkt[] = {0, 0, 0, 4, SSH_FXP_STAT, 0, 0, 0};

	send_raw(*state, pkt, sizeof(pkt), -1);
}

static void
test_truncated_fields(void **state)
{
	/* OPEN with an id but no path, flags or attributes. */
	uint8_t pkt[] = {0, 0, 0, 5, SSH_FXP_OPEN, 0, 0, 0, 9};

	send_raw(*state, pkt, sizeof(pkt), -1);
}

static void
test_string_past_end(void **state)
{
	/* STAT whose path claims 1000 bytes but the packet holds 3. */
	uint8_t pkt[] = {0, 0, 0, 12, SSH_FXP_STAT, 0, 0, 0, 9, 0, 0, 3, 0xe8, '/', 'o', 'u'};

	send_raw(*state, pkt, sizeof(pkt), -1);
}

static void
test_trailing_bytes(void **state)
{
	uint8_t pkt[] = {0, 0, 0, 11, SSH_FXP_STAT, 0, 0, 0, 9, 0, 0, 0, 1, '/', 'x'};

	send_raw(*state, pkt, sizeof(pkt), -1);
}

static void
test_byte_by_byte(void **state)
{
	struct t *t = *state;
	struct wbuf b, f;
	struct reply rp;

	begin(&b, SSH_FXP_REALPATH, 42);
	wbuf_put_str(&b, "a/./b/../../../outbox//7/");
	wbuf_init(&f);
	wbuf_put_bytes(&f, b.data, b.len);
	for (size_t i = 0; i < f.len; i++) {
		send_raw(t, f.data + i, 1, 1);
		if (i + 1 < f.len)
			assert_no_output(t);
	}
	recv_reply(t, &rp);
	assert_int_equal(rp.type, SSH_FXP_NAME);
	assert_int_equal(rp.id, 42);
	assert_int_equal(rp.count, 1);
	assert_string_equal(rp.names[0], "/outbox/7");
	wbuf_free(&b);
	wbuf_free(&f);
}

static void
test_realpath(void **state)
{
	static const char *cases[][2] = {
	    {".", "/"},
	    {"", "/"},
	    {"..", "/"},
	    {"/../..", "/"},
	    {"inbox", "/inbox"},
	    {"//outbox///7//", "/outbox/7"},
	    {"/outbox/1/../../etc/passwd", "/etc/passwd"},
	};
	struct t *t = *state;
	struct reply rp;

	for (size_t i = 0; i < nitems(cases); i++) {
		send_path(t, SSH_FXP_REALPATH, (uint32_t)i, cases[i][0]);
		recv_reply(t, &rp);
		assert_int_equal(rp.type, SSH_FXP_NAME);
		assert_string_equal(rp.names[0], cases[i][1]);
	}
}

static void
test_unknown_and_extended(void **state)
{
	struct t *t = *state;
	struct wbuf b;

	begin(&b, 99, 5);
	send_pkt(t, &b);
	expect_status(t, 5, SSH_FX_OP_UNSUPPORTED, NULL);
	begin(&b, SSH_FXP_EXTENDED, 6);
	wbuf_put_str(&b, "posix-rename@openssh.com");
	wbuf_put_str(&b, "/a");
	wbuf_put_str(&b, "/b");
	send_pkt(t, &b);
	expect_status(t, 6, SSH_FX_OP_UNSUPPORTED, NULL);
	send_path(t, SSH_FXP_READLINK, 7, "/outbox");
	expect_status(t, 7, SSH_FX_OP_UNSUPPORTED, "symbolic links");
}

/* ---- the tree ---- */

static void
list_dir(struct t *t, const char *path, struct reply *rp)
{
	struct reply h;

	send_path(t, SSH_FXP_OPENDIR, 1, path);
	expect_handle(t, 1, &h);
	send_handle_req(t, SSH_FXP_READDIR, 2, &h);
	recv_reply(t, rp);
	assert_int_equal(rp->type, SSH_FXP_NAME);
	send_handle_req(t, SSH_FXP_READDIR, 3, &h);
	expect_status(t, 3, SSH_FX_EOF, NULL);
	send_handle_req(t, SSH_FXP_CLOSE, 4, &h);
	expect_status(t, 4, SSH_FX_OK, NULL);
}

static void
test_listing(void **state)
{
	struct t *t = *state;
	struct reply rp;

	list_dir(t, "/", &rp);
	assert_int_equal(rp.count, 2);
	assert_string_equal(rp.names[0], "inbox");
	assert_string_equal(rp.names[1], "outbox");
	list_dir(t, "/outbox", &rp);
	assert_int_equal(rp.count, 2); /* the export with a control byte in its name is hidden */
	assert_string_equal(rp.names[0], "7");
	assert_string_equal(rp.names[1], "12");
	list_dir(t, "/outbox/7", &rp);
	assert_int_equal(rp.count, 1);
	assert_string_equal(rp.names[0], "data.bin");
	send_path(t, SSH_FXP_OPENDIR, 1, "/inbox");
	expect_handle(t, 1, &rp);
	send_handle_req(t, SSH_FXP_READDIR, 2, &rp);
	expect_status(t, 2, SSH_FX_EOF, NULL);
}

static void
test_stat(void **state)
{
	struct t *t = *state;
	struct reply rp;

	send_path(t, SSH_FXP_STAT, 1, "/outbox/7/data.bin");
	recv_reply(t, &rp);
	assert_int_equal(rp.type, SSH_FXP_ATTRS);
	assert_int_equal(rp.perm, S_IFREG | 0444);
	assert_int_equal(rp.size, EXPORT_SIZE);
	send_path(t, SSH_FXP_LSTAT, 2, "/outbox/../inbox");
	recv_reply(t, &rp);
	assert_int_equal(rp.type, SSH_FXP_ATTRS);
	assert_int_equal(rp.perm, S_IFDIR | 0733);
	send_path(t, SSH_FXP_STAT, 3, "/outbox/7");
	recv_reply(t, &rp);
	assert_int_equal(rp.perm, S_IFDIR | 0555);
}

static void
test_traversal(void **state)
{
	static const char *bad[] = {
	    "/outbox/1/../../etc/passwd", "/outbox/7/../../../etc/shadow",
	    "/outbox/07/data.bin",	  "/outbox/7/other.txt",
	    "/outbox/12/data.bin",	  "/outbox/9/bad\nname",
	    "/outbox/7/data.bin/x",	  "/outbox/18446744073709551623/data.bin",
	    "/outbox/+7/data.bin",	  "/etc/passwd",
	};
	struct t *t = *state;
	struct wbuf b;

	for (size_t i = 0; i < nitems(bad); i++) {
		send_open(t, (uint32_t)i, bad[i], SSH_FXF_READ);
		expect_status(t, (uint32_t)i, SSH_FX_NO_SUCH_FILE, NULL);
	}
	/* A NUL inside the path is not a shorter path. */
	begin(&b, SSH_FXP_OPEN, 50);
	wbuf_put_bytes(&b, "/outbox/7/data.bin\0x", 20);
	wbuf_put_u32(&b, SSH_FXF_READ);
	wbuf_put_u32(&b, 0);
	send_pkt(t, &b);
	expect_status(t, 50, SSH_FX_NO_SUCH_FILE, "invalid path");
	/* Lexical ".." that stays inside the tree is fine. */
	send_open(t, 51, "/inbox/../outbox/12/../7/./data.bin", SSH_FXF_READ);
	{
		struct reply h;

		expect_handle(t, 51, &h);
	}
}

static void
test_control_byte_names(void **state)
{
	static const char *bad[] = {"/inbox/a\nb", "/inbox/\x1b[31m", "/inbox/x\x7f", "/inbox/..",
				    "/inbox/a\tb.reason"};
	struct t *t = *state;

	for (size_t i = 0; i < nitems(bad); i++) {
		send_open(t, (uint32_t)i, bad[i], SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_TRUNC);
		expect_status(t, (uint32_t)i, SSH_FX_PERMISSION_DENIED, NULL);
	}
	assert_int_equal(t->f.begins, 0);
}

static void
test_open_modes_refused(void **state)
{
	static const struct {
		const char *path;
		uint32_t flags;
		uint32_t code;
		const char *msg;
	} cases[] = {
	    {"/outbox/7/data.bin", SSH_FXF_WRITE, SSH_FX_PERMISSION_DENIED, "read-only"},
	    {"/outbox/7/data.bin", SSH_FXF_READ | SSH_FXF_WRITE, SSH_FX_PERMISSION_DENIED,
	     "read-only"},
	    {"/outbox/7/new", SSH_FXF_WRITE | SSH_FXF_CREAT, SSH_FX_PERMISSION_DENIED, "read-only"},
	    {"/inbox/f", SSH_FXF_READ, SSH_FX_PERMISSION_DENIED, "write-only"},
	    {"/inbox/f", SSH_FXF_READ | SSH_FXF_WRITE | SSH_FXF_CREAT, SSH_FX_PERMISSION_DENIED,
	     "write-only"},
	    {"/inbox/f", SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_APPEND, SSH_FX_PERMISSION_DENIED,
	     "write-only"},
	    {"/inbox/f", SSH_FXF_WRITE, SSH_FX_PERMISSION_DENIED, "write-only"},
	    {"/f", SSH_FXF_WRITE | SSH_FXF_CREAT, SSH_FX_PERMISSION_DENIED, "/inbox"},
	    {"/inbox", SSH_FXF_WRITE | SSH_FXF_CREAT, SSH_FX_PERMISSION_DENIED, "/inbox"},
	    {"/outbox/7", SSH_FXF_READ, SSH_FX_FAILURE, "directory"},
	    {"/outbox/7/data.bin", 0, SSH_FX_FAILURE, NULL},
	};
	struct t *t = *state;

	for (size_t i = 0; i < nitems(cases); i++) {
		send_open(t, (uint32_t)i, cases[i].path, cases[i].flags);
		expect_status(t, (uint32_t)i, cases[i].code, cases[i].msg);
	}
	assert_int_equal(t->f.begins, 0);
}

static void
test_refused_requests(void **state)
{
	struct t *t = *state;
	struct wbuf b;

	send_path(t, SSH_FXP_REMOVE, 1, "/outbox/7/data.bin");
	expect_status(t, 1, SSH_FX_PERMISSION_DENIED, "outbox is read-only");
	send_path(t, SSH_FXP_REMOVE, 2, "/inbox/x");
	expect_status(t, 2, SSH_FX_PERMISSION_DENIED, "inbox is write-only");
	begin(&b, SSH_FXP_MKDIR, 3);
	wbuf_put_str(&b, "/inbox/d");
	wbuf_put_u32(&b, 0);
	send_pkt(t, &b);
	expect_status(t, 3, SSH_FX_PERMISSION_DENIED, NULL);
	send_path(t, SSH_FXP_RMDIR, 4, "/outbox/7");
	expect_status(t, 4, SSH_FX_PERMISSION_DENIED, NULL);
	begin(&b, SSH_FXP_RENAME, 5);
	wbuf_put_str(&b, "/outbox/7/data.bin");
	wbuf_put_str(&b, "/inbox/data.bin");
	send_pkt(t, &b);
	expect_status(t, 5, SSH_FX_PERMISSION_DENIED, NULL);
	begin(&b, SSH_FXP_SETSTAT, 6);
	wbuf_put_str(&b, "/outbox/7/data.bin");
	wbuf_put_u32(&b, SSH_FILEXFER_ATTR_PERMISSIONS);
	wbuf_put_u32(&b, 0777);
	send_pkt(t, &b);
	expect_status(t, 6, SSH_FX_PERMISSION_DENIED, "read-only");
	send_path(t, SSH_FXP_STAT, 7, "/inbox/whatever");
	expect_status(t, 7, SSH_FX_NO_SUCH_FILE, "write-only");
}

/* ---- handles and reads ---- */

static void
test_bad_handles(void **state)
{
	struct t *t = *state;
	struct reply h, fake;

	memset(&fake, 0, sizeof(fake));
	fake.hlen = 3;
	send_handle_req(t, SSH_FXP_CLOSE, 1, &fake);
	expect_status(t, 1, SSH_FX_FAILURE, "invalid handle");
	fake.hlen = 8;
	fake.handle[3] = 200; /* slot 200 */
	send_read(t, 2, &fake, 0, 10);
	expect_status(t, 2, SSH_FX_FAILURE, "invalid handle");
	/* A closed handle stays invalid even when its slot is reused. */
	send_open(t, 3, "/outbox/7/data.bin", SSH_FXF_READ);
	expect_handle(t, 3, &h);
	send_handle_req(t, SSH_FXP_CLOSE, 4, &h);
	expect_status(t, 4, SSH_FX_OK, NULL);
	send_path(t, SSH_FXP_OPENDIR, 5, "/");
	expect_handle(t, 5, &fake);
	assert_memory_equal(fake.handle, h.handle, 4); /* same slot */
	send_read(t, 6, &h, 0, 10);
	expect_status(t, 6, SSH_FX_FAILURE, "invalid handle");
	/* A directory handle cannot be read, a file handle cannot be listed. */
	send_read(t, 7, &fake, 0, 10);
	expect_status(t, 7, SSH_FX_FAILURE, NULL);
	send_open(t, 8, "/outbox/7/data.bin", SSH_FXF_READ);
	expect_handle(t, 8, &h);
	send_handle_req(t, SSH_FXP_READDIR, 9, &h);
	expect_status(t, 9, SSH_FX_FAILURE, "directory");
	send_write(t, 10, &h, 0, "x");
	expect_status(t, 10, SSH_FX_PERMISSION_DENIED, "read-only");
}

static void
test_read_past_eof(void **state)
{
	struct t *t = *state;
	struct reply h;
	struct reply *rp = malloc(sizeof(*rp));

	send_open(t, 1, "/outbox/7/data.bin", SSH_FXF_READ);
	expect_handle(t, 1, &h);
	send_read(t, 2, &h, EXPORT_SIZE - 10, 100);
	recv_reply(t, rp);
	assert_int_equal(rp->type, SSH_FXP_DATA);
	assert_int_equal(rp->dlen, 10);
	assert_int_equal(rp->data[0], (unsigned char)((EXPORT_SIZE - 10) * 31));
	send_read(t, 3, &h, EXPORT_SIZE, 100);
	expect_status(t, 3, SSH_FX_EOF, NULL);
	send_read(t, 4, &h, UINT64_MAX, 100);
	expect_status(t, 4, SSH_FX_EOF, NULL);
	/* A huge request is capped, not honoured. */
	send_read(t, 5, &h, 0, UINT32_MAX);
	recv_reply(t, rp);
	assert_int_equal(rp->type, SSH_FXP_DATA);
	assert_int_equal(rp->dlen, SFTP_MAX_READ);
	send_handle_req(t, SSH_FXP_FSTAT, 6, &h);
	recv_reply(t, rp);
	assert_int_equal(rp->type, SSH_FXP_ATTRS);
	assert_int_equal(rp->size, EXPORT_SIZE);
	free(rp);
}

static void
test_handle_limit(void **state)
{
	struct t *t = *state;
	struct reply h;

	for (uint32_t i = 0; i < SFTP_MAX_HANDLES; i++) {
		send_path(t, SSH_FXP_OPENDIR, i, "/outbox");
		expect_handle(t, i, &h);
	}
	send_path(t, SSH_FXP_OPENDIR, 99, "/outbox");
	expect_status(t, 99, SSH_FX_FAILURE, "too many");
	send_open(t, 100, "/inbox/f", SSH_FXF_WRITE | SSH_FXF_CREAT);
	expect_status(t, 100, SSH_FX_FAILURE, "too many");
	assert_int_equal(t->f.begins, 0);
}

static void
test_output_high_water(void **state)
{
	struct t *t = *state;
	struct reply h;
	struct wbuf b, all;
	ssize_t k;
	size_t len;

	send_open(t, 1, "/outbox/7/data.bin", SSH_FXF_READ);
	expect_handle(t, 1, &h);
	/* 64 reads of 64 KiB would make 4 MiB of output: the engine must stop before. */
	wbuf_init(&all);
	for (uint32_t i = 0; i < 64; i++) {
		begin(&b, SSH_FXP_READ, i);
		wbuf_put_bytes(&b, h.handle, h.hlen);
		wbuf_put_u64(&b, 0);
		wbuf_put_u32(&b, SFTP_MAX_READ);
		wbuf_put_bytes(&all, b.data, b.len);
		wbuf_free(&b);
	}
	k = sftp_srv_input(t->s, all.data, all.len);
	assert_true(k > 0 && (size_t)k < all.len);
	assert_non_null(sftp_srv_output(t->s, &len));
	assert_true(len >= SFTP_OUT_HIGH_WATER && len < SFTP_OUT_HIGH_WATER + 2 * SFTP_MAX_READ);
	assert_int_equal(sftp_srv_input(t->s, all.data + k, all.len - (size_t)k), 0);
	sftp_srv_output_done(t->s, len);
	assert_true(sftp_srv_input(t->s, all.data + k, all.len - (size_t)k) > 0);
	wbuf_free(&all);
}

/* Output drained in odd pieces while more requests arrive: the stream stays intact. */
static void
test_output_partial_drain(void **state)
{
	struct t *t = *state;
	struct reply h;
	struct wbuf b, all, got;
	size_t off = 0, len, pos = 0;
	const uint8_t *p;

	send_open(t, 1, "/outbox/7/data.bin", SSH_FXF_READ);
	expect_handle(t, 1, &h);
	wbuf_init(&all);
	wbuf_init(&got);
	for (uint32_t i = 0; i < 40; i++) {
		begin(&b, SSH_FXP_READ, 100 + i);
		wbuf_put_bytes(&b, h.handle, h.hlen);
		wbuf_put_u64(&b, (uint64_t)(i % 2) * 1000);
		wbuf_put_u32(&b, SFTP_MAX_READ);
		wbuf_put_bytes(&all, b.data, b.len);
		wbuf_free(&b);
	}
	while (off < all.len || sftp_srv_output(t->s, &len) != NULL) {
		size_t feed = all.len - off < 7 ? all.len - off : 7;
		ssize_t k = sftp_srv_input(t->s, all.data + off, feed);

		assert_true(k >= 0);
		off += (size_t)k;
		if ((p = sftp_srv_output(t->s, &len)) != NULL) {
			len = len < 9999 ? len : 9999;
			wbuf_put_raw(&got, p, len);
			sftp_srv_output_done(t->s, len);
		}
	}
	assert_false(got.err);
	for (uint32_t i = 0; i < 40; i++) {
		struct rbuf r;
		size_t plen, dlen;
		const uint8_t *d;
		uint64_t base = (uint64_t)(i % 2) * 1000;

		assert_true(got.len - pos >= 4);
		rbuf_init(&r, got.data + pos, got.len - pos);
		plen = rbuf_u32(&r);
		assert_int_equal(rbuf_u8(&r), SSH_FXP_DATA);
		assert_int_equal(rbuf_u32(&r), 100 + i);
		d = rbuf_view(&r, &dlen);
		assert_true(rbuf_ok(&r));
		assert_int_equal(dlen, SFTP_MAX_READ);
		for (size_t j = 0; j < dlen; j += 4099)
			assert_int_equal(d[j], (unsigned char)((base + j) * 31));
		pos += 4 + plen;
	}
	assert_int_equal(pos, got.len);
	wbuf_free(&all);
	wbuf_free(&got);
}

/* ---- uploads ---- */

static void
open_upload(struct t *t, uint32_t id, const char *path, struct reply *h)
{
	send_open(t, id, path, SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_TRUNC);
	expect_handle(t, id, h);
}

static void
test_upload_commit(void **state)
{
	struct t *t = *state;
	struct reply h;
	struct wbuf b;

	open_upload(t, 1, "/inbox/result.csv", &h);
	/* Out of order, overlapping: still contiguous from 0. */
	send_write(t, 2, &h, 5, "56789");
	expect_status(t, 2, SSH_FX_OK, NULL);
	send_write(t, 3, &h, 0, "01234");
	expect_status(t, 3, SSH_FX_OK, NULL);
	send_write(t, 4, &h, 3, "34567");
	expect_status(t, 4, SSH_FX_OK, NULL);
	begin(&b, SSH_FXP_FSETSTAT, 5);
	wbuf_put_bytes(&b, h.handle, h.hlen);
	wbuf_put_u32(&b, SSH_FILEXFER_ATTR_ACMODTIME);
	wbuf_put_u32(&b, 1);
	wbuf_put_u32(&b, 2);
	send_pkt(t, &b);
	expect_status(t, 5, SSH_FX_OK, NULL);
	send_handle_req(t, SSH_FXP_CLOSE, 6, &h);
	expect_status(t, 6, SSH_FX_OK, "queued as import request 1");
	assert_int_equal(t->f.commits, 1);
	assert_int_equal(t->f.aborts, 0);
	assert_int_equal(t->f.content_len, 10);
	assert_memory_equal(t->f.content, "0123456789", 10);
	assert_string_equal(t->f.reason, "");
}

static void
test_upload_hole(void **state)
{
	struct t *t = *state;
	struct reply h;

	open_upload(t, 1, "/inbox/holes", &h);
	send_write(t, 2, &h, 0, "0123");
	expect_status(t, 2, SSH_FX_OK, NULL);
	send_write(t, 3, &h, 8, "89");
	expect_status(t, 3, SSH_FX_OK, NULL);
	send_handle_req(t, SSH_FXP_CLOSE, 4, &h);
	expect_status(t, 4, SSH_FX_FAILURE, "nothing was queued");
	assert_int_equal(t->f.commits, 0);
	assert_int_equal(t->f.aborts, 1);
	/* Missing start. */
	open_upload(t, 5, "/inbox/tail", &h);
	send_write(t, 6, &h, 4, "tail");
	expect_status(t, 6, SSH_FX_OK, NULL);
	send_handle_req(t, SSH_FXP_CLOSE, 7, &h);
	expect_status(t, 7, SSH_FX_FAILURE, NULL);
	assert_int_equal(t->f.commits, 0);
	assert_int_equal(t->f.aborts, 2);
}

static void
test_upload_scattered(void **state)
{
	struct t *t = *state;
	struct reply h;
	uint32_t i;

	open_upload(t, 1, "/inbox/scatter", &h);
	for (i = 0; i < SFTP_MAX_RANGES; i++) {
		send_write(t, 10 + i, &h, 1 + 2 * (uint64_t)i, "x");
		expect_status(t, 10 + i, SSH_FX_OK, NULL);
	}
	send_write(t, 999, &h, 1000, "x");
	expect_status(t, 999, SSH_FX_FAILURE, "scattered");
	/* Filling every hole now does not help: the upload is spoiled. */
	send_write(t, 1000, &h, 0, "0123456789");
	expect_status(t, 1000, SSH_FX_FAILURE, NULL);
	send_write(t, 1001, &h, INT64_MAX, "x");
	expect_status(t, 1001, SSH_FX_FAILURE, NULL);
	send_handle_req(t, SSH_FXP_CLOSE, 2, &h);
	expect_status(t, 2, SSH_FX_FAILURE, NULL);
	assert_int_equal(t->f.commits, 0);
	assert_int_equal(t->f.aborts, 1);
}

static void
test_upload_offset_overflow(void **state)
{
	struct t *t = *state;
	struct reply h;

	open_upload(t, 1, "/inbox/big", &h);
	send_write(t, 2, &h, UINT64_MAX - 1, "xyz");
	expect_status(t, 2, SSH_FX_FAILURE, NULL);
	send_handle_req(t, SSH_FXP_CLOSE, 3, &h);
	expect_status(t, 3, SSH_FX_FAILURE, NULL);
	assert_int_equal(t->f.commits, 0);
}

static void
test_free_mid_upload_aborts(void **state)
{
	struct t *t = *state;
	struct reply h;

	open_upload(t, 1, "/inbox/partial", &h);
	send_write(t, 2, &h, 0, "complete so far");
	expect_status(t, 2, SSH_FX_OK, NULL);
	sftp_srv_free(t->s);
	t->s = NULL;
	assert_int_equal(t->f.aborts, 1);
	assert_int_equal(t->f.commits, 0);
	t->s = sftp_srv_new(&t->be); /* for teardown */
}

static void
test_commit_failure(void **state)
{
	struct t *t = *state;
	struct reply h;

	t->f.commit_fail = 1;
	open_upload(t, 1, "/inbox/huge.bin", &h);
	send_write(t, 2, &h, 0, "data");
	expect_status(t, 2, SSH_FX_OK, NULL);
	send_handle_req(t, SSH_FXP_CLOSE, 3, &h);
	expect_status(t, 3, SSH_FX_FAILURE, "upload refused: file exceeds the import limit");
	assert_int_equal(t->f.commits, 1);
	/* The handle is gone either way. */
	send_handle_req(t, SSH_FXP_CLOSE, 4, &h);
	expect_status(t, 4, SSH_FX_FAILURE, "invalid handle");
	assert_int_equal(t->f.aborts, 0);
}

static void
test_reason(void **state)
{
	struct t *t = *state;
	struct reply h;
	char big[SFTP_SIDECAR_MAX + 2];

	open_upload(t, 1, "/inbox/data.csv.reason", &h);
	send_write(t, 2, &h, 0, "  needed for\tthe\nreview\n");
	expect_status(t, 2, SSH_FX_OK, NULL);
	send_handle_req(t, SSH_FXP_CLOSE, 3, &h);
	expect_status(t, 3, SSH_FX_OK, "reason kept");
	assert_int_equal(t->f.begins, 0);
	open_upload(t, 4, "/inbox/data.csv", &h);
	send_write(t, 5, &h, 0, "a,b");
	expect_status(t, 5, SSH_FX_OK, NULL);
	send_handle_req(t, SSH_FXP_CLOSE, 6, &h);
	expect_status(t, 6, SSH_FX_OK, "queued");
	assert_string_equal(t->f.reason, "needed for the review");
	/* Used once only. */
	open_upload(t, 7, "/inbox/data.csv", &h);
	send_handle_req(t, SSH_FXP_CLOSE, 8, &h);
	expect_status(t, 8, SSH_FX_OK, "queued");
	assert_string_equal(t->f.reason, "");
	/* Too long, or binary: refused. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	open_upload(t, 9, "/inbox/x.reason", &h);
	send_write(t, 10, &h, 0, big);
	expect_status(t, 10, SSH_FX_FAILURE, "longer");
	send_handle_req(t, SSH_FXP_CLOSE, 11, &h);
	expect_status(t, 11, SSH_FX_FAILURE, NULL);
	open_upload(t, 12, "/inbox/x.reason", &h);
	send_write(t, 13, &h, 0, "bell\a");
	expect_status(t, 13, SSH_FX_OK, NULL);
	send_handle_req(t, SSH_FXP_CLOSE, 14, &h);
	expect_status(t, 14, SSH_FX_FAILURE, "control");
}

#define HEX_A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* Uploads text to path and expects code (and msg) for its CLOSE. */
static void
put_sidecar(struct t *t, uint32_t id, const char *path, const char *text, uint32_t code,
	    const char *msg)
{
	struct reply h;

	open_upload(t, id, path, &h);
	send_write(t, id + 1, &h, 0, text);
	expect_status(t, id + 1, SSH_FX_OK, NULL);
	send_handle_req(t, SSH_FXP_CLOSE, id + 2, &h);
	expect_status(t, id + 2, code, msg);
}

static void
put_data(struct t *t, uint32_t id, const char *path, uint32_t code, const char *msg)
{
	struct reply h;

	open_upload(t, id, path, &h);
	send_write(t, id + 1, &h, 0, "a,b");
	expect_status(t, id + 1, SSH_FX_OK, NULL);
	send_handle_req(t, SSH_FXP_CLOSE, id + 2, &h);
	expect_status(t, id + 2, code, msg);
}

/* NAME.sha256 declares the hash the next upload of NAME must have (the backend checks it). */
static void
test_checksum_sidecar(void **state)
{
	struct t *t = *state;

	/* sha256sum's output, upper-case digits, bare digits: all taken, lower-cased */
	put_sidecar(t, 1, "/inbox/d.csv.sha256", HEX_A "  ./local/d.csv\n", SSH_FX_OK,
		    "checksum kept");
	put_data(t, 4, "/inbox/d.csv", SSH_FX_OK, "queued");
	assert_string_equal(t->f.sha256, HEX_A);
	/* used by the queued upload: the next one declares nothing */
	put_data(t, 7, "/inbox/d.csv", SSH_FX_OK, "queued");
	assert_string_equal(t->f.sha256, "");
	put_sidecar(t, 10, "/inbox/e.csv.sha256",
		    "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF", SSH_FX_OK,
		    "checksum kept");
	/* a refused upload (the backend: wrong bytes) keeps the declaration for the retry */
	t->f.commit_fail = 1;
	put_data(t, 13, "/inbox/e.csv", SSH_FX_FAILURE, "upload refused");
	t->f.commit_fail = 0;
	put_data(t, 16, "/inbox/e.csv", SSH_FX_OK, "queued");
	assert_string_equal(t->f.sha256, HEX_A);
	/* not a checksum: short, not hex, glued to the name, two lines */
	put_sidecar(t, 19, "/inbox/f.sha256", "0011", SSH_FX_FAILURE, "64 hex digits");
	put_sidecar(t, 22, "/inbox/f.sha256",
		    "g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		    SSH_FX_FAILURE, "64 hex digits");
	put_sidecar(t, 25, "/inbox/f.sha256", HEX_A "0  f\n", SSH_FX_FAILURE, "64 hex digits");
	put_sidecar(t, 28, "/inbox/f.sha256", HEX_A "  f\n" HEX_A "  g\n", SSH_FX_FAILURE,
		    "64 hex digits");
	put_data(t, 31, "/inbox/f", SSH_FX_OK, "queued");
	assert_string_equal(t->f.sha256, "");
}

/* import_require_checksum: an upload with nothing declared is refused at OPEN, before data. */
static void
test_checksum_required(void **state)
{
	struct t *t = t_new_with(1, 1);
	void *own = t;

	(void)state;
	send_open(t, 1, "/inbox/g.csv", SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_TRUNC);
	expect_status(t, 1, SSH_FX_PERMISSION_DENIED,
		      "declare its SHA-256 first: put g.csv.sha256");
	assert_int_equal(t->f.begins, 0);
	put_sidecar(t, 2, "/inbox/g.csv.sha256", HEX_A "\n", SSH_FX_OK, "checksum kept");
	put_data(t, 5, "/inbox/g.csv", SSH_FX_OK, "queued");
	assert_string_equal(t->f.sha256, HEX_A);
	teardown(&own);
}

static void
send_rename(struct t *t, uint32_t id, const char *from, const char *to)
{
	struct wbuf b;

	begin(&b, SSH_FXP_RENAME, id);
	wbuf_put_str(&b, from);
	wbuf_put_str(&b, to);
	send_pkt(t, &b);
}

static void
send_setstat(struct t *t, uint32_t id, const char *path)
{
	struct wbuf b;

	begin(&b, SSH_FXP_SETSTAT, id);
	wbuf_put_str(&b, path);
	wbuf_put_u32(&b, SSH_FILEXFER_ATTR_ACMODTIME);
	wbuf_put_u32(&b, 1700000000);
	wbuf_put_u32(&b, 1700000000);
	send_pkt(t, &b);
}

/* WinSCP-style: NAME.filepart is held at CLOSE and queued as NAME by its RENAME; one never
 * renamed (the client stopped, or the session ended) is never queued. */
static void
test_filepart_rename(void **state)
{
	struct t *t = *state;
	struct reply h;

	put_sidecar(t, 1, "/inbox/w.csv.sha256", HEX_A "\n", SSH_FX_OK, "checksum kept");
	put_data(t, 4, "/inbox/w.csv.filepart", SSH_FX_OK, "held until renamed to w.csv");
	assert_int_equal(t->f.commits, 0);
	send_rename(t, 7, "/inbox/w.csv.filepart", "/inbox/other.csv");
	expect_status(t, 7, SSH_FX_PERMISSION_DENIED, "renaming is not allowed");
	send_rename(t, 8, "/inbox/w.csv.filepart", "/inbox/w.csv");
	expect_status(t, 8, SSH_FX_OK, "queued");
	assert_int_equal(t->f.commits, 1);
	assert_string_equal(t->f.name, "w.csv");
	assert_string_equal(t->f.sha256, HEX_A);
	send_setstat(t, 9, "/inbox/w.csv"); /* WinSCP sets the time after the rename */
	expect_status(t, 9, SSH_FX_OK, NULL);
	send_setstat(t, 10, "/inbox/never.csv");
	expect_status(t, 10, SSH_FX_PERMISSION_DENIED, NULL);
	send_rename(t, 11, "/inbox/w.csv.filepart", "/inbox/w.csv"); /* nothing held any more */
	expect_status(t, 11, SSH_FX_NO_SUCH_FILE, "no complete upload");
	/* an incomplete one is aborted at CLOSE, not held */
	open_upload(t, 12, "/inbox/h.csv.filepart", &h);
	send_write(t, 13, &h, 10, "late");
	expect_status(t, 13, SSH_FX_OK, NULL);
	send_handle_req(t, SSH_FXP_CLOSE, 14, &h);
	expect_status(t, 14, SSH_FX_FAILURE, "nothing was queued");
	send_rename(t, 15, "/inbox/h.csv.filepart", "/inbox/h.csv");
	expect_status(t, 15, SSH_FX_NO_SUCH_FILE, NULL);
	/* held but never renamed: aborted when the session ends, never committed */
	put_data(t, 16, "/inbox/k.csv.filepart", SSH_FX_OK, "held");
	t->f.aborts = 0;
	sftp_srv_free(t->s);
	t->s = NULL;
	assert_int_equal(t->f.aborts, 1);
	assert_int_equal(t->f.commits, 1);
}

/* With the checksum required, NAME.filepart needs NAME.sha256 (the name it will have). */
static void
test_filepart_checksum_required(void **state)
{
	struct t *t = t_new_with(1, 1);
	void *own = t;

	(void)state;
	send_open(t, 1, "/inbox/r.csv.filepart", SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_TRUNC);
	expect_status(t, 1, SSH_FX_PERMISSION_DENIED, "put r.csv.sha256");
	/* the sidecar itself through a temporary name (lftp does that for every file) */
	put_sidecar(t, 2, "/inbox/r.csv.sha256.filepart", HEX_A, SSH_FX_OK, "checksum kept");
	send_rename(t, 20, "/inbox/r.csv.sha256.filepart", "/inbox/r.csv.sha256");
	expect_status(t, 20, SSH_FX_OK, "kept");
	send_rename(t, 21, "/inbox/q.csv.sha256.filepart", "/inbox/q.csv.sha256");
	expect_status(t, 21, SSH_FX_NO_SUCH_FILE, NULL);
	put_data(t, 5, "/inbox/r.csv.filepart", SSH_FX_OK, "held");
	send_rename(t, 8, "/inbox/r.csv.filepart", "/inbox/r.csv");
	expect_status(t, 8, SSH_FX_OK, "queued");
	assert_string_equal(t->f.sha256, HEX_A);
	teardown(&own);
}

/* The OPEN of an upload asks the policy (sftp_upload.c) before taking a handle and starts the
 * upload after: with every handle taken, a name or checksum refusal still says why, and an
 * upload refused for want of a handle neither begins nor uses up its sidecars. */
static void
test_handle_limit_policy_first(void **state)
{
	struct t *t = t_new_with(1, 1);
	void *own = t;
	struct reply h;

	(void)state;
	put_sidecar(t, 1, "/inbox/o.csv.reason", "why", SSH_FX_OK, "reason kept");
	put_sidecar(t, 4, "/inbox/o.csv.sha256", HEX_A "\n", SSH_FX_OK, "checksum kept");
	for (uint32_t i = 0; i < SFTP_MAX_HANDLES; i++) {
		send_path(t, SSH_FXP_OPENDIR, 10 + i, "/outbox");
		expect_handle(t, 10 + i, &h);
	}
	send_open(t, 50, "/inbox/n.csv", SSH_FXF_WRITE | SSH_FXF_CREAT);
	expect_status(t, 50, SSH_FX_PERMISSION_DENIED, "declare its SHA-256 first");
	send_open(t, 51, "/inbox/...filepart", SSH_FXF_WRITE | SSH_FXF_CREAT);
	expect_status(t, 51, SSH_FX_PERMISSION_DENIED, "invalid file name");
	send_open(t, 52, "/inbox/o.csv", SSH_FXF_WRITE | SSH_FXF_CREAT);
	expect_status(t, 52, SSH_FX_FAILURE, "too many");
	assert_int_equal(t->f.begins, 0);
	send_handle_req(t, SSH_FXP_CLOSE, 53, &h);
	expect_status(t, 53, SSH_FX_OK, NULL);
	put_data(t, 54, "/inbox/o.csv", SSH_FX_OK, "queued");
	assert_string_equal(t->f.reason, "why");
	assert_string_equal(t->f.sha256, HEX_A);
	teardown(&own);
}

static void
test_stats_user(void **state)
{
	struct t *t = t_new(0);
	struct reply rp;

	list_dir(t, "/", &rp);
	assert_int_equal(rp.count, 1);
	assert_string_equal(rp.names[0], "outbox");
	send_path(t, SSH_FXP_STAT, 1, "/inbox");
	expect_status(t, 1, SSH_FX_NO_SUCH_FILE, NULL);
	send_open(t, 2, "/inbox/f", SSH_FXF_WRITE | SSH_FXF_CREAT);
	expect_status(t, 2, SSH_FX_PERMISSION_DENIED, "may not upload");
	assert_int_equal(t->f.begins, 0);
	*state = t;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_before_init),
	    cmocka_unit_test_setup_teardown(test_second_init, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversized_length, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_short_length, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncated_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_string_past_end, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trailing_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_byte_by_byte, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_realpath, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_and_extended, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_listing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stat, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_traversal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_control_byte_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_modes_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_handles, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_past_eof, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_handle_limit, setup, teardown),
	    cmocka_unit_test(test_handle_limit_policy_first),
	    cmocka_unit_test_setup_teardown(test_output_high_water, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_output_partial_drain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upload_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upload_hole, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upload_scattered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upload_offset_overflow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_mid_upload_aborts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reason, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checksum_sidecar, setup, teardown),
	    cmocka_unit_test(test_checksum_required),
	    cmocka_unit_test_setup_teardown(test_filepart_rename, setup, teardown),
	    cmocka_unit_test(test_filepart_checksum_required),
	    cmocka_unit_test_teardown(test_stats_user, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
