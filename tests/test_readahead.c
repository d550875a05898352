/*
 * test_readahead.c - the tokenizer on a second thread (x12_readahead.h)
 * hands out exactly what the tokenizer does: the same segments, positions,
 * delimiters and diagnostics, in the same order, whatever the batch
 * boundaries.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "x12_readahead.h"

/* What a stream yields, flattened into one string to compare. */
typedef struct trace {
    char *s;
    size_t n, cap;
} trace;

static void add(trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(trace *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(t->s + t->n, t->cap - t->n, fmt, ap);
        va_end(ap);
        if (w >= 0 && (size_t)w < t->cap - t->n) {
            t->n += (size_t)w;
            return;
        }
        t->cap = t->cap ? t->cap * 2 : 1 << 16;
        t->s = realloc(t->s, t->cap);
        cr_assert(t->s);
    }
}

static void on_diag(void *ctx, const x12_diag *d)
{
    add(ctx, "D %s %llu %llu %s|", d->code, (unsigned long long)d->pos.seg_no,
        (unsigned long long)d->pos.offset, d->msg);
}

static void add_seg(trace *t, const x12_segment *s)
{
    const x12_pos *p = &s->pos;
    add(t, "S %.*s %u %llu %llu %u %u %u %u %u %s %s %s %c%c%c%c [", (int)s->tag.len, s->tag.p, s->nelem,
        (unsigned long long)p->offset, (unsigned long long)p->seg_no, p->seg_in_isa, p->seg_in_st,
        p->isa_index, p->gs_index, p->st_index, p->isa13, p->gs06, p->st02, s->delims->element,
        s->delims->component, s->delims->repetition ? s->delims->repetition : '0', s->delims->segment);
    for (unsigned i = 0; i <= s->nelem; i++)
        add(t, "%u,", s->elem_end[i]);
    add(t, "] %.*s|", (int)s->raw_len, s->raw);
}

static void plain(const char *path, trace *t)
{
    int fd = open(path, O_RDONLY);
    cr_assert(fd >= 0, "%s", path);
    x12_reader_opts o = {.on_diag = on_diag, .diag_ctx = t};
    x12_reader *r;
    cr_assert_eq(x12_open_fd(&r, fd, path, &o, NULL), CH_OK);
    x12_segment s;
    int got;
    while ((got = x12_next(r, &s)) == X12_SEGMENT)
        add_seg(t, &s);
    add(t, "E %d %llu %s", got, (unsigned long long)x12_reader_offset(r), x12_reader_error(r)->msg);
    x12_close(r);
    close(fd);
}

static void ahead(const char *path, trace *t)
{
    int fd = open(path, O_RDONLY);
    cr_assert(fd >= 0, "%s", path);
    x12_reader_opts o = {.on_diag = on_diag, .diag_ctx = t};
    x12_ahead *a;
    ch_error err;
    cr_assert_eq(x12_ahead_open(&a, fd, path, &o, &err), CH_OK, "%s", err.msg);
    x12_segment s;
    int got;
    while ((got = x12_ahead_next(a, &s)) == X12_SEGMENT)
        add_seg(t, &s);
    add(t, "E %d %llu %s", got, (unsigned long long)x12_ahead_offset(a), x12_ahead_error(a)->msg);
    cr_assert_eq(x12_ahead_next(a, &s), got, "the end repeats");
    x12_ahead_close(a);
    close(fd);
}

static void same(const char *path)
{
    trace a = {0}, b = {0};
    plain(path, &a);
    ahead(path, &b);
    cr_assert_eq(a.n, b.n, "%s: the streams differ in length", path);
    cr_assert(!memcmp(a.s, b.s, a.n), "%s: the streams differ", path);
    free(a.s);
    free(b.s);
}

Test(readahead, same_stream_as_the_tokenizer_on_the_samples)
{
    const char *root = getenv("CH_ROOT") ? getenv("CH_ROOT") : ".";
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tests/data/validate", root);
    DIR *d = opendir(dir);
    cr_assert(d, "%s", dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strstr(e->d_name, ".tsv"))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        same(path);
        n++;
    }
    closedir(d);
    cr_assert_gt(n, 10);
}

/* Many batches: several interchanges with different delimiters, tokenizer
 * warnings and errors along the way, long segments. */
Test(readahead, many_batches_and_interchanges)
{
    char path[] = "/tmp/readahead-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    char longv[5000];
    memset(longv, 'A', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    for (int i = 0; i < 60; i++) {
        char es = i % 2 ? '|' : '*', cs = i % 3 ? ':' : '>', ts = i % 2 ? '~' : '\n';
        fprintf(f, "ISA%c00%c          %c00%c          %cZZ%cSENDER         %cZZ%cRECEIVER       %c250115"
                   "%c1200%c^%c00501%c%09d%c0%cT%c%c%c",
                es, es, es, es, es, es, es, es, es, es, es, es, es, i + 1, es, es, es, cs, ts);
        fprintf(f, "GS%cHC%cS%cR%c20250115%c1200%c1%cX%c005010X222A1%c", es, es, es, es, es, es, es, es, ts);
        fprintf(f, "ST%c837%c0001%c%c", es, es, es, ts);
        for (int k = 0; k < 600; k++)
            fprintf(f, "NM1%c85%c2%cNAME %d%c%c%c%c%cXX%c1234567893%c", es, es, es, k, es, es, es, es, es,
                    es, ts);
        fprintf(f, "NTE%c%s%c", es, longv, ts);
        fprintf(f, "  Nd4%cX%c", es, ts); /* a bad tag (tokenizer error), indented */
        fprintf(f, "SE%c%d%c0001%c", es, 604, es, ts);
        fprintf(f, "GE%c1%c1%cIEA%c1%c%09d%c", es, es, ts, es, es, i + 1, ts);
    }
    fclose(f);
    same(path);
    unlink(path);
}

Test(readahead, failures_are_the_same)
{
    char path[] = "/tmp/readahead-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "GS*HC*S*R~ST*837*1~", 19), 19);
    close(fd);
    same(path); /* no ISA: a fatal error */
    fd = open(path, O_WRONLY | O_TRUNC);
    const char *cut = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *250115*1200*^*00501"
                      "*000000001*0*T*:~GS*HC*S*R*20250115*1200*1*X*005010X222A1~ST*837*00";
    cr_assert_eq(write(fd, cut, strlen(cut)), (ssize_t)strlen(cut));
    close(fd);
    same(path); /* ends inside a segment */
    unlink(path);
}

Test(readahead, closing_early_stops_the_thread)
{
    char path[] = "/tmp/readahead-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *250115*1200*^*00501"
               "*000000001*0*T*:~GS*HC*S*R*20250115*1200*1*X*005010X222A1~ST*837*0001~");
    for (int k = 0; k < 200000; k++)
        fprintf(f, "NM1*85*2*NAME %d*****XX*1234567893~", k);
    fclose(f);
    fd = open(path, O_RDONLY);
    x12_ahead *a;
    cr_assert_eq(x12_ahead_open(&a, fd, path, NULL, NULL), CH_OK);
    x12_segment s;
    for (int i = 0; i < 10; i++)
        cr_assert_eq(x12_ahead_next(a, &s), X12_SEGMENT);
    x12_ahead_close(a); /* with the reading thread blocked on full batches */
    close(fd);
    unlink(path);
}
