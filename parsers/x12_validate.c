/*
 * x12_validate.c - the validator's public face: envelopes, transaction
 * sets, guide choice and reporting (see x12_validate.h).
 *
 * The internal envelope checker sees every segment; its st_open/st_close
 * events start and end the guide validation of a transaction set.  SE is
 * placed in the guide before the envelope checker sees it (which closes the
 * set), every other segment after (an ST must open its set first).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x12_val_internal.h"

/* ---- reporting ----------------------------------------------------------- */

void xv_diag(xv *v, x12_diag *d, const x12_pos *pos, x12_severity sev, int level,
             const char *code, const char *tag, const x12_gloop *loop)
{
    x12_diag_init(d, v->file, pos ? pos : v->cur, sev, level, code);
    if (tag)
        snprintf(d->tag, sizeof d->tag, "%s", tag);
    if (loop && loop->id) {
        d->loop_id = loop->id;
        d->loop_name = loop->name;
    }
}

const x12_pos *xv_pos_full(const xv *v, const xv_pos *k, x12_pos *out)
{
    *out = v->st_pos;
    out->offset = k->offset;
    out->seg_no = k->seg_no;
    out->seg_in_isa = k->seg_in_isa;
    out->seg_in_st = k->seg_in_st;
    return out;
}

static void count(xv *v, x12_severity sev)
{
    if (sev == X12_SEV_WARNING) {
        v->nwarn++;
    } else {
        v->nerr++;
        if (v->in_tx)
            v->tx_errors++;
    }
}

void xv_emit(xv *v, x12_diag *d)
{
    if (!d->ik5[0] && v->in_tx && d->severity >= X12_SEV_ERROR)
        snprintf(d->ik5, sizeof d->ik5, "%s", d->level <= 1 ? "5" : "I5");
    if (v->par) {
        xv_par_diag(v, d, v->in_tx && d->severity != X12_SEV_WARNING, 1);
        return;
    }
    count(v, d->severity);
    if (v->fn)
        v->fn(v->ctx, d);
}

/* Diagnostics of the envelope checker pass through, counted. */
static void env_diag(void *ctx, const x12_diag *d)
{
    xv *v = ctx;
    if (v->par) {
        xv_par_diag(v, d, v->in_tx && d->severity != X12_SEV_WARNING, 1);
        return;
    }
    count(v, d->severity);
    if (v->fn)
        v->fn(v->ctx, d);
}

void xv_count(xv *v, x12_severity sev) { count(v, sev); }

/* ---- transaction sets ---------------------------------------------------- */

/* Size the frame pools for guide g; 0 when out of memory. */
static int reserve(xv *v, const x12_guide *g)
{
    size_t depth = (size_t)g->max_depth + 1, child = g->max_child ? g->max_child : 1,
           slot = g->max_slot ? g->max_slot : 1;
    if (depth <= v->cap_depth && child <= v->cap_child && slot <= v->cap_slot)
        return 1;
    if (depth < v->cap_depth)
        depth = v->cap_depth;
    if (child < v->cap_child)
        child = v->cap_child;
    if (slot < v->cap_slot)
        slot = v->cap_slot;
    xv_frame *fr = calloc(depth, sizeof *fr);
    uint32_t *cn = calloc(depth * child, sizeof *cn);
    xv_slot *sl = calloc(depth * slot, sizeof *sl);
    if (!fr || !cn || !sl) {
        free(fr);
        free(cn);
        free(sl);
        return 0;
    }
    free(v->frames);
    free(v->counts);
    free(v->slots);
    v->frames = fr;
    v->counts = cn;
    v->slots = sl;
    v->cap_depth = depth;
    v->cap_child = child;
    v->cap_slot = slot;
    return 1;
}

static void unchecked(xv *v, const char *ik5, const char *code, const char *expected,
                      const char *msg)
{
    x12_diag d;
    xv_diag(v, &d, NULL, X12_SEV_ERROR, 1, code, "ST", NULL);
    snprintf(d.ik5, sizeof d.ik5, "%s", ik5);
    snprintf(d.msg, sizeof d.msg, "%s", msg);
    if (expected)
        x12_diag_expected(&d, "%s", expected);
    xv_emit(v, &d);
    v->nsets_unchecked++;
}

static void st_open(void *ctx, const x12_gs_info *gs, const x12_st_info *st)
{
    xv *v = ctx;
    v->nsets++;
    v->in_tx = 1;
    v->st_pos = *v->cur;
    v->tx_errors = 0;
    v->g = NULL;
    v->top = -1;
    if (v->par)
        xv_par_begin(v); /* before the set's own diagnostics below */
    const char *version = st->impl[0] ? st->impl : gs ? gs->version : "";
    const x12_guide *g = v->forced;
    if (!g) {
        ch_error err;
        ch_code rc = x12_guide_lookup(st->id, version, &g, &err);
        char msg[sizeof err.msg + 64];
        if (rc == CH_ERR_NOTFOUND) {
            int known = x12_guide_knows_st01(st->id);
            snprintf(msg, sizeof msg,
                     "transaction set %s with implementation guide '%s' is not one this program "
                     "validates (%s); its segments were only read",
                     st->id, version, err.msg);
            unchecked(v, known ? "I6" : "1", "guide.unknown",
                      "an 837 (005010X222A1 or 005010X223A2), 835 (005010X221A1), 999 "
                      "(005010X231A1) or 277 (005010X214)",
                      msg);
        } else if (rc != CH_OK) {
            snprintf(msg, sizeof msg, "the guide table cannot be used: %s", err.msg);
            unchecked(v, "I6", "guide.broken", NULL, msg);
        }
        if (rc != CH_OK)
            goto events;
    } else if (st->impl[0] && !x12_guide_accepts(g, st->impl)) {
        x12_diag d;
        xv_diag(v, &d, NULL, X12_SEV_ERROR, 1, "guide.version", "ST", NULL);
        d.elem = 3;
        snprintf(d.ik3, sizeof d.ik3, "8");
        snprintf(d.ik4, sizeof d.ik4, "7");
        x12_diag_found(&d, st->impl, strlen(st->impl));
        x12_diag_msg(&d, "ST03 names another implementation guide than the one validating this set");
        x12_diag_expected(&d, "%s", g->version);
        xv_emit(v, &d);
    }
    if (v->par && xv_par_guide(v, g))
        goto events; /* a worker validates it (x12_val_par.c) */
    xv_set_begin(v, g);
events:
    if (v->user_ev.st_open)
        v->user_ev.st_open(v->user_ev.ctx, gs, st);
}

void xv_set_begin(xv *v, const x12_guide *g)
{
    if (!reserve(v, g)) {
        unchecked(v, "I6", "guide.nomem", NULL, "out of memory: the set was not validated");
        return;
    }
    if (g != v->memo_g) {
        /* placements remembered for another guide mean nothing here */
        if (!v->memo)
            v->memo = malloc(XV_MEMO * sizeof *v->memo);
        if (v->memo)
            memset(v->memo, 0, XV_MEMO * sizeof *v->memo);
        memset(v->tagkey, 0, sizeof v->tagkey);
        memset(v->endq, 0, sizeof v->endq);
        memset(v->compq, 0, sizeof v->compq);
        v->memo_g = v->memo ? g : NULL;
    }
    v->g = g;
    v->have_hl = 0;
    xv_loops_begin(v);
    if (g->balance)
        xv_balance_begin(v);
}

static void st_close(void *ctx, const x12_gs_info *gs, const x12_st_info *st)
{
    xv *v = ctx;
    if (v->in_tx && v->g && !v->par_remote)
        xv_loops_end(v, NULL);
    if (v->in_tx && v->tx_errors && !v->par_remote)
        v->nsets_bad++;
    if (v->par) {
        xv_par_end(v);
        v->in_tx = 0;
        v->g = NULL;
        return; /* no user events with threads (x12_validator_threads) */
    }
    if (v->user_ev.st_close)
        v->user_ev.st_close(v->user_ev.ctx, gs, st);
    v->in_tx = 0;
    v->g = NULL;
}

/* The other events only pass through. */
static void isa_open(void *ctx, const x12_isa_info *i)
{
    xv *v = ctx;
    if (v->user_ev.isa_open)
        v->user_ev.isa_open(v->user_ev.ctx, i);
}

static void gs_open(void *ctx, const x12_isa_info *i, const x12_gs_info *g)
{
    xv *v = ctx;
    if (v->user_ev.gs_open)
        v->user_ev.gs_open(v->user_ev.ctx, i, g);
}

static void gs_close(void *ctx, const x12_isa_info *i, const x12_gs_info *g)
{
    xv *v = ctx;
    if (v->user_ev.gs_close)
        v->user_ev.gs_close(v->user_ev.ctx, i, g);
}

static void isa_close(void *ctx, const x12_isa_info *i)
{
    xv *v = ctx;
    if (v->user_ev.isa_close)
        v->user_ev.isa_close(v->user_ev.ctx, i);
}

/* ---- API ----------------------------------------------------------------- */

x12_validator *x12_validator_new(const char *file, x12_diag_fn fn, void *ctx)
{
    xv *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    snprintf(v->file, sizeof v->file, "%s", file ? file : "(input)");
    v->fn = fn;
    v->ctx = ctx;
    v->top = -1;
    static const x12_pos nowhere;
    v->cur = &nowhere;
    x12_env_events ev = {isa_open, gs_open, st_open, st_close, gs_close, isa_close, v};
    v->env = x12_env_new(v->file, &ev, env_diag, v);
    if (!v->env) {
        free(v);
        return NULL;
    }
    return v;
}

void x12_validator_use_guide(x12_validator *v, const x12_guide *g)
{
    v->forced = g;
    v->memo_g = NULL; /* a new guide may sit where a freed one was */
}

void x12_validator_events(x12_validator *v, const x12_env_events *ev)
{
    if (ev)
        v->user_ev = *ev;
    else
        memset(&v->user_ev, 0, sizeof v->user_ev);
}

/* A segment of a set being validated: here, or packed for a worker. */
static inline void place(xv *v, const x12_segment *seg)
{
    if (v->par_remote)
        xv_par_segment(v, seg);
    else
        xv_loops_segment(v, seg);
    if (v->par)
        xv_par_placed(v);
}

void x12_validator_feed(x12_validator *v, const x12_segment *seg)
{
    v->cur = &seg->pos;
    int is_se = seg->tag.len == 2 && seg->tag.p[0] == 'S' && seg->tag.p[1] == 'E';
    if (is_se) {
        if (v->in_tx && v->g)
            place(v, seg);
        x12_env_feed(v->env, seg);
        return;
    }
    x12_env_feed(v->env, seg);
    if (v->in_tx && v->g)
        place(v, seg);
}

void x12_validator_pass(x12_validator *v, const x12_diag *d)
{
    if (v->par)
        xv_par_diag(v, d, 0, 0);
    else if (v->fn)
        v->fn(v->ctx, d);
}

void x12_validator_finish(x12_validator *v, const x12_pos *last)
{
    static const x12_pos nowhere;
    v->cur = last ? last : &nowhere;
    x12_env_finish(v->env, last);
    if (v->par)
        xv_par_finish(v);
}

unsigned x12_validator_errors(const x12_validator *v) { return v->nerr; }
unsigned x12_validator_warnings(const x12_validator *v) { return v->nwarn; }
unsigned x12_validator_sets(const x12_validator *v) { return v->nsets; }
unsigned x12_validator_sets_with_errors(const x12_validator *v) { return v->nsets_bad; }
unsigned x12_validator_sets_unchecked(const x12_validator *v) { return v->nsets_unchecked; }
unsigned x12_validator_set_errors(const x12_validator *v) { return v->tx_errors; }
const x12_guide *x12_validator_guide(const x12_validator *v) { return v->g; }

void x12_validator_free(x12_validator *v)
{
    if (!v)
        return;
    xv_par_free(v);
    x12_env_free(v->env);
    free(v->frames);
    free(v->counts);
    free(v->slots);
    free(v->memo);
    free(v);
}
