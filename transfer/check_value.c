/*
 * What one cell says. A count is an integer written any common way (SPEC "small_count"): 3,
 * 3.0, 1,234, full-width ３ and １，２３４. Anything with a real fraction, a sign or a percent
 * sign is a number but not a count (means, rates, differences). Suppression marks are the ones
 * the SPEC lists, plus "<N" and "≤N" for any N.
 */
#include <string.h>
#include <strings.h>

#include "common/nitems.h"
#include "transfer/check_int.h"

#define COUNT_MAX 1000000000000000ull

size_t
value_trim(const char **sp, size_t len)
{
	const char *s = *sp;

	/* the common case: nothing to trim (the ideographic space ends in 0x80) */
	if (len == 0 || ((unsigned char)s[0] > ' ' && (unsigned char)s[0] != 0xe3 &&
			 (unsigned char)s[len - 1] > ' ' && (unsigned char)s[len - 1] != 0x80))
		return len;
	for (;;) {
		if (len && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
			s++, len--;
		} else if (len >= 3 && (unsigned char)*s == 0xe3 &&
			   memcmp(s, "\xe3\x80\x80", 3) == 0) {
			s += 3, len -= 3; /* U+3000 ideographic space */
		} else
			break;
	}
	for (;;) {
		if (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
			    s[len - 1] == '\n'))
			len--;
		else if (len >= 3 && (unsigned char)s[len - 3] == 0xe3 &&
			 memcmp(s + len - 3, "\xe3\x80\x80", 3) == 0)
			len -= 3;
		else
			break;
	}
	*sp = s;
	return len;
}

/* One digit at s (ASCII or full-width U+FF10..U+FF19): its value and byte length, or -1. */
static inline int
digit_at(const unsigned char *s, size_t len, size_t *adv)
{
	if (len >= 1 && s[0] >= '0' && s[0] <= '9') {
		*adv = 1;
		return s[0] - '0';
	}
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbc && s[2] >= 0x90 && s[2] <= 0x99) {
		*adv = 3;
		return s[2] - 0x90;
	}
	return -1;
}

static size_t
sep_at(const unsigned char *s, size_t len, char which)
{
	if (len >= 1 && s[0] == (unsigned char)which)
		return 1;
	/* full-width comma U+FF0C, full-width full stop U+FF0E */
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbc && s[2] == (which == ',' ? 0x8c : 0x8e))
		return 3;
	return 0;
}

struct word {
	const char *s;
	uint8_t len;
};
#define W(x)                                                                                       \
	{                                                                                          \
		x, sizeof(x) - 1                                                                   \
	}

/* clang-format off */
static const struct word suppression_marks[] = {
	W("-"), W("*"), W("**"), W("***"), W("x"), W("X"), W("xx"), W("NA"), W("N/A"), W("n/a"),
	W("na"), W("秘匿"), W("\xe2\x80\x94") /* — */, W("\xe2\x80\x93") /* – */,
	W("\xe2\x88\x92") /* − */, W("\xef\xbc\x8d") /* － */, W("\xef\xbc\x8a") /* ＊ */,
	W("\xc3\x97") /* × */,
};
/* clang-format on */

/* Every cell of a table is asked, so the common answer (no) comes after a byte or two. */
static int
is_suppression(const unsigned char *s, size_t len)
{
	size_t i, k = 0;

	if (len <= 6 && (s[0] >= 0x80 || s[0] == '-' || s[0] == '*' || s[0] == 'x' || s[0] == 'X' ||
			 s[0] == 'N' || s[0] == 'n'))
		for (i = 0; i < nitems(suppression_marks); i++)
			if (suppression_marks[i].len == len &&
			    memcmp(s, suppression_marks[i].s, len) == 0)
				return 1;
	/* "<10", "< 10", "≤9", "＜10": a bound instead of the value */
	if (len >= 2 && s[0] == '<')
		k = 1;
	else if (len >= 4 &&
		 (memcmp(s, "\xe2\x89\xa4", 3) == 0 || memcmp(s, "\xef\xbc\x9c", 3) == 0))
		k = 3;
	if (!k)
		return 0;
	while (k < len && s[k] == ' ')
		k++;
	if (k == len)
		return 0;
	while (k < len) {
		size_t adv;

		if (digit_at(s + k, len - k, &adv) < 0)
			return 0;
		k += adv;
	}
	return 1;
}

/* After a count: " (1.2%)", "(1.2)", " (12.5 %)": a share in parentheses, nothing else. */
static int
count_with_share(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] == ' ')
		i++;
	/* full-width parentheses （ ）, as Japanese tables write them, count as ASCII ones */
	if (len - i >= 6 && memcmp(s + i, "\xef\xbc\x88", 3) == 0 &&
	    memcmp(s + len - 3, "\xef\xbc\x89", 3) == 0) {
		i += 2;
		len -= 2;
	} else if (i == len || s[i] != '(' || s[len - 1] != ')')
		return 0;
	for (i++; i < len - 1; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '%' || s[i] == ' '))
			return 0;
	return 1;
}

void
value_parse(const char *cs, size_t len, struct value *v)
{
	const unsigned char *s = (const unsigned char *)cs;
	size_t i = 0, adv, ndig = 0, group = 0;
	int d, first_zero = 0, grouped = 0, fraction_nonzero = 0, any_fraction = 0;
	uint64_t n = 0;

	memset(v, 0, sizeof(*v));
	if (len == 0) {
		v->kind = VAL_EMPTY;
		return;
	}
	if (is_suppression(s, len)) {
		v->kind = VAL_SUPPRESSED;
		return;
	}
	if (s[0] == '-' || s[0] == '+') {
		/* signed: a difference or a change, never a count */
		i = 1;
		v->kind = (len > 1 && digit_at(s + 1, len - 1, &adv) >= 0) ? VAL_NUMBER : VAL_TEXT;
		return;
	}
	for (; i < len; i += adv) {
		if (s[i] >= '0' && s[i] <= '9') {
			/* the common case, ASCII digits, without the full-width test */
			d = s[i] - '0';
			adv = 1;
		} else
			d = digit_at(s + i, len - i, &adv);
		if (d >= 0) {
			if (ndig == 0 && d == 0)
				first_zero = 1;
			if (n > COUNT_MAX) {
				v->kind = VAL_NUMBER;
				return;
			}
			n = n * 10 + (uint64_t)d;
			ndig++;
			group++;
			continue;
		}
		if ((adv = sep_at(s + i, len - i, ',')) && ndig > 0) {
			/* thousands: 1-3 digits first, then groups of exactly 3 */
			if ((!grouped && group > 3) || (grouped && group != 3))
				goto text;
			grouped = 1;
			group = 0;
			continue;
		}
		break;
	}
	if (ndig == 0)
		goto text;
	if (grouped && group != 3)
		goto text;
	if (i < len && (adv = sep_at(s + i, len - i, '.'))) {
		i += adv;
		for (; i < len; i += adv) {
			if (s[i] >= '0' && s[i] <= '9')
				d = s[i] - '0', adv = 1;
			else if ((d = digit_at(s + i, len - i, &adv)) < 0)
				break;
			any_fraction = 1;
			if (d)
				fraction_nonzero = 1;
		}
		if (!any_fraction)
			goto text;
	}
	if (i < len && !fraction_nonzero && !any_fraction && count_with_share(s + i, len - i)) {
		/* "3 (1.2%)", "3 (1.2)": the count of an n (%) cell, its share after it */
		v->kind = VAL_INT;
		v->n = n;
		return;
	}
	if (i < len) {
		/* 12%, 3.5x, 12人: a number with a unit is not a bare count */
		v->kind = (s[i] == '%' || (len - i >= 3 && memcmp(s + i, "\xef\xbc\x85", 3) == 0))
			      ? VAL_NUMBER
			      : VAL_TEXT;
		return;
	}
	if (fraction_nonzero) {
		v->kind = VAL_NUMBER;
		return;
	}
	v->kind = VAL_INT;
	v->n = n;
	v->leading_zero = first_zero && ndig > 1;
	return;
text:
	v->kind = VAL_TEXT;
}

static int
take_digits(const char *s, size_t len, size_t *i, unsigned min, unsigned max, unsigned *out)
{
	unsigned n = 0, k = 0;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9' && k < max) {
		n = n * 10 + (unsigned)(s[*i] - '0');
		(*i)++, k++;
	}
	*out = n;
	return k >= min && k <= max;
}

static int
take(const char *s, size_t len, size_t *i, const char *lit)
{
	size_t n = strlen(lit);

	if (len - *i >= n && memcmp(s + *i, lit, n) == 0) {
		*i += n;
		return 1;
	}
	return 0;
}

int
value_is_exact_date(const char *s, size_t len)
{
	unsigned y, m, d;
	size_t i = 0;
	int jp = 0;

	if (len == 8 && strspn(s, "0123456789") >= 8) {
		if (!take_digits(s, len, &i, 8, 8, &y))
			return 0;
		m = (y / 100) % 100, d = y % 100, y /= 10000;
	} else {
		if (!take_digits(s, len, &i, 4, 4, &y))
			return 0;
		if (take(s, len, &i, "年"))
			jp = 1;
		else if (!take(s, len, &i, "-") && !take(s, len, &i, "/") && !take(s, len, &i, "."))
			return 0;
		if (!take_digits(s, len, &i, 1, 2, &m))
			return 0;
		if (jp ? !take(s, len, &i, "月")
		       : (!take(s, len, &i, "-") && !take(s, len, &i, "/") &&
			  !take(s, len, &i, ".")))
			return 0;
		if (!take_digits(s, len, &i, 1, 2, &d))
			return 0;
		if (jp && !take(s, len, &i, "日"))
			return 0;
		/* a time of day may follow: 1950-03-02 00:00:00 */
		if (i < len && s[i] != ' ' && s[i] != 'T')
			return 0;
	}
	return y >= 1880 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* clang-format off */
static const struct word total_exact[] = {
	W("total"), W("totals"), W("subtotal"), W("sub-total"), W("sub total"), W("grand total"),
	W("all"), W("overall"), W("合計"), W("計"), W("小計"), W("総数"), W("総計"), W("全体"),
	W("総合計"),
};
static const struct word total_prefix[] = {W("total "), W("total("), W("subtotal "), W("合計"),
					   W("小計"), W("総数"), W("総計")};
/* clang-format on */

int
value_is_total(const char *s, size_t len)
{
	unsigned char c = len ? (unsigned char)s[0] | 0x20 : 0;
	size_t i;

	/* t(otal), s(ubtotal), a(ll), g(rand), o(verall), or a Japanese word */
	if (len == 0 || ((unsigned char)s[0] < 0x80 && c != 't' && c != 's' && c != 'a' &&
			 c != 'g' && c != 'o'))
		return 0;
	for (i = 0; len <= 11 && i < nitems(total_exact); i++)
		if (total_exact[i].len == len && strncasecmp(s, total_exact[i].s, len) == 0)
			return 1;
	if (c != 't' && c != 's' && (unsigned char)s[0] < 0x80)
		return 0;
	for (i = 0; i < nitems(total_prefix); i++)
		if (len >= total_prefix[i].len &&
		    ((unsigned char)s[0] | 0x20) == ((unsigned char)total_prefix[i].s[0] | 0x20) &&
		    strncasecmp(s, total_prefix[i].s, total_prefix[i].len) == 0)
			return 1;
	return 0;
}
