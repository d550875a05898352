/* x12_diag.c - formatting of diagnostics (see x12_diag.h) */
#include "x12_diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_out.h"

void x12_diag_init(x12_diag *d, const char *file, const x12_pos *pos, x12_severity sev,
                   int level, const char *code)
{
    memset(d, 0, sizeof *d);
    d->file = file;
    if (pos)
        d->pos = *pos;
    d->severity = sev;
    d->level = level;
    d->code = code;
}

void x12_diag_msg(x12_diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
}

void x12_diag_expected(x12_diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->expected, sizeof d->expected, fmt, ap);
    va_end(ap);
}

void x12_diag_found(x12_diag *d, const char *p, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < sizeof d->found; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(d->found + o, sizeof d->found - o, "\\x%02X", c);
        else
            d->found[o++] = (char)c;
    }
    if (o >= sizeof d->found)
        o = sizeof d->found - 1;
    d->found[o] = '\0';
}

const char *x12_severity_name(x12_severity s)
{
    switch (s) {
    case X12_SEV_WARNING: return "warning";
    case X12_SEV_ERROR: return "error";
    case X12_SEV_FATAL: return "fatal";
    }
    return "error";
}

/* "CLM05-3" style element reference into buf. */
static void elem_ref(const x12_diag *d, char *buf, size_t size)
{
    if (!d->tag[0]) {
        snprintf(buf, size, "%s", "segment");
        return;
    }
    if (d->elem <= 0)
        snprintf(buf, size, "%s", d->tag);
    else if (d->comp > 0)
        snprintf(buf, size, "%s%02d-%d", d->tag, d->elem, d->comp);
    else
        snprintf(buf, size, "%s%02d", d->tag, d->elem);
}

int x12_diag_format(const x12_diag *d, char *buf, size_t size, int with_found)
{
    char ref[32], loop[96] = "";
    elem_ref(d, ref, sizeof ref);
    if (d->loop_id)
        snprintf(loop, sizeof loop, ", loop %s%s%s", d->loop_id, d->loop_name ? " " : "",
                 d->loop_name ? d->loop_name : "");
    char found[96] = "";
    if (with_found && d->found[0])
        snprintf(found, sizeof found, "; found '%s'", d->found);
    char expected[200] = "";
    if (d->expected[0])
        snprintf(expected, sizeof expected, "; expected %s", d->expected);
    char rep[24] = "";
    if (d->rep > 1)
        snprintf(rep, sizeof rep, " (repetition %d)", d->rep);
    return snprintf(buf, size, "%s: segment %llu (byte %llu)%s, %s%s: %s%s%s [level %d %s]",
                    d->file ? d->file : "-", (unsigned long long)d->pos.seg_no,
                    (unsigned long long)d->pos.offset, loop, ref, rep, d->msg, found, expected,
                    d->level, x12_severity_name(d->severity));
}

int x12_diag_json(const x12_diag *d, char *buf, size_t size, int with_found)
{
    json_out j;
    json_init(&j, buf, size);
    json_obj_begin(&j);
    json_kv_str(&j, "file", d->file ? d->file : "");
    json_kv_uint(&j, "segment", d->pos.seg_no);
    json_kv_uint(&j, "offset", d->pos.offset);
    if (d->pos.seg_in_st)
        json_kv_uint(&j, "segment_in_transaction", d->pos.seg_in_st);
    if (d->pos.isa13[0])
        json_kv_str(&j, "interchange", d->pos.isa13);
    if (d->pos.gs06[0])
        json_kv_str(&j, "group", d->pos.gs06);
    if (d->pos.st02[0])
        json_kv_str(&j, "transaction", d->pos.st02);
    if (d->loop_id)
        json_kv_str(&j, "loop", d->loop_id);
    if (d->loop_name)
        json_kv_str(&j, "loop_name", d->loop_name);
    if (d->tag[0])
        json_kv_str(&j, "tag", d->tag);
    if (d->elem > 0)
        json_kv_uint(&j, "element", (unsigned)d->elem);
    if (d->comp > 0)
        json_kv_uint(&j, "component", (unsigned)d->comp);
    if (d->rep > 0)
        json_kv_uint(&j, "repetition", (unsigned)d->rep);
    json_kv_str(&j, "code", d->code ? d->code : "");
    json_kv_str(&j, "message", d->msg);
    if (with_found && d->found[0])
        json_kv_str(&j, "found", d->found);
    if (d->expected[0])
        json_kv_str(&j, "expected", d->expected);
    json_kv_uint(&j, "level", (unsigned)d->level);
    json_kv_str(&j, "severity", x12_severity_name(d->severity));
    if (d->ik3[0])
        json_kv_str(&j, "ik304", d->ik3);
    if (d->ik4[0])
        json_kv_str(&j, "ik403", d->ik4);
    if (d->ele_ref)
        json_kv_uint(&j, "ik402", d->ele_ref);
    if (d->ta1[0])
        json_kv_str(&j, "ta105", d->ta1);
    json_obj_end(&j);
    return (int)json_len(&j);
}
