/* encounter.c - see encounter.h */
#include "encounter.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "x12_writer.h"

/* --- the field table -------------------------------------------------------
 *
 * One row per thing a document may hold.  The reader, the ledger form
 * (pack/unpack), payer rules and the equality test all walk this table, so
 * adding a field is adding a row (and a struct member).  Groups (mappings)
 * and lists are rows too, so that "is this key known?" is one lookup.
 */
typedef enum fkind {
    K_GROUP = 1, /* a mapping that holds fields */
    K_LINES,     /* the list of service lines */
    K_TEXT,      /* free text: names, addresses */
    K_ID,        /* an identifier, kept as written */
    K_CODE,      /* a code: upper-cased, no spaces */
    K_DX,        /* an ICD-10-CM code: upper-cased, the dot dropped */
    K_ZIP,       /* a ZIP code: the dash of ZIP+4 dropped */
    K_DATE,      /* YYYY-MM-DD or CCYYMMDD -> CCYYMMDD */
    K_HOUR,      /* 0..23 -> "HH" */
    K_MONEY,     /* decimal -> int64 cents */
    K_UNITS,     /* decimal, 3 places -> int64 thousandths */
    K_TYPE,      /* claim_type */
    K_FREQ,      /* frequency */
    K_REL,       /* patient.relationship */
    K_DXLIST,    /* diagnoses: list of K_DX */
    K_MODLIST,   /* lines[].modifiers */
    K_PTRLIST    /* lines[].diagnosis_pointers */
} fkind;

struct encounter_field {
    const char *path;
    unsigned char kind;
    unsigned char phi;
    unsigned char line; /* offsets are into enc_line */
    unsigned short off, size;
};

#define SZ(type, m) ((unsigned short)sizeof(((type *)0)->m))
#define F(p, k, phi, m) {p, k, phi, 0, (unsigned short)offsetof(encounter, m), SZ(encounter, m)}
#define L(p, k, phi, m) {p, k, phi, 1, (unsigned short)offsetof(enc_line, m), SZ(enc_line, m)}
#define G(p) {p, K_GROUP, 0, 0, 0, 0}
#define PERSON(pre, m)                                                                      \
    F(pre ".last_name", K_TEXT, 1, m.last_name), F(pre ".first_name", K_TEXT, 1, m.first_name), \
    F(pre ".middle_name", K_TEXT, 1, m.middle_name), F(pre ".suffix", K_TEXT, 1, m.suffix),     \
    F(pre ".birth_date", K_DATE, 1, m.birth_date), F(pre ".sex", K_CODE, 0, m.sex),             \
    G(pre ".address"), F(pre ".address.line1", K_TEXT, 1, m.address.line1),                    \
    F(pre ".address.line2", K_TEXT, 1, m.address.line2),                                        \
    F(pre ".address.city", K_TEXT, 1, m.address.city),                                          \
    F(pre ".address.state", K_CODE, 0, m.address.state),                                        \
    F(pre ".address.zip", K_ZIP, 1, m.address.zip)
#define PROVIDER(pre, m)                                                                          \
    G(pre), F(pre ".npi", K_CODE, 0, m.npi), F(pre ".last_name", K_TEXT, 0, m.last_name),             \
    F(pre ".first_name", K_TEXT, 0, m.first_name), F(pre ".middle_name", K_TEXT, 0, m.middle_name), \
    F(pre ".taxonomy", K_CODE, 0, m.taxonomy)

static const encounter_field fields[] = {
    F("encounter_id", K_ID, 0, encounter_id),
    F("practice", K_ID, 0, practice),
    F("payer", K_ID, 0, payer),
    {"claim_type", K_TYPE, 0, 0, (unsigned short)offsetof(encounter, type), SZ(encounter, type)},
    {"frequency", K_FREQ, 0, 0, (unsigned short)offsetof(encounter, frequency), SZ(encounter, frequency)},
    F("payer_claim_number", K_ID, 0, payer_claim_number),
    F("prior_authorization", K_ID, 0, prior_authorization),
    F("referral_number", K_ID, 0, referral_number),
    F("medical_record_number", K_ID, 1, medical_record_number),
    {"total_charge", K_MONEY, 0, 0, (unsigned short)offsetof(encounter, stated_total), SZ(encounter, stated_total)},
    F("place_of_service", K_CODE, 0, place_of_service),
    F("onset_date", K_DATE, 1, onset_date),
    G("subscriber"),
    F("subscriber.member_id", K_ID, 1, member_id),
    F("subscriber.group_number", K_ID, 0, group_number),
    PERSON("subscriber", subscriber),
    G("patient"),
    {"patient.relationship", K_REL, 0, 0, (unsigned short)offsetof(encounter, relationship), SZ(encounter, relationship)},
    PERSON("patient", patient),
    G("providers"),
    PROVIDER("providers.rendering", rendering),
    PROVIDER("providers.referring", referring),
    PROVIDER("providers.attending", attending),
    PROVIDER("providers.operating", operating),
    {"diagnoses", K_DXLIST, 1, 0, (unsigned short)offsetof(encounter, diagnoses), SZ(encounter, diagnoses)},
    G("institutional"),
    F("institutional.type_of_bill", K_CODE, 0, type_of_bill),
    F("institutional.statement_from", K_DATE, 1, statement_from),
    F("institutional.statement_to", K_DATE, 1, statement_to),
    F("institutional.admission_date", K_DATE, 1, admission_date),
    F("institutional.admission_hour", K_HOUR, 0, admission_hour),
    F("institutional.admission_type", K_CODE, 0, admission_type),
    F("institutional.admission_source", K_CODE, 0, admission_source),
    F("institutional.discharge_hour", K_HOUR, 0, discharge_hour),
    F("institutional.patient_status", K_CODE, 0, patient_status),
    F("institutional.admitting_diagnosis", K_DX, 1, admitting_diagnosis),
    {"lines", K_LINES, 0, 0, 0, 0},
    L("lines[].procedure", K_CODE, 0, procedure),
    {"lines[].modifiers", K_MODLIST, 0, 1, (unsigned short)offsetof(enc_line, modifiers), SZ(enc_line, modifiers)},
    L("lines[].units", K_UNITS, 0, units_milli),
    L("lines[].charge", K_MONEY, 0, charge),
    L("lines[].date", K_DATE, 1, date_from),
    L("lines[].date_to", K_DATE, 1, date_to),
    L("lines[].place_of_service", K_CODE, 0, place_of_service),
    {"lines[].diagnosis_pointers", K_PTRLIST, 0, 1, (unsigned short)offsetof(enc_line, pointers), SZ(enc_line, pointers)},
    L("lines[].revenue_code", K_CODE, 0, revenue_code),
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* Paths are looked up for every key of every document: an open-addressing
 * hash built once keeps that to one hash and one compare. */
#define HSIZE 512
static short htab[HSIZE];
static pthread_once_t hinit = PTHREAD_ONCE_INIT;

static unsigned phash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void build_hash(void)
{
    for (unsigned i = 0; i < HSIZE; i++)
        htab[i] = -1;
    for (unsigned i = 0; i < NFIELDS; i++) {
        unsigned h = phash(fields[i].path, strlen(fields[i].path)) & (HSIZE - 1);
        while (htab[h] >= 0)
            h = (h + 1) & (HSIZE - 1);
        htab[h] = (short)i;
    }
}

static const encounter_field *lookup(const char *p, size_t n)
{
    pthread_once(&hinit, build_hash);
    unsigned h = phash(p, n) & (HSIZE - 1);
    for (; htab[h] >= 0; h = (h + 1) & (HSIZE - 1)) {
        const encounter_field *f = &fields[htab[h]];
        if (!strncmp(f->path, p, n) && f->path[n] == '\0')
            return f;
    }
    return NULL;
}

/* "lines[12].charge" -> "lines[].charge" (and the index) */
static size_t generic_path(const char *p, size_t n, char *out, size_t size, long *index)
{
    size_t o = 0;
    *index = -1;
    for (size_t i = 0; i < n && o + 1 < size; i++) {
        out[o++] = p[i];
        if (p[i] == '[') {
            long v = 0;
            size_t j = i + 1;
            while (j < n && p[j] >= '0' && p[j] <= '9' && v < 100000)
                v = v * 10 + (p[j++] - '0');
            if (j < n && p[j] == ']' && j > i + 1) {
                *index = v;
                i = j - 1;
            }
        }
    }
    out[o] = '\0';
    return o;
}

const encounter_field *encounter_field_find(const char *path)
{
    char g[128];
    long idx;
    size_t n = generic_path(path, strlen(path), g, sizeof g, &idx);
    const encounter_field *f = lookup(g, n);
    return f && f->kind != K_GROUP && f->kind != K_LINES ? f : NULL;
}

const char *encounter_field_path(const encounter_field *f) { return f->path; }
int encounter_field_is_phi(const encounter_field *f) { return f->phi; }
int encounter_field_is_line(const encounter_field *f) { return f->line; }
int encounter_field_is_list(const encounter_field *f)
{
    return f->kind == K_DXLIST || f->kind == K_MODLIST || f->kind == K_PTRLIST;
}

/* --- problems ----------------------------------------------------------- */

void encounter_problem_add(encounter_problems *p, const char *path, const char *fmt, ...)
{
    if (p->n >= ENC_MAX_PROBLEMS) {
        p->dropped++;
        return;
    }
    encounter_problem *q = &p->v[p->n++];
    snprintf(q->path, sizeof q->path, "%s", path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->msg, sizeof q->msg, fmt, ap);
    va_end(ap);
    q->line = q->col = 0;
}

void encounter_problems_locate(encounter_problems *p, const ydoc_node *doc)
{
    for (unsigned i = 0; i < p->n; i++) {
        encounter_problem *q = &p->v[i];
        if (q->line)
            continue;
        /* the field itself, or the nearest enclosing thing that exists */
        char path[sizeof q->path];
        snprintf(path, sizeof path, "%s", q->path);
        const ydoc_node *n = NULL;
        for (;;) {
            n = path[0] ? ydoc_find(doc, path) : doc;
            if (n || !path[0])
                break;
            char *cut = strrchr(path, '.');
            char *br = strrchr(path, '[');
            if (br && (!cut || br > cut))
                cut = br;
            if (!cut)
                path[0] = '\0';
            else
                *cut = '\0';
        }
        if (n) {
            q->line = n->line;
            q->col = n->col;
        }
    }
}

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

/* --- init / clear ----------------------------------------------------------- */

void encounter_init(encounter *e)
{
    memset(e, 0, sizeof *e);
    e->stated_total = -1;
}

void encounter_clear(encounter *e)
{
    free(e->lines);
    encounter_init(e);
}

static void line_init(enc_line *l)
{
    memset(l, 0, sizeof *l);
    l->charge = -1;       /* absent: the checker requires it */
    l->units_milli = -1;  /* absent: one unit */
}

/* --- setting values from text ---------------------------------------------- */

typedef struct rd {
    encounter *e;
    encounter_problems *probs;
    unsigned start; /* probs->n + dropped when this read began */
} rd;

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

/* Copies and numbers without printf: packing and unpacking run for every
 * claim taken in and every claim batched. */
static size_t copy_text(char *buf, size_t size, const char *s)
{
    size_t n = strnlen(s, size - 1);
    memcpy(buf, s, n);
    buf[n] = '\0';
    return n;
}

static size_t copy_n(char *buf, size_t size, const char *s, size_t n)
{
    if (n > size - 1)
        n = size - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return n;
}

/* decimal digits of v, no NUL; returns the length */
static size_t put_u(char *out, uint64_t v)
{
    char t[24];
    size_t n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = t[n - 1 - i];
    return n;
}

/* cents (>= 0) as "125", "125.5", "125.05" into buf (>= 24 bytes) */
static size_t cents_text(int64_t c, char *buf)
{
    size_t n = put_u(buf, (uint64_t)c / 100);
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
    size_t n = put_u(t, m / 1000);
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
    copy_n(buf, size, t, n);
}

static void *slot(encounter *e, const encounter_field *f, unsigned line)
{
    if (f->line)
        return (char *)&e->lines[line] + f->off;
    return (char *)e + f->off;
}

/* Copy text into a fixed string field, checking length and characters. */
static int set_str(rd *r, const encounter_field *f, char *dst, const char *s, size_t n, const char *path)
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
static void set_scalar(rd *r, const encounter_field *f, unsigned line, const char *s, size_t n,
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
static void add_item(rd *r, const encounter_field *f, unsigned line, const char *s, size_t n, const char *path)
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

/* --- reading a document --------------------------------------------------- */

/* Path buffers: `gp` is the table path ("lines[].charge"), `rp` the one
 * reported ("lines[3].charge"). */
typedef struct pathbuf {
    char gp[128], rp[128];
    size_t gn, rn;
} pathbuf;

static void walk_map(rd *r, const ydoc_node *map, pathbuf *pb, int line);

static void push_key(pathbuf *pb, const char *k, size_t kn, size_t *gsave, size_t *rsave)
{
    *gsave = pb->gn;
    *rsave = pb->rn;
    if (pb->gn && pb->gn + 1 < sizeof pb->gp)
        pb->gp[pb->gn++] = '.';
    if (pb->rn && pb->rn + 1 < sizeof pb->rp)
        pb->rp[pb->rn++] = '.';
    size_t g = kn < sizeof pb->gp - 1 - pb->gn ? kn : sizeof pb->gp - 1 - pb->gn;
    memcpy(pb->gp + pb->gn, k, g);
    pb->gn += g;
    pb->gp[pb->gn] = '\0';
    size_t rr = kn < sizeof pb->rp - 1 - pb->rn ? kn : sizeof pb->rp - 1 - pb->rn;
    memcpy(pb->rp + pb->rn, k, rr);
    pb->rn += rr;
    pb->rp[pb->rn] = '\0';
}

static void pop_key(pathbuf *pb, size_t gsave, size_t rsave)
{
    pb->gn = gsave;
    pb->gp[gsave] = '\0';
    pb->rn = rsave;
    pb->rp[rsave] = '\0';
}

static void read_list(rd *r, const encounter_field *f, const ydoc_node *v, pathbuf *pb, int line)
{
    if (v->kind == YDOC_SCALAR) {
        /* a single value where a list is expected: `modifiers: 25` */
        add_item(r, f, (unsigned)line, v->str, v->len, pb->rp);
        return;
    }
    if (v->kind != YDOC_SEQ) {
        encounter_problem_add(r->probs, pb->rp, "expected a list, found %s", ydoc_kind_name(v));
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        const ydoc_node *it = v->items[i];
        char p[160];
        size_t k = copy_n(p, sizeof p - 24, pb->rp, pb->rn);
        p[k++] = '[';
        k += put_u(p + k, i);
        p[k++] = ']';
        p[k] = '\0';
        if (it->kind != YDOC_SCALAR) {
            encounter_problem_add(r->probs, p, "expected a value, found %s", ydoc_kind_name(it));
            continue;
        }
        if (ydoc_is_null(it))
            continue;
        add_item(r, f, (unsigned)line, it->str, it->len, p);
    }
}

static void read_lines(rd *r, const ydoc_node *v, pathbuf *pb)
{
    if (v->kind != YDOC_SEQ) {
        encounter_problem_add(r->probs, pb->rp, "expected a list of service lines, found %s", ydoc_kind_name(v));
        return;
    }
    if (v->n > ENC_MAX_LINES) {
        encounter_problem_add(r->probs, pb->rp, "%zu service lines; at most %d", v->n, ENC_MAX_LINES);
        return;
    }
    if (!v->n)
        return;
    encounter *e = r->e;
    e->lines = calloc(v->n, sizeof *e->lines);
    if (!e->lines) {
        encounter_problem_add(r->probs, pb->rp, "out of memory");
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        line_init(&e->lines[i]);
        const ydoc_node *it = v->items[i];
        size_t gs = pb->gn, rs = pb->rn;
        /* "lines" is short: the buffers always have room for the index */
        memcpy(pb->gp + pb->gn, "[]", 3);
        pb->gn += 2;
        pb->rp[pb->rn++] = '[';
        pb->rn += put_u(pb->rp + pb->rn, i);
        pb->rp[pb->rn++] = ']';
        pb->rp[pb->rn] = '\0';
        if (it->kind != YDOC_MAP)
            encounter_problem_add(r->probs, pb->rp, "expected a service line (a mapping), found %s",
                                  ydoc_kind_name(it));
        else
            walk_map(r, it, pb, (int)i);
        pop_key(pb, gs, rs);
    }
    e->nlines = (unsigned)v->n;
}

static void walk_map(rd *r, const ydoc_node *map, pathbuf *pb, int line)
{
    for (size_t i = 0; i < map->n; i++) {
        const ydoc_node *k = map->items[2 * i], *v = map->items[2 * i + 1];
        size_t gs, rs;
        push_key(pb, k->str, k->len, &gs, &rs);
        const encounter_field *f = lookup(pb->gp, pb->gn);
        if (!f) {
            encounter_problem_add(r->probs, pb->rp, "unknown field");
        } else if (ydoc_is_null(v)) {
            /* written but empty: the same as left out */
        } else if (f->kind == K_GROUP) {
            if (v->kind != YDOC_MAP)
                encounter_problem_add(r->probs, pb->rp, "expected a mapping, found %s", ydoc_kind_name(v));
            else
                walk_map(r, v, pb, line);
        } else if (f->kind == K_LINES) {
            read_lines(r, v, pb);
        } else if (encounter_field_is_list(f)) {
            read_list(r, f, v, pb, line);
        } else if (v->kind != YDOC_SCALAR) {
            encounter_problem_add(r->probs, pb->rp, "expected a value, found %s", ydoc_kind_name(v));
        } else {
            set_scalar(r, f, line < 0 ? 0 : (unsigned)line, v->str, v->len, pb->rp);
        }
        pop_key(pb, gs, rs);
    }
}

/* Defaults and derived values, the same after reading and unpacking. */
static void finish(encounter *e)
{
    if (e->frequency == ENC_FREQ_NONE)
        e->frequency = ENC_ORIGINAL;
    static const enc_person nobody;
    if (e->relationship == ENC_REL_NONE && !memcmp(&e->patient, &nobody, sizeof nobody))
        e->relationship = ENC_SELF; /* no patient given: the subscriber is the patient */
    e->total_charge = 0;
    for (unsigned i = 0; i < e->nlines; i++) {
        enc_line *l = &e->lines[i];
        if (l->units_milli < 0)
            l->units_milli = 1000;
        /* a professional line points at the principal diagnosis unless told */
        if (e->type == ENC_PROFESSIONAL && l->npointers == 0 && e->ndiagnoses > 0)
            l->pointers[l->npointers++] = 1;
        if (l->charge > 0)
            e->total_charge += l->charge;
    }
}

ch_code encounter_read(encounter *e, const ydoc_node *doc, encounter_problems *probs)
{
    encounter_init(e);
    rd r = {e, probs, probs->n + probs->dropped};
    if (!doc || doc->kind != YDOC_MAP) {
        encounter_problem_add(probs, "", "expected an encounter (a mapping of fields), found %s",
                              doc ? ydoc_kind_name(doc) : "an empty document");
        return CH_ERR_INVALID;
    }
    pathbuf pb;
    pb.gn = pb.rn = 0;
    pb.gp[0] = pb.rp[0] = '\0';
    walk_map(&r, doc, &pb, -1);
    finish(e);
    return probs->n + probs->dropped > r.start ? CH_ERR_INVALID : CH_OK;
}

/* --- getting values as text ------------------------------------------------ */

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
        return copy_text(buf, size, (const char *)src) != 0;
    case K_MONEY: {
        int64_t c = *(const int64_t *)src;
        if (c < 0)
            return 0;
        char t[32];
        cents_text(c, t);
        copy_text(buf, size, t);
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
        return copy_text(buf, size, encounter_type_name(e->type)) != 0;
    case K_FREQ:
        return copy_text(buf, size, encounter_frequency_name(e->frequency)) != 0;
    case K_REL:
        return copy_text(buf, size, encounter_relationship_name(e->relationship)) != 0;
    case K_DXLIST:
        if (item < e->ndiagnoses)
            copy_text(buf, size, e->diagnoses[item]);
        return e->ndiagnoses;
    case K_MODLIST: {
        const enc_line *l = &e->lines[line];
        if (item < l->nmodifiers)
            copy_text(buf, size, l->modifiers[item]);
        return l->nmodifiers;
    }
    case K_PTRLIST: {
        const enc_line *l = &e->lines[line];
        if (item < l->npointers && size > 4)
            buf[put_u(buf, l->pointers[item])] = '\0';
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

static void pack_field(sbuf *b, const encounter *e, const encounter_field *f, unsigned line)
{
    char v[128];
    unsigned cnt = get_text(e, f, line, 0, v, sizeof v);
    if (!cnt)
        return;
    if (f->line) {
        char p[32] = "lines[";
        size_t n = 6 + put_u(p + 6, line);
        p[n++] = ']';
        sb_put(b, p, n);
        sb_str(b, f->path + 7); /* after "lines[]" */
    } else {
        sb_str(b, f->path);
    }
    sb_put(b, "=", 1);
    if (encounter_field_is_list(f)) {
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
    for (unsigned i = 0; i < NFIELDS; i++) {
        const encounter_field *f = &fields[i];
        if (f->kind == K_GROUP || f->line)
            continue;
        if (f->kind == K_LINES) {
            if (e->nlines) {
                char t[32] = "lines=";
                size_t n = 6 + put_u(t + 6, e->nlines);
                t[n++] = '\n';
                sb_put(&b, t, n);
            }
            continue;
        }
        pack_field(&b, e, f, 0);
    }
    for (unsigned l = 0; l < e->nlines; l++)
        for (unsigned i = 0; i < NFIELDS; i++)
            if (fields[i].line)
                pack_field(&b, e, &fields[i], l);
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
    encounter_init(e);
    /* a stored form is ours and well formed: a problem stops the unpacking at
     * once, so one slot is enough (ENC_MAX_PROBLEMS would be 32 KB per call) */
    encounter_problems one;
    encounter_problems *probs = &one;
    probs->n = probs->dropped = 0;
    rd r = {e, probs, 0};
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
        size_t gn = generic_path(p, (size_t)(eq - p), g, sizeof g, &idx);
        const encounter_field *f = lookup(g, gn);
        const char *v = eq + 1;
        size_t vn = (size_t)(le - v);
        char path[128];
        copy_n(path, sizeof path, p, (size_t)(eq - p));
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
                    line_init(&e->lines[i]);
            }
        } else if (f->line && (idx < 0 || (unsigned long)idx >= e->nlines)) {
            rc = ch_error_set(err, CH_ERR_INVALID, "packed encounter: line %u: no such service line", lineno);
        } else if (encounter_field_is_list(f)) {
            const char *s = v, *ve = v + vn;
            while (s < ve) {
                const char *sp = memchr(s, ' ', (size_t)(ve - s));
                const char *ie = sp ? sp : ve;
                char item[64];
                size_t in = copy_n(item, sizeof item, s, (size_t)(ie - s));
                add_item(&r, f, f->line ? (unsigned)idx : 0, item, in, path);
                s = ie + 1;
            }
        } else {
            char val[160];
            size_t n = copy_n(val, sizeof val, v, vn);
            set_scalar(&r, f, f->line ? (unsigned)idx : 0, val, n, path);
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
    finish(e);
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
