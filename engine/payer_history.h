/*
 * payer_history.h - what the synthetic payer (payer_sim.h) adjudicated, so
 * that a later replacement or void can take the payment back.
 *
 * One line per adjudicated claim, appended to a text file the payer keeps
 * (the demo payer: <its upload directory>/answered/adjudications.tsv):
 *
 *   PAYER_CLAIM_NO TAB PCN TAB CHARGE TAB PAID TAB PATIENT TAB CO45 TAB CO50 TAB P|I
 *
 * amounts in integer cents: the charge, the payment, the patient's share,
 * the contractual (CO-45) and denied (CO-50) amounts, which add up to the
 * charge.  A number adjudicated again (a file answered twice) appends the
 * same line; the last line of a number counts.  The file belongs to the
 * payer's side, never to the engine's logs.
 */
#ifndef PAYER_HISTORY_H
#define PAYER_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "ch_error.h"

typedef struct payer_adjudication {
    char payer_claim_no[51];
    char pcn[39];           /* CLM01 of the claim adjudicated */
    int64_t charge, paid, patient, co45, co50;
    int institutional;
} payer_adjudication;

/* a's line (with its line break) into buf: its length, or -1 when it
 * cannot be stored (no number, a tab or line break in a value, too long). */
int payer_history_line(const payer_adjudication *a, char *buf, size_t size);

/* Append len bytes of lines to the history (created 0600 when missing),
 * then fsync: one call per file answered.  CH_ERR_IO. */
ch_code payer_history_append(const char *path, const char *text, size_t len, ch_error *err);

/* The last adjudication of payer claim number no into *out: CH_OK,
 * CH_ERR_NOTFOUND (not there, or no file yet), CH_ERR_IO. */
ch_code payer_history_find(const char *path, const char *no, payer_adjudication *out, ch_error *err);

/* What a claim of frequency ("7", "8", or anything else: none) naming the
 * payer's claim number no (REF*F8) takes back: the last adjudication of no
 * in the history at path (NULL: none kept).  CH_OK, CH_ERR_NOTFOUND (nothing
 * to take back), CH_ERR_IO (err). */
ch_code payer_history_taken_back(const char *path, const char *frequency, const char *no, payer_adjudication *out,
                                 ch_error *err);

#endif
