/*
 * test_operators.c - the operator's view: scopes enforced by the ledger
 * (an operator of one practice gets nothing of another from claims, rejects,
 * status, replay, correct and void), replay with its audit trail, replacement
 * and void claims with REF*F8 in the next 837, the status screen.
 *
 * The commands run through the binary ($CH_BIN, see cli_helpers.h) against a
 * throw-away home whose configuration has three operators:
 *   admin: all     alice: [riverside]     bob: [lakeside]
 * States the engine cannot reach yet by itself (sent, accepted, rejected,
 * paid: sending and reconciliation are other work) are set through the
 * ledger API, the way those parts will.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_helpers.h"
#include "ledger.h"
#include "tu.h"

typedef struct ofix {
    char dir[256];
    char conf[512];
    char db[512];
    ledger *l;
} ofix;

static void write_conf(ofix *f)
{
    char root[PATH_MAX];
    cr_assert(realpath(tu_root(), root), "CH_ROOT");
    char src[PATH_MAX + 64];
    snprintf(src, sizeof src, "%s/conf/clearinghouse.yaml", root);
    char *shipped = tu_read(src, NULL);
    cr_assert(shipped);
    const char *pr = strstr(shipped, "\npractices:");
    cr_assert(pr, "the shipped configuration lists practices");
    size_t cap = strlen(pr) + 4096;
    char *text = malloc(cap);
    snprintf(text, cap,
             "spool: %s/spool\n"
             "ledger: {backend: sqlite, path: %s/spool/ledger.db}\n"
             "payer_profiles: %s/payer-profiles\n"
             "logging: {level: warning}\n"
             "%s\n"
             "operators:\n"
             "  admin: all\n"
             "  alice: [riverside]\n"
             "  bob: [lakeside]\n",
             f->dir, f->dir, root, pr + 1);
    snprintf(f->conf, sizeof f->conf, "%s/ops.yaml", f->dir);
    tu_write(f->conf, text);
    free(text);
    free(shipped);
}

/* Run a command as operator op (NULL: none given); its exit status. */
static int op_run(ofix *f, char **out, const char *op, const char *args)
{
    if (op)
        return ch_run(out, "%s --config '%s' --operator %s", args, f->conf, op);
    return ch_run(out, "%s --config '%s'", args, f->conf);
}

static void ofix_init(ofix *f)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ch-ops-XXXXXX");
    cr_assert(mkdtemp(f->dir));
    write_conf(f);
    char p[1024];
    snprintf(p, sizeof p, "%s/spool", f->dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/spool/inbound", f->dir);
    mkdir(p, 0700);
    const char *practices[] = {"riverside", "lakeside"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/spool/inbound/%s", f->dir, practices[i]);
        mkdir(p, 0700);
    }
    const char *dir = tu_src("tests/data/encounters/good");
    DIR *d = opendir(dir);
    cr_assert(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char from[4096], to[4096];
        snprintf(from, sizeof from, "%s/%s", dir, de->d_name);
        snprintf(to, sizeof to, "%s/spool/inbound/%s/%s", f->dir,
                 !strncmp(de->d_name, "lakeside", 8) ? "lakeside" : "riverside", de->d_name);
        tu_copy(from, to);
    }
    closedir(d);
    char *out;
    cr_assert_eq(op_run(f, &out, "admin", "intake"), 0, "%s", out);
    free(out);
    cr_assert_eq(op_run(f, &out, "admin", "batch"), 0, "%s", out);
    free(out);
    snprintf(f->db, sizeof f->db, "%s/spool/ledger.db", f->dir);
    ch_error err;
    cr_assert_eq(ledger_open(&f->l, "sqlite", f->db, &err), CH_OK, "%s", err.msg);
}

static void ofix_fini(ofix *f)
{
    ledger_close(f->l);
    tu_rmtree(f->dir);
}

/* --- the ledger side: what sending and reconciliation will do ------------------------ */

typedef struct ids {
    int64_t v[32];
    int n;
} ids;

static int grab_id(void *c, const ledger_claim *cl)
{
    ids *i = c;
    if (i->n < 32)
        i->v[i->n++] = cl->id;
    return 0;
}

static ids claims_of(ofix *f, const char *practice, const char *payer)
{
    ids i = {{0}, 0};
    ledger_filter fl = {.practice = practice, .payer = payer, .state = -1};
    ch_error err;
    cr_assert_eq(ledger_claims_each(f->l, &fl, grab_id, &i, &err), CH_OK);
    cr_assert_gt(i.n, 0, "claims of %s / %s", practice, payer);
    return i;
}

static int copy_claim(void *c, const ledger_claim *cl)
{
    *(ledger_claim *)c = *cl;
    return 1;
}

static ledger_claim claim(ofix *f, int64_t id)
{
    ledger_claim c;
    ch_error err;
    cr_assert_eq(ledger_claim_get(f->l, NULL, id, 0, copy_claim, &c, &err), CH_OK, "%s", err.msg);
    return c;
}

static uint64_t nclaims(ofix *f)
{
    uint64_t counts[LEDGER_STATE__COUNT], n = 0;
    ledger_filter fl = {.state = -1};
    ch_error err;
    cr_assert_eq(ledger_claims_count(f->l, &fl, counts, &err), CH_OK);
    for (int s = 0; s < LEDGER_STATE__COUNT; s++)
        n += counts[s];
    return n;
}

static int send_one(void *c, const ledger_batch *b)
{
    ledger *l = c;
    ch_error err;
    cr_assert_eq(ledger_batch_move_claims(l, b->id, LEDGER_READY, LEDGER_SENDING, 1, "test", "sending", NULL, &err),
                 CH_OK, "%s", err.msg);
    cr_assert_eq(ledger_batch_move_claims(l, b->id, LEDGER_SENDING, LEDGER_SENT, 1, "test", "sent", NULL, &err),
                 CH_OK, "%s", err.msg);
    return 0;
}

/* every ready batch goes out (claims ready -> sending -> sent, batch sent) */
static void send_all(ofix *f)
{
    ch_error err;
    int64_t bid[64];
    int n = 0;
    cr_assert_eq(ledger_batches_each(f->l, "ready", send_one, f->l, &err), CH_OK);
    for (int64_t id = 1; id < 64; id++) {
        ledger_batch b;
        if (ledger_batch_get(f->l, id, &b, NULL) != CH_OK)
            break;
        if (!strcmp(b.state, "ready"))
            bid[n++] = id;
    }
    for (int i = 0; i < n; i++) {
        cr_assert_eq(ledger_batch_update(f->l, bid[i], "sending", 0, NULL, NULL, &err), CH_OK);
        cr_assert_eq(ledger_batch_update(f->l, bid[i], "sent", 0, NULL, NULL, &err), CH_OK);
    }
}

static void move(ofix *f, int64_t id, ledger_state to, const char *why)
{
    ch_error err;
    cr_assert_eq(ledger_claim_move(f->l, id, to, -1, "test", why, &err), CH_OK, "%s", err.msg);
}

static void accept(ofix *f, int64_t id, const char *number)
{
    ch_error err;
    move(f, id, LEDGER_ACCEPTED, "277CA A2");
    cr_assert_eq(ledger_claim_set_payer_number(f->l, id, number, "test", &err), CH_OK, "%s", err.msg);
}

typedef struct ev_find {
    const char *needle;
    int found;
} ev_find;

static int on_ev(void *c, const ledger_event *e)
{
    ev_find *x = c;
    if (strstr(e->why, x->needle))
        x->found = 1;
    return 0;
}

static int has_event(ofix *f, int64_t id, const char *needle)
{
    ev_find x = {needle, 0};
    ch_error err;
    cr_assert_eq(ledger_claim_events(f->l, id, on_ev, &x, &err), CH_OK);
    return x.found;
}

/* The text of the outbound 837 holding the patient control number pcn as a
 * claim (malloc'd), or NULL. */
static char *outbound_with(ofix *f, const char *pcn)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "grep -rlF 'CLM*%s*' '%s/spool/outbound' | head -1", pcn, f->dir);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    char path[1024] = "";
    if (!fgets(path, sizeof path, p))
        path[0] = '\0';
    pclose(p);
    path[strcspn(path, "\n")] = '\0';
    return path[0] ? tu_read(path, NULL) : NULL;
}

/* The segment starting at the CLM of pcn, up to the next CLM (or the end). */
static char *claim_segments(char *x12, const char *pcn)
{
    char key[64];
    snprintf(key, sizeof key, "CLM*%s*", pcn);
    char *s = strstr(x12, key);
    cr_assert(s, "CLM of %s", pcn);
    char *next = strstr(s + 4, "CLM*");
    if (next)
        *next = '\0';
    return s;
}

/* --- isolation ------------------------------------------------------------------------ */

#define NO_LAKESIDE(out)                                                                               \
    do {                                                                                               \
        cr_expect_null(strstr(out, "lakeside"), "lakeside leaked: %s", out);                           \
        cr_expect_null(strstr(out, "LCH"), "a lakeside claim number leaked: %s", out);                 \
        cr_expect_null(strstr(out, "LAKESIDE-ONLY"), "a lakeside reason leaked: %s", out);             \
    } while (0)

Test(operators, one_practice_never_sees_another, .timeout = 120)
{
    ofix f;
    ofix_init(&f);
    send_all(&f);
    ids rv = claims_of(&f, "riverside", "medicare-mac");
    ids lk_demo = claims_of(&f, "lakeside", "demo");
    ids lk_mcr = claims_of(&f, "lakeside", "medicare-mac");
    move(&f, rv.v[0], LEDGER_REJECTED, "A7 riverside reason: subscriber id");
    move(&f, lk_demo.v[0], LEDGER_REJECTED, "LAKESIDE-ONLY reason");
    accept(&f, lk_mcr.v[0], "LAKESIDEPAYER9");
    ledger_claim lrej = claim(&f, lk_demo.v[0]);
    uint64_t before = nclaims(&f);
    char *out, args[256];

    /* claims */
    cr_assert_eq(op_run(&f, &out, "alice", "claims"), 0, "%s", out);
    cr_expect(strstr(out, "RFM"), "%s", out);
    NO_LAKESIDE(out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "alice", "claims --json --events"), 0, "%s", out);
    NO_LAKESIDE(out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "alice", "claims --practice lakeside"), 2, "%s", out);
    cr_expect(strstr(out, "not permitted"), "%s", out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "alice", "claims --pcn LCH00000008"), 0, "%s", out);
    NO_LAKESIDE(out);
    free(out);

    /* rejects */
    cr_assert_eq(op_run(&f, &out, "alice", "rejects"), 0, "%s", out);
    cr_expect(strstr(out, "A7 riverside reason"), "%s", out);
    NO_LAKESIDE(out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "alice", "rejects --json"), 0, "%s", out);
    NO_LAKESIDE(out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "alice", "rejects --practice lakeside"), 2, "%s", out);
    cr_expect(strstr(out, "not permitted"), "%s", out);
    free(out);
    /* bob sees his own reject and not alice's */
    cr_assert_eq(op_run(&f, &out, "bob", "rejects"), 0, "%s", out);
    cr_expect(strstr(out, "LAKESIDE-ONLY reason"), "%s", out);
    cr_expect_null(strstr(out, "riverside"), "%s", out);
    free(out);

    /* status: not even counts */
    cr_assert_eq(op_run(&f, &out, "alice", "status"), 0, "%s", out);
    NO_LAKESIDE(out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "alice", "status --json"), 0, "%s", out);
    NO_LAKESIDE(out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "alice", "status --practice lakeside"), 2, "%s", out);
    cr_expect(strstr(out, "not permitted"), "%s", out);
    free(out);

    /* replay, correct, void of a lakeside claim or batch: as if it did not exist */
    snprintf(args, sizeof args, "replay --claim %lld", (long long)lrej.id);
    cr_assert_eq(op_run(&f, &out, "alice", args), 2, "%s", out);
    NO_LAKESIDE(out);
    free(out);
    snprintf(args, sizeof args, "replay --batch %lld", (long long)lrej.batch_id);
    cr_assert_eq(op_run(&f, &out, "alice", args), 2, "%s", out);
    NO_LAKESIDE(out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "alice", "replay --practice lakeside --claim 1"), 2, "%s", out);
    cr_expect(strstr(out, "not permitted"), "%s", out);
    free(out);
    snprintf(args, sizeof args, "correct --claim %lld", (long long)lk_mcr.v[0]);
    cr_assert_eq(op_run(&f, &out, "alice", args), 2, "%s", out);
    NO_LAKESIDE(out);
    free(out);
    snprintf(args, sizeof args, "void --claim %lld", (long long)lk_mcr.v[0]);
    cr_assert_eq(op_run(&f, &out, "alice", args), 2, "%s", out);
    NO_LAKESIDE(out);
    free(out);
    cr_assert_eq(claim(&f, lrej.id).state, LEDGER_REJECTED, "the lakeside claim was not touched");
    cr_assert_eq(claim(&f, lk_mcr.v[0]).state, LEDGER_ACCEPTED);
    cr_assert_eq(nclaims(&f), before, "no claim was made");

    /* batch and intake as alice leave lakeside alone */
    cr_assert_eq(op_run(&f, &out, "alice", "batch --practice lakeside"), 2, "%s", out);
    cr_expect(strstr(out, "not permitted"), "%s", out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "alice", "intake --practice lakeside"), 2, "%s", out);
    free(out);

    /* an operator not configured gets nothing; CH_OPERATOR names the operator */
    cr_assert_eq(op_run(&f, &out, "eve", "claims"), 0, "%s", out);
    cr_expect_null(strstr(out, "RFM"), "%s", out);
    NO_LAKESIDE(out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "eve", "status"), 0, "%s", out);
    cr_expect_null(strstr(out, "riverside"), "%s", out);
    NO_LAKESIDE(out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "eve", "rejects --practice riverside"), 2, "%s", out);
    free(out);
    setenv("CH_OPERATOR", "bob", 1);
    cr_assert_eq(op_run(&f, &out, NULL, "claims"), 0, "%s", out);
    cr_expect(strstr(out, "LCH"), "%s", out);
    cr_expect_null(strstr(out, "RFM"), "%s", out);
    free(out);
    unsetenv("CH_OPERATOR");
    ofix_fini(&f);
}

/* --- replay ------------------------------------------------------------------------------ */

Test(operators, replay_requeues_with_an_audit_trail, .timeout = 120)
{
    ofix f;
    ofix_init(&f);
    send_all(&f);
    ids rv = claims_of(&f, "riverside", "medicare-mac");
    cr_assert_geq(rv.n, 3);
    ledger_claim c0 = claim(&f, rv.v[0]);
    int64_t batch = c0.batch_id;
    cr_assert_gt(batch, 0);
    move(&f, rv.v[0], LEDGER_REJECTED, "A7 subscriber id not found");
    char *out, args[256];

    /* a claim */
    snprintf(args, sizeof args, "replay --claim %lld", (long long)rv.v[0]);
    cr_assert_eq(op_run(&f, &out, "alice", args), 0, "%s", out);
    free(out);
    ledger_claim c = claim(&f, rv.v[0]);
    cr_assert_eq(c.state, LEDGER_QUEUED);
    cr_assert_eq(c.batch_id, 0);
    char want[256];
    snprintf(want, sizeof want, "replay of claim %lld from batch %lld by operator alice", (long long)rv.v[0],
             (long long)batch);
    cr_assert(has_event(&f, rv.v[0], want), "the replay is in the claim's history");
    /* again: already queued, nothing changes */
    cr_assert_eq(op_run(&f, &out, "alice", args), 0, "%s", out);
    cr_expect(strstr(out, "queued already"), "%s", out);
    free(out);
    /* an accepted claim is not replayed */
    accept(&f, rv.v[1], "MCR0001");
    snprintf(args, sizeof args, "replay --claim %lld", (long long)rv.v[1]);
    cr_assert_eq(op_run(&f, &out, "alice", args), 2, "%s", out);
    cr_expect(strstr(out, "correct"), "%s", out);
    free(out);

    /* the next batch: a new file, new control numbers */
    cr_assert_eq(op_run(&f, &out, "alice", "batch"), 0, "%s", out);
    free(out);
    c = claim(&f, rv.v[0]);
    cr_assert_eq(c.state, LEDGER_READY);
    cr_assert_neq(c.batch_id, batch);
    ledger_batch b1, b2;
    ch_error err;
    cr_assert_eq(ledger_batch_get(f.l, batch, &b1, &err), CH_OK);
    cr_assert_eq(ledger_batch_get(f.l, c.batch_id, &b2, &err), CH_OK);
    cr_assert_neq(b1.isa13, b2.isa13);
    cr_assert_neq(b1.gs06, b2.gs06);

    /* a batch: its rejected and failed claims */
    move(&f, rv.v[2], LEDGER_REJECTED, "A7 again");
    move(&f, rv.v[0], LEDGER_FAILED, "the payer's edits");
    snprintf(args, sizeof args, "replay --batch %lld --json", (long long)batch);
    cr_assert_eq(op_run(&f, &out, "alice", args), 0, "%s", out);
    cr_expect(strstr(out, "\"replayed\""), "%s", out);
    free(out);
    cr_assert_eq(claim(&f, rv.v[2]).state, LEDGER_QUEUED, "rejected claim of the batch replayed");
    cr_assert_eq(claim(&f, rv.v[1]).state, LEDGER_ACCEPTED, "accepted claim left alone");
    cr_assert_eq(claim(&f, rv.v[0]).state, LEDGER_FAILED, "a claim now in another batch is that batch's");
    snprintf(want, sizeof want, "replay of claim %lld from batch %lld by operator alice", (long long)rv.v[2],
             (long long)batch);
    cr_assert(has_event(&f, rv.v[2], want));
    snprintf(args, sizeof args, "replay --batch %lld", (long long)c.batch_id);
    cr_assert_eq(op_run(&f, &out, "alice", args), 0, "%s", out);
    free(out);
    cr_assert_eq(claim(&f, rv.v[0]).state, LEDGER_QUEUED);
    cr_assert_eq(op_run(&f, &out, "alice", "replay"), 2, "%s", out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "alice", "replay --claim 99999"), 2, "%s", out);
    free(out);
    ofix_fini(&f);
}

/* --- correct and void ------------------------------------------------------------------ */

static int64_t newest_claim(ofix *f)
{
    ids all = {{0}, 0};
    ledger_filter fl = {.state = -1};
    ch_error err;
    cr_assert_eq(ledger_claims_each(f->l, &fl, grab_id, &all, &err), CH_OK);
    return all.v[all.n - 1];
}

Test(operators, correct_and_void_send_frequency_7_and_8_with_ref_f8, .timeout = 120)
{
    ofix f;
    ofix_init(&f);
    send_all(&f);
    int64_t com = claims_of(&f, "riverside", "commercial").v[0];
    int64_t mcd = claims_of(&f, "riverside", "medicaid").v[0];
    int64_t lk = claims_of(&f, "lakeside", "demo").v[0];
    char *out, args[256];

    /* no payer claim number yet: refused, with why */
    snprintf(args, sizeof args, "correct --claim %lld", (long long)com);
    cr_assert_eq(op_run(&f, &out, "alice", args), 2, "%s", out);
    cr_expect(strstr(out, "no payer claim number"), "%s", out);
    free(out);

    accept(&f, com, "PCN7COMMERCIAL");
    accept(&f, mcd, "PCN8MEDICAID");
    move(&f, mcd, LEDGER_PAID, "835 paid");
    accept(&f, lk, "LCH7HOSPITAL");

    uint64_t before = nclaims(&f);
    cr_assert_eq(op_run(&f, &out, "alice", args), 0, "%s", out);
    free(out);
    int64_t rep = newest_claim(&f);
    ledger_claim r = claim(&f, rep);
    cr_assert_eq(nclaims(&f), before + 1);
    cr_assert_eq(r.frequency, 7);
    cr_assert_eq(r.replaces, com);
    cr_assert_eq(r.state, LEDGER_QUEUED);
    /* accepted cannot go to void in the ledger: the original keeps its state, with a note */
    cr_assert_eq(claim(&f, com).state, LEDGER_ACCEPTED);
    cr_assert(has_event(&f, com, "replaced by claim"));
    /* twice: nothing new */
    cr_assert_eq(op_run(&f, &out, "alice", args), 2, "%s", out);
    cr_expect(strstr(out, "was replaced by claim"), "%s", out);
    free(out);
    cr_assert_eq(nclaims(&f), before + 1);

    snprintf(args, sizeof args, "void --claim %lld --json", (long long)mcd);
    cr_assert_eq(op_run(&f, &out, "alice", args), 0, "%s", out);
    cr_expect(strstr(out, "\"frequency\":8"), "%s", out);
    free(out);
    int64_t vd = newest_claim(&f);
    ledger_claim v = claim(&f, vd);
    cr_assert_eq(v.frequency, 8);
    cr_assert_eq(v.replaces, mcd);
    cr_assert_eq(claim(&f, mcd).state, LEDGER_VOID, "a paid claim that is voided goes to void");
    cr_assert(has_event(&f, mcd, "voided by claim"));

    /* an institutional claim: bob's; the type of bill ends in 7 */
    snprintf(args, sizeof args, "correct --claim %lld", (long long)lk);
    cr_assert_eq(op_run(&f, &out, "bob", args), 0, "%s", out);
    free(out);
    int64_t lrep = newest_claim(&f);
    cr_assert_eq(claim(&f, lrep).frequency, 7);

    /* the next batch carries them: CLM05-3 7 / 8 and REF*F8 */
    cr_assert_eq(op_run(&f, &out, "admin", "batch"), 0, "%s", out);
    free(out);
    cr_assert_eq(claim(&f, rep).state, LEDGER_READY);
    cr_assert_eq(claim(&f, vd).state, LEDGER_READY);
    cr_assert_eq(claim(&f, lrep).state, LEDGER_READY);

    char *x = outbound_with(&f, r.pcn);
    cr_assert(x, "an 837 holds %s", r.pcn);
    char *seg = claim_segments(x, r.pcn);
    cr_expect(strstr(seg, ":B:7~") || strstr(seg, ":B:7*"), "frequency 7: %.200s", seg);
    cr_expect(strstr(seg, "REF*F8*PCN7COMMERCIAL~"), "REF*F8: %.400s", seg);
    free(x);
    x = outbound_with(&f, v.pcn);
    cr_assert(x, "an 837 holds %s", v.pcn);
    seg = claim_segments(x, v.pcn);
    cr_expect(strstr(seg, ":B:8~") || strstr(seg, ":B:8*"), "frequency 8: %.200s", seg);
    cr_expect(strstr(seg, "REF*F8*PCN8MEDICAID~"), "REF*F8: %.400s", seg);
    free(x);
    ledger_claim lr = claim(&f, lrep);
    x = outbound_with(&f, lr.pcn);
    cr_assert(x, "an 837I holds %s", lr.pcn);
    seg = claim_segments(x, lr.pcn);
    cr_expect(strstr(seg, ":A:7*"), "837I frequency 7: %.200s", seg);
    cr_expect(strstr(seg, "REF*F8*LCH7HOSPITAL~"), "REF*F8: %.400s", seg);
    free(x);

    /* a void cannot be corrected; a voided claim cannot be voided again */
    snprintf(args, sizeof args, "correct --claim %lld", (long long)mcd);
    cr_assert_eq(op_run(&f, &out, "alice", args), 2, "%s", out);
    free(out);
    ofix_fini(&f);
}

/* --- status ------------------------------------------------------------------------------ */

Test(operators, status_screen, .timeout = 120)
{
    ofix f;
    ofix_init(&f);
    char *out;
    /* before anything is sent: ready batches, no exchange yet */
    cr_assert_eq(op_run(&f, &out, "alice", "status"), 0, "%s", out);
    cr_expect(strstr(out, "operator alice: riverside"), "%s", out);
    cr_expect(strstr(out, "riverside    medicare-mac   ready 3"), "%s", out);
    cr_expect(strstr(out, "4 ready, 0 sending, 0 failed"), "%s", out);
    cr_expect(strstr(out, "nothing sent yet"), "%s", out);
    cr_expect(strstr(out, "money posted today: 0"), "%s", out); /* nothing posted yet today */
    free(out);

    send_all(&f);
    ids rv = claims_of(&f, "riverside", "medicare-mac");
    move(&f, rv.v[0], LEDGER_REJECTED, "A7");
    cr_assert_eq(op_run(&f, &out, "alice", "status --practice riverside"), 0, "%s", out);
    cr_expect(strstr(out, "riverside    medicare-mac   sent 2 rejected 1") ||
                  strstr(out, "riverside    medicare-mac   rejected 1 sent 2"),
              "%s", out);
    cr_expect(strstr(out, "0 ready, 0 sending, 0 failed"), "%s", out);
    cr_expect(strstr(out, "  sent batch"), "%s", out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "admin", "status --json"), 0, "%s", out);
    cr_expect(strstr(out, "\"operator\":\"admin\""), "%s", out);
    cr_expect(strstr(out, "\"practices\":[\"riverside\",\"lakeside\"]"), "%s", out);
    cr_expect(strstr(out, "\"claims_total\":9"), "%s", out);
    cr_expect(strstr(out, "\"posted_today\":0.00"), "%s", out);
    cr_expect(strstr(out, "\"what\":\"sent\""), "%s", out);
    free(out);
    ofix_fini(&f);
}

/* --- configuration --------------------------------------------------------------------- */

Test(operators, operators_config_is_checked)
{
    ofix f;
    memset(&f, 0, sizeof f);
    snprintf(f.dir, sizeof f.dir, "/tmp/ch-ops-XXXXXX");
    cr_assert(mkdtemp(f.dir));
    write_conf(&f);
    /* a practice that is not configured */
    char *t = tu_read(f.conf, NULL);
    char *p = strstr(t, "\n  bob: [lakeside]");
    cr_assert(p);
    memcpy(p, "\n  bob: [lakeshor]", 18);
    tu_write(f.conf, t);
    free(t);
    char *out;
    cr_assert_eq(op_run(&f, &out, "bob", "status"), 2, "%s", out);
    cr_expect(strstr(out, "'lakeshor' is not a configured practice"), "%s", out);
    free(out);
    tu_rmtree(f.dir);
}

Test(operators, without_an_operators_section_everyone_sees_everything, .timeout = 120)
{
    ofix f;
    ofix_init(&f);
    /* the same home, the section taken out */
    char *t = tu_read(f.conf, NULL);
    char *p = strstr(t, "\noperators:\n");
    cr_assert(p);
    p[1] = '\0';
    tu_write(f.conf, t);
    free(t);
    char *out;
    cr_assert_eq(op_run(&f, &out, "eve", "claims"), 0, "%s", out);
    cr_expect(strstr(out, "RFM") && strstr(out, "LCH"), "%s", out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "eve", "status --practice lakeside --json"), 0, "%s", out);
    cr_expect(strstr(out, "\"practices\":[\"lakeside\"]"), "%s", out);
    cr_expect_null(strstr(out, "riverside"), "--practice narrows: %s", out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "eve", "rejects --practice nowhere"), 2, "%s", out);
    cr_expect(strstr(out, "not configured"), "%s", out);
    free(out);
    ofix_fini(&f);
}

Test(operators, rejects_lists_failed_batches_with_reasons_and_replay_takes_them, .timeout = 120)
{
    ofix f;
    ofix_init(&f);
    ids rv = claims_of(&f, "riverside", "medicare-mac");
    ledger_claim c = claim(&f, rv.v[0]);
    ch_error err;
    /* validation set the file aside: its claims failed, the batch discarded */
    cr_assert_eq(ledger_batch_move_claims(f.l, c.batch_id, LEDGER_READY, LEDGER_FAILED, 1, "batch",
                                          "BHT03 duplicates an earlier file", NULL, &err),
                 CH_OK, "%s", err.msg);
    cr_assert_eq(ledger_batch_update(f.l, c.batch_id, "discarded", 0, NULL, "SE01 segment count is 40, not 41", &err),
                 CH_OK);
    char *out, args[128];
    cr_assert_eq(op_run(&f, &out, "alice", "rejects"), 0, "%s", out);
    cr_expect(strstr(out, "reason: BHT03 duplicates an earlier file"), "%s", out);
    cr_expect(strstr(out, "reason: SE01 segment count is 40, not 41"), "%s", out);
    cr_expect(strstr(out, "3 claims and 1 batch to look at"), "%s", out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "alice", "status"), 0, "%s", out);
    cr_expect(strstr(out, "3 ready, 0 sending, 1 failed"), "%s", out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "bob", "rejects --json"), 0, "%s", out);
    cr_expect(strstr(out, "{\"operator\":\"bob\",\"claims\":[],\"batches\":[]}"), "%s", out);
    free(out);
    snprintf(args, sizeof args, "replay --batch %lld", (long long)c.batch_id);
    cr_assert_eq(op_run(&f, &out, "alice", args), 0, "%s", out);
    cr_expect(strstr(out, "3 claims replayed"), "%s", out);
    free(out);
    for (int i = 0; i < rv.n; i++)
        cr_assert_eq(claim(&f, rv.v[i]).state, LEDGER_QUEUED);
    cr_assert_eq(op_run(&f, &out, "alice", "rejects"), 0, "%s", out);
    cr_expect(strstr(out, "0 claims and 0 batches to look at"), "%s", out);
    free(out);
    ofix_fini(&f);
}

Test(operators, rejects_lists_a_batch_a_999_rejected_with_its_reason, .timeout = 120)
{
    ofix f;
    ofix_init(&f);
    send_all(&f);
    ids rv = claims_of(&f, "riverside", "medicare-mac");
    ledger_claim c = claim(&f, rv.v[0]);
    ch_error err;
    /* the payer's 999 rejected the batch's transaction set (what reconcile records) */
    const char *why = "999 rejected: IK501 R (Rejected); claim RFM00000001: SV101-2 ...: IK403 7 (Invalid Code Value)";
    ledger_ack a = {.batch_id = c.batch_id, .file = "x.999", .sha256 = "ab", .gs06 = "7", .st02 = "0001",
                    .accepted = 0, .status = "R", .reason = why, .claims = (unsigned)rv.n};
    cr_assert_eq(ledger_ack_add(f.l, &a, NULL, &err), CH_OK, "%s", err.msg);
    for (int i = 0; i < rv.n; i++)
        move(&f, rv.v[i], LEDGER_REJECTED, why);
    char *out, args[128], want[128], want2[128];
    snprintf(want, sizeof want, "\"batches\":[{\"id\":%lld,", (long long)c.batch_id);
    snprintf(want2, sizeof want2, "\"state\":\"sent\",\"claims\":%d,\"to_replay\":%d", rv.n, rv.n);
    cr_assert_eq(op_run(&f, &out, "alice", "rejects --json"), 0, "%s", out);
    cr_expect(strstr(out, want), "the batch is listed: %s", out);
    cr_expect(strstr(out, want2), "%s", out);
    cr_expect(strstr(out, "\"reason\":\"999 rejected: IK501 R (Rejected); claim RFM00000001"), "%s", out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "bob", "rejects --json"), 0, "%s", out);
    cr_expect(strstr(out, "\"batches\":[]"), "not bob's: %s", out);
    free(out);
    /* replayed: nothing left to replay, off the list */
    snprintf(args, sizeof args, "replay --batch %lld", (long long)c.batch_id);
    cr_assert_eq(op_run(&f, &out, "alice", args), 0, "%s", out);
    free(out);
    cr_assert_eq(op_run(&f, &out, "alice", "rejects"), 0, "%s", out);
    cr_expect(strstr(out, "0 claims and 0 batches to look at"), "%s", out);
    free(out);
    ofix_fini(&f);
}

/* --- the ledger enforces it, whoever calls ---------------------------------------------- */

static int on_row(void *c, const ledger_summary_row *r)
{
    cr_expect_str_eq(r->practice, "riverside");
    (*(uint64_t *)c) += r->count;
    return 0;
}

static int on_b(void *c, const ledger_batch *b)
{
    cr_expect_str_eq(b->practice, "riverside");
    (*(int *)c)++;
    return 0;
}

static int on_x(void *c, const ledger_exchange *x)
{
    cr_expect_str_eq(x->practice, "riverside");
    (*(int *)c)++;
    return 0;
}

Test(operators, ledger_queries_carry_the_scope, .timeout = 120)
{
    ofix f;
    ofix_init(&f);
    ledger_scope s;
    memset(&s, 0, sizeof s);
    ch_error err;
    cr_assert_eq(ledger_scope_add(&s, "riverside", &err), CH_OK);
    uint64_t counts[LEDGER_STATE__COUNT];
    ledger_filter fl = {.state = -1, .scope = &s};
    cr_assert_eq(ledger_claims_count(f.l, &fl, counts, &err), CH_OK);
    cr_expect_eq(counts[LEDGER_READY], 7);
    fl.practice = "lakeside";
    cr_assert_eq(ledger_claims_count(f.l, &fl, counts, &err), CH_OK);
    cr_expect_eq(counts[LEDGER_READY], 0, "a practice filter cannot widen the scope");
    uint64_t n = 0;
    cr_assert_eq(ledger_claims_summary(f.l, &s, NULL, on_row, &n, &err), CH_OK);
    cr_expect_eq(n, 7);
    int nb = 0, nx = 0;
    cr_assert_eq(ledger_batches_scoped(f.l, &s, NULL, 0, on_b, &nb, &err), CH_OK);
    cr_expect_eq(nb, 4);
    cr_assert_eq(ledger_last_exchanges(f.l, &s, NULL, on_x, &nx, &err), CH_OK);
    cr_expect_eq(nx, 4);
    int64_t lk = claims_of(&f, "lakeside", "demo").v[0];
    ledger_claim c;
    cr_expect_eq(ledger_claim_get(f.l, &s, lk, 0, copy_claim, &c, &err), CH_ERR_NOTFOUND);
    cr_expect_eq(ledger_claim_get(f.l, NULL, lk, 0, copy_claim, &c, &err), CH_OK);
    ledger_batch b;
    cr_expect_eq(ledger_batch_get_scoped(f.l, &s, c.batch_id, &b, &err), CH_ERR_NOTFOUND);
    /* nothing at all */
    ledger_scope none;
    memset(&none, 0, sizeof none);
    fl.practice = NULL;
    fl.scope = &none;
    cr_assert_eq(ledger_claims_count(f.l, &fl, counts, &err), CH_OK);
    for (int i = 0; i < LEDGER_STATE__COUNT; i++)
        cr_expect_eq(counts[i], 0);
    int64_t cents = -1;
    int avail = 1;
    cr_assert_eq(ledger_money_posted_today(f.l, &s, NULL, &cents, &avail, &err), CH_OK);
    cr_expect_eq(avail, 1, "claim_payments exists (schema 3): nothing posted yet");
    cr_expect_eq(cents, 0);
    ofix_fini(&f);
}
