/* readback_837.c - see readback_837.h */
#include "readback_837.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "x12_reader.h"

typedef struct sb {
    char *p;
    size_t n, cap;
} sb;

static void sb_add(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sb *b, const char *fmt, ...)
{
    char t[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    if (b->n + (size_t)n + 1 > b->cap) {
        b->cap = (b->n + (size_t)n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, t, (size_t)n + 1);
    b->n += (size_t)n;
}

typedef enum { T_NONE, T_BILLING, T_SUBSCRIBER, T_PATIENT, T_PAYER, T_PROVIDER } target;

typedef struct rd {
    const config *cfg;
    int inst;
    char practice[32], billing_npi[11], payer[32];
    sb sub, pat;          /* subscriber/patient fields, reused by the claim */
    int rel_self;
    char relationship[8];
    sb claim, lines;      /* the claim being read */
    int in_claim;
    unsigned nlines;
    char claim_pos[3];
    char provider[32];    /* "providers.rendering" while after its NM1 */
    target t;
    rb_claim *out;
    size_t n, cap;
    char *why;
    size_t whysize;
    int failed;
} rd;

static void s(x12_str v, char *buf, size_t size) { x12_copy(v, buf, size); }

static void finish_claim(rd *r)
{
    if (!r->in_claim)
        return;
    r->in_claim = 0;
    sb all = {NULL, 0, 0};
    sb_add(&all, "encounter/1\n");
    sb_add(&all, "practice=%s\npayer=%s\nclaim_type=%s\n", r->practice, r->payer,
           r->inst ? "institutional" : "professional");
    sb_add(&all, "%s", r->sub.p ? r->sub.p : "");
    sb_add(&all, "patient.relationship=%s\n", r->relationship);
    if (!r->rel_self)
        sb_add(&all, "%s", r->pat.p ? r->pat.p : "");
    sb_add(&all, "%s", r->claim.p ? r->claim.p : "");
    if (r->nlines)
        sb_add(&all, "lines=%u\n%s", r->nlines, r->lines.p ? r->lines.p : "");
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->out = realloc(r->out, r->cap * sizeof *r->out);
    }
    rb_claim *c = &r->out[r->n];
    memset(c, 0, sizeof *c);
    /* the PCN was stashed as the first line of claim */
    sscanf(r->claim.p ? r->claim.p : "", "#pcn=%38s", c->pcn);
    /* drop the #pcn line before unpacking */
    char *hash = strstr(all.p, "#pcn=");
    if (hash) {
        char *nl = strchr(hash, '\n');
        memmove(hash, nl + 1, strlen(nl + 1) + 1);
    }
    ch_error err;
    if (encounter_unpack(&c->e, all.p, strlen(all.p), &err) != CH_OK) {
        if (!r->failed)
            snprintf(r->why, r->whysize, "claim %s: %s", c->pcn, err.msg);
        r->failed = 1;
    } else {
        r->n++;
    }
    free(all.p);
    r->claim.n = r->lines.n = 0;
    if (r->claim.p)
        r->claim.p[0] = '\0';
    if (r->lines.p)
        r->lines.p[0] = '\0';
    r->nlines = 0;
}

static void person(sb *b, const char *pre, const x12_segment *g)
{
    char v[128];
    s(x12_elem(g, 3), v, sizeof v);
    if (v[0])
        sb_add(b, "%s.last_name=%s\n", pre, v);
    s(x12_elem(g, 4), v, sizeof v);
    if (v[0])
        sb_add(b, "%s.first_name=%s\n", pre, v);
    s(x12_elem(g, 5), v, sizeof v);
    if (v[0])
        sb_add(b, "%s.middle_name=%s\n", pre, v);
    s(x12_elem(g, 7), v, sizeof v);
    if (v[0] && strcmp(pre, "providers.referring") && strncmp(pre, "providers.", 10))
        sb_add(b, "%s.suffix=%s\n", pre, v);
}

static sb *person_sb(rd *r) { return r->t == T_PATIENT ? &r->pat : &r->sub; }
static const char *person_pre(rd *r) { return r->t == T_PATIENT ? "patient" : "subscriber"; }

static void on_seg(rd *r, const x12_segment *g)
{
    char a[128], b[128], c[128];
    if (x12_is(g, "ST")) {
        s(x12_elem(g, 3), a, sizeof a);
        r->inst = !strcmp(a, "005010X223A2");
    } else if (x12_is(g, "SE")) {
        finish_claim(r);
    } else if (x12_is(g, "HL")) {
        s(x12_elem(g, 3), a, sizeof a);
        if (!strcmp(a, "20")) {
            r->t = T_BILLING;
        } else if (!strcmp(a, "22")) {
            finish_claim(r);
            r->sub.n = r->pat.n = 0;
            if (r->sub.p)
                r->sub.p[0] = '\0';
            if (r->pat.p)
                r->pat.p[0] = '\0';
            r->rel_self = 0;
            snprintf(r->relationship, sizeof r->relationship, "self");
            r->t = T_SUBSCRIBER;
        } else if (!strcmp(a, "23")) {
            r->t = T_PATIENT;
        }
    } else if (x12_is(g, "SBR")) {
        s(x12_elem(g, 2), a, sizeof a);
        r->rel_self = !strcmp(a, "18");
        s(x12_elem(g, 3), b, sizeof b);
        if (b[0])
            sb_add(&r->sub, "subscriber.group_number=%s\n", b);
    } else if (x12_is(g, "PAT")) {
        s(x12_elem(g, 1), a, sizeof a);
        snprintf(r->relationship, sizeof r->relationship, "%s",
                 !strcmp(a, "01") ? "spouse" : !strcmp(a, "19") ? "child" : "other");
    } else if (x12_is(g, "NM1")) {
        s(x12_elem(g, 1), a, sizeof a);
        r->provider[0] = '\0';
        if (!strcmp(a, "85")) {
            r->t = T_BILLING;
            s(x12_elem(g, 9), r->billing_npi, sizeof r->billing_npi);
            for (size_t i = 0; i < r->cfg->npractices; i++)
                if (!strcmp(r->cfg->practices[i].npi, r->billing_npi))
                    snprintf(r->practice, sizeof r->practice, "%s", r->cfg->practices[i].id);
        } else if (!strcmp(a, "IL")) {
            r->t = T_SUBSCRIBER;
            person(&r->sub, "subscriber", g);
            s(x12_elem(g, 9), b, sizeof b);
            sb_add(&r->sub, "subscriber.member_id=%s\n", b);
        } else if (!strcmp(a, "QC")) {
            r->t = T_PATIENT;
            person(&r->pat, "patient", g);
        } else if (!strcmp(a, "PR")) {
            r->t = T_PAYER;
            s(x12_elem(g, 9), b, sizeof b);
            for (size_t i = 0; i < r->cfg->nprofiles; i++)
                if (!strcmp(r->cfg->profiles[i]->payer_id, b))
                    snprintf(r->payer, sizeof r->payer, "%s", r->cfg->profiles[i]->name);
        } else if (!strcmp(a, "82") || !strcmp(a, "DN") || !strcmp(a, "71") || !strcmp(a, "72")) {
            r->t = T_PROVIDER;
            snprintf(r->provider, sizeof r->provider, "providers.%s",
                     !strcmp(a, "82") ? "rendering" : !strcmp(a, "DN") ? "referring" : !strcmp(a, "71") ? "attending"
                                                                                                        : "operating");
            person(&r->claim, r->provider, g);
            s(x12_elem(g, 9), b, sizeof b);
            sb_add(&r->claim, "%s.npi=%s\n", r->provider, b);
        } else {
            r->t = T_NONE;
        }
    } else if (x12_is(g, "N3")) {
        if (r->t == T_SUBSCRIBER || r->t == T_PATIENT) {
            s(x12_elem(g, 1), a, sizeof a);
            s(x12_elem(g, 2), b, sizeof b);
            sb_add(person_sb(r), "%s.address.line1=%s\n", person_pre(r), a);
            if (b[0])
                sb_add(person_sb(r), "%s.address.line2=%s\n", person_pre(r), b);
        }
    } else if (x12_is(g, "N4")) {
        if (r->t == T_SUBSCRIBER || r->t == T_PATIENT) {
            s(x12_elem(g, 1), a, sizeof a);
            s(x12_elem(g, 2), b, sizeof b);
            s(x12_elem(g, 3), c, sizeof c);
            sb_add(person_sb(r), "%s.address.city=%s\n%s.address.state=%s\n%s.address.zip=%s\n", person_pre(r), a,
                   person_pre(r), b, person_pre(r), c);
        }
    } else if (x12_is(g, "DMG")) {
        s(x12_elem(g, 2), a, sizeof a);
        s(x12_elem(g, 3), b, sizeof b);
        sb_add(person_sb(r), "%s.birth_date=%s\n%s.sex=%s\n", person_pre(r), a, person_pre(r), b);
    } else if (x12_is(g, "PRV")) {
        if (r->provider[0]) {
            s(x12_elem(g, 3), a, sizeof a);
            sb_add(&r->claim, "%s.taxonomy=%s\n", r->provider, a);
        }
    } else if (x12_is(g, "CLM")) {
        finish_claim(r);
        r->in_claim = 1;
        r->t = T_NONE;
        s(x12_elem(g, 1), a, sizeof a);
        sb_add(&r->claim, "#pcn=%s\n", a);
        s(x12_comp(g, 5, 1), b, sizeof b);
        s(x12_comp(g, 5, 3), c, sizeof c);
        sb_add(&r->claim, "frequency=%s\n", c);
        if (r->inst) {
            sb_add(&r->claim, "institutional.type_of_bill=0%s%s\n", b, c);
            r->claim_pos[0] = '\0';
        } else {
            sb_add(&r->claim, "place_of_service=%s\n", b);
            snprintf(r->claim_pos, sizeof r->claim_pos, "%s", b);
        }
    } else if (x12_is(g, "DTP")) {
        s(x12_elem(g, 1), a, sizeof a);
        s(x12_elem(g, 3), b, sizeof b);
        if (!strcmp(a, "431"))
            sb_add(&r->claim, "onset_date=%s\n", b);
        else if (!strcmp(a, "096"))
            sb_add(&r->claim, "institutional.discharge_hour=%.2s\n", b);
        else if (!strcmp(a, "434"))
            sb_add(&r->claim, "institutional.statement_from=%.8s\ninstitutional.statement_to=%.8s\n", b, b + 9);
        else if (!strcmp(a, "435")) {
            sb_add(&r->claim, "institutional.admission_date=%.8s\n", b);
            if (strlen(b) >= 10)
                sb_add(&r->claim, "institutional.admission_hour=%.2s\n", b + 8);
        } else if (!strcmp(a, "472")) {
            sb_add(&r->lines, "lines[%u].date=%.8s\n", r->nlines - 1, b);
            if (strlen(b) == 17 && strncmp(b, b + 9, 8))
                sb_add(&r->lines, "lines[%u].date_to=%.8s\n", r->nlines - 1, b + 9);
        }
    } else if (x12_is(g, "CL1")) {
        s(x12_elem(g, 1), a, sizeof a);
        s(x12_elem(g, 2), b, sizeof b);
        s(x12_elem(g, 3), c, sizeof c);
        if (a[0])
            sb_add(&r->claim, "institutional.admission_type=%s\n", a);
        if (b[0])
            sb_add(&r->claim, "institutional.admission_source=%s\n", b);
        sb_add(&r->claim, "institutional.patient_status=%s\n", c);
    } else if (x12_is(g, "REF") && r->in_claim) {
        s(x12_elem(g, 1), a, sizeof a);
        s(x12_elem(g, 2), b, sizeof b);
        const char *k = !strcmp(a, "G1") ? "prior_authorization" : !strcmp(a, "F8") ? "payer_claim_number"
                      : !strcmp(a, "9F") ? "referral_number" : !strcmp(a, "EA") ? "medical_record_number" : NULL;
        if (k)
            sb_add(&r->claim, "%s=%s\n", k, b);
    } else if (x12_is(g, "HI")) {
        for (unsigned i = 1; i <= g->nelem; i++) {
            s(x12_comp(g, i, 1), a, sizeof a);
            s(x12_comp(g, i, 2), b, sizeof b);
            if (!strcmp(a, "ABJ"))
                sb_add(&r->claim, "institutional.admitting_diagnosis=%s\n", b);
            else if (!strcmp(a, "ABK") || !strcmp(a, "ABF"))
                sb_add(&r->claim, "diagnoses=%s\n", b); /* joined below */
        }
    } else if (x12_is(g, "LX")) {
        r->nlines++;
        r->provider[0] = '\0';
    } else if (x12_is(g, "SV1") || x12_is(g, "SV2")) {
        unsigned l = r->nlines - 1;
        int sv2 = x12_is(g, "SV2");
        unsigned pe = sv2 ? 2 : 1; /* the procedure composite */
        if (sv2) {
            s(x12_elem(g, 1), a, sizeof a);
            sb_add(&r->lines, "lines[%u].revenue_code=%s\n", l, a);
        }
        s(x12_comp(g, pe, 2), a, sizeof a);
        if (a[0])
            sb_add(&r->lines, "lines[%u].procedure=%s\n", l, a);
        char mods[64] = "";
        for (unsigned m = 3; m <= 6; m++) {
            s(x12_comp(g, pe, m), a, sizeof a);
            if (a[0])
                snprintf(mods + strlen(mods), sizeof mods - strlen(mods), "%s%s", mods[0] ? " " : "", a);
        }
        if (mods[0])
            sb_add(&r->lines, "lines[%u].modifiers=%s\n", l, mods);
        s(x12_elem(g, pe + 1), a, sizeof a);
        sb_add(&r->lines, "lines[%u].charge=%s\n", l, a);
        s(x12_elem(g, pe + 3), a, sizeof a);
        sb_add(&r->lines, "lines[%u].units=%s\n", l, a);
        if (!sv2) {
            s(x12_elem(g, 5), a, sizeof a);
            if (a[0])
                sb_add(&r->lines, "lines[%u].place_of_service=%s\n", l, a);
            char ptrs[32] = "";
            for (unsigned k = 1; k <= 4; k++) {
                s(x12_comp(g, 7, k), a, sizeof a);
                if (a[0])
                    snprintf(ptrs + strlen(ptrs), sizeof ptrs - strlen(ptrs), "%s%s", ptrs[0] ? " " : "", a);
            }
            if (ptrs[0])
                sb_add(&r->lines, "lines[%u].diagnosis_pointers=%s\n", l, ptrs);
        }
    }
}

/* diagnoses come as several "diagnoses=X" lines: join them into one */
static void join_dx(sb *b)
{
    if (!b->p)
        return;
    char out[1024] = "";
    char *p = b->p, *w = b->p;
    while (*p) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
        if (!strncmp(p, "diagnoses=", 10)) {
            snprintf(out + strlen(out), sizeof out - strlen(out), "%s%.*s", out[0] ? " " : "", (int)(n - 11), p + 10);
        } else {
            memmove(w, p, n);
            w += n;
        }
        p += n;
    }
    *w = '\0';
    b->n = (size_t)(w - b->p);
    if (out[0])
        sb_add(b, "diagnoses=%s\n", out);
}

int rb_read_837(const config *cfg, const char *path, rb_claim **out, size_t *n, char *why, size_t whysize)
{
    *out = NULL;
    *n = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(why, whysize, "%s: cannot open", path);
        return -1;
    }
    x12_reader *xr;
    ch_error err;
    if (x12_open_fd(&xr, fd, path, NULL, &err) != CH_OK) {
        close(fd);
        snprintf(why, whysize, "%s", err.msg);
        return -1;
    }
    rd r;
    memset(&r, 0, sizeof r);
    r.cfg = cfg;
    r.why = why;
    r.whysize = whysize;
    x12_segment g;
    int got;
    /* join the diagnoses of a claim just before it is finished: hook by
     * checking the next segment */
    while ((got = x12_next(xr, &g)) == X12_SEGMENT) {
        if ((x12_is(&g, "HL") || x12_is(&g, "SE") || x12_is(&g, "CLM")) && r.in_claim)
            join_dx(&r.claim);
        on_seg(&r, &g);
    }
    x12_close(xr);
    close(fd);
    free(r.sub.p);
    free(r.pat.p);
    free(r.claim.p);
    free(r.lines.p);
    if (got == X12_FAIL || r.failed) {
        if (!r.failed)
            snprintf(why, whysize, "%s: cannot be read", path);
        rb_free(r.out, r.n);
        return -1;
    }
    *out = r.out;
    *n = r.n;
    return 0;
}

void rb_free(rb_claim *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        encounter_clear(&v[i].e);
    free(v);
}
