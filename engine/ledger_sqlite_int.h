/*
 * ledger_sqlite_int.h - what the files of the SQLite ledger share.
 * Internal to the ledger (ledger.h is its API); not installed.
 *
 * The ledger proper is ledger_sqlite.c (open, close, transactions, the
 * statement cache), ledger_schema.c (migrations), ledger_intake.c (claims
 * taken in), ledger_claims.c (listing and moving claims, events) and
 * ledger_batches.c (batches, control numbers); ledger_remit.c,
 * ledger_exchange.c, ledger_hold.c and ledger_ckpt.c build on it.
 */
#ifndef LEDGER_SQLITE_INT_H
#define LEDGER_SQLITE_INT_H

#include <limits.h>
#include <sqlite3.h>
#include <stdint.h>
#include <string.h>

#include "ledger.h"

struct ledger_remit_stmts;

sqlite3 *lsq_db(ledger *l);
const char *lsq_path(ledger *l);
struct ledger_remit_stmts **lsq_remit(ledger *l);
/* Sets err from the connection's last error (CH_ERR_BUSY when locked, else
 * CH_ERR_DB) and returns that code. */
ch_code lsq_db_err(ledger *l, ch_error *err, const char *what);
/* Runs SQL without results; CH_OK, CH_ERR_BUSY or CH_ERR_DB (err set). */
ch_code lsq_exec(ledger *l, const char *sql, ch_error *err);
/* Now, UTC, as 2024-01-31T12:00:00.000Z. */
void lsq_now(char buf[32]);
/* (lsq_stamp, lsq_auto_begin, lsq_auto_end and lsq_col_text are inline, below.) */

/* The columns of a batch row, in the order lsq_read_batch reads them (0..18);
 * a query may select more after them. */
#define LSQ_BATCH_COLS                                                                             \
    "id, practice, payer, claim_type, state, sender, receiver, isa13, gs06, st02_first, st_count, " \
    "claim_count, total_cents, file, bytes, content_hash, created_at, updated_at, error"
void lsq_read_batch(sqlite3_stmt *s, ledger_batch *b);

/* The n ids as a JSON array ("[1,2,3]", *len bytes, NUL-terminated), so
 * that one statement takes them all through json_each(); malloc'd (the
 * caller frees), NULL when out of memory. */
char *lsq_ids_json(const int64_t *ids, size_t n, size_t *len);

/* Move a claim (checked against ledger_transition_ok, one event), keeping its batch. */
ch_code lsq_move(ledger *l, int64_t id, ledger_state to, const char *actor, const char *why, ch_error *err);

/* Append an event. */
ch_code lsq_event(ledger *l, int64_t claim_id, const char *at, const char *actor, const char *from, const char *to,
                  const char *why, int64_t batch_id, ch_error *err);

/*
 * ledger_hold.c: claim payments and the events of ledger_claim_respond are
 * held back while a transaction is open and written 32 to a statement.
 * lsq_flush writes them; it runs before any other statement that may read
 * or write those tables (stmt(), ledger_sqlite_db(), the claim payment
 * readers) and at commit.  A failed flush fails the commit.  lsq_hold_end:
 * the transaction ended (dropped on rollback).
 */
struct ledger_hold;
struct ledger_hold **lsq_hold(ledger *l);
ch_code lsq_flush(ledger *l, ch_error *err);
/* Hold a claim payment (p->id set now) with its JSON columns (copied). */
ch_code lsq_hold_payment(ledger *l, ledger_claim_payment *p, const char *adj, const char *lines, ch_error *err);
/* Hold an event (as lsq_event; written at once outside a transaction). */
ch_code lsq_hold_event(ledger *l, int64_t claim_id, const char *at, const char *actor, const char *from,
                       const char *to, const char *why, int64_t batch_id, ch_error *err);
void lsq_hold_end(ledger *l);
void lsq_hold_free(ledger *l);
/* ledger_ckpt.c: WAL checkpoints on a thread of their own, woken by the
 * commits of db (whose automatic checkpoint this replaces).  Start after
 * opening (NULL when out of memory: SQLite's own checkpoints go on); stop
 * before closing db. */
typedef struct lsq_ckpt lsq_ckpt;
lsq_ckpt *lsq_ckpt_start(sqlite3 *db, const char *path);
void lsq_ckpt_stop(lsq_ckpt *c);

/* ledger_remit.c: reset / finalize its statements */
void ledger_remit_reset(ledger *l);
void ledger_remit_release(ledger *l);

/* ledger_schema.c: bring the schema up to date (foreign keys off meanwhile,
 * one transaction); fails on a schema newer than this program. */
ch_code lsq_migrate(ledger *l, ch_error *err);

/* --- the ledger itself and its statement cache ------------------------------ */

/* The statements used per claim, prepared once at open (their SQL is in
 * ledger_sqlite.c) and kept. */
enum {
    LSQ_S_VERSIONS,
    LSQ_S_CLAIM_BRIEF,
    LSQ_S_NEXT_ID,
    LSQ_S_CLAIM_INSERT,
    LSQ_S_VERSION_INSERT,
    LSQ_S_EVENT_INSERT,
    LSQ_S_CLAIM_REVISE,
    LSQ_S_CLAIM_SET,
    LSQ_S_ASSIGN,
    LSQ_S_ASSIGN_EVENTS,
    LSQ_S_CONTROL_GET,
    LSQ_S_CONTROL_SET,
    LSQ_S__COUNT
};

struct ledger {
    sqlite3 *db;
    char path[PATH_MAX];
    int in_txn;
    int64_t next_id;   /* the next claim id, while in a transaction; 0 unknown */
    char txn_at[32];   /* when the open transaction began: its events' time */
    sqlite3_stmt *st[LSQ_S__COUNT];
    struct ledger_remit_stmts *remit; /* ledger_remit.c's statements, prepared when first used */
    struct ledger_hold *hold;         /* ledger_hold.c: rows held for multi-row INSERTs */
    lsq_ckpt *ckpt;                   /* checkpoints in the background */
};

/* The helpers below run for every claim taken in or batched: inline, as
 * they were when the ledger was one file. */

/* A cached statement, reset and unbound, after the held rows are written. */
static inline sqlite3_stmt *lsq_stmt(ledger *l, int which)
{
    lsq_flush(l, NULL); /* held rows first (a failure fails the commit) */
    sqlite3_stmt *s = l->st[which];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

/* Binds text that outlives the statement's step (SQLITE_STATIC); NULL binds NULL. */
static inline void lsq_bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

/* A text column into a fixed buffer, truncated to fit (size - 1); NULL reads
 * as "".  (No printf: batching reads a dozen of these per claim.) */
static inline void lsq_col_text(sqlite3_stmt *s, int i, char *dst, size_t size)
{
    const char *t = (const char *)sqlite3_column_text(s, i);
    size_t n = t ? strnlen(t, size - 1) : 0;
    memcpy(dst, t ? t : "", n);
    dst[n] = '\0';
}

/* The time recorded for a change: the transaction's start while one is
 * open (what it writes becomes visible at once, and formatting a time per
 * row costs more than the row), else now. */
static inline void lsq_stamp(ledger *l, char at[32])
{
    if (l->in_txn && l->txn_at[0])
        memcpy(at, l->txn_at, 32);
    else
        lsq_now(at);
}

/* Statements that must go together run in the caller's transaction, or in
 * their own when the caller has none: lsq_auto_begin sets *own when it
 * opened one, lsq_auto_end commits it (or rolls back when rc is not CH_OK)
 * and returns rc or the commit's error. */
static inline ch_code lsq_auto_begin(ledger *l, int *own, ch_error *err)
{
    *own = 0;
    if (l->in_txn)
        return CH_OK;
    ch_code rc = ledger_begin(l, err);
    if (rc == CH_OK)
        *own = 1;
    return rc;
}

static inline ch_code lsq_auto_end(ledger *l, int own, ch_code rc, ch_error *err)
{
    if (!own)
        return rc;
    if (rc != CH_OK) {
        ledger_rollback(l);
        return rc;
    }
    return ledger_commit(l, err);
}

#endif
