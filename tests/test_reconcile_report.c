/*
 * test_reconcile_report.c - the posting reports written while posting: the
 * rows of paid, partial, denied, reversed and corrected claims, two
 * practices kept apart, a file whose posting fails taken back (no report
 * under a final name, no temporary file left), the same file twice, and
 * the pieces: the text renderer and the queue to the writer thread.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "reconcile.h"
#include "recon_helpers.h"
#include "recon_seed.h"
#include "report_queue.h"
#include "report_text.h"
#include "tu.h"

#define ENV_835(ctl, body, nseg)                                                                                   \
    "ISA*00*          *00*          *ZZ*PAYERSENDER    *ZZ*CLEARINGHOUSE  *251115*1200*^*00501*000000" ctl       \
    "*0*T*:~GS*HP*PAYERSENDER*CLEARINGHOUSE*20251115*1200*" ctl "*X*005010X221A1~ST*835*0001~" body "SE*" nseg \
    "*0001~GE*1*" ctl "~IEA*1*000000" ctl "~"
#define PAYER "N1*PR*TEST HEALTH PLAN*XV*TESTPLAN01~"
#define QC "NM1*QC*1*DOE*JOHN****MI*M0~"

/* REV005 paid 150.00: the payment hand-statuses.835 reverses */
static const char *first_payment =
    ENV_835("100", "BPR*I*150*C*CHK************20251015~TRN*1*CHK0000*1999999999~" PAYER
                   "N1*PE*EXAMPLE CLINIC*XX*1234567893~LX*1~"
                   "CLP*REV005*1*200*150*20*12*PCLM005*11*1~CAS*CO*45*30~CAS*PR*2*20~" QC,
            "11");

/* the second practice's payment: CARC 96, which the first's never use */
static const char *other_payment =
    ENV_835("103", "BPR*I*50*C*CHK************20251015~TRN*1*CHK0103*1999999999~" PAYER
                   "N1*PE*OTHER CLINIC*XX*1234567802~LX*1~"
                   "CLP*OTH001*1*100*50**12*PCLM901*11*1~CAS*CO*96*50~" QC,
            "10");

static const char *other_practice_yaml = "\n"
                                         "  - id: other\n"
                                         "    name: OTHER CLINIC\n"
                                         "    npi: \"1234567802\"\n"
                                         "    tax_id: \"987654321\"\n"
                                         "    taxonomy: 207Q00000X\n"
                                         "    claim_prefix: OTH\n"
                                         "    address: {line1: 3 OTHER RD, city: ANYTOWN, state: NY, zip: \"12345\"}\n"
                                         "    payers:\n"
                                         "      testplan:\n"
                                         "        submitter_id: CLEARINGHOUSE\n"
                                         "        contact: {name: BILLING, phone: \"5555550100\"}\n";

/* Files in dir, dot files (the temporary ones) counted too. */
static int files_in(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    closedir(d);
    return n;
}

/* The report of a practice: its CSV and JSON, malloc'd. */
static void report_of(const char *practice, char **csv, char **json)
{
    char dir[256], path[1024];
    size_t n;
    snprintf(dir, sizeof dir, "spool/reports/%s", practice);
    cr_assert_eq(tu_count(dir, ".csv"), 1, "%s", dir);
    cr_assert_eq(tu_count(dir, ".json"), 1, "%s", dir);
    cr_assert_eq(files_in(dir), 2, "no temporary file is left in %s", dir);
    cr_assert(tu_first(dir, ".csv", path, sizeof path));
    cr_assert_not_null(*csv = tu_read(path, &n));
    cr_assert(tu_first(dir, ".json", path, sizeof path));
    cr_assert_not_null(*json = tu_read(path, &n));
}

/* 1 when text is one well-formed JSON (YAML) document. */
static int parses(const char *text)
{
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    yaml_document_t doc;
    int ok = yaml_parser_load(&p, &doc);
    if (ok) {
        ok = yaml_document_get_root_node(&doc) != NULL;
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&p);
    return ok;
}

/* The CSV line that starts with prefix (cr_assert), up to its newline. */
static char *line_of(const char *csv, const char *prefix, char *out, size_t size)
{
    const char *s = csv;
    size_t pl = strlen(prefix);
    while (s && strncmp(s, prefix, pl)) {
        s = strchr(s, '\n');
        s = s ? s + 1 : NULL;
    }
    cr_assert_not_null(s, "no line %s in\n%s", prefix, csv);
    size_t n = strcspn(s, "\n");
    cr_assert_lt(n, size);
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

/* How many times needle occurs in s. */
static int count_of(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

Test(reconcile_report, rows_of_paid_partial_denied_reversed_and_corrected_claims)
{
    tu_env e;
    home(&e);
    sqlite3 *db = db_open(&e);
    int64_t paid = seed_simple(db, "PAID001", "accepted");
    int64_t sec = seed_simple(db, "SEC002", "acknowledged");
    int64_t den = seed_simple(db, "DEN003", "sent");
    const char *p4[] = {"99213", "93000"};
    int64_t c4[] = {10000, 5000};
    int64_t part = seed_claim(db, "PART004", "accepted", "MEM004", "20251104", p4, c4, 2);
    int64_t rev = seed_simple(db, "REV005", "accepted");
    sqlite3_close(db);
    tu_write("first.835", first_payment);
    reconciler *r;
    ch_error err;
    reconcile_file_result res;
    char p[4096];
    cr_assert_eq(reconcile_new(&r, e.cfg, e.led, NULL, &err), CH_OK);
    cr_assert_eq(reconcile_file(r, "first.835", NULL, &res, &err), CH_OK, "%s", err.msg);
    cr_assert_eq(reconcile_file(r, rc_path("hand-statuses.835", p, sizeof p), NULL, &res, &err), CH_OK, "%s",
                 err.msg);
    /* nothing under a final name before the run is finished */
    cr_expect_eq(tu_count("spool/reports/example", ""), 0);
    cr_assert_eq(reconcile_finish(r, NULL, NULL, &err), CH_OK, "%s", err.msg);
    reconcile_free(r);

    char *csv, *js, l[2048], pre[64];
    report_of("example", &csv, &js);
    cr_expect_eq(strncmp(csv, report_csv_header, strlen(report_csv_header)), 0);
    cr_expect_eq(count_of(csv, "\n"), 1 + 7, "a line per payment posted:\n%s", csv);
    /* paid: allowed from AMT*B6, each line's CAS with its reason text */
    snprintf(pre, sizeof pre, "%lld,", (long long)paid);
    cr_expect_str_eq(line_of(csv, pre, l, sizeof l) + strlen(pre),
                     "PAID001,1999999999/CHK0001,paid,paid,200.00,170.00,150.00,20.00,PCLM001,"
                     "CO-45 10.00 (Charge exceeds fee schedule/maximum allowable or contracted/legislated fee "
                     "arrangement.); PR-2 20.00 (Coinsurance Amount); CO-45 20.00 (Charge exceeds fee "
                     "schedule/maximum allowable or contracted/legislated fee arrangement.)");
    snprintf(pre, sizeof pre, "%lld,", (long long)sec);
    cr_expect_not_null(strstr(line_of(csv, pre, l, sizeof l), ",paid,paid,100.00,30.00,30.00,0.00,PCLM002,OA-23 70.00 ("));
    snprintf(pre, sizeof pre, "%lld,", (long long)den);
    cr_expect_not_null(strstr(line_of(csv, pre, l, sizeof l), ",denied,denied,75.00,0.00,0.00,0.00,PCLM003,CO-50 75.00 ("));
    snprintf(pre, sizeof pre, "%lld,", (long long)part);
    cr_expect_not_null(strstr(line_of(csv, pre, l, sizeof l),
                              ",partial,partial,150.00,60.00,60.00,0.00,PCLM004,CO-45 40.00 (Charge exceeds"),
                       "%s", l);
    cr_expect_not_null(strstr(l, "; CO-97 50.00 ("), "%s", l);
    /* REV005: paid, reversed (the claim accepted again, waiting), corrected */
    snprintf(pre, sizeof pre, "%lld,REV005,1999999999/CHK0000,paid,paid,200.00,170.00,150.00,20.00,", (long long)rev);
    cr_expect_not_null(strstr(csv, pre), "%s", csv);
    snprintf(pre, sizeof pre, "%lld,REV005,1999999999/CHK0001,reversal,accepted,-200.00,-170.00,-150.00,-20.00,",
             (long long)rev);
    cr_expect_not_null(strstr(csv, pre), "%s", csv);
    cr_expect_not_null(strstr(csv, "CO-45 -30.00 (Charge exceeds"), "%s", csv);
    snprintf(pre, sizeof pre, "%lld,REV005,1999999999/CHK0001,paid,paid,200.00,180.00,160.00,20.00,PCLM005B,",
             (long long)rev);
    cr_expect_not_null(strstr(csv, pre), "%s", csv);
    cr_expect_null(strstr(csv, "Usage:"));
    /* in posting order: the first file's payment first */
    cr_expect_lt(strstr(csv, "CHK0000"), strstr(csv, "PAID001"));

    /* the JSON: the same rows, each code's words once */
    cr_expect(parses(js), "%s", js);
    cr_expect_eq(count_of(js, "\"claim_id\":"), 7);
    cr_expect_not_null(strstr(js, "\"pcn\":\"REV005\",\"remittance\":\"1999999999/CHK0001\",\"outcome\":\"reversal\","
                                  "\"state\":\"accepted\",\"billed\":-200.00,\"allowed\":-170.00,\"paid\":-150.00,"
                                  "\"patient_responsibility\":-20.00,\"payer_claim_no\":\"PCLM005\",\"reversal\":true,"
                                  "\"adjustments\":[{\"group\":\"CO\",\"reason\":\"45\",\"amount\":-30.00},"
                                  "{\"group\":\"PR\",\"reason\":\"2\",\"amount\":-20.00}]}"),
                       "%s", js);
    cr_expect_not_null(strstr(js, "\"reversal\":false"));
    cr_expect_eq(count_of(js, "Charge exceeds fee schedule"), 1, "CARC 45's words once:\n%s", js);
    cr_expect_not_null(strstr(js, "\"groups\":{\"CO\":\"Contractual Obligations\""), "%s", js);
    cr_expect_not_null(strstr(js, "\"PR\":\"Patient Responsibility\""), "%s", js);
    cr_expect_not_null(strstr(js, "\"OA\":\"Other"), "%s", js);
    cr_expect_not_null(strstr(js, "\"97\":\""), "%s", js);
    /* billed leaves reversals out; the rest add up */
    cr_expect_not_null(strstr(js, "\"totals\":{\"claims\":7,\"billed\":925.00,\"allowed\":440.00,\"paid\":400.00,"
                                  "\"patient_responsibility\":40.00}"),
                       "%s", strstr(js, "\"totals\""));
    free(csv);
    free(js);
    tu_env_fini(&e);
}

Test(reconcile_report, each_practice_gets_its_own_claims_only)
{
    tu_env e;
    home(&e);
    FILE *fp = fopen("conf/clearinghouse.yaml", "a");
    cr_assert_not_null(fp);
    fputs(other_practice_yaml, fp);
    fclose(fp);
    tu_env_reload(&e);
    sqlite3 *db = db_open(&e);
    seed_simple(db, "REV005", "accepted");
    seed_simple(db, "OTH001", "accepted");
    cr_assert_eq(sqlite3_exec(db, "UPDATE claims SET practice = 'other' WHERE pcn = 'OTH001'", NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    tu_write("first.835", first_payment);
    tu_write("other.835", other_payment);
    cr_assert_eq(tu_sh("\"$CH_BIN\" reconcile first.835 other.835 > out.txt 2>&1"), 0);

    char *csv, *js;
    report_of("example", &csv, &js);
    cr_expect_not_null(strstr(csv, ",REV005,"));
    cr_expect_null(strstr(csv, "OTH001"), "%s", csv);
    cr_expect_null(strstr(js, "OTH001"), "%s", js);
    cr_expect_null(strstr(js, "\"96\""), "only the codes the practice's claims use:\n%s", js);
    cr_expect_not_null(strstr(js, "\"practice\":\"example\""));
    cr_expect_not_null(strstr(js, "\"totals\":{\"claims\":1,"));
    free(csv);
    free(js);
    report_of("other", &csv, &js);
    /* CARC 96's text holds commas: the field is quoted */
    cr_expect_not_null(
        strstr(csv, ",OTH001,1999999999/CHK0103,paid,paid,100.00,50.00,50.00,0.00,PCLM901,\"CO-96 50.00 (Non-covered"),
        "%s", csv);
    cr_expect_null(strstr(csv, "REV005"), "%s", csv);
    cr_expect_null(strstr(js, "\"45\""), "%s", js);
    cr_expect_not_null(strstr(js, "\"reasons\":{\"96\":"), "%s", js);
    cr_expect(parses(js), "%s", js);
    free(csv);
    free(js);
    tu_env_fini(&e);
}

/* A trigger that fails the posting of the claim with this PCN. */
static void fail_posting_of(tu_env *e, const char *pcn)
{
    sqlite3 *db = db_open(e);
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE TRIGGER boom BEFORE INSERT ON claim_payments WHEN NEW.claim_id = "
             "(SELECT id FROM claims WHERE pcn = '%s') BEGIN SELECT RAISE(ABORT, 'boom'); END",
             pcn);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
}

Test(reconcile_report, a_file_whose_posting_fails_leaves_nothing_in_the_reports)
{
    tu_env e;
    home(&e);
    sqlite3 *db = db_open(&e);
    seed_simple(db, "PAID001", "accepted");
    seed_simple(db, "SEC002", "acknowledged");
    seed_simple(db, "DEN003", "sent");
    seed_simple(db, "PART004", "accepted");
    seed_simple(db, "REV005", "accepted");
    sqlite3_close(db);
    fail_posting_of(&e, "DEN003");
    char p[4096];
    rc_path("hand-statuses.835", p, sizeof p);

    /* alone in its run: no report at all, no temporary file */
    reconciler *r;
    ch_error err;
    reconcile_file_result res;
    cr_assert_eq(reconcile_new(&r, e.cfg, e.led, NULL, &err), CH_OK);
    cr_expect_neq(reconcile_file(r, p, NULL, &res, &err), CH_OK);
    cr_expect_eq(reconcile_finish(r, NULL, NULL, &err), CH_OK, "%s", err.msg);
    reconcile_free(r);
    cr_expect_eq(files_in("spool/reports/example"), 0);

    /* after a file that was posted: the report holds that file's postings only */
    tu_write("first.835", first_payment);
    cr_assert_eq(reconcile_new(&r, e.cfg, e.led, NULL, &err), CH_OK);
    cr_assert_eq(reconcile_file(r, "first.835", NULL, &res, &err), CH_OK, "%s", err.msg);
    cr_expect_neq(reconcile_file(r, p, NULL, &res, &err), CH_OK);
    cr_expect_eq(reconcile_finish(r, NULL, NULL, &err), CH_OK, "%s", err.msg);
    reconcile_free(r);
    char *csv, *js;
    report_of("example", &csv, &js);
    cr_expect_eq(count_of(csv, "\n"), 2, "the header and REV005's payment:\n%s", csv);
    cr_expect_not_null(strstr(csv, ",REV005,1999999999/CHK0000,paid,paid,"), "%s", csv);
    cr_expect_null(strstr(csv, "PAID001"), "%s", csv);
    cr_expect_eq(count_of(js, "\"claim_id\":"), 1, "%s", js);
    cr_expect_null(strstr(js, "\"23\""), "no code of the rolled-back file:\n%s", js);
    cr_expect_not_null(strstr(js, "\"totals\":{\"claims\":1,\"billed\":200.00,"), "%s", js);
    cr_expect(parses(js), "%s", js);
    free(csv);
    free(js);
    tu_env_fini(&e);
}

/* A run that dies after its commit and before its reports (here: freed
 * without reconcile_finish, which is what kill -9 leaves) has its postings
 * written into the next run's report, once. */
Test(reconcile_report, postings_of_a_run_that_died_before_its_reports_go_into_the_next)
{
    tu_env e;
    home(&e);
    sqlite3 *db = db_open(&e);
    seed_simple(db, "REV005", "accepted");
    sqlite3_close(db);
    tu_write("first.835", first_payment);
    reconciler *r;
    ch_error err;
    reconcile_file_result res;
    cr_assert_eq(reconcile_new(&r, e.cfg, e.led, NULL, &err), CH_OK);
    cr_assert_eq(reconcile_file(r, "first.835", NULL, &res, &err), CH_OK, "%s", err.msg);
    cr_assert_eq(res.posted, 1);
    reconcile_free(r); /* died: posted, no report */
    cr_expect_eq(files_in("spool/reports/example"), 0);
    /* what kill -9 leaves besides: a temporary report */
    tu_write("spool/reports/example/.posting-20260101T000000.000Z-1.csv.tmp", "claim_id,pcn\n");

    /* the next run posts nothing of its own (the same file again) */
    cr_assert_eq(reconcile_new(&r, e.cfg, e.led, NULL, &err), CH_OK);
    cr_assert_eq(reconcile_file(r, "first.835", NULL, &res, &err), CH_OK, "%s", err.msg);
    cr_expect_eq(res.posted, 0);
    cr_assert_eq(reconcile_finish(r, NULL, NULL, &err), CH_OK, "%s", err.msg);
    reconcile_free(r);
    char *csv, *js;
    report_of("example", &csv, &js);
    cr_expect_eq(count_of(csv, "\n"), 2, "the header and REV005's payment:\n%s", csv);
    cr_expect_not_null(strstr(csv, ",REV005,1999999999/CHK0000,paid,paid,"), "%s", csv);
    cr_expect(parses(js), "%s", js);
    free(csv);
    free(js);

    /* and only once: a third run writes nothing */
    cr_assert_eq(reconcile_new(&r, e.cfg, e.led, NULL, &err), CH_OK);
    cr_assert_eq(reconcile_finish(r, NULL, NULL, &err), CH_OK, "%s", err.msg);
    reconcile_free(r);
    cr_expect_eq(tu_count("spool/reports/example", ".csv"), 1);
    db = db_open(&e);
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM remittances WHERE reported_at IS NULL", -1, &s, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    cr_expect_eq(sqlite3_column_int(s, 0), 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    tu_env_fini(&e);
}

Test(reconcile_report, the_same_file_twice_writes_one_report)
{
    tu_env e;
    home(&e);
    sqlite3 *db = db_open(&e);
    seed_simple(db, "REV005", "accepted");
    sqlite3_close(db);
    tu_write("first.835", first_payment);
    cr_assert_eq(tu_sh("\"$CH_BIN\" reconcile first.835 > out.txt 2>&1"), 0);
    cr_assert_eq(files_in("spool/reports/example"), 2);
    cr_assert_eq(tu_sh("\"$CH_BIN\" reconcile first.835 > out.txt 2>&1"), 0);
    cr_expect_eq(files_in("spool/reports/example"), 2, "nothing posted the second time: no report");
    tu_env_fini(&e);
}

/* PAID001 paid 150.00 of 200.00: the example of docs/reconciliation.md */
static const char *doc_payment =
    ENV_835("104", "BPR*I*150*C*CHK************20251215~TRN*1*CHK0001*1999999999~" PAYER
                   "N1*PE*EXAMPLE CLINIC*XX*1234567893~LX*1~"
                   "CLP*PAID001*1*200*150*20*12*PCLM001*11*1~CAS*CO*45*30~CAS*PR*2*20~" QC,
            "11");

/* The body of the fenced block of the doc that starts with `first`. */
static char *doc_block_with(const char *doc, const char *first)
{
    for (const char *p = strstr(doc, "\n```"); p; p = strstr(p, "\n```")) {
        p = strchr(p + 1, '\n');
        cr_assert_not_null(p);
        p++;
        const char *end = strstr(p, "```");
        cr_assert_not_null(end);
        if (!strncmp(p, first, strlen(first)))
            return strndup(p, (size_t)(end - p));
        p = end + 3;
    }
    cr_assert_fail("no block starting with %s", first);
    return NULL;
}

Test(reconcile_report, the_examples_in_the_doc_are_what_is_written)
{
    tu_env e;
    home(&e);
    sqlite3 *db = db_open(&e);
    seed_simple(db, "OTHER000", "accepted");
    int64_t id = seed_simple(db, "PAID001", "accepted");
    sqlite3_close(db);
    cr_assert_eq(id, 1001, "the doc's claim id");
    tu_write("doc.835", doc_payment);
    size_t n;
    int st = tu_sh("\"$CH_BIN\" reconcile doc.835 > out.txt 2>&1");
    cr_assert_eq(st, 0, "%s", tu_read("out.txt", &n));
    char *csv, *js;
    report_of("example", &csv, &js);
    char *doc = tu_read(tu_src("docs/reconciliation.md"), &n);
    cr_assert_not_null(doc);
    char *want_csv = doc_block_with(doc, "claim_id,pcn,");
    char *want_js = doc_block_with(doc, "{\"practice\":\"example\"");
    cr_expect_str_eq(csv, want_csv);
    /* the same but for the time stamp */
    char *g = strstr(js, "\"generated\":\"");
    char *w = strstr(want_js, "\"generated\":\"");
    cr_assert(g && w);
    size_t gl = strcspn(g + 13, "\""), wl = strcspn(w + 13, "\"");
    cr_expect_eq(strncmp(js, want_js, (size_t)(g - js) + 13), 0);
    cr_expect_str_eq(g + 13 + gl, w + 13 + wl);
    cr_expect(parses(want_js));
    free(want_csv);
    free(want_js);
    free(doc);
    free(csv);
    free(js);
    tu_env_fini(&e);
}

/* An 835 paying claims KILL00000.. (80.00 of 100.00 each, 20.00 coinsurance)
 * under its own trace number. */
static void write_big_835(const char *path, unsigned n, unsigned trace)
{
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fprintf(fp,
            "ISA*00*          *00*          *ZZ*PAYERSENDER    *ZZ*CLEARINGHOUSE  *251115*1200*^*00501*000000200"
            "*0*T*:~GS*HP*PAYERSENDER*CLEARINGHOUSE*20251115*1200*200*X*005010X221A1~ST*835*0001~"
            "BPR*I*%u*C*CHK************20251015~TRN*1*KILL%04u*1999999999~" PAYER
            "N1*PE*EXAMPLE CLINIC*XX*1234567893~LX*1~",
            80 * n, trace);
    for (unsigned i = 0; i < n; i++)
        fprintf(fp, "CLP*KILL%05u*1*100*80*20*12*PK%05u*11*1~CAS*PR*2*20~" QC, i, i);
    fprintf(fp, "SE*%u*0001~GE*1*200~IEA*1*000000200~", 7 + 3 * n);
    fclose(fp);
}

/* Every report under a final name is whole: its JSON parses, ends as the
 * writer ends it, and its CSV has a line per claim of the JSON.  Returns how
 * many pairs there are. */
static int reports_whole(void)
{
    DIR *d = opendir("spool/reports/example");
    if (!d)
        return 0;
    int pairs = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".csv"))
            continue;
        char path[1024];
        size_t n;
        snprintf(path, sizeof path, "spool/reports/example/%s", de->d_name);
        char *csv = tu_read(path, &n);
        snprintf(path, sizeof path, "spool/reports/example/%.*sjson", (int)(l - 3), de->d_name);
        char *js = tu_read(path, &n);
        cr_assert_not_null(csv);
        cr_assert_not_null(js, "%s without its JSON", de->d_name);
        cr_assert(n > 4 && !strcmp(js + n - 4, "}}}\n"), "%s is cut short", path);
        cr_assert(parses(js), "%s", path);
        cr_assert_eq(count_of(csv, "\n"), count_of(js, "\"claim_id\":") + 1, "%s", de->d_name);
        free(csv);
        free(js);
        pairs++;
    }
    closedir(d);
    return pairs;
}

/* kill -9 at moments spread over the run: never a partial report under a
 * final name, whenever the process dies. */
Test(reconcile_report, kill_9_never_leaves_a_partial_report, .timeout = 240)
{
    tu_env e;
    home(&e);
    const unsigned n = 3000;
    sqlite3 *db = db_open(&e);
    cr_assert_eq(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    for (unsigned i = 0; i < n; i++) {
        char pcn[16];
        snprintf(pcn, sizeof pcn, "KILL%05u", i);
        seed_simple(db, pcn, "accepted");
    }
    cr_assert_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    /* how long a whole run takes here */
    write_big_835("kill.835", n, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(tu_sh("\"$CH_BIN\" reconcile kill.835 > /dev/null 2>&1"), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long run_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    cr_assert_eq(reports_whole(), 1);
    const char *bin = getenv("CH_BIN");
    cr_assert_not_null(bin);
    unsigned killed = 0;
    for (unsigned k = 1; k <= 16; k++) {
        write_big_835("kill.835", n, k); /* a new payment each time: posted again */
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            freopen("/dev/null", "w", stdout);
            freopen("/dev/null", "w", stderr);
            execl(bin, bin, "reconcile", "kill.835", (char *)NULL);
            _exit(127);
        }
        /* from the start to past the end of a run */
        usleep((useconds_t)(run_us * k / 12));
        killed += kill(pid, SIGKILL) == 0;
        int st;
        waitpid(pid, &st, 0);
        reports_whole();
    }
    cr_expect_geq(killed, 8, "most runs were killed on the way");
    /* one more run: every payment posted by a killed run gets its report */
    cr_assert_eq(tu_sh("\"$CH_BIN\" reconcile kill.835 > /dev/null 2>&1"), 0);
    reports_whole();
    sqlite3 *db2 = db_open(&e);
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(db2, "SELECT trace_key FROM remittances WHERE reported_at IS NULL", -1, &s, NULL),
                 SQLITE_OK);
    cr_expect_eq(sqlite3_step(s), SQLITE_DONE, "a remittance without its report: %s",
                 sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "");
    sqlite3_finalize(s);
    /* and each remittance's trace number is in some report */
    cr_assert_eq(sqlite3_prepare_v2(db2, "SELECT trace_key FROM remittances", -1, &s, NULL), SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *trace = (const char *)sqlite3_column_text(s, 0);
        cr_expect_eq(tu_sh("cat spool/reports/example/*.csv | grep -qF ',%s,'", trace), 0,
                     "no report row for remittance %s", trace);
    }
    sqlite3_finalize(s);
    sqlite3_close(db2);
    tu_env_fini(&e);
}

/* --- the pieces ----------------------------------------------------------------------- */

Test(reconcile_report, text_of_money_quotes_escapes_and_unknown_codes)
{
    char m[32];
    m[report_cents(m, 0)] = '\0';
    cr_expect_str_eq(m, "0.00");
    m[report_cents(m, -5)] = '\0';
    cr_expect_str_eq(m, "-0.05");
    m[report_cents(m, 123456789012)] = '\0';
    cr_expect_str_eq(m, "1234567890.12");
    m[report_cents(m, INT64_MIN)] = '\0';
    cr_expect_str_eq(m, "-92233720368547758.08");

    report_words w = {0};
    const report_code *co45 = report_words_code(&w, "CO", "45");
    const report_code *unk = report_words_code(&w, "ZZ", "X9");
    cr_assert_not_null(co45);
    cr_assert_not_null(unk);
    cr_expect_eq(report_words_code(&w, "CO", "45"), co45, "rendered once");
    report_row row = {.claim_id = 42, .billed = 10000, .allowed = 9000, .paid = -1, .patient_resp = 0, .nadj = 2};
    snprintf(row.outcome, sizeof row.outcome, "paid");
    snprintf(row.state, sizeof row.state, "paid");
    snprintf(row.practice, sizeof row.practice, "example");
    snprintf(row.pcn, sizeof row.pcn, "A,\"B\"");
    snprintf(row.trace_key, sizeof row.trace_key, "T\\1");
    snprintf(row.payer_claim_no, sizeof row.payer_claim_no, "P\n1");
    report_adj adj[2] = {{"CO", "45", 2550}, {"ZZ", "X9", -7}};
    const report_code *codes[2] = {co45, unk};
    report_buf csv = {0}, js = {0};
    cr_assert(report_render(&row, adj, codes, &csv, &js));
    cr_assert(report_buf_reserve(&csv, 1) && report_buf_reserve(&js, 1));
    csv.p[csv.len] = js.p[js.len] = '\0';
    cr_expect_str_eq(csv.p, "42,\"A,\"\"B\"\"\",T\\1,paid,paid,100.00,90.00,-0.01,0.00,\"P\n1\","
                            "CO-45 25.50 (Charge exceeds fee schedule/maximum allowable or contracted/legislated "
                            "fee arrangement.); ZZ-X9 -0.07 (unknown code)\n");
    cr_expect_str_eq(js.p, "{\"claim_id\":42,\"pcn\":\"A,\\\"B\\\"\",\"remittance\":\"T\\\\1\",\"outcome\":\"paid\","
                           "\"state\":\"paid\",\"billed\":100.00,\"allowed\":90.00,\"paid\":-0.01,"
                           "\"patient_responsibility\":0.00,\"payer_claim_no\":\"P\\n1\",\"reversal\":false,"
                           "\"adjustments\":[{\"group\":\"CO\",\"reason\":\"45\",\"amount\":25.50},"
                           "{\"group\":\"ZZ\",\"reason\":\"X9\",\"amount\":-0.07}]}");
    cr_expect_eq(w.ngroups, 2);
    cr_expect_eq(w.nreasons, 2);
    cr_expect_eq(strncmp(w.groups[1].json, "\"ZZ\":\"unknown code\"", w.groups[1].json_len), 0);
    report_buf_free(&csv);
    report_buf_free(&js);
    report_words_free(&w);
}

typedef struct seq_check {
    uint64_t next, bytes;
    int bad;
} seq_check;

/* records: a uint64 sequence number, then (n % 97) * 8 bytes of n's low byte */
static void check_chunk(void *ctx, const unsigned char *data, size_t len)
{
    seq_check *c = ctx;
    size_t off = 0;
    while (off < len) {
        uint64_t n;
        memcpy(&n, data + off, sizeof n);
        size_t extra = (size_t)(n % 97) * 8;
        if (n != c->next)
            c->bad = 1;
        for (size_t i = 0; i < extra; i++)
            if (data[off + 8 + i] != (unsigned char)n)
                c->bad = 1;
        c->next = n + 1;
        c->bytes += 8 + extra;
        off += 8 + extra;
    }
}

Test(reconcile_report, queue_hands_over_every_record_in_order)
{
    seq_check c = {0};
    report_queue *q = report_queue_new(check_chunk, &c, "test-queue");
    cr_assert_not_null(q);
    uint64_t bytes = 0;
    const uint64_t n = 200000; /* about 40 chunks: the producer waits for the writer */
    for (uint64_t i = 0; i < n; i++) {
        size_t extra = (size_t)(i % 97) * 8;
        unsigned char *p = report_queue_room(q, 8 + extra);
        cr_assert_not_null(p);
        memcpy(p, &i, sizeof i);
        memset(p + 8, (unsigned char)i, extra);
        report_queue_put(q, 8 + extra);
        bytes += 8 + extra;
    }
    cr_expect_null(report_queue_room(q, REPORT_QUEUE_CHUNK + 8), "larger than a chunk");
    report_queue_end(q);
    cr_expect_eq(c.next, n);
    cr_expect_eq(c.bytes, bytes);
    cr_expect_eq(c.bad, 0);
    cr_expect_null(report_queue_room(q, 8), "nothing after the end");
    report_queue_free(q);
}
