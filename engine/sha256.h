/*
 * sha256.h - SHA-256 (FIPS 180-4), for content hashes of encounters and
 * batch files.  Not used for anything secret; it is here so the ledger can
 * say "this exact content" without linking a crypto library for one hash.
 */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct sha256_ctx {
    uint32_t h[8];
    uint64_t bytes;
    unsigned char buf[64];
    size_t nbuf;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
void sha256_final(sha256_ctx *c, unsigned char out[32]);

/* Use the CPU's SHA instructions when it has them (the default), or not:
 * for tests of the portable code and for comparisons. */
void sha256_use_extensions(int on);

/* The digest of data as 64 lowercase hex digits and a NUL. */
void sha256_hex(const void *data, size_t len, char hex[65]);

#endif
