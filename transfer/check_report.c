/*
 * Findings and the text report. Every string in a finding is printable UTF-8 (no control
 * characters, no quotes) and NUL-terminated within its field, so the report can go to a
 * reviewer's terminal, into JSON and into the request record as it is.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "transfer/check_int.h"
#include "transfer/safetext.h"

const char *
check_result_name(int result)
{
	static const char *const names[] = {"none", "pass", "warn", "fail"};

	return result >= 0 && result <= CHECK_FAIL ? names[result] : "?";
}

void
check_printable(const char *in, size_t len, char *out, size_t outlen)
{
	char tmp[256];
	size_t i, n = len;

	if (outlen == 0)
		return;
	if (n > sizeof(tmp) - 1)
		n = sizeof(tmp) - 1;
	if (n > outlen - 1)
		n = outlen - 1;
	memcpy(tmp, in, n);
	if (n < len) {
		/* cut: drop a character's leading bytes rather than show a broken one as '?' */
		i = n;
		while (i > 0 && ((unsigned char)tmp[i - 1] & 0xc0) == 0x80)
			i--;
		if (i > 0 && (unsigned char)tmp[i - 1] >= 0xc0) {
			unsigned char lead = (unsigned char)tmp[i - 1];
			size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;

			if (n - (i - 1) < want)
				n = i - 1;
		}
	}
	tmp[n] = '\0';
	queue_safe_text(tmp, out, outlen, 0);
	for (i = 0; out[i]; i++)
		if (out[i] == '"' || out[i] == '\\')
			out[i] = '?';
}

static void report_vadd(struct check_report *rep, int severity, const char *rule, uint32_t row,
			uint32_t column, const char *header, const char *value, size_t vlen,
			const char *fmt, va_list ap) __attribute__((format(printf, 9, 0)));

static void
report_vadd(struct check_report *rep, int severity, const char *rule, uint32_t row, uint32_t column,
	    const char *header, const char *value, size_t vlen, const char *fmt, va_list ap)
{
	struct check_finding *f;
	char msg[sizeof(f->message)];

	if (severity > rep->result)
		rep->result = severity;
	rep->nfindings++;
	if (rep->nlisted >= CHECK_MAX_FINDINGS)
		return;
	f = &rep->findings[rep->nlisted++];
	memset(f, 0, sizeof(*f));
	f->severity = severity;
	snprintf(f->rule, sizeof(f->rule), "%s", rule);
	f->row = row;
	f->column = column;
	if (header)
		check_printable(header, strlen(header), f->header, sizeof(f->header));
	if (value)
		check_printable(value, vlen, f->value, sizeof(f->value));
	vsnprintf(msg, sizeof(msg), fmt, ap);
	check_printable(msg, strlen(msg), f->message, sizeof(f->message));
}

void
check_report_add(struct check_report *rep, int severity, const char *rule, uint32_t row,
		 uint32_t column, const char *header, const char *value, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_vadd(rep, severity, rule, row, column, header, value, value ? strlen(value) : 0, fmt,
		    ap);
	va_end(ap);
}

void
finding(struct scan *sc, int severity, const char *rule, uint32_t row, uint32_t col,
	const char *value, size_t vlen, const char *fmt, ...)
{
	const char *hdr = NULL;
	va_list ap;

	if (col > 0 && col <= sc->ncols && sc->cols)
		hdr = sc->cols[col - 1].header;
	va_start(ap, fmt);
	report_vadd(sc->rep, severity, rule, row, col, hdr, value, vlen, fmt, ap);
	va_end(ap);
}

static void line(char *out, size_t outlen, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
line(char *out, size_t outlen, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= outlen - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(out + *len, outlen - *len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= outlen - *len) {
		/* a line that does not fit is left out whole */
		out[*len] = '\0';
		*len = outlen - 1;
		return;
	}
	*len += (size_t)n;
}

void
check_report_text(const struct check_report *rep, char *out, size_t outlen)
{
	size_t len = 0;
	unsigned i;

	if (outlen == 0)
		return;
	out[0] = '\0';
	line(out, outlen, &len, "result: %s\n", check_result_name(rep->result));
	for (i = 0; i < rep->nlisted && i < CHECK_MAX_FINDINGS; i++) {
		const struct check_finding *f = &rep->findings[i];

		if (f->row || f->column)
			line(out, outlen, &len, "%s: row %u, column %u (\"%s\"%s%s%s): %s: %s\n",
			     check_result_name(f->severity), f->row, f->column, f->header,
			     f->value[0] ? ", \"" : "", f->value, f->value[0] ? "\"" : "", f->rule,
			     f->message);
		else if (strncmp(f->message, f->rule, strlen(f->rule)) == 0 &&
			 f->message[strlen(f->rule)] == ' ')
			/* the message names its rule already: "fail: checker crashed or ..." */
			line(out, outlen, &len, "%s: %s\n", check_result_name(f->severity),
			     f->message);
		else
			line(out, outlen, &len, "%s: %s: %s\n", check_result_name(f->severity),
			     f->rule, f->message);
	}
	if (rep->nfindings > rep->nlisted)
		line(out, outlen, &len, "(%u more findings not listed)\n",
		     rep->nfindings - rep->nlisted);
}
