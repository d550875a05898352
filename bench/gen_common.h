/*
 * gen_common.h - shared pieces of the synthetic X12 generators
 * (gen_837p.c, gen_835.c, gen_encounters.c, seed_ledger.c).  Header-only,
 * everything static inline.  The PRNG, dates and check digits are in
 * gen_rand.h, the segment writer in gen_writer.h; here:
 *
 *   - the shared claim model: claim number k of seed S (patient, billing
 *     provider, service lines, charges, dates) is the same in gen_837p and
 *     gen_835, so an 835 made with the same --seed and --pcn-prefix pays
 *     exactly the claims of the 837 (same CLM01/CLP01, CLM02/CLP03, lines).
 *   - command-line parsing common to both programs
 */
#ifndef BENCH_GEN_COMMON_H
#define BENCH_GEN_COMMON_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_rand.h"
#include "gen_writer.h"
#include "money.h"

/* ------------------------------------------------------------------ */
/* Fixed interchange dates (output must not depend on the clock)       */
/* ------------------------------------------------------------------ */

#define GEN_ISA_DATE "250115"     /* ISA09 YYMMDD */
#define GEN_DATE "20250115"       /* GS04, BHT04, DTM*405 */
#define GEN_TIME "1200"
#define GEN_PAY_DATE "20250117"   /* BPR16 */
#define GEN_FISCAL_END "20251231" /* PLB02 */

/* ------------------------------------------------------------------ */
/* Shared claim model                                                  */
/* ------------------------------------------------------------------ */

typedef struct gen_addr {
    char street[48];
    const char *city;
    const char *state;
    char zip[10]; /* 5 or 9 digits */
} gen_addr;

typedef struct gen_provider {
    char name[60];
    char npi[11];
    char ein[10];
    const char *taxonomy;
    gen_addr addr;
} gen_provider;

typedef struct gen_payer {
    const char *name;
    const char *id;
} gen_payer;

typedef struct gen_subscriber {
    const char *last;
    const char *first;
    char member_id[16];
    char group[12];
    int32_t dob;
    char sex; /* 'F' or 'M' */
    gen_payer payer;
    gen_addr addr;
} gen_subscriber;

typedef struct gen_line {
    const char *proc;    /* CPT / HCPCS */
    int64_t charge;      /* cents, line total (unit price * units) */
    unsigned units;
    int32_t date;        /* day number */
    unsigned dx_ptr;     /* 1 or 2 pointers ("1" / "1:2") */
} gen_line;

#define GEN_MAX_LINES 4
#define GEN_MAX_DX 3

typedef struct gen_claim {
    uint64_t seq;        /* 1-based claim number */
    int new_provider;    /* billing provider changed with this claim */
    int new_subscriber;  /* subscriber changed with this claim */
    unsigned nlines;
    gen_line lines[GEN_MAX_LINES];
    unsigned ndx;
    const char *dx[GEN_MAX_DX];
    int64_t total;       /* cents, sum of line charges */
    int32_t first_date;  /* earliest line date */
} gen_claim;

typedef struct gen_stream {
    uint64_t seed;
    uint64_t seq;            /* last claim produced */
    unsigned claims_in_sub;
    gen_provider prov;
    gen_subscriber sub;
} gen_stream;

/* PRNG stream ids */
enum { RS_CLAIM = 1, RS_ADJUD = 2, RS_FILE = 3, RS_ST = 4 };

static inline void gen_make_addr(rng *r, gen_addr *a, int zip9)
{
    static const char *const streets[] = {
        "MAIN ST", "OAK AVE", "MAPLE DR", "CEDAR LN", "PARK BLVD", "ELM ST",
        "WASHINGTON AVE", "LAKE SHORE DR", "HILLCREST RD", "RIVER RD",
        "SUNSET BLVD", "PINE ST", "CHURCH ST", "MILL RD", "CENTER ST",
        "HIGHLAND AVE", "JEFFERSON ST", "FRANKLIN AVE", "BROADWAY", "MARKET ST"};
    /* city, state, first three ZIP digits */
    static const struct { const char *city, *state; unsigned zip3; } places[] = {
        {"SPRINGFIELD", "IL", 627}, {"COLUMBUS", "OH", 432}, {"AUSTIN", "TX", 787},
        {"DENVER", "CO", 802},      {"PORTLAND", "OR", 972}, {"RALEIGH", "NC", 276},
        {"NASHVILLE", "TN", 372},   {"MADISON", "WI", 537},  {"ALBANY", "NY", 122},
        {"SACRAMENTO", "CA", 958},  {"PHOENIX", "AZ", 850},  {"ATLANTA", "GA", 303},
        {"RICHMOND", "VA", 232},    {"BOISE", "ID", 837},    {"TRENTON", "NJ", 86},
        {"HARTFORD", "CT", 61},     {"TAMPA", "FL", 336},    {"OMAHA", "NE", 681},
        {"SAN JUAN", "PR", 9},      {"ANCHORAGE", "AK", 995}};
    unsigned p = rng_below(r, (uint32_t)ARRAY_LEN(places));
    unsigned no = 100 + rng_below(r, 9900);
    const char *street = PICK(r, streets);
    snprintf(a->street, sizeof a->street, "%u %s", no, street);
    a->city = places[p].city;
    a->state = places[p].state;
    snprintf(a->zip, sizeof a->zip, "%03u%02u", places[p].zip3, rng_below(r, 100));
    if (zip9)
        snprintf(a->zip + 5, sizeof a->zip - 5, "%04u", 1 + rng_below(r, 9999));
}

static inline void gen_make_provider(rng *r, gen_provider *p)
{
    static const char *const stems[] = {
        "RIVERSIDE", "LAKEVIEW", "SUMMIT", "MAPLEWOOD", "NORTHGATE", "BRIGHTON",
        "CEDAR HILL", "GREENFIELD", "HARBOR", "WESTBROOK", "PINECREST", "FAIRVIEW"};
    static const char *const kinds[] = {
        "FAMILY MEDICINE", "MEDICAL GROUP", "INTERNAL MEDICINE", "PRIMARY CARE",
        "HEALTH CENTER", "PHYSICIANS PC", "CLINIC", "PEDIATRICS"};
    static const char *const taxonomies[] = {
        "207Q00000X", "207R00000X", "208D00000X", "208000000X", "261QP2300X",
        "363LF0000X", "207RC0000X", "225100000X"};
    const char *stem = PICK(r, stems);
    const char *kind = PICK(r, kinds);
    snprintf(p->name, sizeof p->name, "%s %s", stem, kind);
    make_npi(r, p->npi);
    make_digits(r, p->ein, 9);
    p->taxonomy = PICK(r, taxonomies);
    gen_make_addr(r, &p->addr, 1); /* billing provider: 9-digit ZIP required */
}

static inline gen_payer gen_pick_payer(rng *r)
{
    static const gen_payer payers[] = {
        {"ACME HEALTH PLAN", "ACM01"},      {"BLUE RIVER INSURANCE", "BRI22"},
        {"SUMMIT MUTUAL HEALTH", "SMH03"},  {"NORTHSTAR CARE", "NSC44"},
        {"PIONEER BENEFITS", "PBN05"},      {"GREAT LAKES HEALTH", "GLH66"},
        {"EVERGREEN ASSURANCE", "EVA07"},   {"LIBERTY MEDICAL PLAN", "LMP88"}};
    return PICK(r, payers);
}

static inline void gen_make_subscriber(rng *r, gen_subscriber *s)
{
    static const char *const lasts[] = {
        "SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER",
        "DAVIS", "RODRIGUEZ", "MARTINEZ", "HERNANDEZ", "LOPEZ", "GONZALEZ",
        "WILSON", "ANDERSON", "THOMAS", "TAYLOR", "MOORE", "JACKSON", "MARTIN",
        "LEE", "PEREZ", "THOMPSON", "WHITE", "HARRIS", "SANCHEZ", "CLARK",
        "RAMIREZ", "LEWIS", "ROBINSON", "WALKER", "YOUNG", "ALLEN", "KING",
        "WRIGHT", "SCOTT", "TORRES", "NGUYEN", "HILL", "FLORES", "O'BRIEN",
        "ST JAMES", "VAN DYKE", "MCALLISTER"};
    static const char *const ffirst[] = {
        "MARY", "PATRICIA", "JENNIFER", "LINDA", "ELIZABETH", "BARBARA", "SUSAN",
        "JESSICA", "SARAH", "KAREN", "NANCY", "LISA", "BETTY", "MARGARET",
        "SANDRA", "ASHLEY", "EMILY", "DONNA", "MICHELLE", "ANNA"};
    static const char *const mfirst[] = {
        "JAMES", "ROBERT", "JOHN", "MICHAEL", "DAVID", "WILLIAM", "RICHARD",
        "JOSEPH", "THOMAS", "CHARLES", "CHRISTOPHER", "DANIEL", "MATTHEW",
        "ANTHONY", "MARK", "DONALD", "STEVEN", "PAUL", "ANDREW", "JOSHUA"};
    s->last = PICK(r, lasts);
    s->sex = rng_pct(r, 52) ? 'F' : 'M';
    s->first = s->sex == 'F' ? PICK(r, ffirst) : PICK(r, mfirst);
    s->member_id[0] = (char)('A' + rng_below(r, 26));
    s->member_id[1] = (char)('A' + rng_below(r, 26));
    s->member_id[2] = (char)('A' + rng_below(r, 26));
    make_digits(r, s->member_id + 3, 9);
    s->group[0] = 'G';
    make_digits(r, s->group + 1, 6);
    s->dob = days_from_civil(1935, 1, 1) + (int32_t)rng_below(r, 80u * 365u);
    s->payer = gen_pick_payer(r);
    gen_make_addr(r, &s->addr, rng_pct(r, 50));
}

/* Procedure codes with a typical unit price (cents) and max units. */
typedef struct gen_proc {
    const char *code;
    int64_t price;
    unsigned max_units;
} gen_proc;

static inline const gen_proc *gen_pick_proc(rng *r, int visit)
{
    static const gen_proc visits[] = {
        {"99212", 9000, 1},  {"99213", 12500, 1}, {"99214", 18500, 1},
        {"99215", 25000, 1}, {"99203", 16000, 1}, {"99204", 24000, 1},
        {"99396", 21000, 1}, {"G0439", 17500, 1}};
    static const gen_proc extras[] = {
        {"36415", 1500, 1},  {"80053", 4500, 1},  {"85025", 3500, 1},
        {"93000", 6500, 1},  {"71046", 9500, 1},  {"90471", 2800, 1},
        {"90686", 3200, 1},  {"97110", 4500, 4},  {"97140", 4200, 4},
        {"20610", 15000, 1}, {"81002", 1200, 1},  {"83036", 2400, 1},
        {"87880", 3000, 1},  {"96372", 4000, 2},  {"J3420", 2500, 1},
        {"3074F", 0, 1}};
    return visit ? &PICK(r, visits) : &PICK(r, extras);
}

static inline const char *gen_pick_dx(rng *r)
{
    static const char *const dx[] = {
        "I10", "E119", "E1165", "E785", "E039", "J069", "J449", "J45909",
        "K219", "K5900", "F419", "F329", "N390", "Z0000", "Z0001", "Z23",
        "Z1231", "M25561", "M1711", "R109", "R0600", "G4700", "E6601", "L309"};
    return PICK(r, dx);
}

static inline void gen_stream_init(gen_stream *st, uint64_t seed)
{
    memset(st, 0, sizeof *st);
    st->seed = seed;
}

/* Produce claim st->seq + 1.  Everything is drawn from a generator keyed by
 * (seed, claim number), so claim k is the same in every program. */
static inline void gen_stream_next(gen_stream *st, gen_claim *c)
{
    rng r;
    uint64_t k = ++st->seq;

    rng_init(&r, st->seed, RS_CLAIM, k);
    c->seq = k;
    /* structure: keep the subscriber (up to 3 claims) or start a new one;
     * a new subscriber sometimes comes with a new billing provider */
    c->new_subscriber = k == 1 || st->claims_in_sub >= 3 || !rng_pct(&r, 30);
    c->new_provider = k == 1 || (c->new_subscriber && rng_below(&r, 40) == 0);
    if (c->new_provider)
        gen_make_provider(&r, &st->prov);
    if (c->new_subscriber) {
        gen_make_subscriber(&r, &st->sub);
        st->claims_in_sub = 0;
    }
    st->claims_in_sub++;

    /* diagnoses: 2..3 distinct codes (principal ABK + ABF) */
    c->ndx = 2 + rng_below(&r, 2);
    for (unsigned i = 0; i < c->ndx; i++) {
        const char *d;
        unsigned j;
        do {
            d = gen_pick_dx(&r);
            for (j = 0; j < i && strcmp(c->dx[j], d) != 0; j++)
                ;
        } while (j < i);
        c->dx[i] = d;
    }

    /* service lines: an office visit plus 0..3 extras */
    int32_t dos = days_from_civil(2024, 1, 1) + (int32_t)rng_below(&r, 366);
    c->nlines = 1 + rng_below(&r, GEN_MAX_LINES);
    c->total = 0;
    c->first_date = dos;
    for (unsigned i = 0; i < c->nlines; i++) {
        gen_line *l = &c->lines[i];
        const gen_proc *p = gen_pick_proc(&r, i == 0);
        int64_t unit;
        unsigned shape = rng_below(&r, 4);
        /* unit price: 85%..125% of typical; whole dollars, .50, or any cents */
        unit = p->price * (int64_t)rng_range(&r, 85, 125) / 100;
        if (shape < 2)
            unit = unit / 100 * 100;
        else if (shape == 2)
            unit = unit / 50 * 50;
        if (unit <= 0)
            unit = 1 + rng_below(&r, 100); /* category II codes: token charge */
        l->proc = p->code;
        l->units = 1 + rng_below(&r, p->max_units);
        l->charge = unit * (int64_t)l->units;
        l->date = dos + (rng_pct(&r, 85) ? 0 : (int32_t)rng_below(&r, 3));
        l->dx_ptr = rng_pct(&r, 60) ? 1 : 2;
        c->total += l->charge;
    }
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */
/* ------------------------------------------------------------------ */

typedef struct gen_opts {
    uint64_t claims;      /* --claims N (0: use bytes) */
    uint64_t bytes;       /* --bytes N */
    uint64_t seed;        /* --seed S, default 1 */
    uint64_t icn;         /* --icn N, interchange/group control number, default 1 */
    const char *out;      /* -o FILE, NULL: stdout */
    const char *pcn_prefix; /* --pcn-prefix P, default "PCN" */
    char usage;           /* ISA15: 'T' default, 'P' with --production */
} gen_opts;

/* decimal number with optional K/M/G (x1024) suffix; exits on error */
static inline uint64_t gen_parse_num(const char *prog, const char *opt, const char *s, int suffix_ok)
{
    char *end;
    unsigned long long v;
    if (s == NULL || *s < '0' || *s > '9') {
        fprintf(stderr, "%s: %s needs a number\n", prog, opt);
        exit(2);
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0)
        goto bad;
    if (suffix_ok && *end != '\0' && end[1] == '\0') {
        unsigned shift = 0;
        switch (*end) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: goto bad;
        }
        if (v > (UINT64_MAX >> shift))
            goto bad;
        v <<= shift;
        end++;
    }
    if (*end != '\0')
        goto bad;
    return (uint64_t)v;
bad:
    fprintf(stderr, "%s: bad value for %s: '%s'\n", prog, opt, s);
    exit(2);
}

static inline int gen_valid_prefix(const char *p)
{
    size_t n = strlen(p);
    if (n > 11) /* + 9 digits must fit CLM01 (max 20) */
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

/* Parses the options both generators share.  usage_text is printed for
 * -h / --help and after errors. */
static inline void gen_parse_args(int argc, char **argv, gen_opts *o, const char *usage_text,
                                  uint64_t default_claims)
{
    const char *prog = argv[0];
    int have_claims = 0, have_bytes = 0;
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->icn = 1;
    o->pcn_prefix = "PCN";
    o->usage = 'T';
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            exit(0);
        } else if (strcmp(a, "--claims") == 0) {
            o->claims = gen_parse_num(prog, a, v, 1);
            have_claims = 1;
            i++;
        } else if (strcmp(a, "--bytes") == 0) {
            o->bytes = gen_parse_num(prog, a, v, 1);
            have_bytes = 1;
            i++;
        } else if (strcmp(a, "--seed") == 0) {
            o->seed = gen_parse_num(prog, a, v, 0);
            i++;
        } else if (strcmp(a, "--icn") == 0) {
            o->icn = gen_parse_num(prog, a, v, 0);
            if (o->icn == 0 || o->icn > 999999999u) {
                fprintf(stderr, "%s: --icn must be 1..999999999\n", prog);
                exit(2);
            }
            i++;
        } else if (strcmp(a, "--pcn-prefix") == 0) {
            if (v == NULL || !gen_valid_prefix(v)) {
                fprintf(stderr, "%s: --pcn-prefix: at most 11 of A-Z a-z 0-9 - .\n", prog);
                exit(2);
            }
            o->pcn_prefix = v;
            i++;
        } else if (strcmp(a, "--production") == 0) {
            o->usage = 'P';
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (v == NULL) {
                fprintf(stderr, "%s: %s needs a file name\n", prog, a);
                exit(2);
            }
            o->out = strcmp(v, "-") == 0 ? NULL : v;
            i++;
        } else {
            fprintf(stderr, "%s: unknown argument '%s'\n%s", prog, a, usage_text);
            exit(2);
        }
    }
    if (have_claims + have_bytes > 1 || (have_claims && o->claims == 0) || (have_bytes && o->bytes == 0)) {
        fprintf(stderr, "%s: give one of --claims N or --bytes N, with N > 0\n", prog);
        exit(2);
    }
    if (o->claims == 0 && o->bytes == 0)
        o->claims = default_claims;
    if (o->claims > UINT64_C(999999999)) {
        fprintf(stderr, "%s: at most 999999999 claims (9-digit sequence)\n", prog);
        exit(2);
    }
}

static inline FILE *gen_open_out(const char *prog, const char *path)
{
    if (path == NULL)
        return stdout;
    FILE *fp = fopen(path, "wb");
    if (fp == NULL) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        exit(1);
    }
    return fp;
}

/* stop before claim number next_seq? */
static inline int gen_done(const gen_opts *o, uint64_t next_seq, uint64_t bytes_so_far)
{
    if (o->claims != 0)
        return next_seq > o->claims;
    if (next_seq > UINT64_C(999999999))
        return 1;
    return next_seq > 1 && bytes_so_far >= o->bytes;
}

#endif /* BENCH_GEN_COMMON_H */
