/* UTC timestamps (see utctime.h). */
#include "common/utctime.h"

#include <string.h>
#include <time.h>

#include "common/nitems.h"

/* Each style as a layout: a letter is a field, anything else is copied. */
static const char *const utc_layouts[] = {
    [UTC_DAY] = "Y-m-d",
    [UTC_MINUTE] = "Y-m-d H:M",
    [UTC_ISO8601] = "Y-m-dTH:M:SZ",
};

static char *
utc_digits(char *p, unsigned v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + n;
}

/* The value and width of a layout letter, or 0 for a literal character. */
static int
utc_field(const struct tm *tm, char c, unsigned *v)
{
	switch (c) {
	case 'Y':
		*v = (unsigned)tm->tm_year + 1900;
		return 4;
	case 'm':
		*v = (unsigned)tm->tm_mon + 1;
		return 2;
	case 'd':
		*v = (unsigned)tm->tm_mday;
		return 2;
	case 'H':
		*v = (unsigned)tm->tm_hour;
		return 2;
	case 'M':
		*v = (unsigned)tm->tm_min;
		return 2;
	case 'S':
		*v = (unsigned)tm->tm_sec;
		return 2;
	}
	return 0;
}

int
utc_format(uint64_t t, enum utc_style style, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	const char *l;
	struct tm tm;
	char buf[UTC_MAX_LEN];
	/* Straight into out when it surely fits: `transfer list` calls this 100,000 times. */
	char *start = outlen >= UTC_MAX_LEN ? out : buf, *p = start;
	size_t n;

	if (outlen > 0)
		out[0] = '\0';
	if ((unsigned)style >= nitems(utc_layouts) || t > INT64_MAX || !gmtime_r(&tt, &tm) ||
	    tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return -1;
	for (l = utc_layouts[style]; *l != '\0'; l++) {
		unsigned v;
		int w = utc_field(&tm, *l, &v);

		if (w > 0)
			p = utc_digits(p, v, w);
		else
			*p++ = *l;
	}
	*p = '\0';
	n = (size_t)(p - start);
	if (start == buf) {
		if (n >= outlen)
			return -1;
		memcpy(out, buf, n + 1);
	}
	return (int)n;
}

int
utc_parse_day(const char *s, uint64_t *out)
{
	char again[UTC_MAX_LEN];
	const char *end;
	struct tm tm;
	time_t t;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	t = timegm(&tm);
	/* strptime accepts 2026-02-31 and timegm makes it March 3: written back, it differs. */
	if (t < 0 || utc_format((uint64_t)t, UTC_DAY, again, sizeof(again)) < 0 ||
	    strcmp(again, s) != 0)
		return -1;
	*out = (uint64_t)t;
	return 0;
}
