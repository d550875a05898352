/*
 * gen_writer.h - the generators' buffered X12 segment writer, with its own
 * integer, money and date formatting (no printf on the hot path), counting
 * segments and bytes.  Header-only.
 */
#ifndef BENCH_GEN_WRITER_H
#define BENCH_GEN_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_rand.h"
#include "money.h"

/* ------------------------------------------------------------------ */
/* Buffered segment writer                                             */
/* ------------------------------------------------------------------ */

/* Every segment we write is far shorter than this; xw_seg() makes sure
 * this much room is free so element appends need no bounds checks. */
#define XW_SEG_MAX 1024u

typedef struct xw {
    FILE *fp;          /* NULL: memory mode, the buffer grows instead */
    char *buf;
    size_t cap, len;
    uint64_t flushed;  /* bytes already handed to fwrite */
    uint64_t segs;     /* segments written since the last xw_take_segs() */
    int failed;
} xw;

static inline void xw_die(const char *what)
{
    fprintf(stderr, "gen: %s: %s\n", what, strerror(errno));
    exit(1);
}

static inline void xw_init(xw *w, FILE *fp, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->fp = fp;
    w->cap = cap;
    w->buf = malloc(cap);
    if (w->buf == NULL)
        xw_die("malloc");
}

static inline void xw_flush(xw *w)
{
    if (w->fp == NULL || w->len == 0)
        return;
    if (fwrite(w->buf, 1, w->len, w->fp) != w->len)
        xw_die("write");
    w->flushed += w->len;
    w->len = 0;
}

static inline void xw_reserve(xw *w, size_t need)
{
    if (w->cap - w->len >= need)
        return;
    if (w->fp != NULL) {
        xw_flush(w);
        if (w->cap >= need)
            return;
    }
    size_t ncap = w->cap * 2;
    while (ncap - w->len < need)
        ncap *= 2;
    char *nb = realloc(w->buf, ncap);
    if (nb == NULL)
        xw_die("realloc");
    w->buf = nb;
    w->cap = ncap;
}

static inline uint64_t xw_bytes(const xw *w)
{
    return w->flushed + w->len;
}

static inline void xw_raw(xw *w, const char *s, size_t n)
{
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static inline void xw_ch(xw *w, char c)
{
    w->buf[w->len++] = c;
}

static inline void xw_s(xw *w, const char *s)
{
    xw_raw(w, s, strlen(s));
}

static inline void xw_u(xw *w, uint64_t v)
{
    char t[24];
    size_t n = 0;
    do {
        t[n++] = (char)('0' + (unsigned)(v % 10u));
        v /= 10u;
    } while (v != 0);
    while (n > 0)
        w->buf[w->len++] = t[--n];
}

/* zero-padded to at least width digits */
static inline void xw_upad(xw *w, uint64_t v, unsigned width)
{
    char t[24];
    unsigned n = 0;
    do {
        t[n++] = (char)('0' + (unsigned)(v % 10u));
        v /= 10u;
    } while (v != 0);
    while (n < width && n < sizeof t)
        t[n++] = '0';
    while (n > 0)
        w->buf[w->len++] = t[--n];
}

static inline void xw_money(xw *w, int64_t cents)
{
    w->len += money_fmt(w->buf + w->len, cents);
}

/* CCYYMMDD */
static inline void xw_date(xw *w, int32_t days)
{
    int32_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    xw_upad(w, (uint64_t)y, 4);
    xw_upad(w, m, 2);
    xw_upad(w, d, 2);
}

/* segment start: tag */
static inline void xw_seg(xw *w, const char *tag)
{
    xw_reserve(w, XW_SEG_MAX);
    xw_s(w, tag);
}

/* element separator + text / number / money / date; xw_skip: n separators */
static inline void xw_e(xw *w, const char *s) { xw_ch(w, '*'); xw_s(w, s); }
static inline void xw_eu(xw *w, uint64_t v) { xw_ch(w, '*'); xw_u(w, v); }
static inline void xw_em(xw *w, int64_t c) { xw_ch(w, '*'); xw_money(w, c); }
static inline void xw_ed(xw *w, int32_t d) { xw_ch(w, '*'); xw_date(w, d); }
static inline void xw_skip(xw *w, unsigned n)
{
    while (n-- > 0)
        xw_ch(w, '*');
}

/* segment end: terminator '~' and a newline */
static inline void xw_end(xw *w)
{
    xw_ch(w, '~');
    xw_ch(w, '\n');
    w->segs++;
}

/* a complete segment given as text without terminator (rare segments) */
static inline void xw_line(xw *w, const char *seg)
{
    xw_seg(w, seg);
    xw_end(w);
}

static inline uint64_t xw_take_segs(xw *w)
{
    uint64_t n = w->segs;
    w->segs = 0;
    return n;
}

/* Append everything in memory writer src to w, then empty src. */
static inline void xw_append(xw *w, xw *src)
{
    if (w->fp != NULL && src->len > w->cap / 2) {
        xw_flush(w);
        if (fwrite(src->buf, 1, src->len, w->fp) != src->len)
            xw_die("write");
        w->flushed += src->len;
    } else {
        xw_reserve(w, src->len);
        xw_raw(w, src->buf, src->len);
    }
    w->segs += src->segs;
    src->len = 0;
    src->segs = 0;
}

static inline void xw_close(xw *w)
{
    xw_flush(w);
    if (w->fp != NULL) {
        if (fflush(w->fp) != 0 || ferror(w->fp))
            xw_die("write");
        if (w->fp != stdout ? fclose(w->fp) != 0 : 0)
            xw_die("close");
    }
    free(w->buf);
    w->buf = NULL;
}

/*
 * ISA, fixed 106 bytes including the terminator:
 *   ISA*00*<10 sp>*00*<10 sp>*ZZ*<sender 15>*ZZ*<receiver 15>*YYMMDD*HHMM*^*00501*<icn 9>*0*<P|T>*:~
 */
static inline void xw_isa(xw *w, const char *sender, const char *receiver,
                          const char *yymmdd, const char *hhmm, uint64_t icn, char usage)
{
    char line[160];
    int n = snprintf(line, sizeof line,
                     "ISA*00*          *00*          *ZZ*%-15.15s*ZZ*%-15.15s*%s*%s*^*00501*%09llu*0*%c*:~",
                     sender, receiver, yymmdd, hhmm, (unsigned long long)(icn % 1000000000u), usage);
    if (n != 106) {
        fprintf(stderr, "gen: internal error: ISA is %d bytes\n", n);
        exit(2);
    }
    xw_reserve(w, XW_SEG_MAX);
    xw_raw(w, line, (size_t)n);
    xw_ch(w, '\n');
    w->segs++;
}


#endif
