/*
 * x12_diag.h - one problem found in an X12 file, by any layer.
 *
 * The tokenizer, the envelope checker and the implementation-guide validator
 * all report through this one structure and a callback, so a report line
 * always carries the same things: where (file, segment number, byte offset,
 * loop), what (segment, element, component), what was found and what was
 * expected, and which validation level found it.
 *
 * PHI: `found` may hold a value copied from the file (a bad date, an invalid
 * member id).  It is shown in the operator's validation report, and never
 * written to logs: x12_diag_format() omits it unless asked for.
 */
#ifndef X12_DIAG_H
#define X12_DIAG_H

#include <stddef.h>
#include <stdint.h>

typedef enum x12_severity {
    X12_SEV_WARNING = 1, /* readable, but not as the standard says */
    X12_SEV_ERROR = 2,   /* the file is wrong; reading goes on */
    X12_SEV_FATAL = 3,   /* reading cannot go on; this says why it stopped */
} x12_severity;

/* Where a segment sits.  Numbers are 1-based; 0 means "not inside one". */
typedef struct x12_pos {
    uint64_t offset;      /* byte offset of the segment's first byte */
    uint64_t seg_no;      /* ordinal of the segment in the file */
    uint32_t seg_in_isa;  /* ordinal within its interchange (ISA = 1) */
    uint32_t seg_in_st;   /* ordinal within its transaction set (ST = 1) */
    uint32_t isa_index;   /* which interchange of the file */
    uint32_t gs_index;    /* which functional group of the interchange */
    uint32_t st_index;    /* which transaction set of the group */
    char isa13[16];       /* interchange control number, as in the file */
    char gs06[16];        /* group control number */
    char st02[16];        /* transaction set control number */
} x12_pos;

typedef struct x12_diag {
    const char *file;       /* name given when the reader was opened */
    x12_pos pos;
    x12_severity severity;
    int level;              /* WEDI/SNIP level 1..5 (tokenizer: 1) */
    const char *code;       /* stable id, e.g. "x12.tag.missing" */
    char tag[4];            /* segment id, "" if none */
    const char *loop_id;    /* "2300", or NULL when unknown */
    const char *loop_name;  /* "Claim Information", or NULL */
    int elem;               /* element position, 0 = whole segment */
    int comp;               /* component position, 0 = whole element */
    int rep;                /* repetition, 0 = not applicable */
    char found[64];         /* value found (may be PHI; never logged) */
    char expected[160];     /* what the standard or guide expects */
    char msg[256];          /* the problem in words, without PHI */
    /* acknowledgment codes, "" when not applicable */
    char ik3[4];            /* 999 IK304 segment syntax error code */
    char ik4[4];            /* 999 IK403 element syntax error code */
    char ik5[4];            /* 999 IK502 transaction set syntax error code */
    char ak9[4];            /* 999 AK905 functional group error code */
    char ta1[4];            /* TA105 interchange note code */
    unsigned ele_ref;       /* 999 IK402 data element reference number (98 for
                               NM101), 0 when unknown */
} x12_diag;

/* Receives each diagnostic as it is found; the pointer is valid only during
 * the call. */
typedef void (*x12_diag_fn)(void *ctx, const x12_diag *d);

/* Start a diagnostic at pos with severity, level, code and message. */
void x12_diag_init(x12_diag *d, const char *file, const x12_pos *pos,
                   x12_severity sev, int level, const char *code);

/* Printf into d->msg / d->expected / d->found. */
void x12_diag_msg(x12_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void x12_diag_expected(x12_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copy a value found in the file, made printable (control bytes as \xNN). */
void x12_diag_found(x12_diag *d, const char *p, size_t len);

const char *x12_severity_name(x12_severity s);

/*
 * One human line: "FILE: segment N (byte B), loop 2300 Claim Information,
 * CLM05-3: MSG; found 'X', expected Y [level 2, error]".
 * with_found = 0 leaves out the found value (use for anything logged).
 * Returns the length snprintf would have written.
 */
int x12_diag_format(const x12_diag *d, char *buf, size_t size, int with_found);

/* The same as one JSON object (no trailing newline). */
int x12_diag_json(const x12_diag *d, char *buf, size_t size, int with_found);

#endif
