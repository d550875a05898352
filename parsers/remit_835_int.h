/*
 * remit_835_int.h - what the files of the streaming 835 reader share: the
 * reader's state and the functions one of them calls in another.  Not a
 * public API: see remit_835.h.
 *
 *   remit_835.c          the state machine (remit_835_feed), the claims
 *                        (2100) and lines (2110) it builds, the pools that
 *                        hold their adjustments and remarks, PLB
 *   remit_835_payment.c  the transaction set around the claims: ST, the
 *                        header (BPR, TRN, N1, REF), SE and the payment's
 *                        balancing
 *   remit_835_api.c      the reader's life and counts, its diagnostics,
 *                        whole inputs, helpers on what it delivers
 *   remit_835_elem.h     reading an element into a field or an amount
 *                        (static in the two files that read segments)
 *
 * What runs per segment or per claim stays in remit_835.c with its callers,
 * so that the compiler can inline it; a call from one file to another runs
 * once per payment, or on a problem.
 */
#ifndef REMIT_835_INT_H
#define REMIT_835_INT_H

#include <string.h>

#include "remit_835.h"

/* Comparisons with string literals, without strlen: on every segment. */
#define EQ(str, lit) ((str).len == sizeof(lit) - 1 && !memcmp((str).p, lit, sizeof(lit) - 1))
#define IS(seg, lit) EQ((seg)->tag, lit)

enum state {
    S_OUT,      /* outside a transaction set */
    S_SKIP,     /* inside a set that is not an 835 */
    S_HEADER,   /* ST .. before the first N1 */
    S_PAYER,    /* 1000A */
    S_PAYEE,    /* 1000B */
    S_LX,       /* 2000, between claims */
    S_CLAIM,    /* 2100 */
    S_LINE,     /* 2110 */
    S_TRAILER,  /* PLB */
};

struct remit_835 {
    char name[256];
    remit_835_events ev;
    x12_diag_fn on_diag;
    void *diag_ctx;
    remit_835_stats st;
    enum state state;
    int in_set;              /* an 835 ST is open */
    int payment_sent;
    int claim_open;
    int sep_warned;          /* composite separator mismatch reported in this set */
    char isa_sender[16], isa_usage[2], gs_sender[16];
    char last_reversal[39];  /* CLP01 of the claim before, when it was a reversal */
    x12_pos last_pos;
    remit_payment pay;
    remit_claim claim;
    /* pools reused from claim to claim */
    remit_line *lines;
    unsigned nlines, cap_lines;
    unsigned *line_adj0, *line_rem0; /* where each line's CAS / LQ start */
    remit_adj *adj;
    unsigned nadj, cap_adj, claim_nadj;
    remit_remark *rem;
    unsigned nrem, cap_rem, claim_nrem;
};

/* --- remit_835_api.c: diagnostics --------------------------------------------- */

/* Count a diagnostic against the totals, the open payment and the open claim. */
void r835_count(remit_835 *r, x12_severity sev, int level);
/* Count and report a diagnostic (message from fmt). */
void r835_diag(remit_835 *r, const x12_pos *pos, const char *tag, x12_severity sev, int level,
               const char *code, int elem, int comp, const char *expected, const char *fmt, ...)
    __attribute__((format(printf, 10, 11)));
/* The same with the offending value as `found` (may be PHI: never logged). */
void r835_diag_found(remit_835 *r, const x12_segment *s, x12_severity sev, int level,
                     const char *code, int elem, int comp, x12_str found,
                     const char *expected, const char *msg);
/* The segment's tag as a string in buf. */
const char *r835_tag(const x12_segment *s, char buf[4]);

/* --- remit_835.c: the claim --------------------------------------------------- */

/* Deliver the payment header once, before its first claim or PLB. */
void r835_send_payment(remit_835 *r);
/* Check, deliver and forget the open claim (if any). */
void r835_finish_claim(remit_835 *r);

/* --- remit_835_payment.c: the transaction set --------------------------------- */

/* ST*835: a new payment. */
void r835_start_payment(remit_835 *r, const x12_segment *s);
/* Close the open payment (if any): its last claim, its balancing, payment_end;
 * complete when an SE closed it. */
void r835_end_payment(remit_835 *r, int complete, const x12_pos *pos);
/* The header segments. */
void r835_seg_bpr(remit_835 *r, const x12_segment *s);
void r835_seg_trn(remit_835 *r, const x12_segment *s);
void r835_seg_n1(remit_835 *r, const x12_segment *s);
void r835_seg_ref(remit_835 *r, const x12_segment *s);

#endif
