/*
 * The checks of an export (see export_check.h). The checker runs confined; the ledger, which
 * needs the database, runs here in the parent over the cells the checker handed back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/audit.h"
#include "common/why.h"
#include "transfer/export_check.h"
#include "transfer/ledger.h"

int
export_check(struct store *st, const struct config *cfg, const char *project, int fd,
	     const char *name, struct check_report *rep, char *why, size_t whylen)
{
	struct check_cells cells;
	int rc;

	if (check_confined(cfg, fd, name, rep, &cells, why, whylen) < 0)
		return -1;
	rc = ledger_check(st, project, &cells, cfg->min_cell_count, rep, why, whylen);
	check_cells_free(&cells);
	return rc;
}

int
export_cells(int fd, const char *name, struct check_cells *cells, char *why, size_t whylen)
{
	struct check_report *rep = malloc(sizeof(*rep));
	struct config *cfg = calloc(1, sizeof(*cfg));
	int rc = -1;

	memset(cells, 0, sizeof(*cells));
	if (!rep || !cfg) {
		why_set(why, whylen, "out of memory");
		goto out;
	}
	/* Only the cells matter here, and they do not depend on the rules' settings: any CSV or
	 * TSV of any size is read. */
	strcpy(cfg->export_types[0], "csv");
	strcpy(cfg->export_types[1], "tsv");
	cfg->nexport_types = 2;
	cfg->export_max_size = UINT64_MAX;
	cfg->min_cell_count = 10;
	cfg->max_rows = UINT32_MAX;
	rc = check_confined(cfg, fd, name, rep, cells, why, whylen);
out:
	free(rep);
	free(cfg);
	return rc;
}

int
export_refused(struct store *st, const char *requester, const char *project, const char *name,
	       const char *sha256hex, const struct check_report *rep, char *why, size_t whylen)
{
	char qn[600], text[CHECK_REPORT_MAX];
	int rc;

	/* The refusal is a transfer event too: recorded, though nothing was queued. */
	if ((rc = audit_log(st, requester, "transfer.blocked",
			    "kind=export project=%s name=%s sha256=%s check=fail", project,
			    audit_quote(name, qn, sizeof(qn)), sha256hex)) < 0)
		return why_set(why, whylen, "store: cannot record the refusal: %s",
			       store_strerror(rc));
	check_report_text(rep, text, sizeof(text));
	return why_set(why, whylen,
		       "export refused: it fails the publication checks and export_block_on_fail "
		       "is set; nothing was queued\n%s",
		       text);
}
