/*
 * Age groups (SPEC rules `age_band` and `age_85`). A column of age groups, or the headers of a
 * wide table, give a set of bands; the set must use bands of 5 years or more that do not
 * overlap, with every age from 85 in one open top group. Forms understood: 0-4, 0～4, 0〜4歳,
 * 40 to 44, 20代, 20歳代, 85+, 85歳以上, ≥85, 85-, 5歳未満. A single age (47, 47歳) is a band of
 * one year.
 */
#include <stdio.h>
#include <string.h>

#include "transfer/check_int.h"

#define AGE_MAX 120 /* larger numbers are years or counts, not ages */

static int
lit(const char *s, size_t len, size_t *i, const char *l)
{
	size_t n = strlen(l);

	if (len - *i >= n && memcmp(s + *i, l, n) == 0) {
		*i += n;
		return 1;
	}
	return 0;
}

/* Up to three digits, ASCII or full-width; -1 if none. */
static int
number(const char *s, size_t len, size_t *i)
{
	const unsigned char *u = (const unsigned char *)s;
	int n = 0, k = 0;

	while (k < 4) {
		if (*i < len && u[*i] >= '0' && u[*i] <= '9') {
			n = n * 10 + (u[*i] - '0');
			*i += 1;
		} else if (len - *i >= 3 && u[*i] == 0xef && u[*i + 1] == 0xbc &&
			   u[*i + 2] >= 0x90 && u[*i + 2] <= 0x99) {
			n = n * 10 + (u[*i + 2] - 0x90);
			*i += 3;
		} else
			break;
		k++;
	}
	return k == 0 ? -1 : k > 3 ? -2 : n;
}

/* clang-format off */
static const char *const range_seps[] = {"-", "~", "\xef\xbd\x9e" /* ～ */, "\xe3\x80\x9c" /* 〜 */,
	"\xe2\x80\x93" /* – */, "\xe2\x88\x92" /* − */, "\xef\xbc\x8d" /* － */, " to ", " - ", "から"};
static const char *const open_tails[] = {"+", "以上", "-", "~", "\xef\xbd\x9e", "\xe3\x80\x9c",
	"\xef\xbc\x8b" /* ＋ */, " and over", " and older", " or older", "over", "+ years"};
/* clang-format on */

static int
at_end(const char *s, size_t len, size_t i)
{
	return i == len || (len - i == 6 && memcmp(s + i, " years", 6) == 0);
}

enum age_parse
age_parse(const char *s, size_t len, struct age_band *b)
{
	size_t i = 0, j;
	int a, c, ge = 0;
	unsigned k;

	if (lit(s, len, &i, "\xe2\x89\xa7") || lit(s, len, &i, "\xe2\x89\xa5") ||
	    lit(s, len, &i, ">="))
		ge = 1; /* ≥85 */
	if ((a = number(s, len, &i)) == -2)
		return AGE_NONE; /* 2019: a year, a count */
	if (a < 0)
		return i ? AGE_UNKNOWN : AGE_NONE;
	if (a > AGE_MAX)
		return AGE_NONE;
	(void)lit(s, len, &i, "歳");
	if (ge) {
		if (!at_end(s, len, i))
			return AGE_UNKNOWN;
		*b = (struct age_band){(uint16_t)a, AGE_OPEN};
		return AGE_BAND;
	}
	if (at_end(s, len, i)) {
		*b = (struct age_band){(uint16_t)a, (uint16_t)a};
		return AGE_SINGLE;
	}
	j = i;
	if (lit(s, len, &j, "代") && at_end(s, len, j)) {
		if (a % 10)
			return AGE_UNKNOWN;
		*b = (struct age_band){(uint16_t)a, (uint16_t)(a + 9)};
		return AGE_BAND;
	}
	j = i;
	if (lit(s, len, &j, "未満") && at_end(s, len, j) && a > 0) {
		*b = (struct age_band){0, (uint16_t)(a - 1)};
		return AGE_BAND;
	}
	for (k = 0; k < sizeof(open_tails) / sizeof(open_tails[0]); k++) {
		j = i;
		if (lit(s, len, &j, open_tails[k]) && at_end(s, len, j)) {
			*b = (struct age_band){(uint16_t)a, AGE_OPEN};
			return AGE_BAND;
		}
	}
	for (k = 0; k < sizeof(range_seps) / sizeof(range_seps[0]); k++) {
		j = i;
		if (!lit(s, len, &j, range_seps[k]))
			continue;
		if ((c = number(s, len, &j)) < 0 || c > AGE_MAX)
			return AGE_UNKNOWN;
		(void)lit(s, len, &j, "歳");
		if (!at_end(s, len, j) || c < a)
			return AGE_UNKNOWN;
		*b = (struct age_band){(uint16_t)a, (uint16_t)c};
		return AGE_BAND;
	}
	return AGE_UNKNOWN;
}

void
age_add(struct age_set *set, const struct age_band *b, uint32_t row, uint32_t col, const char *text,
	size_t len)
{
	unsigned i;

	for (i = 0; i < set->n; i++)
		if (set->v[i].b.lo == b->lo && set->v[i].b.hi == b->hi)
			return;
	if (set->n == AGE_MAX_BANDS)
		return; /* more distinct groups than any real table has: the first are judged */
	set->v[set->n].b = *b;
	set->v[set->n].row = row;
	set->v[set->n].col = col;
	check_printable(text, len, set->v[set->n].text, sizeof(set->v[set->n].text));
	set->n++;
}

static int
overlap(const struct age_band *x, const struct age_band *y)
{
	return x->lo <= y->hi && y->lo <= x->hi;
}

static void
band_name(const struct age_band *b, char *out, size_t outlen)
{
	if (b->hi == AGE_OPEN)
		snprintf(out, outlen, "%u+", b->lo);
	else
		snprintf(out, outlen, "%u-%u", b->lo, b->hi);
}

void
age_judge(struct scan *sc, const struct age_set *set)
{
	char x[16], y[16];
	unsigned i, j;

	for (i = 0; i < set->n; i++) {
		const struct age_seen *a = &set->v[i];
		const char *t = a->text;

		if (a->b.lo == a->b.hi)
			finding(sc, CHECK_FAIL, "age_band", a->row, a->col, t, strlen(t),
				"single age %u: use bands of 5 years or more", a->b.lo);
		else if (a->b.hi != AGE_OPEN && a->b.hi - a->b.lo + 1 < 5)
			finding(sc, CHECK_FAIL, "age_band", a->row, a->col, t, strlen(t),
				"band %u-%u is narrower than 5 years", a->b.lo, a->b.hi);
		if (a->b.hi == AGE_OPEN && a->b.lo > 85)
			finding(sc, CHECK_FAIL, "age_85", a->row, a->col, t, strlen(t),
				"open band from %u: every age from 85 must be in one group (85+)",
				a->b.lo);
		else if (a->b.hi != AGE_OPEN && a->b.hi >= 85)
			finding(sc, CHECK_FAIL, "age_85", a->row, a->col, t, strlen(t),
				"band %u-%u: every age from 85 must be in one open group (85+)",
				a->b.lo, a->b.hi);
		for (j = 0; j < i; j++) {
			if (!overlap(&a->b, &set->v[j].b))
				continue;
			band_name(&a->b, x, sizeof(x));
			band_name(&set->v[j].b, y, sizeof(y));
			finding(
			    sc, CHECK_FAIL, "age_band", a->row, a->col, t, strlen(t),
			    "band %s overlaps band %s (row %u): their difference is a narrow band",
			    x, y, set->v[j].row);
			break;
		}
	}
}
