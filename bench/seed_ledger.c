/*
 * seed_ledger - a ledger with N open (accepted) claims for the reconcile
 * benchmark: claim k has PCN <prefix><k as 9 digits> and the lines, charges,
 * dates and member of claim k of gen_837p/gen_835 with the same --seed, so
 * `gen_835 --claims M` pays claims 1..M of it.
 *
 *   seed_ledger LEDGER N [--seed S] [--pcn-prefix P] [--practice ID] [--payer ID]
 *
 * The schema comes from the engine (ledger_open); the rows go in through
 * prepared statements in one transaction.
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <time.h>

#include "encounter.h"
#include "gen_common.h"
#include "ledger.h"

static void die(const char *what, sqlite3 *db)
{
    fprintf(stderr, "seed_ledger: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
    exit(2);
}

static void ymd(int32_t days, char out[9])
{
    int32_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, 9, "%04d%02u%02u", (int)y, m, d);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: seed_ledger LEDGER N [--seed S] [--pcn-prefix P] [--practice ID] [--payer ID]\n");
        return 2;
    }
    const char *path = argv[1];
    uint64_t n = strtoull(argv[2], NULL, 10), seed = 1;
    const char *prefix = "PCN", *practice = "benchclinic", *payer = "bench";
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--pcn-prefix"))
            prefix = argv[i + 1];
        else if (!strcmp(argv[i], "--practice"))
            practice = argv[i + 1];
        else if (!strcmp(argv[i], "--payer"))
            payer = argv[i + 1];
    }
    ledger *l;
    ch_error err;
    if (ledger_open(&l, "sqlite", path, &err) != CH_OK ||
        ledger_practice_put(l, practice, "BENCH CLINIC", "1234567893", &err) != CH_OK ||
        ledger_payer_put(l, payer, "BENCH", "BENCH PAYER", &err) != CH_OK) {
        fprintf(stderr, "seed_ledger: %s\n", err.msg);
        return 2;
    }
    ledger_close(l);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("open", db);
    sqlite3_exec(db, "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *c, *v;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO claims(id, pcn, practice, payer, claim_type, encounter_id, version, frequency, "
                           "total_cents, service_date, state, created_at, updated_at) VALUES "
                           "(?1, ?2, ?3, ?4, '837P', ?2, 1, 1, ?5, ?6, 'accepted', ?7, ?7)",
                           -1, &c, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO encounter_versions(practice, encounter_id, version, content_hash, claim_id, "
                           "received_at, doc) VALUES (?1, ?2, 1, ?2, ?3, ?4, ?5)",
                           -1, &v, NULL) != SQLITE_OK)
        die("prepare", db);
    const char *at = "2026-11-23T00:00:00.000Z";
    gen_stream st;
    gen_stream_init(&st, seed);
    encounter e;
    encounter_init(&e);
    e.lines = calloc(GEN_MAX_LINES, sizeof *e.lines);
    for (uint64_t k = 1; k <= n; k++) {
        gen_claim gc;
        gen_stream_next(&st, &gc);
        char pcn[40], date[9];
        snprintf(pcn, sizeof pcn, "%s%09" PRIu64, prefix, k);
        ymd(gc.first_date, date);
        snprintf(e.encounter_id, sizeof e.encounter_id, "%s", pcn);
        snprintf(e.practice, sizeof e.practice, "%s", practice);
        snprintf(e.payer, sizeof e.payer, "%s", payer);
        e.type = ENC_PROFESSIONAL;
        e.frequency = ENC_ORIGINAL;
        snprintf(e.member_id, sizeof e.member_id, "%s", st.sub.member_id);
        e.nlines = gc.nlines;
        for (unsigned i = 0; i < gc.nlines; i++) {
            memset(&e.lines[i], 0, sizeof e.lines[i]);
            snprintf(e.lines[i].procedure, sizeof e.lines[i].procedure, "%s", gc.lines[i].proc);
            e.lines[i].charge = gc.lines[i].charge;
            e.lines[i].units_milli = (int64_t)gc.lines[i].units * 1000;
            ymd(gc.lines[i].date, e.lines[i].date_from);
        }
        e.total_charge = gc.total;
        char *doc;
        size_t len;
        if (encounter_pack(&e, &doc, &len, &err) != CH_OK) {
            fprintf(stderr, "seed_ledger: %s\n", err.msg);
            return 2;
        }
        sqlite3_reset(c);
        sqlite3_bind_int64(c, 1, (int64_t)k);
        sqlite3_bind_text(c, 2, pcn, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(c, 3, practice, -1, SQLITE_STATIC);
        sqlite3_bind_text(c, 4, payer, -1, SQLITE_STATIC);
        sqlite3_bind_int64(c, 5, gc.total);
        sqlite3_bind_text(c, 6, date, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(c, 7, at, -1, SQLITE_STATIC);
        if (sqlite3_step(c) != SQLITE_DONE)
            die("insert claim", db);
        sqlite3_reset(v);
        sqlite3_bind_text(v, 1, practice, -1, SQLITE_STATIC);
        sqlite3_bind_text(v, 2, pcn, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(v, 3, (int64_t)k);
        sqlite3_bind_text(v, 4, at, -1, SQLITE_STATIC);
        sqlite3_bind_blob(v, 5, doc, (int)len, SQLITE_TRANSIENT);
        if (sqlite3_step(v) != SQLITE_DONE)
            die("insert document", db);
        free(doc);
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        die("commit", db);
    sqlite3_finalize(c);
    sqlite3_finalize(v);
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(db);
    encounter_clear(&e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("seeded %" PRIu64 " open claims in %.1f s\n", n, s);
    return 0;
}
