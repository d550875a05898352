/* reconcile_ack.c - 999 and 277CA files against the batches and claims
 * sent (see reconcile.h); the 835 is posted in reconcile_835.c. */
#include "reconcile_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* --- 999 ----------------------------------------------------------------------------- */

typedef struct id_state {
    int64_t id;
    ledger_state state;
    char pcn[21];
    char practice[32];
} id_state;

typedef struct claim_list {
    id_state *v;
    size_t n, cap;
} claim_list;

static int collect_claim(void *ctx, const ledger_claim *c)
{
    claim_list *cl = ctx;
    if (cl->n == cl->cap) {
        size_t cap = cl->cap ? cl->cap * 2 : 64;
        id_state *v = realloc(cl->v, cap * sizeof *v);
        if (!v)
            return 1;
        cl->v = v;
        cl->cap = cap;
    }
    id_state *s = &cl->v[cl->n++];
    s->id = c->id;
    s->state = c->state;
    snprintf(s->pcn, sizeof s->pcn, "%s", c->pcn);
    snprintf(s->practice, sizeof s->practice, "%s", c->practice);
    return 0;
}

void rcn_on_999_set(void *ctx, const ack_999_group *g, const ack_999_set *s)
{
    file_ctx *f = ctx;
    reconciler *r = f->r;
    if (f->fatal != CH_OK)
        return;
    f->res->sets++;
    if (s->orphan || !s->complete)
        return; /* nothing can be marked: reported by the reader (999.ak2.missing, 999.ik5.missing) */
    char *end = NULL;
    unsigned long long gs06 = strtoull(g->control, &end, 10);
    unsigned long long st02 = strtoull(s->control, NULL, 10);
    ledger_batch b[2];
    size_t nb = 0;
    if (!end || end == g->control ||
        (rcn_fail_db(f, ledger_batches_by_gs06(r->l, gs06, f->isa_receiver, f->isa_sender, b, 2, &nb, &f->ferr)),
         f->fatal != CH_OK)) {
        if (f->fatal == CH_OK)
            rcn_worklist(f, "unmatched", 0, NULL, g->control, 0, "999: group control number '%s' is not a number",
                     g->control);
        return;
    }
    if (nb != 1) {
        f->res->unmatched++;
        rcn_worklist(f, nb ? "ambiguous" : "unmatched", 0, NULL, g->control, 0,
                 "999 for group %s, set %s: %s", g->control, s->control,
                 nb ? "several batches have this group control number" : "no batch has this group control number");
        return;
    }
    const payer_profile *pp = config_profile(r->cfg, b[0].payer);
    if (pp)
        rcn_use_payer(f, pp);
    snprintf(f->practice, sizeof f->practice, "%s", b[0].practice);
    /* the set's claims: the batch's claims in id order, claims_per_transaction to a set */
    claim_list cl = {0};
    ledger_filter flt;
    memset(&flt, 0, sizeof flt);
    flt.state = -1;
    flt.batch_id = b[0].id;
    ch_code rc = ledger_claims_each(r->l, &flt, collect_claim, &cl, &f->ferr);
    if (rc != CH_OK) {
        rcn_fail_db(f, rc);
        free(cl.v);
        return;
    }
    size_t from = 0, to = cl.n;
    if (b[0].st_count > 1) {
        unsigned long per = pp ? pp->claims_per_transaction : 0;
        if (st02 < b[0].st02_first || st02 >= b[0].st02_first + b[0].st_count || !per) {
            rcn_worklist(f, "unmatched", 0, b[0].practice, s->control, 0,
                     "999 for batch %" PRId64 ": transaction set %s is not one of its sets", b[0].id, s->control);
            f->res->unmatched++;
            free(cl.v);
            return;
        }
        from = (size_t)((st02 - b[0].st02_first) * per);
        to = from + per < cl.n ? from + per : cl.n;
    } else if (b[0].st_count == 1 && st02 != b[0].st02_first) {
        rcn_worklist(f, "unmatched", 0, b[0].practice, s->control, 0,
                 "999 for batch %" PRId64 ": transaction set %s was not sent in it (its set is %04" PRIu64 ")", b[0].id,
                 s->control, b[0].st02_first);
        f->res->unmatched++;
        free(cl.v);
        return;
    }
    /* the reason: the summary and each error in words */
    char reason[1024];
    size_t n = (size_t)snprintf(reason, sizeof reason, "999 %s", s->summary);
    /* an error a CTX puts in a claim names it: the claim to fix */
    for (unsigned i = 0; i < s->nerrors && n < sizeof reason; i++)
        n += (size_t)snprintf(reason + n, sizeof reason - n, "; %s%s%s%s", s->errors[i].claim_ref[0] ? "claim " : "",
                              s->errors[i].claim_ref, s->errors[i].claim_ref[0] ? ": " : "", s->errors[i].reason);
    if (s->dropped && n < sizeof reason)
        snprintf(reason + n, sizeof reason - n, "; and %u more", s->dropped);
    int dup = 0;
    ledger_ack a = {.batch_id = b[0].id, .file = f->path, .sha256 = f->res->sha256, .gs06 = g->control,
                    .st02 = s->control, .accepted = s->accepted, .status = s->status, .reason = reason,
                    .claims = (unsigned)(to - from)};
    if ((rc = ledger_ack_add(r->l, &a, &dup, &f->ferr)) != CH_OK) {
        rcn_fail_db(f, rc);
        free(cl.v);
        return;
    }
    if (dup) {
        f->res->duplicates++;
        free(cl.v);
        return;
    }
    for (size_t i = from; i < to && f->fatal == CH_OK; i++) {
        ledger_claim_brief c;
        memset(&c, 0, sizeof c);
        c.id = cl.v[i].id;
        c.state = cl.v[i].state;
        c.batch_id = b[0].id;
        f->res->claims++;
        if (s->accepted) {
            if (c.state == LEDGER_SENT && rcn_move_claim(f, &c, LEDGER_ACKNOWLEDGED, reason))
                f->res->acknowledged++;
        } else if (c.state == LEDGER_SENT || c.state == LEDGER_ACKNOWLEDGED || c.state == LEDGER_ACCEPTED) {
            if (rcn_move_claim(f, &c, LEDGER_REJECTED, reason)) {
                f->res->rejected++;
                /* a CTX naming the claim points the worklist at it */
                const char *why = reason;
                for (unsigned k = 0; k < s->nerrors; k++)
                    if (!strcmp(s->errors[k].claim_ref, cl.v[i].pcn))
                        why = s->errors[k].reason;
                rcn_worklist(f, "rejected", c.id, cl.v[i].practice, cl.v[i].pcn, 0, "%s", why);
            }
        }
    }
    free(cl.v);
}

/* --- 277CA ----------------------------------------------------------------------------- */

void rcn_on_277_level(void *ctx, const status_277_level *lv)
{
    file_ctx *f = ctx;
    if (lv->kind == STATUS_277_SOURCE && !f->payer_hint) {
        const char *ids[] = {lv->id, f->isa_sender + (strchr(f->isa_sender, ':') ? strchr(f->isa_sender, ':') - f->isa_sender + 1 : 0)};
        const payer_profile *p = rcn_find_payer(f->r->cfg, ids, 2);
        if (p)
            rcn_use_payer(f, p);
    }
}

void rcn_on_277_claim(void *ctx, const status_277_claim *c)
{
    file_ctx *f = ctx;
    if (f->fatal != CH_OK)
        return;
    f->res->claims++;
    /* a claim without its own status takes its provider's or receiver's */
    const status_277_status *st = &c->status;
    if (st->verdict == STATUS_277_NONE && c->provider && c->provider->status.verdict != STATUS_277_NONE)
        st = &c->provider->status;
    if (st->verdict == STATUS_277_NONE && c->receiver && c->receiver->status.verdict != STATUS_277_NONE)
        st = &c->receiver->status;
    match_query q;
    match_result m;
    match_query_from_277(c, &q);
    match_status ms = rcn_find_claim(f, &q, &m);
    if (f->fatal != CH_OK)
        return;
    if (ms != MATCH_MATCHED) {
        if (ms == MATCH_AMBIGUOUS)
            f->res->ambiguous++;
        else
            f->res->unmatched++;
        rcn_worklist(f, ms == MATCH_AMBIGUOUS ? "ambiguous" : "unmatched", 0, NULL, c->pcn, 0, "277CA (%s): %s",
                 status_277_verdict_name(st->verdict), m.why);
        return;
    }
    ledger_claim_brief cl = *f->matched;
    char why[900];
    snprintf(why, sizeof why, "277CA: %s", st->reason[0] ? st->reason : status_277_verdict_name(st->verdict));
    switch (st->verdict) {
    case STATUS_277_ACCEPTED:
        if (cl.state == LEDGER_SENT || cl.state == LEDGER_ACKNOWLEDGED) {
            if (rcn_move_claim_no(f, &cl, LEDGER_ACCEPTED, c->payer_claim_no, why))
                f->res->accepted++;
        } else if (c->payer_claim_no[0] && strcmp(c->payer_claim_no, cl.payer_claim_no))
            rcn_fail_db(f, ledger_claim_set_payer_claim_no(f->r->l, cl.id, c->payer_claim_no, &f->ferr));
        break;
    case STATUS_277_REJECTED:
        if ((cl.state == LEDGER_SENT || cl.state == LEDGER_ACKNOWLEDGED || cl.state == LEDGER_ACCEPTED) &&
            rcn_move_claim(f, &cl, LEDGER_REJECTED, why)) {
            f->res->rejected++;
            rcn_worklist(f, "rejected", cl.id, cl.practice, cl.pcn, 0, "%s", why);
        }
        break;
    case STATUS_277_PENDING:
    case STATUS_277_NONE:
        f->res->pending++;
        break;
    }
}
