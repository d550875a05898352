/*
 * x12_envelope.h - interchange / functional group / transaction set envelopes.
 *
 * Feed every segment of a stream to x12_env_feed(); the checker follows
 * ISA/IEA, GS/GE and ST/SE, reports envelope problems (level 1: counts,
 * control numbers, missing trailers, segments outside their envelope,
 * ISA/GS field formats) through the diagnostic callback, and calls the event
 * callbacks as envelopes open and close, with a summary of each.  It keeps
 * one interchange, one group and one transaction in memory, never a list, so
 * its memory does not depend on the file.
 */
#ifndef X12_ENVELOPE_H
#define X12_ENVELOPE_H

#include "x12_reader.h"

typedef struct x12_isa_info {
    uint32_t index;          /* 1-based in the file */
    uint64_t offset;         /* byte offset of the ISA */
    x12_delims delims;
    char auth_q[3], sec_q[3];
    char sender_q[3], sender[16], receiver_q[3], receiver[16];
    char date[7], time[5];   /* YYMMDD, HHMM */
    char version[6];         /* ISA12, e.g. 00501 */
    char control[10];        /* ISA13 */
    char ack_requested[2];   /* ISA14 */
    char usage[2];           /* ISA15: P production, T test, I information */
    unsigned ngroups;        /* groups seen so far */
    int closed;              /* an IEA was read */
    char iea_count[12], iea_control[16];
} x12_isa_info;

typedef struct x12_gs_info {
    uint32_t index;          /* 1-based in the interchange */
    uint64_t offset;
    char fid[3];             /* GS01, e.g. HC */
    char sender[16], receiver[16];
    char date[9], time[9];
    char control[10];        /* GS06 */
    char agency[3];          /* GS07 */
    char version[13];        /* GS08, e.g. 005010X222A1 */
    unsigned nsets;          /* transaction sets seen so far */
    int closed;
    char ge_count[12], ge_control[16];
} x12_gs_info;

typedef struct x12_st_info {
    uint32_t index;          /* 1-based in the group */
    uint64_t offset;         /* byte offset of the ST */
    uint64_t seg_no;         /* segment number of the ST in the file */
    char id[4];              /* ST01, e.g. 837 */
    char control[10];        /* ST02 */
    char impl[36];           /* ST03 */
    uint32_t nseg;           /* segments ST..SE counted */
    int closed;              /* an SE was read */
    char se_count[12], se_control[16];
} x12_st_info;

typedef struct x12_env_events {
    void (*isa_open)(void *ctx, const x12_isa_info *isa);
    void (*gs_open)(void *ctx, const x12_isa_info *isa, const x12_gs_info *gs);
    void (*st_open)(void *ctx, const x12_gs_info *gs, const x12_st_info *st);
    void (*st_close)(void *ctx, const x12_gs_info *gs, const x12_st_info *st);
    void (*gs_close)(void *ctx, const x12_isa_info *isa, const x12_gs_info *gs);
    void (*isa_close)(void *ctx, const x12_isa_info *isa);
    void *ctx;
} x12_env_events;

typedef struct x12_env x12_env;

/* Create a checker.  name is used in diagnostics (not copied: must outlive
 * the checker).  events and on_diag may be NULL.  Returns NULL on no memory. */
x12_env *x12_env_new(const char *name, const x12_env_events *events,
                     x12_diag_fn on_diag, void *diag_ctx);

/* Feed the next segment. */
void x12_env_feed(x12_env *e, const x12_segment *seg);

/* End of input: reports trailers that never came and closes what is open.
 * last is the position to report them at (the reader's last position). */
void x12_env_finish(x12_env *e, const x12_pos *last);

/* The envelopes currently open (NULL when none). */
const x12_isa_info *x12_env_isa(const x12_env *e);
const x12_gs_info *x12_env_gs(const x12_env *e);
const x12_st_info *x12_env_st(const x12_env *e);

/* Totals for the stream so far. */
unsigned x12_env_interchanges(const x12_env *e);
unsigned x12_env_errors(const x12_env *e);

void x12_env_free(x12_env *e);

/* Small field checks shared with the validator. */
int x12_is_digits(x12_str s);
/* CCYYMMDD (len 8) or YYMMDD (len 6, assumes 20YY): a real calendar date. */
int x12_valid_date(x12_str s);
/* HHMM, HHMMSS, HHMMSSD, HHMMSSDD: a real time of day. */
int x12_valid_time(x12_str s);
/* ISA05/ISA07: an interchange ID qualifier the standard defines (01, ZZ...). */
int x12_isa_qualifier_ok(x12_str s);

#endif
