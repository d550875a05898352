/*
 * test_payer_sim.c - the synthetic payer: its 277CA and 835 are well-formed,
 * decisions follow the rules, and every amount balances to the cent.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
