/*
 * cmd_run.c - `clearinghouse run`: the daemon.
 *
 * One daemon per spool (an flock on SPOOL/.lock).  It watches the inbound
 * directories (inotify, or polling), and runs intake -> batch -> send ->
 * collect -> reconcile on each payer's schedule (payer_schedule.h) until
 * SIGTERM; SIGHUP re-reads the configuration and payer profiles, and keeps
 * the old ones when the new ones have an error.  --once does one full pass.
 * A demonstration payer (a profile with `simulator:`) is answered in the
 * same pass, right after sending, so the demo runs as one process.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "batch.h"
#include "cli.h"
#include "commands.h"
#include "daemon.h"
#include "intake.h"
#include "lockfile.h"
#include "log.h"
#include "run_steps.h"
#include "spool.h"
#include "watch.h"

static void help(void)
{
    printf("usage: clearinghouse run [--config FILE] [--once] [--poll SECONDS] [--log FILE]\n\n"
           "The engine's daemon: takes encounters from SPOOL/inbound/<practice>/, batches\n"
           "them into 837 files, sends them to each payer, collects the payers' answers\n"
           "(999, 277CA, 835) and reconciles them, each payer on the schedule of its\n"
           "profile (`schedule:`).  One daemon per spool.  Log lines are JSON, one per\n"
           "event, without patient data.\n\n"
           "  --config FILE   the configuration (default " CONFIG_DEFAULT_PATH ")\n"
           "  --once          one full pass of every step for every payer, then exit\n"
           "  --poll SECONDS  the longest sleep between passes (default 30); also the\n"
           "                  polling interval where inotify is not available\n"
           "  --log FILE      log to FILE instead of the configuration's logging.file\n"
           "  --help          this text\n\n"
           "Signals: SIGTERM/SIGINT finish the step in hand and exit; SIGHUP reloads.\n"
           "Exit status: 0 ok, 1 a step failed (--once), 2 usage, configuration, lock or\n"
           "I/O error.\n");
}

/* Schedules from the loaded profiles. */
static unsigned schedules(const config *cfg, daemon_schedule *s)
{
    unsigned n = 0;
    for (size_t i = 0; i < cfg->nprofiles && n < DAEMON_MAX_PAYERS; i++) {
        const payer_profile *p = cfg->profiles[i];
        memset(&s[n], 0, sizeof s[n]);
        snprintf(s[n].payer, sizeof s[n].payer, "%s", p->name);
        s[n].batch_every = p->schedule.batch_every;
        s[n].batch_at = p->schedule.batch_at;
        s[n].send_every = p->schedule.send_every;
        s[n].collect_every = p->schedule.collect_every;
        n++;
    }
    return n;
}

static ch_code reload(void *vctx, daemon_schedule *sched, unsigned *nsched, ch_error *err)
{
    run_ctx *c = vctx;
    config *fresh = NULL;
    ch_code rc = config_load(&fresh, c->config_path, err);
    if (rc != CH_OK)
        return rc; /* the old configuration stays */
    config_free(c->a->cfg);
    c->a->cfg = fresh;
    *nsched = schedules(fresh, sched);
    return CH_OK;
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"once", no_argument, NULL, 'o'},
                                         {"poll", required_argument, NULL, 'p'},
                                         {"log", required_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *log_path = NULL;
    int once = 0;
    long poll_s = 30;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:op:l:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config_path = optarg;
            break;
        case 'o':
            once = 1;
            break;
        case 'p':
            poll_s = daemon_parse_duration(optarg);
            if (poll_s <= 0)
                return cli_usage_error("run", "--poll takes a duration such as 30 or 5s");
            break;
        case 'l':
            log_path = optarg;
            break;
        case 'h':
            help();
            return EXIT_OK;
        default:
            return cli_usage_error("run", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    app a;
    int rc = app_open(&a, "run", config_path);
    if (rc != EXIT_OK)
        return rc;
    ch_error err;
    /* the daemon's event log is at info at least, whatever the commands use */
    if (log_open(log_path ? log_path : a.cfg->log_file, a.cfg->log_level == CONFIG_LOG_DEBUG ? LOG_DEBUG : LOG_INFO,
                 &err) != CH_OK) {
        fprintf(stderr, "clearinghouse run: %s\n", err.msg);
        app_close(&a);
        return EXIT_TROUBLE;
    }
    char lockpath[4200];
    snprintf(lockpath, sizeof lockpath, "%s/.lock", a.cfg->spool);
    lockfile lk;
    if (lockfile_take(&lk, lockpath, &err) != CH_OK) {
        fprintf(stderr, "clearinghouse run: %s\n", err.msg);
        app_close(&a);
        return EXIT_TROUBLE;
    }
    /* what a crash left half-written: only the daemon's own areas, and
     * nothing younger than 2 s (a command running now may be writing it) */
    run_sweep_temporaries(a.cfg->spool, 2);
    watch *w = NULL;
    if (watch_new(&w, 0, &err) == CH_OK) {
        for (size_t i = 0; i < a.cfg->npractices; i++) {
            char dir[4096];
            if (spool_dir(dir, sizeof dir, a.cfg->spool, "inbound", a.cfg->practices[i].id, NULL) == CH_OK)
                watch_add(w, dir, NULL);
        }
    }
    run_ctx ctx;
    run_ctx_init(&ctx, &a, config_path ? config_path : CONFIG_DEFAULT_PATH);
    daemon_ops ops;
    run_ops(&ctx, &ops);
    ops.reload = reload;
    daemon_schedule sched[DAEMON_MAX_PAYERS];
    unsigned n = schedules(a.cfg, sched);
    daemon_opts dopts = {.once = once, .poll_ms = (unsigned)poll_s * 1000, .w = w};
    daemon_signals();
    ch_code code = daemon_run(&ops, sched, n, &dopts, &err);
    if (code != CH_OK && once)
        fprintf(stderr, "clearinghouse run: %s\n", err.msg);
    run_ctx_close(&ctx);
    watch_free(w);
    lockfile_release(&lk);
    app_close(&a);
    return code == CH_OK ? EXIT_OK : EXIT_PROBLEMS;
}
