/*
 * test_collect.c - `collect`: responses land in spool/inbox/<payer>/, are
 * recorded in the ledger before they are archived or removed at the payer,
 * the same content twice is kept once, and an interrupted pass is finished
 * by the next one without losing or doubling a file (dir and the real sshd).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "exchange_helpers.h"
#include "sha256.h"

TestSuite(collect, .timeout = 30);

#define FROM "spool/payers/demo/from-payer"
#define DONE "spool/payers/demo/collected"
#define INBOX "spool/inbox/demo"

static collect_report run_collect(tu_env *e)
{
    collect_opts o = {.payer = "demo"};
    collect_report rep;
    ch_error err;
    cr_assert_eq(collect_run(e->cfg, e->led, &o, &rep, &err), CH_OK, "%s", err.msg);
    return rep;
}

typedef struct got {
    int n;
    ledger_received r[8];
} got;

static int grab(void *c, const ledger_received *r)
{
    got *g = c;
    if (g->n < 8)
        g->r[g->n++] = *r;
    return 0;
}

static got *received(tu_env *e)
{
    static got g;
    memset(&g, 0, sizeof g);
    ch_error err;
    cr_assert_eq(ledger_received_each(e->led, "demo", NULL, grab, &g, &err), CH_OK, "%s", err.msg);
    return &g;
}

static const char *sha_hex(const char *text)
{
    static char hex[SHA256_HEX];
    sha256_hex_of(text, strlen(text), hex);
    return hex;
}

static const char *R999 = "ISA*00*          *00*          *ZZ*DEMORCVR*...999 accepted~";
static const char *R835 = "ISA*00*          *00*          *ZZ*DEMORCVR*...835 paid~";

Test(collect, dir_records_dedups_and_archives)
{
    tu_env e;
    tu_env_init(&e);
    tu_sh("mkdir -p " FROM);
    tu_write(FROM "/a.999", R999);
    tu_write(FROM "/b.835", R835);
    tu_write(FROM "/c.999", R999);            /* the same content again */
    tu_write(FROM "/.d.835.tmp", "half a fi"); /* the payer is still writing it */
    collect_report r = run_collect(&e);
    cr_expect_eq(r.files, 2);
    cr_expect_eq(r.duplicates, 1);
    cr_expect_eq(r.payer_errors, 0);
    got *g = received(&e);
    cr_assert_eq(g->n, 2);
    cr_expect_str_eq(g->r[0].name, "a.999");
    cr_expect_str_eq(g->r[0].sha256, sha_hex(R999));
    cr_expect_eq(g->r[0].size, strlen(R999));
    cr_expect_str_eq(g->r[0].state, "new");
    cr_expect_str_eq(g->r[0].local_path, INBOX "/a.999");
    cr_expect_str_eq(g->r[1].name, "b.835");
    cr_expect_str_eq(g->r[1].sha256, sha_hex(R835));
    char *a = tu_read(INBOX "/a.999", NULL);
    cr_expect(a && !strcmp(a, R999));
    free(a);
    cr_expect_eq(xh_count(INBOX, NULL), 2, "the duplicate is kept once");
    int dots;
    cr_expect_eq(xh_count(FROM, &dots), 1);
    cr_expect_eq(dots, 1, "the payer's temporary file is left alone");
    cr_expect_eq(xh_count(DONE, NULL), 3, "every file recorded is archived at the payer");

    /* the same response delivered again later: not recorded twice */
    tu_write(FROM "/a-again.999", R999);
    r = run_collect(&e);
    cr_expect_eq(r.files, 0);
    cr_expect_eq(r.duplicates, 1);
    cr_expect_eq(received(&e)->n, 2);
    cr_expect_eq(xh_count(INBOX, NULL), 2);

    ch_error err;
    cr_expect_eq(ledger_received_set_state(e.led, g->r[0].id, "reconciled", "999 matched batch 1", &err), CH_OK);
    cr_expect_str_eq(received(&e)->r[0].state, "reconciled");
    cr_expect_eq(ledger_received_set_state(e.led, g->r[0].id, "bogus", NULL, &err), CH_ERR_INVALID);
    tu_env_fini(&e);
}

Test(collect, an_interrupted_pass_is_finished_by_the_next_once)
{
    tu_env e;
    tu_env_init(&e);
    tu_sh("mkdir -p " FROM " " INBOX);
    /* killed after the download, before the record: the copy is there, the
     * ledger does not know it, the payer still has it */
    tu_write(FROM "/a.999", R999);
    tu_write(INBOX "/a.999", R999);
    collect_report r = run_collect(&e);
    cr_expect_eq(r.files, 1);
    cr_expect_eq(received(&e)->n, 1);
    cr_expect_eq(xh_count(INBOX, NULL), 1);
    /* killed after the record, before the archive: downloaded again, same
     * content under the same name: recorded once, the copy kept */
    tu_write(FROM "/a.999", R999);
    r = run_collect(&e);
    cr_expect_eq(r.files, 0);
    cr_expect_eq(received(&e)->n, 1);
    char *a = tu_read(INBOX "/a.999", NULL);
    cr_expect(a && !strcmp(a, R999), "the recorded copy is kept");
    free(a);
    cr_expect_eq(xh_count(FROM, NULL), 0);
    tu_env_fini(&e);
}

Test(collect, sftp_records_then_archives)
{
    tu_env e;
    tu_env_init(&e);
    const char *dir = xh_sftp_dir();
    xh_demo_transport(&e, xh_sftp_section(dir, NULL, NULL, NULL));
    tf_write(tf_fmt("%s/out/r1.999", dir), R999, strlen(R999));
    tf_write(tf_fmt("%s/out/r2.835", dir), R835, strlen(R835));
    tf_write(tf_fmt("%s/out/r3.999", dir), R999, strlen(R999));
    collect_report r = run_collect(&e);
    cr_expect_eq(r.files, 2);
    cr_expect_eq(r.duplicates, 1);
    got *g = received(&e);
    cr_assert_eq(g->n, 2);
    cr_expect_str_eq(g->r[1].sha256, sha_hex(R835));
    cr_expect(tf_same(tf_fmt("%s/arch/r2.835", dir), INBOX "/r2.835"));
    cr_expect_eq(xh_count(tf_fmt("%s/out", dir), NULL), 0);
    cr_expect_eq(xh_count(tf_fmt("%s/arch", dir), NULL), 3);
    tu_env_fini(&e);
}

Test(collect, a_payer_that_cannot_be_reached_is_reported_and_left)
{
    tu_env e;
    tu_env_init(&e);
    const char *dir = xh_sftp_dir();
    char dead[16];
    snprintf(dead, sizeof dead, "%d", tf_dead_port());
    xh_demo_transport(&e, xh_sftp_section(dir, dead, NULL, NULL));
    collect_report r = run_collect(&e);
    cr_expect_eq(r.payer_errors, 1);
    cr_expect_eq(r.files, 0);
    tu_env_fini(&e);
}

Test(collect, command_output_and_exit_status)
{
    tu_env e;
    tu_env_init(&e);
    tu_sh("mkdir -p " FROM);
    tu_write(FROM "/a.999", R999);
    const char *bin = getenv("CH_BIN") ? getenv("CH_BIN") : tu_src("build/clearinghouse");
    cr_expect_eq(tu_sh("'%s' collect --payer demo --json >collect.json 2>/dev/null", bin), 0);
    char *out = tu_read("collect.json", NULL);
    cr_assert(out);
    cr_expect(strstr(out, "\"status\":\"new\""), "%s", out);
    cr_expect(strstr(out, "\"received\":1"), "%s", out);
    free(out);
    cr_expect_eq(tu_sh("'%s' collect --payer nosuch >/dev/null 2>&1", bin), 2);
    tu_env_fini(&e);
}
