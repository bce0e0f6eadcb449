/*
 * wsgatectl init: create what the gateway needs under state_dir. Idempotent: each piece is
 * created only when absent (O_EXCL / EEXIST), so a second run changes nothing, and a piece that
 * exists with unsafe ownership or mode is reported rather than silently "fixed".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "common/audit.h"
#include "common/fsutil.h"
#include "common/nitems.h"
#include "ctl/ctl.h"

struct subdir {
	const char *name;
	mode_t mode;
};

/* empty/ is the chroot of the unprivileged network worker: root-owned, not writable by it, and
 * empty so that nothing can be reached from inside. The others hold state for root only. */
/* clang-format off */
static const struct subdir subdirs[] = {
	{"projects", 0700},
	{"blobs", 0700},
	{"staging", 0700},
	{"run", 0700},
	{"empty", 0755},
};
/* clang-format on */

/* A directory we rely on must be ours and writable by nobody else. Other modules may relax
 * a mode later (e.g. let sandbox uids traverse projects/), so only the unsafe bits are refused:
 * a second init must succeed on a tree the gateway has been running on. */
static int
check_dir(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) < 0)
		return ctl_fail("%s: %s", path, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return ctl_fail("%s: not a directory", path);
	if (sb.st_uid != geteuid())
		return ctl_fail("%s: owned by uid %u, not by us", path, (unsigned)sb.st_uid);
	if (sb.st_mode & 022)
		return ctl_fail("%s: mode %04o is writable by group or others", path,
				(unsigned)(sb.st_mode & 07777));
	return 0;
}

static int
make_dir(const char *path, mode_t mode, int *created)
{
	if (mkdir(path, mode) == 0) {
		/* mkdir's mode is filtered by the umask; set the intended mode exactly. */
		if (chmod(path, mode) < 0)
			return ctl_fail("%s: chmod: %s", path, strerror(errno));
		(*created)++;
	} else if (errno != EEXIST) {
		return ctl_fail("%s: %s", path, strerror(errno));
	}
	return check_dir(path);
}

static int
dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

static int
make_state_dirs(const char *state_dir, int *created)
{
	char path[PATH_MAX];
	int rc;

	if (access(state_dir, F_OK) < 0) {
		if (mkdir_p(state_dir, 0700) < 0)
			return ctl_fail("%s: %s", state_dir, strerror(errno));
		if (chmod(state_dir, 0700) < 0)
			return ctl_fail("%s: chmod: %s", state_dir, strerror(errno));
		(*created)++;
	}
	if ((rc = check_dir(state_dir)) != 0)
		return rc;
	for (size_t i = 0; i < nitems(subdirs); i++) {
		if (snprintf(path, sizeof(path), "%s/%s", state_dir, subdirs[i].name) >=
		    (int)sizeof(path))
			return ctl_fail("%s: path too long", state_dir);
		if ((rc = make_dir(path, subdirs[i].mode, created)) != 0)
			return rc;
	}
	snprintf(path, sizeof(path), "%s/empty", state_dir);
	if (!dir_is_empty(path))
		return ctl_fail("%s: must be empty (it is the network worker's chroot)", path);
	return 0;
}

int
ctl_init_dirs(const char *state_dir)
{
	int created = 0;

	return make_state_dirs(state_dir, &created);
}

static int
make_secrets(const char *state_dir, int *created)
{
	char path[PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/secrets.key", state_dir);
	rc = secrets_create(path);
	if (rc < 0)
		return ctl_fail("%s: %s", path, strerror(errno));
	if (rc == 0)
		(*created)++;
	return 0;
}

static int
write_host_key(const char *path)
{
	char pub[PATH_MAX];
	ssh_key key = NULL;
	int rc = 1;

	if (snprintf(pub, sizeof(pub), "%s.pub", path) >= (int)sizeof(pub))
		return ctl_fail("%s: path too long", path);
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK) {
		ctl_fail("%s: cannot generate an ed25519 key", path);
		goto out;
	}
	if (ssh_pki_export_privkey_file(key, NULL, NULL, NULL, path) != SSH_OK) {
		ctl_fail("%s: cannot write the host key", path);
		goto out;
	}
	if (chmod(path, 0600) < 0) {
		ctl_fail("%s: chmod: %s", path, strerror(errno));
		goto out;
	}
	/* The public half, for clients' known_hosts; not secret. */
	if (ssh_pki_export_pubkey_file(key, pub) != SSH_OK || chmod(pub, 0644) < 0) {
		ctl_fail("%s: cannot write the public host key", pub);
		goto out;
	}
	rc = 0;
out:
	ssh_key_free(key);
	return rc;
}

static int
make_host_key(const char *path, int *created)
{
	char dir[PATH_MAX];
	struct stat sb;
	int rc;

	if (lstat(path, &sb) == 0) {
		if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid() || (sb.st_mode & 077))
			return ctl_fail("%s: host key must be a regular file of ours, mode 0600",
					path);
		return 0;
	}
	if (errno != ENOENT)
		return ctl_fail("%s: %s", path, strerror(errno));
	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir_p(dirname(dir), 0700) < 0)
		return ctl_fail("%s: %s", path, strerror(errno));
	if ((rc = write_host_key(path)) != 0)
		return rc;
	(*created)++;
	return 0;
}

static int
make_store(struct ctl *c, int *created)
{
	char path[PATH_MAX], why[512], q[PATH_MAX + 16];
	struct store *st = NULL;
	MDB_txn *txn;
	int rc = 1;

	if (snprintf(path, sizeof(path), "%s/db/data.mdb", c->cfg->state_dir) >= (int)sizeof(path))
		return ctl_fail("%s: path too long", c->cfg->state_dir);
	if (access(path, F_OK) < 0)
		(*created)++;
	if (store_open(c->cfg->state_dir, 1, &st, why, sizeof(why)) < 0)
		return ctl_fail("%s", why);
	if (audit_attach(st, c->cfg->audit_witness, why, sizeof(why)) < 0) {
		ctl_fail("%s", why);
		goto out;
	}
	audit_set_context("root", "", "", "");
	if (*created == 0) {
		rc = 0;
		goto reserve;
	}
	if ((rc = store_begin(st, 0, &txn)) < 0) {
		ctl_fail("state store: %s", store_strerror(rc));
		goto out;
	}
	if (audit_append(st, txn, c->actor, "ctl.init", "state_dir=%s",
			 audit_quote(c->cfg->state_dir, q, sizeof(q))) < 0) {
		store_abort(txn);
		ctl_fail("audit: cannot append");
		goto out;
	}
	if ((rc = store_commit(txn)) < 0) {
		ctl_fail("state store: commit: %s", store_strerror(rc));
		goto out;
	}
	rc = 0;
reserve:
	/* Last, after init's own writes, so that a second init finds nothing to grow. */
	store_startup_log(st, 1);
out:
	store_close(st);
	return rc;
}

int
ctl_init(struct ctl *c, int argc, char **argv)
{
	int created = 0, rc;

	if (argc != 1)
		return ctl_usage("usage: init (takes no arguments)");
	if ((rc = make_state_dirs(c->cfg->state_dir, &created)) != 0 ||
	    (rc = make_secrets(c->cfg->state_dir, &created)) != 0 ||
	    (rc = make_host_key(c->cfg->host_key, &created)) != 0 ||
	    (rc = make_store(c, &created)) != 0)
		return rc;
	if (created)
		printf("initialised %s\n", c->cfg->state_dir);
	else
		printf("%s already initialised\n", c->cfg->state_dir);
	return 0;
}
