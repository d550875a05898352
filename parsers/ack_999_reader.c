/*
 * ack_999_reader.c - the 999 reader (see ack_999_reader.h).
 *
 * AK1 opens a group, AK2 a set, IK3 a segment error that IK4s refine and
 * CTX segments explain; IK5 closes the set, AK9 the group.  Errors are kept
 * in one pool reused from set to set.
 */
#include "ack_999_reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "x12_stream.h"

struct ack_999_reader {
    char name[256];
    ack_999_events ev;
    x12_diag_fn on_diag;
    void *diag_ctx;
    ack_999_stats st;
    int in_st, in_group, in_set;
    int ik3_open;           /* the last error slot belongs to an IK3 not yet refined */
    unsigned ik3_first;     /* first error slot of the current IK3 */
    x12_pos last_pos;
    ack_999_group group;
    ack_999_set set;
    ack_999_error *err;
    unsigned nerr, cap_err;
    ack_999_error ik3;      /* the current IK3, copied into each IK4's error */
};

static void diag(ack_999_reader *r, const x12_pos *pos, const char *tag, x12_severity sev,
                 int level, const char *code, int elem, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static void diag(ack_999_reader *r, const x12_pos *pos, const char *tag, x12_severity sev,
                 int level, const char *code, int elem, const char *fmt, ...)
{
    if (sev == X12_SEV_WARNING)
        r->st.warnings++;
    else
        r->st.errors++;
    if (!r->on_diag)
        return;
    x12_diag d;
    x12_diag_init(&d, r->name, pos, sev, level, code);
    snprintf(d.tag, sizeof d.tag, "%s", tag);
    d.elem = elem;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d.msg, sizeof d.msg, fmt, ap);
    va_end(ap);
    r->on_diag(r->diag_ctx, &d);
}

static unsigned num(x12_str s)
{
    unsigned v = 0;
    for (size_t i = 0; i < s.len && i < 9; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(s.p[i] - '0');
    }
    return v;
}

/* "IK403 1 (Required Data Element Missing)" */
static void code_words(char *buf, size_t size, const char *element, const char *code)
{
    codes_describe(buf, size, element, "ack_999", element, code);
}

char *ack_999_error_reason(const ack_999_error *e, char *buf, size_t size)
{
    char where[128], what[200];
    if (e->seg_position)
        snprintf(where, sizeof where, "segment %s at position %u%s%s", e->segment[0] ? e->segment : "?",
                 e->seg_position, e->loop[0] ? ", loop " : "", e->loop);
    else
        snprintf(where, sizeof where, "segment %s%s%s", e->segment[0] ? e->segment : "?",
                 e->loop[0] ? ", loop " : "", e->loop);
    if (e->has_element) {
        char el[32];
        if (e->comp)
            snprintf(el, sizeof el, "%s%02u-%u", e->segment, e->elem, e->comp);
        else
            snprintf(el, sizeof el, "%s%02u", e->segment, e->elem);
        if (e->elem_code[0])
            code_words(what, sizeof what, "IK403", e->elem_code);
        else
            snprintf(what, sizeof what, "element error (no IK403 code)");
        snprintf(buf, size, "%s%s%s%s in %s: %s", el, e->elem_ref[0] ? " (data element " : "",
                 e->elem_ref, e->elem_ref[0] ? ")" : "", where, what);
    } else {
        if (e->seg_code[0])
            code_words(what, sizeof what, "IK304", e->seg_code);
        else
            snprintf(what, sizeof what, "segment error (no IK304 code)");
        snprintf(buf, size, "%s: %s", where, what);
    }
    return buf;
}

static ack_999_error *err_new(ack_999_reader *r)
{
    if (r->nerr >= ACK_999_MAX_ERRORS) {
        r->set.dropped++;
        return NULL;
    }
    if (r->nerr == r->cap_err) {
        unsigned nc = r->cap_err ? r->cap_err * 2 : 8;
        ack_999_error *n = realloc(r->err, nc * sizeof *n);
        if (!n) {
            r->set.dropped++;
            return NULL;
        }
        r->err = n;
        r->cap_err = nc;
    }
    return &r->err[r->nerr++];
}

static void summary(char *buf, size_t size, const char *what, const char *status_el,
                    const char *status, const char *codes_el, char codes[5][4], unsigned ncodes)
{
    char s[160];
    code_words(s, sizeof s, status_el, status);
    size_t o = (size_t)snprintf(buf, size, "%s %s", what, s);
    for (unsigned i = 0; i < ncodes && o < size; i++) {
        char c[200];
        code_words(c, sizeof c, codes_el, codes[i]);
        o += (size_t)snprintf(buf + o, size - o, "; %s", c);
    }
}

static void close_set(ack_999_reader *r, const x12_pos *pos)
{
    if (!r->in_set)
        return;
    ack_999_set *s = &r->set;
    if (!s->complete)
        diag(r, pos, "IK5", X12_SEV_ERROR, 2, "999.ik5.missing", 0,
             "transaction set %s acknowledged without IK5: its status is unknown", s->control);
    for (unsigned i = 0; i < r->nerr; i++)
        ack_999_error_reason(&r->err[i], r->err[i].reason, sizeof r->err[i].reason);
    s->errors = r->err;
    s->nerrors = r->nerr;
    r->group.nsets++;
    r->st.sets++;
    r->st.errors_listed += r->nerr;
    if (s->complete && s->accepted) {
        r->group.nsets_accepted++;
        r->st.sets_accepted++;
    } else if (s->complete && !s->orphan) {
        r->group.nsets_rejected++;
        r->st.sets_rejected++;
    }
    if (r->ev.set)
        r->ev.set(r->ev.ctx, &r->group, s);
    r->in_set = 0;
    r->ik3_open = 0;
    r->nerr = 0;
}

static void close_group(ack_999_reader *r, const x12_pos *pos)
{
    close_set(r, pos);
    if (!r->in_group)
        return;
    ack_999_group *g = &r->group;
    if (!g->complete)
        diag(r, pos, "AK9", X12_SEV_ERROR, 2, "999.ak9.missing", 0,
             "functional group %s acknowledged without AK9", g->control);
    if (g->complete && g->accepted != g->nsets_accepted && g->nsets == g->received)
        diag(r, &g->pos, "AK9", X12_SEV_WARNING, 2, "999.ak9.count", 4,
             "AK904 says %u sets accepted but %u AK2 loops say accepted", g->accepted,
             g->nsets_accepted);
    if (r->ev.group_end)
        r->ev.group_end(r->ev.ctx, g);
    r->in_group = 0;
}

static void open_group(ack_999_reader *r, const x12_segment *s)
{
    close_group(r, &s->pos);
    ack_999_group *g = &r->group;
    memset(g, 0, sizeof *g);
    g->pos = s->pos;
    x12_copy(x12_elem(s, 1), g->fid, sizeof g->fid);
    x12_copy(x12_elem(s, 2), g->control, sizeof g->control);
    x12_copy(x12_elem(s, 3), g->version, sizeof g->version);
    /* some senders pad: "HC   " */
    for (char *p = g->fid + strlen(g->fid); p > g->fid && p[-1] == ' ';)
        *--p = '\0';
    if (!g->control[0])
        diag(r, &s->pos, "AK1", X12_SEV_ERROR, 2, "999.ak1.control", 2,
             "AK102 group control number is missing: the group sent cannot be found");
    r->in_group = 1;
    r->st.groups++;
    if (r->ev.group_begin)
        r->ev.group_begin(r->ev.ctx, g);
}

/* A segment that needs a group when none is open: open an unnamed one. */
static void need_group(ack_999_reader *r, const x12_segment *s)
{
    if (r->in_group)
        return;
    char t[4];
    snprintf(t, sizeof t, "%.*s", (int)s->tag.len, s->tag.p);
    diag(r, &s->pos, t, X12_SEV_ERROR, 2, "999.ak1.missing", 0,
         "%s before AK1: the functional group it belongs to is unknown", t);
    memset(&r->group, 0, sizeof r->group);
    r->group.pos = s->pos;
    r->in_group = 1;
    r->st.groups++;
    if (r->ev.group_begin)
        r->ev.group_begin(r->ev.ctx, &r->group);
}

static void seg_ak2(ack_999_reader *r, const x12_segment *s)
{
    need_group(r, s);
    close_set(r, &s->pos);
    ack_999_set *t = &r->set;
    memset(t, 0, sizeof *t);
    t->pos = s->pos;
    t->group = &r->group;
    x12_copy(x12_elem(s, 1), t->set_id, sizeof t->set_id);
    x12_copy(x12_elem(s, 2), t->control, sizeof t->control);
    x12_copy(x12_elem(s, 3), t->impl, sizeof t->impl);
    if (!t->control[0])
        diag(r, &s->pos, "AK2", X12_SEV_ERROR, 2, "999.ak2.control", 2,
             "AK202 transaction set control number is missing: the set sent cannot be found");
    r->in_set = 1;
}

static void need_set(ack_999_reader *r, const x12_segment *s)
{
    if (r->in_set)
        return;
    char t[4];
    snprintf(t, sizeof t, "%.*s", (int)s->tag.len, s->tag.p);
    need_group(r, s);
    diag(r, &s->pos, t, X12_SEV_ERROR, 2, "999.ak2.missing", 0,
         "%s outside an AK2 loop: the transaction set it is about is unknown", t);
    memset(&r->set, 0, sizeof r->set);
    r->set.pos = s->pos;
    r->set.group = &r->group;
    r->set.orphan = 1;
    r->in_set = 1;
}

static void seg_ik3(ack_999_reader *r, const x12_segment *s)
{
    need_set(r, s);
    ack_999_error *e = &r->ik3;
    memset(e, 0, sizeof *e);
    e->pos = s->pos;
    x12_copy(x12_elem(s, 1), e->segment, sizeof e->segment);
    e->seg_position = num(x12_elem(s, 2));
    x12_copy(x12_elem(s, 3), e->loop, sizeof e->loop);
    x12_copy(x12_elem(s, 4), e->seg_code, sizeof e->seg_code);
    r->ik3_first = r->nerr;
    ack_999_error *slot = err_new(r);
    if (slot)
        *slot = *e;
    r->ik3_open = slot != NULL; /* the first IK4 refines this slot */
}

static void seg_ik4(ack_999_reader *r, const x12_segment *s)
{
    need_set(r, s);
    ack_999_error *e;
    if (r->ik3_open) {
        e = &r->err[r->nerr - 1];
        r->ik3_open = 0;
    } else {
        e = err_new(r);
        if (!e)
            return;
        *e = r->ik3; /* the IK3 it belongs to (empty when none came) */
    }
    e->pos = s->pos;
    e->has_element = 1;
    e->elem = num(x12_comp(s, 1, 1));
    e->comp = num(x12_comp(s, 1, 2));
    e->rep = num(x12_comp(s, 1, 3));
    x12_copy(x12_elem(s, 2), e->elem_ref, sizeof e->elem_ref);
    x12_copy(x12_elem(s, 3), e->elem_code, sizeof e->elem_code);
    x12_copy(x12_elem(s, 4), e->bad_value, sizeof e->bad_value);
    if (!r->ik3.segment[0])
        diag(r, &s->pos, "IK4", X12_SEV_WARNING, 2, "999.ik3.missing", 0,
             "IK4 without an IK3 before it: the segment in error is unknown");
}

/* CTX: context of the error before it.  CTX01-1 "CLM01" with CTX01-2 the
 * claim's PCN tells which claim the error is in. */
static void seg_ctx(ack_999_reader *r, const x12_segment *s)
{
    if (!r->in_set || r->nerr <= r->ik3_first)
        return;
    x12_str name = x12_comp(s, 1, 1), value = x12_comp(s, 1, 2);
    for (unsigned i = r->ik3_first; i < r->nerr; i++) {
        ack_999_error *e = &r->err[i];
        if (!e->context[0])
            x12_copy(x12_elem(s, 1), e->context, sizeof e->context);
        if (x12_eq(name, "CLM01") && !e->claim_ref[0])
            x12_copy(value, e->claim_ref, sizeof e->claim_ref);
    }
    /* later IK4s of the same IK3 inherit the context */
    if (!r->ik3.context[0])
        x12_copy(x12_elem(s, 1), r->ik3.context, sizeof r->ik3.context);
    if (x12_eq(name, "CLM01") && !r->ik3.claim_ref[0])
        x12_copy(value, r->ik3.claim_ref, sizeof r->ik3.claim_ref);
}

static void seg_ik5(ack_999_reader *r, const x12_segment *s)
{
    need_set(r, s);
    ack_999_set *t = &r->set;
    if (t->complete)
        diag(r, &s->pos, "IK5", X12_SEV_ERROR, 2, "999.ik5.repeated", 0,
             "a second IK5 for transaction set %s; the first one stands", t->control);
    else {
        x12_str st = x12_elem(s, 1);
        x12_copy(st, t->status, sizeof t->status);
        t->accepted = !t->orphan && (x12_eq(st, "A") || x12_eq(st, "E"));
        if (!(x12_eq(st, "A") || x12_eq(st, "E") || x12_eq(st, "R") || x12_eq(st, "M") || x12_eq(st, "W") ||
              x12_eq(st, "X"))) {
            diag(r, &s->pos, "IK5", X12_SEV_ERROR, 2, "999.ik5.status", 1,
                 "IK501 is not A, E, M, R, W or X; transaction set %s taken as rejected",
                 t->control);
            if (!t->status[0])
                snprintf(t->status, sizeof t->status, "?");
        }
        for (unsigned i = 2; i <= 6; i++)
            if (x12_elem(s, i).len)
                x12_copy(x12_elem(s, i), t->codes[t->ncodes++], 4);
        summary(t->summary, sizeof t->summary,
                t->orphan ? "unknown set:" : t->accepted ? "accepted:" : "rejected:", "IK501",
                t->status, "IK502", t->codes, t->ncodes);
        t->complete = 1;
    }
    close_set(r, &s->pos);
}

static void seg_ak9(ack_999_reader *r, const x12_segment *s)
{
    need_group(r, s);
    close_set(r, &s->pos);
    ack_999_group *g = &r->group;
    x12_copy(x12_elem(s, 1), g->status, sizeof g->status);
    g->included = num(x12_elem(s, 2));
    g->received = num(x12_elem(s, 3));
    g->accepted = num(x12_elem(s, 4));
    for (unsigned i = 5; i <= 9; i++)
        if (x12_elem(s, i).len)
            x12_copy(x12_elem(s, i), g->codes[g->ncodes++], 4);
    summary(g->summary, sizeof g->summary, "group", "AK901", g->status, "AK905", g->codes,
            g->ncodes);
    g->complete = 1;
    close_group(r, &s->pos);
}

void ack_999_feed(ack_999_reader *r, const x12_segment *s)
{
    r->last_pos = s->pos;
    if (x12_is(s, "ST")) {
        close_group(r, &s->pos);
        r->in_st = x12_eq(x12_elem(s, 1), "999");
        if (!r->in_st) {
            char id[8];
            x12_copy(x12_elem(s, 1), id, sizeof id);
            diag(r, &s->pos, "ST", X12_SEV_WARNING, 2, "999.set.other", 1,
                 "transaction set %s is not a 999; skipped", id);
        }
        return;
    }
    if (x12_is(s, "SE") || x12_is(s, "GE") || x12_is(s, "IEA") || x12_is(s, "GS") ||
        x12_is(s, "ISA")) {
        close_group(r, &s->pos);
        r->in_st = 0;
        return;
    }
    if (!r->in_st)
        return;
    if (x12_is(s, "AK1"))
        open_group(r, s);
    else if (x12_is(s, "AK2"))
        seg_ak2(r, s);
    else if (x12_is(s, "IK3"))
        seg_ik3(r, s);
    else if (x12_is(s, "IK4"))
        seg_ik4(r, s);
    else if (x12_is(s, "CTX"))
        seg_ctx(r, s);
    else if (x12_is(s, "IK5"))
        seg_ik5(r, s);
    else if (x12_is(s, "AK9"))
        seg_ak9(r, s);
}

void ack_999_finish(ack_999_reader *r)
{
    close_group(r, &r->last_pos);
    r->in_st = 0;
}

ack_999_reader *ack_999_new(const char *name, const ack_999_events *events, x12_diag_fn on_diag,
                            void *diag_ctx)
{
    ack_999_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    snprintf(r->name, sizeof r->name, "%s", name ? name : "");
    if (events)
        r->ev = *events;
    r->on_diag = on_diag;
    r->diag_ctx = diag_ctx;
    return r;
}

const ack_999_stats *ack_999_stats_get(const ack_999_reader *r) { return &r->st; }

void ack_999_free(ack_999_reader *r)
{
    if (!r)
        return;
    free(r->err);
    free(r);
}

static void sink_feed(void *o, const x12_segment *s) { ack_999_feed(o, s); }
static void sink_finish(void *o) { ack_999_finish(o); }
static void sink_count(void *o, const x12_diag *d)
{
    ack_999_reader *r = o;
    if (d->severity == X12_SEV_WARNING)
        r->st.warnings++;
    else
        r->st.errors++;
}

static ch_code read_any(int fd, const void *buf, size_t len, const char *name,
                        const ack_999_events *events, x12_diag_fn on_diag, void *diag_ctx,
                        ack_999_stats *stats, ch_error *err)
{
    ack_999_reader *r = ack_999_new(name, events, on_diag, diag_ctx);
    if (!r)
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", name);
    x12_sink sink = {sink_feed, sink_finish, sink_count, r};
    ch_code c = buf ? x12_stream_mem(buf, len, name, &sink, on_diag, diag_ctx, err)
                    : x12_stream_fd(fd, name, &sink, on_diag, diag_ctx, err);
    if (stats)
        *stats = r->st;
    ack_999_free(r);
    return c;
}

ch_code ack_999_read_fd(int fd, const char *name, const ack_999_events *events,
                        x12_diag_fn on_diag, void *diag_ctx, ack_999_stats *stats, ch_error *err)
{
    return read_any(fd, NULL, 0, name, events, on_diag, diag_ctx, stats, err);
}

ch_code ack_999_read_mem(const void *buf, size_t len, const char *name,
                         const ack_999_events *events, x12_diag_fn on_diag, void *diag_ctx,
                         ack_999_stats *stats, ch_error *err)
{
    return read_any(-1, buf ? buf : "", len, name, events, on_diag, diag_ctx, stats, err);
}
