/*
 * gen_encounters.c - synthetic encounter documents for the pipeline benchmark.
 *
 *   gen_encounters --count N --out DIR [--seed S] [--payer P] [--format yaml|json]
 *                  [--prefix ID]
 *
 * Writes N professional encounters, one per file, into DIR (an inbound
 * directory such as spool/inbound/riverside).  Each file is written under a
 * temporary name (".NAME.tmp") and renamed into place, the way a practice
 * system is asked to drop files, so the engine could run while they are made.
 *
 * The content comes from the claim model shared with the X12 generators
 * (gen_common.h): encounter k of seed S is always the same (subscriber,
 * diagnoses, service lines, charges, dates), so runs are comparable.  Every
 * encounter is valid for the shipped configuration (practice riverside,
 * payer demo by default).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen_common.h"

static const char usage[] =
    "usage: gen_encounters --count N --out DIR [--seed S] [--payer P] [--format yaml|json] [--prefix ID]\n"
    "  N encounters, one file each, written to DIR by temporary name and renamed into place.\n";

typedef struct opts {
    uint64_t count, seed;
    const char *out, *payer, *format, *prefix;
} opts;

static void die(const char *what)
{
    fprintf(stderr, "gen_encounters: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->payer = "demo";
    o->format = "yaml";
    o->prefix = "BENCH";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            exit(0);
        } else if (!strcmp(a, "--count") && v) {
            o->count = gen_parse_num(argv[0], a, v, 1);
            i++;
        } else if (!strcmp(a, "--seed") && v) {
            o->seed = gen_parse_num(argv[0], a, v, 0);
            i++;
        } else if (!strcmp(a, "--out") && v) {
            o->out = v;
            i++;
        } else if (!strcmp(a, "--payer") && v) {
            o->payer = v;
            i++;
        } else if (!strcmp(a, "--format") && v && (!strcmp(v, "yaml") || !strcmp(v, "json"))) {
            o->format = v;
            i++;
        } else if (!strcmp(a, "--prefix") && v) {
            o->prefix = v;
            i++;
        } else {
            fprintf(stderr, "gen_encounters: bad argument '%s'\n%s", a, usage);
            exit(2);
        }
    }
    if (!o->count || !o->out) {
        fputs(usage, stderr);
        exit(2);
    }
}

/* "YYYY-MM-DD" (years 1000..9999) */
static void iso(int32_t days, char out[11])
{
    int32_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, m % 100u, d % 100u);
}

static const char *const doctors[][2] = {{"SMITH", "ANNA"},  {"PATEL", "NINA"},   {"OKAFOR", "CHIDI"},
                                         {"BERG", "LARS"},   {"NGUYEN", "LINH"},  {"GARCIA", "ELENA"},
                                         {"COHEN", "DAVID"}, {"MORRIS", "KAREN"}};

/* One encounter as YAML or JSON text. */
static int render(char *buf, size_t size, const opts *o, const gen_claim *c, const gen_subscriber *s,
                  const char *rendering_npi, const char *const doctor[2])
{
    int json = !strcmp(o->format, "json");
    char dob[11], money[MONEY_BUF_MAX];
    iso(s->dob, dob);
    size_t n = 0;
#define PUT(...) n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__)
    if (json) {
        PUT("{\"encounter_id\": \"%s-%09llu\", \"payer\": \"%s\", \"claim_type\": \"professional\", "
            "\"place_of_service\": \"11\",\n",
            o->prefix, (unsigned long long)c->seq, o->payer);
        PUT(" \"subscriber\": {\"member_id\": \"%s\", \"group_number\": \"%s\", \"last_name\": \"%s\", "
            "\"first_name\": \"%s\", \"birth_date\": \"%s\", \"sex\": \"%c\",\n"
            "  \"address\": {\"line1\": \"%s\", \"city\": \"%s\", \"state\": \"%s\", \"zip\": \"%s\"}},\n",
            s->member_id, s->group, s->last, s->first, dob, s->sex, s->addr.street, s->addr.city, s->addr.state,
            s->addr.zip);
        PUT(" \"providers\": {\"rendering\": {\"npi\": \"%s\", \"last_name\": \"%s\", \"first_name\": \"%s\"}},\n",
            rendering_npi, doctor[0], doctor[1]);
        PUT(" \"diagnoses\": [");
        for (unsigned i = 0; i < c->ndx; i++)
            PUT("%s\"%s\"", i ? ", " : "", c->dx[i]);
        PUT("],\n \"lines\": [\n");
        for (unsigned i = 0; i < c->nlines; i++) {
            const gen_line *l = &c->lines[i];
            char date[11];
            iso(l->date, date);
            money_fmt(money, l->charge);
            PUT("  {\"procedure\": \"%s\", \"units\": %u, \"charge\": \"%s\", \"date\": \"%s\", "
                "\"diagnosis_pointers\": [%s]}%s\n",
                l->proc, l->units, money, date, l->dx_ptr == 1 ? "1" : "1, 2", i + 1 < c->nlines ? "," : "");
        }
        PUT(" ]\n}\n");
    } else {
        PUT("encounter_id: %s-%09llu\npayer: %s\nclaim_type: professional\nplace_of_service: \"11\"\n", o->prefix,
            (unsigned long long)c->seq, o->payer);
        PUT("subscriber:\n  member_id: %s\n  group_number: %s\n  last_name: %s\n  first_name: %s\n"
            "  birth_date: %s\n  sex: %c\n  address:\n    line1: %s\n    city: %s\n    state: %s\n"
            "    zip: \"%s\"\n",
            s->member_id, s->group, s->last, s->first, dob, s->sex, s->addr.street, s->addr.city, s->addr.state,
            s->addr.zip);
        PUT("providers:\n  rendering: {npi: \"%s\", last_name: %s, first_name: %s}\n", rendering_npi, doctor[0],
            doctor[1]);
        PUT("diagnoses: [");
        for (unsigned i = 0; i < c->ndx; i++)
            PUT("%s%s", i ? ", " : "", c->dx[i]);
        PUT("]\nlines:\n");
        for (unsigned i = 0; i < c->nlines; i++) {
            const gen_line *l = &c->lines[i];
            char date[11];
            iso(l->date, date);
            money_fmt(money, l->charge);
            PUT("  - procedure: \"%s\"\n    units: %u\n    charge: \"%s\"\n    date: %s\n"
                "    diagnosis_pointers: [%s]\n",
                l->proc, l->units, money, date, l->dx_ptr == 1 ? "1" : "1, 2");
        }
    }
#undef PUT
    return n < size ? (int)n : -1;
}

int main(int argc, char **argv)
{
    opts o;
    parse(argc, argv, &o);
    if (mkdir(o.out, 0700) < 0 && errno != EEXIST)
        die(o.out);
    gen_stream st;
    gen_stream_init(&st, o.seed);
    char buf[16384];
    char tmp[4096], dst[4096];
    const char *ext = !strcmp(o.format, "json") ? "json" : "yaml";
    for (uint64_t k = 1; k <= o.count; k++) {
        gen_claim c;
        gen_stream_next(&st, &c);
        rng r;
        rng_init(&r, o.seed, RS_FILE, k);
        const char *const *doctor = doctors[rng_below(&r, (uint32_t)ARRAY_LEN(doctors))];
        int n = render(buf, sizeof buf, &o, &c, &st.sub, st.prov.npi, doctor);
        if (n < 0) {
            fprintf(stderr, "gen_encounters: encounter %llu too large\n", (unsigned long long)k);
            return 1;
        }
        snprintf(tmp, sizeof tmp, "%s/.enc-%09llu.%s.tmp", o.out, (unsigned long long)k, ext);
        snprintf(dst, sizeof dst, "%s/enc-%09llu.%s", o.out, (unsigned long long)k, ext);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0)
            die(tmp);
        if (write(fd, buf, (size_t)n) != n)
            die(tmp);
        if (close(fd) < 0)
            die(tmp);
        if (rename(tmp, dst) < 0)
            die(dst);
    }
    return 0;
}
