/*
 * x12_guide.c - reading a guide table into the tree of x12_guide.h: the
 * entry point and its line loop, the reader's memory (the arena a guide
 * owns, the vectors used while building) and its errors, and freeing.
 *
 * One pass over the lines.  Loops, segments and elements are allocated in
 * the guide's arena as they are met (so pointers to them stay put); their
 * variable-length parts (a loop's children, a segment's elements, a
 * composite's components) are gathered in growable build vectors and
 * copied into the arena when the thing is closed: a composite when the next
 * el/seg/loop/end comes, a segment when the next seg/loop/end comes, a loop
 * at its `end`.  Rules are resolved when their loop is closed, because a
 * rule may name a segment written after it.
 *
 * Each line is read by x12_guide_lines.c; closing things and the tables
 * derived then are in x12_guide_build.c; the lookups on a finished guide
 * in x12_guide_lookup.c.  What they share is in x12_guide_int.h.
 */
#include "x12_guide_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena --------------------------------------------------------------- */

void *xg_arena_alloc(arena *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 60000 ? n : 60000;
        arena_chunk *c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = (char *)a->head->data + a->head->used;
    a->head->used += n;
    memset(p, 0, n);
    return p;
}

static void arena_free(arena *a)
{
    while (a && a->head) {
        arena_chunk *c = a->head;
        a->head = c->next;
        free(c);
    }
}

/* ---- growable vectors (build time only) ---------------------------------- */

void *xg_vec_push(vec *v)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        void *np = realloc(v->p, cap * v->size);
        if (!np)
            return NULL;
        v->p = np;
        v->cap = cap;
    }
    void *e = (char *)v->p + v->n++ * v->size;
    memset(e, 0, v->size);
    return e;
}

void xg_vec_free(vec *v)
{
    free(v->p);
    v->p = NULL;
    v->n = v->cap = 0;
}

/* ---- errors -------------------------------------------------------------- */

int xg_fail(parser *ps, const char *fmt, ...)
{
    if (ps->rc != CH_OK)
        return -1;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ps->rc = CH_ERR_SYNTAX;
    if (ps->line > 0)
        ch_error_set(ps->err, CH_ERR_SYNTAX, "%s:%d: %s", ps->name, ps->line, msg);
    else
        ch_error_set(ps->err, CH_ERR_SYNTAX, "%s: %s", ps->name, msg);
    return -1;
}

int xg_nomem(parser *ps)
{
    if (ps->rc == CH_OK) {
        ps->rc = CH_ERR_NOMEM;
        ch_error_set(ps->err, CH_ERR_NOMEM, "%s: out of memory reading the guide table", ps->name);
    }
    return -1;
}

char *xg_adup(parser *ps, const char *p, size_t n)
{
    char *s = xg_arena_alloc(&ps->a, n + 1);
    if (!s)
        return NULL;
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* ---- reading a table ----------------------------------------------------- */

static void parser_cleanup(parser *ps)
{
    for (int d = 0; d < MAX_DEPTH; d++) {
        bloop *b = &ps->stack[d];
        for (size_t i = 0; i < b->rules.n; i++)
            free(VAT(b->rules, prule, i).text), free(VAT(b->rules, prule, i).codes);
        xg_vec_free(&b->rules);
        xg_vec_free(&b->child);
    }
    xg_vec_free(&ps->seg_el);
    xg_vec_free(&ps->seg_syntax);
    xg_vec_free(&ps->comps);
    xg_vec_free(&ps->tags);
}

ch_code x12_guide_parse(const char *text, size_t len, const char *name, x12_guide **out,
                        ch_error *err)
{
    *out = NULL;
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.name = name ? name : "(guide)";
    ps.err = err;
    ps.seg_el = VEC(x12_gelem *);
    ps.seg_syntax = VEC(x12_gsyntax);
    ps.comps = VEC(x12_gelem *);
    ps.tags = VEC(uint32_t);
    for (int d = 0; d < MAX_DEPTH; d++) {
        ps.stack[d].child = VEC(x12_gnode);
        ps.stack[d].rules = VEC(prule);
    }
    ps.g = xg_arena_alloc(&ps.a, sizeof *ps.g);
    if (!ps.g || !(ps.g->name = xg_adup(&ps, ps.name, strlen(ps.name)))) {
        arena_free(&ps.a);
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory reading the guide table", ps.name);
    }
    ps.stack[0].l = &ps.g->root;
    ps.g->root.usage = 'R';
    ps.g->root.max = 1;
    ps.g->root.name = "Transaction Set Header";
    ps.g->root.line = 1;

    const char *p = text, *end = text + len;
    token t[MAX_TOKENS];
    int nt;
    while (p < end && ps.rc == CH_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        ps.line++;
        if (memchr(p, '\0', (size_t)(le - p))) {
            xg_fail(&ps, "a NUL byte in the table");
            break;
        }
        if (xg_tokenize(&ps, p, (size_t)(le - p), t, &nt) == 0 && nt > 0)
            xg_statement(&ps, t, nt);
        p = nl ? nl + 1 : end;
    }
    if (ps.rc == CH_OK) {
        ps.line = 0;
        if (!ps.have_guide)
            xg_fail(&ps, "empty table: no guide line");
        else if (ps.depth > 0) {
            ps.line = ps.stack[ps.depth].l->line;
            xg_fail(&ps, "loop %s is never closed with end", ps.stack[ps.depth].l->id);
        } else if (xg_close_loop(&ps, &ps.stack[0]) == 0) {
            xg_build_tagset(&ps);
            if (ps.rc == CH_OK && ps.g->root.nchild == 0)
                xg_fail(&ps, "the table has no segments");
        }
    }
    parser_cleanup(&ps);
    if (ps.rc != CH_OK) {
        arena_free(&ps.a);
        return ps.rc;
    }
    arena *keep = malloc(sizeof *keep);
    if (!keep) {
        arena_free(&ps.a);
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory reading the guide table", ps.name);
    }
    *keep = ps.a;
    ps.g->arena = keep;
    *out = ps.g;
    return CH_OK;
}

void x12_guide_free(x12_guide *g)
{
    if (!g)
        return;
    arena *a = g->arena;
    arena_free(a); /* g itself lives in the arena */
    free(a);
}
