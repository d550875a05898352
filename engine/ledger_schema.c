/*
 * ledger_schema.c - the SQLite ledger's schema: the migrations, in order,
 * and applying those a ledger has not had yet (see ledger_sqlite_int.h).
 */
#include <sqlite3.h>
#include <stdio.h>

#include "ledger.h"
#include "ledger_sqlite_int.h"

typedef struct migration {
    int version;
    const char *description;
    const char *sql;
} migration;

static const migration migrations[] = {
    {1, "practices, payers, claims, encounter versions, events, batches, control numbers",
     "CREATE TABLE practices ("
     "  id TEXT PRIMARY KEY, name TEXT NOT NULL, npi TEXT NOT NULL, updated_at TEXT NOT NULL);"
     "CREATE TABLE payers ("
     "  id TEXT PRIMARY KEY, payer_id TEXT NOT NULL, name TEXT NOT NULL, updated_at TEXT NOT NULL);"
     "CREATE TABLE batches ("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  practice TEXT NOT NULL REFERENCES practices(id), payer TEXT NOT NULL REFERENCES payers(id),"
     "  claim_type TEXT NOT NULL CHECK (claim_type = '837P' OR claim_type = '837I'),"
     "  state TEXT NOT NULL CHECK (instr(',writing,ready,discarded,sending,sent,', ',' || state || ',') > 0),"
     "  sender TEXT NOT NULL, receiver TEXT NOT NULL,"
     "  isa13 INTEGER NOT NULL, gs06 INTEGER NOT NULL, st02_first INTEGER NOT NULL, st_count INTEGER NOT NULL,"
     "  claim_count INTEGER NOT NULL, total_cents INTEGER NOT NULL,"
     "  file TEXT NOT NULL, bytes INTEGER NOT NULL DEFAULT 0, content_hash TEXT,"
     "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, error TEXT,"
     "  UNIQUE (sender, receiver, isa13));"
     /* claims and events are never deleted (events refuse it), so a plain
      * rowid key never hands out an id twice; AUTOINCREMENT would add a write
      * to sqlite_sequence to every insert */
     "CREATE TABLE claims ("
     "  id INTEGER PRIMARY KEY,"
     "  pcn TEXT NOT NULL UNIQUE,"
     "  practice TEXT NOT NULL REFERENCES practices(id), payer TEXT NOT NULL REFERENCES payers(id),"
     "  claim_type TEXT NOT NULL CHECK (claim_type = '837P' OR claim_type = '837I'),"
     "  encounter_id TEXT NOT NULL, version INTEGER NOT NULL,"
     "  frequency INTEGER NOT NULL CHECK (frequency = 1 OR frequency = 7 OR frequency = 8),"
     "  replaces INTEGER REFERENCES claims(id),"
     "  total_cents INTEGER NOT NULL, service_date TEXT,"
     /* checks are written without IN (...): SQLite builds a temporary
      * table for an IN list on every row written */
     "  state TEXT NOT NULL CHECK (instr(',queued,batched,ready,sending,sent,acknowledged,accepted,rejected,"
     "paid,partial,denied,failed,void,', ',' || state || ',') > 0),"
     "  batch_id INTEGER REFERENCES batches(id), last_error TEXT,"
     "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
     /* only queued claims are indexed for batching: a claim leaves the index
      * once, when it is batched, and later state changes do not touch it */
     "CREATE INDEX claims_queued ON claims(practice, payer, claim_type, id) WHERE state = 'queued';"
     "CREATE INDEX claims_by_batch ON claims(batch_id) WHERE batch_id IS NOT NULL;"
     /* every distinct version of every encounter document ever taken in,
      * with the document itself (the packed form): the claim points at the
      * version it holds; (practice, encounter id, content hash) is what makes
      * dropping the same file twice harmless */
     "CREATE TABLE encounter_versions ("
     "  id INTEGER PRIMARY KEY,"
     "  practice TEXT NOT NULL, encounter_id TEXT NOT NULL, version INTEGER NOT NULL,"
     "  content_hash TEXT NOT NULL, claim_id INTEGER NOT NULL REFERENCES claims(id),"
     "  received_at TEXT NOT NULL, source TEXT, doc BLOB NOT NULL,"
     "  UNIQUE (practice, encounter_id, version));"
     "CREATE TABLE events ("
     "  id INTEGER PRIMARY KEY, claim_id INTEGER NOT NULL REFERENCES claims(id),"
     "  at TEXT NOT NULL, actor TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL, why TEXT NOT NULL,"
     "  batch_id INTEGER REFERENCES batches(id));"
     "CREATE INDEX events_by_claim ON events(claim_id, id);"
     "CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events"
     "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
     "CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events"
     "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
     "CREATE TABLE control_numbers ("
     "  sender TEXT NOT NULL, receiver TEXT NOT NULL,"
     "  kind TEXT NOT NULL CHECK (kind = 'ISA13' OR kind = 'GS06' OR kind = 'ST02'),"
     "  last INTEGER NOT NULL CHECK (last BETWEEN 0 AND 999999999),"
     "  PRIMARY KEY (sender, receiver, kind)) WITHOUT ROWID;"
     /* numbers only move forward, whatever the code above does */
     "CREATE TRIGGER control_numbers_forward BEFORE UPDATE ON control_numbers"
     "  WHEN NEW.last <= OLD.last BEGIN SELECT RAISE(ABORT, 'control numbers never go back'); END;"
     "CREATE TRIGGER control_numbers_no_delete BEFORE DELETE ON control_numbers"
     "  BEGIN SELECT RAISE(ABORT, 'control numbers are never deleted'); END;"},
    /* send and collect (engine/ledger_exchange.c).  Widening the batch state
     * check means rebuilding the table (SQLite cannot alter a CHECK);
     * migrate() runs with foreign keys off and checks them before COMMIT.
     * The existing `error` column is the batch's last error. */
    {2, "send and collect: batch remote name, attempts, next attempt, sent_at, failed batches; received files",
     "CREATE TABLE batches_v2 ("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  practice TEXT NOT NULL REFERENCES practices(id), payer TEXT NOT NULL REFERENCES payers(id),"
     "  claim_type TEXT NOT NULL CHECK (claim_type = '837P' OR claim_type = '837I'),"
     "  state TEXT NOT NULL CHECK (instr(',writing,ready,discarded,sending,sent,failed,', ',' || state || ',') > 0),"
     "  sender TEXT NOT NULL, receiver TEXT NOT NULL,"
     "  isa13 INTEGER NOT NULL, gs06 INTEGER NOT NULL, st02_first INTEGER NOT NULL, st_count INTEGER NOT NULL,"
     "  claim_count INTEGER NOT NULL, total_cents INTEGER NOT NULL,"
     "  file TEXT NOT NULL, bytes INTEGER NOT NULL DEFAULT 0, content_hash TEXT,"
     "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, error TEXT,"
     "  remote_name TEXT,"                              /* decided once, on entering sending */
     "  attempts INTEGER NOT NULL DEFAULT 0,"           /* failed delivery attempts */
     "  next_attempt_at TEXT,"                          /* no retry before this (UTC) */
     "  sent_at TEXT,"
     "  UNIQUE (sender, receiver, isa13));"
     "INSERT INTO batches_v2 (id, practice, payer, claim_type, state, sender, receiver, isa13, gs06, st02_first,"
     "  st_count, claim_count, total_cents, file, bytes, content_hash, created_at, updated_at, error)"
     "  SELECT id, practice, payer, claim_type, state, sender, receiver, isa13, gs06, st02_first,"
     "  st_count, claim_count, total_cents, file, bytes, content_hash, created_at, updated_at, error FROM batches;"
     "DROP TABLE batches;"
     "ALTER TABLE batches_v2 RENAME TO batches;"
     /* two batches of a payer never get the same remote name */
     "CREATE UNIQUE INDEX batches_remote_name ON batches(payer, remote_name) WHERE remote_name IS NOT NULL;"
     "CREATE INDEX batches_to_send ON batches(payer, id) WHERE state = 'ready' OR state = 'sending';"
     /* every file collected from a payer, recorded before it is removed or
      * archived on the payer's side; the same content twice is kept once */
     "CREATE TABLE received_files ("
     "  id INTEGER PRIMARY KEY,"
     "  payer TEXT NOT NULL, name TEXT NOT NULL,"
     "  size INTEGER NOT NULL CHECK (size >= 0),"
     "  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),"
     "  local_path TEXT NOT NULL, received_at TEXT NOT NULL,"
     "  state TEXT NOT NULL DEFAULT 'new' CHECK (instr(',new,reconciled,failed,', ',' || state || ',') > 0),"
     "  note TEXT, updated_at TEXT NOT NULL,"
     "  UNIQUE (payer, sha256));"
     "CREATE INDEX received_files_new ON received_files(payer, id) WHERE state = 'new';"},

    /* 3: what comes back from payers (issue 6, posting): remittances (one per
     * 835 payment, unique per payer and trace key TRN03/TRN02: posting the
     * same remittance twice changes nothing), claim and line payments,
     * adjustments (CAS) and provider-level adjustments (PLB), the worklist,
     * the 999 acknowledgments received, and the payer's keys of our PCNs */
    {3, "remittances, claim and line payments, adjustments, PLB, worklist, acknowledgments, payer keys",
     "ALTER TABLE claims ADD COLUMN payer_claim_no TEXT;"
     "CREATE TABLE remittances ("
     "  id INTEGER PRIMARY KEY, payer TEXT NOT NULL, trace_key TEXT NOT NULL, practice TEXT,"
     "  paid_cents INTEGER NOT NULL, method TEXT, pay_date TEXT, payee_npi TEXT, payee_tax_id TEXT,"
     "  file TEXT NOT NULL, sha256 TEXT NOT NULL, claims INTEGER NOT NULL DEFAULT 0,"
     "  flagged INTEGER NOT NULL DEFAULT 0, posted_at TEXT NOT NULL,"
     "  UNIQUE (payer, trace_key));"
     "CREATE TABLE claim_payments ("
     "  id INTEGER PRIMARY KEY, claim_id INTEGER NOT NULL REFERENCES claims(id),"
     "  remittance_id INTEGER NOT NULL REFERENCES remittances(id),"
     "  status_code TEXT NOT NULL, outcome TEXT NOT NULL, billed_cents INTEGER NOT NULL,"
     "  paid_cents INTEGER NOT NULL, patient_resp_cents INTEGER NOT NULL, allowed_cents INTEGER NOT NULL,"
     "  payer_claim_no TEXT, reversal INTEGER NOT NULL DEFAULT 0 CHECK (reversal = 0 OR reversal = 1),"
     "  reversed_by INTEGER REFERENCES claim_payments(id), posted_at TEXT NOT NULL);"
     "CREATE INDEX claim_payments_by_claim ON claim_payments(claim_id, id);"
     "CREATE INDEX claim_payments_by_remittance ON claim_payments(remittance_id);"
     "CREATE TABLE line_payments ("
     "  id INTEGER PRIMARY KEY, claim_payment_id INTEGER NOT NULL REFERENCES claim_payments(id),"
     "  line_no INTEGER NOT NULL, procedure TEXT, modifiers TEXT, control TEXT,"
     "  billed_cents INTEGER NOT NULL, paid_cents INTEGER NOT NULL, allowed_cents INTEGER NOT NULL,"
     "  units_x100 INTEGER NOT NULL);"
     "CREATE INDEX line_payments_by_claim_payment ON line_payments(claim_payment_id);"
     "CREATE TABLE adjustments ("
     "  id INTEGER PRIMARY KEY, claim_payment_id INTEGER NOT NULL REFERENCES claim_payments(id),"
     "  line_payment_id INTEGER REFERENCES line_payments(id),"
     "  group_code TEXT NOT NULL, reason TEXT NOT NULL, amount_cents INTEGER NOT NULL, quantity TEXT);"
     "CREATE INDEX adjustments_by_claim_payment ON adjustments(claim_payment_id);"
     "CREATE TABLE plb_adjustments ("
     "  id INTEGER PRIMARY KEY, remittance_id INTEGER NOT NULL REFERENCES remittances(id),"
     "  provider_id TEXT, fiscal_date TEXT, reason TEXT NOT NULL, reference TEXT, amount_cents INTEGER NOT NULL);"
     "CREATE TABLE worklist ("
     "  id INTEGER PRIMARY KEY,"
     "  kind TEXT NOT NULL CHECK (instr(',unmatched,ambiguous,underpaid,unbalanced,invalid,payee,state,rejected,',"
     "    ',' || kind || ',') > 0),"
     "  practice TEXT, payer TEXT, claim_id INTEGER REFERENCES claims(id),"
     "  remittance_id INTEGER REFERENCES remittances(id), file TEXT, reference TEXT,"
     "  amount_cents INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL,"
     "  created_at TEXT NOT NULL, resolved_at TEXT);"
     "CREATE INDEX worklist_open ON worklist(practice, id) WHERE resolved_at IS NULL;"
     "CREATE TABLE acknowledgments ("
     "  id INTEGER PRIMARY KEY, batch_id INTEGER REFERENCES batches(id),"
     "  file TEXT NOT NULL, sha256 TEXT NOT NULL, gs06 TEXT NOT NULL, st02 TEXT NOT NULL,"
     "  accepted INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT, claims INTEGER NOT NULL DEFAULT 0,"
     "  received_at TEXT NOT NULL, UNIQUE (sha256, gs06, st02));"
     "CREATE INDEX batches_by_gs06 ON batches(gs06);"
     "CREATE INDEX claims_by_charge ON claims(total_cents, service_date);"
     /* the payer key of each PCN under one payer's rules (sig): filled when
      * the payer's remittances are first matched, then kept up to date */
     "CREATE TABLE claim_keys ("
     "  payer TEXT NOT NULL, sig TEXT NOT NULL, key TEXT NOT NULL, claim_id INTEGER NOT NULL REFERENCES claims(id),"
     "  PRIMARY KEY (payer, sig, key, claim_id)) WITHOUT ROWID;"
     "CREATE TABLE claim_keys_done (payer TEXT NOT NULL, sig TEXT NOT NULL, last_claim_id INTEGER NOT NULL,"
     "  PRIMARY KEY (payer, sig)) WITHOUT ROWID;"},
    /* 4 once added a second column for the payer's claim number; 3's
     * payer_claim_no is the one kept.  The number stays taken. */
    {4, "(no change: the payer's claim number is claims.payer_claim_no, from 3)", "SELECT 1;"},
    /* 6: posting speed (issue 6).  A claim payment holds its lines and CAS
     * adjustments as two JSON columns (engine/ledger_payjson.h) instead of a
     * row each: one row per claim instead of about eight.  The rows posted
     * before move into the columns in their order; line_payments and
     * adjustments become views with the same columns (ids are derived from
     * the payment's: line = payment * 1000 + n, adjustment = payment * 10^7
     * + line * 10^4 + n; an 835 claim has at most 999 lines). */
    {6, "claim payments hold their lines and adjustments as JSON; line_payments and adjustments are views",
     "ALTER TABLE claim_payments ADD COLUMN adj TEXT;"
     "ALTER TABLE claim_payments ADD COLUMN lines TEXT;"
     "UPDATE claim_payments SET"
     "  adj = (SELECT json_group_array(json_array(a.group_code, a.reason, a.amount_cents, a.quantity)) FROM"
     "    (SELECT * FROM adjustments WHERE claim_payment_id = claim_payments.id AND line_payment_id IS NULL"
     "     ORDER BY id) a),"
     "  lines = (SELECT json_group_array(json_array(lp.line_no, lp.procedure, lp.modifiers, lp.control,"
     "      lp.billed_cents, lp.paid_cents, lp.allowed_cents, lp.units_x100,"
     "      json((SELECT json_group_array(json_array(a.group_code, a.reason, a.amount_cents, a.quantity)) FROM"
     "        (SELECT * FROM adjustments WHERE claim_payment_id = lp.claim_payment_id AND line_payment_id = lp.id"
     "         ORDER BY id) a)))) FROM"
     "    (SELECT * FROM line_payments WHERE claim_payment_id = claim_payments.id ORDER BY id) lp);"
     "UPDATE claim_payments SET adj = nullif(adj, '[]'), lines = nullif(lines, '[]');"
     "DROP TABLE adjustments;"
     "DROP TABLE line_payments;"
     "CREATE VIEW line_payments(id, claim_payment_id, line_no, procedure, modifiers, control, billed_cents,"
     "  paid_cents, allowed_cents, units_x100) AS"
     "  SELECT cp.id * 1000 + l.key + 1, cp.id, l.value ->> 0, l.value ->> 1, l.value ->> 2, l.value ->> 3,"
     "    l.value ->> 4, l.value ->> 5, l.value ->> 6, l.value ->> 7"
     "  FROM claim_payments cp, json_each(cp.lines) l;"
     "CREATE VIEW adjustments(id, claim_payment_id, line_payment_id, group_code, reason, amount_cents, quantity) AS"
     "  SELECT cp.id * 10000000 + a.key + 1, cp.id, NULL, a.value ->> 0, a.value ->> 1, a.value ->> 2, a.value ->> 3"
     "  FROM claim_payments cp, json_each(cp.adj) a"
     "  UNION ALL"
     "  SELECT cp.id * 10000000 + (l.key + 1) * 10000 + a.key + 1, cp.id, cp.id * 1000 + l.key + 1,"
     "    a.value ->> 0, a.value ->> 1, a.value ->> 2, a.value ->> 3"
     "  FROM claim_payments cp, json_each(cp.lines) l, json_each(l.value, '$[8]') a;"},
    /* 7: a posting report lost to a crash between the commit and the report
     * is written by the next run (ledger_remittances_unreported).  What was
     * posted before this version counts as reported. */
    {7, "remittances remember when their posting report was put in place",
     "ALTER TABLE remittances ADD COLUMN reported_at TEXT;"
     "UPDATE remittances SET reported_at = posted_at;"
     "CREATE INDEX remittances_unreported ON remittances(id) WHERE reported_at IS NULL;"},
};
#define NMIGRATIONS (sizeof migrations / sizeof migrations[0])

/* Foreign keys are off while migrating (they cannot be switched inside a
 * transaction), so that a migration may rebuild a table others refer to,
 * as the SQLite documentation describes; they are checked before COMMIT. */
static ch_code fk_check(ledger *l, ch_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db, "PRAGMA foreign_key_check", -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "foreign key check");
    int st = sqlite3_step(s);
    ch_code rc = CH_OK;
    if (st == SQLITE_ROW)
        rc = ch_error_set(err, CH_ERR_DB, "ledger %s: migration broke a reference from table %s", l->path,
                          (const char *)sqlite3_column_text(s, 0));
    else if (st != SQLITE_DONE)
        rc = lsq_db_err(l, err, "foreign key check");
    sqlite3_finalize(s);
    return rc;
}

static ch_code migrate_txn(ledger *l, ch_error *err);

static int migration_applied(ledger *l, int version)
{
    sqlite3_stmt *s;
    int yes = 0;
    if (sqlite3_prepare_v2(l->db, "SELECT 1 FROM schema_migrations WHERE version = ?1", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int(s, 1, version);
        yes = sqlite3_step(s) == SQLITE_ROW;
        sqlite3_finalize(s);
    }
    return yes;
}

ch_code lsq_migrate(ledger *l, ch_error *err)
{
    ch_code rc = lsq_exec(l, "PRAGMA foreign_keys = OFF", err);
    if (rc == CH_OK)
        rc = migrate_txn(l, err);
    ch_code on = lsq_exec(l, "PRAGMA foreign_keys = ON", rc == CH_OK ? err : NULL);
    return rc != CH_OK ? rc : on;
}

static ch_code migrate_txn(ledger *l, ch_error *err)
{
    ch_code rc = lsq_exec(l, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                         "applied_at TEXT NOT NULL, description TEXT NOT NULL)", err);
    if (rc != CH_OK)
        return rc;
    if ((rc = lsq_exec(l, "BEGIN IMMEDIATE", err)) != CH_OK)
        return rc;
    unsigned applied = 0;
    for (size_t i = 0; i < NMIGRATIONS && rc == CH_OK; i++) {
        const migration *m = &migrations[i];
        /* applied or not by its own row, not by the highest number: numbers
         * are handed out to work that lands in any order */
        if (migration_applied(l, m->version))
            continue;
        if ((rc = lsq_exec(l, m->sql, err)) != CH_OK)
            break;
        applied++;
        char at[32], sql[512];
        lsq_now(at);
        char *q = sqlite3_mprintf("INSERT INTO schema_migrations VALUES (%d, %Q, %Q)", m->version, at, m->description);
        snprintf(sql, sizeof sql, "%s", q ? q : "");
        sqlite3_free(q);
        rc = lsq_exec(l, sql, err);
    }
    /* only a migration can break a reference (foreign keys are on
     * otherwise); checking a large ledger on every open costs seconds */
    if (rc == CH_OK && applied)
        rc = fk_check(l, err);
    if (rc != CH_OK) {
        lsq_exec(l, "ROLLBACK", NULL);
        return rc;
    }
    if (ledger_schema_version(l) > (int)migrations[NMIGRATIONS - 1].version) {
        lsq_exec(l, "ROLLBACK", NULL);
        return ch_error_set(err, CH_ERR_DB, "ledger %s: schema version %d is newer than this program knows (%d)",
                            l->path, ledger_schema_version(l), migrations[NMIGRATIONS - 1].version);
    }
    return lsq_exec(l, "COMMIT", err);
}

int ledger_schema_version(ledger *l)
{
    sqlite3_stmt *s;
    int v = 0;
    if (sqlite3_prepare_v2(l->db, "SELECT max(version) FROM schema_migrations", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            v = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
    }
    return v;
}
