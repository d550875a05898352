/*
 * test_validate_corpus.c - the validator with the real guide tables on real
 * sample files (tests/data/validate, sources and licenses in SOURCES.tsv).
 *
 * Files documented as bad must give the errors their sources describe, at
 * the right place.  Files published as valid samples must give only errors
 * that are real: each expected one below was checked against the guide (the
 * comment says why it is real).  A sample's list is exact, so an error that
 * appears when a table or the engine changes shows up here.
 *
 * The tables are written separately; a test whose table is not built in is
 * skipped.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "validate_helpers.h"

typedef struct want {
    const char *code;
    unsigned seg;      /* segment number in the transaction set */
    int elem, comp;
    const char *st02;  /* the set, NULL: any */
} want;

#define END {NULL, 0, 0, 0, NULL}

static char *data_path(const char *name)
{
    const char *root = getenv("CH_ROOT") ? getenv("CH_ROOT") : ".";
    size_t n = strlen(root) + strlen(name) + 32;
    char *p = malloc(n);
    snprintf(p, n, "%s/tests/data/validate/%s", root, name);
    return p;
}

static int need_guide(const char *file)
{
    if (embedded_find(file))
        return 1;
    cr_skip_test("%s is not built in", file);
    return 0;
}

static void run_file(const char *name, vdiags *d)
{
    char *path = data_path(name);
    char *x = vd_slurp(path);
    vd_run(NULL, x, d);
    free(x);
    free(path);
}

static int matches(const x12_diag *e, const want *w)
{
    return !strcmp(e->code, w->code) && e->pos.seg_in_st == w->seg && e->elem == w->elem &&
           e->comp == w->comp && (!w->st02 || !strcmp(e->pos.st02, w->st02));
}

/* Every error of the file is one of w, and every one of w is there (a
 * multiset comparison; warnings are not compared). */
static void expect_exactly(const char *name, const want *w)
{
    vdiags d;
    run_file(name, &d);
    size_t nw = 0;
    while (w[nw].code)
        nw++;
    char *used = calloc(nw + 1, 1);
    int ok = 1;
    for (size_t k = 0; k < d.n; k++) {
        const x12_diag *e = &d.e[k]->d;
        if (e->severity < X12_SEV_ERROR)
            continue;
        size_t i;
        for (i = 0; i < nw; i++)
            if (!used[i] && matches(e, &w[i]))
                break;
        if (i == nw) {
            fprintf(stderr, "%s: unexpected %s at segment %u, element %d-%d\n", name, e->code,
                    e->pos.seg_in_st, e->elem, e->comp);
            ok = 0;
        } else {
            used[i] = 1;
        }
    }
    for (size_t i = 0; i < nw; i++)
        if (!used[i]) {
            fprintf(stderr, "%s: missing %s at segment %u, element %d-%d\n", name, w[i].code,
                    w[i].seg, w[i].elem, w[i].comp);
            ok = 0;
        }
    if (!ok)
        vd_dump(&d);
    free(used);
    vd_free(&d);
    x12_guide_registry_free();
    cr_assert(ok, "%s: the errors differ from the expected ones (see the log)", name);
}

/* The errors w are there (others may be), and there are `total` errors. */
static void expect_some(const char *name, const want *w, unsigned total)
{
    vdiags d;
    run_file(name, &d);
    for (; w->code; w++)
        vd_expect_at(&d, w->code, w->seg, w->elem, w->comp, NULL, NULL, name, 0);
    unsigned n = vd_errors(&d);
    if (n != total)
        vd_dump(&d);
    vd_free(&d);
    x12_guide_registry_free();
    cr_assert_eq(n, total, "%s: %u errors, expected %u", name, n, total);
}

/* The IMS x12-parser samples share one base file whose own real errors
 * (listed in ims_valid) come back in every variant. */
#define IMS_BASE_ERRORS                                                                          \
    {"codeset.npi", 7, 9, 0, NULL},       /* NM109 1234567890: Luhn check digit is 3 */         \
        {"element.missing", 21, 1, 2, NULL},  /* HI*BK*8901*BF*...: composites split wrongly */ \
        {"element.code", 21, 2, 1, NULL}, {"element.missing", 21, 2, 2, NULL},                   \
        {"element.missing", 21, 3, 2, NULL}, {"element.code", 21, 4, 1, NULL},                   \
        {"element.missing", 21, 4, 2, NULL}

/* ---- documented bad files ------------------------------------------------ */

Test(validate_corpus, ims_bad_valid_code)
{
    if (!need_guide("837p.guide"))
        return;
    /* NM1*117 where 2010AA's NM1*85 belongs: an invalid entity code */
    static const want w[] = {{"element.code", 7, 1, 0, NULL}, END};
    expect_some("ims-x12_bad_valid_code.txt", w, 22);
}

Test(validate_corpus, ims_missing_elements)
{
    if (!need_guide("837p.guide"))
        return;
    /* NM102 missing in 1000B; CLM05 missing */
    static const want w[] = {{"element.missing", 5, 2, 0, NULL}, {"element.missing", 29, 5, 0, NULL}, END};
    expect_some("ims-x12_missing_elements.txt", w, 23);
}

Test(validate_corpus, ims_segments_out_of_order)
{
    if (!need_guide("837p.guide"))
        return;
    /* N3/N4 swapped in 2010AA (N4 after REF) and in 2010AB: one error each */
    static const want w[] = {{"segment.order", 10, 0, 0, NULL}, {"segment.order", 15, 0, 0, NULL}, END};
    expect_some("ims-x12_segments_out_of_order.txt", w, 23);
}

Test(validate_corpus, ims_segment_errors)
{
    if (!need_guide("837p.guide"))
        return;
    /* REF*EI twice in 2010AA, N3 missing there, HI missing in 2300 (at LX) */
    static const want w[] = {
        {"codeset.npi", 7, 9, 0, NULL},     {"segment.max_use", 10, 0, 0, NULL},
        {"segment.missing", 12, 0, 0, NULL}, {"segment.missing", 20, 0, 0, NULL},
        {"balance.claim", 19, 2, 0, NULL},  /* CLM02 500, its one line 12.25 */
        {"hl.child", 15, 4, 0, NULL},       /* HL04 1, no patient level */
        {"envelope.count", 23, 1, 0, NULL}, /* SE01 hard-coded 25 */
        END};
    expect_exactly("ims-x12_segment_errors.txt", w);
}

Test(validate_corpus, ims_loop_over_maximum)
{
    if (!need_guide("837p.guide"))
        return;
    static const want w1[] = {{"loop.max_use", 13, 0, 0, NULL}, END};
    expect_some("ims-x12_loop_errors1_exceeds_max_1_parent.txt", w1, 12);
    /* the second 2000A's 2010AA twice */
    static const want w2[] = {{"loop.max_use", 32, 0, 0, NULL}, END};
    expect_some("ims-x12_loop_errors2_exceeds_max_repeats.txt", w2, 22);
}

Test(validate_corpus, ims_missing_loops)
{
    if (!need_guide("837p.guide"))
        return;
    /* 2010AA missing: reported at the subscriber HL that moves past it */
    static const want w1[] = {{"loop.missing", 10, 0, 0, NULL}, END};
    expect_some("ims-x12_loop_errors3_missing_loops.txt", w1, 10);
    /* 2010BA missing in one 2000B only */
    static const want w2[] = {{"loop.missing", 19, 0, 0, NULL}, END};
    expect_some("ims-x12_missing_required_loop_in_one_repeat.txt", w2, 23);
    /* 2400 missing in claims 2 and 5: their SV1/DTP fit nowhere */
    static const want w3[] = {{"segment.unexpected", 31, 0, 0, NULL}, {"segment.unexpected", 32, 0, 0, NULL},
                              {"loop.missing", 33, 0, 0, NULL},       {"segment.unexpected", 57, 0, 0, NULL},
                              {"segment.unexpected", 58, 0, 0, NULL}, {"loop.missing", 59, 0, 0, NULL},
                              END};
    expect_some("ims-x12_missing_required_loops_mult_repeats.txt", w3, 53);
}

Test(validate_corpus, ims_bad_segment_identifiers)
{
    if (!need_guide("837p.guide"))
        return;
    /* an empty tag, Nd4, NM31: the tokenizer's; the segments they replaced
     * (PER, N4, NM1*PR) are then missing */
    static const want w[] = {{"segment.no_tag", 4, 0, 0, NULL},  {"segment.bad_tag", 9, 0, 0, NULL},
                             {"segment.bad_tag", 18, 0, 0, NULL}, {"segment.missing", 5, 0, 0, NULL},
                             {"segment.missing", 13, 0, 0, NULL}, {"loop.missing", 20, 0, 0, NULL},
                             END};
    expect_some("ims-x12_bad_segment_identifier.txt", w, 27);
}

Test(validate_corpus, staedi_invalid_999)
{
    if (!need_guide("999.guide"))
        return;
    static const want w[] = {
        {"segment.unexpected", 2, 0, 0, NULL}, /* IK5 before AK1 */
        {"element.too_long", 3, 1, 0, NULL},   /* AK101 'HC   ' */
        {"element.too_many", 4, 5, 0, NULL},   /* AK204-AK205 */
        {"element.code", 5, 1, 0, NULL},       /* IK501 Q */
        {"segment.max_use", 6, 0, 0, NULL},    /* a second IK5 */
        {"element.not_used", 14, 1, 2, NULL},  /* CTX01-2 in repetitions 2 and 3 */
        {"element.not_used", 14, 1, 2, NULL},
        {"element.number", 14, 6, 1, NULL},    /* CTX06 'C023:1325' */
        {"element.not_used", 14, 6, 2, NULL},
        {"envelope.count", 18, 1, 0, NULL},    /* SE01 16, 18 segments */
        END};
    expect_exactly("staedi-invalid999.edi", w);
}

Test(validate_corpus, staedi_header_only_837)
{
    if (!need_guide("837p.guide"))
        return;
    static const want w[] = {{"element.code", 2, 1, 0, NULL},       /* BHT01 DATA */
                             {"segment.unexpected", 3, 0, 0, NULL}, /* REF*BB in the header */
                             {"loop.missing", 4, 0, 0, NULL},       /* 1000A, 1000B, 2000A */
                             {"loop.missing", 4, 0, 0, NULL},
                             {"loop.missing", 4, 0, 0, NULL},
                             END};
    expect_exactly("staedi-837p-header-ref-only.edi", w);
}

Test(validate_corpus, unknown_versions_are_not_validated)
{
    /* GS08/ST03 005010 and 4010 files: one diagnostic per set */
    static const want w[] = {{"guide.unknown", 1, 0, 0, "0001"}, {"guide.unknown", 1, 0, 0, "0002"}, END};
    expect_exactly("staedi-837-HL-nested.edi", w);
    static const want w2[] = {{"guide.unknown", 1, 0, 0, NULL},
                              {"envelope.count", 29, 1, 0, NULL}, /* SE01 30 */
                              END};
    expect_exactly("pyx12-4010-837p-bad_elements.txt", w2);
}

Test(validate_corpus, aff_835_garbage_line)
{
    if (!need_guide("835.guide"))
        return;
    /* the stray 'resnCode>adjID>5***' line is no segment; SE01 wrong in
     * both sets; placeholders in TS3/CAS/MIA/PLB */
    static const want w[] = {{"segment.bad_tag", 108, 0, 0, "1001"},
                             {"envelope.count", 109, 1, 0, "1001"},
                             {"envelope.count", 55, 1, 0, "1002"},
                             END};
    expect_some("aff-835-garbage-segment-line.txt", w, 27);
}

/* ---- published samples: only real errors -------------------------------- */

Test(validate_corpus, ims_valid_sample)
{
    if (!need_guide("837p.guide"))
        return;
    static const want w[] = {
        IMS_BASE_ERRORS,
        {"balance.claim", 20, 2, 0, NULL}, /* CLM02 500, line 12.25 */
        {"hl.child", 16, 4, 0, NULL},      /* HL*2*1*22*1, no 2000C follows */
        {"hl.order", 25, 1, 0, NULL},      /* HL*2 again */
        {"hl.parent", 25, 2, 0, NULL},     /* HL02 3: no such parent */
        {"element.missing", 30, 1, 2, NULL}, {"element.code", 30, 2, 1, NULL},
        {"element.missing", 30, 2, 2, NULL}, {"element.missing", 30, 3, 2, NULL},
        {"element.code", 30, 4, 1, NULL},    {"element.missing", 30, 4, 2, NULL},
        {"codeset.proc", 32, 1, 2, NULL},  /* HC:478331: six digits */
        {"balance.claim", 29, 2, 0, NULL},
        {"hl.child", 25, 4, 0, NULL},
        {"envelope.count", 34, 1, 0, NULL}, /* SE01 hard-coded 25 */
        END};
    expect_exactly("ims-x12_valid.txt", w);
}

Test(validate_corpus, lfh_837p_samples)
{
    if (!need_guide("837p.guide"))
        return;
    static const want none[] = {END};
    expect_exactly("lfh-demo.drug.example10.1.837", none);
    static const want cob[] = {
        {"codeset.npi", 7, 9, 0, NULL},  /* 1999996666: check digit */
        {"codeset.npi", 31, 9, 0, NULL}, /* same NPI, 2310B */
        {"codeset.npi", 34, 9, 0, NULL}, /* 1581234567, 2310C */
        {"loop.missing", 42, 0, 0, NULL}, /* 2320 without 2330B (NM1*PR), R in the guide */
        END};
    expect_exactly("lfh-demo.cob.example3.A.837", cob);
    static const want ex1[] = {{"codeset.taxonomy", 7, 3, 0, NULL}, /* 203BF0100Y: not ...X */ END};
    expect_exactly("lfh-demo.example1.837", ex1);
    /* composites written with '>' although ISA16 is ':' */
    static const want ex6[] = {
        {"codeset.npi", 7, 9, 0, NULL},      {"element.too_long", 19, 5, 1, NULL},
        {"element.missing", 19, 5, 2, NULL}, {"element.missing", 19, 5, 3, NULL},
        {"element.code", 24, 1, 1, NULL},    {"element.missing", 24, 1, 2, NULL},
        {"element.code", 26, 1, 1, NULL},    {"element.missing", 26, 1, 2, NULL},
        END};
    expect_exactly("lfh-demo.example6.837", ex6);
    /* 005010X222 without A1, newline terminators, indented */
    static const want st[] = {{"codeset.npi", 8, 9, 0, NULL},  /* 123456789: 9 digits */
                              {"codeset.npi", 36, 9, 0, NULL}, /* 12345679030: 11 digits */
                              END};
    expect_exactly("staedi-sample837-original-indented.edi", st);
}

Test(validate_corpus, lfh_837i_sample)
{
    if (!need_guide("837i.guide"))
        return;
    static const want w[] = {
        {"codeset.taxonomy", 7, 3, 0, NULL}, /* 203BA0200N */
        {"codeset.npi", 8, 9, 0, NULL},      /* 9876540809 */
        {"element.not_used", 20, 6, 0, NULL}, /* CLM06 is not used in 837I */
        {"element.code", 21, 2, 0, NULL},    /* DTP*434 statement dates need RD8 */
        END};
    expect_exactly("lfh-institutional-claim.837i", w);
}

Test(validate_corpus, samples_835)
{
    if (!need_guide("835.guide"))
        return;
    static const want none[] = {END};
    expect_exactly("k835-emedny_sample.txt", none);
    expect_exactly("pyx12-835_mult_loops.txt", none);
    static const want tert[] = {
        {"element.missing", 2, 16, 0, NULL}, /* BPR16 payment date */
        {"rule.forbid", 2, 15, 0, NULL},     /* BPR15 with BPR04 CHK */
        {"segment.missing", 9, 0, 0, NULL},  /* 1000A PER*BL technical contact */
        /* 'SVC*HC*24599.00*1766.50*187.50**1': the code slid into SVC02 */
        {"element.missing", 18, 1, 2, NULL}, {"element.code", 18, 6, 1, NULL},
        {"element.missing", 18, 6, 2, NULL}, {"balance.line", 18, 2, 0, NULL},
        END};
    expect_exactly("lfh-tertiary-payment.835", tert);
    static const want parta[] = {
        {"segment.missing", 9, 0, 0, NULL},  /* 1000A PER*BL */
        {"element.not_used", 11, 9, 0, NULL}, /* TS309/TS311 are not used in 5010 */
        {"element.not_used", 11, 11, 0, NULL}, {"element.not_used", 21, 9, 0, NULL},
        {"element.not_used", 21, 11, 0, NULL},
        END};
    expect_exactly("lfh-medicare-part-a.835", parta);
}

Test(validate_corpus, samples_999)
{
    if (!need_guide("999.guide"))
        return;
    static const want none[] = {END};
    expect_exactly("ims-x12_999_rejected.txt", none);
    expect_exactly("pyx12-834_lui_id_5010.999.txt", none); /* 005010X231, four sets */
    /* CTX01 'SITUATIONAL TRIGGER:2': the context reference is not used there */
    static const want simple[] = {{"element.not_used", 12, 1, 2, NULL}, {"element.not_used", 12, 1, 2, NULL}, END};
    expect_exactly("staedi-simple999.edi", simple);
}

Test(validate_corpus, samples_277ca)
{
    if (!need_guide("277ca.guide"))
        return;
    static const want none[] = {END};
    expect_exactly("ims-x12_277CA_rejected.txt", none);
    static const want acc[] = {{"codeset.dtp", 22, 3, 0, NULL}, /* DTP*472*D8*10010101 */ END};
    expect_exactly("ims-x12_277CA_accepted.txt", acc);
}
