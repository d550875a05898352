/*
 * batch.h - from queued claims to validated 837 files in spool/outbound/<payer>/.
 *
 * Claims are grouped by practice, payer and claim type; each group becomes
 * one or more files of at most the payer's claims_per_file claims, each
 * file one interchange (ISA) with one functional group (GS) of transaction
 * sets (ST) of at most claims_per_transaction claims.
 *
 * For each file, in order:
 *   1. In one ledger transaction: the next queued claims of the group are
 *      read back, checked again against the payer's edits (profiles change)
 *      and written to memory one by one; a claim that fails goes to state
 *      failed with the reason (the practice's worklist) and does not stop
 *      the others.  The control numbers are allocated (and so never used
 *      twice, even if the engine dies now), the batch recorded ("writing")
 *      and its claims moved to batched.
 *   2. The file is written under a temporary name in outbound/<payer>/,
 *      fsync'd, and validated (batch_validate_file).
 *   3. Clean: renamed into place, directory fsync'd, batch and claims ready.
 *      Not clean: the claims a problem points at go to failed with the
 *      problem; the rest go back to queued and into the next file; the
 *      written file is set aside in archive/discarded/<payer>/ with a .error.
 *
 * A batch left "writing" by a crash is settled at the start of the next
 * run: a file renamed into place is validated and made ready; otherwise its
 * claims go back to queued and any partial file is set aside.
 *
 * Another batch run on the same spool at the same time is refused
 * (CH_ERR_BUSY).
 */
#ifndef BATCH_H
#define BATCH_H

#include <stdint.h>
#include <time.h>

#include "batch_validate.h"
#include "config.h"
#include "ledger.h"

typedef struct batch_file_result {
    const char *practice, *payer, *claim_type;
    const char *path;          /* where the file is (outbound/ or archive/discarded/) */
    int64_t batch_id;
    uint64_t isa13;
    unsigned claims, transactions;
    int64_t total_cents;
    uint64_t bytes;
    int discarded;             /* validation found problems; see the claims */
} batch_file_result;

typedef struct batch_claim_failure {
    const char *practice, *payer, *pcn;
    int64_t claim_id;
    const char *why;           /* as recorded in the ledger (no PHI) */
} batch_claim_failure;

typedef struct batch_opts {
    const char *practice, *payer;  /* only these; NULL: all */
    const char *actor;             /* recorded in events; NULL: "batch" */
    batch_validate_fn validate;    /* NULL: batch_validate_file */
    time_t now;                    /* file date and time; 0: the current time */
    void (*on_file)(void *ctx, const batch_file_result *r);
    void (*on_failed)(void *ctx, const batch_claim_failure *f);
    void *ctx;
} batch_opts;

typedef struct batch_report {
    uint64_t files, transactions, claims, claims_failed, bytes;
    uint64_t discarded;        /* files set aside by validation */
    uint64_t recovered;        /* batches settled after a crash */
    int64_t total_cents;
} batch_report;

/*
 * Batch every queued claim (of one practice / payer when asked).  Claims
 * that fail are not errors of this call: they are counted and on the
 * worklist.  Errors: CH_ERR_BUSY, CH_ERR_IO, CH_ERR_DB, CH_ERR_LIMIT
 * (control numbers used up), CH_ERR_CONFIG (a claim's practice or payer is
 * no longer configured: its claims stay queued and the run goes on to the
 * other groups, returning the error at the end).
 */
ch_code batch_run(const config *cfg, ledger *l, const batch_opts *opts, batch_report *rep, ch_error *err);

#endif
