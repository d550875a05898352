/*
 * ledger_remit_int.h - what the files of the ledger's reconciliation side
 * share.  Internal to the ledger, like ledger_sqlite_int.h, on which it
 * builds; ledger.h (the schema 3 section) is their API.
 *
 *   ledger_remit.c        the statements they run, prepared when first used
 *                         and kept; recording remittances, claim payments,
 *                         PLB and worklist items
 *   ledger_remit_match.c  what a response is matched to and what it does to
 *                         it: payer keys, claims by key, charge or id,
 *                         moving a claim, batches by GS06, 999 records
 *   ledger_remit_read.c   reading back what was posted: unreported
 *                         remittances, a claim's payments, a remittance's
 *                         postings, the worklist
 *
 * Each lookup or record on the posting path keeps its small helpers in its
 * own file, or inline here.  Called across files: the statement cache,
 * lrm_stmt (the per-claim lookup and move called it, not inlined, before
 * the split as well), and the payment row reader (reports, reversals).
 */
#ifndef LEDGER_REMIT_INT_H
#define LEDGER_REMIT_INT_H

#include <sqlite3.h>
#include <stdint.h>

#include "ledger.h"
#include "ledger_payjson.h"
#include "ledger_sqlite_int.h"

/* The cached statements (their SQL is in ledger_remit.c). */
enum {
    R_BY_PCN,
    R_BY_KEY,
    R_BY_PCN_DOC,
    R_BY_KEY_DOC,
    R_BY_CHARGE,
    R_BRIEF,
    R_DOC,
    R_SET_PCN_NO,
    R_REMIT_INSERT,
    R_REMIT_GET,
    R_REMIT_FINISH,
    R_CP_OPEN,
    R_CP_OPEN_NO,
    R_CP_REVERSE,
    R_PLB_INSERT,
    R_WORK_INSERT,
    R_ACK_INSERT,
    R_KEY_INSERT,
    R_RESPOND,
    R__COUNT
};

struct ledger_remit_stmts {
    sqlite3_stmt *st[R__COUNT];
    ledger_text adj, lines, text; /* a payment's JSON columns; its adjustments for reports */
    ledger_text doc;              /* the document ledger_claims_by_key_doc found */
};

/* The statement, reset, prepared when first used; NULL with err set.
 * Those that read or change claim payments first write the held ones. */
sqlite3_stmt *lrm_stmt(ledger *l, int which, ch_error *err);

/* A claim_payments row (the 13 columns of R_CP_OPEN, in order) into p. */
void lrm_read_payment(sqlite3_stmt *s, ledger_claim_payment *p);

/* Inline: posting binds a dozen values per claim with these. */

/* Binds text that outlives the statement's step; NULL or "" binds NULL. */
static inline void lrm_bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v && v[0])
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

/* Binds an id; 0 (none) binds NULL. */
static inline void lrm_bind_id(sqlite3_stmt *s, int i, int64_t v)
{
    if (v > 0)
        sqlite3_bind_int64(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

/* Run a statement that returns no rows. */
static inline ch_code lrm_done(ledger *l, sqlite3_stmt *s, const char *what, ch_error *err)
{
    int st = sqlite3_step(s);
    sqlite3_reset(s);
    return st == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, what);
}

#endif
