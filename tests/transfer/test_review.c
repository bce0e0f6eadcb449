/*
 * Issue 13 against a real LMDB store in a temp dir: two reviews (one per admin, none by the
 * requester, one reject rejects), return and the --replaces link (own, returned, once), the
 * report handed back and export_block_on_fail at submission, and import drafts (submitted
 * once, re-hashed, expired with their bytes, refusal notes).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/secrets.h"
#include "common/store.h"
#include "policy/account.h"
#include "transfer/airlock.h"
#include "transfer/area.h"
#include "transfer/draft.h"
#include "transfer/queue.h"
#include "transfer/review.h"

static char dir[] = "/tmp/wsgate-review-XXXXXX";
static char area[256];
static struct store *st;
static struct config *cfg;
#define GID_P1 300000
#define UID_ALICE 300101
static const struct airlock_actor alice = {"alice", 0, "p1", "onsite", UID_ALICE};
static const struct airlock_actor bob = {"bob", 0, "p1", "onsite", UID_ALICE};
static char err[1024];

#define FAIL_TABLE "age,count\n20-24,3\n25-29,12\n"
#define PASS_TABLE "age,count\n20-24,<10\n25-29,12\n"

static int
setup(void **state)
{
	struct project p = {.name = "p1", .gid = GID_P1};
	char path[600];
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
	strcpy(cfg->export_types[0], "csv");
	cfg->nexport_types = 1;
	cfg->export_max_size = 1 << 20;
	cfg->min_cell_count = 10;
	cfg->file_size_max = 4 << 20;
	cfg->import_require_checksum = 1;
	cfg->reviews_required = 2;
	cfg->import_max_size = 1 << 20;
	cfg->import_draft_ttl = 3600;
	strcpy(cfg->zones[0].name, "onsite");
	strcpy(cfg->zones[0].area, "onsite");
	cfg->nzones = 1;
	if (area_ensure(dir, "p1", "onsite", GID_P1, err, sizeof(err)) < 0)
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

static int
memfile(const char *content)
{
	int fd = memfd_create("f", 0);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static uint64_t
import_as(const char *requester, const char *content)
{
	uint64_t id = 0;
	int fd = memfile(content);

	assert_int_equal(airlock_import(st, cfg, requester, "p1", "onsite", fd, "x.csv", "r", &id,
					err, sizeof(err)),
			 0);
	close(fd);
	return id;
}

static uint64_t
export_table(const struct airlock_actor *who, const char *content, uint64_t replaces, int want)
{
	char path[600], report[QUEUE_REPORT_MAX];
	uint64_t id = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/t.csv", area);
	assert_non_null(f = fopen(path, "w"));
	fputs(content, f);
	assert_int_equal(fchown(fileno(f), UID_ALICE, GID_P1), 0);
	assert_int_equal(fchmod(fileno(f), 0640), 0);
	assert_int_equal(fclose(f), 0);
	err[0] = '\0';
	assert_int_equal(airlock_export_ex(st, cfg, who, "t.csv", "", replaces, &id, report,
					   sizeof(report), err, sizeof(err)),
			 want);
	assert_non_null(strstr(report, "result: "));
	return want == 0 ? id : 0;
}

static int
state_of(uint64_t id)
{
	struct request *r = calloc(1, sizeof(*r));
	MDB_txn *txn;
	int s;

	assert_int_equal(store_begin(st, 1, &txn), 0);
	assert_int_equal(queue_get(st, txn, id, r), 0);
	store_abort(txn);
	s = r->s.state;
	free(r);
	return s;
}

static unsigned
approvals(uint64_t id)
{
	MDB_txn *txn;
	unsigned n;

	assert_int_equal(store_begin(st, 1, &txn), 0);
	assert_int_equal(review_approvals(st, txn, id, &n), 0);
	store_abort(txn);
	return n;
}

static int
review(const char *who, uint64_t id, int decision, const char *note, int *outcome)
{
	err[0] = '\0';
	return airlock_review(st, cfg, who, id, decision, note, outcome, err, sizeof(err));
}

static void
test_two_approvals(void **state)
{
	uint64_t id = import_as("adm0", "code\nA01\n");
	int out;

	(void)state;
	assert_int_equal(review("adm1", id, REVIEW_APPROVE, "one", &out), 0);
	assert_int_equal(out, AIRLOCK_AWAITS_REVIEW);
	assert_int_equal(state_of(id), ST_PENDING);
	assert_int_equal(approvals(id), 1);
	assert_int_equal(review("adm1", id, REVIEW_APPROVE, "again", &out), -1);
	assert_non_null(strstr(err, "reviewed it already"));
	assert_int_equal(review("adm0", id, REVIEW_APPROVE, "mine", &out), -1);
	assert_non_null(strstr(err, "two-person rule"));
	assert_int_equal(approvals(id), 1);
	assert_int_equal(review("adm2", id, REVIEW_APPROVE, "two", &out), 0);
	assert_int_equal(out, AIRLOCK_DECIDED);
	assert_int_equal(state_of(id), ST_RELEASED);
	/* reviews_required = 1 (and 0, a config built by hand): one approval decides */
	cfg->reviews_required = 0;
	id = import_as("adm0", "code\nB02\n");
	assert_int_equal(review("adm1", id, REVIEW_APPROVE, "one", &out), 0);
	assert_int_equal(out, AIRLOCK_DECIDED);
	cfg->reviews_required = 2;
}

static void
test_one_reject_rejects(void **state)
{
	uint64_t id = import_as("adm0", "code\nC03\n");
	int out;

	(void)state;
	assert_int_equal(review("adm1", id, REVIEW_APPROVE, "fine", &out), 0);
	assert_int_equal(review("adm2", id, REVIEW_REJECT, "no", &out), 0);
	assert_int_equal(out, AIRLOCK_DECIDED);
	assert_int_equal(state_of(id), ST_REJECTED);
	assert_int_equal(review("adm3", id, REVIEW_APPROVE, "late", &out), -1);
	assert_non_null(strstr(err, "not pending"));
}

static void
test_return_and_replace(void **state)
{
	uint64_t old, pend, new;
	int out;

	(void)state;
	old = export_table(&alice, FAIL_TABLE, 0, 0);
	assert_int_equal(review("adm1", old, REVIEW_APPROVE, "", &out), -1);
	assert_non_null(strstr(err, "needs a note"));
	assert_int_equal(approvals(old), 0);
	assert_int_equal(review("adm1", old, REVIEW_RETURN, "", &out), -1);
	assert_int_equal(state_of(old), ST_PENDING);
	assert_int_equal(review("adm1", old, REVIEW_RETURN, "suppress the 3", &out), 0);
	assert_int_equal(state_of(old), ST_RETURNED);
	pend = export_table(&alice, FAIL_TABLE, 0, 0);
	export_table(&alice, PASS_TABLE, pend, -1);
	assert_non_null(strstr(err, "only a returned request"));
	export_table(&bob, PASS_TABLE, old, -1);
	assert_non_null(strstr(err, "not an export of yours"));
	export_table(&alice, PASS_TABLE, 999, -1);
	assert_non_null(strstr(err, "no request 999"));
	new = export_table(&alice, PASS_TABLE, old, 0);
	export_table(&alice, PASS_TABLE, old, -1);
	assert_non_null(strstr(err, "resubmitted already"));
	{
		uint64_t a, b;
		MDB_txn *txn;

		assert_int_equal(store_begin(st, 1, &txn), 0);
		assert_int_equal(review_link_replaces(st, txn, new, &a), 0);
		assert_int_equal(review_link_replaced_by(st, txn, old, &b), 0);
		store_abort(txn);
		assert_int_equal(a, old);
		assert_int_equal(b, new);
	}
}

static void
test_block_on_fail_at_submission(void **state)
{
	MDB_txn *txn;
	size_t before, after;

	(void)state;
	cfg->export_block_on_fail = 1;
	assert_int_equal(store_begin(st, 1, &txn), 0);
	assert_int_equal(store_count(st, txn, DB_REQUESTS, &before), 0);
	store_abort(txn);
	export_table(&alice, FAIL_TABLE, 0, -1);
	assert_non_null(strstr(err, "nothing was queued"));
	assert_int_equal(store_begin(st, 1, &txn), 0);
	assert_int_equal(store_count(st, txn, DB_REQUESTS, &after), 0);
	store_abort(txn);
	assert_int_equal(after, before);
	assert_true(export_table(&alice, PASS_TABLE, 0, 0) > 0); /* control */
	cfg->export_block_on_fail = 0;
}

static int
draft_files(void)
{
	char cmd[600];
	int n = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls %s/drafts | wc -l", dir);
	assert_non_null(p = popen(cmd, "r"));
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static void
test_drafts(void **state)
{
	char msg[512], out[8192];
	uint64_t id = 0;
	unsigned n;
	int fd;

	(void)state;
	fd = memfile("d,1\n");
	assert_int_equal(draft_upload_finish(st, cfg, &alice, fd, "d.csv", "why", "", msg,
					     sizeof(msg), err, sizeof(err)),
			 0);
	close(fd);
	assert_non_null(strstr(msg, "kept as a draft"));
	assert_non_null(strstr(msg, "4 bytes"));
	assert_int_equal(draft_files(), 1);
	assert_int_equal(draft_inbox(st, cfg, &alice, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "d.csv"));
	assert_int_equal(draft_inbox(st, cfg, &bob, out, sizeof(out), err, sizeof(err)), 0);
	assert_null(strstr(out, "d.csv")); /* drafts are their uploader's */
	assert_int_equal(
	    draft_submit(st, cfg, &bob, "d.csv", "", &id, msg, sizeof(msg), err, sizeof(err)), -1);
	assert_int_equal(
	    draft_submit(st, cfg, &alice, "d.csv", "", &id, msg, sizeof(msg), err, sizeof(err)), 0);
	assert_int_equal(state_of(id), ST_PENDING);
	assert_non_null(strstr(msg, "4 bytes, sha256 "));
	assert_int_equal(draft_files(), 0);
	assert_int_equal(
	    draft_submit(st, cfg, &alice, "d.csv", "", &id, msg, sizeof(msg), err, sizeof(err)),
	    -1);
	/* expiry: nothing before the TTL, the draft and its file after; notes too */
	fd = memfile("e,2\n");
	assert_int_equal(draft_upload_finish(st, cfg, &alice, fd, "e.csv", "", "", msg, sizeof(msg),
					     err, sizeof(err)),
			 0);
	close(fd);
	assert_int_equal(draft_note_refusal(st, &alice, "big.bin", "too big"), 0);
	assert_int_equal(draft_inbox(st, cfg, &alice, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "refused big.bin at "));
	assert_int_equal(draft_expire(st, cfg, (uint64_t)time(NULL) + 60, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_int_equal(draft_files(), 1);
	assert_int_equal(draft_expire(st, cfg, (uint64_t)time(NULL) + 7200, &n, err, sizeof(err)),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(draft_files(), 0);
	assert_int_equal(draft_expire(st, cfg, (uint64_t)time(NULL), &n, err, sizeof(err)), 0);
	assert_int_equal(draft_inbox(st, cfg, &alice, out, sizeof(out), err, sizeof(err)), 0);
	assert_null(strstr(out, "e.csv"));
	assert_null(strstr(out, "big.bin")); /* the note expired with it */
	/* with a declared SHA-256 it is queued at once (airlock_upload_commit's path) */
	cfg->import_require_checksum = 0;
	fd = memfile("f,3\n");
	assert_int_equal(draft_upload_finish(st, cfg, &alice, fd, "f.csv", "", "", msg, sizeof(msg),
					     err, sizeof(err)),
			 0);
	close(fd);
	assert_non_null(strstr(msg, "import request "));
	cfg->import_require_checksum = 1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_two_approvals),
	    cmocka_unit_test(test_one_reject_rejects),
	    cmocka_unit_test(test_return_and_replace),
	    cmocka_unit_test(test_block_on_fail_at_submission),
	    cmocka_unit_test(test_drafts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
