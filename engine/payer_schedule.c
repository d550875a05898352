/* payer_schedule.c - see payer_schedule.h */
#include "payer_schedule.h"

#include <stdio.h>
#include <string.h>

#include "daemon.h"

void payer_schedule_defaults(payer_schedule *s)
{
    s->batch_every = 15 * 60;
    s->batch_at = 500;
    s->send_every = 60;
    s->collect_every = 10 * 60;
}

static ch_code duration(const ydoc_node *map, const char *key, unsigned *out, const char *file, ch_error *err)
{
    char b[32];
    ch_code rc = ydoc_str(map, key, b, sizeof b, 0, file, "schedule", err);
    if (rc != CH_OK || !b[0])
        return rc;
    long v = daemon_parse_duration(b);
    if (v < 0 || v > 7 * 86400)
        return ydoc_error(err, ydoc_get(map, key), file, "schedule", key,
                          "'%s' is not a duration (e.g. 90s, 15m, 2h; at most a week)", b);
    *out = (unsigned)v;
    return CH_OK;
}

ch_code payer_schedule_load(const ydoc_node *node, payer_schedule *s, const char *file, ch_error *err)
{
    static const char *const keys[] = {"batch_every", "batch_at", "send_every", "collect_every", NULL};
    payer_schedule_defaults(s);
    if (!node || ydoc_is_null(node))
        return CH_OK;
    unsigned long at = s->batch_at;
    ch_code rc;
    if ((rc = ydoc_only_keys(node, keys, file, "schedule", err)) != CH_OK ||
        (rc = duration(node, "batch_every", &s->batch_every, file, err)) != CH_OK ||
        (rc = duration(node, "send_every", &s->send_every, file, err)) != CH_OK ||
        (rc = duration(node, "collect_every", &s->collect_every, file, err)) != CH_OK ||
        (rc = ydoc_uint(node, "batch_at", 0, 1000000, s->batch_at, &at, file, "schedule", err)) != CH_OK)
        return rc;
    s->batch_at = (unsigned)at;
    return CH_OK;
}

static ch_code codes(const ydoc_node *map, const char *key, char (*out)[6], unsigned *n, const char *file,
                     ch_error *err)
{
    const ydoc_node *v = ydoc_get(map, key);
    *n = 0;
    if (!v || ydoc_is_null(v))
        return CH_OK;
    if (v->kind != YDOC_SEQ)
        return ydoc_error(err, v, file, "simulator", key, "expected a list of procedure codes");
    for (size_t i = 0; i < v->n; i++) {
        const ydoc_node *c = v->items[i];
        if (c->kind != YDOC_SCALAR || strlen(c->str) != 5 || *n >= SIM_MAX_CODES)
            return ydoc_error(err, c, file, "simulator", key, "expected a 5-character procedure code (at most %d)",
                              SIM_MAX_CODES);
        snprintf(out[(*n)++], 6, "%s", c->str);
    }
    return CH_OK;
}

ch_code payer_sim_load(const ydoc_node *node, sim_rules *r, int *present, const char *file, ch_error *err)
{
    static const char *const keys[] = {"paid_percent", "patient_percent", "reject", "deny", "reject_999", NULL};
    payer_sim_defaults(r);
    *present = node && !ydoc_is_null(node);
    if (!*present)
        return CH_OK;
    unsigned long paid = r->paid_percent, pat = r->patient_percent;
    ch_code rc;
    if ((rc = ydoc_only_keys(node, keys, file, "simulator", err)) != CH_OK ||
        (rc = ydoc_uint(node, "paid_percent", 0, 100, paid, &paid, file, "simulator", err)) != CH_OK ||
        (rc = ydoc_uint(node, "patient_percent", 0, 100, pat, &pat, file, "simulator", err)) != CH_OK ||
        (rc = codes(node, "reject", r->reject, &r->nreject, file, err)) != CH_OK ||
        (rc = codes(node, "deny", r->deny, &r->ndeny, file, err)) != CH_OK ||
        (rc = codes(node, "reject_999", r->reject_999, &r->nreject_999, file, err)) != CH_OK)
        return rc;
    r->paid_percent = (unsigned)paid;
    r->patient_percent = (unsigned)pat;
    return CH_OK;
}
