/*
 * cmd_ops.c - what the operator's commands share: their options, opening
 * the ledger in the operator's scope, reading the one claim asked for
 * (see cmd_ops.h).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "cmd_ops.h"
#include "operator.h"

/* --- shared options --------------------------------------------------------------- */

static int parse_id(const char *cmd, const char *opt, const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!s[0] || *end || v < 1)
        return cli_usage_error(cmd, "%s needs a positive number", opt);
    *out = (int64_t)v;
    return 0;
}

/* Options: --config --operator --practice --json, and --claim / --batch when
 * ids is set.  Returns -1 to go on, else the exit status (help, usage). */
int ops_parse(const char *cmd, int argc, char **argv, int ids, ops_args *a, void (*help)(void))
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"operator", required_argument, NULL, 'o'},
                                         {"practice", required_argument, NULL, 'p'},
                                         {"claim", required_argument, NULL, 'C'},
                                         {"batch", required_argument, NULL, 'B'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:o:p:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            a->config = optarg;
            break;
        case 'o':
            a->operator_name = optarg;
            break;
        case 'p':
            a->practice = optarg;
            break;
        case 'C':
        case 'B':
            if (!ids)
                return cli_usage_error(cmd, "unknown option");
            if (parse_id(cmd, ch == 'C' ? "--claim" : "--batch", optarg, ch == 'C' ? &a->claim : &a->batch))
                return EXIT_TROUBLE;
            break;
        case 'j':
            a->json = 1;
            break;
        case 'h':
            help();
            return EXIT_OK;
        default:
            return cli_usage_error(cmd, "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    return -1;
}

/* app_open, the operator's scope and the --practice check. */
int ops_open(const char *cmd, const ops_args *o, app *a, ledger_scope *scope)
{
    int rc = app_open(a, cmd, o->config);
    if (rc != EXIT_OK)
        return rc;
    operator_scope(a->cfg, cmd, o->operator_name, scope);
    if ((rc = operator_practice_check(a->cfg, cmd, scope, o->practice)) != 0) {
        app_close(a);
        return rc;
    }
    return EXIT_OK;
}

static int copy_claim(void *ctx, const ledger_claim *c)
{
    *(ledger_claim *)ctx = *c;
    ((ledger_claim *)ctx)->doc = NULL;
    ((ledger_claim *)ctx)->doc_len = 0;
    return 1;
}

/* The claim asked for, inside scope and --practice; prints why not. */
int ops_get_claim(const char *cmd, app *a, const ledger_scope *scope, const ops_args *o, ledger_claim *c)
{
    ch_error err;
    ch_code rc = ledger_claim_get(a->led, scope, o->claim, 0, copy_claim, c, &err);
    if (rc == CH_OK && o->practice && strcmp(c->practice, o->practice))
        rc = ch_error_set(&err, CH_ERR_NOTFOUND, "no claim %" PRId64 " of practice %s", o->claim, o->practice);
    if (rc != CH_OK) {
        fprintf(stderr, "clearinghouse %s: %s\n", cmd, err.msg);
        return EXIT_TROUBLE;
    }
    return EXIT_OK;
}

int ops_on_count(void *vc, const ledger_claim *c)
{
    (void)c;
    ((ops_count_ctx *)vc)->n++;
    return 0;
}
