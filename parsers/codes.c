/*
 * codes.c - code lists loaded from the embedded TSV files (see codes.h).
 *
 * Each list is copied once into one heap block where tabs and newlines become
 * NULs, so entries point into it; the entries are sorted by (element, code)
 * and searched with bsearch.  All embedded lists are loaded together on the
 * first lookup under pthread_once, so lookups never lock.
 */
#include "codes.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"

typedef struct code_entry {
    const char *element; /* "" for one-key lists */
    const char *code;
    const char *text;
    int deactivated;     /* the column after the text says "deactivated" */
    size_t line;         /* for a stable "first one wins" among duplicates */
} code_entry;

struct codes_table {
    char name[64];
    int nkeys;
    char *block;         /* the copied text */
    char *source;        /* comment lines */
    code_entry *e;
    size_t n;
};

static int entry_cmp(const void *a, const void *b)
{
    const code_entry *x = a, *y = b;
    int c = strcmp(x->element, y->element);
    if (c == 0)
        c = strcmp(x->code, y->code);
    if (c == 0)
        c = x->line < y->line ? -1 : x->line > y->line;
    return c;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/*
 * How many key columns a list has, from its text: a header comment
 * "Columns: element, code, text" says 2; otherwise a line with a third field
 * that is not "deactivated" says 2 (element, code, text); else 1.
 */
static int detect_nkeys(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    int two = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        size_t n = (size_t)(e - p);
        if (n && p[0] == '#') {
            if (memmem(p, n, "Columns: element", 16))
                return 2;
        } else if (n) {
            const char *t1 = memchr(p, '\t', n);
            const char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(e - t1 - 1)) : NULL;
            if (t2) {
                size_t m = (size_t)(e - t2 - 1);
                while (m && (t2[m] == '\r' || t2[m] == ' '))
                    m--;
                if (!(m == 11 && !memcmp(t2 + 1, "deactivated", 11)))
                    two = 1;
            }
        }
        p = e + 1;
    }
    return two ? 2 : 1;
}

ch_code codes_table_parse(const char *name, const char *text, size_t len, int nkeys,
                          codes_table **out, ch_error *err)
{
    *out = NULL;
    if (nkeys == 0)
        nkeys = detect_nkeys(text, len);
    if (nkeys != 1 && nkeys != 2)
        return ch_error_set(err, CH_ERR_USAGE, "codes %s: nkeys must be 0, 1 or 2", name);
    codes_table *t = calloc(1, sizeof *t);
    if (!t)
        return ch_error_set(err, CH_ERR_NOMEM, "codes %s: out of memory", name);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->nkeys = nkeys;
    t->block = malloc(len + 1);
    t->source = malloc(len + 1);
    size_t cap = 64;
    t->e = malloc(cap * sizeof *t->e);
    if (!t->block || !t->source || !t->e)
        goto nomem;
    memcpy(t->block, text, len);
    t->block[len] = '\0';
    t->source[0] = '\0';
    size_t srclen = 0, lineno = 0;
    char *p = t->block, *end = t->block + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *line = p;
        if (nl) {
            *nl = '\0';
            p = nl + 1;
        } else {
            p = end;
        }
        lineno++;
        if (line[0] == '#') {
            char *c = trim(line + 1);
            size_t n = strlen(c);
            if (srclen)
                t->source[srclen++] = '\n';
            memcpy(t->source + srclen, c, n);
            srclen += n;
            t->source[srclen] = '\0';
            continue;
        }
        if (*trim(line) == '\0')
            continue;
        char *cols[3] = {0};
        char *q = line;
        int k = 0;
        for (; k < nkeys; k++) {
            char *tab = strchr(q, '\t');
            if (!tab)
                break;
            *tab = '\0';
            cols[k] = q;
            q = tab + 1;
        }
        if (k < nkeys) {
            ch_error_set(err, CH_ERR_SYNTAX, "codes %s line %zu: expected %d tab-separated columns",
                         name, lineno, nkeys + 1);
            codes_table_free(t);
            return CH_ERR_SYNTAX;
        }
        char *tab = strchr(q, '\t'), *flag = "";
        if (tab) { /* one optional flag column; any after it are ignored */
            *tab = '\0';
            flag = tab + 1;
            char *t2 = strchr(flag, '\t');
            if (t2)
                *t2 = '\0';
            flag = trim(flag);
        }
        code_entry ent = {
            .element = nkeys == 2 ? trim(cols[0]) : "",
            .code = trim(cols[nkeys - 1]),
            .text = trim(q),
            .deactivated = !strcmp(flag, "deactivated"),
            .line = lineno,
        };
        if (ent.code[0] == '\0' || (nkeys == 2 && ent.element[0] == '\0')) {
            ch_error_set(err, CH_ERR_SYNTAX, "codes %s line %zu: empty code", name, lineno);
            codes_table_free(t);
            return CH_ERR_SYNTAX;
        }
        if (t->n == cap) {
            code_entry *ne = realloc(t->e, 2 * cap * sizeof *ne);
            if (!ne)
                goto nomem;
            t->e = ne;
            cap *= 2;
        }
        t->e[t->n++] = ent;
    }
    qsort(t->e, t->n, sizeof *t->e, entry_cmp);
    /* keep the first of duplicates (sorted by line within equal keys) */
    size_t w = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (w > 0 && !strcmp(t->e[w - 1].element, t->e[i].element) &&
            !strcmp(t->e[w - 1].code, t->e[i].code))
            continue;
        t->e[w++] = t->e[i];
    }
    t->n = w;
    *out = t;
    return CH_OK;
nomem:
    codes_table_free(t);
    return ch_error_set(err, CH_ERR_NOMEM, "codes %s: out of memory", name);
}

static const code_entry *find_exact(const codes_table *t, const char *element, const char *code)
{
    code_entry key = {.element = t->nkeys == 2 ? element : "", .code = code, .line = 0};
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key.element, t->e[mid].element);
        if (c == 0)
            c = strcmp(key.code, t->e[mid].code);
        if (c == 0)
            return &t->e[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Copy s without surrounding blanks into buf; upper: upper-case it too. */
static const char *clean(const char *s, char *buf, size_t size, int upper)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    if (n >= size)
        n = size - 1;
    for (size_t i = 0; i < n; i++)
        buf[i] = upper ? (char)toupper((unsigned char)s[i]) : s[i];
    buf[n] = '\0';
    return buf;
}

static const code_entry *find_entry(const codes_table *t, const char *element, const char *code)
{
    if (!t || !code || (t->nkeys == 2 && !element))
        return NULL;
    char c[64], el[64] = "";
    if (element)
        clean(element, el, sizeof el, 1);
    const code_entry *r = find_exact(t, el, clean(code, c, sizeof c, 0));
    if (!r) {
        char u[64];
        clean(code, u, sizeof u, 1);
        if (strcmp(u, c))
            r = find_exact(t, el, u);
    }
    return r;
}

const char *codes_table_find(const codes_table *t, const char *element, const char *code)
{
    const code_entry *e = find_entry(t, element, code);
    return e ? e->text : NULL;
}

int codes_table_deactivated(const codes_table *t, const char *element, const char *code)
{
    const code_entry *e = find_entry(t, element, code);
    return e ? e->deactivated : 0;
}

size_t codes_table_count(const codes_table *t) { return t ? t->n : 0; }

const char *codes_table_source(const codes_table *t) { return t ? t->source : NULL; }

void codes_table_free(codes_table *t)
{
    if (!t)
        return;
    free(t->block);
    free(t->source);
    free(t->e);
    free(t);
}

/* --- the embedded lists ----------------------------------------------------- */

#define MAX_LISTS 64

static codes_table *g_lists[MAX_LISTS];
static size_t g_nlists;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void load_all(void)
{
    for (const embedded_file *f = embedded_files; f->name && g_nlists < MAX_LISTS; f++) {
        size_t n = strlen(f->name);
        if (n < 5 || strcmp(f->name + n - 4, ".tsv"))
            continue;
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(n - 4), f->name);
        codes_table *t;
        /* A list that does not parse is left out (lookups give NULL);
         * tests/test_codes.c checks that every embedded list parses. */
        if (codes_table_parse(name, f->data, f->len, 0, &t, NULL) == CH_OK)
            g_lists[g_nlists++] = t;
    }
}

static const codes_table *list_get(const char *list)
{
    if (!list)
        return NULL;
    pthread_once(&g_once, load_all);
    for (size_t i = 0; i < g_nlists; i++)
        if (!strcmp(g_lists[i]->name, list))
            return g_lists[i];
    return NULL;
}

const char *codes_text(const char *list, const char *code)
{
    const codes_table *t = list_get(list);
    return t && t->nkeys == 1 ? codes_table_find(t, NULL, code) : NULL;
}

const char *codes_text2(const char *list, const char *element, const char *code)
{
    const codes_table *t = list_get(list);
    if (!t)
        return NULL;
    return codes_table_find(t, t->nkeys == 2 ? element : NULL, code);
}

int codes_deactivated(const char *list, const char *element, const char *code)
{
    const codes_table *t = list_get(list);
    return t ? codes_table_deactivated(t, t->nkeys == 2 ? element : NULL, code) : 0;
}

int codes_list_nkeys(const char *list)
{
    const codes_table *t = list_get(list);
    return t ? t->nkeys : 0;
}

char *codes_describe(char *buf, size_t size, const char *label, const char *list,
                     const char *element, const char *code)
{
    if (size == 0)
        return buf;
    const char *text = element ? codes_text2(list, element, code) : codes_text(list, code);
    snprintf(buf, size, "%s %s (%s)%s", label ? label : list, code ? code : "",
             text ? text : "unknown code",
             text && codes_deactivated(list, element, code) ? " [deactivated code]" : "");
    return buf;
}

const char *codes_source(const char *list)
{
    const codes_table *t = list_get(list);
    return t ? t->source : NULL;
}

size_t codes_count(const char *list) { return codes_table_count(list_get(list)); }
