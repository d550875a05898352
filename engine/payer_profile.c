/* payer_profile.c - see payer_profile.h */
#include "payer_profile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport.h"
#include "ydoc.h"

#define PROFILE_MAX_BYTES (1u << 20)

static const char *base_name(const char *path, char *out, size_t size)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strcspn(b, ".");
    snprintf(out, size, "%.*s", (int)n, b);
    return out;
}

static ch_code claim_types(const ydoc_node *n, unsigned *out, const char *file, const char *path,
                           const char *key, ch_error *err)
{
    *out = 0;
    if (ydoc_is_null(n))
        return CH_OK;
    size_t count = n->kind == YDOC_SEQ ? n->n : 1;
    for (size_t i = 0; i < count; i++) {
        const ydoc_node *v = n->kind == YDOC_SEQ ? n->items[i] : n;
        if (v->kind != YDOC_SCALAR)
            return ydoc_error(err, v, file, path, key, "expected professional or institutional");
        if (!strcmp(v->str, "professional"))
            *out |= 1u << ENC_PROFESSIONAL;
        else if (!strcmp(v->str, "institutional"))
            *out |= 1u << ENC_INSTITUTIONAL;
        else
            return ydoc_error(err, v, file, path, key, "'%s' is not professional or institutional", v->str);
    }
    return CH_OK;
}

static ch_code one_char(const ydoc_node *map, const char *key, char dflt, char *out, const char *file,
                        ch_error *err)
{
    char b[8];
    ch_code rc = ydoc_str(map, key, b, sizeof b, 0, file, "delimiters", err);
    if (rc != CH_OK)
        return rc;
    if (!b[0]) {
        *out = dflt;
        return CH_OK;
    }
    if (strlen(b) != 1 || (b[0] >= 'A' && b[0] <= 'Z') || (b[0] >= 'a' && b[0] <= 'z') ||
        (b[0] >= '0' && b[0] <= '9') || b[0] == ' ')
        return ydoc_error(err, ydoc_get(map, key), file, "delimiters", key,
                          "one character that is not a letter, digit or space");
    *out = b[0];
    return CH_OK;
}

static ch_code load_rule(payer_rule *r, const ydoc_node *m, const char *file, const char *path, ch_error *err)
{
    static const char *const keys[] = {"rule", "field", "values", "pattern", "value", "claim_type", "message", NULL};
    ch_code rc = ydoc_only_keys(m, keys, file, path, err);
    if (rc != CH_OK)
        return rc;
    char kind[32], field[128], pattern[512];
    if ((rc = ydoc_str(m, "rule", kind, sizeof kind, 1, file, path, err)) != CH_OK ||
        (rc = ydoc_str(m, "field", field, sizeof field, 0, file, path, err)) != CH_OK ||
        (rc = ydoc_str(m, "pattern", pattern, sizeof pattern, 0, file, path, err)) != CH_OK ||
        (rc = ydoc_str(m, "message", r->message, sizeof r->message, 0, file, path, err)) != CH_OK)
        return rc;
    if ((rc = claim_types(ydoc_get(m, "claim_type"), &r->claim_types, file, path, "claim_type", err)) != CH_OK)
        return rc;
    const ydoc_node *kn = ydoc_get(m, "rule");
    if (!strcmp(kind, "require"))
        r->kind = PAYER_RULE_REQUIRE;
    else if (!strcmp(kind, "forbid"))
        r->kind = PAYER_RULE_FORBID;
    else if (!strcmp(kind, "allowed"))
        r->kind = PAYER_RULE_ALLOWED;
    else if (!strcmp(kind, "pattern"))
        r->kind = PAYER_RULE_PATTERN;
    else if (!strcmp(kind, "max_lines"))
        r->kind = PAYER_RULE_MAX_LINES;
    else if (!strcmp(kind, "max_diagnoses"))
        r->kind = PAYER_RULE_MAX_DIAGNOSES;
    else
        return ydoc_error(err, kn, file, path, "rule",
                          "'%s' is not a rule (require, forbid, allowed, pattern, max_lines, max_diagnoses)", kind);

    if (r->kind == PAYER_RULE_MAX_LINES || r->kind == PAYER_RULE_MAX_DIAGNOSES) {
        if (field[0])
            return ydoc_error(err, m, file, path, "field", "not used by rule %s", kind);
        if (!ydoc_get(m, "value"))
            return ydoc_error(err, m, file, path, "value", "required by rule %s", kind);
        return ydoc_uint(m, "value", 1, r->kind == PAYER_RULE_MAX_LINES ? ENC_MAX_LINES : ENC_MAX_DX, 0,
                         &r->limit, file, path, err);
    }
    if (!field[0])
        return ydoc_error(err, m, file, path, "field", "required by rule %s", kind);
    r->field = encounter_field_find(field);
    if (!r->field)
        return ydoc_error(err, ydoc_get(m, "field"), file, path, "field",
                          "'%s' is not a field of an encounter (see docs/encounters.md)", field);
    if (r->kind == PAYER_RULE_ALLOWED) {
        const ydoc_node *v = ydoc_get(m, "values");
        if (!v || v->kind != YDOC_SEQ || !v->n)
            return ydoc_error(err, v ? v : m, file, path, "values", "a list of the values allowed is required");
        r->values = calloc(v->n, sizeof *r->values);
        if (!r->values)
            return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", file);
        for (size_t i = 0; i < v->n; i++) {
            if (v->items[i]->kind != YDOC_SCALAR)
                return ydoc_error(err, v->items[i], file, path, "values", "expected values, found %s",
                                  ydoc_kind_name(v->items[i]));
            if (!(r->values[r->nvalues] = strdup(v->items[i]->str)))
                return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", file);
            r->nvalues++;
        }
    } else if (ydoc_get(m, "values")) {
        return ydoc_error(err, m, file, path, "values", "only for rule allowed");
    }
    if (r->kind == PAYER_RULE_PATTERN) {
        if (!pattern[0])
            return ydoc_error(err, m, file, path, "pattern", "required by rule pattern");
        int e = regcomp(&r->re, pattern, REG_EXTENDED | REG_NOSUB);
        if (e) {
            char why[128];
            regerror(e, &r->re, why, sizeof why);
            return ydoc_error(err, ydoc_get(m, "pattern"), file, path, "pattern", "%s", why);
        }
        r->has_re = 1;
    } else if (pattern[0]) {
        return ydoc_error(err, m, file, path, "pattern", "only for rule pattern");
    }
    return CH_OK;
}

static ch_code load(payer_profile *p, const ydoc_node *root, const char *file, ch_error *err)
{
    static const char *const top[] = {"payer_id", "name", "receiver", "claim_types", "usage",
                                      "acknowledgment_requested", "claim_filing_indicator", "limits",
                                      "delimiters", "edits", "schedule", "simulator", "transport", "remittance", NULL};
    static const char *const recv[] = {"qualifier", "interchange_id", "application_id", "id", "name", NULL};
    static const char *const lim[] = {"claims_per_transaction", "claims_per_file", NULL};
    static const char *const delim[] = {"element", "component", "repetition", "segment", NULL};
    static const char *const cfi[] = {"professional", "institutional", NULL};
    ch_code rc;
    if (!root || root->kind != YDOC_MAP)
        return ch_error_set(err, CH_ERR_CONFIG, "%s: expected a mapping of settings", file);
    if ((rc = ydoc_only_keys(root, top, file, "", err)) != CH_OK ||
        (rc = ydoc_str(root, "payer_id", p->payer_id, sizeof p->payer_id, 1, file, "", err)) != CH_OK ||
        (rc = ydoc_str(root, "name", p->payer_name, sizeof p->payer_name, 1, file, "", err)) != CH_OK)
        return rc;
    const ydoc_node *r = ydoc_get(root, "receiver");
    if (!r)
        return ydoc_error(err, root, file, "", "receiver", "required");
    if ((rc = ydoc_only_keys(r, recv, file, "receiver", err)) != CH_OK ||
        (rc = ydoc_str(r, "qualifier", p->isa07, sizeof p->isa07, 0, file, "receiver", err)) != CH_OK ||
        (rc = ydoc_str(r, "interchange_id", p->isa08, sizeof p->isa08, 1, file, "receiver", err)) != CH_OK ||
        (rc = ydoc_str(r, "application_id", p->gs03, sizeof p->gs03, 0, file, "receiver", err)) != CH_OK ||
        (rc = ydoc_str(r, "id", p->receiver_id, sizeof p->receiver_id, 0, file, "receiver", err)) != CH_OK ||
        (rc = ydoc_str(r, "name", p->receiver_name, sizeof p->receiver_name, 0, file, "receiver", err)) != CH_OK)
        return rc;
    if (!p->isa07[0])
        snprintf(p->isa07, sizeof p->isa07, "ZZ");
    if (!p->gs03[0])
        snprintf(p->gs03, sizeof p->gs03, "%s", p->isa08);
    if (!p->receiver_id[0])
        snprintf(p->receiver_id, sizeof p->receiver_id, "%s", p->isa08);
    if (!p->receiver_name[0])
        snprintf(p->receiver_name, sizeof p->receiver_name, "%s", p->payer_name);

    if ((rc = claim_types(ydoc_get(root, "claim_types"), &p->claim_types, file, "", "claim_types", err)) != CH_OK)
        return rc;
    if (!p->claim_types)
        return ydoc_error(err, root, file, "", "claim_types", "required (professional, institutional)");

    char usage[16];
    if ((rc = ydoc_str(root, "usage", usage, sizeof usage, 1, file, "", err)) != CH_OK)
        return rc;
    if (!strcmp(usage, "test"))
        p->usage = 'T';
    else if (!strcmp(usage, "production"))
        p->usage = 'P';
    else
        return ydoc_error(err, ydoc_get(root, "usage"), file, "", "usage", "'%s' is not test or production", usage);
    if ((rc = ydoc_bool(root, "acknowledgment_requested", 0, &p->ack_requested, file, "", err)) != CH_OK)
        return rc;

    const ydoc_node *c = ydoc_get(root, "claim_filing_indicator");
    if ((rc = ydoc_only_keys(c, cfi, file, "claim_filing_indicator", err)) != CH_OK ||
        (rc = ydoc_str(c, "professional", p->filing_indicator[ENC_PROFESSIONAL], 3, 0, file,
                       "claim_filing_indicator", err)) != CH_OK ||
        (rc = ydoc_str(c, "institutional", p->filing_indicator[ENC_INSTITUTIONAL], 3, 0, file,
                       "claim_filing_indicator", err)) != CH_OK)
        return rc;
    for (int t = ENC_PROFESSIONAL; t <= ENC_INSTITUTIONAL; t++)
        if (!p->filing_indicator[t][0])
            snprintf(p->filing_indicator[t], 3, "CI");

    const ydoc_node *l = ydoc_get(root, "limits");
    if ((rc = ydoc_only_keys(l, lim, file, "limits", err)) != CH_OK ||
        (rc = ydoc_uint(l, "claims_per_transaction", 1, 5000, 5000, &p->claims_per_transaction, file, "limits",
                        err)) != CH_OK ||
        (rc = ydoc_uint(l, "claims_per_file", 1, 1000000, 10000, &p->claims_per_file, file, "limits", err)) != CH_OK)
        return rc;

    const ydoc_node *d = ydoc_get(root, "delimiters");
    if ((rc = ydoc_only_keys(d, delim, file, "delimiters", err)) != CH_OK ||
        (rc = one_char(d, "element", '*', &p->delims.element, file, err)) != CH_OK ||
        (rc = one_char(d, "component", ':', &p->delims.component, file, err)) != CH_OK ||
        (rc = one_char(d, "repetition", '^', &p->delims.repetition, file, err)) != CH_OK ||
        (rc = one_char(d, "segment", '~', &p->delims.segment, file, err)) != CH_OK)
        return rc;
    const char ds[4] = {p->delims.element, p->delims.component, p->delims.repetition, p->delims.segment};
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            if (ds[i] == ds[j])
                return ydoc_error(err, d, file, "", "delimiters", "two delimiters are the same character");

    if ((rc = payer_schedule_load(ydoc_get(root, "schedule"), &p->schedule, file, err)) != CH_OK ||
        (rc = payer_sim_load(ydoc_get(root, "simulator"), &p->sim, &p->has_sim, file, err)) != CH_OK)
        return rc;
    snprintf(p->sim.payer_id, sizeof p->sim.payer_id, "%.15s", p->isa08[0] ? p->isa08 : p->payer_id);
    snprintf(p->sim.payer_name, sizeof p->sim.payer_name, "%s", p->payer_name);

    const ydoc_node *ed = ydoc_get(root, "edits");
    if (ydoc_is_null(ed))
        return CH_OK;
    if (ed->kind != YDOC_SEQ)
        return ydoc_error(err, ed, file, "", "edits", "expected a list of rules");
    p->rules = calloc(ed->n ? ed->n : 1, sizeof *p->rules);
    if (!p->rules)
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", file);
    for (size_t i = 0; i < ed->n; i++) {
        char path[32];
        snprintf(path, sizeof path, "edits[%zu]", i);
        p->nrules++;
        if (ed->items[i]->kind != YDOC_MAP)
            return ydoc_error(err, ed->items[i], file, path, NULL, "expected a rule (a mapping)");
        if ((rc = load_rule(&p->rules[i], ed->items[i], file, path, err)) != CH_OK)
            return rc;
    }
    return CH_OK;
}

/* The `transport:` section, read by transport_config_parse (its own
 * parser: libyaml's document API, with the line of any problem). */
static ch_code load_transport(payer_profile *p, const char *path, ch_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ch_error_set(err, CH_ERR_IO, "%s: cannot read", path);
    char *text = malloc(PROFILE_MAX_BYTES + 1);
    size_t len = text ? fread(text, 1, PROFILE_MAX_BYTES, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!text)
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", path);
    if (bad) {
        free(text);
        return ch_error_set(err, CH_ERR_IO, "%s: cannot read", path);
    }
    p->transport = malloc(sizeof *p->transport);
    ch_code rc = p->transport ? transport_config_parse_text(text, len, p->name, p->transport, err)
                              : ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", path);
    free(text);
    if (rc != CH_OK) {
        if (err)
            ch_error_prefix(err, "%s", path);
        return rc == CH_ERR_SYNTAX ? CH_ERR_CONFIG : rc;
    }
    return CH_OK;
}

/* The `remittance:` mapping, read with match_rules_parse (libyaml) from the
 * same file: errors name the file, the key path and the line. */
static ch_code load_remittance(payer_profile *p, const char *path, ch_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    char *text = malloc(PROFILE_MAX_BYTES + 1);
    size_t n = text ? fread(text, 1, PROFILE_MAX_BYTES, fp) : 0;
    fclose(fp);
    if (!text)
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", path);
    match_rules_free(&p->remit);
    ch_code rc = match_rules_parse_text(text, n, 0, &p->remit, err);
    free(text);
    if (rc != CH_OK && err) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        rc = ch_error_set(err, CH_ERR_CONFIG, "%s: %s", path, msg);
    }
    return rc;
}

ch_code payer_profile_load(payer_profile **out, const char *path, ch_error *err)
{
    *out = NULL;
    ydoc *d = NULL;
    ch_code rc = ydoc_load(&d, path, PROFILE_MAX_BYTES, err);
    if (rc == CH_ERR_SYNTAX && err)
        err->code = CH_ERR_CONFIG; /* an unreadable profile is a configuration problem */
    if (rc != CH_OK)
        return rc == CH_ERR_SYNTAX ? CH_ERR_CONFIG : rc;
    payer_profile *p = calloc(1, sizeof *p);
    if (!p) {
        ydoc_free(d);
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", path);
    }
    base_name(path, p->name, sizeof p->name);
    match_rules_init(&p->remit);
    rc = load(p, ydoc_root(d), path, err);
    int has_transport = rc == CH_OK && ydoc_root(d) && ydoc_get(ydoc_root(d), "transport") != NULL;
    ydoc_free(d);
    if (has_transport)
        rc = load_transport(p, path, err);
    if (rc == CH_OK)
        rc = load_remittance(p, path, err);
    if (rc != CH_OK) {
        payer_profile_free(p);
        return rc;
    }
    *out = p;
    return CH_OK;
}

void payer_profile_free(payer_profile *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nrules; i++) {
        payer_rule *r = &p->rules[i];
        for (size_t k = 0; k < r->nvalues; k++)
            free(r->values[k]);
        free(r->values);
        if (r->has_re)
            regfree(&r->re);
    }
    free(p->rules);
    free(p->transport);
    match_rules_free(&p->remit);
    free(p);
}

int payer_profile_accepts(const payer_profile *p, encounter_type t) { return (p->claim_types >> t) & 1u; }

/* --- applying the edits ------------------------------------------------------ */

static void fail(const payer_profile *p, const payer_rule *r, encounter_problems *probs, const char *path,
                 const char *msg)
{
    if (r->message[0])
        encounter_problem_add(probs, path, "%s", r->message);
    else
        encounter_problem_add(probs, path, "%s (payer %s)", msg, p->name);
}

/* Check one value (one item of one line) of a field rule. */
static void check_value(const payer_profile *p, const payer_rule *r, const char *v, int present, const char *path,
                        encounter_problems *probs)
{
    char m[160];
    /* quote the value only when it is not PHI */
    int quote = !encounter_field_is_phi(r->field);
    switch (r->kind) {
    case PAYER_RULE_REQUIRE:
        if (!present)
            fail(p, r, probs, path, "required by this payer");
        break;
    case PAYER_RULE_FORBID:
        if (present)
            fail(p, r, probs, path, "not accepted by this payer");
        break;
    case PAYER_RULE_ALLOWED:
        if (present) {
            size_t i = 0;
            while (i < r->nvalues && strcmp(r->values[i], v))
                i++;
            if (i == r->nvalues) {
                snprintf(m, sizeof m, "%s%.40s%snot a value this payer accepts", quote ? "'" : "", quote ? v : "",
                         quote ? "' is " : "");
                fail(p, r, probs, path, m);
            }
        }
        break;
    case PAYER_RULE_PATTERN:
        if (present && regexec(&r->re, v, 0, NULL, 0) != 0) {
            snprintf(m, sizeof m, "%s%.40s%snot in the form this payer expects", quote ? "'" : "", quote ? v : "",
                     quote ? "' is " : "");
            fail(p, r, probs, path, m);
        }
        break;
    default:
        break;
    }
}

static void check_field(const payer_profile *p, const payer_rule *r, const encounter *e, unsigned line,
                        encounter_problems *probs)
{
    const encounter_field *f = r->field;
    char v[128], path[128];
    const char *fp = encounter_field_path(f);
    if (encounter_field_is_line(f))
        snprintf(path, sizeof path, "lines[%u]%s", line, fp + 7);
    else
        snprintf(path, sizeof path, "%s", fp);
    unsigned n = encounter_field_get(e, f, line, 0, v, sizeof v);
    if (!encounter_field_is_list(f) || r->kind == PAYER_RULE_REQUIRE || r->kind == PAYER_RULE_FORBID) {
        check_value(p, r, v, n > 0, path, probs);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        char ip[140];
        encounter_field_get(e, f, line, i, v, sizeof v);
        snprintf(ip, sizeof ip, "%s[%u]", path, i);
        check_value(p, r, v, 1, ip, probs);
    }
}

ch_code payer_profile_check(const payer_profile *p, const encounter *e, encounter_problems *probs)
{
    unsigned before = probs->n + probs->dropped;
    for (size_t i = 0; i < p->nrules; i++) {
        const payer_rule *r = &p->rules[i];
        if (r->claim_types && !((r->claim_types >> e->type) & 1u))
            continue;
        if (r->kind == PAYER_RULE_MAX_LINES) {
            if (e->nlines > r->limit) {
                char m[96];
                snprintf(m, sizeof m, "%u service lines; this payer takes at most %lu", e->nlines, r->limit);
                fail(p, r, probs, "lines", m);
            }
        } else if (r->kind == PAYER_RULE_MAX_DIAGNOSES) {
            if (e->ndiagnoses > r->limit) {
                char m[96];
                snprintf(m, sizeof m, "%u diagnoses; this payer takes at most %lu", e->ndiagnoses, r->limit);
                fail(p, r, probs, "diagnoses", m);
            }
        } else if (encounter_field_is_line(r->field)) {
            for (unsigned l = 0; l < e->nlines; l++)
                check_field(p, r, e, l, probs);
        } else {
            check_field(p, r, e, 0, probs);
        }
    }
    return probs->n + probs->dropped > before ? CH_ERR_INVALID : CH_OK;
}
