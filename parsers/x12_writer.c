/* x12_writer.c - see x12_writer.h */
#include "x12_writer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

void x12w_init(x12_writer *w, FILE *fp, const x12_delims *d, int newline)
{
    memset(w, 0, sizeof *w);
    w->fp = fp;
    w->d = *d;
    w->newline = newline;
}

static void append(x12_writer *w, const char *p, size_t n)
{
    if (w->len + n >= sizeof w->seg) {
        w->bad = 2;
        return;
    }
    memcpy(w->seg + w->len, p, n);
    w->len += n;
}

static int clean(x12_writer *w, const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == w->d.element || c == w->d.component || c == w->d.segment ||
            (w->d.repetition && c == w->d.repetition) || c == '\r' || c == '\n') {
            if (!w->bad) {
                w->bad = 1;
                unsigned el = 0;
                for (size_t k = 0; k < w->len; k++)
                    el += w->seg[k] == w->d.element;
                snprintf(w->bad_what, sizeof w->bad_what, "%.3s%02u", w->seg, el);
            }
            return 0;
        }
    }
    return 1;
}

void x12w_seg(x12_writer *w, const char *tag)
{
    w->len = 0;
    w->bad = 0;
    append(w, tag, strlen(tag));
    w->last_value = w->len;
}

void x12w_eln(x12_writer *w, const char *v, size_t n)
{
    append(w, &w->d.element, 1);
    if (v && n && clean(w, v, n)) {
        append(w, v, n);
        w->last_value = w->len;
    }
}

void x12w_el(x12_writer *w, const char *v) { x12w_eln(w, v, v ? strlen(v) : 0); }

void x12w_elf(x12_writer *w, const char *fmt, ...)
{
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    x12w_eln(w, b, n < 0 ? 0 : (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
}

static void sub_or_rep(x12_writer *w, char sep, const char *v)
{
    size_t n = v ? strlen(v) : 0;
    append(w, &sep, 1);
    if (n && clean(w, v, n))
        append(w, v, n);
    w->last_value = w->len;
}

void x12w_sub(x12_writer *w, const char *v) { sub_or_rep(w, w->d.component, v); }
void x12w_rep(x12_writer *w, const char *v) { sub_or_rep(w, w->d.repetition, v); }

void x12w_cents(x12_writer *w, int64_t cents)
{
    char b[32];
    x12w_el(w, x12_cents_str(cents, b));
}

ch_code x12w_end(x12_writer *w, ch_error *err)
{
    if (w->bad == 1)
        return ch_error_set(err, CH_ERR_INVALID, "%s: value contains a delimiter character", w->bad_what);
    if (w->bad)
        return ch_error_set(err, CH_ERR_LIMIT, "%.3s segment longer than %d bytes", w->seg, X12W_MAX_SEGMENT);
    w->len = w->last_value; /* drop trailing empty elements */
    append(w, &w->d.segment, 1);
    if (w->newline && w->d.segment != '\n')
        append(w, "\n", 1);
    if (fwrite(w->seg, 1, w->len, w->fp) != w->len)
        return ch_error_set(err, CH_ERR_IO, "write failed: %s", strerror(errno));
    w->count++;
    w->total++;
    w->bytes += w->len;
    w->len = 0;
    return CH_OK;
}

ch_code x12w_copy(x12_writer *w, const x12_segment *s, ch_error *err)
{
    const x12_delims *from = s->delims;
    int is_isa = x12_is(s, "ISA");
    int binary = x12_is(s, "BIN") || x12_is(s, "BDS");
    size_t bin_start = s->raw_len;
    if (binary && s->nelem >= 1)
        bin_start = s->elem_end[s->nelem - 1] + 1;
    w->len = 0;
    for (size_t i = 0; i < s->raw_len; i++) {
        char c = s->raw[i], o = c;
        if (i >= bin_start) {
            append(w, s->raw + i, s->raw_len - i);
            break;
        }
        if (is_isa && i == 82 && s->raw_len >= 105)
            o = w->d.repetition ? w->d.repetition : 'U';
        else if (is_isa && i == 104 && s->raw_len >= 105)
            o = w->d.component;
        else if (c == from->element)
            o = w->d.element;
        else if (c == from->component)
            o = w->d.component;
        else if (from->repetition && c == from->repetition)
            o = w->d.repetition;
        else if (c == w->d.element || c == w->d.component || c == w->d.segment ||
                 (w->d.repetition && c == w->d.repetition))
            return ch_error_set(err, CH_ERR_INVALID,
                                "segment %llu (%.*s): data holds '%c', one of the new delimiters",
                                (unsigned long long)s->pos.seg_no, (int)s->tag.len, s->tag.p, c);
        append(w, &o, 1);
    }
    append(w, &w->d.segment, 1);
    if (w->newline && w->d.segment != '\n')
        append(w, "\n", 1);
    if (w->bad)
        return ch_error_set(err, CH_ERR_LIMIT, "segment %llu longer than %d bytes",
                            (unsigned long long)s->pos.seg_no, X12W_MAX_SEGMENT);
    if (fwrite(w->seg, 1, w->len, w->fp) != w->len)
        return ch_error_set(err, CH_ERR_IO, "write failed: %s", strerror(errno));
    w->count++;
    w->total++;
    w->bytes += w->len;
    w->len = 0;
    return CH_OK;
}

char *x12_cents_str(int64_t cents, char *buf)
{
    uint64_t a = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    const char *sign = cents < 0 ? "-" : "";
    unsigned frac = (unsigned)(a % 100);
    if (frac == 0)
        sprintf(buf, "%s%" PRIu64, sign, a / 100);
    else if (frac % 10 == 0)
        sprintf(buf, "%s%" PRIu64 ".%u", sign, a / 100, frac / 10);
    else
        sprintf(buf, "%s%" PRIu64 ".%02u", sign, a / 100, frac);
    return buf;
}

char *x12_cents_fixed(int64_t cents, char *buf)
{
    uint64_t a = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    char t[32];
    size_t n = sizeof t;
    t[--n] = '\0';
    t[--n] = (char)('0' + a % 10);
    t[--n] = (char)('0' + a / 10 % 10);
    t[--n] = '.';
    a /= 100;
    do {
        t[--n] = (char)('0' + a % 10);
        a /= 10;
    } while (a);
    if (cents < 0)
        t[--n] = '-';
    memcpy(buf, t + n, sizeof t - n);
    return buf;
}

ch_code x12_parse_cents(const char *p, size_t n, int64_t *cents)
{
    size_t i = 0;
    int neg = 0;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        neg = p[i++] == '-';
    int64_t whole = 0;
    int digits = 0, frac_digits = 0;
    int64_t frac = 0;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++) {
        if (whole > (INT64_MAX / 100 - 9) / 10)
            return CH_ERR_INVALID;
        whole = whole * 10 + (p[i] - '0');
    }
    if (i < n && p[i] == '.') {
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
            if (frac_digits < 2)
                frac = frac * 10 + (p[i] - '0');
            else if (p[i] != '0')
                return CH_ERR_INVALID; /* sub-cent precision would be lost */
            frac_digits++;
        }
        if (frac_digits == 1)
            frac *= 10;
    }
    if (i != n || (digits == 0 && frac_digits == 0))
        return CH_ERR_INVALID;
    int64_t v = whole * 100 + frac;
    *cents = neg ? -v : v;
    return CH_OK;
}
