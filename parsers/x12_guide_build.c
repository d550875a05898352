/*
 * x12_guide_build.c - closing what the table's lines opened, and the tables
 * worked out then for the validator: a composite's and a segment's element
 * arrays, required lists, fast summaries and plans, syntax-note masks; a
 * loop's children, same-tag key checks, tag index, required counts and
 * resolved rules with their value slots; the guide's set of all tags.
 * Everything is allocated in the guide's arena and never changes after.
 */
#include "x12_guide_int.h"
#include "x12_guide_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- closing things ------------------------------------------------------ */

static uint64_t pack_code(const x12_gcode *c)
{
    if (c->len > 7)
        return 0;
    uint64_t key = (uint64_t)c->len << 56;
    for (uint32_t b = 0; b < c->len; b++)
        key |= (uint64_t)(unsigned char)c->s[b] << (8 * b);
    return key;
}

/* The hot summary of element e (NULL: unlisted). */
static void fast_of(x12_gfast *f, const x12_gelem *e)
{
    memset(f, 0, sizeof *f);
    f->e = e;
    if (!e || e->usage == 'N')
        return;
    f->check = e->check;
    f->min = e->min;
    f->max = e->max;
    f->ncodes = (uint16_t)(e->codes.n > 65535 ? 65535 : e->codes.n);
    for (uint32_t i = 0; i < 2 && i < e->codes.n; i++)
        f->code[i] = pack_code(&e->codes.v[i]);
    f->plain = 1;
    for (uint32_t i = 0; i < e->codes.n && f->plain; i++)
        for (uint32_t b = 0; b < e->codes.v[i].len; b++) {
            char ch = e->codes.v[i].s[b];
            if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  ch == ' ')) {
                f->plain = 0;
                break;
            }
        }
    switch ((x12_gtype)e->type) {
    case X12_GT_AN:
    case X12_GT_ID:
        f->kind = e->codes.n ? X12_FK_CODE : X12_FK_TEXT;
        break;
    case X12_GT_N:
    case X12_GT_R:
        /* coded numbers (diagnosis pointers) compare as text, after a digit check */
        f->kind = e->codes.n ? X12_FK_CODE : X12_FK_NUM;
        if (e->codes.n && e->type == X12_GT_R)
            f->kind = X12_FK_SLOW;
        break;
    case X12_GT_DT:
        f->kind = X12_FK_DATE;
        break;
    case X12_GT_C:
        f->kind = X12_FK_COMP;
        break;
    case X12_GT_TM:
    case X12_GT_B:
        f->kind = X12_FK_SLOW;
        break;
    }
}

int xg_close_comps(parser *ps)
{
    x12_gelem *c = ps->comp_of;
    if (!c)
        return 0;
    ps->comp_of = NULL;
    if (ps->comps.n == 0) {
        xg_vec_free(&ps->comps);
        int l = ps->line;
        ps->line = c->line;
        xg_fail(ps, "composite el %02u has no comp lines", c->pos);
        ps->line = l;
        return -1;
    }
    unsigned maxc = 0, nreq = 0;
    for (size_t i = 0; i < ps->comps.n; i++) {
        x12_gelem *k = VAT(ps->comps, x12_gelem *, i);
        if (k->pos > maxc)
            maxc = k->pos;
        nreq += k->usage == 'R';
    }
    const x12_gelem **arr = xg_arena_alloc(&ps->a, (maxc + 1) * sizeof *arr);
    uint8_t *req = xg_arena_alloc(&ps->a, nreq + 1);
    if (!arr || !req)
        return xg_nomem(ps);
    nreq = 0;
    for (size_t i = 0; i < ps->comps.n; i++) {
        x12_gelem *k = VAT(ps->comps, x12_gelem *, i);
        arr[k->pos] = k;
    }
    for (unsigned i = 1; i <= maxc; i++)
        if (arr[i] && arr[i]->usage == 'R')
            req[nreq++] = (uint8_t)i;
    x12_gfast *cf = xg_arena_alloc(&ps->a, (maxc + 1) * sizeof *cf);
    if (!cf)
        return xg_nomem(ps);
    for (unsigned i = 0; i <= maxc; i++)
        fast_of(&cf[i], i ? arr[i] : NULL);
    c->cfast = cf;
    x12_gplan_build(&c->cplan, cf, (const x12_gelem *const *)arr, maxc);
    c->comp = (const x12_gelem *const *)arr;
    c->ncomp = (uint8_t)maxc;
    c->req = req;
    c->nreq = (uint8_t)nreq;
    ps->comps.n = 0;
    return 0;
}

int xg_close_seg(parser *ps)
{
    if (xg_close_comps(ps))
        return -1;
    x12_gseg *s = ps->seg;
    if (!s)
        return 0;
    ps->seg = NULL;
    unsigned maxe = 0, nreq = 0, maxpos = 0;
    for (size_t i = 0; i < ps->seg_el.n; i++) {
        x12_gelem *e = VAT(ps->seg_el, x12_gelem *, i);
        if (e->pos > maxe)
            maxe = e->pos;
    }
    maxpos = maxe;
    const x12_gelem **arr = xg_arena_alloc(&ps->a, (maxe + 1) * sizeof *arr);
    uint8_t *req = xg_arena_alloc(&ps->a, maxe + 1);
    x12_gsyntax *syn = xg_arena_alloc(&ps->a, (ps->seg_syntax.n + 1) * sizeof *syn);
    if (!arr || !req || !syn)
        return xg_nomem(ps);
    for (size_t i = 0; i < ps->seg_el.n; i++) {
        x12_gelem *e = VAT(ps->seg_el, x12_gelem *, i);
        arr[e->pos] = e;
    }
    for (unsigned i = 1; i <= maxe; i++)
        if (arr[i] && arr[i]->usage == 'R')
            req[nreq++] = (uint8_t)i;
    for (size_t i = 0; i < ps->seg_syntax.n; i++) {
        syn[i] = VAT(ps->seg_syntax, x12_gsyntax, i);
        syn[i].simple = 1;
        for (unsigned k = 0; k < syn[i].n; k++) {
            if (syn[i].pos[k] > maxpos)
                maxpos = syn[i].pos[k];
            if (syn[i].comp[k] || syn[i].pos[k] >= 64)
                syn[i].simple = 0;
            else
                syn[i].mask |= (uint64_t)1 << syn[i].pos[k];
        }
        syn[i].first = syn[i].simple ? (uint64_t)1 << syn[i].pos[0] : 0;
    }
    s->syntax_idle_ok = 1;
    for (size_t i = 0; i < ps->seg_syntax.n; i++) {
        if (!syn[i].simple || syn[i].kind == 'R')
            s->syntax_idle_ok = 0;
        s->syntax_union |= syn[i].mask;
    }
    x12_gfast *fast = xg_arena_alloc(&ps->a, (maxe + 1) * sizeof *fast);
    if (!fast)
        return xg_nomem(ps);
    for (unsigned i = 0; i <= maxe; i++)
        fast_of(&fast[i], i ? arr[i] : NULL);
    s->fast = fast;
    x12_gplan_build(&s->plan, fast, (const x12_gelem *const *)arr, maxe);
    /* the header's ST is checked against the registry's variants: full checks */
    s->fast_ok = s->plan.ok && (s->loop->id || s->tag32 != x12_tag32("ST", 2));
    x12_gseg_lengths(s, fast, maxe);
    s->reqmask_ok = 1;
    for (unsigned i = 0; i < nreq; i++) {
        if (req[i] >= 64)
            s->reqmask_ok = 0;
        else
            s->reqmask |= (uint64_t)1 << req[i];
    }
    /* the key element must be one the table describes */
    if (s->key_el) {
        const x12_gelem *ke = s->key_el <= maxe ? arr[s->key_el] : NULL;
        if (ke && s->key_comp) {
            ke = ke->type == X12_GT_C && s->key_comp <= ke->ncomp ? ke->comp[s->key_comp] : NULL;
        }
        if (!ke || ke->usage == 'N') {
            int l = ps->line;
            ps->line = s->line;
            if (s->key_comp)
                xg_fail(ps, "seg %s: key element %02u-%u is not listed as a used el/comp", s->tag,
                        s->key_el, s->key_comp);
            else
                xg_fail(ps, "seg %s: key element %02u is not listed as a used el", s->tag, s->key_el);
            ps->line = l;
            return -1;
        }
    }
    s->el = (const x12_gelem *const *)arr;
    s->nel = (uint8_t)maxe;
    s->req = req;
    s->nreq = (uint8_t)nreq;
    s->syntax = syn;
    s->nsyntax = (uint8_t)ps->seg_syntax.n;
    s->maxpos = (uint8_t)maxpos;
    ps->seg_el.n = 0;
    ps->seg_syntax.n = 0;
    return 0;
}

static int codes_overlap(const x12_gcodes *a, const x12_gcodes *b)
{
    for (uint32_t i = 0; i < a->n; i++)
        if (x12_gcodes_has(b, a->v[i].s, a->v[i].len))
            return 1;
    return 0;
}

/* The entry that identifies a node: its segment, or a loop's trigger. */
static const x12_gseg *node_seg(const x12_gnode *n) { return n->seg ? n->seg : n->loop->trigger; }

/* Same-tag entries at one level must be told apart by their keys. */
static int check_keys(parser *ps, const bloop *b)
{
    size_t n = b->child.n;
    for (size_t i = 0; i < n; i++) {
        const x12_gseg *a = node_seg(&VAT(b->child, x12_gnode, i));
        for (size_t j = i + 1; j < n; j++) {
            const x12_gseg *c = node_seg(&VAT(b->child, x12_gnode, j));
            if (a->tag32 != c->tag32)
                continue;
            int l = ps->line;
            ps->line = c->line;
            if (!a->key_el || !c->key_el) {
                xg_fail(ps, "seg %s: another %s at the same level (line %d) needs a different key=; "
                        "both need one",
                        c->tag, a->tag, a->line);
                ps->line = l;
                return -1;
            }
            if (a->key_el == c->key_el && a->key_comp == c->key_comp && codes_overlap(&a->key, &c->key)) {
                xg_fail(ps, "seg %s: its key= codes overlap those of the %s at line %d at the same level",
                        c->tag, a->tag, a->line);
                ps->line = l;
                return -1;
            }
            ps->line = l;
        }
    }
    return 0;
}

/* Build the loop's tag index: open addressing on tag32, lists ascending. */
static int build_tagix(parser *ps, x12_gloop *l, const x12_gnode *child, size_t n)
{
    unsigned buckets = 4;
    while (buckets < n * 2)
        buckets *= 2;
    x12_gtagix *ix = xg_arena_alloc(&ps->a, buckets * sizeof *ix);
    uint16_t *list = xg_arena_alloc(&ps->a, (n + 1) * sizeof *list);
    if (!ix || !list)
        return xg_nomem(ps);
    uint32_t mask = buckets - 1;
    /* count per tag first so each tag's list is contiguous */
    uint16_t used = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t t = node_seg(&child[i])->tag32;
        uint32_t h = (t * 2654435761u) & mask;
        while (ix[h].tag32 && ix[h].tag32 != t)
            h = (h + 1) & mask;
        if (!ix[h].tag32) {
            ix[h].tag32 = t;
            /* reserve: count all children with this tag */
            uint16_t cnt = 0;
            for (size_t j = i; j < n; j++)
                cnt += node_seg(&child[j])->tag32 == t;
            ix[h].first = used;
            used += cnt;
        }
        list[ix[h].first + ix[h].n++] = (uint16_t)i;
    }
    x12_gcand *cand = xg_arena_alloc(&ps->a, (n + 1) * sizeof *cand);
    if (!cand)
        return xg_nomem(ps);
    for (size_t j = 0; j < n; j++) {
        const x12_gseg *e = node_seg(&child[list[j]]);
        cand[j] = (x12_gcand){list[j], e->key_el, e->key_comp, e->key};
    }
    l->tagix = ix;
    l->tagix_list = list;
    l->tagix_cand = cand;
    l->tagix_mask = mask;
    return 0;
}

/* Resolve the loop's rules into slots and x12_grule. */
static int add_slot(parser *ps, x12_gslot *slots, unsigned *nslot, x12_gslot s, uint8_t *out)
{
    for (unsigned i = 0; i < *nslot; i++) {
        const x12_gslot *o = &slots[i];
        if (o->kind == s.kind && o->tag32 == s.tag32 && o->el == s.el && o->comp == s.comp &&
            o->code.len == s.code.len && (!s.code.len || !memcmp(o->code.s, s.code.s, s.code.len))) {
            *out = (uint8_t)i;
            return 0;
        }
    }
    if (*nslot >= 255)
        return xg_fail(ps, "too many rule values in one loop");
    slots[*nslot] = s;
    *out = (uint8_t)(*nslot)++;
    return 0;
}

static const x12_gseg *direct_seg(const bloop *b, const char *tag)
{
    for (size_t i = 0; i < b->child.n; i++) {
        const x12_gnode *nd = &VAT(b->child, x12_gnode, i);
        if (nd->seg && !strcmp(nd->seg->tag, tag))
            return nd->seg;
    }
    return NULL;
}

static int resolve_rules(parser *ps, bloop *b)
{
    x12_gloop *l = b->l;
    size_t nr = b->rules.n;
    if (nr == 0)
        return 0;
    x12_grule *rules = xg_arena_alloc(&ps->a, nr * sizeof *rules);
    x12_gslot *slots = xg_arena_alloc(&ps->a, nr * 2 * sizeof *slots);
    if (!rules || !slots)
        return xg_nomem(ps);
    unsigned nslot = 0;
    const char *lname = l->id ? l->id : "(transaction set header)";
    for (size_t i = 0; i < nr; i++) {
        prule *p = &VAT(b->rules, prule, i);
        x12_grule *r = &rules[i];
        ps->line = p->line;
        r->line = p->line;
        r->text = xg_adup(ps, p->text, strlen(p->text));
        if (!r->text)
            return xg_nomem(ps);
        r->cond = (uint8_t)p->cond;
        r->need = p->need;
        r->target = (uint8_t)p->target;
        snprintf(r->cond_ref, sizeof r->cond_ref, "%s", p->cond_ref);
        /* condition */
        x12_gslot s = {.kind = X12_SLOT_VALUE};
        if (xg_parse_ref(p->cond_ref, strlen(p->cond_ref), s.tag, &s.el, &s.comp))
            return xg_fail(ps, "rule condition '%s' is not an element reference like CLM05-3", p->cond_ref);
        if (!direct_seg(b, s.tag))
            return xg_fail(ps, "rule condition names %s, which is not a segment directly in loop %s",
                           s.tag, lname);
        s.tag32 = x12_tag32(s.tag, strlen(s.tag));
        if (add_slot(ps, slots, &nslot, s, &r->cond_slot))
            return -1;
        if (p->codes && xg_parse_codes(ps, p->codes, strlen(p->codes), &r->codes, "rule condition"))
            return -1;
        /* target */
        const char *arg = p->target_arg;
        if (p->target == X12_TARGET_LOOP) {
            snprintf(r->target_ref, sizeof r->target_ref, "%s", arg);
            for (size_t k = 0; k < b->child.n; k++) {
                const x12_gnode *nd = &VAT(b->child, x12_gnode, k);
                if (nd->loop && !strcmp(nd->loop->id, arg)) {
                    r->target_loop = nd->loop;
                    r->target_index = (uint16_t)k;
                    break;
                }
            }
            if (!r->target_loop)
                return xg_fail(ps, "rule target loop %s is not a child loop of %s", arg, lname);
        } else if (p->target == X12_TARGET_SEG) {
            snprintf(r->target_ref, sizeof r->target_ref, "%s", arg);
            const char *colon = strchr(arg, ':');
            size_t tl = colon ? (size_t)(colon - arg) : strlen(arg);
            char tag[4] = "";
            if (!xg_tag_ok(arg, tl))
                return xg_fail(ps, "rule target seg '%s' is not TAG or TAG:CODE", arg);
            memcpy(tag, arg, tl);
            r->target_seg = direct_seg(b, tag);
            if (!r->target_seg)
                return xg_fail(ps, "rule target seg %s is not a segment directly in loop %s", tag, lname);
            if (colon) {
                x12_gslot k = {.kind = X12_SLOT_KEYED};
                memcpy(k.tag, tag, sizeof k.tag);
                k.tag32 = x12_tag32(tag, tl);
                if (!colon[1])
                    return xg_fail(ps, "rule target seg '%s' has an empty code", arg);
                k.code.s = xg_adup(ps, colon + 1, strlen(colon + 1));
                if (!k.code.s)
                    return xg_nomem(ps);
                k.code.len = (uint32_t)strlen(colon + 1);
                int keyed = 0;
                for (size_t q = 0; q < b->child.n; q++) {
                    const x12_gnode *nd = &VAT(b->child, x12_gnode, q);
                    if (nd->seg && nd->seg->tag32 == k.tag32 && nd->seg->key_el)
                        keyed = 1;
                }
                if (!keyed)
                    return xg_fail(ps, "rule target seg %s names a code, but no %s in loop %s has a key=",
                                   arg, tag, lname);
                if (add_slot(ps, slots, &nslot, k, &r->target_slot))
                    return -1;
            } else {
                /* the first occurrence of the tag (element 0: the segment) */
                x12_gslot k = {.kind = X12_SLOT_VALUE};
                memcpy(k.tag, tag, sizeof k.tag);
                k.tag32 = x12_tag32(tag, tl);
                if (add_slot(ps, slots, &nslot, k, &r->target_slot))
                    return -1;
            }
        } else {
            x12_gslot e = {.kind = X12_SLOT_VALUE};
            snprintf(r->target_ref, sizeof r->target_ref, "%s", arg);
            if (xg_parse_ref(arg, strlen(arg), e.tag, &e.el, &e.comp))
                return xg_fail(ps, "rule target el '%s' is not an element reference like BPR05", arg);
            if (!direct_seg(b, e.tag))
                return xg_fail(ps, "rule target el names %s, which is not a segment directly in loop %s",
                               e.tag, lname);
            e.tag32 = x12_tag32(e.tag, strlen(e.tag));
            if (add_slot(ps, slots, &nslot, e, &r->target_slot))
                return -1;
        }
    }
    l->rule = rules;
    l->nrule = (uint16_t)nr;
    l->slot = slots;
    l->nslot = (uint8_t)nslot;
    if (nslot > ps->g->max_slot)
        ps->g->max_slot = (uint8_t)nslot;
    /* each segment entry learns which slots it feeds */
    for (size_t k = 0; k < b->child.n; k++) {
        x12_gnode *nd = &VAT(b->child, x12_gnode, k);
        if (!nd->seg)
            continue;
        x12_gseg *sg = (x12_gseg *)nd->seg;
        unsigned nw = 0;
        uint8_t w[255];
        for (unsigned q = 0; q < nslot; q++)
            if (slots[q].tag32 == sg->tag32)
                w[nw++] = (uint8_t)q;
        if (nw) {
            uint8_t *wa = xg_arena_alloc(&ps->a, nw);
            if (!wa)
                return xg_nomem(ps);
            memcpy(wa, w, nw);
            sg->watch = wa;
            sg->nwatch = (uint8_t)nw;
        }
    }
    return 0;
}

/* Freeze a loop's children and rules into the arena. */
int xg_close_loop(parser *ps, bloop *b)
{
    if (xg_close_seg(ps))
        return -1;
    x12_gloop *l = b->l;
    int line = ps->line;
    if (l->id && (b->child.n == 0 || !VAT(b->child, x12_gnode, 0).seg)) {
        ps->line = l->line;
        return xg_fail(ps, "loop %s must begin with a seg line (its trigger segment)", l->id);
    }
    if (check_keys(ps, b))
        return -1;
    size_t n = b->child.n;
    x12_gnode *child = xg_arena_alloc(&ps->a, (n + 1) * sizeof *child);
    if (!child)
        return xg_nomem(ps);
    if (n)
        memcpy(child, b->child.p, n * sizeof *child);
    for (size_t i = 0; i < n; i++)
        if (child[i].seg)
            ((x12_gseg *)child[i].seg)->index = (uint16_t)i;
    l->child = child;
    l->nchild = (uint16_t)n;
    if (l->id) {
        l->trigger = child[0].seg;
        l->is_hl = !strcmp(l->trigger->tag, "HL");
    }
    if (n > ps->g->max_child)
        ps->g->max_child = (uint16_t)n;
    if (build_tagix(ps, l, child, n))
        return -1;
    uint16_t *group = xg_arena_alloc(&ps->a, (n + 1) * sizeof *group);
    if (!group)
        return xg_nomem(ps);
    for (size_t i = 0; i < n; i++)
        group[i] = i && node_seg(&child[i])->tag32 == node_seg(&child[i - 1])->tag32
                       ? group[i - 1] : (uint16_t)i;
    l->group = group;
    uint16_t *req = xg_arena_alloc(&ps->a, (n + 1) * sizeof *req);
    if (!req)
        return xg_nomem(ps);
    uint16_t nreq = 0;
    for (size_t i = 0; i < n; i++)
        if ((child[i].seg ? child[i].seg->usage : child[i].loop->usage) == 'R')
            req[nreq++] = (uint16_t)i;
    l->req = req;
    l->nreq = nreq;
    /* how many required loops / segments come before each child */
    uint16_t *rl = xg_arena_alloc(&ps->a, (n + 1) * sizeof *rl),
             *rs = xg_arena_alloc(&ps->a, (n + 1) * sizeof *rs);
    if (!rl || !rs)
        return xg_nomem(ps);
    for (size_t i = 0; i < n; i++) {
        int r = (child[i].seg ? child[i].seg->usage : child[i].loop->usage) == 'R';
        rl[i + 1] = (uint16_t)(rl[i] + (r && child[i].loop));
        rs[i + 1] = (uint16_t)(rs[i] + (r && child[i].seg));
    }
    l->req_loops_before = rl;
    l->req_segs_before = rs;
    if (resolve_rules(ps, b))
        return -1;
    ps->line = line;
    for (size_t i = 0; i < b->rules.n; i++)
        free(VAT(b->rules, prule, i).text), free(VAT(b->rules, prule, i).codes);
    xg_vec_free(&b->rules);
    xg_vec_free(&b->child);
    return 0;
}

/* The set of all tags, for "is this tag in the guide at all". */
int xg_build_tagset(parser *ps)
{
    unsigned buckets = 8;
    while (buckets < ps->tags.n * 2)
        buckets *= 2;
    uint32_t *set = xg_arena_alloc(&ps->a, buckets * sizeof *set);
    if (!set)
        return xg_nomem(ps);
    for (size_t i = 0; i < ps->tags.n; i++) {
        uint32_t t = VAT(ps->tags, uint32_t, i);
        uint32_t h = (t * 2654435761u) & (buckets - 1);
        while (set[h] && set[h] != t)
            h = (h + 1) & (buckets - 1);
        set[h] = t;
    }
    ps->g->tags = set;
    ps->g->tags_mask = buckets - 1;
    struct x12_gtagkey *tk = xg_arena_alloc(&ps->a, buckets * sizeof *tk);
    if (!tk)
        return xg_nomem(ps);
    for (unsigned i = 0; i < buckets; i++)
        tk[i].ok = 1;
    x12_guide_tagkeys(ps->g, &ps->g->root, tk);
    ps->g->tagkey = tk;
    return 0;
}
