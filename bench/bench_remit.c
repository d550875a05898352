/*
 * bench_remit.c - 835 reading (and matching) throughput and peak memory.
 *
 *   bench_remit [--match N] FILE|-
 *
 * Reads an 835 (make one with gen_835: `gen_835 --claims 100000 -o f.835`)
 * through the tokenizer, the envelope checker and the streaming 835 reader,
 * touching every claim, line and adjustment, and prints claims/s, MB/s and
 * peak RSS.  With --match N it also matches every claim against an in-memory
 * ledger of N open claims (PCN000000001 .. N, as gen_835 numbers them) with
 * the engine's matching driver, to show what the reading leaves for posting.
 * It generates nothing itself.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "match_rules.h"
#include "remit_835.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- a ledger of open claims: open addressing on the PCN ------------------- */

typedef struct ledger {
    claim_ref *claims;
    char (*pcn)[16];
    uint32_t *slots; /* index + 1, 0 empty */
    size_t nslots;
} ledger;

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static int ledger_build(ledger *l, size_t n)
{
    l->nslots = 1;
    while (l->nslots < n * 2)
        l->nslots <<= 1;
    l->claims = calloc(n, sizeof *l->claims);
    l->pcn = calloc(n, sizeof *l->pcn);
    l->slots = calloc(l->nslots, sizeof *l->slots);
    if (!l->claims || !l->pcn || !l->slots)
        return -1;
    for (size_t i = 0; i < n; i++) {
        snprintf(l->pcn[i], sizeof l->pcn[i], "PCN%09zu", i + 1);
        l->claims[i].id = i + 1;
        l->claims[i].pcn = l->pcn[i];
        size_t s = hash(l->pcn[i]) & (l->nslots - 1);
        while (l->slots[s])
            s = (s + 1) & (l->nslots - 1);
        l->slots[s] = (uint32_t)(i + 1);
    }
    return 0;
}

static const claim_ref *by_pcn(void *ctx, const char *key)
{
    ledger *l = ctx;
    size_t s = hash(key) & (l->nslots - 1);
    while (l->slots[s]) {
        const claim_ref *c = &l->claims[l->slots[s] - 1];
        if (!strcmp(c->pcn, key))
            return c;
        s = (s + 1) & (l->nslots - 1);
    }
    return NULL;
}

typedef struct run {
    unsigned long long claims, lines, adj, matched, unmatched;
    int64_t paid, adjusted;
    const match_rules *rules;
    const match_lookup *lk;
} run;

static void on_claim(void *ctx, const remit_payment *p, const remit_claim *c)
{
    run *r = ctx;
    (void)p;
    r->claims++;
    r->paid += c->paid;
    r->lines += c->nlines;
    r->adj += c->nadj;
    r->adjusted += c->adj_total + c->line_adj_total;
    for (unsigned i = 0; i < c->nlines; i++)
        r->adj += c->lines[i].nadj;
    if (r->lk) {
        match_query q;
        match_result res;
        match_query_from_835(c, &q);
        match_claim(r->rules, r->lk, &q, &res);
        if (res.status == MATCH_MATCHED)
            r->matched++;
        else
            r->unmatched++;
    }
}

int main(int argc, char **argv)
{
    size_t nledger = 0;
    int i = 1;
    if (i + 1 < argc && !strcmp(argv[i], "--match")) {
        nledger = strtoul(argv[i + 1], NULL, 10);
        i += 2;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: bench_remit [--match N] FILE|-\n");
        return 2;
    }
    int fd = strcmp(argv[i], "-") ? open(argv[i], O_RDONLY) : 0;
    if (fd < 0) {
        perror(argv[i]);
        return 2;
    }
    ledger l = {0};
    match_rules rules;
    match_rules_init(&rules);
    rules.fallback = MATCH_FALLBACK_NONE;
    match_lookup lk = {by_pcn, NULL, NULL, &l};
    run r = {0};
    double tl = 0;
    if (nledger) {
        double t = now();
        if (ledger_build(&l, nledger) != 0) {
            fprintf(stderr, "bench_remit: out of memory for the ledger\n");
            return 2;
        }
        tl = now() - t;
        r.rules = &rules;
        r.lk = &lk;
    }
    remit_835_events ev = {NULL, on_claim, NULL, NULL, &r};
    remit_835_stats st;
    ch_error err;
    double t0 = now();
    ch_code c = remit_835_read_fd(fd, argv[i], &ev, NULL, NULL, &st, &err);
    double dt = now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (c != CH_OK)
        fprintf(stderr, "bench_remit: %s\n", err.msg);
    off_t bytes = lseek(fd, 0, SEEK_CUR);
    printf("%-12s %9llu claims %8llu lines  %10.0f claims/s  %7.0f MB/s  peak RSS %6.1f MB%s\n",
           nledger ? "read+match" : "read 835", r.claims, r.lines, (double)r.claims / dt,
           bytes > 0 ? (double)bytes / 1e6 / dt : 0.0, (double)ru.ru_maxrss / 1024.0,
           st.errors ? "  (input had errors)" : "");
    if (nledger)
        printf("             ledger of %zu open claims built in %.2f s; matched %llu, to the worklist %llu\n",
               nledger, tl, r.matched, r.unmatched);
    printf("             %u payments, %u unbalanced, %u balance errors\n", st.payments,
           st.unbalanced_payments, st.balance_errors);
    free(l.claims);
    free(l.pcn);
    free(l.slots);
    return c == CH_OK ? 0 : 1;
}
