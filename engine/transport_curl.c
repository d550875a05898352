/*
 * transport_curl.c - what the curl-based kinds share: failure messages (with
 * a retryable verdict and no secrets), common curl options, the stall watch
 * and URL path encoding.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "transport_impl.h"

/* ================================================================ messages */

ch_code tfail(transport *t, ch_error *err, ch_code code, int retryable, const char *step,
              const char *name, const char *fmt, ...)
{
    char detail[CH_ERROR_MSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    t->retryable = retryable;
    if (name)
        return ch_error_set(err, code, "payer %s: %s %s %s: %s", t->cfg.payer,
                            transport_kind_name(t->cfg.kind), step, name, detail);
    return ch_error_set(err, code, "payer %s: %s %s: %s", t->cfg.payer,
                        transport_kind_name(t->cfg.kind), step, detail);
}

ch_code tcurl_fail(transport *t, ch_error *err, CURLcode rc, const char *step, const char *name,
                   const char *detail)
{
    char curl_words[CURL_ERROR_SIZE + 64];
    const char *text = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
    size_t tl = strlen(text);
    while (tl && (text[tl - 1] == '\n' || text[tl - 1] == '\r'))
        tl--;
    snprintf(curl_words, sizeof curl_words, "curl %d: %.*s", (int)rc, (int)tl, text);

    const transport_config *c = &t->cfg;
    char host[300];
    if (c->kind == TRANSPORT_SFTP)
        snprintf(host, sizeof host, "%s:%d", c->sftp.host, c->sftp.port);
    else
        snprintf(host, sizeof host, "the server");
    const char *pre = detail ? detail : "";
    const char *sep = detail ? ": " : "";
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
        return tfail(t, err, CH_ERR_TRANSPORT, 1, step, name, "%s%scannot connect to %s (%s)", pre, sep,
                     host, curl_words);
    case CURLE_ABORTED_BY_CALLBACK:
        if (t->stalled)
            return tfail(t, err, CH_ERR_TIMEOUT, 1, step, name,
                         "%s%stimed out: stalled, no data moved for %lds (stall_timeout)", pre, sep,
                         c->stall_timeout_s);
        return tfail(t, err, CH_ERR_TRANSPORT, 0, step, name, "%s%s%s", pre, sep, curl_words);
    case CURLE_OPERATION_TIMEDOUT:
        return tfail(t, err, CH_ERR_TIMEOUT, 1, step, name,
                     "%s%stimed out (connect_timeout %lds, stall_timeout %lds below %ld bytes/s%s) (%s)",
                     pre, sep, c->connect_timeout_s, c->stall_timeout_s, c->stall_bytes_per_s,
                     c->timeout_s ? ", timeout set" : "", curl_words);
    case CURLE_PEER_FAILED_VERIFICATION:
        if (c->kind == TRANSPORT_SFTP) {
            if (t->kh_match == CURLKHMATCH_MISMATCH)
                return tfail(t, err, CH_ERR_DENIED, 0, step, name,
                             "%s%shost key mismatch: %s presented a host key that differs from the one in "
                             "known_hosts %s; refusing to connect (%s)",
                             pre, sep, host, c->sftp.known_hosts, curl_words);
            if (t->kh_match == CURLKHMATCH_MISSING)
                return tfail(t, err, CH_ERR_DENIED, 0, step, name,
                             "%s%shost key not verified: known_hosts %s has no %s key for %s; "
                             "refusing to connect (%s)",
                             pre, sep, c->sftp.known_hosts, "matching", host, curl_words);
            return tfail(t, err, CH_ERR_DENIED, 0, step, name,
                         "%s%shost key mismatch: %s presented a host key whose SHA256 fingerprint is not "
                         "the pinned host_key_sha256; refusing to connect (%s)",
                         pre, sep, host, curl_words);
        }
        return tfail(t, err, CH_ERR_DENIED, 0, step, name,
                     "%s%sserver certificate not trusted (ca_file %s) (%s)", pre, sep,
                     c->https.ca_file[0] ? c->https.ca_file : "system store", curl_words);
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return tfail(t, err, CH_ERR_DENIED, 0, step, name,
                     "%s%sthe server's public key does not match pinned_public_key; refusing (%s)", pre,
                     sep, curl_words);
    case CURLE_LOGIN_DENIED:
        return tfail(t, err, CH_ERR_DENIED, 0, step, name,
                     "%s%slogin refused for user %s with key %s (key not authorized, or wrong "
                     "passphrase) (%s)",
                     pre, sep, c->sftp.user, c->sftp.private_key_file, curl_words);
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
        return tfail(t, err, CH_ERR_CONFIG, 0, step, name, "%s%slocal certificate or key problem (%s)",
                     pre, sep, curl_words);
    case CURLE_REMOTE_FILE_NOT_FOUND:
        return tfail(t, err, CH_ERR_NOTFOUND, 0, step, name, "%s%snot found on the server (%s)", pre, sep,
                     curl_words);
    case CURLE_REMOTE_ACCESS_DENIED:
        return tfail(t, err, CH_ERR_DENIED, 0, step, name, "%s%spermission denied on the server (%s)", pre,
                     sep, curl_words);
    case CURLE_REMOTE_DISK_FULL:
        return tfail(t, err, CH_ERR_TRANSPORT, 1, step, name, "%s%sserver disk full (%s)", pre, sep,
                     curl_words);
    case CURLE_QUOTE_ERROR:
        return tfail(t, err, CH_ERR_TRANSPORT, 0, step, name, "%s%sthe server refused the command (%s)",
                     pre, sep, curl_words);
    case CURLE_OUT_OF_MEMORY:
        return tfail(t, err, CH_ERR_NOMEM, 0, step, name, "%s%s%s", pre, sep, curl_words);
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSH:
    case CURLE_UPLOAD_FAILED:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return tfail(t, err, CH_ERR_TRANSPORT, 1, step, name, "%s%sexchange failed (%s)", pre, sep,
                     curl_words);
    default:
        return tfail(t, err, CH_ERR_TRANSPORT, 0, step, name, "%s%s%s", pre, sep, curl_words);
    }
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Stall watch.  curl's own LOW_SPEED check averages over a window of about
 * five seconds, so a stall after a burst is noticed seconds late.  This
 * callback (called at least once a second, also while idle) abandons an
 * exchange when no byte has moved either way for stall_timeout seconds once
 * connected: waiting for a reply counts as stalled too.
 */
static int xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)ultotal;
    transport *t = ud;
    double now = mono_now();
    if (!t->connected) {
        /* Connecting (TCP, TLS, SSH login) is connect_timeout's business:
         * the stall clock starts once the exchange itself begins. */
        curl_off_t pre = 0;
        if (curl_easy_getinfo(t->curl, CURLINFO_PRETRANSFER_TIME_T, &pre) != CURLE_OK || pre <= 0)
            return 0;
        t->connected = 1;
        t->moved_at = now;
    }
    if (dlnow != t->moved_dl || ulnow != t->moved_ul) {
        t->moved_dl = dlnow;
        t->moved_ul = ulnow;
        t->moved_at = now;
        return 0;
    }
    if (now - t->moved_at >= (double)t->cfg.stall_timeout_s) {
        t->stalled = 1;
        return 1;
    }
    return 0;
}

void tcurl_common(transport *t, const char *proto)
{
    CURL *c = t->curl;
    t->errbuf[0] = '\0';
    t->kh_match = -1;
    t->stalled = 0;
    t->connected = 0;
    t->moved_at = mono_now();
    t->moved_ul = t->moved_dl = 0;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, proto);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, proto);
#else
    long p = !strcmp(proto, "sftp") ? CURLPROTO_SFTP : CURLPROTO_HTTPS;
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, p);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, p);
#endif
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, t->cfg.connect_timeout_s);
    if (t->cfg.stall_bytes_per_s > 1) {
        /* a throughput floor on top of the stall watch */
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, t->cfg.stall_bytes_per_s);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, t->cfg.stall_timeout_s);
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT, t->cfg.timeout_s);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xferinfo);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
}

void tcurl_count(transport *t)
{
    long n = 0;
    if (curl_easy_getinfo(t->curl, CURLINFO_NUM_CONNECTS, &n) == CURLE_OK)
        t->connects += n;
}

int turl_append_path(char *out, size_t outsz, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = strlen(out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = isalnum(*p) || strchr("/-._~", *p);
        if (o + (plain ? 1 : 3) >= outsz)
            return -1;
        if (plain)
            out[o++] = (char)*p;
        else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return 0;
}

