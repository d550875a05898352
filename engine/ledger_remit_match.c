/*
 * ledger_remit_match.c - what a response is matched to in the ledger, and
 * what it does there (see ledger_remit_int.h): the claims it may name (by
 * PCN or payer key, by charge and dates, by id) with their documents, the
 * payer keys indexed for that, moving a claim on the verdict, and the
 * batches and acknowledgments of a 999.
 *
 * The lookups run once or twice per claim posted: their row readers are
 * here with them.
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "ledger_remit_int.h"
#include "ledger_sqlite_int.h"

/* states a response may touch: sent and after, but not failed or void */
/* (checked in C: a constant IN list makes SQLite build a table on every run) */
static int response_state(ledger_state s)
{
    return s == LEDGER_SENT || s == LEDGER_ACKNOWLEDGED || s == LEDGER_ACCEPTED || s == LEDGER_REJECTED ||
           s == LEDGER_PAID || s == LEDGER_PARTIAL || s == LEDGER_DENIED;
}

static void read_brief(sqlite3_stmt *s, ledger_claim_brief *b)
{
    memset(b, 0, sizeof *b);
    b->id = sqlite3_column_int64(s, 0);
    lsq_col_text(s, 1, b->pcn, sizeof b->pcn);
    lsq_col_text(s, 2, b->practice, sizeof b->practice);
    lsq_col_text(s, 3, b->payer, sizeof b->payer);
    char st[16];
    lsq_col_text(s, 4, st, sizeof st);
    ledger_state_parse(st, &b->state);
    b->total_cents = sqlite3_column_int64(s, 5);
    lsq_col_text(s, 6, b->service_date, sizeof b->service_date);
    b->batch_id = sqlite3_column_int64(s, 7);
    lsq_col_text(s, 8, b->payer_claim_no, sizeof b->payer_claim_no);
}

/* Collect the rows of s into out (up to max), counting up to max + 1; with
 * doc, the blob after the brief's columns of the first row kept goes there
 * (doc->len 0: none). */
static ch_code collect_doc(ledger *l, sqlite3_stmt *s, ledger_claim_brief *out, size_t max, size_t *n,
                           ledger_text *doc, ch_error *err)
{
    int st;
    ledger_claim_brief b;
    ch_code rc = CH_OK;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        read_brief(s, &b);
        if (!response_state(b.state))
            continue;
        if (doc && *n == 0) {
            const void *blob = sqlite3_column_blob(s, 9);
            size_t len = (size_t)sqlite3_column_bytes(s, 9);
            doc->len = 0;
            if (blob && len) {
                if (len + 1 > doc->cap) {
                    char *p = realloc(doc->p, len + 1);
                    if (!p) {
                        rc = ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
                        break;
                    }
                    doc->p = p;
                    doc->cap = len + 1;
                }
                memcpy(doc->p, blob, len);
                doc->p[len] = '\0';
                doc->len = len;
            }
        }
        if (*n < max)
            out[*n] = b;
        (*n)++;
        if (*n > max)
            break;
    }
    sqlite3_reset(s);
    if (rc != CH_OK)
        return rc;
    return st == SQLITE_ROW || st == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, "find claims");
}

static ch_code collect(ledger *l, sqlite3_stmt *s, ledger_claim_brief *out, size_t max, size_t *n, ch_error *err)
{
    return collect_doc(l, s, out, max, n, NULL, err);
}

/* --- matching ------------------------------------------------------------------ */

ch_code ledger_claim_keys_refresh(ledger *l, const char *payer, const char *sig, ledger_key_fn fn, void *ctx,
                                  ch_error *err)
{
    sqlite3 *db = lsq_db(l);
    int own;
    ch_code rc = lsq_auto_begin(l, &own, err);
    if (rc != CH_OK)
        return rc;
    sqlite3_stmt *q = NULL, *d = NULL;
    int64_t last = 0, max_id = 0;
    if (sqlite3_prepare_v2(db, "SELECT last_claim_id FROM claim_keys_done WHERE payer = ?1 AND sig = ?2", -1, &q,
                           NULL) != SQLITE_OK) {
        rc = lsq_db_err(l, err, "payer keys");
        goto out;
    }
    lrm_bind_text(q, 1, payer);
    lrm_bind_text(q, 2, sig);
    if (sqlite3_step(q) == SQLITE_ROW)
        last = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_prepare_v2(db, "SELECT id, pcn FROM claims WHERE payer = ?1 AND id > ?2 ORDER BY id", -1, &q, NULL) !=
        SQLITE_OK) {
        rc = lsq_db_err(l, err, "payer keys");
        goto out;
    }
    lrm_bind_text(q, 1, payer);
    sqlite3_bind_int64(q, 2, last);
    max_id = last;
    int st;
    while ((st = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        const char *pcn = (const char *)sqlite3_column_text(q, 1);
        char key[128];
        fn(ctx, pcn ? pcn : "", key, sizeof key);
        max_id = id;
        if (!key[0] || (pcn && !strcmp(key, pcn)))
            continue; /* found by its PCN already */
        sqlite3_stmt *ins = lrm_stmt(l, R_KEY_INSERT, err);
        if (!ins) {
            rc = err ? err->code : CH_ERR_DB;
            goto out;
        }
        lrm_bind_text(ins, 1, payer);
        lrm_bind_text(ins, 2, sig);
        lrm_bind_text(ins, 3, key);
        sqlite3_bind_int64(ins, 4, id);
        if ((rc = lrm_done(l, ins, "payer keys", err)) != CH_OK)
            goto out;
    }
    if (st != SQLITE_DONE) {
        rc = lsq_db_err(l, err, "payer keys");
        goto out;
    }
    if (max_id > last) {
        if (sqlite3_prepare_v2(db,
                               "INSERT INTO claim_keys_done VALUES (?1, ?2, ?3) ON CONFLICT(payer, sig) "
                               "DO UPDATE SET last_claim_id = excluded.last_claim_id",
                               -1, &d, NULL) != SQLITE_OK) {
            rc = lsq_db_err(l, err, "payer keys");
            goto out;
        }
        lrm_bind_text(d, 1, payer);
        lrm_bind_text(d, 2, sig);
        sqlite3_bind_int64(d, 3, max_id);
        rc = lrm_done(l, d, "payer keys", err);
    }
out:
    sqlite3_finalize(q);
    sqlite3_finalize(d);
    return lsq_auto_end(l, own, rc, err);
}

static ch_code by_key(ledger *l, const char *payer, const char *practice, const char *sig, const char *key,
                      ledger_claim_brief *out, size_t max, size_t *n, ledger_text *doc, ch_error *err)
{
    *n = 0;
    if (doc)
        doc->len = 0;
    sqlite3_stmt *s = lrm_stmt(l, doc ? R_BY_PCN_DOC : R_BY_PCN, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    lrm_bind_text(s, 1, key);
    lrm_bind_text(s, 2, payer);
    lrm_bind_text(s, 3, practice);
    ch_code rc = collect_doc(l, s, out, max, n, doc, err);
    if (rc != CH_OK || !sig || !sig[0] || !payer || *n > max)
        return rc;
    if (!(s = lrm_stmt(l, doc ? R_BY_KEY_DOC : R_BY_KEY, err)))
        return err ? err->code : CH_ERR_DB;
    lrm_bind_text(s, 1, key);
    lrm_bind_text(s, 2, payer);
    lrm_bind_text(s, 3, practice);
    lrm_bind_text(s, 4, sig);
    return collect_doc(l, s, out, max, n, doc, err);
}

ch_code ledger_claims_by_key(ledger *l, const char *payer, const char *practice, const char *sig, const char *key,
                             ledger_claim_brief *out, size_t max, size_t *n, ch_error *err)
{
    return by_key(l, payer, practice, sig, key, out, max, n, NULL, err);
}

ch_code ledger_claims_by_key_doc(ledger *l, const char *payer, const char *practice, const char *sig,
                                 const char *key, ledger_claim_brief *out, size_t max, size_t *n, const void **doc,
                                 size_t *doc_len, ch_error *err)
{
    *doc = NULL;
    *doc_len = 0;
    struct ledger_remit_stmts **rp = lsq_remit(l);
    if (!*rp && !(*rp = calloc(1, sizeof **rp)))
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    ledger_text *d = &(*rp)->doc;
    ch_code rc = by_key(l, payer, practice, sig, key, out, max, n, d, err);
    if (rc == CH_OK && *n && d->len) {
        *doc = d->p;
        *doc_len = d->len;
    }
    return rc;
}

ch_code ledger_claims_by_charge_dates(ledger *l, const char *payer, const char *practice, int64_t charge,
                                      const char *from, const char *to, ledger_claim_brief *out, size_t max,
                                      size_t *n, ch_error *err)
{
    *n = 0;
    sqlite3_stmt *s = lrm_stmt(l, R_BY_CHARGE, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, charge);
    lrm_bind_text(s, 2, from);
    lrm_bind_text(s, 3, to && to[0] ? to : from);
    lrm_bind_text(s, 4, payer);
    lrm_bind_text(s, 5, practice);
    return collect(l, s, out, max, n, err);
}

ch_code ledger_claim_brief_get(ledger *l, int64_t id, ledger_claim_brief *out, ch_error *err)
{
    sqlite3_stmt *s = lrm_stmt(l, R_BRIEF, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    int st = sqlite3_step(s);
    if (st == SQLITE_ROW)
        read_brief(s, out);
    sqlite3_reset(s);
    if (st == SQLITE_ROW)
        return CH_OK;
    return st == SQLITE_DONE ? ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no claim %" PRId64, id)
                             : lsq_db_err(l, err, "read claim");
}

ch_code ledger_claim_doc(ledger *l, int64_t id, void **doc, size_t *len, ch_error *err)
{
    *doc = NULL;
    *len = 0;
    sqlite3_stmt *s = lrm_stmt(l, R_DOC, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    int st = sqlite3_step(s);
    ch_code rc = CH_OK;
    if (st == SQLITE_ROW) {
        int n = sqlite3_column_bytes(s, 0);
        const void *b = sqlite3_column_blob(s, 0);
        *doc = malloc(n > 0 ? (size_t)n : 1);
        if (!*doc)
            rc = ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
        else {
            if (n > 0)
                memcpy(*doc, b, (size_t)n);
            *len = (size_t)n;
        }
    } else
        rc = st == SQLITE_DONE ? ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no document for claim %" PRId64, id)
                               : lsq_db_err(l, err, "read claim document");
    sqlite3_reset(s);
    return rc;
}

ch_code ledger_claim_respond(ledger *l, const ledger_claim_brief *c, ledger_state to, const char *payer_claim_no,
                             const char *actor, const char *why, int *moved, ch_error *err)
{
    if (moved)
        *moved = 0;
    int go = to != c->state && ledger_transition_ok(c->state, to);
    if (!go) {
        if (payer_claim_no && payer_claim_no[0] && strcmp(payer_claim_no, c->payer_claim_no))
            return ledger_claim_set_payer_claim_no(l, c->id, payer_claim_no, err);
        return CH_OK;
    }
    char at[32];
    lsq_stamp(l, at);
    sqlite3_stmt *s = lrm_stmt(l, R_RESPOND, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, c->id);
    sqlite3_bind_text(s, 2, ledger_state_name(to), -1, SQLITE_STATIC);
    lrm_bind_text(s, 3, payer_claim_no);
    sqlite3_bind_text(s, 4, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, ledger_state_name(c->state), -1, SQLITE_STATIC);
    ch_code rc = lrm_done(l, s, "move claim", err);
    if (rc != CH_OK)
        return rc;
    if (sqlite3_changes(lsq_db(l)) != 1)
        return ch_error_set(err, CH_ERR_INVALID, "ledger: claim %" PRId64 " is no longer %s", c->id,
                            ledger_state_name(c->state));
    if (moved)
        *moved = 1;
    /* held and written with others (ledger_hold.c) */
    return lsq_hold_event(l, c->id, at, actor, ledger_state_name(c->state), ledger_state_name(to), why, c->batch_id,
                          err);
}

ch_code ledger_claim_set_payer_claim_no(ledger *l, int64_t id, const char *no, ch_error *err)
{
    sqlite3_stmt *s = lrm_stmt(l, R_SET_PCN_NO, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    lrm_bind_text(s, 2, no);
    return lrm_done(l, s, "store payer claim number", err);
}

/* --- 999 ---------------------------------------------------------------------------- */

ch_code ledger_batches_by_gs06(ledger *l, uint64_t gs06, const char *sender, const char *receiver,
                               ledger_batch *out, size_t max, size_t *n, ch_error *err)
{
    *n = 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(lsq_db(l),
                           "SELECT " LSQ_BATCH_COLS " FROM batches WHERE gs06 = ?1 AND (?2 IS NULL OR sender = ?2) "
                           "AND (?3 IS NULL OR receiver = ?3) AND state != 'discarded' ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "find batch");
    for (int pass = 0; pass < 2; pass++) {
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, (int64_t)gs06);
        /* first any sender and receiver; when that is not one batch, theirs */
        lrm_bind_text(s, 2, pass ? sender : NULL);
        lrm_bind_text(s, 3, pass ? receiver : NULL);
        *n = 0;
        int st;
        while ((st = sqlite3_step(s)) == SQLITE_ROW) {
            if (*n < max) {
                lsq_read_batch(s, &out[*n]);
            }
            (*n)++;
        }
        if (st != SQLITE_DONE) {
            sqlite3_finalize(s);
            return lsq_db_err(l, err, "find batch");
        }
        if (*n <= 1 || (!sender && !receiver))
            break;
    }
    sqlite3_finalize(s);
    return CH_OK;
}

ch_code ledger_ack_add(ledger *l, const ledger_ack *a, int *dup, ch_error *err)
{
    char at[32];
    lsq_stamp(l, at);
    sqlite3_stmt *s = lrm_stmt(l, R_ACK_INSERT, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    lrm_bind_id(s, 1, a->batch_id);
    lrm_bind_text(s, 2, a->file);
    lrm_bind_text(s, 3, a->sha256);
    sqlite3_bind_text(s, 4, a->gs06 ? a->gs06 : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, a->st02 ? a->st02 : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 6, a->accepted ? 1 : 0);
    sqlite3_bind_text(s, 7, a->status ? a->status : "", -1, SQLITE_STATIC);
    lrm_bind_text(s, 8, a->reason);
    sqlite3_bind_int64(s, 9, a->claims);
    lrm_bind_text(s, 10, at);
    ch_code rc = lrm_done(l, s, "record acknowledgment", err);
    if (dup)
        *dup = rc == CH_OK && sqlite3_changes(lsq_db(l)) == 0;
    return rc;
}
