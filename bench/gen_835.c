/*
 * gen_835 - deterministic generator of large, valid synthetic 835
 * (005010X221A1) interchanges for benchmarks.
 *
 *   gen_835 [--claims N | --bytes N] [--seed S] [--pcn-prefix P]
 *           [--icn N] [--production] [-o FILE]
 *
 * One ISA/GS; a new ST every 10,000 claims, each with its own BPR/TRN.
 * Every ST balances:
 *   BPR02            = sum(CLP04) - sum(PLB amounts)
 *   CLP03 - CLP04    = sum(claim CAS) + sum(line CAS)
 *   SVC02 - SVC03    = sum(line CAS);  CLP03 = sum(SVC02)
 *   CLP05            = sum(all PR adjustments)
 * CLP01 = <prefix><k as 9 digits>, k = 1..N; with the same --seed and
 * --pcn-prefix, CLP k pays CLM k of `gen_837p` (same charge, lines, patient).
 */
#include "gen_common.h"

#define CLAIMS_PER_ST 10000u

static const char usage_text[] =
    "usage: gen_835 [--claims N | --bytes N] [--seed S] [--pcn-prefix P]\n"
    "               [--icn N] [--production] [-o FILE]\n"
    "  --claims N      number of claims (default 1000)\n"
    "  --bytes N       add claims until the file is at least N bytes\n"
    "                  (K/M/G suffix = x1024), then close the envelopes\n"
    "  --seed S        PRNG seed (default 1); same arguments, same output\n"
    "  --pcn-prefix P  CLP01 = P + 9-digit claim number 1..N (default PCN)\n"
    "  --icn N         ISA13 / GS06 control number (default 1)\n"
    "  --production    ISA15 = P (default T)\n"
    "  -o FILE         output file (default stdout)\n";

#define RECEIVER_ID "RECV001"

typedef struct gen835 {
    xw w;                 /* the output */
    xw body;              /* claims of the current ST (BPR needs their total) */
    const gen_opts *o;
    char tag[9];          /* 8 digits from seed/icn/prefix: unique traces */
    /* per file: payer and payee */
    gen_payer payer;
    gen_addr payer_addr;
    char payer_ein[10];
    char payer_aba[10], payer_acct[13];
    gen_provider payee;
    char payee_aba[10], payee_acct[13];
    /* per ST */
    uint64_t st_count;
    unsigned st_claims;
    int64_t st_paid;      /* sum of CLP04 */
} gen835;

static void write_cas(xw *w, const char *group, const char *r1, int64_t a1, const char *r2, int64_t a2)
{
    if (a1 <= 0 && a2 <= 0)
        return;
    xw_seg(w, "CAS");
    xw_e(w, group);
    if (a1 > 0) {
        xw_e(w, r1);
        xw_em(w, a1);
        if (a2 > 0)
            xw_ch(w, '*');
    }
    if (a2 > 0) {
        xw_e(w, r2);
        xw_em(w, a2);
    }
    xw_end(w);
}

/* adjudicate claim c and write its 2100/2110 loops to the ST body */
static void write_claim(gen835 *g, const gen_claim *c, const gen_subscriber *s)
{
    struct {
        int64_t paid, co, oa, ded, coins;
    } adj[GEN_MAX_LINES];
    rng r;
    unsigned status, u;
    int64_t lines_paid = 0, pr = 0, claim_co = 0, clp04;
    xw *w = &g->body;

    rng_init(&r, g->o->seed, RS_ADJUD, c->seq);
    u = rng_below(&r, 100);
    status = u < 80 ? 1 : u < 90 ? 2 : 4; /* primary, secondary, denied */

    for (unsigned i = 0; i < c->nlines; i++) {
        int64_t charge = c->lines[i].charge, allowed, rem;
        memset(&adj[i], 0, sizeof adj[i]);
        if (status == 4) {
            adj[i].co = charge; /* CO 50: not medically necessary */
            continue;
        }
        allowed = charge * rng_range(&r, 55, 90) / 100;
        adj[i].co = charge - allowed;               /* CO 45 */
        if (status == 1) {
            if (rng_pct(&r, 35)) {                  /* PR 1 deductible */
                adj[i].ded = rng_range(&r, 500, 5000);
                if (adj[i].ded > allowed)
                    adj[i].ded = allowed;
            }
        } else {
            adj[i].oa = allowed * rng_range(&r, 50, 80) / 100; /* OA 23 prior payer */
        }
        rem = allowed - adj[i].ded - adj[i].oa;
        if (rng_pct(&r, 40))
            adj[i].coins = rem * 20 / 100;          /* PR 2 coinsurance */
        adj[i].paid = rem - adj[i].coins;
        lines_paid += adj[i].paid;
        pr += adj[i].ded + adj[i].coins;
    }
    /* claim-level CO 253 (sequestration, 2%) on some paid claims */
    if (status != 4 && lines_paid >= 100 && rng_pct(&r, 15))
        claim_co = lines_paid * 2 / 100;
    clp04 = lines_paid - claim_co;
    g->st_paid += clp04;

    xw_seg(w, "CLP");
    xw_e(w, g->o->pcn_prefix);
    xw_upad(w, c->seq, 9);
    xw_eu(w, status);
    xw_em(w, c->total);
    xw_em(w, clp04);
    xw_ch(w, '*');
    if (pr > 0)
        xw_money(w, pr);
    xw_s(w, "*12*");
    xw_s(w, g->tag);
    xw_upad(w, c->seq, 9);
    xw_s(w, "*11*1");
    xw_end(w);

    write_cas(w, "CO", "253", claim_co, NULL, 0);

    xw_seg(w, "NM1*QC*1");
    xw_e(w, s->last);
    xw_e(w, s->first);
    xw_s(w, "****MI");
    xw_e(w, s->member_id);
    xw_end(w);

    xw_seg(w, "DTM*232");
    xw_ed(w, c->first_date);
    xw_end(w);

    for (unsigned i = 0; i < c->nlines; i++) {
        const gen_line *l = &c->lines[i];
        xw_seg(w, "SVC*HC:");
        xw_s(w, l->proc);
        xw_em(w, l->charge);
        xw_em(w, adj[i].paid);
        xw_skip(w, 1);
        xw_eu(w, l->units);
        xw_end(w);

        xw_seg(w, "DTM*472");
        xw_ed(w, l->date);
        xw_end(w);

        if (status == 4) {
            write_cas(w, "CO", "50", adj[i].co, NULL, 0);
        } else {
            write_cas(w, "CO", "45", adj[i].co, NULL, 0);
            write_cas(w, "OA", "23", adj[i].oa, NULL, 0);
            write_cas(w, "PR", "1", adj[i].ded, "2", adj[i].coins);
        }
    }
}

static void write_addr(xw *w, const gen_addr *a)
{
    xw_seg(w, "N3");
    xw_e(w, a->street);
    xw_end(w);
    xw_seg(w, "N4");
    xw_e(w, a->city);
    xw_e(w, a->state);
    xw_e(w, a->zip);
    xw_end(w);
}

/* write header + buffered claims + PLB + SE of one transaction set */
static void flush_st(gen835 *g)
{
    xw *w = &g->w;
    rng r;
    int64_t wo = 0, interest = 0, total;
    int check;

    g->st_count++;
    rng_init(&r, g->o->seed, RS_ST, g->st_count);
    /* provider-level adjustments: overpayment recovery and/or interest */
    if (g->st_paid >= 2000 && rng_pct(&r, 50)) {
        wo = rng_range(&r, 1000, 50000);
        if (wo > g->st_paid / 20)
            wo = g->st_paid / 20;
    }
    if (rng_pct(&r, 30))
        interest = rng_range(&r, 1, 2000);
    total = g->st_paid - wo + interest;
    check = rng_pct(&r, 20);

    xw_take_segs(w);
    xw_seg(w, "ST*835*");
    xw_upad(w, g->st_count, 4);
    xw_end(w);

    xw_seg(w, "BPR");
    if (total == 0) {
        xw_s(w, "*H*0*C*NON");
        xw_skip(w, 11);
    } else if (check) {
        xw_s(w, "*I");
        xw_em(w, total);
        xw_s(w, "*C*CHK");
        xw_skip(w, 11);
    } else {
        xw_s(w, "*I");
        xw_em(w, total);
        xw_s(w, "*C*ACH*CCP*01");
        xw_e(w, g->payer_aba);
        xw_e(w, "DA");
        xw_e(w, g->payer_acct);
        xw_s(w, "*1");
        xw_s(w, g->payer_ein);
        xw_s(w, "**01");
        xw_e(w, g->payee_aba);
        xw_e(w, "DA");
        xw_e(w, g->payee_acct);
    }
    xw_e(w, GEN_PAY_DATE);
    xw_end(w);

    xw_seg(w, "TRN*1*");
    xw_s(w, g->tag);
    xw_upad(w, g->st_count, 6);
    xw_s(w, "*1");
    xw_s(w, g->payer_ein);
    xw_end(w);

    xw_line(w, "DTM*405*" GEN_DATE);

    /* 1000A payer */
    xw_seg(w, "N1*PR");
    xw_e(w, g->payer.name);
    xw_end(w);
    write_addr(w, &g->payer_addr);
    xw_line(w, "PER*BL*EDI TECHNICAL SUPPORT*TE*8005550199");

    /* 1000B payee */
    xw_seg(w, "N1*PE");
    xw_e(w, g->payee.name);
    xw_e(w, "XX");
    xw_e(w, g->payee.npi);
    xw_end(w);
    write_addr(w, &g->payee.addr);
    xw_seg(w, "REF*TJ");
    xw_e(w, g->payee.ein);
    xw_end(w);

    xw_line(w, "LX*1");
    xw_append(w, &g->body);

    if (wo > 0 || interest > 0) {
        xw_seg(w, "PLB");
        xw_e(w, g->payee.npi);
        xw_e(w, GEN_FISCAL_END);
        if (wo > 0) {
            xw_s(w, "*WO:RCP");
            xw_s(w, g->tag);
            xw_upad(w, g->st_count, 6);
            xw_em(w, wo);
        }
        if (interest > 0) {
            xw_s(w, "*L6:INT");
            xw_s(w, g->tag);
            xw_upad(w, g->st_count, 6);
            xw_em(w, -interest);
        }
        xw_end(w);
    }

    uint64_t n = xw_take_segs(w) + 1;
    xw_seg(w, "SE");
    xw_eu(w, n);
    xw_ch(w, '*');
    xw_upad(w, g->st_count, 4);
    xw_end(w);

    g->st_claims = 0;
    g->st_paid = 0;
}

static void setup_parties(gen835 *g)
{
    rng r;
    uint64_t h = g->o->seed ^ (g->o->icn << 32);
    for (const char *p = g->o->pcn_prefix; *p; p++)
        h = (h ^ (unsigned char)*p) * UINT64_C(0x100000001B3);
    snprintf(g->tag, sizeof g->tag, "%08u", (unsigned)(splitmix64(&h) % 100000000u));

    rng_init(&r, g->o->seed, RS_FILE, 0);
    g->payer = gen_pick_payer(&r);
    gen_make_addr(&r, &g->payer_addr, 0);
    make_digits(&r, g->payer_ein, 9);
    make_aba(&r, g->payer_aba);
    make_digits(&r, g->payer_acct, 10);
    gen_make_provider(&r, &g->payee);
    make_aba(&r, g->payee_aba);
    make_digits(&r, g->payee_acct, 12);
}

int main(int argc, char **argv)
{
    gen_opts o;
    gen835 g;
    gen_stream st;
    gen_claim c;

    gen_parse_args(argc, argv, &o, usage_text, 1000);
    memset(&g, 0, sizeof g);
    g.o = &o;
    xw_init(&g.w, gen_open_out(argv[0], o.out), (size_t)8 << 20);
    xw_init(&g.body, NULL, (size_t)4 << 20);
    setup_parties(&g);
    gen_stream_init(&st, o.seed);

    xw_isa(&g.w, g.payer.id, RECEIVER_ID, GEN_ISA_DATE, GEN_TIME, o.icn, o.usage);
    xw_seg(&g.w, "GS*HP");
    xw_e(&g.w, g.payer.id);
    xw_s(&g.w, "*" RECEIVER_ID "*" GEN_DATE "*" GEN_TIME);
    xw_eu(&g.w, o.icn);
    xw_s(&g.w, "*X*005010X221A1");
    xw_end(&g.w);

    while (!gen_done(&o, st.seq + 1, xw_bytes(&g.w) + g.body.len)) {
        gen_stream_next(&st, &c);
        if (g.st_claims >= CLAIMS_PER_ST)
            flush_st(&g);
        write_claim(&g, &c, &st.sub);
        g.st_claims++;
    }
    flush_st(&g);

    xw_seg(&g.w, "GE");
    xw_eu(&g.w, g.st_count);
    xw_eu(&g.w, o.icn);
    xw_end(&g.w);
    xw_seg(&g.w, "IEA*1*");
    xw_upad(&g.w, o.icn, 9);
    xw_end(&g.w);

    xw_close(&g.w);
    free(g.body.buf);
    return 0;
}
