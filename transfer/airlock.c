/*
 * The airlock's privileged side (see airlock.h): submissions, decisions, delivery, the outbox
 * and the start-up scan. Every state change is one LMDB write transaction that re-reads the
 * record, asks the transition table (queue.c) and appends its audit record before committing.
 */
#include "transfer/airlock.h"

#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/log.h"
#include "common/names.h"
#include "common/why.h"
#include "policy/account.h"
#include "transfer/area.h"
#include "transfer/blob.h"
#include "transfer/check.h"
#include "transfer/draft.h"
#include "transfer/export_check.h"
#include "transfer/ledger.h"
#include "transfer/queue.h"

#define DELIVER_MAX_SUFFIX 10000 /* NAME.1 .. NAME.9999, then give up */

static struct request *
request_new(void)
{
	return calloc(1, sizeof(struct request));
}

static const char *
q(const char *in, char *out, size_t outlen)
{
	return audit_quote(in, out, outlen);
}

/*
 * Normalises a client path to one relative to the area root: "/work/x/y" -> "x/y"; a relative
 * path is taken as it is. Anything else absolute, any ".." component, an empty path or a
 * directory-looking one is refused. The kernel (RESOLVE_BENEATH) enforces this again.
 */
static int
normalise_relpath(const char *in, char *out, size_t outlen, const char **name, char *why,
		  size_t whylen)
{
	const char *p = in, *c;
	size_t n;

	if (!in || !*in)
		return why_set(why, whylen, "empty path");
	if (in[0] == '/') {
		if (strncmp(in, "/work/", 6) != 0)
			return why_set(why, whylen, "path is outside the work area (/work)");
		p = in + 6;
	}
	while (*p == '/')
		p++;
	n = strlen(p);
	if (n == 0 || n >= outlen)
		return why_set(why, whylen, n ? "path is too long" : "path names a directory");
	if (p[n - 1] == '/')
		return why_set(why, whylen, "path names a directory");
	for (c = p; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return why_set(why, whylen, "path contains control characters");
	for (c = p; c; c = strchr(c, '/')) {
		if (*c == '/')
			c++;
		if (strncmp(c, "..", 2) == 0 && (c[2] == '/' || c[2] == '\0'))
			return why_set(why, whylen, "path may not contain \"..\"");
	}
	memcpy(out, p, n + 1);
	*name = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
	if (!filename_valid(*name))
		return why_set(why, whylen, "invalid file name");
	return 0;
}

/* The identity an export source is opened with: the requesting member's (see area.h). */
struct source_reader {
	const char *user;
	uid_t uid;
	gid_t gid;
};

/*
 * Opens relpath beneath the area without following any link, checks it is one plain file of
 * at most max bytes, and returns a readable fd of exactly the inode that was checked.
 * With a reader, the area's directory is opened as root (state_dir is not the members'), and
 * everything beneath it, the lookup and the open for reading, with the reader's filesystem
 * identity: the kernel refuses what the member's own sandbox could not read, in the very open
 * that yields the fd. No reader: root's permissions (an admin's move).
 */
static int
open_source(const char *state_dir, const char *project, const char *area, const char *relpath,
	    const struct source_reader *as, uint64_t max, const char *maxname, int *out, char *why,
	    size_t whylen)
{
	struct area_creds saved;
	struct stat sb, sb2;
	char proc[64];
	int afd = -1, pfd = -1, fd = -1, rc, ret = -1, entered = 0;

	if ((rc = area_open(state_dir, project, area, &afd)) < 0) {
		why_set(why, whylen, "area %s/%s: %s", project, area, strerror(-rc));
		goto out;
	}
	if (as) {
		if ((rc = area_creds_enter(as->uid, as->gid, &saved)) < 0) {
			why_set(why, whylen,
				"%s: cannot take the identity of %s (uid %u gid %u): %s", relpath,
				as->user, (unsigned)as->uid, (unsigned)as->gid, strerror(-rc));
			goto out;
		}
		entered = 1;
	}
	/* O_PATH first: fstat before any open that could block (FIFO) or act (device). */
	if ((pfd = area_openat(afd, relpath, O_PATH | O_NOFOLLOW, 0)) < 0) {
		if (pfd == -EACCES && as)
			why_set(why, whylen,
				"%s: permission denied (a directory on the way is "
				"not searchable by %s)",
				relpath, as->user);
		else if (pfd == -ELOOP)
			why_set(why, whylen, "%s: symbolic links are not allowed", relpath);
		else if (pfd == -EXDEV)
			why_set(why, whylen, "%s: path is outside the work area", relpath);
		else
			why_set(why, whylen, "%s: %s", relpath, strerror(-pfd));
		goto out;
	}
	if (fstat(pfd, &sb) < 0) {
		why_set(why, whylen, "%s: %s", relpath, strerror(errno));
		goto out;
	}
	if (S_ISLNK(sb.st_mode)) {
		why_set(why, whylen, "%s: symbolic links are not allowed", relpath);
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		why_set(why, whylen, "%s: not a regular file (%s)", relpath,
			S_ISDIR(sb.st_mode)    ? "directory"
			: S_ISFIFO(sb.st_mode) ? "FIFO"
			: S_ISSOCK(sb.st_mode) ? "socket"
					       : "device");
		goto out;
	}
	if (sb.st_nlink != 1) {
		why_set(why, whylen, "%s: file has %ju links (hard links are not allowed)", relpath,
			(uintmax_t)sb.st_nlink);
		goto out;
	}
	if ((uint64_t)sb.st_size > max) {
		why_set(why, whylen, "%s: %jd bytes is over %s (%" PRIu64 ")", relpath,
			(intmax_t)sb.st_size, maxname, max);
		goto out;
	}
	/* Reopen the very inode checked above (the magic link cannot be swapped underneath). */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	if ((fd = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0) {
		/* O_NONBLOCK: a lease someone holds on the file fails the open instead of making
		 * the gateway wait out the break. */
		if (errno == EACCES && as)
			why_set(why, whylen, "%s: permission denied (not readable by %s)", relpath,
				as->user);
		else
			why_set(why, whylen, "%s: %s", relpath,
				errno == EWOULDBLOCK
				    ? "in use (a file lease is held on it); try again"
				    : strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb2) < 0 || sb2.st_ino != sb.st_ino || sb2.st_dev != sb.st_dev ||
	    !S_ISREG(sb2.st_mode)) {
		why_set(why, whylen, "%s: file changed while being opened", relpath);
		goto out;
	}
	*out = fd;
	fd = -1;
	ret = 0;
out:
	/* Back to root before anything else: the snapshot (FICLONE, the read lease, the
	 * quarantine writes) is the monitor's own work and needs CAP_LEASE, not the member. */
	if (entered)
		area_creds_leave(&saved);
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	if (afd >= 0)
		close(afd);
	return ret;
}

static int
project_gid(struct store *st, const char *project, gid_t *gid, char *why, size_t whylen)
{
	struct project p;
	MDB_txn *txn;
	int rc;

	if ((rc = store_begin(st, 1, &txn)) < 0)
		return why_set(why, whylen, "store: %s", store_strerror(rc));
	rc = project_get(st, txn, project, &p);
	store_abort(txn);
	if (rc == STORE_NOTFOUND)
		return why_set(why, whylen, "project \"%s\" does not exist", project);
	if (rc != 0)
		return why_set(why, whylen, "project \"%s\": cannot read record: %s", project,
			       store_strerror(rc));
	*gid = p.gid;
	return 0;
}

/* What an analyst's export adds to a submission (issue 13): the check report handed back, and
 * the returned request it replaces, linked in the same transaction as the insert. */
struct submit_more {
	uint64_t replaces;
	char *report;
	size_t reportlen;
	/* Runs in the transaction that inserts the request (a draft's record goes with it). */
	int (*in_txn)(struct store *st, MDB_txn *txn, void *arg);
	void *arg;
};

/*
 * Snapshots src into the quarantine store, runs the export checks when asked, then records the
 * request: bytes first, record second. The shared lock keeps the start-up scan from taking
 * the new blob for an orphan in the moment between the two.
 */
static int
submit_more(struct store *st, const struct config *cfg, struct request *r, int src, int from_start,
	    uint64_t max, int run_checks, const uint8_t *expect, const struct submit_more *more,
	    uint64_t *id, char *why, size_t whylen)
{
	char path[PATH_MAX], hex[65], qn[600], qr[2100];
	struct check_report *rep = NULL;
	MDB_txn *txn = NULL;
	int lock = -1, bfd = -1, rc, ret = -1;

	if (blob_lock(store_state_dir(st), 0, &lock) < 0) {
		why_set(why, whylen, "quarantine: %s", strerror(errno));
		goto out;
	}
	if (blob_store(store_state_dir(st), src, from_start, max, expect, r->sha256, &r->s.size,
		       why, whylen) < 0)
		goto out;
	if (run_checks) {
		blob_path(store_state_dir(st), r->sha256, path, sizeof(path));
		if (!(rep = malloc(sizeof(*rep))) ||
		    (bfd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			why_set(why, whylen, "quarantine: %s", strerror(errno));
			goto out;
		}
		if (export_check(st, cfg, r->s.project, bfd, r->s.name, rep, why, whylen) < 0)
			goto out;
		check_report_text(rep, r->report, sizeof(r->report));
		/* The analyst sees the report at once, also with a refusal (issue 13). */
		if (more && more->report)
			snprintf(more->report, more->reportlen, "%s", r->report);
		if (cfg->export_block_on_fail && rep->result == CHECK_FAIL) {
			blob_hex(r->sha256, hex); /* the snapshot is an orphan: the scan removes it */
			export_refused(st, r->s.requester, r->s.project, r->s.name, hex, rep, why,
				       whylen);
			goto out;
		}
		r->s.check = (uint8_t)rep->result;
	} else {
		r->s.check = CHECK_NONE;
		snprintf(r->report, sizeof(r->report),
			 "result: none\n%s requests are not checked "
			 "automatically\n%s",
			 queue_kind_name(r->s.kind),
			 expect ? "the upload matches the SHA-256 its uploader declared\n" : "");
	}
	r->s.state = ST_PENDING;
	r->s.created = (uint64_t)time(NULL);
	if ((rc = store_begin(st, 0, &txn)) < 0) {
		why_set(why, whylen, "store: %s", store_strerror(rc));
		goto out;
	}
	blob_hex(r->sha256, hex);
	if ((rc = queue_insert(st, txn, r)) < 0 ||
	    (rc = audit_append(st, txn, r->s.requester, "transfer.submit",
			       "id=%" PRIu64 " kind=%s project=%s area=%s%s%s name=%s size=%" PRIu64
			       " sha256=%s check=%s reason=%s",
			       r->s.id, queue_kind_name(r->s.kind), r->s.project, r->s.area,
			       r->s.to_area[0] ? " to_area=" : "", r->s.to_area,
			       q(r->s.name, qn, sizeof(qn)), r->s.size, hex,
			       queue_check_name(r->s.check), q(r->reason, qr, sizeof(qr)))) < 0) {
		why_set(why, whylen, "store: cannot record the request: %s", store_strerror(rc));
		goto out;
	}
	if (more && more->replaces &&
	    airlock_link_resubmission(st, txn, r, more->replaces, why, whylen) < 0)
		goto out;
	if (more && more->in_txn && (rc = more->in_txn(st, txn, more->arg)) != 0) {
		why_set(why, whylen, "store: %s", store_strerror(rc));
		goto out;
	}
	transfer_crash_point("submit.before_commit");
	if ((rc = store_commit(txn)) < 0) {
		txn = NULL;
		why_set(why, whylen, "store: commit: %s", store_strerror(rc));
		goto out;
	}
	txn = NULL;
	transfer_crash_point("submit.committed");
	*id = r->s.id;
	ret = 0;
out:
	store_abort(txn);
	if (bfd >= 0)
		close(bfd);
	free(rep);
	blob_unlock(lock);
	return ret;
}

static int
submit(struct store *st, const struct config *cfg, struct request *r, int src, int from_start,
       uint64_t max, int run_checks, const uint8_t *expect, uint64_t *id, char *why, size_t whylen)
{
	return submit_more(st, cfg, r, src, from_start, max, run_checks, expect, NULL, id, why,
			   whylen);
}

static int
check_reason(const char *reason, char *why, size_t whylen)
{
	if (reason && strlen(reason) >= QUEUE_REASON_MAX)
		return why_set(why, whylen, "reason is longer than %d bytes", QUEUE_REASON_MAX - 1);
	for (const char *c = reason; c && *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return why_set(why, whylen, "reason contains control characters");
	return 0;
}

static int
check_actor(const struct airlock_actor *who, char *why, size_t whylen)
{
	if (!who || !who->user || who->is_admin || !name_valid(who->project) ||
	    !name_valid(who->area))
		return why_set(why, whylen, "only an analyst's session may do this");
	return 0;
}

int
airlock_export(struct store *st, const struct config *cfg, const struct airlock_actor *who,
	       const char *relpath, const char *reason, uint64_t *id, char *why, size_t whylen)
{
	return airlock_export_ex(st, cfg, who, relpath, reason, 0, id, NULL, 0, why, whylen);
}

int
airlock_export_ex(struct store *st, const struct config *cfg, const struct airlock_actor *who,
		  const char *relpath, const char *reason, uint64_t replaces, uint64_t *id,
		  char *report, size_t reportlen, char *why, size_t whylen)
{
	struct submit_more more = {replaces, report, reportlen, NULL, NULL};
	struct source_reader as;
	struct request *r = NULL;
	const char *name;
	char ext[16];
	int fd = -1, ret = -1;

	if (check_actor(who, why, whylen) < 0 || check_reason(reason, why, whylen) < 0)
		return -1;
	/* The reader is the session's account and the project's group as the store has them,
	 * never anything the client said. */
	as.user = who->user;
	as.uid = who->uid;
	if (project_gid(st, who->project, &as.gid, why, whylen) < 0)
		return -1;
	if (!(r = request_new()))
		return why_set(why, whylen, "out of memory");
	if (normalise_relpath(relpath, r->relpath, sizeof(r->relpath), &name, why, whylen) < 0)
		goto out;
	if (!check_type_allowed(cfg, name, ext, sizeof(ext))) {
		why_set(why, whylen, "%s: file type \"%s\" is not allowed (export_types)",
			r->relpath, ext[0] ? ext : "(none)");
		goto out;
	}
	if (open_source(store_state_dir(st), who->project, who->area, r->relpath, &as,
			cfg->export_max_size, "export_max_size", &fd, why, whylen) < 0)
		goto out;
	r->s.kind = KIND_EXPORT;
	snprintf(r->s.project, sizeof(r->s.project), "%s", who->project);
	snprintf(r->s.area, sizeof(r->s.area), "%s", who->area);
	snprintf(r->s.requester, sizeof(r->s.requester), "%s", who->user);
	snprintf(r->s.name, sizeof(r->s.name), "%s", name);
	snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
	ret = submit_more(st, cfg, r, fd, 0, cfg->export_max_size, 1, NULL, &more, id, why, whylen);
out:
	if (fd >= 0)
		close(fd);
	free(r);
	return ret;
}

/* An admin's typo must not create a new area: the names come from the zones in the config. */
static int
area_known(const struct config *cfg, const char *area, char *why, size_t whylen)
{
	for (size_t i = 0; i < cfg->nzones; i++)
		if (strcmp(cfg->zones[i].area, area) == 0)
			return 0;
	return why_set(why, whylen, "area \"%s\" is not the area of any zone in the configuration",
		       area);
}

/* Limit for imports and moves: a file the sandbox could not have written itself (file_size_max)
 * has no business entering it either. */
static uint64_t
import_limit(const struct config *cfg)
{
	uint64_t lim = cfg->file_size_max ? cfg->file_size_max : (10ull << 30);

	/* [airlock] import_max_size caps it further (SPEC; the SFTP engine cuts uploads off at it
	 * while they arrive, this is the monitor's own check). */
	return cfg->import_max_size && cfg->import_max_size < lim ? cfg->import_max_size : lim;
}

int
airlock_import(struct store *st, const struct config *cfg, const char *requester,
	       const char *project, const char *area, int src, const char *name, const char *reason,
	       uint64_t *id, char *why, size_t whylen)
{
	struct request *r;
	gid_t gid;
	int ret;

	if (!name_valid(project) || !name_valid(area))
		return why_set(why, whylen, "invalid project or area name");
	if (!filename_valid(name))
		return why_set(why, whylen, "invalid file name");
	if (!requester || !*requester || strlen(requester) >= QUEUE_USER_MAX ||
	    check_reason(reason, why, whylen) < 0)
		return why[0] ? -1 : why_set(why, whylen, "invalid requester");
	if (area_known(cfg, area, why, whylen) < 0 ||
	    project_gid(st, project, &gid, why, whylen) < 0)
		return -1;
	if (!(r = request_new()))
		return why_set(why, whylen, "out of memory");
	r->s.kind = KIND_IMPORT;
	snprintf(r->s.project, sizeof(r->s.project), "%s", project);
	snprintf(r->s.area, sizeof(r->s.area), "%s", area);
	snprintf(r->s.requester, sizeof(r->s.requester), "%s", requester);
	snprintf(r->s.name, sizeof(r->s.name), "%s", name);
	snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
	ret = submit(st, cfg, r, src, 0, import_limit(cfg), 0, NULL, id, why, whylen);
	free(r);
	return ret;
}

int
airlock_move(struct store *st, const struct config *cfg, const char *requester, const char *project,
	     const char *from_area, const char *to_area, const char *relpath, const char *reason,
	     uint64_t *id, char *why, size_t whylen)
{
	struct request *r = NULL;
	const char *name;
	gid_t gid;
	int fd = -1, ret = -1;

	if (!name_valid(project) || !name_valid(from_area) || !name_valid(to_area))
		return why_set(why, whylen, "invalid project or area name");
	if (strcmp(from_area, to_area) == 0)
		return why_set(why, whylen, "source and destination area are the same");
	if (!requester || !*requester || strlen(requester) >= QUEUE_USER_MAX)
		return why_set(why, whylen, "invalid requester");
	if (check_reason(reason, why, whylen) < 0 || area_known(cfg, from_area, why, whylen) < 0 ||
	    area_known(cfg, to_area, why, whylen) < 0 ||
	    project_gid(st, project, &gid, why, whylen) < 0)
		return -1;
	if (!(r = request_new()))
		return why_set(why, whylen, "out of memory");
	/* An admin names the path as seen from inside the area: "/work/x" or "x". */
	if (normalise_relpath(relpath, r->relpath, sizeof(r->relpath), &name, why, whylen) < 0)
		goto out;
	/* The admin acts as root (no reader): a move carries whatever the area holds. */
	if (open_source(store_state_dir(st), project, from_area, r->relpath, NULL,
			import_limit(cfg), "file_size_max", &fd, why, whylen) < 0)
		goto out;
	r->s.kind = KIND_MOVE;
	snprintf(r->s.project, sizeof(r->s.project), "%s", project);
	snprintf(r->s.area, sizeof(r->s.area), "%s", from_area);
	snprintf(r->s.to_area, sizeof(r->s.to_area), "%s", to_area);
	snprintf(r->s.requester, sizeof(r->s.requester), "%s", requester);
	snprintf(r->s.name, sizeof(r->s.name), "%s", name);
	snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
	ret = submit(st, cfg, r, fd, 0, import_limit(cfg), 0, NULL, id, why, whylen);
out:
	if (fd >= 0)
		close(fd);
	free(r);
	return ret;
}

int
airlock_withdraw(struct store *st, const struct airlock_actor *who, uint64_t id, char *why,
		 size_t whylen)
{
	struct request *r = NULL;
	MDB_txn *txn = NULL;
	const char *event;
	int rc, ret = -1;

	if (check_actor(who, why, whylen) < 0)
		return -1;
	if (!(r = request_new()))
		return why_set(why, whylen, "out of memory");
	if ((rc = store_begin(st, 0, &txn)) < 0) {
		why_set(why, whylen, "store: %s", store_strerror(rc));
		goto out;
	}
	rc = queue_get(st, txn, id, r);
	/* Another project's request is "no such request": ids of others reveal nothing. */
	if (rc == STORE_NOTFOUND || (rc == 0 && strcmp(r->s.project, who->project) != 0)) {
		why_set(why, whylen, "no request %" PRIu64 " in project %s", id, who->project);
		goto out;
	}
	if (rc != 0) {
		why_set(why, whylen, "request %" PRIu64 ": cannot read record: %s", id,
			store_strerror(rc));
		goto out;
	}
	if (strcmp(r->s.requester, who->user) != 0) {
		why_set(why, whylen,
			"request %" PRIu64 " is %s's: only its requester may withdraw it", id,
			r->s.requester);
		goto out;
	}
	if (!(event = queue_transition(r->s.state, ST_WITHDRAWN))) {
		why_set(why, whylen, "request %" PRIu64 " is %s, not pending", id,
			queue_state_name(r->s.state));
		goto out;
	}
	r->s.state = ST_WITHDRAWN;
	r->s.decided = (uint64_t)time(NULL);
	if ((rc = queue_update(st, txn, r)) < 0 ||
	    (rc = audit_append(st, txn, who->user, event, "id=%" PRIu64 " project=%s", id,
			       r->s.project)) < 0) {
		why_set(why, whylen, "store: cannot record the withdrawal: %s", store_strerror(rc));
		goto out;
	}
	if ((rc = store_commit(txn)) < 0) {
		txn = NULL;
		why_set(why, whylen, "store: commit: %s", store_strerror(rc));
		goto out;
	}
	txn = NULL;
	ret = 0;
out:
	store_abort(txn);
	free(r);
	return ret;
}

/* Creates the parents of relpath beneath dirfd (root:gid 02770, no links followed) and returns
 * an fd of the last one. */
static int
open_parents(int afd, const char *relpath, gid_t gid, int *out)
{
	char buf[QUEUE_RELPATH_MAX], *comp, *slash;
	/* A readable fd, not afd's O_PATH one: the directory is fsynced after the link. */
	int cur = area_openat(afd, ".", O_RDONLY | O_DIRECTORY, 0), next;

	if (cur < 0)
		return cur;
	snprintf(buf, sizeof(buf), "%s", relpath);
	for (comp = buf; (slash = strchr(comp, '/')); comp = slash + 1) {
		*slash = '\0';
		if (*comp == '\0' || strcmp(comp, ".") == 0)
			continue;
		if (mkdirat(cur, comp, 02770) == 0) {
			if ((next = area_openat(cur, comp, O_RDONLY | O_DIRECTORY, 0)) < 0)
				goto fail;
			if (fchown(next, 0, gid) < 0 || fchmod(next, 02770) < 0) {
				close(next);
				next = -errno;
				goto fail;
			}
		} else if (errno != EEXIST) {
			next = -errno;
			goto fail;
		} else if ((next = area_openat(cur, comp, O_RDONLY | O_DIRECTORY, 0)) < 0) {
			goto fail;
		}
		close(cur);
		cur = next;
	}
	*out = cur;
	return 0;
fail:
	close(cur);
	return next;
}

/*
 * Copies the verified blob into dirfd as name, or name.1, name.2 ... : never overwrites. The
 * bytes go into an unnamed file that is linked only once complete, fsynced and re-hashed.
 */
static int
place_file(struct store *st, const struct request *r, int dirfd, const char *name, gid_t gid,
	   mode_t mode, char *placed, size_t placedlen)
{
	char proc[64];
	int fd, rc, i;

	if ((fd = area_openat(dirfd, ".", O_TMPFILE | O_WRONLY, 0600)) < 0)
		return fd;
	if ((rc = blob_verify(store_state_dir(st), r->sha256, r->s.size, fd, NULL)) < 0)
		goto out;
	if (fchown(fd, 0, gid) < 0 || fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		rc = -errno;
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	for (i = 0; i < DELIVER_MAX_SUFFIX; i++) {
		if (i == 0)
			snprintf(placed, placedlen, "%s", name);
		else if (snprintf(placed, placedlen, "%s.%d", name, i) >= (int)placedlen ||
			 strlen(placed) > 255)
			break;
		if (linkat(AT_FDCWD, proc, dirfd, placed, AT_SYMLINK_FOLLOW) == 0)
			break;
		if (errno != EEXIST) {
			rc = -errno;
			goto out;
		}
	}
	if (i == DELIVER_MAX_SUFFIX || strlen(placed) > 255) {
		rc = -EEXIST;
		goto out;
	}
	rc = fsync(dirfd) < 0 ? -errno : 0;
out:
	close(fd);
	return rc;
}

static int
deliver_copy(struct store *st, const struct request *r, char *where, size_t wherelen, char *why,
	     size_t whylen)
{
	const char *area = r->s.kind == KIND_MOVE ? r->s.to_area : r->s.area;
	char placed[300], rel[QUEUE_RELPATH_MAX];
	int afd = -1, dfd = -1, rc, ret = -1;
	gid_t gid;

	if (project_gid(st, r->s.project, &gid, why, whylen) < 0)
		return -1;
	if (area_ensure(store_state_dir(st), r->s.project, area, gid, why, whylen) < 0)
		return -1;
	if ((rc = area_open(store_state_dir(st), r->s.project, area, &afd)) < 0) {
		why_set(why, whylen, "area %s/%s: %s", r->s.project, area, strerror(-rc));
		goto out;
	}
	if (r->s.kind == KIND_IMPORT) {
		rc = area_openat(afd, "imports", O_RDONLY | O_DIRECTORY, 0);
		snprintf(rel, sizeof(rel), "imports/");
	} else {
		int n = (int)(strlen(r->relpath) - strlen(r->s.name));

		rc = open_parents(afd, r->relpath, gid, &dfd);
		rc = rc < 0 ? rc : dfd;
		snprintf(rel, sizeof(rel), "%.*s", n, r->relpath);
	}
	if ((dfd = rc) < 0) {
		why_set(why, whylen, "destination in %s/%s: %s", r->s.project, area, strerror(-rc));
		goto out;
	}
	rc = place_file(st, r, dfd, r->s.name, gid, r->s.kind == KIND_IMPORT ? 0640 : 0660, placed,
			sizeof(placed));
	if (rc == -EBADMSG) {
		ret = -EBADMSG;
		goto out;
	}
	if (rc < 0) {
		why_set(why, whylen, "delivering into %s/%s: %s", r->s.project, area,
			strerror(-rc));
		goto out;
	}
	snprintf(where, wherelen, "%s:/work/%s%s", area, rel, placed);
	ret = 0;
out:
	if (dfd >= 0)
		close(dfd);
	if (afd >= 0)
		close(afd);
	return ret;
}

/* Records the end of a delivery: approved -> released, or the refusal (state stays approved). */
static int
record_delivery(struct store *st, const char *actor, uint64_t id, int ok, const char *where,
		const struct check_cells *cells, char *why, size_t whylen)
{
	struct request *r = request_new();
	MDB_txn *txn = NULL;
	const char *event = NULL;
	char qw[700];
	int rc, ret = -1;

	if (!r)
		return why_set(why, whylen, "out of memory");
	if ((rc = store_begin(st, 0, &txn)) < 0 || (rc = queue_get(st, txn, id, r)) != 0) {
		why_set(why, whylen, "request %" PRIu64 ": cannot read record: %s", id,
			store_strerror(rc));
		goto out;
	}
	if (ok) {
		if (!(event = queue_transition(r->s.state, ST_RELEASED))) {
			why_set(why, whylen, "request %" PRIu64 " is %s, not approved", id,
				queue_state_name(r->s.state));
			goto out;
		}
		r->s.state = ST_RELEASED;
		if ((rc = queue_update(st, txn, r)) < 0 ||
		    (rc = ledger_record(st, txn, r->s.project, id, cells)) < 0)
			goto dberr;
	}
	if ((rc = audit_append(st, txn, actor, ok ? event : "transfer.refuse",
			       ok ? "id=%" PRIu64 " project=%s to=%s"
				  : "id=%" PRIu64
				    " project=%s reason=\"sha256 mismatch at delivery\"%s",
			       id, r->s.project, ok ? q(where, qw, sizeof(qw)) : "")) < 0)
		goto dberr;
	if ((rc = store_commit(txn)) < 0) {
		txn = NULL;
		goto dberr;
	}
	txn = NULL;
	ret = 0;
	goto out;
dberr:
	why_set(why, whylen, "store: cannot record the delivery of request %" PRIu64 ": %s", id,
		store_strerror(rc));
out:
	store_abort(txn);
	free(r);
	return ret;
}

/* The labelled cells of an export being released, from its verified snapshot. */
static int
release_cells(struct store *st, const struct request *r, struct check_cells *cells, char *why,
	      size_t whylen)
{
	char path[PATH_MAX];
	int fd, rc;

	blob_path(store_state_dir(st), r->sha256, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return why_set(why, whylen, "quarantine: %s", strerror(errno));
	rc = export_cells(fd, r->s.name, cells, why, whylen);
	close(fd);
	return rc;
}

int
airlock_deliver(struct store *st, const char *actor, uint64_t id, char *why, size_t whylen)
{
	struct check_cells cells = {0, 0, NULL};
	struct request *r = request_new();
	char where[QUEUE_RELPATH_MAX + 64] = "outbox";
	MDB_txn *txn;
	int lock = -1, rc, ret = -1;

	if (!r)
		return why_set(why, whylen, "out of memory");
	/* Shared with other deliveries, exclusive against the scan (which retries deliveries). */
	if (blob_lock(store_state_dir(st), 0, &lock) < 0) {
		why_set(why, whylen, "quarantine: %s", strerror(errno));
		goto out;
	}
	if ((rc = store_begin(st, 1, &txn)) < 0) {
		why_set(why, whylen, "store: %s", store_strerror(rc));
		goto out;
	}
	rc = queue_get(st, txn, id, r);
	store_abort(txn);
	if (rc != 0) {
		why_set(why, whylen, "request %" PRIu64 ": cannot read record: %s", id,
			store_strerror(rc));
		goto out;
	}
	if (r->s.state != ST_APPROVED) {
		why_set(why, whylen, "request %" PRIu64 " is %s, not approved", id,
			queue_state_name(r->s.state));
		goto out;
	}
	if (r->s.kind == KIND_EXPORT)
		rc = blob_verify(store_state_dir(st), r->sha256, r->s.size, -1, NULL);
	else
		rc = deliver_copy(st, r, where, sizeof(where), why, whylen);
	transfer_crash_point("deliver.copied");
	if (rc == -EBADMSG || (rc < 0 && r->s.kind == KIND_EXPORT)) {
		if (record_delivery(st, actor, id, 0, NULL, NULL, why, whylen) == 0)
			why_set(why, whylen,
				"request %" PRIu64 " approved but not released: its "
				"quarantined bytes no longer match their SHA-256",
				id);
		goto out;
	}
	if (rc < 0) {
		char cause[512];

		snprintf(cause, sizeof(cause), "%s", why);
		why_set(why, whylen, "request %" PRIu64 " approved but not delivered: %s", id,
			cause);
		goto out;
	}
	/* A released table goes into the ledger, in the transaction that releases it. */
	if (r->s.kind == KIND_EXPORT && release_cells(st, r, &cells, why, whylen) < 0)
		goto out;
	if (record_delivery(st, actor, id, 1, where, &cells, why, whylen) < 0)
		goto out;
	ret = 0;
out:
	check_cells_free(&cells);
	blob_unlock(lock);
	free(r);
	return ret;
}

/* ---- outbox (SFTP /outbox/<id>/<name>) ---- */

struct outbox_walk {
	const char *project;
	int (*fn)(const struct outbox_entry *e, void *arg);
	void *arg;
};

static int
outbox_visit(const struct req_summary *s, const MDB_val *rec, void *arg)
{
	struct outbox_walk *w = arg;
	struct outbox_entry e;

	(void)rec;
	if (s->kind != KIND_EXPORT || s->state != ST_RELEASED || strcmp(s->project, w->project))
		return 0;
	memset(&e, 0, sizeof(e));
	e.id = s->id;
	snprintf(e.name, sizeof(e.name), "%s", s->name);
	e.size = s->size;
	e.mtime = s->decided;
	return w->fn(&e, w->arg);
}

int
airlock_outbox_list(struct store *st, const char *project,
		    int (*fn)(const struct outbox_entry *e, void *arg), void *arg)
{
	struct outbox_walk w = {project, fn, arg};
	MDB_txn *txn;
	int rc;

	if (!name_valid(project))
		return -1;
	if (store_begin(st, 1, &txn) < 0)
		return -1;
	rc = queue_foreach(st, txn, outbox_visit, &w);
	store_abort(txn);
	return rc;
}

int
airlock_outbox_open(struct store *st, const char *project, uint64_t id, const char *name, int *fd,
		    uint64_t *size, char *why, size_t whylen)
{
	struct request *r = request_new();
	MDB_txn *txn;
	int rc, ret = -1;

	if (!r)
		return why_set(why, whylen, "out of memory");
	if ((rc = store_begin(st, 1, &txn)) < 0) {
		why_set(why, whylen, "store: %s", store_strerror(rc));
		goto out;
	}
	rc = queue_get(st, txn, id, r);
	store_abort(txn);
	if (rc != 0 || r->s.kind != KIND_EXPORT || r->s.state != ST_RELEASED ||
	    strcmp(r->s.project, project) != 0 || !name || strcmp(r->s.name, name) != 0) {
		why_set(why, whylen, "no released export %" PRIu64 "/%s", id, name ? name : "");
		goto out;
	}
	if ((rc = blob_verify(store_state_dir(st), r->sha256, r->s.size, -1, fd)) < 0) {
		why_set(why, whylen, "export %" PRIu64 ": %s", id,
			rc == -EBADMSG ? "quarantined bytes do not match their SHA-256"
				       : strerror(-rc));
		goto out;
	}
	*size = r->s.size;
	ret = 0;
out:
	free(r);
	return ret;
}

/* ---- uploads (SFTP /inbox) ---- */

int
airlock_upload_begin(struct store *st, const struct airlock_actor *who, const char *name, int *fd,
		     char *why, size_t whylen)
{
	char path[PATH_MAX];
	int f;

	if (check_actor(who, why, whylen) < 0)
		return -1;
	if (!filename_valid(name))
		return why_set(why, whylen, "invalid file name");
	if (snprintf(path, sizeof(path), "%s/staging", store_state_dir(st)) >= (int)sizeof(path))
		return why_set(why, whylen, "state_dir too long");
	/* Unnamed: an aborted upload, or a crash, leaves nothing to clean. */
	if ((f = open(path, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0)
		return why_set(why, whylen, "staging: %s", strerror(errno));
	*fd = f;
	return 0;
}

/* The uploader's declared SHA-256: 64 lower-case hex digits, or "" for none. */
static int
declared_hash(const struct config *cfg, const char *hex, uint8_t out[BLOB_HASH_LEN], int *have,
	      char *why, size_t whylen)
{
	*have = hex && hex[0];
	if (!*have)
		return cfg->import_require_checksum
			   ? why_set(why, whylen,
				     "no declared SHA-256 (import_require_checksum): upload "
				     "NAME.sha256 first")
			   : 0;
	if (strlen(hex) != 2 * BLOB_HASH_LEN)
		return why_set(why, whylen, "declared SHA-256 is not 64 hex digits");
	for (int i = 0; i < BLOB_HASH_LEN; i++) {
		unsigned v;

		if (!isxdigit((unsigned char)hex[2 * i]) ||
		    !isxdigit((unsigned char)hex[2 * i + 1]) || sscanf(hex + 2 * i, "%2x", &v) != 1)
			return why_set(why, whylen, "declared SHA-256 is not 64 hex digits");
		out[i] = (uint8_t)v;
	}
	return 0;
}

int
airlock_upload_commit(struct store *st, const struct config *cfg, const struct airlock_actor *who,
		      int fd, const char *name, const char *reason, const char *sha256,
		      uint64_t *id, char *why, size_t whylen)
{
	uint8_t expect[BLOB_HASH_LEN];
	struct request *r;
	struct stat sb;
	int ret, have_expect;

	if (check_actor(who, why, whylen) < 0 || check_reason(reason, why, whylen) < 0 ||
	    declared_hash(cfg, sha256, expect, &have_expect, why, whylen) < 0)
		return -1;
	if (!filename_valid(name))
		return why_set(why, whylen, "invalid file name");
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		return why_set(why, whylen, "upload is not a file");
	if ((uint64_t)sb.st_size > import_limit(cfg))
		return why_set(why, whylen,
			       "upload of %jd bytes is over the import limit "
			       "(import_max_size or file_size_max, %" PRIu64 ")",
			       (intmax_t)sb.st_size, import_limit(cfg));
	if (!(r = request_new()))
		return why_set(why, whylen, "out of memory");
	r->s.kind = KIND_IMPORT;
	snprintf(r->s.project, sizeof(r->s.project), "%s", who->project);
	snprintf(r->s.area, sizeof(r->s.area), "%s", who->area);
	snprintf(r->s.requester, sizeof(r->s.requester), "%s", who->user);
	snprintf(r->s.name, sizeof(r->s.name), "%s", name);
	snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
	/* Copied, not linked: the worker still holds a writable fd of the staging file, and what
	 * is queued must be exactly what was hashed. */
	ret = submit(st, cfg, r, fd, 1, import_limit(cfg), 0, have_expect ? expect : NULL, id, why,
		     whylen);
	free(r);
	return ret;
}

int
airlock_submit_import(struct store *st, const struct config *cfg, const struct airlock_actor *who,
		      const char *area, int fd, const char *name, const char *reason,
		      const uint8_t expect[32], int (*in_txn)(struct store *, MDB_txn *, void *),
		      void *arg, uint64_t *id, char *why, size_t whylen)
{
	struct submit_more more = {0, NULL, 0, in_txn, arg};
	struct request *r;
	int ret;

	if (check_actor(who, why, whylen) < 0 || check_reason(reason, why, whylen) < 0)
		return -1;
	if (!filename_valid(name) || !name_valid(area))
		return why_set(why, whylen, "invalid file or area name");
	if (!(r = request_new()))
		return why_set(why, whylen, "out of memory");
	r->s.kind = KIND_IMPORT;
	snprintf(r->s.project, sizeof(r->s.project), "%s", who->project);
	snprintf(r->s.area, sizeof(r->s.area), "%s", area);
	snprintf(r->s.requester, sizeof(r->s.requester), "%s", who->user);
	snprintf(r->s.name, sizeof(r->s.name), "%s", name);
	snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
	ret = submit_more(st, cfg, r, fd, 1, import_limit(cfg), 0, expect, &more, id, why, whylen);
	free(r);
	return ret;
}

/* ---- start-up scan ---- */

struct refs {
	uint8_t (*hash)[BLOB_HASH_LEN];
	size_t n, cap;
	uint64_t *approved;
	size_t napproved, capapproved;
};

static int
hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, BLOB_HASH_LEN);
}

struct refs_walk {
	struct refs *rf;
	struct request *r;
	struct store *st;
};

static int
refs_visit(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct refs_walk *w = arg;
	struct refs *rf = w->rf;
	struct request *r = w->r;
	MDB_val body;

	/* A record we cannot read might reference any blob: keep everything. */
	if (queue_open_record(w->st, k, v, &body) != 0 ||
	    queue_decode(body.mv_data, body.mv_size, r) < 0)
		return STORE_BADRECORD;
	if (rf->n == rf->cap) {
		size_t cap = rf->cap ? rf->cap * 2 : 1024;
		void *p = realloc(rf->hash, cap * BLOB_HASH_LEN);

		if (!p)
			return -ENOMEM;
		rf->hash = p;
		rf->cap = cap;
	}
	memcpy(rf->hash[rf->n++], r->sha256, BLOB_HASH_LEN);
	if (r->s.state == ST_APPROVED) {
		if (rf->napproved == rf->capapproved) {
			size_t cap = rf->capapproved ? rf->capapproved * 2 : 64;
			void *p = realloc(rf->approved, cap * sizeof(uint64_t));

			if (!p)
				return -ENOMEM;
			rf->approved = p;
			rf->capapproved = cap;
		}
		rf->approved[rf->napproved++] = r->s.id;
	}
	return 0;
}

/* Every blob a request references, and the approved requests; 0 or a store code <0. */
static int
refs_collect(struct store *st, struct refs *rf)
{
	struct refs_walk w = {rf, request_new(), st};
	MDB_txn *txn;
	int rc;

	if (!w.r)
		return -ENOMEM;
	if ((rc = store_begin(st, 1, &txn)) == 0) {
		rc = store_each(st, txn, DB_REQUESTS, NULL, 0, 0, refs_visit, &w);
		store_abort(txn);
	}
	if (rc == 0 && rf->n)
		qsort(rf->hash, rf->n, BLOB_HASH_LEN, hash_cmp);
	free(w.r);
	return rc;
}

static int
unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned hi, lo;

		if (sscanf(s + 2 * i, "%1x%1x", &hi, &lo) != 2 ||
		    !strchr("0123456789abcdef", s[2 * i]) ||
		    !strchr("0123456789abcdef", s[2 * i + 1]))
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return s[2 * n] == '\0' ? 0 : -1;
}

/* Removes everything in dir (files only, not recursing); counts what went. */
static int
empty_dir(int dfd, unsigned long *removed)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0 ||
		    unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) == 0)
			(*removed)++;
	}
	closedir(d);
	return 0;
}

static int
sweep_bucket(int bfd, const char *hh, const struct refs *rf, struct airlock_scan_stats *stats)
{
	DIR *d = fdopendir(bfd);
	struct dirent *de;
	uint8_t h[BLOB_HASH_LEN];

	if (!d) {
		close(bfd);
		return -1;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strlen(de->d_name) == 2 * BLOB_HASH_LEN && strncmp(de->d_name, hh, 2) == 0 &&
		    unhex(de->d_name, h, BLOB_HASH_LEN) == 0 && rf->n &&
		    bsearch(h, rf->hash, rf->n, BLOB_HASH_LEN, hash_cmp)) {
			stats->blobs_kept++;
			continue;
		}
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			stats->blobs_removed++;
	}
	closedir(d);
	return 0;
}

static int
sweep_blobs(const char *state_dir, const struct refs *rf, struct airlock_scan_stats *stats)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (snprintf(path, sizeof(path), "%s/blobs/sha256", state_dir) >= (int)sizeof(path))
		return -1;
	if (!(d = opendir(path)))
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		int bfd;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		bfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (bfd < 0) {
			if (unlinkat(dirfd(d), de->d_name, 0) == 0)
				stats->blobs_removed++;
			continue;
		}
		if (sweep_bucket(bfd, de->d_name, rf, stats) < 0)
			ret = -1;
	}
	if (fsync(dirfd(d)) < 0)
		ret = -1;
	closedir(d);
	return ret;
}

int
airlock_scan_ex(struct store *st, struct airlock_scan_stats *stats, char *why, size_t whylen)
{
	struct refs rf;
	char path[PATH_MAX];
	int lock = -1, sfd, rc, ret = -1;

	memset(&rf, 0, sizeof(rf));
	memset(stats, 0, sizeof(*stats));
	/* Exclusive: no submission is between its blob and its record while we sweep. */
	if (blob_lock(store_state_dir(st), 1, &lock) < 0) {
		why_set(why, whylen, "quarantine: %s", strerror(errno));
		goto out;
	}
	if ((rc = refs_collect(st, &rf)) < 0) {
		why_set(why, whylen, "store: cannot read every request (%s); nothing removed",
			store_strerror(rc));
		goto out;
	}
	if (snprintf(path, sizeof(path), "%s/staging", store_state_dir(st)) >= (int)sizeof(path)) {
		why_set(why, whylen, "state_dir too long");
		goto out;
	}
	if ((sfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    empty_dir(sfd, &stats->staging_removed) < 0) {
		why_set(why, whylen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (sweep_blobs(store_state_dir(st), &rf, stats) < 0) {
		why_set(why, whylen, "quarantine sweep: %s", strerror(errno));
		goto out;
	}
	/* Draft files whose record never committed (transfer/draft.h). */
	if (draft_sweep_orphans(st, &stats->staging_removed) < 0) {
		why_set(why, whylen, "drafts sweep: %s", strerror(errno));
		goto out;
	}
	blob_unlock(lock);
	lock = -1;
	/* Approved but not released: a crash between decision and delivery. */
	for (size_t i = 0; i < rf.napproved; i++) {
		char cause[512];

		if (airlock_deliver(st, "wsgate", rf.approved[i], cause, sizeof(cause)) == 0) {
			stats->redelivered++;
		} else {
			stats->failed++;
			log_warn_f("request %llu: %s", (unsigned long long)rf.approved[i], cause);
		}
	}
	ret = 0;
out:
	blob_unlock(lock);
	free(rf.hash);
	free(rf.approved);
	return ret;
}

int
airlock_scan(struct store *st, char *why, size_t whylen)
{
	struct airlock_scan_stats s;

	if (airlock_scan_ex(st, &s, why, whylen) < 0)
		return -1;
	log_info("airlock scan: %lu staging leftovers and %lu orphan blobs removed, %lu blobs "
		 "kept, %lu deliveries completed, %lu failed",
		 s.staging_removed, s.blobs_removed, s.blobs_kept, s.redelivered, s.failed);
	return 0;
}
