/*
 * blob_copy_hash: the copy is byte-identical and the hash is OpenSSL's one-shot SHA-256 of the
 * same bytes, at every size around the 4 KiB direct-I/O block and the 4 MiB buffer, on the disk
 * (direct writes) and on tmpfs; the limit, a source read from its current offset, a pipe, and
 * the caller's file flags are kept. Multi-buffer copies run repeatedly: the stages hand buffers
 * to each other and a hand-over race shows as a wrong hash here.
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
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "common/fsutil.h"
#include "common/nitems.h"
#include "transfer/blob.h"

#define MIB (1u << 20)

static const char *dirs[] = {"/var/tmp", "/dev/shm"};

static uint8_t *
random_bytes(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	assert_int_equal(RAND_bytes(p, (int)n), 1);
	return p;
}

/* An unnamed file in dir holding data. */
static int
file_with(const char *dir, const uint8_t *data, size_t n)
{
	int fd = open(dir, O_TMPFILE | O_RDWR, 0600);

	assert_true(fd >= 0);
	assert_true(write_all(fd, data, n) == (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void
assert_file_is(int fd, const uint8_t *data, size_t n)
{
	uint8_t *got = malloc(n + 1);
	struct stat sb;

	assert_non_null(got);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(sb.st_size, n);
	assert_true(pread(fd, got, n + 1, 0) == (ssize_t)n);
	assert_memory_equal(got, data, n);
	free(got);
}

static void
copy_and_check(const char *dir, size_t n)
{
	uint8_t *data = random_bytes(n), want[32], got[32];
	int src = file_with(dir, data, n), dst = open(dir, O_TMPFILE | O_RDWR, 0600);
	int flags = fcntl(dst, F_GETFL);
	uint64_t size = 0;

	assert_true(dst >= 0);
	SHA256(data, n, want);
	assert_int_equal(blob_copy_hash(src, 1, dst, UINT64_MAX, got, &size), 0);
	assert_int_equal(size, n);
	assert_memory_equal(got, want, 32);
	assert_file_is(dst, data, n);
	assert_int_equal(fcntl(dst, F_GETFL), flags); /* no O_DIRECT left behind */
	close(src);
	close(dst);
	free(data);
}

static void
test_sizes(void **state)
{
	static const size_t sizes[] = {0,
				       1,
				       4095,
				       4096,
				       4097,
				       4 * MIB - 1,
				       4 * MIB,
				       4 * MIB + 1,
				       16 * MIB, /* exactly the ring */
				       17 * MIB + 4096,
				       37 * MIB + 123};

	(void)state;
	for (size_t d = 0; d < nitems(dirs); d++)
		for (size_t i = 0; i < nitems(sizes); i++)
			copy_and_check(dirs[d], sizes[i]);
}

static void
test_repeated_multibuffer(void **state)
{
	(void)state;
	for (int i = 0; i < 20; i++)
		copy_and_check("/var/tmp", 29 * MIB + 7);
}

static void
test_hash_only_and_limit(void **state)
{
	size_t n = 9 * MIB + 5;
	uint8_t *data = random_bytes(n), want[32], got[32];
	int src = file_with("/var/tmp", data, n);
	uint64_t size;

	(void)state;
	SHA256(data, n, want);
	assert_int_equal(blob_copy_hash(src, 1, -1, n, got, &size), 0); /* exactly the limit */
	assert_memory_equal(got, want, 32);
	assert_int_equal(blob_copy_hash(src, 1, -1, n - 1, got, &size), -EFBIG);
	close(src);
	free(data);
}

static void
test_limit_with_destination(void **state)
{
	size_t n = 5 * MIB;
	uint8_t *data = random_bytes(n), got[32];
	int src = file_with("/var/tmp", data, n), dst = open("/var/tmp", O_TMPFILE | O_RDWR, 0600);
	uint64_t size;

	(void)state;
	assert_int_equal(blob_copy_hash(src, 1, dst, n - 1, got, &size), -EFBIG);
	close(src);
	close(dst);
	free(data);
}

/* Not from_start: the bytes from the current offset on, and no clone of the whole file. */
static void
test_from_current_offset(void **state)
{
	size_t n = 6 * MIB + 3, skip = 4096 + 17;
	uint8_t *data = random_bytes(n), want[32], got[32];
	int src = file_with("/var/tmp", data, n), dst = open("/var/tmp", O_TMPFILE | O_RDWR, 0600);
	uint64_t size;

	(void)state;
	assert_int_equal(lseek(src, (off_t)skip, SEEK_SET), (off_t)skip);
	SHA256(data + skip, n - skip, want);
	assert_int_equal(blob_copy_hash(src, 0, dst, UINT64_MAX, got, &size), 0);
	assert_int_equal(size, n - skip);
	assert_memory_equal(got, want, 32);
	assert_file_is(dst, data + skip, n - skip);
	close(src);
	close(dst);
	free(data);
}

static void
test_pipe_source(void **state)
{
	size_t n = 3 * MIB + 99;
	uint8_t *data = random_bytes(n), want[32], got[32];
	int p[2], dst = open("/var/tmp", O_TMPFILE | O_RDWR, 0600);
	uint64_t size;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		_exit(write_all(p[1], data, n) == (ssize_t)n ? 0 : 1);
	}
	close(p[1]);
	SHA256(data, n, want);
	assert_int_equal(blob_copy_hash(p[0], 0, dst, UINT64_MAX, got, &size), 0);
	assert_int_equal(size, n);
	assert_memory_equal(got, want, 32);
	assert_file_is(dst, data, n);
	close(p[0]);
	close(dst);
	free(data);
}

/* A destination that cannot be written: the error comes back, nothing hangs. */
static void
test_write_error(void **state)
{
	size_t n = 9 * MIB;
	uint8_t *data = random_bytes(n), got[32];
	int src = file_with("/var/tmp", data, n), dst = open("/dev/full", O_WRONLY);
	uint64_t size;

	(void)state;
	assert_true(dst >= 0);
	assert_int_equal(blob_copy_hash(src, 0, dst, UINT64_MAX, got, &size), -ENOSPC);
	close(src);
	close(dst);
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_repeated_multibuffer),
	    cmocka_unit_test(test_hash_only_and_limit),
	    cmocka_unit_test(test_limit_with_destination),
	    cmocka_unit_test(test_from_current_offset),
	    cmocka_unit_test(test_pipe_source),
	    cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
