/* ydoc_fast.c - see ydoc_fast.h
 *
 * A recursive reader over lines: a block mapping or list is read at the
 * column of its first key or dash and ends at the first content line that
 * is indented less; flow collections are read by character.  Each function
 * returns 0, or -1 to decline.  After a block node, s->p is at the first
 * character of the next content line (comments and blank lines skipped) and
 * s->ind is that line's indentation, or -1 at the end of the input.
 */
#include "ydoc_fast.h"

#include <stdlib.h>
#include <string.h>

#include "ydoc.h"

typedef struct scan {
    const char *p, *end;
    const char *line_start; /* of p's line */
    unsigned line;
    int ind;                /* indentation of the content line at p; -1 at the end */
    int depth;
    yf_events *ev;
} scan;

/* deeper than this is declined: libyaml and the builder say why */
#define MAX_NEST (YDOC_MAX_DEPTH + 2)
/* libyaml refuses a key of more than 1024 characters (with what follows
 * it up to the ':'); longer ones than this are declined, well clear of it */
#define MAX_KEY 1000

static int emit(scan *s, yf_type t, int plain, unsigned line, const char *at, const char *str, size_t len)
{
    yf_events *e = s->ev;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 256;
        yf_event *v = realloc(e->v, cap * sizeof *v);
        if (!v)
            return -1;
        e->v = v;
        e->cap = cap;
    }
    yf_event *x = &e->v[e->n++];
    x->type = (unsigned char)t;
    x->plain = (unsigned char)plain;
    x->line = line;
    x->col = (unsigned)(at - s->line_start);
    x->str = str;
    x->len = len;
    return 0;
}

static int at_end(const scan *s) { return s->p >= s->end; }

/* A blank: what may follow a ':' or '-' indicator. */
static int blank_at(const scan *s, const char *q) { return q >= s->end || *q == ' ' || *q == '\n'; }

static void newline(scan *s)
{
    s->p++;
    s->line++;
    s->line_start = s->p;
}

/* From the start of a line: skip blank and comment lines; set s->ind.
 * -1: a document marker, declined. */
static int next_content(scan *s)
{
    for (;;) {
        const char *q = s->p;
        while (q < s->end && *q == ' ')
            q++;
        if (q >= s->end) {
            s->p = q;
            s->ind = -1;
            return 0;
        }
        if (*q == '\n' || *q == '#') {
            q = memchr(q, '\n', (size_t)(s->end - q));
            if (!q) {
                s->p = s->end;
                s->ind = -1;
                return 0;
            }
            s->p = q;
            newline(s);
            continue;
        }
        if (q == s->line_start && s->end - q >= 3 && (!memcmp(q, "---", 3) || !memcmp(q, "...", 3)))
            return -1;
        s->p = q;
        s->ind = (int)(q - s->line_start);
        return 0;
    }
}

/* After a value: spaces, maybe a comment, then the end of the line; then on
 * to the next content line. */
static int end_line(scan *s)
{
    const char *q = s->p;
    while (q < s->end && *q == ' ')
        q++;
    if (q < s->end && *q == '#') {
        if (q[-1] != ' ') /* "x"#: not a comment */
            return -1;
        q = memchr(q, '\n', (size_t)(s->end - q));
        if (!q)
            q = s->end;
    }
    if (q < s->end && *q != '\n')
        return -1;
    s->p = q;
    if (q < s->end)
        newline(s);
    return next_content(s);
}

/* A quoted scalar at s->p, on one line, without escapes. */
static int quoted(scan *s)
{
    char qc = *s->p;
    const char *st = s->p + 1, *q = st;
    while (q < s->end && *q != qc) {
        if (*q == '\n' || *q == '\\')
            return -1;
        q++;
    }
    if (q >= s->end || (qc == '\'' && q + 1 < s->end && q[1] == '\''))
        return -1;
    if (emit(s, YF_SCALAR, 0, s->line, s->p, st, (size_t)(q - st)))
        return -1;
    s->p = q + 1;
    return 0;
}

/* Character classes, looked up once per character of a flow value. */
enum { C_IND = 1, C_FLOW = 2, C_BLANK = 4 };
static const unsigned char cls[256] = {
    ['?'] = C_IND, [':'] = C_IND, ['#'] = C_IND, ['&'] = C_IND, ['*'] = C_IND, ['!'] = C_IND, ['|'] = C_IND,
    ['>'] = C_IND, ['\''] = C_IND, ['"'] = C_IND, ['%'] = C_IND, ['@'] = C_IND, ['`'] = C_IND,
    [','] = C_IND | C_FLOW, ['['] = C_IND | C_FLOW, [']'] = C_IND | C_FLOW, ['{'] = C_IND | C_FLOW,
    ['}'] = C_IND | C_FLOW, ['\n'] = C_FLOW | C_BLANK, [' '] = C_BLANK,
};

/* Characters that may not start a plain scalar ('-' is handled apart). */
static int indicator(char c) { return cls[(unsigned char)c] & C_IND; }

/* A plain scalar in block context from s->p: up to the end of the line, a
 * comment, or a ':' followed by a blank (*colon set).  Trailing spaces are
 * not part of it.  Does not emit. */
static void block_plain(scan *s, const char **st, size_t *len, int *colon)
{
    const char *q = s->p, *last = s->p;
    *colon = 0;
    while (q < s->end && *q != '\n') {
        if (*q == ':' && blank_at(s, q + 1)) {
            *colon = 1;
            break;
        }
        if (*q == '#' && q > s->p && q[-1] == ' ')
            break;
        if (*q != ' ')
            last = q + 1;
        q++;
    }
    *st = s->p;
    *len = (size_t)(last - s->p);
    s->p = q;
}

/* Is the content at s->p a key of a block mapping (a plain or quoted scalar
 * followed on the line by ": " or ":" at the end)? */
static int is_key(const scan *s)
{
    const char *q = s->p;
    if (q >= s->end)
        return 0;
    if (*q == '"' || *q == '\'') {
        const char *c = memchr(q + 1, *q, (size_t)(s->end - q - 1));
        return c && c + 1 < s->end && c[1] == ':' && blank_at(s, c + 2);
    }
    if (indicator(*q) || *q == '-')
        return 0;
    scan t = *s;
    const char *st;
    size_t len;
    int colon;
    block_plain(&t, &st, &len, &colon);
    return colon;
}

static int dash_item(const scan *s) { return s->p < s->end && *s->p == '-' && blank_at(s, s->p + 1); }

static int block_map(scan *s, int n);
static int block_seq(scan *s, int n);
static int flow(scan *s, int block_ind);

/* Spaces and line breaks inside a flow collection; a continued line must be
 * indented past the block it is in. */
static int flow_ws(scan *s, int block_ind)
{
    for (;;) {
        while (s->p < s->end && *s->p == ' ')
            s->p++;
        if (s->p >= s->end)
            return -1; /* unterminated */
        if (*s->p == '#')
            return -1;
        if (*s->p != '\n')
            return 0;
        newline(s);
        const char *q = s->p;
        while (q < s->end && *q == ' ')
            q++;
        if (q < s->end && *q != '\n' && (int)(q - s->line_start) <= block_ind)
            return -1;
        if (q == s->line_start && s->end - q >= 3 && (!memcmp(q, "---", 3) || !memcmp(q, "...", 3)))
            return -1;
    }
}

/* A plain scalar in flow context: ends at , [ ] { } or a line break, or at
 * a ':' that a blank or one of those follows. */
static int flow_plain(scan *s)
{
    const char *st = s->p, *q = s->p, *last = s->p;
    while (q < s->end && !(cls[(unsigned char)*q] & C_FLOW)) {
        if (*q == ':') {
            if (blank_at(s, q + 1))
                break;
            return -1; /* ":x", ":[" ...: libyaml's readings vary by version */
        }
        if (*q == '#' && q[-1] == ' ')
            return -1;
        if (*q != ' ')
            last = q + 1;
        q++;
    }
    if (emit(s, YF_SCALAR, 1, s->line, st, st, (size_t)(last - st)))
        return -1;
    s->p = q;
    return 0;
}

static int flow_node(scan *s, int block_ind)
{
    char c = *s->p;
    if (c == '[' || c == '{')
        return flow(s, block_ind);
    if (c == '"' || c == '\'')
        return quoted(s);
    if (indicator(c) || (c == '-' && (s->p + 1 >= s->end || (cls[(unsigned char)s->p[1]] & (C_FLOW | C_BLANK)))))
        return -1;
    return flow_plain(s);
}

static int flow(scan *s, int block_ind)
{
    if (++s->depth > MAX_NEST)
        return -1;
    int map = *s->p == '{';
    char close = map ? '}' : ']';
    if (emit(s, map ? YF_MAP_START : YF_SEQ_START, 0, s->line, s->p, NULL, 0))
        return -1;
    s->p++;
    if (flow_ws(s, block_ind))
        return -1;
    if (*s->p != close)
        for (;;) {
            if (map) {
                char c = *s->p;
                const char *k = s->p;
                if (c == '[' || c == '{' || flow_node(s, block_ind) || (size_t)(s->p - k) > MAX_KEY)
                    return -1;
                while (s->p < s->end && *s->p == ' ')
                    s->p++; /* a key and its ':' share a line */
                if (s->p >= s->end || *s->p != ':')
                    return -1;
                s->p++;
                if (flow_ws(s, block_ind) || *s->p == ',' || *s->p == close)
                    return -1; /* no value */
            }
            if (flow_node(s, block_ind) || flow_ws(s, block_ind))
                return -1;
            if (*s->p == close)
                break;
            if (*s->p != ',')
                return -1; /* also "k: v" pairs in a list */
            s->p++;
            if (flow_ws(s, block_ind) || *s->p == close || *s->p == ',')
                return -1; /* a trailing or doubled comma */
        }
    s->p++;
    s->depth--;
    return emit(s, YF_END, 0, s->line, s->p, NULL, 0);
}

/* A value on the line of its key or dash (s->p at its first character),
 * then the end of that line. */
static int inline_value(scan *s, int block_ind)
{
    char c = *s->p;
    if (c == '[' || c == '{') {
        if (flow(s, block_ind))
            return -1;
    } else if (c == '"' || c == '\'') {
        if (quoted(s))
            return -1;
    } else if (indicator(c) || (c == '-' && blank_at(s, s->p + 1))) {
        return -1;
    } else {
        const char *st;
        size_t len;
        int colon;
        unsigned line = s->line;
        block_plain(s, &st, &len, &colon);
        if (colon || emit(s, YF_SCALAR, 1, line, st, st, len))
            return -1; /* a ':' in a value is libyaml's "mapping values are not allowed" */
    }
    return end_line(s);
}

/* A block node that starts a line of its own, indented m. */
static int nested(scan *s, int m)
{
    if (dash_item(s))
        return block_seq(s, m);
    if (is_key(s))
        return block_map(s, m);
    return -1;
}

/* A block mapping whose first key is at s->p, column n. */
static int block_map(scan *s, int n)
{
    if (++s->depth > MAX_NEST)
        return -1;
    if (emit(s, YF_MAP_START, 0, s->line, s->p, NULL, 0))
        return -1;
    for (;;) {
        /* the key */
        if (*s->p == '"' || *s->p == '\'') {
            const char *k = s->p;
            if (quoted(s) || (size_t)(s->p - k) > MAX_KEY)
                return -1;
        } else {
            const char *st;
            size_t len;
            int colon;
            if (indicator(*s->p) || *s->p == '-')
                return -1;
            unsigned line = s->line;
            block_plain(s, &st, &len, &colon);
            if (!colon || (size_t)(s->p - st) > MAX_KEY || emit(s, YF_SCALAR, 1, line, st, st, len))
                return -1;
        }
        if (s->p >= s->end || *s->p != ':' || !blank_at(s, s->p + 1))
            return -1;
        s->p++;
        while (s->p < s->end && *s->p == ' ')
            s->p++;
        /* the value */
        if (at_end(s) || *s->p == '\n' || *s->p == '#') {
            if (end_line(s))
                return -1;
            if (s->ind > n) {
                if (nested(s, s->ind))
                    return -1;
            } else if (s->ind == n && dash_item(s)) {
                if (block_seq(s, n))
                    return -1;
            } else {
                return -1; /* an empty value */
            }
        } else if (inline_value(s, n)) {
            return -1;
        }
        if (s->ind > n || (s->ind == n && dash_item(s)))
            return -1;
        if (s->ind < n)
            break;
        if (!is_key(s))
            return -1;
    }
    s->depth--;
    return emit(s, YF_END, 0, s->line, s->p, NULL, 0);
}

/* A block list whose first dash is at s->p, column n. */
static int block_seq(scan *s, int n)
{
    if (++s->depth > MAX_NEST)
        return -1;
    if (emit(s, YF_SEQ_START, 0, s->line, s->p, NULL, 0))
        return -1;
    while (s->ind == n && dash_item(s)) {
        s->p++;
        while (s->p < s->end && *s->p == ' ')
            s->p++;
        if (at_end(s) || *s->p == '\n' || *s->p == '#' || dash_item(s))
            return -1; /* an item on the next line, or a list in a list */
        if (is_key(s)) {
            if (block_map(s, (int)(s->p - s->line_start)))
                return -1;
        } else if (inline_value(s, n)) {
            return -1;
        }
        if (s->ind > n)
            return -1;
    }
    s->depth--;
    return emit(s, YF_END, 0, s->line, s->p, NULL, 0);
}

/* Only printable ASCII, spaces and line feeds. */
static int plain_ascii(const char *buf, size_t len)
{
    const unsigned char *u = (const unsigned char *)buf;
    unsigned bad = 0;
    for (size_t i = 0; i < len; i++)
        bad |= (u[i] < 0x20 && u[i] != '\n') | (u[i] >= 0x7f);
    return !bad;
}

int ydoc_fast_scan(const char *buf, size_t len, yf_events *ev)
{
    ev->n = 0;
    if (len > YDOC_FAST_MAX_BYTES || !plain_ascii(buf, len))
        return 0;
    scan s = {buf, buf + len, buf, 0, -1, 0, ev};
    int rc = next_content(&s);
    if (rc == 0 && s.ind >= 0) {
        char c = *s.p;
        if (c == '[' || c == '{')
            rc = flow(&s, -1) || end_line(&s);
        else
            rc = nested(&s, s.ind);
        if (rc == 0 && s.ind >= 0)
            rc = -1; /* something after the root */
    }
    if (rc != 0) {
        ev->n = 0;
        return 0;
    }
    return 1;
}
