/*
 * test_validate_guide.c - the validator on hand-made cases at level 2:
 * loops (by key, position and HL level code), segments missing, over their
 * maximum, not used, unexpected, unknown or out of order.  The 837 test
 * guide and the valid set the cases edit: validate_837.h.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "validate_837.h"

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
