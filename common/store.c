#include "common/store.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/why.h"

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	struct secrets secrets;
	char state_dir[4096];
	store_commit_hook *hook; /* store_set_commit_hook */
	void *hook_arg;
};

/* clang-format off */
static const char *db_names[DB_COUNT] = {
	[DB_META] = "meta",
	[DB_USERS] = "users",
	[DB_PROJECTS] = "projects",
	[DB_AUTHSTATE] = "authstate",
	[DB_ADDRSTATE] = "addrstate",
	[DB_REQUESTS] = "requests",
	[DB_AUDIT] = "audit",
	[DB_BUDGET] = "budget",
	[DB_REVIEWS] = "reviews",
	[DB_LINKS] = "links",
	[DB_DRAFTS] = "drafts",
	[DB_LEDGER] = "ledger",
};
/* clang-format on */

/* Sparse on Linux: the file grows with use. 16 GiB holds millions of requests and audit records. */
#define STORE_MAP_SIZE (16ull << 30)

/* LMDB's codes are negative already; a system error it passes on is a positive errno. */
static int
store_rc(int rc)
{
	return rc > 0 ? -rc : rc;
}

static size_t
map_size(void)
{
#ifdef WSGATE_TEST_HOOKS
	/* Lets tests fill the map (MDB_MAP_FULL) in a few hundred KiB instead of 16 GiB. */
	const char *s = getenv("WSGATE_STORE_MAP_SIZE");

	if (s && *s)
		return (size_t)strtoull(s, NULL, 10);
#endif
	return STORE_MAP_SIZE;
}

static int
check_schema(struct store *st, MDB_txn *txn, int create, char *why, size_t whylen)
{
	static const char key[] = "schema_version";
	MDB_val v;
	uint8_t buf[4];
	struct rbuf r;
	uint32_t ver;
	int rc = store_get(st, txn, DB_META, key, sizeof(key) - 1, &v);

	if (rc == STORE_NOTFOUND && create) {
		struct wbuf b;

		wbuf_init(&b);
		wbuf_put_u32(&b, STORE_SCHEMA_VERSION);
		memcpy(buf, b.data, 4);
		wbuf_free(&b);
		if ((rc = store_put(st, txn, DB_META, key, sizeof(key) - 1, buf, 4, 0)) != 0)
			snprintf(why, whylen, "lmdb: cannot write the schema version: %s",
				 store_strerror(rc));
		return rc;
	}
	if (rc == STORE_NOTFOUND)
		return why_set(why, whylen,
			       "state store has no schema version (run wsgatectl init)");
	if (rc < 0) {
		snprintf(why, whylen, "lmdb: cannot read the schema version: %s",
			 store_strerror(rc));
		return rc;
	}
	rbuf_init(&r, v.mv_data, v.mv_size);
	ver = rbuf_u32(&r);
	/* Version 1 stores (before issue 11) have audit records without the context fields and
	 * request records without a MAC: every request would read as tampered. wsgate was not
	 * released with them, so there is no migration; say so rather than fail record by record.
	 */
	if (rbuf_done(&r) && ver == 1)
		return why_set(
		    why, whylen,
		    "state store schema version 1 predates authenticated audit heads and "
		    "request MACs; there is no migration: initialise a new state_dir");
	if (!rbuf_done(&r) || ver > STORE_SCHEMA_VERSION || ver == 0)
		return why_set(why, whylen,
			       "state store schema version %u is not supported (want %u)", ver,
			       STORE_SCHEMA_VERSION);
	return 0;
}

static int
open_dbs(struct store *st, int create, char *why, size_t whylen)
{
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return why_set(why, whylen, "lmdb: %s", store_strerror(store_rc(rc)));
	for (int i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &st->dbi[i]);
		if (rc != 0) {
			snprintf(why, whylen, "lmdb: database %s: %s", db_names[i],
				 store_strerror(store_rc(rc)));
			mdb_txn_abort(txn);
			return -1;
		}
	}
	if (check_schema(st, txn, create, why, whylen) != 0) {
		mdb_txn_abort(txn);
		return -1;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return why_set(why, whylen, "lmdb: commit: %s", store_strerror(store_rc(rc)));
	return 0;
}

/* On btrfs, the database directory is NOCOW (chattr +C), so data.mdb, created in it next,
 * inherits the flag: LMDB then rewrites its pages in place, within the blocks store_startup
 * preallocated, instead of copying each write to new blocks that a full file system could not
 * give. A no-op on other file systems and on a directory that already has files. */
void
store_db_dir_nocow(const char *path)
{
	struct statfs sf;
	int fd, flags;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	if (fstatfs(fd, &sf) == 0 && sf.f_type == BTRFS_SUPER_MAGIC &&
	    ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && !(flags & FS_NOCOW_FL)) {
		flags |= FS_NOCOW_FL;
		(void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
}

int
store_open(const char *state_dir, int create, struct store **out, char *why, size_t whylen)
{
	struct store *st;
	char path[PATH_MAX];
	int rc;

	why[0] = '\0';
	st = calloc(1, sizeof(*st));
	if (!st)
		return why_set(why, whylen, "out of memory");
	if (snprintf(st->state_dir, sizeof(st->state_dir), "%s", state_dir) >=
	    (int)sizeof(st->state_dir)) {
		snprintf(why, whylen, "state_dir too long");
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/secrets.key", state_dir);
	if (secrets_load(path, &st->secrets) < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/db", state_dir);
	if (create && mkdir(path, 0700) < 0 && errno != EEXIST) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (create)
		store_db_dir_nocow(path);
	if ((rc = mdb_env_create(&st->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(st->env, DB_COUNT)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env, map_size())) != 0 ||
	    (rc = mdb_env_set_maxreaders(st->env, 1024)) != 0 ||
	    (rc = mdb_env_set_userctx(st->env, st)) != 0 ||
	    (rc = mdb_env_open(st->env, path, MDB_NOTLS, 0600)) != 0) {
		snprintf(why, whylen, "%s: %s", path, store_strerror(store_rc(rc)));
		goto fail;
	}
	if (open_dbs(st, create, why, whylen) < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return -1;
}

void
store_close(struct store *st)
{
	if (!st)
		return;
	if (st->hook)
		st->hook(st->hook_arg, NULL, STORE_HOOK_CLOSE);
	if (st->env)
		mdb_env_close(st->env);
	secrets_wipe(&st->secrets);
	free(st);
}

const struct secrets *
store_secrets(const struct store *st)
{
	return &st->secrets;
}

const char *
store_state_dir(const struct store *st)
{
	return st->state_dir;
}

/* errno for callers that print strerror(errno): LMDB's own codes have no errno, so EIO. */
static int
txn_fail(int rc)
{
	errno = rc > 0 ? rc : EIO;
	return store_rc(rc);
}

int
store_begin(struct store *st, int rdonly, MDB_txn **txn)
{
	int rc = mdb_txn_begin(st->env, NULL, rdonly ? MDB_RDONLY : 0, txn);

	return rc == 0 ? 0 : txn_fail(rc);
}

void
store_set_commit_hook(struct store *st, store_commit_hook *fn, void *arg)
{
	st->hook = fn;
	st->hook_arg = arg;
}

/* The store a transaction belongs to (store_open put it in the environment's user context). */
static struct store *
txn_store(MDB_txn *txn)
{
	return mdb_env_get_userctx(mdb_txn_env(txn));
}

int
store_commit(MDB_txn *txn)
{
	struct store *st = txn_store(txn);
	int rc = mdb_txn_commit(txn);

	/* txn is freed now; the hook only compares the pointer with the ones it noted. */
	if (st && st->hook)
		st->hook(st->hook_arg, txn, rc == 0 ? STORE_HOOK_COMMITTED : STORE_HOOK_ABORTED);
	return rc == 0 ? 0 : txn_fail(rc);
}

int
store_commit_nosync(struct store *st, MDB_txn *txn)
{
	int rc;

	/* The flag is this process's handle's own, and the monitor is single-threaded. */
	if ((rc = mdb_env_set_flags(st->env, MDB_NOSYNC, 1)) != 0) {
		store_abort(txn);
		return txn_fail(rc);
	}
	rc = store_commit(txn); /* the commit hook (the audit witness) runs as for any commit */
	(void)mdb_env_set_flags(st->env, MDB_NOSYNC, 0);
	return rc;
}

int
store_sync(struct store *st)
{
	int rc = mdb_env_sync(st->env, 1);

	return rc == 0 ? 0 : txn_fail(rc);
}

void
store_abort(MDB_txn *txn)
{
	struct store *st;

	if (!txn)
		return;
	st = txn_store(txn);
	mdb_txn_abort(txn);
	if (st && st->hook)
		st->hook(st->hook_arg, txn, STORE_HOOK_ABORTED);
}

int
store_get(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen,
	  MDB_val *val)
{
	MDB_val k = {klen, (void *)key};
	int rc = mdb_get(txn, st->dbi[db], &k, val);

	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	return store_rc(rc);
}

int
store_put(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen,
	  const void *val, size_t vlen, unsigned flags)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	int rc = mdb_put(txn, st->dbi[db], &k, &v, flags);

	if (rc == MDB_KEYEXIST)
		return STORE_EXISTS;
	return store_rc(rc);
}

int
store_del(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen)
{
	MDB_val k = {klen, (void *)key};
	int rc = mdb_del(txn, st->dbi[db], &k, NULL);

	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	return store_rc(rc);
}

/* Places the cursor on the walk's first record: see store_each for which one that is. */
static int
each_first(MDB_cursor *cur, MDB_val *k, MDB_val *v, const void *from, size_t fromlen, int reverse)
{
	int rc;

	if (!from)
		return mdb_cursor_get(cur, k, v, reverse ? MDB_LAST : MDB_FIRST);
	k->mv_size = fromlen;
	k->mv_data = (void *)from;
	rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE); /* the first key >= from */
	if (!reverse)
		return rc;
	if (rc == MDB_NOTFOUND) /* every key is < from */
		return mdb_cursor_get(cur, k, v, MDB_LAST);
	if (rc == 0 && (k->mv_size != fromlen || memcmp(k->mv_data, from, fromlen) != 0))
		return mdb_cursor_get(cur, k, v, MDB_PREV);
	return rc;
}

int
store_each(struct store *st, MDB_txn *txn, enum store_db db, const void *from, size_t fromlen,
	   unsigned flags, store_each_fn *fn, void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int reverse = (flags & STORE_REVERSE) != 0, rc, out = 0;

	if ((rc = mdb_cursor_open(txn, st->dbi[db], &cur)) != 0)
		return store_rc(rc);
	for (rc = each_first(cur, &k, &v, from, fromlen, reverse); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, reverse ? MDB_PREV : MDB_NEXT))
		if ((out = fn(&k, &v, arg)) != 0)
			break;
	mdb_cursor_close(cur);
	if (out != 0)
		return out;
	return rc == MDB_NOTFOUND ? 0 : store_rc(rc);
}

int
store_count(struct store *st, MDB_txn *txn, enum store_db db, size_t *n)
{
	MDB_stat ms;
	int rc;

	*n = 0;
	if ((rc = mdb_stat(txn, st->dbi[db], &ms)) != 0)
		return store_rc(rc);
	*n = ms.ms_entries;
	return 0;
}

static uint64_t
reserve_size(void)
{
#ifdef WSGATE_TEST_HOOKS
	/* Lets the state-file-system-full test run without the reserve (its control case). */
	const char *s = getenv("WSGATE_STORE_RESERVE");

	if (s && *s)
		return strtoull(s, NULL, 10);
#endif
	return STORE_RESERVE;
}

/* fallocate mode 0 extends the file to used + reserve with real blocks; LMDB keeps its own map
 * size and never shrinks the file, so the blocks stay the file's. EOPNOTSUPP (a file system
 * without fallocate) leaves the database as it was. */
static int
store_preallocate(struct store *st, uint64_t *reserved)
{
	MDB_envinfo info;
	MDB_stat ms;
	mdb_filehandle_t fd;
	uint64_t want;
	int rc;

	*reserved = 0;
	if ((rc = mdb_env_info(st->env, &info)) != 0 || (rc = mdb_env_stat(st->env, &ms)) != 0 ||
	    (rc = mdb_env_get_fd(st->env, &fd)) != 0)
		return store_rc(rc);
	want = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize + reserve_size();
	if (want > info.me_mapsize)
		want = info.me_mapsize;
	/* fallocate, not posix_fallocate: glibc's fallback writes zeros, which is no reserve. */
	if (fallocate(fd, 0, 0, (off_t)want) < 0)
		return errno == EOPNOTSUPP ? 0 : -errno;
	*reserved = want;
	return fsync(fd) == 0 ? 0 : -errno;
}

/* The map does not grow by itself (STORE_MAP_SIZE, sparse): say so at start, well before a
 * write is refused with MDB_MAP_FULL. */
static void
map_use_warn(struct store *st)
{
	MDB_envinfo info;
	MDB_stat ms;
	uint64_t used;

	if (mdb_env_info(st->env, &info) != 0 || mdb_env_stat(st->env, &ms) != 0 ||
	    info.me_mapsize == 0)
		return;
	used = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
	if (used > info.me_mapsize / 4 * 3)
		log_warn("lmdb: %s/db uses %" PRIu64 " MiB of its %zu MiB map; writes will be "
			 "refused with MDB_MAP_FULL when it is full (docs/OPERATIONS.md)",
			 st->state_dir, used >> 20, info.me_mapsize >> 20);
}

int
store_startup(struct store *st, int reserve, int *stale, uint64_t *reserved, char *why,
	      size_t whylen)
{
	int rc;

	*stale = 0;
	*reserved = 0;
	if ((rc = mdb_reader_check(st->env, stale)) != 0) {
		snprintf(why, whylen, "lmdb reader check: %s", store_strerror(store_rc(rc)));
		return store_rc(rc);
	}
	if (reserve && (rc = store_preallocate(st, reserved)) < 0) {
		/* a long state_dir cuts the reason short, which is fine for a log line */
		if (snprintf(why, whylen, "%s/db: cannot preallocate the reserve: %s",
			     st->state_dir, store_strerror(rc)) >= (int)whylen)
			log_debug("store: the reserve's error line was cut short");
		return rc;
	}
	if (reserve)
		map_use_warn(st);
	return 0;
}

void
store_startup_log(struct store *st, int reserve)
{
	char why[512];
	uint64_t reserved;
	int stale;

	if (store_startup(st, reserve, &stale, &reserved, why, sizeof(why)) < 0)
		log_warn("%s", why);
	if (stale > 0)
		log_warn("lmdb: cleared %d reader slot(s) left by killed processes", stale);
}

int
store_copy(struct store *st, const char *dir)
{
	return store_rc(mdb_env_copy2(st->env, dir, MDB_CP_COMPACT));
}

int
store_set_nosync(struct store *st)
{
	return store_rc(mdb_env_set_flags(st->env, MDB_NOSYNC, 1));
}

void
store_u64_key(uint64_t v, uint8_t key[8])
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		key[i] = (uint8_t)v;
}

uint64_t
store_key_u64(const MDB_val *key)
{
	const uint8_t *p = key->mv_data;
	uint64_t v = 0;

	if (key->mv_size != 8)
		return 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int
store_bump(struct store *st, MDB_txn *txn, const char *name, uint64_t *n)
{
	MDB_val v;
	uint8_t buf[8];
	uint64_t cur = 0;
	int rc = store_get(st, txn, DB_META, name, strlen(name), &v);

	*n = 0;
	if (rc < 0)
		return rc;
	if (rc == 0) {
		if (v.mv_size != 8)
			return STORE_BADRECORD;
		cur = store_key_u64(&v);
	}
	if (cur == UINT64_MAX)
		return STORE_BADRECORD;
	store_u64_key(++cur, buf);
	if ((rc = store_put(st, txn, DB_META, name, strlen(name), buf, sizeof(buf), 0)) != 0)
		return rc;
	*n = cur;
	return 0;
}

uint64_t
store_next_counter(struct store *st, MDB_txn *txn, const char *name)
{
	uint64_t n;

	return store_bump(st, txn, name, &n) == 0 ? n : 0;
}

const char *
store_strerror(int rc)
{
	static char buf[160];
	const char *name;

	switch (rc) {
	case 0:
		return "success";
	case STORE_NOTFOUND:
		return "STORE_NOTFOUND: no such record";
	case STORE_EXISTS:
		return "STORE_EXISTS: the record already exists";
	case STORE_BADRECORD:
		return "STORE_BADRECORD: a stored record does not decode";
	}
	/* LMDB's own texts already start with the code's name ("MDB_MAP_FULL: Environment
	 * mapsize limit reached"); a system error gets its errno name in front of libc's text. */
	if (rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE)
		return mdb_strerror(rc);
	if (rc < 0 && rc > -4096 && (name = strerrorname_np(-rc)) != NULL) {
		snprintf(buf, sizeof(buf), "%s: %s", name, strerror(-rc));
		return buf;
	}
	snprintf(buf, sizeof(buf), "store error %d", rc);
	return buf;
}
