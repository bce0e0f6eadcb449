/*
 * Runs the SFTP engine over stdin/stdout with a fake backend in a directory, so the real OpenSSH
 * clients can drive it: `sftp -D "sftp-harness DIR"`, or `scp -S wrapper -s` with a wrapper
 * that ignores ssh's arguments and execs this program.
 *
 *   DIR/outbox/<id>/<name>   released exports (one file per id directory)
 *   DIR/staging/<token>      uploads being written
 *   DIR/queued/<name>        committed uploads; DIR/queued.log has "<n> <name> <size> <reason>"
 *   DIR/aborted.log          "<token> <name>" per upload aborted before CLOSE
 * Uploads named "refuse*" are refused at commit, like a monitor refusing an oversized file.
 * SFTP_HARNESS_NOINBOX=1 in the environment acts as a stats user (no /inbox).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/sftp_server.h"

#define HARNESS_MAX_UPLOADS 64

struct harness {
	const char *dir;
	uint64_t next_token, next_request;
	struct {
		uint64_t token;
		int fd; /* the monitor keeps its own fd of every staging file */
		char name[256];
	} up[HARNESS_MAX_UPLOADS];
};

static void
harness_log(struct harness *hs, const char *file, const char *line)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", hs->dir, file);
	f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f, "%s\n", line);
	if (fclose(f) != 0)
		fprintf(stderr, "sftp-harness: %s: %s\n", path, strerror(errno));
}

static int
harness_entry(struct harness *hs, const char *idname, struct sftp_outbox_entry *e)
{
	char path[4096];
	DIR *d;
	struct dirent *de;
	struct stat st;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/outbox/%s", hs->dir, idname);
	if (!(d = opendir(path)))
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/outbox/%s/%s", hs->dir, idname, de->d_name);
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		e->id = strtoull(idname, NULL, 10);
		snprintf(e->name, sizeof(e->name), "%s", de->d_name);
		e->size = (uint64_t)st.st_size;
		e->mtime = (uint64_t)st.st_mtime;
		rc = 0;
		break;
	}
	closedir(d);
	return rc;
}

static int
harness_list(void *arg, int (*fn)(const struct sftp_outbox_entry *e, void *fnarg), void *fnarg)
{
	struct harness *hs = arg;
	char path[4096];
	DIR *d;
	struct dirent *de;
	struct sftp_outbox_entry e;

	snprintf(path, sizeof(path), "%s/outbox", hs->dir);
	if (!(d = opendir(path)))
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || harness_entry(hs, de->d_name, &e) < 0)
			continue;
		if (fn(&e, fnarg) != 0)
			break;
	}
	closedir(d);
	return 0;
}

static int
harness_open(void *arg, uint64_t id, const char *name, int *fd, uint64_t *size)
{
	struct harness *hs = arg;
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/outbox/%" PRIu64 "/%s", hs->dir, id, name);
	*fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0)
		return -1;
	if (fstat(*fd, &st) < 0) {
		close(*fd);
		*fd = -1;
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

static int
harness_begin(void *arg, const char *name, int *fd, uint64_t *token)
{
	struct harness *hs = arg;
	char path[4096];
	int i;

	for (i = 0; i < HARNESS_MAX_UPLOADS && hs->up[i].token; i++)
		;
	if (i == HARNESS_MAX_UPLOADS)
		return -1;
	*token = ++hs->next_token;
	snprintf(path, sizeof(path), "%s/staging/%" PRIu64, hs->dir, *token);
	*fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (*fd < 0)
		return -1;
	hs->up[i].fd = dup(*fd);
	hs->up[i].token = *token;
	snprintf(hs->up[i].name, sizeof(hs->up[i].name), "%s", name);
	return 0;
}

static int
harness_find(struct harness *hs, uint64_t token)
{
	for (int i = 0; i < HARNESS_MAX_UPLOADS; i++)
		if (hs->up[i].token == token)
			return i;
	return -1;
}

static void
harness_forget(struct harness *hs, int i)
{
	if (hs->up[i].fd >= 0)
		close(hs->up[i].fd);
	memset(&hs->up[i], 0, sizeof(hs->up[i]));
}

/* What the monitor checks, done here with sha256sum: a declared hash the file does not have. */
static int
harness_sha256_mismatch(const char *path, const char *sha256)
{
	char cmd[4200], got[65] = "";
	FILE *p;

	if (!sha256[0])
		return 0;
	snprintf(cmd, sizeof(cmd), "sha256sum < '%s'", path);
	if (!(p = popen(cmd, "r")))
		return 1;
	if (!fgets(got, sizeof(got), p))
		got[0] = '\0';
	pclose(p);
	return strcmp(got, sha256) != 0;
}

static int
harness_commit(void *arg, uint64_t token, const char *name, const char *reason, const char *sha256,
	       char *msg, size_t msglen)
{
	struct harness *hs = arg;
	char from[4096], to[4096], line[8192];
	struct stat st;
	int i = harness_find(hs, token), rc = -1;

	if (i < 0 || strcmp(hs->up[i].name, name) != 0) {
		snprintf(msg, msglen, "unknown upload");
		return -1;
	}
	snprintf(from, sizeof(from), "%s/staging/%" PRIu64, hs->dir, token);
	snprintf(to, sizeof(to), "%s/queued/%s", hs->dir, name);
	if (strncmp(name, "refuse", 6) == 0)
		snprintf(msg, msglen, "refused by the test backend");
	else if (harness_sha256_mismatch(from, sha256))
		snprintf(msg, msglen, "the bytes received do not match the declared SHA-256");
	else if (fstat(hs->up[i].fd, &st) < 0 || access(to, F_OK) == 0)
		snprintf(msg, msglen, "a file named %s is already queued", name);
	else if (rename(from, to) < 0)
		snprintf(msg, msglen, "cannot queue: %s", strerror(errno));
	else
		rc = 0;
	if (rc < 0) {
		unlink(from);
	} else {
		hs->next_request++;
		snprintf(msg, msglen, "import request %" PRIu64, hs->next_request);
		snprintf(line, sizeof(line), "%" PRIu64 " %s %lld %s", hs->next_request, name,
			 (long long)st.st_size, reason);
		harness_log(hs, "queued.log", line);
	}
	harness_forget(hs, i);
	return rc;
}

static void
harness_abort(void *arg, uint64_t token)
{
	struct harness *hs = arg;
	char path[4096], line[512];
	int i = harness_find(hs, token);

	snprintf(path, sizeof(path), "%s/staging/%" PRIu64, hs->dir, token);
	unlink(path);
	snprintf(line, sizeof(line), "%" PRIu64 " %s", token, i >= 0 ? hs->up[i].name : "?");
	harness_log(hs, "aborted.log", line);
	if (i >= 0)
		harness_forget(hs, i);
}

/* Writes all pending output; returns -1 when stdout is gone. */
static int
harness_flush(struct sftp_srv *s)
{
	size_t n;
	const void *p;

	while ((p = sftp_srv_output(s, &n)) != NULL) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		sftp_srv_output_done(s, (size_t)w);
	}
	return 0;
}

static int
harness_loop(struct sftp_srv *s)
{
	static unsigned char buf[65536];
	size_t have = 0, off = 0;
	ssize_t k;

	for (;;) {
		if (off < have) {
			k = sftp_srv_input(s, buf + off, have - off);
			if (k < 0) {
				fprintf(stderr, "sftp-harness: protocol error, closing\n");
				return -1;
			}
			off += (size_t)k;
		}
		/* Output first: the engine stops taking input while its output is backed up. */
		if (harness_flush(s) < 0)
			return -1;
		if (off < have)
			continue;
		k = read(STDIN_FILENO, buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return 0;
		have = (size_t)k;
		off = 0;
	}
}

int
main(int argc, char **argv)
{
	struct harness hs = {0};
	struct sftp_backend be = {0};
	struct sftp_srv *s;
	int rc;

	hs.dir = argc > 1 ? argv[1] : getenv("SFTP_HARNESS_DIR");
	if (!hs.dir) {
		fprintf(stderr, "usage: sftp-harness DIR (or SFTP_HARNESS_DIR)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	be.arg = &hs;
	be.allow_inbox = getenv("SFTP_HARNESS_NOINBOX") == NULL;
	be.require_checksum = getenv("SFTP_HARNESS_REQUIRE_CHECKSUM") != NULL;
	be.outbox_list = harness_list;
	be.outbox_open = harness_open;
	be.upload_begin = harness_begin;
	be.upload_commit = harness_commit;
	be.upload_abort = harness_abort;
	s = sftp_srv_new(&be);
	if (!s) {
		fprintf(stderr, "sftp-harness: out of memory\n");
		return 1;
	}
	rc = harness_loop(s);
	sftp_srv_free(s);
	return rc < 0 ? 1 : 0;
}
