/* Import drafts: uploads without a declared SHA-256 wait for their uploader (see draft.h). */
#include "transfer/draft.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/codec.h"
#include "common/names.h"
#include "common/utctime.h"
#include "common/why.h"
#include "transfer/blob.h"
#include "transfer/queue.h"

#define DRAFT_RECORD_VERSION 1
#define DRAFT_KEY_MAX (NAME_MAX_LEN + 1 + 64 + 256)
#define DRAFT_EXPIRE_BATCH 256 /* per call; the next operation takes the rest */
#define NOTE_VERSION 1
/* A refusal note's name part begins with this byte, which no file name has (filename_valid
 * refuses control characters): notes and drafts share DB_DRAFTS and its per-user prefix. */
#define NOTE_MARK '\x01'
#define NOTE_WHY_MAX 300

/* ---- records ---- */

/* project NUL user NUL name: one user's drafts are adjacent, and a prefix finds them. */
static size_t
draft_key(const char *project, const char *user, const char *name, uint8_t *key)
{
	size_t a = strlen(project) + 1, b = strlen(user) + 1, c = name ? strlen(name) : 0;

	memcpy(key, project, a);
	memcpy(key + a, user, b);
	if (c)
		memcpy(key + a + b, name, c);
	return a + b + c;
}

static size_t
note_key(const struct airlock_actor *who, const char *name, uint8_t *key)
{
	char nm[257];

	snprintf(nm, sizeof(nm), "%c%s", NOTE_MARK, name);
	return draft_key(who->project, who->user, nm, key);
}

static int
draft_put(struct store *st, MDB_txn *txn, const struct draft *d)
{
	uint8_t key[DRAFT_KEY_MAX];
	struct wbuf b;
	int rc;

	wbuf_init(&b);
	wbuf_put_u8(&b, DRAFT_RECORD_VERSION);
	wbuf_put_str(&b, d->area);
	wbuf_put_u64(&b, d->draft_id);
	wbuf_put_u64(&b, d->size);
	wbuf_put_bytes(&b, d->sha256, sizeof(d->sha256));
	wbuf_put_u64(&b, d->created);
	wbuf_put_str(&b, d->reason);
	if (b.err) {
		wbuf_free(&b);
		return -ENOMEM;
	}
	rc = store_put(st, txn, DB_DRAFTS, key, draft_key(d->project, d->user, d->name, key),
		       b.data, b.len, 0);
	wbuf_free(&b);
	return rc;
}

static int
draft_decode(const MDB_val *k, const MDB_val *v, struct draft *d)
{
	const char *p = k->mv_data, *user, *name, *end = p + k->mv_size;
	struct rbuf rd;
	size_t n = 0;

	memset(d, 0, sizeof(*d));
	if (!(user = memchr(p, '\0', k->mv_size)) || ++user >= end ||
	    !(name = memchr(user, '\0', (size_t)(end - user))) || ++name >= end ||
	    (size_t)(user - p) > sizeof(d->project) || (size_t)(name - user) > sizeof(d->user) ||
	    (size_t)(end - name) >= sizeof(d->name) || memchr(name, '\0', (size_t)(end - name)))
		return STORE_BADRECORD;
	memcpy(d->project, p, (size_t)(user - p));
	memcpy(d->user, user, (size_t)(name - user));
	memcpy(d->name, name, (size_t)(end - name));
	rbuf_init(&rd, v->mv_data, v->mv_size);
	if (rbuf_u8(&rd) != DRAFT_RECORD_VERSION)
		return STORE_BADRECORD;
	rbuf_str(&rd, d->area, sizeof(d->area));
	d->draft_id = rbuf_u64(&rd);
	d->size = rbuf_u64(&rd);
	rbuf_bytes(&rd, d->sha256, sizeof(d->sha256), &n);
	d->created = rbuf_u64(&rd);
	rbuf_str(&rd, d->reason, sizeof(d->reason));
	return rbuf_done(&rd) && n == sizeof(d->sha256) ? 0 : STORE_BADRECORD;
}

static int
draft_get(struct store *st, MDB_txn *txn, const char *project, const char *user, const char *name,
	  struct draft *d)
{
	uint8_t key[DRAFT_KEY_MAX];
	MDB_val k, v;
	int rc;

	k.mv_size = draft_key(project, user, name, key);
	k.mv_data = key;
	if ((rc = store_get(st, txn, DB_DRAFTS, key, k.mv_size, &v)) != 0)
		return rc;
	return draft_decode(&k, &v, d);
}

struct draft_note {
	char name[256];
	uint64_t time;
	char why[NOTE_WHY_MAX];
};

struct draft_walk {
	const uint8_t *prefix;
	size_t plen;
	int (*fn)(const struct draft *d, void *arg);
	void *arg;
	/* Refusal notes go here (NULL: skipped). key is the note's whole key. */
	int (*note_fn)(const MDB_val *key, const struct draft_note *n, void *arg);
	struct draft d;
	struct draft_note n;
};

/* The name part of a key (after project NUL user NUL), or NULL. */
static const char *
key_name(const MDB_val *k, size_t *len)
{
	const char *p = k->mv_data, *end = p + k->mv_size, *u, *nm;

	if (!(u = memchr(p, '\0', k->mv_size)) ||
	    !(nm = memchr(u + 1, '\0', (size_t)(end - u - 1))))
		return NULL;
	nm++;
	*len = (size_t)(end - nm);
	return nm;
}

static int
note_decode(const MDB_val *k, const MDB_val *v, struct draft_note *n)
{
	struct rbuf rd;
	size_t len;
	const char *nm = key_name(k, &len);

	memset(n, 0, sizeof(*n));
	if (!nm || len < 2 || len - 1 >= sizeof(n->name))
		return STORE_BADRECORD;
	memcpy(n->name, nm + 1, len - 1);
	rbuf_init(&rd, v->mv_data, v->mv_size);
	if (rbuf_u8(&rd) != NOTE_VERSION)
		return STORE_BADRECORD;
	n->time = rbuf_u64(&rd);
	rbuf_str(&rd, n->why, sizeof(n->why));
	return rbuf_done(&rd) ? 0 : STORE_BADRECORD;
}

#define DRAFT_WALK_END 1

static int
draft_visit(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct draft_walk *w = arg;
	const char *nm;
	size_t len;
	int rc;

	if (w->plen && (k->mv_size < w->plen || memcmp(k->mv_data, w->prefix, w->plen) != 0))
		return DRAFT_WALK_END;
	if ((nm = key_name(k, &len)) && len && nm[0] == NOTE_MARK) {
		if (!w->note_fn)
			return 0;
		if ((rc = note_decode(k, v, &w->n)) != 0)
			return rc;
		return w->note_fn(k, &w->n, w->arg);
	}
	if ((rc = draft_decode(k, v, &w->d)) != 0)
		return rc;
	return w->fn(&w->d, w->arg);
}

/* The drafts whose key begins with prefix (all of them when plen is 0). */
static int
draft_walk_notes(struct store *st, MDB_txn *txn, const uint8_t *prefix, size_t plen,
		 int (*fn)(const struct draft *d, void *arg),
		 int (*note_fn)(const MDB_val *key, const struct draft_note *n, void *arg),
		 void *arg)
{
	struct draft_walk w = {
	    .prefix = prefix, .plen = plen, .fn = fn, .arg = arg, .note_fn = note_fn};
	int rc = store_each(st, txn, DB_DRAFTS, plen ? prefix : NULL, plen, 0, draft_visit, &w);

	return rc == DRAFT_WALK_END ? 0 : rc;
}

static int
draft_walk(struct store *st, MDB_txn *txn, const uint8_t *prefix, size_t plen,
	   int (*fn)(const struct draft *d, void *arg), void *arg)
{
	struct draft_walk w = {.prefix = prefix, .plen = plen, .fn = fn, .arg = arg};
	int rc = store_each(st, txn, DB_DRAFTS, plen ? prefix : NULL, plen, 0, draft_visit, &w);

	return rc == DRAFT_WALK_END ? 0 : rc;
}

int
draft_foreach(struct store *st, int (*fn)(const struct draft *d, void *arg), void *arg)
{
	MDB_txn *txn;
	int rc;

	if ((rc = store_begin(st, 1, &txn)) < 0)
		return rc;
	rc = draft_walk(st, txn, NULL, 0, fn, arg);
	store_abort(txn);
	return rc;
}

/* ---- bytes ---- */

static int
drafts_dir(struct store *st)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/drafts", store_state_dir(st)) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -1;
	return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static void
draft_unlink(struct store *st, uint64_t draft_id)
{
	char name[24];
	int dfd = drafts_dir(st);

	if (dfd < 0)
		return;
	snprintf(name, sizeof(name), "%" PRIu64, draft_id);
	(void)unlinkat(dfd, name, 0);
	(void)fsync(dfd);
	close(dfd);
}

static uint64_t
draft_limit(const struct config *cfg)
{
	uint64_t lim = cfg->file_size_max ? cfg->file_size_max : (10ull << 30);

	return cfg->import_max_size && cfg->import_max_size < lim ? cfg->import_max_size : lim;
}

/* Copies the upload (from offset 0) into drafts/<id>, hashing what is written. */
static int
draft_store_bytes(struct store *st, const struct config *cfg, int src, struct draft *d, char *why,
		  size_t whylen)
{
	char proc[64], name[24];
	int dfd, fd = -1, rc, ret = -1;

	if ((dfd = drafts_dir(st)) < 0)
		return why_set(why, whylen, "drafts: %s", strerror(errno));
	if ((fd = openat(dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0400)) < 0) {
		why_set(why, whylen, "drafts: %s", strerror(errno));
		goto out;
	}
	if ((rc = blob_copy_hash(src, 1, fd, draft_limit(cfg), d->sha256, &d->size)) < 0) {
		why_set(why, whylen, rc == -EFBIG ? "upload is over import_max_size" : "drafts: %s",
			strerror(-rc));
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	snprintf(name, sizeof(name), "%" PRIu64, d->draft_id);
	if (fsync(fd) < 0 || linkat(AT_FDCWD, proc, dfd, name, AT_SYMLINK_FOLLOW) < 0 ||
	    fsync(dfd) < 0) {
		why_set(why, whylen, "drafts: %s", strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	return ret;
}

/* ---- expiry ---- */

struct expired {
	struct draft d[DRAFT_EXPIRE_BATCH];
	size_t n;
	uint64_t before;
	uint8_t nkey[DRAFT_EXPIRE_BATCH][DRAFT_KEY_MAX]; /* refusal notes */
	size_t nklen[DRAFT_EXPIRE_BATCH], nn;
};

static int
note_expired_note(const MDB_val *key, const struct draft_note *n, void *arg)
{
	struct expired *x = arg;

	if (n->time < x->before && x->nn < DRAFT_EXPIRE_BATCH && key->mv_size <= DRAFT_KEY_MAX) {
		memcpy(x->nkey[x->nn], key->mv_data, key->mv_size);
		x->nklen[x->nn++] = key->mv_size;
	}
	return 0;
}

static int
note_expired(const struct draft *d, void *arg)
{
	struct expired *x = arg;

	if (d->created < x->before && x->n < DRAFT_EXPIRE_BATCH)
		x->d[x->n++] = *d;
	return 0;
}

int
draft_expire(struct store *st, const struct config *cfg, uint64_t now, unsigned *n, char *why,
	     size_t whylen)
{
	struct expired *x = calloc(1, sizeof(*x));
	uint64_t ttl = cfg->import_draft_ttl ? cfg->import_draft_ttl : 86400;
	MDB_txn *txn = NULL;
	int rc, ret = -1;

	*n = 0;
	if (!x)
		return why_set(why, whylen, "out of memory");
	x->before = now > ttl ? now - ttl : 0;
	if ((rc = store_begin(st, 1, &txn)) < 0 ||
	    (rc = draft_walk_notes(st, txn, NULL, 0, note_expired, note_expired_note, x)) < 0) {
		why_set(why, whylen, "drafts: %s", store_strerror(rc));
		goto out;
	}
	store_abort(txn);
	txn = NULL;
	if (x->n == 0 && x->nn == 0) {
		ret = 0;
		goto out;
	}
	if ((rc = store_begin(st, 0, &txn)) < 0)
		goto dberr;
	for (size_t i = 0; i < x->nn; i++)
		if ((rc = store_del(st, txn, DB_DRAFTS, x->nkey[i], x->nklen[i])) < 0)
			goto dberr;
	for (size_t i = 0; i < x->n; i++) {
		const struct draft *d = &x->d[i];
		uint8_t key[DRAFT_KEY_MAX];

		rc = store_del(st, txn, DB_DRAFTS, key,
			       draft_key(d->project, d->user, d->name, key));
		if (rc < 0 || (rc = audit_append(st, txn, "wsgate", "transfer.draft_expire",
						 "project=%s user=%s size=%" PRIu64, d->project,
						 d->user, d->size)) < 0)
			goto dberr;
	}
	rc = store_commit(txn);
	txn = NULL;
	if (rc < 0)
		goto dberr;
	/* Records first, bytes after: a crash in between leaves files the scan removes. */
	for (size_t i = 0; i < x->n; i++)
		draft_unlink(st, x->d[i].draft_id);
	*n = (unsigned)x->n;
	ret = 0;
	goto out;
dberr:
	why_set(why, whylen, "drafts: cannot expire: %s", store_strerror(rc));
out:
	store_abort(txn);
	free(x);
	return ret;
}

static int
expire_now(struct store *st, const struct config *cfg, char *why, size_t whylen)
{
	unsigned n;

	return draft_expire(st, cfg, (uint64_t)time(NULL), &n, why, whylen);
}

/* ---- the analyst's operations ---- */

static void
hex32(const uint8_t h[32], char out[65])
{
	blob_hex(h, out);
}

static int
draft_create(struct store *st, const struct config *cfg, const struct airlock_actor *who, int fd,
	     const char *name, const char *reason, struct draft *d, char *why, size_t whylen)
{
	struct draft old;
	MDB_txn *txn = NULL;
	char hex[65], qn[600];
	int rc, had = 0;

	memset(d, 0, sizeof(*d));
	snprintf(d->project, sizeof(d->project), "%s", who->project);
	snprintf(d->user, sizeof(d->user), "%s", who->user);
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->area, sizeof(d->area), "%s", who->area);
	snprintf(d->reason, sizeof(d->reason), "%s", reason ? reason : "");
	d->created = (uint64_t)time(NULL);
	/* The id first, in its own transaction: the file is named by it before any record is. */
	if ((rc = store_begin(st, 0, &txn)) < 0)
		return why_set(why, whylen, "drafts: %s", store_strerror(rc));
	if ((rc = store_bump(st, txn, "next_draft_id", &d->draft_id)) < 0) {
		store_abort(txn);
		return why_set(why, whylen, "drafts: %s", store_strerror(rc));
	}
	rc = store_commit(txn);
	txn = NULL;
	if (rc < 0)
		return why_set(why, whylen, "drafts: %s", store_strerror(rc));
	if (draft_store_bytes(st, cfg, fd, d, why, whylen) < 0)
		return -1;
	hex32(d->sha256, hex);
	if ((rc = store_begin(st, 0, &txn)) < 0)
		goto dberr;
	rc = draft_get(st, txn, d->project, d->user, d->name, &old);
	had = rc == 0;
	/* A new draft of NAME answers an earlier refusal of NAME. */
	if (rc >= 0) {
		uint8_t nk[DRAFT_KEY_MAX];

		rc = store_del(st, txn, DB_DRAFTS, nk, note_key(who, d->name, nk));
		rc = rc == STORE_NOTFOUND ? 0 : rc;
	}
	if ((rc < 0) || (rc = draft_put(st, txn, d)) < 0 ||
	    (rc = audit_append(st, txn, d->user, "transfer.draft",
			       "project=%s area=%s name=%s size=%" PRIu64 " sha256=%s replaced=%d",
			       d->project, d->area, audit_quote(d->name, qn, sizeof(qn)), d->size,
			       hex, had)) < 0)
		goto dberr;
	rc = store_commit(txn);
	txn = NULL;
	if (rc < 0)
		goto dberr;
	if (had && old.draft_id != d->draft_id)
		draft_unlink(st, old.draft_id);
	return 0;
dberr:
	store_abort(txn);
	draft_unlink(st, d->draft_id);
	return why_set(why, whylen, "drafts: cannot record the draft: %s", store_strerror(rc));
}

int
draft_upload_finish(struct store *st, const struct config *cfg, const struct airlock_actor *who,
		    int fd, const char *name, const char *reason, const char *sha256, char *msg,
		    size_t msglen, char *why, size_t whylen)
{
	struct draft d;
	uint64_t id = 0;
	char hex[65];

	/* Declared, or drafts switched off (import_require_checksum = no): queued at once. */
	if ((sha256 && sha256[0]) || !cfg->import_require_checksum) {
		if (airlock_upload_commit(st, cfg, who, fd, name, reason, sha256, &id, why,
					  whylen) < 0)
			return -1;
		snprintf(msg, msglen, "import request %" PRIu64, id);
		return 0;
	}
	if (!who || !who->user || who->is_admin || !name_valid(who->project) ||
	    !name_valid(who->area) || !filename_valid(name))
		return why_set(why, whylen, "only an analyst's session may upload");
	if (expire_now(st, cfg, why, whylen) < 0 ||
	    draft_create(st, cfg, who, fd, name, reason, &d, why, whylen) < 0)
		return -1;
	hex32(d.sha256, hex);
	/* No name in it: the worker's answer holds 255 bytes, and the name is in the request. */
	snprintf(msg, msglen,
		 "kept as a draft, not queued: %" PRIu64 " bytes, sha256 %s; see airlock inbox, "
		 "then airlock submit",
		 d.size, hex);
	return 0;
}

struct inbox_ctx {
	char *out;
	size_t len, cap;
	uint64_t ttl;
};

static int
inbox_note(const MDB_val *key, const struct draft_note *n, void *arg)
{
	struct inbox_ctx *x = arg;
	char t[32], name[256], why[NOTE_WHY_MAX];
	int k;

	(void)key;
	if (utc_format(n->time, UTC_ISO8601, t, sizeof(t)) < 0)
		snprintf(t, sizeof(t), "-");
	queue_safe_text(n->name, name, sizeof(name), 0);
	queue_safe_text(n->why, why, sizeof(why), 0);
	if (x->len + 1 >= x->cap)
		return 0;
	k = snprintf(x->out + x->len, x->cap - x->len, "refused %s at %s: %s\n", name, t, why);
	if (k > 0)
		x->len += (size_t)k < x->cap - x->len ? (size_t)k : x->cap - x->len - 1;
	return 0;
}

static int
inbox_line(const struct draft *d, void *arg)
{
	struct inbox_ctx *x = arg;
	char hex[65], t[32], name[256];
	int n;

	hex32(d->sha256, hex);
	if (utc_format(d->created + x->ttl, UTC_ISO8601, t, sizeof(t)) < 0)
		snprintf(t, sizeof(t), "-");
	queue_safe_text(d->name, name, sizeof(name), 0);
	if (x->len + 1 >= x->cap)
		return 0;
	n = snprintf(x->out + x->len, x->cap - x->len, "%-24s %12" PRIu64 " %s %s\n", name, d->size,
		     hex, t);
	if (n > 0)
		x->len += (size_t)n < x->cap - x->len ? (size_t)n : x->cap - x->len - 1;
	return 0;
}

int
draft_inbox(struct store *st, const struct config *cfg, const struct airlock_actor *who, char *out,
	    size_t outlen, char *why, size_t whylen)
{
	struct inbox_ctx x = {out, 0, outlen,
			      cfg->import_draft_ttl ? cfg->import_draft_ttl : 86400};
	uint8_t prefix[DRAFT_KEY_MAX];
	MDB_txn *txn;
	int rc;

	if (expire_now(st, cfg, why, whylen) < 0)
		return -1;
	out[0] = '\0';
	x.len = (size_t)snprintf(out, outlen, "%-24s %12s %-64s %s\n", "NAME", "SIZE", "SHA256",
				 "EXPIRES");
	if ((rc = store_begin(st, 1, &txn)) < 0)
		return why_set(why, whylen, "drafts: %s", store_strerror(rc));
	rc = draft_walk_notes(st, txn, prefix, draft_key(who->project, who->user, NULL, prefix),
			      inbox_line, inbox_note, &x);
	store_abort(txn);
	if (rc < 0)
		return why_set(why, whylen, "drafts: %s", store_strerror(rc));
	return 0;
}

struct submit_del {
	uint8_t key[DRAFT_KEY_MAX];
	size_t klen;
	uint64_t draft_id;
};

/* In the request's transaction: the draft goes with the insert, so it is submitted once. */
static int
draft_take(struct store *st, MDB_txn *txn, void *arg)
{
	struct submit_del *sd = arg;
	MDB_val k = {sd->klen, sd->key}, v;
	struct draft d;
	int rc;

	if ((rc = store_get(st, txn, DB_DRAFTS, sd->key, sd->klen, &v)) != 0)
		return rc == STORE_NOTFOUND ? -ENOENT : rc;
	if ((rc = draft_decode(&k, &v, &d)) != 0)
		return rc;
	if (d.draft_id != sd->draft_id) /* replaced by a new upload meanwhile */
		return -ESTALE;
	rc = store_del(st, txn, DB_DRAFTS, sd->key, sd->klen);
	return rc == STORE_NOTFOUND ? -ENOENT : rc;
}

int
draft_submit(struct store *st, const struct config *cfg, const struct airlock_actor *who,
	     const char *name, const char *reason, uint64_t *id, char *msg, size_t msglen,
	     char *why, size_t whylen)
{
	struct submit_del sd;
	struct draft d;
	MDB_txn *txn;
	char hex[65], fname[24];
	int rc, dfd, fd;

	if (!who || !who->user || who->is_admin || !name_valid(who->project) ||
	    !filename_valid(name))
		return why_set(why, whylen, "invalid file name");
	if (expire_now(st, cfg, why, whylen) < 0)
		return -1;
	if ((rc = store_begin(st, 1, &txn)) < 0)
		return why_set(why, whylen, "drafts: %s", store_strerror(rc));
	rc = draft_get(st, txn, who->project, who->user, name, &d);
	store_abort(txn);
	if (rc == STORE_NOTFOUND)
		return why_set(why, whylen,
			       "no draft %s of yours (expired after import_draft_ttl, or never "
			       "uploaded): see airlock inbox",
			       name);
	if (rc != 0)
		return why_set(why, whylen, "drafts: %s", store_strerror(rc));
	snprintf(fname, sizeof(fname), "%" PRIu64, d.draft_id);
	if ((dfd = drafts_dir(st)) < 0)
		return why_set(why, whylen, "drafts: %s", strerror(errno));
	fd = openat(dfd, fname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return why_set(why, whylen, "draft %s: its bytes are gone: %s", name,
			       strerror(errno));
	sd.klen = draft_key(who->project, who->user, name, sd.key);
	sd.draft_id = d.draft_id;
	rc = airlock_submit_import(st, cfg, who, d.area, fd, name,
				   reason && *reason ? reason : d.reason, d.sha256, draft_take, &sd,
				   id, why, whylen);
	close(fd);
	if (rc < 0)
		return -1;
	draft_unlink(st, d.draft_id);
	hex32(d.sha256, hex);
	snprintf(msg, msglen,
		 "import request %" PRIu64 " pending review: %s, %" PRIu64 " bytes, sha256 %s", *id,
		 name, d.size, hex);
	return 0;
}

/* ---- refusal notes ---- */

int
draft_note_refusal(struct store *st, const struct airlock_actor *who, const char *name,
		   const char *why)
{
	uint8_t key[DRAFT_KEY_MAX];
	char text[NOTE_WHY_MAX];
	MDB_txn *txn;
	struct wbuf b;
	int rc;

	if (!who || !who->user || !name_valid(who->project) || !filename_valid(name))
		return -EINVAL;
	queue_safe_text(why ? why : "", text, sizeof(text), 0);
	wbuf_init(&b);
	wbuf_put_u8(&b, NOTE_VERSION);
	wbuf_put_u64(&b, (uint64_t)time(NULL));
	wbuf_put_str(&b, text);
	if (b.err) {
		wbuf_free(&b);
		return -ENOMEM;
	}
	if ((rc = store_begin(st, 0, &txn)) == 0) {
		rc = store_put(st, txn, DB_DRAFTS, key, note_key(who, name, key), b.data, b.len, 0);
		rc = rc == 0 ? store_commit(txn) : (store_abort(txn), rc);
	}
	wbuf_free(&b);
	return rc;
}

/* ---- start-up scan ---- */

struct ids {
	uint64_t *v;
	size_t n, cap;
};

static int
note_id(const struct draft *d, void *arg)
{
	struct ids *x = arg;

	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;
		uint64_t *p = realloc(x->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		x->v = p;
		x->cap = cap;
	}
	x->v[x->n++] = d->draft_id;
	return 0;
}

int
draft_sweep_orphans(struct store *st, unsigned long *removed)
{
	struct ids ids = {0};
	struct dirent *de;
	DIR *d;
	int dfd, ret = -1;

	if (draft_foreach(st, note_id, &ids) != 0)
		goto out; /* a record we cannot read may name any file: keep them all */
	if ((dfd = drafts_dir(st)) < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		goto out;
	}
	while ((de = readdir(d))) {
		char *end;
		uint64_t v;
		size_t i;

		if (de->d_name[0] == '.')
			continue;
		v = strtoull(de->d_name, &end, 10);
		for (i = 0; *end == '\0' && i < ids.n && ids.v[i] != v; i++)
			;
		if ((*end != '\0' || i == ids.n) && unlinkat(dirfd(d), de->d_name, 0) == 0)
			(*removed)++;
	}
	closedir(d);
	ret = 0;
out:
	free(ids.v);
	return ret;
}
