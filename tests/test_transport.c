/*
 * test_transport.c - the transport layer without a network: SHA-256 (FIPS
 * 180-4 vectors), gzip, the `transport:` configuration and its refusals,
 * every YAML example in docs/transport.md, listings, backoff, the dir
 * transport end to end, and the crash check.
 *
 * Also home of the report hooks that stop the shared test servers
 * (transport_fixture.h) when the whole run is over.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sha256.h"
#include "transport.h"
#include "transport_fixture.h"
#include "transport_impl.h"

/* ------------------------------------------------------ shared servers */

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    (void)set;
    /* Workers inherit this, so they and the runner agree on ROOT. */
    const char *td = getenv("TMPDIR");
    char root[512];
    snprintf(root, sizeof root, "%s/ch-transport-%ld", td && *td ? td : "/tmp", (long)getpid());
    setenv("CH_TF_ROOT", root, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    (void)stats;
    const char *root = getenv("CH_TF_ROOT");
    if (root && *root)
        tf_stop_all(root);
}

/* ------------------------------------------------------------- SHA-256 */

static void hex_of(const char *s, size_t n, char *hex)
{
    sha256_hex_of(s, n, hex);
}

Test(sha256, fips_180_4_vectors)
{
    char hex[SHA256_HEX];
    hex_of("abc", 3, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hex_of("", 0, hex);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(m448, strlen(m448), hex);
    cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                       "klmnopqrlmnopqrsmnopqrstnopqrstu";
    hex_of(m896, strlen(m896), hex);
    cr_assert_str_eq(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    /* one million 'a', fed in uneven pieces */
    sha256_ctx c;
    sha256_init(&c);
    char a[1000];
    memset(a, 'a', sizeof a);
    size_t left = 1000000, step = 1;
    while (left) {
        size_t k = step < left ? step : left;
        k = k > sizeof a ? sizeof a : k;
        sha256_update(&c, a, k);
        left -= k;
        step = step * 7 % 997 + 1;
    }
    uint8_t d[SHA256_DIGEST];
    sha256_final(&c, d);
    cr_assert_str_eq(sha256_hex(d, hex), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

Test(sha256, chunking_never_changes_the_digest)
{
    char buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (char)(i * 31 + 7);
    for (size_t len = 0; len <= sizeof buf; len += 13) {
        char whole[SHA256_HEX], parts[SHA256_HEX];
        sha256_hex_of(buf, len, whole);
        for (size_t cut = 0; cut <= len; cut += 11) {
            sha256_ctx c;
            uint8_t d[SHA256_DIGEST];
            sha256_init(&c);
            sha256_update(&c, buf, cut);
            sha256_update(&c, buf + cut, len - cut);
            sha256_final(&c, d);
            cr_assert_str_eq(sha256_hex(d, parts), whole, "len %zu cut %zu", len, cut);
        }
    }
}

/* ------------------------------------------------------------------ gzip */

static char tmpdir_buf[256];
static const char *tmpdir(void)
{
    snprintf(tmpdir_buf, sizeof tmpdir_buf, "/tmp/ch-tt-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir_buf));
    return tmpdir_buf;
}

static void rmrf(const char *d)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    cr_assert_eq(system(cmd), 0);
}

Test(gzip, round_trip_deterministic_and_gzip_compatible)
{
    const char *d = tmpdir();
    const char *src = tf_fmt("%s/in.x12", d), *gz = tf_fmt("%s/in.x12.gz", d),
               *gz2 = tf_fmt("%s/again.gz", d), *back = tf_fmt("%s/back.x12", d);
    cr_assert_eq(tf_write(src, NULL, 300000), 0);
    ch_error e = {0};
    cr_assert_eq(transport_gzip_file(src, gz, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(transport_gzip_file(src, gz2, &e), CH_OK, "%s", e.msg);
    cr_assert(tf_same(gz, gz2), "gzip output must be deterministic");
    cr_assert_eq(transport_gunzip_file(gz, back, &e), CH_OK, "%s", e.msg);
    cr_assert(tf_same(src, back));
    /* gzip(1) agrees */
    cr_assert_eq(system(tf_fmt("gzip -t '%s' && gzip -dc '%s' | cmp -s - '%s'", gz, gz, src)), 0);
    /* two concatenated members, as `cat a.gz b.gz` makes */
    cr_assert_eq(system(tf_fmt("cat '%s' '%s' > '%s/two.gz' && cat '%s' '%s' > '%s/two'", gz, gz, d, src, src, d)), 0);
    cr_assert_eq(transport_gunzip_file(tf_fmt("%s/two.gz", d), back, &e), CH_OK, "%s", e.msg);
    cr_assert(tf_same(tf_fmt("%s/two", d), back));
    /* a truncated file is refused */
    cr_assert_eq(system(tf_fmt("head -c 1000 '%s' > '%s/cut.gz'", gz, d)), 0);
    cr_assert_eq(transport_gunzip_file(tf_fmt("%s/cut.gz", d), back, &e), CH_ERR_INVALID);
    cr_assert(strstr(e.msg, "ends before"), "%s", e.msg);
    /* an empty input gives a valid, empty gzip */
    cr_assert_eq(tf_write(src, "", 0), 0);
    cr_assert_eq(transport_gzip_file(src, gz, &e), CH_OK);
    cr_assert_eq(transport_gunzip_file(gz, back, &e), CH_OK, "%s", e.msg);
    size_t n = 99;
    free(tf_read(back, &n));
    cr_assert_eq(n, 0);
    rmrf(d);
}

/* ------------------------------------------------------------ configuration */

static ch_code parse(const char *yaml, transport_config *c, ch_error *e)
{
    memset(e, 0, sizeof *e);
    return transport_config_parse_text(yaml, strlen(yaml), "acme", c, e);
}

#define SFTP_OK                                                                   \
    "transport:\n"                                                                \
    "  sftp:\n"                                                                   \
    "    host: sftp.example.com\n"                                                \
    "    user: clearinghouse\n"                                                   \
    "    private_key_file: /etc/clearinghouse/keys/acme_ed25519\n"                \
    "    host_key_sha256: SHA256:hYeyzD9IiU4OW3mGWarLOE5q5PtKwodhqznsvZhPqfo\n"   \
    "    upload_dir: /inbound\n"                                                  \
    "    response_dir: /outbound\n"

Test(config, sftp_minimal_and_defaults)
{
    transport_config c;
    ch_error e;
    cr_assert_eq(parse(SFTP_OK, &c, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(c.kind, TRANSPORT_SFTP);
    cr_assert_str_eq(c.payer, "acme");
    cr_assert_eq(c.sftp.port, 22);
    cr_assert_str_eq(c.sftp.host_key_sha256, "hYeyzD9IiU4OW3mGWarLOE5q5PtKwodhqznsvZhPqfo");
    cr_assert_eq(c.connect_timeout_s, 15);
    cr_assert_eq(c.stall_timeout_s, 60);
    cr_assert_eq(c.retry_attempts, 5);
    cr_assert_str_eq(c.temp_prefix, ".");
    cr_assert_str_eq(c.temp_suffix, ".part");
    cr_assert_eq(c.after_collect, TRANSPORT_AFTER_KEEP);
    cr_assert_eq(c.gzip, 0);
}

Test(config, common_settings)
{
    transport_config c;
    ch_error e;
    const char *y = "transport:\n  gzip: true\n  connect_timeout: 5\n  stall_timeout: 7\n"
                    "  stall_bytes_per_second: 100\n  timeout: 600\n  retries: 3\n  retry_base_ms: 10\n"
                    "  retry_max_ms: 1000\n  after_collect: archive\n  file_name: '{payer}-{batch}-{date}.x12'\n"
                    "  response_pattern: '*.835'\n  temp_prefix: ''\n  temp_suffix: .tmp\n"
                    "  dir:\n    upload_dir: /srv/x/in\n    response_dir: /srv/x/out\n    archive_dir: /srv/x/arch\n";
    cr_assert_eq(parse(y, &c, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(c.kind, TRANSPORT_DIR);
    cr_assert_eq(c.gzip, 1);
    cr_assert_eq(c.connect_timeout_s, 5);
    cr_assert_eq(c.stall_timeout_s, 7);
    cr_assert_eq(c.stall_bytes_per_s, 100);
    cr_assert_eq(c.timeout_s, 600);
    cr_assert_eq(c.retry_attempts, 3);
    cr_assert_eq(c.retry_base_ms, 10);
    cr_assert_eq(c.retry_max_ms, 1000);
    cr_assert_eq(c.after_collect, TRANSPORT_AFTER_ARCHIVE);
    cr_assert_str_eq(c.response_pattern, "*.835");
    cr_assert_str_eq(c.temp_prefix, "");
    cr_assert_str_eq(c.temp_suffix, ".tmp");
    char name[256];
    cr_assert_eq(transport_remote_name(&c, "B000123", 1736935200 /* 2025-01-15 10:00:00Z */, name,
                                       sizeof name, &e), CH_OK, "%s", e.msg);
    cr_assert_str_eq(name, "acme-B000123-20250115.x12");
    cr_assert_eq(transport_remote_name(&c, "a/b", 0, name, sizeof name, &e), CH_ERR_INVALID);
}

/* Each refusal: the YAML, the code, and words the message must hold. */
static void refused(const char *yaml, const char *words)
{
    transport_config c;
    ch_error e;
    ch_code rc = parse(yaml, &c, &e);
    cr_assert_eq(rc, CH_ERR_CONFIG, "expected a refusal for:\n%s\ngot %d: %s", yaml, rc, e.msg);
    cr_assert(strstr(e.msg, words), "message \"%s\" lacks \"%s\"", e.msg, words);
    cr_assert(strstr(e.msg, "payer acme"), "%s", e.msg);
    cr_assert(!strstr(e.msg, "hunter2"), "a secret leaked into: %s", e.msg);
}

Test(config, refusals)
{
    /* sftp without a pinned host key */
    refused("transport:\n  sftp:\n    host: h\n    user: u\n    private_key_file: /k\n    upload_dir: /in\n",
            "no pinned host key");
    /* secrets written in the profile */
    refused(SFTP_OK "    passphrase: hunter2\n", "use passphrase_file or passphrase_env");
    refused(SFTP_OK "    password: hunter2\n", "secrets are never written");
    refused("transport:\n  https:\n    upload_url: https://h/up/\n    ca_file: /ca\n    token: hunter2\n",
            "use token_file or token_env");
    refused("transport:\n  https:\n    upload_url: https://h/up/\n    ca_file: /ca\n    api_key: hunter2\n",
            "secrets are never written");
    refused(SFTP_OK "    private_key: \"-----BEGIN OPENSSH PRIVATE KEY----- hunter2\"\n", "secrets are never written");
    refused("transport:\n  https:\n    upload_url: https://h/up/\n    ca_file: \"-----BEGIN CERTIFICATE----- hunter2\"\n",
            "key material");
    refused("transport:\n  https:\n    upload_url: https://user:hunter2@h/up/\n    ca_file: /ca\n",
            "must not carry credentials");
    /* https without TLS verification */
    refused("transport:\n  https:\n    upload_url: https://h/up/\n", "no way to verify the server");
    refused("transport:\n  https:\n    upload_url: https://h/up/\n    ca_file: /ca\n    verify: false\n",
            "TLS verification cannot be turned off");
    refused("transport:\n  https:\n    upload_url: https://h/up/\n    ca_file: /ca\n    insecure: true\n",
            "cannot be turned off");
    refused(SFTP_OK "    strict_host_key_checking: no\n", "host key verification cannot be turned off");
    refused("transport:\n  https:\n    upload_url: http://h/up/\n    ca_file: /ca\n", "must be an https:// URL");
    /* shape */
    refused("transport:\n  gzip: true\n", "needs one of sftp:, https: or dir:");
    refused("transport:\n  dir:\n    upload_dir: /a\n  sftp:\n    host: h\n", "one kind");
    refused(SFTP_OK "    colour: blue\n", "unknown setting");
    refused(SFTP_OK "    port: 0\n", "between 1 and 65535");
    refused(SFTP_OK "    port: twenty\n", "whole number");
    refused(SFTP_OK "    upload_dir: /again\n", "given twice");
    refused("transport:\n  sftp:\n    host: h\n    user: u\n    private_key_file: /k\n    upload_dir: /in\n"
            "    host_key_sha256: abc\n", "SHA256 host key fingerprint");
    refused(SFTP_OK "    passphrase_env: lower-case\n", "environment variable name");
    refused(SFTP_OK "    passphrase_env: X\n    passphrase_file: /f\n", "not both");
    refused("transport:\n  sftp:\n    host: h\n    user: u\n    private_key_file: /k\n    known_hosts: /kh\n"
            "    upload_dir: relative/in\n", "absolute remote path");
    refused("transport:\n  sftp:\n    user: u\n    private_key_file: /k\n    known_hosts: /kh\n    upload_dir: /in\n",
            "host, user and private_key_file are required");
    refused("transport:\n  file_name: fixed.x12\n  dir:\n    upload_dir: /a\n", "must contain {batch}");
    refused("transport:\n  after_collect: archive\n  dir:\n    response_dir: /a\n", "needs archive_dir");
    refused("transport:\n  after_collect: shred\n  dir:\n    response_dir: /a\n", "keep, remove or archive");
    refused("transport:\n  temp_prefix: ''\n  temp_suffix: ''\n  dir:\n    upload_dir: /a\n", "cannot both be empty");
    refused("transport:\n  https:\n    upload_url: https://h/up/\n    ca_file: /ca\n    client_cert: /c\n",
            "go together");
    refused("transport:\n  https:\n    list_url: https://h/list\n    ca_file: /ca\n", "set fetch_url");
    refused("transport:\n  https:\n    upload_url: https://h/up/\n    ca_file: /ca\n    method: PATCH\n",
            "PUT or POST");
    refused("transport:\n  dir:\n    upload_dir: [a, b]\n", "single value");
    refused("transport:\n  sftp: [1]\n", "mapping of settings");
    refused("other: 1\n", "no transport: section");
}

Test(config, refusal_messages_never_hold_the_secret_value)
{
    transport_config c;
    ch_error e;
    cr_assert_eq(parse(SFTP_OK "    passphrase: 'correct horse battery'\n", &c, &e), CH_ERR_CONFIG);
    cr_assert(!strstr(e.msg, "horse"), "%s", e.msg);
    cr_assert(strstr(e.msg, "line 9"), "%s", e.msg);
}

Test(config, syntax_error_is_reported_with_line)
{
    transport_config c;
    ch_error e;
    cr_assert_eq(parse("transport:\n  dir:\n    upload_dir: [unclosed\n", &c, &e), CH_ERR_SYNTAX);
    cr_assert(strstr(e.msg, "line"), "%s", e.msg);
}

Test(config, names)
{
    cr_assert(transport_name_ok("B000123.x12"));
    cr_assert(transport_name_ok("with space.835"));
    cr_assert(!transport_name_ok(""));
    cr_assert(!transport_name_ok(".hidden"));
    cr_assert(!transport_name_ok(".."));
    cr_assert(!transport_name_ok("a/b"));
    cr_assert(!transport_name_ok("a\"b"));
    cr_assert(!transport_name_ok("a\\b"));
    cr_assert(!transport_name_ok("a\nb"));
    char longname[300];
    memset(longname, 'a', 299);
    longname[299] = '\0';
    cr_assert(!transport_name_ok(longname));
}

/* Every ```yaml block in docs/transport.md is a valid profile. */
Test(config, every_example_in_the_docs_parses)
{
    const char *path = tf_fmt("%s/docs/transport.md", tf_src_root());
    size_t len = 0;
    char *md = tf_read(path, &len);
    cr_assert_not_null(md, "cannot read %s", path);
    int blocks = 0, kinds[4] = {0};
    const char *p = md;
    while ((p = strstr(p, "```yaml\n"))) {
        p += 8;
        const char *end = strstr(p, "```");
        cr_assert_not_null(end);
        transport_config c;
        ch_error e = {0};
        ch_code rc = transport_config_parse_text(p, (size_t)(end - p), "docs", &c, &e);
        cr_assert_eq(rc, CH_OK, "docs/transport.md block %d does not parse: %s\n%.*s", blocks + 1, e.msg,
                     (int)(end - p), p);
        kinds[c.kind]++;
        blocks++;
        p = end + 3;
    }
    free(md);
    cr_assert_geq(blocks, 3);
    cr_assert(kinds[TRANSPORT_SFTP] && kinds[TRANSPORT_HTTPS] && kinds[TRANSPORT_DIR],
              "the docs need an example of each kind");
}

/* ---------------------------------------------------------------- listings */

Test(listing, nginx_autoindex_json_and_lines)
{
    const char *json = "[\n{ \"name\":\"a b.835\", \"type\":\"file\", \"mtime\":\"Sat, 23 Nov 2024 12:00:00 GMT\", "
                       "\"size\":123 },\n{ \"name\":\"sub\", \"type\":\"directory\", \"mtime\":\"x\" },\n"
                       "{ \"name\":\"caf\\u00e9.999\", \"type\":\"file\", \"size\":1 }\n]\n";
    char **names;
    size_t n;
    ch_error e;
    cr_assert_eq(tlist_parse_body(json, strlen(json), &names, &n, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(names[0], "a b.835");
    cr_assert_str_eq(names[1], "caf\xc3\xa9.999");
    transport_names_free(names, n);

    const char *arr = "[\"x.835\", \"y.835\"]";
    cr_assert_eq(tlist_parse_body(arr, strlen(arr), &names, &n, &e), CH_OK);
    cr_assert_eq(n, 2);
    transport_names_free(names, n);

    const char *lines = "one.835\r\ntwo.835\n\n three \n";
    cr_assert_eq(tlist_parse_body(lines, strlen(lines), &names, &n, &e), CH_OK);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(names[1], "two.835");
    cr_assert_str_eq(names[2], " three");
    transport_names_free(names, n);

    cr_assert_eq(tlist_parse_body("[{", 2, &names, &n, &e), CH_ERR_SYNTAX);
    cr_assert_eq(tlist_parse_body("", 0, &names, &n, &e), CH_OK);
    cr_assert_eq(n, 0);
}

Test(listing, sftp_long_listing)
{
    const char *ls = "-rw-r--r--    1 root     root            2 Nov 23 12:12 a b.txt\n"
                     "drwx------    3 root     root         4096 Nov 23 12:12 .\n"
                     "drwxr-xr-x    2 root     root         4096 Nov 23 12:12 sub\n"
                     "lrwxrwxrwx    1 root     root            4 Nov 23 12:12 ln -> a\n"
                     "-rw-------    1 u        g       123456789 Jan  1  2024 big.835\n";
    char **names;
    uint64_t *sizes;
    size_t n;
    ch_error e;
    cr_assert_eq(tlist_parse_long(ls, strlen(ls), &names, &sizes, &n, &e), CH_OK);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(names[0], "a b.txt");
    cr_assert_eq(sizes[0], 2);
    cr_assert_str_eq(names[1], "big.835");
    cr_assert_eq(sizes[1], 123456789);
    transport_names_free(names, n);
    free(sizes);
}

Test(listing, excerpt_is_short_clean_and_hides_the_token)
{
    transport t;
    memset(&t, 0, sizeof t);
    char tok[] = "s3cr3t-t0ken-value";
    t.token = tok;
    const char *body = "<html><head><title>400 Bad Request</title></head>\r\n<body>\n<center>"
                       "No required SSL certificate was sent</center> echo: Bearer s3cr3t-t0ken-value</body></html>";
    char ex[128];
    texcerpt(&t, body, strlen(body), ex, sizeof ex);
    cr_assert(strstr(ex, "400 Bad Request"), "%s", ex);
    cr_assert(strstr(ex, "No required SSL certificate was sent"), "%s", ex);
    cr_assert(!strstr(ex, "<"), "%s", ex);
    cr_assert(!strstr(ex, "s3cr3t"), "%s", ex);
    cr_assert_leq(strlen(ex), 100);
}

/* ------------------------------------------------------------------ backoff */

Test(retry, exponential_backoff_with_full_jitter)
{
    /* The delay is rand mod (cap + 1), cap = min(max, base * 2^(attempt-1)). */
    cr_assert_eq(transport_retry_delay(1, 100, 10000, UINT64_MAX), (long)(UINT64_MAX % 101));
    cr_assert_eq(transport_retry_delay(1, 100, 10000, 100), 100);
    cr_assert_eq(transport_retry_delay(1, 100, 10000, 101), 0);
    cr_assert_eq(transport_retry_delay(3, 100, 10000, 400), 400);
    cr_assert_eq(transport_retry_delay(3, 100, 10000, 401), 0);
    cr_assert_eq(transport_retry_delay(50, 100, 10000, 10000), 10000);
    cr_assert_eq(transport_retry_delay(1000, 100, 10000, 10001), 0);
    cr_assert_eq(transport_retry_delay(0, 100, 10000, 5), 5);
    cr_assert_eq(transport_retry_delay(2, 0, 10000, 5), 0);
    /* the cap never overflows, whatever the attempt */
    for (unsigned a = 1; a < 200; a++)
        cr_assert_leq(transport_retry_delay(a, 3000, 86400000, UINT64_MAX - a), 86400000);
    /* spread: over many random draws the delays fill [0, cap] */
    long lo = 1 << 30, hi = -1;
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 10000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        long d = transport_retry_delay(4, 100, 10000, x);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    cr_assert_lt(lo, 20);
    cr_assert_gt(hi, 780);
    cr_assert_leq(hi, 800);
}

/* ------------------------------------------------------------- dir transport */

typedef struct dirfix {
    char root[256];
    char up[300], resp[300], arch[300], inbox[300], src[300];
} dirfix;

static void dir_setup(dirfix *f, transport_config *c, const char *extra)
{
    snprintf(f->root, sizeof f->root, "%s", tmpdir());
    snprintf(f->up, sizeof f->up, "%s/up", f->root);
    snprintf(f->resp, sizeof f->resp, "%s/resp", f->root);
    snprintf(f->arch, sizeof f->arch, "%s/arch", f->root);
    snprintf(f->inbox, sizeof f->inbox, "%s/inbox", f->root);
    snprintf(f->src, sizeof f->src, "%s/src", f->root);
    tf_mkdirs(f->up), tf_mkdirs(f->resp), tf_mkdirs(f->arch), tf_mkdirs(f->inbox), tf_mkdirs(f->src);
    char y[2048];
    snprintf(y, sizeof y,
             "transport:\n%s  dir:\n    upload_dir: %s\n    response_dir: %s\n    archive_dir: %s\n",
             extra ? extra : "", f->up, f->resp, f->arch);
    ch_error e;
    cr_assert_eq(parse(y, c, &e), CH_OK, "%s", e.msg);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    if (d)
        closedir(d);
    return n;
}

Test(dir, put_exists_list_get_remove_archive)
{
    dirfix f;
    transport_config c;
    dir_setup(&f, &c, "  after_collect: archive\n  response_pattern: '*.835'\n");
    transport *t;
    ch_error e = {0};
    cr_assert_eq(transport_open(&c, &t, &e), CH_OK, "%s", e.msg);

    const char *batch = tf_fmt("%s/B1.x12", f.src);
    cr_assert_eq(tf_write(batch, NULL, 70000), 0);
    cr_assert_eq(transport_put(t, batch, "B1.x12", &e), CH_OK, "%s", e.msg);
    cr_assert(tf_same(batch, tf_fmt("%s/B1.x12", f.up)), "the payer sees exactly the bytes");
    cr_assert_eq(count_entries(f.up), 1, "no temporary file left behind");
    struct stat st;
    cr_assert_eq(stat(tf_fmt("%s/B1.x12", f.up), &st), 0);

    /* never overwrites a delivered file */
    cr_assert_eq(transport_put(t, batch, "B1.x12", &e), CH_ERR_EXISTS);
    cr_assert(strstr(e.msg, "payer acme: dir put B1.x12"), "%s", e.msg);
    cr_assert(strstr(e.msg, "not overwritten"), "%s", e.msg);
    cr_assert_eq(count_entries(f.up), 1);

    int ex = 0;
    uint64_t sz = 0;
    cr_assert_eq(transport_exists(t, "B1.x12", &ex, &sz, &e), CH_OK);
    cr_assert_eq(ex, 1);
    cr_assert_eq(sz, 70000);
    cr_assert_eq(transport_exists(t, "B2.x12", &ex, &sz, &e), CH_OK);
    cr_assert_eq(ex, 0);

    /* responses: a matching file, a non-matching one, a dot file, a directory */
    cr_assert_eq(tf_write(tf_fmt("%s/r1.835", f.resp), "ISA*00~", 7), 0);
    cr_assert_eq(tf_write(tf_fmt("%s/r0.835", f.resp), NULL, 5000), 0);
    cr_assert_eq(tf_write(tf_fmt("%s/note.txt", f.resp), "x", 1), 0);
    cr_assert_eq(tf_write(tf_fmt("%s/.r9.835.part", f.resp), "x", 1), 0);
    tf_mkdirs(tf_fmt("%s/dir.835", f.resp));
    char **names;
    size_t n;
    cr_assert_eq(transport_list(t, &names, &n, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(names[0], "r0.835");
    cr_assert_str_eq(names[1], "r1.835");

    char hex[SHA256_HEX], want[SHA256_HEX];
    uint64_t size = 0;
    cr_assert_eq(transport_get(t, "r1.835", f.inbox, "r1.835", hex, &size, &e), CH_OK, "%s", e.msg);
    sha256_hex_of("ISA*00~", 7, want);
    cr_assert_str_eq(hex, want);
    cr_assert_eq(size, 7);
    cr_assert_eq(stat(tf_fmt("%s/r1.835", f.inbox), &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(count_entries(f.inbox), 1, "no temporary file left in the inbox");

    /* the same file again: kept once, CH_OK, same digest */
    char hex2[SHA256_HEX];
    cr_assert_eq(transport_get(t, "r1.835", f.inbox, "r1.835", hex2, &size, &e), CH_OK, "%s", e.msg);
    cr_assert_str_eq(hex2, want);
    cr_assert_eq(count_entries(f.inbox), 1);
    /* other content under a name already in the inbox: refused, nothing changes */
    cr_assert_eq(transport_get(t, "r0.835", f.inbox, "r1.835", hex2, &size, &e), CH_ERR_EXISTS);
    cr_assert(strstr(e.msg, "other content"), "%s", e.msg);
    cr_assert_eq(count_entries(f.inbox), 1);
    char *kept = tf_read(tf_fmt("%s/r1.835", f.inbox), NULL);
    cr_assert_str_eq(kept, "ISA*00~");
    free(kept);

    /* archive (name taken in the archive: stamped), remove, missing */
    cr_assert_eq(transport_after_collect(t, "r1.835", &e), CH_OK, "%s", e.msg);
    cr_assert_eq(stat(tf_fmt("%s/r1.835", f.arch), &st), 0);
    cr_assert_eq(tf_write(tf_fmt("%s/r1.835", f.resp), "again", 5), 0);
    cr_assert_eq(transport_archive(t, "r1.835", &e), CH_OK, "%s", e.msg);
    cr_assert_eq(count_entries(f.arch), 2);
    cr_assert_eq(transport_remove(t, "r0.835", &e), CH_OK);
    cr_assert_eq(transport_remove(t, "r0.835", &e), CH_ERR_NOTFOUND);
    cr_assert_eq(transport_get(t, "r0.835", f.inbox, "r0.835", hex, &size, &e), CH_ERR_NOTFOUND);
    cr_assert_eq(count_entries(f.inbox), 1, "a failed get leaves nothing behind");
    transport_names_free(names, n);

    /* unusable names are refused before anything happens */
    cr_assert_eq(transport_put(t, batch, "../escape", &e), CH_ERR_USAGE);
    cr_assert_eq(transport_get(t, "r1.835", f.inbox, "../x", hex, &size, &e), CH_ERR_USAGE);
    cr_assert_eq(transport_connections(t), 0);
    transport_close(t);
    rmrf(f.root);
}

Test(dir, gzip_round_trip)
{
    dirfix f;
    transport_config c;
    dir_setup(&f, &c, "  gzip: true\n");
    transport *t;
    ch_error e = {0};
    cr_assert_eq(transport_open(&c, &t, &e), CH_OK, "%s", e.msg);
    const char *batch = tf_fmt("%s/B2.x12", f.src);
    char text[20000];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = "ISA*00*~GS*HC~CLM*1*2~\n"[i % 23];
    cr_assert_eq(tf_write(batch, text, sizeof text), 0);
    cr_assert_eq(transport_put(t, batch, "B2.x12.gz", &e), CH_OK, "%s", e.msg);
    const char *sent = tf_fmt("%s/B2.x12.gz", f.up);
    cr_assert_eq(system(tf_fmt("gzip -dc '%s' | cmp -s - '%s'", sent, batch)), 0, "the payer can gunzip it");
    uint64_t want = 0, have = 0;
    int ex = 0;
    cr_assert_eq(transport_sent_size(&c, batch, &want, &e), CH_OK);
    cr_assert_eq(transport_exists(t, "B2.x12.gz", &ex, &have, &e), CH_OK);
    cr_assert_eq(want, have);
    cr_assert_lt(have, sizeof text / 4, "it is compressed");

    /* a gzip'ed response is stored inflated; a plain one as it is */
    cr_assert_eq(system(tf_fmt("cp '%s' '%s/r.835.gz' && printf 'plain' > '%s/p.835'", sent, f.resp, f.resp)), 0);
    char hex[SHA256_HEX], wanthex[SHA256_HEX];
    uint64_t size;
    cr_assert_eq(transport_get(t, "r.835.gz", f.inbox, "r.835", hex, &size, &e), CH_OK, "%s", e.msg);
    cr_assert(tf_same(tf_fmt("%s/r.835", f.inbox), batch));
    sha256_hex_of(text, sizeof text, wanthex);
    cr_assert_str_eq(hex, wanthex);
    cr_assert_eq(size, sizeof text);
    cr_assert_eq(transport_get(t, "p.835", f.inbox, "p.835", hex, &size, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(size, 5);
    /* a one-byte response is not mistaken for gzip */
    cr_assert_eq(tf_write(tf_fmt("%s/one.835", f.resp), "\x1f", 1), 0);
    cr_assert_eq(transport_get(t, "one.835", f.inbox, "one.835", hex, &size, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(size, 1);
    /* corrupt gzip is refused and leaves nothing */
    cr_assert_eq(system(tf_fmt("head -c 100 '%s' > '%s/bad.835'", sent, f.resp)), 0);
    cr_assert_eq(transport_get(t, "bad.835", f.inbox, "bad.835", hex, &size, &e), CH_ERR_INVALID);
    cr_assert(strstr(e.msg, "payer acme: dir get bad.835"), "%s", e.msg);
    cr_assert_eq(count_entries(f.inbox), 3);
    transport_close(t);
    rmrf(f.root);
}

Test(dir, crash_check_before_resend)
{
    dirfix f;
    transport_config c;
    dir_setup(&f, &c, NULL);
    transport *t;
    ch_error e = {0};
    cr_assert_eq(transport_open(&c, &t, &e), CH_OK, "%s", e.msg);
    const char *batch = tf_fmt("%s/B3.x12", f.src);
    cr_assert_eq(tf_write(batch, NULL, 4096), 0);
    transport_delivery d;

    /* crashed before the upload began: nothing there */
    cr_assert_eq(transport_check_delivered(t, batch, "B3.x12", &d, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(d, TRANSPORT_NOT_DELIVERED);

    /* crashed mid-upload: a temporary file; not delivered, and it is cleared */
    cr_assert_eq(tf_write(tf_fmt("%s/.B3.x12.part", f.up), "half", 4), 0);
    cr_assert_eq(transport_check_delivered(t, batch, "B3.x12", &d, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(d, TRANSPORT_NOT_DELIVERED);
    cr_assert_eq(count_entries(f.up), 0);

    /* crashed after the rename: delivered, do not send again */
    cr_assert_eq(transport_put(t, batch, "B3.x12", &e), CH_OK, "%s", e.msg);
    cr_assert_eq(transport_check_delivered(t, batch, "B3.x12", &d, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(d, TRANSPORT_DELIVERED);

    /* something else under that name: an operator must look */
    cr_assert_eq(tf_write(tf_fmt("%s/B4.x12", f.up), "other", 5), 0);
    cr_assert_eq(transport_check_delivered(t, batch, "B4.x12", &d, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(d, TRANSPORT_DELIVERY_UNKNOWN);
    cr_assert(strstr(e.msg, "operator"), "%s", e.msg);

    /* put_retry on a delivered batch stops at once on EXISTS (not retryable) */
    cr_assert_eq(transport_put_retry(t, batch, "B3.x12", 3, 1, &e), CH_ERR_EXISTS);
    transport_close(t);
    rmrf(f.root);
}

Test(dir, missing_directories_and_files_are_clear_errors)
{
    transport_config c;
    ch_error e;
    cr_assert_eq(parse("transport:\n  dir:\n    upload_dir: /nonexistent/ch-up\n    response_dir: /nonexistent/r\n",
                       &c, &e), CH_OK, "%s", e.msg);
    transport *t;
    cr_assert_eq(transport_open(&c, &t, &e), CH_OK);
    cr_assert_eq(transport_put(t, "/etc/hostname", "B.x12", &e), CH_ERR_NOTFOUND);
    cr_assert(strstr(e.msg, "/nonexistent/ch-up"), "%s", e.msg);
    cr_assert_eq(transport_put(t, "/nonexistent/batch", "B.x12", &e), CH_ERR_IO);
    cr_assert(strstr(e.msg, "payer acme: dir put B.x12: /nonexistent/batch"), "%s", e.msg);
    char **names;
    size_t n;
    cr_assert_eq(transport_list(t, &names, &n, &e), CH_ERR_NOTFOUND);
    char hex[SHA256_HEX];
    uint64_t size;
    cr_assert_eq(transport_get(t, "x.835", "/nonexistent/inbox", "x.835", hex, &size, &e), CH_ERR_IO);
    cr_assert_eq(transport_archive(t, "x.835", &e), CH_ERR_CONFIG);
    cr_assert(strstr(e.msg, "no archive_dir"), "%s", e.msg);
    transport_close(t);
}

/* ------------------------------------------------------------- collect pass */

typedef struct rec {
    const char *resp;      /* the payer's response dir: files must still be there */
    int calls, dupes;
    char seen[8][SHA256_HEX];
    int nseen;
    int fail_on;           /* refuse to record the call with this number (1-based) */
} rec;

static ch_code record_cb(void *ud, const char *remote, const char *local, uint64_t size,
                         const char hex[SHA256_HEX], ch_error *err)
{
    rec *r = ud;
    r->calls++;
    /* recorded before anything happens remotely */
    cr_assert_eq(access(tf_fmt("%s/%s", r->resp, remote), F_OK), 0, "%s gone before it was recorded", remote);
    struct stat st;
    cr_assert_eq(stat(local, &st), 0);
    cr_assert_eq((uint64_t)st.st_size, size);
    char want[SHA256_HEX];
    uint64_t sz;
    cr_assert_eq(sha256_file(local, want, &sz, err), CH_OK);
    cr_assert_str_eq(hex, want);
    if (r->calls == r->fail_on)
        return ch_error_set(err, CH_ERR_DB, "ledger is locked");
    for (int i = 0; i < r->nseen; i++)
        if (!strcmp(r->seen[i], hex)) {
            r->dupes++;
            return CH_ERR_EXISTS;
        }
    snprintf(r->seen[r->nseen++], SHA256_HEX, "%s", hex);
    return CH_OK;
}

Test(dir, collect_records_before_archiving_and_keeps_duplicates_once)
{
    dirfix f;
    transport_config c;
    dir_setup(&f, &c, "  after_collect: archive\n");
    transport *t;
    ch_error e = {0};
    cr_assert_eq(transport_open(&c, &t, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(tf_write(tf_fmt("%s/a.999", f.resp), "AAA", 3), 0);
    cr_assert_eq(tf_write(tf_fmt("%s/b.999", f.resp), "AAA", 3), 0); /* same content, other name */
    cr_assert_eq(tf_write(tf_fmt("%s/c.835", f.resp), "CCC", 3), 0);
    cr_assert_eq(tf_write(tf_fmt("%s/d.277", f.resp), "DDD", 3), 0);
    rec r = {f.resp, 0, 0, {{0}}, 0, 4};
    size_t got = 0;
    cr_assert_eq(transport_collect(t, f.inbox, record_cb, &r, &got, &e), CH_ERR_DB);
    cr_assert(strstr(e.msg, "payer acme: collect d.277: recording: ledger is locked"), "%s", e.msg);
    cr_assert_eq(r.calls, 4);
    cr_assert_eq(r.dupes, 1);
    cr_assert_eq(got, 3);
    /* a, b, c archived; d (not recorded) stays for the next pass */
    cr_assert_eq(count_entries(f.arch), 3);
    cr_assert_eq(count_entries(f.resp), 1);
    cr_assert_eq(access(tf_fmt("%s/d.277", f.resp), F_OK), 0);
    /* the duplicate was kept once in the inbox */
    cr_assert_eq(access(tf_fmt("%s/a.999", f.inbox), F_OK), 0);
    cr_assert_eq(access(tf_fmt("%s/b.999", f.inbox), F_OK), -1);
    /* next pass: d is collected; a new "c.835" with other content gets a stamped local name */
    cr_assert_eq(tf_write(tf_fmt("%s/c.835", f.resp), "C2", 2), 0);
    r.fail_on = 0;
    cr_assert_eq(transport_collect(t, f.inbox, record_cb, &r, &got, &e), CH_OK, "%s", e.msg);
    cr_assert_eq(got, 2);
    cr_assert_eq(count_entries(f.resp), 0);
    cr_assert_eq(count_entries(f.inbox), 4); /* a.999 c.835 c.835.<stamp> d.277 */
    transport_close(t);
    rmrf(f.root);
}
