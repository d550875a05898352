/*
 * daemon.h - the engine's main loop: intake -> batch -> send -> collect ->
 * reconcile, each on its own schedule per payer.
 *
 * Like Postfix's queue manager, the loop owns nothing but time: the work is
 * done by the steps (daemon_ops), which keep all state in the ledger and the
 * spool, so a daemon killed at any moment restarts where it was.  It sleeps
 * in watch_wait() until a spool directory changes or the next step is due,
 * so a waiting daemon uses no CPU.
 *
 * Signals: SIGTERM/SIGINT finish the step in hand and return; SIGHUP asks
 * ops->reload (a refused reload keeps the old configuration and is logged).
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <stdint.h>

#include "ch_error.h"
#include "watch.h"

#define DAEMON_MAX_PAYERS 64

/* When a payer's steps run.  Seconds; 0 disables a trigger. */
typedef struct daemon_schedule {
    char payer[32];
    unsigned batch_every;    /* batch at least this often when claims wait */
    unsigned batch_at;       /* ...or as soon as this many claims wait */
    unsigned send_every;     /* look for ready batches */
    unsigned collect_every;  /* poll the payer for responses (reconcile follows) */
} daemon_schedule;

typedef struct daemon_ops {
    void *ctx;
    /* Each returns CH_OK or an error (logged; the loop goes on).  *done is
     * how many items the step handled. */
    ch_code (*intake)(void *ctx, unsigned *done, ch_error *err);
    ch_code (*batch)(void *ctx, const char *payer, unsigned *done, ch_error *err);
    ch_code (*send)(void *ctx, const char *payer, unsigned *done, ch_error *err);
    ch_code (*collect)(void *ctx, const char *payer, unsigned *done, ch_error *err);
    ch_code (*reconcile)(void *ctx, const char *payer, unsigned *done, ch_error *err);
    /* Claims queued for a payer (for batch_at). */
    uint64_t (*queued)(void *ctx, const char *payer);
    /* Re-read configuration and payer profiles; on error keep the old ones
     * and fill err.  The schedules may change: fill sched / *nsched. */
    ch_code (*reload)(void *ctx, daemon_schedule *sched, unsigned *nsched, ch_error *err);
} daemon_ops;

typedef struct daemon_opts {
    int once;              /* one full pass of every step for every payer, then return */
    unsigned poll_ms;      /* the longest sleep (also the polling fallback interval) */
    watch *w;              /* spool directories to wake on (may be NULL) */
    unsigned max_passes;   /* stop after this many loop passes (tests); 0 = no limit */
} daemon_opts;

/* Install SIGTERM/SIGINT/SIGHUP handlers that set the loop's flags. */
void daemon_signals(void);

/* Ask the loop to stop after the step in hand (what SIGTERM does). */
void daemon_request_stop(void);

/*
 * Run the loop until a stop is requested (or one pass with opts->once).
 * Returns CH_OK, or the first error of a --once pass (the pass still runs
 * every step).
 */
ch_code daemon_run(const daemon_ops *ops, daemon_schedule *sched, unsigned nsched,
                   const daemon_opts *opts, ch_error *err);

/* Parse "90", "90s", "15m", "2h" into seconds; -1 when it cannot. */
long daemon_parse_duration(const char *s);

#endif
