/* daemon.c - the main loop (see daemon.h) */
#include "daemon.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_requested = 1;
    else
        stop_requested = 1;
}

void daemon_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: a signal wakes the sleep at once */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

void daemon_request_stop(void) { stop_requested = 1; }

long daemon_parse_duration(const char *s)
{
    if (!s || !*s)
        return -1;
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || v < 0)
        return -1;
    if (*end == '\0' || !strcmp(end, "s"))
        return v;
    if (!strcmp(end, "m"))
        return v * 60;
    if (!strcmp(end, "h"))
        return v * 3600;
    return -1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Per-payer times of the next run of each step. */
typedef struct due {
    int64_t batch, send, collect;
} due;

static ch_code step(const char *name, const char *payer,
                    ch_code (*fn)(void *, const char *, unsigned *, ch_error *), void *ctx,
                    ch_code *first_err, ch_error *err)
{
    if (!fn)
        return CH_OK;
    unsigned done = 0;
    ch_error e;
    ch_error_clear(&e);
    ch_code rc = fn(ctx, payer, &done, &e);
    if (rc != CH_OK) {
        LOG(LOG_ERROR, "step.failed", LOG_STR("step", name), LOG_STR("payer", payer),
            LOG_STR("reason", e.msg));
        if (*first_err == CH_OK) {
            *first_err = rc;
            if (err)
                *err = e;
        }
    } else if (done) {
        LOG(LOG_INFO, "step.done", LOG_STR("step", name), LOG_STR("payer", payer),
            LOG_INT("items", done));
    }
    return rc;
}

static void intake(const daemon_ops *ops, ch_code *first_err, ch_error *err)
{
    if (!ops->intake)
        return;
    unsigned done = 0;
    ch_error e;
    ch_error_clear(&e);
    ch_code rc = ops->intake(ops->ctx, &done, &e);
    if (rc != CH_OK) {
        LOG(LOG_ERROR, "step.failed", LOG_STR("step", "intake"), LOG_STR("reason", e.msg));
        if (*first_err == CH_OK) {
            *first_err = rc;
            if (err)
                *err = e;
        }
    } else if (done) {
        LOG(LOG_INFO, "step.done", LOG_STR("step", "intake"), LOG_INT("items", done));
    }
}

ch_code daemon_run(const daemon_ops *ops, daemon_schedule *sched, unsigned nsched,
                   const daemon_opts *opts, ch_error *err)
{
    due when[DAEMON_MAX_PAYERS];
    int64_t t0 = now_ms();
    for (unsigned i = 0; i < nsched && i < DAEMON_MAX_PAYERS; i++)
        when[i] = (due){t0, t0, t0};
    ch_code first_err = CH_OK;
    unsigned passes = 0;
    stop_requested = 0;
    LOG(LOG_INFO, "daemon.start", LOG_INT("payers", nsched), LOG_INT("once", opts->once),
        LOG_STR("watch", opts->w && watch_is_inotify(opts->w) ? "inotify" : "polling"));
    while (!stop_requested) {
        if (reload_requested && ops->reload) {
            reload_requested = 0;
            ch_error e;
            ch_error_clear(&e);
            unsigned n = nsched;
            if (ops->reload(ops->ctx, sched, &n, &e) == CH_OK) {
                nsched = n < DAEMON_MAX_PAYERS ? n : DAEMON_MAX_PAYERS;
                for (unsigned i = 0; i < nsched; i++)
                    when[i] = (due){now_ms(), now_ms(), now_ms()};
                LOG(LOG_INFO, "config.reloaded", LOG_INT("payers", nsched));
            } else {
                LOG(LOG_ERROR, "config.refused", LOG_STR("reason", e.msg));
            }
        }
        intake(ops, &first_err, err);
        int64_t next = now_ms() + (opts->poll_ms ? opts->poll_ms : 30000);
        for (unsigned i = 0; i < nsched && !stop_requested; i++) {
            daemon_schedule *s = &sched[i];
            int64_t t = now_ms();
            uint64_t waiting = ops->queued ? ops->queued(ops->ctx, s->payer) : 0;
            int batch_due = opts->once || (s->batch_every && t >= when[i].batch) ||
                            (s->batch_at && waiting >= s->batch_at);
            if (batch_due && (waiting || opts->once)) {
                step("batch", s->payer, ops->batch, ops->ctx, &first_err, err);
                when[i].send = t; /* send what was just batched */
            }
            /* the timer moves on whether or not anything waited: a due time
             * left in the past would make the loop spin instead of sleep */
            if (batch_due)
                when[i].batch = t + (int64_t)(s->batch_every ? s->batch_every : 60) * 1000;
            if (stop_requested)
                break;
            if (opts->once || t >= when[i].send) {
                step("send", s->payer, ops->send, ops->ctx, &first_err, err);
                when[i].send = t + (int64_t)(s->send_every ? s->send_every : 60) * 1000;
            }
            if (stop_requested)
                break;
            if (opts->once || (s->collect_every && t >= when[i].collect)) {
                step("collect", s->payer, ops->collect, ops->ctx, &first_err, err);
                if (!stop_requested)
                    step("reconcile", s->payer, ops->reconcile, ops->ctx, &first_err, err);
                when[i].collect = t + (int64_t)s->collect_every * 1000;
            }
            int64_t n[3] = {s->batch_every ? when[i].batch : INT64_MAX, when[i].send,
                            s->collect_every ? when[i].collect : INT64_MAX};
            for (int k = 0; k < 3; k++)
                if (n[k] < next)
                    next = n[k];
        }
        passes++;
        if (opts->once || (opts->max_passes && passes >= opts->max_passes))
            break;
        int64_t wait = next - now_ms();
        if (wait > 0 && !stop_requested && !reload_requested) {
            if (opts->w)
                watch_wait(opts->w, (int)wait);
            else {
                struct timespec ts = {wait / 1000, (wait % 1000) * 1000000};
                nanosleep(&ts, NULL);
            }
        }
    }
    LOG(LOG_INFO, "daemon.stop", LOG_INT("passes", passes));
    return first_err;
}
