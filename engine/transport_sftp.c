/*
 * transport_sftp.c - the `sftp` transport, through libcurl (libssh2).
 *
 * One curl easy handle per session.  libcurl keeps the SSH connection in the
 * handle's connection cache between transfers, so put/list/get/remove on one
 * transport share one connection and one login (transport_connections()
 * shows it).  curl_easy_reset() between operations keeps that cache.
 *
 * Host keys are always pinned: CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256 and/or a
 * known_hosts file checked by our own key callback, which accepts only an
 * exact match and remembers why it refused, so the message can say "host key
 * mismatch" rather than curl's generic verification failure.
 *
 * Remote operations:
 *   put      upload to DIR/<temp_prefix>NAME<temp_suffix>, then the
 *            post-quote `rename` (runs only after a complete upload).
 *            OpenSSH's rename never replaces: a name taken is CH_ERR_EXISTS.
 *   exists   a long listing of the upload dir (libcurl has no SFTP stat that
 *            keeps the connection); names and sizes come from it
 *   list     a long listing of the response dir, regular files only
 *   remove   quote `rm`; archive: quote `rename` into archive_dir
 * Quote commands take absolute paths (they are not relative to the URL).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "transport_impl.h"

static int khfunc(CURL *easy, const struct curl_khkey *known, const struct curl_khkey *found,
                  enum curl_khmatch match, void *ud)
{
    (void)easy;
    (void)known;
    (void)found;
    transport *t = ud;
    t->kh_match = (int)match;
    return match == CURLKHMATCH_OK ? CURLKHSTAT_FINE : CURLKHSTAT_REJECT;
}

static ch_code readable(transport *t, const char *path, const char *what, ch_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tfail(t, err, CH_ERR_CONFIG, 0, "open", NULL, "%s %s: %s", what, path, strerror(errno));
    close(fd);
    return CH_OK;
}

static ch_code sftp_open(transport *t, ch_error *err)
{
    transport_sftp_config *s = &t->cfg.sftp;
    ch_code rc = readable(t, s->private_key_file, "private_key_file", err);
    if (rc)
        return rc;
    if (s->public_key_file[0]) {
        if ((rc = readable(t, s->public_key_file, "public_key_file", err)))
            return rc;
        snprintf(t->pubkey, sizeof t->pubkey, "%s", s->public_key_file);
    } else {
        /* libcurl's default public key is ~/.ssh/id_dsa.pub: never that.
         * KEY.pub beside the key, or "" to derive it from the private key. */
        char pub[TRANSPORT_PATH_MAX + 8];
        snprintf(pub, sizeof pub, "%s.pub", s->private_key_file);
        if (access(pub, R_OK) == 0 && strlen(pub) < sizeof t->pubkey)
            snprintf(t->pubkey, sizeof t->pubkey, "%s", pub);
        else
            t->pubkey[0] = '\0';
    }
    if (s->known_hosts[0] && (rc = readable(t, s->known_hosts, "known_hosts", err)))
        return rc;
    if ((rc = tsecret_read(t, &s->passphrase, "passphrase", &t->passphrase, err)))
        return rc;
    int v6 = strchr(s->host, ':') != NULL;
    if ((size_t)snprintf(t->base_url, sizeof t->base_url, "sftp://%s%s%s:%d", v6 ? "[" : "", s->host,
                         v6 ? "]" : "", s->port) >= sizeof t->base_url)
        return tfail(t, err, CH_ERR_CONFIG, 0, "open", NULL, "host name too long");
    return CH_OK;
}

static void setup(transport *t)
{
    CURL *c = t->curl;
    const transport_sftp_config *s = &t->cfg.sftp;
    curl_easy_reset(c);
    tcurl_common(t, "sftp");
    curl_easy_setopt(c, CURLOPT_USERNAME, s->user);
    curl_easy_setopt(c, CURLOPT_SSH_AUTH_TYPES, (long)CURLSSH_AUTH_PUBLICKEY);
    curl_easy_setopt(c, CURLOPT_SSH_PRIVATE_KEYFILE, s->private_key_file);
    curl_easy_setopt(c, CURLOPT_SSH_PUBLIC_KEYFILE, t->pubkey);
    if (t->passphrase)
        curl_easy_setopt(c, CURLOPT_KEYPASSWD, t->passphrase);
    if (s->host_key_sha256[0])
        curl_easy_setopt(c, CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256, s->host_key_sha256);
    if (s->known_hosts[0]) {
        curl_easy_setopt(c, CURLOPT_SSH_KNOWNHOSTS, s->known_hosts);
        curl_easy_setopt(c, CURLOPT_SSH_KEYFUNCTION, khfunc);
        curl_easy_setopt(c, CURLOPT_SSH_KEYDATA, t);
    }
}

/* base + escaped "dir/name" (name NULL: "dir/"). */
static int url_of(transport *t, char *out, size_t outsz, const char *dir, const char *name)
{
    if ((size_t)snprintf(out, outsz, "%s", t->base_url) >= outsz)
        return -1;
    char path[TRANSPORT_PATH_MAX * 2];
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    if ((size_t)snprintf(path, sizeof path, "%.*s/%s", (int)dl, dir, name ? name : "") >= sizeof path)
        return -1;
    if (dl == 1) /* dir is "/" */
        memmove(path, path + 1, strlen(path));
    return turl_append_path(out, outsz, path);
}

/* "DIR/NAME" for quote commands, without a doubled slash. */
static int path_of(char *out, size_t outsz, const char *dir, const char *pre, const char *name,
                   const char *suf)
{
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    if (dl == 1)
        dl = 0;
    return (size_t)snprintf(out, outsz, "%.*s/%s%s%s", (int)dl, dir, pre, name, suf) < outsz ? 0 : -1;
}

static CURLcode perform(transport *t)
{
    CURLcode rc = curl_easy_perform(t->curl);
    tcurl_count(t);
    return rc;
}

/* Run quote commands with no transfer. */
static CURLcode quote(transport *t, struct curl_slist *cmds)
{
    char url[TRANSPORT_PATH_MAX];
    snprintf(url, sizeof url, "%s/", t->base_url);
    setup(t);
    curl_easy_setopt(t->curl, CURLOPT_URL, url);
    curl_easy_setopt(t->curl, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(t->curl, CURLOPT_QUOTE, cmds);
    CURLcode rc = perform(t);
    curl_easy_setopt(t->curl, CURLOPT_QUOTE, NULL);
    return rc;
}

static CURLcode quote1(transport *t, const char *fmt, const char *a, const char *b)
{
    char cmd[TRANSPORT_PATH_MAX * 2 + 32];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    struct curl_slist *l = curl_slist_append(NULL, cmd);
    if (!l)
        return CURLE_OUT_OF_MEMORY;
    CURLcode rc = quote(t, l);
    curl_slist_free_all(l);
    return rc;
}

/* Long listing of dir: regular files with sizes. */
static ch_code listing(transport *t, const char *dir, const char *step, char ***names,
                       uint64_t **sizes, size_t *n, ch_error *err)
{
    char url[TRANSPORT_PATH_MAX * 3];
    if (url_of(t, url, sizeof url, dir, NULL) < 0)
        return tfail(t, err, CH_ERR_LIMIT, 0, step, NULL, "path too long");
    tbuf body = {NULL, 0, 0, 64u << 20, 0};
    setup(t);
    curl_easy_setopt(t->curl, CURLOPT_URL, url);
    curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, tbuf_curl_write);
    curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, &body);
    CURLcode rc = perform(t);
    if (rc != CURLE_OK) {
        char d[TRANSPORT_PATH_MAX + 32];
        snprintf(d, sizeof d, "listing %s", dir);
        tbuf_free(&body);
        return tcurl_fail(t, err, rc, step, NULL, d);
    }
    if (body.truncated) {
        tbuf_free(&body);
        return tfail(t, err, CH_ERR_LIMIT, 0, step, NULL, "listing of %s is larger than 64 MB", dir);
    }
    ch_error e;
    ch_code c = tlist_parse_long(body.p ? body.p : "", body.len, names, sizes, n, &e);
    tbuf_free(&body);
    if (c)
        return tfail(t, err, c, 0, step, NULL, "%s", e.msg);
    return CH_OK;
}

static ch_code need(transport *t, const char *dir, const char *what, const char *step,
                    const char *name, ch_error *err)
{
    if (!dir[0])
        return tfail(t, err, CH_ERR_CONFIG, 0, step, name, "the profile has no %s", what);
    return CH_OK;
}

static ch_code sftp_exists(transport *t, const char *remote_name, int *exists, uint64_t *size,
                           ch_error *err)
{
    const char *dir = t->cfg.sftp.upload_dir;
    ch_code rc = need(t, dir, "upload_dir", "exists", remote_name, err);
    if (rc)
        return rc;
    char **names = NULL;
    uint64_t *sizes = NULL;
    size_t n = 0;
    if ((rc = listing(t, dir, "exists", &names, &sizes, &n, err))) {
        ch_error_prefix(err, "checking %s", remote_name);
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], remote_name)) {
            *exists = 1;
            if (size)
                *size = sizes[i];
            break;
        }
    transport_names_free(names, n);
    free(sizes);
    return CH_OK;
}

static ch_code sftp_put(transport *t, const char *local_path, const char *remote_name, ch_error *err)
{
    const transport_sftp_config *s = &t->cfg.sftp;
    ch_code rc = need(t, s->upload_dir, "upload_dir", "put", remote_name, err);
    if (rc)
        return rc;
    char tmpname[TRANSPORT_NAME_MAX + 80];
    snprintf(tmpname, sizeof tmpname, "%s%s%s", t->cfg.temp_prefix, remote_name, t->cfg.temp_suffix);
    char url[TRANSPORT_PATH_MAX * 3], from[TRANSPORT_PATH_MAX + 400], to[TRANSPORT_PATH_MAX + 400];
    if (url_of(t, url, sizeof url, s->upload_dir, tmpname) < 0 ||
        path_of(from, sizeof from, s->upload_dir, t->cfg.temp_prefix, remote_name, t->cfg.temp_suffix) ||
        path_of(to, sizeof to, s->upload_dir, "", remote_name, ""))
        return tfail(t, err, CH_ERR_LIMIT, 0, "put", remote_name, "path too long");

    tsource src;
    if ((rc = tsource_open(t, local_path, remote_name, &src, err)))
        return rc;
    char cmd[sizeof from + sizeof to + 16];
    snprintf(cmd, sizeof cmd, "rename \"%s\" \"%s\"", from, to);
    struct curl_slist *post = curl_slist_append(NULL, cmd);
    if (!post) {
        tsource_close(&src);
        return tfail(t, err, CH_ERR_NOMEM, 0, "put", remote_name, "out of memory");
    }
    setup(t);
    curl_easy_setopt(t->curl, CURLOPT_URL, url);
    curl_easy_setopt(t->curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(t->curl, CURLOPT_READFUNCTION, tsource_curl_read);
    curl_easy_setopt(t->curl, CURLOPT_READDATA, &src);
    curl_easy_setopt(t->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)src.size);
    curl_easy_setopt(t->curl, CURLOPT_POSTQUOTE, post);
    CURLcode cr = perform(t);
    curl_easy_setopt(t->curl, CURLOPT_POSTQUOTE, NULL);
    curl_slist_free_all(post);
    tsource_close(&src);
    if (cr == CURLE_OK)
        return CH_OK;
    if (cr == CURLE_QUOTE_ERROR) {
        /* The upload is complete under the temporary name; the rename failed.
         * OpenSSH refuses to rename onto an existing file: was it there? */
        char saved[CURL_ERROR_SIZE];
        snprintf(saved, sizeof saved, "%s", t->errbuf);
        int ex = 0;
        ch_error e2;
        sftp_exists(t, remote_name, &ex, NULL, &e2);
        quote1(t, "rm \"%s\"%s", from, "");
        if (ex)
            return tfail(t, err, CH_ERR_EXISTS, 0, "put", remote_name,
                         "%s exists already on the server (delivered before?); not overwritten", to);
        snprintf(t->errbuf, sizeof t->errbuf, "%s", saved);
        return tcurl_fail(t, err, cr, "put", remote_name, "renaming the uploaded file into place");
    }
    char d[TRANSPORT_PATH_MAX + 64];
    snprintf(d, sizeof d, "upload to %s", from);
    return tcurl_fail(t, err, cr, "put", remote_name, d);
}

static ch_code sftp_list(transport *t, char ***names, size_t *n, ch_error *err)
{
    const char *dir = t->cfg.sftp.response_dir;
    ch_code rc = need(t, dir, "response_dir", "list", NULL, err);
    return rc ? rc : listing(t, dir, "list", names, NULL, n, err);
}

static ch_code sftp_get(transport *t, const char *remote_name, tsink *sink, ch_error *err)
{
    const char *dir = t->cfg.sftp.response_dir;
    ch_code rc = need(t, dir, "response_dir", "get", remote_name, err);
    if (rc)
        return rc;
    char url[TRANSPORT_PATH_MAX * 3];
    if (url_of(t, url, sizeof url, dir, remote_name) < 0)
        return tfail(t, err, CH_ERR_LIMIT, 0, "get", remote_name, "path too long");
    setup(t);
    curl_easy_setopt(t->curl, CURLOPT_URL, url);
    curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, tsink_curl_write);
    curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, sink);
    CURLcode cr = perform(t);
    if (sink->failed)
        return tfail(t, err, sink->err.code ? sink->err.code : CH_ERR_IO, 0, "get", remote_name, "%s",
                     sink->err.msg);
    if (cr != CURLE_OK)
        return tcurl_fail(t, err, cr, "get", remote_name, NULL);
    return CH_OK;
}

/* A failed quote command on a missing file is "not found". */
static ch_code quote_fail(transport *t, ch_error *err, CURLcode cr, const char *step, const char *name)
{
    if (cr == CURLE_QUOTE_ERROR && strstr(t->errbuf, "No such file"))
        return tfail(t, err, CH_ERR_NOTFOUND, 0, step, name, "not found on the server (curl %d: %s)",
                     (int)cr, t->errbuf);
    return tcurl_fail(t, err, cr, step, name, NULL);
}

static ch_code sftp_remove(transport *t, const char *remote_name, ch_error *err)
{
    const char *dir = t->cfg.sftp.response_dir;
    ch_code rc = need(t, dir, "response_dir", "remove", remote_name, err);
    if (rc)
        return rc;
    char p[TRANSPORT_PATH_MAX + 300];
    if (path_of(p, sizeof p, dir, "", remote_name, ""))
        return tfail(t, err, CH_ERR_LIMIT, 0, "remove", remote_name, "path too long");
    CURLcode cr = quote1(t, "rm \"%s\"%s", p, "");
    return cr == CURLE_OK ? CH_OK : quote_fail(t, err, cr, "remove", remote_name);
}

/* Remove a name from the upload dir (leftover temporary files). */
static ch_code sftp_remove_upload(transport *t, const char *name, ch_error *err)
{
    char p[TRANSPORT_PATH_MAX + 300];
    if (path_of(p, sizeof p, t->cfg.sftp.upload_dir, "", name, ""))
        return tfail(t, err, CH_ERR_LIMIT, 0, "remove", name, "path too long");
    CURLcode cr = quote1(t, "rm \"%s\"%s", p, "");
    return cr == CURLE_OK ? CH_OK : tcurl_fail(t, err, cr, "remove", name, NULL);
}

static ch_code sftp_archive(transport *t, const char *remote_name, ch_error *err)
{
    const transport_sftp_config *s = &t->cfg.sftp;
    ch_code rc = need(t, s->response_dir, "response_dir", "archive", remote_name, err);
    if (rc || (rc = need(t, s->archive_dir, "archive_dir", "archive", remote_name, err)))
        return rc;
    char from[TRANSPORT_PATH_MAX + 300], to[TRANSPORT_PATH_MAX + 340];
    if (path_of(from, sizeof from, s->response_dir, "", remote_name, "") ||
        path_of(to, sizeof to, s->archive_dir, "", remote_name, ""))
        return tfail(t, err, CH_ERR_LIMIT, 0, "archive", remote_name, "path too long");
    CURLcode cr = quote1(t, "rename \"%s\" \"%s\"", from, to);
    if (cr == CURLE_QUOTE_ERROR) {
        /* Most likely the name is taken in the archive: add a time stamp. */
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, ".%Y%m%dT%H%M%SZ", &tm);
        if (path_of(to, sizeof to, s->archive_dir, "", remote_name, stamp))
            return tfail(t, err, CH_ERR_LIMIT, 0, "archive", remote_name, "path too long");
        cr = quote1(t, "rename \"%s\" \"%s\"", from, to);
    }
    return cr == CURLE_OK ? CH_OK : quote_fail(t, err, cr, "archive", remote_name);
}

static void sftp_close(transport *t) { (void)t; }

const transport_ops transport_sftp_ops = {
    sftp_open, sftp_put, sftp_exists, sftp_list, sftp_get, sftp_remove, sftp_archive, sftp_remove_upload, sftp_close,
};
