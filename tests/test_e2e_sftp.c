/*
 * test_e2e_sftp.c - the product end to end over real SFTP (the fixture's
 * sshd on loopback, tests/fixtures/servers.sh), driven through the
 * `clearinghouse` binary ($CH_BIN) as a billing firm runs it:
 *
 *   two practices (riverside bills 837P, lakeside 837I) drop encounters into
 *   their own inbound spools for three payers (acme, bluecross, statecaid),
 *   each reached over SFTP with a pinned ed25519 host key and its own remote
 *   directories;  `run --once` takes them in, batches and uploads them;
 *   the payer side is scripted: `clearinghouse payer-answer` reads what the
 *   sshd received on disk and leaves its 999, 277CA and 835 where the engine
 *   collects them over SFTP on the next `run --once`.
 *
 * The payers' rules (`simulator:` in their profiles): acme's 999 refuses
 * procedure 99499 (the whole riverside batch is rejected) and its 835
 * denies 97799; bluecross's 277CA rejects J1885; statecaid denies J1885.
 * The operator of riverside sees the rejected batch in `rejects`, drops a
 * corrected encounter, replays the batch (new control numbers, linked to
 * the original in the claims' history), and it is accepted and paid; then
 * `correct` sends a frequency-7 replacement and `void` a frequency-8 void,
 * both with REF*F8, which the payer answers by taking back the first
 * payments.  At the end every claim's state and money are checked to the
 * cent, per practice, and each practice's operator sees nothing of the
 * other's.
 *
 * The sshd is the run's shared fixture server (transport_fixture.h), stopped
 * by its pid when the run ends, whether this test passed or not.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_helpers.h"
#include "ledger.h"
#include "transport_fixture.h"
#include "tu.h"

TestSuite(e2e_sftp, .timeout = 240);

static const char *const PAYERS[] = {"acme", "bluecross", "statecaid"};

typedef struct e2e {
    char home[256];     /* the engine's home: ch.yaml, payer-profiles/, spool/ */
    char conf[512];
    char remote[1024];  /* on the sshd: <payer>/{in,out,arch} */
} e2e;

/* --- the billing firm's setup --------------------------------------------------------- */

static void write_profile(e2e *e, const char *name, const char *id, const char *sim)
{
    char text[4096];
    snprintf(text, sizeof text,
             "payer_id: %s\n"
             "name: %s HEALTH PLAN\n"
             "receiver: {qualifier: ZZ, interchange_id: %sRCV, application_id: %sRCV, id: %sRCV, name: %s EDI}\n"
             "claim_types: [professional, institutional]\n"
             "usage: test\n"
             "claim_filing_indicator: {professional: CI, institutional: CI}\n"
             "simulator:\n%s"
             "transport:\n"
             "  connect_timeout: 5\n"
             "  stall_timeout: 10\n"
             "  after_collect: archive\n"
             "  retries: 2\n"
             "  retry_base_ms: 20\n"
             "  retry_max_ms: 40\n"
             "  sftp:\n"
             "    host: 127.0.0.1\n"
             "    port: %s\n"
             "    user: %s\n"
             "    private_key_file: %s\n"
             "    host_key_sha256: \"SHA256:%s\"\n"
             "    upload_dir: %s/%s/in\n"
             "    response_dir: %s/%s/out\n"
             "    archive_dir: %s/%s/arch\n",
             id, id, id, id, id, id, sim, tf_env("SFTP_PORT"), tf_env("SFTP_USER"), tf_env("SFTP_KEY"),
             tf_env("SFTP_HOSTKEY_SHA256"), e->remote, name, e->remote, name, e->remote, name);
    tu_write(tf_fmt("%s/payer-profiles/%s.yaml", e->home, name), text);
}

static void write_conf(e2e *e)
{
    char text[4096];
    snprintf(text, sizeof text,
             "spool: %s/spool\n"
             "ledger: {backend: sqlite, path: %s/spool/ledger.db}\n"
             "payer_profiles: %s/payer-profiles\n"
             "logging: {level: warning}\n"
             "practices:\n"
             "  - id: riverside\n"
             "    name: RIVERSIDE FAMILY MEDICINE\n"
             "    npi: \"1245319599\"\n"
             "    tax_id: \"12-3456789\"\n"
             "    taxonomy: 207Q00000X\n"
             "    claim_prefix: RFM\n"
             "    address: {line1: 100 RIVER ROAD, city: SPRINGFIELD, state: IL, zip: \"62701-1234\"}\n"
             "    payers:\n"
             "      acme: {submitter_id: RFMACME, contact: {name: BILLING OFFICE, phone: \"2175550100\"}}\n"
             "      bluecross: {submitter_id: RFMBLUE, contact: {name: BILLING OFFICE, phone: \"2175550100\"}}\n"
             "      statecaid: {submitter_id: RFMCAID, contact: {name: BILLING OFFICE, phone: \"2175550100\"}}\n"
             "  - id: lakeside\n"
             "    name: LAKESIDE COMMUNITY HOSPITAL\n"
             "    npi: \"1678901236\"\n"
             "    tax_id: \"987654321\"\n"
             "    taxonomy: 282N00000X\n"
             "    claim_prefix: LCH\n"
             "    address: {line1: 2 LAKE SHORE DRIVE, city: MADISON, state: WI, zip: \"53703\"}\n"
             "    payers:\n"
             "      acme: {submitter_id: LCHACME, contact: {name: PATIENT ACCOUNTS, phone: \"6085550199\"}}\n"
             "      bluecross: {submitter_id: LCHBLUE, contact: {name: PATIENT ACCOUNTS, phone: \"6085550199\"}}\n"
             "      statecaid: {submitter_id: LCHCAID, contact: {name: PATIENT ACCOUNTS, phone: \"6085550199\"}}\n"
             "operators:\n"
             "  admin: all\n"
             "  alice: [riverside]\n"
             "  bob: [lakeside]\n",
             e->home, e->home, e->home);
    snprintf(e->conf, sizeof e->conf, "%s/ch.yaml", e->home);
    tu_write(e->conf, text);
}

static void e2e_init(e2e *e)
{
    memset(e, 0, sizeof *e);
    cr_assert_eq(tf_start("sftp"), 0, "could not start sshd (servers.sh sftp)");
    snprintf(e->home, sizeof e->home, "/tmp/ch-e2e-XXXXXX");
    cr_assert(mkdtemp(e->home));
    snprintf(e->remote, sizeof e->remote, "%s/%s", tf_env("SFTP_DATA"), tf_unique("e2e"));
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 3; k++)
            tf_mkdirs(tf_fmt("%s/%s/%s", e->remote, PAYERS[i], (const char *[]){"in", "out", "arch"}[k]));
    tf_mkdirs(tf_fmt("%s/payer-profiles", e->home));
    tf_mkdirs(tf_fmt("%s/spool/inbound/riverside", e->home));
    tf_mkdirs(tf_fmt("%s/spool/inbound/lakeside", e->home));
    write_profile(e, "acme", "ACME",
                  "  paid_percent: 80\n  patient_percent: 20\n  reject_999: [\"99499\"]\n  deny: [\"97799\"]\n");
    write_profile(e, "bluecross", "BLUEX", "  paid_percent: 70\n  patient_percent: 10\n  reject: [\"J1885\"]\n");
    write_profile(e, "statecaid", "STCAID", "  paid_percent: 60\n  patient_percent: 0\n  deny: [\"J1885\"]\n");
    write_conf(e);
}

/* --- the practices' side ---------------------------------------------------------------- */

/* Drop an encounter the way a practice must: a dot name, then a rename. */
static void drop(e2e *e, const char *practice, const char *name, const char *yaml)
{
    char tmp[1024], final[1024];
    snprintf(tmp, sizeof tmp, "%s/spool/inbound/%s/.%s.tmp", e->home, practice, name);
    snprintf(final, sizeof final, "%s/spool/inbound/%s/%s.yaml", e->home, practice, name);
    tu_write(tmp, yaml);
    cr_assert_eq(rename(tmp, final), 0);
}

/* An office visit of riverside (837P); lines is a YAML list. */
static void visit(e2e *e, const char *name, const char *id, const char *payer, const char *member, const char *total,
                  const char *lines)
{
    drop(e, "riverside", name,
         tf_fmt("encounter_id: %s\n"
                "payer: %s\n"
                "claim_type: professional\n"
                "place_of_service: \"11\"\n"
                "total_charge: \"%s\"\n"
                "subscriber:\n"
                "  member_id: %s\n"
                "  group_number: GRP-5500\n"
                "  last_name: DOE\n"
                "  first_name: JANE\n"
                "  birth_date: 1980-04-12\n"
                "  sex: F\n"
                "  address: {line1: 12 MAIN STREET, city: SPRINGFIELD, state: IL, zip: 62701-2200}\n"
                "patient: {relationship: self}\n"
                "providers:\n"
                "  rendering: {npi: \"1234567893\", last_name: SMITH, first_name: ANNA, taxonomy: 207Q00000X}\n"
                "diagnoses: [I10, E11.9]\n"
                "lines:\n%s",
                id, payer, total, member, lines));
}

/* An outpatient service of lakeside (837I). */
static void outpatient(e2e *e, const char *name, const char *id, const char *payer, const char *member,
                       const char *lines)
{
    drop(e, "lakeside", name,
         tf_fmt("encounter_id: %s\n"
                "payer: %s\n"
                "claim_type: institutional\n"
                "subscriber:\n"
                "  member_id: %s\n"
                "  last_name: SCHULTZ\n"
                "  first_name: IRMA\n"
                "  birth_date: 1944-08-08\n"
                "  sex: F\n"
                "  address: {line1: 14 WILLOW WAY, city: MADISON, state: WI, zip: \"53711\"}\n"
                "providers:\n"
                "  attending: {npi: \"1345678902\", last_name: OKAFOR, first_name: CHIDI}\n"
                "diagnoses: [M54.50, M47.816]\n"
                "institutional:\n"
                "  type_of_bill: \"0131\"\n"
                "  admission_type: \"3\"\n"
                "  statement_from: 2026-11-12\n"
                "  statement_to: 2026-11-12\n"
                "  patient_status: \"01\"\n"
                "lines:\n%s",
                id, payer, member, lines));
}

#define R3_LINE(code) "  - {procedure: \"" code "\", units: 1, charge: \"75.50\", date: 2026-11-04, diagnosis_pointers: [1]}\n"

static void drop_round_one(e2e *e)
{
    visit(e, "r1", "RFM-E2E-1", "acme", "M0001", "140.00",
          "  - {procedure: \"99214\", units: 1, charge: \"125.00\", date: 2026-11-02, diagnosis_pointers: [1, 2]}\n"
          "  - {procedure: \"36415\", units: 1, charge: \"15.00\", date: 2026-11-02, diagnosis_pointers: [2]}\n");
    visit(e, "r2", "RFM-E2E-2", "acme", "M0002", "90.00",
          "  - {procedure: \"97799\", units: 1, charge: \"90.00\", date: 2026-11-03, diagnosis_pointers: [1]}\n");
    visit(e, "r3", "RFM-E2E-3", "acme", "M0003", "75.50", R3_LINE("99499")); /* acme's 999 refuses 99499 */
    visit(e, "r4", "RFM-E2E-4", "bluecross", "M0004", "98.76",
          "  - {procedure: \"99213\", units: 1, charge: \"98.76\", date: 2026-11-05, diagnosis_pointers: [1]}\n");
    visit(e, "r5", "RFM-E2E-5", "bluecross", "M0005", "145.67",
          "  - {procedure: \"99214\", units: 1, charge: \"133.33\", date: 2026-11-06, diagnosis_pointers: [1]}\n"
          "  - {procedure: \"36415\", units: 1, charge: \"12.34\", date: 2026-11-06, diagnosis_pointers: [2]}\n");
    visit(e, "r6", "RFM-E2E-6", "statecaid", "M0006", "61.11",
          "  - {procedure: \"99212\", units: 1, charge: \"61.11\", date: 2026-11-07, diagnosis_pointers: [1]}\n");
    outpatient(e, "l1", "LCH-E2E-1", "acme", "L0001",
               "  - {revenue_code: \"0320\", procedure: \"72110\", units: 1, charge: \"410.00\", date: 2026-11-12}\n"
               "  - {revenue_code: \"0250\", units: 12, charge: \"640.55\", date: 2026-11-12}\n");
    outpatient(e, "l2", "LCH-E2E-2", "bluecross", "L0002",
               "  - {revenue_code: \"0320\", procedure: \"72110\", units: 1, charge: \"410.00\", date: 2026-11-12}\n"
               "  - {revenue_code: \"0636\", procedure: \"J1885\", units: 2, charge: \"36.20\", date: 2026-11-12}\n");
    outpatient(e, "l3", "LCH-E2E-3", "statecaid", "L0003",
               "  - {revenue_code: \"0320\", procedure: \"72110\", units: 1, charge: \"333.33\", date: 2026-11-12}\n"
               "  - {revenue_code: \"0636\", procedure: \"J1885\", units: 2, charge: \"36.20\", date: 2026-11-12}\n");
}

/* --- commands ------------------------------------------------------------------------------ */

/* `clearinghouse ARGS --config ch.yaml`: its exit status, output in *out. */
static int ch(e2e *e, char **out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ch(e2e *e, char **out, const char *fmt, ...)
{
    char args[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return ch_run(out, "%s --config '%s'", args, e->conf);
}

/* The same, which must exit with status `want`; the output is freed. */
static void ch_ok(e2e *e, int want, const char *args)
{
    char *out;
    int st = ch(e, &out, "%s", args);
    cr_assert_eq(st, want, "clearinghouse %s: exit %d, not %d:\n%s", args, st, want, out);
    free(out);
}

/* One pass of the daemon: intake, batch, send, collect, reconcile. */
static void run_once(e2e *e)
{
    ch_ok(e, 0, tf_fmt("run --once --log '%s/run.log'", e->home));
}

/* The payers read what the sshd received and leave their answers. */
static void payers_answer(e2e *e, const char *date)
{
    for (int i = 0; i < 3; i++)
        ch_ok(e, 0,
              tf_fmt("payer-answer --payer %s --in '%s/%s/in' --out '%s/%s/out' --date %s", PAYERS[i], e->remote,
                     PAYERS[i], e->remote, PAYERS[i], date));
}

/* --- the ledger, read -------------------------------------------------------------------------- */

typedef struct claim_info {
    ledger_claim c;
    int64_t net;          /* payments less reversals, cents */
    int payments, reversals, reversed;
} claim_info;

typedef struct claim_set {
    claim_info v[32];
    int n;
} claim_set;

static int grab(void *ctx, const ledger_claim *c)
{
    claim_set *s = ctx;
    if (s->n < 32) {
        s->v[s->n].c = *c;
        s->v[s->n].c.doc = NULL;
        s->n++;
    }
    return 0;
}

static int add_payment(void *ctx, const ledger_claim_payment *p)
{
    claim_info *ci = ctx;
    ci->net += p->paid;
    if (p->reversal)
        ci->reversals++;
    else
        ci->payments++;
    if (p->reversed_by)
        ci->reversed++;
    return 0;
}

static ledger *open_ledger(e2e *e)
{
    ledger *l;
    ch_error err;
    cr_assert_eq(ledger_open(&l, "sqlite", tf_fmt("%s/spool/ledger.db", e->home), &err), CH_OK, "%s", err.msg);
    return l;
}

/* Every claim, with its payments. */
static claim_set *claims(e2e *e)
{
    static claim_set s;
    memset(&s, 0, sizeof s);
    ledger *l = open_ledger(e);
    ledger_filter f = {.state = -1};
    ch_error err;
    cr_assert_eq(ledger_claims_each(l, &f, grab, &s, &err), CH_OK, "%s", err.msg);
    for (int i = 0; i < s.n; i++)
        cr_assert_eq(ledger_claim_payments_each(l, s.v[i].c.id, add_payment, &s.v[i], &err), CH_OK, "%s", err.msg);
    ledger_close(l);
    return &s;
}

/* The claim of an encounter with frequency freq (1, 7, 8). */
static claim_info *claim_of(claim_set *s, const char *enc_id, int freq)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->v[i].c.encounter_id, enc_id) && s->v[i].c.frequency == freq)
            return &s->v[i];
    cr_assert_fail("no claim of encounter %s with frequency %d", enc_id, freq);
    return NULL;
}

static void expect_claim(claim_set *s, const char *enc_id, int freq, ledger_state st, int64_t net)
{
    claim_info *ci = claim_of(s, enc_id, freq);
    cr_expect_eq(ci->c.state, st, "%s (frequency %d): %s, expected %s", enc_id, freq, ledger_state_name(ci->c.state),
                 ledger_state_name(st));
    cr_expect_eq(ci->net, net, "%s (frequency %d): %" PRId64 " cents posted, expected %" PRId64, enc_id, freq,
                 ci->net, net);
}

static ledger_batch batch(e2e *e, int64_t id)
{
    ledger *l = open_ledger(e);
    ledger_batch b;
    ch_error err;
    cr_assert_eq(ledger_batch_get(l, id, &b, &err), CH_OK, "%s", err.msg);
    ledger_send_info x;
    cr_assert_eq(ledger_batch_send_info(l, id, &x, &err), CH_OK, "%s", err.msg);
    ledger_close(l);
    snprintf(b.file, sizeof b.file, "%s", x.remote_name); /* the name at the payer is what we read */
    return b;
}

typedef struct ev_find {
    const char *needle;
    int found;
} ev_find;

static int on_event(void *ctx, const ledger_event *ev)
{
    ev_find *f = ctx;
    if (strstr(ev->why, f->needle))
        f->found = 1;
    return 0;
}

static int has_event(e2e *e, int64_t claim_id, const char *needle)
{
    ledger *l = open_ledger(e);
    ev_find f = {needle, 0};
    ch_error err;
    cr_assert_eq(ledger_claim_events(l, claim_id, on_event, &f, &err), CH_OK, "%s", err.msg);
    ledger_close(l);
    return f.found;
}

/* The 837 the sshd received for a batch (in the payer's in/, or in/answered/
 * once answered), malloc'd. */
static char *received(e2e *e, const char *payer, const ledger_batch *b)
{
    char *t = tu_read(tf_fmt("%s/%s/in/%s", e->remote, payer, b->file), NULL);
    if (!t)
        t = tu_read(tf_fmt("%s/%s/in/answered/%s", e->remote, payer, b->file), NULL);
    cr_assert(t, "the sshd has no %s for %s", b->file, payer);
    return t;
}

/* The segments of the claim pcn in an 837 (from its CLM up to the next CLM). */
static char *claim_segments(char *x12, const char *pcn)
{
    char key[64];
    snprintf(key, sizeof key, "CLM*%s*", pcn);
    char *s = strstr(x12, key);
    cr_assert(s, "no CLM of %s", pcn);
    char *next = strstr(s + 4, "CLM*");
    if (next)
        *next = '\0';
    return s;
}

/* --- what an operator sees --------------------------------------------------------------------- */

/* Everything operator op can read: claims (with history), rejects, status. */
static char *everything_seen_by(e2e *e, const char *op)
{
    const char *cmds[] = {"claims --events", "claims --json", "rejects", "rejects --json", "status", "status --json"};
    size_t cap = 1 << 16, len = 0;
    char *all = malloc(cap);
    all[0] = '\0';
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char *out;
        int st = ch(e, &out, "%s --operator %s", cmds[i], op);
        cr_assert_eq(st, 0, "%s as %s: exit %d: %s", cmds[i], op, st, out);
        size_t n = strlen(out);
        while (len + n + 2 > cap)
            all = realloc(all, cap *= 2);
        memcpy(all + len, out, n + 1);
        len += n;
        free(out);
    }
    return all;
}

static void sees_nothing_of(e2e *e, const char *op, const char *other, const char *other_prefix)
{
    char *all = everything_seen_by(e, op);
    cr_expect_null(strstr(all, other), "%s sees %s:\n%s", op, other, all);
    cr_expect_null(strstr(all, other_prefix), "%s sees a claim of %s:\n%s", op, other, all);
    free(all);
    /* and asking for it is refused, not answered with an empty list */
    char *out;
    cr_expect_eq(ch(e, &out, "claims --operator %s --practice %s", op, other), 2, "%s", out);
    cr_expect(strstr(out, "not permitted"), "%s", out);
    free(out);
}

/* --- the test ---------------------------------------------------------------------------------- */

/*
 * The money, by the payers' rules (allowed = charge x paid_percent, cut to
 * the cent; patient = allowed x patient_percent, cut; paid = allowed -
 * patient), worked out by hand:
 *   acme 80/20: 99214 125.00 -> 80.00, 36415 15.00 -> 9.60: r1 89.60;
 *       99213 75.50 -> allowed 60.40, patient 12.08: r3 48.32; 97799 denied: r2 0;
 *       l1: 410.00 -> 262.40, 640.55 -> allowed 512.44, patient 102.48, 409.96: 672.36
 *   bluecross 70/10: 98.76 -> allowed 69.13, patient 6.91: r4 62.22;
 *       133.33 -> 93.33 - 9.33 = 84.00, 12.34 -> 8.63 - 0.86 = 7.77: r5 91.77
 *   statecaid 60/0: 61.11 -> r6 36.66; l3 333.33 -> 199.99, J1885 denied: partial
 */
Test(e2e_sftp, two_practices_three_payers_reject_replay_correct_void)
{
    e2e e;
    e2e_init(&e);
    double t0 = tf_now();
    char *out;

    /* 1. the practices drop their encounters; one pass sends six batches over SFTP */
    drop_round_one(&e);
    run_once(&e);
    claim_set *s = claims(&e);
    cr_assert_eq(s->n, 9, "nine encounters, nine claims");
    for (int i = 0; i < s->n; i++)
        cr_expect_eq(s->v[i].c.state, LEDGER_SENT, "%s is %s", s->v[i].c.pcn, ledger_state_name(s->v[i].c.state));
    for (int i = 0; i < 3; i++)
        cr_expect_eq(tu_count(tf_fmt("%s/%s/in", e.remote, PAYERS[i]), ".x12"), 2,
                     "the sshd received an 837P and an 837I for %s", PAYERS[i]);
    int64_t rejected_batch = claim_of(s, "RFM-E2E-1", 1)->c.batch_id;
    ledger_batch first = batch(&e, rejected_batch);
    cr_expect_eq(claim_of(s, "RFM-E2E-3", 1)->c.batch_id, rejected_batch, "r1..r3 travel together");

    /* 2. the payers answer; the next pass collects over SFTP and reconciles */
    payers_answer(&e, "20261120");
    run_once(&e);
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(tu_count(tf_fmt("%s/%s/out", e.remote, PAYERS[i]), ""), 0, "%s: every answer collected",
                     PAYERS[i]);
        cr_expect_gt(tu_count(tf_fmt("%s/%s/arch", e.remote, PAYERS[i]), ""), 0, "%s: answers archived", PAYERS[i]);
    }
    s = claims(&e);
    expect_claim(s, "RFM-E2E-1", 1, LEDGER_REJECTED, 0); /* its batch was rejected by acme's 999 */
    expect_claim(s, "RFM-E2E-2", 1, LEDGER_REJECTED, 0);
    expect_claim(s, "RFM-E2E-3", 1, LEDGER_REJECTED, 0);
    expect_claim(s, "RFM-E2E-4", 1, LEDGER_PAID, 6222);
    expect_claim(s, "RFM-E2E-5", 1, LEDGER_PAID, 9177);
    expect_claim(s, "RFM-E2E-6", 1, LEDGER_PAID, 3666);
    expect_claim(s, "LCH-E2E-1", 1, LEDGER_PAID, 67236);
    expect_claim(s, "LCH-E2E-2", 1, LEDGER_REJECTED, 0); /* bluecross's 277CA rejects J1885 */
    expect_claim(s, "LCH-E2E-3", 1, LEDGER_PARTIAL, 19999);
    const char *r3_pcn = claim_of(s, "RFM-E2E-3", 1)->c.pcn;
    char r3[21];
    snprintf(r3, sizeof r3, "%s", r3_pcn);

    /* 3. riverside's operator sees the rejected batch, with the claim to fix */
    cr_assert_eq(ch(&e, &out, "rejects --operator alice --json"), 0, "%s", out);
    cr_expect(strstr(out, tf_fmt("\"batches\":[{\"id\":%" PRId64 ",", rejected_batch)), "the batch is listed: %s", out);
    cr_expect(strstr(out, "999 rejected"), "%s", out);
    cr_expect(strstr(out, tf_fmt("claim %s: SV101-2", r3)), "the reason names the claim and the element: %s", out);
    cr_expect(strstr(out, "IK403 7 (Invalid Code Value)"), "%s", out);
    cr_expect_null(strstr(out, "LCH"), "%s", out);
    free(out);
    /* lakeside's operator cannot replay it: it reads as not found */
    cr_expect_eq(ch(&e, &out, "replay --operator bob --batch %" PRId64, rejected_batch), 2, "%s", out);
    cr_expect(strstr(out, "no batch"), "%s", out);
    free(out);

    /* 4. the fix: a new version of the encounter, then the batch replayed */
    visit(&e, "r3", "RFM-E2E-3", "acme", "M0003", "75.50", R3_LINE("99213"));
    cr_assert_eq(ch(&e, &out, "replay --operator alice --batch %" PRId64, rejected_batch), 0, "%s", out);
    cr_expect(strstr(out, "3 claims replayed"), "%s", out);
    free(out);
    run_once(&e);
    s = claims(&e);
    int64_t replay_batch = claim_of(s, "RFM-E2E-1", 1)->c.batch_id;
    cr_assert_neq(replay_batch, rejected_batch, "the replay went out in a new batch");
    for (int i = 1; i <= 3; i++) {
        claim_info *ci = claim_of(s, tf_fmt("RFM-E2E-%d", i), 1);
        cr_expect_eq(ci->c.state, LEDGER_SENT, "%s", ci->c.pcn);
        cr_expect_eq(ci->c.batch_id, replay_batch);
        cr_expect(has_event(&e, ci->c.id,
                            tf_fmt("replay of claim %" PRId64 " from batch %" PRId64 " by operator alice", ci->c.id,
                                   rejected_batch)),
                  "claim %" PRId64 ": the replay is linked to the original batch", ci->c.id);
    }
    cr_expect_eq(claim_of(s, "RFM-E2E-3", 1)->c.version, 2, "r3 went out corrected");
    ledger_batch again = batch(&e, replay_batch);
    cr_expect_neq(again.isa13, first.isa13, "new interchange control number");
    cr_expect_neq(again.gs06, first.gs06, "new group control number");
    cr_expect_str_neq(again.file, first.file, "a new file at the payer");
    char *x = received(&e, "acme", &again);
    cr_expect(strstr(x, tf_fmt("*%09" PRIu64 "*", again.isa13)), "ISA13 of the replay in the file");
    cr_expect(strstr(x, "SV1*HC:99213*75.5*"), "the corrected line went out");
    cr_expect_null(strstr(x, "99499"), "the refused code did not");
    free(x);

    payers_answer(&e, "20261121");
    run_once(&e);
    s = claims(&e);
    expect_claim(s, "RFM-E2E-1", 1, LEDGER_PAID, 8960);
    expect_claim(s, "RFM-E2E-2", 1, LEDGER_DENIED, 0);
    expect_claim(s, "RFM-E2E-3", 1, LEDGER_PAID, 4832);

    /* 5. a replacement of r4 and a void of r5, with the payer's claim numbers */
    int64_t r4 = claim_of(s, "RFM-E2E-4", 1)->c.id, r5 = claim_of(s, "RFM-E2E-5", 1)->c.id;
    int64_t l1 = claim_of(s, "LCH-E2E-1", 1)->c.id;
    cr_expect_eq(ch(&e, &out, "correct --operator alice --claim %" PRId64, l1), 2, "%s", out);
    free(out);
    cr_expect_eq(ch(&e, &out, "void --operator alice --claim %" PRId64, l1), 2, "%s", out);
    free(out);
    cr_assert_eq(ch(&e, &out, "correct --operator alice --claim %" PRId64 " --json", r4), 0, "%s", out);
    cr_expect(strstr(out, "\"frequency\":7"), "%s", out);
    cr_expect(strstr(out, tf_fmt("\"payer_claim_number\":\"P%s\"", claim_of(s, "RFM-E2E-4", 1)->c.pcn)), "%s", out);
    free(out);
    cr_assert_eq(ch(&e, &out, "void --operator alice --claim %" PRId64 " --json", r5), 0, "%s", out);
    cr_expect(strstr(out, "\"frequency\":8"), "%s", out);
    free(out);
    run_once(&e);
    s = claims(&e);
    claim_info *r4x = claim_of(s, "RFM-E2E-4", 7), *r5x = claim_of(s, "RFM-E2E-5", 8);
    cr_expect_eq(r4x->c.replaces, r4);
    cr_expect_eq(r5x->c.replaces, r5);
    cr_expect_eq(r4x->c.state, LEDGER_SENT);
    cr_expect_eq(r4x->c.batch_id, r5x->c.batch_id, "one bluecross batch carries both");
    ledger_batch amend = batch(&e, r4x->c.batch_id);
    x = received(&e, "bluecross", &amend);
    char *r4seg = claim_segments(x, r4x->c.pcn);
    cr_expect(strstr(r4seg, "*98.76***11:B:7*"), "CLM05-3 7: %s", r4seg);
    cr_expect(strstr(r4seg, tf_fmt("REF*F8*P%s~", claim_of(s, "RFM-E2E-4", 1)->c.pcn)), "REF*F8: %s", r4seg);
    free(x);
    x = received(&e, "bluecross", &amend);
    char *r5seg = claim_segments(x, r5x->c.pcn);
    cr_expect(strstr(r5seg, "*145.67***11:B:8*"), "CLM05-3 8: %s", r5seg);
    cr_expect(strstr(r5seg, tf_fmt("REF*F8*P%s~", claim_of(s, "RFM-E2E-5", 1)->c.pcn)), "REF*F8: %s", r5seg);
    free(x);

    /* the payer takes back both payments and pays the replacement */
    payers_answer(&e, "20261122");
    run_once(&e);

    /* 6. where everything ends, to the cent */
    s = claims(&e);
    cr_expect_eq(s->n, 11);
    expect_claim(s, "RFM-E2E-1", 1, LEDGER_PAID, 8960);
    expect_claim(s, "RFM-E2E-2", 1, LEDGER_DENIED, 0);
    expect_claim(s, "RFM-E2E-3", 1, LEDGER_PAID, 4832);
    expect_claim(s, "RFM-E2E-4", 1, LEDGER_VOID, 0);     /* 62.22 paid, then taken back */
    expect_claim(s, "RFM-E2E-4", 7, LEDGER_PAID, 6222);  /* the replacement, paid */
    expect_claim(s, "RFM-E2E-5", 1, LEDGER_VOID, 0);     /* 91.77 paid, then taken back */
    expect_claim(s, "RFM-E2E-5", 8, LEDGER_VOID, 0);     /* the void, carried out */
    expect_claim(s, "RFM-E2E-6", 1, LEDGER_PAID, 3666);
    expect_claim(s, "LCH-E2E-1", 1, LEDGER_PAID, 67236);
    expect_claim(s, "LCH-E2E-2", 1, LEDGER_REJECTED, 0);
    expect_claim(s, "LCH-E2E-3", 1, LEDGER_PARTIAL, 19999);
    for (int k = 0; k < 2; k++) {
        claim_info *orig = claim_of(s, k ? "RFM-E2E-5" : "RFM-E2E-4", 1);
        cr_expect_eq(orig->payments, 1);
        cr_expect_eq(orig->reversals, 1, "%s: the payer's reversal is posted to the claim it paid", orig->c.pcn);
        cr_expect_eq(orig->reversed, 1, "%s: its payment is marked reversed", orig->c.pcn);
    }
    cr_expect(has_event(&e, claim_of(s, "RFM-E2E-5", 8)->c.id,
                        tf_fmt("the payer voided claim %s", claim_of(s, "RFM-E2E-5", 1)->c.pcn)),
              "the void's history says what the payer did");
    int64_t money[2] = {0, 0};
    for (int i = 0; i < s->n; i++)
        money[!strcmp(s->v[i].c.practice, "lakeside")] += s->v[i].net;
    cr_expect_eq(money[0], 23680, "riverside: 89.60 + 48.32 + 62.22 + 36.66, got %" PRId64, money[0]);
    cr_expect_eq(money[1], 87235, "lakeside: 672.36 + 199.99, got %" PRId64, money[1]);

    /* the operator's screen says the same: today's money, per practice */
    time_t now = time(NULL);
    char today[16], posted_day[16];
    strftime(today, sizeof today, "%Y%m%d", gmtime(&now));
    snprintf(posted_day, sizeof posted_day, "%s", today);
    cr_assert_eq(ch(&e, &out, "status --operator alice --json"), 0, "%s", out);
    now = time(NULL);
    strftime(today, sizeof today, "%Y%m%d", gmtime(&now));
    if (!strcmp(today, posted_day)) /* not across midnight (UTC) */
        cr_expect(strstr(out, "\"posted_today\":236.80"), "%s", out);
    free(out);
    cr_assert_eq(ch(&e, &out, "rejects --operator alice"), 0, "%s", out);
    cr_expect(strstr(out, "0 claims and 0 batches to look at"), "riverside's worklist is done: %s", out);
    free(out);

    /* 7. each practice's operator sees nothing of the other */
    sees_nothing_of(&e, "alice", "lakeside", "LCH");
    sees_nothing_of(&e, "bob", "riverside", "RFM");

    double took = tf_now() - t0;
    cr_log_info("e2e over sftp: %.1f s", took);
    cr_expect_lt(took, 30.0 * tf_slack(), "the whole round took %.1f s", took);
    tu_rmtree(e.home);
}
