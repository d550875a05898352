/*
 * ledger_hold.c - rows held back for multi-row INSERTs (see
 * ledger_sqlite_int.h): the claim payments an 835 posts and the events of
 * the claims' moves.  Posting a claim writes a payment, a claim state and an
 * event; writing the payments and events 32 at a time in one statement
 * saves most of the per-statement cost of SQLite.
 *
 * What is held is part of the open transaction: it is written before any
 * other statement of the ledger runs (lsq_flush: the SQLite backend calls it
 * before its own statements, ledger_remit.c before those that read or
 * update claim payments), at commit, and dropped at rollback.  So every
 * reader sees it and events keep their order.  Payment ids are handed out
 * here (max(id) + 1 onwards, read once per transaction under the write
 * lock), so the caller has its id at once.
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch_str.h"
#include "ledger_backend.h"
#include "ledger_payjson.h"
#include "ledger_sqlite_int.h"

#define HOLD_ROWS 32 /* rows per INSERT */

typedef struct held_cp {
    ledger_claim_payment p;
    ledger_text adj, lines;
} held_cp;

typedef struct held_ev {
    int64_t claim_id, batch_id;
    char at[32], from[16], to[16];
    ledger_text actor, why;
} held_ev;

struct ledger_hold {
    held_cp cp[HOLD_ROWS];
    held_ev ev[HOLD_ROWS];
    size_t ncp, nev;
    int64_t next_cp_id;           /* 0: read it */
    sqlite3_stmt *cp1, *cpn;      /* one row, HOLD_ROWS rows */
    sqlite3_stmt *ev1, *evn;
    int flushing;
    ch_code failed;               /* a flush failed: the transaction cannot commit */
    char failed_msg[512];
};

#define CP_COLS 14
#define EV_COLS 7

static struct ledger_hold *hold_of(ledger *l, ch_error *err)
{
    struct ledger_hold **hp = lsq_hold(l);
    if (!*hp && !(*hp = calloc(1, sizeof **hp)))
        ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    return *hp;
}

static ch_code copy_text(ledger_text *t, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n + 1 > t->cap) {
        size_t cap = n + 1 < 64 ? 64 : n + 1;
        char *p = realloc(t->p, cap);
        if (!p)
            return CH_ERR_NOMEM;
        t->p = p;
        t->cap = cap;
    }
    if (n)
        memcpy(t->p, s, n);
    t->p[n] = '\0';
    t->len = n;
    return CH_OK;
}

/* "INSERT INTO table(cols) VALUES (?,..),(?,..)" for rows rows. */
static sqlite3_stmt *prepare_rows(ledger *l, const char *head, int cols, int rows, ch_error *err)
{
    size_t cap = strlen(head) + (size_t)rows * ((size_t)cols * 7 + 4) + 1;
    char *sql = malloc(cap);
    if (!sql) {
        ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
        return NULL;
    }
    size_t n = (size_t)snprintf(sql, cap, "%s", head);
    for (int r = 0; r < rows; r++) {
        n += (size_t)snprintf(sql + n, cap - n, "%s(", r ? "," : "");
        for (int c = 0; c < cols; c++)
            n += (size_t)snprintf(sql + n, cap - n, "%s?%d", c ? "," : "", r * cols + c + 1);
        n += (size_t)snprintf(sql + n, cap - n, ")");
    }
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v3(lsq_db(l), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
        lsq_db_err(l, err, "prepare");
        s = NULL;
    }
    free(sql);
    return s;
}

static void bind_opt(sqlite3_stmt *s, int i, const char *v)
{
    if (v && v[0])
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static void bind_cp(sqlite3_stmt *s, int b, const held_cp *h)
{
    const ledger_claim_payment *p = &h->p;
    if (p->id > 0)
        sqlite3_bind_int64(s, b + 1, p->id);
    else
        sqlite3_bind_null(s, b + 1);
    sqlite3_bind_int64(s, b + 2, p->claim_id);
    sqlite3_bind_int64(s, b + 3, p->remittance_id);
    sqlite3_bind_text(s, b + 4, p->status_code, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, b + 5, p->outcome, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, b + 6, p->billed);
    sqlite3_bind_int64(s, b + 7, p->paid);
    sqlite3_bind_int64(s, b + 8, p->patient_resp);
    sqlite3_bind_int64(s, b + 9, p->allowed);
    bind_opt(s, b + 10, p->payer_claim_no);
    sqlite3_bind_int(s, b + 11, p->reversal ? 1 : 0);
    bind_opt(s, b + 12, p->posted_at);
    bind_opt(s, b + 13, h->adj.p);
    bind_opt(s, b + 14, h->lines.p);
}

static void bind_ev(sqlite3_stmt *s, int b, const held_ev *e)
{
    sqlite3_bind_int64(s, b + 1, e->claim_id);
    sqlite3_bind_text(s, b + 2, e->at, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, b + 3, e->actor.p && e->actor.p[0] ? e->actor.p : "engine", -1, SQLITE_STATIC);
    bind_opt(s, b + 4, e->from);
    sqlite3_bind_text(s, b + 5, e->to, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, b + 6, e->why.p ? e->why.p : "", -1, SQLITE_STATIC);
    if (e->batch_id > 0)
        sqlite3_bind_int64(s, b + 7, e->batch_id);
    else
        sqlite3_bind_null(s, b + 7);
}

static const char cp_head[] = "INSERT INTO claim_payments(id, claim_id, remittance_id, status_code, outcome, "
                              "billed_cents, paid_cents, patient_resp_cents, allowed_cents, payer_claim_no, reversal, "
                              "posted_at, adj, lines) VALUES ";
static const char ev_head[] = "INSERT INTO events(claim_id, at, actor, from_state, to_state, why, batch_id) VALUES ";

/* Write n held rows of one kind: HOLD_ROWS at a time, the rest one by one. */
static ch_code write_rows(ledger *l, struct ledger_hold *h, int events, ch_error *err)
{
    size_t n = events ? h->nev : h->ncp;
    size_t i = 0;
    while (i < n) {
        int many = n - i >= HOLD_ROWS;
        sqlite3_stmt **sp = events ? (many ? &h->evn : &h->ev1) : (many ? &h->cpn : &h->cp1);
        if (!*sp && !(*sp = prepare_rows(l, events ? ev_head : cp_head, events ? EV_COLS : CP_COLS,
                                         many ? HOLD_ROWS : 1, err)))
            return err ? err->code : CH_ERR_DB;
        sqlite3_stmt *s = *sp;
        size_t k = many ? HOLD_ROWS : 1;
        for (size_t r = 0; r < k; r++) {
            if (events)
                bind_ev(s, (int)r * EV_COLS, &h->ev[i + r]);
            else
                bind_cp(s, (int)r * CP_COLS, &h->cp[i + r]);
        }
        int st = sqlite3_step(s);
        sqlite3_reset(s);
        if (st != SQLITE_DONE)
            return lsq_db_err(l, err, events ? "append events" : "post claim payments");
        i += k;
    }
    return CH_OK;
}

ch_code lsq_flush(ledger *l, ch_error *err)
{
    struct ledger_hold *h = *lsq_hold(l);
    if (!h || h->flushing)
        return CH_OK;
    if (h->failed != CH_OK)
        return ch_error_set(err, h->failed, "%s", h->failed_msg);
    if (!h->ncp && !h->nev)
        return CH_OK;
    h->flushing = 1; /* lsq_db_err and friends must not come back here */
    ch_error e;
    ch_code rc = write_rows(l, h, 0, &e);
    if (rc == CH_OK)
        rc = write_rows(l, h, 1, &e);
    h->flushing = 0;
    h->ncp = h->nev = 0;
    if (rc != CH_OK) {
        /* what was held is lost: the transaction must not commit */
        if (ledger_sqlite_in_txn(l)) {
            h->failed = rc;
            snprintf(h->failed_msg, sizeof h->failed_msg, "%s", e.msg);
        }
        return ch_error_set(err, rc, "%s", e.msg);
    }
    return CH_OK;
}

ch_code lsq_hold_payment(ledger *l, ledger_claim_payment *p, const char *adj, const char *lines, ch_error *err)
{
    struct ledger_hold *h = hold_of(l, err);
    if (!h)
        return CH_ERR_NOMEM;
    ch_code rc;
    if (h->ncp == HOLD_ROWS && (rc = lsq_flush(l, err)) != CH_OK)
        return rc;
    int held = ledger_sqlite_in_txn(l);
    if (held && !h->next_cp_id) {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(lsq_db(l), "SELECT max(id) FROM claim_payments", -1, &s, NULL) != SQLITE_OK)
            return lsq_db_err(l, err, "claim payment id");
        int st = sqlite3_step(s);
        if (st == SQLITE_ROW)
            h->next_cp_id = sqlite3_column_int64(s, 0) + 1; /* NULL (none yet) reads as 0 */
        sqlite3_finalize(s);
        if (st != SQLITE_ROW)
            return lsq_db_err(l, err, "claim payment id");
    }
    held_cp *c = &h->cp[h->ncp];
    if (copy_text(&c->adj, adj) != CH_OK || copy_text(&c->lines, lines) != CH_OK)
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    c->p = *p;
    c->p.id = held ? h->next_cp_id : 0;
    h->ncp++;
    if (held) {
        p->id = h->next_cp_id++;
        return CH_OK;
    }
    /* no transaction: written at once, its id from SQLite */
    if ((rc = lsq_flush(l, err)) != CH_OK)
        return rc;
    p->id = sqlite3_last_insert_rowid(lsq_db(l));
    return CH_OK;
}

ch_code lsq_hold_event(ledger *l, int64_t claim_id, const char *at, const char *actor, const char *from,
                       const char *to, const char *why, int64_t batch_id, ch_error *err)
{
    if (!ledger_sqlite_in_txn(l))
        return lsq_event(l, claim_id, at, actor, from, to, why, batch_id, err);
    struct ledger_hold *h = hold_of(l, err);
    if (!h)
        return CH_ERR_NOMEM;
    ch_code rc;
    if (h->nev == HOLD_ROWS && (rc = lsq_flush(l, err)) != CH_OK)
        return rc;
    held_ev *e = &h->ev[h->nev];
    if (copy_text(&e->actor, actor) != CH_OK || copy_text(&e->why, why) != CH_OK)
        return ch_error_set(err, CH_ERR_NOMEM, "ledger: out of memory");
    e->claim_id = claim_id;
    e->batch_id = batch_id;
    ch_strcpy(e->at, sizeof e->at, at);
    ch_strcpy(e->from, sizeof e->from, from);
    ch_strcpy(e->to, sizeof e->to, to);
    h->nev++;
    return CH_OK;
}

void lsq_hold_end(ledger *l)
{
    struct ledger_hold *h = *lsq_hold(l);
    if (!h)
        return;
    h->ncp = h->nev = 0;
    h->next_cp_id = 0;
    h->failed = CH_OK;
    h->failed_msg[0] = '\0';
    sqlite3_stmt *all[] = {h->cp1, h->cpn, h->ev1, h->evn};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i])
            sqlite3_reset(all[i]);
}

void lsq_hold_free(ledger *l)
{
    struct ledger_hold **hp = lsq_hold(l);
    struct ledger_hold *h = *hp;
    if (!h)
        return;
    sqlite3_finalize(h->cp1);
    sqlite3_finalize(h->cpn);
    sqlite3_finalize(h->ev1);
    sqlite3_finalize(h->evn);
    for (size_t i = 0; i < HOLD_ROWS; i++) {
        free(h->cp[i].adj.p);
        free(h->cp[i].lines.p);
        free(h->ev[i].actor.p);
        free(h->ev[i].why.p);
    }
    free(h);
    *hp = NULL;
}
