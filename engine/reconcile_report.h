/*
 * reconcile_report.h - posting reports per practice (engine/reconcile.c
 * calls this from reconcile_finish).
 */
#ifndef RECONCILE_REPORT_H
#define RECONCILE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ch_error.h"
#include "ledger.h"

/*
 * Write spool/reports/<practice>/posting-<stamp>.{csv,json} (or under
 * reports_dir/<practice>/ when reports_dir is not NULL) for the postings of
 * the n remittances in remits, one pair of files per practice met.  Each file
 * appears complete or not at all; on_report (may be NULL) is told each path
 * written.  Returns CH_OK, CH_ERR_IO, CH_ERR_NOMEM or a ledger error, with
 * err set; no partial file is left behind.
 */
ch_code reconcile_reports_write(ledger *l, const char *spool, const char *reports_dir, const int64_t *remits,
                                size_t n, void (*on_report)(void *ctx, const char *practice, const char *path),
                                void *ctx, ch_error *err);

#endif
