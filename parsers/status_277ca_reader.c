/*
 * status_277ca_reader.c - the 277CA reader (see status_277ca_reader.h).
 *
 * HL opens a level (20, 21, 19) or a patient (PT, and 22/23 as some senders
 * write); under a patient each TRN opens a claim.  A claim or level is
 * delivered when the next HL, TRN or SE comes.  STC segments go to the
 * innermost open thing: a service line, a claim, or a level.
 */
#include "status_277ca_reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "x12_stream.h"
#include "x12_writer.h"

enum where { W_NONE, W_LEVEL, W_PATIENT, W_CLAIM, W_LINE };

struct status_277_reader {
    char name[256];
    status_277_events ev;
    x12_diag_fn on_diag;
    void *diag_ctx;
    status_277_stats st;
    int in_st;
    enum where where;
    status_277_level levels[3];  /* by kind - 1 */
    int have[3];
    int level_open;              /* kind of the level being read, 0 none */
    status_277_claim claim;
    int claim_open;
    char patient_last[61], patient_first[36], member_id_q[3], member_id[81];
    status_277_line *lines;
    unsigned nlines, cap_lines;
    x12_pos last_pos;
};

static void diag(status_277_reader *r, const x12_pos *pos, const char *tag, x12_severity sev,
                 int level, const char *code, int elem, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static void diag(status_277_reader *r, const x12_pos *pos, const char *tag, x12_severity sev,
                 int level, const char *code, int elem, const char *fmt, ...)
{
    if (sev == X12_SEV_WARNING) {
        r->st.warnings++;
    } else {
        r->st.errors++;
        if (r->claim_open)
            r->claim.errors++;
    }
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

status_277_verdict status_277_category_verdict(const char *c)
{
    if (!c || !c[0])
        return STATUS_277_NONE;
    static const char *const rejected[] = {"A3", "A4", "A6", "A7", "A8", "E0", "E1", "E2", "E3", "E4", NULL};
    static const char *const accepted[] = {"A0", "A1", "A2", "A5", NULL};
    for (int i = 0; rejected[i]; i++)
        if (!strcmp(c, rejected[i]))
            return STATUS_277_REJECTED;
    for (int i = 0; accepted[i]; i++)
        if (!strcmp(c, accepted[i]))
            return STATUS_277_ACCEPTED;
    if (c[0] == 'P' || c[0] == 'R')
        return STATUS_277_PENDING;
    return STATUS_277_NONE;
}

const char *status_277_verdict_name(status_277_verdict v)
{
    switch (v) {
    case STATUS_277_NONE: return "no status";
    case STATUS_277_ACCEPTED: return "accepted";
    case STATUS_277_REJECTED: return "rejected";
    case STATUS_277_PENDING: return "pending";
    }
    return "no status";
}

/* Judge the statuses together: a rejecting category wins over an accepting
 * one (a claim received, A1, then rejected, A7, is rejected); the reason
 * lists the texts of the deciding codes. */
static void judge(status_277_status *s)
{
    int rej = 0, acc = 0, pend = 0;
    for (unsigned i = 0; i < s->nstc; i++)
        for (unsigned k = 0; k < s->stc[i].ncodes; k++) {
            status_277_verdict v = status_277_category_verdict(s->stc[i].codes[k].category);
            rej |= v == STATUS_277_REJECTED;
            acc |= v == STATUS_277_ACCEPTED;
            pend |= v == STATUS_277_PENDING;
        }
    s->verdict = rej ? STATUS_277_REJECTED : acc ? STATUS_277_ACCEPTED : pend ? STATUS_277_PENDING
                                                                             : STATUS_277_NONE;
    size_t o = 0, size = sizeof s->reason;
    s->reason[0] = '\0';
    for (unsigned i = 0; i < s->nstc; i++)
        for (unsigned k = 0; k < s->stc[i].ncodes && o < size; k++) {
            const status_277_code *c = &s->stc[i].codes[k];
            status_277_verdict v = status_277_category_verdict(c->category);
            if (rej && v != STATUS_277_REJECTED)
                continue; /* a rejection reads best without the receipt before it */
            const char *ct = codes_text("claim_status_category", c->category);
            const char *st = codes_text("claim_status", c->code);
            o += (size_t)snprintf(s->reason + o, size - o, "%s%s (%s)", o ? "; " : "",
                                  c->category, ct ? ct : "unknown code");
            if (c->code[0] && o < size)
                o += (size_t)snprintf(s->reason + o, size - o, ": %s (%s)", c->code,
                                      st ? st : "unknown code");
            if (c->entity[0] && o < size) {
                const char *et = codes_text("entity_identifier", c->entity);
                o += (size_t)snprintf(s->reason + o, size - o, ", entity %s (%s)", c->entity,
                                      et ? et : "unknown code");
            }
        }
}

/* --- delivering --------------------------------------------------------------- */

static void close_claim(status_277_reader *r)
{
    if (!r->claim_open)
        return;
    status_277_claim *c = &r->claim;
    for (unsigned i = 0; i < r->nlines; i++)
        judge(&r->lines[i].status);
    c->lines = r->lines;
    c->nlines = r->nlines;
    judge(&c->status);
    if (c->status.nstc == 0)
        diag(r, &c->pos, "STC", X12_SEV_ERROR, 2, "277ca.stc.missing", 0,
             "claim without a status (STC): nothing to mark");
    r->st.claims++;
    switch (c->status.verdict) {
    case STATUS_277_ACCEPTED: r->st.accepted++; break;
    case STATUS_277_REJECTED: r->st.rejected++; break;
    case STATUS_277_PENDING: r->st.pending++; break;
    case STATUS_277_NONE: r->st.no_status++; break;
    }
    if (r->ev.claim)
        r->ev.claim(r->ev.ctx, c);
    r->claim_open = 0;
    r->nlines = 0;
}

static void close_level(status_277_reader *r)
{
    if (!r->level_open)
        return;
    status_277_level *l = &r->levels[r->level_open - 1];
    judge(&l->status);
    r->st.levels++;
    if (r->ev.level)
        r->ev.level(r->ev.ctx, l);
    r->level_open = 0;
}

static void close_all(status_277_reader *r)
{
    close_claim(r);
    close_level(r);
    r->where = W_NONE;
}

/* --- segments ----------------------------------------------------------------- */

static void seg_hl(status_277_reader *r, const x12_segment *s)
{
    close_claim(r);
    close_level(r);
    x12_str code = x12_elem(s, 3);
    status_277_level_kind k = x12_eq(code, "20") ? STATUS_277_SOURCE
                              : x12_eq(code, "21") ? STATUS_277_RECEIVER
                              : x12_eq(code, "19") ? STATUS_277_PROVIDER : 0;
    if (k) {
        status_277_level *l = &r->levels[k - 1];
        memset(l, 0, sizeof *l);
        l->pos = s->pos;
        l->kind = k;
        r->have[k - 1] = 1;
        /* a new level above forgets the ones below it */
        for (int i = (int)k; i < 3; i++)
            r->have[i] = 0;
        r->level_open = (int)k;
        r->where = W_LEVEL;
    } else if (x12_eq(code, "PT") || x12_eq(code, "22") || x12_eq(code, "23")) {
        r->where = W_PATIENT;
        r->patient_last[0] = r->patient_first[0] = r->member_id_q[0] = r->member_id[0] = '\0';
    } else {
        char c[8];
        x12_copy(code, c, sizeof c);
        diag(r, &s->pos, "HL", X12_SEV_ERROR, 2, "277ca.hl.code", 3,
             "HL03 level code %s is not 20, 21, 19 or PT; its segments are ignored", c);
        r->where = W_NONE;
    }
}

static void open_claim(status_277_reader *r, const x12_segment *s)
{
    close_claim(r);
    status_277_claim *c = &r->claim;
    memset(c, 0, sizeof *c);
    c->pos = s->pos;
    c->source = r->have[0] ? &r->levels[0] : NULL;
    c->receiver = r->have[1] ? &r->levels[1] : NULL;
    c->provider = r->have[2] ? &r->levels[2] : NULL;
    memcpy(c->patient_last, r->patient_last, sizeof c->patient_last);
    memcpy(c->patient_first, r->patient_first, sizeof c->patient_first);
    memcpy(c->member_id_q, r->member_id_q, sizeof c->member_id_q);
    memcpy(c->member_id, r->member_id, sizeof c->member_id);
    x12_copy(x12_elem(s, 2), c->pcn, sizeof c->pcn);
    r->claim_open = 1;
    r->where = W_CLAIM;
    if (!c->pcn[0])
        diag(r, &s->pos, "TRN", X12_SEV_ERROR, 2, "277ca.trn.pcn", 2,
             "claim TRN02 (patient control number) is empty: the claim cannot be matched by it");
}

static status_277_status *current_status(status_277_reader *r)
{
    switch (r->where) {
    case W_LINE: return &r->lines[r->nlines - 1].status;
    case W_CLAIM: return &r->claim.status;
    case W_LEVEL: return r->level_open ? &r->levels[r->level_open - 1].status : NULL;
    default: return NULL;
    }
}

static void seg_stc(status_277_reader *r, const x12_segment *s)
{
    status_277_status *st = current_status(r);
    if (!st) {
        diag(r, &s->pos, "STC", X12_SEV_WARNING, 2, "277ca.stc.orphan", 0,
             "STC outside a level, claim or line; ignored");
        return;
    }
    if (st->nstc >= STATUS_277_MAX_STC) {
        diag(r, &s->pos, "STC", X12_SEV_WARNING, 2, "277ca.stc.limit", 0,
             "more than %d STC segments in one place; the rest are ignored", STATUS_277_MAX_STC);
        return;
    }
    status_277_stc *t = &st->stc[st->nstc++];
    memset(t, 0, sizeof *t);
    t->pos = s->pos;
    static const unsigned ELEMS[3] = {1, 10, 11};
    for (int i = 0; i < 3; i++) {
        if (!x12_elem(s, ELEMS[i]).len)
            continue;
        status_277_code *c = &t->codes[t->ncodes++];
        x12_copy(x12_comp(s, ELEMS[i], 1), c->category, sizeof c->category);
        x12_copy(x12_comp(s, ELEMS[i], 2), c->code, sizeof c->code);
        x12_copy(x12_comp(s, ELEMS[i], 3), c->entity, sizeof c->entity);
        x12_copy(x12_comp(s, ELEMS[i], 4), c->qualifier, sizeof c->qualifier);
        if (!c->category[0])
            diag(r, &s->pos, "STC", X12_SEV_ERROR, 2, "277ca.stc.category", (int)ELEMS[i],
                 "STC%02u-1 claim status category code is missing", ELEMS[i]);
    }
    if (t->ncodes == 0)
        diag(r, &s->pos, "STC", X12_SEV_ERROR, 2, "277ca.stc.empty", 1,
             "STC01 claim status composite is missing");
    x12_copy(x12_elem(s, 2), t->date, sizeof t->date);
    x12_copy(x12_elem(s, 3), t->action, sizeof t->action);
    x12_str a = x12_elem(s, 4);
    if (a.len) {
        if (x12_parse_cents(a.p, a.len, &t->amount) == CH_OK)
            t->has_amount = 1;
        else
            diag(r, &s->pos, "STC", X12_SEV_ERROR, 1, "277ca.amount.invalid", 4,
                 "STC04 total claim charge amount is not an amount");
    }
    x12_copy(x12_elem(s, 12), t->message, sizeof t->message);
}

static void seg_svc(status_277_reader *r, const x12_segment *s)
{
    if (r->nlines >= STATUS_277_MAX_LINES) {
        if (!r->claim.truncated)
            diag(r, &s->pos, "SVC", X12_SEV_ERROR, 2, "277ca.limit.lines", 0,
                 "more than %d service lines in one claim; the rest are dropped",
                 STATUS_277_MAX_LINES);
        r->claim.truncated = 1;
        r->where = W_NONE;
        return;
    }
    if (r->nlines == r->cap_lines) {
        unsigned nc = r->cap_lines ? r->cap_lines * 2 : 8;
        status_277_line *n = realloc(r->lines, nc * sizeof *n);
        if (!n) {
            r->claim.truncated = 1;
            r->where = W_NONE;
            return;
        }
        r->lines = n;
        r->cap_lines = nc;
    }
    status_277_line *l = &r->lines[r->nlines++];
    memset(l, 0, sizeof *l);
    l->pos = s->pos;
    x12_copy(x12_comp(s, 1, 1), l->proc_q, sizeof l->proc_q);
    x12_copy(x12_comp(s, 1, 2), l->proc, sizeof l->proc);
    for (unsigned i = 3; i <= 6; i++) {
        x12_str m = x12_comp(s, 1, i);
        if (m.len)
            x12_copy(m, l->mod[l->nmod++], 3);
    }
    x12_str a = x12_elem(s, 2);
    if (a.len && x12_parse_cents(a.p, a.len, &l->charge) != CH_OK)
        diag(r, &s->pos, "SVC", X12_SEV_ERROR, 1, "277ca.amount.invalid", 2,
             "SVC02 line charge is not an amount");
    r->where = W_LINE;
}

/* DTP*472 with D8 (CCYYMMDD) or RD8 (CCYYMMDD-CCYYMMDD). */
static void dates(x12_str fmt, x12_str v, char *from, char *to)
{
    if (x12_eq(fmt, "RD8") && v.len == 17 && v.p[8] == '-') {
        x12_copy((x12_str){v.p, 8}, from, 9);
        x12_copy((x12_str){v.p + 9, 8}, to, 9);
    } else {
        x12_copy(v, from, 9);
        x12_copy(v, to, 9);
    }
}

void status_277_feed(status_277_reader *r, const x12_segment *s)
{
    r->last_pos = s->pos;
    if (x12_is(s, "ST")) {
        close_all(r);
        memset(r->have, 0, sizeof r->have);
        r->in_st = x12_eq(x12_elem(s, 1), "277");
        if (r->in_st) {
            r->st.sets++;
        } else {
            char id[8];
            x12_copy(x12_elem(s, 1), id, sizeof id);
            diag(r, &s->pos, "ST", X12_SEV_WARNING, 2, "277ca.set.other", 1,
                 "transaction set %s is not a 277; skipped", id);
        }
        return;
    }
    if (x12_is(s, "SE") || x12_is(s, "GE") || x12_is(s, "IEA") || x12_is(s, "GS") ||
        x12_is(s, "ISA")) {
        close_all(r);
        r->in_st = 0;
        return;
    }
    if (!r->in_st)
        return;
    if (x12_is(s, "HL")) {
        seg_hl(r, s);
        return;
    }
    if (x12_is(s, "STC")) {
        seg_stc(r, s);
        return;
    }
    status_277_level *lv = r->level_open ? &r->levels[r->level_open - 1] : NULL;
    if (x12_is(s, "NM1")) {
        if (r->where == W_LEVEL && lv) {
            x12_copy(x12_elem(s, 3), lv->name, sizeof lv->name);
            x12_copy(x12_elem(s, 8), lv->id_q, sizeof lv->id_q);
            x12_copy(x12_elem(s, 9), lv->id, sizeof lv->id);
        } else if (r->where == W_PATIENT) {
            x12_copy(x12_elem(s, 3), r->patient_last, sizeof r->patient_last);
            x12_copy(x12_elem(s, 4), r->patient_first, sizeof r->patient_first);
            x12_copy(x12_elem(s, 8), r->member_id_q, sizeof r->member_id_q);
            x12_copy(x12_elem(s, 9), r->member_id, sizeof r->member_id);
        }
    } else if (x12_is(s, "TRN")) {
        if (r->where == W_LEVEL && lv)
            x12_copy(x12_elem(s, 2), lv->trace, sizeof lv->trace);
        else if (r->where == W_PATIENT || r->where == W_CLAIM || r->where == W_LINE)
            open_claim(r, s);
    } else if (x12_is(s, "QTY") && r->where == W_LEVEL && lv) {
        x12_str q = x12_elem(s, 1);
        char b[16];
        unsigned v = (unsigned)strtoul(x12_copy(x12_elem(s, 2), b, sizeof b), NULL, 10);
        if (x12_eq(q, "90"))
            lv->qty_accepted = v;
        else if (x12_eq(q, "AA"))
            lv->qty_rejected = v;
    } else if (x12_is(s, "AMT") && r->where == W_LEVEL && lv) {
        x12_str q = x12_elem(s, 1), a = x12_elem(s, 2);
        int64_t v = 0;
        if (x12_parse_cents(a.p, a.len, &v) != CH_OK)
            diag(r, &s->pos, "AMT", X12_SEV_ERROR, 1, "277ca.amount.invalid", 2,
                 "AMT02 is not an amount");
        else if (x12_eq(q, "YU"))
            lv->amt_accepted = v;
        else if (x12_eq(q, "YY"))
            lv->amt_rejected = v;
    } else if (x12_is(s, "REF")) {
        x12_str q = x12_elem(s, 1), v = x12_elem(s, 2);
        if (r->where == W_CLAIM) {
            status_277_claim *c = &r->claim;
            if (x12_eq(q, "1K"))
                x12_copy(v, c->payer_claim_no, sizeof c->payer_claim_no);
            else if (x12_eq(q, "D9"))
                x12_copy(v, c->ch_trace, sizeof c->ch_trace);
            else if (x12_eq(q, "BLT"))
                x12_copy(v, c->bill_type, sizeof c->bill_type);
        } else if (r->where == W_LINE && x12_eq(q, "FJ")) {
            status_277_line *l = &r->lines[r->nlines - 1];
            x12_copy(v, l->control, sizeof l->control);
        }
    } else if (x12_is(s, "DTP")) {
        x12_str q = x12_elem(s, 1), f = x12_elem(s, 2), v = x12_elem(s, 3);
        if (r->where == W_LEVEL && lv && x12_eq(q, "050"))
            x12_copy(v, lv->received, sizeof lv->received);
        else if (r->where == W_LEVEL && lv && x12_eq(q, "009"))
            x12_copy(v, lv->processed, sizeof lv->processed);
        else if (r->where == W_CLAIM && x12_eq(q, "472"))
            dates(f, v, r->claim.date_from, r->claim.date_to);
        else if (r->where == W_LINE && x12_eq(q, "472"))
            dates(f, v, r->lines[r->nlines - 1].date_from, r->lines[r->nlines - 1].date_to);
    } else if (x12_is(s, "SVC")) {
        if (r->where == W_CLAIM || r->where == W_LINE)
            seg_svc(r, s);
        else
            diag(r, &s->pos, "SVC", X12_SEV_ERROR, 2, "277ca.svc.orphan", 0,
                 "SVC outside a claim; ignored");
    }
}

void status_277_finish(status_277_reader *r)
{
    close_all(r);
    r->in_st = 0;
}

status_277_reader *status_277_new(const char *name, const status_277_events *events,
                                  x12_diag_fn on_diag, void *diag_ctx)
{
    status_277_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    snprintf(r->name, sizeof r->name, "%s", name ? name : "");
    if (events)
        r->ev = *events;
    r->on_diag = on_diag;
    r->diag_ctx = diag_ctx;
    return r;
}

const status_277_stats *status_277_stats_get(const status_277_reader *r) { return &r->st; }

void status_277_free(status_277_reader *r)
{
    if (!r)
        return;
    free(r->lines);
    free(r);
}

static void sink_feed(void *o, const x12_segment *s) { status_277_feed(o, s); }
static void sink_finish(void *o) { status_277_finish(o); }
static void sink_count(void *o, const x12_diag *d)
{
    status_277_reader *r = o;
    if (d->severity == X12_SEV_WARNING) {
        r->st.warnings++;
    } else {
        r->st.errors++;
        if (r->claim_open)
            r->claim.errors++;
    }
}

static ch_code read_any(int fd, const void *buf, size_t len, const char *name,
                        const status_277_events *events, x12_diag_fn on_diag, void *diag_ctx,
                        status_277_stats *stats, ch_error *err)
{
    status_277_reader *r = status_277_new(name, events, on_diag, diag_ctx);
    if (!r)
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", name);
    x12_sink sink = {sink_feed, sink_finish, sink_count, r};
    ch_code c = buf ? x12_stream_mem(buf, len, name, &sink, on_diag, diag_ctx, err)
                    : x12_stream_fd(fd, name, &sink, on_diag, diag_ctx, err);
    if (stats)
        *stats = r->st;
    status_277_free(r);
    return c;
}

ch_code status_277_read_fd(int fd, const char *name, const status_277_events *events,
                           x12_diag_fn on_diag, void *diag_ctx, status_277_stats *stats,
                           ch_error *err)
{
    return read_any(fd, NULL, 0, name, events, on_diag, diag_ctx, stats, err);
}

ch_code status_277_read_mem(const void *buf, size_t len, const char *name,
                            const status_277_events *events, x12_diag_fn on_diag, void *diag_ctx,
                            status_277_stats *stats, ch_error *err)
{
    return read_any(-1, buf ? buf : "", len, name, events, on_diag, diag_ctx, stats, err);
}
