/*
 * x12_guide_int.h - what the guide reader's files share while a table is
 * read: the build state (arena, growable vectors, the parser with its stack
 * of open loops) and the functions one file calls in another.  Not a public
 * API: see x12_guide.h.
 *
 *   x12_guide.c         x12_guide_parse: the line loop, memory, errors; free
 *   x12_guide_lines.c   one line: tokens, their values, the statements
 *   x12_guide_build.c   closing a composite, segment or loop: the derived
 *                       tables (fast summaries, tag index, rule slots...)
 *   x12_guide_lookup.c  the read-only lookups the validator calls
 */
#ifndef X12_GUIDE_INT_H
#define X12_GUIDE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "x12_guide.h"

/* ---- arena: everything a guide owns, freed at once ---------------------- */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
} arena_chunk;

typedef struct arena {
    arena_chunk *head;
} arena;

/* ---- growable vectors (build time only) ---------------------------------- */

typedef struct vec {
    void *p;
    size_t n, cap, size;
} vec;

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

/* ---- in x12_guide.c: memory and errors ----------------------------------- */

/* n zeroed bytes, aligned for anything, owned by the arena (NULL: no memory). */
void *xg_arena_alloc(arena *a, size_t n);

/* A new zeroed element at the end of v (NULL: no memory). */
void *xg_vec_push(vec *v);

/* Release v's storage; v stays usable (empty). */
void xg_vec_free(vec *v);

/* The first error wins: "NAME:LINE: msg" (no line when ps->line is 0); -1. */
int xg_fail(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Out of memory (unless an error is already set); -1. */
int xg_nomem(parser *ps);

/* p[0..n) as a NUL-terminated string in the arena (NULL: no memory). */
char *xg_adup(parser *ps, const char *p, size_t n);

/* ---- in x12_guide_lines.c: one line of the table ------------------------- */

/* Split a line into at most MAX_TOKENS tokens ('#' starts a comment); 0 or -1. */
int xg_tokenize(parser *ps, const char *p, size_t n, token *t, int *nt);

/* Apply one line's statement (t[0] says which); 0 or -1. */
int xg_statement(parser *ps, token *t, int nt);

/* 1 when p[0..n) is a segment tag: 2-3 capitals or digits, a letter first. */
int xg_tag_ok(const char *p, size_t n);

/* "CLM05-3" -> tag, element, component (0: none); 0, or -1 when malformed. */
int xg_parse_ref(const char *p, size_t n, char tag[4], uint8_t *el, uint8_t *comp);

/* A comma list of codes (double quotes group) into *out, in the arena; 0 or -1. */
int xg_parse_codes(parser *ps, const char *p, size_t n, x12_gcodes *out, const char *what);

/* ---- in x12_guide_build.c: closing what the lines opened ----------------- */

/* Freeze the open composite's comp lines into it (none open: nothing); 0 or -1. */
int xg_close_comps(parser *ps);

/* Freeze the open segment entry (and composite) with its derived tables; 0 or -1. */
int xg_close_seg(parser *ps);

/* Freeze a loop's children, tag index and rules into the arena; 0 or -1. */
int xg_close_loop(parser *ps, bloop *b);

/* The guide's set of all tags and their key positions (x12_gtagkey); 0 or -1. */
int xg_build_tagset(parser *ps);

#endif
