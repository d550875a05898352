/*
 * test_reconcile.c - posting what payers send back: the corpus 999, 277CA
 * and 835 samples against claims seeded to match them, and hand-made files
 * for each claim status, a reversal and its correction, the same file twice,
 * unmatched and ambiguous claims, PLB, a truncating payer rule, the fallback,
 * underpayment, an unbalanced file, and the command with its reports.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ack_999_reader.h"
#include "cli_helpers.h"
#include "encounter.h"
#include "reconcile.h"
#include "recon_helpers.h"
#include "recon_seed.h"
#include "remit_835.h"
#include "status_277ca_reader.h"
#include "tu.h"

static ledger_claim_brief claim_by_id(tu_env *e, int64_t id)
{
    ledger_claim_brief b;
    ch_error err;
    cr_assert_eq(ledger_claim_brief_get(e->led, id, &b, &err), CH_OK, "%s", err.msg);
    return b;
}

typedef struct pay_sum {
    int64_t paid, patient, allowed;
    int n, reversals, reversed;
} pay_sum;

static int add_pay(void *c, const ledger_claim_payment *p)
{
    pay_sum *s = c;
    s->paid += p->paid;
    s->patient += p->patient_resp;
    s->allowed += p->allowed;
    s->n++;
    s->reversals += p->reversal;
    s->reversed += p->reversed_by != 0;
    return 0;
}

static pay_sum payments(tu_env *e, int64_t id)
{
    pay_sum s = {0};
    ch_error err;
    cr_assert_eq(ledger_claim_payments_each(e->led, id, add_pay, &s, &err), CH_OK);
    return s;
}

typedef struct work {
    int n;
    char kinds[512];
    char reasons[4096];
} work;

static int add_work(void *c, const ledger_work_item *w)
{
    work *k = c;
    k->n++;
    size_t n = strlen(k->kinds);
    snprintf(k->kinds + n, sizeof k->kinds - n, "%s ", w->kind);
    n = strlen(k->reasons);
    snprintf(k->reasons + n, sizeof k->reasons - n, "%s | ", w->reason);
    return 0;
}

static work worklist(tu_env *e, const char *kind)
{
    work w;
    memset(&w, 0, sizeof w);
    ch_error err;
    cr_assert_eq(ledger_worklist_each(e->led, NULL, kind, add_work, &w, &err), CH_OK);
    return w;
}

static reconcile_file_result run1(tu_env *e, const char *file, const char *payer)
{
    reconciler *r;
    ch_error err;
    cr_assert_eq(reconcile_new(&r, e->cfg, e->led, NULL, &err), CH_OK);
    char p[4096];
    rc_path(file, p, sizeof p);
    reconcile_file_result res;
    cr_assert_eq(reconcile_file(r, p, payer, &res, &err), CH_OK, "%s: %s", file, err.msg);
    cr_assert_eq(reconcile_finish(r, NULL, NULL, &err), CH_OK, "%s", err.msg);
    reconcile_free(r);
    return res;
}

/* --- 835: every status, reversal, PLB, duplicate -------------------------------- */

static const char *first_payment =
    "ISA*00*          *00*          *ZZ*PAYERSENDER    *ZZ*CLEARINGHOUSE  *251115*1200*^*00501*000000100*0*T*:~"
    "GS*HP*PAYERSENDER*CLEARINGHOUSE*20251115*1200*100*X*005010X221A1~"
    "ST*835*0001~BPR*I*150*C*CHK************20251015~TRN*1*CHK0000*1999999999~"
    "N1*PR*TEST HEALTH PLAN*XV*TESTPLAN01~N1*PE*EXAMPLE CLINIC*XX*1234567893~"
    "LX*1~CLP*REV005*1*200*150*20*12*PCLM005*11*1~CAS*CO*45*30~CAS*PR*2*20~"
    "NM1*QC*1*HOE*HANK****MI*MEM005~DTM*232*20251001~"
    "SE*11*0001~GE*1*100~IEA*1*000000100~";

Test(reconcile, statuses_reversal_plb_and_the_same_file_twice)
{
    tu_env e;
    home(&e);
    sqlite3 *db = db_open(&e);
    int64_t paid = seed_simple(db, "PAID001", "accepted");
    int64_t sec = seed_simple(db, "SEC002", "acknowledged");
    int64_t den = seed_simple(db, "DEN003", "sent");
    const char *p4[] = {"99213", "93000"};
    int64_t c4[] = {10000, 5000};
    int64_t part = seed_claim(db, "PART004", "accepted", "MEM004", "20251104", p4, c4, 2);
    int64_t rev = seed_simple(db, "REV005", "accepted");
    sqlite3_close(db);

    /* the payment the reversal takes back */
    tu_write("first.835", first_payment);
    reconciler *r;
    ch_error err;
    cr_assert_eq(reconcile_new(&r, e.cfg, e.led, NULL, &err), CH_OK);
    reconcile_file_result res;
    cr_assert_eq(reconcile_file(r, "first.835", NULL, &res, &err), CH_OK, "%s", err.msg);
    cr_expect_str_eq(res.payer, "testplan", "the payer is found from N1*PR");
    cr_expect_eq(res.posted, 1);
    cr_expect_eq(claim_by_id(&e, rev).state, LEDGER_PAID);
    char p[4096];
    cr_assert_eq(reconcile_file(r, rc_path("hand-statuses.835", p, sizeof p), NULL, &res, &err), CH_OK, "%s",
                 err.msg);
    cr_assert_eq(reconcile_finish(r, NULL, NULL, &err), CH_OK, "%s", err.msg);
    reconcile_free(r);
    cr_expect_eq(res.claims, 6);
    cr_expect_eq(res.posted, 6);
    cr_expect_eq(res.unmatched, 0);
    cr_expect_eq(res.reversals, 1);
    cr_expect_eq(res.plb_cents, 2000, "PLB WO 25.00 and L6 -5.00");
    cr_expect_eq(res.flagged, 0, "%u errors", res.errors);

    cr_expect_eq(claim_by_id(&e, paid).state, LEDGER_PAID);
    pay_sum s = payments(&e, paid);
    cr_expect_eq(s.paid, 15000);
    cr_expect_eq(s.patient, 2000);
    cr_expect_eq(s.allowed, 17000, "AMT*B6 110 + 60");
    cr_expect_str_eq(claim_by_id(&e, paid).payer_claim_no, "PCLM001");
    cr_expect_eq(claim_by_id(&e, sec).state, LEDGER_PAID, "secondary: OA-23 is the prior payer's share");
    cr_expect_eq(payments(&e, sec).paid, 3000);
    cr_expect_eq(claim_by_id(&e, den).state, LEDGER_DENIED);
    cr_expect_eq(payments(&e, den).paid, 0);
    cr_expect_eq(claim_by_id(&e, part).state, LEDGER_PARTIAL);
    cr_expect_eq(payments(&e, part).paid, 6000);
    /* reversed (150.00 back) and corrected (160.00): net 160.00, paid */
    cr_expect_eq(claim_by_id(&e, rev).state, LEDGER_PAID);
    s = payments(&e, rev);
    cr_expect_eq(s.n, 3);
    cr_expect_eq(s.reversals, 1);
    cr_expect_eq(s.reversed, 1);
    cr_expect_eq(s.paid, 15000 - 15000 + 16000);
    cr_expect_str_eq(claim_by_id(&e, rev).payer_claim_no, "PCLM005B");

    /* the adjustments and PLB are in the ledger */
    db = db_open(&e);
    sqlite3_stmt *q;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*), sum(amount_cents) FROM plb_adjustments", -1, &q, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    cr_expect_eq(sqlite3_column_int(q, 0), 2);
    cr_expect_eq(sqlite3_column_int64(q, 1), 2000);
    sqlite3_finalize(q);
    cr_assert_eq(sqlite3_prepare_v2(db,
                                    "SELECT count(*) FROM adjustments a JOIN claim_payments p ON p.id = "
                                    "a.claim_payment_id WHERE p.claim_id = ?1 AND a.line_payment_id IS NOT NULL",
                                    -1, &q, NULL),
                 SQLITE_OK);
    sqlite3_bind_int64(q, 1, paid);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    cr_expect_eq(sqlite3_column_int(q, 0), 3, "CO-45, PR-2 on line 1, CO-45 on line 2");
    sqlite3_finalize(q);
    sqlite3_close(db);

    /* the same file again: nothing changes */
    res = run1(&e, "hand-statuses.835", NULL);
    cr_expect_eq(res.duplicates, 1);
    cr_expect_eq(res.posted, 0);
    cr_expect_eq(payments(&e, rev).n, 3);
    cr_expect_eq(payments(&e, paid).n, 1);
    /* a report per practice, 0600, with reason texts */
    char path[1024];
    cr_assert(tu_first("spool/reports/example", ".csv", path, sizeof path));
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_expect_eq(sb.st_mode & 0777, 0600);
    size_t n;
    char *csv = tu_read(path, &n);
    cr_expect_not_null(strstr(csv, "PAID001"));
    cr_expect_not_null(strstr(csv, "CO-45 10.00 (Charge exceeds fee schedule"));
    cr_expect_null(strstr(csv, "Usage:"));
    free(csv);
    cr_assert(tu_first("spool/reports/example", ".json", path, sizeof path));
    char *js = tu_read(path, &n);
    cr_expect_not_null(strstr(js, "\"patient_responsibility\""));
    /* each code's words once, in the report's dictionary */
    cr_expect_not_null(strstr(js, "\"group\":\"CO\",\"reason\":\"45\",\"amount\":10.00}"), "%s", js);
    cr_expect_not_null(strstr(js, "\"reasons\":{\"45\":\"Charge exceeds fee schedule"), "%s", js);
    /* the group code reads as words too (CAS01 in group_codes.tsv) */
    cr_expect_not_null(strstr(js, "\"groups\":{\"CO\":\"Contractual Obligations\""), "%s", js);
    /* the meaning of a code, not the code list's usage notes for payers */
    cr_expect_null(strstr(js, "Usage:"));
    cr_expect_null(strstr(js, " -- this group"));
    cr_expect_null(strstr(js, "unknown code"));
    free(js);
    tu_env_fini(&e);
}

/* --- matching ---------------------------------------------------------------- */

Test(reconcile, truncating_payer_rule_matches_and_unknown_pcn_goes_to_worklist)
{
    tu_env e;
    home(&e);
    sqlite3 *db = db_open(&e);
    int64_t id = seed_simple(db, "clinic-000012345-a", "accepted");
    sqlite3_close(db);
    reconcile_file_result res = run1(&e, "hand-truncated-pcn.835", "testplan");
    cr_expect_eq(res.posted, 1);
    cr_expect_eq(res.unmatched, 0);
    cr_expect_eq(claim_by_id(&e, id).state, LEDGER_PAID);
    cr_expect_eq(payments(&e, id).paid, 4000);
    tu_env_fini(&e);
}

Test(reconcile, two_claims_with_one_payer_key_are_ambiguous)
{
    tu_env e;
    home(&e);
    sqlite3 *db = db_open(&e);
    int64_t a = seed_simple(db, "clinic-000012345-a", "accepted");
    int64_t b = seed_simple(db, "clinic-000012399-b", "accepted");
    sqlite3_close(db);
    reconcile_file_result res = run1(&e, "hand-truncated-pcn.835", "testplan");
    cr_expect_eq(res.posted, 0);
    cr_expect_eq(res.ambiguous, 1);
    cr_expect_eq(claim_by_id(&e, a).state, LEDGER_ACCEPTED, "never a guess");
    cr_expect_eq(claim_by_id(&e, b).state, LEDGER_ACCEPTED);
    work w = worklist(&e, "ambiguous");
    cr_expect_eq(w.n, 1);
    tu_env_fini(&e);
}

Test(reconcile, unmatched_claim_goes_to_the_worklist)
{
    tu_env e;
    home(&e);
    reconcile_file_result res = run1(&e, "hand-fallback.835", "testplan");
    cr_expect_eq(res.posted, 0);
    cr_expect_eq(res.unmatched, 1);
    work w = worklist(&e, "unmatched");
    cr_expect_eq(w.n, 1);
    cr_expect_null(strstr(w.reasons, "DOE"), "no PHI on the worklist: %s", w.reasons);
    tu_env_fini(&e);
}

Test(reconcile, fallback_by_member_dates_and_charge_and_underpayment)
{
    tu_env e;
    home(&e);
    sqlite3 *db = db_open(&e);
    const char *procs[] = {"99213"};
    int64_t ch[] = {10000};
    seed_claim(db, "OTHER1", "accepted", "MEM999", "20251107", procs, ch, 1); /* another member */
    int64_t id = seed_claim(db, "XYZ0001", "accepted", "MEM030", "20251107", procs, ch, 1);
    sqlite3_close(db);
    reconcile_file_result res = run1(&e, "hand-fallback.835", "testplan");
    cr_expect_eq(res.posted, 1);
    cr_expect_eq(res.unmatched, 0);
    cr_expect_eq(claim_by_id(&e, id).state, LEDGER_PAID);
    /* 99213 allowed 80.00, the profile expects 95.00 */
    cr_expect_eq(res.underpaid, 1);
    work w = worklist(&e, "underpaid");
    cr_expect_eq(w.n, 1);
    cr_expect_not_null(strstr(w.reasons, "15.00 short"), "%s", w.reasons);
    tu_env_fini(&e);
}

Test(reconcile, fallback_with_two_candidates_is_ambiguous)
{
    tu_env e;
    home(&e);
    sqlite3 *db = db_open(&e);
    const char *procs[] = {"99213"};
    int64_t ch[] = {10000};
    seed_claim(db, "XYZ0001", "accepted", "MEM030", "20251107", procs, ch, 1);
    seed_claim(db, "XYZ0002", "accepted", "MEM030", "20251107", procs, ch, 1);
    sqlite3_close(db);
    reconcile_file_result res = run1(&e, "hand-fallback.835", "testplan");
    cr_expect_eq(res.posted, 0);
    cr_expect_eq(res.ambiguous, 1);
    tu_env_fini(&e);
}

Test(reconcile, unbalanced_file_is_posted_and_flagged)
{
    tu_env e;
    home(&e);
    sqlite3 *db = db_open(&e);
    int64_t a = seed_simple(db, "BAD001", "accepted");
    int64_t b = seed_simple(db, "BAD002", "accepted");
    sqlite3_close(db);
    reconcile_file_result res = run1(&e, "hand-unbalanced.835", "testplan");
    cr_expect(res.flagged);
    cr_expect_gt(res.balance_errors, 0);
    cr_expect_eq(res.posted, 2, "what is readable is posted");
    cr_expect_eq(payments(&e, a).paid, 8000);
    cr_expect_eq(payments(&e, b).paid, 5000);
    work w = worklist(&e, "unbalanced");
    cr_expect_geq(w.n, 1);
    tu_env_fini(&e);
}

/* --- 999 and 277CA --------------------------------------------------------------- */

/* A sent batch with GS06 gs06 and sets st02_first.., one claim each. */
static void seed_batch(tu_env *e, uint64_t gs06, uint64_t st02_first, unsigned nst, int64_t *ids)
{
    sqlite3 *db = db_open(e);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO batches(practice, payer, claim_type, state, sender, receiver, isa13, gs06, st02_first, "
             "st_count, claim_count, total_cents, file, created_at, updated_at) VALUES ('example', 'testplan', '837P', "
             "'sent', 'ZZ:CLEARINGHOUSE', 'ZZ:PAYERSENDER', %llu, %llu, %llu, %u, %u, 0, 'f', 'x', 'x')",
             (unsigned long long)gs06, (unsigned long long)gs06, (unsigned long long)st02_first, nst, nst);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    int64_t bid = sqlite3_last_insert_rowid(db);
    for (unsigned i = 0; i < nst; i++) {
        char pcn[32];
        snprintf(pcn, sizeof pcn, "B%lluS%u", (unsigned long long)gs06, i);
        ids[i] = seed_simple(db, pcn, "sent");
        snprintf(sql, sizeof sql, "UPDATE claims SET batch_id = %lld WHERE id = %lld", (long long)bid, (long long)ids[i]);
        cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    sqlite3_close(db);
}

Test(reconcile, hand_999_acknowledges_and_rejects_sets_with_reasons)
{
    tu_env e;
    home(&e);
    int64_t ids[3];
    seed_batch(&e, 101, 1, 3, ids);
    reconcile_file_result res = run1(&e, "hand-999-mixed.999", NULL);
    cr_expect_str_eq(res.kind, "999");
    cr_expect_eq(claim_by_id(&e, ids[0]).state, LEDGER_ACKNOWLEDGED);
    cr_expect_eq(claim_by_id(&e, ids[1]).state, LEDGER_REJECTED);
    work w = worklist(&e, "rejected");
    cr_expect_geq(w.n, 1);
    cr_expect_not_null(strstr(w.reasons, "CLM"), "%s", w.reasons);
    /* again: nothing changes */
    res = run1(&e, "hand-999-mixed.999", NULL);
    cr_expect_eq(res.acknowledged + res.rejected, 0);
    cr_expect_eq(worklist(&e, "rejected").n, w.n);
    tu_env_fini(&e);
}

Test(reconcile, hand_277ca_accepts_stores_payer_claim_number_and_rejects)
{
    tu_env e;
    home(&e);
    sqlite3 *db = db_open(&e);
    int64_t a1 = seed_simple(db, "PCN-A-001", "acknowledged");
    int64_t a2 = seed_simple(db, "PCN-A-002", "sent");
    int64_t a3 = seed_simple(db, "PCN-A-003", "sent");
    int64_t b1 = seed_simple(db, "PCN-B-001", "sent");
    sqlite3_close(db);
    reconcile_file_result res = run1(&e, "hand-277ca-levels.txt", "testplan");
    cr_expect_str_eq(res.kind, "277CA");
    cr_expect_eq(claim_by_id(&e, a1).state, LEDGER_ACCEPTED);
    cr_expect_str_eq(claim_by_id(&e, a1).payer_claim_no, "PAYERCLAIM001");
    cr_expect_eq(claim_by_id(&e, a2).state, LEDGER_REJECTED, "a receipt followed by a rejection is a rejection");
    cr_expect_eq(claim_by_id(&e, a3).state, LEDGER_SENT, "pending: left as it is");
    cr_expect_eq(claim_by_id(&e, b1).state, LEDGER_REJECTED);
    work w = worklist(&e, "rejected");
    cr_expect_eq(w.n, 2);
    cr_expect_not_null(strstr(w.reasons, "A7"), "%s", w.reasons);
    tu_env_fini(&e);
}

/* --- the corpus: seed what each file names, then reconcile it -------------------- */

typedef struct seen {
    char pcn[256][40];
    int n;
    int64_t paid;
    unsigned gs06[16], st_min[16], st_max[16];
    int ng;
    char set_ok[64];
    unsigned set_st[64], set_gs[64];
    int nsets;
} seen;

static void add_pcn(seen *s, const char *pcn)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->pcn[i], pcn))
            return;
    if (s->n < 256 && pcn[0] && strlen(pcn) < 39)
        snprintf(s->pcn[s->n++], 40, "%s", pcn);
}

static void seen_clp(void *c, const remit_payment *p, const remit_claim *cl)
{
    (void)p;
    seen *s = c;
    add_pcn(s, cl->pcn);
    s->paid += cl->paid;
}

static void seen_277(void *c, const status_277_claim *cl) { add_pcn(c, cl->pcn); }

static void seen_999(void *c, const ack_999_group *g, const ack_999_set *st)
{
    seen *s = c;
    if (st->orphan || !st->complete || s->nsets >= 64)
        return;
    unsigned gs = (unsigned)strtoul(g->control, NULL, 10), n = (unsigned)strtoul(st->control, NULL, 10);
    s->set_gs[s->nsets] = gs;
    s->set_st[s->nsets] = n;
    s->set_ok[s->nsets++] = (char)st->accepted;
    int k;
    for (k = 0; k < s->ng && s->gs06[k] != gs; k++)
        ;
    if (k == s->ng && s->ng < 16) {
        s->gs06[s->ng] = gs;
        s->st_min[s->ng] = s->st_max[s->ng] = n;
        s->ng++;
    } else if (k < s->ng) {
        if (n < s->st_min[k])
            s->st_min[k] = n;
        if (n > s->st_max[k])
            s->st_max[k] = n;
    }
}

static const char *corpus_835[] = {"lfh-cob-contractural-adjustment.835", "lfh-managed-care.835",
                                   "lfh-medicare-part-a.835", "lfh-secondary-payment.835",
                                   "lfh-tertiary-payment.835", "k835-emedny_sample.txt",
                                   "k835-uhc_legacy_sample.txt", "aff-835-sample-2ST-placeholders.txt",
                                   "pyx12-835_mult_loops.txt", NULL};

Test(reconcile, corpus_835_samples_post_against_seeded_claims)
{
    for (int f = 0; corpus_835[f]; f++) {
        tu_env e;
        home(&e);
        char p[4096];
        size_t len = 0;
        char *buf = rc_slurp(rc_path(corpus_835[f], p, sizeof p), &len);
        cr_assert_not_null(buf, "%s", corpus_835[f]);
        seen s;
        memset(&s, 0, sizeof s);
        remit_835_events ev = {.claim = seen_clp, .ctx = &s};
        ch_error err;
        remit_835_read_mem(buf, len, corpus_835[f], &ev, NULL, NULL, NULL, &err);
        free(buf);
        sqlite3 *db = db_open(&e);
        for (int i = 0; i < s.n; i++)
            seed_simple(db, s.pcn[i], "accepted");
        sqlite3_close(db);
        reconcile_file_result res = run1(&e, corpus_835[f], "testplan");
        cr_expect_str_eq(res.kind, "835", "%s", corpus_835[f]);
        cr_expect_gt(res.claims, 0, "%s", corpus_835[f]);
        cr_expect_eq(res.unmatched, 0, "%s: %u unmatched", corpus_835[f], res.unmatched);
        cr_expect_eq(res.ambiguous, 0, "%s", corpus_835[f]);
        cr_expect_eq(res.posted, res.claims, "%s: %u of %u posted", corpus_835[f], res.posted, res.claims);
        cr_expect_eq(res.paid_cents, s.paid, "%s: money to the cent", corpus_835[f]);
        tu_env_fini(&e);
    }
}

Test(reconcile, corpus_277ca_samples)
{
    const char *files[] = {"ims-x12_277CA_accepted.txt", "ims-x12_277CA_rejected.txt"};
    const ledger_state want[] = {LEDGER_ACCEPTED, LEDGER_REJECTED};
    for (int f = 0; f < 2; f++) {
        tu_env e;
        home(&e);
        char p[4096];
        size_t len = 0;
        char *buf = rc_slurp(rc_path(files[f], p, sizeof p), &len);
        seen s;
        memset(&s, 0, sizeof s);
        status_277_events ev = {.claim = seen_277, .ctx = &s};
        ch_error err;
        status_277_read_mem(buf, len, files[f], &ev, NULL, NULL, NULL, &err);
        free(buf);
        cr_assert_gt(s.n, 0);
        sqlite3 *db = db_open(&e);
        int64_t ids[256];
        for (int i = 0; i < s.n; i++)
            ids[i] = seed_simple(db, s.pcn[i], "sent");
        sqlite3_close(db);
        reconcile_file_result res = run1(&e, files[f], "testplan");
        cr_expect_eq(res.unmatched, 0, "%s", files[f]);
        for (int i = 0; i < s.n; i++)
            cr_expect_eq(claim_by_id(&e, ids[i]).state, want[f], "%s: %s", files[f], s.pcn[i]);
        tu_env_fini(&e);
    }
}

Test(reconcile, corpus_999_samples)
{
    const char *files[] = {"ims-x12_999_accepted.txt", "ims-x12_999_rejected.txt", "staedi-simple999.edi",
                           "staedi-invalid999.edi", NULL};
    for (int f = 0; files[f]; f++) {
        tu_env e;
        home(&e);
        char p[4096];
        size_t len = 0;
        char *buf = rc_slurp(rc_path(files[f], p, sizeof p), &len);
        seen s;
        memset(&s, 0, sizeof s);
        ack_999_events ev = {.set = seen_999, .ctx = &s};
        ch_error err;
        ack_999_read_mem(buf, len, files[f], &ev, NULL, NULL, NULL, &err);
        free(buf);
        cr_assert_gt(s.nsets, 0, "%s", files[f]);
        int64_t ids[16][64];
        for (int g = 0; g < s.ng; g++)
            seed_batch(&e, s.gs06[g], s.st_min[g], s.st_max[g] - s.st_min[g] + 1, ids[g]);
        reconcile_file_result res = run1(&e, files[f], NULL);
        cr_expect_str_eq(res.kind, "999");
        for (int i = 0; i < s.nsets; i++) {
            int g;
            for (g = 0; g < s.ng && s.gs06[g] != s.set_gs[i]; g++)
                ;
            ledger_state st = claim_by_id(&e, ids[g][s.set_st[i] - s.st_min[g]]).state;
            cr_expect_eq(st, s.set_ok[i] ? LEDGER_ACKNOWLEDGED : LEDGER_REJECTED, "%s: set %u", files[f],
                         s.set_st[i]);
        }
        if (!strcmp(files[f], "staedi-invalid999.edi"))
            cr_expect(res.flagged, "an invalid 999 is read as far as it goes and flagged");
        tu_env_fini(&e);
    }
}

/* --- replacements and voids: the payer takes back the first payment --------------- */

#define ENV_835(ctl, body, nseg)                                                                                   \
    "ISA*00*          *00*          *ZZ*PAYERSENDER    *ZZ*CLEARINGHOUSE  *251115*1200*^*00501*000000" ctl       \
    "*0*T*:~GS*HP*PAYERSENDER*CLEARINGHOUSE*20251115*1200*" ctl "*X*005010X221A1~ST*835*0001~" body "SE*" nseg \
    "*0001~GE*1*" ctl "~IEA*1*000000" ctl "~"
#define PAYER_PAYEE "N1*PR*TEST HEALTH PLAN*XV*TESTPLAN01~N1*PE*EXAMPLE CLINIC*XX*1234567893~LX*1~"
#define QC "NM1*QC*1*DOE*JOHN****MI*M0~"

/* ORIG101 paid 75.00 (payer claim PCLM101), ORIG102 paid 80.00 (PCLM102) */
static const char *originals_paid =
    ENV_835("101",
            "BPR*I*155*C*CHK************20251015~TRN*1*CHK0101*1999999999~" PAYER_PAYEE
            "CLP*ORIG101*1*100*75*20*12*PCLM101*11*1~CAS*CO*45*5~CAS*PR*2*20~" QC
            "CLP*ORIG102*1*100*80*20*12*PCLM102*11*1~CAS*PR*2*20~" QC,
            "14");

/* REPL201 replaces ORIG101 (frequency 7), VOID202 voids ORIG102 (8): the
 * payer reverses under the new claims' CLP01, naming the payments it takes
 * back by their payer claim numbers (CLP07), pays the replacement, and
 * carries the balance forward (PLB FB). */
static const char *amendments_answered =
    ENV_835("102",
            "BPR*H*0*C*NON************20251115~TRN*1*CHK0102*1999999999~" PAYER_PAYEE
            "CLP*REPL201*22*-100*-75*-20*12*PCLM101*11*1~CAS*CO*45*-5~CAS*PR*2*-20~" QC
            "CLP*REPL201*1*100*70*20*12*PCLM201*11*1~CAS*CO*45*10~CAS*PR*2*20~" QC
            "CLP*VOID202*22*-100*-80*-20*12*PCLM102*11*1~CAS*PR*2*-20~" QC
            "PLB*1234567893*20251231*FB:CHK0102*-85~",
            "19");

/* Reconcile a file in the current directory. */
static reconcile_file_result run_here(tu_env *e, const char *file)
{
    reconciler *r;
    ch_error err;
    cr_assert_eq(reconcile_new(&r, e->cfg, e->led, NULL, &err), CH_OK);
    reconcile_file_result res;
    cr_assert_eq(reconcile_file(r, file, NULL, &res, &err), CH_OK, "%s: %s", file, err.msg);
    cr_assert_eq(reconcile_finish(r, NULL, NULL, &err), CH_OK, "%s", err.msg);
    reconcile_free(r);
    return res;
}

Test(reconcile, a_replacement_or_void_takes_back_the_payment_of_the_claim_it_names)
{
    tu_env e;
    home(&e);
    sqlite3 *db = db_open(&e);
    int64_t o1 = seed_simple(db, "ORIG101", "accepted");
    int64_t o2 = seed_simple(db, "ORIG102", "accepted");
    sqlite3_close(db);
    tu_write("paid.835", originals_paid);
    tu_write("amend.835", amendments_answered);
    reconcile_file_result res = run_here(&e, "paid.835");
    cr_assert_eq(res.posted, 2);
    cr_assert_eq(claim_by_id(&e, o1).state, LEDGER_PAID);
    /* `correct` and `void`: new claims naming the originals, which go void */
    db = db_open(&e);
    int64_t repl = seed_simple(db, "REPL201", "accepted");
    int64_t vd = seed_simple(db, "VOID202", "accepted");
    char sql[512];
    snprintf(sql, sizeof sql,
             "UPDATE claims SET frequency = 7, replaces = %lld WHERE id = %lld;"
             "UPDATE claims SET frequency = 8, replaces = %lld WHERE id = %lld;"
             "UPDATE claims SET state = 'void' WHERE id IN (%lld, %lld);",
             (long long)o1, (long long)repl, (long long)o2, (long long)vd, (long long)o1, (long long)o2);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);

    res = run_here(&e, "amend.835");
    cr_expect_eq(res.unmatched, 0, "%s", worklist(&e, NULL).reasons);
    cr_expect_eq(res.reversals, 2);
    cr_expect_eq(res.flagged, 0);
    cr_expect_eq(worklist(&e, "unmatched").n, 0, "%s", worklist(&e, "unmatched").reasons);
    /* the reversals are posted where the payments were */
    pay_sum p = payments(&e, o1);
    cr_expect_eq(p.n, 2);
    cr_expect_eq(p.reversals, 1);
    cr_expect_eq(p.reversed, 1, "ORIG101's payment is marked reversed");
    cr_expect_eq(p.paid, 0, "75.00 paid, 75.00 taken back");
    cr_expect_eq(claim_by_id(&e, o1).state, LEDGER_VOID, "the original stays void");
    p = payments(&e, o2);
    cr_expect_eq(p.paid, 0);
    cr_expect_eq(p.reversed, 1);
    cr_expect_eq(claim_by_id(&e, o2).state, LEDGER_VOID);
    /* the replacement is paid on its own; the void is done */
    p = payments(&e, repl);
    cr_expect_eq(p.n, 1);
    cr_expect_eq(p.paid, 7000);
    cr_expect_eq(claim_by_id(&e, repl).state, LEDGER_PAID);
    cr_expect_str_eq(claim_by_id(&e, repl).payer_claim_no, "PCLM201");
    cr_expect_eq(payments(&e, vd).n, 0);
    cr_expect_eq(claim_by_id(&e, vd).state, LEDGER_VOID, "a void the payer carried out is void");
    tu_env_fini(&e);
}

/* --- the command ------------------------------------------------------------------ */

Test(reconcile, command_json_and_exit_status)
{
    tu_env e;
    home(&e);
    sqlite3 *db = db_open(&e);
    seed_simple(db, "clinic-000012345-a", "accepted");
    sqlite3_close(db);
    char p[4096], *out;
    rc_path("hand-truncated-pcn.835", p, sizeof p);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && \"$CH_BIN\" reconcile --json '%s'", e.dir, p);
    int st = tu_sh("\"$CH_BIN\" reconcile --json '%s' > out.json 2>&1", p);
    cr_expect_eq(st, 0);
    size_t n;
    out = tu_read("out.json", &n);
    cr_assert_not_null(out);
    cr_expect_not_null(strstr(out, "\"posted\":1"), "%s", out);
    cr_expect_not_null(strstr(out, "\"reports\":[{"), "%s", out);
    free(out);
    /* again: nothing posted, exit 0 */
    st = tu_sh("\"$CH_BIN\" reconcile '%s' > out.txt 2>&1", p);
    cr_expect_eq(st, 0);
    out = tu_read("out.txt", &n);
    cr_expect_not_null(strstr(out, "1 payments seen before"), "%s", out);
    free(out);
    /* an unmatched claim: exit 1 */
    st = tu_sh("\"$CH_BIN\" reconcile '%s' > out.txt 2>&1", rc_path("hand-fallback.835", p, sizeof p));
    cr_expect_eq(st, 1);
    (void)cmd;
    tu_env_fini(&e);
}
