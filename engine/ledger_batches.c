/*
 * ledger_batches.c - batches in the ledger: the groups of queued claims a
 * batch is made from, control numbers, creating a batch, assigning claims
 * to it, and moving its claims together (see ledger.h).
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "ledger_sqlite_int.h"

ch_code ledger_queued_groups(ledger *l, ledger_group **groups, size_t *n, ch_error *err)
{
    *groups = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db,
                           "SELECT practice, payer, claim_type, count(*) FROM claims WHERE state = 'queued' "
                           "GROUP BY practice, payer, claim_type ORDER BY practice, payer, claim_type",
                           -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "list queued claims");
    size_t cap = 0;
    int st;
    ch_code rc = CH_OK;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            ledger_group *g = realloc(*groups, nc * sizeof *g);
            if (!g) {
                rc = ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
                break;
            }
            *groups = g;
            cap = nc;
        }
        ledger_group *g = &(*groups)[(*n)++];
        lsq_col_text(s, 0, g->practice, sizeof g->practice);
        lsq_col_text(s, 1, g->payer, sizeof g->payer);
        lsq_col_text(s, 2, g->claim_type, sizeof g->claim_type);
        g->count = (uint64_t)sqlite3_column_int64(s, 3);
    }
    if (rc == CH_OK && st != SQLITE_DONE && st != SQLITE_ROW)
        rc = lsq_db_err(l, err, "list queued claims");
    sqlite3_finalize(s);
    if (rc != CH_OK) {
        free(*groups);
        *groups = NULL;
        *n = 0;
    }
    return rc;
}

static const char *const control_kind[] = {"ISA13", "GS06", "ST02"};

ch_code ledger_control_next(ledger *l, const char *sender, const char *receiver, ledger_control_kind kind,
                            unsigned count, uint64_t *first, ch_error *err)
{
    if ((unsigned)kind > LEDGER_ST02 || count == 0)
        return ch_error_set(err, CH_ERR_USAGE, "ledger: bad control number request");
    int own;
    ch_code rc = lsq_auto_begin(l, &own, err);
    if (rc != CH_OK)
        return rc;
    sqlite3_stmt *g = lsq_stmt(l, LSQ_S_CONTROL_GET);
    lsq_bind_text(g, 1, sender);
    lsq_bind_text(g, 2, receiver);
    lsq_bind_text(g, 3, control_kind[kind]);
    uint64_t last = 0;
    int st = sqlite3_step(g);
    if (st == SQLITE_ROW)
        last = (uint64_t)sqlite3_column_int64(g, 0);
    sqlite3_reset(g);
    if (st != SQLITE_ROW && st != SQLITE_DONE)
        return lsq_auto_end(l, own, lsq_db_err(l, err, "read control number"), err);
    if (last + count > 999999999u)
        return lsq_auto_end(l, own,
                            ch_error_set(err, CH_ERR_LIMIT,
                                         "ledger: %s control numbers from %s to %s are used up (last %" PRIu64 ")",
                                         control_kind[kind], sender, receiver, last),
                            err);
    sqlite3_stmt *u = lsq_stmt(l, LSQ_S_CONTROL_SET);
    lsq_bind_text(u, 1, sender);
    lsq_bind_text(u, 2, receiver);
    lsq_bind_text(u, 3, control_kind[kind]);
    sqlite3_bind_int64(u, 4, (sqlite3_int64)(last + count));
    st = sqlite3_step(u);
    sqlite3_reset(u);
    if (st != SQLITE_DONE)
        return lsq_auto_end(l, own, lsq_db_err(l, err, "advance control number"), err);
    *first = last + 1;
    return lsq_auto_end(l, own, CH_OK, err);
}

ch_code ledger_batch_create(ledger *l, ledger_batch *b, ch_error *err)
{
    char at[32];
    lsq_stamp(l, at);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db,
                           "INSERT INTO batches(practice, payer, claim_type, state, sender, receiver, isa13, gs06, "
                           "st02_first, st_count, claim_count, total_cents, file, created_at, updated_at) "
                           "VALUES (?1, ?2, ?3, 'writing', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
                           -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "create batch");
    lsq_bind_text(s, 1, b->practice);
    lsq_bind_text(s, 2, b->payer);
    lsq_bind_text(s, 3, b->claim_type);
    lsq_bind_text(s, 4, b->sender);
    lsq_bind_text(s, 5, b->receiver);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)b->isa13);
    sqlite3_bind_int64(s, 7, (sqlite3_int64)b->gs06);
    sqlite3_bind_int64(s, 8, (sqlite3_int64)b->st02_first);
    sqlite3_bind_int(s, 9, (int)b->st_count);
    sqlite3_bind_int(s, 10, (int)b->claim_count);
    sqlite3_bind_int64(s, 11, b->total_cents);
    lsq_bind_text(s, 12, b->file);
    lsq_bind_text(s, 13, at);
    int st = sqlite3_step(s);
    sqlite3_finalize(s);
    if (st != SQLITE_DONE)
        return lsq_db_err(l, err, "create batch");
    b->id = sqlite3_last_insert_rowid(l->db);
    snprintf(b->state, sizeof b->state, "writing");
    snprintf(b->created_at, sizeof b->created_at, "%s", at);
    snprintf(b->updated_at, sizeof b->updated_at, "%s", at);
    return CH_OK;
}

ch_code ledger_batch_add_claims(ledger *l, int64_t batch_id, const int64_t *ids, size_t n, const char *actor,
                                const char *why, ch_error *err)
{
    if (n == 0)
        return CH_OK;
    /* one statement moves them all */
    size_t len;
    char *json = lsq_ids_json(ids, n, &len);
    if (!json)
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    int own;
    ch_code rc = lsq_auto_begin(l, &own, err);
    if (rc != CH_OK) {
        free(json);
        return rc;
    }
    char at[32];
    lsq_stamp(l, at);
    sqlite3_stmt *u = lsq_stmt(l, LSQ_S_ASSIGN);
    sqlite3_bind_text(u, 1, json, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(u, 2, batch_id);
    lsq_bind_text(u, 3, at);
    int st = sqlite3_step(u);
    sqlite3_reset(u);
    if (st != SQLITE_DONE)
        rc = lsq_db_err(l, err, "assign claims");
    else if ((size_t)sqlite3_changes(l->db) != n)
        rc = ch_error_set(err, CH_ERR_INVALID, "ledger: %zu of the %zu claims for batch %" PRId64
                          " are no longer queued", n - (size_t)sqlite3_changes(l->db), n, batch_id);
    if (rc == CH_OK) {
        sqlite3_stmt *e = lsq_stmt(l, LSQ_S_ASSIGN_EVENTS);
        sqlite3_bind_text(e, 1, json, (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(e, 2, batch_id);
        lsq_bind_text(e, 3, at);
        lsq_bind_text(e, 4, actor && actor[0] ? actor : "engine");
        lsq_bind_text(e, 5, why ? why : "");
        st = sqlite3_step(e);
        sqlite3_reset(e);
        if (st != SQLITE_DONE)
            rc = lsq_db_err(l, err, "append events");
    }
    free(json);
    return lsq_auto_end(l, own, rc, err);
}

ch_code ledger_batch_update(ledger *l, int64_t id, const char *state, uint64_t bytes, const char *content_hash,
                            const char *error, ch_error *err)
{
    char at[32];
    lsq_stamp(l, at);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db,
                           "UPDATE batches SET state = ?2, bytes = CASE WHEN ?3 > 0 THEN ?3 ELSE bytes END, "
                           "content_hash = coalesce(?4, content_hash), error = coalesce(?5, error), "
                           "updated_at = ?6 WHERE id = ?1",
                           -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "update batch");
    sqlite3_bind_int64(s, 1, id);
    lsq_bind_text(s, 2, state);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)bytes);
    lsq_bind_text(s, 4, content_hash);
    lsq_bind_text(s, 5, error);
    lsq_bind_text(s, 6, at);
    int st = sqlite3_step(s);
    sqlite3_finalize(s);
    if (st != SQLITE_DONE)
        return lsq_db_err(l, err, "update batch");
    if (sqlite3_changes(l->db) != 1)
        return ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no batch %" PRId64, id);
    return CH_OK;
}

ch_code ledger_batch_move_claims(ledger *l, int64_t batch_id, ledger_state from, ledger_state to, int keep_batch,
                                 const char *actor, const char *why, uint64_t *moved, ch_error *err)
{
    if (moved)
        *moved = 0;
    if (!ledger_transition_ok(from, to))
        return ch_error_set(err, CH_ERR_INVALID, "ledger: claims cannot go from %s to %s", ledger_state_name(from),
                            ledger_state_name(to));
    int own;
    ch_code rc = lsq_auto_begin(l, &own, err);
    if (rc == CH_OK)
        rc = lsq_flush(l, err); /* events in order */
    if (rc != CH_OK)
        return lsq_auto_end(l, own, rc, err);
    char at[32];
    lsq_stamp(l, at);
    sqlite3_stmt *e = NULL, *u = NULL;
    /* the events first, while the claims still say which batch they are in */
    if (sqlite3_prepare_v2(l->db,
                           "INSERT INTO events(claim_id, at, actor, from_state, to_state, why, batch_id) "
                           "SELECT id, ?2, ?3, ?4, ?5, ?6, ?1 FROM claims WHERE batch_id = ?1 AND state = ?4 "
                           "ORDER BY id",
                           -1, &e, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(l->db,
                           /* columns not named are left alone, and so are the indexes on them:
                            * a batch made ready keeps its claims' batch and error */
                           keep_batch && to != LEDGER_FAILED
                               ? "UPDATE claims SET state = ?5, updated_at = ?2 WHERE batch_id = ?1 AND state = ?4"
                               : "UPDATE claims SET state = ?5, batch_id = CASE WHEN ?7 THEN batch_id ELSE NULL END, "
                                 "last_error = CASE WHEN ?5 = 'failed' THEN ?6 ELSE last_error END, updated_at = ?2 "
                                 "WHERE batch_id = ?1 AND state = ?4",
                           -1, &u, NULL) != SQLITE_OK) {
        rc = lsq_db_err(l, err, "move batch claims");
    } else {
        sqlite3_stmt *both[2] = {e, u};
        for (int i = 0; i < 2 && rc == CH_OK; i++) {
            sqlite3_stmt *s = both[i];
            sqlite3_bind_int64(s, 1, batch_id);
            lsq_bind_text(s, 2, at);
            if (i == 0)
                lsq_bind_text(s, 3, actor && actor[0] ? actor : "engine");
            lsq_bind_text(s, 4, ledger_state_name(from));
            lsq_bind_text(s, 5, ledger_state_name(to));
            if (sqlite3_bind_parameter_count(s) >= 6)
                lsq_bind_text(s, 6, why ? why : "");
            if (i == 1 && sqlite3_bind_parameter_count(s) >= 7)
                sqlite3_bind_int(s, 7, keep_batch);
            if (sqlite3_step(s) != SQLITE_DONE)
                rc = lsq_db_err(l, err, "move batch claims");
            else if (i == 1 && moved)
                *moved = (uint64_t)sqlite3_changes(l->db);
        }
    }
    sqlite3_finalize(e);
    sqlite3_finalize(u);
    return lsq_auto_end(l, own, rc, err);
}

char *lsq_ids_json(const int64_t *ids, size_t n, size_t *len)
{
    size_t cap = n * 21 + 3, k = 0;
    char *json = malloc(cap);
    if (!json)
        return NULL;
    json[k++] = '[';
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(json + k, cap - k, "%s%" PRId64, i ? "," : "", ids[i]);
    json[k++] = ']';
    json[k] = '\0';
    *len = k;
    return json;
}

void lsq_read_batch(sqlite3_stmt *s, ledger_batch *b)
{
    memset(b, 0, sizeof *b);
    b->id = sqlite3_column_int64(s, 0);
    lsq_col_text(s, 1, b->practice, sizeof b->practice);
    lsq_col_text(s, 2, b->payer, sizeof b->payer);
    lsq_col_text(s, 3, b->claim_type, sizeof b->claim_type);
    lsq_col_text(s, 4, b->state, sizeof b->state);
    lsq_col_text(s, 5, b->sender, sizeof b->sender);
    lsq_col_text(s, 6, b->receiver, sizeof b->receiver);
    b->isa13 = (uint64_t)sqlite3_column_int64(s, 7);
    b->gs06 = (uint64_t)sqlite3_column_int64(s, 8);
    b->st02_first = (uint64_t)sqlite3_column_int64(s, 9);
    b->st_count = (unsigned)sqlite3_column_int(s, 10);
    b->claim_count = (unsigned)sqlite3_column_int(s, 11);
    b->total_cents = sqlite3_column_int64(s, 12);
    lsq_col_text(s, 13, b->file, sizeof b->file);
    b->bytes = (uint64_t)sqlite3_column_int64(s, 14);
    lsq_col_text(s, 15, b->content_hash, sizeof b->content_hash);
    lsq_col_text(s, 16, b->created_at, sizeof b->created_at);
    lsq_col_text(s, 17, b->updated_at, sizeof b->updated_at);
    lsq_col_text(s, 18, b->error, sizeof b->error);
}

#define BATCH_COLS LSQ_BATCH_COLS

ch_code ledger_batches_each(ledger *l, const char *state, ledger_batch_fn fn, void *ctx, ch_error *err)
{
    sqlite3_stmt *s;
    const char *sql = state ? "SELECT " BATCH_COLS " FROM batches WHERE state = ?1 ORDER BY id"
                            : "SELECT " BATCH_COLS " FROM batches ORDER BY id";
    if (sqlite3_prepare_v2(l->db, sql, -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "list batches");
    lsq_bind_text(s, 1, state);
    int st;
    ledger_batch *b = malloc(sizeof *b);
    if (!b) {
        sqlite3_finalize(s);
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    }
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        lsq_read_batch(s, b);
        if (fn(ctx, b))
            break;
    }
    ch_code rc = st == SQLITE_ROW || st == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, "list batches");
    free(b);
    sqlite3_finalize(s);
    return rc;
}

ch_code ledger_batch_get(ledger *l, int64_t id, ledger_batch *b, ch_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db, "SELECT " BATCH_COLS " FROM batches WHERE id = ?1", -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "read batch");
    sqlite3_bind_int64(s, 1, id);
    int st = sqlite3_step(s);
    ch_code rc = CH_OK;
    if (st == SQLITE_ROW)
        lsq_read_batch(s, b);
    else if (st == SQLITE_DONE)
        rc = ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no batch %" PRId64, id);
    else
        rc = lsq_db_err(l, err, "read batch");
    sqlite3_finalize(s);
    return rc;
}
