/*
 * test_validate_envelope.c - the validator on hand-made cases at level 1
 * (types, lengths, counts of elements and components), around the sets
 * (envelopes, several sets, counts and events, the registry's choice of
 * guide), and the remaining element rules on a toy guide of their own.
 * The 837 test guide and the valid set the cases edit: validate_837.h.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "validate_837.h"

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
