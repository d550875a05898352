/*
 * exchange_helpers.h - what test_send.c and test_collect.c share: an engine
 * home with ready batches for the demo payer, and the demo payer's
 * transport: section swapped for one pointing at a test server.
 */
#ifndef EXCHANGE_HELPERS_H
#define EXCHANGE_HELPERS_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch.h"
#include "intake.h"
#include "ledger.h"
#include "transport_fixture.h"
#include "tu.h"

/* Replace the transport: section of the demo profile (it is the last
 * section of the file) with section, and reload. */
static inline void xh_demo_transport(tu_env *e, const char *section)
{
    char *text = tu_read("payer-profiles/demo.yaml", NULL);
    cr_assert(text);
    char *t = strstr(text, "\ntransport:");
    cr_assert(t, "demo.yaml has no transport: section");
    t[1] = '\0';
    size_t need = strlen(text) + strlen(section) + 2;
    char *out = malloc(need);
    snprintf(out, need, "%s%s", text, section);
    tu_write("payer-profiles/demo.yaml", out);
    free(text);
    free(out);
    tu_env_reload(e);
}

/* The test encounters taken in and batched: the demo payer gets two ready
 * batches (an 837I and an 837P). */
static inline void xh_ready_batches(tu_env *e)
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
        snprintf(to, sizeof to, "spool/inbound/%s/%s",
                 !strncmp(de->d_name, "lakeside", 8) ? "lakeside" : "riverside", de->d_name);
        tu_copy(from, to);
    }
    closedir(d);
    intake_opts io = {.jobs = 1, .today = "20261123"};
    intake_report ir;
    ch_error err;
    cr_assert_eq(intake_run(e->cfg, e->led, &io, &ir, &err), CH_OK, "%s", err.msg);
    batch_opts bo = {.now = (time_t)1795435200, .payer = "demo"};
    batch_report br;
    cr_assert_eq(batch_run(e->cfg, e->led, &bo, &br, &err), CH_OK, "%s", err.msg);
    cr_assert_eq(br.files, 2, "demo batches: %llu", (unsigned long long)br.files);
}

typedef struct xh_batches {
    int n;
    ledger_batch b[8];
    ledger_send_info x[8];
} xh_batches;

static inline int xh_grab(void *c, const ledger_batch *b)
{
    xh_batches *s = c;
    if (strcmp(b->payer, "demo") || s->n >= 8)
        return 0;
    s->b[s->n++] = *b;
    return 0;
}

/* The demo payer's batches (any state), with their delivery state. */
static inline xh_batches *xh_demo_batches(tu_env *e)
{
    static xh_batches s;
    memset(&s, 0, sizeof s);
    ch_error err;
    cr_assert_eq(ledger_batches_each(e->led, NULL, xh_grab, &s, &err), CH_OK, "%s", err.msg);
    for (int i = 0; i < s.n; i++)
        cr_assert_eq(ledger_batch_send_info(e->led, s.b[i].id, &s.x[i], &err), CH_OK, "%s", err.msg);
    return &s;
}

/* Claims of the demo payer in state st. */
static inline uint64_t xh_claims(tu_env *e, ledger_state st)
{
    ledger_filter f = {.payer = "demo", .state = -1};
    uint64_t counts[LEDGER_STATE__COUNT] = {0};
    ch_error err;
    cr_assert_eq(ledger_claims_count(e->led, &f, counts, &err), CH_OK, "%s", err.msg);
    return counts[st];
}

/* Files in dir: all of them (dot files too) and the dot files alone. */
static inline int xh_count(const char *dir, int *dots)
{
    int n = 0;
    if (dots)
        *dots = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        n++;
        if (de->d_name[0] == '.' && dots)
            (*dots)++;
    }
    closedir(d);
    return n;
}

/* An sftp transport: section for the fixture server.  port: NULL for the
 * fixture's; pin: NULL for the right one. */
static inline const char *xh_sftp_section(const char *remote_dir, const char *port, const char *pin,
                                          const char *extra)
{
    return tf_fmt("transport:\n"
                  "  connect_timeout: 5\n"
                  "  stall_timeout: 10\n"
                  "  after_collect: archive\n"
                  "%s"
                  "  sftp:\n"
                  "    host: 127.0.0.1\n"
                  "    port: %s\n"
                  "    user: %s\n"
                  "    private_key_file: %s\n"
                  "    host_key_sha256: \"SHA256:%s\"\n"
                  "    upload_dir: %s/in\n"
                  "    response_dir: %s/out\n"
                  "    archive_dir: %s/arch\n",
                  extra ? extra : "", port ? port : tf_env("SFTP_PORT"), tf_env("SFTP_USER"), tf_env("SFTP_KEY"),
                  pin ? pin : tf_env("SFTP_HOSTKEY_SHA256"), remote_dir, remote_dir, remote_dir);
}

/* A directory of this test on the sftp server, with in/ out/ arch/. */
static inline const char *xh_sftp_dir(void)
{
    cr_assert_eq(tf_start("sftp"), 0, "could not start sshd (servers.sh sftp)");
    const char *d = tf_fmt("%s/%s", tf_env("SFTP_DATA"), tf_unique("x"));
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s", d);
    tf_mkdirs(tf_fmt("%s/in", dir));
    tf_mkdirs(tf_fmt("%s/out", dir));
    tf_mkdirs(tf_fmt("%s/arch", dir));
    return dir;
}

#endif
