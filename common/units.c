#include "common/units.h"

#include <stdio.h>
#include <string.h>

/* v = v * 10 + digit, refusing exactly the values past UINT64_MAX. */
static int
add_digit(uint64_t *v, char c)
{
	unsigned d = (unsigned)(c - '0');

	if (*v > UINT64_MAX / 10 || (*v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
		return -1;
	*v = *v * 10 + d;
	return 0;
}

static int
parse_scaled(const char *s, const char *suffixes, const uint64_t *scale, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (!s || !(*p >= '0' && *p <= '9'))
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if (add_digit(&v, *p) < 0)
			return -1;
	if (*p) {
		const char *hit = strchr(suffixes, *p);

		if (!hit || p[1] != '\0')
			return -1;
		mul = scale[hit - suffixes];
	}
	if (mul && v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

int
parse_u64_strict(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s || (s[0] == '0' && s[1]))
		return -1;
	for (; *s; s++)
		if (*s < '0' || *s > '9' || add_digit(&v, *s) < 0)
			return -1;
	*out = v;
	return 0;
}

static const uint64_t dur_scale[] = {1, 60, 3600, 86400};
static const uint64_t size_scale[] = {1024ull, 1024ull << 10, 1024ull << 20, 1024ull << 30};

int
parse_duration(const char *s, uint64_t *seconds)
{
	return parse_scaled(s, "smhd", dur_scale, seconds);
}

int
parse_size(const char *s, uint64_t *bytes)
{
	return parse_scaled(s, "KMGT", size_scale, bytes);
}

static void
format_scaled(uint64_t v, const char *suffixes, const uint64_t *scale, int n, char *out,
	      unsigned outlen)
{
	for (int i = n - 1; i >= 0; i--) {
		if (v && v % scale[i] == 0) {
			snprintf(out, outlen, "%llu%c", (unsigned long long)(v / scale[i]),
				 suffixes[i]);
			return;
		}
	}
	snprintf(out, outlen, "%llu", (unsigned long long)v);
}

void
format_duration(uint64_t seconds, char *out, unsigned outlen)
{
	format_scaled(seconds, "smhd", dur_scale, 4, out, outlen);
}

void
format_size(uint64_t bytes, char *out, unsigned outlen)
{
	format_scaled(bytes, "KMGT", size_scale, 4, out, outlen);
}
