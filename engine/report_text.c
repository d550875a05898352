/* report_text.c - see report_text.h */
#include "report_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"

const char report_csv_header[] = "claim_id,pcn,remittance,outcome,state,billed,allowed,paid,patient_responsibility,"
                                 "payer_claim_no,adjustments\n";

int report_buf_reserve(report_buf *b, size_t more)
{
    if (b->cap - b->len >= more)
        return 1;
    size_t c = b->cap ? b->cap : 4096;
    while (c - b->len < more)
        c *= 2;
    char *p = realloc(b->p, c);
    if (!p)
        return 0;
    b->p = p;
    b->cap = c;
    return 1;
}

void report_buf_free(report_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void put(report_buf *b, const void *s, size_t n)
{
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

#define PUT_LIT(b, lit) put((b), (lit), sizeof(lit) - 1)

size_t report_cents(char *dst, int64_t cents)
{
    uint64_t a = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    char t[24];
    size_t n = sizeof t;
    t[--n] = (char)('0' + a % 10);
    t[--n] = (char)('0' + a / 10 % 10);
    t[--n] = '.';
    a /= 100;
    do {
        t[--n] = (char)('0' + a % 10);
        a /= 10;
    } while (a);
    if (cents < 0)
        t[--n] = '-';
    memcpy(dst, t + n, sizeof t - n);
    return sizeof t - n;
}

static size_t put_int(char *dst, int64_t v)
{
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char t[24];
    size_t n = sizeof t;
    do {
        t[--n] = (char)('0' + a % 10);
        a /= 10;
    } while (a);
    if (v < 0)
        t[--n] = '-';
    memcpy(dst, t + n, sizeof t - n);
    return sizeof t - n;
}

/* 1 when the byte must be escaped in a JSON string */
static int json_special(unsigned char c) { return c < 0x20 || c == '"' || c == '\\' || c == 0x7f; }

int report_json_str(report_buf *b, const char *s, size_t n)
{
    /* each byte takes at most 6 ("\u001f") */
    if (!report_buf_reserve(b, n * 6 + 2))
        return 0;
    b->p[b->len++] = '"';
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!json_special(c)) {
            run++;
            continue;
        }
        put(b, s + i - run, run);
        run = 0;
        b->p[b->len++] = '\\';
        switch (c) {
        case '"':
        case '\\':
            b->p[b->len++] = (char)c;
            break;
        case '\n':
            b->p[b->len++] = 'n';
            break;
        case '\r':
            b->p[b->len++] = 'r';
            break;
        case '\t':
            b->p[b->len++] = 't';
            break;
        default: {
            static const char hex[] = "0123456789abcdef";
            char u[5] = {'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(b, u, 5);
        }
        }
    }
    put(b, s + n - run, run);
    b->p[b->len++] = '"';
    return 1;
}

/* s as a CSV field: quoted (and its quotes doubled) when it holds a comma,
 * quote or line break.  0 when out of memory. */
static int csv_field(report_buf *b, const char *s, size_t n)
{
    if (!report_buf_reserve(b, n * 2 + 2))
        return 0;
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        put(b, s, n);
        return 1;
    }
    b->p[b->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            b->p[b->len++] = '"';
        b->p[b->len++] = s[i];
    }
    b->p[b->len++] = '"';
    return 1;
}

/* --- the words of the codes ------------------------------------------------------------ */

/* The length of s up to the first cut (all of s when there is none), trailing
 * blanks left out. */
static size_t text_before(const char *s, const char *cut)
{
    const char *e = strstr(s, cut);
    size_t n = e ? (size_t)(e - s) : strlen(s);
    while (n && s[n - 1] == ' ')
        n--;
    return n;
}

/* The dictionary entry of a code in *v (added when new); its index, or -1
 * when out of memory. */
static long word_of(report_word **v, size_t *n, const char *code, const char *text, size_t text_len)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*v)[i].code, code))
            return (long)i;
    report_word *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    *v = nv;
    report_word *w = &nv[*n];
    memset(w, 0, sizeof *w);
    snprintf(w->code, sizeof w->code, "%s", code);
    report_buf b = {0};
    if (!report_json_str(&b, code, strlen(code)) || !report_buf_reserve(&b, 1)) {
        report_buf_free(&b);
        return -1;
    }
    b.p[b.len++] = ':';
    if (!report_json_str(&b, text, text_len)) {
        report_buf_free(&b);
        return -1;
    }
    w->json = b.p;
    w->json_len = b.len;
    return (long)(*n)++;
}

static uint32_t code_hash(const char *group, const char *reason)
{
    uint32_t h = 2166136261u;
    for (const char *s = group; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    h = (h ^ 0x1f) * 16777619u;
    for (const char *s = reason; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void code_free(report_code *c)
{
    if (c) {
        free(c->csv);
        free(c->json);
        free(c);
    }
}

/* The words of a new code pair; NULL when out of memory. */
static report_code *code_new(report_words *w, const char *group, const char *reason)
{
    report_code *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    snprintf(c->group, sizeof c->group, "%s", group);
    snprintf(c->reason, sizeof c->reason, "%s", reason);
    const char *gt = codes_text2("group_codes", "CAS01", c->group);
    const char *rt = codes_text("carc", c->reason);
    /* A report gives the code's meaning, not the code list's guidance to
     * payers: "Contractual Obligations", not the paragraph after " -- ";
     * a CARC without its "Usage:" note.  The lists keep the whole text. */
    size_t gn = gt ? text_before(gt, " -- ") : 12;
    size_t rn = rt ? text_before(rt, " Usage:") : 12;
    long g = word_of(&w->groups, &w->ngroups, c->group, gt ? gt : "unknown code", gn);
    long r = g < 0 ? -1 : word_of(&w->reasons, &w->nreasons, c->reason, rt ? rt : "unknown code", rn);
    report_buf b = {0};
    size_t gl = strlen(c->group), rl = strlen(c->reason);
    if (r < 0 || !report_buf_reserve(&b, gl + rl + rn + 8))
        goto oom;
    c->group_no = (unsigned)g;
    c->reason_no = (unsigned)r;
    /* "CO-45 " amount " (text)" */
    put(&b, c->group, gl);
    b.p[b.len++] = '-';
    put(&b, c->reason, rl);
    b.p[b.len++] = ' ';
    c->csv_head_len = b.len;
    c->csv_tail = b.len;
    PUT_LIT(&b, " (");
    put(&b, rt ? rt : "unknown code", rn);
    b.p[b.len++] = ')';
    c->csv_tail_len = b.len - c->csv_tail;
    c->csv = b.p;
    memset(&b, 0, sizeof b);
    /* {"group":"CO","reason":"45","amount": */
    if (!report_buf_reserve(&b, 32))
        goto oom;
    PUT_LIT(&b, "{\"group\":");
    if (!report_json_str(&b, c->group, gl) || !report_buf_reserve(&b, 32))
        goto oom;
    PUT_LIT(&b, ",\"reason\":");
    if (!report_json_str(&b, c->reason, rl) || !report_buf_reserve(&b, 32))
        goto oom;
    PUT_LIT(&b, ",\"amount\":");
    c->json = b.p;
    c->json_len = b.len;
    return c;
oom:
    report_buf_free(&b);
    code_free(c);
    return NULL;
}

/* Put code number i (0-based) into the hash of slots. */
static void slot_put(uint32_t *slots, size_t nslots, const report_code *c, uint32_t i)
{
    size_t k = code_hash(c->group, c->reason) & (nslots - 1);
    while (slots[k])
        k = (k + 1) & (nslots - 1);
    slots[k] = i + 1;
}

const report_code *report_words_code(report_words *w, const char *group, const char *reason)
{
    if (w->nslots) {
        size_t k = code_hash(group, reason) & (w->nslots - 1);
        for (; w->slots[k]; k = (k + 1) & (w->nslots - 1)) {
            report_code *c = w->codes[w->slots[k] - 1];
            if (!strcmp(c->group, group) && !strcmp(c->reason, reason))
                return c;
        }
    }
    /* new: the hash kept at most half full */
    if ((w->ncodes + 1) * 2 > w->nslots) {
        size_t ns = w->nslots ? w->nslots * 2 : 64;
        uint32_t *slots = calloc(ns, sizeof *slots);
        if (!slots)
            return NULL;
        for (size_t i = 0; i < w->ncodes; i++)
            slot_put(slots, ns, w->codes[i], (uint32_t)i);
        free(w->slots);
        w->slots = slots;
        w->nslots = ns;
    }
    report_code **v = realloc(w->codes, (w->ncodes + 1) * sizeof *v);
    if (!v)
        return NULL;
    w->codes = v;
    report_code *c = code_new(w, group, reason);
    if (!c)
        return NULL;
    /* the pair may have been cut to its fields' size: look it up as stored */
    for (size_t i = 0; i < w->ncodes; i++)
        if (!strcmp(w->codes[i]->group, c->group) && !strcmp(w->codes[i]->reason, c->reason)) {
            code_free(c);
            return w->codes[i];
        }
    v[w->ncodes] = c;
    slot_put(w->slots, w->nslots, c, (uint32_t)w->ncodes);
    w->ncodes++;
    return c;
}

void report_words_free(report_words *w)
{
    for (size_t i = 0; i < w->ncodes; i++)
        code_free(w->codes[i]);
    free(w->codes);
    free(w->slots);
    for (size_t i = 0; i < w->ngroups; i++)
        free(w->groups[i].json);
    for (size_t i = 0; i < w->nreasons; i++)
        free(w->reasons[i].json);
    free(w->groups);
    free(w->reasons);
    memset(w, 0, sizeof *w);
}

/* --- one posting ---------------------------------------------------------------------- */

static int csv_str(report_buf *b, const char *s) { return csv_field(b, s, strlen(s)); }

static int json_kv(report_buf *b, const char *key_colon, size_t klen, const char *s)
{
    if (!report_buf_reserve(b, klen))
        return 0;
    put(b, key_colon, klen);
    return report_json_str(b, s, strlen(s));
}

#define JSON_KV(b, lit, s) json_kv((b), (lit), sizeof(lit) - 1, (s))

/* ",KEY:" and a money amount (room reserved by the caller) */
static void json_money(report_buf *b, const char *key_colon, size_t klen, int64_t cents)
{
    put(b, key_colon, klen);
    b->len += report_cents(b->p + b->len, cents);
}

#define JSON_MONEY(b, lit, c) json_money((b), (lit), sizeof(lit) - 1, (c))

static int render_csv(const report_row *row, const report_adj *adj, const report_code *const *codes, report_buf *b)
{
    if (!report_buf_reserve(b, 32))
        return 0;
    b->len += put_int(b->p + b->len, row->claim_id);
    b->p[b->len++] = ',';
    if (!csv_str(b, row->pcn) || !report_buf_reserve(b, 1))
        return 0;
    b->p[b->len++] = ',';
    if (!csv_str(b, row->trace_key))
        return 0;
    /* outcome and state are our own words; the amounts 24 bytes each at most */
    if (!report_buf_reserve(b, sizeof row->outcome + sizeof row->state + 4 * 25 + 8))
        return 0;
    b->p[b->len++] = ',';
    put(b, row->outcome, strlen(row->outcome));
    b->p[b->len++] = ',';
    put(b, row->state, strlen(row->state));
    const int64_t m[] = {row->billed, row->allowed, row->paid, row->patient_resp};
    for (size_t i = 0; i < 4; i++) {
        b->p[b->len++] = ',';
        b->len += report_cents(b->p + b->len, m[i]);
    }
    b->p[b->len++] = ',';
    if (!csv_str(b, row->payer_claim_no) || !report_buf_reserve(b, 1))
        return 0;
    b->p[b->len++] = ',';
    /* "CO-45 25.20 (text); PR-2 16.38 (text)": quoted when a text holds a
     * comma or quote (ours never hold a line break) */
    int quote = 0;
    size_t need = 0;
    for (uint32_t i = 0; i < row->nadj; i++) {
        const report_code *c = codes[i];
        need += c->csv_head_len + 24 + c->csv_tail_len + 2;
        quote |= memchr(c->csv, ',', c->csv_head_len) || memchr(c->csv + c->csv_tail, ',', c->csv_tail_len) ||
                 memchr(c->csv, '"', c->csv_head_len) || memchr(c->csv + c->csv_tail, '"', c->csv_tail_len);
    }
    if (!report_buf_reserve(b, need * 2 + 3))
        return 0;
    size_t start = b->len;
    for (uint32_t i = 0; i < row->nadj; i++) {
        const report_code *c = codes[i];
        if (i)
            PUT_LIT(b, "; ");
        put(b, c->csv, c->csv_head_len);
        b->len += report_cents(b->p + b->len, adj[i].cents);
        put(b, c->csv + c->csv_tail, c->csv_tail_len);
    }
    if (quote) {
        /* again, quoted: the field's text is copied aside first */
        size_t n = b->len - start;
        char *t = malloc(n ? n : 1);
        if (!t)
            return 0;
        memcpy(t, b->p + start, n);
        b->len = start;
        int ok = csv_field(b, t, n);
        free(t);
        if (!ok)
            return 0;
    }
    if (!report_buf_reserve(b, 1))
        return 0;
    b->p[b->len++] = '\n';
    return 1;
}

static int render_json(const report_row *row, const report_adj *adj, const report_code *const *codes, report_buf *b)
{
    if (!report_buf_reserve(b, 40))
        return 0;
    PUT_LIT(b, "{\"claim_id\":");
    b->len += put_int(b->p + b->len, row->claim_id);
    if (!JSON_KV(b, ",\"pcn\":", row->pcn) || !JSON_KV(b, ",\"remittance\":", row->trace_key) ||
        !JSON_KV(b, ",\"outcome\":", row->outcome) || !JSON_KV(b, ",\"state\":", row->state) ||
        !report_buf_reserve(b, 4 * 24 + 80))
        return 0;
    JSON_MONEY(b, ",\"billed\":", row->billed);
    JSON_MONEY(b, ",\"allowed\":", row->allowed);
    JSON_MONEY(b, ",\"paid\":", row->paid);
    JSON_MONEY(b, ",\"patient_responsibility\":", row->patient_resp);
    if (!JSON_KV(b, ",\"payer_claim_no\":", row->payer_claim_no))
        return 0;
    size_t need = 40;
    for (uint32_t i = 0; i < row->nadj; i++)
        need += codes[i]->json_len + 24 + 2;
    if (!report_buf_reserve(b, need))
        return 0;
    if (row->reversal)
        PUT_LIT(b, ",\"reversal\":true,\"adjustments\":[");
    else
        PUT_LIT(b, ",\"reversal\":false,\"adjustments\":[");
    for (uint32_t i = 0; i < row->nadj; i++) {
        if (i)
            b->p[b->len++] = ',';
        put(b, codes[i]->json, codes[i]->json_len);
        b->len += report_cents(b->p + b->len, adj[i].cents);
        b->p[b->len++] = '}';
    }
    PUT_LIT(b, "]}");
    return 1;
}

int report_render(const report_row *row, const report_adj *adj, const report_code *const *codes, report_buf *csv,
                  report_buf *json)
{
    return render_csv(row, adj, codes, csv) && render_json(row, adj, codes, json);
}
