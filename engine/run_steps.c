/* run_steps.c - the daemon's steps (see run_steps.h) */
#include "run_steps.h"

#include <string.h>
#include <time.h>

#include "batch.h"
#include "collect.h"
#include "demo_payer.h"
#include "intake.h"
#include "ledger.h"
#include "reconcile.h"
#include "log.h"
#include "send.h"
#include "transport.h"

void run_ctx_init(run_ctx *c, app *a, const char *config_path)
{
    memset(c, 0, sizeof c[0]);
    c->a = a;
    c->config_path = config_path;
    /* answers of a demonstration payer get control numbers that do not repeat
     * across restarts: seconds since 2020 make a fine base */
    c->demo_control = (unsigned long)(time(NULL) - 1577836800L) % 900000000ul;
}

void run_ctx_close(run_ctx *c) { (void)c; }

static ch_code step_intake(void *vctx, unsigned *done, ch_error *err)
{
    run_ctx *c = vctx;
    intake_opts o;
    memset(&o, 0, sizeof o);
    o.actor = "daemon";
    intake_report rep;
    memset(&rep, 0, sizeof rep);
    ch_code rc = intake_run(c->a->cfg, c->a->led, &o, &rep, err);
    *done = (unsigned)(rep.claims_new + rep.claims_revised + rep.claims_replacement + rep.files_failed);
    return rc;
}

static ch_code step_batch(void *vctx, const char *payer, unsigned *done, ch_error *err)
{
    run_ctx *c = vctx;
    batch_opts o;
    memset(&o, 0, sizeof o);
    o.payer = payer;
    o.actor = "daemon";
    batch_report rep;
    memset(&rep, 0, sizeof rep);
    ch_code rc = batch_run(c->a->cfg, c->a->led, &o, &rep, err);
    *done = (unsigned)rep.files;
    return rc;
}

/* A demonstration payer (a profile with `simulator:` and a `dir:`
 * transport) answers what it was sent, in the same process. */
static void answer_demo(run_ctx *c, const char *payer)
{
    const payer_profile *p = config_profile(c->a->cfg, payer);
    if (!p || !p->has_sim || !p->transport || p->transport->kind != TRANSPORT_DIR)
        return;
    unsigned n = 0;
    ch_error e;
    ch_error_clear(&e);
    if (demo_payer_answer(p->transport->dir.upload_dir, p->transport->dir.response_dir, &p->sim,
                          &c->demo_control, &n, &e) != CH_OK)
        LOG(LOG_ERROR, "demo_payer.failed", LOG_STR("payer", payer), LOG_STR("reason", e.msg));
}

static ch_code step_send(void *vctx, const char *payer, unsigned *done, ch_error *err)
{
    run_ctx *c = vctx;
    send_opts o;
    memset(&o, 0, sizeof o);
    o.payer = payer;
    o.max_wait_ms = 0; /* the daemon comes back: no waiting in the loop */
    send_report rep;
    memset(&rep, 0, sizeof rep);
    ch_code rc = send_run(c->a->cfg, c->a->led, &o, &rep, err);
    *done = (unsigned)(rep.sent + rep.found);
    answer_demo(c, payer);
    return rc;
}

static ch_code step_collect(void *vctx, const char *payer, unsigned *done, ch_error *err)
{
    run_ctx *c = vctx;
    collect_opts o;
    memset(&o, 0, sizeof o);
    o.payer = payer;
    collect_report rep;
    memset(&rep, 0, sizeof rep);
    ch_code rc = collect_run(c->a->cfg, c->a->led, &o, &rep, err);
    *done = (unsigned)rep.files;
    return rc;
}

static ch_code step_reconcile(void *vctx, const char *payer, unsigned *done, ch_error *err)
{
    run_ctx *c = vctx;
    return reconcile_inbox(c->a->cfg, c->a->led, payer, done, err);
}

static uint64_t queued(void *vctx, const char *payer)
{
    run_ctx *c = vctx;
    ledger_filter f;
    memset(&f, 0, sizeof f);
    f.payer = payer;
    f.state = -1;
    uint64_t counts[LEDGER_STATE__COUNT] = {0};
    if (ledger_claims_count(c->a->led, &f, counts, NULL) != CH_OK)
        return 0;
    return counts[LEDGER_QUEUED];
}

void run_ops(run_ctx *c, daemon_ops *ops)
{
    memset(ops, 0, sizeof *ops);
    ops->ctx = c;
    ops->intake = step_intake;
    ops->batch = step_batch;
    ops->send = step_send;
    ops->collect = step_collect;
    ops->reconcile = step_reconcile;
    ops->queued = queued;
}
