/*
 * gen_rand.h - what the synthetic X12 generators draw their data from:
 * a deterministic PRNG (splitmix64 seeding + xorshift64*), calendar dates
 * as day numbers, and NPI (Luhn) and ABA check digits.  Header-only.
 */
#ifndef BENCH_GEN_RAND_H
#define BENCH_GEN_RAND_H

#include <stdint.h>

/* ------------------------------------------------------------------ */
/* PRNG                                                                */
/* ------------------------------------------------------------------ */

static inline uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

typedef struct rng {
    uint64_t s;
} rng;

/* A generator for one (seed, stream, index) triple: independent streams
 * that do not depend on how many numbers earlier items consumed. */
static inline void rng_init(rng *r, uint64_t seed, uint64_t stream, uint64_t index)
{
    uint64_t x = seed ^ (stream * UINT64_C(0xD1B54A32D192ED03));
    x = splitmix64(&x) ^ (index * UINT64_C(0xAEF17502108EF2D9));
    r->s = splitmix64(&x);
    if (r->s == 0)
        r->s = UINT64_C(0x2545F4914F6CDD1D);
}

/* xorshift64* */
static inline uint64_t rng_next(rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* uniform-enough integer in [0, n), n > 0 (multiply-shift, no modulo bias
 * worth caring about for synthetic data) */
static inline uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* [lo, hi] inclusive */
static inline int64_t rng_range(rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)rng_below(r, (uint32_t)(hi - lo + 1));
}

/* true with probability pct/100 */
static inline int rng_pct(rng *r, unsigned pct)
{
    return rng_below(r, 100) < pct;
}

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(r, a) ((a)[rng_below((r), (uint32_t)ARRAY_LEN(a))])

/* ------------------------------------------------------------------ */
/* Dates: days since 1970-01-01 <-> civil (Howard Hinnant's algorithm) */
/* ------------------------------------------------------------------ */

static inline int32_t days_from_civil(int32_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int32_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153u * (m > 2 ? m - 3 : m + 9) + 2u) / 5u + d - 1u;
    unsigned doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

static inline void civil_from_days(int32_t z, int32_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u;
    unsigned doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);
    unsigned mp = (5u * doy + 2u) / 153u;
    *d = doy - (153u * mp + 2u) / 5u + 1u;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int32_t)yoe + era * 400 + (*m <= 2);
}

/* ------------------------------------------------------------------ */
/* Check digits                                                        */
/* ------------------------------------------------------------------ */

/* NPI check digit: Luhn over "80840" + the nine digits in d[0..8]. */
static inline char npi_check_digit(const char *d9)
{
    /* The prefix 80840 contributes a constant 24 to the Luhn sum. */
    unsigned sum = 24;
    for (int i = 8; i >= 0; i--) {
        unsigned v = (unsigned)(d9[i] - '0');
        if (((8 - i) & 1) == 0) { /* rightmost payload digit is doubled */
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return (char)('0' + (10u - sum % 10u) % 10u);
}

/* A valid NPI (first digit 1 or 2) into out[11]. */
static inline void make_npi(rng *r, char out[11])
{
    out[0] = (char)('1' + rng_below(r, 2));
    for (int i = 1; i < 9; i++)
        out[i] = (char)('0' + rng_below(r, 10));
    out[9] = npi_check_digit(out);
    out[10] = '\0';
}

/* An ABA routing number with a correct checksum into out[10]. */
static inline void make_aba(rng *r, char out[10])
{
    static const unsigned w[9] = {3, 7, 1, 3, 7, 1, 3, 7, 1};
    unsigned sum = 0;
    out[0] = '0';
    out[1] = (char)('1' + rng_below(r, 9)); /* 01..09: Federal Reserve district */
    for (int i = 2; i < 8; i++)
        out[i] = (char)('0' + rng_below(r, 10));
    for (int i = 0; i < 8; i++)
        sum += w[i] * (unsigned)(out[i] - '0');
    out[8] = (char)('0' + (10u - sum % 10u) % 10u);
    out[9] = '\0';
}

/* n random digits, first one non-zero, into out[n+1] */
static inline void make_digits(rng *r, char *out, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        out[i] = (char)('0' + (i == 0 ? 1 + rng_below(r, 9) : rng_below(r, 10)));
    out[n] = '\0';
}


#endif
