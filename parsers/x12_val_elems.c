/*
 * x12_val_elems.c - a placed segment's elements against its guide entry.
 *
 * Per element: not used / too many elements, repetitions, components, data
 * type, length, code list, then the entry's check= (level 5, only when the
 * value passed everything else, so one bad value gives one report).  Then
 * required elements and X12 syntax notes.  Values are zero-copy views into
 * the tokenizer's buffer; nothing is allocated.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "x12_codeset.h"
#include "x12_val_internal.h"

/* Byte classes: one pass over a value tells which checks need a closer look. */
enum { CLS_CTRL = XV_CLS_CTRL, CLS_REP = XV_CLS_REP, CLS_COMP = XV_CLS_COMP,
       CLS_NONDIGIT = XV_CLS_NONDIGIT };

static void build_classes(xv *v, const x12_delims *d)
{
    for (int b = 0; b < 256; b++) {
        uint8_t k = 0;
        if (b < 0x20 || b == 0x7f)
            k |= CLS_CTRL;
        if (b < '0' || b > '9')
            k |= CLS_NONDIGIT;
        v->cls[b] = k;
    }
    if (d->repetition)
        v->cls[(unsigned char)d->repetition] |= CLS_REP;
    v->cls[(unsigned char)d->component] |= CLS_COMP;
    v->cls_for = *d;
    v->plain_delims = 1;
    for (int b = 0; b < 256; b++) {
        int plain = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == ' ';
        if (plain && (v->cls[b] & (CLS_CTRL | CLS_REP | CLS_COMP)))
            v->plain_delims = 0;
    }
}

unsigned xv_scan(const uint8_t *cls, x12_str v)
{
    unsigned m = 0;
    for (size_t i = 0; i < v.len; i++)
        m |= cls[(unsigned char)v.p[i]];
    return m;
}

typedef xv_ectx ectx;

static void report(ectx *c, int level, const char *code, const char *ik4, x12_str found,
                   const char *expected, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void report(ectx *c, int level, const char *code, const char *ik4, x12_str found,
                   const char *expected, const char *fmt, ...)
{
    x12_diag d;
    xv_diag(c->v, &d, NULL, X12_SEV_ERROR, level, code, c->s->tag, c->s->loop);
    snprintf(d.ik3, sizeof d.ik3, "8");
    snprintf(d.ik4, sizeof d.ik4, "%s", ik4);
    d.elem = c->elem;
    d.comp = c->comp;
    d.rep = c->rep;
    if (found.len)
        x12_diag_found(&d, found.p, found.len);
    if (expected)
        snprintf(d.expected, sizeof d.expected, "%s", expected);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d.msg, sizeof d.msg, fmt, ap);
    va_end(ap);
    xv_emit(c->v, &d);
}

static const x12_str none = {"", 0};

static void length_error(ectx *c, const x12_gelem *e, x12_str v, size_t len)
{
    char exp[48];
    if (e->min == e->max)
        snprintf(exp, sizeof exp, "exactly %u characters", e->max);
    else
        snprintf(exp, sizeof exp, "%u to %u characters", e->min, e->max);
    int shrt = len < e->min;
    report(c, 1, shrt ? "element.too_short" : "element.too_long", shrt ? "4" : "5", v, exp,
           "%s is too %s (%zu characters)", e->name, shrt ? "short" : "long", len);
}

/* ---- level 5 ------------------------------------------------------------- */

/* Component 1 and 2 of the composite a check looks at. */
static void qual_code(const ectx *c, x12_str *q, x12_str *code)
{
    if (c->split) {
        *q = c->q1;
        *code = c->q2;
        return;
    }
    char cs = c->seg->delims->component;
    *q = x12_part(c->composite, cs, 1);
    *code = x12_part(c->composite, cs, 2);
}

/* N4 carries a foreign address when N404 (country) is there and not US. */
static int foreign_address(const ectx *c)
{
    if (c->s->tag32 != x12_tag32("N4", 2))
        return 0;
    x12_str country = x12_elem(c->seg, 4);
    return country.len && !x12_eq(country, "US");
}

void xv_codeset(ectx *c, const x12_gelem *e, x12_str v)
{
    x12_str q, code;
    const char *what = NULL;
    switch ((x12_gcheck)e->check) {
    case X12_CHECK_NONE:
    case X12_CHECK__COUNT:
        return;
    case X12_CHECK_NPI:
        if (!x12_npi_ok(v))
            report(c, 5, "codeset.npi", "I12", v, "10 digits ending in the Luhn check digit",
                   "%s is not a valid NPI (%s)", e->name,
                   v.len == 10 && x12_is_digits(v) ? "the check digit is wrong" : "not 10 digits");
        return;
    case X12_CHECK_ICD10CM:
        if (!x12_icd10cm_ok(v))
            report(c, 5, "codeset.icd10cm", "I12", v,
                   "an ICD-10-CM code without the dot: letter, digit, then 1 to 5 letters or digits",
                   "%s does not have the shape of an ICD-10-CM code", e->name);
        return;
    case X12_CHECK_HI:
        qual_code(c, &q, &code);
        if (!x12_hi_ok(q, code, &what)) {
            char exp[96];
            snprintf(exp, sizeof exp, "a %s code (no dot) for qualifier %.*s", what, (int)q.len, q.p);
            report(c, 5, "codeset.hi", "I12", code, exp, "%s does not have the shape of a %s code",
                   e->name, what);
        }
        return;
    case X12_CHECK_PROC:
        qual_code(c, &q, &code);
        if (!x12_proc_ok(q, code))
            report(c, 5, "codeset.proc", "I12", code,
                   "a CPT code (5 digits, or 4 digits and F, T or U) or HCPCS code (letter and 4 digits)",
                   "%s does not have the shape of a CPT or HCPCS code", e->name);
        return;
    case X12_CHECK_DATE:
        if (!x12_valid_date(v) || (v.len != 8 && e->max != 6))
            report(c, 5, "codeset.date", "8", v, "a real calendar date CCYYMMDD",
                   "%s is not a real calendar date", e->name);
        return;
    case X12_CHECK_DTP:
        q = x12_elem(c->seg, (unsigned)c->elem - 1);
        if (!x12_dtp_ok(q, v)) {
            char exp[64];
            snprintf(exp, sizeof exp, "%s", x12_eq(q, "RD8") ? "CCYYMMDD-CCYYMMDD, real dates in order"
                                            : x12_eq(q, "DT") ? "CCYYMMDDHHMM, a real date and time"
                                                              : "a real date CCYYMMDD");
            report(c, 5, "codeset.dtp", "8", v, exp, "%s does not match its format qualifier %.*s",
                   e->name, (int)q.len, q.p);
        }
        return;
    case X12_CHECK_STATE:
        if (!foreign_address(c) && !x12_state_ok(v))
            report(c, 5, "codeset.state", "7", v, "a US state, territory or military code",
                   "%s is not a US state code", e->name);
        return;
    case X12_CHECK_ZIP:
        if (!foreign_address(c) && !x12_zip_ok(v))
            report(c, 5, "codeset.zip", "I12", v, "5 or 9 digits", "%s is not a ZIP code", e->name);
        return;
    case X12_CHECK_TAXONOMY:
        if (!x12_taxonomy_ok(v))
            report(c, 5, "codeset.taxonomy", "I12", v, "9 letters or digits then X",
                   "%s does not have the shape of a provider taxonomy code", e->name);
        return;
    case X12_CHECK_EIN:
        if (!x12_ein_ok(v))
            report(c, 5, "codeset.ein", "I12", v, "9 digits", "%s is not a 9-digit tax id", e->name);
        return;
    }
}

/* ---- one value ----------------------------------------------------------- */

static void bad_code(ectx *c, const x12_gelem *e, x12_str v)
{
    char exp[160];
    x12_gcodes_str(&e->codes, exp, sizeof exp);
    report(c, 2, "element.code", "7", v, exp, "%s is not a code the guide allows here", e->name);
}

/* Check a simple value whose byte classes are m; 1 when it passed (so
 * check= may look at it). */
static int check_simple(ectx *c, const x12_gelem *e, x12_str v, unsigned m)
{
    const char *p = v.p;
    size_t n = v.len, digits = n, i = 0;
    switch ((x12_gtype)e->type) {
    case X12_GT_AN:
    case X12_GT_ID:
        if (m & CLS_CTRL) {
            report(c, 1, "element.character", "6", v, "printable characters",
                   "%s holds a control character", e->name);
            return 0;
        }
        if (e->codes.n && !c->skip_codes) {
            if (!x12_gcodes_has(&e->codes, p, n)) {
                bad_code(c, e, v);
                return 0;
            }
            return 1; /* a listed code has the right length by definition */
        }
        if (n < e->min || n > e->max) {
            length_error(c, e, v, n);
            return 0;
        }
        break;
    case X12_GT_DT:
        if (m & CLS_NONDIGIT) {
            report(c, 1, "element.date", "8", v, e->max == 6 ? "a real date YYMMDD" : "a real date CCYYMMDD",
                   "%s is not a valid date", e->name);
            return 0;
        }
        if (n < e->min || n > e->max) {
            length_error(c, e, v, n);
            return 0;
        }
        if (!x12_valid_date(v)) {
            report(c, 1, "element.date", "8", v, e->max == 6 ? "a real date YYMMDD" : "a real date CCYYMMDD",
                   "%s is not a valid date", e->name);
            return 0;
        }
        break;
    case X12_GT_TM:
        if ((m & CLS_NONDIGIT) || !x12_valid_time(v)) {
            report(c, 1, "element.time", "9", v, "a real time HHMM, HHMMSS or HHMMSSD(D)",
                   "%s is not a valid time", e->name);
            return 0;
        }
        if (n < e->min || n > e->max) {
            length_error(c, e, v, n);
            return 0;
        }
        break;
    case X12_GT_N:
    case X12_GT_R:
        if (m & CLS_NONDIGIT) {
            /* a sign, a decimal point (R), and the digits that count */
            int dots = 0;
            digits = 0;
            if (n && p[0] == '-')
                i = 1;
            for (; i < n; i++) {
                if (p[i] >= '0' && p[i] <= '9')
                    digits++;
                else if (p[i] == '.' && e->type == X12_GT_R && !dots)
                    dots = 1;
                else
                    break;
            }
            if (i < n || digits == 0) {
                report(c, 1, "element.number", "6", v,
                       e->type == X12_GT_R ? "a decimal number such as 125 or -12.50" : "digits only",
                       "%s is not a%s number", e->name, e->type == X12_GT_R ? " decimal" : "n integer");
                return 0;
            }
        }
        if (digits < e->min || digits > e->max) {
            length_error(c, e, v, digits);
            return 0;
        }
        if (e->codes.n && !c->skip_codes && !x12_gcodes_has(&e->codes, p, n)) {
            bad_code(c, e, v);
            return 0;
        }
        break;
    case X12_GT_B:
    case X12_GT_C:
        break;
    }
    return 1;
}

static void not_used(ectx *c, const x12_gelem *e, x12_str v)
{
    char ref[16];
    if (c->comp)
        snprintf(ref, sizeof ref, "%s%02d-%d", c->s->tag, c->elem, c->comp);
    else
        snprintf(ref, sizeof ref, "%s%02d", c->s->tag, c->elem);
    report(c, 2, "element.not_used", "I10", v, "no value",
           "%s%s%s is not used in this guide but has a value", e ? e->name : ref, e ? " (" : "",
           e ? ref : "");
}

/* Whether p/n is one of f's codes: the first two compared as numbers. */
static inline int code_in(const x12_gfast *f, const char *p, size_t n)
{
    if (n <= 7) {
        uint64_t key = (uint64_t)n << 56;
        for (size_t b = 0; b < n; b++)
            key |= (uint64_t)(unsigned char)p[b] << (8 * b);
        if (key == f->code[0] || key == f->code[1])
            return 1;
        if (f->ncodes <= 2)
            return 0;
    }
    return x12_gcodes_has(&f->e->codes, p, n);
}

/* The common case decided inline: 1 when value p/n (byte classes m) with
 * hot summary f certainly passes its type, length and code checks.
 * Anything else goes the slow way, which finds and reports the problem. */
static inline int fast_pass(const x12_gfast *f, const char *p, size_t n, unsigned m)
{
    if (m & (CLS_CTRL | CLS_REP | CLS_COMP))
        return 0;
    switch (f->kind) {
    case X12_FK_TEXT:
        return n >= f->min && n <= f->max;
    case X12_FK_CODE:
        return code_in(f, p, n);
    case X12_FK_NUM:
        return !(m & CLS_NONDIGIT) && n >= f->min && n <= f->max;
    case X12_FK_DATE:
        return !(m & CLS_NONDIGIT) && n >= f->min && n <= f->max && x12_valid_date((x12_str){p, n});
    default:
        return 0;
    }
}

void xv_component(ectx *c, const x12_gelem *e, unsigned j, x12_str cv, unsigned m)
{
    const x12_gelem *k = j <= e->ncomp ? e->comp[j] : NULL;
    if (k && fast_pass(&e->cfast[j], cv.p, cv.len, m)) {
        if (k->check) {
            c->comp = (int)j;
            xv_codeset(c, k, cv);
        }
        return;
    }
    c->comp = (int)j;
    if (c->elem == c->skip_el && (int)j == c->skip_comp) {
        /* the key component: reported when the segment was placed */
    } else if (!k) {
        /* unlisted, like an unlisted element: not used by the guide (the
         * composite's size in the standard is not in the table) */
        not_used(c, NULL, cv);
    } else if (k->usage == 'N') {
        not_used(c, k, cv);
    } else if (check_simple(c, k, cv, m) && k->check) {
        xv_codeset(c, k, cv);
    }
}

static void check_composite(ectx *c, const x12_gelem *e, x12_str v)
{
    const uint8_t *cls = c->cls;
    const char *p = v.p;
    size_t n = v.len, start = 0;
    uint64_t present = 0;
    unsigned j = 1, m = 0;
    c->composite = v;
    /* components 1 and 2 are kept as the pass meets them, for the checks of
     * hi and proc (until both are known they split the composite anew) */
    c->q1 = c->q2 = (x12_str){"", 0};
    c->split = 0;
    /* one pass: split on the component separator, classifying as it goes */
    for (size_t i = 0; i <= n; i++) {
        unsigned k = i < n ? cls[(unsigned char)p[i]] : CLS_COMP;
        if (!(k & CLS_COMP)) {
            m |= k;
            continue;
        }
        if (j <= 2) {
            if (j == 1) {
                c->q1 = (x12_str){p + start, i - start};
            } else {
                c->q2 = (x12_str){p + start, i - start};
                c->split = 1;
            }
        }
        if (i > start) {
            if (j < 64)
                present |= (uint64_t)1 << j;
            xv_component(c, e, j, (x12_str){p + start, i - start}, m);
        }
        j++;
        start = i + 1;
        m = 0;
    }
    c->split = 1;
    xv_composite_end(c, e, v, present);
}

void xv_composite_end(ectx *c, const x12_gelem *e, x12_str v, uint64_t present)
{
    for (unsigned r = 0; r < e->nreq; r++) {
        unsigned q = e->req[r];
        if (q < 64 && !(present & (uint64_t)1 << q)) {
            c->comp = (int)q;
            report(c, 2, "element.missing", "1", none, "a value", "required component %s is missing",
                   e->comp[q]->name);
        }
    }
    c->comp = 0;
    if (e->check)
        xv_codeset(c, e, v);
    c->split = 0;
}

static void check_one(ectx *c, const x12_gelem *e, x12_str v, unsigned m)
{
    if (e->type == X12_GT_C) {
        check_composite(c, e, v);
        return;
    }
    if (m & CLS_COMP) {
        report(c, 1, "element.components", "13", v, "a single value",
               "%s holds a component separator but is not a composite", e->name);
        return;
    }
    c->composite = v;
    if (check_simple(c, e, v, m) && e->check)
        xv_codeset(c, e, v);
}

/* Check element value v whose byte classes are m. */
static void check_element_m(ectx *c, const x12_gelem *e, x12_str v, unsigned m)
{
    if (!(m & CLS_REP)) {
        c->rep = e->reps == 1 ? 0 : 1;
        check_one(c, e, v, m);
        c->rep = 0;
        return;
    }
    char rs = c->seg->delims->repetition;
    const char *p = v.p, *end = v.p + v.len;
    for (unsigned r = 1;; r++) {
        const char *q = memchr(p, rs, (size_t)(end - p));
        x12_str rv = {p, (size_t)((q ? q : end) - p)};
        c->rep = (int)r;
        if (e->reps && r > e->reps) {
            char exp[32];
            snprintf(exp, sizeof exp, "at most %u", e->reps);
            report(c, 1, "element.repeats", "12", none, exp, "%s repeats more often than allowed",
                   e->name);
            break;
        }
        if (rv.len)
            check_one(c, e, rv, xv_scan(c->cls, rv));
        if (!q)
            break;
        p = q + 1;
    }
    c->rep = 0;
}

static void check_element(ectx *c, const x12_gelem *e, x12_str v)
{
    check_element_m(c, e, v, xv_scan(c->cls, v));
}

/* ---- syntax notes -------------------------------------------------------- */

static int has(const x12_segment *seg, uint8_t el, uint8_t comp)
{
    x12_str v = comp ? x12_comp(seg, el, comp) : x12_elem(seg, el);
    return v.len > 0;
}

static void syntax_note(ectx *c, const x12_gsyntax *sn)
{
    unsigned present = 0, first_missing = 0, second_present = 0;
    int first = has(c->seg, sn->pos[0], sn->comp[0]);
    for (unsigned i = 0; i < sn->n; i++) {
        if (has(c->seg, sn->pos[i], sn->comp[i])) {
            present++;
            if (present == 2)
                second_present = i;
        } else if (!first_missing && i) {
            first_missing = i;
        } else if (!first_missing && !i) {
            first_missing = 0x80;
        }
    }
    unsigned at = 0;
    const char *ik4 = "2", *what = NULL;
    switch (sn->kind) {
    case 'P':
        if (present && present < sn->n) {
            at = first_missing == 0x80 ? 0 : first_missing;
            what = "must all be present or all absent";
        }
        break;
    case 'R':
        if (!present)
            what = "need at least one of them present";
        break;
    case 'C':
        if (first && present < sn->n) {
            at = first_missing;
            what = "must all be present when the first is";
        }
        break;
    case 'E':
        if (present > 1) {
            at = second_present;
            ik4 = "10";
            what = "may not be present together (at most one)";
        }
        break;
    case 'L':
        if (first && present == 1) {
            at = 1;
            what = "need one of the others present when the first is";
        }
        break;
    }
    if (!what)
        return;
    char list[96] = "";
    size_t o = 0;
    for (unsigned i = 0; i < sn->n && o < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s%02u", i ? ", " : "", c->s->tag, sn->pos[i]);
    c->elem = sn->pos[at];
    c->comp = sn->comp[at];
    report(c, 1, "element.syntax", ik4, none, NULL, "syntax note %c: %s %s", sn->kind, list, what);
    c->comp = 0;
}

/* ---- the segment --------------------------------------------------------- */

void xv_ectx_init(ectx *c, xv *v, const x12_gseg *s, const x12_segment *seg, int keybad)
{
    const x12_delims *dl = seg->delims;
    if (dl->element != v->cls_for.element || dl->component != v->cls_for.component ||
        dl->repetition != v->cls_for.repetition || dl->segment != v->cls_for.segment ||
        !v->cls_for.component)
        build_classes(v, dl);
    /* field by field: this runs for every segment */
    c->v = v;
    c->s = s;
    c->seg = seg;
    c->elem = c->comp = c->rep = 0;
    c->split = c->skip_codes = 0;
    c->skip_el = keybad ? s->key_el : 0;
    c->skip_comp = keybad ? s->key_comp : 0;
    c->keybad = keybad;
    /* ST03 is checked against the registry's variants when the set opens */
    c->special = keybad || (!s->loop->id && s->tag32 == x12_tag32("ST", 2));
    c->cls = v->cls;
}

void xv_element(ectx *c, unsigned i, const char *p, size_t len)
{
    xv *v = c->v;
    const x12_gseg *s = c->s;
    const uint8_t *cls = c->cls;
    int keybad = c->keybad;
    const x12_gfast *f = i <= s->nel ? &s->fast[i] : NULL;
    unsigned m = 0;
    int scanned = 0;
    if (f && f->kind && !c->special) {
        /* a listed code (letters, digits, spaces) or a real date (digits)
         * passes without looking at byte classes: it has none that
         * matter when the separators are none of those bytes */
        if (v->plain_delims &&
            (f->kind == X12_FK_CODE ? f->plain && code_in(f, p, len)
                                    : f->kind == X12_FK_DATE && len >= f->min && len <= f->max &&
                                          x12_valid_date((x12_str){p, len}))) {
            if (f->check) {
                c->elem = (int)i;
                c->composite = (x12_str){p, len};
                xv_codeset(c, f->e, c->composite);
            }
            return;
        }
        scanned = 1;
        for (size_t k = 0; k < len; k++)
            m |= cls[(unsigned char)p[k]];
        if (f->kind == X12_FK_COMP && !(m & CLS_REP)) {
            c->elem = (int)i;
            check_composite(c, f->e, (x12_str){p, len});
            return;
        }
        if (fast_pass(f, p, len, m)) {
            if (f->check) {
                c->elem = (int)i;
                c->composite = (x12_str){p, len};
                xv_codeset(c, f->e, c->composite);
            }
            return;
        }
    }
    const x12_gelem *e = f ? f->e : NULL;
    x12_str val = {p, len};
    c->elem = (int)i;
    if (!e) {
        if (i <= s->maxpos)
            not_used(c, NULL, val);
        return;
    }
    if (e->usage == 'N') {
        not_used(c, e, val);
        return;
    }
    if (keybad && i == s->key_el && !s->key_comp)
        return; /* the key value: reported when the segment was placed */
    /* ST03 of the header is checked against the registry's variants,
     * not the table's codes; element 03 of any other segment is not */
    c->skip_codes = !keybad && i == 3 && !s->loop->id && s->tag32 == x12_tag32("ST", 2);
    if (scanned)
        check_element_m(c, e, val, m); /* the bytes were classified above */
    else
        check_element(c, e, val);
    c->skip_codes = 0;
}

void xv_elements_end(ectx *c, unsigned last, uint64_t present)
{
    xv *v = c->v;
    const x12_gseg *s = c->s;
    const x12_segment *seg = c->seg;
    unsigned n = seg->nelem;
    const uint32_t *ee = seg->elem_end;
    if (last > s->maxpos) {
        c->elem = (int)last;
        char exp[48];
        snprintf(exp, sizeof exp, "at most %u elements", s->maxpos);
        x12_str lv = x12_elem(seg, last);
        report(c, 1, "element.too_many", "3", lv, exp, "the segment has %u elements", last);
    }
    if (!s->reqmask_ok || (s->reqmask & ~present)) {
        for (unsigned r = 0; r < s->nreq; r++) {
            unsigned i = s->req[r];
            if (i > n || ee[i - 1] + 1 >= ee[i]) {
                c->elem = (int)i;
                report(c, 2, "element.missing", "1", none, "a value", "required element %s is missing",
                       s->el[i]->name);
            }
        }
    }
    for (unsigned k = 0; k < s->nsyntax; k++) {
        const x12_gsyntax *sn = &s->syntax[k];
        if (sn->simple) {
            /* decided on the presence bits; only a violation goes on */
            uint64_t h = present & sn->mask;
            int ok;
            switch (sn->kind) {
            case 'P': ok = !h || h == sn->mask; break;
            case 'R': ok = h != 0; break;
            case 'C': ok = !(h & sn->first) || h == sn->mask; break;
            case 'E': ok = !(h & (h - 1)); break;
            case 'L': ok = !(h & sn->first) || (h & ~sn->first); break;
            default: ok = 0; break;
            }
            if (ok)
                continue;
        }
        syntax_note(c, sn);
    }
    if (n > last && n > 0) {
        x12_diag d;
        xv_diag(v, &d, NULL, X12_SEV_WARNING, 1, "segment.trailing", s->tag, s->loop);
        d.elem = (int)n;
        x12_diag_msg(&d, "the segment ends with %u empty element%s (trailing separators)", n - last,
                     n - last == 1 ? "" : "s");
        x12_diag_expected(&d, "no separator after the last value");
        xv_emit(v, &d);
    }
}

void xv_elements_all(xv *v, const x12_gseg *s, const x12_segment *seg, int keybad)
{
    ectx c;
    xv_ectx_init(&c, v, s, seg, keybad);
    unsigned n = seg->nelem, last = 0;
    const uint32_t *ee = seg->elem_end;
    uint64_t present = 0;
    for (unsigned i = 1; i <= n; i++) {
        uint32_t b = ee[i - 1] + 1, en = ee[i];
        if (b >= en)
            continue;
        last = i;
        if (i < 64)
            present |= (uint64_t)1 << i;
        xv_element(&c, i, seg->raw + b, en - b);
    }
    xv_elements_end(&c, last, present);
}
