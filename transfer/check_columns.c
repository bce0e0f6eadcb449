/*
 * What a column is, from its header: one table, read top to bottom, first match wins, each row
 * with the reason it is there. English words match whole tokens of the lower-cased header (split
 * at anything but letters and digits: "n_patients" is "n" and "patients"), so "rate" does not
 * match "generated"; Japanese words match anywhere in it. A header no row matches is decided
 * by the column's content at the end (check_rules.c).
 */
#include <string.h>

#include "common/nitems.h"
#include "transfer/check_int.h"

enum match { TOKEN, CONTAINS, EXACT, SUFFIX };

struct pattern {
	enum col_kind kind;
	enum match how;
	const char *word;
	const char *why;
};

/* clang-format off */
static const struct pattern patterns[] = {
	/* A count with its share, the usual clinical table: "n (%)" cells are "12 (3.5)". */
	{COL_COUNT, CONTAINS, "n (%)", "count and percentage"},
	{COL_COUNT, CONTAINS, "n(%)", "count and percentage"},
	{COL_COUNT, CONTAINS, "n, %", "count and percentage"},
	{COL_COUNT, CONTAINS, "人数（%）", "count and percentage"},
	{COL_COUNT, CONTAINS, "人数(%)", "count and percentage"},
	{COL_COUNT, CONTAINS, "例数（%）", "count and percentage"},
	{COL_COUNT, CONTAINS, "例数(%)", "count and percentage"},
	/* Not counts, whatever their values: a mean of 3.0 or a rate of 4 is no small cell. */
	{COL_MEASURE, TOKEN, "mean", "a mean"},
	{COL_MEASURE, TOKEN, "average", "a mean"},
	{COL_MEASURE, TOKEN, "avg", "a mean"},
	{COL_MEASURE, TOKEN, "median", "a median"},
	{COL_MEASURE, TOKEN, "sd", "a standard deviation"},
	{COL_MEASURE, TOKEN, "std", "a standard deviation"},
	{COL_MEASURE, TOKEN, "iqr", "a spread"},
	{COL_MEASURE, TOKEN, "percent", "a percentage"},
	{COL_MEASURE, TOKEN, "percentage", "a percentage"},
	{COL_MEASURE, TOKEN, "pct", "a percentage"},
	{COL_MEASURE, CONTAINS, "%", "a percentage"},
	{COL_MEASURE, TOKEN, "rate", "a rate"},
	{COL_MEASURE, TOKEN, "ratio", "a ratio"},
	{COL_MEASURE, TOKEN, "proportion", "a proportion"},
	{COL_MEASURE, TOKEN, "ci", "a confidence interval"},
	{COL_MEASURE, TOKEN, "p", "a p value"},
	{COL_MEASURE, CONTAINS, "平均", "a mean (平均年齢 is no age group)"},
	{COL_MEASURE, CONTAINS, "中央値", "a median"},
	{COL_MEASURE, CONTAINS, "標準偏差", "a standard deviation"},
	{COL_MEASURE, CONTAINS, "割合", "a proportion"},
	{COL_MEASURE, CONTAINS, "率", "a rate (罹患率, 有病率)"},
	/* individual: dates of birth, then patient identifiers (judged on distinctness) */
	{COL_BIRTH, TOKEN, "dob", "date of birth"},
	{COL_BIRTH, TOKEN, "birth", "date of birth"},
	{COL_BIRTH, TOKEN, "birthdate", "date of birth"},
	{COL_BIRTH, TOKEN, "birthday", "date of birth"},
	{COL_BIRTH, CONTAINS, "生年月日", "date of birth"},
	{COL_BIRTH, CONTAINS, "誕生日", "date of birth"},
	{COL_PATIENT, EXACT, "id", "a bare ID column is a row identifier, usually a person"},
	{COL_PATIENT, TOKEN, "patientid", "patient identifier"},
	{COL_PATIENT, TOKEN, "personid", "person identifier"},
	{COL_PATIENT, TOKEN, "subjectid", "study subject identifier"},
	{COL_PATIENT, TOKEN, "mrn", "medical record number"},
	{COL_PATIENT, CONTAINS, "patient id", "patient identifier"},
	{COL_PATIENT, CONTAINS, "patient_id", "patient identifier"},
	{COL_PATIENT, CONTAINS, "person_id", "person identifier"},
	{COL_PATIENT, CONTAINS, "subject_id", "study subject identifier"},
	{COL_PATIENT, CONTAINS, "患者id", "patient identifier"},
	{COL_PATIENT, CONTAINS, "患者ｉｄ", "patient identifier (full-width)"},
	{COL_PATIENT, CONTAINS, "患者番号", "patient number"},
	{COL_PATIENT, CONTAINS, "カルテ番号", "medical record number"},
	{COL_PATIENT, CONTAINS, "被保険者番号", "insurance number"},
	{COL_PATIENT, CONTAINS, "個人id", "person identifier"},
	{COL_PATIENT, CONTAINS, "研究id", "study subject identifier"},
	/* age groups in rows (平均年齢 went above, as a mean) */
	{COL_AGE, TOKEN, "age", "age group"},
	{COL_AGE, TOKEN, "agegroup", "age group"},
	{COL_AGE, TOKEN, "ageband", "age group"},
	{COL_AGE, TOKEN, "agecat", "age group"},
	{COL_AGE, CONTAINS, "年齢", "age group (年齢, 年齢階級)"},
	{COL_AGE, CONTAINS, "年代", "age group by decade"},
	/* a facility's type is a category, not a facility (SPEC "facility") */
	{COL_LABEL, CONTAINS, "施設種別", "facility type"},
	{COL_LABEL, CONTAINS, "施設区分", "facility type"},
	{COL_LABEL, CONTAINS, "病院種別", "facility type"},
	{COL_LABEL, CONTAINS, "医療機関種別", "facility type"},
	{COL_LABEL, CONTAINS, "facility_type", "facility type"},
	{COL_LABEL, CONTAINS, "facility type", "facility type"},
	{COL_LABEL, CONTAINS, "hospital_type", "facility type"},
	{COL_LABEL, CONTAINS, "hospital type", "facility type"},
	{COL_LABEL, CONTAINS, "type of facility", "facility type"},
	{COL_LABEL, CONTAINS, "setting", "care setting (inpatient, outpatient)"},
	/* individual facilities */
	{COL_FACILITY, TOKEN, "facility", "facility"},
	{COL_FACILITY, TOKEN, "facilities", "facility"},
	{COL_FACILITY, TOKEN, "hospital", "hospital"},
	{COL_FACILITY, TOKEN, "hospitals", "hospital"},
	{COL_FACILITY, TOKEN, "clinic", "clinic"},
	{COL_FACILITY, TOKEN, "practice", "GP practice"},
	{COL_FACILITY, CONTAINS, "施設", "facility (施設名)"},
	{COL_FACILITY, CONTAINS, "病院", "hospital"},
	{COL_FACILITY, CONTAINS, "医療機関", "medical institution"},
	{COL_FACILITY, CONTAINS, "診療所", "clinic"},
	{COL_FACILITY, CONTAINS, "クリニック", "clinic"},
	/* counts by header (SPEC "small_count") */
	{COL_COUNT, EXACT, "n", "the usual count header"},
	{COL_COUNT, TOKEN, "n", "n_cases, cases_n"},
	{COL_COUNT, TOKEN, "count", "count"},
	{COL_COUNT, TOKEN, "counts", "count"},
	{COL_COUNT, TOKEN, "freq", "frequency"},
	{COL_COUNT, TOKEN, "frequency", "frequency"},
	{COL_COUNT, TOKEN, "patients", "number of patients"},
	{COL_COUNT, TOKEN, "cases", "number of cases"},
	{COL_COUNT, TOKEN, "deaths", "number of deaths"},
	{COL_COUNT, TOKEN, "events", "number of events"},
	{COL_COUNT, TOKEN, "persons", "number of persons"},
	{COL_COUNT, TOKEN, "people", "number of people"},
	{COL_COUNT, TOKEN, "subjects", "number of subjects"},
	{COL_COUNT, TOKEN, "admissions", "number of admissions"},
	{COL_COUNT, TOKEN, "visits", "number of visits"},
	{COL_COUNT, TOKEN, "num", "number of"},
	{COL_COUNT, CONTAINS, "number of", "number of"},
	{COL_COUNT, TOKEN, "total", "a total is a count too"},
	{COL_COUNT, CONTAINS, "人数", "number of people"},
	{COL_COUNT, CONTAINS, "患者数", "number of patients"},
	{COL_COUNT, CONTAINS, "件数", "number of cases"},
	{COL_COUNT, CONTAINS, "例数", "number of cases (症例数)"},
	{COL_COUNT, CONTAINS, "者数", "number of persons (死亡者数, 受診者数)"},
	{COL_COUNT, CONTAINS, "人口", "population"},
	{COL_COUNT, SUFFIX, "数", "a Japanese count (死亡数, 出生数)"},
	{COL_COUNT, CONTAINS, "合計", "total"},
	{COL_COUNT, EXACT, "計", "total"},
	{COL_COUNT, CONTAINS, "小計", "subtotal"},
	{COL_COUNT, CONTAINS, "総数", "total"},
	/* identifiers, codes, years, months, dates: integers that are not counts */
	{COL_IDENT, TOKEN, "id", "identifier (region_id)"},
	{COL_IDENT, TOKEN, "code", "code"},
	{COL_IDENT, TOKEN, "cd", "code"},
	{COL_IDENT, TOKEN, "year", "year"},
	{COL_IDENT, TOKEN, "yr", "year"},
	{COL_IDENT, TOKEN, "fy", "fiscal year"},
	{COL_IDENT, TOKEN, "month", "month"},
	{COL_IDENT, TOKEN, "date", "date"},
	{COL_IDENT, TOKEN, "zip", "postal code"},
	{COL_IDENT, TOKEN, "no", "row or item number"},
	{COL_IDENT, TOKEN, "number", "row or item number"},
	{COL_IDENT, TOKEN, "row", "row number"},
	{COL_IDENT, TOKEN, "icd", "diagnosis code"},
	{COL_IDENT, TOKEN, "icd10", "diagnosis code"},
	{COL_IDENT, CONTAINS, "年度", "fiscal year"},
	{COL_IDENT, CONTAINS, "コード", "code"},
	{COL_IDENT, CONTAINS, "番号", "number"},
	{COL_IDENT, CONTAINS, "日付", "date"},
	{COL_IDENT, CONTAINS, "年月", "year and month"},
	{COL_IDENT, CONTAINS, "郵便", "postal code"},
	{COL_IDENT, SUFFIX, "年", "year (2020年, 診断年)"},
	{COL_IDENT, SUFFIX, "月", "month"},
};
/* clang-format on */

static int
is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* Is word one of h's tokens? Tokens are runs of ASCII letters and digits. */
static int
has_token(const char *h, const char *word)
{
	size_t n = strlen(word);
	const char *p = h;

	while ((p = strstr(p, word))) {
		int before =
		    p == h || !is_word_byte((unsigned char)p[-1]) || (unsigned char)p[-1] >= 0x80;
		int after = !is_word_byte((unsigned char)p[n]) || (unsigned char)p[n] >= 0x80;

		if (before && after)
			return 1;
		p++;
	}
	return 0;
}

static int
matches(const struct pattern *pt, const char *h)
{
	size_t a, b;

	switch (pt->how) {
	case TOKEN:
		return has_token(h, pt->word);
	case CONTAINS:
		return strstr(h, pt->word) != NULL;
	case EXACT:
		return strcmp(h, pt->word) == 0;
	default:
		a = strlen(h), b = strlen(pt->word);
		return a >= b && strcmp(h + a - b, pt->word) == 0;
	}
}

enum col_kind
columns_classify(const char *h, int *total)
{
	size_t i;
	size_t n = strlen(h);

	*total = value_is_total(h, n);
	for (i = 0; i < nitems(patterns); i++)
		if (matches(&patterns[i], h))
			return patterns[i].kind;
	return COL_UNKNOWN;
}
