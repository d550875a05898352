/*
 * ledger_remit_read.c - reading back what reconciliation recorded (see
 * ledger_remit_int.h): the remittances whose posting report is still to
 * be written and marking them reported, a claim's payments, a
 * remittance's postings for its report, the open worklist.
 *
 * Each runs once per report or listing, with a statement of its own.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "ledger_payjson.h"
#include "ledger_remit_int.h"
#include "ledger_sqlite_int.h"

/* --- remittances -------------------------------------------------------------------- */

ch_code ledger_remittances_unreported(ledger *l, ledger_id_fn fn, void *ctx, ch_error *err)
{
    ch_code rc = lsq_flush(l, err);
    if (rc != CH_OK)
        return rc;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(lsq_db(l), "SELECT id FROM remittances WHERE reported_at IS NULL ORDER BY id", -1, &s,
                           NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "list unreported remittances");
    int st;
    while ((st = sqlite3_step(s)) == SQLITE_ROW)
        if (fn(ctx, sqlite3_column_int64(s, 0)))
            break;
    if (st != SQLITE_ROW && st != SQLITE_DONE)
        rc = lsq_db_err(l, err, "list unreported remittances");
    sqlite3_finalize(s);
    return rc;
}

ch_code ledger_remittances_reported(ledger *l, const int64_t *ids, size_t n, ch_error *err)
{
    if (n == 0)
        return CH_OK;
    /* one statement marks them all */
    size_t len;
    char *json = lsq_ids_json(ids, n, &len);
    if (!json)
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    char at[32];
    lsq_stamp(l, at);
    ch_code rc = lsq_flush(l, err);
    sqlite3_stmt *s = NULL;
    if (rc == CH_OK && sqlite3_prepare_v2(lsq_db(l),
                                          "UPDATE remittances SET reported_at = ?2 "
                                          "WHERE id IN (SELECT value FROM json_each(?1)) AND reported_at IS NULL",
                                          -1, &s, NULL) != SQLITE_OK)
        rc = lsq_db_err(l, err, "mark remittances reported");
    if (rc == CH_OK) {
        sqlite3_bind_text(s, 1, json, (int)len, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, at, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE)
            rc = lsq_db_err(l, err, "mark remittances reported");
    }
    sqlite3_finalize(s);
    free(json);
    return rc;
}

/* --- claim payments ----------------------------------------------------------------- */

ch_code ledger_claim_payments_each(ledger *l, int64_t claim_id, ledger_payment_fn fn, void *ctx, ch_error *err)
{
    ch_code frc = lsq_flush(l, err);
    if (frc != CH_OK)
        return frc;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(lsq_db(l),
                           "SELECT id, claim_id, remittance_id, status_code, outcome, billed_cents, paid_cents, "
                           "patient_resp_cents, allowed_cents, payer_claim_no, reversal, reversed_by, posted_at "
                           "FROM claim_payments WHERE claim_id = ?1 ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "list claim payments");
    sqlite3_bind_int64(s, 1, claim_id);
    int st;
    ledger_claim_payment p;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        lrm_read_payment(s, &p);
        if (fn(ctx, &p))
            break;
    }
    ch_code rc = st == SQLITE_ROW || st == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, "list claim payments");
    sqlite3_finalize(s);
    return rc;
}

ch_code ledger_postings_each(ledger *l, int64_t remittance_id, ledger_posting_fn fn, void *ctx, ch_error *err)
{
    ch_code frc = lsq_flush(l, err);
    if (frc != CH_OK)
        return frc;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(
            lsq_db(l),
            "SELECT cp.id, cp.claim_id, cp.remittance_id, cp.status_code, cp.outcome, cp.billed_cents, cp.paid_cents, "
            "cp.patient_resp_cents, cp.allowed_cents, cp.payer_claim_no, cp.reversal, cp.reversed_by, cp.posted_at, "
            "c.practice, c.pcn, c.state, r.trace_key, cp.adj, cp.lines "
            "FROM claim_payments cp JOIN claims c ON c.id = cp.claim_id JOIN remittances r ON r.id = cp.remittance_id "
            "WHERE cp.remittance_id = ?1 ORDER BY cp.id",
            -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "list postings");
    sqlite3_bind_int64(s, 1, remittance_id);
    int st;
    ledger_posting p;
    ch_code rc = CH_OK;
    struct ledger_remit_stmts **rp = lsq_remit(l);
    if (!*rp && !(*rp = calloc(1, sizeof **rp))) {
        sqlite3_finalize(s);
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    }
    ledger_text *text = &(*rp)->text;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&p, 0, sizeof p);
        lrm_read_payment(s, &p.pay);
        lsq_col_text(s, 13, p.practice, sizeof p.practice);
        lsq_col_text(s, 14, p.pcn, sizeof p.pcn);
        char state[16];
        lsq_col_text(s, 15, state, sizeof state);
        ledger_state_parse(state, &p.state);
        lsq_col_text(s, 16, p.trace_key, sizeof p.trace_key);
        if ((rc = ledger_payjson_text(text, (const char *)sqlite3_column_text(s, 17),
                                      (const char *)sqlite3_column_text(s, 18), err)) != CH_OK)
            break;
        p.adjustments = text->p;
        if (fn(ctx, &p))
            break;
    }
    if (rc == CH_OK && st != SQLITE_ROW && st != SQLITE_DONE)
        rc = lsq_db_err(l, err, "list postings");
    sqlite3_finalize(s);
    return rc;
}

/* --- worklist ------------------------------------------------------------------------- */

ch_code ledger_worklist_each(ledger *l, const char *practice, const char *kind, ledger_work_fn fn, void *ctx,
                             ch_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(lsq_db(l),
                           "SELECT id, kind, practice, payer, claim_id, remittance_id, file, reference, amount_cents, "
                           "reason, created_at FROM worklist WHERE resolved_at IS NULL "
                           "AND (?1 IS NULL OR practice = ?1) AND (?2 IS NULL OR kind = ?2) ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "list worklist");
    lrm_bind_text(s, 1, practice);
    lrm_bind_text(s, 2, kind);
    int st;
    ledger_work_item w;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&w, 0, sizeof w);
        w.id = sqlite3_column_int64(s, 0);
        lsq_col_text(s, 1, w.kind, sizeof w.kind);
        lsq_col_text(s, 2, w.practice, sizeof w.practice);
        lsq_col_text(s, 3, w.payer, sizeof w.payer);
        w.claim_id = sqlite3_column_int64(s, 4);
        w.remittance_id = sqlite3_column_int64(s, 5);
        lsq_col_text(s, 6, w.file, sizeof w.file);
        lsq_col_text(s, 7, w.reference, sizeof w.reference);
        w.amount_cents = sqlite3_column_int64(s, 8);
        lsq_col_text(s, 9, w.reason, sizeof w.reason);
        lsq_col_text(s, 10, w.created_at, sizeof w.created_at);
        if (fn(ctx, &w))
            break;
    }
    ch_code rc = st == SQLITE_ROW || st == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, "list worklist");
    sqlite3_finalize(s);
    return rc;
}
