/*
 * test_ledger_post.c - how the ledger stores what an 835 posts (schema 6):
 * a claim payment with its lines and adjustments as one row, read back as
 * rows through the line_payments and adjustments views; the migration of
 * rows posted before; payments and events held for multi-row INSERTs (seen
 * by every reader at once, in order, written at commit, gone at rollback).
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger.h"
#include "tu.h"

typedef struct pfix {
    char dir[64];
    char path[128];
    ledger *l;
} pfix;

static sqlite3 *raw(pfix *f)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static void sql(sqlite3 *db, const char *text)
{
    char *msg = NULL;
    cr_assert_eq(sqlite3_exec(db, text, NULL, NULL, &msg), SQLITE_OK, "%s: %s", text, msg ? msg : "");
}

static int64_t one_int(sqlite3 *db, const char *text)
{
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(db, text, -1, &s, NULL), SQLITE_OK, "%s: %s", text, sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "%s", text);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* A ledger with n accepted claims 1..n (PCN0001...). */
static void popen_(pfix *f, int n)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/chpost.XXXXXX");
    cr_assert(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/ledger.db", f->dir);
    ch_error err;
    cr_assert_eq(ledger_open(&f->l, "sqlite", f->path, &err), CH_OK, "%s", err.msg);
    cr_assert_eq(ledger_practice_put(f->l, "p1", "PRACTICE ONE", "1245319599", &err), CH_OK, "%s", err.msg);
    cr_assert_eq(ledger_payer_put(f->l, "demo", "DEMO1", "DEMO", &err), CH_OK, "%s", err.msg);
    ledger_close(f->l);
    sqlite3 *db = raw(f);
    sql(db, "BEGIN");
    for (int i = 1; i <= n; i++) {
        char q[512];
        snprintf(q, sizeof q,
                 "INSERT INTO claims(id, pcn, practice, payer, claim_type, encounter_id, version, frequency, "
                 "total_cents, service_date, state, created_at, updated_at) VALUES (%d, 'PCN%04d', 'p1', 'demo', "
                 "'837P', 'E%d', 1, 1, 10000, '20261102', 'accepted', 'x', 'x')",
                 i, i, i);
        sql(db, q);
    }
    sql(db, "COMMIT");
    sqlite3_close(db);
    cr_assert_eq(ledger_open(&f->l, "sqlite", f->path, &err), CH_OK, "%s", err.msg);
}

static void pclose_(pfix *f)
{
    ledger_close(f->l);
    tu_rmtree(f->dir);
}

static int64_t remittance(pfix *f, const char *trace)
{
    ledger_remittance r;
    memset(&r, 0, sizeof r);
    snprintf(r.payer, sizeof r.payer, "demo");
    snprintf(r.trace_key, sizeof r.trace_key, "%s", trace);
    snprintf(r.practice, sizeof r.practice, "p1");
    snprintf(r.file, sizeof r.file, "t.835");
    snprintf(r.sha256, sizeof r.sha256, "%064d", 0);
    ch_error err;
    cr_assert_eq(ledger_remittance_add(f->l, &r, &err), CH_OK, "%s", err.msg);
    return r.id;
}

/* Post claim id paid: one claim CAS, two lines with CAS; odd texts on purpose. */
static int64_t post(pfix *f, int64_t rid, int64_t claim)
{
    static const ledger_adjustment cadj[] = {{.group = "OA", .reason = "23", .cents = -150, .quantity = "2"}};
    static const ledger_adjustment l1[] = {{.group = "CO", .reason = "45", .cents = 1000},
                                           {.group = "PR", .reason = "2", .cents = 500}};
    static const ledger_adjustment l2[] = {{.group = "CO", .reason = "45", .cents = 250}};
    const ledger_line_payment lines[] = {
        {.line_no = 1, .procedure = "99213", .modifiers = "25:59", .control = "L\"1\\x", .billed = 6000,
         .paid = 4500, .allowed = 5000, .units_x100 = 100, .adj = l1, .nadj = 2},
        {.line_no = 0, .procedure = "81002", .modifiers = "", .control = NULL, .billed = 4000, .paid = 3900,
         .allowed = 3750, .units_x100 = 150, .adj = l2, .nadj = 1},
    };
    ledger_claim_payment p;
    memset(&p, 0, sizeof p);
    p.claim_id = claim;
    p.remittance_id = rid;
    snprintf(p.status_code, sizeof p.status_code, "1");
    snprintf(p.outcome, sizeof p.outcome, "paid");
    p.billed = 10000;
    p.paid = 8400;
    p.patient_resp = 500;
    p.allowed = 8750;
    snprintf(p.payer_claim_no, sizeof p.payer_claim_no, "PCLM%lld", (long long)claim);
    ch_error err;
    cr_assert_eq(ledger_claim_payment_add(f->l, &p, cadj, 1, lines, 2, &err), CH_OK, "%s", err.msg);
    cr_assert_gt(p.id, 0);
    cr_assert_str_neq(p.posted_at, "");
    ledger_claim_brief b;
    cr_assert_eq(ledger_claim_brief_get(f->l, claim, &b, &err), CH_OK, "%s", err.msg);
    int moved = 0;
    cr_assert_eq(ledger_claim_respond(f->l, &b, LEDGER_PAID, p.payer_claim_no, "test", "835: paid", &moved, &err),
                 CH_OK, "%s", err.msg);
    cr_assert_eq(moved, 1);
    return p.id;
}

typedef struct seen {
    int n;
    int64_t ids[64];
    char to[64][16];
} seen;

static int on_pay(void *ctx, const ledger_claim_payment *p)
{
    seen *s = ctx;
    if (s->n < 64)
        s->ids[s->n] = p->id;
    s->n++;
    return 0;
}

static int on_event(void *ctx, const ledger_event *e)
{
    seen *s = ctx;
    if (s->n < 64) {
        s->ids[s->n] = e->id;
        snprintf(s->to[s->n], sizeof s->to[0], "%s", e->to_state);
    }
    s->n++;
    return 0;
}

typedef struct postings {
    int n;
    char adj[4][256];
} postings;

static int on_posting(void *ctx, const ledger_posting *p)
{
    postings *s = ctx;
    if (s->n < 4)
        snprintf(s->adj[s->n], sizeof s->adj[0], "%s", p->adjustments);
    s->n++;
    return 0;
}

Test(ledger_post, a_payment_is_one_row_read_back_as_lines_and_adjustments)
{
    pfix f;
    popen_(&f, 2);
    ch_error err;
    cr_assert_eq(ledger_begin(f.l, &err), CH_OK);
    int64_t rid = remittance(&f, "T1");
    int64_t cp = post(&f, rid, 1);
    cr_assert_eq(ledger_commit(f.l, &err), CH_OK, "%s", err.msg);
    postings ps = {0};
    cr_assert_eq(ledger_postings_each(f.l, rid, on_posting, &ps, &err), CH_OK, "%s", err.msg);
    cr_assert_eq(ps.n, 1);
    cr_expect_str_eq(ps.adj[0], "OA:23:-150 CO:45:1000 PR:2:500 CO:45:250", "claim level first, then line by line");

    sqlite3 *db = raw(&f);
    cr_expect_eq(one_int(db, "SELECT count(*) FROM claim_payments"), 1);
    cr_expect_eq(one_int(db, "SELECT count(*) FROM line_payments"), 2);
    cr_expect_eq(one_int(db, "SELECT count(*) FROM adjustments"), 4);
    cr_expect_eq(one_int(db, "SELECT count(*) FROM adjustments WHERE line_payment_id IS NULL"), 1);
    cr_expect_eq(one_int(db, "SELECT sum(amount_cents) FROM adjustments"), 1600);
    /* the views give the columns the tables had, NULL for what was empty */
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(db,
                                    "SELECT l.id, l.claim_payment_id, l.line_no, l.procedure, l.modifiers, l.control, "
                                    "l.billed_cents, l.paid_cents, l.allowed_cents, l.units_x100, "
                                    "(SELECT group_concat(a.group_code || a.reason || '=' || a.amount_cents, ',') "
                                    " FROM adjustments a WHERE a.line_payment_id = l.id) "
                                    "FROM line_payments l ORDER BY l.id",
                                    -1, &s, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    cr_expect_eq(sqlite3_column_int64(s, 1), cp);
    cr_expect_eq(sqlite3_column_int(s, 2), 1);
    cr_expect_str_eq((const char *)sqlite3_column_text(s, 3), "99213");
    cr_expect_str_eq((const char *)sqlite3_column_text(s, 4), "25:59");
    cr_expect_str_eq((const char *)sqlite3_column_text(s, 5), "L\"1\\x", "quotes and backslashes survive");
    cr_expect_eq(sqlite3_column_int64(s, 6), 6000);
    cr_expect_eq(sqlite3_column_int64(s, 7), 4500);
    cr_expect_eq(sqlite3_column_int64(s, 8), 5000);
    cr_expect_eq(sqlite3_column_int64(s, 9), 100);
    cr_expect_str_eq((const char *)sqlite3_column_text(s, 10), "CO45=1000,PR2=500");
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    cr_expect_eq(sqlite3_column_int(s, 2), 0);
    cr_expect_eq(sqlite3_column_type(s, 4), SQLITE_NULL);
    cr_expect_eq(sqlite3_column_type(s, 5), SQLITE_NULL);
    cr_expect_eq(sqlite3_column_int64(s, 9), 150);
    cr_expect_str_eq((const char *)sqlite3_column_text(s, 10), "CO45=250");
    cr_expect_eq(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    cr_expect_eq(one_int(db, "SELECT count(*) FROM adjustments WHERE quantity = '2' AND amount_cents = -150"), 1);
    sqlite3_close(db);
    pclose_(&f);
}

Test(ledger_post, held_rows_are_seen_at_once_written_at_commit_and_gone_at_rollback)
{
    pfix f;
    popen_(&f, 40);
    ch_error err;
    /* rolled back: nothing of it stays, not even its ids */
    cr_assert_eq(ledger_begin(f.l, &err), CH_OK);
    int64_t rid = remittance(&f, "T1");
    int64_t first = post(&f, rid, 1);
    post(&f, rid, 2);
    seen s = {0};
    cr_assert_eq(ledger_claim_payments_each(f.l, 1, on_pay, &s, &err), CH_OK, "%s", err.msg);
    cr_expect_eq(s.n, 1, "a held payment is read back before commit");
    cr_expect_eq(s.ids[0], first);
    memset(&s, 0, sizeof s);
    cr_assert_eq(ledger_claim_events(f.l, 2, on_event, &s, &err), CH_OK, "%s", err.msg);
    cr_expect_eq(s.n, 1);
    cr_expect_str_eq(s.to[0], "paid");
    ledger_rollback(f.l);
    memset(&s, 0, sizeof s);
    cr_assert_eq(ledger_claim_payments_each(f.l, 1, on_pay, &s, &err), CH_OK);
    cr_expect_eq(s.n, 0);
    memset(&s, 0, sizeof s);
    cr_assert_eq(ledger_claim_events(f.l, 2, on_event, &s, &err), CH_OK);
    cr_expect_eq(s.n, 0);

    /* 40 claims (more than one INSERT's worth), a move of another kind in
     * between: every row written, ids in the order of the calls */
    cr_assert_eq(ledger_begin(f.l, &err), CH_OK);
    rid = remittance(&f, "T2");
    int64_t ids[40];
    for (int i = 1; i <= 40; i++) {
        ids[i - 1] = post(&f, rid, i);
        if (i == 20) /* an event written at once, between held ones */
            cr_assert_eq(ledger_claim_move(f.l, 20, LEDGER_ACCEPTED, -1, "test", "reversed", &err), CH_OK, "%s",
                         err.msg);
        if (i > 1)
            cr_assert_eq(ids[i - 1], ids[i - 2] + 1);
    }
    ledger_claim_payment open;
    cr_assert_eq(ledger_claim_payment_open(f.l, 40, NULL, &open, &err), CH_OK, "%s", err.msg);
    cr_expect_eq(open.id, ids[39]);
    cr_assert_eq(ledger_commit(f.l, &err), CH_OK, "%s", err.msg);
    cr_expect_eq(ids[0], first, "the rolled back ids are handed out again");

    sqlite3 *db = raw(&f);
    cr_expect_eq(one_int(db, "SELECT count(*) FROM claim_payments"), 40);
    cr_expect_eq(one_int(db, "SELECT count(*) FROM line_payments"), 80);
    cr_expect_eq(one_int(db, "SELECT count(*) FROM adjustments"), 160);
    cr_expect_eq(one_int(db, "SELECT count(*) FROM events"), 41);
    cr_expect_eq(one_int(db, "SELECT count(*) FROM claims WHERE state = 'paid'"), 39);
    /* events in the order they happened: claim k's is the k-th, the move right after claim 20's */
    cr_expect_eq(one_int(db, "SELECT count(*) FROM events e1 JOIN events e2 ON e2.id = e1.id + 1 "
                             "WHERE e1.claim_id < 20 AND e2.claim_id != e1.claim_id + 1"),
                 0);
    cr_expect_eq(one_int(db, "SELECT claim_id FROM events WHERE to_state = 'accepted'"), 20);
    cr_expect_eq(one_int(db, "SELECT e2.claim_id FROM events e1 JOIN events e2 ON e2.id = e1.id + 1 "
                             "WHERE e1.to_state = 'accepted'"),
                 21);
    cr_expect_eq(one_int(db, "SELECT count(*) FROM claim_payments p JOIN events e ON e.claim_id = p.claim_id "
                             "AND e.to_state = 'paid' WHERE p.posted_at != e.at"),
                 0, "a posting's rows carry one time");
    sqlite3_close(db);
    pclose_(&f);
}

Test(ledger_post, a_held_row_that_cannot_be_written_fails_the_commit)
{
    pfix f;
    popen_(&f, 1);
    ch_error err;
    cr_assert_eq(ledger_begin(f.l, &err), CH_OK);
    int64_t rid = remittance(&f, "T1");
    ledger_claim_payment p;
    memset(&p, 0, sizeof p);
    p.claim_id = 999; /* no such claim: the foreign key refuses it when written */
    p.remittance_id = rid;
    snprintf(p.status_code, sizeof p.status_code, "1");
    snprintf(p.outcome, sizeof p.outcome, "paid");
    /* held, it fails when written: at the latest the commit fails */
    if (ledger_claim_payment_add(f.l, &p, NULL, 0, NULL, 0, &err) == CH_OK)
        cr_expect_neq(ledger_commit(f.l, &err), CH_OK);
    else
        ledger_rollback(f.l);
    ledger_remittance r;
    cr_expect_eq(ledger_remittance_get(f.l, "demo", "T1", &r, &err), CH_ERR_NOTFOUND, "the whole file is undone");
    /* and the ledger goes on */
    cr_assert_eq(ledger_begin(f.l, &err), CH_OK);
    rid = remittance(&f, "T2");
    post(&f, rid, 1);
    cr_assert_eq(ledger_commit(f.l, &err), CH_OK, "%s", err.msg);
    pclose_(&f);
}

Test(ledger_post, without_a_transaction_a_payment_is_written_at_once)
{
    pfix f;
    popen_(&f, 1);
    int64_t rid = remittance(&f, "T1");
    int64_t cp = post(&f, rid, 1);
    sqlite3 *db = raw(&f);
    cr_expect_eq(one_int(db, "SELECT max(id) FROM claim_payments"), cp);
    cr_expect_eq(one_int(db, "SELECT count(*) FROM events WHERE claim_id = 1"), 1);
    sqlite3_close(db);
    pclose_(&f);
}

/* The schema of 3 for lines and adjustments, as ledgers before 6 have them. */
static const char old_tables[] =
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
    "CREATE INDEX adjustments_by_claim_payment ON adjustments(claim_payment_id);";

Test(ledger_post, migration_6_moves_lines_and_adjustments_posted_before_into_their_payment)
{
    pfix f;
    popen_(&f, 2);
    ledger_close(f.l);
    /* back to a ledger of schema 4 with two payments posted the old way */
    sqlite3 *db = raw(&f);
    sql(db, "DROP VIEW adjustments; DROP VIEW line_payments;"
            "ALTER TABLE claim_payments DROP COLUMN adj; ALTER TABLE claim_payments DROP COLUMN lines;"
            "DELETE FROM schema_migrations WHERE version = 6;");
    sql(db, old_tables);
    sql(db, "INSERT INTO remittances(id, payer, trace_key, paid_cents, file, sha256, posted_at) "
            "VALUES (1, 'demo', 'T1', 0, 'f', 's', 'x');"
            "INSERT INTO claim_payments(id, claim_id, remittance_id, status_code, outcome, billed_cents, paid_cents, "
            "patient_resp_cents, allowed_cents, reversal, posted_at) VALUES "
            "(1, 1, 1, '1', 'paid', 100, 80, 0, 80, 0, 'x'), (2, 2, 1, '4', 'denied', 50, 0, 0, 0, 0, 'x'),"
            "(3, 2, 1, '22', 'reversal', -50, 0, 0, 0, 1, 'x');"
            "INSERT INTO line_payments VALUES (10, 1, 1, '99213', '25', NULL, 60, 50, 50, 100),"
            "(11, 1, 2, 'A\"B', NULL, 'C\\D', 40, 30, 30, 250), (12, 2, 1, '81002', NULL, NULL, 50, 0, 0, 100);"
            /* in the order posting wrote them: claim level, then line by line */
            "INSERT INTO adjustments VALUES (20, 1, NULL, 'OA', '23', -5, '1.5'), (21, 1, 10, 'CO', '45', 10, NULL),"
            "(22, 1, 10, 'PR', '2', 0, NULL), (23, 1, 11, 'CO', '45', 11, NULL), (24, 2, NULL, 'CO', '96', 50, NULL);");
    const char *lines_before = "SELECT group_concat(claim_payment_id || '|' || line_no || '|' || ifnull(procedure, '-') "
                               "|| '|' || ifnull(modifiers, '-') || '|' || ifnull(control, '-') || '|' || billed_cents "
                               "|| '|' || paid_cents || '|' || allowed_cents || '|' || units_x100, ';') FROM "
                               "(SELECT * FROM line_payments ORDER BY claim_payment_id, id)";
    const char *adj_before = "SELECT group_concat(claim_payment_id || '|' || (line_payment_id IS NULL) || '|' || "
                             "group_code || '|' || reason || '|' || amount_cents || '|' || ifnull(quantity, '-'), ';') "
                             "FROM (SELECT * FROM adjustments ORDER BY claim_payment_id, line_payment_id IS NOT NULL, "
                             "line_payment_id, id)";
    sqlite3_stmt *s;
    char want_lines[1024], want_adj[1024];
    cr_assert_eq(sqlite3_prepare_v2(db, lines_before, -1, &s, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    snprintf(want_lines, sizeof want_lines, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    cr_assert_eq(sqlite3_prepare_v2(db, adj_before, -1, &s, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    snprintf(want_adj, sizeof want_adj, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);

    ch_error err;
    cr_assert_eq(ledger_open(&f.l, "sqlite", f.path, &err), CH_OK, "%s", err.msg);
    cr_expect_eq(ledger_schema_version(f.l), 7); /* 6 and what came after */
    db = raw(&f);
    cr_expect_eq(one_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                             "AND name IN ('line_payments', 'adjustments')"),
                 0);
    cr_assert_eq(sqlite3_prepare_v2(db, lines_before, -1, &s, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    cr_expect_str_eq((const char *)sqlite3_column_text(s, 0), want_lines);
    sqlite3_finalize(s);
    cr_assert_eq(sqlite3_prepare_v2(db, adj_before, -1, &s, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    cr_expect_str_eq((const char *)sqlite3_column_text(s, 0), want_adj);
    sqlite3_finalize(s);
    cr_expect_eq(one_int(db, "SELECT count(*) FROM claim_payments WHERE id = 3 AND adj IS NULL AND lines IS NULL"), 1,
                 "nothing posted: NULL, not an empty list");
    sqlite3_close(db);
    /* the reports read the moved adjustments in the order they were posted */
    postings ps = {0};
    cr_assert_eq(ledger_postings_each(f.l, 1, on_posting, &ps, &err), CH_OK, "%s", err.msg);
    cr_assert_eq(ps.n, 3);
    cr_expect_str_eq(ps.adj[0], "OA:23:-5 CO:45:10 PR:2:0 CO:45:11");
    cr_expect_str_eq(ps.adj[1], "CO:96:50");
    cr_expect_str_eq(ps.adj[2], "");
    pclose_(&f);
}
