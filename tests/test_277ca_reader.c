/*
 * test_277ca_reader.c - the 277CA reader: both corpus samples (accepted with
 * the payer claim number, rejected with the status texts), and a hand-made
 * file with receiver- and provider-level statuses, several claims, REF*D9,
 * a service line and date ranges.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <unistd.h>

#include "recon_helpers.h"
#include "status_277ca_reader.h"

typedef struct got {
    unsigned nlevels, nclaims;
    status_277_level lv[8];
    struct {
        char pcn[51], k1[51], d9[51], member[81], from[9], to[9], reason[768];
        char provider[81], line_ctl[51], line_proc[49];
        status_277_verdict verdict, line_verdict;
        unsigned nstc, nlines;
        int64_t amount;
    } c[8];
    char diags[1024];
} got;

static void on_level(void *ctx, const status_277_level *l)
{
    got *g = ctx;
    if (g->nlevels < 8)
        g->lv[g->nlevels] = *l;
    g->nlevels++;
}

static void on_claim(void *ctx, const status_277_claim *c)
{
    got *g = ctx;
    if (g->nclaims >= 8)
        return;
    unsigned i = g->nclaims++;
    snprintf(g->c[i].pcn, 51, "%s", c->pcn);
    snprintf(g->c[i].k1, 51, "%s", c->payer_claim_no);
    snprintf(g->c[i].d9, 51, "%s", c->ch_trace);
    snprintf(g->c[i].member, 81, "%s", c->member_id);
    snprintf(g->c[i].from, 9, "%s", c->date_from);
    snprintf(g->c[i].to, 9, "%s", c->date_to);
    snprintf(g->c[i].reason, 768, "%s", c->status.reason);
    snprintf(g->c[i].provider, 81, "%s", c->provider ? c->provider->id : "");
    g->c[i].verdict = c->status.verdict;
    g->c[i].nstc = c->status.nstc;
    g->c[i].nlines = c->nlines;
    g->c[i].amount = c->status.nstc ? c->status.stc[0].amount : 0;
    if (c->nlines) {
        snprintf(g->c[i].line_ctl, 51, "%s", c->lines[0].control);
        snprintf(g->c[i].line_proc, 49, "%s", c->lines[0].proc);
        g->c[i].line_verdict = c->lines[0].status.verdict;
    }
}

static void on_diag(void *ctx, const x12_diag *d)
{
    got *g = ctx;
    size_t o = strlen(g->diags);
    snprintf(g->diags + o, sizeof g->diags - o, "%s@%llu ", d->code, (unsigned long long)d->pos.seg_no);
}

static void read_file(const char *name, got *g, status_277_stats *st)
{
    memset(g, 0, sizeof *g);
    char path[512];
    int fd = open(rc_path(name, path, sizeof path), O_RDONLY);
    cr_assert_geq(fd, 0, "%s", path);
    status_277_events ev = {on_level, on_claim, g};
    ch_error err;
    cr_assert_eq(status_277_read_fd(fd, name, &ev, on_diag, g, st, &err), CH_OK, "%s", err.msg);
    close(fd);
}

Test(status_277ca, accepted_sample_gives_the_payer_claim_number)
{
    got *g = calloc(1, sizeof *g);
    status_277_stats st;
    read_file("ims-x12_277CA_accepted.txt", g, &st);
    cr_assert_eq(st.errors, 0, "%s", g->diags);
    cr_assert_eq(st.claims, 1);
    cr_assert_eq(st.accepted, 1);
    cr_assert_eq(g->nlevels, 3);
    cr_assert_eq(g->lv[0].kind, STATUS_277_SOURCE);
    cr_assert_str_eq(g->lv[0].name, "NYSDOH");
    cr_assert_str_eq(g->lv[0].received, "20110311");
    cr_assert_eq(g->lv[1].kind, STATUS_277_RECEIVER);
    cr_assert_eq(g->lv[1].status.verdict, STATUS_277_ACCEPTED);
    cr_assert_eq(g->lv[1].qty_accepted, 1);
    cr_assert_eq(g->lv[1].amt_accepted, 12500);
    cr_assert_eq(g->lv[2].kind, STATUS_277_PROVIDER);
    cr_assert_str_eq(g->lv[2].id, "1234567890");
    cr_assert_str_eq(g->c[0].pcn, "5781");
    cr_assert_str_eq(g->c[0].k1, "1107000000014420");
    cr_assert_str_eq(g->c[0].member, "LL99999X");
    cr_assert_str_eq(g->c[0].provider, "1234567890");
    cr_assert_eq(g->c[0].verdict, STATUS_277_ACCEPTED);
    cr_assert_eq(g->c[0].amount, 12500);
    cr_assert(strstr(g->c[0].reason, "A2 (Acknowledgement/Acceptance into adjudication system"),
              "%s", g->c[0].reason);
    cr_assert(strstr(g->c[0].reason, "20 (Accepted for processing.)"), "%s", g->c[0].reason);
    free(g);
}

Test(status_277ca, rejected_sample_gives_the_status_code_texts)
{
    got *g = calloc(1, sizeof *g);
    status_277_stats st;
    read_file("ims-x12_277CA_rejected.txt", g, &st);
    cr_assert_eq(st.errors, 0, "%s", g->diags);
    cr_assert_eq(st.rejected, 1);
    cr_assert_str_eq(g->c[0].pcn, "3920394930203");
    cr_assert_eq(g->c[0].verdict, STATUS_277_REJECTED);
    cr_assert(!strncmp(g->c[0].reason, "A7 (Acknowledgement/Rejected for Invalid Information", 52),
              "%s", g->c[0].reason);
    cr_assert(strstr(g->c[0].reason, "562 (Entity's National Provider Identifier (NPI)"), "%s",
              g->c[0].reason);
    cr_assert(strstr(g->c[0].reason, "entity 85 (Billing Provider)"), "%s", g->c[0].reason);
    cr_assert_str_eq(g->c[0].from, "20090311");
    free(g);
}

Test(status_277ca, levels_claims_lines_and_traces)
{
    got *g = calloc(1, sizeof *g);
    status_277_stats st;
    read_file("hand-277ca-levels.txt", g, &st);
    cr_assert_eq(st.errors, 0, "%s", g->diags);
    cr_assert_eq(st.claims, 4);
    cr_assert_eq(st.accepted, 1);
    cr_assert_eq(st.rejected, 2);
    cr_assert_eq(st.pending, 1);
    /* 2200B: the batch was received: 3 accepted, 1 rejected */
    cr_assert_eq(g->lv[1].kind, STATUS_277_RECEIVER);
    cr_assert_str_eq(g->lv[1].trace, "BATCH0001");
    cr_assert_eq(g->lv[1].qty_accepted, 3);
    cr_assert_eq(g->lv[1].qty_rejected, 1);
    cr_assert_eq(g->lv[1].amt_rejected, 10000);
    /* the second provider was rejected at 2200C: A3 */
    cr_assert_eq(g->nlevels, 4);
    cr_assert_eq(g->lv[3].kind, STATUS_277_PROVIDER);
    cr_assert_str_eq(g->lv[3].id, "1245319599");
    cr_assert_eq(g->lv[3].status.verdict, STATUS_277_REJECTED);
    cr_assert(strstr(g->lv[3].status.reason, "A3 (Acknowledgement/Returned as unprocessable"),
              "%s", g->lv[3].status.reason);
    /* claim 1: accepted with payer claim number, trace, date range, a line */
    cr_assert_str_eq(g->c[0].pcn, "PCN-A-001");
    cr_assert_eq(g->c[0].verdict, STATUS_277_ACCEPTED);
    cr_assert_str_eq(g->c[0].k1, "PAYERCLAIM001");
    cr_assert_str_eq(g->c[0].d9, "CHTRACE0001");
    cr_assert_str_eq(g->c[0].from, "20251101");
    cr_assert_str_eq(g->c[0].to, "20251102");
    cr_assert_eq(g->c[0].nlines, 1);
    cr_assert_str_eq(g->c[0].line_ctl, "LINE-1-1");
    cr_assert_str_eq(g->c[0].line_proc, "99213");
    cr_assert_eq(g->c[0].line_verdict, STATUS_277_ACCEPTED);
    /* claim 2: received (A1) then rejected (A7): rejected, reason without the receipt */
    cr_assert_eq(g->c[1].verdict, STATUS_277_REJECTED);
    cr_assert_eq(g->c[1].nstc, 2);
    cr_assert(!strncmp(g->c[1].reason, "A7 (", 4), "%s", g->c[1].reason);
    cr_assert(!strstr(g->c[1].reason, "A1 ("), "%s", g->c[1].reason);
    cr_assert_str_eq(g->c[1].member, "MEM001", "a second claim of the same patient");
    /* claim 3: pending; claim 4 under the rejected provider */
    cr_assert_eq(g->c[2].verdict, STATUS_277_PENDING);
    cr_assert_str_eq(g->c[2].member, "MEM002");
    cr_assert_str_eq(g->c[3].provider, "1245319599");
    cr_assert_eq(g->c[3].verdict, STATUS_277_REJECTED);
    free(g);
}

Test(status_277ca, category_verdicts)
{
    cr_assert_eq(status_277_category_verdict("A1"), STATUS_277_ACCEPTED);
    cr_assert_eq(status_277_category_verdict("A2"), STATUS_277_ACCEPTED);
    cr_assert_eq(status_277_category_verdict("A3"), STATUS_277_REJECTED);
    cr_assert_eq(status_277_category_verdict("A7"), STATUS_277_REJECTED);
    cr_assert_eq(status_277_category_verdict("E1"), STATUS_277_REJECTED);
    cr_assert_eq(status_277_category_verdict("P1"), STATUS_277_PENDING);
    cr_assert_eq(status_277_category_verdict("F0"), STATUS_277_NONE);
    cr_assert_eq(status_277_category_verdict(""), STATUS_277_NONE);
}

Test(status_277ca, a_claim_without_status_is_flagged)
{
    const char *t = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
                    "*261123*1200*^*00501*000000001*0*T*:~GS*HN*S*R*20261123*1200*1*X*005010X214~"
                    "ST*277*0001*005010X214~BHT*0085*08*1*20261123*1200*TH~HL*1**20*1~HL*2*1*21*1~"
                    "HL*3*2*19*1~HL*4*3*PT~NM1*QC*1*A*B****MI*M1~TRN*2*P1~REF*1K*X~"
                    "SE*11*0001~GE*1*1~IEA*1*000000001~";
    got *g = calloc(1, sizeof *g);
    status_277_events ev = {on_level, on_claim, g};
    status_277_stats st;
    cr_assert_eq(status_277_read_mem(t, strlen(t), "m", &ev, on_diag, g, &st, NULL), CH_OK);
    cr_assert_eq(st.claims, 1);
    cr_assert_eq(st.no_status, 1);
    cr_assert_eq(g->c[0].verdict, STATUS_277_NONE);
    cr_assert(strstr(g->diags, "277ca.stc.missing"), "%s", g->diags);
    free(g);
}
