/*
 * test_ack_999_reader.c - the 999 reader: every 999 sample read with the
 * right groups and sets, IK3/IK4 errors turned into readable reasons naming
 * segment, element and code text, CTX naming the claim, and a 999 that breaks
 * its own rules still read and flagged.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <unistd.h>

#include "ack_999_reader.h"
#include "recon_helpers.h"

typedef struct got_set {
    char group[10], control[10], status[2], summary[320];
    int accepted, complete, orphan;
    unsigned nerrors;
    char reasons[4][320];
    char claims[4][39];
} got_set;

typedef struct got {
    unsigned nbegin, nend, nsets;
    ack_999_group g[8];
    got_set s[16];
    char diags[2048];
} got;

static void on_begin(void *ctx, const ack_999_group *g) { ((got *)ctx)->nbegin++; (void)g; }

static void on_set(void *ctx, const ack_999_group *g, const ack_999_set *s)
{
    got *x = ctx;
    if (x->nsets >= 16)
        return;
    got_set *o = &x->s[x->nsets++];
    memset(o, 0, sizeof *o);
    snprintf(o->group, sizeof o->group, "%s", g->control);
    snprintf(o->control, sizeof o->control, "%s", s->control);
    snprintf(o->status, sizeof o->status, "%s", s->status);
    snprintf(o->summary, sizeof o->summary, "%s", s->summary);
    o->accepted = s->accepted;
    o->complete = s->complete;
    o->orphan = s->orphan;
    o->nerrors = s->nerrors;
    for (unsigned i = 0; i < s->nerrors && i < 4; i++) {
        snprintf(o->reasons[i], sizeof o->reasons[i], "%s", s->errors[i].reason);
        snprintf(o->claims[i], sizeof o->claims[i], "%s", s->errors[i].claim_ref);
    }
}

static void on_end(void *ctx, const ack_999_group *g)
{
    got *x = ctx;
    if (x->nend < 8)
        x->g[x->nend] = *g;
    x->nend++;
}

static void on_diag(void *ctx, const x12_diag *d)
{
    got *x = ctx;
    size_t o = strlen(x->diags);
    snprintf(x->diags + o, sizeof x->diags - o, "%s@%llu ", d->code, (unsigned long long)d->pos.seg_no);
}

static void read_file(const char *name, got *x, ack_999_stats *st)
{
    memset(x, 0, sizeof *x);
    char path[512];
    int fd = open(rc_path(name, path, sizeof path), O_RDONLY);
    cr_assert_geq(fd, 0, "%s", path);
    ack_999_events ev = {on_begin, on_set, on_end, x};
    ch_error err;
    cr_assert_eq(ack_999_read_fd(fd, name, &ev, on_diag, x, st, &err), CH_OK, "%s", err.msg);
    close(fd);
}

typedef struct corpus_999 {
    const char *file;
    unsigned groups, sets, accepted, rejected, errors_listed, diag_errors;
    const char *first_group, *first_set;
} corpus_999;

static const corpus_999 CORPUS[] = {
    /* IEA02 differs from ISA13: an envelope error, the acknowledgment is still read */
    {"ims-x12_999_accepted.txt", 1, 1, 1, 0, 0, 1, "17456", "0001"},
    {"ims-x12_999_rejected.txt", 1, 1, 0, 1, 1, 0, "28", "0028"},
    {"pyx12-834_ls_le_ls_5010.999.txt", 1, 1, 1, 0, 0, 0, "146", "146001"},
    {"pyx12-834_lui_id_5010.999.txt", 4, 4, 4, 0, 0, 0, "13360001", "0001"},
    {"staedi-simple999.edi", 1, 3, 1, 2, 2, 0, "17456", "0001"},
    {"hand-999-mixed.999", 1, 3, 2, 1, 4, 0, "101", "0001"},
};

Test(ack_999, every_999_sample_is_read)
{
    for (size_t i = 0; i < sizeof CORPUS / sizeof *CORPUS; i++) {
        const corpus_999 *c = &CORPUS[i];
        got *x = calloc(1, sizeof *x);
        ack_999_stats st;
        read_file(c->file, x, &st);
        cr_expect_eq(st.groups, c->groups, "%s groups %u", c->file, st.groups);
        cr_expect_eq(x->nbegin, c->groups, "%s", c->file);
        cr_expect_eq(x->nend, c->groups, "%s", c->file);
        cr_expect_eq(st.sets, c->sets, "%s sets %u", c->file, st.sets);
        cr_expect_eq(st.sets_accepted, c->accepted, "%s accepted", c->file);
        cr_expect_eq(st.sets_rejected, c->rejected, "%s rejected", c->file);
        cr_expect_eq(st.errors_listed, c->errors_listed, "%s errors listed %u", c->file,
                     st.errors_listed);
        cr_expect_eq(st.errors, c->diag_errors, "%s: %s", c->file, x->diags);
        cr_expect_str_eq(x->s[0].group, c->first_group, "%s", c->file);
        cr_expect_str_eq(x->s[0].control, c->first_set, "%s", c->file);
        for (unsigned k = 0; k < x->nend && k < 8; k++)
            cr_expect(x->g[k].complete, "%s: AK9 read", c->file);
        free(x);
    }
}

Test(ack_999, rejected_sets_carry_readable_reasons)
{
    got *x = calloc(1, sizeof *x);
    ack_999_stats st;
    read_file("staedi-simple999.edi", x, &st);
    cr_assert(x->s[0].accepted);
    cr_assert_str_eq(x->s[0].summary, "accepted: IK501 A (Accepted)");
    cr_assert(!x->s[1].accepted);
    cr_assert_str_eq(x->s[1].control, "0002");
    cr_assert_str_eq(x->s[1].summary,
                     "rejected: IK501 R (Rejected); IK502 5 (One or More Segments in Error)");
    cr_assert_eq(x->s[1].nerrors, 1);
    cr_assert_str_eq(x->s[1].reasons[0],
                     "CLM02 (data element 782) in segment CLM at position 22: "
                     "IK403 1 (Required Data Element Missing)");
    cr_assert_str_eq(x->s[1].claims[0], "123456789", "CTX CLM01 names the claim");
    cr_assert_str_eq(x->s[2].reasons[0],
                     "segment REF at position 57: IK304 3 (Required segment missing)");
    cr_assert_str_eq(x->s[2].claims[0], "987654321");
    cr_assert_str_eq(x->g[0].status, "P");
    cr_assert(strstr(x->g[0].summary, "Partially Accepted"), "%s", x->g[0].summary);
    cr_assert_eq(x->g[0].included, 3);
    cr_assert_eq(x->g[0].accepted, 1);
    free(x);
}

Test(ack_999, every_ik4_of_an_ik3_is_one_reason_and_keeps_the_context)
{
    got *x = calloc(1, sizeof *x);
    ack_999_stats st;
    read_file("hand-999-mixed.999", x, &st);
    const got_set *s = &x->s[1];
    cr_assert(!s->accepted);
    cr_assert_eq(s->nerrors, 3);
    cr_assert_str_eq(s->reasons[0], "NM109 (data element 67) in segment NM1 at position 8, loop "
                                    "2010BA: IK403 6 (Invalid Character in Data Element)");
    cr_assert_str_eq(s->reasons[1], "NM103 (data element 1035) in segment NM1 at position 8, loop "
                                    "2010BA: IK403 1 (Required Data Element Missing)");
    cr_assert_str_eq(s->claims[0], "PCN-0002");
    cr_assert_str_eq(s->claims[1], "PCN-0002");
    cr_assert_str_eq(s->reasons[2], "segment CLM at position 22, loop 2300: IK304 I6 "
                                    "(Implementation Dependent Segment Missing)");
    cr_assert_str_eq(s->claims[2], "", "a CTX belongs to its own IK3");
    /* E: accepted with errors, still acknowledged */
    cr_assert(x->s[2].accepted);
    cr_assert_str_eq(x->s[2].status, "E");
    cr_assert_str_eq(x->s[2].reasons[0], "DTP03-1 (data element 1251) in segment DTP at position "
                                         "30, loop 2400: IK403 8 (Invalid Date)");
    cr_assert(!strstr(x->s[2].reasons[0], "20251399"), "no data values in reasons");
    free(x);
}

Test(ack_999, a_999_that_breaks_its_rules_is_read_and_flagged)
{
    got *x = calloc(1, sizeof *x);
    ack_999_stats st;
    read_file("staedi-invalid999.edi", x, &st);
    cr_assert(strstr(x->diags, "999.ak1.missing@4"), "%s", x->diags);
    cr_assert(strstr(x->diags, "999.ak2.missing@4"), "%s", x->diags);
    cr_assert(strstr(x->diags, "999.ik5.status@7"), "%s", x->diags);
    cr_assert(strstr(x->diags, "envelope.count"), "%s", x->diags);
    /* IK5s without an AK2 are orphans: nothing can be marked by them */
    unsigned orphans = 0;
    for (unsigned i = 0; i < x->nsets; i++)
        if (x->s[i].orphan) {
            orphans++;
            cr_assert(!x->s[i].accepted);
        }
    cr_assert_eq(orphans, 2);
    cr_assert_eq(st.sets_accepted, 0);
    cr_assert_eq(st.sets_rejected, 3);
    /* the real sets after the damage are still there */
    cr_assert_str_eq(x->s[4].control, "0003");
    cr_assert(!x->s[4].accepted);
    cr_assert_gt(st.errors, 0);
    free(x);
}

Test(ack_999, missing_ik5_and_ak9_are_reported)
{
    const char *t = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
                    "*261123*1200*^*00501*000000001*0*T*:~GS*FA*S*R*20261123*1200*1*X*005010X231A1~"
                    "ST*999*0001*005010X231A1~AK1*HC*55*005010X222A1~AK2*837*0009~IK3*CLM*3**8~"
                    "SE*6*0001~GE*1*1~IEA*1*000000001~";
    got *x = calloc(1, sizeof *x);
    ack_999_events ev = {on_begin, on_set, on_end, x};
    ack_999_stats st;
    cr_assert_eq(ack_999_read_mem(t, strlen(t), "m", &ev, on_diag, x, &st, NULL), CH_OK);
    cr_assert(strstr(x->diags, "999.ik5.missing"), "%s", x->diags);
    cr_assert(strstr(x->diags, "999.ak9.missing"), "%s", x->diags);
    cr_assert_eq(x->nsets, 1);
    cr_assert(!x->s[0].complete);
    cr_assert(!x->s[0].accepted, "an unknown status is never taken as accepted");
    cr_assert_eq(st.sets_rejected, 0, "nor as rejected");
    free(x);
}
