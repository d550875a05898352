/*
 * ledger_exchange.c - the ledger's side of send and collect (see ledger.h,
 * "exchange with payers"), on the SQLite backend: batch delivery state
 * (remote name, attempts, next attempt, sent_at) and received files.
 * Schema: migration 2 in ledger_schema.c.
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ledger.h"
#include "ledger_backend.h"
#include "ledger_sqlite_int.h"

static void iso_ms(int64_t ms, char buf[32])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* "2026-11-23T12:00:00.123Z" -> epoch ms; 0 for anything else. */
static int64_t parse_iso_ms(const char *s)
{
    struct tm tm;
    int ms = 0;
    memset(&tm, 0, sizeof tm);
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec, &ms) < 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

/* Run one UPDATE with ?1 = batch id and text parameters ?2..; CH_ERR_INVALID
 * (with what) when no row matched. */
static ch_code update_batch(ledger *l, int64_t id, const char *sql, const char *what, const char *a, const char *b,
                            const char *c, int64_t n, ch_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(ledger_sqlite_db(l), sql, -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, what);
    sqlite3_bind_int64(s, 1, id);
    bind_text(s, 2, a);
    bind_text(s, 3, b);
    bind_text(s, 4, c);
    if (sqlite3_bind_parameter_count(s) >= 5)
        sqlite3_bind_int64(s, 5, n);
    int st = sqlite3_step(s);
    sqlite3_finalize(s);
    if (st == SQLITE_CONSTRAINT)
        return ch_error_set(err, CH_ERR_EXISTS, "ledger: batch %" PRId64 ": %s: %s", id, what,
                            sqlite3_errmsg(ledger_sqlite_db(l)));
    if (st != SQLITE_DONE)
        return lsq_db_err(l, err, what);
    if (sqlite3_changes(ledger_sqlite_db(l)) != 1) {
        ledger_batch b0;
        ch_error e2;
        if (ledger_batch_get(l, id, &b0, &e2) != CH_OK)
            return ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no batch %" PRId64, id);
        return ch_error_set(err, CH_ERR_INVALID, "ledger: batch %" PRId64 " is %s: cannot %s", id, b0.state, what);
    }
    return CH_OK;
}

/* --- batches ------------------------------------------------------------------ */

#define SEND_COLS LSQ_BATCH_COLS ", remote_name, attempts, next_attempt_at, sent_at"

static void read_row(sqlite3_stmt *s, ledger_batch *b, ledger_send_info *x)
{
    lsq_read_batch(s, b);
    memset(x, 0, sizeof *x);
    lsq_col_text(s, 19, x->remote_name, sizeof x->remote_name);
    x->attempts = (unsigned)sqlite3_column_int(s, 20);
    char at[32];
    lsq_col_text(s, 21, at, sizeof at);
    x->next_attempt_ms = parse_iso_ms(at);
    lsq_col_text(s, 22, x->sent_at, sizeof x->sent_at);
}

ch_code ledger_batches_to_send(ledger *l, const char *payer, ledger_send_fn fn, void *ctx, ch_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(ledger_sqlite_db(l),
                           "SELECT " SEND_COLS " FROM batches WHERE (state = 'sending' OR state = 'ready') "
                           "AND (?1 IS NULL OR payer = ?1) ORDER BY state = 'ready', id",
                           -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "list batches to send");
    bind_text(s, 1, payer);
    ledger_batch *b = malloc(sizeof *b);
    if (!b) {
        sqlite3_finalize(s);
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    }
    ledger_send_info x;
    int st;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        read_row(s, b, &x);
        if (fn(ctx, b, &x))
            break;
    }
    ch_code rc = st == SQLITE_ROW || st == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, "list batches to send");
    free(b);
    sqlite3_finalize(s);
    return rc;
}

ch_code ledger_batch_send_info(ledger *l, int64_t id, ledger_send_info *x, ch_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(ledger_sqlite_db(l), "SELECT " SEND_COLS " FROM batches WHERE id = ?1", -1, &s, NULL) !=
        SQLITE_OK)
        return lsq_db_err(l, err, "read batch");
    sqlite3_bind_int64(s, 1, id);
    int st = sqlite3_step(s);
    ch_code rc = CH_OK;
    if (st == SQLITE_ROW) {
        ledger_batch *b = malloc(sizeof *b);
        if (!b)
            rc = ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
        else
            read_row(s, b, x);
        free(b);
    } else if (st == SQLITE_DONE) {
        rc = ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no batch %" PRId64, id);
    } else {
        rc = lsq_db_err(l, err, "read batch");
    }
    sqlite3_finalize(s);
    return rc;
}

ch_code ledger_batch_start_send(ledger *l, int64_t id, const char *remote_name, const char *actor, ch_error *err)
{
    int own;
    ch_code rc = lsq_auto_begin(l, &own, err);
    if (rc != CH_OK)
        return rc;
    char at[32];
    lsq_now(at);
    rc = update_batch(l, id,
                      "UPDATE batches SET state = 'sending', remote_name = ?2, attempts = 0, "
                      "next_attempt_at = NULL, error = NULL, updated_at = ?3 WHERE id = ?1 AND state = 'ready'",
                      "start sending", remote_name, at, NULL, 0, err);
    char why[320];
    snprintf(why, sizeof why, "sending as %s", remote_name);
    if (rc == CH_OK)
        rc = ledger_batch_move_claims(l, id, LEDGER_READY, LEDGER_SENDING, 1, actor, why, NULL, err);
    return lsq_auto_end(l, own, rc, err);
}

ch_code ledger_batch_send_failed(ledger *l, int64_t id, unsigned attempts, int64_t next_attempt_ms,
                                 const char *why, ch_error *err)
{
    char at[32], next[32];
    lsq_now(at);
    if (next_attempt_ms > 0)
        iso_ms(next_attempt_ms, next);
    return update_batch(l, id,
                        "UPDATE batches SET attempts = ?5, next_attempt_at = ?3, error = ?4, updated_at = ?2 "
                        "WHERE id = ?1 AND state = 'sending'",
                        "record a failed attempt", at, next_attempt_ms > 0 ? next : NULL, why ? why : "",
                        (int64_t)attempts, err);
}

ch_code ledger_batch_send_note(ledger *l, int64_t id, const char *why, ch_error *err)
{
    char at[32];
    lsq_now(at);
    return update_batch(l, id, "UPDATE batches SET error = ?3, updated_at = ?2 WHERE id = ?1 AND state = 'sending'",
                        "note", at, why ? why : "", NULL, 0, err);
}

ch_code ledger_batch_sent(ledger *l, int64_t id, const char *actor, ch_error *err)
{
    int own;
    ch_code rc = lsq_auto_begin(l, &own, err);
    if (rc != CH_OK)
        return rc;
    char at[32];
    lsq_now(at);
    rc = update_batch(l, id,
                      "UPDATE batches SET state = 'sent', sent_at = ?2, next_attempt_at = NULL, error = NULL, "
                      "updated_at = ?2 WHERE id = ?1 AND state = 'sending'",
                      "mark sent", at, NULL, NULL, 0, err);
    if (rc == CH_OK) {
        ledger_send_info x;
        char why[320] = "delivered";
        if (ledger_batch_send_info(l, id, &x, NULL) == CH_OK && x.remote_name[0])
            snprintf(why, sizeof why, "delivered as %s", x.remote_name);
        rc = ledger_batch_move_claims(l, id, LEDGER_SENDING, LEDGER_SENT, 1, actor, why, NULL, err);
    }
    return lsq_auto_end(l, own, rc, err);
}

ch_code ledger_batch_send_give_up(ledger *l, int64_t id, const char *actor, const char *why, ch_error *err)
{
    int own;
    ch_code rc = lsq_auto_begin(l, &own, err);
    if (rc != CH_OK)
        return rc;
    char at[32];
    lsq_now(at);
    rc = update_batch(l, id,
                      "UPDATE batches SET state = 'failed', next_attempt_at = NULL, error = ?3, updated_at = ?2 "
                      "WHERE id = ?1 AND state = 'sending'",
                      "mark failed", at, why ? why : "", NULL, 0, err);
    if (rc == CH_OK)
        rc = ledger_batch_move_claims(l, id, LEDGER_SENDING, LEDGER_FAILED, 1, actor, why, NULL, err);
    return lsq_auto_end(l, own, rc, err);
}

/* --- received files --------------------------------------------------------------- */

#define RECV_COLS "id, payer, name, size, sha256, local_path, received_at, state, note"

static void read_received(sqlite3_stmt *s, ledger_received *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(s, 0);
    lsq_col_text(s, 1, r->payer, sizeof r->payer);
    lsq_col_text(s, 2, r->name, sizeof r->name);
    r->size = (uint64_t)sqlite3_column_int64(s, 3);
    lsq_col_text(s, 4, r->sha256, sizeof r->sha256);
    lsq_col_text(s, 5, r->local_path, sizeof r->local_path);
    lsq_col_text(s, 6, r->received_at, sizeof r->received_at);
    lsq_col_text(s, 7, r->state, sizeof r->state);
    lsq_col_text(s, 8, r->note, sizeof r->note);
}

ch_code ledger_received_add(ledger *l, const char *payer, const char *name, uint64_t size, const char *sha256,
                            const char *local_path, int64_t *id, ledger_received *existing, ch_error *err)
{
    sqlite3 *db = ledger_sqlite_db(l);
    sqlite3_stmt *s;
    char at[32];
    lsq_now(at);
    if (id)
        *id = 0;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO received_files(payer, name, size, sha256, local_path, received_at, state, "
                           "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'new', ?6) "
                           "ON CONFLICT(payer, sha256) DO NOTHING",
                           -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "record received file");
    bind_text(s, 1, payer);
    bind_text(s, 2, name);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)size);
    bind_text(s, 4, sha256);
    bind_text(s, 5, local_path);
    bind_text(s, 6, at);
    int st = sqlite3_step(s);
    sqlite3_finalize(s);
    if (st != SQLITE_DONE)
        return lsq_db_err(l, err, "record received file");
    if (sqlite3_changes(db) == 1) {
        if (id)
            *id = sqlite3_last_insert_rowid(db);
        return CH_OK;
    }
    /* that content was recorded before */
    if (existing) {
        if (sqlite3_prepare_v2(db, "SELECT " RECV_COLS " FROM received_files WHERE payer = ?1 AND sha256 = ?2", -1,
                               &s, NULL) != SQLITE_OK)
            return lsq_db_err(l, err, "read received file");
        bind_text(s, 1, payer);
        bind_text(s, 2, sha256);
        st = sqlite3_step(s);
        if (st == SQLITE_ROW)
            read_received(s, existing);
        sqlite3_finalize(s);
        if (st != SQLITE_ROW)
            return lsq_db_err(l, err, "read received file");
    }
    return ch_error_set(err, CH_ERR_EXISTS, "payer %s: %s: the same content was received before", payer, name);
}

ch_code ledger_received_each(ledger *l, const char *payer, const char *state, ledger_received_fn fn, void *ctx,
                             ch_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(ledger_sqlite_db(l),
                           "SELECT " RECV_COLS " FROM received_files WHERE (?1 IS NULL OR payer = ?1) "
                           "AND (?2 IS NULL OR state = ?2) ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "list received files");
    bind_text(s, 1, payer);
    bind_text(s, 2, state);
    ledger_received *r = malloc(sizeof *r);
    if (!r) {
        sqlite3_finalize(s);
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    }
    int st;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        read_received(s, r);
        if (fn(ctx, r))
            break;
    }
    ch_code rc = st == SQLITE_ROW || st == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, "list received files");
    free(r);
    sqlite3_finalize(s);
    return rc;
}

ch_code ledger_received_set_state(ledger *l, int64_t id, const char *state, const char *note, ch_error *err)
{
    if (!state || (strcmp(state, "new") && strcmp(state, "reconciled") && strcmp(state, "failed")))
        return ch_error_set(err, CH_ERR_INVALID, "ledger: '%s' is not a received file state", state ? state : "");
    sqlite3 *db = ledger_sqlite_db(l);
    sqlite3_stmt *s;
    char at[32];
    lsq_now(at);
    if (sqlite3_prepare_v2(db,
                           "UPDATE received_files SET state = ?2, note = coalesce(?3, note), updated_at = ?4 "
                           "WHERE id = ?1",
                           -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "update received file");
    sqlite3_bind_int64(s, 1, id);
    bind_text(s, 2, state);
    bind_text(s, 3, note);
    bind_text(s, 4, at);
    int st = sqlite3_step(s);
    sqlite3_finalize(s);
    if (st != SQLITE_DONE)
        return lsq_db_err(l, err, "update received file");
    if (sqlite3_changes(db) != 1)
        return ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no received file %" PRId64, id);
    return CH_OK;
}
