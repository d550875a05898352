/* test_daemon_loop.c - the scheduler: --once runs every step, batch_at
 * triggers early, SIGTERM finishes the step in hand, a refused SIGHUP reload
 * keeps the old schedule. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

typedef struct fake {
    char calls[4096];
    uint64_t queued;
    int term_in_batch;
    int reloads;
} fake;

static void note(fake *f, const char *what, const char *payer)
{
    size_t n = strlen(f->calls);
    snprintf(f->calls + n, sizeof f->calls - n, "%s:%s ", what, payer ? payer : "-");
}
static ch_code f_intake(void *c, unsigned *d, ch_error *e) { (void)e; *d = 0; note(c, "intake", NULL); return CH_OK; }
static ch_code f_batch(void *c, const char *p, unsigned *d, ch_error *e)
{
    (void)e;
    fake *f = c;
    note(f, "batch", p);
    if (f->term_in_batch)
        raise(SIGTERM); /* arrives mid-step: the step still completes */
    note(f, "batch-done", p);
    f->queued = 0;
    *d = 1;
    return CH_OK;
}
static ch_code f_send(void *c, const char *p, unsigned *d, ch_error *e) { (void)e; *d = 0; note(c, "send", p); return CH_OK; }
static ch_code f_collect(void *c, const char *p, unsigned *d, ch_error *e) { (void)e; *d = 0; note(c, "collect", p); return CH_OK; }
static ch_code f_reconcile(void *c, const char *p, unsigned *d, ch_error *e)
{
    *d = 0;
    note(c, "reconcile", p);
    return ch_error_set(e, CH_ERR_SYNTAX, "835 unreadable"); /* logged, the loop goes on */
}
static uint64_t f_queued(void *c, const char *p) { (void)p; return ((fake *)c)->queued; }
static ch_code f_reload(void *c, daemon_schedule *s, unsigned *n, ch_error *e)
{
    (void)s;
    (void)n;
    ((fake *)c)->reloads++;
    return ch_error_set(e, CH_ERR_CONFIG, "payer-profiles/acme.yaml: line 3: bad");
}

static daemon_ops ops(fake *f)
{
    return (daemon_ops){f, f_intake, f_batch, f_send, f_collect, f_reconcile, f_queued, f_reload};
}

Test(daemon, once_runs_every_step_for_every_payer)
{
    log_open("/dev/null", LOG_INFO, NULL);
    fake f = {0};
    daemon_ops o = ops(&f);
    daemon_schedule s[2] = {{"acme", 900, 0, 60, 600}, {"demo", 60, 10, 60, 60}};
    daemon_opts opts = {.once = 1};
    ch_error err;
    cr_assert_eq(daemon_run(&o, s, 2, &opts, &err), CH_ERR_SYNTAX);
    cr_assert_str_eq(f.calls, "intake:- batch:acme batch-done:acme send:acme collect:acme reconcile:acme "
                              "batch:demo batch-done:demo send:demo collect:demo reconcile:demo ");
    cr_assert(strstr(err.msg, "835 unreadable"));
}

Test(daemon, batch_at_triggers_before_the_timer)
{
    log_open("/dev/null", LOG_INFO, NULL);
    fake f = {.queued = 12};
    daemon_ops o = ops(&f);
    /* batch every hour, or at 10 claims; collect disabled */
    daemon_schedule s[1] = {{"demo", 3600, 10, 3600, 0}};
    daemon_opts opts = {.poll_ms = 10, .max_passes = 3};
    daemon_run(&o, s, 1, &opts, NULL);
    /* first pass: the hour has not started counting, but 12 >= 10 waits */
    cr_assert(strstr(f.calls, "batch:demo"), "%s", f.calls);
    cr_assert_null(strstr(f.calls, "collect"), "%s", f.calls);
}

Test(daemon, sigterm_finishes_the_step_in_hand)
{
    log_open("/dev/null", LOG_INFO, NULL);
    daemon_signals();
    fake f = {.queued = 5, .term_in_batch = 1};
    daemon_ops o = ops(&f);
    daemon_schedule s[2] = {{"acme", 1, 1, 1, 1}, {"demo", 1, 1, 1, 1}};
    daemon_opts opts = {.poll_ms = 10};
    daemon_run(&o, s, 2, &opts, NULL);
    cr_assert_str_eq(f.calls, "intake:- batch:acme batch-done:acme ", "%s", f.calls);
}

Test(daemon, refused_reload_keeps_the_old_schedule)
{
    log_open("/dev/null", LOG_INFO, NULL);
    daemon_signals();
    fake f = {0};
    daemon_ops o = ops(&f);
    daemon_schedule s[1] = {{"demo", 0, 0, 1, 0}};
    daemon_opts opts = {.poll_ms = 5, .max_passes = 4};
    raise(SIGHUP);
    daemon_run(&o, s, 1, &opts, NULL);
    cr_assert_eq(f.reloads, 1);
    cr_assert_str_eq(s[0].payer, "demo");
    cr_assert(strstr(f.calls, "send:demo"));
}

Test(daemon, durations)
{
    cr_assert_eq(daemon_parse_duration("90"), 90);
    cr_assert_eq(daemon_parse_duration("15m"), 900);
    cr_assert_eq(daemon_parse_duration("2h"), 7200);
    cr_assert_eq(daemon_parse_duration("5s"), 5);
    cr_assert_eq(daemon_parse_duration("5d"), -1);
    cr_assert_eq(daemon_parse_duration(""), -1);
}

/* An idle daemon sleeps: with nothing queued, a batch timer that came due
 * once must move on, or every pass would find it due again and the loop
 * would spin (it once did: thousands of passes a second at 93% CPU). */
Test(daemon, an_idle_daemon_sleeps_between_passes)
{
    log_open("/dev/null", LOG_INFO, NULL);
    fake f = {0};
    daemon_ops o = ops(&f);
    daemon_schedule s[1] = {{"demo", 1, 1, 1, 0}};
    daemon_opts opts = {.poll_ms = 300, .max_passes = 4};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    daemon_run(&o, s, 1, &opts, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    cr_assert_geq(secs, 0.5, "4 passes with 1 s timers took %.3f s: the loop did not sleep", secs);
}
