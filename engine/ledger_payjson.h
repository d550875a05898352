/*
 * ledger_payjson.h - the compact form of a claim payment's lines and CAS
 * adjustments (ledger schema 6).  Internal to the ledger.
 *
 * A posted claim payment is one row of claim_payments; its lines and
 * adjustments are two JSON columns of that row instead of a row each (about
 * seven rows per claim fewer to write):
 *
 *   adj    [[group, reason, cents, quantity], ...]              claim level
 *   lines  [[line_no, procedure, modifiers, control, billed, paid, allowed,
 *            units_x100, [[group, reason, cents, quantity], ...]], ...]
 *
 * Both are NULL when empty.  Empty strings are written as null (what the
 * row tables held).  The views line_payments and adjustments read them
 * back as rows, for queries.
 */
#ifndef LEDGER_PAYJSON_H
#define LEDGER_PAYJSON_H

#include <stddef.h>

#include "ledger.h"

/* A growing text buffer; zero-initialised is empty.  Free with free(p). */
typedef struct ledger_text {
    char *p;
    size_t len, cap;
    int oom; /* an append failed */
} ledger_text;

/*
 * The JSON of claim-level adjustments (adj) and of lines into t (replacing
 * what it held; t->len 0 and t->p "" for none).  CH_ERR_NOMEM.
 */
ch_code ledger_payjson_adj(ledger_text *t, const ledger_adjustment *a, size_t n, ch_error *err);
ch_code ledger_payjson_lines(ledger_text *t, const ledger_line_payment *lines, size_t n, ch_error *err);

/*
 * The adjustments of a payment as reports read them: "GROUP:REASON:CENTS"
 * each, claim level first then line by line, blank separated (what
 * ledger_posting.adjustments promises), from the two columns (either may be
 * NULL) into t.  Text that is not this form ends the list where it breaks.
 * CH_ERR_NOMEM.
 */
ch_code ledger_payjson_text(ledger_text *t, const char *adj, const char *lines, ch_error *err);

#endif
