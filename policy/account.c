/*
 * Account and project records (DB_USERS, DB_PROJECTS). The byte layout is private to this file:
 * a format version byte first, then codec.h fields. A decoder that meets anything it does not
 * expect (unknown version, a count above the compiled limit, an invalid name, trailing bytes)
 * rejects the whole record, so a damaged database can deny a login but never grant one.
 */
#include "policy/account.h"

#include <string.h>

#include <openssl/crypto.h>

#include "common/codec.h"
#include "common/nitems.h"

#define ACCOUNT_FORMAT 1
#define PROJECT_FORMAT 1

static void
account_encode(const struct account *a, struct wbuf *b)
{
	wbuf_put_u8(b, ACCOUNT_FORMAT);
	wbuf_put_str(b, a->name);
	wbuf_put_u8(b, (uint8_t)a->role);
	wbuf_put_u8(b, (uint8_t)a->nprojects);
	for (unsigned i = 0; i < a->nprojects; i++)
		wbuf_put_str(b, a->projects[i]);
	wbuf_put_u8(b, (uint8_t)a->nzones);
	for (unsigned i = 0; i < a->nzones; i++)
		wbuf_put_str(b, a->zones[i]);
	wbuf_put_u64(b, a->expires);
	wbuf_put_u8(b, a->locked ? 1 : 0);
	wbuf_put_u32(b, (uint32_t)a->uid);
	wbuf_put_u64(b, a->created);
	wbuf_put_u8(b, a->has_password ? 1 : 0);
	wbuf_put_u64(b, a->scrypt_n);
	wbuf_put_u32(b, a->scrypt_r);
	wbuf_put_u32(b, a->scrypt_p);
	wbuf_put_bytes(b, a->salt, sizeof(a->salt));
	wbuf_put_bytes(b, a->pwhash, sizeof(a->pwhash));
	wbuf_put_u8(b, (uint8_t)a->nkeys);
	for (unsigned i = 0; i < a->nkeys; i++)
		wbuf_put_str(b, a->keys[i]);
	wbuf_put_bytes(b, a->totp_sealed, a->totp_sealed_len);
}

static int
account_decode(const void *data, size_t len, struct account *a)
{
	struct rbuf r;
	size_t n;
	uint8_t role;

	memset(a, 0, sizeof(*a));
	rbuf_init(&r, data, len);
	if (rbuf_u8(&r) != ACCOUNT_FORMAT)
		return -1;
	rbuf_str(&r, a->name, sizeof(a->name));
	role = rbuf_u8(&r);
	a->role = (enum role)role;
	a->nprojects = rbuf_u8(&r);
	if (a->nprojects > ACCOUNT_MAX_PROJECTS)
		goto bad;
	for (unsigned i = 0; i < a->nprojects; i++)
		rbuf_str(&r, a->projects[i], sizeof(a->projects[i]));
	a->nzones = rbuf_u8(&r);
	if (a->nzones > ACCOUNT_MAX_ZONES)
		goto bad;
	for (unsigned i = 0; i < a->nzones; i++)
		rbuf_str(&r, a->zones[i], sizeof(a->zones[i]));
	a->expires = rbuf_u64(&r);
	a->locked = rbuf_u8(&r) != 0;
	a->uid = (uid_t)rbuf_u32(&r);
	a->created = rbuf_u64(&r);
	a->has_password = rbuf_u8(&r) != 0;
	a->scrypt_n = rbuf_u64(&r);
	a->scrypt_r = rbuf_u32(&r);
	a->scrypt_p = rbuf_u32(&r);
	rbuf_bytes(&r, a->salt, sizeof(a->salt), &n);
	if (rbuf_ok(&r) && n != sizeof(a->salt))
		goto bad;
	rbuf_bytes(&r, a->pwhash, sizeof(a->pwhash), &n);
	if (rbuf_ok(&r) && n != sizeof(a->pwhash))
		goto bad;
	a->nkeys = rbuf_u8(&r);
	if (a->nkeys > ACCOUNT_MAX_KEYS)
		goto bad;
	for (unsigned i = 0; i < a->nkeys; i++)
		rbuf_str(&r, a->keys[i], sizeof(a->keys[i]));
	rbuf_bytes(&r, a->totp_sealed, sizeof(a->totp_sealed), &a->totp_sealed_len);
	if (!rbuf_done(&r))
		goto bad;
	if (!name_valid(a->name) ||
	    (role != ROLE_ANALYST && role != ROLE_STATS && role != ROLE_ADMIN) || a->uid == 0)
		goto bad;
	for (unsigned i = 0; i < a->nprojects; i++)
		if (!name_valid(a->projects[i]))
			goto bad;
	for (unsigned i = 0; i < a->nzones; i++)
		if (!name_valid(a->zones[i]))
			goto bad;
	return 0;
bad:
	account_wipe(a);
	return -1;
}

int
account_get(struct store *st, MDB_txn *txn, const char *name, struct account *out)
{
	MDB_val v;
	int rc;

	if (!name_valid(name))
		return STORE_NOTFOUND;
	rc = store_get(st, txn, DB_USERS, name, strlen(name), &v);
	if (rc != 0)
		return rc;
	if (account_decode(v.mv_data, v.mv_size, out) < 0 || strcmp(out->name, name) != 0) {
		account_wipe(out);
		return STORE_BADRECORD;
	}
	return 0;
}

int
account_put(struct store *st, MDB_txn *txn, const struct account *a)
{
	struct wbuf b;
	int rc = -ENOMEM;

	if (!name_valid(a->name) || a->uid == 0 || a->nprojects > ACCOUNT_MAX_PROJECTS ||
	    a->nzones > ACCOUNT_MAX_ZONES || a->nkeys > ACCOUNT_MAX_KEYS ||
	    a->totp_sealed_len > sizeof(a->totp_sealed))
		return -EINVAL;
	wbuf_init(&b);
	account_encode(a, &b);
	if (!b.err)
		rc = store_put(st, txn, DB_USERS, a->name, strlen(a->name), b.data, b.len, 0);
	wbuf_free(&b);
	return rc;
}

int
account_del(struct store *st, MDB_txn *txn, const char *name)
{
	if (!name_valid(name))
		return STORE_NOTFOUND;
	return store_del(st, txn, DB_USERS, name, strlen(name));
}

static int
project_decode(const void *data, size_t len, struct project *p)
{
	struct rbuf r;

	memset(p, 0, sizeof(*p));
	rbuf_init(&r, data, len);
	if (rbuf_u8(&r) != PROJECT_FORMAT)
		return -1;
	rbuf_str(&r, p->name, sizeof(p->name));
	p->max_accounts = rbuf_u32(&r);
	p->gid = (gid_t)rbuf_u32(&r);
	p->created = rbuf_u64(&r);
	if (!rbuf_done(&r) || !name_valid(p->name) || p->gid == 0)
		return -1;
	return 0;
}

int
project_get(struct store *st, MDB_txn *txn, const char *name, struct project *out)
{
	MDB_val v;
	int rc;

	if (!name_valid(name))
		return STORE_NOTFOUND;
	rc = store_get(st, txn, DB_PROJECTS, name, strlen(name), &v);
	if (rc != 0)
		return rc;
	if (project_decode(v.mv_data, v.mv_size, out) < 0 || strcmp(out->name, name) != 0)
		return STORE_BADRECORD;
	return 0;
}

int
project_put(struct store *st, MDB_txn *txn, const struct project *p)
{
	struct wbuf b;
	int rc = -ENOMEM;

	if (!name_valid(p->name) || p->gid == 0)
		return -EINVAL;
	wbuf_init(&b);
	wbuf_put_u8(&b, PROJECT_FORMAT);
	wbuf_put_str(&b, p->name);
	wbuf_put_u32(&b, p->max_accounts);
	wbuf_put_u32(&b, (uint32_t)p->gid);
	wbuf_put_u64(&b, p->created);
	if (!b.err)
		rc = store_put(st, txn, DB_PROJECTS, p->name, strlen(p->name), b.data, b.len, 0);
	wbuf_free(&b);
	return rc;
}

struct acct_walk {
	int (*fn)(const struct account *, void *);
	void *arg;
};

static int
visit_account(const MDB_val *k, const MDB_val *v, void *ctx)
{
	struct acct_walk *w = ctx;
	struct account a;
	int rc;

	(void)k;
	if (account_decode(v->mv_data, v->mv_size, &a) < 0)
		return STORE_BADRECORD;
	rc = w->fn(&a, w->arg);
	account_wipe(&a);
	return rc;
}

int
account_foreach(struct store *st, MDB_txn *txn, int (*fn)(const struct account *, void *),
		void *arg)
{
	struct acct_walk w = {fn, arg};

	return store_each(st, txn, DB_USERS, NULL, 0, 0, visit_account, &w);
}

struct proj_walk {
	int (*fn)(const struct project *, void *);
	void *arg;
};

static int
visit_project(const MDB_val *k, const MDB_val *v, void *ctx)
{
	struct proj_walk *w = ctx;
	struct project p;

	(void)k;
	if (project_decode(v->mv_data, v->mv_size, &p) < 0)
		return STORE_BADRECORD;
	return w->fn(&p, w->arg);
}

int
project_foreach(struct store *st, MDB_txn *txn, int (*fn)(const struct project *, void *),
		void *arg)
{
	struct proj_walk w = {fn, arg};

	return store_each(st, txn, DB_PROJECTS, NULL, 0, 0, visit_project, &w);
}

struct member_count {
	const char *project;
	unsigned n;
};

static int
count_member(const struct account *a, void *arg)
{
	struct member_count *mc = arg;

	if (account_in_project(a, mc->project))
		mc->n++;
	return 0;
}

int
project_member_count(struct store *st, MDB_txn *txn, const char *project, unsigned *n)
{
	struct member_count mc = {project, 0};
	int rc;

	if ((rc = account_foreach(st, txn, count_member, &mc)) < 0)
		return rc;
	*n = mc.n;
	return 0;
}

int
account_in_project(const struct account *a, const char *project)
{
	for (unsigned i = 0; i < a->nprojects && i < ACCOUNT_MAX_PROJECTS; i++)
		if (strcmp(a->projects[i], project) == 0)
			return 1;
	return 0;
}

int
account_in_zone(const struct account *a, const char *zone)
{
	for (unsigned i = 0; i < a->nzones && i < ACCOUNT_MAX_ZONES; i++)
		if (strcmp(a->zones[i], zone) == 0)
			return 1;
	return 0;
}

void
account_wipe(struct account *a)
{
	OPENSSL_cleanse(a->salt, sizeof(a->salt));
	OPENSSL_cleanse(a->pwhash, sizeof(a->pwhash));
	OPENSSL_cleanse(a->totp_sealed, sizeof(a->totp_sealed));
	a->totp_sealed_len = 0;
}
