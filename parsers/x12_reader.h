/*
 * x12_reader.h - the streaming X12 tokenizer.
 *
 * Pull style: open a reader on a file descriptor or a memory buffer, then call
 * x12_next() until it returns X12_END (or X12_FAIL).  Each call yields one
 * segment with zero-copy views of its tag and elements; the views point into
 * the reader's buffer (or the caller's memory) and stay valid only until the
 * next call to x12_next() or x12_close().
 *
 * Memory is bounded: one fixed read buffer (X12_READ_BUF bytes) whatever the
 * file size.  A segment longer than the max_segment option is an error, not
 * an unbounded allocation.
 *
 * Delimiters are taken from each ISA (element separator at byte 4, ISA11
 * repetition separator, ISA16 component separator, the segment terminator
 * after ISA16).  A stream may hold several interchanges with different
 * delimiters.  Tolerated and reported as warnings: a UTF-8 BOM, text before
 * the first ISA or between interchanges, an ISA that is not 106 bytes wide
 * but still readable.  Tolerated silently: CR, LF or CRLF after a terminator
 * or as the terminator, whitespace and indentation between segments.
 * Errors: a UTF-16 file, a short or malformed ISA, a delimiter that is a
 * letter, digit or space, a segment without a tag, a file that ends in the
 * middle of a segment, an over-long segment.  BIN and BDS segments are read
 * by their length prefix, so their payload may contain any byte.
 */
#ifndef X12_READER_H
#define X12_READER_H

#include <stddef.h>
#include <stdint.h>

#include "ch_error.h"
#include "x12_diag.h"

/* A byte range inside the current segment.  Not NUL-terminated. */
typedef struct x12_str {
    const char *p;
    size_t len;
} x12_str;

typedef struct x12_delims {
    char element;    /* ISA byte 4 */
    char repetition; /* ISA11; '\0' when the interchange has none */
    char component;  /* ISA16 */
    char segment;    /* the byte after ISA16 */
} x12_delims;

#define X12_MAX_ELEMENTS 256          /* elements per segment */
#define X12_READ_BUF (1u << 20)       /* bytes read per read(2) */
#define X12_DEFAULT_MAX_SEGMENT (256u << 10)

typedef struct x12_segment {
    x12_str tag;               /* "NM1"; empty when the segment had no tag */
    unsigned nelem;            /* elements after the tag: 1..nelem */
    const x12_delims *delims;  /* of the interchange the segment is in */
    x12_pos pos;               /* where it is; see x12_diag.h */
    const char *raw;           /* the whole segment, without terminator */
    size_t raw_len;
    const uint32_t *elem_end;  /* internal: end offsets into raw; always
                                  X12_MAX_ELEMENTS + 1 entries */
    int padded;                /* internal: the X12_SEG_PAD bytes before raw
                                  and after raw + raw_len may be read (they
                                  are inside the reader's buffer), so a
                                  segment can be scanned in 16-byte blocks
                                  where it is */
    unsigned cls;              /* internal: X12_CLS_* (0: not classified;
                                  see x12_reader_opts.classify) */
    const uint64_t *cbits;     /* internal, with X12_CLS_DONE: bit b % 64 of
                                  cbits[b / 64] is set when byte b of raw is
                                  the component separator; words past
                                  raw_len are not defined */
} x12_segment;

/* x12_segment.cls: what the tokenizer learnt of the segment's bytes while
 * it looked for separators (for the validator's fast checks). */
enum {
    X12_CLS_DONE = 1, /* cbits and the flags below describe raw, which is
                         padded and at most X12_CLS_MAX bytes long */
    X12_CLS_ODD = 2,  /* raw holds a byte below 0x20, 0x7f or above, or the
                         repetition separator */
    X12_CLS_COMP = 4  /* raw holds a component separator */
};
#define X12_CLS_MAX 512 /* longer segments are not classified */

#define X12_SEG_PAD 16

typedef struct x12_reader x12_reader;

typedef struct x12_reader_opts {
    size_t max_segment;   /* 0: X12_DEFAULT_MAX_SEGMENT; at most X12_READ_BUF */
    size_t read_size;     /* at most this many bytes per read(2); 0: as many as
                             fit.  Tests use 1 to put a read boundary at every
                             byte, so every segment straddles reads. */
    x12_diag_fn on_diag;  /* may be NULL: problems are then only counted */
    void *diag_ctx;
    int classify;         /* also fill x12_segment.cls / cbits (in the same
                             pass over the bytes) for segments of at most
                             X12_CLS_MAX bytes, where it can; the validator
                             then need not read them again */
} x12_reader_opts;

enum { X12_FAIL = -1, X12_END = 0, X12_SEGMENT = 1 };

/*
 * Open a reader.  name is used in diagnostics (copied).  opts may be NULL.
 * For _fd the caller keeps ownership of fd and closes it after x12_close().
 * For _mem the caller's buffer must outlive the reader; nothing is copied.
 * Returns CH_OK, or CH_ERR_NOMEM with err filled.
 */
ch_code x12_open_fd(x12_reader **out, int fd, const char *name,
                    const x12_reader_opts *opts, ch_error *err);
ch_code x12_open_mem(x12_reader **out, const void *buf, size_t len,
                     const char *name, const x12_reader_opts *opts, ch_error *err);

/*
 * Read the next segment into *seg.  Returns X12_SEGMENT, X12_END at the end
 * of input, or X12_FAIL when reading cannot go on: x12_reader_error() then
 * says why, and a FATAL diagnostic has been sent to on_diag.  Recoverable
 * problems are sent to on_diag and reading goes on.  Safe to call again
 * after X12_END or X12_FAIL (returns the same).
 */
int x12_next(x12_reader *r, x12_segment *seg);

const ch_error *x12_reader_error(const x12_reader *r);

/* Counts of diagnostics sent so far, by severity. */
unsigned x12_reader_warnings(const x12_reader *r);
unsigned x12_reader_errors(const x12_reader *r);

/* Bytes consumed so far (the offset just past the last segment). */
uint64_t x12_reader_offset(const x12_reader *r);

/* The name given at open. */
const char *x12_reader_name(const x12_reader *r);

void x12_close(x12_reader *r);

/* --- element access (all zero-copy, all bounds-safe) --------------------- */

/* Element i (1-based).  Empty when i is 0 or past nelem.  Inline: it is on
 * every hot path. */
static inline x12_str x12_elem(const x12_segment *s, unsigned i)
{
    x12_str e = {"", 0};
    if (i == 0 || i > s->nelem)
        return e;
    uint32_t b = s->elem_end[i - 1] + 1;
    e.p = s->raw + b;
    e.len = s->elem_end[i] - b;
    return e;
}

/* Component c (1-based) of the first repetition of element i. */
x12_str x12_comp(const x12_segment *s, unsigned i, unsigned c);

/* Number of repetitions of element i (0 when empty). */
unsigned x12_nrep(const x12_segment *s, unsigned i);

/* Repetition r (1-based) of element i. */
x12_str x12_rep(const x12_segment *s, unsigned i, unsigned r);

/* Piece n (1-based) of s split on sep; empty when there is none. */
x12_str x12_part(x12_str s, char sep, unsigned n);

/* Number of pieces of s split on sep (0 for an empty s). */
unsigned x12_nparts(x12_str s, char sep);

/* 1 when s equals the C string lit. */
int x12_eq(x12_str s, const char *lit);

/* 1 when the segment's tag is the C string tag. */
int x12_is(const x12_segment *s, const char *tag);

/* Copy s into buf (NUL-terminated, truncated to size - 1).  Returns buf. */
char *x12_copy(x12_str s, char *buf, size_t size);

#endif
