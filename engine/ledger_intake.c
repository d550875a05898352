/*
 * ledger_intake.c - claims taken in: a new encounter becomes a queued
 * claim, a changed one a revision or a replacement, a repeated one a
 * duplicate; and the practices and payers they refer to (see ledger.h).
 * This runs for every claim taken in: the statements are the cached ones.
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "ledger.h"
#include "ledger_sqlite_int.h"

/* --- reference data --------------------------------------------------------------- */

static ch_code put_ref(ledger *l, const char *sql, const char *a, const char *b, const char *c, ch_error *err)
{
    sqlite3_stmt *s;
    char at[32];
    lsq_stamp(l, at);
    if (sqlite3_prepare_v2(l->db, sql, -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "prepare");
    lsq_bind_text(s, 1, a);
    lsq_bind_text(s, 2, b);
    lsq_bind_text(s, 3, c);
    lsq_bind_text(s, 4, at);
    int r = sqlite3_step(s);
    sqlite3_finalize(s);
    return r == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, "update reference data");
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

/* --- intake --------------------------------------------------------------------------- */

static ch_code next_claim_id(ledger *l, int64_t *id, ch_error *err)
{
    if (!l->next_id) {
        /* read once per transaction: the write lock is ours until commit */
        sqlite3_stmt *s = lsq_stmt(l, LSQ_S_NEXT_ID);
        int r = sqlite3_step(s);
        if (r == SQLITE_ROW)
            l->next_id = sqlite3_column_int64(s, 0) + 1; /* NULL (no claims yet) reads as 0 */
        else
            return lsq_db_err(l, err, "claim id");
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
    sqlite3_stmt *s = lsq_stmt(l, LSQ_S_CLAIM_INSERT);
    sqlite3_bind_int64(s, 1, id);
    lsq_bind_text(s, 2, r->pcn);
    lsq_bind_text(s, 3, sub->practice);
    lsq_bind_text(s, 4, sub->payer);
    lsq_bind_text(s, 5, sub->claim_type);
    lsq_bind_text(s, 6, sub->encounter_id);
    sqlite3_bind_int(s, 7, (int)version);
    sqlite3_bind_int(s, 8, sub->frequency);
    if (replaces)
        sqlite3_bind_int64(s, 9, replaces);
    sqlite3_bind_int64(s, 10, sub->total_cents);
    lsq_bind_text(s, 11, sub->service_date && sub->service_date[0] ? sub->service_date : NULL);
    lsq_bind_text(s, 12, at);
    int st = sqlite3_step(s);
    sqlite3_reset(s);
    if (st != SQLITE_DONE)
        return lsq_db_err(l, err, "insert claim");
    l->next_id = id + 1;
    r->claim_id = id;
    return CH_OK;
}

static ch_code insert_version(ledger *l, const ledger_submission *sub, unsigned version, int64_t claim_id,
                              const char *at, ch_error *err)
{
    sqlite3_stmt *s = lsq_stmt(l, LSQ_S_VERSION_INSERT);
    lsq_bind_text(s, 1, sub->practice);
    lsq_bind_text(s, 2, sub->encounter_id);
    lsq_bind_text(s, 3, sub->content_hash);
    sqlite3_bind_int(s, 4, (int)version);
    sqlite3_bind_int64(s, 5, claim_id);
    lsq_bind_text(s, 6, at);
    lsq_bind_text(s, 7, sub->source);
    sqlite3_bind_blob(s, 8, sub->doc, (int)sub->doc_len, SQLITE_STATIC);
    int st = sqlite3_step(s);
    sqlite3_reset(s);
    return st == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, "record encounter version");
}

static int revisable(ledger_state s)
{
    /* the claim has not gone out (or came back rejected before adjudication) */
    return s == LEDGER_QUEUED || s == LEDGER_FAILED || s == LEDGER_REJECTED;
}

static ch_code submit(ledger *l, const ledger_submission *sub, ledger_intake_result *r, ch_error *err)
{
    char at[32], why[512];
    lsq_stamp(l, at);
    /* every version of this encounter seen before: usually none */
    sqlite3_stmt *s = lsq_stmt(l, LSQ_S_VERSIONS);
    lsq_bind_text(s, 1, sub->practice);
    lsq_bind_text(s, 2, sub->encounter_id);
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
            sqlite3_stmt *b = lsq_stmt(l, LSQ_S_CLAIM_BRIEF);
            sqlite3_bind_int64(b, 1, cid);
            if (sqlite3_step(b) == SQLITE_ROW)
                lsq_col_text(b, 1, r->pcn, sizeof r->pcn);
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
        return lsq_db_err(l, err, "look up encounter");

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
        return lsq_event(l, r->claim_id, at, sub->actor, NULL, "queued", why, 0, err);
    }

    /* a new version of an encounter we have */
    sqlite3_stmt *b = lsq_stmt(l, LSQ_S_CLAIM_BRIEF);
    sqlite3_bind_int64(b, 1, latest_claim);
    if (sqlite3_step(b) != SQLITE_ROW) {
        sqlite3_reset(b);
        return ch_error_set(err, CH_ERR_INTERNAL, "ledger %s: encounter version points at missing claim %" PRId64,
                            l->path, latest_claim);
    }
    char state_s[16];
    lsq_col_text(b, 0, state_s, sizeof state_s);
    lsq_col_text(b, 1, r->pcn, sizeof r->pcn);
    sqlite3_reset(b);
    ledger_state state;
    if (ledger_state_parse(state_s, &state) != CH_OK)
        return ch_error_set(err, CH_ERR_INTERNAL, "ledger %s: claim %" PRId64 " has unknown state", l->path,
                            latest_claim);
    unsigned version = maxv + 1;
    r->version = version;
    if (revisable(state)) {
        sqlite3_stmt *u = lsq_stmt(l, LSQ_S_CLAIM_REVISE);
        sqlite3_bind_int64(u, 1, latest_claim);
        lsq_bind_text(u, 2, sub->payer);
        lsq_bind_text(u, 3, sub->claim_type);
        sqlite3_bind_int(u, 4, (int)version);
        sqlite3_bind_int(u, 5, sub->frequency);
        sqlite3_bind_int64(u, 6, sub->total_cents);
        lsq_bind_text(u, 7, sub->service_date && sub->service_date[0] ? sub->service_date : NULL);
        lsq_bind_text(u, 8, at);
        int us = sqlite3_step(u);
        sqlite3_reset(u);
        if (us != SQLITE_DONE)
            return lsq_db_err(l, err, "revise claim");
        r->outcome = LEDGER_REVISED;
        r->claim_id = latest_claim;
        snprintf(why, sizeof why, "revised: encounter version %u from %s", version,
                 sub->source ? sub->source : "(unknown)");
        ch_code rc = insert_version(l, sub, version, latest_claim, at, err);
        if (rc != CH_OK)
            return rc;
        return lsq_event(l, latest_claim, at, sub->actor, state_s, "queued", why, 0, err);
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
        return lsq_event(l, r->claim_id, at, sub->actor, NULL, "queued", why, 0, err);
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
    ch_code rc = lsq_auto_begin(l, &own, err);
    if (rc != CH_OK)
        return rc;
    rc = submit(l, sub, r, err);
    return lsq_auto_end(l, own, rc, err);
}
