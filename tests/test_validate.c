/*
 * test_validate.c - the validator (x12_validate.h) on hand-made cases.
 *
 * Each case starts from a valid transaction set for a small test guide
 * (written here, so the cases do not move when the real tables change),
 * changes one thing, and asserts the exact diagnostic: code, segment number
 * in the transaction set (ST = 1), element, component and the 999 codes.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "validate_helpers.h"
#include "x12_codeset.h"

/* A cut-down 837P: header, 1000A, 2000A (2010AA, 2010AB), 2000B (2010BA,
 * 2300 (2310B, 2400 (2420A)), 2000C). */
static const char *const t837 =
    "guide 837 005010X222A1 \"Test Claim\"\n"
    "balance 837\n"
    "seg ST R 1 \"Transaction Set Header\"\n"
    "  el 01 R ID 3 3 \"Transaction Set Identifier Code\" codes=837\n"
    "  el 02 R AN 4 9 \"Transaction Set Control Number\"\n"
    "  el 03 R AN 1 35 \"Implementation Convention Reference\" codes=005010X222A1\n"
    "seg BHT R 1 \"Beginning of Hierarchical Transaction\"\n"
    "  el 01 R ID 4 4 \"Hierarchical Structure Code\" codes=0019\n"
    "  el 02 R ID 2 2 \"Transaction Set Purpose Code\" codes=00,18\n"
    "  el 03 R AN 1 50 \"Reference Identification\"\n"
    "  el 04 R DT 8 8 \"Date\"\n"
    "  el 05 R TM 4 8 \"Time\"\n"
    "  el 06 S ID 2 2 \"Claim or Encounter Identifier\" codes=CH,RP\n"
    "loop 1000A R 1 \"Submitter Name\"\n"
    "  seg NM1 R 1 \"Submitter Name\" key=01:41\n"
    "    el 01 R ID 2 3 \"Entity Identifier Code\" codes=41\n"
    "    el 02 R ID 1 1 \"Entity Type Qualifier\" codes=1,2\n"
    "    el 03 R AN 1 60 \"Submitter Name\"\n"
    "    el 04 S AN 1 35 \"Submitter First Name\"\n"
    "    el 08 R ID 1 2 \"Identification Code Qualifier\" codes=46\n"
    "    el 09 R AN 2 80 \"Submitter Identifier\"\n"
    "    syntax P 08 09\n"
    "  seg PER R 2 \"Submitter Contact\"\n"
    "    el 01 R ID 2 2 \"Contact Function Code\" codes=IC\n"
    "    el 02 S AN 1 60 \"Contact Name\"\n"
    "    el 03 S ID 2 2 \"Communication Number Qualifier\" codes=TE,EM\n"
    "    el 04 S AN 1 256 \"Communication Number\"\n"
    "    syntax P 03 04\n"
    "  end\n"
    "loop 2000A R >1 \"Billing Provider Hierarchical Level\"\n"
    "  seg HL R 1 \"Billing Provider Hierarchical Level\" key=03:20\n"
    "    el 01 R AN 1 12 \"Hierarchical ID Number\"\n"
    "    el 03 R ID 1 2 \"Hierarchical Level Code\" codes=20\n"
    "    el 04 R ID 1 1 \"Hierarchical Child Code\" codes=1\n"
    "  seg PRV S 1 \"Billing Provider Specialty\"\n"
    "    el 01 R ID 1 3 \"Provider Code\" codes=BI\n"
    "    el 02 R ID 2 3 \"Reference Identification Qualifier\" codes=PXC\n"
    "    el 03 R AN 1 50 \"Provider Taxonomy Code\" check=taxonomy\n"
    "  loop 2010AA R 1 \"Billing Provider Name\"\n"
    "    seg NM1 R 1 \"Billing Provider Name\" key=01:85\n"
    "      el 01 R ID 2 3 \"Entity Identifier Code\" codes=85\n"
    "      el 02 R ID 1 1 \"Entity Type Qualifier\" codes=1,2\n"
    "      el 03 R AN 1 60 \"Billing Provider Name\"\n"
    "      el 08 R ID 1 2 \"Identification Code Qualifier\" codes=XX\n"
    "      el 09 R AN 2 80 \"Billing Provider Identifier\" check=npi\n"
    "      syntax P 08 09\n"
    "    seg N3 R 1 \"Billing Provider Address\"\n"
    "      el 01 R AN 1 55 \"Address Line\"\n"
    "      el 02 S AN 1 55 \"Address Line\"\n"
    "    seg N4 R 1 \"Billing Provider City, State, ZIP Code\"\n"
    "      el 01 R AN 2 30 \"City Name\"\n"
    "      el 02 S ID 2 2 \"State Code\" check=state\n"
    "      el 03 S ID 3 15 \"Postal Code\" check=zip\n"
    "      el 04 S ID 2 3 \"Country Code\"\n"
    "    seg REF R 1 \"Billing Provider Tax Identification\" key=01:EI\n"
    "      el 01 R ID 2 3 \"Reference Identification Qualifier\" codes=EI\n"
    "      el 02 R AN 1 50 \"Tax Identification Number\" check=ein\n"
    "    seg REF S 2 \"Billing Provider License\" key=01:0B,1G\n"
    "      el 01 R ID 2 3 \"Reference Identification Qualifier\" codes=0B,1G\n"
    "      el 02 R AN 1 50 \"License Number\"\n"
    "    seg NTE N 1 \"Billing Note\"\n"
    "      el 01 R AN 1 80 \"Note\"\n"
    "    end\n"
    "  loop 2010AB S 1 \"Pay-to Address Name\"\n"
    "    seg NM1 R 1 \"Pay-to Address Name\" key=01:87\n"
    "      el 01 R ID 2 3 \"Entity Identifier Code\" codes=87\n"
    "      el 02 R ID 1 1 \"Entity Type Qualifier\" codes=1,2\n"
    "    seg N3 R 1 \"Pay-to Address\"\n"
    "      el 01 R AN 1 55 \"Address Line\"\n"
    "    end\n"
    "  loop 2000B R >1 \"Subscriber Hierarchical Level\"\n"
    "    seg HL R 1 \"Subscriber Hierarchical Level\" key=03:22\n"
    "      el 01 R AN 1 12 \"Hierarchical ID Number\"\n"
    "      el 02 R AN 1 12 \"Hierarchical Parent ID Number\"\n"
    "      el 03 R ID 1 2 \"Hierarchical Level Code\" codes=22\n"
    "      el 04 R ID 1 1 \"Hierarchical Child Code\" codes=0,1\n"
    "    seg SBR R 1 \"Subscriber Information\"\n"
    "      el 01 R ID 1 1 \"Payer Responsibility Sequence Number Code\" codes=P,S,T\n"
    "      el 02 S ID 2 2 \"Individual Relationship Code\" codes=18\n"
    "      el 09 S ID 1 2 \"Claim Filing Indicator Code\" codes=CI,MB\n"
    "    rule \"SBR02 18: the patient is the subscriber, no 2000C\" if SBR02 = 18 then forbid loop 2000C\n"
    "    loop 2010BA R 1 \"Subscriber Name\"\n"
    "      seg NM1 R 1 \"Subscriber Name\" key=01:IL\n"
    "        el 01 R ID 2 3 \"Entity Identifier Code\" codes=IL\n"
    "        el 02 R ID 1 1 \"Entity Type Qualifier\" codes=1,2\n"
    "        el 03 R AN 1 60 \"Subscriber Last Name\"\n"
    "        el 08 S ID 1 2 \"Identification Code Qualifier\" codes=MI\n"
    "        el 09 S AN 2 80 \"Subscriber Primary Identifier\"\n"
    "        syntax P 08 09\n"
    "      seg DMG S 1 \"Subscriber Demographic Information\"\n"
    "        el 01 R ID 2 3 \"Date Time Period Format Qualifier\" codes=D8\n"
    "        el 02 R AN 1 35 \"Subscriber Birth Date\" check=date\n"
    "        el 03 R ID 1 1 \"Subscriber Gender Code\" codes=F,M,U\n"
    "      end\n"
    "    loop 2300 S 100 \"Claim Information\"\n"
    "      seg CLM R 1 \"Claim Information\"\n"
    "        el 01 R AN 1 38 \"Patient Control Number\"\n"
    "        el 02 R R 1 18 \"Total Claim Charge Amount\"\n"
    "        el 05 R C \"Health Care Service Location Information\"\n"
    "          comp 1 R AN 1 2 \"Place of Service Code\"\n"
    "          comp 2 R ID 1 2 \"Facility Code Qualifier\" codes=B\n"
    "          comp 3 R ID 1 1 \"Claim Frequency Code\" codes=1,7,8\n"
    "        el 06 R ID 1 1 \"Provider Signature Indicator\" codes=N,Y\n"
    "        el 11 S C \"Related Causes Information\"\n"
    "          comp 1 R ID 2 3 \"Related Causes Code\" codes=AA,EM,OA\n"
    "          comp 2 S ID 2 3 \"Related Causes Code\" codes=AA,EM,OA\n"
    "      seg DTP S 1 \"Date - Onset\" key=01:431\n"
    "        el 01 R ID 3 3 \"Date Time Qualifier\" codes=431\n"
    "        el 02 R ID 2 3 \"Date Time Period Format Qualifier\" codes=D8\n"
    "        el 03 R AN 1 35 \"Onset Date\" check=dtp\n"
    "      seg DTP S 1 \"Date - Accident\" key=01:439\n"
    "        el 01 R ID 3 3 \"Date Time Qualifier\" codes=439\n"
    "        el 02 R ID 2 3 \"Date Time Period Format Qualifier\" codes=D8\n"
    "        el 03 R AN 1 35 \"Accident Date\" check=dtp\n"
    "      seg REF S 1 \"Payer Claim Control Number\" key=01:F8\n"
    "        el 01 R ID 2 3 \"Reference Identification Qualifier\" codes=F8\n"
    "        el 02 R AN 1 50 \"Payer Claim Control Number\"\n"
    "      seg HI R 1 \"Health Care Diagnosis Code\" key=01-1:ABK,BK\n"
    "        el 01 R C \"Health Care Code Information\"\n"
    "          comp 1 R ID 1 3 \"Diagnosis Type Code\" codes=ABK,BK\n"
    "          comp 2 R AN 1 30 \"Diagnosis Code\" check=hi\n"
    "        el 02 S C \"Health Care Code Information\"\n"
    "          comp 1 R ID 1 3 \"Diagnosis Type Code\" codes=ABF,BF\n"
    "          comp 2 R AN 1 30 \"Diagnosis Code\" check=hi\n"
    "      rule \"CLM05-3 7 or 8 needs the payer claim control number REF*F8\" if CLM05-3 = 7,8 then need seg REF:F8\n"
    "      rule \"an accident (CLM11-1 AA or OA) needs DTP*439\" if CLM11-1 = AA,OA then need seg DTP:439\n"
    "      loop 2310B S 1 \"Rendering Provider Name\"\n"
    "        seg NM1 R 1 \"Rendering Provider Name\" key=01:82\n"
    "          el 01 R ID 2 3 \"Entity Identifier Code\" codes=82\n"
    "          el 02 R ID 1 1 \"Entity Type Qualifier\" codes=1,2\n"
    "        end\n"
    "      loop 2400 R 50 \"Service Line Number\"\n"
    "        seg LX R 1 \"Service Line Number\"\n"
    "          el 01 R N0 1 6 \"Assigned Number\"\n"
    "        seg SV1 R 1 \"Professional Service\"\n"
    "          el 01 R C \"Composite Medical Procedure Identifier\"\n"
    "            comp 1 R ID 2 2 \"Product or Service ID Qualifier\" codes=ER,HC\n"
    "            comp 2 R AN 1 48 \"Procedure Code\" check=proc\n"
    "            comp 3 S AN 2 2 \"Procedure Modifier\"\n"
    "          el 02 R R 1 18 \"Line Item Charge Amount\"\n"
    "          el 03 R ID 2 2 \"Unit or Basis for Measurement Code\" codes=MJ,UN\n"
    "          el 04 R R 1 15 \"Service Unit Count\"\n"
    "          el 07 S C \"Composite Diagnosis Code Pointer\"\n"
    "            comp 1 R N0 1 2 \"Diagnosis Code Pointer\" codes=1,2,3,4\n"
    "            comp 2 S N0 1 2 \"Diagnosis Code Pointer\" codes=1,2,3,4\n"
    "        seg DTP R 1 \"Date - Service Date\" key=01:472\n"
    "          el 01 R ID 3 3 \"Date Time Qualifier\" codes=472\n"
    "          el 02 R ID 2 3 \"Date Time Period Format Qualifier\" codes=D8,RD8\n"
    "          el 03 R AN 1 35 \"Service Date\" check=dtp\n"
    "        loop 2420A S 1 \"Rendering Provider Name\"\n"
    "          seg NM1 R 1 \"Rendering Provider Name\" key=01:82\n"
    "            el 01 R ID 2 3 \"Entity Identifier Code\" codes=82\n"
    "            el 02 R ID 1 1 \"Entity Type Qualifier\" codes=1,2\n"
    "          end\n"
    "        end\n"
    "      end\n"
    "    loop 2000C S >1 \"Patient Hierarchical Level\"\n"
    "      seg HL R 1 \"Patient Hierarchical Level\" key=03:23\n"
    "        el 01 R AN 1 12 \"Hierarchical ID Number\"\n"
    "        el 02 R AN 1 12 \"Hierarchical Parent ID Number\"\n"
    "        el 03 R ID 1 2 \"Hierarchical Level Code\" codes=23\n"
    "        el 04 R ID 1 1 \"Hierarchical Child Code\" codes=0\n"
    "      seg PAT R 1 \"Patient Information\"\n"
    "        el 01 R ID 2 2 \"Individual Relationship Code\" codes=01,19\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "seg SE R 1 \"Transaction Set Trailer\"\n"
    "  el 01 R N0 1 10 \"Number of Included Segments\"\n"
    "  el 02 R AN 4 9 \"Transaction Set Control Number\"\n";

/* A valid set for t837; the number is each segment's place in the set. */
static const char *const base837 =
    "BHT*0019*00*0123*20250115*1200*CH~"        /*  2 */
    "NM1*41*2*SUBMITTER*****46*S01~"            /*  3 */
    "PER*IC*JANE*TE*5555550100~"                /*  4 */
    "HL*1**20*1~"                               /*  5 */
    "PRV*BI*PXC*207Q00000X~"                    /*  6 */
    "NM1*85*2*CLINIC*****XX*1234567893~"        /*  7 */
    "N3*1 MAIN ST~"                             /*  8 */
    "N4*DENVER*CO*80202~"                       /*  9 */
    "REF*EI*123456789~"                         /* 10 */
    "HL*2*1*22*0~"                              /* 11 */
    "SBR*P*18*******CI~"                        /* 12 */
    "NM1*IL*1*DOE*****MI*M123~"                 /* 13 */
    "DMG*D8*19800101*F~"                        /* 14 */
    "CLM*PCN1*150***11:B:1*Y~"                  /* 15 */
    "HI*ABK:J449*ABF:E785~"                     /* 16 */
    "LX*1~"                                     /* 17 */
    "SV1*HC:99213*100*UN*1***1~"                /* 18 */
    "DTP*472*D8*20250110~"                      /* 19 */
    "LX*2~"                                     /* 20 */
    "SV1*HC:85025*50*UN*1***1:2~"               /* 21 */
    "DTP*472*D8*20250110~";                     /* 22, SE is 23 */

static x12_guide *g837;

static void setup837(void) { g837 = vd_guide(t837); }
static void teardown837(void)
{
    x12_guide_free(g837);
    g837 = NULL;
}

/* base837 with `from` replaced by `to` (each must occur). */
static char *edit(const char *body, const char *from, const char *to)
{
    const char *at = strstr(body, from);
    cr_assert(at, "'%s' is not in the body", from);
    size_t n = strlen(body) - strlen(from) + strlen(to) + 1;
    char *s = malloc(n);
    cr_assert(s);
    snprintf(s, n, "%.*s%s%s", (int)(at - body), body, to, at + strlen(from));
    return s;
}

/* Validate body (in an 837 envelope) with t837. */
static void run837(const char *body, vdiags *d)
{
    char *x = vd_wrap("837", "005010X222A1", body);
    vd_run(g837, x, d);
    free(x);
}

/* One edit of base837, validated. */
static void run_edit(const char *from, const char *to, vdiags *d)
{
    char *b = edit(base837, from, to);
    run837(b, d);
    free(b);
}

TestSuite(validate, .init = setup837, .fini = teardown837);

Test(validate, base_set_is_valid)
{
    vdiags d;
    run837(base837, &d);
    if (d.n)
        vd_dump(&d);
    cr_assert_eq(d.n, 0, "a valid set gives no diagnostics");
    vd_free(&d);
}

/* ---- level 1: types, lengths, counts ------------------------------------- */

Test(validate, too_long_and_too_short)
{
    vdiags d;
    run_edit("NM1*41*2*SUBMITTER", "NM1*41*2*"
             "SUBMITTERSUBMITTERSUBMITTERSUBMITTERSUBMITTERSUBMITTERSUBMITTER", &d);
    const x12_diag *e = vd_expect(&d, "element.too_long", 3, 3, 0, "8", "5");
    cr_assert_eq(e->level, 1);
    cr_assert_str_eq(e->ik5, "5", "a syntax error: IK502 5");
    cr_assert_str_eq(e->loop_id, "1000A");
    cr_assert_str_eq(e->loop_name, "Submitter Name");
    cr_assert_str_eq(e->tag, "NM1");
    cr_assert_str_eq(e->expected, "1 to 60 characters");
    cr_assert_eq(e->pos.seg_no, 5, "ISA GS ST BHT NM1");
    vd_free(&d);
    run_edit("N4*DENVER", "N4*D", &d);
    e = vd_expect(&d, "element.too_short", 9, 1, 0, "8", "4");
    cr_assert_str_eq(e->found, "D");
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
}

Test(validate, invalid_code)
{
    vdiags d;
    run_edit("BHT*0019*00", "BHT*0019*99", &d);
    const x12_diag *e = vd_expect(&d, "element.code", 2, 2, 0, "8", "7");
    cr_assert_str_eq(e->found, "99");
    cr_assert_str_eq(e->expected, "00 or 18");
    cr_assert_eq(e->level, 2);
    cr_assert_str_eq(e->ik5, "I5");
    cr_assert_null(e->loop_id, "the header has no loop id");
    vd_free(&d);
    run_edit("11:B:1", "11:B:5", &d);
    vd_expect(&d, "element.code", 15, 5, 3, "8", "7");
    vd_free(&d);
}

Test(validate, dates_and_times)
{
    vdiags d;
    run_edit("*20250115*1200", "*20250230*1200", &d);
    vd_expect(&d, "element.date", 2, 4, 0, "8", "8");
    vd_free(&d);
    run_edit("*20250115*1200", "*2025011A*1200", &d);
    vd_expect(&d, "element.date", 2, 4, 0, "8", "8");
    vd_free(&d);
    run_edit("*20250115*1200", "*2025011*1200", &d);
    vd_expect(&d, "element.too_short", 2, 4, 0, "8", "4");
    vd_free(&d);
    run_edit("*20250115*1200", "*20250115*2575", &d);
    vd_expect(&d, "element.time", 2, 5, 0, "8", "9");
    vd_free(&d);
    run_edit("*20250115*1200", "*20250115*120000", &d);
    cr_assert_eq(d.n, 0, "HHMMSS is a time");
    vd_free(&d);
}

Test(validate, numbers)
{
    vdiags d;
    run_edit("LX*1~", "LX*A~", &d);
    vd_expect(&d, "element.number", 17, 1, 0, "8", "6");
    vd_free(&d);
    run_edit("LX*1~", "LX*1234567~", &d);
    vd_expect(&d, "element.too_long", 17, 1, 0, "8", "5");
    vd_free(&d);
    run_edit("CLM*PCN1*150", "CLM*PCN1*1.5.0", &d);
    vd_expect(&d, "element.number", 15, 2, 0, "8", "6");
    cr_assert_eq(vd_count(&d, "balance.claim"), 0, "an unreadable amount is not balanced");
    vd_free(&d);
    /* a sign and a decimal point do not count against the length */
    run_edit("SV1*HC:85025*50*UN*1", "SV1*HC:85025*50.00*UN*-1.5", &d);
    cr_assert_eq(vd_errors(&d), 0);
    vd_free(&d);
}

Test(validate, control_characters)
{
    vdiags d;
    run_edit("N3*1 MAIN ST", "N3*1 MAIN\x01ST", &d);
    const x12_diag *e = vd_expect(&d, "element.character", 8, 1, 0, "8", "6");
    cr_assert_str_eq(e->found, "1 MAIN\\x01ST", "found is made printable");
    vd_free(&d);
}

Test(validate, too_many_elements_and_not_used_elements)
{
    vdiags d;
    run_edit("DTP*472*D8*20250110~LX*2", "DTP*472*D8*20250110*X~LX*2", &d);
    vd_expect(&d, "element.too_many", 19, 4, 0, "8", "3");
    vd_free(&d);
    /* NM105 is not listed but below NM109: not used */
    run_edit("NM1*41*2*SUBMITTER*****46", "NM1*41*2*SUBMITTER**X***46", &d);
    vd_expect(&d, "element.not_used", 3, 5, 0, "8", "I10");
    vd_free(&d);
}

Test(validate, required_elements_and_components)
{
    vdiags d;
    run_edit("NM1*41*2*SUBMITTER", "NM1*41*2*", &d);
    const x12_diag *e = vd_expect(&d, "element.missing", 3, 3, 0, "8", "1");
    cr_assert(strstr(e->msg, "Submitter Name"), "%s", e->msg);
    vd_free(&d);
    run_edit("11:B:1*Y", "11::1*Y", &d);
    vd_expect(&d, "element.missing", 15, 5, 2, "8", "1");
    vd_free(&d);
    /* a required element at the end, left off */
    run_edit("REF*EI*123456789", "REF*EI", &d);
    vd_expect(&d, "element.missing", 10, 2, 0, "8", "1");
    vd_free(&d);
}

Test(validate, components_and_repetitions)
{
    vdiags d;
    run_edit("11:B:1", "11:B:1:X", &d);
    vd_expect(&d, "element.not_used", 15, 5, 4, "8", "I10");
    vd_free(&d);
    run_edit("REF*EI*123456789", "REF*EI*1234:56789", &d);
    vd_expect(&d, "element.components", 10, 2, 0, "8", "13");
    vd_free(&d);
    run_edit("N3*1 MAIN ST", "N3*1 MAIN ST^2 MAIN ST", &d);
    const x12_diag *e = vd_expect(&d, "element.repeats", 8, 1, 0, "8", "12");
    cr_assert_eq(e->rep, 2);
    vd_free(&d);
}

Test(validate, syntax_note_paired)
{
    vdiags d;
    run_edit("*****46*S01", "*****46", &d);
    const x12_diag *e = vd_expect(&d, "element.syntax", 3, 9, 0, "8", "2");
    cr_assert(strstr(e->msg, "syntax note P"), "%s", e->msg);
    vd_free(&d);
}

Test(validate, trailing_separators_are_a_warning)
{
    vdiags d;
    run_edit("N3*1 MAIN ST~", "N3*1 MAIN ST**~", &d);
    const x12_diag *e = vd_expect(&d, "segment.trailing", 8, 3, 0, NULL, NULL);
    cr_assert_eq(e->severity, X12_SEV_WARNING);
    cr_assert_eq(vd_errors(&d), 0);
    vd_free(&d);
}

/* ---- level 2: loops and segments ----------------------------------------- */

Test(validate, loops_by_key_and_position)
{
    vdiags d;
    /* NM1*82 after HI is 2310B; after a line's DTP it is 2420A */
    char *b = edit(base837, "HI*ABK:J449*ABF:E785~", "HI*ABK:J449*ABF:E785~NM1*82*3~");
    char *b2 = edit(b, "SV1*HC:99213*100*UN*1***1~DTP*472*D8*20250110~",
                    "SV1*HC:99213*100*UN*1***1~DTP*472*D8*20250110~NM1*82*4~");
    run837(b2, &d);
    const x12_diag *e = vd_expect(&d, "element.code", 17, 2, 0, "8", "7");
    cr_assert_str_eq(e->loop_id, "2310B");
    e = vd_expect(&d, "element.code", 21, 2, 0, "8", "7");
    cr_assert_str_eq(e->loop_id, "2420A");
    cr_assert_eq(vd_errors(&d), 2);
    vd_free(&d);
    free(b);
    free(b2);
}

Test(validate, hl_loops_by_level_code)
{
    vdiags d;
    /* a second subscriber, then a patient under it */
    char *b = edit(base837, "DTP*472*D8*20250110~LX*2~SV1*HC:85025*50*UN*1***1:2~DTP*472*D8*20250110~",
                   "DTP*472*D8*20250110~LX*2~SV1*HC:85025*50*UN*1***1:2~DTP*472*D8*20250110~"
                   "HL*3*1*22*1~SBR*S~NM1*IL*1*ROE~HL*4*3*23*0~PAT*19~");
    run837(b, &d);
    cr_assert_eq(vd_errors(&d), 0);
    vd_free(&d);
    /* the patient's PAT with a bad code: placed in 2000C */
    char *b2 = edit(b, "PAT*19", "PAT*99");
    run837(b2, &d);
    const x12_diag *e = vd_expect(&d, "element.code", 27, 1, 0, "8", "7");
    cr_assert_str_eq(e->loop_id, "2000C");
    vd_free(&d);
    free(b);
    free(b2);
}

Test(validate, required_segment_missing)
{
    vdiags d;
    run_edit("N3*1 MAIN ST~", "", &d);
    /* reported when 2010AA ends: at HL*2, now segment 10 */
    const x12_diag *e = vd_expect(&d, "segment.missing", 10, 0, 0, "3", NULL);
    cr_assert_str_eq(e->tag, "N3");
    cr_assert_str_eq(e->loop_id, "2010AA");
    cr_assert_eq(e->level, 2);
    cr_assert_str_eq(e->ik5, "I5");
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
}

Test(validate, required_segment_missing_before_a_child_loop)
{
    vdiags d;
    /* no HI: reported when the first line (2400) starts, at that LX */
    run_edit("HI*ABK:J449*ABF:E785~", "", &d);
    const x12_diag *e = vd_expect(&d, "segment.missing", 16, 0, 0, "3", NULL);
    cr_assert_str_eq(e->tag, "HI");
    cr_assert_str_eq(e->loop_id, "2300");
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
}

Test(validate, required_loop_missing)
{
    vdiags d;
    run_edit("NM1*85*2*CLINIC*****XX*1234567893~N3*1 MAIN ST~N4*DENVER*CO*80202~REF*EI*123456789~", "",
             &d);
    const x12_diag *e = vd_expect(&d, "loop.missing", 7, 0, 0, "I7", NULL);
    cr_assert_str_eq(e->tag, "NM1");
    cr_assert_str_eq(e->loop_id, "2000A");
    cr_assert(strstr(e->msg, "2010AA"), "%s", e->msg);
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
}

Test(validate, segment_and_loop_over_maximum)
{
    vdiags d;
    run_edit("REF*EI*123456789~", "REF*EI*123456789~REF*EI*987654321~", &d);
    vd_expect(&d, "segment.max_use", 11, 0, 0, "5", NULL);
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
    run_edit("REF*EI*123456789~", "REF*EI*123456789~NM1*85*2*AGAIN*****XX*1234567893~N3*2 MAIN~N4*DENVER*CO*80202~"
             "REF*EI*123456789~", &d);
    const x12_diag *e = vd_expect(&d, "loop.max_use", 11, 0, 0, "4", NULL);
    cr_assert_str_eq(e->loop_id, "2010AA");
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
}

Test(validate, not_used_segment)
{
    vdiags d;
    run_edit("REF*EI*123456789~", "REF*EI*123456789~NTE*NOTE~", &d);
    vd_expect(&d, "segment.not_used", 11, 0, 0, "I4", NULL);
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
}

Test(validate, unexpected_segment_does_not_derail)
{
    vdiags d;
    run_edit("BHT*0019*00*0123*20250115*1200*CH~", "BHT*0019*00*0123*20250115*1200*CH~SV1*HC:99213*1~", &d);
    const x12_diag *e = vd_expect(&d, "segment.unexpected", 3, 0, 0, "2", NULL);
    cr_assert_str_eq(e->tag, "SV1");
    cr_assert_eq(vd_errors(&d), 1, "the rest of the set is placed as before");
    vd_free(&d);
}

Test(validate, segment_not_in_set_and_unknown_id)
{
    vdiags d;
    run_edit("N3*1 MAIN ST~", "N3*1 MAIN ST~CAS*CO*45*1~", &d);
    vd_expect(&d, "segment.not_in_set", 9, 0, 0, "6", NULL);
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
    run_edit("N3*1 MAIN ST~", "N3*1 MAIN ST~ZZZ*1~", &d);
    vd_expect(&d, "segment.unknown", 9, 0, 0, "1", NULL);
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
}

Test(validate, malformed_tag_is_the_tokenizers)
{
    vdiags d;
    run_edit("N3*1 MAIN ST~", "N3*1 MAIN ST~Nd4*X~", &d);
    cr_assert_eq(vd_count(&d, "segment.bad_tag"), 1);
    cr_assert_eq(vd_count(&d, "segment.unknown"), 0, "not reported twice");
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
}

Test(validate, out_of_order_is_one_error)
{
    vdiags d;
    run_edit("N3*1 MAIN ST~N4*DENVER*CO*80202~", "N4*DENVER*CO*80202~N3*1 MAIN ST~", &d);
    const x12_diag *e = vd_expect(&d, "segment.order", 9, 0, 0, "7", NULL);
    cr_assert_str_eq(e->tag, "N3");
    cr_assert_eq(vd_count(&d, "segment.missing"), 0, "counted where it belongs");
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
}

Test(validate, same_tag_entries_in_any_order)
{
    vdiags d;
    /* DTP*439 and DTP*431 are one standard position: either order */
    run_edit("CLM*PCN1*150***11:B:1*Y~", "CLM*PCN1*150***11:B:1*Y~DTP*439*D8*20250101~DTP*431*D8*20250101~",
             &d);
    cr_assert_eq(d.n, 0);
    vd_free(&d);
}

Test(validate, wrong_qualifier_enters_the_loop)
{
    vdiags d;
    run_edit("NM1*85*2*CLINIC", "NM1*99*2*CLINIC", &d);
    const x12_diag *e = vd_expect(&d, "element.code", 7, 1, 0, "8", "7");
    cr_assert_str_eq(e->found, "99");
    cr_assert_str_eq(e->loop_id, "2010AA");
    cr_assert(strstr(e->expected, "85"), "%s", e->expected);
    cr_assert_eq(vd_errors(&d), 1, "N3, N4 and REF still fall in 2010AA");
    vd_free(&d);
}

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

/* ---- transaction sets and envelopes -------------------------------------- */

Test(validate, one_set_never_hides_the_next)
{
    vdiags d;
    char *bad = edit(base837, "HL*1**20*1~", "SV1*X~HL*1**20*1~");
    char *bad2 = edit(base837, "BHT*0019*00", "BHT*0019*99");
    size_t n2 = 2;
    for (const char *p = bad2; *p; p++)
        n2 += *p == '~';
    size_t cap = strlen(bad) + strlen(bad2) + 1024;
    char *x = malloc(cap);
    snprintf(x, cap,
             "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *250115*1200*^*00501*"
             "000000001*0*T*:~GS*HC*S*R*20250115*1200*1*X*005010X222A1~"
             "ST*837*0001*005010X222A1~%s"
             /* no SE: the next ST ends the set */
             "ST*837*0002*005010X222A1~%sSE*%zu*0002~GE*2*1~IEA*1*000000001~",
             bad, bad2, n2);
    vd_run(g837, x, &d);
    const x12_diag *e = vd_expect(&d, "segment.unexpected", 5, 0, 0, "2", NULL);
    cr_assert_str_eq(e->pos.st02, "0001");
    cr_assert_eq(vd_count(&d, "envelope.se_missing"), 1);
    e = vd_expect(&d, "element.code", 2, 2, 0, "8", "7");
    cr_assert_str_eq(e->pos.st02, "0002");
    cr_assert_eq(vd_errors(&d), 3);
    vd_free(&d);
    free(x);
    free(bad);
    free(bad2);
}

Test(validate, envelope_problems_pass_through)
{
    vdiags d;
    char *x = vd_wrap("837", "005010X222A1", base837);
    char *y = edit(x, "SE*23*0001", "SE*22*0001");
    vd_run(g837, y, &d);
    const x12_diag *e = vd_expect(&d, "envelope.count", 23, 1, 0, NULL, NULL);
    cr_assert_str_eq(e->ik5, "4");
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
    free(x);
    free(y);
}

Test(validate, st03_must_name_this_guide)
{
    vdiags d;
    char *x = vd_wrap("837", "005010X223A2", base837);
    vd_run(g837, x, &d);
    const x12_diag *e = vd_expect(&d, "guide.version", 1, 3, 0, "8", "7");
    cr_assert_str_eq(e->found, "005010X223A2");
    vd_free(&d);
    free(x);
    /* an errata variant is the same guide */
    x = vd_wrap("837", "005010X222A2", base837);
    vd_run(g837, x, &d);
    cr_assert_eq(vd_errors(&d), 0);
    vd_free(&d);
    free(x);
}

Test(validate, counts)
{
    vdiags d;
    memset(&d, 0, sizeof d);
    char *x = vd_wrap("837", "005010X222A1", base837);
    x12_reader *r;
    cr_assert_eq(x12_open_mem(&r, x, strlen(x), "t", NULL, NULL), CH_OK);
    x12_validator *v = x12_validator_new("t", vd_collect, &d);
    x12_validator_use_guide(v, g837);
    x12_segment s;
    while (x12_next(r, &s) == X12_SEGMENT) {
        x12_validator_feed(v, &s);
        if (x12_is(&s, "BHT"))
            cr_assert_eq(x12_validator_guide(v), g837, "inside the set");
    }
    cr_assert_null(x12_validator_guide(v), "after the set");
    x12_validator_finish(v, &s.pos);
    cr_assert_eq(x12_validator_sets(v), 1);
    cr_assert_eq(x12_validator_sets_with_errors(v), 0);
    cr_assert_eq(x12_validator_sets_unchecked(v), 0);
    cr_assert_eq(x12_validator_errors(v), 0);
    cr_assert_eq(x12_validator_warnings(v), 0);
    x12_validator_free(v);
    x12_close(r);
    free(x);
    vd_free(&d);
}

static unsigned seen_close, seen_errors;
static void count_close(void *ctx, const x12_gs_info *gs, const x12_st_info *st)
{
    (void)gs;
    (void)st;
    seen_close++;
    seen_errors = x12_validator_set_errors(ctx);
}

Test(validate, events_reach_the_caller_after_the_set_is_checked)
{
    vdiags d;
    memset(&d, 0, sizeof d);
    char *b = edit(base837, "BHT*0019*00", "BHT*0019*99");
    char *x = vd_wrap("837", "005010X222A1", b);
    x12_reader *r;
    cr_assert_eq(x12_open_mem(&r, x, strlen(x), "t", NULL, NULL), CH_OK);
    x12_validator *v = x12_validator_new("t", vd_collect, &d);
    x12_validator_use_guide(v, g837);
    x12_env_events ev = {.st_close = count_close, .ctx = v};
    x12_validator_events(v, &ev);
    seen_close = seen_errors = 0;
    x12_segment s;
    while (x12_next(r, &s) == X12_SEGMENT)
        x12_validator_feed(v, &s);
    x12_validator_finish(v, &s.pos);
    cr_assert_eq(seen_close, 1);
    cr_assert_eq(seen_errors, 1);
    cr_assert_eq(x12_validator_sets_with_errors(v), 1);
    x12_validator_free(v);
    x12_close(r);
    free(x);
    free(b);
    vd_free(&d);
}

/* ---- the registry's choice ----------------------------------------------- */

Test(validate, unknown_guide_is_one_diagnostic_per_set)
{
    vdiags d;
    char *x = vd_wrap("837", "005010", base837);
    vd_run(NULL, x, &d);
    const x12_diag *e = vd_expect(&d, "guide.unknown", 1, 0, 0, NULL, NULL);
    cr_assert_str_eq(e->ik5, "I6");
    cr_assert_eq(vd_errors(&d), 1, "the set's segments are only read");
    vd_free(&d);
    free(x);
    x = vd_wrap("834", "005010X220A1", "BGN*00*1*20250101~");
    vd_run(NULL, x, &d);
    e = vd_expect(&d, "guide.unknown", 1, 0, 0, NULL, NULL);
    cr_assert_str_eq(e->ik5, "1", "a set no guide covers: not supported");
    vd_free(&d);
    free(x);
    x12_guide_registry_free();
}

/* ---- a toy guide for the remaining element rules ------------------------- */

static const char *const toy =
    "guide 999 005010X999 \"Toy\"\n"
    "seg ST R 1 \"Header\"\n"
    "  el 01 R ID 3 3 \"Set\" codes=999\n"
    "  el 02 R AN 4 9 \"Control\"\n"
    "  el 03 S AN 1 35 \"Version\"\n"
    "seg AAA R 1 \"Types\"\n"
    "  el 01 S N2 1 4 \"Implied\"\n"
    "  el 02 S ID 1 2 \"Code\" codes=A,B\n"
    "  el 03 S R 1 4 \"Amount\"\n"
    "  el 04 S AN 1 10 \"Twice\" reps=2\n"
    "  el 05 S C \"Repeated Composite\" reps=3\n"
    "    comp 1 R ID 1 1 \"Qualifier\" codes=X,Y\n"
    "    comp 2 S AN 1 5 \"Value\"\n"
    "  el 06 N AN 1 5 \"Not Used\"\n"
    "  el 07 S AN 1 5 \"Seven\"\n"
    "rule \"AAA02 A forbids AAA07\" if AAA02 = A then forbid el AAA07\n"
    "rule \"AAA02 B needs AAA07\" if AAA02 = B then need el AAA07\n"
    "rule \"no AAA03 needs BBB\" if AAA03 absent then need seg BBB\n"
    "rule \"AAA02 not A forbids CCC\" if AAA02 != A then forbid seg CCC\n"
    "seg BBB S 1 \"Syntax\"\n"
    "  el 01 S AN 1 5 \"One\"\n"
    "  el 02 S AN 1 5 \"Two\"\n"
    "  el 03 S AN 1 5 \"Three\"\n"
    "  el 04 S AN 1 5 \"Four\"\n"
    "  el 05 S AN 1 5 \"Five\"\n"
    "  syntax R 01 02\n"
    "  syntax E 03 04\n"
    "  syntax C 05 01\n"
    "  syntax L 03 01 02\n"
    "seg CCC S 1 \"Extra\"\n"
    "  el 01 S AN 1 5 \"One\"\n"
    "seg SE R 1 \"Trailer\"\n"
    "  el 01 R N0 1 10 \"Count\"\n"
    "  el 02 R AN 4 9 \"Control\"\n";

static void run_toy(const char *body, vdiags *d)
{
    x12_guide *g = vd_guide(toy);
    char *x = vd_wrap("999", "005010X999", body);
    vd_run(g, x, d);
    free(x);
    x12_guide_free(g);
}

Test(validate, toy_types)
{
    vdiags d;
    run_toy("AAA*-1234*A*-12.34~BBB*1~", &d);
    cr_assert_eq(vd_errors(&d), 0, "signs and points do not count");
    vd_free(&d);
    run_toy("AAA*12345*A*123.45~BBB*1~", &d);
    vd_expect(&d, "element.too_long", 2, 1, 0, "8", "5");
    vd_expect(&d, "element.too_long", 2, 3, 0, "8", "5");
    vd_free(&d);
    run_toy("AAA*1.5*A~BBB*1~", &d);
    vd_expect(&d, "element.number", 2, 1, 0, "8", "6");
    vd_free(&d);
    run_toy("AAA*1*A*1-2~BBB*1~", &d);
    vd_expect(&d, "element.number", 2, 3, 0, "8", "6");
    vd_free(&d);
}

Test(validate, toy_repetitions)
{
    vdiags d;
    run_toy("AAA**A**A^B*X:1^Y^X:3~BBB*1~", &d);
    cr_assert_eq(vd_errors(&d), 0);
    vd_free(&d);
    run_toy("AAA**A**A^B^C~BBB*1~", &d);
    const x12_diag *e = vd_expect(&d, "element.repeats", 2, 4, 0, "8", "12");
    cr_assert_eq(e->rep, 3);
    vd_free(&d);
    /* each repetition of a composite is checked */
    run_toy("AAA**A***X^Z:1~BBB*1~", &d);
    e = vd_expect(&d, "element.code", 2, 5, 1, "8", "7");
    cr_assert_eq(e->rep, 2);
    vd_free(&d);
    run_toy("AAA**A***X^:1~BBB*1~", &d);
    e = vd_expect(&d, "element.missing", 2, 5, 1, "8", "1");
    cr_assert_eq(e->rep, 2);
    vd_free(&d);
}

Test(validate, toy_not_used_element)
{
    vdiags d;
    run_toy("AAA**A****X~BBB*1~", &d);
    vd_expect(&d, "element.not_used", 2, 6, 0, "8", "I10");
    vd_free(&d);
}

Test(validate, toy_syntax_notes)
{
    vdiags d;
    run_toy("AAA**A~BBB***1~", &d);
    vd_expect(&d, "element.syntax", 3, 1, 0, "8", "2"); /* R 01 02: none present */
    vd_expect(&d, "element.syntax", 3, 1, 0, "8", "2"); /* L 03 01 02: 03 alone */
    cr_assert_eq(vd_count(&d, "element.syntax"), 2);
    vd_free(&d);
    run_toy("AAA**A~BBB*1**1*2~", &d);
    vd_expect(&d, "element.syntax", 3, 4, 0, "8", "10"); /* E 03 04 */
    cr_assert_eq(vd_count(&d, "element.syntax"), 1);
    vd_free(&d);
    run_toy("AAA**A~BBB**1***5~", &d);
    vd_expect(&d, "element.syntax", 3, 1, 0, "8", "2"); /* C 05 01 */
    cr_assert_eq(vd_count(&d, "element.syntax"), 1);
    vd_free(&d);
}

Test(validate, toy_rules_on_elements_and_segments)
{
    vdiags d;
    run_toy("AAA**A*1****SEVEN~", &d);
    const x12_diag *e = vd_expect(&d, "rule.forbid", 2, 7, 0, "8", "I13");
    cr_assert_str_eq(e->tag, "AAA");
    cr_assert_str_eq(e->found, "A");
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
    run_toy("AAA**B*1~", &d);
    e = vd_expect(&d, "rule.need", 2, 7, 0, "8", "I9");
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
    /* AAA03 absent needs BBB; reported at the set's start (ST) */
    run_toy("AAA**A~", &d);
    e = vd_expect(&d, "rule.need", 1, 0, 0, "I6", NULL);
    cr_assert_str_eq(e->tag, "BBB");
    vd_free(&d);
    /* != : AAA02 B is not A, so CCC is forbidden; reported where CCC is */
    run_toy("AAA**B*1****X~CCC*1~", &d);
    e = vd_expect(&d, "rule.forbid", 3, 0, 0, "I9", NULL);
    cr_assert_str_eq(e->tag, "CCC");
    cr_assert_eq(vd_errors(&d), 1);
    vd_free(&d);
    /* an absent AAA02 makes neither = nor != true */
    run_toy("AAA***1~CCC*1~", &d);
    cr_assert_eq(vd_errors(&d), 0);
    vd_free(&d);
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
