/*
 * x12_reader.c - the streaming X12 tokenizer (see x12_reader.h).
 *
 * The reader keeps one buffer.  buf[start..end) holds bytes not yet
 * consumed; base is the stream offset of buf[0].  When a segment runs past
 * `end`, the unconsumed tail is moved to the front and the buffer refilled,
 * so a segment is always contiguous and the views handed out are zero-copy.
 * In memory mode buf is the caller's memory and nothing is ever read.
 *
 * This file is the hot path: the buffer, the scan for separators, the
 * positions, x12_next itself.  The cold parts are elsewhere: the ISA and
 * its delimiters in x12_isa.c, BIN/BDS segments in x12_binary.c, element
 * access in x12_elements.c; the reader struct is in x12_reader_int.h.
 */
#include "x12_reader_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- diagnostics --------------------------------------------------------- */

void xr_report(x12_reader *r, x12_severity sev, const char *code,
               const char *tag, const char *ta1, const char *fmt, ...)
{
    x12_diag d;
    x12_diag_init(&d, r->name, &r->pos, sev, 1, code);
    if (tag)
        snprintf(d.tag, sizeof d.tag, "%s", tag);
    if (ta1)
        snprintf(d.ta1, sizeof d.ta1, "%s", ta1);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d.msg, sizeof d.msg, fmt, ap);
    va_end(ap);
    if (sev == X12_SEV_WARNING)
        r->nwarn++;
    else
        r->nerr++;
    if (r->on_diag)
        r->on_diag(r->diag_ctx, &d);
}

/* A problem reading cannot get past: report it, remember it, stop. */
int xr_fail(x12_reader *r, ch_code code, const char *dcode, const char *ta1,
            const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    xr_report(r, X12_SEV_FATAL, dcode, NULL, ta1, "%s", msg);
    ch_error_set(&r->err, code, "%s: byte %llu: %s", r->name,
                 (unsigned long long)r->pos.offset, msg);
    r->state = S_FAILED;
    return X12_FAIL;
}

/* ---- buffer -------------------------------------------------------------- */

/*
 * Make at least `need` bytes available from r->start, reading more if the
 * stream has them.  Returns the number available (may be less at EOF), or
 * (size_t)-1 on a read error (already reported).
 */
static size_t fill(x12_reader *r, size_t need)
{
    while (r->end - r->start < need && !r->eof) {
        char *b = r->own;
        if (r->start > 0) {
            memmove(b, b + r->start, r->end - r->start);
            r->base += r->start;
            r->end -= r->start;
            r->start = 0;
        }
        if (r->end == r->cap)
            break; /* full: the caller decides whether that is too long */
        size_t want = r->cap - r->end;
        if (r->read_size && want > r->read_size)
            want = r->read_size;
        ssize_t n = read(r->fd, b + r->end, want);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            xr_fail(r, CH_ERR_IO, "io.read", NULL, "read error: %s", strerror(errno));
            return (size_t)-1;
        }
        if (n == 0)
            r->eof = 1;
        r->end += (size_t)n;
    }
    return r->end - r->start;
}

/* Skip whitespace between segments.  Returns 0 at end of input, -1 on error. */
static int skip_space(x12_reader *r)
{
    for (;;) {
        while (r->start < r->end && is_space((unsigned char)r->buf[r->start]))
            r->start++;
        if (r->start < r->end)
            return 1;
        size_t n = fill(r, 1);
        if (n == (size_t)-1)
            return -1;
        if (n == 0)
            return 0;
    }
}

/* For the cold files (x12_isa.c, x12_binary.c).  fill and skip_space stay
 * static, so x12_next is compiled as when all was one file: skip_space
 * inlined, fill called. */
size_t xr_fill(x12_reader *r, size_t need) { return fill(r, need); }
int xr_skip_space(x12_reader *r) { return skip_space(r); }

/* ---- segments ------------------------------------------------------------ */

/* The first (up to) three bytes at p, for messages: never reads past avail. */
static const char *head3(const char *p, size_t avail, char out[4])
{
    size_t n = avail < 3 ? avail : 3;
    for (size_t i = 0; i < n; i++)
        out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
    out[n] = '\0';
    return out;
}

/* Bit 1: an upper-case letter; bit 2: an upper-case letter or a digit. */
static const uint8_t tag_class[256] = {
    ['0'] = 2, ['1'] = 2, ['2'] = 2, ['3'] = 2, ['4'] = 2, ['5'] = 2, ['6'] = 2, ['7'] = 2, ['8'] = 2, ['9'] = 2,
    ['A'] = 3, ['B'] = 3, ['C'] = 3, ['D'] = 3, ['E'] = 3, ['F'] = 3, ['G'] = 3, ['H'] = 3, ['I'] = 3,
    ['J'] = 3, ['K'] = 3, ['L'] = 3, ['M'] = 3, ['N'] = 3, ['O'] = 3, ['P'] = 3, ['Q'] = 3, ['R'] = 3,
    ['S'] = 3, ['T'] = 3, ['U'] = 3, ['V'] = 3, ['W'] = 3, ['X'] = 3, ['Y'] = 3, ['Z'] = 3};

/* 2 or 3 bytes: a letter, then letters or digits. */
static inline int tag_ok(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    if (n - 2 > 1) /* n is 2 or 3: then p[1] (and p[2]) are in the segment */
        return 0;
    unsigned c = tag_class[u[0]] & tag_class[u[1]] >> 1;
    if (n == 3)
        c &= tag_class[u[2]] >> 1;
    return c & 1;
}


/*
 * Find the end of the segment at r->start and its element boundaries in one
 * pass: r->elem_end[k] is the offset of the k-th element separator, and
 * r->elem_end[nelem] the offset of the terminator.  This is the hot loop of
 * the engine; with SSE2 it tests 16 bytes at a time for either delimiter.
 * With cls (opts.classify) the same blocks also give r->cbits and r->cls
 * (see x12_segment), a few vector operations more per block instead of a
 * second pass in the validator.  Returns 1 with *len and *nelem set, or 0
 * when the terminator is not within the bytes available.
 */
static inline __attribute__((always_inline)) int scan_impl(x12_reader *r, size_t *len,
                                                           unsigned *nelem, const int cls)
{
    const char *base = r->buf + r->start;
    size_t avail = r->end - r->start, i = 0;
    const char es = r->d.element, term = r->d.segment;
    unsigned k = 0;
    uint32_t *ends = r->elem_end;
    r->cls = 0;
#ifdef __SSE2__
#define VD(n) _mm_loadu_si128((const __m128i *)(const void *)r->vd[n])
    const __m128i ve = VD(0), vt = VD(1);
    __m128i vc = ve, vr = ve, v1 = ve, v21 = ve;
    unsigned odd = 0, anyc = 0;
    if (cls) {
        vc = VD(2);
        vr = VD(3);
        v1 = _mm_set1_epi8(1);
        v21 = _mm_set1_epi8(0x21);
    }
#undef VD
    for (; i + 16 <= avail && k + 16 <= X12_MAX_ELEMENTS; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(base + i));
        unsigned me = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, ve));
        unsigned mt = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vt));
        unsigned mc = 0, mo = 0;
        if (cls) {
            /* odd: a control byte, 0x7f or 0x80 and up (x + 1 is then below
             * 0x21 as a signed byte), or the repetition separator (a NUL
             * byte when there is none: a control byte anyway) */
            mo = (unsigned)_mm_movemask_epi8(
                _mm_or_si128(_mm_cmpgt_epi8(v21, _mm_add_epi8(x, v1)), _mm_cmpeq_epi8(x, vr)));
            mc = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vc));
        }
        if (mt) {
            /* the last block: only the bytes before the terminator count */
            unsigned keep = (1u << __builtin_ctz(mt)) - 1;
            me &= keep;
            size_t at = i + (unsigned)__builtin_ctz(mt);
            if (cls && at <= X12_CLS_MAX) {
                /* this block's 16 bits and 48 zero bits after them, so that
                 * no bit of an earlier segment is left in the word (the last
                 * 6 bytes may land in the spare word) */
                uint64_t w = mc & keep;
                memcpy((char *)r->cbits + (i >> 3), &w, 8);
                odd |= mo & keep;
                anyc |= mc & keep;
                r->cls = X12_CLS_DONE | (odd ? X12_CLS_ODD : 0) | (anyc ? X12_CLS_COMP : 0);
            }
            while (me) {
                ends[k++] = (uint32_t)(i + (unsigned)__builtin_ctz(me));
                me &= me - 1;
            }
            ends[k] = (uint32_t)at;
            *len = at;
            *nelem = k;
            return 1;
        }
        if (cls && i < X12_CLS_MAX) {
            /* 16 bits a block, stored as they come: four blocks make the
             * 64-bit word of cbits (x86 is little-endian) */
            uint16_t m16 = (uint16_t)mc;
            memcpy((char *)r->cbits + (i >> 3), &m16, 2);
            odd |= mo;
            anyc |= mc;
        }
        while (me) {
            ends[k++] = (uint32_t)(i + (unsigned)__builtin_ctz(me));
            me &= me - 1;
        }
    }
#else
    (void)cls;
#endif
    /* bytes here are not classified: the validator looks at them itself */
    for (; i < avail; i++) {
        char c = base[i];
        if (c == term) {
            ends[k] = (uint32_t)i;
            *len = i;
            *nelem = k;
            return 1;
        }
        if (c == es) {
            if (k < X12_MAX_ELEMENTS)
                ends[k++] = (uint32_t)i;
            else
                r->too_many = 1;
        }
    }
    return 0;
}

static int scan_segment(x12_reader *r, size_t *len, unsigned *nelem)
{
    return r->classify ? scan_impl(r, len, nelem, 1) : scan_impl(r, len, nelem, 0);
}

/* Apply the end of an envelope yielded last time. */
static void leave_envelope(x12_reader *r)
{
    switch (r->leave) {
    case 'S':
        r->pos.seg_in_st = 0;
        r->pos.st02[0] = '\0';
        break;
    case 'G':
        r->pos.gs06[0] = '\0';
        r->pos.st_index = 0;
        break;
    case 'I':
        r->state = S_SEEK_ISA;
        break;
    }
    r->leave = 0;
}

static void copy_ctl(char *dst, size_t size, x12_str s)
{
    size_t n = s.len < size - 1 ? s.len : size - 1;
    memcpy(dst, s.p, n);
    dst[n] = '\0';
}

/*
 * Update positions for a segment with this tag, in the reader and in *seg.
 * seg->pos already holds the reader's previous position (copied at the top
 * of x12_next, long after it was stored); the common case then writes the
 * few fields that change from registers.  Copying r->pos right after
 * updating it field by field stalls store-to-load forwarding and cost a
 * third of the tokenizer's time.
 */
static void enter(x12_reader *r, x12_segment *seg, uint64_t offset)
{
    x12_pos *ps = &r->pos;
    const char *t = seg->tag.p;
    size_t n = seg->tag.len;
    int envelope = (n == 3 && t[0] == 'I' && (t[1] == 'S' || t[1] == 'E') && t[2] == 'A') ||
                   (n == 2 && (t[0] == 'G' || t[0] == 'S') && (t[1] == 'S' || t[1] == 'E' || t[1] == 'T'));
    if (!envelope) {
        uint64_t no = ps->seg_no + 1;
        uint32_t in_isa = ps->seg_in_isa + 1;
        uint32_t in_st = ps->seg_in_st ? ps->seg_in_st + 1 : 0;
        ps->offset = offset;
        ps->seg_no = no;
        ps->seg_in_isa = in_isa;
        ps->seg_in_st = in_st;
        seg->pos.offset = offset;
        seg->pos.seg_no = no;
        seg->pos.seg_in_isa = in_isa;
        seg->pos.seg_in_st = in_st;
        return;
    }
    ps->offset = offset;
    ps->seg_no++;
    if (t[0] == 'I' && t[1] == 'S') {
        ps->isa_index++;
        ps->seg_in_isa = 1;
        ps->gs_index = 0;
        ps->st_index = 0;
        ps->seg_in_st = 0;
        ps->gs06[0] = ps->st02[0] = '\0';
        copy_ctl(ps->isa13, sizeof ps->isa13, x12_elem(seg, 13));
    } else {
        ps->seg_in_isa++;
        if (t[0] == 'G' && t[1] == 'S') {
            ps->gs_index++;
            ps->st_index = 0;
            ps->seg_in_st = 0;
            ps->st02[0] = '\0';
            copy_ctl(ps->gs06, sizeof ps->gs06, x12_elem(seg, 6));
        } else if (t[0] == 'S' && t[1] == 'T') {
            ps->st_index++;
            ps->seg_in_st = 1;
            copy_ctl(ps->st02, sizeof ps->st02, x12_elem(seg, 2));
        } else if (ps->seg_in_st) {
            ps->seg_in_st++;
        }
        if (t[0] == 'S' && t[1] == 'E')
            r->leave = 'S';
        else if (t[0] == 'G' && t[1] == 'E')
            r->leave = 'G';
        else if (t[0] == 'I' && t[1] == 'E')
            r->leave = 'I';
    }
    seg->pos = *ps;
}

int x12_next(x12_reader *r, x12_segment *seg)
{
    /* inside an interchange with no envelope to leave: one test */
    if (r->state != S_IN_ISA || r->leave) {
        if (r->state == S_FAILED)
            return X12_FAIL;
        if (r->state == S_DONE)
            return X12_END;
        leave_envelope(r);
    }
    seg->pos = r->pos; /* see enter() */

    if (r->state == S_SEEK_ISA) {
        int rc = xr_seek_isa(r);
        if (rc != X12_SEGMENT) {
            if (rc == X12_END)
                r->state = S_DONE;
            return rc;
        }
        r->state = S_IN_ISA;
        r->seen_isa = 1;
    } else {
        int sp = 1;
        /* the usual case: one newline after the terminator, data follows */
        while (r->start < r->end && is_space((unsigned char)r->buf[r->start]))
            r->start++;
        if (r->start >= r->end)
            sp = skip_space(r);
        if (sp < 0)
            return X12_FAIL;
        if (sp == 0) {
            r->state = S_DONE;
            return X12_END;
        }
        /* A new ISA inside an interchange (a missing IEA): take its delimiters. */
        size_t avail = r->end - r->start;
        if (avail < 4 && !r->eof)
            avail = fill(r, 4);
        if (avail == (size_t)-1)
            return X12_FAIL;
        if (r->buf[r->start] == 'I' && is_isa_start(r->buf + r->start, avail)) {
            int rc = xr_read_isa(r);
            if (rc != X12_SEGMENT)
                return rc;
        }
    }

    /* Find the end of the segment. */
    size_t off = r->start, len = 0;
    uint64_t seg_offset = r->base + r->start;
    r->pos.offset = seg_offset;
    int bin = 0;
    if (r->end - r->start >= 4 || fill(r, 4) != (size_t)-1) {
        if (r->end - r->start >= 4 && r->buf[r->start] == 'B') {
            /* its own variable: len's address must not escape to a call in
             * another file, or len lives in memory for every segment */
            size_t blen = 0;
            bin = xr_binary_segment(r, &blen);
            if (bin == X12_FAIL)
                return X12_FAIL;
            if (bin)
                len = blen;
        }
    } else {
        return X12_FAIL;
    }
    const char *raw;
    unsigned nelem = 0;
    r->too_many = 0;
    if (!bin) {
        while (!scan_segment(r, &len, &nelem)) {
            size_t avail = r->end - r->start;
            const char *p = r->buf + r->start;
            if (avail >= r->max_segment)
                return xr_fail(r, CH_ERR_LIMIT, "segment.too_long", NULL,
                               "segment '%s' is longer than the %zu-byte limit without a segment terminator",
                               head3(p, avail, (char[4]){0}), r->max_segment);
            if (r->eof) {
                /* A newline terminator may be left off the last line. */
                if (r->d.segment == '\n' || r->d.segment == '\r') {
                    len = avail;
                    nelem = 0;
                    for (size_t i = 0; i < avail; i++)
                        if (p[i] == r->d.element && nelem < X12_MAX_ELEMENTS)
                            r->elem_end[nelem++] = (uint32_t)i;
                    r->elem_end[nelem] = (uint32_t)len;
                    break;
                }
                char b[8];
                return xr_fail(r, CH_ERR_SYNTAX, "segment.eof", "023",
                               "file ends in the middle of segment '%s' (no segment terminator %s after it)",
                               head3(p, avail, (char[4]){0}), xr_delim_name(r->d.segment, b, sizeof b));
            }
            size_t got = fill(r, avail + 1);
            if (got == (size_t)-1)
                return X12_FAIL;
            if (got == avail && !r->eof)
                return xr_fail(r, CH_ERR_LIMIT, "segment.too_long", NULL,
                               "segment '%s' is longer than the %zu-byte limit",
                               head3(r->buf + r->start, got, (char[4]){0}), r->max_segment);
        }
    }
    off = r->start;
    raw = r->buf + off;
    r->start = off + len + (off + len < r->end ? 1 : 0);
    /* A newline terminator preceded by CR: the CR is part of the terminator. */
    if (r->d.segment == '\n' && len > 0 && raw[len - 1] == '\r') {
        len--;
        if (!bin)
            r->elem_end[nelem] = (uint32_t)len;
        r->cls = 0; /* the CR was classified as part of the segment */
    }

    seg->raw = raw;
    seg->raw_len = len;
    seg->padded = r->fd >= 0 || (off >= X12_SEG_PAD && r->cap - off - len >= X12_SEG_PAD);
    seg->delims = &r->d;
    seg->elem_end = r->elem_end;
    seg->cls = bin || !seg->padded ? 0 : r->cls; /* see X12_CLS_DONE */
    seg->cbits = r->cbits;
    if (bin) {
        /* Binary: split only the elements before the payload. */
        unsigned lenel = raw[1] == 'I' ? 1 : 2;
        unsigned k = 0;
        size_t i = 0;
        for (; i < len && k <= lenel; i++)
            if (raw[i] == r->d.element)
                r->elem_end[k++] = (uint32_t)i;
        r->elem_end[k] = (uint32_t)len;
        seg->nelem = k;
    } else {
        seg->nelem = nelem;
        if (r->too_many)
            xr_report(r, X12_SEV_ERROR, "segment.elements", NULL, NULL,
                      "segment has more than %d elements; the rest are read as part of the last one",
                      X12_MAX_ELEMENTS);
    }
    seg->tag.p = raw;
    seg->tag.len = r->elem_end[0];
    enter(r, seg, seg_offset);
    if (!tag_ok(seg->tag.p, seg->tag.len)) {
        x12_diag d;
        x12_diag_init(&d, r->name, &r->pos, X12_SEV_ERROR, 1,
                      seg->tag.len == 0 ? "segment.no_tag" : "segment.bad_tag");
        snprintf(d.ik3, sizeof d.ik3, "1");
        x12_diag_found(&d, seg->tag.p, seg->tag.len);
        x12_diag_msg(&d, seg->tag.len == 0 ? "segment has no tag (it starts with a separator)"
                                            : "segment identifier is not a valid tag");
        x12_diag_expected(&d, "2 or 3 upper-case letters or digits, starting with a letter");
        r->nerr++;
        if (r->on_diag)
            r->on_diag(r->diag_ctx, &d);
    }
    return X12_SEGMENT;
}

/* ---- open / close -------------------------------------------------------- */

static x12_reader *alloc_reader(const char *name, const x12_reader_opts *opts, ch_error *err)
{
    x12_reader *r = calloc(1, sizeof *r);
    if (!r) {
        ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory opening reader", name);
        return NULL;
    }
    snprintf(r->name, sizeof r->name, "%s", name ? name : "(input)");
    r->max_segment = X12_DEFAULT_MAX_SEGMENT;
    if (opts) {
        if (opts->max_segment)
            r->max_segment = opts->max_segment < X12_READ_BUF ? opts->max_segment : X12_READ_BUF;
        r->read_size = opts->read_size;
        r->classify = opts->classify;
        r->on_diag = opts->on_diag;
        r->diag_ctx = opts->diag_ctx;
    }
    r->fd = -1;
    return r;
}

ch_code x12_open_fd(x12_reader **out, int fd, const char *name, const x12_reader_opts *opts,
                    ch_error *err)
{
    x12_reader *r = alloc_reader(name, opts, err);
    if (!r)
        return CH_ERR_NOMEM;
    r->cap = X12_READ_BUF;
    /* zeroed: the slack and the unread part may be read (and ignored) by a
     * 16-byte scan, so they must hold defined bytes */
    char *a = calloc(1, r->cap + 2 * X12_SEG_PAD);
    r->own = a ? a + X12_SEG_PAD : NULL;
    if (!r->own) {
        free(r);
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory for the read buffer", name);
    }
    r->buf = r->own;
    r->fd = fd;
    *out = r;
    return CH_OK;
}

ch_code x12_open_mem(x12_reader **out, const void *buf, size_t len, const char *name,
                     const x12_reader_opts *opts, ch_error *err)
{
    x12_reader *r = alloc_reader(name, opts, err);
    if (!r)
        return CH_ERR_NOMEM;
    r->buf = buf ? buf : "";
    r->cap = r->end = buf ? len : 0;
    r->eof = 1;
    if (r->max_segment < len)
        r->max_segment = len + 1; /* memory mode needs no buffer bound */
    *out = r;
    return CH_OK;
}

void x12_close(x12_reader *r)
{
    if (!r)
        return;
    free(r->own ? r->own - X12_SEG_PAD : NULL);
    free(r);
}

const ch_error *x12_reader_error(const x12_reader *r) { return &r->err; }
unsigned x12_reader_warnings(const x12_reader *r) { return r->nwarn; }
unsigned x12_reader_errors(const x12_reader *r) { return r->nerr; }
uint64_t x12_reader_offset(const x12_reader *r) { return r->base + r->start; }
const char *x12_reader_name(const x12_reader *r) { return r->name; }
