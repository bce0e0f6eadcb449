/*
 * The checks of an export, as the airlock runs them (SPEC "Publication checks"): the confined
 * checker over the snapshot, then the release ledger against the project's released tables.
 */
#ifndef WSGATE_EXPORT_CHECK_H
#define WSGATE_EXPORT_CHECK_H

#include <stddef.h>

#include "common/store.h"
#include "policy/config.h"
#include "transfer/check.h"

/* The report of the file at fd, named name, exported from project. Returns 0 or <0 (the
 * checker could not be started, or the ledger could not be read; why says why). */
int export_check(struct store *st, const struct config *cfg, const char *project, int fd,
		 const char *name, struct check_report *rep, char *why, size_t whylen);

/* With export_block_on_fail, an export whose report is `fail` is refused at submission (SPEC
 * "The airlock"): audits `transfer.blocked` and puts the refusal and the report into why (the
 * analyst's stderr). Returns -1, always. */
int export_refused(struct store *st, const char *requester, const char *project,
		   const char *name, const char *sha256hex, const struct check_report *rep,
		   char *why, size_t whylen);

/* The labelled cells of a table being released, for ledger_record (check.h). Returns 0 (cells
 * may be empty: not a table, or too large) or <0 with why. */
int export_cells(int fd, const char *name, struct check_cells *cells, char *why, size_t whylen);

#endif
