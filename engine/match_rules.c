/*
 * match_rules.c - payer matching rules as data, and the matching driver
 * (see match_rules.h).
 */
#include "match_rules.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch_str.h"
#include "x12_writer.h"

const claim_ref match_many_claims = {0, "", 0, NULL, 0, NULL};

void match_rules_init(match_rules *r)
{
    memset(r, 0, sizeof *r);
    r->line_match[0] = MATCH_LINE_REF_6R;
    r->line_match[1] = MATCH_LINE_PROCEDURE;
    r->nline_match = 2;
    r->fallback = MATCH_FALLBACK_PATIENT_DATES_CHARGE;
}

void match_rules_free(match_rules *r)
{
    if (!r)
        return;
    free(r->fees);
    r->fees = NULL;
    r->nfees = 0;
}

/* --- YAML ------------------------------------------------------------------- */

static ch_code cfg_err(ch_error *err, const yaml_node_t *n, const char *path, const char *fmt,
                       const char *arg)
{
    char m[300];
    snprintf(m, sizeof m, fmt, arg ? arg : "");
    if (n)
        return ch_error_set(err, CH_ERR_CONFIG, "%s: %s (line %lu, column %lu)", path, m,
                            (unsigned long)n->start_mark.line + 1,
                            (unsigned long)n->start_mark.column + 1);
    return ch_error_set(err, CH_ERR_CONFIG, "%s: %s", path, m);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Copy a scalar into a fixed field; CH_ERR_CONFIG when it is not a scalar or
 * does not fit. */
static ch_code scalar_into(const yaml_node_t *n, char *dst, size_t size, const char *path,
                           ch_error *err)
{
    const char *s = scalar(n);
    if (!s)
        return cfg_err(err, n, path, "expected a text value%s", NULL);
    if (strlen(s) >= size) {
        char lim[16];
        snprintf(lim, sizeof lim, "%zu", size - 1);
        return cfg_err(err, n, path, "longer than %s characters", lim);
    }
    memcpy(dst, s, strlen(s) + 1);
    return CH_OK;
}

static const struct {
    const char *name;
    match_step_kind kind;
    int arg; /* 0 none, 1 text or list of texts, 2 number */
} STEPS[] = {
    {"upper", MATCH_STEP_UPPER, 0},
    {"lower", MATCH_STEP_LOWER, 0},
    {"trim", MATCH_STEP_TRIM, 0},
    {"strip_leading_zeros", MATCH_STEP_STRIP_ZEROS, 0},
    {"strip_prefix", MATCH_STEP_STRIP_PREFIX, 1},
    {"strip_suffix", MATCH_STEP_STRIP_SUFFIX, 1},
    {"delete", MATCH_STEP_DELETE, 1},
    {"truncate", MATCH_STEP_TRUNCATE, 2},
};

static ch_code parse_step(yaml_document_t *doc, yaml_node_t *item, match_step *st,
                          const char *path, ch_error *err)
{
    const char *name = scalar(item);
    yaml_node_t *arg = NULL;
    if (!name && item->type == YAML_MAPPING_NODE &&
        item->data.mapping.pairs.top - item->data.mapping.pairs.start == 1) {
        yaml_node_pair_t *p = item->data.mapping.pairs.start;
        name = scalar(yaml_document_get_node(doc, p->key));
        arg = yaml_document_get_node(doc, p->value);
    }
    if (!name)
        return cfg_err(err, item, path,
                       "a step is a name (upper) or one name with its value (truncate: 14)%s",
                       NULL);
    size_t k = 0;
    while (k < sizeof STEPS / sizeof *STEPS && strcmp(STEPS[k].name, name))
        k++;
    if (k == sizeof STEPS / sizeof *STEPS)
        return cfg_err(err, item, path,
                       "unknown step '%s' (known: upper, lower, trim, strip_prefix, strip_suffix, "
                       "truncate, delete, strip_leading_zeros)",
                       name);
    memset(st, 0, sizeof *st);
    st->kind = STEPS[k].kind;
    if (STEPS[k].arg == 0) {
        if (arg)
            return cfg_err(err, item, path, "%s takes no value", name);
        return CH_OK;
    }
    if (!arg)
        return cfg_err(err, item, path, "%s needs a value", name);
    if (STEPS[k].arg == 2) {
        const char *v = scalar(arg);
        char *end;
        long n = v ? strtol(v, &end, 10) : 0;
        if (!v || *end || n < 1 || n >= MATCH_KEY_MAX)
            return cfg_err(err, arg, path, "%s needs a number from 1 to 63", name);
        st->n = (unsigned)n;
        return CH_OK;
    }
    if (arg->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = arg->data.sequence.items.start; i < arg->data.sequence.items.top;
             i++) {
            if (st->nargs == MATCH_MAX_PREFIXES)
                return cfg_err(err, arg, path, "at most 8 values%s", NULL);
            ch_code c = scalar_into(yaml_document_get_node(doc, *i), st->args[st->nargs++],
                                    MATCH_KEY_MAX, path, err);
            if (c != CH_OK)
                return c;
        }
    } else {
        ch_code c = scalar_into(arg, st->args[st->nargs++], MATCH_KEY_MAX, path, err);
        if (c != CH_OK)
            return c;
    }
    for (unsigned i = 0; i < st->nargs; i++)
        if (!st->args[i][0])
            return cfg_err(err, arg, path, "%s needs a value that is not empty", name);
    return CH_OK;
}

static ch_code parse_line_match(yaml_document_t *doc, yaml_node_t *n, match_rules *r,
                                ch_error *err)
{
    const char *path = "remittance.line_match";
    char words[8][32];
    unsigned nw = 0;
    if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
             i++) {
            if (nw == 8)
                return cfg_err(err, n, path, "too many methods%s", NULL);
            ch_code c = scalar_into(yaml_document_get_node(doc, *i), words[nw++], 32, path, err);
            if (c != CH_OK)
                return c;
        }
    } else {
        const char *s = scalar(n);
        if (!s)
            return cfg_err(err, n, path, "expected methods such as 'ref_6r | procedure'%s", NULL);
        /* "ref_6r | procedure": words split on '|', ',' and blanks */
        const char *p = s;
        while (*p) {
            while (*p == '|' || *p == ',' || isspace((unsigned char)*p))
                p++;
            size_t len = strcspn(p, "|, \t");
            if (!len)
                break;
            if (nw == 8 || len >= 32)
                return cfg_err(err, n, path, "too many or too long methods%s", NULL);
            memcpy(words[nw], p, len);
            words[nw++][len] = '\0';
            p += len;
        }
    }
    if (nw == 0)
        return cfg_err(err, n, path, "at least one method (ref_6r, procedure)%s", NULL);
    r->nline_match = 0;
    for (unsigned i = 0; i < nw; i++) {
        match_line_method m = !strcmp(words[i], "ref_6r")      ? MATCH_LINE_REF_6R
                              : !strcmp(words[i], "procedure") ? MATCH_LINE_PROCEDURE
                                                               : 0;
        if (!m)
            return cfg_err(err, n, path, "unknown method '%s' (known: ref_6r, procedure)", words[i]);
        for (unsigned k = 0; k < r->nline_match; k++)
            if (r->line_match[k] == m)
                return cfg_err(err, n, path, "method '%s' given twice", words[i]);
        if (r->nline_match == 4)
            return cfg_err(err, n, path, "too many methods%s", NULL);
        r->line_match[r->nline_match++] = m;
    }
    return CH_OK;
}

static int fee_cmp(const void *a, const void *b)
{
    return strcmp(((const match_fee *)a)->key, ((const match_fee *)b)->key);
}

static ch_code parse_fees(yaml_document_t *doc, yaml_node_t *n, match_rules *r, ch_error *err)
{
    const char *path = "remittance.expected_allowed";
    if (n->type != YAML_MAPPING_NODE)
        return cfg_err(err, n, path, "expected a mapping of procedure code to amount%s", NULL);
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    free(r->fees);
    r->fees = cnt ? calloc(cnt, sizeof *r->fees) : NULL;
    r->nfees = 0;
    if (cnt && !r->fees)
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", path);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        match_fee *f = &r->fees[r->nfees];
        ch_code c = scalar_into(k, f->key, sizeof f->key, path, err);
        if (c != CH_OK)
            return c;
        if (!f->key[0])
            return cfg_err(err, k, path, "an empty procedure code%s", NULL);
        const char *amt = scalar(v);
        if (!amt || x12_parse_cents(amt, strlen(amt), &f->cents) != CH_OK || f->cents < 0)
            return cfg_err(err, v, path, "amount for '%s' must be a decimal like \"95.00\"",
                           f->key);
        r->nfees++;
    }
    qsort(r->fees, r->nfees, sizeof *r->fees, fee_cmp);
    for (size_t i = 1; i < r->nfees; i++)
        if (!strcmp(r->fees[i - 1].key, r->fees[i].key))
            return cfg_err(err, n, path, "procedure '%s' listed twice", r->fees[i].key);
    return CH_OK;
}

ch_code match_rules_parse(yaml_document_t *doc, yaml_node_t *node, match_rules *out,
                          ch_error *err)
{
    match_rules_init(out);
    if (!node)
        return CH_OK;
    if (node->type != YAML_MAPPING_NODE)
        return cfg_err(err, node, "remittance", "expected a mapping%s", NULL);
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        const char *key = scalar(k);
        ch_code c = CH_OK;
        if (!key) {
            c = cfg_err(err, k, "remittance", "keys are names%s", NULL);
        } else if (!strcmp(key, "pcn_transform")) {
            if (v->type != YAML_SEQUENCE_NODE)
                return cfg_err(err, v, "remittance.pcn_transform",
                               "expected a list of steps: [upper, truncate: 14]%s", NULL);
            out->nsteps = 0;
            unsigned idx = 0;
            for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
                 i++, idx++) {
                char path[64];
                snprintf(path, sizeof path, "remittance.pcn_transform[%u]", idx);
                if (out->nsteps == MATCH_MAX_STEPS)
                    return cfg_err(err, v, path, "at most 16 steps%s", NULL);
                c = parse_step(doc, yaml_document_get_node(doc, *i), &out->steps[out->nsteps],
                               path, err);
                if (c != CH_OK)
                    return c;
                out->nsteps++;
            }
        } else if (!strcmp(key, "line_match")) {
            c = parse_line_match(doc, v, out, err);
        } else if (!strcmp(key, "fallback")) {
            const char *s = scalar(v);
            if (s && !strcmp(s, "patient_dates_charge"))
                out->fallback = MATCH_FALLBACK_PATIENT_DATES_CHARGE;
            else if (s && !strcmp(s, "none"))
                out->fallback = MATCH_FALLBACK_NONE;
            else
                c = cfg_err(err, v, "remittance.fallback",
                            "expected patient_dates_charge or none%s", NULL);
        } else if (!strcmp(key, "expected_allowed")) {
            c = parse_fees(doc, v, out, err);
        } else if (!strcmp(key, "underpayment_tolerance")) {
            const char *s = scalar(v);
            if (!s || x12_parse_cents(s, strlen(s), &out->underpayment_tolerance) != CH_OK ||
                out->underpayment_tolerance < 0)
                c = cfg_err(err, v, "remittance.underpayment_tolerance",
                            "expected an amount like \"0.50\"%s", NULL);
        } else {
            c = cfg_err(err, k, "remittance",
                        "unknown key '%s' (known: pcn_transform, line_match, fallback, "
                        "expected_allowed, underpayment_tolerance)",
                        key);
        }
        if (c != CH_OK)
            return c;
    }
    return CH_OK;
}

ch_code match_rules_parse_text(const char *text, size_t len, int root_is_remittance,
                               match_rules *out, ch_error *err)
{
    match_rules_init(out);
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return ch_error_set(err, CH_ERR_NOMEM, "yaml: out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        ch_code c = ch_error_set(err, CH_ERR_SYNTAX, "yaml: %s (line %lu, column %lu)",
                                 parser.problem ? parser.problem : "cannot be read",
                                 (unsigned long)parser.problem_mark.line + 1,
                                 (unsigned long)parser.problem_mark.column + 1);
        yaml_parser_delete(&parser);
        return c;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    yaml_node_t *node = NULL;
    ch_code c = CH_OK;
    if (root && root_is_remittance) {
        node = root;
    } else if (root && root->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
             p++) {
            const char *k = scalar(yaml_document_get_node(&doc, p->key));
            if (k && !strcmp(k, "remittance"))
                node = yaml_document_get_node(&doc, p->value);
        }
    } else if (root && !(root->type == YAML_SCALAR_NODE && !root->data.scalar.length)) {
        c = cfg_err(err, root, "profile", "expected a mapping at the top%s", NULL);
    }
    if (c == CH_OK)
        c = match_rules_parse(&doc, node, out, err);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return c;
}

/* --- keys ------------------------------------------------------------------- */

static size_t apply_step(const match_step *st, char *s, size_t n)
{
    switch (st->kind) {
    case MATCH_STEP_UPPER:
        for (size_t i = 0; i < n; i++)
            s[i] = (char)toupper((unsigned char)s[i]);
        break;
    case MATCH_STEP_LOWER:
        for (size_t i = 0; i < n; i++)
            s[i] = (char)tolower((unsigned char)s[i]);
        break;
    case MATCH_STEP_TRIM: {
        size_t a = 0;
        while (a < n && isspace((unsigned char)s[a]))
            a++;
        while (n > a && isspace((unsigned char)s[n - 1]))
            n--;
        memmove(s, s + a, n - a);
        n -= a;
        break;
    }
    case MATCH_STEP_STRIP_ZEROS: {
        size_t a = 0;
        while (a + 1 < n && s[a] == '0')
            a++;
        memmove(s, s + a, n - a);
        n -= a;
        break;
    }
    case MATCH_STEP_STRIP_PREFIX:
        for (unsigned i = 0; i < st->nargs; i++) {
            size_t m = strlen(st->args[i]);
            if (m <= n && !memcmp(s, st->args[i], m)) {
                memmove(s, s + m, n - m);
                n -= m;
                break; /* one prefix at most */
            }
        }
        break;
    case MATCH_STEP_STRIP_SUFFIX:
        for (unsigned i = 0; i < st->nargs; i++) {
            size_t m = strlen(st->args[i]);
            if (m <= n && !memcmp(s + n - m, st->args[i], m)) {
                n -= m;
                break;
            }
        }
        break;
    case MATCH_STEP_DELETE: {
        size_t w = 0;
        for (size_t i = 0; i < n; i++)
            if (!strchr(st->args[0], s[i]) || s[i] == '\0')
                s[w++] = s[i];
        n = w;
        break;
    }
    case MATCH_STEP_TRUNCATE:
        if (n > st->n)
            n = st->n;
        break;
    }
    return n;
}

size_t match_pcn_key(const match_rules *r, const char *pcn, char *out, size_t size)
{
    if (size == 0)
        return 0;
    size_t n = strlen(pcn ? pcn : "");
    if (n >= size)
        n = size - 1;
    memcpy(out, pcn ? pcn : "", n);
    for (unsigned i = 0; r && i < r->nsteps; i++)
        n = apply_step(&r->steps[i], out, n);
    out[n] = '\0';
    return n;
}

unsigned match_pcn_candidates(const match_rules *r, const char *observed,
                              char out_keys[][MATCH_KEY_MAX], unsigned max)
{
    if (!observed || max == 0)
        return 0;
    match_step trim = {.kind = MATCH_STEP_TRIM};
    char raw[MATCH_KEY_MAX];
    size_t n = strlen(observed);
    if (n >= sizeof raw)
        n = sizeof raw - 1;
    memcpy(raw, observed, n);
    n = apply_step(&trim, raw, n);
    raw[n] = '\0';
    if (n == 0)
        return 0;
    unsigned k = 0;
    memcpy(out_keys[k++], raw, n + 1);
    char key[MATCH_KEY_MAX];
    if (match_pcn_key(r, raw, key, sizeof key) && strcmp(key, raw) && k < max)
        memcpy(out_keys[k++], key, strlen(key) + 1);
    return k;
}

/* --- claims ----------------------------------------------------------------- */

static const char *nz(const char *s) { return s && s[0] ? s : NULL; }

void match_query_from_835(const remit_claim *c, match_query *q)
{
    memset(q, 0, sizeof *q);
    q->pcn = c->pcn;
    q->patient.member_id = nz(c->patient.id) ? c->patient.id : nz(c->insured.id);
    q->patient.last_name = nz(c->patient.last);
    q->patient.charge = c->charge;
    if (c->date_from[0]) {
        q->patient.date_from = c->date_from;
        q->patient.date_to = c->date_to[0] ? c->date_to : c->date_from;
    } else {
        /* no claim dates: the span of the line dates */
        for (unsigned i = 0; i < c->nlines; i++) {
            const remit_line *l = &c->lines[i];
            if (l->date_from[0] && (!q->span_from[0] || strcmp(l->date_from, q->span_from) < 0))
                memcpy(q->span_from, l->date_from, sizeof q->span_from);
            const char *t = l->date_to[0] ? l->date_to : l->date_from;
            if (t[0] && strcmp(t, q->span_to) > 0)
                memcpy(q->span_to, t, sizeof q->span_to);
        }
        q->patient.date_from = nz(q->span_from);
        q->patient.date_to = nz(q->span_to);
    }
}

void match_query_from_277(const status_277_claim *c, match_query *q)
{
    memset(q, 0, sizeof *q);
    q->pcn = c->pcn;
    q->trace = nz(c->ch_trace);
    q->patient.member_id = nz(c->member_id);
    q->patient.last_name = nz(c->patient_last);
    q->patient.date_from = nz(c->date_from);
    q->patient.date_to = nz(c->date_to);
    q->patient.charge = 0;
    for (unsigned i = 0; i < c->status.nstc; i++)
        if (c->status.stc[i].has_amount) {
            q->patient.charge = c->status.stc[i].amount;
            break;
        }
}

void match_claim(const match_rules *r, const match_lookup *lk, const match_query *q,
                 match_result *out)
{
    memset(out, 0, sizeof *out);
    if (q->trace && q->trace[0] && lk->by_trace) {
        const claim_ref *c = lk->by_trace(lk->ctx, q->trace);
        if (c && c != MATCH_MANY) {
            out->status = MATCH_MATCHED;
            out->how = MATCH_HOW_TRACE;
            out->claim = c;
            snprintf(out->key, sizeof out->key, "%s", q->trace);
            snprintf(out->why, sizeof out->why, "matched by the clearinghouse trace number");
            return;
        }
    }
    char keys[MATCH_MAX_KEYS][MATCH_KEY_MAX];
    unsigned nk = lk->by_pcn ? match_pcn_candidates(r, q->pcn, keys, MATCH_MAX_KEYS) : 0;
    for (unsigned i = 0; i < nk; i++) {
        const claim_ref *c = lk->by_pcn(lk->ctx, keys[i]);
        if (!c)
            continue;
        ch_strcpy(out->key, sizeof out->key, keys[i]);
        out->how = i == 0 ? MATCH_HOW_PCN : MATCH_HOW_PAYER_KEY;
        if (c == MATCH_MANY) {
            out->status = MATCH_AMBIGUOUS;
            snprintf(out->why, sizeof out->why,
                     "several open claims share this %s; not guessing",
                     i == 0 ? "patient control number" : "payer key (after the payer's transform)");
            return;
        }
        out->status = MATCH_MATCHED;
        out->claim = c;
        ch_strcpy(out->why, sizeof out->why,
                  i == 0 ? "matched by the patient control number"
                         : "matched by the patient control number after the payer's transform");
        return;
    }
    const match_patient_query *p = &q->patient;
    if (r->fallback == MATCH_FALLBACK_PATIENT_DATES_CHARGE && lk->by_patient_dates_charge &&
        p->member_id && p->date_from) {
        const claim_ref *cand[2];
        size_t n = lk->by_patient_dates_charge(lk->ctx, p, cand, 2);
        if (n == 1) {
            out->status = MATCH_MATCHED;
            out->how = MATCH_HOW_FALLBACK;
            out->claim = cand[0];
            snprintf(out->why, sizeof out->why,
                     "no claim by patient control number; matched by member, service dates and charge");
            return;
        }
        if (n > 1) {
            out->status = MATCH_AMBIGUOUS;
            out->how = MATCH_HOW_FALLBACK;
            out->ncandidates = n;
            snprintf(out->why, sizeof out->why,
                     "no claim by patient control number; %zu claims have this member, service dates "
                     "and charge; not guessing",
                     n);
            return;
        }
    }
    out->status = MATCH_UNMATCHED;
    snprintf(out->why, sizeof out->why, "%s",
             nk == 0 ? "no patient control number and no claim found by the fallback"
             : r->fallback == MATCH_FALLBACK_NONE
                 ? "no open claim with this patient control number (no fallback for this payer)"
                 : "no open claim with this patient control number, nor by member, dates and charge");
}

/* --- lines ------------------------------------------------------------------- */

static int streq(const char *a, const char *b) { return !strcmp(a ? a : "", b ? b : ""); }

/* The procedure the provider billed: SVC06 when the payer changed it. */
static const char *billed_proc(const remit_line *l, const char (**mods)[3], unsigned *nmod)
{
    if (l->orig_proc[0]) {
        *mods = (const char(*)[3])l->orig_mod;
        *nmod = l->norig_mod;
        return l->orig_proc;
    }
    *mods = (const char(*)[3])l->mod;
    *nmod = l->nmod;
    return l->proc;
}

static int same_mods(const char (*mods)[3], unsigned nmod, const claim_line_ref *ll)
{
    unsigned n = 0;
    for (unsigned i = 0; i < 4; i++)
        if (ll->modifiers[i] && ll->modifiers[i][0]) {
            if (n >= nmod || strcmp(mods[n], ll->modifiers[i]))
                return 0;
            n++;
        }
    return n == nmod;
}

static int same_line(const claim_line_ref *a, const claim_line_ref *b)
{
    if (!streq(a->procedure, b->procedure) || !streq(a->date, b->date) || a->charge != b->charge)
        return 0;
    for (int i = 0; i < 4; i++)
        if (!streq(a->modifiers[i], b->modifiers[i]))
            return 0;
    return 1;
}

unsigned match_lines(const match_rules *r, const remit_claim *c, const claim_ref *ledger,
                     match_line_result *out)
{
    size_t nl = ledger ? ledger->nlines : 0;
    unsigned char used_small[64];
    unsigned char *used = nl <= sizeof used_small ? used_small : calloc(nl, 1);
    int *cand = NULL;
    unsigned matched = 0;
    if (!used)
        nl = 0; /* out of memory: nothing matches, all lines to the worklist */
    else if (used == used_small)
        memset(used, 0, sizeof used_small);
    cand = nl ? malloc(nl * sizeof *cand) : NULL;
    if (nl && !cand)
        nl = 0;
    for (unsigned i = 0; i < c->nlines; i++) {
        const remit_line *l = &c->lines[i];
        match_line_result *o = &out[i];
        o->status = MATCH_UNMATCHED;
        o->ledger_line = -1;
        o->how = 0;
        for (unsigned m = 0; m < r->nline_match && o->status == MATCH_UNMATCHED; m++) {
            size_t n = 0;
            if (r->line_match[m] == MATCH_LINE_REF_6R) {
                if (!l->control[0])
                    continue;
                for (size_t k = 0; k < nl; k++)
                    if (!used[k] && ledger->lines[k].control && !strcmp(ledger->lines[k].control, l->control))
                        cand[n++] = (int)k;
            } else {
                const char(*mods)[3];
                unsigned nmod;
                const char *proc = billed_proc(l, &mods, &nmod);
                if (!proc[0])
                    continue;
                for (size_t k = 0; k < nl; k++)
                    if (!used[k] && streq(ledger->lines[k].procedure, proc))
                        cand[n++] = (int)k;
                /* narrow step by step, never below one */
                size_t w = 0;
                for (size_t k = 0; k < n && n > 1; k++)
                    if (same_mods(mods, nmod, &ledger->lines[cand[k]]))
                        cand[w++] = cand[k];
                if (n > 1 && w > 0)
                    n = w;
                w = 0;
                for (size_t k = 0; k < n && n > 1; k++)
                    if (streq(ledger->lines[cand[k]].date, l->date_from))
                        cand[w++] = cand[k];
                if (n > 1 && w > 0)
                    n = w;
                w = 0;
                for (size_t k = 0; k < n && n > 1; k++)
                    if (ledger->lines[cand[k]].charge == l->charge)
                        cand[w++] = cand[k];
                if (n > 1 && w > 0)
                    n = w;
                /* lines that cannot be told apart are taken in order */
                int alike = 1;
                for (size_t k = 1; k < n && alike; k++)
                    alike = same_line(&ledger->lines[cand[0]], &ledger->lines[cand[k]]);
                if (n > 1 && alike)
                    n = 1;
            }
            if (n == 1) {
                o->status = MATCH_MATCHED;
                o->how = r->line_match[m];
                o->ledger_line = cand[0];
                used[cand[0]] = 1;
                matched++;
            } else if (n > 1) {
                o->status = MATCH_AMBIGUOUS;
            }
        }
    }
    free(cand);
    if (used != used_small)
        free(used);
    return matched;
}

/* --- underpayment ------------------------------------------------------------ */

static const match_fee *fee_find(const match_rules *r, const char *key)
{
    match_fee k;
    snprintf(k.key, sizeof k.key, "%s", key);
    return r->nfees ? bsearch(&k, r->fees, r->nfees, sizeof *r->fees, fee_cmp) : NULL;
}

int match_expected_allowed(const match_rules *r, const char *procedure, const char (*mods)[3],
                           unsigned nmod, int64_t *cents)
{
    if (!r->nfees || !procedure || !procedure[0])
        return 0;
    char key[24];
    const match_fee *f = NULL;
    for (unsigned i = 0; i < nmod && !f; i++) {
        snprintf(key, sizeof key, "%s:%s", procedure, mods[i]);
        f = fee_find(r, key);
    }
    if (!f)
        f = fee_find(r, procedure);
    if (!f)
        return 0;
    *cents = f->cents;
    return 1;
}

int match_line_underpaid(const match_rules *r, const remit_claim *c, const remit_line *l,
                         match_underpayment *out)
{
    memset(out, 0, sizeof *out);
    if (c->status_code == 22 || (l->paid == 0 && l->pr_total == 0))
        return 0;
    int64_t per_unit;
    if (!match_expected_allowed(r, l->proc, (const char(*)[3])l->mod, l->nmod, &per_unit))
        return 0;
    /* units in hundredths: 1.5 units of 20.00 expect 30.00 (rounded down) */
    out->expected = per_unit * l->units_x100 / 100;
    out->allowed = l->has_allowed ? l->allowed : l->paid + l->pr_total;
    out->shortfall = out->expected - out->allowed;
    return out->shortfall > r->underpayment_tolerance;
}
