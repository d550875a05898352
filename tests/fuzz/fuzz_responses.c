/*
 * fuzz_responses.c - libFuzzer target: the implementation-guide validator
 * and the three response readers (835, 999, 277CA) over arbitrary bytes.
 * These read what payers send, so they are the engine's widest door: no
 * crash, no sanitizer report, no leak, whatever arrives.  The validator
 * also runs with a worker thread and jobs of two segments, and must report
 * exactly what it reports on one thread (else the target traps).  Built and
 * run by `make fuzz`, seeded with tests/corpus.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ack_999_reader.h"
#include "remit_835.h"
#include "status_277ca_reader.h"
#include "x12_validate.h"

static void on_diag(void *ctx, const x12_diag *d)
{
    char buf[1024];
    x12_diag_format(d, buf, sizeof buf, 1);
    ++*(unsigned *)ctx;
}

/* The validator's report, hashed in order (FNV-1a over each line). */
typedef struct digest {
    x12_validator *v; /* the tokenizer's diagnostics go through it */
    uint64_t h;
    unsigned n;
} digest;

static void on_vdiag(void *ctx, const x12_diag *d)
{
    digest *g = ctx;
    char buf[2048];
    int len = x12_diag_json(d, buf, sizeof buf, 1);
    for (int i = 0; i < len && i < (int)sizeof buf; i++)
        g->h = (g->h ^ (unsigned char)buf[i]) * 0x100000001b3u;
    g->n++;
}

static void on_rdiag(void *ctx, const x12_diag *d)
{
    digest *g = ctx;
    if (g->v)
        x12_validator_pass(g->v, d);
}

/* Validate data, on one thread (threads 0) or with workers; the digest of
 * the report and the counts. */
static void validate(const uint8_t *data, size_t size, unsigned threads, digest *g)
{
    *g = (digest){NULL, 0xcbf29ce484222325u, 0};
    x12_reader_opts o = {.max_segment = 4096, .on_diag = on_rdiag, .diag_ctx = g, .classify = 1};
    x12_reader *r;
    if (x12_open_mem(&r, data, size, "fuzz", &o, NULL) != CH_OK)
        return;
    x12_validator *v = x12_validator_new("fuzz", on_vdiag, g);
    if (v && threads && x12_validator_threads(v, threads, 2, NULL) != CH_OK)
        abort();
    g->v = v;
    x12_segment s;
    x12_pos last = {0};
    while (v && x12_next(r, &s) == X12_SEGMENT) {
        x12_validator_feed(v, &s);
        last = s.pos;
    }
    if (v) {
        x12_validator_finish(v, &last);
        g->h ^= (uint64_t)x12_validator_errors(v) << 1 ^ (uint64_t)x12_validator_warnings(v) << 17 ^
                (uint64_t)x12_validator_sets(v) << 33 ^ (uint64_t)x12_validator_sets_with_errors(v) << 45;
        x12_validator_free(v);
    }
    x12_close(r);
}

/* The callbacks use what the engine uses of each record, so a field left
 * unterminated or out of range shows up here. */
static void on_claim(void *ctx, const remit_payment *p, const remit_claim *c)
{
    char key[128];
    remit_payment_key(p, key, sizeof key);
    (void)remit_outcome_name(remit_claim_outcome(c));
    (void)remit_claim_ref(c, "6R");
    ++*(unsigned *)ctx;
}

static void on_set(void *ctx, const ack_999_group *g, const ack_999_set *s)
{
    char why[512];
    (void)g;
    for (unsigned i = 0; i < s->nerrors; i++)
        ack_999_error_reason(&s->errors[i], why, sizeof why);
    ++*(unsigned *)ctx;
}

static void on_277_claim(void *ctx, const status_277_claim *c)
{
    (void)c;
    ++*(unsigned *)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned n = 0;
    ch_error err;

    digest one, par;
    validate(data, size, 0, &one);
    validate(data, size, 1, &par);
    if (one.h != par.h || one.n != par.n)
        __builtin_trap(); /* worker threads reported something else */
    remit_835_events re = {.claim = on_claim, .ctx = &n};
    remit_835_read_mem(data, size, "fuzz", &re, on_diag, &n, NULL, &err);
    ack_999_events ae = {.set = on_set, .ctx = &n};
    ack_999_read_mem(data, size, "fuzz", &ae, on_diag, &n, NULL, &err);
    status_277_events se = {.claim = on_277_claim, .ctx = &n};
    status_277_read_mem(data, size, "fuzz", &se, on_diag, &n, NULL, &err);
    return 0;
}
