/*
 * recon_helpers.h - test helpers for the reconciliation readers: paths of the
 * files in tests/data/reconcile and reading a whole file into memory.
 */
#ifndef RECON_HELPERS_H
#define RECON_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* $CH_ROOT/tests/data/reconcile/NAME into buf. */
static inline const char *rc_path(const char *name, char *buf, size_t size)
{
    const char *root = getenv("CH_ROOT") ? getenv("CH_ROOT") : ".";
    snprintf(buf, size, "%s/tests/data/reconcile/%s", root, name);
    return buf;
}

/* The whole file (NUL-terminated, caller frees), or NULL. */
static inline char *rc_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[n] = '\0';
        *len = (size_t)n;
    }
    return b;
}

#endif
