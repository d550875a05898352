/*
 * x12_val_job.c - the jobs of the validator's worker threads: the records
 * the feeding thread writes (a set's start and end, its segments, its own
 * diagnostics), and a worker running them through its validator state.
 *
 * Most segments take a small record: their position follows from the one
 * before as the tokenizer moves it, so only the gap in bytes is written,
 * and their element ends fit in a byte each.  A worker rebuilds the
 * x12_segment the tokenizer had given (views into the job), so the checks
 * see the same bytes, ends, classification and position.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "x12_val_par_int.h"

enum { R_BEGIN = 1, R_SEG, R_SEGPOS, R_DIAG, R_END };

/* Every record starts with kind and size (bytes to the next record, a
 * multiple of 16). */
typedef struct rec_head {
    uint8_t kind;
    uint8_t flags;
    uint16_t nelem;
    uint32_t size;
} rec_head;

/* A segment whose position follows from the one before it as the reader
 * moves it (not an envelope segment, nor the one after one: numbers one up,
 * a gap of few bytes) and whose delimiters are the same: R_SEG, small, as
 * most are.  Then elem_end[nelem + 1] as bytes
 * (raw_len < 256) or 16-bit numbers; with X12_CLS_COMP the cbits words;
 * the raw bytes. */
typedef struct rec_seg {
    rec_head h;       /* flags: x12_segment.cls */
    uint16_t raw_len;
    uint8_t gap;      /* bytes between the previous segment's terminator and it */
    uint8_t pad_;
} rec_seg;

/* Any other: R_SEGPOS, with what R_SEG leaves out.  Then elem_end[nelem + 1]
 * (32-bit); with X12_CLS_COMP the cbits words; the raw bytes. */
typedef struct rec_segpos {
    rec_head h;       /* flags: x12_segment.cls */
    uint32_t raw_len;
    x12_delims delims;
    x12_pos pos;
} rec_segpos;

typedef struct rec_begin {
    rec_head h;
    const x12_guide *g; /* NULL: the set is only counted */
    x12_pos st_pos;
} rec_begin;

typedef struct rec_diag {
    rec_head h;       /* flags: DIAG_TX | DIAG_COUNTED */
    x12_diag d;
} rec_diag;
enum { DIAG_TX = 1, DIAG_COUNTED = 2 };

typedef struct rec_end {
    rec_head h;
    x12_pos at;       /* where the set's end is reported */
} rec_end;

#define RAW_PAD 16 /* readable bytes after a job's records (see x12_segment.padded:
                    * before a segment's bytes there is its record) */
_Static_assert(RAW_PAD >= X12_SEG_PAD, "segments in a job are padded as the reader's");


static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

/* n bytes more at the end of j (n a multiple of 16), head filled in; NULL
 * when out of memory. */
static void *append(job *j, size_t n, int kind)
{
    /* RAW_PAD more: the last segment's bytes may be read past in blocks */
    if (j->len + n + RAW_PAD > j->cap) {
        size_t cap = j->cap ? j->cap : JOB_BYTES + 4096;
        while (j->len + n + RAW_PAD > cap)
            cap *= 2;
        unsigned char *b = realloc(j->buf, cap);
        if (!b)
            return NULL;
        j->buf = b;
        j->cap = cap;
    }
    rec_head *h = (rec_head *)(void *)(j->buf + j->len);
    memset(h, 0, sizeof *h);
    h->kind = (uint8_t)kind;
    h->size = (uint32_t)n;
    j->len += n;
    return h;
}

/* ---- the worker's side --------------------------------------------------- */

void xj_keep(job *j, const x12_diag *d, int counted)
{
    if (j->nout == j->capout) {
        size_t cap = j->capout ? j->capout * 2 : 64;
        out_diag *o = realloc(j->out, cap * sizeof *o);
        if (!o) {
            j->lost++;
            return;
        }
        j->out = o;
        j->capout = cap;
    }
    j->out[j->nout].d = *d;
    j->out[j->nout].counted = counted;
    j->nout++;
}

/* The worker validator's own diagnostics, under the feeding validator's
 * file name (the worker's copy of it is freed first). */
void xj_worker_diag(void *ctx, const x12_diag *d)
{
    worker *w = ctx;
    x12_diag c = *d;
    c.file = w->p->main->file;
    xj_keep(w->cur, &c, 1);
}

static const uint64_t no_bits[X12_CLS_MAX / 64 + 1];

/* Element ends of a segment shorter than 256 bytes as bytes, and back.
 * 16 at a time: the reader's elem_end has X12_MAX_ELEMENTS + 1 entries and
 * worker.ends 16 more; a job has RAW_PAD bytes after its records, and each
 * record's bytes are written in order, so writing up to 15 past them is
 * overwritten or unused. */
static inline void ends_narrow(unsigned char *q, const uint32_t *e, size_t ne)
{
#ifdef __SSE2__
    for (size_t i = 0; i < ne; i += 16) {
        const __m128i *s = (const __m128i *)(const void *)(e + i);
        __m128i ab = _mm_packs_epi32(_mm_loadu_si128(s), _mm_loadu_si128(s + 1));
        __m128i cd = _mm_packs_epi32(_mm_loadu_si128(s + 2), _mm_loadu_si128(s + 3));
        _mm_storeu_si128((__m128i *)(void *)(q + i), _mm_packus_epi16(ab, cd));
    }
#else
    for (size_t i = 0; i < ne; i++)
        q[i] = (unsigned char)e[i];
#endif
}

static inline void ends_widen(uint32_t *e, const unsigned char *q, size_t ne)
{
#ifdef __SSE2__
    const __m128i zero = _mm_setzero_si128();
    for (size_t i = 0; i < ne; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(q + i));
        __m128i lo = _mm_unpacklo_epi8(x, zero), hi = _mm_unpackhi_epi8(x, zero);
        __m128i *d = (__m128i *)(void *)(e + i);
        _mm_storeu_si128(d, _mm_unpacklo_epi16(lo, zero));
        _mm_storeu_si128(d + 1, _mm_unpackhi_epi16(lo, zero));
        _mm_storeu_si128(d + 2, _mm_unpacklo_epi16(hi, zero));
        _mm_storeu_si128(d + 3, _mm_unpackhi_epi16(hi, zero));
    }
#else
    for (size_t i = 0; i < ne; i++)
        e[i] = q[i];
#endif
}

/* The segment's bytes to q: in 16-byte blocks when the segment is padded
 * (the bytes after it may be read) and short. */
static inline void copy_raw(unsigned char *q, const x12_segment *seg)
{
#ifdef __SSE2__
    if (seg->padded && seg->raw_len <= 128) {
        for (size_t i = 0; i < seg->raw_len; i += 16)
            _mm_storeu_si128((__m128i *)(void *)(q + i),
                             _mm_loadu_si128((const __m128i *)(const void *)(seg->raw + i)));
        return;
    }
#endif
    memcpy(q, seg->raw, seg->raw_len);
}

/* Whether a segment with this tag moves the reader's envelope numbers. */
static inline int envelope_tag(x12_str t)
{
    if (t.len == 2)
        return (t.p[0] == 'S' || t.p[0] == 'G') && (t.p[1] == 'T' || t.p[1] == 'E' || t.p[1] == 'S');
    return t.len == 3 && t.p[0] == 'I' && (t.p[1] == 'S' || t.p[1] == 'E') && t.p[2] == 'A';
}

/* The chain at a set's start: its ST follows from it. */
seg_chain xj_chain_start(const x12_pos *st)
{
    return (seg_chain){st->offset, st->seg_no - 1, st->seg_in_isa - 1, 0, 1};
}

/* Rebuild the segment of the record at h into seg (views into the job). */
static void unpack(worker *w, const rec_head *h, x12_segment *seg)
{
    const unsigned char *q;
    size_t ne = (size_t)h->nelem + 1, raw_len;
    seg_chain *c = &w->chain;
    if (h->kind == R_SEG) {
        const rec_seg *rs = (const rec_seg *)h;
        raw_len = rs->raw_len;
        /* seg->pos is the previous segment's: the reader moves the same
         * four numbers and nothing else */
        seg->pos.offset = c->end + rs->gap;
        seg->pos.seg_no = c->seg_no + 1;
        seg->pos.seg_in_isa = c->seg_in_isa + 1;
        seg->pos.seg_in_st = c->seg_in_st + 1;
        q = (const unsigned char *)(rs + 1);
        if (raw_len < 256) {
            ends_widen(w->ends, q, ne);
            q += ne;
        } else {
            for (size_t i = 0; i < ne; i++)
                w->ends[i] = (uint32_t)q[2 * i] | (uint32_t)q[2 * i + 1] << 8;
            q += 2 * ne;
        }
    } else {
        const rec_segpos *rp = (const rec_segpos *)h;
        raw_len = rp->raw_len;
        seg->pos = rp->pos;
        w->delims = rp->delims;
        q = (const unsigned char *)(rp + 1);
        memcpy(w->ends, q, ne * sizeof *w->ends);
        q += ne * sizeof *w->ends;
    }
    seg->cls = h->flags;
    seg->cbits = no_bits;
    if (seg->cls & X12_CLS_COMP) {
        size_t nb = (raw_len / 64 + 1) * sizeof(uint64_t);
        memcpy(w->cbits, q, nb);
        seg->cbits = w->cbits;
        q += nb;
    }
    seg->raw = (const char *)q;
    seg->raw_len = raw_len;
    seg->nelem = h->nelem;
    seg->elem_end = w->ends;
    seg->tag.p = seg->raw;
    seg->tag.len = w->ends[0];
    seg->delims = &w->delims;
    seg->padded = 1;
    c->end = seg->pos.offset + raw_len + 1;
    c->seg_no = seg->pos.seg_no;
    c->seg_in_isa = seg->pos.seg_in_isa;
    c->seg_in_st = seg->pos.seg_in_st;
}

void xj_run(worker *w, job *j)
{
    xv *v = w->v;
    w->cur = j;
    j->nout = 0;
    j->lost = 0;
    j->sets_bad = 0;
    unsigned unchecked0 = v->nsets_unchecked;
    x12_pos end_at;
    for (size_t at = 0; at < j->len;) {
        const rec_head *h = (const rec_head *)(const void *)(j->buf + at);
        /* the records were written on another core: ask for them early */
        __builtin_prefetch(j->buf + at + 512);
        at += h->size;
        switch (h->kind) {
        case R_BEGIN: {
            const rec_begin *b = (const rec_begin *)h;
            v->in_tx = 1;
            v->tx_errors = 0;
            v->st_pos = b->st_pos;
            v->cur = &v->st_pos;
            v->top = -1;
            v->g = NULL;
            w->chain = xj_chain_start(&b->st_pos);
            if (b->g)
                xv_set_begin(v, b->g); /* sets v->g, unless out of memory */
            break;
        }
        case R_SEG:
        case R_SEGPOS:
            unpack(w, h, &w->seg);
            v->cur = &w->seg.pos;
            if (v->in_tx && v->g)
                xv_loops_segment(v, &w->seg);
            break;
        case R_DIAG: {
            const rec_diag *d = (const rec_diag *)h;
            xj_keep(j, &d->d, (d->h.flags & DIAG_COUNTED) != 0);
            if ((d->h.flags & DIAG_TX) && v->in_tx)
                v->tx_errors++;
            break;
        }
        case R_END:
            end_at = ((const rec_end *)h)->at;
            v->cur = &end_at;
            if (v->in_tx && v->g)
                xv_loops_end(v, NULL);
            if (v->in_tx && v->tx_errors)
                j->sets_bad++;
            v->in_tx = 0;
            v->g = NULL;
            break;
        default:
            at = j->len; /* not a record of ours: cannot happen */
            break;
        }
    }
    j->sets_unchecked = v->nsets_unchecked - unchecked0;
}

int xj_put_begin(job *j, const x12_pos *st_pos, size_t *at)
{
    rec_begin *b = append(j, align16(sizeof *b), R_BEGIN);
    if (!b)
        return 0;
    b->g = NULL;
    b->st_pos = *st_pos;
    *at = (size_t)((unsigned char *)b - j->buf);
    return 1;
}

void xj_set_guide(job *j, size_t at, const x12_guide *g)
{
    ((rec_begin *)(void *)(j->buf + at))->g = g;
}

int xj_put_end(job *j, const x12_pos *at)
{
    rec_end *e = append(j, align16(sizeof *e), R_END);
    if (e)
        e->at = *at;
    return e != NULL;
}

int xj_put_diag(job *j, const x12_diag *d, int tx, int counted)
{
    rec_diag *r = append(j, align16(sizeof *r), R_DIAG);
    if (!r)
        return 0;
    r->h.flags = (uint8_t)((tx ? DIAG_TX : 0) | (counted ? DIAG_COUNTED : 0));
    r->d = *d;
    return 1;
}

int xj_put_segment(job *j, seg_chain *c, x12_delims *delims, const x12_segment *seg)
{
    const x12_pos *ps = &seg->pos;
    size_t ne = (size_t)seg->nelem + 1;
    unsigned cls = seg->padded ? seg->cls : 0;
    size_t nb = (cls & X12_CLS_COMP) ? (seg->raw_len / 64 + 1) * sizeof(uint64_t) : 0;
    int env = envelope_tag(seg->tag);
    /* small when its position follows (an envelope segment, or the one after
     * one, may change what the set's segments share) */
    int small = !env && !c->after_envelope && ps->seg_no == c->seg_no + 1 &&
                ps->seg_in_isa == c->seg_in_isa + 1 && ps->seg_in_st == c->seg_in_st + 1 &&
                ps->offset >= c->end && ps->offset - c->end < 256 && seg->nelem < 256 &&
                seg->raw_len < 65536 && !memcmp(delims, seg->delims, sizeof *delims);
    unsigned char *q;
    if (small) {
        size_t wide = seg->raw_len < 256 ? 1 : 2;
        rec_seg *rs = append(j, align16(sizeof *rs + ne * wide + nb + seg->raw_len), R_SEG);
        if (!rs)
            return 0;
        rs->h.flags = (uint8_t)cls;
        rs->h.nelem = (uint16_t)seg->nelem;
        rs->raw_len = (uint16_t)seg->raw_len;
        rs->gap = (uint8_t)(ps->offset - c->end);
        q = (unsigned char *)(rs + 1);
        const uint32_t *e = seg->elem_end;
        if (wide == 1)
            ends_narrow(q, e, ne);
        else
            for (size_t i = 0; i < ne; i++) {
                q[2 * i] = (unsigned char)e[i];
                q[2 * i + 1] = (unsigned char)(e[i] >> 8);
            }
        q += ne * wide;
    } else {
        rec_segpos *rp = append(j, align16(sizeof *rp + ne * sizeof(uint32_t) + nb + seg->raw_len),
                                R_SEGPOS);
        if (!rp)
            return 0;
        rp->h.flags = (uint8_t)cls;
        rp->h.nelem = (uint16_t)seg->nelem;
        rp->raw_len = (uint32_t)seg->raw_len;
        rp->delims = *seg->delims;
        rp->pos = *ps;
        *delims = *seg->delims;
        q = (unsigned char *)(rp + 1);
        memcpy(q, seg->elem_end, ne * sizeof(uint32_t));
        q += ne * sizeof(uint32_t);
    }
    if (nb) {
        memcpy(q, seg->cbits, nb);
        q += nb;
    }
    copy_raw(q, seg);
    c->end = ps->offset + seg->raw_len + 1;
    c->seg_no = ps->seg_no;
    c->seg_in_isa = ps->seg_in_isa;
    c->seg_in_st = ps->seg_in_st;
    c->after_envelope = env;
    return 1;
}
