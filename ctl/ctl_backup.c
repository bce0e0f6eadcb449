/*
 * wsgatectl backup DIR: a consistent copy of the state while the daemon runs (SPEC "Programs",
 * "Durability"). Order matters, each step relying on the one before:
 *   1. the audit record of the backup itself, so the copy holds it;
 *   2. the witness file up to its current length: every line it has now names a record that is
 *      already committed, so it is in the database copy taken next;
 *   3. the database: one read transaction's view (mdb_env_copy2, compacted), while writers go on;
 *   4. the blobs that copy references, hashed as they are copied (the quarantine only ever adds
 *      blobs while the daemon runs, bytes before records, so each is there);
 *   5. the secrets key, the host key, finished recordings, import drafts;
 *   6. the copy's audit chain verified, and MANIFEST written last: a directory without MANIFEST
 *      is an unfinished backup and restore refuses it.
 * Work areas are not in the backup: they are the analysts' scratch space; what leaves or enters
 * them goes through the airlock, which is.
 */
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
#include "common/fsutil.h"
#include "ctl/backupfmt.h"
#include "ctl/ctl.h"
#include "transfer/backup.h"

struct backup {
	struct ctl *c;
	const char *dir;
	FILE *files; /* the manifest's "file" lines, collected while copying */
	char witness[PATH_MAX];
	uint64_t witness_bytes;
	uint64_t audit_records, requests, blobs;
};

/* Copies src (a path) to dir/rel and notes it in the manifest; absent is an error unless
 * optional. */
static int
take_file(struct backup *b, const char *src, const char *rel, mode_t mode, uint64_t max,
	  int optional)
{
	char dst[PATH_MAX], hex[BACKUP_HASH_HEX];
	uint64_t size;
	int fd, rc;

	if ((fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (optional && errno == ENOENT)
			return 0;
		return ctl_fail("backup: %s: %s", src, strerror(errno));
	}
	if (backup_join(dst, sizeof(dst), b->dir, rel) < 0) {
		close(fd);
		return ctl_fail("backup: %s: path too long", rel);
	}
	rc = backup_copy_file(fd, dst, mode, max, hex, &size);
	close(fd);
	if (rc < 0)
		return ctl_fail("backup: %s: %s", dst, strerror(-rc));
	fprintf(b->files, "file %s %" PRIu64 " %s\n", hex, size, rel);
	if (strcmp(rel, "witness") == 0)
		b->witness_bytes = size;
	return 0;
}

/* recordings/ as it is now, files and folders only (no links), each file hashed. A recording
 * still being written is copied as far as it got. */
static int
take_tree(struct backup *b, const char *src, const char *rel)
{
	char s[PATH_MAX], r[PATH_MAX], d[PATH_MAX];
	struct dirent *de;
	struct stat sb;
	DIR *dh;
	int rc = 0;

	if (!(dh = opendir(src)))
		return errno == ENOENT ? 0 : ctl_fail("backup: %s: %s", src, strerror(errno));
	if (backup_join(d, sizeof(d), b->dir, rel) < 0 || (mkdir(d, 0700) < 0 && errno != EEXIST)) {
		closedir(dh);
		return ctl_fail("backup: %s: %s", d, strerror(errno));
	}
	while (rc == 0 && (de = readdir(dh)) != NULL) {
		if (de->d_name[0] == '.' || backup_join(s, sizeof(s), src, de->d_name) < 0 ||
		    backup_join(r, sizeof(r), rel, de->d_name) < 0 || !backup_relpath_ok(r) ||
		    lstat(s, &sb) < 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			rc = take_tree(b, s, r);
		else if (S_ISREG(sb.st_mode))
			rc = take_file(b, s, r, 0600, UINT64_MAX, 1);
	}
	closedir(dh);
	return rc;
}

/* The witness, up to the length it has now (it is append-only; what is added while we copy
 * belongs to records the database copy may not have). */
static int
take_witness(struct backup *b)
{
	struct stat sb;

	backup_witness_path(b->c->config_path, b->witness, sizeof(b->witness));
	if (!b->witness[0] || stat(b->witness, &sb) < 0)
		return 0;
	return take_file(b, b->witness, "witness", 0600, (uint64_t)sb.st_size, 1);
}

static int
take_db(struct backup *b)
{
	char path[PATH_MAX];
	int rc;

	if (backup_join(path, sizeof(path), b->dir, "db") < 0 || mkdir(path, 0700) < 0)
		return ctl_fail("backup: %s: %s", path, strerror(errno));
	if ((rc = store_copy(b->c->st, path)) < 0)
		return ctl_fail("backup: database copy: %s", store_strerror(rc));
	return 0;
}

/* Opens the copy as a store of its own: its chain must verify, and its requests name the blobs
 * to take. The copy's lock file is not part of the backup. */
static int
take_blobs_and_verify(struct backup *b)
{
	char why[512], path[PATH_MAX], hex[BACKUP_HASH_HEX];
	struct store *copy;
	uint64_t size;
	int rc = 1, fd;

	if (store_open(b->dir, 0, &copy, why, sizeof(why)) < 0)
		return ctl_fail("backup: the copy does not open: %s", why);
	if (audit_verify(copy, &b->audit_records, why, sizeof(why)) < 0) {
		ctl_fail("backup: the copy's audit chain does not verify: %s", why);
		goto out;
	}
	if (backup_copy_blobs(copy, b->c->cfg->state_dir, &b->blobs, &b->requests, why,
			      sizeof(why)) < 0) {
		ctl_fail("backup: %s", why);
		goto out;
	}
	rc = 0;
out:
	store_close(copy);
	if (backup_join(path, sizeof(path), b->dir, "db/lock.mdb") == 0)
		(void)unlink(path);
	if (rc != 0)
		return rc;
	if (backup_join(path, sizeof(path), b->dir, "db/data.mdb") < 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return ctl_fail("backup: %s: %s", path, strerror(errno));
	/* Hashed after the copy closed: opening it as a store wrote nothing to data.mdb, but
	 * the manifest must describe the file exactly as restore will read it. */
	rc = backup_join(path, sizeof(path), b->dir, "db/.hash") < 0
		 ? -ENAMETOOLONG
		 : backup_copy_file(fd, path, 0600, UINT64_MAX, hex, &size);
	close(fd);
	(void)unlink(path);
	if (rc < 0)
		return ctl_fail("backup: hashing the database copy: %s", strerror(-rc));
	fprintf(b->files, "file %s %" PRIu64 " db/data.mdb\n", hex, size);
	return 0;
}

static int
write_manifest(struct backup *b)
{
	char path[PATH_MAX], tmp[PATH_MAX], when[32];
	FILE *f;
	int ok, c;

	if (backup_join(tmp, sizeof(tmp), b->dir, "." BACKUP_MANIFEST ".tmp") < 0 ||
	    backup_join(path, sizeof(path), b->dir, BACKUP_MANIFEST) < 0)
		return ctl_fail("backup: %s: path too long", b->dir);
	ctl_format_time((uint64_t)time(NULL), when, sizeof(when));
	if (!(f = fopen(tmp, "wx")))
		return ctl_fail("backup: %s: %s", tmp, strerror(errno));
	fprintf(f, "%s\ncreated %s\naudit_records %" PRIu64 "\nrequests %" PRIu64 "\n",
		BACKUP_MAGIC, when, b->audit_records, b->requests);
	if (b->witness[0] && b->witness_bytes)
		fprintf(f, "witness %" PRIu64 " %s\n", b->witness_bytes, b->witness);
	else
		fprintf(f, "witness none\n");
	rewind(b->files);
	while ((c = fgetc(b->files)) != EOF)
		fputc(c, f);
	ok = !ferror(b->files) && fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) < 0 || fsync_dir(b->dir) < 0)
		return ctl_fail("backup: %s: %s", path, strerror(errno));
	return 0;
}

/* DIR is new, or an empty directory: a backup never mixes with an older one. */
static int
make_dir(const char *dir)
{
	DIR *d;
	struct dirent *de;
	int n = 0;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return ctl_fail("backup: %s: %s", dir, strerror(errno));
	if (!(d = opendir(dir)))
		return ctl_fail("backup: %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n ? ctl_fail("backup: %s is not empty", dir) : 0;
}

int
ctl_backup(struct ctl *c, int argc, char **argv)
{
	struct backup b = {.c = c};
	char src[PATH_MAX], q[PATH_MAX + 16], dir[PATH_MAX];
	int rc;

	if (argc != 2 || argv[1][0] == '-')
		return ctl_usage("usage: backup DIR");
	if ((rc = make_dir(argv[1])) != 0)
		return rc;
	/* The audit record and the summary name the backup by its absolute path. */
	if (!realpath(argv[1], dir))
		return ctl_fail("backup: %s: %s", argv[1], strerror(errno));
	b.dir = dir;
	if (!(b.files = tmpfile()))
		return ctl_fail("backup: tmpfile: %s", strerror(errno));
	if (audit_log(c->st, c->actor, "ctl.backup", "dir=%s", audit_quote(b.dir, q, sizeof(q))) <
	    0) {
		rc = ctl_fail("backup: cannot append to the audit log");
		goto out;
	}
	if (backup_join(src, sizeof(src), c->cfg->state_dir, "secrets.key") < 0) {
		rc = ctl_fail("backup: state_dir too long");
		goto out;
	}
	if ((rc = take_witness(&b)) != 0 || (rc = take_db(&b)) != 0 ||
	    (rc = take_file(&b, src, "secrets.key", 0600, UINT64_MAX, 0)) != 0 ||
	    (rc = take_file(&b, c->cfg->host_key, "host_key", 0600, UINT64_MAX, 0)) != 0 ||
	    (rc = take_blobs_and_verify(&b)) != 0)
		goto out;
	(void)backup_join(src, sizeof(src), c->cfg->state_dir, "recordings"); /* shorter */
	if ((rc = take_tree(&b, src, "recordings")) != 0)
		goto out;
	/* Import drafts (issue 13): waiting uploads an analyst has yet to submit. */
	(void)backup_join(src, sizeof(src), c->cfg->state_dir, "drafts");
	if ((rc = take_tree(&b, src, "drafts")) != 0)
		goto out;
	/* Everything durable before MANIFEST says the backup is whole. */
	if ((rc = backup_sync(b.dir)) < 0) {
		rc = ctl_fail("backup: %s: sync: %s", b.dir, strerror(-rc));
		goto out;
	}
	if ((rc = write_manifest(&b)) != 0)
		goto out;
	printf("backup %s: %" PRIu64 " requests, %" PRIu64 " blobs, %" PRIu64
	       " audit records (chain verified)",
	       b.dir, b.requests, b.blobs, b.audit_records);
	if (b.witness_bytes)
		printf(", witness %s up to byte %" PRIu64 "\n", b.witness, b.witness_bytes);
	else
		printf(", no witness file\n");
out:
	fclose(b.files);
	return rc;
}
