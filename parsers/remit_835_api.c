/*
 * remit_835_api.c - the streaming 835 reader (remit_835.h) around its state
 * machine: creating and freeing a reader, the diagnostics it reports and the
 * counts they add to, reading a whole input through the tokenizer, and the
 * helpers callers use on the claims and payments it delivers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remit_835_int.h"
#include "x12_stream.h"

/* --- diagnostics -------------------------------------------------------------- */

void r835_count(remit_835 *r, x12_severity sev, int level)
{
    if (sev == X12_SEV_WARNING) {
        r->st.warnings++;
        return;
    }
    r->st.errors++;
    if (level == 3)
        r->st.balance_errors++;
    if (r->in_set) {
        r->pay.errors++;
        if (level == 3)
            r->pay.balance_errors++;
    }
    if (r->claim_open)
        r->claim.errors++;
}

void r835_diag(remit_835 *r, const x12_pos *pos, const char *tag, x12_severity sev, int level,
               const char *code, int elem, int comp, const char *expected, const char *fmt, ...)
{
    r835_count(r, sev, level);
    if (!r->on_diag)
        return;
    x12_diag d;
    x12_diag_init(&d, r->name, pos, sev, level, code);
    snprintf(d.tag, sizeof d.tag, "%s", tag);
    d.elem = elem;
    d.comp = comp;
    if (expected)
        x12_diag_expected(&d, "%s", expected);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d.msg, sizeof d.msg, fmt, ap);
    va_end(ap);
    r->on_diag(r->diag_ctx, &d);
}

/* The same with the offending value as `found` (may be PHI: never logged). */
void r835_diag_found(remit_835 *r, const x12_segment *s, x12_severity sev, int level,
                     const char *code, int elem, int comp, x12_str found,
                     const char *expected, const char *msg)
{
    r835_count(r, sev, level);
    if (!r->on_diag)
        return;
    x12_diag d;
    x12_diag_init(&d, r->name, &s->pos, sev, level, code);
    snprintf(d.tag, sizeof d.tag, "%.*s", (int)s->tag.len, s->tag.p);
    d.elem = elem;
    d.comp = comp;
    x12_diag_found(&d, found.p, found.len);
    if (expected)
        x12_diag_expected(&d, "%s", expected);
    snprintf(d.msg, sizeof d.msg, "%s", msg);
    r->on_diag(r->diag_ctx, &d);
}

const char *r835_tag(const x12_segment *s, char buf[4])
{
    snprintf(buf, 4, "%.*s", (int)s->tag.len, s->tag.p);
    return buf;
}

/* --- the reader --------------------------------------------------------------- */

remit_835 *remit_835_new(const char *name, const remit_835_events *events, x12_diag_fn on_diag,
                         void *diag_ctx)
{
    remit_835 *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    snprintf(r->name, sizeof r->name, "%s", name ? name : "");
    if (events)
        r->ev = *events;
    r->on_diag = on_diag;
    r->diag_ctx = diag_ctx;
    return r;
}

const remit_835_stats *remit_835_stats_get(const remit_835 *r) { return &r->st; }

void remit_835_free(remit_835 *r)
{
    if (!r)
        return;
    free(r->lines);
    free(r->line_adj0);
    free(r->line_rem0);
    free(r->adj);
    free(r->rem);
    free(r);
}

/* --- whole inputs ------------------------------------------------------------- */

static void sink_feed(void *o, const x12_segment *s) { remit_835_feed(o, s); }
static void sink_finish(void *o) { remit_835_finish(o); }
/* Tokenizer and envelope problems count against the payment and claim being
 * read, so a set that fails validation is flagged though it is still read. */
static void sink_count(void *o, const x12_diag *d) { r835_count(o, d->severity, d->level); }

static ch_code read_any(int fd, const void *buf, size_t len, const char *name,
                        const remit_835_events *events, x12_diag_fn on_diag, void *diag_ctx,
                        remit_835_stats *stats, ch_error *err)
{
    remit_835 *r = remit_835_new(name, events, on_diag, diag_ctx);
    if (!r)
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", name);
    x12_sink sink = {sink_feed, sink_finish, sink_count, r};
    ch_code c = buf ? x12_stream_mem(buf, len, name, &sink, on_diag, diag_ctx, err)
                    : x12_stream_fd(fd, name, &sink, on_diag, diag_ctx, err);
    if (stats)
        *stats = r->st;
    remit_835_free(r);
    return c;
}

ch_code remit_835_read_fd(int fd, const char *name, const remit_835_events *events,
                          x12_diag_fn on_diag, void *diag_ctx, remit_835_stats *stats,
                          ch_error *err)
{
    return read_any(fd, NULL, 0, name, events, on_diag, diag_ctx, stats, err);
}

ch_code remit_835_read_mem(const void *buf, size_t len, const char *name,
                           const remit_835_events *events, x12_diag_fn on_diag, void *diag_ctx,
                           remit_835_stats *stats, ch_error *err)
{
    return read_any(-1, buf ? buf : "", len, name, events, on_diag, diag_ctx, stats, err);
}

/* --- helpers ------------------------------------------------------------------ */

remit_outcome remit_claim_outcome(const remit_claim *c)
{
    if (c->status_code == 22)
        return REMIT_REVERSAL;
    if (c->status_code == 4 || (c->paid == 0 && c->patient_resp == 0 && c->pr_total == 0))
        return REMIT_DENIED;
    /* a line that was charged, not paid and not owed by the patient was denied */
    for (unsigned i = 0; i < c->nlines; i++) {
        const remit_line *l = &c->lines[i];
        if (l->charge > 0 && l->paid == 0 && l->pr_total == 0)
            return REMIT_PARTIAL;
    }
    return REMIT_PAID;
}

const char *remit_outcome_name(remit_outcome o)
{
    switch (o) {
    case REMIT_PAID: return "paid";
    case REMIT_PARTIAL: return "partial";
    case REMIT_DENIED: return "denied";
    case REMIT_REVERSAL: return "reversal";
    }
    return "unknown";
}

const char *remit_claim_ref(const remit_claim *c, const char *qual)
{
    for (unsigned i = 0; i < c->nrefs; i++)
        if (!strcmp(c->refs[i].qual, qual))
            return c->refs[i].value;
    return NULL;
}

int remit_claim_amt(const remit_claim *c, const char *qual, int64_t *amount)
{
    for (unsigned i = 0; i < c->namts; i++)
        if (!strcmp(c->amts[i].qual, qual)) {
            *amount = c->amts[i].amount;
            return 1;
        }
    *amount = 0;
    return 0;
}

char *remit_payment_key(const remit_payment *p, char *buf, size_t size)
{
    const char *payer = p->trace_payer[0] ? p->trace_payer : p->payer_id[0] ? p->payer_id : p->payer_name;
    snprintf(buf, size, "%s/%s", payer, p->trace);
    return buf;
}
