/*
 * The import-upload policy of the SFTP engine (sftp_upload.h, docs/sftp.md "Uploads").
 *
 * SFTP v3 never says how long an upload is meant to be, and the airlock must queue exactly the
 * finished ones. So this file tracks which bytes of each upload were written (a hole or a failed
 * write is never queued), takes the uploader's declarations from sidecars uploaded first
 * (NAME.reason, NAME.sha256), and holds WinSCP-style NAME.filepart uploads until their RENAME.
 * It never parses packets and never builds a reply: the engine does both.
 */
#include "gateway/sftp_upload.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/names.h"
#include "gateway/sftp_proto.h"

/* Sidecars: small uploads to /inbox/NAME<suffix> that describe the next upload of NAME. */
enum sftp_sidecar_kind { SIDECAR_NONE = -1, SIDECAR_REASON, SIDECAR_SHA256 };

static int sftp_upload_reason_clean(char *t, size_t n);
static int sftp_upload_sha256_parse(char *t, size_t n);

/*
 * What each sidecar is. A sidecar's text is checked at its CLOSE, so a bad one is refused before
 * the upload it describes is sent.
 */
/* clang-format off */
static const struct sftp_sidecar_rule {
	const char *suffix;
	const char *what;		/* in messages: "<what> kept", "<what> refused" */
	int (*check)(char *t, size_t n);	/* normalises the text in place; <0 refuses it */
	const char *refusal;		/* why check refused it */
} sftp_sidecar_rules[] = {
	/* The import's free-text reason, shown to the reviewer: one line, no control bytes. */
	[SIDECAR_REASON] = {SFTP_REASON_SUFFIX, "reason", sftp_upload_reason_clean,
	    "reason refused: it must be text without control bytes"},
	/* The declared SHA-256 (sha256sum output): the monitor refuses an upload that differs,
	 * which is how a Ctrl-C'd put that still sent CLOSE is told from a finished one. */
	[SIDECAR_SHA256] = {SFTP_SHA256_SUFFIX, "checksum", sftp_upload_sha256_parse,
	    "checksum refused: one line of sha256sum output (64 hex digits, then the file name) expected"},
};
/* clang-format on */

/* Disjoint, sorted, non-adjacent [lo, hi) byte ranges written so far. */
struct sftp_ranges {
	size_t n;
	struct {
		uint64_t lo, hi;
	} r[SFTP_MAX_RANGES];
};

struct sftp_upload {
	int sidecar;		   /* SIDECAR_NONE: a file to import; else which sidecar */
	char name[256];		   /* NAME in /inbox (a sidecar's: the file it describes) */
	int fd;			   /* file: the backend's staging fd */
	uint64_t token;		   /* file: the backend's upload */
	int filepart;		   /* file: to NAME.filepart, held at CLOSE until renamed */
	char *reason;		   /* file: the import's reason from NAME.reason, or NULL */
	char sha256[65];	   /* file: the SHA-256 declared in NAME.sha256, or "" */
	char *text;		   /* sidecar: its bytes, SFTP_SIDECAR_MAX + 1 */
	struct sftp_ranges ranges; /* what was written */
	int failed;		   /* a write failed or was refused: never queue or keep */
	uint64_t max;		   /* file: import_max_size, or 0 */
};

/* A sidecar kept for the next upload of name. */
struct sftp_sidecar {
	int used;
	int kind; /* enum sftp_sidecar_kind */
	uint64_t seq;
	char name[256];
	char text[SFTP_SIDECAR_MAX + 1];
};

/* A complete NAME.filepart upload waiting for its RENAME to NAME (the backend holds its file). */
struct sftp_parked {
	int used;
	uint64_t seq, token;
	char name[256]; /* NAME, the target */
	char sha256[65];
	char *reason;
};

struct sftp_upload_ctx {
	const struct sftp_backend *be;
	uint64_t sidecar_seq, park_seq;
	struct sftp_sidecar sidecars[SFTP_MAX_SIDECARS];
	struct sftp_parked parked[SFTP_MAX_PARKED];
	char last_queued[256]; /* for a client's SETSTAT of what it just uploaded */
};

static void __attribute__((format(printf, 3, 4)))
sftp_upload_answer(struct sftp_answer *ans, uint32_t code, const char *fmt, ...)
{
	va_list ap;

	ans->code = code;
	va_start(ap, fmt);
	vsnprintf(ans->msg, sizeof(ans->msg), fmt, ap);
	va_end(ap);
}

/* ---- complete-write tracking ---- */

static int
sftp_upload_ranges_add(struct sftp_ranges *rs, uint64_t lo, uint64_t hi)
{
	size_t i = 0, j, sz = sizeof(rs->r[0]);

	if (lo == hi)
		return 0;
	while (i < rs->n && rs->r[i].hi < lo)
		i++;
	for (j = i; j < rs->n && rs->r[j].lo <= hi; j++) {
		if (rs->r[j].lo < lo)
			lo = rs->r[j].lo;
		if (rs->r[j].hi > hi)
			hi = rs->r[j].hi;
	}
	if (i == j) {
		if (rs->n == SFTP_MAX_RANGES)
			return -1;
		memmove(&rs->r[i + 1], &rs->r[i], (rs->n - i) * sz);
		rs->n++;
	} else {
		memmove(&rs->r[i + 1], &rs->r[j], (rs->n - j) * sz);
		rs->n -= j - i - 1;
	}
	rs->r[i].lo = lo;
	rs->r[i].hi = hi;
	return 0;
}

/* Every byte from 0 to the end was written: no hole, nothing missing at the front. */
static int
sftp_upload_ranges_complete(const struct sftp_ranges *rs)
{
	return rs->n == 0 || (rs->n == 1 && rs->r[0].lo == 0);
}

static uint64_t
sftp_upload_ranges_end(const struct sftp_ranges *rs)
{
	return rs->n ? rs->r[rs->n - 1].hi : 0;
}

/* ---- sidecars ---- */

/* Takes the pending sidecar of that kind for name, if one was uploaded. */
static char *
sftp_upload_sidecar_take(struct sftp_upload_ctx *ctx, int kind, const char *name)
{
	for (size_t i = 0; i < SFTP_MAX_SIDECARS; i++) {
		struct sftp_sidecar *sc = &ctx->sidecars[i];
		char *t;

		if (!sc->used || sc->kind != kind || strcmp(sc->name, name) != 0)
			continue;
		t = strdup(sc->text);
		memset(sc, 0, sizeof(*sc));
		return t;
	}
	return NULL;
}

/* The pending sidecar of that kind for name, left in place, or NULL. */
static const char *
sftp_upload_sidecar_peek(struct sftp_upload_ctx *ctx, int kind, const char *name)
{
	for (size_t i = 0; i < SFTP_MAX_SIDECARS; i++) {
		struct sftp_sidecar *sc = &ctx->sidecars[i];

		if (sc->used && sc->kind == kind && strcmp(sc->name, name) == 0)
			return sc->text;
	}
	return NULL;
}

/* Keeps a sidecar for the next upload of name; the oldest pending one makes room. */
static void
sftp_upload_sidecar_keep(struct sftp_upload_ctx *ctx, int kind, const char *name, const char *text)
{
	struct sftp_sidecar *slot = NULL;

	free(sftp_upload_sidecar_take(ctx, kind, name));
	for (size_t i = 0; i < SFTP_MAX_SIDECARS; i++) {
		struct sftp_sidecar *sc = &ctx->sidecars[i];

		if (!sc->used) {
			slot = sc;
			break;
		}
		if (!slot || sc->seq < slot->seq)
			slot = sc;
	}
	slot->used = 1;
	slot->kind = kind;
	slot->seq = ++ctx->sidecar_seq;
	snprintf(slot->name, sizeof(slot->name), "%s", name);
	snprintf(slot->text, sizeof(slot->text), "%s", text);
}

/* A reason is one line of text: tabs and newlines become spaces, other control bytes are
 * refused, and surrounding blanks are trimmed. */
static int
sftp_upload_reason_clean(char *t, size_t n)
{
	size_t b = 0, e = n;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c == '\t' || c == '\n' || c == '\r')
			t[i] = ' ';
		else if (c < 0x20 || c == 0x7f)
			return -1;
	}
	while (b < e && t[b] == ' ')
		b++;
	while (e > b && t[e - 1] == ' ')
		e--;
	memmove(t, t + b, e - b);
	t[e - b] = '\0';
	return 0;
}

/*
 * A checksum sidecar is what sha256sum prints: 64 hex digits, then optionally blanks and a file
 * name (not compared: it is the uploader's local path), on one line. Leaves the lower-case
 * digits in t.
 */
static int
sftp_upload_sha256_parse(char *t, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < 64; i++)
		if (!isxdigit((unsigned char)t[i]))
			return -1;
	if (i != 64 || (n > 64 && t[64] != ' ' && t[64] != '\t' && t[64] != '\n' && t[64] != '\r'))
		return -1;
	for (size_t j = 64; j < n; j++)
		if (t[j] == '\n' && j + 1 < n && t[j + 1] != '\n' && t[j + 1] != '\r')
			return -1; /* a second line: one checksum per sidecar */
	for (i = 0; i < 64; i++)
		t[i] = (char)tolower((unsigned char)t[i]);
	t[64] = '\0';
	return 0;
}

/* Which sidecar a name is (NAME.reason, NAME.sha256), or SIDECAR_NONE. */
static int
sftp_upload_sidecar_of(const char *name)
{
	size_t n = strlen(name);

	for (int kind = SIDECAR_REASON; kind <= SIDECAR_SHA256; kind++) {
		size_t k = strlen(sftp_sidecar_rules[kind].suffix);

		if (n > k && strcmp(name + n - k, sftp_sidecar_rules[kind].suffix) == 0)
			return kind;
	}
	return SIDECAR_NONE;
}

static void
sftp_upload_sidecar_close(struct sftp_upload_ctx *ctx, struct sftp_upload *up,
			  struct sftp_answer *ans)
{
	const struct sftp_sidecar_rule *k = &sftp_sidecar_rules[up->sidecar];
	size_t n = (size_t)sftp_upload_ranges_end(&up->ranges);

	if (up->failed || !sftp_upload_ranges_complete(&up->ranges))
		sftp_upload_answer(ans, SSH_FX_FAILURE, "%s refused: incomplete upload", k->what);
	else if (k->check(up->text, n) < 0)
		sftp_upload_answer(ans, SSH_FX_FAILURE, "%s", k->refusal);
	else {
		sftp_upload_sidecar_keep(ctx, up->sidecar, up->name, up->text);
		sftp_upload_answer(ans, SSH_FX_OK, "%s kept for the next upload of %s", k->what,
				   up->name);
	}
}

/* ---- queueing and .filepart parking ---- */

/* Hands a complete upload to the airlock; ans is the outcome for the CLOSE, or for the RENAME
 * of a NAME.filepart. */
static void
sftp_upload_commit(struct sftp_upload_ctx *ctx, uint64_t token, const char *name,
		   const char *reason, const char *sha256, struct sftp_answer *ans)
{
	char msg[256] = "";

	if (ctx->be->upload_commit(ctx->be->arg, token, name, reason ? reason : "", sha256, msg,
				   sizeof(msg)) < 0) {
		sftp_upload_answer(ans, SSH_FX_FAILURE, "upload refused: %s",
				   msg[0] ? msg : "the airlock did not accept it");
		return;
	}
	/* Used: the next upload of name declares anew. After a refusal the declaration stays, so
	 * a retry needs no new sidecar. */
	if (sha256[0])
		free(sftp_upload_sidecar_take(ctx, SIDECAR_SHA256, name));
	snprintf(ctx->last_queued, sizeof(ctx->last_queued), "%s", name);
	/* The monitor says what became of it: a queued import, or a draft (transfer/draft.h). */
	if (strncmp(msg, "kept as", 7) == 0)
		sftp_upload_answer(ans, SSH_FX_OK, "%s", msg);
	else
		sftp_upload_answer(ans, SSH_FX_OK, "queued as %s", msg);
}

static void
sftp_upload_parked_drop(struct sftp_upload_ctx *ctx, struct sftp_parked *pk, int abort_it)
{
	if (abort_it)
		ctx->be->upload_abort(ctx->be->arg, pk->token);
	free(pk->reason);
	memset(pk, 0, sizeof(*pk));
}

/* Where a held NAME.filepart goes: its earlier upload (replaced), a free slot, or the oldest. */
static struct sftp_parked *
sftp_upload_park_slot(struct sftp_upload_ctx *ctx, const char *name)
{
	struct sftp_parked *free_slot = NULL, *oldest = NULL;

	for (size_t i = 0; i < SFTP_MAX_PARKED; i++) {
		struct sftp_parked *pk = &ctx->parked[i];

		if (pk->used && strcmp(pk->name, name) == 0)
			return pk;
		if (!pk->used && !free_slot)
			free_slot = pk;
		if (pk->used && (!oldest || pk->seq < oldest->seq))
			oldest = pk;
	}
	return free_slot ? free_slot : oldest;
}

/* A complete NAME.filepart waits for its rename to NAME (at most SFTP_MAX_PARKED wait); the
 * reason moves with it. */
static void
sftp_upload_park(struct sftp_upload_ctx *ctx, struct sftp_upload *up, struct sftp_answer *ans)
{
	struct sftp_parked *slot = sftp_upload_park_slot(ctx, up->name);

	if (slot->used)
		sftp_upload_parked_drop(ctx, slot, 1);
	slot->used = 1;
	slot->seq = ++ctx->park_seq;
	slot->token = up->token;
	snprintf(slot->name, sizeof(slot->name), "%s", up->name);
	snprintf(slot->sha256, sizeof(slot->sha256), "%s", up->sha256);
	slot->reason = up->reason;
	up->reason = NULL;
	sftp_upload_answer(ans, SSH_FX_OK, "held until renamed to %s", up->name);
}

/* CLOSE of a file: only a complete one is handed to the airlock (or, for NAME.filepart, held
 * for its rename), anything else is aborted. Our fd is closed first so a failed close (lost
 * write) refuses the upload. */
static void
sftp_upload_file_close(struct sftp_upload_ctx *ctx, struct sftp_upload *up, struct sftp_answer *ans)
{
	int ok = !up->failed && sftp_upload_ranges_complete(&up->ranges);

	if (close(up->fd) < 0)
		ok = 0;
	up->fd = -1;
	if (!ok) {
		ctx->be->upload_abort(ctx->be->arg, up->token);
		sftp_upload_answer(
		    ans, SSH_FX_FAILURE,
		    "upload refused: incomplete or failed writes, nothing was queued");
	} else if (up->filepart)
		sftp_upload_park(ctx, up, ans);
	else
		sftp_upload_commit(ctx, up->token, up->name, up->reason, up->sha256, ans);
}

/* NAME.filepart (WinSCP's temporary name) uploads NAME: target gets NAME and 1 is returned;
 * any other name is its own target (0); -1 if what is left is not a valid name. */
static int
sftp_upload_filepart_target(const char *name, char target[256])
{
	size_t n = strlen(name), k = strlen(SFTP_FILEPART_SUFFIX);

	snprintf(target, 256, "%s", name);
	if (n <= k || strcmp(name + n - k, SFTP_FILEPART_SUFFIX) != 0)
		return 0;
	target[n - k] = '\0';
	return filename_valid(target) ? 1 : -1;
}

/* ---- the interface (sftp_upload.h) ---- */

struct sftp_upload_ctx *
sftp_upload_ctx_new(const struct sftp_backend *be)
{
	struct sftp_upload_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx)
		ctx->be = be;
	return ctx;
}

void
sftp_upload_ctx_free(struct sftp_upload_ctx *ctx)
{
	if (!ctx)
		return;
	for (size_t i = 0; i < SFTP_MAX_PARKED; i++)
		if (ctx->parked[i].used)
			sftp_upload_parked_drop(ctx, &ctx->parked[i], 1); /* never renamed */
	free(ctx);
}

int
sftp_upload_plan(struct sftp_upload_ctx *ctx, const char *name, struct sftp_upload_plan *plan,
		 struct sftp_answer *ans)
{
	const char *declared;
	size_t n;

	memset(plan, 0, sizeof(*plan));
	plan->sidecar = SIDECAR_NONE;
	plan->filepart = sftp_upload_filepart_target(name, plan->target);
	if (plan->filepart < 0)
		goto badname;
	/* A sidecar is kept at its CLOSE; through a temporary name its rename is then a no-op. */
	if ((plan->sidecar = sftp_upload_sidecar_of(plan->target)) != SIDECAR_NONE) {
		n = strlen(plan->target) - strlen(sftp_sidecar_rules[plan->sidecar].suffix);
		plan->target[n] = '\0';
		plan->filepart = 0;
		if (!filename_valid(plan->target))
			goto badname;
		return 0;
	}
	/* Kept until an upload of NAME is queued: a retry after a refused one needs it again. */
	declared = sftp_upload_sidecar_peek(ctx, SIDECAR_SHA256, plan->target);
	if (!declared && ctx->be->require_checksum) {
		sftp_upload_answer(ans, SSH_FX_PERMISSION_DENIED,
				   "upload refused: declare its SHA-256 first: put %s%s (sha256sum "
				   "output), then %s",
				   plan->target, SFTP_SHA256_SUFFIX, plan->target);
		return -1;
	}
	snprintf(plan->sha256, sizeof(plan->sha256), "%s", declared ? declared : "");
	return 0;
badname:
	sftp_upload_answer(ans, SSH_FX_PERMISSION_DENIED, "upload refused: invalid file name");
	return -1;
}

struct sftp_upload *
sftp_upload_start(struct sftp_upload_ctx *ctx, const struct sftp_upload_plan *plan,
		  struct sftp_answer *ans)
{
	struct sftp_upload *up = calloc(1, sizeof(*up));

	if (!up)
		goto nomem;
	up->fd = -1;
	up->sidecar = plan->sidecar;
	snprintf(up->name, sizeof(up->name), "%s", plan->target);
	if (up->sidecar != SIDECAR_NONE) {
		if (!(up->text = calloc(1, SFTP_SIDECAR_MAX + 1)))
			goto nomem;
		return up;
	}
	if (ctx->be->upload_begin(ctx->be->arg, plan->target, &up->fd, &up->token) < 0 ||
	    up->fd < 0) {
		free(up);
		sftp_upload_answer(ans, SSH_FX_FAILURE, "upload refused: cannot start it");
		return NULL;
	}
	up->filepart = plan->filepart;
	up->max = ctx->be->import_max_size;
	snprintf(up->sha256, sizeof(up->sha256), "%s", plan->sha256);
	up->reason = sftp_upload_sidecar_take(ctx, SIDECAR_REASON, plan->target);
	return up;
nomem:
	free(up);
	sftp_upload_answer(ans, SSH_FX_FAILURE, "out of memory");
	return NULL;
}

static int
sftp_upload_write_fd(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

void
sftp_upload_write(struct sftp_upload *up, uint64_t off, const uint8_t *p, size_t n,
		  struct sftp_answer *ans)
{
	int sidecar = up->sidecar != SIDECAR_NONE;

	if (up->failed) {
		sftp_upload_answer(ans, SSH_FX_FAILURE, "upload refused: an earlier write failed");
		return;
	}
	/* off_t is signed: keep the end of every write representable. */
	if (off > INT64_MAX - n || sftp_upload_ranges_add(&up->ranges, off, off + n) < 0) {
		up->failed = 1;
		sftp_upload_answer(ans, SSH_FX_FAILURE, "upload refused: writes too scattered");
		return;
	}
	/* SPEC: an upload larger than import_max_size is cut off while it is written. The bytes
	 * so far go with the aborted upload at CLOSE; nothing is kept or queued. */
	if (!sidecar && up->max && (off > up->max || n > up->max - off)) {
		up->failed = 1;
		sftp_upload_answer(ans, SSH_FX_FAILURE,
				   "upload refused: larger than import_max_size (%llu bytes); "
				   "nothing was kept",
				   (unsigned long long)up->max);
		return;
	}
	/* A sidecar stays in memory: SFTP_SIDECAR_MAX bytes at most. */
	if (sidecar && (off > SFTP_SIDECAR_MAX || n > SFTP_SIDECAR_MAX - off)) {
		up->failed = 1;
		sftp_upload_answer(ans, SSH_FX_FAILURE, "%s refused: longer than %d bytes",
				   sftp_sidecar_rules[up->sidecar].what, SFTP_SIDECAR_MAX);
		return;
	}
	if (sidecar)
		memcpy(up->text + off, p, n);
	else if (sftp_upload_write_fd(up->fd, p, n, off) < 0) {
		up->failed = 1;
		sftp_upload_answer(ans, SSH_FX_FAILURE, "upload refused: write failed");
		return;
	}
	sftp_upload_answer(ans, SSH_FX_OK, "ok");
}

uint64_t
sftp_upload_size(const struct sftp_upload *up)
{
	return sftp_upload_ranges_end(&up->ranges);
}

const char *
sftp_upload_name(const struct sftp_upload *up)
{
	return up->name;
}

static void
sftp_upload_free(struct sftp_upload *up)
{
	free(up->reason);
	free(up->text);
	free(up);
}

void
sftp_upload_close(struct sftp_upload_ctx *ctx, struct sftp_upload *up, struct sftp_answer *ans)
{
	if (up->sidecar != SIDECAR_NONE)
		sftp_upload_sidecar_close(ctx, up, ans);
	else
		sftp_upload_file_close(ctx, up, ans);
	sftp_upload_free(up);
}

void
sftp_upload_discard(struct sftp_upload_ctx *ctx, struct sftp_upload *up)
{
	if (!up)
		return;
	if (up->fd >= 0)
		(void)close(up->fd); /* nothing to report to: the connection is gone */
	if (up->sidecar == SIDECAR_NONE)
		ctx->be->upload_abort(ctx->be->arg, up->token);
	sftp_upload_free(up);
}

int
sftp_upload_rename(struct sftp_upload_ctx *ctx, const char *from, const char *to,
		   struct sftp_answer *ans)
{
	char name[256], base[256];
	int kind;

	if (sftp_upload_filepart_target(from, name) != 1 || strcmp(name, to) != 0)
		return -1;
	/* A sidecar sent as NAME.sha256.filepart was kept at its CLOSE already. */
	if ((kind = sftp_upload_sidecar_of(name)) != SIDECAR_NONE) {
		snprintf(base, sizeof(base), "%.*s",
			 (int)(strlen(name) - strlen(sftp_sidecar_rules[kind].suffix)), name);
		if (sftp_upload_sidecar_peek(ctx, kind, base))
			sftp_upload_answer(ans, SSH_FX_OK, "kept for the next upload of %s", base);
		else
			sftp_upload_answer(ans, SSH_FX_NO_SUCH_FILE, "no %s to rename", name);
		return 0;
	}
	for (size_t i = 0; i < SFTP_MAX_PARKED; i++) {
		struct sftp_parked *pk = &ctx->parked[i];

		if (!pk->used || strcmp(pk->name, name) != 0)
			continue;
		sftp_upload_commit(ctx, pk->token, pk->name, pk->reason, pk->sha256, ans);
		sftp_upload_parked_drop(ctx, pk, 0); /* committed or refused: the backend is done */
		return 0;
	}
	sftp_upload_answer(ans, SSH_FX_NO_SUCH_FILE, "no complete upload of %s%s to rename", name,
			   SFTP_FILEPART_SUFFIX);
	return 0;
}

int
sftp_upload_just_queued(const struct sftp_upload_ctx *ctx, const char *name)
{
	return ctx->last_queued[0] && strcmp(ctx->last_queued, name) == 0;
}
