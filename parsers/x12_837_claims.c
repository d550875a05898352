/* x12_837_claims.c - see x12_837_claims.h */
#include "x12_837_claims.h"

#include <stdlib.h>
#include <string.h>

#include "x12_writer.h"

typedef struct scan {
    x12_837_claim c;
    int in_claim;
    int in_line;
    int nm1_ctx;   /* which entity the last NM1 named: 'B' billing, 'S' subscriber, 'P' patient, 'R' payer */
    int patient_is_subscriber;
    char gs08[13];
} scan;

static void cp(char *dst, size_t size, x12_str s)
{
    while (s.len && s.p[s.len - 1] == ' ')
        s.len--;
    x12_copy(s, dst, size);
}

static int64_t cents(x12_str s)
{
    int64_t v = 0;
    return x12_parse_cents(s.p, s.len, &v) == CH_OK ? v : 0;
}

/* "12" -> 12000, "1.5" -> 1500 */
static int64_t milli(x12_str s)
{
    int64_t c = cents(s);
    return c * 10;
}

static int flush(scan *s, x12_837_claim_fn fn, void *ctx)
{
    if (!s->in_claim)
        return 0;
    s->in_claim = 0;
    s->in_line = 0;
    x12_837_claim *c = &s->c;
    if (!c->date_from[0] && c->nlines) {
        /* claim dates: the span of its lines */
        for (unsigned i = 0; i < c->nlines; i++) {
            const char *f = c->lines[i].date_from, *t = c->lines[i].date_to[0] ? c->lines[i].date_to : f;
            if (f[0] && (!c->date_from[0] || strcmp(f, c->date_from) < 0))
                memcpy(c->date_from, f, 9);
            if (t[0] && (!c->date_to[0] || strcmp(t, c->date_to) > 0))
                memcpy(c->date_to, t, 9);
        }
    }
    return fn(ctx, c);
}

static void on_nm1(scan *s, const x12_segment *g)
{
    x12_837_claim *c = &s->c;
    x12_str q = x12_elem(g, 1);
    if (x12_eq(q, "85")) {
        cp(c->billing_name, sizeof c->billing_name, x12_elem(g, 3));
        cp(c->billing_npi, sizeof c->billing_npi, x12_elem(g, 9));
        s->nm1_ctx = 'B';
    } else if (x12_eq(q, "IL")) {
        cp(c->subscriber_last, sizeof c->subscriber_last, x12_elem(g, 3));
        cp(c->subscriber_first, sizeof c->subscriber_first, x12_elem(g, 4));
        cp(c->subscriber_id, sizeof c->subscriber_id, x12_elem(g, 9));
        if (s->patient_is_subscriber) {
            memcpy(c->patient_last, c->subscriber_last, sizeof c->patient_last);
            memcpy(c->patient_first, c->subscriber_first, sizeof c->patient_first);
        }
        s->nm1_ctx = 'S';
    } else if (x12_eq(q, "QC")) {
        cp(c->patient_last, sizeof c->patient_last, x12_elem(g, 3));
        cp(c->patient_first, sizeof c->patient_first, x12_elem(g, 4));
        s->nm1_ctx = 'P';
    } else if (x12_eq(q, "PR") && !s->in_claim) {
        cp(c->payer_name, sizeof c->payer_name, x12_elem(g, 3));
        cp(c->payer_id, sizeof c->payer_id, x12_elem(g, 9));
        s->nm1_ctx = 'R';
    } else {
        s->nm1_ctx = 0;
    }
}

static void on_line_service(scan *s, const x12_segment *g, int institutional)
{
    x12_837_claim *c = &s->c;
    if (c->nlines >= X12_837_MAX_LINES)
        return;
    x12_837_line *l = &c->lines[c->nlines++];
    memset(l, 0, sizeof *l);
    s->in_line = 1;
    unsigned comp_el = institutional ? 2 : 1;
    char k = g->delims->component;
    x12_str e = x12_elem(g, comp_el);
    cp(l->qualifier, sizeof l->qualifier, x12_part(e, k, 1));
    cp(l->procedure, sizeof l->procedure, x12_part(e, k, 2));
    for (unsigned m = 0; m < 4; m++)
        cp(l->modifiers[m], sizeof l->modifiers[m], x12_part(e, k, 3 + m));
    if (institutional) {
        cp(l->revenue_code, sizeof l->revenue_code, x12_elem(g, 1));
        l->charge = cents(x12_elem(g, 3));
        l->units_milli = milli(x12_elem(g, 5));
    } else {
        l->charge = cents(x12_elem(g, 2));
        l->units_milli = milli(x12_elem(g, 4));
    }
}

static void on_dtp(scan *s, const x12_segment *g)
{
    x12_str q = x12_elem(g, 1), fmt = x12_elem(g, 2), v = x12_elem(g, 3);
    char *from = NULL, *to = NULL;
    if (x12_eq(q, "472") && s->in_line && s->c.nlines) {
        from = s->c.lines[s->c.nlines - 1].date_from;
        to = s->c.lines[s->c.nlines - 1].date_to;
    } else if (x12_eq(q, "434") && s->in_claim && !s->in_line) {
        from = s->c.date_from;
        to = s->c.date_to;
    }
    if (!from)
        return;
    if (x12_eq(fmt, "RD8") && v.len == 17) {
        memcpy(from, v.p, 8);
        from[8] = '\0';
        memcpy(to, v.p + 9, 8);
        to[8] = '\0';
    } else {
        cp(from, 9, v);
    }
}

static void on_segment(scan *s, const x12_segment *g, x12_837_claim_fn fn, void *ctx, int *stop)
{
    x12_837_claim *c = &s->c;
    x12_str t = g->tag;
    if (x12_eq(t, "ISA")) {
        cp(c->isa13, sizeof c->isa13, x12_elem(g, 13));
        cp(c->sender_id, sizeof c->sender_id, x12_elem(g, 6));
        cp(c->receiver_id, sizeof c->receiver_id, x12_elem(g, 8));
    } else if (x12_eq(t, "GS")) {
        cp(c->gs06, sizeof c->gs06, x12_elem(g, 6));
        cp(s->gs08, sizeof s->gs08, x12_elem(g, 8));
    } else if (x12_eq(t, "ST")) {
        cp(c->st02, sizeof c->st02, x12_elem(g, 2));
        x12_str v = x12_elem(g, 3);
        c->institutional = strstr(s->gs08, "X223") != NULL ||
                           (v.len >= 10 && memcmp(v.p, "005010X223", 10) == 0);
    } else if (x12_eq(t, "HL")) {
        *stop = flush(s, fn, ctx);
        x12_str lvl = x12_elem(g, 3);
        if (x12_eq(lvl, "20")) {
            c->billing_npi[0] = c->billing_name[0] = c->billing_tax_id[0] = '\0';
        } else if (x12_eq(lvl, "22")) {
            s->patient_is_subscriber = 1;
            c->subscriber_id[0] = c->subscriber_last[0] = c->subscriber_first[0] = '\0';
            c->patient_last[0] = c->patient_first[0] = '\0';
            c->payer_id[0] = c->payer_name[0] = '\0';
        } else if (x12_eq(lvl, "23")) {
            s->patient_is_subscriber = 0;
            c->patient_last[0] = c->patient_first[0] = '\0';
        }
    } else if (x12_eq(t, "SBR")) {
        s->patient_is_subscriber = x12_eq(x12_elem(g, 2), "18");
    } else if (x12_eq(t, "NM1")) {
        on_nm1(s, g);
    } else if (x12_eq(t, "REF")) {
        x12_str q = x12_elem(g, 1);
        if (x12_eq(q, "EI") && s->nm1_ctx == 'B' && !s->in_claim)
            cp(c->billing_tax_id, sizeof c->billing_tax_id, x12_elem(g, 2));
        else if (x12_eq(q, "F8") && s->in_claim && !s->in_line)
            cp(c->payer_claim_number, sizeof c->payer_claim_number, x12_elem(g, 2));
        else if (x12_eq(q, "6R") && s->in_line && c->nlines)
            cp(c->lines[c->nlines - 1].line_control, sizeof c->lines[0].line_control, x12_elem(g, 2));
    } else if (x12_eq(t, "CLM")) {
        *stop = flush(s, fn, ctx);
        s->in_claim = 1;
        s->in_line = 0;
        c->nlines = 0;
        c->date_from[0] = c->date_to[0] = '\0';
        c->payer_claim_number[0] = '\0';
        cp(c->pcn, sizeof c->pcn, x12_elem(g, 1));
        c->charge = cents(x12_elem(g, 2));
        cp(c->frequency, sizeof c->frequency, x12_part(x12_elem(g, 5), g->delims->component, 3));
    } else if (x12_eq(t, "LX")) {
        s->in_line = 0;
    } else if (x12_eq(t, "SV1") && s->in_claim) {
        on_line_service(s, g, 0);
    } else if (x12_eq(t, "SV2") && s->in_claim) {
        on_line_service(s, g, 1);
    } else if (x12_eq(t, "DTP")) {
        on_dtp(s, g);
    } else if (x12_eq(t, "SE")) {
        *stop = flush(s, fn, ctx);
    }
}

ch_code x12_837_scan(int fd, const char *name, x12_837_claim_fn fn, void *ctx, ch_error *err)
{
    scan *s = calloc(1, sizeof *s);
    if (!s)
        return ch_error_set(err, CH_ERR_NOMEM, "out of memory");
    s->c.lines = calloc(X12_837_MAX_LINES, sizeof *s->c.lines);
    x12_reader *r = NULL;
    if (!s->c.lines || x12_open_fd(&r, fd, name, NULL, err) != CH_OK) {
        free(s->c.lines);
        free(s);
        return ch_error_set(err, CH_ERR_NOMEM, "out of memory");
    }
    x12_segment g;
    int got, stop = 0;
    while (!stop && (got = x12_next(r, &g)) == X12_SEGMENT)
        on_segment(s, &g, fn, ctx, &stop);
    if (!stop)
        stop = flush(s, fn, ctx);
    ch_code rc = CH_OK;
    if (stop)
        rc = ch_error_set(err, CH_ERR_INTERNAL, "%s: the scan was stopped", name);
    else if (got == X12_FAIL) {
        rc = x12_reader_error(r)->code;
        if (err)
            *err = *x12_reader_error(r);
    }
    x12_close(r);
    free(s->c.lines);
    free(s);
    return rc;
}
