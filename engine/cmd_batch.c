/*
 * cmd_batch.c - `clearinghouse batch`: queued claims become validated 837P /
 * 837I files in spool/outbound/<payer>/.  See batch.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "batch.h"
#include "cli.h"
#include "commands.h"
#include "json_out.h"
#include "operator.h"
#include "x12_writer.h"

typedef struct out_ctx {
    int json;
    json_out j;
    int in_files;
} out_ctx;

static void on_file(void *vc, const batch_file_result *r)
{
    out_ctx *c = vc;
    char total[32];
    if (c->json) {
        json_obj_begin(&c->j);
        json_kv_str(&c->j, "file", r->path);
        json_kv_str(&c->j, "practice", r->practice);
        json_kv_str(&c->j, "payer", r->payer);
        json_kv_str(&c->j, "type", r->claim_type);
        json_kv_int(&c->j, "batch", r->batch_id);
        json_kv_uint(&c->j, "isa13", r->isa13);
        json_kv_uint(&c->j, "claims", r->claims);
        json_kv_uint(&c->j, "transactions", r->transactions);
        json_kv_cents(&c->j, "total", r->total_cents);
        json_kv_uint(&c->j, "bytes", r->bytes);
        json_kv_str(&c->j, "status", r->discarded ? "discarded" : "ready");
        json_obj_end(&c->j);
        return;
    }
    printf("%-9s %s  %u claim%s, %u transaction set%s, %s\n", r->discarded ? "discarded" : "ready", r->path,
           r->claims, r->claims == 1 ? "" : "s", r->transactions, r->transactions == 1 ? "" : "s",
           x12_cents_str(r->total_cents, total));
}

static void on_failed(void *vc, const batch_claim_failure *f)
{
    out_ctx *c = vc;
    if (c->json)
        return; /* listed by `clearinghouse claims --state failed --json` */
    printf("failed    claim %s (%s, %s): %s\n", f->pcn, f->practice, f->payer, f->why);
}

static void help(void)
{
    printf("usage: clearinghouse batch [--config FILE] [--operator NAME] [--practice P] [--payer X] [--json]\n\n"
           "Groups queued claims by practice, payer and claim type into 837P and 837I files\n"
           "(005010X222A1, 005010X223A2) within the payer's limits, with new control numbers,\n"
           "and writes them to SPOOL/outbound/<payer>/ under a temporary name; each file is\n"
           "validated before it is renamed into place and its claims marked ready.  A claim\n"
           "that fails the payer's edits or the file check goes to state failed with the\n"
           "reason (see `clearinghouse claims --state failed`) and does not hold up the others.\n\n"
           "  --config FILE  the configuration (default " CONFIG_DEFAULT_PATH ")\n"
           "  --operator NAME who is running it (default $" OPERATOR_ENV ", else the Unix user):\n"
           "                 only the practices the operator may see are batched\n"
           "  --practice P   only this practice (one the operator may see)\n"
           "  --payer X      only this payer\n"
           "  --json         the files written and the totals as one JSON object\n"
           "  --help         this text\n\n"
           "Exit status: 0 all queued claims are in ready files, 1 some claim failed, 2 usage,\n"
           "configuration, spool or ledger error.\n");
}

int cmd_batch(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"operator", required_argument, NULL, 'o'},
                                         {"practice", required_argument, NULL, 'p'},
                                         {"payer", required_argument, NULL, 'y'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *operator_name = NULL;
    batch_opts bo;
    memset(&bo, 0, sizeof bo);
    out_ctx c;
    memset(&c, 0, sizeof c);
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:o:p:y:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config_path = optarg;
            break;
        case 'o':
            operator_name = optarg;
            break;
        case 'p':
            bo.practice = optarg;
            break;
        case 'y':
            bo.payer = optarg;
            break;
        case 'j':
            c.json = 1;
            break;
        case 'h':
            help();
            return EXIT_OK;
        default:
            return cli_usage_error("batch", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("batch", "unexpected argument '%s'", argv[optind]);
    app a;
    int rc = app_open(&a, "batch", config_path);
    if (rc != EXIT_OK)
        return rc;
    ledger_scope scope;
    operator_scope(a.cfg, "batch", operator_name, &scope);
    if (bo.practice && !ledger_scope_allows(&scope, bo.practice)) {
        app_close(&a);
        return operator_practice_check(a.cfg, "batch", &scope, bo.practice);
    }
    if (bo.practice && !config_practice_find(a.cfg, bo.practice)) {
        app_close(&a);
        return cli_usage_error("batch", "practice '%s' is not configured", bo.practice);
    }
    bo.on_file = on_file;
    bo.on_failed = on_failed;
    bo.ctx = &c;
    if (c.json) {
        json_init_file(&c.j, stdout);
        json_obj_begin(&c.j);
        json_key(&c.j, "files");
        json_arr_begin(&c.j);
    }
    batch_report rep;
    ch_error err;
    ch_code code = CH_OK;
    if (scope.all || bo.practice) {
        code = batch_run(a.cfg, a.led, &bo, &rep, &err);
    } else {
        /* the operator's practices, one after the other */
        memset(&rep, 0, sizeof rep);
        for (size_t i = 0; i < a.cfg->npractices && code == CH_OK; i++) {
            if (!ledger_scope_allows(&scope, a.cfg->practices[i].id))
                continue;
            batch_report one;
            bo.practice = a.cfg->practices[i].id;
            code = batch_run(a.cfg, a.led, &bo, &one, &err);
            rep.files += one.files;
            rep.transactions += one.transactions;
            rep.claims += one.claims;
            rep.claims_failed += one.claims_failed;
            rep.bytes += one.bytes;
            rep.discarded += one.discarded;
            rep.recovered += one.recovered;
            rep.total_cents += one.total_cents;
        }
    }
    char total[32];
    if (c.json) {
        json_arr_end(&c.j);
        json_kv_uint(&c.j, "files_ready", rep.files);
        json_kv_uint(&c.j, "files_discarded", rep.discarded);
        json_kv_uint(&c.j, "transactions", rep.transactions);
        json_kv_uint(&c.j, "claims", rep.claims);
        json_kv_uint(&c.j, "claims_failed", rep.claims_failed);
        json_kv_cents(&c.j, "total", rep.total_cents);
        json_kv_uint(&c.j, "bytes", rep.bytes);
        json_kv_uint(&c.j, "recovered", rep.recovered);
        json_kv_str(&c.j, "error", code == CH_OK ? "" : err.msg);
        json_obj_end(&c.j);
        putchar('\n');
    } else {
        printf("batch: %llu file%s ready with %llu claim%s (%s), %llu claim%s failed\n",
               (unsigned long long)rep.files, rep.files == 1 ? "" : "s", (unsigned long long)rep.claims,
               rep.claims == 1 ? "" : "s", x12_cents_str(rep.total_cents, total),
               (unsigned long long)rep.claims_failed, rep.claims_failed == 1 ? "" : "s");
    }
    if (code != CH_OK)
        fprintf(stderr, "clearinghouse batch: %s\n", err.msg);
    app_close(&a);
    if (code != CH_OK)
        return EXIT_TROUBLE;
    return rep.claims_failed || rep.discarded ? EXIT_PROBLEMS : EXIT_OK;
}
