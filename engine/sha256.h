/*
 * sha256.h - SHA-256 (FIPS 180-4), small and streaming.
 *
 * Used to fingerprint every file the transport layer downloads, while it
 * streams, so the ledger can record (name, size, SHA-256) and keep a file
 * seen twice only once.  No allocation; a context is 108 bytes.
 *
 *     sha256_ctx c;
 *     sha256_init(&c);
 *     sha256_update(&c, buf, n);      // as often as needed
 *     sha256_final(&c, digest);       // 32 bytes
 *     sha256_hex(digest, hex);        // 65 bytes, lower case, NUL-terminated
 */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST 32
#define SHA256_HEX 65 /* 64 hex digits and a NUL */

typedef struct sha256_ctx {
    uint32_t h[8];
    uint64_t bytes;     /* message length so far */
    uint8_t buf[64];    /* partial block */
    size_t used;        /* bytes in buf */
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
/* Pads, writes the digest and leaves c unusable until sha256_init. */
void sha256_final(sha256_ctx *c, uint8_t out[SHA256_DIGEST]);

/* digest -> 64 lower-case hex digits + NUL. Returns hex. */
char *sha256_hex(const uint8_t digest[SHA256_DIGEST], char hex[SHA256_HEX]);

/* One call: hash len bytes into hex. */
void sha256_hex_of(const void *data, size_t len, char hex[SHA256_HEX]);

/* The x86 SHA extensions are used when the processor has them.  For tests:
 * on != 0 forces the portable code, 0 goes back to choosing; returns
 * whether the portable code was forced before.  Not thread-safe to switch
 * while others hash (the digest is the same either way). */
int sha256_portable(int on);

#endif
