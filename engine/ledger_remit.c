/*
 * ledger_remit.c - the ledger's side of reconciliation on SQLite (see the
 * schema 3 section of ledger.h; its files are listed in ledger_remit_int.h):
 * the statements it runs, and recording what responses bring in:
 * remittances, claim payments with their adjustments, PLB, worklist items.
 *
 * Statements used per claim are prepared once, when first used, and kept.
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "ledger_payjson.h"
#include "ledger_remit_int.h"
#include "ledger_sqlite_int.h"

/* --- the statements ----------------------------------------------------------------- */

/* The columns read_brief (ledger_remit_match.c) reads, in its order. */
#define BRIEF_COLS "c.id, c.pcn, c.practice, c.payer, c.state, c.total_cents, c.service_date, c.batch_id, c.payer_claim_no"

/* The SQL of the statements lrm_stmt prepares, for the three files. */
static const char *const rsql[R__COUNT] = {
    [R_BY_PCN] = "SELECT " BRIEF_COLS " FROM claims c WHERE c.pcn = ?1 AND (?2 IS NULL OR c.payer = ?2) AND (?3 IS NULL OR c.practice = ?3)",
    [R_BY_KEY] = "SELECT " BRIEF_COLS " FROM claim_keys k JOIN claims c ON c.id = k.claim_id "
                 "WHERE k.payer = ?2 AND k.sig = ?4 AND k.key = ?1 AND c.pcn != ?1 "
                 "AND (?3 IS NULL OR c.practice = ?3)",
    /* the same with the claim's packed encounter (for its lines): one lookup, not two */
    [R_BY_PCN_DOC] = "SELECT " BRIEF_COLS ", v.doc FROM claims c LEFT JOIN encounter_versions v ON v.practice = c.practice "
                     "AND v.encounter_id = c.encounter_id AND v.version = c.version "
                     "WHERE c.pcn = ?1 AND (?2 IS NULL OR c.payer = ?2) AND (?3 IS NULL OR c.practice = ?3)",
    [R_BY_KEY_DOC] = "SELECT " BRIEF_COLS ", v.doc FROM claim_keys k JOIN claims c ON c.id = k.claim_id "
                     "LEFT JOIN encounter_versions v ON v.practice = c.practice "
                     "AND v.encounter_id = c.encounter_id AND v.version = c.version "
                     "WHERE k.payer = ?2 AND k.sig = ?4 AND k.key = ?1 AND c.pcn != ?1 "
                     "AND (?3 IS NULL OR c.practice = ?3)",
    [R_BY_CHARGE] = "SELECT " BRIEF_COLS " FROM claims c WHERE c.total_cents = ?1 AND c.service_date BETWEEN ?2 AND ?3"
                    " AND (?4 IS NULL OR c.payer = ?4) AND (?5 IS NULL OR c.practice = ?5)",
    [R_BRIEF] = "SELECT " BRIEF_COLS " FROM claims c WHERE c.id = ?1",
    [R_DOC] = "SELECT v.doc FROM claims c JOIN encounter_versions v ON v.practice = c.practice "
              "AND v.encounter_id = c.encounter_id AND v.version = c.version WHERE c.id = ?1",
    [R_SET_PCN_NO] = "UPDATE claims SET payer_claim_no = ?2 WHERE id = ?1 AND payer_claim_no IS NOT ?2",
    [R_REMIT_INSERT] = "INSERT INTO remittances(payer, trace_key, practice, paid_cents, method, pay_date, payee_npi, "
                       "payee_tax_id, file, sha256, posted_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11) "
                       "ON CONFLICT(payer, trace_key) DO NOTHING",
    [R_REMIT_GET] = "SELECT id, payer, trace_key, practice, paid_cents, method, pay_date, payee_npi, payee_tax_id, "
                    "file, sha256, claims, flagged, posted_at FROM remittances WHERE payer = ?1 AND trace_key = ?2",
    [R_REMIT_FINISH] = "UPDATE remittances SET claims = ?2, flagged = ?3 WHERE id = ?1",
    [R_CP_OPEN] = "SELECT id, claim_id, remittance_id, status_code, outcome, billed_cents, paid_cents, "
                  "patient_resp_cents, allowed_cents, payer_claim_no, reversal, reversed_by, posted_at "
                  "FROM claim_payments WHERE claim_id = ?1 AND reversal = 0 AND reversed_by IS NULL "
                  "ORDER BY id DESC LIMIT 1",
    [R_CP_OPEN_NO] = "SELECT id, claim_id, remittance_id, status_code, outcome, billed_cents, paid_cents, "
                     "patient_resp_cents, allowed_cents, payer_claim_no, reversal, reversed_by, posted_at "
                     "FROM claim_payments WHERE claim_id = ?1 AND reversal = 0 AND reversed_by IS NULL "
                     "AND payer_claim_no = ?2 ORDER BY id DESC LIMIT 1",
    [R_CP_REVERSE] = "UPDATE claim_payments SET reversed_by = ?2 WHERE id = ?1 AND reversed_by IS NULL",
    [R_PLB_INSERT] = "INSERT INTO plb_adjustments(remittance_id, provider_id, fiscal_date, reason, reference, "
                     "amount_cents) VALUES (?1,?2,?3,?4,?5,?6)",
    [R_WORK_INSERT] = "INSERT INTO worklist(kind, practice, payer, claim_id, remittance_id, file, reference, "
                      "amount_cents, reason, created_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
    [R_ACK_INSERT] = "INSERT INTO acknowledgments(batch_id, file, sha256, gs06, st02, accepted, status, reason, claims, "
                     "received_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) ON CONFLICT(sha256, gs06, st02) DO NOTHING",
    [R_KEY_INSERT] = "INSERT OR IGNORE INTO claim_keys(payer, sig, key, claim_id) VALUES (?1,?2,?3,?4)",
    [R_RESPOND] = "UPDATE claims SET state = ?2, payer_claim_no = coalesce(?3, payer_claim_no), updated_at = ?4 "
                  "WHERE id = ?1 AND state = ?5",
};

void ledger_remit_reset(ledger *l)
{
    struct ledger_remit_stmts *r = *lsq_remit(l);
    if (r) {
        for (int i = 0; i < R__COUNT; i++)
            if (r->st[i])
                sqlite3_reset(r->st[i]);
    }
}

void ledger_remit_release(ledger *l)
{
    struct ledger_remit_stmts **rp = lsq_remit(l);
    if (!*rp)
        return;
    for (int i = 0; i < R__COUNT; i++)
        sqlite3_finalize((*rp)->st[i]);
    free((*rp)->adj.p);
    free((*rp)->lines.p);
    free((*rp)->text.p);
    free((*rp)->doc.p);
    free(*rp);
    *rp = NULL;
}

/* The statement, reset, prepared when first used; NULL with err set.
 * Those that read or change claim payments first write the held ones. */
sqlite3_stmt *lrm_stmt(ledger *l, int which, ch_error *err)
{
    if ((which == R_CP_OPEN || which == R_CP_OPEN_NO || which == R_CP_REVERSE) && lsq_flush(l, err) != CH_OK)
        return NULL;
    struct ledger_remit_stmts **rp = lsq_remit(l);
    if (!*rp && !(*rp = calloc(1, sizeof **rp))) {
        ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
        return NULL;
    }
    sqlite3_stmt **s = &(*rp)->st[which];
    if (!*s) {
        if (sqlite3_prepare_v3(lsq_db(l), rsql[which], -1, SQLITE_PREPARE_PERSISTENT, s, NULL) != SQLITE_OK) {
            lsq_db_err(l, err, "prepare");
            *s = NULL;
            return NULL;
        }
    } else {
        sqlite3_reset(*s);
        sqlite3_clear_bindings(*s);
    }
    return *s;
}

/* --- remittances -------------------------------------------------------------------- */

static ch_code remit_read(ledger *l, const char *payer, const char *key, ledger_remittance *r, ch_error *err)
{
    sqlite3_stmt *s = lrm_stmt(l, R_REMIT_GET, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    lrm_bind_text(s, 1, payer);
    lrm_bind_text(s, 2, key);
    int st = sqlite3_step(s);
    if (st == SQLITE_ROW) {
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(s, 0);
        lsq_col_text(s, 1, r->payer, sizeof r->payer);
        lsq_col_text(s, 2, r->trace_key, sizeof r->trace_key);
        lsq_col_text(s, 3, r->practice, sizeof r->practice);
        r->paid_cents = sqlite3_column_int64(s, 4);
        lsq_col_text(s, 5, r->method, sizeof r->method);
        lsq_col_text(s, 6, r->pay_date, sizeof r->pay_date);
        lsq_col_text(s, 7, r->payee_npi, sizeof r->payee_npi);
        lsq_col_text(s, 8, r->payee_tax_id, sizeof r->payee_tax_id);
        lsq_col_text(s, 9, r->file, sizeof r->file);
        lsq_col_text(s, 10, r->sha256, sizeof r->sha256);
        r->claims = (unsigned)sqlite3_column_int(s, 11);
        r->flagged = sqlite3_column_int(s, 12);
        lsq_col_text(s, 13, r->posted_at, sizeof r->posted_at);
    }
    sqlite3_reset(s);
    if (st == SQLITE_ROW)
        return CH_OK;
    return st == SQLITE_DONE ? ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no remittance %s", key)
                             : lsq_db_err(l, err, "read remittance");
}

ch_code ledger_remittance_get(ledger *l, const char *payer, const char *trace_key, ledger_remittance *r,
                              ch_error *err)
{
    return remit_read(l, payer, trace_key, r, err);
}

ch_code ledger_remittance_add(ledger *l, ledger_remittance *r, ch_error *err)
{
    lsq_stamp(l, r->posted_at);
    sqlite3_stmt *s = lrm_stmt(l, R_REMIT_INSERT, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    lrm_bind_text(s, 1, r->payer);
    lrm_bind_text(s, 2, r->trace_key);
    lrm_bind_text(s, 3, r->practice);
    sqlite3_bind_int64(s, 4, r->paid_cents);
    lrm_bind_text(s, 5, r->method);
    lrm_bind_text(s, 6, r->pay_date);
    lrm_bind_text(s, 7, r->payee_npi);
    lrm_bind_text(s, 8, r->payee_tax_id);
    sqlite3_bind_text(s, 9, r->file, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 10, r->sha256, -1, SQLITE_STATIC);
    lrm_bind_text(s, 11, r->posted_at);
    ch_code rc = lrm_done(l, s, "record remittance", err);
    if (rc != CH_OK)
        return rc;
    if (sqlite3_changes(lsq_db(l)) == 1) {
        r->id = sqlite3_last_insert_rowid(lsq_db(l));
        return CH_OK;
    }
    ledger_remittance old;
    if ((rc = remit_read(l, r->payer, r->trace_key, &old, err)) != CH_OK)
        return rc;
    r->id = old.id;
    return ch_error_set(err, CH_ERR_EXISTS, "remittance %s of %s was posted on %s (from %s)", r->trace_key, r->payer,
                        old.posted_at, old.file);
}

ch_code ledger_remittance_finish(ledger *l, int64_t id, unsigned claims, int flagged, ch_error *err)
{
    sqlite3_stmt *s = lrm_stmt(l, R_REMIT_FINISH, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, claims);
    sqlite3_bind_int(s, 3, flagged ? 1 : 0);
    return lrm_done(l, s, "update remittance", err);
}

/* --- claim payments ----------------------------------------------------------------- */

ch_code ledger_claim_payment_add(ledger *l, ledger_claim_payment *p, const ledger_adjustment *adj, size_t nadj,
                                 const ledger_line_payment *lines, size_t nlines, ch_error *err)
{
    struct ledger_remit_stmts **rp = lsq_remit(l);
    if (!*rp && !(*rp = calloc(1, sizeof **rp)))
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    struct ledger_remit_stmts *r = *rp;
    lsq_stamp(l, p->posted_at);
    ch_code rc;
    if ((rc = ledger_payjson_adj(&r->adj, adj, nadj, err)) != CH_OK ||
        (rc = ledger_payjson_lines(&r->lines, lines, nlines, err)) != CH_OK)
        return rc;
    /* held and written with others (ledger_hold.c); the id is known now */
    return lsq_hold_payment(l, p, r->adj.p, r->lines.p, err);
}

void lrm_read_payment(sqlite3_stmt *s, ledger_claim_payment *p)
{
    memset(p, 0, sizeof *p);
    p->id = sqlite3_column_int64(s, 0);
    p->claim_id = sqlite3_column_int64(s, 1);
    p->remittance_id = sqlite3_column_int64(s, 2);
    lsq_col_text(s, 3, p->status_code, sizeof p->status_code);
    lsq_col_text(s, 4, p->outcome, sizeof p->outcome);
    p->billed = sqlite3_column_int64(s, 5);
    p->paid = sqlite3_column_int64(s, 6);
    p->patient_resp = sqlite3_column_int64(s, 7);
    p->allowed = sqlite3_column_int64(s, 8);
    lsq_col_text(s, 9, p->payer_claim_no, sizeof p->payer_claim_no);
    p->reversal = sqlite3_column_int(s, 10);
    p->reversed_by = sqlite3_column_int64(s, 11);
    lsq_col_text(s, 12, p->posted_at, sizeof p->posted_at);
}

ch_code ledger_claim_payment_open(ledger *l, int64_t claim_id, const char *payer_claim_no, ledger_claim_payment *out,
                                  ch_error *err)
{
    int with_no = payer_claim_no && payer_claim_no[0];
    sqlite3_stmt *s = lrm_stmt(l, with_no ? R_CP_OPEN_NO : R_CP_OPEN, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, claim_id);
    if (with_no)
        lrm_bind_text(s, 2, payer_claim_no);
    int st = sqlite3_step(s);
    if (st == SQLITE_ROW)
        lrm_read_payment(s, out);
    sqlite3_reset(s);
    if (st == SQLITE_ROW)
        return CH_OK;
    return st == SQLITE_DONE ? ch_error_set(err, CH_ERR_NOTFOUND, "claim %" PRId64 ": no payment to reverse", claim_id)
                             : lsq_db_err(l, err, "read claim payment");
}

ch_code ledger_claim_payment_reverse(ledger *l, int64_t id, int64_t by, ch_error *err)
{
    sqlite3_stmt *s = lrm_stmt(l, R_CP_REVERSE, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, by);
    return lrm_done(l, s, "reverse claim payment", err);
}

/* --- PLB ---------------------------------------------------------------------------- */

ch_code ledger_plb_add(ledger *l, int64_t remittance_id, const char *provider_id, const char *fiscal_date,
                       const char *reason, const char *reference, int64_t cents, ch_error *err)
{
    sqlite3_stmt *s = lrm_stmt(l, R_PLB_INSERT, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, remittance_id);
    lrm_bind_text(s, 2, provider_id);
    lrm_bind_text(s, 3, fiscal_date);
    sqlite3_bind_text(s, 4, reason ? reason : "", -1, SQLITE_STATIC);
    lrm_bind_text(s, 5, reference);
    sqlite3_bind_int64(s, 6, cents);
    return lrm_done(l, s, "post provider adjustment", err);
}

/* --- worklist ------------------------------------------------------------------------- */

ch_code ledger_worklist_add(ledger *l, const ledger_work_item *w, ch_error *err)
{
    char at[32];
    lsq_stamp(l, at);
    sqlite3_stmt *s = lrm_stmt(l, R_WORK_INSERT, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_text(s, 1, w->kind, -1, SQLITE_STATIC);
    lrm_bind_text(s, 2, w->practice);
    lrm_bind_text(s, 3, w->payer);
    lrm_bind_id(s, 4, w->claim_id);
    lrm_bind_id(s, 5, w->remittance_id);
    lrm_bind_text(s, 6, w->file);
    lrm_bind_text(s, 7, w->reference);
    sqlite3_bind_int64(s, 8, w->amount_cents);
    sqlite3_bind_text(s, 9, w->reason[0] ? w->reason : "(no reason given)", -1, SQLITE_STATIC);
    lrm_bind_text(s, 10, at);
    return lrm_done(l, s, "add to worklist", err);
}
