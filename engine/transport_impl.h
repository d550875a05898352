/*
 * transport_impl.h - what the shared parts of the transport layer
 * (transport.c dispatch, transport_curl.c, transport_files.c,
 * transport_listing.c, transport_secret.c) offer the three kinds
 * (transport_sftp.c, transport_https.c, transport_dir.c) and the gzip
 * helpers (transport_gzip.c).  Not for callers outside the transport layer;
 * tests include it to reach the pieces directly.
 */
#ifndef TRANSPORT_IMPL_H
#define TRANSPORT_IMPL_H

#include <curl/curl.h>
#include <stdint.h>

#include "sha256.h"
#include "transport.h"

typedef struct tsink tsink;

/* One kind of exchange.  Names given are already checked with
 * transport_name_ok(); list returns raw names the caller filters. */
typedef struct transport_ops {
    ch_code (*open)(transport *t, ch_error *err);
    ch_code (*put)(transport *t, const char *local_path, const char *remote_name, ch_error *err);
    ch_code (*exists)(transport *t, const char *remote_name, int *exists, uint64_t *size,
                      ch_error *err);
    ch_code (*list)(transport *t, char ***names, size_t *n, ch_error *err);
    ch_code (*get)(transport *t, const char *remote_name, tsink *sink, ch_error *err);
    ch_code (*remove)(transport *t, const char *remote_name, ch_error *err);
    ch_code (*archive)(transport *t, const char *remote_name, ch_error *err);
    /* Remove a leftover temporary file from the upload location (may be NULL). */
    ch_code (*discard)(transport *t, const char *temp_name, ch_error *err);
    void (*close)(transport *t);
} transport_ops;

extern const transport_ops transport_sftp_ops;
extern const transport_ops transport_https_ops;
extern const transport_ops transport_dir_ops;

struct transport {
    transport_config cfg;
    const transport_ops *ops;
    CURL *curl;                 /* sftp, https: one handle, reused */
    char errbuf[CURL_ERROR_SIZE];
    char *passphrase;           /* private key / client key passphrase */
    char *token;                /* https bearer token */
    struct curl_slist *headers; /* https: Authorization, Expect */
    char base_url[512];         /* sftp://host:port */
    char pubkey[TRANSPORT_PATH_MAX]; /* sftp public key file, "" = derive */
    int retryable;              /* the last failure is transient */
    long connects;              /* connections made so far */
    int kh_match;               /* sftp: last known_hosts verdict (curl_khmatch), -1 none */
    double moved_at;            /* stall watch: when bytes last moved (monotonic s) */
    curl_off_t moved_ul, moved_dl;
    int stalled;                /* the exchange was abandoned as stalled */
    int connected;              /* stall watch: past connecting (pretransfer) */
    uint64_t rng;               /* retry jitter */
};

/* "payer P: KIND STEP[ NAME]: detail", sets t->retryable, returns code. */
ch_code tfail(transport *t, ch_error *err, ch_code code, int retryable, const char *step,
              const char *name, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Message for a failed curl_easy_perform (errbuf or curl's words, mapped to a
 * ch_code and a retryable verdict).  detail (may be NULL) is added first. */
ch_code tcurl_fail(transport *t, ch_error *err, CURLcode rc, const char *step, const char *name,
                   const char *detail);

/* Options every curl exchange gets: timeouts, no signals, error buffer,
 * protocol limited to proto ("sftp" or "https").  Call after curl_easy_reset. */
void tcurl_common(transport *t, const char *proto);

/* After curl_easy_perform: count new connections. */
void tcurl_count(transport *t);

/* Append the percent-encoded form of s (keeping '/') to out.  0 or -1 (too long). */
int turl_append_path(char *out, size_t outsz, const char *s);

/* ---- upload source: the file, or its gzip in an unlinked temporary file */
typedef struct tsource {
    int fd;
    uint64_t size;
} tsource;

ch_code tsource_open(transport *t, const char *local_path, const char *remote_name, tsource *s,
                     ch_error *err);
void tsource_close(tsource *s);
size_t tsource_curl_read(char *buf, size_t size, size_t nmemb, void *ud);

/* ---- download sink: temp file, SHA-256 while streaming, optional inflate */
typedef struct tgz_inflater tgz_inflater;

struct tsink {
    transport *t;
    const char *remote_name;
    int fd;
    char dir[TRANSPORT_PATH_MAX];
    char tmp[TRANSPORT_PATH_MAX];
    char final[TRANSPORT_PATH_MAX];
    sha256_ctx sha;
    uint64_t size;        /* bytes stored */
    uint64_t received;    /* bytes received (before inflating) */
    int want_gunzip;      /* profile has gzip: inflate if the data is gzip */
    uint8_t head[2];      /* first bytes, until we know whether it is gzip */
    size_t nhead;
    int decided;
    tgz_inflater *gz;
    int failed;           /* a write failed: err below */
    ch_error err;
    long http_status;     /* https: set by the caller before data flows */
};

ch_code tsink_open(transport *t, tsink *s, const char *remote_name, const char *local_dir,
                   const char *final_name, ch_error *err);
/* 0, or -1 with s->err set (the transfer must stop). */
int tsink_write(tsink *s, const void *p, size_t n);
size_t tsink_curl_write(char *p, size_t size, size_t nmemb, void *ud);
ch_code tsink_commit(tsink *s, char hex[SHA256_HEX], uint64_t *size, ch_error *err);
void tsink_abort(tsink *s);

/* write(2) all n bytes, again after EINTR: 0, or -1 with errno. */
int twrite_all(int fd, const void *p, size_t n);
/* rename(2) that never replaces an existing target: 0, or -1 with errno
 * (EEXIST when the target is there). */
int rename_noreplace(const char *from, const char *to);
/* fsync the directory holding path (or path itself when is_dir). */
int fsync_dir(const char *path, int is_dir);
/* SHA-256 of a whole local file. */
ch_code sha256_file(const char *path, char hex[SHA256_HEX], uint64_t *size, ch_error *err);

/* ---- gzip (transport_gzip.c) */
/* Deterministic gzip of in_fd (read to EOF) into out_fd; *out_size bytes. */
ch_code tgz_compress_fd(int in_fd, int out_fd, uint64_t *out_size, ch_error *err);
ch_code tgz_inflater_new(tgz_inflater **out, ch_error *err);
typedef int (*tgz_emit)(void *ud, const void *p, size_t n); /* 0 ok, -1 stop */
/* Feed compressed bytes; inflated output goes to emit.  Concatenated
 * members are accepted.  CH_ERR_INVALID on corrupt data. */
ch_code tgz_inflate(tgz_inflater *z, const void *p, size_t n, tgz_emit emit, void *ud,
                    ch_error *err);
/* CH_ERR_INVALID when the data ended inside a member. */
ch_code tgz_inflate_end(tgz_inflater *z, ch_error *err);
void tgz_inflater_free(tgz_inflater *z);
int tgz_is_gzip(const void *p, size_t n);

/* ---- listings (shared by https and tests) */
/* Names from an HTTP listing body: a JSON array of {"name":..,"type":..}
 * objects or of strings (nginx autoindex_format json), or one name per line.
 * Entries whose type is not "file" are skipped. */
ch_code tlist_parse_body(const char *body, size_t len, char ***names, size_t *n, ch_error *err);
/* Names of regular files in an `ls -l` style listing (SFTP long listing);
 * sizes (may be NULL) receives a parallel malloc'ed array. */
ch_code tlist_parse_long(const char *body, size_t len, char ***names, uint64_t **sizes,
                         size_t *n, ch_error *err);
/* Append a strdup of name to a growing array. */
int tnames_push(char ***names, size_t *n, size_t *cap, const char *name, size_t len);

/* A growing memory buffer for small bodies (listings, error replies). */
typedef struct tbuf {
    char *p;
    size_t len, cap, limit; /* limit: keep at most this many bytes */
    int truncated;
} tbuf;
size_t tbuf_curl_write(char *p, size_t size, size_t nmemb, void *ud);
void tbuf_free(tbuf *b);

/* A short, printable, one-line excerpt of an HTTP body with HTML tags
 * dropped and the token (if any) blanked out. */
void texcerpt(const transport *t, const char *body, size_t len, char *out, size_t outsz);

/* Read a secret: CH_ERR_CONFIG names the file/variable, never the value. */
ch_code tsecret_read(transport *t, const transport_secret *s, const char *what, char **out,
                     ch_error *err);
void tsecret_free(char **s);

#endif
