/*
 * x12_guide.c - reading a guide table into the tree of x12_guide.h.
 *
 * One pass over the lines.  Loops, segments and elements are allocated in
 * the guide's arena as they are met (so pointers to them stay put); their
 * variable-length parts (a loop's children, a segment's elements, a
 * composite's components) are gathered in growable build vectors and
 * copied into the arena when the thing is closed: a composite when the next
 * el/seg/loop/end comes, a segment when the next seg/loop/end comes, a loop
 * at its `end`.  Rules are resolved when their loop is closed, because a
 * rule may name a segment written after it.
 */
#include "x12_guide.h"
#include "x12_guide_plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena --------------------------------------------------------------- */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
} arena_chunk;

typedef struct arena {
    arena_chunk *head;
} arena;

static void *arena_alloc(arena *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 60000 ? n : 60000;
        arena_chunk *c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = (char *)a->head->data + a->head->used;
    a->head->used += n;
    memset(p, 0, n);
    return p;
}

static void arena_free(arena *a)
{
    while (a && a->head) {
        arena_chunk *c = a->head;
        a->head = c->next;
        free(c);
    }
}

/* ---- growable vectors (build time only) ---------------------------------- */

typedef struct vec {
    void *p;
    size_t n, cap, size;
} vec;

static void *vec_push(vec *v)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        void *np = realloc(v->p, cap * v->size);
        if (!np)
            return NULL;
        v->p = np;
        v->cap = cap;
    }
    void *e = (char *)v->p + v->n++ * v->size;
    memset(e, 0, v->size);
    return e;
}

static void vec_free(vec *v)
{
    free(v->p);
    v->p = NULL;
    v->n = v->cap = 0;
}

#define VEC(type) ((vec){NULL, 0, 0, sizeof(type)})
#define VAT(v, type, i) (((type *)(v).p)[i])

/* ---- build state --------------------------------------------------------- */

#define MAX_TOKENS 64
#define MAX_DEPTH 32

typedef struct token {
    const char *p;
    size_t len;
} token;

/* A rule as written, resolved when its loop closes. */
typedef struct prule {
    int line;
    char *text;
    char cond_ref[16];
    int cond;
    char *codes;      /* raw list for EQ / NE */
    int need;
    int target;
    char target_arg[40];
} prule;

typedef struct bloop {
    x12_gloop *l;
    vec child;   /* x12_gnode */
    vec rules;   /* prule */
} bloop;

typedef struct parser {
    arena a;
    x12_guide *g;
    const char *name;
    int line;
    ch_error *err;
    ch_code rc;
    bloop stack[MAX_DEPTH];
    int depth;             /* stack[0] is root */
    x12_gseg *seg;         /* the segment el/comp/syntax lines go to */
    vec seg_el;            /* x12_gelem * of seg */
    vec seg_syntax;        /* x12_gsyntax */
    x12_gelem *comp_of;    /* the composite comp lines go to */
    vec comps;             /* x12_gelem * */
    vec tags;              /* uint32_t: every tag */
    int have_guide;
} parser;

static int fail(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(parser *ps, const char *fmt, ...)
{
    if (ps->rc != CH_OK)
        return -1;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ps->rc = CH_ERR_SYNTAX;
    if (ps->line > 0)
        ch_error_set(ps->err, CH_ERR_SYNTAX, "%s:%d: %s", ps->name, ps->line, msg);
    else
        ch_error_set(ps->err, CH_ERR_SYNTAX, "%s: %s", ps->name, msg);
    return -1;
}

static int nomem(parser *ps)
{
    if (ps->rc == CH_OK) {
        ps->rc = CH_ERR_NOMEM;
        ch_error_set(ps->err, CH_ERR_NOMEM, "%s: out of memory reading the guide table", ps->name);
    }
    return -1;
}

static char *adup(parser *ps, const char *p, size_t n)
{
    char *s = arena_alloc(&ps->a, n + 1);
    if (!s)
        return NULL;
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* ---- lexing -------------------------------------------------------------- */

/* Split a line into tokens; '#' outside quotes ends it.  A token runs to the
 * next space outside double quotes, so key=01-1:"A B" is one token. */
static int tokenize(parser *ps, const char *p, size_t n, token *t, int *nt)
{
    size_t i = 0;
    *nt = 0;
    for (;;) {
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
            i++;
        if (i >= n || p[i] == '#')
            return 0;
        size_t s = i;
        int q = 0;
        while (i < n) {
            char c = p[i];
            if (c == '"')
                q = !q;
            else if (!q && (c == ' ' || c == '\t' || c == '\r' || c == '#'))
                break;
            i++;
        }
        if (q)
            return fail(ps, "a double quote is not closed");
        if (*nt == MAX_TOKENS)
            return fail(ps, "more than %d words on one line", MAX_TOKENS);
        t[*nt].p = p + s;
        t[*nt].len = i - s;
        (*nt)++;
    }
}

static int tok_is(token t, const char *s) { return t.len == strlen(s) && !memcmp(t.p, s, t.len); }

/* A quoted name "..." -> its text. */
static int tok_name(parser *ps, token t, const char **out, const char *what)
{
    if (t.len < 2 || t.p[0] != '"' || t.p[t.len - 1] != '"' || memchr(t.p + 1, '"', t.len - 2))
        return fail(ps, "%s must be written in double quotes, found %.*s", what, (int)t.len, t.p);
    *out = adup(ps, t.p + 1, t.len - 2);
    return *out ? 0 : nomem(ps);
}

static int parse_uint(token t, unsigned *out, unsigned maxv)
{
    if (t.len == 0 || t.len > 6)
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < t.len; i++) {
        if (t.p[i] < '0' || t.p[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(t.p[i] - '0');
    }
    if (v > maxv)
        return -1;
    *out = v;
    return 0;
}

static int parse_usage(parser *ps, token t, char *out)
{
    if (t.len != 1 || (t.p[0] != 'R' && t.p[0] != 'S' && t.p[0] != 'N'))
        return fail(ps, "usage must be R, S or N, found '%.*s'", (int)t.len, t.p);
    *out = t.p[0];
    return 0;
}

/* <max>: a number >= 1, or >1 for unbounded (0). */
static int parse_max(parser *ps, token t, uint32_t *out)
{
    unsigned v;
    if (tok_is(t, ">1")) {
        *out = 0;
        return 0;
    }
    if (parse_uint(t, &v, 999999) || v == 0)
        return fail(ps, "maximum use must be a number from 1, or >1, found '%.*s'", (int)t.len, t.p);
    *out = v;
    return 0;
}

static int tag_ok(const char *p, size_t n)
{
    if (n < 2 || n > 3 || !(p[0] >= 'A' && p[0] <= 'Z'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9')))
            return 0;
    return 1;
}

/* "05" or "05-3": two-digit element position, optional component. */
static int parse_pos(const char *p, size_t n, uint8_t *el, uint8_t *comp)
{
    if (n < 2 || p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
        return -1;
    int e = (p[0] - '0') * 10 + (p[1] - '0');
    if (e == 0)
        return -1;
    *el = (uint8_t)e;
    *comp = 0;
    if (n == 2)
        return 0;
    if (p[2] != '-' || n < 4 || n > 5)
        return -1;
    int c = 0;
    for (size_t i = 3; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        c = c * 10 + (p[i] - '0');
    }
    if (c == 0)
        return -1;
    *comp = (uint8_t)c;
    return 0;
}

/* "CLM05-3" -> tag CLM, element 5, component 3. */
static int parse_ref(const char *p, size_t n, char tag[4], uint8_t *el, uint8_t *comp)
{
    size_t dash = n;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '-') {
            dash = i;
            break;
        }
    if (dash < 4 || dash > 5)
        return -1;
    size_t tl = dash - 2;
    if (!tag_ok(p, tl))
        return -1;
    memcpy(tag, p, tl);
    tag[tl] = '\0';
    return parse_pos(p + tl, n - tl, el, comp);
}

/* A comma list, double quotes grouping (and removed): A,"B C",D. */
static int parse_codes(parser *ps, const char *p, size_t n, x12_gcodes *out, const char *what)
{
    size_t count = 1;
    int q = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"')
            q = !q;
        else if (p[i] == ',' && !q)
            count++;
    }
    x12_gcode *v = arena_alloc(&ps->a, count * sizeof *v);
    if (!v)
        return nomem(ps);
    size_t k = 0, s = 0;
    q = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] == '"') {
            q = !q;
            continue;
        }
        if (i < n && (p[i] != ',' || q))
            continue;
        /* one item p[s..i), without its quotes */
        char buf[128];
        size_t bl = 0;
        for (size_t j = s; j < i; j++)
            if (p[j] != '"' && bl < sizeof buf - 1)
                buf[bl++] = p[j];
        if (bl == 0)
            return fail(ps, "%s has an empty code", what);
        if (i - s > sizeof buf - 1)
            return fail(ps, "%s has a code longer than %zu characters", what, sizeof buf - 1);
        for (size_t j = 0; j < k; j++)
            if (v[j].len == bl && !memcmp(v[j].s, buf, bl))
                return fail(ps, "%s lists code '%.*s' twice", what, (int)bl, buf);
        v[k].s = adup(ps, buf, bl);
        if (!v[k].s)
            return nomem(ps);
        v[k].len = (uint32_t)bl;
        k++;
        s = i + 1;
    }
    uint64_t *packed = arena_alloc(&ps->a, k * sizeof *packed);
    if (!packed)
        return nomem(ps);
    out->has_long = 0;
    for (size_t i = 0; i < k; i++) {
        if (v[i].len > 7) {
            out->has_long = 1;
            continue;
        }
        uint64_t key = (uint64_t)v[i].len << 56;
        for (uint32_t b = 0; b < v[i].len; b++)
            key |= (uint64_t)(unsigned char)v[i].s[b] << (8 * b);
        packed[i] = key;
    }
    out->packed = packed;
    out->v = v;
    out->n = (uint32_t)k;
    return 0;
}

/* ---- closing things ------------------------------------------------------ */

static uint64_t pack_code(const x12_gcode *c)
{
    if (c->len > 7)
        return 0;
    uint64_t key = (uint64_t)c->len << 56;
    for (uint32_t b = 0; b < c->len; b++)
        key |= (uint64_t)(unsigned char)c->s[b] << (8 * b);
    return key;
}

/* The hot summary of element e (NULL: unlisted). */
static void fast_of(x12_gfast *f, const x12_gelem *e)
{
    memset(f, 0, sizeof *f);
    f->e = e;
    if (!e || e->usage == 'N')
        return;
    f->check = e->check;
    f->min = e->min;
    f->max = e->max;
    f->ncodes = (uint16_t)(e->codes.n > 65535 ? 65535 : e->codes.n);
    for (uint32_t i = 0; i < 2 && i < e->codes.n; i++)
        f->code[i] = pack_code(&e->codes.v[i]);
    f->plain = 1;
    for (uint32_t i = 0; i < e->codes.n && f->plain; i++)
        for (uint32_t b = 0; b < e->codes.v[i].len; b++) {
            char ch = e->codes.v[i].s[b];
            if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  ch == ' ')) {
                f->plain = 0;
                break;
            }
        }
    switch ((x12_gtype)e->type) {
    case X12_GT_AN:
    case X12_GT_ID:
        f->kind = e->codes.n ? X12_FK_CODE : X12_FK_TEXT;
        break;
    case X12_GT_N:
    case X12_GT_R:
        /* coded numbers (diagnosis pointers) compare as text, after a digit check */
        f->kind = e->codes.n ? X12_FK_CODE : X12_FK_NUM;
        if (e->codes.n && e->type == X12_GT_R)
            f->kind = X12_FK_SLOW;
        break;
    case X12_GT_DT:
        f->kind = X12_FK_DATE;
        break;
    case X12_GT_C:
        f->kind = X12_FK_COMP;
        break;
    case X12_GT_TM:
    case X12_GT_B:
        f->kind = X12_FK_SLOW;
        break;
    }
}

static int close_comps(parser *ps)
{
    x12_gelem *c = ps->comp_of;
    if (!c)
        return 0;
    ps->comp_of = NULL;
    if (ps->comps.n == 0) {
        vec_free(&ps->comps);
        int l = ps->line;
        ps->line = c->line;
        fail(ps, "composite el %02u has no comp lines", c->pos);
        ps->line = l;
        return -1;
    }
    unsigned maxc = 0, nreq = 0;
    for (size_t i = 0; i < ps->comps.n; i++) {
        x12_gelem *k = VAT(ps->comps, x12_gelem *, i);
        if (k->pos > maxc)
            maxc = k->pos;
        nreq += k->usage == 'R';
    }
    const x12_gelem **arr = arena_alloc(&ps->a, (maxc + 1) * sizeof *arr);
    uint8_t *req = arena_alloc(&ps->a, nreq + 1);
    if (!arr || !req)
        return nomem(ps);
    nreq = 0;
    for (size_t i = 0; i < ps->comps.n; i++) {
        x12_gelem *k = VAT(ps->comps, x12_gelem *, i);
        arr[k->pos] = k;
    }
    for (unsigned i = 1; i <= maxc; i++)
        if (arr[i] && arr[i]->usage == 'R')
            req[nreq++] = (uint8_t)i;
    x12_gfast *cf = arena_alloc(&ps->a, (maxc + 1) * sizeof *cf);
    if (!cf)
        return nomem(ps);
    for (unsigned i = 0; i <= maxc; i++)
        fast_of(&cf[i], i ? arr[i] : NULL);
    c->cfast = cf;
    x12_gplan_build(&c->cplan, cf, (const x12_gelem *const *)arr, maxc);
    c->comp = (const x12_gelem *const *)arr;
    c->ncomp = (uint8_t)maxc;
    c->req = req;
    c->nreq = (uint8_t)nreq;
    ps->comps.n = 0;
    return 0;
}

static int close_seg(parser *ps)
{
    if (close_comps(ps))
        return -1;
    x12_gseg *s = ps->seg;
    if (!s)
        return 0;
    ps->seg = NULL;
    unsigned maxe = 0, nreq = 0, maxpos = 0;
    for (size_t i = 0; i < ps->seg_el.n; i++) {
        x12_gelem *e = VAT(ps->seg_el, x12_gelem *, i);
        if (e->pos > maxe)
            maxe = e->pos;
    }
    maxpos = maxe;
    const x12_gelem **arr = arena_alloc(&ps->a, (maxe + 1) * sizeof *arr);
    uint8_t *req = arena_alloc(&ps->a, maxe + 1);
    x12_gsyntax *syn = arena_alloc(&ps->a, (ps->seg_syntax.n + 1) * sizeof *syn);
    if (!arr || !req || !syn)
        return nomem(ps);
    for (size_t i = 0; i < ps->seg_el.n; i++) {
        x12_gelem *e = VAT(ps->seg_el, x12_gelem *, i);
        arr[e->pos] = e;
    }
    for (unsigned i = 1; i <= maxe; i++)
        if (arr[i] && arr[i]->usage == 'R')
            req[nreq++] = (uint8_t)i;
    for (size_t i = 0; i < ps->seg_syntax.n; i++) {
        syn[i] = VAT(ps->seg_syntax, x12_gsyntax, i);
        syn[i].simple = 1;
        for (unsigned k = 0; k < syn[i].n; k++) {
            if (syn[i].pos[k] > maxpos)
                maxpos = syn[i].pos[k];
            if (syn[i].comp[k] || syn[i].pos[k] >= 64)
                syn[i].simple = 0;
            else
                syn[i].mask |= (uint64_t)1 << syn[i].pos[k];
        }
        syn[i].first = syn[i].simple ? (uint64_t)1 << syn[i].pos[0] : 0;
    }
    s->syntax_idle_ok = 1;
    for (size_t i = 0; i < ps->seg_syntax.n; i++) {
        if (!syn[i].simple || syn[i].kind == 'R')
            s->syntax_idle_ok = 0;
        s->syntax_union |= syn[i].mask;
    }
    x12_gfast *fast = arena_alloc(&ps->a, (maxe + 1) * sizeof *fast);
    if (!fast)
        return nomem(ps);
    for (unsigned i = 0; i <= maxe; i++)
        fast_of(&fast[i], i ? arr[i] : NULL);
    s->fast = fast;
    x12_gplan_build(&s->plan, fast, (const x12_gelem *const *)arr, maxe);
    /* the header's ST is checked against the registry's variants: full checks */
    s->fast_ok = s->plan.ok && (s->loop->id || s->tag32 != x12_tag32("ST", 2));
    x12_gseg_lengths(s, fast, maxe);
    s->reqmask_ok = 1;
    for (unsigned i = 0; i < nreq; i++) {
        if (req[i] >= 64)
            s->reqmask_ok = 0;
        else
            s->reqmask |= (uint64_t)1 << req[i];
    }
    /* the key element must be one the table describes */
    if (s->key_el) {
        const x12_gelem *ke = s->key_el <= maxe ? arr[s->key_el] : NULL;
        if (ke && s->key_comp) {
            ke = ke->type == X12_GT_C && s->key_comp <= ke->ncomp ? ke->comp[s->key_comp] : NULL;
        }
        if (!ke || ke->usage == 'N') {
            int l = ps->line;
            ps->line = s->line;
            if (s->key_comp)
                fail(ps, "seg %s: key element %02u-%u is not listed as a used el/comp", s->tag,
                     s->key_el, s->key_comp);
            else
                fail(ps, "seg %s: key element %02u is not listed as a used el", s->tag, s->key_el);
            ps->line = l;
            return -1;
        }
    }
    s->el = (const x12_gelem *const *)arr;
    s->nel = (uint8_t)maxe;
    s->req = req;
    s->nreq = (uint8_t)nreq;
    s->syntax = syn;
    s->nsyntax = (uint8_t)ps->seg_syntax.n;
    s->maxpos = (uint8_t)maxpos;
    ps->seg_el.n = 0;
    ps->seg_syntax.n = 0;
    return 0;
}

static int codes_overlap(const x12_gcodes *a, const x12_gcodes *b)
{
    for (uint32_t i = 0; i < a->n; i++)
        if (x12_gcodes_has(b, a->v[i].s, a->v[i].len))
            return 1;
    return 0;
}

/* The entry that identifies a node: its segment, or a loop's trigger. */
static const x12_gseg *node_seg(const x12_gnode *n) { return n->seg ? n->seg : n->loop->trigger; }

/* Same-tag entries at one level must be told apart by their keys. */
static int check_keys(parser *ps, const bloop *b)
{
    size_t n = b->child.n;
    for (size_t i = 0; i < n; i++) {
        const x12_gseg *a = node_seg(&VAT(b->child, x12_gnode, i));
        for (size_t j = i + 1; j < n; j++) {
            const x12_gseg *c = node_seg(&VAT(b->child, x12_gnode, j));
            if (a->tag32 != c->tag32)
                continue;
            int l = ps->line;
            ps->line = c->line;
            if (!a->key_el || !c->key_el) {
                fail(ps, "seg %s: another %s at the same level (line %d) needs a different key=; "
                     "both need one",
                     c->tag, a->tag, a->line);
                ps->line = l;
                return -1;
            }
            if (a->key_el == c->key_el && a->key_comp == c->key_comp && codes_overlap(&a->key, &c->key)) {
                fail(ps, "seg %s: its key= codes overlap those of the %s at line %d at the same level",
                     c->tag, a->tag, a->line);
                ps->line = l;
                return -1;
            }
            ps->line = l;
        }
    }
    return 0;
}

/* Build the loop's tag index: open addressing on tag32, lists ascending. */
static int build_tagix(parser *ps, x12_gloop *l, const x12_gnode *child, size_t n)
{
    unsigned buckets = 4;
    while (buckets < n * 2)
        buckets *= 2;
    x12_gtagix *ix = arena_alloc(&ps->a, buckets * sizeof *ix);
    uint16_t *list = arena_alloc(&ps->a, (n + 1) * sizeof *list);
    if (!ix || !list)
        return nomem(ps);
    uint32_t mask = buckets - 1;
    /* count per tag first so each tag's list is contiguous */
    uint16_t used = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t t = node_seg(&child[i])->tag32;
        uint32_t h = (t * 2654435761u) & mask;
        while (ix[h].tag32 && ix[h].tag32 != t)
            h = (h + 1) & mask;
        if (!ix[h].tag32) {
            ix[h].tag32 = t;
            /* reserve: count all children with this tag */
            uint16_t cnt = 0;
            for (size_t j = i; j < n; j++)
                cnt += node_seg(&child[j])->tag32 == t;
            ix[h].first = used;
            used += cnt;
        }
        list[ix[h].first + ix[h].n++] = (uint16_t)i;
    }
    x12_gcand *cand = arena_alloc(&ps->a, (n + 1) * sizeof *cand);
    if (!cand)
        return nomem(ps);
    for (size_t j = 0; j < n; j++) {
        const x12_gseg *e = node_seg(&child[list[j]]);
        cand[j] = (x12_gcand){list[j], e->key_el, e->key_comp, e->key};
    }
    l->tagix = ix;
    l->tagix_list = list;
    l->tagix_cand = cand;
    l->tagix_mask = mask;
    return 0;
}

/* Resolve the loop's rules into slots and x12_grule. */
static int add_slot(parser *ps, x12_gslot *slots, unsigned *nslot, x12_gslot s, uint8_t *out)
{
    for (unsigned i = 0; i < *nslot; i++) {
        const x12_gslot *o = &slots[i];
        if (o->kind == s.kind && o->tag32 == s.tag32 && o->el == s.el && o->comp == s.comp &&
            o->code.len == s.code.len && (!s.code.len || !memcmp(o->code.s, s.code.s, s.code.len))) {
            *out = (uint8_t)i;
            return 0;
        }
    }
    if (*nslot >= 255)
        return fail(ps, "too many rule values in one loop");
    slots[*nslot] = s;
    *out = (uint8_t)(*nslot)++;
    return 0;
}

static const x12_gseg *direct_seg(const bloop *b, const char *tag)
{
    for (size_t i = 0; i < b->child.n; i++) {
        const x12_gnode *nd = &VAT(b->child, x12_gnode, i);
        if (nd->seg && !strcmp(nd->seg->tag, tag))
            return nd->seg;
    }
    return NULL;
}

static int resolve_rules(parser *ps, bloop *b)
{
    x12_gloop *l = b->l;
    size_t nr = b->rules.n;
    if (nr == 0)
        return 0;
    x12_grule *rules = arena_alloc(&ps->a, nr * sizeof *rules);
    x12_gslot *slots = arena_alloc(&ps->a, nr * 2 * sizeof *slots);
    if (!rules || !slots)
        return nomem(ps);
    unsigned nslot = 0;
    const char *lname = l->id ? l->id : "(transaction set header)";
    for (size_t i = 0; i < nr; i++) {
        prule *p = &VAT(b->rules, prule, i);
        x12_grule *r = &rules[i];
        ps->line = p->line;
        r->line = p->line;
        r->text = adup(ps, p->text, strlen(p->text));
        if (!r->text)
            return nomem(ps);
        r->cond = (uint8_t)p->cond;
        r->need = p->need;
        r->target = (uint8_t)p->target;
        snprintf(r->cond_ref, sizeof r->cond_ref, "%s", p->cond_ref);
        /* condition */
        x12_gslot s = {.kind = X12_SLOT_VALUE};
        if (parse_ref(p->cond_ref, strlen(p->cond_ref), s.tag, &s.el, &s.comp))
            return fail(ps, "rule condition '%s' is not an element reference like CLM05-3", p->cond_ref);
        if (!direct_seg(b, s.tag))
            return fail(ps, "rule condition names %s, which is not a segment directly in loop %s",
                        s.tag, lname);
        s.tag32 = x12_tag32(s.tag, strlen(s.tag));
        if (add_slot(ps, slots, &nslot, s, &r->cond_slot))
            return -1;
        if (p->codes && parse_codes(ps, p->codes, strlen(p->codes), &r->codes, "rule condition"))
            return -1;
        /* target */
        const char *arg = p->target_arg;
        if (p->target == X12_TARGET_LOOP) {
            snprintf(r->target_ref, sizeof r->target_ref, "%s", arg);
            for (size_t k = 0; k < b->child.n; k++) {
                const x12_gnode *nd = &VAT(b->child, x12_gnode, k);
                if (nd->loop && !strcmp(nd->loop->id, arg)) {
                    r->target_loop = nd->loop;
                    r->target_index = (uint16_t)k;
                    break;
                }
            }
            if (!r->target_loop)
                return fail(ps, "rule target loop %s is not a child loop of %s", arg, lname);
        } else if (p->target == X12_TARGET_SEG) {
            snprintf(r->target_ref, sizeof r->target_ref, "%s", arg);
            const char *colon = strchr(arg, ':');
            size_t tl = colon ? (size_t)(colon - arg) : strlen(arg);
            char tag[4] = "";
            if (!tag_ok(arg, tl))
                return fail(ps, "rule target seg '%s' is not TAG or TAG:CODE", arg);
            memcpy(tag, arg, tl);
            r->target_seg = direct_seg(b, tag);
            if (!r->target_seg)
                return fail(ps, "rule target seg %s is not a segment directly in loop %s", tag, lname);
            if (colon) {
                x12_gslot k = {.kind = X12_SLOT_KEYED};
                memcpy(k.tag, tag, sizeof k.tag);
                k.tag32 = x12_tag32(tag, tl);
                if (!colon[1])
                    return fail(ps, "rule target seg '%s' has an empty code", arg);
                k.code.s = adup(ps, colon + 1, strlen(colon + 1));
                if (!k.code.s)
                    return nomem(ps);
                k.code.len = (uint32_t)strlen(colon + 1);
                int keyed = 0;
                for (size_t q = 0; q < b->child.n; q++) {
                    const x12_gnode *nd = &VAT(b->child, x12_gnode, q);
                    if (nd->seg && nd->seg->tag32 == k.tag32 && nd->seg->key_el)
                        keyed = 1;
                }
                if (!keyed)
                    return fail(ps, "rule target seg %s names a code, but no %s in loop %s has a key=",
                                arg, tag, lname);
                if (add_slot(ps, slots, &nslot, k, &r->target_slot))
                    return -1;
            } else {
                /* the first occurrence of the tag (element 0: the segment) */
                x12_gslot k = {.kind = X12_SLOT_VALUE};
                memcpy(k.tag, tag, sizeof k.tag);
                k.tag32 = x12_tag32(tag, tl);
                if (add_slot(ps, slots, &nslot, k, &r->target_slot))
                    return -1;
            }
        } else {
            x12_gslot e = {.kind = X12_SLOT_VALUE};
            snprintf(r->target_ref, sizeof r->target_ref, "%s", arg);
            if (parse_ref(arg, strlen(arg), e.tag, &e.el, &e.comp))
                return fail(ps, "rule target el '%s' is not an element reference like BPR05", arg);
            if (!direct_seg(b, e.tag))
                return fail(ps, "rule target el names %s, which is not a segment directly in loop %s",
                            e.tag, lname);
            e.tag32 = x12_tag32(e.tag, strlen(e.tag));
            if (add_slot(ps, slots, &nslot, e, &r->target_slot))
                return -1;
        }
    }
    l->rule = rules;
    l->nrule = (uint16_t)nr;
    l->slot = slots;
    l->nslot = (uint8_t)nslot;
    if (nslot > ps->g->max_slot)
        ps->g->max_slot = (uint8_t)nslot;
    /* each segment entry learns which slots it feeds */
    for (size_t k = 0; k < b->child.n; k++) {
        x12_gnode *nd = &VAT(b->child, x12_gnode, k);
        if (!nd->seg)
            continue;
        x12_gseg *sg = (x12_gseg *)nd->seg;
        unsigned nw = 0;
        uint8_t w[255];
        for (unsigned q = 0; q < nslot; q++)
            if (slots[q].tag32 == sg->tag32)
                w[nw++] = (uint8_t)q;
        if (nw) {
            uint8_t *wa = arena_alloc(&ps->a, nw);
            if (!wa)
                return nomem(ps);
            memcpy(wa, w, nw);
            sg->watch = wa;
            sg->nwatch = (uint8_t)nw;
        }
    }
    return 0;
}

/* Freeze a loop's children and rules into the arena. */
static int close_loop(parser *ps, bloop *b)
{
    if (close_seg(ps))
        return -1;
    x12_gloop *l = b->l;
    int line = ps->line;
    if (l->id && (b->child.n == 0 || !VAT(b->child, x12_gnode, 0).seg)) {
        ps->line = l->line;
        return fail(ps, "loop %s must begin with a seg line (its trigger segment)", l->id);
    }
    if (check_keys(ps, b))
        return -1;
    size_t n = b->child.n;
    x12_gnode *child = arena_alloc(&ps->a, (n + 1) * sizeof *child);
    if (!child)
        return nomem(ps);
    if (n)
        memcpy(child, b->child.p, n * sizeof *child);
    for (size_t i = 0; i < n; i++)
        if (child[i].seg)
            ((x12_gseg *)child[i].seg)->index = (uint16_t)i;
    l->child = child;
    l->nchild = (uint16_t)n;
    if (l->id) {
        l->trigger = child[0].seg;
        l->is_hl = !strcmp(l->trigger->tag, "HL");
    }
    if (n > ps->g->max_child)
        ps->g->max_child = (uint16_t)n;
    if (build_tagix(ps, l, child, n))
        return -1;
    uint16_t *group = arena_alloc(&ps->a, (n + 1) * sizeof *group);
    if (!group)
        return nomem(ps);
    for (size_t i = 0; i < n; i++)
        group[i] = i && node_seg(&child[i])->tag32 == node_seg(&child[i - 1])->tag32
                       ? group[i - 1] : (uint16_t)i;
    l->group = group;
    uint16_t *req = arena_alloc(&ps->a, (n + 1) * sizeof *req);
    if (!req)
        return nomem(ps);
    uint16_t nreq = 0;
    for (size_t i = 0; i < n; i++)
        if ((child[i].seg ? child[i].seg->usage : child[i].loop->usage) == 'R')
            req[nreq++] = (uint16_t)i;
    l->req = req;
    l->nreq = nreq;
    /* how many required loops / segments come before each child */
    uint16_t *rl = arena_alloc(&ps->a, (n + 1) * sizeof *rl), *rs = arena_alloc(&ps->a, (n + 1) * sizeof *rs);
    if (!rl || !rs)
        return nomem(ps);
    for (size_t i = 0; i < n; i++) {
        int r = (child[i].seg ? child[i].seg->usage : child[i].loop->usage) == 'R';
        rl[i + 1] = (uint16_t)(rl[i] + (r && child[i].loop));
        rs[i + 1] = (uint16_t)(rs[i] + (r && child[i].seg));
    }
    l->req_loops_before = rl;
    l->req_segs_before = rs;
    if (resolve_rules(ps, b))
        return -1;
    ps->line = line;
    for (size_t i = 0; i < b->rules.n; i++)
        free(VAT(b->rules, prule, i).text), free(VAT(b->rules, prule, i).codes);
    vec_free(&b->rules);
    vec_free(&b->child);
    return 0;
}

/* ---- statements ---------------------------------------------------------- */

static int st_guide(parser *ps, token *t, int nt)
{
    if (ps->have_guide)
        return fail(ps, "a second guide line");
    if (nt != 4)
        return fail(ps, "guide line must be: guide <ST01> <version> \"<title>\"");
    if (t[1].len != 3 || !(t[1].p[0] >= '0' && t[1].p[0] <= '9'))
        return fail(ps, "ST01 on the guide line must be 3 digits, found '%.*s'", (int)t[1].len, t[1].p);
    if (t[2].len < 6 || t[2].len >= sizeof ps->g->version)
        return fail(ps, "version on the guide line looks wrong: '%.*s'", (int)t[2].len, t[2].p);
    memcpy(ps->g->st01, t[1].p, 3);
    memcpy(ps->g->version, t[2].p, t[2].len);
    ps->have_guide = 1;
    return tok_name(ps, t[3], &ps->g->title, "the guide title");
}

static int add_child(parser *ps, x12_gnode nd)
{
    bloop *b = &ps->stack[ps->depth];
    x12_gnode *c = vec_push(&b->child);
    if (!c)
        return nomem(ps);
    *c = nd;
    if (b->child.n > 65000)
        return fail(ps, "too many entries in one loop");
    return 0;
}

static int st_loop(parser *ps, token *t, int nt)
{
    if (close_seg(ps))
        return -1;
    if (nt != 5)
        return fail(ps, "loop line must be: loop <id> <usage> <max> \"<name>\"");
    if (ps->depth + 1 >= MAX_DEPTH)
        return fail(ps, "loops nested deeper than %d", MAX_DEPTH - 1);
    x12_gloop *l = arena_alloc(&ps->a, sizeof *l);
    if (!l)
        return nomem(ps);
    if (t[1].len == 0 || t[1].len > 8 || t[1].p[0] == '"')
        return fail(ps, "loop id '%.*s' looks wrong", (int)t[1].len, t[1].p);
    l->id = adup(ps, t[1].p, t[1].len);
    if (!l->id)
        return nomem(ps);
    if (parse_usage(ps, t[2], &l->usage) || parse_max(ps, t[3], &l->max) ||
        tok_name(ps, t[4], &l->name, "the loop name"))
        return -1;
    l->line = ps->line;
    l->parent = ps->stack[ps->depth].l;
    l->depth = (uint16_t)(ps->depth + 1);
    if (l->depth > ps->g->max_depth)
        ps->g->max_depth = l->depth;
    if (add_child(ps, (x12_gnode){NULL, l}))
        return -1;
    ps->depth++;
    bloop *b = &ps->stack[ps->depth];
    b->l = l;
    b->child = VEC(x12_gnode);
    b->rules = VEC(prule);
    ps->g->nloops++;
    return 0;
}

static int st_end(parser *ps, int nt)
{
    if (nt != 1)
        return fail(ps, "end takes nothing after it");
    if (ps->depth == 0)
        return fail(ps, "end without an open loop");
    if (close_loop(ps, &ps->stack[ps->depth]))
        return -1;
    ps->depth--;
    return 0;
}

/* Split "name=value"; 0 when t is not an option. */
static int option(token t, const char *name, const char **val, size_t *vlen)
{
    size_t n = strlen(name);
    if (t.len <= n || memcmp(t.p, name, n) || t.p[n] != '=')
        return 0;
    *val = t.p + n + 1;
    *vlen = t.len - n - 1;
    return 1;
}

static int st_seg(parser *ps, token *t, int nt)
{
    if (close_seg(ps))
        return -1;
    if (nt < 5)
        return fail(ps, "seg line must be: seg <TAG> <usage> <max> \"<name>\" [key=<pos>:<codes>]");
    if (!tag_ok(t[1].p, t[1].len))
        return fail(ps, "'%.*s' is not a segment tag (2-3 capitals or digits, starting with a letter)",
                    (int)t[1].len, t[1].p);
    x12_gseg *s = arena_alloc(&ps->a, sizeof *s);
    if (!s)
        return nomem(ps);
    memcpy(s->tag, t[1].p, t[1].len);
    s->tag32 = x12_tag32(t[1].p, t[1].len);
    s->line = ps->line;
    if (parse_usage(ps, t[2], &s->usage) || parse_max(ps, t[3], &s->max) ||
        tok_name(ps, t[4], &s->name, "the segment name"))
        return -1;
    for (int i = 5; i < nt; i++) {
        const char *v;
        size_t vl;
        if (!option(t[i], "key", &v, &vl))
            return fail(ps, "unknown word '%.*s' on a seg line", (int)t[i].len, t[i].p);
        if (s->key_el)
            return fail(ps, "seg %s has two key= options", s->tag);
        const char *colon = memchr(v, ':', vl);
        if (!colon || parse_pos(v, (size_t)(colon - v), &s->key_el, &s->key_comp))
            return fail(ps, "key= must be <pos>:<code>[,<code>...], e.g. key=01:85 or key=01-1:ABK,BK");
        if (parse_codes(ps, colon + 1, vl - (size_t)(colon - v) - 1, &s->key, "key="))
            return -1;
    }
    bloop *b = &ps->stack[ps->depth];
    s->loop = b->l;
    if (add_child(ps, (x12_gnode){s, NULL}))
        return -1;
    uint32_t *tg = vec_push(&ps->tags);
    if (!tg)
        return nomem(ps);
    *tg = s->tag32;
    ps->seg = s;
    ps->g->nsegs++;
    return 0;
}

static const char *const check_names[X12_CHECK__COUNT] = {
    "", "npi", "icd10cm", "hi", "proc", "date", "dtp", "state", "zip", "taxonomy", "ein"};

/* Options of el/comp lines: codes=, reps=, check=. */
static int elem_options(parser *ps, x12_gelem *e, token *t, int from, int nt, int is_comp)
{
    for (int i = from; i < nt; i++) {
        const char *v;
        size_t vl;
        if (option(t[i], "codes", &v, &vl)) {
            if (e->type == X12_GT_C)
                return fail(ps, "a composite el takes no codes= (put them on its comp lines)");
            if (e->codes.n)
                return fail(ps, "two codes= options");
            if (parse_codes(ps, v, vl, &e->codes, "codes="))
                return -1;
        } else if (option(t[i], "reps", &v, &vl)) {
            unsigned r;
            if (is_comp)
                return fail(ps, "a comp takes no reps=");
            if (vl == 2 && v[0] == '>' && v[1] == '1')
                e->reps = 0;
            else if (parse_uint((token){v, vl}, &r, 65535) || r == 0)
                return fail(ps, "reps= must be a number from 1 (or >1), found '%.*s'", (int)vl, v);
            else
                e->reps = (uint16_t)r;
        } else if (option(t[i], "check", &v, &vl)) {
            int found = 0;
            for (int c = 1; c < X12_CHECK__COUNT; c++)
                if (strlen(check_names[c]) == vl && !memcmp(check_names[c], v, vl)) {
                    e->check = (uint8_t)c;
                    found = 1;
                }
            if (!found)
                return fail(ps, "unknown check '%.*s' (known: npi, icd10cm, hi, proc, date, dtp, state, "
                            "zip, taxonomy, ein)", (int)vl, v);
        } else {
            return fail(ps, "unknown word '%.*s' on an %s line", (int)t[i].len, t[i].p,
                        is_comp ? "comp" : "el");
        }
    }
    return 0;
}

static int parse_type(parser *ps, token t, x12_gelem *e)
{
    static const struct { const char *n; x12_gtype t; } types[] = {
        {"AN", X12_GT_AN}, {"ID", X12_GT_ID}, {"DT", X12_GT_DT}, {"TM", X12_GT_TM},
        {"R", X12_GT_R},   {"B", X12_GT_B},   {"N", X12_GT_N}};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (tok_is(t, types[i].n)) {
            e->type = (uint8_t)types[i].t;
            return 0;
        }
    if (t.len == 2 && t.p[0] == 'N' && t.p[1] >= '0' && t.p[1] <= '9') {
        e->type = X12_GT_N;
        e->decimals = (uint8_t)(t.p[1] - '0');
        return 0;
    }
    return fail(ps, "unknown data type '%.*s' (AN, ID, DT, TM, N0..N9, R, B or C)", (int)t.len, t.p);
}

/* el <pos> <usage> <type> <min> <max> "<name>" [...] | el <pos> <usage> C "<name>" [...] ;
 * comp <sub> <usage> <type> <min> <max> "<name>" [...] */
static int st_elem(parser *ps, token *t, int nt, int is_comp)
{
    const char *what = is_comp ? "comp" : "el";
    if (is_comp) {
        if (!ps->comp_of)
            return fail(ps, "comp line without a composite (el ... C) before it");
    } else {
        if (close_comps(ps))
            return -1;
        if (!ps->seg)
            return fail(ps, "el line without a seg before it in the same loop");
    }
    if (nt < 4)
        return fail(ps, "%s line is too short", what);
    x12_gelem *e = arena_alloc(&ps->a, sizeof *e);
    if (!e)
        return nomem(ps);
    e->line = ps->line;
    e->reps = 1;
    unsigned pos;
    if (is_comp) {
        if (parse_uint(t[1], &pos, 99) || pos == 0)
            return fail(ps, "comp position must be a number 1..99, found '%.*s'", (int)t[1].len, t[1].p);
    } else {
        if (t[1].len != 2 || parse_uint(t[1], &pos, 99) || pos == 0)
            return fail(ps, "el position must be two digits 01..99, found '%.*s'", (int)t[1].len, t[1].p);
    }
    e->pos = (uint8_t)pos;
    if (parse_usage(ps, t[2], &e->usage))
        return -1;
    int opt;
    if (!is_comp && tok_is(t[3], "C")) {
        e->type = X12_GT_C;
        if (tok_name(ps, t[4], &e->name, "the element name"))
            return -1;
        opt = 5;
    } else {
        if (nt < 7)
            return fail(ps, "%s line must be: %s <pos> <usage> <type> <min> <max> \"<name>\"", what, what);
        if (parse_type(ps, t[3], e))
            return -1;
        unsigned mn, mx;
        if (parse_uint(t[4], &mn, 9999) || parse_uint(t[5], &mx, 9999) || mx == 0 || mn > mx)
            return fail(ps, "%s %02u: min and max must be numbers with 0 < max and min <= max, "
                        "found '%.*s' '%.*s'", what, pos, (int)t[4].len, t[4].p, (int)t[5].len, t[5].p);
        e->min = (uint16_t)mn;
        e->max = (uint16_t)mx;
        if (tok_name(ps, t[6], &e->name, "the element name"))
            return -1;
        opt = 7;
    }
    if (elem_options(ps, e, t, opt, nt, is_comp))
        return -1;
    vec *v = is_comp ? &ps->comps : &ps->seg_el;
    for (size_t i = 0; i < v->n; i++)
        if (VAT(*v, x12_gelem *, i)->pos == e->pos)
            return fail(ps, "%s %02u of %s is listed twice (first at line %d)", what, e->pos,
                        ps->seg->tag, VAT(*v, x12_gelem *, i)->line);
    x12_gelem **slot = vec_push(v);
    if (!slot)
        return nomem(ps);
    *slot = e;
    if (e->type == X12_GT_C)
        ps->comp_of = e;
    return 0;
}

static int st_syntax(parser *ps, token *t, int nt)
{
    if (close_comps(ps))
        return -1;
    if (!ps->seg)
        return fail(ps, "syntax line without a seg before it in the same loop");
    if (nt < 4 || nt > 2 + 8)
        return fail(ps, "syntax line must be: syntax <P|R|C|E|L> <pos> <pos> [<pos>...] (2 to 8 positions)");
    if (t[1].len != 1 || !strchr("PRCEL", t[1].p[0]))
        return fail(ps, "syntax kind must be P, R, C, E or L, found '%.*s'", (int)t[1].len, t[1].p);
    x12_gsyntax *s = vec_push(&ps->seg_syntax);
    if (!s)
        return nomem(ps);
    if (ps->seg_syntax.n > 255)
        return fail(ps, "too many syntax notes on one segment");
    s->kind = t[1].p[0];
    for (int i = 2; i < nt; i++) {
        if (parse_pos(t[i].p, t[i].len, &s->pos[s->n], &s->comp[s->n]))
            return fail(ps, "syntax position must be two digits (05) or 05-3, found '%.*s'",
                        (int)t[i].len, t[i].p);
        s->n++;
    }
    return 0;
}

static int st_rule(parser *ps, token *t, int nt)
{
    if (close_seg(ps))
        return -1;
    /* rule "<text>" if <ref> <op> [codes] then need|forbid <kind> <arg> */
    if (nt < 8)
        return fail(ps, "rule line must be: rule \"<text>\" if <condition> then <need|forbid> <target>");
    const char *text;
    if (tok_name(ps, t[1], &text, "the rule text"))
        return -1;
    if (!tok_is(t[2], "if"))
        return fail(ps, "rule: expected 'if' after the text");
    prule p = {.line = ps->line};
    if (t[3].len >= sizeof p.cond_ref)
        return fail(ps, "rule condition '%.*s' is not an element reference", (int)t[3].len, t[3].p);
    memcpy(p.cond_ref, t[3].p, t[3].len);
    int i;
    if (tok_is(t[4], "=") || tok_is(t[4], "!=")) {
        p.cond = tok_is(t[4], "=") ? X12_COND_EQ : X12_COND_NE;
        p.codes = strndup(t[5].p, t[5].len);
        if (!p.codes)
            return nomem(ps);
        i = 6;
    } else if (tok_is(t[4], "present") || tok_is(t[4], "absent")) {
        p.cond = tok_is(t[4], "present") ? X12_COND_PRESENT : X12_COND_ABSENT;
        i = 5;
    } else {
        return fail(ps, "rule condition must be <ref> = <codes>, <ref> != <codes>, <ref> present or "
                    "<ref> absent; found '%.*s'", (int)t[4].len, t[4].p);
    }
    if (nt != i + 4 || !tok_is(t[i], "then")) {
        free(p.codes);
        return fail(ps, "rule: expected 'then need|forbid seg|loop|el <target>' after the condition");
    }
    if (tok_is(t[i + 1], "need"))
        p.need = 1;
    else if (!tok_is(t[i + 1], "forbid")) {
        free(p.codes);
        return fail(ps, "rule: expected need or forbid, found '%.*s'", (int)t[i + 1].len, t[i + 1].p);
    }
    if (tok_is(t[i + 2], "seg"))
        p.target = X12_TARGET_SEG;
    else if (tok_is(t[i + 2], "loop"))
        p.target = X12_TARGET_LOOP;
    else if (tok_is(t[i + 2], "el"))
        p.target = X12_TARGET_EL;
    else {
        free(p.codes);
        return fail(ps, "rule target must be seg, loop or el, found '%.*s'", (int)t[i + 2].len, t[i + 2].p);
    }
    if (t[i + 3].len >= sizeof p.target_arg) {
        free(p.codes);
        return fail(ps, "rule target '%.*s' is too long", (int)t[i + 3].len, t[i + 3].p);
    }
    memcpy(p.target_arg, t[i + 3].p, t[i + 3].len);
    p.text = strdup(text);
    prule *slot = p.text ? vec_push(&ps->stack[ps->depth].rules) : NULL;
    if (!slot) {
        free(p.codes);
        free(p.text);
        return nomem(ps);
    }
    *slot = p;
    return 0;
}

static int st_balance(parser *ps, token *t, int nt)
{
    if (ps->depth != 0)
        return fail(ps, "balance belongs at top level, not inside a loop");
    if (nt != 2)
        return fail(ps, "balance line must be: balance <837|835>");
    if (ps->g->balance)
        return fail(ps, "a second balance line");
    if (tok_is(t[1], "837"))
        ps->g->balance = X12_BALANCE_837;
    else if (tok_is(t[1], "835"))
        ps->g->balance = X12_BALANCE_835;
    else
        return fail(ps, "balance must be 837 or 835, found '%.*s'", (int)t[1].len, t[1].p);
    return 0;
}

static int statement(parser *ps, token *t, int nt)
{
    if (!ps->have_guide && !tok_is(t[0], "guide"))
        return fail(ps, "the first statement must be the guide line");
    if (tok_is(t[0], "guide"))
        return st_guide(ps, t, nt);
    if (tok_is(t[0], "loop"))
        return st_loop(ps, t, nt);
    if (tok_is(t[0], "end"))
        return st_end(ps, nt);
    if (tok_is(t[0], "seg"))
        return st_seg(ps, t, nt);
    if (tok_is(t[0], "el"))
        return st_elem(ps, t, nt, 0);
    if (tok_is(t[0], "comp"))
        return st_elem(ps, t, nt, 1);
    if (tok_is(t[0], "syntax"))
        return st_syntax(ps, t, nt);
    if (tok_is(t[0], "rule"))
        return st_rule(ps, t, nt);
    if (tok_is(t[0], "balance"))
        return st_balance(ps, t, nt);
    return fail(ps, "unknown statement '%.*s'", (int)t[0].len, t[0].p);
}

/* The set of all tags, for "is this tag in the guide at all". */
static int build_tagset(parser *ps)
{
    unsigned buckets = 8;
    while (buckets < ps->tags.n * 2)
        buckets *= 2;
    uint32_t *set = arena_alloc(&ps->a, buckets * sizeof *set);
    if (!set)
        return nomem(ps);
    for (size_t i = 0; i < ps->tags.n; i++) {
        uint32_t t = VAT(ps->tags, uint32_t, i);
        uint32_t h = (t * 2654435761u) & (buckets - 1);
        while (set[h] && set[h] != t)
            h = (h + 1) & (buckets - 1);
        set[h] = t;
    }
    ps->g->tags = set;
    ps->g->tags_mask = buckets - 1;
    struct x12_gtagkey *tk = arena_alloc(&ps->a, buckets * sizeof *tk);
    if (!tk)
        return nomem(ps);
    for (unsigned i = 0; i < buckets; i++)
        tk[i].ok = 1;
    x12_guide_tagkeys(ps->g, &ps->g->root, tk);
    ps->g->tagkey = tk;
    return 0;
}

static void parser_cleanup(parser *ps)
{
    for (int d = 0; d < MAX_DEPTH; d++) {
        bloop *b = &ps->stack[d];
        for (size_t i = 0; i < b->rules.n; i++)
            free(VAT(b->rules, prule, i).text), free(VAT(b->rules, prule, i).codes);
        vec_free(&b->rules);
        vec_free(&b->child);
    }
    vec_free(&ps->seg_el);
    vec_free(&ps->seg_syntax);
    vec_free(&ps->comps);
    vec_free(&ps->tags);
}

ch_code x12_guide_parse(const char *text, size_t len, const char *name, x12_guide **out,
                        ch_error *err)
{
    *out = NULL;
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.name = name ? name : "(guide)";
    ps.err = err;
    ps.seg_el = VEC(x12_gelem *);
    ps.seg_syntax = VEC(x12_gsyntax);
    ps.comps = VEC(x12_gelem *);
    ps.tags = VEC(uint32_t);
    for (int d = 0; d < MAX_DEPTH; d++) {
        ps.stack[d].child = VEC(x12_gnode);
        ps.stack[d].rules = VEC(prule);
    }
    ps.g = arena_alloc(&ps.a, sizeof *ps.g);
    if (!ps.g || !(ps.g->name = adup(&ps, ps.name, strlen(ps.name)))) {
        arena_free(&ps.a);
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory reading the guide table", ps.name);
    }
    ps.stack[0].l = &ps.g->root;
    ps.g->root.usage = 'R';
    ps.g->root.max = 1;
    ps.g->root.name = "Transaction Set Header";
    ps.g->root.line = 1;

    const char *p = text, *end = text + len;
    token t[MAX_TOKENS];
    int nt;
    while (p < end && ps.rc == CH_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        ps.line++;
        if (memchr(p, '\0', (size_t)(le - p))) {
            fail(&ps, "a NUL byte in the table");
            break;
        }
        if (tokenize(&ps, p, (size_t)(le - p), t, &nt) == 0 && nt > 0)
            statement(&ps, t, nt);
        p = nl ? nl + 1 : end;
    }
    if (ps.rc == CH_OK) {
        ps.line = 0;
        if (!ps.have_guide)
            fail(&ps, "empty table: no guide line");
        else if (ps.depth > 0) {
            ps.line = ps.stack[ps.depth].l->line;
            fail(&ps, "loop %s is never closed with end", ps.stack[ps.depth].l->id);
        } else if (close_loop(&ps, &ps.stack[0]) == 0) {
            build_tagset(&ps);
            if (ps.rc == CH_OK && ps.g->root.nchild == 0)
                fail(&ps, "the table has no segments");
        }
    }
    parser_cleanup(&ps);
    if (ps.rc != CH_OK) {
        arena_free(&ps.a);
        return ps.rc;
    }
    arena *keep = malloc(sizeof *keep);
    if (!keep) {
        arena_free(&ps.a);
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory reading the guide table", ps.name);
    }
    *keep = ps.a;
    ps.g->arena = keep;
    *out = ps.g;
    return CH_OK;
}

void x12_guide_free(x12_guide *g)
{
    if (!g)
        return;
    arena *a = g->arena;
    arena_free(a); /* g itself lives in the arena */
    free(a);
}

/* ---- lookups ------------------------------------------------------------- */

const uint16_t *x12_gloop_candidates(const x12_gloop *l, uint32_t tag32, unsigned *n)
{
    uint32_t h = (tag32 * 2654435761u) & l->tagix_mask;
    for (;;) {
        const x12_gtagix *e = &l->tagix[h];
        if (e->tag32 == tag32) {
            *n = e->n;
            return l->tagix_list + e->first;
        }
        if (!e->tag32) {
            *n = 0;
            return NULL;
        }
        h = (h + 1) & l->tagix_mask;
    }
}

int x12_guide_has_tag(const x12_guide *g, uint32_t tag32)
{
    if (!tag32)
        return 0;
    uint32_t h = (tag32 * 2654435761u) & g->tags_mask;
    while (g->tags[h]) {
        if (g->tags[h] == tag32)
            return 1;
        h = (h + 1) & g->tags_mask;
    }
    return 0;
}

static const x12_gloop *find_loop(const x12_gloop *l, const char *id)
{
    for (unsigned i = 0; i < l->nchild; i++) {
        const x12_gloop *c = l->child[i].loop;
        if (!c)
            continue;
        if (!strcmp(c->id, id))
            return c;
        const x12_gloop *r = find_loop(c, id);
        if (r)
            return r;
    }
    return NULL;
}

const x12_gloop *x12_guide_find_loop(const x12_guide *g, const char *id)
{
    return find_loop(&g->root, id);
}

const x12_gseg *x12_guide_find_seg(const x12_guide *g, const x12_gloop *loop, const char *tag)
{
    if (!loop)
        loop = &g->root;
    for (unsigned i = 0; i < loop->nchild; i++)
        if (loop->child[i].seg && !strcmp(loop->child[i].seg->tag, tag))
            return loop->child[i].seg;
    return NULL;
}

const char *x12_gtype_name(const x12_gelem *e)
{
    static const char *const nn[] = {"N0", "N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9"};
    switch ((x12_gtype)e->type) {
    case X12_GT_AN: return "AN";
    case X12_GT_ID: return "ID";
    case X12_GT_DT: return "DT";
    case X12_GT_TM: return "TM";
    case X12_GT_N: return nn[e->decimals % 10];
    case X12_GT_R: return "R";
    case X12_GT_B: return "B";
    case X12_GT_C: return "C";
    }
    return "?";
}

const char *x12_gcheck_name(x12_gcheck c)
{
    return c > 0 && c < X12_CHECK__COUNT ? check_names[c] : "";
}

int x12_gcodes_has(const x12_gcodes *c, const char *p, size_t n)
{
    if (n == 0)
        return 0;
    if (n <= 7) {
        uint64_t key = (uint64_t)n << 56;
        for (size_t b = 0; b < n; b++)
            key |= (uint64_t)(unsigned char)p[b] << (8 * b);
        for (uint32_t i = 0; i < c->n; i++)
            if (c->packed[i] == key)
                return 1;
        return 0;
    }
    if (!c->has_long)
        return 0;
    for (uint32_t i = 0; i < c->n; i++)
        if (c->v[i].len == n && !memcmp(c->v[i].s, p, n))
            return 1;
    return 0;
}

char *x12_gcodes_str(const x12_gcodes *c, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < c->n && o < size; i++) {
        const char *sep = i == 0 ? "" : i + 1 == c->n ? " or " : ", ";
        int w = snprintf(buf + o, size - o, "%s%s", sep, c->v[i].s);
        if (w < 0 || (size_t)w >= size - o) {
            if (size > 4)
                memcpy(buf + size - 4, "...", 4);
            break;
        }
        o += (size_t)w;
    }
    return buf;
}
