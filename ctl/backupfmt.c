/* Backup files and manifest helpers (see backupfmt.h). */
#include "ctl/backupfmt.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>
#include <openssl/evp.h>

#define COPY_BUF (1 << 20)

static void
to_hex(const unsigned char *md, char hex[BACKUP_HASH_HEX])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -(w < 0 ? errno : EIO);
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads src from offset 0 into dst, hashing the same bytes, up to max. */
static int
copy_hash(int src, int dst, uint64_t max, unsigned char md[32], uint64_t *size)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *buf = malloc(COPY_BUF);
	uint64_t off = 0;
	unsigned mdlen = 0;
	int rc = 0;

	if (!ctx || !buf || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rc = -ENOMEM;
		goto out;
	}
	while (off < max) {
		size_t want = max - off < COPY_BUF ? (size_t)(max - off) : COPY_BUF;
		ssize_t n = pread(src, buf, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			rc = -EIO;
			goto out;
		}
		if ((rc = write_all(dst, buf, (size_t)n)) < 0)
			goto out;
		off += (uint64_t)n;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
		rc = -EIO;
	*size = off;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return rc;
}

int
backup_copy_file(int srcfd, const char *dst, mode_t mode, uint64_t max, char hex[BACKUP_HASH_HEX],
		 uint64_t *size)
{
	unsigned char md[32];
	int fd, rc;

	fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	rc = copy_hash(srcfd, fd, max, md, size);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		unlink(dst);
		return rc;
	}
	to_hex(md, hex);
	return 0;
}

int
backup_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (syncfs(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int
backup_join(char *out, size_t outlen, const char *a, const char *b)
{
	int n = snprintf(out, outlen, "%s/%s", a, b);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int
backup_relpath_ok(const char *rel)
{
	const char *p = rel, *seg = rel;

	if (!*rel || *rel == '/' || strlen(rel) > 1024)
		return 0;
	for (;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t n = (size_t)(p - seg);

			if (n == 0 || (n == 1 && seg[0] == '.') ||
			    (n == 2 && seg[0] == '.' && seg[1] == '.'))
				return 0;
			if (*p == '\0')
				return 1;
			seg = p + 1;
		} else if (*p <= ' ' || *p > '~') {
			return 0;
		}
	}
}

struct witness_find {
	char *out;
	size_t outlen;
};

static int
witness_handler(void *user, const char *section, const char *name, const char *value)
{
	struct witness_find *w = user;

	if (strcmp(section, "audit") == 0 && strcmp(name, "witness") == 0)
		snprintf(w->out, w->outlen, "%s", value);
	return 1;
}

void
backup_witness_path(const char *config_path, char *out, size_t outlen)
{
	struct witness_find w = {out, outlen};

	out[0] = '\0';
	/* config_load has already read and checked this file; a failure here leaves "". */
	if (ini_parse(config_path, witness_handler, &w) != 0)
		out[0] = '\0';
	/* inih keeps an inline "; comment" only on continuation lines; strip trailing blanks. */
	for (size_t n = strlen(out); n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'); n--)
		out[n - 1] = '\0';
}
