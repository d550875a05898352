/*
 * test_encounter.c - reading encounters (YAML and JSON), the checks, the
 * ledger form, the code-set shapes, configuration and payer profiles.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "encounter.h"
#include "encounter_check.h"
#include "intake.h"
#include "payer_profile.h"
#include "sha256.h"
#include "tu.h"
#include "ydoc.h"

#define TODAY "20261123"

/* Read text as one encounter: problems joined into out (one per line). */
static ch_code read_text(const char *text, encounter *e, char *out, size_t size)
{
    ydoc *d;
    ch_error err;
    out[0] = '\0';
    ch_code rc = ydoc_parse(&d, text, strlen(text), "t.yaml", &err);
    if (rc != CH_OK) {
        snprintf(out, size, "%s", err.msg);
        encounter_init(e);
        return rc;
    }
    encounter_problems *p = calloc(1, sizeof *p);
    encounter_read(e, ydoc_root(d), p);
    encounter_check(e, TODAY, p);
    size_t n = 0;
    for (unsigned i = 0; i < p->n && n + 1 < size; i++)
        n += (size_t)snprintf(out + n, size - n, "%s: %s\n", p->v[i].path, p->v[i].msg);
    rc = p->n ? CH_ERR_INVALID : CH_OK;
    free(p);
    ydoc_free(d);
    return rc;
}

static const char *minimal =
    "encounter_id: E1\n"
    "payer: demo\n"
    "claim_type: professional\n"
    "place_of_service: '11'\n"
    "subscriber:\n"
    "  member_id: M1\n"
    "  last_name: DOE\n"
    "  first_name: JANE\n"
    "  birth_date: 1980-04-12\n"
    "  sex: F\n"
    "  address: {line1: 1 MAIN ST, city: SPRINGFIELD, state: IL, zip: '62701'}\n"
    "diagnoses: [I10, e11.9]\n"
    "lines:\n"
    "  - {procedure: '99213', charge: '100.5', date: 2026-11-02}\n"
    "  - {procedure: j3420, modifiers: 59, units: '2.5', charge: 10, date: 20261102}\n";

Test(encounter, reads_and_normalizes)
{
    encounter e;
    char probs[4096];
    cr_assert_eq(read_text(minimal, &e, probs, sizeof probs), CH_OK, "%s", probs);
    cr_expect_str_eq(e.encounter_id, "E1");
    cr_expect_eq(e.type, ENC_PROFESSIONAL);
    cr_expect_eq(e.frequency, ENC_ORIGINAL, "frequency defaults to original");
    cr_expect_eq(e.relationship, ENC_SELF, "no patient: the subscriber is the patient");
    cr_expect_str_eq(e.subscriber.birth_date, "19800412");
    cr_expect_eq(e.ndiagnoses, 2);
    cr_expect_str_eq(e.diagnoses[1], "E119", "dot dropped, upper-cased");
    cr_expect_eq(e.nlines, 2);
    cr_expect_eq(e.lines[0].charge, 10050);
    cr_expect_eq(e.lines[0].units_milli, 1000, "units default to 1");
    cr_expect_eq(e.lines[0].npointers, 1, "a professional line points at the principal diagnosis");
    cr_expect_str_eq(e.lines[1].procedure, "J3420");
    cr_expect_eq(e.lines[1].nmodifiers, 1, "a single modifier may be written without a list");
    cr_expect_eq(e.lines[1].units_milli, 2500);
    cr_expect_str_eq(e.lines[1].date_from, "20261102", "CCYYMMDD is read too");
    cr_expect_eq(e.total_charge, 11050);
    encounter_clear(&e);
}

Test(encounter, json_is_read_by_the_same_reader)
{
    const char *json = "{\"encounter_id\": \"E2\", \"payer\": \"demo\", \"claim_type\": \"professional\","
                       " \"place_of_service\": \"11\", \"subscriber\": {\"member_id\": \"M\", \"last_name\": \"A\","
                       " \"first_name\": \"B\", \"birth_date\": \"1990-01-01\", \"sex\": \"M\", \"address\":"
                       " {\"line1\": \"X\", \"city\": \"Y\", \"state\": \"NY\", \"zip\": \"10001-1234\"}},"
                       " \"diagnoses\": [\"Z00.00\"], \"lines\": [{\"procedure\": \"99396\", \"charge\": 210.75,"
                       " \"date\": \"2026-01-05\", \"units\": 1}]}";
    encounter e;
    char probs[4096];
    cr_assert_eq(read_text(json, &e, probs, sizeof probs), CH_OK, "%s", probs);
    cr_expect_eq(e.lines[0].charge, 21075, "a JSON number amount");
    cr_expect_str_eq(e.subscriber.address.zip, "100011234", "ZIP+4 without its dash");
    encounter_clear(&e);
}

Test(encounter, problems_are_named_by_field_path)
{
    const char *bad =
        "encounter_id: E3\npayer: demo\nclaim_type: professionl\nplace_of_service: '11'\n"
        "subscriber: {member_id: M, last_name: A, first_name: B, birth_date: 1990-02-30, sex: X,\n"
        "  address: {line1: X, city: Y, state: ZZ, zip: '1234'}}\n"
        "diagnoses: [I10]\n"
        "lines:\n  - {procedure: 'ABC', charge: '1.234', date: 2026-11-02, colour: red}\n";
    encounter e;
    char probs[4096];
    cr_assert_eq(read_text(bad, &e, probs, sizeof probs), CH_ERR_INVALID);
    cr_expect(strstr(probs, "claim_type: 'professionl' is not one of professional, institutional"), "%s", probs);
    cr_expect(strstr(probs, "subscriber.birth_date: not a date"), "%s", probs);
    cr_expect(strstr(probs, "subscriber.sex: 'X' is not one of F, M, U"), "%s", probs);
    cr_expect(strstr(probs, "subscriber.address.state: 'ZZ' is not a US state"), "%s", probs);
    cr_expect(strstr(probs, "subscriber.address.zip: not a ZIP code"), "%s", probs);
    cr_expect(strstr(probs, "lines[0].procedure: 'ABC' is not a CPT/HCPCS code"), "%s", probs);
    cr_expect(strstr(probs, "lines[0].charge: '1.234' is not an amount"), "%s", probs);
    cr_expect(strstr(probs, "lines[0].colour: unknown field"), "%s", probs);
    encounter_clear(&e);
}

Test(encounter, phi_is_never_quoted)
{
    /* a bad birth date, member id pattern and diagnosis: the messages name the
     * field but never hold the value */
    const char *bad = "encounter_id: E4\npayer: demo\nclaim_type: professional\nplace_of_service: '11'\n"
                      "subscriber: {member_id: SECRETID42, last_name: 'SMITH~X', first_name: B,"
                      " birth_date: 1931-13-45, sex: F, address: {line1: X, city: Y, state: NY, zip: '10001'}}\n"
                      "diagnoses: [QQQ.Q]\n"
                      "lines:\n  - {procedure: '99213', charge: 1, date: 2026-11-02}\n";
    encounter e;
    char probs[4096];
    cr_assert_eq(read_text(bad, &e, probs, sizeof probs), CH_ERR_INVALID);
    cr_expect_null(strstr(probs, "1931"), "%s", probs);
    cr_expect_null(strstr(probs, "QQQ"), "%s", probs);
    cr_expect_null(strstr(probs, "SECRETID42"), "%s", probs);
    cr_expect(strstr(probs, "diagnoses[0]: not an ICD-10-CM code"), "%s", probs);
    encounter_clear(&e);
}

Test(encounter, pack_unpack_round_trip)
{
    encounter e, back;
    char probs[4096];
    cr_assert_eq(read_text(minimal, &e, probs, sizeof probs), CH_OK, "%s", probs);
    char *packed;
    size_t len;
    cr_assert_eq(encounter_pack(&e, &packed, &len, NULL), CH_OK);
    cr_expect(!strncmp(packed, "encounter/1\n", 12));
    cr_expect(strstr(packed, "lines[1].units=2.5\n"), "%s", packed);
    cr_expect(strstr(packed, "diagnoses=I10 E119\n"), "%s", packed);
    ch_error err;
    cr_assert_eq(encounter_unpack(&back, packed, len, &err), CH_OK, "%s", err.msg);
    char diff[128];
    cr_expect(encounter_equal(&e, &back, diff, sizeof diff), "differs at %s", diff);
    /* the hash is of the content, not of how the document was written */
    char h1[65], h2[65];
    encounter_hash(packed, len, h1);
    char *packed2;
    size_t len2;
    cr_assert_eq(encounter_pack(&back, &packed2, &len2, NULL), CH_OK);
    encounter_hash(packed2, len2, h2);
    cr_expect_str_eq(h1, h2);
    back.lines[0].charge++;
    cr_expect_not(encounter_equal(&e, &back, diff, sizeof diff));
    cr_expect_str_eq(diff, "lines[0].charge");
    free(packed);
    free(packed2);
    encounter_clear(&e);
    encounter_clear(&back);
}

Test(encounter, unpack_lines_reads_only_the_lines)
{
    encounter e, back;
    char probs[4096];
    cr_assert_eq(read_text(minimal, &e, probs, sizeof probs), CH_OK, "%s", probs);
    char *packed;
    size_t len;
    cr_assert_eq(encounter_pack(&e, &packed, &len, NULL), CH_OK);
    ch_error err;
    cr_assert_eq(encounter_unpack_lines(&back, packed, len, &err), CH_OK, "%s", err.msg);
    cr_assert_eq(back.nlines, e.nlines);
    for (unsigned i = 0; i < e.nlines; i++) {
        cr_expect_str_eq(back.lines[i].procedure, e.lines[i].procedure);
        cr_expect_eq(back.lines[i].charge, e.lines[i].charge);
        cr_expect_eq(back.lines[i].units_milli, e.lines[i].units_milli);
        cr_expect_str_eq(back.lines[i].date_from, e.lines[i].date_from);
        cr_expect_eq(back.lines[i].nmodifiers, e.lines[i].nmodifiers);
    }
    cr_expect_str_eq(back.member_id, "", "the rest is not read");
    cr_expect_eq(back.ndiagnoses, 0);
    encounter_clear(&back);
    /* fields it does not read are not checked either; lines still are */
    const char *other = "encounter/1\nno_such_field=1\nlines=1\nlines[0].procedure=99213\nlines[0].charge=12.5\n";
    cr_expect_eq(encounter_unpack_lines(&back, other, strlen(other), &err), CH_OK, "%s", err.msg);
    cr_expect_eq(back.lines[0].charge, 1250);
    encounter_clear(&back);
    const char *bad = "encounter/1\nlines=1\nlines[0].charge=x\n";
    cr_expect_eq(encounter_unpack_lines(&back, bad, strlen(bad), &err), CH_ERR_INVALID);
    free(packed);
    encounter_clear(&e);
}

Test(encounter, unpack_refuses_damage)
{
    encounter e;
    ch_error err;
    const char *bad[] = {"nonsense\n", "encounter/1\nno_such_field=1\n", "encounter/1\nlines[0].charge=1\n",
                         "encounter/1\nlines=2\nlines[5].charge=1\n", "encounter/1\nlines=1\nlines[0].charge=x\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(encounter_unpack(&e, bad[i], strlen(bad[i]), &err), CH_ERR_INVALID, "%s", bad[i]);
}

Test(encounter, yaml_hazards_are_refused)
{
    ydoc *d;
    ch_error err;
    const char *dup = "a: 1\nb: 2\na: 3\n";
    cr_expect_eq(ydoc_parse(&d, dup, strlen(dup), "d.yaml", &err), CH_ERR_SYNTAX);
    cr_expect(strstr(err.msg, "d.yaml:3:1: key 'a' appears twice"), "%s", err.msg);
    const char *alias = "a: &x [1, 2]\nb: *x\n";
    cr_expect_eq(ydoc_parse(&d, alias, strlen(alias), "a.yaml", &err), CH_ERR_SYNTAX);
    const char *two = "a: 1\n---\nb: 2\n";
    cr_expect_eq(ydoc_parse(&d, two, strlen(two), "t.yaml", &err), CH_ERR_SYNTAX);
    const char *deep = "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]";
    cr_expect_eq(ydoc_parse(&d, deep, strlen(deep), "deep.yaml", &err), CH_ERR_LIMIT);
    /* a mapping with very many keys is refused before the duplicate search
     * could take long */
    size_t big = 1200 * 16;
    char *many = malloc(big);
    size_t n = 0;
    for (int i = 0; i < 1200; i++)
        n += (size_t)snprintf(many + n, big - n, "k%d: %d\n", i, i);
    cr_expect_eq(ydoc_parse(&d, many, n, "many.yaml", &err), CH_ERR_LIMIT);
    free(many);
    const char *ok = "a: {b: [x, {c: d}]}\n";
    cr_assert_eq(ydoc_parse(&d, ok, strlen(ok), "ok.yaml", &err), CH_OK, "%s", err.msg);
    const ydoc_node *c = ydoc_find(ydoc_root(d), "a.b[1].c");
    cr_assert(c);
    cr_expect_str_eq(c->str, "d");
    cr_expect_eq(c->line, 1);
    ydoc_free(d);
}

typedef struct counter {
    long last_index;
    int units;
} counter;

static ch_code count_units(void *ctx, const ydoc_node *u, long index)
{
    counter *c = ctx;
    (void)u;
    c->units++;
    c->last_index = index;
    return CH_OK;
}

Test(encounter, a_list_is_delivered_item_by_item)
{
    const char *list = "- {a: 1}\n- {a: 2}\n- {a: 3}\n";
    counter c = {0, 0};
    cr_assert_eq(ydoc_each(list, strlen(list), "l.yaml", count_units, &c, NULL), CH_OK);
    cr_expect_eq(c.units, 3);
    cr_expect_eq(c.last_index, 2);
    const char *one = "a: 1\n";
    c.units = 0;
    cr_assert_eq(ydoc_each(one, strlen(one), "o.yaml", count_units, &c, NULL), CH_OK);
    cr_expect_eq(c.units, 1);
    cr_expect_eq(c.last_index, -1);
}

Test(encounter, code_shapes)
{
    cr_expect(encounter_valid_npi("1234567893"));
    cr_expect_not(encounter_valid_npi("1234567890"));
    cr_expect_not(encounter_valid_npi("123456789"));
    cr_expect(encounter_valid_icd10("E119"));
    cr_expect(encounter_valid_icd10("S72001A"));
    cr_expect_not(encounter_valid_icd10("1234"));
    cr_expect_not(encounter_valid_icd10("E1"));
    cr_expect(encounter_valid_procedure("99213"));
    cr_expect(encounter_valid_procedure("3074F"));
    cr_expect(encounter_valid_procedure("G0439"));
    cr_expect_not(encounter_valid_procedure("ABC"));
    cr_expect_not(encounter_valid_procedure("Z1234"));
    cr_expect(encounter_valid_pos("11"));
    cr_expect_not(encounter_valid_pos("88"));
    cr_expect(encounter_valid_state("PR"));
    cr_expect_not(encounter_valid_state("XX"));
    cr_expect(encounter_valid_taxonomy("207Q00000X"));
    cr_expect_not(encounter_valid_taxonomy("207Q00000"));
    cr_expect(encounter_valid_revenue("0450"));
    cr_expect_not(encounter_valid_revenue("0045"));
    cr_expect_not(encounter_valid_revenue("450"));
}

static void sha256_kats(void)
{
    char hex[65];
    sha256_hex_of("", 0, hex);
    cr_expect_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256_hex_of("abc", 3, hex);
    cr_expect_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex_of(two, strlen(two), hex);
    cr_expect_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* a million 'a', fed in odd pieces: the bulk path and the buffered one */
    char *m = malloc(1000000);
    memset(m, 'a', 1000000);
    sha256_ctx c;
    sha256_init(&c);
    size_t off = 0, step = 1;
    while (off < 1000000) {
        size_t n = step < 1000000 - off ? step : 1000000 - off;
        sha256_update(&c, m + off, n);
        off += n;
        step = step * 3 + 1;
    }
    unsigned char d[32];
    sha256_final(&c, d);
    char got[65];
    for (int i = 0; i < 32; i++)
        sprintf(got + 2 * i, "%02x", d[i]);
    cr_expect_str_eq(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(m);
}

Test(encounter, sha256_known_answers)
{
    sha256_kats();
    /* the portable code as well, where the SHA extensions are what runs */
    sha256_portable(1);
    sha256_kats();
    sha256_portable(0);
}

/* Both implementations agree on every length around the block boundaries
 * and on data that is not all one letter. */
Test(encounter, sha256_implementations_agree)
{
    unsigned char buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    for (size_t n = 0; n <= sizeof buf; n++) {
        char a[65], b[65];
        sha256_portable(1);
        sha256_hex_of(buf, n, a);
        sha256_portable(0);
        sha256_hex_of(buf, n, b);
        cr_assert_str_eq(a, b, "length %zu", n);
    }
}

/* --- the shipped samples -------------------------------------------------------- */

static config *shipped_config(char *prev, size_t size)
{
    cr_assert(getcwd(prev, size));
    cr_assert_eq(chdir(tu_root()), 0);
    config *c;
    ch_error err;
    cr_assert_eq(config_load(&c, "conf/clearinghouse.yaml", &err), CH_OK, "%s", err.msg);
    return c;
}

Test(encounter, shipped_good_samples_have_no_problem)
{
    char prev[4096];
    config *cfg = shipped_config(prev, sizeof prev);
    const char *dir = "tests/data/encounters/good";
    DIR *d = opendir(dir);
    cr_assert(d);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len;
        char *buf = tu_read(path, &len);
        cr_assert(buf);
        const char *practice = !strncmp(de->d_name, "lakeside", 8) ? "lakeside" : "riverside";
        char report[4096];
        unsigned count;
        ch_code rc = intake_check_buffer(cfg, practice, de->d_name, buf, len, TODAY, &count, report, sizeof report);
        cr_expect_eq(rc, CH_OK, "%s: %s", de->d_name, report);
        cr_expect_gt(count, 0);
        free(buf);
        files++;
    }
    closedir(d);
    cr_expect_geq(files, 7);
    config_free(cfg);
    cr_assert_eq(chdir(prev), 0);
}

Test(encounter, shipped_bad_samples_name_their_problem)
{
    char prev[4096];
    config *cfg = shipped_config(prev, sizeof prev);
    char *index = tu_read("tests/data/encounters/bad/expect.tsv", NULL);
    cr_assert(index);
    int n = 0;
    for (char *line = strtok(index, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char *name = line, *practice = strchr(name, '\t');
        cr_assert(practice);
        *practice++ = '\0';
        char *want = strchr(practice, '\t');
        cr_assert(want);
        *want++ = '\0';
        char path[1024];
        snprintf(path, sizeof path, "tests/data/encounters/bad/%s", name);
        size_t len;
        char *buf = tu_read(path, &len);
        cr_assert(buf, "%s", path);
        char report[8192];
        unsigned count;
        ch_code rc = intake_check_buffer(cfg, practice, name, buf, len, TODAY, &count, report, sizeof report);
        cr_expect_eq(rc, CH_ERR_INVALID, "%s was accepted", name);
        cr_expect(strstr(report, want), "%s: expected \"%s\" in:\n%s", name, want, report);
        free(buf);
        n++;
    }
    cr_expect_geq(n, 30, "every kind of bad encounter is covered");
    free(index);
    config_free(cfg);
    cr_assert_eq(chdir(prev), 0);
}

/* --- configuration and profiles -------------------------------------------------- */

Test(config, shipped_configuration_loads)
{
    char prev[4096];
    config *c = shipped_config(prev, sizeof prev);
    cr_expect_str_eq(c->spool, "spool");
    cr_expect_str_eq(c->ledger_path, "spool/ledger.db");
    cr_expect_eq(c->npractices, 2);
    const config_practice *p = config_practice_find(c, "riverside");
    cr_assert(p);
    cr_expect_str_eq(p->tax_id, "123456789", "dash removed");
    const config_payer_link *l = config_practice_payer(p, "medicare-mac");
    cr_assert(l);
    cr_expect_str_eq(l->profile->filing_indicator[ENC_PROFESSIONAL], "MB");
    cr_expect_eq(c->nprofiles, 4);
    const payer_profile *demo = config_profile(c, "demo");
    cr_assert(demo);
    cr_expect_eq(demo->usage, 'T');
    cr_expect_eq(demo->claims_per_transaction, 5000);
    cr_expect_eq(demo->delims.element, '*');
    config_free(c);
    cr_assert_eq(chdir(prev), 0);
}

static ch_code load_text(const char *file, const char *text, config **c, ch_error *err)
{
    tu_write(file, text);
    return config_load(c, file, err);
}

Test(config, secrets_and_typos_are_refused)
{
    tu_env e;
    tu_env_init(&e);
    config *c;
    ch_error err;
    char *orig = tu_read("conf/clearinghouse.yaml", NULL);
    cr_assert(orig);
    /* a password in the file */
    char *t = malloc(strlen(orig) + 200);
    sprintf(t, "%s", orig);
    char *led = strstr(t, "  path: spool/ledger.db");
    cr_assert(led);
    memmove(led + 22, led, strlen(led) + 1);
    memcpy(led, "  password: hunter2  \n", 22);
    cr_expect_eq(load_text("conf/s.yaml", t, &c, &err), CH_ERR_CONFIG);
    cr_expect(strstr(err.msg, "password: secrets are not kept in the configuration"), "%s", err.msg);
    cr_expect_null(strstr(err.msg, "hunter2"));
    /* the same, by reference, is fine */
    memcpy(led, "  dsn_env: X_DSN     \n", 22);
    cr_expect_eq(load_text("conf/s.yaml", t, &c, &err), CH_OK, "%s", err.msg);
    config_free(c);
    /* a typo */
    sprintf(t, "%s", orig);
    char *sp = strstr(t, "spool: spool");
    memcpy(sp, "spoul", 5);
    cr_expect_eq(load_text("conf/s.yaml", t, &c, &err), CH_ERR_CONFIG);
    cr_expect(strstr(err.msg, "spoul: unknown setting"), "%s", err.msg);
    /* a bad NPI */
    sprintf(t, "%s", orig);
    char *npi = strstr(t, "1245319599");
    npi[9] = '8';
    cr_expect_eq(load_text("conf/s.yaml", t, &c, &err), CH_ERR_CONFIG);
    cr_expect(strstr(err.msg, "practices[0].npi"), "%s", err.msg);
    /* a payer without a profile */
    sprintf(t, "%s", orig);
    char *demo = strstr(t, "      demo:");
    memcpy(demo, "      dem0:", 11);
    cr_expect_eq(load_text("conf/s.yaml", t, &c, &err), CH_ERR_CONFIG);
    cr_expect(strstr(err.msg, "dem0"), "%s", err.msg);
    free(t);
    free(orig);
    tu_env_fini(&e);
}

Test(config, payer_profile_rules_are_checked_when_loaded)
{
    tu_env e;
    tu_env_init(&e);
    payer_profile *p;
    ch_error err;
    const char *head = "payer_id: X\nname: X\nreceiver: {interchange_id: X}\nclaim_types: [professional]\n"
                       "usage: test\n";
    char text[2048];
    snprintf(text, sizeof text, "%sedits:\n  - {rule: require, field: subscriber.no_such}\n", head);
    tu_write("payer-profiles/x.yaml", text);
    cr_expect_eq(payer_profile_load(&p, "payer-profiles/x.yaml", &err), CH_ERR_CONFIG);
    cr_expect(strstr(err.msg, "'subscriber.no_such' is not a field of an encounter"), "%s", err.msg);
    snprintf(text, sizeof text, "%sedits:\n  - {rule: pattern, field: subscriber.member_id, pattern: '(['}\n", head);
    tu_write("payer-profiles/x.yaml", text);
    cr_expect_eq(payer_profile_load(&p, "payer-profiles/x.yaml", &err), CH_ERR_CONFIG);
    snprintf(text, sizeof text, "%sdelimiters: {element: '*', component: '*'}\n", head);
    tu_write("payer-profiles/x.yaml", text);
    cr_expect_eq(payer_profile_load(&p, "payer-profiles/x.yaml", &err), CH_ERR_CONFIG);
    cr_expect(strstr(err.msg, "two delimiters are the same"), "%s", err.msg);
    snprintf(text, sizeof text, "%slimits: {claims_per_transaction: 9000}\n", head);
    tu_write("payer-profiles/x.yaml", text);
    cr_expect_eq(payer_profile_load(&p, "payer-profiles/x.yaml", &err), CH_ERR_CONFIG);
    cr_expect(strstr(err.msg, "limits.claims_per_transaction"), "%s", err.msg);
    snprintf(text, sizeof text,
             "%sedits:\n  - {rule: allowed, field: 'lines[].place_of_service', values: ['11']}\n"
             "  - {rule: max_lines, value: 1, claim_type: professional}\n",
             head);
    tu_write("payer-profiles/x.yaml", text);
    cr_assert_eq(payer_profile_load(&p, "payer-profiles/x.yaml", &err), CH_OK, "%s", err.msg);
    cr_expect_str_eq(p->name, "x");
    cr_expect_str_eq(p->gs03, "X", "defaults to the interchange id");
    encounter enc;
    char probs[4096];
    cr_assert_eq(read_text(minimal, &enc, probs, sizeof probs), CH_OK, "%s", probs);
    snprintf(enc.lines[1].place_of_service, sizeof enc.lines[1].place_of_service, "22");
    encounter_problems *pr = calloc(1, sizeof *pr);
    cr_expect_eq(payer_profile_check(p, &enc, pr), CH_ERR_INVALID);
    cr_assert_eq(pr->n, 2);
    cr_expect_str_eq(pr->v[0].path, "lines[1].place_of_service");
    cr_expect(strstr(pr->v[0].msg, "'22' is not a value this payer accepts"), "%s", pr->v[0].msg);
    cr_expect_str_eq(pr->v[1].path, "lines");
    free(pr);
    encounter_clear(&enc);
    payer_profile_free(p);
    tu_env_fini(&e);
}

/* --- malformed input on purpose ------------------------------------------------------ */

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

Test(encounter, mutated_documents_never_crash)
{
    char prev[4096];
    config *cfg = shipped_config(prev, sizeof prev);
    const char *files[] = {"tests/data/encounters/good/riverside-office-visit.yaml",
                           "tests/data/encounters/good/lakeside-outpatient.json",
                           "tests/data/encounters/good/riverside-medicare-list.yaml"};
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    static const char junk[] = "{}[]:,-#&*!|>'\"%@`\n\t ~0aZ\\\x01\xff";
    char *report = malloc(65536);
    int rejected = 0;
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        size_t len;
        char *orig = tu_read(files[f], &len);
        cr_assert(orig);
        char *buf = malloc(len + 64);
        for (int round = 0; round < 300; round++) {
            memcpy(buf, orig, len);
            size_t n = len;
            int edits = 1 + (int)(rnd(&seed) % 4);
            for (int k = 0; k < edits && n > 1; k++) {
                size_t at = rnd(&seed) % n;
                switch (rnd(&seed) % 4) {
                case 0: /* replace a byte */
                    buf[at] = junk[rnd(&seed) % (sizeof junk - 1)];
                    break;
                case 1: /* delete a byte */
                    memmove(buf + at, buf + at + 1, n - at - 1);
                    n--;
                    break;
                case 2: /* insert a byte */
                    if (n < len + 60) {
                        memmove(buf + at + 1, buf + at, n - at);
                        buf[at] = junk[rnd(&seed) % (sizeof junk - 1)];
                        n++;
                    }
                    break;
                default: /* cut the file short */
                    n = at + 1;
                    break;
                }
            }
            unsigned count;
            ch_code rc = intake_check_buffer(cfg, "riverside", "m.yaml", buf, n, TODAY, &count, report, 65536);
            cr_assert(rc == CH_OK || rc == CH_ERR_INVALID, "round %d of %s: %s", round, files[f], ch_strerror(rc));
            rejected += rc == CH_ERR_INVALID;
        }
        free(buf);
        free(orig);
    }
    cr_expect_gt(rejected, 300, "most mutations are caught");
    free(report);
    config_free(cfg);
    cr_assert_eq(chdir(prev), 0);
}

Test(encounter, mutated_ledger_forms_never_crash)
{
    encounter e;
    char probs[4096];
    cr_assert_eq(read_text(minimal, &e, probs, sizeof probs), CH_OK, "%s", probs);
    char *packed;
    size_t len;
    cr_assert_eq(encounter_pack(&e, &packed, &len, NULL), CH_OK);
    encounter_clear(&e);
    uint64_t seed = 12345;
    char *buf = malloc(len);
    for (int round = 0; round < 2000; round++) {
        memcpy(buf, packed, len);
        size_t n = len;
        for (int k = 0; k < 3; k++) {
            size_t at = rnd(&seed) % n;
            if (rnd(&seed) % 3 == 0)
                n = at + 1;
            else
                buf[at] = (char)(rnd(&seed) & 0xff);
        }
        encounter back;
        ch_error err;
        if (encounter_unpack(&back, buf, n, &err) == CH_OK)
            encounter_clear(&back);
    }
    free(buf);
    free(packed);
}
