/*
 * x12_val_rules.c - situational rules and HL structure (level 4).
 *
 * Rules only look at the loop repeat they are written in, and only at the
 * first occurrence of a segment directly in it, so each loop frame keeps a
 * few fixed-size values (the guide's slots) instead of its segments: the
 * memory of a frame does not depend on how many segments it holds.
 *
 * HL: the frames already mirror the hierarchy (the guide nests the HL loops
 * and places each HL by HL03), so the parent an HL02 must name is simply the
 * HL01 of the nearest enclosing HL frame, and whether children followed is
 * the count of child HL loops in the frame.  No list of HL ids is kept.
 */
#include <stdio.h>
#include <string.h>

#include "x12_val_internal.h"

/* ---- rules --------------------------------------------------------------- */

/* memcmp(a, b, n) == 0 for the few bytes of a code, without a call */
static inline int same(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

void xv_rules_segment(xv *v, xv_frame *f, const x12_gseg *s, const x12_segment *seg)
{
    const x12_gloop *l = f->loop;
    for (unsigned i = 0; i < s->nwatch; i++) {
        unsigned w = s->watch[i];
        const x12_gslot *gs = &l->slot[w];
        xv_slot *st = &f->slot[w];
        if (st->gen == f->gen)
            continue; /* the first occurrence counts */
        if (gs->kind == X12_SLOT_VALUE) {
            x12_str val = !gs->el ? seg->tag : xv_value(v, seg, gs->el, gs->comp);
            st->gen = f->gen;
            st->longer = val.len > sizeof st->val;
            st->len = (uint8_t)(st->longer ? sizeof st->val : val.len);
            memcpy(st->val, val.p, st->len);
            st->pos = xv_pos_of(v->cur);
        } else {
            unsigned kel = s->key_el ? s->key_el : 1;
            x12_str kv = xv_value(v, seg, kel, s->key_comp);
            if (kv.len == gs->code.len && same(kv.p, gs->code.s, kv.len)) {
                st->gen = f->gen;
                st->pos = xv_pos_of(v->cur);
            }
        }
    }
}

static int seen(const xv_frame *f, const xv_slot *st) { return st->gen == f->gen; }

static int value_present(const xv_frame *f, const xv_slot *st) { return seen(f, st) && st->len > 0; }

static int cond_holds(const xv_frame *f, const x12_grule *r, const xv_slot *st)
{
    int present = value_present(f, st);
    int in = present && !st->longer && x12_gcodes_has(&r->codes, st->val, st->len);
    switch (r->cond) {
    case X12_COND_EQ: return in;
    case X12_COND_NE: return present && !in;
    case X12_COND_PRESENT: return present;
    case X12_COND_ABSENT: return !present;
    }
    return 0;
}

/* Whether the rule's target is there, and where (NULL: the loop start). */
static int target_present(const xv_frame *f, const x12_grule *r, const xv_pos **where)
{
    *where = NULL;
    switch (r->target) {
    case X12_TARGET_LOOP:
        return f->count[r->target_index] > 0;
    case X12_TARGET_EL:
        if (seen(f, &f->slot[r->target_slot]))
            *where = &f->slot[r->target_slot].pos;
        return value_present(f, &f->slot[r->target_slot]);
    case X12_TARGET_SEG:
        if (seen(f, &f->slot[r->target_slot]))
            *where = &f->slot[r->target_slot].pos;
        return seen(f, &f->slot[r->target_slot]);
    }
    return 0;
}

void xv_rules_end(xv *v, xv_frame *f)
{
    const x12_gloop *l = f->loop;
    for (unsigned i = 0; i < l->nrule; i++) {
        const x12_grule *r = &l->rule[i];
        const xv_slot *cs = &f->slot[r->cond_slot];
        if (!cond_holds(f, r, cs))
            continue;
        const xv_pos *where;
        int present = target_present(f, r, &where);
        if (present == r->need)
            continue;
        x12_diag d;
        char tag[4] = "";
        if (r->target == X12_TARGET_LOOP)
            snprintf(tag, sizeof tag, "%s", r->target_loop->trigger->tag);
        else if (r->target == X12_TARGET_SEG)
            snprintf(tag, sizeof tag, "%s", r->target_seg->tag);
        else
            memcpy(tag, l->slot[r->target_slot].tag, sizeof tag);
        x12_pos at;
        xv_diag(v, &d, xv_pos_full(v, where ? where : &f->start, &at), X12_SEV_ERROR, 4,
                r->need ? "rule.need" : "rule.forbid", tag, l);
        if (r->target == X12_TARGET_EL) {
            d.elem = l->slot[r->target_slot].el;
            d.comp = l->slot[r->target_slot].comp;
            snprintf(d.ik3, sizeof d.ik3, "8");
            snprintf(d.ik4, sizeof d.ik4, "%s", r->need ? "I9" : "I13");
        } else {
            snprintf(d.ik3, sizeof d.ik3, "%s", r->need ? "I6" : "I9");
        }
        if (cs->len)
            x12_diag_found(&d, cs->val, cs->len);
        x12_diag_msg(&d, "%s", r->text);
        const char *what = r->target == X12_TARGET_LOOP ? "loop " : "";
        if (r->cond == X12_COND_PRESENT || r->cond == X12_COND_ABSENT)
            x12_diag_expected(&d, "%s%s %s, since %s is %s", what, r->target_ref,
                              r->need ? "present" : "absent", r->cond_ref,
                              r->cond == X12_COND_PRESENT ? "present" : "absent");
        else
            x12_diag_expected(&d, "%s%s %s, since %s is '%.*s'", what, r->target_ref,
                              r->need ? "present" : "absent", r->cond_ref, (int)cs->len, cs->val);
        xv_emit(v, &d);
    }
}

/* ---- HL ------------------------------------------------------------------ */

static void hl_report(xv *v, const x12_pos *pos, const x12_gloop *l, const char *code, int elem,
                      const char *ik4, x12_str found, const char *expected, const char *msg)
{
    x12_diag d;
    xv_diag(v, &d, pos, X12_SEV_ERROR, 4, code, "HL", l);
    d.elem = elem;
    snprintf(d.ik3, sizeof d.ik3, "8");
    snprintf(d.ik4, sizeof d.ik4, "%s", ik4);
    if (found.len)
        x12_diag_found(&d, found.p, found.len);
    if (expected)
        snprintf(d.expected, sizeof d.expected, "%s", expected);
    snprintf(d.msg, sizeof d.msg, "%s", msg);
    xv_emit(v, &d);
}

void xv_hl_start(xv *v, xv_frame *f, const x12_segment *seg)
{
    x12_str id = x12_elem(seg, 1), parent = x12_elem(seg, 2), child = x12_elem(seg, 4);
    x12_copy(id, f->hl01, sizeof f->hl01);
    f->hl04 = child.len == 1 ? child.p[0] : child.len ? '?' : '\0';
    char exp[64];
    /* HL01: numbered upwards through the set (only numeric ids can be compared) */
    if (id.len && id.len <= 18 && x12_is_digits(id)) {
        uint64_t n = 0;
        for (size_t i = 0; i < id.len; i++)
            n = n * 10 + (uint64_t)(id.p[i] - '0');
        if (v->have_hl && n <= v->last_hl) {
            snprintf(exp, sizeof exp, "a number greater than %llu (the previous HL01)",
                     (unsigned long long)v->last_hl);
            hl_report(v, NULL, f->loop, "hl.order", 1, "I12", id, exp,
                      "HL01 does not increase: each HL needs a new, higher id");
        }
        v->last_hl = n;
        v->have_hl = 1;
    }
    /* HL02: the id of the enclosing level */
    const xv_frame *pf = NULL;
    for (const xv_frame *q = f - 1; q >= v->frames; q--)
        if (q->loop->is_hl) {
            pf = q;
            break;
        }
    if (pf && parent.len && !x12_eq(parent, pf->hl01)) {
        snprintf(exp, sizeof exp, "%s (HL01 of the enclosing loop %s)", pf->hl01, pf->loop->id);
        hl_report(v, NULL, f->loop, "hl.parent", 2, "I12", parent, exp,
                  "HL02 does not name the parent level this HL belongs to");
    }
}

void xv_hl_end(xv *v, xv_frame *f)
{
    const x12_gloop *l = f->loop;
    uint32_t children = 0;
    for (unsigned k = 0; k < l->nchild; k++)
        if (l->child[k].loop && l->child[k].loop->is_hl)
            children += f->count[k];
    x12_str hl04 = {&f->hl04, 1};
    x12_pos at;
    if (f->hl04 == '1' && !children)
        hl_report(v, xv_pos_full(v, &f->start, &at), l, "hl.child", 4, "7", hl04, "0 (no child level follows)",
                  "HL04 says child levels follow, but none does");
    else if (f->hl04 == '0' && children)
        hl_report(v, xv_pos_full(v, &f->start, &at), l, "hl.child", 4, "7", hl04, "1 (child levels follow)",
                  "HL04 says no child level follows, but one does");
}
