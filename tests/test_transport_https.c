/*
 * test_transport_https.c - the https transport against nginx with a test CA
 * (one plain TLS port, one mutual-TLS port) and the python fault-injecting
 * HTTPS server (tests/fixtures/servers.sh https / faulty, shared by the run;
 * see transport_fixture.h).  The payer side is checked on disk.
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

static void start_web(void)
{
    /* https and faulty share a directory (and CA): one after the other */
    cr_assert_eq(tf_start("https"), 0, "could not start nginx (servers.sh https)");
    cr_assert_eq(tf_start("faulty"), 0, "could not start faulty_https.py (servers.sh faulty)");
}

TestSuite(https, .init = start_web, .timeout = 30);

typedef struct hfix {
    char sub[128];     /* this test's directory name under upload/ and responses/ */
    char up[1100], resp[1100], arch[1100];
    char local[600];
    char src[700];     /* a small batch file */
} hfix;

static void hfix_init(hfix *f)
{
    snprintf(f->sub, sizeof f->sub, "%s", tf_unique("t"));
    snprintf(f->up, sizeof f->up, "%s/upload/%s", tf_env("HTTPS_WWW"), f->sub);
    snprintf(f->resp, sizeof f->resp, "%s/responses/%s", tf_env("HTTPS_WWW"), f->sub);
    snprintf(f->arch, sizeof f->arch, "%s/upload/%s-archive", tf_env("HTTPS_WWW"), f->sub);
    tf_mkdirs(f->up), tf_mkdirs(f->resp);
    snprintf(f->local, sizeof f->local, "%s/local-XXXXXX", tf_root());
    cr_assert_not_null(mkdtemp(f->local));
    snprintf(f->src, sizeof f->src, "%s/batch.x12", f->local);
    cr_assert_eq(tf_write(f->src, "ISA*00*          *00*          ~IEA*1*000000905~\n", 49), 0);
}

static void hfix_done(hfix *f)
{
    cr_assert_eq(system(tf_fmt("rm -rf '%s' '%s' '%s' '%s'", f->up, f->resp, f->arch, f->local)), 0);
}

/* A profile from the lines of its https: mapping (indented 4). */
static transport *open_https(const char *lines, const char *top)
{
    char y[8192];
    snprintf(y, sizeof y, "transport:\n  connect_timeout: 3\n  stall_timeout: 2\n%s  https:\n%s", top ? top : "",
             lines);
    transport_config c;
    ch_error e = {0};
    cr_assert_eq(transport_config_parse_text(y, strlen(y), "acme", &c, &e), CH_OK, "%s\n%s", e.msg, y);
    transport *t = NULL;
    cr_assert_eq(transport_open(&c, &t, &e), CH_OK, "%s", e.msg);
    return t;
}

static const char *base(void) { return tf_fmt("https://127.0.0.1:%s", tf_env("HTTPS_PORT")); }
static const char *mtls(void) { return tf_fmt("https://127.0.0.1:%s", tf_env("HTTPS_MTLS_PORT")); }
static const char *faulty(void) { return tf_fmt("https://127.0.0.1:%s", tf_env("FAULTY_PORT")); }

Test(https, put_exists_list_get_archive_remove)
{
    hfix f;
    hfix_init(&f);
    char lines[4096];
    snprintf(lines, sizeof lines,
             "    upload_url: %s/upload/%s/{name}\n    ca_file: %s\n    list_url: %s/responses/%s/\n"
             "    delete_url: %s/upload/%s/{name}\n    archive_url: %s/upload/%s-archive/{name}\n",
             base(), f.sub, tf_env("HTTPS_CA"), base(), f.sub, base(), f.sub, base(), f.sub);
    transport *t = open_https(lines, "  response_pattern: '*.835'\n");
    ch_error e = {0};

    const char *big = tf_fmt("%s/big", f.local);
    char bigp[700];
    snprintf(bigp, sizeof bigp, "%s", big);
    cr_assert_eq(tf_write(bigp, NULL, 500000), 0);
    cr_assert_eq(transport_put(t, bigp, "B1.x12", &e), CH_OK, "%s", e.msg);
    cr_assert_eq(transport_put(t, f.src, "B 2.x12", &e), CH_OK, "%s", e.msg);
    cr_assert(tf_same(bigp, tf_fmt("%s/B1.x12", f.up)), "the payer sees exactly the bytes");
    cr_assert(tf_same(f.src, tf_fmt("%s/B 2.x12", f.up)));

    int ex = 0;
    uint64_t sz = 0;
    cr_assert_eq(transport_exists(t, "B1.x12", &ex, &sz, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(ex, 1);
    cr_assert_eq(sz, 500000);
    cr_assert_eq(transport_exists(t, "B3.x12", &ex, &sz, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(ex, 0);
    transport_delivery d;
    cr_assert_eq(transport_check_delivered(t, bigp, "B1.x12", &d, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(d, TRANSPORT_DELIVERED);

    /* responses, listed through nginx's JSON autoindex */
    cr_assert_eq(tf_write(tf_fmt("%s/r1.835", f.resp), NULL, 77777), 0);
    cr_assert_eq(tf_write(tf_fmt("%s/r 2.835", f.resp), "ISA~", 4), 0);
    cr_assert_eq(tf_write(tf_fmt("%s/skip.txt", f.resp), "x", 1), 0);
    tf_mkdirs(tf_fmt("%s/dir.835", f.resp));
    char **names;
    size_t n;
    cr_assert_eq(transport_list(t, &names, &n, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(names[0], "r 2.835");
    cr_assert_str_eq(names[1], "r1.835");
    for (size_t i = 0; i < n; i++) {
        char hex[SHA256_HEX], want[SHA256_HEX];
        uint64_t size;
        cr_assert_eq(transport_get(t, names[i], f.local, names[i], hex, &size, &e), CH_OK, "%s", e.msg);
        size_t len = 0;
        char *body = tf_read(tf_fmt("%s/%s", f.resp, names[i]), &len);
        sha256_hex_of(body, len, want);
        free(body);
        cr_assert_str_eq(hex, want);
        cr_assert_eq(size, len);
        cr_assert(tf_same(tf_fmt("%s/%s", f.resp, names[i]), tf_fmt("%s/%s", f.local, names[i])));
    }
    transport_names_free(names, n);

    /* a missing response: 404 is "not found", nothing is left locally */
    char hex[SHA256_HEX];
    uint64_t size;
    cr_assert_eq(transport_get(t, "gone.835", f.local, "gone.835", hex, &size, &e), CH_ERR_NOTFOUND);
    cr_assert(strstr(e.msg, "payer acme: https get gone.835: HTTP 404"), "%s", e.msg);
    cr_assert_eq(access(tf_fmt("%s/gone.835", f.local), F_OK), -1);

    /* remove and archive through WebDAV (on the upload location here) */
    cr_assert_eq(transport_remove(t, "B 2.x12", &e), CH_OK, "%s", e.msg);
    cr_assert_eq(access(tf_fmt("%s/B 2.x12", f.up), F_OK), -1);
    cr_assert_eq(transport_archive(t, "B1.x12", &e), CH_OK, "%s", e.msg);
    cr_assert(tf_same(bigp, tf_fmt("%s/B1.x12", f.arch)));
    cr_assert_eq(transport_remove(t, "B1.x12", &e), CH_ERR_NOTFOUND);

    cr_assert_eq(transport_connections(t), 1, "keep-alive: one TLS connection for everything");
    transport_close(t);
    hfix_done(&f);
}

Test(https, mutual_tls)
{
    hfix f;
    hfix_init(&f);
    ch_error e = {0};
    const char *url = tf_fmt("    upload_url: %s/upload/%s/{name}\n    ca_file: %s\n", mtls(), f.sub, tf_env("HTTPS_CA"));
    char u[2048];
    snprintf(u, sizeof u, "%s", url);

    /* the right client certificate */
    transport *t = open_https(tf_fmt("%s    client_cert: %s\n    client_key: %s\n", u, tf_env("HTTPS_CLIENT_CERT"),
                                     tf_env("HTTPS_CLIENT_KEY")), NULL);
    cr_assert_eq(transport_put(t, f.src, "M1.x12", &e), CH_OK, "%s", e.msg);
    transport_close(t);
    cr_assert(tf_same(f.src, tf_fmt("%s/M1.x12", f.up)));

    /* the client key protected by a passphrase (from the environment) */
    const char *enc = tf_fmt("%s/client-enc.key", f.local);
    char encp[700];
    snprintf(encp, sizeof encp, "%s", enc);
    cr_assert_eq(system(tf_fmt("openssl pkey -in '%s' -aes256 -passout pass:open-sesame-42 -out '%s'",
                               tf_env("HTTPS_CLIENT_KEY"), encp)), 0);
    setenv("CH_TEST_KEYPASS", "open-sesame-42", 1);
    t = open_https(tf_fmt("%s    client_cert: %s\n    client_key: %s\n    client_key_passphrase_env: CH_TEST_KEYPASS\n",
                          u, tf_env("HTTPS_CLIENT_CERT"), encp), NULL);
    cr_assert_eq(transport_put(t, f.src, "M4.x12", &e), CH_OK, "%s", e.msg);
    transport_close(t);
    setenv("CH_TEST_KEYPASS", "wrong-sesame-99", 1);
    t = open_https(tf_fmt("%s    client_cert: %s\n    client_key: %s\n    client_key_passphrase_env: CH_TEST_KEYPASS\n",
                          u, tf_env("HTTPS_CLIENT_CERT"), encp), NULL);
    cr_assert_eq(transport_put(t, f.src, "M5.x12", &e), CH_ERR_CONFIG, "%s", e.msg);
    cr_assert(strstr(e.msg, "local certificate or key problem"), "%s", e.msg);
    cr_assert(!strstr(e.msg, "sesame"), "%s", e.msg);
    transport_close(t);

    /* no certificate: nginx says HTTP 400 while curl says OK; we say no */
    t = open_https(u, NULL);
    cr_assert_eq(transport_put(t, f.src, "M2.x12", &e), CH_ERR_TRANSPORT, "%s", e.msg);
    cr_assert(strstr(e.msg, "payer acme: https put M2.x12: HTTP 400"), "%s", e.msg);
    cr_assert(strstr(e.msg, "client certificate"), "%s", e.msg);
    cr_assert_eq(transport_retryable(t), 0);
    transport_close(t);

    /* a certificate from another CA */
    t = open_https(tf_fmt("%s    client_cert: %s\n    client_key: %s\n", u, tf_env("HTTPS_BAD_CLIENT_CERT"),
                          tf_env("HTTPS_BAD_CLIENT_KEY")), NULL);
    cr_assert_eq(transport_put(t, f.src, "M3.x12", &e), CH_ERR_TRANSPORT, "%s", e.msg);
    cr_assert(strstr(e.msg, "HTTP 400"), "%s", e.msg);
    cr_assert(strstr(e.msg, "refused our client certificate"), "%s", e.msg);
    transport_close(t);
    cr_assert_eq(access(tf_fmt("%s/M2.x12", f.up), F_OK), -1);
    cr_assert_eq(access(tf_fmt("%s/M3.x12", f.up), F_OK), -1);
    hfix_done(&f);
}

Test(https, server_verification_ca_and_pins)
{
    hfix f;
    hfix_init(&f);
    ch_error e = {0};
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", tf_env("HTTPS_CA"));
    *strrchr(dir, '/') = '\0';

    /* the wrong CA: refused before anything is sent */
    transport *t = open_https(tf_fmt("    upload_url: %s/upload/%s/{name}\n    ca_file: %s/bad_ca.crt\n", base(), f.sub, dir),
                              NULL);
    cr_assert_eq(transport_put(t, f.src, "P0.x12", &e), CH_ERR_DENIED, "%s", e.msg);
    cr_assert(strstr(e.msg, "server certificate not trusted"), "%s", e.msg);
    cr_assert_eq(transport_retryable(t), 0);
    transport_close(t);

    /* the pinned public key alone */
    t = open_https(tf_fmt("    upload_url: %s/upload/%s/{name}\n    pinned_public_key: \"%s\"\n", base(), f.sub,
                          tf_env("HTTPS_PIN")), NULL);
    cr_assert_eq(transport_put(t, f.src, "P1.x12", &e), CH_OK, "%s", e.msg);
    transport_close(t);
    /* CA and pin together */
    t = open_https(tf_fmt("    upload_url: %s/upload/%s/{name}\n    ca_file: %s\n    pinned_public_key: \"%s\"\n", base(),
                          f.sub, tf_env("HTTPS_CA"), tf_env("HTTPS_PIN")), NULL);
    cr_assert_eq(transport_put(t, f.src, "P2.x12", &e), CH_OK, "%s", e.msg);
    transport_close(t);
    /* a wrong pin */
    t = open_https(tf_fmt("    upload_url: %s/upload/%s/{name}\n    pinned_public_key: "
                          "\"sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"\n", base(), f.sub), NULL);
    cr_assert_eq(transport_put(t, f.src, "P3.x12", &e), CH_ERR_DENIED, "%s", e.msg);
    cr_assert(strstr(e.msg, "does not match pinned_public_key"), "%s", e.msg);
    transport_close(t);
    cr_assert(tf_same(f.src, tf_fmt("%s/P1.x12", f.up)));
    cr_assert_eq(access(tf_fmt("%s/P0.x12", f.up), F_OK), -1);
    cr_assert_eq(access(tf_fmt("%s/P3.x12", f.up), F_OK), -1);
    hfix_done(&f);
}

Test(https, http_500_then_success_is_retried)
{
    hfix f;
    hfix_init(&f);
    ch_error e = {0};
    const char *n1 = tf_unique("F1"), *n2 = tf_unique("F2");
    char a[128], b[128];
    snprintf(a, sizeof a, "%s.x12", n1);
    snprintf(b, sizeof b, "%s.x12", n2);
    transport *t = open_https(tf_fmt("    upload_url: %s/fail-once/{name}\n    ca_file: %s\n", faulty(), tf_env("FAULTY_CA")),
                              NULL);
    /* one attempt: the 500 is reported, and it is retryable */
    cr_assert_eq(transport_put(t, f.src, a, &e), CH_ERR_TRANSPORT, "%s", e.msg);
    cr_assert(strstr(e.msg, "HTTP 500: injected failure"), "%s", e.msg);
    cr_assert_eq(transport_retryable(t), 1);
    /* with retries: 500, backoff, delivery check (HEAD: 404), 201 */
    double t0 = tf_now();
    cr_assert_eq(transport_put_retry(t, f.src, b, 4, 20, &e), CH_OK, "%s", e.msg);
    cr_assert_lt(tf_now() - t0, 3.0 * tf_slack());
    cr_assert(tf_same(f.src, tf_fmt("%s/%s", tf_env("FAULTY_DIR"), b)));
    transport_close(t);
    hfix_done(&f);
}

Test(https, stalled_server_times_out)
{
    hfix f;
    hfix_init(&f);
    ch_error e = {0};
    transport *t = open_https(tf_fmt("    upload_url: %s/stall/{name}\n    ca_file: %s\n", faulty(), tf_env("FAULTY_CA")),
                              NULL);
    double t0 = tf_now();
    cr_assert_eq(transport_put(t, f.src, "S.x12", &e), CH_ERR_TIMEOUT, "%s", e.msg);
    double dt = tf_now() - t0;
    cr_assert(dt >= 1.5 && dt < 4.5 * tf_slack(), "timed out after %.2f s, stall_timeout 2 s", dt);
    cr_assert(strstr(e.msg, "payer acme: https put S.x12: timed out"), "%s", e.msg);
    cr_assert_eq(transport_retryable(t), 1);
    transport_close(t);
    hfix_done(&f);
}

Test(https, dropped_connection_refusals_and_the_token)
{
    hfix f;
    hfix_init(&f);
    ch_error e = {0};
    const char *tokfile = tf_fmt("%s/token", f.local);
    char tf[700];
    snprintf(tf, sizeof tf, "%s", tokfile);
    cr_assert_eq(tf_write(tf, "tok-SECRET-9f8e7d6c\n", 20), 0);

    /* connection closed without an answer: transient */
    transport *t = open_https(tf_fmt("    upload_url: %s/drop/{name}\n    ca_file: %s\n    token_file: %s\n", faulty(),
                                     tf_env("FAULTY_CA"), tf), NULL);
    cr_assert_eq(transport_put(t, f.src, "D.x12", &e), CH_ERR_TRANSPORT, "%s", e.msg);
    cr_assert(strstr(e.msg, "curl 52"), "%s", e.msg);
    cr_assert_eq(transport_retryable(t), 1);
    transport_close(t);

    /* 401 and 403 are refusals, never retried; the token never shows */
    for (int code = 401; code <= 403; code += 2) {
        t = open_https(tf_fmt("    upload_url: %s/status/%d?f={name}\n    ca_file: %s\n    token_file: %s\n", faulty(),
                              code, tf_env("FAULTY_CA"), tf), NULL);
        cr_assert_eq(transport_put(t, f.src, "A.x12", &e), CH_ERR_DENIED, "%s", e.msg);
        cr_assert(strstr(e.msg, tf_fmt("HTTP %d", code)), "%s", e.msg);
        cr_assert(!strstr(e.msg, "SECRET"), "%s", e.msg);
        cr_assert_eq(transport_retryable(t), 0);
        transport_close(t);
    }
    /* 429 and 503 are worth retrying; 422 is not */
    int codes[] = {429, 503, 422};
    {
        unsetenv("CH_TEST_TOKEN");
        char y[4096];
        snprintf(y, sizeof y, "transport:\n  https:\n    upload_url: %s/ok/{name}\n    ca_file: %s\n"
                 "    token_env: CH_TEST_TOKEN\n", faulty(), tf_env("FAULTY_CA"));
        transport_config c;
        cr_assert_eq(transport_config_parse_text(y, strlen(y), "acme", &c, &e), CH_OK, "%s", e.msg);
        cr_assert_eq(transport_open(&c, &t, &e), CH_ERR_CONFIG);
        cr_assert(strstr(e.msg, "environment variable CH_TEST_TOKEN is not set"), "%s", e.msg);
    }
    setenv("CH_TEST_TOKEN", "tok-SECRET-env", 1);
    for (int i = 0; i < 3; i++) {
        t = open_https(tf_fmt("    upload_url: %s/status/%d?f={name}\n    ca_file: %s\n    token_env: CH_TEST_TOKEN\n",
                              faulty(), codes[i], tf_env("FAULTY_CA")), NULL);
        cr_assert_eq(transport_put(t, f.src, "A.x12", &e), CH_ERR_TRANSPORT, "%s", e.msg);
        cr_assert_eq(transport_retryable(t), codes[i] != 422, "%d", codes[i]);
        cr_assert(!strstr(e.msg, "SECRET"), "%s", e.msg);
        transport_close(t);
    }
    /* a token that would break the header is refused at open */
    cr_assert_eq(tf_write(tf, "two words\n", 10), 0);
    char y[4096];
    snprintf(y, sizeof y, "transport:\n  https:\n    upload_url: %s/ok/{name}\n    ca_file: %s\n    token_file: %s\n",
             faulty(), tf_env("FAULTY_CA"), tf);
    transport_config c;
    cr_assert_eq(transport_config_parse_text(y, strlen(y), "acme", &c, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(transport_open(&c, &t, &e), CH_ERR_CONFIG);
    cr_assert(strstr(e.msg, "not allowed in an HTTP header"), "%s", e.msg);
    cr_assert(!strstr(e.msg, "two words"), "%s", e.msg);
    hfix_done(&f);
}

Test(https, post_and_core_multipart)
{
    hfix f;
    hfix_init(&f);
    ch_error e = {0};
    char n1[64], n2[64];
    snprintf(n1, sizeof n1, "%s.x12", tf_unique("P"));
    snprintf(n2, sizeof n2, "%s.x12", tf_unique("C"));
    transport *t = open_https(tf_fmt("    upload_url: %s/ok/{name}\n    method: POST\n    ca_file: %s\n", faulty(),
                                     tf_env("FAULTY_CA")), NULL);
    cr_assert_eq(transport_put(t, f.src, n1, &e), CH_OK, "%s", e.msg);
    cr_assert(tf_same(f.src, tf_fmt("%s/%s", tf_env("FAULTY_DIR"), n1)));
    /* POST without exists_url: the crash check cannot look and says so */
    transport_delivery d;
    cr_assert_eq(transport_check_delivered(t, f.src, n1, &d, &e), CH_OK);
    cr_assert_eq(d, TRANSPORT_DELIVERY_UNKNOWN);
    cr_assert(strstr(e.msg, "exists_url"), "%s", e.msg);
    transport_close(t);

    t = open_https(tf_fmt("    upload_url: %s/ok/{name}\n    method: POST\n    upload_format: core-multipart\n"
                          "    sender_id: CH01\n    receiver_id: PAYER99\n    ca_file: %s\n",
                          faulty(), tf_env("FAULTY_CA")), NULL);
    cr_assert_eq(transport_put(t, f.src, n2, &e), CH_OK, "%s", e.msg);
    transport_close(t);
    size_t len = 0;
    char *body = tf_read(tf_fmt("%s/%s", tf_env("FAULTY_DIR"), n2), &len);
    cr_assert_not_null(body);
    const char *want[] = {"name=\"PayloadType\"", "X12_837_Request_005010X222A1", "name=\"ProcessingMode\"",
                          "Batch", "name=\"PayloadID\"", "name=\"TimeStamp\"", "name=\"SenderID\"", "CH01",
                          "name=\"ReceiverID\"", "PAYER99", "name=\"CORERuleVersion\"", "2.2.0",
                          "name=\"Checksum\"", "name=\"Payload\"", "ISA*00*"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        cr_assert(memmem(body, len, want[i], strlen(want[i])), "multipart body lacks %s", want[i]);
    char hex[SHA256_HEX];
    sha256_hex_of("ISA*00*          *00*          ~IEA*1*000000905~\n", 49, hex);
    cr_assert(memmem(body, len, hex, 64), "Checksum is the payload's SHA-256");
    free(body);
    hfix_done(&f);
}

Test(https, server_down)
{
    hfix f;
    hfix_init(&f);
    ch_error e = {0};
    int port = tf_dead_port();
    transport *t = open_https(tf_fmt("    upload_url: https://127.0.0.1:%d/up/{name}\n    ca_file: %s\n", port,
                                     tf_env("HTTPS_CA")), NULL);
    cr_assert_eq(transport_put(t, f.src, "X.x12", &e), CH_ERR_TRANSPORT, "%s", e.msg);
    cr_assert(strstr(e.msg, "cannot connect"), "%s", e.msg);
    cr_assert_eq(transport_retryable(t), 1);
    transport_close(t);
    hfix_done(&f);
}
