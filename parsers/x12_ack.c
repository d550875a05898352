/* x12_ack.c - 999 and TA1 acknowledgments (see x12_ack.h) */
#include "x12_ack.h"

#include <stdlib.h>
#include <string.h>

#include "x12_ack_int.h"

/* ---- placing a diagnostic ------------------------------------------------ */

static int uncoded(const x12_diag *d)
{
    return !d->ik3[0] && !d->ik4[0] && !d->ik5[0] && !d->ak9[0] && !d->ta1[0];
}

static int set_level(const x12_diag *d)
{
    return d->ik3[0] || d->ik4[0] || d->ik5[0] || (uncoded(d) && d->pos.seg_in_st);
}

/* by_time: the diagnostic concerns what is open right now, whatever its
 * position says (a missing trailer is reported at the segment after it). */
static int set_match(const ack_set *s, const x12_diag *d, int by_time)
{
    if (by_time)
        return s->state == ACK_OPEN;
    return s->state != ACK_NONE && d->pos.seg_in_st && d->pos.isa_index == s->isa_i &&
           d->pos.gs_index == s->gs_i && d->pos.st_index == s->st_i;
}

static int group_match(const ack_group *g, const x12_diag *d, int by_time)
{
    if (by_time)
        return g->state == ACK_OPEN;
    return g->state != ACK_NONE && d->pos.isa_index == g->isa_i && d->pos.gs_index == g->gs_i;
}

/* A diagnostic about an ISA carries the ISA's offset but, when it is sent
 * before the ISA is returned, the previous interchange's index. */
static int ichg_match(const ack_ichg *ic, const x12_diag *d, int by_time)
{
    if (by_time || ic->state == ACK_NONE)
        return ic->state == ACK_OPEN;
    if (d->pos.seg_in_isa == 1)
        return d->pos.offset == ic->isa.offset;
    return d->pos.isa_index == ic->isa.index;
}

static int severity_level(const x12_diag *d)
{
    return d->severity >= X12_SEV_ERROR ? ACK_ERR : ACK_WARN;
}

static void set_note(x12_ack *a, const x12_diag *d)
{
    ack_set *s = &a->s;
    int lv = severity_level(d);
    if (lv > s->worst)
        s->worst = lv;
    ack_add_code(s->ik5, &s->nik5, d->ik5);
    if (d->ik3[0] || d->ik4[0]) {
        const char *c = d->ik4[0] ? d->ik4 : d->ik3;
        if (c[0] == 'I')
            s->seg_impl = 1;
        else
            s->seg_std = 1;
        ack_set_problem(a, d);
    } else if (!d->ik5[0]) {
        if (d->level <= 1)
            s->seg_std = 1;
        else
            s->seg_impl = 1;
    }
}

static void group_note(ack_group *g, const x12_diag *d)
{
    int lv = severity_level(d);
    if (lv > g->worst)
        g->worst = lv;
    ack_add_code(g->ak9, &g->nak9, d->ak9);
}

/* TA104: E for a warning or a code that only notes an error, R otherwise. */
static int ta1_level(const x12_diag *d, const char *code)
{
    static const char *const notes[] = {"001", "002", "003", "006", "008",
                                        "009", "019", "020", "021", NULL};
    if (d->severity == X12_SEV_WARNING)
        return ACK_WARN;
    if (d->severity == X12_SEV_FATAL)
        return ACK_ERR;
    for (const char *const *n = notes; *n; n++)
        if (!strcmp(*n, code))
            return ACK_WARN;
    return ACK_ERR;
}

static void ta1_note(ack_ta1 *t, int level, const char *code)
{
    if (level > t->level) {
        t->level = level;
        snprintf(t->code, sizeof t->code, "%s", code);
    }
}

static void ichg_note(x12_ack *a, const x12_diag *d, int by_time)
{
    int fatal = d->severity == X12_SEV_FATAL;
    if (!d->ta1[0] && !fatal)
        return;
    ack_ichg *ic = &a->ic;
    if (!ichg_match(ic, d, by_time)) {
        /* about an interchange that was never read */
        ta1_note(&a->lost, ACK_ERR, d->ta1[0] ? d->ta1 : "022");
        return;
    }
    if (d->ta1[0])
        ta1_note(&ic->ta1, ta1_level(d, d->ta1), d->ta1);
    else if (ic->ngroups == 0)
        ta1_note(&ic->ta1, ACK_ERR, "024"); /* reading stopped before any group */
}

/* A code that could break the segment it goes in (not 1..3 letters and
 * digits) is dropped; the problem still counts. */
static void clean_code(char *c)
{
    c[3] = '\0';
    for (const char *p = c; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z')))
            c[0] = '\0';
}

static void route(x12_ack *a, const x12_diag *in, int by_time)
{
    x12_diag copy = *in, *d = &copy;
    clean_code(d->ik3);
    clean_code(d->ik4);
    clean_code(d->ik5);
    clean_code(d->ak9);
    clean_code(d->ta1);
    int placed = 0;
    if (set_level(d) && set_match(&a->s, d, by_time)) {
        set_note(a, d);
        placed = 1;
    }
    if ((d->ak9[0] || (!placed && !d->ta1[0])) && group_match(&a->g, d, by_time))
        group_note(&a->g, d);
    ichg_note(a, d, by_time);
}

/* ---- waiting diagnostics ------------------------------------------------- */

static int queue_push(x12_ack *a, const x12_diag *d)
{
    if (a->nq == ACK_QUEUE)
        return 0;
    ack_queued *q = &a->q[a->nq++];
    q->d = *d;
    snprintf(q->loop, sizeof q->loop, "%s", d->loop_id ? d->loop_id : "");
    return 1;
}

/* Place the diagnostics about segments fed by now (all: every one). */
static void queue_replay(x12_ack *a, int all)
{
    unsigned k = 0;
    for (unsigned i = 0; i < a->nq; i++) {
        ack_queued *q = &a->q[i];
        if (all || q->d.pos.seg_no <= a->last_fed) {
            q->d.loop_id = q->loop[0] ? q->loop : NULL;
            route(a, &q->d, 0);
        } else {
            a->q[k++] = *q;
        }
    }
    a->nq = k;
}

/* Our own envelope checker: a missing trailer is placed at once (in what is
 * open now); anything else waits until the segment has been fed. */
static void own_diag(void *ctx, const x12_diag *d)
{
    x12_ack *a = ctx;
    int trailer = !strcmp(d->ik5, "2") || !strcmp(d->ak9, "3") || !strcmp(d->ta1, "023");
    if (trailer && (a->s.state == ACK_OPEN || a->g.state == ACK_OPEN || a->ic.state == ACK_OPEN))
        route(a, d, 1);
    else if (!queue_push(a, d))
        route(a, d, 0);
}

/* ---- envelope events ----------------------------------------------------- */

static void flush_pending(x12_ack *a)
{
    if (a->s.state == ACK_CLOSING)
        ack_set_flush(a);
    if (a->g.state == ACK_CLOSING)
        ack_group_flush(a);
    if (a->ic.state == ACK_CLOSING)
        ack_ichg_flush(a);
}

static void ev_isa_open(void *ctx, const x12_isa_info *isa)
{
    x12_ack *a = ctx;
    flush_pending(a);
    memset(&a->ic, 0, sizeof a->ic);
    a->ic.state = ACK_OPEN;
    a->ic.isa = *isa;
    a->last_isa = *isa;
    a->have_last_isa = 1;
}

static void ev_gs_open(void *ctx, const x12_isa_info *isa, const x12_gs_info *gs)
{
    (void)isa;
    x12_ack *a = ctx;
    flush_pending(a);
    a->ic.ngroups++;
    ack_group_start(a, gs);
}

static void ev_st_open(void *ctx, const x12_gs_info *gs, const x12_st_info *st)
{
    (void)gs;
    x12_ack *a = ctx;
    flush_pending(a);
    ack_set *s = &a->s;
    s->state = ACK_OPEN;
    s->isa_i = a->ic.isa.index;
    s->gs_i = a->g.gs_i;
    s->st_i = st->index;
    s->np = s->nik5 = 0;
    s->worst = s->seg_std = s->seg_impl = 0;
    memset(s->claim, 0, sizeof s->claim);
    snprintf(s->id, sizeof s->id, "%s", st->id);
    snprintf(s->control, sizeof s->control, "%s", st->control);
    snprintf(s->impl, sizeof s->impl, "%s", st->impl);
}

static void ev_st_close(void *ctx, const x12_gs_info *gs, const x12_st_info *st)
{
    (void)gs;
    (void)st;
    ((x12_ack *)ctx)->s.state = ACK_CLOSING;
}

static void ev_gs_close(void *ctx, const x12_isa_info *isa, const x12_gs_info *gs)
{
    (void)isa;
    x12_ack *a = ctx;
    a->g.state = ACK_CLOSING;
    a->g.ge_seen = gs->closed;
    snprintf(a->g.ge_count, sizeof a->g.ge_count, "%s", gs->ge_count);
}

static void ev_isa_close(void *ctx, const x12_isa_info *isa)
{
    (void)isa;
    ((x12_ack *)ctx)->ic.state = ACK_CLOSING;
}

/* ---- claims (for CTX*CLM01) ---------------------------------------------- */

static void end_claim(ack_claim *c, uint32_t at, x12_str tag)
{
    if (c->from && !c->to) {
        c->to = at;
        x12_copy(tag, c->end_tag, sizeof c->end_tag);
    }
}

/* An 837 claim runs from its CLM to the next CLM, HL or SE. */
static void track_claim(x12_ack *a, const x12_segment *seg)
{
    ack_set *s = &a->s;
    if (s->state == ACK_NONE)
        return;
    uint32_t at = seg->pos.seg_in_st;
    if (x12_is(seg, "CLM")) {
        end_claim(&s->claim[0], at, seg->tag);
        s->claim[1] = s->claim[0];
        memset(&s->claim[0], 0, sizeof s->claim[0]);
        s->claim[0].from = at;
        x12_str id = x12_elem(seg, 1);
        ack_clean(s->claim[0].id, sizeof s->claim[0].id, id.p, id.len);
    } else if (x12_is(seg, "HL") || x12_is(seg, "SE")) {
        end_claim(&s->claim[0], at, seg->tag);
    }
}

/*
 * The claim a problem at segment pos (tag, loop) is in, or "".  The guide
 * validator reports a missing segment or loop at the segment that ended its
 * loop, as that segment arrives: a problem reported at the CLM, HL or SE
 * that ended a claim, about another segment, belongs to the claim that
 * ended.  Loops before 2300 (the 837's claim loop) are not in a claim.
 */
const char *ack_claim_at(const ack_set *s, uint32_t pos, const char *tag, const char *loop,
                         uint32_t last)
{
    if (loop && loop[0] >= '0' && loop[0] <= '9' && atoi(loop) < 2300)
        return "";
    for (int i = 0; i < 2; i++) {
        const ack_claim *c = &s->claim[i];
        if (c->to && c->to == pos && pos == last && strcmp(tag, c->end_tag))
            return c->id;
    }
    for (int i = 0; i < 2; i++) {
        const ack_claim *c = &s->claim[i];
        if (c->from && pos >= c->from && (!c->to || pos < c->to))
            return c->id;
    }
    return "";
}

/* ---- API ----------------------------------------------------------------- */

x12_ack *x12_ack_new(const x12_ack_opts *o, ch_error *err)
{
    if (!o || !o->dir || !o->dir[0] || !o->basename || !o->basename[0] ||
        strchr(o->basename, '/')) {
        ch_error_set(err, CH_ERR_USAGE, "ack: a directory and a base name without '/' are needed");
        return NULL;
    }
    x12_ack *a = calloc(1, sizeof *a);
    if (!a || ack_opts_copy(a, o) != CH_OK) {
        x12_ack_free(a);
        ch_error_set(err, CH_ERR_NOMEM, "ack: out of memory");
        return NULL;
    }
    if (ack_mkdirs(a->dir, err) != CH_OK) {
        x12_ack_free(a);
        return NULL;
    }
    x12_env_events ev = {ev_isa_open, ev_gs_open, ev_st_open, ev_st_close,
                         ev_gs_close, ev_isa_close, a};
    a->env = x12_env_new("ack", &ev, own_diag, a);
    if (!a->env) {
        x12_ack_free(a);
        ch_error_set(err, CH_ERR_NOMEM, "ack: out of memory");
        return NULL;
    }
    return a;
}

void x12_ack_feed(x12_ack *a, const x12_segment *seg)
{
    if (!a || !seg || a->err.code || a->finished)
        return;
    flush_pending(a);
    x12_env_feed(a->env, seg);
    a->last_fed = seg->pos.seg_no;
    a->last_pos = seg->pos;
    track_claim(a, seg);
    queue_replay(a, 0);
}

void x12_ack_diag(x12_ack *a, const x12_diag *d)
{
    if (!a || !d || a->err.code || a->finished)
        return;
    if (d->code && !strncmp(d->code, "envelope.", 9))
        return; /* our own checker reports these */
    if (d->pos.seg_no > a->last_fed && queue_push(a, d))
        return;
    route(a, d, 0);
}

ch_code x12_ack_finish(x12_ack *a, ch_error *err)
{
    if (!a)
        return ch_error_set(err, CH_ERR_USAGE, "ack: finish without an acknowledger");
    if (!a->err.code && !a->finished) {
        x12_env_finish(a->env, &a->last_pos);
        queue_replay(a, 1);
        flush_pending(a);
        if (a->lost.level && !a->err.code)
            ack_write_ta1(a, NULL, &a->lost);
    }
    a->finished = 1;
    if (a->err.code) {
        if (err)
            *err = a->err;
        return a->err.code;
    }
    return CH_OK;
}

unsigned x12_ack_files(const x12_ack *a, char ***paths)
{
    if (paths)
        *paths = a ? a->files : NULL;
    return a ? a->nfiles : 0;
}

void x12_ack_free(x12_ack *a)
{
    if (!a)
        return;
    ack_file_discard(&a->g.f);
    x12_env_free(a->env);
    for (unsigned i = 0; i < a->nfiles; i++)
        free(a->files[i]);
    free(a->files);
    free(a->s.p);
    free(a->dir);
    free(a->base);
    free(a->self_id);
    free(a->partner_id);
    free(a);
}
