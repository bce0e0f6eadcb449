/*
 * The airlock against a real LMDB store and a real state_dir in a temp dir: export bad inputs
 * (issue 5 point 5), snapshot semantics, the two-person rule, illegal transitions through the
 * API, import/move delivery without overwriting, uploads, refusal of tampered blobs, the scan.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/audit.h"
#include "common/secrets.h"
#include "common/store.h"
#include "policy/account.h"
#include "transfer/airlock.h"
#include "transfer/area.h"
#include "transfer/blob.h"
#include "transfer/queue.h"

static char dir[] = "/tmp/wsgate-airlock-XXXXXX";
static char area[256];
static struct store *st;
static struct config *cfg;
#define GID_P1 300000
#define UID_ALICE 300101
#define UID_BOB 300102
static const struct airlock_actor alice = {"alice", 0, "p1", "onsite", UID_ALICE};
static const struct airlock_actor bob = {"bob", 0, "p1", "onsite", UID_BOB};
static char err[1024];

static int
setup(void **state)
{
	static const char *types[] = {"csv", "tsv", "txt", "pdf", "png"};
	char path[600];
	struct project p = {.name = "p1", .gid = GID_P1};
	MDB_txn *txn;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/staging", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/blobs", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/secrets.key", dir);
	if (secrets_create(path) < 0 || store_open(dir, 1, &st, err, sizeof(err)) < 0)
		return -1;
	if (store_begin(st, 0, &txn) < 0 || project_put(st, txn, &p) < 0 || store_commit(txn) < 0)
		return -1;
	cfg = calloc(1, sizeof(*cfg));
	for (size_t i = 0; i < 5; i++)
		strcpy(cfg->export_types[i], types[i]);
	cfg->nexport_types = 5;
	cfg->export_max_size = 1 << 20;
	cfg->min_cell_count = 10;
	cfg->file_size_max = 4 << 20;
	cfg->import_require_checksum = 1; /* the default of config_load */
	strcpy(cfg->zones[0].name, "onsite");
	strcpy(cfg->zones[0].area, "onsite");
	strcpy(cfg->zones[1].name, "office");
	strcpy(cfg->zones[1].area, "remote");
	cfg->nzones = 2;
	if (area_ensure(dir, "p1", "onsite", 300000, err, sizeof(err)) < 0 ||
	    area_ensure(dir, "p1", "remote", 300000, err, sizeof(err)) < 0)
		return -1;
	area_path(dir, "p1", "onsite", area, sizeof(area));
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	store_close(st);
	free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* A file as a member's sandbox leaves it: owned by the member, the project's group. */
static void
put_file_as(const char *rel, const char *content, uid_t uid, gid_t gid, mode_t mode)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", area, rel);
	assert_non_null(f = fopen(path, "w"));
	fputs(content, f);
	assert_int_equal(fchown(fileno(f), uid, gid), 0);
	assert_int_equal(fchmod(fileno(f), mode), 0);
	assert_int_equal(fclose(f), 0);
}

static void
put_file(const char *rel, const char *content)
{
	put_file_as(rel, content, UID_ALICE, GID_P1, 0640);
}

static uint64_t
count_requests(void)
{
	MDB_txn *txn;
	size_t n;

	assert_int_equal(store_begin(st, 1, &txn), 0);
	assert_int_equal(store_count(st, txn, DB_REQUESTS, &n), 0);
	store_abort(txn);
	return n;
}

static unsigned
count_blobs(void)
{
	char cmd[600];
	unsigned n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "find %s/blobs %s/staging -type f | wc -l", dir, dir);
	assert_non_null(p = popen(cmd, "r"));
	assert_int_equal(fscanf(p, "%u", &n), 1);
	pclose(p);
	return n;
}

static struct request *
get(uint64_t id)
{
	static struct request r;
	MDB_txn *txn;

	assert_int_equal(store_begin(st, 1, &txn), 0);
	assert_int_equal(queue_get(st, txn, id, &r), 0);
	store_abort(txn);
	return &r;
}

static void
refused_for(const struct airlock_actor *who, const char *relpath, const char *want)
{
	uint64_t before = count_requests(), id = 0;
	unsigned blobs = count_blobs();

	err[0] = '\0';
	assert_int_equal(airlock_export(st, cfg, who, relpath, "", &id, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("export %s: got \"%s\", want \"%s\"", relpath, err, want);
	assert_null(strchr(err, '\n'));
	assert_int_equal(count_requests(), before);
	assert_int_equal(count_blobs(), blobs);
}

static void
refused(const char *relpath, const char *want)
{
	refused_for(&alice, relpath, want);
}

static void
test_export_bad_inputs(void **state)
{
	char path[1024], longname[1024];

	(void)state;
	put_file("t.csv", "a,n\nx,12\n");
	mkdir(strcat(strcpy(path, area), "/sub"), 02770);
	put_file("sub/in.csv", "a,n\nx,12\n");
	refused("/etc/passwd", "outside the work area");
	refused("/work/../etc/passwd.csv", "\"..\"");
	refused("../t.csv", "\"..\"");
	refused("sub/../../t.csv", "\"..\"");
	refused("/work/sub/", "directory");
	refused("", "empty path");
	/* final symlink, intermediate symlink, symlink out of the area */
	snprintf(path, sizeof(path), "%s/link.csv", area);
	assert_int_equal(symlink("t.csv", path), 0);
	refused("link.csv", "symbolic links");
	snprintf(path, sizeof(path), "%s/ld", area);
	assert_int_equal(symlink("sub", path), 0);
	refused("ld/in.csv", "symbolic links");
	snprintf(path, sizeof(path), "%s/out.csv", area);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	refused("/work/out.csv", "symbolic links");
	/* a second hard link */
	snprintf(path, sizeof(path), "%s/hard.csv", area);
	put_file("hard0.csv", "a,n\nx,12\n");
	snprintf(longname, sizeof(longname), "%s/hard0.csv", area);
	assert_int_equal(link(longname, path), 0);
	refused("hard.csv", "2 links");
	/* FIFO: must be refused without blocking; device; directory */
	snprintf(path, sizeof(path), "%s/fifo.csv", area);
	assert_int_equal(mkfifo(path, 0600), 0);
	refused("fifo.csv", "FIFO");
	snprintf(path, sizeof(path), "%s/null.csv", area);
	assert_int_equal(mknod(path, S_IFCHR | 0600, makedev(1, 3)), 0);
	refused("null.csv", "device");
	snprintf(path, sizeof(path), "%s/dir.csv", area);
	assert_int_equal(mkdir(path, 0700), 0);
	refused("dir.csv", "directory");
	/* names: control bytes, over 255 bytes, type not allowed, missing */
	refused("a\001b.csv", "control characters");
	memset(longname, 'a', 260);
	strcpy(longname + 260, ".csv");
	refused(longname, "invalid file name");
	put_file("prog.exe", "MZ");
	refused("prog.exe", "not allowed");
	refused("missing.csv", "No such file");
	/* over export_max_size */
	{
		char *big = malloc((1 << 20) + 2);

		memset(big, '1', (1 << 20) + 1);
		big[(1 << 20) + 1] = '\0';
		put_file("big.txt", big);
		free(big);
		refused("big.txt", "export_max_size");
	}
	refused("t.csv\n", "control characters");
}

/* The monitor's identity after an export, whatever its outcome: fsuid 0, root's groups, and the
 * capabilities back (a mode-0000 file opens). */
static void
assert_root_again(const gid_t *groups, int ngroups)
{
	gid_t now[8];
	char path[1024];
	int fd;

	assert_int_equal(setfsuid((uid_t)-1), 0);
	assert_int_equal(setfsgid((gid_t)-1), 0);
	assert_int_equal(getgroups(8, now), ngroups);
	assert_memory_equal(now, groups, (size_t)ngroups * sizeof(gid_t));
	snprintf(path, sizeof(path), "%s/zero.txt", area);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	/* the lease the snapshot takes needs CAP_LEASE (the file is not root's) */
	assert_int_equal(fcntl(fd, F_SETLEASE, F_RDLCK), 0);
	assert_int_equal(fcntl(fd, F_SETLEASE, F_UNLCK), 0);
	close(fd);
}

/*
 * Issue 10 point 7: an export reads its source as the requester (the account's uid, the
 * project's gid, no other group), so a member cannot export what the member could not read in
 * the sandbox. Root's own supplementary groups are set to include a group that would open the
 * file: they must not apply.
 */
static void
test_export_member_permissions(void **state)
{
	static const gid_t rootgroups[] = {0, 4242};
	struct airlock_actor root = alice;
	char path[1024];
	uint64_t id;

	(void)state;
	assert_int_equal(setgroups(2, rootgroups), 0);
	put_file_as("zero.txt", "x\n", UID_BOB, GID_P1, 0);
	put_file_as("a-private.csv", "a,n\nx,12\n", UID_ALICE, GID_P1, 0600);
	put_file_as("b-shared.csv", "a,n\nx,13\n", UID_BOB, GID_P1, 0640);
	put_file_as("b-rw.csv", "a,n\nx,14\n", UID_BOB, GID_P1, 0660);
	put_file_as("a-rootgrp.csv", "a,n\nx,15\n", UID_ALICE, 4242, 0640);
	snprintf(path, sizeof(path), "%s/a-dir", area);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chown(path, UID_ALICE, GID_P1), 0);
	put_file_as("a-dir/open.csv", "a,n\nx,16\n", UID_ALICE, GID_P1, 0644);

	/* bob cannot read alice's private file: refused, naming the file, nothing stored */
	refused_for(&bob, "a-private.csv", "a-private.csv: permission denied");
	assert_root_again(rootgroups, 2);
	refused_for(&bob, "/work/a-private.csv", "not readable by bob");
	/* root's group 4242 does not count for bob; nor does a directory only alice can search */
	refused_for(&bob, "a-rootgrp.csv", "permission denied");
	refused_for(&bob, "a-dir/open.csv", "permission denied");
	refused_for(&bob, "a-dir/open.csv", "not searchable by bob");
	assert_root_again(rootgroups, 2);
	/* an actor without a uid (or uid 0) is not read as root */
	root.uid = 0;
	refused_for(&root, "b-shared.csv", "cannot take the identity");
	assert_root_again(rootgroups, 2);

	/* positive controls: alice exports her own 0600 file and the group-readable files of
	 * bob; bob exports his own */
	assert_int_equal(
	    airlock_export(st, cfg, &alice, "a-private.csv", "", &id, err, sizeof(err)), 0);
	assert_int_equal(get(id)->s.check, CHECK_PASS);
	assert_root_again(rootgroups, 2);
	assert_int_equal(airlock_export(st, cfg, &alice, "b-shared.csv", "", &id, err, sizeof(err)),
			 0);
	assert_int_equal(airlock_export(st, cfg, &alice, "b-rw.csv", "", &id, err, sizeof(err)), 0);
	assert_int_equal(
	    airlock_export(st, cfg, &alice, "a-dir/open.csv", "", &id, err, sizeof(err)), 0);
	assert_int_equal(airlock_export(st, cfg, &bob, "b-shared.csv", "", &id, err, sizeof(err)),
			 0);
	assert_string_equal(get(id)->s.requester, "bob");
	assert_root_again(rootgroups, 2);
	/* once alice makes it group-readable, bob may */
	snprintf(path, sizeof(path), "%s/a-private.csv", area);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(airlock_export(st, cfg, &bob, "a-private.csv", "", &id, err, sizeof(err)),
			 0);
	/* an admin's move acts as root and is not limited by the members' permissions */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(airlock_move(st, cfg, "adm", "p1", "onsite", "remote", "a-private.csv", "",
				      &id, err, sizeof(err)),
			 0);
	assert_int_equal(setgroups(0, NULL), 0);
}

static void
test_export_snapshot_and_release(void **state)
{
	uint8_t want[32];
	uint64_t id, size, n;
	int fd;

	(void)state;
	put_file("snap.csv", "a,n\nx,12\n");
	assert_int_equal(
	    airlock_export(st, cfg, &alice, "/work/snap.csv", "paper", &id, err, sizeof(err)), 0);
	assert_int_equal(get(id)->s.state, ST_PENDING);
	assert_int_equal(get(id)->s.check, CHECK_PASS);
	memcpy(want, get(id)->sha256, 32);
	put_file("snap.csv", "a,n\nx,3\nchanged after submission\n");
	/* not in the outbox before release */
	assert_int_equal(
	    airlock_outbox_open(st, "p1", id, "snap.csv", &fd, &size, err, sizeof(err)), -1);
	/* the requester cannot decide; an admin can */
	assert_int_equal(airlock_decide(st, cfg, "alice", id, 1, "ok", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "two-person"));
	assert_int_equal(airlock_decide(st, cfg, "adm", id, 1, "ok", err, sizeof(err)), 0);
	assert_int_equal(get(id)->s.state, ST_RELEASED);
	assert_int_equal(
	    airlock_outbox_open(st, "p1", id, "snap.csv", &fd, &size, err, sizeof(err)), 0);
	{
		uint8_t got[32];

		assert_int_equal(blob_copy_hash(fd, 1, -1, UINT64_MAX, got, &n), 0);
		assert_memory_equal(got, want, 32);
		assert_int_equal(n, size);
		assert_int_equal(size, strlen("a,n\nx,12\n"));
	}
	close(fd);
	/* other project, wrong name: nothing */
	assert_int_equal(
	    airlock_outbox_open(st, "p2", id, "snap.csv", &fd, &size, err, sizeof(err)), -1);
	assert_int_equal(
	    airlock_outbox_open(st, "p1", id, "other.csv", &fd, &size, err, sizeof(err)), -1);
	/* released is final */
	assert_int_equal(airlock_decide(st, cfg, "adm", id, 0, "no", err, sizeof(err)), -1);
	assert_int_equal(airlock_withdraw(st, &alice, id, err, sizeof(err)), -1);
}

static void
test_transitions_via_api(void **state)
{
	uint64_t id;

	(void)state;
	put_file("w.csv", "a,n\nx,12\n");
	assert_int_equal(airlock_export(st, cfg, &alice, "w.csv", "", &id, err, sizeof(err)), 0);
	assert_int_equal(airlock_withdraw(st, &bob, id, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "only its requester"));
	assert_int_equal(airlock_withdraw(st, &alice, id, err, sizeof(err)), 0);
	assert_int_equal(airlock_withdraw(st, &alice, id, err, sizeof(err)), -1);
	assert_int_equal(airlock_decide(st, cfg, "adm", id, 1, "x", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "withdrawn, not pending"));
	assert_int_equal(airlock_export(st, cfg, &alice, "w.csv", "", &id, err, sizeof(err)), 0);
	assert_int_equal(airlock_decide(st, cfg, "adm", id, 0, "no", err, sizeof(err)), 0);
	assert_int_equal(get(id)->s.state, ST_REJECTED);
	assert_int_equal(airlock_decide(st, cfg, "adm2", id, 1, "x", err, sizeof(err)), -1);
	assert_int_equal(airlock_withdraw(st, &alice, id, err, sizeof(err)), -1);
	assert_int_equal(airlock_deliver(st, "adm", id, err, sizeof(err)), -1);
	assert_int_equal(get(id)->s.state, ST_REJECTED);
	/* no such request, and another project's request looks the same */
	assert_int_equal(airlock_decide(st, cfg, "adm", 999999, 1, "x", err, sizeof(err)), -1);
	{
		struct airlock_actor other = {"alice", 0, "p2", "onsite", UID_ALICE};

		assert_int_equal(
		    airlock_export(st, cfg, &alice, "w.csv", "", &id, err, sizeof(err)), 0);
		assert_int_equal(airlock_withdraw(st, &other, id, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "no request"));
	}
}

static void
test_block_on_fail(void **state)
{
	uint64_t id, id2, before;

	(void)state;
	put_file("small.csv", "a,n\nx,3\n");
	assert_int_equal(airlock_export(st, cfg, &alice, "small.csv", "", &id, err, sizeof(err)),
			 0);
	assert_int_equal(get(id)->s.check, CHECK_FAIL);
	cfg->export_block_on_fail = 1;
	assert_int_equal(airlock_decide(st, cfg, "adm", id, 1, "x", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "export_block_on_fail"));
	assert_int_equal(get(id)->s.state, ST_PENDING);
	/* and at submission: refused with the findings, nothing queued, the refusal audited */
	before = count_requests();
	assert_int_equal(
	    airlock_export(st, cfg, &alice, "small.csv", "", &id2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "export refused"));
	assert_non_null(strstr(err, "small_count"));
	assert_int_equal(count_requests(), before);
	put_file("fine.csv", "a,n\nx,12\n");
	assert_int_equal(airlock_export(st, cfg, &alice, "fine.csv", "", &id2, err, sizeof(err)),
			 0); /* control: a passing export is queued */
	assert_int_equal(count_requests(), before + 1);
	cfg->export_block_on_fail = 0;
	assert_int_equal(airlock_decide(st, cfg, "adm", id, 1, "x", err, sizeof(err)), 0);
}

static void
test_import_no_overwrite_two_person(void **state)
{
	char path[1024];
	uint64_t id;
	struct stat sb;

	(void)state;
	for (int i = 0; i < 3; i++) {
		int p[2];

		assert_int_equal(pipe(p), 0);
		assert_int_equal(write(p[1], "data\n", 5), 5);
		close(p[1]);
		assert_int_equal(airlock_import(st, cfg, "adm", "p1", "onsite", p[0], "in.txt", "r",
						&id, err, sizeof(err)),
				 0);
		close(p[0]);
		/* an admin's own import: the same admin may not decide it */
		assert_int_equal(airlock_decide(st, cfg, "adm", id, 1, "self", err, sizeof(err)),
				 -1);
		assert_non_null(strstr(err, "two-person"));
		assert_int_equal(airlock_decide(st, cfg, "root", id, 1, "ok", err, sizeof(err)), 0);
	}
	snprintf(path, sizeof(path), "%s/imports/in.txt", area);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_gid, 300000);
	assert_int_equal(sb.st_mode & 07777, 0640);
	strcat(path, ".1");
	assert_int_equal(stat(path, &sb), 0);
	path[strlen(path) - 1] = '2';
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(
	    airlock_import(st, cfg, "adm", "p1", "onsite", 0, "a/b", "", &id, err, sizeof(err)),
	    -1);
	assert_int_equal(
	    airlock_import(st, cfg, "adm", "nope", "onsite", 0, "x", "", &id, err, sizeof(err)),
	    -1);
}

static void
test_move(void **state)
{
	char path[1024];
	uint64_t id;
	struct stat sb;

	(void)state;
	snprintf(path, sizeof(path), "%s/m1", area);
	mkdir(path, 02770);
	put_file("m1/r.txt", "results\n");
	for (int i = 0; i < 2; i++) {
		assert_int_equal(airlock_move(st, cfg, "adm", "p1", "onsite", "remote",
					      "/work/m1/r.txt", "", &id, err, sizeof(err)),
				 0);
		assert_int_equal(airlock_decide(st, cfg, "adm", id, 1, "x", err, sizeof(err)), -1);
		assert_int_equal(airlock_decide(st, cfg, "adm2", id, 1, "x", err, sizeof(err)), 0);
	}
	/* a file at the top of the area (no parent to create) */
	put_file("top.txt", "top\n");
	assert_int_equal(airlock_move(st, cfg, "adm", "p1", "onsite", "remote", "top.txt", "", &id,
				      err, sizeof(err)),
			 0);
	assert_int_equal(airlock_decide(st, cfg, "adm2", id, 1, "x", err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/projects/p1/remote/top.txt", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(get(id)->s.state, ST_RELEASED);
	snprintf(path, sizeof(path), "%s/projects/p1/remote/m1/r.txt", dir);
	assert_int_equal(stat(path, &sb), 0);
	strcat(path, ".1");
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(airlock_move(st, cfg, "adm", "p1", "onsite", "onsite", "m1/r.txt", "", &id,
				      err, sizeof(err)),
			 -1);
	assert_int_equal(airlock_move(st, cfg, "adm", "p1", "onsite", "remoet", "m1/r.txt", "", &id,
				      err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "not the area of any zone"));
	assert_int_equal(airlock_move(st, cfg, "adm", "p1", "onsite", "remote", "../x", "", &id,
				      err, sizeof(err)),
			 -1);
}

/* sha256 of "uploaded\n", and of something else */
#define SHA_UPLOADED "cc55d9dd9d9cce2a469483f4610d735d219b12b8dfe0c6e5e3a4b6336c3ccefc"
#define SHA_OTHER "0000000000000000000000000000000000000000000000000000000000000000"

static void
test_upload(void **state)
{
	uint64_t id, before;
	unsigned blobs;
	int fd;

	(void)state;
	before = count_requests();
	blobs = count_blobs();
	assert_int_equal(airlock_upload_begin(st, &alice, "up.csv", &fd, err, sizeof(err)), 0);
	assert_int_equal(write(fd, "aborted", 7), 7);
	close(fd); /* an aborted upload leaves nothing */
	assert_int_equal(count_requests(), before);
	assert_int_equal(airlock_upload_begin(st, &alice, "a/b", &fd, err, sizeof(err)), -1);
	assert_int_equal(airlock_upload_begin(st, &alice, "up.csv", &fd, err, sizeof(err)), 0);
	assert_int_equal(write(fd, "uploaded\n", 9), 9);
	/* import_require_checksum (the default): no declared hash, a wrong one, a malformed one */
	assert_int_equal(
	    airlock_upload_commit(st, cfg, &alice, fd, "up.csv", "r", "", &id, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "no declared SHA-256"));
	assert_int_equal(airlock_upload_commit(st, cfg, &alice, fd, "up.csv", "r", SHA_OTHER, &id,
					       err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "the 9 bytes received do not match the declared SHA-256"));
	assert_int_equal(
	    airlock_upload_commit(st, cfg, &alice, fd, "up.csv", "r", "abc", &id, err, sizeof(err)),
	    -1);
	assert_int_equal(count_requests(), before);
	assert_int_equal(count_blobs(), blobs);
	assert_int_equal(airlock_upload_commit(st, cfg, &alice, fd, "up.csv", "r", SHA_UPLOADED,
					       &id, err, sizeof(err)),
			 0);
	/* the worker still holds the staging fd: what it writes now changes nothing queued */
	assert_int_equal(pwrite(fd, "EVIL", 4, 0), 4);
	close(fd);
	assert_int_equal(get(id)->s.kind, KIND_IMPORT);
	assert_int_equal(get(id)->s.size, 9);
	assert_int_equal(blob_verify(dir, get(id)->sha256, 9, -1, NULL), 0);
	assert_int_equal(airlock_decide(st, cfg, "alice", id, 1, "x", err, sizeof(err)), -1);
	assert_non_null(strstr(get(id)->report, "matches the SHA-256 its uploader declared"));
	/* with the checksum optional, an undeclared upload is queued */
	cfg->import_require_checksum = 0;
	assert_int_equal(airlock_upload_begin(st, &alice, "up2.csv", &fd, err, sizeof(err)), 0);
	assert_int_equal(write(fd, "x\n", 2), 2);
	assert_int_equal(
	    airlock_upload_commit(st, cfg, &alice, fd, "up2.csv", "", "", &id, err, sizeof(err)),
	    0);
	close(fd);
	cfg->import_require_checksum = 1;
}

static void
test_tampered_blob_refused(void **state)
{
	char path[1024];
	uint64_t id;
	int fd;

	(void)state;
	put_file("tamper.csv", "a,n\nx,77\n");
	assert_int_equal(airlock_export(st, cfg, &alice, "tamper.csv", "", &id, err, sizeof(err)),
			 0);
	blob_path(dir, get(id)->sha256, path, sizeof(path));
	assert_true((fd = open(path, O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, "b", 1, 0), 1);
	close(fd);
	assert_int_equal(airlock_decide(st, cfg, "adm", id, 1, "x", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no longer match"));
	assert_int_equal(get(id)->s.state, ST_APPROVED);
}

static void
test_scan(void **state)
{
	char path[1024];
	struct airlock_scan_stats s;
	unsigned before;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/staging/leftover.tmp", dir);
	assert_true((fd = open(path, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/blobs/sha256/00", dir);
	mkdir(path, 0700);
	strcat(path, "/0000000000000000000000000000000000000000000000000000000000000000");
	assert_true((fd = open(path, O_CREAT | O_WRONLY, 0400)) >= 0);
	close(fd);
	before = count_blobs();
	assert_int_equal(airlock_scan_ex(st, &s, err, sizeof(err)), 0);
	assert_int_equal(s.staging_removed, 1);
	assert_int_equal(s.blobs_removed, 1);
	assert_int_equal(count_blobs(), before - 2);
	assert_int_equal(airlock_scan_ex(st, &s, err, sizeof(err)), 0);
	assert_int_equal(s.staging_removed + s.blobs_removed, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_export_bad_inputs),
	    cmocka_unit_test(test_export_member_permissions),
	    cmocka_unit_test(test_export_snapshot_and_release),
	    cmocka_unit_test(test_transitions_via_api),
	    cmocka_unit_test(test_block_on_fail),
	    cmocka_unit_test(test_import_no_overwrite_two_person),
	    cmocka_unit_test(test_move),
	    cmocka_unit_test(test_upload),
	    cmocka_unit_test(test_tampered_blob_refused),
	    cmocka_unit_test(test_scan),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
