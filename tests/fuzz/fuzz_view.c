/*
 * transfer/view.c fed hostile bytes: the reviewer's view of a file an analyst wrote. The first
 * byte picks the name (csv, tsv, txt), the width (narrow or none), the marking and a few marks;
 * the rest is the file. The output goes to a memfd whose bytes are checked for a raw ESC in
 * text mode (only the renderer's own SGR 7/27 may carry one on a terminal).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "transfer/view.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char *names[] = {"t.csv", "t.tsv", "t.txt", "t"};
	struct view_mark marks[3] = {{1, 1}, {0, 2}, {(uint32_t)len % 7, (uint32_t)len % 5}};
	struct view_opts o = {0};
	char why[256], buf[65536];
	int in, out;
	ssize_t n;

	if (len < 1)
		return 0;
	o.terminal = data[0] & 4;
	o.width = data[0] & 8 ? 24 : 0;
	o.rows = data[0] & 16 ? 3 : 0;
	in = memfd_create("in", 0);
	out = memfd_create("out", 0);
	if (in < 0 || out < 0 || write(in, data + 1, len - 1) != (ssize_t)(len - 1))
		abort();
	if (view_render(in, names[data[0] & 3], marks, 3, &o, out, why, sizeof(why)) < 0)
		abort();
	if (!o.terminal && lseek(out, 0, SEEK_SET) == 0)
		while ((n = read(out, buf, sizeof(buf))) > 0)
			if (memchr(buf, 0x1b, (size_t)n))
				abort();
	close(in);
	close(out);
	return 0;
}
