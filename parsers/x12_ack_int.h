/*
 * x12_ack_int.h - what x12_ack.c (following the stream, placing
 * diagnostics) and x12_ack_out.c (writing the acknowledgments) share.
 * Not a public interface.
 */
#ifndef X12_ACK_INT_H
#define X12_ACK_INT_H

#include <limits.h>
#include <stdio.h>

#include "x12_ack.h"
#include "x12_envelope.h"
#include "x12_writer.h"

enum { ACK_NONE, ACK_OPEN, ACK_CLOSING };   /* state of an envelope */
enum { ACK_CLEAN, ACK_WARN, ACK_ERR };      /* worst problem seen */

#define ACK_QUEUE 64

/* A file being written under a temporary name. */
typedef struct ack_file {
    FILE *fp;
    char tmp[PATH_MAX];
    char path[PATH_MAX];
} ack_file;

/* One IK3 (segment problem) or IK3+IK4 (element problem) to list. */
typedef struct ack_problem {
    uint32_t seg_pos;     /* IK302 */
    uint32_t order;       /* arrival, so sorting keeps it */
    char tag[4];          /* IK301 */
    char loop[8];         /* IK303 */
    char ik3[4], ik4[4];
    uint16_t elem, comp, rep;
    uint16_t ele_ref;     /* IK402 */
    char bad[100];        /* IK404 */
    char clm01[36];       /* CTX*CLM01 */
} ack_problem;

typedef struct ack_claim {
    uint32_t from, to;    /* segment positions: [from, to); to 0 while open */
    char end_tag[4];      /* the segment at to: CLM, HL or SE */
    char id[36];          /* CLM01, cut to CTX01-2's 35 characters */
} ack_claim;

typedef struct ack_set {
    int state;
    uint32_t isa_i, gs_i, st_i;   /* which set: x12_pos indexes */
    char id[4], control[10], impl[36];
    ack_problem *p;
    unsigned np, cap;
    int worst;
    char ik5[5][4];
    unsigned nik5;
    int seg_std, seg_impl;        /* segments in error: IK5 code 5 / I5 */
    ack_claim claim[2];           /* the last claim and the one before */
} ack_set;

typedef struct ack_group {
    int state;
    uint32_t isa_i, gs_i;
    ack_file f;                   /* f.fp NULL: nothing is written */
    x12_writer w;
    unsigned long isa13, gs06;    /* the 999's own */
    unsigned long st_base;        /* w.count before its ST */
    unsigned received, accepted, noted;
    int worst;
    char ak9[5][4];
    unsigned nak9;
    char ge_count[12];
    int ge_seen;
} ack_group;

typedef struct ack_ta1 {
    int level;                    /* ACK_WARN: TA104 E, ACK_ERR: R */
    char code[4];
} ack_ta1;

typedef struct ack_ichg {
    int state;
    x12_isa_info isa;
    unsigned ngroups;
    ack_ta1 ta1;
} ack_ichg;

typedef struct ack_queued {
    x12_diag d;
    char loop[8];                 /* d.loop_id, copied */
} ack_queued;

struct x12_ack {
    x12_ack_opts o;
    char *dir, *base, *self_id, *partner_id;
    x12_env *env;
    unsigned long next_isa13, next_gs06;
    uint64_t last_fed;            /* seg_no of the last segment fed */
    x12_pos last_pos;
    ack_ichg ic;
    ack_group g;
    ack_set s;
    ack_ta1 lost;                 /* an ISA that could not be read */
    x12_isa_info last_isa;
    int have_last_isa;
    ack_queued q[ACK_QUEUE];
    unsigned nq;
    char **files;
    unsigned nfiles, capfiles;
    int finished;
    ch_error err;                 /* the first error; writing stops there */
};

/* x12_ack_out.c */
/* Append code to a list of at most 5 (IK502.., AK905..) unless there. */
void ack_add_code(char (*codes)[4], unsigned *n, const char *code);
void ack_set_problem(x12_ack *a, const x12_diag *d);
void ack_set_flush(x12_ack *a);
void ack_group_start(x12_ack *a, const x12_gs_info *gs);
void ack_group_flush(x12_ack *a);
void ack_ichg_flush(x12_ack *a);
void ack_write_ta1(x12_ack *a, const x12_isa_info *rx, const ack_ta1 *t);

/* x12_ack_file.c */
ch_code ack_opts_copy(x12_ack *a, const x12_ack_opts *o);
ch_code ack_mkdirs(const char *dir, ch_error *err);
ch_code ack_file_open(x12_ack *a, ack_file *f, const char *name);
ch_code ack_file_commit(x12_ack *a, ack_file *f);
void ack_file_discard(ack_file *f);
void ack_fail(x12_ack *a, ch_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Copy n bytes of s leaving out our delimiters and control bytes. */
void ack_clean(char *dst, size_t size, const char *s, size_t n);

/* x12_ack.c */
const char *ack_claim_at(const ack_set *s, uint32_t pos, const char *tag, const char *loop,
                         uint32_t last);

#endif
