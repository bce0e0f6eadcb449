/*
 * A small non-blocking SFTP v3 server over the virtual tree described in sftp_server.h.
 *
 * Why not libssh's sftp server: in libssh 0.10 sftp_get_client_message() blocks on its channel,
 * which would freeze every sibling channel of a ControlMaster connection, and the airlock must
 * see each open, write and close of an upload to queue exactly the finished ones. So this file
 * parses the protocol itself: whole packets only, every field read through the bounded rbuf_*
 * reader, and only the requests the virtual tree needs (docs/sftp.md).
 *
 * This file is the protocol, the handles and the tree. What an upload to /inbox becomes
 * (sidecars, complete-write tracking, NAME.filepart held until its rename) is the import-upload
 * policy in sftp_upload.c; this file asks it and sends its answers.
 */
#include "common/utctime.h"
#include "gateway/sftp_server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/names.h"
#include "common/nitems.h"
#include "common/units.h"
#include "gateway/sftp_proto.h"
#include "gateway/sftp_upload.h"

/* H_UPLOAD: a write to /inbox, a file to import or a sidecar; sftp_upload.c decides which. */
enum sftp_hkind { H_FREE, H_DIR, H_READ, H_UPLOAD };

enum sftp_nkind { N_NONE, N_ROOT, N_INBOX, N_OUTBOX, N_EXPORT_DIR, N_EXPORT_FILE, N_INBOX_FILE };

struct sftp_attr {
	uint32_t perm; /* including the S_IFDIR/S_IFREG type bits */
	uint64_t size;
	uint64_t mtime;
};

struct sftp_dirent {
	char name[256];
	struct sftp_attr a;
};

struct sftp_handle {
	int kind;
	uint32_t gen;
	int fd;			  /* read: the export's fd */
	struct sftp_attr a;	  /* read: size is the EOF */
	struct sftp_dirent *ents; /* dir: snapshot taken at OPENDIR */
	size_t nents, cap, pos;
	struct sftp_upload *up; /* upload: the policy's state, which holds its fd */
};

struct sftp_srv {
	struct sftp_backend be;
	int inited;
	uint64_t now;
	uint8_t *in; /* one partial packet, with its length field */
	size_t inlen;
	struct wbuf out;
	size_t outhead;
	uint8_t *scratch;
	struct sftp_handle h[SFTP_MAX_HANDLES];
	struct sftp_upload_ctx *uploads; /* sidecars and held uploads of this session */
};

enum sftp_area { A_OTHER, A_INBOX, A_OUTBOX };

struct sftp_node {
	int kind;
	int area; /* which top directory the path is under, even if it names nothing */
	char name[256];
	struct sftp_outbox_entry ent;
};

/* ---- replies ---- */

static size_t
sftp_reply_begin(struct sftp_srv *s, uint8_t type, uint32_t id)
{
	size_t at = s->out.len;

	wbuf_put_u32(&s->out, 0);
	wbuf_put_u8(&s->out, type);
	wbuf_put_u32(&s->out, id);
	return at;
}

static void
sftp_reply_end(struct sftp_srv *s, size_t at)
{
	size_t n;
	uint8_t *p;

	if (s->out.err)
		return;
	n = s->out.len - at - 4;
	p = s->out.data + at;
	codec_be32_put(p, (uint32_t)n);
}

static int __attribute__((format(printf, 4, 5)))
sftp_status(struct sftp_srv *s, uint32_t id, uint32_t code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	size_t at;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	at = sftp_reply_begin(s, SSH_FXP_STATUS, id);
	wbuf_put_u32(&s->out, code);
	wbuf_put_str(&s->out, msg);
	wbuf_put_str(&s->out, "en");
	sftp_reply_end(s, at);
	return 0;
}

/* The policy's answer (sftp_upload.c), as a STATUS. */
static int
sftp_reply_answer(struct sftp_srv *s, uint32_t id, const struct sftp_answer *ans)
{
	return sftp_status(s, id, ans->code, "%s", ans->msg);
}

static void
sftp_put_attr(struct sftp_srv *s, const struct sftp_attr *a)
{
	uint32_t t = a->mtime > UINT32_MAX ? UINT32_MAX : (uint32_t)a->mtime;

	wbuf_put_u32(&s->out, SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_PERMISSIONS |
				  SSH_FILEXFER_ATTR_ACMODTIME);
	wbuf_put_u64(&s->out, a->size);
	wbuf_put_u32(&s->out, a->perm);
	wbuf_put_u32(&s->out, t);
	wbuf_put_u32(&s->out, t);
}

static int
sftp_reply_attr(struct sftp_srv *s, uint32_t id, const struct sftp_attr *a)
{
	size_t at = sftp_reply_begin(s, SSH_FXP_ATTRS, id);

	sftp_put_attr(s, a);
	sftp_reply_end(s, at);
	return 0;
}

/* The "ls -l" line of a READDIR entry, which v3 clients print as is. */
static void
sftp_longname(const struct sftp_dirent *e, char *out, size_t cap)
{
	static const char bits[] = "rwxrwxrwx";
	char mode[11], date[32];

	mode[0] = S_ISDIR(e->a.perm) ? 'd' : '-';
	for (int i = 0; i < 9; i++)
		mode[1 + i] = (e->a.perm & (0400 >> i)) ? bits[i] : '-';
	mode[10] = '\0';
	if (utc_format(e->a.mtime > INT32_MAX ? INT32_MAX : e->a.mtime, UTC_MINUTE, date,
		       sizeof(date)) < 0)
		snprintf(date, sizeof(date), "-");
	snprintf(out, cap, "%s 1 wsgate wsgate %12llu %s %s", mode, (unsigned long long)e->a.size,
		 date, e->name);
}

/* ---- request fields ---- */

/* Reads ATTRS (draft-02 section 5) only to check its bounds: the tree ignores attributes. */
static void
sftp_skip_attrs(struct rbuf *r)
{
	uint32_t flags = rbuf_u32(r), count;
	size_t n;

	if (flags & SSH_FILEXFER_ATTR_SIZE)
		(void)rbuf_u64(r);
	if (flags & SSH_FILEXFER_ATTR_UIDGID) {
		(void)rbuf_u32(r);
		(void)rbuf_u32(r);
	}
	if (flags & SSH_FILEXFER_ATTR_PERMISSIONS)
		(void)rbuf_u32(r);
	if (flags & SSH_FILEXFER_ATTR_ACMODTIME) {
		(void)rbuf_u32(r);
		(void)rbuf_u32(r);
	}
	if (!(flags & SSH_FILEXFER_ATTR_EXTENDED))
		return;
	count = rbuf_u32(r);
	/* Each pair takes at least 8 bytes, so a huge count ends at the packet's end. */
	for (uint32_t i = 0; i < count && rbuf_ok(r); i++) {
		(void)rbuf_view(r, &n);
		(void)rbuf_view(r, &n);
	}
}

/* Lexical canonicalisation, never touching a disk: relative paths start at "/", "." and empty
 * components vanish, ".." drops the previous component and stops at the root. */
static int
sftp_canon(const uint8_t *in, size_t inlen, char *out, size_t cap)
{
	size_t o = 0, i = 0, start, clen;

	while (i < inlen) {
		while (i < inlen && in[i] == '/')
			i++;
		for (start = i; i < inlen && in[i] != '/'; i++)
			;
		clen = i - start;
		if (clen == 0 || (clen == 1 && in[start] == '.'))
			continue;
		if (clen == 2 && in[start] == '.' && in[start + 1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			continue;
		}
		if (o + 1 + clen + 1 > cap)
			return -1;
		out[o++] = '/';
		memcpy(out + o, in + start, clen);
		o += clen;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

/* Reads a path field into its canonical form. Returns -1 if the packet is malformed, 1 if the
 * path is unusable (too long, NUL byte), 0 otherwise. */
static int
sftp_get_path(struct rbuf *r, char *out, size_t cap)
{
	size_t n;
	const uint8_t *p = rbuf_view(r, &n);

	out[0] = '\0';
	if (!rbuf_ok(r))
		return -1;
	if (n > SFTP_MAX_PATH || memchr(p, '\0', n) != NULL)
		return 1;
	return sftp_canon(p, n, out, cap) < 0 ? 1 : 0;
}

/* ---- the virtual tree ---- */

struct sftp_find {
	uint64_t id;
	int found;
	struct sftp_outbox_entry e;
};

static int
sftp_find_cb(const struct sftp_outbox_entry *e, void *arg)
{
	struct sftp_find *f = arg;

	if (e->id == f->id && !f->found) {
		f->e = *e;
		f->found = 1;
	}
	return 0;
}

/* A request id is written in decimal without leading zeros, as the listing shows it; ids
 * start at 1. */
static int
sftp_parse_id(const char *s, uint64_t *id)
{
	return parse_u64_strict(s, id) == 0 && *id != 0 ? 0 : -1;
}

static int
sftp_find_export(struct sftp_srv *s, const char *idstr, struct sftp_outbox_entry *e)
{
	struct sftp_find f = {0};

	if (sftp_parse_id(idstr, &f.id) < 0)
		return -1;
	if (s->be.outbox_list(s->be.arg, sftp_find_cb, &f) < 0 || !f.found)
		return -1;
	e->id = f.e.id;
	memcpy(e->name, f.e.name, sizeof(e->name));
	e->name[sizeof(e->name) - 1] = '\0';
	e->size = f.e.size;
	e->mtime = f.e.mtime;
	return filename_valid(e->name) ? 0 : -1;
}

/* Splits a canonical path into at most 3 components; returns their count or -1. */
static int
sftp_split(const char *path, char comp[3][256])
{
	int n = 0;
	const char *p = path, *q;

	while (*p == '/' && p[1] != '\0') {
		p++;
		q = strchr(p, '/');
		if (!q)
			q = p + strlen(p);
		if (n == 3 || (size_t)(q - p) > 255)
			return -1;
		memcpy(comp[n], p, (size_t)(q - p));
		comp[n][q - p] = '\0';
		n++;
		p = q;
	}
	return n;
}

static void
sftp_lookup(struct sftp_srv *s, const char *path, struct sftp_node *nd)
{
	char c[3][256];
	int n = sftp_split(path, c);

	memset(nd, 0, sizeof(*nd));
	if (n == 0) {
		nd->kind = N_ROOT;
	} else if (n > 0 && strcmp(c[0], "inbox") == 0 && s->be.allow_inbox) {
		nd->area = A_INBOX;
		if (n == 1)
			nd->kind = N_INBOX;
		else if (n == 2) {
			nd->kind = N_INBOX_FILE;
			memcpy(nd->name, c[1], sizeof(nd->name));
		}
	} else if (n > 0 && strcmp(c[0], "outbox") == 0) {
		nd->area = A_OUTBOX;
		if (n == 1)
			nd->kind = N_OUTBOX;
		else if (sftp_find_export(s, c[1], &nd->ent) < 0)
			nd->kind = N_NONE;
		else if (n == 2)
			nd->kind = N_EXPORT_DIR;
		else if (strcmp(c[2], nd->ent.name) == 0)
			nd->kind = N_EXPORT_FILE;
	}
}

static int
sftp_node_attr(struct sftp_srv *s, const struct sftp_node *nd, struct sftp_attr *a)
{
	a->size = 0;
	a->mtime = s->now;
	switch (nd->kind) {
	case N_ROOT:
	case N_OUTBOX:
		a->perm = S_IFDIR | 0555;
		return 0;
	case N_INBOX:
		/* Write and search, no read: what a drop box is on a Unix host. */
		a->perm = S_IFDIR | 0733;
		return 0;
	case N_EXPORT_DIR:
		a->perm = S_IFDIR | 0555;
		a->mtime = nd->ent.mtime;
		return 0;
	case N_EXPORT_FILE:
		a->perm = S_IFREG | 0444;
		a->size = nd->ent.size;
		a->mtime = nd->ent.mtime;
		return 0;
	}
	return -1;
}

static void
sftp_note(struct sftp_srv *s, const char *op, const char *path, const char *path2, int allowed)
{
	if (s->be.note)
		s->be.note(s->be.arg, op, path, path2, allowed);
}

/* Why a path-changing request is refused, in the words the user will see. */
static int
sftp_deny(struct sftp_srv *s, uint32_t id, const char *path, const char *op, const char *what)
{
	struct sftp_node nd;

	sftp_note(s, op, path, "", 0);
	sftp_lookup(s, path, &nd);
	if (nd.area == A_INBOX)
		return sftp_status(s, id, SSH_FX_PERMISSION_DENIED,
				   "inbox is write-only: %s is not allowed", what);
	if (nd.area == A_OUTBOX)
		return sftp_status(s, id, SSH_FX_PERMISSION_DENIED, "outbox is read-only");
	return sftp_status(s, id, SSH_FX_PERMISSION_DENIED, "%s is not allowed here", what);
}

/* ---- handles ---- */

static struct sftp_handle *
sftp_handle_new(struct sftp_srv *s, int kind)
{
	for (size_t i = 0; i < SFTP_MAX_HANDLES; i++) {
		struct sftp_handle *h = &s->h[i];

		if (h->kind != H_FREE)
			continue;
		h->kind = kind;
		h->gen++;
		h->fd = -1;
		return h;
	}
	return NULL;
}

/* An upload still attached is aborted: only its CLOSE may queue it. */
static void
sftp_handle_release(struct sftp_srv *s, struct sftp_handle *h)
{
	uint32_t gen = h->gen;

	sftp_upload_discard(s->uploads, h->up);
	free(h->ents);
	memset(h, 0, sizeof(*h));
	h->gen = gen;
	h->fd = -1;
}

static int
sftp_reply_handle(struct sftp_srv *s, uint32_t id, struct sftp_handle *h)
{
	size_t at = sftp_reply_begin(s, SSH_FXP_HANDLE, id);

	/* Slot and generation: a stale handle never reaches a reused slot. */
	wbuf_put_u32(&s->out, 8);
	wbuf_put_u32(&s->out, (uint32_t)(h - s->h));
	wbuf_put_u32(&s->out, h->gen);
	sftp_reply_end(s, at);
	return 0;
}

/* Reads a handle field; NULL if it names no open handle (r->err says if malformed). */
static struct sftp_handle *
sftp_get_handle(struct sftp_srv *s, struct rbuf *r)
{
	size_t n;
	const uint8_t *p = rbuf_view(r, &n);
	struct rbuf hr;
	uint32_t slot, gen;

	if (!p || n != 8)
		return NULL;
	rbuf_init(&hr, p, n);
	slot = rbuf_u32(&hr);
	gen = rbuf_u32(&hr);
	if (slot >= SFTP_MAX_HANDLES || s->h[slot].kind == H_FREE || s->h[slot].gen != gen)
		return NULL;
	return &s->h[slot];
}

static int
sftp_bad_handle(struct sftp_srv *s, uint32_t id)
{
	return sftp_status(s, id, SSH_FX_FAILURE, "invalid handle");
}

/* ---- writes to /inbox: the tree's checks here, the policy in sftp_upload.c ---- */

static int
sftp_open_upload(struct sftp_srv *s, uint32_t id, const struct sftp_node *nd, uint32_t fl)
{
	struct sftp_upload_plan plan;
	struct sftp_answer ans;
	struct sftp_handle *h;

	if (nd->area == A_OUTBOX)
		return sftp_status(s, id, SSH_FX_PERMISSION_DENIED, "outbox is read-only");
	if (nd->kind != N_INBOX_FILE)
		return sftp_status(s, id, SSH_FX_PERMISSION_DENIED, "%s",
				   s->be.allow_inbox ? "uploads go to /inbox/<name>"
						     : "this account may not upload");
	if ((fl & (SSH_FXF_READ | SSH_FXF_APPEND)) ||
	    (fl & (SSH_FXF_WRITE | SSH_FXF_CREAT)) != (SSH_FXF_WRITE | SSH_FXF_CREAT))
		return sftp_status(s, id, SSH_FX_PERMISSION_DENIED,
				   "inbox is write-only: open a new file for writing (no read, "
				   "no append)");
	if (!filename_valid(nd->name))
		return sftp_status(s, id, SSH_FX_PERMISSION_DENIED,
				   "upload refused: invalid file name");
	if (sftp_upload_plan(s->uploads, nd->name, &plan, &ans) < 0)
		return sftp_reply_answer(s, id, &ans);
	h = sftp_handle_new(s, H_UPLOAD);
	if (!h)
		return sftp_status(s, id, SSH_FX_FAILURE, "too many open handles");
	h->up = sftp_upload_start(s->uploads, &plan, &ans);
	if (!h->up) {
		sftp_handle_release(s, h);
		return sftp_reply_answer(s, id, &ans);
	}
	h->a.perm = S_IFREG | 0600;
	return sftp_reply_handle(s, id, h);
}

/* ---- request handlers: each reads all its fields, then answers exactly once ---- */

static int
sftp_do_open(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	char path[SFTP_MAX_PATH + 2];
	struct sftp_node nd;
	struct sftp_handle *h;
	int bad = sftp_get_path(r, path, sizeof(path));
	uint32_t fl = rbuf_u32(r);

	sftp_skip_attrs(r);
	if (bad < 0 || !rbuf_done(r))
		return -1;
	if (bad)
		return sftp_status(s, id, SSH_FX_NO_SUCH_FILE, "invalid path");
	sftp_lookup(s, path, &nd);
	if (fl & (SSH_FXF_WRITE | SSH_FXF_APPEND | SSH_FXF_CREAT | SSH_FXF_TRUNC | SSH_FXF_EXCL))
		return sftp_open_upload(s, id, &nd, fl);
	if (!(fl & SSH_FXF_READ))
		return sftp_status(s, id, SSH_FX_FAILURE, "open needs read or write");
	if (nd.kind == N_INBOX_FILE)
		return sftp_status(s, id, SSH_FX_PERMISSION_DENIED, "inbox is write-only");
	if (nd.kind == N_NONE)
		return sftp_status(s, id, SSH_FX_NO_SUCH_FILE, "no such file");
	if (nd.kind != N_EXPORT_FILE)
		return sftp_status(s, id, SSH_FX_FAILURE, "is a directory");
	h = sftp_handle_new(s, H_READ);
	if (!h)
		return sftp_status(s, id, SSH_FX_FAILURE, "too many open handles");
	if (s->be.outbox_open(s->be.arg, nd.ent.id, nd.ent.name, &h->fd, &h->a.size) < 0 ||
	    h->fd < 0) {
		sftp_handle_release(s, h);
		return sftp_status(s, id, SSH_FX_FAILURE, "export %llu cannot be read",
				   (unsigned long long)nd.ent.id);
	}
	h->a.perm = S_IFREG | 0444;
	h->a.mtime = nd.ent.mtime;
	return sftp_reply_handle(s, id, h);
}

static int
sftp_do_close(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	struct sftp_handle *h = sftp_get_handle(s, r);
	struct sftp_answer ans;
	int rc;

	if (!rbuf_done(r))
		return -1;
	if (!h)
		return sftp_bad_handle(s, id);
	if (h->kind == H_UPLOAD) {
		sftp_upload_close(s->uploads, h->up, &ans);
		h->up = NULL;
		rc = sftp_reply_answer(s, id, &ans);
	} else if (h->fd >= 0 && close(h->fd) < 0)
		rc = sftp_status(s, id, SSH_FX_FAILURE, "close failed");
	else
		rc = sftp_status(s, id, SSH_FX_OK, "ok");
	h->fd = -1;
	sftp_handle_release(s, h);
	return rc;
}

static int
sftp_do_read(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	struct sftp_handle *h = sftp_get_handle(s, r);
	uint64_t off = rbuf_u64(r);
	uint32_t len = rbuf_u32(r);
	size_t n, got = 0;
	size_t at;

	if (!rbuf_done(r))
		return -1;
	if (!h)
		return sftp_bad_handle(s, id);
	if (h->kind == H_UPLOAD)
		return sftp_status(s, id, SSH_FX_PERMISSION_DENIED, "inbox is write-only");
	if (h->kind != H_READ)
		return sftp_status(s, id, SSH_FX_FAILURE, "not a file handle");
	if (off >= h->a.size)
		return sftp_status(s, id, SSH_FX_EOF, "end of file");
	n = len < SFTP_MAX_READ ? len : SFTP_MAX_READ;
	if (n > h->a.size - off)
		n = (size_t)(h->a.size - off);
	while (got < n) {
		ssize_t k = pread(h->fd, s->scratch + got, n - got, (off_t)(off + got));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return sftp_status(s, id, SSH_FX_FAILURE, "read failed");
		if (k == 0)
			break;
		got += (size_t)k;
	}
	if (got == 0 && n > 0)
		return sftp_status(s, id, SSH_FX_EOF, "end of file");
	at = sftp_reply_begin(s, SSH_FXP_DATA, id);
	wbuf_put_bytes(&s->out, s->scratch, got);
	sftp_reply_end(s, at);
	return 0;
}

static int
sftp_do_write(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	struct sftp_handle *h = sftp_get_handle(s, r);
	uint64_t off = rbuf_u64(r);
	size_t n;
	const uint8_t *p = rbuf_view(r, &n);
	struct sftp_answer ans;

	if (!rbuf_done(r))
		return -1;
	if (!h)
		return sftp_bad_handle(s, id);
	if (h->kind == H_READ)
		return sftp_status(s, id, SSH_FX_PERMISSION_DENIED, "outbox is read-only");
	if (h->kind != H_UPLOAD)
		return sftp_status(s, id, SSH_FX_FAILURE, "not a file handle");
	sftp_upload_write(h->up, off, p, n, &ans);
	return sftp_reply_answer(s, id, &ans);
}

static int
sftp_do_stat(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	char path[SFTP_MAX_PATH + 2];
	struct sftp_node nd;
	struct sftp_attr a;
	int bad = sftp_get_path(r, path, sizeof(path));

	if (bad < 0 || !rbuf_done(r))
		return -1;
	if (bad)
		return sftp_status(s, id, SSH_FX_NO_SUCH_FILE, "invalid path");
	sftp_lookup(s, path, &nd);
	if (nd.kind == N_INBOX_FILE)
		return sftp_status(s, id, SSH_FX_NO_SUCH_FILE,
				   "inbox is write-only: uploads are not visible");
	if (sftp_node_attr(s, &nd, &a) < 0)
		return sftp_status(s, id, SSH_FX_NO_SUCH_FILE, "no such file");
	return sftp_reply_attr(s, id, &a);
}

static int
sftp_do_fstat(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	struct sftp_handle *h = sftp_get_handle(s, r);
	struct sftp_attr a;

	if (!rbuf_done(r))
		return -1;
	if (!h)
		return sftp_bad_handle(s, id);
	a = h->a;
	if (h->kind == H_DIR)
		a.perm = S_IFDIR | 0555;
	if (h->kind == H_UPLOAD)
		a.size = sftp_upload_size(h->up);
	if (h->kind != H_READ)
		a.mtime = s->now;
	return sftp_reply_attr(s, id, &a);
}

/* put -p and scp -p set times and modes on the upload they just wrote: harmless, accepted. */
static int
sftp_do_setstat(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	char path[SFTP_MAX_PATH + 2];
	struct sftp_node nd;
	int bad = sftp_get_path(r, path, sizeof(path));

	sftp_skip_attrs(r);
	if (bad < 0 || !rbuf_done(r))
		return -1;
	if (bad)
		return sftp_status(s, id, SSH_FX_NO_SUCH_FILE, "invalid path");
	sftp_lookup(s, path, &nd);
	for (size_t i = 0; nd.kind == N_INBOX_FILE && i < SFTP_MAX_HANDLES; i++)
		if (s->h[i].kind == H_UPLOAD && strcmp(sftp_upload_name(s->h[i].up), nd.name) == 0)
			return sftp_status(s, id, SSH_FX_OK, "ok");
	/* What was just queued (WinSCP sets the time after its rename): a no-op, like FSETSTAT. */
	if (nd.kind == N_INBOX_FILE && sftp_upload_just_queued(s->uploads, nd.name))
		return sftp_status(s, id, SSH_FX_OK, "ok");
	return sftp_deny(s, id, path, "setstat", "changing attributes");
}

static int
sftp_do_fsetstat(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	struct sftp_handle *h = sftp_get_handle(s, r);

	sftp_skip_attrs(r);
	if (!rbuf_done(r))
		return -1;
	if (!h)
		return sftp_bad_handle(s, id);
	if (h->kind == H_UPLOAD)
		return sftp_status(s, id, SSH_FX_OK, "ok");
	if (h->kind == H_READ)
		return sftp_status(s, id, SSH_FX_PERMISSION_DENIED, "outbox is read-only");
	return sftp_status(s, id, SSH_FX_PERMISSION_DENIED, "attributes cannot be changed");
}

struct sftp_dirfill {
	struct sftp_handle *h;
	int prefix; /* 1: list export directories, 0: list the one file of export id */
	uint64_t id;
};

static void
sftp_dir_add(struct sftp_handle *h, const char *name, const struct sftp_attr *a)
{
	struct sftp_dirent *e;

	if (h->nents == h->cap) {
		size_t ncap = h->cap ? h->cap * 2 : 16;

		if (ncap > SFTP_MAX_DIR_ENTRIES)
			return; /* a listing is capped; the files stay reachable by path */
		e = reallocarray(h->ents, ncap, sizeof(*e));
		if (!e)
			return;
		h->ents = e;
		h->cap = ncap;
	}
	e = &h->ents[h->nents++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->a = *a;
}

static int
sftp_dirfill_cb(const struct sftp_outbox_entry *e, void *arg)
{
	struct sftp_dirfill *f = arg;
	struct sftp_attr a = {.perm = S_IFDIR | 0555, .mtime = e->mtime};
	char name[32];

	if (strnlen(e->name, sizeof(e->name)) == sizeof(e->name) || !filename_valid(e->name))
		return 0;
	if (f->prefix) {
		snprintf(name, sizeof(name), "%llu", (unsigned long long)e->id);
		sftp_dir_add(f->h, name, &a);
	} else if (e->id == f->id) {
		a.perm = S_IFREG | 0444;
		a.size = e->size;
		sftp_dir_add(f->h, e->name, &a);
	}
	return 0;
}

static int
sftp_dir_fill(struct sftp_srv *s, struct sftp_handle *h, const struct sftp_node *nd)
{
	struct sftp_dirfill f = {.h = h, .prefix = nd->kind == N_OUTBOX, .id = nd->ent.id};
	struct sftp_attr a = {.perm = S_IFDIR | 0555, .mtime = s->now};

	if (nd->kind == N_ROOT) {
		if (s->be.allow_inbox) {
			a.perm = S_IFDIR | 0733;
			sftp_dir_add(h, "inbox", &a);
			a.perm = S_IFDIR | 0555;
		}
		sftp_dir_add(h, "outbox", &a);
		return 0;
	}
	if (nd->kind == N_INBOX)
		return 0;
	return s->be.outbox_list(s->be.arg, sftp_dirfill_cb, &f);
}

static int
sftp_do_opendir(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	char path[SFTP_MAX_PATH + 2];
	struct sftp_node nd;
	struct sftp_handle *h;
	int bad = sftp_get_path(r, path, sizeof(path));

	if (bad < 0 || !rbuf_done(r))
		return -1;
	if (bad)
		return sftp_status(s, id, SSH_FX_NO_SUCH_FILE, "invalid path");
	sftp_lookup(s, path, &nd);
	if (nd.kind == N_NONE || nd.kind == N_INBOX_FILE)
		return sftp_status(s, id, SSH_FX_NO_SUCH_FILE, "no such directory");
	if (nd.kind == N_EXPORT_FILE)
		return sftp_status(s, id, SSH_FX_FAILURE, "not a directory");
	h = sftp_handle_new(s, H_DIR);
	if (!h)
		return sftp_status(s, id, SSH_FX_FAILURE, "too many open handles");
	if (sftp_dir_fill(s, h, &nd) < 0) {
		sftp_handle_release(s, h);
		return sftp_status(s, id, SSH_FX_FAILURE, "outbox is unavailable");
	}
	return sftp_reply_handle(s, id, h);
}

static int
sftp_do_readdir(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	struct sftp_handle *h = sftp_get_handle(s, r);
	char longname[512];
	size_t at, n;

	if (!rbuf_done(r))
		return -1;
	if (!h)
		return sftp_bad_handle(s, id);
	if (h->kind != H_DIR)
		return sftp_status(s, id, SSH_FX_FAILURE, "not a directory handle");
	if (h->pos >= h->nents)
		return sftp_status(s, id, SSH_FX_EOF, "end of directory");
	n = h->nents - h->pos;
	if (n > SFTP_READDIR_BATCH)
		n = SFTP_READDIR_BATCH;
	at = sftp_reply_begin(s, SSH_FXP_NAME, id);
	wbuf_put_u32(&s->out, (uint32_t)n);
	for (; n > 0; n--, h->pos++) {
		const struct sftp_dirent *e = &h->ents[h->pos];

		sftp_longname(e, longname, sizeof(longname));
		wbuf_put_str(&s->out, e->name);
		wbuf_put_str(&s->out, longname);
		sftp_put_attr(s, &e->a);
	}
	sftp_reply_end(s, at);
	return 0;
}

static int
sftp_do_realpath(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	char path[SFTP_MAX_PATH + 2];
	int bad = sftp_get_path(r, path, sizeof(path));
	size_t at;

	/* OpenSSH's client may append a control byte and a compose path (draft-13); v3 has none. */
	if (bad < 0 || !rbuf_done(r))
		return -1;
	if (bad)
		return sftp_status(s, id, SSH_FX_NO_SUCH_FILE, "invalid path");
	at = sftp_reply_begin(s, SSH_FXP_NAME, id);
	wbuf_put_u32(&s->out, 1);
	wbuf_put_str(&s->out, path);
	wbuf_put_str(&s->out, path);
	wbuf_put_u32(&s->out, 0); /* no attributes */
	sftp_reply_end(s, at);
	return 0;
}

/* REMOVE, RMDIR: a path; MKDIR: a path and attributes. All refused. */
static int
sftp_do_remove(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	char path[SFTP_MAX_PATH + 2];
	int bad = sftp_get_path(r, path, sizeof(path));

	if (bad < 0 || !rbuf_done(r))
		return -1;
	return sftp_deny(s, id, path, "remove", "removing files");
}

static int
sftp_do_mkdir(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	char path[SFTP_MAX_PATH + 2];
	int bad = sftp_get_path(r, path, sizeof(path));

	sftp_skip_attrs(r);
	if (bad < 0 || !rbuf_done(r))
		return -1;
	return sftp_deny(s, id, path, "mkdir", "creating directories");
}

static int
sftp_do_rmdir(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	char path[SFTP_MAX_PATH + 2];
	int bad = sftp_get_path(r, path, sizeof(path));

	if (bad < 0 || !rbuf_done(r))
		return -1;
	return sftp_deny(s, id, path, "rmdir", "removing directories");
}

/* RENAME, SYMLINK: two paths. */
static int
sftp_do_rename(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	char a[SFTP_MAX_PATH + 2], b[SFTP_MAX_PATH + 2];
	int bad1 = sftp_get_path(r, a, sizeof(a)), bad2 = sftp_get_path(r, b, sizeof(b));

	if (bad1 < 0 || bad2 < 0 || !rbuf_done(r))
		return -1;
	if (!bad1 && !bad2) {
		struct sftp_node from, to;
		struct sftp_answer ans;

		/* Only the policy's NAME.filepart -> NAME (WinSCP) within /inbox is allowed. */
		sftp_lookup(s, a, &from);
		sftp_lookup(s, b, &to);
		if (from.kind == N_INBOX_FILE && to.kind == N_INBOX_FILE &&
		    sftp_upload_rename(s->uploads, from.name, to.name, &ans) == 0) {
			sftp_note(s, "rename", a, b, 1);
			return sftp_reply_answer(s, id, &ans);
		}
	}
	sftp_note(s, "rename", bad1 ? "" : a, bad2 ? "" : b, 0);
	return sftp_status(s, id, SSH_FX_PERMISSION_DENIED,
			   "renaming is not allowed (except /inbox/NAME.filepart to /inbox/NAME)");
}

static int
sftp_do_readlink(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	char path[SFTP_MAX_PATH + 2];

	if (sftp_get_path(r, path, sizeof(path)) < 0 || !rbuf_done(r))
		return -1;
	return sftp_status(s, id, SSH_FX_OP_UNSUPPORTED, "symbolic links are not supported");
}

static int
sftp_do_symlink(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	char a[SFTP_MAX_PATH + 2], b[SFTP_MAX_PATH + 2];
	int bad1 = sftp_get_path(r, a, sizeof(a)), bad2 = sftp_get_path(r, b, sizeof(b));

	if (bad1 < 0 || bad2 < 0 || !rbuf_done(r))
		return -1;
	return sftp_status(s, id, SSH_FX_OP_UNSUPPORTED, "symbolic links are not supported");
}

/* We announce no extension, so any EXTENDED request is unsupported; its payload is opaque. */
static int
sftp_do_extended(struct sftp_srv *s, uint32_t id, struct rbuf *r)
{
	size_t n;

	(void)rbuf_view(r, &n);
	if (!rbuf_ok(r))
		return -1;
	return sftp_status(s, id, SSH_FX_OP_UNSUPPORTED, "extension not supported");
}

/* clang-format off */
static const struct sftp_op {
	uint8_t type;
	int (*fn)(struct sftp_srv *, uint32_t, struct rbuf *);
} sftp_ops[] = {
	{SSH_FXP_OPEN, sftp_do_open},
	{SSH_FXP_CLOSE, sftp_do_close},
	{SSH_FXP_READ, sftp_do_read},
	{SSH_FXP_WRITE, sftp_do_write},
	{SSH_FXP_LSTAT, sftp_do_stat},
	{SSH_FXP_FSTAT, sftp_do_fstat},
	{SSH_FXP_SETSTAT, sftp_do_setstat},
	{SSH_FXP_FSETSTAT, sftp_do_fsetstat},
	{SSH_FXP_OPENDIR, sftp_do_opendir},
	{SSH_FXP_READDIR, sftp_do_readdir},
	{SSH_FXP_REMOVE, sftp_do_remove},
	{SSH_FXP_MKDIR, sftp_do_mkdir},
	{SSH_FXP_RMDIR, sftp_do_rmdir},
	{SSH_FXP_REALPATH, sftp_do_realpath},
	{SSH_FXP_STAT, sftp_do_stat},
	{SSH_FXP_RENAME, sftp_do_rename},
	{SSH_FXP_READLINK, sftp_do_readlink},
	{SSH_FXP_SYMLINK, sftp_do_symlink},
	{SSH_FXP_EXTENDED, sftp_do_extended},
};
/* clang-format on */

/* ---- packets ---- */

static int
sftp_init(struct sftp_srv *s, struct rbuf *r)
{
	size_t at = s->out.len;

	/* INIT carries the client's version and, after it, extension pairs we ignore. */
	(void)rbuf_u32(r);
	if (!rbuf_ok(r))
		return -1;
	wbuf_put_u32(&s->out, 0);
	wbuf_put_u8(&s->out, SSH_FXP_VERSION);
	wbuf_put_u32(&s->out, 3);
	sftp_reply_end(s, at);
	s->inited = 1;
	return 0;
}

static int
sftp_packet(struct sftp_srv *s, const uint8_t *p, size_t n)
{
	struct rbuf r;
	uint8_t type;
	uint32_t id;

	rbuf_init(&r, p, n);
	type = rbuf_u8(&r);
	if (!s->inited)
		return type == SSH_FXP_INIT ? sftp_init(s, &r) : -1;
	id = rbuf_u32(&r);
	if (!rbuf_ok(&r) || type == SSH_FXP_INIT)
		return -1;
	for (size_t i = 0; i < nitems(sftp_ops); i++)
		if (sftp_ops[i].type == type)
			return sftp_ops[i].fn(s, id, &r);
	return sftp_status(s, id, SSH_FX_OP_UNSUPPORTED, "request type %u not supported", type);
}

/* Every request has at least a type and an id (INIT: a type and a version). */
static int
sftp_len_ok(uint32_t plen)
{
	return plen >= 5 && plen <= SFTP_MAX_PACKET;
}

static int
sftp_run(struct sftp_srv *s, const uint8_t *p, size_t n)
{
	if (sftp_packet(s, p, n) < 0 || s->out.err)
		return -1;
	return 0;
}

/* Adds bytes to the partial packet; runs it once complete. Returns bytes taken or -1. */
static ssize_t
sftp_buffer(struct sftp_srv *s, const uint8_t *p, size_t n)
{
	size_t need, take;
	uint32_t plen;

	need = s->inlen < 4 ? 4 : 4 + (size_t)codec_be32_get(s->in);
	take = need - s->inlen < n ? need - s->inlen : n;
	memcpy(s->in + s->inlen, p, take);
	s->inlen += take;
	if (s->inlen < 4)
		return (ssize_t)take;
	plen = codec_be32_get(s->in);
	if (!sftp_len_ok(plen))
		return -1;
	if (s->inlen < 4 + (size_t)plen)
		return (ssize_t)take;
	s->inlen = 0;
	if (sftp_run(s, s->in + 4, plen) < 0)
		return -1;
	return (ssize_t)take;
}

ssize_t
sftp_srv_input(struct sftp_srv *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t off = 0;
	ssize_t k;

	while (off < len) {
		if (s->inlen == 0) {
			uint32_t plen;

			if (s->out.len - s->outhead >= SFTP_OUT_HIGH_WATER)
				break;
			/* Fast path: a whole packet in the caller's buffer, no copy. */
			if (len - off >= 4) {
				plen = codec_be32_get(p + off);
				if (!sftp_len_ok(plen))
					return -1;
				if (len - off - 4 >= plen) {
					if (sftp_run(s, p + off + 4, plen) < 0)
						return -1;
					off += 4 + (size_t)plen;
					continue;
				}
			}
		}
		k = sftp_buffer(s, p + off, len - off);
		if (k < 0)
			return -1;
		off += (size_t)k;
	}
	return (ssize_t)off;
}

const void *
sftp_srv_output(struct sftp_srv *s, size_t *len)
{
	*len = s->out.len - s->outhead;
	return *len ? s->out.data + s->outhead : NULL;
}

void
sftp_srv_output_done(struct sftp_srv *s, size_t n)
{
	if (n > s->out.len - s->outhead)
		n = s->out.len - s->outhead;
	s->outhead += n;
	if (s->outhead == s->out.len) {
		s->out.len = 0;
		s->outhead = 0;
	} else if (s->outhead >= SFTP_MAX_READ && s->outhead * 2 >= s->out.len) {
		memmove(s->out.data, s->out.data + s->outhead, s->out.len - s->outhead);
		s->out.len -= s->outhead;
		s->outhead = 0;
	}
}

struct sftp_srv *
sftp_srv_new(const struct sftp_backend *be)
{
	struct sftp_srv *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->be = *be;
	s->now = (uint64_t)time(NULL);
	wbuf_init(&s->out);
	s->in = malloc(4 + SFTP_MAX_PACKET);
	s->scratch = malloc(SFTP_MAX_READ);
	s->uploads = sftp_upload_ctx_new(&s->be);
	if (!s->in || !s->scratch || !s->uploads) {
		sftp_srv_free(s);
		return NULL;
	}
	for (size_t i = 0; i < SFTP_MAX_HANDLES; i++)
		s->h[i].fd = -1;
	return s;
}

void
sftp_srv_free(struct sftp_srv *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < SFTP_MAX_HANDLES; i++) {
		struct sftp_handle *h = &s->h[i];

		if (h->fd >= 0)
			(void)close(h->fd); /* nothing to report to: the connection is gone */
		sftp_handle_release(s, h);  /* an unfinished upload is aborted, never queued */
	}
	sftp_upload_ctx_free(s->uploads); /* and so is a NAME.filepart never renamed */
	wbuf_free(&s->out);
	free(s->in);
	free(s->scratch);
	free(s);
}
