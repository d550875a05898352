/*
 * test_remit_835.c - the streaming 835 reader: every 835 sample of the
 * corpus read with the right totals, hand-made files for each claim status,
 * partial payment, reversal and correction, PLB, the three balancing rules,
 * byte-at-a-time reading, a set cut short, and the per-claim bounds.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <unistd.h>

#include "codes.h"
#include "recon_helpers.h"
#include "remit_835.h"
#include "x12_writer.h"

#define MAXC 64

typedef struct got_claim {
    char pcn[39], status[3];
    int64_t charge, paid, pr, adj_total, line_adj_total;
    remit_outcome outcome;
    unsigned nlines, nadj, nremarks, errors;
    int balanced, reversal, correction, truncated;
    remit_line line0;       /* pointers in it are dead after the call */
    char line0_adj[64];     /* "CO45=10 PR2=20 " */
    char line0_remarks[64];
    char claim_adj[64];
} got_claim;

typedef struct got {
    unsigned npay, nclaims, nplb, nend;
    remit_payment pay[8];   /* as at payment_end */
    char keys[8][80];
    got_claim c[MAXC];
    remit_plb plb[8];
    unsigned ndiag;
    char diags[4096];       /* "code@seg:elem " */
    x12_diag d[32];
    unsigned payment_seen_before_claims;
} got;

static void on_payment(void *ctx, const remit_payment *p)
{
    got *g = ctx;
    if (g->nclaims == 0 || g->npay > 0)
        g->payment_seen_before_claims++;
    g->npay++;
    (void)p;
}

static void adj_str(char *buf, size_t size, const remit_adj *a, unsigned n)
{
    size_t o = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < n && o < size; i++) {
        char c[24];
        o += (size_t)snprintf(buf + o, size - o, "%s%s=%s ", a[i].group, a[i].reason,
                              x12_cents_str(a[i].amount, c));
    }
}

static void on_claim(void *ctx, const remit_payment *p, const remit_claim *c)
{
    got *g = ctx;
    (void)p;
    if (g->nclaims >= MAXC)
        return;
    got_claim *k = &g->c[g->nclaims++];
    memset(k, 0, sizeof *k);
    memcpy(k->pcn, c->pcn, sizeof k->pcn);
    memcpy(k->status, c->status, sizeof k->status);
    k->charge = c->charge;
    k->paid = c->paid;
    k->pr = c->patient_resp;
    k->adj_total = c->adj_total;
    k->line_adj_total = c->line_adj_total;
    k->outcome = remit_claim_outcome(c);
    k->nlines = c->nlines;
    k->nadj = c->nadj;
    k->nremarks = c->nremarks;
    k->errors = c->errors;
    k->balanced = c->balanced;
    k->reversal = c->is_reversal;
    k->correction = c->is_correction;
    k->truncated = c->truncated;
    adj_str(k->claim_adj, sizeof k->claim_adj, c->adj, c->nadj);
    if (c->nlines) {
        k->line0 = c->lines[0];
        adj_str(k->line0_adj, sizeof k->line0_adj, c->lines[0].adj, c->lines[0].nadj);
        size_t o = 0;
        for (unsigned i = 0; i < c->lines[0].nremarks; i++)
            o += (size_t)snprintf(k->line0_remarks + o, sizeof k->line0_remarks - o, "%s:%s ",
                                  c->lines[0].remarks[i].qual, c->lines[0].remarks[i].code);
    }
}

static void on_plb(void *ctx, const remit_payment *p, const remit_plb *plb)
{
    got *g = ctx;
    (void)p;
    if (g->nplb < 8)
        g->plb[g->nplb] = *plb;
    g->nplb++;
}

static void on_end(void *ctx, const remit_payment *p)
{
    got *g = ctx;
    if (g->nend < 8) {
        g->pay[g->nend] = *p;
        remit_payment_key(p, g->keys[g->nend], sizeof g->keys[g->nend]);
    }
    g->nend++;
}

static void on_diag(void *ctx, const x12_diag *d)
{
    got *g = ctx;
    if (g->ndiag < 32)
        g->d[g->ndiag] = *d;
    g->ndiag++;
    size_t o = strlen(g->diags);
    snprintf(g->diags + o, sizeof g->diags - o, "%s@%llu:%d ", d->code,
             (unsigned long long)d->pos.seg_no, d->elem);
}

static const remit_835_events EV = {on_payment, on_claim, on_plb, on_end, NULL};

static void read_file(const char *name, got *g, remit_835_stats *st)
{
    memset(g, 0, sizeof *g);
    char path[512];
    int fd = open(rc_path(name, path, sizeof path), O_RDONLY);
    cr_assert_geq(fd, 0, "%s", path);
    remit_835_events ev = EV;
    ev.ctx = g;
    ch_error err;
    cr_assert_eq(remit_835_read_fd(fd, name, &ev, on_diag, g, st, &err), CH_OK, "%s", err.msg);
    close(fd);
}

/* --- the corpus ------------------------------------------------------------- */

typedef struct corpus_835 {
    const char *file;
    unsigned payments, claims, lines, plbs;
    int64_t paid;        /* sum of CLP04, cents */
    int64_t bpr;         /* sum of BPR02 */
    int64_t plb;         /* sum of PLB amounts */
    unsigned balance_errors, unbalanced;
    unsigned errors;     /* all error diagnostics (envelope too) */
} corpus_835;

static const corpus_835 CORPUS[] = {
    /* placeholders in CAS and PLB, SE01 wrong twice: read, flagged, first set unbalanced */
    {"aff-835-sample-2ST-placeholders.txt", 2, 6, 12, 2, 178 + 14113, 178 + 14113, 500, 1, 1, 12},
    {"k835-emedny_sample.txt", 1, 3, 10, 0, 4575, 4575, 0, 0, 0, 0},
    {"k835-uhc_legacy_sample.txt", 1, 2, 5, 0, 34999, 34999, 0, 0, 0, 0},
    {"lfh-cob-contractural-adjustment.835", 1, 1, 1, 0, 3400, 3400, 0, 0, 0, 0},
    {"lfh-managed-care.835", 1, 2, 2, 0, 94500, 94500, 0, 0, 0, 0},
    {"lfh-medicare-part-a.835", 1, 2, 0, 1, 14999873, 15000000, -127, 0, 0, 0},
    {"lfh-secondary-payment.835", 1, 2, 2, 0, 122200, 122200, 0, 0, 0, 0},
    /* SVC01 without its procedure, values slid right: the line does not balance */
    {"lfh-tertiary-payment.835", 1, 1, 1, 0, 18750, 18750, 0, 1, 0, 2},
    {"pyx12-835_mult_loops.txt", 1, 1, 3, 0, 0, 0, 0, 0, 0, 0},
};

Test(remit_835, every_corpus_835_is_read_with_its_totals)
{
    for (size_t i = 0; i < sizeof CORPUS / sizeof *CORPUS; i++) {
        const corpus_835 *x = &CORPUS[i];
        got *g = calloc(1, sizeof *g);
        remit_835_stats st;
        read_file(x->file, g, &st);
        cr_expect_eq(st.payments, x->payments, "%s payments %u", x->file, st.payments);
        cr_expect_eq(g->nend, x->payments, "%s", x->file);
        cr_expect_eq(st.claims, x->claims, "%s claims %u", x->file, st.claims);
        cr_expect_eq(st.lines, x->lines, "%s lines %u", x->file, st.lines);
        cr_expect_eq(st.plbs, x->plbs, "%s plbs", x->file);
        int64_t paid = 0, bpr = 0, plb = 0;
        unsigned complete = 0;
        for (unsigned k = 0; k < g->nend; k++) {
            paid += g->pay[k].total_paid;
            bpr += g->pay[k].amount;
            plb += g->pay[k].total_plb;
            complete += (unsigned)g->pay[k].complete;
        }
        cr_expect_eq(paid, x->paid, "%s paid %lld", x->file, (long long)paid);
        cr_expect_eq(bpr, x->bpr, "%s bpr %lld", x->file, (long long)bpr);
        cr_expect_eq(plb, x->plb, "%s plb %lld", x->file, (long long)plb);
        cr_expect_eq(complete, x->payments, "%s: every set closed by SE", x->file);
        cr_expect_eq(st.balance_errors, x->balance_errors, "%s balance errors %u: %s", x->file,
                     st.balance_errors, g->diags);
        cr_expect_eq(st.unbalanced_payments, x->unbalanced, "%s", x->file);
        cr_expect_eq(st.errors, x->errors, "%s errors %u: %s", x->file, st.errors, g->diags);
        free(g);
    }
}

Test(remit_835, payment_header_fields)
{
    got *g = calloc(1, sizeof *g);
    remit_835_stats st;
    read_file("k835-uhc_legacy_sample.txt", g, &st);
    const remit_payment *p = &g->pay[0];
    cr_assert_str_eq(p->handling, "I");
    cr_assert_eq(p->amount, 34999);
    cr_assert_str_eq(p->method, "ACH");
    cr_assert_str_eq(p->format, "CCP");
    cr_assert_str_eq(p->date, "20210204");
    cr_assert_str_eq(p->trace, "1234567890");
    cr_assert_str_eq(p->trace_payer, "1234567890");
    cr_assert_str_eq(p->payer_name, "UNITED HEALTHCARE INSURANCE COMPANY");
    cr_assert_str_eq(p->payer_id, "87726");
    cr_assert_str_eq(p->payer_ref, "87726");
    cr_assert_str_eq(p->payee_name, "KLAUS MEDICAL CENTER");
    cr_assert_str_eq(p->payee_npi, "1922164458");
    cr_assert_str_eq(p->payee_tax_id, "333333333");
    cr_assert_str_eq(p->st02, "000000064");
    cr_assert_str_eq(p->isa13, "444444444");
    cr_assert_str_eq(p->gs06, "444444444");
    cr_assert_str_eq(g->keys[0], "1234567890/1234567890");
    /* line with REF*6R, AMT*B6 and two CAS segments */
    const got_claim *c = &g->c[0];
    cr_assert_str_eq(c->pcn, "001-18573-358");
    cr_assert_eq(c->pr, 10526);
    cr_assert_str_eq(c->line0.proc, "B4152");
    cr_assert_str_eq(c->line0.control, "800941258001");
    cr_assert_eq(c->line0.units_x100, 23400);
    cr_assert(c->line0.has_allowed);
    cr_assert_eq(c->line0.allowed, 8892);
    /* CAS*PR*2*5.13**1*110: two triplets of one segment */
    cr_assert_str_eq(g->c[1].claim_adj, "");
    free(g);
}

Test(remit_835, each_claim_status_partial_reversal_correction_and_plb)
{
    got *g = calloc(1, sizeof *g);
    remit_835_stats st;
    read_file("hand-statuses.835", g, &st);
    cr_assert_eq(st.errors, 0, "%s", g->diags);
    cr_assert_eq(st.warnings, 0, "%s", g->diags);
    cr_assert_eq(g->nclaims, 6);
    cr_assert_eq(g->payment_seen_before_claims, 1, "payment callback before the first claim");

    const got_claim *c = g->c;
    cr_assert_str_eq(c[0].pcn, "PAID001");
    cr_assert_str_eq(c[0].status, "1");
    cr_assert_eq(c[0].outcome, REMIT_PAID);
    cr_assert_eq(c[0].pr, 2000);
    cr_assert_eq(c[0].line_adj_total, 5000);
    cr_assert_str_eq(c[0].line0.proc_q, "HC");
    cr_assert_str_eq(c[0].line0.proc, "99213");
    cr_assert_eq(c[0].line0.nmod, 1);
    cr_assert_str_eq(c[0].line0.mod[0], "25");
    cr_assert_str_eq(c[0].line0.control, "LINE-1-1");
    cr_assert_str_eq(c[0].line0.date_from, "20251101");
    cr_assert_eq(c[0].line0.allowed, 11000);
    cr_assert_str_eq(c[0].line0_adj, "CO45=10 PR2=20 ");
    cr_assert_eq(c[0].line0.pr_total, 2000);

    cr_assert_str_eq(c[1].status, "2");
    cr_assert_eq(c[1].outcome, REMIT_PAID);
    cr_assert_str_eq(c[1].line0_adj, "OA23=70 ");

    cr_assert_str_eq(c[2].status, "4");
    cr_assert_eq(c[2].outcome, REMIT_DENIED);
    cr_assert_str_eq(c[2].line0_remarks, "HE:N115 ");

    cr_assert_eq(c[3].outcome, REMIT_PARTIAL);
    cr_assert_eq(c[3].nlines, 2);

    cr_assert_str_eq(c[4].status, "22");
    cr_assert_eq(c[4].outcome, REMIT_REVERSAL);
    cr_assert(c[4].reversal);
    cr_assert_eq(c[4].paid, -15000);
    cr_assert_str_eq(c[4].claim_adj, "CO45=-30 PR2=-20 ");
    cr_assert(c[4].balanced);

    cr_assert_str_eq(c[5].pcn, "REV005");
    cr_assert(c[5].correction, "the claim after a reversal of the same PCN corrects it");
    cr_assert(!c[5].reversal);
    cr_assert_eq(c[5].outcome, REMIT_PAID);
    cr_assert(!c[0].correction && !c[3].correction);

    cr_assert_eq(g->nplb, 1);
    const remit_plb *p = &g->plb[0];
    cr_assert_str_eq(p->provider_id, "1234567893");
    cr_assert_str_eq(p->fiscal_date, "20251231");
    cr_assert_eq(p->nadj, 2);
    cr_assert_str_eq(p->adj[0].reason, "WO");
    cr_assert_str_eq(p->adj[0].ref, "PCLM999");
    cr_assert_eq(p->adj[0].amount, 2500);
    cr_assert_str_eq(p->adj[1].reason, "L6");
    cr_assert_eq(p->adj[1].amount, -500);
    cr_assert_eq(p->total, 2000);

    const remit_payment *pay = &g->pay[0];
    cr_assert(pay->balanced);
    cr_assert_eq(pay->amount, 23000);
    cr_assert_eq(pay->total_paid, 25000);
    cr_assert_eq(pay->total_plb, 2000);
    cr_assert_eq(pay->nclaims, 6);
    cr_assert_eq(pay->nlines, 6);
    cr_assert_str_eq(g->keys[0], "1999999999/CHK0001");
    free(g);
}

Test(remit_835, adjustment_reasons_read_as_words)
{
    char b[512];
    codes_describe(b, sizeof b, "CARC", "carc", NULL, "45");
    cr_assert(!strncmp(b, "CARC 45 (Charge exceeds fee schedule", 36), "%s", b);
    codes_describe(b, sizeof b, "RARC", "rarc", NULL, "N115");
    cr_assert(!strncmp(b, "RARC N115 (", 11), "%s", b);
    codes_describe(b, sizeof b, "group", "group_codes", "CAS01", "PR");
    cr_assert(strstr(b, "Patient Responsibility"), "%s", b);
    codes_describe(b, sizeof b, "PLB", "group_codes", "PLB03-1", "WO");
    cr_assert(strstr(b, "unknown code") == NULL, "%s", b);
}

Test(remit_835, the_three_balancing_rules_are_level_3_with_positions)
{
    got *g = calloc(1, sizeof *g);
    remit_835_stats st;
    read_file("hand-unbalanced.835", g, &st);
    cr_assert_eq(st.balance_errors, 3, "%s", g->diags);
    cr_assert_eq(st.unbalanced_payments, 1);
    int seen_line = 0, seen_claim = 0, seen_pay = 0;
    for (unsigned i = 0; i < g->ndiag && i < 32; i++) {
        const x12_diag *d = &g->d[i];
        if (d->level != 3)
            continue;
        cr_assert_eq(d->severity, X12_SEV_ERROR);
        if (!strcmp(d->code, "835.balance.line")) {
            seen_line = 1;
            cr_assert_str_eq(d->tag, "SVC");
            cr_assert_eq(d->pos.seg_no, 20);
            cr_assert_eq(d->pos.seg_in_st, 18);
            cr_assert_str_eq(d->pos.st02, "0002");
        } else if (!strcmp(d->code, "835.balance.claim")) {
            seen_claim = 1;
            cr_assert_str_eq(d->tag, "CLP");
            cr_assert_eq(d->pos.seg_no, 17);
            cr_assert(strstr(d->expected, "100 - 80 = 20"), "%s", d->expected);
        } else if (!strcmp(d->code, "835.balance.payment")) {
            seen_pay = 1;
            cr_assert_str_eq(d->tag, "BPR");
            cr_assert_eq(d->elem, 2);
            cr_assert_eq(d->pos.seg_no, 4);
            cr_assert(strstr(d->expected, "130"), "%s", d->expected);
        }
    }
    cr_assert(seen_line && seen_claim && seen_pay, "%s", g->diags);
    cr_assert(!g->c[0].balanced);
    cr_assert_eq(g->c[0].errors, 2, "line and claim errors count against the claim");
    cr_assert(g->c[1].balanced);
    cr_assert(!g->pay[0].balanced);
    cr_assert_eq(g->pay[0].balance_errors, 3);
    free(g);
}

Test(remit_835, placeholder_values_are_flagged_and_reading_goes_on)
{
    got *g = calloc(1, sizeof *g);
    remit_835_stats st;
    read_file("aff-835-sample-2ST-placeholders.txt", g, &st);
    cr_assert(strstr(g->diags, "835.cas.group@23:1"), "%s", g->diags);
    cr_assert(strstr(g->diags, "835.amount.invalid@23:3"), "%s", g->diags);
    cr_assert(strstr(g->diags, "835.plb.reason@56:3"), "%s", g->diags);
    cr_assert(strstr(g->diags, "835.amount.missing@162:4"), "%s", g->diags);
    cr_assert(strstr(g->diags, "835.balance.payment@4:2"), "%s", g->diags);
    cr_assert_eq(g->c[0].errors, 3);
    cr_assert_eq(g->pay[0].errors, 9, "envelope problems count against the set too");
    /* the payer's clean second set is complete and balanced */
    cr_assert(g->pay[1].balanced);
    free(g);
}

Test(remit_835, composite_separator_mismatch_is_read_and_warned_once)
{
    got *g = calloc(1, sizeof *g);
    remit_835_stats st;
    read_file("lfh-secondary-payment.835", g, &st);
    cr_assert_eq(st.warnings, 1, "%s", g->diags);
    cr_assert(strstr(g->diags, "835.composite.separator@29:1"), "%s", g->diags);
    cr_assert_str_eq(g->c[1].line0.proc, "12345");
    cr_assert_str_eq(g->c[1].line0.mod[0], "26");
    free(g);
}

/* Feed through the incremental API from a file descriptor, one byte a read:
 * every segment straddles reads, and the results are the same. */
Test(remit_835, byte_at_a_time_gives_the_same_claims)
{
    char path[512];
    int fd = open(rc_path("hand-statuses.835", path, sizeof path), O_RDONLY);
    cr_assert_geq(fd, 0);
    got *g = calloc(1, sizeof *g);
    remit_835_events ev = EV;
    ev.ctx = g;
    remit_835 *r = remit_835_new("bytes", &ev, on_diag, g);
    x12_reader_opts o = {.read_size = 1};
    x12_reader *xr;
    cr_assert_eq(x12_open_fd(&xr, fd, "bytes", &o, NULL), CH_OK);
    x12_segment s;
    while (x12_next(xr, &s) == X12_SEGMENT)
        remit_835_feed(r, &s);
    remit_835_finish(r);
    cr_assert_eq(remit_835_stats_get(r)->claims, 6);
    cr_assert_eq(remit_835_stats_get(r)->errors, 0, "%s", g->diags);
    cr_assert_str_eq(g->c[3].pcn, "PART004");
    cr_assert_eq(g->c[3].outcome, REMIT_PARTIAL);
    cr_assert(g->pay[0].balanced);
    remit_835_free(r);
    x12_close(xr);
    close(fd);
    free(g);
}

Test(remit_835, a_set_cut_short_is_read_as_far_as_it_goes_and_flagged)
{
    char path[512];
    size_t len;
    char *buf = rc_slurp(rc_path("hand-statuses.835", path, sizeof path), &len);
    cr_assert(buf);
    char *cut = strstr(buf, "CLP*PART004");
    cr_assert(cut);
    got *g = calloc(1, sizeof *g);
    remit_835_events ev = EV;
    ev.ctx = g;
    remit_835_stats st;
    ch_error err;
    cr_assert_eq(remit_835_read_mem(buf, (size_t)(cut - buf), "cut", &ev, on_diag, g, &st, &err),
                 CH_OK, "%s", err.msg);
    cr_assert_eq(g->nclaims, 3);
    cr_assert_eq(g->nend, 1);
    cr_assert(!g->pay[0].complete);
    cr_assert(!g->pay[0].balanced, "230 paid by BPR, 30 + 150 read");
    cr_assert(strstr(g->diags, "835.set.unterminated"), "%s", g->diags);
    free(buf);
    free(g);
}

Test(remit_835, memory_is_bounded_per_claim)
{
    /* one claim with 1,100 lines: 999 are kept, the rest dropped and flagged */
    size_t cap = 200000, o = 0;
    char *b = malloc(cap);
    o += (size_t)snprintf(b + o, cap - o,
                          "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
                          "*261123*1200*^*00501*000000001*0*T*:~GS*HP*S*R*20261123*1200*1*X*005010X221A1~"
                          "ST*835*0001~BPR*I*1100*C*CHK************20261123~TRN*1*T1*1999999999~"
                          "N1*PR*P~N1*PE*E*XX*1234567893~LX*1~CLP*BIG*1*1100*1100**12*X*11*1~");
    for (int i = 0; i < 1100; i++)
        o += (size_t)snprintf(b + o, cap - o, "SVC*HC:99211*1*1**1~");
    o += (size_t)snprintf(b + o, cap - o, "SE*1108*0001~GE*1*1~IEA*1*000000001~");
    got *g = calloc(1, sizeof *g);
    remit_835_events ev = EV;
    ev.ctx = g;
    remit_835_stats st;
    cr_assert_eq(remit_835_read_mem(b, o, "big", &ev, on_diag, g, &st, NULL), CH_OK);
    cr_assert_eq(g->nclaims, 1);
    cr_assert_eq(g->c[0].nlines, REMIT_MAX_LINES);
    cr_assert(g->c[0].truncated);
    cr_assert(strstr(g->diags, "835.limit.lines"), "%s", g->diags);
    free(b);
    free(g);
}

Test(remit_835, other_transaction_sets_are_skipped)
{
    const char *x = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
                    "*261123*1200*^*00501*000000001*0*T*:~GS*HN*S*R*20261123*1200*1*X*005010X214~"
                    "ST*277*0001~CLP*NOT*1*1*1~SE*3*0001~GE*1*1~IEA*1*000000001~";
    got *g = calloc(1, sizeof *g);
    remit_835_events ev = EV;
    ev.ctx = g;
    remit_835_stats st;
    cr_assert_eq(remit_835_read_mem(x, strlen(x), "277", &ev, on_diag, g, &st, NULL), CH_OK);
    cr_assert_eq(st.claims, 0);
    cr_assert_eq(st.payments, 0);
    cr_assert(strstr(g->diags, "835.set.other"), "%s", g->diags);
    free(g);
}
