/*
 * collect.h - responses from payers into spool/inbox/<payer>/
 * (`clearinghouse collect`).
 *
 * For each payer whose profile has a response location, one transport
 * session and one transport_collect pass: each waiting file matching
 * response_pattern is downloaded into spool/inbox/<payer>/ (temporary name,
 * fsync, mode 0600, rename), recorded in the ledger's received_files (name,
 * size, SHA-256, local path, state `new`) and only then removed or archived
 * on the payer's side, as after_collect says.  The same content twice is
 * kept once: the second copy is not recorded and its local file is deleted
 * (the remote one is still removed/archived).  A crash between the download
 * and the record leaves the remote file; the next pass finds the same
 * content under the same local name and records it then.
 */
#ifndef COLLECT_H
#define COLLECT_H

#include <stdint.h>

#include "ch_error.h"
#include "config.h"
#include "ledger.h"

typedef struct collect_file_result {
    const char *payer;
    const char *name;          /* on the payer's side */
    const char *local_path;
    uint64_t size;
    const char *sha256;
    int duplicate;             /* the same content was received before */
} collect_file_result;

typedef struct collect_opts {
    const char *payer;         /* NULL: every payer with a response location */
    void (*on_file)(void *ctx, const collect_file_result *r);
    /* a payer that could not be collected from (one line each) */
    void (*on_payer_error)(void *ctx, const char *payer, const char *why);
    void *ctx;
} collect_opts;

typedef struct collect_report {
    uint64_t payers;           /* payers collected from */
    uint64_t files;            /* recorded now */
    uint64_t duplicates;       /* seen before: kept once */
    uint64_t bytes;
    uint64_t payer_errors;     /* payers with a failure (see on_payer_error) */
} collect_report;

/* One collect pass.  CH_OK unless the spool or the ledger fails (err);
 * per-payer failures are counted and reported through on_payer_error. */
ch_code collect_run(const config *cfg, ledger *led, const collect_opts *o, collect_report *rep, ch_error *err);

#endif
