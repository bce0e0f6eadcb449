/* wsgatectl project add|list|show. Projects are never deleted: their gid stays theirs. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/audit.h"
#include "ctl/ctl.h"
#include "policy/account.h"

/* Options of a project subcommand; argv[0] is the subcommand. */
static int
parse_args(struct ctl *c, int argc, char **argv, int want_name, const char **name, const char **max)
{
	static const struct option opts[] = {
	    {"max-accounts", required_argument, NULL, 'm'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	char nb[CTL_NAMEBUF];
	int ch;

	*name = NULL;
	*max = NULL;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'm' && strcmp(argv[0], "add") == 0)
			*max = optarg;
		else if (ch == 'j')
			c->json = 1;
		else
			return ctl_usage("project %s: unknown option or missing value %s", argv[0],
					 ctl_name(argv[optind - 1], nb, sizeof(nb)));
	}
	if (argc - optind != (want_name ? 1 : 0))
		return ctl_usage(want_name ? "project %s: expects one NAME"
					   : "project %s: takes no NAME",
				 argv[0]);
	if (want_name) {
		*name = argv[optind];
		if (!name_valid(*name))
			return ctl_fail("project %s: invalid name (want ^[a-z][a-z0-9_-]{0,31}$)",
					ctl_name(*name, nb, sizeof(nb)));
	}
	return 0;
}

static int
project_add(struct ctl *c, int argc, char **argv)
{
	const char *name, *max;
	struct project p, old;
	char nb[CTL_NAMEBUF], *end;
	unsigned long long m = 0;
	MDB_txn *txn;
	uint64_t n;
	int rc;

	if ((rc = parse_args(c, argc, argv, 1, &name, &max)) != 0)
		return rc;
	if (max) {
		errno = 0;
		m = strtoull(max, &end, 10);
		if (!(*max >= '0' && *max <= '9') || *end || errno || m > 100000)
			return ctl_fail(
			    "project \"%s\": --max-accounts %s is not a number 0..100000", name,
			    ctl_name(max, nb, sizeof(nb)));
	}
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "%s", name);
	p.max_accounts = (uint32_t)m;
	p.created = (uint64_t)time(NULL);
	if ((rc = store_begin(c->st, 0, &txn)) < 0)
		return ctl_fail("state store: %s", store_strerror(rc));
	rc = project_get(c->st, txn, name, &old);
	if (rc != STORE_NOTFOUND) {
		store_abort(txn);
		if (rc == 0)
			return ctl_fail("project \"%s\" already exists", name);
		return ctl_fail("project \"%s\": record cannot be read: %s", name,
				store_strerror(rc));
	}
	/* Like uids, gids come from a counter that never goes back. */
	n = store_next_counter(c->st, txn, "next_gid");
	if (n == 0 || n > 0x7fffffffu - PROJECT_GID_BASE) {
		store_abort(txn);
		return ctl_fail("project \"%s\": no gid left", name);
	}
	p.gid = (gid_t)(PROJECT_GID_BASE + n - 1);
	if ((rc = project_put(c->st, txn, &p)) < 0 ||
	    (rc = audit_append(c->st, txn, c->actor, "project.add",
			       "project=%s gid=%u max_accounts=%u", p.name, (unsigned)p.gid,
			       p.max_accounts)) < 0) {
		store_abort(txn);
		return ctl_fail("project \"%s\": cannot store: %s", name, store_strerror(rc));
	}
	if ((rc = store_commit(txn)) < 0)
		return ctl_fail("state store: commit: %s", store_strerror(rc));
	printf("project %s added: gid %u, max accounts %s%u\n", p.name, (unsigned)p.gid,
	       p.max_accounts ? "" : "unlimited ", p.max_accounts);
	return 0;
}

struct members {
	const char *project;
	json_t *arr;
	unsigned n;
};

static int
collect_member(const struct account *a, void *arg)
{
	struct members *m = arg;

	if (!account_in_project(a, m->project))
		return 0;
	m->n++;
	if (m->arr)
		return json_array_append_new(m->arr, json_pack("{s:s, s:s}", "name", a->name,
							       "role", role_name(a->role))) < 0
			   ? -1
			   : 0;
	return 0;
}

static json_t *
project_json(const struct project *p, unsigned members)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I}", "name", p->name, "gid", (json_int_t)p->gid,
			 "max_accounts", (json_int_t)p->max_accounts, "accounts",
			 (json_int_t)members, "created", (json_int_t)p->created);
}

struct list_ctx {
	struct ctl *c;
	MDB_txn *txn;
	json_t *arr;
};

static int
list_one(const struct project *p, void *arg)
{
	struct list_ctx *lc = arg;
	unsigned n;

	if (project_member_count(lc->c->st, lc->txn, p->name, &n) < 0)
		return -1;
	if (lc->arr)
		return json_array_append_new(lc->arr, project_json(p, n)) < 0 ? -1 : 0;
	if (p->max_accounts)
		printf("%-32s %-8u %u/%u\n", p->name, (unsigned)p->gid, n, p->max_accounts);
	else
		printf("%-32s %-8u %u/-\n", p->name, (unsigned)p->gid, n);
	return 0;
}

static int
project_list(struct ctl *c, int argc, char **argv)
{
	struct list_ctx lc = {c, NULL, NULL};
	const char *name, *max;
	int rc;

	if ((rc = parse_args(c, argc, argv, 0, &name, &max)) != 0)
		return rc;
	if ((rc = store_begin(c->st, 1, &lc.txn)) < 0)
		return ctl_fail("state store: %s", store_strerror(rc));
	if (c->json && (lc.arr = json_array()) == NULL) {
		store_abort(lc.txn);
		return ctl_fail("out of memory");
	}
	if (!c->json)
		printf("%-32s %-8s %s\n", "NAME", "GID", "ACCOUNTS");
	rc = project_foreach(c->st, lc.txn, list_one, &lc);
	store_abort(lc.txn);
	if (rc != 0) {
		json_decref(lc.arr);
		return ctl_fail("project list: a record cannot be read: %s", store_strerror(rc));
	}
	return c->json ? ctl_print_json(lc.arr) : 0;
}

static int
project_show(struct ctl *c, int argc, char **argv)
{
	struct members m = {NULL, NULL, 0};
	const char *name, *max;
	struct project p;
	MDB_txn *txn;
	json_t *j;
	int rc;

	if ((rc = parse_args(c, argc, argv, 1, &name, &max)) != 0)
		return rc;
	if ((rc = store_begin(c->st, 1, &txn)) < 0)
		return ctl_fail("state store: %s", store_strerror(rc));
	rc = project_get(c->st, txn, name, &p);
	if (rc != 0) {
		store_abort(txn);
		if (rc == STORE_NOTFOUND)
			return ctl_fail("project \"%s\" does not exist", name);
		return ctl_fail("project \"%s\": record cannot be read: %s", name,
				store_strerror(rc));
	}
	m.project = p.name;
	m.arr = json_array();
	rc = m.arr ? account_foreach(c->st, txn, collect_member, &m) : -1;
	store_abort(txn);
	if (rc != 0) {
		json_decref(m.arr);
		return ctl_fail("project \"%s\": members cannot be read: %s", name,
				m.arr ? store_strerror(rc) : "out of memory");
	}
	if (c->json) {
		j = project_json(&p, m.n);
		if (j && json_object_set_new(j, "members", m.arr) < 0) {
			json_decref(j);
			j = NULL;
		}
		return ctl_print_json(j);
	}
	printf("name:     %s\ngid:      %u\n", p.name, (unsigned)p.gid);
	if (p.max_accounts)
		printf("accounts: %u of %u\n", m.n, p.max_accounts);
	else
		printf("accounts: %u (no limit)\n", m.n);
	printf("members:\n");
	{
		size_t i;
		json_t *v;

		json_array_foreach(m.arr, i, v)
		{
			printf("  %s (%s)\n", json_string_value(json_object_get(v, "name")),
			       json_string_value(json_object_get(v, "role")));
		}
	}
	json_decref(m.arr);
	return 0;
}

int
ctl_project(struct ctl *c, int argc, char **argv)
{
	/* clang-format off */
	static const struct ctl_sub subs[] = {
		{"add", project_add},
		{"list", project_list},
		{"show", project_show},
		{NULL, NULL},
	};
	/* clang-format on */

	return ctl_dispatch(c, argc, argv, subs, "usage: project add|list|show ...");
}
