/*
 * test_validate_rules.c - the validator on hand-made cases at levels 3 to
 * 5: balancing (837 claim charges, 835 payments on a toy remittance guide),
 * the guide's situational rules and HL numbering, code sets; and the
 * code-set functions themselves (x12_codeset.h).  The 837 test guide and
 * the valid set the cases edit: validate_837.h.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "validate_837.h"
#include "x12_codeset.h"

/* ---- level 3: balancing -------------------------------------------------- */

Test(validate, claim_charge_balances_lines)
{
    vdiags d;
    run_edit("CLM*PCN1*150", "CLM*PCN1*150.01", &d);
    const x12_diag *e = vd_expect(&d, "balance.claim", 15, 2, 0, NULL, NULL);
    cr_assert_eq(e->level, 3);
    cr_assert_str_eq(e->found, "150.01");
    cr_assert_str_eq(e->expected, "150");
    cr_assert_str_eq(e->loop_id, "2300");
    cr_assert_str_eq(e->ik5, "I5");
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
    char *b = edit(base837, "CLM*PCN1*150", "CLM*PCN1*150.5");
    char *b2 = edit(b, "SV1*HC:85025*50*", "SV1*HC:85025*50.50*");
    run837(b2, &d);
    cr_assert_eq(d.n, 0, "cents add up exactly");
    vd_free(&d);
    free(b);
    free(b2);
}

/* ---- level 4: rules and HL ----------------------------------------------- */

Test(validate, rule_need_segment)
{
    vdiags d;
    run_edit("11:B:1", "11:B:7", &d);
    const x12_diag *e = vd_expect(&d, "rule.need", 15, 0, 0, "I6", NULL);
    cr_assert_str_eq(e->tag, "REF");
    cr_assert_eq(e->level, 4);
    cr_assert_str_eq(e->found, "7");
    cr_assert(strstr(e->msg, "REF*F8"), "%s", e->msg);
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
    run_edit("CLM*PCN1*150***11:B:1*Y~", "CLM*PCN1*150***11:B:7*Y~REF*F8*ABC~", &d);
    cr_assert_eq(d.n, 0);
    vd_free(&d);
    /* the right qualifier matters, not just the tag */
    run_edit("CLM*PCN1*150***11:B:1*Y~", "CLM*PCN1*150***11:B:1*Y*****AA~", &d);
    e = vd_expect(&d, "rule.need", 15, 0, 0, "I6", NULL);
    cr_assert_str_eq(e->tag, "DTP");
    vd_free(&d);
}

Test(validate, rule_forbid_loop)
{
    vdiags d;
    run_edit("HL*2*1*22*0~", "HL*2*1*22*1~", &d);
    cr_assert_eq(vd_errors(&d), 1, "HL04 1 without a child level");
    vd_free(&d);
    run_edit("DTP*472*D8*20250110~LX*2~SV1*HC:85025*50*UN*1***1:2~DTP*472*D8*20250110~",
             "DTP*472*D8*20250110~LX*2~SV1*HC:85025*50*UN*1***1:2~DTP*472*D8*20250110~HL*3*2*23*0~PAT*19~",
             &d);
    /* SBR02 18 and a 2000C: reported at the 2000B HL */
    const x12_diag *e = vd_expect(&d, "rule.forbid", 11, 0, 0, "I9", NULL);
    cr_assert_str_eq(e->tag, "HL");
    cr_assert_str_eq(e->loop_id, "2000B");
    cr_assert_eq(vd_count(&d, "hl.child"), 1, "and HL04 0 with a child level");
    vd_free(&d);
}

Test(validate, hl_numbering_parent_and_children)
{
    vdiags d;
    run_edit("HL*2*1*22*0", "HL*1*1*22*0", &d);
    const x12_diag *e = vd_expect(&d, "hl.order", 11, 1, 0, "8", NULL);
    cr_assert_eq(e->level, 4);
    vd_free(&d);
    run_edit("HL*2*1*22*0", "HL*2*5*22*0", &d);
    e = vd_expect(&d, "hl.parent", 11, 2, 0, "8", NULL);
    cr_assert_str_eq(e->found, "5");
    cr_assert(strstr(e->expected, "1"), "%s", e->expected);
    vd_free(&d);
    /* HL04 1 at 2000B, but no 2000C: reported at that HL */
    run_edit("HL*2*1*22*0~SBR*P*18", "HL*2*1*22*1~SBR*P*", &d);
    vd_expect(&d, "hl.child", 11, 4, 0, "8", "7");
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
}

/* ---- level 5: code sets -------------------------------------------------- */

Test(validate, codeset_checks_report_level_5)
{
    static const struct {
        const char *from, *to, *code;
        unsigned seg;
        int el, comp;
    } t[] = {
        {"1234567893", "1234567890", "codeset.npi", 7, 9, 0},
        {"207Q00000X", "207Q00000Y", "codeset.taxonomy", 6, 3, 0},
        {"REF*EI*123456789", "REF*EI*12-3456789", "codeset.ein", 10, 2, 0},
        {"N4*DENVER*CO*80202", "N4*DENVER*ZZ*80202", "codeset.state", 9, 2, 0},
        {"N4*DENVER*CO*80202", "N4*DENVER*CO*8020", "codeset.zip", 9, 3, 0},
        {"DMG*D8*19800101", "DMG*D8*19800230", "codeset.date", 14, 2, 0},
        {"ABK:J449", "ABK:J4.9", "codeset.hi", 16, 1, 2},
        {"ABF:E785", "ABF:785", "codeset.hi", 16, 2, 2},
        {"HC:99213", "HC:9921", "codeset.proc", 18, 1, 2},
        {"DTP*472*D8*20250110~LX*2", "DTP*472*D8*2025011~LX*2", "codeset.dtp", 19, 3, 0},
        {"DTP*472*D8*20250110~LX*2", "DTP*472*RD8*20250110-20250101~LX*2", "codeset.dtp", 19, 3, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        vdiags d;
        run_edit(t[i].from, t[i].to, &d);
        const x12_diag *e = vd_expect(&d, t[i].code, t[i].seg, t[i].el, t[i].comp, "8", NULL);
        cr_assert_eq(e->level, 5, "%s", t[i].code);
        cr_assert_eq(vd_errors(&d), 1, "%s: one problem, one report", t[i].code);
        vd_free(&d);
    }
}

Test(validate, codeset_passes)
{
    static const struct {
        const char *from, *to;
    } t[] = {
        {"N4*DENVER*CO*80202", "N4*TORONTO*ON*M5V2T6*CA"}, /* foreign: state and ZIP not checked */
        {"N4*DENVER*CO*80202", "N4*APO*AE*090120001"},
        {"ABK:J449", "BK:8901"},                           /* ICD-9 by its qualifier */
        {"HC:99213", "HC:0001F"},
        {"HC:99213", "HC:J3301"},
        {"HC:99213", "ER:ANYTHING1"},                      /* only HC is checked */
        {"DTP*472*D8*20250110~LX*2", "DTP*472*RD8*20250101-20250110~LX*2"},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        vdiags d;
        run_edit(t[i].from, t[i].to, &d);
        if (d.n)
            vd_dump(&d);
        cr_assert_eq(d.n, 0, "'%s' is fine", t[i].to);
        vd_free(&d);
    }
}

/* ---- an 835 for the payment balances ------------------------------------- */

static const char *const t835 =
    "guide 835 005010X221A1 \"Toy Remittance\"\n"
    "balance 835\n"
    "seg ST R 1 \"Header\"\n"
    "  el 01 R ID 3 3 \"Set\" codes=835\n"
    "  el 02 R AN 4 9 \"Control\"\n"
    "  el 03 S AN 1 35 \"Version\"\n"
    "seg BPR R 1 \"Financial Information\"\n"
    "  el 01 R ID 1 2 \"Handling\" codes=I,H\n"
    "  el 02 R R 1 18 \"Total Actual Provider Payment Amount\"\n"
    "  el 03 R ID 1 1 \"Credit or Debit Flag Code\" codes=C,D\n"
    "  el 04 R ID 3 3 \"Payment Method Code\" codes=ACH,CHK,NON\n"
    "loop 2000 S >1 \"Header Number\"\n"
    "  seg LX R 1 \"Header Number\"\n"
    "    el 01 R N0 1 6 \"Assigned Number\"\n"
    "  loop 2100 R >1 \"Claim Payment Information\"\n"
    "    seg CLP R 1 \"Claim Payment Information\"\n"
    "      el 01 R AN 1 38 \"Patient Control Number\"\n"
    "      el 02 R ID 1 2 \"Claim Status Code\" codes=1,2,4,22\n"
    "      el 03 R R 1 18 \"Total Claim Charge Amount\"\n"
    "      el 04 R R 1 18 \"Claim Payment Amount\"\n"
    "    seg CAS S 99 \"Claim Adjustment\"\n"
    "      el 01 R ID 1 2 \"Claim Adjustment Group Code\" codes=CO,OA,PR\n"
    "      el 02 R ID 1 5 \"Adjustment Reason Code\"\n"
    "      el 03 R R 1 18 \"Adjustment Amount\"\n"
    "      el 05 S ID 1 5 \"Adjustment Reason Code\"\n"
    "      el 06 S R 1 18 \"Adjustment Amount\"\n"
    "      syntax P 05 06\n"
    "    loop 2110 S 999 \"Service Payment Information\"\n"
    "      seg SVC R 1 \"Service Payment Information\"\n"
    "        el 01 R C \"Composite Medical Procedure Identifier\"\n"
    "          comp 1 R ID 2 2 \"Product or Service ID Qualifier\" codes=HC\n"
    "          comp 2 R AN 1 48 \"Procedure Code\" check=proc\n"
    "        el 02 R R 1 18 \"Line Item Charge Amount\"\n"
    "        el 03 R R 1 18 \"Line Item Provider Payment Amount\"\n"
    "      seg CAS S 99 \"Service Adjustment\"\n"
    "        el 01 R ID 1 2 \"Claim Adjustment Group Code\" codes=CO,OA,PR\n"
    "        el 02 R ID 1 5 \"Adjustment Reason Code\"\n"
    "        el 03 R R 1 18 \"Adjustment Amount\"\n"
    "        el 05 S ID 1 5 \"Adjustment Reason Code\"\n"
    "        el 06 S R 1 18 \"Adjustment Amount\"\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "seg PLB S >1 \"Provider Adjustment\"\n"
    "  el 01 R AN 1 50 \"Provider Identifier\"\n"
    "  el 02 R DT 8 8 \"Fiscal Period Date\"\n"
    "  el 03 R C \"Adjustment Identifier\"\n"
    "    comp 1 R ID 2 2 \"Adjustment Reason Code\" codes=WO,L6\n"
    "  el 04 R R 1 18 \"Provider Adjustment Amount\"\n"
    "  el 05 S C \"Adjustment Identifier\"\n"
    "    comp 1 R ID 2 2 \"Adjustment Reason Code\" codes=WO,L6\n"
    "  el 06 S R 1 18 \"Provider Adjustment Amount\"\n"
    "seg SE R 1 \"Trailer\"\n"
    "  el 01 R N0 1 10 \"Count\"\n"
    "  el 02 R AN 4 9 \"Control\"\n";

static const char *const base835 =
    "BPR*I*70*C*CHK~"             /* 2 */
    "LX*1~"                       /* 3 */
    "CLP*C1*1*150*80~"            /* 4 */
    "SVC*HC:99213*100*60~"        /* 5 */
    "CAS*CO*45*40~"               /* 6 */
    "SVC*HC:85025*50*20~"         /* 7 */
    "CAS*PR*1*25**2*5~"           /* 8 */
    "PLB*P1*20251231*WO*4*L6*6~"; /* 9 */

static void run835(const char *from, const char *to, vdiags *d)
{
    x12_guide *g = vd_guide(t835);
    char *b = from ? edit(base835, from, to) : strdup(base835);
    char *x = vd_wrap("835", "005010X221A1", b);
    vd_run(g, x, d);
    free(x);
    free(b);
    x12_guide_free(g);
}

Test(validate, remittance_balances)
{
    vdiags d;
    run835(NULL, NULL, &d);
    if (d.n)
        vd_dump(&d);
    cr_assert_eq(d.n, 0);
    vd_free(&d);
    run835("BPR*I*70", "BPR*I*75", &d);
    const x12_diag *e = vd_expect(&d, "balance.payment", 2, 2, 0, NULL, NULL);
    cr_assert_str_eq(e->found, "75");
    cr_assert_str_eq(e->expected, "70");
    cr_assert_eq(e->level, 3);
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
    /* a line's adjustment off: the line and its claim are out */
    run835("CAS*CO*45*40", "CAS*CO*45*35", &d);
    e = vd_expect(&d, "balance.line", 5, 2, 0, NULL, NULL);
    cr_assert_str_eq(e->found, "40");
    cr_assert_str_eq(e->expected, "35");
    cr_assert_str_eq(e->loop_id, "2110");
    e = vd_expect(&d, "balance.claim", 4, 3, 0, NULL, NULL);
    cr_assert_str_eq(e->loop_id, "2100");
    cr_assert_eq(vd_errors(&d), 2);
    vd_free(&d);
    /* a claim-level adjustment counts for the claim only */
    run835("CLP*C1*1*150*80~", "CLP*C1*1*150.10*80~CAS*OA*23*0.10~", &d);
    cr_assert_eq(vd_errors(&d), 0);
    vd_free(&d);
    run835("CLP*C1*1*150*80~", "CLP*C1*1*150*80~CAS*OA*23*0.10~", &d);
    e = vd_expect(&d, "balance.claim", 4, 3, 0, NULL, NULL);
    cr_assert_str_eq(e->found, "70");
    cr_assert_str_eq(e->expected, "70.1");
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
}

Test(validate, remittance_reversal_and_unreadable_amounts)
{
    vdiags d;
    /* a reversal: everything negative, still balanced */
    run835("BPR*I*70*C*CHK~LX*1~", "BPR*I*66*C*CHK~LX*1~CLP*C0*22*-10*-4~CAS*CO*45*-6~", &d);
    cr_assert_eq(vd_errors(&d), 0, "BPR02 = 80 - 4 - (4 + 6)");
    vd_free(&d);
    run835("CLP*C1*1*150*80", "CLP*C1*1*ABC*80", &d);
    vd_expect(&d, "element.number", 4, 3, 0, "8", "6");
    cr_assert_eq(vd_count(&d, "balance.claim"), 0);
    vd_free(&d);
    /* an unreadable CLP04 (read once for the claim and the payment total)
     * makes both sums unusable: neither is compared */
    run835("CLP*C1*1*150*80", "CLP*C1*1*150*8O", &d);
    vd_expect(&d, "element.number", 4, 4, 0, "8", "6");
    cr_assert_eq(vd_count(&d, "balance.claim"), 0);
    cr_assert_eq(vd_count(&d, "balance.payment"), 0);
    vd_free(&d);
    /* an empty one is missing, and adds nothing to the payment total */
    run835("CLP*C1*1*150*80", "CLP*C1*1*150*", &d);
    vd_expect(&d, "element.missing", 4, 4, 0, NULL, NULL);
    const x12_diag *e = vd_expect(&d, "balance.payment", 2, 2, 0, NULL, NULL);
    cr_assert_str_eq(e->expected, "-10");
    vd_free(&d);
}

/* ---- code-set functions -------------------------------------------------- */

static x12_str S(const char *s) { return (x12_str){s, strlen(s)}; }

Test(codeset, npi)
{
    cr_assert(x12_npi_ok(S("1234567893")));
    cr_assert(x12_npi_ok(S("1245319599")));
    cr_assert_not(x12_npi_ok(S("1234567890")));
    cr_assert_not(x12_npi_ok(S("123456789")));
    cr_assert_not(x12_npi_ok(S("12345678930")));
    cr_assert_not(x12_npi_ok(S("123456789X")));
}

Test(codeset, diagnosis_and_procedure_shapes)
{
    cr_assert(x12_icd10cm_ok(S("J449")));
    cr_assert(x12_icd10cm_ok(S("S72001A")));
    cr_assert(x12_icd10cm_ok(S("E11")));
    cr_assert_not(x12_icd10cm_ok(S("E1")));
    cr_assert_not(x12_icd10cm_ok(S("J44.9")));
    cr_assert_not(x12_icd10cm_ok(S("1449")));
    cr_assert_not(x12_icd10cm_ok(S("JA49")));
    cr_assert_not(x12_icd10cm_ok(S("S72001AX")));
    cr_assert(x12_icd10pcs_ok(S("0DTJ4ZZ")));
    cr_assert_not(x12_icd10pcs_ok(S("0DTI4ZZ")));
    cr_assert(x12_icd9dx_ok(S("8901")));
    cr_assert(x12_icd9dx_ok(S("V1582")));
    cr_assert(x12_icd9dx_ok(S("E8889")));
    cr_assert_not(x12_icd9dx_ok(S("E88")));
    const char *what;
    cr_assert_not(x12_hi_ok(S("ABK"), S("8901"), &what));
    cr_assert_str_eq(what, "ICD-10-CM");
    cr_assert(x12_hi_ok(S("BK"), S("8901"), &what));
    cr_assert(x12_hi_ok(S("BBR"), S("0DTJ4ZZ"), NULL));
    cr_assert(x12_hi_ok(S("BG"), S("01"), &what), "condition codes are not checked");
    cr_assert_null(what);
    cr_assert(x12_proc_ok(S("HC"), S("99213")));
    cr_assert(x12_proc_ok(S("HC"), S("0001F")));
    cr_assert(x12_proc_ok(S("HC"), S("0042T")));
    cr_assert(x12_proc_ok(S("HC"), S("A0428")));
    cr_assert_not(x12_proc_ok(S("HC"), S("9921")));
    cr_assert_not(x12_proc_ok(S("HC"), S("0001X")));
    cr_assert_not(x12_proc_ok(S("HC"), S("AB123")));
    cr_assert(x12_proc_ok(S("N4"), S("12345678901")));
}

Test(codeset, places_and_ids)
{
    cr_assert(x12_state_ok(S("CO")));
    cr_assert(x12_state_ok(S("DC")));
    cr_assert(x12_state_ok(S("PR")));
    cr_assert(x12_state_ok(S("AE")));
    cr_assert(x12_state_ok(S("WY")));
    cr_assert_not(x12_state_ok(S("ZZ")));
    cr_assert_not(x12_state_ok(S("NP")));
    cr_assert_not(x12_state_ok(S("co")));
    cr_assert_not(x12_state_ok(S("C")));
    cr_assert(x12_zip_ok(S("80202")));
    cr_assert(x12_zip_ok(S("802021234")));
    cr_assert_not(x12_zip_ok(S("8020")));
    cr_assert_not(x12_zip_ok(S("80202-1234")));
    cr_assert(x12_taxonomy_ok(S("207Q00000X")));
    cr_assert_not(x12_taxonomy_ok(S("207Q00000")));
    cr_assert_not(x12_taxonomy_ok(S("207Q0000-X")));
    cr_assert(x12_ein_ok(S("123456789")));
    cr_assert_not(x12_ein_ok(S("12-3456789")));
}

Test(codeset, date_periods)
{
    cr_assert(x12_dtp_ok(S("D8"), S("20240229")));
    cr_assert_not(x12_dtp_ok(S("D8"), S("20230229")));
    cr_assert_not(x12_dtp_ok(S("D8"), S("20240101-20240102")));
    cr_assert(x12_dtp_ok(S("RD8"), S("20240101-20240102")));
    cr_assert(x12_dtp_ok(S("RD8"), S("20240101-20240101")));
    cr_assert_not(x12_dtp_ok(S("RD8"), S("20240102-20240101")));
    cr_assert_not(x12_dtp_ok(S("RD8"), S("20240101")));
    cr_assert(x12_dtp_ok(S("DT"), S("202401011230")));
    cr_assert_not(x12_dtp_ok(S("DT"), S("202401012530")));
    cr_assert(x12_dtp_ok(S("TM"), S("anything")), "formats not known pass");
}
