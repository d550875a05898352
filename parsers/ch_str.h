/*
 * ch_str.h - bounded string copies without printf (snprintf("%s") was a
 * noticeable part of posting 100,000 claims: it parses its format and goes
 * through stdio's string streams for every field).
 */
#ifndef CH_STR_H
#define CH_STR_H

#include <stddef.h>
#include <string.h>

/* s (NULL: "") into dst of size bytes (size >= 1), cut to size - 1 and
 * always NUL-terminated, as snprintf(dst, size, "%s", s) would; returns the
 * length written. */
static inline size_t ch_strcpy(char *dst, size_t size, const char *s)
{
    size_t n = s ? strnlen(s, size - 1) : 0;
    memcpy(dst, s ? s : "", n);
    dst[n] = '\0';
    return n;
}

/* s appended at dst + *at within size bytes (cut as snprintf would; *at
 * stays below size); the result always NUL-terminated. */
static inline void ch_strcat(char *dst, size_t size, size_t *at, const char *s)
{
    *at += ch_strcpy(dst + *at, size - *at, s);
}

#endif
