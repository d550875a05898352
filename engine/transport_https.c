/*
 * transport_https.c - the `https` transport, through libcurl.
 *
 * One easy handle per session, so HTTP keep-alive reuses the TLS connection.
 * The server is always verified: a CA bundle (ca_file), the system store
 * (ca_system) and/or a pinned public key; with only a pin, the pin is the
 * verification (CURLOPT_PINNEDPUBLICKEY is checked before any data moves).
 *
 * Every exchange is checked for a 2xx status before anything is believed:
 * nginx answers a missing or refused client certificate with HTTP 400 while
 * curl reports success.  Error replies are kept in a small buffer and quoted
 * (cleaned, cut short, token blanked) in the message; download bodies only
 * reach the sink when the status is 2xx.
 *
 *   put      PUT (or POST) the file to upload_url; one request is atomic for
 *            the payer, so there is no temporary name.  PUT carries
 *            If-None-Match: * (412 = the name is taken: CH_ERR_EXISTS)
 *   exists   HEAD exists_url (default: the PUT upload URL); 404 = absent
 *   list     GET list_url: a JSON array (nginx autoindex_format json) or lines
 *   get      GET fetch_url (default list_url + name)
 *   remove   DELETE delete_url (default fetch_url)
 *   archive  WebDAV MOVE to archive_url (Overwrite: F)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "transport_impl.h"

static ch_code readable(transport *t, const char *path, const char *what, ch_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tfail(t, err, CH_ERR_CONFIG, 0, "open", NULL, "%s %s: %s", what, path, strerror(errno));
    close(fd);
    return CH_OK;
}

static ch_code https_open(transport *t, ch_error *err)
{
    transport_https_config *h = &t->cfg.https;
    ch_code rc = CH_OK;
    if (h->ca_file[0] && (rc = readable(t, h->ca_file, "ca_file", err)))
        return rc;
    if (h->client_cert[0] && ((rc = readable(t, h->client_cert, "client_cert", err)) ||
                              (rc = readable(t, h->client_key, "client_key", err))))
        return rc;
    if ((rc = tsecret_read(t, &h->client_key_passphrase, "client key passphrase", &t->passphrase, err)))
        return rc;
    if ((rc = tsecret_read(t, &h->token, "token", &t->token, err)))
        return rc;
    if (t->token) {
        for (const char *p = t->token; *p; p++)
            if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
                return tfail(t, err, CH_ERR_CONFIG, 0, "open", NULL,
                             "token from %s %s holds characters not allowed in an HTTP header",
                             h->token.env[0] ? "environment variable" : "file",
                             h->token.env[0] ? h->token.env : h->token.file);
        size_t n = strlen(t->token) + 32;
        char *line = malloc(n);
        if (!line)
            return tfail(t, err, CH_ERR_NOMEM, 0, "open", NULL, "out of memory");
        snprintf(line, n, "Authorization: Bearer %s", t->token);
        t->headers = curl_slist_append(t->headers, line);
        explicit_bzero(line, n);
        free(line);
        if (!t->headers)
            return tfail(t, err, CH_ERR_NOMEM, 0, "open", NULL, "out of memory");
    }
    /* No "Expect: 100-continue" round trip before bodies. */
    struct curl_slist *nh = curl_slist_append(t->headers, "Expect:");
    if (!nh)
        return tfail(t, err, CH_ERR_NOMEM, 0, "open", NULL, "out of memory");
    t->headers = nh;
    return CH_OK;
}

/* Request headers: the session's (token, Expect) plus extra ones. */
static struct curl_slist *headers_with(transport *t, const char *a, const char *b)
{
    struct curl_slist *l = NULL, *n;
    for (struct curl_slist *h = t->headers; h; h = h->next) {
        if (!(n = curl_slist_append(l, h->data)))
            goto fail;
        l = n;
    }
    if (a) {
        if (!(n = curl_slist_append(l, a)))
            goto fail;
        l = n;
    }
    if (b) {
        if (!(n = curl_slist_append(l, b)))
            goto fail;
        l = n;
    }
    return l;
fail:
    for (struct curl_slist *h = l; h; h = h->next)
        explicit_bzero(h->data, strlen(h->data));
    curl_slist_free_all(l);
    return NULL;
}

static void headers_free(struct curl_slist *l)
{
    for (struct curl_slist *h = l; h; h = h->next)
        explicit_bzero(h->data, strlen(h->data));
    curl_slist_free_all(l);
}

static void setup(transport *t, struct curl_slist *headers)
{
    CURL *c = t->curl;
    const transport_https_config *h = &t->cfg.https;
    curl_easy_reset(c);
    tcurl_common(t, "https");
    if (h->ca_file[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
    if (h->pinned_public_key[0]) {
        curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, h->pinned_public_key);
        if (!h->ca_file[0] && !h->ca_system) {
            /* Pin only: the pinned key is the trust anchor. */
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        }
    }
    if (h->client_cert[0]) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, h->client_cert);
        curl_easy_setopt(c, CURLOPT_SSLKEY, h->client_key);
        if (t->passphrase)
            curl_easy_setopt(c, CURLOPT_KEYPASSWD, t->passphrase);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "clearinghouse");
}

/* URL template: {name} replaced by the encoded name, else appended after a
 * trailing slash, else the URL as it is. */
static int expand(char *out, size_t outsz, const char *tmpl, const char *name)
{
    const char *slot = strstr(tmpl, "{name}");
    size_t tl = strlen(tmpl);
    if (slot) {
        if ((size_t)(slot - tmpl) >= outsz)
            return -1;
        memcpy(out, tmpl, (size_t)(slot - tmpl));
        out[slot - tmpl] = '\0';
        if (turl_append_path(out, outsz, name) < 0)
            return -1;
        size_t o = strlen(out), rest = strlen(slot + 6);
        if (o + rest >= outsz)
            return -1;
        memcpy(out + o, slot + 6, rest + 1);
        return 0;
    }
    if ((size_t)snprintf(out, outsz, "%s", tmpl) >= outsz)
        return -1;
    if (tl && tmpl[tl - 1] == '/' && name)
        return turl_append_path(out, outsz, name);
    return 0;
}

/* One exchange's reply: the error body, or the sink when 2xx. */
typedef struct hx {
    transport *t;
    tbuf body;
    tsink *sink;
} hx;

static long status_of(transport *t)
{
    long st = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &st);
    return st;
}

static size_t hx_write(char *p, size_t size, size_t nmemb, void *ud)
{
    hx *x = ud;
    long st = status_of(x->t);
    if (x->sink && st >= 200 && st < 300)
        return tsink_curl_write(p, size, nmemb, x->sink);
    return tbuf_curl_write(p, size, nmemb, &x->body);
}

static ch_code http_fail(transport *t, ch_error *err, long st, const char *step, const char *name,
                         const tbuf *body)
{
    char ex[128];
    texcerpt(t, body->p ? body->p : "", body->len, ex, sizeof ex);
    const char *hint = "";
    if (st == 400 && strcasestr(ex, "certificate"))
        hint = t->cfg.https.client_cert[0]
                   ? " (the server refused our client certificate: mutual TLS failed)"
                   : " (the server wants a client certificate: mutual TLS not configured)";
    ch_code code = CH_ERR_TRANSPORT;
    int retry = 0;
    if (st == 401 || st == 403)
        code = CH_ERR_DENIED;
    else if (st == 404 || st == 410)
        code = CH_ERR_NOTFOUND;
    else if (st >= 500 || st == 408 || st == 429)
        retry = 1;
    return tfail(t, err, code, retry, step, name, "HTTP %ld%s%s%s", st, hint, ex[0] ? ": " : "", ex);
}

/* Perform, then check curl's result and the HTTP status (2xx only). */
static ch_code exchange(transport *t, hx *x, const char *step, const char *name, long *status,
                        ch_error *err)
{
    CURLcode rc = curl_easy_perform(t->curl);
    tcurl_count(t);
    long st = status_of(t);
    if (status)
        *status = st;
    if (x->sink && x->sink->failed)
        return tfail(t, err, x->sink->err.code ? x->sink->err.code : CH_ERR_IO, 0, step, name, "%s",
                     x->sink->err.msg);
    if (rc != CURLE_OK)
        return tcurl_fail(t, err, rc, step, name, NULL);
    if (st < 200 || st > 299)
        return http_fail(t, err, st, step, name, &x->body);
    return CH_OK;
}

static ch_code need(transport *t, const char *v, const char *what, const char *step,
                    const char *name, ch_error *err)
{
    if (!v[0])
        return tfail(t, err, CH_ERR_CONFIG, 0, step, name, "the profile has no %s", what);
    return CH_OK;
}

/* ------------------------------------------------- CAQH CORE multipart */

static void iso_now(char *out, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A random (version 4) UUID for PayloadID. */
static void uuid4(char out[37])
{
    unsigned char b[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, b, sizeof b) != (ssize_t)sizeof b) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
        for (int i = 0; i < 16; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            b[i] = (unsigned char)(x >> 56);
        }
    }
    if (fd >= 0)
        close(fd);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int mime_field(curl_mime *m, const char *name, const char *value)
{
    curl_mimepart *p = curl_mime_addpart(m);
    return p && curl_mime_name(p, name) == CURLE_OK && curl_mime_data(p, value, CURL_ZERO_TERMINATED) == CURLE_OK
               ? 0
               : -1;
}

static int seek_src(void *ud, curl_off_t off, int origin)
{
    tsource *s = ud;
    return lseek(s->fd, (off_t)off, origin) < 0 ? CURL_SEEKFUNC_FAIL : CURL_SEEKFUNC_OK;
}

/* The CORE Phase II connectivity envelope (rule 270, version 2.2.0) as
 * multipart/form-data: PayloadType, ProcessingMode, PayloadID, TimeStamp,
 * SenderID, ReceiverID, CORERuleVersion, Checksum (SHA-256 here; payers
 * on 2.2.0 that insist on SHA-1 need a variant) and the Payload file part. */
static curl_mime *core_mime(transport *t, tsource *src, const char *remote_name, const char *sha_hex)
{
    const transport_https_config *h = &t->cfg.https;
    curl_mime *m = curl_mime_init(t->curl);
    if (!m)
        return NULL;
    char ts[32], id[37];
    iso_now(ts, sizeof ts);
    uuid4(id);
    if (mime_field(m, "PayloadType", "X12_837_Request_005010X222A1") || mime_field(m, "ProcessingMode", "Batch") ||
        mime_field(m, "PayloadID", id) || mime_field(m, "TimeStamp", ts) ||
        mime_field(m, "SenderID", h->sender_id) || mime_field(m, "ReceiverID", h->receiver_id) ||
        mime_field(m, "CORERuleVersion", "2.2.0") || mime_field(m, "Checksum", sha_hex))
        goto fail;
    curl_mimepart *p = curl_mime_addpart(m);
    if (!p || curl_mime_name(p, "Payload") != CURLE_OK || curl_mime_filename(p, remote_name) != CURLE_OK ||
        curl_mime_type(p, h->content_type) != CURLE_OK ||
        curl_mime_data_cb(p, (curl_off_t)src->size, tsource_curl_read, seek_src, NULL, src) != CURLE_OK)
        goto fail;
    return m;
fail:
    curl_mime_free(m);
    return NULL;
}

static ch_code sha_of_fd(int fd, char hex[SHA256_HEX])
{
    sha256_ctx c;
    sha256_init(&c);
    unsigned char buf[65536];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return CH_ERR_IO;
        if (r == 0)
            break;
        sha256_update(&c, buf, (size_t)r);
    }
    uint8_t d[SHA256_DIGEST];
    sha256_final(&c, d);
    sha256_hex(d, hex);
    return lseek(fd, 0, SEEK_SET) < 0 ? CH_ERR_IO : CH_OK;
}

/* ------------------------------------------------------------ operations */

static ch_code https_put(transport *t, const char *local_path, const char *remote_name, ch_error *err)
{
    const transport_https_config *h = &t->cfg.https;
    ch_code rc = need(t, h->upload_url, "upload_url", "put", remote_name, err);
    if (rc)
        return rc;
    char url[TRANSPORT_URL_MAX + 800];
    if (expand(url, sizeof url, h->upload_url, remote_name) < 0)
        return tfail(t, err, CH_ERR_LIMIT, 0, "put", remote_name, "URL too long");
    tsource src;
    if ((rc = tsource_open(t, local_path, remote_name, &src, err)))
        return rc;
    char ct[160];
    snprintf(ct, sizeof ct, "Content-Type: %s", h->content_type);
    int multipart = h->upload_format == TRANSPORT_UPLOAD_CORE_MULTIPART;
    /* PUT creates, never replaces, where the server honours If-None-Match. */
    int put = !multipart && strcmp(h->method, "POST") != 0;
    struct curl_slist *hd = headers_with(t, multipart ? NULL : ct, put ? "If-None-Match: *" : NULL);
    curl_mime *mime = NULL;
    if (!hd) {
        tsource_close(&src);
        return tfail(t, err, CH_ERR_NOMEM, 0, "put", remote_name, "out of memory");
    }
    setup(t, hd);
    curl_easy_setopt(t->curl, CURLOPT_URL, url);
    if (multipart) {
        char hex[SHA256_HEX];
        if (sha_of_fd(src.fd, hex) != CH_OK) {
            rc = tfail(t, err, CH_ERR_IO, 0, "put", remote_name, "%s: %s", local_path, strerror(errno));
            goto out;
        }
        if (!(mime = core_mime(t, &src, remote_name, hex))) {
            rc = tfail(t, err, CH_ERR_NOMEM, 0, "put", remote_name, "cannot build the multipart body");
            goto out;
        }
        curl_easy_setopt(t->curl, CURLOPT_MIMEPOST, mime);
    } else if (!strcmp(h->method, "POST")) {
        curl_easy_setopt(t->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)src.size);
        curl_easy_setopt(t->curl, CURLOPT_READFUNCTION, tsource_curl_read);
        curl_easy_setopt(t->curl, CURLOPT_READDATA, &src);
        curl_easy_setopt(t->curl, CURLOPT_SEEKFUNCTION, seek_src);
        curl_easy_setopt(t->curl, CURLOPT_SEEKDATA, &src);
    } else {
        curl_easy_setopt(t->curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(t->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)src.size);
        curl_easy_setopt(t->curl, CURLOPT_READFUNCTION, tsource_curl_read);
        curl_easy_setopt(t->curl, CURLOPT_READDATA, &src);
        curl_easy_setopt(t->curl, CURLOPT_SEEKFUNCTION, seek_src);
        curl_easy_setopt(t->curl, CURLOPT_SEEKDATA, &src);
    }
    hx x = {t, {NULL, 0, 0, 4096, 0}, NULL};
    curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, hx_write);
    curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, &x);
    long st = 0;
    rc = exchange(t, &x, "put", remote_name, &st, err);
    if (rc != CH_OK && st == 412)
        rc = tfail(t, err, CH_ERR_EXISTS, 0, "put", remote_name,
                   "HTTP 412: the server has this name already (delivered before?); not overwritten");
    tbuf_free(&x.body);
out:
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(t->curl, CURLOPT_MIMEPOST, NULL);
    curl_mime_free(mime);
    headers_free(hd);
    tsource_close(&src);
    return rc;
}

static ch_code https_exists(transport *t, const char *remote_name, int *exists, uint64_t *size,
                            ch_error *err)
{
    const transport_https_config *h = &t->cfg.https;
    const char *tmpl = h->exists_url[0] ? h->exists_url
                       : (!strcmp(h->method, "PUT") && h->upload_format == TRANSPORT_UPLOAD_RAW)
                           ? h->upload_url
                           : "";
    if (!tmpl[0] || !(strstr(tmpl, "{name}") || tmpl[strlen(tmpl) - 1] == '/'))
        return tfail(t, err, CH_ERR_USAGE, 0, "exists", remote_name,
                     "this payer's upload cannot be looked at (set exists_url to check delivery)");
    char url[TRANSPORT_URL_MAX + 800];
    if (expand(url, sizeof url, tmpl, remote_name) < 0)
        return tfail(t, err, CH_ERR_LIMIT, 0, "exists", remote_name, "URL too long");
    struct curl_slist *hd = headers_with(t, NULL, NULL);
    if (!hd)
        return tfail(t, err, CH_ERR_NOMEM, 0, "exists", remote_name, "out of memory");
    setup(t, hd);
    curl_easy_setopt(t->curl, CURLOPT_URL, url);
    curl_easy_setopt(t->curl, CURLOPT_NOBODY, 1L);
    hx x = {t, {NULL, 0, 0, 4096, 0}, NULL};
    curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, hx_write);
    curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, &x);
    long st = 0;
    ch_error e;
    ch_code rc = exchange(t, &x, "exists", remote_name, &st, &e);
    if (rc == CH_OK) {
        curl_off_t cl = -1;
        curl_easy_getinfo(t->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        *exists = 1;
        if (size)
            *size = cl > 0 ? (uint64_t)cl : 0;
    } else if (rc == CH_ERR_NOTFOUND) {
        rc = CH_OK;
        t->retryable = 0;
    } else if (err) {
        *err = e;
    }
    tbuf_free(&x.body);
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, NULL);
    headers_free(hd);
    return rc;
}

static ch_code https_list(transport *t, char ***names, size_t *n, ch_error *err)
{
    const transport_https_config *h = &t->cfg.https;
    ch_code rc = need(t, h->list_url, "list_url", "list", NULL, err);
    if (rc)
        return rc;
    struct curl_slist *hd = headers_with(t, "Accept: application/json, text/plain", NULL);
    if (!hd)
        return tfail(t, err, CH_ERR_NOMEM, 0, "list", NULL, "out of memory");
    setup(t, hd);
    curl_easy_setopt(t->curl, CURLOPT_URL, h->list_url);
    hx x = {t, {NULL, 0, 0, 16u << 20, 0}, NULL};
    curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, hx_write);
    curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, &x);
    rc = exchange(t, &x, "list", NULL, NULL, err);
    if (rc == CH_OK && x.body.truncated)
        rc = tfail(t, err, CH_ERR_LIMIT, 0, "list", NULL, "listing larger than 16 MB");
    if (rc == CH_OK) {
        ch_error e;
        ch_code c = tlist_parse_body(x.body.p ? x.body.p : "", x.body.len, names, n, &e);
        if (c)
            rc = tfail(t, err, c, 0, "list", NULL, "%s", e.msg);
    }
    tbuf_free(&x.body);
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, NULL);
    headers_free(hd);
    return rc;
}

static const char *fetch_tmpl(const transport_https_config *h)
{
    return h->fetch_url[0] ? h->fetch_url : h->list_url;
}

static ch_code https_get(transport *t, const char *remote_name, tsink *sink, ch_error *err)
{
    const char *tmpl = fetch_tmpl(&t->cfg.https);
    ch_code rc = need(t, tmpl, "fetch_url or list_url", "get", remote_name, err);
    if (rc)
        return rc;
    char url[TRANSPORT_URL_MAX + 800];
    if (expand(url, sizeof url, tmpl, remote_name) < 0)
        return tfail(t, err, CH_ERR_LIMIT, 0, "get", remote_name, "URL too long");
    struct curl_slist *hd = headers_with(t, NULL, NULL);
    if (!hd)
        return tfail(t, err, CH_ERR_NOMEM, 0, "get", remote_name, "out of memory");
    setup(t, hd);
    curl_easy_setopt(t->curl, CURLOPT_URL, url);
    hx x = {t, {NULL, 0, 0, 4096, 0}, sink};
    curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, hx_write);
    curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, &x);
    rc = exchange(t, &x, "get", remote_name, NULL, err);
    tbuf_free(&x.body);
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, NULL);
    headers_free(hd);
    return rc;
}

/* DELETE or MOVE with no body of ours. */
static ch_code simple(transport *t, const char *method, const char *url, const char *extra,
                      const char *step, const char *name, long *status, ch_error *err)
{
    struct curl_slist *hd = headers_with(t, extra, extra ? "Overwrite: F" : NULL);
    if (!hd)
        return tfail(t, err, CH_ERR_NOMEM, 0, step, name, "out of memory");
    setup(t, hd);
    curl_easy_setopt(t->curl, CURLOPT_URL, url);
    curl_easy_setopt(t->curl, CURLOPT_CUSTOMREQUEST, method);
    hx x = {t, {NULL, 0, 0, 4096, 0}, NULL};
    curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, hx_write);
    curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, &x);
    ch_code rc = exchange(t, &x, step, name, status, err);
    tbuf_free(&x.body);
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, NULL);
    headers_free(hd);
    return rc;
}

static ch_code https_remove(transport *t, const char *remote_name, ch_error *err)
{
    const transport_https_config *h = &t->cfg.https;
    const char *tmpl = h->delete_url[0] ? h->delete_url : fetch_tmpl(h);
    ch_code rc = need(t, tmpl, "delete_url", "remove", remote_name, err);
    if (rc)
        return rc;
    char url[TRANSPORT_URL_MAX + 800];
    if (expand(url, sizeof url, tmpl, remote_name) < 0)
        return tfail(t, err, CH_ERR_LIMIT, 0, "remove", remote_name, "URL too long");
    return simple(t, "DELETE", url, NULL, "remove", remote_name, NULL, err);
}

static ch_code https_archive(transport *t, const char *remote_name, ch_error *err)
{
    const transport_https_config *h = &t->cfg.https;
    const char *src_tmpl = h->delete_url[0] ? h->delete_url : fetch_tmpl(h);
    ch_code rc = need(t, h->archive_url, "archive_url", "archive", remote_name, err);
    if (rc || (rc = need(t, src_tmpl, "fetch_url", "archive", remote_name, err)))
        return rc;
    char url[TRANSPORT_URL_MAX + 800], dst[TRANSPORT_URL_MAX + 800], hdr[TRANSPORT_URL_MAX + 840];
    if (expand(url, sizeof url, src_tmpl, remote_name) < 0 ||
        expand(dst, sizeof dst, h->archive_url, remote_name) < 0)
        return tfail(t, err, CH_ERR_LIMIT, 0, "archive", remote_name, "URL too long");
    snprintf(hdr, sizeof hdr, "Destination: %s", dst);
    long st = 0;
    ch_error e;
    rc = simple(t, "MOVE", url, hdr, "archive", remote_name, &st, &e);
    if (rc != CH_OK && st == 412) {
        /* The name is taken in the archive: add a time stamp. */
        char stamped[TRANSPORT_NAME_MAX + 40], stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, ".%Y%m%dT%H%M%SZ", &tm);
        snprintf(stamped, sizeof stamped, "%s%s", remote_name, stamp);
        if (expand(dst, sizeof dst, h->archive_url, stamped) < 0)
            return tfail(t, err, CH_ERR_LIMIT, 0, "archive", remote_name, "URL too long");
        snprintf(hdr, sizeof hdr, "Destination: %s", dst);
        rc = simple(t, "MOVE", url, hdr, "archive", remote_name, &st, &e);
    }
    if (rc && err)
        *err = e;
    return rc;
}

static void https_close(transport *t) { (void)t; }

const transport_ops transport_https_ops = {
    https_open, https_put, https_exists, https_list, https_get, https_remove, https_archive, NULL,
    https_close,
};
