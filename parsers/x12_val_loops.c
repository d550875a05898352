/*
 * x12_val_loops.c - placing each segment in the guide's loop tree.
 *
 * The state is a stack of frames, one per open loop repeat, the root (the
 * transaction set) at the bottom; frame d always holds a loop of depth d.
 * Each frame remembers the child it matched last (idx) and how often each
 * child was used in this repeat.  A segment is placed by the first of:
 *
 *   1. forward: the innermost frame from idx on (a child loop whose trigger
 *      and key match starts a new repeat of it), then each enclosing frame
 *      from its idx on (its idx is the child loop we are in, so matching
 *      that loop's trigger starts its next repeat).  Frames above the one
 *      matched are closed.
 *   2. backward: behind idx in the innermost or an enclosing frame: out of
 *      order.  Counted where it belongs; the position is kept (a child loop
 *      found this way is entered, since its segments follow).
 *   3. by tag alone, forward in the innermost frame: the right segment with
 *      a key value the guide does not allow there (reported on the key).
 *   4. nowhere: unexpected / not in the set / unknown id; position kept.
 *
 * The per-loop tag index of the guide makes each probe a hash lookup and a
 * walk over the few children with that tag.
 */
#include <stdio.h>
#include <string.h>

#include "x12_val_internal.h"

#define TAG(a, b, c) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16)

typedef struct place {
    int depth;        /* frame the match is in */
    int k;            /* child index */
    int how;          /* 1 forward, 2 backward, 3 key mismatch */
} place;

static const x12_gseg *node_entry(const x12_gnode *n) { return n->seg ? n->seg : n->loop->trigger; }

/* x12_gloop_candidates, inlined into the hot path, as candidate records. */
static inline const x12_gcand *candidates(const x12_gloop *l, uint32_t tag32, unsigned *n)
{
    uint32_t h = (tag32 * 2654435761u) & l->tagix_mask;
    for (;;) {
        const x12_gtagix *e = &l->tagix[h];
        if (e->tag32 == tag32) {
            *n = e->n;
            return l->tagix_cand + e->first;
        }
        if (!e->tag32) {
            *n = 0;
            return NULL;
        }
        h = (h + 1) & l->tagix_mask;
    }
}

static int cand_key_ok(const x12_gcand *c, const x12_segment *seg)
{
    if (!c->key_el)
        return 1;
    x12_str v = c->key_comp ? x12_comp(seg, c->key_el, c->key_comp) : x12_elem(seg, c->key_el);
    return x12_gcodes_has(&c->key, v.p, v.len);
}

/* First child of l at index in [from, to) with this tag (and key, unless
 * keyless); -1 when none. */
static int probe(const x12_gloop *l, uint32_t tag, const x12_segment *seg, int from, int to,
                 int keyless)
{
    unsigned n;
    const x12_gcand *c = candidates(l, tag, &n);
    for (unsigned i = 0; i < n; i++) {
        int k = c[i].k;
        if (k < from)
            continue;
        if (k >= to)
            break;
        if (keyless || cand_key_ok(&c[i], seg))
            return k;
    }
    return -1;
}

/* Where the forward search of frame d starts: the run of same-tag entries
 * the last match is in (they may come in any order).  In an enclosing frame
 * that run holds the child loop we are in, whose trigger starts its next
 * repeat.  In the innermost frame the loop's own trigger (child 0) is
 * skipped: a new repeat of this loop is found by the enclosing frame. */
static int forward_from(const xv *v, int d)
{
    const xv_frame *f = &v->frames[d];
    return d == v->top && f->gfrom == 0 && f->loop->id ? 1 : f->gfrom;
}

static int find(const xv *v, uint32_t tag, const x12_segment *seg, place *p)
{
    for (int d = v->top; d >= 0; d--) {
        int k = probe(v->frames[d].loop, tag, seg, forward_from(v, d), 1 << 30, 0);
        if (k >= 0) {
            *p = (place){d, k, 1};
            return 1;
        }
    }
    for (int d = v->top; d >= 0; d--) {
        int k = probe(v->frames[d].loop, tag, seg, 0, forward_from(v, d), 0);
        if (k >= 0) {
            *p = (place){d, k, 2};
            return 1;
        }
    }
    int k = probe(v->frames[v->top].loop, tag, seg, forward_from(v, v->top), 1 << 30, 1);
    if (k >= 0) {
        *p = (place){v->top, k, 3};
        return 1;
    }
    return 0;
}

/* ---- frames -------------------------------------------------------------- */

static xv_frame *push(xv *v, const x12_gloop *l)
{
    int d = ++v->top;
    xv_frame *f = &v->frames[d];
    f->loop = l;
    f->idx = -1;
    f->gfrom = 0;
    f->count = v->counts + (size_t)d * v->cap_child;
    f->slot = v->slots + (size_t)d * v->cap_slot;
    memset(f->count, 0, l->nchild * sizeof *f->count);
    /* a slot is read only once seen (x12_val_rules.c): a new mark makes
     * every slot of the frame unseen at once */
    f->gen = ++v->slot_gen;
    if (!f->gen) {
        /* wrapped: renumber the open frames 1..d, keeping what their slots
         * saw, so that no old mark can come back */
        for (int e = 0; e < d; e++) {
            xv_frame *o = &v->frames[e];
            for (size_t i = 0; i < v->cap_slot; i++)
                o->slot[i].gen = o->slot[i].gen == o->gen ? (uint32_t)e + 1 : 0;
            o->gen = (uint32_t)e + 1;
        }
        for (size_t i = (size_t)d * v->cap_slot; i < v->cap_depth * v->cap_slot; i++)
            v->slots[i].gen = 0;
        f->gen = v->slot_gen = (uint32_t)d + 1;
    }
    f->start = xv_pos_of(v->cur);
    f->hl01[0] = '\0';
    f->hl04 = '\0';
    f->done = 0;
    f->rdone = 0;
    f->odd = 0;
    return f;
}

static const char *loop_label(const x12_gloop *l) { return l->id ? l->id : "header"; }

static void missing_loop(xv *v, const xv_frame *f, const x12_gloop *child)
{
    const x12_gloop *l = f->loop;
    x12_diag d;
    xv_diag(v, &d, NULL, X12_SEV_ERROR, 2, "loop.missing", child->trigger->tag, l);
    snprintf(d.ik3, sizeof d.ik3, "I7");
    x12_diag_msg(&d, "required loop %s (%s) is missing from %s%s (which began at segment %llu)",
                 child->id, child->name, l->id ? "loop " : "the ", loop_label(l),
                 (unsigned long long)f->start.seg_no);
    char keys[96] = "";
    if (child->trigger->key_el)
        x12_gcodes_str(&child->trigger->key, keys, sizeof keys);
    x12_diag_expected(&d, "a %s%s%s starting loop %s", child->trigger->tag, keys[0] ? " with " : "",
                      keys, child->id);
    xv_emit(v, &d);
}

static void missing_segment(xv *v, const xv_frame *f, const x12_gseg *s)
{
    const x12_gloop *l = f->loop;
    if (!l->id && s->tag32 == x12_tag32("SE", 2))
        return; /* a missing trailer is the envelope checker's to report */
    x12_diag d;
    xv_diag(v, &d, NULL, X12_SEV_ERROR, 2, "segment.missing", s->tag, l);
    snprintf(d.ik3, sizeof d.ik3, "3");
    x12_diag_msg(&d, "required segment %s (%s) is missing from %s%s (which began at segment %llu)",
                 s->tag, s->name, l->id ? "loop " : "the ", loop_label(l),
                 (unsigned long long)f->start.seg_no);
    x12_diag_expected(&d, "%s before this point", s->tag);
    xv_emit(v, &d);
}

/* The first child of the run the frame is at (0 before any match). */
static int current_group(const xv_frame *f) { return f->gfrom; }

/*
 * The frame moves on to child k.  Required child loops it leaves behind
 * unused are missing, reported now: a loop may enclose much more than its
 * own children (2000A holds the whole 2000B tree), and waiting for its end
 * would report a missing 2010AA thousands of segments later.  Required
 * segments are reported when a child loop starts after them (CLM, no HI,
 * LX: at the LX), or else when the repeat ends, so that two swapped
 * segments are one error (out of order), not two.
 */
static void advance(xv *v, xv_frame *f, int k)
{
    const x12_gloop *l = f->loop;
    int from = current_group(f), to = l->group[k];
    int to_loop = l->child[k].loop != NULL;
    /* nothing to look at: no required loop from `from` on, no required
     * segment from done on (when a loop starts), before `to` */
    int any = to > from && l->req_loops_before[to] != l->req_loops_before[from];
    if (to_loop && to > f->done)
        any |= l->req_segs_before[to] != l->req_segs_before[f->done];
    /* required children below done are settled: a segment there was
     * reported, a loop is behind from (done <= from) */
    for (unsigned r = f->rdone; any && r < l->nreq; r++) {
        int c = l->req[r];
        if (c >= to)
            break;
        if (f->count[c])
            continue;
        if (l->child[c].loop && c >= from)
            missing_loop(v, f, l->child[c].loop);
        else if (l->child[c].seg && to_loop && c >= f->done)
            missing_segment(v, f, l->child[c].seg);
    }
    if (to_loop && to > f->done) {
        f->done = to;
        while (f->rdone < l->nreq && l->req[f->rdone] < to)
            f->rdone++;
    }
    f->idx = k;
    f->gfrom = to;
}

/* Close the innermost frame: what its repeat lacked, its rules, HL, sums. */
static void pop(xv *v)
{
    xv_frame *f = &v->frames[v->top];
    const x12_gloop *l = f->loop;
    int from = current_group(f), nc = l->nchild;
    int any = l->req_loops_before[nc] != l->req_loops_before[from] ||
              l->req_segs_before[nc] != l->req_segs_before[f->done];
    for (unsigned r = f->rdone; any && r < l->nreq; r++) {
        int k = l->req[r];
        if (f->count[k])
            continue;
        const x12_gnode *n = &l->child[k];
        if (n->seg && k >= f->done)
            missing_segment(v, f, n->seg);
        else if (n->loop && k >= from)
            missing_loop(v, f, n->loop); /* the ones behind were reported on the way */
    }
    if (l->nrule)
        xv_rules_end(v, f);
    if (l->is_hl)
        xv_hl_end(v, f);
    if (v->g->balance)
        xv_balance_loop_end(v, l);
    v->nodd -= f->odd;
    v->top--;
}

/* ---- the segment --------------------------------------------------------- */

static int in_list(uint32_t tag, const char *list)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, " ");
        if (x12_tag32(p, n) == tag)
            return 1;
        p += n;
        while (*p == ' ')
            p++;
    }
    return 0;
}

/* Segment ids of the X12 dictionary that the HIPAA sets use (enough to tell
 * "not in this transaction set" from "not a segment id at all"). */
static const char x12_segment_ids[] =
    "AAA ACT ADX AK1 AK2 AK3 AK4 AK5 AK9 AMT AT1 AT2 AT3 AT4 AT5 AT6 AT7 AT8 AT9 BAK BDS BEG BGN "
    "BHT BIG BIN BPR BPT CAS CL1 CLM CLP CN1 COB CR1 CR2 CR3 CR4 CR5 CR6 CR7 CR8 CRC CTP CTX CUR "
    "DMG DN1 DN2 DSB DTM DTP EB EC ENT EQ FRM G61 G62 GE GS HAD HCP HCR HD HI HL HLH HSD ICM IDC "
    "IEA II III IK3 IK4 IK5 IMM INS INV IRA ISA ISB ISE IT1 K1 K2 K3 LE LIN LQ LS LUI LX MEA MIA "
    "MOA MPI MSG N1 N2 N3 N4 NM1 NTE NX1 NX2 OI PAT PER PLA PLB PO1 PRV PS1 PWK QTY RDM REF RMR "
    "SBR SE SLN ST STC SV1 SV2 SV3 SV4 SV5 SV6 SV7 SVC SVD TA1 TOO TRN TS2 TS3 UM UR";

static void not_placed(xv *v, uint32_t tag, const x12_segment *seg)
{
    const xv_frame *f = &v->frames[v->top];
    x12_diag d;
    char t[4];
    x12_copy(seg->tag, t, sizeof t);
    if (x12_guide_has_tag(v->g, tag)) {
        xv_diag(v, &d, NULL, X12_SEV_ERROR, 2, "segment.unexpected", t, f->loop);
        snprintf(d.ik3, sizeof d.ik3, "2");
        x12_str e1 = x12_elem(seg, 1);
        x12_diag_found(&d, e1.p, e1.len);
        x12_diag_msg(&d, "segment %s (first element shown) does not fit here: in %s%s no %s with this "
                         "qualifier follows, nor in the loops around it",
                     t, f->loop->id ? "loop " : "the ", loop_label(f->loop), t);
        x12_diag_expected(&d, "a segment the guide allows after %s%s", f->idx >= 0 ? "" : "the start",
                          f->idx >= 0 ? node_entry(&f->loop->child[f->idx])->tag : "");
    } else if (in_list(tag, x12_segment_ids)) {
        xv_diag(v, &d, NULL, X12_SEV_ERROR, 2, "segment.not_in_set", t, f->loop);
        snprintf(d.ik3, sizeof d.ik3, "6");
        x12_diag_msg(&d, "segment %s is not used in the %s transaction set (%s)", t, v->g->st01,
                     v->g->version);
    } else {
        xv_diag(v, &d, NULL, X12_SEV_ERROR, 2, "segment.unknown", t, f->loop);
        snprintf(d.ik3, sizeof d.ik3, "1");
        x12_diag_msg(&d, "%s is not a recognized segment id", t);
    }
    xv_emit(v, &d);
}

/* The key element of s did not match: say what would have. */
static void key_mismatch(xv *v, const x12_gseg *s, const x12_segment *seg, const xv_frame *f, int from)
{
    x12_diag d;
    xv_diag(v, &d, NULL, X12_SEV_ERROR, 2, "element.code", s->tag, s->loop);
    snprintf(d.ik3, sizeof d.ik3, "8");
    snprintf(d.ik4, sizeof d.ik4, "7");
    d.elem = s->key_el;
    d.comp = s->key_comp;
    x12_str kv = s->key_comp ? x12_comp(seg, s->key_el, s->key_comp) : x12_elem(seg, s->key_el);
    x12_diag_found(&d, kv.p, kv.len);
    /* every key code a same-tag entry ahead would accept */
    char buf[160] = "";
    size_t o = 0;
    unsigned n;
    const uint16_t *c = x12_gloop_candidates(f->loop, s->tag32, &n);
    for (unsigned i = 0; i < n && o < sizeof buf - 8; i++) {
        if (c[i] < from)
            continue;
        const x12_gseg *e = node_entry(&f->loop->child[c[i]]);
        for (uint32_t j = 0; j < e->key.n && o < sizeof buf - 8; j++)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", o ? ", " : "", e->key.v[j].s);
    }
    char ref[12];
    if (s->key_comp)
        snprintf(ref, sizeof ref, "%s%02u-%u", s->tag, s->key_el, s->key_comp);
    else
        snprintf(ref, sizeof ref, "%s%02u", s->tag, s->key_el);
    x12_diag_msg(&d, "%s is not a qualifier the guide allows for a %s at this point%s%s", ref, s->tag,
                 f->loop->id ? " of loop " : " of the ", f->loop->id ? f->loop->id : "header");
    x12_diag_expected(&d, "%s", buf);
    xv_emit(v, &d);
}

static void over_max(xv *v, const x12_gseg *s, const x12_gloop *child, uint32_t count, uint32_t max)
{
    x12_diag d;
    if (child) {
        xv_diag(v, &d, NULL, X12_SEV_ERROR, 2, "loop.max_use", child->trigger->tag, child);
        snprintf(d.ik3, sizeof d.ik3, "4");
        x12_diag_msg(&d, "loop %s (%s) repeats %u times here", child->id, child->name, count);
        x12_diag_expected(&d, "at most %u", max);
    } else {
        xv_diag(v, &d, NULL, X12_SEV_ERROR, 2, "segment.max_use", s->tag, s->loop);
        snprintf(d.ik3, sizeof d.ik3, "5");
        x12_diag_msg(&d, "segment %s (%s) is used %u times here", s->tag, s->name, count);
        x12_diag_expected(&d, "at most %u", max);
    }
    xv_emit(v, &d);
}

static void not_used(xv *v, const x12_gseg *s, const x12_gloop *child)
{
    x12_diag d;
    xv_diag(v, &d, NULL, X12_SEV_ERROR, 2, child ? "loop.not_used" : "segment.not_used", s->tag,
            child ? child : s->loop);
    snprintf(d.ik3, sizeof d.ik3, "I4");
    if (child)
        x12_diag_msg(&d, "loop %s (%s) is marked not used in this guide", child->id, child->name);
    else
        x12_diag_msg(&d, "segment %s (%s) is marked not used in this guide", s->tag, s->name);
    xv_emit(v, &d);
}

static void out_of_order(xv *v, const x12_gseg *s, const xv_frame *f)
{
    x12_diag d;
    xv_diag(v, &d, NULL, X12_SEV_ERROR, 2, "segment.order", s->tag, s->loop);
    snprintf(d.ik3, sizeof d.ik3, "7");
    const x12_gseg *after = f->idx >= 0 ? node_entry(&f->loop->child[f->idx]) : NULL;
    x12_diag_msg(&d, "segment %s (%s) is out of order: it comes after %s%s%s", s->tag, s->name,
                 after ? after->tag : "the start of ", after ? " in " : "",
                 f->loop->id ? f->loop->id : "the header");
    x12_diag_expected(&d, "%s before %s", s->tag, after ? after->tag : "that");
    xv_emit(v, &d);
}

void xv_loops_begin(xv *v)
{
    v->top = -1;
    v->nodd = 0;
    push(v, &v->g->root);
}

void xv_loops_end(xv *v, const x12_pos *pos)
{
    if (pos)
        v->cur = pos;
    while (v->top >= 0)
        pop(v);
}

/* Whether the n (2 or 3) bytes of tag32 are a segment id: a letter, then
 * letters or digits. */
static inline int tag_ok(uint32_t tag, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned ch = (tag >> (8 * i)) & 0xff;
        if (!((ch >= 'A' && ch <= 'Z') || (i && ch >= '0' && ch <= '9')))
            return 0;
    }
    return 1;
}

/* The segments balancing (x12_val_balance.c) adds up or opens sums on;
 * it ignores every other one. */
static inline int balance_tag(uint32_t t)
{
    /* most segments are told by their first letter: not B, C, P or S */
    if (!((1u << (t & 31)) & (1u << ('B' & 31) | 1u << ('C' & 31) | 1u << ('P' & 31) | 1u << ('S' & 31))))
        return 0;
    switch (t) {
    case TAG('C', 'L', 'M'): case TAG('S', 'V', '1'): case TAG('S', 'V', '2'): case TAG('S', 'V', '3'):
    case TAG('B', 'P', 'R'): case TAG('C', 'L', 'P'): case TAG('S', 'V', 'C'): case TAG('C', 'A', 'S'):
    case TAG('P', 'L', 'B'):
        return 1;
    default:
        return 0;
    }
}

static inline int memo_is(const xv_memo *m, const xv_frame *f, uint32_t tag, uint64_t key)
{
    return m->loop == f->loop && m->tag == tag && m->key == key && m->from == f->gfrom;
}

/* The memo slot for a segment with this tag at the current position, its
 * key value in *key, *hit set when the slot holds this place (*hit is left
 * alone otherwise); NULL when placements cannot be remembered here (a frame
 * entered out of order, a tag whose entries key on different elements, a
 * key value longer than 7 bytes, no memory). */
static xv_memo *memo_slot(xv *v, uint32_t tag, const x12_segment *seg, uint64_t *key, int *hit)
{
    const x12_guide *g = v->g;
    if (v->nodd || v->memo_g != g || v->full)
        return NULL;
    xv *w = v;
    unsigned t = (tag * 2654435761u) >> 26;
    if (w->tagkey[t].tag != tag) {
        uint32_t h = (tag * 2654435761u) & g->tags_mask;
        while (g->tags[h] != tag) {
            if (!g->tags[h])
                return NULL;
            h = (h + 1) & g->tags_mask;
        }
        w->tagkey[t].tag = tag;
        w->tagkey[t].el = g->tagkey[h].el;
        w->tagkey[t].comp = g->tagkey[h].comp;
        w->tagkey[t].ok = g->tagkey[h].ok;
    }
    const __typeof__(w->tagkey[0]) *tk = &w->tagkey[t];
    if (!tk->ok)
        return NULL;
    uint64_t kv = 0;
    if (tk->el) {
        x12_str s = xv_value(v, seg, tk->el, tk->comp);
        if (s.len > 7)
            return NULL;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (seg->padded && s.len) {
            /* the value is in raw (or its copy, xv_seg.buf): 8-byte loads stay
             * readable (see x12_segment.padded); an empty one may be a
             * literal "" instead */
            memcpy(&kv, s.p, 8);
            kv = (kv & (((uint64_t)1 << (8 * s.len)) - 1)) | (uint64_t)s.len << 56;
        } else
#endif
        {
            kv = (uint64_t)s.len << 56;
            for (size_t b = 0; b < s.len; b++)
                kv |= (uint64_t)(unsigned char)s.p[b] << (8 * b);
        }
    }
    *key = kv;
    const xv_frame *f = &v->frames[v->top];
    /* the top bits of a product depend on every bit of its factors */
    uint64_t x = ((uint64_t)(uintptr_t)f->loop ^ (uint64_t)f->gfrom << 40 ^ (uint64_t)tag << 8) *
                     0x9E3779B97F4A7C15u +
                 kv * 0xD6E8FEB86659FD93u;
    _Static_assert(XV_MEMO == 256, "the index below takes 7 bits: 128 pairs");
    /* two ways: the first that holds this place, else the one to replace */
    xv_memo *m = &v->memo[(x >> 57) * 2];
    if (memo_is(&m[1], f, tag, kv)) {
        *hit = 1;
        return &m[1];
    }
    *hit = memo_is(m, f, tag, kv);
    if (!*hit)
        m[1] = m[0]; /* the newer entry goes first, the older stays */
    return m;
}

void xv_loops_segment(xv *v, const x12_segment *seg)
{
    uint32_t tag = x12_tag32(seg->tag.p, seg->tag.len);
    if (!tag || v->top < 0)
        return; /* a malformed tag (the tokenizer has reported it), or after the
                 * root closed (a stray segment after SE is the envelope's) */
    xv_classify(v, seg);
    place p;
    uint64_t key = 0;
    int hit = 0;
    xv_memo *m = memo_slot(v, tag, seg, &key, &hit);
    if (hit) {
        p = (place){v->top - m->up, m->k, 1}; /* a tag of the guide: well formed */
    } else {
        if (!tag_ok(tag, seg->tag.len))
            return; /* a malformed tag: the tokenizer has reported it */
        if (!find(v, tag, seg, &p)) {
            not_placed(v, tag, seg);
            return;
        }
        if (m && p.how == 1)
            *m = (xv_memo){v->frames[v->top].loop, key, tag, (uint16_t)v->frames[v->top].gfrom,
                           (uint16_t)p.k, (uint16_t)(v->top - p.depth)};
    }
    int keybad = p.how == 3;
    xv_frame *f;
    const x12_gseg *s;
    const x12_gnode *n = &v->frames[p.depth].loop->child[p.k];
    if (p.how == 2 && n->seg) {
        /* out of order: counted where it belongs, nothing closes or moves */
        f = &v->frames[p.depth];
        s = n->seg;
        out_of_order(v, s, &v->frames[v->top]);
        uint32_t c = ++f->count[p.k];
        if (s->max && c > s->max)
            over_max(v, s, NULL, c, s->max);
    } else {
        int from = keybad ? forward_from(v, v->top) : 0;
        while (v->top > p.depth)
            pop(v);
        f = &v->frames[p.depth];
        if (keybad)
            key_mismatch(v, node_entry(n), seg, f, from);
        if (p.how == 2)
            out_of_order(v, n->loop->trigger, f); /* a loop behind: entered, position kept */
        else
            advance(v, f, p.k);
        uint32_t c = ++f->count[p.k];
        if (n->loop) {
            const x12_gloop *l = n->loop;
            if (l->max && c > l->max)
                over_max(v, NULL, l, c, l->max);
            if (l->usage == 'N')
                not_used(v, l->trigger, l);
            f = push(v, l);
            if (p.how == 2) {
                f->odd = 1; /* the frame below stays where it was */
                v->nodd++;
            }
            f->idx = 0; /* gfrom stays 0: the trigger's run */
            f->count[0] = 1;
            s = l->trigger;
            if (l->is_hl)
                xv_hl_start(v, f, seg);
        } else {
            s = n->seg;
            if (s->max && c > s->max && !keybad) /* a wrong key: reported already */
                over_max(v, s, NULL, c, s->max);
        }
    }
    if (s->usage == 'N' && s != f->loop->trigger) {
        not_used(v, s, NULL);
        return;
    }
    if (s->nwatch)
        xv_rules_segment(v, f, s, seg);
    if (v->g->balance && balance_tag(s->tag32))
        xv_balance_segment(v, s, seg);
    xv_elements(v, s, seg, keybad);
}
