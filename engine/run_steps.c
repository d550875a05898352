/* run_steps.c - the daemon's steps (see run_steps.h) */
#include "run_steps.h"

#include <string.h>
#include <time.h>

#include "batch.h"
#include "intake.h"
#include "ledger.h"

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
    ops->queued = queued;
}
