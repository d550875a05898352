/*
 * test_ack.c - 999 and TA1 acknowledgments.  Every file the acknowledger
 * writes is read back by ak_verify() (ack_helpers.h): tokenizer and envelope
 * checker find nothing, each 999 segment agrees with the 999 guide table,
 * segments come in the guide's order, IK5 codes agree with IK501.
 */
#include "ack_helpers.h"

/* A small 837P: the claim loop starts at segment 11 of the set. */
#define ISA_IN "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *261120*0915*^*00501*000000042*0*T*:~\n"
#define GS_IN "GS*HC*SUBMITTER*RECEIVER*20261120*0915*77*X*005010X222A1~\n"
#define SET_BODY                                     \
    "BHT*0019*00*REF1*20261120*0915*CH~\n"           \
    "NM1*41*2*ACME BILLING*****46*S1~\n"             \
    "PER*IC*JANE*TE*5555551212~\n"                   \
    "NM1*40*2*PAYER*****46*R1~\n"                    \
    "HL*1**20*1~\n"                                  \
    "NM1*XX*2*CLINIC*****XX*1234567893~\n"           \
    "HL*2*1*22*0~\n"                                 \
    "SBR*P*18*******CI~\n"                           \
    "NM1*IL*1*DOE*JOHN****MI*123~\n"                 \
    "CLM*ACCT-1*100***11:B:1*Y*A*Y*Y~\n"             \
    "DTP*431*D8*20261101~\n"                         \
    "LX*1~\n"                                        \
    "SV1*HC:99213*100*UN*1***1~\n"
#define SET(ctl) "ST*837*" ctl "*005010X222A1~\n" SET_BODY "SE*15*" ctl "~\n"
#define GE_IN "GE*1*77~\n"
#define IEA_IN "IEA*1*000000042~\n"
#define ONE_SET ISA_IN GS_IN SET("0001") GE_IN IEA_IN

#define N(a) ((int)(sizeof a / sizeof *a))

static const char *text_of(const ack_out *o, const char *suffix)
{
    int i = ak_file(o, suffix);
    cr_assert_geq(i, 0, "no file ending %s among %u", suffix, o->n);
    return o->text[i];
}

Test(ack, clean_837_from_the_corpus_is_accepted)
{
    char *data = ak_slurp("tests/corpus/837p/lfh-demo.example1.837");
    cr_assert(data);
    ack_out o;
    ak_run_str(&o, data, NULL, 0);
    cr_assert_eq(o.rc, CH_OK, "%s", o.err.msg);
    cr_assert_eq(o.n, 2); /* the 999, and a TA1 because ISA14 asks for one */
    const char *t = text_of(&o, "/t.000000001.1.999");
    cr_assert(!strncmp(t, "ISA*00*          *00*          *30*12345          *30*000000005      "
                          "*261123*1234*^*00501*000000001*0*T*:~\n", 107), "%s", t);
    ak_assert_seg(t, "GS*FA*54321*000000005*20261123*1234*1*X*005010X231A1");
    cr_assert_eq(ak_index(t, "ST*999*0001*005010X231A1"), 2);
    cr_assert_eq(ak_index(t, "AK1*HC*1*005010X222A2"), 3);
    cr_assert_eq(ak_index(t, "AK2*837*0021*005010X222A2"), 4);
    cr_assert_eq(ak_index(t, "IK5*A"), 5);
    cr_assert_eq(ak_index(t, "AK9*A*1*1*1"), 6);
    cr_assert_eq(ak_index(t, "SE*6*0001"), 7);
    ak_assert_seg(t, "GE*1*1");
    ak_assert_seg(t, "IEA*1*000000001");
    t = text_of(&o, "/t.000000002.ta1");
    ak_assert_seg(t, "TA1*000000907*131031*1147*A*000");
    free(data);
    ak_done(&o);
}

Test(ack, clean_set_without_ack_request_gets_only_a_999)
{
    ack_out o;
    ak_run_str(&o, ONE_SET, NULL, 0);
    cr_assert_eq(o.rc, CH_OK, "%s", o.err.msg);
    cr_assert_eq(o.n, 1);
    const char *t = o.text[0];
    ak_assert_seg(t, "AK1*HC*77*005010X222A1");
    ak_assert_seg(t, "AK2*837*0001*005010X222A1");
    ak_assert_seg(t, "IK5*A");
    ak_assert_seg(t, "AK9*A*1*1*1");
    ak_assert_seg(t, "GS*FA*RECEIVER*SUBMITTER*20261123*1234*1*X*005010X231A1");
    ak_done(&o);
}

static const ack_inject bad_837[] = {
    /* the validator notices the missing 2010AA NM1 at segment 5 */
    {.at = "NM1", .nth = 2, .tag = "NM1", .loop = "2010AA", .ik3 = "3"},
    /* NM101 "XX" is not a code the guide allows */
    {.at = "NM1", .nth = 3, .loop = "2010AA", .elem = 1, .ref = 98, .ik4 = "7", .found = "XX"},
};

Test(ack, bad_837_lists_segment_and_element_errors)
{
    ack_out o;
    ak_run_str(&o, ONE_SET, bad_837, N(bad_837));
    cr_assert_eq(o.rc, CH_OK, "%s", o.err.msg);
    const char *t = o.text[0];
    int a = ak_index(t, "IK3*NM1*5*2010*3"), b = ak_index(t, "IK3*NM1*7*2010*8"),
        c = ak_index(t, "IK4*1*98*7*XX"), d = ak_index(t, "IK5*R*5");
    cr_assert(a > 0 && b == a + 1 && c == b + 1 && d == c + 1, "%s", t);
    ak_assert_seg(t, "AK9*R*1*1*0");
    ak_assert_seg(t, "SE*9*0001");
    ak_done(&o);
}

Test(ack, full_loop_ids_write_the_guide_loop_name)
{
    ack_out o;
    x12_ack_opts op = {.full_loop_ids = 1};
    ak_long_loops = 1; /* the guide table says IK303 is 1..4 */
    ak_run(&o, ONE_SET, strlen(ONE_SET), bad_837, N(bad_837), &op);
    ak_long_loops = 0;
    ak_assert_seg(o.text[0], "IK3*NM1*5*2010AA*3");
    ak_assert_seg(o.text[0], "IK3*NM1*7*2010AA*8");
    ak_done(&o);
}

Test(ack, diagnostics_before_their_segment_give_the_same_999)
{
    ack_inject early[N(bad_837)];
    memcpy(early, bad_837, sizeof early);
    for (int i = 0; i < N(early); i++)
        early[i].before = 1;
    ack_out o1, o2;
    ak_run_str(&o1, ONE_SET, bad_837, N(bad_837));
    ak_run_str(&o2, ONE_SET, early, N(early));
    cr_assert_str_eq(o1.text[0], o2.text[0]);
    ak_done(&o1);
    ak_done(&o2);
}

Test(ack, one_bad_set_of_two_is_partial)
{
    const char *data = ISA_IN GS_IN SET("0001") SET("0002") "GE*2*77~\n" IEA_IN;
    ack_inject inj[] = {{.at = "NM1", .nth = 7, .loop = "2010AA", .elem = 1, .ref = 98,
                         .ik4 = "7", .found = "XX"}};
    ack_out o;
    ak_run_str(&o, data, inj, N(inj));
    const char *t = o.text[0];
    int a1 = ak_index(t, "AK2*837*0001*005010X222A1"), a2 = ak_index(t, "AK2*837*0002*005010X222A1");
    cr_assert(a1 > 0 && a2 > a1);
    cr_assert_eq(ak_index(t, "IK5*A"), a1 + 1, "%s", t);
    cr_assert_eq(ak_index(t, "IK3*NM1*7*2010*8"), a2 + 1, "%s", t);
    ak_assert_seg(t, "IK5*R*5");
    ak_assert_seg(t, "AK9*P*2*2*1");
    ak_done(&o);
}

Test(ack, wrong_se01_rejects_the_set_with_code_4)
{
    const char *data = ISA_IN GS_IN "ST*837*0001*005010X222A1~\n" SET_BODY "SE*99*0001~\n" GE_IN IEA_IN;
    ack_out o;
    ak_run_str(&o, data, NULL, 0);
    const char *t = o.text[0];
    ak_assert_seg(t, "IK5*R*4"); /* once: the pipeline's own envelope diagnostics are skipped */
    cr_assert_eq(ak_count(t, "IK3"), 0);
    ak_assert_seg(t, "AK9*R*1*1*0");
    cr_assert_eq(o.n, 1);
    ak_done(&o);
}

Test(ack, wrong_ge01_rejects_the_group_with_code_5)
{
    const char *data = ISA_IN GS_IN SET("0001") "GE*2*77~\n" IEA_IN;
    ack_out o;
    ak_run_str(&o, data, NULL, 0);
    ak_assert_seg(o.text[0], "IK5*A");
    ak_assert_seg(o.text[0], "AK9*R*2*1*0*5");
    ak_done(&o);
}

Test(ack, iea02_mismatch_sends_a_ta1_noting_001)
{
    const char *data = ISA_IN GS_IN SET("0001") GE_IN "IEA*1*000000043~\n";
    ack_out o;
    ak_run_str(&o, data, NULL, 0);
    cr_assert_eq(o.n, 2);
    ak_assert_seg(text_of(&o, ".999"), "AK9*A*1*1*1");
    const char *t = text_of(&o, "/t.000000002.ta1");
    ak_assert_seg(t, "TA1*000000042*261120*0915*E*001");
    cr_assert(strstr(t, "*ZZ*RECEIVER       *ZZ*SUBMITTER      *261123*1234*^*00501*000000002*0*T*:~"), "%s", t);
    ak_done(&o);
}

Test(ack, unreadable_isa_sends_a_ta1_rejection)
{
    const char *data = "ISA*00*BROKEN~\n";
    x12_ack_opts op = {.self_id = "CLEARINGHOUSE", .partner_id = "PARTNER1"};
    ack_out o;
    ak_run(&o, data, strlen(data), NULL, 0, &op);
    cr_assert_eq(o.rc, CH_OK, "%s", o.err.msg);
    cr_assert_eq(o.n, 1);
    const char *t = text_of(&o, "/t.000000001.ta1");
    ak_assert_seg(t, "TA1*000000000*261123*1234*R*022");
    cr_assert(!strncmp(t + 31, "*ZZ*CLEARINGHOUSE  *ZZ*PARTNER1       *", 39), "%s", t);
    ak_done(&o);
}

Test(ack, unreadable_second_isa_uses_the_first_parties)
{
    const char *data = ONE_SET "ISA*00*BROKEN~\n";
    ack_out o;
    ak_run_str(&o, data, NULL, 0);
    cr_assert_eq(o.n, 2);
    const char *t = text_of(&o, "/t.000000002.ta1");
    ak_assert_seg(t, "TA1*000000000*261123*1234*R*022");
    cr_assert(strstr(t, "*ZZ*RECEIVER       *ZZ*SUBMITTER      *"), "%s", t);
    ak_done(&o);
}

Test(ack, files_are_0600_in_a_0700_directory)
{
    ack_out o;
    x12_ack_opts op = {.ta1_always = 1};
    ak_run(&o, ONE_SET, strlen(ONE_SET), NULL, 0, &op);
    cr_assert_eq(o.n, 2);
    struct stat st;
    cr_assert_eq(stat(o.dir, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700);
    for (unsigned i = 0; i < o.n; i++) {
        cr_assert_eq(stat(o.path[i], &st), 0);
        cr_assert_eq(st.st_mode & 0777, 0600, "%s %o", o.path[i], st.st_mode & 0777);
    }
    ak_assert_seg(text_of(&o, ".ta1"), "TA1*000000042*261120*0915*A*000");
    DIR *d = opendir(o.dir); /* no temporary file is left */
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    cr_assert_eq(n, 2);
    ak_done(&o);
}

Test(ack, an_existing_ack_is_never_replaced)
{
    char root[] = "/tmp/ch-ack-XXXXXX";
    cr_assert(mkdtemp(root));
    x12_ack_opts op = {.dir = root};
    ack_out o;
    ak_run(&o, ONE_SET, strlen(ONE_SET), NULL, 0, &op);
    cr_assert_eq(o.rc, CH_OK);
    char *first = o.text[0];
    ak_run(&o, ONE_SET, strlen(ONE_SET), bad_837, N(bad_837), &op);
    cr_assert_eq(o.rc, CH_ERR_EXISTS, "%d %s", o.rc, o.err.msg);
    cr_assert_eq(o.n, 0);
    char *now = ak_slurp(strcat(strcpy((char[256]){0}, root), "/t.000000001.1.999"));
    cr_assert_str_eq(now, first);
    free(now);
    free(first);
    ak_done(&o);
}

Test(ack, the_claim_an_error_is_in_is_named)
{
    ack_inject inj[] = {
        {.at = "DTP", .loop = "2300", .elem = 3, .ref = 1251, .ik4 = "8", .found = "20261399"},
        {.at = "NM1", .nth = 4, .loop = "2010BA", .elem = 9, .ref = 67, .ik4 = "4", .found = "123"},
    };
    ack_out o;
    ak_run_str(&o, ONE_SET, inj, N(inj));
    const char *t = o.text[0];
    int i = ak_index(t, "IK3*DTP*12*2300*8");
    cr_assert_gt(i, 0, "%s", t);
    cr_assert_eq(ak_index(t, "CTX*CLM01:ACCT-1"), i + 1, "%s", t);
    cr_assert_eq(ak_index(t, "IK4*3*1251*8*20261399"), i + 2, "%s", t);
    i = ak_index(t, "IK3*NM1*10*2010*8"); /* before the claim: no CTX */
    cr_assert_eq(ak_index(t, "IK4*9*67*4*123"), i + 1, "%s", t);
    cr_assert_eq(ak_count(t, "CTX"), 1);
    ak_assert_seg(t, "IK5*R*5"); /* IK403 8 (a date) is the standard's */
    ak_done(&o);
}

/* The validator reports a missing segment at the segment that ended its
 * loop, as that segment arrives, and a rule at its loop's first segment. */
Test(ack, problems_reported_where_a_claim_ends_name_that_claim)
{
    const char *data = ISA_IN GS_IN "ST*837*0001*005010X222A1~\n"
        "BHT*0019*00*REF1*20261120*0915*CH~\nNM1*41*2*ACME*****46*S1~\nPER*IC*JANE*TE*5555551212~\n"
        "NM1*40*2*PAYER*****46*R1~\nHL*1**20*1~\nNM1*85*2*CLINIC*****XX*1234567893~\n"
        "HL*2*1*22*0~\nSBR*P*18*******CI~\nNM1*IL*1*DOE*JOHN****MI*123~\n"
        "CLM*C1*100***11:B:1*Y*A*Y*Y~\nDTP*431*D8*20261101~\nLX*1~\nSV1*HC:99213*100*UN*1***1~\n"
        "CLM*C2*100***11:B:1*Y*A*Y*Y~\nLX*1~\nSV1*HC:99213*100*UN*1***1~\n"
        "HL*3*1*22*0~\nSBR*P*18*******CI~\nNM1*IL*1*ROE*JANE****MI*456~\n"
        "CLM*C3*100***11:B:1*Y*A*Y*Y~\nLX*1~\nSV1*HC:99213*100*UN*1***1~\n"
        "SE*24*0001~\n" GE_IN IEA_IN;
    ack_inject inj[] = {
        {.at = "CLM", .nth = 2, .tag = "REF", .loop = "2300", .ik3 = "3"},
        {.at = "CLM", .nth = 2, .loop = "2300", .elem = 5, .comp = 3, .ik4 = "7", .found = "X"},
        {.at = "HL", .nth = 3, .tag = "DTP", .loop = "2300", .ik3 = "3"},
        {.at = "HL", .nth = 3, .tag = "PRV", .loop = "2000B", .ik3 = "3"},
        {.at = "HL", .nth = 3, .tag = "AMT", .loop = "2300", .ik3 = "I6", .seg_in_st = 15},
        {.at = "SE", .tag = "DTP", .loop = "2300", .ik3 = "3"},
    };
    ack_out o;
    ak_run_str(&o, data, inj, N(inj));
    const char *t = o.text[0];
    const char *want[][2] = {
        {"IK3*REF*15*2300*3", "CTX*CLM01:C1"}, {"IK3*CLM*15*2300*8", "CTX*CLM01:C2"},
        {"IK3*AMT*15*2300*I6", "CTX*CLM01:C2"}, {"IK3*DTP*18*2300*3", "CTX*CLM01:C2"},
        {"IK3*DTP*24*2300*3", "CTX*CLM01:C3"}, {"IK3*PRV*18*2000*3", "IK3*DTP*24*2300*3"},
        {"CTX*CLM01:C3", "IK5*R*5*I5"},
    };
    static char segs[64][512];
    ak_segs(t, segs, 64);
    for (int i = 0; i < N(want); i++) {
        int k = ak_index(t, want[i][0]);
        cr_assert_geq(k, 0, "no %s in\n%s", want[i][0], t);
        cr_assert_str_eq(segs[k + 1], want[i][1], "after %s\n%s", want[i][0], t);
    }
    ak_done(&o);
}

Test(ack, warnings_only_accept_with_errors_noted)
{
    ack_inject inj[] = {{.at = "PER", .sev = X12_SEV_WARNING, .level = 5}};
    ack_out o;
    ak_run_str(&o, ONE_SET, inj, N(inj));
    ak_assert_seg(o.text[0], "IK5*E*I5");
    ak_assert_seg(o.text[0], "AK9*E*1*1*1");
    ak_done(&o);
}

Test(ack, element_positions_components_repetitions_and_bad_data)
{
    ack_inject inj[] = {
        {.at = "SV1", .loop = "2400", .elem = 1, .comp = 2, .ref = 234, .ik4 = "I12", .found = "9921"},
        {.at = "SV1", .loop = "2400", .elem = 7, .rep = 2, .ik4 = "7", .found = "A*B:C^D~E"},
        {.at = "SV1", .loop = "2400", .elem = 7, .comp = 1, .rep = 3, .ik4 = "12"},
    };
    ack_out o;
    ak_run_str(&o, ONE_SET, inj, N(inj));
    const char *t = o.text[0];
    int i = ak_index(t, "IK3*SV1*14*2400*8");
    cr_assert_gt(i, 0, "%s", t);
    cr_assert_eq(ak_index(t, "CTX*CLM01:ACCT-1"), i + 1, "%s", t);
    cr_assert_eq(ak_index(t, "IK4*1:2*234*I12*9921"), i + 2, "%s", t);
    cr_assert_eq(ak_index(t, "IK4*7::2**7*ABCDE"), i + 3, "%s", t);
    cr_assert_eq(ak_index(t, "IK4*7:1:3**12"), i + 4, "%s", t);
    ak_assert_seg(t, "IK5*R*5*I5");
    ak_done(&o);
}

Test(ack, a_code_that_would_break_the_999_is_dropped)
{
    ack_inject inj[] = {{.at = "PER", .ik3 = "*~", .ik5 = "4:", .ta1 = "0^1"}};
    ack_out o;
    ak_run_str(&o, ONE_SET, inj, N(inj));
    cr_assert_eq(o.rc, CH_OK, "%s", o.err.msg);
    cr_assert_eq(o.n, 1);
    cr_assert_eq(ak_count(o.text[0], "IK3"), 0);
    ak_assert_seg(o.text[0], "IK5*R*I5");
    ak_done(&o);
}

Test(ack, tokenizer_bad_segment_id_is_reported)
{
    char data[2048];
    snprintf(data, sizeof data, "%s", ONE_SET);
    memcpy(strstr(data, "LX*1~"), "1X", 2);
    ack_out o;
    ak_run_str(&o, data, NULL, 0);
    ak_assert_seg(o.text[0], "IK3*1X*13**1");
    ak_assert_seg(o.text[0], "IK5*R*5");
    ak_done(&o);
}

Test(ack, a_cut_off_file_reports_every_missing_trailer)
{
    const char *data = ISA_IN GS_IN "ST*837*0001*005010X222A1~\nBHT*0019*00*REF1*20261120*0915*CH~\n";
    ack_out o;
    ak_run_str(&o, data, NULL, 0);
    cr_assert_eq(o.rc, CH_OK, "%s", o.err.msg);
    ak_assert_seg(text_of(&o, ".999"), "IK5*R*2");
    ak_assert_seg(text_of(&o, ".999"), "AK9*R*1*1*0*3");
    ak_assert_seg(text_of(&o, ".ta1"), "TA1*000000042*261120*0915*R*023");
    ak_done(&o);
}

Test(ack, a_fatal_problem_before_the_first_group_rejects_the_interchange)
{
    ack_inject inj[] = {{.at = "ISA", .sev = X12_SEV_FATAL, .level = 1}};
    const char *data = ISA_IN;
    ack_out o;
    ak_run_str(&o, data, inj, N(inj));
    cr_assert_eq(o.n, 1, "%u", o.n); /* one TA1: the first rejection code wins */
    ak_assert_seg(o.text[0], "TA1*000000042*261120*0915*R*024");
    ak_done(&o);
}

Test(ack, listed_problems_stop_at_the_cap)
{
    size_t cap = 64 * 1024;
    char *data = malloc(cap);
    size_t n = (size_t)snprintf(data, cap, "%s%s", ISA_IN GS_IN, "ST*837*0001*005010X222A1~\n");
    for (int i = 0; i < 1100; i++)
        n += (size_t)snprintf(data + n, cap - n, "NTE*ADD*X~\n");
    n += (size_t)snprintf(data + n, cap - n, "SE*1102*0001~\n" GE_IN IEA_IN);
    ack_inject inj[] = {{.at = "NTE", .every = 1, .loop = "2300", .elem = 2, .ik4 = "6", .found = "X"}};
    ack_out o;
    ak_run(&o, data, n, inj, N(inj), NULL);
    cr_assert_eq(ak_count(o.text[0], "IK4*"), X12_ACK_MAX_PROBLEMS);
    cr_assert_eq(ak_count(o.text[0], "IK3*"), X12_ACK_MAX_PROBLEMS);
    ak_assert_seg(o.text[0], "IK5*R*5");
    free(data);
    ak_done(&o);
}

Test(ack, one_999_per_group_with_counting_control_numbers)
{
    char *data = ak_slurp("tests/corpus/837p/ims-x12_multiple_gs.txt");
    x12_ack_opts op = {.isa13 = 10, .gs06 = 100, .basename = "in"};
    ack_out o;
    ak_run(&o, data, strlen(data), NULL, 0, &op);
    cr_assert_eq(o.n, 4);
    cr_assert_geq(ak_file(&o, "/in.000000010.100.999"), 0);
    cr_assert_geq(ak_file(&o, "/in.000000011.101.999"), 0);
    cr_assert_geq(ak_file(&o, "/in.000000012.102.999"), 0);
    ak_assert_seg(text_of(&o, "/in.000000012.102.999"), "IK5*R*4"); /* SE01 is wrong in each */
    const char *t = text_of(&o, "/in.000000013.ta1");
    cr_assert(strstr(t, "*E*021~"), "%s", t); /* IEA01 says 1 group, there are 3 */
    free(data);
    ak_done(&o);
}

Test(ack, isa_field_widths_found_by_the_tokenizer_reject_the_interchange)
{
    char *data = ak_slurp("tests/corpus/bad/aff-835-nevada-unpadded-ISA.txt");
    ack_out o;
    ak_run_str(&o, data, NULL, 0);
    cr_assert(strstr(text_of(&o, ".ta1"), "*R*011~"), "%s", text_of(&o, ".ta1"));
    ak_assert_seg(text_of(&o, ".999"), "AK1*HP*100000300*005010X221A1");
    free(data);
    ak_done(&o);
}

/* Every corpus file: one 999 per group, each of them valid. */
Test(ack, every_corpus_file_gets_valid_acknowledgments, .timeout = 120)
{
    DIR *top = opendir("tests/corpus");
    cr_assert(top);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(top))) {
        char sub[512];
        snprintf(sub, sizeof sub, "tests/corpus/%s", e->d_name);
        DIR *d = e->d_name[0] == '.' ? NULL : opendir(sub);
        struct dirent *f;
        while (d && (f = readdir(d))) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", sub, f->d_name);
            if (f->d_name[0] == '.' || f->d_type == DT_DIR)
                continue;
            char *data = ak_slurp(path);
            tr_result t;
            tr_mem(&t, data, strlen(data), 0);
            int groups = 0;
            for (int i = 0; i < t.nseg; i++)
                groups += !strncmp(t.seg[i], "GS|", 3);
            int capped = t.nseg == TR_MAX;
            tr_free(&t);
            ack_out o;
            ak_run_str(&o, data, NULL, 0);
            cr_assert_eq(o.rc, CH_OK, "%s: %s", path, o.err.msg);
            int n999 = 0;
            for (unsigned i = 0; i < o.n; i++)
                n999 += strstr(o.path[i], ".999") != NULL;
            cr_assert(capped || n999 == groups, "%s: %d groups, %d 999s", path, groups, n999);
            ak_done(&o);
            free(data);
            files++;
        }
        if (d)
            closedir(d);
    }
    closedir(top);
    cr_assert_gt(files, 50);
}

Test(ack, bad_options_are_refused)
{
    ch_error err;
    cr_assert_null(x12_ack_new(NULL, &err));
    cr_assert_eq(err.code, CH_ERR_USAGE);
    x12_ack_opts op = {.dir = "/tmp", .basename = "a/b"};
    cr_assert_null(x12_ack_new(&op, &err));
    cr_assert_eq(err.code, CH_ERR_USAGE);
    op = (x12_ack_opts){.dir = "/proc/no/such/dir", .basename = "t"};
    cr_assert_null(x12_ack_new(&op, &err));
    cr_assert_eq(err.code, CH_ERR_IO);
    cr_assert_eq(x12_ack_finish(NULL, &err), CH_ERR_USAGE);
    x12_ack_free(NULL);
}

Test(ack, a_directory_that_goes_away_is_an_io_error)
{
    char root[] = "/tmp/ch-ack-XXXXXX", dir[64];
    cr_assert(mkdtemp(root));
    snprintf(dir, sizeof dir, "%s/acks", root);
    x12_ack_opts op = {.dir = dir, .basename = "t", .now = ACK_NOW};
    ch_error err;
    x12_ack *a = x12_ack_new(&op, &err);
    cr_assert(a, "%s", err.msg);
    cr_assert_eq(rmdir(dir), 0);
    x12_reader *r;
    x12_open_mem(&r, ONE_SET, strlen(ONE_SET), "t", NULL, NULL);
    x12_segment s;
    while (x12_next(r, &s) == X12_SEGMENT)
        x12_ack_feed(a, &s);
    cr_assert_eq(x12_ack_finish(a, &err), CH_ERR_IO);
    cr_assert(strstr(err.msg, dir), "%s", err.msg);
    cr_assert_eq(x12_ack_files(a, NULL), 0);
    x12_ack_free(a);
    x12_close(r);
    rmdir(root);
}

/* Damaged input of every kind still gives acknowledgments that are valid. */
Test(ack, damaged_input_still_gives_valid_acks, .timeout = 120)
{
    const char *base = ONE_SET ISA_IN GS_IN SET("0001") SET("0002") "GE*2*77~\n" IEA_IN;
    size_t len = strlen(base);
    char *data = malloc(len + 1);
    unsigned seed = 12345;
    const char pool[] = "*:^~\nISAGSTE0123456789 ";
    for (int round = 0; round < 300; round++) {
        memcpy(data, base, len + 1);
        seed = seed * 1103515245u + 12345u;
        int flips = 1 + (int)(seed >> 16) % 4;
        for (int k = 0; k < flips; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            data[at] = pool[(seed >> 16) % (sizeof pool - 1)];
        }
        size_t n = len - ((seed >> 4) % 7 == 0 ? (seed >> 9) % len : 0); /* sometimes cut */
        ack_inject inj[] = {
            {.at = "NM1", .every = 1, .loop = "2010AA", .elem = 9, .ik4 = "7", .found = "X*1"},
            {.at = "CLM", .every = 1, .before = 1, .loop = "2300", .ik3 = "2"},
            {.at = "SV1", .every = 1, .sev = X12_SEV_WARNING, .level = 5},
        };
        ack_out o;
        ak_run(&o, data, n, inj, round % 2 ? N(inj) : 0, NULL);
        cr_assert_eq(o.rc, CH_OK, "round %d: %s", round, o.err.msg);
        ak_done(&o);
    }
    free(data);
}
