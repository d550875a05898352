/*
 * test_validate_fast.c - the validator's fast paths (x12_val_fast.c, the
 * placement memo of x12_val_loops.c) against its full checks.
 *
 * Every corpus file, and mutated copies of it (bytes replaced, deleted,
 * inserted: separators, control bytes, digits, letters), is validated twice:
 * as the engine does, and with every segment forced through the full checks
 * and the full loop search.  The two diagnostic streams must be identical,
 * field by field.  The engine's way is run with and without the tokenizer
 * classifying the bytes (x12_reader_opts.classify), from memory and, for
 * the files themselves, from a file read a few bytes at a time (so that
 * segments are scanned again after each read).  Buffers are allocated to
 * the exact size, so a fast path that read past its segment would trip the
 * sanitizers.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x12_guide.h"
#include "x12_val_internal.h"
#include "x12_validate.h"
#include "x12_writer.h"

#include "diag_stream.h"

/* How run_gen reads and validates. */
enum {
    FAST,       /* fast paths, the tokenizer not classifying, from memory */
    FULL,       /* every segment through the full checks and search */
    FAST_CLS,   /* fast paths on the tokenizer's classification, from memory */
    FAST_CLS_FD /* the same from a file, read 7 bytes at a time */
};

/* Validate len bytes at p; the diagnostics, one line each, into out.
 * gen0: where the slot marks start (0: as a new validator does). */
static void run_gen(const char *p, size_t len, int mode, uint32_t gen0, sink *out)
{
    char *copy = malloc(len ? len : 1); /* exactly len: over-reads are caught */
    cr_assert_not_null(copy);
    memcpy(copy, p, len);
    out->len = 0;
    put(out, "");
    x12_reader_opts ro = {.on_diag = on_diag, .diag_ctx = out, .classify = mode >= FAST_CLS};
    x12_reader *r;
    FILE *fp = NULL;
    if (mode == FAST_CLS_FD) {
        fp = tmpfile();
        cr_assert_not_null(fp);
        cr_assert_eq(fwrite(copy, 1, len, fp), len);
        cr_assert_eq(fflush(fp), 0);
        rewind(fp);
        ro.read_size = 7;
        cr_assert_eq(x12_open_fd(&r, fileno(fp), "t", &ro, NULL), CH_OK);
    } else {
        cr_assert_eq(x12_open_mem(&r, copy, len, "t", &ro, NULL), CH_OK);
    }
    int full = mode == FULL;
    x12_validator *v = x12_validator_new("t", on_diag, out);
    cr_assert_not_null(v);
    v->full = full;
    if (gen0)
        v->slot_gen = gen0;
    x12_segment s;
    unsigned long n = 0;
    while (x12_next(r, &s) == X12_SEGMENT) {
        x12_validator_feed(v, &s);
        n++;
    }
    x12_validator_finish(v, n ? &s.pos : NULL);
    x12_validator_free(v);
    x12_close(r);
    if (fp)
        fclose(fp);
    free(copy);
}

static void run(const char *p, size_t len, int mode, sink *out) { run_gen(p, len, mode, 0, out); }

static void differ(const char *what, const char *how, sink *a, sink *b)
{
    if (strcmp(a->buf, b->buf)) {
        size_t i = 0;
        while (a->buf[i] && a->buf[i] == b->buf[i])
            i++;
        while (i > 0 && a->buf[i - 1] != '\n')
            i--;
        cr_assert_fail("%s: %s and full checks differ at\n fast: %.300s\n full: %.300s", what, how,
                       a->buf + i, b->buf + i);
    }
}

/* The engine's ways (fd too: also from a file) give what the full checks give. */
static void same(const char *what, const char *p, size_t len, int fd, sink *a, sink *b)
{
    run(p, len, FULL, b);
    run(p, len, FAST, a);
    differ(what, "fast", a, b);
    run(p, len, FAST_CLS, a);
    differ(what, "fast (classified by the tokenizer)", a, b);
    if (fd) {
        run(p, len, FAST_CLS_FD, a);
        differ(what, "fast (classified by the tokenizer, from a file)", a, b);
    }
}

typedef struct fast_run {
    sink a, b;
    unsigned mutants;
} fast_run;

/* One corpus file and 40 mutants of it, every way. */
static void fast_file(const char *path, const char *text, size_t len, unsigned index, void *ctx)
{
    fast_run *fr = ctx;
    same(path, text, len, 1, &fr->a, &fr->b);
    uint64_t st = 0x9E3779B97F4A7C15u ^ (uint64_t)len * 31 ^ index;
    for (int k = 0; k < 40; k++) {
        size_t ml;
        char *m = mutate(text, len, &st, &ml);
        char what[2100];
        snprintf(what, sizeof what, "%s (mutant %d)", path, k);
        same(what, m, ml, 0, &fr->a, &fr->b);
        free(m);
        fr->mutants++;
    }
}

Test(validate_fast, same_diagnostics_as_the_full_checks, .timeout = 120)
{
    fast_run fr = {{0}, {0}, 0};
    unsigned files = ds_each_corpus_file(fast_file, &fr);
    free(fr.a.buf);
    free(fr.b.buf);
    x12_guide_registry_free();
    cr_assert_gt(files, 20, "corpus files found: %u", files);
    cr_log_info("%u files, %u mutants: same diagnostics", files, fr.mutants);
}

/* Every occurrence of from in text replaced by to (same length). */
static void swap_all(char *text, const char *from, const char *to)
{
    for (char *q = text; (q = strstr(q, from)); q += strlen(from))
        memcpy(q, to, strlen(to));
}

/* The slot marks of loop repeats wrap after 2^32 repeats; a file validated
 * across the wrap reports exactly what it reports from a fresh start (with
 * rule diagnostics in every claim: CLM05-3 7 needs a REF*F8). */
Test(validate_fast, slot_marks_survive_their_wrap)
{
    const char *root = getenv("CH_ROOT") ? getenv("CH_ROOT") : ".";
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/corpus/837p/ims-x12_many_claims.txt", root);
    size_t len;
    char *text = tu_read(path, &len);
    cr_assert_not_null(text, "%s", path);
    text = realloc(text, len + 1);
    text[len] = '\0';
    swap_all(text, "11:B:1", "11:B:7");
    sink a = {0}, b = {0};
    run_gen(text, len, FAST_CLS, 0, &a);
    cr_assert(strstr(a.buf, "rule.need"), "the edit yields rule diagnostics");
    for (uint32_t back = 1; back < 400; back += 37) {
        run_gen(text, len, FAST_CLS, UINT32_MAX - back, &b);
        cr_assert_str_eq(a.buf, b.buf, "marks starting %u before the wrap", back);
    }
    free(text);
    free(a.buf);
    free(b.buf);
    x12_guide_registry_free();
}

/* The n-th occurrence (1-based) of from in text, or NULL. */
static char *nth(char *text, const char *from, int n)
{
    char *q = text;
    for (int k = 0; k < n && q; k++)
        q = strstr(k ? q + 1 : q, from);
    return q;
}

/* The elements' tail remembered per entry (end_quiet) is only reused for
 * the same elements present and no trailing separator: a DTP after quiet
 * ones with a trailing separator, or without its required DTP02, is still
 * reported, as the full checks report it. */
Test(validate_fast, remembered_element_tail_still_reports)
{
    const char *root = getenv("CH_ROOT") ? getenv("CH_ROOT") : ".";
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/corpus/837p/ims-x12_many_claims.txt", root);
    size_t len;
    char *text = tu_read(path, &len);
    cr_assert_not_null(text, "%s", path);
    text = realloc(text, len + 4);
    text[len] = '\0';
    /* "DTP*472*RD8*" -> "DTP*472**RD8" on the 5th: DTP02 missing, DTP03 kept */
    char *q = nth(text, "DTP*472*RD8*", 5);
    cr_assert_not_null(q);
    memcpy(q, "DTP*472**RD8", 12);
    /* a trailing separator on the 9th */
    q = nth(text, "DTP*472*RD8*", 8); /* the 9th of the original: one fewer now */
    cr_assert_not_null(q);
    q = strchr(q, '~');
    memmove(q + 1, q, len + 1 - (size_t)(q - text));
    *q = '*';
    len++;
    sink a = {0}, b = {0};
    run(text, len, FAST_CLS, &a);
    run(text, len, FULL, &b);
    differ("edited DTPs", "fast", &a, &b);
    cr_assert(strstr(a.buf, "|element.missing|DTP|"), "DTP02 missing is reported");
    cr_assert(strstr(a.buf, "|segment.trailing|DTP|"), "the trailing separator is reported");
    free(text);
    free(a.buf);
    free(b.buf);
    x12_guide_registry_free();
}

/* Composites that passed are remembered by their bytes and the component
 * separator they were read with: after an interchange with ':', the same
 * bytes in one whose ISA16 is '>' are single components, and wrong. */
Test(validate_fast, remembered_composites_know_their_separator)
{
    const char *root = getenv("CH_ROOT") ? getenv("CH_ROOT") : ".";
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/corpus/837p/ims-x12_valid.txt", root);
    size_t len;
    char *one = tu_read(path, &len);
    cr_assert_not_null(one, "%s", path);
    cr_assert_eq(one[104], ':', "ISA16 of the corpus file");
    char *two = malloc(2 * len);
    cr_assert_not_null(two);
    memcpy(two, one, len);
    memcpy(two + len, one, len);
    two[len + 104] = '>';
    sink a = {0}, b = {0};
    run(two, 2 * len, FAST_CLS, &a);
    run(two, 2 * len, FULL, &b);
    differ("two interchanges", "fast", &a, &b);
    cr_assert(strstr(a.buf, "|11:B:1|"), "CLM05 read with '>' is one component, too long");
    cr_assert(strstr(a.buf, "|HC:99211:25|"), "SV101 read with '>' is one component, not a code");
    free(one);
    free(two);
    free(a.buf);
    free(b.buf);
    x12_guide_registry_free();
}

/* Amounts (R) in every shape the one-word number test meets, or leaves to
 * the loop: each in SVC02 and SVC03 gives what the full checks give. */
Test(validate_fast, amounts_in_every_shape)
{
    const char *root = getenv("CH_ROOT") ? getenv("CH_ROOT") : ".";
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/corpus/835/aff-835-sample-2ST-placeholders.txt", root);
    size_t len;
    char *text = tu_read(path, &len);
    cr_assert_not_null(text, "%s", path);
    static const char *const amounts[] = {
        "1.5",      ".5",        "5.",        "1..5",      "12345678",  "1234567.8", "-1.5",
        "1.2.3",    "00.10",     "123456789", "12345678.9", "1.",       ".",         "-.5",
        "12.34567", "1234.5678", "9999999.9", "+1.5",      "1,5",       "1.5-",      "0",
        "1234567.", ".1234567",  "12:3",      "1 5",       "1/2",       "1.5E2",     "99999999"};
    const char *svc = strstr(text, "SVC*HC>99214*157*132.81**1~");
    cr_assert_not_null(svc);
    size_t at = (size_t)(svc - text) + strlen("SVC*HC>99214*");
    sink a = {0}, b = {0};
    for (size_t i = 0; i < sizeof amounts / sizeof amounts[0]; i++) {
        char *m = malloc(len + 64);
        cr_assert_not_null(m);
        /* SVC02 and SVC03 both replaced by the amount */
        size_t n = (size_t)snprintf(m, len + 64, "%.*s%s*%s", (int)at, text, amounts[i], amounts[i]);
        const char *rest = text + at + strlen("157*132.81");
        memcpy(m + n, rest, len - (size_t)(rest - text));
        n += len - (size_t)(rest - text);
        char what[64];
        snprintf(what, sizeof what, "SVC02/03 = '%s'", amounts[i]);
        same(what, m, n, 0, &a, &b);
        free(m);
    }
    free(text);
    free(a.buf);
    free(b.buf);
    x12_guide_registry_free();
}

/* The balancing's quick amount reader agrees with x12_parse_cents on every
 * amount it takes (and leaves the rest to it). */
Test(validate_fast, quick_amounts_agree_with_x12_parse_cents)
{
    static const char *const fixed[] = {"0", "1", "12", "125.7", "125.75", "125.755", ".5", "5.", "-5",
                                        "+5", "1.2.3", "", "999999999999999", "99999999999999.9",
                                        "9999999999999.99", "1234567890123456", "00.10", "0.01"};
    int64_t a, b;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (xv_cents(fixed[i], strlen(fixed[i]), &a)) {
            cr_assert_eq(x12_parse_cents(fixed[i], strlen(fixed[i]), &b), CH_OK, "%s", fixed[i]);
            cr_assert_eq(a, b, "%s", fixed[i]);
        }
    uint64_t st = 12345;
    static const char alphabet[] = "0123456789012345678901234567890123456789..-+ ";
    for (int k = 0; k < 200000; k++) {
        char buf[20];
        size_t n = (size_t)(rng(&st) % 18);
        for (size_t j = 0; j < n; j++)
            buf[j] = alphabet[rng(&st) % (sizeof alphabet - 1)];
        if (xv_cents(buf, n, &a)) {
            cr_assert_eq(x12_parse_cents(buf, n, &b), CH_OK, "%.*s", (int)n, buf);
            cr_assert_eq(a, b, "%.*s", (int)n, buf);
        }
    }
    cr_assert(xv_cents("125.75", 6, &a) && a == 12575);
    cr_assert(!xv_cents("", 0, &a));
}
