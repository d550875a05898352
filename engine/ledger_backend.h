/*
 * ledger_backend.h - how ledger.c reaches a backend.  Internal to the ledger.
 *
 * Today there is one backend and it implements the ledger_* functions
 * directly; a second one (PostgreSQL) turns this into a table of
 * operations, and nothing outside the ledger changes.
 */
#ifndef LEDGER_BACKEND_H
#define LEDGER_BACKEND_H

#include "ledger.h"

/* Open the SQLite ledger at path (WAL, synchronous FULL, foreign keys). */
ch_code ledger_sqlite_open(ledger **out, const char *path, ch_error *err);

/* The SQLite handle, the database path and whether a transaction is open:
 * for the ledger's own files (ledger_ops.c) only. */
struct sqlite3;
struct sqlite3 *ledger_sqlite_db(ledger *l);
const char *ledger_sqlite_path(const ledger *l);
int ledger_sqlite_in_txn(const ledger *l);

#endif
