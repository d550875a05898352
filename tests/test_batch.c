/*
 * test_batch.c - queued claims to 837P/837I files: the round trip
 * (encounters -> 837 -> validator finds nothing -> the claims read back equal
 * the encounters), payer limits, control numbers, claims that fail without
 * holding up the others, recovery after a crash, and the commands.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "batch_validate.h"
#include "encounter.h"
#include "intake.h"
#include "log.h"
#include "readback_837.h"
#include "tu.h"
#include "x12_envelope.h"
#include "x12_reader.h"
#include "ydoc.h"

#define TODAY "20261123"
#define NOW ((time_t)1795435200) /* 2026-11-23 */

static void drop_good(void)
{
    const char *dir = tu_src("tests/data/encounters/good");
    DIR *d = opendir(dir);
    cr_assert(d);
    struct dirent *de;
    mkdir("spool/inbound/riverside", 0700);
    mkdir("spool/inbound/lakeside", 0700);
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char from[4096], to[1024];
        snprintf(from, sizeof from, "%s/%s", dir, de->d_name);
        snprintf(to, sizeof to, "spool/inbound/%s/%s", !strncmp(de->d_name, "lakeside", 8) ? "lakeside" : "riverside",
                 de->d_name);
        tu_copy(from, to);
    }
    closedir(d);
}

static void intake(tu_env *e)
{
    intake_opts o = {.jobs = 2, .today = TODAY};
    intake_report rep;
    ch_error err;
    cr_assert_eq(intake_run(e->cfg, e->led, &o, &rep, &err), CH_OK, "%s", err.msg);
    cr_assert_eq(rep.files_failed, 0);
}

static batch_report batch(tu_env *e, batch_validate_fn v)
{
    batch_opts o = {.now = NOW, .validate = v};
    batch_report rep;
    ch_error err;
    cr_assert_eq(batch_run(e->cfg, e->led, &o, &rep, &err), CH_OK, "%s", err.msg);
    return rep;
}

/* every file under spool/outbound/ */
static int outbound_files(char files[][1024], int max)
{
    int n = 0;
    DIR *d = opendir("spool/outbound");
    cr_assert(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char sub[512];
        snprintf(sub, sizeof sub, "spool/outbound/%s", de->d_name);
        DIR *s = opendir(sub);
        struct dirent *fe;
        while (s && (fe = readdir(s)))
            if (fe->d_name[0] != '.' && n < max)
                snprintf(files[n++], 1024, "%s/%s", sub, fe->d_name);
        if (s)
            closedir(s);
    }
    closedir(d);
    return n;
}

static uint64_t count_state(tu_env *e, ledger_state s)
{
    uint64_t counts[LEDGER_STATE__COUNT];
    ledger_filter f = {.state = -1};
    ch_error err;
    cr_assert_eq(ledger_claims_count(e->led, &f, counts, &err), CH_OK);
    return counts[s];
}

/* --- the round trip --------------------------------------------------------------- */

typedef struct originals {
    encounter e[32];
    int n;
} originals;

static ch_code keep(void *ctx, const ydoc_node *unit, long index)
{
    (void)index;
    originals *o = ctx;
    encounter_problems *p = calloc(1, sizeof *p);
    cr_assert(o->n < 32);
    encounter_read(&o->e[o->n], unit, p);
    cr_assert_eq(p->n, 0);
    free(p);
    o->n++;
    return CH_OK;
}

/* The encounters as the sample files say them. */
static void read_originals(originals *o)
{
    const char *dir = tu_src("tests/data/encounters/good");
    DIR *d = opendir(dir);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len;
        char *buf = tu_read(path, &len);
        int before = o->n;
        cr_assert_eq(ydoc_each(buf, len, de->d_name, keep, o, NULL), CH_OK);
        for (int i = before; i < o->n; i++)
            if (!o->e[i].practice[0])
                snprintf(o->e[i].practice, sizeof o->e[i].practice, "%s",
                         !strncmp(de->d_name, "lakeside", 8) ? "lakeside" : "riverside");
        free(buf);
    }
    closedir(d);
}

static int grab_claim(void *c, const ledger_claim *cl)
{
    *(ledger_claim *)c = *cl;
    ((ledger_claim *)c)->doc = NULL;
    return 1;
}

typedef struct diags {
    unsigned n;
    char first[512];
} diags;

static void count_diag(void *c, const x12_diag *d)
{
    diags *g = c;
    if (!g->n++)
        x12_diag_format(d, g->first, sizeof g->first, 1);
}

Test(batch, round_trip_encounters_to_837_and_back)
{
    tu_env e;
    tu_env_init(&e);
    drop_good();
    intake(&e);
    batch_report rep = batch(&e, NULL);
    cr_expect_eq(rep.claims, 9);
    cr_expect_eq(rep.claims_failed, 0);
    cr_expect_eq(rep.files, 6, "practice x payer x claim type");
    cr_expect_eq(count_state(&e, LEDGER_READY), 9);
    cr_expect_eq(count_state(&e, LEDGER_QUEUED), 0);

    originals *orig = calloc(1, sizeof *orig);
    read_originals(orig);
    cr_assert_eq(orig->n, 9);
    char files[16][1024];
    int nf = outbound_files(files, 16);
    cr_assert_eq(nf, 6);
    int matched = 0;
    for (int f = 0; f < nf; f++) {
        /* the project's own validator finds nothing at all */
        diags dg = {0, ""};
        batch_validation v;
        ch_error err;
        cr_assert_eq(batch_validate_file(files[f], count_diag, &dg, &v, &err), CH_OK, "%s", err.msg);
        cr_expect_eq(v.errors + v.warnings, 0, "%s: %s", files[f], dg.first);

        rb_claim *cl;
        size_t n;
        char why[512];
        cr_assert_eq(rb_read_837(e.cfg, files[f], &cl, &n, why, sizeof why), 0, "%s", why);
        for (size_t i = 0; i < n; i++) {
            ledger_claim lc;
            memset(&lc, 0, sizeof lc);
            ledger_filter lf = {.state = -1, .pcn = cl[i].pcn};
            cr_assert_eq(ledger_claims_each(e.led, &lf, grab_claim, &lc, &err), CH_OK);
            cr_assert_str_eq(lc.pcn, cl[i].pcn, "CLM01 %s is a claim of the ledger", cl[i].pcn);
            encounter *back = &cl[i].e;
            snprintf(back->encounter_id, sizeof back->encounter_id, "%s", lc.encounter_id);
            encounter *o = NULL;
            for (int k = 0; k < orig->n; k++)
                if (!strcmp(orig->e[k].encounter_id, lc.encounter_id))
                    o = &orig->e[k];
            cr_assert(o, "encounter %s", lc.encounter_id);
            /* what an 837 does not repeat: the stated total (CLM02 is the sum),
             * a line's place of service equal to the claim's */
            back->stated_total = o->stated_total;
            for (unsigned l = 0; l < o->nlines; l++)
                if (!strcmp(o->lines[l].place_of_service, o->place_of_service))
                    o->lines[l].place_of_service[0] = '\0';
            char diff[128];
            cr_expect(encounter_equal(o, back, diff, sizeof diff), "%s (%s): differs at %s", lc.encounter_id,
                      files[f], diff);
            cr_expect_eq(back->total_charge, lc.total_cents);
            matched++;
        }
        rb_free(cl, n);
    }
    cr_expect_eq(matched, 9, "every claim read back");
    for (int k = 0; k < orig->n; k++)
        encounter_clear(&orig->e[k]);
    free(orig);
    tu_env_fini(&e);
}

/* --- limits and control numbers ------------------------------------------------------ */

static void write_encounter(int i, const char *payer)
{
    char path[256], text[2048];
    snprintf(path, sizeof path, "spool/inbound/riverside/gen-%03d.yaml", i);
    snprintf(text, sizeof text,
             "encounter_id: GEN-%03d\npayer: %s\nclaim_type: professional\nplace_of_service: '11'\n"
             "subscriber: {member_id: M%05d, last_name: TEST, first_name: PAT%d, birth_date: 1970-01-%02d, sex: F,\n"
             "  address: {line1: %d MAIN ST, city: SPRINGFIELD, state: IL, zip: '62701'}}\n"
             "diagnoses: [I10]\n"
             "lines:\n  - {procedure: '99213', charge: '%d.%02d', date: 2026-11-02}\n"
             "  - {procedure: '36415', charge: '10', date: 2026-11-02}\n",
             i, payer, i, i, 1 + i % 28, i, 50 + i, i % 100);
    mkdir("spool/inbound/riverside", 0700);
    tu_write(path, text);
}

typedef struct env_seen {
    char isa13[32][16];
    int nisa;
    char st02[64][16];
    int nst;
} env_seen;

static void seen_isa(void *c, const x12_isa_info *i)
{
    env_seen *s = c;
    snprintf(s->isa13[s->nisa++], 16, "%s", i->control);
}

static void seen_st(void *c, const x12_gs_info *g, const x12_st_info *t)
{
    (void)g;
    env_seen *s = c;
    snprintf(s->st02[s->nst++], 16, "%s", t->control);
}

static void scan_envelopes(const char *path, env_seen *s)
{
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    x12_reader *r;
    ch_error err;
    cr_assert_eq(x12_open_fd(&r, fd, path, NULL, &err), CH_OK);
    x12_env_events ev = {seen_isa, NULL, NULL, seen_st, NULL, NULL, s};
    x12_env *env = x12_env_new(path, &ev, NULL, NULL);
    x12_segment g;
    while (x12_next(r, &g) == X12_SEGMENT)
        x12_env_feed(env, &g);
    x12_env_finish(env, NULL);
    x12_env_free(env);
    x12_close(r);
    close(fd);
}

static void set_demo_limits(const char *per_st, const char *per_file)
{
    char *t = tu_read("payer-profiles/demo.yaml", NULL);
    cr_assert(t);
    char *a = strstr(t, "claims_per_transaction: 5000");
    char *b = strstr(t, "claims_per_file: 10000");
    cr_assert(a && b);
    char out[8192];
    snprintf(out, sizeof out, "%.*sclaims_per_transaction: %s%.*sclaims_per_file: %s%s", (int)(a - t), t, per_st,
             (int)(b - (a + 28)), a + 28, per_file, b + 22);
    tu_write("payer-profiles/demo.yaml", out);
    free(t);
}

Test(batch, payer_limits_split_files_and_transaction_sets)
{
    tu_env e;
    tu_env_init(&e);
    set_demo_limits("2", "3");
    tu_env_reload(&e);
    for (int i = 1; i <= 7; i++)
        write_encounter(i, "demo");
    intake(&e);
    batch_report rep = batch(&e, NULL);
    cr_expect_eq(rep.files, 3, "3 + 3 + 1 claims");
    cr_expect_eq(rep.transactions, 5, "2 + 2 + 1 transaction sets");
    cr_expect_eq(rep.claims, 7);
    cr_expect_eq(tu_count("spool/outbound/demo", ".x12"), 3);
    /* a second run, later: numbers go on, never repeat */
    for (int i = 8; i <= 9; i++)
        write_encounter(i, "demo");
    intake(&e);
    rep = batch(&e, NULL);
    cr_expect_eq(rep.files, 1);
    env_seen s;
    memset(&s, 0, sizeof s);
    char files[16][1024];
    int nf = outbound_files(files, 16);
    cr_assert_eq(nf, 4);
    for (int f = 0; f < nf; f++) {
        scan_envelopes(files[f], &s);
        batch_validation v;
        ch_error err;
        cr_assert_eq(batch_validate_file(files[f], NULL, NULL, &v, &err), CH_OK);
        cr_expect_eq(v.errors, 0, "%s", files[f]);
    }
    cr_assert_eq(s.nisa, 4);
    cr_assert_eq(s.nst, 6);
    for (int i = 0; i < s.nisa; i++)
        for (int k = i + 1; k < s.nisa; k++)
            cr_expect_str_neq(s.isa13[i], s.isa13[k], "ISA13 used twice");
    for (int i = 0; i < s.nst; i++)
        for (int k = i + 1; k < s.nst; k++)
            cr_expect_str_neq(s.st02[i], s.st02[k], "ST02 used twice");
    tu_env_fini(&e);
}

/* --- claims that fail do not hold up the others --------------------------------------- */

typedef struct fails {
    int n;
    char why[8][512];
} fails;

static void on_failed(void *c, const batch_claim_failure *f)
{
    fails *x = c;
    if (x->n < 8)
        snprintf(x->why[x->n], sizeof x->why[0], "%s: %s", f->pcn, f->why);
    x->n++;
}

Test(batch, payer_edits_that_changed_send_claims_to_the_worklist)
{
    tu_env e;
    tu_env_init(&e);
    drop_good();
    intake(&e);
    /* the demo payer now takes one line per claim: the office visit (2 lines)
     * fails, the replacement (1 line) goes out */
    char *t = tu_read("payer-profiles/demo.yaml", NULL);
    char *v = strstr(t, "value: 50");
    cr_assert(v);
    memcpy(v, "value: 1 ", 9);
    tu_write("payer-profiles/demo.yaml", t);
    free(t);
    tu_env_reload(&e);
    fails f = {0};
    batch_opts o = {.now = NOW, .on_failed = on_failed, .ctx = &f};
    batch_report rep;
    ch_error err;
    cr_assert_eq(batch_run(e.cfg, e.led, &o, &rep, &err), CH_OK, "%s", err.msg);
    cr_expect_eq(rep.claims_failed, 1);
    cr_expect_eq(rep.claims, 8);
    cr_expect_eq(f.n, 1);
    cr_expect(strstr(f.why[0], "payer edits: lines: 2 service lines; this payer takes at most 1"), "%s", f.why[0]);
    cr_expect_eq(count_state(&e, LEDGER_FAILED), 1);
    cr_expect_eq(count_state(&e, LEDGER_READY), 8);
    tu_env_fini(&e);
}

Test(batch, a_claim_that_cannot_be_written_fails_alone)
{
    tu_env e;
    tu_env_init(&e);
    drop_good();
    write_encounter(1, "demo");
    char *t = tu_read("spool/inbound/riverside/gen-001.yaml", NULL);
    char *n = strstr(t, "last_name: TEST");
    cr_assert(n);
    memcpy(n + 11, "O'BR", 4);
    tu_write("spool/inbound/riverside/gen-001.yaml", t);
    free(t);
    intake(&e);
    /* the demo payer's files now end segments with an apostrophe (as some
     * do): O'BR cannot be written any more, the others can */
    t = tu_read("payer-profiles/demo.yaml", NULL);
    char *c = strstr(t, "segment: \"~\"");
    cr_assert(c);
    memcpy(c, "segment: \"'\"", 12);
    tu_write("payer-profiles/demo.yaml", t);
    free(t);
    tu_env_reload(&e);
    fails f = {0};
    batch_opts o = {.now = NOW, .on_failed = on_failed, .ctx = &f};
    batch_report rep;
    ch_error err;
    cr_assert_eq(batch_run(e.cfg, e.led, &o, &rep, &err), CH_OK, "%s", err.msg);
    cr_expect_eq(f.n, 1);
    cr_expect(strstr(f.why[0], "cannot be written: NM103: value contains a delimiter character"), "%s", f.why[0]);
    cr_expect_null(strstr(f.why[0], "O'BR"), "no data in the reason");
    cr_expect_eq(count_state(&e, LEDGER_READY), 9);
    cr_expect_eq(count_state(&e, LEDGER_FAILED), 1);
    char out[1024];
    cr_assert(tu_first("spool/outbound/demo", "837P-riverside-000000001.x12", out, sizeof out));
    char *x = tu_read(out, NULL);
    cr_expect(strstr(x, "ISA*00*          *00*          *ZZ*RFM0001        *ZZ*DEMORCVR       *261123*"), "%s", x);
    cr_expect(strstr(x, "*^*00501*000000001*0*T*:'"), "the ISA ends with the new terminator: %.120s", x);
    cr_expect(strstr(x, "SV1*HC:99213*110*UN*1***1'"), "%s", x);
    cr_expect_null(strstr(x, "~"));
    free(x);
    batch_validation v;
    cr_assert_eq(batch_validate_file(out, NULL, NULL, &v, &err), CH_OK);
    cr_expect_eq(v.errors, 0);
    tu_env_fini(&e);
}

/* A validator that finds a problem in the claim whose CLM01 is `victim`. */
static const char *victim = "RFM00000007";

static ch_code blaming_validator(const char *path, x12_diag_fn on_diag, void *ctx, batch_validation *out,
                                 ch_error *err)
{
    ch_code rc = batch_validate_file(path, on_diag, ctx, out, err);
    if (rc != CH_OK)
        return rc;
    size_t len;
    char *text = tu_read(path, &len);
    char needle[64];
    snprintf(needle, sizeof needle, "CLM*%s*", victim);
    char *at = text ? strstr(text, needle) : NULL;
    if (at) {
        x12_diag d;
        x12_pos pos;
        memset(&pos, 0, sizeof pos);
        pos.offset = (uint64_t)(at - text);
        x12_diag_init(&d, path, &pos, X12_SEV_ERROR, 2, "test.clm");
        snprintf(d.tag, sizeof d.tag, "CLM");
        d.elem = 2;
        x12_diag_msg(&d, "claim total does not balance (test)");
        out->errors++;
        on_diag(ctx, &d);
    }
    free(text);
    return CH_OK;
}

Test(batch, a_claim_the_validator_blames_fails_and_the_rest_go_out)
{
    tu_env e;
    tu_env_init(&e);
    drop_good();
    intake(&e);
    fails f = {0};
    batch_opts o = {.now = NOW, .validate = blaming_validator, .on_failed = on_failed, .ctx = &f};
    batch_report rep;
    ch_error err;
    cr_assert_eq(batch_run(e.cfg, e.led, &o, &rep, &err), CH_OK, "%s", err.msg);
    cr_expect_eq(f.n, 1);
    cr_expect(strstr(f.why[0], "RFM00000007: the batch file check found:"), "%s", f.why[0]);
    cr_expect(strstr(f.why[0], "claim total does not balance (test)"), "%s", f.why[0]);
    cr_expect_eq(rep.discarded, 1, "the file holding it was set aside");
    cr_expect_eq(count_state(&e, LEDGER_READY), 8, "its neighbour went out in the next file");
    cr_expect_eq(count_state(&e, LEDGER_FAILED), 1);
    cr_expect_eq(tu_count("spool/archive/discarded/demo", ".x12"), 1);
    cr_expect_eq(tu_count("spool/archive/discarded/demo", ".error"), 1);
    /* the next file has new control numbers */
    cr_expect_eq(access("spool/outbound/demo/837P-riverside-000000002.x12", F_OK), 0);
    cr_expect_neq(access("spool/outbound/demo/837P-riverside-000000001.x12", F_OK), 0);
    tu_env_fini(&e);
}

/* --- crash recovery ------------------------------------------------------------------ */

static void sql(const char *path, const char *q)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    cr_assert_eq(sqlite3_exec(db, q, NULL, NULL, &msg), SQLITE_OK, "%s", msg ? msg : "");
    sqlite3_close(db);
}

Test(batch, a_file_renamed_before_the_crash_is_made_ready)
{
    tu_env e;
    tu_env_init(&e);
    drop_good();
    intake(&e);
    batch(&e, NULL);
    /* as if the engine died after the rename, before marking the batch ready */
    ledger_close(e.led);
    e.led = NULL;
    sql(e.cfg->ledger_path, "UPDATE batches SET state = 'writing' WHERE id = 1;"
                            "UPDATE claims SET state = 'batched' WHERE batch_id = 1;");
    tu_env_reload(&e);
    cr_expect_eq(count_state(&e, LEDGER_BATCHED), 1);
    batch_report rep = batch(&e, NULL);
    cr_expect_eq(rep.recovered, 1);
    cr_expect_eq(rep.files, 0, "nothing to write again");
    cr_expect_eq(count_state(&e, LEDGER_READY), 9);
    tu_env_fini(&e);
}

Test(batch, a_file_not_finished_before_the_crash_is_redone)
{
    tu_env e;
    tu_env_init(&e);
    drop_good();
    intake(&e);
    batch(&e, NULL);
    /* as if the engine died while writing batch 1: no final file, a partial
     * temporary one, the claims batched */
    ledger_close(e.led);
    e.led = NULL;
    sql(e.cfg->ledger_path, "UPDATE batches SET state = 'writing' WHERE id = 1;"
                            "UPDATE claims SET state = 'batched' WHERE batch_id = 1;");
    char final[1024];
    cr_assert(tu_first("spool/outbound/demo", "837I-lakeside-000000001.x12", final, sizeof final));
    cr_assert_eq(rename(final, "spool/outbound/demo/.837I-lakeside-000000001.x12.tmp"), 0);
    truncate("spool/outbound/demo/.837I-lakeside-000000001.x12.tmp", 200);
    tu_env_reload(&e);
    batch_report rep = batch(&e, NULL);
    cr_expect_eq(rep.recovered, 1);
    cr_expect_eq(rep.files, 1, "written again");
    cr_expect_eq(count_state(&e, LEDGER_READY), 9);
    cr_expect_eq(access("spool/outbound/demo/837I-lakeside-000000002.x12", F_OK), 0, "with new control numbers");
    cr_expect_eq(tu_count("spool/archive/discarded/demo", ".x12"), 1, "the partial file is kept aside");
    cr_expect_eq(tu_count("spool/archive/discarded/demo", ".error"), 1);
    tu_env_fini(&e);
}

/* --- the commands ---------------------------------------------------------------------- */

Test(batch, commands_end_to_end)
{
    const char *bin = getenv("CH_BIN");
    if (!bin || !bin[0])
        cr_skip_test("CH_BIN not set");
    tu_env e;
    tu_env_init(&e);
    drop_good();
    tu_copy(tu_src("tests/data/encounters/bad/bad-procedure.yaml"), "spool/inbound/riverside/bad-procedure.yaml");
    cr_expect_eq(tu_sh("%s intake --json > intake.json 2> intake.err", bin), 1, "a file failed: exit 1");
    char *j = tu_read("intake.json", NULL);
    cr_assert(j);
    cr_expect(strstr(j, "\"claims_new\":9"), "%s", j);
    cr_expect(strstr(j, "\"files_failed\":1"), "%s", j);
    cr_expect(strstr(j, "lines[1].procedure: 'ABC' is not a CPT/HCPCS code"), "%s", j);
    free(j);
    cr_expect_eq(tu_sh("%s batch > batch.out 2> batch.err", bin), 0);
    j = tu_read("batch.out", NULL);
    cr_expect(strstr(j, "batch: 6 files ready with 9 claims"), "%s", j);
    free(j);
    cr_expect_eq(tu_sh("%s claims --practice riverside --payer demo --json > claims.json 2> claims.err", bin), 0);
    j = tu_read("claims.json", NULL);
    cr_expect(strstr(j, "\"counts\":{\"ready\":2}"), "%s", j);
    cr_expect(strstr(j, "\"encounter_id\":\"RFM-2026-000101\""), "%s", j);
    free(j);
    cr_expect_eq(tu_sh("%s claims --state ready --events > claims.txt 2>&1", bin), 0);
    j = tu_read("claims.txt", NULL);
    cr_expect(strstr(j, "9 claims: 9 ready"), "%s", j);
    cr_expect(strstr(j, "queued       -> batched"), "%s", j);
    free(j);
    cr_expect_eq(tu_sh("%s claims --state nonsense > /dev/null 2>&1", bin), 2);
    cr_expect_eq(tu_sh("%s intake --help > /dev/null", bin), 0);
    cr_expect_eq(tu_sh("%s batch --config nowhere.yaml > /dev/null 2>&1", bin), 2);
    tu_env_fini(&e);
}

/* --- PHI stays out of logs, .error files and the worklist -------------------------------- */

static void no_phi_in(const char *path, const char *text)
{
    /* values from the samples: member ids, names, birth dates, diagnoses */
    static const char *const phi[] = {"XYZ123456789", "JANE", "GARCIA", "1980-04-12", "19800412",
                                      "W998877665", "E11.9", "E119", "J06.9", "K3580", "MILLER",
                                      "O'BR", "M00001", NULL};
    for (const char *const *p = phi; *p; p++)
        cr_expect_null(strstr(text, *p), "%s holds PHI (%s)", path, *p);
}

Test(batch, no_phi_in_logs_errors_or_reasons)
{
    tu_env e;
    tu_env_init(&e);
    ch_error err;
    cr_assert_eq(log_open("engine.log", LOG_DEBUG, &err), CH_OK);
    drop_good();
    /* bad ones whose problems are about PHI fields */
    char *t = tu_read(tu_src("tests/data/encounters/good/riverside-office-visit.yaml"), NULL);
    char *dob = strstr(t, "birth_date: 1980-04-12");
    memcpy(dob + 12, "1980-04-31", 10);
    char *dx = strstr(t, "[I10, E11.9, Z79.4]");
    memcpy(dx, "[I10, E11.9, Q00.0]", 19);
    tu_write("spool/inbound/riverside/phi-bad.yaml", t);
    free(t);
    write_encounter(1, "medicare-mac"); /* not an MBI */
    intake_opts io = {.jobs = 2, .today = TODAY};
    intake_report ir;
    cr_assert_eq(intake_run(e.cfg, e.led, &io, &ir, &err), CH_OK, "%s", err.msg);
    cr_expect_eq(ir.files_failed, 2);
    /* and a claim failing at batch time */
    char *p = tu_read("payer-profiles/demo.yaml", NULL);
    char *v = strstr(p, "value: 50");
    memcpy(v, "value: 1 ", 9);
    tu_write("payer-profiles/demo.yaml", p);
    free(p);
    tu_env_reload(&e);
    batch_opts bo = {.now = NOW};
    batch_report br;
    cr_assert_eq(batch_run(e.cfg, e.led, &bo, &br, &err), CH_OK, "%s", err.msg);
    cr_expect_geq(br.claims_failed, 1);
    log_close();
    log_open(NULL, LOG_ERROR, NULL);
    char *logtext = tu_read("engine.log", NULL);
    cr_assert(logtext);
    cr_expect(strstr(logtext, "phi-bad.yaml"), "the log names the file");
    no_phi_in("engine.log", logtext);
    free(logtext);
    const char *errs[] = {"spool/failed/riverside/phi-bad.yaml.error", "spool/failed/riverside/gen-001.yaml.error"};
    for (int i = 0; i < 2; i++) {
        char *x = tu_read(errs[i], NULL);
        cr_assert(x, "%s", errs[i]);
        no_phi_in(errs[i], x);
        free(x);
    }
    /* the worklist reasons in the ledger */
    cr_assert_eq(tu_sh("%s claims --state failed --json > failed.json 2>/dev/null",
                       getenv("CH_BIN") && getenv("CH_BIN")[0] ? getenv("CH_BIN") : "true"),
                 0);
    char *fj = tu_read("failed.json", NULL);
    if (fj && fj[0])
        no_phi_in("claims --state failed", fj + (strstr(fj, "\"reason\"") ? strstr(fj, "\"reason\"") - fj : 0));
    free(fj);
    tu_env_fini(&e);
}
