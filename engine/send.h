/*
 * send.h - ready batches to their payers (`clearinghouse send`).
 *
 * For each payer with batches to send, one transport session (the profile's
 * `transport:` section, docs/transport.md):
 *
 *   1. batches left in `sending` (a crash, or a failed attempt waiting for
 *      its retry) are checked on the payer's side first
 *      (transport_check_delivered): delivered -> `sent`; not there -> sent
 *      again under the same name; cannot tell -> left in `sending` with the
 *      reason, for an operator.  Never resent blind.
 *   2. each `ready` batch gets its remote name and moves ready -> sending
 *      with its claims in one transaction BEFORE anything is uploaded, then
 *      transport_put (temporary name + rename), then sending -> sent in one
 *      transaction.
 *
 * A failed attempt is counted in the ledger with the time of the next one
 * (exponential backoff with full jitter, transport_retry_delay), so retries
 * continue across runs; a run waits in-process for a retry only while its
 * wait budget (max_wait_ms) lasts.  Past the payer's `retries`, or on a
 * failure that will not fix itself (host key, certificate, login, HTTP 4xx),
 * the batch becomes `failed` and its claims go to the worklist with the
 * reason (payer, step, what the server said; never a secret).  After such a
 * refusal the payer's other batches wait for the next run.
 *
 * Test hook: CH_TEST_CRASH_AT=after_sending|after_upload (after_rename is the
 * same point: transport_put renames before it returns) makes the process
 * SIGKILL itself there, to show that a second run delivers each batch
 * exactly once.
 */
#ifndef SEND_H
#define SEND_H

#include <stdint.h>

#include "ch_error.h"
#include "config.h"
#include "ledger.h"
#include "transport.h"

typedef enum send_status {
    SEND_SENT = 0,      /* delivered now */
    SEND_FOUND,         /* found delivered on the payer's side (after a crash) */
    SEND_RETRY,         /* failed; the next attempt is scheduled (next_attempt_ms) */
    SEND_WAITING,       /* its next attempt is not due yet: untouched */
    SEND_HELD,          /* cannot tell whether it arrived: left for an operator */
    SEND_FAILED,        /* given up: batch failed, claims on the worklist */
    SEND_SKIPPED        /* its payer cannot be reached (no transport, session refused) */
} send_status;

const char *send_status_name(send_status s); /* "sent", "found", ... */

typedef struct send_batch_result {
    const char *payer;
    int64_t batch_id;
    const char *file;          /* local path */
    const char *remote_name;   /* "" when none was decided */
    send_status status;
    unsigned attempts;         /* failed attempts so far */
    unsigned max_attempts;
    int64_t next_attempt_ms;   /* SEND_RETRY / SEND_WAITING: epoch ms */
    uint64_t bytes;
    const char *why;           /* the reason for anything but sent / found */
} send_batch_result;

typedef struct send_opts {
    const char *payer;         /* NULL: every payer */
    long max_wait_ms;          /* in-process waiting for retries per run; < 0: 60000;
                                  0: one attempt per batch, retries left to later runs */
    void (*on_batch)(void *ctx, const send_batch_result *r);
    void *ctx;
} send_opts;

typedef struct send_report {
    uint64_t payers;           /* payers with something to send */
    uint64_t sent, found, retry, waiting, held, failed, skipped;
    uint64_t bytes;            /* bytes of the batches delivered now */
} send_report;

/*
 * Run one send pass.  Returns CH_OK unless the ledger or the spool fails
 * (err): what happened to each batch is in the report and on_batch.
 */
ch_code send_run(const config *cfg, ledger *led, const send_opts *o, send_report *rep, ch_error *err);

/* 1 when the transport has somewhere to upload to. */
int send_can_upload(const transport_config *tc);

/* A `dir` transport's directories inside the spool are created (0700) when
 * missing; others (a mounted share) must exist already. */
ch_code send_local_dirs(const config *cfg, const transport_config *tc, ch_error *err);

#endif
