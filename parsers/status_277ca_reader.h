/*
 * status_277ca_reader.h - a streaming reader of the 277CA Health Care Claim
 * Acknowledgment (005010X214): the payer's or clearinghouse's front-end
 * verdict on each claim, before adjudication.
 *
 * The 277CA is a hierarchy: 2000A information source (payer), 2000B
 * information receiver (us), 2000C billing provider, 2000D patient, and under
 * the patient one 2200D loop per claim (TRN, STC, REF, DTP) with optional
 * 2220D service lines.  Levels A to C may carry their own statuses (a whole
 * batch or a provider's claims rejected); each is delivered when it ends, and
 * each claim when it ends, with:
 *
 *   pcn            TRN02 of 2200D = the CLM01 we sent
 *   ch_trace       REF*D9 = the clearinghouse trace number we sent
 *   payer_claim_no REF*1K, the payer's claim number when accepted
 *   statuses       every STC composite (category, status code, entity) and
 *                  a verdict: accepted, rejected or pending, with the texts
 *                  of the codes as a readable reason
 *
 * Memory: one level of each kind and one claim at a time; statuses per
 * claim, line and level are capped at STATUS_277_MAX_STC, lines per claim at
 * STATUS_277_MAX_LINES (past them: an error and the claim's truncated flag).
 */
#ifndef STATUS_277CA_READER_H
#define STATUS_277CA_READER_H

#include <stdint.h>

#include "ch_error.h"
#include "x12_diag.h"
#include "x12_reader.h"

#define STATUS_277_MAX_STC 8      /* STC segments kept per claim, line or level */
#define STATUS_277_MAX_LINES 999

/* One C043 health care claim status composite (STC01, STC10 or STC11). */
typedef struct status_277_code {
    char category[4];   /* -1 claim status category code (list 507): A1, A7, ... */
    char code[6];       /* -2 claim status code (list 508): 20, 562, ... */
    char entity[4];     /* -3 entity identifier code: 85, IL, ... */
    char qualifier[4];  /* -4 code list qualifier (RX, ...) */
} status_277_code;

typedef struct status_277_stc {
    x12_pos pos;
    status_277_code codes[3];
    unsigned ncodes;
    char date[9];        /* STC02 */
    char action[3];      /* STC03: WQ accepted, U rejected */
    int64_t amount;      /* STC04 total claim charge, cents */
    int has_amount;
    char message[265];   /* STC12 free-form message (may be PHI) */
} status_277_stc;

typedef enum status_277_verdict {
    STATUS_277_NONE = 0,     /* no status given */
    STATUS_277_ACCEPTED,     /* A0, A1, A2, A5 and nothing rejecting */
    STATUS_277_REJECTED,     /* any A3, A4, A6, A7, A8 or E0-E4 */
    STATUS_277_PENDING,      /* P0-P5, R*, and nothing deciding */
} status_277_verdict;

/* The statuses of one claim, line or level, judged together. */
typedef struct status_277_status {
    status_277_stc stc[STATUS_277_MAX_STC];
    unsigned nstc;
    status_277_verdict verdict;
    char reason[768];    /* "A7 (Acknowledgement/Rejected for Invalid ...): 562 (...), entity 85 (...)" */
} status_277_status;

typedef enum status_277_level_kind {
    STATUS_277_SOURCE = 1,   /* 2000A HL*20: the payer or clearinghouse */
    STATUS_277_RECEIVER,     /* 2000B HL*21: who sent the claims (us) */
    STATUS_277_PROVIDER,     /* 2000C HL*19: billing provider */
} status_277_level_kind;

typedef struct status_277_level {
    x12_pos pos;             /* of the HL */
    status_277_level_kind kind;
    char name[61];           /* NM103 */
    char id_q[3];            /* NM108 */
    char id[81];             /* NM109: payer id, ETIN, NPI */
    char trace[51];          /* TRN02 */
    char received[9];        /* 2200A DTP*050 */
    char processed[9];       /* 2200A DTP*009 */
    unsigned qty_accepted;   /* QTY*90 */
    unsigned qty_rejected;   /* QTY*AA */
    int64_t amt_accepted;    /* AMT*YU, cents */
    int64_t amt_rejected;    /* AMT*YY, cents */
    status_277_status status;
} status_277_level;

typedef struct status_277_line {
    x12_pos pos;             /* of the SVC */
    char proc_q[3];
    char proc[49];
    char mod[4][3];
    unsigned nmod;
    int64_t charge;          /* SVC02 */
    char control[51];        /* REF*FJ line item control number we sent */
    char date_from[9], date_to[9];
    status_277_status status;
} status_277_line;

typedef struct status_277_claim {
    x12_pos pos;                  /* of the TRN that starts it */
    const status_277_level *source, *receiver, *provider; /* NULL when absent */
    char patient_last[61], patient_first[36];
    char member_id_q[3], member_id[81];   /* NM1*QC 08/09 */
    char pcn[51];                 /* TRN02 (the CLM01 we sent) */
    char payer_claim_no[51];      /* REF*1K */
    char ch_trace[51];            /* REF*D9 */
    char bill_type[4];            /* REF*BLT */
    char date_from[9], date_to[9];/* DTP*472 (D8 or RD8) */
    status_277_status status;
    const status_277_line *lines;
    unsigned nlines;
    int truncated;
    unsigned errors;              /* error diagnostics inside this claim */
} status_277_claim;

typedef struct status_277_events {
    void (*level)(void *ctx, const status_277_level *l);
    void (*claim)(void *ctx, const status_277_claim *c);
    void *ctx;
} status_277_events;

typedef struct status_277_stats {
    unsigned sets, levels, claims, accepted, rejected, pending, no_status;
    unsigned errors, warnings;
} status_277_stats;

typedef struct status_277_reader status_277_reader;

status_277_reader *status_277_new(const char *name, const status_277_events *events,
                                  x12_diag_fn on_diag, void *diag_ctx);
void status_277_feed(status_277_reader *r, const x12_segment *seg);
void status_277_finish(status_277_reader *r);
const status_277_stats *status_277_stats_get(const status_277_reader *r);
void status_277_free(status_277_reader *r);

ch_code status_277_read_fd(int fd, const char *name, const status_277_events *events,
                           x12_diag_fn on_diag, void *diag_ctx, status_277_stats *stats,
                           ch_error *err);
ch_code status_277_read_mem(const void *buf, size_t len, const char *name,
                            const status_277_events *events, x12_diag_fn on_diag, void *diag_ctx,
                            status_277_stats *stats, ch_error *err);

/* The verdict of one category code (A2 -> accepted). */
status_277_verdict status_277_category_verdict(const char *category);
const char *status_277_verdict_name(status_277_verdict v);

#endif
