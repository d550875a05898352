/*
 * ack_999_reader.h - a streaming reader of the 999 Implementation
 * Acknowledgment (005010X231A1) that a payer or clearinghouse sends back for
 * the functional groups we sent.
 *
 * Feed it every segment; it calls back per functional group acknowledged
 * (AK1 .. AK9) and per transaction set acknowledged (AK2 .. IK5):
 *
 *   group_begin  at AK1: the group control number (AK102 = the GS06 we sent)
 *   set          at IK5: the set control number (AK202 = the ST02 we sent),
 *                accepted or rejected, and every IK3/IK4 error under it turned
 *                into a readable reason ("CLM02 (data element 782) in segment
 *                CLM at position 22: Required Data Element Missing (IK403 1)")
 *   group_end    at AK9: the group's status and counts
 *
 * Matching AK102/AK202 to the batch and set sent, and marking their claims
 * acknowledged or rejected, is the caller's (see docs/reconciliation.md).
 *
 * A 999 that breaks its own rules (IK5 before AK1, an AK2 without IK5, no AK9)
 * is still read as far as it goes; problems go to the diagnostic callback
 * (codes "999.*") and count in the stats, so the caller can flag the file.
 * Memory: one group and one set at a time; a set's errors are capped at
 * ACK_999_MAX_ERRORS (the rest counted in `dropped`).
 */
#ifndef ACK_999_READER_H
#define ACK_999_READER_H

#include <stdint.h>

#include "ch_error.h"
#include "x12_diag.h"
#include "x12_reader.h"

#define ACK_999_MAX_ERRORS 1000

/* One error: an IK3 segment error, or one IK4 element error under it. */
typedef struct ack_999_error {
    x12_pos pos;              /* of the IK3 (or IK4) */
    char segment[4];          /* IK301 segment id, e.g. CLM */
    uint32_t seg_position;    /* IK302: position in the set we sent (ST = 1) */
    char loop[7];             /* IK303 loop id, "" when not given */
    char seg_code[4];         /* IK304 segment error code, "" when none */
    int has_element;          /* an IK4 follows: the element fields are set */
    unsigned elem;            /* IK401-1 element position */
    unsigned comp;            /* IK401-2 component position, 0 when none */
    unsigned rep;             /* IK401-3 repetition, 0 when none */
    char elem_ref[7];         /* IK402 data element reference number */
    char elem_code[5];        /* IK403 element error code */
    char bad_value[100];      /* IK404 copy of the bad value (may be PHI: never log) */
    char context[100];        /* CTX under the IK3 (e.g. "CLM01:ABC123"; may be PHI) */
    char claim_ref[39];       /* the value of a CTX CLM01 context: the claim's PCN */
    char reason[320];         /* the error in words, without PHI */
} ack_999_error;

typedef struct ack_999_group {
    x12_pos pos;              /* of the AK1 */
    char fid[3];              /* AK101 functional id of the group acknowledged (HC) */
    char control[10];         /* AK102 = GS06 of the group we sent */
    char version[13];         /* AK103 */
    char status[2];           /* AK901: A, E, P, R, M, W, X ("" until AK9) */
    unsigned included, received, accepted; /* AK902 .. AK904 */
    char codes[5][4];         /* AK905 .. AK909 */
    unsigned ncodes;
    unsigned nsets, nsets_accepted, nsets_rejected; /* AK2 loops read */
    int complete;             /* an AK9 closed it */
    char summary[320];        /* status and codes in words */
} ack_999_group;

typedef struct ack_999_set {
    x12_pos pos;              /* of the AK2 */
    const ack_999_group *group;
    char set_id[4];           /* AK201, e.g. 837 */
    char control[10];         /* AK202 = ST02 of the set we sent */
    char impl[36];            /* AK203 */
    char status[2];           /* IK501: A, E, M, R, W, X */
    char codes[5][4];         /* IK502 .. IK506 */
    unsigned ncodes;
    int accepted;             /* IK501 A or E: the set's claims are acknowledged */
    int complete;             /* an IK5 closed it */
    int orphan;               /* IK3/IK4/IK5 without an AK2: the set is unknown,
                                 nothing can be marked (accepted is 0) */
    const ack_999_error *errors;
    unsigned nerrors;
    unsigned dropped;         /* errors past ACK_999_MAX_ERRORS */
    char summary[320];        /* "rejected: One or More Segments in Error (IK502 5)" */
} ack_999_set;

typedef struct ack_999_events {
    void (*group_begin)(void *ctx, const ack_999_group *g);
    void (*set)(void *ctx, const ack_999_group *g, const ack_999_set *s);
    void (*group_end)(void *ctx, const ack_999_group *g);
    void *ctx;
} ack_999_events;

typedef struct ack_999_stats {
    unsigned groups, sets, sets_accepted, sets_rejected, errors_listed;
    unsigned errors, warnings;  /* diagnostics, tokenizer and envelope included */
} ack_999_stats;

typedef struct ack_999_reader ack_999_reader;

/* name is copied; events and on_diag may be NULL.  NULL when out of memory. */
ack_999_reader *ack_999_new(const char *name, const ack_999_events *events, x12_diag_fn on_diag,
                            void *diag_ctx);
void ack_999_feed(ack_999_reader *r, const x12_segment *seg);
/* End of input: delivers what is still open (flagged incomplete). */
void ack_999_finish(ack_999_reader *r);
const ack_999_stats *ack_999_stats_get(const ack_999_reader *r);
void ack_999_free(ack_999_reader *r);

/* A whole input through tokenizer + envelope checker + reader; returns like
 * remit_835_read_fd (CH_OK when read to the end). */
ch_code ack_999_read_fd(int fd, const char *name, const ack_999_events *events,
                        x12_diag_fn on_diag, void *diag_ctx, ack_999_stats *stats, ch_error *err);
ch_code ack_999_read_mem(const void *buf, size_t len, const char *name,
                         const ack_999_events *events, x12_diag_fn on_diag, void *diag_ctx,
                         ack_999_stats *stats, ch_error *err);

/* The reason for one error, as in ack_999_error.reason. Returns buf. */
char *ack_999_error_reason(const ack_999_error *e, char *buf, size_t size);

#endif
