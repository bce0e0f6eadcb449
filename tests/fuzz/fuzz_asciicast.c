/*
 * libFuzzer target for common/asciicast.c: wsgatectl's replay parses recording lines that came
 * from the worker, so they are hostile. Any input: parsing never reads out of bounds, and
 * encoding the input as an event then parsing it gives the same bytes back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/asciicast.h"

static char line[ASCIICAST_LINE_MAX];
static uint8_t out[ASCIICAST_DATA_MAX * 4];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	double t;
	char code;
	size_t n, ll;

	(void)asciicast_parse_event((const char *)data, len, &t, &code, out, sizeof(out), &n);
	if (len > ASCIICAST_DATA_MAX)
		return 0;
	ll = asciicast_event(2.25, 'o', data, len, line, sizeof(line));
	if (ll == 0 || asciicast_parse_event(line, ll, &t, &code, out, sizeof(out), &n) != 0 ||
	    n != len || code != 'o' || memcmp(out, data, len) != 0)
		abort();
	return 0;
}
