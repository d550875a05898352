/*
 * test_transport_sftp.c - the sftp transport against a real OpenSSH sshd on
 * 127.0.0.1 (tests/fixtures/servers.sh sftp, shared by the run; see
 * transport_fixture.h).  Each test works in its own directory under the
 * server's data dir and checks the server side directly on disk.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sha256.h"
#include "transport.h"
#include "transport_fixture.h"

static void start_sftp(void)
{
    cr_assert_eq(tf_start("sftp"), 0, "could not start sshd (servers.sh sftp)");
}

TestSuite(sftp, .init = start_sftp, .timeout = 30);

typedef struct sfix {
    char dir[1024]; /* this test's directory on the server (absolute) */
    char in[1100], out[1100], arch[1100];
    char local[256]; /* local scratch */
} sfix;

static void sfix_init(sfix *f)
{
    snprintf(f->dir, sizeof f->dir, "%s/%s", tf_env("SFTP_DATA"), tf_unique("t"));
    snprintf(f->in, sizeof f->in, "%s/in", f->dir);
    snprintf(f->out, sizeof f->out, "%s/out", f->dir);
    snprintf(f->arch, sizeof f->arch, "%s/arch", f->dir);
    tf_mkdirs(f->in), tf_mkdirs(f->out), tf_mkdirs(f->arch);
    /* under the run's ROOT, so a failed test's leftovers go with the servers */
    snprintf(f->local, sizeof f->local, "%s/local-XXXXXX", tf_root());
    cr_assert_not_null(mkdtemp(f->local));
}

static void sfix_done(sfix *f)
{
    cr_assert_eq(system(tf_fmt("rm -rf '%s' '%s'", f->dir, f->local)), 0);
}

/* A profile for the test server.  key: private key path; pin: the pinning
 * line(s); sftp_extra / top_extra: more lines in each mapping. */
static void sftp_cfg(transport_config *c, const sfix *f, const char *key, const char *pin,
                     const char *sftp_extra, const char *top_extra)
{
    char y[8192];
    snprintf(y, sizeof y,
             "transport:\n"
             "  connect_timeout: 5\n"
             "  stall_timeout: 10\n"
             "  after_collect: archive\n"
             "%s"
             "  sftp:\n"
             "    host: 127.0.0.1\n"
             "    port: %s\n"
             "    user: %s\n"
             "    private_key_file: %s\n"
             "    %s\n"
             "    upload_dir: %s\n"
             "    response_dir: %s\n"
             "    archive_dir: %s\n"
             "%s",
             top_extra ? top_extra : "", tf_env("SFTP_PORT"), tf_env("SFTP_USER"),
             key ? key : tf_env("SFTP_KEY"),
             pin ? pin : tf_fmt("host_key_sha256: %s", tf_env("SFTP_HOSTKEY_SHA256")), f->in, f->out,
             f->arch, sftp_extra ? sftp_extra : "");
    ch_error e = {0};
    cr_assert_eq(transport_config_parse_text(y, strlen(y), "acme", c, &e), CH_OK, "%s\n%s", e.msg, y);
}

static transport *open_ok(const transport_config *c)
{
    transport *t = NULL;
    ch_error e = {0};
    cr_assert_eq(transport_open(c, &t, &e), CH_OK, "%s", e.msg);
    return t;
}

static int count_in(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

Test(sftp, put_list_get_archive_remove_on_one_connection)
{
    sfix f;
    sfix_init(&f);
    transport_config c;
    sftp_cfg(&c, &f, NULL, NULL, NULL, "  response_pattern: '*.835'\n");
    transport *t = open_ok(&c);
    ch_error e = {0};

    /* uploads: binary, empty, a name with a space; the payer sees exactly the bytes */
    const char *big = tf_fmt("%s/big", f.local), *empty = tf_fmt("%s/empty", f.local);
    cr_assert_eq(tf_write(big, NULL, 300000), 0);
    cr_assert_eq(tf_write(empty, "", 0), 0);
    cr_assert_eq(transport_put(t, big, "B1.x12", &e), CH_OK, "%s", e.msg);
    cr_assert_eq(transport_put(t, empty, "B2 empty.x12", &e), CH_OK, "%s", e.msg);
    cr_assert(tf_same(big, tf_fmt("%s/B1.x12", f.in)));
    cr_assert(tf_same(empty, tf_fmt("%s/B2 empty.x12", f.in)));
    cr_assert_eq(count_in(f.in), 2, "no temporary file left behind");

    int ex = 0;
    uint64_t sz = 0;
    cr_assert_eq(transport_exists(t, "B1.x12", &ex, &sz, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(ex, 1);
    cr_assert_eq(sz, 300000);
    cr_assert_eq(transport_exists(t, "B9.x12", &ex, &sz, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(ex, 0);

    /* the rename never replaces a delivered file; the temporary upload is cleaned */
    cr_assert_eq(transport_put(t, empty, "B1.x12", &e), CH_ERR_EXISTS);
    cr_assert(strstr(e.msg, "payer acme: sftp put B1.x12"), "%s", e.msg);
    cr_assert(strstr(e.msg, "not overwritten"), "%s", e.msg);
    cr_assert(tf_same(big, tf_fmt("%s/B1.x12", f.in)));
    cr_assert_eq(count_in(f.in), 2);

    /* responses waiting on the server */
    cr_assert_eq(tf_write(tf_fmt("%s/r1.835", f.out), NULL, 123457), 0);
    cr_assert_eq(tf_write(tf_fmt("%s/r 2.835", f.out), "ISA*00*~", 8), 0);
    cr_assert_eq(tf_write(tf_fmt("%s/.r3.835.part", f.out), "half", 4), 0);
    cr_assert_eq(tf_write(tf_fmt("%s/readme.txt", f.out), "x", 1), 0);
    tf_mkdirs(tf_fmt("%s/sub.835", f.out));
    char **names;
    size_t n;
    cr_assert_eq(transport_list(t, &names, &n, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(names[0], "r 2.835");
    cr_assert_str_eq(names[1], "r1.835");
    for (size_t i = 0; i < n; i++) {
        char hex[SHA256_HEX], want[SHA256_HEX];
        uint64_t size = 0;
        const char *remote = tf_fmt("%s/%s", f.out, names[i]);
        cr_assert_eq(transport_get(t, names[i], f.local, names[i], hex, &size, &e), CH_OK, "%s", e.msg);
        const char *got = tf_fmt("%s/%s", f.local, names[i]);
        cr_assert(tf_same(remote, got), "%s differs", names[i]);
        size_t len = 0;
        char *body = tf_read(remote, &len);
        sha256_hex_of(body, len, want);
        free(body);
        cr_assert_str_eq(hex, want);
        cr_assert_eq(size, len);
        struct stat st;
        cr_assert_eq(stat(got, &st), 0);
        cr_assert_eq(st.st_mode & 0777, 0600);
        /* recorded: now archive as the profile says */
        cr_assert_eq(transport_after_collect(t, names[i], &e), CH_OK, "%s", e.msg);
        cr_assert(tf_same(tf_fmt("%s/%s", f.arch, names[i]), got));
    }
    transport_names_free(names, n);
    cr_assert_eq(count_in(f.out), 3, "the two responses left, the rest stayed");

    /* archive again under a taken name: time-stamped; remove; missing files */
    cr_assert_eq(tf_write(tf_fmt("%s/r1.835", f.out), "again", 5), 0);
    cr_assert_eq(transport_archive(t, "r1.835", &e), CH_OK, "%s", e.msg);
    cr_assert_eq(count_in(f.arch), 3);
    cr_assert_eq(tf_write(tf_fmt("%s/r4.835", f.out), "x", 1), 0);
    cr_assert_eq(transport_remove(t, "r4.835", &e), CH_OK, "%s", e.msg);
    cr_assert_eq(access(tf_fmt("%s/r4.835", f.out), F_OK), -1);
    cr_assert_eq(transport_remove(t, "r4.835", &e), CH_ERR_NOTFOUND);
    cr_assert(strstr(e.msg, "payer acme: sftp remove r4.835"), "%s", e.msg);
    char hex[SHA256_HEX];
    uint64_t size;
    cr_assert_eq(transport_get(t, "gone.835", f.local, "gone.835", hex, &size, &e), CH_ERR_NOTFOUND);
    cr_assert_eq(access(tf_fmt("%s/gone.835", f.local), F_OK), -1);

    /* every successful operation above went over one SSH connection; the
     * failed quote commands (EXISTS, NOTFOUND) may each cost a reconnect */
    cr_assert_leq(transport_connections(t), 4, "connections: %ld", transport_connections(t));
    transport_close(t);
    sfix_done(&f);
}

Test(sftp, many_operations_reuse_one_connection)
{
    sfix f;
    sfix_init(&f);
    transport_config c;
    sftp_cfg(&c, &f, NULL, NULL, NULL, NULL);
    transport *t = open_ok(&c);
    ch_error e = {0};
    char src[300];
    snprintf(src, sizeof src, "%s/b", f.local);
    cr_assert_eq(tf_write(src, "ISA*00*~IEA*1*000000001~", 24), 0);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(transport_put(t, src, tf_fmt("B%03d.x12", i), &e), CH_OK, "%s", e.msg);
    char **names;
    size_t n;
    cr_assert_eq(transport_list(t, &names, &n, &e), CH_OK, "%s", e.msg);
    transport_names_free(names, n);
    cr_assert_eq(count_in(f.in), 20);
    cr_assert_eq(transport_connections(t), 1);
    transport_close(t);
    sfix_done(&f);
}

Test(sftp, passphrase_from_env_and_from_file)
{
    sfix f;
    sfix_init(&f);
    const char *key = tf_env("SFTP_KEY_PASSPHRASED");
    const char *passfile = tf_env("SFTP_KEY_PASSPHRASE_FILE");
    size_t len = 0;
    char *pass = tf_read(passfile, &len);
    cr_assert_not_null(pass);
    pass[strcspn(pass, "\r\n")] = '\0';
    const char *src = tf_fmt("%s/b", f.local);
    cr_assert_eq(tf_write(src, "hello", 5), 0);
    ch_error e = {0};

    transport_config c;
    sftp_cfg(&c, &f, key, NULL, tf_fmt("    passphrase_file: %s\n", passfile), NULL);
    transport *t = open_ok(&c);
    cr_assert_eq(transport_put(t, src, "F.x12", &e), CH_OK, "%s", e.msg);
    transport_close(t);

    setenv("CH_TEST_SFTP_PASS", pass, 1);
    sftp_cfg(&c, &f, key, NULL, "    passphrase_env: CH_TEST_SFTP_PASS\n", NULL);
    t = open_ok(&c);
    cr_assert_eq(transport_put(t, src, "E.x12", &e), CH_OK, "%s", e.msg);
    transport_close(t);
    cr_assert(tf_same(src, tf_fmt("%s/E.x12", f.in)));

    /* a wrong passphrase is a refusal that never shows the passphrase */
    setenv("CH_TEST_SFTP_PASS", "not-the-passphrase-xyzzy", 1);
    t = open_ok(&c);
    ch_code rc = transport_put(t, src, "W.x12", &e);
    cr_assert_eq(rc, CH_ERR_DENIED, "%d: %s", rc, e.msg);
    cr_assert(strstr(e.msg, "payer acme: sftp put W.x12"), "%s", e.msg);
    cr_assert(!strstr(e.msg, "xyzzy"), "%s", e.msg);
    cr_assert(!strstr(e.msg, pass), "%s", e.msg);
    cr_assert_eq(transport_retryable(t), 0);
    transport_close(t);

    /* unset variable / missing file: clear configuration errors at open */
    unsetenv("CH_TEST_SFTP_PASS");
    cr_assert_eq(transport_open(&c, &t, &e), CH_ERR_CONFIG);
    cr_assert(strstr(e.msg, "environment variable CH_TEST_SFTP_PASS is not set"), "%s", e.msg);
    cr_assert_null(t);
    sftp_cfg(&c, &f, key, NULL, "    passphrase_file: /nonexistent/pass\n", NULL);
    cr_assert_eq(transport_open(&c, &t, &e), CH_ERR_CONFIG);
    cr_assert(strstr(e.msg, "/nonexistent/pass"), "%s", e.msg);
    sftp_cfg(&c, &f, "/nonexistent/key", NULL, NULL, NULL);
    cr_assert_eq(transport_open(&c, &t, &e), CH_ERR_CONFIG);
    cr_assert(strstr(e.msg, "private_key_file /nonexistent/key"), "%s", e.msg);
    free(pass);
    sfix_done(&f);
}

Test(sftp, wrong_user_key_is_refused_clearly)
{
    sfix f;
    sfix_init(&f);
    transport_config c;
    sftp_cfg(&c, &f, tf_env("SFTP_KEY_WRONG"), NULL, NULL, NULL);
    transport *t = open_ok(&c);
    ch_error e = {0};
    const char *src = tf_fmt("%s/b", f.local);
    cr_assert_eq(tf_write(src, "hello", 5), 0);
    cr_assert_eq(transport_put(t, src, "B.x12", &e), CH_ERR_DENIED, "%s", e.msg);
    cr_assert(strstr(e.msg, "payer acme: sftp put B.x12"), "%s", e.msg);
    cr_assert(strstr(e.msg, "login refused"), "%s", e.msg);
    cr_assert(strstr(e.msg, tf_env("SFTP_KEY_WRONG")), "names the key file: %s", e.msg);
    cr_assert(!strstr(e.msg, "PRIVATE KEY"), "%s", e.msg);
    cr_assert_eq(transport_retryable(t), 0);
    cr_assert_eq(count_in(f.in), 0);
    transport_close(t);
    sfix_done(&f);
}

Test(sftp, host_key_mismatch_is_refused_and_says_so)
{
    sfix f;
    sfix_init(&f);
    const char *src = tf_fmt("%s/b", f.local);
    cr_assert_eq(tf_write(src, "hello", 5), 0);
    ch_error e = {0};
    transport_config c;

    /* a SHA256 pin of another key */
    sftp_cfg(&c, &f, NULL, "host_key_sha256: SHA256:0000000000000000000000000000000000000000000", NULL, NULL);
    transport *t = open_ok(&c);
    cr_assert_eq(transport_put(t, src, "B.x12", &e), CH_ERR_DENIED, "%s", e.msg);
    cr_assert(strstr(e.msg, "host key mismatch"), "%s", e.msg);
    cr_assert(strstr(e.msg, "refusing to connect"), "%s", e.msg);
    cr_assert_eq(transport_retryable(t), 0);
    transport_close(t);

    /* a known_hosts file holding another key for this [host]:port */
    const char *kh = tf_fmt("%s/known_hosts_wrong", f.local);
    cr_assert_eq(system(tf_fmt("printf '[127.0.0.1]:%s %%s\\n' \"$(cut -d' ' -f1,2 '%s.pub')\" > '%s'",
                               tf_env("SFTP_PORT"), tf_env("SFTP_KEY_WRONG"), kh)), 0);
    sftp_cfg(&c, &f, NULL, tf_fmt("known_hosts: %s", kh), NULL, NULL);
    t = open_ok(&c);
    cr_assert_eq(transport_put(t, src, "B.x12", &e), CH_ERR_DENIED, "%s", e.msg);
    cr_assert(strstr(e.msg, "host key mismatch"), "%s", e.msg);
    cr_assert(strstr(e.msg, kh), "%s", e.msg);
    transport_close(t);

    /* a known_hosts file that does not know this server */
    const char *kh2 = tf_fmt("%s/known_hosts_other", f.local);
    cr_assert_eq(system(tf_fmt("sed 's/^\\[127.0.0.1\\]/[127.0.0.2]/' '%s' > '%s'", tf_env("SFTP_KNOWN_HOSTS"), kh2)), 0);
    sftp_cfg(&c, &f, NULL, tf_fmt("known_hosts: %s", kh2), NULL, NULL);
    t = open_ok(&c);
    cr_assert_eq(transport_put(t, src, "B.x12", &e), CH_ERR_DENIED, "%s", e.msg);
    cr_assert(strstr(e.msg, "host key not verified"), "%s", e.msg);
    transport_close(t);
    cr_assert_eq(count_in(f.in), 0, "nothing reached the server");

    /* the right known_hosts file works */
    sftp_cfg(&c, &f, NULL, tf_fmt("known_hosts: %s", tf_env("SFTP_KNOWN_HOSTS")), NULL, NULL);
    t = open_ok(&c);
    cr_assert_eq(transport_put(t, src, "B.x12", &e), CH_OK, "%s", e.msg);
    transport_close(t);
    cr_assert(tf_same(src, tf_fmt("%s/B.x12", f.in)));
    sfix_done(&f);
}

Test(sftp, server_down_is_a_retryable_connect_error)
{
    sfix f;
    sfix_init(&f);
    char y[2048];
    int port = tf_dead_port();
    cr_assert_gt(port, 0);
    snprintf(y, sizeof y,
             "transport:\n  connect_timeout: 3\n  sftp:\n    host: 127.0.0.1\n    port: %d\n    user: u\n"
             "    private_key_file: %s\n    host_key_sha256: %s\n    upload_dir: /in\n",
             port, tf_env("SFTP_KEY"), tf_env("SFTP_HOSTKEY_SHA256"));
    transport_config c;
    ch_error e = {0};
    cr_assert_eq(transport_config_parse_text(y, strlen(y), "acme", &c, &e), CH_OK, "%s", e.msg);
    transport *t = open_ok(&c);
    const char *src = tf_fmt("%s/b", f.local);
    cr_assert_eq(tf_write(src, "hello", 5), 0);
    double t0 = tf_now();
    cr_assert_eq(transport_put(t, src, "B.x12", &e), CH_ERR_TRANSPORT, "%s", e.msg);
    cr_assert(strstr(e.msg, tf_fmt("cannot connect to 127.0.0.1:%d", port)), "%s", e.msg);
    cr_assert_eq(transport_retryable(t), 1);
    /* retried with backoff, then given up with the count */
    cr_assert_eq(transport_put_retry(t, src, "B.x12", 3, 10, &e), CH_ERR_TRANSPORT);
    cr_assert(strstr(e.msg, "after 3 attempts"), "%s", e.msg);
    cr_assert_lt(tf_now() - t0, 3.0 * tf_slack());
    transport_close(t);
    sfix_done(&f);
}

Test(sftp, stalled_server_times_out)
{
    sfix f;
    sfix_init(&f);
    int port = 0;
    int s = tf_silent_listener(&port);
    cr_assert_geq(s, 0);
    char y[2048];
    snprintf(y, sizeof y,
             "transport:\n  connect_timeout: 2\n  stall_timeout: 30\n  sftp:\n    host: 127.0.0.1\n    port: %d\n"
             "    user: u\n    private_key_file: %s\n    host_key_sha256: %s\n    upload_dir: /in\n",
             port, tf_env("SFTP_KEY"), tf_env("SFTP_HOSTKEY_SHA256"));
    transport_config c;
    ch_error e = {0};
    cr_assert_eq(transport_config_parse_text(y, strlen(y), "acme", &c, &e), CH_OK, "%s", e.msg);
    transport *t = open_ok(&c);
    const char *src = tf_fmt("%s/b", f.local);
    cr_assert_eq(tf_write(src, "hello", 5), 0);
    double t0 = tf_now();
    cr_assert_eq(transport_put(t, src, "B.x12", &e), CH_ERR_TIMEOUT, "%s", e.msg);
    double dt = tf_now() - t0;
    cr_assert(dt >= 1.5 && dt < 4.5 * tf_slack(), "timed out after %.2f s, configured 2 s", dt);
    cr_assert(strstr(e.msg, "timed out"), "%s", e.msg);
    cr_assert_eq(transport_retryable(t), 1);
    transport_close(t);
    close(s);
    sfix_done(&f);
}

Test(sftp, crash_check_and_gzip)
{
    sfix f;
    sfix_init(&f);
    transport_config c;
    sftp_cfg(&c, &f, NULL, NULL, NULL, "  gzip: true\n");
    transport *t = open_ok(&c);
    ch_error e = {0};
    const char *src = tf_fmt("%s/b", f.local);
    char text[50000];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = "NM1*IL*1*DOE*JOHN****MI*123~\n"[i % 29];
    cr_assert_eq(tf_write(src, text, sizeof text), 0);
    transport_delivery d;

    /* a half upload left by a crash: not delivered, and cleared */
    cr_assert_eq(tf_write(tf_fmt("%s/.B.x12.gz.part", f.in), "half", 4), 0);
    cr_assert_eq(transport_check_delivered(t, src, "B.x12.gz", &d, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(d, TRANSPORT_NOT_DELIVERED);
    cr_assert_eq(count_in(f.in), 0);

    cr_assert_eq(transport_put(t, src, "B.x12.gz", &e), CH_OK, "%s", e.msg);
    cr_assert_eq(system(tf_fmt("gzip -dc '%s/B.x12.gz' | cmp -s - '%s'", f.in, src)), 0);
    cr_assert_eq(transport_check_delivered(t, src, "B.x12.gz", &d, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(d, TRANSPORT_DELIVERED);

    /* a gzip'ed response comes back inflated */
    cr_assert_eq(system(tf_fmt("cp '%s/B.x12.gz' '%s/R.835.gz'", f.in, f.out)), 0);
    char hex[SHA256_HEX], want[SHA256_HEX];
    uint64_t size;
    cr_assert_eq(transport_get(t, "R.835.gz", f.local, "R.835", hex, &size, &e), CH_OK, "%s", e.msg);
    cr_assert(tf_same(src, tf_fmt("%s/R.835", f.local)));
    sha256_hex_of(text, sizeof text, want);
    cr_assert_str_eq(hex, want);
    transport_close(t);
    sfix_done(&f);
}
