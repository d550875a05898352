/* test_sha256.c - SHA-256 against known digests, whichever block code the
 * CPU gets (portable or the x86 SHA extensions), fed whole and in pieces. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

static const char *hex_of(const void *p, size_t n)
{
    static char hex[SHA256_HEX];
    sha256_hex_of(p, n, hex);
    return hex;
}

Test(sha256, fips_180_vectors)
{
    cr_expect_str_eq(hex_of("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    cr_expect_str_eq(hex_of("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    cr_expect_str_eq(hex_of(two, strlen(two)), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *a = malloc(1000000);
    cr_assert_not_null(a);
    memset(a, 'a', 1000000);
    cr_expect_str_eq(hex_of(a, 1000000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

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
    cr_expect_str_eq(hex_of(buf, n), want);
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
