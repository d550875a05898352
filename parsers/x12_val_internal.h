/*
 * x12_val_internal.h - what the validator's files share (not a public API).
 *
 *   x12_validate.c      the public API, envelopes, transaction sets, reporting
 *   x12_val_loops.c     the segment / loop state machine (level 2) and the
 *                       memo of placements
 *   x12_val_fast.c      the common case of the element checks, on per-segment
 *                       bitmaps; what it cannot pass goes to x12_val_elems.c
 *   x12_val_elems.c     elements, components, repetitions, syntax notes
 *                       (levels 1-2) and the check= glue (level 5): every
 *                       check, and every element diagnostic
 *   x12_val_rules.c     situational rules and HL structure (level 4)
 *   x12_val_balance.c   balancing (level 3)
 */
#ifndef X12_VAL_INTERNAL_H
#define X12_VAL_INTERNAL_H

#include "x12_validate.h"

#include <stdint.h>

/* A position in the current transaction set, kept small: what differs
 * between its segments (the rest is the set's, see xv_pos_full). */
typedef struct xv_pos {
    uint64_t offset, seg_no;
    uint32_t seg_in_isa, seg_in_st;
} xv_pos;

static inline xv_pos xv_pos_of(const x12_pos *p)
{
    return (xv_pos){p->offset, p->seg_no, p->seg_in_isa, p->seg_in_st};
}

/* A rule value of the current loop repeat (see x12_gslot). */
typedef struct xv_slot {
    uint32_t gen;   /* == the frame's gen: seen in this repeat (VALUE: the
                     * segment occurred; KEYED: a match occurred) */
    uint8_t len;    /* VALUE: length of the element (0 = empty) */
    uint8_t longer; /* VALUE: the value was longer than val */
    char val[X12_SLOT_VALUE_MAX];
    xv_pos pos;     /* where the segment was */
} xv_slot;

/* One open loop repeat. */
typedef struct xv_frame {
    const x12_gloop *loop;
    int idx;              /* child matched last; -1 before any */
    int gfrom;            /* loop->group[idx] (0 before any): the run we are in */
    int done;             /* required children below this were checked */
    unsigned rdone;       /* first index into loop->req at or past done */
    uint32_t *count;      /* [loop->nchild] uses in this repeat */
    xv_slot *slot;        /* [loop->nslot] */
    xv_pos start;         /* the loop's first segment */
    char hl01[16];        /* HL loops: this level's id */
    char hl04;            /* HL loops: HL04 as sent ('\0' absent) */
    uint32_t gen;         /* this repeat's mark for its slots (xv_slot.gen) */
    uint8_t odd;          /* entered out of order: the frame below did not
                           * move to this loop (see xv_memo) */
} xv_frame;

/*
 * Where segments were placed, remembered.  While no frame was entered out
 * of order, the frames below the innermost are its loop's ancestors, each
 * at the run of the child loop above it, so where a segment goes depends
 * only on the innermost loop, the run it is at, the tag and the value of
 * the tag's key element: a placement found forward is kept under those.
 */
#define XV_MEMO 256
typedef struct xv_memo {
    const x12_gloop *loop; /* the innermost loop; NULL: empty */
    uint64_t key;          /* the key value packed (x12_gcodes), 0: none */
    uint32_t tag;
    uint16_t from;         /* the innermost frame's gfrom */
    uint16_t k;            /* the child matched */
    uint16_t up;           /* frames closed */
} xv_memo;

/* Level-3 running sums, in cents. */
typedef struct xv_balance {
    /* 837 */
    int claim_open, claim_bad;
    int64_t claim_total, lines_total;
    xv_pos claim_pos;
    const x12_gloop *claim_loop;
    /* 835 */
    int bpr_seen, bpr_bad, tx_bad;
    int64_t bpr_total, paid_total, plb_total;
    xv_pos bpr_pos;
    int clp_open, clp_bad;
    int64_t clp_charge, clp_paid, clp_adj;
    xv_pos clp_pos;
    const x12_gloop *clp_loop;
    int svc_open, svc_bad;
    int64_t svc_charge, svc_paid, svc_adj;
    xv_pos svc_pos;
    const x12_gloop *svc_loop;
} xv_balance;

#define XV_COMPQ_BITS 10 /* see x12_validator.compq */

/* One segment as the fast element checks see it (x12_val_fast.c). */
#define XV_SEG_FAST 512 /* longer segments take the full checks */
typedef struct xv_seg {
    const uint64_t *comp;            /* bit b: byte b is the component separator
                                        (the reader's x12_segment.cbits, or cbuf) */
    uint64_t cbuf[XV_SEG_FAST / 64];
    int anycomp;                     /* some bit of comp is set */
    int ok;                          /* classified: no repetition separator,
                                        no control byte, short enough */
    const uint32_t *ee;              /* the segment's element ends */
    char vcomp[16], vrep[16];        /* the separators, 16 times (for cc/cr) */
    char cc, cr;
    int vset;                        /* vcomp/vrep hold cc/cr */
    unsigned nelem;
    /* the segment's bytes: in the reader's buffer when it is padded (see
     * x12_segment), else copied to buf; either way 8- and 16-byte loads
     * at any value stay inside readable memory */
    const char *p;
    char buf[XV_SEG_FAST + 32];
} xv_seg;

struct x12_validator {
    char file[256];
    x12_diag_fn fn;
    void *ctx;
    x12_env *env;
    x12_env_events user_ev;
    const x12_guide *forced;

    /* the current transaction set */
    int in_tx;
    const x12_guide *g;   /* NULL: not validated (no guide) */
    xv_frame *frames;     /* [g->max_depth + 1] */
    int top;              /* index of the innermost frame, -1 none */
    uint32_t *counts;     /* pools the frames point into */
    xv_slot *slots;
    size_t cap_depth, cap_child, cap_slot;
    const x12_pos *cur;   /* position of the segment being handled */
    x12_pos st_pos;       /* of the current set's ST: what its segments share */
    uint8_t cls[256];     /* byte classes for the current delimiters (CLS_*) */
    x12_delims cls_for;   /* the delimiters cls was built for */
    int plain_delims;     /* the component and repetition separators are not
                           * letters, digits or spaces: a value that is all
                           * of those has none of CLS_CTRL, CLS_REP, CLS_COMP */
    unsigned tx_errors;
    uint64_t last_hl;     /* HL01 of the previous HL, when numeric */
    int have_hl;
    xv_balance bal;
    xv_seg sv;
    int full;             /* tests: no fast path, no memo; every segment
                           * takes the full checks and the full search */
    uint32_t slot_gen;    /* the last xv_frame.gen handed out */
    int nodd;             /* frames open with odd set */
    xv_memo *memo;        /* [XV_MEMO], for memo_g */
    const x12_guide *memo_g;
    /* memo_g's tag key positions (x12_gtagkey) by tag, direct-mapped */
    struct {
        uint32_t tag;     /* 0: empty */
        uint8_t el, comp, ok;
    } tagkey[64];
    /* entries of memo_g whose element tail (xv_elements_end) was found to
     * have nothing to say with these elements present, direct-mapped: the
     * same entry mostly comes with the same elements */
    struct {
        const x12_gseg *s; /* NULL: empty */
        uint64_t present;
    } endq[256];
    /* composites of memo_g that passed every check (composite_quiet, a
     * function of the bytes, the separator and the table alone), by value
     * of at most 16 bytes, direct-mapped (1 << XV_COMPQ_BITS entries, 32 KiB):
     * codes such as HC:99213 or 11:B:1 come back again and again */
    struct {
        const x12_gelem *ce; /* NULL: empty */
        uint64_t lo, hi;     /* the bytes, zero past len */
        uint8_t len;
        char sep;            /* the component separator they were read with */
    } compq[1 << XV_COMPQ_BITS];

    unsigned nerr, nwarn, nsets, nsets_bad, nsets_unchecked;
    struct xv_par *par;   /* the worker threads (x12_validator_threads);
                           * NULL: every set is validated here */
    int par_remote;       /* the current set is a worker's */
};

typedef x12_validator xv;

/* ---- reporting (x12_validate.c) ------------------------------------------ */

/* Start a diagnostic at pos (NULL: the current segment) for tag in loop. */
void xv_diag(xv *v, x12_diag *d, const x12_pos *pos, x12_severity sev, int level,
             const char *code, const char *tag, const x12_gloop *loop);
/* Position k of the current set in full, into *out; returns out. */
const x12_pos *xv_pos_full(const xv *v, const xv_pos *k, x12_pos *out);
/* Fill in ik5 by level, count it and send it. */
void xv_emit(xv *v, x12_diag *d);
/* Count a diagnostic of severity sev (and into the set's, inside one). */
void xv_count(xv *v, x12_severity sev);
/* Start validating a transaction set with g (frames, memo, loops, sums). */
void xv_set_begin(xv *v, const x12_guide *g);

/* ---- worker threads (x12_val_par.c) -------------------------------------- *
 * With v->par the thread feeding the validator keeps the envelopes and
 * either validates a set itself or packs its segments, with every
 * diagnostic of its own in between, into jobs for a worker (par_remote),
 * which validates them with its own state; the diagnostics are sent in
 * file order from the feeding thread. */

/* A set starts (its ST was read; v->st_pos is set): decides par_remote. */
void xv_par_begin(xv *v);
/* It is to be validated with g (NULL: only counted).  1: by a worker; 0:
 * here (the caller starts it). */
int xv_par_guide(xv *v, const x12_guide *g);
/* A segment of a worker's set. */
void xv_par_segment(xv *v, const x12_segment *seg);
/* After each segment of a set placed, here or packed (bounds the jobs). */
void xv_par_placed(xv *v);
/* The set ends (at v->cur), after its end was checked when it is ours. */
void xv_par_end(xv *v);
/* A diagnostic of this thread, in order with the sets' own: tx, it counts
 * as an error of the current set; counted, into the validator's totals. */
void xv_par_diag(xv *v, const x12_diag *d, int tx, int counted);
/* End of input: every job done and its diagnostics sent. */
void xv_par_finish(xv *v);
/* Stop the workers and free them (NULL v->par: nothing). */
void xv_par_free(xv *v);

/* ---- loops (x12_val_loops.c) --------------------------------------------- */

/* Start the state machine for the guide's transaction set. */
void xv_loops_begin(xv *v);
/* Place and check one segment of the transaction set (ST..SE). */
void xv_loops_segment(xv *v, const x12_segment *seg);
/* End of the transaction set: close every open loop, reporting at pos. */
void xv_loops_end(xv *v, const x12_pos *pos);

/* ---- elements (x12_val_fast.c: the common case; x12_val_elems.c: all) ---- */

/* What xv_classify does for a segment the tokenizer did not classify (or
 * one it found odd): 1 when it may take the fast checks. */
int xv_classify_bytes(xv_seg *sv, const x12_segment *seg);

/* Classify the segment about to be placed (v->sv); first thing per segment.
 * Inline: most segments come classified by the tokenizer, padded, and only
 * need their views copied. */
static inline void xv_classify(xv *v, const x12_segment *seg)
{
    xv_seg *sv = &v->sv;
    /* X12_CLS_DONE: padded and at most X12_CLS_MAX bytes */
    _Static_assert(X12_CLS_MAX <= XV_SEG_FAST, "a classified segment is short enough");
    if ((seg->cls & (X12_CLS_DONE | X12_CLS_ODD)) == X12_CLS_DONE && seg->nelem < 64 && !v->full) {
        sv->ee = seg->elem_end;
        sv->nelem = seg->nelem;
        sv->p = seg->raw;
        sv->comp = seg->cbits;
        sv->anycomp = (seg->cls & X12_CLS_COMP) != 0;
        sv->ok = 1;
        return;
    }
    sv->ok = !v->full && xv_classify_bytes(sv, seg);
}
/* x12_comp(seg, el, comp), from the bitmaps when the segment was classified
 * (the bytes may then be a copy of seg's). */
x12_str xv_comp(const xv *v, const x12_segment *seg, unsigned el, unsigned comp);

/* Check seg's elements against entry s.  keybad: the key element's value
 * was reported already (placed by tag alone), so its code is not checked.
 * Values the fast path cannot pass go to the full checks below, one
 * element at a time, so the diagnostics are those of the full checks. */
void xv_elements(xv *v, const x12_gseg *s, const x12_segment *seg, int keybad);

/* What the checks of one segment's elements share. */
typedef struct xv_ectx {
    xv *v;
    const x12_gseg *s;
    const x12_segment *seg;
    int elem, comp, rep;
    x12_str composite;  /* the composite (repetition) a component is in */
    x12_str q1, q2;     /* its components 1 and 2, once split */
    int split;          /* q1/q2 are set for this composite */
    int skip_codes;     /* ST03: checked against the registry's variants */
    int skip_el, skip_comp; /* the key value, reported already */
    int keybad, special;
    const uint8_t *cls;
} xv_ectx;

/* Byte classes (CLS_*): what a closer look at a value needs to know. */
enum { XV_CLS_CTRL = 1, XV_CLS_REP = 2, XV_CLS_COMP = 4, XV_CLS_NONDIGIT = 8 };

/* Start the checks of seg against s (builds v->cls for its delimiters). */
void xv_ectx_init(xv_ectx *c, xv *v, const x12_gseg *s, const x12_segment *seg, int keybad);
/* The byte classes of every byte of x. */
unsigned xv_scan(const uint8_t *cls, x12_str x);
/* Element i (non-empty value p/n) with every check. */
void xv_element(xv_ectx *c, unsigned i, const char *p, size_t n);
/* Component j (non-empty, byte classes m) of composite e with every check. */
void xv_component(xv_ectx *c, const x12_gelem *e, unsigned j, x12_str cv, unsigned m);
/* After the components of composite e (value v; present: bit j for each
 * non-empty component j): missing required components, then e's check=. */
void xv_composite_end(xv_ectx *c, const x12_gelem *e, x12_str v, uint64_t present);
/* The level-5 check of e on value v (which passed its other checks). */
void xv_codeset(xv_ectx *c, const x12_gelem *e, x12_str v);
/* After the elements: too many, required ones missing, syntax notes,
 * trailing separators.  last: the last non-empty element; present: bit i
 * for each non-empty element i below 64. */
void xv_elements_end(xv_ectx *c, unsigned last, uint64_t present);
/* Every check of every element, without the fast path. */
void xv_elements_all(xv *v, const x12_gseg *s, const x12_segment *seg, int keybad);

/* ---- rules and HL (x12_val_rules.c) -------------------------------------- */

/* A segment matched entry s in frame f: record what f's rules look at. */
void xv_rules_segment(xv *v, xv_frame *f, const x12_gseg *s, const x12_segment *seg);
/* A repeat of f's loop ends: evaluate its rules. */
void xv_rules_end(xv *v, xv_frame *f);
/* An HL loop starts (f is its new frame, seg the HL). */
void xv_hl_start(xv *v, xv_frame *f, const x12_segment *seg);
/* An HL loop repeat ends. */
void xv_hl_end(xv *v, xv_frame *f);

/* ---- balancing (x12_val_balance.c) --------------------------------------- */

void xv_balance_begin(xv *v);
void xv_balance_segment(xv *v, const x12_gseg *s, const x12_segment *seg);
/* A repeat of loop ends (the root: the transaction set ends). */
void xv_balance_loop_end(xv *v, const x12_gloop *loop);

/* An amount in cents, the common shapes at once: digits, then "." and one
 * or two digits, at most 15 bytes (so no overflow guard is needed).  1 with
 * *out set; 0 for anything else, which x12_parse_cents decides (it agrees
 * on every value this accepts). */
static inline int xv_cents(const char *p, size_t n, int64_t *out)
{
    int64_t v = 0;
    size_t i = 0, dot = n;
    if (n == 0 || n > 15)
        return 0;
    for (; i < n; i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (d <= 9)
            v = v * 10 + d;
        else if (p[i] == '.' && dot == n && i > 0)
            dot = i;
        else
            return 0;
    }
    size_t frac = dot == n ? 0 : n - dot - 1;
    if (dot != n && frac == 0)
        return 0;
    if (frac > 2)
        return 0;
    *out = frac == 2 ? v : frac == 1 ? v * 10 : v * 100;
    return 1;
}

/* comp ? x12_comp(seg, el, comp) : x12_elem(seg, el) (see xv_comp). */
static inline x12_str xv_value(const xv *v, const x12_segment *seg, unsigned el, unsigned comp)
{
    return comp ? xv_comp(v, seg, el, comp) : x12_elem(seg, el);
}

#endif
