/*
 * x12_writer.h - writing X12 segments.
 *
 * Build a segment element by element; x12w_end() drops trailing empty
 * elements and writes it with the terminator.  Values are checked against
 * the delimiters: a value that contains one (which would let data inject
 * segments) makes the segment fail with CH_ERR_INVALID and nothing of it is
 * written.  The writer counts segments so callers can fill SE01.
 *
 * Output goes to a FILE the caller owns (and fsyncs, when it must be
 * durable).  Memory is one fixed segment buffer.
 */
#ifndef X12_WRITER_H
#define X12_WRITER_H

#include <stdint.h>
#include <stdio.h>

#include "ch_error.h"
#include "x12_reader.h"

#define X12W_MAX_SEGMENT 4096

typedef struct x12_writer {
    FILE *fp;
    x12_delims d;
    int newline;        /* write '\n' after each terminator */
    char seg[X12W_MAX_SEGMENT];
    size_t len;         /* bytes in seg */
    size_t last_value;  /* length of seg up to the last non-empty element */
    int bad;            /* the current segment has a bad value */
    char bad_what[64];
    unsigned long count;  /* segments written since the last x12w_reset_count */
    unsigned long total;  /* segments written in all */
    uint64_t bytes;       /* bytes written in all */
} x12_writer;

/* Start writing to fp with delimiters d; newline: add '\n' after terminators. */
void x12w_init(x12_writer *w, FILE *fp, const x12_delims *d, int newline);

/* Begin a segment with this tag. */
void x12w_seg(x12_writer *w, const char *tag);
/* Append an element (may be "" or NULL for an empty one). */
void x12w_el(x12_writer *w, const char *v);
void x12w_eln(x12_writer *w, const char *v, size_t n);
void x12w_elf(x12_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append a component to the element just started with x12w_el(). */
void x12w_sub(x12_writer *w, const char *v);
/* Append an element holding an amount in cents as an X12 R value (12.5, -3). */
void x12w_cents(x12_writer *w, int64_t cents);
/* Append a repetition to the element just started. */
void x12w_rep(x12_writer *w, const char *v);

/* Finish the segment: returns CH_OK, CH_ERR_INVALID (a value held a
 * delimiter; err names the element), CH_ERR_LIMIT (too long) or CH_ERR_IO. */
ch_code x12w_end(x12_writer *w, ch_error *err);

/* Write a segment read by the tokenizer with this writer's delimiters.
 * Binary payloads are copied as they are.  CH_ERR_INVALID when the data holds
 * one of the new delimiters. */
ch_code x12w_copy(x12_writer *w, const x12_segment *s, ch_error *err);

/* Format cents as an X12 R value into buf (at least 24 bytes): no floating
 * point, no trailing zeros ("123.4", "-0.05", "0"). Returns buf. */
char *x12_cents_str(int64_t cents, char *buf);

/* Format cents with exactly two decimals into buf (at least 24 bytes), as
 * reports and messages show money: 12340 -> "123.40", -5 -> "-0.05".
 * No floating point, no printf (reports write several per claim).
 * Returns buf. */
char *x12_cents_fixed(int64_t cents, char *buf);

/* Parse an X12 R / decimal string to cents.  Accepts "-12.3", "12", ".5";
 * more than 2 decimals must be zeros.  Returns CH_OK or CH_ERR_INVALID. */
ch_code x12_parse_cents(const char *p, size_t n, int64_t *cents);

#endif
