/*
 * run_steps.h - the daemon's steps: each one is a command's engine function
 * (intake_run, batch_run, send, collect, reconcile) called for one payer.
 * Kept apart from cmd_run.c so tests can drive the same steps.
 */
#ifndef RUN_STEPS_H
#define RUN_STEPS_H

#include "app.h"
#include "daemon.h"

typedef struct run_ctx {
    app *a;
    const char *config_path;
} run_ctx;

void run_ctx_init(run_ctx *c, app *a, const char *config_path);
void run_ctx_close(run_ctx *c);

/*
 * Remove temporary files (dot names) older than min_age seconds that a
 * crash left in the engine's own spool areas (outbound/, inbox/, reports/,
 * archive/; never inbound/, where practices write theirs).  A finished file
 * is only ever renamed from its temporary, so such a file is never data that
 * was delivered or recorded.  Each removal is logged.  Returns how many.
 */
unsigned run_sweep_temporaries(const char *spool, unsigned min_age);

/* Fill ops with the steps (ops->ctx = c); reload is left to the caller. */
void run_ops(run_ctx *c, daemon_ops *ops);

#endif
