/* x12_envelope.c - envelope checks and summaries (see x12_envelope.h) */
#include "x12_envelope.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct x12_env {
    const char *name;
    x12_env_events ev;
    x12_diag_fn on_diag;
    void *diag_ctx;
    int in_isa, in_gs, in_st;
    x12_isa_info isa;
    x12_gs_info gs;
    x12_st_info st;
    unsigned ninterchanges, nerrors;
};

/* ---- small checks -------------------------------------------------------- */

int x12_is_digits(x12_str s)
{
    if (s.len == 0)
        return 0;
    for (size_t i = 0; i < s.len; i++)
        if (s.p[i] < '0' || s.p[i] > '9')
            return 0;
    return 1;
}

static int num(const char *p, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

int x12_valid_date(x12_str s)
{
    if ((s.len != 8 && s.len != 6) || !x12_is_digits(s))
        return 0;
    int y, m, d;
    if (s.len == 8) {
        y = num(s.p, 4);
        m = num(s.p + 4, 2);
        d = num(s.p + 6, 2);
    } else {
        y = 2000 + num(s.p, 2);
        m = num(s.p + 2, 2);
        d = num(s.p + 4, 2);
    }
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1800 || m < 1 || m > 12 || d < 1)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int max = mdays[m - 1] + (m == 2 && leap);
    return d <= max;
}

int x12_valid_time(x12_str s)
{
    if (s.len < 4 || s.len > 8 || s.len == 5 || !x12_is_digits(s))
        return 0;
    if (num(s.p, 2) > 23 || num(s.p + 2, 2) > 59)
        return 0;
    if (s.len >= 6 && num(s.p + 4, 2) > 59)
        return 0;
    return 1;
}

/* ---- reporting ----------------------------------------------------------- */

typedef struct ack_codes {
    const char *ik5, *ak9, *ta1;
} ack_codes;

static void report(x12_env *e, const x12_segment *seg, const x12_pos *pos, x12_severity sev,
                   const char *code, int elem, ack_codes ack, x12_str found,
                   const char *expected, const char *fmt, ...)
    __attribute__((format(printf, 10, 11)));

static void report(x12_env *e, const x12_segment *seg, const x12_pos *pos, x12_severity sev,
                   const char *code, int elem, ack_codes ack, x12_str found,
                   const char *expected, const char *fmt, ...)
{
    x12_diag d;
    x12_diag_init(&d, e->name, seg ? &seg->pos : pos, sev, 1, code);
    if (seg)
        x12_copy(seg->tag, d.tag, sizeof d.tag);
    d.elem = elem;
    if (ack.ik5)
        snprintf(d.ik5, sizeof d.ik5, "%s", ack.ik5);
    if (ack.ak9)
        snprintf(d.ak9, sizeof d.ak9, "%s", ack.ak9);
    if (ack.ta1)
        snprintf(d.ta1, sizeof d.ta1, "%s", ack.ta1);
    if (found.len)
        x12_diag_found(&d, found.p, found.len);
    if (expected)
        snprintf(d.expected, sizeof d.expected, "%s", expected);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d.msg, sizeof d.msg, fmt, ap);
    va_end(ap);
    if (sev >= X12_SEV_ERROR)
        e->nerrors++;
    if (e->on_diag)
        e->on_diag(e->diag_ctx, &d);
}

static const x12_str none = {"", 0};
#define ACK(a, b, c) ((ack_codes){a, b, c})

/* ---- closing ------------------------------------------------------------- */

static void close_st(x12_env *e, const x12_segment *seg, const x12_pos *pos)
{
    if (!e->in_st)
        return;
    if (!e->st.closed)
        report(e, seg, pos, X12_SEV_ERROR, "envelope.se_missing", 0, ACK("2", NULL, NULL), none,
               "an SE before the next envelope segment",
               "transaction set %s (ST02 %s) has no SE trailer", e->st.id, e->st.control);
    if (e->ev.st_close)
        e->ev.st_close(e->ev.ctx, &e->gs, &e->st);
    e->in_st = 0;
}

static void close_gs(x12_env *e, const x12_segment *seg, const x12_pos *pos)
{
    close_st(e, seg, pos);
    if (!e->in_gs)
        return;
    if (!e->gs.closed)
        report(e, seg, pos, X12_SEV_ERROR, "envelope.ge_missing", 0, ACK(NULL, "3", NULL), none,
               "a GE before the next envelope segment",
               "functional group %s (GS06 %s) has no GE trailer", e->gs.fid, e->gs.control);
    if (e->ev.gs_close)
        e->ev.gs_close(e->ev.ctx, &e->isa, &e->gs);
    e->in_gs = 0;
}

static void close_isa(x12_env *e, const x12_segment *seg, const x12_pos *pos)
{
    close_gs(e, seg, pos);
    if (!e->in_isa)
        return;
    if (!e->isa.closed)
        report(e, seg, pos, X12_SEV_ERROR, "envelope.iea_missing", 0, ACK(NULL, NULL, "023"), none,
               "an IEA trailer", "interchange %s has no IEA trailer", e->isa.control);
    if (e->ev.isa_close)
        e->ev.isa_close(e->ev.ctx, &e->isa);
    e->in_isa = 0;
}

/* ---- opening ------------------------------------------------------------- */

static void copy_trim(char *dst, size_t size, x12_str s)
{
    while (s.len && s.p[s.len - 1] == ' ')
        s.len--;
    x12_copy(s, dst, size);
}

static int in_list(x12_str s, const char *const *list)
{
    for (; *list; list++)
        if (x12_eq(s, *list))
            return 1;
    return 0;
}

static void check_code(x12_env *e, const x12_segment *seg, unsigned el, const char *const *list,
                       const char *expected, ack_codes ack)
{
    x12_str v = x12_elem(seg, el);
    if (!in_list(v, list))
        report(e, seg, NULL, X12_SEV_ERROR, "envelope.isa_code", (int)el, ack, v, expected,
               "ISA%02u holds a code the standard does not define", el);
}

/* ISA05 / ISA07: the interchange ID qualifiers of the X12 standard. */
static const char *const idq[] = {"01", "14", "20", "27", "28", "29", "30", "33", "ZZ", NULL};

int x12_isa_qualifier_ok(x12_str s) { return in_list(s, idq); }

static void open_isa(x12_env *e, const x12_segment *seg)
{
    close_isa(e, seg, NULL);
    memset(&e->isa, 0, sizeof e->isa);
    e->in_isa = 1;
    e->ninterchanges++;
    x12_isa_info *i = &e->isa;
    i->index = seg->pos.isa_index;
    i->offset = seg->pos.offset;
    i->delims = *seg->delims;
    copy_trim(i->auth_q, sizeof i->auth_q, x12_elem(seg, 1));
    copy_trim(i->sec_q, sizeof i->sec_q, x12_elem(seg, 3));
    copy_trim(i->sender_q, sizeof i->sender_q, x12_elem(seg, 5));
    copy_trim(i->sender, sizeof i->sender, x12_elem(seg, 6));
    copy_trim(i->receiver_q, sizeof i->receiver_q, x12_elem(seg, 7));
    copy_trim(i->receiver, sizeof i->receiver, x12_elem(seg, 8));
    copy_trim(i->date, sizeof i->date, x12_elem(seg, 9));
    copy_trim(i->time, sizeof i->time, x12_elem(seg, 10));
    copy_trim(i->version, sizeof i->version, x12_elem(seg, 12));
    copy_trim(i->control, sizeof i->control, x12_elem(seg, 13));
    copy_trim(i->ack_requested, sizeof i->ack_requested, x12_elem(seg, 14));
    copy_trim(i->usage, sizeof i->usage, x12_elem(seg, 15));

    if (seg->nelem < 16) {
        report(e, seg, NULL, X12_SEV_ERROR, "envelope.isa_elements", 0, ACK(NULL, NULL, "022"), none,
               "16 elements", "ISA has %u elements", seg->nelem);
        return;
    }
        /* the X12 standard's code lists; the HIPAA guides narrow ISA01 to 00/03 */
    static const char *const auth[] = {"00", "01", "02", "03", "04", "05", "06", NULL};
    static const char *const sec[] = {"00", "01", NULL};
    static const char *const ack[] = {"0", "1", NULL}, *const use[] = {"P", "T", "I", NULL};
    check_code(e, seg, 1, auth, "an authorization qualifier 00 to 06", ACK(NULL, NULL, "010"));
    check_code(e, seg, 3, sec, "00 or 01", ACK(NULL, NULL, "012"));
    check_code(e, seg, 5, idq, "an interchange id qualifier (01, 14, 20, 27, 28, 29, 30, 33, ZZ)",
               ACK(NULL, NULL, "005"));
    check_code(e, seg, 7, idq, "an interchange id qualifier (01, 14, 20, 27, 28, 29, 30, 33, ZZ)",
               ACK(NULL, NULL, "007"));
    x12_str v = x12_elem(seg, 9);
    if (!x12_valid_date(v))
        report(e, seg, NULL, X12_SEV_ERROR, "envelope.isa_date", 9, ACK(NULL, NULL, "014"), v,
               "a real date YYMMDD", "ISA09 is not a valid interchange date");
    v = x12_elem(seg, 10);
    if (v.len != 4 || !x12_valid_time(v))
        report(e, seg, NULL, X12_SEV_ERROR, "envelope.isa_time", 10, ACK(NULL, NULL, "015"), v,
               "a time HHMM", "ISA10 is not a valid interchange time");
    v = x12_elem(seg, 12);
    if (!x12_eq(v, "00501"))
        report(e, seg, NULL, X12_SEV_WARNING, "envelope.isa_version", 12, ACK(NULL, NULL, NULL), v,
               "00501 (the 5010 guides)", "interchange version is not 00501");
    v = x12_elem(seg, 13);
    if (v.len != 9 || !x12_is_digits(v))
        report(e, seg, NULL, X12_SEV_ERROR, "envelope.isa_control", 13, ACK(NULL, NULL, "018"), v,
               "9 digits", "ISA13 interchange control number is not 9 digits");
    check_code(e, seg, 14, ack, "0 or 1", ACK(NULL, NULL, "019"));
    check_code(e, seg, 15, use, "P (production), T (test) or I (information)", ACK(NULL, NULL, "020"));
}

static void open_gs(x12_env *e, const x12_segment *seg)
{
    close_gs(e, seg, NULL);
    if (!e->in_isa)
        report(e, seg, NULL, X12_SEV_ERROR, "envelope.gs_outside", 0, ACK(NULL, NULL, "024"), none,
               "GS inside an interchange (after an ISA)", "GS outside any interchange");
    e->isa.ngroups++;
    memset(&e->gs, 0, sizeof e->gs);
    e->in_gs = 1;
    x12_gs_info *g = &e->gs;
    g->index = seg->pos.gs_index;
    g->offset = seg->pos.offset;
    copy_trim(g->fid, sizeof g->fid, x12_elem(seg, 1));
    copy_trim(g->sender, sizeof g->sender, x12_elem(seg, 2));
    copy_trim(g->receiver, sizeof g->receiver, x12_elem(seg, 3));
    copy_trim(g->date, sizeof g->date, x12_elem(seg, 4));
    copy_trim(g->time, sizeof g->time, x12_elem(seg, 5));
    copy_trim(g->control, sizeof g->control, x12_elem(seg, 6));
    copy_trim(g->agency, sizeof g->agency, x12_elem(seg, 7));
    copy_trim(g->version, sizeof g->version, x12_elem(seg, 8));
    x12_str v = x12_elem(seg, 6);
    if (v.len == 0 || v.len > 9 || !x12_is_digits(v))
        report(e, seg, NULL, X12_SEV_ERROR, "envelope.gs_control", 6, ACK(NULL, "6", NULL), v,
               "1 to 9 digits", "GS06 group control number is not 1 to 9 digits");
    v = x12_elem(seg, 4);
    if (!x12_valid_date(v) || v.len != 8)
        report(e, seg, NULL, X12_SEV_ERROR, "envelope.gs_date", 4, ACK(NULL, NULL, NULL), v,
               "a real date CCYYMMDD", "GS04 is not a valid date");
    if (x12_elem(seg, 8).len == 0)
        report(e, seg, NULL, X12_SEV_ERROR, "envelope.gs_version", 8, ACK(NULL, "2", NULL), none,
               "the implementation guide version, e.g. 005010X222A1", "GS08 is empty");
}

static void open_st(x12_env *e, const x12_segment *seg)
{
    close_st(e, seg, NULL);
    if (!e->in_gs)
        report(e, seg, NULL, X12_SEV_ERROR, "envelope.st_outside", 0, ACK(NULL, NULL, "024"), none,
               "ST inside a functional group (after a GS)", "ST outside any functional group");
    e->gs.nsets++;
    memset(&e->st, 0, sizeof e->st);
    e->in_st = 1;
    x12_st_info *t = &e->st;
    t->index = seg->pos.st_index;
    t->offset = seg->pos.offset;
    t->seg_no = seg->pos.seg_no;
    t->nseg = 1;
    copy_trim(t->id, sizeof t->id, x12_elem(seg, 1));
    copy_trim(t->control, sizeof t->control, x12_elem(seg, 2));
    copy_trim(t->impl, sizeof t->impl, x12_elem(seg, 3));
    x12_str v = x12_elem(seg, 2);
    if (v.len < 4 || v.len > 9)
        report(e, seg, NULL, X12_SEV_ERROR, "envelope.st_control", 2, ACK("7", NULL, NULL), v,
               "4 to 9 characters", "ST02 transaction set control number has the wrong length");
    v = x12_elem(seg, 3);
    if (v.len && e->in_gs && e->gs.version[0] && !x12_eq(v, e->gs.version))
        report(e, seg, NULL, X12_SEV_ERROR, "envelope.st_version", 3, ACK("6", NULL, NULL), v,
               "the same implementation guide as GS08", "ST03 and GS08 (%s) disagree",
               e->gs.version);
}

/* Compare a trailer's count element with the actual count. */
static void check_count(x12_env *e, const x12_segment *seg, unsigned el, unsigned long actual,
                        const char *what, ack_codes ack)
{
    x12_str v = x12_elem(seg, el);
    char exp[64];
    snprintf(exp, sizeof exp, "%lu", actual);
    if (!x12_is_digits(v) || (unsigned long)strtoul(x12_copy(v, (char[24]){0}, 24), NULL, 10) != actual)
        report(e, seg, NULL, X12_SEV_ERROR, "envelope.count", (int)el, ack, v, exp,
               "%.*s%02u does not match the number of %s", (int)seg->tag.len, seg->tag.p, el, what);
}

static void check_control(x12_env *e, const x12_segment *seg, unsigned el, const char *header,
                          const char *hname, ack_codes ack)
{
    x12_str v = x12_elem(seg, el);
    char hb[32];
    if (!x12_eq(v, header)) {
        snprintf(hb, sizeof hb, "%s (as in %s)", header, hname);
        report(e, seg, NULL, X12_SEV_ERROR, "envelope.control", (int)el, ack, v, hb,
               "%.*s%02u control number does not match the header", (int)seg->tag.len, seg->tag.p, el);
    }
}

/* ---- feed ---------------------------------------------------------------- */

/* 1 when t could be an envelope segment (ISA GS ST SE GE IEA), by its
 * letters alone: the common case inside a set is decided in a few
 * instructions, since every segment of a file passes through here. */
static int maybe_envelope(x12_str t)
{
    if (t.len == 2)
        return (t.p[0] == 'G' || t.p[0] == 'S') && (t.p[1] == 'S' || t.p[1] == 'T' || t.p[1] == 'E');
    return t.len == 3 && t.p[0] == 'I' && (t.p[1] == 'S' || t.p[1] == 'E') && t.p[2] == 'A';
}

static void feed_envelope(x12_env *e, const x12_segment *seg, x12_str t);

void x12_env_feed(x12_env *e, const x12_segment *seg)
{
    x12_str t = seg->tag;
    if (e->in_st && !maybe_envelope(t)) {
        e->st.nseg++;
        return;
    }
    feed_envelope(e, seg, t);
}

/* Everything but a segment inside a set; out of line, so that the common
 * case above needs no stack frame. */
static __attribute__((noinline)) void feed_envelope(x12_env *e, const x12_segment *seg, x12_str t)
{
    if (x12_eq(t, "ISA")) {
        open_isa(e, seg);
        if (e->ev.isa_open)
            e->ev.isa_open(e->ev.ctx, &e->isa);
    } else if (x12_eq(t, "GS")) {
        open_gs(e, seg);
        if (e->ev.gs_open)
            e->ev.gs_open(e->ev.ctx, &e->isa, &e->gs);
    } else if (x12_eq(t, "ST")) {
        open_st(e, seg);
        if (e->ev.st_open)
            e->ev.st_open(e->ev.ctx, &e->gs, &e->st);
    } else if (x12_eq(t, "SE")) {
        if (!e->in_st) {
            report(e, seg, NULL, X12_SEV_ERROR, "envelope.se_outside", 0, ACK("2", NULL, NULL), none,
                   "an ST before it", "SE without a transaction set");
            return;
        }
        e->st.nseg++;
        e->st.closed = 1;
        x12_copy(x12_elem(seg, 1), e->st.se_count, sizeof e->st.se_count);
        x12_copy(x12_elem(seg, 2), e->st.se_control, sizeof e->st.se_control);
        check_count(e, seg, 1, e->st.nseg, "segments from ST to SE", ACK("4", NULL, NULL));
        check_control(e, seg, 2, e->st.control, "ST02", ACK("3", NULL, NULL));
        close_st(e, seg, NULL);
    } else if (x12_eq(t, "GE")) {
        close_st(e, seg, NULL);
        if (!e->in_gs) {
            report(e, seg, NULL, X12_SEV_ERROR, "envelope.ge_outside", 0, ACK(NULL, "3", NULL), none,
                   "a GS before it", "GE without a functional group");
            return;
        }
        e->gs.closed = 1;
        x12_copy(x12_elem(seg, 1), e->gs.ge_count, sizeof e->gs.ge_count);
        x12_copy(x12_elem(seg, 2), e->gs.ge_control, sizeof e->gs.ge_control);
        check_count(e, seg, 1, e->gs.nsets, "transaction sets in the group", ACK(NULL, "5", NULL));
        check_control(e, seg, 2, e->gs.control, "GS06", ACK(NULL, "4", NULL));
        close_gs(e, seg, NULL);
    } else if (x12_eq(t, "IEA")) {
        close_gs(e, seg, NULL);
        if (!e->in_isa) {
            report(e, seg, NULL, X12_SEV_ERROR, "envelope.iea_outside", 0, ACK(NULL, NULL, "022"), none,
                   "an ISA before it", "IEA without an interchange");
            return;
        }
        e->isa.closed = 1;
        x12_copy(x12_elem(seg, 1), e->isa.iea_count, sizeof e->isa.iea_count);
        x12_copy(x12_elem(seg, 2), e->isa.iea_control, sizeof e->isa.iea_control);
        check_count(e, seg, 1, e->isa.ngroups, "functional groups in the interchange",
                    ACK(NULL, NULL, "021"));
        check_control(e, seg, 2, e->isa.control, "ISA13", ACK(NULL, NULL, "001"));
        close_isa(e, seg, NULL);
    } else if (e->in_st) {
        e->st.nseg++;
    } else if (x12_eq(t, "TA1") && e->in_isa && !e->in_gs) {
        /* an interchange acknowledgment sits between ISA and GS */
    } else if ((x12_eq(t, "ISB") || x12_eq(t, "ISE")) && e->in_isa && !e->in_gs) {
        /* optional interchange service segments (4010) */
    } else {
        report(e, seg, NULL, X12_SEV_ERROR, "envelope.outside", 0, ACK(NULL, NULL, "024"), none,
               "segments only between ST and SE",
               "segment outside any transaction set");
    }
}

void x12_env_finish(x12_env *e, const x12_pos *last) { close_isa(e, NULL, last); }

x12_env *x12_env_new(const char *name, const x12_env_events *events, x12_diag_fn on_diag,
                     void *diag_ctx)
{
    x12_env *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->name = name;
    if (events)
        e->ev = *events;
    e->on_diag = on_diag;
    e->diag_ctx = diag_ctx;
    return e;
}

const x12_isa_info *x12_env_isa(const x12_env *e) { return e->in_isa ? &e->isa : NULL; }
const x12_gs_info *x12_env_gs(const x12_env *e) { return e->in_gs ? &e->gs : NULL; }
const x12_st_info *x12_env_st(const x12_env *e) { return e->in_st ? &e->st : NULL; }
unsigned x12_env_interchanges(const x12_env *e) { return e->ninterchanges; }
unsigned x12_env_errors(const x12_env *e) { return e->nerrors; }
void x12_env_free(x12_env *e) { free(e); }
