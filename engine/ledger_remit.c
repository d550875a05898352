/*
 * ledger_remit.c - the ledger's side of reconciliation on SQLite: payer keys,
 * lookups for matching, acknowledgments, remittances, payments, adjustments,
 * PLB and the worklist (see the schema 3 section of ledger.h).
 *
 * Statements used per claim are prepared once, when first used, and kept.
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "ledger_payjson.h"
#include "ledger_sqlite_int.h"

/* states a response may touch: sent and after, but not failed or void */
/* (checked in C: a constant IN list makes SQLite build a table on every run) */
static int response_state(ledger_state s)
{
    return s == LEDGER_SENT || s == LEDGER_ACKNOWLEDGED || s == LEDGER_ACCEPTED || s == LEDGER_REJECTED ||
           s == LEDGER_PAID || s == LEDGER_PARTIAL || s == LEDGER_DENIED;
}
#define BRIEF_COLS "c.id, c.pcn, c.practice, c.payer, c.state, c.total_cents, c.service_date, c.batch_id, c.payer_claim_no"

enum {
    R_BY_PCN,
    R_BY_KEY,
    R_BY_PCN_DOC,
    R_BY_KEY_DOC,
    R_BY_CHARGE,
    R_BRIEF,
    R_DOC,
    R_SET_PCN_NO,
    R_REMIT_INSERT,
    R_REMIT_GET,
    R_REMIT_FINISH,
    R_CP_OPEN,
    R_CP_OPEN_NO,
    R_CP_REVERSE,
    R_PLB_INSERT,
    R_WORK_INSERT,
    R_ACK_INSERT,
    R_KEY_INSERT,
    R_RESPOND,
    R__COUNT
};

static const char *const rsql[R__COUNT] = {
    [R_BY_PCN] = "SELECT " BRIEF_COLS " FROM claims c WHERE c.pcn = ?1 AND (?2 IS NULL OR c.payer = ?2) AND (?3 IS NULL OR c.practice = ?3)",
    [R_BY_KEY] = "SELECT " BRIEF_COLS " FROM claim_keys k JOIN claims c ON c.id = k.claim_id "
                 "WHERE k.payer = ?2 AND k.sig = ?4 AND k.key = ?1 AND c.pcn != ?1 "
                 "AND (?3 IS NULL OR c.practice = ?3)",
    /* the same with the claim's packed encounter (for its lines): one lookup, not two */
    [R_BY_PCN_DOC] = "SELECT " BRIEF_COLS ", v.doc FROM claims c LEFT JOIN encounter_versions v ON v.practice = c.practice "
                     "AND v.encounter_id = c.encounter_id AND v.version = c.version "
                     "WHERE c.pcn = ?1 AND (?2 IS NULL OR c.payer = ?2) AND (?3 IS NULL OR c.practice = ?3)",
    [R_BY_KEY_DOC] = "SELECT " BRIEF_COLS ", v.doc FROM claim_keys k JOIN claims c ON c.id = k.claim_id "
                     "LEFT JOIN encounter_versions v ON v.practice = c.practice "
                     "AND v.encounter_id = c.encounter_id AND v.version = c.version "
                     "WHERE k.payer = ?2 AND k.sig = ?4 AND k.key = ?1 AND c.pcn != ?1 "
                     "AND (?3 IS NULL OR c.practice = ?3)",
    [R_BY_CHARGE] = "SELECT " BRIEF_COLS " FROM claims c WHERE c.total_cents = ?1 AND c.service_date BETWEEN ?2 AND ?3"
                    " AND (?4 IS NULL OR c.payer = ?4) AND (?5 IS NULL OR c.practice = ?5)",
    [R_BRIEF] = "SELECT " BRIEF_COLS " FROM claims c WHERE c.id = ?1",
    [R_DOC] = "SELECT v.doc FROM claims c JOIN encounter_versions v ON v.practice = c.practice "
              "AND v.encounter_id = c.encounter_id AND v.version = c.version WHERE c.id = ?1",
    [R_SET_PCN_NO] = "UPDATE claims SET payer_claim_no = ?2 WHERE id = ?1 AND payer_claim_no IS NOT ?2",
    [R_REMIT_INSERT] = "INSERT INTO remittances(payer, trace_key, practice, paid_cents, method, pay_date, payee_npi, "
                       "payee_tax_id, file, sha256, posted_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11) "
                       "ON CONFLICT(payer, trace_key) DO NOTHING",
    [R_REMIT_GET] = "SELECT id, payer, trace_key, practice, paid_cents, method, pay_date, payee_npi, payee_tax_id, "
                    "file, sha256, claims, flagged, posted_at FROM remittances WHERE payer = ?1 AND trace_key = ?2",
    [R_REMIT_FINISH] = "UPDATE remittances SET claims = ?2, flagged = ?3 WHERE id = ?1",
    [R_CP_OPEN] = "SELECT id, claim_id, remittance_id, status_code, outcome, billed_cents, paid_cents, "
                  "patient_resp_cents, allowed_cents, payer_claim_no, reversal, reversed_by, posted_at "
                  "FROM claim_payments WHERE claim_id = ?1 AND reversal = 0 AND reversed_by IS NULL "
                  "ORDER BY id DESC LIMIT 1",
    [R_CP_OPEN_NO] = "SELECT id, claim_id, remittance_id, status_code, outcome, billed_cents, paid_cents, "
                     "patient_resp_cents, allowed_cents, payer_claim_no, reversal, reversed_by, posted_at "
                     "FROM claim_payments WHERE claim_id = ?1 AND reversal = 0 AND reversed_by IS NULL "
                     "AND payer_claim_no = ?2 ORDER BY id DESC LIMIT 1",
    [R_CP_REVERSE] = "UPDATE claim_payments SET reversed_by = ?2 WHERE id = ?1 AND reversed_by IS NULL",
    [R_PLB_INSERT] = "INSERT INTO plb_adjustments(remittance_id, provider_id, fiscal_date, reason, reference, "
                     "amount_cents) VALUES (?1,?2,?3,?4,?5,?6)",
    [R_WORK_INSERT] = "INSERT INTO worklist(kind, practice, payer, claim_id, remittance_id, file, reference, "
                      "amount_cents, reason, created_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
    [R_ACK_INSERT] = "INSERT INTO acknowledgments(batch_id, file, sha256, gs06, st02, accepted, status, reason, claims, "
                     "received_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) ON CONFLICT(sha256, gs06, st02) DO NOTHING",
    [R_KEY_INSERT] = "INSERT OR IGNORE INTO claim_keys(payer, sig, key, claim_id) VALUES (?1,?2,?3,?4)",
    [R_RESPOND] = "UPDATE claims SET state = ?2, payer_claim_no = coalesce(?3, payer_claim_no), updated_at = ?4 "
                  "WHERE id = ?1 AND state = ?5",
};

struct ledger_remit_stmts {
    sqlite3_stmt *st[R__COUNT];
    ledger_text adj, lines, text; /* a payment's JSON columns; its adjustments for reports */
    ledger_text doc;              /* the document ledger_claims_by_key_doc found */
};

void ledger_remit_reset(ledger *l)
{
    struct ledger_remit_stmts *r = *lsq_remit(l);
    if (r) {
        for (int i = 0; i < R__COUNT; i++)
            if (r->st[i])
                sqlite3_reset(r->st[i]);
    }
}

void ledger_remit_release(ledger *l)
{
    struct ledger_remit_stmts **rp = lsq_remit(l);
    if (!*rp)
        return;
    for (int i = 0; i < R__COUNT; i++)
        sqlite3_finalize((*rp)->st[i]);
    free((*rp)->adj.p);
    free((*rp)->lines.p);
    free((*rp)->text.p);
    free((*rp)->doc.p);
    free(*rp);
    *rp = NULL;
}

/* The statement, reset, prepared when first used; NULL with err set.
 * Those that read or change claim payments first write the held ones. */
static sqlite3_stmt *rst(ledger *l, int which, ch_error *err)
{
    if ((which == R_CP_OPEN || which == R_CP_OPEN_NO || which == R_CP_REVERSE) && lsq_flush(l, err) != CH_OK)
        return NULL;
    struct ledger_remit_stmts **rp = lsq_remit(l);
    if (!*rp && !(*rp = calloc(1, sizeof **rp))) {
        ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
        return NULL;
    }
    sqlite3_stmt **s = &(*rp)->st[which];
    if (!*s) {
        if (sqlite3_prepare_v3(lsq_db(l), rsql[which], -1, SQLITE_PREPARE_PERSISTENT, s, NULL) != SQLITE_OK) {
            lsq_db_err(l, err, "prepare");
            *s = NULL;
            return NULL;
        }
    } else {
        sqlite3_reset(*s);
        sqlite3_clear_bindings(*s);
    }
    return *s;
}

static void bt(sqlite3_stmt *s, int i, const char *v)
{
    if (v && v[0])
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static void bid(sqlite3_stmt *s, int i, int64_t v)
{
    if (v > 0)
        sqlite3_bind_int64(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

/* A text column into dst ("" for NULL), cut to size - 1 (no snprintf: a
 * lookup reads nine of these). */
static void ct(sqlite3_stmt *s, int i, char *dst, size_t size)
{
    const char *t = (const char *)sqlite3_column_text(s, i);
    size_t n = t ? strnlen(t, size - 1) : 0;
    memcpy(dst, t ? t : "", n);
    dst[n] = '\0';
}

/* Run a statement that returns no rows. */
static ch_code done(ledger *l, sqlite3_stmt *s, const char *what, ch_error *err)
{
    int st = sqlite3_step(s);
    sqlite3_reset(s);
    return st == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, what);
}

static void read_brief(sqlite3_stmt *s, ledger_claim_brief *b)
{
    memset(b, 0, sizeof *b);
    b->id = sqlite3_column_int64(s, 0);
    ct(s, 1, b->pcn, sizeof b->pcn);
    ct(s, 2, b->practice, sizeof b->practice);
    ct(s, 3, b->payer, sizeof b->payer);
    char st[16];
    ct(s, 4, st, sizeof st);
    ledger_state_parse(st, &b->state);
    b->total_cents = sqlite3_column_int64(s, 5);
    ct(s, 6, b->service_date, sizeof b->service_date);
    b->batch_id = sqlite3_column_int64(s, 7);
    ct(s, 8, b->payer_claim_no, sizeof b->payer_claim_no);
}

/* Collect the rows of s into out (up to max), counting up to max + 1; with
 * doc, the blob after the brief's columns of the first row kept goes there
 * (doc->len 0: none). */
static ch_code collect_doc(ledger *l, sqlite3_stmt *s, ledger_claim_brief *out, size_t max, size_t *n,
                           ledger_text *doc, ch_error *err)
{
    int st;
    ledger_claim_brief b;
    ch_code rc = CH_OK;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        read_brief(s, &b);
        if (!response_state(b.state))
            continue;
        if (doc && *n == 0) {
            const void *blob = sqlite3_column_blob(s, 9);
            size_t len = (size_t)sqlite3_column_bytes(s, 9);
            doc->len = 0;
            if (blob && len) {
                if (len + 1 > doc->cap) {
                    char *p = realloc(doc->p, len + 1);
                    if (!p) {
                        rc = ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
                        break;
                    }
                    doc->p = p;
                    doc->cap = len + 1;
                }
                memcpy(doc->p, blob, len);
                doc->p[len] = '\0';
                doc->len = len;
            }
        }
        if (*n < max)
            out[*n] = b;
        (*n)++;
        if (*n > max)
            break;
    }
    sqlite3_reset(s);
    if (rc != CH_OK)
        return rc;
    return st == SQLITE_ROW || st == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, "find claims");
}

static ch_code collect(ledger *l, sqlite3_stmt *s, ledger_claim_brief *out, size_t max, size_t *n, ch_error *err)
{
    return collect_doc(l, s, out, max, n, NULL, err);
}

/* --- matching ------------------------------------------------------------------ */

ch_code ledger_claim_keys_refresh(ledger *l, const char *payer, const char *sig, ledger_key_fn fn, void *ctx,
                                  ch_error *err)
{
    sqlite3 *db = lsq_db(l);
    int own;
    ch_code rc = lsq_auto_begin(l, &own, err);
    if (rc != CH_OK)
        return rc;
    sqlite3_stmt *q = NULL, *d = NULL;
    int64_t last = 0, max_id = 0;
    if (sqlite3_prepare_v2(db, "SELECT last_claim_id FROM claim_keys_done WHERE payer = ?1 AND sig = ?2", -1, &q,
                           NULL) != SQLITE_OK) {
        rc = lsq_db_err(l, err, "payer keys");
        goto out;
    }
    bt(q, 1, payer);
    bt(q, 2, sig);
    if (sqlite3_step(q) == SQLITE_ROW)
        last = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_prepare_v2(db, "SELECT id, pcn FROM claims WHERE payer = ?1 AND id > ?2 ORDER BY id", -1, &q, NULL) !=
        SQLITE_OK) {
        rc = lsq_db_err(l, err, "payer keys");
        goto out;
    }
    bt(q, 1, payer);
    sqlite3_bind_int64(q, 2, last);
    max_id = last;
    int st;
    while ((st = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        const char *pcn = (const char *)sqlite3_column_text(q, 1);
        char key[128];
        fn(ctx, pcn ? pcn : "", key, sizeof key);
        max_id = id;
        if (!key[0] || (pcn && !strcmp(key, pcn)))
            continue; /* found by its PCN already */
        sqlite3_stmt *ins = rst(l, R_KEY_INSERT, err);
        if (!ins) {
            rc = err ? err->code : CH_ERR_DB;
            goto out;
        }
        bt(ins, 1, payer);
        bt(ins, 2, sig);
        bt(ins, 3, key);
        sqlite3_bind_int64(ins, 4, id);
        if ((rc = done(l, ins, "payer keys", err)) != CH_OK)
            goto out;
    }
    if (st != SQLITE_DONE) {
        rc = lsq_db_err(l, err, "payer keys");
        goto out;
    }
    if (max_id > last) {
        if (sqlite3_prepare_v2(db,
                               "INSERT INTO claim_keys_done VALUES (?1, ?2, ?3) ON CONFLICT(payer, sig) "
                               "DO UPDATE SET last_claim_id = excluded.last_claim_id",
                               -1, &d, NULL) != SQLITE_OK) {
            rc = lsq_db_err(l, err, "payer keys");
            goto out;
        }
        bt(d, 1, payer);
        bt(d, 2, sig);
        sqlite3_bind_int64(d, 3, max_id);
        rc = done(l, d, "payer keys", err);
    }
out:
    sqlite3_finalize(q);
    sqlite3_finalize(d);
    return lsq_auto_end(l, own, rc, err);
}

static ch_code by_key(ledger *l, const char *payer, const char *practice, const char *sig, const char *key,
                      ledger_claim_brief *out, size_t max, size_t *n, ledger_text *doc, ch_error *err)
{
    *n = 0;
    if (doc)
        doc->len = 0;
    sqlite3_stmt *s = rst(l, doc ? R_BY_PCN_DOC : R_BY_PCN, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    bt(s, 1, key);
    bt(s, 2, payer);
    bt(s, 3, practice);
    ch_code rc = collect_doc(l, s, out, max, n, doc, err);
    if (rc != CH_OK || !sig || !sig[0] || !payer || *n > max)
        return rc;
    if (!(s = rst(l, doc ? R_BY_KEY_DOC : R_BY_KEY, err)))
        return err ? err->code : CH_ERR_DB;
    bt(s, 1, key);
    bt(s, 2, payer);
    bt(s, 3, practice);
    bt(s, 4, sig);
    return collect_doc(l, s, out, max, n, doc, err);
}

ch_code ledger_claims_by_key(ledger *l, const char *payer, const char *practice, const char *sig, const char *key,
                             ledger_claim_brief *out, size_t max, size_t *n, ch_error *err)
{
    return by_key(l, payer, practice, sig, key, out, max, n, NULL, err);
}

ch_code ledger_claims_by_key_doc(ledger *l, const char *payer, const char *practice, const char *sig,
                                 const char *key, ledger_claim_brief *out, size_t max, size_t *n, const void **doc,
                                 size_t *doc_len, ch_error *err)
{
    *doc = NULL;
    *doc_len = 0;
    struct ledger_remit_stmts **rp = lsq_remit(l);
    if (!*rp && !(*rp = calloc(1, sizeof **rp)))
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    ledger_text *d = &(*rp)->doc;
    ch_code rc = by_key(l, payer, practice, sig, key, out, max, n, d, err);
    if (rc == CH_OK && *n && d->len) {
        *doc = d->p;
        *doc_len = d->len;
    }
    return rc;
}

ch_code ledger_claims_by_charge_dates(ledger *l, const char *payer, const char *practice, int64_t charge,
                                      const char *from, const char *to, ledger_claim_brief *out, size_t max,
                                      size_t *n, ch_error *err)
{
    *n = 0;
    sqlite3_stmt *s = rst(l, R_BY_CHARGE, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, charge);
    bt(s, 2, from);
    bt(s, 3, to && to[0] ? to : from);
    bt(s, 4, payer);
    bt(s, 5, practice);
    return collect(l, s, out, max, n, err);
}

ch_code ledger_claim_brief_get(ledger *l, int64_t id, ledger_claim_brief *out, ch_error *err)
{
    sqlite3_stmt *s = rst(l, R_BRIEF, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    int st = sqlite3_step(s);
    if (st == SQLITE_ROW)
        read_brief(s, out);
    sqlite3_reset(s);
    if (st == SQLITE_ROW)
        return CH_OK;
    return st == SQLITE_DONE ? ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no claim %" PRId64, id)
                             : lsq_db_err(l, err, "read claim");
}

ch_code ledger_claim_doc(ledger *l, int64_t id, void **doc, size_t *len, ch_error *err)
{
    *doc = NULL;
    *len = 0;
    sqlite3_stmt *s = rst(l, R_DOC, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    int st = sqlite3_step(s);
    ch_code rc = CH_OK;
    if (st == SQLITE_ROW) {
        int n = sqlite3_column_bytes(s, 0);
        const void *b = sqlite3_column_blob(s, 0);
        *doc = malloc(n > 0 ? (size_t)n : 1);
        if (!*doc)
            rc = ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
        else {
            if (n > 0)
                memcpy(*doc, b, (size_t)n);
            *len = (size_t)n;
        }
    } else
        rc = st == SQLITE_DONE ? ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no document for claim %" PRId64, id)
                               : lsq_db_err(l, err, "read claim document");
    sqlite3_reset(s);
    return rc;
}

ch_code ledger_claim_respond(ledger *l, const ledger_claim_brief *c, ledger_state to, const char *payer_claim_no,
                             const char *actor, const char *why, int *moved, ch_error *err)
{
    if (moved)
        *moved = 0;
    int go = to != c->state && ledger_transition_ok(c->state, to);
    if (!go) {
        if (payer_claim_no && payer_claim_no[0] && strcmp(payer_claim_no, c->payer_claim_no))
            return ledger_claim_set_payer_claim_no(l, c->id, payer_claim_no, err);
        return CH_OK;
    }
    char at[32];
    lsq_stamp(l, at);
    sqlite3_stmt *s = rst(l, R_RESPOND, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, c->id);
    sqlite3_bind_text(s, 2, ledger_state_name(to), -1, SQLITE_STATIC);
    bt(s, 3, payer_claim_no);
    sqlite3_bind_text(s, 4, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, ledger_state_name(c->state), -1, SQLITE_STATIC);
    ch_code rc = done(l, s, "move claim", err);
    if (rc != CH_OK)
        return rc;
    if (sqlite3_changes(lsq_db(l)) != 1)
        return ch_error_set(err, CH_ERR_INVALID, "ledger: claim %" PRId64 " is no longer %s", c->id,
                            ledger_state_name(c->state));
    if (moved)
        *moved = 1;
    /* held and written with others (ledger_hold.c) */
    return lsq_hold_event(l, c->id, at, actor, ledger_state_name(c->state), ledger_state_name(to), why, c->batch_id,
                          err);
}

ch_code ledger_claim_set_payer_claim_no(ledger *l, int64_t id, const char *no, ch_error *err)
{
    sqlite3_stmt *s = rst(l, R_SET_PCN_NO, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    bt(s, 2, no);
    return done(l, s, "store payer claim number", err);
}

/* --- 999 ---------------------------------------------------------------------------- */

ch_code ledger_batches_by_gs06(ledger *l, uint64_t gs06, const char *sender, const char *receiver,
                               ledger_batch *out, size_t max, size_t *n, ch_error *err)
{
    *n = 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(lsq_db(l),
                           "SELECT " LSQ_BATCH_COLS " FROM batches WHERE gs06 = ?1 AND (?2 IS NULL OR sender = ?2) "
                           "AND (?3 IS NULL OR receiver = ?3) AND state != 'discarded' ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "find batch");
    for (int pass = 0; pass < 2; pass++) {
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, (int64_t)gs06);
        /* first any sender and receiver; when that is not one batch, theirs */
        bt(s, 2, pass ? sender : NULL);
        bt(s, 3, pass ? receiver : NULL);
        *n = 0;
        int st;
        while ((st = sqlite3_step(s)) == SQLITE_ROW) {
            if (*n < max) {
                lsq_read_batch(s, &out[*n]);
            }
            (*n)++;
        }
        if (st != SQLITE_DONE) {
            sqlite3_finalize(s);
            return lsq_db_err(l, err, "find batch");
        }
        if (*n <= 1 || (!sender && !receiver))
            break;
    }
    sqlite3_finalize(s);
    return CH_OK;
}

ch_code ledger_ack_add(ledger *l, const ledger_ack *a, int *dup, ch_error *err)
{
    char at[32];
    lsq_stamp(l, at);
    sqlite3_stmt *s = rst(l, R_ACK_INSERT, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    bid(s, 1, a->batch_id);
    bt(s, 2, a->file);
    bt(s, 3, a->sha256);
    sqlite3_bind_text(s, 4, a->gs06 ? a->gs06 : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, a->st02 ? a->st02 : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 6, a->accepted ? 1 : 0);
    sqlite3_bind_text(s, 7, a->status ? a->status : "", -1, SQLITE_STATIC);
    bt(s, 8, a->reason);
    sqlite3_bind_int64(s, 9, a->claims);
    bt(s, 10, at);
    ch_code rc = done(l, s, "record acknowledgment", err);
    if (dup)
        *dup = rc == CH_OK && sqlite3_changes(lsq_db(l)) == 0;
    return rc;
}

/* --- remittances -------------------------------------------------------------------- */

static ch_code remit_read(ledger *l, const char *payer, const char *key, ledger_remittance *r, ch_error *err)
{
    sqlite3_stmt *s = rst(l, R_REMIT_GET, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    bt(s, 1, payer);
    bt(s, 2, key);
    int st = sqlite3_step(s);
    if (st == SQLITE_ROW) {
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(s, 0);
        ct(s, 1, r->payer, sizeof r->payer);
        ct(s, 2, r->trace_key, sizeof r->trace_key);
        ct(s, 3, r->practice, sizeof r->practice);
        r->paid_cents = sqlite3_column_int64(s, 4);
        ct(s, 5, r->method, sizeof r->method);
        ct(s, 6, r->pay_date, sizeof r->pay_date);
        ct(s, 7, r->payee_npi, sizeof r->payee_npi);
        ct(s, 8, r->payee_tax_id, sizeof r->payee_tax_id);
        ct(s, 9, r->file, sizeof r->file);
        ct(s, 10, r->sha256, sizeof r->sha256);
        r->claims = (unsigned)sqlite3_column_int(s, 11);
        r->flagged = sqlite3_column_int(s, 12);
        ct(s, 13, r->posted_at, sizeof r->posted_at);
    }
    sqlite3_reset(s);
    if (st == SQLITE_ROW)
        return CH_OK;
    return st == SQLITE_DONE ? ch_error_set(err, CH_ERR_NOTFOUND, "ledger: no remittance %s", key)
                             : lsq_db_err(l, err, "read remittance");
}

ch_code ledger_remittance_get(ledger *l, const char *payer, const char *trace_key, ledger_remittance *r,
                              ch_error *err)
{
    return remit_read(l, payer, trace_key, r, err);
}

ch_code ledger_remittance_add(ledger *l, ledger_remittance *r, ch_error *err)
{
    lsq_stamp(l, r->posted_at);
    sqlite3_stmt *s = rst(l, R_REMIT_INSERT, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    bt(s, 1, r->payer);
    bt(s, 2, r->trace_key);
    bt(s, 3, r->practice);
    sqlite3_bind_int64(s, 4, r->paid_cents);
    bt(s, 5, r->method);
    bt(s, 6, r->pay_date);
    bt(s, 7, r->payee_npi);
    bt(s, 8, r->payee_tax_id);
    sqlite3_bind_text(s, 9, r->file, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 10, r->sha256, -1, SQLITE_STATIC);
    bt(s, 11, r->posted_at);
    ch_code rc = done(l, s, "record remittance", err);
    if (rc != CH_OK)
        return rc;
    if (sqlite3_changes(lsq_db(l)) == 1) {
        r->id = sqlite3_last_insert_rowid(lsq_db(l));
        return CH_OK;
    }
    ledger_remittance old;
    if ((rc = remit_read(l, r->payer, r->trace_key, &old, err)) != CH_OK)
        return rc;
    r->id = old.id;
    return ch_error_set(err, CH_ERR_EXISTS, "remittance %s of %s was posted on %s (from %s)", r->trace_key, r->payer,
                        old.posted_at, old.file);
}

ch_code ledger_remittance_finish(ledger *l, int64_t id, unsigned claims, int flagged, ch_error *err)
{
    sqlite3_stmt *s = rst(l, R_REMIT_FINISH, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, claims);
    sqlite3_bind_int(s, 3, flagged ? 1 : 0);
    return done(l, s, "update remittance", err);
}

ch_code ledger_remittances_unreported(ledger *l, ledger_id_fn fn, void *ctx, ch_error *err)
{
    ch_code rc = lsq_flush(l, err);
    if (rc != CH_OK)
        return rc;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(lsq_db(l), "SELECT id FROM remittances WHERE reported_at IS NULL ORDER BY id", -1, &s,
                           NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "list unreported remittances");
    int st;
    while ((st = sqlite3_step(s)) == SQLITE_ROW)
        if (fn(ctx, sqlite3_column_int64(s, 0)))
            break;
    if (st != SQLITE_ROW && st != SQLITE_DONE)
        rc = lsq_db_err(l, err, "list unreported remittances");
    sqlite3_finalize(s);
    return rc;
}

ch_code ledger_remittances_reported(ledger *l, const int64_t *ids, size_t n, ch_error *err)
{
    if (n == 0)
        return CH_OK;
    /* one statement marks them all */
    size_t len;
    char *json = lsq_ids_json(ids, n, &len);
    if (!json)
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    char at[32];
    lsq_stamp(l, at);
    ch_code rc = lsq_flush(l, err);
    sqlite3_stmt *s = NULL;
    if (rc == CH_OK && sqlite3_prepare_v2(lsq_db(l),
                                          "UPDATE remittances SET reported_at = ?2 "
                                          "WHERE id IN (SELECT value FROM json_each(?1)) AND reported_at IS NULL",
                                          -1, &s, NULL) != SQLITE_OK)
        rc = lsq_db_err(l, err, "mark remittances reported");
    if (rc == CH_OK) {
        sqlite3_bind_text(s, 1, json, (int)len, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, at, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE)
            rc = lsq_db_err(l, err, "mark remittances reported");
    }
    sqlite3_finalize(s);
    free(json);
    return rc;
}

ch_code ledger_claim_payment_add(ledger *l, ledger_claim_payment *p, const ledger_adjustment *adj, size_t nadj,
                                 const ledger_line_payment *lines, size_t nlines, ch_error *err)
{
    struct ledger_remit_stmts **rp = lsq_remit(l);
    if (!*rp && !(*rp = calloc(1, sizeof **rp)))
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    struct ledger_remit_stmts *r = *rp;
    lsq_stamp(l, p->posted_at);
    ch_code rc;
    if ((rc = ledger_payjson_adj(&r->adj, adj, nadj, err)) != CH_OK ||
        (rc = ledger_payjson_lines(&r->lines, lines, nlines, err)) != CH_OK)
        return rc;
    /* held and written with others (ledger_hold.c); the id is known now */
    return lsq_hold_payment(l, p, r->adj.p, r->lines.p, err);
}

static void read_cp(sqlite3_stmt *s, ledger_claim_payment *p)
{
    memset(p, 0, sizeof *p);
    p->id = sqlite3_column_int64(s, 0);
    p->claim_id = sqlite3_column_int64(s, 1);
    p->remittance_id = sqlite3_column_int64(s, 2);
    ct(s, 3, p->status_code, sizeof p->status_code);
    ct(s, 4, p->outcome, sizeof p->outcome);
    p->billed = sqlite3_column_int64(s, 5);
    p->paid = sqlite3_column_int64(s, 6);
    p->patient_resp = sqlite3_column_int64(s, 7);
    p->allowed = sqlite3_column_int64(s, 8);
    ct(s, 9, p->payer_claim_no, sizeof p->payer_claim_no);
    p->reversal = sqlite3_column_int(s, 10);
    p->reversed_by = sqlite3_column_int64(s, 11);
    ct(s, 12, p->posted_at, sizeof p->posted_at);
}

ch_code ledger_claim_payment_open(ledger *l, int64_t claim_id, const char *payer_claim_no, ledger_claim_payment *out,
                                  ch_error *err)
{
    int with_no = payer_claim_no && payer_claim_no[0];
    sqlite3_stmt *s = rst(l, with_no ? R_CP_OPEN_NO : R_CP_OPEN, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, claim_id);
    if (with_no)
        bt(s, 2, payer_claim_no);
    int st = sqlite3_step(s);
    if (st == SQLITE_ROW)
        read_cp(s, out);
    sqlite3_reset(s);
    if (st == SQLITE_ROW)
        return CH_OK;
    return st == SQLITE_DONE ? ch_error_set(err, CH_ERR_NOTFOUND, "claim %" PRId64 ": no payment to reverse", claim_id)
                             : lsq_db_err(l, err, "read claim payment");
}

ch_code ledger_claim_payment_reverse(ledger *l, int64_t id, int64_t by, ch_error *err)
{
    sqlite3_stmt *s = rst(l, R_CP_REVERSE, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, by);
    return done(l, s, "reverse claim payment", err);
}

ch_code ledger_claim_payments_each(ledger *l, int64_t claim_id, ledger_payment_fn fn, void *ctx, ch_error *err)
{
    ch_code frc = lsq_flush(l, err);
    if (frc != CH_OK)
        return frc;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(lsq_db(l),
                           "SELECT id, claim_id, remittance_id, status_code, outcome, billed_cents, paid_cents, "
                           "patient_resp_cents, allowed_cents, payer_claim_no, reversal, reversed_by, posted_at "
                           "FROM claim_payments WHERE claim_id = ?1 ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "list claim payments");
    sqlite3_bind_int64(s, 1, claim_id);
    int st;
    ledger_claim_payment p;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        read_cp(s, &p);
        if (fn(ctx, &p))
            break;
    }
    ch_code rc = st == SQLITE_ROW || st == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, "list claim payments");
    sqlite3_finalize(s);
    return rc;
}

ch_code ledger_plb_add(ledger *l, int64_t remittance_id, const char *provider_id, const char *fiscal_date,
                       const char *reason, const char *reference, int64_t cents, ch_error *err)
{
    sqlite3_stmt *s = rst(l, R_PLB_INSERT, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_int64(s, 1, remittance_id);
    bt(s, 2, provider_id);
    bt(s, 3, fiscal_date);
    sqlite3_bind_text(s, 4, reason ? reason : "", -1, SQLITE_STATIC);
    bt(s, 5, reference);
    sqlite3_bind_int64(s, 6, cents);
    return done(l, s, "post provider adjustment", err);
}

ch_code ledger_postings_each(ledger *l, int64_t remittance_id, ledger_posting_fn fn, void *ctx, ch_error *err)
{
    ch_code frc = lsq_flush(l, err);
    if (frc != CH_OK)
        return frc;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(
            lsq_db(l),
            "SELECT cp.id, cp.claim_id, cp.remittance_id, cp.status_code, cp.outcome, cp.billed_cents, cp.paid_cents, "
            "cp.patient_resp_cents, cp.allowed_cents, cp.payer_claim_no, cp.reversal, cp.reversed_by, cp.posted_at, "
            "c.practice, c.pcn, c.state, r.trace_key, cp.adj, cp.lines "
            "FROM claim_payments cp JOIN claims c ON c.id = cp.claim_id JOIN remittances r ON r.id = cp.remittance_id "
            "WHERE cp.remittance_id = ?1 ORDER BY cp.id",
            -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "list postings");
    sqlite3_bind_int64(s, 1, remittance_id);
    int st;
    ledger_posting p;
    ch_code rc = CH_OK;
    struct ledger_remit_stmts **rp = lsq_remit(l);
    if (!*rp && !(*rp = calloc(1, sizeof **rp))) {
        sqlite3_finalize(s);
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    }
    ledger_text *text = &(*rp)->text;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&p, 0, sizeof p);
        read_cp(s, &p.pay);
        ct(s, 13, p.practice, sizeof p.practice);
        ct(s, 14, p.pcn, sizeof p.pcn);
        char state[16];
        ct(s, 15, state, sizeof state);
        ledger_state_parse(state, &p.state);
        ct(s, 16, p.trace_key, sizeof p.trace_key);
        if ((rc = ledger_payjson_text(text, (const char *)sqlite3_column_text(s, 17),
                                      (const char *)sqlite3_column_text(s, 18), err)) != CH_OK)
            break;
        p.adjustments = text->p;
        if (fn(ctx, &p))
            break;
    }
    if (rc == CH_OK && st != SQLITE_ROW && st != SQLITE_DONE)
        rc = lsq_db_err(l, err, "list postings");
    sqlite3_finalize(s);
    return rc;
}

/* --- worklist ------------------------------------------------------------------------- */

ch_code ledger_worklist_add(ledger *l, const ledger_work_item *w, ch_error *err)
{
    char at[32];
    lsq_stamp(l, at);
    sqlite3_stmt *s = rst(l, R_WORK_INSERT, err);
    if (!s)
        return err ? err->code : CH_ERR_DB;
    sqlite3_bind_text(s, 1, w->kind, -1, SQLITE_STATIC);
    bt(s, 2, w->practice);
    bt(s, 3, w->payer);
    bid(s, 4, w->claim_id);
    bid(s, 5, w->remittance_id);
    bt(s, 6, w->file);
    bt(s, 7, w->reference);
    sqlite3_bind_int64(s, 8, w->amount_cents);
    sqlite3_bind_text(s, 9, w->reason[0] ? w->reason : "(no reason given)", -1, SQLITE_STATIC);
    bt(s, 10, at);
    return done(l, s, "add to worklist", err);
}

ch_code ledger_worklist_each(ledger *l, const char *practice, const char *kind, ledger_work_fn fn, void *ctx,
                             ch_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(lsq_db(l),
                           "SELECT id, kind, practice, payer, claim_id, remittance_id, file, reference, amount_cents, "
                           "reason, created_at FROM worklist WHERE resolved_at IS NULL "
                           "AND (?1 IS NULL OR practice = ?1) AND (?2 IS NULL OR kind = ?2) ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK)
        return lsq_db_err(l, err, "list worklist");
    bt(s, 1, practice);
    bt(s, 2, kind);
    int st;
    ledger_work_item w;
    while ((st = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&w, 0, sizeof w);
        w.id = sqlite3_column_int64(s, 0);
        ct(s, 1, w.kind, sizeof w.kind);
        ct(s, 2, w.practice, sizeof w.practice);
        ct(s, 3, w.payer, sizeof w.payer);
        w.claim_id = sqlite3_column_int64(s, 4);
        w.remittance_id = sqlite3_column_int64(s, 5);
        ct(s, 6, w.file, sizeof w.file);
        ct(s, 7, w.reference, sizeof w.reference);
        w.amount_cents = sqlite3_column_int64(s, 8);
        ct(s, 9, w.reason, sizeof w.reason);
        ct(s, 10, w.created_at, sizeof w.created_at);
        if (fn(ctx, &w))
            break;
    }
    ch_code rc = st == SQLITE_ROW || st == SQLITE_DONE ? CH_OK : lsq_db_err(l, err, "list worklist");
    sqlite3_finalize(s);
    return rc;
}
