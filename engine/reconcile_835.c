/*
 * reconcile_835.c - posting an 835: the remit_835.h events of one file
 * (reconcile_file reads it), each payment a remittance in the ledger, each
 * claim matched (rcn_find_claim) and its payment posted with its lines and
 * adjustments, reversals taking back what they name, PLB adjustments, and
 * each posting fed to the practice's posting report.  The per-claim helpers
 * are static here, next to rcn_on_835_claim, so the compiler inlines them:
 * this is the hot path (about 2 s for 100,000 claims).
 */
#include "reconcile_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch_str.h"
#include "encounter.h"
#include "log.h"
#include "match_rules.h"
#include "reconcile_report.h"
#include "remit_835.h"

/* --- claim states ---------------------------------------------------------------------- */

/* Here, not in reconcile.c: each 835 claim posted moves its claim, and in
 * this unit the move is inlined into rcn_on_835_claim.  reconcile_ack.c
 * calls them too (once per 999 set or 277CA claim: no hot path). */

/* Move a claim when the move is allowed (storing the payer's claim number
 * when given); 1 when it moved. */
int rcn_move_claim_no(file_ctx *f, const ledger_claim_brief *c, ledger_state to, const char *payer_claim_no,
                      const char *why)
{
    int moved = 0;
    ch_code rc = ledger_claim_respond(f->r->l, c, to, payer_claim_no, f->r->opts.actor, why, &moved, &f->ferr);
    if (rc == CH_ERR_INVALID)
        return 0;
    rcn_fail_db(f, rc);
    return rc == CH_OK && moved;
}

int rcn_move_claim(file_ctx *f, const ledger_claim_brief *c, ledger_state to, const char *why)
{
    return rcn_move_claim_no(f, c, to, NULL, why);
}

/* --- 835 ------------------------------------------------------------------------------- */

void rcn_on_835_payment(void *ctx, const remit_payment *p)
{
    file_ctx *f = ctx;
    reconciler *r = f->r;
    f->remit_id = 0;
    f->skip = 0;
    f->pay_claims = 0;
    if (f->fatal != CH_OK)
        return;
    f->res->sets++;
    if (!f->payer_hint) {
        const char *ids[] = {p->payer_id, p->trace_payer, p->payer_ref, p->isa_sender, p->gs_sender};
        const payer_profile *pp = rcn_find_payer(r->cfg, ids, 5);
        if (pp)
            rcn_use_payer(f, pp);
    }
    const config_practice *pr = rcn_find_practice(r->cfg, p->payee_npi, p->payee_tax_id);
    snprintf(f->practice, sizeof f->practice, "%s", pr ? pr->id : "");
    ledger_remittance rm;
    memset(&rm, 0, sizeof rm);
    snprintf(rm.payer, sizeof rm.payer, "%s", f->prof ? f->prof->name : p->payer_id[0] ? p->payer_id : p->trace_payer);
    remit_payment_key(p, rm.trace_key, sizeof rm.trace_key);
    snprintf(rm.practice, sizeof rm.practice, "%s", f->practice);
    rm.paid_cents = p->amount;
    snprintf(rm.method, sizeof rm.method, "%s", p->method);
    snprintf(rm.pay_date, sizeof rm.pay_date, "%s", p->date);
    snprintf(rm.payee_npi, sizeof rm.payee_npi, "%s", p->payee_npi);
    snprintf(rm.payee_tax_id, sizeof rm.payee_tax_id, "%s", p->payee_tax_id);
    snprintf(rm.file, sizeof rm.file, "%s", f->path);
    snprintf(rm.sha256, sizeof rm.sha256, "%s", f->res->sha256);
    ch_error e;
    ch_code rc = ledger_remittance_add(r->l, &rm, &e);
    if (rc == CH_ERR_EXISTS) {
        f->skip = 1;
        f->res->duplicates++;
        log_msg(LOG_INFO, "reconcile %s: %s: nothing changed", f->path, e.msg);
        return;
    }
    if (rc != CH_OK) {
        f->ferr = e;
        rcn_fail_db(f, rc);
        return;
    }
    f->remit_id = rm.id;
    snprintf(f->trace_key, sizeof f->trace_key, "%s", rm.trace_key);
    if (r->nposted == r->capposted) {
        size_t cap = r->capposted ? r->capposted * 2 : 16;
        int64_t *v = realloc(r->posted, cap * sizeof *v);
        if (!v) {
            ch_error_set(&f->ferr, CH_ERR_NOMEM, "out of memory");
            rcn_fail_db(f, CH_ERR_NOMEM);
            return;
        }
        r->posted = v;
        r->capposted = cap;
    }
    r->posted[r->nposted++] = rm.id;
    if (!pr)
        rcn_worklist(f, "payee", 0, NULL, rm.trace_key, p->amount,
                 "835 payment %s: the payee (NPI '%s', tax id '%s') is not a configured practice", rm.trace_key,
                 p->payee_npi, p->payee_tax_id[0] ? "on file" : "");
}

static int64_t co_total(const remit_claim *c)
{
    int64_t t = remit_adj_sum(c->adj, c->nadj, "CO");
    for (unsigned i = 0; i < c->nlines; i++)
        t += remit_adj_sum(c->lines[i].adj, c->lines[i].nadj, "CO");
    return t;
}

static int64_t oa23(const remit_adj *a, unsigned n)
{
    int64_t t = 0;
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(a[i].group, "OA") && !strcmp(a[i].reason, "23"))
            t += a[i].amount;
    return t;
}

static int64_t prior_payer_total(const remit_claim *c)
{
    int64_t t = oa23(c->adj, c->nadj);
    for (unsigned i = 0; i < c->nlines; i++)
        t += oa23(c->lines[i].adj, c->lines[i].nadj);
    return t;
}

/* The 835's CAS triplets as the ledger takes them, into f->adjv from *used on. */
static const ledger_adjustment *adjustments_of(file_ctx *f, const remit_adj *a, unsigned n, size_t *used)
{
    ledger_adjustment *v = f->adjv + *used;
    if (n > REMIT_MAX_ADJ - *used)
        n = (unsigned)(REMIT_MAX_ADJ - *used); /* cannot happen: the reader's pool is this size */
    for (unsigned i = 0; i < n; i++)
        v[i] = (ledger_adjustment){.group = a[i].group, .reason = a[i].reason, .quantity = a[i].quantity,
                                   .cents = a[i].amount};
    *used += n;
    return v;
}

/* The claim's lines as we sent them (for match_lines), from its document. */
static void ledger_lines(file_ctx *f, claim_ref *ref)
{
    ref->lines = NULL;
    ref->nlines = 0;
    if (!rcn_load_doc(f, (int64_t)ref->id, 1))
        return;
    const encounter *e = &f->r->enc;
    unsigned n = e->nlines < ENC_MAX_LINES ? e->nlines : ENC_MAX_LINES;
    for (unsigned i = 0; i < n; i++) {
        const enc_line *el = &e->lines[i];
        claim_line_ref *l = &f->lines[i];
        memset(l, 0, sizeof *l);
        l->line_no = i + 1;
        l->procedure = el->procedure;
        for (unsigned k = 0; k < el->nmodifiers && k < 4; k++)
            l->modifiers[k] = el->modifiers[k];
        l->charge = el->charge;
        l->date = el->date_from[0] ? el->date_from : e->statement_from;
    }
    ref->lines = f->lines;
    ref->nlines = n;
}

typedef struct claim_links {
    int64_t replaces;
    int frequency;
} claim_links;

static int copy_links(void *ctx, const ledger_claim *c)
{
    claim_links *k = ctx;
    k->replaces = c->replaces;
    k->frequency = c->frequency;
    return 1;
}

/* The payment a reversal takes back, named by its payer claim number
 * (CLP07): on the claim the reversal matched (the payer reverses and
 * re-adjudicates the same claim), else on the claim that one replaces (a
 * replacement or void, frequency 7 or 8, is a claim of its own: the payer
 * takes back the payment of the claim its REF*F8 names); failing both, the
 * matched claim's latest payment.  *holder is the claim holding it.  CH_OK,
 * CH_ERR_NOTFOUND, or a ledger error (in f->ferr). */
static ch_code reversed_payment(file_ctx *f, const remit_claim *c, const ledger_claim_brief *cl,
                                ledger_claim_payment *old, ledger_claim_brief *holder, claim_links *links)
{
    ledger *l = f->r->l;
    *holder = *cl;
    memset(links, 0, sizeof *links);
    ch_code rc = ledger_claim_payment_open(l, cl->id, c->payer_claim_no, old, &f->ferr);
    if (rc != CH_ERR_NOTFOUND || !c->payer_claim_no[0])
        return rc;
    if ((rc = ledger_claim_get(l, NULL, cl->id, 0, copy_links, links, &f->ferr)) != CH_OK)
        return rc;
    if (links->replaces) {
        rc = ledger_claim_payment_open(l, links->replaces, c->payer_claim_no, old, &f->ferr);
        if (rc == CH_OK)
            return ledger_claim_brief_get(l, links->replaces, holder, &f->ferr);
        if (rc != CH_ERR_NOTFOUND)
            return rc;
    }
    return ledger_claim_payment_open(l, cl->id, NULL, old, &f->ferr);
}

/* A claim payment just posted, for the practice's report: the claim's state
 * after it is `state`.  The reports are opened with the first posting. */
static void report_posting(file_ctx *f, const ledger_claim_payment *cp, const ledger_claim_brief *claim,
                           ledger_state state, size_t nadj)
{
    reconciler *r = f->r;
    if (r->opts.no_reports || r->rep_rc != CH_OK)
        return;
    if (!r->rep && (r->rep_rc = reconcile_report_open(&r->rep, r->cfg->spool, r->opts.reports_dir, &r->rep_err)) !=
                       CH_OK)
        return;
    reconcile_posting p = {.pay = cp, .practice = claim->practice, .pcn = claim->pcn, .trace_key = f->trace_key,
                           .state = state, .adj = f->adjv, .nadj = nadj};
    reconcile_report_add(r->rep, &p);
}

static void post_reversal(file_ctx *f, const remit_claim *c, const ledger_claim_brief *cl)
{
    ledger_claim_payment old;
    ledger_claim_brief holder;
    claim_links links;
    ch_code rc = reversed_payment(f, c, cl, &old, &holder, &links);
    if (rc != CH_OK && rc != CH_ERR_NOTFOUND) {
        rcn_fail_db(f, rc);
        return;
    }
    int have_old = rc == CH_OK;
    ledger_claim_payment cp;
    memset(&cp, 0, sizeof cp);
    cp.claim_id = holder.id;
    cp.remittance_id = f->remit_id;
    snprintf(cp.status_code, sizeof cp.status_code, "%s", c->status);
    snprintf(cp.outcome, sizeof cp.outcome, "reversal");
    cp.billed = c->charge;
    cp.paid = c->paid;
    cp.patient_resp = c->has_patient_resp ? c->patient_resp : c->pr_total;
    cp.allowed = have_old ? -old.allowed : 0;
    snprintf(cp.payer_claim_no, sizeof cp.payer_claim_no, "%s", c->payer_claim_no);
    cp.reversal = 1;
    size_t used = 0;
    const ledger_adjustment *adj = adjustments_of(f, c->adj, c->nadj, &used);
    if ((rc = ledger_claim_payment_add(f->r->l, &cp, adj, used, NULL, 0, &f->ferr)) != CH_OK) {
        rcn_fail_db(f, rc);
        return;
    }
    f->res->reversals++;
    f->res->posted++;
    f->res->paid_cents += c->paid;
    ledger_state st = holder.state; /* the holder's, after this posting */
    char why[300], a[32];
    if (!have_old) {
        rcn_worklist(f, "unmatched", cl->id, cl->practice, c->pcn, c->paid,
                 "835 reversal (CLP02 22) of claim %" PRId64 ": no payment posted to it to reverse (%s)", cl->id,
                 money(c->paid, a));
        report_posting(f, &cp, &holder, st, used);
        return;
    }
    rcn_fail_db(f, ledger_claim_payment_reverse(f->r->l, old.id, cp.id, &f->ferr));
    snprintf(why, sizeof why, "835 %s: reversal of the payment posted %s (payer claim %s), %s taken back",
             c->payment ? c->payment->trace : "", old.posted_at, old.payer_claim_no[0] ? old.payer_claim_no : "-",
             money(-c->paid, a));
    if (holder.id == cl->id) {
        if (rcn_move_claim(f, cl, LEDGER_ACCEPTED, why)) /* waiting for the corrected payment */
            st = LEDGER_ACCEPTED;
        report_posting(f, &cp, &holder, st, used);
        return;
    }
    /* the claim replaced or voided: its payment is back with the payer, and
     * the claim is void (it may be already: `correct` and `void` do that) */
    char held[400];
    snprintf(held, sizeof held, "%s, for claim %s (%" PRId64 ", frequency %d)", why, cl->pcn, cl->id, links.frequency);
    if (rcn_move_claim(f, &holder, LEDGER_VOID, held))
        st = LEDGER_VOID;
    else if (f->fatal == CH_OK)
        rcn_fail_db(f, ledger_claim_note(f->r->l, holder.id, f->r->opts.actor, held, &f->ferr));
    report_posting(f, &cp, &holder, st, used);
    /* a void has nothing more to come: it is done once the payment is back */
    if (links.frequency == 8 && f->fatal == CH_OK) {
        char done[400];
        snprintf(done, sizeof done, "835 %s: the payer voided claim %s (%" PRId64 ", payer claim %s): %s taken back",
                 c->payment ? c->payment->trace : "", holder.pcn, holder.id, old.payer_claim_no, money(-c->paid, a));
        rcn_move_claim(f, cl, LEDGER_VOID, done);
    }
}

void rcn_on_835_claim(void *ctx, const remit_payment *p, const remit_claim *c)
{
    file_ctx *f = ctx;
    (void)p;
    if (f->skip || f->fatal != CH_OK || !f->remit_id)
        return;
    f->res->claims++;
    f->pay_claims++;
    f->res->billed_cents += c->is_reversal ? 0 : c->charge;
    match_query q;
    match_result m;
    match_query_from_835(c, &q);
    match_status ms = rcn_find_claim(f, &q, &m);
    if (f->fatal != CH_OK)
        return;
    if (ms != MATCH_MATCHED) {
        if (ms == MATCH_AMBIGUOUS)
            f->res->ambiguous++;
        else
            f->res->unmatched++;
        rcn_worklist(f, ms == MATCH_AMBIGUOUS ? "ambiguous" : "unmatched", 0, NULL, c->pcn, c->paid, "835 claim %u: %s",
                 c->index, m.why);
        return;
    }
    ledger_claim_brief cl = *f->matched;
    if (c->is_reversal) {
        post_reversal(f, c, &cl);
        return;
    }
    remit_outcome o = remit_claim_outcome(c);
    int64_t pr = c->has_patient_resp ? c->patient_resp : c->pr_total;
    /* paid less than billed minus contractual, patient and prior payer
     * (OA-23, on a secondary claim) amounts: partial */
    if (o == REMIT_PAID && c->paid < c->charge - co_total(c) - c->pr_total - prior_payer_total(c))
        o = REMIT_PARTIAL;
    ledger_claim_payment cp;
    memset(&cp, 0, sizeof cp);
    cp.claim_id = cl.id;
    cp.remittance_id = f->remit_id;
    ch_strcpy(cp.status_code, sizeof cp.status_code, c->status);
    ch_strcpy(cp.outcome, sizeof cp.outcome, remit_outcome_name(o));
    cp.billed = c->charge;
    cp.paid = c->paid;
    cp.patient_resp = pr;
    ch_strcpy(cp.payer_claim_no, sizeof cp.payer_claim_no, c->payer_claim_no);
    int64_t allowed = 0;
    for (unsigned i = 0; i < c->nlines; i++)
        allowed += c->lines[i].has_allowed ? c->lines[i].allowed : c->lines[i].paid + c->lines[i].pr_total;
    if (!c->nlines)
        allowed = o == REMIT_DENIED ? 0 : c->paid + pr;
    cp.allowed = allowed;
    /* lines, matched to the lines we sent */
    size_t used = 0;
    const ledger_adjustment *adj = adjustments_of(f, c->adj, c->nadj, &used);
    size_t nadj = used;
    unsigned nlines = c->nlines < REMIT_MAX_LINES ? c->nlines : REMIT_MAX_LINES;
    if (nlines) {
        claim_ref ref = {.id = (uint64_t)cl.id, .pcn = cl.pcn, .charge = cl.total_cents, .user = &cl};
        ledger_lines(f, &ref);
        match_line_result lm[REMIT_MAX_LINES];
        if (ref.nlines)
            match_lines(f->rules, c, &ref, lm);
        for (unsigned i = 0; i < nlines; i++) {
            const remit_line *rl = &c->lines[i];
            char *mods = f->mods[i];
            size_t mn = 0;
            mods[0] = '\0';
            for (unsigned k = 0; k < rl->nmod; k++) {
                if (k)
                    ch_strcat(mods, sizeof f->mods[i], &mn, ":");
                ch_strcat(mods, sizeof f->mods[i], &mn, rl->mod[k]);
            }
            ledger_line_payment *lp = &f->linev[i];
            *lp = (ledger_line_payment){
                .line_no = ref.nlines && lm[i].status == MATCH_MATCHED && lm[i].ledger_line >= 0
                               ? ref.lines[lm[i].ledger_line].line_no
                               : 0,
                .procedure = rl->orig_proc[0] ? rl->orig_proc : rl->proc,
                .modifiers = mods,
                .control = rl->control,
                .billed = rl->charge,
                .paid = rl->paid,
                .allowed = rl->has_allowed ? rl->allowed : rl->paid + rl->pr_total,
                .units_x100 = rl->units_x100,
            };
            size_t before = used;
            lp->adj = adjustments_of(f, rl->adj, rl->nadj, &used);
            lp->nadj = used - before;
        }
    }
    ch_code rc = ledger_claim_payment_add(f->r->l, &cp, adj, nadj, f->linev, nlines, &f->ferr);
    if (rc != CH_OK) {
        rcn_fail_db(f, rc);
        return;
    }
    for (unsigned i = 0; i < nlines; i++) {
        const remit_line *rl = &c->lines[i];
        match_underpayment u;
        if (match_line_underpaid(f->rules, c, rl, &u)) {
            char a[32], b[32], s[32];
            f->res->underpaid++;
            rcn_worklist(f, "underpaid", cl.id, cl.practice, cl.pcn, u.shortfall,
                     "835 line %u (%s): allowed %s, expected %s: %s short", i + 1, f->linev[i].procedure,
                     money(u.allowed, a), money(u.expected, b), money(u.shortfall, s));
        }
    }
    f->res->posted++;
    f->res->paid_cents += c->paid;
    ledger_state to = o == REMIT_PAID ? LEDGER_PAID : o == REMIT_PARTIAL ? LEDGER_PARTIAL : LEDGER_DENIED;
    if (o == REMIT_PAID)
        f->res->paid++;
    else if (o == REMIT_PARTIAL)
        f->res->partial++;
    else
        f->res->denied++;
    /* "835 TRACE: paid, paid 12.00 of 15.00 (CLP02 1)", without printf */
    char why[300], a[32], b[32];
    size_t wn = 0;
    const char *parts[] = {"835 ", c->payment ? c->payment->trace : "", ": ", remit_outcome_name(o), ", paid ",
                           money(c->paid, a), " of ", money(c->charge, b), " (CLP02 ", c->status, ")"};
    why[0] = '\0';
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        ch_strcat(why, sizeof why, &wn, parts[i]);
    const char *no = c->payer_claim_no[0] && strcmp(c->payer_claim_no, cl.payer_claim_no) ? c->payer_claim_no : NULL;
    int moved = rcn_move_claim_no(f, &cl, to, no, why);
    if (!moved && cl.state != to && f->fatal == CH_OK) {
        /* a claim paid before stays paid; anything else is for a person to look at */
        if (cl.state != LEDGER_PAID && cl.state != LEDGER_PARTIAL && cl.state != LEDGER_DENIED)
            rcn_worklist(f, "state", cl.id, cl.practice, cl.pcn, c->paid,
                     "835 says %s but the claim is %s: posted, state left as it is", remit_outcome_name(o),
                     ledger_state_name(cl.state));
    }
    report_posting(f, &cp, &cl, moved ? to : cl.state, used);
}

void rcn_on_835_plb(void *ctx, const remit_payment *p, const remit_plb *plb)
{
    file_ctx *f = ctx;
    (void)p;
    if (f->skip || f->fatal != CH_OK || !f->remit_id)
        return;
    for (unsigned i = 0; i < plb->nadj; i++) {
        ch_code rc = ledger_plb_add(f->r->l, f->remit_id, plb->provider_id, plb->fiscal_date, plb->adj[i].reason,
                                    plb->adj[i].ref, plb->adj[i].amount, &f->ferr);
        if (rc != CH_OK) {
            rcn_fail_db(f, rc);
            return;
        }
        f->res->plb_cents += plb->adj[i].amount;
    }
}

void rcn_on_835_payment_end(void *ctx, const remit_payment *p)
{
    file_ctx *f = ctx;
    if (f->skip || f->fatal != CH_OK || !f->remit_id)
        return;
    int flagged = !p->balanced || p->balance_errors || p->errors || !p->complete;
    char key[64], a[32], b[32];
    remit_payment_key(p, key, sizeof key);
    if (!p->balanced || p->balance_errors) {
        f->res->flagged = 1;
        rcn_worklist(f, "unbalanced", 0, NULL, key, p->amount,
                 "835 payment %s does not balance (%u balancing errors; BPR02 %s, claims paid less PLB %s)%s%s", key,
                 p->balance_errors, money(p->amount, a), money(p->total_paid - p->total_plb, b),
                 f->ndiag_kept ? ": first: " : "", f->ndiag_kept ? f->first_diag[0] : "");
    }
    rcn_fail_db(f, ledger_remittance_finish(f->r->l, f->remit_id, f->pay_claims, flagged, &f->ferr));
}
