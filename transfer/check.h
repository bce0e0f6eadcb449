/*
 * Publication checks (SPEC "Publication checks"): file type by content, size, and for CSV/TSV
 * tables the network's rules (small counts, age bands, facilities, individual-level data,
 * differencing). Used at export submission and by `wsgatectl check FILE`.
 *
 * The checker parses bytes an analyst wrote, so the daemon and wsgatectl never call check_fd
 * themselves: they call check_confined(), which runs it in the unprivileged, seccomp-confined
 * helper (transfer/confined.h) and validates what comes back. check_fd is for that helper, the
 * unit tests and the fuzz target. Memory and output are bounded whatever the input.
 *
 * The rule that needs the project's history, differencing_release, is applied afterwards by the
 * parent (transfer/ledger.h) on the table's labelled cells, which the checker hands back: the
 * child never sees the database.
 */
#ifndef WSGATE_CHECK_H
#define WSGATE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "policy/config.h"
#include "transfer/check_result.h"

#define CHECK_MAX_FINDINGS 100	/* listed; more are counted */
#define CHECK_MAX_COLUMNS 1024	/* columns beyond are not checked (warn) */
#define CHECK_MAX_FIELD 65536	/* a longer field makes the table unreadable (fail) */
#define CHECK_MAX_ROWS 5000000u /* rows beyond are not checked (warn) */
#define CHECK_REPORT_MAX 16384	/* the text rendering, as stored with a request */

/* The ledger's view of a table: its count cells with their row and column labels. Only tables
 * of at most CHECK_MAX_CELLS count cells are kept (published tables are small). */
#define CHECK_MAX_CELLS 10000
#define CHECK_LABEL_MAX 160

struct check_finding {
	int severity;	   /* CHECK_WARN or CHECK_FAIL */
	char rule[24];	   /* the SPEC's rule id: type, size, small_count, ... */
	uint32_t row;	   /* 1-based data row (header is row 0); 0 = not a cell */
	uint32_t column;   /* 1-based column; 0 = not a cell */
	char header[64];   /* the column's header, as printable text */
	char value[64];	   /* the cell, as printable text */
	char message[160]; /* one line */
};

struct check_report {
	int result;	    /* CHECK_PASS, CHECK_WARN or CHECK_FAIL (check_result.h) */
	unsigned nfindings; /* all findings; the first CHECK_MAX_FINDINGS are listed */
	unsigned nlisted;
	struct check_finding findings[CHECK_MAX_FINDINGS];
};

struct check_cell {
	char row[CHECK_LABEL_MAX]; /* the row's label cells (not counts, not measures) joined with "
				      | " */
	char col[64];		   /* the column's header */
	uint64_t value;
	uint32_t rown, coln; /* where it is in this table (as in a finding) */
};

struct check_cells {
	unsigned n;
	int complete; /* 1: every count cell of the table is here; 0: too large, none kept */
	struct check_cell *v; /* malloc'd, n entries */
};

/* Checks the file open at fd (read from offset 0 with pread), named name. cells (may be NULL)
 * receives the table's count cells for the ledger. Returns 0 (a report was made) or <0 (the
 * file could not be read or memory ran out; why says why). In-process: see above. */
int check_fd(const struct config *cfg, int fd, const char *name, struct check_report *rep,
	     struct check_cells *cells, char *why, size_t whylen);

/* check_fd in the confined helper (transfer/confined.h). A checker that crashes, runs out of
 * time or memory, or answers anything malformed gives a report with one finding: `fail: checker
 * crashed or timed out`. Returns 0 (a report was made) or <0 (the helper could not be started;
 * why says why). */
int check_confined(const struct config *cfg, int fd, const char *name, struct check_report *rep,
		   struct check_cells *cells, char *why, size_t whylen);

/* Opens what the checker needs from the file system (the Shift_JIS converter) before a seccomp
 * filter forbids it. check_fd calls it too, so that in-process callers need not. */
int check_prepare(char *why, size_t whylen);

/* The report as text: "result: fail\n" then one finding per line, cut to fit with the verdict
 * always first. The same text is stored with the request, printed by `airlock export`,
 * `transfer show` and `wsgatectl check`. */
void check_report_text(const struct check_report *rep, char *out, size_t outlen);

/* Adds a finding that is not a cell's (used by the ledger in the parent). */
void check_report_add(struct check_report *rep, int severity, const char *rule, uint32_t row,
		      uint32_t column, const char *header, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

void check_cells_free(struct check_cells *cells);

/* Is the extension of name (lower-cased) listed in export_types? Copies it into ext. */
int check_type_allowed(const struct config *cfg, const char *name, char *ext, size_t extlen);

#endif
