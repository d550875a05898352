/*
 * cmd_send.c - `clearinghouse send`: ready batches to their payers over the
 * transport each payer profile names.  See send.h.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cli.h"
#include "commands.h"
#include "json_out.h"
#include "send.h"

typedef struct out_ctx {
    int json;
    json_out j;
} out_ctx;

static void when(int64_t ms, char buf[32])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void on_batch(void *vc, const send_batch_result *r)
{
    out_ctx *c = vc;
    char at[32] = "";
    if (r->next_attempt_ms > 0)
        when(r->next_attempt_ms, at);
    if (c->json) {
        json_obj_begin(&c->j);
        json_kv_str(&c->j, "payer", r->payer);
        json_kv_int(&c->j, "batch", r->batch_id);
        json_kv_str(&c->j, "file", r->file);
        json_kv_str(&c->j, "remote_name", r->remote_name);
        json_kv_str(&c->j, "status", send_status_name(r->status));
        json_kv_uint(&c->j, "attempts", r->attempts);
        json_kv_uint(&c->j, "bytes", r->bytes);
        if (at[0])
            json_kv_str(&c->j, "next_attempt_at", at);
        json_kv_str(&c->j, "why", r->why);
        json_obj_end(&c->j);
        return;
    }
    switch (r->status) {
    case SEND_SENT:
    case SEND_FOUND:
        printf("%-8s batch %" PRId64 " to %s as %s%s\n", send_status_name(r->status), r->batch_id, r->payer,
               r->remote_name, r->status == SEND_FOUND ? " (found delivered after an interruption)" : "");
        break;
    case SEND_RETRY:
    case SEND_WAITING:
        printf("%-8s batch %" PRId64 " to %s: next attempt at %s: %s\n", send_status_name(r->status), r->batch_id,
               r->payer, at, r->why);
        break;
    default:
        printf("%-8s batch %" PRId64 " to %s: %s\n", send_status_name(r->status), r->batch_id, r->payer, r->why);
        break;
    }
    fflush(stdout);
}

static void help(void)
{
    printf("usage: clearinghouse send [--config FILE] [--payer X] [--max-wait SECONDS] [--json]\n\n"
           "Sends the batches in state ready (spool/outbound/<payer>/) to each payer over\n"
           "the transport its profile names (the transport: section, docs/transport.md).\n"
           "A batch moves ready -> sending (with its claims) before it is uploaded, is\n"
           "uploaded under a temporary name and renamed into place, then becomes sent.\n"
           "Batches left in sending by an interrupted run are checked on the payer's side\n"
           "first and never sent twice.  A failed attempt is retried with exponential\n"
           "backoff, also by later runs; past the payer's retries (or when the payer\n"
           "refuses us) the batch fails and its claims go to the worklist with the reason.\n\n"
           "  --config FILE       the configuration (default " CONFIG_DEFAULT_PATH ")\n"
           "  --payer X           only this payer\n"
           "  --max-wait SECONDS  how long this run may wait for retries (default 60);\n"
           "                      later retries are left to the next run (0: one\n"
           "                      attempt per batch)\n"
           "  --json              each batch and the totals as one JSON object\n"
           "  --help              this text\n\n"
           "Exit status: 0 every batch due was delivered, 1 some batch failed, is held or\n"
           "waits for a retry, 2 usage, configuration, spool or ledger error.\n");
}

int cmd_send(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"payer", required_argument, NULL, 'y'},
                                         {"max-wait", required_argument, NULL, 'w'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL;
    send_opts so;
    memset(&so, 0, sizeof so);
    so.max_wait_ms = -1;
    out_ctx c;
    memset(&c, 0, sizeof c);
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:y:w:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config_path = optarg;
            break;
        case 'y':
            so.payer = optarg;
            break;
        case 'w': {
            char *end;
            double s = strtod(optarg, &end);
            if (end == optarg || *end || s < 0 || s > 86400)
                return cli_usage_error("send", "--max-wait takes seconds (0 to 86400)");
            so.max_wait_ms = (long)(s * 1000);
            break;
        }
        case 'j':
            c.json = 1;
            break;
        case 'h':
            help();
            return EXIT_OK;
        default:
            return cli_usage_error("send", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("send", "unexpected argument '%s'", argv[optind]);
    app a;
    int rc = app_open(&a, "send", config_path);
    if (rc != EXIT_OK)
        return rc;
    if ((rc = app_check_payer(&a, "send", so.payer)) != EXIT_OK)
        return rc;
    so.on_batch = on_batch;
    so.ctx = &c;
    if (c.json) {
        json_init_file(&c.j, stdout);
        json_obj_begin(&c.j);
        json_key(&c.j, "batches");
        json_arr_begin(&c.j);
    }
    send_report rep;
    ch_error err;
    ch_code code = send_run(a.cfg, a.led, &so, &rep, &err);
    uint64_t trouble = rep.failed + rep.held + rep.retry + rep.waiting + rep.skipped;
    if (c.json) {
        json_arr_end(&c.j);
        json_kv_uint(&c.j, "sent", rep.sent);
        json_kv_uint(&c.j, "found_delivered", rep.found);
        json_kv_uint(&c.j, "retry", rep.retry);
        json_kv_uint(&c.j, "waiting", rep.waiting);
        json_kv_uint(&c.j, "held", rep.held);
        json_kv_uint(&c.j, "failed", rep.failed);
        json_kv_uint(&c.j, "skipped", rep.skipped);
        json_kv_uint(&c.j, "bytes", rep.bytes);
        json_kv_str(&c.j, "error", code == CH_OK ? "" : err.msg);
        json_obj_end(&c.j);
        putchar('\n');
    } else {
        printf("send: %" PRIu64 " batch%s delivered", rep.sent + rep.found, rep.sent + rep.found == 1 ? "" : "es");
        if (trouble)
            printf(", %" PRIu64 " not (%" PRIu64 " failed, %" PRIu64 " to retry, %" PRIu64 " held, %" PRIu64
                   " skipped)",
                   trouble, rep.failed, rep.retry + rep.waiting, rep.held, rep.skipped);
        putchar('\n');
    }
    if (code != CH_OK)
        fprintf(stderr, "clearinghouse send: %s\n", err.msg);
    app_close(&a);
    if (code != CH_OK)
        return EXIT_TROUBLE;
    return trouble ? EXIT_PROBLEMS : EXIT_OK;
}
