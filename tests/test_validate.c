/*
 * test_validate.c - the validator (x12_validate.h) on hand-made cases: the
 * validate suite's own test guide, a cut-down 837P, and the valid set the
 * cases edit.  The cases are in test_validate_envelope.c (level 1 and the
 * envelopes), test_validate_guide.c (level 2: loops and segments) and
 * test_validate_rules.c (levels 3 to 5, and the code-set functions).
 *
 * Each case starts from a valid transaction set for a small test guide
 * (written here, so the cases do not move when the real tables change),
 * changes one thing, and asserts the exact diagnostic: code, segment number
 * in the transaction set (ST = 1), element, component and the 999 codes.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "validate_837.h"

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
const char *const base837 =
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

x12_guide *g837;

static void setup837(void) { g837 = vd_guide(t837); }
static void teardown837(void)
{
    x12_guide_free(g837);
    g837 = NULL;
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
