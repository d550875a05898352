/* config.c - see config.h */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encounter_check.h"
#include "ydoc.h"

#define CONFIG_MAX_BYTES (4u << 20)

/* Names that hold a secret when they carry the value itself. */
static int secret_key(const char *k)
{
    static const char *const words[] = {"password", "passwd", "secret", "token", "api_key", "apikey",
                                        "private_key", "passphrase", "dsn", NULL};
    size_t n = strlen(k);
    if ((n > 5 && !strcmp(k + n - 5, "_file")) || (n > 4 && !strcmp(k + n - 4, "_env")))
        return 0;
    for (const char *const *w = words; *w; w++) {
        size_t wl = strlen(*w);
        if (n >= wl && !strcmp(k + n - wl, *w))
            return 1;
    }
    return 0;
}

/* Refuse secrets anywhere in the file before reading any setting. */
static ch_code no_secrets(const ydoc_node *n, const char *file, ch_error *err)
{
    if (!n)
        return CH_OK;
    if (n->kind == YDOC_MAP) {
        for (size_t i = 0; i < n->n; i++) {
            const ydoc_node *k = n->items[2 * i];
            if (secret_key(k->str))
                return ch_error_set(err, CH_ERR_CONFIG,
                                    "%s:%u: %s: secrets are not kept in the configuration; name a file "
                                    "(%s_file) or an environment variable (%s_env) that holds it",
                                    file, k->line, k->str, k->str, k->str);
            ch_code rc = no_secrets(n->items[2 * i + 1], file, err);
            if (rc != CH_OK)
                return rc;
        }
    } else if (n->kind == YDOC_SEQ) {
        for (size_t i = 0; i < n->n; i++) {
            ch_code rc = no_secrets(n->items[i], file, err);
            if (rc != CH_OK)
                return rc;
        }
    }
    return CH_OK;
}

static int id_ok(const char *s)
{
    if (!s[0] || s[0] == '.' || s[0] == '-')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return 0;
    return 1;
}

static ch_code load_address(enc_address *a, const ydoc_node *m, const char *file, const char *path, ch_error *err)
{
    static const char *const keys[] = {"line1", "line2", "city", "state", "zip", NULL};
    ch_code rc;
    if (!m)
        return ch_error_set(err, CH_ERR_CONFIG, "%s: %s: required", file, path);
    if ((rc = ydoc_only_keys(m, keys, file, path, err)) != CH_OK ||
        (rc = ydoc_str(m, "line1", a->line1, sizeof a->line1, 1, file, path, err)) != CH_OK ||
        (rc = ydoc_str(m, "line2", a->line2, sizeof a->line2, 0, file, path, err)) != CH_OK ||
        (rc = ydoc_str(m, "city", a->city, sizeof a->city, 1, file, path, err)) != CH_OK ||
        (rc = ydoc_str(m, "state", a->state, sizeof a->state, 1, file, path, err)) != CH_OK)
        return rc;
    char zip[16];
    if ((rc = ydoc_str(m, "zip", zip, sizeof zip, 1, file, path, err)) != CH_OK)
        return rc;
    size_t o = 0;
    for (size_t i = 0; zip[i] && o < sizeof a->zip - 1; i++)
        if (zip[i] != '-')
            a->zip[o++] = zip[i];
    a->zip[o] = '\0';
    if (!encounter_valid_state(a->state))
        return ydoc_error(err, ydoc_get(m, "state"), file, path, "state", "'%s' is not a US state code", a->state);
    if (!encounter_valid_zip(a->zip))
        return ydoc_error(err, ydoc_get(m, "zip"), file, path, "zip", "not a ZIP code (5 or 9 digits)");
    return CH_OK;
}

static ch_code load_link(config_payer_link *l, const config_practice *pr, const ydoc_node *key,
                         const ydoc_node *m, const char *file, const char *path, ch_error *err)
{
    static const char *const keys[] = {"submitter_id", "submitter_qualifier", "submitter_name", "contact", NULL};
    static const char *const ckeys[] = {"name", "phone", "email", NULL};
    ch_code rc;
    if (key->len >= sizeof l->payer || !id_ok(key->str))
        return ydoc_error(err, key, file, path, NULL, "'%s' is not a payer profile name (a-z, 0-9, - and _)",
                          key->str);
    snprintf(l->payer, sizeof l->payer, "%s", key->str);
    char p[128];
    snprintf(p, sizeof p, "%s.%s", path, l->payer);
    if (!m || m->kind != YDOC_MAP)
        return ydoc_error(err, m ? m : key, file, p, NULL, "expected the enrollment settings (a mapping)");
    if ((rc = ydoc_only_keys(m, keys, file, p, err)) != CH_OK ||
        (rc = ydoc_str(m, "submitter_id", l->submitter_id, sizeof l->submitter_id, 1, file, p, err)) != CH_OK ||
        (rc = ydoc_str(m, "submitter_qualifier", l->submitter_qual, sizeof l->submitter_qual, 0, file, p, err)) !=
            CH_OK ||
        (rc = ydoc_str(m, "submitter_name", l->submitter_name, sizeof l->submitter_name, 0, file, p, err)) != CH_OK)
        return rc;
    if (!l->submitter_qual[0])
        snprintf(l->submitter_qual, sizeof l->submitter_qual, "ZZ");
    if (!l->submitter_name[0])
        snprintf(l->submitter_name, sizeof l->submitter_name, "%s", pr->name);
    const ydoc_node *c = ydoc_get(m, "contact");
    char cp[160];
    snprintf(cp, sizeof cp, "%s.contact", p);
    if (!c)
        return ydoc_error(err, m, file, p, "contact", "required (name and phone or email)");
    if ((rc = ydoc_only_keys(c, ckeys, file, cp, err)) != CH_OK ||
        (rc = ydoc_str(c, "name", l->contact_name, sizeof l->contact_name, 0, file, cp, err)) != CH_OK ||
        (rc = ydoc_str(c, "phone", l->contact_phone, sizeof l->contact_phone, 0, file, cp, err)) != CH_OK ||
        (rc = ydoc_str(c, "email", l->contact_email, sizeof l->contact_email, 0, file, cp, err)) != CH_OK)
        return rc;
    if (!l->contact_phone[0] && !l->contact_email[0])
        return ydoc_error(err, c, file, cp, NULL, "a phone or an email is required");
    return CH_OK;
}

static ch_code load_practice(config_practice *pr, const ydoc_node *m, const char *file, const char *path,
                             ch_error *err)
{
    static const char *const keys[] = {"id", "name", "npi", "tax_id", "taxonomy", "claim_prefix", "address",
                                       "payers", NULL};
    ch_code rc;
    if (m->kind != YDOC_MAP)
        return ydoc_error(err, m, file, path, NULL, "expected a practice (a mapping)");
    char tax[16];
    if ((rc = ydoc_only_keys(m, keys, file, path, err)) != CH_OK ||
        (rc = ydoc_str(m, "id", pr->id, sizeof pr->id, 1, file, path, err)) != CH_OK ||
        (rc = ydoc_str(m, "name", pr->name, sizeof pr->name, 1, file, path, err)) != CH_OK ||
        (rc = ydoc_str(m, "npi", pr->npi, sizeof pr->npi, 1, file, path, err)) != CH_OK ||
        (rc = ydoc_str(m, "tax_id", tax, sizeof tax, 1, file, path, err)) != CH_OK ||
        (rc = ydoc_str(m, "taxonomy", pr->taxonomy, sizeof pr->taxonomy, 0, file, path, err)) != CH_OK ||
        (rc = ydoc_str(m, "claim_prefix", pr->claim_prefix, sizeof pr->claim_prefix, 1, file, path, err)) != CH_OK)
        return rc;
    if (!id_ok(pr->id))
        return ydoc_error(err, ydoc_get(m, "id"), file, path, "id",
                          "'%s' is not a practice id (lower-case letters, digits, - and _)", pr->id);
    if (!encounter_valid_npi(pr->npi))
        return ydoc_error(err, ydoc_get(m, "npi"), file, path, "npi", "'%s' is not an NPI", pr->npi);
    size_t o = 0;
    for (size_t i = 0; tax[i] && o < sizeof pr->tax_id - 1; i++)
        if (tax[i] != '-')
            pr->tax_id[o++] = tax[i];
    pr->tax_id[o] = '\0';
    if (strlen(pr->tax_id) != 9 || strspn(pr->tax_id, "0123456789") != 9)
        return ydoc_error(err, ydoc_get(m, "tax_id"), file, path, "tax_id", "not a tax id (9 digits)");
    if (pr->taxonomy[0] && !encounter_valid_taxonomy(pr->taxonomy))
        return ydoc_error(err, ydoc_get(m, "taxonomy"), file, path, "taxonomy", "'%s' is not a taxonomy code",
                          pr->taxonomy);
    for (const char *s = pr->claim_prefix; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return ydoc_error(err, ydoc_get(m, "claim_prefix"), file, path, "claim_prefix",
                              "upper-case letters and digits only (at most 8)");
    char ap[128];
    snprintf(ap, sizeof ap, "%s.address", path);
    if ((rc = load_address(&pr->address, ydoc_get(m, "address"), file, ap, err)) != CH_OK)
        return rc;
    const ydoc_node *py = ydoc_get(m, "payers");
    char pp[128];
    snprintf(pp, sizeof pp, "%s.payers", path);
    if (!py || py->kind != YDOC_MAP || !py->n)
        return ydoc_error(err, py ? py : m, file, path, "payers",
                          "required: a mapping from payer profile name to the enrollment settings");
    pr->payers = calloc(py->n, sizeof *pr->payers);
    if (!pr->payers)
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", file);
    for (size_t i = 0; i < py->n; i++) {
        if ((rc = load_link(&pr->payers[i], pr, py->items[2 * i], py->items[2 * i + 1], file, pp, err)) != CH_OK)
            return rc;
        pr->npayers++;
    }
    return CH_OK;
}

static ch_code load_profiles(config *c, ch_error *err)
{
    for (size_t i = 0; i < c->npractices; i++) {
        config_practice *pr = &c->practices[i];
        for (size_t k = 0; k < pr->npayers; k++) {
            config_payer_link *l = &pr->payers[k];
            const payer_profile *p = config_profile(c, l->payer);
            if (!p) {
                payer_profile **np = realloc(c->profiles, (c->nprofiles + 1) * sizeof *np);
                if (!np)
                    return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", c->path);
                c->profiles = np;
                char path[PATH_MAX + 64];
                snprintf(path, sizeof path, "%s/%s.yaml", c->profiles_dir, l->payer);
                payer_profile *loaded;
                ch_code rc = payer_profile_load(&loaded, path, err);
                if (rc != CH_OK) {
                    ch_error_prefix(err, "practice %s, payer %s", pr->id, l->payer);
                    return rc == CH_ERR_IO ? CH_ERR_CONFIG : rc;
                }
                c->profiles[c->nprofiles++] = loaded;
                p = loaded;
            }
            l->profile = p;
        }
    }
    return CH_OK;
}

/* operators: {name: [practice, ...] | all} */
static ch_code load_operators(config *c, const ydoc_node *ops, const char *file, ch_error *err)
{
    if (!ops)
        return CH_OK;
    c->operators_configured = 1;
    if (ydoc_is_null(ops))
        return CH_OK; /* `operators:` with nobody in it: nobody sees anything */
    if (ops->kind != YDOC_MAP)
        return ydoc_error(err, ops, file, "", "operators",
                          "expected a mapping from operator name to a list of practices (or all)");
    c->operators = calloc(ops->n ? ops->n : 1, sizeof *c->operators);
    if (!c->operators)
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", file);
    for (size_t i = 0; i < ops->n; i++) {
        const ydoc_node *k = ops->items[2 * i], *v = ops->items[2 * i + 1];
        config_operator *o = &c->operators[c->noperators++];
        if (!k->len || k->len >= sizeof o->name)
            return ydoc_error(err, k, file, "operators", NULL, "an operator name is 1 to %zu characters",
                              sizeof o->name - 1);
        snprintf(o->name, sizeof o->name, "%s", k->str);
        char p[96];
        snprintf(p, sizeof p, "operators.%s", o->name);
        if (v && v->kind == YDOC_SCALAR && !strcmp(v->str, "all")) {
            o->all = 1;
            continue;
        }
        if (!v || v->kind != YDOC_SEQ)
            return ydoc_error(err, v ? v : k, file, p, NULL, "expected a list of practice ids, or all");
        o->practices = calloc(v->n ? v->n : 1, sizeof *o->practices);
        if (!o->practices)
            return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", file);
        for (size_t j = 0; j < v->n; j++) {
            const ydoc_node *it = v->items[j];
            if (it->kind != YDOC_SCALAR || !config_practice_find(c, it->str))
                return ydoc_error(err, it, file, p, NULL, "'%s' is not a configured practice",
                                  it->kind == YDOC_SCALAR ? it->str : ydoc_kind_name(it));
            snprintf(o->practices[o->npractices++], sizeof o->practices[0], "%s", it->str);
        }
    }
    return CH_OK;
}

static ch_code load(config *c, const ydoc_node *root, const char *file, ch_error *err)
{
    static const char *const top[] = {"spool", "ledger", "payer_profiles", "logging", "practices", "operators", NULL};
    static const char *const led[] = {"backend", "path", "dsn_env", NULL};
    static const char *const logk[] = {"level", "file", NULL};
    ch_code rc;
    if (!root || root->kind != YDOC_MAP)
        return ch_error_set(err, CH_ERR_CONFIG, "%s: expected a mapping of settings", file);
    if ((rc = no_secrets(root, file, err)) != CH_OK || (rc = ydoc_only_keys(root, top, file, "", err)) != CH_OK ||
        (rc = ydoc_str(root, "spool", c->spool, sizeof c->spool, 1, file, "", err)) != CH_OK ||
        (rc = ydoc_str(root, "payer_profiles", c->profiles_dir, sizeof c->profiles_dir, 0, file, "", err)) != CH_OK)
        return rc;
    if (!c->profiles_dir[0])
        snprintf(c->profiles_dir, sizeof c->profiles_dir, "payer-profiles");
    const ydoc_node *l = ydoc_get(root, "ledger");
    if (!l)
        return ydoc_error(err, root, file, "", "ledger", "required (backend and path)");
    if ((rc = ydoc_only_keys(l, led, file, "ledger", err)) != CH_OK ||
        (rc = ydoc_str(l, "backend", c->ledger_backend, sizeof c->ledger_backend, 0, file, "ledger", err)) != CH_OK ||
        (rc = ydoc_str(l, "path", c->ledger_path, sizeof c->ledger_path, 0, file, "ledger", err)) != CH_OK ||
        (rc = ydoc_str(l, "dsn_env", c->ledger_dsn_env, sizeof c->ledger_dsn_env, 0, file, "ledger", err)) != CH_OK)
        return rc;
    if (!c->ledger_backend[0])
        snprintf(c->ledger_backend, sizeof c->ledger_backend, "sqlite");
    if (!strcmp(c->ledger_backend, "sqlite")) {
        if (!c->ledger_path[0])
            return ydoc_error(err, l, file, "ledger", "path", "required for the sqlite backend");
    } else if (!strcmp(c->ledger_backend, "postgresql")) {
        if (!c->ledger_dsn_env[0])
            return ydoc_error(err, l, file, "ledger", "dsn_env", "required for the postgresql backend");
    } else {
        return ydoc_error(err, ydoc_get(l, "backend"), file, "ledger", "backend",
                          "'%s' is not a ledger backend (sqlite, postgresql)", c->ledger_backend);
    }
    const ydoc_node *lg = ydoc_get(root, "logging");
    char level[16];
    if ((rc = ydoc_only_keys(lg, logk, file, "logging", err)) != CH_OK ||
        (rc = ydoc_str(lg, "level", level, sizeof level, 0, file, "logging", err)) != CH_OK ||
        (rc = ydoc_str(lg, "file", c->log_file, sizeof c->log_file, 0, file, "logging", err)) != CH_OK)
        return rc;
    if (!level[0] || !strcmp(level, "info"))
        c->log_level = CONFIG_LOG_INFO;
    else if (!strcmp(level, "error"))
        c->log_level = CONFIG_LOG_ERROR;
    else if (!strcmp(level, "warning"))
        c->log_level = CONFIG_LOG_WARNING;
    else if (!strcmp(level, "debug"))
        c->log_level = CONFIG_LOG_DEBUG;
    else
        return ydoc_error(err, ydoc_get(lg, "level"), file, "logging", "level",
                          "'%s' is not error, warning, info or debug", level);

    const ydoc_node *ps = ydoc_get(root, "practices");
    if (!ps || ps->kind != YDOC_SEQ || !ps->n)
        return ydoc_error(err, ps ? ps : root, file, "", "practices", "required: a list of practices");
    c->practices = calloc(ps->n, sizeof *c->practices);
    if (!c->practices)
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", file);
    for (size_t i = 0; i < ps->n; i++) {
        char path[32];
        snprintf(path, sizeof path, "practices[%zu]", i);
        c->npractices++;
        if ((rc = load_practice(&c->practices[i], ps->items[i], file, path, err)) != CH_OK)
            return rc;
        for (size_t k = 0; k < i; k++) {
            if (!strcmp(c->practices[k].id, c->practices[i].id))
                return ydoc_error(err, ps->items[i], file, path, "id", "practice '%s' is listed twice",
                                  c->practices[i].id);
            if (!strcmp(c->practices[k].claim_prefix, c->practices[i].claim_prefix))
                return ydoc_error(err, ps->items[i], file, path, "claim_prefix",
                                  "'%s' is already the prefix of practice %s", c->practices[i].claim_prefix,
                                  c->practices[k].id);
        }
    }
    if ((rc = load_operators(c, ydoc_get(root, "operators"), file, err)) != CH_OK)
        return rc;
    return load_profiles(c, err);
}

ch_code config_load(config **out, const char *path, ch_error *err)
{
    *out = NULL;
    ydoc *d = NULL;
    ch_code rc = ydoc_load(&d, path, CONFIG_MAX_BYTES, err);
    if (rc == CH_ERR_SYNTAX && err)
        err->code = CH_ERR_CONFIG; /* an unreadable configuration is a configuration problem */
    if (rc != CH_OK)
        return rc == CH_ERR_SYNTAX ? CH_ERR_CONFIG : rc;
    config *c = calloc(1, sizeof *c);
    if (!c) {
        ydoc_free(d);
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", path);
    }
    snprintf(c->path, sizeof c->path, "%s", path);
    rc = load(c, ydoc_root(d), path, err);
    ydoc_free(d);
    if (rc != CH_OK) {
        config_free(c);
        return rc;
    }
    *out = c;
    return CH_OK;
}

void config_free(config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->noperators; i++)
        free(c->operators[i].practices);
    free(c->operators);
    for (size_t i = 0; i < c->npractices; i++)
        free(c->practices[i].payers);
    free(c->practices);
    for (size_t i = 0; i < c->nprofiles; i++)
        payer_profile_free(c->profiles[i]);
    free(c->profiles);
    free(c);
}

const config_practice *config_practice_find(const config *c, const char *id)
{
    for (size_t i = 0; i < c->npractices; i++)
        if (!strcmp(c->practices[i].id, id))
            return &c->practices[i];
    return NULL;
}

const config_payer_link *config_practice_payer(const config_practice *p, const char *payer)
{
    for (size_t i = 0; i < p->npayers; i++)
        if (!strcmp(p->payers[i].payer, payer))
            return &p->payers[i];
    return NULL;
}

const payer_profile *config_profile(const config *c, const char *name)
{
    for (size_t i = 0; i < c->nprofiles; i++)
        if (!strcmp(c->profiles[i]->name, name))
            return c->profiles[i];
    return NULL;
}

const config_operator *config_operator_find(const config *c, const char *name)
{
    for (size_t i = 0; name && i < c->noperators; i++)
        if (!strcmp(c->operators[i].name, name))
            return &c->operators[i];
    return NULL;
}
