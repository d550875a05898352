/* test_reader.c - the streaming tokenizer: tolerances, rejections, splits. */
#include <criterion/criterion.h>
#include <sys/resource.h>
#include <pthread.h>

#include "reader_helpers.h"

#define BODY "GS*HC*S*R*20261123*1200*1*X*005010X222A1~ST*837*0001*005010X222A1~" \
             "NM1*85*2*ACME^CLINIC*****XX*1234567893~SE*3*0001~GE*1*1~IEA*1*000000001~"

static const char *simple = TR_ISA BODY;

Test(reader, isa_is_106_bytes)
{
    cr_assert_eq(strchr(TR_ISA, '~') - TR_ISA, 105);
}

Test(reader, segments_elements_components)
{
    tr_result t;
    tr_mem(&t, simple, strlen(simple), 0);
    cr_assert_eq(t.rc, X12_END);
    cr_assert_eq(t.nseg, 7);
    cr_assert_str_eq(t.seg[3], "NM1|85|2|ACME^CLINIC|||||XX|1234567893");
    cr_assert_eq(t.ndiag, 0);
    cr_assert_eq(t.delims[0].element, '*');
    cr_assert_eq(t.delims[0].repetition, '^');
    cr_assert_eq(t.delims[0].component, ':');
    cr_assert_eq(t.delims[0].segment, '~');
    tr_free(&t);
}

Test(reader, element_access_is_bounds_safe)
{
    const char *d = TR_ISA "GS*HC*S*R*20261123*1200*1*X*005010X222A1~ST*837*0001~"
                    "SV1*HC:99213:25:59*100*UN*1~HI*ABK:J20.9^ABF:R05~SE*4*0001~GE*1*1~IEA*1*000000001~";
    x12_reader *r;
    x12_open_mem(&r, d, strlen(d), "m", NULL, NULL);
    x12_segment s;
    char b[32];
    while (x12_next(r, &s) == X12_SEGMENT) {
        if (x12_is(&s, "SV1")) {
            cr_assert_str_eq(x12_copy(x12_comp(&s, 1, 1), b, sizeof b), "HC");
            cr_assert_str_eq(x12_copy(x12_comp(&s, 1, 4), b, sizeof b), "59");
            cr_assert_eq(x12_comp(&s, 1, 5).len, 0);
            cr_assert_eq(x12_nparts(x12_elem(&s, 1), ':'), 4);
            cr_assert_eq(x12_elem(&s, 0).len, 0);
            cr_assert_eq(x12_elem(&s, 99).len, 0);
            cr_assert_str_eq(x12_copy(x12_elem(&s, 4), b, sizeof b), "1");
        }
        if (x12_is(&s, "HI")) {
            cr_assert_eq(x12_nrep(&s, 1), 2);
            cr_assert_str_eq(x12_copy(x12_part(x12_rep(&s, 1, 2), ':', 2), b, sizeof b), "R05");
            cr_assert_eq(x12_rep(&s, 1, 3).len, 0);
        }
    }
    x12_close(r);
}

Test(reader, positions)
{
    tr_result t;
    tr_mem(&t, simple, strlen(simple), 0);
    cr_assert_eq(t.pos[0].seg_no, 1);
    cr_assert_eq(t.pos[0].seg_in_isa, 1);
    cr_assert_eq(t.pos[0].offset, 0);
    cr_assert_eq(t.pos[1].offset, 106);
    cr_assert_str_eq(t.pos[1].gs06, "1");
    cr_assert_eq(t.pos[2].seg_in_st, 1);
    cr_assert_eq(t.pos[3].seg_in_st, 2);
    cr_assert_eq(t.pos[4].seg_in_st, 3);
    cr_assert_str_eq(t.pos[3].st02, "0001");
    cr_assert_str_eq(t.pos[3].isa13, "000000001");
    cr_assert_eq(t.pos[3].isa_index, 1);
    cr_assert_eq(t.pos[3].gs_index, 1);
    cr_assert_eq(t.pos[3].st_index, 1);
    cr_assert_eq(t.pos[5].seg_in_st, 0, "GE is outside the transaction set");
    cr_assert_eq(t.pos[6].seg_in_isa, 7);
    tr_free(&t);
}

Test(reader, utf8_bom_is_skipped_with_a_warning)
{
    char d[1024];
    snprintf(d, sizeof d, "\xEF\xBB\xBF%s", simple);
    tr_result t;
    tr_mem(&t, d, strlen(d), 0);
    cr_assert_eq(t.nseg, 7);
    int i = tr_find(&t, "encoding.bom");
    cr_assert_geq(i, 0);
    cr_assert_eq(t.diag[i].severity, X12_SEV_WARNING);
    cr_assert_eq(t.pos[0].offset, 3);
    tr_free(&t);
}

Test(reader, crlf_lf_cr_after_terminators_and_indentation)
{
    const char *variants[] = {"\r\n", "\n", "\r", "\n\n   \t", " "};
    for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
        char d[2048] = "";
        const char *p = simple;
        size_t o = 0;
        while (*p) {
            d[o++] = *p;
            if (*p == '~')
                o += (size_t)sprintf(d + o, "%s", variants[v]);
            p++;
        }
        d[o] = '\0';
        tr_result t;
        tr_mem(&t, d, o, 0);
        cr_assert_eq(t.rc, X12_END, "variant %zu", v);
        cr_assert_eq(t.nseg, 7, "variant %zu", v);
        cr_assert_str_eq(t.seg[6], "IEA|1|000000001");
        cr_assert_eq(t.ndiag, 0, "variant %zu: %s", v, t.ndiag ? t.diag[0].msg : "");
        tr_free(&t);
    }
}

Test(reader, newline_as_terminator_with_crlf)
{
    char d[2048];
    size_t o = 0;
    for (const char *p = simple; *p; p++) {
        if (*p == '~') {
            d[o++] = '\r';
            d[o++] = '\n';
        } else {
            d[o++] = *p;
        }
    }
    d[o] = '\0';
    tr_result t;
    tr_mem(&t, d, o, 0);
    cr_assert_eq(t.nseg, 7);
    cr_assert_eq(t.delims[0].segment, '\r');
    cr_assert_str_eq(t.seg[2], "ST|837|0001|005010X222A1");
    tr_free(&t);

    /* LF alone, indented, and no newline after the last segment */
    o = 0;
    for (const char *p = simple; *p; p++) {
        if (*p == '~') {
            if (p[1]) {
                d[o++] = '\n';
                d[o++] = ' ';
                d[o++] = ' ';
            }
        } else {
            d[o++] = *p;
        }
    }
    d[o] = '\0';
    tr_mem(&t, d, o, 0);
    cr_assert_eq(t.rc, X12_END);
    cr_assert_eq(t.nseg, 7);
    cr_assert_eq(t.delims[0].segment, '\n');
    cr_assert_str_eq(t.seg[6], "IEA|1|000000001");
    tr_free(&t);
}

Test(reader, text_before_the_first_isa_is_reported_and_skipped)
{
    char d[1024];
    snprintf(d, sizeof d, "From: payer gateway\nVISA batch 12\n%s", simple);
    tr_result t;
    tr_mem(&t, d, strlen(d), 0);
    cr_assert_eq(t.nseg, 7);
    int i = tr_find(&t, "text.before_isa");
    cr_assert_geq(i, 0);
    cr_assert_eq(t.diag[i].severity, X12_SEV_WARNING);
    cr_assert_eq(t.diag[i].pos.offset, 0);
    cr_assert_eq(t.pos[0].offset, strlen("From: payer gateway\nVISA batch 12\n"));
    tr_free(&t);
}

Test(reader, several_interchanges_with_different_delimiters)
{
    const char *second =
        "ISA|00|          |00|          |ZZ|SENDER         |ZZ|RECEIVER       |261123|1200|!|00501|000000002|0|P|>\n"
        "GS|HC|S|R|20261123|1200|2|X|005010X222A1\nST|837|0002\nHI|ABK>J20.9!ABF>R05\nSE|3|0002\nGE|1|2\nIEA|1|000000002\n";
    char d[4096];
    snprintf(d, sizeof d, "%s\n%s", simple, second);
    tr_result t;
    tr_mem(&t, d, strlen(d), 0);
    cr_assert_eq(t.rc, X12_END);
    cr_assert_eq(t.nseg, 14);
    cr_assert_eq(t.delims[13].element, '|');
    cr_assert_eq(t.delims[13].repetition, '!');
    cr_assert_eq(t.delims[13].component, '>');
    cr_assert_eq(t.delims[13].segment, '\n');
    cr_assert_str_eq(t.seg[10], "HI|ABK>J20.9!ABF>R05");
    cr_assert_eq(t.pos[10].isa_index, 2);
    cr_assert_str_eq(t.pos[10].isa13, "000000002");
    cr_assert_eq(t.ndiag, 0);
    tr_free(&t);
}

Test(reader, whole_interchange_on_one_line)
{
    tr_result t;
    tr_mem(&t, simple, strlen(simple), 0);
    cr_assert_eq(t.nseg, 7);
    tr_free(&t);
}

Test(reader, utf16_is_rejected)
{
    const char le[] = "\xFF\xFEI\0S\0A\0*\0";
    tr_result t;
    tr_mem(&t, le, sizeof le - 1, 0);
    cr_assert_eq(t.rc, X12_FAIL);
    cr_assert_eq(t.nseg, 0);
    cr_assert_geq(tr_find(&t, "encoding.utf16"), 0);
    cr_assert_eq(t.err.code, CH_ERR_SYNTAX);
    const char nobom[] = "I\0S\0A\0*\0" "0\0" "0\0";
    tr_mem(&t, nobom, sizeof nobom - 1, 0);
    cr_assert_eq(t.rc, X12_FAIL);
    cr_assert_geq(tr_find(&t, "encoding.utf16"), 0);
}

Test(reader, short_isa_is_rejected)
{
    const char *d = "ISA*00*          *00*   ";
    tr_result t;
    tr_mem(&t, d, strlen(d), 0);
    cr_assert_eq(t.rc, X12_FAIL);
    cr_assert_geq(tr_find(&t, "isa.malformed"), 0);
    cr_assert_eq(t.diag[tr_find(&t, "isa.malformed")].severity, X12_SEV_FATAL);
    cr_assert(strstr(t.err.msg, "16 element separators"), "%s", t.err.msg);
}

Test(reader, isa_that_is_not_fixed_width_is_read_and_reported)
{
    const char *d = "ISA*00* *00* *ZZ*NVMED *ZZ*99999999 *261123*1200*^*00501*000000001*0*P*:~"
                    "GS*HP*S*R*20261123*1200*1*X*005010X221A1~ST*835*0001~SE*2*0001~GE*1*1~IEA*1*000000001~";
    tr_result t;
    tr_mem(&t, d, strlen(d), 0);
    cr_assert_eq(t.rc, X12_END);
    cr_assert_eq(t.nseg, 6);
    int i = tr_find(&t, "isa.width");
    cr_assert_geq(i, 0);
    cr_assert_eq(t.diag[i].elem, 2);
    cr_assert_str_eq(t.diag[i].ta1, "011");
    cr_assert_eq(t.diag[i].severity, X12_SEV_ERROR);
    tr_free(&t);
}

Test(reader, delimiter_that_is_a_letter_or_digit_is_rejected)
{
    char d[512];
    /* component separator (ISA16) 'A' */
    snprintf(d, sizeof d, "%s", simple);
    d[104] = 'A';
    tr_result t;
    tr_mem(&t, d, strlen(d), 0);
    cr_assert_eq(t.rc, X12_FAIL);
    cr_assert_geq(tr_find(&t, "delim.component"), 0);
    /* element separator '5' */
    const char *e5 = "ISA500500          ...";
    tr_mem(&t, e5, strlen(e5), 0);
    cr_assert_eq(t.rc, X12_FAIL);
    /* segment terminator 'Z' */
    snprintf(d, sizeof d, "%s", simple);
    d[105] = 'Z';
    tr_mem(&t, d, strlen(d), 0);
    cr_assert_eq(t.rc, X12_FAIL);
    cr_assert_geq(tr_find(&t, "delim.segment"), 0);
}

Test(reader, isa11_letter_in_5010_means_no_repetition_separator)
{
    char d[512];
    snprintf(d, sizeof d, "%s", simple);
    d[82] = 'U';
    tr_result t;
    tr_mem(&t, d, strlen(d), 0);
    cr_assert_eq(t.rc, X12_END);
    cr_assert_eq(t.delims[0].repetition, '\0');
    int i = tr_find(&t, "delim.repetition");
    cr_assert_geq(i, 0);
    cr_assert_eq(t.diag[i].severity, X12_SEV_WARNING);
    tr_free(&t);
}

Test(reader, segment_without_a_tag_is_an_error_and_reading_goes_on)
{
    const char *d = TR_ISA "GS*HC*S*R*20261123*1200*1*X*005010X222A1~ST*837*0001~*IC*X~Nd4*1~SE*4*0001~GE*1*1~IEA*1*000000001~";
    tr_result t;
    tr_mem(&t, d, strlen(d), 0);
    cr_assert_eq(t.rc, X12_END);
    cr_assert_eq(t.nseg, 8);
    int i = tr_find(&t, "segment.no_tag");
    cr_assert_geq(i, 0);
    cr_assert_eq(t.diag[i].pos.seg_in_st, 2);
    cr_assert_str_eq(t.diag[i].ik3, "1");
    i = tr_find(&t, "segment.bad_tag");
    cr_assert_geq(i, 0);
    cr_assert_str_eq(t.diag[i].found, "Nd4");
    cr_assert_eq(t.diag[i].pos.seg_in_st, 3);
    tr_free(&t);
}

Test(reader, file_that_ends_mid_segment_is_rejected)
{
    const char *d = TR_ISA "GS*HC*S*R*20261123*1200*1*X*005010X222A1~ST*837*0001~NM1*85*2*ACM";
    tr_result t;
    tr_mem(&t, d, strlen(d), 0);
    cr_assert_eq(t.rc, X12_FAIL);
    cr_assert_eq(t.nseg, 3);
    int i = tr_find(&t, "segment.eof");
    cr_assert_geq(i, 0);
    cr_assert_eq(t.diag[i].pos.offset, strlen(TR_ISA) + strlen("GS*HC*S*R*20261123*1200*1*X*005010X222A1~ST*837*0001~"));
    cr_assert(strstr(t.err.msg, "NM1"), "%s", t.err.msg);
    tr_free(&t);
}

Test(reader, overlong_segment_is_an_error_not_an_allocation)
{
    size_t n = 10000;
    char *d = malloc(strlen(TR_ISA) + n + 16);
    strcpy(d, TR_ISA "NTE*");
    size_t o = strlen(d);
    memset(d + o, 'A', n);
    strcpy(d + o + n, "~");
    tr_result t;
    tr_fd(&t, d, strlen(d), 4096, 2048);
    cr_assert_eq(t.rc, X12_FAIL);
    cr_assert_geq(tr_find(&t, "segment.too_long"), 0);
    cr_assert_eq(t.err.code, CH_ERR_LIMIT);
    tr_free(&t);
    free(d);
}

Test(reader, bin_segment_may_hold_the_terminator)
{
    const char *d = TR_ISA "GS*PI*S*R*20261123*1200*1*X*005010X211~ST*275*0001~"
                    "BIN*12*ab~cd*ef\n~gh~SE*3*0001~GE*1*1~IEA*1*000000001~";
    tr_result t;
    tr_mem(&t, d, strlen(d), 0);
    cr_assert_eq(t.rc, X12_END);
    cr_assert_eq(t.nseg, 7);
    cr_assert_str_eq(t.seg[3], "BIN|12|ab~cd*ef\n~gh");
    cr_assert_eq(t.ndiag, 0);
    tr_free(&t);
}

Test(reader, bin_segment_with_a_wrong_length_is_reported)
{
    const char *d = TR_ISA "GS*PI*S*R*20261123*1200*1*X*005010X211~ST*275*0001~"
                    "BIN*5*abc~SE*3*0001~GE*1*1~IEA*1*000000001~";
    tr_result t;
    tr_mem(&t, d, strlen(d), 0);
    cr_assert_eq(t.rc, X12_END);
    cr_assert_geq(tr_find(&t, "binary.length"), 0);
    tr_free(&t);
}

/* Every split point: a read boundary at every byte, and at every k bytes,
 * gives exactly what reading the whole buffer gives. */
Test(reader, every_buffer_split_point)
{
    const char *d = TR_ISA "GS*PI*S*R*20261123*1200*1*X*005010X211~\r\nST*275*0001~"
                    "BIN*12*ab~cd*ef\n~gh~  NM1*85*2*ACME~SE*4*0001~GE*1*1~IEA*1*000000001~\n";
    tr_result whole, part;
    tr_mem(&whole, d, strlen(d), 0);
    cr_assert_eq(whole.rc, X12_END);
    for (size_t k = 1; k <= strlen(d) + 1; k++) {
        tr_fd(&part, d, strlen(d), k, 0);
        cr_assert_eq(part.rc, X12_END, "read size %zu", k);
        cr_assert_eq(part.nseg, whole.nseg, "read size %zu", k);
        for (int i = 0; i < whole.nseg; i++) {
            cr_assert_str_eq(part.seg[i], whole.seg[i], "read size %zu seg %d", k, i);
            cr_assert_eq(part.pos[i].offset, whole.pos[i].offset);
        }
        cr_assert_eq(part.ndiag, whole.ndiag);
        tr_free(&part);
    }
    tr_free(&whole);
}

/* Memory stays bounded: 128 MB through a pipe raises peak RSS by little. */
typedef struct feeder {
    int fd;
    size_t total;
} feeder;

static void *feed(void *arg)
{
    feeder *f = arg;
    static const char head[] = TR_ISA "GS*HC*S*R*20261123*1200*1*X*005010X222A1~ST*837*0001~";
    static const char line[] = "SV1*HC:99213:25*125.5*UN*1***1~DTP*472*D8*20261101~\n";
    if (write(f->fd, head, sizeof head - 1) < 0)
        return NULL;
    char block[65536];
    size_t n = 0;
    while (n + sizeof line < sizeof block) {
        memcpy(block + n, line, sizeof line - 1);
        n += sizeof line - 1;
    }
    size_t sent = 0;
    while (sent < f->total) {
        ssize_t w = write(f->fd, block, n);
        if (w <= 0)
            break;
        sent += (size_t)w;
    }
    close(f->fd);
    return NULL;
}

Test(reader, memory_is_bounded_whatever_the_size)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    /* under valgrind (make valgrind) a smaller stream proves the same */
    feeder f = {p[1], getenv("CH_VALGRIND") ? (size_t)16 << 20 : (size_t)128 << 20};
    pthread_t th;
    pthread_create(&th, NULL, feed, &f);
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    x12_reader *r;
    x12_open_fd(&r, p[0], "pipe", NULL, NULL);
    x12_segment s;
    unsigned long n = 0;
    while (x12_next(r, &s) == X12_SEGMENT)
        n++;
    x12_close(r);
    pthread_join(th, NULL);
    close(p[0]);
    getrusage(RUSAGE_SELF, &after);
    cr_assert_gt(n, getenv("CH_VALGRIND") ? 300000ul : 2500000ul);
    cr_assert_lt(after.ru_maxrss - before.ru_maxrss, 8 * 1024, "RSS grew by %ld KiB",
                 after.ru_maxrss - before.ru_maxrss);
}

/* Inputs the fuzzer once crashed on, read from an exactly-sized heap copy so
 * the sanitizer build sees any read past the end. */
#include <dirent.h>
Test(reader, fuzz_regressions_read_safely)
{
    const char *root = getenv("CH_ROOT") ? getenv("CH_ROOT") : ".";
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/regressions", root);
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s", dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *fp = fopen(path, "rb");
        cr_assert_not_null(fp);
        fseek(fp, 0, SEEK_END);
        long len = ftell(fp);
        rewind(fp);
        char *buf = malloc((size_t)len);
        cr_assert_eq(fread(buf, 1, (size_t)len, fp), (size_t)len);
        fclose(fp);
        tr_result t;
        tr_mem(&t, buf, (size_t)len, 4096);
        tr_free(&t);
        tr_fd(&t, buf, (size_t)len, 7, 4096);
        tr_free(&t);
        free(buf);
        n++;
    }
    closedir(d);
    cr_assert_gt(n, 0);
}

/* What the tokenizer says of a segment's bytes with opts.classify (the
 * validator's fast checks rely on it): recomputed byte by byte. */
static void check_classes(const x12_segment *s)
{
    if (!(s->cls & X12_CLS_DONE))
        return;
    cr_assert_leq(s->raw_len, X12_CLS_MAX);
    cr_assert(s->padded, "classified segments are padded");
    int odd = 0, anyc = 0;
    for (size_t b = 0; b < s->raw_len; b++) {
        unsigned char c = (unsigned char)s->raw[b];
        int is_comp = c == (unsigned char)s->delims->component;
        int bit = (int)((s->cbits[b / 64] >> (b % 64)) & 1);
        cr_assert_eq(bit, is_comp, "byte %zu of a %zu-byte segment", b, s->raw_len);
        anyc |= is_comp;
        odd |= c < 0x20 || c >= 0x7f || c == (unsigned char)s->delims->repetition;
    }
    /* bits past the segment in its last word are clear: stale bits of an
     * earlier segment would send the last element to the full checks */
    if (s->raw_len % 64)
        cr_assert_eq(s->cbits[s->raw_len / 64] >> (s->raw_len % 64), 0);
    cr_assert_eq(!!(s->cls & X12_CLS_ODD), odd);
    cr_assert_eq(!!(s->cls & X12_CLS_COMP), anyc);
}

Test(reader, classified_bytes_match_the_segment)
{
    /* segments of every length up to past X12_CLS_MAX, with component and
     * repetition separators, control and high bytes here and there */
    static char data[400000];
    size_t n = (size_t)snprintf(data, sizeof data, "%s", TR_ISA "GS*HC*S*R*20261123*1200*1*X*005010X222A1~");
    uint64_t st = 42;
    unsigned classified = 0;
    for (unsigned len = 1; len < 700; len++) {
        n += (size_t)snprintf(data + n, sizeof data - n, "NTE");
        for (unsigned b = 0; b < len; b++) {
            st ^= st << 13, st ^= st >> 7, st ^= st << 17;
            unsigned r = (unsigned)(st % 64);
            data[n++] = r < 6 ? ':' : r < 9 ? '*' : r == 9 && len % 5 == 0 ? '^'
                      : r == 10 && len % 7 == 0 ? '\x01' : r == 11 && len % 11 == 0 ? '\xc3'
                      : (char)('A' + r % 26);
        }
        data[n++] = '~';
        if (len % 3 == 0)
            data[n++] = '\n';
    }
    n += (size_t)snprintf(data + n, sizeof data - n, "GE*1*1~IEA*1*000000001~");
    for (int mode = 0; mode < 3; mode++) {
        x12_reader_opts o = {.classify = 1, .read_size = mode == 2 ? 13 : 0};
        x12_reader *r;
        FILE *fp = NULL;
        if (mode == 0) {
            x12_open_mem(&r, data, n, "m", &o, NULL);
        } else {
            fp = tmpfile();
            cr_assert_not_null(fp);
            cr_assert_eq(fwrite(data, 1, n, fp), n);
            fflush(fp);
            rewind(fp);
            x12_open_fd(&r, fileno(fp), "f", &o, NULL);
        }
        x12_segment s;
        while (x12_next(r, &s) == X12_SEGMENT) {
            check_classes(&s);
            classified += (s.cls & X12_CLS_DONE) != 0;
        }
        x12_close(r);
        if (fp)
            fclose(fp);
    }
    cr_assert_gt(classified, 2 * 480, "most segments are classified: %u", classified);
    /* without the option nothing is */
    x12_reader *r;
    x12_open_mem(&r, data, n, "m", NULL, NULL);
    x12_segment s;
    while (x12_next(r, &s) == X12_SEGMENT)
        cr_assert_eq(s.cls, 0);
    x12_close(r);
}
