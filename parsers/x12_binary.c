/*
 * x12_binary.c - BIN and BDS segments (see x12_reader.h): their length
 * element says how many bytes of payload follow, and those bytes may hold
 * any byte, the delimiters included, so the segment is measured by that
 * length instead of scanned for its terminator.  Rare, so kept out of
 * x12_reader.c's hot loop, which calls here for a segment starting 'B'.
 */
#include "x12_reader_int.h"

/* Parse up to 15 decimal digits; -1 if none or not digits. */
static long long parse_len(const char *p, size_t n)
{
    if (n == 0 || n > 15)
        return -1;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/*
 * A BIN or BDS segment: the length element says how many bytes of payload
 * follow, and those bytes may include the segment terminator.  On return
 * *len is the segment length (without terminator).  Returns 1 when the
 * segment was measured, 0 when it is not a binary segment or its length
 * element is unusable (read it as text), X12_FAIL on a fatal problem.
 */
int xr_binary_segment(x12_reader *r, size_t *len)
{
    const char *p = r->buf + r->start;
    char es = r->d.element;
    unsigned len_elem;
    if (p[0] == 'B' && p[1] == 'I' && p[2] == 'N' && p[3] == es)
        len_elem = 1;
    else if (p[0] == 'B' && p[1] == 'D' && p[2] == 'S' && p[3] == es)
        len_elem = 2;
    else
        return 0;
    /* Find the length element: at most 2 short elements in. */
    size_t avail = xr_fill(r, 64);
    if (avail == (size_t)-1)
        return X12_FAIL;
    p = r->buf + r->start;
    size_t i = 4, el_start = 4;
    unsigned el = 1;
    while (i < avail && el < len_elem) {
        if (p[i] == es) {
            el++;
            el_start = i + 1;
        }
        i++;
    }
    i = el_start;
    while (i < avail && p[i] != es && i - el_start < 16)
        i++;
    if (i >= avail || p[i] != es)
        return 0;
    long long n = parse_len(p + el_start, i - el_start);
    if (n < 0)
        return 0;
    size_t total = i + 1 + (size_t)n;
    if (total + 1 > r->max_segment)
        return xr_fail(r, CH_ERR_LIMIT, "segment.too_long", NULL,
                       "%.3s segment declares %lld bytes of binary data, more than the %zu-byte segment limit",
                       p, n, r->max_segment);
    avail = xr_fill(r, total + 1);
    if (avail == (size_t)-1)
        return X12_FAIL;
    p = r->buf + r->start;
    if (avail < total + 1)
        return xr_fail(r, CH_ERR_SYNTAX, "segment.eof", "023",
                       "file ends inside the %lld bytes of binary data of a %.3s segment", n, p);
    if (p[total] != r->d.segment) {
        xr_report(r, X12_SEV_ERROR, "binary.length", p[1] == 'I' ? "BIN" : "BDS", NULL,
                  "%.3s%02u says %lld bytes, but no segment terminator follows them; "
                  "the segment is read up to the next terminator instead",
                  p, len_elem, n);
        return 0;
    }
    *len = total;
    return 1;
}
