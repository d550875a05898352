/*
 * x12_isa.c - finding and reading the ISA that opens an interchange (see
 * x12_reader.h): skipping a UTF-8 byte-order mark and text before or
 * between interchanges, refusing UTF-16, taking the delimiters from the ISA
 * and checking them, and reading an ISA whose fields are not at their fixed
 * widths.  Cold code, once per interchange, kept out of x12_reader.c's hot
 * loop.
 */
#include "x12_reader_int.h"

#include <stdio.h>
#include <string.h>

/* The fixed widths of ISA01..ISA16 (5010 and 4010 alike). */
static const unsigned char isa_width[17] = {0, 2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1};
/* TA105 note code to send when an ISA field has the wrong width. */
static const char *const isa_ta1[17] = {
    NULL, "010", "011", "012", "013", "005", "006", "007", "008",
    "014", "015", "016", "017", "018", "019", "020", "027"};

const char *xr_delim_name(char c, char *buf, size_t size)
{
    if (c == '\n')
        return "LF";
    if (c == '\r')
        return "CR";
    if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
        snprintf(buf, size, "0x%02X", (unsigned char)c);
    else
        snprintf(buf, size, "'%c'", c);
    return buf;
}

/*
 * Read the delimiters of the ISA at r->start.  The ISA is meant to be 106
 * bytes with every field at a fixed column; when it is not, but its sixteen
 * element separators can still be found, the delimiters are taken from there
 * and the bad widths reported (real payers send such files).
 */
int xr_read_isa(x12_reader *r)
{
    size_t avail = xr_fill(r, 512);
    if (avail == (size_t)-1)
        return X12_FAIL;
    const char *p = r->buf + r->start;
    /* diagnostics about this ISA carry the position it is about to get */
    r->pos.offset = r->base + r->start;
    r->pos.seg_no++;
    r->pos.seg_in_isa = 1;
    r->pos.seg_in_st = 0;
    if (avail < 4)
        return xr_fail(r, CH_ERR_SYNTAX, "isa.short", "023", "ISA is cut short: the file ends after %zu bytes",
                       avail);

    char es = p[3], b1[8], b2[8];
    /* Find the sixteen element separators. */
    size_t sep[17] = {0};
    unsigned nsep = 0;
    size_t limit = avail < 512 ? avail : 512;
    for (size_t i = 3; i < limit && nsep < 16; i++)
        if (p[i] == es)
            sep[++nsep] = i;
    if (nsep < 16)
        return xr_fail(r, CH_ERR_SYNTAX, "isa.malformed", "022",
                       "malformed ISA: found %u of its 16 element separators %s", nsep,
                       xr_delim_name(es, b1, sizeof b1));
    size_t isa16 = sep[16] + 1;
    if (isa16 + 1 >= avail)
        return xr_fail(r, CH_ERR_SYNTAX, "isa.short", "023", "ISA is cut short before its segment terminator");
    char comp = p[isa16], term = p[isa16 + 1];

    /* Field widths: a fixed ISA is 106 bytes. */
    int fixed = (isa16 == 104);
    for (unsigned f = 1; f <= 16 && fixed; f++) {
        size_t w = (f < 16 ? sep[f + 1] : isa16 + 1) - sep[f] - 1;
        if (w != isa_width[f])
            fixed = 0;
    }
    if (!fixed) {
        for (unsigned f = 1; f <= 16; f++) {
            size_t w = (f < 16 ? sep[f + 1] : isa16 + 1) - sep[f] - 1;
            if (w != isa_width[f]) {
                x12_diag d;
                x12_diag_init(&d, r->name, &r->pos, X12_SEV_ERROR, 1, "isa.width");
                memcpy(d.tag, "ISA", 4);
                d.elem = (int)f;
                snprintf(d.ta1, sizeof d.ta1, "%s", isa_ta1[f]);
                snprintf(d.ik4, sizeof d.ik4, "%s", w < isa_width[f] ? "4" : "5");
                x12_diag_msg(&d, "ISA%02u is %zu characters wide; the ISA is fixed-width", f, w);
                x12_diag_expected(&d, "exactly %u characters (an ISA is 106 bytes)", isa_width[f]);
                r->nerr++;
                if (r->on_diag)
                    r->on_diag(r->diag_ctx, &d);
            }
        }
    }

    if (is_alnum((unsigned char)es) || is_space((unsigned char)es))
        return xr_fail(r, CH_ERR_SYNTAX, "delim.element", "026",
                       "element separator %s is a letter, digit or space", xr_delim_name(es, b1, sizeof b1));
    if (is_alnum((unsigned char)comp) || is_space((unsigned char)comp))
        return xr_fail(r, CH_ERR_SYNTAX, "delim.component", "027",
                       "component separator (ISA16) %s is a letter, digit or space",
                       xr_delim_name(comp, b1, sizeof b1));
    if (is_alnum((unsigned char)term) || term == ' ')
        return xr_fail(r, CH_ERR_SYNTAX, "delim.segment", "004",
                       "segment terminator %s is a letter, digit or space", xr_delim_name(term, b1, sizeof b1));
    if (comp == es || term == es || term == comp)
        return xr_fail(r, CH_ERR_SYNTAX, "delim.same", "026",
                       "delimiters must differ: element %s, component %s, segment %s",
                       xr_delim_name(es, b1, sizeof b1), xr_delim_name(comp, b2, sizeof b2),
                       xr_delim_name(term, (char[8]){0}, 8));

    /* ISA11: the repetition separator from 00501 on; 'U' before. */
    char rep = p[sep[11] + 1];
    size_t w11 = sep[12] - sep[11] - 1;
    char ver[6] = {0};
    size_t w12 = sep[13] - sep[12] - 1;
    memcpy(ver, p + sep[12] + 1, w12 < 5 ? w12 : 5);
    if (w11 != 1 || is_alnum((unsigned char)rep) || is_space((unsigned char)rep) || rep == es ||
        rep == comp || rep == term) {
        if (strcmp(ver, "00501") >= 0 && w11 == 1) {
            x12_diag d;
            x12_diag_init(&d, r->name, &r->pos, X12_SEV_WARNING, 1, "delim.repetition");
            memcpy(d.tag, "ISA", 4);
            d.elem = 11;
            x12_diag_found(&d, &rep, 1);
            x12_diag_msg(&d, "ISA11 is not usable as a repetition separator in version %s; "
                             "the interchange is read without repetitions", ver);
            x12_diag_expected(&d, "a special character distinct from the other delimiters");
            r->nwarn++;
            if (r->on_diag)
                r->on_diag(r->diag_ctx, &d);
        }
        rep = '\0';
    }
    r->pos.seg_no--; /* enter() counts the ISA itself */
    r->d.element = es;
    r->d.component = comp;
    r->d.repetition = rep;
    r->d.segment = term;
    memset(r->vd[0], es, 16);
    memset(r->vd[1], term, 16);
    memset(r->vd[2], comp, 16);
    memset(r->vd[3], rep, 16);
    return X12_SEGMENT;
}

/* Look for the next ISA from r->start, skipping (and reporting) other text. */
int xr_seek_isa(x12_reader *r)
{
    if (r->base + r->start == 0 && !r->seen_isa) {
        size_t n = xr_fill(r, 4);
        if (n == (size_t)-1)
            return X12_FAIL;
        const unsigned char *u = (const unsigned char *)r->buf + r->start;
        if (n >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
            return xr_fail(r, CH_ERR_SYNTAX, "encoding.utf16", NULL,
                           "the file is UTF-16 (byte-order mark %02X %02X); X12 must be ASCII or UTF-8",
                           u[0], u[1]);
        if (n >= 4 && ((u[0] == 'I' && u[1] == 0) || (u[0] == 0 && u[1] == 'I')))
            return xr_fail(r, CH_ERR_SYNTAX, "encoding.utf16", NULL,
                           "the file is UTF-16 (NUL bytes between characters); X12 must be ASCII or UTF-8");
        if (n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
            r->pos.offset = 0;
            xr_report(r, X12_SEV_WARNING, "encoding.bom", NULL, NULL, "UTF-8 byte-order mark skipped");
            r->start += 3;
        }
    }
    int sp = xr_skip_space(r);
    if (sp <= 0)
        return sp < 0 ? X12_FAIL : X12_END;

    uint64_t from = r->base + r->start;
    uint64_t skipped = 0;
    for (;;) {
        size_t avail = xr_fill(r, 4);
        if (avail == (size_t)-1)
            return X12_FAIL;
        const char *p = r->buf + r->start;
        if (is_isa_start(p, avail))
            break;
        if (avail < 4 && r->eof) {
            skipped += avail;
            r->start = r->end;
            break;
        }
        /* Not at an ISA: skip to the next 'I' that could start one. */
        const char *q = memchr(p + 1, 'I', avail - 1);
        size_t step = q ? (size_t)(q - p) : (avail > 3 ? avail - 3 : avail);
        r->start += step;
        skipped += step;
    }
    if (skipped) {
        r->pos.offset = from;
        if (!r->seen_isa && r->start == r->end && r->eof)
            return xr_fail(r, CH_ERR_SYNTAX, "isa.missing", "023",
                           "no ISA segment found: the file does not begin an X12 interchange (%llu bytes read)",
                           (unsigned long long)skipped);
        if (!r->seen_isa)
            xr_report(r, X12_SEV_WARNING, "text.before_isa", NULL, NULL,
                      "%llu bytes of text before the first ISA skipped", (unsigned long long)skipped);
        else
            xr_report(r, X12_SEV_ERROR, "text.outside", NULL, NULL,
                      "%llu bytes outside any interchange (after an IEA) skipped", (unsigned long long)skipped);
    }
    if (r->start == r->end && r->eof)
        return X12_END;
    return xr_read_isa(r);
}
