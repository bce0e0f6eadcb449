#include "common/store.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/codec.h"
#include "common/fsutil.h"

static const char *db_names[DB_COUNT] = {
    [DB_META] = "meta",		  [DB_USERS] = "users",		[DB_PROJECTS] = "projects",
    [DB_AUTHSTATE] = "authstate", [DB_ADDRSTATE] = "addrstate", [DB_REQUESTS] = "requests",
    [DB_AUDIT] = "audit",
};

/* Sparse on Linux: the file grows with use. 16 GiB holds millions of requests and audit records. */
#define STORE_MAP_SIZE (16ull << 30)

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
		return store_put(st, txn, DB_META, key, sizeof(key) - 1, buf, 4, 0);
	}
	if (rc == STORE_NOTFOUND) {
		snprintf(why, whylen, "state store has no schema version (run wsgatectl init)");
		return -1;
	}
	if (rc < 0)
		return -1;
	rbuf_init(&r, v.mv_data, v.mv_size);
	ver = rbuf_u32(&r);
	if (!rbuf_done(&r) || ver > STORE_SCHEMA_VERSION || ver == 0) {
		snprintf(why, whylen, "state store schema version %u is not supported (want %u)",
			 ver, STORE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

static int
open_dbs(struct store *st, int create, char *why, size_t whylen)
{
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0) {
		snprintf(why, whylen, "lmdb: %s", mdb_strerror(rc));
		return -1;
	}
	for (int i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &st->dbi[i]);
		if (rc != 0) {
			snprintf(why, whylen, "lmdb: database %s: %s", db_names[i],
				 mdb_strerror(rc));
			mdb_txn_abort(txn);
			return -1;
		}
	}
	if (check_schema(st, txn, create, why, whylen) < 0) {
		if (!why[0])
			snprintf(why, whylen, "lmdb: cannot write schema version");
		mdb_txn_abort(txn);
		return -1;
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		snprintf(why, whylen, "lmdb: commit: %s", mdb_strerror(rc));
		return -1;
	}
	return 0;
}

int
store_open(const char *state_dir, int create, struct store **out, char *why, size_t whylen)
{
	struct store *st;
	char path[PATH_MAX];
	int rc;

	why[0] = '\0';
	st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
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
	if ((rc = mdb_env_create(&st->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(st->env, DB_COUNT)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env, STORE_MAP_SIZE)) != 0 ||
	    (rc = mdb_env_set_maxreaders(st->env, 1024)) != 0 ||
	    (rc = mdb_env_open(st->env, path, MDB_NOTLS, 0600)) != 0) {
		snprintf(why, whylen, "%s: %s", path, mdb_strerror(rc));
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
	if (st->env)
		mdb_env_close(st->env);
	secrets_wipe(&st->secrets);
	free(st);
}

int
store_begin(struct store *st, int rdonly, MDB_txn **txn)
{
	int rc = mdb_txn_begin(st->env, NULL, rdonly ? MDB_RDONLY : 0, txn);

	if (rc != 0) {
		errno = rc > 0 ? rc : EIO;
		return -1;
	}
	return 0;
}

int
store_commit(MDB_txn *txn)
{
	int rc = mdb_txn_commit(txn);

	if (rc != 0) {
		errno = rc > 0 ? rc : EIO;
		return -1;
	}
	return 0;
}

void
store_abort(MDB_txn *txn)
{
	if (txn)
		mdb_txn_abort(txn);
}

int
store_get(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen,
	  MDB_val *val)
{
	MDB_val k = {klen, (void *)key};
	int rc = mdb_get(txn, st->dbi[db], &k, val);

	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	return rc == 0 ? 0 : -1;
}

int
store_put(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen,
	  const void *val, size_t vlen, unsigned flags)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	int rc = mdb_put(txn, st->dbi[db], &k, &v, flags);

	if (rc == MDB_KEYEXIST)
		return STORE_EXISTS;
	return rc == 0 ? 0 : -1;
}

int
store_del(struct store *st, MDB_txn *txn, enum store_db db, const void *key, size_t klen)
{
	MDB_val k = {klen, (void *)key};
	int rc = mdb_del(txn, st->dbi[db], &k, NULL);

	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	return rc == 0 ? 0 : -1;
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

uint64_t
store_next_counter(struct store *st, MDB_txn *txn, const char *name)
{
	MDB_val v;
	uint8_t buf[8];
	uint64_t n = 0;
	int rc = store_get(st, txn, DB_META, name, strlen(name), &v);

	if (rc < 0)
		return 0;
	if (rc == 0) {
		if (v.mv_size != 8)
			return 0;
		n = store_key_u64(&v);
	}
	if (n == UINT64_MAX)
		return 0;
	store_u64_key(++n, buf);
	if (store_put(st, txn, DB_META, name, strlen(name), buf, sizeof(buf), 0) != 0)
		return 0;
	return n;
}
