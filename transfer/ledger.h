/*
 * The release ledger (SPEC rule `differencing_release`): every released table of a project is
 * kept as its count cells, keyed by the project and a digest of the table's row and column
 * labels. An export whose table has the same labels as a released one and differs from it in
 * any cell by 1 to min_cell_count - 1 fails: the difference is itself a small count.
 *
 * Only the parent touches it (the monitor or wsgatectl): the confined checker hands back the
 * table's labelled cells (check.h) and the comparison is done here, bounded by CHECK_MAX_CELLS.
 */
#ifndef WSGATE_LEDGER_H
#define WSGATE_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "common/store.h"
#include "transfer/check.h"

/* Adds a differencing_release finding to rep for each cell of cells that differs by 1 to
 * min_cell_count - 1 from the same cell of a released table of project with the same labels.
 * Returns 0, or <0 (store error, out of memory; why says why). */
int ledger_check(struct store *st, const char *project, const struct check_cells *cells,
		 uint32_t min_cell_count, struct check_report *rep, char *why, size_t whylen);

/* Records request id's released table in the caller's write transaction. A table that is not a
 * complete set of cells (too large, not a table) records nothing. Returns 0 or <0 (store). */
int ledger_record(struct store *st, MDB_txn *txn, const char *project, uint64_t id,
		  const struct check_cells *cells);

#endif
