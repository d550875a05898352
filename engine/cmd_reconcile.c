/*
 * cmd_reconcile.c - `clearinghouse reconcile [--json] FILE...`: post 999,
 * 277CA and 835 files to the ledger.  See reconcile.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "app.h"
#include "cli.h"
#include "commands.h"
#include "json_out.h"
#include "reconcile.h"

static void help(void)
{
    printf("usage: clearinghouse reconcile [--config FILE] [--payer P] [--json] FILE...\n\n"
           "Reads what payers send back and posts it to the ledger, each file in one\n"
           "transaction (the kind is told by the file's ST01):\n"
           "  999    accepted transaction sets: their claims acknowledged; rejected sets:\n"
           "         their claims rejected, with each error in words\n"
           "  277CA  each claim accepted (with the payer's claim number) or rejected, with\n"
           "         the status codes in words\n"
           "  835    each payment posted once (by TRN03/TRN02): claim and line payments,\n"
           "         adjustments, patient responsibility, PLB; claims paid, partial or\n"
           "         denied; CLP02 22 reverses an earlier payment\n"
           "Claims are matched by the payer profile's `remittance:` rules and never guessed:\n"
           "unmatched and ambiguous claims, underpaid lines, unbalanced or invalid files go\n"
           "to the worklist, and what is readable is posted all the same.  A posting report\n"
           "(CSV and JSON) per practice is written to SPOOL/reports/<practice>/.\n\n"
           "  --config FILE  the configuration (default " CONFIG_DEFAULT_PATH ")\n"
           "  --payer P      the files come from this payer (default: found from each file)\n"
           "  --no-reports   do not write the posting reports\n"
           "  --json         one JSON object with each file's results\n"
           "  --help         this text\n\n"
           "Exit status: 0 everything posted, 1 something is on the worklist or a file\n"
           "could not be read, 2 usage, configuration or ledger error.\n");
}

typedef struct out_ctx {
    int json;
    json_out j;
} out_ctx;

static void on_report(void *ctx, const char *practice, const char *path)
{
    out_ctx *c = ctx;
    if (c->json) {
        json_obj_begin(&c->j);
        json_kv_str(&c->j, "practice", practice);
        json_kv_str(&c->j, "path", path);
        json_obj_end(&c->j);
    } else
        printf("report    %s: %s\n", practice, path);
}

static void print_file(out_ctx *c, const reconcile_file_result *r, ch_code rc, const char *msg)
{
    if (c->json) {
        json_obj_begin(&c->j);
        json_kv_str(&c->j, "file", r->path);
        json_kv_str(&c->j, "kind", r->kind);
        json_kv_str(&c->j, "payer", r->payer);
        json_kv_str(&c->j, "status", rc == CH_OK ? (r->flagged ? "flagged" : "posted") : "error");
        json_kv_uint(&c->j, "sets", r->sets);
        json_kv_uint(&c->j, "claims", r->claims);
        json_kv_uint(&c->j, "acknowledged", r->acknowledged);
        json_kv_uint(&c->j, "accepted", r->accepted);
        json_kv_uint(&c->j, "rejected", r->rejected);
        json_kv_uint(&c->j, "pending", r->pending);
        json_kv_uint(&c->j, "posted", r->posted);
        json_kv_uint(&c->j, "paid", r->paid);
        json_kv_uint(&c->j, "partial", r->partial);
        json_kv_uint(&c->j, "denied", r->denied);
        json_kv_uint(&c->j, "reversals", r->reversals);
        json_kv_uint(&c->j, "unmatched", r->unmatched);
        json_kv_uint(&c->j, "ambiguous", r->ambiguous);
        json_kv_uint(&c->j, "underpaid", r->underpaid);
        json_kv_uint(&c->j, "duplicates", r->duplicates);
        json_kv_uint(&c->j, "worklist", r->worklist);
        json_kv_uint(&c->j, "errors", r->errors);
        json_kv_cents(&c->j, "billed", r->billed_cents);
        json_kv_cents(&c->j, "paid_amount", r->paid_cents);
        json_kv_cents(&c->j, "plb", r->plb_cents);
        json_kv_str(&c->j, "error", msg ? msg : "");
        json_obj_end(&c->j);
        return;
    }
    if (rc != CH_OK) {
        printf("error     %s: %s\n", r->path, msg);
        return;
    }
    if (!strcmp(r->kind, "835"))
        printf("%-9s %s  835: %u claims, %u posted (%u paid, %u partial, %u denied, %u reversals), "
               "%u unmatched, %u ambiguous, %u underpaid, %u payments seen before, %u on the worklist\n",
               r->flagged ? "flagged" : "posted", r->path, r->claims, r->posted, r->paid, r->partial, r->denied,
               r->reversals, r->unmatched, r->ambiguous, r->underpaid, r->duplicates, r->worklist);
    else
        printf("%-9s %s  %s: %u claims, %u acknowledged, %u accepted, %u rejected, %u pending, %u unmatched, "
               "%u ambiguous, %u on the worklist\n",
               r->flagged ? "flagged" : "posted", r->path, r->kind, r->claims, r->acknowledged, r->accepted,
               r->rejected, r->pending, r->unmatched, r->ambiguous, r->worklist);
}

int cmd_reconcile(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"payer", required_argument, NULL, 'y'},
                                         {"no-reports", no_argument, NULL, 'n'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *payer = NULL;
    reconcile_opts ro;
    memset(&ro, 0, sizeof ro);
    out_ctx c;
    memset(&c, 0, sizeof c);
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:y:njh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config_path = optarg;
            break;
        case 'y':
            payer = optarg;
            break;
        case 'n':
            ro.no_reports = 1;
            break;
        case 'j':
            c.json = 1;
            break;
        case 'h':
            help();
            return EXIT_OK;
        default:
            return cli_usage_error("reconcile", "unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage_error("reconcile", "no file given");
    app a;
    int rc = app_open(&a, "reconcile", config_path);
    if (rc != EXIT_OK)
        return rc;
    if ((rc = app_check_payer(&a, "reconcile", payer)) != EXIT_OK)
        return rc;
    reconciler *r;
    ch_error err;
    if (reconcile_new(&r, a.cfg, a.led, &ro, &err) != CH_OK) {
        fprintf(stderr, "clearinghouse reconcile: %s\n", err.msg);
        app_close(&a);
        return EXIT_TROUBLE;
    }
    if (c.json) {
        json_init_file(&c.j, stdout);
        json_obj_begin(&c.j);
        json_key(&c.j, "files");
        json_arr_begin(&c.j);
    }
    struct timespec t0, t1, c0, c1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    int problems = 0, trouble = 0;
    uint64_t claims = 0;
    for (int i = optind; i < argc; i++) {
        reconcile_file_result res;
        ch_code fc = reconcile_file(r, argv[i], payer, &res, &err);
        print_file(&c, &res, fc, fc == CH_OK ? NULL : err.msg);
        claims += res.claims;
        if (fc == CH_ERR_DB || fc == CH_ERR_BUSY || fc == CH_ERR_NOMEM || fc == CH_ERR_CONFIG)
            trouble = 1;
        else if (fc != CH_OK || res.flagged || res.worklist)
            problems = 1;
        if (fc != CH_OK)
            fprintf(stderr, "clearinghouse reconcile: %s\n", err.msg);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    if (c.json) {
        json_arr_end(&c.j);
        json_key(&c.j, "reports");
        json_arr_begin(&c.j);
    }
    ch_code frc = reconcile_finish(r, on_report, &c, &err);
    if (frc != CH_OK) {
        fprintf(stderr, "clearinghouse reconcile: reports: %s\n", err.msg);
        trouble = 1;
    }
    if (c.json) {
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        json_arr_end(&c.j);
        json_kv_uint(&c.j, "claims", claims);
        double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
        json_kv_uint(&c.j, "elapsed_ms", (uint64_t)(secs * 1000.0));
        json_kv_uint(&c.j, "cpu_ms", (uint64_t)(cpu * 1000.0)); /* the posting's CPU time (user + system) */
        json_kv_uint(&c.j, "max_rss_kb", (uint64_t)ru.ru_maxrss);
        json_obj_end(&c.j);
        putchar('\n');
    }
    reconcile_free(r);
    app_close(&a);
    return trouble ? EXIT_TROUBLE : problems ? EXIT_PROBLEMS : EXIT_OK;
}
