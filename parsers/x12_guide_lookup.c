/*
 * x12_guide_lookup.c - the read-only questions asked of a finished guide
 * (see x12_guide.h): a loop's candidates for a tag, whether a tag is in the
 * guide, loops and entries by name, code lists, names for messages.  The
 * validator calls some of these for every segment; they allocate nothing.
 */
#include "x12_guide.h"

#include <stdio.h>
#include <string.h>

/* ---- lookups ------------------------------------------------------------- */

static const char *const check_names[X12_CHECK__COUNT] = {
    "", "npi", "icd10cm", "hi", "proc", "date", "dtp", "state", "zip", "taxonomy", "ein"};

const uint16_t *x12_gloop_candidates(const x12_gloop *l, uint32_t tag32, unsigned *n)
{
    uint32_t h = (tag32 * 2654435761u) & l->tagix_mask;
    for (;;) {
        const x12_gtagix *e = &l->tagix[h];
        if (e->tag32 == tag32) {
            *n = e->n;
            return l->tagix_list + e->first;
        }
        if (!e->tag32) {
            *n = 0;
            return NULL;
        }
        h = (h + 1) & l->tagix_mask;
    }
}

int x12_guide_has_tag(const x12_guide *g, uint32_t tag32)
{
    if (!tag32)
        return 0;
    uint32_t h = (tag32 * 2654435761u) & g->tags_mask;
    while (g->tags[h]) {
        if (g->tags[h] == tag32)
            return 1;
        h = (h + 1) & g->tags_mask;
    }
    return 0;
}

static const x12_gloop *find_loop(const x12_gloop *l, const char *id)
{
    for (unsigned i = 0; i < l->nchild; i++) {
        const x12_gloop *c = l->child[i].loop;
        if (!c)
            continue;
        if (!strcmp(c->id, id))
            return c;
        const x12_gloop *r = find_loop(c, id);
        if (r)
            return r;
    }
    return NULL;
}

const x12_gloop *x12_guide_find_loop(const x12_guide *g, const char *id)
{
    return find_loop(&g->root, id);
}

const x12_gseg *x12_guide_find_seg(const x12_guide *g, const x12_gloop *loop, const char *tag)
{
    if (!loop)
        loop = &g->root;
    for (unsigned i = 0; i < loop->nchild; i++)
        if (loop->child[i].seg && !strcmp(loop->child[i].seg->tag, tag))
            return loop->child[i].seg;
    return NULL;
}

const char *x12_gtype_name(const x12_gelem *e)
{
    static const char *const nn[] = {"N0", "N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9"};
    switch ((x12_gtype)e->type) {
    case X12_GT_AN: return "AN";
    case X12_GT_ID: return "ID";
    case X12_GT_DT: return "DT";
    case X12_GT_TM: return "TM";
    case X12_GT_N: return nn[e->decimals % 10];
    case X12_GT_R: return "R";
    case X12_GT_B: return "B";
    case X12_GT_C: return "C";
    }
    return "?";
}

const char *x12_gcheck_name(x12_gcheck c)
{
    return c > 0 && c < X12_CHECK__COUNT ? check_names[c] : "";
}

int x12_gcodes_has(const x12_gcodes *c, const char *p, size_t n)
{
    if (n == 0)
        return 0;
    if (n <= 7) {
        uint64_t key = (uint64_t)n << 56;
        for (size_t b = 0; b < n; b++)
            key |= (uint64_t)(unsigned char)p[b] << (8 * b);
        for (uint32_t i = 0; i < c->n; i++)
            if (c->packed[i] == key)
                return 1;
        return 0;
    }
    if (!c->has_long)
        return 0;
    for (uint32_t i = 0; i < c->n; i++)
        if (c->v[i].len == n && !memcmp(c->v[i].s, p, n))
            return 1;
    return 0;
}

char *x12_gcodes_str(const x12_gcodes *c, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < c->n && o < size; i++) {
        const char *sep = i == 0 ? "" : i + 1 == c->n ? " or " : ", ";
        int w = snprintf(buf + o, size - o, "%s%s", sep, c->v[i].s);
        if (w < 0 || (size_t)w >= size - o) {
            if (size > 4)
                memcpy(buf + size - 4, "...", 4);
            break;
        }
        o += (size_t)w;
    }
    return buf;
}
