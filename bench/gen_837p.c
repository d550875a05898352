/*
 * gen_837p - deterministic generator of large, valid synthetic 837P
 * (005010X222A1) interchanges for benchmarks.
 *
 *   gen_837p [--claims N | --bytes N] [--seed S] [--pcn-prefix P]
 *            [--icn N] [--production] [-o FILE]
 *
 * One ISA/GS; a new ST every 5,000 claims.  Same arguments, same bytes.
 * Claim k (CLM01 = <prefix><k as 9 digits>) carries the same patient, lines
 * and charges as CLP k of `gen_835` run with the same --seed / --pcn-prefix.
 */
#include "gen_common.h"

#define CLAIMS_PER_ST 5000u

static const char usage_text[] =
    "usage: gen_837p [--claims N | --bytes N] [--seed S] [--pcn-prefix P]\n"
    "                [--icn N] [--production] [-o FILE]\n"
    "  --claims N      number of claims (default 1000)\n"
    "  --bytes N       add claims until the file is at least N bytes\n"
    "                  (K/M/G suffix = x1024), then close the envelopes\n"
    "  --seed S        PRNG seed (default 1); same arguments, same output\n"
    "  --pcn-prefix P  CLM01 = P + 9-digit claim number (default PCN)\n"
    "  --icn N         ISA13 / GS06 control number (default 1)\n"
    "  --production    ISA15 = P (default T)\n"
    "  -o FILE         output file (default stdout)\n";

#define SUBMITTER_ID "SUBMIT001"
#define RECEIVER_ID "RECV001"

typedef struct gen837 {
    xw w;
    const gen_opts *o;
    uint64_t st_count;   /* transaction sets started */
    uint64_t hl;         /* last HL01 in the current ST */
    uint64_t prov_hl;    /* HL01 of the current billing provider */
    unsigned st_claims;  /* claims in the current ST */
    int st_open;
} gen837;

static void open_st(gen837 *g)
{
    xw *w = &g->w;
    g->st_count++;
    g->hl = 0;
    g->prov_hl = 0;
    g->st_claims = 0;
    g->st_open = 1;
    xw_take_segs(w); /* SE01 counts from ST */

    xw_seg(w, "ST*837*");
    xw_upad(w, g->st_count, 4);
    xw_e(w, "005010X222A1");
    xw_end(w);

    xw_seg(w, "BHT*0019*00*B");
    xw_upad(w, g->o->icn, 9);
    xw_ch(w, '-');
    xw_upad(w, g->st_count, 4);
    xw_e(w, GEN_DATE);
    xw_e(w, GEN_TIME);
    xw_e(w, "CH");
    xw_end(w);

    /* 1000A submitter, 1000B receiver */
    xw_line(w, "NM1*41*2*SYNTHETIC BILLING SERVICE*****46*" SUBMITTER_ID);
    xw_line(w, "PER*IC*EDI SUPPORT*TE*5555550100");
    xw_line(w, "NM1*40*2*SYNTHETIC CLEARINGHOUSE*****46*" RECEIVER_ID);
}

static void close_st(gen837 *g)
{
    xw *w = &g->w;
    uint64_t n = xw_take_segs(w) + 1;
    xw_seg(w, "SE");
    xw_eu(w, n);
    xw_ch(w, '*');
    xw_upad(w, g->st_count, 4);
    xw_end(w);
    g->st_open = 0;
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

/* 2000A / 2010AA */
static void write_provider(gen837 *g, const gen_provider *p)
{
    xw *w = &g->w;
    g->prov_hl = ++g->hl;
    xw_seg(w, "HL");
    xw_eu(w, g->prov_hl);
    xw_skip(w, 1);
    xw_e(w, "20*1");
    xw_end(w);

    xw_seg(w, "PRV*BI*PXC");
    xw_e(w, p->taxonomy);
    xw_end(w);

    xw_seg(w, "NM1*85*2");
    xw_e(w, p->name);
    xw_s(w, "*****XX");
    xw_e(w, p->npi);
    xw_end(w);
    write_addr(w, &p->addr);
    xw_seg(w, "REF*EI");
    xw_e(w, p->ein);
    xw_end(w);
}

/* 2000B / 2010BA / 2010BB (subscriber is the patient) */
static void write_subscriber(gen837 *g, const gen_subscriber *s)
{
    xw *w = &g->w;
    xw_seg(w, "HL");
    xw_eu(w, ++g->hl);
    xw_eu(w, g->prov_hl);
    xw_e(w, "22*0");
    xw_end(w);

    xw_seg(w, "SBR*P*18");
    xw_e(w, s->group);
    xw_s(w, "******CI");
    xw_end(w);

    xw_seg(w, "NM1*IL*1");
    xw_e(w, s->last);
    xw_e(w, s->first);
    xw_s(w, "****MI");
    xw_e(w, s->member_id);
    xw_end(w);
    write_addr(w, &s->addr);
    xw_seg(w, "DMG*D8");
    xw_ed(w, s->dob);
    xw_ch(w, '*');
    xw_ch(w, s->sex);
    xw_end(w);

    xw_seg(w, "NM1*PR*2");
    xw_e(w, s->payer.name);
    xw_s(w, "*****PI");
    xw_e(w, s->payer.id);
    xw_end(w);
}

/* 2300 / 2400 */
static void write_claim(gen837 *g, const gen_claim *c)
{
    xw *w = &g->w;
    xw_seg(w, "CLM");
    xw_e(w, g->o->pcn_prefix);
    xw_upad(w, c->seq, 9);
    xw_em(w, c->total);
    xw_s(w, "***11:B:1*Y*A*Y*Y");
    xw_end(w);

    xw_seg(w, "HI*ABK:");
    xw_s(w, c->dx[0]);
    for (unsigned i = 1; i < c->ndx; i++) {
        xw_s(w, "*ABF:"); /* each diagnosis is its own HI element */
        xw_s(w, c->dx[i]);
    }
    xw_end(w);

    for (unsigned i = 0; i < c->nlines; i++) {
        const gen_line *l = &c->lines[i];
        xw_seg(w, "LX");
        xw_eu(w, i + 1);
        xw_end(w);

        xw_seg(w, "SV1*HC:");
        xw_s(w, l->proc);
        xw_em(w, l->charge);
        xw_s(w, "*UN");
        xw_eu(w, l->units);
        xw_s(w, l->dx_ptr == 1 ? "***1" : "***1:2");
        xw_end(w);

        xw_seg(w, "DTP*472*D8");
        xw_ed(w, l->date);
        xw_end(w);
    }
}

int main(int argc, char **argv)
{
    gen_opts o;
    gen837 g;
    gen_stream st;
    gen_claim c;

    gen_parse_args(argc, argv, &o, usage_text, 1000);
    memset(&g, 0, sizeof g);
    g.o = &o;
    xw_init(&g.w, gen_open_out(argv[0], o.out), (size_t)8 << 20);
    gen_stream_init(&st, o.seed);

    xw_isa(&g.w, SUBMITTER_ID, RECEIVER_ID, GEN_ISA_DATE, GEN_TIME, o.icn, o.usage);
    xw_seg(&g.w, "GS*HC*" SUBMITTER_ID "*" RECEIVER_ID "*" GEN_DATE "*" GEN_TIME);
    xw_eu(&g.w, o.icn);
    xw_s(&g.w, "*X*005010X222A1");
    xw_end(&g.w);

    while (!gen_done(&o, st.seq + 1, xw_bytes(&g.w))) {
        int fresh = 0;
        gen_stream_next(&st, &c);
        if (!g.st_open || g.st_claims >= CLAIMS_PER_ST) {
            if (g.st_open)
                close_st(&g);
            open_st(&g);
            fresh = 1; /* hierarchy restarts: repeat provider and subscriber */
        }
        if (fresh || c.new_provider)
            write_provider(&g, &st.prov);
        if (fresh || c.new_provider || c.new_subscriber)
            write_subscriber(&g, &st.sub);
        write_claim(&g, &c);
        g.st_claims++;
    }
    close_st(&g);

    xw_seg(&g.w, "GE");
    xw_eu(&g.w, g.st_count);
    xw_eu(&g.w, o.icn);
    xw_end(&g.w);
    xw_seg(&g.w, "IEA*1*");
    xw_upad(&g.w, o.icn, 9);
    xw_end(&g.w);

    xw_close(&g.w);
    return 0;
}
