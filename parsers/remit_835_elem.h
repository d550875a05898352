/*
 * remit_835_elem.h - reading one element into the 835 reader's records: a
 * value into a fixed field, an amount into cents.  Internal to the reader
 * (remit_835_int.h); included by remit_835.c and remit_835_payment.c, and
 * by no other file (each uses all three).
 *
 * Static, defined here, rather than shared from one file: remit_835.c calls
 * them on every segment, and its own copy is compiled for its callers alone
 * (the compiler then knows, for one, that elem is never 0, and drops
 * x12_elem's check for it).  Shared across files they cost about 0.4% more
 * instructions to read an 835.
 */
#ifndef REMIT_835_ELEM_H
#define REMIT_835_ELEM_H

#include <stdio.h>
#include <string.h>

#include "remit_835_int.h"
#include "x12_writer.h"

/* Copy a value into a fixed field; a value too long for it is cut and
 * reported once (a warning: the X12 maximum lengths fit every field). */
static void cp(remit_835 *r, const x12_segment *s, int elem, x12_str v, char *dst, size_t size)
{
    x12_copy(v, dst, size);
    if (v.len >= size)
        r835_diag_found(r, s, X12_SEV_WARNING, 1, "835.value.long", elem, 0, v, NULL,
                        "value longer than the field holds; cut");
}

/* cp of element elem of s. */
static void cpe(remit_835 *r, const x12_segment *s, int elem, char *dst, size_t size)
{
    cp(r, s, elem, x12_elem(s, (unsigned)elem), dst, size);
}

/* Read an amount.  Returns 1 with *out set, 0 when the element is empty
 * (an error when required), -1 when it is not a number (an error).  what
 * names it ("total payment"); messages are made only when there is one. */
static int money(remit_835 *r, const x12_segment *s, int elem, int required, const char *what,
                 int64_t *out)
{
    x12_str v = x12_elem(s, (unsigned)elem);
    *out = 0;
    if (v.len == 0) {
        if (required) {
            char t[4];
            (void)r835_tag(s, t);
            r835_diag(r, &s->pos, t, X12_SEV_ERROR, 2, "835.amount.missing", elem, 0,
                      "a decimal amount", "%s%02d %s is missing", t, elem, what);
        }
        return 0;
    }
    if (x12_parse_cents(v.p, v.len, out) != CH_OK) {
        char m[128], t[4];
        snprintf(m, sizeof m, "%s%02d %s is not an amount", r835_tag(s, t), elem, what);
        r835_diag_found(r, s, X12_SEV_ERROR, 1, "835.amount.invalid", elem, 0, v,
                        "a decimal number with at most 2 decimals", m);
        *out = 0;
        return -1;
    }
    return 1;
}

#endif
