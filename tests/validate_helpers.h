/* validate_helpers.h - run the validator on text from a test and look at
 * what it reported. */
#ifndef VALIDATE_HELPERS_H
#define VALIDATE_HELPERS_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x12_guide.h"
#include "x12_reader.h"
#include "x12_validate.h"

/* A diagnostic kept after its callback: the strings it points to (file,
 * loop) are copied into the entry, since the validator's and the guide's
 * may be gone when the test looks. */
typedef struct vdiag_entry {
    x12_diag d;
    char file[64], loop_id[16], loop_name[96];
} vdiag_entry;

typedef struct vdiags {
    vdiag_entry **e;
    size_t n, cap;
} vdiags;

static inline void vd_collect(void *ctx, const x12_diag *d)
{
    vdiags *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 32;
        c->e = realloc(c->e, c->cap * sizeof *c->e);
        cr_assert(c->e);
    }
    vdiag_entry *k = calloc(1, sizeof *k);
    cr_assert(k);
    k->d = *d;
    snprintf(k->file, sizeof k->file, "%s", d->file ? d->file : "");
    k->d.file = k->file;
    if (d->loop_id) {
        snprintf(k->loop_id, sizeof k->loop_id, "%s", d->loop_id);
        k->d.loop_id = k->loop_id;
    }
    if (d->loop_name) {
        snprintf(k->loop_name, sizeof k->loop_name, "%s", d->loop_name);
        k->d.loop_name = k->loop_name;
    }
    c->e[c->n++] = k;
}

static inline void vd_free(vdiags *c)
{
    for (size_t k = 0; k < c->n; k++)
        free(c->e[k]);
    free(c->e);
    memset(c, 0, sizeof *c);
}

/* Parse a guide table given as text; fails the test when it is malformed. */
static inline x12_guide *vd_guide(const char *text)
{
    x12_guide *g = NULL;
    ch_error err = {0};
    ch_code rc = x12_guide_parse(text, strlen(text), "test.guide", &g, &err);
    cr_assert_eq(rc, CH_OK, "test guide: %s", err.msg);
    return g;
}

/*
 * Validate the X12 text x (tokenizer, then validator) with guide g (NULL:
 * the registry picks), collecting every diagnostic of both into *out.
 * Returns the validator's error count (the tokenizer's not included).
 */
static inline unsigned vd_run(const x12_guide *g, const char *x, vdiags *out)
{
    memset(out, 0, sizeof *out);
    x12_reader_opts ro = {.on_diag = vd_collect, .diag_ctx = out};
    x12_reader *r = NULL;
    ch_error err;
    cr_assert_eq(x12_open_mem(&r, x, strlen(x), "t.x12", &ro, &err), CH_OK);
    x12_validator *v = x12_validator_new("t.x12", vd_collect, out);
    cr_assert(v);
    if (g)
        x12_validator_use_guide(v, g);
    x12_segment seg;
    unsigned n = 0;
    while (x12_next(r, &seg) == X12_SEGMENT) {
        x12_validator_feed(v, &seg);
        n++;
    }
    x12_pos last = seg.pos;
    x12_validator_finish(v, n ? &last : NULL);
    unsigned errors = x12_validator_errors(v);
    x12_validator_free(v);
    x12_close(r);
    return errors;
}

/*
 * An interchange around body (segments after ST, before SE, each ending in
 * '~'): ISA/GS with version, ST st01 with ST03 = version, SE with the right
 * count.  Returns a malloc'ed string.
 */
static inline char *vd_wrap(const char *st01, const char *version, const char *body)
{
    size_t nseg = 2; /* ST and SE */
    for (const char *p = body; *p; p++)
        nseg += *p == '~';
    const char *gs01 = !strcmp(st01, "835") ? "HP" : !strcmp(st01, "999") ? "FA" : "HC";
    size_t cap = strlen(body) + 512;
    char *s = malloc(cap);
    cr_assert(s);
    snprintf(s, cap,
             "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *250115*1200*^*00501*"
             "000000001*0*T*:~"
             "GS*%s*SENDER*RECEIVER*20250115*1200*1*X*%s~"
             "ST*%s*0001*%s~%sSE*%zu*0001~GE*1*1~IEA*1*000000001~",
             gs01, version, st01, version, body, nseg);
    return s;
}

/* The i-th diagnostic with this code (0-based), or NULL. */
static inline const x12_diag *vd_find(const vdiags *c, const char *code, int i)
{
    for (size_t k = 0; k < c->n; k++)
        if (c->e[k]->d.code && !strcmp(c->e[k]->d.code, code) && i-- == 0)
            return &c->e[k]->d;
    return NULL;
}

static inline unsigned vd_count(const vdiags *c, const char *code)
{
    unsigned n = 0;
    for (size_t k = 0; k < c->n; k++)
        n += c->e[k]->d.code && !strcmp(c->e[k]->d.code, code);
    return n;
}

/* Errors (not warnings) in the collection. */
static inline unsigned vd_errors(const vdiags *c)
{
    unsigned n = 0;
    for (size_t k = 0; k < c->n; k++)
        n += c->e[k]->d.severity >= X12_SEV_ERROR;
    return n;
}

/* Print every diagnostic (for a failing test's log). */
static inline void vd_dump(const vdiags *c)
{
    for (size_t k = 0; k < c->n; k++) {
        const x12_diag *d = &c->e[k]->d;
        char line[1200];
        x12_diag_format(d, line, sizeof line, 1);
        fprintf(stderr, "  [%s st#%u ik3=%s ik4=%s ik5=%s] %s\n", d->code, d->pos.seg_in_st, d->ik3,
                d->ik4, d->ik5, line);
    }
}

/*
 * Assert that there is a diagnostic with code at segment seg_in_st of its
 * transaction set, element elem (-1: any) and component comp (-1: any),
 * with IK304 ik3 and IK403 ik4 (NULL: not checked).  Returns it.
 */
#define vd_expect(c, code, seg_in_st, elem, comp, ik3, ik4) \
    vd_expect_at(c, code, seg_in_st, elem, comp, ik3, ik4, __FILE__, __LINE__)

static inline const x12_diag *vd_expect_at(const vdiags *c, const char *code, unsigned seg_in_st,
                                           int elem, int comp, const char *ik3, const char *ik4,
                                           const char *file, int line)
{
    for (size_t k = 0; k < c->n; k++) {
        const x12_diag *d = &c->e[k]->d;
        if (!d->code || strcmp(d->code, code) || d->pos.seg_in_st != seg_in_st)
            continue;
        if ((elem >= 0 && d->elem != elem) || (comp >= 0 && d->comp != comp))
            continue;
        if ((ik3 && strcmp(d->ik3, ik3)) || (ik4 && strcmp(d->ik4, ik4)))
            continue;
        return d;
    }
    vd_dump(c);
    cr_assert_fail("%s:%d: no %s at segment %u of the set (element %d, component %d, ik3 %s, ik4 %s)",
                   file, line, code, seg_in_st, elem, comp, ik3 ? ik3 : "-", ik4 ? ik4 : "-");
    return NULL;
}

/* Read a whole file into a malloc'ed NUL-terminated string. */
static inline char *vd_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    cr_assert(s);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

#endif
