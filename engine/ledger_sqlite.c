/*
 * ledger_sqlite.c - the ledger on SQLite (see ledger.h).
 *
 * WAL journal, so `clearinghouse claims` can read while intake writes;
 * synchronous=FULL, so a committed claim survives a power cut before its
 * source file is moved to the archive; foreign keys on; a busy timeout so
 * two engine processes queue instead of failing.  Write transactions are
 * BEGIN IMMEDIATE: the write lock is taken up front, which rules out the
 * deadlock of two readers upgrading at once.
 *
 * Statements used per claim are prepared once and kept.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ledger.h"
#include "ledger_backend.h"
#include "ledger_sqlite_int.h"

enum {
    S_VERSIONS,
    S_CLAIM_BRIEF,
    S_NEXT_ID,
    S_CLAIM_INSERT,
    S_VERSION_INSERT,
    S_EVENT_INSERT,
    S_CLAIM_REVISE,
    S_CLAIM_SET,
    S_ASSIGN,
    S_ASSIGN_EVENTS,
    S_CONTROL_GET,
    S_CONTROL_SET,
    S__COUNT
};

static const char *const sql_text[S__COUNT] = {
    [S_VERSIONS] = "SELECT content_hash, claim_id, version FROM encounter_versions "
                   "WHERE practice = ?1 AND encounter_id = ?2",
    [S_CLAIM_BRIEF] = "SELECT state, pcn, version, batch_id FROM claims WHERE id = ?1",
    [S_NEXT_ID] = "SELECT max(id) FROM claims",
    [S_CLAIM_INSERT] = "INSERT INTO claims(id, pcn, practice, payer, claim_type, encounter_id, version, "
                       "frequency, replaces, total_cents, service_date, state, created_at, updated_at) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'queued', ?12, ?12)",
    [S_VERSION_INSERT] = "INSERT INTO encounter_versions(practice, encounter_id, content_hash, version, claim_id, "
                         "received_at, source, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_EVENT_INSERT] = "INSERT INTO events(claim_id, at, actor, from_state, to_state, why, batch_id) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_CLAIM_REVISE] = "UPDATE claims SET payer = ?2, claim_type = ?3, version = ?4, "
                       "frequency = ?5, total_cents = ?6, service_date = ?7, state = 'queued', "
                       "batch_id = NULL, last_error = NULL, updated_at = ?8 WHERE id = ?1",
    [S_CLAIM_SET] = "UPDATE claims SET state = ?2, batch_id = ?3, last_error = ?4, updated_at = ?5 WHERE id = ?1",
    /* ?1 is a JSON array of claim ids: one statement for a whole batch */
    [S_ASSIGN] = "UPDATE claims SET state = 'batched', batch_id = ?2, updated_at = ?3 "
                 "WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'queued'",
    [S_ASSIGN_EVENTS] = "INSERT INTO events(claim_id, at, actor, from_state, to_state, why, batch_id) "
                        "SELECT value, ?3, ?4, 'queued', 'batched', ?5, ?2 FROM json_each(?1)",
    [S_CONTROL_GET] = "SELECT last FROM control_numbers WHERE sender = ?1 AND receiver = ?2 AND kind = ?3",
    [S_CONTROL_SET] = "INSERT INTO control_numbers(sender, receiver, kind, last) VALUES (?1, ?2, ?3, ?4) "
                      "ON CONFLICT(sender, receiver, kind) DO UPDATE SET last = excluded.last",
};

struct ledger {
    sqlite3 *db;
    char path[PATH_MAX];
    int in_txn;
    int64_t next_id;   /* the next claim id, while in a transaction; 0 unknown */
    char txn_at[32];   /* when the open transaction began: its events' time */
    sqlite3_stmt *st[S__COUNT];
    struct ledger_remit_stmts *remit; /* ledger_remit.c's statements, prepared when first used */
    struct ledger_hold *hold;         /* ledger_hold.c: rows held for multi-row INSERTs */
    lsq_ckpt *ckpt;                   /* checkpoints in the background */
};

/* --- schema ------------------------------------------------------------------ */

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

/* --- helpers -------------------------------------------------------------------- */

static ch_code db_err(ledger *l, ch_error *err, const char *what)
{
    int code = sqlite3_errcode(l->db);
    ch_code c = code == SQLITE_BUSY || code == SQLITE_LOCKED ? CH_ERR_BUSY : CH_ERR_DB;
    return ch_error_set(err, c, "ledger %s: %s: %s", l->path, what, sqlite3_errmsg(l->db));
}

static void now_iso(char buf[32])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/* The time recorded for a change: the transaction's start while one is
 * open (what it writes becomes visible at once, and formatting a time per
 * row costs more than the row), else now. */
static void stamp(ledger *l, char at[32])
{
    if (l->in_txn && l->txn_at[0])
        memcpy(at, l->txn_at, 32);
    else
        now_iso(at);
}

static ch_code exec(ledger *l, const char *sql, ch_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(l->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        ch_code c = sqlite3_errcode(l->db) == SQLITE_BUSY ? CH_ERR_BUSY : CH_ERR_DB;
        ch_error_set(err, c, "ledger %s: %s", l->path, msg ? msg : "error");
        sqlite3_free(msg);
        return c;
    }
    return CH_OK;
}

static sqlite3_stmt *stmt(ledger *l, int which)
{
    lsq_flush(l, NULL); /* held rows first (a failure fails the commit) */
    sqlite3_stmt *s = l->st[which];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

/* A text column into a fixed buffer, truncated to fit; NULL reads as "".
 * (No printf: batching reads a dozen of these per claim.) */
static void col_text(sqlite3_stmt *s, int i, char *dst, size_t size)
{
    const char *t = (const char *)sqlite3_column_text(s, i);
    size_t n = t ? strnlen(t, size - 1) : 0;
    memcpy(dst, t ? t : "", n);
    dst[n] = '\0';
}

/* Statements that must go together run in the caller's transaction, or in
 * their own when the caller has none. */
static ch_code auto_begin(ledger *l, int *own, ch_error *err)
{
    *own = 0;
    if (l->in_txn)
        return CH_OK;
    ch_code rc = ledger_begin(l, err);
    if (rc == CH_OK)
        *own = 1;
    return rc;
}

static ch_code auto_end(ledger *l, int own, ch_code rc, ch_error *err)
{
    if (!own)
        return rc;
    if (rc != CH_OK) {
        ledger_rollback(l);
        return rc;
    }
    return ledger_commit(l, err);
}

/* --- open / close / transactions --------------------------------------------- */

/* Foreign keys are off while migrating (they cannot be switched inside a
 * transaction), so that a migration may rebuild a table others refer to,
 * as the SQLite documentation describes; they are checked before COMMIT. */
static ch_code fk_check(ledger *l, ch_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db, "PRAGMA foreign_key_check", -1, &s, NULL) != SQLITE_OK)
        return db_err(l, err, "foreign key check");
    int st = sqlite3_step(s);
    ch_code rc = CH_OK;
    if (st == SQLITE_ROW)
        rc = ch_error_set(err, CH_ERR_DB, "ledger %s: migration broke a reference from table %s", l->path,
                          (const char *)sqlite3_column_text(s, 0));
    else if (st != SQLITE_DONE)
        rc = db_err(l, err, "foreign key check");
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

static ch_code migrate(ledger *l, ch_error *err)
{
    ch_code rc = exec(l, "PRAGMA foreign_keys = OFF", err);
    if (rc == CH_OK)
        rc = migrate_txn(l, err);
    ch_code on = exec(l, "PRAGMA foreign_keys = ON", rc == CH_OK ? err : NULL);
    return rc != CH_OK ? rc : on;
}

static ch_code migrate_txn(ledger *l, ch_error *err)
{
    ch_code rc = exec(l, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                         "applied_at TEXT NOT NULL, description TEXT NOT NULL)", err);
    if (rc != CH_OK)
        return rc;
    if ((rc = exec(l, "BEGIN IMMEDIATE", err)) != CH_OK)
        return rc;
    unsigned applied = 0;
    for (size_t i = 0; i < NMIGRATIONS && rc == CH_OK; i++) {
        const migration *m = &migrations[i];
        /* applied or not by its own row, not by the highest number: numbers
         * are handed out to work that lands in any order */
        if (migration_applied(l, m->version))
            continue;
        if ((rc = exec(l, m->sql, err)) != CH_OK)
            break;
        applied++;
        char at[32], sql[512];
        now_iso(at);
        char *q = sqlite3_mprintf("INSERT INTO schema_migrations VALUES (%d, %Q, %Q)", m->version, at, m->description);
        snprintf(sql, sizeof sql, "%s", q ? q : "");
        sqlite3_free(q);
        rc = exec(l, sql, err);
    }
    /* only a migration can break a reference (foreign keys are on
     * otherwise); checking a large ledger on every open costs seconds */
    if (rc == CH_OK && applied)
        rc = fk_check(l, err);
    if (rc != CH_OK) {
        exec(l, "ROLLBACK", NULL);
        return rc;
    }
    if (ledger_schema_version(l) > (int)migrations[NMIGRATIONS - 1].version) {
        exec(l, "ROLLBACK", NULL);
        return ch_error_set(err, CH_ERR_DB, "ledger %s: schema version %d is newer than this program knows (%d)",
                            l->path, ledger_schema_version(l), migrations[NMIGRATIONS - 1].version);
    }
    return exec(l, "COMMIT", err);
}

static pthread_once_t config_once = PTHREAD_ONCE_INIT;

static void configure(void) { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

ch_code ledger_sqlite_open(ledger **out, const char *path, ch_error *err)
{
    *out = NULL;
    ledger *l = calloc(1, sizeof *l);
    if (!l)
        return ch_error_set(err, CH_ERR_NOMEM, "ledger %s: out of memory", path);
    snprintf(l->path, sizeof l->path, "%s", path);
    /* before SQLite initializes: no memory statistics (their global mutex
     * is taken on every allocation); too late is harmless */
    pthread_once(&config_once, configure);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &l->db, flags, NULL) != SQLITE_OK) {
        ch_error_set(err, CH_ERR_DB, "ledger %s: %s", path, l->db ? sqlite3_errmsg(l->db) : "cannot open");
        ledger_close(l);
        return CH_ERR_DB;
    }
    /* the ledger holds PHI: owner only (the WAL and shm files follow the
     * database file's mode) */
    if (chmod(path, 0600) < 0 && errno != ENOENT) {
        ch_error_set(err, CH_ERR_IO, "ledger %s: chmod: %s", path, strerror(errno));
        ledger_close(l);
        return CH_ERR_IO;
    }
    sqlite3_busy_timeout(l->db, 30000);
    ch_code rc;
    /* 16 KiB pages for a new ledger (an existing one keeps its own): a
     * claim's rows, their index entries and their WAL frames are handled a
     * page at a time, and with four times fewer pages taking in and
     * batching 100,000 claims cost a quarter less */
    if ((rc = exec(l, "PRAGMA page_size = 16384", err)) != CH_OK ||
        (rc = exec(l, "PRAGMA journal_mode = WAL", err)) != CH_OK ||
        (rc = exec(l, "PRAGMA synchronous = FULL", err)) != CH_OK ||
        /* a batch reads and rewrites tens of thousands of rows: keep them in
         * memory (64 MiB of cache; reading through mmap was no faster and
         * counts the whole file as resident) and checkpoint the WAL in larger
         * steps (on a thread of their own: ledger_ckpt.c; this limit is for
         * when that cannot start) */
        (rc = exec(l, "PRAGMA cache_size = -65536", err)) != CH_OK ||
        (rc = exec(l, "PRAGMA wal_autocheckpoint = 8192", err)) != CH_OK ||
        (rc = exec(l, "PRAGMA temp_store = MEMORY", err)) != CH_OK || (rc = migrate(l, err)) != CH_OK) {
        ledger_close(l);
        return rc;
    }
    for (int i = 0; i < S__COUNT; i++)
        if (sqlite3_prepare_v3(l->db, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT, &l->st[i], NULL) != SQLITE_OK) {
            rc = db_err(l, err, "prepare");
            ledger_close(l);
            return rc;
        }
    l->ckpt = lsq_ckpt_start(l->db, l->path);
    *out = l;
    return CH_OK;
}

void ledger_close(ledger *l)
{
    if (!l)
        return;
    if (l->in_txn)
        ledger_rollback(l);
    ledger_remit_release(l);
    lsq_hold_free(l);
    lsq_ckpt_stop(l->ckpt);
    for (int i = 0; i < S__COUNT; i++)
        sqlite3_finalize(l->st[i]);
    sqlite3_close(l->db);
    free(l);
}

ch_code ledger_begin(ledger *l, ch_error *err)
{
    if (l->in_txn)
        return ch_error_set(err, CH_ERR_USAGE, "ledger %s: a transaction is already open", l->path);
    ch_code rc = exec(l, "BEGIN IMMEDIATE", err);
    if (rc == CH_OK) {
        lsq_hold_end(l);
        l->in_txn = 1;
        l->next_id = 0;
        now_iso(l->txn_at);
    }
    return rc;
}

ch_code ledger_commit(ledger *l, ch_error *err)
{
    if (!l->in_txn)
        return ch_error_set(err, CH_ERR_USAGE, "ledger %s: no transaction to commit", l->path);
    ch_code rc = lsq_flush(l, err);
    if (rc == CH_OK)
        rc = exec(l, "COMMIT", err);
    if (rc != CH_OK) {
        ledger_rollback(l);
        return rc;
    }
    lsq_hold_end(l);
    l->in_txn = 0;
    l->next_id = 0;
    return CH_OK;
}

void ledger_rollback(ledger *l)
{
    if (!l->in_txn)
        return;
    for (int i = 0; i < S__COUNT; i++)
        sqlite3_reset(l->st[i]);
    ledger_remit_reset(l);
    lsq_hold_end(l);
    exec(l, "ROLLBACK", NULL);
    l->in_txn = 0;
    l->next_id = 0;
}

struct sqlite3 *ledger_sqlite_db(ledger *l)
{
    lsq_flush(l, NULL); /* the other files' statements see what is held */
    return l->db;
}

const char *ledger_sqlite_path(const ledger *l) { return l->path; }

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

/* --- reference data --------------------------------------------------------------- */

static ch_code put_ref(ledger *l, const char *sql, const char *a, const char *b, const char *c, ch_error *err)
{
    sqlite3_stmt *s;
    char at[32];
    stamp(l, at);
    if (sqlite3_prepare_v2(l->db, sql, -1, &s, NULL) != SQLITE_OK)
        return db_err(l, err, "prepare");
    bind_text(s, 1, a);
    bind_text(s, 2, b);
    bind_text(s, 3, c);
    bind_text(s, 4, at);
    int r = sqlite3_step(s);
    sqlite3_finalize(s);
    return r == SQLITE_DONE ? CH_OK : db_err(l, err, "update reference data");
}

ch_code ledger_practice_put(ledger *l, const char *id, const char *name, const char *npi, ch_error *err)
{
    return put_ref(l,
                   "INSERT INTO practices VALUES (?1, ?2, ?3, ?4) ON CONFLICT(id) DO UPDATE SET "
                   "name = excluded.name, npi = excluded.npi, updated_at = excluded.updated_at "
                   "WHERE name != excluded.name OR npi != excluded.npi",
                   id, name, npi, err);
}

ch_code ledger_payer_put(ledger *l, const char *id, const char *payer_id, const char *name, ch_error *err)
{
    return put_ref(l,
                   "INSERT INTO payers VALUES (?1, ?2, ?3, ?4) ON CONFLICT(id) DO UPDATE SET "
                   "payer_id = excluded.payer_id, name = excluded.name, updated_at = excluded.updated_at "
                   "WHERE payer_id != excluded.payer_id OR name != excluded.name",
                   id, payer_id, name, err);
}

/* --- events ------------------------------------------------------------------------- */

static ch_code add_event(ledger *l, int64_t claim_id, const char *at, const char *actor, const char *from,
                         const char *to, const char *why, int64_t batch_id, ch_error *err)
{
    sqlite3_stmt *s = stmt(l, S_EVENT_INSERT);
    sqlite3_bind_int64(s, 1, claim_id);
    bind_text(s, 2, at);
    bind_text(s, 3, actor && actor[0] ? actor : "engine");
    bind_text(s, 4, from);
    bind_text(s, 5, to);
    bind_text(s, 6, why ? why : "");
    if (batch_id > 0)
        sqlite3_bind_int64(s, 7, batch_id);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    return r == SQLITE_DONE ? CH_OK : db_err(l, err, "append event");
}

/* --- intake --------------------------------------------------------------------------- */

static ch_code next_claim_id(ledger *l, int64_t *id, ch_error *err)
{
    if (!l->next_id) {
        /* read once per transaction: the write lock is ours until commit */
        sqlite3_stmt *s = stmt(l, S_NEXT_ID);
        int r = sqlite3_step(s);
        if (r == SQLITE_ROW)
            l->next_id = sqlite3_column_int64(s, 0) + 1; /* NULL (no claims yet) reads as 0 */
        else
            return db_err(l, err, "claim id");
        sqlite3_reset(s);
    }
    *id = l->next_id;
    return CH_OK;
}

static ch_code insert_claim(ledger *l, const ledger_submission *sub, unsigned version, int64_t replaces,
                            const char *at, ledger_intake_result *r, ch_error *err)
{
    int64_t id = 0;
    ch_code rc = next_claim_id(l, &id, err);
    if (rc != CH_OK)
        return rc;
    /* prefix + the id in at least 8 digits ("%s%08" PRId64), without printf:
     * this runs for every claim taken in */
    char digits[24];
    size_t nd = 0;
    for (uint64_t v = (uint64_t)id; v || nd < 8; v /= 10)
        digits[nd++] = (char)('0' + v % 10);
    const char *prefix = sub->claim_prefix ? sub->claim_prefix : "";
    size_t np = strlen(prefix), n = np + nd;
    if (n < sizeof r->pcn) {
        memcpy(r->pcn, prefix, np);
        for (size_t i = 0; i < nd; i++)
            r->pcn[np + i] = digits[nd - 1 - i];
        r->pcn[n] = '\0';
    }
    if (id < 0 || n >= sizeof r->pcn)
        return ch_error_set(err, CH_ERR_LIMIT, "ledger %s: claim %" PRId64 ": patient control number too long",
                            l->path, id);
    sqlite3_stmt *s = stmt(l, S_CLAIM_INSERT);
    sqlite3_bind_int64(s, 1, id);
    bind_text(s, 2, r->pcn);
    bind_text(s, 3, sub->practice);
    bind_text(s, 4, sub->payer);
    bind_text(s, 5, sub->claim_type);
    bind_text(s, 6, sub->encounter_id);
    sqlite3_bind_int(s, 7, (int)version);
    sqlite3_bind_int(s, 8, sub->frequency);
    if (replaces)
        sqlite3_bind_int64(s, 9, replaces);
    sqlite3_bind_int64(s, 10, sub->total_cents);
    bind_text(s, 11, sub->service_date && sub->service_date[0] ? sub->service_date : NULL);
    bind_text(s, 12, at);
    int st = sqlite3_step(s);
    sqlite3_reset(s);
    if (st != SQLITE_DONE)
        return db_err(l, err, "insert claim");
    l->next_id = id + 1;
    r->claim_id = id;
    return CH_OK;
}

static ch_code insert_version(ledger *l, const ledger_submission *sub, unsigned version, int64_t claim_id,
                              const char *at, ch_error *err)
{
    sqlite3_stmt *s = stmt(l, S_VERSION_INSERT);
    bind_text(s, 1, sub->practice);
    bind_text(s, 2, sub->encounter_id);
    bind_text(s, 3, sub->content_hash);
    sqlite3_bind_int(s, 4, (int)version);
    sqlite3_bind_int64(s, 5, claim_id);
    bind_text(s, 6, at);
    bind_text(s, 7, sub->source);
    sqlite3_bind_blob(s, 8, sub->doc, (int)sub->doc_len, SQLITE_STATIC);
    int st = sqlite3_step(s);
    sqlite3_reset(s);
    return st == SQLITE_DONE ? CH_OK : db_err(l, err, "record encounter version");
}

static int revisable(ledger_state s)
{
    /* the claim has not gone out (or came back rejected before adjudication) */
    return s == LEDGER_QUEUED || s == LEDGER_FAILED || s == LEDGER_REJECTED;
}

static ch_code submit(ledger *l, const ledger_submission *sub, ledger_intake_result *r, ch_error *err)
{
    char at[32], why[512];
    stamp(l, at);
    /* every version of this encounter seen before: usually none */
    sqlite3_stmt *s = stmt(l, S_VERSIONS);
    bind_text(s, 1, sub->practice);
    bind_text(s, 2, sub->encounter_id);
    unsigned maxv = 0;
    int64_t latest_claim = 0;
    int st;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(s, 0);
        int64_t cid = sqlite3_column_int64(s, 1);
        unsigned v = (unsigned)sqlite3_column_int(s, 2);
        if (h && !strcmp(h, sub->content_hash)) {
            r->outcome = LEDGER_DUPLICATE;
            r->claim_id = cid;
            r->version = v;
            sqlite3_reset(s);
            sqlite3_stmt *b = stmt(l, S_CLAIM_BRIEF);
            sqlite3_bind_int64(b, 1, cid);
            if (sqlite3_step(b) == SQLITE_ROW)
                col_text(b, 1, r->pcn, sizeof r->pcn);
            sqlite3_reset(b);
            return CH_OK;
        }
        if (v > maxv) {
            maxv = v;
            latest_claim = cid;
        }
    }
    sqlite3_reset(s);
    if (st != SQLITE_DONE)
        return db_err(l, err, "look up encounter");

    if (!latest_claim) {
        ch_code rc = insert_claim(l, sub, 1, 0, at, r, err);
        if (rc != CH_OK)
            return rc;
        r->outcome = LEDGER_NEW;
        r->version = 1;
        /* "taken in from <source>" (truncated like snprintf would) */
        const char *src = sub->source ? sub->source : "(unknown)";
        size_t ns = strnlen(src, sizeof why - 15);
        memcpy(why, "taken in from ", 14);
        memcpy(why + 14, src, ns);
        why[14 + ns] = '\0';
        if ((rc = insert_version(l, sub, 1, r->claim_id, at, err)) != CH_OK)
            return rc;
        return add_event(l, r->claim_id, at, sub->actor, NULL, "queued", why, 0, err);
    }

    /* a new version of an encounter we have */
    sqlite3_stmt *b = stmt(l, S_CLAIM_BRIEF);
    sqlite3_bind_int64(b, 1, latest_claim);
    if (sqlite3_step(b) != SQLITE_ROW) {
        sqlite3_reset(b);
        return ch_error_set(err, CH_ERR_INTERNAL, "ledger %s: encounter version points at missing claim %" PRId64,
                            l->path, latest_claim);
    }
    char state_s[16];
    col_text(b, 0, state_s, sizeof state_s);
    col_text(b, 1, r->pcn, sizeof r->pcn);
    sqlite3_reset(b);
    ledger_state state;
    if (ledger_state_parse(state_s, &state) != CH_OK)
        return ch_error_set(err, CH_ERR_INTERNAL, "ledger %s: claim %" PRId64 " has unknown state", l->path,
                            latest_claim);
    unsigned version = maxv + 1;
    r->version = version;
    if (revisable(state)) {
        sqlite3_stmt *u = stmt(l, S_CLAIM_REVISE);
        sqlite3_bind_int64(u, 1, latest_claim);
        bind_text(u, 2, sub->payer);
        bind_text(u, 3, sub->claim_type);
        sqlite3_bind_int(u, 4, (int)version);
        sqlite3_bind_int(u, 5, sub->frequency);
        sqlite3_bind_int64(u, 6, sub->total_cents);
        bind_text(u, 7, sub->service_date && sub->service_date[0] ? sub->service_date : NULL);
        bind_text(u, 8, at);
        int us = sqlite3_step(u);
        sqlite3_reset(u);
        if (us != SQLITE_DONE)
            return db_err(l, err, "revise claim");
        r->outcome = LEDGER_REVISED;
        r->claim_id = latest_claim;
        snprintf(why, sizeof why, "revised: encounter version %u from %s", version,
                 sub->source ? sub->source : "(unknown)");
        ch_code rc = insert_version(l, sub, version, latest_claim, at, err);
        if (rc != CH_OK)
            return rc;
        return add_event(l, latest_claim, at, sub->actor, state_s, "queued", why, 0, err);
    }
    if (sub->frequency == 7 || sub->frequency == 8) {
        ch_code rc = insert_claim(l, sub, version, latest_claim, at, r, err);
        if (rc != CH_OK)
            return rc;
        r->outcome = LEDGER_REPLACEMENT;
        snprintf(why, sizeof why, "taken in from %s: %s of claim %" PRId64 " (encounter version %u)",
                 sub->source ? sub->source : "(unknown)", sub->frequency == 7 ? "replacement" : "void",
                 latest_claim, version);
        if ((rc = insert_version(l, sub, version, r->claim_id, at, err)) != CH_OK)
            return rc;
        return add_event(l, r->claim_id, at, sub->actor, NULL, "queued", why, 0, err);
    }
    r->outcome = LEDGER_REFUSED;
    r->claim_id = latest_claim;
    /* no encounter id here: the message may be logged */
    snprintf(r->why, sizeof r->why,
             "this encounter changed, but its claim %s is already %s; send the change as frequency: replacement "
             "(or void) with the payer's claim number",
             r->pcn, state_s);
    return CH_OK;
}

ch_code ledger_claim_submit(ledger *l, const ledger_submission *sub, ledger_intake_result *r, ch_error *err)
{
    memset(r, 0, sizeof *r);
    int own;
    ch_code rc = auto_begin(l, &own, err);
    if (rc != CH_OK)
        return rc;
    rc = submit(l, sub, r, err);
    return auto_end(l, own, rc, err);
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
    bind_text(s, 2, f->practice);
    bind_text(s, 3, f->payer);
    bind_text(s, 4, f->claim_type);
    if (f->batch_id > 0)
        sqlite3_bind_int64(s, 5, f->batch_id);
    if (f->after_id > 0)
        sqlite3_bind_int64(s, 6, f->after_id);
    bind_text(s, 7, f->pcn);
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
        return db_err(l, err, "list claims");
    filter_bind(s, f);
    ledger_claim c;
    int st;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&c, 0, sizeof c);
        c.id = sqlite3_column_int64(s, 0);
        col_text(s, 1, c.pcn, sizeof c.pcn);
        col_text(s, 2, c.practice, sizeof c.practice);
        col_text(s, 3, c.payer, sizeof c.payer);
        col_text(s, 4, c.claim_type, sizeof c.claim_type);
        col_text(s, 5, c.encounter_id, sizeof c.encounter_id);
        c.version = (unsigned)sqlite3_column_int(s, 6);
        c.frequency = sqlite3_column_int(s, 7);
        char state[16];
        col_text(s, 8, state, sizeof state);
        ledger_state_parse(state, &c.state);
        c.total_cents = sqlite3_column_int64(s, 9);
        col_text(s, 10, c.service_date, sizeof c.service_date);
        c.batch_id = sqlite3_column_int64(s, 11);
        c.replaces = sqlite3_column_int64(s, 12);
        col_text(s, 13, c.created_at, sizeof c.created_at);
        col_text(s, 14, c.updated_at, sizeof c.updated_at);
        col_text(s, 15, c.last_error, sizeof c.last_error);
        if (f->with_doc) {
            c.doc = sqlite3_column_blob(s, 16);
            c.doc_len = (size_t)sqlite3_column_bytes(s, 16);
        }
        if (fn(ctx, &c))
            break;
    }
    ch_code rc = st == SQLITE_ROW || st == SQLITE_DONE ? CH_OK : db_err(l, err, "list claims");
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
        return db_err(l, err, "count claims");
    filter_bind(s, f);
    int st;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        char name[16];
        ledger_state ls;
        col_text(s, 0, name, sizeof name);
        if (ledger_state_parse(name, &ls) == CH_OK)
            counts[ls] = (uint64_t)sqlite3_column_int64(s, 1);
    }
    ch_code rc = st == SQLITE_DONE ? CH_OK : db_err(l, err, "count claims");
    sqlite3_finalize(s);
    return rc;
}

static ch_code move(ledger *l, int64_t id, ledger_state to, int64_t batch_id, const char *actor, const char *why,
                    ch_error *err)
{
    char at[32], from_s[16];
    stamp(l, at);
    sqlite3_stmt *b = stmt(l, S_CLAIM_BRIEF);
    sqlite3_bind_int64(b, 1, id);
    int st = sqlite3_step(b);
    if (st != SQLITE_ROW) {
        sqlite3_reset(b);
        return st == SQLITE_DONE ? ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no claim %" PRId64, id)
                                 : db_err(l, err, "read claim");
    }
    col_text(b, 0, from_s, sizeof from_s);
    int64_t cur_batch = sqlite3_column_int64(b, 3);
    sqlite3_reset(b);
    ledger_state from;
    if (ledger_state_parse(from_s, &from) != CH_OK || !ledger_transition_ok(from, to))
        return ch_error_set(err, CH_ERR_INVALID, "ledger: claim %" PRId64 " cannot go from %s to %s", id, from_s,
                            ledger_state_name(to));
    int64_t batch = batch_id < 0 ? cur_batch : batch_id; /* -1: keep the one it has */
    sqlite3_stmt *u = stmt(l, S_CLAIM_SET);
    sqlite3_bind_int64(u, 1, id);
    bind_text(u, 2, ledger_state_name(to));
    if (batch > 0)
        sqlite3_bind_int64(u, 3, batch);
    bind_text(u, 4, to == LEDGER_FAILED ? why : NULL);
    bind_text(u, 5, at);
    st = sqlite3_step(u);
    sqlite3_reset(u);
    if (st != SQLITE_DONE)
        return db_err(l, err, "move claim");
    /* the event names the batch the claim is in, or the one it just left */
    return add_event(l, id, at, actor, from_s, ledger_state_name(to), why, batch > 0 ? batch : cur_batch, err);
}

ch_code ledger_claim_move(ledger *l, int64_t claim_id, ledger_state to, int64_t batch_id, const char *actor,
                          const char *why, ch_error *err)
{
    int own;
    ch_code rc = auto_begin(l, &own, err);
    if (rc != CH_OK)
        return rc;
    rc = move(l, claim_id, to, batch_id, actor, why, err);
    return auto_end(l, own, rc, err);
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
        return db_err(l, err, "read events");
    sqlite3_bind_int64(s, 1, claim_id);
    int st;
    ledger_event e;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&e, 0, sizeof e);
        e.id = sqlite3_column_int64(s, 0);
        e.claim_id = sqlite3_column_int64(s, 1);
        e.batch_id = sqlite3_column_int64(s, 2);
        col_text(s, 3, e.at, sizeof e.at);
        col_text(s, 4, e.actor, sizeof e.actor);
        col_text(s, 5, e.from_state, sizeof e.from_state);
        col_text(s, 6, e.to_state, sizeof e.to_state);
        col_text(s, 7, e.why, sizeof e.why);
        if (fn(ctx, &e))
            break;
    }
    ch_code rc = st == SQLITE_ROW || st == SQLITE_DONE ? CH_OK : db_err(l, err, "read events");
    sqlite3_finalize(s);
    return rc;
}

/* --- batches ----------------------------------------------------------------------------- */

ch_code ledger_queued_groups(ledger *l, ledger_group **groups, size_t *n, ch_error *err)
{
    *groups = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db,
                           "SELECT practice, payer, claim_type, count(*) FROM claims WHERE state = 'queued' "
                           "GROUP BY practice, payer, claim_type ORDER BY practice, payer, claim_type",
                           -1, &s, NULL) != SQLITE_OK)
        return db_err(l, err, "list queued claims");
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
        col_text(s, 0, g->practice, sizeof g->practice);
        col_text(s, 1, g->payer, sizeof g->payer);
        col_text(s, 2, g->claim_type, sizeof g->claim_type);
        g->count = (uint64_t)sqlite3_column_int64(s, 3);
    }
    if (rc == CH_OK && st != SQLITE_DONE && st != SQLITE_ROW)
        rc = db_err(l, err, "list queued claims");
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
    ch_code rc = auto_begin(l, &own, err);
    if (rc != CH_OK)
        return rc;
    sqlite3_stmt *g = stmt(l, S_CONTROL_GET);
    bind_text(g, 1, sender);
    bind_text(g, 2, receiver);
    bind_text(g, 3, control_kind[kind]);
    uint64_t last = 0;
    int st = sqlite3_step(g);
    if (st == SQLITE_ROW)
        last = (uint64_t)sqlite3_column_int64(g, 0);
    sqlite3_reset(g);
    if (st != SQLITE_ROW && st != SQLITE_DONE)
        return auto_end(l, own, db_err(l, err, "read control number"), err);
    if (last + count > 999999999u)
        return auto_end(l, own,
                        ch_error_set(err, CH_ERR_LIMIT,
                                     "ledger: %s control numbers from %s to %s are used up (last %" PRIu64 ")",
                                     control_kind[kind], sender, receiver, last),
                        err);
    sqlite3_stmt *u = stmt(l, S_CONTROL_SET);
    bind_text(u, 1, sender);
    bind_text(u, 2, receiver);
    bind_text(u, 3, control_kind[kind]);
    sqlite3_bind_int64(u, 4, (sqlite3_int64)(last + count));
    st = sqlite3_step(u);
    sqlite3_reset(u);
    if (st != SQLITE_DONE)
        return auto_end(l, own, db_err(l, err, "advance control number"), err);
    *first = last + 1;
    return auto_end(l, own, CH_OK, err);
}

ch_code ledger_batch_create(ledger *l, ledger_batch *b, ch_error *err)
{
    char at[32];
    stamp(l, at);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db,
                           "INSERT INTO batches(practice, payer, claim_type, state, sender, receiver, isa13, gs06, "
                           "st02_first, st_count, claim_count, total_cents, file, created_at, updated_at) "
                           "VALUES (?1, ?2, ?3, 'writing', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
                           -1, &s, NULL) != SQLITE_OK)
        return db_err(l, err, "create batch");
    bind_text(s, 1, b->practice);
    bind_text(s, 2, b->payer);
    bind_text(s, 3, b->claim_type);
    bind_text(s, 4, b->sender);
    bind_text(s, 5, b->receiver);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)b->isa13);
    sqlite3_bind_int64(s, 7, (sqlite3_int64)b->gs06);
    sqlite3_bind_int64(s, 8, (sqlite3_int64)b->st02_first);
    sqlite3_bind_int(s, 9, (int)b->st_count);
    sqlite3_bind_int(s, 10, (int)b->claim_count);
    sqlite3_bind_int64(s, 11, b->total_cents);
    bind_text(s, 12, b->file);
    bind_text(s, 13, at);
    int st = sqlite3_step(s);
    sqlite3_finalize(s);
    if (st != SQLITE_DONE)
        return db_err(l, err, "create batch");
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
    /* the ids as a JSON array, so that one statement moves them all */
    size_t cap = n * 21 + 3, len = 0;
    char *json = malloc(cap);
    if (!json)
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    json[len++] = '[';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(json + len, cap - len, "%s%" PRId64, i ? "," : "", ids[i]);
    json[len++] = ']';
    json[len] = '\0';
    int own;
    ch_code rc = auto_begin(l, &own, err);
    if (rc != CH_OK) {
        free(json);
        return rc;
    }
    char at[32];
    stamp(l, at);
    sqlite3_stmt *u = stmt(l, S_ASSIGN);
    sqlite3_bind_text(u, 1, json, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(u, 2, batch_id);
    bind_text(u, 3, at);
    int st = sqlite3_step(u);
    sqlite3_reset(u);
    if (st != SQLITE_DONE)
        rc = db_err(l, err, "assign claims");
    else if ((size_t)sqlite3_changes(l->db) != n)
        rc = ch_error_set(err, CH_ERR_INVALID, "ledger: %zu of the %zu claims for batch %" PRId64
                          " are no longer queued", n - (size_t)sqlite3_changes(l->db), n, batch_id);
    if (rc == CH_OK) {
        sqlite3_stmt *e = stmt(l, S_ASSIGN_EVENTS);
        sqlite3_bind_text(e, 1, json, (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(e, 2, batch_id);
        bind_text(e, 3, at);
        bind_text(e, 4, actor && actor[0] ? actor : "engine");
        bind_text(e, 5, why ? why : "");
        st = sqlite3_step(e);
        sqlite3_reset(e);
        if (st != SQLITE_DONE)
            rc = db_err(l, err, "append events");
    }
    free(json);
    return auto_end(l, own, rc, err);
}

ch_code ledger_batch_update(ledger *l, int64_t id, const char *state, uint64_t bytes, const char *content_hash,
                            const char *error, ch_error *err)
{
    char at[32];
    stamp(l, at);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db,
                           "UPDATE batches SET state = ?2, bytes = CASE WHEN ?3 > 0 THEN ?3 ELSE bytes END, "
                           "content_hash = coalesce(?4, content_hash), error = coalesce(?5, error), "
                           "updated_at = ?6 WHERE id = ?1",
                           -1, &s, NULL) != SQLITE_OK)
        return db_err(l, err, "update batch");
    sqlite3_bind_int64(s, 1, id);
    bind_text(s, 2, state);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)bytes);
    bind_text(s, 4, content_hash);
    bind_text(s, 5, error);
    bind_text(s, 6, at);
    int st = sqlite3_step(s);
    sqlite3_finalize(s);
    if (st != SQLITE_DONE)
        return db_err(l, err, "update batch");
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
    ch_code rc = auto_begin(l, &own, err);
    if (rc == CH_OK)
        rc = lsq_flush(l, err); /* events in order */
    if (rc != CH_OK)
        return auto_end(l, own, rc, err);
    char at[32];
    stamp(l, at);
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
        rc = db_err(l, err, "move batch claims");
    } else {
        sqlite3_stmt *both[2] = {e, u};
        for (int i = 0; i < 2 && rc == CH_OK; i++) {
            sqlite3_stmt *s = both[i];
            sqlite3_bind_int64(s, 1, batch_id);
            bind_text(s, 2, at);
            if (i == 0)
                bind_text(s, 3, actor && actor[0] ? actor : "engine");
            bind_text(s, 4, ledger_state_name(from));
            bind_text(s, 5, ledger_state_name(to));
            if (sqlite3_bind_parameter_count(s) >= 6)
                bind_text(s, 6, why ? why : "");
            if (i == 1 && sqlite3_bind_parameter_count(s) >= 7)
                sqlite3_bind_int(s, 7, keep_batch);
            if (sqlite3_step(s) != SQLITE_DONE)
                rc = db_err(l, err, "move batch claims");
            else if (i == 1 && moved)
                *moved = (uint64_t)sqlite3_changes(l->db);
        }
    }
    sqlite3_finalize(e);
    sqlite3_finalize(u);
    return auto_end(l, own, rc, err);
}

void lsq_read_batch(sqlite3_stmt *s, ledger_batch *b)
{
    memset(b, 0, sizeof *b);
    b->id = sqlite3_column_int64(s, 0);
    col_text(s, 1, b->practice, sizeof b->practice);
    col_text(s, 2, b->payer, sizeof b->payer);
    col_text(s, 3, b->claim_type, sizeof b->claim_type);
    col_text(s, 4, b->state, sizeof b->state);
    col_text(s, 5, b->sender, sizeof b->sender);
    col_text(s, 6, b->receiver, sizeof b->receiver);
    b->isa13 = (uint64_t)sqlite3_column_int64(s, 7);
    b->gs06 = (uint64_t)sqlite3_column_int64(s, 8);
    b->st02_first = (uint64_t)sqlite3_column_int64(s, 9);
    b->st_count = (unsigned)sqlite3_column_int(s, 10);
    b->claim_count = (unsigned)sqlite3_column_int(s, 11);
    b->total_cents = sqlite3_column_int64(s, 12);
    col_text(s, 13, b->file, sizeof b->file);
    b->bytes = (uint64_t)sqlite3_column_int64(s, 14);
    col_text(s, 15, b->content_hash, sizeof b->content_hash);
    col_text(s, 16, b->created_at, sizeof b->created_at);
    col_text(s, 17, b->updated_at, sizeof b->updated_at);
    col_text(s, 18, b->error, sizeof b->error);
}

#define BATCH_COLS LSQ_BATCH_COLS

ch_code ledger_batches_each(ledger *l, const char *state, ledger_batch_fn fn, void *ctx, ch_error *err)
{
    sqlite3_stmt *s;
    const char *sql = state ? "SELECT " BATCH_COLS " FROM batches WHERE state = ?1 ORDER BY id"
                            : "SELECT " BATCH_COLS " FROM batches ORDER BY id";
    if (sqlite3_prepare_v2(l->db, sql, -1, &s, NULL) != SQLITE_OK)
        return db_err(l, err, "list batches");
    bind_text(s, 1, state);
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
    ch_code rc = st == SQLITE_ROW || st == SQLITE_DONE ? CH_OK : db_err(l, err, "list batches");
    free(b);
    sqlite3_finalize(s);
    return rc;
}

ch_code ledger_batch_get(ledger *l, int64_t id, ledger_batch *b, ch_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(l->db, "SELECT " BATCH_COLS " FROM batches WHERE id = ?1", -1, &s, NULL) != SQLITE_OK)
        return db_err(l, err, "read batch");
    sqlite3_bind_int64(s, 1, id);
    int st = sqlite3_step(s);
    ch_code rc = CH_OK;
    if (st == SQLITE_ROW)
        lsq_read_batch(s, b);
    else if (st == SQLITE_DONE)
        rc = ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no batch %" PRId64, id);
    else
        rc = db_err(l, err, "read batch");
    sqlite3_finalize(s);
    return rc;
}

/* --- for ledger_ops.c (ledger_backend.h) --------------------------------------------- */

int ledger_sqlite_in_txn(const ledger *l)
{
    return l->in_txn;
}

/* --- for ledger_remit.c (ledger_sqlite_int.h) ---------------------------------------- */

sqlite3 *lsq_db(ledger *l) { return l->db; }
void lsq_col_text(sqlite3_stmt *s, int i, char *dst, size_t size) { col_text(s, i, dst, size); }
const char *lsq_path(ledger *l) { return l->path; }
struct ledger_remit_stmts **lsq_remit(ledger *l) { return &l->remit; }
struct ledger_hold **lsq_hold(ledger *l) { return &l->hold; }
ch_code lsq_db_err(ledger *l, ch_error *err, const char *what) { return db_err(l, err, what); }
void lsq_now(char buf[32]) { now_iso(buf); }
void lsq_stamp(ledger *l, char buf[32]) { stamp(l, buf); }
ch_code lsq_auto_begin(ledger *l, int *own, ch_error *err) { return auto_begin(l, own, err); }
ch_code lsq_auto_end(ledger *l, int own, ch_code rc, ch_error *err) { return auto_end(l, own, rc, err); }
ch_code lsq_move(ledger *l, int64_t id, ledger_state to, const char *actor, const char *why, ch_error *err)
{
    return move(l, id, to, -1, actor, why, err);
}
ch_code lsq_event(ledger *l, int64_t claim_id, const char *at, const char *actor, const char *from, const char *to,
                  const char *why, int64_t batch_id, ch_error *err)
{
    return add_event(l, claim_id, at, actor, from, to, why, batch_id, err);
}
