/*
 * guide_lite.h - test helper: check segments against a guide table
 * (a parsers/guides table, as embedded in the binary) for what the tests of
 * generated files need: element usage (R present), lengths, N0 digits, code
 * lists, composites, no elements the table leaves out.  It is not the
 * validator (parsers/x12_validate.c): no loops, counts or rules.  Keys pick
 * between same-tag segments (CTX).
 */
#ifndef GUIDE_LITE_H
#define GUIDE_LITE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"

#define GL_MAX_SEG 64
#define GL_MAX_EL 24

typedef struct gl_el {
    int pos, comp;       /* comp 0: a simple element or a composite's header */
    char usage, type[3]; /* type "C": composite */
    int min, max;
    char codes[600];     /* ",A,B," (empty: any) */
} gl_el;

typedef struct gl_seg {
    char tag[4];
    int key_pos, key_comp;
    char key[400];       /* ",A,B," */
    int nel;
    gl_el el[GL_MAX_EL];
} gl_seg;

typedef struct gl_guide {
    int nseg;
    gl_seg seg[GL_MAX_SEG];
} gl_guide;

/* Split a line into words; quotes group words and are dropped; # ends it. */
static inline int gl_words(const char *line, char w[][600], int max)
{
    int n = 0, q = 0;
    size_t o = 0;
    for (const char *p = line;; p++) {
        char c = *p;
        if (c == '"') {
            q = !q;
            continue;
        }
        if (!q && c == '#')
            c = '\0';
        if (c == '\0' || c == '\n' || (!q && c == ' ')) {
            if (o && n < max) {
                w[n][o] = '\0';
                n++;
            }
            o = 0;
            if (c == '\0' || c == '\n')
                return n;
            continue;
        }
        if (n < max && o + 1 < 600)
            w[n][o++] = c;
    }
}

static inline void gl_list(char *out, size_t size, const char *codes)
{
    snprintf(out, size, ",%s,", codes);
}

/* "01-1" -> pos 1, comp 1 */
static inline void gl_pos(const char *s, int *pos, int *comp)
{
    *pos = atoi(s);
    const char *d = strchr(s, '-');
    *comp = d ? atoi(d + 1) : 0;
}

static inline void gl_opt(gl_seg *s, gl_el *e, const char *word)
{
    if (e && !strncmp(word, "codes=", 6))
        gl_list(e->codes, sizeof e->codes, word + 6);
    if (!e && !strncmp(word, "key=", 4)) {
        gl_pos(word + 4, &s->key_pos, &s->key_comp);
        const char *c = strchr(word, ':');
        gl_list(s->key, sizeof s->key, c ? c + 1 : "");
    }
}

static inline void gl_line(gl_guide *g, const char *line)
{
    char w[12][600];
    int n = gl_words(line, w, 12);
    gl_seg *s = g->nseg ? &g->seg[g->nseg - 1] : NULL;
    if (n >= 2 && !strcmp(w[0], "seg") && g->nseg < GL_MAX_SEG) {
        s = &g->seg[g->nseg++];
        memset(s, 0, sizeof *s);
        snprintf(s->tag, sizeof s->tag, "%s", w[1]);
        for (int i = 2; i < n; i++)
            gl_opt(s, NULL, w[i]);
    } else if (n >= 4 && s && (!strcmp(w[0], "el") || !strcmp(w[0], "comp")) && s->nel < GL_MAX_EL) {
        gl_el *e = &s->el[s->nel++];
        memset(e, 0, sizeof *e);
        if (w[0][0] == 'e')
            e->pos = atoi(w[1]);
        else {
            e->pos = s->el[s->nel - 2].pos;
            e->comp = atoi(w[1]);
        }
        e->usage = w[2][0];
        snprintf(e->type, sizeof e->type, "%s", w[3]);
        if (strcmp(e->type, "C") && n >= 6) {
            e->min = atoi(w[4]);
            e->max = atoi(w[5]);
        }
        for (int i = 4; i < n; i++)
            gl_opt(s, e, w[i]);
    }
}

static inline void gl_load(gl_guide *g, const char *name)
{
    memset(g, 0, sizeof *g);
    const embedded_file *f = embedded_find(name);
    if (!f)
        return;
    for (const char *p = f->data; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)len, p);
        gl_line(g, line);
        p += len + (nl ? 1 : 0);
    }
}

/* Piece n (1-based) of s split on sep, into out. */
static inline void gl_piece(const char *s, char sep, int n, char *out, size_t size)
{
    for (int i = 1; i < n && s; i++) {
        s = strchr(s, sep);
        if (s)
            s++;
    }
    size_t len = 0;
    while (s && s[len] && s[len] != sep)
        len++;
    snprintf(out, size, "%.*s", (int)len, s ? s : "");
}

static inline int gl_value_ok(const gl_el *e, const char *v, char *why, size_t size)
{
    size_t len = strlen(v);
    if (!strcmp(e->type, "N0"))
        for (size_t i = 0; i < len; i++)
            if (v[i] < '0' || v[i] > '9')
                return snprintf(why, size, "not a number '%s'", v), 0;
    if ((int)len < e->min || (int)len > e->max)
        return snprintf(why, size, "'%s' not %d..%d long", v, e->min, e->max), 0;
    char k[64];
    snprintf(k, sizeof k, ",%s,", v);
    if (e->codes[0] && !strstr(e->codes, k))
        return snprintf(why, size, "'%s' not in %s", v, e->codes), 0;
    return 1;
}

/* The definition a segment (elements split on '*') matches. */
static inline const gl_seg *gl_find(const gl_guide *g, const char *seg)
{
    char tag[8], el[256], v[256];
    gl_piece(seg, '*', 1, tag, sizeof tag);
    const gl_seg *first = NULL;
    for (int i = 0; i < g->nseg; i++) {
        const gl_seg *s = &g->seg[i];
        if (strcmp(s->tag, tag))
            continue;
        if (!first)
            first = s;
        if (!s->key_pos)
            continue;
        gl_piece(seg, '*', s->key_pos + 1, el, sizeof el);
        gl_piece(el, ':', s->key_comp ? s->key_comp : 1, v, sizeof v);
        char k[300];
        snprintf(k, sizeof k, ",%s,", v);
        if (strstr(s->key, k))
            return s;
    }
    return first;
}

/* 1 when seg ("TAG*e1*e2:c2") agrees with the table; else why says no. */
static inline int gl_check(const gl_guide *g, const char *seg, char *why, size_t size)
{
    const gl_seg *s = gl_find(g, seg);
    if (!s)
        return snprintf(why, size, "%s: segment not in the guide", seg), 0;
    int last = 0, nel = 0;
    for (const char *p = seg; *p; p++)
        nel += *p == '*';
    char el[512], v[512], w[256];
    for (int i = 0; i < s->nel; i++) {
        const gl_el *e = &s->el[i];
        last = e->pos > last ? e->pos : last;
        gl_piece(seg, '*', e->pos + 1, el, sizeof el);
        gl_piece(el, '^', 1, v, sizeof v); /* the first repetition */
        if (!strcmp(e->type, "C") || e->comp)
            snprintf(el, sizeof el, "%s", v);
        if (e->comp) {
            gl_piece(el, ':', e->comp, v, sizeof v);
        } else if (!strcmp(e->type, "C")) {
            if (e->usage == 'R' && !v[0])
                return snprintf(why, size, "%s: %s%02d required", seg, s->tag, e->pos), 0;
            continue; /* its components are checked */
        }
        if (!v[0]) {
            int parent_present = !e->comp || el[0];
            if (e->usage == 'R' && parent_present)
                return snprintf(why, size, "%s: %s%02d%s%.0d required", seg, s->tag, e->pos,
                                e->comp ? "-" : "", e->comp), 0;
            continue;
        }
        if (!gl_value_ok(e, v, w, sizeof w))
            return snprintf(why, size, "%s: %s%02d: %s", seg, s->tag, e->pos, w), 0;
    }
    if (nel > last)
        return snprintf(why, size, "%s: %d elements, the guide has %d", seg, nel, last), 0;
    return 1;
}

#endif
