/*
 * ledger_sqlite_int.h - what the SQLite ledger's other files (ledger_remit.c,
 * ledger_exchange.c) share with ledger_sqlite.c.  Internal to the ledger.
 */
#ifndef LEDGER_SQLITE_INT_H
#define LEDGER_SQLITE_INT_H

#include <sqlite3.h>

#include "ledger.h"

struct ledger_remit_stmts;

sqlite3 *lsq_db(ledger *l);
const char *lsq_path(ledger *l);
struct ledger_remit_stmts **lsq_remit(ledger *l);
ch_code lsq_db_err(ledger *l, ch_error *err, const char *what);
void lsq_now(char buf[32]);
/* The time to record for a change: the open transaction's start, else now. */
void lsq_stamp(ledger *l, char buf[32]);
ch_code lsq_auto_begin(ledger *l, int *own, ch_error *err);
ch_code lsq_auto_end(ledger *l, int own, ch_code rc, ch_error *err);
/* A text column into dst ("" for NULL), truncated to size - 1. */
void lsq_col_text(sqlite3_stmt *s, int i, char *dst, size_t size);

/* The columns of a batch row, in the order lsq_read_batch reads them (0..18);
 * a query may select more after them. */
#define LSQ_BATCH_COLS                                                                             \
    "id, practice, payer, claim_type, state, sender, receiver, isa13, gs06, st02_first, st_count, " \
    "claim_count, total_cents, file, bytes, content_hash, created_at, updated_at, error"
void lsq_read_batch(sqlite3_stmt *s, ledger_batch *b);

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

#endif
