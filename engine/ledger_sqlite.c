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
 *
 * This file opens and closes a ledger and runs its transactions; the
 * schema, intake, claims and batches have files of their own
 * (ledger_sqlite_int.h names them).
 */
#include <errno.h>
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

/* The SQL of the cached statements (ledger_sqlite_int.h names them). */
static const char *const sql_text[LSQ_S__COUNT] = {
    [LSQ_S_VERSIONS] = "SELECT content_hash, claim_id, version FROM encounter_versions "
                       "WHERE practice = ?1 AND encounter_id = ?2",
    [LSQ_S_CLAIM_BRIEF] = "SELECT state, pcn, version, batch_id FROM claims WHERE id = ?1",
    [LSQ_S_NEXT_ID] = "SELECT max(id) FROM claims",
    [LSQ_S_CLAIM_INSERT] = "INSERT INTO claims(id, pcn, practice, payer, claim_type, encounter_id, version, "
                           "frequency, replaces, total_cents, service_date, state, created_at, updated_at) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'queued', ?12, ?12)",
    [LSQ_S_VERSION_INSERT] = "INSERT INTO encounter_versions(practice, encounter_id, content_hash, version, claim_id, "
                             "received_at, source, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [LSQ_S_EVENT_INSERT] = "INSERT INTO events(claim_id, at, actor, from_state, to_state, why, batch_id) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [LSQ_S_CLAIM_REVISE] = "UPDATE claims SET payer = ?2, claim_type = ?3, version = ?4, "
                           "frequency = ?5, total_cents = ?6, service_date = ?7, state = 'queued', "
                           "batch_id = NULL, last_error = NULL, updated_at = ?8 WHERE id = ?1",
    [LSQ_S_CLAIM_SET] = "UPDATE claims SET state = ?2, batch_id = ?3, last_error = ?4, updated_at = ?5 WHERE id = ?1",
    /* ?1 is a JSON array of claim ids: one statement for a whole batch */
    [LSQ_S_ASSIGN] = "UPDATE claims SET state = 'batched', batch_id = ?2, updated_at = ?3 "
                     "WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'queued'",
    [LSQ_S_ASSIGN_EVENTS] = "INSERT INTO events(claim_id, at, actor, from_state, to_state, why, batch_id) "
                            "SELECT value, ?3, ?4, 'queued', 'batched', ?5, ?2 FROM json_each(?1)",
    [LSQ_S_CONTROL_GET] = "SELECT last FROM control_numbers WHERE sender = ?1 AND receiver = ?2 AND kind = ?3",
    [LSQ_S_CONTROL_SET] = "INSERT INTO control_numbers(sender, receiver, kind, last) VALUES (?1, ?2, ?3, ?4) "
                          "ON CONFLICT(sender, receiver, kind) DO UPDATE SET last = excluded.last",
};

/* --- helpers -------------------------------------------------------------------- */

ch_code lsq_db_err(ledger *l, ch_error *err, const char *what)
{
    int code = sqlite3_errcode(l->db);
    ch_code c = code == SQLITE_BUSY || code == SQLITE_LOCKED ? CH_ERR_BUSY : CH_ERR_DB;
    return ch_error_set(err, c, "ledger %s: %s: %s", l->path, what, sqlite3_errmsg(l->db));
}

void lsq_now(char buf[32])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

ch_code lsq_exec(ledger *l, const char *sql, ch_error *err)
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

/* --- open / close / transactions --------------------------------------------- */

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
    if ((rc = lsq_exec(l, "PRAGMA page_size = 16384", err)) != CH_OK ||
        (rc = lsq_exec(l, "PRAGMA journal_mode = WAL", err)) != CH_OK ||
        (rc = lsq_exec(l, "PRAGMA synchronous = FULL", err)) != CH_OK ||
        /* a batch reads and rewrites tens of thousands of rows: keep them in
         * memory (64 MiB of cache; reading through mmap was no faster and
         * counts the whole file as resident) and checkpoint the WAL in larger
         * steps (on a thread of their own: ledger_ckpt.c; this limit is for
         * when that cannot start) */
        (rc = lsq_exec(l, "PRAGMA cache_size = -65536", err)) != CH_OK ||
        (rc = lsq_exec(l, "PRAGMA wal_autocheckpoint = 8192", err)) != CH_OK ||
        (rc = lsq_exec(l, "PRAGMA temp_store = MEMORY", err)) != CH_OK || (rc = lsq_migrate(l, err)) != CH_OK) {
        ledger_close(l);
        return rc;
    }
    for (int i = 0; i < LSQ_S__COUNT; i++)
        if (sqlite3_prepare_v3(l->db, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT, &l->st[i], NULL) != SQLITE_OK) {
            rc = lsq_db_err(l, err, "prepare");
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
    for (int i = 0; i < LSQ_S__COUNT; i++)
        sqlite3_finalize(l->st[i]);
    sqlite3_close(l->db);
    free(l);
}

ch_code ledger_begin(ledger *l, ch_error *err)
{
    if (l->in_txn)
        return ch_error_set(err, CH_ERR_USAGE, "ledger %s: a transaction is already open", l->path);
    ch_code rc = lsq_exec(l, "BEGIN IMMEDIATE", err);
    if (rc == CH_OK) {
        lsq_hold_end(l);
        l->in_txn = 1;
        l->next_id = 0;
        lsq_now(l->txn_at);
    }
    return rc;
}

ch_code ledger_commit(ledger *l, ch_error *err)
{
    if (!l->in_txn)
        return ch_error_set(err, CH_ERR_USAGE, "ledger %s: no transaction to commit", l->path);
    ch_code rc = lsq_flush(l, err);
    if (rc == CH_OK)
        rc = lsq_exec(l, "COMMIT", err);
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
    for (int i = 0; i < LSQ_S__COUNT; i++)
        sqlite3_reset(l->st[i]);
    ledger_remit_reset(l);
    lsq_hold_end(l);
    lsq_exec(l, "ROLLBACK", NULL);
    l->in_txn = 0;
    l->next_id = 0;
}

struct sqlite3 *ledger_sqlite_db(ledger *l)
{
    lsq_flush(l, NULL); /* the other files' statements see what is held */
    return l->db;
}

const char *ledger_sqlite_path(const ledger *l) { return l->path; }

/* --- for ledger_ops.c (ledger_backend.h) --------------------------------------------- */

int ledger_sqlite_in_txn(const ledger *l)
{
    return l->in_txn;
}

/* --- for ledger_remit.c (ledger_sqlite_int.h) ---------------------------------------- */

sqlite3 *lsq_db(ledger *l) { return l->db; }
const char *lsq_path(ledger *l) { return l->path; }
struct ledger_remit_stmts **lsq_remit(ledger *l) { return &l->remit; }
struct ledger_hold **lsq_hold(ledger *l) { return &l->hold; }
