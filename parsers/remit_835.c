/*
 * remit_835.c - the streaming 835 reader's state machine (see remit_835.h;
 * its files are listed in remit_835_int.h).
 *
 * A small state machine follows the loops of the 835 by segment tag alone
 * (header, 1000A payer, 1000B payee, 2000 LX, 2100 claim, 2110 line, PLB
 * trailer): each segment either fills the payment header, the open claim or
 * its current line.  A claim is finished (checked, delivered, forgotten) at
 * the next CLP, LX, PLB, SE or end of input, which is what keeps memory to
 * one claim whatever the file size.
 *
 * This file holds what runs for every segment of a claim: the dispatch, the
 * claim (2100) and line (2110) segments, the element and pool helpers they
 * call, and the claim's balancing; and PLB, which uses split_composite and
 * is_code as SVC and CAS do.  They stay in one unit so that the compiler
 * inlines and specializes the small ones for their callers as before; the
 * transaction set's own segments (once per payment) are in
 * remit_835_payment.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch_str.h"
#include "remit_835_elem.h"
#include "remit_835_int.h"
#include "x12_writer.h"

/* --- element helpers ---------------------------------------------------------- */

static int is_code(x12_str v, size_t minlen, size_t maxlen)
{
    if (v.len < minlen || v.len > maxlen)
        return 0;
    for (size_t i = 0; i < v.len; i++)
        if (!isalnum((unsigned char)v.p[i]))
            return 0;
    return 1;
}

/*
 * Split a composite element into components.  Some senders write composites
 * with another separator than ISA16 declares (TR3 examples copied with '>'
 * under ':'); when the declared one is absent and the element starts with a
 * short code followed by a punctuation byte, that byte is taken as the
 * separator and the mismatch reported once per transaction set.
 */
static unsigned split_composite(remit_835 *r, const x12_segment *s, int elem, x12_str *out,
                                unsigned max)
{
    x12_str e = x12_rep(s, (unsigned)elem, 1);
    char sep = s->delims->component;
    if (e.len && !memchr(e.p, sep, e.len)) {
        size_t k = 0;
        while (k < e.len && isalnum((unsigned char)e.p[k]))
            k++;
        char c = k < e.len ? e.p[k] : 0;
        if (k >= 1 && k <= 3 && k + 1 < e.len && ispunct((unsigned char)c) && c != '-' &&
            c != '.' && c != '_' && c != '/' && c != '#') {
            if (!r->sep_warned) {
                char m[160], t[4];
                snprintf(m, sizeof m,
                         "composite written with '%c' but ISA16 declares '%c'; read with '%c'", c,
                         sep, c);
                r835_diag(r, &s->pos, r835_tag(s, t), X12_SEV_WARNING, 1, "835.composite.separator",
                          elem, 0, NULL, "%s", m);
                r->sep_warned = 1;
            }
            sep = c;
        }
    }
    unsigned n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= e.len && n < max; i++) {
        if (i == e.len || e.p[i] == sep) {
            out[n].p = e.p + start;
            out[n].len = i - start;
            n++;
            start = i + 1;
        }
    }
    for (unsigned i = n; i < max; i++)
        out[i] = (x12_str){"", 0};
    return e.len ? n : 0;
}

/* --- pools -------------------------------------------------------------------- */

static int grow(void **p, unsigned *cap, size_t elsize, unsigned need, unsigned limit)
{
    if (need <= *cap)
        return 1;
    if (need > limit)
        return 0;
    unsigned nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    if (nc > limit)
        nc = limit;
    void *np = realloc(*p, nc * elsize);
    if (!np)
        return 0;
    *p = np;
    *cap = nc;
    return 1;
}

static remit_adj *adj_new(remit_835 *r, const x12_segment *s)
{
    if (!grow((void **)&r->adj, &r->cap_adj, sizeof *r->adj, r->nadj + 1, REMIT_MAX_ADJ)) {
        if (!r->claim.truncated)
            r835_diag(r, &s->pos, "CAS", X12_SEV_ERROR, 2, "835.limit.adjustments", 0, 0, NULL,
                      "more than %d adjustments in one claim; the rest are dropped", REMIT_MAX_ADJ);
        r->claim.truncated = 1;
        return NULL;
    }
    return &r->adj[r->nadj++];
}

static remit_remark *remark_new(remit_835 *r, const x12_segment *s)
{
    if (!grow((void **)&r->rem, &r->cap_rem, sizeof *r->rem, r->nrem + 1, REMIT_MAX_REMARKS)) {
        if (!r->claim.truncated) {
            char t[4];
            r835_diag(r, &s->pos, r835_tag(s, t), X12_SEV_ERROR, 2, "835.limit.remarks", 0, 0, NULL,
                      "more than %d remark codes in one claim; the rest are dropped",
                      REMIT_MAX_REMARKS);
        }
        r->claim.truncated = 1;
        return NULL;
    }
    return &r->rem[r->nrem++];
}

/* --- claim -------------------------------------------------------------------- */

/* Called at every CLP: the header goes out before the first claim. */
void r835_send_payment(remit_835 *r)
{
    if (r->payment_sent)
        return;
    r->payment_sent = 1;
    r->st.payments++;
    if (r->ev.payment)
        r->ev.payment(r->ev.ctx, &r->pay);
}

static void line_finalize(remit_835 *r, unsigned i, unsigned adj_end, unsigned rem_end)
{
    remit_line *l = &r->lines[i];
    unsigned a0 = r->line_adj0[i], m0 = r->line_rem0[i];
    /* the pools may not exist yet: no pointer arithmetic on NULL */
    l->nadj = adj_end - a0;
    l->adj = l->nadj ? r->adj + a0 : NULL;
    l->nremarks = rem_end - m0;
    l->remarks = l->nremarks ? r->rem + m0 : NULL;
    l->adj_total = remit_adj_sum(l->adj, l->nadj, NULL);
    l->pr_total = remit_adj_sum(l->adj, l->nadj, "PR");
    l->balanced = l->charge - l->paid == l->adj_total;
}

void r835_finish_claim(remit_835 *r)
{
    if (!r->claim_open)
        return;
    remit_claim *c = &r->claim;
    remit_payment *p = &r->pay;
    c->adj = r->adj;
    c->nadj = r->claim_nadj;
    c->remarks = r->rem;
    c->nremarks = r->claim_nrem;
    c->adj_total = remit_adj_sum(c->adj, c->nadj, NULL);
    c->pr_total = remit_adj_sum(c->adj, c->nadj, "PR");
    c->line_adj_total = 0;
    for (unsigned i = 0; i < r->nlines; i++) {
        unsigned aend = i + 1 < r->nlines ? r->line_adj0[i + 1] : r->nadj;
        unsigned mend = i + 1 < r->nlines ? r->line_rem0[i + 1] : r->nrem;
        line_finalize(r, i, aend, mend);
        remit_line *l = &r->lines[i];
        c->line_adj_total += l->adj_total;
        c->pr_total += l->pr_total;
        if (!l->balanced) {
            char a[24], b[24], d[24], e[24], x[128];
            snprintf(x, sizeof x, "SVC02 - SVC03 = %s - %s = %s", x12_cents_str(l->charge, a),
                     x12_cents_str(l->paid, b), x12_cents_str(l->charge - l->paid, d));
            r835_diag(r, &l->pos, "SVC", X12_SEV_ERROR, 3, "835.balance.line", 3, 0, x,
                      "service line %u of claim %u: line adjustments total %s", i + 1, c->index,
                      x12_cents_str(l->adj_total, e));
        }
    }
    c->lines = r->lines;
    c->nlines = r->nlines;
    c->balanced = c->charge - c->paid == c->adj_total + c->line_adj_total;
    if (!c->balanced) {
        char a[24], b[24], d[24], e[24], f[24], x[128];
        snprintf(x, sizeof x, "CLP03 - CLP04 = %s - %s = %s", x12_cents_str(c->charge, a),
                 x12_cents_str(c->paid, b), x12_cents_str(c->charge - c->paid, d));
        r835_diag(r, &c->pos, "CLP", X12_SEV_ERROR, 3, "835.balance.claim", 4, 0, x,
                  "claim %u: claim adjustments %s + line adjustments %s do not balance", c->index,
                  x12_cents_str(c->adj_total, e), x12_cents_str(c->line_adj_total, f));
    }
    c->is_reversal = c->status_code == 22;
    c->is_correction = !c->is_reversal && r->last_reversal[0] && !strcmp(r->last_reversal, c->pcn);
    ch_strcpy(r->last_reversal, sizeof r->last_reversal, c->is_reversal ? c->pcn : "");
    p->nclaims++;
    p->nlines += c->nlines;
    p->total_charge += c->charge;
    p->total_paid += c->paid;
    r->st.claims++;
    r->st.lines += c->nlines;
    if (r->ev.claim)
        r->ev.claim(r->ev.ctx, p, c);
    r->claim_open = 0;
    r->nlines = r->nadj = r->nrem = 0;
}

static const char *const CLP02_CODES[] = {"1", "2", "3", "4", "19", "20", "21", "22", "23", "25", NULL};

static void seg_clp(remit_835 *r, const x12_segment *s)
{
    r835_finish_claim(r);
    r835_send_payment(r);
    remit_claim *c = &r->claim;
    memset(c, 0, sizeof *c);
    r->claim_open = 1;
    r->claim_nadj = r->claim_nrem = 0;
    r->state = S_CLAIM;
    c->pos = s->pos;
    c->payment = &r->pay;
    c->index = r->pay.nclaims + 1;
    cpe(r, s, 1, c->pcn, sizeof c->pcn);
    if (!c->pcn[0])
        r835_diag(r, &s->pos, "CLP", X12_SEV_ERROR, 2, "835.clp.pcn", 1, 0, "the patient control number",
                  "CLP01 is empty: the claim cannot be matched by its patient control number");
    x12_str st = x12_elem(s, 2);
    cp(r, s, 2, st, c->status, sizeof c->status);
    int known = 0;
    for (int i = 0; CLP02_CODES[i]; i++)
        known |= x12_eq(st, CLP02_CODES[i]);
    if (known)
        c->status_code = atoi(c->status);
    else
        r835_diag_found(r, s, X12_SEV_ERROR, 2, "835.clp.status", 2, 0, st,
                        "1, 2, 3, 4, 19, 20, 21, 22, 23 or 25", "CLP02 claim status code is not valid");
    money(r, s, 3, 1, "total claim charge", &c->charge);
    money(r, s, 4, 1, "claim payment", &c->paid);
    c->has_patient_resp = money(r, s, 5, 0, "patient responsibility", &c->patient_resp) == 1;
    cpe(r, s, 6, c->filing_indicator, sizeof c->filing_indicator);
    cpe(r, s, 7, c->payer_claim_no, sizeof c->payer_claim_no);
    cpe(r, s, 8, c->facility_type, sizeof c->facility_type);
    cpe(r, s, 9, c->frequency, sizeof c->frequency);
    cpe(r, s, 11, c->drg, sizeof c->drg);
}

static int cas_group_ok(x12_str g)
{
    return EQ(g, "CO") || EQ(g, "PR") || EQ(g, "OA") || EQ(g, "PI") ||
           EQ(g, "CR");
}

static void seg_cas(remit_835 *r, const x12_segment *s)
{
    x12_str g = x12_elem(s, 1);
    if (!cas_group_ok(g))
        r835_diag_found(r, s, X12_SEV_ERROR, 2, "835.cas.group", 1, 0, g, "CO, PR, OA, PI or CR",
                        "CAS01 claim adjustment group code is not valid");
    int any = 0;
    for (unsigned t = 0; t < 6; t++) {
        unsigned e = 2 + 3 * t;
        x12_str reason = x12_elem(s, e), amount = x12_elem(s, e + 1), qty = x12_elem(s, e + 2);
        if (!reason.len && !amount.len && !qty.len)
            continue;
        any = 1;
        if (!reason.len) {
            r835_diag(r, &s->pos, "CAS", X12_SEV_ERROR, 2, "835.cas.reason.missing", (int)e, 0,
                      "a claim adjustment reason code", "CAS adjustment without a reason code");
        } else if (!is_code(reason, 1, 5)) {
            r835_diag_found(r, s, X12_SEV_ERROR, 2, "835.cas.reason.invalid", (int)e, 0, reason,
                            "a claim adjustment reason code (1-5 letters or digits)",
                            "CAS reason code is not valid");
        }
        int64_t cents;
        if (money(r, s, (int)e + 1, 1, "adjustment amount", &cents) != 1)
            continue; /* nothing readable to post */
        remit_adj *a = adj_new(r, s);
        if (!a)
            return;
        x12_copy(g, a->group, sizeof a->group);
        x12_copy(reason, a->reason, sizeof a->reason);
        a->amount = cents;
        x12_copy(qty, a->quantity, sizeof a->quantity);
    }
    if (!any)
        r835_diag(r, &s->pos, "CAS", X12_SEV_ERROR, 2, "835.cas.empty", 2, 0,
                  "at least one reason code and amount", "CAS without any adjustment");
}

static void person(remit_835 *r, const x12_segment *s, remit_person *p)
{
    cpe(r, s, 3, p->last, sizeof p->last);
    cpe(r, s, 4, p->first, sizeof p->first);
    cpe(r, s, 5, p->middle, sizeof p->middle);
    cpe(r, s, 8, p->id_q, sizeof p->id_q);
    cpe(r, s, 9, p->id, sizeof p->id);
    p->present = 1;
}

static void seg_nm1_claim(remit_835 *r, const x12_segment *s)
{
    remit_claim *c = &r->claim;
    x12_str q = x12_elem(s, 1);
    if (EQ(q, "QC"))
        person(r, s, &c->patient);
    else if (EQ(q, "IL"))
        person(r, s, &c->insured);
    else if (EQ(q, "74"))
        person(r, s, &c->corrected);
    else if (EQ(q, "82"))
        person(r, s, &c->rendering);
    else if (EQ(q, "TT"))
        cpe(r, s, 3, c->crossover_name, sizeof c->crossover_name);
}

static void add_remark(remit_835 *r, const x12_segment *s, const char *qual, int elem)
{
    x12_str v = x12_elem(s, (unsigned)elem);
    if (!v.len)
        return;
    remit_remark *m = remark_new(r, s);
    if (!m)
        return;
    snprintf(m->qual, sizeof m->qual, "%s", qual);
    cp(r, s, elem, v, m->code, sizeof m->code);
}

static void seg_moa_mia(remit_835 *r, const x12_segment *s)
{
    if (IS(s, "MOA")) {
        for (int e = 3; e <= 7; e++)
            add_remark(r, s, "MOA", e);
    } else {
        static const int MIA_REMARKS[] = {5, 20, 21, 22, 23};
        for (size_t i = 0; i < sizeof MIA_REMARKS / sizeof *MIA_REMARKS; i++)
            add_remark(r, s, "MIA", MIA_REMARKS[i]);
    }
    r->claim_nrem = r->nrem;
}

static void ref_into(remit_835 *r, const x12_segment *s, remit_ref *refs, unsigned *n, unsigned max)
{
    if (*n >= max)
        return; /* kept: the first ones; the TR3 allows no more than these */
    remit_ref *f = &refs[(*n)++];
    cpe(r, s, 1, f->qual, sizeof f->qual);
    cpe(r, s, 2, f->value, sizeof f->value);
}

static void amt_into(remit_835 *r, const x12_segment *s, remit_amt *amts, unsigned *n, unsigned max,
                     int64_t *value, int *ok)
{
    int64_t v;
    *ok = money(r, s, 2, 1, "amount", &v) == 1;
    *value = v;
    if (!*ok || *n >= max)
        return;
    remit_amt *a = &amts[(*n)++];
    cpe(r, s, 1, a->qual, sizeof a->qual);
    a->amount = v;
}

static void seg_dtm_claim(remit_835 *r, const x12_segment *s)
{
    remit_claim *c = &r->claim;
    x12_str q = x12_elem(s, 1);
    if (EQ(q, "232"))
        cpe(r, s, 2, c->date_from, sizeof c->date_from);
    else if (EQ(q, "233"))
        cpe(r, s, 2, c->date_to, sizeof c->date_to);
    else if (EQ(q, "050"))
        cpe(r, s, 2, c->received, sizeof c->received);
}

/* --- line --------------------------------------------------------------------- */

static void proc_from(remit_835 *r, const x12_segment *s, int elem, char *q, char *proc,
                      char mod[4][3], unsigned *nmod, int required)
{
    x12_str comp[7];
    unsigned n = split_composite(r, s, elem, comp, 7);
    x12_copy(comp[0], q, 3);
    cp(r, s, elem, comp[1], proc, 49);
    *nmod = 0;
    for (unsigned i = 2; i < 6 && i < n; i++)
        if (comp[i].len)
            cp(r, s, elem, comp[i], mod[(*nmod)++], 3);
    if (required && (!comp[0].len || !comp[1].len))
        r835_diag_found(r, s, X12_SEV_ERROR, 2, "835.svc.procedure", elem, comp[0].len ? 2 : 1,
                        x12_elem(s, (unsigned)elem), "qualifier:procedure code[:modifiers]",
                        "SVC01 composite lacks its qualifier or procedure code");
}

/* Room for n lines in the three parallel arrays. */
static int lines_reserve(remit_835 *r, unsigned n)
{
    if (n <= r->cap_lines)
        return 1;
    if (n > REMIT_MAX_LINES)
        return 0;
    unsigned nc = r->cap_lines ? r->cap_lines * 2 : 16;
    if (nc > REMIT_MAX_LINES)
        nc = REMIT_MAX_LINES;
    remit_line *l = realloc(r->lines, nc * sizeof *l);
    if (!l)
        return 0;
    r->lines = l;
    unsigned *a = realloc(r->line_adj0, nc * sizeof *a);
    if (!a)
        return 0;
    r->line_adj0 = a;
    unsigned *m = realloc(r->line_rem0, nc * sizeof *m);
    if (!m)
        return 0;
    r->line_rem0 = m;
    r->cap_lines = nc;
    return 1;
}

static void seg_svc(remit_835 *r, const x12_segment *s)
{
    if (!lines_reserve(r, r->nlines + 1)) {
        if (!r->claim.truncated)
            r835_diag(r, &s->pos, "SVC", X12_SEV_ERROR, 2, "835.limit.lines", 0, 0, NULL,
                      "more than %d service lines in one claim; the rest are dropped", REMIT_MAX_LINES);
        r->claim.truncated = 1;
        r->state = S_SKIP; /* the rest of this line has nowhere to go */
        return;
    }
    remit_line *l = &r->lines[r->nlines];
    memset(l, 0, sizeof *l);
    r->line_adj0[r->nlines] = r->nadj;
    r->line_rem0[r->nlines] = r->nrem;
    r->nlines++;
    r->state = S_LINE;
    l->pos = s->pos;
    proc_from(r, s, 1, l->proc_q, l->proc, l->mod, &l->nmod, 1);
    money(r, s, 2, 1, "line charge", &l->charge);
    money(r, s, 3, 1, "line payment", &l->paid);
    cpe(r, s, 4, l->revenue_code, sizeof l->revenue_code);
    l->units_x100 = 100;
    x12_str u = x12_elem(s, 5);
    if (u.len && x12_parse_cents(u.p, u.len, &l->units_x100) != CH_OK) {
        r835_diag_found(r, s, X12_SEV_ERROR, 1, "835.svc.units", 5, 0, u, "a decimal number",
                        "SVC05 units of service paid is not a number");
        l->units_x100 = 100;
    }
    if (x12_elem(s, 6).len)
        proc_from(r, s, 6, l->orig_proc_q, l->orig_proc, l->orig_mod, &l->norig_mod, 0);
}

static void seg_line(remit_835 *r, const x12_segment *s)
{
    remit_line *l = &r->lines[r->nlines - 1];
    if (IS(s, "CAS")) {
        seg_cas(r, s);
    } else if (IS(s, "DTM")) {
        x12_str q = x12_elem(s, 1);
        if (EQ(q, "472")) {
            cpe(r, s, 2, l->date_from, sizeof l->date_from);
            memcpy(l->date_to, l->date_from, sizeof l->date_to);
        } else if (EQ(q, "150")) {
            cpe(r, s, 2, l->date_from, sizeof l->date_from);
        } else if (EQ(q, "151")) {
            cpe(r, s, 2, l->date_to, sizeof l->date_to);
        }
    } else if (IS(s, "REF")) {
        if (EQ(x12_elem(s, 1), "6R"))
            cpe(r, s, 2, l->control, sizeof l->control);
        ref_into(r, s, l->refs, &l->nrefs, REMIT_LINE_REFS);
    } else if (IS(s, "AMT")) {
        int64_t v;
        int ok;
        amt_into(r, s, l->amts, &l->namts, REMIT_LINE_AMTS, &v, &ok);
        if (ok && EQ(x12_elem(s, 1), "B6")) {
            l->allowed = v;
            l->has_allowed = 1;
        }
    } else if (IS(s, "LQ")) {
        x12_str q = x12_elem(s, 1);
        char qual[4];
        x12_copy(q, qual, sizeof qual);
        add_remark(r, s, qual, 2);
    }
    /* QTY and anything else: nothing to post */
}

/* --- PLB ---------------------------------------------------------------------- */

static void seg_plb(remit_835 *r, const x12_segment *s)
{
    r835_finish_claim(r);
    r835_send_payment(r);
    r->state = S_TRAILER;
    remit_plb plb;
    memset(&plb, 0, sizeof plb);
    plb.pos = s->pos;
    cpe(r, s, 1, plb.provider_id, sizeof plb.provider_id);
    cpe(r, s, 2, plb.fiscal_date, sizeof plb.fiscal_date);
    if (!plb.provider_id[0])
        r835_diag(r, &s->pos, "PLB", X12_SEV_ERROR, 2, "835.plb.provider", 1, 0, "the provider identifier",
                  "PLB01 provider identifier is missing");
    for (int i = 0; i < REMIT_PLB_PAIRS; i++) {
        int e = 3 + 2 * i;
        x12_str id = x12_elem(s, (unsigned)e), amt = x12_elem(s, (unsigned)e + 1);
        if (!id.len && !amt.len)
            continue;
        x12_str comp[2];
        split_composite(r, s, e, comp, 2);
        if (!is_code(comp[0], 2, 2))
            r835_diag_found(r, s, X12_SEV_ERROR, 2, "835.plb.reason", e, 1, comp[0],
                            "a 2-character adjustment reason code (WO, L6, FB, 72, ...)",
                            "PLB adjustment reason code is not valid");
        int64_t cents;
        if (money(r, s, e + 1, 1, "provider adjustment amount", &cents) != 1)
            continue;
        remit_plb_adj *a = &plb.adj[plb.nadj++];
        x12_copy(comp[0], a->reason, sizeof a->reason);
        cp(r, s, e, comp[1], a->ref, sizeof a->ref);
        a->amount = cents;
        plb.total += cents;
    }
    r->pay.total_plb += plb.total;
    r->pay.nplb++;
    r->st.plbs++;
    if (r->ev.plb)
        r->ev.plb(r->ev.ctx, &r->pay, &plb);
}

/* --- the state machine -------------------------------------------------------- */

void remit_835_feed(remit_835 *r, const x12_segment *s)
{
    r->last_pos = s->pos;
    if (s->tag.len < 2)
        return;
    /* envelopes first: they close whatever is open */
    if (IS(s, "ST")) {
        r835_end_payment(r, 0, &s->pos);
        if (EQ(x12_elem(s, 1), "835")) {
            r835_start_payment(r, s);
        } else {
            char id[8];
            x12_copy(x12_elem(s, 1), id, sizeof id);
            r835_diag(r, &s->pos, "ST", X12_SEV_WARNING, 2, "835.set.other", 1, 0, "835",
                      "transaction set %s is not an 835; skipped", id);
            r->state = S_SKIP;
        }
        return;
    }
    if (IS(s, "SE")) {
        r835_end_payment(r, 1, &s->pos);
        r->state = S_OUT;
        return;
    }
    if (IS(s, "ISA") || IS(s, "GS") || IS(s, "GE") || IS(s, "IEA")) {
        r835_end_payment(r, 0, &s->pos);
        r->state = S_OUT;
        if (IS(s, "ISA")) {
            x12_copy(x12_elem(s, 6), r->isa_sender, sizeof r->isa_sender);
            for (char *p = r->isa_sender + strlen(r->isa_sender); p > r->isa_sender && p[-1] == ' ';)
                *--p = '\0';
            x12_copy(x12_elem(s, 15), r->isa_usage, sizeof r->isa_usage);
        } else if (IS(s, "GS")) {
            x12_copy(x12_elem(s, 2), r->gs_sender, sizeof r->gs_sender);
        }
        return;
    }
    if (r->state == S_OUT || (r->state == S_SKIP && !r->in_set))
        return; /* the envelope checker reports segments outside a set */

    const char t0 = s->tag.p[0];
    /* loop starts that may come in any state of an 835 */
    if (IS(s, "CLP")) {
        seg_clp(r, s);
        return;
    }
    if (IS(s, "PLB")) {
        seg_plb(r, s);
        return;
    }
    if (IS(s, "LX") || IS(s, "TS3") || IS(s, "TS2")) {
        r835_finish_claim(r);
        r835_send_payment(r);
        r->state = S_LX;
        return;
    }
    switch (r->state) {
    case S_HEADER:
    case S_PAYER:
    case S_PAYEE:
        if (IS(s, "BPR"))
            r835_seg_bpr(r, s);
        else if (IS(s, "TRN"))
            r835_seg_trn(r, s);
        else if (IS(s, "N1"))
            r835_seg_n1(r, s);
        else if (IS(s, "REF"))
            r835_seg_ref(r, s);
        else if (IS(s, "DTM") && EQ(x12_elem(s, 1), "405"))
            cpe(r, s, 2, r->pay.production_date, sizeof r->pay.production_date);
        break;
    case S_LINE:
        if (IS(s, "SVC")) {
            seg_svc(r, s);
            break;
        }
        if (t0 == 'N' || t0 == 'M') { /* NM1, MIA, MOA belong to the claim */
            char t[4];
            r835_diag(r, &s->pos, r835_tag(s, t), X12_SEV_WARNING, 2, "835.segment.order", 0, 0, NULL,
                      "claim-level segment after a service line; read as part of the claim");
            /* MIA / MOA remarks here would land in the line's range: left out */
            if (IS(s, "NM1"))
                seg_nm1_claim(r, s);
            break;
        }
        seg_line(r, s);
        break;
    case S_CLAIM: {
        remit_claim *c = &r->claim;
        if (IS(s, "SVC")) {
            r->claim_nadj = r->nadj;
            r->claim_nrem = r->nrem;
            seg_svc(r, s);
        } else if (IS(s, "CAS")) {
            seg_cas(r, s);
            r->claim_nadj = r->nadj;
        } else if (IS(s, "NM1")) {
            seg_nm1_claim(r, s);
        } else if (IS(s, "MIA") || IS(s, "MOA")) {
            seg_moa_mia(r, s);
        } else if (IS(s, "REF")) {
            ref_into(r, s, c->refs, &c->nrefs, REMIT_MAX_REFS);
        } else if (IS(s, "DTM")) {
            seg_dtm_claim(r, s);
        } else if (IS(s, "AMT")) {
            int64_t v;
            int ok;
            amt_into(r, s, c->amts, &c->namts, REMIT_MAX_AMTS, &v, &ok);
        }
        break;
    }
    case S_LX:
    case S_TRAILER:
        if (IS(s, "SVC") || IS(s, "CAS")) {
            char t[4];
            r835_diag(r, &s->pos, r835_tag(s, t), X12_SEV_ERROR, 2, "835.segment.orphan", 0, 0, "CLP first",
                      "%s outside a claim (no CLP before it); ignored", t);
        }
        break;
    case S_OUT:
    case S_SKIP:
        break;
    }
}

void remit_835_finish(remit_835 *r)
{
    r835_end_payment(r, 0, &r->last_pos);
}

/* --- helpers ------------------------------------------------------------------ */

/* Public (remit_835.h), and here rather than with the other helpers in
 * remit_835_api.c: every claim and line is summed with it, inlined. */
int64_t remit_adj_sum(const remit_adj *adj, unsigned n, const char *group)
{
    int64_t sum = 0;
    for (unsigned i = 0; i < n; i++)
        if (!group || !strcmp(adj[i].group, group))
            sum += adj[i].amount;
    return sum;
}
