/*
 * remit_835.h - a streaming reader of the 835 Health Care Claim Payment/Advice
 * (005010X221A1).
 *
 * Feed it every segment from the tokenizer; it calls back, in file order:
 *
 *   payment      once per transaction set, when its header has been read:
 *                BPR (amount, method, date), TRN (trace number + payer id),
 *                payer N1*PR, payee N1*PE (name, NPI, tax id)
 *   claim        once per 2100 loop (CLP) with its 2110 service lines (SVC),
 *                after the claim's balancing checks
 *   plb          once per PLB segment (provider-level adjustments)
 *   payment_end  at SE (or at the end of input for a set that never closed),
 *                with the set's totals and the payment balancing result
 *
 * Memory is bounded: one payment header and one claim are held at a time;
 * a claim's lines, adjustments and remarks live in pools reused from claim to
 * claim and capped (REMIT_MAX_LINES ...).  Everything handed to a callback is
 * valid only during the call.
 *
 * Money is integer cents (int64_t) everywhere, read with x12_parse_cents.
 *
 * Problems go to the diagnostic callback as x12_diag (never to stderr), and
 * reading goes on: a file that breaks a rule is still read as far as it is
 * readable, and the counts (per claim, per payment, in all) say it was
 * flagged.  Levels follow WEDI/SNIP: 1 an element that is not a number where
 * one is needed, 2 a required value missing or a code that is not allowed,
 * 3 balancing:
 *     835.balance.payment  BPR02 != sum(CLP04) - sum(PLB amounts)
 *     835.balance.claim    CLP03 - CLP04 != claim CAS + line CAS
 *     835.balance.line     SVC02 - SVC03 != line CAS
 * each reported at the segment that carries the total (BPR, CLP, SVC).
 */
#ifndef REMIT_835_H
#define REMIT_835_H

#include <stdint.h>

#include "ch_error.h"
#include "x12_diag.h"
#include "x12_reader.h"

/* Bounds per claim; past them the rest is dropped, an error is reported and
 * the claim's `truncated` flag is set. */
#define REMIT_MAX_LINES 999       /* 2110 loops (the TR3's repeat limit) */
#define REMIT_MAX_ADJ 4096        /* CAS triplets, claim and lines together */
#define REMIT_MAX_REMARKS 4096    /* LQ, MOA and MIA remark codes */
#define REMIT_MAX_REFS 16         /* REF segments kept per claim */
#define REMIT_MAX_AMTS 16         /* AMT segments kept per claim */
#define REMIT_LINE_REFS 8         /* REF segments kept per line */
#define REMIT_LINE_AMTS 8         /* AMT segments kept per line */
#define REMIT_PLB_PAIRS 6         /* adjustment pairs in one PLB */

typedef struct remit_ref {
    char qual[4];     /* REF01: 6R, 1K, EA, 1L, ... */
    char value[51];   /* REF02 */
} remit_ref;

typedef struct remit_amt {
    char qual[4];     /* AMT01: AU, B6, I, ... */
    int64_t amount;   /* AMT02 in cents */
} remit_amt;

/* One CAS triplet. */
typedef struct remit_adj {
    char group[3];      /* CAS01: CO PR OA PI CR */
    char reason[6];     /* CARC */
    int64_t amount;     /* cents; may be negative */
    char quantity[16];  /* "" when absent */
} remit_adj;

/* One remark code (LQ in a line; MOA / MIA at the claim). */
typedef struct remit_remark {
    char qual[4];       /* LQ01 HE (RARC) or RX (NCPDP); "MOA" or "MIA" */
    char code[31];
} remit_remark;

typedef struct remit_line {
    x12_pos pos;              /* of the SVC */
    char proc_q[3];           /* SVC01-1: HC, AD, ER, IV, N4, NU, WK, ... */
    char proc[49];            /* SVC01-2 */
    char mod[4][3];           /* SVC01-3 .. -6 */
    unsigned nmod;
    int64_t charge;           /* SVC02 */
    int64_t paid;             /* SVC03 */
    char revenue_code[49];    /* SVC04 */
    int64_t units_x100;       /* SVC05 in hundredths; 100 when empty */
    char orig_proc_q[3];      /* SVC06: the procedure as billed, when the */
    char orig_proc[49];       /* payer adjudicated another one */
    char orig_mod[4][3];
    unsigned norig_mod;
    char date_from[9];        /* DTM*472, or DTM*150 */
    char date_to[9];          /* DTM*472, or DTM*151 */
    char control[51];         /* REF*6R line item control number */
    int64_t allowed;          /* AMT*B6 */
    int has_allowed;
    remit_ref refs[REMIT_LINE_REFS];
    unsigned nrefs;
    remit_amt amts[REMIT_LINE_AMTS];
    unsigned namts;
    const remit_adj *adj;     /* line CAS */
    unsigned nadj;
    const remit_remark *remarks; /* LQ */
    unsigned nremarks;
    int64_t adj_total;        /* sum of line CAS */
    int64_t pr_total;         /* sum of line CAS in group PR */
    int balanced;             /* SVC02 - SVC03 == adj_total */
} remit_line;

typedef struct remit_person {
    char last[61];     /* NM103 */
    char first[36];    /* NM104 */
    char middle[26];   /* NM105 */
    char id_q[3];      /* NM108: MI, MR, HN, C, XX, ... */
    char id[81];       /* NM109 */
    int present;
} remit_person;

/* What the payer did with a claim, in the engine's terms. */
typedef enum remit_outcome {
    REMIT_PAID = 1,     /* processed, every line paid or owed by the patient */
    REMIT_PARTIAL,      /* processed with payment, but a line was denied */
    REMIT_DENIED,       /* CLP02 4, or nothing paid and nothing owed by the patient */
    REMIT_REVERSAL,     /* CLP02 22: takes back an earlier payment */
} remit_outcome;

typedef struct remit_payment remit_payment;

typedef struct remit_claim {
    x12_pos pos;                /* of the CLP */
    const remit_payment *payment;
    char pcn[39];               /* CLP01 patient control number, as received */
    char status[3];             /* CLP02 claim status code */
    int status_code;            /* CLP02 as a number (0 when not one) */
    int64_t charge;             /* CLP03 */
    int64_t paid;               /* CLP04 */
    int64_t patient_resp;       /* CLP05 (0 when empty) */
    int has_patient_resp;
    char filing_indicator[3];   /* CLP06 */
    char payer_claim_no[51];    /* CLP07 payer claim control number */
    char facility_type[3];      /* CLP08 */
    char frequency[2];          /* CLP09 claim frequency code */
    char drg[5];                /* CLP11 */
    remit_person patient;       /* NM1*QC */
    remit_person insured;       /* NM1*IL */
    remit_person corrected;     /* NM1*74 corrected patient/insured */
    remit_person rendering;     /* NM1*82 */
    char crossover_name[61];    /* NM1*TT */
    char date_from[9];          /* DTM*232 statement from */
    char date_to[9];            /* DTM*233 statement to */
    char received[9];           /* DTM*050 */
    remit_ref refs[REMIT_MAX_REFS];
    unsigned nrefs;
    remit_amt amts[REMIT_MAX_AMTS];
    unsigned namts;
    const remit_adj *adj;       /* claim-level CAS */
    unsigned nadj;
    const remit_remark *remarks; /* MOA / MIA remark codes */
    unsigned nremarks;
    const remit_line *lines;
    unsigned nlines;
    int64_t adj_total;          /* sum of claim-level CAS */
    int64_t line_adj_total;     /* sum of all line CAS */
    int64_t pr_total;           /* claim + line CAS in group PR */
    int balanced;               /* CLP03 - CLP04 == adj_total + line_adj_total */
    int is_reversal;            /* CLP02 22 */
    int is_correction;          /* follows a reversal of the same CLP01 in the set */
    int truncated;              /* a bound was hit: lines or adjustments dropped */
    unsigned errors;            /* error diagnostics inside this claim */
    unsigned index;             /* 1-based within the transaction set */
} remit_claim;

/* One PLB adjustment pair. */
typedef struct remit_plb_adj {
    char reason[3];     /* PLB03-1: WO, L6, FB, 72, CS, ... */
    char ref[51];       /* PLB03-2 reference identification */
    int64_t amount;     /* PLB04; positive reduces the payment */
} remit_plb_adj;

typedef struct remit_plb {
    x12_pos pos;
    char provider_id[51];   /* PLB01 */
    char fiscal_date[9];    /* PLB02 */
    remit_plb_adj adj[REMIT_PLB_PAIRS];
    unsigned nadj;
    int64_t total;          /* sum of the amounts */
} remit_plb;

struct remit_payment {
    x12_pos pos;               /* of the ST */
    char isa_sender[16];       /* ISA06 */
    char isa_usage[2];         /* ISA15 T / P */
    char gs_sender[16];        /* GS02 */
    char isa13[10], gs06[10], st02[10];
    x12_pos bpr_pos;
    char handling[3];          /* BPR01: C, D, H, I, P, U, X */
    int64_t amount;            /* BPR02 (signed by BPR03: D makes it negative) */
    char credit_debit[2];      /* BPR03 */
    char method[4];            /* BPR04: ACH, BOP, CHK, FWT, NON */
    char format[11];           /* BPR05: CCP, CTX */
    char date[9];              /* BPR16 effective / check date */
    char trace_type[3];        /* TRN01 */
    char trace[51];            /* TRN02 check or EFT trace number */
    char trace_payer[11];      /* TRN03 payer's originating company id */
    char trace_payer2[51];     /* TRN04 */
    char receiver_id[51];      /* REF*EV */
    char production_date[9];   /* DTM*405 */
    char payer_name[61];       /* N1*PR N102 */
    char payer_id_q[3];        /* N103 (XV) */
    char payer_id[81];         /* N104 */
    char payer_ref[51];        /* REF*2U payer identification */
    char payee_name[61];       /* N1*PE N102 */
    char payee_id_q[3];        /* N103: XX, FI, XV */
    char payee_id[81];         /* N104 */
    char payee_npi[11];        /* N104 when N103 = XX */
    char payee_tax_id[51];     /* N104 when FI, else REF*TJ */
    /* running totals, final at payment_end */
    unsigned nclaims, nlines, nplb;
    int64_t total_charge;      /* sum CLP03 */
    int64_t total_paid;        /* sum CLP04 */
    int64_t total_plb;         /* sum of PLB amounts */
    int complete;              /* an SE closed the set */
    int balanced;              /* BPR02 == total_paid - total_plb */
    unsigned errors;           /* error diagnostics inside this set */
    unsigned balance_errors;   /* level 3 diagnostics inside this set */
};

typedef struct remit_835_events {
    void (*payment)(void *ctx, const remit_payment *p);
    void (*claim)(void *ctx, const remit_payment *p, const remit_claim *c);
    void (*plb)(void *ctx, const remit_payment *p, const remit_plb *plb);
    void (*payment_end)(void *ctx, const remit_payment *p);
    void *ctx;
} remit_835_events;

typedef struct remit_835_stats {
    unsigned payments, claims, lines, plbs;
    unsigned errors, warnings;   /* all diagnostics, tokenizer and envelope too */
    unsigned balance_errors;     /* level 3 */
    unsigned unbalanced_payments;
} remit_835_stats;

typedef struct remit_835 remit_835;

/* Create a reader.  name is used in diagnostics (copied).  events and on_diag
 * may be NULL.  Returns NULL when out of memory. */
remit_835 *remit_835_new(const char *name, const remit_835_events *events,
                         x12_diag_fn on_diag, void *diag_ctx);

/* Feed the next segment (every segment of the stream, envelopes too;
 * transaction sets other than 835 are skipped with a warning). */
void remit_835_feed(remit_835 *r, const x12_segment *seg);

/* End of input: delivers the claim and payment still open (flagged
 * incomplete when no SE came). */
void remit_835_finish(remit_835 *r);

/* Counts so far. */
const remit_835_stats *remit_835_stats_get(const remit_835 *r);

void remit_835_free(remit_835 *r);

/*
 * Read a whole input through the tokenizer, the envelope checker and the
 * reader, and report every diagnostic of the three to on_diag.  stats may be
 * NULL.  Returns CH_OK when the input was read to its end (problems in it are
 * in the stats and diagnostics), CH_ERR_SYNTAX when the tokenizer could not go
 * on (callbacks were made for everything before; err says where),
 * CH_ERR_NOMEM.
 */
ch_code remit_835_read_fd(int fd, const char *name, const remit_835_events *events,
                          x12_diag_fn on_diag, void *diag_ctx, remit_835_stats *stats,
                          ch_error *err);
ch_code remit_835_read_mem(const void *buf, size_t len, const char *name,
                           const remit_835_events *events, x12_diag_fn on_diag, void *diag_ctx,
                           remit_835_stats *stats, ch_error *err);

/* --- helpers ---------------------------------------------------------------- */

/* paid, partial, denied or reversal (see remit_outcome). */
remit_outcome remit_claim_outcome(const remit_claim *c);
const char *remit_outcome_name(remit_outcome o);

/* Sum of the adjustments in group ("CO", ...; NULL: all). */
int64_t remit_adj_sum(const remit_adj *adj, unsigned n, const char *group);

/* The value of the first REF / AMT with this qualifier, or NULL / 0. */
const char *remit_claim_ref(const remit_claim *c, const char *qual);
int remit_claim_amt(const remit_claim *c, const char *qual, int64_t *amount);

/* A remittance's identity: "TRN03/TRN02" (the payer's id when TRN03 is
 * empty), written into buf.  Reconciling a remittance whose key was seen
 * before changes nothing.  Returns buf. */
char *remit_payment_key(const remit_payment *p, char *buf, size_t size);

#endif
