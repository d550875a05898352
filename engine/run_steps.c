/* run_steps.c - the daemon's steps (see run_steps.h) */
#include "run_steps.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
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
    if (demo_payer_answer(p->transport->dir.upload_dir, p->transport->dir.response_dir, &p->sim, &n, &e) != CH_OK)
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

static unsigned sweep_dir(const char *dir, time_t cutoff, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < 3)
                n += sweep_dir(path, cutoff, depth + 1);
        } else if (S_ISREG(st.st_mode) && e->d_name[0] == '.' && st.st_mtime <= cutoff &&
                   !strstr(e->d_name, ".lock") && unlink(path) == 0) {
            LOG(LOG_WARN, "spool.stale_temporary_removed", LOG_STR("file", path));
            n++;
        }
    }
    closedir(d);
    return n;
}

unsigned run_sweep_temporaries(const char *spool, unsigned min_age)
{
    static const char *const areas[] = {"outbound", "inbox", "reports", "archive", NULL};
    time_t cutoff = time(NULL) - (time_t)min_age;
    unsigned n = 0;
    for (const char *const *a = areas; *a; a++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", spool, *a);
        n += sweep_dir(dir, cutoff, 0);
    }
    return n;
}
