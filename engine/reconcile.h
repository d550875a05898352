/*
 * reconcile.h - what payers send back, posted to the ledger (issue 6).
 *
 * A file is a 999, a 277CA or an 835 (told by its first ST01) and is read by
 * its streaming reader (docs/reconciliation.md):
 *
 *   999    AK102 (the GS06 we sent) finds the batch, AK202 (the ST02) the
 *          transaction set and so its claims: an accepted set's claims become
 *          acknowledged; a rejected set's claims rejected, with each IK3/IK4
 *          error in words (and on the worklist).
 *   277CA  TRN02 finds the claim by its PCN through the payer's matching
 *          rules: accepted (the payer's claim number, REF*1K, is stored) or
 *          rejected with the status codes in words (and on the worklist).
 *   835    each payment is a remittance, identified by TRN03/TRN02 and never
 *          posted twice; it is routed to the practice by the payee (N1*PE NPI
 *          or tax id); each CLP is matched (match_claim: PCN, payer key,
 *          fallback), and its claim and line payments, CAS adjustments, patient
 *          responsibility are posted; PLB goes on the remittance.  The claim
 *          becomes paid, partial (a line denied, or paid less than billed
 *          minus contractual and patient amounts) or denied; CLP02 22 reverses
 *          the payment it names (the claim is accepted again until the
 *          correction).  Unmatched and ambiguous claims, underpaid lines
 *          (expected_allowed), unbalanced or invalid files go to the worklist;
 *          what is readable is posted all the same.
 *
 * Each file is posted in one ledger transaction: all of it or, on a ledger
 * failure, none of it.  A posting report per practice (CSV and JSON: claim,
 * PCN, billed, allowed, paid, patient responsibility, adjustments with their
 * reason texts) is rendered on a thread while posting (reconcile_report.h)
 * and put in place in SPOOL/reports/<practice>/ by reconcile_finish (atomic,
 * 0600); a file rolled back leaves nothing in it.
 */
#ifndef RECONCILE_H
#define RECONCILE_H

#include <stdint.h>

#include "ch_error.h"
#include "config.h"
#include "ledger.h"

typedef struct reconcile_file_result {
    char path[1024];
    char kind[8];              /* "999", "277CA", "835"; "" when not one of them */
    char payer[32];            /* payer profile name, "" when unknown */
    char sha256[65];
    unsigned sets;             /* 999 AK2 loops, 835 payments */
    unsigned claims;           /* claims read (277CA, 835) or marked (999) */
    unsigned acknowledged, accepted, rejected, pending;
    unsigned posted;           /* 835 claims posted */
    unsigned paid, partial, denied, reversals;
    unsigned unmatched, ambiguous, underpaid;
    unsigned duplicates;       /* 835 payments / 999 sets seen before: nothing changed */
    unsigned worklist;         /* items added */
    unsigned errors;           /* diagnostics (errors) in the file */
    unsigned balance_errors;
    int flagged;               /* invalid or unbalanced: see the worklist */
    int64_t billed_cents, paid_cents, plb_cents;
} reconcile_file_result;

typedef struct reconcile_opts {
    const char *actor;         /* for events; default "reconcile" */
    const char *reports_dir;   /* NULL: SPOOL/reports */
    int no_reports;
} reconcile_opts;

typedef struct reconciler reconciler;

ch_code reconcile_new(reconciler **out, const config *cfg, ledger *l, const reconcile_opts *opts, ch_error *err);

/*
 * Reconcile one file.  payer is the payer profile the file came from (the
 * inbox directory), or NULL to find it from the file.  CH_OK when the file
 * was read (its problems are in res and on the worklist); CH_ERR_IO,
 * CH_ERR_SYNTAX (not X12, or a kind we do not read: nothing posted),
 * CH_ERR_DB (the ledger failed: nothing of the file posted).
 */
ch_code reconcile_file(reconciler *r, const char *path, const char *payer, reconcile_file_result *res,
                       ch_error *err);

/* Complete the posting reports of everything posted since reconcile_new (or
 * the last reconcile_finish) and put them in place.  on_report (may be NULL)
 * is told each report file written, one per call.  CH_OK, or CH_ERR_IO /
 * CH_ERR_NOMEM (err set) when the reports could not be written: what was
 * posted stays posted. */
ch_code reconcile_finish(reconciler *r, void (*on_report)(void *ctx, const char *practice, const char *path),
                         void *ctx, ch_error *err);

void reconcile_free(reconciler *r);

/*
 * For the daemon: reconcile every file in SPOOL/inbox/<payer>/ (payer NULL:
 * every payer directory), moving each one read to SPOOL/archive/<payer>/,
 * then write the reports.  *done is how many files were reconciled.
 */
ch_code reconcile_inbox(const config *cfg, ledger *l, const char *payer, unsigned *done, ch_error *err);

#endif
