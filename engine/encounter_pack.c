/*
 * encounter_pack.c - an encounter's values as text (encounter_field_get,
 * encounter_units_str, the enum words) and its ledger form: pack, unpack,
 * content hash and equality (see encounter.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encounter.h"
#include "encounter_int.h"
#include "sha256.h"

/* --- enum words ----------------------------------------------------------- */

const char *encounter_type_name(encounter_type t)
{
    return t == ENC_PROFESSIONAL ? "professional" : t == ENC_INSTITUTIONAL ? "institutional" : "";
}

const char *encounter_type_x12(encounter_type t)
{
    return t == ENC_PROFESSIONAL ? "837P" : t == ENC_INSTITUTIONAL ? "837I" : "";
}

const char *encounter_frequency_name(encounter_frequency f)
{
    return f == ENC_ORIGINAL ? "original" : f == ENC_REPLACEMENT ? "replacement" : f == ENC_VOID ? "void" : "";
}

const char *encounter_relationship_name(encounter_relationship r)
{
    switch (r) {
    case ENC_SELF: return "self";
    case ENC_SPOUSE: return "spouse";
    case ENC_CHILD: return "child";
    case ENC_OTHER: return "other";
    default: return "";
    }
}

/* --- getting values as text ------------------------------------------------ */

/* cents (>= 0) as "125", "125.5", "125.05" into buf (>= 24 bytes) */
static size_t cents_text(int64_t c, char *buf)
{
    size_t n = encounter_put_u(buf, (uint64_t)c / 100);
    unsigned f = (unsigned)((uint64_t)c % 100);
    if (f) {
        buf[n++] = '.';
        buf[n++] = (char)('0' + f / 10);
        if (f % 10)
            buf[n++] = (char)('0' + f % 10);
    }
    buf[n] = '\0';
    return n;
}

void encounter_units_str(int64_t milli, char *buf, size_t size)
{
    char t[32];
    uint64_t m = milli < 0 ? 0 : (uint64_t)milli;
    size_t n = encounter_put_u(t, m / 1000);
    unsigned f = (unsigned)(m % 1000);
    if (f) {
        t[n++] = '.';
        t[n++] = (char)('0' + f / 100);
        if (f % 100) {
            t[n++] = (char)('0' + f / 10 % 10);
            if (f % 10)
                t[n++] = (char)('0' + f % 10);
        }
    }
    encounter_copy_n(buf, size, t, n);
}

static unsigned get_text(const encounter *e, const encounter_field *f, unsigned line, unsigned item,
                         char *buf, size_t size)
{
    const void *src = f->line ? (const void *)((const char *)&e->lines[line] + f->off)
                              : (const void *)((const char *)e + f->off);
    buf[0] = '\0';
    switch (f->kind) {
    case K_TEXT:
    case K_ID:
    case K_CODE:
    case K_DX:
    case K_ZIP:
    case K_DATE:
    case K_HOUR:
        return encounter_copy_text(buf, size, (const char *)src) != 0;
    case K_MONEY: {
        int64_t c = *(const int64_t *)src;
        if (c < 0)
            return 0;
        char t[32];
        cents_text(c, t);
        encounter_copy_text(buf, size, t);
        return 1;
    }
    case K_UNITS: {
        int64_t u = *(const int64_t *)src;
        if (u <= 0)
            return 0;
        encounter_units_str(u, buf, size);
        return 1;
    }
    case K_TYPE:
        return encounter_copy_text(buf, size, encounter_type_name(e->type)) != 0;
    case K_FREQ:
        return encounter_copy_text(buf, size, encounter_frequency_name(e->frequency)) != 0;
    case K_REL:
        return encounter_copy_text(buf, size, encounter_relationship_name(e->relationship)) != 0;
    case K_DXLIST:
        if (item < e->ndiagnoses)
            encounter_copy_text(buf, size, e->diagnoses[item]);
        return e->ndiagnoses;
    case K_MODLIST: {
        const enc_line *l = &e->lines[line];
        if (item < l->nmodifiers)
            encounter_copy_text(buf, size, l->modifiers[item]);
        return l->nmodifiers;
    }
    case K_PTRLIST: {
        const enc_line *l = &e->lines[line];
        if (item < l->npointers && size > 4)
            buf[encounter_put_u(buf, l->pointers[item])] = '\0';
        return l->npointers;
    }
    default:
        return 0;
    }
}

unsigned encounter_field_get(const encounter *e, const encounter_field *f, unsigned line, unsigned item,
                             char *buf, size_t size)
{
    if (f->line && line >= e->nlines) {
        buf[0] = '\0';
        return 0;
    }
    return get_text(e, f, line, item, buf, size);
}

/* --- the ledger form ---------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* inline: gcc inlined it into encounter_pack when this was one file, and
 * no longer does on its own (one call per field of every claim packed) */
static inline void pack_field(sbuf *b, const encounter *e, const encounter_field *f, unsigned line)
{
    char v[128];
    unsigned cnt = get_text(e, f, line, 0, v, sizeof v);
    if (!cnt)
        return;
    if (f->line) {
        char p[32] = "lines[";
        size_t n = 6 + encounter_put_u(p + 6, line);
        p[n++] = ']';
        sb_put(b, p, n);
        sb_str(b, f->path + 7); /* after "lines[]" */
    } else {
        sb_str(b, f->path);
    }
    sb_put(b, "=", 1);
    if (encounter_is_list(f)) {
        for (unsigned i = 0; i < cnt; i++) {
            get_text(e, f, line, i, v, sizeof v);
            if (i)
                sb_put(b, " ", 1);
            sb_str(b, v);
        }
    } else {
        sb_str(b, v);
    }
    sb_put(b, "\n", 1);
}

ch_code encounter_pack(const encounter *e, char **out, size_t *len, ch_error *err)
{
    sbuf b = {NULL, 0, 0, 0};
    sb_str(&b, "encounter/1\n");
    for (unsigned i = 0; i < encounter_nfields; i++) {
        const encounter_field *f = &encounter_fields[i];
        if (f->kind == K_GROUP || f->line)
            continue;
        if (f->kind == K_LINES) {
            if (e->nlines) {
                char t[32] = "lines=";
                size_t n = 6 + encounter_put_u(t + 6, e->nlines);
                t[n++] = '\n';
                sb_put(&b, t, n);
            }
            continue;
        }
        pack_field(&b, e, f, 0);
    }
    for (unsigned l = 0; l < e->nlines; l++)
        for (unsigned i = 0; i < encounter_nfields; i++)
            if (encounter_fields[i].line)
                pack_field(&b, e, &encounter_fields[i], l);
    if (b.oom) {
        free(b.p);
        return ch_error_set(err, CH_ERR_NOMEM, "packing an encounter: out of memory");
    }
    *out = b.p;
    *len = b.n;
    return CH_OK;
}

/* What encounter_unpack_lines reads: the service lines and the statement
 * date their dates default to. */
static int line_field(const char *p, const char *eq)
{
    size_t n = (size_t)(eq - p);
    return (n >= 5 && !memcmp(p, "lines", 5) && (n == 5 || p[5] == '[')) ||
           (n == 28 && !memcmp(p, "institutional.statement_from", 28));
}

static ch_code unpack(encounter *e, const char *buf, size_t len, int lines_only, ch_error *err);

ch_code encounter_unpack(encounter *e, const char *buf, size_t len, ch_error *err)
{
    return unpack(e, buf, len, 0, err);
}

ch_code encounter_unpack_lines(encounter *e, const char *buf, size_t len, ch_error *err)
{
    return unpack(e, buf, len, 1, err);
}

static ch_code unpack(encounter *e, const char *buf, size_t len, int lines_only, ch_error *err)
{
    encounter_zero(e);
    /* a stored form is ours and well formed: a problem stops the unpacking at
     * once, so one slot is enough (ENC_MAX_PROBLEMS would be 32 KB per call) */
    encounter_problems one;
    encounter_problems *probs = &one;
    probs->n = probs->dropped = 0;
    encounter_rd r = {e, probs, 0};
    const char *p = buf, *end = buf + len;
    unsigned lineno = 0;
    ch_code rc = CH_OK;
    while (p < end && rc == CH_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        if (lineno == 1) {
            if ((size_t)(le - p) != 11 || memcmp(p, "encounter/1", 11))
                rc = ch_error_set(err, CH_ERR_INVALID, "packed encounter: unknown format");
            p = le + 1;
            continue;
        }
        const char *eq = memchr(p, '=', (size_t)(le - p));
        if (!eq) {
            rc = ch_error_set(err, CH_ERR_INVALID, "packed encounter: line %u has no '='", lineno);
            break;
        }
        if (lines_only && !line_field(p, eq)) {
            p = le + 1;
            continue;
        }
        char g[128];
        long idx;
        size_t gn = encounter_generic_path(p, (size_t)(eq - p), g, sizeof g, &idx);
        const encounter_field *f = encounter_field_lookup(g, gn);
        const char *v = eq + 1;
        size_t vn = (size_t)(le - v);
        char path[128];
        encounter_copy_n(path, sizeof path, p, (size_t)(eq - p));
        if (!f || f->kind == K_GROUP) {
            rc = ch_error_set(err, CH_ERR_INVALID, "packed encounter: line %u: unknown field %s", lineno, path);
        } else if (f->kind == K_LINES) {
            unsigned long n = strtoul(v, NULL, 10);
            if (e->lines || n == 0 || n > ENC_MAX_LINES) {
                rc = ch_error_set(err, CH_ERR_INVALID, "packed encounter: line %u: bad line count", lineno);
            } else if (!(e->lines = calloc(n, sizeof *e->lines))) {
                rc = ch_error_set(err, CH_ERR_NOMEM, "unpacking an encounter: out of memory");
            } else {
                e->nlines = (unsigned)n;
                for (unsigned i = 0; i < n; i++)
                    encounter_line_init(&e->lines[i]);
            }
        } else if (f->line && (idx < 0 || (unsigned long)idx >= e->nlines)) {
            rc = ch_error_set(err, CH_ERR_INVALID, "packed encounter: line %u: no such service line", lineno);
        } else if (encounter_is_list(f)) {
            const char *s = v, *ve = v + vn;
            while (s < ve) {
                const char *sp = memchr(s, ' ', (size_t)(ve - s));
                const char *ie = sp ? sp : ve;
                char item[64];
                size_t in = encounter_copy_n(item, sizeof item, s, (size_t)(ie - s));
                encounter_add_item(&r, f, f->line ? (unsigned)idx : 0, item, in, path);
                s = ie + 1;
            }
        } else {
            char val[160];
            size_t n = encounter_copy_n(val, sizeof val, v, vn);
            encounter_set_scalar(&r, f, f->line ? (unsigned)idx : 0, val, n, path);
        }
        if (rc == CH_OK && probs->n)
            rc = ch_error_set(err, CH_ERR_INVALID, "packed encounter: line %u: %s: %s", lineno,
                              probs->v[0].path, probs->v[0].msg);
        p = le + 1;
    }
    if (rc != CH_OK) {
        encounter_clear(e);
        return rc;
    }
    encounter_finish(e);
    return CH_OK;
}

void encounter_hash(const char *packed, size_t len, char hex[65]) { sha256_hex_of(packed, len, hex); }

int encounter_equal(const encounter *a, const encounter *b, char *diff, size_t size)
{
    char *pa = NULL, *pb = NULL;
    size_t na = 0, nb = 0;
    if (encounter_pack(a, &pa, &na, NULL) != CH_OK || encounter_pack(b, &pb, &nb, NULL) != CH_OK) {
        free(pa);
        free(pb);
        if (diff && size)
            snprintf(diff, size, "(out of memory)");
        return 0;
    }
    int same = na == nb && !memcmp(pa, pb, na);
    if (!same && diff && size) {
        /* the first line that differs names the field */
        const char *x = pa, *y = pb;
        while (*x && *y) {
            const char *xe = strchr(x, '\n'), *ye = strchr(y, '\n');
            size_t xl = xe ? (size_t)(xe - x) : strlen(x), yl = ye ? (size_t)(ye - y) : strlen(y);
            if (xl != yl || memcmp(x, y, xl))
                break;
            x += xl + (xe != NULL);
            y += yl + (ye != NULL);
        }
        const char *s = *x ? x : y;
        size_t k = strcspn(s, "=\n");
        snprintf(diff, size, "%.*s", (int)k, s);
    }
    free(pa);
    free(pb);
    return same;
}
