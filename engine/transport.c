/*
 * transport.c - the uniform transport API: configuration from YAML, dispatch
 * to the three kinds, and what they share (error messages, curl options,
 * upload source, download sink, listings, secrets, retries).
 *
 * Configuration is read with a table of fields (key, type, where it goes),
 * like curl_easy_setopt's one-entry-per-option: adding a setting is one line
 * in a table and one in docs/transport.md.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libgen.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "transport_impl.h"

/* =========================================================== configuration */

void transport_config_init(transport_config *cfg, const char *payer)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->payer, sizeof cfg->payer, "%s", payer ? payer : "?");
    snprintf(cfg->file_name, sizeof cfg->file_name, "{batch}.x12");
    snprintf(cfg->response_pattern, sizeof cfg->response_pattern, "*");
    snprintf(cfg->temp_prefix, sizeof cfg->temp_prefix, ".");
    snprintf(cfg->temp_suffix, sizeof cfg->temp_suffix, ".part");
    cfg->connect_timeout_s = 15;
    cfg->stall_timeout_s = 60;
    cfg->stall_bytes_per_s = 1;
    cfg->timeout_s = 0;
    cfg->retry_attempts = 5;
    cfg->retry_base_ms = 2000;
    cfg->retry_max_ms = 300000;
    cfg->after_collect = TRANSPORT_AFTER_KEEP;
    cfg->sftp.port = 22;
    snprintf(cfg->https.method, sizeof cfg->https.method, "PUT");
    snprintf(cfg->https.content_type, sizeof cfg->https.content_type, "application/octet-stream");
}

const char *transport_kind_name(transport_kind kind)
{
    switch (kind) {
    case TRANSPORT_DIR: return "dir";
    case TRANSPORT_SFTP: return "sftp";
    case TRANSPORT_HTTPS: return "https";
    default: return "none";
    }
}

int transport_name_ok(const char *name)
{
    if (!name || !name[0] || name[0] == '.')
        return 0;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++, n++) {
        if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\' || *p == '"')
            return 0;
    }
    return n <= TRANSPORT_NAME_MAX;
}

typedef enum ftype {
    FT_STR,    /* any single-line text */
    FT_STR0,   /* the same, may be empty */
    FT_PATH,   /* local file path */
    FT_RDIR,   /* absolute remote directory */
    FT_LDIR,   /* local directory */
    FT_URL,    /* https:// URL */
    FT_ENV,    /* environment variable name */
    FT_INT,    /* int or long, by size */
    FT_BOOL,
    FT_AFTER,  /* keep | remove | archive */
    FT_FORMAT, /* raw | core-multipart */
    FT_METHOD, /* PUT | POST */
    FT_B64,    /* SHA256 fingerprint */
    FT_PIN,    /* sha256//... */
    FT_SECTION /* sftp: https: dir: (handled by the caller) */
} ftype;

typedef struct fdef {
    const char *key;
    ftype type;
    size_t off, size;
    long lo, hi;
} fdef;

#define F(k, t, member) {k, t, offsetof(transport_config, member), sizeof(((transport_config *)0)->member), 0, 0}
#define FI(k, member, lo, hi) {k, FT_INT, offsetof(transport_config, member), sizeof(((transport_config *)0)->member), lo, hi}

static const fdef common_fields[] = {
    {"sftp", FT_SECTION, 0, 0, TRANSPORT_SFTP, 0},
    {"https", FT_SECTION, 0, 0, TRANSPORT_HTTPS, 0},
    {"dir", FT_SECTION, 0, 0, TRANSPORT_DIR, 0},
    F("gzip", FT_BOOL, gzip),
    F("file_name", FT_STR, file_name),
    F("response_pattern", FT_STR, response_pattern),
    F("temp_prefix", FT_STR0, temp_prefix),
    F("temp_suffix", FT_STR0, temp_suffix),
    FI("connect_timeout", connect_timeout_s, 1, 3600),
    FI("stall_timeout", stall_timeout_s, 1, 86400),
    FI("stall_bytes_per_second", stall_bytes_per_s, 1, 1L << 30),
    FI("timeout", timeout_s, 0, 7 * 86400),
    FI("retries", retry_attempts, 1, 100),
    FI("retry_base_ms", retry_base_ms, 1, 3600000),
    FI("retry_max_ms", retry_max_ms, 1, 86400000),
    F("after_collect", FT_AFTER, after_collect),
    {NULL, FT_STR, 0, 0, 0, 0},
};

static const fdef sftp_fields[] = {
    F("host", FT_STR, sftp.host),
    FI("port", sftp.port, 1, 65535),
    F("user", FT_STR, sftp.user),
    F("private_key_file", FT_PATH, sftp.private_key_file),
    F("public_key_file", FT_PATH, sftp.public_key_file),
    F("passphrase_file", FT_PATH, sftp.passphrase.file),
    F("passphrase_env", FT_ENV, sftp.passphrase.env),
    F("host_key_sha256", FT_B64, sftp.host_key_sha256),
    F("known_hosts", FT_PATH, sftp.known_hosts),
    F("upload_dir", FT_RDIR, sftp.upload_dir),
    F("response_dir", FT_RDIR, sftp.response_dir),
    F("archive_dir", FT_RDIR, sftp.archive_dir),
    {NULL, FT_STR, 0, 0, 0, 0},
};

static const fdef https_fields[] = {
    F("upload_url", FT_URL, https.upload_url),
    F("method", FT_METHOD, https.method),
    F("upload_format", FT_FORMAT, https.upload_format),
    F("content_type", FT_STR, https.content_type),
    F("ca_file", FT_PATH, https.ca_file),
    F("ca_system", FT_BOOL, https.ca_system),
    F("pinned_public_key", FT_PIN, https.pinned_public_key),
    F("client_cert", FT_PATH, https.client_cert),
    F("client_key", FT_PATH, https.client_key),
    F("client_key_passphrase_file", FT_PATH, https.client_key_passphrase.file),
    F("client_key_passphrase_env", FT_ENV, https.client_key_passphrase.env),
    F("token_file", FT_PATH, https.token.file),
    F("token_env", FT_ENV, https.token.env),
    F("list_url", FT_URL, https.list_url),
    F("fetch_url", FT_URL, https.fetch_url),
    F("delete_url", FT_URL, https.delete_url),
    F("archive_url", FT_URL, https.archive_url),
    F("exists_url", FT_URL, https.exists_url),
    F("sender_id", FT_STR, https.sender_id),
    F("receiver_id", FT_STR, https.receiver_id),
    {NULL, FT_STR, 0, 0, 0, 0},
};

static const fdef dir_fields[] = {
    F("upload_dir", FT_LDIR, dir.upload_dir),
    F("response_dir", FT_LDIR, dir.response_dir),
    F("archive_dir", FT_LDIR, dir.archive_dir),
    {NULL, FT_STR, 0, 0, 0, 0},
};

typedef struct pctx {
    yaml_document_t *doc;
    transport_config *cfg;
    ch_error *err;
} pctx;

static unsigned long line_of(const yaml_node_t *n) { return (unsigned long)n->start_mark.line + 1; }

static ch_code perr(pctx *c, const char *where, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static ch_code perr(pctx *c, const char *where, const yaml_node_t *n, const char *fmt, ...)
{
    char detail[CH_ERROR_MSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (n)
        return ch_error_set(c->err, CH_ERR_CONFIG, "payer %s: %s (line %lu): %s", c->cfg->payer,
                            where, line_of(n), detail);
    return ch_error_set(c->err, CH_ERR_CONFIG, "payer %s: %s: %s", c->cfg->payer, where, detail);
}

static int has_word(const char *key, const char *w) { return strstr(key, w) != NULL; }

/* A key that names a secret written inline (not a *_file / *_env reference). */
static int secret_like(const char *key)
{
    size_t n = strlen(key);
    if ((n > 5 && !strcmp(key + n - 5, "_file")) || (n > 4 && !strcmp(key + n - 4, "_env")))
        return 0;
    return has_word(key, "pass") || has_word(key, "token") || has_word(key, "secret") ||
           has_word(key, "apikey") || has_word(key, "api_key") || has_word(key, "credential") ||
           has_word(key, "bearer") || has_word(key, "authorization") || !strcmp(key, "private_key") ||
           !strcmp(key, "key");
}

static int verify_off_like(const char *key)
{
    return has_word(key, "verify") || has_word(key, "insecure") || has_word(key, "strict") ||
           has_word(key, "check_host") || has_word(key, "no_check");
}

static int env_name_ok(const char *s)
{
    if (!(isupper((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (; *s; s++)
        if (!(isupper((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

static int url_ok(const char *u, char *why, size_t whysz)
{
    if (strncmp(u, "https://", 8) != 0) {
        snprintf(why, whysz, "must be an https:// URL");
        return 0;
    }
    const char *host = u + 8;
    size_t hl = strcspn(host, "/?#");
    if (hl == 0) {
        snprintf(why, whysz, "has no host");
        return 0;
    }
    if (memchr(host, '@', hl)) {
        snprintf(why, whysz, "must not carry credentials (user:password@); use token_file or token_env");
        return 0;
    }
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            snprintf(why, whysz, "holds a space or control character");
            return 0;
        }
    return 1;
}

static ch_code set_field(pctx *c, const fdef *f, const char *where, yaml_node_t *v)
{
    if (v->type != YAML_SCALAR_NODE)
        return perr(c, where, v, "must be a single value, not a %s",
                    v->type == YAML_MAPPING_NODE ? "mapping" : "list");
    const char *s = (const char *)v->data.scalar.value;
    size_t len = v->data.scalar.length;
    if (strlen(s) != len)
        return perr(c, where, v, "holds a NUL byte");
    if (strstr(s, "-----BEGIN"))
        return perr(c, where, v, "looks like key material; profiles name key files, they never hold keys");
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20)
            return perr(c, where, v, "holds a line break or control character");
    char *dst = (char *)c->cfg + f->off;
    char why[160];

    switch (f->type) {
    case FT_INT: {
        char *end;
        errno = 0;
        long x = strtol(s, &end, 10);
        if (!len || *end || errno)
            return perr(c, where, v, "must be a whole number");
        if (x < f->lo || x > f->hi)
            return perr(c, where, v, "must be between %ld and %ld", f->lo, f->hi);
        if (f->size == sizeof(int))
            *(int *)dst = (int)x;
        else
            *(long *)dst = x;
        return CH_OK;
    }
    case FT_BOOL: {
        int b;
        if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
            b = 1;
        else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
            b = 0;
        else
            return perr(c, where, v, "must be true or false");
        *(int *)dst = b;
        return CH_OK;
    }
    case FT_AFTER: {
        transport_after a;
        if (!strcmp(s, "keep"))
            a = TRANSPORT_AFTER_KEEP;
        else if (!strcmp(s, "remove"))
            a = TRANSPORT_AFTER_REMOVE;
        else if (!strcmp(s, "archive"))
            a = TRANSPORT_AFTER_ARCHIVE;
        else
            return perr(c, where, v, "must be keep, remove or archive");
        *(transport_after *)dst = a;
        return CH_OK;
    }
    case FT_FORMAT: {
        transport_upload_format fm;
        if (!strcmp(s, "raw"))
            fm = TRANSPORT_UPLOAD_RAW;
        else if (!strcmp(s, "core-multipart"))
            fm = TRANSPORT_UPLOAD_CORE_MULTIPART;
        else
            return perr(c, where, v, "must be raw or core-multipart");
        *(transport_upload_format *)dst = fm;
        return CH_OK;
    }
    default:
        break;
    }

    if (!len && f->type != FT_STR0)
        return perr(c, where, v, "is empty");
    if (len >= f->size)
        return perr(c, where, v, "is too long (at most %zu bytes)", f->size - 1);
    switch (f->type) {
    case FT_METHOD:
        if (strcmp(s, "PUT") && strcmp(s, "POST"))
            return perr(c, where, v, "must be PUT or POST");
        break;
    case FT_ENV:
        if (!env_name_ok(s))
            return perr(c, where, v, "must be an environment variable name (A-Z, 0-9, _)");
        break;
    case FT_RDIR:
        if (s[0] != '/')
            return perr(c, where, v, "must be an absolute remote path (starting with /)");
        if (strchr(s, '"') || strchr(s, '\\'))
            return perr(c, where, v, "must not hold \" or \\");
        break;
    case FT_URL:
        if (!url_ok(s, why, sizeof why))
            return perr(c, where, v, "%s", why);
        break;
    case FT_B64: {
        const char *b = !strncmp(s, "SHA256:", 7) ? s + 7 : s;
        size_t bl = strlen(b);
        while (bl && b[bl - 1] == '=')
            bl--;
        if (bl != 43 || strspn(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") != 43)
            return perr(c, where, v, "must be a SHA256 host key fingerprint as ssh-keygen -lf prints it "
                                     "(43 base64 characters, with or without the SHA256: prefix)");
        memcpy(dst, b, bl);
        dst[bl] = '\0';
        return CH_OK;
    }
    case FT_PIN:
        if (strncmp(s, "sha256//", 8) != 0)
            return perr(c, where, v, "must be sha256//BASE64 (several separated by ;)");
        break;
    default:
        break;
    }
    memcpy(dst, s, len + 1);
    return CH_OK;
}

static ch_code parse_map(pctx *c, const char *section, yaml_node_t *map, const fdef *fields,
                         int *kind_seen, yaml_node_t **kind_node)
{
    if (map->type != YAML_MAPPING_NODE)
        return perr(c, section, map, "must be a mapping of settings");
    unsigned char seen[64] = {0};
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, pr->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE)
            return perr(c, section, map, "keys must be plain words");
        const char *key = (const char *)k->data.scalar.value;
        char where[160];
        snprintf(where, sizeof where, "%s.%s", section, key);
        int i;
        for (i = 0; fields[i].key; i++)
            if (!strcmp(fields[i].key, key))
                break;
        if (!fields[i].key) {
            if (secret_like(key)) {
                char alt[128] = "";
                for (int j = 0; fields[j].key; j++) {
                    size_t kl = strlen(key);
                    if (!strncmp(fields[j].key, key, kl) && !strcmp(fields[j].key + kl, "_file"))
                        snprintf(alt, sizeof alt, "; use %s_file or %s_env", key, key);
                }
                return perr(c, where, k, "secrets are never written in a profile%s "
                                          "(a file or an environment variable holds the value)",
                            alt[0] ? alt : "; name a file or an environment variable instead");
            }
            if (verify_off_like(key))
                return perr(c, where, k, "%s verification cannot be turned off",
                            !strcmp(section, "transport.sftp") ? "host key" : "TLS");
            return perr(c, where, k, "unknown setting");
        }
        if (seen[i])
            return perr(c, where, k, "given twice");
        seen[i] = 1;
        if (fields[i].type == FT_SECTION) {
            if (*kind_seen)
                return perr(c, where, k, "a transport has one kind: %s is given already",
                            transport_kind_name((transport_kind)*kind_seen));
            *kind_seen = (int)fields[i].lo;
            *kind_node = v;
            continue;
        }
        ch_code rc = set_field(c, &fields[i], where, v);
        if (rc)
            return rc;
    }
    return CH_OK;
}

static int has_name_slot(const char *url)
{
    size_t n = strlen(url);
    return strstr(url, "{name}") || (n && url[n - 1] == '/');
}

static ch_code validate(pctx *c, yaml_node_t *node)
{
    transport_config *cfg = c->cfg;
    const char *w = "transport";
    char buf[64];

    if (!strstr(cfg->file_name, "{batch}"))
        return perr(c, "transport.file_name", node,
                    "must contain {batch} so that each batch has its own remote name");
    if (!cfg->temp_prefix[0] && !cfg->temp_suffix[0])
        return perr(c, "transport", node, "temp_prefix and temp_suffix cannot both be empty "
                                          "(the payer would see half-written files)");
    if (strchr(cfg->temp_prefix, '/') || strchr(cfg->temp_suffix, '/') ||
        strchr(cfg->temp_prefix, '"') || strchr(cfg->temp_suffix, '"'))
        return perr(c, "transport", node, "temp_prefix and temp_suffix must not hold / or \"");
    if (cfg->retry_max_ms < cfg->retry_base_ms)
        return perr(c, "transport", node, "retry_max_ms is smaller than retry_base_ms");

    switch (cfg->kind) {
    case TRANSPORT_SFTP: {
        transport_sftp_config *s = &cfg->sftp;
        w = "transport.sftp";
        if (!s->host[0] || !s->user[0] || !s->private_key_file[0])
            return perr(c, w, node, "host, user and private_key_file are required");
        if (!s->host_key_sha256[0] && !s->known_hosts[0])
            return perr(c, w, node, "no pinned host key: set host_key_sha256 or known_hosts "
                                    "(the engine refuses to talk to an unverified server)");
        if (s->passphrase.file[0] && s->passphrase.env[0])
            return perr(c, w, node, "give passphrase_file or passphrase_env, not both");
        if (!s->upload_dir[0] && !s->response_dir[0])
            return perr(c, w, node, "needs upload_dir, response_dir or both");
        if (cfg->after_collect == TRANSPORT_AFTER_ARCHIVE && !s->archive_dir[0])
            return perr(c, w, node, "after_collect: archive needs archive_dir");
        break;
    }
    case TRANSPORT_HTTPS: {
        transport_https_config *h = &cfg->https;
        w = "transport.https";
        if (!h->upload_url[0] && !h->list_url[0])
            return perr(c, w, node, "needs upload_url, list_url or both");
        if (!h->ca_file[0] && !h->ca_system && !h->pinned_public_key[0])
            return perr(c, w, node, "no way to verify the server: set ca_file, ca_system: true "
                                    "or pinned_public_key (TLS verification cannot be turned off)");
        if (!h->client_cert[0] != !h->client_key[0])
            return perr(c, w, node, "client_cert and client_key go together");
        if (h->client_key_passphrase.file[0] && h->client_key_passphrase.env[0])
            return perr(c, w, node, "give client_key_passphrase_file or _env, not both");
        if (h->token.file[0] && h->token.env[0])
            return perr(c, w, node, "give token_file or token_env, not both");
        if (h->list_url[0] && !h->fetch_url[0] && !has_name_slot(h->list_url))
            return perr(c, w, node, "list_url does not end with /: set fetch_url with {name}");
        const struct { const char *k; const char *u; } named[] = {
            {"fetch_url", h->fetch_url}, {"delete_url", h->delete_url},
            {"archive_url", h->archive_url}, {"exists_url", h->exists_url}};
        for (size_t i = 0; i < sizeof named / sizeof *named; i++)
            if (named[i].u[0] && !has_name_slot(named[i].u)) {
                snprintf(buf, sizeof buf, "transport.https.%s", named[i].k);
                return perr(c, buf, node, "must contain {name} or end with /");
            }
        if (cfg->after_collect == TRANSPORT_AFTER_ARCHIVE && !h->archive_url[0])
            return perr(c, w, node, "after_collect: archive needs archive_url");
        if (h->upload_format == TRANSPORT_UPLOAD_CORE_MULTIPART) {
            if (strcmp(h->method, "POST") != 0)
                return perr(c, w, node, "upload_format: core-multipart needs method: POST");
            if (!h->sender_id[0] || !h->receiver_id[0])
                return perr(c, w, node, "upload_format: core-multipart needs sender_id and receiver_id");
        }
        break;
    }
    case TRANSPORT_DIR: {
        transport_dir_config *d = &cfg->dir;
        w = "transport.dir";
        if (!d->upload_dir[0] && !d->response_dir[0])
            return perr(c, w, node, "needs upload_dir, response_dir or both");
        if (cfg->after_collect == TRANSPORT_AFTER_ARCHIVE && !d->archive_dir[0])
            return perr(c, w, node, "after_collect: archive needs archive_dir");
        break;
    }
    default:
        return perr(c, "transport", node, "needs one of sftp:, https: or dir:");
    }
    (void)w;
    return CH_OK;
}

static int payer_ok(const char *p)
{
    if (!p || !*p || strlen(p) >= 64 || *p == '.')
        return 0;
    for (; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.'))
            return 0;
    return 1;
}

ch_code transport_config_parse(yaml_document_t *doc, yaml_node_t *node, const char *payer,
                               transport_config *out, ch_error *err)
{
    transport_config_init(out, payer);
    if (!payer_ok(payer))
        return ch_error_set(err, CH_ERR_CONFIG, "transport: payer name must be 1-63 of A-Z a-z 0-9 . - _");
    pctx c = {doc, out, err};
    if (!node)
        return perr(&c, "transport", NULL, "missing");
    int kind = 0;
    yaml_node_t *kn = NULL;
    ch_code rc = parse_map(&c, "transport", node, common_fields, &kind, &kn);
    if (rc)
        return rc;
    out->kind = (transport_kind)kind;
    if (kn) {
        const fdef *fields = kind == TRANSPORT_SFTP ? sftp_fields
                             : kind == TRANSPORT_HTTPS ? https_fields : dir_fields;
        char sec[32];
        snprintf(sec, sizeof sec, "transport.%s", transport_kind_name(out->kind));
        int dummy = 0;
        yaml_node_t *dn = NULL;
        if ((rc = parse_map(&c, sec, kn, fields, &dummy, &dn)))
            return rc;
    }
    return validate(&c, kn ? kn : node);
}

ch_code transport_config_parse_text(const char *text, size_t len, const char *payer,
                                    transport_config *out, ch_error *err)
{
    transport_config_init(out, payer);
    yaml_parser_t p;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&p))
        return ch_error_set(err, CH_ERR_NOMEM, "transport: cannot start the YAML parser");
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &doc)) {
        ch_code rc = ch_error_set(err, CH_ERR_SYNTAX, "payer %s: profile YAML line %lu: %s",
                                  out->payer, (unsigned long)p.problem_mark.line + 1,
                                  p.problem ? p.problem : "unreadable");
        yaml_parser_delete(&p);
        return rc;
    }
    yaml_parser_delete(&p);
    ch_code rc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    yaml_node_t *tn = NULL;
    if (root && root->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
            yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
            if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, "transport"))
                tn = yaml_document_get_node(&doc, pr->value);
        }
    }
    if (!tn)
        rc = ch_error_set(err, CH_ERR_CONFIG, "payer %s: profile has no transport: section", out->payer);
    else
        rc = transport_config_parse(&doc, tn, payer, out, err);
    yaml_document_delete(&doc);
    return rc;
}

ch_code transport_remote_name(const transport_config *cfg, const char *batch_id, time_t when,
                              char *out, size_t outsz, ch_error *err)
{
    struct tm tm;
    gmtime_r(&when, &tm);
    char date[16], tod[16];
    strftime(date, sizeof date, "%Y%m%d", &tm);
    strftime(tod, sizeof tod, "%H%M%S", &tm);
    size_t o = 0;
    const char *p = cfg->file_name;
    while (*p) {
        const char *sub = NULL;
        size_t skip = 1;
        if (*p == '{') {
            if (!strncmp(p, "{batch}", 7))
                sub = batch_id, skip = 7;
            else if (!strncmp(p, "{payer}", 7))
                sub = cfg->payer, skip = 7;
            else if (!strncmp(p, "{date}", 6))
                sub = date, skip = 6;
            else if (!strncmp(p, "{time}", 6))
                sub = tod, skip = 6;
            else
                return ch_error_set(err, CH_ERR_CONFIG, "payer %s: file_name: unknown placeholder at \"%.20s\"",
                                    cfg->payer, p);
        }
        size_t n = sub ? strlen(sub) : 1;
        if (o + n >= outsz)
            return ch_error_set(err, CH_ERR_LIMIT, "payer %s: file_name: the name is too long", cfg->payer);
        memcpy(out + o, sub ? sub : p, n);
        o += n;
        p += skip;
    }
    out[o] = '\0';
    if (!transport_name_ok(out))
        return ch_error_set(err, CH_ERR_INVALID, "payer %s: file_name gives an unusable file name for batch %s",
                            cfg->payer, batch_id);
    return CH_OK;
}

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

/* ============================================================== file helpers */

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int rename_noreplace(const char *from, const char *to)
{
#ifdef SYS_renameat2
    if (syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 1 /* RENAME_NOREPLACE */) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
#endif
    /* Filesystems without RENAME_NOREPLACE: link() never replaces either. */
    if (link(from, to) == 0) {
        unlink(from);
        return 0;
    }
    if (errno == EEXIST)
        return -1;
    /* No hard links either (some network mounts): check, then rename. */
    struct stat st;
    if (lstat(to, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(from, to);
}

int fsync_dir(const char *path, int is_dir)
{
    char buf[TRANSPORT_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    const char *d = is_dir ? buf : dirname(buf);
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    /* Some filesystems cannot fsync a directory; that is not an error. */
    if (r < 0 && (errno == EINVAL || errno == EBADF || errno == ENOTSUP))
        r = 0;
    close(fd);
    return r;
}

ch_code sha256_file(const char *path, char hex[SHA256_HEX], uint64_t *size, ch_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    sha256_ctx c;
    sha256_init(&c);
    unsigned char buf[65536];
    uint64_t total = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        sha256_update(&c, buf, (size_t)r);
        total += (uint64_t)r;
    }
    close(fd);
    uint8_t d[SHA256_DIGEST];
    sha256_final(&c, d);
    sha256_hex(d, hex);
    if (size)
        *size = total;
    return CH_OK;
}

/* An unlinked temporary file beside `near` (so payload data stays on the
 * spool's filesystem), or in $TMPDIR. */
static int anon_tmpfile(const char *near)
{
    char dir[TRANSPORT_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", near);
    const char *d = dirname(dir);
    int fd = open(d, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    const char *td = getenv("TMPDIR");
    char tmpl[TRANSPORT_PATH_MAX];
    snprintf(tmpl, sizeof tmpl, "%s/.ch-gzip-XXXXXX", td && *td ? td : "/tmp");
    fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd >= 0)
        unlink(tmpl);
    return fd;
}

ch_code tsource_open(transport *t, const char *local_path, const char *remote_name, tsource *s,
                     ch_error *err)
{
    s->fd = -1;
    s->size = 0;
    int fd = open(local_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tfail(t, err, CH_ERR_IO, 0, "put", remote_name, "%s: %s", local_path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return tfail(t, err, CH_ERR_IO, 0, "put", remote_name, "%s: not a regular file", local_path);
    }
    if (!t->cfg.gzip) {
        s->fd = fd;
        s->size = (uint64_t)st.st_size;
        return CH_OK;
    }
    int z = anon_tmpfile(local_path);
    if (z < 0) {
        close(fd);
        return tfail(t, err, CH_ERR_IO, 0, "put", remote_name, "temporary file for gzip: %s",
                     strerror(errno));
    }
    ch_error e;
    ch_error_clear(&e);
    ch_code rc = tgz_compress_fd(fd, z, &s->size, &e);
    close(fd);
    if (rc == CH_OK && lseek(z, 0, SEEK_SET) < 0)
        rc = ch_error_set(&e, CH_ERR_IO, "gzip: seek: %s", strerror(errno));
    if (rc) {
        close(z);
        return tfail(t, err, rc, 0, "put", remote_name, "%s: %s", local_path, e.msg);
    }
    s->fd = z;
    return CH_OK;
}

void tsource_close(tsource *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

size_t tsource_curl_read(char *buf, size_t size, size_t nmemb, void *ud)
{
    tsource *s = ud;
    for (;;) {
        ssize_t r = read(s->fd, buf, size * nmemb);
        if (r >= 0)
            return (size_t)r;
        if (errno != EINTR)
            return CURL_READFUNC_ABORT;
    }
}

ch_code transport_sent_size(const transport_config *cfg, const char *local_path, uint64_t *size,
                            ch_error *err)
{
    transport t;
    memset(&t, 0, sizeof t);
    t.cfg = *cfg;
    tsource s;
    ch_code rc = tsource_open(&t, local_path, "size", &s, err);
    if (rc == CH_OK) {
        *size = s.size;
        tsource_close(&s);
    }
    return rc;
}

/* ----------------------------------------------------------- download sink */

ch_code tsink_open(transport *t, tsink *s, const char *remote_name, const char *local_dir,
                   const char *final_name, ch_error *err)
{
    memset(s, 0, sizeof *s);
    s->t = t;
    s->remote_name = remote_name;
    s->fd = -1;
    s->want_gunzip = t->cfg.gzip;
    if (!transport_name_ok(final_name))
        return tfail(t, err, CH_ERR_USAGE, 0, "get", remote_name, "unusable local file name");
    struct stat st;
    if (stat(local_dir, &st) < 0)
        return tfail(t, err, CH_ERR_IO, 0, "get", remote_name, "%s: %s", local_dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return tfail(t, err, CH_ERR_IO, 0, "get", remote_name, "%s: not a directory", local_dir);
    if ((size_t)snprintf(s->dir, sizeof s->dir, "%s", local_dir) >= sizeof s->dir ||
        (size_t)snprintf(s->final, sizeof s->final, "%s/%s", local_dir, final_name) >= sizeof s->final ||
        (size_t)snprintf(s->tmp, sizeof s->tmp, "%s/.%s.XXXXXX", local_dir, final_name) >= sizeof s->tmp)
        return tfail(t, err, CH_ERR_LIMIT, 0, "get", remote_name, "local path too long");
    s->fd = mkostemp(s->tmp, O_CLOEXEC);
    if (s->fd < 0)
        return tfail(t, err, CH_ERR_IO, 0, "get", remote_name, "%s: %s", local_dir, strerror(errno));
    sha256_init(&s->sha);
    return CH_OK;
}

static int sink_store(void *ud, const void *p, size_t n)
{
    tsink *s = ud;
    if (write_all(s->fd, p, n) < 0) {
        ch_error_set(&s->err, CH_ERR_IO, "%s: %s", s->tmp, strerror(errno));
        return -1;
    }
    sha256_update(&s->sha, p, n);
    s->size += n;
    return 0;
}

static int sink_pass(tsink *s, const void *p, size_t n)
{
    if (!s->gz)
        return sink_store(s, p, n);
    if (tgz_inflate(s->gz, p, n, sink_store, s, &s->err) != CH_OK) {
        if (s->err.code == CH_OK)
            ch_error_set(&s->err, CH_ERR_IO, "gunzip failed");
        return -1;
    }
    return 0;
}

/* Decide raw or gzip from the first two bytes, then pass what was held back. */
static int sink_decide(tsink *s)
{
    s->decided = 1;
    if (tgz_is_gzip(s->head, s->nhead) && tgz_inflater_new(&s->gz, &s->err) != CH_OK)
        return -1;
    return s->nhead ? sink_pass(s, s->head, s->nhead) : 0;
}

int tsink_write(tsink *s, const void *p, size_t n)
{
    if (s->failed)
        return -1;
    const unsigned char *c = p;
    s->received += n;
    if (!s->decided) {
        if (!s->want_gunzip) {
            s->decided = 1;
        } else {
            while (n && s->nhead < 2) {
                s->head[s->nhead++] = *c++;
                n--;
            }
            if (s->nhead < 2)
                return 0;
            if (sink_decide(s) < 0) {
                s->failed = 1;
                return -1;
            }
        }
    }
    if (n && sink_pass(s, c, n) < 0) {
        s->failed = 1;
        return -1;
    }
    return 0;
}

size_t tsink_curl_write(char *p, size_t size, size_t nmemb, void *ud)
{
    return tsink_write(ud, p, size * nmemb) < 0 ? 0 : size * nmemb;
}

void tsink_abort(tsink *s)
{
    if (s->fd >= 0) {
        close(s->fd);
        unlink(s->tmp);
    }
    s->fd = -1;
    tgz_inflater_free(s->gz);
    s->gz = NULL;
}

ch_code tsink_commit(tsink *s, char hex[SHA256_HEX], uint64_t *size, ch_error *err)
{
    transport *t = s->t;
    const char *rn = s->remote_name;
    ch_code rc = CH_OK;
    if (s->failed) {
        rc = tfail(t, err, s->err.code ? s->err.code : CH_ERR_IO, 0, "get", rn, "%s", s->err.msg);
        goto fail;
    }
    if (!s->decided && sink_decide(s) < 0) {
        rc = tfail(t, err, CH_ERR_IO, 0, "get", rn, "%s", s->err.msg);
        goto fail;
    }
    if (s->gz && tgz_inflate_end(s->gz, &s->err) != CH_OK) {
        rc = tfail(t, err, CH_ERR_INVALID, 0, "get", rn, "%s", s->err.msg);
        goto fail;
    }
    if (fsync(s->fd) < 0 || fchmod(s->fd, 0600) < 0) {
        rc = tfail(t, err, CH_ERR_IO, 0, "get", rn, "%s: %s", s->tmp, strerror(errno));
        goto fail;
    }
    int fd = s->fd;
    s->fd = -1;
    if (close(fd) < 0) {
        rc = tfail(t, err, CH_ERR_IO, 0, "get", rn, "%s: %s", s->tmp, strerror(errno));
        unlink(s->tmp);
        goto fail;
    }
    uint8_t d[SHA256_DIGEST];
    sha256_final(&s->sha, d);
    sha256_hex(d, hex);
    if (size)
        *size = s->size;
    if (rename_noreplace(s->tmp, s->final) < 0) {
        int e = errno;
        if (e == EEXIST) {
            char old[SHA256_HEX];
            uint64_t oldsize = 0;
            ch_error e2;
            if (sha256_file(s->final, old, &oldsize, &e2) == CH_OK && !strcmp(old, hex)) {
                unlink(s->tmp); /* seen twice, same content: keep one */
                tgz_inflater_free(s->gz);
                s->gz = NULL;
                return CH_OK;
            }
            unlink(s->tmp);
            rc = tfail(t, err, CH_ERR_EXISTS, 0, "get", rn,
                       "%s exists already with other content; not replaced", s->final);
            goto fail;
        }
        unlink(s->tmp);
        rc = tfail(t, err, CH_ERR_IO, 0, "get", rn, "rename to %s: %s", s->final, strerror(e));
        goto fail;
    }
    if (fsync_dir(s->dir, 1) < 0) {
        rc = tfail(t, err, CH_ERR_IO, 0, "get", rn, "fsync %s: %s", s->dir, strerror(errno));
        goto fail;
    }
    tgz_inflater_free(s->gz);
    s->gz = NULL;
    return CH_OK;
fail:
    tsink_abort(s);
    return rc;
}

/* ================================================================ listings */

int tnames_push(char ***names, size_t *n, size_t *cap, const char *name, size_t len)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        char **nn = realloc(*names, nc * sizeof *nn);
        if (!nn)
            return -1;
        *names = nn;
        *cap = nc;
    }
    char *s = malloc(len + 1);
    if (!s)
        return -1;
    memcpy(s, name, len);
    s[len] = '\0';
    (*names)[(*n)++] = s;
    return 0;
}

void transport_names_free(char **names, size_t n)
{
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static const char *scalar_of(yaml_document_t *d, yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key), *v = yaml_document_get_node(d, p->value);
        if (k && v && k->type == YAML_SCALAR_NODE && v->type == YAML_SCALAR_NODE &&
            !strcmp((const char *)k->data.scalar.value, key))
            return (const char *)v->data.scalar.value;
    }
    return NULL;
}

ch_code tlist_parse_body(const char *body, size_t len, char ***names, size_t *n, ch_error *err)
{
    *names = NULL;
    *n = 0;
    size_t cap = 0, i = 0;
    while (i < len && isspace((unsigned char)body[i]))
        i++;
    if (i < len && body[i] == '[') {
        /* JSON is (nearly) YAML flow syntax: libyaml reads nginx's autoindex. */
        yaml_parser_t p;
        yaml_document_t doc;
        if (!yaml_parser_initialize(&p))
            return ch_error_set(err, CH_ERR_NOMEM, "listing: out of memory");
        yaml_parser_set_input_string(&p, (const unsigned char *)body, len);
        if (!yaml_parser_load(&p, &doc)) {
            ch_code rc = ch_error_set(err, CH_ERR_SYNTAX, "listing is not a readable JSON array (line %lu: %s)",
                                      (unsigned long)p.problem_mark.line + 1,
                                      p.problem ? p.problem : "?");
            yaml_parser_delete(&p);
            return rc;
        }
        yaml_parser_delete(&p);
        ch_code rc = CH_OK;
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root || root->type != YAML_SEQUENCE_NODE) {
            rc = ch_error_set(err, CH_ERR_SYNTAX, "listing is not a JSON array");
        } else {
            for (yaml_node_item_t *it = root->data.sequence.items.start;
                 it < root->data.sequence.items.top && rc == CH_OK; it++) {
                yaml_node_t *e = yaml_document_get_node(&doc, *it);
                const char *nm = NULL;
                if (e && e->type == YAML_SCALAR_NODE)
                    nm = (const char *)e->data.scalar.value;
                else if (e && e->type == YAML_MAPPING_NODE) {
                    const char *type = scalar_of(&doc, e, "type");
                    if (type && strcmp(type, "file") != 0)
                        continue;
                    nm = scalar_of(&doc, e, "name");
                }
                if (nm && tnames_push(names, n, &cap, nm, strlen(nm)) < 0)
                    rc = ch_error_set(err, CH_ERR_NOMEM, "listing: out of memory");
            }
        }
        yaml_document_delete(&doc);
        if (rc) {
            transport_names_free(*names, *n);
            *names = NULL;
            *n = 0;
        }
        return rc;
    }
    /* One name per line. */
    while (i < len) {
        size_t j = i;
        while (j < len && body[j] != '\n')
            j++;
        size_t e = j;
        while (e > i && (body[e - 1] == '\r' || body[e - 1] == ' ' || body[e - 1] == '\t'))
            e--;
        if (e > i && tnames_push(names, n, &cap, body + i, e - i) < 0) {
            transport_names_free(*names, *n);
            *names = NULL;
            *n = 0;
            return ch_error_set(err, CH_ERR_NOMEM, "listing: out of memory");
        }
        i = j + 1;
    }
    return CH_OK;
}

ch_code tlist_parse_long(const char *body, size_t len, char ***names, uint64_t **sizes, size_t *n,
                         ch_error *err)
{
    *names = NULL;
    *n = 0;
    if (sizes)
        *sizes = NULL;
    size_t cap = 0, scap = 0;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && body[j] != '\n')
            j++;
        size_t e = j;
        if (e > i && body[e - 1] == '\r')
            e--;
        /* "-rw-r--r--    1 user group   123 Jan 01 12:00 name": 8 fields, then the name. */
        if (e > i && body[i] == '-') {
            size_t k = i;
            uint64_t sz = 0;
            int f, ok = 1;
            for (f = 0; f < 8 && ok; f++) {
                size_t fs = k;
                while (k < e && body[k] != ' ')
                    k++;
                if (f == 4) {
                    for (size_t q = fs; q < k; q++) {
                        if (!isdigit((unsigned char)body[q])) {
                            ok = 0;
                            break;
                        }
                        sz = sz * 10 + (uint64_t)(body[q] - '0');
                    }
                }
                while (k < e && body[k] == ' ')
                    k++;
                if (k >= e)
                    ok = 0;
            }
            if (ok) {
                if (tnames_push(names, n, &cap, body + k, e - k) < 0)
                    goto nomem;
                if (sizes) {
                    if (*n > scap) {
                        scap = cap;
                        uint64_t *ns = realloc(*sizes, scap * sizeof *ns);
                        if (!ns)
                            goto nomem;
                        *sizes = ns;
                    }
                    (*sizes)[*n - 1] = sz;
                }
            }
        }
        i = j + 1;
    }
    return CH_OK;
nomem:
    transport_names_free(*names, *n);
    *names = NULL;
    *n = 0;
    if (sizes) {
        free(*sizes);
        *sizes = NULL;
    }
    return ch_error_set(err, CH_ERR_NOMEM, "listing: out of memory");
}

size_t tbuf_curl_write(char *p, size_t size, size_t nmemb, void *ud)
{
    tbuf *b = ud;
    size_t n = size * nmemb, take = n;
    if (b->limit && b->len + take > b->limit) {
        take = b->limit > b->len ? b->limit - b->len : 0;
        b->truncated = 1;
    }
    if (take) {
        if (b->len + take + 1 > b->cap) {
            size_t nc = b->cap ? b->cap : 4096;
            while (nc < b->len + take + 1)
                nc *= 2;
            char *np = realloc(b->p, nc);
            if (!np)
                return 0;
            b->p = np;
            b->cap = nc;
        }
        memcpy(b->p + b->len, p, take);
        b->len += take;
        b->p[b->len] = '\0';
    }
    return n;
}

void tbuf_free(tbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void texcerpt(const transport *t, const char *body, size_t len, char *out, size_t outsz)
{
    size_t o = 0, max = outsz > 101 ? 100 : outsz - 1;
    int in_tag = 0, space = 1;
    for (size_t i = 0; i < len && o < max; i++) {
        unsigned char ch = (unsigned char)body[i];
        if (ch == '<') {
            in_tag = 1;
            continue;
        }
        if (in_tag) {
            if (ch == '>') {
                in_tag = 0;
                if (!space && o < max)
                    out[o++] = ' ', space = 1;
            }
            continue;
        }
        if (isspace(ch) || ch < 0x20 || ch >= 0x7f) {
            if (!space)
                out[o++] = ' ', space = 1;
            continue;
        }
        out[o++] = (char)ch;
        space = 0;
    }
    while (o && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    /* A server that echoes the request must not leak the token into logs. */
    if (t && t->token && t->token[0]) {
        size_t tl = strlen(t->token);
        for (char *p = out; (p = strstr(p, t->token)); p += tl)
            memset(p, '*', tl);
        /* and no piece of it that the cut-off left at the end */
        for (size_t k = tl > 8 ? tl - 1 : 0; k >= 8; k--) {
            if (o >= k && !memcmp(out + o - k, t->token, k)) {
                memset(out + o - k, '*', k);
                break;
            }
        }
    }
}

/* ================================================================= secrets */

ch_code tsecret_read(transport *t, const transport_secret *s, const char *what, char **out,
                     ch_error *err)
{
    *out = NULL;
    if (s->env[0]) {
        const char *v = getenv(s->env);
        if (!v || !*v)
            return tfail(t, err, CH_ERR_CONFIG, 0, "open", NULL, "%s: environment variable %s is not set",
                         what, s->env);
        if (!(*out = strdup(v)))
            return tfail(t, err, CH_ERR_NOMEM, 0, "open", NULL, "out of memory");
        return CH_OK;
    }
    if (!s->file[0])
        return CH_OK;
    int fd = open(s->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tfail(t, err, CH_ERR_CONFIG, 0, "open", NULL, "%s file %s: %s", what, s->file,
                     strerror(errno));
    char buf[4097];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            explicit_bzero(buf, sizeof buf);
            return tfail(t, err, CH_ERR_CONFIG, 0, "open", NULL, "%s file %s: %s", what, s->file,
                         strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == sizeof buf - 1) {
            close(fd);
            explicit_bzero(buf, sizeof buf);
            return tfail(t, err, CH_ERR_CONFIG, 0, "open", NULL, "%s file %s: longer than 4096 bytes",
                         what, s->file);
        }
    }
    close(fd);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    if (!n || memchr(buf, '\0', n)) {
        explicit_bzero(buf, sizeof buf);
        return tfail(t, err, CH_ERR_CONFIG, 0, "open", NULL, "%s file %s: empty or binary", what, s->file);
    }
    *out = strdup(buf);
    explicit_bzero(buf, sizeof buf);
    if (!*out)
        return tfail(t, err, CH_ERR_NOMEM, 0, "open", NULL, "out of memory");
    return CH_OK;
}

void tsecret_free(char **s)
{
    if (*s) {
        explicit_bzero(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

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
