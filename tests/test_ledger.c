/*
 * test_ledger.c - the SQLite ledger: schema and migrations, intake outcomes
 * (new, duplicate, revised, replacement, refused), state changes and their
 * append-only history, batches, and control numbers that never repeat.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger.h"
#include "tu.h"

typedef struct lfix {
    char dir[64];
    char path[128];
    ledger *l;
} lfix;

static void lopen(lfix *f)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/chledger.XXXXXX");
    cr_assert(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/ledger.db", f->dir);
    ch_error err;
    cr_assert_eq(ledger_open(&f->l, "sqlite", f->path, &err), CH_OK, "%s", err.msg);
    cr_assert_eq(ledger_practice_put(f->l, "p1", "PRACTICE ONE", "1245319599", &err), CH_OK, "%s", err.msg);
    cr_assert_eq(ledger_payer_put(f->l, "demo", "DEMO1", "DEMO", &err), CH_OK, "%s", err.msg);
}

static void lreopen(lfix *f)
{
    ledger_close(f->l);
    ch_error err;
    cr_assert_eq(ledger_open(&f->l, "sqlite", f->path, &err), CH_OK, "%s", err.msg);
}

static void lclose(lfix *f)
{
    ledger_close(f->l);
    tu_rmtree(f->dir);
}

static ledger_submission sub(const char *enc, const char *hash, int freq)
{
    static const char doc[] = "encounter/1\nencounter_id=X\n";
    ledger_submission s = {
        .practice = "p1", .payer = "demo", .claim_type = "837P", .encounter_id = enc, .content_hash = hash,
        .frequency = freq, .total_cents = 12345, .service_date = "20261102", .doc = doc, .doc_len = sizeof doc - 1,
        .claim_prefix = "P1X", .source = "p1/a.yaml", .actor = "test"};
    return s;
}

typedef struct evlist {
    int n;
    char to[16][16];
    char why[16][256];
} evlist;

static int on_ev(void *ctx, const ledger_event *e)
{
    evlist *l = ctx;
    if (l->n < 16) {
        snprintf(l->to[l->n], sizeof l->to[0], "%s", e->to_state);
        snprintf(l->why[l->n], sizeof l->why[0], "%s", e->why);
    }
    l->n++;
    return 0;
}

static int grab_state(void *c, const ledger_claim *cl)
{
    *(ledger_state *)c = cl->state;
    return 1;
}

static ledger_state state_of(ledger *l, int64_t id)
{
    ledger_state st = LEDGER_STATE__COUNT;
    ledger_filter f = {.state = -1, .after_id = id - 1, .limit = 1};
    ch_error err;
    cr_assert_eq(ledger_claims_each(l, &f, grab_state, &st, &err), CH_OK);
    return st;
}

static int grab_error(void *c, const ledger_claim *cl)
{
    snprintf((char *)c, 512, "%s", cl->last_error);
    return 1;
}

Test(ledger, schema_is_created_once_and_kept)
{
    lfix f;
    lopen(&f);
    /* 3 (posting) and whatever later branches add */
    int v = ledger_schema_version(f.l);
    cr_expect_geq(v, 3);
    lreopen(&f);
    cr_expect_eq(ledger_schema_version(f.l), v);
    struct stat st;
    cr_assert_eq(stat(f.path, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0600, "the ledger holds PHI: owner only");
    lclose(&f);
}

Test(ledger, intake_outcomes)
{
    lfix f;
    lopen(&f);
    ch_error err;
    ledger_intake_result r;
    ledger_submission s = sub("E1", "h1", 1);
    cr_assert_eq(ledger_claim_submit(f.l, &s, &r, &err), CH_OK, "%s", err.msg);
    cr_expect_eq(r.outcome, LEDGER_NEW);
    cr_expect_str_eq(r.pcn, "P1X00000001");
    cr_expect_eq(r.version, 1);
    int64_t first = r.claim_id;

    /* the same content again: nothing new */
    cr_assert_eq(ledger_claim_submit(f.l, &s, &r, &err), CH_OK);
    cr_expect_eq(r.outcome, LEDGER_DUPLICATE);
    cr_expect_eq(r.claim_id, first);
    cr_expect_str_eq(r.pcn, "P1X00000001");

    /* changed content, claim still queued: the claim is revised in place */
    s = sub("E1", "h2", 1);
    cr_assert_eq(ledger_claim_submit(f.l, &s, &r, &err), CH_OK);
    cr_expect_eq(r.outcome, LEDGER_REVISED);
    cr_expect_eq(r.claim_id, first);
    cr_expect_eq(r.version, 2);

    /* the first version dropped again is still recognized */
    s = sub("E1", "h1", 1);
    cr_assert_eq(ledger_claim_submit(f.l, &s, &r, &err), CH_OK);
    cr_expect_eq(r.outcome, LEDGER_DUPLICATE);

    uint64_t counts[LEDGER_STATE__COUNT];
    ledger_filter all = {.state = -1};
    cr_assert_eq(ledger_claims_count(f.l, &all, counts, &err), CH_OK);
    cr_expect_eq(counts[LEDGER_QUEUED], 1, "one claim however often it was dropped");

    /* once it went out, a changed original is refused; a replacement is a new claim */
    cr_assert_eq(ledger_claim_move(f.l, first, LEDGER_BATCHED, 0, "test", "t", &err), CH_OK, "%s", err.msg);
    cr_assert_eq(ledger_claim_move(f.l, first, LEDGER_READY, -1, "test", "t", &err), CH_OK, "%s", err.msg);
    s = sub("E1", "h3", 1);
    cr_assert_eq(ledger_claim_submit(f.l, &s, &r, &err), CH_OK);
    cr_expect_eq(r.outcome, LEDGER_REFUSED);
    cr_expect(strstr(r.why, "already ready"), "%s", r.why);
    cr_expect_null(strstr(r.why, "E1"), "the message may be logged: no encounter id");
    s = sub("E1", "h3", 7);
    cr_assert_eq(ledger_claim_submit(f.l, &s, &r, &err), CH_OK);
    cr_expect_eq(r.outcome, LEDGER_REPLACEMENT);
    cr_expect_neq(r.claim_id, first);
    cr_expect_eq(r.version, 3);

    evlist ev = {0};
    cr_assert_eq(ledger_claim_events(f.l, first, on_ev, &ev, &err), CH_OK);
    cr_expect_eq(ev.n, 4, "taken, revised, batched, ready");
    cr_expect_str_eq(ev.to[0], "queued");
    cr_expect(strstr(ev.why[1], "revised: encounter version 2"), "%s", ev.why[1]);
    cr_expect_str_eq(ev.to[3], "ready");
    lclose(&f);
}

Test(ledger, transactions_roll_back)
{
    lfix f;
    lopen(&f);
    ch_error err;
    ledger_intake_result r;
    cr_assert_eq(ledger_begin(f.l, &err), CH_OK);
    ledger_submission s = sub("E9", "h", 1);
    cr_assert_eq(ledger_claim_submit(f.l, &s, &r, &err), CH_OK);
    ledger_rollback(f.l);
    uint64_t counts[LEDGER_STATE__COUNT];
    ledger_filter all = {.state = -1};
    cr_assert_eq(ledger_claims_count(f.l, &all, counts, &err), CH_OK);
    cr_expect_eq(counts[LEDGER_QUEUED], 0);
    /* after a rollback the claim is taken anew (the id is not lost to a gap
     * that matters: ids only have to be unique) */
    cr_assert_eq(ledger_claim_submit(f.l, &s, &r, &err), CH_OK);
    cr_expect_eq(r.outcome, LEDGER_NEW);
    lclose(&f);
}

Test(ledger, state_changes_follow_the_rules)
{
    lfix f;
    lopen(&f);
    ch_error err;
    ledger_intake_result r;
    ledger_submission s = sub("E2", "h", 1);
    cr_assert_eq(ledger_claim_submit(f.l, &s, &r, &err), CH_OK);
    cr_expect_eq(ledger_claim_move(f.l, r.claim_id, LEDGER_PAID, 0, "t", "no", &err), CH_ERR_INVALID);
    cr_expect(strstr(err.msg, "cannot go from queued to paid"), "%s", err.msg);
    cr_expect_eq(ledger_claim_move(f.l, 999, LEDGER_FAILED, 0, "t", "no", &err), CH_ERR_NOTFOUND);
    cr_assert_eq(ledger_claim_move(f.l, r.claim_id, LEDGER_FAILED, 0, "t", "payer edits: lines: too many", &err),
                 CH_OK);
    ledger_filter ff = {.state = LEDGER_FAILED};
    char why[512] = "";
    cr_assert_eq(ledger_claims_each(f.l, &ff, grab_error, why, &err), CH_OK);
    cr_expect_str_eq(why, "payer edits: lines: too many", "the worklist says why");
    /* a fixed version takes it off the worklist */
    s = sub("E2", "h-fixed", 1);
    cr_assert_eq(ledger_claim_submit(f.l, &s, &r, &err), CH_OK);
    cr_expect_eq(r.outcome, LEDGER_REVISED);
    cr_expect_eq(state_of(f.l, r.claim_id), LEDGER_QUEUED);
    cr_expect(ledger_transition_ok(LEDGER_SENT, LEDGER_ACKNOWLEDGED));
    cr_expect_not(ledger_transition_ok(LEDGER_VOID, LEDGER_QUEUED));
    ledger_state st;
    cr_expect_eq(ledger_state_parse("acknowledged", &st), CH_OK);
    cr_expect_eq(st, LEDGER_ACKNOWLEDGED);
    cr_expect_eq(ledger_state_parse("lost", &st), CH_ERR_INVALID);
    lclose(&f);
}

Test(ledger, events_are_append_only)
{
    lfix f;
    lopen(&f);
    ch_error err;
    ledger_intake_result r;
    ledger_submission s = sub("E3", "h", 1);
    cr_assert_eq(ledger_claim_submit(f.l, &s, &r, &err), CH_OK);
    uint64_t n;
    cr_assert_eq(ledger_control_next(f.l, "ZZ:S", "ZZ:R", LEDGER_ISA13, 5, &n, &err), CH_OK);
    ledger_close(f.l);
    f.l = NULL;
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(f.path, &db), SQLITE_OK);
    char *msg = NULL;
    cr_expect_neq(sqlite3_exec(db, "UPDATE events SET why = 'x'", NULL, NULL, &msg), SQLITE_OK);
    cr_expect(msg && strstr(msg, "append-only"), "%s", msg ? msg : "");
    sqlite3_free(msg);
    msg = NULL;
    cr_expect_neq(sqlite3_exec(db, "DELETE FROM events", NULL, NULL, &msg), SQLITE_OK);
    sqlite3_free(msg);
    msg = NULL;
    cr_expect_neq(sqlite3_exec(db, "UPDATE control_numbers SET last = 1", NULL, NULL, &msg), SQLITE_OK,
                  "control numbers never go back");
    sqlite3_free(msg);
    msg = NULL;
    cr_expect_neq(sqlite3_exec(db, "DELETE FROM control_numbers", NULL, NULL, &msg), SQLITE_OK);
    sqlite3_free(msg);
    sqlite3_close(db);
    lreopen(&f);
    lclose(&f);
}

Test(ledger, control_numbers_never_repeat)
{
    lfix f;
    lopen(&f);
    ch_error err;
    uint64_t a, b, c, d;
    cr_assert_eq(ledger_control_next(f.l, "ZZ:S", "ZZ:R", LEDGER_ISA13, 1, &a, &err), CH_OK, "%s", err.msg);
    cr_expect_eq(a, 1);
    cr_assert_eq(ledger_control_next(f.l, "ZZ:S", "ZZ:R", LEDGER_ST02, 3, &b, &err), CH_OK);
    cr_expect_eq(b, 1);
    cr_assert_eq(ledger_control_next(f.l, "ZZ:S", "ZZ:R", LEDGER_ST02, 1, &b, &err), CH_OK);
    cr_expect_eq(b, 4, "a range of three was taken before");
    /* another pair has its own counter */
    cr_assert_eq(ledger_control_next(f.l, "ZZ:S", "ZZ:OTHER", LEDGER_ISA13, 1, &c, &err), CH_OK);
    cr_expect_eq(c, 1);
    /* "a crash": numbers taken in a committed transaction whose file never
     * came are skipped, never handed out again */
    cr_assert_eq(ledger_begin(f.l, &err), CH_OK);
    cr_assert_eq(ledger_control_next(f.l, "ZZ:S", "ZZ:R", LEDGER_ISA13, 1, &c, &err), CH_OK);
    cr_assert_eq(ledger_commit(f.l, &err), CH_OK);
    lreopen(&f);
    cr_assert_eq(ledger_control_next(f.l, "ZZ:S", "ZZ:R", LEDGER_ISA13, 1, &d, &err), CH_OK);
    cr_expect_eq(c, 2);
    cr_expect_eq(d, 3);
    /* a rolled back allocation was never used, so it may come again */
    cr_assert_eq(ledger_begin(f.l, &err), CH_OK);
    cr_assert_eq(ledger_control_next(f.l, "ZZ:S", "ZZ:R", LEDGER_ISA13, 1, &c, &err), CH_OK);
    ledger_rollback(f.l);
    cr_assert_eq(ledger_control_next(f.l, "ZZ:S", "ZZ:R", LEDGER_ISA13, 1, &d, &err), CH_OK);
    cr_expect_eq(d, c);
    /* and the end of the range is an error, not a wrap */
    cr_expect_eq(ledger_control_next(f.l, "ZZ:S", "ZZ:R", LEDGER_GS06, 999999999, &d, &err), CH_OK);
    cr_expect_eq(ledger_control_next(f.l, "ZZ:S", "ZZ:R", LEDGER_GS06, 1, &d, &err), CH_ERR_LIMIT);
    lclose(&f);
}

Test(ledger, batches_move_their_claims)
{
    lfix f;
    lopen(&f);
    ch_error err;
    ledger_intake_result r;
    int64_t ids[3];
    for (int i = 0; i < 3; i++) {
        char enc[8], h[8];
        snprintf(enc, sizeof enc, "B%d", i);
        snprintf(h, sizeof h, "h%d", i);
        ledger_submission s = sub(enc, h, 1);
        cr_assert_eq(ledger_claim_submit(f.l, &s, &r, &err), CH_OK);
        ids[i] = r.claim_id;
    }
    ledger_group *g;
    size_t ng;
    cr_assert_eq(ledger_queued_groups(f.l, &g, &ng, &err), CH_OK);
    cr_assert_eq(ng, 1);
    cr_expect_eq(g[0].count, 3);
    cr_expect_str_eq(g[0].claim_type, "837P");
    free(g);
    ledger_batch b;
    memset(&b, 0, sizeof b);
    snprintf(b.practice, sizeof b.practice, "p1");
    snprintf(b.payer, sizeof b.payer, "demo");
    snprintf(b.claim_type, sizeof b.claim_type, "837P");
    snprintf(b.sender, sizeof b.sender, "ZZ:S");
    snprintf(b.receiver, sizeof b.receiver, "ZZ:R");
    b.isa13 = 1;
    b.gs06 = 1;
    b.st02_first = 1;
    b.st_count = 1;
    b.claim_count = 2;
    snprintf(b.file, sizeof b.file, "outbound/demo/x.x12");
    cr_assert_eq(ledger_begin(f.l, &err), CH_OK);
    cr_assert_eq(ledger_batch_create(f.l, &b, &err), CH_OK, "%s", err.msg);
    cr_assert_eq(ledger_batch_add_claims(f.l, b.id, ids, 2, "t", "into batch", &err), CH_OK, "%s", err.msg);
    cr_assert_eq(ledger_commit(f.l, &err), CH_OK);
    /* a claim no longer queued cannot be added twice */
    cr_expect_eq(ledger_batch_add_claims(f.l, b.id, ids, 1, "t", "again", &err), CH_ERR_INVALID);
    uint64_t moved;
    cr_assert_eq(ledger_batch_move_claims(f.l, b.id, LEDGER_BATCHED, LEDGER_READY, 1, "t", "validated", &moved, &err),
                 CH_OK, "%s", err.msg);
    cr_expect_eq(moved, 2);
    cr_expect_eq(state_of(f.l, ids[0]), LEDGER_READY);
    cr_expect_eq(state_of(f.l, ids[2]), LEDGER_QUEUED);
    cr_expect_eq(ledger_batch_move_claims(f.l, b.id, LEDGER_QUEUED, LEDGER_PAID, 1, "t", "x", NULL, &err),
                 CH_ERR_INVALID);
    cr_assert_eq(ledger_batch_update(f.l, b.id, "ready", 1234, "abc", NULL, &err), CH_OK);
    ledger_batch back;
    cr_assert_eq(ledger_batch_get(f.l, b.id, &back, &err), CH_OK);
    cr_expect_str_eq(back.state, "ready");
    cr_expect_eq(back.bytes, 1234);
    cr_expect_eq(ledger_batch_get(f.l, 77, &back, &err), CH_ERR_NOTFOUND);
    ledger_filter byb = {.state = -1, .batch_id = b.id};
    uint64_t counts[LEDGER_STATE__COUNT];
    cr_assert_eq(ledger_claims_count(f.l, &byb, counts, &err), CH_OK);
    cr_expect_eq(counts[LEDGER_READY], 2);
    lclose(&f);
}

Test(ledger, unknown_backend_is_a_configuration_error)
{
    ledger *l;
    ch_error err;
    cr_expect_eq(ledger_open(&l, "postgresql", "X_DSN", &err), CH_ERR_CONFIG);
    cr_expect_eq(ledger_open(&l, "oracle", "x", &err), CH_ERR_CONFIG);
}
