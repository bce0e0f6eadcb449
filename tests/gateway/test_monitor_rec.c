/* The monitor's half of recordings (gateway/monitor_rec.c) against a fake worker: what comes
 * down the pipe is in the file and in the hash; a recording past its cap is cut off and the
 * pipe closed (the worker's next write fails, which ends the channel). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "gateway/monitor_rec.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/wsgate-monrec-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void
begin(struct monitor_rec *r, uint64_t id, uint64_t cap, int *wr)
{
	struct recording_header h = {
	    .id = id, .user = "ann", .project = "p1", .kind = "exec", .command = "echo \"hi\"\n"};
	char why[256];

	assert_int_equal(monitor_rec_begin(r, dir, &h, cap, wr, why, sizeof(why)), 0);
}

static void
test_copied_and_hashed(void **state)
{
	static const char line[] = "[0.100000, \"o\", \"hello\"]\n";
	struct monitor_rec r;
	char path[128], detail[256], hex[65], buf[4096];
	unsigned char md[32];
	unsigned int mdlen;
	struct stat st;
	FILE *f;
	size_t n;
	int wr;

	(void)state;
	begin(&r, 7, 0, &wr);
	assert_int_equal(write(wr, line, sizeof(line) - 1), (ssize_t)(sizeof(line) - 1));
	assert_int_equal(monitor_rec_pump(&r), 0); /* the worker's end is still open */
	close(wr);
	assert_int_equal(monitor_rec_pump(&r), 1);
	monitor_rec_end(&r, detail, sizeof(detail));
	snprintf(path, sizeof(path), "%s/recordings/7.cast", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(path, "rb");
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_non_null(strstr(buf, "\"user\": \"ann\""));
	assert_non_null(strstr(buf, "\"command\": \"echo \\\"hi\\\"\\n\""));
	assert_memory_equal(buf + n - (sizeof(line) - 1), line, sizeof(line) - 1);
	EVP_Digest(buf, n, md, &mdlen, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	assert_non_null(strstr(detail, hex));
	assert_null(strstr(detail, "recording_failed"));
}

static void
test_cap_cuts_off(void **state)
{
	char big[8192], detail[256];
	struct monitor_rec r;
	int wr;

	(void)state;
	memset(big, 'x', sizeof(big));
	begin(&r, 8, 4096, &wr);
	assert_int_equal(write(wr, big, sizeof(big)), (ssize_t)sizeof(big));
	assert_int_equal(monitor_rec_pump(&r), 1); /* cut off: as if at its end */
	assert_true(r.file.bytes <= 4096);
	assert_int_equal(write(wr, big, 1), -1); /* the worker's next write fails (EPIPE) */
	close(wr);
	monitor_rec_end(&r, detail, sizeof(detail));
	assert_non_null(strstr(detail, "recording_failed=1"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_copied_and_hashed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cap_cuts_off, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
