/*
 * cmd_collect.c - `clearinghouse collect`: responses from payers into
 * spool/inbox/<payer>/, each recorded in the ledger.  See collect.h.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "collect.h"
#include "commands.h"
#include "json_out.h"

typedef struct out_ctx {
    int json;
    json_out j;
} out_ctx;

static void on_file(void *vc, const collect_file_result *r)
{
    out_ctx *c = vc;
    if (c->json) {
        json_obj_begin(&c->j);
        json_kv_str(&c->j, "payer", r->payer);
        json_kv_str(&c->j, "name", r->name);
        json_kv_str(&c->j, "file", r->local_path);
        json_kv_uint(&c->j, "size", r->size);
        json_kv_str(&c->j, "sha256", r->sha256);
        json_kv_str(&c->j, "status", r->duplicate ? "duplicate" : "new");
        json_obj_end(&c->j);
        return;
    }
    if (r->duplicate)
        printf("duplicate %s from %s (the same content was received before; kept once)\n", r->name, r->payer);
    else
        printf("received  %s from %s -> %s (%" PRIu64 " bytes)\n", r->name, r->payer, r->local_path, r->size);
    fflush(stdout);
}

static void on_payer_error(void *vc, const char *payer, const char *why)
{
    out_ctx *c = vc;
    (void)payer;
    if (!c->json)
        printf("failed    %s\n", why);
}

static void help(void)
{
    printf("usage: clearinghouse collect [--config FILE] [--payer X] [--json]\n\n"
           "Downloads the responses (999, 277CA, 835 ...) waiting at each payer into\n"
           "spool/inbox/<payer>/ (temporary name, fsync, rename), records each one in\n"
           "the ledger (name, size, SHA-256) and only then removes or archives it on the\n"
           "payer's side, as the profile's after_collect says.  A file whose content was\n"
           "received before is kept once.\n\n"
           "  --config FILE  the configuration (default " CONFIG_DEFAULT_PATH ")\n"
           "  --payer X      only this payer\n"
           "  --json         the files and the totals as one JSON object\n"
           "  --help         this text\n\n"
           "Exit status: 0 ok, 1 some payer could not be collected from, 2 usage,\n"
           "configuration, spool or ledger error.\n");
}

int cmd_collect(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"payer", required_argument, NULL, 'y'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL;
    collect_opts co;
    memset(&co, 0, sizeof co);
    out_ctx c;
    memset(&c, 0, sizeof c);
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:y:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config_path = optarg;
            break;
        case 'y':
            co.payer = optarg;
            break;
        case 'j':
            c.json = 1;
            break;
        case 'h':
            help();
            return EXIT_OK;
        default:
            return cli_usage_error("collect", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("collect", "unexpected argument '%s'", argv[optind]);
    app a;
    int rc = app_open(&a, "collect", config_path);
    if (rc != EXIT_OK)
        return rc;
    if ((rc = app_check_payer(&a, "collect", co.payer)) != EXIT_OK)
        return rc;
    co.on_file = on_file;
    co.on_payer_error = on_payer_error;
    co.ctx = &c;
    if (c.json) {
        json_init_file(&c.j, stdout);
        json_obj_begin(&c.j);
        json_key(&c.j, "files");
        json_arr_begin(&c.j);
    }
    collect_report rep;
    ch_error err;
    ch_code code = collect_run(a.cfg, a.led, &co, &rep, &err);
    if (c.json) {
        json_arr_end(&c.j);
        json_kv_uint(&c.j, "payers", rep.payers);
        json_kv_uint(&c.j, "received", rep.files);
        json_kv_uint(&c.j, "duplicates", rep.duplicates);
        json_kv_uint(&c.j, "bytes", rep.bytes);
        json_kv_uint(&c.j, "payers_failed", rep.payer_errors);
        json_kv_str(&c.j, "error", code == CH_OK ? "" : err.msg);
        json_obj_end(&c.j);
        putchar('\n');
    } else {
        printf("collect: %" PRIu64 " file%s received from %" PRIu64 " payer%s, %" PRIu64 " duplicate%s",
               rep.files, rep.files == 1 ? "" : "s", rep.payers, rep.payers == 1 ? "" : "s", rep.duplicates,
               rep.duplicates == 1 ? "" : "s");
        if (rep.payer_errors)
            printf(", %" PRIu64 " payer%s failed", rep.payer_errors, rep.payer_errors == 1 ? "" : "s");
        putchar('\n');
    }
    if (code != CH_OK)
        fprintf(stderr, "clearinghouse collect: %s\n", err.msg);
    app_close(&a);
    if (code != CH_OK)
        return EXIT_TROUBLE;
    return rep.payer_errors ? EXIT_PROBLEMS : EXIT_OK;
}
