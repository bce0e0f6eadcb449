/*
 * transfer-drv: drives transfer/ the way the gateway's monitor does, for the scenario tests
 * (an analyst's export, upload and withdraw need a session that these tests do not start).
 *   transfer-drv CONFIG export USER PROJECT AREA PATH [REASON]   (reads PATH as USER's uid,
 *       from the account record, as the monitor does with the session's account)
 *   transfer-drv CONFIG upload USER PROJECT AREA NAME [REASON|--abort]   (bytes on stdin;
 *       the declared SHA-256, if any, in $DRV_SHA256)
 *   transfer-drv CONFIG withdraw USER PROJECT AREA ID
 *   transfer-drv CONFIG serve USER PROJECT AREA UID SOCKET COUNT         (airlock socket)
 *   transfer-drv CONFIG outbox PROJECT | fetch PROJECT ID NAME
 *   transfer-drv CONFIG scan | verify
 *   transfer-drv CONFIG bulk N          (benchmarks: N synthetic pending exports, one txn)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/store.h"
#include "policy/account.h"
#include "policy/config.h"
#include "transfer/airlock.h"
#include "transfer/airlock_server.h"
#include "transfer/blob.h"
#include "transfer/queue.h"

static struct store *st;
static struct config *cfg;

static int
bad(const char *msg)
{
	fprintf(stderr, "transfer-drv: %s\n", msg);
	return 1;
}

static int
print_entry(const struct outbox_entry *e, void *arg)
{
	(void)arg;
	printf("%" PRIu64 " %s %" PRIu64 "\n", e->id, e->name, e->size);
	return 0;
}

struct verify_ctx {
	struct request *r;
	unsigned long n, badn;
};

static int
verify_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct verify_ctx *vc = arg;
	struct request *r = vc->r;
	char hex[65];
	int rc;

	MDB_val body;

	vc->n++;
	if (queue_open_record(st, k, v, &body) != 0 ||
	    queue_decode(body.mv_data, body.mv_size, r) < 0) {
		printf("undecodable %" PRIu64 "\n", store_key_u64(k));
		vc->badn++;
		return 0;
	}
	if ((rc = blob_verify(store_state_dir(st), r->sha256, r->s.size, -1, NULL)) < 0) {
		printf("badblob %" PRIu64 ": %s\n", r->s.id, strerror(-rc));
		vc->badn++;
	}
	blob_hex(r->sha256, hex);
	printf("req %" PRIu64 " %s %s %s %s\n", r->s.id, queue_kind_name(r->s.kind),
	       queue_state_name(r->s.state), hex, r->reason);
	return 0;
}

static int
verify(void)
{
	struct verify_ctx vc = {calloc(1, sizeof(struct request)), 0, 0};
	MDB_txn *txn;
	int rc;

	if (!vc.r || store_begin(st, 1, &txn) < 0)
		return bad("store");
	rc = store_each(st, txn, DB_REQUESTS, NULL, 0, 0, verify_one, &vc);
	store_abort(txn);
	free(vc.r);
	if (rc != 0)
		return bad(store_strerror(rc));
	printf("requests %lu bad %lu\n", vc.n, vc.badn);
	return vc.badn ? 1 : 0;
}

static int
serve(const struct airlock_actor *who, uid_t uid, const char *path, int count)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 8) < 0 ||
	    chmod(path, 0777) < 0)
		return bad("cannot listen");
	printf("ready\n");
	fflush(stdout);
	for (int i = 0; i < count; i++) {
		int c = accept(lfd, NULL, NULL);

		if (c < 0)
			return bad("accept");
		if (airlock_server_handle(st, cfg, who, uid, c) < 0)
			fprintf(stderr, "transfer-drv: connection %d refused or failed\n", i);
		close(c);
	}
	close(lfd);
	return 0;
}

int
main(int argc, char **argv)
{
	struct airlock_actor who = {0};
	char why[1024];
	uint64_t id;
	const char *cmd;
	int rc = 0;

	if (argc < 3)
		return bad("usage");
	if (config_load(argv[1], &cfg, why, sizeof(why)) < 0 ||
	    store_open(cfg->state_dir, 0, &st, why, sizeof(why)) < 0)
		return bad(why);
	cmd = argv[2];
	if (argc >= 6) {
		who.user = argv[3];
		who.project = argv[4];
		who.area = argv[5];
	}
	if (strcmp(cmd, "export") == 0 && argc >= 7) {
		struct account a;
		MDB_txn *txn;

		if (store_begin(st, 1, &txn) < 0)
			return bad("store");
		rc = account_get(st, txn, who.user, &a);
		store_abort(txn);
		if (rc != 0)
			return bad("no such account");
		who.uid = a.uid;
		account_wipe(&a);
		if (airlock_export(st, cfg, &who, argv[6], argc > 7 ? argv[7] : "", &id, why,
				   sizeof(why)) < 0)
			rc = bad(why);
		else
			printf("id %" PRIu64 "\n", id);
	} else if (strcmp(cmd, "upload") == 0 && argc >= 7) {
		char buf[65536];
		ssize_t n;
		int fd;

		if (airlock_upload_begin(st, &who, argv[6], &fd, why, sizeof(why)) < 0)
			return bad(why);
		while ((n = read(0, buf, sizeof(buf))) > 0)
			if (write_all(fd, buf, (size_t)n) < 0)
				return bad("write");
		if (argc > 7 && strcmp(argv[7], "--abort") == 0) {
			close(fd);
			printf("aborted\n");
		} else if (airlock_upload_commit(st, cfg, &who, fd, argv[6],
						 argc > 7 ? argv[7] : "", getenv("DRV_SHA256"), &id,
						 why, sizeof(why)) < 0) {
			rc = bad(why);
		} else {
			printf("id %" PRIu64 "\n", id);
		}
	} else if (strcmp(cmd, "withdraw") == 0 && argc == 7) {
		if (airlock_withdraw(st, &who, strtoull(argv[6], NULL, 10), why, sizeof(why)) < 0)
			rc = bad(why);
		else
			printf("withdrawn\n");
	} else if (strcmp(cmd, "serve") == 0 && argc == 9) {
		rc = serve(&who, (uid_t)atoi(argv[6]), argv[7], atoi(argv[8]));
	} else if (strcmp(cmd, "outbox") == 0 && argc == 4) {
		rc = airlock_outbox_list(st, argv[3], print_entry, NULL) < 0;
	} else if (strcmp(cmd, "fetch") == 0 && argc == 6) {
		uint64_t size;
		char buf[65536];
		ssize_t n;
		int fd;

		if (airlock_outbox_open(st, argv[3], strtoull(argv[4], NULL, 10), argv[5], &fd,
					&size, why, sizeof(why)) < 0)
			return bad(why);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			write_all(1, buf, (size_t)n);
		close(fd);
	} else if (strcmp(cmd, "scan") == 0) {
		struct airlock_scan_stats s;

		if (airlock_scan_ex(st, &s, why, sizeof(why)) < 0)
			return bad(why);
		printf("staging_removed %lu blobs_removed %lu blobs_kept %lu redelivered %lu "
		       "failed %lu\n",
		       s.staging_removed, s.blobs_removed, s.blobs_kept, s.redelivered, s.failed);
		printf("snapshots %s\n", blob_can_clone(cfg->state_dir) ? "clone" : "copy");
	} else if (strcmp(cmd, "bulk") == 0 && argc == 4) {
		struct request *r = calloc(1, sizeof(*r));
		MDB_txn *txn;
		long n = atol(argv[3]);

		if (!r || store_begin(st, 0, &txn) < 0)
			return bad("store");
		for (long i = 0; i < n; i++) {
			memset(r, 0, sizeof(*r));
			r->s.kind = KIND_EXPORT;
			r->s.state = (uint8_t)(i % 3 ? ST_PENDING : ST_RELEASED);
			r->s.check = CHECK_PASS;
			strcpy(r->s.project, i % 2 ? "p1" : "p2");
			strcpy(r->s.area, "onsite");
			strcpy(r->s.requester, "alice");
			snprintf(r->s.name, sizeof(r->s.name), "table-%ld.csv", i);
			snprintf(r->relpath, sizeof(r->relpath), "results/table-%ld.csv", i);
			r->s.size = 1000 + (uint64_t)i;
			r->s.created = 1790000000 + (uint64_t)i;
			strcpy(r->reason, "benchmark record with a reason of ordinary length");
			strcpy(r->report, "result: pass\n");
			if (queue_insert(st, txn, r) < 0)
				return bad("insert");
		}
		if (store_commit(txn) < 0)
			return bad("commit");
		free(r);
		printf("inserted %ld\n", n);
	} else if (strcmp(cmd, "verify") == 0) {
		rc = verify();
	} else {
		rc = bad("usage");
	}
	store_close(st);
	config_free(cfg);
	return rc;
}
