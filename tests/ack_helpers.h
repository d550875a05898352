/*
 * ack_helpers.h - test helpers for x12_ack: run a stream through the
 * tokenizer, a pipeline's own envelope checker and the acknowledger, with
 * hand-made diagnostics injected at chosen segments; read back the files it
 * wrote and check each one: the tokenizer and envelope checker find nothing,
 * every 999 segment agrees with the 999 guide table (guide_lite.h), the
 * segments come in the order the guide sets, and IK5/TA1 hold together.
 */
#ifndef ACK_HELPERS_H
#define ACK_HELPERS_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "guide_lite.h"
#include "reader_helpers.h"
#include "x12_ack.h"

/* Once the guide validator is in the tree, every 999 also passes it. */
#if defined(__has_include)
#if __has_include("x12_validate.h")
#include "x12_validate.h"
#define ACK_HAVE_VALIDATOR 1
#endif
#endif

#define ACK_NOW 1795437240 /* 2026-11-23 12:34 UTC */
#define ACK_MAX_OUT 1024

/* A diagnostic to send about the nth segment tagged `at`. */
typedef struct ack_inject {
    const char *at;
    int nth;
    int before;              /* send it before the segment is fed */
    x12_severity sev;        /* 0: error */
    int level;               /* 0: 2 */
    const char *tag;         /* NULL: the segment's */
    const char *loop;
    int elem, comp, rep;
    unsigned ref;
    const char *ik3, *ik4, *ik5, *ak9, *ta1, *found;
    int every;               /* every segment tagged `at`, not just the nth */
    unsigned seg_in_st;      /* report at this position instead (a rule
                                reported at its loop's first segment) */
} ack_inject;

typedef struct ack_out {
    char root[64];           /* temporary directory */
    char dir[96];            /* root/acks, made by the acknowledger */
    ch_code rc;              /* x12_ack_finish */
    ch_error err;
    unsigned n;
    char path[ACK_MAX_OUT][256];
    char *text[ACK_MAX_OUT];
} ack_out;

static inline void ak_forward(void *ctx, const x12_diag *d) { x12_ack_diag(ctx, d); }

static inline void ak_inject(x12_ack *a, const x12_segment *s, const ack_inject *in)
{
    x12_diag d;
    x12_diag_init(&d, "t", &s->pos, in->sev ? in->sev : X12_SEV_ERROR, in->level ? in->level : 2,
                  "guide.test");
    if (in->tag)
        snprintf(d.tag, sizeof d.tag, "%s", in->tag);
    else
        x12_copy(s->tag, d.tag, sizeof d.tag);
    if (in->seg_in_st)
        d.pos.seg_in_st = in->seg_in_st;
    d.loop_id = in->loop;
    d.elem = in->elem;
    d.comp = in->comp;
    d.rep = in->rep;
    d.ele_ref = in->ref;
    snprintf(d.ik3, sizeof d.ik3, "%s", in->ik3 ? in->ik3 : "");
    snprintf(d.ik4, sizeof d.ik4, "%s", in->ik4 ? in->ik4 : "");
    snprintf(d.ik5, sizeof d.ik5, "%s", in->ik5 ? in->ik5 : "");
    snprintf(d.ak9, sizeof d.ak9, "%s", in->ak9 ? in->ak9 : "");
    snprintf(d.ta1, sizeof d.ta1, "%s", in->ta1 ? in->ta1 : "");
    if (in->found)
        x12_diag_found(&d, in->found, strlen(in->found));
    x12_ack_diag(a, &d);
}

static inline char *ak_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = '\0';
    fclose(f);
    return b;
}

static void ak_verify(const char *path, const char *text);

static inline void ak_collect(ack_out *o, x12_ack *a)
{
    char **paths;
    o->n = x12_ack_files(a, &paths);
    cr_assert_leq(o->n, ACK_MAX_OUT);
    for (unsigned i = 0; i < o->n; i++) {
        snprintf(o->path[i], sizeof o->path[i], "%s", paths[i]);
        o->text[i] = ak_slurp(paths[i]);
        cr_assert(o->text[i], "%s unreadable", paths[i]);
        ak_verify(paths[i], o->text[i]);
    }
}

/* Run data through everything; opts may be NULL.  Files go to opts->dir, or
 * to a new temporary directory. */
static inline void ak_run(ack_out *o, const char *data, size_t len, const ack_inject *inj,
                          int ninj, const x12_ack_opts *opts)
{
    memset(o, 0, sizeof *o);
    x12_ack_opts op = opts ? *opts : (x12_ack_opts){0};
    if (op.dir) {
        snprintf(o->dir, sizeof o->dir, "%s", op.dir);
    } else {
        snprintf(o->root, sizeof o->root, "/tmp/ch-ack-XXXXXX");
        cr_assert(mkdtemp(o->root));
        snprintf(o->dir, sizeof o->dir, "%s/acks", o->root);
        op.dir = o->dir;
    }
    op.basename = op.basename ? op.basename : "t";
    op.now = op.now ? op.now : ACK_NOW;
    ch_error err;
    x12_ack *a = x12_ack_new(&op, &err);
    cr_assert(a, "%s", err.msg);
    x12_reader_opts ro = {.on_diag = ak_forward, .diag_ctx = a};
    x12_reader *r;
    x12_open_mem(&r, data, len, "t", &ro, NULL);
    x12_env *env = x12_env_new("t", NULL, ak_forward, a); /* skipped by the ack */
    int cnt[32] = {0};
    x12_segment s;
    x12_pos last = {0};
    while (x12_next(r, &s) == X12_SEGMENT) {
        int hit[32] = {0};
        for (int i = 0; i < ninj && i < 32; i++)
            hit[i] = x12_is(&s, inj[i].at) &&
                     (++cnt[i] == (inj[i].nth ? inj[i].nth : 1) || inj[i].every);
        for (int i = 0; i < ninj && i < 32; i++)
            if (hit[i] && inj[i].before)
                ak_inject(a, &s, &inj[i]);
        x12_env_feed(env, &s);
        x12_ack_feed(a, &s);
        for (int i = 0; i < ninj && i < 32; i++)
            if (hit[i] && !inj[i].before)
                ak_inject(a, &s, &inj[i]);
        last = s.pos;
    }
    x12_env_finish(env, &last);
    o->rc = x12_ack_finish(a, &o->err);
    ak_collect(o, a);
    x12_ack_free(a);
    x12_env_free(env);
    x12_close(r);
}

static inline void ak_run_str(ack_out *o, const char *data, const ack_inject *inj, int ninj)
{
    ak_run(o, data, strlen(data), inj, ninj, NULL);
}

static inline void ak_done(ack_out *o)
{
    for (unsigned i = 0; i < o->n; i++)
        free(o->text[i]);
    DIR *d = opendir(o->dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, ".."))) {
            snprintf(p, sizeof p, "%s/%s", o->dir, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
    rmdir(o->dir);
    if (o->root[0])
        rmdir(o->root);
}

/* Index of the file whose name ends with suffix, or -1. */
static inline int ak_file(const ack_out *o, const char *suffix)
{
    size_t n = strlen(suffix);
    for (unsigned i = 0; i < o->n; i++) {
        size_t l = strlen(o->path[i]);
        if (l >= n && !strcmp(o->path[i] + l - n, suffix))
            return (int)i;
    }
    return -1;
}

/* Split an acknowledgment ("SEG~\n" each) into segments; returns how many. */
static inline int ak_segs(const char *text, char segs[][512], int max)
{
    int n = 0;
    for (const char *p = text; *p && n < max;) {
        const char *t = strstr(p, "~\n");
        size_t len = t ? (size_t)(t - p) : strlen(p);
        snprintf(segs[n++], 512, "%.*s", (int)len, p);
        p += len + (t ? 2 : 0);
    }
    return n;
}

/* Position of the segment (exactly) in text, or -1. */
static inline int ak_index(const char *text, const char *seg)
{
    static char segs[4096][512];
    int n = ak_segs(text, segs, 4096);
    for (int i = 0; i < n; i++)
        if (!strcmp(segs[i], seg))
            return i;
    return -1;
}

static inline int ak_count(const char *text, const char *prefix)
{
    static char segs[4096][512];
    int n = ak_segs(text, segs, 4096), c = 0;
    for (int i = 0; i < n; i++)
        c += !strncmp(segs[i], prefix, strlen(prefix));
    return c;
}

#define ak_assert_seg(text, seg) cr_assert_geq(ak_index(text, seg), 0, "no %s in\n%s", seg, text)

/* The segment order the 999 guide sets: what may follow each tag. */
static inline int ak_order_ok(const char *prev, const char *tag)
{
    static const char *const next[][2] = {
        {"ISA", "GS"}, {"GS", "ST"}, {"ST", "AK1"}, {"AK1", "AK2 AK9"},
        {"AK2", "IK3 IK5"}, {"IK3", "CTX IK3 IK4 IK5"}, {"CTX", "CTX IK3 IK4 IK5"},
        {"IK4", "CTX IK4 IK3 IK5"}, {"IK5", "AK2 AK9"}, {"AK9", "SE"}, {"SE", "GE"},
        {"GE", "IEA"}};
    for (size_t i = 0; i < sizeof next / sizeof *next; i++)
        if (!strcmp(next[i][0], prev)) {
            char w[8];
            snprintf(w, sizeof w, "%s", tag);
            const char *p = strstr(next[i][1], w);
            size_t l = strlen(w);
            return p && (p[l] == ' ' || p[l] == '\0');
        }
    return 0;
}

typedef struct env_collect {
    int n;
    char first[300];
} env_collect;

static inline void ak_env_diag(void *ctx, const x12_diag *d)
{
    env_collect *c = ctx;
    if (!c->n++)
        snprintf(c->first, sizeof c->first, "%s: %s", d->code, d->msg);
}

/* Tokenizer and envelope checker read it without a word. */
static inline void ak_reread(const char *path, const char *text)
{
    env_collect c = {0};
    x12_reader_opts ro = {.on_diag = ak_env_diag, .diag_ctx = &c};
    x12_env *e = x12_env_new("ack", NULL, ak_env_diag, &c);
    x12_reader *r;
    x12_open_mem(&r, text, strlen(text), "ack", &ro, NULL);
    x12_segment s;
    x12_pos last = {0};
    int rc;
    while ((rc = x12_next(r, &s)) == X12_SEGMENT) {
        x12_env_feed(e, &s);
        last = s.pos;
    }
    x12_env_finish(e, &last);
    x12_close(r);
    x12_env_free(e);
    cr_assert_eq(rc, X12_END, "%s: %s", path, c.first);
    cr_assert_eq(c.n, 0, "%s: %s\n%s", path, c.first, text);
}

#ifdef ACK_HAVE_VALIDATOR
/* The guide validator finds nothing in it (and knows the 999 guide). */
static inline void ak_validate(const char *path, const char *text)
{
    env_collect c = {0};
    x12_validator *v = x12_validator_new(path, ak_env_diag, &c);
    x12_reader *r;
    x12_open_mem(&r, text, strlen(text), path, NULL, NULL);
    x12_segment s;
    x12_pos last = {0};
    while (x12_next(r, &s) == X12_SEGMENT) {
        x12_validator_feed(v, &s);
        last = s.pos;
    }
    x12_validator_finish(v, &last);
    unsigned unchecked = x12_validator_sets_unchecked(v);
    x12_validator_free(v);
    x12_close(r);
    cr_assert_eq(c.n, 0, "%s: validator: %s\n%s", path, c.first, text);
    cr_assert_eq(unchecked, 0, "%s: the validator has no 999 guide", path);
}
#else
static inline void ak_validate(const char *path, const char *text)
{
    (void)path;
    (void)text;
}
#endif

/* Set by a test that asks for IK303 longer than the guide allows. */
static int ak_long_loops;

static void ak_verify(const char *path, const char *text)
{
    static char segs[4096][512];
    int n = ak_segs(text, segs, 4096);
    cr_assert_geq(n, 3, "%s", path);
    cr_assert_eq(strlen(segs[0]), 105, "%s: ISA is %zu wide", path, strlen(segs[0]) + 1);
    cr_assert(!strncmp(segs[0] + 99, "*0*", 3), "%s: ISA14 %s", path, segs[0]);
    ak_reread(path, text);
    if (strstr(path, ".ta1")) {
        cr_assert_eq(n, 3, "%s", path);
        char v[5][32];
        for (int i = 0; i < 5; i++)
            gl_piece(segs[1], '*', i + 2, v[i], sizeof v[i]);
        cr_assert(!strncmp(segs[1], "TA1*", 4));
        cr_assert(strlen(v[0]) == 9 && strlen(v[1]) == 6 && strlen(v[2]) == 4, "%s", segs[1]);
        cr_assert(strstr(" A E R ", v[3]) && strlen(v[3]) == 1, "%s", segs[1]);
        cr_assert_eq(strlen(v[4]), 3, "%s", segs[1]);
        cr_assert(!strncmp(segs[2], "IEA*0*", 6), "%s", segs[2]);
        return;
    }
    static gl_guide g;
    if (!g.nseg)
        gl_load(&g, "999.guide");
    cr_assert_gt(g.nseg, 5);
    char why[512], prev[4] = "ISA";
    for (int i = 1; i < n; i++) {
        char tag[8];
        gl_piece(segs[i], '*', 1, tag, sizeof tag);
        cr_assert(ak_order_ok(prev, tag), "%s: %s after %s\n%s", path, tag, prev, text);
        snprintf(prev, sizeof prev, "%s", tag);
        char seg[512];
        snprintf(seg, sizeof seg, "%s", segs[i]);
        if (ak_long_loops && !strcmp(tag, "IK3")) { /* IK303 cut as the default would */
            char *l = strchr(strchr(strchr(seg, '*') + 1, '*') + 1, '*') + 1;
            char *end = strchr(l, '*');
            if (end && end - l > 4)
                memmove(l + 4, end, strlen(end) + 1);
        }
        if (i >= 2 && i < n - 2)
            cr_assert(gl_check(&g, seg, why, sizeof why), "%s: %s", path, why);
        if (!strcmp(tag, "IK5")) {
            int a = !strncmp(segs[i], "IK5*A", 5);
            cr_assert_eq(a, !strchr(segs[i] + 4, '*'), "%s: IK502 with IK501: %s", path, segs[i]);
        }
    }
    cr_assert(!strncmp(segs[1], "GS*FA*", 6) && strstr(segs[1], "*X*005010X231A1"), "%s", segs[1]);
    if (!ak_long_loops)
        ak_validate(path, text);
}

#endif
