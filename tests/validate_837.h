/* validate_837.h - the cut-down 837P test guide the validate suite's files
 * share (defined, with the suite's setup that parses it, in
 * test_validate.c), its valid set, and the edits of that set the cases
 * validate. */
#ifndef VALIDATE_837_H
#define VALIDATE_837_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate_helpers.h"

/* t837, parsed before each test of the suite (NULL after it). */
extern x12_guide *g837;

/* A valid set for t837 (its segments after ST, before SE). */
extern const char *const base837;

/* base837 with `from` replaced by `to` (each must occur). */
static inline char *edit(const char *body, const char *from, const char *to)
{
    const char *at = strstr(body, from);
    cr_assert(at, "'%s' is not in the body", from);
    size_t n = strlen(body) - strlen(from) + strlen(to) + 1;
    char *s = malloc(n);
    cr_assert(s);
    snprintf(s, n, "%.*s%s%s", (int)(at - body), body, to, at + strlen(from));
    return s;
}

/* Validate body (in an 837 envelope) with t837. */
static inline void run837(const char *body, vdiags *d)
{
    char *x = vd_wrap("837", "005010X222A1", body);
    vd_run(g837, x, d);
    free(x);
}

/* One edit of base837, validated. */
static inline void run_edit(const char *from, const char *to, vdiags *d)
{
    char *b = edit(base837, from, to);
    run837(b, d);
    free(b);
}

#endif
