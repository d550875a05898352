/*
 * test_match_rules.c - payer matching rules: the YAML (and every example in
 * docs/reconciliation.md), payer keys, matching through a small in-memory
 * ledger (a truncated CLP01 matched by a truncate rule, a collision that is
 * ambiguous, the fallback with one and with two candidates), lines by REF*6R
 * and by procedure, and underpayment against expected allowed amounts.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <unistd.h>

#include "match_rules.h"
#include "recon_helpers.h"

/* --- a tiny ledger ------------------------------------------------------- */

typedef struct tl_claim {
    claim_ref ref;
    const char *member, *from, *to;
    char key[MATCH_KEY_MAX];
} tl_claim;

typedef struct tledger {
    tl_claim c[16];
    size_t n;
    const match_rules *rules;
    unsigned pcn_calls, fallback_calls;
} tledger;

static void tl_add(tledger *l, uint64_t id, const char *pcn, int64_t charge, const char *member,
                   const char *from, const char *to, const claim_line_ref *lines, size_t nlines)
{
    tl_claim *c = &l->c[l->n++];
    memset(c, 0, sizeof *c);
    c->ref.id = id;
    c->ref.pcn = pcn;
    c->ref.charge = charge;
    c->ref.lines = lines;
    c->ref.nlines = nlines;
    c->member = member;
    c->from = from;
    c->to = to;
    match_pcn_key(l->rules, pcn, c->key, sizeof c->key); /* indexed under its payer key */
}

static const claim_ref *tl_by_pcn(void *ctx, const char *key)
{
    tledger *l = ctx;
    l->pcn_calls++;
    const claim_ref *found = NULL;
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->c[i].ref.pcn, key) || !strcmp(l->c[i].key, key)) {
            if (found)
                return MATCH_MANY;
            found = &l->c[i].ref;
        }
    return found;
}

static size_t tl_by_pdc(void *ctx, const match_patient_query *q, const claim_ref **out, size_t max)
{
    tledger *l = ctx;
    l->fallback_calls++;
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++) {
        const tl_claim *c = &l->c[i];
        if (!strcmp(c->member, q->member_id) && !strcmp(c->from, q->date_from) &&
            !strcmp(c->to, q->date_to) && c->ref.charge == q->charge) {
            if (n < max)
                out[n] = &c->ref;
            n++;
        }
    }
    return n;
}

static match_lookup tl_lookup(tledger *l)
{
    match_lookup lk = {tl_by_pcn, tl_by_pdc, NULL, l};
    return lk;
}

/* --- reading the hand-made 835s: keep the first claim's query data ------ */

typedef struct one_claim {
    const match_rules *rules;
    const match_lookup *lk;
    match_result res;
    unsigned nclaims;
    /* for line matching */
    const claim_ref *ledger_claim;
    match_line_result lines[8];
    unsigned nlines, matched_lines;
    unsigned underpaid;
    match_underpayment up[8];
    int up_flag[8];
} one_claim;

static void on_claim(void *ctx, const remit_payment *p, const remit_claim *c)
{
    one_claim *o = ctx;
    (void)p;
    if (o->nclaims++)
        return;
    match_query q;
    match_query_from_835(c, &q);
    match_claim(o->rules, o->lk, &q, &o->res);
    o->nlines = c->nlines;
    if (o->ledger_claim && c->nlines <= 8)
        o->matched_lines = match_lines(o->rules, c, o->ledger_claim, o->lines);
    for (unsigned i = 0; i < c->nlines && i < 8; i++) {
        o->up_flag[i] = match_line_underpaid(o->rules, c, &c->lines[i], &o->up[i]);
        o->underpaid += (unsigned)o->up_flag[i];
    }
}

static void run_835(const char *file, one_claim *o)
{
    char path[512];
    int fd = open(rc_path(file, path, sizeof path), O_RDONLY);
    cr_assert_geq(fd, 0, "%s", path);
    remit_835_events ev = {NULL, on_claim, NULL, NULL, o};
    cr_assert_eq(remit_835_read_fd(fd, file, &ev, NULL, NULL, NULL, NULL), CH_OK);
    close(fd);
}

static void rules_from(const char *yaml, match_rules *r)
{
    ch_error err;
    ch_code c = match_rules_parse_text(yaml, strlen(yaml), 0, r, &err);
    cr_assert_eq(c, CH_OK, "%s", err.msg);
}

/* --- YAML ------------------------------------------------------------------ */

Test(match_rules, the_issue_example_parses)
{
    match_rules r;
    rules_from("remittance:\n"
               "  pcn_transform: [upper, strip_prefix: \"ACME-\", truncate: 14]\n"
               "  line_match: ref_6r | procedure\n"
               "  fallback: patient_dates_charge\n"
               "  expected_allowed: {\"99213\": \"95.00\"}\n",
               &r);
    cr_assert_eq(r.nsteps, 3);
    cr_assert_eq(r.steps[0].kind, MATCH_STEP_UPPER);
    cr_assert_eq(r.steps[1].kind, MATCH_STEP_STRIP_PREFIX);
    cr_assert_str_eq(r.steps[1].args[0], "ACME-");
    cr_assert_eq(r.steps[2].kind, MATCH_STEP_TRUNCATE);
    cr_assert_eq(r.steps[2].n, 14);
    cr_assert_eq(r.nline_match, 2);
    cr_assert_eq(r.line_match[0], MATCH_LINE_REF_6R);
    cr_assert_eq(r.line_match[1], MATCH_LINE_PROCEDURE);
    cr_assert_eq(r.fallback, MATCH_FALLBACK_PATIENT_DATES_CHARGE);
    int64_t v;
    cr_assert(match_expected_allowed(&r, "99213", NULL, 0, &v));
    cr_assert_eq(v, 9500);
    cr_assert(!match_expected_allowed(&r, "99214", NULL, 0, &v));
    match_rules_free(&r);
}

Test(match_rules, defaults_without_a_remittance_key)
{
    match_rules r;
    rules_from("payer_id: X\nname: Y\n", &r);
    cr_assert_eq(r.nsteps, 0);
    cr_assert_eq(r.nline_match, 2);
    cr_assert_eq(r.fallback, MATCH_FALLBACK_PATIENT_DATES_CHARGE);
    cr_assert_eq(r.nfees, 0);
    match_rules_free(&r);
}

static void expect_config_error(const char *yaml, const char *needle)
{
    match_rules r;
    ch_error err;
    ch_code c = match_rules_parse_text(yaml, strlen(yaml), 0, &r, &err);
    cr_assert_eq(c, CH_ERR_CONFIG, "%s -> %d %s", yaml, c, err.msg);
    cr_assert(strstr(err.msg, needle), "'%s' not in '%s'", needle, err.msg);
    match_rules_free(&r);
}

Test(match_rules, mistakes_name_the_key_and_place)
{
    expect_config_error("remittance:\n  fallbak: none\n", "unknown key 'fallbak'");
    expect_config_error("remittance:\n  fallbak: none\n", "(line 2, column 3)");
    expect_config_error("remittance:\n  pcn_transform: [upper, truncate: 0]\n",
                        "remittance.pcn_transform[1]: truncate needs a number from 1 to 63");
    expect_config_error("remittance:\n  pcn_transform: [shout]\n", "unknown step 'shout'");
    expect_config_error("remittance:\n  pcn_transform: upper\n", "expected a list of steps");
    expect_config_error("remittance:\n  pcn_transform: [upper: 3]\n", "upper takes no value");
    expect_config_error("remittance:\n  line_match: ref_6r | psychic\n", "unknown method 'psychic'");
    expect_config_error("remittance:\n  fallback: maybe\n", "patient_dates_charge or none");
    expect_config_error("remittance:\n  expected_allowed: {\"99213\": \"95.001\"}\n",
                        "amount for '99213'");
    expect_config_error("remittance:\n  expected_allowed: {\"99213\": \"1\", \"99213\": \"2\"}\n",
                        "listed twice");
    expect_config_error("remittance: [1, 2]\n", "expected a mapping");
    match_rules r;
    ch_error err;
    cr_assert_eq(match_rules_parse_text("remittance: [unclosed\n", 22, 0, &r, &err), CH_ERR_SYNTAX);
    match_rules_free(&r);
}

/* Every ```yaml block of docs/reconciliation.md parses. */
Test(match_rules, every_yaml_example_in_the_doc_parses)
{
    char path[512];
    const char *root = getenv("CH_ROOT") ? getenv("CH_ROOT") : ".";
    snprintf(path, sizeof path, "%s/docs/reconciliation.md", root);
    size_t len;
    char *doc = rc_slurp(path, &len);
    cr_assert(doc, "%s", path);
    unsigned blocks = 0, with_rules = 0;
    for (char *p = strstr(doc, "\n```yaml\n"); p; p = strstr(p, "\n```yaml\n")) {
        p += 9;
        char *end = strstr(p, "\n```");
        cr_assert(end);
        match_rules r;
        ch_error err;
        ch_code c = match_rules_parse_text(p, (size_t)(end - p) + 1, 0, &r, &err);
        cr_assert_eq(c, CH_OK, "block %u: %s", blocks + 1, err.msg);
        with_rules += r.nsteps > 0 || r.nfees > 0 || r.fallback == MATCH_FALLBACK_NONE;
        match_rules_free(&r);
        blocks++;
        p = end;
    }
    cr_assert_geq(blocks, 4, "the doc has complete examples");
    cr_assert_geq(with_rules, 3);
    free(doc);
}

/* --- keys ---------------------------------------------------------------- */

Test(match_rules, payer_keys)
{
    match_rules r;
    rules_from("remittance:\n  pcn_transform: [upper, strip_prefix: \"ACME-\", truncate: 14]\n", &r);
    char k[MATCH_KEY_MAX];
    match_pcn_key(&r, "clinic-000012345-a", k, sizeof k);
    cr_assert_str_eq(k, "CLINIC-0000123");
    match_pcn_key(&r, "ACME-CLINIC-0000123", k, sizeof k);
    cr_assert_str_eq(k, "CLINIC-0000123", "the echo and what we sent meet");
    char keys[MATCH_MAX_KEYS][MATCH_KEY_MAX];
    unsigned n = match_pcn_candidates(&r, " ACME-CLINIC-0000123 ", keys, MATCH_MAX_KEYS);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(keys[0], "ACME-CLINIC-0000123");
    cr_assert_str_eq(keys[1], "CLINIC-0000123");
    cr_assert_eq(match_pcn_candidates(&r, "", keys, MATCH_MAX_KEYS), 0);
    match_rules_free(&r);

    rules_from("remittance:\n  pcn_transform: [trim, delete: \"- \", strip_leading_zeros,"
               " strip_suffix: [\"/1\", \"/2\"], lower]\n",
               &r);
    match_pcn_key(&r, " 00-12 3-AB/2", k, sizeof k);
    cr_assert_str_eq(k, "123ab");
    match_pcn_key(&r, "0000", k, sizeof k);
    cr_assert_str_eq(k, "0", "one zero is kept");
    n = match_pcn_candidates(&r, "123ab", keys, MATCH_MAX_KEYS);
    cr_assert_eq(n, 1, "no second key when the transform changes nothing");
    match_rules_free(&r);
}

/* --- claims -------------------------------------------------------------- */

Test(match_rules, a_truncated_clp01_is_matched_by_the_truncate_rule)
{
    match_rules r;
    rules_from("remittance:\n  pcn_transform: [upper, strip_prefix: \"ACME-\", truncate: 14]\n", &r);
    tledger *l = calloc(1, sizeof *l);
    l->rules = &r;
    tl_add(l, 1, "clinic-000012345-A", 5000, "MEM020", "20251106", "20251106", NULL, 0);
    tl_add(l, 2, "clinic-000099999-A", 5000, "MEM021", "20251106", "20251106", NULL, 0);
    match_lookup lk = tl_lookup(l);
    one_claim o = {.rules = &r, .lk = &lk};
    run_835("hand-truncated-pcn.835", &o);
    cr_assert_eq(o.res.status, MATCH_MATCHED, "%s", o.res.why);
    cr_assert_eq(o.res.how, MATCH_HOW_PAYER_KEY);
    cr_assert_eq(o.res.claim->id, 1);
    cr_assert_str_eq(o.res.key, "CLINIC-0000123");
    cr_assert_eq(l->fallback_calls, 0);

    /* without the rule, only the fallback could find it: here it does not */
    match_rules plain;
    match_rules_init(&plain);
    plain.fallback = MATCH_FALLBACK_NONE;
    l->rules = &plain;
    for (size_t i = 0; i < l->n; i++)
        match_pcn_key(&plain, l->c[i].ref.pcn, l->c[i].key, sizeof l->c[i].key);
    one_claim o2 = {.rules = &plain, .lk = &lk};
    run_835("hand-truncated-pcn.835", &o2);
    cr_assert_eq(o2.res.status, MATCH_UNMATCHED);
    cr_assert(strstr(o2.res.why, "no fallback"), "%s", o2.res.why);
    match_rules_free(&r);
    free(l);
}

Test(match_rules, two_claims_with_one_payer_key_are_ambiguous)
{
    match_rules r;
    rules_from("remittance:\n  pcn_transform: [upper, strip_prefix: \"ACME-\", truncate: 14]\n", &r);
    tledger *l = calloc(1, sizeof *l);
    l->rules = &r;
    tl_add(l, 1, "clinic-000012345-A", 5000, "MEM020", "20251106", "20251106", NULL, 0);
    tl_add(l, 2, "clinic-000012399-B", 5000, "MEM020", "20251106", "20251106", NULL, 0);
    match_lookup lk = tl_lookup(l);
    one_claim o = {.rules = &r, .lk = &lk};
    run_835("hand-truncated-pcn.835", &o);
    cr_assert_eq(o.res.status, MATCH_AMBIGUOUS, "%s", o.res.why);
    cr_assert_null(o.res.claim);
    cr_assert(strstr(o.res.why, "not guessing"), "%s", o.res.why);
    cr_assert_eq(l->fallback_calls, 0, "an ambiguous key is not overruled by the fallback");
    match_rules_free(&r);
    free(l);
}

Test(match_rules, the_fallback_matches_one_and_never_guesses_between_two)
{
    match_rules r;
    match_rules_init(&r);
    tledger *l = calloc(1, sizeof *l);
    l->rules = &r;
    /* the claim's dates come from its DTM*472 (no DTM*232 in the file) */
    tl_add(l, 7, "OURPCN-7", 10000, "MEM030", "20251107", "20251107", NULL, 0);
    tl_add(l, 8, "OURPCN-8", 10000, "MEM030", "20251108", "20251108", NULL, 0);
    tl_add(l, 9, "OURPCN-9", 9999, "MEM030", "20251107", "20251107", NULL, 0);
    match_lookup lk = tl_lookup(l);
    one_claim o = {.rules = &r, .lk = &lk};
    run_835("hand-fallback.835", &o);
    cr_assert_eq(o.res.status, MATCH_MATCHED, "%s", o.res.why);
    cr_assert_eq(o.res.how, MATCH_HOW_FALLBACK);
    cr_assert_eq(o.res.claim->id, 7);

    tl_add(l, 10, "OURPCN-10", 10000, "MEM030", "20251107", "20251107", NULL, 0);
    one_claim o2 = {.rules = &r, .lk = &lk};
    run_835("hand-fallback.835", &o2);
    cr_assert_eq(o2.res.status, MATCH_AMBIGUOUS, "%s", o2.res.why);
    cr_assert_eq(o2.res.ncandidates, 2);
    cr_assert_null(o2.res.claim);
    cr_assert(!strstr(o2.res.why, "MEM030"), "no PHI in the worklist reason");
    free(l);
}

Test(match_rules, an_exact_pcn_wins_and_the_trace_comes_first)
{
    match_rules r;
    match_rules_init(&r);
    tledger *l = calloc(1, sizeof *l);
    l->rules = &r;
    tl_add(l, 1, "PCN-A-001", 20000, "MEM001", "20251101", "20251102", NULL, 0);
    match_lookup lk = tl_lookup(l);
    match_query q = {.pcn = "PCN-A-001"};
    match_result res;
    match_claim(&r, &lk, &q, &res);
    cr_assert_eq(res.status, MATCH_MATCHED);
    cr_assert_eq(res.how, MATCH_HOW_PCN);
    q.pcn = "NOPE";
    match_claim(&r, &lk, &q, &res);
    cr_assert_eq(res.status, MATCH_UNMATCHED, "no member id: no fallback");
    free(l);
}

/* --- lines and underpayment --------------------------------------------- */

Test(match_rules, lines_by_ref_6r_then_procedure_and_underpayment)
{
    match_rules r;
    rules_from("remittance:\n  expected_allowed: {\"99213\": \"100.00\", \"99213:25\": \"115.00\","
               " \"81002\": \"50.00\"}\n  underpayment_tolerance: \"1.00\"\n",
               &r);
    static const claim_line_ref lines[] = {
        {1, NULL, "81002", {NULL}, 8000, "20251101"},
        {2, "LINE-1-1", "99213", {"25"}, 12000, "20251101"},
    };
    tledger *l = calloc(1, sizeof *l);
    l->rules = &r;
    tl_add(l, 1, "PAID001", 20000, "MEM001", "20251101", "20251101", lines, 2);
    match_lookup lk = tl_lookup(l);
    one_claim o = {.rules = &r, .lk = &lk, .ledger_claim = &l->c[0].ref};
    run_835("hand-statuses.835", &o);
    cr_assert_eq(o.res.status, MATCH_MATCHED);
    cr_assert_eq(o.nlines, 2);
    cr_assert_eq(o.matched_lines, 2);
    /* SVC 1 has REF*6R LINE-1-1 = ledger line 2 */
    cr_assert_eq(o.lines[0].status, MATCH_MATCHED);
    cr_assert_eq(o.lines[0].how, MATCH_LINE_REF_6R);
    cr_assert_eq(o.lines[0].ledger_line, 1);
    /* SVC 2 has REF*6R LINE-1-2, unknown to the ledger: by procedure */
    cr_assert_eq(o.lines[1].status, MATCH_MATCHED);
    cr_assert_eq(o.lines[1].how, MATCH_LINE_PROCEDURE);
    cr_assert_eq(o.lines[1].ledger_line, 0);
    /* 99213-25: allowed 110 (AMT*B6) < 115 - 1: underpaid by 5;
     * 81002: allowed 60 (AMT*B6) >= 50: not */
    cr_assert(o.up_flag[0]);
    cr_assert_eq(o.up[0].expected, 11500);
    cr_assert_eq(o.up[0].allowed, 11000);
    cr_assert_eq(o.up[0].shortfall, 500);
    cr_assert(!o.up_flag[1]);
    cr_assert_eq(o.underpaid, 1);
    match_rules_free(&r);
    free(l);
}

Test(match_rules, alike_lines_are_taken_in_order_other_ties_are_ambiguous)
{
    match_rules r;
    rules_from("remittance:\n  line_match: [procedure]\n", &r);
    remit_line rl[2];
    memset(rl, 0, sizeof rl);
    for (int i = 0; i < 2; i++) {
        strcpy(rl[i].proc, "97110");
        strcpy(rl[i].date_from, "20251101");
        rl[i].charge = 4000;
    }
    remit_claim c;
    memset(&c, 0, sizeof c);
    c.lines = rl;
    c.nlines = 2;
    claim_line_ref same[] = {{1, NULL, "97110", {NULL}, 4000, "20251101"},
                             {2, NULL, "97110", {NULL}, 4000, "20251101"}};
    claim_ref led = {1, "X", 8000, same, 2, NULL};
    match_line_result out[2];
    cr_assert_eq(match_lines(&r, &c, &led, out), 2);
    cr_assert_eq(out[0].ledger_line, 0);
    cr_assert_eq(out[1].ledger_line, 1);

    /* two candidates that differ in something the 835 does not say: ambiguous */
    claim_line_ref differ[] = {{1, NULL, "97110", {"GP"}, 4000, "20251101"},
                               {2, NULL, "97110", {"59"}, 4000, "20251101"}};
    led.lines = differ;
    cr_assert_eq(match_lines(&r, &c, &led, out), 0);
    cr_assert_eq(out[0].status, MATCH_AMBIGUOUS);
    cr_assert_eq(out[0].ledger_line, -1);
    match_rules_free(&r);
}

Test(match_rules, queries_from_277ca_claims_use_the_trace)
{
    status_277_claim c;
    memset(&c, 0, sizeof c);
    strcpy(c.pcn, "PCN-A-002");
    strcpy(c.ch_trace, "CHTRACE0002");
    strcpy(c.member_id, "MEM001");
    match_query q;
    match_query_from_277(&c, &q);
    cr_assert_str_eq(q.pcn, "PCN-A-002");
    cr_assert_str_eq(q.trace, "CHTRACE0002");
    cr_assert_str_eq(q.patient.member_id, "MEM001");
}
