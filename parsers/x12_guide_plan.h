/*
 * x12_guide_plan.h - the guide reader's precomputation for the validator's
 * fast paths (x12_guide_build.c calls these while it reads a table; not a
 * public API).  Each fills fields of the tables it is given and allocates
 * nothing.
 */
#ifndef X12_GUIDE_PLAN_H
#define X12_GUIDE_PLAN_H

#include "x12_guide.h"

/* The plan (x12_gplan) of positions 1..maxp, from their hot summaries
 * fast[0..maxp] and tables arr[0..maxp] (NULL where none is listed). */
void x12_gplan_build(x12_gplan *pl, const x12_gfast *fast, const x12_gelem *const *arr, unsigned maxp);

/* s->lmin / s->lmax (see x12_gseg) from fast[0..maxe]. */
void x12_gseg_lengths(x12_gseg *s, const x12_gfast *fast, unsigned maxe);

/* tk, parallel to g->tags (all ok, el 0 on entry), from the entries under
 * loop l and its child loops: the key position of each tag (x12_gtagkey). */
void x12_guide_tagkeys(const x12_guide *g, const x12_gloop *l, struct x12_gtagkey *tk);

#endif
