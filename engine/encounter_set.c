/*
 * encounter_set.c - setting a field from text: the one place where dates,
 * hours, amounts, units, codes and enum words are read and normalized,
 * for documents (encounter.c) and the packed ledger form (encounter_pack.c)
 * alike (see encounter_int.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "encounter.h"
#include "encounter_int.h"
#include "x12_writer.h"

static int printable_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* YYYY-MM-DD or CCYYMMDD, a real date from 1900 to 2099 -> CCYYMMDD */
static int parse_date(const char *s, size_t n, char out[9])
{
    char d[8];
    if (n == 10 && s[4] == '-' && s[7] == '-') {
        memcpy(d, s, 4);
        memcpy(d + 4, s + 5, 2);
        memcpy(d + 6, s + 8, 2);
    } else if (n == 8) {
        memcpy(d, s, 8);
    } else {
        return 0;
    }
    for (int i = 0; i < 8; i++)
        if (d[i] < '0' || d[i] > '9')
            return 0;
    int y = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
    int m = (d[4] - '0') * 10 + (d[5] - '0');
    int day = (d[6] - '0') * 10 + (d[7] - '0');
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2099 || m < 1 || m > 12 || day < 1)
        return 0;
    if (day > mdays[m - 1] + (m == 2 && is_leap(y)))
        return 0;
    memcpy(out, d, 8);
    out[8] = '\0';
    return 1;
}

/* decimal with at most 3 places -> thousandths; 0 < value < 10^7 */
static int parse_units(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    size_t i = 0;
    int digits = 0, frac = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        if (v > 10000000)
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    v *= 1000;
    if (i < n && s[i] == '.') {
        int scale = 100;
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, frac++) {
            if (frac >= 3) {
                if (s[i] != '0')
                    return 0;
                continue;
            }
            v += (s[i] - '0') * scale;
            scale /= 10;
        }
    }
    if (i != n || (digits == 0 && frac == 0) || v <= 0 || v >= (int64_t)10000000 * 1000)
        return 0;
    *out = v;
    return 1;
}

static void *slot(encounter *e, const encounter_field *f, unsigned line)
{
    if (f->line)
        return (char *)&e->lines[line] + f->off;
    return (char *)e + f->off;
}

/* Copy text into a fixed string field, checking length and characters. */
static int set_str(encounter_rd *r, const encounter_field *f, char *dst, const char *s, size_t n, const char *path)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (!printable_ascii(s, n)) {
        encounter_problem_add(r->probs, path, "holds characters outside the X12 character set (printable ASCII)");
        return 0;
    }
    char tmp[128];
    if (f->kind == K_DX || f->kind == K_DXLIST || f->kind == K_ZIP) {
        /* I10, E11.9, e119: the dot is for people, X12 leaves it out;
         * likewise the dash of a ZIP+4 */
        char drop = f->kind == K_ZIP ? '-' : '.';
        size_t o = 0;
        for (size_t i = 0; i < n && o < sizeof tmp - 1; i++)
            if (s[i] != drop)
                tmp[o++] = s[i];
        s = tmp;
        n = o;
    }
    size_t max = f->kind == K_DXLIST || f->kind == K_DX ? 7 : (size_t)f->size - 1;
    if (n > max) {
        encounter_problem_add(r->probs, path, "longer than %zu characters", max);
        return 0;
    }
    int code = f->kind == K_CODE || f->kind == K_DX || f->kind == K_DXLIST || f->kind == K_MODLIST ||
               f->kind == K_ZIP;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (code && c == ' ') {
            encounter_problem_add(r->probs, path, "a code holds no spaces");
            return 0;
        }
        dst[i] = code && c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
    }
    dst[n] = '\0';
    return 1;
}

/* Quote a value in a message only when the field is not PHI. */
static const char *shown(const encounter_field *f, const char *s, char *buf, size_t size)
{
    if (f->phi)
        return "";
    snprintf(buf, size, "'%.40s' is ", s);
    return buf;
}

/* Set a scalar (non-list) field from text.  Empty text means absent. */
void encounter_set_scalar(encounter_rd *r, const encounter_field *f, unsigned line, const char *s, size_t n,
                          const char *path)
{
    void *dst = slot(r->e, f, line);
    char q[64];
    switch (f->kind) {
    case K_TEXT:
    case K_ID:
    case K_CODE:
    case K_DX:
    case K_ZIP:
        set_str(r, f, dst, s, n, path);
        return;
    case K_DATE:
        if (!parse_date(s, n, dst))
            encounter_problem_add(r->probs, path, "%snot a date (write YYYY-MM-DD)", shown(f, s, q, sizeof q));
        return;
    case K_HOUR: {
        unsigned h = 0;
        if (n < 1 || n > 2 || s[0] < '0' || s[0] > '9' || (n == 2 && (s[1] < '0' || s[1] > '9')) ||
            (h = n == 2 ? (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0') : (unsigned)(s[0] - '0')) > 23) {
            encounter_problem_add(r->probs, path, "%snot an hour (0 to 23)", shown(f, s, q, sizeof q));
            return;
        }
        snprintf(dst, 3, "%02u", h);
        return;
    }
    case K_MONEY: {
        int64_t c;
        if (x12_parse_cents(s, n, &c) != CH_OK || c > INT64_C(99999999999)) {
            encounter_problem_add(r->probs, path, "%snot an amount (digits with at most 2 decimals, e.g. 125.00)",
                                  shown(f, s, q, sizeof q));
            return;
        }
        *(int64_t *)dst = c;
        return;
    }
    case K_UNITS:
        if (!parse_units(s, n, dst))
            encounter_problem_add(r->probs, path, "%snot a number of units (more than 0, at most 3 decimals)",
                                  shown(f, s, q, sizeof q));
        return;
    case K_TYPE: {
        encounter_type *t = dst;
        if (!strcmp(s, "professional") || !strcmp(s, "837P"))
            *t = ENC_PROFESSIONAL;
        else if (!strcmp(s, "institutional") || !strcmp(s, "837I"))
            *t = ENC_INSTITUTIONAL;
        else
            encounter_problem_add(r->probs, path, "'%.40s' is not one of professional, institutional", s);
        return;
    }
    case K_FREQ: {
        encounter_frequency *fr = dst;
        if (!strcmp(s, "original") || !strcmp(s, "1"))
            *fr = ENC_ORIGINAL;
        else if (!strcmp(s, "replacement") || !strcmp(s, "7"))
            *fr = ENC_REPLACEMENT;
        else if (!strcmp(s, "void") || !strcmp(s, "8"))
            *fr = ENC_VOID;
        else
            encounter_problem_add(r->probs, path, "'%.40s' is not one of original, replacement, void", s);
        return;
    }
    case K_REL: {
        encounter_relationship *rel = dst;
        if (!strcmp(s, "self"))
            *rel = ENC_SELF;
        else if (!strcmp(s, "spouse"))
            *rel = ENC_SPOUSE;
        else if (!strcmp(s, "child"))
            *rel = ENC_CHILD;
        else if (!strcmp(s, "other"))
            *rel = ENC_OTHER;
        else
            encounter_problem_add(r->probs, path, "'%.40s' is not one of self, spouse, child, other", s);
        return;
    }
    default:
        encounter_problem_add(r->probs, path, "expected a list");
        return;
    }
}

/* Add one item to a list field. */
void encounter_add_item(encounter_rd *r, const encounter_field *f, unsigned line, const char *s, size_t n,
                        const char *path)
{
    encounter *e = r->e;
    switch (f->kind) {
    case K_DXLIST:
        if (e->ndiagnoses >= ENC_MAX_DX) {
            encounter_problem_add(r->probs, path, "more than %d diagnoses", ENC_MAX_DX);
            return;
        }
        if (set_str(r, f, e->diagnoses[e->ndiagnoses], s, n, path))
            e->ndiagnoses++;
        return;
    case K_MODLIST: {
        enc_line *l = &e->lines[line];
        if (l->nmodifiers >= ENC_MAX_MODIFIERS) {
            encounter_problem_add(r->probs, path, "more than %d modifiers", ENC_MAX_MODIFIERS);
            return;
        }
        if (n > 2 || !set_str(r, f, l->modifiers[l->nmodifiers], s, n, path)) {
            if (n > 2)
                encounter_problem_add(r->probs, path, "'%.20s' is not a modifier (2 letters or digits)", s);
            return;
        }
        l->nmodifiers++;
        return;
    }
    case K_PTRLIST: {
        enc_line *l = &e->lines[line];
        if (l->npointers >= ENC_MAX_POINTERS) {
            encounter_problem_add(r->probs, path, "more than %d diagnosis pointers", ENC_MAX_POINTERS);
            return;
        }
        unsigned v = 0;
        size_t i = 0;
        for (; i < n && s[i] >= '0' && s[i] <= '9' && v < 1000; i++)
            v = v * 10 + (unsigned)(s[i] - '0');
        if (i == 0 || i != n || v < 1 || v > ENC_MAX_DX) {
            encounter_problem_add(r->probs, path, "'%.20s' is not a diagnosis number (1 to %d)", s, ENC_MAX_DX);
            return;
        }
        l->pointers[l->npointers++] = (unsigned char)v;
        return;
    }
    default:
        return;
    }
}
