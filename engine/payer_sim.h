/*
 * payer_sim.h - a synthetic payer: answers an 837 like a payer would.
 *
 * The demo payer's answering side and the end-to-end tests use it.  For each
 * 837 file received it writes a 277CA (each claim accepted, or rejected when
 * it bills a procedure the rules reject) and an 835 for the accepted claims
 * (each line paid at paid_percent of its charge less the patient's share,
 * with the rest adjusted CO-45; a line whose procedure is denied is adjusted
 * CO-50 and paid nothing; a claim with no line paid is denied).  Every amount
 * is integer cents and every 835 balances.  Decisions come from the rules,
 * which are data in the payer profile (`simulator:`), never from code.
 *
 * The 999 for the file comes from the engine's own validator and
 * acknowledgment writer, as for any file received.
 */
#ifndef PAYER_SIM_H
#define PAYER_SIM_H

#include "ch_error.h"

#define SIM_MAX_CODES 32

typedef struct sim_rules {
    char payer_id[16];       /* ISA06 / GS02 of the answers, N1*PR id */
    char payer_name[61];
    unsigned paid_percent;   /* of each line's charge: the allowed amount */
    unsigned patient_percent;/* of the allowed amount: patient responsibility (PR-2) */
    char reject[SIM_MAX_CODES][6]; /* procedures the 277CA rejects (A7:454) */
    unsigned nreject;
    char deny[SIM_MAX_CODES][6];   /* procedures the 835 denies (CO-50) */
    unsigned ndeny;
    char date[9];            /* CCYYMMDD of the answers ("" = today) */
} sim_rules;

/* Defaults: demo payer id and name, 80% paid, 20% patient share, no codes. */
void payer_sim_defaults(sim_rules *r);

typedef struct sim_result {
    unsigned claims, accepted, rejected, paid, partial, denied;
    long long billed, paid_cents;   /* totals in cents */
    char ack_277[4096], remit_835[4096]; /* paths written ("" when none) */
} sim_result;

/*
 * Answer the 837 at in_path: write <out_dir>/<base>.277ca and, when any claim
 * was accepted, <out_dir>/<base>.835 (temporary name, fsync, rename, 0600).
 * control is the ISA13/GS06 base for the answers (each file takes one).
 * Returns CH_OK, CH_ERR_IO, CH_ERR_SYNTAX (the 837 could not be read).
 */
ch_code payer_sim_answer(const char *in_path, const char *out_dir, const sim_rules *rules,
                         unsigned long control, sim_result *res, ch_error *err);

#endif
