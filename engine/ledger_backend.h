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

/* For the other files of the SQLite backend (ledger_exchange.c): the
 * connection and the database path (for messages). */
struct sqlite3 *ledger_sqlite_db(ledger *l);
const char *ledger_sqlite_path(const ledger *l);

#endif
