/*
 * Automated export checks (SPEC "The airlock"): file type, size, and for CSV/TSV tables the
 * publication criteria (small cells, age bands, facility breakdown). Used at export submission
 * and by `wsgatectl check FILE`. The result is advice for the reviewer, plus a hard block when
 * export_block_on_fail is set. Memory and output are bounded whatever the input.
 */
#ifndef WSGATE_CHECK_H
#define WSGATE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "policy/config.h"

#define CHECK_MAX_FINDINGS 100	/* listed; more are counted */
#define CHECK_MAX_COLUMNS 1024	/* columns beyond are not checked (warn) */
#define CHECK_MAX_FIELD 65536	/* a longer field makes the table unreadable (fail) */
#define CHECK_MAX_ROWS 5000000u /* rows beyond are not checked (warn) */
#define CHECK_REPORT_MAX 16384

struct check_report {
	int result; /* CHECK_PASS, CHECK_WARN or CHECK_FAIL (transfer/queue.h) */
	unsigned nfindings;
	char text[CHECK_REPORT_MAX]; /* "result: ...\n" then one finding per line */
};

/* Checks the file open at fd (read from offset 0 with pread), named name. Returns 0 (a report
 * was made) or <0 (the file could not be read; why says why). */
int check_fd(const struct config *cfg, int fd, const char *name, struct check_report *rep,
	     char *why, size_t whylen);
/* Is the extension of name (lower-cased) listed in export_types? Copies it into ext. */
int check_type_allowed(const struct config *cfg, const char *name, char *ext, size_t extlen);

#endif
