/*
 * intake.h - from spool/inbound/<practice>/ to claims in the ledger.
 *
 * Each encounter file (YAML or JSON; one encounter or a list) is read and
 * checked: form (encounter_read), meaning (encounter_check), the practice's
 * enrollment with the payer, and the payer's edits (payer_profile_check).
 * Good encounters become claims (queued) in one ledger transaction per group
 * of files; then each file is moved:
 *
 *   every encounter good  -> archive/encounters/<practice>/<CCYYMMDD>/<HHMMSS>-<n>/
 *                            (at most 64 files a directory)
 *   any encounter bad     -> failed/<practice>/, with <name>.error beside it
 *                            listing every problem by field path (and which
 *                            encounters of a list were taken anyway)
 *
 * Nothing is deleted.  The ledger commits before a file moves, so a crash
 * between the two only means the file is read again, and the ledger
 * recognizes what it already has (practice + encounter id + content hash):
 * dropping the same encounter twice never makes two claims.
 *
 * Only names ending in .yaml, .yml or .json that do not start with '.' are
 * read: a producer writes under another name and renames into place.
 *
 * Files are read and checked by worker threads; the ledger is written by
 * the calling thread only.  Another intake on the same spool at the same
 * time is refused (CH_ERR_BUSY), via a lock file in the spool root.
 */
#ifndef INTAKE_H
#define INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ledger.h"

typedef struct intake_file_result {
    const char *practice;
    const char *name;          /* base name of the file */
    const char *moved_to;      /* where it is now */
    int failed;                /* moved to failed/ */
    unsigned encounters;       /* encounters read in the file */
    unsigned taken;            /* new, revised or replacement claims */
    unsigned duplicates;       /* already in the ledger */
    unsigned problems;         /* problems listed in the .error */
    const char *first_problem; /* the first line of the .error, or NULL */
} intake_file_result;

typedef struct intake_opts {
    const char *practice;      /* only this practice; NULL: all */
    unsigned jobs;             /* reader threads; 0: one per CPU (at most 8) */
    const char *actor;         /* recorded in events; NULL: "intake" */
    const char *today;         /* CCYYMMDD: later dates are refused; NULL: the current date */
    size_t max_file_bytes;     /* larger files fail; 0: 64 MiB */
    size_t chunk;              /* files per ledger transaction; 0: 4096 */
    /* called for each file after it has been moved; may be NULL */
    void (*on_file)(void *ctx, const intake_file_result *r);
    void *ctx;
} intake_opts;

typedef struct intake_report {
    uint64_t files, files_taken, files_failed;
    uint64_t encounters;       /* read */
    uint64_t claims_new, claims_revised, claims_replacement;
    uint64_t duplicates, refused, invalid;
} intake_report;

/*
 * Take in everything waiting in spool/inbound/ (of one practice, or of all
 * configured ones).  Problems in encounters are not errors of this call:
 * they are counted in rep and written to .error files.  Errors: CH_ERR_BUSY
 * (another intake runs), CH_ERR_IO (the spool), CH_ERR_DB (the ledger),
 * CH_ERR_NOTFOUND (opts->practice is not configured).  An error stops the
 * run; files already moved stay moved, files not yet moved are read again
 * next time.
 */
ch_code intake_run(const config *cfg, ledger *l, const intake_opts *opts, intake_report *rep, ch_error *err);

/*
 * Read and check one encounter document held in memory, as intake does
 * (without the ledger): returns CH_OK when every encounter in it is good,
 * CH_ERR_INVALID with the problems written to report (NUL-terminated,
 * truncated to size) otherwise.  name is used in messages; practice is the
 * inbound directory's practice.  *count receives the number of encounters.
 * For tests and for a future `clearinghouse check`.
 */
ch_code intake_check_buffer(const config *cfg, const char *practice, const char *name, const char *buf, size_t len,
                            const char *today, unsigned *count, char *report, size_t size);

#endif
