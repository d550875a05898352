/*
 * transport_config.c - a payer's transport: section, read from YAML with a
 * table of fields (key, type, where it goes), like curl_easy_setopt's
 * one-entry-per-option: adding a setting is one line in a table and one in
 * docs/transport.md.  Refuses inline secrets and verification switched off.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

