/*
 * encounter.c - problems, init/clear, and reading a document into an
 * encounter (see encounter.h).  The field table is in encounter_fields.c,
 * setting values from text in encounter_set.c, values as text (enum words
 * too) and the ledger form in encounter_pack.c.
 */
#include "encounter.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encounter_int.h"

/* --- problems ----------------------------------------------------------- */

void encounter_problem_add(encounter_problems *p, const char *path, const char *fmt, ...)
{
    if (p->n >= ENC_MAX_PROBLEMS) {
        p->dropped++;
        return;
    }
    encounter_problem *q = &p->v[p->n++];
    snprintf(q->path, sizeof q->path, "%s", path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->msg, sizeof q->msg, fmt, ap);
    va_end(ap);
    q->line = q->col = 0;
}

void encounter_problems_locate(encounter_problems *p, const ydoc_node *doc)
{
    for (unsigned i = 0; i < p->n; i++) {
        encounter_problem *q = &p->v[i];
        if (q->line)
            continue;
        /* the field itself, or the nearest enclosing thing that exists */
        char path[sizeof q->path];
        snprintf(path, sizeof path, "%s", q->path);
        const ydoc_node *n = NULL;
        for (;;) {
            n = path[0] ? ydoc_find(doc, path) : doc;
            if (n || !path[0])
                break;
            char *cut = strrchr(path, '.');
            char *br = strrchr(path, '[');
            if (br && (!cut || br > cut))
                cut = br;
            if (!cut)
                path[0] = '\0';
            else
                *cut = '\0';
        }
        if (n) {
            q->line = n->line;
            q->col = n->col;
        }
    }
}

/* --- init / clear ----------------------------------------------------------- */

void encounter_init(encounter *e) { encounter_zero(e); }

void encounter_clear(encounter *e)
{
    free(e->lines);
    encounter_init(e);
}

/* --- reading a document --------------------------------------------------- */

/* Path buffers: `gp` is the table path ("lines[].charge"), `rp` the one
 * reported ("lines[3].charge"). */
typedef struct pathbuf {
    char gp[128], rp[128];
    size_t gn, rn;
} pathbuf;

static void walk_map(encounter_rd *r, const ydoc_node *map, pathbuf *pb, int line);

static void push_key(pathbuf *pb, const char *k, size_t kn, size_t *gsave, size_t *rsave)
{
    *gsave = pb->gn;
    *rsave = pb->rn;
    if (pb->gn && pb->gn + 1 < sizeof pb->gp)
        pb->gp[pb->gn++] = '.';
    if (pb->rn && pb->rn + 1 < sizeof pb->rp)
        pb->rp[pb->rn++] = '.';
    size_t g = kn < sizeof pb->gp - 1 - pb->gn ? kn : sizeof pb->gp - 1 - pb->gn;
    memcpy(pb->gp + pb->gn, k, g);
    pb->gn += g;
    pb->gp[pb->gn] = '\0';
    size_t rr = kn < sizeof pb->rp - 1 - pb->rn ? kn : sizeof pb->rp - 1 - pb->rn;
    memcpy(pb->rp + pb->rn, k, rr);
    pb->rn += rr;
    pb->rp[pb->rn] = '\0';
}

static void pop_key(pathbuf *pb, size_t gsave, size_t rsave)
{
    pb->gn = gsave;
    pb->gp[gsave] = '\0';
    pb->rn = rsave;
    pb->rp[rsave] = '\0';
}

static void read_list(encounter_rd *r, const encounter_field *f, const ydoc_node *v, pathbuf *pb, int line)
{
    if (v->kind == YDOC_SCALAR) {
        /* a single value where a list is expected: `modifiers: 25` */
        encounter_add_item(r, f, (unsigned)line, v->str, v->len, pb->rp);
        return;
    }
    if (v->kind != YDOC_SEQ) {
        encounter_problem_add(r->probs, pb->rp, "expected a list, found %s", ydoc_kind_name(v));
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        const ydoc_node *it = v->items[i];
        char p[160];
        size_t k = encounter_copy_n(p, sizeof p - 24, pb->rp, pb->rn);
        p[k++] = '[';
        k += encounter_put_u(p + k, i);
        p[k++] = ']';
        p[k] = '\0';
        if (it->kind != YDOC_SCALAR) {
            encounter_problem_add(r->probs, p, "expected a value, found %s", ydoc_kind_name(it));
            continue;
        }
        if (ydoc_is_null(it))
            continue;
        encounter_add_item(r, f, (unsigned)line, it->str, it->len, p);
    }
}

static void read_lines(encounter_rd *r, const ydoc_node *v, pathbuf *pb)
{
    if (v->kind != YDOC_SEQ) {
        encounter_problem_add(r->probs, pb->rp, "expected a list of service lines, found %s", ydoc_kind_name(v));
        return;
    }
    if (v->n > ENC_MAX_LINES) {
        encounter_problem_add(r->probs, pb->rp, "%zu service lines; at most %d", v->n, ENC_MAX_LINES);
        return;
    }
    if (!v->n)
        return;
    encounter *e = r->e;
    e->lines = calloc(v->n, sizeof *e->lines);
    if (!e->lines) {
        encounter_problem_add(r->probs, pb->rp, "out of memory");
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        encounter_line_init(&e->lines[i]);
        const ydoc_node *it = v->items[i];
        size_t gs = pb->gn, rs = pb->rn;
        /* "lines" is short: the buffers always have room for the index */
        memcpy(pb->gp + pb->gn, "[]", 3);
        pb->gn += 2;
        pb->rp[pb->rn++] = '[';
        pb->rn += encounter_put_u(pb->rp + pb->rn, i);
        pb->rp[pb->rn++] = ']';
        pb->rp[pb->rn] = '\0';
        if (it->kind != YDOC_MAP)
            encounter_problem_add(r->probs, pb->rp, "expected a service line (a mapping), found %s",
                                  ydoc_kind_name(it));
        else
            walk_map(r, it, pb, (int)i);
        pop_key(pb, gs, rs);
    }
    e->nlines = (unsigned)v->n;
}

static void walk_map(encounter_rd *r, const ydoc_node *map, pathbuf *pb, int line)
{
    for (size_t i = 0; i < map->n; i++) {
        const ydoc_node *k = map->items[2 * i], *v = map->items[2 * i + 1];
        size_t gs, rs;
        push_key(pb, k->str, k->len, &gs, &rs);
        const encounter_field *f = encounter_field_lookup(pb->gp, pb->gn);
        if (!f) {
            encounter_problem_add(r->probs, pb->rp, "unknown field");
        } else if (ydoc_is_null(v)) {
            /* written but empty: the same as left out */
        } else if (f->kind == K_GROUP) {
            if (v->kind != YDOC_MAP)
                encounter_problem_add(r->probs, pb->rp, "expected a mapping, found %s", ydoc_kind_name(v));
            else
                walk_map(r, v, pb, line);
        } else if (f->kind == K_LINES) {
            read_lines(r, v, pb);
        } else if (encounter_is_list(f)) {
            read_list(r, f, v, pb, line);
        } else if (v->kind != YDOC_SCALAR) {
            encounter_problem_add(r->probs, pb->rp, "expected a value, found %s", ydoc_kind_name(v));
        } else {
            encounter_set_scalar(r, f, line < 0 ? 0 : (unsigned)line, v->str, v->len, pb->rp);
        }
        pop_key(pb, gs, rs);
    }
}

/* Defaults and derived values, the same after reading and unpacking. */
void encounter_finish(encounter *e)
{
    if (e->frequency == ENC_FREQ_NONE)
        e->frequency = ENC_ORIGINAL;
    static const enc_person nobody;
    if (e->relationship == ENC_REL_NONE && !memcmp(&e->patient, &nobody, sizeof nobody))
        e->relationship = ENC_SELF; /* no patient given: the subscriber is the patient */
    e->total_charge = 0;
    for (unsigned i = 0; i < e->nlines; i++) {
        enc_line *l = &e->lines[i];
        if (l->units_milli < 0)
            l->units_milli = 1000;
        /* a professional line points at the principal diagnosis unless told */
        if (e->type == ENC_PROFESSIONAL && l->npointers == 0 && e->ndiagnoses > 0)
            l->pointers[l->npointers++] = 1;
        if (l->charge > 0)
            e->total_charge += l->charge;
    }
}

ch_code encounter_read(encounter *e, const ydoc_node *doc, encounter_problems *probs)
{
    encounter_zero(e);
    encounter_rd r = {e, probs, probs->n + probs->dropped};
    if (!doc || doc->kind != YDOC_MAP) {
        encounter_problem_add(probs, "", "expected an encounter (a mapping of fields), found %s",
                              doc ? ydoc_kind_name(doc) : "an empty document");
        return CH_ERR_INVALID;
    }
    pathbuf pb;
    pb.gn = pb.rn = 0;
    pb.gp[0] = pb.rp[0] = '\0';
    walk_map(&r, doc, &pb, -1);
    encounter_finish(e);
    return probs->n + probs->dropped > r.start ? CH_ERR_INVALID : CH_OK;
}
