/*
 * money.h - integer cents <-> X12 "R" (decimal number) text, no floating point.
 *
 * Header-only; used by the benchmark generators (gen_837p, gen_835).
 *
 *   12345 -> "123.45"     12340 -> "123.4"     12300 -> "123"
 *       5 -> "0.05"          50 -> "0.5"           0 -> "0"
 *    -250 -> "-2.5"
 *
 * Trailing fractional zeros and the decimal point are dropped when not
 * needed, as X12 R values allow.  Values below one keep a leading "0"
 * ("0.5"), which every X12 reader accepts.
 */
#ifndef BENCH_MONEY_H
#define BENCH_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* Longest output: "-92233720368547758.08" plus NUL. */
#define MONEY_BUF_MAX 24

/*
 * Write cents as an X12 R value into buf (at least MONEY_BUF_MAX bytes).
 * NUL-terminates; returns the length without the NUL.
 */
static inline size_t money_fmt(char *buf, int64_t cents)
{
    char tmp[MONEY_BUF_MAX];
    size_t n = 0, len = 0;
    /* magnitude as unsigned so INT64_MIN is fine */
    uint64_t mag = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    uint64_t whole = mag / 100u;
    unsigned frac = (unsigned)(mag % 100u);

    if (cents < 0)
        buf[len++] = '-';
    do {
        tmp[n++] = (char)('0' + (unsigned)(whole % 10u));
        whole /= 10u;
    } while (whole != 0);
    while (n > 0)
        buf[len++] = tmp[--n];
    if (frac != 0) {
        buf[len++] = '.';
        buf[len++] = (char)('0' + frac / 10u);
        if (frac % 10u != 0)
            buf[len++] = (char)('0' + frac % 10u);
    }
    buf[len] = '\0';
    return len;
}

/*
 * Parse an X12 R value with at most two fractional digits ("123.4", "-0.05",
 * ".5", "7") into cents.  Returns 0 on success, -1 on anything else
 * (empty, more than two decimals, stray characters, overflow).
 */
static inline int money_parse(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0, digits = 0, fdigits = 0;
    uint64_t v = 0;

    if (len > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    for (; i < len && s[i] != '.'; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX / 1000u))
            return -1;
        v = v * 10u + (uint64_t)(s[i] - '0');
        digits++;
    }
    v *= 100u;
    if (i < len) { /* s[i] == '.' */
        unsigned scale = 10u;
        for (i++; i < len; i++) {
            if (s[i] < '0' || s[i] > '9' || ++fdigits > 2)
                return -1;
            v += (uint64_t)(s[i] - '0') * scale;
            scale /= 10u;
            digits++;
        }
    }
    if (digits == 0 || v > (uint64_t)INT64_MAX)
        return -1;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

#endif /* BENCH_MONEY_H */
