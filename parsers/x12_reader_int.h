/*
 * x12_reader_int.h - what the tokenizer's files share: the reader struct
 * and the helpers the cold parts (x12_isa.c: finding and reading an ISA;
 * x12_binary.c: BIN/BDS segments) call back into x12_reader.c.  Not a
 * public API: see x12_reader.h.
 *
 * The hot loop stays in x12_reader.c, its helpers static there so that the
 * compiler treats them as before the split; only cold code is elsewhere.
 */
#ifndef X12_READER_INT_H
#define X12_READER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "x12_reader.h"

enum state { S_SEEK_ISA, S_IN_ISA, S_DONE, S_FAILED };

struct x12_reader {
    int fd;          /* -1 in memory mode */
    char *own;       /* our buffer (fd mode), with X12_SEG_PAD bytes of
                        slack before and after it (see x12_segment) */
    const char *buf; /* bytes: own, or the caller's memory */
    size_t cap, start, end;
    uint64_t base;   /* stream offset of buf[0] */
    int eof;
    size_t max_segment;
    size_t read_size;
    enum state state;
    int seen_isa;    /* an ISA was found in this stream */
    int leave;       /* envelope to close before the next segment: 'S','G','I' */
    x12_delims d;
    char vd[4][16];  /* element, segment, component, repetition separator,
                        16 times each: loaded, not rebuilt, per segment */
    x12_pos pos;
    int too_many;    /* the segment being scanned has > X12_MAX_ELEMENTS */
    int classify;    /* opts.classify */
    unsigned cls;    /* X12_CLS_* of the segment being scanned */
    uint32_t elem_end[X12_MAX_ELEMENTS + 1];
    uint64_t cbits[X12_CLS_MAX / 64 + 1]; /* + 1: see scan_impl's last block */
    x12_diag_fn on_diag;
    void *diag_ctx;
    unsigned nwarn, nerr;
    ch_error err;
    char name[256];
};

static inline int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline int is_space(unsigned char c)
{
    /* ' ' '\t' '\n' '\v' '\f' '\r' as bits: one test on the way between segments */
    const uint64_t spaces = (uint64_t)1 << ' ' | (uint64_t)1 << '\t' | (uint64_t)1 << '\n' |
                            (uint64_t)1 << '\v' | (uint64_t)1 << '\f' | (uint64_t)1 << '\r';
    return c <= ' ' && ((spaces >> c) & 1);
}

/* "ISA" then a delimiter: where an interchange starts.  Inline: x12_next
 * asks it of every segment that starts with 'I'. */
static inline int is_isa_start(const char *p, size_t avail)
{
    return avail >= 4 && p[0] == 'I' && p[1] == 'S' && p[2] == 'A' && !is_alnum((unsigned char)p[3]) &&
           !is_space((unsigned char)p[3]);
}

/* ---- in x12_reader.c ----------------------------------------------------- */

/* Send a diagnostic at the reader's position and count it. */
void xr_report(x12_reader *r, x12_severity sev, const char *code, const char *tag, const char *ta1,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* A problem reading cannot get past: report it, remember it, stop (X12_FAIL). */
int xr_fail(x12_reader *r, ch_code code, const char *dcode, const char *ta1, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* At least need bytes from r->start if the stream has them; the count, or (size_t)-1. */
size_t xr_fill(x12_reader *r, size_t need);

/* Skip whitespace between segments: 1, 0 at end of input, -1 on error. */
int xr_skip_space(x12_reader *r);

/* ---- in x12_isa.c -------------------------------------------------------- */

/* A delimiter for messages: "LF", "CR", "0x07" or "'*'", written in buf. */
const char *xr_delim_name(char c, char *buf, size_t size);

/* Read the delimiters of the ISA at r->start (X12_SEGMENT or X12_FAIL). */
int xr_read_isa(x12_reader *r);

/* Find the next ISA, skipping other text, and read it (or X12_END). */
int xr_seek_isa(x12_reader *r);

/* ---- in x12_binary.c ----------------------------------------------------- */

/* A BIN/BDS segment at r->start measured by its length element: 1 with
 * *len set, 0 to read it as text, X12_FAIL. */
int xr_binary_segment(x12_reader *r, size_t *len);

#endif
