/*
 * ledger_ops.c - the ledger's operator functions (see "operators" in
 * ledger.h): scopes, one claim by id, the payer's claim number, notes,
 * batches and summaries inside a scope.
 *
 * Every query here that touches claims or batches carries the scope in its
 * WHERE clause (scope_sql), so what an operator may not see is never read.
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

/* --- scopes --------------------------------------------------------------------- */

int ledger_scope_allows(const ledger_scope *s, const char *practice)
{
    if (!s || s->all)
        return 1;
    if (!practice)
        return 0;
    for (unsigned i = 0; i < s->n; i++)
        if (!strcmp(s->practices[i], practice))
            return 1;
    return 0;
}

ch_code ledger_scope_add(ledger_scope *s, const char *practice, ch_error *err)
{
    if (ledger_scope_allows(s, practice) && !s->all)
        return CH_OK;
    if (s->n >= LEDGER_SCOPE_MAX)
        return ch_error_set(err, CH_ERR_LIMIT, "an operator may be given at most %d practices", LEDGER_SCOPE_MAX);
    snprintf(s->practices[s->n++], sizeof s->practices[0], "%s", practice);
    return CH_OK;
}

void ledger_scope_json(const ledger_scope *s, char *buf, size_t size)
{
    size_t n = 0;
    if (size < 3) {
        if (size)
            buf[0] = '\0';
        return;
    }
    buf[n++] = '[';
    for (unsigned i = 0; s && i < s->n; i++) {
        if (n + strlen(s->practices[i]) * 2 + 4 >= size)
            break;
        if (i)
            buf[n++] = ',';
        buf[n++] = '"';
        for (const char *p = s->practices[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                buf[n++] = '\\';
            buf[n++] = (unsigned char)*p < 0x20 ? ' ' : *p;
        }
        buf[n++] = '"';
    }
    buf[n++] = ']';
    buf[n] = '\0';
}

/* The condition on column col for a scope: parameter ?param holds its JSON. */
static void scope_sql(const ledger_scope *s, const char *col, int param, char *buf, size_t size)
{
    if (!s || s->all)
        snprintf(buf, size, "1");
    else if (!s->n)
        snprintf(buf, size, "0");
    else
        snprintf(buf, size, "%s IN (SELECT value FROM json_each(?%d))", col, param);
}

static void scope_bind(sqlite3_stmt *st, const ledger_scope *s, int param)
{
    if (!s || s->all || !s->n)
        return;
    char json[LEDGER_SCOPE_MAX * 36 + 4];
    ledger_scope_json(s, json, sizeof json);
    sqlite3_bind_text(st, param, json, -1, SQLITE_TRANSIENT);
}

/* --- helpers ------------------------------------------------------------------------ */

static ch_code prepare(ledger *l, const char *sql, sqlite3_stmt **s, ch_error *err, const char *what)
{
    if (sqlite3_prepare_v2(ledger_sqlite_db(l), sql, -1, s, NULL) != SQLITE_OK) {
        *s = NULL;
        return lsq_db_err(l, err, what);
    }
    return CH_OK;
}

static ch_code run_in_txn(ledger *l, int *own, ch_error *err)
{
    *own = 0;
    if (ledger_sqlite_in_txn(l))
        return CH_OK;
    ch_code rc = ledger_begin(l, err);
    if (rc == CH_OK)
        *own = 1;
    return rc;
}

static ch_code end_txn(ledger *l, int own, ch_code rc, ch_error *err)
{
    if (!own)
        return rc;
    if (rc != CH_OK) {
        ledger_rollback(l);
        return rc;
    }
    return ledger_commit(l, err);
}

/* --- one claim --------------------------------------------------------------------- */

typedef struct get_ctx {
    int64_t id;
    int found;
    ledger_claim_fn fn;
    void *ctx;
} get_ctx;

static int on_get(void *vc, const ledger_claim *c)
{
    get_ctx *g = vc;
    if (c->id == g->id) {
        g->found = 1;
        g->fn(g->ctx, c);
    }
    return 1;
}

ch_code ledger_claim_get(ledger *l, const ledger_scope *scope, int64_t claim_id, int with_doc, ledger_claim_fn fn,
                         void *ctx, ch_error *err)
{
    if (claim_id <= 0)
        return ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no claim %" PRId64, claim_id);
    /* the claims query with the scope in it: the first id after id - 1 */
    ledger_filter f;
    memset(&f, 0, sizeof f);
    f.state = -1;
    f.scope = scope;
    f.after_id = claim_id - 1;
    f.limit = 1;
    f.with_doc = with_doc;
    get_ctx g = {claim_id, 0, fn, ctx};
    ch_code rc = ledger_claims_each(l, &f, on_get, &g, err);
    if (rc != CH_OK)
        return rc;
    if (!g.found)
        return ch_error_set(err, CH_ERR_NOTFOUND, "no claim %" PRId64 "%s", claim_id,
                            scope && !scope->all ? " that this operator may see" : "");
    return CH_OK;
}

ch_code ledger_claim_payer_number(ledger *l, int64_t claim_id, char *buf, size_t size, ch_error *err)
{
    if (size)
        buf[0] = '\0';
    sqlite3_stmt *s;
    ch_code rc = prepare(l, "SELECT payer_claim_no FROM claims WHERE id = ?1", &s, err, "read payer claim number");
    if (rc != CH_OK)
        return rc;
    sqlite3_bind_int64(s, 1, claim_id);
    int st = sqlite3_step(s);
    if (st == SQLITE_ROW)
        lsq_col_text(s, 0, buf, size);
    else if (st == SQLITE_DONE)
        rc = ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no claim %" PRId64, claim_id);
    else
        rc = lsq_db_err(l, err, "read payer claim number");
    sqlite3_finalize(s);
    return rc;
}

/* Append an event; the claim's state and batch as they are (from = to). */
static ch_code note(ledger *l, int64_t claim_id, const char *actor, const char *why, ch_error *err)
{
    char at[32];
    lsq_now(at);
    sqlite3_stmt *s;
    ch_code rc = prepare(l,
                         "INSERT INTO events(claim_id, at, actor, from_state, to_state, why, batch_id) "
                         "SELECT id, ?2, ?3, state, state, ?4, batch_id FROM claims WHERE id = ?1",
                         &s, err, "append event");
    if (rc != CH_OK)
        return rc;
    sqlite3_bind_int64(s, 1, claim_id);
    sqlite3_bind_text(s, 2, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, actor && actor[0] ? actor : "engine", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, why ? why : "", -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = lsq_db_err(l, err, "append event");
    else if (sqlite3_changes(ledger_sqlite_db(l)) != 1)
        rc = ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no claim %" PRId64, claim_id);
    sqlite3_finalize(s);
    return rc;
}

ch_code ledger_claim_note(ledger *l, int64_t claim_id, const char *actor, const char *why, ch_error *err)
{
    int own;
    ch_code rc = run_in_txn(l, &own, err);
    if (rc != CH_OK)
        return rc;
    return end_txn(l, own, note(l, claim_id, actor, why, err), err);
}

ch_code ledger_claim_set_payer_number(ledger *l, int64_t claim_id, const char *number, const char *actor,
                                      ch_error *err)
{
    if (!number || !number[0] || strlen(number) > 50)
        return ch_error_set(err, CH_ERR_INVALID, "ledger: claim %" PRId64 ": a payer claim number is 1 to 50 characters",
                            claim_id);
    int own;
    ch_code rc = run_in_txn(l, &own, err);
    if (rc != CH_OK)
        return rc;
    char at[32];
    lsq_now(at);
    sqlite3_stmt *s;
    rc = prepare(l, "UPDATE claims SET payer_claim_no = ?2, updated_at = ?3 WHERE id = ?1", &s, err,
                 "set payer claim number");
    if (rc == CH_OK) {
        sqlite3_bind_int64(s, 1, claim_id);
        sqlite3_bind_text(s, 2, number, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, at, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE)
            rc = lsq_db_err(l, err, "set payer claim number");
        else if (sqlite3_changes(ledger_sqlite_db(l)) != 1)
            rc = ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no claim %" PRId64, claim_id);
        sqlite3_finalize(s);
    }
    if (rc == CH_OK) {
        char why[96];
        snprintf(why, sizeof why, "payer claim number %s", number);
        rc = note(l, claim_id, actor, why, err);
    }
    return end_txn(l, own, rc, err);
}

ch_code ledger_claim_last_batch(ledger *l, int64_t claim_id, int64_t *batch_id, ch_error *err)
{
    *batch_id = 0;
    sqlite3_stmt *s;
    ch_code rc = prepare(l,
                         "SELECT coalesce(c.batch_id, (SELECT e.batch_id FROM events e WHERE e.claim_id = c.id "
                         "AND e.batch_id IS NOT NULL ORDER BY e.id DESC LIMIT 1), 0) FROM claims c WHERE c.id = ?1",
                         &s, err, "read claim batch");
    if (rc != CH_OK)
        return rc;
    sqlite3_bind_int64(s, 1, claim_id);
    int st = sqlite3_step(s);
    if (st == SQLITE_ROW)
        *batch_id = sqlite3_column_int64(s, 0);
    else if (st == SQLITE_DONE)
        rc = ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no claim %" PRId64, claim_id);
    else
        rc = lsq_db_err(l, err, "read claim batch");
    sqlite3_finalize(s);
    return rc;
}

ch_code ledger_claim_replaced_by(ledger *l, int64_t claim_id, int64_t *by, ch_error *err)
{
    *by = 0;
    sqlite3_stmt *s;
    ch_code rc = prepare(l, "SELECT max(id) FROM claims WHERE replaces = ?1", &s, err, "read replacements");
    if (rc != CH_OK)
        return rc;
    sqlite3_bind_int64(s, 1, claim_id);
    if (sqlite3_step(s) == SQLITE_ROW)
        *by = sqlite3_column_int64(s, 0);
    else
        rc = lsq_db_err(l, err, "read replacements");
    sqlite3_finalize(s);
    return rc;
}

/* --- batches ---------------------------------------------------------------------- */

/* ?1 scope, ?2 practice, ?3 batch id */
static ch_code batches_query(ledger *l, const ledger_scope *scope, const char *practice, int problem_only,
                             int64_t id, ledger_batch_fn fn, void *ctx, int *found, ch_error *err)
{
    char cond[160], sql[1024];
    scope_sql(scope, "practice", 1, cond, sizeof cond);
    snprintf(sql, sizeof sql,
             "SELECT " LSQ_BATCH_COLS " FROM batches WHERE %s%s%s%s ORDER BY id", cond,
             practice ? " AND practice = ?2" : "", id > 0 ? " AND id = ?3" : "",
             problem_only ? " AND (state = 'discarded' OR (state != 'sent' AND coalesce(error, '') != '') OR "
                            "id IN (SELECT batch_id FROM acknowledgments WHERE accepted = 0))"
                          : "");
    sqlite3_stmt *s;
    ch_code rc = prepare(l, sql, &s, err, "list batches");
    if (rc != CH_OK)
        return rc;
    scope_bind(s, scope, 1);
    if (practice)
        sqlite3_bind_text(s, 2, practice, -1, SQLITE_STATIC);
    if (id > 0)
        sqlite3_bind_int64(s, 3, id);
    ledger_batch *b = malloc(sizeof *b);
    if (!b) {
        sqlite3_finalize(s);
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    }
    int st;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        lsq_read_batch(s, b);
        if (found)
            (*found)++;
        if (fn(ctx, b))
            break;
    }
    if (st != SQLITE_ROW && st != SQLITE_DONE)
        rc = lsq_db_err(l, err, "list batches");
    free(b);
    sqlite3_finalize(s);
    return rc;
}

ch_code ledger_batches_scoped(ledger *l, const ledger_scope *scope, const char *practice, int problem_only,
                              ledger_batch_fn fn, void *ctx, ch_error *err)
{
    return batches_query(l, scope, practice, problem_only, 0, fn, ctx, NULL, err);
}

static int copy_batch(void *ctx, const ledger_batch *b)
{
    *(ledger_batch *)ctx = *b;
    return 1;
}

ch_code ledger_batch_get_scoped(ledger *l, const ledger_scope *scope, int64_t id, ledger_batch *b, ch_error *err)
{
    int found = 0;
    if (id <= 0)
        return ch_error_set(err, CH_ERR_NOTFOUND, "no batch %" PRId64, id);
    ch_code rc = batches_query(l, scope, NULL, 0, id, copy_batch, b, &found, err);
    if (rc == CH_OK && !found)
        rc = ch_error_set(err, CH_ERR_NOTFOUND, "no batch %" PRId64 "%s", id,
                          scope && !scope->all ? " that this operator may see" : "");
    return rc;
}

ch_code ledger_batch_rejection(ledger *l, int64_t batch_id, char *reason, size_t size, ch_error *err)
{
    if (size)
        reason[0] = '\0';
    sqlite3_stmt *s;
    ch_code rc = prepare(l,
                         "SELECT coalesce(reason, status) FROM acknowledgments WHERE batch_id = ?1 AND accepted = 0 "
                         "ORDER BY id DESC LIMIT 1",
                         &s, err, "read acknowledgments");
    if (rc != CH_OK)
        return rc;
    sqlite3_bind_int64(s, 1, batch_id);
    int st = sqlite3_step(s);
    if (st == SQLITE_ROW)
        lsq_col_text(s, 0, reason, size);
    else if (st != SQLITE_DONE)
        rc = lsq_db_err(l, err, "read acknowledgments");
    sqlite3_finalize(s);
    return rc;
}

ch_code ledger_batch_problem_claims(ledger *l, const ledger_scope *scope, int64_t batch_id, ledger_claim_fn fn,
                                    void *ctx, ch_error *err)
{
    char cond[160], sql[1024];
    scope_sql(scope, "c.practice", 1, cond, sizeof cond);
    snprintf(sql, sizeof sql,
             "SELECT c.id FROM claims c WHERE %s AND (c.state = 'rejected' OR c.state = 'failed') AND "
             "(c.batch_id = ?2 OR (c.batch_id IS NULL AND (SELECT e.batch_id FROM events e WHERE e.claim_id = c.id "
             "AND e.batch_id IS NOT NULL ORDER BY e.id DESC LIMIT 1) = ?2)) ORDER BY c.id",
             cond);
    sqlite3_stmt *s;
    ch_code rc = prepare(l, sql, &s, err, "list batch claims");
    if (rc != CH_OK)
        return rc;
    scope_bind(s, scope, 1);
    sqlite3_bind_int64(s, 2, batch_id);
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int st;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            int64_t *ni = realloc(ids, nc * sizeof *ni);
            if (!ni) {
                rc = ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
                break;
            }
            ids = ni;
            cap = nc;
        }
        ids[n++] = sqlite3_column_int64(s, 0);
    }
    if (rc == CH_OK && st != SQLITE_DONE)
        rc = lsq_db_err(l, err, "list batch claims");
    sqlite3_finalize(s);
    /* read after the statement is done, so fn may change the claims */
    for (size_t i = 0; i < n && rc == CH_OK; i++)
        rc = ledger_claim_get(l, scope, ids[i], 0, fn, ctx, err);
    free(ids);
    return rc;
}

/* --- summaries ------------------------------------------------------------------- */

ch_code ledger_claims_summary(ledger *l, const ledger_scope *scope, const char *practice, ledger_summary_fn fn,
                              void *ctx, ch_error *err)
{
    char cond[160], sql[1024];
    scope_sql(scope, "practice", 1, cond, sizeof cond);
    snprintf(sql, sizeof sql,
             "SELECT practice, payer, state, count(*), coalesce(sum(total_cents), 0) FROM claims WHERE %s%s "
             "GROUP BY practice, payer, state ORDER BY practice, payer, state",
             cond, practice ? " AND practice = ?2" : "");
    sqlite3_stmt *s;
    ch_code rc = prepare(l, sql, &s, err, "count claims");
    if (rc != CH_OK)
        return rc;
    scope_bind(s, scope, 1);
    if (practice)
        sqlite3_bind_text(s, 2, practice, -1, SQLITE_STATIC);
    int st;
    ledger_summary_row r;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&r, 0, sizeof r);
        lsq_col_text(s, 0, r.practice, sizeof r.practice);
        lsq_col_text(s, 1, r.payer, sizeof r.payer);
        char state[16];
        lsq_col_text(s, 2, state, sizeof state);
        if (ledger_state_parse(state, &r.state) != CH_OK)
            continue;
        r.count = (uint64_t)sqlite3_column_int64(s, 3);
        r.total_cents = sqlite3_column_int64(s, 4);
        if (fn(ctx, &r))
            break;
    }
    if (st != SQLITE_ROW && st != SQLITE_DONE)
        rc = lsq_db_err(l, err, "count claims");
    sqlite3_finalize(s);
    return rc;
}

ch_code ledger_last_exchanges(ledger *l, const ledger_scope *scope, const char *practice, ledger_exchange_fn fn,
                              void *ctx, ch_error *err)
{
    char cond[160], sql[1024];
    scope_sql(scope, "practice", 1, cond, sizeof cond);
    /* per practice and payer the first row wins: a sent batch before any
     * other, then the latest */
    snprintf(sql, sizeof sql,
             "SELECT practice, payer, id, state, updated_at FROM batches WHERE %s%s "
             "ORDER BY practice, payer, state = 'sent' DESC, updated_at DESC, id DESC",
             cond, practice ? " AND practice = ?2" : "");
    sqlite3_stmt *s;
    ch_code rc = prepare(l, sql, &s, err, "read exchanges");
    if (rc != CH_OK)
        return rc;
    scope_bind(s, scope, 1);
    if (practice)
        sqlite3_bind_text(s, 2, practice, -1, SQLITE_STATIC);
    int st;
    ledger_exchange x, prev;
    memset(&prev, 0, sizeof prev);
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&x, 0, sizeof x);
        lsq_col_text(s, 0, x.practice, sizeof x.practice);
        lsq_col_text(s, 1, x.payer, sizeof x.payer);
        if (!strcmp(x.practice, prev.practice) && !strcmp(x.payer, prev.payer))
            continue;
        x.batch_id = sqlite3_column_int64(s, 2);
        lsq_col_text(s, 3, x.what, sizeof x.what);
        lsq_col_text(s, 4, x.at, sizeof x.at);
        prev = x;
        if (fn(ctx, &x))
            break;
    }
    if (st != SQLITE_ROW && st != SQLITE_DONE)
        rc = lsq_db_err(l, err, "read exchanges");
    sqlite3_finalize(s);
    return rc;
}

ch_code ledger_money_posted_today(ledger *l, const ledger_scope *scope, const char *practice, int64_t *cents,
                                  int *available, ch_error *err)
{
    *cents = 0;
    *available = 0;
    /* Posted payments are written by reconciliation (835 posting) into
     * claim_payments (schema 3); a reversal is a posting of its own with the
     * negated amount, so the sum is what was really posted today. */
    sqlite3_stmt *s;
    ch_code rc = prepare(l, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'claim_payments'", &s, err,
                         "look for payments");
    if (rc != CH_OK)
        return rc;
    int have = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    if (!have)
        return CH_OK;
    char cond[160], sql[1024];
    scope_sql(scope, "c.practice", 1, cond, sizeof cond);
    snprintf(sql, sizeof sql,
             "SELECT coalesce(sum(p.paid_cents), 0) FROM claim_payments p JOIN claims c ON c.id = p.claim_id "
             "WHERE %s%s AND substr(p.posted_at, 1, 10) = strftime('%%Y-%%m-%%d', 'now')",
             cond, practice ? " AND c.practice = ?2" : "");
    if (sqlite3_prepare_v2(ledger_sqlite_db(l), sql, -1, &s, NULL) != SQLITE_OK)
        return CH_OK; /* an older ledger: not available */
    scope_bind(s, scope, 1);
    if (practice)
        sqlite3_bind_text(s, 2, practice, -1, SQLITE_STATIC);
    int st = sqlite3_step(s);
    if (st == SQLITE_ROW) {
        *cents = sqlite3_column_int64(s, 0);
        *available = 1;
    } else {
        rc = lsq_db_err(l, err, "sum payments");
    }
    sqlite3_finalize(s);
    return rc;
}
