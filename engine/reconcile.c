/* reconcile.c - see reconcile.h */
#include "reconcile.h"
#include "reconcile_int.h"
#include "reconcile_report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ack_999_reader.h"
#include "ch_str.h"
#include "codes.h"
#include "encounter.h"
#include "json_out.h"
#include "log.h"
#include "match_rules.h"
#include "remit_835.h"
#include "sha256.h"
#include "spool.h"
#include "status_277ca_reader.h"
#include "x12_writer.h"

/* --- small helpers (reconcile_int.h) --------------------------------------------- */

void rcn_worklist(file_ctx *f, const char *kind, int64_t claim_id, const char *practice, const char *reference,
                  int64_t amount, const char *fmt, ...)
{
    if (f->fatal != CH_OK)
        return;
    ledger_work_item w;
    memset(&w, 0, sizeof w);
    snprintf(w.kind, sizeof w.kind, "%s", kind);
    snprintf(w.practice, sizeof w.practice, "%s", practice && practice[0] ? practice : f->practice);
    snprintf(w.payer, sizeof w.payer, "%s", f->prof ? f->prof->name : "");
    w.claim_id = claim_id;
    w.remittance_id = f->remit_id;
    snprintf(w.file, sizeof w.file, "%s", f->path);
    snprintf(w.reference, sizeof w.reference, "%s", reference ? reference : "");
    w.amount_cents = amount;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w.reason, sizeof w.reason, fmt, ap);
    va_end(ap);
    ch_code rc = ledger_worklist_add(f->r->l, &w, &f->ferr);
    if (rc != CH_OK)
        f->fatal = rc;
    else
        f->res->worklist++;
}

void rcn_fail_db(file_ctx *f, ch_code rc)
{
    if (rc != CH_OK && f->fatal == CH_OK)
        f->fatal = rc;
}

static void on_diag(void *ctx, const x12_diag *d)
{
    file_ctx *f = ctx;
    if (d->severity < X12_SEV_ERROR)
        return;
    f->res->errors++;
    if (d->level == 3 || (d->code && !strncmp(d->code, "835.balance", 11)))
        f->res->balance_errors++;
    if (f->ndiag_kept < 3) {
        /* the code, place and message in words: never the value found (PHI) */
        snprintf(f->first_diag[f->ndiag_kept++], sizeof f->first_diag[0], "%s at segment %llu: %s",
                 d->code ? d->code : "x12", (unsigned long long)d->pos.seg_no, d->msg);
    }
}

/* The signature of a payer's transform steps: the claim_keys index is kept per signature. */
static void rules_sig(const match_rules *r, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < r->nsteps && n < size; i++) {
        const match_step *s = &r->steps[i];
        n += (size_t)snprintf(out + n, size - n, "%s%d/%u", i ? "|" : "", (int)s->kind, s->n);
        for (unsigned k = 0; k < s->nargs && n < size; k++)
            n += (size_t)snprintf(out + n, size - n, "/%s", s->args[k]);
    }
}

static size_t key_fn(void *ctx, const char *pcn, char *out, size_t size)
{
    return match_pcn_key(ctx, pcn, out, size);
}

/* Use a payer's rules; index its payer keys once per run. */
void rcn_use_payer(file_ctx *f, const payer_profile *p)
{
    if (f->prof == p && f->rules)
        return;
    f->prof = p;
    f->rules = p ? &p->remit : &f->r->dflt;
    f->sig[0] = '\0';
    if (p) {
        snprintf(f->res->payer, sizeof f->res->payer, "%s", p->name);
        if (p->remit.nsteps) {
            rules_sig(&p->remit, f->sig, sizeof f->sig);
            char tag[160];
            sha256_ctx h;
            uint8_t dg[SHA256_DIGEST];
            char hex[SHA256_HEX];
            sha256_init(&h);
            sha256_update(&h, f->sig, strlen(f->sig));
            sha256_final(&h, dg);
            sha256_hex(dg, hex);
            snprintf(f->sig, sizeof f->sig, "%.16s", hex);
            snprintf(tag, sizeof tag, "%s\x1f%s", p->name, f->sig);
            reconciler *r = f->r;
            for (size_t i = 0; i < r->nkeyed; i++)
                if (!strcmp(r->keyed[i], tag))
                    return;
            ch_code rc = ledger_claim_keys_refresh(r->l, p->name, f->sig, key_fn, (void *)&p->remit, &f->ferr);
            rcn_fail_db(f, rc);
            void *nk = realloc(r->keyed, (r->nkeyed + 1) * sizeof *r->keyed);
            if (nk) {
                r->keyed = nk;
                snprintf(r->keyed[r->nkeyed++], sizeof r->keyed[0], "%s", tag);
            }
        }
    }
}

static int ideq(const char *a, const char *b)
{
    /* ids compare without blanks at the ends */
    while (*a == ' ')
        a++;
    while (*b == ' ')
        b++;
    size_t la = strlen(a), lb = strlen(b);
    while (la && a[la - 1] == ' ')
        la--;
    while (lb && b[lb - 1] == ' ')
        lb--;
    return la && la == lb && !strncmp(a, b, la);
}

/* The payer profile that one of these ids names (payer id, interchange id,
 * receiver id), or NULL. */
const payer_profile *rcn_find_payer(const config *cfg, const char *const *ids, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (!ids[k] || !ids[k][0])
            continue;
        for (size_t i = 0; i < cfg->nprofiles; i++) {
            const payer_profile *p = cfg->profiles[i];
            if (ideq(p->payer_id, ids[k]) || ideq(p->isa08, ids[k]) || ideq(p->receiver_id, ids[k]))
                return p;
        }
    }
    return NULL;
}

static const config_practice *find_practice(const config *cfg, const char *npi, const char *tax_id)
{
    for (size_t i = 0; i < cfg->npractices; i++) {
        const config_practice *p = &cfg->practices[i];
        if (npi && npi[0] && ideq(p->npi, npi))
            return p;
    }
    for (size_t i = 0; i < cfg->npractices; i++) {
        const config_practice *p = &cfg->practices[i];
        char t[64];
        size_t k = 0;
        for (const char *s = tax_id ? tax_id : ""; *s && k + 1 < sizeof t; s++)
            if (*s != '-')
                t[k++] = *s;
        t[k] = '\0';
        if (k && ideq(p->tax_id, t))
            return p;
    }
    return NULL;
}

/* --- the ledger, as matching sees it ---------------------------------------------- */

static const claim_ref *lk_by_pcn(void *ctx, const char *key)
{
    file_ctx *f = ctx;
    size_t n = 0;
    const void *doc = NULL;
    size_t len = 0;
    f->doc_id = 0;
    ch_code rc = ledger_claims_by_key_doc(f->r->l, f->prof ? f->prof->name : NULL, NULL, f->sig, key, f->found, 2,
                                          &n, &doc, &len, &f->ferr);
    if (rc != CH_OK) {
        rcn_fail_db(f, rc);
        return NULL;
    }
    if (n == 0)
        return NULL;
    if (n > 1)
        return MATCH_MANY;
    if (doc && len) {
        /* kept: the ledger's copy lasts only until its next lookup */
        if (len > f->doc_cap) {
            char *p = realloc(f->doc, len);
            if (p) {
                f->doc = p;
                f->doc_cap = len;
            }
        }
        if (len <= f->doc_cap) {
            memcpy(f->doc, doc, len);
            f->doc_len = len;
            f->doc_id = f->found[0].id;
        }
    }
    f->found_ref = (claim_ref){.id = (uint64_t)f->found[0].id, .pcn = f->found[0].pcn,
                               .charge = f->found[0].total_cents, .user = &f->found[0]};
    return &f->found_ref;
}

/* Unpack a claim's document (only its lines: lines_only) into r->enc; 0
 * when it cannot be read. */
static int load_doc(file_ctx *f, int64_t id, int lines_only)
{
    ch_error e;
    ch_code (*unpack)(encounter *, const char *, size_t, ch_error *) =
        lines_only ? encounter_unpack_lines : encounter_unpack;
    encounter_clear(&f->r->enc);
    encounter_init(&f->r->enc);
    if (f->doc_id == id)
        return unpack(&f->r->enc, f->doc, f->doc_len, &e) == CH_OK;
    void *doc = NULL;
    size_t len = 0;
    if (ledger_claim_doc(f->r->l, id, &doc, &len, &e) != CH_OK)
        return 0;
    int ok = unpack(&f->r->enc, doc, len, &e) == CH_OK;
    free(doc);
    return ok;
}

static size_t lk_by_patient(void *ctx, const match_patient_query *q, const claim_ref **out, size_t max)
{
    file_ctx *f = ctx;
    if (!q->date_from || !q->date_from[0])
        return 0;
    ledger_claim_brief all[MAX_CANDIDATES];
    size_t n = 0;
    ch_code rc = ledger_claims_by_charge_dates(f->r->l, f->prof ? f->prof->name : NULL, NULL, q->charge, q->date_from,
                                               q->date_to, all, MAX_CANDIDATES, &n, &f->ferr);
    if (rc != CH_OK) {
        rcn_fail_db(f, rc);
        return 0;
    }
    if (n > MAX_CANDIDATES)
        n = MAX_CANDIDATES; /* more than that many is ambiguous all the same */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        /* the member id must be the one billed */
        if (q->member_id && q->member_id[0]) {
            if (!load_doc(f, all[i].id, 0) || !ideq(f->r->enc.member_id, q->member_id))
                continue;
        }
        f->cands[kept] = all[i];
        f->cand_refs[kept] = (claim_ref){.id = (uint64_t)all[i].id, .pcn = f->cands[kept].pcn,
                                         .charge = all[i].total_cents, .user = &f->cands[kept]};
        if (kept < max)
            out[kept] = &f->cand_refs[kept];
        kept++;
    }
    return kept;
}

static const match_lookup *lookup_of(file_ctx *f, match_lookup *lk)
{
    lk->by_pcn = lk_by_pcn;
    lk->by_patient_dates_charge = lk_by_patient;
    lk->by_trace = NULL;
    lk->ctx = f;
    return lk;
}

/* Match a claim; on a match f->matched is its brief. */
match_status rcn_find_claim(file_ctx *f, const match_query *q, match_result *m)
{
    match_lookup lk;
    f->matched = NULL;
    match_claim(f->rules, lookup_of(f, &lk), q, m);
    if (m->status == MATCH_MATCHED && m->claim)
        f->matched = m->claim->user;
    return f->fatal != CH_OK ? MATCH_UNMATCHED : m->status;
}

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

static void on_payment(void *ctx, const remit_payment *p)
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
    const config_practice *pr = find_practice(r->cfg, p->payee_npi, p->payee_tax_id);
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
    if (!load_doc(f, (int64_t)ref->id, 1))
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

static void on_claim(void *ctx, const remit_payment *p, const remit_claim *c)
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

static void on_plb(void *ctx, const remit_payment *p, const remit_plb *plb)
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

static void on_payment_end(void *ctx, const remit_payment *p)
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

/* --- files ----------------------------------------------------------------------------- */

/* The interchange's sender and receiver ("QQ:ID") and the first ST01. */
static void sniff(const char *buf, size_t len, char *st01, size_t st01_size, char *sender, char *receiver)
{
    st01[0] = sender[0] = receiver[0] = '\0';
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\r' || buf[i] == '\n' || buf[i] == '\t'))
        i++;
    if (len - i < 106 || strncmp(buf + i, "ISA", 3))
        return;
    const char *isa = buf + i;
    char es = isa[3];
    /* the 16 ISA elements */
    const char *el[17];
    unsigned ne = 0;
    size_t k = 3;
    while (k < len - i && ne < 17) {
        if (isa[k] == es) {
            el[ne++] = isa + k + 1;
            if (ne == 16)
                break;
        }
        k++;
    }
    if (ne < 16)
        return;
    const char *end16 = el[15] + 1; /* ISA16 is one character */
    if ((size_t)(end16 - buf) >= len)
        return;
    char ss = *end16;
    char q[4], id[20];
#define ELEM(n, out)                                                             \
    do {                                                                         \
        const char *s_ = el[(n)-1];                                              \
        size_t m_ = strcspn(s_, (char[]){es, '\0'});                             \
        if (m_ >= sizeof(out))                                                   \
            m_ = sizeof(out) - 1;                                                \
        memcpy(out, s_, m_);                                                     \
        out[m_] = '\0';                                                          \
        while (m_ && out[m_ - 1] == ' ')                                         \
            out[--m_] = '\0';                                                    \
    } while (0)
    ELEM(5, q);
    ELEM(6, id);
    snprintf(sender, 40, "%s:%s", q, id);
    ELEM(7, q);
    ELEM(8, id);
    snprintf(receiver, 40, "%s:%s", q, id);
#undef ELEM
    /* the first ST */
    const char *p = end16;
    const char *lim = buf + len;
    while (p && p < lim) {
        p = memchr(p, ss, (size_t)(lim - p));
        if (!p)
            break;
        p++;
        while (p < lim && (*p == '\r' || *p == '\n'))
            p++;
        if (lim - p > 3 && p[0] == 'S' && p[1] == 'T' && p[2] == es) {
            size_t m = 0;
            p += 3;
            while (p + m < lim && p[m] != es && p[m] != ss && m + 1 < st01_size)
                m++;
            memcpy(st01, p, m);
            st01[m] = '\0';
            return;
        }
    }
}

/* Under the lock no other reconciliation is alive: a report's temporary
 * file in SPOOL/reports/<practice>/ is a dead run's, whose postings the
 * ledger still holds as unreported (see reconcile_finish). */
static void sweep_report_temporaries(const config *cfg)
{
    for (size_t i = 0; i < cfg->npractices; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s/%s", cfg->spool, SPOOL_REPORTS, cfg->practices[i].id);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            size_t n = strlen(de->d_name);
            if (strncmp(de->d_name, ".posting-", 9) || n < 13 || strcmp(de->d_name + n - 4, ".tmp"))
                continue;
            if (unlinkat(dirfd(d), de->d_name, 0) == 0)
                log_msg(LOG_WARNING, "reconcile: removed %s/%s, left by a run that was stopped", dir, de->d_name);
        }
        closedir(d);
    }
}

ch_code reconcile_new(reconciler **out, const config *cfg, ledger *l, const reconcile_opts *opts, ch_error *err)
{
    *out = NULL;
    reconciler *r = calloc(1, sizeof *r);
    if (!r)
        return ch_error_set(err, CH_ERR_NOMEM, "reconcile: out of memory");
    r->cfg = cfg;
    r->l = l;
    if (opts)
        r->opts = *opts;
    if (!r->opts.actor)
        r->opts.actor = "reconcile";
    match_rules_init(&r->dflt);
    encounter_init(&r->enc);
    /* One reconciler at a time per spool (the daemon's and an operator's):
     * the reports of a run that died are written by the next, which must
     * not take a live run's postings for those. */
    char lock[4096];
    snprintf(lock, sizeof lock, "%s/.reconcile.lock", cfg->spool);
    ch_code rc = spool_init(cfg->spool, err);
    if (rc == CH_OK && (r->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
        rc = ch_error_set(err, CH_ERR_IO, "%s: %s", lock, strerror(errno));
    if (rc == CH_OK && flock(r->lockfd, LOCK_EX | LOCK_NB) < 0) {
        log_msg(LOG_INFO, "reconcile: waiting for another reconcile of %s to finish", cfg->spool);
        while (flock(r->lockfd, LOCK_EX) < 0 && errno == EINTR)
            ;
    }
    if (rc != CH_OK) {
        r->lockfd = -1;
        reconcile_free(r);
        return rc;
    }
    sweep_report_temporaries(cfg);
    *out = r;
    return CH_OK;
}

void reconcile_free(reconciler *r)
{
    if (!r)
        return;
    match_rules_free(&r->dflt);
    encounter_clear(&r->enc);
    reconcile_report_discard(r->rep);
    free(r->keyed);
    free(r->posted);
    if (r->lockfd >= 0)
        close(r->lockfd); /* and the lock with it */
    free(r);
}

ch_code reconcile_file(reconciler *r, const char *path, const char *payer, reconcile_file_result *res, ch_error *err)
{
    memset(res, 0, sizeof *res);
    snprintf(res->path, sizeof res->path, "%s", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ch_error_set(err, CH_ERR_IO, "%s: not a regular file", path);
    }
    size_t len = (size_t)sb.st_size;
    void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (len && map == MAP_FAILED)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    if (len)
        madvise(map, len, MADV_SEQUENTIAL);
    const char *buf = len ? map : "";
    sha256_hex_of(buf, len, res->sha256);

    file_ctx *f = calloc(1, sizeof *f);
    if (!f) {
        if (len)
            munmap(map, len);
        return ch_error_set(err, CH_ERR_NOMEM, "reconcile: out of memory");
    }
    f->r = r;
    f->res = res;
    f->path = path;
    f->payer_hint = payer;
    f->rules = &r->dflt;
    if (r->rep)
        reconcile_report_mark(r->rep); /* a failure below takes the file's postings back */
    size_t posted_mark = r->nposted;
    char st01[8];
    sniff(buf, len, st01, sizeof st01, f->isa_sender, f->isa_receiver);
    ch_code rc = CH_OK;
    if (!strcmp(st01, "999"))
        snprintf(res->kind, sizeof res->kind, "999");
    else if (!strcmp(st01, "277"))
        snprintf(res->kind, sizeof res->kind, "277CA");
    else if (!strcmp(st01, "835"))
        snprintf(res->kind, sizeof res->kind, "835");
    else {
        rc = ch_error_set(err, CH_ERR_SYNTAX, "%s: not a 999, 277CA or 835 (%s)", path,
                          st01[0] ? "transaction set" : "no ISA and ST found");
        goto out;
    }
    if (payer) {
        const payer_profile *pp = config_profile(r->cfg, payer);
        if (!pp) {
            rc = ch_error_set(err, CH_ERR_CONFIG, "%s: payer '%s' is not configured", path, payer);
            goto out;
        }
        snprintf(res->payer, sizeof res->payer, "%s", payer);
    }
    if ((rc = ledger_begin(r->l, err)) != CH_OK)
        goto out;
    if (payer)
        rcn_use_payer(f, config_profile(r->cfg, payer));
    else if (strcmp(res->kind, "835")) {
        const char *id = strchr(f->isa_sender, ':');
        const char *ids[] = {id ? id + 1 : f->isa_sender};
        const payer_profile *pp = rcn_find_payer(r->cfg, ids, 1);
        if (pp)
            rcn_use_payer(f, pp);
    }
    ch_code rrc = CH_OK;
    ch_error rerr;
    memset(&rerr, 0, sizeof rerr);
    if (!strcmp(res->kind, "999")) {
        ack_999_events ev = {.set = rcn_on_999_set, .ctx = f};
        rrc = ack_999_read_mem(buf, len, path, &ev, on_diag, f, NULL, &rerr);
    } else if (!strcmp(res->kind, "277CA")) {
        status_277_events ev = {.level = rcn_on_277_level, .claim = rcn_on_277_claim, .ctx = f};
        rrc = status_277_read_mem(buf, len, path, &ev, on_diag, f, NULL, &rerr);
    } else {
        remit_835_events ev = {.payment = on_payment, .claim = on_claim, .plb = on_plb, .payment_end = on_payment_end,
                               .ctx = f};
        rrc = remit_835_read_mem(buf, len, path, &ev, on_diag, f, NULL, &rerr);
    }
    if (f->fatal != CH_OK) {
        ledger_rollback(r->l);
        /* nothing of the file was posted: forget its remittances */
        rc = ch_error_set(err, f->fatal, "%s: %s (nothing of the file was posted)", path, f->ferr.msg);
        goto out;
    }
    if (rrc == CH_ERR_NOMEM) {
        ledger_rollback(r->l);
        rc = ch_error_set(err, rrc, "%s: %s", path, rerr.msg);
        goto out;
    }
    /* a file that broke the rules: posted as far as readable, and flagged */
    if (rrc != CH_OK || res->errors > res->balance_errors) {
        res->flagged = 1;
        rcn_worklist(f, "invalid", 0, NULL, res->sha256, 0, "%s %s: %u error%s in the file%s%s%s%s; what was readable was posted",
                 res->kind, path, res->errors, res->errors == 1 ? "" : "s", rrc != CH_OK ? ", reading stopped: " : "",
                 rrc != CH_OK ? rerr.msg : "", f->ndiag_kept ? "; first: " : "", f->ndiag_kept ? f->first_diag[0] : "");
    }
    if (res->balance_errors)
        res->flagged = 1;
    if (f->fatal == CH_OK)
        rc = ledger_commit(r->l, err);
    else {
        ledger_rollback(r->l);
        rc = ch_error_set(err, f->fatal, "%s: %s", path, f->ferr.msg);
    }
    if (rc == CH_OK)
        log_msg(LOG_INFO, "reconciled %s (%s): %u claims, %u posted, %u unmatched, %u ambiguous, %u worklist", path,
                res->kind, res->claims, res->posted, res->unmatched, res->ambiguous, res->worklist);
out:
    if (rc != CH_OK && r->rep)
        reconcile_report_drop(r->rep); /* nothing of the file was posted: not in the reports */
    if (rc != CH_OK)
        r->nposted = posted_mark;
    free(f->doc);
    free(f);
    if (len)
        munmap(map, len);
    return rc;
}

/* Remittances committed by a run that died before its reports were in place. */
typedef struct orphans {
    reconciler *r;
    int64_t *v;
    size_t n, cap;
    int nomem;
} orphans;

static int on_unreported(void *ctx, int64_t id)
{
    orphans *o = ctx;
    for (size_t i = 0; i < o->r->nposted; i++)
        if (o->r->posted[i] == id)
            return 0; /* this run's: its postings are in the reports already */
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        int64_t *v = realloc(o->v, cap * sizeof *v);
        if (!v) {
            o->nomem = 1;
            return 1;
        }
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = id;
    return 0;
}

static int on_stored(void *ctx, const ledger_posting *p)
{
    reconcile_report_add_stored(ctx, p);
    return 0;
}

/* Their postings into this run's reports, read back from the ledger. */
static ch_code add_orphans(reconciler *r, orphans *o, ch_error *err)
{
    ch_code rc = ledger_remittances_unreported(r->l, on_unreported, o, err);
    if (rc == CH_OK && o->nomem)
        rc = ch_error_set(err, CH_ERR_NOMEM, "reconcile: out of memory");
    if (rc != CH_OK || !o->n)
        return rc;
    log_msg(LOG_WARNING,
            "reconcile: %zu remittance%s posted by an earlier run that stopped before its posting reports; "
            "their postings are in this run's reports",
            o->n, o->n == 1 ? "" : "s");
    if (!r->rep && (rc = reconcile_report_open(&r->rep, r->cfg->spool, r->opts.reports_dir, err)) != CH_OK)
        return rc;
    for (size_t i = 0; i < o->n && rc == CH_OK; i++)
        rc = ledger_postings_each(r->l, o->v[i], on_stored, r->rep, err);
    return rc;
}

ch_code reconcile_finish(reconciler *r, void (*on_report)(void *ctx, const char *practice, const char *path),
                         void *ctx, ch_error *err)
{
    ch_code rc = r->rep_rc;
    if (rc != CH_OK && err)
        *err = r->rep_err;
    orphans o = {r, NULL, 0, 0, 0};
    ch_error e2;
    if (rc == CH_OK && !r->opts.no_reports)
        rc = add_orphans(r, &o, err ? err : &e2);
    ch_code rc2 = reconcile_report_finish(r->rep, on_report, ctx, rc == CH_OK ? err : NULL);
    r->rep = NULL;
    r->rep_rc = CH_OK;
    if (rc == CH_OK)
        rc = rc2;
    /* The reports are in place (or not wanted): this run's remittances and
     * the orphans are reported.  A crash before this line writes them again
     * next time: a report twice rather than none. */
    if (rc == CH_OK) {
        rc = ledger_remittances_reported(r->l, r->posted, r->nposted, err);
        if (rc == CH_OK)
            rc = ledger_remittances_reported(r->l, o.v, o.n, err);
        if (rc == CH_OK)
            r->nposted = 0;
    }
    free(o.v);
    return rc;
}

