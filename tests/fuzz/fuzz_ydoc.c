/*
 * fuzz_ydoc.c - libFuzzer target: the fast scanner for the plain subset of
 * YAML (engine/ydoc_fast.c) against libyaml.  Whatever the bytes, reading
 * them with the scanner on and off must give the same tree, node for node
 * (kind, text, quoting, line, column), or the same error; a difference
 * aborts.  Built and run by `make fuzz`, seeded with the project's
 * encounter documents.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ydoc.h"

typedef struct out {
    char *p;
    size_t n, cap;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->n + n + 1 > o->cap) {
        o->cap = (o->n + n + 1) * 2;
        o->p = realloc(o->p, o->cap);
        if (!o->p)
            abort();
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = '\0';
}

static void dump(out *o, const ydoc_node *n)
{
    char head[64];
    if (!n) {
        put(o, "~", 1);
        return;
    }
    snprintf(head, sizeof head, "(%d %u:%u %d '", (int)n->kind, n->line, n->col, n->plain);
    put(o, head, strlen(head));
    if (n->kind == YDOC_SCALAR)
        put(o, n->str, n->len);
    put(o, "'", 1);
    size_t k = n->kind == YDOC_MAP ? 2 * n->n : n->kind == YDOC_SEQ ? n->n : 0;
    for (size_t i = 0; i < k; i++)
        dump(o, n->items[i]);
    put(o, ")", 1);
}

static ch_code on_unit(void *ctx, const ydoc_node *unit, long index)
{
    char head[32];
    snprintf(head, sizeof head, "[%ld]", index);
    put(ctx, head, strlen(head));
    dump(ctx, unit);
    return CH_OK;
}

static char *reading(const char *text, size_t len, int fast)
{
    ydoc_fast(fast);
    out o = {NULL, 0, 0};
    put(&o, "", 0);
    ydoc *d = NULL;
    ch_error err;
    ch_error_clear(&err);
    ch_code rc = ydoc_parse(&d, text, len, "f", &err);
    if (rc == CH_OK)
        dump(&o, ydoc_root(d));
    else
        put(&o, err.msg, strlen(err.msg));
    ydoc_free(d);
    ch_error_clear(&err);
    put(&o, " | ", 3);
    rc = ydoc_each(text, len, "f", on_unit, &o, &err);
    if (rc != CH_OK)
        put(&o, err.msg, strlen(err.msg));
    return o.p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *slow = reading((const char *)data, size, 0), *fast = reading((const char *)data, size, 1);
    if (strcmp(slow, fast)) {
        fprintf(stderr, "libyaml: %s\nfast:    %s\n", slow, fast);
        abort();
    }
    free(slow);
    free(fast);
    return 0;
}
