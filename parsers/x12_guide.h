/*
 * x12_guide.h - implementation-guide tables as an immutable in-memory tree.
 *
 * A guide table (docs/guide-format.md) is read once into plain structs: the
 * transaction set is a pseudo-loop (`root`, id NULL) whose children are the
 * header segments, the top-level loops and SE, in table order; a loop's
 * children are its segments and child loops, in table order, the first
 * child being the loop's trigger segment.  Everything a validator needs per
 * segment is precomputed here (element tables by position, a tag index per
 * loop, the value slots rules look at), so validating does no allocation
 * and no string parsing of the table.
 *
 * The structs are public and read-only: a guide never changes after
 * x12_guide_parse() returns, so any number of validators may share it.
 * All memory of a guide (names, code lists, arrays) is owned by the guide
 * and released by x12_guide_free().
 *
 * The registry (x12_guide_for) picks the guide for a transaction set by
 * ST01 and the implementation version (ST03, else GS08), loads it lazily
 * from the tables compiled into the binary (embedded.h) and caches it until
 * x12_guide_registry_free().  The registry is not thread-safe: load what is
 * needed before starting threads, or serialise calls.
 */
#ifndef X12_GUIDE_H
#define X12_GUIDE_H

#include <stddef.h>
#include <stdint.h>

#include "ch_error.h"

/* Data element types of the tables. */
typedef enum x12_gtype {
    X12_GT_AN = 1, /* string */
    X12_GT_ID,     /* identifier (code) */
    X12_GT_DT,     /* date CCYYMMDD (or YYMMDD when max is 6) */
    X12_GT_TM,     /* time HHMM[SS[D[D]]] */
    X12_GT_N,      /* implied-decimal number N0..N9 (decimals in x12_gelem) */
    X12_GT_R,      /* decimal number */
    X12_GT_B,      /* binary: not checked */
    X12_GT_C,      /* composite: see comp[] */
} x12_gtype;

/* The level-5 checks `check=` can name (docs/guide-format.md). */
typedef enum x12_gcheck {
    X12_CHECK_NONE = 0,
    X12_CHECK_NPI,
    X12_CHECK_ICD10CM,
    X12_CHECK_HI,
    X12_CHECK_PROC,
    X12_CHECK_DATE,
    X12_CHECK_DTP,
    X12_CHECK_STATE,
    X12_CHECK_ZIP,
    X12_CHECK_TAXONOMY,
    X12_CHECK_EIN,
    X12_CHECK__COUNT
} x12_gcheck;

/* One code of a codes= or key= list (not NUL-terminated in the table's
 * sense, but the guide stores it NUL-terminated for convenience). */
typedef struct x12_gcode {
    const char *s;
    uint32_t len;
} x12_gcode;

typedef struct x12_gcodes {
    const x12_gcode *v;
    uint32_t n;
    /* v[i] as a number when at most 7 bytes: the bytes in order, the length
     * in the top byte (0 for longer codes), so a lookup compares integers */
    const uint64_t *packed;
    int has_long;          /* some code is longer than 7 bytes */
} x12_gcodes;

/*
 * The hot part of an element, for the validator's common case: small,
 * and laid out contiguously per segment (and per composite), so checking a
 * segment's values touches a cache line or two instead of one struct per
 * element.  kind X12_FK_SLOW sends a value to the full checks.
 */
enum {
    X12_FK_SLOW = 0, /* unlisted, not used, binary: the full checks decide */
    X12_FK_TEXT,     /* AN/ID without codes: length */
    X12_FK_CODE,     /* AN/ID/N with codes */
    X12_FK_NUM,      /* N/R without codes: digits and length */
    X12_FK_DATE,     /* DT */
    X12_FK_COMP,     /* composite */
};

typedef struct x12_gfast {
    uint8_t kind;          /* X12_FK_* */
    uint8_t check;         /* x12_gcheck to run after */
    uint8_t plain;         /* CODE: every code is letters, digits and spaces */
    uint16_t min, max;
    uint16_t ncodes;
    uint64_t code[2];      /* the first two codes packed (see x12_gcodes) */
    const struct x12_gelem *e;
} x12_gfast;

/*
 * What the fast checks (x12_val_fast.c) do at each position of a segment
 * (elements) or a composite (components), as bits: bit i is position i.
 * Only when every listed position is below 64 (ok).
 */
typedef struct x12_gplan {
    int ok;
    uint64_t fast;        /* kinds the fast checks decide (X12_FK_TEXT..COMP) */
    uint64_t text, code, num, date, comp; /* by kind */
    uint64_t real;        /* num of type R (a decimal point may come) */
    uint64_t check;       /* with a check= */
    uint64_t req;         /* required */
} x12_gplan;

/* An element (el) or a component (comp). */
typedef struct x12_gelem {
    uint8_t pos;          /* element position 1..99, or component position */
    char usage;           /* 'R', 'S' or 'N' */
    uint8_t type;         /* x12_gtype */
    uint8_t decimals;     /* for X12_GT_N */
    uint8_t check;        /* x12_gcheck */
    uint16_t min, max;    /* lengths (not for C) */
    uint16_t reps;        /* maximum repetitions, >= 1; 0 = unbounded */
    x12_gcodes codes;     /* empty: any value (external code list) */
    const char *name;
    /* composites: comp[1..ncomp], NULL where the table lists none;
     * cfast[0..ncomp] their hot parts */
    uint8_t ncomp;
    const struct x12_gelem *const *comp;
    const x12_gfast *cfast;
    x12_gplan cplan;      /* of the components */
    /* the required components, for the missing-component check */
    uint8_t nreq;
    const uint8_t *req;
    int line;             /* line in the table */
} x12_gelem;

/* An X12 syntax note of a segment. */
typedef struct x12_gsyntax {
    char kind;            /* 'P', 'R', 'C', 'E', 'L' */
    uint8_t n;
    uint8_t pos[8];       /* element positions */
    uint8_t comp[8];      /* component positions, 0 = whole element */
    /* whole elements below 64 only: the positions as bits, the first's bit */
    int simple;
    uint64_t mask, first;
} x12_gsyntax;

struct x12_gloop;

/* A segment entry (seg). */
typedef struct x12_gseg {
    char tag[4];
    uint32_t tag32;       /* x12_tag32() of tag */
    char usage;           /* 'R', 'S' or 'N' */
    uint32_t max;         /* maximum use; 0 = unbounded */
    const char *name;
    /* key=: which values of one element identify this entry */
    uint8_t key_el, key_comp;   /* key_el 0: no key */
    x12_gcodes key;
    /* elements: el[1..nel], NULL where not listed (= not used) */
    uint8_t nel;
    const x12_gelem *const *el;
    uint8_t nreq;               /* required elements, in order */
    const uint8_t *req;
    uint64_t reqmask;           /* the required ones as bits (all below 64) */
    int reqmask_ok;             /* reqmask covers every required element */
    const x12_gfast *fast;      /* fast[0..nel] */
    x12_gplan plan;             /* of the elements */
    int fast_ok;                /* plan.ok, and not the header's ST: the
                                   validator's fast checks may run */
    /* per position, the lengths a value may have without a closer look
     * (0..0x7fff where the length alone decides nothing), for a test of
     * 8 elements at once */
    uint16_t lmin[72], lmax[72];
    /* highest position named by an el line or a syntax note: a value past
     * it is "too many elements", a value at an unlisted position below it
     * is "not used" */
    uint8_t maxpos;
    uint8_t nsyntax;
    const x12_gsyntax *syntax;
    /* every syntax note decided on presence bits (simple), none of them R,
     * and the positions they name: with none of those present, all hold */
    int syntax_idle_ok;
    uint64_t syntax_union;
    const struct x12_gloop *loop; /* the loop it is in (root for header/SE) */
    uint16_t index;             /* its place among loop->child[] */
    /* rule slots of `loop` this entry feeds (see x12_gslot) */
    uint8_t nwatch;
    const uint8_t *watch;
    int line;
} x12_gseg;

/* A child of a loop: a segment entry or a child loop (exactly one set). */
typedef struct x12_gnode {
    const x12_gseg *seg;
    const struct x12_gloop *loop;
} x12_gnode;

/*
 * A value a rule looks at, kept per loop repeat while validating: the first
 * occurrence of a segment directly in the loop and one of its elements
 * (kind X12_SLOT_VALUE; element 0: the segment itself), or whether a
 * segment directly in the loop has its key element equal to a code (kind
 * X12_SLOT_KEYED).
 */
enum { X12_SLOT_VALUE = 1, X12_SLOT_KEYED = 2 };
#define X12_SLOT_VALUE_MAX 35 /* bytes of a value kept for comparison */

typedef struct x12_gslot {
    uint8_t kind;
    uint32_t tag32;
    char tag[4];
    uint8_t el, comp;     /* VALUE */
    x12_gcode code;       /* KEYED */
} x12_gslot;

enum { X12_COND_EQ = 1, X12_COND_NE, X12_COND_PRESENT, X12_COND_ABSENT };
enum { X12_TARGET_SEG = 1, X12_TARGET_LOOP, X12_TARGET_EL };

/* A situational rule (level 4), evaluated when a repeat of its loop ends.
 * `=` holds when the element is present and one of the codes; `!=` when it
 * is present and none of them (an absent element makes neither true). */
typedef struct x12_grule {
    const char *text;
    uint8_t cond;          /* X12_COND_* */
    uint8_t cond_slot;     /* index into loop->slot */
    char cond_ref[12];     /* "CLM05-3", for messages */
    x12_gcodes codes;      /* for EQ / NE */
    int need;              /* 1 need, 0 forbid */
    uint8_t target;        /* X12_TARGET_* */
    uint8_t target_slot;   /* SEG, EL */
    const x12_gseg *target_seg;   /* SEG: the (first) entry with that tag */
    const struct x12_gloop *target_loop; /* LOOP */
    uint16_t target_index; /* LOOP: its place among loop->child[] */
    char target_ref[16];   /* "REF:F8", "2000C", "BPR05" for messages */
    int line;
} x12_grule;

/* The per-loop tag index: child indices by tag, ascending. */
typedef struct x12_gtagix {
    uint32_t tag32;        /* 0 = empty bucket */
    uint16_t first, n;     /* into loop->tagix_list */
} x12_gtagix;

/* A candidate of the tag index with what placing a segment on it reads,
 * so a probe touches one record instead of node, entry and key. */
typedef struct x12_gcand {
    uint16_t k;            /* child index */
    uint8_t key_el, key_comp; /* of the child's entry (trigger for a loop) */
    x12_gcodes key;
} x12_gcand;

typedef struct x12_gloop {
    const char *id;        /* "2300"; NULL for the transaction set itself */
    char usage;
    uint32_t max;          /* 0 = unbounded */
    const char *name;
    const struct x12_gloop *parent;
    uint16_t depth;        /* root 0 */
    uint16_t nchild;
    const x12_gnode *child;
    const x12_gseg *trigger; /* child[0].seg; NULL for root */
    int is_hl;             /* trigger is HL */
    /* group[k]: the first of the run of consecutive children that share k's
     * tag.  The guide splits one standard segment position (DTP, REF, the
     * NM1 loops 2310A-F...) into several entries told apart by key; X12
     * lets those come in any order among themselves. */
    const uint16_t *group;
    /* the children marked R (checked when a repeat ends) */
    uint16_t nreq;
    const uint16_t *req;
    /* [0..nchild]: how many of them are loops / segments before child k,
     * so a range without any is told at once */
    const uint16_t *req_loops_before, *req_segs_before;
    uint16_t nrule;
    const x12_grule *rule;
    uint8_t nslot;
    const x12_gslot *slot;
    uint32_t tagix_mask;   /* buckets - 1 */
    const x12_gtagix *tagix;
    const uint16_t *tagix_list;
    const x12_gcand *tagix_cand; /* parallel to tagix_list */
    int line;
} x12_gloop;

enum { X12_BALANCE_NONE = 0, X12_BALANCE_837 = 837, X12_BALANCE_835 = 835 };

typedef struct x12_guide {
    char st01[4];
    char version[16];      /* as on the guide line, e.g. 005010X222A1 */
    const char *title;
    const char *name;      /* table name given to x12_guide_parse() */
    int balance;           /* X12_BALANCE_* */
    x12_gloop root;
    uint16_t max_depth;    /* deepest loop (root 0) */
    uint16_t max_child;    /* most children of one loop */
    uint8_t max_slot;      /* most rule slots of one loop */
    uint32_t tags_mask;    /* set of every tag in the guide */
    const uint32_t *tags;
    /* parallel to tags: the one key position every keyed entry with that
     * tag uses (el 0: no entry has a key), ok 0 when they differ */
    const struct x12_gtagkey {
        uint8_t el, comp, ok;
    } *tagkey;
    unsigned nloops, nsegs;
    void *arena;           /* owns everything */
} x12_guide;

/* A tag as a 32-bit number: bytes in order, 0 for a missing third byte.
 * 0 for anything that is not 2 or 3 bytes. */
static inline uint32_t x12_tag32(const char *p, size_t n)
{
    if (n < 2 || n > 3)
        return 0;
    return (uint32_t)(unsigned char)p[0] | (uint32_t)(unsigned char)p[1] << 8 |
           (n == 3 ? (uint32_t)(unsigned char)p[2] << 16 : 0);
}

/*
 * Read a guide table.  name is used in error messages and kept (copied) in
 * the guide.  On success *out owns a new guide (free with x12_guide_free).
 * Returns CH_OK, CH_ERR_SYNTAX with err saying "NAME:LINE: what is wrong"
 * for a malformed table, or CH_ERR_NOMEM.
 */
ch_code x12_guide_parse(const char *text, size_t len, const char *name, x12_guide **out,
                        ch_error *err);

void x12_guide_free(x12_guide *g);

/* The first loop with this id in table order (depth first), or NULL. */
const x12_gloop *x12_guide_find_loop(const x12_guide *g, const char *id);

/* The first entry of tag directly in loop (NULL loop: root), or NULL. */
const x12_gseg *x12_guide_find_seg(const x12_guide *g, const x12_gloop *loop, const char *tag);

/* 1 when tag (tag32) is used anywhere in the guide. */
int x12_guide_has_tag(const x12_guide *g, uint32_t tag32);

/* Child indices of `loop` whose segment (or trigger, for a child loop) has
 * this tag, ascending; *n receives the count (0: none). */
const uint16_t *x12_gloop_candidates(const x12_gloop *loop, uint32_t tag32, unsigned *n);

/* Names for messages: "AN", "R"..; "check" names as in the table. */
const char *x12_gtype_name(const x12_gelem *e);
const char *x12_gcheck_name(x12_gcheck c);

/* 1 when v is one of the codes. */
int x12_gcodes_has(const x12_gcodes *c, const char *p, size_t n);

/* "85, 87 or PE" into buf (truncated with "..."); returns buf. */
char *x12_gcodes_str(const x12_gcodes *c, char *buf, size_t size);

/* ---- registry ------------------------------------------------------------ */

/*
 * The guide for a transaction set with this ST01 and implementation version
 * (ST03, or GS08 when ST03 is empty), or NULL when there is none (or the
 * embedded table cannot be read; x12_guide_lookup says why).  Errata
 * variants are accepted: 005010X222, -A1, -A2 (837P); 005010X223, -A1, -A2,
 * -A3 (837I); 005010X221A1 (835); 005010X231, -A1 (999); 005010X214
 * (277CA).  An 837 whose version starts 005010X222 / 005010X223 picks the
 * professional / institutional guide whatever the suffix.  The guide stays
 * valid until x12_guide_registry_free().
 */
const x12_guide *x12_guide_for(const char *st01, const char *version);

/* The same, saying why there is none: CH_ERR_NOTFOUND (no guide for this
 * ST01/version), CH_ERR_SYNTAX (the embedded table is malformed: err has
 * its line), CH_ERR_NOMEM. */
ch_code x12_guide_lookup(const char *st01, const char *version, const x12_guide **out,
                         ch_error *err);

/* The registry family of a version ("837p", "837i", "835", "999",
 * "277ca"), or NULL when the registry knows none.  st01 may be NULL. */
const char *x12_guide_family(const char *st01, const char *version);

/* 1 when version is accepted for guide g: the guide's own version, or an
 * errata variant of the same family. */
int x12_guide_accepts(const x12_guide *g, const char *version);

/* 1 when some registered guide handles transaction sets with this ST01. */
int x12_guide_knows_st01(const char *st01);

/* Free every cached guide. */
void x12_guide_registry_free(void);

#endif
