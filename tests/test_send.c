/*
 * test_send.c - `send`: ready batches delivered byte-identical and marked
 * sent (dir, the real sshd, nginx over HTTPS); a server that is down is
 * retried, also across runs, then the batch fails with the reason; a host
 * key mismatch is refused; and a process killed with SIGKILL at the worst
 * moments leaves nothing that a second run delivers twice or forgets.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exchange_helpers.h"
#include "send.h"

TestSuite(send, .timeout = 40);

#define DEMO_IN "spool/payers/demo/to-payer"

static send_report run_send(tu_env *e, long max_wait_ms)
{
    send_opts o = {.payer = "demo", .max_wait_ms = max_wait_ms};
    send_report rep;
    ch_error err;
    cr_assert_eq(send_run(e->cfg, e->led, &o, &rep, &err), CH_OK, "%s", err.msg);
    return rep;
}

/* Every demo batch is sent, and its file is at the payer byte for byte. */
static void expect_all_delivered(tu_env *e, const char *remote_dir)
{
    xh_batches *s = xh_demo_batches(e);
    cr_assert_eq(s->n, 2);
    for (int i = 0; i < s->n; i++) {
        cr_expect_str_eq(s->b[i].state, "sent", "batch %lld: %s", (long long)s->b[i].id, s->b[i].error);
        cr_expect(s->x[i].sent_at[0]);
        cr_expect(s->x[i].remote_name[0]);
        const char *local = tf_fmt("%s/%s", e->cfg->spool, s->b[i].file);
        const char *remote = tf_fmt("%s/%s", remote_dir, s->x[i].remote_name);
        cr_expect(tf_same(local, remote), "%s differs from %s", remote, local);
    }
    int dots;
    cr_expect_eq(xh_count(remote_dir, &dots), 2, "the payer holds each batch once");
    cr_expect_eq(dots, 0, "no temporary files left at the payer");
    cr_expect_eq(xh_claims(e, LEDGER_READY) + xh_claims(e, LEDGER_SENDING), 0);
    cr_expect_gt(xh_claims(e, LEDGER_SENT), 0);
}

Test(send, dir_payer_gets_each_batch_once_byte_identical)
{
    tu_env e;
    tu_env_init(&e);
    xh_ready_batches(&e);
    send_report r = run_send(&e, 0);
    cr_expect_eq(r.sent, 2);
    cr_expect_eq(r.failed + r.retry + r.held + r.skipped, 0);
    expect_all_delivered(&e, DEMO_IN);
    /* the remote name is the batch file's own name */
    xh_batches *s = xh_demo_batches(&e);
    cr_expect_str_eq(s->x[0].remote_name, strrchr(s->b[0].file, '/') + 1);
    /* nothing left to do */
    r = run_send(&e, 0);
    cr_expect_eq(r.sent + r.found + r.failed + r.skipped, 0);
    tu_env_fini(&e);
}

Test(send, sftp_payer_gets_each_batch_once_byte_identical)
{
    tu_env e;
    tu_env_init(&e);
    const char *dir = xh_sftp_dir();
    xh_demo_transport(&e, xh_sftp_section(dir, NULL, NULL, NULL));
    xh_ready_batches(&e);
    send_report r = run_send(&e, 0);
    cr_expect_eq(r.sent, 2, "failed %llu skipped %llu", (unsigned long long)r.failed, (unsigned long long)r.skipped);
    expect_all_delivered(&e, tf_fmt("%s/in", dir));
    tu_env_fini(&e);
}

Test(send, https_payer_gets_each_batch_once_byte_identical)
{
    tu_env e;
    tu_env_init(&e);
    cr_assert_eq(tf_start("https"), 0, "could not start nginx (servers.sh https)");
    const char *sub = tf_unique("send");
    char up[1024];
    snprintf(up, sizeof up, "%s/upload/%s", tf_env("HTTPS_WWW"), sub);
    xh_demo_transport(&e, tf_fmt("transport:\n"
                                 "  connect_timeout: 5\n"
                                 "  https:\n"
                                 "    upload_url: https://127.0.0.1:%s/upload/%s/{name}\n"
                                 "    ca_file: %s\n",
                                 tf_env("HTTPS_PORT"), sub, tf_env("HTTPS_CA")));
    xh_ready_batches(&e);
    send_report r = run_send(&e, 0);
    cr_expect_eq(r.sent, 2, "failed %llu skipped %llu", (unsigned long long)r.failed, (unsigned long long)r.skipped);
    expect_all_delivered(&e, up);
    tu_env_fini(&e);
}

static char lines[8][1200];
static int nlines;
static void keep_line(void *c, const send_batch_result *r)
{
    (void)c;
    if (nlines < 8)
        snprintf(lines[nlines++], sizeof lines[0], "%s %s", send_status_name(r->status), r->why);
}

Test(send, server_down_is_retried_then_the_batch_fails_with_the_reason)
{
    tu_env e;
    tu_env_init(&e);
    const char *dir = xh_sftp_dir();
    char dead[16];
    snprintf(dead, sizeof dead, "%d", tf_dead_port());
    xh_demo_transport(&e, xh_sftp_section(dir, dead, NULL, "  retries: 3\n  retry_base_ms: 20\n  retry_max_ms: 40\n"));
    xh_ready_batches(&e);
    nlines = 0;
    send_opts o = {.payer = "demo", .max_wait_ms = 5000, .on_batch = keep_line};
    send_report r;
    ch_error err;
    cr_assert_eq(send_run(e.cfg, e.led, &o, &r, &err), CH_OK, "%s", err.msg);
    cr_expect_eq(r.failed, 2);
    cr_expect_eq(nlines, 2, "one line per failed batch");
    cr_expect(!strncmp(lines[0], "failed attempt 3 of 3: ", 23), "%s", lines[0]);
    cr_expect(strstr(lines[0], "payer demo: sftp "), "which payer, which step: %s", lines[0]);
    xh_batches *s = xh_demo_batches(&e);
    for (int i = 0; i < s->n; i++) {
        cr_expect_str_eq(s->b[i].state, "failed");
        cr_expect_eq(s->x[i].attempts, 3);
        cr_expect(strstr(s->b[i].error, "attempt 3 of 3: "), "%s", s->b[i].error);
        cr_expect(strstr(s->b[i].error, "payer demo: sftp "), "%s", s->b[i].error);
        cr_expect(strstr(s->b[i].error, "cannot connect"), "what went wrong: %s", s->b[i].error);
        cr_expect(strstr(s->b[i].error, dead), "names the server: %s", s->b[i].error);
    }
    cr_expect_eq(xh_claims(&e, LEDGER_SENDING) + xh_claims(&e, LEDGER_READY), 0);
    cr_expect_gt(xh_claims(&e, LEDGER_FAILED), 0, "the claims are on the worklist");
    tu_env_fini(&e);
}

Test(send, a_retry_scheduled_by_one_run_is_made_by_the_next)
{
    tu_env e;
    tu_env_init(&e);
    const char *dir = xh_sftp_dir();
    char dead[16];
    snprintf(dead, sizeof dead, "%d", tf_dead_port());
    const char *retry = "  retries: 5\n  retry_base_ms: 200\n  retry_max_ms: 400\n";
    xh_demo_transport(&e, xh_sftp_section(dir, dead, NULL, retry));
    xh_ready_batches(&e);
    long long before = (long long)time(NULL) * 1000 - 1000;
    send_report r = run_send(&e, 0); /* no waiting in this run */
    cr_expect_eq(r.retry, 2);
    xh_batches *s = xh_demo_batches(&e);
    for (int i = 0; i < s->n; i++) {
        cr_expect_str_eq(s->b[i].state, "sending");
        cr_expect_eq(s->x[i].attempts, 1);
        cr_expect_geq(s->x[i].next_attempt_ms, before);
        cr_expect(strstr(s->b[i].error, "attempt 1 of 5"), "%s", s->b[i].error);
    }
    /* the server is back: the next run checks, then delivers */
    xh_demo_transport(&e, xh_sftp_section(dir, NULL, NULL, retry));
    r = run_send(&e, 5000);
    cr_expect_eq(r.sent, 2);
    expect_all_delivered(&e, tf_fmt("%s/in", dir));
    tu_env_fini(&e);
}

Test(send, a_host_key_mismatch_is_refused_and_not_retried)
{
    tu_env e;
    tu_env_init(&e);
    const char *dir = xh_sftp_dir();
    xh_demo_transport(&e, xh_sftp_section(dir, NULL, "hYeyzD9IiU4OW3mGWarLOE5q5PtKwodhqznsvZhPqfo", NULL));
    xh_ready_batches(&e);
    send_report r = run_send(&e, 5000);
    cr_expect_eq(r.failed, 1, "the first batch fails");
    cr_expect_eq(r.skipped, 1, "the payer's other batch waits");
    xh_batches *s = xh_demo_batches(&e);
    cr_expect_str_eq(s->b[0].state, "failed");
    cr_expect_eq(s->x[0].attempts, 1, "not retried");
    cr_expect(strstr(s->b[0].error, "host key"), "%s", s->b[0].error);
    cr_expect(strstr(s->b[0].error, "payer demo"), "%s", s->b[0].error);
    cr_expect_str_eq(s->b[1].state, "ready");
    cr_expect_eq(xh_count(tf_fmt("%s/in", dir), NULL), 0, "nothing reached the server");
    tu_env_fini(&e);
}

/* `clearinghouse send --payer demo` in the engine home, killed with SIGKILL
 * at `at` (CH_TEST_CRASH_AT). */
static void send_killed_at(const char *at)
{
    const char *bin = getenv("CH_BIN") ? getenv("CH_BIN") : tu_src("build/clearinghouse");
    int st = tu_sh("CH_TEST_CRASH_AT=%s '%s' send --payer demo >crash.out 2>&1", at, bin);
    cr_assert(st == -1 || st == 128 + 9, "send was not killed at %s (exit %d)", at, st);
}

/* Crash after the first batch went to sending (nothing uploaded yet; a
 * temporary file left as an interrupted upload would), then after the
 * upload: a second run delivers each batch exactly once. */
static void crash_and_recover(tu_env *e, const char *remote_dir)
{
    send_killed_at("after_sending");
    tu_env_reload(e);
    xh_batches *s = xh_demo_batches(e);
    cr_assert_str_eq(s->b[0].state, "sending", "killed after the ledger update, before the upload");
    cr_assert_str_eq(s->b[1].state, "ready");
    /* what an upload cut short leaves */
    tf_write(tf_fmt("%s/.%s.part", remote_dir, s->x[0].remote_name), "ISA*00*", 7);

    send_killed_at("after_upload");
    tu_env_reload(e);
    s = xh_demo_batches(e);
    /* batch 1 was delivered and killed before the ledger knew */
    cr_assert_str_eq(s->b[0].state, "sending");
    cr_assert_str_eq(s->b[1].state, "ready");
    cr_assert(tf_same(tf_fmt("%s/%s", e->cfg->spool, s->b[0].file), tf_fmt("%s/%s", remote_dir, s->x[0].remote_name)));

    send_killed_at("after_upload"); /* batch 1 found delivered; batch 2 uploaded, then killed */
    tu_env_reload(e);
    s = xh_demo_batches(e);
    cr_assert_str_eq(s->b[0].state, "sent");
    cr_assert_str_eq(s->b[1].state, "sending");

    send_report r = run_send(e, 5000);
    cr_expect_eq(r.found, 1, "the second batch is found delivered, not sent again");
    cr_expect_eq(r.sent, 0);
    expect_all_delivered(e, remote_dir);
    char *out = tu_read("crash.out", NULL);
    cr_expect(out && strstr(out, "found"), "the killed run had reported: %s", out ? out : "");
    free(out);
}

Test(send, killed_mid_send_dir_payer_gets_each_batch_exactly_once)
{
    tu_env e;
    tu_env_init(&e);
    xh_ready_batches(&e);
    tu_sh("mkdir -p " DEMO_IN);
    crash_and_recover(&e, DEMO_IN);
    tu_env_fini(&e);
}

Test(send, killed_mid_send_sftp_payer_gets_each_batch_exactly_once)
{
    tu_env e;
    tu_env_init(&e);
    const char *dir = xh_sftp_dir();
    xh_demo_transport(&e, xh_sftp_section(dir, NULL, NULL, NULL));
    xh_ready_batches(&e);
    crash_and_recover(&e, tf_fmt("%s/in", dir));
    tu_env_fini(&e);
}

Test(send, command_output_and_exit_status)
{
    tu_env e;
    tu_env_init(&e);
    xh_ready_batches(&e);
    const char *bin = getenv("CH_BIN") ? getenv("CH_BIN") : tu_src("build/clearinghouse");
    cr_expect_eq(tu_sh("'%s' send --payer demo --json >send.json 2>send.err", bin), 0);
    char *out = tu_read("send.json", NULL);
    cr_assert(out);
    cr_expect(strstr(out, "\"status\":\"sent\""), "%s", out);
    cr_expect(strstr(out, "\"sent\":2"), "%s", out);
    free(out);
    char *err = tu_read("send.err", NULL);
    cr_expect(err && !strchr(err, '\r'), "no progress when piped: %s", err ? err : "");
    free(err);
    cr_expect_eq(tu_sh("'%s' send --payer nosuch >/dev/null 2>&1", bin), 2);
    cr_expect_eq(tu_sh("'%s' send --bogus >/dev/null 2>&1", bin), 2);
    tu_env_fini(&e);
}
