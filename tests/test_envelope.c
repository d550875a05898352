/* test_envelope.c - envelope counts, control numbers and missing trailers. */
#include <criterion/criterion.h>

#include "reader_helpers.h"

typedef struct env_result {
    int ndiag;
    x12_diag d[32];
    int st_closed, gs_closed, isa_closed;
} env_result;

static void on_diag(void *ctx, const x12_diag *d)
{
    env_result *r = ctx;
    if (r->ndiag < 32)
        r->d[r->ndiag++] = *d;
}
static void st_close(void *ctx, const x12_gs_info *g, const x12_st_info *t)
{
    (void)g;
    (void)t;
    ((env_result *)ctx)->st_closed++;
}
static void isa_close(void *ctx, const x12_isa_info *i)
{
    (void)i;
    ((env_result *)ctx)->isa_closed++;
}

static void run(env_result *r, const char *data)
{
    memset(r, 0, sizeof *r);
    x12_env_events ev = {.st_close = st_close, .isa_close = isa_close, .ctx = r};
    x12_env *e = x12_env_new("t", &ev, on_diag, r);
    x12_reader *rd;
    x12_open_mem(&rd, data, strlen(data), "t", NULL, NULL);
    x12_segment s;
    x12_pos last = {0};
    while (x12_next(rd, &s) == X12_SEGMENT) {
        x12_env_feed(e, &s);
        last = s.pos;
    }
    x12_env_finish(e, &last);
    x12_close(rd);
    x12_env_free(e);
}

static int find(const env_result *r, const char *code, const char *tag, int elem)
{
    for (int i = 0; i < r->ndiag; i++)
        if (!strcmp(r->d[i].code, code) && !strcmp(r->d[i].tag, tag) && r->d[i].elem == elem)
            return i;
    return -1;
}

Test(envelope, clean_interchange_has_no_problems)
{
    env_result r;
    run(&r, TR_ISA "GS*HC*S*R*20261123*1200*1*X*005010X222A1~ST*837*0001*005010X222A1~BHT*0019~SE*3*0001~GE*1*1~IEA*1*000000001~");
    cr_assert_eq(r.ndiag, 0, "%s", r.ndiag ? r.d[0].msg : "");
    cr_assert_eq(r.st_closed, 1);
    cr_assert_eq(r.isa_closed, 1);
}

Test(envelope, wrong_counts_and_control_numbers)
{
    env_result r;
    run(&r, TR_ISA "GS*HC*S*R*20261123*1200*1*X*005010X222A1~ST*837*0001~BHT*0019~SE*25*0002~GE*2*9~IEA*3*000000002~");
    int i = find(&r, "envelope.count", "SE", 1);
    cr_assert_geq(i, 0);
    cr_assert_str_eq(r.d[i].found, "25");
    cr_assert_str_eq(r.d[i].expected, "3");
    cr_assert_str_eq(r.d[i].ik5, "4");
    cr_assert_eq(r.d[i].pos.seg_in_st, 3);
    i = find(&r, "envelope.control", "SE", 2);
    cr_assert_geq(i, 0);
    cr_assert_str_eq(r.d[i].ik5, "3");
    i = find(&r, "envelope.count", "GE", 1);
    cr_assert_geq(i, 0);
    cr_assert_str_eq(r.d[i].ak9, "5");
    cr_assert_geq(find(&r, "envelope.control", "GE", 2), 0);
    i = find(&r, "envelope.count", "IEA", 1);
    cr_assert_str_eq(r.d[i].ta1, "021");
    i = find(&r, "envelope.control", "IEA", 2);
    cr_assert_str_eq(r.d[i].ta1, "001");
}

Test(envelope, missing_trailers_at_end_of_file)
{
    env_result r;
    run(&r, TR_ISA "GS*HC*S*R*20261123*1200*1*X*005010X222A1~ST*837*0001~BHT*0019~");
    cr_assert_geq(find(&r, "envelope.se_missing", "", 0), 0);
    cr_assert_geq(find(&r, "envelope.ge_missing", "", 0), 0);
    int i = find(&r, "envelope.iea_missing", "", 0);
    cr_assert_geq(i, 0);
    cr_assert_str_eq(r.d[i].ta1, "023");
    cr_assert_eq(r.st_closed, 1, "the open set is still reported closed");
}

Test(envelope, missing_se_before_next_st)
{
    env_result r;
    run(&r, TR_ISA "GS*HC*S*R*20261123*1200*1*X*005010X222A1~ST*837*0001~BHT*0019~ST*837*0002~SE*2*0002~GE*2*1~IEA*1*000000001~");
    int i = find(&r, "envelope.se_missing", "ST", 0);
    cr_assert_geq(i, 0);
    cr_assert_str_eq(r.d[i].ik5, "2");
    cr_assert_eq(r.ndiag, 1);
}

Test(envelope, segments_outside_envelopes)
{
    env_result r;
    run(&r, TR_ISA "GS*HC*S*R*20261123*1200*1*X*005010X222A1~BHT*0019~ST*837*0001~SE*2*0001~GE*1*1~IEA*1*000000001~");
    cr_assert_geq(find(&r, "envelope.outside", "BHT", 0), 0);
}

Test(envelope, isa_field_checks)
{
    char d[512];
    snprintf(d, sizeof d, "%s", TR_ISA "IEA*0*000000001~");
    memcpy(d + 70, "261340", 6); /* month 13 */
    d[102] = 'X';              /* ISA15 */
    env_result r;
    run(&r, d);
    int i = find(&r, "envelope.isa_date", "ISA", 9);
    cr_assert_geq(i, 0);
    cr_assert_str_eq(r.d[i].ta1, "014");
    cr_assert_geq(find(&r, "envelope.isa_code", "ISA", 15), 0);
}

Test(envelope, dates_and_times)
{
    x12_str s;
#define S(lit) (s.p = lit, s.len = strlen(lit), s)
    cr_assert(x12_valid_date(S("20240229")));
    cr_assert_not(x12_valid_date(S("20230229")));
    cr_assert_not(x12_valid_date(S("19000229")));
    cr_assert(x12_valid_date(S("20000229")));
    cr_assert_not(x12_valid_date(S("20261301")));
    cr_assert_not(x12_valid_date(S("2026010")));
    cr_assert(x12_valid_date(S("261123")));
    cr_assert(x12_valid_time(S("2359")));
    cr_assert(x12_valid_time(S("235959")));
    cr_assert_not(x12_valid_time(S("2400")));
    cr_assert_not(x12_valid_time(S("12601")));
#undef S
}
