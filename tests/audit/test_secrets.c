/* Secrets at rest: AES-256-GCM must refuse any change to ciphertext, tag, nonce or owner. */
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

#include "common/secrets.h"

static char dir[64];
static char keypath[128];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/wsgate-secrets-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(keypath, sizeof(keypath), "%s/secrets.key", dir);
	assert_int_equal(secrets_create(keypath), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(keypath);
	rmdir(dir);
	return 0;
}

static void
test_create_is_idempotent_and_private(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(secrets_create(keypath), 1);
	assert_int_equal(stat(keypath, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void
test_group_readable_key_is_refused(void **state)
{
	struct secrets s;

	(void)state;
	assert_int_equal(chmod(keypath, 0640), 0);
	assert_int_not_equal(secrets_load(keypath, &s), 0);
	assert_int_equal(chmod(keypath, 0600), 0);
	assert_int_equal(secrets_load(keypath, &s), 0);
	secrets_wipe(&s);
}

static void
test_seal_roundtrip_and_tamper(void **state)
{
	struct secrets s;
	const uint8_t seed[20] = "12345678901234567890";
	uint8_t sealed[64], out[64];
	size_t n, m;

	(void)state;
	assert_int_equal(secrets_load(keypath, &s), 0);
	assert_int_equal(secrets_seal(&s, "alice", 5, seed, sizeof(seed), sealed, &n), 0);
	assert_int_equal(n, sizeof(seed) + SEAL_OVERHEAD);
	assert_int_equal(secrets_open(&s, "alice", 5, sealed, n, out, &m), 0);
	assert_int_equal(m, sizeof(seed));
	assert_memory_equal(out, seed, sizeof(seed));

	/* Another owner cannot use alice's seed. */
	assert_int_not_equal(secrets_open(&s, "mallory", 7, sealed, n, out, &m), 0);
	/* Every byte matters: nonce, ciphertext, tag. */
	for (size_t i = 0; i < n; i++) {
		sealed[i] ^= 0x80;
		assert_int_not_equal(secrets_open(&s, "alice", 5, sealed, n, out, &m), 0);
		sealed[i] ^= 0x80;
	}
	/* Truncated input. */
	assert_int_not_equal(secrets_open(&s, "alice", 5, sealed, SEAL_OVERHEAD - 1, out, &m), 0);
	secrets_wipe(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_is_idempotent_and_private),
	    cmocka_unit_test(test_group_readable_key_is_refused),
	    cmocka_unit_test(test_seal_roundtrip_and_tamper),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
