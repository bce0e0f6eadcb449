/* Session recordings on disk (recording.h). */
#include "common/recording.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/asciicast.h"
#include "common/fsutil.h"
#include "common/why.h"

/* The recordings directory, created 0700 if absent; refused if it is a symlink or not root's. */
static int
open_dir(const char *state_dir, int create, char *why, size_t whylen)
{
	char path[4200];
	struct stat st;
	int fd;

	if (snprintf(path, sizeof(path), "%s/" RECORDING_DIR, state_dir) >= (int)sizeof(path))
		return why_set(why, whylen, "%s: path too long", state_dir);
	if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
		return why_set(why, whylen, "mkdir %s: %s", path, strerror(errno));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return why_set(why, whylen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
		close(fd);
		return why_set(why, whylen, "%s: not a directory of ours with mode 0700", path);
	}
	return fd;
}

/* Appends the JSON string of s (NULL: "") after "key": to the header. */
static size_t
header_field(char *out, size_t cap, const char *key, const char *s)
{
	int n = snprintf(out, cap, ", \"%s\": ", key);
	size_t q;

	if (n < 0 || (size_t)n >= cap)
		return 0;
	s = s ? s : "";
	q = asciicast_quote((const uint8_t *)s, strlen(s), out + n, cap - (size_t)n);
	return q ? (size_t)n + q : 0;
}

static int
write_header(struct recording *r, const struct recording_header *h)
{
	char buf[16384], qterm[512];
	const char *term;
	const char *keys[] = {"user", "role", "project", "area", "addr", "kind", "command"};
	const char *vals[] = {h->user, h->role, h->project, h->area, h->addr, h->kind, h->command};
	size_t o, n;
	int k;

	k = snprintf(buf, sizeof(buf),
		     "{\"version\": 2, \"width\": %u, \"height\": %u, \"timestamp\": %llu, "
		     "\"id\": %llu",
		     h->cols ? h->cols : 80, h->rows ? h->rows : 24,
		     (unsigned long long)h->timestamp, (unsigned long long)h->id);
	if (k < 0 || (size_t)k >= sizeof(buf))
		return -1;
	o = (size_t)k;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if ((n = header_field(buf + o, sizeof(buf) - o, keys[i], vals[i])) == 0)
			return -1;
		o += n;
	}
	term = h->term && *h->term ? h->term : "xterm";
	if ((n = asciicast_quote((const uint8_t *)term, strlen(term), qterm, sizeof(qterm))) == 0)
		return -1;
	k = snprintf(buf + o, sizeof(buf) - o, ", \"env\": {\"TERM\": %.*s}}\n", (int)n, qterm);
	if (k < 0 || (size_t)k >= sizeof(buf) - o)
		return -1;
	o += (size_t)k;
	return recording_write(r, buf, o);
}

int
recording_create(const char *state_dir, const struct recording_header *h, struct recording *r,
		 char *why, size_t whylen)
{
	char name[32];
	int dfd;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if ((dfd = open_dir(state_dir, 1, why, whylen)) < 0)
		return -1;
	snprintf(name, sizeof(name), "%llu.cast", (unsigned long long)h->id);
	r->fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
		       0600);
	close(dfd);
	if (r->fd < 0)
		return why_set(why, whylen, "recording %s: %s", name, strerror(errno));
	if ((r->sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL) != 1 || write_header(r, h) < 0) {
		why_set(why, whylen, "recording %s: %s", name, strerror(errno ? errno : ENOMEM));
		recording_discard(r);
		return -1;
	}
	return 0;
}

int
recording_write(struct recording *r, const void *p, size_t n)
{
	if (r->fd < 0 || r->failed)
		return -1;
	/* No buffering: a crash of any process loses nothing that reached here. */
	if (write_all(r->fd, p, n) < 0 || EVP_DigestUpdate(r->sha, p, n) != 1) {
		r->failed = 1;
		return -1;
	}
	r->bytes += n;
	return 0;
}

int
recording_finish(struct recording *r, uint8_t sha256[32], uint64_t *bytes)
{
	unsigned int len = 32;
	int rc = 0;

	if (r->fd < 0)
		return -1;
	if (fsync(r->fd) < 0 || close(r->fd) < 0)
		rc = -1;
	r->fd = -1;
	if (EVP_DigestFinal_ex(r->sha, sha256, &len) != 1 || len != 32)
		rc = -1;
	EVP_MD_CTX_free(r->sha);
	r->sha = NULL;
	*bytes = r->bytes;
	return r->failed ? -1 : rc;
}

void
recording_discard(struct recording *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	EVP_MD_CTX_free(r->sha);
	r->sha = NULL;
}

int
recording_open(const char *state_dir, uint64_t id, char *why, size_t whylen)
{
	char name[32];
	int dfd, fd;

	if ((dfd = open_dir(state_dir, 0, why, whylen)) < 0)
		return -1;
	snprintf(name, sizeof(name), "%llu.cast", (unsigned long long)id);
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	close(dfd);
	if (fd < 0)
		return why_set(why, whylen, "recording %llu: %s", (unsigned long long)id,
			       strerror(errno));
	return fd;
}
