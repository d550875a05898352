/*
 * x12_guide_plan.c - what the guide reader works out once for the
 * validator's fast paths (x12_val_fast.c, the placement memo): element and
 * component plans, length bounds, the key element of each tag.  Plain
 * functions of a guide's tables; nothing here allocates.
 */
#include <string.h>

#include "x12_guide_plan.h"

/* The plan of positions 1..maxp with hot summaries fast[] and tables arr[]
 * (see x12_gplan). */
void x12_gplan_build(x12_gplan *pl, const x12_gfast *fast, const x12_gelem *const *arr, unsigned maxp)
{
    memset(pl, 0, sizeof *pl);
    pl->ok = maxp < 64;
    if (!pl->ok)
        return;
    for (unsigned i = 1; i <= maxp; i++) {
        uint64_t bit = (uint64_t)1 << i;
        if (arr[i] && arr[i]->usage == 'R')
            pl->req |= bit;
        switch (fast[i].kind) {
        case X12_FK_TEXT: pl->text |= bit; break;
        case X12_FK_CODE: pl->code |= bit; break;
        case X12_FK_NUM:
            pl->num |= bit;
            if (fast[i].e->type == X12_GT_R)
                pl->real |= bit;
            break;
        case X12_FK_DATE: pl->date |= bit; break;
        case X12_FK_COMP: pl->comp |= bit; break;
        default: continue; /* the full checks decide */
        }
        pl->fast |= bit;
        if (fast[i].check)
            pl->check |= bit;
    }
}

/* The length bounds of entry s for the 8-at-once test (see x12_gseg). */
void x12_gseg_lengths(x12_gseg *s, const x12_gfast *fast, unsigned maxe)
{
    for (unsigned i = 0; i < sizeof s->lmin / sizeof s->lmin[0]; i++) {
        s->lmin[i] = 0;
        s->lmax[i] = 0x7fff;
        if (i == 0 || i > maxe)
            continue;
        switch (fast[i].kind) {
        case X12_FK_TEXT:
        case X12_FK_NUM:
        case X12_FK_DATE:
            s->lmin[i] = fast[i].min;
            s->lmax[i] = fast[i].max < 0x7fff ? fast[i].max : 0x7fff;
            break;
        }
    }
}

/* Fill tk (parallel to g->tags) from the entries under loop l. */
void x12_guide_tagkeys(const x12_guide *g, const x12_gloop *l, struct x12_gtagkey *tk)
{
    for (unsigned k = 0; k < l->nchild; k++) {
        const x12_gnode *n = &l->child[k];
        if (n->loop)
            x12_guide_tagkeys(g, n->loop, tk);
        const x12_gseg *e = (n->seg ? n->seg : n->loop->trigger);
        if (!e->key_el)
            continue;
        uint32_t h = (e->tag32 * 2654435761u) & g->tags_mask;
        while (g->tags[h] != e->tag32)
            h = (h + 1) & g->tags_mask;
        if (!tk[h].el) {
            tk[h].el = e->key_el;
            tk[h].comp = e->key_comp;
        } else if (tk[h].el != e->key_el || tk[h].comp != e->key_comp) {
            tk[h].ok = 0;
        }
    }
}
