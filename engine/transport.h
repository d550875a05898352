/*
 * transport.h - moving batch files to payers and responses back.
 *
 * A payer profile has a `transport:` mapping naming one kind of exchange:
 *
 *   sftp   OpenSSH-style SFTP with a private key (ed25519 or ECDSA) and a
 *          pinned host key (SHA256 fingerprint or known_hosts file)
 *   https  HTTPS with a CA bundle and/or a pinned server key, optional mutual
 *          TLS and a bearer token
 *   dir    a local or mounted directory (the demo payer, tests)
 *
 * and one small uniform API over the three, in the manner of libcurl's easy
 * interface: parse a transport_config once, transport_open() a session, then
 * put / exists / list / get / remove / archive as often as needed, and
 * transport_close().  docs/transport.md describes the YAML.
 *
 * Guarantees the ledger builds on (batch states ready -> sending -> sent):
 *
 *  - transport_put() never lets the payer see half a file: SFTP and dir write
 *    a temporary name (temp_prefix + name + temp_suffix, default ".NAME.part")
 *    and rename it into place when complete; HTTPS is one request, checked by
 *    status.  It never overwrites a file already delivered under that name
 *    (CH_ERR_EXISTS).
 *  - transport_check_delivered() is the crash check for a batch found in
 *    `sending`: it tells "delivered", "not delivered" (safe to resend) or
 *    "cannot tell" apart.  Remote names must therefore be decided once and
 *    recorded in the ledger when the batch enters `sending`
 *    (transport_remote_name()).
 *  - transport_get() downloads to a temporary local name, fsyncs, renames into
 *    place with mode 0600 and returns size and SHA-256 computed while
 *    streaming, so the caller records (name, size, SHA-256) in the ledger
 *    before it calls transport_remove() / transport_archive().
 *  - Every HTTP exchange is checked for a 2xx status: a refused client
 *    certificate can come back as HTTP 400 with curl reporting success.
 *
 * Errors follow ch_error.h.  Every message says which payer, which step and
 * what the server said (HTTP status and a short cleaned body excerpt, or
 * curl's error text); none ever holds a passphrase, a token or the contents
 * of a key file.  Secrets are read from files or environment variables at
 * transport_open() and wiped at transport_close(); a profile that writes a
 * secret inline is refused by the parser.
 *
 * A transport is not thread-safe; use one per thread.  Codes:
 *   CH_ERR_CONFIG     profile refused (parse) or secret/key unreadable (open)
 *   CH_ERR_TRANSPORT  the exchange failed (connection, protocol, HTTP status)
 *   CH_ERR_TIMEOUT    connect timeout or stalled transfer
 *   CH_ERR_DENIED     the peer was not trusted (host key, certificate, pin) or
 *                     refused us (login, client certificate, HTTP 401/403)
 *   CH_ERR_NOTFOUND   the remote file does not exist
 *   CH_ERR_EXISTS     the destination name is taken by different content
 *   CH_ERR_IO         a local file could not be read or written
 * transport_retryable() says whether the last failure is worth retrying.
 */
#ifndef TRANSPORT_H
#define TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <yaml.h>

#include "ch_error.h"
#include "sha256.h"

#define TRANSPORT_PATH_MAX 1024
#define TRANSPORT_URL_MAX 2048
#define TRANSPORT_NAME_MAX 255 /* one remote or local file name */

typedef enum transport_kind {
    TRANSPORT_NONE = 0,
    TRANSPORT_DIR,
    TRANSPORT_SFTP,
    TRANSPORT_HTTPS
} transport_kind;

/* What the collect step does with a remote response once it is recorded. */
typedef enum transport_after {
    TRANSPORT_AFTER_KEEP = 0, /* leave it (the ledger's SHA-256 dedupes it) */
    TRANSPORT_AFTER_REMOVE,
    TRANSPORT_AFTER_ARCHIVE
} transport_after;

typedef enum transport_upload_format {
    TRANSPORT_UPLOAD_RAW = 0,       /* the file is the request body */
    TRANSPORT_UPLOAD_CORE_MULTIPART /* CAQH CORE connectivity MIME multipart */
} transport_upload_format;

/* Where a secret comes from: a file (its content without the trailing line
 * break) or an environment variable.  At most one is set; never the value. */
typedef struct transport_secret {
    char file[TRANSPORT_PATH_MAX];
    char env[128];
} transport_secret;

typedef struct transport_sftp_config {
    char host[256];
    int port;                               /* default 22 */
    char user[128];
    char private_key_file[TRANSPORT_PATH_MAX];
    char public_key_file[TRANSPORT_PATH_MAX]; /* default: private key + ".pub" when present */
    transport_secret passphrase;            /* of the private key, optional */
    char host_key_sha256[64];               /* base64, without "SHA256:" */
    char known_hosts[TRANSPORT_PATH_MAX];   /* at least one of the two pins */
    char upload_dir[TRANSPORT_PATH_MAX];    /* absolute remote paths */
    char response_dir[TRANSPORT_PATH_MAX];
    char archive_dir[TRANSPORT_PATH_MAX];
} transport_sftp_config;

typedef struct transport_https_config {
    char upload_url[TRANSPORT_URL_MAX];     /* {name} or a trailing / takes the name */
    char method[8];                         /* PUT (default) or POST */
    transport_upload_format upload_format;
    char content_type[128];                 /* default application/octet-stream */
    char ca_file[TRANSPORT_PATH_MAX];       /* CA bundle (CURLOPT_CAINFO) */
    int ca_system;                          /* use the system CA store */
    char pinned_public_key[512];            /* sha256//BASE64[;sha256//...] */
    char client_cert[TRANSPORT_PATH_MAX];   /* mutual TLS, PEM */
    char client_key[TRANSPORT_PATH_MAX];
    transport_secret client_key_passphrase;
    transport_secret token;                 /* Authorization: Bearer */
    char list_url[TRANSPORT_URL_MAX];       /* JSON array (nginx autoindex) or lines */
    char fetch_url[TRANSPORT_URL_MAX];      /* default: list_url + name */
    char delete_url[TRANSPORT_URL_MAX];     /* default: fetch_url */
    char archive_url[TRANSPORT_URL_MAX];    /* WebDAV MOVE destination */
    char exists_url[TRANSPORT_URL_MAX];     /* HEAD; default upload_url for PUT */
    char sender_id[80];                     /* core-multipart SenderID */
    char receiver_id[80];                   /* core-multipart ReceiverID */
} transport_https_config;

typedef struct transport_dir_config {
    char upload_dir[TRANSPORT_PATH_MAX];
    char response_dir[TRANSPORT_PATH_MAX];
    char archive_dir[TRANSPORT_PATH_MAX];
} transport_dir_config;

/* Plain data, no pointers: copy it freely, nothing to free. */
typedef struct transport_config {
    char payer[64];
    transport_kind kind;
    int gzip;                    /* gzip payloads sent; gunzip gzip responses */
    char file_name[256];         /* naming pattern, must hold {batch} */
    char response_pattern[128];  /* fnmatch(3) glob for responses, default "*" */
    char temp_prefix[32];        /* default "." */
    char temp_suffix[32];        /* default ".part" */
    long connect_timeout_s;      /* default 15 */
    long stall_timeout_s;        /* abort below stall_bytes_per_s for this long; default 60 */
    long stall_bytes_per_s;      /* default 1 */
    long timeout_s;              /* whole exchange; 0 (default) = none */
    int retry_attempts;          /* attempts per batch before failed; default 5 */
    long retry_base_ms;          /* default 2000 */
    long retry_max_ms;           /* default 300000 */
    transport_after after_collect;
    transport_sftp_config sftp;
    transport_https_config https;
    transport_dir_config dir;
} transport_config;

typedef struct transport transport;

/* ------------------------------------------------------------ configuration */

/* Defaults for everything; kind stays TRANSPORT_NONE. */
void transport_config_init(transport_config *cfg, const char *payer);

/*
 * Parse the `transport:` mapping `node` of a libyaml document into *out
 * (defaults first, then the keys given).  payer names the profile in
 * messages.  Refuses (CH_ERR_CONFIG, message with the YAML line): unknown
 * keys; a secret written inline (only *_file and *_env name secrets); sftp
 * without a pinned host key; https without TLS verification (no CA and no
 * pin, or verification turned off) or with a non-https URL; missing required
 * fields.  Files named are not opened here (that is transport_open's job).
 */
ch_code transport_config_parse(yaml_document_t *doc, yaml_node_t *node, const char *payer,
                               transport_config *out, ch_error *err);

/* Parse YAML text whose root mapping has a `transport:` key (a payer
 * profile, or just that section). */
ch_code transport_config_parse_text(const char *text, size_t len, const char *payer,
                                    transport_config *out, ch_error *err);

const char *transport_kind_name(transport_kind kind); /* "sftp", ... */

/* 1 when name is usable as one remote or local file name: 1..255 bytes, no
 * '/', '\\', '"', control characters, not "." or "..". */
int transport_name_ok(const char *name);

/*
 * The remote name for a batch from cfg->file_name: {payer}, {batch}, {date}
 * (YYYYMMDD, UTC) and {time} (HHMMSS, UTC) of `when`.  Compute it once, when
 * the batch enters `sending`, and keep it in the ledger: the crash check
 * looks for exactly that name.
 */
ch_code transport_remote_name(const transport_config *cfg, const char *batch_id, time_t when,
                              char *out, size_t outsz, ch_error *err);

/* -------------------------------------------------------------- a session */

/*
 * Start a session: checks key/certificate files are readable, reads the
 * secrets, sets up one curl easy handle (reused for every operation, so an
 * SFTP session is one SSH connection and HTTPS keeps its connection alive).
 * Nothing is sent yet: the first operation connects.  *out is NULL on error.
 */
ch_code transport_open(const transport_config *cfg, transport **out, ch_error *err);

/* Ends the session, wipes secrets from memory. NULL is fine. */
void transport_close(transport *t);

const transport_config *transport_get_config(const transport *t);

/*
 * Upload local_path as remote_name into the upload location (gzip'ed first
 * when the profile says so).  SFTP/dir: to the temporary name, then renamed
 * into place.  CH_ERR_EXISTS when remote_name is already there (never
 * overwritten); the temporary file is removed on failure where possible.
 */
ch_code transport_put(transport *t, const char *local_path, const char *remote_name,
                      ch_error *err);

/*
 * Does remote_name exist in the upload location?  *exists 1/0; *size (may be
 * NULL) its size when it exists.  HTTPS uses HEAD on exists_url (default: the
 * upload URL when the method is PUT); without one: CH_ERR_USAGE.
 */
ch_code transport_exists(transport *t, const char *remote_name, int *exists, uint64_t *size,
                         ch_error *err);

/*
 * Names of the files waiting in the response location that match
 * response_pattern, sorted; directories, dot files (other parties'
 * temporary files) and unusable names are left out.  *names is a malloc'ed
 * array of malloc'ed strings (free with transport_names_free); *n its count.
 */
ch_code transport_list(transport *t, char ***names, size_t *n, ch_error *err);
void transport_names_free(char **names, size_t n);

/*
 * Download remote_name from the response location into local_dir/final_name:
 * written to a temporary name in local_dir, fsync'ed, mode 0600, renamed into
 * place, directory fsync'ed.  A gzip'ed file is inflated when the profile has
 * gzip on.  sha256_hex_out (65 bytes) and *size describe the bytes stored.
 * When final_name exists already with the same content, that copy is kept
 * and CH_OK returned (a file seen twice is kept once); with other content:
 * CH_ERR_EXISTS and nothing changes.
 */
ch_code transport_get(transport *t, const char *remote_name, const char *local_dir,
                      const char *final_name, char sha256_hex_out[SHA256_HEX], uint64_t *size,
                      ch_error *err);

/* Remove a response remotely (after it is recorded). */
ch_code transport_remove(transport *t, const char *remote_name, ch_error *err);

/* Move a response into the archive location; when the name is taken there,
 * a UTC timestamp is appended ("NAME.20250115T101500Z"). */
ch_code transport_archive(transport *t, const char *remote_name, ch_error *err);

/* The collect step's last move: remove, archive or keep, as the profile says. */
ch_code transport_after_collect(transport *t, const char *remote_name, ch_error *err);

/*
 * Called by transport_collect for each downloaded response, before anything
 * is removed or archived remotely: record (name, size, SHA-256) in the
 * ledger here.  Return CH_OK when recorded; CH_ERR_EXISTS when the same
 * content was recorded before (the local copy is then deleted, the remote
 * one still removed/archived: a file seen twice is kept once); any other
 * code leaves the remote file where it is, to be collected again.
 */
typedef ch_code (*transport_record_fn)(void *ud, const char *remote_name, const char *local_path,
                                       uint64_t size, const char sha256_hex[SHA256_HEX], ch_error *err);

/*
 * One collection pass: list the response location, download each file into
 * inbox_dir (same name; if that name holds other content already, the name
 * gets a UTC time stamp: "NAME.20250115T101500Z"), call record, then
 * transport_after_collect.  A failure on one file does not stop the others;
 * the first error is returned (err) and *collected (may be NULL) counts the
 * files recorded (CH_OK or CH_ERR_EXISTS from record).
 */
ch_code transport_collect(transport *t, const char *inbox_dir, transport_record_fn record, void *ud,
                          size_t *collected, ch_error *err);

/* ------------------------------------------------------- retry and recovery */

/*
 * Exponential backoff with full jitter: a delay in [0, min(max_ms,
 * base_ms * 2^(attempt-1))] chosen by rand (any 64-bit random number).
 * attempt counts from 1 (the delay before the first retry).
 */
long transport_retry_delay(unsigned attempt, long base_ms, long max_ms, uint64_t rand);

/* 1 when the last failure on t is transient (connection, timeout, HTTP 5xx,
 * 408, 429); 0 for refusals, 4xx, local and configuration problems. */
int transport_retryable(const transport *t);

/*
 * transport_put, up to `attempts` times while failures are retryable,
 * sleeping transport_retry_delay(i, base_ms, cfg retry_max_ms) in between.
 * Before each retry it checks whether the previous attempt got through after
 * all (transport_check_delivered): no batch is delivered twice.  err holds
 * the last failure, prefixed with the attempt count.
 */
ch_code transport_put_retry(transport *t, const char *local_path, const char *remote_name,
                            int attempts, long base_ms, ch_error *err);

/* The size transport_put sends for local_path (after gzip, which is
 * deterministic), to compare with what transport_exists finds. */
ch_code transport_sent_size(const transport_config *cfg, const char *local_path,
                            uint64_t *size, ch_error *err);

typedef enum transport_delivery {
    TRANSPORT_NOT_DELIVERED = 0, /* not there: safe to resend */
    TRANSPORT_DELIVERED,         /* there with the expected size: mark sent */
    TRANSPORT_DELIVERY_UNKNOWN   /* cannot tell (see the error): hold for an operator */
} transport_delivery;

/*
 * The crash check for a batch found in `sending`: is remote_name (the name
 * recorded when it entered sending) in the upload location with the size
 * transport_sent_size() gives for local_path?  A leftover temporary file is
 * removed (best effort).  A file there with another size, or a transport that
 * cannot check (HTTPS without exists_url), gives TRANSPORT_DELIVERY_UNKNOWN
 * with the reason in err and CH_OK.  A failure to reach the server is an
 * error (retry the check later; never resend blind).
 *
 * Limit: if the payer picks files up (removes them) at once, a batch that was
 * delivered in the instant before a crash looks "not delivered"; the ISA
 * control number then lets the payer reject the duplicate.
 */
ch_code transport_check_delivered(transport *t, const char *local_path, const char *remote_name,
                                  transport_delivery *out, ch_error *err);

/* Number of network connections made so far (0 for dir): shows reuse. */
long transport_connections(const transport *t);

/* ------------------------------------------------------------------- gzip */

/* Deterministic gzip (no name, mtime 0) of src into dst (created 0600). */
ch_code transport_gzip_file(const char *src, const char *dst, ch_error *err);
/* Inflate a gzip file (one or more members) into dst (created 0600). */
ch_code transport_gunzip_file(const char *src, const char *dst, ch_error *err);

#endif
