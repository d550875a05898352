/*
 * ledger_claims.c - claims in the ledger: listing and counting them by a
 * filter, moving one from state to state, and their events (see ledger.h).
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "ledger.h"
#include "ledger_sqlite_int.h"

/* --- events ------------------------------------------------------------------------- */

ch_code lsq_event(ledger *l, int64_t claim_id, const char *at, const char *actor, const char *from,
                  const char *to, const char *why, int64_t batch_id, ch_error *err)
{
    sqlite3_stmt *s = lsq_stmt(l, LSQ_S_EVENT_INSERT);
    sqlite3_bind_int64(s, 1, claim_id);
    lsq_bind_text(s, 2, at);
    lsq_bind_text(s, 3, actor && actor[0] ? actor : "engine");
    lsq_bind_text(s, 4, from);
    lsq_bind_text(s, 5, to);
    lsq_bind_text(s, 6, why ? why : "");
    if (batch_id > 0)
        sqlite3_bind_int64(s, 7, batch_id);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    return r == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, "append event");
}

/* --- claims --------------------------------------------------------------------------- */

#define CLAIM_COLS                                                                                    \
    "c.id, c.pcn, c.practice, c.payer, c.claim_type, c.encounter_id, c.version, c.frequency, c.state, "   \
    "c.total_cents, c.service_date, c.batch_id, c.replaces, c.created_at, c.updated_at, c.last_error"

/* WHERE clause for a filter.  The state is written into the SQL (it is one
 * of a fixed list of words): that lets SQLite use the index of queued
 * claims, which a bound parameter would not. */
static void filter_sql(const ledger_filter *f, char *where, size_t size)
{
    size_t n = 0;
    where[0] = '\0';
    char cond[64];
#define ADD(c) n += (size_t)snprintf(where + n, n < size ? size - n : 0, "%s%s", n ? " AND " : " WHERE ", c)
    if (f->state >= 0 && f->state < LEDGER_STATE__COUNT) {
        snprintf(cond, sizeof cond, "c.state = '%s'", ledger_state_name((ledger_state)f->state));
        ADD(cond);
    }
    if (f->practice)
        ADD("c.practice = ?2");
    if (f->payer)
        ADD("c.payer = ?3");
    if (f->claim_type)
        ADD("c.claim_type = ?4");
    if (f->batch_id > 0)
        ADD("c.batch_id = ?5");
    if (f->after_id > 0)
        ADD("c.id > ?6");
    if (f->pcn)
        ADD("c.pcn = ?7");
    if (f->scope && !f->scope->all)
        ADD(f->scope->n ? "c.practice IN (SELECT value FROM json_each(?8))" : "0");
#undef ADD
}

static void filter_bind(sqlite3_stmt *s, const ledger_filter *f)
{
    lsq_bind_text(s, 2, f->practice);
    lsq_bind_text(s, 3, f->payer);
    lsq_bind_text(s, 4, f->claim_type);
    if (f->batch_id > 0)
        sqlite3_bind_int64(s, 5, f->batch_id);
    if (f->after_id > 0)
        sqlite3_bind_int64(s, 6, f->after_id);
    lsq_bind_text(s, 7, f->pcn);
    if (f->scope && !f->scope->all && f->scope->n) {
        char json[LEDGER_SCOPE_MAX * 36 + 4];
        ledger_scope_json(f->scope, json, sizeof json);
        sqlite3_bind_text(s, 8, json, -1, SQLITE_TRANSIENT);
    }
}

ch_code ledger_claims_each(ledger *l, const ledger_filter *f, ledger_claim_fn fn, void *ctx, ch_error *err)
{
    char where[512], sql[1024];
    filter_sql(f, where, sizeof where);
    char limit[48] = "";
    if (f->limit)
        snprintf(limit, sizeof limit, " LIMIT %zu", f->limit);
    if (f->with_doc)
        snprintf(sql, sizeof sql,
                 "SELECT " CLAIM_COLS ", v.doc FROM claims c JOIN encounter_versions v ON v.practice = c.practice "
                 "AND v.encounter_id = c.encounter_id AND v.version = c.version%s ORDER BY c.id%s",
                 where, limit);
    else
        snprintf(sql, sizeof sql, "SELECT " CLAIM_COLS " FROM claims c%s ORDER BY c.id%s", where, limit);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db, sql, -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "list claims");
    filter_bind(s, f);
    ledger_claim c;
    int st;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&c, 0, sizeof c);
        c.id = sqlite3_column_int64(s, 0);
        lsq_col_text(s, 1, c.pcn, sizeof c.pcn);
        lsq_col_text(s, 2, c.practice, sizeof c.practice);
        lsq_col_text(s, 3, c.payer, sizeof c.payer);
        lsq_col_text(s, 4, c.claim_type, sizeof c.claim_type);
        lsq_col_text(s, 5, c.encounter_id, sizeof c.encounter_id);
        c.version = (unsigned)sqlite3_column_int(s, 6);
        c.frequency = sqlite3_column_int(s, 7);
        char state[16];
        lsq_col_text(s, 8, state, sizeof state);
        ledger_state_parse(state, &c.state);
        c.total_cents = sqlite3_column_int64(s, 9);
        lsq_col_text(s, 10, c.service_date, sizeof c.service_date);
        c.batch_id = sqlite3_column_int64(s, 11);
        c.replaces = sqlite3_column_int64(s, 12);
        lsq_col_text(s, 13, c.created_at, sizeof c.created_at);
        lsq_col_text(s, 14, c.updated_at, sizeof c.updated_at);
        lsq_col_text(s, 15, c.last_error, sizeof c.last_error);
        if (f->with_doc) {
            c.doc = sqlite3_column_blob(s, 16);
            c.doc_len = (size_t)sqlite3_column_bytes(s, 16);
        }
        if (fn(ctx, &c))
            break;
    }
    ch_code rc = st == SQLITE_ROW || st == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, "list claims");
    sqlite3_finalize(s);
    return rc;
}

ch_code ledger_claims_count(ledger *l, const ledger_filter *f, uint64_t counts[LEDGER_STATE__COUNT], ch_error *err)
{
    memset(counts, 0, sizeof(uint64_t) * LEDGER_STATE__COUNT);
    char where[512], sql[1024];
    filter_sql(f, where, sizeof where);
    snprintf(sql, sizeof sql, "SELECT c.state, count(*) FROM claims c%s GROUP BY c.state", where);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db, sql, -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "count claims");
    filter_bind(s, f);
    int st;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        char name[16];
        ledger_state ls;
        lsq_col_text(s, 0, name, sizeof name);
        if (ledger_state_parse(name, &ls) == CH_OK)
            counts[ls] = (uint64_t)sqlite3_column_int64(s, 1);
    }
    ch_code rc = st == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, "count claims");
    sqlite3_finalize(s);
    return rc;
}

static ch_code move(ledger *l, int64_t id, ledger_state to, int64_t batch_id, const char *actor, const char *why,
                    ch_error *err)
{
    char at[32], from_s[16];
    lsq_stamp(l, at);
    sqlite3_stmt *b = lsq_stmt(l, LSQ_S_CLAIM_BRIEF);
    sqlite3_bind_int64(b, 1, id);
    int st = sqlite3_step(b);
    if (st != SQLITE_ROW) {
        sqlite3_reset(b);
        return st == SQLITE_DONE ? ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no claim %" PRId64, id)
                                 : lsq_db_err(l, err, "read claim");
    }
    lsq_col_text(b, 0, from_s, sizeof from_s);
    int64_t cur_batch = sqlite3_column_int64(b, 3);
    sqlite3_reset(b);
    ledger_state from;
    if (ledger_state_parse(from_s, &from) != CH_OK || !ledger_transition_ok(from, to))
        return ch_error_set(err, CH_ERR_INVALID, "ledger: claim %" PRId64 " cannot go from %s to %s", id, from_s,
                            ledger_state_name(to));
    int64_t batch = batch_id < 0 ? cur_batch : batch_id; /* -1: keep the one it has */
    sqlite3_stmt *u = lsq_stmt(l, LSQ_S_CLAIM_SET);
    sqlite3_bind_int64(u, 1, id);
    lsq_bind_text(u, 2, ledger_state_name(to));
    if (batch > 0)
        sqlite3_bind_int64(u, 3, batch);
    lsq_bind_text(u, 4, to == LEDGER_FAILED ? why : NULL);
    lsq_bind_text(u, 5, at);
    st = sqlite3_step(u);
    sqlite3_reset(u);
    if (st != SQLITE_DONE)
        return lsq_db_err(l, err, "move claim");
    /* the event names the batch the claim is in, or the one it just left */
    return lsq_event(l, id, at, actor, from_s, ledger_state_name(to), why, batch > 0 ? batch : cur_batch, err);
}

ch_code ledger_claim_move(ledger *l, int64_t claim_id, ledger_state to, int64_t batch_id, const char *actor,
                          const char *why, ch_error *err)
{
    int own;
    ch_code rc = lsq_auto_begin(l, &own, err);
    if (rc != CH_OK)
        return rc;
    rc = move(l, claim_id, to, batch_id, actor, why, err);
    return lsq_auto_end(l, own, rc, err);
}

ch_code ledger_claim_events(ledger *l, int64_t claim_id, ledger_event_fn fn, void *ctx, ch_error *err)
{
    ch_code frc = lsq_flush(l, err);
    if (frc != CH_OK)
        return frc;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db,
                           "SELECT id, claim_id, batch_id, at, actor, from_state, to_state, why FROM events "
                           "WHERE claim_id = ?1 ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "read events");
    sqlite3_bind_int64(s, 1, claim_id);
    int st;
    ledger_event e;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&e, 0, sizeof e);
        e.id = sqlite3_column_int64(s, 0);
        e.claim_id = sqlite3_column_int64(s, 1);
        e.batch_id = sqlite3_column_int64(s, 2);
        lsq_col_text(s, 3, e.at, sizeof e.at);
        lsq_col_text(s, 4, e.actor, sizeof e.actor);
        lsq_col_text(s, 5, e.from_state, sizeof e.from_state);
        lsq_col_text(s, 6, e.to_state, sizeof e.to_state);
        lsq_col_text(s, 7, e.why, sizeof e.why);
        if (fn(ctx, &e))
            break;
    }
    ch_code rc = st == SQLITE_ROW || st == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, "read events");
    sqlite3_finalize(s);
    return rc;
}

/* for ledger_remit.c (ledger_sqlite_int.h): a move that keeps the claim's batch */
ch_code lsq_move(ledger *l, int64_t id, ledger_state to, const char *actor, const char *why, ch_error *err)
{
    return move(l, id, to, -1, actor, why, err);
}
