/*
 * payer_sim.h - a synthetic payer: answers an 837 like a payer would.
 *
 * The demo payer's answering side, `clearinghouse payer-answer` and the
 * end-to-end tests use it.  For each 837 file received it writes a 277CA
 * (each claim accepted with a payer claim number "P" + its CLM01, or
 * rejected when it bills a procedure the rules reject) and an 835 for the
 * accepted claims (each line paid at paid_percent of its charge less the
 * patient's share, with the rest adjusted CO-45; a line whose procedure is
 * denied is adjusted CO-50 and paid nothing; a claim with no line paid is
 * denied).  Every amount is integer cents and every 835 balances.  Decisions
 * come from the rules, which are data in the payer profile (`simulator:`),
 * never from code.
 *
 * Replacements and voids (CLM05-3 7 and 8) name the payer's claim number of
 * the claim they change (REF*F8).  When the payer keeps a history of what it
 * adjudicated (sim_rules.history), their 835 first takes that payment back:
 * a reversal (CLP02 22, CLP01 the CLM01 received, CLP07 the number in
 * REF*F8, every amount negated); a replacement is then adjudicated as a new
 * claim (its correction), a void is not.  Without a history, or for a number
 * not in it, nothing is taken back.
 *
 * The 999 for the file comes from the engine's own validator and
 * acknowledgment writer, as for any file received (demo_payer.h), with the
 * payer's own code edits (reject_999) added.
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
    char reject_999[SIM_MAX_CODES][6]; /* procedures whose transaction set the 999 rejects (IK403 7) */
    unsigned nreject_999;
    char date[9];            /* CCYYMMDD of the answers ("" = today) */
    const char *history;     /* file of the payer's adjudications (appended to,
                                read for reversals); NULL: none kept.  Not owned. */
} sim_rules;

/* Defaults: demo payer id and name, 80% paid, 20% patient share, no codes,
 * no history. */
void payer_sim_defaults(sim_rules *r);

/* 1 when code is one of the n codes (a rule list of sim_rules). */
int payer_sim_listed(const char (*codes)[6], unsigned n, const char *code);

typedef struct sim_result {
    unsigned claims, accepted, rejected, paid, partial, denied;
    unsigned reversals;             /* payments taken back (replacements, voids) */
    long long billed, paid_cents;   /* totals in cents (paid_cents net of reversals) */
    char ack_277[4096], remit_835[4096]; /* paths written ("" when none) */
} sim_result;

/*
 * Answer the 837 at in_path: write <out_dir>/<base>.277ca and, when any claim
 * was accepted, <out_dir>/<base>.835 (temporary name, fsync, rename, 0600).
 * control is the ISA13/GS06 base for the answers (each file takes one).
 * With rules->history, each claim adjudicated is appended to it (answering
 * the same file again appends the same lines; the last line of a number
 * counts).  Returns CH_OK, CH_ERR_IO, CH_ERR_SYNTAX (the 837 could not be
 * read).
 */
ch_code payer_sim_answer(const char *in_path, const char *out_dir, const sim_rules *rules,
                         unsigned long control, sim_result *res, ch_error *err);

#endif
