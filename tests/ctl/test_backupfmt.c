/*
 * Unit tests of ctl/backupfmt.c: the paths a MANIFEST may name, the copy that hashes what it
 * writes (checked against OpenSSL's one-shot SHA-256 of the same bytes), the length cap that
 * takes the witness up to a position, and reading `[audit] witness` whether or not the config
 * has it.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "ctl/backupfmt.h"

static char dir[] = "/tmp/wsgate-backupfmt-XXXXXX";

static void
hex_of(const unsigned char *p, size_t n, char out[BACKUP_HASH_HEX])
{
	unsigned char md[32];

	SHA256(p, n, md);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

static void
test_relpath(void **state)
{
	(void)state;
	assert_true(backup_relpath_ok("db/data.mdb"));
	assert_true(backup_relpath_ok("recordings/2026/12/a.cast"));
	assert_false(backup_relpath_ok(""));
	assert_false(backup_relpath_ok("/etc/passwd"));
	assert_false(backup_relpath_ok("../x"));
	assert_false(backup_relpath_ok("a/../../x"));
	assert_false(backup_relpath_ok("a/./b"));
	assert_false(backup_relpath_ok("a//b"));
	assert_false(backup_relpath_ok("a/"));
	assert_false(backup_relpath_ok("a b"));
	assert_false(backup_relpath_ok("a\nfile 00 1 x"));
	assert_false(backup_relpath_ok("caf\xc3\xa9"));
}

static void
test_copy_hash(void **state)
{
	char src[64], dst[64], want[BACKUP_HASH_HEX], got[BACKUP_HASH_HEX];
	size_t n = (3u << 20) + 17; /* more than one copy buffer, not a multiple of it */
	unsigned char *buf = malloc(n);
	uint64_t size;
	struct stat sb;
	int fd;

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 131 + (i >> 9));
	snprintf(src, sizeof(src), "%s/src", dir);
	snprintf(dst, sizeof(dst), "%s/dst", dir);
	write_file(src, buf, n);
	fd = open(src, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(backup_copy_file(fd, dst, 0600, UINT64_MAX, got, &size), 0);
	hex_of(buf, n, want);
	assert_string_equal(got, want);
	assert_int_equal(size, n);
	assert_int_equal(stat(dst, &sb), 0);
	assert_int_equal(sb.st_size, (off_t)n);
	assert_int_equal(sb.st_mode & 07777, 0600);
	/* O_EXCL: never over an existing file. */
	assert_int_equal(backup_copy_file(fd, dst, 0600, UINT64_MAX, got, &size), -EEXIST);
	unlink(dst);
	/* The witness case: only up to the length it had. */
	assert_int_equal(backup_copy_file(fd, dst, 0600, 1000, got, &size), 0);
	hex_of(buf, 1000, want);
	assert_string_equal(got, want);
	assert_int_equal(size, 1000);
	close(fd);
	unlink(dst);
	unlink(src);
	free(buf);
}

static void
test_witness_path(void **state)
{
	char conf[64], out[256];

	(void)state;
	snprintf(conf, sizeof(conf), "%s/wsgate.conf", dir);
	write_file(conf,
		   "[gateway]\nstate_dir = /x\n[audit]\nrecord = analyst\n"
		   "witness = /var/log/wsgate/audit.witness   ; append-only\n",
		   strlen("[gateway]\nstate_dir = /x\n[audit]\nrecord = analyst\n"
			  "witness = /var/log/wsgate/audit.witness   ; append-only\n"));
	backup_witness_path(conf, out, sizeof(out));
	assert_string_equal(out, "/var/log/wsgate/audit.witness");
	write_file(conf, "[gateway]\nstate_dir = /x\nwitness = /not/audit\n",
		   strlen("[gateway]\nstate_dir = /x\nwitness = /not/audit\n"));
	backup_witness_path(conf, out, sizeof(out));
	assert_string_equal(out, "");
	unlink(conf);
	backup_witness_path(conf, out, sizeof(out)); /* no file: no witness */
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_relpath),
	    cmocka_unit_test(test_copy_hash),
	    cmocka_unit_test(test_witness_path),
	};
	int rc;

	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
