/*
 * cmd_intake.c - `clearinghouse intake`: encounters in spool/inbound/ become
 * claims in the ledger; files that cannot be taken go to spool/failed/ with
 * a .error beside them.  See intake.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "commands.h"
#include "intake.h"
#include "json_out.h"
#include "operator.h"

typedef struct out_ctx {
    int json, quiet;
    json_out j;
    int any;
} out_ctx;

static void on_file(void *vc, const intake_file_result *r)
{
    out_ctx *c = vc;
    if (!r->failed)
        return;
    if (c->json) {
        json_obj_begin(&c->j);
        json_kv_str(&c->j, "practice", r->practice);
        json_kv_str(&c->j, "file", r->name);
        json_kv_str(&c->j, "moved_to", r->moved_to);
        json_kv_uint(&c->j, "encounters", r->encounters);
        json_kv_uint(&c->j, "taken", r->taken);
        json_kv_uint(&c->j, "problems", r->problems);
        json_kv_str(&c->j, "first_problem", r->first_problem ? r->first_problem : "");
        json_obj_end(&c->j);
    } else if (!c->quiet) {
        printf("failed  %s/%s: %u problem%s, see %s.error\n        %s\n", r->practice, r->name, r->problems,
               r->problems == 1 ? "" : "s", r->moved_to, r->first_problem ? r->first_problem : "");
    }
}

static void help(void)
{
    printf("usage: clearinghouse intake [--config FILE] [--operator NAME] [--practice P] [--jobs N]\n"
           "                            [--json] [--quiet]\n\n"
           "Reads every encounter waiting in SPOOL/inbound/<practice>/ (YAML or JSON, one encounter\n"
           "or a list per file; names ending in .yaml, .yml or .json that do not start with '.').\n"
           "Good encounters become claims in the ledger (state queued) and their file moves to\n"
           "SPOOL/archive/encounters/<practice>/<day>/.  A file with any problem moves to\n"
           "SPOOL/failed/<practice>/ with <name>.error beside it naming each problem by field path.\n"
           "The same encounter dropped twice makes one claim.  Write files under another name and\n"
           "rename them into place: a file being written must not carry an encounter's name.\n\n"
           "  --config FILE  the configuration (default " CONFIG_DEFAULT_PATH ")\n"
           "  --operator NAME who is running it (default $" OPERATOR_ENV ", else the Unix user):\n"
           "                 only the practices the operator may see are taken in\n"
           "  --practice P   only this practice (one the operator may see)\n"
           "  --jobs N       reader threads (default: one per CPU, at most 8)\n"
           "  --json         the summary as one JSON object\n"
           "  --quiet        print only the summary\n"
           "  --help         this text\n\n"
           "Exit status: 0 every file taken, 1 some file went to failed/, 2 usage, configuration,\n"
           "spool or ledger error.\n");
}

int cmd_intake(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"operator", required_argument, NULL, 'o'},
                                         {"practice", required_argument, NULL, 'p'},
                                         {"jobs", required_argument, NULL, 'n'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *operator_name = NULL;
    intake_opts io;
    memset(&io, 0, sizeof io);
    out_ctx c;
    memset(&c, 0, sizeof c);
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:o:p:n:jqh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config_path = optarg;
            break;
        case 'o':
            operator_name = optarg;
            break;
        case 'p':
            io.practice = optarg;
            break;
        case 'n': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 64)
                return cli_usage_error("intake", "--jobs needs a number from 1 to 64");
            io.jobs = (unsigned)n;
            break;
        }
        case 'j':
            c.json = 1;
            break;
        case 'q':
            c.quiet = 1;
            break;
        case 'h':
            help();
            return EXIT_OK;
        default:
            return cli_usage_error("intake", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("intake", "unexpected argument '%s'", argv[optind]);
    app a;
    int rc = app_open(&a, "intake", config_path);
    if (rc != EXIT_OK)
        return rc;
    io.on_file = on_file;
    io.ctx = &c;
    if (c.json) {
        json_init_file(&c.j, stdout);
        json_obj_begin(&c.j);
        json_key(&c.j, "failed_files");
        json_arr_begin(&c.j);
    }
    ledger_scope scope;
    operator_scope(a.cfg, "intake", operator_name, &scope);
    if ((rc = operator_practice_check(a.cfg, "intake", &scope, io.practice)) != 0) {
        app_close(&a);
        return rc;
    }
    intake_report rep;
    ch_error err;
    ch_code code = CH_OK;
    if (scope.all || io.practice) {
        code = intake_run(a.cfg, a.led, &io, &rep, &err);
    } else {
        /* the operator's practices, one after the other */
        memset(&rep, 0, sizeof rep);
        for (size_t i = 0; i < a.cfg->npractices && code == CH_OK; i++) {
            if (!ledger_scope_allows(&scope, a.cfg->practices[i].id))
                continue;
            intake_report one;
            io.practice = a.cfg->practices[i].id;
            code = intake_run(a.cfg, a.led, &io, &one, &err);
            rep.files += one.files;
            rep.files_taken += one.files_taken;
            rep.files_failed += one.files_failed;
            rep.encounters += one.encounters;
            rep.claims_new += one.claims_new;
            rep.claims_revised += one.claims_revised;
            rep.claims_replacement += one.claims_replacement;
            rep.duplicates += one.duplicates;
            rep.refused += one.refused;
            rep.invalid += one.invalid;
        }
    }
    if (c.json) {
        json_arr_end(&c.j);
        json_kv_uint(&c.j, "files", rep.files);
        json_kv_uint(&c.j, "files_taken", rep.files_taken);
        json_kv_uint(&c.j, "files_failed", rep.files_failed);
        json_kv_uint(&c.j, "encounters", rep.encounters);
        json_kv_uint(&c.j, "claims_new", rep.claims_new);
        json_kv_uint(&c.j, "claims_revised", rep.claims_revised);
        json_kv_uint(&c.j, "claims_replacement", rep.claims_replacement);
        json_kv_uint(&c.j, "duplicates", rep.duplicates);
        json_kv_uint(&c.j, "refused", rep.refused);
        json_kv_uint(&c.j, "invalid", rep.invalid);
        json_kv_str(&c.j, "error", code == CH_OK ? "" : err.msg);
        json_obj_end(&c.j);
        putchar('\n');
    } else {
        printf("intake: %llu file%s: %llu claim%s queued (%llu new, %llu revised, %llu replacement%s), "
               "%llu duplicate%s, %llu file%s to failed/\n",
               (unsigned long long)rep.files, rep.files == 1 ? "" : "s",
               (unsigned long long)(rep.claims_new + rep.claims_revised + rep.claims_replacement),
               rep.claims_new + rep.claims_revised + rep.claims_replacement == 1 ? "" : "s",
               (unsigned long long)rep.claims_new, (unsigned long long)rep.claims_revised,
               (unsigned long long)rep.claims_replacement, rep.claims_replacement == 1 ? "" : "s",
               (unsigned long long)rep.duplicates, rep.duplicates == 1 ? "" : "s",
               (unsigned long long)rep.files_failed, rep.files_failed == 1 ? "" : "s");
    }
    if (code != CH_OK)
        fprintf(stderr, "clearinghouse intake: %s\n", err.msg);
    app_close(&a);
    if (code == CH_ERR_NOTFOUND)
        return EXIT_TROUBLE;
    if (code != CH_OK)
        return EXIT_TROUBLE;
    return rep.files_failed ? EXIT_PROBLEMS : EXIT_OK;
}
