/* Unit tests of sandbox/cmdmsg.c: the command sent with a sandbox's go-ahead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/codec.h"
#include "sandbox/cmdmsg.h"

static void
test_round_trip(void **state)
{
	char *argv[] = {"wsgate-init", "--", "/bin/sh", "-c", "echo 'a b'", NULL};
	char *envp[] = {"HOME=/tmp", "LANG=C.UTF-8", "EMPTY=", NULL};
	static struct cmdmsg c;
	char **a = c.argv, **e = c.envp;
	uint8_t *msg;
	size_t len = cmdmsg_pack(argv, envp, &msg);

	assert_true(len > 8);
	assert_int_equal(cmdmsg_unpack(msg, len, &c), 0);
	for (int i = 0; argv[i]; i++)
		assert_string_equal(a[i], argv[i]);
	assert_null(a[5]);
	for (int i = 0; envp[i]; i++)
		assert_string_equal(e[i], envp[i]);
	assert_null(e[3]);
	free(msg);
}

static void
test_no_environment(void **state)
{
	char *argv[] = {"x", NULL};
	static struct cmdmsg c;
	uint8_t *msg;
	size_t len = cmdmsg_pack(argv, NULL, &msg);

	assert_int_equal(len, 10);
	assert_int_equal(cmdmsg_unpack(msg, len, &c), 0);
	assert_string_equal(c.argv[0], "x");
	assert_null(c.argv[1]);
	assert_null(c.envp[0]);
	free(msg);
}

static void
test_pack_refuses(void **state)
{
	char *none[] = {NULL};
	char *many[CMDMSG_MAX_STRINGS + 2];
	char *big[] = {NULL, NULL};
	uint8_t *msg;

	assert_int_equal(cmdmsg_pack(none, NULL, &msg), 0); /* no program */
	assert_null(msg);
	for (int i = 0; i < CMDMSG_MAX_STRINGS + 1; i++)
		many[i] = "a";
	many[CMDMSG_MAX_STRINGS + 1] = NULL;
	assert_int_equal(cmdmsg_pack(many, NULL, &msg), 0);
	big[0] = malloc(CMDMSG_MAX);
	memset(big[0], 'a', CMDMSG_MAX - 1);
	big[0][CMDMSG_MAX - 1] = '\0';
	assert_int_equal(cmdmsg_pack(big, NULL, &msg), 0); /* with the header it does not fit */
	free(big[0]);
}

/* Every malformed message is refused and leaves empty vectors. */
static void
test_unpack_refuses(void **state)
{
	static struct cmdmsg c;
	uint8_t m[64];

	memset(m, 0, sizeof(m));
	assert_int_equal(cmdmsg_unpack(m, 7, &c), -1); /* short header */
	codec_be32_put(m, 0);
	assert_int_equal(cmdmsg_unpack(m, 8, &c), -1); /* argc 0 */
	codec_be32_put(m, 1);
	codec_be32_put(m + 4, 0);
	memcpy(m + 8, "abc", 3);
	assert_int_equal(cmdmsg_unpack(m, 11, &c), -1); /* no NUL */
	assert_int_equal(cmdmsg_unpack(m, 12, &c), 0);	/* control: "abc\0" */
	assert_string_equal(c.argv[0], "abc");
	assert_int_equal(cmdmsg_unpack(m, 13, &c), -1); /* trailing byte */
	assert_null(c.argv[0]);
	codec_be32_put(m + 4, 1);
	assert_int_equal(cmdmsg_unpack(m, 12, &c), -1); /* an env string missing */
	codec_be32_put(m, CMDMSG_MAX_STRINGS);
	codec_be32_put(m + 4, 1);
	assert_int_equal(cmdmsg_unpack(m, 12, &c), -1); /* too many strings */
	codec_be32_put(m, 0xffffffffu);
	codec_be32_put(m + 4, 0xffffffffu);
	assert_int_equal(cmdmsg_unpack(m, 12, &c), -1); /* counts that overflow */
	assert_int_equal(cmdmsg_unpack(m, CMDMSG_MAX + 1, &c), -1);
	assert_null(c.argv[0]);
	assert_null(c.envp[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_no_environment),
	    cmocka_unit_test(test_pack_refuses),
	    cmocka_unit_test(test_unpack_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
