/*
 * recon_seed.h - a test home for reconciliation: a practice ("example", NPI
 * 1234567893) and a payer ("testplan") that match the hand-made files in
 * tests/data/reconcile, and claims seeded straight into the ledger.
 */
#ifndef RECON_SEED_H
#define RECON_SEED_H

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encounter.h"
#include "tu.h"

/* --- a home with a practice and a payer that match the hand-made files ------ */

/* a practice for the configuration's list (appended to it) */
static inline const char *recon_practice_yaml(void)
{
    return
    "\n"
    "  - id: example\n"
    "    name: EXAMPLE CLINIC\n"
    "    npi: \"1234567893\"\n"
    "    tax_id: \"123456789\"\n"
    "    taxonomy: 207Q00000X\n"
    "    claim_prefix: EXC\n"
    "    address: {line1: 2 CLINIC RD, city: ANYTOWN, state: NY, zip: \"12345\"}\n"
    "    payers:\n"
    "      testplan:\n"
    "        submitter_id: CLEARINGHOUSE\n"
    "        contact: {name: BILLING, phone: \"5555550100\"}\n";
}

static inline const char *recon_profile_yaml(void)
{
    return
    "payer_id: TESTPLAN01\n"
    "name: TEST HEALTH PLAN\n"
    "receiver: {qualifier: ZZ, interchange_id: PAYERSENDER, id: TESTPLAN01}\n"
    "claim_types: [professional, institutional]\n"
    "usage: test\n"
    "limits: {claims_per_transaction: 1}\n"
    "remittance:\n"
    "  pcn_transform: [upper, strip_prefix: \"ACME-\", truncate: 14]\n"
    "  line_match: ref_6r | procedure\n"
    "  fallback: patient_dates_charge\n"
    "  expected_allowed: {\"99213\": \"95.00\"}\n"
    "  underpayment_tolerance: \"0.50\"\n";
}

static inline void home(tu_env *e)
{
    tu_env_init(e);
    FILE *fp = fopen("conf/clearinghouse.yaml", "a");
    cr_assert_not_null(fp);
    fputs(recon_practice_yaml(), fp);
    fclose(fp);
    tu_write("payer-profiles/testplan.yaml", recon_profile_yaml());
    tu_env_reload(e);
    ch_error err;
    cr_assert_eq(ledger_practice_put(e->led, "example", "EXAMPLE CLINIC", "1234567893", &err), CH_OK);
    cr_assert_eq(ledger_payer_put(e->led, "testplan", "TESTPLAN01", "TEST HEALTH PLAN", &err), CH_OK);
}

static inline sqlite3 *db_open(tu_env *e)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(e->cfg->ledger_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* A claim in the ledger with this PCN, member, first date, lines. */
static inline int64_t seed_claim(sqlite3 *db, const char *pcn, const char *state, const char *member, const char *date,
                          const char *const *procs, const int64_t *charges, unsigned nlines)
{
    encounter en;
    encounter_init(&en);
    snprintf(en.encounter_id, sizeof en.encounter_id, "ENC-%s", pcn);
    snprintf(en.practice, sizeof en.practice, "example");
    snprintf(en.payer, sizeof en.payer, "testplan");
    en.type = ENC_PROFESSIONAL;
    en.frequency = ENC_ORIGINAL;
    snprintf(en.member_id, sizeof en.member_id, "%s", member ? member : "M0");
    en.lines = calloc(nlines ? nlines : 1, sizeof *en.lines);
    en.nlines = nlines;
    int64_t total = 0;
    for (unsigned i = 0; i < nlines; i++) {
        snprintf(en.lines[i].procedure, sizeof en.lines[i].procedure, "%s", procs[i]);
        en.lines[i].charge = charges[i];
        en.lines[i].units_milli = 1000;
        snprintf(en.lines[i].date_from, sizeof en.lines[i].date_from, "%s", date ? date : "20251101");
        total += charges[i];
    }
    en.total_charge = total;
    char *doc;
    size_t len;
    ch_error err;
    cr_assert_eq(encounter_pack(&en, &doc, &len, &err), CH_OK, "%s", err.msg);
    encounter_clear(&en);
    static int64_t next_id = 1000;
    int64_t id = next_id++;
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(db,
                                    "INSERT INTO claims(id, pcn, practice, payer, claim_type, encounter_id, version, "
                                    "frequency, total_cents, service_date, state, created_at, updated_at) VALUES "
                                    "(?1, ?2, 'example', 'testplan', '837P', ?3, 1, 1, ?4, ?5, ?6, 'x', 'x')",
                                    -1, &s, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db));
    char enc_id[64];
    snprintf(enc_id, sizeof enc_id, "ENC-%s", pcn);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, pcn, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, enc_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, total);
    sqlite3_bind_text(s, 5, date ? date : "20251101", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 6, state, -1, SQLITE_TRANSIENT);
    cr_assert_eq(sqlite3_step(s), SQLITE_DONE, "%s: %s", pcn, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    cr_assert_eq(sqlite3_prepare_v2(db,
                                    "INSERT INTO encounter_versions(practice, encounter_id, version, content_hash, "
                                    "claim_id, received_at, doc) VALUES ('example', ?1, 1, ?1, ?2, 'x', ?3)",
                                    -1, &s, NULL),
                 SQLITE_OK);
    sqlite3_bind_text(s, 1, enc_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, id);
    sqlite3_bind_blob(s, 3, doc, (int)len, SQLITE_TRANSIENT);
    cr_assert_eq(sqlite3_step(s), SQLITE_DONE, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(s);
    free(doc);
    return id;
}

static inline int64_t seed_simple(sqlite3 *db, const char *pcn, const char *state)
{
    const char *procs[] = {"99213"};
    int64_t ch[] = {10000};
    return seed_claim(db, pcn, state, NULL, NULL, procs, ch, 1);
}

#endif
