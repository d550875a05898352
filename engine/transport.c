/*
 * transport.c - the uniform transport API: opening a payer's transport,
 * dispatch to the three kinds (sftp, https, dir), collecting, retries with
 * backoff and jitter, and the check that a batch arrived after a crash.
 */
#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport_impl.h"

/* ================================================================ dispatch */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

ch_code transport_open(const transport_config *cfg, transport **out, ch_error *err)
{
    *out = NULL;
    const transport_ops *ops = cfg->kind == TRANSPORT_SFTP    ? &transport_sftp_ops
                               : cfg->kind == TRANSPORT_HTTPS ? &transport_https_ops
                               : cfg->kind == TRANSPORT_DIR   ? &transport_dir_ops
                                                              : NULL;
    if (!ops)
        return ch_error_set(err, CH_ERR_USAGE, "payer %s: transport: no kind configured", cfg->payer);
    transport *t = calloc(1, sizeof *t);
    if (!t)
        return ch_error_set(err, CH_ERR_NOMEM, "payer %s: transport: out of memory", cfg->payer);
    t->cfg = *cfg;
    t->ops = ops;
    t->kh_match = -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    t->rng = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^
             (uint64_t)(uintptr_t)t;
    if (cfg->kind != TRANSPORT_DIR) {
        pthread_once(&curl_once, curl_init);
        if (curl_init_rc != CURLE_OK || !(t->curl = curl_easy_init())) {
            free(t);
            return ch_error_set(err, CH_ERR_INTERNAL, "payer %s: transport: cannot start libcurl",
                                cfg->payer);
        }
    }
    ch_code rc = ops->open(t, err);
    if (rc) {
        transport_close(t);
        return rc;
    }
    *out = t;
    return CH_OK;
}

void transport_close(transport *t)
{
    if (!t)
        return;
    if (t->ops && t->ops->close)
        t->ops->close(t);
    if (t->curl)
        curl_easy_cleanup(t->curl);
    for (struct curl_slist *h = t->headers; h; h = h->next)
        explicit_bzero(h->data, strlen(h->data));
    curl_slist_free_all(t->headers);
    tsecret_free(&t->passphrase);
    tsecret_free(&t->token);
    explicit_bzero(t, sizeof *t);
    free(t);
}

const transport_config *transport_get_config(const transport *t) { return &t->cfg; }

long transport_connections(const transport *t) { return t->connects; }

int transport_retryable(const transport *t) { return t->retryable; }

static ch_code check_name(transport *t, const char *step, const char *name, ch_error *err)
{
    if (!transport_name_ok(name))
        return tfail(t, err, CH_ERR_USAGE, 0, step, NULL,
                     "unusable remote file name (empty, leading dot, / \\ \" or control characters)");
    return CH_OK;
}

ch_code transport_put(transport *t, const char *local_path, const char *remote_name, ch_error *err)
{
    t->retryable = 0;
    ch_code rc = check_name(t, "put", remote_name, err);
    return rc ? rc : t->ops->put(t, local_path, remote_name, err);
}

ch_code transport_exists(transport *t, const char *remote_name, int *exists, uint64_t *size,
                         ch_error *err)
{
    t->retryable = 0;
    *exists = 0;
    if (size)
        *size = 0;
    ch_code rc = check_name(t, "exists", remote_name, err);
    return rc ? rc : t->ops->exists(t, remote_name, exists, size, err);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

ch_code transport_list(transport *t, char ***names, size_t *n, ch_error *err)
{
    t->retryable = 0;
    *names = NULL;
    *n = 0;
    char **raw = NULL;
    size_t nraw = 0;
    ch_code rc = t->ops->list(t, &raw, &nraw, err);
    if (rc)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < nraw; i++) {
        if (transport_name_ok(raw[i]) && fnmatch(t->cfg.response_pattern, raw[i], FNM_PERIOD) == 0)
            raw[k++] = raw[i];
        else
            free(raw[i]);
    }
    if (k)
        qsort(raw, k, sizeof *raw, cmp_names);
    if (!k) {
        free(raw);
        raw = NULL;
    }
    *names = raw;
    *n = k;
    return CH_OK;
}

ch_code transport_get(transport *t, const char *remote_name, const char *local_dir,
                      const char *final_name, char sha256_hex_out[SHA256_HEX], uint64_t *size,
                      ch_error *err)
{
    t->retryable = 0;
    ch_code rc = check_name(t, "get", remote_name, err);
    if (rc)
        return rc;
    tsink s;
    if ((rc = tsink_open(t, &s, remote_name, local_dir, final_name, err)))
        return rc;
    rc = t->ops->get(t, remote_name, &s, err);
    if (rc) {
        tsink_abort(&s);
        return rc;
    }
    return tsink_commit(&s, sha256_hex_out, size, err);
}

ch_code transport_remove(transport *t, const char *remote_name, ch_error *err)
{
    t->retryable = 0;
    ch_code rc = check_name(t, "remove", remote_name, err);
    return rc ? rc : t->ops->remove(t, remote_name, err);
}

ch_code transport_archive(transport *t, const char *remote_name, ch_error *err)
{
    t->retryable = 0;
    ch_code rc = check_name(t, "archive", remote_name, err);
    return rc ? rc : t->ops->archive(t, remote_name, err);
}

ch_code transport_after_collect(transport *t, const char *remote_name, ch_error *err)
{
    switch (t->cfg.after_collect) {
    case TRANSPORT_AFTER_REMOVE: return transport_remove(t, remote_name, err);
    case TRANSPORT_AFTER_ARCHIVE: return transport_archive(t, remote_name, err);
    default: return CH_OK;
    }
}

ch_code transport_collect(transport *t, const char *inbox_dir, transport_record_fn record, void *ud,
                          size_t *collected, ch_error *err)
{
    if (collected)
        *collected = 0;
    char **names = NULL;
    size_t n = 0;
    ch_code rc = transport_list(t, &names, &n, err);
    if (rc)
        return rc;
    ch_code first = CH_OK;
    ch_error e;
    for (size_t i = 0; i < n; i++) {
        char local[TRANSPORT_NAME_MAX + 1], path[TRANSPORT_PATH_MAX + TRANSPORT_NAME_MAX + 2];
        char hex[SHA256_HEX];
        uint64_t size = 0;
        ch_error_clear(&e);
        snprintf(local, sizeof local, "%s", names[i]);
        ch_code c = transport_get(t, names[i], inbox_dir, local, hex, &size, &e);
        if (c == CH_ERR_EXISTS) {
            /* another file under that name came before: keep both */
            char stamp[32];
            time_t now = time(NULL);
            struct tm tm;
            gmtime_r(&now, &tm);
            strftime(stamp, sizeof stamp, ".%Y%m%dT%H%M%SZ", &tm);
            if (strlen(names[i]) + strlen(stamp) <= TRANSPORT_NAME_MAX) {
                snprintf(local, sizeof local, "%s%s", names[i], stamp);
                ch_error_clear(&e);
                c = transport_get(t, names[i], inbox_dir, local, hex, &size, &e);
            }
        }
        if (c == CH_OK) {
            snprintf(path, sizeof path, "%s/%s", inbox_dir, local);
            c = record(ud, names[i], path, size, hex, &e);
            if (c == CH_ERR_EXISTS) {
                unlink(path); /* recorded before: kept once */
                c = CH_OK;
            } else if (c != CH_OK) {
                ch_error_prefix(&e, "payer %s: collect %s: recording", t->cfg.payer, names[i]);
            }
            if (c == CH_OK) {
                if (collected)
                    (*collected)++;
                c = transport_after_collect(t, names[i], &e);
            }
        }
        if (c != CH_OK && first == CH_OK) {
            first = c;
            if (err)
                *err = e;
        }
    }
    transport_names_free(names, n);
    return first;
}

/* ================================================================= retries */

long transport_retry_delay(unsigned attempt, long base_ms, long max_ms, uint64_t rand)
{
    if (base_ms <= 0 || max_ms <= 0)
        return 0;
    if (attempt < 1)
        attempt = 1;
    long cap = base_ms;
    for (unsigned i = 1; i < attempt && cap < max_ms; i++)
        cap = cap > max_ms / 2 ? max_ms : cap * 2;
    if (cap > max_ms)
        cap = max_ms;
    return (long)(rand % ((uint64_t)cap + 1));
}

static uint64_t next_rand(transport *t)
{
    /* splitmix64: jitter only, no security meaning */
    uint64_t z = (t->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

ch_code transport_check_delivered(transport *t, const char *local_path, const char *remote_name,
                                  transport_delivery *out, ch_error *err)
{
    *out = TRANSPORT_DELIVERY_UNKNOWN;
    uint64_t want = 0, have = 0;
    ch_code rc = transport_sent_size(&t->cfg, local_path, &want, err);
    if (rc)
        return rc;
    int exists = 0;
    rc = transport_exists(t, remote_name, &exists, &have, err);
    if (rc == CH_ERR_USAGE) {
        /* This transport cannot look: err says why; the caller holds the batch. */
        if (err)
            err->code = CH_OK;
        return CH_OK;
    }
    if (rc)
        return rc;
    if (!exists) {
        /* Best effort: a leftover temporary file from the interrupted upload. */
        if (t->ops->discard) {
            char tmp[TRANSPORT_NAME_MAX + 80];
            snprintf(tmp, sizeof tmp, "%s%s%s", t->cfg.temp_prefix, remote_name, t->cfg.temp_suffix);
            int tex = 0;
            ch_error e2;
            if (t->ops->exists(t, tmp, &tex, NULL, &e2) == CH_OK && tex)
                t->ops->discard(t, tmp, &e2);
        }
        *out = TRANSPORT_NOT_DELIVERED;
        return CH_OK;
    }
    if (have == want) {
        *out = TRANSPORT_DELIVERED;
        return CH_OK;
    }
    ch_error_set(err, CH_OK, "payer %s: %s check %s: a file of %llu bytes is there where %llu were "
                 "sent; an operator must look", t->cfg.payer, transport_kind_name(t->cfg.kind),
                 remote_name, (unsigned long long)have, (unsigned long long)want);
    return CH_OK;
}

ch_code transport_put_retry(transport *t, const char *local_path, const char *remote_name,
                            int attempts, long base_ms, ch_error *err)
{
    if (attempts < 1)
        attempts = 1;
    ch_code rc = CH_OK;
    int i;
    for (i = 1; i <= attempts; i++) {
        if (i > 1) {
            sleep_ms(transport_retry_delay((unsigned)(i - 1), base_ms, t->cfg.retry_max_ms, next_rand(t)));
            /* Did the failed attempt get through after all (reply lost)? */
            transport_delivery d;
            ch_error e2;
            ch_error_clear(&e2);
            if (transport_check_delivered(t, local_path, remote_name, &d, &e2) == CH_OK &&
                d == TRANSPORT_DELIVERED)
                return CH_OK;
        }
        rc = transport_put(t, local_path, remote_name, err);
        if (rc == CH_OK)
            return CH_OK;
        if (!t->retryable)
            break;
    }
    if (i > attempts)
        i = attempts;
    if (i > 1)
        ch_error_prefix(err, "after %d attempts", i);
    return rc;
}
