/* ledger_payjson.c - see ledger_payjson.h */
#include "ledger_payjson.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- writing ----------------------------------------------------------------- */

static int grow(ledger_text *t, size_t more)
{
    if (t->len + more + 1 <= t->cap)
        return 1;
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->len + more + 1)
        cap *= 2;
    char *p = realloc(t->p, cap);
    if (!p)
        return 0;
    t->p = p;
    t->cap = cap;
    return 1;
}

/* Appends fail only for memory: t->oom, checked once at the end. */
static void put(ledger_text *t, const char *s, size_t n)
{
    if (t->oom)
        return;
    if (!grow(t, n)) {
        t->oom = 1;
        return;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void put_c(ledger_text *t, char c) { put(t, &c, 1); }

static void put_int(ledger_text *t, int64_t v)
{
    /* by hand: snprintf is most of the cost of a payment's JSON */
    char b[24];
    size_t n = sizeof b;
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        b[--n] = (char)('0' + a % 10);
        a /= 10;
    } while (a);
    if (v < 0)
        b[--n] = '-';
    put(t, b + n, sizeof b - n);
}

/* A JSON string; NULL or "" as null when empty_null. */
static void put_str(ledger_text *t, const char *s, int empty_null)
{
    if (!s || (!s[0] && empty_null)) {
        put(t, "null", 4);
        return;
    }
    put_c(t, '"');
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c != '"' && c != '\\' && c >= 0x20 && c != 0x7f)
            continue;
        put(t, run, (size_t)(s - run));
        char esc[8];
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c);
        else
            snprintf(esc, sizeof esc, "\\u%04x", c);
        put(t, esc, strlen(esc));
        run = s + 1;
    }
    put(t, run, (size_t)(s - run));
    put_c(t, '"');
}

static void put_adjs(ledger_text *t, const ledger_adjustment *a, size_t n)
{
    put_c(t, '[');
    for (size_t i = 0; i < n; i++) {
        put(t, i ? ",[" : "[", i ? 2 : 1);
        put_str(t, a[i].group ? a[i].group : "", 0);
        put_c(t, ',');
        put_str(t, a[i].reason ? a[i].reason : "", 0);
        put_c(t, ',');
        put_int(t, a[i].cents);
        put_c(t, ',');
        put_str(t, a[i].quantity, 1);
        put_c(t, ']');
    }
    put_c(t, ']');
}

static ch_code start(ledger_text *t)
{
    t->oom = 0;
    t->len = 0;
    if (!grow(t, 0))
        return CH_ERR_NOMEM;
    t->p[0] = '\0';
    return CH_OK;
}

static ch_code end(ledger_text *t, ch_error *err)
{
    if (t->oom)
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    return CH_OK;
}

ch_code ledger_payjson_adj(ledger_text *t, const ledger_adjustment *a, size_t n, ch_error *err)
{
    if (start(t) != CH_OK)
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    if (n)
        put_adjs(t, a, n);
    return end(t, err);
}

ch_code ledger_payjson_lines(ledger_text *t, const ledger_line_payment *lines, size_t n, ch_error *err)
{
    if (start(t) != CH_OK)
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    if (!n)
        return end(t, err);
    put_c(t, '[');
    for (size_t i = 0; i < n; i++) {
        const ledger_line_payment *l = &lines[i];
        put(t, i ? ",[" : "[", i ? 2 : 1);
        put_int(t, l->line_no);
        put_c(t, ',');
        put_str(t, l->procedure, 1);
        put_c(t, ',');
        put_str(t, l->modifiers, 1);
        put_c(t, ',');
        put_str(t, l->control, 1);
        const int64_t money[4] = {l->billed, l->paid, l->allowed, l->units_x100};
        for (int k = 0; k < 4; k++) {
            put_c(t, ',');
            put_int(t, money[k]);
        }
        put_c(t, ',');
        put_adjs(t, l->adj, l->nadj);
        put_c(t, ']');
    }
    put_c(t, ']');
    return end(t, err);
}

/* --- reading ----------------------------------------------------------------- */

/* A cursor over JSON text of the forms above (also as SQLite's json_array
 * writes them when migrating: no blanks, but blanks are allowed). */
typedef struct cur {
    const char *p;
    int bad;
} cur;

static void ws(cur *c)
{
    while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')
        c->p++;
}

static int eat(cur *c, char ch)
{
    ws(c);
    if (*c->p != ch)
        return 0;
    c->p++;
    return 1;
}

/* A string (into out, at most size - 1 bytes, \u escapes of ASCII only) or
 * a number or null, as text ("" for null). */
static void scalar(cur *c, char *out, size_t size)
{
    size_t n = 0;
    ws(c);
    if (*c->p == '"') {
        c->p++;
        while (*c->p && *c->p != '"') {
            char ch = *c->p++;
            if (ch == '\\') {
                ch = *c->p ? *c->p++ : '\0';
                if (ch == 'u') {
                    unsigned v = 0;
                    for (int k = 0; k < 4 && *c->p; k++, c->p++) {
                        char h = *c->p;
                        v = v * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                    }
                    ch = v < 0x80 ? (char)v : '?';
                } else if (ch == 'n')
                    ch = '\n';
                else if (ch == 't')
                    ch = '\t';
                else if (ch == 'r')
                    ch = '\r';
            }
            if (n + 1 < size)
                out[n++] = ch;
        }
        if (*c->p != '"')
            c->bad = 1;
        else
            c->p++;
    } else if (!strncmp(c->p, "null", 4)) {
        c->p += 4;
    } else {
        while ((*c->p >= '0' && *c->p <= '9') || *c->p == '-' || *c->p == '.' || *c->p == 'e' || *c->p == 'E' ||
               *c->p == '+') {
            if (n + 1 < size)
                out[n++] = *c->p;
            c->p++;
        }
        if (!n)
            c->bad = 1;
    }
    if (size)
        out[n] = '\0';
}

/* [[group, reason, cents, quantity], ...] appended to t as "g:r:cents". */
static void adjs(cur *c, ledger_text *t)
{
    if (!eat(c, '[')) {
        c->bad = 1;
        return;
    }
    if (eat(c, ']'))
        return;
    do {
        char g[16], r[16], cents[32], q[32];
        if (!eat(c, '[')) {
            c->bad = 1;
            return;
        }
        scalar(c, g, sizeof g);
        if (!eat(c, ','))
            c->bad = 1;
        scalar(c, r, sizeof r);
        if (!eat(c, ','))
            c->bad = 1;
        scalar(c, cents, sizeof cents);
        if (eat(c, ','))
            scalar(c, q, sizeof q);
        if (c->bad || !eat(c, ']')) {
            c->bad = 1;
            return;
        }
        if (t->len)
            put_c(t, ' ');
        put(t, g, strlen(g));
        put_c(t, ':');
        put(t, r, strlen(r));
        put_c(t, ':');
        put(t, cents, strlen(cents));
    } while (eat(c, ','));
    if (!eat(c, ']'))
        c->bad = 1;
}

ch_code ledger_payjson_text(ledger_text *t, const char *adj, const char *lines, ch_error *err)
{
    if (start(t) != CH_OK)
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    if (adj && adj[0]) {
        cur c = {adj, 0};
        adjs(&c, t);
    }
    if (lines && lines[0]) {
        cur c = {lines, 0};
        if (eat(&c, '[') && !eat(&c, ']')) {
            do {
                if (!eat(&c, '['))
                    break;
                char skip[8];
                for (int k = 0; k < 8 && !c.bad; k++) {
                    scalar(&c, skip, sizeof skip);
                    if (!eat(&c, ','))
                        c.bad = 1;
                }
                if (c.bad)
                    break;
                adjs(&c, t);
                if (c.bad || !eat(&c, ']'))
                    break;
            } while (eat(&c, ','));
        }
    }
    return end(t, err);
}
