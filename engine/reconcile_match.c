/*
 * reconcile_match.c - which claim a payer's response is about: the payer
 * (its profile and matching rules, with its payer keys indexed once per
 * run) and the practice a file names, and the ledger as match_claim()
 * sees it: by PCN or payer key (keeping the claim's document for its
 * lines) and by patient, dates and charge (the fallback).  The driver,
 * rcn_find_claim(), is inline in reconcile_int.h: the 835 calls it per claim.
 */
#include "reconcile_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encounter.h"
#include "match_rules.h"
#include "sha256.h"

/* --- payers and practices ------------------------------------------------------------ */

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

/* The practice a payee is: by NPI, else by tax id (without its dashes). */
const config_practice *rcn_find_practice(const config *cfg, const char *npi, const char *tax_id)
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

/* --- the ledger, as matching sees it ---------------------------------------------- */

const claim_ref *rcn_lk_by_pcn(void *ctx, const char *key)
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
 * when it cannot be read.  The one rcn_lk_by_pcn kept is not read again. */
int rcn_load_doc(file_ctx *f, int64_t id, int lines_only)
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

size_t rcn_lk_by_patient(void *ctx, const match_patient_query *q, const claim_ref **out, size_t max)
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
            if (!rcn_load_doc(f, all[i].id, 0) || !ideq(f->r->enc.member_id, q->member_id))
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
