/*
 * reconcile_report.h - the posting reports per practice, written while the
 * postings are made (engine/reconcile_835.c and reconcile.c call this).
 *
 * SPOOL/reports/<practice>/posting-<stamp>.csv and .json (or under
 * reports_dir/<practice>/): each claim payment posted in a run, with the
 * claim, patient control number, remittance, outcome, the claim's state
 * after the posting, billed, allowed, paid, patient responsibility, payer
 * claim number and the adjustments with their reason texts (the CSV on each
 * line; the JSON once per code, in its "codes" dictionary: see
 * docs/reconciliation.md).  Each practice's files hold only its own claims.
 *
 * The postings are rendered and written on a thread of their own, while
 * posting goes on, into hidden temporary files (".posting-<stamp>.csv.tmp",
 * 0600).  reconcile_report_finish, called after the ledger committed,
 * completes them, fsyncs them and renames them into place: a report appears
 * whole under its final name or not at all, whenever the process dies.
 */
#ifndef RECONCILE_REPORT_H
#define RECONCILE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ch_error.h"
#include "ledger.h"

typedef struct reconcile_report reconcile_report;

/* One claim payment just posted.  Nothing of it is kept after the call. */
typedef struct reconcile_posting {
    const ledger_claim_payment *pay;
    const char *practice;           /* the claim's; "" reads "unknown" */
    const char *pcn;                /* the claim's patient control number */
    const char *trace_key;          /* the remittance's (TRN03/TRN02) */
    ledger_state state;             /* the claim's state after this posting */
    const ledger_adjustment *adj;   /* claim level, then each line's */
    size_t nadj;
} reconcile_posting;

/*
 * A report writer for one run (its files get one time stamp).  Nothing is
 * written until a posting comes.  CH_ERR_NOMEM.
 */
ch_code reconcile_report_open(reconcile_report **out, const char *spool, const char *reports_dir, ch_error *err);

/* A file's postings begin: reconcile_report_drop takes back what comes after. */
void reconcile_report_mark(reconcile_report *r);

/* Add a posting (copied).  A failure to write it (disk full, out of memory)
 * is kept and returned by reconcile_report_finish: posting goes on. */
void reconcile_report_add(reconcile_report *r, const reconcile_posting *p);

/* A posting read back from the ledger (ledger_postings_each), for a
 * remittance whose run stopped before its report was in place; the claim's
 * state is its state now.  Nothing of p is kept after the call. */
void reconcile_report_add_stored(reconcile_report *r, const ledger_posting *p);

/* The file's transaction was rolled back: its postings leave the reports. */
void reconcile_report_drop(reconcile_report *r);

/*
 * Complete, fsync and rename the reports of the practices with postings
 * (those left without any leave no file), then free r.  on_report (may be
 * NULL) is told each path written.  CH_OK, CH_ERR_IO or CH_ERR_NOMEM with
 * err set; on failure no report of the run is left under a final name that
 * was not complete, and the temporary files are removed.
 */
ch_code reconcile_report_finish(reconcile_report *r,
                                void (*on_report)(void *ctx, const char *practice, const char *path), void *ctx,
                                ch_error *err);

/* Stop without reports: the temporary files are removed, r freed (NULL: nothing). */
void reconcile_report_discard(reconcile_report *r);

#endif
