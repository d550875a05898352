/* collect.c - see collect.h */
#include "collect.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "progress.h"
#include "send.h"
#include "spool.h"
#include "transport.h"

static int can_collect(const transport_config *tc)
{
    switch (tc->kind) {
    case TRANSPORT_DIR: return tc->dir.response_dir[0] != '\0';
    case TRANSPORT_SFTP: return tc->sftp.response_dir[0] != '\0';
    case TRANSPORT_HTTPS: return tc->https.list_url[0] != '\0';
    default: return 0;
    }
}

typedef struct cctx {
    ledger *led;
    const collect_opts *o;
    collect_report *rep;
    const char *payer;
    ch_code ledger_rc;         /* a ledger failure stops the run */
    ch_error ledger_err;
    progress pg;
} cctx;

static ch_code record(void *ud, const char *remote_name, const char *local_path, uint64_t size,
                      const char sha256_hex[SHA256_HEX], ch_error *err)
{
    cctx *c = ud;
    ledger_received prev;
    int64_t id = 0;
    ch_error e;
    ch_code rc = ledger_received_add(c->led, c->payer, remote_name, size, sha256_hex, local_path, &id, &prev, &e);
    collect_file_result r = {c->payer, remote_name, local_path, size, sha256_hex, 0};
    if (rc == CH_ERR_EXISTS) {
        r.duplicate = 1;
        c->rep->duplicates++;
        LOG(LOG_INFO, "collect.duplicate", LOG_STR("payer", c->payer), LOG_STR("remote_file", remote_name),
            LOG_STR("sha256", sha256_hex), LOG_INT("first_id", prev.id));
        if (c->o->on_file)
            c->o->on_file(c->o->ctx, &r);
        /* the very file recorded before (downloaded again after a crash
         * before the remote side was cleaned up): keep it */
        return strcmp(prev.local_path, local_path) ? CH_ERR_EXISTS : CH_OK;
    }
    if (rc != CH_OK) {
        if (c->ledger_rc == CH_OK) {
            c->ledger_rc = rc;
            c->ledger_err = e;
        }
        if (err)
            *err = e;
        return rc; /* the remote file stays, to be collected again */
    }
    c->rep->files++;
    c->rep->bytes += size;
    LOG(LOG_INFO, "collect.file", LOG_STR("payer", c->payer), LOG_STR("remote_file", remote_name),
        LOG_INT("size", size), LOG_STR("sha256", sha256_hex), LOG_INT("id", id));
    progress_update(&c->pg, c->rep->files + c->rep->duplicates);
    if (c->o->on_file)
        c->o->on_file(c->o->ctx, &r);
    return CH_OK;
}

static void payer_error(cctx *c, const char *payer, const char *why)
{
    c->rep->payer_errors++;
    LOG(LOG_ERROR, "collect.failed", LOG_STR("payer", payer), LOG_STR("why", why));
    if (c->o->on_payer_error)
        c->o->on_payer_error(c->o->ctx, payer, why);
}

ch_code collect_run(const config *cfg, ledger *led, const collect_opts *o, collect_report *rep, ch_error *err)
{
    memset(rep, 0, sizeof *rep);
    ch_error_clear(err);
    cctx c;
    memset(&c, 0, sizeof c);
    c.led = led;
    c.o = o;
    c.rep = rep;
    int found = 0;
    for (size_t i = 0; i < cfg->nprofiles; i++) {
        const payer_profile *p = cfg->profiles[i];
        if (o->payer && strcmp(o->payer, p->name))
            continue;
        found = 1;
        if (!p->transport || !can_collect(p->transport)) {
            if (o->payer)
                payer_error(&c, p->name, p->transport ? "the transport has no response location"
                                                      : "the profile has no transport: section");
            continue;
        }
        rep->payers++;
        char inbox[PATH_MAX];
        ch_error e;
        ch_code rc = spool_dir(inbox, sizeof inbox, cfg->spool, SPOOL_INBOX, p->name, &e);
        if (rc != CH_OK) {
            *err = e;
            return rc;
        }
        if (send_local_dirs(cfg, p->transport, &e) != CH_OK) {
            payer_error(&c, p->name, e.msg);
            continue;
        }
        transport *t = NULL;
        if (transport_open(p->transport, &t, &e) != CH_OK) {
            payer_error(&c, p->name, e.msg);
            continue;
        }
        char label[64];
        snprintf(label, sizeof label, "collect %s", p->name);
        progress_start(&c.pg, label, 0);
        c.payer = p->name;
        size_t n = 0;
        ch_error_clear(&e);
        rc = transport_collect(t, inbox, record, &c, &n, &e);
        progress_end(&c.pg);
        transport_close(t);
        if (c.ledger_rc != CH_OK) {
            *err = c.ledger_err;
            return c.ledger_rc;
        }
        if (rc != CH_OK)
            payer_error(&c, p->name, e.msg);
        if (spool_sync_dir(inbox, &e) != CH_OK) {
            *err = e;
            return CH_ERR_IO;
        }
    }
    if (o->payer && !found)
        return ch_error_set(err, CH_ERR_USAGE, "payer '%s' is not configured", o->payer);
    return CH_OK;
}
