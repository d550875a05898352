/*
 * ydoc_reading.h - a YAML/JSON reading as one comparable string: the whole
 * tree (kind, line:column, plain or quoted, text of every node) or the
 * error, then the units ydoc_each delivers and its result.  Used by
 * test_ydoc.c and fuzz/fuzz_ydoc.c to compare the fast scanner with
 * libyaml.  Header-only: each includes it once.
 */
#ifndef YDOC_READING_H
#define YDOC_READING_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ydoc.h"

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void dump(buf *b, const ydoc_node *n)
{
    char head[64];
    if (!n) {
        put(b, "~", 1);
        return;
    }
    snprintf(head, sizeof head, "(%d %u:%u %d ", (int)n->kind, n->line, n->col, n->plain);
    put(b, head, strlen(head));
    if (n->kind == YDOC_SCALAR) {
        put(b, "'", 1);
        put(b, n->str, n->len);
        put(b, "'", 1);
    } else {
        size_t k = n->kind == YDOC_MAP ? 2 * n->n : n->n;
        for (size_t i = 0; i < k; i++)
            dump(b, n->items[i]);
    }
    put(b, ")", 1);
}

static ch_code on_unit(void *ctx, const ydoc_node *unit, long index)
{
    buf *b = ctx;
    char head[32];
    snprintf(head, sizeof head, "[%ld]", index);
    put(b, head, strlen(head));
    dump(b, unit);
    return CH_OK;
}

/* Both ways of reading: the whole tree and the units, with any error. */
static char *reading(const char *text, size_t len, int fast)
{
    ydoc_fast(fast);
    buf b = {NULL, 0, 0};
    put(&b, "", 0);
    ydoc *d = NULL;
    ch_error err;
    ch_error_clear(&err);
    ch_code rc = ydoc_parse(&d, text, len, "t.yaml", &err);
    if (rc == CH_OK)
        dump(&b, ydoc_root(d));
    else {
        char e[CH_ERROR_MSG + 16];
        snprintf(e, sizeof e, "error %d %s", (int)rc, err.msg);
        put(&b, e, strlen(e));
    }
    ydoc_free(d);
    ch_error_clear(&err);
    put(&b, " | ", 3);
    rc = ydoc_each(text, len, "t.yaml", on_unit, &b, &err);
    char e[CH_ERROR_MSG + 16];
    snprintf(e, sizeof e, " rc %d %s", (int)rc, rc == CH_OK ? "" : err.msg);
    put(&b, e, strlen(e));
    ydoc_fast(1);
    return b.p;
}

#endif
