/*
 * remit_835_payment.c - the 835's transaction set around its claims (see
 * remit_835_int.h): ST opens a payment, the header segments fill it (BPR
 * amount and method, TRN trace, N1 payer and payee, REF), and SE (or the
 * end of input) closes it with the payment's balancing:
 * BPR02 = sum(CLP04) - sum(PLB).
 *
 * These run once per payment, called from the state machine in
 * remit_835.c (which keeps PLB: it calls the helpers SVC and CAS call).
 */
#include <stdio.h>
#include <string.h>

#include "remit_835_elem.h"
#include "remit_835_int.h"
#include "x12_writer.h"

/* --- payment ------------------------------------------------------------------ */

void r835_end_payment(remit_835 *r, int complete, const x12_pos *pos)
{
    if (!r->in_set)
        return;
    r835_finish_claim(r);
    r835_send_payment(r);
    remit_payment *p = &r->pay;
    p->complete = complete;
    if (!complete)
        r835_diag(r, pos, "SE", X12_SEV_ERROR, 2, "835.set.unterminated", 0, 0, "SE",
                  "transaction set %s ended without SE; read as far as it went", p->st02);
    if (p->bpr_pos.seg_no == 0) {
        r835_diag(r, &p->pos, "ST", X12_SEV_ERROR, 2, "835.bpr.missing", 0, 0, "BPR",
                  "835 without a BPR (financial information); payment not balanced");
        p->balanced = 0;
    } else {
        int64_t expect = p->total_paid - p->total_plb;
        p->balanced = expect == p->amount;
        if (!p->balanced) {
            char a[24], b[24], c[24], e[160];
            snprintf(e, sizeof e, "%s = sum of CLP04 %s - sum of PLB %s",
                     x12_cents_str(expect, a), x12_cents_str(p->total_paid, b),
                     x12_cents_str(p->total_plb, c));
            char got[24];
            r835_diag(r, &p->bpr_pos, "BPR", X12_SEV_ERROR, 3, "835.balance.payment", 2, 0, e,
                      "payment total %s does not balance with the claims and provider adjustments",
                      x12_cents_str(p->amount, got));
        }
    }
    if (!p->balanced)
        r->st.unbalanced_payments++;
    if (r->ev.payment_end)
        r->ev.payment_end(r->ev.ctx, p);
    r->in_set = 0;
    r->payment_sent = 0;
    r->state = S_OUT;
}

void r835_start_payment(remit_835 *r, const x12_segment *s)
{
    memset(&r->pay, 0, sizeof r->pay);
    r->pay.pos = s->pos;
    snprintf(r->pay.isa_sender, sizeof r->pay.isa_sender, "%s", r->isa_sender);
    snprintf(r->pay.isa_usage, sizeof r->pay.isa_usage, "%s", r->isa_usage);
    snprintf(r->pay.gs_sender, sizeof r->pay.gs_sender, "%s", r->gs_sender);
    snprintf(r->pay.isa13, sizeof r->pay.isa13, "%s", s->pos.isa13);
    snprintf(r->pay.gs06, sizeof r->pay.gs06, "%s", s->pos.gs06);
    x12_copy(x12_elem(s, 2), r->pay.st02, sizeof r->pay.st02);
    r->in_set = 1;
    r->payment_sent = 0;
    r->sep_warned = 0;
    r->last_reversal[0] = '\0';
    r->state = S_HEADER;
}

void r835_seg_bpr(remit_835 *r, const x12_segment *s)
{
    remit_payment *p = &r->pay;
    p->bpr_pos = s->pos;
    cpe(r, s, 1, p->handling, sizeof p->handling);
    int64_t amt;
    money(r, s, 2, 1, "total payment", &amt);
    cpe(r, s, 3, p->credit_debit, sizeof p->credit_debit);
    p->amount = p->credit_debit[0] == 'D' ? -amt : amt;
    cpe(r, s, 4, p->method, sizeof p->method);
    cpe(r, s, 5, p->format, sizeof p->format);
    cpe(r, s, 16, p->date, sizeof p->date);
    if (!p->handling[0])
        r835_diag(r, &s->pos, "BPR", X12_SEV_ERROR, 2, "835.bpr.handling", 1, 0, "C, D, H, I, P, U or X",
                  "BPR01 transaction handling code is missing");
}

void r835_seg_trn(remit_835 *r, const x12_segment *s)
{
    remit_payment *p = &r->pay;
    cpe(r, s, 1, p->trace_type, sizeof p->trace_type);
    cpe(r, s, 2, p->trace, sizeof p->trace);
    cpe(r, s, 3, p->trace_payer, sizeof p->trace_payer);
    cpe(r, s, 4, p->trace_payer2, sizeof p->trace_payer2);
    if (!p->trace[0])
        r835_diag(r, &s->pos, "TRN", X12_SEV_ERROR, 2, "835.trn.trace", 2, 0, "the check or EFT trace number",
                  "TRN02 trace number is missing: the remittance cannot be identified");
}

void r835_seg_n1(remit_835 *r, const x12_segment *s)
{
    remit_payment *p = &r->pay;
    x12_str q = x12_elem(s, 1);
    if (EQ(q, "PR")) {
        r->state = S_PAYER;
        cpe(r, s, 2, p->payer_name, sizeof p->payer_name);
        cpe(r, s, 3, p->payer_id_q, sizeof p->payer_id_q);
        cpe(r, s, 4, p->payer_id, sizeof p->payer_id);
    } else if (EQ(q, "PE")) {
        r->state = S_PAYEE;
        cpe(r, s, 2, p->payee_name, sizeof p->payee_name);
        cpe(r, s, 3, p->payee_id_q, sizeof p->payee_id_q);
        cpe(r, s, 4, p->payee_id, sizeof p->payee_id);
        if (!strcmp(p->payee_id_q, "XX"))
            snprintf(p->payee_npi, sizeof p->payee_npi, "%s", p->payee_id);
        else if (!strcmp(p->payee_id_q, "FI"))
            snprintf(p->payee_tax_id, sizeof p->payee_tax_id, "%s", p->payee_id);
    } else {
        r835_diag_found(r, s, X12_SEV_WARNING, 2, "835.n1.qualifier", 1, 0, q, "PR or PE",
                        "N1 entity is neither payer (PR) nor payee (PE); ignored");
    }
}

void r835_seg_ref(remit_835 *r, const x12_segment *s)
{
    remit_payment *p = &r->pay;
    x12_str q = x12_elem(s, 1);
    if (r->state == S_HEADER && EQ(q, "EV"))
        cpe(r, s, 2, p->receiver_id, sizeof p->receiver_id);
    else if (r->state == S_PAYER && EQ(q, "2U"))
        cpe(r, s, 2, p->payer_ref, sizeof p->payer_ref);
    else if (r->state == S_PAYEE && EQ(q, "TJ") && !p->payee_tax_id[0])
        cpe(r, s, 2, p->payee_tax_id, sizeof p->payee_tax_id);
}
