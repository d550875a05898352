/*
 * test_corpus.c - every public sample in tests/corpus (copied from
 * ../shared/corpus with SOURCES.tsv, its attribution) is read, and what the
 * tokenizer and envelope checker find agrees with the independent reading in
 * ENVELOPES.txt: delimiters, segment and transaction counts, and an envelope
 * problem exactly where it says PROBS.
 */
#include <criterion/criterion.h>
#include <fcntl.h>

#include "reader_helpers.h"

typedef struct corpus_run {
    unsigned nseg, nst, nerr_env, fatal;
    char codes[2048];
    x12_delims d;
    int have_d;
} corpus_run;

static void on_diag(void *ctx, const x12_diag *d)
{
    corpus_run *c = ctx;
    if (d->severity == X12_SEV_WARNING)
        return;
    if (d->severity == X12_SEV_FATAL)
        c->fatal++;
    size_t o = strlen(c->codes);
    snprintf(c->codes + o, sizeof c->codes - o, "%s:%s%02d ", d->code, d->tag, d->elem);
}

static void st_open(void *ctx, const x12_gs_info *g, const x12_st_info *t)
{
    (void)g;
    (void)t;
    ((corpus_run *)ctx)->nst++;
}

static void run_file(const char *path, corpus_run *c)
{
    memset(c, 0, sizeof *c);
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0, "%s", path);
    x12_reader_opts o = {.on_diag = on_diag, .diag_ctx = c};
    x12_env_events ev = {.st_open = st_open, .ctx = c};
    x12_reader *r;
    x12_open_fd(&r, fd, path, &o, NULL);
    x12_env *e = x12_env_new(path, &ev, on_diag, c);
    x12_segment s;
    x12_pos last = {0};
    while (x12_next(r, &s) == X12_SEGMENT) {
        if (!c->have_d) {
            c->d = *s.delims;
            c->have_d = 1;
        }
        c->nseg++;
        x12_env_feed(e, &s);
        last = s.pos;
    }
    x12_env_finish(e, &last);
    x12_env_free(e);
    x12_close(r);
    close(fd);
}

static char parse_delim(const char *field)
{
    /* es='*'  segt='\n'  comp='\\' */
    const char *q = strchr(field, '\'');
    if (!q)
        return 0;
    if (q[1] == '\\')
        return q[2] == 'n' ? '\n' : q[2] == 'r' ? '\r' : q[2];
    return q[1];
}

static const char *field(const char *line, const char *key, char *buf, size_t size)
{
    const char *p = strstr(line, key);
    if (!p)
        return NULL;
    p += strlen(key);
    size_t n = strcspn(p, " \t\n");
    if (n >= size)
        n = size - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

Test(corpus, every_sample_agrees_with_envelopes_txt, .timeout = 60)
{
    const char *root = getenv("CH_ROOT") ? getenv("CH_ROOT") : ".";
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/corpus/ENVELOPES.txt", root);
    FILE *fp = fopen(path, "r");
    cr_assert_not_null(fp, "%s", path);
    char line[4096], fails[16384] = "";
    int nfiles = 0;
    while (fgets(line, sizeof line, fp)) {
        char name[512];
        if (sscanf(line, "%511s", name) != 1)
            continue;
        snprintf(path, sizeof path, "%s/tests/corpus/%s", root, name);
        corpus_run c;
        run_file(path, &c);
        nfiles++;
        char why[1024] = "";
        size_t w = 0;
#define FAILF(...) (w += (size_t)snprintf(why + w, sizeof why - w, __VA_ARGS__))
        if (strstr(line, "ERR no ISA")) {
            if (!strstr(c.codes, "isa.missing"))
                FAILF("expected isa.missing; ");
        } else {
            char b[64];
            if (field(line, "es=", b, sizeof b) && parse_delim(b) != c.d.element)
                FAILF("element sep; ");
            if (field(line, "comp=", b, sizeof b) && parse_delim(b) != c.d.component)
                FAILF("component sep; ");
            if (field(line, "segt=", b, sizeof b) && parse_delim(b) != c.d.segment)
                FAILF("terminator; ");
            if (field(line, " st=", b, sizeof b)) {
                const char *x = strchr(b, 'x');
                if (x && (unsigned)atoi(x + 1) != c.nst)
                    FAILF("transactions %s, read %u; ", x + 1, c.nst);
            }
            if (field(line, "nseg=", b, sizeof b) && (unsigned)atoi(b) != c.nseg &&
                !strstr(name, "BIN01"))
                FAILF("segments %s, read %u; ", b, c.nseg);
            const char *probs = strstr(line, "PROBS:");
            struct { const char *says, *code; } map[] = {
                {"SE01=", "envelope.count:SE01"}, {"GE01=", "envelope.count:GE01"},
                {"IEA01=", "envelope.count:IEA01"}, {"SE02", "envelope.control:SE02"},
                {"GE02", "envelope.control:GE02"}, {"IEA02", "envelope.control:IEA02"},
                {"missing SE", "envelope.se_missing"}, {"missing GE", "envelope.ge_missing"},
                {"missing IEA", "envelope.iea_missing"}};
            for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
                int says = probs && strstr(probs, map[i].says);
                int found = strstr(c.codes, map[i].code) != NULL;
                if (says != found)
                    FAILF("%s: ENVELOPES %s, read %s; ", map[i].code, says ? "yes" : "no",
                          found ? "yes" : "no");
            }
            if (c.fatal)
                FAILF("fatal: %s; ", c.codes);
        }
        if (w)
            snprintf(fails + strlen(fails), sizeof fails - strlen(fails), "\n%s: %s", name, why);
#undef FAILF
    }
    fclose(fp);
    cr_assert_geq(nfiles, 85);
    cr_assert_str_empty(fails, "disagreements:%s", fails);
}
