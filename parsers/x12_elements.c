/*
 * x12_elements.c - element access on a segment the tokenizer handed out
 * (see x12_reader.h): repetitions, components, pieces, comparisons and
 * copies.  All zero-copy views and bounds-safe; x12_elem() itself is inline
 * in x12_reader.h because it is on every hot path.
 */
#include "x12_reader.h"

#include <string.h>

x12_str x12_part(x12_str s, char sep, unsigned n)
{
    x12_str e = {"", 0};
    if (n == 0 || sep == '\0') {
        if (n == 1)
            return s;
        return e;
    }
    const char *p = s.p, *end = s.p + s.len;
    for (unsigned k = 1; p <= end; k++) {
        const char *q = memchr(p, sep, (size_t)(end - p));
        if (!q)
            q = end;
        if (k == n) {
            e.p = p;
            e.len = (size_t)(q - p);
            return e;
        }
        if (q == end)
            break;
        p = q + 1;
    }
    return e;
}

unsigned x12_nparts(x12_str s, char sep)
{
    if (s.len == 0)
        return 0;
    if (sep == '\0')
        return 1;
    unsigned n = 1;
    for (size_t i = 0; i < s.len; i++)
        n += s.p[i] == sep;
    return n;
}

x12_str x12_rep(const x12_segment *s, unsigned i, unsigned r)
{
    return x12_part(x12_elem(s, i), s->delims->repetition, r);
}

unsigned x12_nrep(const x12_segment *s, unsigned i)
{
    return x12_nparts(x12_elem(s, i), s->delims->repetition);
}

x12_str x12_comp(const x12_segment *s, unsigned i, unsigned c)
{
    return x12_part(x12_rep(s, i, 1), s->delims->component, c);
}

int x12_eq(x12_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.p, lit, n) == 0;
}

int x12_is(const x12_segment *s, const char *tag) { return x12_eq(s->tag, tag); }

char *x12_copy(x12_str s, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    size_t n = s.len < size - 1 ? s.len : size - 1;
    memcpy(buf, s.p, n);
    buf[n] = '\0';
    return buf;
}
