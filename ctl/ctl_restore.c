/*
 * wsgatectl restore DIR: puts a backup (ctl_backup.c) back, with the daemon stopped, into an
 * empty state_dir. Nothing reaches state_dir before the whole backup has verified:
 *   1. refused while a wsgated holds state_dir's run lock (common/runlock.h), or when state_dir
 *      has anything in it (move the old state aside first: restore never merges or overwrites);
 *   2. every file MANIFEST names is copied into state_dir/.restore and must match its SHA-256
 *      and size there (what is checked is the copy that will be used, not the backup);
 *   3. the copy opens as a store, its audit chain verifies and has the manifest's record count,
 *      and every request's blob is present with its hash and size;
 *   4. then the restore is recorded in the copy's audit log and the pieces are renamed into
 *      state_dir (same file system: each rename is atomic), the empty folders made as init does.
 * The witness file outside state_dir is never touched: it is the evidence of what came after
 * the backup, and `audit verify --witness` will name the first record the restore took away.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/fsutil.h"
#include "common/runlock.h"
#include "ctl/backupfmt.h"
#include "ctl/ctl.h"
#include "transfer/area.h"
#include "transfer/backup.h"

#define STAGE ".restore"
#define LINE_MAX_LEN 2048

struct restore {
	struct ctl *c;
	const char *dir;
	int dirfd; /* the backup, O_PATH */
	char stage[PATH_MAX];
	uint64_t audit_records, requests, witness_bytes;
	int have_magic, have_db, have_key;
};

/* The files a backup may name: the state pieces restore puts back, and nothing else, so a
 * doctored MANIFEST cannot leave files in state_dir that restore did not mean to put there. */
static int
wanted(struct restore *r, const char *rel)
{
	if (strcmp(rel, "db/data.mdb") == 0)
		return r->have_db = 1;
	if (strcmp(rel, "secrets.key") == 0)
		return r->have_key = 1;
	return strcmp(rel, "host_key") == 0 || strcmp(rel, "witness") == 0 ||
	       strncmp(rel, "recordings/", 11) == 0 || strncmp(rel, "drafts/", 7) == 0;
}

/* Opens rel beneath the backup: no symlink or ".." on the way (the backup directory is not
 * trusted to point only inside itself), and only a regular file (a FIFO would block, a device
 * would never end). Returns an fd or -errno. */
static int
open_regular(struct restore *r, const char *rel)
{
	struct stat sb;
	int fd = area_openat(r->dirfd, rel, O_RDONLY | O_NONBLOCK, 0);

	if (fd < 0)
		return fd;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* state_dir absent or empty ("lost+found" of a mount point aside). */
static int
state_is_empty(const char *state_dir)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (!(d = opendir(state_dir)))
		return errno == ENOENT ? 1 : -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, "lost+found"))
			n++;
	closedir(d);
	return n == 0;
}

/* mkdir -p of rel's parent beneath the stage. */
static int
stage_parent(struct restore *r, const char *rel)
{
	char path[PATH_MAX];

	if (backup_join(path, sizeof(path), r->stage, rel) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdir_p(dirname(path), 0700);
}

/* One manifest "file" line: copy beneath the stage and compare. */
static int
restore_file(struct restore *r, const char *hex, uint64_t size, const char *rel)
{
	char dst[PATH_MAX], got[BACKUP_HASH_HEX];
	uint64_t n;
	int fd, rc;

	if (!backup_relpath_ok(rel))
		return ctl_fail("restore: MANIFEST names an unsafe path");
	if (!wanted(r, rel))
		return ctl_fail("restore: MANIFEST names %s, which is not part of a state backup",
				rel);
	if ((fd = open_regular(r, rel)) < 0)
		return ctl_fail("restore: %s/%s: %s", r->dir, rel, strerror(-fd));
	if (stage_parent(r, rel) < 0) {
		close(fd);
		return ctl_fail("restore: %s: %s", r->stage, strerror(errno));
	}
	rc = backup_join(dst, sizeof(dst), r->stage, rel) < 0
		 ? -ENAMETOOLONG
		 : backup_copy_file(fd, dst, 0600, UINT64_MAX, got, &n);
	close(fd);
	if (rc < 0)
		return ctl_fail("restore: %s: %s", dst, strerror(-rc));
	if (n != size || strcmp(got, hex) != 0)
		return ctl_fail("restore: %s/%s does not match MANIFEST (damaged backup)", r->dir,
				rel);
	return 0;
}

static int
parse_line(struct restore *r, char *line)
{
	char hex[BACKUP_HASH_HEX], rel[1100];
	unsigned long long size;
	size_t len = strlen(line);

	if (len == 0 || line[len - 1] != '\n')
		return ctl_fail("restore: MANIFEST: a line is too long or unterminated");
	line[len - 1] = '\0';
	if (strcmp(line, BACKUP_MAGIC) == 0) {
		r->have_magic = 1;
		return 0;
	}
	if (!r->have_magic)
		return ctl_fail("restore: %s is not a wsgate backup (no MANIFEST header)", r->dir);
	if (sscanf(line, "audit_records %" SCNu64, &r->audit_records) == 1 ||
	    sscanf(line, "requests %" SCNu64, &r->requests) == 1 ||
	    sscanf(line, "witness %" SCNu64, &r->witness_bytes) == 1 ||
	    strncmp(line, "created ", 8) == 0 || strcmp(line, "witness none") == 0)
		return 0;
	if (sscanf(line, "file %64[0-9a-f] %llu %1099s", hex, &size, rel) == 3 && strlen(hex) == 64)
		return restore_file(r, hex, (uint64_t)size, rel);
	return ctl_fail("restore: MANIFEST: unknown line");
}

static int
read_manifest(struct restore *r)
{
	char line[LINE_MAX_LEN];
	FILE *f;
	int fd, rc = 0;

	if ((fd = open_regular(r, BACKUP_MANIFEST)) < 0)
		return ctl_fail("restore: %s/%s: %s (an unfinished backup?)", r->dir,
				BACKUP_MANIFEST, strerror(-fd));
	if (!(f = fdopen(fd, "r"))) {
		close(fd);
		return ctl_fail("restore: %s", strerror(errno));
	}
	while (rc == 0 && fgets(line, sizeof(line), f))
		rc = parse_line(r, line);
	if (rc == 0 && ferror(f))
		rc = ctl_fail("restore: MANIFEST: %s", strerror(errno));
	fclose(f);
	if (rc == 0 && !r->have_magic)
		rc = ctl_fail("restore: %s is not a wsgate backup", r->dir);
	if (rc == 0 && (!r->have_db || !r->have_key))
		rc = ctl_fail("restore: MANIFEST lacks the database or the secrets key");
	return rc;
}

/* blobs/sha256/<hh>/<64 hex>: each hashed as it is copied and checked against its name (the
 * store is content-addressed); step 3 checks that every request's blob is among them. Anything
 * else in there is left behind. */
static int
restore_blobs(struct restore *r)
{
	char rel[PATH_MAX], dst[PATH_MAX], hex[BACKUP_HASH_HEX];
	struct dirent *b, *e;
	DIR *top, *bucket;
	uint64_t n;
	int fd, dfd, rc = 0;

	if ((fd = area_openat(r->dirfd, "blobs/sha256", O_RDONLY | O_DIRECTORY, 0)) < 0)
		return fd == -ENOENT ? 0 : ctl_fail("restore: blobs: %s", strerror(-fd));
	if (!(top = fdopendir(fd)))
		return ctl_fail("restore: blobs: %s", strerror(errno));
	while (rc == 0 && (b = readdir(top)) != NULL) {
		if (strlen(b->d_name) != 2 || strspn(b->d_name, "0123456789abcdef") != 2)
			continue;
		(void)backup_join(rel, sizeof(rel), "blobs/sha256", b->d_name); /* 2 chars */
		if ((dfd = area_openat(r->dirfd, rel, O_RDONLY | O_DIRECTORY, 0)) < 0 ||
		    !(bucket = fdopendir(dfd)))
			continue;
		while (rc == 0 && (e = readdir(bucket)) != NULL) {
			if (strlen(e->d_name) != 64 || strspn(e->d_name, "0123456789abcdef") != 64)
				continue;
			fd = -1;
			if (snprintf(rel, sizeof(rel), "blobs/sha256/%s/%s", b->d_name,
				     e->d_name) >= (int)sizeof(rel) ||
			    backup_join(dst, sizeof(dst), r->stage, rel) < 0 ||
			    (fd = open_regular(r, rel)) < 0 || stage_parent(r, rel) < 0 ||
			    backup_copy_file(fd, dst, 0400, UINT64_MAX, hex, &n) < 0)
				rc = ctl_fail("restore: %s: cannot copy", rel);
			else if (strcmp(hex, e->d_name) != 0)
				rc = ctl_fail(
				    "restore: %s: its bytes do not match its name (damaged "
				    "backup)",
				    rel);
			if (fd >= 0)
				close(fd);
		}
		closedir(bucket);
	}
	closedir(top);
	return rc;
}

/* Step 3, and the audit record of the restore, in the staged copy. */
static int
verify_stage(struct restore *r)
{
	char why[512], q[PATH_MAX + 16];
	struct store *st;
	uint64_t count, nreq;
	int rc = 1;

	if (store_open(r->stage, 0, &st, why, sizeof(why)) < 0)
		return ctl_fail("restore: the backup's database does not open: %s", why);
	if (audit_verify(st, &count, why, sizeof(why)) < 0) {
		ctl_fail("restore: the backup's audit chain does not verify: %s", why);
		goto out;
	}
	if (count != r->audit_records) {
		ctl_fail("restore: the backup's audit chain has %" PRIu64
			 " records, MANIFEST says %" PRIu64,
			 count, r->audit_records);
		goto out;
	}
	/* restore_blobs has just hashed every blob against its name: presence and size here. */
	if (backup_verify_blobs(st, 0, &nreq, why, sizeof(why)) < 0) {
		ctl_fail("restore: %s", why);
		goto out;
	}
	if (nreq != r->requests) {
		ctl_fail("restore: the backup holds %" PRIu64 " requests, MANIFEST says %" PRIu64,
			 nreq, r->requests);
		goto out;
	}
	if (audit_log(st, r->c->actor, "ctl.restore", "from=%s records=%" PRIu64,
		      audit_quote(r->dir, q, sizeof(q)), count) < 0) {
		ctl_fail("restore: cannot append to the audit log");
		goto out;
	}
	rc = 0;
out:
	store_close(st);
	return rc;
}

/* The host key goes where the config says, unless one is there already (then it is kept, and
 * clients' known_hosts decide whether that is right). Copied, not renamed: host_key may be on
 * another file system than state_dir (/etc/wsgate). Runs before anything reaches state_dir. */
static int
place_host_key(struct restore *r)
{
	const char *dst = r->c->cfg->host_key;
	char src[PATH_MAX], dir[PATH_MAX], hex[BACKUP_HASH_HEX];
	uint64_t n;
	int fd, rc;

	if (backup_join(src, sizeof(src), r->stage, "host_key") < 0)
		return ctl_fail("restore: path too long");
	if ((fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : ctl_fail("restore: %s: %s", src, strerror(errno));
	if (access(dst, F_OK) == 0) {
		printf("kept the host key already at %s\n", dst);
		close(fd);
		return 0;
	}
	if (snprintf(dir, sizeof(dir), "%s", dst) >= (int)sizeof(dir) ||
	    mkdir_p(dirname(dir), 0700) < 0) {
		close(fd);
		return ctl_fail("restore: host key %s: %s", dst, strerror(errno));
	}
	rc = backup_copy_file(fd, dst, 0600, UINT64_MAX, hex, &n);
	close(fd);
	if (rc < 0)
		return ctl_fail("restore: host key %s: %s", dst, strerror(-rc));
	if (snprintf(dir, sizeof(dir), "%s", dst) >= (int)sizeof(dir) ||
	    fsync_dir(dirname(dir)) < 0 || backup_sync(dir) < 0)
		return ctl_fail("restore: host key %s: sync: %s", dst, strerror(errno));
	return 0;
}

/* Step 4: the verified pieces into state_dir. */
static int
swap_in(struct restore *r)
{
	static const char *const pieces[] = {"db", "secrets.key", "blobs", "recordings", "drafts"};
	const char *sd = r->c->cfg->state_dir;
	char from[PATH_MAX], to[PATH_MAX];

	if (place_host_key(r) != 0)
		return 1;
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		if (backup_join(from, sizeof(from), r->stage, pieces[i]) < 0 ||
		    backup_join(to, sizeof(to), sd, pieces[i]) < 0)
			return ctl_fail("restore: path too long");
		if (rename(from, to) < 0 && errno != ENOENT)
			return ctl_fail("restore: %s: %s", to, strerror(errno));
	}
	/* The backup's own copies of the host key and the witness stay in the backup. */
	if (backup_join(from, sizeof(from), r->stage, "witness") == 0)
		(void)unlink(from);
	if (backup_join(from, sizeof(from), r->stage, "host_key") == 0)
		(void)unlink(from);
	if (rmdir(r->stage) < 0)
		return ctl_fail("restore: %s: %s", r->stage, strerror(errno));
	if (fsync_dir(sd) < 0)
		return ctl_fail("restore: %s: fsync: %s", sd, strerror(errno));
	return ctl_init_dirs(sd);
}

/* A failed restore leaves state_dir as it found it: empty. */
static void
remove_tree(const char *path)
{
	struct dirent *de;
	struct stat sb;
	char p[PATH_MAX];
	DIR *d;

	if (lstat(path, &sb) < 0)
		return;
	if (!S_ISDIR(sb.st_mode)) {
		unlink(path);
		return;
	}
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
			    backup_join(p, sizeof(p), path, de->d_name) == 0)
				remove_tree(p);
		closedir(d);
	}
	rmdir(path);
}

int
ctl_restore(struct ctl *c, int argc, char **argv)
{
	struct restore r = {.c = c, .dirfd = -1};
	const char *sd = c->cfg->state_dir;
	char why[256], path[PATH_MAX];
	pid_t pid;
	int rc, empty;

	if (argc != 2 || argv[1][0] == '-')
		return ctl_usage("usage: restore DIR");
	r.dir = argv[1];
	if ((pid = runlock_holder(sd, why, sizeof(why))) < 0)
		return ctl_fail("restore: %s", why);
	if (pid > 0)
		return ctl_fail("restore: wsgated (pid %ld) is running on %s: stop it first",
				(long)pid, sd);
	if ((empty = state_is_empty(sd)) < 0)
		return ctl_fail("restore: %s: %s", sd, strerror(errno));
	if (!empty)
		return ctl_fail("restore: %s is not empty: restore only into an empty state_dir "
				"(move the current one aside)",
				sd);
	if ((r.dirfd = open(r.dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return ctl_fail("restore: %s: %s", r.dir, strerror(errno));
	if (backup_join(r.stage, sizeof(r.stage), sd, STAGE) < 0 || mkdir_p(sd, 0700) < 0 ||
	    mkdir(r.stage, 0700) < 0) {
		rc = ctl_fail("restore: %s: %s", r.stage, strerror(errno));
		goto out;
	}
	/* The database folder first, so that data.mdb is created NOCOW on btrfs (store.h). */
	if (backup_join(path, sizeof(path), r.stage, "db") < 0 || mkdir(path, 0700) < 0) {
		rc = ctl_fail("restore: %s/db: %s", r.stage, strerror(errno));
		remove_tree(r.stage);
		goto out;
	}
	store_db_dir_nocow(path);
	if ((rc = read_manifest(&r)) != 0 || (rc = restore_blobs(&r)) != 0 ||
	    (rc = verify_stage(&r)) != 0) {
		remove_tree(r.stage);
		goto out;
	}
	/* Durable before the renames make it the state. */
	if ((rc = backup_sync(r.stage)) < 0) {
		rc = ctl_fail("restore: %s: sync: %s", r.stage, strerror(-rc));
		remove_tree(r.stage);
		goto out;
	}
	if ((rc = swap_in(&r)) != 0)
		goto out;
	printf("restored %s from %s: %" PRIu64 " requests, %" PRIu64 " audit records verified\n",
	       sd, r.dir, r.requests, r.audit_records);
	if (r.witness_bytes)
		printf("the backup's witness (%s/witness) covers it; the live witness file also "
		       "names every record made after the backup, which this restore took back\n",
		       r.dir);
out:
	close(r.dirfd);
	return rc;
}
