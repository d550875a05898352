/*
 * x12_val_balance.c - balancing (level 3), in integer cents.
 *
 *   balance 837   CLM02 = sum of the claim's line charges (SV102, SV203, SV302)
 *   balance 835   BPR02 = sum of CLP04 - sum of PLB adjustment amounts;
 *                 CLP03 - CLP04 = the claim's CAS amounts + its lines' CAS;
 *                 SVC02 - SVC03 = the line's CAS amounts
 *
 * Loops are recognised by their trigger segment (CLM, CLP, SVC), not by
 * their ids, so the same code serves any guide that uses these segments.
 * A running sum is kept per open claim and line; an amount that does not
 * parse (already reported as a bad number) makes its sums unusable and the
 * comparison is skipped rather than reported twice.  No floating point.
 */
#include <stdio.h>
#include <string.h>

#include "x12_val_internal.h"
#include "x12_writer.h"

#define T2(a, b) ((uint32_t)(a) | (uint32_t)(b) << 8)
#define T3(a, b, c) (T2(a, b) | (uint32_t)(c) << 16)

/* Add element el to *sum; 0 when it is there and does not parse.  An empty
 * element adds nothing. */
static int add(const x12_segment *seg, unsigned el, int64_t *sum)
{
    x12_str s = x12_elem(seg, el);
    int64_t c;
    if (!s.len)
        return 1;
    if (!xv_cents(s.p, s.len, &c) && x12_parse_cents(s.p, s.len, &c) != CH_OK)
        return 0;
    *sum += c;
    return 1;
}

static int amount(const x12_segment *seg, unsigned el, int64_t *out)
{
    *out = 0;
    return x12_elem(seg, el).len > 0 && add(seg, el, out);
}

static uint32_t trigger(const x12_gloop *l) { return l && l->trigger ? l->trigger->tag32 : 0; }

void xv_balance_begin(xv *v) { memset(&v->bal, 0, sizeof v->bal); }

static void seg_837(xv *v, const x12_gseg *s, uint32_t tag, const x12_segment *seg)
{
    xv_balance *b = &v->bal;
    if (tag == T3('C', 'L', 'M')) {
        b->claim_open = 1;
        b->claim_loop = s->loop;
        b->claim_bad = !amount(seg, 2, &b->claim_total);
        b->lines_total = 0;
        b->claim_pos = xv_pos_of(v->cur);
        return;
    }
    if (!b->claim_open)
        return;
    if (tag == T3('S', 'V', '1'))
        b->claim_bad |= !add(seg, 2, &b->lines_total);
    else if (tag == T3('S', 'V', '2'))
        b->claim_bad |= !add(seg, 3, &b->lines_total);
    else if (tag == T3('S', 'V', '3'))
        b->claim_bad |= !add(seg, 2, &b->lines_total);
}

static void seg_835(xv *v, const x12_gseg *s, uint32_t tag, const x12_segment *seg)
{
    xv_balance *b = &v->bal;
    if (tag == T3('B', 'P', 'R')) {
        b->bpr_seen = 1;
        b->bpr_bad = !amount(seg, 2, &b->bpr_total);
        b->bpr_pos = xv_pos_of(v->cur);
    } else if (tag == T3('C', 'L', 'P')) {
        b->clp_open = 1;
        b->clp_bad = !amount(seg, 3, &b->clp_charge);
        int paid_ok = amount(seg, 4, &b->clp_paid); /* 0 when empty or bad; clp_paid then 0 */
        b->clp_bad |= !paid_ok;
        b->clp_adj = 0;
        b->clp_pos = xv_pos_of(v->cur);
        b->clp_loop = s->loop;
        /* CLP04 into the set's total, read once: empty adds nothing, bad
         * makes the total unusable */
        if (!paid_ok && x12_elem(seg, 4).len)
            b->tx_bad = 1;
        b->paid_total += b->clp_paid;
    } else if (tag == T3('S', 'V', 'C')) {
        b->svc_open = 1;
        b->svc_bad = !amount(seg, 2, &b->svc_charge);
        b->svc_bad |= !amount(seg, 3, &b->svc_paid);
        b->svc_adj = 0;
        b->svc_pos = xv_pos_of(v->cur);
        b->svc_loop = s->loop;
    } else if (tag == T3('C', 'A', 'S')) {
        int64_t sum = 0;
        int ok = 1;
        for (unsigned el = 3; el <= 18 && el <= seg->nelem; el += 3) /* past nelem: empty */
            ok &= add(seg, el, &sum);
        uint32_t in = trigger(s->loop);
        if (in == T3('S', 'V', 'C') && b->svc_open) {
            b->svc_adj += sum;
            b->svc_bad |= !ok;
        }
        if ((in == T3('S', 'V', 'C') || in == T3('C', 'L', 'P')) && b->clp_open) {
            b->clp_adj += sum;
            b->clp_bad |= !ok;
        }
    } else if (tag == T3('P', 'L', 'B')) {
        for (unsigned el = 4; el <= 14 && el <= seg->nelem; el += 2) /* past nelem: empty */
            if (!add(seg, el, &b->plb_total))
                b->tx_bad = 1;
    }
}

void xv_balance_segment(xv *v, const x12_gseg *s, const x12_segment *seg)
{
    if (v->g->balance == X12_BALANCE_837)
        seg_837(v, s, s->tag32, seg);
    else
        seg_835(v, s, s->tag32, seg);
}

static void report(xv *v, const xv_pos *pos, const x12_gloop *loop, const char *code,
                   const char *tag, int elem, int64_t found, int64_t expected, const char *msg)
{
    x12_diag d;
    char f[32], e[32];
    x12_pos at;
    xv_diag(v, &d, xv_pos_full(v, pos, &at), X12_SEV_ERROR, 3, code, tag, loop);
    d.elem = elem;
    x12_cents_str(found, f);
    x12_cents_str(expected, e);
    x12_diag_found(&d, f, strlen(f));
    snprintf(d.expected, sizeof d.expected, "%s", e);
    snprintf(d.msg, sizeof d.msg, "%s", msg);
    xv_emit(v, &d);
}

void xv_balance_loop_end(xv *v, const x12_gloop *l)
{
    xv_balance *b = &v->bal;
    uint32_t t = trigger(l);
    char msg[256], x[32], y[32], z[32];
    if (v->g->balance == X12_BALANCE_837) {
        if (t == T3('C', 'L', 'M') && b->claim_open) {
            if (!b->claim_bad && b->claim_total != b->lines_total) {
                snprintf(msg, sizeof msg,
                         "total claim charge CLM02 does not equal the sum of the claim's service line "
                         "charges (%s)", x12_cents_str(b->lines_total, x));
                report(v, &b->claim_pos, b->claim_loop, "balance.claim", "CLM", 2, b->claim_total, b->lines_total, msg);
            }
            b->claim_open = 0;
        }
        return;
    }
    if (t == T3('S', 'V', 'C') && b->svc_open) {
        if (!b->svc_bad && b->svc_charge - b->svc_paid != b->svc_adj) {
            snprintf(msg, sizeof msg,
                     "line charge SVC02 minus payment SVC03 (%s) does not equal the line's "
                     "adjustments CAS (%s)", x12_cents_str(b->svc_charge - b->svc_paid, x),
                     x12_cents_str(b->svc_adj, y));
            report(v, &b->svc_pos, b->svc_loop, "balance.line", "SVC", 2, b->svc_charge - b->svc_paid, b->svc_adj, msg);
        }
        b->svc_open = 0;
    } else if (t == T3('C', 'L', 'P') && b->clp_open) {
        if (!b->clp_bad && b->clp_charge - b->clp_paid != b->clp_adj) {
            snprintf(msg, sizeof msg,
                     "claim charge CLP03 minus payment CLP04 (%s) does not equal the claim's and its "
                     "lines' adjustments CAS (%s)", x12_cents_str(b->clp_charge - b->clp_paid, x),
                     x12_cents_str(b->clp_adj, y));
            report(v, &b->clp_pos, b->clp_loop, "balance.claim", "CLP", 3, b->clp_charge - b->clp_paid, b->clp_adj, msg);
        }
        b->clp_open = 0;
    } else if (!l->id && b->bpr_seen && !b->bpr_bad && !b->tx_bad) {
        int64_t want = b->paid_total - b->plb_total;
        if (b->bpr_total != want) {
            snprintf(msg, sizeof msg,
                     "total payment BPR02 does not equal the claim payments CLP04 (%s) minus the "
                     "provider adjustments PLB (%s) = %s", x12_cents_str(b->paid_total, x),
                     x12_cents_str(b->plb_total, y), x12_cents_str(want, z));
            report(v, &b->bpr_pos, NULL, "balance.payment", "BPR", 2, b->bpr_total, want, msg);
        }
    }
}
