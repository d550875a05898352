/* test_sha256.c - SHA-256 of varied bytes, whichever block code the CPU gets
 * (portable or the x86 SHA extensions), fed whole and in pieces; the FIPS
 * 180 vectors are in test_encounter.c (sha256_known_answers). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

Test(sha256, pseudo_random_bytes_whole_and_in_uneven_pieces)
{
    /* 100003 bytes of a linear congruential generator; the digest is
     * Python's hashlib of the same bytes */
    size_t n = 100003;
    unsigned char *buf = malloc(n);
    cr_assert_not_null(buf);
    unsigned long x = 1;
    for (size_t i = 0; i < n; i++) {
        x = (x * 1103515245ul + 12345ul) & 0x7ffffffful;
        buf[i] = (unsigned char)(x >> 16);
    }
    const char *want = "14447550d7d35ae127e2888bd19aa5e06ea5f74be47174863ef50485ffce4c83";
    char whole[SHA256_HEX];
    sha256_hex_of(buf, n, whole);
    cr_expect_str_eq(whole, want);
    sha256_ctx c;
    sha256_init(&c);
    size_t at = 0, step = 1;
    while (at < n) {
        size_t k = step < n - at ? step : n - at;
        sha256_update(&c, buf + at, k);
        at += k;
        step = step * 3 + 1; /* 1, 4, 13, 40, ...: inside, across and over blocks */
        if (step > 5000)
            step = 7;
    }
    uint8_t d[SHA256_DIGEST];
    char hex[SHA256_HEX];
    sha256_final(&c, d);
    cr_expect_str_eq(sha256_hex(d, hex), want);
    free(buf);
}
