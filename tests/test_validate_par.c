/*
 * test_validate_par.c - transaction sets validated on worker threads
 * (x12_validator_threads, x12_val_par.c) against one thread.
 *
 * Every corpus file, files of many sets built from them, and mutated
 * copies of both are validated on one thread and with worker threads, with
 * jobs cut as small as one segment (so that sets straddle jobs, go to
 * several workers and to the feeding thread itself), and the tokenizer's
 * diagnostics passed through the validator (x12_validator_pass).  The
 * diagnostic streams, in order and field by field, and every count must be
 * identical.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x12_guide.h"
#include "x12_validate.h"

#include "diag_stream.h"

typedef struct counts {
    unsigned err, warn, sets, bad, unchecked;
} counts;

typedef struct run_ctx {
    x12_validator *v;
    sink *out;
} run_ctx;

/* The tokenizer's diagnostics, through the validator, as the engine does. */
static void reader_diag(void *ctx, const x12_diag *d)
{
    run_ctx *c = ctx;
    if (c->v)
        x12_validator_pass(c->v, d);
    else
        on_diag(c->out, d);
}

/* Validate len bytes at p with `threads` workers (0: none) and jobs of at
 * most job_segments; the diagnostics into out, the counts into *k. */
static void run(const char *p, size_t len, unsigned threads, unsigned job_segments, sink *out,
                counts *k)
{
    char *copy = malloc(len ? len : 1); /* exactly len: over-reads are caught */
    cr_assert_not_null(copy);
    memcpy(copy, p, len);
    out->len = 0;
    put(out, "");
    run_ctx c = {NULL, out};
    x12_reader_opts ro = {.on_diag = reader_diag, .diag_ctx = &c, .classify = 1};
    x12_reader *r;
    cr_assert_eq(x12_open_mem(&r, copy, len, "t", &ro, NULL), CH_OK);
    x12_validator *v = x12_validator_new("t", on_diag, out);
    cr_assert_not_null(v);
    if (threads) {
        ch_error err;
        cr_assert_eq(x12_validator_threads(v, threads, job_segments, &err), CH_OK, "%s", err.msg);
    }
    c.v = v;
    x12_segment s;
    unsigned long n = 0;
    while (x12_next(r, &s) == X12_SEGMENT) {
        x12_validator_feed(v, &s);
        n++;
    }
    x12_validator_finish(v, n ? &s.pos : NULL);
    *k = (counts){x12_validator_errors(v), x12_validator_warnings(v), x12_validator_sets(v),
                  x12_validator_sets_with_errors(v), x12_validator_sets_unchecked(v)};
    x12_validator_free(v);
    x12_close(r);
    free(copy);
}

/* The ways with threads give what one thread gives. */
static void same(const char *what, const char *p, size_t len, sink *a, sink *b)
{
    static const struct {
        unsigned threads, job;
    } ways[] = {{1, 1}, {2, 3}, {1, 0}, {3, 7}};
    counts ka, kb;
    run(p, len, 0, 0, a, &ka);
    for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
        run(p, len, ways[w].threads, ways[w].job, b, &kb);
        if (strcmp(a->buf, b->buf)) {
            size_t i = 0;
            while (a->buf[i] && a->buf[i] == b->buf[i])
                i++;
            while (i > 0 && a->buf[i - 1] != '\n')
                i--;
            cr_assert_fail("%s: %u threads, jobs of %u: differs at\n one: %.300s\n par: %.300s", what,
                           ways[w].threads, ways[w].job, a->buf + i, b->buf + i);
        }
        cr_assert(ka.err == kb.err && ka.warn == kb.warn && ka.sets == kb.sets && ka.bad == kb.bad &&
                      ka.unchecked == kb.unchecked,
                  "%s: %u threads: counts %u/%u/%u/%u/%u, one thread %u/%u/%u/%u/%u", what,
                  ways[w].threads, kb.err, kb.warn, kb.sets, kb.bad, kb.unchecked, ka.err, ka.warn,
                  ka.sets, ka.bad, ka.unchecked);
    }
}

/* The file with its first transaction set (ST..SE) repeated `times` times
 * in its place, or NULL when it has none. */
static char *many_sets(const char *text, size_t len, int times, size_t *out_len)
{
    const char *st = strstr(text, "ST*");
    const char *se = st ? strstr(st, "SE*") : NULL;
    const char *end = se ? strchr(se, '~') : NULL;
    if (!end)
        return NULL;
    end++;
    while (*end == '\n' || *end == '\r')
        end++;
    size_t head = (size_t)(st - text), set = (size_t)(end - st), tail = len - (size_t)(end - text);
    char *m = malloc(head + set * (size_t)times + tail + 1);
    cr_assert_not_null(m);
    memcpy(m, text, head);
    for (int k = 0; k < times; k++)
        memcpy(m + head + set * (size_t)k, st, set);
    memcpy(m + head + set * (size_t)times, end, tail);
    *out_len = head + set * (size_t)times + tail;
    return m;
}

typedef struct par_run {
    sink a, b;
    unsigned mutants;
} par_run;

/* n mutants of text, each validated both ways. */
static void mutants(par_run *pr, const char *path, const char *how, const char *text, size_t len,
                    int n, uint64_t *st)
{
    for (int k = 0; k < n; k++) {
        size_t ml;
        char *m = mutate(text, len, st, &ml);
        char what[2100];
        snprintf(what, sizeof what, "%s (%smutant %d)", path, how, k);
        same(what, m, ml, &pr->a, &pr->b);
        free(m);
        pr->mutants++;
    }
}

/* One corpus file, mutants of it, the file with many sets and mutants of
 * that (an error in one of the sets spread over the workers and the
 * feeding thread). */
static void par_file(const char *path, const char *text, size_t len, unsigned index, void *ctx)
{
    par_run *pr = ctx;
    same(path, text, len, &pr->a, &pr->b);
    uint64_t st = 0x9E3779B97F4A7C15u ^ (uint64_t)len * 31 ^ index;
    mutants(pr, path, "", text, len, 12, &st);
    size_t nl;
    char *many = many_sets(text, len, 9, &nl);
    if (!many)
        return;
    char what[2100];
    snprintf(what, sizeof what, "%s (9 sets)", path);
    same(what, many, nl, &pr->a, &pr->b);
    mutants(pr, path, "9 sets, ", many, nl, 6, &st);
    free(many);
}

Test(validate_par, same_diagnostics_as_one_thread, .timeout = 240)
{
    par_run pr = {{0}, {0}, 0};
    unsigned files = ds_each_corpus_file(par_file, &pr);
    free(pr.a.buf);
    free(pr.b.buf);
    x12_guide_registry_free();
    cr_assert_gt(files, 20, "corpus files found: %u", files);
    cr_log_info("%u files, %u mutants: the same diagnostics with threads", files, pr.mutants);
}

/* A file cut in the middle of a set: the sets before it, the tokenizer's
 * reason for stopping and the missing trailers come out in order. */
Test(validate_par, truncated_file_in_order)
{
    const char *path = tu_src("tests/corpus/837p/ims-x12_many_claims.txt");
    size_t len;
    char *text = tu_read(path, &len);
    cr_assert_not_null(text, "%s", path);
    size_t nl;
    char *many = many_sets(text, len, 5, &nl);
    cr_assert_not_null(many);
    sink a = {0}, b = {0};
    for (size_t cut = nl / 3; cut < nl; cut += nl / 7)
        same("truncated", many, cut, &a, &b);
    cr_assert(strstr(a.buf, "segment.eof") || strstr(a.buf, "envelope"),
              "the cut is reported: %.200s", a.buf);
    free(many);
    free(text);
    free(a.buf);
    free(b.buf);
    x12_guide_registry_free();
}

static void ignore(void *ctx, const x12_gs_info *gs, const x12_st_info *st)
{
    (void)ctx;
    (void)gs;
    (void)st;
}

/* Threads are asked for before the first segment, and not with envelope
 * events (their counts are not known when the events come). */
Test(validate_par, refused_late_or_with_events)
{
    x12_validator *v = x12_validator_new("t", NULL, NULL);
    x12_env_events ev = {.st_close = ignore};
    x12_validator_events(v, &ev);
    ch_error err;
    cr_assert_eq(x12_validator_threads(v, 2, 0, &err), CH_ERR_USAGE);
    x12_validator_free(v);

    static const char isa[] = "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       "
                              "*240101*1200*^*00501*000000001*0*T*:~GS*HC*S*R*20240101*1200*1*X*005010X222A1~"
                              "ST*837*0001*005010X222A1~";
    x12_reader *r;
    cr_assert_eq(x12_open_mem(&r, isa, sizeof isa - 1, "t", NULL, NULL), CH_OK);
    v = x12_validator_new("t", NULL, NULL);
    x12_segment s;
    while (x12_next(r, &s) == X12_SEGMENT)
        x12_validator_feed(v, &s);
    cr_assert_eq(x12_validator_threads(v, 2, 0, &err), CH_ERR_USAGE);
    x12_validator_free(v);
    x12_close(r);
    x12_guide_registry_free();
}
