/*
 * test_reconcile_e2e.c - the whole round: encounters taken in, batched into
 * 837 files, "sent"; the file's 999 from the engine's own validator and
 * acknowledgment writer; the synthetic payer's 277CA (rejecting some claims
 * by rule) and 835 (paying, partially paying, denying); all reconciled.
 * Every claim's final state and money is checked to the cent against what
 * the payer's rules say, computed here from the claims' own lines.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch.h"
#include "encounter.h"
#include "intake.h"
#include "payer_sim.h"
#include "reconcile.h"
#include "tu.h"

#define TODAY "20261123"
#define NOW ((time_t)1795435200)

static void drop_good(void)
{
    const char *dir = tu_src("tests/data/encounters/good");
    DIR *d = opendir(dir);
    cr_assert(d);
    struct dirent *de;
    mkdir("spool/inbound/riverside", 0700);
    mkdir("spool/inbound/lakeside", 0700);
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char from[4096], to[1024];
        snprintf(from, sizeof from, "%s/%s", dir, de->d_name);
        snprintf(to, sizeof to, "spool/inbound/%s/%s", !strncmp(de->d_name, "lakeside", 8) ? "lakeside" : "riverside",
                 de->d_name);
        tu_copy(from, to);
    }
    closedir(d);
}

typedef struct batches {
    ledger_batch b[32];
    int n;
} batches;

static int grab_batch(void *c, const ledger_batch *b)
{
    batches *bs = c;
    if (bs->n < 32)
        bs->b[bs->n++] = *b;
    return 0;
}

typedef struct claim_row {
    int64_t id;
    char pcn[21];
    ledger_state state;
    int64_t total;
    char payer[32];
} claim_row;

typedef struct claim_rows {
    claim_row v[64];
    int n;
} claim_rows;

static int grab_claim(void *c, const ledger_claim *cl)
{
    claim_rows *r = c;
    if (r->n < 64) {
        claim_row *x = &r->v[r->n++];
        x->id = cl->id;
        snprintf(x->pcn, sizeof x->pcn, "%s", cl->pcn);
        x->state = cl->state;
        x->total = cl->total_cents;
        snprintf(x->payer, sizeof x->payer, "%s", cl->payer);
    }
    return 0;
}

typedef struct paid_sum {
    int64_t paid, patient, allowed;
    int n;
} paid_sum;

static int sum_payments(void *c, const ledger_claim_payment *p)
{
    paid_sum *s = c;
    s->paid += p->paid;
    s->patient += p->patient_resp;
    s->allowed += p->allowed;
    s->n++;
    return 0;
}

static int listed(const char (*codes)[6], unsigned n, const char *proc)
{
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(codes[i], proc))
            return 1;
    return 0;
}

static void reconcile_all(tu_env *e, const char *dir, const char *suffix, const char *payer, reconciler *r,
                          reconcile_file_result *tot)
{
    DIR *d = opendir(dir);
    cr_assert(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name), k = strlen(suffix);
        if (de->d_name[0] == '.' || n < k || strcmp(de->d_name + n - k, suffix))
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        reconcile_file_result res;
        ch_error err;
        cr_assert_eq(reconcile_file(r, path, payer, &res, &err), CH_OK, "%s", err.msg);
        cr_expect_eq(res.errors, 0, "%s: %u errors", path, res.errors);
        cr_expect_eq(res.unmatched, 0, "%s", path);
        cr_expect_eq(res.ambiguous, 0, "%s", path);
        tot->acknowledged += res.acknowledged;
        tot->accepted += res.accepted;
        tot->rejected += res.rejected;
        tot->posted += res.posted;
        tot->paid_cents += res.paid_cents;
        tot->duplicates += res.duplicates;
    }
    closedir(d);
    (void)e;
}

Test(reconcile_e2e, encounters_to_batches_to_payer_answers_to_posted_money)
{
    tu_env e;
    tu_env_init(&e);
    drop_good();
    intake_opts io = {.jobs = 1, .today = TODAY};
    intake_report irep;
    ch_error err;
    cr_assert_eq(intake_run(e.cfg, e.led, &io, &irep, &err), CH_OK, "%s", err.msg);
    batch_opts bo = {.now = NOW};
    batch_report brep;
    cr_assert_eq(batch_run(e.cfg, e.led, &bo, &brep, &err), CH_OK, "%s", err.msg);
    cr_assert_gt(brep.files, 0);
    batches bs = {0};
    cr_assert_eq(ledger_batches_each(e.led, "ready", grab_batch, &bs, &err), CH_OK);
    cr_assert_eq((uint64_t)bs.n, brep.files);

    sim_rules rules;
    payer_sim_defaults(&rules);
    snprintf(rules.date, sizeof rules.date, TODAY);
    snprintf(rules.reject[rules.nreject++], 6, "93000"); /* the 277CA rejects the claim billing it */
    snprintf(rules.deny[rules.ndeny++], 6, "36415");     /* one line denied: partial */
    snprintf(rules.deny[rules.ndeny++], 6, "J3420");
    snprintf(rules.deny[rules.ndeny++], 6, "59425");     /* the claim's only line: denied */
    cr_assert_eq(tu_sh("mkdir -p answers acks"), 0);
    for (int i = 0; i < bs.n; i++) {
        /* sent */
        cr_assert_eq(ledger_batch_move_claims(e.led, bs.b[i].id, LEDGER_READY, LEDGER_SENDING, 1, "t", "send", NULL,
                                              &err),
                     CH_OK, "%s", err.msg);
        cr_assert_eq(ledger_batch_move_claims(e.led, bs.b[i].id, LEDGER_SENDING, LEDGER_SENT, 1, "t", "sent", NULL,
                                              &err),
                     CH_OK, "%s", err.msg);
        char file[4096];
        if (bs.b[i].file[0] == '/')
            snprintf(file, sizeof file, "%s", bs.b[i].file);
        else
            snprintf(file, sizeof file, "%s/%s", e.cfg->spool, bs.b[i].file);
        /* the 999 from the validator and acknowledgment writer */
        char sub[64];
        snprintf(sub, sizeof sub, "acks/%s", bs.b[i].payer);
        cr_assert_eq(tu_sh("mkdir -p %s && \"$CH_BIN\" validate --ack %s '%s' > /dev/null", sub, sub, file), 0, "%s", file);
        snprintf(sub, sizeof sub, "answers/%s", bs.b[i].payer);
        cr_assert_eq(tu_sh("mkdir -p %s", sub), 0);
        sim_result sr;
        cr_assert_eq(payer_sim_answer(file, sub, &rules, 700 + (unsigned long)i, &sr, &err), CH_OK, "%s",
                     err.msg);
    }

    reconciler *r;
    cr_assert_eq(reconcile_new(&r, e.cfg, e.led, NULL, &err), CH_OK);
    reconcile_file_result tot;
    memset(&tot, 0, sizeof tot);
    const char *payers[] = {"demo", "commercial", "medicaid", "medicare-mac"};
    for (int p = 0; p < 4; p++) {
        char d1[64], d2[64];
        snprintf(d1, sizeof d1, "acks/%s", payers[p]);
        snprintf(d2, sizeof d2, "answers/%s", payers[p]);
        struct stat sb;
        if (stat(d1, &sb) == 0)
            reconcile_all(&e, d1, ".999", payers[p], r, &tot);
        if (stat(d2, &sb) == 0) {
            reconcile_all(&e, d2, ".277ca", payers[p], r, &tot);
            reconcile_all(&e, d2, ".835", payers[p], r, &tot);
        }
    }
    int reports = 0;
    cr_assert_eq(reconcile_finish(r, NULL, NULL, &err), CH_OK, "%s", err.msg);
    reconcile_free(r);

    /* every claim: state and money from the payer's rules */
    claim_rows rows = {0};
    ledger_filter flt = {.state = -1};
    cr_assert_eq(ledger_claims_each(e.led, &flt, grab_claim, &rows, &err), CH_OK);
    cr_assert_gt(rows.n, 0);
    int64_t expect_total_paid = 0;
    unsigned nrej = 0, npaid = 0, npartial = 0, ndenied = 0;
    for (int i = 0; i < rows.n; i++) {
        claim_row *c = &rows.v[i];
        if (c->state == LEDGER_FAILED || c->state == LEDGER_VOID || c->state == LEDGER_QUEUED)
            continue;
        void *doc;
        size_t len;
        cr_assert_eq(ledger_claim_doc(e.led, c->id, &doc, &len, &err), CH_OK);
        encounter en;
        encounter_init(&en);
        cr_assert_eq(encounter_unpack(&en, doc, len, &err), CH_OK);
        free(doc);
        int rej = 0;
        unsigned denied = 0;
        int64_t paid = 0, patient = 0, allowed = 0;
        for (unsigned k = 0; k < en.nlines; k++) {
            const enc_line *l = &en.lines[k];
            if (listed(rules.reject, rules.nreject, l->procedure))
                rej = 1;
            if (listed(rules.deny, rules.ndeny, l->procedure)) {
                denied++;
                continue;
            }
            int64_t a = l->charge * rules.paid_percent / 100;
            int64_t pt = a * rules.patient_percent / 100;
            allowed += a;
            patient += pt;
            paid += a - pt;
        }
        ledger_state want = rej ? LEDGER_REJECTED
                            : denied == en.nlines ? LEDGER_DENIED
                            : denied ? LEDGER_PARTIAL
                                     : LEDGER_PAID;
        unsigned nl = en.nlines;
        encounter_clear(&en);
        cr_expect_eq(c->state, want, "claim %s (%u lines): %s, expected %s", c->pcn, nl, ledger_state_name(c->state),
                     ledger_state_name(want));
        paid_sum s = {0};
        cr_assert_eq(ledger_claim_payments_each(e.led, c->id, sum_payments, &s, &err), CH_OK);
        if (rej) {
            nrej++;
            cr_expect_eq(s.n, 0, "a rejected claim is not paid: %s", c->pcn);
            continue;
        }
        cr_expect_eq(s.n, 1, "claim %s posted once", c->pcn);
        cr_expect_eq(s.paid, paid, "claim %s paid %lld, expected %lld", c->pcn, (long long)s.paid, (long long)paid);
        cr_expect_eq(s.patient, patient, "claim %s patient %lld, expected %lld", c->pcn, (long long)s.patient,
                     (long long)patient);
        cr_expect_eq(s.allowed, allowed, "claim %s allowed", c->pcn);
        expect_total_paid += paid;
        if (want == LEDGER_PAID)
            npaid++;
        else if (want == LEDGER_PARTIAL)
            npartial++;
        else
            ndenied++;
    }
    cr_expect_gt(nrej, 0);
    cr_expect_gt(npaid, 0);
    cr_expect_gt(npartial, 0);
    cr_expect_gt(ndenied, 0);
    cr_expect_eq(tot.paid_cents, expect_total_paid);
    cr_expect_gt(tot.acknowledged, 0, "the 999s acknowledged the sent claims");
    /* reports, per practice, private */
    reports = tu_count("spool/reports/riverside", ".csv") + tu_count("spool/reports/lakeside", ".csv");
    cr_expect_gt(reports, 0);
    char first[1024];
    if (tu_first("spool/reports/riverside", ".json", first, sizeof first)) {
        struct stat sb;
        cr_assert_eq(stat(first, &sb), 0);
        cr_expect_eq(sb.st_mode & 0777, 0600);
        size_t n;
        char *j = tu_read(first, &n);
        cr_assert_not_null(j);
        cr_expect_not_null(strstr(j, "Charge exceeds fee schedule"), "adjustment reasons in words");
        free(j);
    }

    /* everything again: nothing changes */
    reconciler *r2;
    cr_assert_eq(reconcile_new(&r2, e.cfg, e.led, NULL, &err), CH_OK);
    reconcile_file_result tot2;
    memset(&tot2, 0, sizeof tot2);
    for (int p = 0; p < 4; p++) {
        char d1[64], d2[64];
        snprintf(d1, sizeof d1, "acks/%s", payers[p]);
        snprintf(d2, sizeof d2, "answers/%s", payers[p]);
        struct stat sb;
        if (stat(d1, &sb) == 0)
            reconcile_all(&e, d1, ".999", payers[p], r2, &tot2);
        if (stat(d2, &sb) == 0) {
            reconcile_all(&e, d2, ".277ca", payers[p], r2, &tot2);
            reconcile_all(&e, d2, ".835", payers[p], r2, &tot2);
        }
    }
    reconcile_free(r2);
    cr_expect_eq(tot2.posted, 0);
    cr_expect_eq(tot2.paid_cents, 0);
    cr_expect_eq(tot2.acknowledged + tot2.accepted + tot2.rejected, 0);
    cr_expect_gt(tot2.duplicates, 0);
    tu_env_fini(&e);
}
