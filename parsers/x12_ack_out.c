/* x12_ack_out.c - the segments of 999 and TA1 acknowledgments (see x12_ack.h) */
#include <stdlib.h>
#include <string.h>

#include "x12_ack_int.h"

static const x12_delims ack_delims = {'*', '^', ':', '~'};
#define ACK_VERSION "005010X231A1"

void ack_add_code(char (*codes)[4], unsigned *n, const char *code)
{
    if (!code[0] || *n >= 5)
        return;
    for (unsigned i = 0; i < *n; i++)
        if (!strcmp(codes[i], code))
            return;
    snprintf(codes[*n], 4, "%s", code);
    (*n)++;
}

static unsigned long next_ctl(unsigned long *c)
{
    unsigned long v = *c;
    *c = v >= 999999999ul ? 1 : v + 1;
    return v;
}

static struct tm ack_time(const x12_ack *a)
{
    time_t t = a->o.now ? a->o.now : time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    return tm;
}

/* Finish a segment; the first error stops all writing. */
static void end(x12_ack *a, x12_writer *w)
{
    ch_error e;
    if (x12w_end(w, &e) != CH_OK)
        ack_fail(a, e.code, "ack: %s", e.msg);
}

/* value cleaned of delimiters, or fallback when it is not min..max long */
static void field(char *out, size_t size, const char *value, size_t min, const char *fallback)
{
    ack_clean(out, size, value, strlen(value));
    if (strlen(out) < min)
        snprintf(out, size, "%s", fallback);
}

/* ---- envelopes ----------------------------------------------------------- */

static void qualifier(char out[3], const char *q)
{
    x12_str s = {q, strlen(q)};
    snprintf(out, 3, "%s", x12_isa_qualifier_ok(s) ? q : "ZZ");
}

/* The ISA of an acknowledgment sent back to the sender of rx (NULL: the
 * parties are not known; the options name them). */
static void write_isa(x12_ack *a, FILE *fp, const x12_isa_info *rx, unsigned long ctl)
{
    char fq[3] = "ZZ", tq[3] = "ZZ", from[16], to[16], usage = 'P';
    if (rx) {
        qualifier(fq, rx->receiver_q);
        qualifier(tq, rx->sender_q);
        field(from, sizeof from, rx->receiver, 1, "UNKNOWN");
        field(to, sizeof to, rx->sender, 1, "UNKNOWN");
        if (rx->usage[0] && !rx->usage[1] && strchr("PTI", rx->usage[0]))
            usage = rx->usage[0];
    } else {
        field(from, sizeof from, a->self_id, 1, "UNKNOWN");
        field(to, sizeof to, a->partner_id, 1, "UNKNOWN");
    }
    struct tm tm = ack_time(a);
    fprintf(fp, "ISA*00*%10s*00*%10s*%s*%-15s*%s*%-15s*%02d%02d%02d*%02d%02d*^*00501*%09lu*0*%c*:~\n",
            "", "", fq, from, tq, to, tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
            tm.tm_min, ctl, usage);
}

static void write_gs(x12_ack *a, x12_writer *w, const x12_gs_info *gs, unsigned long ctl)
{
    char from[16], to[16];
    field(from, sizeof from, gs->receiver, 2, a->ic.isa.receiver);
    field(to, sizeof to, gs->sender, 2, a->ic.isa.sender);
    field(from, sizeof from, from, 2, "UNKNOWN");
    field(to, sizeof to, to, 2, "UNKNOWN");
    struct tm tm = ack_time(a);
    x12w_seg(w, "GS");
    x12w_el(w, "FA");
    x12w_el(w, from);
    x12w_el(w, to);
    x12w_elf(w, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    x12w_elf(w, "%02d%02d", tm.tm_hour, tm.tm_min);
    x12w_elf(w, "%lu", ctl);
    x12w_el(w, "X");
    x12w_el(w, ACK_VERSION);
    end(a, w);
}

static void write_st_ak1(x12_ack *a, x12_writer *w, const x12_gs_info *gs)
{
    char fid[3], ver[13];
    field(fid, sizeof fid, gs->fid, 2, "ZZ");
    field(ver, sizeof ver, gs->version, 1, "UNKNOWN");
    x12_str ctl = {gs->control, strlen(gs->control)};
    x12w_seg(w, "ST");
    x12w_el(w, "999");
    x12w_el(w, "0001");
    x12w_el(w, ACK_VERSION);
    end(a, w);
    x12w_seg(w, "AK1");
    x12w_el(w, fid);
    x12w_el(w, x12_is_digits(ctl) ? gs->control : "0"); /* AK905 6 says why */
    x12w_el(w, ver);
    end(a, w);
}

void ack_group_start(x12_ack *a, const x12_gs_info *gs)
{
    ack_group *g = &a->g;
    ack_file_discard(&g->f);
    memset(g, 0, sizeof *g);
    g->state = ACK_OPEN;
    g->isa_i = a->ic.isa.index;
    g->gs_i = gs->index;
    if (a->err.code || a->ic.state != ACK_OPEN)
        return; /* a group outside any interchange: nothing to answer in */
    g->isa13 = next_ctl(&a->next_isa13);
    g->gs06 = next_ctl(&a->next_gs06);
    char name[PATH_MAX];
    snprintf(name, sizeof name, "%s.%09lu.%lu.999", a->base, g->isa13, g->gs06);
    if (ack_file_open(a, &g->f, name) != CH_OK)
        return;
    x12w_init(&g->w, g->f.fp, &ack_delims, 1);
    write_isa(a, g->f.fp, &a->ic.isa, g->isa13);
    write_gs(a, &g->w, gs, g->gs06);
    g->st_base = g->w.count;
    write_st_ak1(a, &g->w, gs);
}

/* ---- transaction sets ---------------------------------------------------- */

/* Room for one more problem, or NULL (past the cap, or no memory). */
static ack_problem *new_problem(x12_ack *a)
{
    ack_set *s = &a->s;
    if (s->np >= X12_ACK_MAX_PROBLEMS)
        return NULL;
    if (s->np == s->cap) {
        unsigned cap = s->cap ? s->cap * 2 : 16;
        ack_problem *p = realloc(s->p, cap * sizeof *p);
        if (!p) {
            ack_fail(a, CH_ERR_NOMEM, "ack: out of memory");
            return NULL;
        }
        s->p = p;
        s->cap = cap;
    }
    ack_problem *p = &s->p[s->np];
    memset(p, 0, sizeof *p);
    p->order = s->np++;
    return p;
}

void ack_set_problem(x12_ack *a, const x12_diag *d)
{
    char tag[4];
    ack_clean(tag, sizeof tag, d->tag, strlen(d->tag));
    if (!tag[0]) /* an unreadable tag: what was found */
        ack_clean(tag, sizeof tag, d->found, strlen(d->found));
    if (!d->pos.seg_in_st || strlen(tag) < 2)
        return; /* nowhere to point an IK3 at; IK5 still says so */
    ack_problem *p = new_problem(a);
    if (!p)
        return;
    p->seg_pos = d->pos.seg_in_st;
    memcpy(p->tag, tag, sizeof p->tag);
    if (d->loop_id)
        ack_clean(p->loop, a->o.full_loop_ids ? 7 : 5, d->loop_id, strlen(d->loop_id));
    snprintf(p->clm01, sizeof p->clm01, "%s",
             ack_claim_at(&a->s, p->seg_pos, tag, d->loop_id, a->last_pos.seg_in_st));
    if (d->ik4[0] && d->elem > 0 && d->elem <= 99) {
        snprintf(p->ik4, sizeof p->ik4, "%s", d->ik4);
        p->elem = (uint16_t)d->elem;
        p->comp = (uint16_t)(d->comp > 0 && d->comp <= 99 ? d->comp : 0);
        p->rep = (uint16_t)(d->rep > 0 && d->rep <= 9999 ? d->rep : 0);
        p->ele_ref = (uint16_t)(d->ele_ref <= 9999 ? d->ele_ref : 0);
        ack_clean(p->bad, sizeof p->bad, d->found, strlen(d->found));
    } else {
        snprintf(p->ik3, sizeof p->ik3, "%s", d->ik3[0] ? d->ik3 : "8");
    }
}

static int cmp_problem(const void *x, const void *y)
{
    const ack_problem *p = x, *q = y;
    if (p->seg_pos != q->seg_pos)
        return p->seg_pos < q->seg_pos ? -1 : 1;
    int c = strcmp(p->tag, q->tag);
    if (!c)
        c = strcmp(p->loop, q->loop);
    return c ? c : (p->order < q->order ? -1 : p->order > q->order);
}

static void write_ik3(x12_ack *a, const ack_problem *p, const char *code, const char *clm)
{
    x12_writer *w = &a->g.w;
    x12w_seg(w, "IK3");
    x12w_el(w, p->tag);
    x12w_elf(w, "%u", (unsigned)p->seg_pos);
    x12w_el(w, p->loop);
    x12w_el(w, code);
    end(a, w);
    if (!clm[0])
        return;
    x12w_seg(w, "CTX");
    x12w_el(w, "CLM01");
    x12w_sub(w, clm);
    end(a, w);
}

static void write_ik4(x12_ack *a, const ack_problem *p)
{
    x12_writer *w = &a->g.w;
    char comp[8] = "", rep[8];
    x12w_seg(w, "IK4");
    x12w_elf(w, "%u", (unsigned)p->elem);
    if (p->comp)
        snprintf(comp, sizeof comp, "%u", (unsigned)p->comp);
    if (p->comp || p->rep)
        x12w_sub(w, comp);
    if (p->rep) {
        snprintf(rep, sizeof rep, "%u", (unsigned)p->rep);
        x12w_sub(w, rep);
    }
    if (p->ele_ref)
        x12w_elf(w, "%u", (unsigned)p->ele_ref);
    else
        x12w_el(w, "");
    x12w_el(w, p->ik4);
    x12w_el(w, p->bad);
    end(a, w);
}

/* The problems of one segment: an IK3 per segment-level code, then one IK3
 * (code 8, segment has data element errors) over the IK4s. */
static void write_segment(x12_ack *a, const ack_problem *p, unsigned n)
{
    const char *clm = "";
    int elements = 0;
    for (unsigned i = 0; i < n; i++) {
        elements |= p[i].ik4[0] != '\0';
        if (!clm[0])
            clm = p[i].clm01;
    }
    for (unsigned i = 0; i < n; i++) {
        if (p[i].ik4[0] || (elements && !strcmp(p[i].ik3, "8")))
            continue;
        int seen = 0;
        for (unsigned k = 0; k < i && !seen; k++)
            seen = !p[k].ik4[0] && !strcmp(p[k].ik3, p[i].ik3);
        if (!seen)
            write_ik3(a, &p[i], p[i].ik3, clm);
    }
    if (!elements)
        return;
    write_ik3(a, p, "8", clm);
    for (unsigned i = 0; i < n; i++)
        if (p[i].ik4[0])
            write_ik4(a, &p[i]);
}

static void write_problems(x12_ack *a, ack_set *s)
{
    if (!s->np)
        return;
    qsort(s->p, s->np, sizeof *s->p, cmp_problem);
    for (unsigned i = 0, j; i < s->np; i = j) {
        for (j = i + 1; j < s->np; j++)
            if (s->p[j].seg_pos != s->p[i].seg_pos || strcmp(s->p[j].tag, s->p[i].tag) ||
                strcmp(s->p[j].loop, s->p[i].loop))
                break;
        write_segment(a, s->p + i, j - i);
    }
}

static void write_ak2(x12_ack *a, const ack_set *s)
{
    char id[4], ctl[10], impl[36];
    field(id, sizeof id, s->id, 3, "000");
    field(ctl, sizeof ctl, s->control, 1, "0");
    size_t n = strlen(ctl);
    if (n < 4) { /* AK202 is 4 to 9 long; IK5 7 (from ST02) says why */
        memmove(ctl + 4 - n, ctl, n + 1);
        memset(ctl, '0', 4 - n);
    }
    field(impl, sizeof impl, s->impl, 1, "");
    x12_writer *w = &a->g.w;
    x12w_seg(w, "AK2");
    x12w_el(w, id);
    x12w_el(w, ctl);
    x12w_el(w, impl);
    end(a, w);
}

static void write_ik5(x12_ack *a, const ack_set *s, char ack)
{
    char codes[5][4];
    unsigned n = 0;
    if (ack != 'A') {
        for (unsigned i = 0; i < s->nik5; i++)
            ack_add_code(codes, &n, s->ik5[i]);
        if (s->seg_std)
            ack_add_code(codes, &n, "5");
        if (s->seg_impl)
            ack_add_code(codes, &n, "I5");
        if (!n)
            ack_add_code(codes, &n, "5");
    }
    x12_writer *w = &a->g.w;
    x12w_seg(w, "IK5");
    x12w_eln(w, &ack, 1);
    for (unsigned i = 0; i < n; i++)
        x12w_el(w, codes[i]);
    end(a, w);
}

void ack_set_flush(x12_ack *a)
{
    ack_set *s = &a->s;
    ack_group *g = &a->g;
    s->state = ACK_NONE;
    if (g->state == ACK_NONE || s->gs_i != g->gs_i || s->isa_i != g->isa_i)
        return; /* a set outside any group */
    char ack = s->worst == ACK_ERR ? 'R' : s->worst == ACK_WARN ? 'E' : 'A';
    g->received++;
    g->accepted += ack != 'R';
    g->noted += ack == 'E';
    if (!g->f.fp || a->err.code)
        return;
    write_ak2(a, s);
    write_problems(a, s);
    write_ik5(a, s, ack);
}

/* ---- group and interchange trailers --------------------------------------- */

static void write_ak9(x12_ack *a, ack_group *g)
{
    char ack;
    if (g->worst == ACK_ERR || (g->received && !g->accepted))
        ack = 'R';
    else if (g->accepted < g->received)
        ack = 'P';
    else if (g->noted || g->worst == ACK_WARN)
        ack = 'E';
    else
        ack = 'A';
    x12_str ge = {g->ge_count, strlen(g->ge_count)};
    x12_writer *w = &g->w;
    x12w_seg(w, "AK9");
    x12w_eln(w, &ack, 1);
    if (g->ge_seen && ge.len <= 6 && x12_is_digits(ge))
        x12w_elf(w, "%lu", strtoul(g->ge_count, NULL, 10));
    else
        x12w_elf(w, "%u", g->received);
    x12w_elf(w, "%u", g->received);
    x12w_elf(w, "%u", ack == 'R' ? 0 : g->accepted);
    for (unsigned i = 0; i < g->nak9; i++)
        x12w_el(w, g->ak9[i]);
    end(a, w);
}

void ack_group_flush(x12_ack *a)
{
    ack_group *g = &a->g;
    g->state = ACK_NONE;
    if (!g->f.fp)
        return;
    x12_writer *w = &g->w;
    write_ak9(a, g);
    x12w_seg(w, "SE");
    x12w_elf(w, "%lu", w->count - g->st_base + 1);
    x12w_el(w, "0001");
    end(a, w);
    x12w_seg(w, "GE");
    x12w_el(w, "1");
    x12w_elf(w, "%lu", g->gs06);
    end(a, w);
    x12w_seg(w, "IEA");
    x12w_el(w, "1");
    x12w_elf(w, "%09lu", g->isa13);
    end(a, w);
    if (a->err.code)
        ack_file_discard(&g->f);
    else
        ack_file_commit(a, &g->f);
}

/* TA101..TA103: what the ISA said, where it can be said again. */
static void ta1_fields(const x12_ack *a, const x12_isa_info *rx, char ctl[10], char date[7],
                       char tm_[5])
{
    struct tm tm = ack_time(a);
    snprintf(date, 7, "%02d%02d%02d", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday);
    snprintf(tm_, 5, "%02d%02d", tm.tm_hour, tm.tm_min);
    snprintf(ctl, 10, "000000000");
    if (!rx)
        return;
    x12_str c = {rx->control, strlen(rx->control)}, d = {rx->date, strlen(rx->date)},
            t = {rx->time, strlen(rx->time)};
    if (x12_is_digits(c) && c.len <= 9)
        memcpy(ctl + 9 - c.len, c.p, c.len);
    if (d.len == 6 && x12_valid_date(d))
        memcpy(date, d.p, 7);
    if (t.len == 4 && x12_valid_time(t))
        memcpy(tm_, t.p, 5);
}

void ack_write_ta1(x12_ack *a, const x12_isa_info *rx, const ack_ta1 *t)
{
    if (a->err.code)
        return;
    const x12_isa_info *parties = rx ? rx : a->have_last_isa ? &a->last_isa : NULL;
    unsigned long ctl = next_ctl(&a->next_isa13);
    char name[PATH_MAX], num[10], date[7], tm[5];
    snprintf(name, sizeof name, "%s.%09lu.ta1", a->base, ctl);
    ack_file f = {0};
    if (ack_file_open(a, &f, name) != CH_OK)
        return;
    write_isa(a, f.fp, parties, ctl);
    ta1_fields(a, rx, num, date, tm);
    x12_writer w;
    x12w_init(&w, f.fp, &ack_delims, 1);
    x12w_seg(&w, "TA1");
    x12w_el(&w, num);
    x12w_el(&w, date);
    x12w_el(&w, tm);
    x12w_el(&w, t->level == ACK_ERR ? "R" : t->level == ACK_WARN ? "E" : "A");
    x12w_el(&w, t->level ? t->code : "000");
    end(a, &w);
    x12w_seg(&w, "IEA");
    x12w_el(&w, "0");
    x12w_elf(&w, "%09lu", ctl);
    end(a, &w);
    if (a->err.code)
        ack_file_discard(&f);
    else
        ack_file_commit(a, &f);
}

void ack_ichg_flush(x12_ack *a)
{
    ack_ichg *ic = &a->ic;
    ic->state = ACK_NONE;
    if (ic->ta1.level || a->o.ta1_always || !strcmp(ic->isa.ack_requested, "1"))
        ack_write_ta1(a, &ic->isa, &ic->ta1);
}
