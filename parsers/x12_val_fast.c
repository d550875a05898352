/*
 * x12_val_fast.c - the common case of the element checks, on bitmaps.
 *
 * A segment is classified once, 16 bytes at a time: where its component
 * separators are and whether it holds a control byte or a repetition
 * separator (by the tokenizer on its own pass when asked to, see
 * x12_reader_opts.classify; else here, on a padded copy if need be).  Each
 * value is then decided with a few bit tests and at most one or two 64-bit
 * loads: a text's length, a code compared as one number, the digits of a
 * number or date, a composite split on the separator bits.  Composites that
 * passed, and the element tail of an entry with the same elements present,
 * are remembered (xv.compq, xv.endq): pure functions of what keys them.
 *
 * Anything else goes to the full checks of x12_val_elems.c: a whole segment
 * that holds a repetition separator or a control byte, is longer than
 * XV_SEG_FAST, is ST of the header or was placed by tag alone; and, one at
 * a time, every value the bit tests do not pass.  The full checks find and
 * report the problem, so each diagnostic comes from one place, and a value
 * that passes here is one the full checks pass without a word (save the
 * check= code-set checks, which run here the same way).
 */
#include <string.h>

#include "x12_codeset.h"
#include "x12_envelope.h"
#include "x12_val_internal.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- classification ------------------------------------------------------ */

/* Classify seg into sv (copied first unless the reader's buffer has room
 * around it); 0 when it must take the full checks. */
static int classify(xv_seg *sv, const x12_segment *seg)
{
    size_t n = seg->raw_len;
    if (n > XV_SEG_FAST || n == 0 || seg->nelem >= 64)
        return 0;
    sv->ee = seg->elem_end;
    sv->nelem = seg->nelem;
    const char *p = seg->raw;
    if (!seg->padded) {
        memcpy(sv->buf, p, n);
        p = sv->buf;
    }
    sv->p = p;
    if (seg->cls & X12_CLS_DONE) {
        /* the tokenizer classified it on its way (x12_reader_opts.classify) */
        sv->comp = seg->cbits;
        sv->anycomp = (seg->cls & X12_CLS_COMP) != 0;
        return !(seg->cls & X12_CLS_ODD);
    }
    uint64_t *comp = sv->cbuf;
    sv->comp = comp;
    const x12_delims *d = seg->delims;
    unsigned odd = 0, anycomp = 0;
#ifdef __SSE2__
    /* odd: a control byte, 0x7f or a byte of 0x80 and up (x + 1 is then
     * below 0x21 as a signed byte; the last take the full checks too, which
     * costs them time, not results), or the repetition separator (a NUL
     * byte when there is none: a control byte anyway) */
    if (!sv->vset || sv->cc != d->component || sv->cr != d->repetition) {
        memset(sv->vcomp, d->component, 16);
        memset(sv->vrep, d->repetition, 16);
        sv->cc = d->component;
        sv->cr = d->repetition;
        sv->vset = 1;
    }
    const __m128i vc = _mm_loadu_si128((const __m128i *)(const void *)sv->vcomp),
                  vr = _mm_loadu_si128((const __m128i *)(const void *)sv->vrep),
                  v1 = _mm_set1_epi8(1), v21 = _mm_set1_epi8(0x21);
    uint64_t c = 0;
    size_t i = 0;
    for (;; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i o = _mm_or_si128(_mm_cmpgt_epi8(v21, _mm_add_epi8(x, v1)), _mm_cmpeq_epi8(x, vr));
        unsigned mc = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vc));
        unsigned mo = (unsigned)_mm_movemask_epi8(o);
        if (i + 16 >= n) { /* bytes past n are not ours */
            unsigned keep = (unsigned)(((uint32_t)1 << (n - i)) - 1);
            mc &= keep;
            mo &= keep;
        }
        odd |= mo;
        anycomp |= mc;
        c |= (uint64_t)mc << (i & 63);
        if (i + 16 >= n) {
            comp[i >> 6] = c;
            break;
        }
        if ((i & 63) == 48) {
            comp[i >> 6] = c;
            c = 0;
        }
    }
#else
    for (size_t w = 0; w < (n + 63) / 64; w++)
        comp[w] = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)p[i];
        if (b == (unsigned char)d->component) {
            comp[i >> 6] |= (uint64_t)1 << (i & 63);
            anycomp = 1;
        }
        odd |= b < 0x20 || b >= 0x7f || b == (unsigned char)d->repetition;
    }
#endif
    sv->anycomp = anycomp != 0;
    return !odd;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* keep8[n]: the n low bytes of a 64-bit word (n < 8); zeros8[n]: '0' in
 * the others.  Tables, not shifts by 8n, on the hot paths below. */
static const uint64_t keep8[8] = {0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffff, 0xffffffffffff,
                                  0xffffffffffffff};
static const uint64_t zeros8[8] = {0x3030303030303030u, 0x3030303030303000u, 0x3030303030300000u,
                                   0x3030303030000000u, 0x3030303000000000u, 0x3030300000000000u,
                                   0x3030000000000000u, 0x3000000000000000u};
#endif

/* Whether the n bytes at p (at sv->p, so 8-byte loads stay readable) are
 * all digits: 8 at a time. */
static inline int digits(const char *p, size_t n)
{
    if (!n)
        return 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t zeros = 0x3030303030303030u, hi = 0xF0F0F0F0F0F0F0F0u, six = 0x0606060606060606u;
    for (;;) {
        uint64_t x;
        memcpy(&x, p, 8);
        if (n < 8) /* the bytes past n count as '0' */
            x = (x & keep8[n]) | zeros8[n];
        /* a digit is 0x30..0x39: high nibble 3, and adding 6 keeps it so */
        if ((x & hi) != zeros || ((x + six) & hi) != zeros)
            return 0;
        if (n <= 8)
            return 1;
        p += 8;
        n -= 8;
    }
#else
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
#endif
}

int xv_classify_bytes(xv_seg *sv, const x12_segment *seg) { return classify(sv, seg); }

/* ---- values -------------------------------------------------------------- */

/* p/n (n <= 7, at sv->p) as a packed code (see x12_gcodes). */
static inline uint64_t pack(const char *p, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* the n low bytes, and n in the top byte */
    uint64_t x;
    memcpy(&x, p, 8);
    return (x & keep8[n]) | (uint64_t)n << 56;
#else
    uint64_t key = (uint64_t)n << 56;
    for (size_t b = 0; b < n; b++)
        key |= (uint64_t)(unsigned char)p[b] << (8 * b);
    return key;
#endif
}

/* Whether p/n (at sv->p) is one of f's codes. */
static inline int code_hit(const x12_gfast *f, const char *p, size_t n)
{
    if (n > 7)
        return x12_gcodes_has(&f->e->codes, p, n);
    uint64_t key = pack(p, n);
    if (key == f->code[0] || key == f->code[1])
        return 1;
    if (f->ncodes <= 2)
        return 0;
    const x12_gcodes *c = &f->e->codes;
    for (uint32_t i = 2; i < c->n; i++)
        if (c->packed[i] == key)
            return 1;
    return 0;
}

static inline unsigned dig2(const char *p) { return (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0'); }

/* x12_valid_date of 8 digits, without re-reading them one by one. */
static inline int date8(const char *p)
{
    unsigned y = dig2(p) * 100 + dig2(p + 2), m = dig2(p + 4), d = dig2(p + 6);
    if (y < 1800 || m - 1 > 11 || d == 0)
        return 0;
    if (d <= 28)
        return 1;
    static const uint8_t mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= (unsigned)(mdays[m - 1] + (m == 2 && leap));
}

/* Whether value p/n (at sv->p, all digits) is a real date. */
static inline int date_ok(const char *p, unsigned n)
{
    return n == 8 ? date8(p) : x12_valid_date((x12_str){p, n});
}

/*
 * The pure part of the fast checks over positions `present` (bits) of a
 * segment or composite with plan pl and hot summaries f[]: the positions
 * whose value the fast checks cannot pass.  Lengths are the caller's (they
 * are tested 8 at once for elements).  Kind by kind, so each loop's
 * branches go the same way.  at[i] / to[i]: where value i starts / ends.
 */
#define FOR_BITS(i, mask)                                                                       \
    for (uint64_t m_ = (mask), i; m_ && ((i = (uint64_t)__builtin_ctzll(m_)), 1); m_ &= m_ - 1)

x12_str xv_comp(const xv *v, const x12_segment *seg, unsigned el, unsigned comp)
{
    const xv_seg *sv = &v->sv;
    if (!sv->ok || !comp || !el)
        return x12_comp(seg, el, comp);
    if (el > sv->nelem)
        return (x12_str){"", 0}; /* as x12_comp: an element not sent is empty */
    /* no repetition separator in the segment: the element is its first
     * repetition; component comp ends at the comp-th separator bit */
    unsigned b = sv->ee[el - 1] + 1, e = sv->ee[el];
    if (b >= e)
        return (x12_str){"", 0};
    unsigned k = 1;
    for (unsigned w = b >> 6, we = (e - 1) >> 6; w <= we; w++) {
        uint64_t m = sv->comp[w];
        if (w == b >> 6)
            m &= ~(uint64_t)0 << (b & 63);
        if (w == we)
            m &= ~(uint64_t)0 >> (63 - ((e - 1) & 63));
        for (; m; m &= m - 1) {
            unsigned at = w * 64 + (unsigned)__builtin_ctzll(m);
            if (k == comp)
                return (x12_str){sv->p + b, at - b};
            b = at + 1;
            k++;
        }
    }
    return k == comp ? (x12_str){sv->p + b, e - b} : (x12_str){"", 0};
}

/* Whether p/n, which is not all digits, is a number the full checks pass
 * without a word (check_simple): a sign, the digits, for R one decimal
 * point, and as many digits as f allows.  Only where no check= follows
 * (the full checks would run it in another repetition context). */
static inline int number(const x12_gfast *f, int real, const char *p, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n - 1 < 8 && real) {
        /* the usual amount, "113.75": up to 8 bytes of digits and one point,
         * in one word; anything else (a sign, more bytes) takes the loop */
        const uint64_t dots = 0x2E2E2E2E2E2E2E2Eu, low7 = 0x7F7F7F7F7F7F7F7Fu, hi = 0xF0F0F0F0F0F0F0F0u,
                       zeros = 0x3030303030303030u, six = 0x0606060606060606u;
        uint64_t x;
        memcpy(&x, p, 8);
        if (n < 8)
            x = (x & keep8[n]) | zeros8[n];
        /* the high bit of each byte that is '.', exactly */
        uint64_t d = x ^ dots, pt = ~(((d & low7) + low7) | d | low7);
        x += (pt >> 7) * 2; /* '.' + 2 == '0' */
        if (!(pt & (pt - 1)) && (x & hi) == zeros && ((x + six) & hi) == zeros) {
            size_t ndig = n - (pt != 0);
            return !f->check && ndig && ndig >= f->min && ndig <= f->max;
        }
    }
#endif
    size_t i = n && p[0] == '-', digits = 0;
    int dots = 0;
    for (; i < n; i++) {
        if (p[i] >= '0' && p[i] <= '9')
            digits++;
        else if (p[i] == '.' && real && !dots)
            dots = 1;
        else
            return 0;
    }
    return !f->check && digits && digits >= f->min && digits <= f->max;
}

/* ---- check= ------------------------------------------------------------- */

#define PACK2(a, b) ((uint64_t)2 << 56 | (uint64_t)(b) << 8 | (uint64_t)(a))
#define PACK3(a, b, c) ((uint64_t)3 << 56 | (uint64_t)(c) << 16 | (uint64_t)(b) << 8 | (uint64_t)(a))

/* Whether value [b, e) certainly passes check= (the common cases, decided
 * here without the full glue); 0 means "let xv_codeset decide (and
 * report)", not "wrong".  For an element, q is the element before it (dtp);
 * in a composite, q and code are its components 1 and 2 (hi, proc). */
static inline int check_ok(const xv_seg *sv, uint8_t check, int in_comp, unsigned b, unsigned e,
                           x12_str q, x12_str code)
{
    const char *p = sv->p + b;
    unsigned n = e - b;
    switch ((x12_gcheck)check) {
    case X12_CHECK_DATE:
        return n == 8 && digits(p, 8) && date8(p);
    case X12_CHECK_DTP: {
        if (in_comp)
            return 0;
        uint64_t f = q.len && q.len <= 3 ? pack(q.p, q.len) : 0; /* q is at sv->p */
        if (f == PACK2('D', '8'))
            return n == 8 && digits(p, 8) && date8(p);
        if (f == PACK3('R', 'D', '8'))
            return n == 17 && p[8] == '-' && digits(p, 8) && digits(p + 9, 8) &&
                   date8(p) && date8(p + 9) && memcmp(p, p + 9, 8) <= 0;
        return 0;
    }
    case X12_CHECK_ZIP:
        return (n == 5 || n == 9) && digits(p, n);
    case X12_CHECK_NPI:
        return n == 10 && digits(p, 10) && x12_npi_ok((x12_str){p, n});
    case X12_CHECK_STATE:
        return x12_state_ok((x12_str){p, n});
    case X12_CHECK_HI:
        return in_comp && x12_hi_ok(q, code, NULL);
    case X12_CHECK_PROC:
        return in_comp && x12_proc_ok(q, code);
    default:
        return 0;
    }
}

/* ---- composites ---------------------------------------------------------- */

#define MAX_CUTS 24

/*
 * Whether composite ce at [b, e) passes every check without a word: the
 * common case, decided with its separator bits in one register.  0 sends
 * it to composite(), which finds and reports what is wrong (or decides what
 * this leaves to it: more than 64 bytes, a check it does not know).
 */
static inline int composite_quiet(const xv_seg *sv, const x12_gelem *ce, unsigned b, unsigned e)
{
    const x12_gplan *pl = &ce->cplan;
    unsigned n = e - b;
    if (!pl->ok || n > 64)
        return 0;
    /* the separator bits of [b, e), from bit 0 */
    unsigned w = b >> 6, sh = b & 63;
    uint64_t r = sv->comp[w] >> sh;
    if (sh && ((e - 1) >> 6) != w)
        r |= sv->comp[w + 1] << (64 - sh);
    if (n < 64)
        r &= ((uint64_t)1 << n) - 1;
    const char *p = sv->p + b;
    const x12_gfast *cf = ce->cfast;
    uint64_t present = 0;
    x12_str q1 = {"", 0}, q2 = {"", 0};
    unsigned cb = 0;
    for (unsigned j = 1;; j++) {
        unsigned end = r ? (unsigned)__builtin_ctzll(r) : n, cn = end - cb;
        if (j == 1)
            q1 = (x12_str){p, cn};
        else if (j == 2)
            q2 = (x12_str){p + cb, cn};
        if (cn) {
            uint64_t bit = (uint64_t)1 << j;
            present |= bit;
            if (!(pl->fast & bit))
                return 0;
            const x12_gfast *f = &cf[j];
            switch (f->kind) {
            case X12_FK_CODE:
                if (!code_hit(f, p + cb, cn))
                    return 0;
                break;
            case X12_FK_TEXT:
                if (cn < f->min || cn > f->max)
                    return 0;
                break;
            case X12_FK_NUM:
            case X12_FK_DATE:
                if (cn < f->min || cn > f->max || !digits(p + cb, cn) ||
                    (f->kind == X12_FK_DATE && !date_ok(p + cb, cn)))
                    return 0;
                break;
            default:
                return 0;
            }
            /* hi, proc read components 1 and 2: known from component 2 on */
            if (f->check && (j < 2 || !check_ok(sv, f->check, 1, b + cb, b + end, q1, q2)))
                return 0;
        }
        if (!r)
            break;
        if (j == 63)
            return 0;
        r &= r - 1;
        cb = end + 1;
    }
    if (pl->req & ~present)
        return 0;
    return !ce->check || check_ok(sv, ce->check, 1, b, e, q1, q2);
}

/* composite_quiet, remembered for values of at most 16 bytes (v->compq;
 * only while the memo's guide is the set's, so the tables stay). */
static inline int composite_seen(xv *v, const xv_seg *sv, const x12_gelem *ce, unsigned b, unsigned e,
                                 char sep)
{
    unsigned n = e - b;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n <= 16 && v->memo_g == v->g) {
        /* 16 bytes from b stay readable: sv->p has X12_SEG_PAD after the end */
        uint64_t lo, hi;
        memcpy(&lo, sv->p + b, 8);
        memcpy(&hi, sv->p + b + 8, 8);
        if (n < 8) {
            lo &= ((uint64_t)1 << (8 * n)) - 1;
            hi = 0;
        } else if (n < 16) {
            hi &= ((uint64_t)1 << (8 * (n - 8))) - 1;
        }
        uint64_t h = (lo * 0x9E3779B97F4A7C15u + hi * 0xD6E8FEB86659FD93u) ^ (uint64_t)(uintptr_t)ce;
        __typeof__(v->compq[0]) *q = &v->compq[(h * 0xC2B2AE3D27D4EB4Fu) >> (64 - XV_COMPQ_BITS)];
        if (q->ce == ce && q->lo == lo && q->hi == hi && q->len == n && q->sep == sep)
            return 1;
        if (!composite_quiet(sv, ce, b, e))
            return 0;
        q->ce = ce;
        q->lo = lo;
        q->hi = hi;
        q->len = (uint8_t)n;
        q->sep = sep;
        return 1;
    }
#else
    (void)v;
    (void)sep;
#endif
    return composite_quiet(sv, ce, b, e);
}

/* Composite ce at [b, e) of element c->elem. */
static __attribute__((noinline)) void composite(xv_ectx *c, const xv_seg *sv, const x12_gelem *ce,
                                                unsigned b, unsigned e)
{
    const char *raw = c->seg->raw;
    const x12_gplan *pl = &ce->cplan;
    unsigned at[MAX_CUTS + 2], nc = 0;
    if (!pl->ok)
        goto full;
    at[0] = b;
    for (unsigned w = b >> 6, we = (e - 1) >> 6; w <= we; w++) {
        uint64_t m = sv->comp[w];
        if (w == b >> 6)
            m &= ~(uint64_t)0 << (b & 63);
        if (w == we)
            m &= ~(uint64_t)0 >> (63 - ((e - 1) & 63));
        for (; m; m &= m - 1) {
            if (nc == MAX_CUTS)
                goto full; /* more components than any guide lists */
            at[++nc] = w * 64 + (unsigned)__builtin_ctzll(m) + 1;
        }
    }
    at[nc + 1] = e + 1;
    /* component j is [at[j-1], at[j] - 1): decide each */
    uint64_t present = 0, bad = 0, look = 0;
    const x12_gfast *cf = ce->cfast;
    for (unsigned j = 1; j <= nc + 1; j++) {
        unsigned cb = at[j - 1], cn = at[j] - 1 - cb;
        if (!cn)
            continue;
        uint64_t bit = (uint64_t)1 << j;
        present |= bit;
        if (!(pl->fast & bit)) {
            bad |= bit;
            continue;
        }
        const x12_gfast *f = &cf[j];
        int ok;
        switch (f->kind) {
        case X12_FK_CODE:
            ok = code_hit(f, sv->p + cb, cn);
            break;
        case X12_FK_TEXT:
            ok = cn >= f->min && cn <= f->max;
            break;
        default: /* X12_FK_NUM, X12_FK_DATE (no composite inside a composite) */
            ok = f->kind != X12_FK_COMP && cn >= f->min && cn <= f->max && digits(sv->p + cb, cn) &&
                 (f->kind == X12_FK_NUM || date_ok(sv->p + cb, cn));
            break;
        }
        if (!ok)
            bad |= bit;
        else if (f->check)
            look |= bit;
    }
    x12_str v = {raw + b, e - b};
    x12_str q1 = {raw + b, at[1] - 1 - b};
    x12_str q2 = nc ? (x12_str){raw + at[1], at[2] - 1 - at[1]} : (x12_str){"", 0};
    FOR_BITS(j, look)
    {
        if (check_ok(sv, cf[j].check, 1, at[j - 1], at[j] - 1, q1, q2))
            look &= ~((uint64_t)1 << j);
    }
    int tail = (pl->req & ~present) || (ce->check && !check_ok(sv, ce->check, 1, b, e, q1, q2));
    if (!(look | bad | tail))
        return;
    /* something to report: in component order, as the full checks do */
    c->composite = v;
    c->q1 = q1;
    c->q2 = q2;
    c->split = 1;
    FOR_BITS(j, look | bad)
    {
        x12_str cv = {raw + at[j - 1], at[j] - 1 - at[j - 1]};
        if ((bad >> j) & 1) {
            xv_component(c, ce, (unsigned)j, cv, xv_scan(c->cls, cv));
        } else {
            c->comp = (int)j;
            xv_codeset(c, ce->comp[j], cv);
        }
    }
    if (tail) {
        xv_composite_end(c, ce, v, present);
    } else {
        c->comp = 0;
        c->split = 0;
    }
    return;
full:
    xv_element(c, (unsigned)c->elem, raw + b, e - b);
}

/* ---- the segment --------------------------------------------------------- */

/* Whether xv_elements_end would have nothing to say: no element too many,
 * none required missing, every syntax note decided on the presence bits
 * and kept, no trailing separator. */
static inline int end_quiet(const x12_gseg *s, unsigned n, unsigned last, uint64_t present)
{
    if (last > s->maxpos || n > last || !s->reqmask_ok || (s->reqmask & ~present))
        return 0;
    if (s->syntax_idle_ok && !(present & s->syntax_union))
        return 1; /* P, C, E, L all hold when none of their elements is there */
    for (unsigned k = 0; k < s->nsyntax; k++) {
        const x12_gsyntax *sn = &s->syntax[k];
        if (!sn->simple)
            return 0;
        uint64_t h = present & sn->mask;
        switch (sn->kind) {
        case 'P': if (h && h != sn->mask) return 0; break;
        case 'R': if (!h) return 0; break;
        case 'C': if ((h & sn->first) && h != sn->mask) return 0; break;
        case 'E': if (h & (h - 1)) return 0; break;
        case 'L': if ((h & sn->first) && !(h & ~sn->first)) return 0; break;
        default: return 0;
        }
    }
    return 1;
}

/* Bits 1..n of present: the non-empty elements; of bad: those whose length
 * is outside s->lmin/lmax.  8 elements at a time from the separator
 * offsets (the reader's elem_end has X12_MAX_ELEMENTS + 1 entries, so
 * reading a few past nelem stays inside it; n < 64). */
static inline void lengths(const x12_gseg *s, const uint32_t *ee, unsigned n, uint64_t *present,
                           uint64_t *bad)
{
    uint64_t pr = 0, bd = 0;
#ifdef __SSE2__
    const __m128i one = _mm_set1_epi32(1), zero = _mm_setzero_si128();
    for (unsigned g = 1; g <= n; g += 8) {
        __m128i l0 = _mm_sub_epi32(_mm_loadu_si128((const __m128i *)(const void *)(ee + g)),
                                   _mm_loadu_si128((const __m128i *)(const void *)(ee + g - 1)));
        __m128i l1 = _mm_sub_epi32(_mm_loadu_si128((const __m128i *)(const void *)(ee + g + 4)),
                                   _mm_loadu_si128((const __m128i *)(const void *)(ee + g + 3)));
        __m128i len = _mm_packs_epi32(_mm_sub_epi32(l0, one), _mm_sub_epi32(l1, one));
        __m128i mn = _mm_loadu_si128((const __m128i *)(const void *)(s->lmin + g));
        __m128i mx = _mm_loadu_si128((const __m128i *)(const void *)(s->lmax + g));
        __m128i out = _mm_or_si128(_mm_cmpgt_epi16(mn, len), _mm_cmpgt_epi16(len, mx));
        __m128i emp = _mm_cmpeq_epi16(len, zero);
        unsigned mo = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(out, zero));
        unsigned me = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(emp, zero));
        pr |= (uint64_t)(~me & 0xffu) << g;
        bd |= (uint64_t)(mo & 0xffu) << g;
    }
#else
    for (unsigned i = 1; i <= n; i++) {
        unsigned len = ee[i] - ee[i - 1] - 1;
        if (len) {
            pr |= (uint64_t)1 << i;
            if (len < s->lmin[i] || len > s->lmax[i])
                bd |= (uint64_t)1 << i;
        }
    }
#endif
    uint64_t lanes = (((uint64_t)1 << n) - 1) << 1; /* bits 1..n */
    *present = pr & lanes;
    *bad = bd & pr & lanes;
}

/* The elements (bits) that hold a component separator: each separator bit
 * is placed by walking the element offsets forward. */
static uint64_t comp_elements(const xv_seg *sv, const uint32_t *ee, unsigned n, size_t len)
{
    uint64_t out = 0;
    unsigned i = 0;
    for (unsigned w = 0; w < (len + 63) / 64; w++)
        for (uint64_t m = sv->comp[w]; m; m &= m - 1) {
            unsigned p = w * 64 + (unsigned)__builtin_ctzll(m);
            while (i < n && ee[i] < p)
                i++;
            out |= (uint64_t)1 << i;
        }
    return out & ~(uint64_t)1; /* not in an element: a bad tag, the reader's to report */
}

/* comp_elements where it can find something outside the composites comps
 * (bits): for a segment of at most 64 bytes, 0 at once when every separator
 * bit lies inside one of them, the usual case. */
static inline uint64_t comp_elsewhere(const xv_seg *sv, const uint32_t *ee, unsigned n, size_t len,
                                      uint64_t comps)
{
    if (len <= 64) {
        uint64_t inside = 0;
        FOR_BITS(i, comps)
        {
            /* bits ee[i-1] + 1 .. ee[i] - 1 (ee[i] <= len <= 64) */
            unsigned b = ee[i - 1] + 1, e = ee[i];
            uint64_t upto = e >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << e) - 1;
            inside |= upto & ~(((uint64_t)1 << b) - 1);
        }
        uint64_t bits = sv->comp[0] & (len >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << len) - 1);
        if (!(bits & ~inside))
            return 0;
    }
    return comp_elements(sv, ee, n, len);
}

void xv_elements(xv *v, const x12_gseg *s, const x12_segment *seg, int keybad)
{
    xv_seg *sv = &v->sv;
    const x12_gplan *pl = &s->plan;
    if (keybad || !sv->ok || !s->fast_ok) { /* sv->ok is 0 when v->full */
        xv_elements_all(v, s, seg, keybad);
        return;
    }
    const uint32_t *ee = seg->elem_end;
    const char *raw = seg->raw, *p = sv->p;
    unsigned n = seg->nelem;
    uint64_t present, bad;
    lengths(s, ee, n, &present, &bad);
    /* values the full checks decide, and separators where no composite is */
    bad |= present & ~pl->fast;
    if (sv->anycomp)
        bad |= comp_elsewhere(sv, ee, n, seg->raw_len, present & pl->comp) & ~pl->comp;
    FOR_BITS(i, present & pl->code & ~bad)
    {
        unsigned b = ee[i - 1] + 1;
        if (!code_hit(&s->fast[i], p + b, ee[i] - b))
            bad |= (uint64_t)1 << i;
    }
    FOR_BITS(i, present & (pl->num | pl->date) & ~bad)
    {
        unsigned b = ee[i - 1] + 1, e = ee[i];
        if (digits(p + b, e - b) ? ((pl->date >> i) & 1) && !date_ok(p + b, e - b)
                                 : !((pl->num >> i) & 1) || !number(&s->fast[i], (pl->real >> i) & 1, p + b, e - b))
            bad |= (uint64_t)1 << i;
    }
    /* check= that the common cases decide here */
    uint64_t look = present & pl->check & ~pl->comp & ~bad;
    FOR_BITS(i, look)
    {
        unsigned b = ee[i - 1] + 1, e = ee[i];
        x12_str q = {"", 0};
        if (i > 1)
            q = (x12_str){p + ee[i - 2] + 1, ee[i - 1] - ee[i - 2] - 1};
        if (check_ok(sv, s->fast[i].check, 0, b, e, q, q))
            look &= ~((uint64_t)1 << i);
    }
    /* composites: most pass without a word, and most were seen before */
    uint64_t comps = present & pl->comp & ~bad;
    FOR_BITS(i, comps)
    {
        if (composite_seen(v, sv, s->fast[i].e, ee[i - 1] + 1, ee[i], seg->delims->component))
            comps &= ~((uint64_t)1 << i);
    }
    /* what may report, in element order */
    xv_ectx c;
    uint64_t ordered = comps | look | bad;
    if (ordered)
        xv_ectx_init(&c, v, s, seg, 0);
    FOR_BITS(i, ordered)
    {
        unsigned b = ee[i - 1] + 1, e = ee[i];
        if ((bad >> i) & 1) {
            xv_element(&c, (unsigned)i, raw + b, e - b);
        } else {
            c.elem = (int)i;
            if ((pl->comp >> i) & 1) {
                composite(&c, sv, s->fast[i].e, b, e);
            } else {
                c.composite = (x12_str){raw + b, e - b};
                xv_codeset(&c, s->fast[i].e, c.composite);
            }
        }
    }
    unsigned last = present ? 63 - (unsigned)__builtin_clzll(present) : 0;
    /* end_quiet depends on s and present alone once n == last (it never
     * holds otherwise): remembered (for memo_g only, whose entries stay) */
    __typeof__(v->endq[0]) *q = &v->endq[((uintptr_t)s * 0x9E3779B97F4A7C15u) >> 56];
    if (q->s == s && q->present == present && n == last)
        return;
    if (!end_quiet(s, n, last, present)) {
        if (!ordered)
            xv_ectx_init(&c, v, s, seg, 0);
        xv_elements_end(&c, last, present);
    } else if (v->memo_g == v->g) {
        q->s = s;
        q->present = present;
    }
}
