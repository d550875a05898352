/*
 * test_payer_sim.c - the synthetic payer: its 277CA and 835 are well-formed,
 * decisions follow the rules, and every amount balances to the cent.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "payer_sim.h"
#include "reader_helpers.h"
#include "x12_writer.h"

static const char *claim837 =
    "ISA*00*          *00*          *ZZ*SUBMIT001      *ZZ*DEMOPAYER      *261123*1200*^*00501*000000042*0*T*:~\n"
    "GS*HC*SUBMIT001*DEMOPAYER*20261123*1200*42*X*005010X222A1~\n"
    "ST*837*0001*005010X222A1~\n"
    "BHT*0019*00*B42*20261123*1200*CH~\n"
    "NM1*41*2*ACME BILLING*****46*SUBMIT001~\n"
    "PER*IC*EDI*TE*5555550100~\n"
    "NM1*40*2*DEMO HEALTH PLAN*****46*DEMOPAYER~\n"
    "HL*1**20*1~\n"
    "NM1*85*2*NORTHGATE CLINIC*****XX*1234567893~\n"
    "N3*1 MAIN ST~\nN4*DENVER*CO*80202~\nREF*EI*123456789~\n"
    "HL*2*1*22*0~\nSBR*P*18*******CI~\n"
    "NM1*IL*1*DOE*JANE****MI*M123~\n"
    "NM1*PR*2*DEMO HEALTH PLAN*****PI*DEMOPAYER~\n"
    "CLM*A1*200***11:B:1*Y*A*Y*Y~\nHI*ABK:J209~\n"
    "LX*1~\nSV1*HC:99213*125*UN*1***1~\nDTP*472*D8*20261101~\n"
    "LX*2~\nSV1*HC:87070*75*UN*1***1~\nDTP*472*D8*20261101~\n"
    "CLM*A2*100***11:B:1*Y*A*Y*Y~\nHI*ABK:J209~\n"
    "LX*1~\nSV1*HC:99499*100*UN*1***1~\nDTP*472*D8*20261102~\n"
    "CLM*A3*60.5***11:B:1*Y*A*Y*Y~\nHI*ABK:J209~\n"
    "LX*1~\nSV1*HC:99080*60.5*UN*1***1~\nDTP*472*D8*20261103~\n"
    "SE*33*0001~\nGE*1*42~\nIEA*1*000000042~\n";

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "%s", path);
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    rewind(fp);
    char *b = malloc(*len + 1);
    cr_assert_eq(fread(b, 1, *len, fp), *len);
    b[*len] = '\0';
    fclose(fp);
    return b;
}

static int64_t amt(const char *seg, int el)
{
    /* element el of a "TAG|a|b" collected segment */
    const char *p = seg;
    for (int i = 0; i < el && p; i++) {
        p = strchr(p, '|');
        if (p)
            p++;
    }
    int64_t c = 0;
    if (p)
        x12_parse_cents(p, strcspn(p, "|"), &c);
    return c;
}

Test(payer_sim, answers_balance_and_follow_the_rules)
{
    char dir[] = "/tmp/ch-sim-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char in[256];
    snprintf(in, sizeof in, "%s/batch-42.x12", dir);
    FILE *fp = fopen(in, "w");
    fputs(claim837, fp);
    fclose(fp);
    sim_rules r;
    payer_sim_defaults(&r);
    snprintf(r.date, sizeof r.date, "20261123");
    snprintf(r.reject[r.nreject++], 6, "99499");
    snprintf(r.deny[r.ndeny++], 6, "87070"); /* one line of A1: a partial payment */
    snprintf(r.deny[r.ndeny++], 6, "99080"); /* A3's only line: denied */
    sim_result res;
    ch_error err;
    cr_assert_eq(payer_sim_answer(in, dir, &r, 500, &res, &err), CH_OK, "%s", err.msg);
    cr_assert_eq(res.claims, 3);
    cr_assert_eq(res.accepted, 2);
    cr_assert_eq(res.rejected, 1);
    cr_assert_eq(res.partial, 1);
    cr_assert_eq(res.denied, 1);
    cr_assert_eq(res.paid, 0);
    /* A1: 99213 125.00 allowed 100.00, patient 20.00, paid 80.00; 87070 denied */
    cr_assert_eq(res.paid_cents, 8000);

    size_t len;
    char *ca = slurp(res.ack_277, &len);
    tr_result t;
    tr_mem(&t, ca, len, 0);
    cr_assert_eq(t.rc, X12_END);
    int saw_rej = 0, saw_acc = 0;
    for (int i = 0; i < t.nseg; i++) {
        if (!strncmp(t.seg[i], "STC|A7:454", 10))
            saw_rej++;
        if (!strncmp(t.seg[i], "STC|A2:20", 9))
            saw_acc++;
    }
    cr_assert_eq(saw_rej, 1);
    cr_assert_eq(saw_acc, 2);
    cr_assert_eq(t.ndiag, 0);
    tr_free(&t);
    free(ca);

    char *rm = slurp(res.remit_835, &len);
    tr_mem(&t, rm, len, 0);
    cr_assert_eq(t.rc, X12_END);
    int64_t bpr = 0, clp_paid = 0, svc_gap = 0, cas = 0, clp_gap = 0;
    for (int i = 0; i < t.nseg; i++) {
        const char *s = t.seg[i];
        if (!strncmp(s, "BPR|", 4))
            bpr = amt(s, 2);
        if (!strncmp(s, "CLP|", 4)) {
            clp_paid += amt(s, 4);
            clp_gap += amt(s, 3) - amt(s, 4);
        }
        if (!strncmp(s, "SVC|", 4))
            svc_gap += amt(s, 2) - amt(s, 3);
        if (!strncmp(s, "CAS|", 4))
            cas += amt(s, 3);
        cr_assert_null(strstr(s, "A2|"), "a rejected claim is not paid: %s", s);
    }
    cr_assert_eq(bpr, clp_paid);
    cr_assert_eq(clp_gap, cas);
    cr_assert_eq(svc_gap, cas);
    tr_free(&t);
    free(rm);

    /* both files are envelopes the engine reads cleanly */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' inspect '%s' '%s' > /dev/null", getenv("CH_BIN") ? getenv("CH_BIN") : "build/clearinghouse",
             res.ack_277, res.remit_835);
    cr_assert_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* --- replacements and voids; the payer's own code edit in its 999 ---------------------- */

/* A replacement of A1 (same lines), a void of A3, and a replacement of a
 * claim the payer never adjudicated. */
static const char *amend837 =
    "ISA*00*          *00*          *ZZ*SUBMIT001      *ZZ*DEMOPAYER      *261125*1200*^*00501*000000043*0*T*:~\n"
    "GS*HC*SUBMIT001*DEMOPAYER*20261125*1200*43*X*005010X222A1~\n"
    "ST*837*0001*005010X222A1~\n"
    "BHT*0019*00*B43*20261125*1200*CH~\n"
    "NM1*41*2*ACME BILLING*****46*SUBMIT001~\n"
    "PER*IC*EDI*TE*5555550100~\n"
    "NM1*40*2*DEMO HEALTH PLAN*****46*DEMOPAYER~\n"
    "HL*1**20*1~\n"
    "NM1*85*2*NORTHGATE CLINIC*****XX*1234567893~\n"
    "N3*1 MAIN ST~\nN4*DENVER*CO*80202~\nREF*EI*123456789~\n"
    "HL*2*1*22*0~\nSBR*P*18*******CI~\n"
    "NM1*IL*1*DOE*JANE****MI*M123~\n"
    "NM1*PR*2*DEMO HEALTH PLAN*****PI*DEMOPAYER~\n"
    "CLM*B1*200***11:B:7*Y*A*Y*Y~REF*F8*PA1~HI*ABK:J209~\n"
    "LX*1~\nSV1*HC:99213*125*UN*1***1~\nDTP*472*D8*20261101~\n"
    "LX*2~\nSV1*HC:87070*75*UN*1***1~\nDTP*472*D8*20261101~\n"
    "CLM*B2*60.5***11:B:8*Y*A*Y*Y~REF*F8*PA3~HI*ABK:J209~\n"
    "LX*1~\nSV1*HC:99080*60.5*UN*1***1~\nDTP*472*D8*20261103~\n"
    "CLM*B3*10***11:B:7*Y*A*Y*Y~REF*F8*PUNKNOWN~HI*ABK:J209~\n"
    "LX*1~\nSV1*HC:99213*10*UN*1***1~\nDTP*472*D8*20261104~\n"
    "SE*36*0001~\nGE*1*43~\nIEA*1*000000043~\n";

static int has_seg(const tr_result *t, const char *seg)
{
    for (int i = 0; i < t->nseg; i++)
        if (!strcmp(t->seg[i], seg))
            return 1;
    return 0;
}

/* dir/rel in one of 8 rotating buffers */
static const char *sim_path(const char *dir, const char *rel)
{
    static char b[8][512];
    static int k;
    char *p = b[k++ & 7];
    snprintf(p, sizeof b[0], "%s/%s", dir, rel);
    return p;
}

static const char *bin(void)
{
    return getenv("CH_BIN") ? getenv("CH_BIN") : "build/clearinghouse";
}

Test(payer_sim, replacements_and_voids_take_back_the_payment_from_the_history)
{
    char dir[] = "/tmp/ch-sim-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char in1[256], in2[256], hist[256];
    snprintf(in1, sizeof in1, "%s/batch-42.x12", dir);
    snprintf(in2, sizeof in2, "%s/batch-43.x12", dir);
    snprintf(hist, sizeof hist, "%s/adjudications.tsv", dir);
    FILE *fp = fopen(in1, "w");
    fputs(claim837, fp);
    fclose(fp);
    fp = fopen(in2, "w");
    fputs(amend837, fp);
    fclose(fp);
    sim_rules r;
    payer_sim_defaults(&r);
    snprintf(r.date, sizeof r.date, "20261125");
    snprintf(r.reject[r.nreject++], 6, "99499");
    snprintf(r.deny[r.ndeny++], 6, "87070");
    r.history = hist;
    sim_result res;
    ch_error err;
    /* A1 200.00: 99213 paid 80.00, patient 20.00, CO-45 25.00; 87070 75.00
     * denied (CO-50); A2 rejected (never adjudicated, not in the history);
     * A3 60.50: paid 38.72, patient 9.68, CO-45 12.10 */
    cr_assert_eq(payer_sim_answer(in1, dir, &r, 500, &res, &err), CH_OK, "%s", err.msg);
    cr_assert_eq(res.paid_cents, 8000 + 3872);
    size_t len;
    char *h = slurp(hist, &len);
    cr_expect_str_eq(h, "PA1\tA1\t20000\t8000\t2000\t2500\t7500\tP\nPA3\tA3\t6050\t3872\t968\t1210\t0\tP\n");
    free(h);

    cr_assert_eq(payer_sim_answer(in2, dir, &r, 600, &res, &err), CH_OK, "%s", err.msg);
    cr_expect_eq(res.claims, 3);
    cr_expect_eq(res.reversals, 2, "A1's and A3's payments are taken back; PUNKNOWN is not the payer's");
    cr_expect_eq(res.partial, 1, "B1, the correction, is paid as A1 was");
    cr_expect_eq(res.paid, 1, "B3 is paid; the void B2 is not adjudicated");
    /* -80.00 + 80.00 - 38.72 + 6.40 */
    cr_expect_eq(res.paid_cents, -3232);
    char *rm = slurp(res.remit_835, &len);
    tr_result t;
    tr_mem(&t, rm, len, 0);
    cr_assert_eq(t.rc, X12_END);
    cr_expect(has_seg(&t, "CLP|B1|22|-200|-80|-20|12|PA1|11|1"), "the reversal of A1 comes first");
    cr_expect(has_seg(&t, "CAS|CO|45|-25||50|-75"), "both CO adjustments in one CAS");
    cr_expect(has_seg(&t, "CAS|PR|2|-20"));
    cr_expect(has_seg(&t, "CLP|B1|1|200|80|20|12|PB1|11|1"), "then its correction");
    cr_expect(has_seg(&t, "CLP|B2|22|-60.5|-38.72|-9.68|12|PA3|11|1"), "the void takes back A3's payment");
    cr_expect(has_seg(&t, "CLP|B3|1|10|6.4|1.6|12|PB3|11|1"), "a number the payer does not know: no reversal");
    int clps_b2 = 0, reversal_b1 = -1, correction_b1 = -1;
    for (int i = 0; i < t.nseg; i++) {
        clps_b2 += !strncmp(t.seg[i], "CLP|B2|", 7);
        if (!strncmp(t.seg[i], "CLP|B1|22|", 10))
            reversal_b1 = i;
        if (!strncmp(t.seg[i], "CLP|B1|1|", 9))
            correction_b1 = i;
    }
    cr_expect_eq(clps_b2, 1, "a void is not paid");
    cr_expect_lt(reversal_b1, correction_b1, "the correction follows its reversal");
    /* it takes back more than it pays: nothing paid, the balance carried forward */
    cr_expect(!strncmp(t.seg[3], "BPR|H|0|C|NON|", 14), "BPR02 never negative: %s", t.seg[3]);
    cr_expect(has_seg(&t, "PLB|1234567893|20261231|FB:DEMOPAYER601|-32.32"));
    tr_free(&t);
    free(rm);
    h = slurp(hist, &len);
    cr_expect(strstr(h, "PB1\tB1\t20000\t8000\t2000\t2500\t7500\tP\n"), "%s", h);
    cr_expect(strstr(h, "PB3\tB3\t1000\t640\t160\t200\t0\tP\n"), "%s", h);
    cr_expect_null(strstr(h, "PB2"), "a void is not adjudicated: %s", h);
    free(h);
    /* the engine's own validator: every balance holds (BPR, CLP, SVC) */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' validate '%s' > /dev/null", bin(), res.remit_835);
    cr_expect_eq(system(cmd), 0, "the 835 validates");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(payer_sim, payer_answer_refuses_codes_in_its_999_and_says_what_it_did)
{
    char dir[] = "/tmp/ch-sim-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char root[256];
    snprintf(root, sizeof root, "%s", getenv("CH_ROOT") ? getenv("CH_ROOT") : ".");
    char cmd[4096];
    /* a home whose demo payer's 999 refuses 99499 (A2 bills it) */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && mkdir -p in out pp && cp '%s'/payer-profiles/*.yaml pp/ && "
             "sed -i 's/reject: \\[\"99499\"\\]/reject_999: [\"99499\"]/' pp/demo.yaml && "
             "grep -q reject_999 pp/demo.yaml && "
             "printf 'spool: spool\\nledger: {backend: sqlite, path: spool/ledger.db}\\npayer_profiles: pp\\n' > ch.yaml && "
             "sed -n '/^practices:/,$p' '%s'/conf/clearinghouse.yaml >> ch.yaml",
             dir, root, root);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    FILE *fp = fopen(sim_path(dir, "in/batch-42.x12"), "w");
    cr_assert_not_null(fp);
    fputs(claim837, fp);
    fclose(fp);
    cr_assert_eq(mkfifo(sim_path(dir, "in/a-fifo.x12"), 0600), 0);
    /* a FIFO is not a file to answer: skipped, never opened (that would block) */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && timeout 20 '%s' payer-answer --config ch.yaml --payer demo --in in --out out "
             "--date 20261125 --json > answer.json 2> answer.err",
             dir, bin());
    cr_assert_eq(WEXITSTATUS(system(cmd)), 0);
    size_t len;
    char *js = slurp(sim_path(dir, "answer.json"), &len);
    cr_expect(strstr(js, "\"file\":\"batch-42.x12\",\"status\":\"answered\",\"accepted_999\":false"), "%s", js);
    cr_expect(strstr(js, "\"answered\":1,\"failed\":0"), "%s", js);
    free(js);
    cr_expect_eq(access(sim_path(dir, "in/answered/batch-42.x12"), F_OK), 0, "answered files are moved aside");
    /* the 999: the set is rejected at SV101-2 with code 7, in claim A2 */
    snprintf(cmd, sizeof cmd, "cat '%s'/out/*.999 > '%s'/all.999", dir, dir);
    cr_assert_eq(system(cmd), 0);
    char *ack = slurp(sim_path(dir, "all.999"), &len);
    cr_expect(strstr(ack, "IK3*SV1*"), "%s", ack);
    cr_expect(strstr(ack, "CTX*CLM01:A2~"), "%s", ack);
    cr_expect(strstr(ack, "IK4*1:2*234*7*99499~"), "%s", ack);
    cr_expect(strstr(ack, "IK5*R*"), "%s", ack);
    free(ack);
    cr_expect_eq(access(sim_path(dir, "out/batch-42.277ca"), F_OK), -1, "no 277CA for a rejected file");

    /* exit statuses: usage 2; a file that cannot be answered 1 (it stays) */
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' payer-answer --config ch.yaml --payer demo --in in >/dev/null 2>&1",
             dir, bin());
    cr_expect_eq(WEXITSTATUS(system(cmd)), 2, "--out is required");
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' payer-answer --config ch.yaml --payer nobody --in in --out out >/dev/null 2>&1", dir,
             bin());
    cr_expect_eq(WEXITSTATUS(system(cmd)), 2, "unknown payer");
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' payer-answer --config ch.yaml --payer demo --in in --out out --date 2026-11-25 "
             ">/dev/null 2>&1",
             dir, bin());
    cr_expect_eq(WEXITSTATUS(system(cmd)), 2, "--date is CCYYMMDD");
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' payer-answer --config ch.yaml --payer demo --in nowhere --out out >/dev/null 2>&1", dir,
             bin());
    cr_expect_eq(WEXITSTATUS(system(cmd)), 2, "no such directory");
    snprintf(cmd, sizeof cmd,
             "cd '%s' && cp in/answered/batch-42.x12 in/ && touch not-a-dir && "
             "'%s' payer-answer --config ch.yaml --payer demo --in in --out not-a-dir >/dev/null 2>&1",
             dir, bin());
    cr_expect_eq(WEXITSTATUS(system(cmd)), 1, "the answers cannot be written");
    cr_expect_eq(access(sim_path(dir, "in/batch-42.x12"), F_OK), 0, "the file stays to be answered later");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}
