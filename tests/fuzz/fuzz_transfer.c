/*
 * transfer/ parsers fed hostile bytes: the publication checks (every rule, over a table an
 * analyst wrote, UTF-8 or Shift_JIS), the parent's decoder of the confined checker's answer,
 * the request record decoder and the display sanitiser. The first byte picks the target:
 * 0 record decoder, 2 sanitiser, 4 checker answer, otherwise the checks (odd: t.csv, even:
 * t.tsv). Seeds: tests/fuzz/corpus/fuzz_transfer/ (the rule fixtures, prefixed).
 *   ./build-fuzz/bin/fuzz_transfer -max_total_time=600 tests/fuzz/corpus/fuzz_transfer
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "transfer/check.h"
#include "transfer/check_int.h"
#include "transfer/queue.h"

static struct config *cfg;
static struct check_report rep;
static struct request req;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct check_cells cells;
	char why[256], text[CHECK_REPORT_MAX];
	int fd;

	if (len < 1)
		return 0;
	if (!cfg) {
		cfg = calloc(1, sizeof(*cfg));
		strcpy(cfg->export_types[0], "csv");
		strcpy(cfg->export_types[1], "tsv");
		cfg->nexport_types = 2;
		cfg->export_max_size = 1 << 20;
		cfg->min_cell_count = 10;
		cfg->max_rows = 1000;
		strcpy(cfg->facilities[0], "H001");
		cfg->nfacilities = 1;
		(void)check_prepare(why, sizeof(why));
	}
	if (data[0] == 2) {
		char *in = malloc(len), *out = malloc(len + 1);

		if (in && out) {
			memcpy(in, data + 1, len - 1);
			in[len - 1] = '\0';
			queue_safe_text(in, out, len, data[len - 1] & 1);
			queue_safe_text(in, in, len, 1); /* in place */
		}
		free(in);
		free(out);
		return 0;
	}
	if (data[0] == 0) {
		struct req_summary s;

		(void)queue_decode(data + 1, len - 1, &req);
		(void)queue_decode_summary(data + 1, len - 1, &s);
		return 0;
	}
	if (data[0] == 4) {
		memset(&cells, 0, sizeof(cells));
		if (check_answer_decode(data + 1, len - 1, &rep, &cells) == 0)
			check_report_text(&rep, text, sizeof(text));
		check_cells_free(&cells);
		return 0;
	}
	if ((fd = memfd_create("fuzz", 0)) < 0)
		return 0;
	if (write(fd, data + 1, len - 1) == (ssize_t)(len - 1) &&
	    check_fd(cfg, fd, data[0] & 1 ? "t.csv" : "t.tsv", &rep, &cells, why, sizeof(why)) ==
		0) {
		check_report_text(&rep, text, sizeof(text));
		check_cells_free(&cells);
	}
	close(fd);
	return 0;
}
