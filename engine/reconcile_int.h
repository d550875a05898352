/*
 * reconcile_int.h - what the pieces of reconciliation share (internal, not
 * an interface of the engine): the reconciler, the state of one file being
 * read, and the helpers its files use from each other: reconcile.c (the
 * reconciler, files, worklist), reconcile_match.c (payers, practices and
 * the ledger's lookups for matching), reconcile_835.c (835 posting, claim
 * moves) and reconcile_ack.c (999, 277CA).  The two helpers the 835 calls
 * per claim from another file, rcn_fail_db and rcn_find_claim, are inline
 * here so that the split costs the hot path no calls.
 */
#ifndef RECONCILE_INT_H
#define RECONCILE_INT_H

#include "ack_999_reader.h"
#include "encounter.h"
#include "match_rules.h"
#include "reconcile.h"
#include "reconcile_report.h"
#include "remit_835.h"
#include "status_277ca_reader.h"
#include "x12_writer.h"

#define MAX_CANDIDATES 8

struct reconciler {
    const config *cfg;
    ledger *l;
    reconcile_opts opts;
    reconcile_report *rep;        /* the run's posting reports (opened at the first posting) */
    ch_code rep_rc;               /* they could not be opened */
    ch_error rep_err;
    int lockfd;                   /* SPOOL/.reconcile.lock, held from new to free */
    int64_t *posted;              /* remittances recorded in this run (their reports are this run's) */
    size_t nposted, capposted;
    match_rules dflt;             /* rules for a payer we do not know */
    encounter enc;                /* a claim's document, unpacked for its lines */
    /* payer keys indexed in this run: "payer\x1fsig" */
    char (*keyed)[160];
    size_t nkeyed;
};

/* What one file is being read with. */
typedef struct file_ctx {
    reconciler *r;
    reconcile_file_result *res;
    const char *path;
    const char *payer_hint;
    const payer_profile *prof;    /* NULL: unknown */
    const match_rules *rules;
    char sig[512];                /* payer key signature ("" when no transform) */
    char isa_sender[40], isa_receiver[40]; /* "ZZ:ID" */
    char practice[32];            /* 835: from the payee */
    ch_code fatal;                /* a ledger failure: stop posting */
    ch_error ferr;
    /* diagnostics */
    char first_diag[3][200];
    unsigned ndiag_kept;
    /* 835 */
    int64_t remit_id;             /* 0: none (skipped) */
    char trace_key[64];           /* its TRN03/TRN02, for the reports */
    int skip;                     /* a payment posted before */
    unsigned pay_claims;
    /* lookups */
    ledger_claim_brief found[2];
    claim_ref found_ref;
    /* the document of found[0], read with it (for the lines) */
    char *doc;
    size_t doc_len, doc_cap;
    int64_t doc_id;               /* 0: none */
    ledger_claim_brief cands[MAX_CANDIDATES];
    claim_ref cand_refs[MAX_CANDIDATES];
    claim_line_ref lines[ENC_MAX_LINES];
    const ledger_claim_brief *matched;
    /* a claim payment as posted: its adjustments (claim and lines) and lines */
    ledger_adjustment adjv[REMIT_MAX_ADJ];
    ledger_line_payment linev[REMIT_MAX_LINES];
    char mods[REMIT_MAX_LINES][16];
} file_ctx;

/* cents as "-12.34" */
static inline const char *money(int64_t c, char buf[32]) { return x12_cents_fixed(c, buf); }

/* reconcile.c: an item for a person to look at (the worklist), counted in f->res. */
void rcn_worklist(file_ctx *f, const char *kind, int64_t claim_id, const char *practice, const char *reference,
                  int64_t amount, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* A ledger failure: posting of the file stops (f->fatal).  Inline: called
 * after each ledger call, per claim. */
static inline void rcn_fail_db(file_ctx *f, ch_code rc)
{
    if (rc != CH_OK && f->fatal == CH_OK)
        f->fatal = rc;
}

/* reconcile_match.c: the payer's profile and matching rules for the rest of the file. */
void rcn_use_payer(file_ctx *f, const payer_profile *p);
/* The configured payer known by one of the n ids, or NULL. */
const payer_profile *rcn_find_payer(const config *cfg, const char *const *ids, size_t n);
/* The configured practice with this NPI, else this tax id, or NULL. */
const config_practice *rcn_find_practice(const config *cfg, const char *npi, const char *tax_id);
/* match_lookup.by_pcn (ctx: the file_ctx): keeps the one claim's document in f->doc. */
const claim_ref *rcn_lk_by_pcn(void *ctx, const char *key);
/* match_lookup.by_patient_dates_charge (ctx: the file_ctx). */
size_t rcn_lk_by_patient(void *ctx, const match_patient_query *q, const claim_ref **out, size_t max);
/* A claim's document (its lines only: lines_only) unpacked into f->r->enc; 0 when unreadable. */
int rcn_load_doc(file_ctx *f, int64_t id, int lines_only);

/* The claim a response names, by the payer's rules (never a guess); on a
 * match f->matched is its brief.  Inline: the 835 matches each claim with it. */
static inline match_status rcn_find_claim(file_ctx *f, const match_query *q, match_result *m)
{
    match_lookup lk;
    f->matched = NULL;
    lk.by_pcn = rcn_lk_by_pcn;
    lk.by_patient_dates_charge = rcn_lk_by_patient;
    lk.by_trace = NULL;
    lk.ctx = f;
    match_claim(f->rules, &lk, q, m);
    if (m->status == MATCH_MATCHED && m->claim)
        f->matched = m->claim->user;
    return f->fatal != CH_OK ? MATCH_UNMATCHED : m->status;
}

/* reconcile_835.c: move a claim (and set the payer's claim number); 1 when it moved. */
int rcn_move_claim_no(file_ctx *f, const ledger_claim_brief *c, ledger_state to, const char *payer_claim_no,
                      const char *why);
/* The same without a payer's claim number. */
int rcn_move_claim(file_ctx *f, const ledger_claim_brief *c, ledger_state to, const char *why);
/* The 835's handlers (remit_835_events; ctx: the file_ctx). */
void rcn_on_835_payment(void *ctx, const remit_payment *p);
void rcn_on_835_claim(void *ctx, const remit_payment *p, const remit_claim *c);
void rcn_on_835_plb(void *ctx, const remit_payment *p, const remit_plb *plb);
void rcn_on_835_payment_end(void *ctx, const remit_payment *p);

/* reconcile_ack.c: the 999's and 277CA's handlers (ctx: the file_ctx) */
void rcn_on_999_set(void *ctx, const ack_999_group *g, const ack_999_set *s);
void rcn_on_277_level(void *ctx, const status_277_level *lv);
void rcn_on_277_claim(void *ctx, const status_277_claim *c);

#endif
