/*
 * x12_guide_lines.c - one line of a guide table (docs/guide-format.md) at a
 * time: splitting it into tokens, reading their values (usage, maximum use,
 * positions, element references, code lists), and the statements (guide,
 * loop, end, seg, el, comp, syntax, rule, balance) that add what the line
 * says to the guide being built.  Closing a segment or loop, and what is
 * worked out then, is x12_guide_build.c's.
 */
#include "x12_guide_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- lexing -------------------------------------------------------------- */

/* Split a line into tokens; '#' outside quotes ends it.  A token runs to the
 * next space outside double quotes, so key=01-1:"A B" is one token. */
int xg_tokenize(parser *ps, const char *p, size_t n, token *t, int *nt)
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
            return xg_fail(ps, "a double quote is not closed");
        if (*nt == MAX_TOKENS)
            return xg_fail(ps, "more than %d words on one line", MAX_TOKENS);
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
        return xg_fail(ps, "%s must be written in double quotes, found %.*s", what, (int)t.len, t.p);
    *out = xg_adup(ps, t.p + 1, t.len - 2);
    return *out ? 0 : xg_nomem(ps);
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
        return xg_fail(ps, "usage must be R, S or N, found '%.*s'", (int)t.len, t.p);
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
        return xg_fail(ps, "maximum use must be a number from 1, or >1, found '%.*s'", (int)t.len, t.p);
    *out = v;
    return 0;
}

int xg_tag_ok(const char *p, size_t n)
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
int xg_parse_ref(const char *p, size_t n, char tag[4], uint8_t *el, uint8_t *comp)
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
    if (!xg_tag_ok(p, tl))
        return -1;
    memcpy(tag, p, tl);
    tag[tl] = '\0';
    return parse_pos(p + tl, n - tl, el, comp);
}

/* A comma list, double quotes grouping (and removed): A,"B C",D. */
int xg_parse_codes(parser *ps, const char *p, size_t n, x12_gcodes *out, const char *what)
{
    size_t count = 1;
    int q = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"')
            q = !q;
        else if (p[i] == ',' && !q)
            count++;
    }
    x12_gcode *v = xg_arena_alloc(&ps->a, count * sizeof *v);
    if (!v)
        return xg_nomem(ps);
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
            return xg_fail(ps, "%s has an empty code", what);
        if (i - s > sizeof buf - 1)
            return xg_fail(ps, "%s has a code longer than %zu characters", what, sizeof buf - 1);
        for (size_t j = 0; j < k; j++)
            if (v[j].len == bl && !memcmp(v[j].s, buf, bl))
                return xg_fail(ps, "%s lists code '%.*s' twice", what, (int)bl, buf);
        v[k].s = xg_adup(ps, buf, bl);
        if (!v[k].s)
            return xg_nomem(ps);
        v[k].len = (uint32_t)bl;
        k++;
        s = i + 1;
    }
    uint64_t *packed = xg_arena_alloc(&ps->a, k * sizeof *packed);
    if (!packed)
        return xg_nomem(ps);
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

/* ---- statements ---------------------------------------------------------- */

static int st_guide(parser *ps, token *t, int nt)
{
    if (ps->have_guide)
        return xg_fail(ps, "a second guide line");
    if (nt != 4)
        return xg_fail(ps, "guide line must be: guide <ST01> <version> \"<title>\"");
    if (t[1].len != 3 || !(t[1].p[0] >= '0' && t[1].p[0] <= '9'))
        return xg_fail(ps, "ST01 on the guide line must be 3 digits, found '%.*s'", (int)t[1].len, t[1].p);
    if (t[2].len < 6 || t[2].len >= sizeof ps->g->version)
        return xg_fail(ps, "version on the guide line looks wrong: '%.*s'", (int)t[2].len, t[2].p);
    memcpy(ps->g->st01, t[1].p, 3);
    memcpy(ps->g->version, t[2].p, t[2].len);
    ps->have_guide = 1;
    return tok_name(ps, t[3], &ps->g->title, "the guide title");
}

static int add_child(parser *ps, x12_gnode nd)
{
    bloop *b = &ps->stack[ps->depth];
    x12_gnode *c = xg_vec_push(&b->child);
    if (!c)
        return xg_nomem(ps);
    *c = nd;
    if (b->child.n > 65000)
        return xg_fail(ps, "too many entries in one loop");
    return 0;
}

static int st_loop(parser *ps, token *t, int nt)
{
    if (xg_close_seg(ps))
        return -1;
    if (nt != 5)
        return xg_fail(ps, "loop line must be: loop <id> <usage> <max> \"<name>\"");
    if (ps->depth + 1 >= MAX_DEPTH)
        return xg_fail(ps, "loops nested deeper than %d", MAX_DEPTH - 1);
    x12_gloop *l = xg_arena_alloc(&ps->a, sizeof *l);
    if (!l)
        return xg_nomem(ps);
    if (t[1].len == 0 || t[1].len > 8 || t[1].p[0] == '"')
        return xg_fail(ps, "loop id '%.*s' looks wrong", (int)t[1].len, t[1].p);
    l->id = xg_adup(ps, t[1].p, t[1].len);
    if (!l->id)
        return xg_nomem(ps);
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
        return xg_fail(ps, "end takes nothing after it");
    if (ps->depth == 0)
        return xg_fail(ps, "end without an open loop");
    if (xg_close_loop(ps, &ps->stack[ps->depth]))
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
    if (xg_close_seg(ps))
        return -1;
    if (nt < 5)
        return xg_fail(ps, "seg line must be: seg <TAG> <usage> <max> \"<name>\" [key=<pos>:<codes>]");
    if (!xg_tag_ok(t[1].p, t[1].len))
        return xg_fail(ps, "'%.*s' is not a segment tag (2-3 capitals or digits, starting with a letter)",
                       (int)t[1].len, t[1].p);
    x12_gseg *s = xg_arena_alloc(&ps->a, sizeof *s);
    if (!s)
        return xg_nomem(ps);
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
            return xg_fail(ps, "unknown word '%.*s' on a seg line", (int)t[i].len, t[i].p);
        if (s->key_el)
            return xg_fail(ps, "seg %s has two key= options", s->tag);
        const char *colon = memchr(v, ':', vl);
        if (!colon || parse_pos(v, (size_t)(colon - v), &s->key_el, &s->key_comp))
            return xg_fail(ps, "key= must be <pos>:<code>[,<code>...], e.g. key=01:85 or key=01-1:ABK,BK");
        if (xg_parse_codes(ps, colon + 1, vl - (size_t)(colon - v) - 1, &s->key, "key="))
            return -1;
    }
    bloop *b = &ps->stack[ps->depth];
    s->loop = b->l;
    if (add_child(ps, (x12_gnode){s, NULL}))
        return -1;
    uint32_t *tg = xg_vec_push(&ps->tags);
    if (!tg)
        return xg_nomem(ps);
    *tg = s->tag32;
    ps->seg = s;
    ps->g->nsegs++;
    return 0;
}

/* Options of el/comp lines: codes=, reps=, check=. */
static int elem_options(parser *ps, x12_gelem *e, token *t, int from, int nt, int is_comp)
{
    for (int i = from; i < nt; i++) {
        const char *v;
        size_t vl;
        if (option(t[i], "codes", &v, &vl)) {
            if (e->type == X12_GT_C)
                return xg_fail(ps, "a composite el takes no codes= (put them on its comp lines)");
            if (e->codes.n)
                return xg_fail(ps, "two codes= options");
            if (xg_parse_codes(ps, v, vl, &e->codes, "codes="))
                return -1;
        } else if (option(t[i], "reps", &v, &vl)) {
            unsigned r;
            if (is_comp)
                return xg_fail(ps, "a comp takes no reps=");
            if (vl == 2 && v[0] == '>' && v[1] == '1')
                e->reps = 0;
            else if (parse_uint((token){v, vl}, &r, 65535) || r == 0)
                return xg_fail(ps, "reps= must be a number from 1 (or >1), found '%.*s'", (int)vl, v);
            else
                e->reps = (uint16_t)r;
        } else if (option(t[i], "check", &v, &vl)) {
            int found = 0;
            for (int c = 1; c < X12_CHECK__COUNT; c++) {
                const char *cn = x12_gcheck_name((x12_gcheck)c);
                if (strlen(cn) == vl && !memcmp(cn, v, vl)) {
                    e->check = (uint8_t)c;
                    found = 1;
                }
            }
            if (!found)
                return xg_fail(ps, "unknown check '%.*s' (known: npi, icd10cm, hi, proc, date, dtp, state, "
                               "zip, taxonomy, ein)", (int)vl, v);
        } else {
            return xg_fail(ps, "unknown word '%.*s' on an %s line", (int)t[i].len, t[i].p,
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
    return xg_fail(ps, "unknown data type '%.*s' (AN, ID, DT, TM, N0..N9, R, B or C)", (int)t.len, t.p);
}

/* el <pos> <usage> <type> <min> <max> "<name>" [...] | el <pos> <usage> C "<name>" [...] ;
 * comp <sub> <usage> <type> <min> <max> "<name>" [...] */
static int st_elem(parser *ps, token *t, int nt, int is_comp)
{
    const char *what = is_comp ? "comp" : "el";
    if (is_comp) {
        if (!ps->comp_of)
            return xg_fail(ps, "comp line without a composite (el ... C) before it");
    } else {
        if (xg_close_comps(ps))
            return -1;
        if (!ps->seg)
            return xg_fail(ps, "el line without a seg before it in the same loop");
    }
    if (nt < 4)
        return xg_fail(ps, "%s line is too short", what);
    x12_gelem *e = xg_arena_alloc(&ps->a, sizeof *e);
    if (!e)
        return xg_nomem(ps);
    e->line = ps->line;
    e->reps = 1;
    unsigned pos;
    if (is_comp) {
        if (parse_uint(t[1], &pos, 99) || pos == 0)
            return xg_fail(ps, "comp position must be a number 1..99, found '%.*s'", (int)t[1].len, t[1].p);
    } else {
        if (t[1].len != 2 || parse_uint(t[1], &pos, 99) || pos == 0)
            return xg_fail(ps, "el position must be two digits 01..99, found '%.*s'", (int)t[1].len, t[1].p);
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
            return xg_fail(ps, "%s line must be: %s <pos> <usage> <type> <min> <max> \"<name>\"", what, what);
        if (parse_type(ps, t[3], e))
            return -1;
        unsigned mn, mx;
        if (parse_uint(t[4], &mn, 9999) || parse_uint(t[5], &mx, 9999) || mx == 0 || mn > mx)
            return xg_fail(ps, "%s %02u: min and max must be numbers with 0 < max and min <= max, "
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
            return xg_fail(ps, "%s %02u of %s is listed twice (first at line %d)", what, e->pos,
                           ps->seg->tag, VAT(*v, x12_gelem *, i)->line);
    x12_gelem **slot = xg_vec_push(v);
    if (!slot)
        return xg_nomem(ps);
    *slot = e;
    if (e->type == X12_GT_C)
        ps->comp_of = e;
    return 0;
}

static int st_syntax(parser *ps, token *t, int nt)
{
    if (xg_close_comps(ps))
        return -1;
    if (!ps->seg)
        return xg_fail(ps, "syntax line without a seg before it in the same loop");
    if (nt < 4 || nt > 2 + 8)
        return xg_fail(ps, "syntax line must be: syntax <P|R|C|E|L> <pos> <pos> [<pos>...] (2 to 8 positions)");
    if (t[1].len != 1 || !strchr("PRCEL", t[1].p[0]))
        return xg_fail(ps, "syntax kind must be P, R, C, E or L, found '%.*s'", (int)t[1].len, t[1].p);
    x12_gsyntax *s = xg_vec_push(&ps->seg_syntax);
    if (!s)
        return xg_nomem(ps);
    if (ps->seg_syntax.n > 255)
        return xg_fail(ps, "too many syntax notes on one segment");
    s->kind = t[1].p[0];
    for (int i = 2; i < nt; i++) {
        if (parse_pos(t[i].p, t[i].len, &s->pos[s->n], &s->comp[s->n]))
            return xg_fail(ps, "syntax position must be two digits (05) or 05-3, found '%.*s'",
                           (int)t[i].len, t[i].p);
        s->n++;
    }
    return 0;
}

static int st_rule(parser *ps, token *t, int nt)
{
    if (xg_close_seg(ps))
        return -1;
    /* rule "<text>" if <ref> <op> [codes] then need|forbid <kind> <arg> */
    if (nt < 8)
        return xg_fail(ps, "rule line must be: rule \"<text>\" if <condition> then <need|forbid> <target>");
    const char *text;
    if (tok_name(ps, t[1], &text, "the rule text"))
        return -1;
    if (!tok_is(t[2], "if"))
        return xg_fail(ps, "rule: expected 'if' after the text");
    prule p = {.line = ps->line};
    if (t[3].len >= sizeof p.cond_ref)
        return xg_fail(ps, "rule condition '%.*s' is not an element reference", (int)t[3].len, t[3].p);
    memcpy(p.cond_ref, t[3].p, t[3].len);
    int i;
    if (tok_is(t[4], "=") || tok_is(t[4], "!=")) {
        p.cond = tok_is(t[4], "=") ? X12_COND_EQ : X12_COND_NE;
        p.codes = strndup(t[5].p, t[5].len);
        if (!p.codes)
            return xg_nomem(ps);
        i = 6;
    } else if (tok_is(t[4], "present") || tok_is(t[4], "absent")) {
        p.cond = tok_is(t[4], "present") ? X12_COND_PRESENT : X12_COND_ABSENT;
        i = 5;
    } else {
        return xg_fail(ps, "rule condition must be <ref> = <codes>, <ref> != <codes>, <ref> present or "
                       "<ref> absent; found '%.*s'", (int)t[4].len, t[4].p);
    }
    if (nt != i + 4 || !tok_is(t[i], "then")) {
        free(p.codes);
        return xg_fail(ps, "rule: expected 'then need|forbid seg|loop|el <target>' after the condition");
    }
    if (tok_is(t[i + 1], "need"))
        p.need = 1;
    else if (!tok_is(t[i + 1], "forbid")) {
        free(p.codes);
        return xg_fail(ps, "rule: expected need or forbid, found '%.*s'", (int)t[i + 1].len, t[i + 1].p);
    }
    if (tok_is(t[i + 2], "seg"))
        p.target = X12_TARGET_SEG;
    else if (tok_is(t[i + 2], "loop"))
        p.target = X12_TARGET_LOOP;
    else if (tok_is(t[i + 2], "el"))
        p.target = X12_TARGET_EL;
    else {
        free(p.codes);
        return xg_fail(ps, "rule target must be seg, loop or el, found '%.*s'", (int)t[i + 2].len, t[i + 2].p);
    }
    if (t[i + 3].len >= sizeof p.target_arg) {
        free(p.codes);
        return xg_fail(ps, "rule target '%.*s' is too long", (int)t[i + 3].len, t[i + 3].p);
    }
    memcpy(p.target_arg, t[i + 3].p, t[i + 3].len);
    p.text = strdup(text);
    prule *slot = p.text ? xg_vec_push(&ps->stack[ps->depth].rules) : NULL;
    if (!slot) {
        free(p.codes);
        free(p.text);
        return xg_nomem(ps);
    }
    *slot = p;
    return 0;
}

static int st_balance(parser *ps, token *t, int nt)
{
    if (ps->depth != 0)
        return xg_fail(ps, "balance belongs at top level, not inside a loop");
    if (nt != 2)
        return xg_fail(ps, "balance line must be: balance <837|835>");
    if (ps->g->balance)
        return xg_fail(ps, "a second balance line");
    if (tok_is(t[1], "837"))
        ps->g->balance = X12_BALANCE_837;
    else if (tok_is(t[1], "835"))
        ps->g->balance = X12_BALANCE_835;
    else
        return xg_fail(ps, "balance must be 837 or 835, found '%.*s'", (int)t[1].len, t[1].p);
    return 0;
}

int xg_statement(parser *ps, token *t, int nt)
{
    if (!ps->have_guide && !tok_is(t[0], "guide"))
        return xg_fail(ps, "the first statement must be the guide line");
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
    return xg_fail(ps, "unknown statement '%.*s'", (int)t[0].len, t[0].p);
}
